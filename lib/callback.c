/* Callback lifecycle (see callback.h). */
#include "callback.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CALLBACK_ENUM_TEXT(name, text) text,
const char *const callback_status_names[] = {CALLBACK_STATUSES(CALLBACK_ENUM_TEXT) NULL};
const char *const callback_outcome_names[] = {CALLBACK_OUTCOMES(CALLBACK_ENUM_TEXT) NULL};
#undef CALLBACK_ENUM_TEXT

static char *dup_opt(const char *s)
{
    if (!s)
        return NULL;
    char *d = strdup(s);
    if (!d)
        abort();
    return d;
}

Callback *callback_new(const CallbackNew *n)
{
    Callback *cb = calloc(1, sizeof(*cb));
    if (!cb)
        abort();
    cb->id = dup_opt(n->id);
    cb->team = dup_opt(n->team);
    cb->queue = dup_opt(n->queue);
    cb->call_id = dup_opt(n->call_id);
    cb->caller_key = dup_opt(n->caller_key);
    cb->created_by = dup_opt(n->created_by);
    snprintf(cb->number, sizeof(cb->number), "%s", n->number ? n->number : "");
    cb->from_ivr = n->from_ivr;
    cb->status = CB_OPEN;
    cb->created_at = n->created_at;
    cb->due_by = n->due_by;
    cb->claimed_at = cb->last_attempt = cb->closed_at = KIC_TIME_NONE;
    cb->outcome = -1;
    return cb;
}

void callback_free(Callback *cb)
{
    if (!cb)
        return;
    free(cb->id);
    free(cb->team);
    free(cb->queue);
    free(cb->call_id);
    free(cb->caller_key);
    free(cb->created_by);
    free(cb->claimed_by);
    free(cb);
}

bool callback_is_open(const Callback *cb)
{
    return cb->status == CB_OPEN || cb->status == CB_CLAIMED;
}

bool callback_overdue(const Callback *cb, KicTime now)
{
    return callback_is_open(cb) && now > cb->due_by;
}

static bool held_by_other(const Callback *cb, const char *agent)
{
    return cb->status == CB_CLAIMED && cb->claimed_by && strcmp(cb->claimed_by, agent) != 0;
}

/* An agent's action is dated by kicd's clock, the request by the
 * platform's, which may run ahead (within event_skew_s): no action comes
 * before the request, or the time to complete it would be negative. */
static KicTime not_before_request(const Callback *cb, KicTime at)
{
    return at < cb->created_at ? cb->created_at : at;
}

bool callback_release(Callback *cb)
{
    if (cb->status != CB_CLAIMED)
        return false;
    cb->status = CB_OPEN;
    free(cb->claimed_by);
    cb->claimed_by = NULL;
    cb->claimed_at = KIC_TIME_NONE;
    return true;
}

CallbackResult callback_claim(Callback *cb, const char *agent, KicTime at)
{
    at = not_before_request(cb, at);
    if (!callback_is_open(cb))
        return CALLBACK_CLOSED;
    if (held_by_other(cb, agent))
        return CALLBACK_HELD_BY_OTHER;
    if (cb->status == CB_CLAIMED)
        return CALLBACK_OK; /* already theirs: claiming again changes nothing */
    cb->status = CB_CLAIMED;
    free(cb->claimed_by);
    cb->claimed_by = dup_opt(agent);
    cb->claimed_at = at;
    return CALLBACK_OK;
}

CallbackResult callback_complete(Callback *cb, const char *agent, CallbackOutcome outcome,
                                 KicTime at)
{
    at = not_before_request(cb, at);
    if (!callback_is_open(cb))
        return CALLBACK_CLOSED;
    if (held_by_other(cb, agent))
        return CALLBACK_HELD_BY_OTHER;
    if (outcome != CBO_CANCELLED) {
        cb->attempts++;
        cb->last_attempt = at;
    }
    if (outcome == CBO_NO_ANSWER) {
        /* Kept open, and free for anyone to try next. */
        cb->status = CB_OPEN;
        free(cb->claimed_by);
        cb->claimed_by = NULL;
        cb->claimed_at = KIC_TIME_NONE;
        return CALLBACK_OK;
    }
    cb->status = outcome == CBO_REACHED ? CB_DONE : CB_CANCELLED;
    cb->outcome = (int)outcome;
    cb->closed_at = at;
    if (!cb->claimed_by)
        cb->claimed_by = dup_opt(agent);
    cb->number[0] = '\0'; /* nobody needs to call it any more */
    return CALLBACK_OK;
}

static bool in_day(KicTime t, KicTime start, KicTime end)
{
    return t != KIC_TIME_NONE && t >= start && t < end;
}

void callback_add_to_sums(CallbackSums *s, const Callback *cb, KicTime now, KicTime day_start,
                          KicTime day_end)
{
    if (callback_is_open(cb)) {
        s->open++;
        if (callback_overdue(cb, now))
            s->overdue++;
    }
    if (in_day(cb->created_at, day_start, day_end))
        s->requested_today++;
    if (in_day(cb->last_attempt, day_start, day_end) || in_day(cb->closed_at, day_start, day_end))
        s->attempts_today += cb->attempts;
    if (!in_day(cb->closed_at, day_start, day_end))
        return;
    if (cb->status == CB_CANCELLED) {
        s->cancelled_today++;
        return;
    }
    s->completed_today++;
    if (cb->closed_at <= cb->due_by)
        s->completed_on_time++;
    s->complete_us += cb->closed_at - cb->created_at;
}

double callback_mean_complete_s(const CallbackSums *s)
{
    return s->completed_today ? (double)s->complete_us / (double)s->completed_today / 1e6 : NAN;
}
