/* One client connection: its bufferevent, line framer, session, and the
 * queue of reply slots that keeps responses in request order even when
 * some are answered only after a group commit.
 *
 * Lifetime: a Conn ends in exactly one function, conn_close(), which logs
 * why and hands it to the reaper; the memory is freed after the current
 * loop turn, so callbacks up the stack may still look at it. Slots whose
 * replies are still being computed outlive their connection ("orphaned")
 * and are freed when their last reply completes. */
#ifndef CONN_H
#define CONN_H

#include <event2/bufferevent.h>

#include "framer.h"
#include "jsonrpc.h"
#include "server.h"
#include "subscribe.h"

typedef struct Slot Slot;

/* A promise to answer one request. Every Reply is finished exactly once,
 * by reply_result or reply_error, which free it. */
typedef struct Reply {
    Slot *slot;
    size_t index;
    char *id_text; /* NULL for a notification: finished without output */
    bool reads;    /* counted in the connection's reads (reply_reads) */
} Reply;

struct Conn {
    Server *srv;
    Conn *prev, *next;
    uint64_t id;
    struct bufferevent *bev;
    char peer[64];
    char prefix[224]; /* log prefix: "c12 127.0.0.1:5555 tenant/user" */
    Framer framer;
    Session sess;

    Slot *slots_head, *slots_tail; /* replies not yet written, in order */
    size_t outstanding;            /* replies not yet finished */
    size_t reads;                  /* of them, answered by PostgreSQL's reader */
    size_t held_bytes;             /* reply text waiting in slots (a batch's) */

    /* A batch array being dispatched, one element at a time. */
    json_t *batch;
    size_t batch_pos;
    Slot *batch_slot;

    int bad_lines;     /* malformed lines in a row */
    int failed_logins; /* bad tokens on this connection */
    bool barrier;      /* a session-changing request is pending: stop dispatch */
    bool read_eof;     /* the client shut its sending side */
    bool lingering;    /* replies sent and our side shut: draining, then close */
    bool closing;      /* conn_close ran; waiting for the reaper */
    bool close_after;  /* close once every reply is flushed */
    bool refusing;     /* kicd is stopping: each request read is answered -32029 */
    char close_reason[128];
    KicTime last_request;

    /* In the server's list of connections not logged in, oldest first
     * (conn_oldest_not_logged_in). */
    bool awaiting_login;
    Conn *wait_prev, *wait_next;

    struct event *ev_resume; /* continue dispatch on the next loop turn */
    struct event *ev_timer;  /* login timeout, then idle timeout */

    /* Live-statistics subscription (stats.subscribe) */
    Subscriber sub;
};

/* Takes over bev (already set up for the socket, TLS or not). */
Conn *conn_new(Server *s, struct bufferevent *bev, const char *peer);

/* The connection that has waited longest without logging in (since it
 * opened or logged out), or NULL: the one to close when the table is full
 * and a new one comes (listener.c). */
Conn *conn_oldest_not_logged_in(Server *s);

/* Closes now: logs the reason, drops unsent replies. */
void conn_close(Conn *c, const char *fmt, ...) KIC_PRINTF(2, 3);

/* Closes once everything already answered is written out (errors that end
 * a connection are answered first). Stops reading at once. */
void conn_close_after_flush(Conn *c, const char *fmt, ...) KIC_PRINTF(2, 3);
/* kicd is stopping: the answers owed go out, and every request the client
 * sends is answered -32029 (not carried out), as fast as it reads them,
 * until it has sent nothing for half a second (or closes); then the connection
 * closes as after a flush. */
void conn_drain(Conn *c);

/* Frees connections closed in this loop turn (the reaper's job). */
void conn_reap(Server *s);

/* Sends a notification line; a client whose output is over the cap is
 * dropped (a slow subscriber must not grow our memory). */
void conn_notify(Conn *c, const char *method, json_t *params);
/* Same with a pre-built line (shared by many receivers). */
void conn_send_line(Conn *c, const char *line, size_t len);
/* A notification whose params are ready JSON text. */
void conn_send_notification(Conn *c, const char *method, const char *params, size_t len);

/* Logs with the connection's prefix if the level is enabled. */
void conn_log(const Conn *c, LogLevel level, const char *fmt, ...) KIC_PRINTF(3, 4);

/* Session changes: after login the line cap rises and the login timer
 * becomes the idle timer. */
void conn_login(Conn *c);
/* Forgets the session (on close). */
void conn_logout(Conn *c);
/* auth.logout: forgets the session and is back to the pre-login limits. */
void conn_unauthenticate(Conn *c);

/* Ends a barrier (an async session change finished): dispatch resumes. */
void conn_release_barrier(Conn *c);

/* Replies. The Reply is freed by these. result is stolen. */
void reply_result(Reply *r, json_t *result);
/* With a result already serialised as JSON text (borrowed). */
void reply_result_text(Reply *r, const char *result_json);
void reply_error(Reply *r, const RpcError *err);
void reply_errorf(Reply *r, int code, const char *fmt, ...) KIC_PRINTF(3, 4);
void reply_field_error(Reply *r, const char *field, const char *reason);
/* The connection a reply is for; NULL once it has closed. */
Conn *reply_conn(const Reply *r);

/* Used by dispatch: a slot for one line (n replies; batch = array reply). */
Slot *slot_new(Conn *c, size_t n, bool batch);
Reply *reply_new(Slot *s, size_t index, json_t *id);
/* Marks r as answered by PostgreSQL's reader connection, which all
 * sessions share (reports, history, logins): a connection with
 * CONN_MAX_READS of those unanswered reads no further requests until one
 * is, so one client can neither fill the reader for everyone else nor
 * make kicd hold a pile of large answers it does not read. */
void reply_reads(Reply *r);
#define CONN_MAX_READS 2
/* Fills a slot entry with a ready error without a Reply (bad requests). */
void slot_put_error(Slot *s, size_t index, json_t *id, const RpcError *err);
/* Fills a slot entry that gets no output (a notification). */
void slot_put_nothing(Slot *s, size_t index);

#endif
