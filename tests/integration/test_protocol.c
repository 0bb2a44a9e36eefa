/* The wire protocol against a real kicd: framing, JSON-RPC errors, batch
 * arrays, login, logout, limits on lines and bad input. Every error path
 * asserts its exact code, and that the connection (or others) survive. */
#include <libpq-fe.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"

static Kicd kicd;
static char *bridge_token, *agent_token, *super_token;

#define REQ(id, method) "{\"jsonrpc\":\"2.0\",\"id\":" #id ",\"method\":\"" method "\"}"

static Client *bridge(void)
{
    return cl_session(kicd.port, bridge_token);
}

START_TEST(login_returns_the_session)
{
    Client *c = cl_connect(kicd.port);
    json_t *r = cl_login(c, agent_token);
    json_t *res = ck_result(r);
    ck_assert_str_eq(json_string_value(json_object_get(res, "role")), "agent");
    ck_assert_str_eq(json_string_value(json_object_get(res, "tenant")), "proto");
    ck_assert_str_eq(json_string_value(json_object_get(res, "user")), "a.jansen");
    ck_assert_str_eq(json_string_value(json_object_get(res, "agent")), "a.jansen");
    ck_assert_str_eq(json_string_value(json_array_get(json_object_get(res, "teams"), 0)), "kic");
    json_decref(r);
    cl_close(c);
}
END_TEST

START_TEST(bad_token_is_refused)
{
    Client *c = cl_connect(kicd.port);
    ck_assert_rpc_error(cl_login(c, "kic_000000000000000000000000000000000000000000000000"), -32001);
    ck_assert_rpc_error(cl_call(c, "auth.login", "{}"), -32602);
    ck_assert_rpc_error(cl_call(c, "auth.login", "{\"token\":42}"), -32602);
    ck_assert_rpc_error(cl_call(c, "auth.login", "{\"token\":\"\"}"), -32602);
    /* still usable: a good token works on the same connection */
    json_t *r = cl_login(c, bridge_token);
    ck_result(r);
    json_decref(r);
    cl_close(c);
}
END_TEST

START_TEST(five_bad_tokens_close_the_connection)
{
    Client *c = cl_connect(kicd.port);
    for (int i = 0; i < 5; i++)
        ck_assert_rpc_error(cl_login(c, "kic_wrong"), -32001);
    ck_assert(cl_wait_closed(c, 5000));
    cl_close(c);
    /* in one batch: the requests after the fifth still get their answer
     * (-32001, not carried out), the notification none, then the close */
    c = cl_connect(kicd.port);
    char batch[1024] = "[";
    for (int i = 1; i <= 5; i++)
        snprintf(batch + strlen(batch), sizeof(batch) - strlen(batch),
                 "{\"jsonrpc\":\"2.0\",\"id\":%d,\"method\":\"auth.login\",\"params\":{\"token\":\"bad\"}},", i);
    strcat(batch, "{\"jsonrpc\":\"2.0\",\"id\":6,\"method\":\"auth.login\",\"params\":{\"token\":\"bad\"}},"
                  "{\"jsonrpc\":\"2.0\",\"method\":\"server.ping\"},"
                  "{\"jsonrpc\":\"2.0\",\"id\":\"last\",\"method\":\"server.ping\"}]");
    cl_send(c, batch);
    json_t *answers = cl_recv(c, 5000);
    ck_assert_msg(json_is_array(answers) && json_array_size(answers) == 7, "%zu answers",
                  json_array_size(answers));
    for (size_t i = 0; i < 7; i++) {
        json_t *a = json_array_get(answers, i);
        ck_assert_int_eq(rpc_code(a), -32001);
        if (i < 6)
            ck_assert_int_eq(json_integer_value(json_object_get(a, "id")), (json_int_t)i + 1);
    }
    ck_assert_str_eq(json_string_value(json_object_get(json_array_get(answers, 6), "id")), "last");
    ck_assert(strstr(json_string_value(json_object_get(json_object_get(json_array_get(answers, 5), "error"),
                                                       "message")),
                     "not carried out"));
    json_decref(answers);
    ck_assert(cl_wait_closed(c, 5000));
    cl_close(c);
}
END_TEST

START_TEST(anything_before_login_is_32001)
{
    Client *c = cl_connect(kicd.port);
    ck_assert_rpc_error(cl_call(c, "server.info", NULL), -32001);
    ck_assert_rpc_error(cl_call(c, "no.such.method", NULL), -32001);
    ck_assert_rpc_error(cl_call(c, "auth.logout", NULL), -32001);
    cl_close(c);
}
END_TEST

START_TEST(unknown_method_after_login_is_32601)
{
    Client *c = bridge();
    ck_assert_rpc_error(cl_call(c, "no.such.method", NULL), -32601);
    ck_assert_rpc_error(cl_call(c, "", NULL), -32601);
    /* the message quotes the method, cut on a character boundary */
    char method[300] = "a";
    for (int i = 0; i < 60; i++)
        strcat(method, "\xF0\x9F\x98\x80");
    json_t *r = cl_call(c, method, NULL);
    const char *msg = json_string_value(json_object_get(json_object_get(r, "error"), "message"));
    ck_assert_ptr_nonnull(msg);
    size_t quoted = strlen(msg) - strlen("method not found: ");
    ck_assert_msg(quoted > 100 && (quoted - 1) % 4 == 0 && !strchr(msg, '?'), "%s", msg);
    ck_assert(strncmp(msg + strlen("method not found: "), method, quoted) == 0);
    ck_assert_rpc_error(r, -32601);
    cl_close(c);
}
END_TEST

START_TEST(server_info_and_ping_for_every_role)
{
    const char *tokens[] = {bridge_token, agent_token, super_token};
    for (int i = 0; i < 3; i++) {
        Client *c = cl_session(kicd.port, tokens[i]);
        json_t *r = cl_call(c, "server.info", NULL);
        json_t *res = ck_result(r);
        ck_assert_str_eq(json_string_value(json_object_get(res, "version")), KIC_VERSION);
        ck_assert(json_is_integer(json_object_get(res, "uptime_s")));
        json_decref(r);
        r = cl_call(c, "server.ping", NULL);
        ck_assert(json_is_true(json_object_get(ck_result(r), "pong")));
        json_decref(r);
        cl_close(c);
    }
}
END_TEST

START_TEST(second_login_is_a_conflict_and_logout_ends_the_session)
{
    Client *c = bridge();
    ck_assert_rpc_error(cl_login(c, agent_token), -32009);
    json_t *r = cl_call(c, "auth.logout", NULL);
    ck_result(r);
    json_decref(r);
    ck_assert_rpc_error(cl_call(c, "server.info", NULL), -32001);
    r = cl_login(c, agent_token);
    ck_assert_str_eq(json_string_value(json_object_get(ck_result(r), "role")), "agent");
    json_decref(r);
    cl_close(c);
}
END_TEST

START_TEST(revoked_token_cannot_log_in)
{
    char *token = h_user(&kicd, "proto", "temp.user", "supervisor", NULL, NULL);
    Client *c = cl_connect(kicd.port);
    json_t *r = cl_login(c, token);
    ck_result(r);
    json_decref(r);
    cl_close(c);
    ck_assert_int_eq(h_kicctl(&kicd, NULL, "user", "revoke", "--tenant", "proto", "--name",
                              "temp.user", NULL), 0);
    c = cl_connect(kicd.port);
    ck_assert_rpc_error(cl_login(c, token), -32001);
    cl_close(c);
    free(token);
}
END_TEST

START_TEST(invalid_json_is_32700_and_the_connection_survives)
{
    Client *c = cl_connect(kicd.port);
    const char *bad[] = {"{", "not json", "{\"a\":}", "[1,2", "{\"a\":1,\"a\":2}", "\"\\ud800\""};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        cl_send(c, bad[i]);
        json_t *r = cl_recv(c, 5000);
        ck_assert(json_is_null(json_object_get(r, "id")));
        ck_assert_rpc_error(r, -32700);
    }
    /* invalid UTF-8 bytes */
    cl_write(c, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"\xff\xfe\"}\n", 39);
    ck_assert_rpc_error(cl_recv(c, 5000), -32700);
    json_t *r = cl_login(c, bridge_token);
    ck_result(r);
    json_decref(r);
    cl_close(c);
}
END_TEST

START_TEST(invalid_requests_are_32600)
{
    Client *c = bridge();
    const char *bad[] = {
        "42", "\"x\"", "null", "{}",
        "{\"id\":1,\"method\":\"server.info\"}",
        "{\"jsonrpc\":\"1.0\",\"id\":1,\"method\":\"server.info\"}",
        "{\"jsonrpc\":2,\"id\":1,\"method\":\"server.info\"}",
        "{\"jsonrpc\":\"2.0\",\"id\":1}",
        "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":[\"server.info\"]}",
        "{\"jsonrpc\":\"2.0\",\"id\":{\"a\":1},\"method\":\"server.info\"}",
        "{\"jsonrpc\":\"2.0\",\"id\":false,\"method\":\"server.info\"}",
        "[]",
        "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"server.info\",\"params\":5}",
        "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"server.info\",\"params\":\"x\"}",
        "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"server.info\",\"params\":null}",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        cl_send(c, bad[i]);
        ck_assert_rpc_error(cl_recv(c, 5000), -32600);
    }
    /* params by position: a request, but kicd's methods take names */
    cl_send(c, "{\"jsonrpc\":\"2.0\",\"id\":9,\"method\":\"server.info\",\"params\":[1]}");
    json_t *r = cl_recv(c, 5000);
    ck_assert_int_eq(json_integer_value(json_object_get(r, "id")), 9);
    ck_assert_rpc_error(r, -32602);
    /* the id of an invalid request is echoed when it is a valid id */
    cl_send(c, "{\"jsonrpc\":\"1.0\",\"id\":\"abc\",\"method\":\"server.info\"}");
    r = cl_recv(c, 5000);
    ck_assert_str_eq(json_string_value(json_object_get(r, "id")), "abc");
    json_decref(r);
    cl_close(c);
}
END_TEST

START_TEST(nesting_deeper_than_16_is_refused)
{
    Client *c = bridge();
    char line[256] = "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"server.ping\",\"params\":{\"x\":";
    for (int i = 0; i < 16; i++)
        strcat(line, "[");
    for (int i = 0; i < 16; i++)
        strcat(line, "]");
    strcat(line, "}}");
    cl_send(c, line);
    ck_assert_rpc_error(cl_recv(c, 5000), -32600);
    json_t *r = cl_call(c, "server.ping", "{\"x\":[[[[1]]]]}");
    ck_result(r);
    json_decref(r);
    cl_close(c);
}
END_TEST

START_TEST(batches_answer_in_order_as_one_array)
{
    Client *c = bridge();
    cl_send(c, "[" REQ(1, "server.ping") "," REQ(2, "no.such") ",{\"jsonrpc\":\"2.0\",\"method\":\"server.ping\"},"
               "{\"bad\":1},{\"jsonrpc\":\"2.0\",\"id\":\"five\",\"method\":\"server.info\"}]");
    json_t *r = cl_recv(c, 5000);
    ck_assert(json_is_array(r));
    ck_assert_uint_eq(json_array_size(r), 4); /* the notification gets no entry */
    ck_assert_int_eq(json_integer_value(json_object_get(json_array_get(r, 0), "id")), 1);
    ck_assert_int_eq(rpc_code(json_array_get(r, 0)), 0);
    ck_assert_int_eq(rpc_code(json_array_get(r, 1)), -32601);
    ck_assert_int_eq(rpc_code(json_array_get(r, 2)), -32600);
    ck_assert_str_eq(json_string_value(json_object_get(json_array_get(r, 3), "id")), "five");
    json_decref(r);
    cl_close(c);
}
END_TEST

START_TEST(batch_limits)
{
    Client *c = bridge();
    /* 1,000 entries are fine */
    size_t cap = 1001 * 64;
    char *line = malloc(cap);
    strcpy(line, "[");
    for (int i = 0; i < 1000; i++)
        sprintf(line + strlen(line), "%s{\"jsonrpc\":\"2.0\",\"id\":%d,\"method\":\"server.ping\"}", i ? "," : "", i);
    strcat(line, "]");
    cl_send(c, line);
    json_t *r = cl_recv(c, 10000);
    ck_assert_uint_eq(json_array_size(r), 1000);
    ck_assert_int_eq(json_integer_value(json_object_get(json_array_get(r, 999), "id")), 999);
    json_decref(r);
    /* 1,001 are one -32600 */
    line[strlen(line) - 1] = '\0';
    strcat(line, ",{\"jsonrpc\":\"2.0\",\"id\":1000,\"method\":\"server.ping\"}]");
    cl_send(c, line);
    r = cl_recv(c, 10000);
    ck_assert(json_is_object(r));
    ck_assert_rpc_error(r, -32600);
    free(line);
    cl_close(c);
}
END_TEST

START_TEST(notifications_get_no_reply)
{
    Client *c = bridge();
    cl_send(c, "{\"jsonrpc\":\"2.0\",\"method\":\"server.ping\"}");
    cl_send(c, "{\"jsonrpc\":\"2.0\",\"method\":\"no.such\"}");
    json_t *r = cl_call(c, "server.info", NULL);
    ck_result(r); /* the first reply on the line is this one */
    json_decref(r);
    cl_close(c);
}
END_TEST

START_TEST(pipelined_requests_come_back_in_order)
{
    Client *c = bridge();
    for (int i = 0; i < 500; i++)
        cl_sendf(c, "{\"jsonrpc\":\"2.0\",\"id\":%d,\"method\":\"%s\"}", i, i % 3 ? "server.ping" : "nope");
    for (int i = 0; i < 500; i++) {
        json_t *r = cl_recv(c, 10000);
        ck_assert_int_eq(json_integer_value(json_object_get(r, "id")), i);
        json_decref(r);
    }
    cl_close(c);
}
END_TEST

START_TEST(oversized_line_after_login_is_answered_then_closed)
{
    Client *c = bridge();
    cl_send(c, REQ(1, "server.ping"));
    size_t n = 70 * 1024;
    char *big = malloc(n + 1);
    memset(big, 'x', n);
    big[n] = '\0';
    cl_send(c, big);
    free(big);
    json_t *r = cl_recv(c, 5000);
    ck_assert_int_eq(json_integer_value(json_object_get(r, "id")), 1); /* nothing before is lost */
    json_decref(r);
    r = cl_recv(c, 5000);
    ck_assert(strstr(json_string_value(json_object_get(json_object_get(r, "error"), "message")), "65536"));
    ck_assert_rpc_error(r, -32600);
    ck_assert(cl_wait_closed(c, 5000));
    cl_close(c);
}
END_TEST

START_TEST(line_cap_before_login_is_16k)
{
    Client *c = cl_connect(kicd.port);
    size_t n = 20 * 1024;
    char *big = malloc(n + 128);
    sprintf(big, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"auth.login\",\"params\":{\"pad\":\"");
    size_t len = strlen(big);
    memset(big + len, 'y', n);
    strcpy(big + len + n, "\"}}");
    cl_send(c, big);
    ck_assert_rpc_error(cl_recv(c, 5000), -32600);
    ck_assert(cl_wait_closed(c, 5000));
    cl_close(c);
    /* a line of that size is fine after login */
    c = bridge();
    big[len + n] = '\0';
    cl_sendf(c, "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"server.ping\",\"params\":{\"pad\":\"%s\"}}", big + len);
    json_t *r = cl_recv(c, 5000);
    ck_result(r);
    json_decref(r);
    free(big);
    cl_close(c);
}
END_TEST

START_TEST(a_hundred_bad_lines_in_a_row_disconnect)
{
    Client *c = bridge();
    for (int i = 0; i < 99; i++)
        cl_send(c, "garbage");
    cl_send(c, REQ(1, "server.ping")); /* resets the count */
    for (int i = 0; i < 99; i++)
        ck_assert_rpc_error(cl_recv(c, 5000), -32700);
    json_t *r = cl_recv(c, 5000);
    ck_result(r);
    json_decref(r);
    for (int i = 0; i < 100; i++)
        cl_send(c, "{\"no\":\"jsonrpc\"}");
    for (int i = 0; i < 100; i++)
        ck_assert_rpc_error(cl_recv(c, 5000), -32600);
    ck_assert(cl_wait_closed(c, 5000));
    cl_close(c);
}
END_TEST

/* params by position ([...]) make a valid JSON-RPC request that kicd's
 * methods, which take names, refuse: only after the login, method and
 * role checks, never answered as a notification, and not a bad line. */
#define POS(id, method) "{\"jsonrpc\":\"2.0\",\"id\":" #id ",\"method\":\"" method "\",\"params\":[1]}"
START_TEST(params_by_position_are_refused_in_their_turn)
{
    Client *c = cl_connect(kicd.port);
    cl_send(c, POS(1, "no.such"));
    ck_assert_rpc_error(cl_recv(c, 5000), -32001);
    cl_close(c);
    c = bridge();
    cl_send(c, POS(2, "no.such"));
    ck_assert_rpc_error(cl_recv(c, 5000), -32601);
    cl_send(c, POS(3, "report.query"));
    ck_assert_rpc_error(cl_recv(c, 5000), -32003);
    cl_send(c, POS(4, "server.ping"));
    json_t *r = cl_recv(c, 5000);
    json_t *data = json_object_get(json_object_get(r, "error"), "data");
    ck_assert_str_eq(json_string_value(json_object_get(data, "field")), "params");
    ck_assert_rpc_error(r, -32602);
    cl_send(c, "{\"jsonrpc\":\"2.0\",\"method\":\"server.ping\",\"params\":[]}");
    cl_send(c, "[{\"jsonrpc\":\"2.0\",\"method\":\"server.ping\",\"params\":[]}," REQ(5, "server.ping") "]");
    r = cl_recv(c, 5000); /* the batch: only the request with an id */
    ck_assert(json_is_array(r) && json_array_size(r) == 1);
    ck_assert_int_eq(json_integer_value(json_object_get(json_array_get(r, 0), "id")), 5);
    json_decref(r);
    for (int i = 0; i < 150; i++)
        cl_send(c, POS(6, "server.ping"));
    for (int i = 0; i < 150; i++)
        ck_assert_rpc_error(cl_recv(c, 5000), -32602);
    r = cl_call(c, "server.ping", NULL);
    ck_result(r);
    json_decref(r);
    cl_close(c);
}
END_TEST

START_TEST(crlf_and_blank_lines_are_tolerated)
{
    Client *c = cl_connect(kicd.port);
    char line[256];
    snprintf(line, sizeof(line), "\r\n\n{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"auth.login\",\"params\":{\"token\":\"%s\"}}\r\n", bridge_token);
    cl_write(c, line, strlen(line));
    json_t *r = cl_recv(c, 5000);
    ck_result(r);
    json_decref(r);
    cl_close(c);
}
END_TEST

START_TEST(bytes_split_anywhere_make_the_same_requests)
{
    Client *c = bridge();
    const char *text = REQ(1, "server.ping") "\n" REQ(2, "server.ping") "\n";
    for (size_t i = 0; i < strlen(text); i++) {
        cl_write(c, text + i, 1);
        if (i % 7 == 0)
            usleep(1000);
    }
    for (int id = 1; id <= 2; id++) {
        json_t *r = cl_recv(c, 5000);
        ck_assert_int_eq(json_integer_value(json_object_get(r, "id")), id);
        json_decref(r);
    }
    cl_close(c);
}
END_TEST

START_TEST(silent_connection_is_closed_after_login_timeout)
{
    Client *c = cl_connect(kicd.port);
    ck_assert(cl_wait_closed(c, 5000)); /* login_timeout_s = 1 in this suite */
    cl_close(c);
    /* a logged-in connection is not */
    c = bridge();
    sleep(2);
    json_t *r = cl_call(c, "server.ping", NULL);
    ck_result(r);
    json_decref(r);
    cl_close(c);
}
END_TEST

START_TEST(client_half_close_still_gets_its_answers)
{
    Client *c = cl_connect(kicd.port);
    cl_sendf(c, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"auth.login\",\"params\":{\"token\":\"%s\"}}", bridge_token);
    cl_send(c, REQ(2, "server.ping"));
    shutdown(c->fd, SHUT_WR);
    json_t *r = cl_recv(c, 5000);
    ck_result(r);
    json_decref(r);
    r = cl_recv(c, 5000);
    ck_assert_int_eq(json_integer_value(json_object_get(r, "id")), 2);
    json_decref(r);
    ck_assert(cl_wait_closed(c, 5000));
    cl_close(c);
}
END_TEST

/* kicd's resident memory in kB (VmRSS). */
static long rss_kb(pid_t pid)
{
    char path[64], line[128];
    snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
    FILE *f = fopen(path, "r");
    ck_assert_ptr_nonnull(f);
    long kb = -1;
    while (kb < 0 && fgets(line, sizeof(line), f))
        if (sscanf(line, "VmRSS: %ld kB", &kb) != 1)
            kb = -1;
    fclose(f);
    ck_assert_int_ge(kb, 0);
    return kb;
}

/* A session holding what reports read (calls, the sums) locked: a
 * report waits on it until unlock. */
/* Sends report.query `id` (ten months by day): with h_db_lock_report_tables
 * held, it waits. */
static void send_report(Client *c, int id)
{
    cl_sendf(c, "{\"jsonrpc\":\"2.0\",\"id\":%d,\"method\":\"report.query\",\"params\":"
                "{\"from\":\"2026-01-01T00:00:00Z\",\"to\":\"2026-11-01T00:00:00Z\",\"interval\":\"1d\"}}",
             id);
}

/* A child that writes requests `method` with ids first..last on c's
 * socket, blocking as it must (kicd may stop reading); exits 0 once all
 * are written. */
static pid_t write_from_child(Client *c, const char *method, int first, int last)
{
    pid_t writer = fork();
    ck_assert_int_ge(writer, 0);
    if (writer > 0)
        return writer;
    char line[96];
    for (int i = first; i <= last; i++) {
        int n = snprintf(line, sizeof(line), "{\"jsonrpc\":\"2.0\",\"id\":%d,\"method\":\"%s\"}\n", i,
                         method);
        for (int off = 0; off < n;) {
            ssize_t w = write(c->fd, line + off, (size_t)(n - off));
            if (w <= 0)
                _exit(1);
            off += (int)w;
        }
    }
    _exit(0);
}

/* SIGTERM: what a client had sent that kicd had not read yet (here held
 * back by two reports waiting on a lock: two storage reads a connection
 * at a time) is answered -32029, after the answers owed, before the
 * close. Such requests got no answer at all (found by a probe). */
START_TEST(sigterm_answers_what_was_sent_but_not_read)
{
    Kicd k;
    kicd_init(&k, "drainread", "[storage]\npg_timeout_s = 0\n");
    kicd_start(&k);
    char *super = h_user(&k, "drainread", "sup", "supervisor", NULL, NULL);
    Client *c = cl_session(k.port, super);
    PGconn *locker = h_db_lock_report_tables(k.conninfo);
    send_report(c, 1);
    send_report(c, 2);
    h_db_await_lock_wait(k.conninfo);
    for (int i = 3; i <= 12; i++)
        cl_sendf(c, "{\"jsonrpc\":\"2.0\",\"id\":%d,\"method\":\"server.ping\"}", i);
    cl_send(c, "{\"jsonrpc\":\"2.0\",\"method\":\"server.ping\"}"); /* a notification: no answer */
    usleep(200000);
    kicd_signal(&k, SIGTERM);
    /* kicd drains before the reports can finish: the pings are refused */
    ck_assert(kicd_log_shows(&k, "shutting down:"));
    /* the log names who sent the signal: this test */
    char sender[64];
    snprintf(sender, sizeof(sender), "stopping on SIGTERM from pid %d (test_protocol)", (int)getpid());
    ck_assert(kicd_log_contains(&k, sender));
    usleep(100000);
    h_db_unlock(locker);
    for (int i = 1; i <= 12; i++) {
        json_t *r = cl_recv(c, 15000);
        ck_assert_msg(r, "no answer %d", i);
        ck_assert_int_eq(json_integer_value(json_object_get(r, "id")), i);
        if (i <= 2)
            ck_result(r);
        else
            ck_assert_int_eq(rpc_code(r), -32029);
        json_decref(r);
    }
    ck_assert(cl_wait_closed(c, 5000));
    cl_close(c);
    free(super);
    ck_assert(kicd_stop(&k));
}
END_TEST

/* SIGTERM with far more sent than kicd had read (megabytes in the socket,
 * held back behind two reports): each request is answered, -32029, as the
 * client reads, in order, and then the connection closes. The refusals
 * once stopped at what libevent had read (128 KiB). */
START_TEST(sigterm_answers_a_flood_as_it_is_read)
{
    enum { N = 30000 };
    Kicd k;
    kicd_init(&k, "drainflood", "[storage]\npg_timeout_s = 0\n");
    kicd_start(&k);
    char *super = h_user(&k, "drainflood", "sup", "supervisor", NULL, NULL);
    Client *c = cl_session(k.port, super);
    PGconn *locker = h_db_lock_report_tables(k.conninfo);
    send_report(c, 1);
    send_report(c, 2);
    h_db_await_lock_wait(k.conninfo);
    pid_t writer = write_from_child(c, "server.ping", 3, N + 2);
    usleep(500000); /* the socket fills; the writer waits */
    kicd_signal(&k, SIGTERM);
    /* kicd drains before the reports can finish: the pings are refused */
    ck_assert(kicd_log_shows(&k, "shutting down:"));
    usleep(100000);
    h_db_unlock(locker);
    for (int i = 1; i <= N + 2; i++) {
        json_t *r = cl_recv(c, 15000);
        ck_assert_msg(r && json_integer_value(json_object_get(r, "id")) == i, "answer %d", i);
        if (i <= 2)
            ck_result(r);
        else
            ck_assert_int_eq(rpc_code(r), -32029);
        json_decref(r);
    }
    int status;
    ck_assert_int_eq(waitpid(writer, &status, 0), writer);
    ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    ck_assert(cl_wait_closed(c, 5000));
    cl_close(c);
    free(super);
    ck_assert(kicd_stop(&k));
}
END_TEST

/* A report waiting on storage (here: a lock) holds up no login, of that
 * supervisor's or anyone's: reports have a PostgreSQL session of their
 * own. Sixty connections of one supervisor's reports kept every tenant's
 * agents from logging in (found by a probe). */
START_TEST(a_slow_report_holds_up_no_login)
{
    Kicd k;
    kicd_init(&k, "slowrep", "[storage]\npg_timeout_s = 0\n");
    kicd_start(&k);
    char *super = h_user(&k, "slowrep", "sup", "supervisor", NULL, NULL);
    char *agent = h_user(&k, "other", "a1", "agent", "a1", NULL);
    Client *c = cl_session(k.port, super);
    cl_close(cl_session(k.port, agent)); /* its tenant loaded (that reads calls) */
    PGconn *locker = h_db_lock_report_tables(k.conninfo);
    send_report(c, 0);
    h_db_await_lock_wait(k.conninfo);
    /* answered while the report still waits: before, the logins waited
     * behind it until kicd closed them (login_timeout_s) */
    Client *a = cl_session(k.port, agent); /* another tenant */
    Client *s2 = cl_session(k.port, super); /* the same supervisor */
    cl_close(a);
    cl_close(s2);
    h_db_unlock(locker);
    json_t *r = cl_recv(c, 30000);
    ck_assert_int_eq(json_integer_value(json_object_get(r, "id")), 0);
    ck_result(r);
    json_decref(r);
    cl_close(c);
    free(super);
    free(agent);
    ck_assert(kicd_stop(&k));
}
END_TEST

/* Answers go out in request order: those finished behind a slow one (a
 * report waiting for a lock) wait in kicd's memory. They count against
 * the output cap, so a client pipelining quick requests behind it is
 * read no further (it grew kicd by ~60 MB a second, found by a probe),
 * and every answer still comes, in order, once the slow one is done. */
START_TEST(answers_held_behind_a_slow_one_are_bounded)
{
    enum { N = 40000 };
    Kicd k;
    kicd_init(&k, "held", "[limits]\noutput_buffer = 65536\n[storage]\npg_timeout_s = 0\n");
    kicd_start(&k);
    char *super = h_user(&k, "held", "sup", "supervisor", NULL, NULL);
    Client *c = cl_session(k.port, super);
    PGconn *locker = h_db_lock_report_tables(k.conninfo);
    long before = rss_kb(k.pid);
    send_report(c, 0);
    h_db_await_lock_wait(k.conninfo);
    /* the quick ones, from a child: kicd may stop reading them */
    pid_t writer = write_from_child(c, "stats.live", 1, N);
    /* until the child has written them all, or kicd has grown, or 5 s */
    int status, done = 0;
    for (int i = 0; i < 250 && !done && rss_kb(k.pid) - before < 16 * 1024; i++) {
        done = waitpid(writer, &status, WNOHANG) == writer;
        usleep(20000);
    }
    for (int i = 0; i < 50 && rss_kb(k.pid) - before < 16 * 1024; i++)
        usleep(20000); /* what was read is being answered */
    long grown = rss_kb(k.pid) - before;
    ck_assert_msg(grown < 8 * 1024, "kicd grew by %ld kB holding answers", grown);
    h_db_unlock(locker);
    json_t *r = cl_recv(c, 30000);
    ck_assert_int_eq(json_integer_value(json_object_get(r, "id")), 0);
    ck_result(r);
    json_decref(r);
    for (int i = 1; i <= N; i++) {
        r = cl_recv(c, 30000);
        ck_assert_msg(r && json_integer_value(json_object_get(r, "id")) == i, "answer %d", i);
        ck_result(r);
        json_decref(r);
    }
    if (!done)
        ck_assert_int_eq(waitpid(writer, &status, 0), writer);
    ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    cl_close(c);
    free(super);
    ck_assert(kicd_stop(&k));
}
END_TEST

int main(void)
{
    kicd_init(&kicd, "protocol", "[limits]\nlogin_timeout_s = 1\n");
    kicd_start(&kicd);
    bridge_token = h_user(&kicd, "proto", "pbx", "bridge", NULL, NULL);
    agent_token = h_user(&kicd, "proto", "a.jansen", "agent", NULL, "kic");
    super_token = h_user(&kicd, "proto", "s.devries", "supervisor", NULL, NULL);

    Suite *s = suite_create("protocol");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, login_returns_the_session);
    tcase_add_test(tc, bad_token_is_refused);
    tcase_add_test(tc, five_bad_tokens_close_the_connection);
    tcase_add_test(tc, anything_before_login_is_32001);
    tcase_add_test(tc, unknown_method_after_login_is_32601);
    tcase_add_test(tc, server_info_and_ping_for_every_role);
    tcase_add_test(tc, second_login_is_a_conflict_and_logout_ends_the_session);
    tcase_add_test(tc, revoked_token_cannot_log_in);
    tcase_add_test(tc, invalid_json_is_32700_and_the_connection_survives);
    tcase_add_test(tc, invalid_requests_are_32600);
    tcase_add_test(tc, nesting_deeper_than_16_is_refused);
    tcase_add_test(tc, batches_answer_in_order_as_one_array);
    tcase_add_test(tc, batch_limits);
    tcase_add_test(tc, notifications_get_no_reply);
    tcase_add_test(tc, pipelined_requests_come_back_in_order);
    tcase_add_test(tc, oversized_line_after_login_is_answered_then_closed);
    tcase_add_test(tc, line_cap_before_login_is_16k);
    tcase_add_test(tc, a_hundred_bad_lines_in_a_row_disconnect);
    tcase_add_test(tc, params_by_position_are_refused_in_their_turn);
    tcase_add_test(tc, crlf_and_blank_lines_are_tolerated);
    tcase_add_test(tc, bytes_split_anywhere_make_the_same_requests);
    tcase_add_test(tc, silent_connection_is_closed_after_login_timeout);
    tcase_add_test(tc, client_half_close_still_gets_its_answers);
    tcase_add_test(tc, answers_held_behind_a_slow_one_are_bounded);
    tcase_add_test(tc, a_slow_report_holds_up_no_login);
    tcase_add_test(tc, sigterm_answers_what_was_sent_but_not_read);
    tcase_add_test(tc, sigterm_answers_a_flood_as_it_is_read);
    suite_add_tcase(s, tc);
    return h_run_suite(s, &kicd);
}
