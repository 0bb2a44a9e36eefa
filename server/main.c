/* kicd: command line, configuration, start-up and orderly shutdown.
 * Start-up order: config -> time zone -> loop -> PostgreSQL connections
 * -> listeners. SIGTERM/SIGINT drain (stop accepting, answer what was
 * asked, flush, exit 0); SIGHUP re-reads the reloadable options. */
#include <errno.h>
#include <event2/event.h>
#include <getopt.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>

#include "conn.h"
#include "http.h"
#include "journal.h"
#include "logins.h"
#include "rollup_params.h"
#include "retention.h"
#include "tls.h"
#include "listener.h"
#include "signals.h"
#include "monitor.h"
#include "pg.h"
#include "store.h"
#include "subscribe.h"
#include "tenants.h"
#include "writer.h"
#include "writer_lock.h"

#define DRAIN_LIMIT_S 10

/* The writer's session; the time zone and the database's lock
 * (writer_lock.h) are added at start (writer_setup_fill). */
static const char *const writer_setup_fixed[] = {
    "SET synchronous_commit TO on",
    /* a batch whose connection was dropped as hung is rolled back rather
     * than committed behind the journal's back (replay is idempotent
     * either way) */
    "SET client_connection_check_interval TO '1s'",
    /* a session whose network broke ends within ~20 s, not hours later,
     * and lets go of the database's lock (writer_lock.h); no effect on a
     * unix socket, where the server sees the close */
    "SET tcp_keepalives_idle TO 5",
    "SET tcp_keepalives_interval TO 5",
    "SET tcp_keepalives_count TO 3",
    "SET tcp_user_timeout TO 20000",
};

/* The writer's session uses the configured time zone: repeat windows in
 * SQL are calendar days there, as in lib/. */
static void writer_setup_fill(Server *s)
{
    _Static_assert(KIC_ARRAY_LEN(writer_setup_fixed) + 3 == KIC_ARRAY_LEN(s->writer_setup),
                   "the fixed statements, the time zone, the lock and the end");
    size_t n = 0;
    for (; n < KIC_ARRAY_LEN(writer_setup_fixed); n++)
        s->writer_setup[n] = writer_setup_fixed[n];
    snprintf(s->writer_tz_sql, sizeof(s->writer_tz_sql), "SET TimeZone TO '%s'", s->cfg.tz);
    s->writer_setup[n++] = s->writer_tz_sql;
    writer_lock_prepare(s, 0);
    s->writer_setup[n++] = s->writer_lock_sql;
    s->writer_setup[n] = NULL;
}
/* The reader's statements are bounded by this; the watchdog (pg.h) gives
 * its jobs that long and pg_timeout_s more. */
#define READER_STATEMENT_TIMEOUT_S 60
#define KIC_STR_(x) #x
#define KIC_STR(x) KIC_STR_(x)

/* The reports' session: as the reader's, without its notifications. */
static const char *const reports_setup[] = {
    "SET TimeZone TO 'UTC'",
    "SET statement_timeout TO '" KIC_STR(READER_STATEMENT_TIMEOUT_S) "s'",
    "SET client_connection_check_interval TO '1s'",
    NULL,
};

static const char *const reader_setup[] = {
    "SET TimeZone TO 'UTC'",
    "SET statement_timeout TO '" KIC_STR(READER_STATEMENT_TIMEOUT_S) "s'",
    /* a statement whose client is gone (dropped as hung, say) stops */
    "SET client_connection_check_interval TO '1s'",
    "LISTEN kic_users",
    "LISTEN kic_config",
    NULL,
};

static void usage(FILE *out)
{
    fprintf(out,
            "usage: kicd [--config FILE] [--pg CONNINFO] [--listen IP:PORT]\n"
            "            [--http IP:PORT] [--log-level error|warn|info|debug]\n"
            "            [--help] [--version]\n\n"
            "kicd is the contact-centre server: telephony events in, agents' states and\n"
            "wrap-ups, live statistics and reports out, everything kept in PostgreSQL.\n\n"
            "Options in the INI file (flags override the file; KIC_PG and\n"
            "KIC_CALLER_SECRET override the file when set):\n");
    if (out == stdout)
        config_print_help();
}

typedef struct Args {
    const char *config;
    const char *pg, *listen, *http, *log_level;
} Args;

/* 0: go on; 1: exit 0 (help/version); 2: usage error. */
static int parse_args(int argc, char **argv, Args *a)
{
    static const struct option longopts[] = {
        {"config", required_argument, NULL, 'c'}, {"pg", required_argument, NULL, 'p'},
        {"listen", required_argument, NULL, 'l'}, {"http", required_argument, NULL, 'H'},
        {"log-level", required_argument, NULL, 'L'}, {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},      {NULL, 0, NULL, 0},
    };
    int ch;
    while ((ch = getopt_long(argc, argv, "c:p:l:H:L:hV", longopts, NULL)) != -1) {
        switch (ch) {
        case 'c': a->config = optarg; break;
        case 'p': a->pg = optarg; break;
        case 'l': a->listen = optarg; break;
        case 'H': a->http = optarg; break;
        case 'L': a->log_level = optarg; break;
        case 'h': usage(stdout); return 1;
        case 'V': printf("kicd %s\n", KIC_VERSION); return 1;
        default: usage(stderr); return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "kicd: unexpected argument '%s'\n", argv[optind]);
        return 2;
    }
    return 0;
}

static bool load_config(Server *s)
{
    char err[512] = "";
    if (!config_read(&s->cfg, &s->sources, err, sizeof(err))) {
        fprintf(stderr, "kicd: %s\n", err);
        return false;
    }
    if (!log_level_parse(s->cfg.log_level, &s->log_level))
        abort(); /* config_read checked it */
    return true;
}

/* The zone is checked (config_validate): glibc quietly falls back to UTC
 * for an unknown one. */
static void set_time_zone(const char *tz)
{
    setenv("TZ", tz, 1);
    tzset();
}

static void on_reap(evutil_socket_t fd, short what, void *arg)
{
    conn_reap(arg);
}

static void on_drain_tick(evutil_socket_t fd, short what, void *arg);

void server_shutdown(Server *s, int exit_code)
{
    if (s->draining)
        return;
    s->draining = true;
    s->exit_code = exit_code;
    srv_log(s, LOG_INFO, "shutting down: %zu connections to drain", s->nconns);
    listener_stop(s->listener);
    http_stop(s->http);
    for (Conn *c = s->conns, *next; c; c = next) {
        next = c->next;
        conn_drain(c);
    }
    s->drain_started = server_now();
    static const struct timeval tick = {0, 50 * 1000};
    s->ev_drain = event_new(s->base, -1, EV_PERSIST, on_drain_tick, s);
    if (s->ev_drain)
        event_add(s->ev_drain, &tick);
    else
        event_base_loopexit(s->base, NULL);
}

static void on_drain_tick(evutil_socket_t fd, short what, void *arg)
{
    Server *s = arg;
    bool timed_out = server_now() - s->drain_started > DRAIN_LIMIT_S * KIC_USEC;
    if (s->nconns == 0 || timed_out) {
        if (timed_out)
            srv_log(s, LOG_WARN, "drain limit reached with %zu connections", s->nconns);
        event_base_loopexit(s->base, NULL);
    }
}

/* SIGHUP: the settings are read whole again, as a start would read them;
 * a file kicd could not start with changes nothing. An operator who edits
 * the port or the pool size should hear that it waits for a restart. */
static void reload(Server *s, const char *who)
{
    if (!s->sources.file) {
        srv_log(s, LOG_INFO, "%s: no --config file, nothing to reload", who);
        return;
    }
    char err[512], names[1024];
    Config next;
    if (!config_read(&next, &s->sources, err, sizeof(err))) {
        srv_log(s, LOG_ERROR, "reload failed, keeping the old settings: %s (%s)", err, who);
        config_free(&next);
        return;
    }
    size_t waiting = config_restart_changes(&s->cfg, &next, names, sizeof(names));
    config_take_reloadable(&s->cfg, &next);
    config_free(&next);
    if (!log_level_parse(s->cfg.log_level, &s->log_level))
        abort(); /* config_read checked it */
    srv_log(s, LOG_INFO, "reloaded: log level %s (%s; %s)", log_level_name(s->log_level),
            s->sources.file, who);
    if (waiting)
        srv_log(s, LOG_WARN, "changed in the file, in effect only after a restart: %s", names);
}

static void on_signal(int signo, pid_t sender, void *arg)
{
    Server *s = arg;
    char who[128];
    signals_describe(signo, sender, who, sizeof(who));
    if (signo == SIGHUP) {
        reload(s, who); /* logged at the level it sets */
        return;
    }
    srv_log(s, LOG_INFO, "stopping on %s", who);
    server_shutdown(s, 0);
}

#define MAINTAIN_INTERVAL_S 60

static bool start_listening(Server *s)
{
    char err[512];
    s->listener = listener_start(s, s->cfg.listen, err, sizeof(err));
    if (!s->listener) {
        srv_log(s, LOG_ERROR, "%s", err);
        return false;
    }
    srv_log(s, LOG_INFO, "kicd %s serving JSON-RPC on %s", KIC_VERSION, s->cfg.listen);
    return true;
}

static void partitions_done(PgJob *job, void *arg)
{
    if (pgjob_error(job))
        srv_log(arg, LOG_WARN, "creating event partitions failed: %s", pgjob_error(job));
}

/* Monthly partitions for this month and the next two. */
static void ensure_partitions(Server *s)
{
    PgJob *job = pgjob_new(partitions_done, s);
    pgjob_add(job,
              "SELECT kic_event_partition((date_trunc('month', now())"
              " + make_interval(months => m))::date) FROM generate_series(0, 2) AS m",
              0, NULL);
    if (!pgconn_submit(s->pg_reader, job))
        pgjob_free(job);
}

static void on_loaded(Server *s, bool ok);

static void on_notify(PgConn *pc, const char *channel, const char *payload, void *arg)
{
    store_on_notify(arg, channel, payload);
}

/* The stored sums agree with the thresholds: now the live state. */
static void sums_checked(Server *s, bool ok)
{
    if (ok)
        store_load_all(s, on_loaded);
    else
        on_loaded(s, false);
}

/* The live state is read from storage once it holds everything that
 * was acknowledged: after the journal's replay (and the sums agree with
 * the configured thresholds: rollup_params.h), and only by a kicd whose
 * writer holds the database (writer_lock.h). Records a replay could
 * neither store nor copy aside stay in the journal; they do not keep
 * kicd from serving. */
static void maybe_load(Server *s)
{
    if (s->ready || s->loading || s->draining || !pgconn_is_up(s->pg_reader) ||
        !pgconn_is_up(s->pg_writer) ||
        writer_replaying(s->writer) || writer_journal_pending(s->writer))
        return;
    s->loading = true;
    rollup_params_check(s, sums_checked);
}

void server_storage_caught_up(Server *s)
{
    maybe_load(s);
}

static void on_writer_state(PgConn *pc, bool up, void *arg)
{
    Server *s = arg;
    if (up)
        writer_lock_taken(s);
    else /* its session may live on without it, holding the lock */
        writer_lock_prepare(s, pgconn_backend_pid(pc));
    writer_pg_state(s->writer, up);
    maybe_load(s);
}

static void on_writer_refused(PgConn *pc, const char *message, void *arg)
{
    (void)pc;
    writer_lock_refused(arg, message);
}

/* Reports are refused (-32050) while it is down; nothing to redo. */
static void on_reports_state(PgConn *pc, bool up, void *arg)
{
    (void)pc;
    (void)up;
    (void)arg;
}

static void on_reader_state(PgConn *pc, bool up, void *arg)
{
    if (!up)
        return;
    /* notifications were missed while it was down: read the logins anew */
    store_load_logins(arg);
    maybe_load(arg);
}

static void on_loaded(Server *s, bool ok)
{
    s->loading = false;
    if (s->draining)
        return;
    if (!ok) {
        srv_log(s, LOG_WARN, "live state not loaded; trying again when storage is back");
        return;
    }
    s->ready = true;
    ensure_partitions(s);
    if (!start_listening(s)) {
        server_shutdown(s, 1);
        return;
    }
    retention_run(s); /* only a kicd that serves deletes anything */
}

/* Once a minute: a new day rolls "today"; old calls leave memory;
 * partitions for the coming months exist; the daily retention job runs.
 * Batches sent to PostgreSQL hold no pointers into memory (their rows are
 * serialised when decided), but one waiting for old calls to load decided
 * what to load against memory as it was: rolls wait for that one only. A
 * steady load (a back-fill) must not keep old calls in memory for ever. */
static void on_maintain(evutil_socket_t fd, short what, void *arg)
{
    Server *s = arg;
    static const int checks_per_day = 24 * 3600 / MAINTAIN_INTERVAL_S;
    /* Memory freed after a burst (thousands of connections closing, the
     * start-up's load) stays with the process unless handed back. */
    malloc_trim(0);
    if (!s->ready)
        return;
    if (!writer_loading(s->writer))
        tenants_roll_day(s->tenants, server_now());
    if (++s->maintain_ticks % checks_per_day == 0)
        ensure_partitions(s);
    retention_tick(s);
}

/* "Today" moves on at local midnight, not at the next maintenance tick:
 * for up to a minute the live figures were yesterday's, and a contact
 * offered just after midnight was counted waiting but not offered. */
static void arm_midnight(Server *s)
{
    KicTime now = server_now();
    KicTime wait = time_local_next_day_start(now) - now + 1000;
    struct timeval tv = {(time_t)(wait / KIC_USEC), (suseconds_t)(wait % KIC_USEC)};
    evtimer_add(s->ev_midnight, &tv);
}

static void on_midnight(evutil_socket_t fd, short what, void *arg)
{
    Server *s = arg;
    if (s->ready && !writer_loading(s->writer)) { /* else the next tick does */
        tenants_roll_day(s->tenants, server_now());
        /* wallboards show the new day now, not at the minute's refresh */
        size_t pos = 0;
        Tenant *t;
        while (tenants_next(s->tenants, &pos, &t))
            subscribers_changed(s, t);
    }
    arm_midnight(s);
}

/* Descriptors kicd needs besides its clients' connections: PostgreSQL,
 * the journal, the event loop's own. */
#define DESCRIPTORS_BESIDE_CONNECTIONS 128

/* Every connection is a descriptor, and Debian's default soft limit
 * (1,024) is far below max_connections' default. Raised, as far as the
 * hard limit allows, to what the configuration needs (both listeners'
 * caps); past the limit new connections wait in the kernel's queue
 * (listener.h), so it is said at start-up rather than found out in a
 * busy hour. */
static void fit_descriptor_limit(Server *s)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
        return;
    rlim_t besides = (rlim_t)s->cfg.max_http_connections + DESCRIPTORS_BESIDE_CONNECTIONS;
    rlim_t want = (rlim_t)s->cfg.max_connections + besides;
    if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < want) {
        struct rlimit raised = {want, rl.rlim_max};
        if (rl.rlim_max != RLIM_INFINITY && rl.rlim_max < want)
            raised.rlim_cur = rl.rlim_max;
        if (setrlimit(RLIMIT_NOFILE, &raised) == 0)
            rl.rlim_cur = raised.rlim_cur;
    }
    if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < want)
        srv_log(s, LOG_WARN,
                "descriptor limit %llu is below max_connections (%lld) + max_http_connections "
                "(%lld) + %d: past about %llu connections new ones wait until others close "
                "(raise LimitNOFILE or ulimit -n)",
                (unsigned long long)rl.rlim_cur, (long long)s->cfg.max_connections,
                (long long)s->cfg.max_http_connections, DESCRIPTORS_BESIDE_CONNECTIONS,
                rl.rlim_cur > besides ? (unsigned long long)(rl.rlim_cur - besides) : 0ULL);
}

/* A core dump would put what kicd holds in memory (callers' numbers of
 * open callbacks, notes on their way to storage, the callers' secret) in
 * a file wherever the system keeps them: none unless asked for. */
static void forbid_core_dumps(Server *s)
{
    if (s->cfg.core_dumps)
        return;
    struct rlimit none = {0, 0};
    if (setrlimit(RLIMIT_CORE, &none) != 0)
        srv_log(s, LOG_WARN, "cannot turn core dumps off: %s", strerror(errno));
}

/* The loop and the server's own events: signals, the reaper, the
 * maintenance tick and midnight. */
static bool start_loop(Server *s)
{
    s->base = event_base_new();
    if (!s->base)
        return false;
    s->reaper = event_new(s->base, -1, 0, on_reap, s);
    s->signals = signals_start(s->base, on_signal, s);
    s->ev_maintain = event_new(s->base, -1, EV_PERSIST, on_maintain, s);
    s->ev_midnight = evtimer_new(s->base, on_midnight, s);
    if (!s->reaper || !s->signals || !s->ev_maintain || !s->ev_midnight)
        return false;
    struct timeval every = {MAINTAIN_INTERVAL_S, 0};
    if (event_add(s->ev_maintain, &every) != 0)
        return false;
    arm_midnight(s);
    return true;
}

/* The journal, and what it says about itself at start. */
static bool open_journal(Server *s)
{
    char err[512];
    s->journal = journal_open(s->cfg.journal_path, s->cfg.journal_max_bytes, err, sizeof(err));
    if (!s->journal) {
        srv_log(s, LOG_ERROR, "%s", err);
        return false;
    }
    if (journal_damaged(s->journal))
        srv_log(s, LOG_WARN, "journal %s: %zu records to replay, %zu damaged",
                s->cfg.journal_path, journal_records(s->journal), journal_damaged(s->journal));
    else if (journal_records(s->journal))
        srv_log(s, LOG_WARN, "journal %s: %zu records to replay", s->cfg.journal_path,
                journal_records(s->journal));
    if (journal_cut_at_open(s->journal))
        srv_log(s, LOG_WARN,
                "journal %s: cut off %zu bytes of an append that never completed"
                " (never acknowledged)",
                s->cfg.journal_path, journal_cut_at_open(s->journal));
    return true;
}

static bool start(Server *s)
{
    forbid_core_dumps(s);
    fit_descriptor_limit(s);
    writer_setup_fill(s);
    if (!start_loop(s))
        return false;
    s->started_at = server_now();
    s->purged_before = KIC_TIME_NONE;
    s->writer_refused_since = KIC_TIME_NONE;
    s->tenants = tenants_new(s);
    s->logins = logins_new();
    s->writer = writer_new(s);
    s->metrics = monitor_new();
    if (!s->tenants || !s->writer || !s->metrics)
        return false;
    if (s->cfg.cert[0]) {
        char err[512];
        s->tls = tls_context(s->cfg.cert, s->cfg.key[0] ? s->cfg.key : s->cfg.cert, err,
                             sizeof(err));
        if (!s->tls) {
            srv_log(s, LOG_ERROR, "%s", err);
            return false;
        }
    }
    char busy[512];
    if (!listen_addr_available(s->cfg.listen, busy, sizeof(busy))) {
        srv_log(s, LOG_ERROR, "%s", busy);
        return false;
    }
    if (s->cfg.journal_path[0] && !open_journal(s)) /* empty: writes wait for PostgreSQL */
        return false;
    if (s->cfg.http[0]) { /* up while loading: /healthz tells */
        char err[512];
        s->http = http_start(s, s->cfg.http, err, sizeof(err));
        if (!s->http) {
            srv_log(s, LOG_ERROR, "%s", err);
            return false;
        }
        srv_log(s, LOG_INFO, "serving HTTP on %s", s->cfg.http);
    }
    s->pg_writer = pgconn_new(s->base, s->cfg.pg, "pg-writer", s->writer_setup,
                              writer_statements(s->writer), &s->log_level, on_writer_state, s);
    s->pg_reader = pgconn_new(s->base, s->cfg.pg, "pg-reader", reader_setup, NULL,
                              &s->log_level, on_reader_state, s);
    s->pg_reports = pgconn_new(s->base, s->cfg.pg, "pg-reports", reports_setup, NULL,
                               &s->log_level, on_reports_state, s);
    if (!s->pg_writer || !s->pg_reader || !s->pg_reports)
        return false;
    int stall = (int)s->cfg.pg_timeout_s;
    pgconn_set_patience(s->pg_writer, stall);
    pgconn_set_patience(s->pg_reader, stall ? READER_STATEMENT_TIMEOUT_S + stall : 0);
    pgconn_set_patience(s->pg_reports, stall ? READER_STATEMENT_TIMEOUT_S + stall : 0);
    pgconn_set_notify(s->pg_reader, on_notify, s);
    pgconn_set_refusal(s->pg_writer, WRITER_LOCK_SQLSTATE, on_writer_refused, s);
    srv_log(s, LOG_INFO, "kicd %s starting: loading live state from PostgreSQL", KIC_VERSION);
    return true;
}

static void stop(Server *s)
{
    for (Conn *c = s->conns, *next; c; c = next) {
        next = c->next;
        conn_close(c, "server stopped");
    }
    conn_reap(s);
    http_free(s->http);
    listener_free(s->listener);
    /* The connection first: its writes in flight report to their batches,
     * which the writer then answers. */
    pgconn_free(s->pg_writer);
    s->pg_writer = NULL; /* gone: the writer's last answers must not touch it */
    writer_free(s->writer);
    pgconn_free(s->pg_reader);
    pgconn_free(s->pg_reports);
    tenants_free(s->tenants);
    logins_free(s->logins);
    journal_close(s->journal);
    SSL_CTX_free(s->tls);
    monitor_free(s->metrics);
    if (s->reaper)
        event_free(s->reaper);
    signals_free(s->signals);
    if (s->ev_drain)
        event_free(s->ev_drain);
    if (s->ev_maintain)
        event_free(s->ev_maintain);
    if (s->ev_midnight)
        event_free(s->ev_midnight);
    if (s->base)
        event_base_free(s->base);
    config_free(&s->cfg);
}

int main(int argc, char **argv)
{
    Args args = {0};
    int rc = parse_args(argc, argv, &args);
    if (rc)
        return rc == 1 ? 0 : 2;
    Server srv = {.sources = {.file = args.config, .pg = args.pg, .listen = args.listen,
                              .http = args.http, .log_level = args.log_level}};
    if (!load_config(&srv)) {
        config_free(&srv.cfg);
        return 2;
    }
    set_time_zone(srv.cfg.tz);
    signal(SIGPIPE, SIG_IGN);
    signal(SIGXFSZ, SIG_IGN); /* a file-size limit: the write fails (EFBIG) */
    if (!start(&srv)) {
        stop(&srv);
        return 1;
    }
    event_base_dispatch(srv.base);
    stop(&srv);
    srv_log(&srv, LOG_INFO, "stopped");
    return srv.exit_code;
}
