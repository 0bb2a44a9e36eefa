/* An agent's state. The agent chooses available, break or offline
 * (agent.state.set); calls overlay it: on a call they are on_call, after
 * their part until the wrap-up they are acw. So the effective state is
 * derived, never stored twice:
 *   on a call                                -> on_call
 *   chose offline                            -> offline
 *   their latest part ended, not wrapped up  -> acw
 *   otherwise                                -> what they chose
 * An agent who sets break during ACW is on break after the wrap-up.
 * ACW is owed for the latest part, and for a part that ended after the
 * latest part began (an agent on two contacts at once, a chat beside a
 * call, owes both), each only if it ended after the agent last went
 * offline: taking the next call or logging off ends an unwrapped ACW
 * (the wrap-up may still come later). An agent offline
 * when their part ended (chosen, or never having chosen) is in that ACW
 * from when they log in (choose another state), not from the part's end:
 * they were offline until then.
 * The stored intervals (agent_states) are the changes of
 * the effective state as kicd sees them, dated by the facts (an answer's
 * time, a part's end), not by arrival. Events in time order, or late
 * events of the agent's latest part (also its end before its answer: the
 * talk is stored from the answer), give the true history; a part whose
 * events all arrive after a later part of the same agent (a backlog sent
 * out of order) changes no current state and leaves no interval. So
 * reports do not read them: occupancy comes from the calls' legs and the
 * choices as made (server/report.c presence_sql), whatever the order.
 * A wrap-up may come after choices the agent made while it was owed (a
 * desktop that queued its work offline, or sent it late): the ACW then
 * ended at the wrap-up's time, and the agent was in the choices of that
 * moment and after. So an agent keeps its latest choices, dated.
 * Calls and their sums do not depend on the order (tests/integration/
 * test_order.c). */
#ifndef AGENT_H
#define AGENT_H

#include "kic.h"
#include "kictime.h"

#define AGENT_STATES(X)                                                                   \
    X(AS_OFFLINE, "offline") X(AS_AVAILABLE, "available") X(AS_RINGING, "ringing")        \
    X(AS_ON_CALL, "on_call") X(AS_ACW, "acw") X(AS_BREAK, "break")

#define AGENT_STATE_ITEM(name, text) name,
typedef enum { AGENT_STATES(AGENT_STATE_ITEM) AGENT_STATE_COUNT } AgentState;
#undef AGENT_STATE_ITEM

extern const char *const agent_state_names[]; /* NULL-terminated */
/* The states an agent may choose, NULL-terminated. */
extern const char *const agent_choosable_names[];
/* Index in agent_choosable_names -> AgentState. */
AgentState agent_choosable_state(int index);

struct Call;

#define AGENT_OPENED_KEPT 4
#define AGENT_PARTS_KEPT 16
#define AGENT_CHOICES_KEPT 8

/* One agent.state.set: the state chosen, from when, and why. */
typedef struct AgentChoice {
    AgentState state;
    KicTime since;
    char *reason; /* may be NULL */
} AgentChoice;

typedef struct Agent {
    char *id;
    AgentState chosen;     /* offline, available or break */
    KicTime chosen_since;
    char *reason;          /* of the chosen state, may be NULL */
    KicTime offline_since; /* last choice of offline; KIC_TIME_NONE if never */
    /* Since when they are logged in: their first choice other than offline
     * after the latest offline (or ever). KIC_TIME_NONE while offline, or
     * not known (loaded from a row that does not say). A part that ended
     * while they were offline is owed ACW from this moment on. */
    KicTime login_since;
    int open_legs;         /* calls they are on now */
    bool acw_pending;      /* their latest part ended, wrap-up owed */
    AgentState state;      /* effective, see above */
    KicTime since;
    /* Kept by the centre: the call of their latest part, and the calls of
     * their latest few parts (latest_call among them), which may overlap. */
    struct Call *latest_call;
    KicTime latest_start;
    struct Call *parts[AGENT_PARTS_KEPT];
    int nparts;
    /* The intervals their latest transitions opened, and in which batch
     * (Effects.batch): the same state from the same instant again (two
     * calls answered at one instant, a late event re-deriving a call) is
     * one interval, not sent again if that batch is this one or stored. */
    struct {
        AgentState state;
        KicTime since;
        uint64_t batch;
    } opened[AGENT_OPENED_KEPT];
    unsigned opened_next;
    /* The latest instant an interval was opened from in a batch before
     * (opened_latest_here: in batch opened_batch): one from then or before
     * that is not in opened[] may still be stored by a batch long gone,
     * and is sent marked (a late call re-deriving what followed it). */
    KicTime opened_latest_before, opened_latest_here;
    uint64_t opened_batch;
    /* Their latest choices, oldest first. complete: none older was
     * forgotten, so before the first they were offline (a new agent);
     * not so once one is dropped, or for an agent loaded from storage
     * (which keeps the latest choice only). */
    AgentChoice choices[AGENT_CHOICES_KEPT];
    int nchoices;
    bool choices_complete;
} Agent;

Agent *agent_new(const char *id);
void agent_free(Agent *a);

AgentState agent_effective(const Agent *a);

/* Remembers a choice, in time order, forgetting the oldest when full.
 * Returns false only when memory ran out (nothing changed). */
bool agent_remember_choice(Agent *a, AgentState state, KicTime since, const char *reason) KIC_MUST_CHECK;
/* The choice in effect at `at`: the latest made at or before it; the
 * offline of a new agent before its first; NULL when not known. */
const AgentChoice *agent_choice_at(const Agent *a, KicTime at);

#endif
