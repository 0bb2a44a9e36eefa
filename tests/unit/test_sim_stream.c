/* kic-sim's stream (tools/kic-sim/sim.c): (1) determinism: the same seed
 * gives the same stream byte for byte, another seed another stream, and
 * leaving out the methods kicd stamps itself changes nothing else; (2)
 * every contact's events are in order and consistent: offered first,
 * answered before its holds and the end of the agent's part, abandoned
 * only unanswered, nothing after the end; the wrap-up only for answered
 * contacts, by the answering agent, after the end of their part (which it
 * names in `after`); queue transfers continue as a new contact; agents
 * answer only while available; callbacks are claimed after they exist;
 * (3) live stamps and stopping. TZ=Europe/Amsterdam. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sim.h"
#include "strbuf.h"
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

static SimConfig config(uint64_t seed, const char *from, int days)
{
    KicTime start = tm_of(from);
    return (SimConfig){.seed = seed,
                       .start = start,
                       .end = time_add_local_days(start, days),
                       .stamp_origin = start,
                       .speed = 1.0,
                       .calls_per_year = 115000,
                       .id_prefix = "t",
                       .team = "kic",
                       .untimed = true};
}

static Sim *sim_of(const SimConfig *cfg)
{
    char err[128];
    Sim *s = sim_new(cfg, err, sizeof(err));
    ck_assert_msg(s != NULL, "sim_new: %s", err);
    return s;
}

/* Every field of every action, one line each. only_timed: the actions
 * that carry their own time, without seq (which the others shift), and
 * without the callback flow (which --untimed skip leaves out whole). */
static char *stream_text(const SimConfig *cfg, bool only_timed, size_t *count)
{
    Sim *s = sim_of(cfg);
    StrBuf b = STRBUF_INIT;
    SimAction a;
    size_t n = 0;
    while (sim_next(s, &a)) {
        if (!only_timed || (sim_method_is_timed(a.method) && a.method != SM_CB_REQUESTED)) {
            if (!only_timed)
                strbuf_printf(&b, "%llu %llu %llu ", (unsigned long long)a.seq,
                              (unsigned long long)a.after, (unsigned long long)a.callback_ref);
            strbuf_printf(&b, "%lld %lld %d %s %s\n", (long long)a.t, (long long)a.stamp, a.agent,
                          sim_method_names[a.method], a.params);
            n++;
        }
        sim_action_clear(&a);
    }
    sim_free(s);
    *count = n;
    char *text = strbuf_steal(&b);
    ck_assert_ptr_nonnull(text);
    return text;
}

START_TEST(same_seed_same_stream_other_seed_other_stream)
{
    SimConfig a = config(42, "2025-03-03T00:00:00+01:00", 3);
    size_t na, nb, nc;
    char *s1 = stream_text(&a, false, &na);
    char *s2 = stream_text(&a, false, &nb);
    ck_assert_uint_gt(na, 2000);
    ck_assert_uint_eq(na, nb);
    ck_assert_msg(strcmp(s1, s2) == 0, "the same seed gave two streams");
    SimConfig c = config(43, "2025-03-03T00:00:00+01:00", 3);
    char *s3 = stream_text(&c, false, &nc);
    ck_assert_msg(strcmp(s1, s3) != 0, "seeds 42 and 43 gave the same stream");
    /* the first call already differs (its time, its caller) */
    ck_assert_msg(strncmp(strstr(s1, "call.offered"), strstr(s3, "call.offered"), 200) != 0,
                  "seeds 42 and 43 start alike");
    free(s1);
    free(s2);
    free(s3);
}
END_TEST

START_TEST(leaving_out_untimed_methods_changes_nothing_else)
{
    SimConfig with = config(7, "2025-03-03T00:00:00+01:00", 4);
    SimConfig without = with;
    without.untimed = false;
    size_t n1, n2, all, rest;
    char *a = stream_text(&with, true, &n1);
    char *b = stream_text(&without, true, &n2);
    ck_assert_uint_eq(n1, n2);
    ck_assert_msg(strcmp(a, b) == 0, "the timed stream depends on --untimed");
    free(a);
    free(b);
    char *full = stream_text(&with, false, &all);
    char *part = stream_text(&without, false, &rest);
    ck_assert_uint_eq(rest, n2); /* nothing but timed methods, no callbacks */
    ck_assert_uint_gt(all, rest);
    static const char *const left_out[] = {"agent.state.set", "callback.requested",
                                           "callback.create", "callback.claim",
                                           "callback.complete"};
    for (size_t i = 0; i < sizeof(left_out) / sizeof(left_out[0]); i++) {
        ck_assert_msg(strstr(part, left_out[i]) == NULL, "%s without --untimed", left_out[i]);
        ck_assert_msg(strstr(full, left_out[i]) != NULL, "no %s with --untimed", left_out[i]);
    }
    free(full);
    free(part);
}
END_TEST

/* ---- consistency ---- */

typedef struct LastOp {
    char key[300]; /* the callback: its id, or "#<seq of its create>" */
    uint64_t seq;  /* its latest claim or complete */
} LastOp;

typedef struct CallInfo {
    char *call_id;
    char *queue, *from;
    KicTime offered, answered, part_end, end;
    uint64_t part_end_seq, offered_seq;
    char *agent;
    int nwrapups, holds_open, nholds;
    bool abandoned, transferred, ended;
    char *transfer_target, *transfer_kind;
    KicTime last;
} CallInfo;

static const char *str(json_t *o, const char *k)
{
    const char *v = json_string_value(json_object_get(o, k));
    return v ? v : "";
}

static KicTime at_of(json_t *p, const char *key)
{
    return tm_of(str(p, key));
}

START_TEST(every_contact_is_ordered_and_consistent)
{
    SimConfig cfg = config(3, "2025-03-24T00:00:00+01:00", 14); /* across the DST change */
    cfg.summer_peak = true;
    Sim *s = sim_of(&cfg);
    StrMap calls = STRMAP_INIT, event_ids = STRMAP_INIT, requested = STRMAP_INIT,
           creates = STRMAP_INIT, last_op = STRMAP_INIT;
    int nagents = sim_agent_count(s);
    char **state = calloc((size_t)nagents, sizeof(*state)); /* last chosen state */
    SimAction a;
    uint64_t expect_seq = 1;
    KicTime last_t = cfg.start, last_stamp = cfg.start;
    size_t answered = 0, wrapups = 0, children = 0, claims = 0, created = 0, ivr = 0;
    size_t attempts_followed = 0;
    while (sim_next(s, &a)) {
        ck_assert_uint_eq(a.seq, expect_seq++);
        ck_assert_int_ge(a.t, last_t);
        ck_assert_int_ge(a.stamp, last_stamp);
        ck_assert_int_lt(a.t, cfg.end);
        ck_assert_int_eq(a.stamp, a.t); /* bulk: stamps are model time */
        last_t = a.t;
        last_stamp = a.stamp;
        ck_assert_int_eq(sim_method_is_bridge(a.method), a.agent == SIM_BRIDGE);
        json_error_t jerr;
        json_t *p = json_loads(a.params, 0, &jerr);
        ck_assert_msg(json_is_object(p), "params not an object: %s", a.params);
        if (json_object_get(p, "at"))
            ck_assert_int_eq(at_of(p, "at"), a.stamp - a.stamp % 1000);
        if (a.agent == SIM_BRIDGE && a.method != SM_CB_REQUESTED) {
            const char *eid = str(p, "event_id");
            ck_assert_msg(!strmap_get(&event_ids, eid), "event id %s twice", eid);
            strmap_put(&event_ids, strdup(eid), (void *)1);
            const char *id = str(p, "call_id");
            CallInfo *c = strmap_get(&calls, id);
            if (a.method == SM_OFFERED) {
                ck_assert_msg(c == NULL, "%s offered twice", id);
                c = calloc(1, sizeof(*c));
                c->call_id = strdup(id);
                c->queue = strdup(str(p, "queue"));
                c->offered = a.stamp;
                c->offered_seq = a.seq;
                c->answered = c->part_end = c->end = KIC_TIME_NONE;
                strmap_put(&calls, c->call_id, c);
                ck_assert_msg(*str(p, "caller"), "%s has no caller", id);
                const char *from = str(p, "transferred_from");
                if (*from) {
                    CallInfo *f = strmap_get(&calls, from);
                    ck_assert_msg(f && f->transferred && strcmp(f->transfer_kind, "queue") == 0 &&
                                      strcmp(f->transfer_target, c->queue) == 0 &&
                                      f->part_end == a.stamp && !f->ended,
                                  "%s: transferred_from %s is not a transfer into this queue", id, from);
                    c->from = strdup(from);
                    children++;
                }
            } else {
                ck_assert_msg(c != NULL, "%s before its offer", sim_method_names[a.method]);
                ck_assert_msg(!c->ended && !c->abandoned, "%s: %s after the end", id,
                              sim_method_names[a.method]);
                switch (a.method) {
                case SM_ANSWERED:
                    ck_assert_msg(c->answered == KIC_TIME_NONE, "%s answered twice", id);
                    c->answered = a.stamp;
                    c->agent = strdup(str(p, "agent"));
                    answered++;
                    {
                        /* only an available agent answers */
                        int i;
                        for (i = 0; i < nagents; i++)
                            if (strcmp(sim_agent_id(s, i), c->agent) == 0)
                                break;
                        ck_assert_int_lt(i, nagents);
                        ck_assert_msg(state[i] && strcmp(state[i], "available") == 0,
                                      "%s answered %s while %s", c->agent, id,
                                      state[i] ? state[i] : "never logged in");
                    }
                    break;
                case SM_HELD:
                case SM_RESUMED:
                    ck_assert_msg(c->answered != KIC_TIME_NONE && c->part_end == KIC_TIME_NONE,
                                  "%s: hold outside the agent's part", id);
                    ck_assert_int_eq(c->holds_open, a.method == SM_HELD ? 0 : 1);
                    c->holds_open = a.method == SM_HELD;
                    c->nholds += a.method == SM_HELD;
                    break;
                case SM_TRANSFERRED:
                    ck_assert_msg(c->answered != KIC_TIME_NONE && !c->transferred, "%s: bad transfer", id);
                    ck_assert_str_eq(str(p, "agent"), c->agent);
                    ck_assert_int_eq(c->holds_open, 0);
                    c->transferred = true;
                    c->transfer_target = strdup(str(p, "target"));
                    c->transfer_kind = strdup(str(p, "target_kind"));
                    c->part_end = a.stamp;
                    c->part_end_seq = a.seq;
                    if (c->from) /* a second contact goes no further than a team */
                        ck_assert_str_ne(c->transfer_kind, "queue");
                    break;
                case SM_ABANDONED:
                    ck_assert_msg(c->answered == KIC_TIME_NONE, "%s abandoned after the answer", id);
                    c->abandoned = true;
                    c->end = a.stamp;
                    break;
                case SM_ENDED:
                    ck_assert_msg(c->answered != KIC_TIME_NONE, "%s ended unanswered", id);
                    ck_assert_int_eq(c->holds_open, 0);
                    /* `by` is the agent's part ending; a transferred call just ends */
                    ck_assert_int_eq(json_object_get(p, "by") != NULL, !c->transferred);
                    if (!c->transferred) {
                        c->part_end = a.stamp;
                        c->part_end_seq = a.seq;
                    }
                    c->ended = true;
                    c->end = a.stamp;
                    break;
                default: ck_abort_msg("unexpected %s", sim_method_names[a.method]);
                }
            }
            c->last = a.stamp;
        } else if (a.method == SM_CB_REQUESTED) {
            ck_assert_msg(*str(p, "caller") == '+', "a callback needs a number");
            ck_assert_int_gt(at_of(p, "due_by"), at_of(p, "at"));
            char key[24];
            snprintf(key, sizeof(key), "%llu", (unsigned long long)a.seq);
            strmap_put(&requested, strdup(str(p, "callback_id")), strdup(key));
            ivr++;
        } else if (a.method == SM_WRAPUP) {
            CallInfo *c = strmap_get(&calls, str(p, "call_id"));
            ck_assert_msg(c && c->answered != KIC_TIME_NONE, "wrap-up of an unanswered contact");
            ck_assert_str_eq(sim_agent_id(s, a.agent), c->agent);
            ck_assert_msg(c->part_end != KIC_TIME_NONE, "wrap-up before the end of the part");
            ck_assert_uint_eq(a.after, c->part_end_seq);
            ck_assert_int_ge(at_of(p, "at"), c->part_end - c->part_end % 1000);
            ck_assert_int_ge(at_of(p, "at"), c->answered);
            ck_assert_int_eq(++c->nwrapups, 1);
            ck_assert(json_is_boolean(json_object_get(p, "resolved")));
            wrapups++;
        } else if (a.method == SM_STATE) {
            free(state[a.agent]);
            state[a.agent] = strdup(str(p, "state"));
        } else if (a.method == SM_CB_CREATE) {
            CallInfo *c = strmap_get(&calls, str(p, "call_id"));
            ck_assert_msg(c && c->ended && !c->transferred, "a callback created for a contact not over");
            ck_assert_uint_eq(a.after, c->part_end_seq);
            ck_assert_str_eq(sim_agent_id(s, a.agent), c->agent);
            ck_assert_str_eq(str(p, "team"), "kic");
            char key[24];
            snprintf(key, sizeof(key), "%llu", (unsigned long long)a.seq);
            strmap_put(&creates, strdup(key), (void *)1);
            created++;
        } else if (a.method == SM_CB_CLAIM || a.method == SM_CB_COMPLETE) {
            if (a.callback_ref) {
                char key[24];
                snprintf(key, sizeof(key), "%llu", (unsigned long long)a.callback_ref);
                ck_assert_msg(strmap_get(&creates, key), "a claim of callback #%s never created", key);
                ck_assert_ptr_null(json_object_get(p, "callback_id"));
            } else {
                const char *req = strmap_get(&requested, str(p, "callback_id"));
                ck_assert_msg(req, "a claim of %s never requested", str(p, "callback_id"));
                ck_assert_uint_eq(a.after, strtoull(req, NULL, 10));
            }
            /* each attempt follows the previous one on the same callback, whoever made it */
            char cbkey[300];
            if (a.callback_ref)
                snprintf(cbkey, sizeof(cbkey), "#%llu", (unsigned long long)a.callback_ref);
            else
                snprintf(cbkey, sizeof(cbkey), "%s", str(p, "callback_id"));
            LastOp *prev = strmap_get(&last_op, cbkey);
            ck_assert_uint_eq(a.follows, prev ? prev->seq : 0);
            if (!prev) {
                prev = calloc(1, sizeof(*prev));
                snprintf(prev->key, sizeof(prev->key), "%s", cbkey);
                strmap_put(&last_op, prev->key, prev);
            }
            prev->seq = a.seq;
            attempts_followed += a.follows != 0;
            if (a.method == SM_CB_COMPLETE) {
                const char *o = str(p, "outcome");
                ck_assert(strcmp(o, "reached") == 0 || strcmp(o, "no_answer") == 0 ||
                          strcmp(o, "cancelled") == 0);
            } else {
                claims++;
            }
        }
        json_decref(p);
        sim_action_clear(&a);
    }
    /* what is still going at the horizon started shortly before it */
    size_t pos = 0, open = 0;
    const char *key;
    void *value;
    while (strmap_next(&calls, &pos, &key, &value)) {
        CallInfo *c = value;
        bool over = c->abandoned || c->ended;
        if (!over || (c->answered != KIC_TIME_NONE && c->nwrapups == 0)) {
            open++;
            ck_assert_msg(cfg.end - c->last < 3 * 3600 * (KicTime)KIC_USEC,
                          "%s left unfinished well before the end", c->call_id);
        }
        free(c->call_id);
        free(c->queue);
        free(c->from);
        free(c->agent);
        free(c->transfer_target);
        free(c->transfer_kind);
        free(c);
    }
    ck_assert_uint_lt(open, 30);
    ck_assert_uint_gt(answered, 3000);
    ck_assert_uint_ge(wrapups + open, answered);
    ck_assert_uint_gt(children, 10);
    ck_assert_uint_gt(ivr, 5);
    ck_assert_uint_gt(created, 50);
    ck_assert_uint_gt(claims, created);
    ck_assert_uint_gt(attempts_followed, claims); /* every complete, and the later claims */
    const SimStats *st = sim_stats(s);
    ck_assert_uint_eq(st->answered, answered);
    ck_assert_uint_eq(st->wrapups, wrapups);
    for (int i = 0; i < nagents; i++)
        free(state[i]);
    free(state);
    pos = 0;
    while (strmap_next(&event_ids, &pos, &key, &value))
        free((char *)key);
    pos = 0;
    while (strmap_next(&requested, &pos, &key, &value)) {
        free((char *)key);
        free(value);
    }
    pos = 0;
    while (strmap_next(&creates, &pos, &key, &value))
        free((char *)key);
    strmap_free(&calls);
    strmap_free(&event_ids);
    strmap_free(&requested);
    strmap_free(&creates);
    pos = 0;
    while (strmap_next(&last_op, &pos, &key, &value))
        free(value);
    strmap_free(&last_op);
    sim_free(s);
}
END_TEST

START_TEST(live_stamps_run_slower_and_stop_logs_agents_off)
{
    KicTime model = tm_of("2025-03-04T08:00:00+01:00");
    KicTime wall = tm_of("2026-11-22T10:00:00+01:00");
    SimConfig cfg = config(5, "2025-03-04T08:00:00+01:00", 1);
    cfg.stamp_origin = wall;
    cfg.speed = 60;
    cfg.end = KIC_TIME_NONE;
    Sim *s = sim_of(&cfg);
    SimAction a;
    size_t n = 0;
    int on_duty = 0;
    bool *on = calloc((size_t)sim_agent_count(s), sizeof(*on));
    /* two model hours: two real minutes */
    while (sim_next(s, &a)) {
        ck_assert_int_ge(a.t, model);
        ck_assert_int_eq(a.stamp, wall + (KicTime)((double)(a.t - model) / 60.0));
        if (a.method == SM_STATE) {
            bool now_on = strstr(a.params, "\"offline\"") == NULL;
            on_duty += (int)now_on - (int)on[a.agent];
            on[a.agent] = now_on;
        }
        bool past = a.t >= model + 2 * 3600 * (KicTime)KIC_USEC;
        sim_action_clear(&a);
        n++;
        if (past)
            break;
    }
    ck_assert_uint_gt(n, 50);
    ck_assert_int_ge(on_duty, 5); /* a Tuesday morning */
    KicTime stop = sim_time(s);
    sim_stop(s, stop);
    int offline = 0;
    while (sim_next(s, &a)) {
        ck_assert_int_le(a.t, stop);
        if (a.method == SM_STATE && strstr(a.params, "einde simulatie")) {
            ck_assert_ptr_nonnull(strstr(a.params, "\"offline\""));
            ck_assert(on[a.agent]);
            offline++;
        } else if (a.method == SM_STATE) { /* emitted at the stop's instant, before it */
            bool now_on = strstr(a.params, "\"offline\"") == NULL;
            on_duty += (int)now_on - (int)on[a.agent];
            on[a.agent] = now_on;
        }
        sim_action_clear(&a);
    }
    ck_assert_int_eq(offline, on_duty);
    ck_assert(!sim_next(s, &a));
    free(on);
    sim_free(s);
}
END_TEST

START_TEST(bad_configs_are_refused)
{
    char err[128];
    SimConfig cfg = config(1, "2025-03-03T00:00:00+01:00", 1);
    cfg.calls_per_year = 0;
    ck_assert_ptr_null(sim_new(&cfg, err, sizeof(err)));
    cfg = config(1, "2025-03-03T00:00:00+01:00", 1);
    cfg.end = cfg.start - 1;
    ck_assert_ptr_null(sim_new(&cfg, err, sizeof(err)));
    cfg = config(1, "2025-03-03T00:00:00+01:00", 1);
    cfg.id_prefix = "";
    ck_assert_ptr_null(sim_new(&cfg, err, sizeof(err)));
    /* agent ids come with their count */
    static const char *const ids[] = {"a.jansen", "b.devries"};
    cfg = config(1, "2025-03-03T00:00:00+01:00", 1);
    cfg.agent_ids = ids;
    ck_assert_ptr_null(sim_new(&cfg, err, sizeof(err)));
    cfg.agents = 2;
    Sim *s = sim_of(&cfg);
    ck_assert_int_eq(sim_agent_count(s), 2);
    ck_assert_str_eq(sim_agent_id(s, 1), "b.devries");
    sim_free(s);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("sim_stream");
    TCase *tc = tcase_create("core");
    tcase_add_checked_fixture(tc, setup, NULL);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, same_seed_same_stream_other_seed_other_stream);
    tcase_add_test(tc, leaving_out_untimed_methods_changes_nothing_else);
    tcase_add_test(tc, every_contact_is_ordered_and_consistent);
    tcase_add_test(tc, live_stamps_run_slower_and_stop_logs_agents_off);
    tcase_add_test(tc, bad_configs_are_refused);
    suite_add_tcase(s, tc);
    return unit_run(s);
}
