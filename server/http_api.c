/* The HTTP API (proto/HTTP.md): bearer tokens of supervisors and admins;
 * the live snapshot, its event stream, and reports as JSON or CSV.
 *
 * Tokens are looked up like auth.login's, then remembered for a few
 * minutes (the live API answers from memory, not from a query per
 * request); a revoked token is forgotten at once (kic_users).
 *
 * Requests answered later (a token lookup, a report) keep their
 * evhttp_request: if the client has gone meanwhile, libevent has
 * detached it from its connection and replying only frees it. */
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/keyvalq_struct.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "audit.h"
#include "http_internal.h"
#include "logins.h"
#include "params.h"
#include "pg.h"
#include "report.h"
#include "session.h"
#include "stats.h"
#include "store.h"
#include "token.h"

#define TOKEN_CACHE_US (300LL * KIC_USEC)
#define TOKEN_CACHE_MAX 10000
#define STREAM_KEEPALIVE_S 15
#define STREAM_TIMEOUT_S (24 * 3600)

/* ---- who is asking ---- */

typedef void (*HttpAuthed)(Http *h, struct evhttp_request *req, const HttpUser *who, Tenant *t);

typedef struct AuthCtx {
    Http *http;
    struct evhttp_request *req;
    HttpAuthed next;
    HttpUser who;
} AuthCtx;

static void tenant_ready(void *arg, bool ok)
{
    AuthCtx *ctx = arg;
    if (!ok)
        http_reply_error(ctx->req, 503, RPC_STORAGE_UNAVAILABLE,
                         "storage unavailable: cannot load the centre", NULL);
    else
        ctx->next(ctx->http, ctx->req, &ctx->who,
                  tenants_find(ctx->http->srv->tenants, ctx->who.tenant_id));
    free(ctx);
}

/* The user is known: roles, then the tenant's live state. */
static void authorised(AuthCtx *ctx)
{
    if (ctx->who.role != ROLE_SUPERVISOR && ctx->who.role != ROLE_ADMIN) {
        http_reply_error(ctx->req, 403, RPC_FORBIDDEN,
                         "forbidden: the API is for supervisors and admins", NULL);
        free(ctx);
        return;
    }
    Server *s = ctx->http->srv;
    Tenant *t = tenants_get(s->tenants, ctx->who.tenant_id, ctx->who.tenant_name);
    tenant_when_ready(t, tenant_ready, ctx); /* may run (and free ctx) at once */
    store_load_tenant(s, t);
}

static void remember(Http *h, const HttpUser *who)
{
    HttpUser *u = strmap_get(&h->users, who->hash);
    if (!u) {
        if (h->users.count >= TOKEN_CACHE_MAX)
            return; /* many tokens at once: look them up each time */
        u = malloc(sizeof(*u));
        if (!u)
            abort();
        *u = *who;
        strmap_put(&h->users, u->hash, u);
        return;
    }
    *u = *who;
}

/* The token's user is known: on to the role check (frees s's teams). */
static void token_known(AuthCtx *ctx, Session *s)
{
    ctx->who.tenant_id = s->tenant_id;
    ctx->who.user_id = s->user_id;
    ctx->who.role = s->role;
    snprintf(ctx->who.tenant_name, sizeof(ctx->who.tenant_name), "%s", s->tenant_name);
    snprintf(ctx->who.user, sizeof(ctx->who.user), "%s", s->user);
    ctx->who.checked_at = server_now();
    json_decref(s->teams);
    remember(ctx->http, &ctx->who);
    authorised(ctx);
}

/* Storage cannot answer: a token kicd knows (logins.h) is let in, so a
 * wallboard reconnecting meanwhile keeps working; else 503. */
static void token_from_memory(AuthCtx *ctx)
{
    Session s;
    if (logins_get(ctx->http->srv->logins, ctx->who.hash, &s)) {
        token_known(ctx, &s);
        return;
    }
    http_reply_error(ctx->req, 503, RPC_STORAGE_UNAVAILABLE,
                     "storage unavailable: cannot check the token", NULL);
    free(ctx);
}

static void token_looked_up(PgJob *job, void *arg)
{
    AuthCtx *ctx = arg;
    PGresult *res = pgjob_result(job, 0);
    Session s;
    if (pgjob_error(job)) {
        if (pgjob_conn_lost(job)) {
            token_from_memory(ctx);
            return;
        }
        http_reply_error(ctx->req, 503, RPC_STORAGE_UNAVAILABLE,
                         "storage unavailable: cannot check the token", NULL);
        free(ctx);
        return;
    }
    if (PQntuples(res) != 1 || !session_from_row(&s, res, 0)) {
        logins_forget_hash(ctx->http->srv->logins, ctx->who.hash);
        http_reply_error(ctx->req, 401, RPC_UNAUTHENTICATED, "bad token", NULL);
        free(ctx);
        return;
    }
    token_known(ctx, &s);
}

/* How many times a header is given (libevent's find takes the first). */
static int header_count(struct evkeyvalq *headers, const char *name)
{
    int n = 0;
    for (struct evkeyval *e = headers->tqh_first; e; e = e->next.tqe_next)
        n += strcasecmp(e->key, name) == 0;
    return n;
}

/* Finds who the bearer token is, then calls next (or answers 401/403). */
static void with_user(Http *h, struct evhttp_request *req, HttpAuthed next)
{
    struct evkeyvalq *headers = evhttp_request_get_input_headers(req);
    /* two identities in one request (a proxy adding its own): which one
     * was meant? */
    if (header_count(headers, "Authorization") > 1) {
        http_reply_error(req, 401, RPC_UNAUTHENTICATED,
                         "not logged in: send one Authorization header, not several", NULL);
        return;
    }
    const char *auth = evhttp_find_header(headers, "Authorization");
    if (!auth || strncasecmp(auth, "Bearer ", 7) != 0 || !auth[7] || strlen(auth + 7) > 512) {
        http_reply_error(req, 401, RPC_UNAUTHENTICATED,
                         "not logged in: send Authorization: Bearer <token>", NULL);
        return;
    }
    AuthCtx *ctx = calloc(1, sizeof(*ctx));
    if (!ctx)
        abort();
    ctx->http = h;
    ctx->req = req;
    ctx->next = next;
    token_hash_hex(auth + 7, ctx->who.hash);
    const HttpUser *known = strmap_get(&h->users, ctx->who.hash);
    if (known && server_now() - known->checked_at < TOKEN_CACHE_US) {
        ctx->who = *known;
        authorised(ctx);
        return;
    }
    PgJob *job = pgjob_new(token_looked_up, ctx);
    const char *args[] = {ctx->who.hash};
    pgjob_add(job, session_login_sql, 1, args);
    pgjob_set_patience(job, (int)h->srv->cfg.pg_timeout_s); /* as a login (session.c) */
    if (!pgconn_submit(h->srv->pg_reader, job)) {
        pgjob_free(job);
        token_from_memory(ctx);
    }
}

/* ---- the query string ---- */

/* A query value that is a whole number becomes a JSON integer (the
 * methods' checks then apply as over JSON-RPC); anything else stays text
 * and is refused by them. */
static json_t *number_or_text(const char *v)
{
    char *end;
    long long n = strtoll(v, &end, 10);
    if (*v && !*end && (v[0] == '-' || (v[0] >= '0' && v[0] <= '9')))
        return json_integer(n);
    return json_string(v);
}

/* The name of the first parameter in the raw query whose raw text holds
 * `what`, into out ("" when none). */
static void raw_name_with(const char *query, const char *what, char *out, size_t n)
{
    out[0] = '\0';
    for (const char *pair = query; *pair;) {
        size_t len = strcspn(pair, "&");
        const char *hit = strstr(pair, what);
        if (hit && hit < pair + len) {
            size_t name = strcspn(pair, "=&");
            snprintf(out, n, "%.*s", (int)(name < n - 1 ? name : n - 1), pair);
            return;
        }
        pair += len + (pair[len] ? 1 : 0);
    }
}

/* The parameters as a JSON object, as the JSON-RPC methods take them;
 * the names in `lists` are comma-separated lists, those in `numbers`
 * whole numbers. NULL, with err set (the parameter named where there is
 * one), when not parseable: a value that is not UTF-8, a NUL (%00: the
 * decoded value would end there, silently shorter), a name given twice
 * (which one was meant?), or no query syntax at all. */
static json_t *query_params(struct evhttp_request *req, const char *const *lists,
                            const char *const *numbers, RpcError *err)
{
    const char *query = evhttp_uri_get_query(evhttp_request_get_evhttp_uri(req));
    json_t *params = json_object();
    if (!query)
        return params;
    if (strstr(query, "%00")) {
        char name[64];
        raw_name_with(query, "%00", name, sizeof(name));
        rpc_error_field(err, name[0] ? name : "query", "must not contain NUL characters");
        json_decref(params);
        return NULL;
    }
    struct evkeyvalq kv;
    if (evhttp_parse_query_str(query, &kv) != 0) {
        rpc_error_field(err, "query", "must be name=value pairs joined by &");
        json_decref(params);
        return NULL;
    }
    for (struct evkeyval *e = kv.tqh_first; e; e = e->next.tqe_next) {
        bool list = false;
        for (size_t i = 0; lists[i]; i++)
            list |= strcmp(lists[i], e->key) == 0;
        bool number = false;
        for (size_t i = 0; numbers[i]; i++)
            number |= strcmp(numbers[i], e->key) == 0;
        json_t *v;
        if (number) {
            v = number_or_text(e->value);
        } else if (list) {
            v = json_array();
            for (char *item = e->value, *end; v && *item; item = end) {
                end = item + strcspn(item, ",");
                json_t *one = json_stringn(item, (size_t)(end - item));
                if (!one || json_array_append_new(v, one) != 0) { /* not UTF-8 */
                    json_decref(v);
                    v = NULL;
                }
                if (*end)
                    end++;
            }
        } else {
            v = json_string(e->value);
        }
        const char *problem = !v                                   ? "must be UTF-8"
                              : json_object_get(params, e->key) ? "must be given once"
                                                                : NULL;
        if (problem) {
            json_decref(v);
            json_t *key = json_string(e->key);
            rpc_error_field(err, key ? e->key : "query", problem); /* a name not UTF-8: the query's */
            json_decref(key);
            evhttp_clear_headers(&kv);
            json_decref(params);
            return NULL;
        }
        json_object_set_new(params, e->key, v);
    }
    evhttp_clear_headers(&kv);
    return params;
}

static void reply_rpc_error(struct evhttp_request *req, const RpcError *err)
{
    int status = err->code == RPC_INVALID_PARAMS ? 400
                 : err->code == RPC_STORAGE_UNAVAILABLE ? 503
                                                         : 500;
    http_reply_error(req, status, err->code, err->message, err->data);
}

/* ---- live ---- */

static void live(Http *h, struct evhttp_request *req, const HttpUser *who, Tenant *t)
{
    static const char *const lists[] = {"queues", NULL}, *const numbers[] = {NULL};
    json_t *filter = NULL;
    RpcError err = {0};
    json_t *params = query_params(req, lists, numbers, &err);
    if (!params) {
        reply_rpc_error(req, &err);
        rpc_error_clear(&err);
        return;
    }
    if (!param_string_list(params, "queues", false, 1000, KIC_MAX_FIELD, &filter, &err)) {
        reply_rpc_error(req, &err);
        rpc_error_clear(&err);
        json_decref(params);
        return;
    }
    json_t *snap = stats_snapshot_json(&h->srv->cfg, t, filter, server_now());
    char *text = snap ? json_dumps(snap, RPC_DUMP_FLAGS) : NULL;
    if (!text)
        abort();
    http_reply_json(req, 200, text);
    free(text);
    json_decref(snap);
    json_decref(params);
}

/* ---- the event stream ---- */

static void stream_free(HttpStream *st)
{
    Http *h = st->http;
    subscriber_stop(&st->sub);
    if (st->prev)
        st->prev->next = st->next;
    else
        h->streams = st->next;
    if (st->next)
        st->next->prev = st->prev;
    free(st);
}

/* The client went (libevent frees the connection and has detached the
 * request): end the request, which frees it. */
static void stream_closed(struct evhttp_connection *evcon, void *arg)
{
    HttpStream *st = arg;
    struct evhttp_request *req = st->req;
    HttpConn *conn = st->conn;
    stream_free(st);
    evhttp_send_reply_end(req);
    http_conn_closed(evcon, conn);
}

/* A client that does not read: its socket is shut, and libevent's
 * close handling (stream_closed) does the rest. */
static bool stream_over_cap(HttpStream *st)
{
    struct bufferevent *bev = evhttp_connection_get_bufferevent(st->evcon);
    if (evbuffer_get_length(bufferevent_get_output(bev)) <= (size_t)st->http->srv->cfg.output_buffer)
        return false;
    srv_log(st->http->srv, LOG_INFO, "http: event stream over %lld bytes: slow reader dropped",
            st->http->srv->cfg.output_buffer);
    subscriber_stop(&st->sub);
    shutdown(bufferevent_getfd(bev), SHUT_RDWR);
    return true;
}

static void stream_write(HttpStream *st, const char *a, size_t alen, const char *b, size_t blen,
                         const char *c, size_t clen)
{
    if (stream_over_cap(st))
        return;
    struct evbuffer *out = evbuffer_new();
    if (!out)
        abort();
    evbuffer_add(out, a, alen);
    evbuffer_add(out, b, blen);
    evbuffer_add(out, c, clen);
    evhttp_send_reply_chunk(st->req, out);
    evbuffer_free(out);
}

static void stream_send(Subscriber *sub, const char *json, size_t len)
{
    static const char head[] = "event: stats\ndata: ", tail[] = "\n\n";
    stream_write(sub->owner, head, sizeof(head) - 1, json, len, tail, sizeof(tail) - 1);
}

static void stream_keepalive(Subscriber *sub)
{
    static const char ping[] = ": keep-alive\n\n";
    stream_write(sub->owner, ping, sizeof(ping) - 1, "", 0, "", 0);
}

static void live_stream(Http *h, struct evhttp_request *req, const HttpUser *who, Tenant *t)
{
    static const char *const lists[] = {NULL}, *const numbers[] = {"interval_ms", NULL};
    long long interval = 1000;
    RpcError err = {0};
    json_t *params = query_params(req, lists, numbers, &err);
    if (!params || !param_int(params, "interval_ms", false, 250, 3600000, &interval, &err)) {
        reply_rpc_error(req, &err);
        rpc_error_clear(&err);
        json_decref(params);
        return;
    }
    json_decref(params);
    struct evhttp_connection *evcon = evhttp_request_get_connection(req);
    HttpConn *conn = evcon ? http_conn_of(h, evcon) : NULL;
    if (!conn) { /* one kicd has not counted (adopt_connection): not bounded, so refused */
        http_reply_error(req, 503, RPC_OVERLOADED, "overloaded: connection not known", NULL);
        return;
    }
    HttpStream *st = calloc(1, sizeof(*st));
    if (!st)
        abort();
    st->http = h;
    st->req = req;
    st->evcon = evcon;
    st->conn = conn;
    st->tenant_id = who->tenant_id;
    st->user_id = who->user_id;
    st->next = h->streams;
    if (h->streams)
        h->streams->prev = st;
    h->streams = st;
    /* the stream lasts: no idle timeout on reading (the client sends
     * nothing); a client that stops reading meets the output cap */
    evhttp_connection_set_timeout(evcon, STREAM_TIMEOUT_S);
    evhttp_connection_set_closecb(evcon, stream_closed, st);
    struct evkeyvalq *hdr = evhttp_request_get_output_headers(req);
    evhttp_add_header(hdr, "Content-Type", "text/event-stream; charset=utf-8");
    evhttp_add_header(hdr, "Cache-Control", "no-store");
    evhttp_add_header(hdr, "X-Content-Type-Options", "nosniff"); /* as every answer */
    evhttp_add_header(hdr, "Referrer-Policy", "no-referrer");
    evhttp_add_header(hdr, "X-Accel-Buffering", "no");
    evhttp_send_reply_start(req, 200, "OK");
    st->sub.srv = h->srv;
    st->sub.tenant = t;
    st->sub.interval_ms = (int)interval;
    st->sub.send = stream_send;
    st->sub.idle = stream_keepalive;
    st->sub.keepalive_s = STREAM_KEEPALIVE_S;
    st->sub.owner = st;
    subscriber_start(&st->sub);
}

/* Ends one stream from our side (shutdown, a revoked token). */
static void stream_end(HttpStream *st)
{
    struct evhttp_request *req = st->req;
    evhttp_connection_set_closecb(st->evcon, http_conn_closed, st->conn);
    stream_free(st);
    evhttp_send_reply_end(req);
}

void http_stop(Http *h)
{
    if (!h)
        return;
    while (h->streams)
        stream_end(h->streams);
}

void http_forget_user(Http *h, int64_t tenant_id, int64_t user_id)
{
    if (!h)
        return;
    size_t pos = 0;
    const char *k;
    void *v;
    bool again = true;
    while (again) { /* removing invalidates the walk: start over */
        again = false;
        pos = 0;
        while (strmap_next(&h->users, &pos, &k, &v)) {
            HttpUser *u = v;
            if (u->tenant_id == tenant_id && u->user_id == user_id) {
                strmap_remove(&h->users, u->hash);
                free(u);
                again = true;
                break;
            }
        }
    }
    for (HttpStream *st = h->streams, *next; st; st = next) {
        next = st->next;
        if (st->tenant_id == tenant_id && st->user_id == user_id)
            stream_end(st);
    }
}

/* ---- reports ---- */

typedef struct ReportCall {
    struct evhttp_request *req;
    ReportReq *q;
    bool csv;
} ReportCall;

static void report_done(void *arg, char *text, size_t len, const RpcError *err)
{
    ReportCall *rc = arg;
    if (err)
        reply_rpc_error(rc->req, err);
    else if (rc->csv) {
        evhttp_add_header(evhttp_request_get_output_headers(rc->req), "Content-Disposition",
                          "attachment; filename=\"kic-report.csv\"");
        http_reply_owned(rc->req, 200, "text/csv; charset=utf-8", text, len);
    } else {
        http_reply_owned(rc->req, 200, "application/json", text, len);
    }
    report_req_free(rc->q);
    free(rc);
}

static void report(Http *h, struct evhttp_request *req, const HttpUser *who, Tenant *t)
{
    static const char *const lists[] = {"group_by", NULL}, *const numbers[] = {NULL};
    RpcError qerr = {0};
    json_t *params = query_params(req, lists, numbers, &qerr);
    if (!params) {
        reply_rpc_error(req, &qerr);
        rpc_error_clear(&qerr);
        return;
    }
    const char *format = json_string_value(json_object_get(params, "format"));
    bool csv = format && strcmp(format, "csv") == 0;
    if (format && strcmp(format, "json") != 0 && !csv) {
        json_t *data = json_pack("{s:s, s:s}", "field", "format", "reason", "must be json or csv");
        http_reply_error(req, 400, RPC_INVALID_PARAMS, "invalid params: format must be json or csv",
                         data);
        json_decref(data);
        json_decref(params);
        return;
    }
    json_object_del(params, "format");
    ReportCall *rc = calloc(1, sizeof(*rc));
    if (!rc)
        abort();
    rc->req = req;
    rc->csv = csv;
    rc->q = report_req_new();
    RpcError err = {0};
    bool ok = report_parse(params, &h->srv->cfg, rc->q, &err);
    json_decref(params);
    Session sess = {.authenticated = true, .role = who->role, .tenant_id = who->tenant_id,
                    .tenant = t, .user_id = who->user_id};
    char *addr = NULL, peer[80] = "";
    ev_uint16_t port = 0;
    struct evhttp_connection *evcon = evhttp_request_get_connection(req);
    if (evcon)
        evhttp_connection_get_peer(evcon, &addr, &port);
    snprintf(peer, sizeof(peer), "%s:%u http", addr ? addr : "?", (unsigned)port);
    AuditActor actor = {who->tenant_id, who->user_id, who->user, who->role, peer};
    if (ok && !report_run(h->srv, &sess, &actor, rc->q, rc->csv, report_done, rc))
        rpc_error_set(&err, RPC_STORAGE_UNAVAILABLE, "storage unavailable: no report");
    else if (ok)
        return;
    reply_rpc_error(req, &err);
    rpc_error_clear(&err);
    report_req_free(rc->q);
    free(rc);
}

/* ---- routing ---- */

void http_api(Http *h, struct evhttp_request *req, const char *path)
{
    if (!h->srv->ready) {
        http_reply_error(req, 503, RPC_STORAGE_UNAVAILABLE, "starting: live state not loaded",
                         NULL);
        return;
    }
    if (strcmp(path, "/api/v1/live") == 0)
        with_user(h, req, live);
    else if (strcmp(path, "/api/v1/live/stream") == 0)
        with_user(h, req, live_stream);
    else if (strcmp(path, "/api/v1/report") == 0)
        with_user(h, req, report);
    else
        http_reply_error(req, 404, RPC_NOT_FOUND, "no such API", NULL);
}

void http_api_free(Http *h)
{
    http_stop(h);
    size_t pos = 0;
    void *v;
    while (strmap_next(&h->users, &pos, NULL, &v))
        free(v);
    strmap_free(&h->users);
}
