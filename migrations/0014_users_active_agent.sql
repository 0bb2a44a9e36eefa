-- One active user per agent id and tenant, as per name (0001).
--
-- An agent's calls, states, wrap-ups and desktop notifications follow the
-- agent id a user logs in as. Two active users with the same agent id
-- would each see and act for the other's calls (care data of callers),
-- so user.create and kicctl refuse a second one; revoking the first frees
-- the id. Users of other roles have no agent id.
--
-- A database where two active users already share an agent id stops here
-- and names them: revoke one (kicctl user revoke), then migrate again.
DO $$
DECLARE
    clash text;
BEGIN
    SELECT string_agg(format('tenant %s agent %s: users %s', tenant_id, agent, names), '; ')
    INTO clash
    FROM (SELECT tenant_id, agent, string_agg(name, ', ' ORDER BY name) AS names
          FROM users WHERE revoked_at IS NULL AND agent IS NOT NULL
          GROUP BY tenant_id, agent HAVING count(*) > 1) d;
    IF clash IS NOT NULL THEN
        RAISE EXCEPTION 'active users share an agent id (%): revoke all but one of each, then migrate again', clash;
    END IF;
END $$;

CREATE UNIQUE INDEX users_active_agent ON users (tenant_id, agent)
    WHERE revoked_at IS NULL AND agent IS NOT NULL;
