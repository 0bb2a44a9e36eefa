/* The discrete-event simulation behind kic-sim. Model events (an arrival,
 * an answer, a hold, the end of an agent's part, a wrap-up, a shift tick,
 * ...) sit in one heap ordered by (time, insertion); handling one may
 * schedule others and emit protocol actions, always stamped with the
 * handler's own time, so the action stream comes out in time order by
 * construction. Calls and callbacks are recycled with a generation
 * number: an event scheduled for an earlier life of the object is stale.
 *
 * Invariants the unit tests check: a contact's events go offered →
 * (answered → [held → resumed]* → transferred|ended) | abandoned; the
 * wrap-up comes from the answering agent, after the end of their part,
 * and names that bridge event in `after`. */
#include "sim.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "jsonw.h"
#include "strbuf.h"

#define SIM_METHOD_NAME(name, text, bridge, timed) text,
#define SIM_METHOD_BRIDGE(name, text, bridge, timed) bridge,
#define SIM_METHOD_TIMED(name, text, bridge, timed) timed,
const char *const sim_method_names[] = {SIM_METHODS(SIM_METHOD_NAME) NULL};
static const bool method_bridge[] = {SIM_METHODS(SIM_METHOD_BRIDGE)};
static const bool method_timed[] = {SIM_METHODS(SIM_METHOD_TIMED)};
#undef SIM_METHOD_NAME
#undef SIM_METHOD_BRIDGE
#undef SIM_METHOD_TIMED

bool sim_method_is_bridge(SimMethod m)
{
    return method_bridge[m];
}

bool sim_method_is_timed(SimMethod m)
{
    return method_timed[m];
}

#define SEC ((KicTime)KIC_USEC)
#define MINUTE (60 * SEC)
#define HOUR (3600 * SEC)
#define DAY (24 * HOUR)
#define RECENT_SHIFTS 8

/* ---- the model's objects ---- */

typedef struct Caller {
    char number[24]; /* E.164; "" when withheld */
    int type;        /* SimCallerType */
    int location;
    bool withheld;
} Caller;

typedef enum { CS_WAITING, CS_RINGING, CS_TALKING, CS_AFTER } CallState;

typedef struct Call {
    uint64_t gen;
    uint64_t no; /* contact number: call id "<prefix>-<no>" */
    int queue;
    Caller caller;
    CallState state;
    KicTime offered_at, abandon_at, answered_at;
    int agent;                     /* answering agent, -1 before */
    int nholds, holds_done;
    double talk_s[3], hold_s[2];   /* talk, hold, talk, hold, talk */
    uint64_t part_end_seq;         /* the bridge action ending the agent's part */
    bool answered, transferred, over, wrapped;
    bool in_queue; /* on the waiting list */
    bool resolved;
    int follow_up;                 /* 0 none, 1 callback, 2 care_team */
    bool callback_promised;
    struct Call *parent;           /* transferred from; its call ends with ours */
    struct Call *wait_prev, *wait_next;
    struct Call *live_prev, *live_next;
} Call;

typedef struct Callback {
    uint64_t gen;
    uint64_t no;
    bool from_ivr;       /* callback.requested by the bridge (our id) or callback.create */
    uint64_t ref_seq;    /* that action's seq; 0 when it was not emitted */
    uint64_t last_op;    /* seq of the latest claim or complete */
    Caller caller;
    int queue;
    uint64_t call_no;    /* the contact it came from (agent-created), 0 for the IVR */
    KicTime due_by, next_try;
    int attempts;
    bool busy;           /* an agent is calling */
    bool reached;
    struct Callback *prev, *next; /* the open list, oldest first */
} Callback;

typedef enum { AG_OFF, AG_IDLE, AG_RINGING, AG_ON_CALL, AG_ACW, AG_CALLBACK, AG_BREAK } Activity;

typedef struct SimAgent {
    char *id;
    Activity act;
    bool on_duty, leaving;
    int shift_no;
    KicTime shift_start, last_end, idle_since;
    KicTime recent[RECENT_SHIFTS]; /* starts of the latest shifts */
    int nrecent;
    int break_pending; /* 1 + index of a break that came due */
    Call *call;
    Callback *cb;
} SimAgent;

typedef struct RepeatEntry {
    KicTime due, origin;
    Caller caller;
} RepeatEntry;

typedef struct RepeatHeap {
    RepeatEntry *v;
    size_t n, cap;
} RepeatHeap;

typedef enum {
    DE_DAY,
    DE_TICK,
    DE_ARRIVAL,
    DE_ABANDON,
    DE_ANSWER,
    DE_HOLD,
    DE_RESUME,
    DE_PART_END,
    DE_CALL_END,
    DE_CB_CREATE,
    DE_WRAPUP,
    DE_BREAK_DUE,
    DE_BREAK_END,
    DE_AGENT_FREE,
    DE_CB_READY,
    DE_CB_ATTEMPT_END,
    DE_CB_DUE,
} DesType;

typedef struct DesEvent {
    KicTime t;
    uint64_t order;
    DesType type;
    int arg;
    void *obj;
    uint64_t gen;
} DesEvent;

struct Sim {
    SimConfig cfg;
    const SimModel *m;
    SimRng rng;
    uint64_t salt;
    double aht_s;
    KicTime now;
    bool finished, stopped;

    DesEvent *heap;
    size_t nheap, capheap;
    uint64_t order;

    SimAction *out; /* ring buffer of emitted actions */
    size_t out_head, out_len, out_cap;
    uint64_t seq;

    SimAgent *agents;
    int nagents;
    Call *waiting_head, *waiting_tail;
    int nwaiting;
    Call *live;
    Call *free_calls;
    Callback *cb_head, *cb_tail, *free_cbs;
    RepeatHeap repeats[SIM_MAX_QUEUES];

    uint64_t contact_no, callback_no, mobile_serial, landline_serial;
    SimStats stats;
    bool oom;
};

/* ---- small helpers ---- */

static KicTime secs(double s)
{
    KicTime ms = (KicTime)llround(s * 1000.0);
    return (ms < 1 ? 1 : ms) * 1000;
}

static double clamp(double x, double lo, double hi)
{
    return x < lo ? lo : x > hi ? hi : x;
}

static void local_tm(KicTime t, struct tm *tm)
{
    time_t sec = (time_t)(t / KIC_USEC);
    localtime_r(&sec, tm);
}

static bool is_summer(const Sim *s, KicTime t)
{
    if (!s->cfg.summer_peak)
        return false;
    struct tm tm;
    local_tm(t, &tm);
    return tm.tm_mon == 6 || tm.tm_mon == 7;
}

/* ---- the event heap ---- */

static bool heap_less(const DesEvent *a, const DesEvent *b)
{
    return a->t < b->t || (a->t == b->t && a->order < b->order);
}

static void schedule(Sim *s, KicTime t, DesType type, void *obj, uint64_t gen, int arg)
{
    if (s->nheap == s->capheap) {
        size_t cap = s->capheap ? s->capheap * 2 : 1024;
        DesEvent *h = realloc(s->heap, cap * sizeof(*h));
        if (!h) {
            s->oom = true;
            return;
        }
        s->heap = h;
        s->capheap = cap;
    }
    DesEvent ev = {t, ++s->order, type, arg, obj, gen};
    size_t i = s->nheap++;
    while (i > 0) {
        size_t parent = (i - 1) / 2;
        if (!heap_less(&ev, &s->heap[parent]))
            break;
        s->heap[i] = s->heap[parent];
        i = parent;
    }
    s->heap[i] = ev;
}

static DesEvent heap_pop(Sim *s)
{
    DesEvent top = s->heap[0];
    DesEvent last = s->heap[--s->nheap];
    size_t i = 0;
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        const DesEvent *mv = &last;
        if (l < s->nheap && heap_less(&s->heap[l], mv)) {
            m = l;
            mv = &s->heap[l];
        }
        if (r < s->nheap && heap_less(&s->heap[r], mv))
            m = r;
        if (m == i)
            break;
        s->heap[i] = s->heap[m];
        i = m;
    }
    if (s->nheap > 0)
        s->heap[i] = last;
    return top;
}

/* ---- emitting actions ---- */

KicTime sim_stamp(const Sim *s, KicTime t)
{
    if (s->cfg.speed == 1.0)
        return s->cfg.stamp_origin + (t - s->cfg.start);
    return s->cfg.stamp_origin + (KicTime)((double)(t - s->cfg.start) / s->cfg.speed);
}

/* Whether the method goes into the stream. Without cfg.untimed the
 * callback flow stays out as a whole: a request nobody is seen to handle
 * would stay open in kicd for ever. */
static bool wanted(const Sim *s, SimMethod m)
{
    if (m == SM_CB_REQUESTED)
        return s->cfg.untimed;
    return sim_method_is_timed(m) || s->cfg.untimed;
}

/* Queues the action; returns its seq (0 when not emitted). Takes b's text. */
static uint64_t emit(Sim *s, SimMethod m, int agent, StrBuf *b, uint64_t after, uint64_t ref,
                     uint64_t contact)
{
    char *params = strbuf_steal(b);
    if (!params) {
        s->oom = true;
        return 0;
    }
    if (s->out_len == s->out_cap) {
        size_t cap = s->out_cap ? s->out_cap * 2 : 64;
        SimAction *o = malloc(cap * sizeof(*o));
        if (!o) {
            free(params);
            s->oom = true;
            return 0;
        }
        for (size_t i = 0; i < s->out_len; i++)
            o[i] = s->out[(s->out_head + i) % s->out_cap];
        free(s->out);
        s->out = o;
        s->out_head = 0;
        s->out_cap = cap;
    }
    SimAction *a = &s->out[(s->out_head + s->out_len++) % s->out_cap];
    *a = (SimAction){.seq = ++s->seq, .t = s->now, .stamp = sim_stamp(s, s->now), .method = m,
                     .agent = agent, .params = params, .after = after, .callback_ref = ref,
                     .contact = contact};
    s->stats.actions++;
    s->stats.by_method[m]++;
    return a->seq;
}

static void put_at(Sim *s, JsonW *w, const char *key, KicTime t)
{
    char buf[40];
    time_format_local(sim_stamp(s, t), buf, sizeof(buf));
    jw_key(w, key);
    jw_string(w, buf);
}

static void call_id(const Sim *s, uint64_t no, char *buf, size_t n)
{
    snprintf(buf, n, "%s-%llu", s->cfg.id_prefix, (unsigned long long)no);
}

/* Starts a bridge event's params: event_id, call_id, at. */
static void begin_event(Sim *s, JsonW *w, StrBuf *b, const Call *c, const char *tag)
{
    char id[300], ev[340];
    call_id(s, c->no, id, sizeof(id));
    snprintf(ev, sizeof(ev), "%s-%s", id, tag);
    jw_init(w, b);
    jw_begin_object(w);
    jw_key(w, "event_id");
    jw_string(w, ev);
    jw_key(w, "call_id");
    jw_string(w, id);
    put_at(s, w, "at", s->now);
}

static uint64_t emit_event(Sim *s, SimMethod m, JsonW *w, StrBuf *b, const Call *c)
{
    jw_end_object(w);
    return emit(s, m, SIM_BRIDGE, b, 0, 0, c->no);
}

static void emit_state(Sim *s, int agent, const char *state, const char *reason)
{
    if (!wanted(s, SM_STATE))
        return;
    StrBuf b = STRBUF_INIT;
    JsonW w;
    jw_init(&w, &b);
    jw_begin_object(&w);
    jw_key(&w, "state");
    jw_string(&w, state);
    if (reason) {
        jw_key(&w, "reason");
        jw_string(&w, reason);
    }
    jw_end_object(&w);
    emit(s, SM_STATE, agent, &b, 0, 0, 0);
}

/* ---- callers ---- */

static void new_caller(Sim *s, int q, Caller *c)
{
    const SimModel *m = s->m;
    memset(c, 0, sizeof(*c));
    c->type = (int)rng_weighted(&s->rng, m->queues[q].caller_type_w, SIM_CALLER_TYPE_COUNT);
    c->location = (int)rng_weighted(&s->rng, m->location_w, SIM_LOCATIONS);
    c->withheld = rng_chance(&s->rng, m->withheld_p);
    /* GPs, pharmacies and suppliers call from a practice's landline */
    double mobile_p = c->type == SCT_PROFESSIONAL || c->type == SCT_SUPPLIER ? 0.2 : m->mobile_p;
    bool mobile = rng_chance(&s->rng, mobile_p);
    if (!c->withheld)
        model_number(m, mobile, mobile ? ++s->mobile_serial : ++s->landline_serial, s->salt,
                     c->location, c->number);
}

static void repeat_push(Sim *s, int q, KicTime due, KicTime origin, const Caller *c)
{
    RepeatHeap *h = &s->repeats[q];
    if (due - origin >= (KicTime)s->m->repeat_window_days * DAY)
        return;
    if (h->n == h->cap) {
        size_t cap = h->cap ? h->cap * 2 : 64;
        RepeatEntry *v = realloc(h->v, cap * sizeof(*v));
        if (!v) {
            s->oom = true;
            return;
        }
        h->v = v;
        h->cap = cap;
    }
    RepeatEntry e = {due, origin, *c};
    size_t i = h->n++;
    while (i > 0 && h->v[(i - 1) / 2].due > e.due) {
        h->v[i] = h->v[(i - 1) / 2];
        i = (i - 1) / 2;
    }
    h->v[i] = e;
}

static void repeat_pop(RepeatHeap *h)
{
    RepeatEntry last = h->v[--h->n];
    size_t i = 0;
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        KicTime mv = last.due;
        if (l < h->n && h->v[l].due < mv) {
            m = l;
            mv = h->v[l].due;
        }
        if (r < h->n && h->v[r].due < mv)
            m = r;
        if (m == i)
            break;
        h->v[i] = h->v[m];
        i = m;
    }
    if (h->n > 0)
        h->v[i] = last;
}

/* A caller due to call this queue again, if any: takes the place of a
 * new caller, so repeats are part of the volume, not on top of it. */
static bool repeat_take(Sim *s, int q, Caller *out)
{
    RepeatHeap *h = &s->repeats[q];
    while (h->n > 0 && h->v[0].due <= s->now) {
        RepeatEntry e = h->v[0];
        repeat_pop(h);
        if (s->now - e.origin < (KicTime)s->m->repeat_window_days * DAY) {
            *out = e.caller;
            return true;
        }
    }
    return false;
}

static void maybe_repeat(Sim *s, const Call *c, double p, bool soon)
{
    if (!rng_chance(&s->rng, p))
        return;
    double delay = soon ? rng_lognormal(&s->rng, s->m->repeat_after_abandon_median_s, 1.0)
                        : rng_exponential(&s->rng, s->m->repeat_after_contact_mean_s);
    repeat_push(s, c->queue, s->now + secs(delay), c->offered_at, &c->caller);
}

/* ---- calls ---- */

static Call *call_new(Sim *s)
{
    Call *c = s->free_calls;
    if (c) {
        s->free_calls = c->live_next;
        uint64_t gen = c->gen;
        memset(c, 0, sizeof(*c));
        c->gen = gen;
    } else {
        c = calloc(1, sizeof(*c));
        if (!c) {
            s->oom = true;
            return NULL;
        }
    }
    c->agent = -1;
    c->live_next = s->live;
    if (s->live)
        s->live->live_prev = c;
    s->live = c;
    return c;
}

static void call_release(Sim *s, Call *c)
{
    if (c->live_prev)
        c->live_prev->live_next = c->live_next;
    else
        s->live = c->live_next;
    if (c->live_next)
        c->live_next->live_prev = c->live_prev;
    c->gen++;
    c->live_next = s->free_calls;
    s->free_calls = c;
}

/* Frees a contact once nothing more will happen to it. */
static void call_settle(Sim *s, Call *c)
{
    if (c->over && (!c->answered || c->wrapped))
        call_release(s, c);
}

static void waiting_remove(Sim *s, Call *c)
{
    if (c->wait_prev)
        c->wait_prev->wait_next = c->wait_next;
    else
        s->waiting_head = c->wait_next;
    if (c->wait_next)
        c->wait_next->wait_prev = c->wait_prev;
    else
        s->waiting_tail = c->wait_prev;
    c->wait_prev = c->wait_next = NULL;
    c->in_queue = false;
    s->nwaiting--;
}

static void waiting_append(Sim *s, Call *c)
{
    c->wait_prev = s->waiting_tail;
    c->wait_next = NULL;
    if (s->waiting_tail)
        s->waiting_tail->wait_next = c;
    else
        s->waiting_head = c;
    s->waiting_tail = c;
    c->in_queue = true;
    s->nwaiting++;
}

/* ---- agents: who does what next ---- */

static void agent_free(Sim *s, int i);

static int longest_idle(const Sim *s)
{
    int best = -1;
    for (int i = 0; i < s->nagents; i++) {
        const SimAgent *a = &s->agents[i];
        if (a->act == AG_IDLE && (best < 0 || a->idle_since < s->agents[best].idle_since))
            best = i;
    }
    return best;
}

static void assign(Sim *s, int i, Call *c)
{
    SimAgent *a = &s->agents[i];
    if (c->in_queue)
        waiting_remove(s, c);
    a->act = AG_RINGING;
    a->call = c;
    c->agent = i;
    c->state = CS_RINGING;
    KicTime answer = s->now + secs(clamp(rng_lognormal(&s->rng, s->m->ring_median_s,
                                                      s->m->ring_sigma), 2, 30));
    if (c->abandon_at < answer) {
        /* the caller hangs up while it rings: DE_ABANDON frees the agent */
        schedule(s, c->abandon_at, DE_ABANDON, c, c->gen, 0);
        return;
    }
    c->abandon_at = KIC_TIME_NONE;
    schedule(s, answer, DE_ANSWER, c, c->gen, 0);
}

static Callback *ready_callback(Sim *s)
{
    for (Callback *cb = s->cb_head; cb; cb = cb->next)
        if (!cb->busy && cb->next_try <= s->now)
            return cb;
    return NULL;
}

static void callback_close(Sim *s, Callback *cb)
{
    if (cb->prev)
        cb->prev->next = cb->next;
    else
        s->cb_head = cb->next;
    if (cb->next)
        cb->next->prev = cb->prev;
    else
        s->cb_tail = cb->prev;
    cb->gen++;
    cb->next = s->free_cbs;
    s->free_cbs = cb;
}

/* callback_id first, so a created callback's id can be put in front. */
static void begin_callback_params(Sim *s, JsonW *w, StrBuf *b, const Callback *cb)
{
    jw_init(w, b);
    jw_begin_object(w);
    if (cb->from_ivr) {
        char id[300];
        snprintf(id, sizeof(id), "%s-cb%llu", s->cfg.id_prefix, (unsigned long long)cb->no);
        jw_key(w, "callback_id");
        jw_string(w, id);
    }
}

/* Claims and completes of one callback reach kicd in stream order, even
 * when they come from different agents' connections. */
static void emit_callback_op(Sim *s, SimMethod m, int agent, StrBuf *b, Callback *cb)
{
    uint64_t seq = emit(s, m, agent, b, cb->from_ivr ? cb->ref_seq : 0,
                        cb->from_ivr ? 0 : cb->ref_seq, 0);
    if (seq) {
        SimAction *a = &s->out[(s->out_head + s->out_len - 1) % s->out_cap];
        a->follows = cb->last_op;
        cb->last_op = seq;
    }
}

static void start_attempt(Sim *s, int i, Callback *cb)
{
    SimAgent *a = &s->agents[i];
    a->act = AG_CALLBACK;
    a->cb = cb;
    cb->busy = true;
    cb->attempts++;
    s->stats.callback_attempts++;
    /* Claimed at each attempt: after a no_answer another agent may take it. */
    if (wanted(s, SM_CB_CLAIM) && cb->ref_seq) {
        StrBuf b = STRBUF_INIT;
        JsonW w;
        begin_callback_params(s, &w, &b, cb);
        jw_end_object(&w);
        emit_callback_op(s, SM_CB_CLAIM, i, &b, cb);
    }
    cb->reached = rng_chance(&s->rng, s->m->callback_reach_p);
    double d = cb->reached ? clamp(rng_lognormal(&s->rng, s->m->callback_talk_median_s, 0.6), 30, 1800)
                           : rng_uniform(&s->rng, 0.7, 1.3) * s->m->callback_no_answer_s;
    schedule(s, s->now + secs(d), DE_CB_ATTEMPT_END, cb, cb->gen, i);
}

static void go_offline(Sim *s, int i)
{
    SimAgent *a = &s->agents[i];
    emit_state(s, i, "offline", "einde dienst");
    a->act = AG_OFF;
    a->on_duty = a->leaving = false;
    a->break_pending = 0;
    a->last_end = s->now;
}

static void start_break(Sim *s, int i)
{
    SimAgent *a = &s->agents[i];
    int k = a->break_pending - 1;
    a->break_pending = 0;
    a->act = AG_BREAK;
    emit_state(s, i, "break", s->m->break_min[k] >= 30 ? "lunch" : "pauze");
    s->stats.breaks++;
    schedule(s, s->now + secs(s->m->break_min[k] * 60), DE_BREAK_END, NULL, (uint64_t)a->shift_no, i);
}

/* The agent has nothing in hand: the next thing, or idle. */
static void agent_free(Sim *s, int i)
{
    SimAgent *a = &s->agents[i];
    a->call = NULL;
    a->cb = NULL;
    if (a->leaving) {
        go_offline(s, i);
        return;
    }
    if (a->break_pending) {
        start_break(s, i);
        return;
    }
    if (s->waiting_head) {
        assign(s, i, s->waiting_head);
        return;
    }
    Callback *cb = ready_callback(s);
    if (cb) {
        start_attempt(s, i, cb);
        return;
    }
    a->act = AG_IDLE;
    a->idle_since = s->now;
}

/* ---- staffing ---- */

static int shifts_last_week(const SimAgent *a, KicTime now)
{
    int n = 0;
    for (int k = 0; k < a->nrecent && k < RECENT_SHIFTS; k++)
        if (now - a->recent[k] < 7 * DAY)
            n++;
    return n;
}

static void start_shift(Sim *s, int i)
{
    SimAgent *a = &s->agents[i];
    a->on_duty = true;
    a->leaving = false;
    a->shift_no++;
    a->shift_start = s->now;
    a->recent[a->nrecent++ % RECENT_SHIFTS] = s->now;
    a->break_pending = 0;
    s->stats.shifts++;
    emit_state(s, i, "available", NULL);
    for (int k = 0; k < 3; k++)
        schedule(s, s->now + secs(s->m->break_after_h[k] * 3600), DE_BREAK_DUE, NULL,
                 (uint64_t)a->shift_no, i * 4 + k);
    agent_free(s, i);
}

static void end_shift(Sim *s, int i)
{
    SimAgent *a = &s->agents[i];
    a->leaving = true;
    if (a->act == AG_IDLE)
        go_offline(s, i);
}

static int staff_needed(Sim *s)
{
    const SimModel *m = s->m;
    struct tm tm;
    local_tm(s->now + 15 * MINUTE, &tm);
    double per_hour = model_day_calls(m, s->cfg.calls_per_year, tm.tm_wday) *
                      model_hour_share(m, tm.tm_wday, tm.tm_hour);
    int need = model_agents_needed(per_hour, s->aht_s, m->sl_target, m->sl_seconds);
    if (is_summer(s, s->now))
        need = (int)lround(need * m->summer_staffing);
    if (need < m->min_on_duty)
        need = m->min_on_duty;
    return need > s->nagents ? s->nagents : need;
}

/* Every half hour: shifts start and end to follow the expected load. */
static void staffing(Sim *s)
{
    const SimModel *m = s->m;
    int on = 0;
    for (int i = 0; i < s->nagents; i++) {
        SimAgent *a = &s->agents[i];
        if (a->on_duty && !a->leaving && s->now - a->shift_start >= secs(m->max_shift_h * 3600))
            end_shift(s, i);
        if (a->on_duty && !a->leaving)
            on++;
    }
    int need = staff_needed(s);
    while (on < need) {
        int best = -1, best_week = 0;
        for (int i = 0; i < s->nagents; i++) {
            SimAgent *a = &s->agents[i];
            if (a->on_duty || a->act != AG_OFF)
                continue;
            if (a->nrecent && s->now - a->last_end < secs(m->min_rest_h * 3600))
                continue;
            int week = shifts_last_week(a, s->now);
            if (week >= m->max_shifts_per_week)
                continue;
            if (best < 0 || week < best_week ||
                (week == best_week && a->last_end < s->agents[best].last_end)) {
                best = i;
                best_week = week;
            }
        }
        if (best < 0)
            break; /* nobody may work now: understaffed */
        start_shift(s, best);
        on++;
    }
    while (on > need) {
        int oldest = -1;
        for (int i = 0; i < s->nagents; i++) {
            SimAgent *a = &s->agents[i];
            if (!a->on_duty || a->leaving || s->now - a->shift_start < secs(m->min_shift_h * 3600))
                continue;
            if (oldest < 0 || a->shift_start < s->agents[oldest].shift_start)
                oldest = i;
        }
        if (oldest < 0)
            break;
        end_shift(s, oldest);
        on--;
    }
}

/* ---- arrivals ---- */

static void day_arrivals(Sim *s)
{
    const SimModel *m = s->m;
    KicTime day = time_local_day_start(s->now);
    KicTime next = time_add_local_days(day, 1);
    struct tm tm;
    local_tm(day + 12 * HOUR, &tm);
    double calls = model_day_calls(m, s->cfg.calls_per_year, tm.tm_wday);
    for (KicTime h = day; h < next; h += HOUR) {
        KicTime lo = h, hi = h + HOUR < next ? h + HOUR : next;
        if (hi <= s->now)
            continue;
        double frac = 1.0;
        if (lo < s->now) {
            frac = (double)(hi - s->now) / (double)(hi - lo);
            lo = s->now;
        }
        struct tm ht;
        local_tm(h, &ht);
        double hour_calls = calls * model_hour_share(m, tm.tm_wday, ht.tm_hour) * frac;
        for (int q = 0; q < m->nqueues; q++) {
            double lambda = hour_calls * m->queues[q].share *
                            model_queue_factor(m, q, tm.tm_mon + 1, s->cfg.summer_peak);
            uint64_t n = rng_poisson(&s->rng, lambda);
            for (uint64_t k = 0; k < n; k++)
                schedule(s, lo + (KicTime)rng_below(&s->rng, (uint64_t)(hi - lo)), DE_ARRIVAL,
                         NULL, 0, q);
        }
    }
    schedule(s, next, DE_DAY, NULL, 0, 0);
}

static double expected_wait_s(const Sim *s)
{
    int staffed = 0;
    for (int i = 0; i < s->nagents; i++) {
        const SimAgent *a = &s->agents[i];
        if (a->act == AG_IDLE)
            return 0;
        if (a->on_duty && a->act != AG_BREAK)
            staffed++;
    }
    return staffed ? (s->nwaiting + 1) * s->aht_s / staffed : 3600;
}

static void offer(Sim *s, Call *c, const char *transferred_from)
{
    const QueueModel *qm = &s->m->queues[c->queue];
    c->no = ++s->contact_no;
    c->state = CS_WAITING;
    c->offered_at = s->now;
    StrBuf b = STRBUF_INIT;
    JsonW w;
    begin_event(s, &w, &b, c, "off");
    jw_key(&w, "queue");
    jw_string(&w, qm->name);
    jw_key(&w, "caller");
    if (c->caller.withheld) {
        jw_string(&w, "anonymous");
    } else {
        char written[24];
        model_number_written(c->caller.number, rng_chance(&s->rng, s->m->national_format_p),
                             written);
        jw_string(&w, written);
    }
    jw_key(&w, "dialled");
    jw_string(&w, qm->dialled);
    jw_key(&w, "location");
    jw_string(&w, s->m->locations[c->caller.location]);
    jw_key(&w, "channel");
    jw_string(&w, "voice");
    if (transferred_from) {
        jw_key(&w, "transferred_from");
        jw_string(&w, transferred_from);
    }
    emit_event(s, SM_OFFERED, &w, &b, c);
    s->stats.contacts++;
    s->stats.queue[c->queue].offered++;
    if (c->caller.withheld)
        s->stats.withheld++;

    double patience = rng_chance(&s->rng, s->m->short_abandon_p)
                          ? rng_uniform(&s->rng, 1, 5)
                          : rng_lognormal(&s->rng, s->m->patience_median_s, s->m->patience_sigma);
    c->abandon_at = s->now + secs(patience);
    int idle = longest_idle(s);
    if (idle >= 0) {
        assign(s, idle, c);
        return;
    }
    waiting_append(s, c);
    schedule(s, c->abandon_at, DE_ABANDON, c, c->gen, 0);
}

static void on_arrival(Sim *s, int q)
{
    const SimModel *m = s->m;
    s->stats.calls++;
    s->stats.queue[q].calls++;
    Caller caller;
    bool repeat = repeat_take(s, q, &caller);
    if (!repeat)
        new_caller(s, q, &caller);
    bool summer = is_summer(s, s->now) && m->queues[q].summer_factor > 1.0;
    double offer_wait = summer ? m->summer_ivr_offer_wait_s : m->ivr_offer_wait_s;
    double accept = summer ? m->summer_ivr_accept_p : m->ivr_accept_p;
    if (!caller.withheld && expected_wait_s(s) > offer_wait && rng_chance(&s->rng, accept)) {
        /* "Press 1 to be called back": a request, not a queue contact. */
        Callback *cb = s->free_cbs;
        if (cb) {
            s->free_cbs = cb->next;
            uint64_t gen = cb->gen;
            memset(cb, 0, sizeof(*cb));
            cb->gen = gen;
        } else if (!(cb = calloc(1, sizeof(*cb)))) {
            s->oom = true;
            return;
        }
        cb->no = ++s->callback_no;
        cb->from_ivr = true;
        cb->caller = caller;
        cb->queue = q;
        cb->due_by = s->now + secs(m->callback_due_s);
        cb->next_try = s->now;
        char id[300], ev[340];
        snprintf(id, sizeof(id), "%s-cb%llu", s->cfg.id_prefix, (unsigned long long)cb->no);
        snprintf(ev, sizeof(ev), "%s-req", id);
        StrBuf b = STRBUF_INIT;
        JsonW w;
        jw_init(&w, &b);
        jw_begin_object(&w);
        jw_key(&w, "event_id");
        jw_string(&w, ev);
        jw_key(&w, "callback_id");
        jw_string(&w, id);
        put_at(s, &w, "at", s->now);
        jw_key(&w, "caller");
        jw_string(&w, caller.number);
        jw_key(&w, "queue");
        jw_string(&w, m->queues[q].name);
        put_at(s, &w, "due_by", cb->due_by);
        jw_end_object(&w);
        if (wanted(s, SM_CB_REQUESTED))
            cb->ref_seq = emit(s, SM_CB_REQUESTED, SIM_BRIDGE, &b, 0, 0, 0);
        else
            strbuf_free(&b);
        s->stats.ivr_callbacks++;
        cb->prev = s->cb_tail;
        cb->next = NULL;
        if (s->cb_tail)
            s->cb_tail->next = cb;
        else
            s->cb_head = cb;
        s->cb_tail = cb;
        schedule(s, s->now, DE_CB_READY, cb, cb->gen, 0);
        schedule(s, cb->due_by, DE_CB_DUE, cb, cb->gen, 0);
        return;
    }
    Call *c = call_new(s);
    if (!c)
        return;
    c->queue = q;
    c->caller = caller;
    if (repeat)
        s->stats.repeats++;
    offer(s, c, NULL);
}

/* ---- a contact's life ---- */

static void end_parent(Sim *s, Call *c)
{
    Call *p = c->parent;
    if (!p)
        return;
    c->parent = NULL;
    /* the phone call is over, so the first contact ends too */
    StrBuf b = STRBUF_INIT;
    JsonW w;
    begin_event(s, &w, &b, p, "end");
    emit_event(s, SM_ENDED, &w, &b, p);
    p->over = true;
    call_settle(s, p);
}

static void on_abandon(Sim *s, Call *c)
{
    if ((c->state != CS_WAITING && c->state != CS_RINGING) || c->abandon_at != s->now)
        return; /* answered meanwhile */
    if (c->in_queue)
        waiting_remove(s, c);
    StrBuf b = STRBUF_INIT;
    JsonW w;
    begin_event(s, &w, &b, c, "abn");
    emit_event(s, SM_ABANDONED, &w, &b, c);
    s->stats.abandoned++;
    s->stats.queue[c->queue].abandoned++;
    if (s->now - c->offered_at < 5 * SEC)
        s->stats.short_abandoned++;
    c->over = true;
    maybe_repeat(s, c, s->m->repeat_abandoned_p, true);
    int agent = c->state == CS_RINGING ? c->agent : -1;
    end_parent(s, c);
    call_settle(s, c);
    if (agent >= 0)
        agent_free(s, agent);
}

static void on_answer(Sim *s, Call *c)
{
    const QueueModel *qm = &s->m->queues[c->queue];
    SimAgent *a = &s->agents[c->agent];
    c->state = CS_TALKING;
    c->answered = true;
    c->answered_at = s->now;
    a->act = AG_ON_CALL;
    StrBuf b = STRBUF_INIT;
    JsonW w;
    begin_event(s, &w, &b, c, "ans");
    jw_key(&w, "agent");
    jw_string(&w, a->id);
    emit_event(s, SM_ANSWERED, &w, &b, c);
    s->stats.answered++;
    s->stats.queue[c->queue].answered++;
    s->stats.wait_s_answered += time_diff_s(c->offered_at, s->now);

    double talk = clamp(rng_lognormal(&s->rng, qm->talk_median_s, qm->talk_sigma), 20, 3600);
    c->nholds = rng_chance(&s->rng, s->m->hold_p) ? 1 + rng_chance(&s->rng, s->m->second_hold_p) : 0;
    /* talk is cut at random points into nholds + 1 stretches */
    double cut1 = rng_uniform(&s->rng, 0.2, 0.7), cut2 = rng_uniform(&s->rng, cut1 + 0.05, 0.9);
    if (c->nholds == 0) {
        c->talk_s[0] = talk;
    } else if (c->nholds == 1) {
        c->talk_s[0] = talk * cut1;
        c->talk_s[1] = talk - c->talk_s[0];
    } else {
        c->talk_s[0] = talk * cut1;
        c->talk_s[1] = talk * (cut2 - cut1);
        c->talk_s[2] = talk - c->talk_s[0] - c->talk_s[1];
    }
    for (int k = 0; k < c->nholds; k++)
        c->hold_s[k] = clamp(rng_lognormal(&s->rng, s->m->hold_median_s, s->m->hold_sigma), 5, 600);
    schedule(s, s->now + secs(c->talk_s[0]), c->nholds ? DE_HOLD : DE_PART_END, c, c->gen, 0);
}

static void on_hold(Sim *s, Call *c)
{
    char tag[24];
    snprintf(tag, sizeof(tag), "hold-%d", c->holds_done + 1);
    StrBuf b = STRBUF_INIT;
    JsonW w;
    begin_event(s, &w, &b, c, tag);
    emit_event(s, SM_HELD, &w, &b, c);
    schedule(s, s->now + secs(c->hold_s[c->holds_done]), DE_RESUME, c, c->gen, 0);
}

static void on_resume(Sim *s, Call *c)
{
    char tag[24];
    snprintf(tag, sizeof(tag), "res-%d", ++c->holds_done);
    StrBuf b = STRBUF_INIT;
    JsonW w;
    begin_event(s, &w, &b, c, tag);
    emit_event(s, SM_RESUMED, &w, &b, c);
    schedule(s, s->now + secs(c->talk_s[c->holds_done]),
             c->holds_done < c->nholds ? DE_HOLD : DE_PART_END, c, c->gen, 0);
}

/* The agent transfers the caller: to another queue (the same phone call
 * goes on there: the new contact is returned, to offer once this part is
 * over), to a care team or outside. */
static Call *part_transfer(Sim *s, Call *c, const QueueModel *qm, const SimAgent *a)
{
    const SimModel *m = s->m;
    StrBuf b = STRBUF_INIT;
    JsonW w;
    Call *child = NULL;
    c->transferred = true;
    double u = rng_unit(&s->rng);
    bool to_queue = !c->parent && u < qm->to_queue_p;
    bool external = !to_queue && qm->external_target &&
                    rng_unit(&s->rng) < qm->external_p / (1 - qm->to_queue_p);
    char target[300];
    const char *kind, *mode = "blind";
    if (to_queue) {
        kind = "queue";
        snprintf(target, sizeof(target), "%s", m->queues[qm->to_queue].name);
        s->stats.queue[c->queue].to_queue++;
    } else if (external) {
        kind = "external";
        snprintf(target, sizeof(target), "%s", qm->external_target);
        s->stats.queue[c->queue].to_external++;
    } else {
        kind = "care_team";
        snprintf(target, sizeof(target), "%s-%s", qm->team_prefix,
                 m->locations[c->caller.location]);
        if (rng_chance(&s->rng, 0.3))
            mode = "attended";
        s->stats.queue[c->queue].to_care_team++;
    }
    begin_event(s, &w, &b, c, "xfr");
    jw_key(&w, "agent");
    jw_string(&w, a->id);
    jw_key(&w, "target");
    jw_string(&w, target);
    jw_key(&w, "target_kind");
    jw_string(&w, kind);
    jw_key(&w, "mode");
    jw_string(&w, mode);
    c->part_end_seq = emit_event(s, SM_TRANSFERRED, &w, &b, c);
    s->stats.transferred++;
    s->stats.queue[c->queue].transferred++;
    c->resolved = rng_chance(&s->rng, m->resolved_transferred_p);
    c->follow_up = to_queue ? 0 : 2;
    if (to_queue) {
        /* the same phone call goes on as a contact of the other queue */
        child = call_new(s);
        if (child) {
            child->queue = qm->to_queue;
            child->caller = c->caller;
            child->parent = c;
        }
    } else {
        schedule(s, s->now + secs(rng_lognormal(&s->rng, m->care_team_talk_median_s, 0.8)),
                 DE_CALL_END, c, c->gen, 0);
    }
    return child;
}

/* The part ends the call: by the caller or the agent; perhaps with a
 * callback promised. */
static void part_end(Sim *s, Call *c, const QueueModel *qm)
{
    const SimModel *m = s->m;
    StrBuf b = STRBUF_INIT;
    JsonW w;
    begin_event(s, &w, &b, c, "end");
    jw_key(&w, "by");
    jw_string(&w, rng_chance(&s->rng, m->ended_by_caller_p) ? "caller" : "agent");
    c->part_end_seq = emit_event(s, SM_ENDED, &w, &b, c);
    c->over = true;
    double cb_p = qm->callback_p;
    if (is_summer(s, s->now) && qm->summer_factor > 1.0)
        cb_p *= m->summer_callback_p_factor;
    c->callback_promised = !c->caller.withheld && rng_chance(&s->rng, cb_p);
    if (c->callback_promised) {
        c->resolved = rng_chance(&s->rng, m->resolved_callback_p);
        c->follow_up = 1;
    } else {
        c->resolved = rng_chance(&s->rng, m->resolved_p);
        c->follow_up = !c->resolved && rng_chance(&s->rng, m->follow_up_care_team_p) ? 2 : 0;
    }
}

static void on_part_end(Sim *s, Call *c)
{
    const SimModel *m = s->m;
    const QueueModel *qm = &m->queues[c->queue];
    SimAgent *a = &s->agents[c->agent];
    c->state = CS_AFTER;
    a->act = AG_ACW;
    Call *child = NULL;
    if (rng_chance(&s->rng, qm->transfer_p))
        child = part_transfer(s, c, qm, a);
    else
        part_end(s, c, qm);
    double acw = clamp(rng_lognormal(&s->rng, m->acw_median_s, m->acw_sigma), 5, 900);
    if (c->callback_promised)
        schedule(s, s->now + secs(acw * 0.5), DE_CB_CREATE, c, c->gen, 0);
    schedule(s, s->now + secs(acw), DE_WRAPUP, c, c->gen, 0);
    if (!c->callback_promised)
        maybe_repeat(s, c, c->resolved ? m->repeat_resolved_p : m->repeat_unresolved_p, false);
    if (c->over)
        end_parent(s, c);
    if (child) {
        char from[300];
        call_id(s, c->no, from, sizeof(from));
        offer(s, child, from);
    }
}

static void on_call_end(Sim *s, Call *c)
{
    StrBuf b = STRBUF_INIT;
    JsonW w;
    begin_event(s, &w, &b, c, "end");
    emit_event(s, SM_ENDED, &w, &b, c);
    c->over = true;
    end_parent(s, c);
    call_settle(s, c);
}

static void on_cb_create(Sim *s, Call *c)
{
    const SimModel *m = s->m;
    Callback *cb = s->free_cbs;
    if (cb) {
        s->free_cbs = cb->next;
        uint64_t gen = cb->gen;
        memset(cb, 0, sizeof(*cb));
        cb->gen = gen;
    } else if (!(cb = calloc(1, sizeof(*cb)))) {
        s->oom = true;
        return;
    }
    cb->no = ++s->callback_no;
    cb->caller = c->caller;
    cb->queue = c->queue;
    cb->call_no = c->no;
    cb->due_by = s->now + secs(m->callback_due_s);
    /* the agent first finds out what the caller needs */
    cb->next_try = s->now + secs(rng_uniform(&s->rng, 1800, 4 * 3600));
    if (wanted(s, SM_CB_CREATE)) {
        char id[300];
        call_id(s, c->no, id, sizeof(id));
        StrBuf b = STRBUF_INIT;
        JsonW w;
        jw_init(&w, &b);
        jw_begin_object(&w);
        jw_key(&w, "caller");
        jw_string(&w, c->caller.number);
        jw_key(&w, "team");
        jw_string(&w, s->cfg.team);
        put_at(s, &w, "due_by", cb->due_by);
        jw_key(&w, "call_id");
        jw_string(&w, id);
        jw_end_object(&w);
        cb->ref_seq = emit(s, SM_CB_CREATE, c->agent, &b, c->part_end_seq, 0, c->no);
    }
    s->stats.agent_callbacks++;
    cb->prev = s->cb_tail;
    cb->next = NULL;
    if (s->cb_tail)
        s->cb_tail->next = cb;
    else
        s->cb_head = cb;
    s->cb_tail = cb;
    schedule(s, cb->next_try, DE_CB_READY, cb, cb->gen, 0);
    schedule(s, cb->due_by, DE_CB_DUE, cb, cb->gen, 0);
}

static void on_wrapup(Sim *s, Call *c)
{
    const QueueModel *qm = &s->m->queues[c->queue];
    static const char *const follow_ups[] = {"none", "callback", "care_team"};
    char id[300];
    call_id(s, c->no, id, sizeof(id));
    StrBuf b = STRBUF_INIT;
    JsonW w;
    jw_init(&w, &b);
    jw_begin_object(&w);
    jw_key(&w, "call_id");
    jw_string(&w, id);
    jw_key(&w, "category");
    jw_string(&w, sim_category_names[rng_weighted(&s->rng, qm->category_w, SIM_CATEGORY_COUNT)]);
    jw_key(&w, "resolved");
    jw_bool(&w, c->resolved);
    jw_key(&w, "follow_up");
    jw_string(&w, follow_ups[c->follow_up]);
    jw_key(&w, "caller_type");
    jw_string(&w, sim_caller_type_names[c->caller.type]);
    put_at(s, &w, "at", s->now);
    jw_end_object(&w);
    emit(s, SM_WRAPUP, c->agent, &b, c->part_end_seq, 0, c->no);
    s->stats.wrapups++;
    if (c->resolved)
        s->stats.resolved++;
    c->wrapped = true;
    int agent = c->agent;
    call_settle(s, c);
    agent_free(s, agent);
}

/* ---- callbacks ---- */

static void on_cb_ready(Sim *s, Callback *cb)
{
    if (cb->busy)
        return;
    int idle = longest_idle(s);
    if (idle >= 0)
        start_attempt(s, idle, cb);
}

static void on_cb_attempt_end(Sim *s, Callback *cb, int agent)
{
    const char *outcome = cb->reached ? "reached"
                          : cb->attempts >= s->m->callback_max_attempts ? "cancelled"
                                                                          : "no_answer";
    if (wanted(s, SM_CB_COMPLETE) && cb->ref_seq) {
        StrBuf b = STRBUF_INIT;
        JsonW w;
        begin_callback_params(s, &w, &b, cb);
        jw_key(&w, "outcome");
        jw_string(&w, outcome);
        if (strcmp(outcome, "cancelled") == 0) {
            jw_key(&w, "note");
            jw_string(&w, "drie keer geen gehoor");
        }
        jw_end_object(&w);
        emit_callback_op(s, SM_CB_COMPLETE, agent, &b, cb);
    }
    cb->busy = false;
    if (cb->reached)
        s->stats.callbacks_reached++;
    if (strcmp(outcome, "no_answer") == 0) {
        cb->next_try = s->now + secs(s->m->callback_retry_s);
        schedule(s, cb->next_try, DE_CB_READY, cb, cb->gen, 0);
    } else {
        callback_close(s, cb);
    }
    /* a few notes in the file before the next call */
    schedule(s, s->now + secs(rng_uniform(&s->rng, 15, 45)), DE_AGENT_FREE, NULL,
             (uint64_t)s->agents[agent].shift_no, agent);
}

static void on_cb_due(Sim *s, Callback *cb)
{
    /* still not called back: some call again themselves */
    if (rng_chance(&s->rng, s->m->repeat_overdue_callback_p))
        repeat_push(s, cb->queue, s->now + secs(rng_uniform(&s->rng, 0, 2 * 3600)),
                    s->now - secs(s->m->callback_due_s), &cb->caller);
}

/* ---- the loop ---- */

static void handle(Sim *s, const DesEvent *ev)
{
    Call *c = ev->obj;
    Callback *cb = ev->obj;
    switch (ev->type) {
    case DE_DAY: day_arrivals(s); break;
    case DE_TICK:
        staffing(s);
        schedule(s, s->now + 30 * MINUTE, DE_TICK, NULL, 0, 0);
        break;
    case DE_ARRIVAL: on_arrival(s, ev->arg); break;
    case DE_ABANDON: on_abandon(s, c); break;
    case DE_ANSWER: on_answer(s, c); break;
    case DE_HOLD: on_hold(s, c); break;
    case DE_RESUME: on_resume(s, c); break;
    case DE_PART_END: on_part_end(s, c); break;
    case DE_CALL_END: on_call_end(s, c); break;
    case DE_CB_CREATE: on_cb_create(s, c); break;
    case DE_WRAPUP: on_wrapup(s, c); break;
    case DE_BREAK_DUE: {
        SimAgent *a = &s->agents[ev->arg / 4];
        if (!a->on_duty || a->leaving || (uint64_t)a->shift_no != ev->gen)
            break;
        a->break_pending = ev->arg % 4 + 1;
        if (a->act == AG_IDLE)
            start_break(s, ev->arg / 4);
        break;
    }
    case DE_BREAK_END: {
        SimAgent *a = &s->agents[ev->arg];
        if (a->act != AG_BREAK || (uint64_t)a->shift_no != ev->gen)
            break;
        if (!a->leaving)
            emit_state(s, ev->arg, "available", NULL);
        agent_free(s, ev->arg);
        break;
    }
    case DE_AGENT_FREE: {
        SimAgent *a = &s->agents[ev->arg];
        if (a->act == AG_CALLBACK && (uint64_t)a->shift_no == ev->gen)
            agent_free(s, ev->arg);
        break;
    }
    case DE_CB_READY: on_cb_ready(s, cb); break;
    case DE_CB_ATTEMPT_END: on_cb_attempt_end(s, cb, ev->arg); break;
    case DE_CB_DUE: on_cb_due(s, cb); break;
    }
}

static bool valid_gen(const DesEvent *ev)
{
    switch (ev->type) {
    case DE_ABANDON:
    case DE_ANSWER:
    case DE_HOLD:
    case DE_RESUME:
    case DE_PART_END:
    case DE_CALL_END:
    case DE_CB_CREATE:
    case DE_WRAPUP: return ((Call *)ev->obj)->gen == ev->gen;
    case DE_CB_READY:
    case DE_CB_ATTEMPT_END:
    case DE_CB_DUE: return ((Callback *)ev->obj)->gen == ev->gen;
    default: return true;
    }
}

/* Runs one model event; false at the horizon. */
static bool step(Sim *s)
{
    if (s->finished || s->nheap == 0 || s->oom)
        return false;
    if (s->cfg.end != KIC_TIME_NONE && s->heap[0].t >= s->cfg.end) {
        s->finished = true;
        return false;
    }
    DesEvent ev = heap_pop(s);
    s->now = ev.t;
    if (valid_gen(&ev))
        handle(s, &ev);
    return true;
}

bool sim_next(Sim *s, SimAction *out)
{
    while (s->out_len == 0) {
        if (s->stopped || !step(s))
            return false;
    }
    *out = s->out[s->out_head];
    s->out_head = (s->out_head + 1) % s->out_cap;
    s->out_len--;
    return true;
}

void sim_stop(Sim *s, KicTime t)
{
    if (s->stopped)
        return;
    /* what was emitted after t and not handed out yet never happens */
    size_t keep = 0;
    for (size_t i = 0; i < s->out_len; i++) {
        SimAction *a = &s->out[(s->out_head + i) % s->out_cap];
        if (a->t <= t) {
            s->out[(s->out_head + keep++) % s->out_cap] = *a;
        } else {
            s->stats.actions--;
            s->stats.by_method[a->method]--;
            sim_action_clear(a);
        }
    }
    s->out_len = keep;
    if (t > s->now)
        s->now = t;
    for (int i = 0; i < s->nagents; i++)
        if (s->agents[i].on_duty)
            emit_state(s, i, "offline", "einde simulatie");
    s->stopped = true;
}

void sim_action_clear(SimAction *a)
{
    free(a->params);
    a->params = NULL;
}

const SimStats *sim_stats(const Sim *s)
{
    return &s->stats;
}

KicTime sim_time(const Sim *s)
{
    return s->now;
}

int sim_agent_count(const Sim *s)
{
    return s->nagents;
}

const char *sim_agent_id(const Sim *s, int i)
{
    return s->agents[i].id;
}

Sim *sim_new(const SimConfig *cfg, char *err, size_t errlen)
{
    const SimModel *m = cfg->model ? cfg->model : &sim_model_default;
    if (cfg->calls_per_year <= 0 || cfg->speed <= 0 || !cfg->id_prefix || !*cfg->id_prefix ||
        !cfg->team || !*cfg->team || cfg->agents < 0 ||
        (cfg->agent_ids && cfg->agents == 0) ||
        (cfg->end != KIC_TIME_NONE && cfg->end < cfg->start)) {
        snprintf(err, errlen, "bad simulation config");
        return NULL;
    }
    Sim *s = calloc(1, sizeof(*s));
    if (!s) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    s->cfg = *cfg;
    s->m = m;
    s->now = cfg->start;
    s->aht_s = model_aht_s(m);
    rng_seed(&s->rng, cfg->seed);
    s->salt = rng_u64(&s->rng);
    s->nagents = cfg->agents ? cfg->agents : model_default_pool(m, cfg->calls_per_year);
    s->agents = calloc((size_t)s->nagents, sizeof(*s->agents));
    if (!s->agents)
        goto fail;
    for (int i = 0; i < s->nagents; i++) {
        char gen[32];
        snprintf(gen, sizeof(gen), "agent-%02d", i + 1);
        s->agents[i].id = strdup(cfg->agent_ids ? cfg->agent_ids[i] : gen);
        if (!s->agents[i].id)
            goto fail;
        s->agents[i].last_end = cfg->start - DAY;
    }
    schedule(s, cfg->start, DE_DAY, NULL, 0, 0);
    schedule(s, cfg->start, DE_TICK, NULL, 0, 0);
    if (s->oom)
        goto fail;
    return s;
fail:
    sim_free(s);
    snprintf(err, errlen, "out of memory");
    return NULL;
}

void sim_free(Sim *s)
{
    if (!s)
        return;
    while (s->out_len) {
        sim_action_clear(&s->out[s->out_head]);
        s->out_head = (s->out_head + 1) % s->out_cap;
        s->out_len--;
    }
    free(s->out);
    free(s->heap);
    for (Call *c = s->live, *n; c; c = n) {
        n = c->live_next;
        free(c);
    }
    for (Call *c = s->free_calls, *n; c; c = n) {
        n = c->live_next;
        free(c);
    }
    for (Callback *cb = s->cb_head, *n; cb; cb = n) {
        n = cb->next;
        free(cb);
    }
    for (Callback *cb = s->free_cbs, *n; cb; cb = n) {
        n = cb->next;
        free(cb);
    }
    for (int q = 0; q < SIM_MAX_QUEUES; q++)
        free(s->repeats[q].v);
    for (int i = 0; s->agents && i < s->nagents; i++)
        free(s->agents[i].id);
    free(s->agents);
    free(s);
}
