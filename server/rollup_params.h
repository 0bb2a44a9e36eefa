/* The stored 15-minute sums agree with the configured thresholds
 * (migrations/0007_rollup_params.sql): before kicd loads anything, the
 * thresholds the sums were counted with are compared with [metrics]
 * sl_threshold_s and short_abandon_s; when they differ, the sums are
 * rebuilt from the calls in one transaction. */
#ifndef ROLLUP_PARAMS_H
#define ROLLUP_PARAMS_H

#include "server.h"

/* Calls then(s, ok) once the sums agree (ok) or could not be checked. */
void rollup_params_check(Server *s, void (*then)(Server *s, bool ok));

#endif
