/* The method table and the path from a line to a handler. Order of checks
 * (PROTOCOL.md): JSON (-32700), JSON-RPC shape (-32600), logged in
 * (-32001), method exists (-32601), role (-32003); parameters are the
 * handler's (-32602). */
#include "dispatch.h"

#include <string.h>

#include "methods.h"
#include "monitor.h"

#define BRIDGE ROLE_BIT(ROLE_BRIDGE)
#define AGENT ROLE_BIT(ROLE_AGENT)
#define ADMIN ROLE_BIT(ROLE_ADMIN)

/* Deny by default: a method lists every role that may call it. */
static const Method methods[] = {
    {"auth.login", ROLE_ANON | ROLES_ANY, method_auth_login, false, true},
    {"auth.logout", ROLES_ANY, method_auth_logout, false, false},
    {"server.info", ROLES_ANY, method_server_info, false, false},
    {"server.ping", ROLES_ANY, method_server_ping, false, false},
    {"call.offered", BRIDGE, method_event, false, false},
    {"call.answered", BRIDGE, method_event, false, false},
    {"call.held", BRIDGE, method_event, false, false},
    {"call.resumed", BRIDGE, method_event, false, false},
    {"call.transferred", BRIDGE, method_event, false, false},
    {"call.abandoned", BRIDGE, method_event, false, false},
    {"call.ended", BRIDGE, method_event, false, false},
    {"callback.requested", BRIDGE, method_event, false, false},
    {"agent.state.set", AGENT, method_agent_state_set, false, false},
    {"call.wrapup", AGENT, method_call_wrapup, false, false},
    {"categories.list", AGENT | ROLES_SUPERVISING, method_categories_list, false, false},
    {"caller.history", AGENT, method_caller_history, false, true},
    {"callback.create", AGENT, method_callback_create, false, false},
    {"callback.list", AGENT, method_callback_list, false, true},
    {"callback.claim", AGENT, method_callback_claim, false, false},
    {"callback.complete", AGENT, method_callback_complete, false, false},
    {"callbacks.summary", ROLES_SUPERVISING, method_callbacks_summary, false, false},
    {"agents.list", ROLES_SUPERVISING, method_agents_list, false, false},
    {"stats.live", ROLES_SUPERVISING, method_stats_live, false, false},
    {"stats.subscribe", ROLES_SUPERVISING, method_stats_subscribe, false, false},
    {"report.query", ROLES_SUPERVISING, method_report_query, false, true},
    {"user.create", ADMIN, method_user_create, true, true},
    {"user.revoke", ADMIN, method_user_revoke, false, true},
    {"audit.query", ADMIN, method_audit_query, false, true},
};

static const Method *dispatch_find(const char *name)
{
    for (size_t i = 0; i < KIC_ARRAY_LEN(methods); i++)
        if (strcmp(methods[i].name, name) == 0)
            return &methods[i];
    return NULL;
}

static void bad_line(Conn *c)
{
    if (++c->bad_lines >= c->srv->cfg.max_bad_lines)
        conn_close_after_flush(c, "%d bad lines in a row", c->bad_lines);
}

/* One request object, answered into entry idx of slot. top_level: the
 * message was a whole line (it counts toward the bad-line limit). */
static void dispatch_message(Conn *c, Slot *slot, size_t idx, json_t *msg, bool top_level)
{
    RpcRequest req;
    json_t *id;
    RpcError err = {0};
    c->srv->metrics->requests++;
    if (!rpc_request_parse(msg, (int)c->srv->cfg.max_depth, &req, &id, &err)) {
        slot_put_error(slot, idx, id, &err);
        rpc_error_clear(&err);
        if (top_level)
            bad_line(c);
        return;
    }
    if (top_level)
        c->bad_lines = 0;
    const Method *m = dispatch_find(req.method);
    Reply *r = reply_new(slot, idx, req.id);
    if (!c->sess.authenticated && !(m && (m->roles & ROLE_ANON))) {
        reply_errorf(r, RPC_UNAUTHENTICATED, "not logged in: call auth.login first");
        return;
    }
    if (!m) {
        reply_errorf(r, RPC_METHOD_NOT_FOUND, "method not found: %s", req.method);
        return;
    }
    if (c->sess.authenticated && !(m->roles & ROLE_BIT(c->sess.role))) {
        reply_errorf(r, RPC_FORBIDDEN, "role %s may not call %s", role_name(c->sess.role),
                     m->name);
        return;
    }
    if (m->needs_answer && !req.id) {
        reply_errorf(r, RPC_INVALID_REQUEST, "%s needs an id: its answer is its point", m->name);
        return;
    }
    if (req.by_position) {
        reply_field_error(r, "params", "must be an object (parameters by name)");
        return;
    }
    if (m->reads)
        reply_reads(r);
    m->handler(c, r, req.params, m);
}

void dispatch_line(Conn *c, const char *line, size_t len)
{
    RpcError err = {0};
    json_t *msg = rpc_parse_line(line, len, &err);
    if (!msg) {
        slot_put_error(slot_new(c, 1, false), 0, NULL, &err);
        bad_line(c);
        return;
    }
    if (!json_is_array(msg)) {
        dispatch_message(c, slot_new(c, 1, false), 0, msg, true);
        json_decref(msg);
        return;
    }
    size_t n = json_array_size(msg);
    if (n == 0 || n > (size_t)c->srv->cfg.max_batch) {
        if (n == 0)
            rpc_error_set(&err, RPC_INVALID_REQUEST, "invalid request: empty batch");
        else
            rpc_error_set(&err, RPC_INVALID_REQUEST,
                          "invalid request: batch of %zu over the limit of %lld", n,
                          c->srv->cfg.max_batch);
        slot_put_error(slot_new(c, 1, false), 0, NULL, &err);
        json_decref(msg);
        bad_line(c);
        return;
    }
    c->bad_lines = 0;
    c->batch = msg;
    c->batch_pos = 0;
    c->batch_slot = slot_new(c, n, true);
}

void dispatch_batch_step(Conn *c)
{
    /* Our own reference: the handler may close the connection, which drops
     * the connection's. */
    json_t *batch = json_incref(c->batch);
    size_t i = c->batch_pos++;
    Slot *slot = c->batch_slot;
    if (c->batch_pos == json_array_size(batch)) {
        json_decref(c->batch);
        c->batch = NULL;
        c->batch_slot = NULL;
    }
    json_t *msg = json_array_get(batch, i);
    if (c->held_bytes > (size_t)c->srv->cfg.output_buffer) {
        /* A batch is answered in one piece: its replies wait in memory
         * until the last is done. Past the output cap the rest are
         * refused rather than computed (300 large snapshots would take
         * hundreds of MB). */
        RpcError err = {0};
        rpc_error_set(&err, RPC_INVALID_REQUEST,
                      "invalid request: the batch's replies exceed %lld bytes; send fewer at once",
                      c->srv->cfg.output_buffer);
        json_t *id = json_is_object(msg) ? json_object_get(msg, "id") : json_null();
        if (json_is_object(msg) && !id)
            slot_put_nothing(slot, i); /* a notification is not answered */
        else
            slot_put_error(slot, i, json_is_string(id) || json_is_number(id) ? id : NULL, &err);
    } else {
        dispatch_message(c, slot, i, msg, false);
    }
    json_decref(batch);
}
