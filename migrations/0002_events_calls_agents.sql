-- Telephony: raw events (append-only, by month), the idempotency ledger,
-- calls derived from their events, and agents' states.
--
-- Every primary key leads with tenant_id, so all of this distributes by
-- tenant on Citus. Times are timestamptz; durations are seconds (double).

-- (tenant_id, event_id) is unique for ever (well, for retention_days):
-- a re-send is a duplicate even after a restart. A partitioned table can
-- only enforce keys that contain its partition key, so uniqueness lives
-- here, in a plain table, and events below is partitioned freely.
CREATE TABLE event_keys (
    tenant_id bigint NOT NULL,
    event_id  text NOT NULL,
    at        timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, event_id)
);

-- The raw events as accepted (the caller's number replaced by its key).
-- call_id is '' for a callback request that names no call. The key also
-- serves "all events of a call" lookups.
CREATE TABLE events (
    tenant_id   bigint NOT NULL,
    call_id     text NOT NULL,
    at          timestamptz NOT NULL,
    event_id    text NOT NULL,
    type        text NOT NULL,
    received_at timestamptz NOT NULL DEFAULT now(),
    payload     jsonb NOT NULL,
    PRIMARY KEY (tenant_id, call_id, at, event_id)
) PARTITION BY RANGE (at);

-- Whatever falls outside the monthly partitions (very late or bogus
-- future times) lands here rather than failing the insert.
CREATE TABLE events_default PARTITION OF events DEFAULT;

-- Creates the monthly partition holding `day` if missing, moving any of
-- its rows out of the default partition first. kicd calls it at start-up
-- and daily for the coming months.
CREATE FUNCTION kic_event_partition(day date) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
    lo date := date_trunc('month', day)::date;
    hi date := (date_trunc('month', day) + interval '1 month')::date;
    part text := format('events_%s', to_char(lo, 'YYYY_MM'));
BEGIN
    IF to_regclass(part) IS NOT NULL THEN
        RETURN part;
    END IF;
    CREATE TEMP TABLE IF NOT EXISTS kic_moving (LIKE events) ON COMMIT DROP;
    WITH moved AS (DELETE FROM events_default WHERE at >= lo AND at < hi RETURNING *)
    INSERT INTO kic_moving SELECT * FROM moved;
    EXECUTE format('CREATE TABLE %I PARTITION OF events FOR VALUES FROM (%L) TO (%L)',
                   part, lo, hi);
    INSERT INTO events SELECT * FROM kic_moving;
    TRUNCATE kic_moving;
    RETURN part;
END $$;

SELECT kic_event_partition((date_trunc('month', now()) + make_interval(months => m))::date)
FROM generate_series(-24, 3) AS m;

-- One row per contact, derived by kicd from all the contact's events (and
-- wrap-ups) and rewritten whenever they change. What reports read.
CREATE TABLE calls (
    tenant_id          bigint NOT NULL,
    call_id            text NOT NULL,
    queue              text,
    location           text,
    channel            text,
    direction          text,
    caller_key         text,          -- HMAC of the number; NULL when withheld
    caller_withheld    boolean NOT NULL DEFAULT false,
    transferred_from   text,
    callback_id        text,
    offered_at         timestamptz,   -- NULL while the offer is missing
    answered_at        timestamptz,
    abandoned_at       timestamptz,
    ended_at           timestamptz,
    part_end_at        timestamptz,   -- end of the answering agent's part
    agent              text,
    answered           boolean NOT NULL DEFAULT false,
    abandoned          boolean NOT NULL DEFAULT false,
    ended              boolean NOT NULL DEFAULT false,
    ended_by           text,
    transferred        boolean NOT NULL DEFAULT false,
    transfer_target    text,
    transfer_kind      text,
    transfer_mode      text,
    team               text,          -- care team the contact went to
    wait_s             double precision,
    talk_s             double precision,
    hold_s             double precision,
    acw_s              double precision,
    wrapped_at         timestamptz,
    category           text,
    resolved           boolean,
    caller_type        text,
    follow_up          text,
    followed_by_repeat boolean NOT NULL DEFAULT false,
    complete           boolean NOT NULL DEFAULT false,
    events             integer NOT NULL DEFAULT 0,
    updated_at         timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, call_id)
);

CREATE INDEX calls_offered ON calls (tenant_id, offered_at);
CREATE INDEX calls_caller ON calls (tenant_id, caller_key, offered_at) WHERE caller_key IS NOT NULL;

-- Agents' wrap-ups: once per call and agent. The note is sensitive care
-- data: never logged, purged with the raw events (retention).
CREATE TABLE wrapups (
    tenant_id   bigint NOT NULL,
    call_id     text NOT NULL,
    agent       text NOT NULL,
    at          timestamptz NOT NULL,
    category    text NOT NULL,
    resolved    boolean NOT NULL,
    follow_up   text,
    caller_type text,
    note        text,
    acw_s       double precision,
    received_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, call_id, agent)
);

-- Effective agent states over time (available, on_call, acw, break,
-- offline, ...): each row holds from `since` until the agent's next row
-- (seq orders rows with the same `since`). Append-only; occupancy is
-- computed from it. The key makes a re-sent batch change nothing.
CREATE TABLE agent_states (
    tenant_id bigint NOT NULL,
    agent     text NOT NULL,
    since     timestamptz NOT NULL,
    state     text NOT NULL,
    seq       bigint GENERATED ALWAYS AS IDENTITY,
    reason    text,
    PRIMARY KEY (tenant_id, agent, since, state)
);

-- What each agent last chose (available, break, offline), so a restart
-- brings them back as they were.
CREATE TABLE agent_choices (
    tenant_id     bigint NOT NULL,
    agent         text NOT NULL,
    chosen        text NOT NULL,
    since         timestamptz NOT NULL,
    reason        text,
    offline_since timestamptz,
    PRIMARY KEY (tenant_id, agent)
);

-- Intervals for occupancy: each state until the next one (or now).
CREATE VIEW agent_state_intervals AS
SELECT tenant_id, agent, state, reason, since,
       coalesce(lead(since) OVER (PARTITION BY tenant_id, agent ORDER BY since, seq), now()) AS until
FROM agent_states;
