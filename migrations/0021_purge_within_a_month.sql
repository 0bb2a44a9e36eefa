-- Retention removes every raw event older than its cutoff, not only whole
-- months of them. Before this only partitions wholly past the cutoff were
-- dropped (and the default partition's old rows deleted), so the month
-- that straddles the cutoff kept events up to a month past retention_days,
-- extra fields and all, while their keys were deleted. The whole months
-- still go at once (cheap, nothing left behind); the rest of the cutoff's
-- month, and the default partition, lose their old rows.

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
    -- partition pruning keeps this to the cutoff's month and the default
    DELETE FROM events WHERE at < cutoff;
    GET DIAGNOSTICS n = ROW_COUNT;
    what := 'events before the cutoff in partitions kept'; removed := n; RETURN NEXT;
    DELETE FROM event_keys WHERE at < cutoff;
    GET DIAGNOSTICS n = ROW_COUNT;
    what := 'event keys'; removed := n; RETURN NEXT;
    -- kicd answers events from before here as re-sends (0012)
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
