-- The retention kicd runs with, as kicd last purged: `kicctl purge`
-- without --days purges as kicd does. Before this it purged 400 days
-- whatever kicd's retention_days said: a kicd keeping two years lost
-- its second year to a purge run by hand, and the purge horizon (0012)
-- moved with it, so that year's late events were answered as re-sends.
-- NULL until kicd's next purge (it runs one when it starts).
ALTER TABLE purge_horizon ADD COLUMN kicd_retention_days int;
