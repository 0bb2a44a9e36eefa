-- What wrapups.acw_s is, and is not (found in review, stop 26).
--
-- The wrap-up's row keeps the ACW kicd answered the desktop with
-- ({acw_seconds}), from what it knew at that moment. A call.ended that
-- arrives later (a bridge catching up) moves the end of the agent's part
-- and so the ACW: calls.acw_s, rewritten from all of the call's events,
-- has the figure, and reports read it. Rewriting every wrap-up row as
-- well would cost each late event a second write for a copy no report
-- reads.
COMMENT ON COLUMN wrapups.acw_s IS
    'ACW answered to the desktop at the wrap-up, from the events known then; calls.acw_s holds the figure from all of the call''s events (what reports use)';
