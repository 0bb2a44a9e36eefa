/* The admin's methods (PROTOCOL.md "Admin"): user.create, user.revoke and
 * audit.query, always within the admin's own tenant. A new token is
 * shown once, in the reply; only its SHA-256 is stored. Each call is
 * itself written to the audit log, in the same transaction as what it
 * does or reads; a change that does not happen is not logged. Changes to
 * users are announced on kic_users, as kicctl does, so sessions of a
 * revoked user end at once (store.c). A change runs only while the admin
 * who asked is still active: requests an admin pipelined behind their
 * own revocation (or queued when another admin revoked them) change
 * nothing. */
#include <openssl/rand.h>
#include <stdlib.h>
#include <string.h>

#include "audit.h"
#include "methods.h"
#include "params.h"
#include "pg.h"
#include "store.h"
#include "strbuf.h"
#include "token.h"

#define AUDIT_QUERY_MAX_ROWS 10000

static const char *const role_names[] = {"bridge", "agent", "supervisor", "admin", NULL};

typedef struct AdminCtx {
    Reply *reply;
    Server *srv;       /* user.revoke: ends the user's sessions */
    int64_t tenant_id; /* user.revoke */
    char token[53]; /* user.create: shown once */
    char name[KIC_MAX_FIELD_BYTES + 1];
} AdminCtx;

static AdminCtx *ctx_new(Reply *r)
{
    AdminCtx *ctx = calloc(1, sizeof(*ctx));
    if (!ctx)
        abort();
    ctx->reply = r;
    return ctx;
}

static bool submit(Conn *c, PgJob *job, AdminCtx *ctx)
{
    if (pgconn_submit(c->srv->pg_reader, job))
        return true;
    pgjob_free(job);
    reply_errorf(ctx->reply, RPC_STORAGE_UNAVAILABLE, "storage unavailable: nothing was read or changed");
    free(ctx);
    return false;
}

/* -32009, naming the field whose value an active user already has. */
static void reply_conflict(Reply *r, const char *field)
{
    RpcError e = {0};
    rpc_error_set(&e, RPC_CONFLICT, "conflict: an active user has that %s", field);
    e.data = json_pack("{s:s}", "field", field);
    reply_error(r, &e);
    rpc_error_clear(&e);
}

/* Storage refused: a name, or an agent, already an active user's is the
 * caller's conflict (the unique indexes of migrations 0001 and 0014). */
static void reply_failure(PgJob *job, Reply *r, const char *what)
{
    if (pgjob_conn_lost(job))
        reply_errorf(r, RPC_STORAGE_UNAVAILABLE, "storage unavailable: %s", what);
    else if (!strcmp(pgjob_sqlstate(job), "23505"))
        reply_conflict(r, !strcmp(pgjob_constraint(job), "users_active_agent") ? "agent" : "name");
    else
        reply_errorf(r, RPC_INTERNAL, "internal error: %s", what);
}

/* ---- user.create ---- */

/* The acting admin, still active (a CTE of the change's statement). */
#define SQL_ACTOR_ACTIVE                                                                       \
    "actor AS (SELECT 1 FROM users WHERE tenant_id = $1::bigint AND user_id = $3::bigint"   \
    "  AND revoked_at IS NULL)"

static void reply_actor_revoked(Reply *r)
{
    reply_errorf(r, RPC_UNAUTHENTICATED, "your user was revoked: nothing changed");
}

static void created(PgJob *job, void *arg)
{
    AdminCtx *ctx = arg;
    if (pgjob_error(job))
        reply_failure(job, ctx->reply, "the user was not created");
    else if (PQntuples(pgjob_result(job, 0)) == 0)
        reply_actor_revoked(ctx->reply);
    else
        reply_result(ctx->reply, json_pack("{s:s, s:s}", "name", ctx->name, "token", ctx->token));
    free(ctx);
}

/* The teams as a PostgreSQL array literal (each quoted and escaped). */
static char *teams_literal(json_t *teams)
{
    StrBuf b = STRBUF_INIT;
    strbuf_putc(&b, '{');
    size_t i;
    json_t *v;
    json_array_foreach(teams, i, v)
    {
        strbuf_puts(&b, i ? ",\"" : "\"");
        for (const char *p = json_string_value(v); *p; p++) {
            if (*p == '"' || *p == '\\')
                strbuf_putc(&b, '\\');
            strbuf_putc(&b, *p);
        }
        strbuf_putc(&b, '"');
    }
    strbuf_putc(&b, '}');
    return strbuf_steal(&b);
}

void method_user_create(Conn *c, Reply *r, json_t *params, const Method *m)
{
    const char *name, *agent;
    int role;
    json_t *teams = NULL;
    RpcError err = {0};
    if (!param_string(params, "name", true, KIC_MAX_FIELD, &name, &err) ||
        !param_enum(params, "role", true, role_names, &role, &err) ||
        !param_string_list(params, "teams", false, 100, KIC_MAX_FIELD, &teams, &err) ||
        !param_string(params, "agent", false, KIC_MAX_FIELD, &agent, &err)) {
        reply_error(r, &err);
        rpc_error_clear(&err);
        return;
    }
    if (param_user_name_problem(name)) {
        reply_field_error(r, "name", param_user_name_problem(name));
        return;
    }
    if (agent && role != ROLE_AGENT) {
        reply_field_error(r, "agent", "is only for users with the role agent");
        return;
    }
    if (role == ROLE_AGENT && !agent)
        agent = name; /* an agent is known by their user name unless told */
    unsigned char random[24];
    AdminCtx *ctx = ctx_new(r);
    if (RAND_bytes(random, sizeof(random)) != 1) {
        reply_errorf(r, RPC_INTERNAL, "internal error: no randomness for a token");
        free(ctx);
        return;
    }
    token_format(random, ctx->token);
    snprintf(ctx->name, sizeof(ctx->name), "%s", name);
    char hash[TOKEN_HASH_HEX], tenant[24], actor[24];
    token_hash_hex(ctx->token, hash);
    snprintf(tenant, sizeof(tenant), "%lld", (long long)c->sess.tenant_id);
    snprintf(actor, sizeof(actor), "%lld", (long long)c->sess.user_id);
    char *teams_text = teams_literal(teams);
    char subject[KIC_MAX_FIELD_BYTES + 32];
    snprintf(subject, sizeof(subject), "%s (%s)", name, role_names[role]);
    const char *args[] = {tenant, name, actor, role_names[role], agent, teams_text, hash,
                          c->sess.user, role_name(c->sess.role), subject, c->peer};
    PgJob *job = pgjob_new(created, ctx);
    pgjob_add(job,
              "WITH " SQL_ACTOR_ACTIVE ","
              " u AS (INSERT INTO users (tenant_id, name, role, agent, teams, token_sha256)"
              "  SELECT $1::bigint, $2, $4, $5, $6::text[], decode($7, 'hex') FROM actor"
              "  RETURNING tenant_id, user_id),"
              " a AS (" AUDIT_INSERT " SELECT tenant_id, $3::bigint, $8, $9, 'user.create', NULL, $10, $11 FROM u)"
              " SELECT pg_notify('kic_users', tenant_id || ':' || user_id) FROM u",
              11, args);
    free(teams_text);
    submit(c, job, ctx);
}

/* ---- user.revoke ---- */

static void revoked(PgJob *job, void *arg)
{
    AdminCtx *ctx = arg;
    PGresult *res = pgjob_error(job) ? NULL : pgjob_result(job, 0);
    if (!res)
        reply_failure(job, ctx->reply, "the user was not revoked");
    else if (strcmp(PQgetvalue(res, 0, 0), "0") == 0)
        reply_actor_revoked(ctx->reply);
    else if (strcmp(PQgetvalue(res, 0, 1), "0") == 0)
        reply_errorf(ctx->reply, RPC_NOT_FOUND, "unknown user: %.200s", ctx->name);
    else {
        reply_result(ctx->reply, json_pack("{s:s, s:b}", "name", ctx->name, "revoked", 1));
        /* their sessions read nothing more from now, before the answer
         * is out: nothing they send after it is carried out (the
         * notification comes a moment later); an admin revoking
         * themselves still gets the answer */
        store_user_revoked(ctx->srv, ctx->tenant_id, strtoll(PQgetvalue(res, 0, 2), NULL, 10),
                           PQgetvalue(res, 0, 3));
    }
    free(ctx);
}

void method_user_revoke(Conn *c, Reply *r, json_t *params, const Method *m)
{
    const char *name;
    RpcError err = {0};
    if (!param_string(params, "name", true, KIC_MAX_FIELD, &name, &err)) {
        reply_error(r, &err);
        rpc_error_clear(&err);
        return;
    }
    AdminCtx *ctx = ctx_new(r);
    snprintf(ctx->name, sizeof(ctx->name), "%s", name);
    char tenant[24], actor[24];
    snprintf(tenant, sizeof(tenant), "%lld", (long long)c->sess.tenant_id);
    snprintf(actor, sizeof(actor), "%lld", (long long)c->sess.user_id);
    const char *args[] = {tenant, name, actor, c->sess.user, role_name(c->sess.role), c->peer};
    PgJob *job = pgjob_new(revoked, ctx);
    /* one row: whether the admin is active, and whether a user was
     * revoked (0: none active by that name) */
    pgjob_add(job,
              "WITH " SQL_ACTOR_ACTIVE ","
              " u AS (UPDATE users SET revoked_at = now()"
              "  WHERE tenant_id = $1::bigint AND name = $2 AND revoked_at IS NULL"
              "    AND EXISTS (SELECT 1 FROM actor)"
              "  RETURNING tenant_id, user_id, CASE WHEN role = 'agent' THEN agent END AS agent),"
              " a AS (" AUDIT_INSERT " SELECT tenant_id, $3::bigint, $4, $5, 'user.revoke', NULL, $2, $6 FROM u)"
              " SELECT (SELECT count(*) FROM actor),"
              "  (SELECT count(*) FROM u, pg_notify('kic_users', u.tenant_id || ':' || u.user_id)),"
              "  (SELECT user_id FROM u), (SELECT coalesce(agent, '') FROM u)",
              6, args);
    ctx->srv = c->srv;
    ctx->tenant_id = c->sess.tenant_id;
    submit(c, job, ctx);
}

/* ---- audit.query ---- */

static void audit_read(PgJob *job, void *arg)
{
    AdminCtx *ctx = arg;
    if (pgjob_error(job)) {
        reply_failure(job, ctx->reply, "the audit log could not be read");
        free(ctx);
        return;
    }
    PGresult *res = pgjob_result(job, 0);
    json_t *entries = json_array();
    int n = PQntuples(res);
    for (int i = 0; i < n && i < AUDIT_QUERY_MAX_ROWS; i++) {
        json_t *e = json_pack("{s:s, s:s, s:s, s:s}", "at", PQgetvalue(res, i, 0), "user",
                              PQgetvalue(res, i, 1), "role", PQgetvalue(res, i, 2), "action",
                              PQgetvalue(res, i, 3));
        static const char *const optional[] = {"caller_key", "subject", "peer"};
        for (int k = 0; k < 3; k++)
            json_object_set_new(e, optional[k],
                                PQgetisnull(res, i, 4 + k) ? json_null()
                                                            : json_string(PQgetvalue(res, i, 4 + k)));
        json_object_set_new(e, "user_id", PQgetisnull(res, i, 7)
                                              ? json_null()
                                              : json_integer(strtoll(PQgetvalue(res, i, 7), NULL, 10)));
        json_array_append_new(entries, e);
    }
    reply_result(ctx->reply, json_pack("{s:o, s:b}", "entries", entries, "truncated",
                                       n > AUDIT_QUERY_MAX_ROWS));
    free(ctx);
}

void method_audit_query(Conn *c, Reply *r, json_t *params, const Method *m)
{
    KicTime from, to;
    const char *user;
    RpcError err = {0};
    if (!param_time(params, "from", true, &from, &err) ||
        !param_time(params, "to", true, &to, &err) ||
        !param_string(params, "user", false, KIC_MAX_FIELD, &user, &err)) {
        reply_error(r, &err);
        rpc_error_clear(&err);
        return;
    }
    if (to <= from) {
        reply_field_error(r, "to", "must be after from");
        return;
    }
    AdminCtx *ctx = ctx_new(r);
    char tenant[24], from_text[40], to_text[40], limit[16];
    snprintf(tenant, sizeof(tenant), "%lld", (long long)c->sess.tenant_id);
    time_format_db(from, from_text, sizeof(from_text));
    time_format_db(to, to_text, sizeof(to_text));
    snprintf(limit, sizeof(limit), "%d", AUDIT_QUERY_MAX_ROWS + 1);
    const char *args[] = {tenant, from_text, to_text, user, limit};
    PgJob *job = pgjob_new(audit_read, ctx);
    /* read first: the look at the log is logged after what it saw */
    pgjob_add(job,
              "SELECT to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'),"
              "       user_name, role, action, caller_key, subject, peer, user_id"
              " FROM audit_log WHERE tenant_id = $1::bigint AND at >= $2 AND at < $3"
              "   AND ($4::text IS NULL OR user_name = $4) ORDER BY at, seq LIMIT $5::int",
              5, args);
    AuditActor who = audit_actor_of(c);
    char subject[128];
    snprintf(subject, sizeof(subject), "%s..%s%s%.40s", from_text, to_text, user ? " user " : "",
             user ? user : "");
    audit_add_action(job, &who, "audit.query", subject);
    submit(c, job, ctx);
}
