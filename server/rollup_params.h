/* The stored 15-minute sums agree with the configured thresholds
 * (migrations/0007_rollup_params.sql), and the calls' repeat flags with
 * the configured window (0020): before kicd loads anything, the values
 * they were counted with are compared with [metrics] sl_threshold_s,
 * short_abandon_s and repeat_window_days; when they differ, the flags
 * are marked again (a window changed) and the sums rebuilt from the
 * calls, in one transaction. */
#ifndef ROLLUP_PARAMS_H
#define ROLLUP_PARAMS_H

#include "server.h"

/* Calls then(s, ok) once the sums agree (ok) or could not be checked. */
void rollup_params_check(Server *s, void (*then)(Server *s, bool ok));

#endif
