/* Call derivation (lib/call.c). For realistic calls every field of the
 * CallSummary is checked against values worked out by hand from the
 * rules (DESIGN.md "The domain, precisely" and call.h), and then every
 * permutation of the call's events (Heap's algorithm, up to 7! = 5040)
 * must derive exactly the same summary, field by field, strings compared
 * as strings. Duplicated input events must not change the summary. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "call.h"
#include "unit.h"

#define SEC(x) ((int64_t)(x) * KIC_USEC)
#define MSEC(x) ((int64_t)(x) * 1000LL)
#define NONE KIC_TIME_NONE

#define KEY_A "5d41402abc4b2a76b9719d911017c5925d41402abc4b2a76b9719d911017c592"
#define KEY_B "7d793037a0760186574b0282f2f435e77d793037a0760186574b0282f2f435e7"

static KicTime T0; /* 2026-11-22T09:00:00+01:00 */

/* ---- building events and wrap-ups ---- */

typedef struct EvSpec {
    EventType type;
    const char *id;
    int64_t at; /* microseconds from T0 */
    const char *agent;
    const char *target;
    TargetKind kind;
    TransferMode mode;
    EndedBy by;
    const char *queue;
    const char *key;
    bool withheld;
    Direction direction;
    Channel channel;
    const char *from; /* transferred_from */
    const char *location;
    const char *callback_id;
} EvSpec;

/* Positional type, id and time; the rest by name. */
#define EV(type_, id_, at_, ...) {.type = (type_), .id = (id_), .at = (at_), __VA_ARGS__}

typedef struct WuSpec {
    const char *agent;
    int64_t at;
    const char *category;
    bool resolved;
    int follow_up;
    int caller_type;
} WuSpec;

static Event *pool_ev[1024];
static size_t npool_ev;
static Wrapup *pool_wu[64];
static size_t npool_wu;

static void setup(void)
{
    setenv("TZ", "Europe/Amsterdam", 1);
    tzset();
    ck_assert(time_parse_rfc3339("2026-11-22T09:00:00+01:00", &T0));
    npool_ev = npool_wu = 0;
}

static void teardown(void)
{
    for (size_t i = 0; i < npool_ev; i++)
        event_destroy(pool_ev[i]);
    for (size_t i = 0; i < npool_wu; i++)
        wrapup_free(pool_wu[i]);
    npool_ev = npool_wu = 0;
}

static Event *make_event(const EvSpec *s)
{
    Event f;
    memset(&f, 0, sizeof(f));
    f.type = s->type;
    f.at = T0 + s->at;
    f.caller_withheld = s->withheld;
    f.channel = s->channel;
    f.direction = s->direction;
    f.target_kind = s->kind;
    f.mode = s->mode;
    f.by = s->by;
    f.due_by = NONE;
    EventText t = {s->id, "c1", s->queue, s->location, s->from, s->callback_id,
                   s->agent, s->target, s->key};
    Event *e = event_create(&f, &t);
    ck_assert_ptr_nonnull(e);
    ck_assert_uint_lt(npool_ev, KIC_ARRAY_LEN(pool_ev));
    pool_ev[npool_ev++] = e;
    return e;
}

/* A separate allocation with the same content (a re-sent event). */
static Event *clone_event(const Event *e)
{
    EventText t = {e->event_id, e->call_id, e->queue, e->location, e->transferred_from,
                   e->callback_id, e->agent, e->target, e->caller_key};
    Event *c = event_create(e, &t);
    ck_assert_ptr_nonnull(c);
    pool_ev[npool_ev++] = c;
    return c;
}

static Wrapup *make_wrapup(const WuSpec *s)
{
    Wrapup *w = wrapup_new(s->agent, s->category, T0 + s->at, s->resolved, s->follow_up,
                           s->caller_type);
    ck_assert_ptr_nonnull(w);
    pool_wu[npool_wu++] = w;
    return w;
}

typedef struct Fixture {
    const Event *ev[16];
    size_t n;
    const Wrapup *wu[4];
    size_t nw;
    bool repeat;
} Fixture;

static void build(Fixture *f, const EvSpec *ev, size_t n, const WuSpec *wu, size_t nw)
{
    memset(f, 0, sizeof(*f));
    ck_assert_uint_le(n, KIC_ARRAY_LEN(f->ev));
    for (size_t i = 0; i < n; i++)
        f->ev[f->n++] = make_event(&ev[i]);
    for (size_t i = 0; i < nw; i++)
        f->wu[f->nw++] = make_wrapup(&wu[i]);
}

/* call_derive sorts its input in place: derive from a copy. */
static void derive_list(const Event *const *events, size_t n, const Fixture *f, CallSummary *out)
{
    const Event *work[64];
    ck_assert_uint_le(n, KIC_ARRAY_LEN(work));
    memcpy(work, events, n * sizeof(*work));
    CallInput in = {work, n, f->wu, f->nw, f->repeat};
    call_derive(&in, out);
}

/* ---- comparing summaries ---- */

enum { CMP_NEVENTS = 1, CMP_ABANDONED_AT_ALWAYS = 2 };

static bool str_same(const char *a, const char *b)
{
    return a == b || (a && b && strcmp(a, b) == 0);
}

#define PS(s) ((s) ? (s) : "(null)")
#define CMP_I(f)                                                                                \
    do {                                                                                        \
        if (a->f != b->f) {                                                                     \
            snprintf(why, wsize, "%s: got %lld, want %lld", #f, (long long)a->f,               \
                     (long long)b->f);                                                          \
            return false;                                                                       \
        }                                                                                       \
    } while (0)
#define CMP_S(f)                                                                                \
    do {                                                                                        \
        if (!str_same(a->f, b->f)) {                                                            \
            snprintf(why, wsize, "%s: got %s, want %s", #f, PS(a->f), PS(b->f));               \
            return false;                                                                       \
        }                                                                                       \
    } while (0)

static bool wrapup_same(const Wrapup *a, const Wrapup *b)
{
    if (!a || !b)
        return a == b;
    return str_same(a->agent, b->agent) && a->at == b->at && str_same(a->category, b->category) &&
           a->resolved == b->resolved && a->follow_up == b->follow_up &&
           a->caller_type == b->caller_type;
}

static bool leg_same(const CallLeg *a, const CallLeg *b, char *why, size_t wsize)
{
    CMP_S(agent);
    CMP_I(answered_at);
    CMP_I(end_at);
    CMP_I(by_transfer);
    CMP_I(hold_us);
    CMP_I(held_since);
    if (!wrapup_same(a->wrapup, b->wrapup)) {
        snprintf(why, wsize, "wrapup differs");
        return false;
    }
    return true;
}

/* a: derived, b: wanted. */
static bool summary_same(const CallSummary *a, const CallSummary *b, int flags, char *why,
                         size_t wsize)
{
    CMP_S(call_id);
    CMP_I(offered);
    CMP_I(offered_at);
    CMP_S(queue);
    CMP_S(location);
    CMP_S(transferred_from);
    CMP_S(callback_id);
    CMP_S(caller_key);
    CMP_I(caller_withheld);
    CMP_I(channel);
    CMP_I(direction);
    CMP_I(answered);
    CMP_I(answered_at);
    CMP_S(agent);
    CMP_I(abandoned);
    /* abandoned_at has a meaning only when abandoned (call.h says nothing
     * about it otherwise); permutation checks compare it always. */
    if ((flags & CMP_ABANDONED_AT_ALWAYS) || b->abandoned)
        CMP_I(abandoned_at);
    CMP_I(ended);
    CMP_I(ended_at);
    CMP_I(ended_by);
    CMP_I(transferred);
    CMP_I(transferred_at);
    CMP_S(transfer_target);
    CMP_I(transfer_kind);
    CMP_I(transfer_mode);
    CMP_I(wait_us);
    CMP_I(part_ended);
    CMP_I(part_end_at);
    CMP_I(talk_us);
    CMP_I(hold_us);
    CMP_I(wrapped);
    CMP_I(wrapped_at);
    CMP_I(acw_us);
    CMP_S(category);
    CMP_I(resolved);
    CMP_I(caller_type);
    CMP_I(follow_up);
    CMP_I(followed_by_repeat);
    CMP_I(complete);
    if (flags & CMP_NEVENTS)
        CMP_I(nevents);
    CMP_I(nlegs);
    for (int i = 0; i < a->nlegs && i < CALL_MAX_LEGS; i++) {
        char sub[200];
        if (!leg_same(&a->legs[i], &b->legs[i], sub, sizeof(sub))) {
            snprintf(why, wsize, "legs[%d].%s", i, sub);
            return false;
        }
    }
    return true;
}

static void assert_summary(const CallSummary *got, const CallSummary *want, int flags,
                           const char *what)
{
    char why[300] = "";
    ck_assert_msg(summary_same(got, want, flags, why, sizeof(why)), "%s: %s", what, why);
}

/* The summary of a call with no events at all, as call_derive leaves
 * every field it does not set. */
static void expect_base(CallSummary *e, int nevents)
{
    memset(e, 0, sizeof(*e));
    e->call_id = "c1";
    e->ended_by = BY_UNKNOWN;
    e->caller_type = -1;
    e->follow_up = -1;
    e->nevents = nevents;
}

/* The shapes most scenarios share: offered at T0 in `queue` by caller
 * KEY_A; answered `at` after the offer (so waited `at`); ended; the
 * answering agent's part over. */
static void expect_offered(CallSummary *e, int nevents, const char *queue)
{
    expect_base(e, nevents);
    e->offered = true;
    e->offered_at = T0;
    e->queue = queue;
    e->caller_key = KEY_A;
}

static void expect_answered(CallSummary *e, const char *agent, int64_t at)
{
    e->answered = true;
    e->answered_at = T0 + at;
    e->agent = agent;
    e->wait_us = at;
}

static void expect_ended(CallSummary *e, int64_t at, EndedBy by)
{
    e->ended = true;
    e->ended_at = T0 + at;
    e->ended_by = by;
}

static void expect_transferred(CallSummary *e, int64_t at, const char *target, TargetKind kind,
                               TransferMode mode)
{
    e->transferred = true;
    e->transferred_at = T0 + at;
    e->transfer_target = target;
    e->transfer_kind = kind;
    e->transfer_mode = mode;
}

static void expect_part_end(CallSummary *e, int64_t at)
{
    e->part_ended = true;
    e->part_end_at = T0 + at;
}

static CallLeg leg(const char *agent, int64_t answered, int64_t end, bool by_transfer,
                   int64_t hold, int64_t held_since, const Wrapup *w)
{
    CallLeg l = {agent, T0 + answered, end == NONE ? NONE : T0 + end, by_transfer, hold,
                 held_since == NONE ? NONE : T0 + held_since, w};
    return l;
}

static void expect_wrapup(CallSummary *e, const Wrapup *w, int64_t acw)
{
    e->wrapped = true;
    e->wrapped_at = w->at;
    e->acw_us = acw;
    e->category = w->category;
    e->resolved = w->resolved;
    e->caller_type = w->caller_type;
    e->follow_up = w->follow_up;
}

/* ---- permutations (Heap's algorithm) ---- */

typedef struct PermCheck {
    const Fixture *f;
    const CallSummary *want;
    const Event *order[16];
    size_t count;
    unsigned char *seen; /* bitmap of visited orders, base-8 codes */
} PermCheck;

static size_t index_in(const Fixture *f, const Event *e)
{
    for (size_t i = 0; i < f->n; i++)
        if (f->ev[i] == e)
            return i;
    ck_abort_msg("event not found");
    return 0;
}

static void check_order(PermCheck *pc)
{
    const Fixture *f = pc->f;
    size_t code = 0;
    for (size_t i = 0; i < f->n; i++)
        code = code * 8 + index_in(f, pc->order[i]);
    ck_assert_msg(!(pc->seen[code / 8] & (1u << (code % 8))), "permutation visited twice");
    pc->seen[code / 8] |= (unsigned char)(1u << (code % 8));
    CallSummary got;
    derive_list(pc->order, f->n, f, &got);
    char why[300] = "";
    if (!summary_same(&got, pc->want, CMP_NEVENTS | CMP_ABANDONED_AT_ALWAYS, why, sizeof(why))) {
        char order[64] = "";
        for (size_t i = 0; i < f->n; i++)
            snprintf(order + strlen(order), sizeof(order) - strlen(order), "%s ",
                     pc->order[i]->event_id);
        ck_abort_msg("permutation %zu (%s) differs: %s", pc->count, order, why);
    }
    pc->count++;
}

static size_t factorial(size_t n)
{
    return n <= 1 ? 1 : n * factorial(n - 1);
}

static void check_all_permutations(const Fixture *f, const CallSummary *want)
{
    ck_assert_uint_le(f->n, 7);
    PermCheck pc = {f, want, {0}, 0, NULL};
    size_t codes = 1;
    for (size_t i = 0; i < f->n; i++)
        codes *= 8;
    pc.seen = calloc(codes / 8 + 1, 1);
    ck_assert_ptr_nonnull(pc.seen);
    memcpy(pc.order, f->ev, f->n * sizeof(Event *));
    size_t c[16] = {0};
    check_order(&pc);
    for (size_t i = 1; i < f->n;) {
        if (c[i] < i) {
            size_t j = i % 2 == 0 ? 0 : c[i];
            const Event *tmp = pc.order[j];
            pc.order[j] = pc.order[i];
            pc.order[i] = tmp;
            check_order(&pc);
            c[i]++;
            i = 1;
        } else {
            c[i] = 0;
            i++;
        }
    }
    free(pc.seen);
    ck_assert_uint_eq(pc.count, factorial(f->n));
}

/* Every event twice (the same pointer) and a third time (a separate copy
 * with the same event_id), shuffled: same summary but for nevents. */
static void check_duplicates(const Fixture *f, const CallSummary *want)
{
    const Event *list[48];
    size_t n = 0;
    for (size_t i = 0; i < f->n; i++) {
        list[n++] = f->ev[i];
        list[n++] = f->ev[i];
        list[n++] = clone_event(f->ev[i]);
    }
    unsigned seed = 12345;
    for (int round = 0; round < 300; round++) {
        for (size_t i = n - 1; i > 0; i--) {
            size_t j = (size_t)rand_r(&seed) % (i + 1);
            const Event *t = list[i];
            list[i] = list[j];
            list[j] = t;
        }
        CallSummary got;
        derive_list(list, n, f, &got);
        ck_assert_int_eq(got.nevents, (int)n); /* nevents counts the input */
        char why[300] = "";
        ck_assert_msg(summary_same(&got, want, CMP_ABANDONED_AT_ALWAYS, why, sizeof(why)),
                      "with duplicates (round %d): %s", round, why);
    }
}

/* Derives in the given order, checks the hand-made expectation, then
 * every permutation and duplicates against the same. */
static void check_scenario(const Fixture *f, const CallSummary *want, const char *name)
{
    CallSummary got;
    derive_list(f->ev, f->n, f, &got);
    assert_summary(&got, want, CMP_NEVENTS, name);
    /* the permutations must reproduce exactly what this order gave */
    check_all_permutations(f, &got);
    check_duplicates(f, &got);
}

#define BUILD(f, ev, wu) build(&(f), ev, KIC_ARRAY_LEN(ev), wu, sizeof(wu) / sizeof(WuSpec))
static const WuSpec no_wrapups[1];
#define BUILD0(f, ev) build(&(f), ev, KIC_ARRAY_LEN(ev), no_wrapups, 0)

/* ---- scenarios ---- */

START_TEST(answered_wrapped_up_after_the_end)
{
    static const EvSpec ev[] = {
        EV(EV_OFFERED, "e1", 0, .queue = "huishoudelijke-zorg", .key = KEY_A, .location = "dordrecht"),
        EV(EV_ANSWERED, "e2", MSEC(12500), .agent = "a.jansen"),
        EV(EV_ENDED, "e3", SEC(200), .by = BY_CALLER),
    };
    static const WuSpec wu[] = {{"a.jansen", SEC(230), "indicatie", true, FU_NONE, CT_CLIENT}};
    Fixture f;
    BUILD(f, ev, wu);
    CallSummary e;
    expect_base(&e, 3);
    e.offered = true;
    e.offered_at = T0;
    e.queue = "huishoudelijke-zorg";
    e.location = "dordrecht";
    e.caller_key = KEY_A;
    e.channel = CH_VOICE;
    e.direction = DIR_INBOUND;
    expect_answered(&e, "a.jansen", MSEC(12500));
    expect_ended(&e, SEC(200), BY_CALLER);
    expect_part_end(&e, SEC(200));
    e.talk_us = SEC(200) - MSEC(12500); /* 200 - 12.5 - 0 hold = 187.5 s */
    e.hold_us = 0;
    expect_wrapup(&e, f.wu[0], SEC(30)); /* 230 - 200 */
    e.complete = true;
    e.nlegs = 1;
    e.legs[0] = leg("a.jansen", MSEC(12500), SEC(200), false, 0, NONE, f.wu[0]);
    check_scenario(&f, &e, "answered");
}
END_TEST

START_TEST(abandoned)
{
    static const EvSpec ev[] = {
        EV(EV_OFFERED, "e1", 0, .queue = "q", .key = KEY_A),
        EV(EV_ABANDONED, "e2", SEC(30)),
        EV(EV_ENDED, "e3", SEC(30), .by = BY_CALLER),
    };
    Fixture f;
    BUILD0(f, ev);
    CallSummary e;
    expect_offered(&e, 3, "q");
    e.abandoned = true;
    e.abandoned_at = T0 + SEC(30);
    expect_ended(&e, SEC(30), BY_CALLER);
    e.wait_us = SEC(30);
    e.complete = true;
    check_scenario(&f, &e, "abandoned");
}
END_TEST

START_TEST(short_abandon_without_end)
{
    static const EvSpec ev[] = {
        EV(EV_OFFERED, "e1", 0, .queue = "q", .key = KEY_A),
        EV(EV_ABANDONED, "e2", MSEC(4200)),
    };
    Fixture f;
    BUILD0(f, ev);
    CallSummary e;
    expect_offered(&e, 2, "q");
    e.abandoned = true;
    e.abandoned_at = T0 + MSEC(4200);
    e.wait_us = MSEC(4200);
    e.complete = true; /* abandoned is over, even without call.ended */
    check_scenario(&f, &e, "short abandon");
}
END_TEST

START_TEST(hold_and_resume_twice)
{
    static const EvSpec ev[] = {
        EV(EV_OFFERED, "e1", 0, .queue = "q", .key = KEY_A),
        EV(EV_ANSWERED, "e2", SEC(10), .agent = "a"),
        EV(EV_HELD, "e3", SEC(60)),
        EV(EV_RESUMED, "e4", SEC(90)),
        EV(EV_HELD, "e5", SEC(120)),
        EV(EV_RESUMED, "e6", SEC(135)),
        EV(EV_ENDED, "e7", SEC(300), .by = BY_AGENT),
    };
    static const WuSpec wu[] = {{"a", SEC(320), "thuiszorg", false, FU_CALLBACK, CT_FAMILY}};
    Fixture f;
    BUILD(f, ev, wu);
    CallSummary e;
    expect_offered(&e, 7, "q");
    expect_answered(&e, "a", SEC(10));
    expect_ended(&e, SEC(300), BY_AGENT);
    expect_part_end(&e, SEC(300));
    e.hold_us = SEC(45);  /* (90 - 60) + (135 - 120) */
    e.talk_us = SEC(245); /* 300 - 10 - 45 */
    expect_wrapup(&e, f.wu[0], SEC(20)); /* 320 - 300 */
    e.complete = true;
    e.nlegs = 1;
    e.legs[0] = leg("a", SEC(10), SEC(300), false, SEC(45), NONE, f.wu[0]);
    check_scenario(&f, &e, "hold and resume");
}
END_TEST

/* The agent resumes and holds again in the same millisecond: the resume
 * ends the first hold, the hold starts the second. */
START_TEST(resume_and_hold_in_one_instant_keep_both_holds)
{
    static const EvSpec ev[] = {
        EV(EV_OFFERED, "e1", 0, .queue = "q", .key = KEY_A),
        EV(EV_ANSWERED, "e2", SEC(10), .agent = "a"),
        EV(EV_HELD, "e3", SEC(60)),
        EV(EV_RESUMED, "e4", SEC(90)),
        EV(EV_HELD, "e5", SEC(90)),
        EV(EV_RESUMED, "e6", SEC(135)),
        EV(EV_ENDED, "e7", SEC(300), .by = BY_AGENT),
    };
    Fixture f;
    BUILD0(f, ev);
    CallSummary e;
    expect_offered(&e, 7, "q");
    expect_answered(&e, "a", SEC(10));
    expect_ended(&e, SEC(300), BY_AGENT);
    expect_part_end(&e, SEC(300));
    e.hold_us = SEC(75);  /* (90 - 60) + (135 - 90) */
    e.talk_us = SEC(215); /* 300 - 10 - 75 */
    e.complete = true;
    e.nlegs = 1;
    e.legs[0] = leg("a", SEC(10), SEC(300), false, SEC(75), NONE, NULL);
    check_scenario(&f, &e, "resume and hold in one instant");
}
END_TEST

START_TEST(hold_without_resume_ends_with_the_part)
{
    static const EvSpec ev[] = {
        EV(EV_OFFERED, "e1", 0, .queue = "q", .key = KEY_A),
        EV(EV_ANSWERED, "e2", SEC(10), .agent = "a"),
        EV(EV_HELD, "e3", SEC(100)),
        EV(EV_ENDED, "e4", SEC(160), .by = BY_CALLER),
    };
    Fixture f;
    BUILD0(f, ev);
    CallSummary e;
    expect_offered(&e, 4, "q");
    expect_answered(&e, "a", SEC(10));
    expect_ended(&e, SEC(160), BY_CALLER);
    expect_part_end(&e, SEC(160));
    e.hold_us = SEC(60); /* 160 - 100: the hold ends with the leg */
    e.talk_us = SEC(90); /* 160 - 10 - 60 */
    e.complete = true;
    e.nlegs = 1;
    e.legs[0] = leg("a", SEC(10), SEC(160), false, SEC(60), NONE, NULL);
    check_scenario(&f, &e, "hold without resume");
}
END_TEST

/* Loop index: kind = _i / 2, mode = _i % 2. */
START_TEST(transferred_every_kind_and_mode)
{
    static const char *const targets[] = {"wijkteam-queue", "b.devries", "wijkteam-noord",
                                          "+31201234567"};
    TargetKind kind = (TargetKind)(_i / 2);
    TransferMode mode = (TransferMode)(_i % 2);
    const EvSpec ev[] = {
        EV(EV_OFFERED, "e1", 0, .queue = "q", .key = KEY_A),
        EV(EV_ANSWERED, "e2", SEC(8), .agent = "a"),
        EV(EV_TRANSFERRED, "e3", SEC(68), .agent = "a", .target = targets[kind], .kind = kind,
         .mode = mode),
        EV(EV_ENDED, "e4", SEC(400), .by = BY_SYSTEM),
    };
    static const WuSpec wu[] = {{"a", SEC(98), "doorverbonden", true, FU_CARE_TEAM, CT_PROFESSIONAL}};
    Fixture f;
    BUILD(f, ev, wu);
    CallSummary e;
    expect_offered(&e, 4, "q");
    expect_answered(&e, "a", SEC(8));
    expect_ended(&e, SEC(400), BY_SYSTEM);
    expect_transferred(&e, SEC(68), targets[kind], kind, mode);
    e.part_ended = true; /* the agent's part ends at the transfer */
    e.part_end_at = T0 + SEC(68);
    e.talk_us = SEC(60); /* 68 - 8 */
    expect_wrapup(&e, f.wu[0], SEC(30)); /* 98 - 68, not from the call's end */
    e.complete = true;
    e.nlegs = 1;
    e.legs[0] = leg("a", SEC(8), SEC(68), true, 0, NONE, f.wu[0]);
    check_scenario(&f, &e, "transferred");
}
END_TEST

START_TEST(transfer_then_second_leg_by_another_agent)
{
    static const EvSpec ev[] = {
        EV(EV_OFFERED, "e1", 0, .queue = "q1", .key = KEY_A),
        EV(EV_ANSWERED, "e2", SEC(5), .agent = "a"),
        EV(EV_TRANSFERRED, "e3", SEC(95), .agent = "a", .target = "b", .kind = TK_AGENT,
         .mode = TM_ATTENDED),
        EV(EV_ANSWERED, "e4", SEC(100), .agent = "b"),
        EV(EV_HELD, "e5", SEC(150)),
        EV(EV_RESUMED, "e6", SEC(170)),
        EV(EV_ENDED, "e7", SEC(300), .by = BY_CALLER),
    };
    static const WuSpec wu[] = {{"a", SEC(120), "overdracht", false, FU_NONE, CT_CLIENT},
                                {"b", SEC(330), "zorgvraag", true, FU_NONE, CT_CLIENT}};
    Fixture f;
    BUILD(f, ev, wu);
    CallSummary e;
    expect_offered(&e, 7, "q1");
    expect_answered(&e, "a", SEC(5));
    expect_ended(&e, SEC(300), BY_CALLER);
    expect_transferred(&e, SEC(95), "b", TK_AGENT, TM_ATTENDED);
    /* the contact's figures are the first leg's: a, 5 -> 95 */
    expect_part_end(&e, SEC(95));
    e.talk_us = SEC(90);
    e.hold_us = 0; /* the hold was in b's leg */
    expect_wrapup(&e, f.wu[0], SEC(25)); /* 120 - 95 */
    e.complete = true;
    e.nlegs = 2;
    e.legs[0] = leg("a", SEC(5), SEC(95), true, 0, NONE, f.wu[0]);
    e.legs[1] = leg("b", SEC(100), SEC(300), false, SEC(20), NONE, f.wu[1]); /* 170 - 150 */
    check_scenario(&f, &e, "second leg");
}
END_TEST

/* Found by a probe: the call's ACW was measured from the end of a's
 * first part, counting a's second part on the call as after-call work. */
START_TEST(a_call_back_with_its_first_agent_has_acw_from_their_last_part)
{
    static const EvSpec ev[] = {
        EV(EV_OFFERED, "e1", 0, .queue = "q1", .key = KEY_A),
        EV(EV_ANSWERED, "e2", SEC(10), .agent = "a"),
        EV(EV_TRANSFERRED, "e3", SEC(100), .agent = "a", .target = "b", .kind = TK_AGENT),
        EV(EV_ANSWERED, "e4", SEC(110), .agent = "b"),
        EV(EV_TRANSFERRED, "e5", SEC(200), .agent = "b", .target = "a", .kind = TK_AGENT),
        EV(EV_ANSWERED, "e6", SEC(210), .agent = "a"),
        EV(EV_ENDED, "e7", SEC(500), .by = BY_CALLER),
    };
    static const WuSpec wu[] = {{"a", SEC(550), "zorgvraag", true, FU_NONE, CT_CLIENT}};
    Fixture f;
    BUILD(f, ev, wu);
    CallSummary e;
    expect_offered(&e, 7, "q1");
    expect_answered(&e, "a", SEC(10));
    expect_ended(&e, SEC(500), BY_CALLER);
    expect_transferred(&e, SEC(100), "b", TK_AGENT, TM_BLIND);
    expect_part_end(&e, SEC(100)); /* the contact's talk is the first part's */
    e.talk_us = SEC(90);
    expect_wrapup(&e, f.wu[0], SEC(50)); /* 550 - 500: a's last part, not 550 - 100 */
    e.complete = true;
    e.nlegs = 3;
    e.legs[0] = leg("a", SEC(10), SEC(100), true, 0, NONE, f.wu[0]);
    e.legs[1] = leg("b", SEC(110), SEC(200), true, 0, NONE, NULL);
    e.legs[2] = leg("a", SEC(210), SEC(500), false, 0, NONE, f.wu[0]);
    check_scenario(&f, &e, "back to a");
}
END_TEST

START_TEST(ended_without_answer_is_abandoned_at_the_end)
{
    static const EvSpec ev[] = {
        EV(EV_OFFERED, "e1", 0, .queue = "uitgaand", .withheld = true, .direction = DIR_OUTBOUND,
         .channel = CH_CHAT, .from = "c0", .location = "zwijndrecht", .callback_id = "cb-7"),
        EV(EV_ENDED, "e2", SEC(42), .by = BY_SYSTEM),
    };
    Fixture f;
    BUILD0(f, ev);
    CallSummary e;
    expect_base(&e, 2);
    e.offered = true;
    e.offered_at = T0;
    e.queue = "uitgaand";
    e.location = "zwijndrecht";
    e.transferred_from = "c0";
    e.callback_id = "cb-7";
    e.caller_key = NULL;
    e.caller_withheld = true;
    e.channel = CH_CHAT;
    e.direction = DIR_OUTBOUND;
    e.abandoned = true;
    e.abandoned_at = T0 + SEC(42);
    expect_ended(&e, SEC(42), BY_SYSTEM);
    e.wait_us = SEC(42);
    e.complete = true;
    check_scenario(&f, &e, "ended unanswered");
}
END_TEST

START_TEST(answered_before_offered_timestamps)
{
    static const EvSpec ev[] = {
        EV(EV_ANSWERED, "e2", -SEC(2), .agent = "a"),
        EV(EV_OFFERED, "e1", 0, .queue = "q", .key = KEY_B),
        EV(EV_ENDED, "e3", SEC(60), .by = BY_AGENT),
    };
    Fixture f;
    BUILD0(f, ev);
    CallSummary e;
    expect_base(&e, 3);
    e.offered = true;
    e.offered_at = T0;
    e.queue = "q";
    e.caller_key = KEY_B;
    e.answered = true;
    e.answered_at = T0 - SEC(2);
    e.agent = "a";
    expect_ended(&e, SEC(60), BY_AGENT);
    e.wait_us = 0;       /* never negative */
    expect_part_end(&e, SEC(60));
    e.talk_us = SEC(62); /* 60 - (-2) */
    e.complete = true;
    e.nlegs = 1;
    e.legs[0] = leg("a", -SEC(2), SEC(60), false, 0, NONE, NULL);
    check_scenario(&f, &e, "answered before offered");
}
END_TEST

START_TEST(duplicate_type_events_first_wins)
{
    static const EvSpec ev[] = {
        EV(EV_OFFERED, "e1", 0, .queue = "q1", .key = KEY_A),
        EV(EV_OFFERED, "e0", 0, .queue = "q0", .key = KEY_B, .location = "gorinchem"),
        EV(EV_OFFERED, "e2", SEC(3), .queue = "q2", .key = KEY_A),
        EV(EV_ANSWERED, "e3", SEC(10), .agent = "a"),
        EV(EV_ANSWERED, "e4", SEC(11), .agent = "a"),
        EV(EV_ENDED, "e5", SEC(70), .by = BY_AGENT),
        EV(EV_ENDED, "e6", SEC(80), .by = BY_CALLER),
    };
    Fixture f;
    BUILD0(f, ev);
    CallSummary e;
    expect_base(&e, 7);
    /* same `at`: e0 sorts before e1 (event_id), so e0 describes the call */
    e.offered = true;
    e.offered_at = T0;
    e.queue = "q0";
    e.location = "gorinchem";
    e.caller_key = KEY_B;
    expect_answered(&e, "a", SEC(10));
    expect_ended(&e, SEC(70), BY_AGENT);
    expect_part_end(&e, SEC(70));
    e.talk_us = SEC(60);
    e.complete = true;
    e.nlegs = 1; /* a second answer by the same agent while on the call adds no leg */
    e.legs[0] = leg("a", SEC(10), SEC(70), false, 0, NONE, NULL);
    check_scenario(&f, &e, "duplicate offered/answered/ended");
}
END_TEST

START_TEST(duplicate_holds_and_resumes)
{
    static const EvSpec ev[] = {
        EV(EV_OFFERED, "e1", 0, .queue = "q", .key = KEY_A),
        EV(EV_ANSWERED, "e2", SEC(5), .agent = "a"),
        EV(EV_HELD, "e3", SEC(20)),
        EV(EV_HELD, "e4", SEC(25)),
        EV(EV_RESUMED, "e5", SEC(40)),
        EV(EV_RESUMED, "e6", SEC(45)),
        EV(EV_ENDED, "e7", SEC(100), .by = BY_CALLER),
    };
    Fixture f;
    BUILD0(f, ev);
    CallSummary e;
    expect_offered(&e, 7, "q");
    expect_answered(&e, "a", SEC(5));
    expect_ended(&e, SEC(100), BY_CALLER);
    expect_part_end(&e, SEC(100));
    e.hold_us = SEC(20); /* from the first hold (20) to the first resume (40) */
    e.talk_us = SEC(75); /* 100 - 5 - 20 */
    e.complete = true;
    e.nlegs = 1;
    e.legs[0] = leg("a", SEC(5), SEC(100), false, SEC(20), NONE, NULL);
    check_scenario(&f, &e, "duplicate holds");
}
END_TEST

START_TEST(duplicate_abandons)
{
    static const EvSpec ev[] = {
        EV(EV_OFFERED, "e1", 0, .queue = "q", .key = KEY_A),
        EV(EV_ABANDONED, "e2", SEC(7)),
        EV(EV_ABANDONED, "e3", SEC(9)),
        EV(EV_ENDED, "e4", SEC(9), .by = BY_CALLER),
    };
    Fixture f;
    BUILD0(f, ev);
    CallSummary e;
    expect_offered(&e, 4, "q");
    e.abandoned = true;
    e.abandoned_at = T0 + SEC(7);
    expect_ended(&e, SEC(9), BY_CALLER);
    e.wait_us = SEC(7);
    e.complete = true;
    check_scenario(&f, &e, "duplicate abandons");
}
END_TEST

START_TEST(missing_offered_is_incomplete)
{
    static const EvSpec ev[] = {
        EV(EV_ANSWERED, "e2", SEC(5), .agent = "a"),
        EV(EV_HELD, "e3", SEC(10)),
        EV(EV_RESUMED, "e4", SEC(20)),
        EV(EV_ENDED, "e5", SEC(60), .by = BY_CALLER),
    };
    static const WuSpec wu[] = {{"a", SEC(70), "info", true, -1, -1}};
    Fixture f;
    BUILD(f, ev, wu);
    CallSummary e;
    expect_base(&e, 4);
    e.answered = true;
    e.answered_at = T0 + SEC(5);
    e.agent = "a";
    expect_ended(&e, SEC(60), BY_CALLER);
    e.wait_us = 0; /* no offer, no wait */
    expect_part_end(&e, SEC(60));
    e.hold_us = SEC(10);
    e.talk_us = SEC(45); /* 60 - 5 - 10 */
    expect_wrapup(&e, f.wu[0], SEC(10));
    e.complete = false; /* never offered */
    e.nlegs = 1;
    e.legs[0] = leg("a", SEC(5), SEC(60), false, SEC(10), NONE, f.wu[0]);
    check_scenario(&f, &e, "missing offered");
}
END_TEST

START_TEST(missing_ended_is_in_progress)
{
    static const EvSpec ev[] = {
        EV(EV_OFFERED, "e1", 0, .queue = "q", .key = KEY_A),
        EV(EV_ANSWERED, "e2", SEC(15), .agent = "a"),
        EV(EV_HELD, "e3", SEC(40)),
    };
    Fixture f;
    BUILD0(f, ev);
    CallSummary e;
    expect_offered(&e, 3, "q");
    expect_answered(&e, "a", SEC(15));
    e.part_ended = false;
    e.talk_us = 0; /* valid only when the part ended */
    e.hold_us = 0; /* the open hold is not counted yet */
    e.complete = false;
    e.nlegs = 1;
    e.legs[0] = leg("a", SEC(15), NONE, false, 0, SEC(40), NULL);
    check_scenario(&f, &e, "in progress");
    CallSummary got;
    derive_list(f.ev, f.n, &f, &got);
    ck_assert(!call_waiting(&got));
}
END_TEST

START_TEST(wrapup_before_the_end_has_no_acw)
{
    static const EvSpec ev[] = {
        EV(EV_OFFERED, "e1", 0, .queue = "q", .key = KEY_A),
        EV(EV_ANSWERED, "e2", SEC(5), .agent = "a"),
        EV(EV_ENDED, "e3", SEC(60), .by = BY_CALLER),
    };
    static const WuSpec wu[] = {{"a", SEC(50), "info", true, FU_NONE, CT_SUPPLIER}};
    Fixture f;
    BUILD(f, ev, wu);
    CallSummary e;
    expect_offered(&e, 3, "q");
    expect_answered(&e, "a", SEC(5));
    expect_ended(&e, SEC(60), BY_CALLER);
    expect_part_end(&e, SEC(60));
    e.talk_us = SEC(55);
    expect_wrapup(&e, f.wu[0], 0); /* wrapped at 50, before the end at 60 */
    e.complete = true;
    e.nlegs = 1;
    e.legs[0] = leg("a", SEC(5), SEC(60), false, 0, NONE, f.wu[0]);
    check_scenario(&f, &e, "wrap-up before end");
}
END_TEST

START_TEST(wrapup_during_a_call_in_progress)
{
    static const EvSpec ev[] = {
        EV(EV_OFFERED, "e1", 0, .queue = "q", .key = KEY_A),
        EV(EV_ANSWERED, "e2", SEC(5), .agent = "a"),
    };
    static const WuSpec wu[] = {{"a", SEC(50), "info", false, FU_CALLBACK, CT_OTHER}};
    Fixture f;
    BUILD(f, ev, wu);
    CallSummary e;
    expect_offered(&e, 2, "q");
    expect_answered(&e, "a", SEC(5));
    expect_wrapup(&e, f.wu[0], 0); /* acw is valid only once the part ended */
    e.nlegs = 1;
    e.legs[0] = leg("a", SEC(5), NONE, false, 0, NONE, f.wu[0]);
    check_scenario(&f, &e, "wrap-up in progress");
}
END_TEST

START_TEST(same_at_on_several_events)
{
    static const EvSpec ev[] = {
        EV(EV_OFFERED, "e1", SEC(0), .queue = "q", .key = KEY_A),
        EV(EV_ANSWERED, "e2", SEC(0), .agent = "a"),
        EV(EV_HELD, "e3", SEC(10)),
        EV(EV_RESUMED, "e4", SEC(10)),
        EV(EV_TRANSFERRED, "e5", SEC(60), .agent = "a", .target = "q2", .kind = TK_QUEUE),
        EV(EV_ENDED, "e6", SEC(60), .by = BY_SYSTEM),
    };
    static const WuSpec wu[] = {{"a", SEC(60), "info", true, FU_NONE, CT_CLIENT}};
    Fixture f;
    BUILD(f, ev, wu);
    CallSummary e;
    expect_offered(&e, 6, "q");
    e.answered = true;
    e.answered_at = T0;
    e.agent = "a";
    expect_ended(&e, SEC(60), BY_SYSTEM);
    expect_transferred(&e, SEC(60), "q2", TK_QUEUE, TM_BLIND);
    e.wait_us = 0;
    /* type order: held before resumed (0 s hold), transferred before ended
     * (the part ends by the transfer) */
    expect_part_end(&e, SEC(60));
    e.talk_us = SEC(60);
    e.hold_us = 0;
    expect_wrapup(&e, f.wu[0], 0); /* wrapped at the very end: 0 */
    e.complete = true;
    e.nlegs = 1;
    e.legs[0] = leg("a", 0, SEC(60), true, 0, NONE, f.wu[0]);
    check_scenario(&f, &e, "same at");
}
END_TEST

START_TEST(same_at_answers_and_abandon_tie_break)
{
    static const EvSpec ev[] = {
        EV(EV_OFFERED, "e1", 0, .queue = "q", .key = KEY_A),
        EV(EV_ANSWERED, "e3", SEC(10), .agent = "b"),
        EV(EV_ANSWERED, "e2", SEC(10), .agent = "a"),
        EV(EV_ABANDONED, "e0", SEC(10)),
        EV(EV_ENDED, "e4", SEC(50), .by = BY_CALLER),
    };
    Fixture f;
    BUILD0(f, ev);
    CallSummary e;
    expect_offered(&e, 5, "q");
    /* answered sorts before abandoned (type), e2 before e3 (event_id) */
    expect_answered(&e, "a", SEC(10));
    e.abandoned = false;
    expect_ended(&e, SEC(50), BY_CALLER);
    expect_part_end(&e, SEC(50));
    e.talk_us = SEC(40);
    e.complete = true;
    e.nlegs = 2;
    e.legs[0] = leg("a", SEC(10), SEC(50), false, 0, NONE, NULL);
    e.legs[1] = leg("b", SEC(10), SEC(50), false, 0, NONE, NULL);
    check_scenario(&f, &e, "tie-break");
}
END_TEST

START_TEST(abandon_then_answer_the_answer_wins)
{
    static const EvSpec ev[] = {
        EV(EV_OFFERED, "e1", 0, .queue = "q", .key = KEY_A),
        EV(EV_ABANDONED, "e2", SEC(20)),
        EV(EV_ANSWERED, "e3", SEC(25), .agent = "a"),
        EV(EV_ENDED, "e4", SEC(90), .by = BY_CALLER),
    };
    Fixture f;
    BUILD0(f, ev);
    CallSummary e;
    expect_offered(&e, 4, "q");
    expect_answered(&e, "a", SEC(25));
    e.abandoned = false;
    expect_ended(&e, SEC(90), BY_CALLER);
    expect_part_end(&e, SEC(90));
    e.talk_us = SEC(65);
    e.complete = true;
    e.nlegs = 1;
    e.legs[0] = leg("a", SEC(25), SEC(90), false, 0, NONE, NULL);
    check_scenario(&f, &e, "abandon then answer");
}
END_TEST

START_TEST(abandon_after_answer_is_ignored)
{
    static const EvSpec ev[] = {
        EV(EV_OFFERED, "e1", 0, .queue = "q", .key = KEY_A),
        EV(EV_ANSWERED, "e2", SEC(5), .agent = "a"),
        EV(EV_ABANDONED, "e3", SEC(30)),
        EV(EV_ENDED, "e4", SEC(60), .by = BY_CALLER),
    };
    Fixture f;
    BUILD0(f, ev);
    CallSummary e;
    expect_offered(&e, 4, "q");
    expect_answered(&e, "a", SEC(5));
    expect_ended(&e, SEC(60), BY_CALLER);
    expect_part_end(&e, SEC(60));
    e.talk_us = SEC(55);
    e.complete = true;
    e.nlegs = 1;
    e.legs[0] = leg("a", SEC(5), SEC(60), false, 0, NONE, NULL);
    check_scenario(&f, &e, "abandon after answer");
}
END_TEST

START_TEST(answer_after_the_end_is_ignored)
{
    static const EvSpec ev[] = {
        EV(EV_OFFERED, "e1", 0, .queue = "q", .key = KEY_A),
        EV(EV_ENDED, "e2", SEC(30), .by = BY_CALLER),
        EV(EV_ANSWERED, "e3", SEC(40), .agent = "a"),
    };
    Fixture f;
    BUILD0(f, ev);
    CallSummary e;
    expect_offered(&e, 3, "q");
    e.abandoned = true; /* ended unanswered: abandoned at the end */
    e.abandoned_at = T0 + SEC(30);
    expect_ended(&e, SEC(30), BY_CALLER);
    e.wait_us = SEC(30);
    e.complete = true;
    check_scenario(&f, &e, "answer after end");
}
END_TEST

START_TEST(hold_outside_a_leg_is_ignored)
{
    static const EvSpec ev[] = {
        EV(EV_OFFERED, "e1", 0, .queue = "q", .key = KEY_A),
        EV(EV_HELD, "e2", SEC(2)),
        EV(EV_RESUMED, "e3", SEC(4)),
        EV(EV_ANSWERED, "e4", SEC(10), .agent = "a"),
        EV(EV_RESUMED, "e5", SEC(20)),
        EV(EV_ENDED, "e6", SEC(70), .by = BY_CALLER),
        EV(EV_HELD, "e7", SEC(80)),
    };
    Fixture f;
    BUILD0(f, ev);
    CallSummary e;
    expect_offered(&e, 7, "q");
    expect_answered(&e, "a", SEC(10));
    expect_ended(&e, SEC(70), BY_CALLER);
    expect_part_end(&e, SEC(70));
    e.talk_us = SEC(60); /* no hold: before the answer, a resume without hold, after the end */
    e.complete = true;
    e.nlegs = 1;
    e.legs[0] = leg("a", SEC(10), SEC(70), false, 0, NONE, NULL);
    check_scenario(&f, &e, "hold outside leg");
}
END_TEST

START_TEST(followed_by_repeat_is_handed_through)
{
    static const EvSpec ev[] = {
        EV(EV_OFFERED, "e1", 0, .queue = "q", .key = KEY_A),
        EV(EV_ABANDONED, "e2", SEC(3)),
    };
    Fixture f;
    BUILD0(f, ev);
    f.repeat = true;
    CallSummary e;
    expect_offered(&e, 2, "q");
    e.abandoned = true;
    e.abandoned_at = T0 + SEC(3);
    e.wait_us = SEC(3);
    e.complete = true;
    e.followed_by_repeat = true;
    check_scenario(&f, &e, "repeat flag");
}
END_TEST

START_TEST(no_events_at_all)
{
    Fixture f;
    memset(&f, 0, sizeof(f));
    CallSummary got, e;
    derive_list(f.ev, 0, &f, &got);
    expect_base(&e, 0);
    e.call_id = NULL;
    assert_summary(&got, &e, CMP_NEVENTS, "empty");
    ck_assert(!call_waiting(&got));
}
END_TEST

START_TEST(at_most_call_max_legs)
{
    EvSpec ev[CALL_MAX_LEGS + 3];
    memset(ev, 0, sizeof(ev));
    static const char *const agents[] = {"a0", "a1", "a2", "a3", "a4", "a5", "a6", "a7", "a8"};
    static const char *const ids[] = {"e10", "e11", "e12", "e13", "e14", "e15", "e16", "e17", "e18"};
    ev[0] = (EvSpec)EV(EV_OFFERED, "e00", 0, .queue = "q");
    for (int i = 0; i <= CALL_MAX_LEGS; i++)
        ev[1 + i] = (EvSpec)EV(EV_ANSWERED, ids[i], SEC(10 + i), .agent = agents[i]);
    ev[CALL_MAX_LEGS + 2] = (EvSpec)EV(EV_ENDED, "e99", SEC(100));
    Fixture f;
    build(&f, ev, KIC_ARRAY_LEN(ev), no_wrapups, 0);
    CallSummary got;
    derive_list(f.ev, f.n, &f, &got);
    ck_assert_int_eq(got.nlegs, CALL_MAX_LEGS);
    for (int i = 0; i < CALL_MAX_LEGS; i++) {
        ck_assert_str_eq(got.legs[i].agent, agents[i]);
        ck_assert_int_eq(got.legs[i].end_at, T0 + SEC(100));
    }
    ck_assert_ptr_null(call_leg_of(&got, "a8")); /* the ninth was not kept */
}
END_TEST

START_TEST(waiting_and_leg_lookup)
{
    static const EvSpec ev[] = {
        EV(EV_OFFERED, "e1", 0, .queue = "q", .key = KEY_A),
        EV(EV_ANSWERED, "e2", SEC(5), .agent = "a"),
        EV(EV_TRANSFERRED, "e3", SEC(20), .agent = "a", .target = "b", .kind = TK_AGENT),
        EV(EV_ANSWERED, "e4", SEC(25), .agent = "b"),
        EV(EV_TRANSFERRED, "e5", SEC(40), .agent = "b", .target = "a", .kind = TK_AGENT),
        EV(EV_ANSWERED, "e6", SEC(45), .agent = "a"),
    };
    Fixture f;
    BUILD0(f, ev);
    CallSummary s;
    derive_list(f.ev, 1, &f, &s); /* offered only */
    ck_assert(call_waiting(&s));
    derive_list(f.ev, 2, &f, &s);
    ck_assert(!call_waiting(&s));
    derive_list(f.ev, f.n, &f, &s);
    ck_assert_int_eq(s.nlegs, 3);
    const CallLeg *l = call_leg_of(&s, "a");
    ck_assert_ptr_eq(l, &s.legs[2]); /* the latest leg of a */
    ck_assert_int_eq(l->end_at, NONE);
    ck_assert_ptr_eq(call_leg_of(&s, "b"), &s.legs[1]);
    ck_assert_ptr_null(call_leg_of(&s, "c"));
    /* the contact's figures stay those of the first leg */
    ck_assert_str_eq(s.agent, "a");
    ck_assert(s.part_ended);
    ck_assert_int_eq(s.talk_us, SEC(15));
    ck_assert_int_eq(s.transferred_at, T0 + SEC(20));
    ck_assert_str_eq(s.transfer_target, "b");
    /* abandoned or ended: not waiting */
    static const EvSpec ab[] = {EV(EV_OFFERED, "x1", 0, .queue = "q"), EV(EV_ABANDONED, "x2", SEC(1))};
    Fixture g;
    BUILD0(g, ab);
    derive_list(g.ev, 2, &g, &s);
    ck_assert(!call_waiting(&s));
    /* moved on before an answer (a queue overflowing to another), with
     * no call.ended to follow: no longer waiting in its first queue */
    static const EvSpec ov[] = {EV(EV_OFFERED, "y1", 0, .queue = "q"),
                                EV(EV_TRANSFERRED, "y2", SEC(30), .agent = "ivr", .target = "q2",
                                   .kind = TK_QUEUE)};
    Fixture h;
    BUILD0(h, ov);
    derive_list(h.ev, 2, &h, &s);
    ck_assert(s.transferred && !s.answered);
    ck_assert(!call_waiting(&s));
}
END_TEST

int main(void)
{
    Suite *s = suite_create("call");
    TCase *tc = tcase_create("core");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, answered_wrapped_up_after_the_end);
    tcase_add_test(tc, abandoned);
    tcase_add_test(tc, short_abandon_without_end);
    tcase_add_test(tc, hold_and_resume_twice);
    tcase_add_test(tc, hold_without_resume_ends_with_the_part);
    tcase_add_test(tc, resume_and_hold_in_one_instant_keep_both_holds);
    tcase_add_loop_test(tc, transferred_every_kind_and_mode, 0, TARGET_KIND_COUNT * TRANSFER_MODE_COUNT);
    tcase_add_test(tc, transfer_then_second_leg_by_another_agent);
    tcase_add_test(tc, ended_without_answer_is_abandoned_at_the_end);
    tcase_add_test(tc, answered_before_offered_timestamps);
    tcase_add_test(tc, duplicate_type_events_first_wins);
    tcase_add_test(tc, duplicate_holds_and_resumes);
    tcase_add_test(tc, duplicate_abandons);
    tcase_add_test(tc, missing_offered_is_incomplete);
    tcase_add_test(tc, missing_ended_is_in_progress);
    tcase_add_test(tc, a_call_back_with_its_first_agent_has_acw_from_their_last_part);
    tcase_add_test(tc, wrapup_before_the_end_has_no_acw);
    tcase_add_test(tc, wrapup_during_a_call_in_progress);
    tcase_add_test(tc, same_at_on_several_events);
    tcase_add_test(tc, same_at_answers_and_abandon_tie_break);
    tcase_add_test(tc, abandon_then_answer_the_answer_wins);
    tcase_add_test(tc, abandon_after_answer_is_ignored);
    tcase_add_test(tc, answer_after_the_end_is_ignored);
    tcase_add_test(tc, hold_outside_a_leg_is_ignored);
    tcase_add_test(tc, followed_by_repeat_is_handed_through);
    tcase_add_test(tc, no_events_at_all);
    tcase_add_test(tc, at_most_call_max_legs);
    tcase_add_test(tc, waiting_and_leg_lookup);
    suite_add_tcase(s, tc);
    return unit_run(s);
}
