/* The default KIC and the arithmetic over a model. Numbers and where they
 * come from: README.md, "How the numbers were chosen". */
#include "erlang.h"
#include "model.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#define SIM_NAME_ITEM(name, text) text,
const char *const sim_category_names[] = {SIM_CATEGORIES(SIM_NAME_ITEM) NULL};
const char *const sim_caller_type_names[] = {SIM_CALLER_TYPES(SIM_NAME_ITEM) NULL};
#undef SIM_NAME_ITEM

enum { Q_HOUSEHOLD, Q_HOME_CARE, Q_DISTRICT, Q_PLANNING, Q_SERVICE };

const SimModel sim_model_default = {
    .queues =
        {
            /* name, dialled, share, summer, talk median/sigma, transfer, to_queue (target),
             * external (target), team prefix, callback promised,
             * categories in SIM_CATEGORIES order (household, district nursing, planning,
             * invoices, indication, aids, complaint, compliment, information, other),
             * caller types: client family professional supplier other */
            {"huishoudelijke-zorg", "+31251700110", 0.34, 1.40, 210, 0.60, 0.10, 0.20,
             Q_PLANNING, 0.00, NULL, "hh-team", 0.07,
             {0.50, 0.00, 0.18, 0.06, 0.06, 0.01, 0.07, 0.02, 0.05, 0.05},
             {0.62, 0.28, 0.04, 0.01, 0.05}},
            {"thuiszorg", "+31251700120", 0.24, 1.00, 270, 0.60, 0.28, 0.15, Q_DISTRICT, 0.00,
             NULL, "thuiszorgteam", 0.05,
             {0.03, 0.18, 0.30, 0.05, 0.12, 0.12, 0.05, 0.02, 0.06, 0.07},
             {0.45, 0.35, 0.14, 0.02, 0.04}},
            {"wijkverpleging", "+31251700130", 0.12, 1.00, 300, 0.60, 0.30, 0.10, Q_HOME_CARE,
             0.00, NULL, "wijkteam", 0.05,
             {0.00, 0.55, 0.10, 0.00, 0.08, 0.12, 0.03, 0.02, 0.05, 0.05},
             {0.35, 0.30, 0.30, 0.02, 0.03}},
            {"planning", "+31251700140", 0.16, 1.00, 180, 0.55, 0.16, 0.20, Q_HOUSEHOLD, 0.00,
             NULL, "planners", 0.06,
             {0.08, 0.04, 0.72, 0.00, 0.02, 0.00, 0.04, 0.01, 0.04, 0.05},
             {0.55, 0.30, 0.10, 0.01, 0.04}},
            {"klantenservice", "+31251700100", 0.14, 1.00, 240, 0.65, 0.20, 0.35, Q_PLANNING,
             0.15, "hulpmiddelencentrum", "zorgadministratie", 0.06,
             {0.04, 0.00, 0.04, 0.32, 0.10, 0.14, 0.12, 0.03, 0.12, 0.09},
             {0.45, 0.25, 0.10, 0.12, 0.08}},
        },
    .nqueues = 5,
    .locations = {"beverwijk", "heemskerk", "ijmuiden", "velsen", "castricum", "uitgeest"},
    .location_w = {0.28, 0.24, 0.20, 0.12, 0.10, 0.06},
    .area_codes = {"251", "251", "255", "255", "251", "251"},

    /* %% of a day's calls per local hour: a morning peak at 9-10, a lunch
     * dip, an early-afternoon peak at 13-15, quiet evenings and nights. */
    .hour_weekday = {0.15, 0.10, 0.10, 0.10, 0.10, 0.15, 0.40, 1.80, 8.50, 12.50, 11.80, 9.60,
                     6.60, 9.40, 9.60, 8.00, 6.20, 3.60, 2.20, 1.80, 1.40, 1.00, 0.60, 0.30},
    /* Weekends: later and flatter (family visits, the weekend care rota). */
    .hour_weekend = {0.30, 0.20, 0.20, 0.20, 0.20, 0.30, 0.60, 1.50, 4.50, 8.50, 10.50, 10.50,
                     8.50, 8.00, 8.00, 7.50, 6.50, 5.00, 4.00, 3.50, 3.00, 2.50, 1.50, 0.80},
    /* Sunday .. Saturday: Monday brings the weekend's questions. */
    .day_w = {0.30, 1.22, 1.06, 1.00, 0.98, 0.90, 0.34},

    .withheld_p = 0.04,
    .mobile_p = 0.62,
    .national_format_p = 0.25,
    .patience_median_s = 140,
    .patience_sigma = 1.0,
    .short_abandon_p = 0.02,

    .ring_median_s = 6,
    .ring_sigma = 0.35,
    .hold_p = 0.22,
    .second_hold_p = 0.20,
    .hold_median_s = 40,
    .hold_sigma = 0.70,
    .acw_median_s = 70,
    .acw_sigma = 0.70,
    .ended_by_caller_p = 0.60,
    .care_team_talk_median_s = 150,
    .resolved_p = 0.86,
    .resolved_transferred_p = 0.15,
    .resolved_callback_p = 0.05,
    .follow_up_care_team_p = 0.35,

    .repeat_abandoned_p = 0.45,
    .repeat_unresolved_p = 0.30,
    .repeat_resolved_p = 0.06,
    .repeat_after_abandon_median_s = 900,
    .repeat_after_contact_mean_s = 1.5 * 86400,
    .repeat_overdue_callback_p = 0.50,
    .repeat_window_days = 7,

    .ivr_offer_wait_s = 240,
    .ivr_accept_p = 0.35,
    .callback_due_s = 24 * 3600,
    .callback_reach_p = 0.70,
    .callback_talk_median_s = 180,
    .callback_no_answer_s = 40,
    .callback_retry_s = 2 * 3600,
    .callback_max_attempts = 3,

    .summer_callback_p_factor = 2.0,
    .summer_ivr_offer_wait_s = 120,
    .summer_ivr_accept_p = 0.50,
    .summer_staffing = 0.90,

    .sl_target = 0.70,
    .sl_seconds = 30,
    .min_on_duty = 1,
    .min_shift_h = 4,
    .max_shift_h = 9,
    .min_rest_h = 11,
    .max_shifts_per_week = 5,
    .break_after_h = {2.0, 4.0, 6.5},
    .break_min = {15, 30, 15},
};

static double sum(const double *v, size_t n)
{
    double s = 0;
    for (size_t i = 0; i < n; i++)
        s += v[i];
    return s;
}

double model_day_calls(const SimModel *m, double calls_per_year, int wday)
{
    /* A mean week carries 7/365 of the year. */
    return calls_per_year * 7.0 / 365.0 * m->day_w[wday] / sum(m->day_w, 7);
}

double model_hour_share(const SimModel *m, int wday, int hour)
{
    const double *curve = wday == 0 || wday == 6 ? m->hour_weekend : m->hour_weekday;
    return curve[hour] / sum(curve, 24);
}

double model_queue_factor(const SimModel *m, int q, int month, bool summer_peak)
{
    if (summer_peak && (month == 7 || month == 8))
        return m->queues[q].summer_factor;
    return 1.0;
}

static double lognormal_mean(double median, double sigma)
{
    return median * exp(sigma * sigma / 2);
}

double model_aht_s(const SimModel *m)
{
    double talk = 0, shares = 0;
    for (int q = 0; q < m->nqueues; q++) {
        talk += m->queues[q].share * lognormal_mean(m->queues[q].talk_median_s, m->queues[q].talk_sigma);
        shares += m->queues[q].share;
    }
    talk /= shares;
    double hold = m->hold_p * (1 + m->second_hold_p) * lognormal_mean(m->hold_median_s, m->hold_sigma);
    return lognormal_mean(m->ring_median_s, m->ring_sigma) + talk + hold +
           lognormal_mean(m->acw_median_s, m->acw_sigma);
}

int model_agents_needed(double calls_per_hour, double aht_s, double sl_target, double sl_seconds)
{
    if (calls_per_hour <= 0 || aht_s <= 0)
        return 0;
    /* the same Erlang C as kicd's reports (lib/erlang.c) */
    return erlang_agents_needed(erlang_traffic(calls_per_hour, 3600.0, aht_s), aht_s, sl_seconds,
                                sl_target, 2000);
}

int model_default_pool(const SimModel *m, double calls_per_year)
{
    double aht = model_aht_s(m), hours = 0;
    for (int wday = 0; wday < 7; wday++) {
        double day = model_day_calls(m, calls_per_year, wday);
        for (int h = 0; h < 24; h++) {
            int n = model_agents_needed(day * model_hour_share(m, wday, h), aht, m->sl_target,
                                        m->sl_seconds);
            hours += n > m->min_on_duty ? n : m->min_on_duty;
        }
    }
    /* Shifts average about 6.5 hours; part-timers work up to
     * max_shifts_per_week; two spare for rest rules and the summer. */
    int pool = (int)ceil(hours / (6.5 * (m->max_shifts_per_week - 1))) + 2;
    return pool < 4 ? 4 : pool;
}

void model_number(const SimModel *m, bool mobile, uint64_t serial, uint64_t salt, int location,
                  char out[24])
{
    /* n -> (a n + b) mod M is a bijection when a is coprime with M, so
     * distinct serials never share a number. */
    if (mobile) {
        /* 06-1xxxxxxx to 06-5xxxxxxx: the ranges Dutch operators hand out */
        unsigned long long n = 10000000ULL + (serial * 48271ULL + salt) % 50000000ULL;
        snprintf(out, 24, "+316%08llu", n);
    } else {
        unsigned long long n = 200000ULL + (serial * 7919ULL + salt) % 800000ULL;
        snprintf(out, 24, "+31%s%06llu", m->area_codes[location], n);
    }
}

void model_number_written(const char *e164, bool national, char out[24])
{
    if (!national || strncmp(e164, "+31", 3) != 0) {
        snprintf(out, 24, "%s", e164);
        return;
    }
    const char *rest = e164 + 3; /* "612345678" or "251123456" */
    size_t area = rest[0] == '6' ? 1 : 3;
    snprintf(out, 24, "0%.*s-%s", (int)area, rest, rest + area);
}
