/* Metrics (lib/metrics.c): every metric of DESIGN.md on small sets of
 * calls derived from events (call_derive), with the arithmetic worked out
 * by hand in the comments, at every threshold boundary; undefined rates
 * are NaN, never 0; removing a call (sign -1) exactly undoes adding it. */
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "metrics.h"
#include "unit.h"

#define SEC(x) ((int64_t)(x) * KIC_USEC)
#define O SEC(1000) /* offer time used by most plans */
#define KEY "5d41402abc4b2a76b9719d911017c5925d41402abc4b2a76b9719d911017c592"
#define KEY2 "7d793037a0760186574b0282f2f435e77d793037a0760186574b0282f2f435e7"

static KicTime T0;
static const MetricParams P = {SEC(20), SEC(5)};

/* A call as a plan: times are microseconds after T0, 0 = that event is
 * absent (so every real time is > 0). */
typedef struct Plan {
    int64_t offered, answered, abandoned, held, resumed, transferred, ended, wrapped;
    bool resolved;
    const char *key;
    bool withheld;
    bool repeat;
} Plan;

typedef struct Made {
    Event *ev[8];
    size_t n;
    Wrapup *wu;
    CallSummary sum;
} Made;

static Made *made[4096];
static size_t nmade;

static void setup(void)
{
    setenv("TZ", "Europe/Amsterdam", 1);
    tzset();
    ck_assert(time_parse_rfc3339("2026-11-22T09:00:00+01:00", &T0));
    nmade = 0;
}

static void teardown(void)
{
    for (size_t i = 0; i < nmade; i++) {
        for (size_t j = 0; j < made[i]->n; j++)
            event_destroy(made[i]->ev[j]);
        wrapup_free(made[i]->wu);
        free(made[i]);
    }
    nmade = 0;
}

static void add_ev(Made *m, EventType type, int64_t at, const Plan *p)
{
    if (!at)
        return;
    static const char *const ids[] = {"e0", "e1", "e2", "e3", "e4", "e5", "e6", "e7"};
    Event f;
    memset(&f, 0, sizeof(f));
    f.type = type;
    f.at = T0 + at;
    f.due_by = KIC_TIME_NONE;
    f.caller_withheld = p->withheld;
    f.target_kind = TK_QUEUE;
    EventText t = {ids[m->n], "c", "q", NULL, NULL, NULL, "a", "q2", p->key};
    m->ev[m->n] = event_create(&f, &t);
    ck_assert_ptr_nonnull(m->ev[m->n]);
    m->n++;
}

/* Derives the plan's call; the summary lives until teardown. */
static const CallSummary *derive(Plan p)
{
    Made *m = calloc(1, sizeof(*m));
    ck_assert_ptr_nonnull(m);
    ck_assert_uint_lt(nmade, KIC_ARRAY_LEN(made));
    made[nmade++] = m;
    add_ev(m, EV_OFFERED, p.offered, &p);
    add_ev(m, EV_ANSWERED, p.answered, &p);
    add_ev(m, EV_ABANDONED, p.abandoned, &p);
    add_ev(m, EV_HELD, p.held, &p);
    add_ev(m, EV_RESUMED, p.resumed, &p);
    add_ev(m, EV_TRANSFERRED, p.transferred, &p);
    add_ev(m, EV_ENDED, p.ended, &p);
    if (p.wrapped) {
        m->wu = wrapup_new("a", "cat", T0 + p.wrapped, p.resolved, FU_NONE, CT_CLIENT);
        ck_assert_ptr_nonnull(m->wu);
    }
    const Event *list[8];
    memcpy(list, m->ev, m->n * sizeof(Event *));
    const Wrapup *wl[1] = {m->wu};
    CallInput in = {list, m->n, wl, m->wu ? 1 : 0, p.repeat};
    call_derive(&in, &m->sum);
    return &m->sum;
}

#define PLAN(...) ((Plan){__VA_ARGS__})

static void sum_of(MetricSums *m, const CallSummary *const *calls, size_t n, const MetricParams *p)
{
    memset(m, 0, sizeof(*m));
    for (size_t i = 0; i < n; i++)
        metrics_add_call(m, calls[i], p, 1);
}

#define EPS 1e-9
#define assert_rate(v, want) ck_assert_double_eq_tol((v), (want), EPS)
#define assert_undefined(v)                                                         \
    do {                                                                            \
        ck_assert_msg(!metrics_defined(v), "%s should be undefined, is %g", #v, v); \
        ck_assert_msg(isnan(v), "%s should be NaN", #v);                            \
    } while (0)

/* ---- service level, abandons, ASA ---- */

START_TEST(service_level_and_abandons_at_the_boundaries)
{
    const CallSummary *calls[] = {
        /* A: wait exactly 20.000000 s: within the service level (inclusive) */
        derive(PLAN(.offered = O, .answered = O + 20000000, .key = KEY)),
        /* B: 20.000001 s: not */
        derive(PLAN(.offered = O, .answered = O + 20000001, .key = KEY)),
        /* C: abandoned after exactly 5.000000 s: a short abandon */
        derive(PLAN(.offered = O, .abandoned = O + 5000000, .key = KEY)),
        /* D: abandoned after 5.000001 s: a real abandon */
        derive(PLAN(.offered = O, .abandoned = O + 5000001, .key = KEY)),
        /* E: answered after 3 s */
        derive(PLAN(.offered = O, .answered = O + SEC(3), .key = KEY)),
        /* F: still waiting */
        derive(PLAN(.offered = O, .key = KEY)),
        /* G: ended after 5 s without an answer: abandoned at the end, short */
        derive(PLAN(.offered = O, .ended = O + SEC(5), .key = KEY)),
    };
    MetricSums m;
    sum_of(&m, calls, KIC_ARRAY_LEN(calls), &P);
    ck_assert_int_eq(m.offered, 7);
    ck_assert_int_eq(m.answered, 3);        /* A B E */
    ck_assert_int_eq(m.abandoned, 3);       /* C D G */
    ck_assert_int_eq(m.short_abandoned, 2); /* C G */
    ck_assert_int_eq(m.answered_in_sl, 2);  /* A E */
    ck_assert_int_eq(m.wait_answered_us, 20000000 + 20000001 + 3000000);
    MetricRates r;
    metrics_compute(&m, &r);
    /* service_level = answered in SL / (offered - short) = 2 / (7 - 2) */
    assert_rate(r.service_level, 0.4);
    /* abandon_rate = (abandoned - short) / (offered - short) = 1 / 5 */
    assert_rate(r.abandon_rate, 0.2);
    /* asa = (20.000000 + 20.000001 + 3) / 3 = 43.000001 / 3 */
    assert_rate(r.asa_s, 14.333333666666667);
    /* nothing ended: no talk figures */
    assert_undefined(r.talk_avg_s);
    assert_undefined(r.hold_avg_s);
    assert_undefined(r.acw_avg_s);
    assert_undefined(r.aht_s);
    /* answered but none transferred: 0 and 1, defined */
    assert_rate(r.transfer_rate, 0.0);
    assert_rate(r.handled_independently_rate, 1.0);
    ck_assert(metrics_defined(r.transfer_rate));
}
END_TEST

START_TEST(thresholds_come_from_the_params)
{
    const MetricParams wide = {SEC(30), SEC(10)};
    const CallSummary *calls[] = {
        derive(PLAN(.offered = O, .answered = O + 20000001)),  /* in SL with 30 s */
        derive(PLAN(.offered = O, .answered = O + 30000000)),  /* exactly 30 s: in */
        derive(PLAN(.offered = O, .answered = O + 30000001)),  /* not */
        derive(PLAN(.offered = O, .abandoned = O + 5000001)),  /* short with 10 s */
        derive(PLAN(.offered = O, .abandoned = O + 10000000)), /* exactly 10 s: short */
        derive(PLAN(.offered = O, .abandoned = O + 10000001)), /* not */
    };
    MetricSums m;
    sum_of(&m, calls, KIC_ARRAY_LEN(calls), &wide);
    ck_assert_int_eq(m.answered_in_sl, 2);
    ck_assert_int_eq(m.short_abandoned, 2);
    MetricRates r;
    metrics_compute(&m, &r);
    assert_rate(r.service_level, 2.0 / 4.0);  /* 2 / (6 - 2) */
    assert_rate(r.abandon_rate, 1.0 / 4.0);   /* (3 - 2) / (6 - 2) */
}
END_TEST

START_TEST(asa_counts_only_answered_waits)
{
    const CallSummary *calls[] = {
        derive(PLAN(.offered = O, .answered = O + SEC(10))),
        derive(PLAN(.offered = O, .answered = O + SEC(30))),
        derive(PLAN(.offered = O, .abandoned = O + SEC(300))), /* not in ASA */
        derive(PLAN(.offered = O)),                            /* waiting: not in ASA */
    };
    MetricSums m;
    sum_of(&m, calls, KIC_ARRAY_LEN(calls), &P);
    MetricRates r;
    metrics_compute(&m, &r);
    assert_rate(r.asa_s, 20.0); /* (10 + 30) / 2 */
    /* SL: 1 (the 10 s one) / (4 - 0) */
    assert_rate(r.service_level, 0.25);
    /* abandon rate: 1 / 4 */
    assert_rate(r.abandon_rate, 0.25);
}
END_TEST

/* ---- talk, hold, ACW, AHT ---- */

START_TEST(handle_time_means_and_their_denominators)
{
    const CallSummary *calls[] = {
        /* A: wait 10; talk 130-10-15 = 105; hold 55-40 = 15; ACW 160-130 = 30 */
        derive(PLAN(.offered = O, .answered = O + SEC(10), .held = O + SEC(40),
                    .resumed = O + SEC(55), .ended = O + SEC(130), .wrapped = O + SEC(160),
                    .resolved = true, .key = KEY)),
        /* B: wait 5; talk 65-5 = 60; wrapped at 50, before the end: ACW 0 */
        derive(PLAN(.offered = O, .answered = O + SEC(5), .ended = O + SEC(65),
                    .wrapped = O + SEC(50), .key = KEY)),
        /* C: wait 20; talk 110-20 = 90; never wrapped up: no ACW */
        derive(PLAN(.offered = O, .answered = O + SEC(20), .ended = O + SEC(110), .key = KEY)),
        /* D: wait 30; still talking, wrapped already: in neither talk nor ACW */
        derive(PLAN(.offered = O, .answered = O + SEC(30), .wrapped = O + SEC(60), .key = KEY)),
        /* E: wait 15; transferred at 60: talk 45; ACW from the transfer 80-60 = 20 */
        derive(PLAN(.offered = O, .answered = O + SEC(15), .transferred = O + SEC(60),
                    .ended = O + SEC(61), .wrapped = O + SEC(80), .resolved = true, .key = KEY)),
    };
    MetricSums m;
    sum_of(&m, calls, KIC_ARRAY_LEN(calls), &P);
    ck_assert_int_eq(m.offered, 5);
    ck_assert_int_eq(m.answered, 5);
    ck_assert_int_eq(m.answered_in_sl, 4);                 /* 10 5 20 15; not 30 */
    ck_assert_int_eq(m.wait_answered_us, SEC(10 + 5 + 20 + 30 + 15));
    ck_assert_int_eq(m.talk_n, 4);                         /* A B C E */
    ck_assert_int_eq(m.talk_us, SEC(105 + 60 + 90 + 45)); /* 300 */
    ck_assert_int_eq(m.hold_us, SEC(15));
    ck_assert_int_eq(m.acw_n, 3);                          /* A B E */
    ck_assert_int_eq(m.acw_us, SEC(30 + 0 + 20));          /* 50 */
    ck_assert_int_eq(m.handle_us, SEC(150 + 60 + 65));     /* 275 */
    ck_assert_int_eq(m.transferred, 1);
    ck_assert_int_eq(m.resolved, 2);                       /* A E */
    MetricRates r;
    metrics_compute(&m, &r);
    assert_rate(r.asa_s, 16.0);                  /* 80 / 5 */
    assert_rate(r.service_level, 0.8);           /* 4 / 5 */
    assert_rate(r.abandon_rate, 0.0);            /* 0 / 5, defined */
    assert_rate(r.talk_avg_s, 75.0);             /* 300 / 4 */
    assert_rate(r.hold_avg_s, 3.75);             /* 15 / 4 */
    assert_rate(r.acw_avg_s, 50.0 / 3.0);        /* 16.667 */
    assert_rate(r.aht_s, 275.0 / 3.0);           /* 91.667 */
    assert_rate(r.transfer_rate, 0.2);           /* 1 / 5 */
    assert_rate(r.handled_independently_rate, 0.8); /* (5 - 1) / 5 */
    /* all five identified; FCR: A only (E transferred, B C D not resolved) */
    ck_assert_int_eq(m.identified, 5);
    ck_assert_int_eq(m.fcr_provisional, 1);
    assert_rate(r.fcr_provisional_rate, 0.2);
    assert_rate(r.repeat_rate, 0.0);
}
END_TEST

START_TEST(aht_is_talk_hold_acw_of_wrapped_calls_only)
{
    const CallSummary *calls[] = {
        /* talk 100 - 10 - 20 = 70, hold 20, ACW 10: handle 100 */
        derive(PLAN(.offered = O, .answered = O + SEC(10), .held = O + SEC(30),
                    .resumed = O + SEC(50), .ended = O + SEC(100), .wrapped = O + SEC(110))),
        /* talk 200, not wrapped: in talk only */
        derive(PLAN(.offered = O, .answered = O + SEC(10), .ended = O + SEC(210))),
    };
    MetricSums m;
    sum_of(&m, calls, KIC_ARRAY_LEN(calls), &P);
    MetricRates r;
    metrics_compute(&m, &r);
    assert_rate(r.talk_avg_s, 135.0); /* (70 + 200) / 2 */
    assert_rate(r.hold_avg_s, 10.0);  /* 20 / 2 */
    assert_rate(r.acw_avg_s, 10.0);   /* 10 / 1 */
    assert_rate(r.aht_s, 100.0);      /* (70 + 20 + 10) / 1 */
}
END_TEST

/* ---- transfers, repeats, FCR, withheld ---- */

START_TEST(transfer_and_handled_independently)
{
    const CallSummary *calls[] = {
        derive(PLAN(.offered = O, .answered = O + SEC(5), .transferred = O + SEC(50), .ended = O + SEC(50))),
        derive(PLAN(.offered = O, .answered = O + SEC(5), .transferred = O + SEC(70))),
        derive(PLAN(.offered = O, .answered = O + SEC(5), .ended = O + SEC(80))),
        derive(PLAN(.offered = O, .answered = O + SEC(5))),
        /* not answered: a transfer without an answer is not counted */
        derive(PLAN(.offered = O, .transferred = O + SEC(3), .ended = O + SEC(3))),
    };
    MetricSums m;
    sum_of(&m, calls, KIC_ARRAY_LEN(calls), &P);
    ck_assert_int_eq(m.answered, 4);
    ck_assert_int_eq(m.transferred, 2);
    MetricRates r;
    metrics_compute(&m, &r);
    assert_rate(r.transfer_rate, 0.5);              /* 2 / 4 */
    assert_rate(r.handled_independently_rate, 0.5); /* (4 - 2) / 4 */
}
END_TEST

START_TEST(repeat_and_fcr_are_over_answered_contacts)
{
    const CallSummary *calls[] = {
        /* A: key, resolved, not transferred, no repeat: FCR */
        derive(PLAN(.offered = O, .answered = O + SEC(5), .ended = O + SEC(60),
                    .wrapped = O + SEC(70), .resolved = true, .key = KEY)),
        /* B: key, resolved, but followed by a repeat: repeated, not FCR */
        derive(PLAN(.offered = O, .answered = O + SEC(5), .ended = O + SEC(60),
                    .wrapped = O + SEC(70), .resolved = true, .key = KEY2, .repeat = true)),
        /* C: key, resolved, transferred: neither */
        derive(PLAN(.offered = O, .answered = O + SEC(5), .transferred = O + SEC(60),
                    .wrapped = O + SEC(70), .resolved = true, .key = KEY)),
        /* D: key, not resolved */
        derive(PLAN(.offered = O, .answered = O + SEC(5), .ended = O + SEC(60),
                    .wrapped = O + SEC(70), .key = KEY)),
        /* E: withheld, resolved: never a repeat (no later contact has its
         * key), so settled at the first contact */
        derive(PLAN(.offered = O, .answered = O + SEC(5), .ended = O + SEC(60),
                    .wrapped = O + SEC(70), .resolved = true, .withheld = true)),
        /* F: no caller at all, abandoned: counted as withheld too */
        derive(PLAN(.offered = O, .abandoned = O + SEC(30))),
        /* G: key, abandoned, followed by a repeat: not answered, not counted */
        derive(PLAN(.offered = O, .abandoned = O + SEC(30), .key = KEY, .repeat = true)),
        /* H: key, answered, not wrapped up: identified, not FCR */
        derive(PLAN(.offered = O, .answered = O + SEC(5), .ended = O + SEC(60), .key = KEY)),
        /* I: withheld but flagged repeat (cannot happen in the centre): the
         * flag counts */
        derive(PLAN(.offered = O, .answered = O + SEC(5), .ended = O + SEC(60),
                    .withheld = true, .repeat = true)),
    };
    MetricSums m;
    sum_of(&m, calls, KIC_ARRAY_LEN(calls), &P);
    ck_assert_int_eq(m.offered, 9);
    ck_assert_int_eq(m.answered, 7);         /* A B C D E H I */
    ck_assert_int_eq(m.identified, 5);       /* A B C D H */
    ck_assert_int_eq(m.repeated, 2);         /* B I */
    ck_assert_int_eq(m.fcr_provisional, 2);  /* A E */
    ck_assert_int_eq(m.withheld, 3);         /* E F I */
    ck_assert_int_eq(m.resolved, 4);         /* A B C E */
    ck_assert_int_eq(m.transferred, 1);      /* C */
    MetricRates r;
    metrics_compute(&m, &r);
    assert_rate(r.repeat_rate, 2.0 / 7);          /* over answered (DESIGN.md) */
    assert_rate(r.fcr_provisional_rate, 2.0 / 7);
    assert_rate(r.transfer_rate, 1.0 / 7.0);
}
END_TEST

/* ---- undefined rates ---- */

START_TEST(empty_set_every_rate_undefined)
{
    MetricSums m;
    memset(&m, 0, sizeof(m));
    MetricRates r;
    metrics_compute(&m, &r);
    for (size_t i = 0; metric_rate_names[i]; i++) {
        double v = metrics_rate_at(&r, i);
        ck_assert_msg(!metrics_defined(v) && isnan(v), "%s is %g, not undefined",
                      metric_rate_names[i], v);
    }
    ck_assert(metrics_defined(0.0));
    ck_assert(metrics_defined(1.0));
    ck_assert(!metrics_defined(NAN));
}
END_TEST

START_TEST(undefined_rates_when_denominators_are_zero)
{
    /* only short abandons: offered - short = 0 */
    const CallSummary *shorts[] = {
        derive(PLAN(.offered = O, .abandoned = O + SEC(1), .key = KEY)),
        derive(PLAN(.offered = O, .abandoned = O + SEC(5))),
    };
    MetricSums m;
    sum_of(&m, shorts, 2, &P);
    MetricRates r;
    metrics_compute(&m, &r);
    assert_undefined(r.service_level);
    assert_undefined(r.abandon_rate);
    assert_undefined(r.asa_s);
    assert_undefined(r.transfer_rate);
    assert_undefined(r.handled_independently_rate);
    assert_undefined(r.repeat_rate);
    assert_undefined(r.fcr_provisional_rate);

    /* answered, not ended: talk, hold, ACW and AHT undefined; others not */
    const CallSummary *talking[] = {derive(PLAN(.offered = O, .answered = O + SEC(2)))};
    sum_of(&m, talking, 1, &P);
    metrics_compute(&m, &r);
    assert_rate(r.service_level, 1.0);
    assert_rate(r.abandon_rate, 0.0);
    assert_rate(r.asa_s, 2.0);
    assert_undefined(r.talk_avg_s);
    assert_undefined(r.hold_avg_s);
    assert_undefined(r.acw_avg_s);
    assert_undefined(r.aht_s);
    assert_rate(r.transfer_rate, 0.0);
    assert_rate(r.handled_independently_rate, 1.0);
    assert_rate(r.repeat_rate, 0.0); /* no caller key: never a repeat */
    assert_rate(r.fcr_provisional_rate, 0.0); /* not wrapped up */

    /* ended, not wrapped up: talk defined, ACW and AHT not */
    const CallSummary *ended[] = {
        derive(PLAN(.offered = O, .answered = O + SEC(2), .ended = O + SEC(12), .key = KEY))};
    sum_of(&m, ended, 1, &P);
    metrics_compute(&m, &r);
    assert_rate(r.talk_avg_s, 10.0);
    assert_rate(r.hold_avg_s, 0.0);
    assert_undefined(r.acw_avg_s);
    assert_undefined(r.aht_s);
    assert_rate(r.repeat_rate, 0.0);
    assert_rate(r.fcr_provisional_rate, 0.0);
}
END_TEST

START_TEST(never_offered_contributes_nothing)
{
    const CallSummary *c = derive(PLAN(.answered = SEC(5), .ended = SEC(60), .wrapped = SEC(70),
                                       .resolved = true, .key = KEY));
    ck_assert(!c->offered);
    MetricSums m, zero;
    memset(&m, 0, sizeof(m));
    memset(&zero, 0, sizeof(zero));
    metrics_add_call(&m, c, &P, 1);
    ck_assert_int_eq(memcmp(&m, &zero, sizeof(m)), 0);
}
END_TEST

/* ---- names and positions ---- */

START_TEST(names_and_positions_agree)
{
    static const struct {
        const char *name;
        size_t off;
    } sums[] = {
#define SUM_ENTRY(name, desc) {#name, offsetof(MetricSums, name)},
        METRIC_SUMS(SUM_ENTRY)
#undef SUM_ENTRY
    };
    size_t n = 0;
    while (metric_sum_names[n])
        n++;
    ck_assert_uint_eq(n, KIC_ARRAY_LEN(sums));
    ck_assert_uint_eq(n * sizeof(int64_t), sizeof(MetricSums));
    for (size_t i = 0; i < n; i++) {
        MetricSums m;
        memset(&m, 0, sizeof(m));
        metrics_sum_set(&m, i, 1000 + (int64_t)i);
        ck_assert_str_eq(metric_sum_names[i], sums[i].name);
        int64_t v;
        memcpy(&v, (const char *)&m + sums[i].off, sizeof(v));
        ck_assert_int_eq(v, 1000 + (int64_t)i);
        ck_assert_int_eq(metrics_sum_at(&m, i), 1000 + (int64_t)i);
    }
    static const struct {
        const char *name;
        size_t off;
    } rates[] = {
#define RATE_ENTRY(name) {#name, offsetof(MetricRates, name)},
        METRIC_RATES(RATE_ENTRY)
#undef RATE_ENTRY
    };
    n = 0;
    while (metric_rate_names[n])
        n++;
    ck_assert_uint_eq(n, KIC_ARRAY_LEN(rates));
    for (size_t i = 0; i < n; i++) {
        MetricRates r;
        memset(&r, 0, sizeof(r));
        double v = 0.5 + (double)i;
        memcpy((char *)&r + rates[i].off, &v, sizeof(v));
        ck_assert_str_eq(metric_rate_names[i], rates[i].name);
        ck_assert_double_eq(metrics_rate_at(&r, i), v);
    }
    /* the DESIGN.md names the reports use */
    const char *design[] = {"service_level", "abandon_rate", "asa_s", "talk_avg_s", "hold_avg_s",
                            "acw_avg_s", "aht_s", "transfer_rate", "handled_independently_rate",
                            "repeat_rate"};
    for (size_t d = 0; d < KIC_ARRAY_LEN(design); d++) {
        bool found = false;
        for (size_t i = 0; metric_rate_names[i]; i++)
            found |= strcmp(metric_rate_names[i], design[d]) == 0;
        ck_assert_msg(found, "rate %s missing", design[d]);
    }
}
END_TEST

/* ---- adding and removing ---- */

static int64_t rnd(unsigned *seed, int64_t lo, int64_t hi)
{
    uint64_t r = ((uint64_t)rand_r(seed) << 31) ^ (uint64_t)rand_r(seed);
    return lo + (int64_t)(r % (uint64_t)(hi - lo + 1));
}

static const CallSummary *random_call(unsigned *seed)
{
    Plan p;
    memset(&p, 0, sizeof(p));
    int64_t t = O + rnd(seed, 0, SEC(3600));
    p.offered = rnd(seed, 0, 19) ? t : 0;
    int kind = (int)rnd(seed, 0, 5);
    int64_t wait = rnd(seed, 0, SEC(40));
    if (kind == 0) {
        p.abandoned = t + wait + 1;
    } else if (kind == 1) {
        p.ended = t + wait + 1;
    } else if (kind >= 3) {
        p.answered = t + wait + 1;
        int64_t at = p.answered;
        if (rnd(seed, 0, 2) == 0) {
            p.held = at + rnd(seed, 1, SEC(60));
            at = p.held;
            if (rnd(seed, 0, 3))
                p.resumed = at = at + rnd(seed, 1, SEC(60));
        }
        if (rnd(seed, 0, 3) == 0)
            p.transferred = at = at + rnd(seed, 1, SEC(300));
        if (rnd(seed, 0, 4))
            p.ended = at = at + rnd(seed, 1, SEC(300));
        if (rnd(seed, 0, 2))
            p.wrapped = p.answered + rnd(seed, 0, SEC(900));
        p.resolved = rnd(seed, 0, 1);
    }
    int k = (int)rnd(seed, 0, 3);
    p.key = k == 0 ? NULL : k == 1 ? KEY : KEY2;
    p.withheld = k == 0 && rnd(seed, 0, 1);
    p.repeat = rnd(seed, 0, 3) == 0;
    return derive(p);
}

START_TEST(removing_a_call_exactly_undoes_adding_it)
{
    unsigned seed = 20261122;
    enum { N = 400 };
    const CallSummary *calls[N];
    for (int i = 0; i < N; i++)
        calls[i] = random_call(&seed);
    MetricSums all, zero, m;
    memset(&zero, 0, sizeof(zero));
    sum_of(&all, calls, N, &P);
    ck_assert_int_gt(all.offered, 0);
    ck_assert_int_gt(all.acw_n, 0);
    ck_assert_int_gt(all.repeated, 0);
    ck_assert_int_gt(all.short_abandoned, 0);
    /* +1 then -1 on any base gives the base back */
    for (int i = 0; i < N; i++) {
        m = all;
        metrics_add_call(&m, calls[i], &P, 1);
        metrics_add_call(&m, calls[i], &P, -1);
        ck_assert_int_eq(memcmp(&m, &all, sizeof(m)), 0);
    }
    /* removing in a shuffled order: at every step the sums equal a fresh
     * sum of what is left; at the end, zero */
    int order[N];
    for (int i = 0; i < N; i++)
        order[i] = i;
    for (int i = N - 1; i > 0; i--) {
        int j = (int)rnd(&seed, 0, i);
        int t = order[i];
        order[i] = order[j];
        order[j] = t;
    }
    m = all;
    bool left[N];
    for (int i = 0; i < N; i++)
        left[i] = true;
    for (int s = 0; s < N; s++) {
        metrics_add_call(&m, calls[order[s]], &P, -1);
        left[order[s]] = false;
        if (s % 37 == 0) {
            MetricSums fresh;
            memset(&fresh, 0, sizeof(fresh));
            for (int i = 0; i < N; i++)
                if (left[i])
                    metrics_add_call(&fresh, calls[i], &P, 1);
            ck_assert_int_eq(memcmp(&m, &fresh, sizeof(m)), 0);
        }
    }
    ck_assert_int_eq(memcmp(&m, &zero, sizeof(m)), 0);
}
END_TEST

START_TEST(sums_add_and_subtract)
{
    unsigned seed = 7;
    const CallSummary *a[50], *b[50], *ab[100];
    for (int i = 0; i < 50; i++) {
        ab[i] = a[i] = random_call(&seed);
        ab[50 + i] = b[i] = random_call(&seed);
    }
    MetricSums sa, sb, sab, m;
    sum_of(&sa, a, 50, &P);
    sum_of(&sb, b, 50, &P);
    sum_of(&sab, ab, 100, &P);
    m = sa;
    metrics_add_sums(&m, &sb, 1);
    ck_assert_int_eq(memcmp(&m, &sab, sizeof(m)), 0);
    metrics_add_sums(&m, &sa, -1);
    ck_assert_int_eq(memcmp(&m, &sb, sizeof(m)), 0);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("metrics");
    TCase *tc = tcase_create("core");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, service_level_and_abandons_at_the_boundaries);
    tcase_add_test(tc, thresholds_come_from_the_params);
    tcase_add_test(tc, asa_counts_only_answered_waits);
    tcase_add_test(tc, handle_time_means_and_their_denominators);
    tcase_add_test(tc, aht_is_talk_hold_acw_of_wrapped_calls_only);
    tcase_add_test(tc, transfer_and_handled_independently);
    tcase_add_test(tc, repeat_and_fcr_are_over_answered_contacts);
    tcase_add_test(tc, empty_set_every_rate_undefined);
    tcase_add_test(tc, undefined_rates_when_denominators_are_zero);
    tcase_add_test(tc, never_offered_contributes_nothing);
    tcase_add_test(tc, names_and_positions_agree);
    tcase_add_test(tc, removing_a_call_exactly_undoes_adding_it);
    tcase_add_test(tc, sums_add_and_subtract);
    suite_add_tcase(s, tc);
    return unit_run(s);
}
