-- Retention's horizon (DESIGN: "(tenant, event_id) is unique: a replay
-- or a re-send never counts twice").
--
-- kic_purge removes raw events from before its cutoff together with their
-- keys, so a re-sent event from before it was taken as new: it rebuilt its
-- call from that one event (the answer, the talk time gone) and counted
-- the contact a second time in the 15-minute sums. The purge now records
-- how far it went; kicd answers an event from before that as the
-- duplicate it is and stores nothing. An event that old cannot be new
-- news either: its raw form would be past retention the moment it was
-- written. One row; kicd learns a new horizon by NOTIFY.

CREATE TABLE purge_horizon (
    id            boolean PRIMARY KEY DEFAULT true CHECK (id),
    purged_before timestamptz NOT NULL
);

-- Empty until the next purge: kicd runs one when it starts.

CREATE OR REPLACE FUNCTION kic_purge(retention_days int)
RETURNS TABLE (what text, removed bigint)
LANGUAGE plpgsql AS $$
DECLARE
    cutoff timestamptz := now() - make_interval(days => retention_days);
    part record;
    parts bigint := 0;
    n bigint;
BEGIN
    IF retention_days < 1 THEN
        RAISE EXCEPTION 'retention_days must be at least 1' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    -- whole months past the cutoff go at once: dropping a partition is
    -- cheap and leaves nothing behind
    FOR part IN
        SELECT c.relname
        FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
        WHERE i.inhparent = 'events'::regclass AND c.relname ~ '^events_[0-9]{4}_[0-9]{2}$'
          AND (to_date(substr(c.relname, 8), 'YYYY_MM') + interval '1 month') <= cutoff
    LOOP
        EXECUTE format('DROP TABLE %I', part.relname);
        parts := parts + 1;
    END LOOP;
    what := 'event partitions'; removed := parts; RETURN NEXT;
    DELETE FROM events_default WHERE at < cutoff;
    GET DIAGNOSTICS n = ROW_COUNT;
    what := 'events outside partitions'; removed := n; RETURN NEXT;
    DELETE FROM event_keys WHERE at < cutoff;
    GET DIAGNOSTICS n = ROW_COUNT;
    what := 'event keys'; removed := n; RETURN NEXT;
    -- kicd answers events from before here as re-sends (see above)
    INSERT INTO purge_horizon (purged_before) VALUES (cutoff)
    ON CONFLICT (id) DO UPDATE
        SET purged_before = greatest(purge_horizon.purged_before, EXCLUDED.purged_before);
    PERFORM pg_notify('kic_config', 'horizon:0');
    UPDATE wrapups SET note = NULL WHERE note IS NOT NULL AND at < cutoff;
    GET DIAGNOSTICS n = ROW_COUNT;
    what := 'wrap-up notes'; removed := n; RETURN NEXT;
    DELETE FROM callback_notes WHERE at < cutoff;
    GET DIAGNOSTICS n = ROW_COUNT;
    what := 'callback notes'; removed := n; RETURN NEXT;
    DELETE FROM audit_log WHERE at < now() - interval '5 years';
    GET DIAGNOSTICS n = ROW_COUNT;
    what := 'audit rows older than 5 years'; removed := n; RETURN NEXT;
    DELETE FROM write_marks WHERE at < now() - interval '30 days';
    GET DIAGNOSTICS n = ROW_COUNT;
    what := 'write marks'; removed := n; RETURN NEXT;
END $$;
