-- Who acted, by the user's id as well as by name (NEN 7513: each entry
-- names one person). A name is freed when its user is revoked and may be
-- given to someone else; user_id never is. NULL for rows written before
-- this migration and for operators acting through kicctl (a system
-- login, named in user_name as kicctl:<login>, not a kicd user).
ALTER TABLE audit_log ADD COLUMN user_id bigint;
