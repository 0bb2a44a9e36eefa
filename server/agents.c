/* Agent methods: agent.state.set for an agent's desktop (a Record, so the
 * choice is durable before it is answered) and agents.list for
 * supervisors (from memory). */
#include <stdlib.h>
#include <string.h>

#include "methods.h"
#include "params.h"
#include "tenants.h"
#include "writer.h"

void method_agent_state_set(Conn *c, Reply *r, json_t *params, const Method *m)
{
    int state;
    const char *reason;
    RpcError err = {0};
    if (!c->sess.agent[0]) {
        reply_errorf(r, RPC_FORBIDDEN, "user %s is not an agent", c->sess.user);
        return;
    }
    if (!param_enum(params, "state", true, agent_choosable_names, &state, &err) ||
        !param_string(params, "reason", false, KIC_MAX_FIELD, &reason, &err)) {
        reply_error(r, &err);
        rpc_error_clear(&err);
        return;
    }
    Record *rec = record_new(REC_AGENT_STATE, c->sess.tenant, r);
    snprintf(rec->state.agent, sizeof(rec->state.agent), "%s", c->sess.agent);
    rec->state.chosen = agent_choosable_state(state);
    rec->state.reason = reason ? strdup(reason) : NULL;
    rec->state.at = server_now();
    writer_submit(c->srv->writer, rec);
}

static json_t *agent_json(const Agent *a)
{
    char since[40] = "";
    if (a->since != KIC_TIME_NONE)
        time_format_local(a->since, since, sizeof(since));
    return json_pack("{s:s, s:s, s:o, s:s, s:o, s:i}", "agent", a->id, "state",
                     agent_state_names[a->state], "since",
                     since[0] ? json_string(since) : json_null(), "chosen",
                     agent_state_names[a->chosen], "reason",
                     a->reason ? json_string(a->reason) : json_null(), "calls", a->open_legs);
}

static int by_id(const void *a, const void *b)
{
    return strcmp((*(Agent *const *)a)->id, (*(Agent *const *)b)->id);
}

void method_agents_list(Conn *c, Reply *r, json_t *params, const Method *m)
{
    Centre *centre = c->sess.tenant->centre;
    size_t n = 0, cap = 64, pos = 0;
    Agent **list = malloc(cap * sizeof(Agent *));
    Agent *a;
    while (list && centre_next_agent(centre, &pos, &a)) {
        if (n == cap) {
            cap *= 2;
            Agent **nl = realloc(list, cap * sizeof(Agent *));
            if (!nl)
                break;
            list = nl;
        }
        list[n++] = a;
    }
    if (!list) {
        reply_errorf(r, RPC_INTERNAL, "internal error: out of memory");
        return;
    }
    qsort(list, n, sizeof(Agent *), by_id);
    json_t *agents = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(agents, agent_json(list[i]));
    free(list);
    reply_result(r, json_pack("{s:o}", "agents", agents));
}
