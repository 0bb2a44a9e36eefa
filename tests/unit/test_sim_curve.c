/* kic-sim's arrivals and numbers (tools/kic-sim/model.c, sim.c): the
 * daily curve has its morning and early-afternoon peaks, a lunch dip and
 * quiet nights; weekdays are about three times as busy as weekend days;
 * a year of --calls-per-year gives that many calls within a few percent;
 * Erlang C staffing matches an independent computation; callers' numbers
 * are unique, Dutch and normalise as kicd expects; the PRNG is the
 * published xoshiro256** seeded by splitmix64. TZ=Europe/Amsterdam. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "caller.h"
#include "sim.h"
#include "strmap.h"
#include "unit.h"

static KicTime tm_of(const char *s)
{
    KicTime t;
    ck_assert_msg(time_parse_rfc3339(s, &t), "bad time %s", s);
    return t;
}

static void setup(void)
{
    setenv("TZ", "Europe/Amsterdam", 1);
    tzset();
}

static SimConfig config(uint64_t seed, const char *from, int days, double per_year)
{
    KicTime start = tm_of(from);
    return (SimConfig){.seed = seed,
                       .start = start,
                       .end = time_add_local_days(start, days),
                       .stamp_origin = start,
                       .speed = 1.0,
                       .calls_per_year = per_year,
                       .id_prefix = "c",
                       .team = "kic",
                       .untimed = true};
}

/* Inbound calls (fresh contacts and IVR callback requests) per weekday
 * and local hour of the stream. */
typedef struct Curve {
    double n[7][24];
    double days[7]; /* how many of each weekday the run had */
    double total;
} Curve;

static void run_curve(const SimConfig *cfg, Curve *cv)
{
    memset(cv, 0, sizeof(*cv));
    for (KicTime d = cfg->start; d < cfg->end; d = time_add_local_days(d, 1)) {
        struct tm tm;
        time_t sec = (time_t)(d / KIC_USEC) + 43200;
        localtime_r(&sec, &tm);
        cv->days[tm.tm_wday]++;
    }
    char err[128];
    Sim *s = sim_new(cfg, err, sizeof(err));
    ck_assert_msg(s != NULL, "%s", err);
    SimAction a;
    while (sim_next(s, &a)) {
        bool inbound = (a.method == SM_OFFERED && !strstr(a.params, "\"transferred_from\"")) ||
                       a.method == SM_CB_REQUESTED;
        if (inbound) {
            struct tm tm;
            time_t sec = (time_t)(a.t / KIC_USEC);
            localtime_r(&sec, &tm);
            cv->n[tm.tm_wday][tm.tm_hour]++;
            cv->total++;
        }
        sim_action_clear(&a);
    }
    ck_assert_uint_eq((uint64_t)cv->total, sim_stats(s)->calls);
    sim_free(s);
}

static double weekday_hour(const Curve *cv, int hour)
{
    double n = 0;
    for (int d = 1; d <= 5; d++)
        n += cv->n[d][hour];
    return n;
}

START_TEST(the_day_has_a_morning_and_an_early_afternoon_peak)
{
    /* eight weeks at a large volume, so the shape is not noise */
    SimConfig cfg = config(11, "2025-03-03T00:00:00+01:00", 56, 600000);
    Curve cv;
    run_curve(&cfg, &cv);
    double day = 0, h[24];
    for (int i = 0; i < 24; i++)
        day += h[i] = weekday_hour(&cv, i);
    int busiest = 0;
    for (int i = 1; i < 24; i++)
        if (h[i] > h[busiest])
            busiest = i;
    ck_assert_msg(busiest == 9 || busiest == 10, "busiest weekday hour %d", busiest);
    /* the lunch dip, then a second peak in the early afternoon */
    ck_assert_double_lt(h[12], 0.8 * h[10]);
    ck_assert_double_gt(h[13], 1.2 * h[12]);
    ck_assert_double_gt(h[14], 1.2 * h[12]);
    ck_assert_double_gt(h[14], h[17] * 2);
    /* quiet evenings and nights, busy office hours */
    double night = 0, evening = 0, office = 0;
    for (int i = 0; i < 7; i++)
        night += h[i];
    for (int i = 19; i < 24; i++)
        evening += h[i];
    for (int i = 8; i < 17; i++)
        office += h[i];
    ck_assert_double_lt(night / day, 0.03);
    ck_assert_double_gt(night, 0); /* a 24/7 line still rings at night */
    ck_assert_double_lt(evening / day, 0.08);
    ck_assert_double_gt(office / day, 0.80);
    /* weekends: later and flatter, but the peak is still late morning */
    double sat_peak = 0;
    int sat_busiest = 0;
    for (int i = 0; i < 24; i++)
        if (cv.n[6][i] > sat_peak)
            sat_peak = cv.n[6][sat_busiest = i];
    ck_assert_int_ge(sat_busiest, 9);
    ck_assert_int_le(sat_busiest, 12);
}
END_TEST

START_TEST(weekdays_are_three_times_weekend_days)
{
    SimConfig cfg = config(12, "2025-03-03T00:00:00+01:00", 56, 600000);
    Curve cv;
    run_curve(&cfg, &cv);
    double per_day[7];
    for (int d = 0; d < 7; d++) {
        per_day[d] = 0;
        for (int i = 0; i < 24; i++)
            per_day[d] += cv.n[d][i];
        ck_assert_double_eq(cv.days[d], 8);
        per_day[d] /= cv.days[d];
    }
    double weekday = (per_day[1] + per_day[2] + per_day[3] + per_day[4] + per_day[5]) / 5;
    double weekend = (per_day[0] + per_day[6]) / 2;
    double ratio = weekday / weekend;
    ck_assert_msg(ratio > 2.7 && ratio < 3.8, "weekday/weekend %.2f", ratio);
    ck_assert_double_gt(per_day[1], per_day[5] * 1.15); /* Monday brings the weekend's questions */
}
END_TEST

START_TEST(a_year_has_the_calls_per_year)
{
    static const struct {
        uint64_t seed;
        double per_year;
    } runs[] = {{1, 115000}, {2, 115000}, {3, 20000}};
    for (size_t i = 0; i < sizeof(runs) / sizeof(runs[0]); i++) {
        SimConfig cfg = config(runs[i].seed, "2025-01-01T00:00:00+01:00", 365, runs[i].per_year);
        char err[128];
        Sim *s = sim_new(&cfg, err, sizeof(err));
        ck_assert_ptr_nonnull(s);
        SimAction a;
        uint64_t offered = 0;
        while (sim_next(s, &a)) {
            offered += a.method == SM_OFFERED;
            sim_action_clear(&a);
        }
        const SimStats *st = sim_stats(s);
        double calls = (double)st->calls, contacts = (double)offered;
        ck_assert_uint_eq(st->contacts, offered);
        ck_assert_msg(fabs(calls / runs[i].per_year - 1) < 0.03, "%.0f calls for %.0f a year", calls,
                      runs[i].per_year);
        /* contacts: calls, less IVR callback requests, plus queue transfers */
        ck_assert_msg(fabs(contacts / runs[i].per_year - 1) < 0.05, "%.0f contacts for %.0f a year",
                      contacts, runs[i].per_year);
        ck_assert_uint_eq(st->calls - st->ivr_callbacks + st->queue[0].to_queue + st->queue[1].to_queue +
                              st->queue[2].to_queue + st->queue[3].to_queue + st->queue[4].to_queue,
                          st->contacts);
        sim_free(s);
    }
}
END_TEST

START_TEST(model_tables_are_normalised)
{
    const SimModel *m = &sim_model_default;
    for (int wday = 0; wday < 7; wday++) {
        double sum = 0;
        for (int h = 0; h < 24; h++)
            sum += model_hour_share(m, wday, h);
        ck_assert_double_eq_tol(sum, 1.0, 1e-9);
    }
    double week = 0, shares = 0;
    for (int wday = 0; wday < 7; wday++)
        week += model_day_calls(m, 115000, wday);
    ck_assert_double_eq_tol(week, 115000.0 * 7 / 365, 1e-6);
    for (int q = 0; q < m->nqueues; q++) {
        shares += m->queues[q].share;
        /* the range for transfers */
        ck_assert_double_ge(m->queues[q].transfer_p, 0.10);
        ck_assert_double_le(m->queues[q].transfer_p, 0.30);
    }
    ck_assert_double_eq_tol(shares, 1.0, 1e-9);
    /* household care: nine in ten handled by the KIC itself (the article) */
    ck_assert_double_eq_tol(m->queues[0].transfer_p, 0.10, 1e-9);
    ck_assert_str_eq(m->queues[0].name, "huishoudelijke-zorg");
    double aht = model_aht_s(m);
    ck_assert_msg(aht > 300 && aht < 480, "AHT %.0f s", aht);
}
END_TEST

START_TEST(erlang_c_matches_an_independent_computation)
{
    /* values from a direct evaluation of the Erlang C formula */
    ck_assert_int_eq(model_agents_needed(200, 180, 0.8, 20), 14);
    ck_assert_int_eq(model_agents_needed(58, 385, 0.7, 30), 9);
    ck_assert_int_eq(model_agents_needed(360, 240, 0.8, 20), 29);
    ck_assert_int_eq(model_agents_needed(1, 300, 0.8, 20), 1);
    ck_assert_int_eq(model_agents_needed(0, 300, 0.8, 20), 0);
    int prev = 0;
    for (double load = 1; load < 500; load *= 1.5) {
        int n = model_agents_needed(load, 300, 0.8, 20);
        ck_assert_int_ge(n, prev);
        ck_assert_double_gt(n, load * 300 / 3600); /* more agents than erlangs */
        prev = n;
    }
    int pool = model_default_pool(&sim_model_default, 115000);
    ck_assert_msg(pool >= 12 && pool <= 30, "a pool of %d for 115,000 calls", pool);
}
END_TEST

START_TEST(numbers_are_unique_dutch_and_normalise)
{
    const SimModel *m = &sim_model_default;
    StrMap seen = STRMAP_INIT;
    char *all = malloc(2 * 60000 * 24);
    size_t k = 0;
    for (int mobile = 0; mobile < 2; mobile++) {
        for (uint64_t serial = 1; serial <= 60000; serial++, k++) {
            char *n = all + k * 24;
            model_number(m, mobile, serial, 0x5eed, (int)(serial % SIM_LOCATIONS), n);
            ck_assert_msg(!strmap_get(&seen, n), "%s twice", n);
            strmap_put(&seen, n, n);
            ck_assert_uint_eq(strlen(n), 12); /* +31 and nine digits */
            if (mobile)
                ck_assert_msg(strncmp(n, "+316", 4) == 0 && n[4] >= '1' && n[4] <= '5', "mobile %s", n);
            else
                ck_assert_msg(strncmp(n, "+31251", 6) == 0 || strncmp(n, "+31255", 6) == 0, "landline %s", n);
            char written[24], e164[CALLER_E164_MAX];
            model_number_written(n, true, written);
            ck_assert_msg(written[0] == '0' && strchr(written, '-'), "national form %s", written);
            ck_assert_int_eq(caller_normalise(written, "31", e164), CALLER_OK);
            ck_assert_str_eq(e164, n);
            model_number_written(n, false, written);
            ck_assert_str_eq(written, n);
        }
    }
    char e164[CALLER_E164_MAX];
    ck_assert_int_eq(caller_normalise("anonymous", "31", e164), CALLER_WITHHELD);
    strmap_free(&seen);
    free(all);
}
END_TEST

START_TEST(prng_is_xoshiro256_starstar)
{
    SimRng r;
    rng_seed(&r, 0);
    /* splitmix64's first outputs from 0 (published test values) */
    ck_assert_uint_eq(r.s[0], 0xe220a8397b1dcdafULL);
    ck_assert_uint_eq(r.s[1], 0x6e789e6aa1b965f4ULL);
    /* xoshiro256** from state {1, 2, 3, 4}: the reference implementation's first outputs */
    SimRng x = {{1, 2, 3, 4}};
    ck_assert_uint_eq(rng_u64(&x), 11520ULL);
    ck_assert_uint_eq(rng_u64(&x), 0ULL);
    ck_assert_uint_eq(rng_u64(&x), 1509978240ULL);
    ck_assert_uint_eq(rng_u64(&x), 1215971899390074240ULL);
    /* the distributions the model relies on */
    rng_seed(&r, 99);
    double sum = 0, below = 0, psum = 0;
    int n = 200000;
    for (int i = 0; i < n; i++) {
        double u = rng_unit(&r);
        ck_assert(u >= 0 && u < 1);
        sum += rng_exponential(&r, 10);
        below += rng_lognormal(&r, 70, 0.7) < 70;
        psum += (double)rng_poisson(&r, i % 2 ? 3.5 : 80);
        ck_assert_uint_lt(rng_below(&r, 7), 7);
    }
    ck_assert_double_eq_tol(sum / n, 10, 0.15);
    ck_assert_double_eq_tol(below / n, 0.5, 0.01); /* the median is the median */
    ck_assert_double_eq_tol(psum / n, (3.5 + 80) / 2, 0.15);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("sim_curve");
    TCase *tc = tcase_create("core");
    tcase_add_checked_fixture(tc, setup, NULL);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, the_day_has_a_morning_and_an_early_afternoon_peak);
    tcase_add_test(tc, weekdays_are_three_times_weekend_days);
    tcase_add_test(tc, a_year_has_the_calls_per_year);
    tcase_add_test(tc, model_tables_are_normalised);
    tcase_add_test(tc, erlang_c_matches_an_independent_computation);
    tcase_add_test(tc, numbers_are_unique_dutch_and_normalise);
    tcase_add_test(tc, prng_is_xoshiro256_starstar);
    suite_add_tcase(s, tc);
    return unit_run(s);
}
