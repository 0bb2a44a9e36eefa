/* A contact centre's live state (one per tenant): the calls of the last
 * cache_days with their events and wrap-ups, agents, queues, today's
 * counters, and the index of contacts by caller key for repeats.
 *
 * Every change goes through one function (centre.c: call_update) that
 * re-derives the call from all it knows, then removes the call's old
 * contribution (today's sums, waiting lists, agents' legs, the caller
 * index) and adds the new one. Live counts therefore always equal a
 * recomputation from scratch, whatever order events came in.
 *
 * The centre decides; it never writes anything. What must be stored or
 * told is reported in Effects for the server to act on. */
#ifndef CENTRE_H
#define CENTRE_H

#include "agent.h"
#include "call.h"
#include "callback.h"
#include "metrics.h"
#include "strmap.h"

typedef struct CentreConfig {
    MetricParams metric;
    int repeat_window_days; /* 7 */
    int cache_days;         /* 8: calls with any event this recent stay in memory */
    int64_t notice_max_age_us; /* older parts get no desktop notification */
    int64_t callback_due_us;   /* a callback's due time when none is given */
} CentreConfig;

typedef struct Queue Queue;

typedef struct Call {
    int64_t tenant;
    char *call_id;
    Event **events;
    size_t nevents, cap_events;
    Wrapup **wrapups;
    size_t nwrapups;
    /* Repeats are derived from the caller's other contacts (see
     * settle_contacts in centre.c), or'ed with what storage had for a call
     * offered before loaded_since, whose later contacts memory may not
     * hold (repeat_with_storage). */
    bool followed_by_repeat;
    bool repeat_stored;
    int earlier_contacts; /* the caller's contacts in the window before this one */
    char *index_key;      /* the caller key it is listed under, or NULL */
    KicTime index_at;     /* its offer time when listed */
    KicTime index_window_end; /* index_at plus the repeat window, local days */
    bool index_trigger;   /* whether it counted as the caller's own contact */
    CallSummary sum;
    bool dirty;      /* its calls row must be written */
    bool dirty_repeat_only; /* and only its repeat flag changed since the
                               row was last written (a later contact of the
                               caller): an update of that one column does */
    bool row_stored; /* storage has its calls row, or a batch on its way
                        does (set by whoever writes it; loaded calls have) */
    uint64_t legs_sig; /* which agents' legs storage may hold of it
                          (call_legs; set by the server): 0 none, else
                          its fingerprint of them, UINT64_MAX unknown */
    bool in_today;   /* counted in today's sums */
    /* Counted live (waiting, its agents' open parts): its newest fact is
     * within cache_days, as the calls memory holds after a restart. A late
     * event for an older call updates its row but leaves live state alone,
     * so a restart gives the same live figures. */
    bool counted_live;
    Queue *waiting_in;
    struct Call *wait_prev, *wait_next;
    KicTime last_at;      /* newest fact, for eviction */
    /* What the call contributes to the stored 15-minute sums (as last
     * written), so a change is written as a delta. */
    struct RollupKey *stored_key; /* NULL: contributes nothing */
    MetricSums stored;
} Call;

/* The key of a stored 15-minute block of contacts: when they were
 * offered (a UTC quarter hour, which every time zone's 15-minute, hour
 * and day boundaries are made of), and how they were routed. The centre
 * keeps one copy of each queue name its keys use, for as long as it
 * lives: a key is small, and the keys of its effects stay valid. */
typedef struct RollupKey {
    KicTime bucket;
    const char *queue;
    Channel channel;
    Direction direction;
} RollupKey;

bool rollup_key_equal(const RollupKey *a, const RollupKey *b);

#define ROLLUP_BUCKET_US (900LL * KIC_USEC)

/* A change to one block's sums. */
typedef struct RollupDelta {
    int64_t tenant;
    RollupKey key;
    MetricSums sums;
} RollupDelta;

struct Queue {
    char *name;
    MetricSums today;
    Call *waiting;  /* calls waiting in this queue */
    int nwaiting;
    StrMap agents_today; /* agent id -> QueueAgent: who answered a contact of it today */
};

/* An agent's parts in one queue's contacts of today. Counted, so that a
 * contact that moves to another queue (a late earlier offer) takes its
 * agent along unless they answered another contact here. */
typedef struct QueueAgent {
    Agent *agent;
    int parts;
} QueueAgent;

typedef enum { NOTICE_CONNECTED, NOTICE_ENDED } NoticeKind;

typedef struct Notice {
    int64_t tenant;
    NoticeKind kind;
    char agent[KIC_MAX_FIELD_BYTES + 1];
    char call_id[KIC_MAX_FIELD_BYTES + 1];
    char queue[KIC_MAX_FIELD_BYTES + 1];
    bool transferred;     /* NOTICE_ENDED: the part ended by a transfer */
    bool wrapup_due;      /* NOTICE_ENDED: the agent has not wrapped up yet */
    int earlier_contacts; /* NOTICE_CONNECTED: repeat count in the window */
} Notice;

typedef struct Transition {
    int64_t tenant;
    char agent[KIC_MAX_FIELD_BYTES + 1];
    AgentState state;
    KicTime since;
    char reason[KIC_MAX_FIELD_BYTES + 1]; /* "" when none */
    bool maybe_stored; /* an earlier batch, not known committed, has it too */
} Transition;

/* What a batch of decisions asks the server to store and tell. */
typedef struct Effects {
    Call **dirty;           /* calls rows to write (each once) */
    size_t ndirty, cap_dirty;
    Call **new_contacts;    /* offers whose repeat window reaches past memory:
                             * storage must settle their repeats too */
    size_t nnew, cap_new;
    Transition *transitions;
    size_t ntransitions, cap_transitions;
    Notice *notices;
    size_t nnotices, cap_notices;
    Callback **callbacks;   /* callback rows to write (each once) */
    size_t ncallbacks, cap_callbacks;
    RollupDelta *deltas;    /* changes to the stored 15-minute sums */
    size_t ndeltas, cap_deltas;
    /* Which batch these are (counts resets). Set by the server: batches
     * from trusted_from to stored_through are known to be stored (they
     * commit in order; after a batch failed, those before it are not
     * relied on). */
    uint64_t batch, trusted_from, stored_through;
} Effects;

void effects_reset(Effects *fx);
void effects_free(Effects *fx);
/* The server has written these rows: clears their dirty marks. */
void effects_written(Effects *fx);

typedef struct Centre Centre;

Centre *centre_new(int64_t tenant_id, const CentreConfig *cfg, KicTime now);
void centre_free(Centre *c);
/* Bumped on every change; subscribers compare it. */
uint64_t centre_version(const Centre *c);

/* Calls with any event at or after this are all in memory. */
KicTime centre_loaded_since(const Centre *c);

/* True when the event's call must first be loaded from storage: it is
 * not in memory and the event is older than what memory holds. */
bool centre_needs_load(const Centre *c, const Event *ev);

/* True when memory cannot tell whether the event is a re-send: a callback
 * request older than what memory holds, which no call load brings back.
 * Storage's event keys must say (a re-send must not reopen its callback). */
bool centre_needs_key_check(const Centre *c, const Event *ev);

typedef enum { APPLY_NEW, APPLY_DUPLICATE } ApplyResult;

/* Applies a validated event; takes ownership of ev (freed at once when a
 * duplicate). live: notify agents (false while replaying). number: the
 * caller's number of a callback.request (NULL otherwise). A callback
 * request opens a callback (unless one with its id exists). */
ApplyResult centre_apply_event(Centre *c, Event *ev, const char *number, KicTime now, bool live,
                               Effects *fx);

/* The block a contact offered at `offered_at` belongs to. */
KicTime rollup_bucket(KicTime offered_at);

/* Merges a call's stored events and wrap-ups (taking ownership) into
 * memory; no notifications. Events already known are dropped. What it
 * contributed to the stored sums is taken as already written. */
void centre_load_call(Centre *c, Event **events, size_t n, Wrapup **wrapups, size_t nw,
                      bool followed_by_repeat, KicTime now, Effects *fx);

Call *centre_call(const Centre *c, const char *call_id);

typedef enum {
    WRAPUP_OK,
    WRAPUP_UNKNOWN_CALL,   /* -32004 */
    WRAPUP_NOT_YOURS,      /* -32003: the agent has no part in the call */
    WRAPUP_ALREADY,        /* -32009 */
    WRAPUP_BEFORE_ANSWER,  /* -32602: at lies before the agent answered */
} WrapupResult;

/* Checks a wrap-up without applying it; holder_since: since when the
 * wrapping user holds the agent id (call_leg_of_holder). */
WrapupResult centre_check_wrapup(const Centre *c, const char *call_id, const char *agent,
                                 KicTime holder_since, KicTime at);
/* Applies a checked wrap-up; takes ownership of w. *acw_us is the ACW
 * (0 while the part is still going). */
void centre_apply_wrapup(Centre *c, const char *call_id, Wrapup *w, KicTime now,
                         int64_t *acw_us, Effects *fx);

/* An agent chooses a state (available, break, offline) at `at`. The
 * choice itself is the caller's to store (see the Agent afterwards); a
 * change of effective state is reported as a transition. The choice in
 * effect made again (same state, same reason: a desktop restoring its
 * state after a reconnect) changes nothing, not even since when: false,
 * nothing to store. */
bool centre_set_agent_state(Centre *c, const char *agent, AgentState chosen,
                            const char *reason, KicTime at, Effects *fx);
/* Start-up: the last chosen state from storage, and agents known from
 * users without any state yet. login_since: see Agent (KIC_TIME_NONE when
 * not known: an owed ACW then dates from the part's end). */
void centre_load_agent(Centre *c, const char *agent, AgentState chosen, KicTime since,
                       const char *reason, KicTime offline_since, KicTime login_since);
Agent *centre_agent(const Centre *c, const char *id);
/* Iteration over agents: *pos starts at 0. */
bool centre_next_agent(const Centre *c, size_t *pos, Agent **out);

/* ---- callbacks ---- */

Callback *centre_callback(const Centre *c, const char *id);
/* Opens an agent's callback (the id is new: the caller made sure). */
Callback *centre_create_callback(Centre *c, const CallbackNew *n, Effects *fx);
CallbackResult centre_claim_callback(Centre *c, Callback *cb, const char *agent, KicTime at,
                                     Effects *fx);
CallbackResult centre_complete_callback(Centre *c, Callback *cb, const char *agent,
                                        CallbackOutcome outcome, KicTime at, Effects *fx);
/* Start-up: a callback read from storage (taken over). */
void centre_load_callback(Centre *c, Callback *cb);
/* The care team a queue's IVR callbacks go to (default: the queue). */
void centre_set_queue_team(Centre *c, const char *queue, const char *team);
/* Forgets every queue's team (before the mapping is read again whole). */
void centre_clear_queue_teams(Centre *c);
/* Iteration over callbacks: *pos starts at 0. */
bool centre_next_callback(const Centre *c, size_t *pos, Callback **out);
/* How many callbacks `agent` holds claimed. */
size_t centre_claims_of(const Centre *c, const char *agent);
/* Opens again every callback `agent` holds claimed (their user was
 * revoked: nobody else could claim or complete them). How many. */
size_t centre_release_claims(Centre *c, const char *agent, Effects *fx);
/* Sums over the callbacks of one team (NULL: all) for today. */
void centre_callback_sums(const Centre *c, const char *team, KicTime now, CallbackSums *out);

/* Moves "today" to the local day of now (recounting) and forgets calls
 * older than cache_days. Call between batches, never during one. */
void centre_roll_day(Centre *c, KicTime now);

typedef struct QueueSnapshot {
    const char *queue; /* NULL for the total */
    int waiting;
    int callbacks_open, callbacks_overdue;
    double longest_wait_s;
    int agents[AGENT_STATE_COUNT];
    MetricSums today;
    MetricRates rates;
} QueueSnapshot;

typedef struct CentreSnapshot {
    QueueSnapshot total;
    QueueSnapshot *queues; /* sorted by name */
    size_t nqueues;
} CentreSnapshot;

/* The live numbers at `now`. Free with centre_snapshot_free. */
bool centre_snapshot(const Centre *c, KicTime now, CentreSnapshot *out) KIC_MUST_CHECK;
void centre_snapshot_free(CentreSnapshot *s);

#endif
