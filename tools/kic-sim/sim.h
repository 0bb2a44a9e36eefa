/* The simulation engine: a discrete-event model of a KIC (callers, IVR,
 * queues, agents with shifts and breaks, transfers, callbacks, repeats)
 * that turns into a time-ordered stream of protocol actions: which
 * connection (the bridge or an agent), which method, which params as JSON
 * text. No sockets and no clock: the same config and seed give the same
 * stream, byte for byte, on a given build.
 *
 * Two clocks: model time drives the model (the arrival curve, shifts, the
 * calendar); the stamp is what goes into `at`. In bulk mode they are the
 * same; in live mode the stamp runs `speed` times slower, from now. */
#ifndef SIM_H
#define SIM_H

#include "kictime.h"
#include "model.h"

/* name, sent by the bridge (else by an agent), carries a time of its own */
#define SIM_METHODS(X)                                                    \
    X(SM_OFFERED, "call.offered", true, true)                             \
    X(SM_ANSWERED, "call.answered", true, true)                           \
    X(SM_HELD, "call.held", true, true)                                   \
    X(SM_RESUMED, "call.resumed", true, true)                             \
    X(SM_TRANSFERRED, "call.transferred", true, true)                     \
    X(SM_ABANDONED, "call.abandoned", true, true)                         \
    X(SM_ENDED, "call.ended", true, true)                                 \
    X(SM_CB_REQUESTED, "callback.requested", true, true)                  \
    X(SM_WRAPUP, "call.wrapup", false, true)                              \
    X(SM_STATE, "agent.state.set", false, false)                          \
    X(SM_CB_CREATE, "callback.create", false, false)                      \
    X(SM_CB_CLAIM, "callback.claim", false, false)                        \
    X(SM_CB_COMPLETE, "callback.complete", false, false)

#define SIM_METHOD_ENUM(name, text, bridge, timed) name,
typedef enum { SIM_METHODS(SIM_METHOD_ENUM) SM_COUNT } SimMethod;
#undef SIM_METHOD_ENUM

extern const char *const sim_method_names[];
bool sim_method_is_bridge(SimMethod m);
/* Whether the method carries its own time (`at`); kicd stamps the others
 * with its clock when they arrive. */
bool sim_method_is_timed(SimMethod m);

#define SIM_BRIDGE (-1)

typedef struct SimAction {
    uint64_t seq;          /* 1, 2, ... in stream order */
    KicTime t;             /* model time */
    KicTime stamp;         /* the stamped instant (its `at` when it has one) */
    SimMethod method;
    int agent;             /* index of the agent who sends it; SIM_BRIDGE for the bridge */
    char *params;          /* JSON object text; owned by the action */
    uint64_t after;        /* 0, or a bridge action (seq) kicd must have acknowledged
                            * before this is sent: wrap-ups wait for the end of the
                            * agent's part, claims for the callback request */
    uint64_t follows;      /* 0, or an earlier agent action (seq) kicd must have answered
                            * first: the previous attempt on the same callback, made by
                            * another agent over another connection */
    uint64_t callback_ref; /* claim/complete of a callback an agent created: the seq of
                            * that callback.create, whose answer names the callback; the
                            * params lack "callback_id" and the sender puts it first */
    uint64_t contact;      /* the contact's number for call methods (0 otherwise) */
} SimAction;

void sim_action_clear(SimAction *a);

typedef struct SimQueueStats {
    uint64_t calls, offered, answered, abandoned, transferred;
    uint64_t to_care_team, to_queue, to_external;
} SimQueueStats;

/* What the emitted stream holds so far (work beyond the horizon is not
 * counted). */
typedef struct SimStats {
    uint64_t calls;            /* inbound calls reaching the IVR */
    uint64_t contacts;         /* call.offered: queue contacts (incl. queue transfers) */
    uint64_t answered, abandoned, short_abandoned, transferred;
    uint64_t repeats;          /* contacts of a caller who called in the window before */
    uint64_t withheld;         /* contacts without a number */
    uint64_t ivr_callbacks, agent_callbacks, callback_attempts, callbacks_reached;
    uint64_t wrapups, resolved;
    uint64_t shifts, breaks;
    uint64_t actions, by_method[SM_COUNT];
    double wait_s_answered;    /* sum of waits of answered contacts */
    SimQueueStats queue[SIM_MAX_QUEUES];
} SimStats;

typedef struct SimConfig {
    const SimModel *model;        /* NULL: sim_model_default */
    uint64_t seed;
    KicTime start;                /* model time of the start */
    KicTime end;                  /* model horizon, exclusive; KIC_TIME_NONE: endless */
    KicTime stamp_origin;         /* the stamp of `start` */
    double speed;                 /* model seconds per stamped second (bulk: 1) */
    double calls_per_year;
    bool summer_peak;
    int agents;                   /* pool size; 0: model_default_pool() */
    const char *const *agent_ids; /* `agents` ids (borrowed); NULL: agent-01, agent-02, ... */
    const char *id_prefix;        /* call ids are "<prefix>-<n>" */
    const char *team;             /* the team of callbacks agents create */
    bool untimed;                 /* emit agent.state.set and the callback flow (requested,
                                   * create, claim, complete): kicd stamps all but the request
                                   * on arrival, so a back-fill leaves them out, and the
                                   * requests with them */
} SimConfig;

typedef struct Sim Sim;

/* NULL when the config is unusable (err says why) or memory ran out. */
Sim *sim_new(const SimConfig *cfg, char *err, size_t errlen) KIC_MUST_CHECK;
void sim_free(Sim *s);

/* The next action in stream order; false at the horizon (or after
 * sim_stop's actions). The action's params become the caller's. */
bool sim_next(Sim *s, SimAction *out) KIC_MUST_CHECK;

/* Ends the run at model time t: actions emitted after t and not handed
 * out yet are dropped, and every agent on duty logs off (at t, or at the
 * model time reached if that is later). sim_next then returns what is
 * left, then false. */
void sim_stop(Sim *s, KicTime t);

const SimStats *sim_stats(const Sim *s);
/* The model time reached (of the last action, or of the last model event). */
KicTime sim_time(const Sim *s);
int sim_agent_count(const Sim *s);
const char *sim_agent_id(const Sim *s, int i);
/* The stamp of model time t. */
KicTime sim_stamp(const Sim *s, KicTime t);

#endif
