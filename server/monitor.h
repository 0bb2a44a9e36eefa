/* What an operator's monitoring reads (GET /metrics, Prometheus text
 * format 0.0.4): counters and histograms the server keeps as it works,
 * and gauges read from the live state when scraped. */
#ifndef MONITOR_H
#define MONITOR_H

#include <stdint.h>

#include "server.h"

#define MON_MAX_BUCKETS 16

typedef struct Histogram {
    const double *bounds; /* upper bounds, ascending; +Inf is implied */
    size_t nbounds;
    uint64_t counts[MON_MAX_BUCKETS]; /* per bucket (not cumulative) */
    uint64_t count;
    double sum;
} Histogram;

struct Metrics {
    uint64_t events_accepted, events_duplicate, events_rejected;
    uint64_t requests, request_errors;
    uint64_t http_requests;
    Histogram batch_size;     /* records per group commit */
    Histogram commit_seconds; /* batch sent to COMMIT answered */
};

Metrics *monitor_new(void);
void monitor_free(Metrics *m);
void mon_observe(Histogram *h, double value);

/* The exposition text (malloc'd). */
char *monitor_prometheus(Server *s);

#endif
