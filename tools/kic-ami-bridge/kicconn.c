/* The kicd connection: connect, auth.login with the bridge token, then
 * pipeline the outbox (up to max_inflight requests at once) and book each
 * answer: accepted or duplicate → done; -32602/-32600 → dropped with an
 * error logged (it can never be accepted); -32029/-32050/-32603 → retried
 * later; -32001 → log in again. Anything else is kept and retried slowly,
 * so a misconfiguration costs time, not events. A lost connection re-sends
 * every unanswered event, oldest first, after an exponential back-off.
 * With --tls the same runs over TLS (tooltls.h); a failed handshake is
 * logged with its reason and retried like any lost connection. */
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/dns.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bridge.h"
#include "jsonrpc.h"
#include "toollog.h"
#include "toolnet.h"
#include "tooltls.h"

#define KIC_MAX_REPLY (256 * 1024)
#define KIC_OUTPUT_HIGH (512 * 1024) /* stop writing above this much unsent */

static void schedule(KicConn *k, KicTime delay)
{
    struct timeval tv = {(time_t)(delay / KIC_USEC), (suseconds_t)(delay % KIC_USEC)};
    evtimer_add(k->ev_timer, &tv);
}

/* Closes the connection, puts what was in flight back, and reconnects
 * after the back-off; logs why at level. */
static void drop_as(KicConn *k, LogLevel level, const char *why)
{
    Bridge *br = k->br;
    if (k->bev) {
        bufferevent_free(k->bev);
        k->bev = NULL;
    }
    k->state = KIC_DOWN;
    size_t inflight = br->outbox.inflight;
    outbox_requeue(&br->outbox);
    evtimer_del(k->ev_timer);
    if (k->stopped)
        return;
    KicTime delay = backoff_next(&k->backoff);
    delay += (KicTime)(((double)random() / RAND_MAX - 0.5) * 0.4 * (double)delay);
    log_write(level, "kicd %s:%d: %s; %zu events in flight will be re-sent; reconnecting in %.1f s",
              br->cfg.kicd.host, br->cfg.kicd.port, why, inflight, (double)delay / KIC_USEC);
    schedule(k, delay);
}

/* A lost connection is news; one that never came up is retried quietly. */
static void drop(KicConn *k, const char *why)
{
    drop_as(k, k->state == KIC_UP ? LOG_WARN : LOG_INFO, why);
}

static void send_line(KicConn *k, const char *line, size_t len)
{
    struct evbuffer *out = bufferevent_get_output(k->bev);
    evbuffer_add(out, line, len);
    evbuffer_add(out, "\n", 1);
    k->last_tx = bridge_now();
}

static void send_request(KicConn *k, const char *id, const char *method, json_t *params)
{
    json_t *req = json_pack("{s:s, s:s, s:s}", "jsonrpc", "2.0", "id", id, "method", method);
    if (params)
        json_object_set(req, "params", params);
    char *line = json_dumps(req, JSON_COMPACT);
    json_decref(req);
    if (line) {
        send_line(k, line, strlen(line));
        free(line);
    }
}

void kicconn_flush(KicConn *k)
{
    Bridge *br = k->br;
    if (k->state != KIC_UP || !k->bev)
        return;
    struct evbuffer *out = bufferevent_get_output(k->bev);
    KicTime now = bridge_now();
    while (br->outbox.inflight < br->cfg.max_inflight &&
           evbuffer_get_length(out) < KIC_OUTPUT_HIGH) {
        OutboxEntry *e = outbox_next(&br->outbox, now);
        if (!e)
            break;
        send_line(k, e->line, e->line_len);
        outbox_sent(&br->outbox, e);
        if (e->attempts > 1)
            log_write(LOG_DEBUG, "re-sent %s %s (attempt %u)", e->method, e->event_id, e->attempts);
    }
}

/* The delay before an event that kicd could not take yet is tried again. */
static KicTime retry_delay(const OutboxEntry *e, int code)
{
    KicTime d = KIC_USEC / 2;
    for (unsigned i = 1; i < e->attempts && d < 30 * KIC_USEC; i++)
        d *= 2;
    if (code != RPC_OVERLOADED && code != RPC_STORAGE_UNAVAILABLE && code != RPC_INTERNAL)
        d = 30 * KIC_USEC; /* not a transient state: do not hammer */
    return d > 30 * KIC_USEC ? 30 * KIC_USEC : d;
}

static const char *text_of(json_t *v)
{
    const char *s = json_string_value(v);
    return s ? s : "?";
}

static void on_login_reply(KicConn *k, json_t *msg)
{
    Bridge *br = k->br;
    json_t *err = json_object_get(msg, "error");
    if (err) {
        log_write(LOG_ERROR, "kicd refused the bridge token: %s (%lld)",
                  json_string_value(json_object_get(err, "message")),
                  (long long)json_integer_value(json_object_get(err, "code")));
        drop(k, "login refused");
        return;
    }
    json_t *res = json_object_get(msg, "result");
    const char *role = json_string_value(json_object_get(res, "role"));
    if (!role || strcmp(role, "bridge") != 0)
        log_write(LOG_WARN, "kicd: this token has role '%s', not 'bridge': events will be refused",
                  role ? role : "?");
    evtimer_del(k->ev_timer);
    k->state = KIC_UP;
    backoff_reset(&k->backoff);
    log_write(LOG_INFO, "kicd %s:%d: logged in (tenant %s, user %s); %zu events to send",
              br->cfg.kicd.host, br->cfg.kicd.port, text_of(json_object_get(res, "tenant")),
              text_of(json_object_get(res, "user")), br->outbox.live);
    kicconn_flush(k);
}

static void on_event_reply(KicConn *k, uint64_t seq, json_t *msg)
{
    Bridge *br = k->br;
    OutboxEntry *e = outbox_find(&br->outbox, seq);
    if (!e || e->state != OUTBOX_INFLIGHT) {
        log_write(LOG_DEBUG, "kicd answered request %llu, which is not in flight",
                  (unsigned long long)seq);
        return;
    }
    json_t *err = json_object_get(msg, "error");
    if (!err) {
        json_t *res = json_object_get(msg, "result");
        bool accepted = json_is_true(json_object_get(res, "accepted"));
        bool duplicate = json_is_true(json_object_get(res, "duplicate"));
        if (!accepted && !duplicate)
            log_write(LOG_WARN, "kicd answered %s %s without accepting it; taking it as done",
                      e->method, e->event_id);
        else
            log_write(LOG_DEBUG, "%s %s %s", e->method, e->event_id,
                      duplicate ? "was a duplicate" : "accepted");
        outbox_answer(&br->outbox, seq, OUTBOX_ACCEPTED, 0);
        return;
    }
    int code = (int)json_integer_value(json_object_get(err, "code"));
    const char *message = json_string_value(json_object_get(err, "message"));
    char *data = json_object_get(err, "data") ? json_dumps(json_object_get(err, "data"), JSON_COMPACT)
                                              : NULL;
    switch (code) {
    case RPC_INVALID_PARAMS:
    case RPC_INVALID_REQUEST: {
        char *shown = outbox_line_for_log(e->line);
        log_write(LOG_ERROR, "kicd rejected %s %s for good (%d %s %s): dropped; line: %s",
                  e->method, e->event_id, code, message ? message : "", data ? data : "",
                  shown ? shown : "(unreadable)");
        free(shown);
        outbox_answer(&br->outbox, seq, OUTBOX_REJECTED, 0);
        break;
    }
    case RPC_UNAUTHENTICATED:
        free(data);
        drop(k, "kicd says the session is not logged in");
        return;
    default: {
        KicTime delay = retry_delay(e, code);
        log_write(code == RPC_OVERLOADED || code == RPC_STORAGE_UNAVAILABLE ? LOG_WARN : LOG_ERROR,
                  "kicd could not take %s %s (%d %s): retrying in %.1f s", e->method, e->event_id,
                  code, message ? message : "", (double)delay / KIC_USEC);
        outbox_answer(&br->outbox, seq, OUTBOX_RETRY, bridge_now() + delay);
        break;
    }
    }
    free(data);
}

static void on_line(KicConn *k, const char *line, size_t len)
{
    json_error_t jerr;
    json_t *msg = json_loadb(line, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!json_is_object(msg)) {
        log_write(LOG_WARN, "kicd sent a line that is not a JSON object: %.200s", line);
        json_decref(msg);
        return;
    }
    json_t *id = json_object_get(msg, "id");
    if (json_is_string(id) && strcmp(json_string_value(id), "login") == 0) {
        on_login_reply(k, msg);
    } else if (json_is_integer(id) && json_integer_value(id) > 0) {
        on_event_reply(k, (uint64_t)json_integer_value(id), msg);
    } else if (json_is_string(id)) {
        /* a heartbeat's answer: the connection is alive */
    } else if (json_object_get(msg, "method")) {
        log_write(LOG_DEBUG, "kicd notification %s", json_string_value(json_object_get(msg, "method")));
    } else {
        json_t *err = json_object_get(msg, "error");
        log_write(LOG_ERROR, "kicd error without id: %s",
                  err ? json_string_value(json_object_get(err, "message")) : "?");
    }
    json_decref(msg);
}

static void on_read(struct bufferevent *bev, void *arg)
{
    KicConn *k = arg;
    Bridge *br = k->br;
    k->last_rx = bridge_now();
    struct evbuffer *in = bufferevent_get_input(bev);
    while (k->bev) {
        char *line;
        size_t len;
        FrameResult r = framer_next(&k->framer, &line, &len);
        if (r == FRAME_LINE) {
            on_line(k, line, len);
            continue;
        }
        if (r == FRAME_TOO_LONG) {
            drop(k, "kicd sent an over-long line");
            return;
        }
        size_t space;
        char *dst = framer_space(&k->framer, &space);
        if (evbuffer_get_length(in) == 0 || space == 0)
            break;
        int n = evbuffer_remove(in, dst, space);
        if (n <= 0)
            break;
        framer_commit(&k->framer, (size_t)n);
    }
    if (k->state == KIC_UP)
        kicconn_flush(k);
    bridge_outbox_changed(br);
}

static void on_write(struct bufferevent *bev, void *arg)
{
    kicconn_flush(arg); /* the output drained below the watermark */
}

static void on_event(struct bufferevent *bev, short what, void *arg)
{
    KicConn *k = arg;
    if (what & BEV_EVENT_CONNECTED) {
        k->last_rx = bridge_now();
        json_t *params = json_pack("{s:s}", "token", k->br->cfg.token);
        send_request(k, "login", "auth.login", params);
        json_decref(params);
        k->state = KIC_LOGGING_IN;
        schedule(k, k->br->cfg.connect_timeout);
        return;
    }
    if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR)) {
        char why[384];
        bool connected = k->state == KIC_LOGGING_IN || k->state == KIC_UP;
        LogLevel level = tooltls_failure(bev, what, k->br->cfg.tls != NULL, connected,
                                         k->state == KIC_UP, why, sizeof(why));
        drop_as(k, level, why);
    }
}

static void connect_now(KicConn *k)
{
    Bridge *br = k->br;
    k->bev = tooltls_bufferevent(br->base, br->cfg.tls, br->cfg.kicd.host);
    if (!k->bev) {
        drop(k, "out of memory");
        return;
    }
    bufferevent_setcb(k->bev, on_read, on_write, on_event, k);
    bufferevent_setwatermark(k->bev, EV_WRITE, KIC_OUTPUT_HIGH / 4, 0);
    bufferevent_enable(k->bev, EV_READ | EV_WRITE);
    framer_free(&k->framer);
    if (!framer_init(&k->framer, KIC_MAX_REPLY)) {
        drop(k, "out of memory");
        return;
    }
    k->state = KIC_CONNECTING;
    schedule(k, br->cfg.connect_timeout);
    if (bufferevent_socket_connect_hostname(k->bev, br->dns, AF_UNSPEC, br->cfg.kicd.host,
                                            br->cfg.kicd.port) != 0)
        drop(k, "cannot start connecting");
}

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
    KicConn *k = arg;
    switch (k->state) {
    case KIC_DOWN: connect_now(k); break;
    case KIC_CONNECTING:
        drop(k, k->br->cfg.tls ? "connect or TLS handshake timed out" : "connect timed out");
        break;
    case KIC_LOGGING_IN: drop(k, "no answer to auth.login"); break;
    case KIC_UP: break;
    }
}

bool kicconn_init(KicConn *k, Bridge *br)
{
    memset(k, 0, sizeof(*k));
    k->br = br;
    backoff_init(&k->backoff, KIC_USEC / 2, 30 * KIC_USEC);
    k->ev_timer = evtimer_new(br->base, on_timer, k);
    return k->ev_timer && framer_init(&k->framer, KIC_MAX_REPLY);
}

void kicconn_free(KicConn *k)
{
    if (k->bev)
        bufferevent_free(k->bev);
    if (k->ev_timer)
        event_free(k->ev_timer);
    framer_free(&k->framer);
}

void kicconn_start(KicConn *k)
{
    connect_now(k);
}

void kicconn_stop(KicConn *k)
{
    k->stopped = true;
    if (k->bev) {
        bufferevent_free(k->bev);
        k->bev = NULL;
    }
    evtimer_del(k->ev_timer);
    k->state = KIC_DOWN;
}

void kicconn_tick(KicConn *k, KicTime now)
{
    if (k->state != KIC_UP)
        return;
    KicTime every = k->br->cfg.ping_interval;
    if (now - k->last_rx > 3 * every) {
        /* we ping when idle, so silence this long means a dead peer */
        drop(k, "no answer from kicd for too long");
        return;
    }
    if (now - k->last_tx >= every) {
        char id[32];
        snprintf(id, sizeof(id), "ping-%llu", ++k->pings);
        send_request(k, id, "server.ping", NULL);
    }
    kicconn_flush(k); /* retries that came due */
}
