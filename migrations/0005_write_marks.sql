-- One row per group commit that changed the 15-minute sums: the sums are
-- added (not set), so a commit that is sent again (after a lost
-- connection, or replayed from kicd's journal) must add nothing the
-- second time. The mark is written in the same transaction as the sums;
-- marks older than the journal can be are removed by the daily job.
CREATE TABLE write_marks (
    id bytea PRIMARY KEY,
    at timestamptz NOT NULL DEFAULT now()
);
