-- The repeat window ([metrics] repeat_window_days) that calls'
-- followed_by_repeat flags, and so call_sums_15m's repeat counts, were
-- marked with. kicd started with another window marks every stored call
-- again and rebuilds the sums before it loads anything, as for the
-- thresholds of 0007: otherwise old contacts kept the old window's flags
-- while fcr_pending already counted with the new one. Flags marked
-- before this column existed are taken to be kicd's default (7 days).
ALTER TABLE rollup_params ADD COLUMN repeat_window_days int NOT NULL DEFAULT 7;
