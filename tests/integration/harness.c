/* Integration-test harness (see harness.h). Blocking sockets and libpq:
 * this is test code, clarity over cleverness. */
#include "harness.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "strbuf.h"

_Noreturn static void die(const char *fmt, ...) KIC_PRINTF(1, 2);
_Noreturn static void die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "harness: ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n");
    va_end(ap);
    exit(2);
}

/* The zone kicd and the tests share. The tests write calls minutes to
 * hours before now on today's date and read today's figures back, so
 * "today" must have hours behind it and ahead of it: Europe/Amsterdam
 * (kicd's default) when it is between 04:00 and 20:00 there, else the
 * fixed-offset zone where it is about noon (no DST either). The choice is
 * made before main() and put in TZ, so that this process, kicd (its
 * configuration) and every tool a test starts agree. KIC_TEST_ZONE
 * forces one. */
static char test_zone[64];

__attribute__((constructor)) static void choose_test_zone(void)
{
    const char *forced = getenv("KIC_TEST_ZONE");
    if (forced && *forced) {
        snprintf(test_zone, sizeof(test_zone), "%s", forced);
    } else {
        setenv("TZ", "Europe/Amsterdam", 1);
        tzset();
        time_t now = time(NULL);
        struct tm local;
        localtime_r(&now, &local);
        if (local.tm_hour >= 4 && local.tm_hour < 20) {
            snprintf(test_zone, sizeof(test_zone), "Europe/Amsterdam");
        } else {
            struct tm utc;
            gmtime_r(&now, &utc);
            int east = 12 - utc.tm_hour; /* hours east of UTC: -11 .. 12 */
            /* Etc/GMT-5 is five hours east of UTC (POSIX signs) */
            snprintf(test_zone, sizeof(test_zone), east == 0 ? "Etc/UTC" : "Etc/GMT%+d", -east);
        }
    }
    setenv("TZ", test_zone, 1);
    tzset();
}

const char *h_test_zone(void)
{
    return test_zone;
}

/* Inside a Check test a failure is reported by Check; outside (set-up in
 * main) there is nobody to report to, so the program stops. */
static bool in_suite;

#define h_check(cond, ...)                      \
    do {                                        \
        if (!(cond)) {                          \
            if (in_suite)                       \
                ck_abort_msg(__VA_ARGS__);      \
            else                                \
                die(__VA_ARGS__);               \
        }                                       \
    } while (0)

static const char *env_required(const char *name)
{
    const char *v = getenv(name);
    if (!v || !*v)
        die("%s is not set: run the tests through scripts/test", name);
    return v;
}

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- database ---- */

const char *h_pg_base(void)
{
    return env_required("KIC_TEST_PG");
}

static PGconn *connect_or_die(const char *conninfo)
{
    PGconn *db = PQconnectdb(conninfo);
    if (PQstatus(db) != CONNECTION_OK)
        die("cannot connect to %s: %s", conninfo, PQerrorMessage(db));
    return db;
}

/* Databases this process made, dropped when it exits (only by the
 * process that made them: Check forks a child per test). */
#define MAX_OWN_DBS 32
static struct {
    char name[96];
    pid_t owner;
} own_dbs[MAX_OWN_DBS];
static int nown_dbs;

static void drop_own_dbs(void)
{
    char admin[512], sql[256];
    snprintf(admin, sizeof(admin), "%s dbname=postgres", h_pg_base());
    PGconn *db = NULL;
    for (int i = 0; i < nown_dbs; i++) {
        if (own_dbs[i].owner != getpid())
            continue;
        if (!db)
            db = PQconnectdb(admin);
        snprintf(sql, sizeof(sql), "DROP DATABASE IF EXISTS %.95s WITH (FORCE)", own_dbs[i].name);
        PQclear(PQexec(db, sql));
    }
    if (db)
        PQfinish(db);
}

void h_db_create(const char *name, char *conninfo, size_t n, char *db_out, size_t dbn)
{
    char admin[512], sql[512];
    const char *tag = getenv("KIC_TEST_TAG");
    /* the process id: runs at once on one cluster (two builds, two
     * checkouts) never share a database */
    snprintf(db_out, dbn, "kic_%s_%s_%d", name, tag ? tag : "x", (int)getpid());
    if (nown_dbs == 0)
        atexit(drop_own_dbs);
    if (nown_dbs < MAX_OWN_DBS) {
        snprintf(own_dbs[nown_dbs].name, sizeof(own_dbs[nown_dbs].name), "%s", db_out);
        own_dbs[nown_dbs++].owner = getpid();
    }
    snprintf(admin, sizeof(admin), "%s dbname=postgres", h_pg_base());
    PGconn *db = connect_or_die(admin);
    snprintf(sql, sizeof(sql), "DROP DATABASE IF EXISTS %s WITH (FORCE)", db_out);
    PQclear(PQexec(db, sql));
    snprintf(sql, sizeof(sql), "CREATE DATABASE %s TEMPLATE kic_template", db_out);
    PGresult *r = PQexec(db, sql);
    if (PQresultStatus(r) != PGRES_COMMAND_OK)
        die("%s: %s", sql, PQresultErrorMessage(r));
    PQclear(r);
    PQfinish(db);
    snprintf(conninfo, n, "%s dbname=%s", h_pg_base(), db_out);
}

char *h_sql_value(const char *conninfo, const char *sql)
{
    PGconn *db = connect_or_die(conninfo);
    PGresult *r = PQexec(db, sql);
    ExecStatusType st = PQresultStatus(r);
    h_check(st == PGRES_TUPLES_OK || st == PGRES_COMMAND_OK, "%s: %s", sql,
            PQresultErrorMessage(r));
    char *v = strdup(st == PGRES_TUPLES_OK && PQntuples(r) > 0 ? PQgetvalue(r, 0, 0) : "");
    PQclear(r);
    PQfinish(db);
    return v;
}

long long h_sql_int(const char *conninfo, const char *sql)
{
    char *v = h_sql_value(conninfo, sql);
    long long n = atoll(v);
    free(v);
    return n;
}

long long h_sql_int_await(const char *conninfo, const char *sql, long long want)
{
    long long got = h_sql_int(conninfo, sql);
    for (int i = 0; i < 400 && got != want; i++) {
        usleep(50000);
        got = h_sql_int(conninfo, sql);
    }
    return got;
}

void h_sql_exec(const char *conninfo, const char *sql)
{
    free(h_sql_value(conninfo, sql));
}

void h_db_quiesce(const char *conninfo)
{
    for (int i = 0; i < 500; i++) {
        if (h_sql_int(conninfo, "SELECT count(*) FROM pg_stat_activity"
                                " WHERE datname = current_database() AND application_name = 'kicd'") == 0)
            return;
        usleep(20000);
    }
    h_check(false, "kicd's sessions did not end within 10 s");
}

void h_db_await_lock_wait(const char *conninfo)
{
    for (int i = 0; i < 500; i++) {
        if (h_sql_int(conninfo, "SELECT count(*) FROM pg_stat_activity WHERE application_name ="
                                " 'kicd' AND wait_event_type = 'Lock'"
                                " AND datname = current_database()") > 0)
            return;
        usleep(20000);
    }
    h_check(false, "no session of kicd waited for a lock within 10 s");
}

PGconn *h_db_lock_report_tables(const char *conninfo)
{
    PGconn *locker = connect_or_die(conninfo);
    PGresult *r = PQexec(locker, "BEGIN; LOCK TABLE calls, call_sums_15m IN ACCESS EXCLUSIVE MODE");
    h_check(PQresultStatus(r) == PGRES_COMMAND_OK, "lock: %s", PQresultErrorMessage(r));
    PQclear(r);
    return locker;
}

void h_db_unlock(PGconn *locker)
{
    PQclear(PQexec(locker, "COMMIT"));
    PQfinish(locker);
}

/* ---- processes ---- */

int h_run(char **out, const char *const *argv, const char *const *env)
{
    int pipefd[2];
    if (pipe(pipefd) != 0)
        die("pipe: %s", strerror(errno));
    pid_t pid = fork();
    if (pid < 0)
        die("fork: %s", strerror(errno));
    if (pid == 0) {
        dup2(pipefd[1], 1);
        dup2(pipefd[1], 2);
        close(pipefd[0]);
        close(pipefd[1]);
        for (const char *const *e = env; e && *e; e++)
            putenv((char *)*e);
        execv(argv[0], (char *const *)argv);
        _exit(127);
    }
    close(pipefd[1]);
    StrBuf b = STRBUF_INIT;
    char chunk[4096];
    ssize_t n;
    while ((n = read(pipefd[0], chunk, sizeof(chunk))) > 0)
        strbuf_append(&b, chunk, (size_t)n);
    close(pipefd[0]);
    int status;
    waitpid(pid, &status, 0);
    char *text = strbuf_steal(&b);
    if (out)
        *out = text;
    else
        free(text);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

int h_kicctl(const Kicd *k, char **out, const char *arg, ...)
{
    const char *argv[32];
    int n = 0;
    argv[n++] = env_required("KICCTL_BIN");
    argv[n++] = "--pg";
    argv[n++] = k->conninfo;
    va_list ap;
    va_start(ap, arg);
    for (const char *a = arg; a && n < 30; a = va_arg(ap, const char *))
        argv[n++] = a;
    va_end(ap);
    argv[n] = NULL;
    return h_run(out, argv, NULL);
}

char *h_user(const Kicd *k, const char *tenant, const char *name, const char *role,
             const char *agent, const char *teams)
{
    char *out = NULL;
    int rc;
    if (agent && teams)
        rc = h_kicctl(k, &out, "user", "create", "--tenant", tenant, "--name", name, "--role", role,
                      "--agent", agent, "--teams", teams, NULL);
    else if (agent)
        rc = h_kicctl(k, &out, "user", "create", "--tenant", tenant, "--name", name, "--role", role,
                      "--agent", agent, NULL);
    else if (teams)
        rc = h_kicctl(k, &out, "user", "create", "--tenant", tenant, "--name", name, "--role", role,
                      "--teams", teams, NULL);
    else
        rc = h_kicctl(k, &out, "user", "create", "--tenant", tenant, "--name", name, "--role", role,
                      NULL);
    h_check(rc == 0, "kicctl user create failed (%d): %s", rc, out);
    /* The token is the last line. */
    size_t len = strlen(out);
    while (len && out[len - 1] == '\n')
        out[--len] = '\0';
    char *last = strrchr(out, '\n');
    char *token = strdup(last ? last + 1 : out);
    free(out);
    return token;
}

pid_t h_spawn(const char *const *argv, const char *log_path)
{
    pid_t pid = fork();
    if (pid < 0)
        die("fork: %s", strerror(errno));
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL); /* never outlive a crashed test */
        int fd = open(log_path, O_WRONLY | O_CREAT | O_APPEND, 0644);
        dup2(fd, 1);
        dup2(fd, 2);
        close(fd);
        execv(argv[0], (char *const *)argv);
        _exit(127);
    }
    return pid;
}

int h_stop(pid_t pid, int timeout_ms)
{
    int status = 0;
    kill(pid, SIGTERM);
    long long deadline = now_ms() + timeout_ms;
    while (now_ms() < deadline) {
        if (waitpid(pid, &status, WNOHANG) == pid)
            return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        usleep(10000);
    }
    kill(pid, SIGKILL);
    waitpid(pid, &status, 0);
    return 128 + SIGKILL;
}

static const char *tree_path(const char *env, const char *rel)
{
    static char bufs[8][1024];
    static int next;
    char *b = bufs[next++ % 8];
    snprintf(b, 1024, "%s/%s", env_required(env), rel);
    return b;
}

const char *h_tmp_dir(void)
{
    const char *dir = getenv("KIC_TEST_TMP");
    return dir && dir[0] ? dir : "/tmp";
}

void h_remove_dir(const char *dir)
{
    char cmd[600];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", dir);
}

const char *h_build_path(const char *rel)
{
    return tree_path("KIC_BUILD_DIR", rel);
}

const char *h_source_path(const char *rel)
{
    return tree_path("KIC_SOURCE_DIR", rel);
}

/* ---- kicd ---- */

static int free_port(void);

int h_free_port(void)
{
    return free_port();
}

static int free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof(sa);
    if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
        getsockname(fd, (struct sockaddr *)&sa, &len) != 0)
        die("cannot find a free port: %s", strerror(errno));
    close(fd);
    return ntohs(sa.sin_port);
}

void kicd_init(Kicd *k, const char *name, const char *extra_conf)
{
    memset(k, 0, sizeof(*k));
    h_db_create(name, k->conninfo, sizeof(k->conninfo), k->db, sizeof(k->db));
    snprintf(k->dir, sizeof(k->dir), "%s/kic-test-%s-XXXXXX", h_tmp_dir(), name);
    if (!mkdtemp(k->dir))
        die("mkdtemp: %s", strerror(errno));
    snprintf(k->log_path, sizeof(k->log_path), "%s/kicd.log", k->dir);
    snprintf(k->conf_path, sizeof(k->conf_path), "%s/kicd.ini", k->dir);
    snprintf(k->extra_conf, sizeof(k->extra_conf), "%s", extra_conf ? extra_conf : "");
}

static void write_config(Kicd *k)
{
    FILE *f = fopen(k->conf_path, "w");
    if (!f)
        die("cannot write %s", k->conf_path);
    /* Keys a test sets in extra_conf win: inih takes the last value.
     * Many tests write calls on fixed dates of 2026 (the AMI recording,
     * the protocol vectors, the DST days of the report tests); with the
     * default retention (400 days) a kicd started from 2027 on would
     * purge their months at start and take those events as re-sends of
     * purged ones. Tests of retention set their own retention_days. */
    fprintf(f,
            "[server]\nlisten = 127.0.0.1:%d\nhttp = 127.0.0.1:%d\npg = %s\nlog_level = debug\ntz = %s\n"
            "[storage]\njournal_path = %s/kicd.journal\nretention_days = 36500\n"
            "[callers]\nsecret = test-secret-not-for-production\n",
            k->port, k->http_port, k->conninfo, test_zone, k->dir);
    fprintf(f, "%s\n", k->extra_conf);
    fclose(f);
}

/* The inode of the socket listening on 127.0.0.1:port, 0 when none. */
static unsigned long listening_inode(int port)
{
    FILE *f = fopen("/proc/net/tcp", "r");
    if (!f)
        die("cannot read /proc/net/tcp: %s", strerror(errno));
    char line[512];
    unsigned long found = 0;
    while (!found && fgets(line, sizeof(line), f)) {
        unsigned addr, lport, state;
        unsigned long inode;
        if (sscanf(line, " %*d: %x:%x %*x:%*x %x %*x:%*x %*x:%*x %*x %*u %*d %lu", &addr, &lport,
                   &state, &inode) == 4 &&
            (int)lport == port && state == 0x0A /* LISTEN */)
            found = inode;
    }
    fclose(f);
    return found;
}

/* Whether process pid holds the socket listening on 127.0.0.1:port. */
static bool pid_listens_on(pid_t pid, int port)
{
    unsigned long inode = listening_inode(port);
    if (!inode)
        return false;
    char want[64], dir[64], path[128], got[64];
    snprintf(want, sizeof(want), "socket:[%lu]", inode);
    snprintf(dir, sizeof(dir), "/proc/%d/fd", (int)pid);
    for (int fd = 0; fd < 1024; fd++) {
        snprintf(path, sizeof(path), "%s/%d", dir, fd);
        ssize_t n = readlink(path, got, sizeof(got) - 1);
        if (n > 0) {
            got[n] = '\0';
            if (strcmp(got, want) == 0)
                return true;
        }
    }
    return false;
}

/* The ports are chosen before kicd binds them, so another test running
 * at the same time may take one first: a listener on the port proves
 * nothing until it is this kicd's own. */
static bool kicd_spawn(Kicd *k, bool fresh_ports)
{
    int refused_before = kicd_log_count(k, "cannot listen on");
    write_config(k);
    pid_t pid = fork();
    if (pid < 0)
        die("fork: %s", strerror(errno));
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL); /* never outlive a crashed test */
        int fd = open(k->log_path, O_WRONLY | O_CREAT | O_APPEND, 0644);
        dup2(fd, 2);
        dup2(fd, 1);
        close(fd);
        setenv("ASAN_OPTIONS", "detect_leaks=1:halt_on_error=1:abort_on_error=0", 1);
        setenv("UBSAN_OPTIONS", "print_stacktrace=1:halt_on_error=1", 1);
        if (k->max_files > 0) {
            struct rlimit rl = {(rlim_t)k->max_files, (rlim_t)k->max_files};
            if (setrlimit(RLIMIT_NOFILE, &rl) != 0)
                _exit(126);
        }
        if (k->max_file_size > 0) {
            struct rlimit rl = {(rlim_t)k->max_file_size, (rlim_t)k->max_file_size};
            if (setrlimit(RLIMIT_FSIZE, &rl) != 0)
                _exit(126);
        }
        if (k->log_level_flag)
            execl(env_required("KICD_BIN"), "kicd", "--config", k->conf_path, "--log-level",
                  k->log_level_flag, (char *)NULL);
        else
            execl(env_required("KICD_BIN"), "kicd", "--config", k->conf_path, (char *)NULL);
        _exit(127);
    }
    k->pid = pid;
    long long deadline = now_ms() + 30000;
    while (now_ms() < deadline) {
        int status;
        if (waitpid(pid, &status, WNOHANG) == pid) {
            k->pid = 0;
            if (fresh_ports && kicd_log_count(k, "cannot listen on") > refused_before)
                return false; /* a port was taken meanwhile: choose others */
            kicd_log_clean(k);
            die("kicd exited during start-up (status %d); log: %s", status, k->log_path);
        }
        if (pid_listens_on(pid, k->port))
            return true;
        usleep(20000);
    }
    die("kicd did not start listening within 30 s; log: %s", k->log_path);
}

void kicd_start(Kicd *k)
{
    bool fresh = !k->port;
    for (int tries = 0; tries < 5; tries++) {
        if (fresh) {
            k->port = free_port();
            k->http_port = free_port();
        }
        if (kicd_spawn(k, fresh))
            return;
    }
    die("kicd found no free ports in 5 tries; log: %s", k->log_path);
}

static void print_log(const Kicd *k)
{
    FILE *f = fopen(k->log_path, "r");
    if (!f)
        return;
    char line[4096];
    fprintf(stderr, "---- kicd log (%s) ----\n", k->log_path);
    while (fgets(line, sizeof(line), f))
        fputs(line, stderr);
    fclose(f);
}

char *h_read_text(const char *path)
{
    FILE *f = fopen(path, "r");
    size_t len = 0, cap = 1 << 16;
    char *text = malloc(cap);
    if (!text)
        abort();
    for (size_t got = 1; f && got > 0; len += got) {
        if (len + 4096 >= cap && !(text = realloc(text, cap *= 2)))
            abort();
        got = fread(text + len, 1, cap - len - 1, f);
    }
    if (f)
        fclose(f);
    text[len] = '\0';
    return text;
}

int kicd_log_count(const Kicd *k, const char *needle)
{
    FILE *f = fopen(k->log_path, "r");
    if (!f)
        return 0;
    char line[8192];
    int n = 0;
    while (fgets(line, sizeof(line), f))
        n += strstr(line, needle) != NULL;
    fclose(f);
    return n;
}

bool kicd_log_contains(const Kicd *k, const char *needle)
{
    return kicd_log_count(k, needle) > 0;
}

bool kicd_log_shows(const Kicd *k, const char *needle)
{
    for (int tries = 0; tries < 500; tries++) {
        if (kicd_log_contains(k, needle))
            return true;
        usleep(20000);
    }
    return false;
}

bool kicd_log_clean(const Kicd *k)
{
    static const char *const bad[] = {"AddressSanitizer", "LeakSanitizer", "runtime error:",
                                      "UndefinedBehaviorSanitizer", "Assertion", "assertion",
                                      "SUMMARY:"};
    for (size_t i = 0; i < KIC_ARRAY_LEN(bad); i++) {
        if (kicd_log_contains(k, bad[i])) {
            fprintf(stderr, "kicd log contains '%s'\n", bad[i]);
            print_log(k);
            return false;
        }
    }
    return true;
}

bool kicd_stop(Kicd *k)
{
    if (!k->pid)
        return kicd_log_clean(k);
    int status = 0;
    /* A kicd that stopped before the test stopped it failed the test,
     * whatever its exit status (its log says why, or who sent the signal). */
    if (waitpid(k->pid, &status, WNOHANG) == k->pid) {
        fprintf(stderr, "kicd had stopped before the test stopped it (status %d)\n", status);
        print_log(k);
        k->pid = 0;
        kicd_log_clean(k);
        return false;
    }
    kill(k->pid, SIGTERM);
    long long deadline = now_ms() + 20000;
    bool exited = false;
    while (now_ms() < deadline) {
        if (waitpid(k->pid, &status, WNOHANG) == k->pid) {
            exited = true;
            break;
        }
        usleep(10000);
    }
    if (!exited) {
        fprintf(stderr, "kicd did not stop within 20 s of SIGTERM\n");
        kill(k->pid, SIGKILL);
        waitpid(k->pid, &status, 0);
    }
    k->pid = 0;
    bool ok = exited && WIFEXITED(status) && WEXITSTATUS(status) == 0;
    if (!ok) {
        fprintf(stderr, "kicd ended with status %d on SIGTERM\n", status);
        print_log(k);
    }
    return kicd_log_clean(k) && ok;
}

void kicd_kill(Kicd *k)
{
    if (!k->pid)
        return;
    kill(k->pid, SIGKILL);
    waitpid(k->pid, NULL, 0);
    k->pid = 0;
}

int kicd_wait_exit(Kicd *k, int timeout_ms)
{
    if (!k->pid)
        return -1;
    long long deadline = now_ms() + timeout_ms;
    int status = 0;
    while (waitpid(k->pid, &status, WNOHANG) != k->pid) {
        if (now_ms() >= deadline) {
            kicd_kill(k);
            return -1;
        }
        usleep(10000);
    }
    k->pid = 0;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

void kicd_signal(Kicd *k, int sig)
{
    if (k->pid)
        kill(k->pid, sig);
}

/* ---- client ---- */

Client *cl_connect(int port)
{
    Client *c = calloc(1, sizeof(*c));
    c->fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port),
                             .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    ck_assert_msg(connect(c->fd, (struct sockaddr *)&sa, sizeof(sa)) == 0, "connect: %s",
                  strerror(errno));
    int one = 1;
    setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    c->cap = 1 << 16;
    c->buf = malloc(c->cap);
    c->notifications = json_array();
    return c;
}

void cl_close(Client *c)
{
    if (!c)
        return;
    close(c->fd);
    free(c->buf);
    json_decref(c->notifications);
    free(c);
}

void cl_write(Client *c, const char *data, size_t len)
{
    while (len > 0) {
        ssize_t n = send(c->fd, data, len, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return; /* the server may have closed: the test checks replies */
        data += n;
        len -= (size_t)n;
    }
}

void cl_send(Client *c, const char *line)
{
    size_t len = strlen(line);
    char *copy = malloc(len + 1);
    memcpy(copy, line, len);
    copy[len] = '\n';
    cl_write(c, copy, len + 1);
    free(copy);
}

void cl_sendf(Client *c, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *line = NULL;
    if (vasprintf(&line, fmt, ap) < 0)
        die("out of memory");
    va_end(ap);
    cl_send(c, line);
    free(line);
}

char *cl_recv_line(Client *c, int timeout_ms)
{
    long long deadline = now_ms() + timeout_ms;
    for (;;) {
        char *nl = memchr(c->buf, '\n', c->len);
        if (nl) {
            size_t n = (size_t)(nl - c->buf);
            char *line = malloc(n + 1);
            memcpy(line, c->buf, n);
            line[n] = '\0';
            memmove(c->buf, nl + 1, c->len - n - 1);
            c->len -= n + 1;
            return line;
        }
        long long left = deadline - now_ms();
        if (left <= 0)
            return NULL;
        struct pollfd pfd = {c->fd, POLLIN, 0};
        if (poll(&pfd, 1, (int)left) <= 0)
            continue;
        if (c->len == c->cap) {
            c->cap *= 2;
            c->buf = realloc(c->buf, c->cap);
        }
        ssize_t n = recv(c->fd, c->buf + c->len, c->cap - c->len, 0);
        if (n <= 0)
            return NULL;
        c->len += (size_t)n;
    }
}

json_t *cl_recv(Client *c, int timeout_ms)
{
    char *line = cl_recv_line(c, timeout_ms);
    if (!line)
        return NULL;
    json_t *v = json_loads(line, JSON_DECODE_ANY, NULL);
    if (!v)
        fprintf(stderr, "harness: server sent non-JSON line: %s\n", line);
    free(line);
    return v;
}

static bool is_notification(json_t *v)
{
    return json_is_object(v) && json_object_get(v, "method") && !json_object_get(v, "id");
}

json_t *cl_recv_response(Client *c, int timeout_ms)
{
    long long deadline = now_ms() + timeout_ms;
    for (;;) {
        long long left = deadline - now_ms();
        json_t *v = cl_recv(c, left > 0 ? (int)left : 0);
        if (!v || !is_notification(v))
            return v;
        json_array_append_new(c->notifications, v);
    }
}

json_t *cl_call(Client *c, const char *method, const char *params_fmt, ...)
{
    char *params = NULL;
    if (params_fmt) {
        va_list ap;
        va_start(ap, params_fmt);
        if (vasprintf(&params, params_fmt, ap) < 0)
            die("out of memory");
        va_end(ap);
    }
    long id = ++c->next_id;
    if (params)
        cl_sendf(c, "{\"jsonrpc\":\"2.0\",\"id\":%ld,\"method\":\"%s\",\"params\":%s}", id, method,
                 params);
    else
        cl_sendf(c, "{\"jsonrpc\":\"2.0\",\"id\":%ld,\"method\":\"%s\"}", id, method);
    free(params);
    json_t *resp = cl_recv_response(c, 15000);
    if (resp && json_integer_value(json_object_get(resp, "id")) != id) {
        char *txt = json_dumps(resp, JSON_COMPACT);
        ck_abort_msg("response id mismatch: sent %ld, got %s", id, txt);
    }
    return resp;
}

json_t *cl_login(Client *c, const char *token)
{
    return cl_call(c, "auth.login", "{\"token\":\"%s\"}", token);
}

Client *cl_session(int port, const char *token)
{
    Client *c = cl_connect(port);
    json_t *r = cl_login(c, token);
    if (rpc_code(r) != 0) {
        char *txt = r ? json_dumps(r, JSON_COMPACT) : NULL;
        ck_abort_msg("login failed: %s", txt ? txt : "no answer (connection closed)");
    }
    json_decref(r);
    return c;
}

json_t *cl_wait_notification(Client *c, const char *method, int timeout_ms)
{
    long long deadline = now_ms() + timeout_ms;
    for (;;) {
        size_t i;
        json_t *n;
        json_array_foreach(c->notifications, i, n)
        {
            if (strcmp(json_string_value(json_object_get(n, "method")), method) == 0) {
                json_incref(n);
                json_array_remove(c->notifications, i);
                return n;
            }
        }
        long long left = deadline - now_ms();
        if (left <= 0)
            return NULL;
        json_t *v = cl_recv(c, (int)left);
        if (!v)
            return NULL;
        if (is_notification(v))
            json_array_append_new(c->notifications, v);
        else
            json_decref(v); /* a stray response: the caller did not wait for it */
    }
}

bool cl_wait_closed(Client *c, int timeout_ms)
{
    long long deadline = now_ms() + timeout_ms;
    char chunk[4096];
    while (now_ms() < deadline) {
        struct pollfd pfd = {c->fd, POLLIN, 0};
        if (poll(&pfd, 1, (int)(deadline - now_ms())) <= 0)
            continue;
        ssize_t n = recv(c->fd, chunk, sizeof(chunk), 0);
        if (n == 0 || (n < 0 && errno == ECONNRESET))
            return true;
    }
    return false;
}

int rpc_code(json_t *resp)
{
    if (!resp)
        return 1;
    json_t *err = json_object_get(resp, "error");
    if (err)
        return (int)json_integer_value(json_object_get(err, "code"));
    return json_object_get(resp, "result") ? 0 : 1;
}

json_t *rpc_result(json_t *resp)
{
    return json_object_get(resp, "result");
}

json_t *ck_result(json_t *resp)
{
    char *txt = resp ? json_dumps(resp, JSON_COMPACT) : NULL;
    ck_assert_msg(rpc_code(resp) == 0, "expected a result, got %s", txt ? txt : "no response");
    free(txt);
    return rpc_result(resp);
}

json_t *ck_ok(json_t *resp)
{
    ck_result(resp);
    return resp;
}

void cl_call_ok(Client *c, const char *method, const char *params_fmt, ...)
{
    char params[4096];
    va_list ap;
    va_start(ap, params_fmt);
    int n = vsnprintf(params, sizeof(params), params_fmt, ap);
    va_end(ap);
    ck_assert_msg(n >= 0 && (size_t)n < sizeof(params), "%s: params too long for the harness", method);
    json_decref(ck_ok(cl_call(c, method, "%s", params)));
}

KicTime h_today(int back_s)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    KicTime now = (KicTime)ts.tv_sec * KIC_USEC + ts.tv_nsec / 1000;
    KicTime t = now - (KicTime)back_s * KIC_USEC;
    KicTime floor = time_local_day_start(now) + KIC_USEC;
    return t < floor ? floor : t;
}

const char *h_at(KicTime t, double offset_s)
{
    static char bufs[16][40];
    static int next;
    char *b = bufs[next++ % 16];
    time_format_utc(t + (KicTime)(offset_s * KIC_USEC), b, 40);
    return b;
}

const char *h_tenant(const char *base)
{
    static char name[128];
    static int counter;
    snprintf(name, sizeof(name), "%s-%d-%d", base, (int)getpid(), ++counter);
    return name;
}

int h_run_suite(Suite *s, Kicd *k)
{
    SRunner *sr = srunner_create(s);
    in_suite = true;
    srunner_run_all(sr, CK_NORMAL);
    in_suite = false;
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    bool clean = k ? kicd_stop(k) : true;
    return failed == 0 && clean ? 0 : 1;
}
