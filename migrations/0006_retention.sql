-- Retention (DESIGN.md "Security"): raw events and free-text notes are
-- kept retention_days (400 by default), the audit log five years, write
-- marks a month. (A closed callback keeps no number: the callbacks
-- table's CHECK refuses one, so there is nothing to clear.) Derived tables
-- (calls, the 15-minute sums, agents' states) stay: reports need them
-- and they hold no numbers or notes. Run daily by kicd and by
-- `kicctl purge`; returns what it removed.
CREATE FUNCTION kic_purge(retention_days int)
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
