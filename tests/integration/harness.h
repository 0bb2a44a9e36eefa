/* Integration-test harness: a database per test program (copied from the
 * migrated template that scripts/test made), a real kicd on free ports
 * with its log captured, kicctl for users, and a line-oriented JSON-RPC
 * client over a real socket. Tests fail if kicd's log shows a sanitizer
 * report or an assertion, or if kicd does not exit 0 on SIGTERM. */
#ifndef HARNESS_H
#define HARNESS_H

#include <check.h>
#include <jansson.h>
#include <libpq-fe.h>
#include <sys/types.h>

#include "kic.h"
#include "kictime.h"

typedef struct Kicd {
    pid_t pid;
    int port;
    int http_port;
    char db[64];          /* database name */
    char conninfo[512];   /* conninfo of that database */
    char dir[256];        /* temp dir: config, log, journal */
    char log_path[300];
    char conf_path[300];
    char extra_conf[2048];/* INI text appended to the generated config */
    int max_files;        /* > 0: kicd's descriptor limit (soft and hard) */
    const char *log_level_flag; /* set: kicd gets --log-level with it */
    long long max_file_size;    /* > 0: kicd's file-size limit (RLIMIT_FSIZE) */
} Kicd;

/* ---- database ---- */

/* The throwaway cluster's base conninfo (KIC_TEST_PG); aborts if unset. */
const char *h_pg_base(void);
/* Creates (or re-creates) database `name` from kic_template; fills the
 * conninfo. The name is suffixed with KIC_TEST_TAG. */
void h_db_create(const char *name, char *conninfo, size_t n, char *db_out, size_t dbn);
/* One value of a query (first row, first column) as text; "" when no row.
 * Aborts the test on SQL errors. Caller frees. */
char *h_sql_value(const char *conninfo, const char *sql);
long long h_sql_int(const char *conninfo, const char *sql);
/* Asks until the query gives `want` (up to 20 s: what kicd writes in the
 * background, a busy machine under ASan may take seconds to store); the
 * last answer. */
long long h_sql_int_await(const char *conninfo, const char *sql, long long want);
/* Runs a statement; fails the test on error. */
void h_sql_exec(const char *conninfo, const char *sql);
/* Waits until no kicd session is left on the database: after kill -9,
 * PostgreSQL still finishes (and commits) what kicd had sent. */
void h_db_quiesce(const char *conninfo);
/* Waits (up to 10 s) until one of kicd's sessions waits for a lock. */
void h_db_await_lock_wait(const char *conninfo);
/* Holds the tables reports read (calls, call_sums_15m) locked, so that a
 * report.query waits in PostgreSQL until h_db_unlock; the session holding
 * the lock. */
PGconn *h_db_lock_report_tables(const char *conninfo);
void h_db_unlock(PGconn *locker);

/* ---- kicd ---- */

/* Prepares a kicd for database `name` (created fresh). extra_conf is INI
 * text (sections and keys) added to the config; may be NULL. */
void kicd_init(Kicd *k, const char *name, const char *extra_conf);
/* Starts kicd and waits until it accepts connections. */
void kicd_start(Kicd *k);
/* SIGTERM; true when it exited 0 within the time limit and its log is clean. */
bool kicd_stop(Kicd *k);
/* SIGKILL, no questions. */
void kicd_kill(Kicd *k);
/* Waits for kicd to exit by itself (SIGKILL after timeout_ms): its exit
 * code, or -1 when it had to be killed or died of a signal. */
int kicd_wait_exit(Kicd *k, int timeout_ms);
/* True when the log has no sanitizer report or assertion; else prints it. */
bool kicd_log_clean(const Kicd *k);
/* Whether the log contains `needle`. */
bool kicd_log_contains(const Kicd *k, const char *needle);
/* Waits (up to 10 s) for a line of the log containing needle. */
bool kicd_log_shows(const Kicd *k, const char *needle);
/* Lines of kicd's log that contain needle. */
int kicd_log_count(const Kicd *k, const char *needle);
/* Sends a signal (SIGHUP for reload tests). */
void kicd_signal(Kicd *k, int sig);

/* Creates a user with kicctl; returns the token (caller frees). agent and
 * teams ("a,b") may be NULL. */
char *h_user(const Kicd *k, const char *tenant, const char *name, const char *role,
             const char *agent, const char *teams);
/* Runs kicctl with the given arguments (NULL-terminated) against the
 * test database; returns its exit status and, if out is given, stdout. */
int h_kicctl(const Kicd *k, char **out, const char *arg, ...) __attribute__((sentinel));
/* Runs any command, capturing stdout+stderr; returns the exit status. */
int h_run(char **out, const char *const *argv, const char *const *env);
/* Starts a command in the background, output appended to log_path. */
pid_t h_spawn(const char *const *argv, const char *log_path);
/* SIGTERM, then waits (SIGKILL after timeout_ms); the exit status. */
int h_stop(pid_t pid, int timeout_ms);
/* A whole file as text (caller frees; "" if it cannot be read). */
char *h_read_text(const char *path);
/* A free TCP port on 127.0.0.1. */
int h_free_port(void);
/* A path under the build or source tree (KIC_BUILD_DIR, KIC_SOURCE_DIR). */
const char *h_build_path(const char *rel);
const char *h_source_path(const char *rel);
/* Where tests keep their files (kicd's logs and journals, clusters,
 * certificates): $KIC_TEST_TMP, which scripts/test makes per run and
 * removes when every test passed; /tmp when run by hand. */
const char *h_tmp_dir(void);
/* Removes a directory a test made under h_tmp_dir() (certificates), with
 * all in it; says so on stderr when it cannot. */
void h_remove_dir(const char *dir);

/* ---- client ---- */

typedef struct Client {
    int fd;
    char *buf;
    size_t len, cap;
    long next_id;
    json_t *notifications; /* array of notifications received meanwhile */
} Client;

Client *cl_connect(int port);
void cl_close(Client *c);
/* Sends raw bytes (no newline added). */
void cl_write(Client *c, const char *data, size_t len);
/* Sends one line (newline added). */
void cl_send(Client *c, const char *line);
void cl_sendf(Client *c, const char *fmt, ...) KIC_PRINTF(2, 3);
/* The next line (without newline), or NULL on timeout or EOF. Caller frees. */
char *cl_recv_line(Client *c, int timeout_ms);
/* The next line parsed; NULL on timeout/EOF/bad JSON. */
json_t *cl_recv(Client *c, int timeout_ms);
/* The next response (notifications are set aside in c->notifications). */
json_t *cl_recv_response(Client *c, int timeout_ms);
/* Calls method with params (JSON text, or NULL for none); returns the
 * whole response object. */
json_t *cl_call(Client *c, const char *method, const char *params_fmt, ...) KIC_PRINTF(3, 4);
/* Logs in; returns the response. */
json_t *cl_login(Client *c, const char *token);
/* Connects and logs in, failing the test if login fails. */
Client *cl_session(int port, const char *token);
/* The next notification with this method (waiting up to timeout_ms);
 * caller decrefs. */
json_t *cl_wait_notification(Client *c, const char *method, int timeout_ms);
/* True when the server closed the connection within timeout_ms. */
bool cl_wait_closed(Client *c, int timeout_ms);

/* The error code of a response, 0 for a result, 1 for no response. */
int rpc_code(json_t *resp);
/* result member (borrowed). */
json_t *rpc_result(json_t *resp);

/* Fails the test unless resp is an error with this code; decrefs resp. */
#define ck_assert_rpc_error(resp, code)                                                       \
    do {                                                                                      \
        json_t *resp_ = (resp);                                                               \
        char *txt_ = resp_ ? json_dumps(resp_, JSON_COMPACT) : NULL;                          \
        ck_assert_msg(rpc_code(resp_) == (code), "expected error %d, got %s", (code),         \
                      txt_ ? txt_ : "no response");                                           \
        free(txt_);                                                                           \
        json_decref(resp_);                                                                   \
    } while (0)

/* Fails unless resp is a result; returns it (caller decrefs the response). */
json_t *ck_result(json_t *resp);
/* Fails unless resp is a result; returns resp itself (caller decrefs). */
json_t *ck_ok(json_t *resp);
/* Calls method with params (printf-style JSON text) and fails the test
 * unless the answer is a result: for the requests a test only sets up. */
void cl_call_ok(Client *c, const char *method, const char *params_fmt, ...) KIC_PRINTF(3, 4);

/* ---- time ---- */

/* The zone of "today" for kicd and the tests (harness.c: Europe/Amsterdam
 * unless midnight is within 4 hours there; also in TZ). */
const char *h_test_zone(void);
/* A moment of today (local): now minus back_s seconds, but never before
 * today's 00:00:01 (in h_test_zone, at least 4 hours after it). */
KicTime h_today(int back_s);
/* RFC 3339 (UTC, ms) of t + offset_s seconds, in one of 16 rotating
 * static buffers (so several fit in one printf). */
const char *h_at(KicTime t, double offset_s);

/* A unique tenant name per test case (tests share one kicd). */
const char *h_tenant(const char *base);

/* Runs a Check suite and then stops kicd (if pid set); exit status. */
int h_run_suite(Suite *s, Kicd *k);

#endif
