/* Asynchronous PostgreSQL inside the event loop. A PgConn is one libpq
 * connection in pipeline mode that reconnects with back-off; work is sent
 * as PgJobs: a list of statements sent together and closed by one sync
 * point, whose results come back to one callback. Nothing here blocks:
 * connect with PQconnectStartParams/PQconnectPoll, send with
 * PQsendQueryParams, read with PQconsumeInput/PQisBusy/PQgetResult. */
#ifndef PG_H
#define PG_H

#include <stdbool.h>

#include <event2/event.h>
#include <libpq-fe.h>

#include "log.h"

typedef struct PgConn PgConn;
typedef struct PgJob PgJob;

/* Called once per job. The job (and its results) is freed after it
 * returns; copy out what you keep. */
typedef void (*PgJobDone)(PgJob *job, void *arg);

/* up: the connection became usable (true) or was lost (false). */
typedef void (*PgStateFn)(PgConn *pc, bool up, void *arg);
typedef void (*PgNotifyFn)(PgConn *pc, const char *channel, const char *payload, void *arg);

PgJob *pgjob_new(PgJobDone done, void *arg);
/* Adds a statement; its text and parameter strings are copied (NULL =
 * SQL NULL). */
void pgjob_add(PgJob *j, const char *sql, int nparams, const char *const *params);
/* Executes a statement prepared at connect (PgPrepared) with binary
 * parameters, borrowed: they must outlive the job's callback. */
void pgjob_add_prepared(PgJob *j, const char *name, int nparams, const char *const *values,
                        const int *lengths);

/* A statement every (re)connection prepares before it is "up". One
 * planned_each_time is not prepared: executing it by name sends its SQL
 * unnamed, so PostgreSQL plans it for the values and table sizes of that
 * execution instead of reusing a generic plan made once (see write_sql.c's
 * repeat marking). */
typedef struct PgPrepared {
    const char *name;
    const char *sql;
    bool planned_each_time;
} PgPrepared;
/* How long this job may go without a word from the server (seconds)
 * before its connection is taken as lost; 0: as long as it takes (for
 * work with no statement_timeout). Default: the connection's patience. */
void pgjob_set_patience(PgJob *j, int seconds);

/* The last statement added returns its results in binary format. */
void pgjob_binary_results(PgJob *j);

/* Rows of a streamed statement: a result holding one or more of them. */
typedef void (*PgRowsFn)(PGresult *rows, void *arg);

/* The last statement added (never a job's first) hands its rows to fn
 * as they arrive (libpq's single-row mode) instead of gathering them:
 * its caller works while PostgreSQL still sends, and memory stays
 * small. pgjob_result gives the statement's closing result. A statement
 * that fails may have handed over some rows first. */
void pgjob_stream_rows(PgJob *j, PgRowsFn fn, void *arg);
int pgjob_count(const PgJob *j);
/* Result of statement i, or NULL when it never ran. */
PGresult *pgjob_result(const PgJob *j, int i);
/* First error message of the job, NULL when every statement succeeded. */
const char *pgjob_error(const PgJob *j);
/* SQLSTATE of the first error ("" when none or unknown). */
const char *pgjob_sqlstate(const PgJob *j);
/* The constraint the first error violated ("" when none or unknown). */
const char *pgjob_constraint(const PgJob *j);
/* The connection was lost before the job finished: nothing is known of
 * its outcome beyond "not acknowledged". */
bool pgjob_conn_lost(const PgJob *j);
/* Frees a job that was never submitted. */
void pgjob_free(PgJob *j);

/* setup_sql: statements run after every (re)connect, before "up";
 * prepared (may be NULL): statements prepared then, ended by a NULL name. */
PgConn *pgconn_new(struct event_base *base, const char *conninfo, const char *name,
                   const char *const *setup_sql, const PgPrepared *prepared,
                   const LogLevel *log_level, PgStateFn on_state, void *arg);
void pgconn_set_notify(PgConn *pc, PgNotifyFn fn, void *arg);
/* The set-up refused by the server with this SQLSTATE (a lock another
 * session holds, say): fn hears the server's message each time, after
 * the connection is dropped; it is still made again with back-off. */
typedef void (*PgRefusedFn)(PgConn *pc, const char *message, void *arg);
void pgconn_set_refusal(PgConn *pc, const char *sqlstate, PgRefusedFn fn, void *arg);
/* A server that hangs instead of refusing (stopped, a network that drops
 * packets, a lock that is never granted) would keep a job waiting for
 * ever: when the job at the head of the pipeline hears nothing for
 * `seconds` (0: never), the connection is dropped as lost, its jobs fail
 * with pgjob_conn_lost, and it is made again. Default 0. */
void pgconn_set_patience(PgConn *pc, int seconds);
void pgconn_free(PgConn *pc);

bool pgconn_is_up(const PgConn *pc);
/* The server process of the connection that came up last (0: none yet),
 * kept after it is lost: that session may outlive it on the server. */
int pgconn_backend_pid(const PgConn *pc);
/* Sends what is still buffered for the server, as far as the socket
 * takes it now; never waits and never calls back. For long stretches of
 * work on the loop: a batch's statements are larger than the socket
 * buffer, and the server would otherwise wait for their rest until the
 * loop comes round to the write event. */
void pgconn_pump(PgConn *pc);

/* Queues a job; false (job not taken) when the connection is down. */
bool pgconn_submit(PgConn *pc, PgJob *job) KIC_MUST_CHECK;

#endif
