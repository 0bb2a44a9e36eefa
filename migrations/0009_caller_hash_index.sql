-- Calls by caller through a hash index (issue 3; bench/RESULTS.md).
--
-- A caller's key is an HMAC: every new call inserted its entry at a
-- random place in the B-tree on (tenant_id, caller_key, offered_at), an
-- 88-byte entry compared as 64 characters of hex, splitting a page every
-- few dozen calls. That index alone took a tenth of the durable acks a
-- second. Every reader asks for one caller's calls by equality (repeat
-- marking in kicd's writer, caller.history), which a hash index answers;
-- its entry is a 4-byte hash code. A key is the tenant's own HMAC, so the
-- tenant filter stays in the queries, not in the index.
--
-- Builds the new index before dropping the old: on a year of a large
-- centre, a few seconds, with kicd stopped.
CREATE INDEX calls_caller_hash ON calls USING hash (caller_key) WHERE caller_key IS NOT NULL;
DROP INDEX calls_caller;
