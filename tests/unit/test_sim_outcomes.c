/* kic-sim's outcomes over long runs, counted from the stream itself:
 * about 12% of contacts abandoned, and more when waits are long (the
 * summer peak, too few agents); the transfer share of each queue within
 * 10-30% (household care about 10%), mostly to care teams, some into
 * another queue; wrap-ups resolved far more often when not transferred;
 * repeat callers and withheld numbers in realistic shares; categories
 * and caller types from their lists. TZ=Europe/Amsterdam. */
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

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

typedef struct Outcomes {
    double calls[SIM_MAX_QUEUES]; /* inbound calls per queue (the model's count) */
    double offered[SIM_MAX_QUEUES], answered[SIM_MAX_QUEUES], transferred[SIM_MAX_QUEUES];
    double to_queue, to_team, to_external;
    double contacts, abandoned, short_abandoned, withheld;
    double wait_sum, waits;
    double resolved_plain, wrapped_plain, resolved_xfer, wrapped_xfer;
    double ivr_callbacks;
    double bad_category, bad_caller_type;
    uint64_t repeats;
} Outcomes;

typedef struct Contact {
    int queue;
    KicTime offered;
    bool transferred;
} Contact;

static int queue_index(const char *name)
{
    const SimModel *m = &sim_model_default;
    for (int q = 0; q < m->nqueues; q++)
        if (strcmp(m->queues[q].name, name) == 0)
            return q;
    ck_abort_msg("unknown queue %s", name);
    return -1;
}

static bool in_list(const char *const *list, const char *s)
{
    for (; *list; list++)
        if (strcmp(*list, s) == 0)
            return true;
    return false;
}

static void run(const SimConfig *cfg, Outcomes *o)
{
    memset(o, 0, sizeof(*o));
    char err[128];
    Sim *s = sim_new(cfg, err, sizeof(err));
    ck_assert_msg(s != NULL, "%s", err);
    StrMap contacts = STRMAP_INIT;
    SimAction a;
    while (sim_next(s, &a)) {
        if (a.method != SM_OFFERED && a.method != SM_ANSWERED && a.method != SM_ABANDONED &&
            a.method != SM_TRANSFERRED && a.method != SM_WRAPUP && a.method != SM_CB_REQUESTED) {
            sim_action_clear(&a);
            continue;
        }
        json_t *p = json_loads(a.params, 0, NULL);
        ck_assert_ptr_nonnull(p);
        const char *id = json_string_value(json_object_get(p, "call_id"));
        Contact *c = id ? strmap_get(&contacts, id) : NULL;
        switch (a.method) {
        case SM_OFFERED: {
            c = calloc(1, sizeof(*c));
            c->queue = queue_index(json_string_value(json_object_get(p, "queue")));
            c->offered = a.t;
            strmap_put(&contacts, strdup(id), c);
            o->offered[c->queue]++;
            o->contacts++;
            if (strcmp(json_string_value(json_object_get(p, "caller")), "anonymous") == 0)
                o->withheld++;
            break;
        }
        case SM_ANSWERED:
            o->answered[c->queue]++;
            o->wait_sum += time_diff_s(c->offered, a.t);
            o->waits++;
            break;
        case SM_ABANDONED:
            o->abandoned++;
            if (time_diff_s(c->offered, a.t) < 5)
                o->short_abandoned++;
            break;
        case SM_TRANSFERRED: {
            c->transferred = true;
            o->transferred[c->queue]++;
            const char *kind = json_string_value(json_object_get(p, "target_kind"));
            if (strcmp(kind, "queue") == 0)
                o->to_queue++;
            else if (strcmp(kind, "care_team") == 0)
                o->to_team++;
            else
                o->to_external++;
            break;
        }
        case SM_WRAPUP: {
            bool resolved = json_is_true(json_object_get(p, "resolved"));
            if (c->transferred) {
                o->wrapped_xfer++;
                o->resolved_xfer += resolved;
            } else {
                o->wrapped_plain++;
                o->resolved_plain += resolved;
            }
            o->bad_category += !in_list(sim_category_names,
                                        json_string_value(json_object_get(p, "category")));
            o->bad_caller_type += !in_list(sim_caller_type_names,
                                           json_string_value(json_object_get(p, "caller_type")));
            break;
        }
        case SM_CB_REQUESTED: o->ivr_callbacks++; break;
        default: break;
        }
        json_decref(p);
        sim_action_clear(&a);
    }
    o->repeats = sim_stats(s)->repeats;
    for (int q = 0; q < SIM_MAX_QUEUES; q++)
        o->calls[q] = (double)sim_stats(s)->queue[q].calls;
    size_t pos = 0;
    const char *key;
    void *value;
    while (strmap_next(&contacts, &pos, &key, &value)) {
        free((char *)key);
        free(value);
    }
    strmap_free(&contacts);
    sim_free(s);
}

static SimConfig config(uint64_t seed, const char *from, int days)
{
    KicTime start = tm_of(from);
    return (SimConfig){.seed = seed,
                       .start = start,
                       .end = time_add_local_days(start, days),
                       .stamp_origin = start,
                       .speed = 1.0,
                       .calls_per_year = 115000,
                       .id_prefix = "o",
                       .team = "kic",
                       .untimed = true};
}

static double sum(const double *v, int n)
{
    double s = 0;
    for (int i = 0; i < n; i++)
        s += v[i];
    return s;
}

START_TEST(a_year_abandons_about_twelve_percent_and_transfers_per_queue)
{
    for (uint64_t seed = 1; seed <= 2; seed++) {
        SimConfig cfg = config(seed * 17, "2025-01-01T00:00:00+01:00", 365);
        Outcomes o;
        run(&cfg, &o);
        double abandon = o.abandoned / o.contacts;
        ck_assert_msg(abandon > 0.10 && abandon < 0.14, "abandoned %.3f", abandon);
        /* misdials and instant hang-ups exist, but are few */
        ck_assert_double_gt(o.short_abandoned, 0);
        ck_assert_double_lt(o.short_abandoned / o.contacts, 0.04);
        const SimModel *m = &sim_model_default;
        for (int q = 0; q < m->nqueues; q++) {
            double share = o.transferred[q] / o.answered[q];
            ck_assert_msg(share >= 0.09 && share <= 0.31, "%s transfers %.3f", m->queues[q].name, share);
            ck_assert_msg(fabs(share - m->queues[q].transfer_p) < 0.02, "%s transfers %.3f, model %.2f",
                          m->queues[q].name, share, m->queues[q].transfer_p);
        }
        double answered = sum(o.answered, m->nqueues), transferred = sum(o.transferred, m->nqueues);
        /* mostly to care teams, some into another queue, a few outside */
        ck_assert_double_gt(o.to_team, 0.6 * transferred);
        ck_assert_double_gt(o.to_queue, 0.08 * transferred);
        ck_assert_double_gt(o.to_external, 0);
        double independent = 1 - transferred / answered;
        ck_assert_msg(independent > 0.75 && independent < 0.86, "handled independently %.3f", independent);
        /* resolved far more often when the KIC kept the contact */
        ck_assert_double_gt(o.resolved_plain / o.wrapped_plain, 0.70);
        ck_assert_double_lt(o.resolved_xfer / o.wrapped_xfer, 0.30);
        ck_assert_double_eq(o.bad_category, 0);
        ck_assert_double_eq(o.bad_caller_type, 0);
        double repeats = (double)o.repeats / o.contacts;
        ck_assert_msg(repeats > 0.05 && repeats < 0.25, "repeat contacts %.3f", repeats);
        ck_assert_double_eq_tol(o.withheld / o.contacts, 0.04, 0.01);
        /* service: an average wait of well under a minute */
        ck_assert_double_lt(o.wait_sum / o.waits, 60);
    }
}
END_TEST

START_TEST(the_summer_peak_brings_longer_waits_and_more_callbacks)
{
    SimConfig cfg = config(5, "2025-07-01T00:00:00+02:00", 31);
    Outcomes plain, summer;
    run(&cfg, &plain);
    cfg.summer_peak = true;
    run(&cfg, &summer);
    /* more household-care calls (holiday staff at the clients' homes);
     * more of them take the IVR's callback, so contacts grow less */
    ck_assert_double_eq_tol(summer.calls[0] / plain.calls[0], 1.4, 0.08);
    ck_assert_double_gt(summer.offered[0], 1.1 * plain.offered[0]);
    ck_assert_double_eq_tol(summer.calls[1] / plain.calls[1], 1.0, 0.08);
    ck_assert_double_gt(summer.wait_sum / summer.waits, 1.2 * plain.wait_sum / plain.waits);
    ck_assert_double_gt(summer.abandoned / summer.contacts, plain.abandoned / plain.contacts + 0.02);
    ck_assert_double_gt(summer.ivr_callbacks, 2 * plain.ivr_callbacks);
    /* the same month of another year without the option is the plain one */
    cfg = config(5, "2025-03-01T00:00:00+01:00", 31);
    Outcomes march, march_summer;
    run(&cfg, &march);
    cfg.summer_peak = true;
    run(&cfg, &march_summer);
    ck_assert_double_eq(march.contacts, march_summer.contacts);
}
END_TEST

START_TEST(too_few_agents_means_long_waits_and_many_abandons)
{
    SimConfig cfg = config(9, "2025-03-03T00:00:00+01:00", 14);
    Outcomes enough, few;
    run(&cfg, &enough);
    cfg.agents = 5;
    run(&cfg, &few);
    /* the impatient leave, so those answered waited "only" twice as long */
    ck_assert_double_gt(few.wait_sum / few.waits, 2 * enough.wait_sum / enough.waits);
    ck_assert_double_gt(few.abandoned / few.contacts, 0.25);
    ck_assert_double_gt(few.ivr_callbacks, 3 * enough.ivr_callbacks);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("sim_outcomes");
    TCase *tc = tcase_create("core");
    tcase_add_checked_fixture(tc, setup, NULL);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, a_year_abandons_about_twelve_percent_and_transfers_per_queue);
    tcase_add_test(tc, the_summer_peak_brings_longer_waits_and_more_callbacks);
    tcase_add_test(tc, too_few_agents_means_long_waits_and_many_abandons);
    suite_add_tcase(s, tc);
    return unit_run(s);
}
