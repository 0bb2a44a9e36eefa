/* Nothing acknowledged is lost, nothing is counted twice (DESIGN.md
 * "Durability"), against kicd and a PostgreSQL cluster of the test's
 * own that the test crashes (pg_ctl -m immediate) under load: batches go
 * to the local journal meanwhile and are replayed; kicd killed with
 * SIGKILL while its journal holds the only copy; a journal with a torn
 * tail and a damaged record. Afterwards every acknowledged event is in
 * PostgreSQL exactly once and the report counts what was sent. */
#include <arpa/inet.h>
#include <dirent.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <utime.h>

#include "harness.h"
#include "journal_codec.h"
#include "strbuf.h"

/* ---- a cluster of our own ---- */

typedef struct Private {
    char dir[128];
    char base[256]; /* conninfo without dbname */
} Private;

static void private_pg(const char *cmd, Private *p)
{
    char *out = NULL;
    const char *argv[] = {h_source_path("tests/integration/private-pg"), cmd, p->dir, NULL};
    int rc = h_run(&out, argv, NULL);
    ck_assert_msg(rc == 0, "private-pg %s: %s", cmd, out ? out : "");
    if (strcmp(cmd, "start") == 0) {
        char *nl = strchr(out, '\n');
        if (nl)
            *nl = '\0';
        snprintf(p->base, sizeof(p->base), "%s", out);
    }
    free(out);
}

/* This run's id (the runner's pid, taken before Check forks a process
 * per test): main() destroys every cluster of the run at the end, also
 * those of tests that failed before destroying their own. */
static int run_id;
static const char *const cluster_names[] = {"crash", "kill", "logins", "damage", "late", "full", "hang", "refuse", "forever", "keep"};

static void cluster_dir(char *out, size_t n, const char *name)
{
    snprintf(out, n, "%s/kic-faults-%s-%d", h_tmp_dir(), name, run_id);
}

/* kicd on a database "kic" of a fresh private cluster; max_file_size as
 * in Kicd (0: none). */
static void start_with_private_limited(Kicd *k, Private *p, const char *name,
                                       const char *extra_conf, long long max_file_size)
{
    cluster_dir(p->dir, sizeof(p->dir), name);
    private_pg("destroy", p);
    private_pg("start", p);
    char sql[300];
    snprintf(sql, sizeof(sql), "%s dbname=postgres", p->base);
    h_sql_exec(sql, "CREATE DATABASE kic");
    kicd_init(k, name, extra_conf);
    snprintf(k->conninfo, sizeof(k->conninfo), "%s dbname=kic", p->base);
    ck_assert_int_eq(h_kicctl(k, NULL, "migrate", NULL), 0);
    k->max_file_size = max_file_size;
    kicd_start(k);
}

static void start_with_private(Kicd *k, Private *p, const char *name)
{
    start_with_private_limited(k, p, name, NULL, 0);
}

/* ---- a bridge that re-sends what was not acknowledged ---- */

#define NCALLS 1000
#define NEVENTS (NCALLS * 3)
#define WINDOW 100
#define SEND_PER_PUMP 25 /* about 1,000 events a second: the crashes meet a load */

typedef enum { UNSENT, SENT, ACKED } EvState;

typedef struct Load {
    Kicd *k;
    char *token;
    Client *c;
    EvState st[NEVENTS];
    size_t acked;
    KicTime t0;
} Load;

static void line_of(const Load *l, int i, char *buf, size_t n)
{
    static const char *const methods[] = {"call.offered", "call.answered", "call.ended"};
    int call = i / 3, step = i % 3;
    const char *extra = step == 0 ? ",\"queue\":\"fault\"" : step == 1 ? ",\"agent\":\"a.jansen\"" : "";
    snprintf(buf, n,
             "{\"jsonrpc\":\"2.0\",\"id\":%d,\"method\":\"%s\",\"params\":{\"event_id\":\"e%d\","
             "\"call_id\":\"c%d\",\"at\":\"%s\"%s}}",
             i, methods[step], i, call, h_at(l->t0, call * 2.0 + step * 0.5), extra);
}

/* Sends what may be sent; reads answers for up to wait_ms. A refusal
 * (storage unavailable, overloaded) is sent again later, like a bridge. */
static void pump(Load *l, int wait_ms)
{
    int outstanding = 0;
    for (int i = 0; i < NEVENTS; i++)
        outstanding += l->st[i] == SENT;
    char line[512];
    int sent = 0;
    for (int i = 0; i < NEVENTS && outstanding < WINDOW && sent < SEND_PER_PUMP; i++) {
        if (l->st[i] != UNSENT)
            continue;
        line_of(l, i, line, sizeof(line));
        cl_send(l->c, line);
        l->st[i] = SENT;
        outstanding++;
        sent++;
    }
    /* answers until wait_ms have passed: the pace of the load */
    KicTime until = h_today(0) + (KicTime)wait_ms * 1000;
    for (json_t *r; h_today(0) < until && (r = cl_recv(l->c, (int)((until - h_today(0)) / 1000) + 1));
         json_decref(r)) {
        int id = (int)json_integer_value(json_object_get(r, "id"));
        ck_assert_msg(id >= 0 && id < NEVENTS, "stray answer");
        int code = rpc_code(r);
        if (code == 0) {
            if (l->st[id] != ACKED)
                l->acked++;
            l->st[id] = ACKED;
        } else {
            ck_assert_msg(code == -32050 || code == -32029, "event %d refused with %d", id, code);
            l->st[id] = UNSENT;
        }
    }
}

/* kicd went away: what was in flight is sent again on a new session. */
static void reconnect(Load *l)
{
    cl_close(l->c);
    for (int i = 0; i < NEVENTS; i++)
        if (l->st[i] == SENT)
            l->st[i] = UNSENT;
    l->c = cl_session(l->k->port, l->token);
}

static bool all_acked(const Load *l)
{
    return l->acked == NEVENTS;
}

/* ---- what storage holds ---- */

static long long count(Kicd *k, const char *sql)
{
    return h_sql_int(k->conninfo, sql);
}

/* Until storage has every event (the journal replayed), 30 s at most. */
static void wait_caught_up(Kicd *k)
{
    for (int i = 0; i < 300 && count(k, "SELECT count(*) FROM events") < NEVENTS; i++)
        usleep(100000);
}

static void assert_exactly_once(Kicd *k, const char *super_token, long long expect_events,
                                long long expect_calls)
{
    ck_assert_int_eq(count(k, "SELECT count(*) FROM events"), expect_events);
    ck_assert_int_eq(count(k, "SELECT count(DISTINCT event_id) FROM events"), expect_events);
    ck_assert_int_eq(count(k, "SELECT count(*) FROM event_keys"), expect_events);
    /* the report counts what was sent: every call offered, answered */
    Client *s = cl_session(k->port, super_token);
    KicTime day = time_local_day_start(h_today(0));
    char from[40], to[40];
    time_format_local(day, from, sizeof(from));
    time_format_local(time_add_local_days(day, 1), to, sizeof(to));
    json_t *r = cl_call(s, "report.query", "{\"from\":\"%s\",\"to\":\"%s\",\"interval\":\"all\"}", from, to);
    json_t *res = ck_result(r), *cols = json_object_get(res, "columns");
    json_t *row = json_array_get(json_object_get(res, "rows"), 0);
    size_t i;
    json_t *c;
    json_array_foreach(cols, i, c)
    {
        const char *name = json_string_value(c);
        if (!strcmp(name, "offered") || !strcmp(name, "answered") || !strcmp(name, "talk_n"))
            ck_assert_msg(json_integer_value(json_array_get(row, i)) == expect_calls,
                          "report %s: %lld, sent %lld", name,
                          (long long)json_integer_value(json_array_get(row, i)), expect_calls);
    }
    json_decref(r);
    cl_close(s);
}

static Load *load_new(Kicd *k, const char *tenant)
{
    Load *l = calloc(1, sizeof(*l));
    l->k = k;
    l->token = h_user(k, tenant, "pbx", "bridge", NULL, NULL);
    l->c = cl_session(k->port, l->token);
    l->t0 = h_today(NCALLS * 2 + 60);
    return l;
}

static void load_free(Load *l)
{
    cl_close(l->c);
    free(l->token);
    free(l);
}

static bool metric_positive(Kicd *k, const char *needle)
{
    /* /metrics over plain HTTP: the count after the label */
    char cmd[256], *out = NULL;
    snprintf(cmd, sizeof(cmd), "exec 3<>/dev/tcp/127.0.0.1/%d; printf 'GET /metrics HTTP/1.0\\r\\n\\r\\n' >&3; cat <&3", k->http_port);
    const char *argv[] = {"/bin/bash", "-c", cmd, NULL};
    h_run(&out, argv, NULL);
    const char *at = out ? strstr(out, needle) : NULL;
    bool positive = at && atof(at + strlen(needle)) > 0;
    free(out);
    return positive;
}

/* ---- the tests ---- */

START_TEST(postgres_crashing_under_load_loses_nothing)
{
    Kicd k;
    Private p;
    start_with_private(&k, &p, "crash");
    char *super = h_user(&k, "faults", "sup", "supervisor", NULL, NULL);
    Load *l = load_new(&k, "faults");
    const size_t crash_at[] = {300, 1300, 2300};
    size_t crashes = 0;
    KicTime restart_at = 0;
    for (int rounds = 0; !all_acked(l) && rounds < 20000; rounds++) {
        pump(l, 20);
        if (crashes < 3 && !restart_at && l->acked >= crash_at[crashes]) {
            private_pg("stop-immediate", &p); /* mid-flight: batches go to the journal */
            crashes++;
            printf("crash %zu at %zu acknowledged\n", crashes, l->acked);
            fflush(stdout);
            restart_at = h_today(0) + KIC_USEC;
        }
        if (restart_at && h_today(0) >= restart_at) {
            private_pg("start", &p);
            restart_at = 0;
            printf("restart at %zu acknowledged\n", l->acked);
            fflush(stdout);
        }
    }
    ck_assert_msg(all_acked(l), "%zu of %d acknowledged", l->acked, NEVENTS);
    ck_assert_int_eq(crashes, 3);
    if (restart_at)
        private_pg("start", &p);
    wait_caught_up(&k);
    ck_assert_msg(metric_positive(&k, "kicd_batches_total{to=\"journal\"} "),
                  "no batch went to the journal: the crash missed the load");
    assert_exactly_once(&k, super, NEVENTS, NCALLS);
    load_free(l);
    free(super);
    ck_assert(kicd_stop(&k));
    private_pg("destroy", &p);
}
END_TEST

/* PostgreSQL down, events journaled and acknowledged, kicd killed: the
 * journal is the only copy. kicd replays it at start-up. */
START_TEST(sigkill_while_the_journal_holds_the_only_copy)
{
    Kicd k;
    Private p;
    start_with_private(&k, &p, "kill");
    char *super = h_user(&k, "faults", "sup", "supervisor", NULL, NULL);
    Load *l = load_new(&k, "faults");
    while (l->acked < 600)
        pump(l, 20);
    private_pg("stop-immediate", &p);
    while (l->acked < 1800)
        pump(l, 20);
    kicd_kill(&k);
    struct stat st;
    char jpath[600];
    snprintf(jpath, sizeof(jpath), "%s/kicd.journal", k.dir);
    ck_assert_int_eq(stat(jpath, &st), 0);
    ck_assert_int_eq(st.st_mode & 0777, 0600);
    ck_assert_int_gt(st.st_size, 0);
    private_pg("start", &p);
    kicd_start(&k); /* replays, then loads, then serves */
    ck_assert(kicd_log_contains(&k, "journal replayed"));
    reconnect(l);
    while (!all_acked(l))
        pump(l, 20);
    wait_caught_up(&k);
    assert_exactly_once(&k, super, NEVENTS, NCALLS);
    load_free(l);
    free(super);
    ck_assert(kicd_stop(&k));
    private_pg("destroy", &p);
}
END_TEST

/* A PostgreSQL that hangs instead of refusing (every process of the
 * cluster stopped with SIGSTOP: nothing fails, nothing answers) is taken
 * as down after pg_timeout_s: events are journalled and acknowledged,
 * a known token logs in from memory, and once it answers again
 * everything lands exactly once, the batch that was in flight when it
 * stopped included (its transaction may have committed behind the
 * journal's back). */
START_TEST(a_postgres_that_hangs_is_taken_as_down)
{
    Kicd k;
    Private p;
    start_with_private_limited(&k, &p, "hang", "[storage]\npg_timeout_s = 2\n", 0);
    char *super = h_user(&k, "faults", "sup", "supervisor", NULL, NULL);
    char *agent = h_user(&k, "faults", "a.jansen", "agent", NULL, "kic");
    Load *l = load_new(&k, "faults");
    while (l->acked < 600)
        pump(l, 20);
    private_pg("freeze", &p);
    time_t frozen = time(NULL);
    while (l->acked < 1800 && time(NULL) - frozen < 60)
        pump(l, 20);
    ck_assert_msg(l->acked >= 1800, "%zu acknowledged in the minute after PostgreSQL hung",
                  l->acked);
    ck_assert(kicd_log_contains(&k, "no answer from PostgreSQL for 2 s"));
    Client *a = cl_session(k.port, agent);
    json_t *r = cl_call(a, "agent.state.set", "{\"state\":\"available\"}");
    ck_assert_int_eq(rpc_code(r), 0);
    json_decref(r);
    cl_close(a);
    private_pg("thaw", &p);
    while (!all_acked(l))
        pump(l, 20);
    wait_caught_up(&k);
    assert_exactly_once(&k, super, NEVENTS, NCALLS);
    load_free(l);
    free(super);
    free(agent);
    ck_assert(kicd_stop(&k));
    private_pg("destroy", &p);
}
END_TEST

/* pg_timeout_s = 0 waits for ever: a hung PostgreSQL is not taken as
 * down, the event waits unanswered (not journalled), and is answered and
 * stored once it answers again. */
START_TEST(pg_timeout_0_waits_for_a_hung_postgres)
{
    Kicd k;
    Private p;
    start_with_private_limited(&k, &p, "forever", "[storage]\npg_timeout_s = 0\n", 0);
    char *token = h_user(&k, "faults", "pbx", "bridge", NULL, NULL);
    Client *b = cl_session(k.port, token);
    KicTime t0 = h_today(600);
    cl_call_ok(b, "call.offered", "{\"event_id\":\"f0\",\"call_id\":\"f0\",\"at\":\"%s\",\"queue\":\"fault\"}",
               h_at(t0, 0));
    private_pg("freeze", &p);
    char line[300];
    snprintf(line, sizeof(line),
             "{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":\"call.offered\",\"params\":"
             "{\"event_id\":\"f1\",\"call_id\":\"f1\",\"at\":\"%s\",\"queue\":\"fault\"}}",
             h_at(t0, 1));
    cl_send(b, line);
    json_t *r = cl_recv(b, 11000); /* longer than the default pg_timeout_s (10) */
    ck_assert_msg(r == NULL, "answered while PostgreSQL hung");
    ck_assert(!kicd_log_contains(&k, "no answer from PostgreSQL"));
    char jpath[600];
    struct stat st;
    snprintf(jpath, sizeof(jpath), "%s/kicd.journal", k.dir);
    ck_assert(stat(jpath, &st) != 0 || st.st_size == 0); /* nothing journalled */
    private_pg("thaw", &p);
    r = cl_recv(b, 30000);
    ck_assert_msg(r && rpc_code(r) == 0, "not answered after the thaw");
    ck_assert_int_eq(json_integer_value(json_object_get(r, "id")), 7);
    json_decref(r);
    ck_assert_int_eq(count(&k, "SELECT count(*) FROM events WHERE event_id IN ('f0', 'f1')"), 2);
    cl_close(b);
    free(token);
    ck_assert(kicd_stop(&k));
    private_pg("destroy", &p);
}
END_TEST

/* The HTTP status of GET path with a bearer token. */
static int http_status(const Kicd *k, const char *path, const char *token)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)k->http_port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ck_assert(connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0);
    char req[1024], buf[64] = {0};
    int n = snprintf(req, sizeof(req),
                     "GET %s HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer %s\r\n"
                     "Connection: close\r\n\r\n",
                     path, token);
    ck_assert(write(fd, req, (size_t)n) == n);
    for (size_t got = 0; got < 12;) {
        struct pollfd p = {fd, POLLIN, 0};
        ck_assert_msg(poll(&p, 1, 10000) == 1, "no answer to GET %s", path);
        ssize_t r = read(fd, buf + got, sizeof(buf) - 1 - got);
        if (r <= 0)
            break;
        got += (size_t)r;
    }
    close(fd);
    int status = 0;
    ck_assert_msg(sscanf(buf, "HTTP/1.%*d %d", &status) == 1, "not HTTP: %s", buf);
    return status;
}

/* DESIGN.md: agents and supervisors keep working while PostgreSQL is
 * unreachable, logging in included. kicd reads every active user's token
 * hash when storage comes up: a token it knows logs in from memory, even
 * one that never logged in before, over JSON-RPC and HTTP; an unknown
 * or revoked token is refused as "storage unavailable", never let in. */
START_TEST(logins_work_while_postgres_is_down)
{
    Kicd k;
    Private p;
    start_with_private(&k, &p, "logins");
    char *super = h_user(&k, "faults", "sup", "supervisor", NULL, NULL);
    char *agent = h_user(&k, "faults", "a.jansen", "agent", NULL, "kic");
    char *gone = h_user(&k, "faults", "weg", "supervisor", NULL, NULL);
    char *bridge = h_user(&k, "faults", "pbx", "bridge", NULL, NULL);
    ck_assert_int_eq(h_kicctl(&k, NULL, "user", "revoke", "--tenant", "faults", "--name", "weg", NULL), 0);
    /* a restart reads the users as they are now */
    ck_assert(kicd_stop(&k));
    kicd_start(&k);
    Client *s = cl_session(k.port, super); /* the tenant is loaded */
    private_pg("stop-immediate", &p);
    /* the agent, who never logged in, comes in and works */
    Client *a = cl_session(k.port, agent);
    json_t *r = cl_call(a, "agent.state.set", "{\"state\":\"available\"}");
    ck_assert_int_eq(rpc_code(r), 0);
    json_decref(r);
    r = cl_call(s, "stats.live", NULL);
    ck_assert_int_eq(rpc_code(r), 0);
    json_decref(r);
    ck_assert(kicd_log_contains(&k, "token checked against the logins kicd knows"));
    /* a callback request older than memory holds needs its key checked
     * in storage: refused for now, nothing recorded */
    Client *b = cl_session(k.port, bridge);
    r = cl_call(b, "callback.requested",
                "{\"event_id\":\"cb-old\",\"callback_id\":\"ivr-old\",\"caller\":\"0612000077\","
                "\"queue\":\"kic\",\"at\":\"%s\"}", h_at(h_today(0), -20 * 86400.0));
    ck_assert_int_eq(rpc_code(r), -32050);
    json_decref(r);
    cl_close(b);
    /* the wallboard's API too */
    ck_assert_int_eq(http_status(&k, "/api/v1/live", super), 200);
    ck_assert_int_eq(http_status(&k, "/api/v1/live", gone), 503);
    const char *refused[] = {gone, "kic_0000000000000000000000000000000000000000000000000"};
    for (int i = 0; i < 2; i++) {
        Client *c = cl_connect(k.port);
        r = cl_call(c, "auth.login", "{\"token\":\"%s\"}", refused[i]);
        ck_assert_int_eq(rpc_code(r), -32050);
        json_decref(r);
        r = cl_call(c, "stats.live", NULL);
        ck_assert_int_eq(rpc_code(r), -32001);
        json_decref(r);
        cl_close(c);
    }
    /* storage back: the revoked token is refused as such */
    private_pg("start", &p);
    Client *c = NULL;
    for (int i = 0; i < 100; i++) {
        c = cl_connect(k.port);
        r = cl_call(c, "auth.login", "{\"token\":\"%s\"}", gone);
        int code = rpc_code(r);
        json_decref(r);
        cl_close(c);
        if (code != -32050) {
            ck_assert_int_eq(code, -32001);
            break;
        }
        ck_assert_int_lt(i, 99);
        usleep(100000);
    }
    cl_close(a);
    cl_close(s);
    free(super);
    free(agent);
    free(gone);
    free(bridge);
    ck_assert(kicd_stop(&k));
    ck_assert_int_eq(count(&k, "SELECT count(*) FROM callbacks"), 0);
    private_pg("destroy", &p);
}
END_TEST

/* PostgreSQL down and the journal full (kicd's file-size limit stands in
 * for a full disk): the event whose journal write failed waits
 * unanswered, later ones are refused with -32050 and recorded nowhere,
 * kicd stays up for everyone, and when PostgreSQL is back the waiting
 * event is stored and answered, after everything the journal held. */
START_TEST(a_journal_that_cannot_be_written_refuses_with_32050)
{
    Kicd k;
    Private p;
    start_with_private_limited(&k, &p, "full", "[server]\nlog_level = warn\n", 64 * 1024);
    char *bridge = h_user(&k, "faults", "pbx", "bridge", NULL, NULL);
    char *super = h_user(&k, "faults", "sup", "supervisor", NULL, NULL);
    Client *b = cl_session(k.port, bridge), *s = cl_session(k.port, super);
    /* answers come in request order: once one waits, the bridge goes on
     * over a second connection */
    Client *b2 = cl_session(k.port, bridge), *cur = b;
    private_pg("stop-immediate", &p);
    KicTime t0 = h_today(600);
    int acked = 0, waiting = -1, refused = -1;
    char line[512];
    /* one call: offered, answered, then held and resumed on and on, so
     * the waiting event's calls row is newer than every journaled one */
    for (int i = 0; i < 2000 && refused < 0; i++) {
        const char *method = i == 0 ? "call.offered" : i == 1 ? "call.answered"
                             : i % 2 == 0                     ? "call.held"
                                                              : "call.resumed";
        snprintf(line, sizeof(line),
                 "{\"jsonrpc\":\"2.0\",\"id\":%d,\"method\":\"%s\",\"params\":"
                 "{\"event_id\":\"full-%d\",\"call_id\":\"full\",\"at\":\"%s\","
                 "\"queue\":\"kic\",\"agent\":\"a1\",\"padding\":\"%0200d\"}}",
                 i, method, i, h_at(t0, i * 0.1), 0);
        cl_send(cur, line);
        json_t *r = cl_recv(cur, waiting < 0 ? 3000 : 30000);
        /* no answer yet: a slow fsync, unless kicd said the write failed */
        for (int t = 0; !r && waiting < 0 && t < 10 &&
                        !kicd_log_contains(&k, "new records are refused (-32050)");
             t++)
            r = cl_recv(cur, 3000);
        if (!r) { /* its journal write failed: it waits */
            ck_assert_int_lt(waiting, 0);
            waiting = i;
            cur = b2;
            continue;
        }
        int code = rpc_code(r);
        json_decref(r);
        if (code == 0) {
            acked++;
        } else {
            ck_assert_int_eq(code, -32050);
            ck_assert_int_ge(waiting, 0);
            refused = i;
        }
    }
    ck_assert_msg(waiting >= 0 && refused > waiting, "waiting %d, refused %d", waiting, refused);
    ck_assert_int_gt(acked, 10);
    /* everyone else is served */
    json_t *r = cl_call(s, "stats.live", NULL);
    ck_assert_int_eq(rpc_code(r), 0);
    json_decref(r);
    ck_assert(kicd_log_contains(&k, "new records are refused (-32050)"));
    /* PostgreSQL back: the waiting event is answered, then stored with
     * the journal's */
    private_pg("start", &p);
    r = cl_recv(b, 60000);
    ck_assert_msg(r && rpc_code(r) == 0, "the waiting event was not answered");
    ck_assert_int_eq(json_integer_value(json_object_get(r, "id")), waiting);
    json_decref(r);
    for (int i = 0; i < 300 && count(&k, "SELECT count(*) FROM events") < acked + 1; i++)
        usleep(100000);
    ck_assert_int_eq(count(&k, "SELECT count(*) FROM events"), acked + 1);
    /* the call as of every stored event: the journal was replayed before
     * the waiting event's batch, whose row is the newest (replayed after
     * it, the journal put an older row back) */
    ck_assert_int_eq(count(&k, "SELECT events FROM calls WHERE call_id = 'full'"), acked + 1);
    char sql[128];
    snprintf(sql, sizeof(sql), "SELECT count(*) FROM events WHERE event_id = 'full-%d'", refused);
    ck_assert_int_eq(count(&k, sql), 0);
    cl_close(b);
    cl_close(b2);
    cl_close(s);
    free(bridge);
    free(super);
    ck_assert(kicd_stop(&k));
    private_pg("destroy", &p);
}
END_TEST

typedef struct Offsets {
    size_t at[2048];
    size_t n;
} Offsets;

static void note_offset(const JournalBatch *b, size_t offset, void *arg)
{
    Offsets *o = arg;
    (void)b;
    if (o->n < 2048)
        o->at[o->n++] = offset;
}

/* kicd started while PostgreSQL is down says so (at warn, the first
 * time), keeps its JSON-RPC port closed while it cannot load the live
 * state, and serves once PostgreSQL is up: events then go to storage. */
START_TEST(kicd_started_while_postgres_is_down_serves_once_it_is_up)
{
    Kicd k;
    Private p;
    start_with_private(&k, &p, "late");
    char *bridge = h_user(&k, "faults", "pbx", "bridge", NULL, NULL);
    ck_assert(kicd_stop(&k));
    private_pg("stop-immediate", &p);
    /* PostgreSQL comes back a few seconds after kicd started */
    pid_t starter = fork();
    ck_assert_int_ge(starter, 0);
    if (starter == 0) {
        sleep(3);
        const char *script = h_source_path("tests/integration/private-pg");
        int devnull = open("/dev/null", O_WRONLY);
        dup2(devnull, 1);
        execl(script, script, "start", p.dir, (char *)NULL);
        _exit(127);
    }
    KicTime before = h_today(0);
    kicd_start(&k); /* returns when the port takes connections */
    int status;
    ck_assert_int_eq(waitpid(starter, &status, 0), starter);
    ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    ck_assert_msg(h_today(0) - before >= 2 * KIC_USEC, "the port opened before PostgreSQL was up");
    ck_assert(kicd_log_contains(&k, "warn  [pg-writer] cannot connect to PostgreSQL, retrying"));
    Client *b = cl_session(k.port, bridge);
    cl_call_ok(b, "call.offered", "{\"event_id\":\"late-1\",\"call_id\":\"late-c1\",\"at\":\"%s\",\"queue\":\"fault\"}",
               h_at(h_today(0), -1));
    ck_assert_int_eq(h_sql_int(k.conninfo, "SELECT count(*) FROM events WHERE event_id = 'late-1'"), 1);
    cl_close(b);
    free(bridge);
    kicd_stop(&k);
    private_pg("destroy", &p);
}
END_TEST

/* Offers call <prefix><i> at t0 + i s, waiting for its answer, so that
 * with PostgreSQL down it is a journal record of its own. */
/* padding: the length of an extra field "padding" (kept with the
 * event), 0 for none */
static void journal_one_offer(Client *b, const char *prefix, int i, KicTime t0, const char *queue,
                              int padding)
{
    json_t *r = NULL;
    char *pad = malloc((size_t)padding + 1);
    memset(pad, 'p', (size_t)padding);
    pad[padding] = '\0';
    for (int tries = 0; tries < 100 && rpc_code(r) != 0; tries++) {
        json_decref(r);
        r = cl_call(b, "call.offered",
                    "{\"event_id\":\"%s%d\",\"call_id\":\"%s%d\",\"at\":\"%s\",\"queue\":\"%s\"%s%s%s}",
                    prefix, i, prefix, i, h_at(t0, i), queue, padding ? ",\"padding\":\"" : "",
                    pad, padding ? "\"" : "");
        if (rpc_code(r) != 0)
            usleep(50000); /* kicd has not noticed PostgreSQL is gone yet */
    }
    free(pad);
    ck_result(r);
    json_decref(r);
}

/* The copy of the journal kicd keeps beside it after a replay that could
 * not store everything ("kicd.journal.kept-..."): its path into out, its
 * bytes' count returned; -1 when there is none. Its mode must be 0600. */
static long kept_journal(const Kicd *k, char *out, size_t n)
{
    DIR *d = opendir(k->dir);
    ck_assert_ptr_nonnull(d);
    long size = -1;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (strncmp(e->d_name, "kicd.journal.kept-", 18) != 0)
            continue;
        ck_assert_msg(size < 0, "more than one kept journal");
        snprintf(out, n, "%s/%s", k->dir, e->d_name);
        struct stat st;
        ck_assert_int_eq(stat(out, &st), 0);
        ck_assert_int_eq(st.st_mode & 0777, 0600);
        size = (long)st.st_size;
    }
    closedir(d);
    return size;
}

static size_t journal_records_in(const char *path)
{
    FILE *f = fopen(path, "rb");
    ck_assert_ptr_nonnull(f);
    uint8_t *buf = malloc(1 << 20);
    size_t len = fread(buf, 1, 1 << 20, f);
    fclose(f);
    JournalScan sc;
    journal_scan(buf, len, NULL, NULL, &sc);
    free(buf);
    return sc.records;
}

/* An outage with a poisoned record in it: a constraint kicd does not
 * know (added before the outage) refuses the sixth of the 11 offers
 * journalled (prefix0..prefix10, each with `padding`). PostgreSQL is left
 * stopped; the bridge's session and token are kicd's and the caller's. */
static Client *journal_a_poisoned_outage(Kicd *k, Private *p, const char *prefix, int padding,
                                         char **token, KicTime *t0)
{
    *token = h_user(k, "faults", "pbx", "bridge", NULL, NULL);
    h_sql_exec(k->conninfo, "ALTER TABLE calls ADD CONSTRAINT poison CHECK (queue <> 'poison')");
    Client *b = cl_session(k->port, *token);
    private_pg("stop-immediate", p);
    *t0 = h_today(600);
    for (int i = 0; i < 11; i++)
        journal_one_offer(b, prefix, i, *t0, i == 5 ? "poison" : "fault", padding);
    return b;
}

/* An event acknowledged from the journal that PostgreSQL then refuses is
 * not stored, but it is not thrown away with the emptied journal either:
 * kicd says so and keeps the journal's bytes in a file beside it. */
START_TEST(records_refused_at_replay_are_kept_beside_the_journal)
{
    Kicd k;
    Private p;
    /* kicd's default retention: the kept copy below ages past it */
    start_with_private_limited(&k, &p, "refuse", "[storage]\nretention_days = 400\n", 0);
    char *token;
    KicTime t0;
    Client *b = journal_a_poisoned_outage(&k, &p, "r", 0, &token, &t0);
    char kept[600];
    ck_assert_int_eq(kept_journal(&k, kept, sizeof(kept)), -1);
    private_pg("start", &p);
    for (int i = 0; i < 300 && !kicd_log_contains(&k, "journal replayed"); i++)
        usleep(100000);
    ck_assert(kicd_log_contains(&k, "journal: 1 records refused by PostgreSQL and 0 damaged were not stored"));
    ck_assert(kicd_log_contains(&k, "violates check constraint \"poison\""));
    ck_assert(!kicd_log_contains(&k, "Failing row")); /* no row quoted (notes, numbers) */
    ck_assert_int_eq(count(&k, "SELECT count(*) FROM events"), 10);
    ck_assert_int_eq(count(&k, "SELECT count(*) FROM events WHERE event_id = 'r5'"), 0);
    ck_assert_int_gt(kept_journal(&k, kept, sizeof(kept)), 0);
    ck_assert_uint_eq(journal_records_in(kept), 11);
    char jpath[600];
    struct stat st;
    snprintf(jpath, sizeof(jpath), "%s/kicd.journal", k.dir);
    ck_assert_int_eq(stat(jpath, &st), 0);
    ck_assert_int_eq(st.st_size, 0); /* emptied: the rest is stored */
    /* kicd works on */
    cl_call_ok(b, "call.offered", "{\"event_id\":\"r-after\",\"call_id\":\"r-after\",\"at\":\"%s\",\"queue\":\"fault\"}",
               h_at(t0, 100));
    cl_close(b);
    free(token);
    ck_assert(kicd_stop(&k));
    /* the copy holds callers' data: retention (at start, then daily)
     * deletes one past retention_days (400) and reminds of a younger */
    time_t old = time(NULL) - 401 * 86400;
    struct utimbuf when = {old, old};
    ck_assert_int_eq(utime(kept, &when), 0);
    char young[700];
    snprintf(young, sizeof(young), "%s/kicd.journal.kept-20261124T000000Z", k.dir);
    FILE *f = fopen(young, "w");
    ck_assert_ptr_nonnull(f);
    fclose(f);
    kicd_start(&k);
    for (int i = 0; i < 100 && !kicd_log_contains(&k, "retention: deleted"); i++)
        usleep(50000);
    ck_assert(kicd_log_contains(&k, "retention: deleted"));
    ck_assert_int_ne(access(kept, F_OK), 0);
    ck_assert_int_eq(access(young, F_OK), 0);
    ck_assert(kicd_log_contains(&k, "holds acknowledged events PostgreSQL did not store"));
    ck_assert(kicd_stop(&k));
    private_pg("destroy", &p);
}
END_TEST

/* A kept copy that cannot be written (here: past kicd's file size limit,
 * as a full disk would) leaves the journal as it is, and no half copy
 * beside it; the next replay, at the next start, keeps the copy and
 * empties the journal. */
START_TEST(a_kept_copy_that_cannot_be_written_leaves_the_journal)
{
    Kicd k;
    Private p;
    start_with_private_limited(&k, &p, "keep", "[server]\nlog_level = warn\n", 0);
    char *token;
    KicTime t0;
    /* 30 kB each: the journal outgrows kicd's log, which the limit below
     * must leave room for */
    cl_close(journal_a_poisoned_outage(&k, &p, "k", 30000, &token, &t0));
    kicd_kill(&k);
    char jpath[600], kept[600];
    struct stat st;
    snprintf(jpath, sizeof(jpath), "%s/kicd.journal", k.dir);
    ck_assert_int_eq(stat(jpath, &st), 0);
    off_t journal_size = st.st_size;
    ck_assert_int_gt(journal_size, 11 * 30000);

    private_pg("start", &p);
    k.max_file_size = journal_size - 1; /* the journal fits, a copy of it not */
    kicd_start(&k);
    for (int i = 0; i < 300 && !kicd_log_contains(&k, "journal replayed"); i++)
        usleep(100000);
    ck_assert(kicd_log_contains(&k, "the journal is kept as it is"));
    ck_assert_int_eq(kept_journal(&k, kept, sizeof(kept)), -1);
    ck_assert_int_eq(stat(jpath, &st), 0);
    ck_assert_int_eq(st.st_size, journal_size);
    ck_assert_int_eq(count(&k, "SELECT count(*) FROM events"), 10);
    ck_assert(kicd_stop(&k));

    k.max_file_size = 0;
    kicd_start(&k);
    for (int i = 0; i < 300 && !kicd_log_contains(&k, "journal: 1 records refused"); i++)
        usleep(100000);
    ck_assert(kicd_log_contains(&k, "journal: 1 records refused by PostgreSQL and 0 damaged were not stored"));
    ck_assert_int_eq(kept_journal(&k, kept, sizeof(kept)), journal_size);
    ck_assert_uint_eq(journal_records_in(kept), 11);
    ck_assert_int_eq(stat(jpath, &st), 0);
    ck_assert_int_eq(st.st_size, 0);
    ck_assert_int_eq(count(&k, "SELECT count(*) FROM events"), 10);
    free(token);
    ck_assert(kicd_stop(&k));
    private_pg("destroy", &p);
}
END_TEST

/* A torn tail (never acknowledged) is dropped; a record damaged on disk
 * is counted and skipped, and the records after it are replayed. */
/* kicd on a private PostgreSQL, which then stops: n offers
 * (<prefix><i>, a second apart from t0) go to the journal, and kicd is
 * killed with the journal holding their only copy. The journal's path
 * into jpath; the bridge's token returned (caller frees). */
static char *journal_offers_then_kill(Kicd *k, Private *p, const char *name, const char *prefix,
                                      int n, KicTime t0, char *jpath, size_t jn)
{
    start_with_private(k, p, name);
    char *token = h_user(k, "faults", "pbx", "bridge", NULL, NULL);
    Client *b = cl_session(k->port, token);
    private_pg("stop-immediate", p);
    for (int i = 0; i < n; i++)
        journal_one_offer(b, prefix, i, t0, "fault", 0);
    cl_close(b);
    kicd_kill(k);
    snprintf(jpath, jn, "%s/kicd.journal", k->dir);
    return token;
}

START_TEST(a_damaged_journal_is_read_around_the_damage)
{
    Kicd k;
    Private p;
    KicTime t0 = h_today(600);
    char jpath[600];
    char *token = journal_offers_then_kill(&k, &p, "damage", "d", 30, t0, jpath, sizeof(jpath));
    FILE *f = fopen(jpath, "r+b");
    ck_assert_ptr_nonnull(f);
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    uint8_t *buf = malloc((size_t)len);
    fseek(f, 0, SEEK_SET);
    ck_assert_int_eq(fread(buf, 1, (size_t)len, f), len);
    Offsets o = {0};
    JournalScan sc;
    journal_scan(buf, (size_t)len, note_offset, &o, &sc);
    ck_assert_uint_ge(o.n, 30);
    /* flip a byte inside a record in the middle, then add half a record */
    size_t victim = o.at[o.n / 2] + JOURNAL_HEADER + 20;
    fseek(f, (long)victim, SEEK_SET);
    fputc(buf[victim] ^ 0x55, f);
    fseek(f, 0, SEEK_END);
    fwrite(buf + o.at[1], 1, 40, f);
    fclose(f);
    free(buf);
    private_pg("start", &p);
    kicd_start(&k);
    ck_assert(kicd_log_contains(&k, "damaged"));
    for (int i = 0; i < 100 && count(&k, "SELECT count(*) FROM events") < 29; i++)
        usleep(100000);
    /* the damaged record is kept, with the rest, beside the emptied journal
     * (the torn tail was never acknowledged: cut off at start-up) */
    for (int i = 0; i < 100 && !kicd_log_contains(&k, "journal replayed"); i++)
        usleep(100000);
    ck_assert(kicd_log_contains(&k, "0 records refused by PostgreSQL and 1 damaged were not stored"));
    char kept[600];
    ck_assert_int_eq(kept_journal(&k, kept, sizeof(kept)), len);
    /* the damaged record's event is the only one missing, once each */
    ck_assert_int_eq(count(&k, "SELECT count(*) FROM events"), 29);
    ck_assert_int_eq(count(&k, "SELECT count(DISTINCT event_id) FROM events"), 29);
    /* and kicd works on, with the rest */
    Client *b2 = cl_session(k.port, token);
    json_t *r = cl_call(b2, "call.offered", "{\"event_id\":\"after\",\"call_id\":\"after\",\"at\":\"%s\",\"queue\":\"fault\"}", h_at(t0, 100));
    ck_result(r);
    json_decref(r);
    cl_close(b2);
    free(token);
    ck_assert(kicd_stop(&k));
    private_pg("destroy", &p);
}
END_TEST

/* A crash during an append can leave the journal longer than what
 * reached the disk, the rest zeros: that append was never acknowledged,
 * so it is cut off as a torn tail; no error, no kept copy (it would
 * hold callers' data for nothing), every record replayed. */
START_TEST(zeros_after_the_last_record_are_no_damage)
{
    Kicd k;
    Private p;
    char jpath[600];
    char *token = journal_offers_then_kill(&k, &p, "zeros", "z", 10, h_today(600), jpath, sizeof(jpath));
    FILE *f = fopen(jpath, "ab");
    ck_assert_ptr_nonnull(f);
    static const char zeros[8192];
    ck_assert_uint_eq(fwrite(zeros, 1, sizeof(zeros), f), sizeof(zeros));
    fclose(f);
    private_pg("start", &p);
    kicd_start(&k);
    for (int i = 0; i < 100 && !kicd_log_contains(&k, "journal replayed"); i++)
        usleep(100000);
    ck_assert(kicd_log_contains(&k, "journal replayed"));
    ck_assert_int_eq(count(&k, "SELECT count(*) FROM events WHERE event_id LIKE 'z%'"), 10);
    ck_assert(!kicd_log_contains(&k, "damaged"));
    ck_assert(kicd_log_contains(&k, "cut off 8192 bytes of an append that never completed"));
    char kept[600];
    ck_assert_int_eq(kept_journal(&k, kept, sizeof(kept)), -1);
    free(token);
    ck_assert(kicd_stop(&k));
    private_pg("destroy", &p);
}
END_TEST

/* ---- a journal written before migration 0008 ---- */

/* One-element PostgreSQL binary array (array_recv's format). */
static size_t bin_array(uint8_t *out, uint32_t oid, const void *elem, uint32_t len)
{
    uint32_t head[] = {htonl(1), htonl(0), htonl(oid), htonl(1), htonl(1), htonl(len)};
    memcpy(out, head, sizeof(head));
    memcpy(out + sizeof(head), elem, len);
    return sizeof(head) + len;
}

static void be64(uint8_t *out, int64_t v)
{
    uint32_t hi = htonl((uint32_t)((uint64_t)v >> 32)), lo = htonl((uint32_t)v);
    memcpy(out, &hi, 4);
    memcpy(out + 4, &lo, 4);
}

/* A journal kicd wrote before 0008 names "kic_events" and carries the
 * payloads as jsonb: replayed by this kicd, the event is stored. */
START_TEST(a_journal_from_before_0008_is_replayed)
{
    Kicd k;
    kicd_init(&k, "legacyjournal", NULL);
    kicd_start(&k);
    const char *tenant = h_tenant("legacy");
    free(h_user(&k, tenant, "pbx", "bridge", NULL, NULL));
    char sql[300];
    snprintf(sql, sizeof(sql), "SELECT tenant_id FROM tenants WHERE name = '%s'", tenant);
    long long tid = count(&k, sql);
    ck_assert(kicd_stop(&k));

    uint8_t arrays[6][512], tid8[8], at8[8];
    be64(tid8, tid);
    KicTime at = h_today(600);
    be64(at8, at - 946684800LL * KIC_USEC); /* PostgreSQL's epoch, 2000-01-01 */
    const char *payload = "{\"event_id\":\"legacy-1\",\"call_id\":\"lc\",\"queue\":\"fault\"}";
    uint8_t jsonb[256];
    jsonb[0] = 1; /* jsonb's binary format version */
    memcpy(jsonb + 1, payload, strlen(payload));
    JournalBatch jb;
    memset(&jb, 0, sizeof(jb));
    memset(jb.id, 7, sizeof(jb.id));
    jb.nstmts = 1;
    JournalStmt *st = &jb.stmts[0];
    snprintf(st->name, sizeof(st->name), "kic_events");
    st->nparams = 6;
    size_t n[6] = {
        bin_array(arrays[0], 20, tid8, 8),
        bin_array(arrays[1], 25, "lc", 2),
        bin_array(arrays[2], 1184, at8, 8),
        bin_array(arrays[3], 25, "legacy-1", 8),
        bin_array(arrays[4], 25, "call.offered", 12),
        bin_array(arrays[5], 3802, jsonb, (uint32_t)strlen(payload) + 1),
    };
    for (int i = 0; i < 6; i++) {
        st->values[i] = (const char *)arrays[i];
        st->lengths[i] = (int)n[i];
    }
    StrBuf out = STRBUF_INIT;
    ck_assert(journal_encode(&out, &jb));
    char jpath[600];
    snprintf(jpath, sizeof(jpath), "%s/kicd.journal", k.dir);
    FILE *f = fopen(jpath, "wb");
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(fwrite(out.data, 1, out.len, f), out.len);
    fclose(f);
    strbuf_free(&out);

    kicd_start(&k);
    snprintf(sql, sizeof(sql),
             "SELECT count(*) FROM events WHERE tenant_id = %lld AND event_id = 'legacy-1'"
             " AND payload->>'queue' = 'fault'", tid);
    for (int i = 0; i < 100 && count(&k, sql) < 1; i++)
        usleep(100000);
    ck_assert_int_eq(count(&k, sql), 1);
    ck_assert(kicd_log_contains(&k, "journal replayed: 1 records stored, 0 refused"));
    ck_assert(kicd_stop(&k));
}
END_TEST

int main(void)
{
    run_id = (int)getpid();
    /* the suite needs no shared kicd: each test runs its own */
    Suite *s = suite_create("faults");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 240);
    tcase_add_test(tc, postgres_crashing_under_load_loses_nothing);
    tcase_add_test(tc, sigkill_while_the_journal_holds_the_only_copy);
    tcase_add_test(tc, logins_work_while_postgres_is_down);
    tcase_add_test(tc, a_postgres_that_hangs_is_taken_as_down);
    tcase_add_test(tc, pg_timeout_0_waits_for_a_hung_postgres);
    tcase_add_test(tc, a_journal_that_cannot_be_written_refuses_with_32050);
    tcase_add_test(tc, kicd_started_while_postgres_is_down_serves_once_it_is_up);
    tcase_add_test(tc, a_damaged_journal_is_read_around_the_damage);
    tcase_add_test(tc, zeros_after_the_last_record_are_no_damage);
    tcase_add_test(tc, records_refused_at_replay_are_kept_beside_the_journal);
    tcase_add_test(tc, a_kept_copy_that_cannot_be_written_leaves_the_journal);
    tcase_add_test(tc, a_journal_from_before_0008_is_replayed);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    for (size_t i = 0; i < KIC_ARRAY_LEN(cluster_names); i++) {
        Private p;
        cluster_dir(p.dir, sizeof(p.dir), cluster_names[i]);
        const char *argv[] = {h_source_path("tests/integration/private-pg"), "destroy", p.dir, NULL};
        char *out = NULL;
        h_run(&out, argv, NULL);
        free(out);
    }
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
