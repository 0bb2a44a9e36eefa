/* caller.history: for the agent's screen, the same caller's earlier
 * contacts within the repeat window before a call: when, which queue,
 * category and outcome. Another agent's notes are never shown (the
 * asking agent sees their own). An agent may ask only about a call they
 * answered (need to know; supervisors have no access to caller data
 * here). Every read writes an audit_log row in
 * the same transaction, before the answer. */
#include <stdlib.h>
#include <string.h>

#include "audit.h"
#include "methods.h"
#include "params.h"
#include "pg.h"
#include "tenants.h"

/* $1 tenant, $2 call, $3 tz, $4 window days, $5 asking agent ('' if
 * none); audit: $6 user, $7 role, $8 peer, $9 user id. The window is calendar days in
 * the centre's time zone, as for repeats. The contacts a transfer chain
 * led to this one from (transferred_from) are this contact going on, not
 * earlier ones: as call.connected counts them (lib/centre.c). The asker's
 * own notes are those of their agent id stored since the latest
 * revocation of a user of another name who had it (Session.agent_since):
 * an agent id handed out again does not hand over the earlier holder's
 * notes, a new token for the same name keeps them. */
static const char sql_history[] =
    "WITH RECURSIVE me AS (SELECT caller_key, caller_withheld, offered_at, transferred_from"
    "            FROM calls WHERE tenant_id = $1 AND call_id = $2),"
    " chain (call_id, hops) AS (SELECT transferred_from, 1 FROM me WHERE transferred_from IS NOT NULL"
    "   UNION ALL SELECT c.transferred_from, chain.hops + 1 FROM chain JOIN calls c"
    "     ON c.tenant_id = $1 AND c.call_id = chain.call_id"
    "   WHERE c.transferred_from IS NOT NULL AND chain.hops < 8),"
    " audit AS (" AUDIT_INSERT
    "           SELECT $1, $9::bigint, $6, $7, 'caller.history', caller_key, $2, $8 FROM me"
    "           WHERE caller_key IS NOT NULL RETURNING 1)"
    " SELECT 'me' AS kind, NULL, NULL, NULL, NULL, caller_withheld, caller_key IS NULL,"
    "        NULL, NULL, NULL, NULL, NULL, (SELECT count(*) FROM audit), NULL, NULL"
    " FROM me"
    " UNION ALL"
    " SELECT 'contact', c.call_id, (extract(epoch FROM c.offered_at) * 1000000)::bigint,"
    "        c.queue, c.category, c.answered, c.abandoned, c.transferred, c.resolved,"
    "        c.caller_type, c.agent, w.note, NULL, c.direction, c.transferred_from"
    " FROM me JOIN calls c ON c.tenant_id = $1 AND c.caller_key = me.caller_key"
    " LEFT JOIN wrapups w ON w.tenant_id = c.tenant_id AND w.call_id = c.call_id"
    "                     AND w.agent = $5 AND $5 <> ''"
    "                     AND w.received_at >= coalesce((SELECT max(p.revoked_at) FROM users p"
    "                       WHERE p.tenant_id = $1 AND p.agent = $5 AND p.name <> $6"
    "                         AND p.revoked_at IS NOT NULL), '-infinity')"
    " WHERE c.call_id <> $2 AND c.offered_at < me.offered_at"
    "   AND c.call_id NOT IN (SELECT call_id FROM chain)"
    "   AND c.offered_at >= ((me.offered_at AT TIME ZONE $3) - make_interval(days => $4::int))"
    "                       AT TIME ZONE $3"
    " ORDER BY 1 DESC, 3 DESC";

typedef struct HistoryCtx {
    Reply *reply;
    int window;
} HistoryCtx;

static bool is_true(PGresult *r, int row, int col)
{
    return !PQgetisnull(r, row, col) && strcmp(PQgetvalue(r, row, col), "t") == 0;
}

static const char *outcome(PGresult *r, int row)
{
    if (is_true(r, row, 7))
        return "transferred";
    if (is_true(r, row, 5))
        return "answered";
    if (is_true(r, row, 6))
        return "abandoned";
    return "in progress";
}

static json_t *opt(PGresult *r, int row, int col)
{
    return PQgetisnull(r, row, col) ? json_null() : json_string(PQgetvalue(r, row, col));
}

static void history_done(PgJob *job, void *arg)
{
    HistoryCtx *ctx = arg;
    Reply *r = ctx->reply;
    PGresult *res = pgjob_result(job, 0);
    int window = ctx->window;
    free(ctx);
    if (pgjob_error(job)) {
        reply_errorf(r, RPC_STORAGE_UNAVAILABLE, "storage unavailable: history not read");
        return;
    }
    if (PQntuples(res) == 0 || strcmp(PQgetvalue(res, 0, 0), "me") != 0) {
        reply_errorf(r, RPC_NOT_FOUND, "unknown call");
        return;
    }
    json_t *contacts = json_array();
    for (int i = 1; i < PQntuples(res); i++) {
        char at[40]; /* local time with its offset, like every time a person reads */
        time_format_local(strtoll(PQgetvalue(res, i, 2), NULL, 10), at, sizeof(at));
        json_t *o = json_pack("{s:s, s:s, s:o, s:o, s:s, s:o, s:o, s:o}", "call_id",
                              PQgetvalue(res, i, 1), "at", at, "queue",
                              opt(res, i, 3), "category", opt(res, i, 4), "outcome",
                              outcome(res, i), "resolved",
                              PQgetisnull(res, i, 8) ? json_null() : json_boolean(is_true(res, i, 8)),
                              "caller_type", opt(res, i, 9), "agent", opt(res, i, 10));
        /* a desktop tells the contacts call.connected counted (inbound,
         * continuing none) from the centre's own calls and transfers' */
        json_object_set_new(o, "direction", json_string(PQgetvalue(res, i, 13)));
        json_object_set_new(o, "transferred_from", opt(res, i, 14));
        if (!PQgetisnull(res, i, 11))
            json_object_set_new(o, "note", json_string(PQgetvalue(res, i, 11)));
        json_array_append_new(contacts, o);
    }
    reply_result(r, json_pack("{s:b, s:i, s:o}", "caller_withheld", is_true(res, 0, 6),
                              "window_days", window, "contacts", contacts));
}

void method_caller_history(Conn *c, Reply *r, json_t *params, const Method *m)
{
    const char *call_id;
    RpcError err = {0};
    if (!param_string(params, "call_id", true, KIC_MAX_FIELD, &call_id, &err)) {
        reply_error(r, &err);
        rpc_error_clear(&err);
        return;
    }
    /* need to know: only about a call this agent handled (in memory: the
     * recent days an agent's screen is about) */
    const Call *call = centre_call(c->sess.tenant->centre, call_id);
    if (!call) {
        reply_errorf(r, RPC_NOT_FOUND, "unknown call: %.200s", call_id);
        return;
    }
    if (!c->sess.agent[0] || !call_leg_of_holder(&call->sum, c->sess.agent, c->sess.agent_since)) {
        reply_errorf(r, RPC_FORBIDDEN, "call %.200s was not answered by you", call_id);
        return;
    }
    HistoryCtx *ctx = malloc(sizeof(*ctx));
    if (!ctx)
        abort();
    ctx->reply = r;
    ctx->window = (int)c->srv->cfg.repeat_window_days;
    char tenant[24], window[16], user_id[24];
    snprintf(tenant, sizeof(tenant), "%lld", (long long)c->sess.tenant_id);
    snprintf(window, sizeof(window), "%d", ctx->window);
    snprintf(user_id, sizeof(user_id), "%lld", (long long)c->sess.user_id);
    const char *args[] = {tenant, call_id, c->srv->cfg.tz, window, c->sess.agent,
                          c->sess.user, role_name(c->sess.role), c->peer, user_id};
    PgJob *job = pgjob_new(history_done, ctx);
    pgjob_add(job, sql_history, 9, args);
    if (!pgconn_submit(c->srv->pg_reader, job)) {
        pgjob_free(job);
        free(ctx);
        reply_errorf(r, RPC_STORAGE_UNAVAILABLE, "storage unavailable: history not read");
    }
}
