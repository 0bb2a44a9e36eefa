/* PgConn: a libpq connection driven by libevent, in pipeline mode.
 *
 * States: DOWN (waiting for the back-off timer) -> CONNECTING (polling
 * PQconnectPoll) -> SETUP (running setup_sql) -> UP. Any failure fails
 * every job sent or queued (conn_lost) and goes back to DOWN with a
 * doubled back-off (100 ms .. 5 s). Jobs are sent as soon as they are
 * submitted; each ends with PQpipelineSync, and results are matched to
 * jobs in order. A watchdog drops a connection whose server has answered
 * nothing for longer than the waiting job's patience. */
#include "pg.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "kic.h"

typedef enum { PG_DOWN, PG_CONNECTING, PG_SETUP, PG_UP } PgState;

typedef enum { STMT_QUERY, STMT_PREPARE, STMT_EXECUTE } StmtKind;

typedef struct PgStmt {
    StmtKind kind;
    char *sql;        /* STMT_QUERY, STMT_PREPARE: the job's own copy */
    const char *name; /* STMT_PREPARE, STMT_EXECUTE */
    int nparams;
    char **params;
    int *lengths;     /* binary parameters (STMT_EXECUTE), else NULL */
    int *formats;
    bool borrowed;    /* params are the caller's, not freed here */
    int result_format; /* 0 text, 1 binary */
    PgRowsFn rows_fn;  /* streamed: rows go here as they arrive */
    void *rows_arg;
} PgStmt;

struct PgJob {
    PgJob *next;
    PgJobDone done;
    void *arg;
    PgStmt *stmts;
    PGresult **results;
    int n, cap;
    int cur;       /* statement whose results are being read */
    bool cur_seen; /* cur has produced a result */
    char *error;
    char sqlstate[6];
    char constraint[64]; /* of an integrity error: which key was violated */
    bool conn_lost;
    int patience_s; /* -1: the connection's; 0: unlimited */
};

struct PgConn {
    struct event_base *base;
    char *conninfo;
    char *name;
    const char *const *setup_sql;
    const PgPrepared *prepared;
    const LogLevel *log_level;
    PgStateFn on_state;
    void *state_arg;
    PgNotifyFn on_notify;
    void *notify_arg;
    int backend_pid;       /* of the last connection that came up; 0: none yet */
    char refusal_state[6]; /* a set-up error of this SQLSTATE goes to on_refused */
    PgRefusedFn on_refused;
    void *refused_arg;

    PGconn *conn;
    PgState state;
    struct event *ev_io;    /* connect polling, then persistent read */
    struct event *ev_write; /* pending flush */
    struct event *ev_retry; /* back-off and connect timeout */
    struct event *ev_watch; /* once a second: is the server still answering? */
    int patience_s;         /* 0: wait for ever */
    struct timespec heard;  /* monotonic: last word from the server, or the
                             * head job's start if later */
    int backoff_ms;
    bool broken; /* a send failed: drop the connection from the loop */

    PgJob *sent_head, *sent_tail; /* sent, awaiting results */
    size_t nsent;
};

static void pg_log(const PgConn *pc, LogLevel level, const char *fmt, ...) KIC_PRINTF(3, 4);
static void pg_log(const PgConn *pc, LogLevel level, const char *fmt, ...)
{
    if (level > *pc->log_level)
        return;
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    /* libpq messages end in a newline; one log line each. */
    size_t n = strlen(msg);
    while (n > 0 && (msg[n - 1] == '\n' || msg[n - 1] == ' '))
        msg[--n] = '\0';
    log_write(level, pc->name, "%s", msg);
}

/* ---- jobs ---- */

PgJob *pgjob_new(PgJobDone done, void *arg)
{
    PgJob *j = calloc(1, sizeof(*j));
    if (!j)
        abort();
    j->done = done;
    j->arg = arg;
    j->patience_s = -1;
    return j;
}

void pgjob_set_patience(PgJob *j, int seconds)
{
    j->patience_s = seconds > 0 ? seconds : 0;
}

static PgStmt *add_stmt(PgJob *j, const char *sql, int nparams)
{
    if (j->n == j->cap) {
        j->cap = j->cap ? j->cap * 2 : 4;
        j->stmts = realloc(j->stmts, (size_t)j->cap * sizeof(PgStmt));
        if (!j->stmts)
            abort();
    }
    PgStmt *st = &j->stmts[j->n++];
    memset(st, 0, sizeof(*st));
    st->kind = STMT_QUERY;
    if (sql && !(st->sql = strdup(sql)))
        abort();
    st->nparams = nparams;
    st->params = nparams ? calloc((size_t)nparams, sizeof(char *)) : NULL;
    if (nparams && !st->params)
        abort();
    return st;
}

void pgjob_add(PgJob *j, const char *sql, int nparams, const char *const *params)
{
    PgStmt *st = add_stmt(j, sql, nparams);
    for (int i = 0; i < nparams; i++)
        if (params[i] && !(st->params[i] = strdup(params[i])))
            abort();
}

void pgjob_add_prepared(PgJob *j, const char *name, int nparams, const char *const *values,
                        const int *lengths)
{
    PgStmt *st = add_stmt(j, NULL, nparams);
    st->kind = STMT_EXECUTE;
    st->name = name;
    st->borrowed = true;
    st->lengths = malloc((size_t)(nparams ? nparams : 1) * sizeof(int));
    st->formats = malloc((size_t)(nparams ? nparams : 1) * sizeof(int));
    if (!st->lengths || !st->formats)
        abort();
    for (int i = 0; i < nparams; i++) {
        st->params[i] = (char *)values[i];
        st->lengths[i] = lengths[i];
        st->formats[i] = 1;
    }
}

static void add_prepare(PgJob *j, const PgPrepared *p)
{
    PgStmt *st = add_stmt(j, p->sql, 0);
    st->kind = STMT_PREPARE;
    st->name = p->name;
}

void pgjob_binary_results(PgJob *j)
{
    if (j->n > 0)
        j->stmts[j->n - 1].result_format = 1;
}

void pgjob_stream_rows(PgJob *j, PgRowsFn fn, void *arg)
{
    if (j->n > 1) { /* single-row mode is set when the previous statement ends */
        j->stmts[j->n - 1].rows_fn = fn;
        j->stmts[j->n - 1].rows_arg = arg;
    }
}

int pgjob_count(const PgJob *j)
{
    return j->n;
}

PGresult *pgjob_result(const PgJob *j, int i)
{
    return j->results && i < j->n ? j->results[i] : NULL;
}

const char *pgjob_error(const PgJob *j)
{
    return j->error;
}

const char *pgjob_sqlstate(const PgJob *j)
{
    return j->sqlstate;
}

const char *pgjob_constraint(const PgJob *j)
{
    return j->constraint;
}

bool pgjob_conn_lost(const PgJob *j)
{
    return j->conn_lost;
}

void pgjob_free(PgJob *j)
{
    for (int i = 0; i < j->n; i++) {
        for (int k = 0; !j->stmts[i].borrowed && k < j->stmts[i].nparams; k++)
            free(j->stmts[i].params[k]);
        free(j->stmts[i].params);
        free(j->stmts[i].sql);
        free(j->stmts[i].lengths);
        free(j->stmts[i].formats);
        if (j->results && j->results[i])
            PQclear(j->results[i]);
    }
    free(j->stmts);
    free(j->results);
    free(j->error);
    free(j);
}

static void job_fail(PgJob *j, const char *msg)
{
    if (!j->error)
        j->error = strdup(msg);
}

static void job_finish(PgJob *j)
{
    j->done(j, j->arg);
    pgjob_free(j);
}

/* ---- connection ---- */

static void start_connect(PgConn *pc);
static void on_io(evutil_socket_t fd, short what, void *arg);

static void schedule_retry(PgConn *pc)
{
    struct timeval tv = {pc->backoff_ms / 1000, (pc->backoff_ms % 1000) * 1000};
    event_add(pc->ev_retry, &tv);
    pc->backoff_ms = pc->backoff_ms * 2 > 5000 ? 5000 : pc->backoff_ms * 2;
}

/* Not up yet: the first failure in a row is a warning, so that an
 * operator at log level warn sees why kicd waits; the retries are info. */
static void log_connect_failure(PgConn *pc, const char *why)
{
    pg_log(pc, pc->backoff_ms == 100 ? LOG_WARN : LOG_INFO,
           "cannot connect to PostgreSQL, retrying (at most every 5 s): %s", why);
}

static void mark_heard(PgConn *pc)
{
    clock_gettime(CLOCK_MONOTONIC, &pc->heard);
}

/* Drops the connection: every job sent is failed as lost. */
static void connection_lost(PgConn *pc, const char *reason)
{
    /* reason is often PQerrorMessage(conn): keep a copy past PQfinish */
    char why[512];
    snprintf(why, sizeof(why), "%s", reason);
    bool was_up = pc->state == PG_UP;
    if (was_up)
        pg_log(pc, LOG_WARN, "PostgreSQL connection lost: %s", why);
    else
        log_connect_failure(pc, why);
    if (pc->ev_io) {
        event_free(pc->ev_io);
        pc->ev_io = NULL;
    }
    event_del(pc->ev_write);
    event_del(pc->ev_retry);
    if (pc->conn) {
        PQfinish(pc->conn);
        pc->conn = NULL;
    }
    pc->state = PG_DOWN;
    pc->broken = false; /* that was this connection; the next starts whole */
    PgJob *j = pc->sent_head;
    pc->sent_head = pc->sent_tail = NULL;
    pc->nsent = 0;
    while (j) {
        PgJob *next = j->next;
        j->conn_lost = true;
        job_fail(j, why);
        job_finish(j);
        j = next;
    }
    schedule_retry(pc);
    if (was_up && pc->on_state)
        pc->on_state(pc, false, pc->state_arg);
}

static void on_retry(evutil_socket_t fd, short what, void *arg)
{
    PgConn *pc = arg;
    if (pc->state == PG_CONNECTING) {
        connection_lost(pc, "connect timed out");
        return;
    }
    start_connect(pc);
}

/* The job at the head of the pipeline is the one the server works on:
 * if nothing has come from the server for longer than that job may take,
 * the server is taken as gone. A stopped server, a network that drops
 * packets or a lock never granted looks like this: the socket stays open
 * and nothing ever fails by itself. Once a second is precise enough for
 * limits counted in seconds. */
static void on_watch(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    PgConn *pc = arg;
    if (!pc->sent_head || (pc->state != PG_SETUP && pc->state != PG_UP))
        return;
    int limit = pc->sent_head->patience_s >= 0 ? pc->sent_head->patience_s : pc->patience_s;
    if (limit <= 0)
        return;
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    long long quiet_ms = (long long)(now.tv_sec - pc->heard.tv_sec) * 1000 +
                         (now.tv_nsec - pc->heard.tv_nsec) / 1000000;
    if (quiet_ms < (long long)limit * 1000)
        return;
    char why[96];
    snprintf(why, sizeof(why), "no answer from PostgreSQL for %d s", limit);
    connection_lost(pc, why);
}

/* libpq reads what the server sent whenever a send of ours cannot go
 * out whole (in PQflush, and inside the calls that queue a statement),
 * so neither side blocks the other: results (or notifications) can then
 * wait in its buffer with nothing left on the socket to wake the read
 * event. After every flush the read event is woken when one may be. */
static void after_flush(PgConn *pc, int rc)
{
    if (rc > 0)
        event_add(pc->ev_write, NULL);
    else
        event_del(pc->ev_write);
    if ((pc->nsent || pc->on_notify) && !PQisBusy(pc->conn))
        event_active(pc->ev_io, EV_READ, 0);
}

static void flush_out(PgConn *pc)
{
    int rc = PQflush(pc->conn);
    if (rc < 0)
        connection_lost(pc, PQerrorMessage(pc->conn));
    else
        after_flush(pc, rc);
}

static void on_write(evutil_socket_t fd, short what, void *arg)
{
    PgConn *pc = arg;
    if (pc->state == PG_DOWN)
        return;
    if (pc->broken) {
        pc->broken = false;
        connection_lost(pc, PQerrorMessage(pc->conn));
        return;
    }
    flush_out(pc);
}

static const PgPrepared *find_prepared(const PgConn *pc, const char *name)
{
    for (const PgPrepared *p = pc->prepared; p && p->name; p++)
        if (!strcmp(p->name, name))
            return p;
    return NULL;
}

static int send_execute(PgConn *pc, const PgStmt *st)
{
    const char *const *params = (const char *const *)st->params;
    const PgPrepared *p = find_prepared(pc, st->name);
    if (p && p->planned_each_time)
        return PQsendQueryParams(pc->conn, p->sql, st->nparams, NULL, params, st->lengths,
                                 st->formats, st->result_format);
    return PQsendQueryPrepared(pc->conn, st->name, st->nparams, params, st->lengths, st->formats,
                               st->result_format);
}

static bool send_job(PgConn *pc, PgJob *j)
{
    free(j->results);
    j->results = calloc((size_t)(j->n ? j->n : 1), sizeof(PGresult *));
    if (!j->results)
        abort();
    for (int i = 0; i < j->n; i++) {
        PgStmt *st = &j->stmts[i];
        const char *const *params = (const char *const *)st->params;
        int ok;
        switch (st->kind) {
        case STMT_PREPARE: ok = PQsendPrepare(pc->conn, st->name, st->sql, 0, NULL); break;
        case STMT_EXECUTE: ok = send_execute(pc, st); break;
        default:
            ok = PQsendQueryParams(pc->conn, st->sql, st->nparams, NULL, params, NULL, NULL,
                                   st->result_format);
        }
        if (!ok)
            return false;
    }
    if (!PQpipelineSync(pc->conn))
        return false;
    j->next = NULL;
    if (pc->sent_tail) {
        pc->sent_tail->next = j;
    } else {
        pc->sent_head = j;
        mark_heard(pc); /* the server starts on it now: its wait starts now */
    }
    pc->sent_tail = j;
    pc->nsent++;
    return true;
}

/* The job's first error, as logs and answers may show it: the server's
 * primary message and code only. Its DETAIL can quote a row ("Failing
 * row contains ..."), which may hold a note or a callback's number. A
 * client-side error (a lost connection) has no fields: its text. */
static void keep_error(PgJob *j, const PGresult *r)
{
    const char *primary = PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY);
    const char *state = PQresultErrorField(r, PG_DIAG_SQLSTATE);
    const char *constraint = PQresultErrorField(r, PG_DIAG_CONSTRAINT_NAME);
    if (state)
        snprintf(j->sqlstate, sizeof(j->sqlstate), "%s", state);
    if (constraint)
        snprintf(j->constraint, sizeof(j->constraint), "%s", constraint);
    char text[600];
    if (primary)
        snprintf(text, sizeof(text), "%.500s (SQLSTATE %s)", primary, state ? state : "?");
    else if (PQresultStatus(r) == PGRES_PIPELINE_ABORTED)
        snprintf(text, sizeof(text), "statement not run (pipeline aborted)");
    else {
        const char *msg = PQresultErrorMessage(r);
        snprintf(text, sizeof(text), "%.500s", msg && *msg ? msg : "unknown error");
        text[strcspn(text, "\n")] = '\0';
    }
    j->error = strdup(text);
    if (!j->error)
        abort();
}

static void store_result(PgJob *j, PGresult *r)
{
    if (j->cur >= j->n) {
        PQclear(r);
        return;
    }
    ExecStatusType st = PQresultStatus(r);
    const PgStmt *stmt = &j->stmts[j->cur];
    if (stmt->rows_fn && (st == PGRES_SINGLE_TUPLE || st == PGRES_TUPLES_OK) && PQntuples(r) > 0)
        stmt->rows_fn(r, stmt->rows_arg);
    if (st == PGRES_SINGLE_TUPLE) {
        PQclear(r);
        j->cur_seen = true;
        return;
    }
    if (st == PGRES_FATAL_ERROR || st == PGRES_PIPELINE_ABORTED || st == PGRES_BAD_RESPONSE) {
        if (!j->error)
            keep_error(j, r);
    }
    if (j->results[j->cur])
        PQclear(j->results[j->cur]);
    j->results[j->cur] = r;
    j->cur_seen = true;
}

static void setup_done(PgJob *j, void *arg);

/* Reads every result that has fully arrived and finishes jobs at syncs. */
static void read_results(PgConn *pc)
{
    while (pc->sent_head && !PQisBusy(pc->conn)) {
        PgJob *j = pc->sent_head;
        PGresult *r = PQgetResult(pc->conn);
        if (!r) {
            if (!j->cur_seen)
                break;
            j->cur++;
            j->cur_seen = false;
            /* now, before libpq parses the next statement's first row: when
             * it refuses, the rows come gathered in one result instead */
            if (j->cur < j->n && j->stmts[j->cur].rows_fn)
                PQsetSingleRowMode(pc->conn);
            continue;
        }
        if (PQresultStatus(r) != PGRES_PIPELINE_SYNC) {
            store_result(j, r);
            continue;
        }
        PQclear(r);
        mark_heard(pc);
        pc->sent_head = j->next;
        if (!pc->sent_head)
            pc->sent_tail = NULL;
        pc->nsent--;
        job_finish(j);
        if (pc->state == PG_DOWN) /* the callback's work lost the connection */
            return;
    }
}

static void read_notifies(PgConn *pc)
{
    PGnotify *n;
    while (pc->conn && (n = PQnotifies(pc->conn))) {
        if (pc->on_notify)
            pc->on_notify(pc, n->relname, n->extra, pc->notify_arg);
        PQfreemem(n);
    }
}

static void on_readable(PgConn *pc)
{
    mark_heard(pc);
    if (!PQconsumeInput(pc->conn)) {
        connection_lost(pc, PQerrorMessage(pc->conn));
        return;
    }
    read_results(pc);
    if (pc->state != PG_DOWN)
        read_notifies(pc);
}

/* A batch's statements run to a megabyte; a unix socket's default send
 * buffer (208 KB) holds a fifth of that, so the server would wait for the
 * rest whenever the loop is busy. The kernel caps the request at
 * net.core.wmem_max. TCP sizes its own buffers (setting one would stop
 * that), so it is left alone. */
static void widen_send_buffer(int fd)
{
    struct sockaddr_storage sa;
    socklen_t len = sizeof(sa);
    int size = 1 << 20;
    if (getsockname(fd, (struct sockaddr *)&sa, &len) == 0 && sa.ss_family == AF_UNIX)
        (void)setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof(size));
}

static void became_connected(PgConn *pc)
{
    event_del(pc->ev_retry);
    event_free(pc->ev_io);
    pc->ev_io = event_new(pc->base, PQsocket(pc->conn), EV_READ | EV_PERSIST, on_io, pc);
    event_assign(pc->ev_write, pc->base, PQsocket(pc->conn), EV_WRITE, on_write, pc);
    if (!pc->ev_io || PQsetnonblocking(pc->conn, 1) != 0 || !PQenterPipelineMode(pc->conn)) {
        connection_lost(pc, "cannot enter pipeline mode");
        return;
    }
    widen_send_buffer(PQsocket(pc->conn));
    event_add(pc->ev_io, NULL);
    pc->state = PG_SETUP;
    PgJob *j = pgjob_new(setup_done, pc);
    for (const char *const *sql = pc->setup_sql; sql && *sql; sql++)
        pgjob_add(j, *sql, 0, NULL);
    for (const PgPrepared *p = pc->prepared; p && p->name; p++)
        if (!p->planned_each_time)
            add_prepare(j, p);
    if (!send_job(pc, j)) {
        pgjob_free(j);
        connection_lost(pc, PQerrorMessage(pc->conn));
        return;
    }
    flush_out(pc);
}

static void setup_done(PgJob *j, void *arg)
{
    PgConn *pc = arg;
    if (pgjob_conn_lost(j))
        return;
    if (pgjob_error(j)) {
        /* a table or function missing: a database never migrated, or
         * migrated by an older kicctl */
        const char *state = pgjob_sqlstate(j);
        bool schema = state && (!strcmp(state, "42P01") || !strcmp(state, "42883") ||
                                !strcmp(state, "42703"));
        pg_log(pc, LOG_ERROR, "connection set-up failed: %s%s", pgjob_error(j),
               schema ? " (is the database migrated? run kicctl migrate)" : "");
        char message[512];
        snprintf(message, sizeof(message), "%s", pgjob_error(j));
        bool refused = pc->on_refused && state && !strcmp(state, pc->refusal_state);
        connection_lost(pc, "set-up failed");
        if (refused)
            pc->on_refused(pc, message, pc->refused_arg);
        return;
    }
    pc->state = PG_UP;
    pc->backend_pid = PQbackendPID(pc->conn);
    pc->backoff_ms = 100;
    pg_log(pc, LOG_INFO, "PostgreSQL connection ready");
    if (pc->on_state)
        pc->on_state(pc, true, pc->state_arg);
}

static void poll_connect(PgConn *pc)
{
    PostgresPollingStatusType st = PQconnectPoll(pc->conn);
    short what;
    switch (st) {
    case PGRES_POLLING_OK:
        became_connected(pc);
        return;
    case PGRES_POLLING_READING:
        what = EV_READ;
        break;
    case PGRES_POLLING_WRITING:
        what = EV_WRITE;
        break;
    default:
        connection_lost(pc, PQerrorMessage(pc->conn));
        return;
    }
    /* The socket may change between polls (multiple hosts): re-create. */
    if (pc->ev_io)
        event_free(pc->ev_io);
    pc->ev_io = event_new(pc->base, PQsocket(pc->conn), what, on_io, pc);
    if (!pc->ev_io) {
        connection_lost(pc, "out of memory");
        return;
    }
    event_add(pc->ev_io, NULL);
}

static void on_io(evutil_socket_t fd, short what, void *arg)
{
    PgConn *pc = arg;
    if (pc->state == PG_CONNECTING)
        poll_connect(pc);
    else
        on_readable(pc);
}

static void start_connect(PgConn *pc)
{
    const char *keys[] = {"dbname", "application_name", NULL};
    const char *vals[] = {pc->conninfo, "kicd", NULL};
    pc->conn = PQconnectStartParams(keys, vals, 1);
    if (!pc->conn || PQstatus(pc->conn) == CONNECTION_BAD) {
        const char *why = pc->conn ? PQerrorMessage(pc->conn) : "out of memory";
        log_connect_failure(pc, why);
        if (pc->conn)
            PQfinish(pc->conn);
        pc->conn = NULL;
        schedule_retry(pc);
        return;
    }
    pc->state = PG_CONNECTING;
    struct timeval limit = {10, 0};
    event_add(pc->ev_retry, &limit);
    poll_connect(pc);
}

PgConn *pgconn_new(struct event_base *base, const char *conninfo, const char *name,
                   const char *const *setup_sql, const PgPrepared *prepared,
                   const LogLevel *log_level, PgStateFn on_state, void *arg)
{
    PgConn *pc = calloc(1, sizeof(*pc));
    if (!pc)
        return NULL;
    pc->base = base;
    pc->conninfo = strdup(conninfo ? conninfo : "");
    pc->name = strdup(name);
    pc->setup_sql = setup_sql;
    pc->prepared = prepared;
    pc->log_level = log_level;
    pc->on_state = on_state;
    pc->state_arg = arg;
    pc->backoff_ms = 100;
    pc->ev_retry = evtimer_new(base, on_retry, pc);
    pc->ev_write = event_new(base, -1, EV_WRITE, on_write, pc);
    pc->ev_watch = event_new(base, -1, EV_PERSIST, on_watch, pc);
    struct timeval second = {1, 0};
    if (!pc->conninfo || !pc->name || !pc->ev_retry || !pc->ev_write || !pc->ev_watch ||
        event_add(pc->ev_watch, &second) != 0) {
        pgconn_free(pc);
        return NULL;
    }
    start_connect(pc);
    return pc;
}

void pgconn_set_notify(PgConn *pc, PgNotifyFn fn, void *arg)
{
    pc->on_notify = fn;
    pc->notify_arg = arg;
}

void pgconn_set_refusal(PgConn *pc, const char *sqlstate, PgRefusedFn fn, void *arg)
{
    snprintf(pc->refusal_state, sizeof(pc->refusal_state), "%s", sqlstate);
    pc->on_refused = fn;
    pc->refused_arg = arg;
}

void pgconn_set_patience(PgConn *pc, int seconds)
{
    pc->patience_s = seconds > 0 ? seconds : 0;
}

void pgconn_free(PgConn *pc)
{
    if (!pc)
        return;
    pc->on_state = NULL;
    for (PgJob *j = pc->sent_head, *next; j; j = next) {
        next = j->next;
        j->conn_lost = true;
        job_fail(j, "shutting down");
        job_finish(j);
    }
    if (pc->ev_io)
        event_free(pc->ev_io);
    if (pc->ev_write)
        event_free(pc->ev_write);
    if (pc->ev_retry)
        event_free(pc->ev_retry);
    if (pc->ev_watch)
        event_free(pc->ev_watch);
    if (pc->conn)
        PQfinish(pc->conn);
    free(pc->conninfo);
    free(pc->name);
    free(pc);
}

bool pgconn_is_up(const PgConn *pc)
{
    return pc && pc->state == PG_UP;
}

int pgconn_backend_pid(const PgConn *pc)
{
    return pc->backend_pid;
}

void pgconn_pump(PgConn *pc)
{
    if (!pc || (pc->state != PG_SETUP && pc->state != PG_UP) || pc->broken)
        return;
    int rc = PQflush(pc->conn);
    if (rc < 0) {
        /* dropped from the loop, as in submit: no callback from here */
        pc->broken = true;
        event_active(pc->ev_write, EV_WRITE, 0);
    } else {
        after_flush(pc, rc);
    }
}

bool pgconn_submit(PgConn *pc, PgJob *job)
{
    if (pc->state != PG_UP || pc->broken)
        return false;
    if (!send_job(pc, job)) {
        /* Not queued: the caller keeps the job. The connection is broken;
         * it is dropped from the loop so no callback runs inside submit. */
        pc->broken = true;
        event_active(pc->ev_write, EV_WRITE, 0);
        return false;
    }
    /* Flush from the loop, not here: a failure would finish the job (and
     * call back) before submit returned. */
    event_active(pc->ev_write, EV_WRITE, 0);
    return true;
}
