/* Metric contributions of one call, and rates from sums (see metrics.h). */
#include "metrics.h"

#include <math.h>
#include <string.h>

const char *const metric_sum_names[] = {
#define METRIC_SUM_NAME(name, desc) #name,
    METRIC_SUMS(METRIC_SUM_NAME)
#undef METRIC_SUM_NAME
        NULL};

const char *const metric_rate_names[] = {
#define METRIC_RATE_NAME(name) #name,
    METRIC_RATES(METRIC_RATE_NAME)
#undef METRIC_RATE_NAME
        NULL};

void metrics_add_call(MetricSums *m, const CallSummary *c, const MetricParams *p, int sign)
{
    if (!c->offered)
        return;
    int64_t s = sign;
    m->offered += s;
    if (!c->caller_key)
        m->withheld += s;
    if (c->abandoned) {
        m->abandoned += s;
        if (c->wait_us <= p->short_abandon_us)
            m->short_abandoned += s;
    }
    if (!c->answered)
        return;
    m->answered += s;
    m->wait_answered_us += s * c->wait_us;
    if (c->wait_us <= p->sl_threshold_us)
        m->answered_in_sl += s;
    if (c->part_ended) {
        m->talk_n += s;
        m->talk_us += s * c->talk_us;
        m->hold_us += s * c->hold_us;
        if (c->wrapped) {
            m->acw_n += s;
            m->acw_us += s * c->acw_us;
            m->handle_us += s * (c->talk_us + c->hold_us + c->acw_us);
        }
    }
    if (c->transferred)
        m->transferred += s;
    if (c->wrapped && c->resolved)
        m->resolved += s;
    /* DESIGN.md's repeat and FCR are over answered contacts: one
     * without a caller key cannot be followed by a contact with the same
     * key, so it is never a repeat, and settled when resolved */
    if (c->caller_key)
        m->identified += s;
    if (c->followed_by_repeat)
        m->repeated += s;
    else if (!c->transferred && c->wrapped && c->resolved)
        m->fcr_provisional += s;
}

void metrics_add_sums(MetricSums *m, const MetricSums *o, int sign)
{
#define METRIC_SUM_ADD(name, desc) m->name += sign * o->name;
    METRIC_SUMS(METRIC_SUM_ADD)
#undef METRIC_SUM_ADD
}

static double ratio(int64_t num, int64_t den)
{
    return den > 0 ? (double)num / (double)den : NAN;
}

static double mean_s(int64_t sum_us, int64_t n)
{
    return n > 0 ? (double)sum_us / (double)n / 1e6 : NAN;
}

void metrics_compute(const MetricSums *m, MetricRates *r)
{
    int64_t counted = m->offered - m->short_abandoned;
    r->service_level = ratio(m->answered_in_sl, counted);
    r->abandon_rate = ratio(m->abandoned - m->short_abandoned, counted);
    r->asa_s = mean_s(m->wait_answered_us, m->answered);
    r->talk_avg_s = mean_s(m->talk_us, m->talk_n);
    r->hold_avg_s = mean_s(m->hold_us, m->talk_n);
    r->acw_avg_s = mean_s(m->acw_us, m->acw_n);
    r->aht_s = mean_s(m->handle_us, m->acw_n);
    r->transfer_rate = ratio(m->transferred, m->answered);
    r->handled_independently_rate = ratio(m->answered - m->transferred, m->answered);
    r->repeat_rate = ratio(m->repeated, m->answered);
    r->fcr_provisional_rate = ratio(m->fcr_provisional, m->answered);
}

bool metrics_defined(double v)
{
    return !isnan(v);
}

int64_t metrics_sum_at(const MetricSums *m, size_t i)
{
    return ((const int64_t *)m)[i];
}

void metrics_sum_set(MetricSums *m, size_t i, int64_t v)
{
    ((int64_t *)m)[i] = v;
}

double metrics_rate_at(const MetricRates *r, size_t i)
{
    return ((const double *)r)[i];
}
