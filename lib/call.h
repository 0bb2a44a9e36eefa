/* A call (contact) derived from all its events, ordered by `at` (then
 * type, then event_id), and from its agents' wrap-ups. The derivation is
 * a pure function of that set, so arrival order, duplicates and late
 * events cannot change the result. DESIGN.md "The domain, precisely".
 *
 * Rules beyond the design text:
 * - The first call.offered describes the contact; later ones are ignored.
 * - Each call.answered starts a leg for its agent (a transfer to an agent
 *   may bring a second); the first leg is the contact's agent and defines
 *   answered_at, talk, hold and ACW. A leg ends at that agent's
 *   call.transferred, else at call.ended.
 * - A contact that ends without being answered was abandoned (at its
 *   end), whether or not a call.abandoned came; call.abandoned after an
 *   answer is ignored.
 * - Hold counts only inside a leg; a hold still open when the leg ends
 *   ends with it. A held and a resumed of one instant are a hold of no
 *   length, unless the leg is already on hold: then the resume ends that
 *   hold and the held starts the next. Durations never go negative. */
#ifndef CALL_H
#define CALL_H

#include "event.h"
#include "wrapup.h"

#define CALL_MAX_LEGS 8

typedef struct CallLeg {
    const char *agent;
    KicTime answered_at;
    KicTime end_at;     /* KIC_TIME_NONE while the agent is on the call */
    bool by_transfer;   /* ended by this agent's call.transferred */
    int64_t hold_us;
    KicTime held_since; /* KIC_TIME_NONE when not on hold */
    const Wrapup *wrapup;
} CallLeg;

typedef struct CallSummary {
    const char *call_id;

    bool offered;
    KicTime offered_at;
    const char *queue, *location, *transferred_from, *callback_id;
    const char *caller_key; /* NULL: no key (withheld, anonymous, absent) */
    bool caller_withheld;
    Channel channel;
    Direction direction;

    bool answered;
    KicTime answered_at;
    const char *agent;

    bool abandoned;
    KicTime abandoned_at;

    bool ended;
    KicTime ended_at;
    EndedBy ended_by;

    bool transferred; /* any transfer, counted once */
    KicTime transferred_at;
    const char *transfer_target;
    TargetKind transfer_kind;
    TransferMode transfer_mode;

    int64_t wait_us;    /* offered -> answered/abandoned; valid when either */
    bool part_ended;    /* the first agent's part is over */
    KicTime part_end_at;
    int64_t talk_us;    /* first leg, minus hold; valid when part_ended */
    int64_t hold_us;

    bool wrapped;       /* the first agent wrapped up */
    KicTime wrapped_at;
    int64_t acw_us;     /* valid when wrapped and part_ended */
    const char *category;
    bool resolved;
    int caller_type;    /* CallerType, -1 unknown */
    int follow_up;      /* FollowUp, -1 unknown */

    bool followed_by_repeat; /* handed in: another contact within the window */
    bool complete;           /* offered and over (abandoned or ended) */
    int nevents;
    int nlegs;
    CallLeg legs[CALL_MAX_LEGS];
} CallSummary;

typedef struct CallInput {
    const Event **events; /* sorted in place by call_derive */
    size_t nevents;
    const Wrapup *const *wrapups;
    size_t nwrapups;
    bool followed_by_repeat;
} CallInput;

void call_derive(CallInput *in, CallSummary *out);

/* Waiting in its queue: offered, and not yet answered, abandoned, ended
 * or transferred (a platform may move a caller on before anyone answers,
 * e.g. a queue overflowing to another; the bridge then offers a new
 * contact and may never end this one). */
bool call_waiting(const CallSummary *c);
/* The leg of an agent (the latest), or NULL. */
const CallLeg *call_leg_of(const CallSummary *c, const char *agent);
/* The same, when it is the part of the person who holds the agent id
 * since holder_since (KIC_TIME_NONE: since ever): an agent id is handed
 * out again after its user is revoked, and a part answered before the
 * new holder got it was someone else's. NULL otherwise. */
const CallLeg *call_leg_of_holder(const CallSummary *c, const char *agent, KicTime holder_since);

#endif
