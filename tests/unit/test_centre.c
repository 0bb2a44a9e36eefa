/* The live centre (lib/centre.c): (1) whatever the order and duplication
 * of events, today's sums, waiting lists and agent states equal a
 * recomputation from scratch written here, and two centres fed the same
 * events in different orders agree exactly; (2) duplicates change
 * nothing; (3) repeat contacts and their 7-local-day window (DST
 * included); (4) agent states, transitions and desktop notices;
 * (5) wrap-up checks; (6) rolling the day and eviction; (7) waiting and
 * longest wait. TZ=Europe/Amsterdam. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "centre.h"
#include "strmap.h"
#include "unit.h"

#define SEC(x) ((int64_t)(x) * KIC_USEC)
#define MIN(x) SEC((int64_t)(x) * 60)
#define HOUR(x) SEC((int64_t)(x) * 3600)
#define NONE KIC_TIME_NONE

#define K1 "1111111111111111111111111111111111111111111111111111111111111111"
#define K2 "2222222222222222222222222222222222222222222222222222222222222222"
#define K3 "3333333333333333333333333333333333333333333333333333333333333333"

static const CentreConfig CFG = {{SEC(20), SEC(5)}, 7, 8, SEC(120), 24 * 3600 * SEC(1)};

static Effects fx;
static Centre *C;
static int auto_id;

static KicTime tm(const char *s)
{
    KicTime t;
    ck_assert_msg(time_parse_rfc3339(s, &t), "bad time %s", s);
    return t;
}

/* The stored 15-minute sums as a writer keeps them: every delta the
 * centre hands out, added to its block. */
typedef struct Store {
    RollupDelta rows[512];
    size_t n;
} Store;
static Store store;

static void setup(void)
{
    setenv("TZ", "Europe/Amsterdam", 1);
    tzset();
    memset(&fx, 0, sizeof(fx));
    C = NULL;
    auto_id = 0;
    memset(&store, 0, sizeof(store));
}

static void teardown(void)
{
    centre_free(C);
    C = NULL;
    effects_free(&fx);
}

/* ---- events ---- */

typedef struct EvSpec {
    EventType type;
    const char *id; /* NULL: a fresh automatic id */
    const char *call;
    KicTime at;
    const char *agent;
    const char *target;
    TargetKind kind;
    TransferMode mode;
    EndedBy by;
    const char *queue;
    const char *key;
    bool withheld;
    Direction direction;
    const char *from;
    const char *callback_id;
} EvSpec;

#define EV(type_, call_, at_, ...) \
    ((EvSpec){.type = (type_), .call = (call_), .at = (at_), __VA_ARGS__})

static Event *ev_new(const EvSpec *s)
{
    char idbuf[32];
    const char *id = s->id;
    if (!id) {
        snprintf(idbuf, sizeof(idbuf), "auto-%d", ++auto_id);
        id = idbuf;
    }
    Event f;
    memset(&f, 0, sizeof(f));
    f.type = s->type;
    f.at = s->at;
    f.caller_withheld = s->withheld;
    f.direction = s->direction;
    f.target_kind = s->kind;
    f.mode = s->mode;
    f.by = s->by;
    f.due_by = NONE;
    EventText t = {id, s->call, s->queue, NULL, s->from, s->callback_id, s->agent, s->target,
                   s->key};
    Event *e = event_create(&f, &t);
    ck_assert_ptr_nonnull(e);
    return e;
}

static Event *ev_clone(const Event *e)
{
    EventText t = {e->event_id, e->call_id, e->queue, e->location, e->transferred_from,
                   e->callback_id, e->agent, e->target, e->caller_key};
    Event *c = event_create(e, &t);
    ck_assert_ptr_nonnull(c);
    return c;
}

/* A block's queue as the store keeps it: a key's queue lives only as long
 * as its centre, and the store outlives centres (as PostgreSQL does). */
static const char *stored_name(const char *queue)
{
    static StrMap names = STRMAP_INIT; /* kept for the whole run */
    char *kept = strmap_get(&names, queue);
    if (!kept) {
        kept = strdup(queue);
        ck_assert_ptr_nonnull(kept);
        strmap_put(&names, kept, kept);
    }
    return kept;
}

static RollupDelta *store_block(const RollupKey *key)
{
    for (size_t i = 0; i < store.n; i++)
        if (rollup_key_equal(&store.rows[i].key, key))
            return &store.rows[i];
    ck_assert_uint_lt(store.n, 512);
    RollupDelta *d = &store.rows[store.n++];
    memset(d, 0, sizeof(*d));
    d->key = *key;
    d->key.queue = stored_name(key->queue);
    return d;
}

static void store_take(const Effects *f)
{
    for (size_t i = 0; i < f->ndeltas; i++)
        metrics_add_sums(&store_block(&f->deltas[i].key)->sums, &f->deltas[i].sums, 1);
}

static ApplyResult apply_ev(Centre *c, Event *e, KicTime now, bool live)
{
    effects_reset(&fx);
    ApplyResult r = centre_apply_event(c, e, NULL, now, live, &fx);
    store_take(&fx);
    effects_written(&fx);
    return r;
}

/* Every stored block holds exactly what its calls contribute, as
 * metrics_add_call gives it for the (recomputed) summaries. */
static void check_stored_sums(const CallSummary *sums, size_t n, const char *which)
{
    Store want = {0};
    Store got = store;
    store = want;
    for (size_t i = 0; i < n; i++) {
        if (!sums[i].offered)
            continue;
        RollupKey key = {0};
        key.bucket = rollup_bucket(sums[i].offered_at);
        key.queue = sums[i].queue ? sums[i].queue : "";
        key.channel = sums[i].channel;
        key.direction = sums[i].direction;
        metrics_add_call(&store_block(&key)->sums, &sums[i], &CFG.metric, 1);
    }
    want = store;
    store = got;
    static const MetricSums zero;
    for (size_t i = 0; i < got.n; i++) {
        const RollupDelta *g = &got.rows[i];
        const RollupDelta *w = NULL;
        for (size_t k = 0; k < want.n; k++)
            if (rollup_key_equal(&want.rows[k].key, &g->key))
                w = &want.rows[k];
        const MetricSums *ws = w ? &w->sums : &zero;
        for (size_t m = 0; metric_sum_names[m]; m++)
            ck_assert_msg(metrics_sum_at(&g->sums, m) == metrics_sum_at(ws, m),
                          "%s: block %s/%lld: %s stored %lld, calls give %lld", which, g->key.queue,
                          (long long)g->key.bucket, metric_sum_names[m],
                          (long long)metrics_sum_at(&g->sums, m), (long long)metrics_sum_at(ws, m));
    }
    for (size_t k = 0; k < want.n; k++) {
        bool found = false;
        for (size_t i = 0; i < got.n; i++)
            found |= rollup_key_equal(&want.rows[k].key, &got.rows[i].key);
        ck_assert_msg(found || memcmp(&want.rows[k].sums, &zero, sizeof(zero)) == 0,
                      "%s: block %s never stored", which, want.rows[k].key.queue);
    }
}

/* Applies a new event (asserting it is new), live, at `now`. */
static void give(EvSpec s, KicTime now)
{
    ck_assert_int_eq(apply_ev(C, ev_new(&s), now, true), APPLY_NEW);
}

static void offer(const char *call, KicTime at, const char *queue, const char *key)
{
    give(EV(EV_OFFERED, call, at, .queue = queue, .key = key), at);
}

static void answer(const char *call, KicTime at, const char *agent)
{
    give(EV(EV_ANSWERED, call, at, .agent = agent), at);
}

static void end_call(const char *call, KicTime at)
{
    give(EV(EV_ENDED, call, at, .by = BY_CALLER), at);
}

/* The most common call of these tests: offered in queue q at t, answered
 * by agent 10 s later, ended at t + 100 s. */
static void talked(const char *call, const char *agent, const char *key, KicTime t)
{
    offer(call, t, "q", key);
    answer(call, t + SEC(10), agent);
    end_call(call, t + SEC(100));
}

static WrapupResult wrap(const char *call, const char *agent, KicTime at, bool resolved,
                         int64_t *acw)
{
    WrapupResult r = centre_check_wrapup(C, call, agent, KIC_TIME_NONE, at);
    if (r != WRAPUP_OK)
        return r;
    Wrapup *w = wrapup_new(agent, "cat", at, resolved, FU_NONE, CT_CLIENT);
    ck_assert_ptr_nonnull(w);
    int64_t dummy;
    effects_reset(&fx);
    centre_apply_wrapup(C, call, w, at, acw ? acw : &dummy, &fx);
    effects_written(&fx);
    return WRAPUP_OK;
}

static void set_state(const char *agent, AgentState s, const char *reason, KicTime at)
{
    effects_reset(&fx);
    centre_set_agent_state(C, agent, s, reason, at, &fx);
}

static const CallSummary *sum_of(const char *call)
{
    Call *c = centre_call(C, call);
    ck_assert_msg(c != NULL, "call %s not in memory", call);
    return &c->sum;
}

static bool repeated(const char *call)
{
    Call *c = centre_call(C, call);
    ck_assert_msg(c != NULL, "call %s not in memory", call);
    ck_assert_msg(c->followed_by_repeat == c->sum.followed_by_repeat,
                  "call %s: flag and summary disagree", call);
    return c->sum.followed_by_repeat;
}

static void snap(KicTime now, CentreSnapshot *s)
{
    ck_assert(centre_snapshot(C, now, s));
}

static const QueueSnapshot *snap_queue(const CentreSnapshot *s, const char *q)
{
    for (size_t i = 0; i < s->nqueues; i++)
        if (strcmp(s->queues[i].queue, q) == 0)
            return &s->queues[i];
    return NULL;
}

/* ---- comparing ---- */

static bool str_same(const char *a, const char *b)
{
    return a == b || (a && b && strcmp(a, b) == 0);
}

#define PS(s) ((s) ? (s) : "(null)")
#define CMP_I(f)                                                                                \
    do {                                                                                        \
        if (a->f != b->f) {                                                                     \
            snprintf(why, wsize, "%s: %lld vs %lld", #f, (long long)a->f, (long long)b->f);    \
            return false;                                                                       \
        }                                                                                       \
    } while (0)
#define CMP_S(f)                                                                                \
    do {                                                                                        \
        if (!str_same(a->f, b->f)) {                                                            \
            snprintf(why, wsize, "%s: %s vs %s", #f, PS(a->f), PS(b->f));                      \
            return false;                                                                       \
        }                                                                                       \
    } while (0)

static bool wrapup_same(const Wrapup *a, const Wrapup *b)
{
    if (!a || !b)
        return a == b;
    return str_same(a->agent, b->agent) && a->at == b->at && a->resolved == b->resolved;
}

static bool summary_same(const CallSummary *a, const CallSummary *b, char *why, size_t wsize)
{
    CMP_S(call_id);
    CMP_I(offered);
    CMP_I(offered_at);
    CMP_S(queue);
    CMP_S(transferred_from);
    CMP_S(caller_key);
    CMP_I(caller_withheld);
    CMP_I(direction);
    CMP_I(answered);
    CMP_I(answered_at);
    CMP_S(agent);
    CMP_I(abandoned);
    CMP_I(abandoned_at);
    CMP_I(ended);
    CMP_I(ended_at);
    CMP_I(transferred);
    CMP_I(transferred_at);
    CMP_S(transfer_target);
    CMP_I(transfer_kind);
    CMP_I(wait_us);
    CMP_I(part_ended);
    CMP_I(part_end_at);
    CMP_I(talk_us);
    CMP_I(hold_us);
    CMP_I(wrapped);
    CMP_I(wrapped_at);
    CMP_I(acw_us);
    CMP_I(resolved);
    CMP_I(followed_by_repeat);
    CMP_I(complete);
    CMP_I(nevents);
    CMP_I(nlegs);
    for (int i = 0; i < a->nlegs && i < CALL_MAX_LEGS; i++) {
        const CallLeg *x = &a->legs[i], *y = &b->legs[i];
        if (!str_same(x->agent, y->agent) || x->answered_at != y->answered_at ||
            x->end_at != y->end_at || x->by_transfer != y->by_transfer ||
            x->hold_us != y->hold_us || x->held_since != y->held_since ||
            !wrapup_same(x->wrapup, y->wrapup)) {
            snprintf(why, wsize, "legs[%d]", i);
            return false;
        }
    }
    return true;
}

static bool double_same(double a, double b)
{
    return (isnan(a) && isnan(b)) || a == b;
}

static void assert_queue_snapshots_equal(const QueueSnapshot *a, const QueueSnapshot *b,
                                         const char *what)
{
    ck_assert_msg(str_same(a->queue, b->queue), "%s: queue %s vs %s", what, PS(a->queue),
                  PS(b->queue));
    ck_assert_msg(a->waiting == b->waiting, "%s: waiting %d vs %d", what, a->waiting, b->waiting);
    ck_assert_msg(a->longest_wait_s == b->longest_wait_s, "%s: longest %f vs %f", what,
                  a->longest_wait_s, b->longest_wait_s);
    for (int s = 0; s < AGENT_STATE_COUNT; s++)
        ck_assert_msg(a->agents[s] == b->agents[s], "%s: agents[%s] %d vs %d", what,
                      agent_state_names[s], a->agents[s], b->agents[s]);
    for (size_t i = 0; metric_sum_names[i]; i++)
        ck_assert_msg(metrics_sum_at(&a->today, i) == metrics_sum_at(&b->today, i),
                      "%s: today.%s %lld vs %lld", what, metric_sum_names[i],
                      (long long)metrics_sum_at(&a->today, i),
                      (long long)metrics_sum_at(&b->today, i));
    for (size_t i = 0; metric_rate_names[i]; i++)
        ck_assert_msg(double_same(metrics_rate_at(&a->rates, i), metrics_rate_at(&b->rates, i)),
                      "%s: %s differs", what, metric_rate_names[i]);
}

static void assert_snapshots_equal(const CentreSnapshot *a, const CentreSnapshot *b)
{
    assert_queue_snapshots_equal(&a->total, &b->total, "total");
    ck_assert_uint_eq(a->nqueues, b->nqueues);
    for (size_t i = 0; i < a->nqueues; i++)
        assert_queue_snapshots_equal(&a->queues[i], &b->queues[i], a->queues[i].queue);
}

/* =====================================================================
 * (1) The invariant, over random calls in random orders with duplicates
 * ===================================================================== */

#define NAGENTS 5
static const char *const agent_ids[NAGENTS] = {"a1", "a2", "a3", "a4", "a5"};
static const char *const queue_ids[] = {"q-huis", "q-wijk", "q-info"};
static const char *const key_ids[] = {K1, K2, K3, NULL};

typedef struct GenWrap {
    const char *agent;
    KicTime at;
    bool resolved;
} GenWrap;

typedef struct GenCall {
    char id[24];
    Event *ev[12];
    size_t n;
    GenWrap wu[2];
    size_t nw;
} GenCall;

static int64_t rnd(unsigned *seed, int64_t lo, int64_t hi)
{
    uint64_t r = ((uint64_t)rand_r(seed) << 31) ^ (uint64_t)rand_r(seed);
    return lo + (int64_t)(r % (uint64_t)(hi - lo + 1));
}

static void gen_add(GenCall *g, EvSpec s)
{
    char id[sizeof(g->id) + 16];
    snprintf(id, sizeof(id), "%.*s-e%d", (int)sizeof(g->id) - 1, g->id, (int)(g->n % 100));
    s.id = id;
    s.call = g->id;
    ck_assert_uint_lt(g->n, KIC_ARRAY_LEN(g->ev));
    g->ev[g->n++] = ev_new(&s);
}

/* Random but realistic calls over the last 8 days up to day_start + 19 h. */
static size_t gen_calls(unsigned *seed, KicTime day_start, GenCall *calls, size_t max)
{
    static const int days[] = {0, 0, 0, 0, 0, -1, -2, -3, -6, -7};
    size_t n = 0;
    const char *cont_from = NULL; /* a transfer to a queue continues as a new contact */
    KicTime cont_at = 0;
    const char *cont_key = NULL;
    while (n < max) {
        GenCall *g = &calls[n];
        memset(g, 0, sizeof(*g));
        snprintf(g->id, sizeof(g->id), "c%03d", (int)(n % 1000));
        n++;
        KicTime t;
        const char *key;
        EvSpec off = EV(EV_OFFERED, NULL, 0, .queue = queue_ids[rnd(seed, 0, 2)]);
        if (cont_from) {
            t = cont_at;
            key = cont_key;
            off.from = calls[n - 2].id;
            cont_from = NULL;
        } else {
            KicTime ds = time_add_local_days(day_start, days[rnd(seed, 0, KIC_ARRAY_LEN(days) - 1)]);
            t = ds + HOUR(8) + rnd(seed, 0, HOUR(10));
            key = key_ids[rnd(seed, 0, 3)];
            if (rnd(seed, 0, 9) == 0)
                off.direction = DIR_OUTBOUND;
        }
        off.at = t;
        off.key = key;
        off.withheld = !key && rnd(seed, 0, 1);
        if (rnd(seed, 0, 19) != 0)
            gen_add(g, off);
        int outcome = (int)rnd(seed, 0, 6);
        KicTime w = t + rnd(seed, 1, SEC(45));
        if (outcome == 0) {
            gen_add(g, EV(EV_ABANDONED, NULL, w));
            if (rnd(seed, 0, 1))
                gen_add(g, EV(EV_ENDED, NULL, w, .by = BY_CALLER));
            continue;
        }
        if (outcome == 1) {
            gen_add(g, EV(EV_ENDED, NULL, w, .by = BY_SYSTEM));
            continue;
        }
        if (outcome == 2)
            continue; /* still waiting */
        const char *agent = agent_ids[rnd(seed, 0, NAGENTS - 1)];
        KicTime ans = w, at = w;
        gen_add(g, EV(EV_ANSWERED, NULL, ans, .agent = agent));
        if (rnd(seed, 0, 2) == 0) {
            at += rnd(seed, 1, SEC(120));
            gen_add(g, EV(EV_HELD, NULL, at));
            if (rnd(seed, 0, 3)) {
                at += rnd(seed, 1, SEC(60));
                gen_add(g, EV(EV_RESUMED, NULL, at));
            }
        }
        const char *second = NULL;
        KicTime second_ans = 0;
        if (rnd(seed, 0, 2) == 0) {
            TargetKind kind = (TargetKind)rnd(seed, 0, 3);
            at += rnd(seed, 1, SEC(300));
            const char *target = "extern";
            if (kind == TK_AGENT) {
                second = agent_ids[(rnd(seed, 1, NAGENTS - 1) + (agent[1] - '1')) % NAGENTS];
                target = second;
            } else if (kind == TK_QUEUE) {
                target = "q-wijk";
                if (n < max) {
                    cont_from = g->id;
                    cont_at = at + SEC(1);
                    cont_key = key;
                }
            }
            gen_add(g, EV(EV_TRANSFERRED, NULL, at, .agent = agent, .target = target,
                          .kind = kind, .mode = (TransferMode)rnd(seed, 0, 1)));
            if (second) {
                second_ans = at + rnd(seed, 1, SEC(10));
                at = second_ans;
                gen_add(g, EV(EV_ANSWERED, NULL, second_ans, .agent = second));
            }
        }
        if (rnd(seed, 0, 4)) {
            at += rnd(seed, 1, SEC(400));
            gen_add(g, EV(EV_ENDED, NULL, at, .by = BY_AGENT));
        }
        if (rnd(seed, 0, 9) < 7)
            g->wu[g->nw++] = (GenWrap){agent, ans + rnd(seed, 0, MIN(20)), rnd(seed, 0, 1)};
        if (second && rnd(seed, 0, 1))
            g->wu[g->nw++] = (GenWrap){second, second_ans + rnd(seed, 0, MIN(20)), true};
    }
    return n;
}

/* When every agent chose available: before any generated call. */
#define CHOSEN_SINCE(now) (time_local_day_start(now) - HOUR(24 * 9))

typedef struct Item {
    const Event *ev; /* or NULL for a wrap-up */
    const GenCall *call;
    size_t wrap;
} Item;

static void shuffle(Item *items, size_t n, unsigned *seed)
{
    for (size_t i = n - 1; i > 0; i--) {
        size_t j = (size_t)rnd(seed, 0, (int64_t)i);
        Item t = items[i];
        items[i] = items[j];
        items[j] = t;
    }
}

/* Feeds the items to a centre in their order: events (cloned), wrap-ups
 * when they can be checked (else at the end). */
static Centre *feed(const Item *items, size_t n, KicTime now)
{
    Centre *c = centre_new(1, &CFG, now);
    ck_assert_ptr_nonnull(c);
    store.n = 0;
    for (int i = 0; i < NAGENTS; i++) {
        effects_reset(&fx);
        centre_set_agent_state(c, agent_ids[i], AS_AVAILABLE, NULL, CHOSEN_SINCE(now), &fx);
    }
    StrMap seen = STRMAP_INIT;
    const Item *deferred[512];
    size_t ndef = 0;
    for (size_t i = 0; i < n; i++) {
        const Item *it = &items[i];
        if (it->ev) {
            bool dup = strmap_get(&seen, it->ev->event_id) != NULL;
            strmap_put(&seen, it->ev->event_id, (void *)it->ev);
            ApplyResult r = apply_ev(c, ev_clone(it->ev), now, true);
            ck_assert_msg(r == (dup ? APPLY_DUPLICATE : APPLY_NEW), "%s: %s",
                          it->ev->event_id, dup ? "duplicate not seen" : "new seen as duplicate");
            continue;
        }
        const GenWrap *w = &it->call->wu[it->wrap];
        if (centre_check_wrapup(c, it->call->id, w->agent, KIC_TIME_NONE, w->at) != WRAPUP_OK) {
            deferred[ndef++] = it;
            continue;
        }
        int64_t acw;
        effects_reset(&fx);
        centre_apply_wrapup(c, it->call->id,
                            wrapup_new(w->agent, "cat", w->at, w->resolved, FU_NONE, CT_CLIENT),
                            now, &acw, &fx);
        store_take(&fx);
        effects_written(&fx);
    }
    for (size_t i = 0; i < ndef; i++) {
        const GenWrap *w = &deferred[i]->call->wu[deferred[i]->wrap];
        WrapupResult r = centre_check_wrapup(c, deferred[i]->call->id, w->agent, KIC_TIME_NONE, w->at);
        ck_assert_msg(r == WRAPUP_OK, "wrap-up of %s by %s: %d", deferred[i]->call->id, w->agent, r);
        int64_t acw;
        effects_reset(&fx);
        centre_apply_wrapup(c, deferred[i]->call->id,
                            wrapup_new(w->agent, "cat", w->at, w->resolved, FU_NONE, CT_CLIENT),
                            now, &acw, &fx);
        store_take(&fx);
        effects_written(&fx);
    }
    strmap_free(&seen);
    return c;
}

/* ---- the recomputation from scratch ---- */

typedef struct Recomputed {
    CallSummary sum[64];
    Wrapup *wu[64][2];
    const Event *ev[64][12];
} Recomputed;

/* The repeat rule, written independently: a later contact (by offer
 * time, then call id) with the same key, inbound and not a transfer
 * continuation, offered within 7 local days (inclusive) of this one. */
static bool recompute_repeat(const CallSummary *sums, size_t n, size_t x)
{
    const CallSummary *a = &sums[x];
    if (!a->offered || !a->caller_key)
        return false;
    KicTime until = time_add_local_days(a->offered_at, 7);
    for (size_t i = 0; i < n; i++) {
        const CallSummary *b = &sums[i];
        if (i == x || !b->offered || !b->caller_key || strcmp(a->caller_key, b->caller_key) != 0)
            continue;
        bool later = b->offered_at > a->offered_at ||
                     (b->offered_at == a->offered_at && strcmp(b->call_id, a->call_id) > 0);
        if (later && b->offered_at <= until && b->direction == DIR_INBOUND && !b->transferred_from)
            return true;
    }
    return false;
}

static void recompute(const GenCall *calls, size_t n, Recomputed *r)
{
    for (int pass = 0; pass < 2; pass++) {
        bool flags[64] = {false};
        if (pass == 1)
            for (size_t i = 0; i < n; i++)
                flags[i] = recompute_repeat(r->sum, n, i);
        for (size_t i = 0; i < n; i++) {
            const GenCall *g = &calls[i];
            if (pass == 0)
                for (size_t w = 0; w < g->nw; w++)
                    r->wu[i][w] = wrapup_new(g->wu[w].agent, "cat", g->wu[w].at,
                                             g->wu[w].resolved, FU_NONE, CT_CLIENT);
            memcpy(r->ev[i], g->ev, g->n * sizeof(Event *));
            CallInput in = {r->ev[i], g->n, (const Wrapup *const *)r->wu[i], g->nw, flags[i]};
            call_derive(&in, &r->sum[i]);
            if (!r->sum[i].call_id)
                r->sum[i].call_id = g->id;
        }
    }
}

static void recompute_free(Recomputed *r, const GenCall *calls, size_t n)
{
    for (size_t i = 0; i < n; i++)
        for (size_t w = 0; w < calls[i].nw; w++)
            wrapup_free(r->wu[i][w]);
}

typedef struct Expected {
    const char *queue;
    MetricSums today;
    int waiting;
    double longest;
    bool agent_today[NAGENTS];
} Expected;

static int agent_index(const char *id)
{
    for (int i = 0; i < NAGENTS; i++)
        if (strcmp(agent_ids[i], id) == 0)
            return i;
    ck_abort_msg("unknown agent %s", id);
    return -1;
}

/* An agent's effective state from the summaries (agent.h): on a call ->
 * on_call; else a counting part (the latest, or one that ended after the
 * latest began: two contacts at once) ended and not wrapped up -> acw;
 * else what they chose (available, since chosen_since, in this test).
 * And since when (centre.c, agent_since): the latest answer when on a
 * call, the last end of the counting parts in ACW, else the later of the
 * choice and the counting parts' last end or wrap-up. */
static AgentState expected_state(const Recomputed *r, size_t n, const char *agent,
                                 KicTime chosen_since, KicTime *since)
{
    const CallLeg *latest = NULL;
    bool on_call = false;
    for (size_t i = 0; i < n; i++)
        for (int l = 0; l < r->sum[i].nlegs; l++) {
            const CallLeg *leg = &r->sum[i].legs[l];
            if (strcmp(leg->agent, agent) != 0)
                continue;
            on_call |= leg->end_at == NONE;
            if (!latest || leg->answered_at > latest->answered_at)
                latest = leg;
        }
    if (on_call) {
        *since = latest->answered_at;
        return AS_ON_CALL;
    }
    bool owed = false;
    KicTime ended = NONE, done = NONE;
    for (size_t i = 0; latest && i < n; i++)
        for (int l = 0; l < r->sum[i].nlegs; l++) {
            const CallLeg *leg = &r->sum[i].legs[l];
            if (strcmp(leg->agent, agent) != 0 || (leg != latest && leg->end_at <= latest->answered_at))
                continue;
            owed |= !leg->wrapup;
            if (leg->end_at > ended)
                ended = leg->end_at;
            KicTime t = leg->wrapup && leg->wrapup->at > leg->end_at ? leg->wrapup->at : leg->end_at;
            if (t > done)
                done = t;
        }
    if (owed) {
        *since = ended;
        return AS_ACW;
    }
    *since = chosen_since;
    if (done != NONE && done > *since)
        *since = done;
    return AS_AVAILABLE;
}

static void check_against_recomputation(Centre *c, const GenCall *calls, size_t n,
                                        const Recomputed *r, KicTime now, const char *which)
{
    KicTime ds = time_local_day_start(now), de = time_add_local_days(ds, 1);
    char why[200];
    for (size_t i = 0; i < n; i++) {
        if (calls[i].n == 0)
            continue;
        Call *call = centre_call(c, calls[i].id);
        ck_assert_msg(call != NULL, "%s: %s missing", which, calls[i].id);
        ck_assert_msg(summary_same(&call->sum, &r->sum[i], why, sizeof(why)),
                      "%s: call %s differs from the recomputation: %s", which, calls[i].id, why);
    }
    Expected ex[KIC_ARRAY_LEN(queue_ids)];
    memset(ex, 0, sizeof(ex));
    MetricSums total;
    memset(&total, 0, sizeof(total));
    int waiting = 0;
    double longest = 0;
    for (size_t q = 0; q < KIC_ARRAY_LEN(queue_ids); q++)
        ex[q].queue = queue_ids[q];
    for (size_t i = 0; i < n; i++) {
        const CallSummary *s = &r->sum[i];
        if (!s->offered)
            continue;
        size_t q = 0;
        while (strcmp(queue_ids[q], s->queue) != 0)
            q++;
        if (s->offered_at >= ds && s->offered_at < de) {
            metrics_add_call(&ex[q].today, s, &CFG.metric, 1);
            metrics_add_call(&total, s, &CFG.metric, 1);
            for (int l = 0; l < s->nlegs; l++)
                ex[q].agent_today[agent_index(s->legs[l].agent)] = true;
        }
        if (call_waiting(s)) {
            ex[q].waiting++;
            waiting++;
            double w = time_diff_s(s->offered_at, now);
            if (w > ex[q].longest)
                ex[q].longest = w;
            if (w > longest)
                longest = w;
        }
    }
    AgentState states[NAGENTS];
    int total_agents[AGENT_STATE_COUNT] = {0};
    for (int a = 0; a < NAGENTS; a++) {
        KicTime since;
        states[a] = expected_state(r, n, agent_ids[a], CHOSEN_SINCE(now), &since);
        total_agents[states[a]]++;
        Agent *ag = centre_agent(c, agent_ids[a]);
        ck_assert_ptr_nonnull(ag);
        ck_assert_msg(ag->state == states[a], "%s: agent %s is %s, recomputed %s", which,
                      agent_ids[a], agent_state_names[ag->state], agent_state_names[states[a]]);
        ck_assert_msg(ag->since == since, "%s: agent %s %s since %lld, recomputed %lld", which,
                      agent_ids[a], agent_state_names[ag->state], (long long)ag->since,
                      (long long)since);
    }
    /* agents on, or in the ACW of, a call answered before today count
     * in its queue too (its agents of today do not have them) */
    int carried[KIC_ARRAY_LEN(queue_ids)][AGENT_STATE_COUNT];
    memset(carried, 0, sizeof(carried));
    bool carried_any[KIC_ARRAY_LEN(queue_ids)] = {false};
    for (int a = 0; a < NAGENTS; a++) {
        const Agent *ag = centre_agent(c, agent_ids[a]);
        if ((states[a] != AS_ON_CALL && states[a] != AS_ACW) || !ag->latest_call ||
            ag->latest_start >= ds || !ag->latest_call->sum.queue)
            continue;
        size_t q = 0;
        while (strcmp(queue_ids[q], ag->latest_call->sum.queue) != 0)
            q++;
        if (ex[q].agent_today[a])
            continue;
        carried[q][states[a]]++;
        carried_any[q] = true;
    }
    CentreSnapshot s;
    ck_assert(centre_snapshot(c, now, &s));
    ck_assert_int_eq(memcmp(&s.total.today, &total, sizeof(total)), 0);
    ck_assert_int_eq(s.total.waiting, waiting);
    ck_assert(s.total.longest_wait_s == longest);
    for (int st = 0; st < AGENT_STATE_COUNT; st++)
        ck_assert_int_eq(s.total.agents[st], total_agents[st]);
    size_t shown = 0;
    for (size_t q = 0; q < KIC_ARRAY_LEN(queue_ids); q++) {
        bool any_agent = false;
        for (int a = 0; a < NAGENTS; a++)
            any_agent |= ex[q].agent_today[a];
        const QueueSnapshot *qs = snap_queue(&s, queue_ids[q]);
        if (!ex[q].today.offered && !ex[q].waiting && !any_agent && !carried_any[q]) {
            ck_assert_msg(qs == NULL, "%s: quiet queue %s shown", which, queue_ids[q]);
            continue;
        }
        ck_assert_msg(qs != NULL, "%s: queue %s missing", which, queue_ids[q]);
        shown++;
        for (size_t i = 0; metric_sum_names[i]; i++)
            ck_assert_msg(metrics_sum_at(&qs->today, i) == metrics_sum_at(&ex[q].today, i),
                          "%s: %s today.%s: %lld, recomputed %lld", which, queue_ids[q],
                          metric_sum_names[i], (long long)metrics_sum_at(&qs->today, i),
                          (long long)metrics_sum_at(&ex[q].today, i));
        ck_assert_int_eq(qs->waiting, ex[q].waiting);
        ck_assert(qs->longest_wait_s == ex[q].longest);
        int agents[AGENT_STATE_COUNT] = {0};
        for (int a = 0; a < NAGENTS; a++)
            if (ex[q].agent_today[a])
                agents[states[a]]++;
        for (int st = 0; st < AGENT_STATE_COUNT; st++)
            agents[st] += carried[q][st];
        for (int st = 0; st < AGENT_STATE_COUNT; st++)
            ck_assert_msg(qs->agents[st] == agents[st], "%s: %s agents[%s] %d, recomputed %d",
                          which, queue_ids[q], agent_state_names[st], qs->agents[st], agents[st]);
    }
    ck_assert_uint_eq(s.nqueues, shown);
    centre_snapshot_free(&s);
}

START_TEST(invariant_random_orders_and_duplicates)
{
    KicTime now = tm("2026-11-18T20:00:00+01:00");
    unsigned seed = 1000u + (unsigned)_i;
    GenCall calls[40];
    size_t n = gen_calls(&seed, time_local_day_start(now), calls, 40);
    Item items[40 * 24];
    size_t ni = 0;
    for (size_t i = 0; i < n; i++) {
        for (size_t e = 0; e < calls[i].n; e++) {
            items[ni++] = (Item){calls[i].ev[e], &calls[i], 0};
            if (rnd(&seed, 0, 3) == 0) /* re-sent */
                items[ni++] = (Item){calls[i].ev[e], &calls[i], 0};
        }
        for (size_t w = 0; w < calls[i].nw; w++)
            items[ni++] = (Item){NULL, &calls[i], w};
    }
    Recomputed *r = calloc(1, sizeof(*r));
    ck_assert_ptr_nonnull(r);
    recompute(calls, n, r);

    shuffle(items, ni, &seed);
    Centre *a = feed(items, ni, now);
    check_against_recomputation(a, calls, n, r, now, "first order");
    check_stored_sums(r->sum, n, "first order");
    shuffle(items, ni, &seed);
    Centre *b = feed(items, ni, now);
    check_against_recomputation(b, calls, n, r, now, "second order");
    check_stored_sums(r->sum, n, "second order");

    CentreSnapshot sa, sb;
    ck_assert(centre_snapshot(a, now, &sa));
    ck_assert(centre_snapshot(b, now, &sb));
    assert_snapshots_equal(&sa, &sb);
    /* and later in the evening, with waits grown */
    centre_snapshot_free(&sa);
    centre_snapshot_free(&sb);
    ck_assert(centre_snapshot(a, now + HOUR(1), &sa));
    ck_assert(centre_snapshot(b, now + HOUR(1), &sb));
    assert_snapshots_equal(&sa, &sb);
    centre_snapshot_free(&sa);
    centre_snapshot_free(&sb);

    centre_free(a);
    centre_free(b);
    recompute_free(r, calls, n);
    free(r);
    for (size_t i = 0; i < n; i++)
        for (size_t e = 0; e < calls[i].n; e++)
            event_destroy(calls[i].ev[e]);
}
END_TEST

/* A call with two call.offered events: the first by `at` describes the
 * contact (call.h), so a later-arriving earlier offer moves it. Repeat
 * marks must follow, as a recomputation would have them. */
/* Open callbacks count in their queue's live figures even when no call
 * entered that queue today: the queues add up to the total. */
START_TEST(a_queue_with_only_callbacks_is_shown)
{
    centre_free(C);
    KicTime now = tm("2026-11-18T12:00:00+01:00"), t = tm("2026-11-18T10:00:00+01:00");
    C = centre_new(1, &CFG, now);
    ck_assert_int_eq(apply_ev(C, ev_new(&EV(EV_OFFERED, "c1", t, .id = "e1", .queue = "calls")), now,
                              true),
                     APPLY_NEW);
    const char *queues[] = {"ivr", "calls"}, *ids[] = {"cb1", "cb2"};
    for (int i = 0; i < 2; i++) {
        CallbackNew n = {.id = ids[i], .team = "kic", .queue = queues[i], .caller_key = K1,
                         .number = "+31612345678", .from_ivr = true, .created_at = t,
                         .due_by = t + HOUR(24)};
        ck_assert_ptr_nonnull(centre_create_callback(C, &n, &fx));
    }
    CentreSnapshot s;
    snap(now, &s);
    ck_assert_int_eq(s.total.callbacks_open, 2);
    ck_assert_uint_eq(s.nqueues, 2);
    const QueueSnapshot *ivr = snap_queue(&s, "ivr"), *calls = snap_queue(&s, "calls");
    ck_assert_ptr_nonnull(ivr);
    ck_assert_int_eq(ivr->callbacks_open, 1);
    ck_assert_int_eq(ivr->today.offered, 0);
    /* nothing offered there: every rate and mean undefined, as a queue
     * with contacts but no answer has its answered means */
#define RATE_UNDEFINED(name) ck_assert_msg(!metrics_defined(ivr->rates.name), #name " is defined");
    METRIC_RATES(RATE_UNDEFINED)
#undef RATE_UNDEFINED
    ck_assert_int_eq(calls->callbacks_open, 1);
    ck_assert_int_eq(calls->today.offered, 1);
    ck_assert(strcmp(s.queues[0].queue, s.queues[1].queue) < 0); /* sorted */
    centre_snapshot_free(&s);
}
END_TEST

START_TEST(invariant_holds_when_an_earlier_offer_arrives_late)
{
    KicTime now = tm("2026-11-18T20:00:00+01:00");
    C = centre_new(1, &CFG, now);
    /* X at 10:00; Y first known at 11:00, then its real offer at 09:00 */
    give(EV(EV_OFFERED, "x", tm("2026-11-18T10:00:00+01:00"), .queue = "q", .key = K1), now);
    give(EV(EV_OFFERED, "y", tm("2026-11-18T11:00:00+01:00"), .queue = "q", .key = K1), now);
    ck_assert(repeated("x")); /* so far Y follows X */
    give(EV(EV_OFFERED, "y", tm("2026-11-18T09:00:00+01:00"), .queue = "q", .key = K1), now);
    ck_assert_int_eq(sum_of("y")->offered_at, tm("2026-11-18T09:00:00+01:00"));
    /* now Y (09:00) comes first and X (10:00) follows it */
    ck_assert_msg(repeated("y"), "y is followed by x within the window");
    ck_assert_msg(!repeated("x"), "x is no longer followed by anything");
}
END_TEST

/* Same, with the two offers carrying different keys: the contact is
 * the caller of its first offer and repeats must be counted under it. */
START_TEST(earlier_offer_with_another_key_counts_under_that_key)
{
    KicTime now = tm("2026-11-18T20:00:00+01:00");
    C = centre_new(1, &CFG, now);
    give(EV(EV_OFFERED, "y", tm("2026-11-18T11:00:00+01:00"), .queue = "q", .key = K2), now);
    give(EV(EV_OFFERED, "y", tm("2026-11-18T09:00:00+01:00"), .queue = "q", .key = K1), now);
    give(EV(EV_ABANDONED, "y", tm("2026-11-18T09:01:00+01:00")), now);
    ck_assert_str_eq(sum_of("y")->caller_key, K1);
    give(EV(EV_OFFERED, "z", tm("2026-11-18T12:00:00+01:00"), .queue = "q", .key = K1), now);
    ck_assert_int_eq(centre_call(C, "z")->earlier_contacts, 1);
    ck_assert_msg(repeated("y"), "y (K1) is followed by z (K1)");
}
END_TEST

/* The stored sums follow a contact that moves: a late earlier offer in
 * another queue takes its contribution from the old block to the new. */
START_TEST(stored_sums_follow_a_contact_to_another_block)
{
    KicTime now = tm("2026-11-18T20:00:00+01:00");
    C = centre_new(1, &CFG, now);
    give(EV(EV_OFFERED, "y", tm("2026-11-18T11:00:00+01:00"), .queue = "q1", .key = K1), now);
    give(EV(EV_ANSWERED, "y", tm("2026-11-18T11:00:10+01:00"), .agent = "a1"), now);
    give(EV(EV_ENDED, "y", tm("2026-11-18T11:05:00+01:00")), now);
    ck_assert_uint_eq(store.n, 1);
    ck_assert_int_eq(store.rows[0].sums.offered, 1);
    ck_assert_int_eq(store.rows[0].sums.talk_n, 1);
    give(EV(EV_OFFERED, "y", tm("2026-11-18T10:58:00+01:00"), .queue = "q2", .key = K1), now);
    ck_assert_uint_eq(store.n, 2);
    static const MetricSums zero;
    ck_assert_msg(memcmp(&store.rows[0].sums, &zero, sizeof(zero)) == 0, "the 11:00 block is empty");
    ck_assert_str_eq(store.rows[1].key.queue, "q2");
    ck_assert_int_eq(store.rows[1].key.bucket, tm("2026-11-18T10:45:00+01:00"));
    ck_assert_int_eq(store.rows[1].sums.offered, 1);
    ck_assert_int_eq(store.rows[1].sums.answered_in_sl, 0); /* waited 130 s now */
    /* a repeat moves the earlier contact's FCR in its own block */
    give(EV(EV_OFFERED, "z", tm("2026-11-18T15:00:00+01:00"), .queue = "q1", .key = K1), now);
    ck_assert_int_eq(store.rows[1].sums.repeated, 1);
    const CallSummary *sums[] = {sum_of("y"), sum_of("z")};
    CallSummary both[2] = {*sums[0], *sums[1]};
    check_stored_sums(both, 2, "moved");
}
END_TEST

/* Eight agents answered a call; a ninth answer with an earlier time
 * pushes the eighth agent's part out (a call keeps CALL_MAX_LEGS). That
 * agent never chose a state: its way back to offline is dated at the
 * start of the part it lost, never left undated (storage needs a time). */
START_TEST(an_agent_whose_only_part_is_pushed_out_gets_a_dated_transition)
{
    KicTime now = tm("2026-11-18T20:00:00+01:00");
    C = centre_new(1, &CFG, now);
    give(EV(EV_OFFERED, "m", tm("2026-11-18T10:00:00+01:00"), .queue = "q"), now);
    char agents[9][8];
    for (int i = 0; i < 8; i++) {
        snprintf(agents[i], sizeof(agents[i]), "m%d", i);
        give(EV(EV_ANSWERED, "m", tm("2026-11-18T10:01:00+01:00") + i * SEC(10), .agent = agents[i]), now);
    }
    ck_assert_str_eq(agent_state_names[centre_agent(C, "m7")->state], "on_call");
    give(EV(EV_ANSWERED, "m", tm("2026-11-18T10:00:30+01:00"), .agent = "late"), now);
    Agent *m7 = centre_agent(C, "m7");
    ck_assert_int_ne(m7->state, AS_ON_CALL);
    bool seen = false;
    for (size_t i = 0; i < fx.ntransitions; i++) {
        ck_assert_msg(fx.transitions[i].since != KIC_TIME_NONE, "undated transition of %s",
                      fx.transitions[i].agent);
        if (strcmp(fx.transitions[i].agent, "m7") == 0) {
            ck_assert_int_eq(fx.transitions[i].since, tm("2026-11-18T10:02:10+01:00"));
            seen = true;
        }
    }
    ck_assert(seen);
}
END_TEST

/* ... and evicting that call must leave no pointer to it in the caller
 * index (ASan: heap-use-after-free when the old key is seen again). */
START_TEST(eviction_after_a_key_change_leaves_no_dangling_pointer)
{
    KicTime now = tm("2026-11-18T20:00:00+01:00");
    C = centre_new(1, &CFG, now);
    give(EV(EV_OFFERED, "y", tm("2026-11-18T11:00:00+01:00"), .queue = "q", .key = K2), now);
    give(EV(EV_OFFERED, "y", tm("2026-11-18T09:00:00+01:00"), .queue = "q", .key = K1), now);
    give(EV(EV_ABANDONED, "y", tm("2026-11-18T09:01:00+01:00")), now);
    KicTime later = tm("2026-12-01T10:00:00+01:00");
    centre_roll_day(C, later);
    ck_assert_ptr_null(centre_call(C, "y"));
    give(EV(EV_OFFERED, "w2", later, .queue = "q", .key = K2), later);
    give(EV(EV_OFFERED, "w1", later, .queue = "q", .key = K1), later);
    ck_assert_int_eq(centre_call(C, "w2")->earlier_contacts, 0);
    ck_assert_int_eq(centre_call(C, "w1")->earlier_contacts, 0);
}
END_TEST

/* =====================================================================
 * (2) Duplicates
 * ===================================================================== */

START_TEST(duplicates_change_nothing)
{
    KicTime now = tm("2026-11-18T12:00:00+01:00");
    C = centre_new(1, &CFG, now);
    KicTime t = tm("2026-11-18T10:00:00+01:00");
    EvSpec specs[] = {
        EV(EV_OFFERED, "c1", t, .id = "d1", .queue = "q", .key = K1),
        EV(EV_ANSWERED, "c1", t + SEC(10), .id = "d2", .agent = "a"),
        EV(EV_HELD, "c1", t + SEC(30), .id = "d3"),
        EV(EV_RESUMED, "c1", t + SEC(40), .id = "d4"),
        EV(EV_ENDED, "c1", t + SEC(100), .id = "d5"),
        EV(EV_OFFERED, "c2", t + SEC(50), .id = "d6", .queue = "q", .key = K1),
        EV(EV_CALLBACK_REQUESTED, "", t, .id = "d7", .queue = "q", .key = K1, .callback_id = "cb"),
    };
    for (size_t i = 0; i < KIC_ARRAY_LEN(specs); i++)
        ck_assert_int_eq(apply_ev(C, ev_new(&specs[i]), now, true), APPLY_NEW);
    ck_assert_int_eq(wrap("c1", "a", t + SEC(130), true, NULL), WRAPUP_OK);
    CallSummary before = *sum_of("c1");
    CentreSnapshot s1, s2;
    snap(now, &s1);
    uint64_t v = centre_version(C);
    Agent *a = centre_agent(C, "a");
    AgentState st = a->state;
    KicTime since = a->since;
    for (size_t i = 0; i < KIC_ARRAY_LEN(specs); i++) {
        ck_assert_int_eq(apply_ev(C, ev_new(&specs[i]), now, true), APPLY_DUPLICATE);
        ck_assert_uint_eq(fx.ndirty, 0);
        ck_assert_uint_eq(fx.nnew, 0);
        ck_assert_uint_eq(fx.ntransitions, 0);
        ck_assert_uint_eq(fx.nnotices, 0);
    }
    /* the same event_id with other content is a duplicate too */
    EvSpec other = EV(EV_ENDED, "c2", t + SEC(60), .id = "d6");
    ck_assert_int_eq(apply_ev(C, ev_new(&other), now, true), APPLY_DUPLICATE);
    EvSpec cb_as_call = EV(EV_ABANDONED, "c2", t + SEC(60), .id = "d7");
    ck_assert_int_eq(apply_ev(C, ev_new(&cb_as_call), now, true), APPLY_DUPLICATE);
    ck_assert_uint_eq(centre_version(C), v);
    snap(now, &s2);
    assert_snapshots_equal(&s1, &s2);
    char why[200];
    ck_assert_msg(summary_same(sum_of("c1"), &before, why, sizeof(why)), "%s", why);
    ck_assert_int_eq(sum_of("c1")->nevents, 5);
    ck_assert(call_waiting(sum_of("c2")));
    ck_assert_int_eq(a->state, st);
    ck_assert_int_eq(a->since, since);
    centre_snapshot_free(&s1);
    centre_snapshot_free(&s2);
}
END_TEST

/* =====================================================================
 * (3) Repeats and the window
 * ===================================================================== */

/* X then Y (same key), both inbound: is X followed by a repeat? */
static bool repeat_between(const char *x_at, const char *y_at, const char *now_text)
{
    KicTime now = tm(now_text);
    centre_free(C);
    C = centre_new(1, &CFG, now);
    give(EV(EV_OFFERED, "x", tm(x_at), .queue = "q", .key = K1), now);
    give(EV(EV_ANSWERED, "x", tm(x_at) + SEC(5), .agent = "a"), now);
    give(EV(EV_OFFERED, "y", tm(y_at), .queue = "q", .key = K1), now);
    ck_assert(!repeated("y"));
    bool r = repeated("x");
    ck_assert_int_eq(centre_call(C, "y")->earlier_contacts, r ? 1 : 0);
    return r;
}

START_TEST(repeat_window_is_seven_days_inclusive)
{
    /* 11 Nov 10:00 + 7 days = 18 Nov 10:00 (no DST change: 168 h) */
    ck_assert(repeat_between("2026-11-11T10:00:00+01:00", "2026-11-18T10:00:00+01:00",
                             "2026-11-18T12:00:00+01:00"));
    ck_assert(!repeat_between("2026-11-11T10:00:00+01:00", "2026-11-18T10:00:00.000001+01:00",
                              "2026-11-18T12:00:00+01:00"));
    ck_assert(repeat_between("2026-11-11T10:00:00+01:00", "2026-11-11T10:00:01+01:00",
                             "2026-11-18T12:00:00+01:00"));
}
END_TEST

START_TEST(repeat_window_across_spring_dst)
{
    /* 25 Mar 10:00 CET + 7 local days = 1 Apr 10:00 CEST = 167 hours */
    KicTime x = tm("2026-03-25T10:00:00+01:00");
    ck_assert_int_eq(tm("2026-04-01T10:00:00+02:00") - x, HOUR(167));
    ck_assert(repeat_between("2026-03-25T10:00:00+01:00", "2026-04-01T10:00:00+02:00",
                             "2026-04-01T12:00:00+02:00"));
    ck_assert(!repeat_between("2026-03-25T10:00:00+01:00", "2026-04-01T10:00:00.000001+02:00",
                              "2026-04-01T12:00:00+02:00"));
    /* 168 h later is 11:00 local: outside */
    ck_assert(!repeat_between("2026-03-25T10:00:00+01:00", "2026-04-01T09:00:00Z",
                              "2026-04-01T12:00:00+02:00"));
}
END_TEST

START_TEST(repeat_window_across_autumn_dst)
{
    /* 21 Oct 10:00 CEST + 7 local days = 28 Oct 10:00 CET = 169 hours */
    KicTime x = tm("2026-10-21T10:00:00+02:00");
    ck_assert_int_eq(tm("2026-10-28T10:00:00+01:00") - x, HOUR(169));
    ck_assert(repeat_between("2026-10-21T10:00:00+02:00", "2026-10-28T10:00:00+01:00",
                             "2026-10-28T12:00:00+01:00"));
    ck_assert(!repeat_between("2026-10-21T10:00:00+02:00", "2026-10-28T10:00:00.000001+01:00",
                              "2026-10-28T12:00:00+01:00"));
    /* 168 h 30 min later is 09:30 local: inside (a fixed 168 h would say no) */
    ck_assert(repeat_between("2026-10-21T10:00:00+02:00", "2026-10-28T09:30:00+01:00",
                             "2026-10-28T12:00:00+01:00"));
}
END_TEST

START_TEST(late_earlier_contact_is_marked)
{
    KicTime now = tm("2026-11-18T20:00:00+01:00");
    C = centre_new(1, &CFG, now);
    KicTime x = tm("2026-11-18T09:00:00+01:00"), y = tm("2026-11-18T11:00:00+01:00");
    /* Y known first, then X (earlier, same caller) arrives */
    give(EV(EV_OFFERED, "y", y, .queue = "q", .key = K1), now);
    give(EV(EV_ABANDONED, "y", y + SEC(40)), now);
    give(EV(EV_OFFERED, "x", x, .queue = "q", .key = K1), now);
    give(EV(EV_ANSWERED, "x", x + SEC(5), .agent = "a"), now);
    give(EV(EV_ENDED, "x", x + SEC(65)), now);
    ck_assert_int_eq(wrap("x", "a", x + SEC(80), true, NULL), WRAPUP_OK);
    ck_assert(repeated("x"));
    ck_assert(!repeated("y"));
    CentreSnapshot s;
    snap(now, &s);
    ck_assert_int_eq(s.total.today.identified, 1);      /* x answered with a key */
    ck_assert_int_eq(s.total.today.repeated, 1);        /* x */
    ck_assert_int_eq(s.total.today.fcr_provisional, 0); /* resolved, but repeated */
    ck_assert_double_eq_tol(s.total.rates.repeat_rate, 1.0, 1e-12);
    centre_snapshot_free(&s);
}
END_TEST

START_TEST(transfer_continuation_is_not_a_repeat)
{
    KicTime now = tm("2026-11-18T20:00:00+01:00");
    C = centre_new(1, &CFG, now);
    KicTime t = tm("2026-11-18T09:00:00+01:00");
    give(EV(EV_OFFERED, "x", t, .queue = "q-kic", .key = K1), now);
    give(EV(EV_ANSWERED, "x", t + SEC(5), .agent = "a"), now);
    give(EV(EV_TRANSFERRED, "x", t + SEC(300), .agent = "a", .target = "q-wijk", .kind = TK_QUEUE),
         now);
    give(EV(EV_OFFERED, "y", t + SEC(301), .queue = "q-wijk", .key = K1, .from = "x"), now);
    ck_assert(!repeated("x"));
    /* nor an earlier contact of y's: y is x going on */
    ck_assert_int_eq(centre_call(C, "y")->earlier_contacts, 0);
    /* a real new contact later that day makes both repeats */
    give(EV(EV_OFFERED, "z", t + HOUR(6), .queue = "q-kic", .key = K1), now);
    ck_assert(repeated("x"));
    ck_assert(repeated("y"));
    /* x only: the continuation y is the same contact going on, not the
     * caller calling again */
    ck_assert_int_eq(centre_call(C, "z")->earlier_contacts, 1);
    /* the continuation arriving first changes nothing */
    centre_free(C);
    C = centre_new(1, &CFG, now);
    give(EV(EV_OFFERED, "y", t + SEC(301), .queue = "q-wijk", .key = K1, .from = "x"), now);
    give(EV(EV_OFFERED, "x", t, .queue = "q-kic", .key = K1), now);
    ck_assert(!repeated("x"));
    ck_assert_int_eq(centre_call(C, "y")->earlier_contacts, 0);
    /* a chain: w goes on from y, which went on from x; an earlier day's
     * contact v is the only one before any of them */
    give(EV(EV_OFFERED, "w", t + SEC(600), .queue = "q-huis", .key = K1, .from = "y"), now);
    give(EV(EV_OFFERED, "v", t - HOUR(30), .queue = "q-kic", .key = K1), now);
    ck_assert_int_eq(centre_call(C, "w")->earlier_contacts, 1);
    ck_assert_int_eq(centre_call(C, "y")->earlier_contacts, 1);
    ck_assert_int_eq(centre_call(C, "x")->earlier_contacts, 1);
}
END_TEST

START_TEST(outbound_contact_is_not_a_repeat)
{
    KicTime now = tm("2026-11-18T20:00:00+01:00");
    C = centre_new(1, &CFG, now);
    KicTime t = tm("2026-11-18T09:00:00+01:00");
    give(EV(EV_OFFERED, "x", t, .queue = "q", .key = K1), now);
    give(EV(EV_OFFERED, "y", t + HOUR(1), .queue = "tevredenheid", .key = K1,
            .direction = DIR_OUTBOUND), now);
    ck_assert(!repeated("x"));
    /* arriving in the other order */
    centre_free(C);
    C = centre_new(1, &CFG, now);
    give(EV(EV_OFFERED, "y", t + HOUR(1), .queue = "tevredenheid", .key = K1,
            .direction = DIR_OUTBOUND), now);
    give(EV(EV_OFFERED, "x", t, .queue = "q", .key = K1), now);
    ck_assert(!repeated("x"));
    /* an inbound contact after the outbound one is a repeat of both */
    give(EV(EV_OFFERED, "z", t + HOUR(2), .queue = "q", .key = K1), now);
    ck_assert(repeated("x"));
    ck_assert(repeated("y"));
}
END_TEST

/* One caller with hundreds of contacts (a GP practice, a care home),
 * arriving in shuffled order, some outbound, some at the same instant and
 * some across the spring DST change: every contact's repeat flag and
 * earlier count equal a brute-force reading of the rule. */
#define MANY 400
START_TEST(one_caller_with_many_contacts_in_any_order)
{
    KicTime now = tm("2026-04-20T12:00:00+02:00");
    KicTime t = tm("2026-03-15T08:00:00+01:00");
    C = centre_new(1, &CFG, now);
    static KicTime at[MANY];
    static bool inbound[MANY];
    static int order[MANY];
    unsigned seed = 7;
    for (int i = 0; i < MANY; i++) {
        /* gaps of up to half a day, now and then eight days (no repeat),
         * every seventh at the same instant as the one before */
        if (i % 50 == 49)
            t += HOUR(8 * 24);
        else if (i % 7)
            t += rnd(&seed, 0, 12) * HOUR(1) + rnd(&seed, 0, 59) * SEC(60);
        at[i] = t;
        inbound[i] = rnd(&seed, 0, 9) != 0;
        order[i] = i;
    }
    for (int i = MANY - 1; i > 0; i--) {
        int j = (int)rnd(&seed, 0, i), tmp = order[i];
        order[i] = order[j];
        order[j] = tmp;
    }
    char id[MANY][16];
    for (int i = 0; i < MANY; i++)
        snprintf(id[i], sizeof(id[i]), "c%03d", i); /* ids sort as the contacts */
    for (int k = 0; k < MANY; k++) {
        int i = order[k];
        give(EV(EV_OFFERED, id[i], at[i], .queue = "q", .key = K1,
                .direction = inbound[i] ? DIR_INBOUND : DIR_OUTBOUND), now);
    }
    int repeats = 0;
    for (int x = 0; x < MANY; x++) {
        KicTime until = time_add_local_days(at[x], 7);
        bool want_repeat = false;
        int want_earlier = 0;
        for (int y = 0; y < MANY; y++) {
            if (y == x || !inbound[y])
                continue;
            if (y > x && at[y] <= until)
                want_repeat = true;
            if (y < x && at[x] <= time_add_local_days(at[y], 7))
                want_earlier++;
        }
        repeats += want_repeat;
        ck_assert_msg(repeated(id[x]) == want_repeat, "%s repeat", id[x]);
        ck_assert_int_eq(centre_call(C, id[x])->earlier_contacts, want_earlier);
    }
    ck_assert_int_gt(repeats, MANY / 2); /* both outcomes occur */
    ck_assert_int_lt(repeats, MANY - 5);
}
END_TEST

START_TEST(withheld_callers_never_repeat)
{
    KicTime now = tm("2026-11-18T20:00:00+01:00");
    C = centre_new(1, &CFG, now);
    KicTime t = tm("2026-11-18T09:00:00+01:00");
    give(EV(EV_OFFERED, "x", t, .queue = "q", .withheld = true), now);
    give(EV(EV_ANSWERED, "x", t + SEC(3), .agent = "a"), now);
    give(EV(EV_OFFERED, "y", t + HOUR(1), .queue = "q", .withheld = true), now);
    give(EV(EV_ANSWERED, "y", t + HOUR(1) + SEC(3), .agent = "b"), now);
    give(EV(EV_OFFERED, "z", t + HOUR(2), .queue = "q"), now); /* no caller at all */
    ck_assert(!repeated("x"));
    ck_assert(!repeated("y"));
    ck_assert_int_eq(centre_call(C, "y")->earlier_contacts, 0);
    ck_assert_int_eq(centre_call(C, "z")->earlier_contacts, 0);
    CentreSnapshot s;
    snap(now, &s);
    ck_assert_int_eq(s.total.today.withheld, 3);
    ck_assert_int_eq(s.total.today.identified, 0);
    /* answered, so counted, and never repeats */
    ck_assert_double_eq_tol(s.total.rates.repeat_rate, 0.0, 1e-12);
    ck_assert_double_eq_tol(s.total.rates.fcr_provisional_rate, 0.0, 1e-12);
    centre_snapshot_free(&s);
}
END_TEST

static const Notice *find_notice(NoticeKind kind, const char *agent)
{
    const Notice *found = NULL;
    for (size_t i = 0; i < fx.nnotices; i++)
        if (fx.notices[i].kind == kind && strcmp(fx.notices[i].agent, agent) == 0) {
            ck_assert_msg(found == NULL, "two notices of kind %d for %s", kind, agent);
            found = &fx.notices[i];
        }
    return found;
}

START_TEST(earlier_contacts_for_call_connected)
{
    KicTime now = tm("2026-11-18T11:00:30+01:00");
    C = centre_new(7, &CFG, now);
    /* outside the window of the new contact: 10 Nov 10:00 + 7 d < 18 Nov 11:00 */
    give(EV(EV_OFFERED, "x0", tm("2026-11-10T10:00:00+01:00"), .queue = "q", .key = K1), now);
    give(EV(EV_OFFERED, "x1", tm("2026-11-15T10:00:00+01:00"), .queue = "q", .key = K1), now);
    give(EV(EV_OFFERED, "x2", tm("2026-11-17T16:00:00+01:00"), .queue = "q2", .key = K1), now);
    give(EV(EV_OFFERED, "o", tm("2026-11-17T17:00:00+01:00"), .queue = "q", .key = K2), now);
    give(EV(EV_OFFERED, "y", tm("2026-11-18T11:00:00+01:00"), .queue = "q-huis", .key = K1), now);
    ck_assert_int_eq(apply_ev(C, ev_new(&EV(EV_ANSWERED, "y", tm("2026-11-18T11:00:10+01:00"),
                                           .agent = "a.jansen")),
                              now, true),
                     APPLY_NEW);
    const Notice *n = find_notice(NOTICE_CONNECTED, "a.jansen");
    ck_assert_ptr_nonnull(n);
    ck_assert_int_eq(n->tenant, 7);
    ck_assert_str_eq(n->call_id, "y");
    ck_assert_str_eq(n->queue, "q-huis");
    ck_assert_int_eq(n->earlier_contacts, 2); /* x1, x2; y is past x0's window */
    ck_assert(repeated("x0"));                /* by x1, within its window */
    ck_assert(repeated("x1"));
    ck_assert(repeated("x2"));
}
END_TEST

/* The earlier contact becomes known after the new one was offered but
 * before it is answered: call.connected must still count it. */
START_TEST(earlier_contacts_count_a_late_earlier_contact)
{
    KicTime now = tm("2026-11-18T11:00:30+01:00");
    C = centre_new(1, &CFG, now);
    give(EV(EV_OFFERED, "y", tm("2026-11-18T11:00:00+01:00"), .queue = "q", .key = K1), now);
    give(EV(EV_OFFERED, "x", tm("2026-11-17T10:00:00+01:00"), .queue = "q", .key = K1), now);
    ck_assert(repeated("x"));
    ck_assert_int_eq(apply_ev(C, ev_new(&EV(EV_ANSWERED, "y", tm("2026-11-18T11:00:20+01:00"),
                                           .agent = "a")),
                              now, true),
                     APPLY_NEW);
    const Notice *n = find_notice(NOTICE_CONNECTED, "a");
    ck_assert_ptr_nonnull(n);
    ck_assert_int_eq(n->earlier_contacts, 1);
}
END_TEST

/* The answer comes before its offer (a bridge reconnect): call.connected
 * goes out at once without a queue, and again when the offer comes, now
 * with the queue and the caller's earlier contacts. Once only. */
START_TEST(an_offer_after_its_answer_connects_again_with_the_queue)
{
    KicTime now = tm("2026-11-18T11:00:30+01:00");
    C = centre_new(1, &CFG, now);
    give(EV(EV_OFFERED, "x", tm("2026-11-17T10:00:00+01:00"), .queue = "q", .key = K1), now);
    ck_assert_int_eq(apply_ev(C, ev_new(&EV(EV_ANSWERED, "y", tm("2026-11-18T11:00:20+01:00"),
                                           .agent = "a")),
                              now, true),
                     APPLY_NEW);
    const Notice *n = find_notice(NOTICE_CONNECTED, "a");
    ck_assert_ptr_nonnull(n);
    ck_assert_str_eq(n->queue, "");
    ck_assert_int_eq(n->earlier_contacts, 0);
    ck_assert_int_eq(apply_ev(C, ev_new(&EV(EV_OFFERED, "y", tm("2026-11-18T11:00:00+01:00"),
                                           .queue = "q-huis", .key = K1)),
                              now, true),
                     APPLY_NEW);
    n = find_notice(NOTICE_CONNECTED, "a");
    ck_assert_ptr_nonnull(n);
    ck_assert_str_eq(n->call_id, "y");
    ck_assert_str_eq(n->queue, "q-huis");
    ck_assert_int_eq(n->earlier_contacts, 1);
    ck_assert_int_eq(apply_ev(C, ev_new(&EV(EV_HELD, "y", tm("2026-11-18T11:00:25+01:00"))), now,
                              true),
                     APPLY_NEW);
    ck_assert_ptr_null(find_notice(NOTICE_CONNECTED, "a"));
}
END_TEST

/* =====================================================================
 * (4) Agent states, transitions, notices
 * ===================================================================== */

static void expect_one_transition(const char *agent, AgentState state, KicTime since)
{
    ck_assert_msg(fx.ntransitions == 1, "expected one transition, got %zu", fx.ntransitions);
    const Transition *t = &fx.transitions[0];
    ck_assert_str_eq(t->agent, agent);
    ck_assert_msg(t->state == state, "transition to %s, expected %s", agent_state_names[t->state],
                  agent_state_names[state]);
    ck_assert_int_eq(t->since, since);
    Agent *a = centre_agent(C, agent);
    ck_assert_int_eq(a->state, state);
    ck_assert_int_eq(a->since, since);
}

static void expect_no_transition(void)
{
    ck_assert_msg(fx.ntransitions == 0, "unexpected transition of %s to %s", fx.transitions[0].agent,
                  agent_state_names[fx.transitions[0].state]);
}

/* Storage keeps one interval per agent, state and instant. Two calls
 * answered by one agent at the same instant, the second known only
 * after the first ended (out of order), open on_call from that instant
 * twice: within one batch it is sent once; another instant is sent; in
 * a later batch it is sent again, marked, while the first may not be
 * stored yet (the writer then writes that batch's intervals where a copy
 * stored is no error), not once the first is known to be stored. */
static size_t transitions_to(AgentState state, KicTime since)
{
    size_t n = 0;
    for (size_t i = 0; i < fx.ntransitions; i++)
        n += fx.transitions[i].state == state && fx.transitions[i].since == since;
    return n;
}

static void give_in_batch(EvSpec s, KicTime now)
{
    ck_assert_int_eq(centre_apply_event(C, ev_new(&s), NULL, now, true, &fx), APPLY_NEW);
}

/* How a batch's effects would have the calls row of `call` written:
 * 0 not at all, 'r' its repeat flag alone, 'f' the whole row. */
static char row_write(const char *call)
{
    for (size_t i = 0; i < fx.ndirty; i++)
        if (strcmp(fx.dirty[i]->call_id, call) == 0)
            return fx.dirty[i]->dirty_repeat_only ? 'r' : 'f';
    return 0;
}

START_TEST(a_later_contact_rewrites_only_the_repeat_flag_of_an_earlier_one)
{
    KicTime t = tm("2026-11-18T09:00:00+01:00");
    C = centre_new(3, &CFG, t);
    effects_reset(&fx);
    give_in_batch(EV(EV_OFFERED, "x", t, .queue = "q", .key = K1), t);
    ck_assert_int_eq(row_write("x"), 'f');
    effects_written(&fx);

    /* y follows x: x's flag alone changed */
    effects_reset(&fx);
    give_in_batch(EV(EV_OFFERED, "y", t + SEC(3600), .queue = "q", .key = K1), t);
    ck_assert(repeated("x"));
    ck_assert_int_eq(row_write("x"), 'r');
    ck_assert_int_eq(row_write("y"), 'f');
    effects_written(&fx);

    /* z follows y, and y is answered in the same batch: its whole row,
     * whichever came first */
    effects_reset(&fx);
    give_in_batch(EV(EV_OFFERED, "z", t + SEC(7200), .queue = "q", .key = K1), t);
    ck_assert_int_eq(row_write("y"), 'r');
    give_in_batch(EV(EV_ANSWERED, "y", t + SEC(3610), .agent = "a"), t);
    ck_assert_int_eq(row_write("y"), 'f');
    ck_assert_int_eq(row_write("x"), 0);
    effects_written(&fx);

    effects_reset(&fx);
    give_in_batch(EV(EV_ENDED, "z", t + SEC(7300), .by = BY_CALLER), t);
    give_in_batch(EV(EV_OFFERED, "w", t + SEC(9000), .queue = "q", .key = K1), t);
    ck_assert(repeated("z"));
    ck_assert_int_eq(row_write("z"), 'f');
    effects_written(&fx);
}
END_TEST

/* A batch of its own: `call` offered at t + 100 s, `prev` ending at
 * t + 200 s, then `call` answered by "a" at t + 110 s (the instant `prev`
 * was answered). How many on_call intervals from t + 110 s it sends, and
 * how many of those are marked as maybe stored by a batch before. */
static size_t answered_again_in_a_batch(KicTime t, const char *call, const char *prev,
                                        const char *key, size_t *marked)
{
    effects_reset(&fx);
    give_in_batch(EV(EV_OFFERED, call, t + SEC(100), .queue = "q", .key = key), t);
    give_in_batch(EV(EV_ENDED, prev, t + SEC(200), .by = BY_CALLER), t);
    give_in_batch(EV(EV_ANSWERED, call, t + SEC(110), .agent = "a"), t);
    size_t n = transitions_to(AS_ON_CALL, t + SEC(110));
    *marked = 0;
    for (size_t i = 0; i < fx.ntransitions; i++)
        *marked += fx.transitions[i].maybe_stored;
    store_take(&fx);
    effects_written(&fx);
    return n;
}

START_TEST(an_interval_opened_again_in_a_batch_is_sent_once)
{
    KicTime t = tm("2026-11-18T09:00:00+01:00");
    C = centre_new(3, &CFG, t);
    effects_reset(&fx); /* one batch */
    give_in_batch(EV(EV_OFFERED, "c1", t, .queue = "q", .key = K1), t);
    give_in_batch(EV(EV_OFFERED, "c2", t, .queue = "q", .key = K2), t);
    give_in_batch(EV(EV_ANSWERED, "c1", t + SEC(10), .agent = "a"), t);
    give_in_batch(EV(EV_ENDED, "c1", t + SEC(60), .by = BY_CALLER), t);
    give_in_batch(EV(EV_ANSWERED, "c2", t + SEC(10), .agent = "a"), t); /* late */
    ck_assert_int_eq(centre_agent(C, "a")->state, AS_ON_CALL);
    ck_assert_int_eq(centre_agent(C, "a")->since, t + SEC(10));
    ck_assert_uint_eq(transitions_to(AS_ON_CALL, t + SEC(10)), 1);
    give_in_batch(EV(EV_ENDED, "c2", t + SEC(30), .by = BY_CALLER), t);
    give_in_batch(EV(EV_OFFERED, "c3", t + SEC(100), .queue = "q", .key = K1), t);
    give_in_batch(EV(EV_ANSWERED, "c3", t + SEC(110), .agent = "a"), t);
    ck_assert_uint_eq(transitions_to(AS_ON_CALL, t + SEC(110)), 1);
    for (size_t i = 0; i < fx.ntransitions; i++)
        ck_assert(!fx.transitions[i].maybe_stored);
    store_take(&fx);
    effects_written(&fx);

    /* the next batch, the first not known to be stored: c4 answered at
     * the instant c3 was, after c3 ended */
    uint64_t first = fx.batch;
    size_t marked;
    ck_assert_uint_eq(answered_again_in_a_batch(t, "c4", "c3", K2, &marked), 1);
    ck_assert_uint_eq(marked, 1); /* the first batch may have committed by now */
    /* both stored: a third copy is not sent ... */
    fx.trusted_from = first;
    fx.stored_through = fx.batch;
    ck_assert_uint_eq(answered_again_in_a_batch(t, "c5", "c4", K3, &marked), 0);
    ck_assert_int_eq(centre_agent(C, "a")->state, AS_ON_CALL);
    /* ... unless a batch failed since: nothing before it is relied on */
    fx.trusted_from = fx.batch + 1;
    fx.stored_through = fx.batch;
    ck_assert_uint_eq(answered_again_in_a_batch(t, "c6", "c5", K1, &marked), 1);
    fx.trusted_from = fx.stored_through = 0;
}
END_TEST

/* Calls from before an agent's choice, each in a batch of its own and
 * each batch stored (a bridge catching up while the agent works): every
 * call sends the intervals after it again, more than an agent remembers
 * opening. An interval sent again after a batch that stored it is marked,
 * so storage takes the copy without failing the batch. */
START_TEST(an_interval_stored_long_ago_is_sent_again_marked)
{
    KicTime t = tm("2026-11-18T09:00:00+01:00");
    C = centre_new(3, &CFG, t);
    set_state("a", AS_AVAILABLE, NULL, t);
    struct {
        AgentState state;
        KicTime since;
    } sent[256];
    size_t nsent = 0, again = 0;
    uint64_t first = fx.batch;
    for (int i = 0; i < 8; i++) {
        effects_reset(&fx);
        char id[8];
        snprintf(id, sizeof(id), "p%d", i);
        KicTime off = t - SEC(600 - 60 * i);
        give_in_batch(EV(EV_OFFERED, id, off, .queue = "q", .key = K1), t);
        give_in_batch(EV(EV_ANSWERED, id, off + SEC(5), .agent = "a"), t);
        give_in_batch(EV(EV_ENDED, id, off + SEC(20), .by = BY_CALLER), t);
        for (size_t k = 0; k < fx.ntransitions; k++) {
            const Transition *tr = &fx.transitions[k];
            bool seen = false;
            for (size_t j = 0; j < nsent; j++)
                seen |= sent[j].state == tr->state && sent[j].since == tr->since;
            if (seen) {
                again++;
                ck_assert_msg(tr->maybe_stored, "call %d sends %s from %lld again unmarked", i,
                              agent_state_names[tr->state], (long long)((tr->since - t) / SEC(1)));
            } else {
                ck_assert_uint_lt(nsent, KIC_ARRAY_LEN(sent));
                sent[nsent].state = tr->state;
                sent[nsent++].since = tr->since;
            }
        }
        store_take(&fx);
        effects_written(&fx);
        fx.trusted_from = first;
        fx.stored_through = fx.batch;
    }
    ck_assert_uint_gt(again, 0); /* the case happened */
    fx.trusted_from = fx.stored_through = 0;
}
END_TEST

/* The intervals a sequence of a call's events stores for agent "a"
 * (after "a" chose available), as "state@offset_s" in the order sent. */
static void intervals_chosen(AgentState chosen, const EvSpec *evs, const int *order, int n,
                             char *out, size_t size)
{
    KicTime t = tm("2026-11-18T09:00:00+01:00");
    C = centre_new(3, &CFG, t);
    set_state("a", chosen, NULL, t - HOUR(1));
    out[0] = '\0';
    for (int i = 0; i < n; i++) {
        give(evs[order[i]], t + SEC(400));
        for (size_t k = 0; k < fx.ntransitions; k++) {
            size_t len = strlen(out);
            snprintf(out + len, size - len, "%s@%lld ", agent_state_names[fx.transitions[k].state],
                     (long long)((fx.transitions[k].since - t) / SEC(1)));
        }
    }
    centre_free(C);
    C = NULL;
}

static void intervals_of(const EvSpec *evs, const int *order, int n, char *out, size_t size)
{
    intervals_chosen(AS_AVAILABLE, evs, order, n, out, size);
}

/* A part whose end comes before its answer was never seen on a call;
 * its talk is stored all the same: every order of its events stores the
 * intervals that time order does. */
START_TEST(a_part_ended_before_it_was_answered_keeps_its_talk)
{
    KicTime t = tm("2026-11-18T09:00:00+01:00");
    const EvSpec evs[] = {
        EV(EV_OFFERED, "c", t, .queue = "q", .key = K1),
        EV(EV_ANSWERED, "c", t + SEC(10), .agent = "a"),
        EV(EV_ENDED, "c", t + SEC(100), .by = BY_CALLER),
    };
    static const int orders[][3] = {{0, 1, 2}, {0, 2, 1}, {2, 0, 1}, {2, 1, 0}, {1, 2, 0}, {1, 0, 2}};
    char in_time[256], other[256];
    intervals_of(evs, orders[0], 3, in_time, sizeof(in_time));
    ck_assert_str_eq(in_time, "on_call@10 acw@100 ");
    for (size_t o = 1; o < KIC_ARRAY_LEN(orders); o++) {
        intervals_of(evs, orders[o], 3, other, sizeof(other));
        ck_assert_msg(strstr(other, "on_call@10 ") && strstr(other, "acw@100 "),
                      "order %zu stored %s, in time order %s", o, other, in_time);
    }
}
END_TEST

/* The same for an agent who is offline (their desktop closed): the state
 * after the part is the one they were in, offline, and the talk must not
 * stay open in storage whatever the order (it did when the end came
 * before the answer: nothing changed state then). */
START_TEST(an_offline_agents_part_ends_in_storage_in_every_order)
{
    KicTime t = tm("2026-11-18T09:00:00+01:00");
    const EvSpec evs[] = {
        EV(EV_OFFERED, "c", t, .queue = "q", .key = K1),
        EV(EV_ANSWERED, "c", t + SEC(10), .agent = "a"),
        EV(EV_TRANSFERRED, "c", t + SEC(40), .agent = "a", .target = "wijkteam", .kind = TK_CARE_TEAM),
        EV(EV_ENDED, "c", t + SEC(100), .by = BY_CALLER),
    };
    int order[4] = {0, 1, 2, 3};
    char in_time[256], other[256];
    intervals_chosen(AS_OFFLINE, evs, order, 4, in_time, sizeof(in_time));
    ck_assert_str_eq(in_time, "on_call@10 offline@40 ");
    for (int p = 0; p < 24; p++) { /* every order of the four */
        int rest[4] = {0, 1, 2, 3}, k = p;
        for (int i = 0; i < 4; i++) {
            int pick = k % (4 - i);
            k /= 4 - i;
            order[i] = rest[pick];
            memmove(&rest[pick], &rest[pick + 1], (size_t)(3 - i - pick) * sizeof(int));
        }
        intervals_chosen(AS_OFFLINE, evs, order, 4, other, sizeof(other));
        ck_assert_msg(strstr(other, "on_call@10 ") && strstr(other, "offline@40 "),
                      "order %d%d%d%d stored %s, in time order %s", order[0], order[1], order[2],
                      order[3], other, in_time);
    }
}
END_TEST

START_TEST(agent_on_call_acw_available)
{
    KicTime t = tm("2026-11-18T09:00:00+01:00");
    C = centre_new(3, &CFG, t);
    set_state("a", AS_AVAILABLE, NULL, t - HOUR(1));
    expect_one_transition("a", AS_AVAILABLE, t - HOUR(1));
    ck_assert_int_eq(fx.transitions[0].tenant, 3);
    ck_assert_str_eq(fx.transitions[0].reason, "");

    offer("c", t, "q", K1);
    expect_no_transition();
    answer("c", t + SEC(10), "a");
    expect_one_transition("a", AS_ON_CALL, t + SEC(10));
    const Notice *n = find_notice(NOTICE_CONNECTED, "a");
    ck_assert_ptr_nonnull(n);
    ck_assert_str_eq(n->call_id, "c");
    ck_assert_str_eq(n->queue, "q");
    ck_assert_int_eq(n->tenant, 3);

    end_call("c", t + SEC(300));
    expect_one_transition("a", AS_ACW, t + SEC(300));
    n = find_notice(NOTICE_ENDED, "a");
    ck_assert_ptr_nonnull(n);
    ck_assert(!n->transferred);
    ck_assert(n->wrapup_due);
    ck_assert_ptr_null(find_notice(NOTICE_CONNECTED, "a"));

    int64_t acw = -1;
    ck_assert_int_eq(wrap("c", "a", t + SEC(345), true, &acw), WRAPUP_OK);
    ck_assert_int_eq(acw, SEC(45)); /* 345 - 300 */
    expect_one_transition("a", AS_AVAILABLE, t + SEC(345));
    ck_assert_int_eq(sum_of("c")->acw_us, SEC(45));

    CentreSnapshot s;
    snap(t + SEC(400), &s);
    ck_assert_int_eq(s.total.agents[AS_AVAILABLE], 1);
    ck_assert_int_eq(s.total.agents[AS_ACW], 0);
    ck_assert_int_eq(snap_queue(&s, "q")->agents[AS_AVAILABLE], 1);
    ck_assert_int_eq(s.total.today.acw_n, 1);
    ck_assert_int_eq(s.total.today.acw_us, SEC(45));
    centre_snapshot_free(&s);
}
END_TEST

/* A desktop may wrap up before the caller hangs up: the end then owes
 * nothing, and its notice says so. */
START_TEST(end_after_wrapup_during_the_call_is_not_due)
{
    KicTime t = tm("2026-11-18T09:00:00+01:00");
    C = centre_new(1, &CFG, t);
    set_state("a", AS_AVAILABLE, NULL, t - HOUR(1));
    offer("c", t, "q", K1);
    answer("c", t + SEC(10), "a");
    int64_t acw = -1;
    ck_assert_int_eq(wrap("c", "a", t + SEC(200), true, &acw), WRAPUP_OK);
    end_call("c", t + SEC(300));
    const Notice *n = find_notice(NOTICE_ENDED, "a");
    ck_assert_ptr_nonnull(n);
    ck_assert(!n->wrapup_due);
    ck_assert_int_eq(centre_agent(C, "a")->state, AS_AVAILABLE);
}
END_TEST

START_TEST(transfer_ends_the_part_and_starts_acw)
{
    KicTime t = tm("2026-11-18T09:00:00+01:00");
    C = centre_new(1, &CFG, t);
    set_state("a", AS_AVAILABLE, NULL, t - HOUR(1));
    set_state("b", AS_AVAILABLE, NULL, t - HOUR(1));
    offer("c", t, "q", K1);
    answer("c", t + SEC(10), "a");
    give(EV(EV_TRANSFERRED, "c", t + SEC(100), .agent = "a", .target = "b", .kind = TK_AGENT,
            .mode = TM_ATTENDED),
         t + SEC(100));
    expect_one_transition("a", AS_ACW, t + SEC(100));
    const Notice *n = find_notice(NOTICE_ENDED, "a");
    ck_assert_ptr_nonnull(n);
    ck_assert(n->transferred);
    answer("c", t + SEC(105), "b");
    expect_one_transition("b", AS_ON_CALL, t + SEC(105));
    ck_assert_int_eq(centre_agent(C, "a")->state, AS_ACW);
    end_call("c", t + SEC(200));
    expect_one_transition("b", AS_ACW, t + SEC(200));
    /* a's part ended earlier: nothing new for a */
    ck_assert_ptr_null(find_notice(NOTICE_ENDED, "a"));
    ck_assert_ptr_nonnull(find_notice(NOTICE_ENDED, "b"));
}
END_TEST

START_TEST(break_chosen_during_acw_stays_after_wrapup)
{
    KicTime t = tm("2026-11-18T09:00:00+01:00");
    C = centre_new(1, &CFG, t);
    set_state("a", AS_AVAILABLE, NULL, t - HOUR(1));
    talked("c", "a", K1, t);
    set_state("a", AS_BREAK, "lunch", t + SEC(110));
    expect_no_transition(); /* still after-call work */
    ck_assert_int_eq(centre_agent(C, "a")->state, AS_ACW);
    ck_assert_int_eq(centre_agent(C, "a")->chosen, AS_BREAK);
    ck_assert(wrap("c", "a", t + SEC(130), false, NULL) == WRAPUP_OK);
    expect_one_transition("a", AS_BREAK, t + SEC(130));
}
END_TEST

/* The break taken after the wrap-up is the one chosen with its reason;
 * the transition row should carry that reason. */
START_TEST(break_after_wrapup_keeps_its_reason)
{
    KicTime t = tm("2026-11-18T09:00:00+01:00");
    C = centre_new(1, &CFG, t);
    set_state("a", AS_AVAILABLE, NULL, t - HOUR(1));
    talked("c", "a", K1, t);
    set_state("a", AS_BREAK, "lunch", t + SEC(110));
    ck_assert(wrap("c", "a", t + SEC(130), false, NULL) == WRAPUP_OK);
    expect_one_transition("a", AS_BREAK, t + SEC(130));
    ck_assert_str_eq(fx.transitions[0].reason, "lunch");
}
END_TEST

/* A wrap-up that comes after a later choice (work queued on a desktop
 * and sent late) ends the ACW at its own time: from then on the agent is
 * in what they had chosen by then, and on break from the break. */
static const Transition *transition_to(AgentState state, KicTime since)
{
    for (size_t i = 0; i < fx.ntransitions; i++)
        if (fx.transitions[i].state == state && fx.transitions[i].since == since)
            return &fx.transitions[i];
    return NULL;
}

START_TEST(a_late_wrapup_ends_acw_before_a_later_break)
{
    KicTime t = tm("2026-11-18T09:00:00+01:00");
    C = centre_new(1, &CFG, t);
    set_state("a", AS_AVAILABLE, "ready", t - HOUR(1));
    talked("c", "a", K1, t);
    set_state("a", AS_BREAK, "lunch", t + SEC(110));
    expect_no_transition();
    ck_assert(wrap("c", "a", t + SEC(105), true, NULL) == WRAPUP_OK);
    ck_assert_uint_eq(fx.ntransitions, 2);
    const Transition *back = transition_to(AS_AVAILABLE, t + SEC(105));
    ck_assert_ptr_nonnull(back);
    ck_assert_str_eq(back->reason, "ready");
    ck_assert(back->maybe_stored);
    const Transition *brk = transition_to(AS_BREAK, t + SEC(110));
    ck_assert_ptr_nonnull(brk);
    ck_assert_str_eq(brk->reason, "lunch");
    ck_assert_int_eq(centre_agent(C, "a")->state, AS_BREAK);
    ck_assert_int_eq(centre_agent(C, "a")->since, t + SEC(110));
    ck_assert_int_eq(sum_of("c")->acw_us, SEC(5));
}
END_TEST

/* Logging off ended the ACW when it was still owed; the wrap-up dated
 * before that shortens it, and every choice after comes again (marked:
 * the ones stored are no error). */
START_TEST(a_late_wrapup_dates_the_choices_after_it)
{
    KicTime t = tm("2026-11-18T09:00:00+01:00");
    C = centre_new(1, &CFG, t);
    set_state("a", AS_AVAILABLE, NULL, t - HOUR(1));
    talked("c", "a", K1, t);
    set_state("a", AS_OFFLINE, "home", t + SEC(120));
    expect_one_transition("a", AS_OFFLINE, t + SEC(120));
    set_state("a", AS_AVAILABLE, NULL, t + SEC(200));
    expect_one_transition("a", AS_AVAILABLE, t + SEC(200));
    ck_assert(wrap("c", "a", t + SEC(110), true, NULL) == WRAPUP_OK);
    ck_assert_uint_eq(fx.ntransitions, 3);
    ck_assert_ptr_nonnull(transition_to(AS_AVAILABLE, t + SEC(110)));
    ck_assert_ptr_nonnull(transition_to(AS_OFFLINE, t + SEC(120)));
    ck_assert_str_eq(transition_to(AS_OFFLINE, t + SEC(120))->reason, "home");
    ck_assert_ptr_nonnull(transition_to(AS_AVAILABLE, t + SEC(200)));
    for (size_t i = 0; i < fx.ntransitions; i++)
        ck_assert(fx.transitions[i].maybe_stored);
    ck_assert_int_eq(centre_agent(C, "a")->state, AS_AVAILABLE);
    ck_assert_int_eq(centre_agent(C, "a")->since, t + SEC(200));
}
END_TEST

/* An agent who talked before ever logging in (a phone without a desktop)
 * was offline after the wrap-up, until they chose a state. */
START_TEST(a_late_wrapup_of_an_agent_never_logged_in_is_offline_after)
{
    KicTime t = tm("2026-11-18T09:00:00+01:00");
    C = centre_new(1, &CFG, t);
    talked("c", "a", K1, t);
    set_state("a", AS_AVAILABLE, NULL, t + HOUR(6));
    /* logged in, owing the wrap-up: in ACW from the login, offline before */
    expect_one_transition("a", AS_ACW, t + HOUR(6));
    ck_assert_int_eq(centre_agent(C, "a")->since, t + HOUR(6));
    ck_assert(wrap("c", "a", t + SEC(130), true, NULL) == WRAPUP_OK);
    ck_assert_ptr_nonnull(transition_to(AS_OFFLINE, t + SEC(130)));
    ck_assert_ptr_nonnull(transition_to(AS_AVAILABLE, t + HOUR(6)));
    ck_assert_uint_eq(fx.ntransitions, 2);
}
END_TEST

/* What was chosen at the wrap-up's time must be known: after a restart
 * (storage keeps the latest choice) or past the choices kept, a wrap-up
 * dated before them leaves the ACW until the first known one. */
START_TEST(a_late_wrapup_before_any_known_choice_changes_nothing_more)
{
    KicTime t = tm("2026-11-18T09:00:00+01:00");
    C = centre_new(1, &CFG, t);
    talked("c", "a", K1, t);
    centre_load_agent(C, "a", AS_BREAK, t + SEC(110), "lunch", KIC_TIME_NONE, KIC_TIME_NONE);
    ck_assert(wrap("c", "a", t + SEC(105), true, NULL) == WRAPUP_OK);
    expect_one_transition("a", AS_BREAK, t + SEC(110));
    ck_assert(!fx.transitions[0].maybe_stored);

    offer("d", t + SEC(200), "q", K2);
    answer("d", t + SEC(210), "b");
    end_call("d", t + SEC(300));
    for (int i = 0; i <= AGENT_CHOICES_KEPT; i++)
        set_state("b", i % 2 ? AS_BREAK : AS_AVAILABLE, NULL, t + SEC(400 + i));
    ck_assert(wrap("d", "b", t + SEC(350), true, NULL) == WRAPUP_OK);
    expect_one_transition("b", AS_AVAILABLE, t + SEC(400 + AGENT_CHOICES_KEPT));
    /* the ninth choice pushed out the first; one dated after is known */
    offer("e", t + SEC(500), "q", K3);
    answer("e", t + SEC(510), "b");
    end_call("e", t + SEC(600));
    set_state("b", AS_BREAK, NULL, t + SEC(700));
    ck_assert(wrap("e", "b", t + SEC(650), true, NULL) == WRAPUP_OK);
    ck_assert_ptr_nonnull(transition_to(AS_AVAILABLE, t + SEC(650)));
    ck_assert_ptr_nonnull(transition_to(AS_BREAK, t + SEC(700)));
}
END_TEST

START_TEST(offline_beats_acw)
{
    KicTime t = tm("2026-11-18T09:00:00+01:00");
    C = centre_new(1, &CFG, t);
    set_state("a", AS_AVAILABLE, NULL, t - HOUR(1));
    talked("c", "a", K1, t);
    ck_assert_int_eq(centre_agent(C, "a")->state, AS_ACW);
    set_state("a", AS_OFFLINE, "home", t + SEC(120));
    expect_one_transition("a", AS_OFFLINE, t + SEC(120));
    ck_assert_str_eq(fx.transitions[0].reason, "home");
    /* back again: the ACW ended when they logged off */
    set_state("a", AS_AVAILABLE, NULL, t + SEC(200));
    expect_one_transition("a", AS_AVAILABLE, t + SEC(200));
    /* the wrap-up may still come; it changes no state, nor since when */
    ck_assert(wrap("c", "a", t + SEC(250), true, NULL) == WRAPUP_OK);
    expect_no_transition();
    ck_assert_int_eq(centre_agent(C, "a")->since, t + SEC(200));
    ck_assert_int_eq(sum_of("c")->acw_us, SEC(150));
}
END_TEST

/* Logged off in ACW, wrapped up while still offline: offline since the
 * logoff (agents.list), not since the wrap-up, in either order. */
START_TEST(a_wrapup_after_logging_off_leaves_offline_since_the_logoff)
{
    KicTime t = tm("2026-11-18T09:00:00+01:00");
    for (int order = 0; order < 2; order++) {
        C = centre_new(1, &CFG, t);
        set_state("a", AS_AVAILABLE, NULL, t - HOUR(1));
        talked("c", "a", K1, t);
        if (order == 0) {
            set_state("a", AS_OFFLINE, NULL, t + SEC(120));
            ck_assert(wrap("c", "a", t + SEC(300), true, NULL) == WRAPUP_OK);
        } else {
            ck_assert(wrap("c", "a", t + SEC(300), true, NULL) == WRAPUP_OK);
            set_state("a", AS_OFFLINE, NULL, t + SEC(120));
        }
        ck_assert_int_eq(centre_agent(C, "a")->state, AS_OFFLINE);
        ck_assert_int_eq(centre_agent(C, "a")->since, t + SEC(120));
        centre_free(C);
        C = NULL;
    }
}
END_TEST

/* A desktop that restores its state after a reconnect chooses again what
 * is in effect: nothing changes, not since when; another reason is a new
 * choice. */
START_TEST(the_same_choice_again_changes_nothing)
{
    KicTime t = tm("2026-11-18T09:00:00+01:00");
    C = centre_new(1, &CFG, t);
    effects_reset(&fx);
    ck_assert(centre_set_agent_state(C, "a", AS_BREAK, "lunch", t, &fx));
    expect_one_transition("a", AS_BREAK, t);
    effects_reset(&fx);
    ck_assert(!centre_set_agent_state(C, "a", AS_BREAK, "lunch", t + SEC(60), &fx));
    expect_no_transition();
    ck_assert_int_eq(centre_agent(C, "a")->since, t);
    ck_assert_int_eq(centre_agent(C, "a")->chosen_since, t);
    ck_assert(centre_set_agent_state(C, "a", AS_BREAK, "overleg", t + SEC(120), &fx));
    ck_assert_str_eq(centre_agent(C, "a")->reason, "overleg");
    ck_assert_int_eq(centre_agent(C, "a")->chosen_since, t + SEC(120));
    ck_assert(centre_set_agent_state(C, "a", AS_BREAK, NULL, t + SEC(180), &fx));
    ck_assert(!centre_set_agent_state(C, "a", AS_BREAK, NULL, t + SEC(240), &fx));
    /* a new agent's first choice counts, even of offline */
    ck_assert(centre_set_agent_state(C, "b", AS_OFFLINE, NULL, t, &fx));
    ck_assert(!centre_set_agent_state(C, "b", AS_OFFLINE, NULL, t + SEC(1), &fx));
}
END_TEST

START_TEST(offline_exactly_at_the_end_owes_no_acw)
{
    KicTime t = tm("2026-11-18T09:00:00+01:00");
    C = centre_new(1, &CFG, t);
    set_state("a", AS_AVAILABLE, NULL, t - HOUR(1));
    offer("c", t, "q", K1);
    answer("c", t + SEC(10), "a");
    set_state("a", AS_OFFLINE, NULL, t + SEC(100));
    expect_no_transition(); /* on a call: on_call wins */
    end_call("c", t + SEC(100)); /* ended at the same instant: not after */
    expect_one_transition("a", AS_OFFLINE, t + SEC(100));
    set_state("a", AS_AVAILABLE, NULL, t + SEC(150));
    expect_one_transition("a", AS_AVAILABLE, t + SEC(150));
    /* a part ending after going offline is owed: late event order */
    offer("d", t + SEC(200), "q", K2);
    answer("d", t + SEC(210), "a");
    set_state("a", AS_OFFLINE, NULL, t + SEC(250));
    end_call("d", t + SEC(260));
    ck_assert_int_eq(centre_agent(C, "a")->state, AS_OFFLINE);
    set_state("a", AS_AVAILABLE, NULL, t + SEC(270));
    /* back, and owing the ACW of that part: in it from the login, as
     * occupancy counts it (offline when the part ended) */
    expect_one_transition("a", AS_ACW, t + SEC(270));
    ck_assert_int_eq(centre_agent(C, "a")->since, t + SEC(270));
    set_state("a", AS_BREAK, NULL, t + SEC(280)); /* still logged in, still owing */
    expect_no_transition();
    ck_assert_int_eq(centre_agent(C, "a")->since, t + SEC(270));
}
END_TEST

START_TEST(new_call_ends_unwrapped_acw)
{
    KicTime t = tm("2026-11-18T09:00:00+01:00");
    C = centre_new(1, &CFG, t);
    set_state("a", AS_AVAILABLE, NULL, t - HOUR(1));
    talked("c1", "a", K1, t);
    expect_one_transition("a", AS_ACW, t + SEC(100));
    offer("c2", t + SEC(110), "q", K2);
    answer("c2", t + SEC(120), "a");
    expect_one_transition("a", AS_ON_CALL, t + SEC(120));
    end_call("c2", t + SEC(200));
    expect_one_transition("a", AS_ACW, t + SEC(200));
    ck_assert(wrap("c2", "a", t + SEC(220), true, NULL) == WRAPUP_OK);
    expect_one_transition("a", AS_AVAILABLE, t + SEC(220));
    /* the first call's wrap-up, late: no state change, its ACW is counted */
    ck_assert(wrap("c1", "a", t + SEC(300), true, NULL) == WRAPUP_OK);
    expect_no_transition();
    ck_assert_int_eq(sum_of("c1")->acw_us, SEC(200));
}
END_TEST

/* An agent on two contacts at once (a chat beside a call) owes the
 * wrap-up of each: after the one wrapped up first they are on the other,
 * then in its ACW until it is wrapped up too, in either order of ending.
 * (They were "available" while a wrap-up was owed.) */
START_TEST(two_contacts_at_once_owe_both_wrapups)
{
    KicTime t = tm("2026-11-18T09:00:00+01:00");
    for (int order = 0; order < 2; order++) {
        C = centre_new(1, &CFG, t);
        set_state("a", AS_AVAILABLE, NULL, t - HOUR(1));
        offer("A", t, "q", K1);
        answer("A", t + SEC(10), "a");
        expect_one_transition("a", AS_ON_CALL, t + SEC(10));
        offer("B", t + SEC(20), "q", K2);
        answer("B", t + SEC(30), "a");
        if (order == 0) { /* B ends and is wrapped up while A goes on */
            end_call("B", t + SEC(100));
            ck_assert(wrap("B", "a", t + SEC(110), true, NULL) == WRAPUP_OK);
            ck_assert_int_eq(centre_agent(C, "a")->state, AS_ON_CALL);
            end_call("A", t + SEC(200));
            expect_one_transition("a", AS_ACW, t + SEC(200));
        } else { /* A ends first, then B; only B is wrapped up */
            end_call("A", t + SEC(100));
            ck_assert_int_eq(centre_agent(C, "a")->state, AS_ON_CALL);
            end_call("B", t + SEC(200));
            expect_one_transition("a", AS_ACW, t + SEC(200));
            ck_assert(wrap("B", "a", t + SEC(210), true, NULL) == WRAPUP_OK);
            expect_no_transition();
            ck_assert_int_eq(centre_agent(C, "a")->state, AS_ACW);
            ck_assert_int_eq(centre_agent(C, "a")->since, t + SEC(200));
        }
        int64_t acw = -1;
        ck_assert(wrap("A", "a", t + SEC(260), true, &acw) == WRAPUP_OK);
        expect_one_transition("a", AS_AVAILABLE, t + SEC(260));
        ck_assert_int_eq(acw, order == 0 ? SEC(60) : SEC(160));
        centre_free(C);
        C = NULL;
    }
}
END_TEST

/* The same calls loaded into a fresh centre (a restart): the agent's
 * state and since must be what the running centre says. */
static void assert_restart_agrees(const char *const *ids, size_t n, const char *agent,
                                  AgentState chosen, KicTime chosen_since, KicTime now)
{
    Centre *r = centre_new(1, &CFG, now);
    for (size_t k = 0; k < n; k++) {
        Call *call = centre_call(C, ids[k]);
        Event **evs = calloc(call->nevents, sizeof(Event *));
        for (size_t i = 0; i < call->nevents; i++)
            evs[i] = ev_clone(call->events[i]);
        Wrapup **ws = calloc(call->nwrapups + 1, sizeof(Wrapup *));
        for (size_t i = 0; i < call->nwrapups; i++)
            ws[i] = wrapup_new(call->wrapups[i]->agent, "cat", call->wrapups[i]->at, true,
                               FU_NONE, CT_CLIENT);
        centre_load_call(r, evs, call->nevents, ws, call->nwrapups, false, now, NULL);
        free(evs);
        free(ws);
    }
    centre_load_agent(r, agent, chosen, chosen_since, NULL, KIC_TIME_NONE, chosen_since);
    const Agent *was = centre_agent(C, agent), *is = centre_agent(r, agent);
    ck_assert_msg(was->state == is->state, "running %s, restarted %s",
                  agent_state_names[was->state], agent_state_names[is->state]);
    ck_assert_int_eq(was->since, is->since);
    centre_free(r);
}

/* A late event takes the agent's latest part away: the part before it is
 * the latest again, and a part that ended before that one began owes no
 * ACW (it came back as "acw", backdated, and a restart said available). */
START_TEST(losing_the_latest_part_makes_the_one_before_latest)
{
    KicTime d = tm("2026-11-18T09:00:00+01:00"), now = d + HOUR(3);
    C = centre_new(1, &CFG, now);
    set_state("a", AS_AVAILABLE, NULL, d - HOUR(1));
    offer("A", d, "q", K1);
    answer("A", d + SEC(10), "a");
    end_call("A", d + SEC(20)); /* never wrapped up: the next call ended its ACW */
    offer("C", d + SEC(60), "q", K2);
    answer("C", d + SEC(60), "a");
    end_call("C", d + SEC(120));
    ck_assert(wrap("C", "a", d + SEC(130), true, NULL) == WRAPUP_OK);
    offer("B", d + SEC(300), "q", K3);
    answer("B", d + SEC(320), "a");
    ck_assert_int_eq(centre_agent(C, "a")->state, AS_ON_CALL);
    /* B's end, dated before its answer: the agent never had that part */
    give_in_batch(EV(EV_ENDED, "B", d + SEC(310), .by = BY_CALLER), now);
    ck_assert_int_eq(centre_agent(C, "a")->state, AS_AVAILABLE);
    ck_assert_int_eq(centre_agent(C, "a")->since, d + SEC(130));
    static const char *const ids[] = {"B", "C", "A"};
    assert_restart_agrees(ids, 3, "a", AS_AVAILABLE, d - HOUR(1), now);
}
END_TEST

/* Two contacts at once, the later wrapped up first: a wrap-up of the other
 * that comes late, dated before that one, ends the ACW at the wrap-up done
 * last (120), not at its own time (115). */
START_TEST(a_late_wrapup_of_two_at_once_ends_acw_at_the_last_done)
{
    KicTime t = tm("2026-11-18T09:00:00+01:00");
    C = centre_new(1, &CFG, t + HOUR(1));
    set_state("a", AS_AVAILABLE, NULL, t - HOUR(1));
    offer("A", t, "q", K1);
    answer("A", t + SEC(10), "a");
    offer("B", t + SEC(20), "q", K2);
    answer("B", t + SEC(30), "a");
    end_call("A", t + SEC(100));
    end_call("B", t + SEC(110));
    ck_assert(wrap("B", "a", t + SEC(120), true, NULL) == WRAPUP_OK);
    set_state("a", AS_BREAK, "lunch", t + SEC(130));
    ck_assert(wrap("A", "a", t + SEC(115), true, NULL) == WRAPUP_OK);
    ck_assert_ptr_null(transition_to(AS_AVAILABLE, t + SEC(115)));
    ck_assert_ptr_nonnull(transition_to(AS_AVAILABLE, t + SEC(120)));
    ck_assert_ptr_nonnull(transition_to(AS_BREAK, t + SEC(130)));
    ck_assert_int_eq(centre_agent(C, "a")->state, AS_BREAK);
}
END_TEST

/* Five chats at once: the first, ending last unwrapped, is still owed. */
START_TEST(five_contacts_at_once_owe_the_first)
{
    KicTime t = tm("2026-11-18T09:00:00+01:00");
    C = centre_new(1, &CFG, t + HOUR(1));
    set_state("a", AS_AVAILABLE, NULL, t - HOUR(1));
    static const char *const ids[] = {"c1", "c2", "c3", "c4", "c5"};
    static const char *const keys[] = {K1, K2, K3, K1, K2};
    for (int i = 0; i < 5; i++) {
        offer(ids[i], t + SEC(i), "q", keys[i]);
        answer(ids[i], t + SEC(10 + 10 * i), "a");
    }
    for (int i = 1; i < 5; i++) {
        end_call(ids[i], t + SEC(100 + i));
        ck_assert(wrap(ids[i], "a", t + SEC(110 + i), true, NULL) == WRAPUP_OK);
    }
    end_call("c1", t + SEC(200));
    ck_assert_int_eq(centre_agent(C, "a")->state, AS_ACW);
    ck_assert_int_eq(centre_agent(C, "a")->since, t + SEC(200));
    assert_restart_agrees(ids, 5, "a", AS_AVAILABLE, t - HOUR(1), t + HOUR(1));
}
END_TEST

START_TEST(no_notices_when_replaying_or_too_old)
{
    KicTime t = tm("2026-11-18T09:00:00+01:00");
    C = centre_new(1, &CFG, t);
    /* not live */
    EvSpec s1 = EV(EV_OFFERED, "c", t, .queue = "q", .key = K1);
    EvSpec s2 = EV(EV_ANSWERED, "c", t + SEC(10), .agent = "a");
    ck_assert_int_eq(apply_ev(C, ev_new(&s1), t + SEC(10), false), APPLY_NEW);
    ck_assert_int_eq(apply_ev(C, ev_new(&s2), t + SEC(10), false), APPLY_NEW);
    ck_assert_uint_eq(fx.nnotices, 0);
    ck_assert_int_eq(centre_agent(C, "a")->state, AS_ON_CALL); /* states still move */
    /* live, but the answer is older than notice_max_age (120 s) */
    EvSpec s3 = EV(EV_OFFERED, "d", t, .queue = "q", .key = K1);
    EvSpec s4 = EV(EV_ANSWERED, "d", t + SEC(10), .agent = "b");
    ck_assert_int_eq(apply_ev(C, ev_new(&s3), t + SEC(131), true), APPLY_NEW);
    ck_assert_int_eq(apply_ev(C, ev_new(&s4), t + SEC(130) + 1, true), APPLY_NEW);
    ck_assert_uint_eq(fx.nnotices, 0);
    /* exactly notice_max_age old: still told */
    EvSpec s5 = EV(EV_OFFERED, "e", t, .queue = "q", .key = K1);
    EvSpec s6 = EV(EV_ANSWERED, "e", t + SEC(10), .agent = "e1");
    ck_assert_int_eq(apply_ev(C, ev_new(&s5), t + SEC(130), true), APPLY_NEW);
    ck_assert_int_eq(apply_ev(C, ev_new(&s6), t + SEC(130), true), APPLY_NEW);
    ck_assert_ptr_nonnull(find_notice(NOTICE_CONNECTED, "e1"));
    /* an end older than the limit: no call.ended */
    EvSpec s7 = EV(EV_ENDED, "e", t + SEC(20));
    ck_assert_int_eq(apply_ev(C, ev_new(&s7), t + SEC(141), true), APPLY_NEW);
    ck_assert_uint_eq(fx.nnotices, 0);
    ck_assert_int_eq(centre_agent(C, "e1")->state, AS_OFFLINE); /* never chose a state */
}
END_TEST

/* A caller transferred back to the first agent: a new part for them, so a
 * new call.connected. */
START_TEST(transfer_back_notifies_the_second_part)
{
    KicTime t = tm("2026-11-18T09:00:00+01:00");
    C = centre_new(1, &CFG, t);
    offer("c", t, "q", K1);
    answer("c", t + SEC(10), "a");
    give(EV(EV_TRANSFERRED, "c", t + SEC(40), .agent = "a", .target = "b", .kind = TK_AGENT), t + SEC(40));
    answer("c", t + SEC(45), "b");
    give(EV(EV_TRANSFERRED, "c", t + SEC(80), .agent = "b", .target = "a", .kind = TK_AGENT), t + SEC(80));
    answer("c", t + SEC(85), "a");
    ck_assert_int_eq(sum_of("c")->nlegs, 3);
    ck_assert_int_eq(centre_agent(C, "a")->state, AS_ON_CALL);
    ck_assert_msg(find_notice(NOTICE_CONNECTED, "a") != NULL, "no call.connected for a's second part");
}
END_TEST

/* ... and when the call ends, one call.ended for a (their second part),
 * not a second one for the part that ended at the first transfer. */
START_TEST(transfer_back_ends_with_one_notice)
{
    KicTime t = tm("2026-11-18T09:00:00+01:00");
    C = centre_new(1, &CFG, t);
    offer("c", t, "q", K1);
    answer("c", t + SEC(10), "a");
    give(EV(EV_TRANSFERRED, "c", t + SEC(40), .agent = "a", .target = "b", .kind = TK_AGENT), t + SEC(40));
    answer("c", t + SEC(45), "b");
    give(EV(EV_TRANSFERRED, "c", t + SEC(80), .agent = "b", .target = "a", .kind = TK_AGENT), t + SEC(80));
    answer("c", t + SEC(85), "a");
    end_call("c", t + SEC(120));
    const Notice *n = find_notice(NOTICE_ENDED, "a"); /* asserts there is only one */
    ck_assert_ptr_nonnull(n);
    ck_assert(!n->transferred);
    ck_assert_ptr_null(find_notice(NOTICE_ENDED, "b")); /* b's part ended at 80 */
}
END_TEST

/* The answer of the caller's new contact arrives before its offer, by an
 * agent who also took the caller's earlier contact: when the offer comes,
 * the agent is on the call all along and no transition may be reported. */
START_TEST(late_offer_reports_no_spurious_transitions)
{
    KicTime t = tm("2026-11-18T09:00:00+01:00");
    C = centre_new(1, &CFG, t);
    set_state("a", AS_AVAILABLE, NULL, t - HOUR(1));
    talked("x", "a", K1, t);
    ck_assert(wrap("x", "a", t + SEC(120), true, NULL) == WRAPUP_OK);
    /* the caller calls again; the answer arrives first */
    answer("y", t + SEC(600), "a");
    expect_one_transition("a", AS_ON_CALL, t + SEC(600));
    offer("y", t + SEC(590), "q", K1);
    ck_assert(repeated("x"));
    for (size_t i = 0; i < fx.ntransitions; i++)
        ck_abort_msg("spurious transition %zu: %s to %s", i, fx.transitions[i].agent,
                     agent_state_names[fx.transitions[i].state]);
    ck_assert_int_eq(centre_agent(C, "a")->state, AS_ON_CALL);
    ck_assert_int_eq(centre_agent(C, "a")->since, t + SEC(600));
}
END_TEST

/* =====================================================================
 * (5) Wrap-up checks
 * ===================================================================== */

START_TEST(wrapup_checks)
{
    KicTime t = tm("2026-11-18T09:00:00+01:00");
    C = centre_new(1, &CFG, t);
    offer("c", t, "q", K1);
    answer("c", t + SEC(10), "a");
    ck_assert_int_eq(centre_check_wrapup(C, "nope", "a", NONE, t + SEC(20)), WRAPUP_UNKNOWN_CALL);
    ck_assert_int_eq(centre_check_wrapup(C, "c", "b", NONE, t + SEC(20)), WRAPUP_NOT_YOURS);
    ck_assert_int_eq(centre_check_wrapup(C, "c", "a", NONE, t + SEC(10) - 1), WRAPUP_BEFORE_ANSWER);
    /* the agent id's holder since after the answer: someone else's part */
    ck_assert_int_eq(centre_check_wrapup(C, "c", "a", t + SEC(10) + 1, t + SEC(20)), WRAPUP_NOT_YOURS);
    ck_assert_int_eq(centre_check_wrapup(C, "c", "a", t + SEC(10), t + SEC(20)), WRAPUP_OK);
    ck_assert_int_eq(centre_check_wrapup(C, "c", "a", NONE, t + SEC(10)), WRAPUP_OK);
    /* wrapped up while still talking: ACW 0 now and after the end */
    int64_t acw = -1;
    ck_assert_int_eq(wrap("c", "a", t + SEC(50), true, &acw), WRAPUP_OK);
    ck_assert_int_eq(acw, 0);
    ck_assert_int_eq(centre_check_wrapup(C, "c", "a", NONE, t + SEC(60)), WRAPUP_ALREADY);
    end_call("c", t + SEC(90));
    ck_assert(sum_of("c")->wrapped);
    ck_assert_int_eq(sum_of("c")->acw_us, 0);
    ck_assert_int_eq(centre_check_wrapup(C, "c", "a", NONE, t + SEC(100)), WRAPUP_ALREADY);
    /* an unanswered call has nobody to wrap it up */
    offer("u", t, "q", K2);
    ck_assert_int_eq(centre_check_wrapup(C, "u", "a", NONE, t + SEC(20)), WRAPUP_NOT_YOURS);
    /* a second agent on a transferred call wraps up their own part */
    offer("d", t, "q", K3);
    answer("d", t + SEC(5), "a");
    give(EV(EV_TRANSFERRED, "d", t + SEC(50), .agent = "a", .target = "b", .kind = TK_AGENT), t + SEC(50));
    answer("d", t + SEC(55), "b");
    ck_assert_int_eq(centre_check_wrapup(C, "d", "b", NONE, t + SEC(54)), WRAPUP_BEFORE_ANSWER);
    acw = -1;
    ck_assert_int_eq(wrap("d", "a", t + SEC(80), true, &acw), WRAPUP_OK);
    ck_assert_int_eq(acw, SEC(30)); /* 80 - 50: from a's transfer */
    ck_assert_int_eq(wrap("d", "b", t + SEC(90), true, &acw), WRAPUP_OK);
    ck_assert_int_eq(acw, 0); /* b still on the call */
    ck_assert_int_eq(sum_of("d")->acw_us, SEC(30));
}
END_TEST

/* =====================================================================
 * (6) Rolling the day, eviction, loading
 * ===================================================================== */

START_TEST(roll_day_moves_counters_and_evicts)
{
    KicTime d = tm("2026-11-18T00:00:00+01:00");
    KicTime now = d + HOUR(12);
    C = centre_new(1, &CFG, now);
    set_state("a", AS_AVAILABLE, NULL, d);
    ck_assert_int_eq(centre_loaded_since(C), tm("2026-11-10T00:00:00+01:00"));
    /* yesterday, today, and tonight after midnight (applied early) */
    offer("yday", d - HOUR(3), "q", K1);
    offer("today", d + HOUR(9), "q", K2);
    answer("today", d + HOUR(9) + SEC(8), "a");
    end_call("today", d + HOUR(9) + SEC(100));
    offer("tonight", d + HOUR(24) + MIN(10), "q", K3);
    CentreSnapshot s;
    snap(now, &s);
    ck_assert_int_eq(s.total.today.offered, 1);
    ck_assert_int_eq(s.total.today.answered, 1);
    ck_assert_int_eq(snap_queue(&s, "q")->today.offered, 1);
    centre_snapshot_free(&s);
    ck_assert_int_eq(centre_agent(C, "a")->state, AS_ACW);

    /* the next day: only tonight's call counts */
    centre_roll_day(C, d + HOUR(24 + 8));
    snap(d + HOUR(24 + 8), &s);
    ck_assert_int_eq(s.total.today.offered, 1);
    ck_assert_int_eq(s.total.today.answered, 0);
    ck_assert_int_eq(s.total.waiting, 2); /* yday and tonight never ended */
    centre_snapshot_free(&s);
    ck_assert_ptr_nonnull(centre_call(C, "yday")); /* within cache_days */
    ck_assert_int_eq(centre_loaded_since(C), tm("2026-11-11T00:00:00+01:00"));

    /* nine days on: horizon = 27 Nov 00:00 - 8 days = 19 Nov 00:00 */
    KicTime far = tm("2026-11-27T10:00:00+01:00");
    centre_roll_day(C, far);
    ck_assert_ptr_null(centre_call(C, "yday"));
    ck_assert_ptr_null(centre_call(C, "today"));
    ck_assert_ptr_nonnull(centre_call(C, "tonight")); /* last fact 19 Nov 00:10 */
    ck_assert_int_eq(centre_loaded_since(C), tm("2026-11-19T00:00:00+01:00"));
    Agent *a = centre_agent(C, "a");
    ck_assert_ptr_null(a->latest_call);
    ck_assert_int_eq(a->latest_start, NONE);
    ck_assert_int_eq(a->state, AS_AVAILABLE); /* the evicted ACW is no longer owed */
    snap(far, &s);
    ck_assert_int_eq(s.total.today.offered, 0);
    ck_assert_int_eq(s.total.waiting, 1);
    ck_assert_int_eq(s.nqueues, 1); /* q: still a waiting call */
    centre_snapshot_free(&s);

    /* what must be loaded first */
    Event *old_evicted = ev_new(&EV(EV_ENDED, "today", d + HOUR(10)));
    Event *old_in_memory = ev_new(&EV(EV_ENDED, "tonight", d + HOUR(10)));
    Event *at_limit = ev_new(&EV(EV_ENDED, "today", tm("2026-11-19T00:00:00+01:00")));
    Event *just_before = ev_new(&EV(EV_ENDED, "today", tm("2026-11-19T00:00:00+01:00") - 1));
    Event *callback = ev_new(&EV(EV_CALLBACK_REQUESTED, "", d, .queue = "q", .callback_id = "cb"));
    Event *fresh = ev_new(&EV(EV_OFFERED, "new", far, .queue = "q"));
    ck_assert(centre_needs_load(C, old_evicted));
    ck_assert(!centre_needs_load(C, old_in_memory));
    ck_assert(!centre_needs_load(C, at_limit));
    ck_assert(centre_needs_load(C, just_before));
    ck_assert(!centre_needs_load(C, callback));
    ck_assert(!centre_needs_load(C, fresh));
    event_destroy(old_evicted);
    event_destroy(old_in_memory);
    event_destroy(at_limit);
    event_destroy(just_before);
    event_destroy(callback);
    event_destroy(fresh);
}
END_TEST

/* A late event for a call whose newest fact is older than cache_days
 * updates the call but not live state: after a restart memory holds no
 * such call, and the live figures must be the same as before it. */
START_TEST(a_late_event_for_a_call_older_than_the_cache_leaves_live_state_alone)
{
    KicTime d = tm("2026-11-24T00:00:00+01:00");
    KicTime now = d + HOUR(12);
    C = centre_new(1, &CFG, now); /* cache_days 8: from 16 Nov */
    set_state("a", AS_AVAILABLE, NULL, d + HOUR(8));
    KicTime old = tm("2026-11-14T10:00:00+01:00");
    ck_assert_int_eq(apply_ev(C, ev_new(&EV(EV_OFFERED, "old", old, .queue = "q")), now, true),
                     APPLY_NEW);
    ck_assert_int_eq(apply_ev(C, ev_new(&EV(EV_ANSWERED, "old", old + SEC(30), .agent = "a")), now,
                              true),
                     APPLY_NEW);
    ck_assert_int_eq(apply_ev(C, ev_new(&EV(EV_OFFERED, "unanswered", old, .queue = "q")), now,
                              true),
                     APPLY_NEW);
    ck_assert(sum_of("old")->answered); /* the call itself is derived */
    ck_assert(!centre_call(C, "old")->counted_live);
    ck_assert_int_eq(centre_agent(C, "a")->state, AS_AVAILABLE);
    ck_assert_ptr_null(centre_agent(C, "a")->latest_call);
    CentreSnapshot s;
    snap(now, &s);
    ck_assert_int_eq(s.total.waiting, 0);
    ck_assert_int_eq(s.total.agents[AS_ON_CALL], 0);
    ck_assert_int_eq(s.total.agents[AS_AVAILABLE], 1);
    centre_snapshot_free(&s);

    /* within the cache it counts, as a restart loads it */
    offer("recent", tm("2026-11-21T10:00:00+01:00"), "q", NULL);
    snap(now, &s);
    ck_assert_int_eq(s.total.waiting, 1);
    centre_snapshot_free(&s);

    /* a fact of today brings the old call into the cache: it counts now,
     * as a restart would load it (its part ended: ACW is owed) */
    ck_assert_int_eq(apply_ev(C, ev_new(&EV(EV_ENDED, "old", d + HOUR(11), .by = BY_CALLER)), now,
                              true),
                     APPLY_NEW);
    ck_assert(centre_call(C, "old")->counted_live);
    ck_assert_int_eq(centre_agent(C, "a")->state, AS_ACW);
    ck_assert_int_eq(apply_ev(C, ev_new(&EV(EV_ANSWERED, "unanswered", d + HOUR(11), .agent = "b")),
                              now, true),
                     APPLY_NEW);
    ck_assert_int_eq(centre_agent(C, "b")->state, AS_ON_CALL);
    snap(now, &s);
    ck_assert_int_eq(s.total.waiting, 1); /* recent */
    ck_assert_int_eq(s.total.agents[AS_ON_CALL], 1);
    centre_snapshot_free(&s);
}
END_TEST

/* A queue's agents are those who answered one of its contacts today, also
 * one offered before midnight: the queue is listed with them. */
START_TEST(a_queue_lists_the_agent_of_a_contact_offered_before_midnight)
{
    KicTime d = tm("2026-11-24T00:00:00+01:00");
    C = centre_new(1, &CFG, d - MIN(5));
    set_state("a", AS_AVAILABLE, NULL, d - HOUR(1));
    offer("m1", d - SEC(30), "qm", K1);
    centre_roll_day(C, d + SEC(1));
    answer("m1", d + SEC(20), "a");
    CentreSnapshot s;
    snap(d + MIN(5), &s);
    const QueueSnapshot *q = snap_queue(&s, "qm");
    ck_assert_ptr_nonnull(q);
    ck_assert_int_eq(q->today.offered, 0); /* offered yesterday */
    ck_assert_int_eq(q->agents[AS_ON_CALL], 1);
    centre_snapshot_free(&s);

    /* the day after it is a queue of an earlier day */
    end_call("m1", d + MIN(6));
    wrap("m1", "a", d + MIN(7), true, NULL);
    centre_roll_day(C, d + HOUR(25));
    snap(d + HOUR(25), &s);
    ck_assert_ptr_null(snap_queue(&s, "qm"));
    centre_snapshot_free(&s);
}
END_TEST

/* An agent still on a call of the queue answered before midnight, or in
 * its ACW, is one of its agents after it too (the total counts them; the
 * queue showed nobody), until they are done with it. */
START_TEST(a_queue_lists_the_agent_on_its_call_across_midnight)
{
    KicTime d = tm("2026-11-24T00:00:00+01:00");
    C = centre_new(1, &CFG, d - MIN(10));
    set_state("a", AS_AVAILABLE, NULL, d - HOUR(1));
    offer("m2", d - MIN(6), "qn", K1);
    answer("m2", d - MIN(5), "a");
    centre_roll_day(C, d + SEC(1));
    CentreSnapshot s;
    snap(d + SEC(4), &s);
    const QueueSnapshot *q = snap_queue(&s, "qn");
    ck_assert_ptr_nonnull(q);
    ck_assert_int_eq(q->agents[AS_ON_CALL], 1);
    ck_assert_int_eq(s.total.agents[AS_ON_CALL], 1);
    centre_snapshot_free(&s);
    /* in its ACW: still the queue's */
    end_call("m2", d + MIN(1));
    snap(d + MIN(2), &s);
    q = snap_queue(&s, "qn");
    ck_assert_ptr_nonnull(q);
    ck_assert_int_eq(q->agents[AS_ACW], 1);
    centre_snapshot_free(&s);
    /* wrapped up: at work on it no longer */
    wrap("m2", "a", d + MIN(3), true, NULL);
    snap(d + MIN(4), &s);
    q = snap_queue(&s, "qn");
    ck_assert(!q || q->agents[AS_ACW] + q->agents[AS_ON_CALL] + q->agents[AS_AVAILABLE] == 0);
    centre_snapshot_free(&s);
}
END_TEST

/* "Today" is the local calendar day: 25 hours on 25 Oct 2026, 23 on
 * 29 Mar 2026. */
static int64_t offered_today_of(const char *now_text, const char *const *offers, size_t n)
{
    KicTime now = tm(now_text);
    centre_free(C);
    C = centre_new(1, &CFG, now);
    for (size_t i = 0; i < n; i++) {
        char id[16];
        snprintf(id, sizeof(id), "c%zu", i % 100);
        give(EV(EV_OFFERED, id, tm(offers[i]), .queue = "q"), now);
    }
    CentreSnapshot s;
    snap(now, &s);
    int64_t offered = s.total.today.offered;
    centre_snapshot_free(&s);
    return offered;
}

START_TEST(today_on_dst_days)
{
    static const char *const autumn[] = {
        "2026-10-24T23:59:59.999999+02:00", /* the day before */
        "2026-10-25T00:00:00+02:00",        /* first instant */
        "2026-10-25T02:30:00+02:00",        /* 02:30 the first time */
        "2026-10-25T02:30:00+01:00",        /* 02:30 the second time */
        "2026-10-25T23:59:59.999999+01:00", /* last instant, 25 h later */
        "2026-10-26T00:00:00+01:00",        /* the next day */
    };
    ck_assert_int_eq(offered_today_of("2026-10-25T12:00:00+01:00", autumn, 6), 4);
    static const char *const spring[] = {
        "2026-03-28T23:59:59.999999+01:00", "2026-03-29T00:00:00+01:00",
        "2026-03-29T03:00:00+02:00",        "2026-03-29T23:59:59.999999+02:00",
        "2026-03-30T00:00:00+02:00",
    };
    ck_assert_int_eq(offered_today_of("2026-03-29T12:00:00+02:00", spring, 5), 3);
}
END_TEST

/* Where DST starts at midnight (Chile: 6 September 2026, 00:00 is 01:00)
 * the day starts at 01:00 and is 23 hours long: the next day's midnight
 * ends it, not 01:00. */
START_TEST(today_where_midnight_is_skipped)
{
    setenv("TZ", "America/Santiago", 1);
    tzset();
    static const char *const skipped[] = {
        "2026-09-05T23:59:59.999999-04:00", /* the day before */
        "2026-09-06T01:00:00-03:00",        /* first instant */
        "2026-09-06T23:59:59.999999-03:00", /* last instant, 23 h later */
        "2026-09-07T00:00:00-03:00",        /* the next day */
        "2026-09-07T00:30:00-03:00",
    };
    ck_assert_int_eq(offered_today_of("2026-09-06T12:00:00-03:00", skipped, 5), 2);
    setenv("TZ", "Europe/Amsterdam", 1);
    tzset();
}
END_TEST

START_TEST(dirty_calls_are_not_evicted)
{
    KicTime d = tm("2026-11-18T00:00:00+01:00");
    C = centre_new(1, &CFG, d + HOUR(12));
    EvSpec s = EV(EV_OFFERED, "c", d + HOUR(9), .queue = "q", .key = K1);
    effects_reset(&fx);
    ck_assert_int_eq(centre_apply_event(C, ev_new(&s), NULL, d + HOUR(9), true, &fx), APPLY_NEW);
    ck_assert_uint_eq(fx.ndirty, 1);
    ck_assert_ptr_eq(fx.dirty[0], centre_call(C, "c"));
    /* not yet written: kept however old */
    centre_roll_day(C, tm("2026-12-10T10:00:00+01:00"));
    ck_assert_ptr_nonnull(centre_call(C, "c"));
    effects_written(&fx);
    ck_assert(!centre_call(C, "c")->dirty);
    centre_roll_day(C, tm("2026-12-10T10:00:00+01:00"));
    ck_assert_ptr_null(centre_call(C, "c"));
}
END_TEST

/* An agent's leg can disappear when a late event reorders the call (here
 * the end turns out to precede the answer): the agent is on no call any
 * more, and the state must say so. */
START_TEST(vanished_leg_frees_the_agent)
{
    KicTime d = tm("2026-11-18T00:00:00+01:00");
    C = centre_new(1, &CFG, d + HOUR(12));
    set_state("a", AS_AVAILABLE, NULL, d);
    offer("c", d + HOUR(9), "q", K1);
    answer("c", d + HOUR(9) + SEC(20), "a");
    ck_assert_int_eq(centre_agent(C, "a")->state, AS_ON_CALL);
    end_call("c", d + HOUR(9) + SEC(10)); /* stamped before the answer */
    ck_assert_int_eq(sum_of("c")->nlegs, 0);
    ck_assert_int_eq(centre_agent(C, "a")->open_legs, 0);
    ck_assert_int_eq(centre_agent(C, "a")->state, AS_AVAILABLE);
    CentreSnapshot s;
    snap(d + HOUR(12), &s);
    ck_assert_int_eq(s.total.agents[AS_ON_CALL], 0);
    centre_snapshot_free(&s);
}
END_TEST

/* The same call is still the agent's latest; evicting it must not leave
 * the agent pointing at freed memory (ASan: use after free). */
START_TEST(eviction_after_a_vanished_leg)
{
    KicTime d = tm("2026-11-18T00:00:00+01:00");
    C = centre_new(1, &CFG, d + HOUR(12));
    set_state("a", AS_AVAILABLE, NULL, d);
    offer("c", d + HOUR(9), "q", K1);
    answer("c", d + HOUR(9) + SEC(20), "a");
    end_call("c", d + HOUR(9) + SEC(10));
    centre_roll_day(C, tm("2026-11-30T10:00:00+01:00"));
    ck_assert_ptr_null(centre_call(C, "c"));
    /* touching the agent reads its latest call */
    set_state("a", AS_BREAK, NULL, tm("2026-11-30T10:05:00+01:00"));
    ck_assert_int_eq(centre_agent(C, "a")->state, AS_BREAK);
}
END_TEST

START_TEST(load_call_merges_without_notices)
{
    KicTime d = tm("2026-11-18T00:00:00+01:00");
    KicTime now = d + HOUR(12);
    C = centre_new(1, &CFG, now);
    offer("c", d + HOUR(9), "q", K1);
    Event *evs[3];
    evs[0] = ev_new(&EV(EV_OFFERED, "c", d + HOUR(9), .id = "dup", .queue = "q", .key = K1));
    evs[1] = ev_new(&EV(EV_ANSWERED, "c", d + HOUR(9) + SEC(10), .agent = "a"));
    evs[2] = ev_new(&EV(EV_ENDED, "c", d + HOUR(9) + SEC(70)));
    /* the first is known under another id: a different event, both kept */
    Wrapup *w[1] = {wrapup_new("a", "cat", d + HOUR(9) + SEC(90), true, FU_NONE, CT_CLIENT)};
    effects_reset(&fx);
    centre_load_call(C, evs, 3, w, 1, true, now, &fx);
    ck_assert_uint_eq(fx.nnotices, 0);
    const CallSummary *s = sum_of("c");
    ck_assert_int_eq(s->nevents, 4);
    /* storage said it was followed, but memory holds every later contact
     * of a call offered today and has none: memory decides */
    ck_assert(!s->followed_by_repeat);
    ck_assert(s->wrapped);
    ck_assert_int_eq(s->acw_us, SEC(20));
    /* loading the same again drops what is known */
    Event *again[1] = {ev_new(&EV(EV_ANSWERED, "c", d + HOUR(9) + SEC(10), .id = evs[1]->event_id,
                                  .agent = "a"))};
    Wrapup *w2[1] = {wrapup_new("a", "cat", d + HOUR(9) + SEC(95), true, FU_NONE, CT_CLIENT)};
    centre_load_call(C, again, 1, w2, 1, false, now, &fx);
    ck_assert_int_eq(sum_of("c")->nevents, 4);
    ck_assert_int_eq(sum_of("c")->wrapped_at, d + HOUR(9) + SEC(90));
    CentreSnapshot snapshot;
    snap(now, &snapshot);
    ck_assert_int_eq(snapshot.total.today.offered, 1);
    ck_assert_int_eq(snapshot.total.today.repeated, 0);
    centre_snapshot_free(&snapshot);
}
END_TEST

/* Loads a call of three events (offered by `key` at `at`, answered,
 * ended) with storage's repeat flag, as at start-up (fx NULL) or for a
 * late event (fx). */
static void load_stored(const char *call, KicTime at, const char *key, bool repeat, Effects *f)
{
    char o[40], a[40], e[40];
    snprintf(o, sizeof(o), "%s-o", call);
    snprintf(a, sizeof(a), "%s-a", call);
    snprintf(e, sizeof(e), "%s-e", call);
    Event *evs[3] = {ev_new(&EV(EV_OFFERED, call, at, .id = o, .queue = "q", .key = key)),
                     ev_new(&EV(EV_ANSWERED, call, at + SEC(10), .id = a, .agent = "a")),
                     ev_new(&EV(EV_ENDED, call, at + SEC(70), .id = e))};
    centre_load_call(C, evs, 3, NULL, 0, repeat, at + SEC(70), f);
}

/* A repeat flag storage kept goes when a late event takes the later
 * contact away, after a restart as without one (it stuck: the flag
 * storage had was or'ed in for every loaded call). */
START_TEST(a_stored_repeat_flag_goes_when_its_later_contact_moves)
{
    KicTime d = tm("2026-11-18T00:00:00+01:00"), now = d + HOUR(12);
    for (int restart = 0; restart <= 1; restart++) {
        C = centre_new(1, &CFG, now);
        if (restart) {
            /* x at 10:00, then y at 11:00 by the same caller: storage has
             * x followed by a repeat */
            load_stored("x", d + HOUR(10), K1, true, NULL);
            load_stored("y", d + HOUR(11), K1, false, NULL);
        } else {
            talked("x", "a", K1, d + HOUR(10));
            talked("y", "a", K1, d + HOUR(11));
        }
        ck_assert(repeated("x"));
        /* y's offer, late: it came at 09:00, before x */
        effects_reset(&fx);
        give_in_batch(EV(EV_OFFERED, "y", d + HOUR(9), .queue = "q", .key = K1), now);
        ck_assert(repeated("y"));
        ck_assert_msg(!repeated("x"), "restart %d", restart);
        ck_assert_int_eq(row_write("x"), 'r');
        effects_written(&fx);
        CentreSnapshot snapshot;
        snap(now, &snapshot);
        ck_assert_int_eq(snapshot.total.today.repeated, 1);
        centre_snapshot_free(&snapshot);
        centre_free(C);
        C = NULL;
    }
}
END_TEST

/* A call offered before loaded_since may have later contacts memory does
 * not hold: what storage said of it stands, also loaded for a late
 * event, and a later contact memory holds adds to it. */
START_TEST(a_stored_repeat_flag_stands_for_a_call_before_memory)
{
    KicTime d = tm("2026-11-18T00:00:00+01:00"), now = d + HOUR(12);
    C = centre_new(1, &CFG, now);
    ck_assert_int_lt(d - HOUR(24 * 10), centre_loaded_since(C));
    effects_reset(&fx);
    load_stored("old", d - HOUR(24 * 10), K1, true, &fx);
    ck_assert(repeated("old"));
    load_stored("old2", d - HOUR(24 * 10) + HOUR(1), K2, false, &fx);
    ck_assert(!repeated("old2"));
    effects_written(&fx);
    /* one of old2's caller within its window, but in memory's days */
    effects_reset(&fx);
    give_in_batch(EV(EV_OFFERED, "new", centre_loaded_since(C) + HOUR(1), .queue = "q", .key = K2), now);
    ck_assert(repeated("old2"));
    ck_assert(repeated("old"));
    effects_written(&fx);
}
END_TEST

/* =====================================================================
 * (7) Waiting and longest wait
 * ===================================================================== */

START_TEST(waiting_and_longest_wait)
{
    KicTime t = tm("2026-11-18T10:00:00+01:00");
    C = centre_new(1, &CFG, t);
    offer("early", t - MIN(1), "q1", K1);
    answer("early", t - SEC(30), "a");
    offer("w1", t, "q1", K2);
    offer("w2", t + MIN(1), "q1", K3);
    offer("w3", t + SEC(150), "q2", NULL);
    CentreSnapshot s;
    KicTime now = t + MIN(3);
    snap(now, &s);
    const QueueSnapshot *q1 = snap_queue(&s, "q1"), *q2 = snap_queue(&s, "q2");
    ck_assert_int_eq(q1->waiting, 2);
    ck_assert_double_eq(q1->longest_wait_s, 180.0);
    ck_assert_int_eq(q2->waiting, 1);
    ck_assert_double_eq(q2->longest_wait_s, 30.0);
    ck_assert_int_eq(s.total.waiting, 3);
    ck_assert_double_eq(s.total.longest_wait_s, 180.0);
    ck_assert_int_eq(s.nqueues, 2);
    ck_assert_str_eq(s.queues[0].queue, "q1"); /* sorted by name */
    ck_assert_str_eq(s.queues[1].queue, "q2");
    ck_assert_int_eq(s.total.today.offered, 4);
    centre_snapshot_free(&s);

    answer("w1", now, "b");
    give(EV(EV_ABANDONED, "w3", now + SEC(1)), now + SEC(1));
    snap(now + SEC(1), &s);
    q1 = snap_queue(&s, "q1");
    ck_assert_int_eq(q1->waiting, 1);
    ck_assert_double_eq(q1->longest_wait_s, 121.0); /* w2, offered at +60 s */
    ck_assert_int_eq(snap_queue(&s, "q2")->waiting, 0);
    ck_assert_double_eq(snap_queue(&s, "q2")->longest_wait_s, 0.0);
    ck_assert_int_eq(s.total.waiting, 1);
    ck_assert_double_eq(s.total.longest_wait_s, 121.0);
    centre_snapshot_free(&s);

    end_call("w2", now + SEC(2)); /* ended unanswered: no longer waiting */
    snap(now + SEC(2), &s);
    ck_assert_int_eq(s.total.waiting, 0);
    ck_assert_double_eq(s.total.longest_wait_s, 0.0);
    ck_assert_int_eq(s.total.today.abandoned, 2);
    centre_snapshot_free(&s);
}
END_TEST

START_TEST(quiet_queues_of_earlier_days_are_not_shown)
{
    KicTime t = tm("2026-11-18T10:00:00+01:00");
    C = centre_new(1, &CFG, t);
    offer("old", t - HOUR(24), "q-old", K1);
    give(EV(EV_ABANDONED, "old", t - HOUR(24) + SEC(30)), t);
    offer("new", t, "q-new", K2);
    CentreSnapshot s;
    snap(t + SEC(5), &s);
    ck_assert_int_eq(s.nqueues, 1);
    ck_assert_str_eq(s.queues[0].queue, "q-new");
    ck_assert_ptr_null(s.total.queue);
    centre_snapshot_free(&s);
}
END_TEST

/* A late earlier offer that moves an answered contact to another queue
 * takes its agent along: the old queue no longer lists them. */
START_TEST(a_contact_moved_by_a_late_offer_takes_its_agent_along)
{
    KicTime t = tm("2026-11-18T10:00:00+01:00");
    C = centre_new(1, &CFG, t);
    offer("m", t, "q-old", K1);
    answer("m", t + SEC(20), "a");
    offer("other", t + MIN(1), "q-old", K2);
    answer("other", t + MIN(1) + SEC(5), "b");
    CentreSnapshot s;
    snap(t + MIN(2), &s);
    ck_assert_int_eq(snap_queue(&s, "q-old")->agents[AS_ON_CALL], 2);
    centre_snapshot_free(&s);

    offer("m", t - SEC(10), "q-new", K1); /* the real offer, late */
    snap(t + MIN(2), &s);
    const QueueSnapshot *old = snap_queue(&s, "q-old"), *moved = snap_queue(&s, "q-new");
    ck_assert_ptr_nonnull(old);
    ck_assert_ptr_nonnull(moved);
    ck_assert_int_eq(old->today.offered, 1);
    ck_assert_int_eq(old->agents[AS_ON_CALL], 1); /* b only */
    ck_assert_int_eq(moved->today.offered, 1);
    ck_assert_int_eq(moved->agents[AS_ON_CALL], 1); /* a */
    centre_snapshot_free(&s);

    /* the last contact of q-old moves too: q-old is quiet and not shown */
    offer("other", t, "q-new", K2);
    snap(t + MIN(2), &s);
    ck_assert_ptr_null(snap_queue(&s, "q-old"));
    ck_assert_int_eq(snap_queue(&s, "q-new")->agents[AS_ON_CALL], 2);
    ck_assert_uint_eq(s.nqueues, 1);
    centre_snapshot_free(&s);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("centre");
    TCase *tc = tcase_create("core");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 30);
    tcase_add_loop_test(tc, invariant_random_orders_and_duplicates, 0, 24);
    tcase_add_test(tc, invariant_holds_when_an_earlier_offer_arrives_late);
    tcase_add_test(tc, a_contact_moved_by_a_late_offer_takes_its_agent_along);
    tcase_add_test(tc, an_offline_agents_part_ends_in_storage_in_every_order);
    tcase_add_test(tc, a_queue_with_only_callbacks_is_shown);
    tcase_add_test(tc, earlier_offer_with_another_key_counts_under_that_key);
    tcase_add_test(tc, stored_sums_follow_a_contact_to_another_block);
    tcase_add_test(tc, an_agent_whose_only_part_is_pushed_out_gets_a_dated_transition);
    tcase_add_test(tc, eviction_after_a_key_change_leaves_no_dangling_pointer);
    tcase_add_test(tc, duplicates_change_nothing);
    tcase_add_test(tc, repeat_window_is_seven_days_inclusive);
    tcase_add_test(tc, repeat_window_across_spring_dst);
    tcase_add_test(tc, repeat_window_across_autumn_dst);
    tcase_add_test(tc, late_earlier_contact_is_marked);
    tcase_add_test(tc, transfer_continuation_is_not_a_repeat);
    tcase_add_test(tc, outbound_contact_is_not_a_repeat);
    tcase_add_test(tc, withheld_callers_never_repeat);
    tcase_add_test(tc, one_caller_with_many_contacts_in_any_order);
    tcase_add_test(tc, earlier_contacts_for_call_connected);
    tcase_add_test(tc, earlier_contacts_count_a_late_earlier_contact);
    tcase_add_test(tc, an_offer_after_its_answer_connects_again_with_the_queue);
    tcase_add_test(tc, an_interval_opened_again_in_a_batch_is_sent_once);
    tcase_add_test(tc, an_interval_stored_long_ago_is_sent_again_marked);
    tcase_add_test(tc, a_later_contact_rewrites_only_the_repeat_flag_of_an_earlier_one);
    tcase_add_test(tc, a_part_ended_before_it_was_answered_keeps_its_talk);
    tcase_add_test(tc, agent_on_call_acw_available);
    tcase_add_test(tc, end_after_wrapup_during_the_call_is_not_due);
    tcase_add_test(tc, transfer_ends_the_part_and_starts_acw);
    tcase_add_test(tc, break_chosen_during_acw_stays_after_wrapup);
    tcase_add_test(tc, break_after_wrapup_keeps_its_reason);
    tcase_add_test(tc, a_late_wrapup_ends_acw_before_a_later_break);
    tcase_add_test(tc, a_late_wrapup_dates_the_choices_after_it);
    tcase_add_test(tc, a_late_wrapup_of_an_agent_never_logged_in_is_offline_after);
    tcase_add_test(tc, a_late_wrapup_before_any_known_choice_changes_nothing_more);
    tcase_add_test(tc, offline_beats_acw);
    tcase_add_test(tc, a_wrapup_after_logging_off_leaves_offline_since_the_logoff);
    tcase_add_test(tc, offline_exactly_at_the_end_owes_no_acw);
    tcase_add_test(tc, the_same_choice_again_changes_nothing);
    tcase_add_test(tc, new_call_ends_unwrapped_acw);
    tcase_add_test(tc, two_contacts_at_once_owe_both_wrapups);
    tcase_add_test(tc, losing_the_latest_part_makes_the_one_before_latest);
    tcase_add_test(tc, a_late_wrapup_of_two_at_once_ends_acw_at_the_last_done);
    tcase_add_test(tc, five_contacts_at_once_owe_the_first);
    tcase_add_test(tc, no_notices_when_replaying_or_too_old);
    tcase_add_test(tc, transfer_back_notifies_the_second_part);
    tcase_add_test(tc, transfer_back_ends_with_one_notice);
    tcase_add_test(tc, late_offer_reports_no_spurious_transitions);
    tcase_add_test(tc, wrapup_checks);
    tcase_add_test(tc, roll_day_moves_counters_and_evicts);
    tcase_add_test(tc, a_late_event_for_a_call_older_than_the_cache_leaves_live_state_alone);
    tcase_add_test(tc, a_queue_lists_the_agent_of_a_contact_offered_before_midnight);
    tcase_add_test(tc, a_queue_lists_the_agent_on_its_call_across_midnight);
    tcase_add_test(tc, today_on_dst_days);
    tcase_add_test(tc, today_where_midnight_is_skipped);
    tcase_add_test(tc, dirty_calls_are_not_evicted);
    tcase_add_test(tc, vanished_leg_frees_the_agent);
    tcase_add_test(tc, eviction_after_a_vanished_leg);
    tcase_add_test(tc, load_call_merges_without_notices);
    tcase_add_test(tc, a_stored_repeat_flag_goes_when_its_later_contact_moves);
    tcase_add_test(tc, a_stored_repeat_flag_stands_for_a_call_before_memory);
    tcase_add_test(tc, waiting_and_longest_wait);
    tcase_add_test(tc, quiet_queues_of_earlier_days_are_not_shown);
    suite_add_tcase(s, tc);
    return unit_run(s);
}
