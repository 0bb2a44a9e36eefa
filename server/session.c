/* Session methods: auth.login (token -> user, by its SHA-256, on the
 * reader connection; while storage cannot answer, from the logins kicd
 * knows: logins.h), auth.logout, server.info, server.ping. Login is a
 * barrier: nothing after it on the connection is dispatched until the
 * session is known. */
#include <stdlib.h>
#include <string.h>

#include "conn.h"
#include "logins.h"
#include "methods.h"
#include "params.h"
#include "pg.h"
#include "session.h"
#include "store.h"
#include "tenants.h"
#include "token.h"

#define MAX_FAILED_LOGINS 5

typedef struct LoginCtx {
    Reply *reply;
    Server *srv;
    Session sess;
    char hash[TOKEN_HASH_HEX];
} LoginCtx;

const char session_login_sql[] =
    "SELECT u.user_id, u.name, u.role, coalesce(u.agent, ''), array_to_json(u.teams), "
    "       t.tenant_id, t.name,"
    "       (SELECT (extract(epoch FROM max(p.revoked_at)) * 1000000)::bigint FROM users p WHERE p.tenant_id = u.tenant_id AND p.agent = u.agent AND p.name <> u.name AND p.revoked_at IS NOT NULL) AS agent_since "
    "FROM users u JOIN tenants t USING (tenant_id) "
    "WHERE u.token_sha256 = decode($1, 'hex') AND u.revoked_at IS NULL";

static json_t *session_json(const Session *s)
{
    return json_pack("{s:s, s:s, s:s, s:o, s:O}", "role", role_name(s->role), "tenant",
                     s->tenant_name, "user", s->user, "agent",
                     s->agent[0] ? json_string(s->agent) : json_null(), "teams", s->teams);
}

bool session_from_row(Session *s, PGresult *res, int row)
{
    Role role;
    if (!role_parse(PQgetvalue(res, row, 2), &role))
        return false;
    memset(s, 0, sizeof(*s));
    s->authenticated = true;
    s->role = role;
    s->user_id = strtoll(PQgetvalue(res, row, 0), NULL, 10);
    s->tenant_id = strtoll(PQgetvalue(res, row, 5), NULL, 10);
    snprintf(s->user, sizeof(s->user), "%s", PQgetvalue(res, row, 1));
    snprintf(s->agent, sizeof(s->agent), "%s", PQgetvalue(res, row, 3));
    snprintf(s->tenant_name, sizeof(s->tenant_name), "%s", PQgetvalue(res, row, 6));
    /* by name: the queries differ in the columns between */
    int since = PQfnumber(res, "agent_since");
    s->agent_since = since >= 0 && !PQgetisnull(res, row, since)
                        ? strtoll(PQgetvalue(res, row, since), NULL, 10)
                        : KIC_TIME_NONE;
    s->teams = json_loads(PQgetvalue(res, row, 4), JSON_DECODE_ANY, NULL);
    if (!json_is_array(s->teams)) {
        json_decref(s->teams);
        s->teams = json_array();
    }
    return true;
}

/* The session may act once its tenant's live state is loaded. */
static void login_tenant_ready(void *arg, bool ok)
{
    LoginCtx *ctx = arg;
    Reply *r = ctx->reply;
    Conn *c = reply_conn(r);
    Session s = ctx->sess;
    free(ctx);
    if (!c || !ok)
        json_decref(s.teams);
    if (!c) {
        reply_errorf(r, RPC_UNAUTHENTICATED, "connection closed");
        return;
    }
    if (!ok) {
        reply_errorf(r, RPC_STORAGE_UNAVAILABLE, "storage unavailable: cannot load the centre");
        conn_release_barrier(c);
        return;
    }
    c->sess = s;
    conn_login(c);
    conn_log(c, LOG_INFO, "logged in as %s", role_name(s.role));
    reply_result(r, session_json(&c->sess));
    conn_release_barrier(c);
}

/* A tenant kicd has not seen yet (created after start-up) is loaded
 * first: until then its categories, agents and calls are unknown. */
static void login_in_tenant(Conn *c, LoginCtx *ctx)
{
    Tenant *t = tenants_get(c->srv->tenants, ctx->sess.tenant_id, ctx->sess.tenant_name);
    ctx->sess.tenant = t;
    tenant_when_ready(t, login_tenant_ready, ctx);
    store_load_tenant(c->srv, t);
}

/* Storage cannot answer: a token kicd knows logs in all the same (its
 * tenant's live state is in memory), so desktops that reconnect keep
 * working. False when the token is unknown here. */
static bool login_from_memory(Conn *c, LoginCtx *ctx)
{
    if (!logins_get(c->srv->logins, ctx->hash, &ctx->sess))
        return false;
    conn_log(c, LOG_WARN, "storage unavailable: token checked against the logins kicd knows");
    login_in_tenant(c, ctx);
    return true;
}

static void login_done(PgJob *job, void *arg)
{
    LoginCtx *ctx = arg;
    Reply *r = ctx->reply;
    Conn *c = reply_conn(r);
    PGresult *res = pgjob_result(job, 0);
    if (!c) {
        free(ctx);
        reply_errorf(r, RPC_UNAUTHENTICATED, "connection closed");
        return;
    }
    if (pgjob_error(job)) {
        conn_log(c, LOG_WARN, "login lookup failed: %s", pgjob_error(job));
        if (!pgjob_conn_lost(job) || !login_from_memory(c, ctx)) {
            free(ctx);
            reply_errorf(r, RPC_STORAGE_UNAVAILABLE, "storage unavailable: cannot check the token");
            conn_release_barrier(c);
        }
        return;
    }
    if (PQntuples(res) != 1 || !session_from_row(&ctx->sess, res, 0)) {
        logins_forget_hash(c->srv->logins, ctx->hash);
        free(ctx);
        /* a line a second at most: bad tokens can come in floods */
        char more[64];
        if (log_throttle(&c->srv->refused_logins, server_now(), more, sizeof(more)))
            conn_log(c, LOG_WARN, "login refused: unknown or revoked token%s", more);
        reply_errorf(r, RPC_UNAUTHENTICATED, "bad token");
        if (++c->failed_logins >= MAX_FAILED_LOGINS)
            conn_close_after_flush(c, "%d failed logins", c->failed_logins);
        conn_release_barrier(c);
        return;
    }
    logins_put(c->srv->logins, ctx->hash, &ctx->sess);
    login_in_tenant(c, ctx);
}

void method_auth_login(Conn *c, Reply *r, json_t *params, const Method *m)
{
    const char *token;
    RpcError err = {0};
    if (c->sess.authenticated) {
        reply_errorf(r, RPC_CONFLICT, "already logged in: call auth.logout first");
        return;
    }
    if (!param_string(params, "token", true, KIC_MAX_FIELD, &token, &err)) {
        reply_error(r, &err);
        rpc_error_clear(&err);
        return;
    }
    LoginCtx *ctx = calloc(1, sizeof(*ctx));
    if (!ctx)
        abort();
    ctx->reply = r;
    ctx->srv = c->srv;
    token_hash_hex(token, ctx->hash);
    PgJob *job = pgjob_new(login_done, ctx);
    const char *args[] = {ctx->hash};
    pgjob_add(job, session_login_sql, 1, args);
    /* one key looked up: not the reports' minute (storage hung: from memory) */
    pgjob_set_patience(job, (int)c->srv->cfg.pg_timeout_s);
    c->barrier = true; /* released by the answer, also one from memory */
    if (!pgconn_submit(c->srv->pg_reader, job)) {
        pgjob_free(job);
        if (!login_from_memory(c, ctx)) {
            free(ctx);
            c->barrier = false;
            reply_errorf(r, RPC_STORAGE_UNAVAILABLE, "storage unavailable: cannot check the token");
        }
    }
}

void method_auth_logout(Conn *c, Reply *r, json_t *params, const Method *m)
{
    conn_log(c, LOG_INFO, "logged out");
    reply_result(r, json_pack("{s:b}", "ok", 1));
    conn_unauthenticate(c);
}

void method_server_info(Conn *c, Reply *r, json_t *params, const Method *m)
{
    Server *s = c->srv;
    char started[40];
    time_format_utc(s->started_at, started, sizeof(started));
    reply_result(r, json_pack("{s:s, s:s, s:I, s:s, s:b, s:s}", "name", "kicd", "version",
                              KIC_VERSION, "uptime_s",
                              (json_int_t)((server_now() - s->started_at) / KIC_USEC),
                              "started_at", started, "storage_up",
                              pgconn_is_up(s->pg_writer), "tz", s->cfg.tz));
}

void method_server_ping(Conn *c, Reply *r, json_t *params, const Method *m)
{
    char now[40];
    time_format_utc(server_now(), now, sizeof(now));
    reply_result(r, json_pack("{s:b, s:s}", "pong", 1, "at", now));
}
