/* The report metrics of DESIGN.md, defined once. A set of contacts is
 * summarised as MetricSums (plain counts and sums of microseconds, so
 * sets can be added and subtracted: live counters move by adding a call's
 * new contribution and removing its old one). Rates are computed from the
 * sums by metrics_compute, both for live statistics and for reports (the
 * report SQL returns the same sums). A rate whose denominator is 0 is
 * undefined (JSON null), never 0.
 *
 * Thresholds are inclusive: answered within 20 s means wait <= 20.000 s;
 * a short abandon waited <= 5.000 s. Contacts without a caller key
 * (withheld, anonymous) are left out of repeat and FCR counting and
 * counted as `withheld`. FCR here is provisional (no repeat seen yet);
 * the final FCR needs the window to have closed and is computed by the
 * reports, which know the time they run. */
#ifndef METRICS_H
#define METRICS_H

#include "call.h"

/* Every count and sum, in output order: X(name, description). */
#define METRIC_SUMS(X)                                                             \
    X(offered, "contacts that entered a queue")                                    \
    X(answered, "picked up by an agent")                                           \
    X(abandoned, "caller left before an answer")                                   \
    X(short_abandoned, "abandoned within the short-abandon threshold")             \
    X(answered_in_sl, "answered within the service-level threshold")               \
    X(wait_answered_us, "sum of waits of answered contacts")                       \
    X(talk_n, "answered contacts whose agent's part ended")                        \
    X(talk_us, "sum of talk time (hold excluded) of those")                        \
    X(hold_us, "sum of hold time of those")                                        \
    X(acw_n, "answered contacts ended and wrapped up")                             \
    X(acw_us, "sum of after-call work of those")                                   \
    X(handle_us, "sum of talk + hold + ACW of those")                              \
    X(transferred, "answered contacts that were transferred")                      \
    X(resolved, "answered contacts marked resolved")                               \
    X(identified, "answered contacts with a caller key")                           \
    X(repeated, "answered contacts followed by a repeat contact")                  \
    X(fcr_provisional, "answered, not transferred, resolved, no repeat yet")       \
    X(withheld, "offered contacts without a caller key")

typedef struct MetricSums {
#define METRIC_SUM_FIELD(name, desc) int64_t name;
    METRIC_SUMS(METRIC_SUM_FIELD)
#undef METRIC_SUM_FIELD
} MetricSums;

/* Rates and means in output order: X(name). */
#define METRIC_RATES(X)                                                                    \
    X(service_level) X(abandon_rate) X(asa_s) X(talk_avg_s) X(hold_avg_s) X(acw_avg_s) X(aht_s) \
    X(transfer_rate) X(handled_independently_rate) X(repeat_rate) X(fcr_provisional_rate)

typedef struct MetricRates {
#define METRIC_RATE_FIELD(name) double name;
    METRIC_RATES(METRIC_RATE_FIELD)
#undef METRIC_RATE_FIELD
} MetricRates;

typedef struct MetricParams {
    int64_t sl_threshold_us;    /* 20 s */
    int64_t short_abandon_us;   /* 5 s */
} MetricParams;

extern const char *const metric_sum_names[];  /* NULL-terminated */
extern const char *const metric_rate_names[]; /* NULL-terminated */

/* Adds (sign 1) or removes (sign -1) a call's contribution. Calls that
 * were never offered contribute nothing. */
void metrics_add_call(MetricSums *m, const CallSummary *c, const MetricParams *p, int sign);

/* m += other * sign */
void metrics_add_sums(MetricSums *m, const MetricSums *other, int sign);

/* Rates from sums; an undefined rate is NaN (metrics_defined). */
void metrics_compute(const MetricSums *m, MetricRates *out);
bool metrics_defined(double v);

/* Access by position (0..), for generic output of sums and rates. */
int64_t metrics_sum_at(const MetricSums *m, size_t i);
void metrics_sum_set(MetricSums *m, size_t i, int64_t v);
double metrics_rate_at(const MetricRates *r, size_t i);

#endif
