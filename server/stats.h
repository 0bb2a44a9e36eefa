/* The live snapshot as JSON, shared by stats.live, stats.update pushes and
 * the HTTP API. */
#ifndef STATS_H
#define STATS_H

#include <jansson.h>

#include "config.h"
#include "tenants.h"

/* filter: array of queue names, or NULL for all. New reference. */
json_t *stats_snapshot_json(const Config *cfg, Tenant *t, json_t *filter, KicTime now);

#endif
