/* Call derivation: sort the events, walk them once, then compute the
 * durations of the first leg. See call.h for the rules. */
#include "call.h"

#include <stdlib.h>
#include <string.h>

static int cmp_events(const void *a, const void *b)
{
    return event_compare(*(const Event *const *)a, *(const Event *const *)b);
}

static CallLeg *open_leg_of(CallSummary *c, const char *agent)
{
    for (int i = c->nlegs - 1; i >= 0; i--)
        if (c->legs[i].end_at == KIC_TIME_NONE && strcmp(c->legs[i].agent, agent) == 0)
            return &c->legs[i];
    return NULL;
}

/* The leg a hold applies to: the most recently answered one still open. */
static CallLeg *current_leg(CallSummary *c)
{
    for (int i = c->nlegs - 1; i >= 0; i--)
        if (c->legs[i].end_at == KIC_TIME_NONE)
            return &c->legs[i];
    return NULL;
}

static void end_leg(CallLeg *leg, KicTime at, bool by_transfer)
{
    if (leg->held_since != KIC_TIME_NONE) {
        leg->hold_us += at > leg->held_since ? at - leg->held_since : 0;
        leg->held_since = KIC_TIME_NONE;
    }
    leg->end_at = at;
    leg->by_transfer = by_transfer;
}

static void on_offered(CallSummary *c, const Event *e)
{
    if (c->offered)
        return;
    c->offered = true;
    c->offered_at = e->at;
    c->queue = e->queue;
    c->location = e->location;
    c->transferred_from = e->transferred_from;
    c->callback_id = e->callback_id;
    c->caller_key = e->caller_key;
    c->caller_withheld = e->caller_withheld;
    c->channel = e->channel;
    c->direction = e->direction;
}

static void on_answered(CallSummary *c, const Event *e)
{
    if (c->ended || open_leg_of(c, e->agent) || c->nlegs == CALL_MAX_LEGS)
        return;
    CallLeg *leg = &c->legs[c->nlegs++];
    memset(leg, 0, sizeof(*leg));
    leg->agent = e->agent;
    leg->answered_at = e->at;
    leg->end_at = KIC_TIME_NONE;
    leg->held_since = KIC_TIME_NONE;
    if (!c->answered) {
        c->answered = true;
        c->answered_at = e->at;
        c->agent = e->agent;
    }
}

static void on_held(CallSummary *c, const Event *e, bool hold)
{
    CallLeg *leg = current_leg(c);
    if (!leg)
        return;
    if (hold && leg->held_since == KIC_TIME_NONE) {
        leg->held_since = e->at;
    } else if (!hold && leg->held_since != KIC_TIME_NONE) {
        leg->hold_us += e->at - leg->held_since;
        leg->held_since = KIC_TIME_NONE;
    }
}

/* Events of one instant are sorted held before resumed, so a hold of no
 * length reads as one. But where the leg is already on hold, a resume at
 * the same instant ends that hold and the hold then starts the next one:
 * handled the other way round, the second hold would be lost. Swaps the
 * first such resume of the instant in front of the held at events[i]. */
static void resume_first(CallSummary *c, const Event **events, size_t n, size_t i)
{
    CallLeg *leg = current_leg(c);
    if (!leg || leg->held_since == KIC_TIME_NONE)
        return;
    for (size_t j = i + 1; j < n && events[j]->at == events[i]->at; j++) {
        if (events[j]->type == EV_RESUMED) {
            const Event *held = events[i];
            events[i] = events[j];
            events[j] = held;
            return;
        }
    }
}

static void on_transferred(CallSummary *c, const Event *e)
{
    CallLeg *leg = open_leg_of(c, e->agent);
    if (leg)
        end_leg(leg, e->at, true);
    if (!c->transferred) {
        c->transferred = true;
        c->transferred_at = e->at;
        c->transfer_target = e->target;
        c->transfer_kind = e->target_kind;
        c->transfer_mode = e->mode;
    }
}

static void on_ended(CallSummary *c, const Event *e)
{
    if (c->ended)
        return;
    c->ended = true;
    c->ended_at = e->at;
    c->ended_by = e->by;
    for (int i = 0; i < c->nlegs; i++)
        if (c->legs[i].end_at == KIC_TIME_NONE)
            end_leg(&c->legs[i], e->at, false);
}

static void attach_wrapups(CallSummary *c, const CallInput *in)
{
    for (size_t w = 0; w < in->nwrapups; w++) {
        const Wrapup *wu = in->wrapups[w];
        for (int i = 0; i < c->nlegs; i++)
            if (strcmp(c->legs[i].agent, wu->agent) == 0 && !c->legs[i].wrapup)
                c->legs[i].wrapup = wu;
    }
}

static int64_t nonneg(int64_t v)
{
    return v > 0 ? v : 0;
}

static void first_leg_figures(CallSummary *c)
{
    if (c->nlegs == 0)
        return;
    const CallLeg *leg = &c->legs[0];
    c->hold_us = leg->hold_us;
    if (leg->end_at != KIC_TIME_NONE) {
        c->part_ended = true;
        c->part_end_at = leg->end_at;
        c->talk_us = nonneg(leg->end_at - leg->answered_at - leg->hold_us);
    }
    if (leg->wrapup) {
        c->wrapped = true;
        c->wrapped_at = leg->wrapup->at;
        c->category = leg->wrapup->category;
        c->resolved = leg->wrapup->resolved;
        c->caller_type = leg->wrapup->caller_type;
        c->follow_up = leg->wrapup->follow_up;
        /* One wrap-up per agent: it follows their last part, also when
         * the call came back to them (the reply to call.wrapup says so). */
        const CallLeg *last = call_leg_of(c, leg->agent);
        if (last->end_at != KIC_TIME_NONE)
            c->acw_us = wrapup_acw_us(leg->wrapup->at, last->end_at);
    }
}

void call_derive(CallInput *in, CallSummary *c)
{
    memset(c, 0, sizeof(*c));
    c->caller_type = -1;
    c->follow_up = -1;
    c->ended_by = BY_UNKNOWN;
    c->followed_by_repeat = in->followed_by_repeat;
    c->nevents = (int)in->nevents;
    if (in->nevents > 1)
        qsort(in->events, in->nevents, sizeof(Event *), cmp_events);
    for (size_t i = 0; i < in->nevents; i++) {
        if (in->events[i]->type == EV_HELD)
            resume_first(c, in->events, in->nevents, i);
        const Event *e = in->events[i];
        if (!c->call_id)
            c->call_id = e->call_id;
        switch (e->type) {
        case EV_OFFERED: on_offered(c, e); break;
        case EV_ANSWERED: on_answered(c, e); break;
        case EV_HELD: on_held(c, e, true); break;
        case EV_RESUMED: on_held(c, e, false); break;
        case EV_TRANSFERRED: on_transferred(c, e); break;
        case EV_ABANDONED:
            if (!c->answered && !c->abandoned) {
                c->abandoned = true;
                c->abandoned_at = e->at;
            }
            break;
        case EV_ENDED: on_ended(c, e); break;
        default: break;
        }
    }
    if (c->answered)
        c->abandoned = false; /* an answer outweighs a contradicting abandon */
    if (c->ended && !c->answered && !c->abandoned) {
        c->abandoned = true;
        c->abandoned_at = c->ended_at;
    }
    if (c->abandoned && c->ended && c->ended_at < c->abandoned_at)
        c->abandoned_at = c->ended_at; /* the caller was gone by the end */
    if (c->offered && c->answered)
        c->wait_us = nonneg(c->answered_at - c->offered_at);
    else if (c->offered && c->abandoned)
        c->wait_us = nonneg(c->abandoned_at - c->offered_at);
    attach_wrapups(c, in);
    first_leg_figures(c);
    c->complete = c->offered && (c->abandoned || c->ended);
}

bool call_waiting(const CallSummary *c)
{
    return c->offered && !c->answered && !c->abandoned && !c->ended && !c->transferred;
}

const CallLeg *call_leg_of(const CallSummary *c, const char *agent)
{
    for (int i = c->nlegs - 1; i >= 0; i--)
        if (strcmp(c->legs[i].agent, agent) == 0)
            return &c->legs[i];
    return NULL;
}

const CallLeg *call_leg_of_holder(const CallSummary *c, const char *agent, KicTime holder_since)
{
    const CallLeg *leg = call_leg_of(c, agent);
    if (leg && holder_since != KIC_TIME_NONE && leg->answered_at < holder_since)
        return NULL;
    return leg;
}
