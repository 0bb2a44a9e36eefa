/* Connection life: reading lines with backpressure, ordered replies,
 * notifications with an output cap, timeouts, and deferred freeing. */
#include "conn.h"

#include <event2/buffer.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "dispatch.h"
#include "monitor.h"
#include "tenants.h"
#include "tls.h"
#include "utf8.h"

struct Slot {
    Slot *next;
    Conn *conn; /* NULL once the connection closed (orphaned) */
    size_t n;
    size_t pending;
    size_t bytes; /* of the texts held */
    bool batch;
    char *texts[]; /* one reply line per request; NULL = no output */
};

static void slot_free(Slot *s)
{
    for (size_t i = 0; i < s->n; i++)
        free(s->texts[i]);
    free(s);
}

void conn_log(const Conn *c, LogLevel level, const char *fmt, ...)
{
    if (level > c->srv->log_level)
        return;
    char msg[1536];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    log_write(level, c->prefix, "%s", msg);
}

static void set_prefix(Conn *c)
{
    if (c->sess.authenticated)
        snprintf(c->prefix, sizeof(c->prefix), "c%llu %s %.64s/%.64s", (unsigned long long)c->id,
                 c->peer, c->sess.tenant_name, c->sess.user);
    else
        snprintf(c->prefix, sizeof(c->prefix), "c%llu %s", (unsigned long long)c->id, c->peer);
}

static size_t output_len(const Conn *c)
{
    return evbuffer_get_length(bufferevent_get_output(c->bev));
}

#define LINGER_S 2

static void on_linger_read(struct bufferevent *bev, void *arg)
{
    struct evbuffer *in = bufferevent_get_input(bev);
    evbuffer_drain(in, evbuffer_get_length(in));
}

static void on_linger_event(struct bufferevent *bev, short what, void *arg)
{
    Conn *c = arg;
    conn_close(c, "%s", c->close_reason);
}

/* Every reply is out: shut our sending side and read (and drop) what the
 * client still sends for a moment before closing. Closing with unread
 * input would make the kernel send a reset, which can destroy the last
 * reply (the error that explains the close) before the client reads it. */
static void finish_close(Conn *c)
{
    if (c->lingering || c->closing)
        return;
    c->lingering = true;
    shutdown(bufferevent_getfd(c->bev), SHUT_WR);
    bufferevent_setcb(c->bev, on_linger_read, NULL, on_linger_event, c);
    bufferevent_setwatermark(c->bev, EV_READ, 0, 0);
    bufferevent_enable(c->bev, EV_READ);
    evbuffer_drain(bufferevent_get_input(c->bev),
                   evbuffer_get_length(bufferevent_get_input(c->bev)));
    event_del(c->ev_timer);
    struct timeval tv = {LINGER_S, 0};
    event_add(c->ev_timer, &tv);
}

/* Writes out every finished slot at the head of the queue. */
static void flush_slots(Conn *c)
{
    while (c->slots_head && c->slots_head->pending == 0) {
        Slot *s = c->slots_head;
        bool any = false;
        for (size_t i = 0; i < s->n; i++) {
            if (!s->texts[i])
                continue;
            if (s->batch)
                bufferevent_write(c->bev, any ? "," : "[", 1);
            bufferevent_write(c->bev, s->texts[i], strlen(s->texts[i]));
            any = true;
        }
        if (any)
            bufferevent_write(c->bev, s->batch ? "]\n" : "\n", s->batch ? 2 : 1);
        c->slots_head = s->next;
        if (!c->slots_head)
            c->slots_tail = NULL;
        c->held_bytes -= s->bytes;
        slot_free(s);
    }
    if (c->close_after && !c->slots_head && output_len(c) == 0)
        finish_close(c);
}

static void slot_finish(Slot *s, size_t index, char *text)
{
    s->texts[index] = text;
    s->pending--;
    size_t len = text ? strlen(text) : 0;
    s->bytes += len;
    if (s->conn)
        s->conn->held_bytes += len;
    if (!s->conn) {
        if (s->pending == 0)
            slot_free(s);
        return;
    }
    if (s->pending == 0 && s == s->conn->slots_head)
        flush_slots(s->conn);
}

Slot *slot_new(Conn *c, size_t n, bool batch)
{
    Slot *s = calloc(1, sizeof(Slot) + n * sizeof(char *));
    if (!s)
        abort(); /* out of memory: nothing sensible left to do */
    s->conn = c;
    s->n = n;
    s->pending = n;
    s->batch = batch;
    if (c->slots_tail)
        c->slots_tail->next = s;
    else
        c->slots_head = s;
    c->slots_tail = s;
    return s;
}

Reply *reply_new(Slot *s, size_t index, json_t *id)
{
    Reply *r = malloc(sizeof(*r));
    if (!r)
        abort();
    r->slot = s;
    r->index = index;
    r->id_text = id ? rpc_id_text(id) : NULL;
    r->reads = false;
    if (s->conn)
        s->conn->outstanding++;
    return r;
}

void slot_put_error(Slot *s, size_t index, json_t *id, const RpcError *err)
{
    if (s->conn)
        s->conn->srv->metrics->request_errors++;
    char *id_text = rpc_id_text(id);
    char *text = id_text ? rpc_error_text(id_text, err) : NULL;
    free(id_text);
    slot_finish(s, index, text);
}

void slot_put_nothing(Slot *s, size_t index)
{
    slot_finish(s, index, NULL);
}

void reply_reads(Reply *r)
{
    r->reads = true;
    if (r->slot->conn)
        r->slot->conn->reads++;
}

static void reply_finish(Reply *r, char *text)
{
    Conn *c = r->slot->conn;
    if (c) {
        c->outstanding--;
        c->reads -= r->reads;
        /* Dispatch may have paused at the outstanding or the reads cap. */
        if (!c->closing && (c->outstanding + 1 == (size_t)c->srv->cfg.max_outstanding ||
                            (r->reads && c->reads + 1 == CONN_MAX_READS)))
            event_active(c->ev_resume, EV_TIMEOUT, 0);
    }
    slot_finish(r->slot, r->index, text);
    free(r->id_text);
    free(r);
}

void reply_result(Reply *r, json_t *result)
{
    char *text = r->id_text ? rpc_result_text(r->id_text, result) : NULL;
    json_decref(result);
    reply_finish(r, text);
}

void reply_result_text(Reply *r, const char *result_json)
{
    char *text = NULL;
    if (r->id_text) {
        size_t n = strlen(r->id_text) + strlen(result_json) + 40;
        text = malloc(n);
        if (!text)
            abort();
        snprintf(text, n, "{\"jsonrpc\":\"2.0\",\"id\":%s,\"result\":%s}", r->id_text, result_json);
    }
    reply_finish(r, text);
}

void reply_error(Reply *r, const RpcError *err)
{
    if (r->slot->conn)
        r->slot->conn->srv->metrics->request_errors++;
    char *text = r->id_text ? rpc_error_text(r->id_text, err) : NULL;
    reply_finish(r, text);
}

void reply_errorf(Reply *r, int code, const char *fmt, ...)
{
    RpcError e = {0};
    e.code = code;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e.message, sizeof(e.message), fmt, ap);
    va_end(ap);
    utf8_scrub(e.message); /* may quote client input, cut mid-character */
    reply_error(r, &e);
}

void reply_field_error(Reply *r, const char *field, const char *reason)
{
    RpcError e = {0};
    rpc_error_field(&e, field, reason);
    reply_error(r, &e);
    rpc_error_clear(&e);
}

Conn *reply_conn(const Reply *r)
{
    Conn *c = r->slot->conn;
    return c && !c->closing ? c : NULL;
}

/* Answers go out in request order, so those finished behind a slow one
 * (a report waiting for PostgreSQL) wait in memory: they count against
 * the output cap as if sent, or a pipelining client would grow them
 * without bound. A batch under way goes on (it refuses its own excess,
 * dispatch_batch_step): its slot cannot be written until it is whole. */
static bool may_dispatch(const Conn *c)
{
    const Config *cfg = &c->srv->cfg;
    return !c->closing && !c->close_after && !c->refusing && !c->barrier &&
           c->outstanding < (size_t)cfg->max_outstanding && c->reads < CONN_MAX_READS &&
           output_len(c) < (size_t)cfg->output_buffer / 2 &&
           (c->batch || c->held_bytes < (size_t)cfg->output_buffer / 2);
}

/* Moves socket bytes into the framer; false when none are buffered. */
static bool pull_input(Conn *c)
{
    struct evbuffer *in = bufferevent_get_input(c->bev);
    size_t space;
    char *dst = framer_space(&c->framer, &space);
    if (space == 0 || evbuffer_get_length(in) == 0)
        return false;
    int n = evbuffer_remove(in, dst, space);
    if (n <= 0)
        return false;
    framer_commit(&c->framer, (size_t)n);
    return true;
}

static void line_too_long(Conn *c)
{
    RpcError e = {0};
    rpc_error_set(&e, RPC_INVALID_REQUEST, "invalid request: line longer than %zu bytes",
                  c->framer.max_line);
    Slot *s = slot_new(c, 1, false);
    slot_put_error(s, 0, NULL, &e);
    conn_close_after_flush(c, "line longer than %zu bytes", c->framer.max_line);
}

/* The dispatch loop: takes lines while the connection may take more work,
 * yielding after requests_per_wakeup so one client cannot hog the loop. */
static void process(Conn *c)
{
    long long handled = 0;
    while (may_dispatch(c)) {
        if (c->batch) {
            dispatch_batch_step(c);
            continue;
        }
        if (handled >= c->srv->cfg.requests_per_wakeup) {
            event_active(c->ev_resume, EV_TIMEOUT, 0);
            return;
        }
        char *line;
        size_t len;
        FrameResult fr = framer_next(&c->framer, &line, &len);
        if (fr == FRAME_NEED) {
            if (pull_input(c))
                continue;
            if (c->read_eof)
                conn_close_after_flush(c, "client closed");
            break;
        }
        if (fr == FRAME_TOO_LONG) {
            line_too_long(c);
            break;
        }
        handled++;
        c->last_request = server_now();
        if (len > 0)
            dispatch_line(c, line, len);
    }
}

static void refusing_read(Conn *c);
static void refuse_buffered(Conn *c);
static void end_refusing(Conn *c);
static void arm_quiet(Conn *c);

static void on_read(struct bufferevent *bev, void *arg)
{
    Conn *c = arg;
    if (c->refusing)
        refusing_read(c);
    else
        process(c);
}

static void on_resume(evutil_socket_t fd, short what, void *arg)
{
    Conn *c = arg;
    process(c);
    flush_slots(c);
}

/* Output drained below the low watermark: resume dispatch, or finish a
 * close-after-flush. */
static void on_write(struct bufferevent *bev, void *arg)
{
    Conn *c = arg;
    if (c->closing)
        return;
    if (c->refusing) { /* the client read: refuse what waited */
        refuse_buffered(c);
        return;
    }
    if (c->close_after) {
        if (!c->slots_head && output_len(c) == 0)
            finish_close(c);
        return;
    }
    process(c);
}

/* libevent's TLS bufferevent stops reading and writing together when
 * the session ends, cleanly or not (a client gone without close_notify
 * is reported as EOF): nothing more reaches the client. Waiting to send
 * the answers still due would hold the connection until the idle timer
 * (for ever with idle_timeout_s 0). What was read is handled (stored; its
 * answers go nowhere, and the client re-sends what it did not get), then
 * the connection closes. */
static void tls_session_ended(Conn *c, short what)
{
    char why[160];
    bool failed = tls_error_text(c->bev, why, sizeof(why));
    if (what & BEV_EVENT_EOF) {
        c->read_eof = true;
        process(c);
    }
    if (failed)
        conn_close(c, "TLS: %s", why);
    else if (what & BEV_EVENT_EOF)
        conn_close(c, "client closed");
    else
        conn_close(c, "socket error: %s", evutil_socket_error_to_string(EVUTIL_SOCKET_ERROR()));
}

static void on_event(struct bufferevent *bev, short what, void *arg)
{
    Conn *c = arg;
    if (c->srv->tls && (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR))) {
        tls_session_ended(c, what);
        return;
    }
    if (what & BEV_EVENT_EOF) {
        /* The client finished sending: answer all it sent, then close. */
        c->read_eof = true;
        if (c->refusing)
            refusing_read(c);
        else
            process(c);
        return;
    }
    if (what & (BEV_EVENT_ERROR | BEV_EVENT_TIMEOUT))
        conn_close(c, "socket error: %s", evutil_socket_error_to_string(EVUTIL_SOCKET_ERROR()));
}

static void arm_timer(Conn *c, long long seconds)
{
    struct timeval tv = {(time_t)seconds, 0};
    event_add(c->ev_timer, &tv);
}

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
    Conn *c = arg;
    if (c->lingering) {
        conn_close(c, "%s", c->close_reason);
        return;
    }
    if (c->refusing) { /* quiet for a moment: all it sent is answered */
        if (output_len(c) + c->held_bytes >= (size_t)c->srv->cfg.output_buffer / 2)
            arm_quiet(c); /* not quiet: kicd stopped reading, the client must read */
        else
            end_refusing(c);
        return;
    }
    if (!c->sess.authenticated) {
        conn_close(c, "not logged in within %llds", c->srv->cfg.login_timeout_s);
        return;
    }
    long long idle = c->srv->cfg.idle_timeout_s;
    if (idle <= 0)
        return;
    long long quiet_s = (server_now() - c->last_request) / KIC_USEC;
    /* a subscriber (a wallboard) only listens; a dead one is found when
     * its output passes the cap */
    if (c->sub.active)
        quiet_s = 0;
    if (quiet_s >= idle && !c->outstanding)
        conn_close(c, "idle for %llds", quiet_s);
    else
        arm_timer(c, quiet_s >= idle ? 1 : idle - quiet_s);
}

/* Connections not logged in, oldest first. When the table is full, the
 * oldest of them makes room for a new one, so a flood of connections that
 * never log in cannot keep the bridge and the desktops out (each gets its
 * turn to log in); a logged-in one is never closed for room. */
static void login_wait_add(Conn *c)
{
    Server *s = c->srv;
    if (c->awaiting_login)
        return;
    c->awaiting_login = true;
    c->wait_next = NULL;
    c->wait_prev = s->login_wait_newest;
    if (s->login_wait_newest)
        s->login_wait_newest->wait_next = c;
    else
        s->login_wait_oldest = c;
    s->login_wait_newest = c;
}

static void login_wait_remove(Conn *c)
{
    Server *s = c->srv;
    if (!c->awaiting_login)
        return;
    c->awaiting_login = false;
    if (c->wait_prev)
        c->wait_prev->wait_next = c->wait_next;
    else
        s->login_wait_oldest = c->wait_next;
    if (c->wait_next)
        c->wait_next->wait_prev = c->wait_prev;
    else
        s->login_wait_newest = c->wait_prev;
    c->wait_prev = c->wait_next = NULL;
}

Conn *conn_oldest_not_logged_in(Server *s)
{
    return s->login_wait_oldest;
}

Conn *conn_new(Server *s, struct bufferevent *bev, const char *peer)
{
    Conn *c = calloc(1, sizeof(*c));
    if (!c)
        return NULL;
    c->srv = s;
    c->bev = bev;
    c->id = ++s->next_conn_id;
    c->sess.role = ROLE_NONE;
    c->last_request = server_now();
    snprintf(c->peer, sizeof(c->peer), "%s", peer);
    set_prefix(c);
    if (!framer_init(&c->framer, (size_t)s->cfg.max_line_unauth))
        goto fail;
    c->ev_resume = event_new(s->base, -1, 0, on_resume, c);
    c->ev_timer = event_new(s->base, -1, 0, on_timer, c);
    if (!c->ev_resume || !c->ev_timer)
        goto fail;
    bufferevent_setcb(bev, on_read, on_write, on_event, c);
    /* Stop reading the socket once twice a line is buffered unread. */
    bufferevent_setwatermark(bev, EV_READ, 0, (size_t)s->cfg.max_line * 2);
    bufferevent_setwatermark(bev, EV_WRITE, (size_t)s->cfg.output_buffer / 4, 0);
    bufferevent_enable(bev, EV_READ | EV_WRITE);
    arm_timer(c, s->cfg.login_timeout_s);
    c->next = s->conns;
    if (s->conns)
        s->conns->prev = c;
    s->conns = c;
    s->nconns++;
    login_wait_add(c);
    conn_log(c, LOG_DEBUG, "connected");
    return c;
fail:
    framer_free(&c->framer);
    if (c->ev_resume)
        event_free(c->ev_resume);
    if (c->ev_timer)
        event_free(c->ev_timer);
    free(c);
    return NULL;
}

void conn_login(Conn *c)
{
    login_wait_remove(c);
    framer_set_max_line(&c->framer, (size_t)c->srv->cfg.max_line);
    c->srv->conns_by_role[c->sess.role]++;
    if (c->sess.role == ROLE_AGENT && c->sess.agent[0])
        tenant_desktop_add(c->sess.tenant, c->sess.agent, c);
    set_prefix(c);
    event_del(c->ev_timer);
    if (c->srv->cfg.idle_timeout_s > 0)
        arm_timer(c, c->srv->cfg.idle_timeout_s);
}

void conn_logout(Conn *c)
{
    if (!c->sess.authenticated)
        return;
    if (c->sess.role == ROLE_AGENT && c->sess.agent[0])
        tenant_desktop_remove(c->sess.tenant, c->sess.agent, c);
    subscriber_stop(&c->sub);
    c->srv->conns_by_role[c->sess.role]--;
    json_decref(c->sess.teams);
    memset(&c->sess, 0, sizeof(c->sess));
    c->sess.role = ROLE_NONE;
}

void conn_unauthenticate(Conn *c)
{
    conn_logout(c);
    set_prefix(c);
    framer_set_max_line(&c->framer, (size_t)c->srv->cfg.max_line_unauth);
    event_del(c->ev_timer);
    arm_timer(c, c->srv->cfg.login_timeout_s);
    login_wait_add(c);
}

void conn_release_barrier(Conn *c)
{
    c->barrier = false;
    if (!c->closing)
        event_active(c->ev_resume, EV_TIMEOUT, 0);
}

/* Pushed output (notifications) is bounded: a client that still has
 * more than the cap unread when the next push comes is dropped. One
 * push larger than the cap (a big snapshot) still goes out. */
static bool push_allowed(Conn *c)
{
    if (c->closing || c->close_after)
        return false;
    if (output_len(c) <= (size_t)c->srv->cfg.output_buffer)
        return true;
    conn_close(c, "output over %lld bytes: slow reader dropped", c->srv->cfg.output_buffer);
    return false;
}

void conn_send_line(Conn *c, const char *line, size_t len)
{
    if (!push_allowed(c))
        return;
    bufferevent_write(c->bev, line, len);
    bufferevent_write(c->bev, "\n", 1);
}

void conn_send_notification(Conn *c, const char *method, const char *params, size_t len)
{
    if (!push_allowed(c))
        return;
    struct evbuffer *out = bufferevent_get_output(c->bev);
    evbuffer_add_printf(out, "{\"jsonrpc\":\"2.0\",\"method\":\"%s\",\"params\":", method);
    evbuffer_add(out, params, len);
    evbuffer_add(out, "}\n", 2);
}

void conn_notify(Conn *c, const char *method, json_t *params)
{
    char *text = rpc_notification_text(method, params);
    if (text)
        conn_send_line(c, text, strlen(text));
    free(text);
}

/* Batch entries not yet dispatched will never be: they get no reply. */
static void abandon_batch(Conn *c)
{
    if (!c->batch)
        return;
    Slot *s = c->batch_slot;
    s->pending -= json_array_size(c->batch) - c->batch_pos;
    json_decref(c->batch);
    c->batch = NULL;
    c->batch_slot = NULL;
}

/* A batch is answered in one piece, with an answer for each request:
 * those the closing connection will not carry out are refused (not
 * logged in: -32001, as any request would be; else retry later). */
static void refuse_rest_of_batch(Conn *c)
{
    if (!c->batch)
        return;
    json_t *batch = c->batch;
    Slot *s = c->batch_slot;
    size_t from = c->batch_pos;
    c->batch = NULL;
    c->batch_slot = NULL;
    RpcError err = {0};
    rpc_error_set(&err, c->sess.authenticated ? RPC_OVERLOADED : RPC_UNAUTHENTICATED,
                  "not carried out: the connection is closing (%s)", c->close_reason);
    for (size_t i = from; i < json_array_size(batch); i++) {
        json_t *msg = json_array_get(batch, i);
        json_t *id = json_is_object(msg) ? json_object_get(msg, "id") : json_null();
        if (json_is_object(msg) && !id)
            slot_put_nothing(s, i); /* a notification is not answered */
        else
            slot_put_error(s, i, json_is_string(id) || json_is_number(id) ? id : NULL, &err);
    }
    rpc_error_clear(&err);
    json_decref(batch);
}

/* One request line that will not be carried out: its answer says so
 * (a notification gets none, as ever). */
static void refuse_line(Conn *c, const char *line, size_t len, const RpcError *err)
{
    json_t *msg = json_loadb(line, len, 0, NULL);
    size_t n = json_is_array(msg) ? json_array_size(msg) : 0;
    if (n > (size_t)c->srv->cfg.max_batch) { /* one answer, as dispatch gives it */
        RpcError big = {0};
        rpc_error_set(&big, RPC_INVALID_REQUEST, "invalid request: a batch of more than %lld",
                      c->srv->cfg.max_batch);
        slot_put_error(slot_new(c, 1, false), 0, NULL, &big);
        rpc_error_clear(&big);
    } else if (n > 0) {
        Slot *s = slot_new(c, json_array_size(msg), true);
        for (size_t i = 0; i < json_array_size(msg); i++) {
            json_t *m = json_array_get(msg, i), *id = json_object_get(m, "id");
            if (json_is_object(m) && !id)
                slot_put_nothing(s, i);
            else
                slot_put_error(s, i, json_is_string(id) || json_is_number(id) ? id : NULL, err);
        }
    } else if (!json_is_object(msg) || json_object_get(msg, "id")) {
        json_t *id = json_object_get(msg, "id");
        slot_put_error(slot_new(c, 1, false), 0, json_is_string(id) || json_is_number(id) ? id : NULL,
                       err);
    }
    json_decref(msg);
}

/* How long a stopping kicd waits for more from a client that has sent
 * nothing since its last answer before it closes the connection. */
#define DRAIN_QUIET_MS 500

static void arm_quiet(Conn *c)
{
    struct timeval tv = {0, DRAIN_QUIET_MS * 1000};
    event_add(c->ev_timer, &tv);
}

/* Answers -32029 to each whole request line buffered, while the
 * connection's output allows; past half its cap, reading waits until the
 * client has read (on_write). */
static void refuse_buffered(Conn *c)
{
    size_t cap = (size_t)c->srv->cfg.output_buffer / 2;
    RpcError err = {0};
    rpc_error_set(&err, RPC_OVERLOADED, "not carried out: kicd is stopping; send it again");
    bool full = false;
    for (;;) {
        if ((full = output_len(c) + c->held_bytes >= cap))
            break;
        char *line;
        size_t len;
        FrameResult fr = framer_next(&c->framer, &line, &len);
        if (fr == FRAME_NEED && pull_input(c))
            continue;
        if (fr != FRAME_LINE)
            break; /* FRAME_TOO_LONG: the quiet timer ends it */
        if (len > 0)
            refuse_line(c, line, len, &err);
    }
    rpc_error_clear(&err);
    if (full)
        bufferevent_disable(c->bev, EV_READ);
    else
        bufferevent_enable(c->bev, EV_READ);
    flush_slots(c);
}

static void end_refusing(Conn *c)
{
    c->refusing = false;
    conn_close_after_flush(c, "server shutting down");
}

void conn_drain(Conn *c)
{
    if (c->closing || c->close_after || c->refusing)
        return;
    snprintf(c->close_reason, sizeof(c->close_reason), "server shutting down");
    refuse_rest_of_batch(c);
    c->refusing = true;
    event_del(c->ev_timer);
    arm_quiet(c);
    refuse_buffered(c);
    if (c->read_eof)
        end_refusing(c);
}

/* More from a client while kicd stops: refused; the moment of quiet
 * starts again; at its end of sending, the connection closes once all is
 * answered. */
static void refusing_read(Conn *c)
{
    refuse_buffered(c);
    if (c->read_eof && evbuffer_get_length(bufferevent_get_input(c->bev)) == 0)
        end_refusing(c);
    else if (c->refusing)
        arm_quiet(c);
}

void conn_close_after_flush(Conn *c, const char *fmt, ...)
{
    if (c->closing || c->close_after)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->close_reason, sizeof(c->close_reason), fmt, ap);
    va_end(ap);
    c->close_after = true;
    c->refusing = false;
    bufferevent_disable(c->bev, EV_READ);
    refuse_rest_of_batch(c);
    flush_slots(c);
}

void conn_close(Conn *c, const char *fmt, ...)
{
    if (c->closing)
        return;
    Server *s = c->srv;
    char reason[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(reason, sizeof(reason), fmt, ap);
    va_end(ap);
    conn_log(c, LOG_INFO, "closed: %s", reason);
    c->closing = true;
    conn_logout(c);
    login_wait_remove(c);
    bufferevent_setcb(c->bev, NULL, NULL, NULL, NULL);
    bufferevent_disable(c->bev, EV_READ | EV_WRITE);
    event_del(c->ev_timer);
    event_del(c->ev_resume);
    abandon_batch(c);
    for (Slot *sl = c->slots_head, *next; sl; sl = next) {
        next = sl->next;
        sl->conn = NULL;
        sl->next = NULL;
        if (sl->pending == 0)
            slot_free(sl);
    }
    c->slots_head = c->slots_tail = NULL;
    c->held_bytes = 0;
    if (c->prev)
        c->prev->next = c->next;
    else
        s->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    s->nconns--;
    c->prev = NULL;
    c->next = s->closed;
    s->closed = c;
    event_active(s->reaper, EV_TIMEOUT, 0);
}

void conn_reap(Server *s)
{
    while (s->closed) {
        Conn *c = s->closed;
        s->closed = c->next;
        bufferevent_free(c->bev);
        framer_free(&c->framer);
        event_free(c->ev_resume);
        event_free(c->ev_timer);
        free(c);
    }
}
