/* Durability: an acknowledged event survives kill -9 of kicd; a re-send
 * after the restart is a duplicate; the live state after a restart (clean
 * or killed) equals the live state before it. Each test runs its own kicd
 * so it can kill it. */
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"

static int next_db;

static void start_fresh(Kicd *k, char **bridge, char **agent, char **super)
{
    char name[32];
    snprintf(name, sizeof(name), "durable%d_%d", (int)getpid(), ++next_db);
    kicd_init(k, name, NULL);
    kicd_start(k);
    *bridge = h_user(k, "care", "pbx", "bridge", NULL, NULL);
    if (agent)
        *agent = h_user(k, "care", "a.jansen", "agent", NULL, "kic");
    if (super)
        *super = h_user(k, "care", "s.bakker", "supervisor", NULL, NULL);
}

/* Event i of a stream: calls of 4 events (offered, answered, ended). */
/* Calls half a second apart: 10,000 of them from three hours ago (or
 * just after midnight) stay within event_skew_s of now. */
static void stream_event(Client *c, int id, int i, KicTime t0)
{
    int call = i / 3, step = i % 3;
    static const char *const methods[] = {"call.offered", "call.answered", "call.ended"};
    char extra[128];
    if (step == 0)
        snprintf(extra, sizeof(extra), ",\"queue\":\"q%d\",\"caller\":\"06%08d\"", call % 4, call % 500);
    else if (step == 1)
        snprintf(extra, sizeof(extra), ",\"agent\":\"a%02d\"", call % 20);
    else
        extra[0] = '\0';
    cl_sendf(c, "{\"jsonrpc\":\"2.0\",\"id\":%d,\"method\":\"%s\",\"params\":{\"event_id\":\"s%d\",\"call_id\":\"k%d\",\"at\":\"%s\"%s}}",
             id, methods[step], i, call, h_at(t0, call * 0.5 + step * 2.0), extra);
}

/* Sends events 0..n-1 and reads the first `until` replies, each an ack. */
static void stream_and_read_acks(Client *c, int n, int until, KicTime t0)
{
    for (int i = 0; i < n; i++)
        stream_event(c, i, i, t0);
    for (int acked = 0; acked < until; acked++) {
        json_t *r = cl_recv(c, 30000);
        ck_assert(json_is_true(json_object_get(rpc_result(r), "accepted")));
        json_decref(r);
    }
}

START_TEST(acked_events_survive_kill_9_and_resends_are_duplicates)
{
    Kicd k;
    char *bridge;
    start_fresh(&k, &bridge, NULL, NULL);
    Client *c = cl_session(k.port, bridge);
    KicTime t0 = h_today(3 * 3600);
    int n = 6000;
    for (int i = 0; i < n; i++)
        stream_event(c, i, i, t0);
    int acked = 0;
    for (int i = 0; i < n; i++) {
        json_t *r = cl_recv(c, 30000);
        ck_assert_int_eq(json_integer_value(json_object_get(r, "id")), i);
        ck_assert(json_is_true(json_object_get(rpc_result(r), "accepted")));
        json_decref(r);
        acked++;
    }
    kicd_kill(&k); /* no goodbye, right after the last ack */
    h_db_quiesce(k.conninfo);
    cl_close(c);
    ck_assert_int_eq(h_sql_int(k.conninfo, "SELECT count(*) FROM events"), acked);
    ck_assert_int_eq(h_sql_int(k.conninfo, "SELECT count(*) FROM calls"), n / 3);

    kicd_start(&k);
    c = cl_session(k.port, bridge);
    for (int i = 0; i < n; i++)
        stream_event(c, i, i, t0);
    for (int i = 0; i < n; i++) {
        json_t *r = cl_recv(c, 30000);
        ck_assert_msg(json_is_true(json_object_get(rpc_result(r), "duplicate")), "event %d not a duplicate", i);
        json_decref(r);
    }
    ck_assert_int_eq(h_sql_int(k.conninfo, "SELECT count(*) FROM events"), n);
    cl_close(c);
    ck_assert(kicd_stop(&k));
    free(bridge);
}
END_TEST

/* Another session takes the database's writer lock from a running kicd
 * (its writer's session ended, the lock taken before it reconnects, as a
 * second kicd started against the same database would): kicd refuses new
 * events (-32050, recording nothing: it might later write them over the
 * other's rows), stops with 1 once the lock stays taken, and after the
 * restart every acknowledged event is stored once and the refused ones
 * are new. */
START_TEST(a_kicd_whose_database_is_taken_stops_and_loses_nothing)
{
    Kicd k;
    char *bridge;
    start_fresh(&k, &bridge, NULL, NULL);
    Client *c = cl_session(k.port, bridge);
    KicTime t0 = h_today(3 * 3600);
    stream_and_read_acks(c, 300, 300, t0);
    PGconn *other = PQconnectdb(k.conninfo);
    ck_assert_int_eq(PQstatus(other), CONNECTION_OK);
    PGresult *r = PQexec(other, "SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory'"
                                " AND classid = 1802068836 AND objid = 0 AND granted AND database ="
                                " (SELECT oid FROM pg_database WHERE datname = current_database())");
    ck_assert_int_eq(PQntuples(r), 1);
    PQclear(r);
    r = PQexec(other, "SELECT pg_advisory_lock(1802068836, 0)");
    ck_assert_int_eq(PQresultStatus(r), PGRES_TUPLES_OK);
    PQclear(r);
    ck_assert(kicd_log_shows(&k, "another kicd writes to this database (session "));
    for (int i = 300; i < 600; i++)
        stream_event(c, i, i, t0);
    for (int i = 300; i < 600; i++) {
        json_t *a = cl_recv(c, 30000);
        ck_assert_msg(a && rpc_code(a) == -32050, "event %d not refused", i);
        json_decref(a);
    }
    ck_assert_int_eq(kicd_wait_exit(&k, 90000), 1);
    ck_assert(kicd_log_contains(&k, "stopping after"));
    cl_close(c);
    ck_assert_int_eq(h_sql_int(k.conninfo, "SELECT count(*) FROM events"), 300);
    PQfinish(other);
    kicd_start(&k); /* the journal, if any, is replayed before it serves */
    ck_assert_int_eq(h_sql_int(k.conninfo, "SELECT count(*) FROM events"), 300);
    c = cl_session(k.port, bridge);
    for (int i = 0; i < 600; i++)
        stream_event(c, i, i, t0);
    for (int i = 0; i < 600; i++) {
        json_t *a = cl_recv(c, 30000);
        json_t *dup = json_object_get(rpc_result(a), "duplicate");
        ck_assert_msg(i < 300 ? json_is_true(dup) : json_is_false(dup), "event %d", i);
        json_decref(a);
    }
    ck_assert_int_eq(h_sql_int(k.conninfo, "SELECT count(*) FROM events"), 600);
    cl_close(c);
    ck_assert(kicd_stop(&k));
    free(bridge);
}
END_TEST

/* ---- a proxy in front of PostgreSQL's socket that can cut kicd off ---- */

/* On SIGUSR1 the proxy stops passing anything on the connections it has,
 * keeping both ends open: a network that broke between kicd and
 * PostgreSQL, where the server's session lives on, idle, holding its
 * locks, and never hears that its client is gone. New connections pass. */
static volatile sig_atomic_t proxy_cut;

static void on_proxy_cut(int sig)
{
    (void)sig;
    proxy_cut = 1;
}

static int unix_socket_to(const char *path, bool listening)
{
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    struct sockaddr_un a = {.sun_family = AF_UNIX};
    snprintf(a.sun_path, sizeof(a.sun_path), "%s", path);
    if (fd < 0)
        return -1;
    if (listening ? bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0 && listen(fd, 16) == 0
                  : connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0)
        return fd;
    close(fd);
    return -1;
}

/* The child's loop: pairs[i] <-> pairs[i ^ 1]; cut pairs are left alone. */
static void proxy_run(int listener, const char *server_path)
{
    enum { MAX_FDS = 64 };
    int fds[MAX_FDS];
    bool cut[MAX_FDS] = {false};
    int n = 0;
    signal(SIGUSR1, on_proxy_cut);
    for (;;) {
        if (proxy_cut) {
            for (int i = 0; i < n; i++)
                cut[i] = true;
            proxy_cut = 0;
        }
        struct pollfd p[MAX_FDS + 1];
        p[0] = (struct pollfd){.fd = listener, .events = POLLIN};
        for (int i = 0; i < n; i++)
            p[i + 1] = (struct pollfd){.fd = cut[i] || fds[i] < 0 ? -1 : fds[i], .events = POLLIN};
        if (poll(p, (nfds_t)n + 1, 100) < 0)
            continue;
        if ((p[0].revents & POLLIN) && n + 2 <= MAX_FDS) {
            int c = accept(listener, NULL, NULL), up = unix_socket_to(server_path, false);
            if (c >= 0 && up >= 0) {
                fds[n] = c, cut[n++] = false;
                fds[n] = up, cut[n++] = false;
            } else {
                if (c >= 0)
                    close(c);
                if (up >= 0)
                    close(up);
            }
        }
        for (int i = 0; i < n; i++) {
            if (!(p[i + 1].revents & (POLLIN | POLLHUP | POLLERR)))
                continue;
            char buf[65536];
            ssize_t got = read(fds[i], buf, sizeof(buf));
            int peer = fds[i ^ 1];
            if (got <= 0 || peer < 0 || write(peer, buf, (size_t)got) != got) {
                close(fds[i]);
                if (peer >= 0)
                    close(peer);
                fds[i] = fds[i ^ 1] = -1;
            }
        }
    }
}

/* Starts the proxy listening as PostgreSQL would in dir (its socket file
 * named for the test cluster's port); fills the conninfo kicd should use. */
static pid_t proxy_start(const char *dir, const char *db, char *conninfo, size_t n)
{
    PQconninfoOption *opts = PQconninfoParse(h_pg_base(), NULL);
    ck_assert_ptr_nonnull(opts);
    const char *host = NULL, *port = "5432";
    for (PQconninfoOption *o = opts; o->keyword; o++) {
        if (!strcmp(o->keyword, "host") && o->val)
            host = o->val;
        if (!strcmp(o->keyword, "port") && o->val)
            port = o->val;
    }
    ck_assert_msg(host && host[0] == '/', "the test cluster is not on a unix socket");
    char server_path[512], proxy_path[512];
    snprintf(server_path, sizeof(server_path), "%s/.s.PGSQL.%s", host, port);
    int len = snprintf(proxy_path, sizeof(proxy_path), "%s/.s.PGSQL.%s", dir, port);
    ck_assert_msg(len < (int)sizeof(((struct sockaddr_un *)0)->sun_path), "%s: too long for a socket",
                  proxy_path);
    int listener = unix_socket_to(proxy_path, true);
    ck_assert_int_ge(listener, 0);
    snprintf(conninfo, n, "%s host=%s dbname=%s", h_pg_base(), dir, db);
    PQconninfoFree(opts);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        proxy_run(listener, server_path);
        _exit(0);
    }
    close(listener);
    return pid;
}

/* A network that breaks between kicd and PostgreSQL (the proxy cuts every
 * connection kicd has, both ends left open): kicd drops its writer's
 * connection as hung after pg_timeout_s and connects again, and its old
 * session, which never learns it lost its client, still holds the
 * database's lock. kicd ends that session of its own and takes the lock
 * back, and serves on: every event acknowledged meanwhile is stored.
 * Taken as another kicd, it refused events and stopped. */
START_TEST(a_kicd_cut_off_from_its_old_session_takes_the_database_back)
{
    Kicd k;
    char name[32];
    snprintf(name, sizeof(name), "durable%d_%d", (int)getpid(), ++next_db);
    kicd_init(&k, name, NULL);
    char via_proxy[512];
    pid_t proxy = proxy_start(k.dir, k.db, via_proxy, sizeof(via_proxy));
    size_t used = strlen(k.extra_conf);
    snprintf(k.extra_conf + used, sizeof(k.extra_conf) - used,
             "\n[server]\npg = %s\n[storage]\npg_timeout_s = 2\n", via_proxy);
    kicd_start(&k);
    char *bridge = h_user(&k, "care", "pbx", "bridge", NULL, NULL);
    Client *c = cl_session(k.port, bridge);
    KicTime t0 = h_today(3 * 3600);
    stream_and_read_acks(c, 300, 300, t0);
    kill(proxy, SIGUSR1);
    usleep(200000);
    for (int i = 300; i < 600; i++)
        stream_event(c, i, i, t0);
    for (int i = 300; i < 600; i++) {
        json_t *a = cl_recv(c, 30000);
        ck_assert_msg(json_is_true(json_object_get(rpc_result(a), "accepted")), "event %d", i);
        json_decref(a);
    }
    ck_assert_int_eq(h_sql_int_await(k.conninfo, "SELECT count(*) FROM events", 600), 600);
    ck_assert(kicd_log_contains(&k, "no answer from PostgreSQL for 2 s"));
    ck_assert(!kicd_log_contains(&k, "another kicd writes to this database"));
    cl_call_ok(c, "call.offered", "{\"event_id\":\"late\",\"call_id\":\"late\",\"at\":\"%s\",\"queue\":\"q\"}",
               h_at(t0, 400));
    cl_close(c);
    ck_assert(kicd_stop(&k));
    kill(proxy, SIGKILL);
    waitpid(proxy, NULL, 0);
    free(bridge);
}
END_TEST

START_TEST(kill_9_in_the_middle_loses_no_acked_event)
{
    Kicd k;
    char *bridge;
    start_fresh(&k, &bridge, NULL, NULL);
    Client *c = cl_session(k.port, bridge);
    KicTime t0 = h_today(3 * 3600);
    int n = 30000, acked = 8000;
    stream_and_read_acks(c, n, acked, t0);
    kicd_kill(&k);
    /* Whatever else arrived before the kill was acked too: read it. */
    json_t *r;
    while ((r = cl_recv(c, 200))) {
        acked++;
        json_decref(r);
    }
    cl_close(c);
    h_db_quiesce(k.conninfo);
    char sql[256];
    /* events s0 .. s(acked-1) were acknowledged (in order): all stored */
    snprintf(sql, sizeof(sql),
             "SELECT count(*) FROM events WHERE substr(event_id, 2)::int < %d", acked);
    ck_assert_int_eq(h_sql_int(k.conninfo, sql), acked);
    ck_assert_int_eq(h_sql_int(k.conninfo, "SELECT count(*) FROM event_keys"),
                     h_sql_int(k.conninfo, "SELECT count(*) FROM events"));
    ck_assert(kicd_log_clean(&k));
    free(bridge);
}
END_TEST

/* A stop (SIGTERM) while batches are on their way to PostgreSQL and more
 * events wait unread: kicd exits 0 with a clean log (no sanitizer report
 * in that build), every event it acknowledged is stored, and a re-send of
 * the whole stream after the restart stores the rest exactly once. */
START_TEST(sigterm_in_the_middle_loses_no_acked_event)
{
    Kicd k;
    char *bridge;
    start_fresh(&k, &bridge, NULL, NULL);
    Client *c = cl_session(k.port, bridge);
    KicTime t0 = h_today(3 * 3600);
    int n = 30000, acked = 8000;
    stream_and_read_acks(c, n, acked, t0);
    ck_assert(kicd_stop(&k));
    /* What kicd answered on its way out is in the socket: acks, or errors. */
    json_t *r;
    while ((r = cl_recv(c, 200))) {
        json_t *res = json_object_get(r, "result");
        ck_assert_msg(res || json_object_get(r, "error"), "neither result nor error");
        if (res && json_is_true(json_object_get(res, "accepted"))) {
            ck_assert_int_eq(json_integer_value(json_object_get(r, "id")), acked);
            acked++;
        }
        json_decref(r);
    }
    cl_close(c);
    char sql[256];
    snprintf(sql, sizeof(sql),
             "SELECT count(*) FROM events WHERE substr(event_id, 2)::int < %d", acked);
    ck_assert_int_eq(h_sql_int(k.conninfo, sql), acked);

    kicd_start(&k);
    c = cl_session(k.port, bridge);
    for (int i = 0; i < n; i++)
        stream_event(c, i, i, t0);
    int duplicates = 0;
    for (int i = 0; i < n; i++) {
        json_t *reply = cl_recv(c, 30000);
        json_t *res = rpc_result(reply);
        if (!json_is_true(json_object_get(res, "accepted"))) {
            char *text = reply ? json_dumps(reply, 0) : NULL;
            ck_abort_msg("event %d after the restart: %s", i, text ? text : "no reply");
        }
        bool dup = json_is_true(json_object_get(res, "duplicate"));
        if (i < acked)
            ck_assert_msg(dup, "acked event %d not stored before the stop", i);
        duplicates += dup;
        json_decref(reply);
    }
    ck_assert_int_ge(duplicates, acked);
    ck_assert_int_eq(h_sql_int(k.conninfo, "SELECT count(*) FROM events"), n);
    ck_assert_int_eq(h_sql_int(k.conninfo, "SELECT count(*) FROM calls"), n / 3);
    cl_close(c);
    ck_assert(kicd_stop(&k));
    free(bridge);
}
END_TEST

/* A stop while a batch hangs in PostgreSQL (the calls table is locked):
 * the drain gives up after its limit and kicd closes the writer's
 * connection with the batch still on it. kicd must exit 0 without a
 * sanitizer report, must not acknowledge the events, and a re-send after
 * the restart is accepted whether or not PostgreSQL finished that batch
 * on its own once the lock was gone. */
START_TEST(sigterm_with_a_batch_hanging_in_postgres_exits_cleanly)
{
    Kicd k;
    char *bridge;
    start_fresh(&k, &bridge, NULL, NULL);
    PGconn *locker = PQconnectdb(k.conninfo);
    PGresult *pr = PQexec(locker, "BEGIN; LOCK TABLE calls IN EXCLUSIVE MODE");
    ck_assert_int_eq(PQresultStatus(pr), PGRES_COMMAND_OK);
    PQclear(pr);
    Client *c = cl_session(k.port, bridge);
    KicTime t0 = h_today(3 * 3600);
    for (int i = 0; i < 3; i++)
        stream_event(c, i, i, t0);
    h_db_await_lock_wait(k.conninfo);

    ck_assert(kicd_stop(&k)); /* exit 0, clean log: waits out the drain limit */
    json_t *r;
    while ((r = cl_recv(c, 200))) {
        ck_assert_msg(!json_is_true(json_object_get(json_object_get(r, "result"), "accepted")),
                      "an event acknowledged that was never committed");
        json_decref(r);
    }
    cl_close(c);
    pr = PQexec(locker, "ROLLBACK");
    PQclear(pr);
    PQfinish(locker);
    h_db_quiesce(k.conninfo);

    kicd_start(&k);
    c = cl_session(k.port, bridge);
    for (int i = 0; i < 3; i++)
        stream_event(c, i, i, t0);
    for (int i = 0; i < 3; i++) {
        r = cl_recv(c, 30000);
        ck_assert(json_is_true(json_object_get(rpc_result(r), "accepted")));
        json_decref(r);
    }
    ck_assert_int_eq(h_sql_int(k.conninfo, "SELECT count(*) FROM events"), 3);
    ck_assert_int_eq(h_sql_int(k.conninfo, "SELECT count(*) FROM calls WHERE ended"), 1);
    cl_close(c);
    ck_assert(kicd_stop(&k));
    free(bridge);
}
END_TEST

/* stats.live and agents.list without what depends on the clock. */
static char *live_view(int port, const char *super)
{
    Client *c = cl_session(port, super);
    json_t *r = cl_call(c, "stats.live", NULL);
    json_t *res = json_incref(ck_result(r));
    json_decref(r);
    json_object_del(res, "at");
    json_object_del(json_object_get(res, "total"), "longest_wait_s");
    size_t i;
    json_t *q;
    json_array_foreach(json_object_get(res, "queues"), i, q)
    {
        json_object_del(q, "longest_wait_s");
    }
    r = cl_call(c, "agents.list", NULL);
    json_object_set(res, "agents_list", json_object_get(ck_result(r), "agents"));
    json_decref(r);
    cl_close(c);
    char *text = json_dumps(res, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(res);
    return text;
}

static void a_busy_morning(Kicd *k, const char *bridge, const char *agent)
{
    Client *c = cl_session(k->port, bridge);
    Client *desk = cl_session(k->port, agent);
    json_t *r = cl_call(desk, "agent.state.set", "{\"state\":\"available\"}");
    ck_result(r);
    json_decref(r);
    KicTime t0 = h_today(2 * 3600);
    /* 300 finished calls, some abandoned, some transferred, repeat callers */
    for (int i = 0; i < 300; i++) {
        char p[512];
        double base = i * 20.0;
        snprintf(p, sizeof(p), "{\"event_id\":\"m%d-o\",\"call_id\":\"m%d\",\"at\":\"%s\",\"queue\":\"q%d\",\"caller\":\"06%08d\"}", i, i, h_at(t0, base), i % 3, i % 40);
        json_decref(cl_call(c, "call.offered", "%s", p));
        if (i % 7 == 0) {
            snprintf(p, sizeof(p), "{\"event_id\":\"m%d-x\",\"call_id\":\"m%d\",\"at\":\"%s\"}", i, i, h_at(t0, base + (i % 11)));
            json_decref(cl_call(c, "call.abandoned", "%s", p));
            continue;
        }
        snprintf(p, sizeof(p), "{\"event_id\":\"m%d-a\",\"call_id\":\"m%d\",\"at\":\"%s\",\"agent\":\"a%02d\"}", i, i, h_at(t0, base + (i % 30)), i % 6);
        json_decref(cl_call(c, "call.answered", "%s", p));
        if (i % 5 == 0) {
            snprintf(p, sizeof(p), "{\"event_id\":\"m%d-t\",\"call_id\":\"m%d\",\"at\":\"%s\",\"agent\":\"a%02d\",\"target\":\"team-%d\",\"target_kind\":\"care_team\"}", i, i, h_at(t0, base + 60), i % 6, i % 2);
            json_decref(cl_call(c, "call.transferred", "%s", p));
        }
        snprintf(p, sizeof(p), "{\"event_id\":\"m%d-e\",\"call_id\":\"m%d\",\"at\":\"%s\"}", i, i, h_at(t0, base + 90));
        json_decref(cl_call(c, "call.ended", "%s", p));
    }
    /* now: two waiting, one in progress with our agent */
    KicTime now = h_today(0);
    char p[512];
    snprintf(p, sizeof(p), "{\"event_id\":\"w1\",\"call_id\":\"w1\",\"at\":\"%s\",\"queue\":\"q0\"}", h_at(now, -40));
    json_decref(cl_call(c, "call.offered", "%s", p));
    snprintf(p, sizeof(p), "{\"event_id\":\"w2\",\"call_id\":\"w2\",\"at\":\"%s\",\"queue\":\"q1\"}", h_at(now, -5));
    json_decref(cl_call(c, "call.offered", "%s", p));
    snprintf(p, sizeof(p), "{\"event_id\":\"p1\",\"call_id\":\"p1\",\"at\":\"%s\",\"queue\":\"q2\"}", h_at(now, -30));
    json_decref(cl_call(c, "call.offered", "%s", p));
    snprintf(p, sizeof(p), "{\"event_id\":\"p2\",\"call_id\":\"p1\",\"at\":\"%s\",\"agent\":\"a.jansen\"}", h_at(now, -20));
    json_decref(cl_call(c, "call.answered", "%s", p));
    /* a contact offered just before midnight, answered after it: its
     * queue is listed with the agent on it */
    KicTime midnight = h_today(1000000); /* today's first second */
    snprintf(p, sizeof(p), "{\"event_id\":\"n1\",\"call_id\":\"n1\",\"at\":\"%s\",\"queue\":\"qmid\"}", h_at(midnight, -31));
    json_decref(cl_call(c, "call.offered", "%s", p));
    snprintf(p, sizeof(p), "{\"event_id\":\"n2\",\"call_id\":\"n1\",\"at\":\"%s\",\"agent\":\"a04\"}", h_at(midnight, 0));
    json_decref(cl_call(c, "call.answered", "%s", p));
    /* late events of calls older than cache_days: stored, but no part of
     * live state (a restart does not load them) */
    snprintf(p, sizeof(p), "{\"event_id\":\"o1\",\"call_id\":\"o1\",\"at\":\"%s\",\"queue\":\"qold\"}", h_at(now, -10 * 86400.0));
    json_decref(cl_call(c, "call.offered", "%s", p));
    snprintf(p, sizeof(p), "{\"event_id\":\"o2\",\"call_id\":\"o2\",\"at\":\"%s\",\"queue\":\"q0\"}", h_at(now, -10 * 86400.0));
    json_decref(cl_call(c, "call.offered", "%s", p));
    snprintf(p, sizeof(p), "{\"event_id\":\"o3\",\"call_id\":\"o2\",\"at\":\"%s\",\"agent\":\"a05\"}", h_at(now, -10 * 86400.0 + 30));
    json_decref(cl_call(c, "call.answered", "%s", p));
    r = cl_call(desk, "agent.state.set", "{\"state\":\"break\",\"reason\":\"koffie\"}");
    ck_result(r);
    json_decref(r);
    cl_close(c);
    cl_close(desk);
}

static void restart_keeps_live_state(bool kill9)
{
    Kicd k;
    char *bridge, *agent, *super;
    start_fresh(&k, &bridge, &agent, &super);
    a_busy_morning(&k, bridge, agent);
    char *before = live_view(k.port, super);
    ck_assert(strstr(before, "\"waiting\":2"));
    ck_assert(strstr(before, "\"on_call\":1"));
    ck_assert(strstr(before, "\"queue\":\"qmid\""));
    ck_assert(!strstr(before, "\"queue\":\"qold\""));
    if (kill9)
        kicd_kill(&k);
    else
        ck_assert(kicd_stop(&k));
    kicd_start(&k);
    char *after = live_view(k.port, super);
    ck_assert_str_eq(before, after);
    free(before);
    free(after);
    ck_assert(kicd_stop(&k));
    free(bridge);
    free(agent);
    free(super);
}

START_TEST(restart_gives_the_same_live_numbers)
{
    restart_keeps_live_state(false);
}
END_TEST

START_TEST(kill_9_and_restart_give_the_same_live_numbers)
{
    restart_keeps_live_state(true);
}
END_TEST

/* a.jansen's line in agents.list, as "state since" */
static char *listed(int port, const char *super)
{
    Client *c = cl_session(port, super);
    json_t *r = cl_call(c, "agents.list", NULL);
    char *line = NULL;
    size_t i;
    json_t *a;
    json_array_foreach(json_object_get(ck_result(r), "agents"), i, a)
    {
        if (strcmp(json_string_value(json_object_get(a, "agent")), "a.jansen") == 0 &&
            asprintf(&line, "%s %s", json_string_value(json_object_get(a, "state")),
                     json_string_value(json_object_get(a, "since"))) < 0)
            ck_abort();
    }
    json_decref(r);
    cl_close(c);
    ck_assert_ptr_nonnull(line);
    return line;
}

/* PROTOCOL.md (occupancy): an agent offline when their part ends (here:
 * never having chosen a state) is in that ACW only once they choose
 * another state, as agents.list shows them; stored so, and a restart
 * dates it the same. */
START_TEST(an_agent_offline_at_their_parts_end_is_in_acw_from_their_login)
{
    Kicd k;
    char *bridge, *agent, *super;
    start_fresh(&k, &bridge, &agent, &super);
    Client *c = cl_session(k.port, bridge);
    KicTime now = h_today(0);
    char p[512];
    snprintf(p, sizeof(p), "{\"event_id\":\"o\",\"call_id\":\"c\",\"at\":\"%s\",\"queue\":\"q\"}", h_at(now, -60));
    json_decref(ck_result(cl_call(c, "call.offered", "%s", p)));
    snprintf(p, sizeof(p), "{\"event_id\":\"a\",\"call_id\":\"c\",\"at\":\"%s\",\"agent\":\"a.jansen\"}", h_at(now, -50));
    json_decref(ck_result(cl_call(c, "call.answered", "%s", p)));
    char ended[40];
    snprintf(ended, sizeof(ended), "%s", h_at(now, -30));
    snprintf(p, sizeof(p), "{\"event_id\":\"e\",\"call_id\":\"c\",\"at\":\"%s\"}", ended);
    json_decref(ck_result(cl_call(c, "call.ended", "%s", p)));
    cl_close(c);
    char *line = listed(k.port, super);
    ck_assert_msg(strncmp(line, "offline ", 8) == 0, "%s", line);
    free(line);

    Client *desk = cl_session(k.port, agent);
    json_t *r = cl_call(desk, "agent.state.set", "{\"state\":\"available\"}");
    const char *since = json_string_value(json_object_get(ck_result(r), "since"));
    KicTime login;
    ck_assert(since && time_parse_rfc3339(since, &login));
    ck_assert_msg(login > now - 1000000, "in ACW since %s, before they logged in (the part ended %s)",
                  since, ended);
    char *expect;
    if (asprintf(&expect, "acw %s", since) < 0)
        ck_abort();
    json_decref(r);
    cl_close(desk);
    line = listed(k.port, super);
    ck_assert_str_eq(line, expect);
    free(line);
    char sql[512];
    snprintf(sql, sizeof(sql),
             "SELECT count(*) FROM agent_states WHERE agent = 'a.jansen' AND state = 'acw'"
             " AND since >= '%s'::timestamptz AND since < '%s'::timestamptz + interval '1 ms'",
             expect + 4, expect + 4); /* stored to the microsecond, listed to the ms */
    ck_assert_int_eq(h_sql_int(k.conninfo, sql), 1);
    ck_assert_int_eq(h_sql_int(k.conninfo, "SELECT count(*) FROM agent_states"
                                           " WHERE agent = 'a.jansen' AND state = 'acw'"), 1);

    kicd_kill(&k);
    kicd_start(&k);
    line = listed(k.port, super);
    ck_assert_str_eq(line, expect);
    free(line);
    free(expect);
    ck_assert(kicd_stop(&k));
    free(bridge);
    free(agent);
    free(super);
}
END_TEST

/* Found by a probe: kicd holds the open callbacks and those closed
 * today; one closed on an earlier day was "unknown" (-32004) to a claim
 * or a completion, where one closed today is "already closed" (-32009). */
START_TEST(a_callback_closed_on_an_earlier_day_is_already_closed)
{
    Kicd k;
    char *bridge, *agent;
    start_fresh(&k, &bridge, &agent, NULL);
    Client *b = cl_session(k.port, bridge), *a = cl_session(k.port, agent);
    KicTime now = h_today(0);
    cl_call_ok(b, "callback.requested", "{\"event_id\":\"r1\",\"callback_id\":\"cb-old\",\"caller\":\"0612340001\",\"queue\":\"kic\",\"at\":\"%s\"}", h_at(now, -60));
    json_decref(ck_ok(cl_call(a, "callback.complete", "{\"callback_id\":\"cb-old\",\"outcome\":\"reached\"}")));
    ck_assert_rpc_error(cl_call(a, "callback.claim", "{\"callback_id\":\"cb-old\"}"), -32009);
    cl_close(b);
    cl_close(a);
    kicd_stop(&k);
    ck_assert_int_eq(h_sql_int(k.conninfo, "WITH m AS (UPDATE callbacks SET closed_at = closed_at - interval '2 days'"
                                           " WHERE callback_id = 'cb-old' RETURNING 1) SELECT count(*) FROM m"), 1);
    kicd_start(&k);
    a = cl_session(k.port, agent);
    ck_assert_rpc_error(cl_call(a, "callback.claim", "{\"callback_id\":\"cb-old\"}"), -32009);
    ck_assert_rpc_error(cl_call(a, "callback.complete", "{\"callback_id\":\"cb-old\",\"outcome\":\"no_answer\"}"), -32009);
    ck_assert_rpc_error(cl_call(a, "callback.claim", "{\"callback_id\":\"cb-never\"}"), -32004);
    /* nothing was recorded: still done, one attempt */
    ck_assert_int_eq(h_sql_int(k.conninfo, "SELECT count(*) FROM callbacks WHERE callback_id = 'cb-old'"
                                           " AND status = 'done' AND attempts = 1"), 1);
    cl_close(a);
    ck_assert(kicd_stop(&k));
    free(bridge);
    free(agent);
}
END_TEST

/* Found by a probe: a repeat flag kicd had stored stuck after a restart.
 * x is followed by y (the same caller); after the restart y's earlier
 * offer, from another number, arrives late: x is no longer followed, as
 * without the restart, in the calls row and in the sums. */
START_TEST(a_late_offer_after_a_restart_takes_a_stored_repeat_away)
{
    Kicd k;
    char *bridge;
    start_fresh(&k, &bridge, NULL, NULL);
    Client *b = cl_session(k.port, bridge);
    KicTime t[2] = {h_today(3 * 3600), h_today(2 * 3600)};
    const char *ids[2] = {"x", "y"};
    for (int i = 0; i < 2; i++) {
        cl_call_ok(b, "call.offered", "{\"event_id\":\"%s-o\",\"call_id\":\"%s\",\"at\":\"%s\",\"queue\":\"q\",\"caller\":\"0612345678\"}",
                   ids[i], ids[i], h_at(t[i], 0));
        cl_call_ok(b, "call.answered", "{\"event_id\":\"%s-a\",\"call_id\":\"%s\",\"at\":\"%s\",\"agent\":\"a01\"}",
                   ids[i], ids[i], h_at(t[i], 10));
        cl_call_ok(b, "call.ended", "{\"event_id\":\"%s-e\",\"call_id\":\"%s\",\"at\":\"%s\"}", ids[i],
                   ids[i], h_at(t[i], 70));
    }
    const char *flags = "SELECT string_agg(call_id || '=' || followed_by_repeat, ',' ORDER BY call_id) FROM calls";
    const char *sums = "SELECT coalesce(sum(repeated), 0) FROM call_sums_15m";
    char *was = h_sql_value(k.conninfo, flags);
    ck_assert_str_eq(was, "x=true,y=false");
    ck_assert_int_eq(h_sql_int(k.conninfo, sums), 1);
    cl_close(b);
    ck_assert(kicd_stop(&k));
    kicd_start(&k);
    b = cl_session(k.port, bridge);
    cl_call_ok(b, "call.offered", "{\"event_id\":\"y-o0\",\"call_id\":\"y\",\"at\":\"%s\",\"queue\":\"q\",\"caller\":\"0687654321\"}",
               h_at(t[1], -60));
    char *is = h_sql_value(k.conninfo, flags);
    ck_assert_str_eq(is, "x=false,y=false");
    ck_assert_int_eq(h_sql_int(k.conninfo, sums), 0);
    cl_close(b);
    ck_assert(kicd_stop(&k));
    free(was);
    free(is);
    free(bridge);
}
END_TEST

START_TEST(a_failed_write_poisons_nothing_and_memory_follows_storage)
{
    Kicd k;
    char *bridge, *super;
    start_fresh(&k, &bridge, NULL, &super);
    Client *c = cl_session(k.port, bridge);
    Client *s = cl_session(k.port, super);
    KicTime t0 = h_today(60);
    char p[256];
    json_t *r;
    snprintf(p, sizeof(p), "{\"event_id\":\"ok1\",\"call_id\":\"ok1\",\"at\":\"%s\",\"queue\":\"q\"}", h_at(t0, 0));
    r = cl_call(c, "call.offered", "%s", p);
    ck_result(r);
    json_decref(r);
    /* storage refuses the next write (a constraint the server does not know) */
    h_sql_exec(k.conninfo, "ALTER TABLE calls ADD CONSTRAINT poison CHECK (queue <> 'poison')");
    snprintf(p, sizeof(p), "{\"event_id\":\"bad\",\"call_id\":\"bad\",\"at\":\"%s\",\"queue\":\"poison\"}", h_at(t0, 1));
    ck_assert_rpc_error(cl_call(c, "call.offered", "%s", p), -32603);
    /* the log says why, but quotes no row: a row may hold a note or a
     * callback's number */
    ck_assert(kicd_log_contains(&k, "violates check constraint \"poison\" (SQLSTATE 23514)"));
    ck_assert(!kicd_log_contains(&k, "Failing row"));
    /* the batch behind it is not affected */
    snprintf(p, sizeof(p), "{\"event_id\":\"ok2\",\"call_id\":\"ok2\",\"at\":\"%s\",\"queue\":\"q\"}", h_at(t0, 2));
    r = cl_call(c, "call.offered", "%s", p);
    ck_assert(json_is_false(json_object_get(ck_result(r), "duplicate")));
    json_decref(r);
    /* memory was reloaded from storage: the refused call is not waiting */
    r = cl_call(s, "stats.live", NULL);
    ck_assert_int_eq(json_integer_value(json_object_get(json_object_get(ck_result(r), "total"), "waiting")), 2);
    json_decref(r);
    /* and a re-send after the cause is gone is stored, not a "duplicate" */
    h_sql_exec(k.conninfo, "ALTER TABLE calls DROP CONSTRAINT poison");
    snprintf(p, sizeof(p), "{\"event_id\":\"bad\",\"call_id\":\"bad\",\"at\":\"%s\",\"queue\":\"poison\"}", h_at(t0, 1));
    r = cl_call(c, "call.offered", "%s", p);
    ck_assert(json_is_false(json_object_get(ck_result(r), "duplicate")));
    json_decref(r);
    ck_assert_int_eq(h_sql_int(k.conninfo, "SELECT count(*) FROM events"), 3);
    ck_assert_int_eq(h_sql_int(k.conninfo, "SELECT count(*) FROM calls"), 3);
    cl_close(c);
    cl_close(s);
    ck_assert(kicd_stop(&k));
    free(bridge);
    free(super);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("durability");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, acked_events_survive_kill_9_and_resends_are_duplicates);
    tcase_add_test(tc, kill_9_in_the_middle_loses_no_acked_event);
    tcase_add_test(tc, a_kicd_whose_database_is_taken_stops_and_loses_nothing);
    tcase_add_test(tc, a_kicd_cut_off_from_its_old_session_takes_the_database_back);
    tcase_add_test(tc, sigterm_in_the_middle_loses_no_acked_event);
    tcase_add_test(tc, sigterm_with_a_batch_hanging_in_postgres_exits_cleanly);
    tcase_add_test(tc, restart_gives_the_same_live_numbers);
    tcase_add_test(tc, kill_9_and_restart_give_the_same_live_numbers);
    tcase_add_test(tc, an_agent_offline_at_their_parts_end_is_in_acw_from_their_login);
    tcase_add_test(tc, a_failed_write_poisons_nothing_and_memory_follows_storage);
    tcase_add_test(tc, a_callback_closed_on_an_earlier_day_is_already_closed);
    tcase_add_test(tc, a_late_offer_after_a_restart_takes_a_stored_repeat_away);
    suite_add_tcase(s, tc);
    return h_run_suite(s, NULL);
}
