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
    a->chosen_since = a->since = a->offline_since = a->latest_start = KIC_TIME_NONE;
    for (int i = 0; i < AGENT_OPENED_KEPT; i++)
        a->opened[i].since = KIC_TIME_NONE;
    return a;
}

void agent_free(Agent *a)
{
    if (!a)
        return;
    free(a->id);
    free(a->reason);
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
