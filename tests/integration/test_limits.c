/* Limits under abuse (issue 6 "Limits"), each while a normal client keeps
 * being served: the connection cap (one more gets an explicit error;
 * connections not logged in make room for new ones), a flood without a newline, slowloris (many connections trickling a
 * login they never finish), a client that writes and never reads
 * (backpressure: kicd's memory stays bounded), and the idle timeout with
 * server.ping as heartbeat. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"

#define MAX_CONNECTIONS 40

static Kicd kicd;
static char *token;

/* The normal client: asks and is answered. */
static void served(void)
{
    Client *c = cl_session(kicd.port, token);
    for (int i = 0; i < 5; i++) {
        json_t *r = cl_call(c, "server.ping", NULL);
        ck_result(r);
        json_decref(r);
    }
    cl_close(c);
}

static long rss_kib(pid_t pid)
{
    char path[64], line[256];
    snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
    FILE *f = fopen(path, "r");
    long kib = -1;
    while (f && fgets(line, sizeof(line), f))
        if (sscanf(line, "VmRSS: %ld kB", &kib) == 1)
            break;
    if (f)
        fclose(f);
    return kib;
}

START_TEST(one_connection_over_the_cap_gets_an_error)
{
    Client *keep = cl_session(kicd.port, token);
    Client *c[MAX_CONNECTIONS];
    int n = 0;
    /* fill up to the cap (keep is one) with logged-in sessions, which are
     * never closed to make room (idle_timeout_s is 2: quickly) */
    for (; n < MAX_CONNECTIONS - 1; n++)
        c[n] = cl_session(kicd.port, token);
    Client *over = cl_connect(kicd.port);
    json_t *r = cl_recv(over, 3000);
    ck_assert_msg(r, "no explicit refusal");
    ck_assert_int_eq(rpc_code(r), -32029);
    json_decref(r);
    ck_assert(cl_wait_closed(over, 3000));
    cl_close(over);
    /* a flood of them is refused alike, in a log line a second at most */
    int lines_before = kicd_log_count(&kicd, "(max_connections)");
    time_t flood_began = time(NULL);
    for (int i = 0; i < 100; i++) {
        over = cl_connect(kicd.port);
        r = cl_recv(over, 3000);
        ck_assert_int_eq(rpc_code(r), -32029);
        json_decref(r);
        cl_close(over);
    }
    ck_assert_int_le(kicd_log_count(&kicd, "(max_connections)") - lines_before,
                     (long)(time(NULL) - flood_began) + 2);
    /* the logged-in client is still served */
    r = cl_call(keep, "server.ping", NULL);
    ck_result(r);
    json_decref(r);
    /* room again once some leave */
    for (int i = 0; i < n; i++)
        cl_close(c[i]);
    usleep(300000);
    cl_close(keep);
    served();
}
END_TEST

/* Connections that never log in cannot keep the bridge out: with the
 * table full of them, a new one closes the oldest and is served, and a
 * flood of them leaves a logged-in client alone. */
START_TEST(connections_not_logged_in_make_room)
{
    Client *keep = cl_session(kicd.port, token);
    Client *c[MAX_CONNECTIONS];
    int n = 0;
    for (; n < MAX_CONNECTIONS - 1; n++)
        c[n] = cl_connect(kicd.port);
    usleep(200000); /* accepted in that order */
    int lines_before = kicd_log_count(&kicd, "closed the oldest connection not logged in");
    served(); /* a bridge comes: the oldest waiting one makes room */
    ck_assert(cl_wait_closed(c[0], 3000));
    ck_assert(!cl_wait_closed(c[1], 100)); /* only it */
    ck_assert_int_gt(kicd_log_count(&kicd, "closed the oldest connection not logged in"), lines_before);
    /* a flood of connections that never log in: each takes the place of
     * the oldest waiting one, never keep's */
    Client *flood[3 * MAX_CONNECTIONS];
    for (int i = 0; i < 3 * MAX_CONNECTIONS; i++)
        flood[i] = cl_connect(kicd.port);
    json_t *r = cl_call(keep, "server.ping", NULL);
    ck_result(r);
    json_decref(r);
    served();
    for (int i = 0; i < 3 * MAX_CONNECTIONS; i++)
        cl_close(flood[i]);
    for (int i = 0; i < n; i++)
        cl_close(c[i]);
    cl_close(keep);
    usleep(300000);
    served();
}
END_TEST

/* Bad tokens in a flood: each refused, in a log line a second at most
 * (a line each filled 12 MB of log in 8 s). */
START_TEST(a_flood_of_bad_logins_is_logged_a_line_a_second)
{
    int lines_before = kicd_log_count(&kicd, "login refused");
    time_t began = time(NULL);
    for (int i = 0; i < 60; i++) {
        Client *c = cl_connect(kicd.port);
        ck_assert_rpc_error(cl_call(c, "auth.login", "{\"token\":\"kic_not-a-token-%d\"}", i), -32001);
        cl_close(c);
    }
    ck_assert_int_ge(kicd_log_count(&kicd, "login refused") - lines_before, 1);
    ck_assert_int_le(kicd_log_count(&kicd, "login refused") - lines_before, (long)(time(NULL) - began) + 2);
    served();
}
END_TEST

START_TEST(a_flood_without_newline_is_cut_off)
{
    Client *flood = cl_connect(kicd.port);
    char chunk[4096];
    memset(chunk, 'a', sizeof(chunk));
    /* 64 KiB before login, where lines may be 16 KiB */
    for (int i = 0; i < 16; i++)
        if (send(flood->fd, chunk, sizeof(chunk), MSG_NOSIGNAL) < 0)
            break;
    json_t *r = cl_recv(flood, 3000);
    ck_assert_msg(r, "no error for the oversized line");
    ck_assert_int_eq(rpc_code(r), -32600);
    json_decref(r);
    ck_assert(cl_wait_closed(flood, 3000));
    cl_close(flood);
    served();
}
END_TEST

/* Connections that each trickle a byte of a login now and then and
 * never finish it: they take no more than their place, are closed when
 * the login time is up, and a normal client is served throughout. */
START_TEST(slowloris_connections_are_closed_at_the_login_timeout)
{
    enum { SLOW = MAX_CONNECTIONS - 5 };
    int fds[SLOW];
    for (int i = 0; i < SLOW; i++) {
        Client *c = cl_connect(kicd.port);
        fds[i] = c->fd;
        c->fd = -1;
        cl_close(c);
    }
    const char *line = "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"auth.login\",\"params\":{\"token\":\"kic_";
    for (int step = 0; step < 10; step++) {
        for (int i = 0; i < SLOW; i++)
            if (fds[i] >= 0 && send(fds[i], line + step, 1, MSG_NOSIGNAL) < 0) {
                close(fds[i]);
                fds[i] = -1;
            }
        served();
        usleep(100000);
    }
    /* login_timeout_s = 2 in this suite: all gone within a few seconds */
    int open = SLOW;
    for (int t = 0; t < 60 && open > 0; t++) {
        open = 0;
        for (int i = 0; i < SLOW; i++) {
            if (fds[i] < 0)
                continue;
            char buf[256];
            ssize_t got = recv(fds[i], buf, sizeof(buf), MSG_DONTWAIT);
            if (got == 0 || (got < 0 && errno != EAGAIN && errno != EWOULDBLOCK)) {
                close(fds[i]);
                fds[i] = -1;
            } else {
                open++;
            }
        }
        usleep(100000);
    }
    ck_assert_msg(open == 0, "%d slow connections still open", open);
    served();
}
END_TEST

/* A client that writes requests and never reads their answers: kicd
 * stops reading from it (outstanding requests and output are capped),
 * so its memory stays bounded; the others are served. */
START_TEST(a_client_that_never_reads_gets_backpressure)
{
    Client *c = cl_session(kicd.port, token);
    fcntl(c->fd, F_SETFL, fcntl(c->fd, F_GETFL) | O_NONBLOCK);
    long before = rss_kib(kicd.pid);
    char req[128];
    size_t sent = 0;
    int len = snprintf(req, sizeof(req), "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"server.info\"}\n");
    for (int i = 0; i < 2000000; i++) {
        ssize_t n = send(c->fd, req, (size_t)len, MSG_NOSIGNAL);
        if (n < 0) { /* kicd stopped reading: our send buffer is full */
            struct pollfd p = {c->fd, POLLOUT, 0};
            if (poll(&p, 1, 500) != 1)
                break;
            continue;
        }
        sent += (size_t)n;
    }
    served();
    long after = rss_kib(kicd.pid);
    /* without backpressure it would hold every answer: hundreds of MB.
     * Under ASan freed memory is kept in quarantine (up to 256 MB). */
    const char *tag = getenv("KIC_TEST_TAG");
    long bound_kib = tag && strcmp(tag, "asan") == 0 ? 300 * 1024 : 64 * 1024;
    ck_assert_msg(after - before < bound_kib, "kicd grew from %ld to %ld KiB", before, after);
    ck_assert_msg(sent < 2000000UL * (size_t)len, "kicd read everything: no backpressure");
    cl_close(c);
    served();
}
END_TEST

START_TEST(idle_sessions_end_unless_they_ping)
{
    Client *quiet = cl_session(kicd.port, token), *pinging = cl_session(kicd.port, token);
    for (int i = 0; i < 8; i++) { /* 4 s; idle_timeout_s = 2 */
        json_t *r = cl_call(pinging, "server.ping", NULL);
        ck_result(r);
        json_decref(r);
        usleep(500000);
    }
    ck_assert(cl_wait_closed(quiet, 1000));
    json_t *r = cl_call(pinging, "server.ping", NULL);
    ck_result(r);
    json_decref(r);
    cl_close(quiet);
    cl_close(pinging);
}
END_TEST

/* More connections than kicd has descriptors for: kicd says so once (it
 * used to retry accept() at once, for ever: a busy loop writing 300,000
 * log lines a second), keeps serving the sessions it has, and takes the
 * waiting connections once others close. The HTTP listener pauses the
 * same way (libevent, left to itself, warns about every failed accept). */
START_TEST(out_of_descriptors_waits_without_spinning)
{
    Kicd k;
    kicd_init(&k, "limits_fds", "[limits]\nmax_connections = 1000\n");
    k.max_files = 64;
    kicd_start(&k);
    ck_assert(kicd_log_contains(&k, "descriptor limit 64 is below max_connections (1000)"));
    char *pbx = h_user(&k, h_tenant("fds"), "pbx", "bridge", NULL, NULL);
    Client *first = cl_session(k.port, pbx);
    enum { FLOOD = 100 };
    Client *flood[2 * FLOOD];
    for (int i = 0; i < FLOOD; i++) {
        flood[i] = cl_connect(k.port);
        flood[FLOOD + i] = cl_connect(k.http_port);
    }
    ck_assert(kicd_log_shows(&k, "cannot accept connections: Too many open files"));
    usleep(500 * 1000); /* time enough for a busy loop to show */
    ck_assert_int_le(kicd_log_count(&k, "cannot accept connections"), 2);
    ck_assert(!kicd_log_contains(&k, "Error from accept"));
    json_t *r = cl_call(first, "server.ping", NULL); /* the open session is served */
    ck_result(r);
    json_decref(r);
    /* room again: the waiting connections are taken, a new one is served */
    for (int i = 0; i < 2 * FLOOD; i++)
        cl_close(flood[i]);
    ck_assert(kicd_log_shows(&k, "accepting connections again"));
    Client *later = cl_session(k.port, pbx);
    r = cl_call(later, "server.ping", NULL);
    ck_result(r);
    json_decref(r);
    cl_close(later);
    cl_close(first);
    free(pbx);
    ck_assert(kicd_stop(&k));
}
END_TEST

/* Reports, histories and logins share one PostgreSQL connection. A
 * client that pipelines many reports has CONN_MAX_READS (2) of them there
 * at a time, so another client's report runs after at most those, not
 * after all of them: when it is answered, the first client has few of
 * its answers yet. (Without the cap all 60 would go first.) */
START_TEST(a_pipeline_of_reports_does_not_hold_up_other_clients)
{
    char *sup = h_user(&kicd, h_tenant("limits_reads"), "sup", "supervisor", NULL, NULL);
    Client *a = cl_session(kicd.port, sup), *b = cl_session(kicd.port, sup);
    char line[256];
    int len = snprintf(line, sizeof(line),
                       "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"report.query\",\"params\":"
                       "{\"from\":\"%s\",\"to\":\"%s\",\"interval\":\"all\"}}\n",
                       h_at(h_today(0), -3600), h_at(h_today(0), 0));
    enum { N = 60 };
    char *many = malloc((size_t)len * N);
    for (int i = 0; i < N; i++)
        memcpy(many + (size_t)i * (size_t)len, line, (size_t)len);
    /* a's first reports wait in PostgreSQL until b's is queued behind
     * them, so that how fast this process runs does not matter */
    PGconn *locker = h_db_lock_report_tables(kicd.conninfo);
    cl_write(a, many, (size_t)len * N);
    free(many);
    line[len - 1] = '\0';
    h_db_await_lock_wait(kicd.conninfo);
    json_t *r = cl_call(b, "server.ping", NULL); /* a's lines are read by now */
    json_decref(r);
    cl_send(b, line);
    usleep(200000);
    h_db_unlock(locker);
    ck_result(r = cl_recv(b, 30000));
    json_decref(r);
    /* the first client's answers waiting in its socket, left there */
    static char peek[1 << 20];
    ssize_t got = recv(a->fd, peek, sizeof(peek), MSG_PEEK | MSG_DONTWAIT);
    int ready = 0;
    for (ssize_t i = 0; i < got; i++)
        ready += peek[i] == '\n';
    ck_assert_msg(ready < N / 2, "%d of the first client's reports went first", ready);
    for (int i = 0; i < N; i++) {
        ck_result(r = cl_recv(a, 30000));
        json_decref(r);
    }
    cl_close(a);
    cl_close(b);
    free(sup);
}
END_TEST

int main(void)
{
    char conf[256];
    snprintf(conf, sizeof(conf),
             "[limits]\nmax_connections = %d\nlogin_timeout_s = 2\nidle_timeout_s = 2\n"
             "output_buffer = 262144\nmax_outstanding = 1024\n",
             MAX_CONNECTIONS);
    kicd_init(&kicd, "limits", conf);
    kicd_start(&kicd);
    token = h_user(&kicd, h_tenant("limits"), "pbx", "bridge", NULL, NULL);
    Suite *s = suite_create("limits");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, one_connection_over_the_cap_gets_an_error);
    tcase_add_test(tc, connections_not_logged_in_make_room);
    tcase_add_test(tc, a_flood_of_bad_logins_is_logged_a_line_a_second);
    tcase_add_test(tc, a_flood_without_newline_is_cut_off);
    tcase_add_test(tc, slowloris_connections_are_closed_at_the_login_timeout);
    tcase_add_test(tc, a_client_that_never_reads_gets_backpressure);
    tcase_add_test(tc, idle_sessions_end_unless_they_ping);
    tcase_add_test(tc, a_pipeline_of_reports_does_not_hold_up_other_clients);
    tcase_add_test(tc, out_of_descriptors_waits_without_spinning);
    suite_add_tcase(s, tc);
    int rc = h_run_suite(s, &kicd);
    free(token);
    return rc;
}
