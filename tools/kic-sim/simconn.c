/* One kicd connection of the simulator (the bridge's, or an agent's):
 * connect, auth.login with its token, then pipeline its pending requests
 * (up to max_inflight at once) in seq order, as far as the driver says
 * each may go. kicd answers a connection's requests in order, so the
 * answer to the head of the in-flight list is the usual case. A lost
 * connection puts everything in flight back (in seq order) and
 * reconnects after an exponential back-off; a refused token ends the
 * connection for good. With --tls the same runs over TLS (tooltls.h); a
 * failed handshake is logged with its reason and retried the same way. */
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/dns.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "driver.h"
#include "jsonrpc.h"
#include "toollog.h"
#include "toolnet.h"
#include "tooltls.h"

#define SC_MAX_REPLY (1024 * 1024)
#define SC_OUTPUT_HIGH (512 * 1024) /* stop writing above this much unsent */
#define SC_BACKOFF_MIN (KIC_USEC / 2)
#define SC_BACKOFF_MAX (30 * KIC_USEC)

void reqlist_insert_sorted(ReqList *l, Request *r)
{
    r->next = NULL;
    if (!l->tail || l->tail->a.seq < r->a.seq) { /* the usual case: in order */
        if (l->tail)
            l->tail->next = r;
        else
            l->head = r;
        l->tail = r;
    } else if (l->head->a.seq > r->a.seq) {
        r->next = l->head;
        l->head = r;
    } else {
        Request *p = l->head;
        while (p->next && p->next->a.seq < r->a.seq)
            p = p->next;
        r->next = p->next;
        p->next = r;
        if (!r->next)
            l->tail = r;
    }
    l->n++;
}

Request *reqlist_pop(ReqList *l)
{
    Request *r = l->head;
    if (!r)
        return NULL;
    l->head = r->next;
    if (!l->head)
        l->tail = NULL;
    l->n--;
    r->next = NULL;
    return r;
}

static void append(ReqList *l, Request *r)
{
    r->next = NULL;
    if (l->tail)
        l->tail->next = r;
    else
        l->head = r;
    l->tail = r;
    l->n++;
}

/* Removes the in-flight request with this id (usually the head). */
static Request *take_inflight(ReqList *l, long id)
{
    Request *prev = NULL;
    for (Request *r = l->head; r; prev = r, r = r->next) {
        if (r->id != id)
            continue;
        if (prev)
            prev->next = r->next;
        else
            l->head = r->next;
        if (l->tail == r)
            l->tail = prev;
        l->n--;
        r->next = NULL;
        return r;
    }
    return NULL;
}

static void schedule(SimConn *c, KicTime delay)
{
    struct timeval tv = {(time_t)(delay / KIC_USEC), (suseconds_t)(delay % KIC_USEC)};
    evtimer_add(c->timer, &tv);
}

static void requeue_inflight(SimConn *c)
{
    Request *r;
    while ((r = reqlist_pop(&c->inflight)))
        reqlist_insert_sorted(&c->pending, r);
}

/* Closes the connection, puts what was in flight back, and reconnects
 * after the back-off; logs why at level (rate-limited: every agent's
 * connection fails alike). */
static void drop_as(SimConn *c, LogLevel level, const char *why)
{
    if (c->bev) {
        bufferevent_free(c->bev);
        c->bev = NULL;
    }
    size_t inflight = c->inflight.n;
    requeue_inflight(c);
    c->state = SC_DOWN;
    evtimer_del(c->timer);
    KicTime delay = c->backoff;
    c->backoff = c->backoff * 2 > SC_BACKOFF_MAX ? SC_BACKOFF_MAX : c->backoff * 2;
    log_limited(level, "conn-drop",
                "%s: %s; %zu requests in flight will be re-sent; reconnecting in %.1f s", c->name,
                why, inflight, (double)delay / KIC_USEC);
    schedule(c, delay);
    driver_kick(c->d);
}

/* A lost connection is news; one that never came up is retried quietly. */
static void drop(SimConn *c, const char *why)
{
    drop_as(c, c->state == SC_UP ? LOG_WARN : LOG_INFO, why);
}

static void send_text(SimConn *c, const char *line)
{
    struct evbuffer *out = bufferevent_get_output(c->bev);
    evbuffer_add(out, line, strlen(line));
    evbuffer_add(out, "\n", 1);
    c->last_tx = driver_now();
}

void simconn_flush(SimConn *c)
{
    Driver *d = c->d;
    if (c->state != SC_UP || !c->bev)
        return;
    struct evbuffer *out = bufferevent_get_output(c->bev);
    KicTime now = driver_now();
    while (c->inflight.n < d->cfg.max_inflight && evbuffer_get_length(out) < SC_OUTPUT_HIGH) {
        Request *r = c->pending.head;
        if (!r || r->not_before > now)
            break;
        bool skip = false;
        if (!driver_ready(d, r, &skip)) {
            if (!skip)
                break; /* waits for an answer elsewhere; later ones wait behind it */
            driver_skip(d, reqlist_pop(&c->pending), NULL);
            continue;
        }
        reqlist_pop(&c->pending);
        r->id = ++c->next_id;
        char *line = driver_request_line(d, r, r->id);
        if (!line) {
            driver_skip(d, r, "out of memory");
            continue;
        }
        send_text(c, line);
        free(line);
        if (r->attempts++ == 0)
            d->counts[r->a.method].sent++;
        else if (c->index == 0)
            d->bridge_unsorted = true;
        append(&c->inflight, r);
    }
}

static const char *text_of(json_t *v)
{
    const char *s = json_string_value(v);
    return s ? s : "?";
}

static void on_login_reply(SimConn *c, json_t *msg)
{
    json_t *err = json_object_get(msg, "error");
    if (err) {
        log_write(LOG_ERROR, "%s: kicd refused the token: %s (%lld)", c->name,
                  text_of(json_object_get(err, "message")),
                  (long long)json_integer_value(json_object_get(err, "code")));
        if (c->bev) {
            bufferevent_free(c->bev);
            c->bev = NULL;
        }
        evtimer_del(c->timer);
        requeue_inflight(c);
        c->state = SC_DEAD;
        driver_conn_dead(c->d, c);
        return;
    }
    json_t *res = json_object_get(msg, "result");
    const char *role = json_string_value(json_object_get(res, "role"));
    const char *want = c->index == 0 ? "bridge" : "agent";
    if (!role || strcmp(role, want) != 0)
        log_write(LOG_WARN, "%s: this token has role '%s', not '%s': kicd will refuse its requests",
                  c->name, role ? role : "?", want);
    const char *agent = json_string_value(json_object_get(res, "agent"));
    if (c->index > 0 && (!agent || strcmp(agent, c->name) != 0))
        log_write(LOG_WARN, "%s: the token belongs to agent '%s': its wrap-ups will be refused",
                  c->name, agent ? agent : "(none)");
    evtimer_del(c->timer);
    c->state = SC_UP;
    c->backoff = SC_BACKOFF_MIN;
    log_write(LOG_DEBUG, "%s: logged in (tenant %s)", c->name, text_of(json_object_get(res, "tenant")));
    simconn_flush(c);
    driver_kick(c->d);
}

static void on_line(SimConn *c, const char *line, size_t len)
{
    json_error_t jerr;
    json_t *msg = json_loadb(line, len, 0, &jerr);
    if (!json_is_object(msg)) {
        log_limited(LOG_WARN, "bad-line", "%s: kicd sent a line that is not a JSON object: %.200s",
                    c->name, line);
        json_decref(msg);
        return;
    }
    json_t *id = json_object_get(msg, "id");
    if (json_is_string(id) && strcmp(json_string_value(id), "login") == 0) {
        on_login_reply(c, msg);
    } else if (json_is_integer(id)) {
        Request *r = take_inflight(&c->inflight, (long)json_integer_value(id));
        json_t *err = json_object_get(msg, "error");
        if (!r) {
            log_limited(LOG_WARN, "unknown-id", "%s: an answer to request %lld, which is not in flight",
                        c->name, (long long)json_integer_value(id));
        } else if (err && json_integer_value(json_object_get(err, "code")) == RPC_UNAUTHENTICATED) {
            reqlist_insert_sorted(&c->pending, r);
            drop(c, "kicd says the session is not logged in");
        } else if (driver_answer(c->d, c, r, msg)) {
            reqlist_insert_sorted(&c->pending, r); /* to be retried */
        }
    } else if (json_is_string(id)) {
        /* a heartbeat's answer */
    } else if (json_object_get(msg, "method")) {
        log_write(LOG_DEBUG, "%s: notification %s", c->name, text_of(json_object_get(msg, "method")));
    } else {
        json_t *err = json_object_get(msg, "error");
        log_limited(LOG_ERROR, "no-id", "%s: kicd error without id: %s", c->name,
                    err ? text_of(json_object_get(err, "message")) : "?");
    }
    json_decref(msg);
}

static void on_read(struct bufferevent *bev, void *arg)
{
    SimConn *c = arg;
    c->last_rx = driver_now();
    struct evbuffer *in = bufferevent_get_input(bev);
    while (c->bev && c->state != SC_DEAD) {
        char *line;
        size_t len;
        FrameResult r = framer_next(&c->framer, &line, &len);
        if (r == FRAME_LINE) {
            on_line(c, line, len);
            continue;
        }
        if (r == FRAME_TOO_LONG) {
            drop(c, "kicd sent an over-long line");
            return;
        }
        size_t space;
        char *dst = framer_space(&c->framer, &space);
        if (evbuffer_get_length(in) == 0 || space == 0)
            break;
        int n = evbuffer_remove(in, dst, space);
        if (n <= 0)
            break;
        framer_commit(&c->framer, (size_t)n);
    }
    simconn_flush(c);
    driver_kick(c->d);
}

static void on_write(struct bufferevent *bev, void *arg)
{
    simconn_flush(arg); /* the output drained below the watermark */
}

static void on_event(struct bufferevent *bev, short what, void *arg)
{
    SimConn *c = arg;
    if (what & BEV_EVENT_CONNECTED) {
        c->last_rx = driver_now();
        json_t *req = json_pack("{s:s, s:s, s:s, s:{s:s}}", "jsonrpc", "2.0", "id", "login",
                                "method", "auth.login", "params", "token", c->token);
        char *line = req ? json_dumps(req, JSON_COMPACT) : NULL;
        json_decref(req);
        if (!line) {
            drop(c, "out of memory");
            return;
        }
        send_text(c, line);
        free(line);
        c->state = SC_LOGGING_IN;
        schedule(c, c->d->cfg.connect_timeout);
        return;
    }
    if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR)) {
        char why[384];
        bool connected = c->state == SC_LOGGING_IN || c->state == SC_UP;
        LogLevel level = tooltls_failure(bev, what, c->d->cfg.tls != NULL, connected,
                                         c->state == SC_UP, why, sizeof(why));
        drop_as(c, level, why);
    }
}

static void connect_now(SimConn *c)
{
    Driver *d = c->d;
    c->bev = tooltls_bufferevent(d->base, d->cfg.tls, d->cfg.host);
    if (!c->bev) {
        drop(c, "out of memory");
        return;
    }
    bufferevent_setcb(c->bev, on_read, on_write, on_event, c);
    bufferevent_setwatermark(c->bev, EV_WRITE, SC_OUTPUT_HIGH / 4, 0);
    bufferevent_enable(c->bev, EV_READ | EV_WRITE);
    framer_free(&c->framer);
    if (!framer_init(&c->framer, SC_MAX_REPLY)) {
        drop(c, "out of memory");
        return;
    }
    c->state = SC_CONNECTING;
    schedule(c, d->cfg.connect_timeout);
    if (bufferevent_socket_connect_hostname(c->bev, d->dns, AF_UNSPEC, d->cfg.host, d->cfg.port) != 0)
        drop(c, "cannot start connecting");
}

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
    SimConn *c = arg;
    switch (c->state) {
    case SC_DOWN: connect_now(c); break;
    case SC_CONNECTING:
        drop(c, c->d->cfg.tls ? "connect or TLS handshake timed out" : "connect timed out");
        break;
    case SC_LOGGING_IN: drop(c, "no answer to auth.login"); break;
    case SC_UP:
    case SC_DEAD: break;
    }
}

bool simconn_init(SimConn *c, Driver *d, int index, const char *name, const char *token)
{
    memset(c, 0, sizeof(*c));
    c->d = d;
    c->index = index;
    c->name = name;
    c->token = token;
    c->backoff = SC_BACKOFF_MIN;
    c->state = token ? SC_DOWN : SC_DEAD;
    c->timer = evtimer_new(d->base, on_timer, c);
    return c->timer && framer_init(&c->framer, SC_MAX_REPLY);
}

void simconn_free(SimConn *c)
{
    if (c->bev)
        bufferevent_free(c->bev);
    if (c->timer)
        event_free(c->timer);
    framer_free(&c->framer);
    Request *r;
    while ((r = reqlist_pop(&c->pending))) {
        sim_action_clear(&r->a);
        free(r);
    }
    while ((r = reqlist_pop(&c->inflight))) {
        sim_action_clear(&r->a);
        free(r);
    }
}

void simconn_start(SimConn *c)
{
    if (c->state == SC_DOWN)
        connect_now(c);
}

void simconn_tick(SimConn *c, KicTime now)
{
    if (c->state != SC_UP)
        return;
    KicTime every = c->d->cfg.ping_interval;
    if (now - c->last_rx > 3 * every) {
        /* we ping when idle, so silence this long means a dead peer */
        drop(c, "no answer from kicd for too long");
        return;
    }
    if (now - c->last_tx >= every) {
        char line[96];
        snprintf(line, sizeof(line), "{\"jsonrpc\":\"2.0\",\"id\":\"ping-%llu\",\"method\":\"server.ping\"}",
                 ++c->pings);
        send_text(c, line);
    }
    simconn_flush(c); /* retries that came due */
}
