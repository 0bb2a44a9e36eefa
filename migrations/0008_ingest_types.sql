-- Cheaper writes per event (issue 3; bench/RESULTS.md has the figures).
--
-- events.payload becomes json: the raw event is kept exactly as kicd
-- stored it and is only ever read back as text, while jsonb parsed and
-- converted every payload on insert (a third of the events statement's
-- time in PostgreSQL).
--
-- Identifiers compare as bytes (COLLATE "C"): call and event ids, agent
-- ids and state names are codes, not words; lib/ orders them as bytes,
-- and a linguistic collation called strcoll on every comparison of the
-- busiest indexes. Joins with columns of the database's default
-- collation keep working (the explicit collation wins).
--
-- Rewrites events and rebuilds these indexes: on a year of a large
-- centre, expect a minute or two, with kicd stopped.
DROP VIEW agent_state_intervals;

ALTER TABLE events
    ALTER COLUMN payload TYPE json USING payload::json,
    ALTER COLUMN call_id TYPE text COLLATE "C",
    ALTER COLUMN event_id TYPE text COLLATE "C";
ALTER TABLE event_keys ALTER COLUMN event_id TYPE text COLLATE "C";
ALTER TABLE calls ALTER COLUMN call_id TYPE text COLLATE "C";
ALTER TABLE agent_states
    ALTER COLUMN agent TYPE text COLLATE "C",
    ALTER COLUMN state TYPE text COLLATE "C";

CREATE VIEW agent_state_intervals AS
SELECT tenant_id, agent, state, reason, since,
       coalesce(lead(since) OVER (PARTITION BY tenant_id, agent ORDER BY since, seq), now()) AS until
FROM agent_states;
