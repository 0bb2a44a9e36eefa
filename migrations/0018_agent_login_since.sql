-- Since when each agent is logged in: their first choice other than
-- offline after their latest offline. An agent who was offline when their
-- part of a call ended (chosen, or never having chosen a state) is in
-- that part's ACW from this moment, not from the part's end (PROTOCOL.md,
-- occupancy), and a restart must date it the same. NULL while offline,
-- and where the choices that would say are no longer kept (an owed ACW
-- is then dated from the part's end, as before this migration).
ALTER TABLE agent_choices ADD COLUMN login_since timestamptz;

UPDATE agent_choices c
SET login_since = (SELECT min(h.since) FROM agent_choice_history h
                   WHERE h.tenant_id = c.tenant_id AND h.agent = c.agent
                     AND h.state <> 'offline'
                     AND h.since > coalesce(c.offline_since, '-infinity'))
WHERE c.chosen <> 'offline';
