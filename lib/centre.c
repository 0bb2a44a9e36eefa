/* Live state of one contact centre. The invariant: for every call in
 * memory, its contribution (today's sums, the waiting list of its queue,
 * its agents' legs, its place in the caller index) is exactly what its
 * current summary says. call_update() is the only function that changes
 * a summary, and it moves the contributions with it. */
#include "centre.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct CallerList {
    char *key;
    Call **calls;
    size_t n, cap;
} CallerList;

struct Centre {
    int64_t tenant;
    CentreConfig cfg;
    StrMap calls;       /* call_id -> Call */
    StrMap event_ids;   /* event_id -> Event, every event in memory */
    StrMap other;       /* event_id -> Event: events of no call (callback requests) */
    StrMap agents;      /* id -> Agent */
    StrMap queues;      /* name -> Queue */
    StrMap callers;     /* caller key -> CallerList */
    StrMap callbacks;   /* callback id -> Callback: open ones, and today's */
    StrMap queue_teams; /* queue -> team (owned strings, key in the value) */
    StrMap key_queues;  /* name -> the same name: RollupKeys' queues (owned) */
    MetricSums today;
    KicTime day_start, day_end;
    KicTime loaded_since;
    /* reindex() moves every new call's offer by the repeat window both
     * ways; calls come in time order, so the local day rarely changes. */
    LocalDaysMemo window_end_memo, window_start_memo;
    int state_counts[AGENT_STATE_COUNT];
    uint64_t version;
};

/* ---- small helpers ---- */

static void *grow(void *p, size_t *cap, size_t need, size_t size)
{
    if (need <= *cap)
        return p;
    size_t ncap = *cap ? *cap * 2 : 8;
    while (ncap < need)
        ncap *= 2;
    void *np = realloc(p, ncap * size);
    if (!np)
        abort(); /* live state cannot be half-updated; out of memory ends kicd */
    *cap = ncap;
    return np;
}

static char *dup_or_die(const char *s)
{
    char *d = strdup(s);
    if (!d)
        abort();
    return d;
}

/* Into a KIC_MAX_FIELD_BYTES + 1 buffer, cut to fit (as snprintf would,
 * which cost more than the rest of filling a notice). */
static void copy_field(char *dst, const char *src)
{
    size_t n = src ? strnlen(src, KIC_MAX_FIELD_BYTES) : 0;
    memcpy(dst, src ? src : "", n);
    dst[n] = '\0';
}

/* ---- effects ---- */

void effects_reset(Effects *fx)
{
    fx->ndirty = fx->nnew = fx->ntransitions = fx->nnotices = fx->ncallbacks = fx->ndeltas = 0;
    fx->batch++;
}

void effects_free(Effects *fx)
{
    free(fx->dirty);
    free(fx->new_contacts);
    free(fx->transitions);
    free(fx->notices);
    free(fx->callbacks);
    free(fx->deltas);
    memset(fx, 0, sizeof(*fx));
}

void effects_written(Effects *fx)
{
    for (size_t i = 0; i < fx->ndirty; i++)
        fx->dirty[i]->dirty = false;
    for (size_t i = 0; i < fx->ncallbacks; i++)
        fx->callbacks[i]->dirty = false;
}

static void callback_dirty(Centre *c, Callback *cb, Effects *fx)
{
    c->version++;
    if (!fx || cb->dirty)
        return;
    cb->dirty = true;
    fx->callbacks = grow(fx->callbacks, &fx->cap_callbacks, fx->ncallbacks + 1, sizeof(Callback *));
    fx->callbacks[fx->ncallbacks++] = cb;
}

/* full: more than the repeat flag changed. */
static void mark_dirty(Call *call, Effects *fx, bool full)
{
    if (!fx)
        return;
    if (call->dirty) {
        call->dirty_repeat_only &= !full;
        return;
    }
    call->dirty = true;
    call->dirty_repeat_only = !full;
    fx->dirty = grow(fx->dirty, &fx->cap_dirty, fx->ndirty + 1, sizeof(Call *));
    fx->dirty[fx->ndirty++] = call;
}

typedef enum { OPENED_NOT, OPENED_HERE_OR_STORED, OPENED_IN_FLIGHT } Opened;

/* Whether the agent opened the interval (state from since) already: in
 * this batch or one storage has, or one still on its way (which may yet
 * fail), or maybe long ago (not remembered, but not after the latest
 * opened). It is remembered as opened in this batch unless it was here or
 * stored. A batch is stored whole or not at all, so a copy left out of
 * this batch is stored exactly when the one kept is. */
static Opened opened_before(Agent *a, AgentState state, KicTime since, const Effects *fx)
{
    Opened found = OPENED_NOT;
    for (int i = 0; i < AGENT_OPENED_KEPT; i++) {
        if (a->opened[i].state != state || a->opened[i].since != since)
            continue;
        uint64_t b = a->opened[i].batch;
        if (b == fx->batch || (b >= fx->trusted_from && b <= fx->stored_through))
            return OPENED_HERE_OR_STORED;
        found = OPENED_IN_FLIGHT;
    }
    if (a->opened_batch != fx->batch) {
        if (a->opened_latest_here > a->opened_latest_before)
            a->opened_latest_before = a->opened_latest_here;
        a->opened_latest_here = KIC_TIME_NONE;
        a->opened_batch = fx->batch;
    }
    if (a->opened_latest_before != KIC_TIME_NONE && since <= a->opened_latest_before)
        found = OPENED_IN_FLIGHT;
    if (since > a->opened_latest_here)
        a->opened_latest_here = since;
    a->opened[a->opened_next].batch = fx->batch;
    a->opened[a->opened_next].state = state;
    a->opened[a->opened_next].since = since;
    a->opened_next = (a->opened_next + 1) % AGENT_OPENED_KEPT;
    return found;
}

/* A new interval to store: the agent in `state` from `since`. One the
 * agent opened a moment ago in the same batch, or in one committed, is
 * not sent again; one in a batch still on its way is sent marked, so the
 * server writes it where a copy already stored is no error. */
static void add_interval(Effects *fx, int64_t tenant, Agent *a, AgentState state, KicTime since,
                         const char *reason)
{
    if (!fx)
        return;
    Opened before = opened_before(a, state, since, fx);
    if (before == OPENED_HERE_OR_STORED)
        return;
    fx->transitions = grow(fx->transitions, &fx->cap_transitions, fx->ntransitions + 1,
                           sizeof(Transition));
    Transition *t = &fx->transitions[fx->ntransitions++];
    t->tenant = tenant;
    copy_field(t->agent, a->id);
    t->state = state;
    t->since = since;
    copy_field(t->reason, reason);
    t->maybe_stored = before == OPENED_IN_FLIGHT;
}

static void add_notice(Effects *fx, NoticeKind kind, const Call *call, const CallLeg *leg)
{
    fx->notices = grow(fx->notices, &fx->cap_notices, fx->nnotices + 1, sizeof(Notice));
    Notice *n = &fx->notices[fx->nnotices++];
    n->tenant = call->tenant;
    n->kind = kind;
    copy_field(n->agent, leg->agent);
    copy_field(n->call_id, call->call_id);
    copy_field(n->queue, call->sum.queue);
    n->transferred = leg->by_transfer;
    n->wrapup_due = leg->wrapup == NULL; /* a desktop may wrap up during the call */
    n->earlier_contacts = call->earlier_contacts;
}

/* ---- the stored 15-minute sums ---- */

bool rollup_key_equal(const RollupKey *a, const RollupKey *b)
{
    return a->bucket == b->bucket && a->channel == b->channel && a->direction == b->direction &&
           (a->queue == b->queue || strcmp(a->queue, b->queue) == 0);
}

/* The centre's one copy of a queue name, for RollupKeys. */
static const char *key_queue(Centre *c, const char *name)
{
    char *kept = strmap_get(&c->key_queues, name);
    if (!kept) {
        kept = dup_or_die(name);
        strmap_put(&c->key_queues, kept, kept);
    }
    return kept;
}

KicTime rollup_bucket(KicTime offered_at)
{
    KicTime b = offered_at - offered_at % ROLLUP_BUCKET_US;
    return offered_at < 0 && offered_at % ROLLUP_BUCKET_US ? b - ROLLUP_BUCKET_US : b;
}

static bool metric_sums_zero(const MetricSums *m)
{
    static const MetricSums zero;
    return memcmp(m, &zero, sizeof(zero)) == 0;
}

static void add_delta(Effects *fx, int64_t tenant, const RollupKey *key, const MetricSums *sums,
                      int sign)
{
    if (!fx || metric_sums_zero(sums))
        return;
    fx->deltas = grow(fx->deltas, &fx->cap_deltas, fx->ndeltas + 1, sizeof(RollupDelta));
    RollupDelta *d = &fx->deltas[fx->ndeltas++];
    memset(d, 0, sizeof(*d));
    d->tenant = tenant;
    d->key = *key;
    metrics_add_sums(&d->sums, sums, sign);
}

/* Moves the call's stored contribution to what its summary says now,
 * writing the difference as deltas (none when `write` is false: loading,
 * where storage already holds it). */
static void rollup_refresh(Centre *c, Call *call, Effects *fx, bool write)
{
    const CallSummary *s = &call->sum;
    MetricSums now_sums = {0};
    metrics_add_call(&now_sums, s, &c->cfg.metric, 1);
    RollupKey key = {0};
    bool has_key = s->offered;
    if (has_key) {
        key.bucket = rollup_bucket(s->offered_at);
        key.queue = key_queue(c, s->queue ? s->queue : "");
        key.channel = s->channel;
        key.direction = s->direction;
    }
    if (call->stored_key && has_key && rollup_key_equal(call->stored_key, &key)) {
        MetricSums d = now_sums;
        metrics_add_sums(&d, &call->stored, -1);
        if (write)
            add_delta(fx, c->tenant, &key, &d, 1);
    } else {
        if (call->stored_key && write)
            add_delta(fx, c->tenant, call->stored_key, &call->stored, -1);
        if (has_key && write)
            add_delta(fx, c->tenant, &key, &now_sums, 1);
        free(call->stored_key);
        call->stored_key = NULL;
        if (has_key) {
            call->stored_key = malloc(sizeof(RollupKey));
            if (!call->stored_key)
                abort();
            *call->stored_key = key;
        }
    }
    call->stored = now_sums;
}

/* ---- queues and agents ---- */

static Queue *queue_get(Centre *c, const char *name)
{
    Queue *q = strmap_get(&c->queues, name);
    if (q)
        return q;
    q = calloc(1, sizeof(*q));
    if (!q)
        abort();
    q->name = dup_or_die(name);
    strmap_put(&c->queues, q->name, q);
    return q;
}

static Agent *agent_get(Centre *c, const char *id)
{
    Agent *a = strmap_get(&c->agents, id);
    if (a)
        return a;
    a = agent_new(id);
    if (!a)
        abort();
    strmap_put(&c->agents, a->id, a);
    c->state_counts[a->state]++;
    return a;
}

/* ---- an agent's recent parts ---- */

static void parts_remove(Agent *a, const Call *call)
{
    for (int i = 0; i < a->nparts; i++) {
        if (a->parts[i] == call) {
            a->parts[i] = a->parts[--a->nparts];
            return;
        }
    }
}

static KicTime part_start(const Agent *a, const Call *call)
{
    const CallLeg *leg = call_leg_of(&call->sum, a->id);
    return leg ? leg->answered_at : KIC_TIME_NONE;
}

/* Whether part x began after part y (the same instant: by call id, so
 * the order calls are loaded in decides nothing). */
static bool part_later(const Agent *a, const Call *x, const Call *y)
{
    KicTime sx = part_start(a, x), sy = part_start(a, y);
    return sx != sy ? sx > sy : strcmp(x->call_id, y->call_id) > 0;
}

/* The agent's leg in call if that part counts for their ACW now: the
 * latest part, or one that ended after the latest began (two contacts at
 * once); a part that ended before the next began does not (taking the
 * next call ended its ACW). */
static const CallLeg *counting_leg(const Agent *a, const Call *call)
{
    const CallLeg *leg = call_leg_of(&call->sum, a->id);
    if (!leg || call == a->latest_call)
        return leg;
    return leg->end_at != KIC_TIME_NONE && leg->end_at > a->latest_start ? leg : NULL;
}

/* Which part makes room when they are full: one that no longer counts,
 * else the one that began first. */
static int parts_victim(const Agent *a)
{
    int victim = 0;
    for (int i = 0; i < a->nparts; i++) {
        if (!counting_leg(a, a->parts[i]))
            return i;
        if (part_later(a, a->parts[victim], a->parts[i]))
            victim = i;
    }
    return victim;
}

/* Keeps call among the agent's latest parts (an agent on more than
 * AGENT_PARTS_KEPT contacts at once owes the ACW of the latest ones
 * only). Call after latest_call is set. */
static void parts_add(Agent *a, Call *call)
{
    for (int i = 0; i < a->nparts; i++)
        if (a->parts[i] == call)
            return;
    if (a->nparts < AGENT_PARTS_KEPT) {
        a->parts[a->nparts++] = call;
        return;
    }
    int v = parts_victim(a);
    if (!counting_leg(a, a->parts[v]) || part_later(a, call, a->parts[v]))
        a->parts[v] = call;
}

/* The agent's latest part is gone (a late event took it, or it left
 * memory): the latest of the parts left takes its place, so the parts
 * before it count as they would have without it. */
static void agent_lose_part(Agent *a, const Call *call)
{
    parts_remove(a, call);
    if (a->latest_call != call)
        return;
    a->latest_call = NULL;
    a->latest_start = KIC_TIME_NONE;
    for (int i = 0; i < a->nparts; i++) {
        if (!a->latest_call || part_later(a, a->parts[i], a->latest_call)) {
            a->latest_call = a->parts[i];
            a->latest_start = part_start(a, a->parts[i]);
        }
    }
}

static bool acw_owed(const Agent *a)
{
    for (int i = 0; i < a->nparts; i++) {
        const CallLeg *leg = counting_leg(a, a->parts[i]);
        if (leg && leg->end_at != KIC_TIME_NONE && !leg->wrapup &&
            (a->offline_since == KIC_TIME_NONE || leg->end_at > a->offline_since))
            return true;
    }
    return false;
}

/* When the agent's counting part that ended last ended: off their last
 * call. KIC_TIME_NONE when none has ended. */
static KicTime parts_ended(const Agent *a)
{
    KicTime end = KIC_TIME_NONE;
    for (int i = 0; i < a->nparts; i++) {
        const CallLeg *leg = counting_leg(a, a->parts[i]);
        if (leg && leg->end_at != KIC_TIME_NONE && leg->end_at > end)
            end = leg->end_at;
    }
    return end;
}

/* When the agent was done with their counting parts: each part's
 * wrap-up, or its end when wrapped up before it, or (logoff_ends) when
 * they logged off after it (the logoff ended the ACW: PROTOCOL.md, so the
 * wrap-up dates no state); the latest of them. KIC_TIME_NONE when none
 * has ended. */
static KicTime parts_done(const Agent *a, bool logoff_ends)
{
    KicTime done = KIC_TIME_NONE;
    for (int i = 0; i < a->nparts; i++) {
        const CallLeg *leg = counting_leg(a, a->parts[i]);
        if (!leg || leg->end_at == KIC_TIME_NONE)
            continue;
        bool logged_off_after = logoff_ends && a->offline_since != KIC_TIME_NONE &&
                                a->offline_since >= leg->end_at;
        KicTime t = leg->wrapup && leg->wrapup->at > leg->end_at && !logged_off_after
                        ? leg->wrapup->at
                        : leg->end_at;
        if (t > done)
            done = t;
    }
    return done;
}

/* Since when the agent is in their effective state, derived from what is
 * known (not from the order it became known), so a restart gives the same
 * answer: on_call since the latest answer, acw since that part ended (or
 * since they logged in, when they were offline at its end), otherwise
 * since the later of their choice and their last part's end or wrap-up;
 * a wrap-up after they logged off ended nothing (the logoff ended the
 * ACW: PROTOCOL.md), so it dates nothing either. */
static KicTime agent_since(const Agent *a)
{
    const CallLeg *leg = a->latest_call ? call_leg_of(&a->latest_call->sum, a->id) : NULL;
    if (a->state == AS_ON_CALL && leg)
        return leg->answered_at;
    KicTime ended = parts_ended(a);
    if (a->state == AS_ACW && ended != KIC_TIME_NONE)
        return a->login_since != KIC_TIME_NONE && a->login_since > ended ? a->login_since : ended;
    KicTime since = a->chosen_since, done = parts_done(a, true);
    if (done != KIC_TIME_NONE && (since == KIC_TIME_NONE || done > since))
        since = done;
    return since;
}

/* Recomputes an agent's effective state; a change is a transition. The
 * reason travels with the state the agent chose (a break's reason).
 * fallback: when the agent has no history left to date the state from
 * (a part taken away by a late event from an agent who never chose a
 * state), the moment the state being left began: the stored intervals
 * then give that mistaken part no length. */
static void agent_refresh_at(Centre *c, Agent *a, Effects *fx, KicTime fallback)
{
    a->acw_pending = acw_owed(a);
    AgentState s = agent_effective(a);
    AgentState before = a->state;
    KicTime before_since = a->since;
    if (s != before) {
        c->state_counts[before]--;
        c->state_counts[s]++;
        a->state = s;
    }
    a->since = agent_since(a);
    if (a->since == KIC_TIME_NONE)
        a->since = fallback != KIC_TIME_NONE ? fallback : before_since;
    if (s == before) {
        /* Still in the same state, now known to have begun earlier (a late
         * event ended the part before the end first known): the interval
         * stored from the earlier moment ends what came before it at the
         * right time; the later one is then the same state going on. */
        if (a->since != KIC_TIME_NONE && before_since != KIC_TIME_NONE && a->since < before_since) {
            c->version++;
            add_interval(fx, c->tenant, a, a->state, a->since, s == a->chosen ? a->reason : NULL);
        }
        return;
    }
    c->version++;
    if (a->since != KIC_TIME_NONE) /* else never in any state: nothing to store */
        add_interval(fx, c->tenant, a, a->state, a->since, s == a->chosen ? a->reason : NULL);
}

static void agent_refresh(Centre *c, Agent *a, Effects *fx)
{
    agent_refresh_at(c, a, fx, KIC_TIME_NONE);
}

/* ---- the caller index (repeat contacts) ---- */

/* A contact that makes earlier ones repeats: inbound, not the
 * continuation of a transfer (that is the same contact going on). */
static bool is_trigger(const CallSummary *s)
{
    return s->direction == DIR_INBOUND && !s->transferred_from;
}

static bool contact_before(const Call *a, const Call *b)
{
    if (a->index_at != b->index_at)
        return a->index_at < b->index_at;
    return strcmp(a->call_id, b->call_id) < 0;
}

static void today_contribute(Centre *c, Call *call, int sign);
static void rollup_refresh(Centre *c, Call *call, Effects *fx, bool write);

static CallerList *caller_list(Centre *c, const char *key, bool create)
{
    CallerList *l = strmap_get(&c->callers, key);
    if (l || !create)
        return l;
    l = calloc(1, sizeof(*l));
    if (!l)
        abort();
    l->key = dup_or_die(key);
    strmap_put(&c->callers, l->key, l);
    return l;
}

/* A caller's list is kept in contact order (contact_before), so that
 * settling it is one pass however many contacts a caller has (a GP
 * practice or a care home may call hundreds of times a week). */
static void list_take(CallerList *l, const Call *call)
{
    for (size_t i = 0; i < l->n; i++) {
        if (l->calls[i] == call) {
            memmove(&l->calls[i], &l->calls[i + 1], (l->n - i - 1) * sizeof(Call *));
            l->n--;
            return;
        }
    }
}

static void list_insert(CallerList *l, Call *call)
{
    size_t lo = 0, hi = l->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (contact_before(l->calls[mid], call))
            lo = mid + 1;
        else
            hi = mid;
    }
    l->calls = grow(l->calls, &l->cap, l->n + 1, sizeof(Call *));
    memmove(&l->calls[lo + 1], &l->calls[lo], (l->n - lo) * sizeof(Call *));
    l->calls[lo] = call;
    l->n++;
}

static void list_remove(Centre *c, CallerList *l, Call *call)
{
    list_take(l, call);
    if (l->n == 0) {
        strmap_remove(&c->callers, l->key);
        free(l->key);
        free(l->calls);
        free(l);
    }
}

/* A call's repeat flag changed: only its metrics and its row move. */
static void set_repeat(Centre *c, Call *x, bool repeated, int earlier, Effects *fx)
{
    x->earlier_contacts = earlier;
    if (x->followed_by_repeat == repeated)
        return;
    if (x->in_today)
        today_contribute(c, x, -1);
    x->followed_by_repeat = repeated;
    x->sum.followed_by_repeat = repeated;
    if (x->in_today)
        today_contribute(c, x, 1);
    rollup_refresh(c, x, fx, true);
    mark_dirty(x, fx, false);
    c->version++;
}

/* Whether x is a repeat, given whether memory holds a later contact of
 * the caller in its window. For a call offered since loaded_since memory
 * holds every later contact (each has an event since then) and decides
 * alone: a flag storage had from before (a late event has since moved
 * that later contact, or changed its caller) goes, as it does without a
 * restart between, and what storage will hold once the call is written
 * is what counts when the call falls behind loaded_since. For a call
 * offered before, storage may know later contacts memory does not. */
static bool repeat_with_storage(const Centre *c, Call *x, bool later)
{
    if (x->sum.offered && x->sum.offered_at >= c->loaded_since) {
        x->repeat_stored = later;
        return later;
    }
    return later || x->repeat_stored;
}

/* The contact a continuation goes on from: the first of its chain of
 * transfers (transferred_from) that memory holds; itself when none. */
static const Call *chain_start(const Centre *c, const Call *x)
{
    const Call *r = x;
    for (int hops = 0; hops < CALL_MAX_LEGS && r->sum.transferred_from; hops++) {
        const Call *up = strmap_get(&c->calls, r->sum.transferred_from);
        if (!up || up == x)
            break;
        r = up;
    }
    return r;
}

/* Derives, for every contact of one caller, whether a later contact of
 * theirs falls in its window (a repeat) and how many earlier ones fall in
 * theirs. Only the caller's own contacts count (is_trigger). Settling the
 * list whole keeps the result independent of the order contacts became
 * known. The list is in contact order and a window's end grows with its
 * start, so the earlier contacts whose window holds x are the run just
 * before x, and x is a repeat when the next trigger after it falls in
 * its window: one pass. */
static void settle_contacts(Centre *c, CallerList *l, Effects *fx)
{
    size_t lo = 0, next = 0;
    int triggers_in_run = 0; /* triggers among calls[lo .. i-1] */
    for (size_t i = 0; i < l->n; i++) {
        Call *x = l->calls[i];
        while (lo < i && l->calls[lo]->index_window_end < x->index_at)
            triggers_in_run -= l->calls[lo++]->index_trigger;
        if (next <= i)
            next = i + 1;
        while (next < l->n && !l->calls[next]->index_trigger)
            next++;
        bool repeated = repeat_with_storage(
            c, x, next < l->n && l->calls[next]->index_at <= x->index_window_end);
        /* a continuation is the same contact going on: the one it
         * continues is not an earlier contact of its own */
        int earlier = triggers_in_run;
        const Call *start = x->sum.transferred_from ? chain_start(c, x) : x;
        if (start != x && start->index_trigger && start->index_key &&
            strcmp(start->index_key, l->key) == 0 &&
            contact_before(start, x) && start->index_window_end >= x->index_at)
            earlier--;
        set_repeat(c, x, repeated, earlier, fx);
        triggers_in_run += x->index_trigger;
    }
}

/* Keeps a call listed under its caller key as its offer says, settling
 * the lists it leaves and joins. */
static void reindex(Centre *c, Call *call, Effects *fx)
{
    const CallSummary *s = &call->sum;
    const char *key = s->offered ? s->caller_key : NULL;
    bool trigger = s->offered && is_trigger(s);
    if (call->index_key && key && strcmp(key, call->index_key) == 0 &&
        call->index_at == s->offered_at && call->index_trigger == trigger)
        return; /* nothing the lists care about changed */
    if (call->index_key) {
        CallerList *old = caller_list(c, call->index_key, false);
        bool moved = !key || strcmp(key, call->index_key) != 0;
        if (old && moved) {
            list_remove(c, old, call);
            old = caller_list(c, call->index_key, false);
            if (old)
                settle_contacts(c, old, fx);
        }
        if (moved) {
            free(call->index_key);
            call->index_key = NULL;
        }
    }
    if (!key) {
        set_repeat(c, call, repeat_with_storage(c, call, false), 0, fx);
        return;
    }
    CallerList *l = caller_list(c, key, true);
    if (call->index_key)
        list_take(l, call); /* its place in the order may change */
    call->index_at = s->offered_at;
    call->index_window_end =
        time_add_local_days_memo(&c->window_end_memo, s->offered_at, c->cfg.repeat_window_days);
    call->index_trigger = trigger;
    list_insert(l, call);
    if (!call->index_key) {
        call->index_key = dup_or_die(key);
        /* Memory holds every call with an event since loaded_since, so only
         * a contact whose window reaches further back can touch calls it
         * does not hold: storage settles those. */
        KicTime window_start = time_add_local_days_memo(&c->window_start_memo, s->offered_at,
                                                        -c->cfg.repeat_window_days);
        if (fx && window_start < c->loaded_since) {
            fx->new_contacts = grow(fx->new_contacts, &fx->cap_new, fx->nnew + 1, sizeof(Call *));
            fx->new_contacts[fx->nnew++] = call;
        }
    }
    settle_contacts(c, l, fx);
}

/* ---- contributions ---- */

static bool offered_today(const Centre *c, const CallSummary *s)
{
    return s->offered && s->offered_at >= c->day_start && s->offered_at < c->day_end;
}

static void waiting_remove(Call *call)
{
    Queue *q = call->waiting_in;
    if (!q)
        return;
    if (call->wait_prev)
        call->wait_prev->wait_next = call->wait_next;
    else
        q->waiting = call->wait_next;
    if (call->wait_next)
        call->wait_next->wait_prev = call->wait_prev;
    call->wait_prev = call->wait_next = NULL;
    call->waiting_in = NULL;
    q->nwaiting--;
}

static void waiting_add(Centre *c, Call *call)
{
    Queue *q = queue_get(c, call->sum.queue);
    call->wait_prev = NULL;
    call->wait_next = q->waiting;
    if (q->waiting)
        q->waiting->wait_prev = call;
    q->waiting = call;
    q->nwaiting++;
    call->waiting_in = q;
}

static void queue_agent_count(Queue *q, Agent *a, int sign)
{
    QueueAgent *qa = strmap_get(&q->agents_today, a->id);
    if (!qa) {
        if (sign < 0)
            return; /* never counted here: nothing to take away */
        qa = calloc(1, sizeof(*qa));
        if (!qa)
            abort();
        qa->agent = a;
        strmap_put(&q->agents_today, a->id, qa);
    }
    qa->parts += sign;
    if (qa->parts <= 0)
        free(strmap_remove(&q->agents_today, a->id));
}

static void queue_agents_clear(Queue *q)
{
    size_t pos = 0;
    void *v;
    while (strmap_next(&q->agents_today, &pos, NULL, &v))
        free(v);
    strmap_free(&q->agents_today);
}

static void today_contribute(Centre *c, Call *call, int sign)
{
    const CallSummary *s = &call->sum;
    Queue *q = queue_get(c, s->queue);
    metrics_add_call(&q->today, s, &c->cfg.metric, sign);
    metrics_add_call(&c->today, s, &c->cfg.metric, sign);
}

/* A queue's agents are those who answered one of its contacts today, also
 * a contact offered before midnight (and, in a snapshot, those still on or
 * in the ACW of one answered before midnight: carried_agents). */
static void queue_agents_contribute(Centre *c, const CallSummary *s, int sign)
{
    for (int i = 0; i < s->nlegs && s->queue; i++)
        if (s->legs[i].answered_at >= c->day_start && s->legs[i].answered_at < c->day_end)
            queue_agent_count(queue_get(c, s->queue), agent_get(c, s->legs[i].agent), sign);
}

static void legs_contribute(Centre *c, const CallSummary *s, int sign)
{
    for (int i = 0; i < s->nlegs; i++)
        if (s->legs[i].end_at == KIC_TIME_NONE)
            agent_get(c, s->legs[i].agent)->open_legs += sign;
}

/* The same part in another summary: same agent, same answer. */
static const CallLeg *same_leg(const CallSummary *s, const CallLeg *leg)
{
    for (int i = 0; i < s->nlegs; i++)
        if (s->legs[i].answered_at == leg->answered_at && strcmp(s->legs[i].agent, leg->agent) == 0)
            return &s->legs[i];
    return NULL;
}

static bool has_leg(const CallSummary *s, const char *agent)
{
    return call_leg_of(s, agent) != NULL;
}

static void notify_legs(const Centre *c, const Call *call, const CallSummary *old, KicTime now,
                        Effects *fx)
{
    for (int i = 0; i < call->sum.nlegs; i++) {
        const CallLeg *leg = &call->sum.legs[i];
        const CallLeg *before = same_leg(old, leg);
        if (leg->end_at == KIC_TIME_NONE) {
            /* An offer that comes after its answer (a bridge reconnect)
             * tells the desktop again: the first notice had no queue and
             * no earlier contacts. */
            bool offer_came = before && !old->offered && call->sum.offered;
            if ((!before || offer_came) && now - leg->answered_at <= c->cfg.notice_max_age_us)
                add_notice(fx, NOTICE_CONNECTED, call, leg);
        } else if ((!before || before->end_at == KIC_TIME_NONE) &&
                   now - leg->end_at <= c->cfg.notice_max_age_us) {
            add_notice(fx, NOTICE_ENDED, call, leg);
        }
    }
}

/* The agents of a call re-derived from `old`: each points at their
 * latest call and is in the state it gives them. */
static void agents_follow_call(Centre *c, Call *call, const CallSummary *old, bool was_live,
                               bool live_now, Effects *fx)
{
    /* Agents who lost their part here (a late event reordered the call)
     * must not keep pointing at it; nor any agent at a call no longer
     * counted live. */
    for (int i = 0; i < old->nlegs && was_live; i++) {
        if (live_now && has_leg(&call->sum, old->legs[i].agent))
            continue;
        Agent *a = agent_get(c, old->legs[i].agent);
        agent_lose_part(a, call);
        agent_refresh_at(c, a, fx, old->legs[i].answered_at);
    }
    for (int i = 0; i < call->sum.nlegs && live_now; i++) {
        Agent *a = agent_get(c, call->sum.legs[i].agent);
        if (!a->latest_call || a->latest_call == call || part_later(a, call, a->latest_call)) {
            a->latest_call = call;
            a->latest_start = call->sum.legs[i].answered_at;
        }
        parts_add(a, call);
    }
    for (int i = 0; i < call->sum.nlegs && live_now; i++) {
        const CallLeg *leg = &call->sum.legs[i];
        Agent *a = agent_get(c, leg->agent);
        /* The agent's latest part, first known already ended (its end
         * came before its answer): never seen on the call, so its talk is
         * stored here, as events in time order would have. */
        bool talk_stored = a->latest_call == call && leg->end_at != KIC_TIME_NONE &&
                           !same_leg(old, leg);
        if (talk_stored)
            add_interval(fx, c->tenant, a, AS_ON_CALL, leg->answered_at, NULL);
        AgentState before = a->state;
        agent_refresh(c, a, fx);
        /* and what followed it, also when that is the state the agent was
         * in before (offline): else the talk stays open in storage */
        if (talk_stored && a->state == before && a->since != KIC_TIME_NONE)
            add_interval(fx, c->tenant, a, a->state, a->since,
                         a->state == a->chosen ? a->reason : NULL);
    }
}

/* Re-derives a call and moves its contributions. `at` is the time of the
 * fact that caused the change (for eviction). loading: the call comes
 * from storage, whose sums already hold it. */
static void call_update(Centre *c, Call *call, KicTime now, bool live, bool loading, KicTime at,
                        Effects *fx)
{
    CallSummary old = call->sum;
    bool was_live = call->counted_live;
    bool live_now = (at > call->last_at ? at : call->last_at) >= c->loaded_since;
    if (call->in_today)
        today_contribute(c, call, -1);
    waiting_remove(call);
    if (was_live)
        legs_contribute(c, &old, -1);
    queue_agents_contribute(c, &old, -1);

    CallInput in = {(const Event **)call->events, call->nevents,
                    (const Wrapup *const *)call->wrapups, call->nwrapups,
                    call->followed_by_repeat};
    call_derive(&in, &call->sum);

    call->counted_live = live_now;
    if (live_now) {
        legs_contribute(c, &call->sum, 1);
        if (call_waiting(&call->sum))
            waiting_add(c, call);
    }
    call->in_today = offered_today(c, &call->sum);
    if (call->in_today)
        today_contribute(c, call, 1);
    queue_agents_contribute(c, &call->sum, 1);

    agents_follow_call(c, call, &old, was_live, live_now, fx);
    if (at > call->last_at)
        call->last_at = at;
    mark_dirty(call, fx, true);
    c->version++;
    rollup_refresh(c, call, fx, !loading); /* before reindex: it may move the repeat flag */
    reindex(c, call, fx);
    if (live && fx)
        notify_legs(c, call, &old, now, fx);
}

/* ---- calls ---- */

static Call *call_get(Centre *c, const char *call_id)
{
    Call *call = strmap_get(&c->calls, call_id);
    if (call)
        return call;
    call = calloc(1, sizeof(*call));
    if (!call)
        abort();
    call->tenant = c->tenant;
    call->call_id = dup_or_die(call_id);
    call->last_at = KIC_TIME_NONE;
    strmap_put(&c->calls, call->call_id, call);
    return call;
}

static void call_add_event(Centre *c, Call *call, Event *ev)
{
    call->events = grow(call->events, &call->cap_events, call->nevents + 1, sizeof(Event *));
    call->events[call->nevents++] = ev;
    strmap_put(&c->event_ids, ev->event_id, ev);
}

static bool call_has_wrapup_of(const Call *call, const char *agent)
{
    for (size_t i = 0; i < call->nwrapups; i++)
        if (strcmp(call->wrapups[i]->agent, agent) == 0)
            return true;
    return false;
}

static void call_add_wrapup(Call *call, Wrapup *w)
{
    Wrapup **nw = realloc(call->wrapups, (call->nwrapups + 1) * sizeof(Wrapup *));
    if (!nw)
        abort();
    call->wrapups = nw;
    call->wrapups[call->nwrapups++] = w;
}

/* Removes a call and all it contributes; clears agents' pointers to it. */
static void call_evict(Centre *c, Call *call)
{
    if (call->in_today)
        today_contribute(c, call, -1);
    waiting_remove(call);
    if (call->counted_live)
        legs_contribute(c, &call->sum, -1);
    queue_agents_contribute(c, &call->sum, -1);
    if (call->index_key) {
        /* The oldest calls leave; the rest keep their flags (a later contact
         * decides them, and later ones stay). */
        CallerList *l = caller_list(c, call->index_key, false);
        if (l)
            list_remove(c, l, call);
        free(call->index_key);
    }
    for (int i = 0; i < call->sum.nlegs; i++) {
        Agent *a = strmap_get(&c->agents, call->sum.legs[i].agent);
        if (a) {
            agent_lose_part(a, call);
            agent_refresh(c, a, NULL);
        }
    }
    for (size_t i = 0; i < call->nevents; i++) {
        strmap_remove(&c->event_ids, call->events[i]->event_id);
        event_destroy(call->events[i]);
    }
    for (size_t i = 0; i < call->nwrapups; i++)
        wrapup_free(call->wrapups[i]);
    strmap_remove(&c->calls, call->call_id);
    free(call->stored_key);
    free(call->events);
    free(call->wrapups);
    free(call->call_id);
    free(call);
}

/* ---- public ---- */

static void set_day(Centre *c, KicTime now)
{
    c->day_start = time_local_day_start(now);
    /* not day_start + one local day, which keeps the wall time and so
     * misses where a zone skips midnight (the day then starts at 01:00) */
    c->day_end = time_local_next_day_start(now);
}

Centre *centre_new(int64_t tenant_id, const CentreConfig *cfg, KicTime now)
{
    Centre *c = calloc(1, sizeof(*c));
    if (!c)
        return NULL;
    c->tenant = tenant_id;
    c->cfg = *cfg;
    set_day(c, now);
    c->loaded_since = time_add_local_days(c->day_start, -cfg->cache_days);
    time_local_days_memo_reset(&c->window_end_memo);
    time_local_days_memo_reset(&c->window_start_memo);
    return c;
}

void centre_free(Centre *c)
{
    if (!c)
        return;
    size_t pos = 0;
    void *v;
    while (strmap_next(&c->calls, &pos, NULL, &v)) {
        Call *call = v;
        for (size_t i = 0; i < call->nevents; i++)
            event_destroy(call->events[i]);
        for (size_t i = 0; i < call->nwrapups; i++)
            wrapup_free(call->wrapups[i]);
        free(call->events);
        free(call->wrapups);
        free(call->stored_key);
        free(call->index_key);
        free(call->call_id);
        free(call);
    }
    for (pos = 0; strmap_next(&c->other, &pos, NULL, &v);)
        event_destroy(v);
    for (pos = 0; strmap_next(&c->agents, &pos, NULL, &v);)
        agent_free(v);
    for (pos = 0; strmap_next(&c->queues, &pos, NULL, &v);) {
        Queue *q = v;
        queue_agents_clear(q);
        free(q->name);
        free(q);
    }
    for (pos = 0; strmap_next(&c->callbacks, &pos, NULL, &v);)
        callback_free(v);
    for (pos = 0; strmap_next(&c->queue_teams, &pos, NULL, &v);)
        free(v);
    for (pos = 0; strmap_next(&c->key_queues, &pos, NULL, &v);)
        free(v);
    for (pos = 0; strmap_next(&c->callers, &pos, NULL, &v);) {
        CallerList *l = v;
        free(l->key);
        free(l->calls);
        free(l);
    }
    strmap_free(&c->calls);
    strmap_free(&c->event_ids);
    strmap_free(&c->other);
    strmap_free(&c->agents);
    strmap_free(&c->queues);
    strmap_free(&c->callers);
    strmap_free(&c->callbacks);
    strmap_free(&c->queue_teams);
    strmap_free(&c->key_queues);
    free(c);
}

uint64_t centre_version(const Centre *c)
{
    return c->version;
}

KicTime centre_loaded_since(const Centre *c)
{
    return c->loaded_since;
}

bool centre_needs_load(const Centre *c, const Event *ev)
{
    return ev->type != EV_CALLBACK_REQUESTED && ev->at < c->loaded_since &&
           !strmap_get(&c->calls, ev->call_id);
}

bool centre_needs_key_check(const Centre *c, const Event *ev)
{
    return ev->type == EV_CALLBACK_REQUESTED && ev->at < c->loaded_since &&
           !strmap_get(&c->other, ev->event_id);
}

Call *centre_call(const Centre *c, const char *call_id)
{
    return strmap_get(&c->calls, call_id);
}

/* The care team a queue's IVR callbacks go to (default: the queue). */
static const char *queue_team(const Centre *c, const char *queue)
{
    const char *both = strmap_get(&c->queue_teams, queue);
    return both ? both + strlen(both) + 1 : queue;
}

/* A callback request from the IVR opens a callback, once per id. */
static void request_callback(Centre *c, const Event *ev, const char *number, Effects *fx)
{
    if (strmap_get(&c->callbacks, ev->callback_id))
        return;
    CallbackNew n = {.id = ev->callback_id,
                     .team = queue_team(c, ev->queue),
                     .queue = ev->queue,
                     .call_id = ev->call_id[0] ? ev->call_id : NULL,
                     .caller_key = ev->caller_key,
                     .number = number,
                     .from_ivr = true,
                     .created_at = ev->at,
                     .due_by = ev->due_by != KIC_TIME_NONE ? ev->due_by
                                                           : ev->at + c->cfg.callback_due_us};
    centre_create_callback(c, &n, fx);
}

ApplyResult centre_apply_event(Centre *c, Event *ev, const char *number, KicTime now, bool live,
                               Effects *fx)
{
    if (strmap_get(&c->event_ids, ev->event_id) || strmap_get(&c->other, ev->event_id)) {
        event_destroy(ev);
        return APPLY_DUPLICATE;
    }
    if (ev->type == EV_CALLBACK_REQUESTED) {
        strmap_put(&c->other, ev->event_id, ev);
        if (number && number[0])
            request_callback(c, ev, number, fx);
        c->version++;
        return APPLY_NEW;
    }
    Call *call = call_get(c, ev->call_id);
    KicTime at = ev->at;
    call_add_event(c, call, ev);
    call_update(c, call, now, live, false, at, fx);
    return APPLY_NEW;
}

void centre_load_call(Centre *c, Event **events, size_t n, Wrapup **wrapups, size_t nw,
                      bool followed_by_repeat, KicTime now, Effects *fx)
{
    Call *call = NULL;
    KicTime at = KIC_TIME_NONE;
    for (size_t i = 0; i < n; i++) {
        Event *ev = events[i];
        if (strmap_get(&c->event_ids, ev->event_id)) {
            event_destroy(ev);
            continue;
        }
        if (!call)
            call = call_get(c, ev->call_id);
        if (ev->at > at)
            at = ev->at;
        call_add_event(c, call, ev);
    }
    for (size_t i = 0; i < nw; i++) {
        if (!call || call_has_wrapup_of(call, wrapups[i]->agent)) {
            wrapup_free(wrapups[i]);
            continue;
        }
        if (wrapups[i]->at > at)
            at = wrapups[i]->at;
        call_add_wrapup(call, wrapups[i]);
    }
    if (!call)
        return;
    call->row_stored = true; /* written with its events */
    call->legs_sig = UINT64_MAX; /* whatever storage has: replaced when written */
    call->repeat_stored |= followed_by_repeat;
    /* With fx (a late event's call) the row is rewritten: the same data,
     * and simpler than telling loaded changes from new ones. */
    call_update(c, call, now, false, true, at, fx);
    /* A new call was settled under its caller by that update; one memory
     * held already was not, unless its offer changed. */
    CallerList *l = call->index_key ? caller_list(c, call->index_key, false) : NULL;
    if (l)
        settle_contacts(c, l, fx);
    else
        set_repeat(c, call, repeat_with_storage(c, call, false), 0, fx);
}

WrapupResult centre_check_wrapup(const Centre *c, const char *call_id, const char *agent,
                                 KicTime holder_since, KicTime at)
{
    const Call *call = strmap_get(&c->calls, call_id);
    if (!call)
        return WRAPUP_UNKNOWN_CALL;
    const CallLeg *leg = call_leg_of_holder(&call->sum, agent, holder_since);
    if (!leg)
        return WRAPUP_NOT_YOURS;
    if (call_has_wrapup_of(call, agent))
        return WRAPUP_ALREADY;
    if (at < leg->answered_at)
        return WRAPUP_BEFORE_ANSWER;
    return WRAPUP_OK;
}

/* A wrap-up dated before choices the agent made while it was owed (work
 * queued on a desktop, sent late): the ACW ended at the wrap-up, and the
 * agent was then in what they had chosen by that moment, and in each
 * later choice from its time. The refresh dates the state after ACW from
 * the latest choice alone, which left ACW running until it. Intervals
 * stored before (an offline that ended the ACW) may come again: sent
 * marked, where a stored copy is no error. */
static void date_choices_after_wrapup(Centre *c, Agent *a, Effects *fx)
{
    /* the ACW ended when the last owed wrap-up was done, not at the one
     * that came last (two contacts at once) */
    KicTime at = parts_done(a, false), ended = parts_ended(a);
    if (!fx || a->open_legs > 0 || ended == KIC_TIME_NONE || at <= ended || a->nchoices == 0 ||
        a->choices[a->nchoices - 1].since <= at)
        return;
    const AgentChoice *then = agent_choice_at(a, at);
    if (!then)
        return; /* forgotten, or chosen before a restart: ACW stays until the next known */
    size_t first = fx->ntransitions;
    add_interval(fx, c->tenant, a, then->state, at, then->reason);
    for (int i = 0; i < a->nchoices; i++)
        if (a->choices[i].since > at)
            add_interval(fx, c->tenant, a, a->choices[i].state, a->choices[i].since,
                         a->choices[i].reason);
    for (size_t i = first; i < fx->ntransitions; i++)
        fx->transitions[i].maybe_stored = true;
}

void centre_apply_wrapup(Centre *c, const char *call_id, Wrapup *w, KicTime now,
                         int64_t *acw_us, Effects *fx)
{
    Call *call = strmap_get(&c->calls, call_id);
    KicTime at = w->at;
    call_add_wrapup(call, w);
    call_update(c, call, now, false, false, at, fx);
    const CallLeg *leg = call_leg_of(&call->sum, w->agent);
    Agent *a = strmap_get(&c->agents, w->agent);
    if (leg && a && counting_leg(a, call) && !a->acw_pending) /* the wrap-up ended the ACW */
        date_choices_after_wrapup(c, a, fx);
    *acw_us = leg && leg->end_at != KIC_TIME_NONE ? wrapup_acw_us(w->at, leg->end_at) : 0;
}

static bool same_reason(const char *a, const char *b)
{
    return a == b || (a && b && strcmp(a, b) == 0);
}

bool centre_set_agent_state(Centre *c, const char *agent, AgentState chosen,
                            const char *reason, KicTime at, Effects *fx)
{
    Agent *a = agent_get(c, agent);
    if (a->chosen_since != KIC_TIME_NONE && a->chosen == chosen && same_reason(a->reason, reason))
        return false;
    if (chosen == AS_OFFLINE)
        a->login_since = KIC_TIME_NONE;
    else if (a->chosen == AS_OFFLINE) /* also a new agent's first choice */
        a->login_since = at;
    free(a->reason);
    a->reason = reason ? dup_or_die(reason) : NULL;
    a->chosen = chosen;
    a->chosen_since = at;
    if (chosen == AS_OFFLINE)
        a->offline_since = at;
    if (!agent_remember_choice(a, chosen, at, reason))
        abort();
    agent_refresh(c, a, fx);
    c->version++;
    return true;
}

void centre_load_agent(Centre *c, const char *agent, AgentState chosen, KicTime since,
                       const char *reason, KicTime offline_since, KicTime login_since)
{
    Agent *a = agent_get(c, agent);
    free(a->reason);
    a->reason = reason ? dup_or_die(reason) : NULL;
    a->chosen = chosen;
    a->chosen_since = since;
    a->offline_since = offline_since;
    a->login_since = chosen == AS_OFFLINE ? KIC_TIME_NONE : login_since;
    /* storage keeps the latest choice only */
    for (int i = 0; i < a->nchoices; i++)
        free(a->choices[i].reason);
    a->nchoices = 0;
    if (!agent_remember_choice(a, chosen, since, reason))
        abort();
    a->choices_complete = false;
    agent_refresh(c, a, NULL);
}

Agent *centre_agent(const Centre *c, const char *id)
{
    return strmap_get(&c->agents, id);
}

bool centre_next_agent(const Centre *c, size_t *pos, Agent **out)
{
    void *v;
    if (!strmap_next(&c->agents, pos, NULL, &v))
        return false;
    *out = v;
    return true;
}

void centre_roll_day(Centre *c, KicTime now)
{
    KicTime horizon = time_add_local_days(time_local_day_start(now), -c->cfg.cache_days);
    size_t pos = 0;
    void *v;
    while (strmap_next(&c->calls, &pos, NULL, &v)) {
        Call *call = v;
        if (!call->dirty && call->last_at < horizon)
            call_evict(c, call);
    }
    for (pos = 0; strmap_next(&c->other, &pos, NULL, &v);) {
        Event *ev = v;
        if (ev->at < horizon) {
            strmap_remove(&c->other, ev->event_id);
            event_destroy(ev);
        }
    }
    if (horizon > c->loaded_since)
        c->loaded_since = horizon;
    if (now >= c->day_start && now < c->day_end)
        return;
    set_day(c, now);
    for (pos = 0; strmap_next(&c->callbacks, &pos, NULL, &v);) {
        Callback *cb = v;
        if (!callback_is_open(cb) && !cb->dirty && cb->closed_at < c->day_start) {
            strmap_remove(&c->callbacks, cb->id);
            callback_free(cb);
        }
    }
    memset(&c->today, 0, sizeof(c->today));
    for (pos = 0; strmap_next(&c->queues, &pos, NULL, &v);) {
        Queue *q = v;
        memset(&q->today, 0, sizeof(q->today));
        queue_agents_clear(q);
    }
    for (pos = 0; strmap_next(&c->calls, &pos, NULL, &v);) {
        Call *call = v;
        call->in_today = offered_today(c, &call->sum);
        if (call->in_today)
            today_contribute(c, call, 1);
        queue_agents_contribute(c, &call->sum, 1);
    }
    c->version++;
}

/* ---- callbacks ---- */

Callback *centre_callback(const Centre *c, const char *id)
{
    return strmap_get(&c->callbacks, id);
}

Callback *centre_create_callback(Centre *c, const CallbackNew *n, Effects *fx)
{
    Callback *cb = callback_new(n);
    cb->tenant = c->tenant;
    cb->fresh = fx != NULL;
    strmap_put(&c->callbacks, cb->id, cb);
    callback_dirty(c, cb, fx);
    return cb;
}

CallbackResult centre_claim_callback(Centre *c, Callback *cb, const char *agent, KicTime at,
                                     Effects *fx)
{
    CallbackResult r = callback_claim(cb, agent, at);
    if (r == CALLBACK_OK)
        callback_dirty(c, cb, fx);
    return r;
}

CallbackResult centre_complete_callback(Centre *c, Callback *cb, const char *agent,
                                        CallbackOutcome outcome, KicTime at, Effects *fx)
{
    CallbackResult r = callback_complete(cb, agent, outcome, at);
    if (r == CALLBACK_OK)
        callback_dirty(c, cb, fx);
    return r;
}

void centre_load_callback(Centre *c, Callback *cb)
{
    cb->tenant = c->tenant;
    Callback *old = strmap_put(&c->callbacks, cb->id, cb);
    if (old && old != cb)
        callback_free(old);
    c->version++;
}

void centre_set_queue_team(Centre *c, const char *queue, const char *team)
{
    size_t nq = strlen(queue) + 1, nt = strlen(team) + 1;
    char *both = malloc(nq + nt);
    if (!both)
        abort();
    memcpy(both, queue, nq);
    memcpy(both + nq, team, nt);
    char *old = strmap_put(&c->queue_teams, both, both);
    if (old && old != both)
        free(old);
}

void centre_clear_queue_teams(Centre *c)
{
    size_t pos;
    void *v;
    for (pos = 0; strmap_next(&c->queue_teams, &pos, NULL, &v);)
        free(v);
    strmap_free(&c->queue_teams);
}

bool centre_next_callback(const Centre *c, size_t *pos, Callback **out)
{
    void *v;
    if (!strmap_next(&c->callbacks, pos, NULL, &v))
        return false;
    *out = v;
    return true;
}

static bool claimed_by(const Callback *cb, const char *agent)
{
    return cb->status == CB_CLAIMED && cb->claimed_by && strcmp(cb->claimed_by, agent) == 0;
}

size_t centre_claims_of(const Centre *c, const char *agent)
{
    size_t pos = 0, n = 0;
    Callback *cb;
    while (centre_next_callback(c, &pos, &cb))
        n += claimed_by(cb, agent);
    return n;
}

size_t centre_release_claims(Centre *c, const char *agent, Effects *fx)
{
    size_t pos = 0, n = 0;
    Callback *cb;
    while (centre_next_callback(c, &pos, &cb)) {
        if (claimed_by(cb, agent) && callback_release(cb)) {
            callback_dirty(c, cb, fx);
            n++;
        }
    }
    return n;
}

void centre_callback_sums(const Centre *c, const char *team, KicTime now, CallbackSums *out)
{
    memset(out, 0, sizeof(*out));
    size_t pos = 0;
    void *v;
    while (strmap_next(&c->callbacks, &pos, NULL, &v)) {
        const Callback *cb = v;
        if (!team || strcmp(cb->team, team) == 0)
            callback_add_to_sums(out, cb, now, c->day_start, c->day_end);
    }
}

static int cmp_snapshots(const void *a, const void *b)
{
    return strcmp(((const QueueSnapshot *)a)->queue, ((const QueueSnapshot *)b)->queue);
}

/* The queue of the call an agent is on, or in the ACW of, now, when they
 * answered it before midnight and so are not among the queue's agents of
 * today: still at work on it. NULL for anyone else. */
static const Queue *carried_queue(const Centre *c, const Agent *a)
{
    if ((a->state != AS_ON_CALL && a->state != AS_ACW) || !a->latest_call ||
        a->latest_start >= c->day_start || !a->latest_call->sum.queue)
        return NULL;
    const Queue *q = strmap_get(&c->queues, a->latest_call->sum.queue);
    return q && !strmap_get(&q->agents_today, a->id) ? q : NULL;
}

static void queue_snapshot(const Queue *q, KicTime now, QueueSnapshot *out)
{
    memset(out, 0, sizeof(*out));
    out->queue = q->name;
    out->waiting = q->nwaiting;
    for (const Call *w = q->waiting; w; w = w->wait_next) {
        double s = time_diff_s(w->sum.offered_at, now);
        if (s > out->longest_wait_s)
            out->longest_wait_s = s;
    }
    size_t pos = 0;
    void *v;
    while (strmap_next(&q->agents_today, &pos, NULL, &v))
        out->agents[((const QueueAgent *)v)->agent->state]++;
    out->today = q->today;
    metrics_compute(&out->today, &out->rates);
}

/* The snapshot of a queue an open callback or a carried agent names:
 * found among those taken, or added (a queue quiet today, or one no call
 * has entered). */
static QueueSnapshot *snapshot_of_queue(const Centre *c, KicTime now, CentreSnapshot *out,
                                     const char *name)
{
    for (size_t i = 0; i < out->nqueues; i++)
        if (strcmp(out->queues[i].queue, name) == 0)
            return &out->queues[i];
    QueueSnapshot *qs = &out->queues[out->nqueues++];
    const Queue *q = strmap_get(&c->queues, name);
    if (q) {
        queue_snapshot(q, now, qs);
    } else {
        memset(qs, 0, sizeof(*qs));
        qs->queue = name;
        metrics_compute(&qs->today, &qs->rates); /* undefined, not 0: nothing offered */
    }
    return qs;
}

bool centre_snapshot(const Centre *c, KicTime now, CentreSnapshot *out)
{
    memset(out, 0, sizeof(*out));
    /* every queue, and at most one more for each callback */
    out->queues = calloc(c->queues.count + c->callbacks.count + 1, sizeof(QueueSnapshot));
    if (!out->queues)
        return false;
    size_t pos = 0;
    void *v;
    QueueSnapshot *t = &out->total;
    while (strmap_next(&c->queues, &pos, NULL, &v)) {
        const Queue *q = v;
        if (!q->today.offered && !q->nwaiting && !q->agents_today.count)
            continue; /* a queue of earlier days, quiet today (unless a callback names it) */
        QueueSnapshot *qs = &out->queues[out->nqueues++];
        queue_snapshot(q, now, qs);
        t->waiting += qs->waiting;
        if (qs->longest_wait_s > t->longest_wait_s)
            t->longest_wait_s = qs->longest_wait_s;
    }
    /* agents still at work on a call of a queue answered before midnight */
    for (pos = 0; strmap_next(&c->agents, &pos, NULL, &v);) {
        const Agent *a = v;
        const Queue *q = carried_queue(c, a);
        if (q)
            snapshot_of_queue(c, now, out, q->name)->agents[a->state]++;
    }
    /* The open callbacks count in their queue's figures, so the queues add
     * up to the total. */
    for (pos = 0; strmap_next(&c->callbacks, &pos, NULL, &v);) {
        const Callback *cb = v;
        if (!callback_is_open(cb))
            continue;
        bool overdue = callback_overdue(cb, now);
        t->callbacks_open++;
        t->callbacks_overdue += overdue;
        if (cb->queue) {
            QueueSnapshot *qs = snapshot_of_queue(c, now, out, cb->queue);
            qs->callbacks_open++;
            qs->callbacks_overdue += overdue;
        }
    }
    qsort(out->queues, out->nqueues, sizeof(QueueSnapshot), cmp_snapshots);
    memcpy(t->agents, c->state_counts, sizeof(t->agents));
    t->today = c->today;
    metrics_compute(&t->today, &t->rates);
    return true;
}

void centre_snapshot_free(CentreSnapshot *s)
{
    free(s->queues);
    s->queues = NULL;
    s->nqueues = 0;
}
