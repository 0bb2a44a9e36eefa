/* Agent state derivation (see agent.h). */
#include "agent.h"

#include <stdlib.h>
#include <string.h>

#define AGENT_STATE_TEXT(name, text) text,
const char *const agent_state_names[] = {AGENT_STATES(AGENT_STATE_TEXT) NULL};
#undef AGENT_STATE_TEXT

const char *const agent_choosable_names[] = {"available", "break", "offline", NULL};

AgentState agent_choosable_state(int index)
{
    static const AgentState states[] = {AS_AVAILABLE, AS_BREAK, AS_OFFLINE};
    return states[index];
}

Agent *agent_new(const char *id)
{
    Agent *a = calloc(1, sizeof(*a));
    if (!a || !(a->id = strdup(id))) {
        free(a);
        return NULL;
    }
    a->chosen = AS_OFFLINE;
    a->state = AS_OFFLINE;
    a->chosen_since = a->since = a->offline_since = a->login_since = a->latest_start =
        a->opened_latest_before = a->opened_latest_here = KIC_TIME_NONE;
    for (int i = 0; i < AGENT_OPENED_KEPT; i++)
        a->opened[i].since = KIC_TIME_NONE;
    a->choices_complete = true;
    return a;
}

void agent_free(Agent *a)
{
    if (!a)
        return;
    free(a->id);
    free(a->reason);
    for (int i = 0; i < a->nchoices; i++)
        free(a->choices[i].reason);
    free(a);
}

AgentState agent_effective(const Agent *a)
{
    if (a->open_legs > 0)
        return AS_ON_CALL;
    if (a->chosen == AS_OFFLINE)
        return AS_OFFLINE;
    if (a->acw_pending)
        return AS_ACW;
    return a->chosen;
}

bool agent_remember_choice(Agent *a, AgentState state, KicTime since, const char *reason)
{
    char *copy = NULL;
    if (reason && !(copy = strdup(reason)))
        return false;
    if (a->nchoices == AGENT_CHOICES_KEPT) {
        free(a->choices[0].reason);
        memmove(&a->choices[0], &a->choices[1], (AGENT_CHOICES_KEPT - 1) * sizeof(AgentChoice));
        a->nchoices--;
        a->choices_complete = false;
    }
    /* in time order: a choice replayed from the journal may be older */
    int i = a->nchoices;
    while (i > 0 && a->choices[i - 1].since > since)
        i--;
    memmove(&a->choices[i + 1], &a->choices[i], (size_t)(a->nchoices - i) * sizeof(AgentChoice));
    a->choices[i] = (AgentChoice){state, since, copy};
    a->nchoices++;
    return true;
}

const AgentChoice *agent_choice_at(const Agent *a, KicTime at)
{
    static const AgentChoice never_chosen = {AS_OFFLINE, KIC_TIME_NONE, NULL};
    for (int i = a->nchoices - 1; i >= 0; i--)
        if (a->choices[i].since <= at)
            return &a->choices[i];
    return a->choices_complete ? &never_chosen : NULL;
}
