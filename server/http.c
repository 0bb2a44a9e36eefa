/* The HTTP listener and everything on it that is not the API: routing,
 * the built-in pages, /healthz and /metrics. GET (and HEAD) only. */
#include "http.h"

#include <arpa/inet.h>
#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <event2/listener.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http_internal.h"
#include "journal.h"
#include "jsonrpc.h"
#include "listener.h"
#include "monitor.h"
#include "pg.h"
#include "tls.h"
#include "web_assets.h"
#include "writer.h"

#define HTTP_IDLE_S 60
#define HTTP_MAX_HEADERS 16384
#define HTTP_BACKLOG 1024 /* as the JSON-RPC listener's */

/* Pages may run their own scripts and styles, talk to this server, and
 * nothing else; they are never framed. */
static const char page_policy[] =
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'";

static struct evbuffer *reply_start(struct evhttp_request *req, const char *content_type)
{
    struct evkeyvalq *h = evhttp_request_get_output_headers(req);
    evhttp_add_header(h, "Content-Type", content_type);
    evhttp_add_header(h, "Cache-Control", "no-store");
    evhttp_add_header(h, "X-Content-Type-Options", "nosniff");
    evhttp_add_header(h, "Referrer-Policy", "no-referrer");
    struct evbuffer *out = evbuffer_new();
    if (!out)
        abort();
    return out;
}

void http_reply(struct evhttp_request *req, int status, const char *content_type,
                const char *body, size_t len)
{
    struct evbuffer *out = reply_start(req, content_type);
    evbuffer_add(out, body, len);
    evhttp_send_reply(req, status, NULL, out);
    evbuffer_free(out);
}

static void free_body(const void *data, size_t len, void *arg)
{
    (void)data;
    (void)len;
    free(arg);
}

void http_reply_owned(struct evhttp_request *req, int status, const char *content_type,
                      char *body, size_t len)
{
    struct evbuffer *out = reply_start(req, content_type);
    if (evbuffer_add_reference(out, body, len, free_body, body) != 0)
        abort();
    evhttp_send_reply(req, status, NULL, out);
    evbuffer_free(out);
}

void http_reply_json(struct evhttp_request *req, int status, const char *json)
{
    http_reply(req, status, "application/json", json, strlen(json));
}

void http_reply_error(struct evhttp_request *req, int status, int code, const char *message,
                      json_t *data)
{
    json_t *err = json_pack("{s:i, s:s}", "code", code, "message", message);
    if (data)
        json_object_set(err, "data", data);
    json_t *body = json_pack("{s:o}", "error", err);
    char *text = json_dumps(body, JSON_COMPACT);
    json_decref(body);
    if (status == 401)
        evhttp_add_header(evhttp_request_get_output_headers(req), "WWW-Authenticate",
                          "Bearer realm=\"kicd\"");
    http_reply_json(req, status, text ? text : "{}");
    free(text);
}

/* ---- pages ---- */

static const char *content_type_of(const char *name)
{
    static const struct {
        const char *ext, *type;
    } types[] = {
        {".html", "text/html; charset=utf-8"}, {".css", "text/css; charset=utf-8"},
        {".js", "text/javascript; charset=utf-8"}, {".mjs", "text/javascript; charset=utf-8"},
        {".svg", "image/svg+xml"}, {".png", "image/png"}, {".ico", "image/x-icon"},
        {".json", "application/json"}, {".txt", "text/plain; charset=utf-8"},
    };
    const char *dot = strrchr(name, '.');
    for (size_t i = 0; dot && i < KIC_ARRAY_LEN(types); i++)
        if (strcmp(dot, types[i].ext) == 0)
            return types[i].type;
    return "application/octet-stream";
}

static const WebAsset *asset_named(const char *name)
{
    for (size_t i = 0; i < web_assets_count; i++)
        if (strcmp(web_assets[i].name, name) == 0)
            return &web_assets[i];
    return NULL;
}

static void serve_asset(struct evhttp_request *req, const char *name)
{
    const WebAsset *a = asset_named(name);
    if (!a) {
        http_reply_error(req, 404, RPC_NOT_FOUND, "no such page", NULL);
        return;
    }
    evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Security-Policy",
                      page_policy);
    http_reply(req, 200, content_type_of(a->name), (const char *)a->data, a->len);
}

/* ---- operations ---- */

static void serve_healthz(Http *h, struct evhttp_request *req)
{
    Server *s = h->srv;
    bool pg_up = pgconn_is_up(s->pg_writer);
    WriterStats ws;
    writer_stats(s->writer, &ws);
    const char *status = !s->ready ? "loading" : pg_up ? "ok" : "degraded";
    json_t *body = json_pack(
        "{s:s, s:s, s:b, s:I, s:I, s:I, s:I, s:I, s:s}", "status", status, "postgres",
        pg_up ? "up" : "down", "ready", s->ready, "journal_backlog", (json_int_t)journal_records(s->journal), "writer_queue",
        (json_int_t)ws.queued, "connections", (json_int_t)s->nconns, "http_connections", (json_int_t)h->nconns, "uptime_s",
        (json_int_t)((server_now() - s->started_at) / KIC_USEC), "version", KIC_VERSION);
    char *text = json_dumps(body, JSON_COMPACT);
    json_decref(body);
    http_reply_json(req, s->ready && pg_up ? 200 : 503, text);
    free(text);
}

static void serve_metrics(Http *h, struct evhttp_request *req)
{
    char *text = monitor_prometheus(h->srv);
    if (!text)
        abort();
    http_reply(req, 200, "text/plain; version=0.0.4; charset=utf-8", text, strlen(text));
    free(text);
}

/* ---- counting and timing connections ----
 *
 * libevent 2.1's evhttp has no cap on its connections and tells of a new
 * one only by asking for its bufferevent. So the bufferevent callback
 * queues an adoption, run in the same turn of the loop, right after
 * evhttp has made the connection (and before any of its I/O can be
 * handled): the connection is counted, and its close callback counts it
 * out. One over the cap is closed at once, unanswered; those open are
 * served all along, and the JSON-RPC listener is not touched.
 *
 * evhttp's timeout restarts with every byte read, so a client sending
 * one header line every few seconds would hold its connection for ever,
 * and enough of them every connection there is. A connection therefore
 * owes a whole request head within login_timeout_s of opening, and
 * again of each answer (an idle keep-alive connection is closed then
 * too); a sweep once a second closes those behind. One being answered
 * (a report, an event stream) owes nothing. */

typedef struct Adoption {
    Http *http;
    struct bufferevent *bev;
} Adoption;

HttpConn *http_conn_of(Http *h, struct evhttp_connection *evcon)
{
    for (size_t i = h->nconns; i-- > 0;) /* the newest first: usually the asker */
        if (h->conns[i]->evcon == evcon)
            return h->conns[i];
    return NULL;
}

void http_conn_closed(struct evhttp_connection *evcon, void *arg)
{
    (void)evcon;
    HttpConn *c = arg;
    Http *h = c->http;
    HttpConn *last = h->conns[--h->nconns];
    h->conns[c->index] = last;
    last->index = c->index;
    free(c);
}

static void request_answered(struct evhttp_request *req, void *arg)
{
    (void)req;
    HttpConn *c = arg;
    c->serving = false;
    c->head_since = server_now();
}

/* Called for every request evhttp has read the head of. */
static void request_started(Http *h, struct evhttp_request *req)
{
    struct evhttp_connection *evcon = evhttp_request_get_connection(req);
    HttpConn *c = evcon ? http_conn_of(h, evcon) : NULL;
    if (!c)
        return;
    c->serving = true;
    evhttp_request_set_on_complete_cb(req, request_answered, c);
}

static void sweep_slow_heads(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    Http *h = arg;
    KicTime cutoff = server_now() - (KicTime)h->srv->cfg.login_timeout_s * KIC_USEC;
    for (size_t i = h->nconns; i-- > 0;) { /* freeing one moves the last into i */
        HttpConn *c = h->conns[i];
        if (!c->serving && c->head_since < cutoff)
            evhttp_connection_free(c->evcon); /* its close callback counts it out */
    }
}

static void log_http_refusal(Http *h, bool made_room)
{
    char more[64];
    if (log_throttle(made_room ? &h->made_room : &h->refusals, server_now(), more, sizeof(more)))
        srv_log(h->srv, LOG_WARN, "%s%s: %zu open (max_http_connections)",
                made_room ? "closed the HTTP connection idle longest to take a new one"
                          : "refused an HTTP connection",
                more, h->nconns - 1); /* the one closed is counted until it is */
}

/* The connection, other than `except`, waiting longest for a request head
 * (not being answered), or NULL. */
static HttpConn *longest_idle(Http *h, const HttpConn *except)
{
    HttpConn *best = NULL;
    for (size_t i = 0; i < h->nconns; i++) {
        HttpConn *c = h->conns[i];
        if (c != except && !c->serving && (!best || c->head_since < best->head_since))
            best = c;
    }
    return best;
}

static void adopt_connection(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    Adoption *a = arg;
    Http *h = a->http;
    void *evcon = NULL;
    bufferevent_getcb(a->bev, NULL, NULL, NULL, &evcon); /* evhttp's own argument */
    free(a);
    if (!evcon)
        return;
    HttpConn *c = calloc(1, sizeof(*c));
    if (!c)
        abort();
    c->http = h;
    c->evcon = evcon;
    c->head_since = server_now();
    if (h->nconns == h->conns_cap) {
        h->conns_cap = h->conns_cap ? 2 * h->conns_cap : 64;
        h->conns = realloc(h->conns, h->conns_cap * sizeof(*h->conns));
        if (!h->conns)
            abort();
    }
    c->index = h->nconns;
    h->conns[h->nconns++] = c;
    evhttp_connection_set_closecb(evcon, http_conn_closed, c);
    if (h->nconns > (size_t)h->srv->cfg.max_http_connections) {
        /* the one that has waited longest for a request head makes room,
         * as on the JSON-RPC port, so idle connections cannot keep a
         * supervisor out; one being answered is never closed for room */
        HttpConn *idle = longest_idle(h, c);
        log_http_refusal(h, idle != NULL);
        evhttp_connection_free(idle ? idle->evcon : evcon); /* its close callback counts it out */
    }
}

/* ---- routing ---- */

static void on_request(struct evhttp_request *req, void *arg)
{
    Http *h = arg;
    h->srv->metrics->http_requests++;
    request_started(h, req);
    const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
    const char *path = uri ? evhttp_uri_get_path(uri) : NULL;
    if (!path || !*path) {
        http_reply_error(req, 400, RPC_INVALID_REQUEST, "bad request", NULL);
        return;
    }
    if (strncmp(path, "/api/v1/", 8) == 0)
        http_api(h, req, path);
    else if (strcmp(path, "/healthz") == 0)
        serve_healthz(h, req);
    else if (strcmp(path, "/metrics") == 0)
        serve_metrics(h, req);
    else if (strcmp(path, "/wallboard") == 0)
        serve_asset(req, "wallboard.html");
    else if (strcmp(path, "/report") == 0)
        serve_asset(req, "report.html");
    else if (strcmp(path, "/") == 0)
        serve_asset(req, "index.html");
    else if (strncmp(path, "/static/", 8) == 0 && !strchr(path + 8, '/'))
        serve_asset(req, path + 8);
    else
        http_reply_error(req, 404, RPC_NOT_FOUND, "no such page", NULL);
}

/* HTTPS when the server has TLS: evhttp hands the socket over. */
static struct bufferevent *new_bufferevent(struct event_base *base, void *arg)
{
    Http *h = arg;
    Server *s = h->srv;
    struct bufferevent *bev = s->tls ? tls_bufferevent(base, s->tls, -1)
                                     : bufferevent_socket_new(base, -1, BEV_OPT_CLOSE_ON_FREE);
    Adoption *a = malloc(sizeof(*a));
    if (!bev || !a)
        abort();
    a->http = h;
    a->bev = bev;
    /* no time given: active at once, in this turn of the loop */
    if (event_base_once(base, -1, EV_TIMEOUT, adopt_connection, a, NULL) != 0)
        abort();
    return bev;
}

/* Out of descriptors, evhttp's listener would retry accept() at once, for
 * ever (listener.c says more). It pauses as the JSON-RPC listener does.
 * The error callback gets only evhttp's own pointer, so the resume is a
 * one-off timer holding the listener: it cannot outlive it, because the
 * listener is freed only after the event loop has stopped, and libevent
 * drops pending one-off timers with the base. */
static void http_resume(evutil_socket_t fd, short what, void *arg)
{
    evconnlistener_enable(arg);
}

static void http_accept_error(struct evconnlistener *lev, void *evhttp)
{
    static const struct timeval pause = {0, ACCEPT_PAUSE_MS * 1000};
    evconnlistener_disable(lev);
    struct event_base *base = evconnlistener_get_base(lev);
    if (event_base_once(base, -1, EV_TIMEOUT, http_resume, lev, &pause) != 0)
        evconnlistener_enable(lev); /* no timer: better busy than deaf */
}

Http *http_start(Server *s, const char *addr, char *err, size_t errlen)
{
    struct sockaddr_storage ss;
    int sslen;
    if (!listen_addr_parse(addr, &ss, &sslen)) {
        snprintf(err, errlen, "http: bad address %s (HOST:PORT)", addr);
        return NULL;
    }
    Http *h = calloc(1, sizeof(*h));
    if (!h)
        abort();
    h->srv = s;
    h->evh = evhttp_new(s->base);
    if (!h->evh)
        abort();
    evhttp_set_allowed_methods(h->evh, EVHTTP_REQ_GET | EVHTTP_REQ_HEAD);
    evhttp_set_max_headers_size(h->evh, HTTP_MAX_HEADERS);
    evhttp_set_max_body_size(h->evh, 0);
    evhttp_set_timeout(h->evh, HTTP_IDLE_S);
    evhttp_set_gencb(h->evh, on_request, h);
    evhttp_set_bevcb(h->evh, new_bufferevent, h);
    struct evconnlistener *lev =
        evconnlistener_new_bind(s->base, NULL, NULL,
                                LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC | LEV_OPT_REUSEABLE,
                                HTTP_BACKLOG, (struct sockaddr *)&ss, sslen);
    h->sock = lev ? evhttp_bind_listener(h->evh, lev) : NULL;
    if (!h->sock) {
        snprintf(err, errlen, "http: cannot listen on %s: %s", addr, strerror(errno));
        if (lev)
            evconnlistener_free(lev);
        evhttp_free(h->evh);
        free(h);
        return NULL;
    }
    evconnlistener_set_error_cb(evhttp_bound_socket_get_listener(h->sock), http_accept_error);
    static const struct timeval second = {1, 0};
    h->head_sweep = event_new(s->base, -1, EV_PERSIST, sweep_slow_heads, h);
    if (!h->head_sweep || event_add(h->head_sweep, &second) != 0)
        abort();
    return h;
}

size_t http_connections(const Http *h)
{
    return h ? h->nconns : 0;
}

void http_free(Http *h)
{
    if (!h)
        return;
    http_api_free(h);
    event_free(h->head_sweep);
    evhttp_free(h->evh); /* closes every connection: the close callbacks empty conns */
    free(h->conns);
    free(h);
}
