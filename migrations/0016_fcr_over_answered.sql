-- Repeat rate and FCR over all answered contacts, as DESIGN.md defines
-- them (stop 26). They used to leave out the contacts without a caller
-- key (no number, or a withheld one): those are never a repeat (no later
-- contact has their key) and, resolved and not transferred, settled at
-- the first contact. The 15-minute sums written before now lack those
-- contacts in fcr_provisional; this adds them, from the calls.
UPDATE call_sums_15m s SET fcr_provisional = s.fcr_provisional + x.n
FROM (SELECT tenant_id, to_timestamp(floor(extract(epoch FROM offered_at) / 900) * 900) AS bucket,
             coalesce(queue, '') AS queue, channel, direction, count(*) AS n
      FROM calls
      WHERE offered_at IS NOT NULL AND caller_key IS NULL AND answered AND NOT transferred
        AND wrapped_at IS NOT NULL AND resolved AND NOT followed_by_repeat
      GROUP BY 1, 2, 3, 4, 5) x
WHERE s.tenant_id = x.tenant_id AND s.bucket = x.bucket AND s.queue = x.queue
  AND s.channel = x.channel AND s.direction = x.direction;
