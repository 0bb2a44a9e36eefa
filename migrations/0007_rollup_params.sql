-- The thresholds ([metrics] sl_threshold_s and short_abandon_s, in
-- microseconds) that call_sums_15m's answered_in_sl and short_abandoned
-- were counted with. kicd started with other thresholds rebuilds the
-- sums from the calls before it loads anything (the sums would otherwise
-- mix the two, and its deltas would take away what was never added).
-- One row. Sums written before this table existed are taken to be
-- counted with kicd's defaults (20 s, 5 s): a kicd configured otherwise
-- rebuilds them once.
CREATE TABLE rollup_params (
    id               boolean PRIMARY KEY DEFAULT true CHECK (id),
    sl_threshold_us  bigint NOT NULL,
    short_abandon_us bigint NOT NULL,
    rebuilt_at       timestamptz
);
INSERT INTO rollup_params (sl_threshold_us, short_abandon_us) VALUES (20000000, 5000000);
