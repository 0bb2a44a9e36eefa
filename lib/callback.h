/* Callback requests (terugbelverzoeken): a caller asked to be called
 * back, from the IVR (callback.requested) or through an agent
 * (callback.create), by a due time. Lifecycle:
 *   open --claim--> claimed --complete(reached)--> done
 *                           --complete(cancelled)--> cancelled
 *                           --complete(no_answer)--> open (attempt counted)
 * An agent may complete an open callback without claiming it first. A
 * claim by another agent, or any action on a closed callback, is a
 * conflict. The plain number is kept only while the callback is open or
 * claimed, and cleared when it closes. Overdue: still open (or claimed)
 * after due_by. */
#ifndef CALLBACK_H
#define CALLBACK_H

#include "caller.h"
#include "kictime.h"
#include "metrics.h"

#define CALLBACK_STATUSES(X) \
    X(CB_OPEN, "open") X(CB_CLAIMED, "claimed") X(CB_DONE, "done") X(CB_CANCELLED, "cancelled")
#define CALLBACK_OUTCOMES(X) \
    X(CBO_REACHED, "reached") X(CBO_NO_ANSWER, "no_answer") X(CBO_CANCELLED, "cancelled")

#define CALLBACK_ENUM_ITEM(name, text) name,
typedef enum { CALLBACK_STATUSES(CALLBACK_ENUM_ITEM) CALLBACK_STATUS_COUNT } CallbackStatus;
typedef enum { CALLBACK_OUTCOMES(CALLBACK_ENUM_ITEM) CALLBACK_OUTCOME_COUNT } CallbackOutcome;
#undef CALLBACK_ENUM_ITEM

extern const char *const callback_status_names[];  /* NULL-terminated */
extern const char *const callback_outcome_names[]; /* NULL-terminated */

typedef struct Callback {
    int64_t tenant; /* set by the centre that holds it */
    char *id;
    bool from_ivr;
    char *team;
    char *queue;       /* may be NULL */
    char *call_id;     /* may be NULL */
    char *caller_key;  /* may be NULL */
    char *created_by;  /* the agent, NULL from the IVR */
    char number[CALLER_E164_MAX]; /* "" once closed */
    CallbackStatus status;
    KicTime created_at, due_by;
    char *claimed_by;  /* NULL when not claimed */
    KicTime claimed_at, last_attempt, closed_at;
    int attempts;
    int outcome;       /* CallbackOutcome of the closing action, -1 while open */
    bool dirty;        /* its row must be written (kept by the centre) */
    bool fresh;        /* created and not yet announced to its team */
} Callback;

typedef struct CallbackNew {
    const char *id, *team, *queue, *call_id, *caller_key, *created_by, *number;
    bool from_ivr;
    KicTime created_at, due_by;
} CallbackNew;

Callback *callback_new(const CallbackNew *n);
void callback_free(Callback *cb);

typedef enum {
    CALLBACK_OK,
    CALLBACK_HELD_BY_OTHER, /* -32009: claimed by another agent */
    CALLBACK_CLOSED,        /* -32009: already done or cancelled */
} CallbackResult;

CallbackResult callback_claim(Callback *cb, const char *agent, KicTime at);
CallbackResult callback_complete(Callback *cb, const char *agent, CallbackOutcome outcome,
                                 KicTime at);

bool callback_is_open(const Callback *cb);
/* A claimed callback is open again, for anyone (its claimer's user was
 * revoked). false when it was not claimed. */
bool callback_release(Callback *cb);
bool callback_overdue(const Callback *cb, KicTime now);

/* A team's callbacks, for callbacks.summary and the wallboard. Counts of
 * open and overdue are now; requested and completed are of the day
 * [day_start, day_end). */
typedef struct CallbackSums {
    int64_t open, overdue;
    int64_t requested_today, completed_today, completed_on_time, cancelled_today;
    int64_t complete_us; /* sum of created -> done, over completed_today */
    int64_t attempts_today; /* attempts of callbacks closed or tried today */
} CallbackSums;

void callback_add_to_sums(CallbackSums *s, const Callback *cb, KicTime now, KicTime day_start,
                          KicTime day_end);
/* Mean time to complete in seconds, NaN when none. */
double callback_mean_complete_s(const CallbackSums *s);

#endif
