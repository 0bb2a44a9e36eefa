/* kicd over HTTP (proto/HTTP.md) against a real kicd and PostgreSQL:
 * /healthz, /metrics (checked by promtool), the API's tokens and roles,
 * /api/v1/live equal to stats.live, reports as JSON and CSV equal to
 * report.query, the event stream (first snapshot, a change, keepalive,
 * a revoked token, a client that stops reading), and what is not there. */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "harness.h"

static Kicd kicd;

typedef struct Org {
    const char *name;
    char *bridge, *agent, *super;
} Org;

static Org org(const char *base)
{
    Org o;
    o.name = strdup(h_tenant(base));
    o.bridge = h_user(&kicd, o.name, "pbx", "bridge", NULL, NULL);
    o.agent = h_user(&kicd, o.name, "a.jansen", "agent", NULL, "kic");
    o.super = h_user(&kicd, o.name, "s.bakker", "supervisor", NULL, NULL);
    return o;
}

/* ---- a small HTTP/1.1 client ---- */

typedef struct Resp {
    int status;
    char *head; /* status line and headers */
    char *body;
} Resp;

static void resp_free(Resp *r)
{
    free(r->head);
    free(r->body);
}

static int tcp_connect(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ck_assert_msg(connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0, "connect: %s", strerror(errno));
    return fd;
}

static int http_open_at(int port, const char *method, const char *path, const char *token)
{
    int fd = tcp_connect(port);
    char req[2048];
    int n = snprintf(req, sizeof(req), "%s %s HTTP/1.1\r\nHost: localhost\r\n%s%s%sConnection: close\r\n\r\n",
                     method, path, token ? "Authorization: Bearer " : "", token ? token : "",
                     token ? "\r\n" : "");
    ck_assert(write(fd, req, (size_t)n) == n);
    return fd;
}

static int http_open(const char *method, const char *path, const char *token)
{
    return http_open_at(kicd.http_port, method, path, token);
}

/* What the server sends until it closes; NULL if it closes at once. */
static char *read_to_close(int fd, const char *what)
{
    size_t len = 0, cap = 65536;
    char *buf = malloc(cap);
    for (;;) {
        struct pollfd p = {fd, POLLIN, 0};
        ck_assert_msg(poll(&p, 1, 10000) == 1, "no answer to %s", what);
        if (len + 4096 > cap)
            buf = realloc(buf, cap *= 2);
        ssize_t got = read(fd, buf + len, cap - len - 1);
        if (got <= 0)
            break;
        len += (size_t)got;
    }
    close(fd);
    buf[len] = '\0';
    if (len == 0) {
        free(buf);
        return NULL;
    }
    return buf;
}

/* One request; reads until the server closes (Connection: close). */
static Resp http_do(const char *method, const char *path, const char *token)
{
    char *buf = read_to_close(http_open(method, path, token), path);
    ck_assert_msg(buf, "%s: closed without an answer", path);
    Resp r = {0};
    char *end = strstr(buf, "\r\n\r\n");
    ck_assert_msg(end, "no header end: %s", buf);
    *end = '\0';
    r.head = strdup(buf);
    r.body = strdup(end + 4);
    ck_assert_int_eq(sscanf(buf, "HTTP/1.1 %d", &r.status), 1);
    free(buf);
    return r;
}

static Resp get(const char *path, const char *token)
{
    return http_do("GET", path, token);
}

static bool has_header(const Resp *r, const char *line)
{
    return strcasestr(r->head, line) != NULL;
}

static json_t *body_json(const Resp *r)
{
    json_t *v = json_loads(r->body, 0, NULL);
    ck_assert_msg(v, "not JSON: %.200s", r->body);
    return v;
}

static int error_code(const Resp *r)
{
    json_t *v = body_json(r);
    int code = (int)json_integer_value(json_object_get(json_object_get(v, "error"), "code"));
    json_decref(v);
    return code;
}

/* ---- operations ---- */

START_TEST(healthz_and_metrics)
{
    Org o = org("ops");
    Client *b = cl_session(kicd.port, o.bridge);
    json_t *r = cl_call(b, "call.offered", "{\"event_id\":\"m1\",\"call_id\":\"m1\",\"at\":\"%s\",\"queue\":\"thuis\\\"zorg\"}", h_at(h_today(10), 0));
    ck_result(r);
    json_decref(r);
    ck_assert_rpc_error(cl_call(b, "call.offered", "{\"event_id\":\"m2\"}"), -32602);
    Resp h = get("/healthz", NULL);
    ck_assert_int_eq(h.status, 200);
    json_t *v = body_json(&h);
    ck_assert_str_eq(json_string_value(json_object_get(v, "status")), "ok");
    ck_assert_str_eq(json_string_value(json_object_get(v, "postgres")), "up");
    ck_assert(json_is_integer(json_object_get(v, "journal_backlog")));
    json_decref(v);
    resp_free(&h);
    Resp m = get("/metrics", NULL);
    ck_assert_int_eq(m.status, 200);
    ck_assert(has_header(&m, "Content-Type: text/plain; version=0.0.4"));
    ck_assert_ptr_nonnull(strstr(m.body, "kicd_events_total{result=\"accepted\"} "));
    ck_assert_ptr_nonnull(strstr(m.body, "kicd_events_total{result=\"rejected\"} "));
    ck_assert_ptr_nonnull(strstr(m.body, "kicd_connections{role=\"bridge\"} 1"));
    ck_assert_ptr_nonnull(strstr(m.body, "kicd_commit_seconds_bucket{le=\"+Inf\"}"));
    ck_assert_ptr_nonnull(strstr(m.body, "kicd_batch_size_count"));
    /* the queue's name with a quote, escaped as the format says */
    ck_assert_ptr_nonnull(strstr(m.body, "queue=\"thuis\\\"zorg\"} 1"));
    /* promtool (Debian's prometheus package) agrees it is valid */
    char path[512];
    snprintf(path, sizeof(path), "%s/metrics.txt", kicd.dir);
    FILE *f = fopen(path, "w");
    fputs(m.body, f);
    fclose(f);
    char cmd[700], *out = NULL;
    snprintf(cmd, sizeof(cmd), "promtool check metrics < %s 2>&1", path);
    const char *argv[] = {"/bin/sh", "-c", cmd, NULL};
    int rc = h_run(&out, argv, NULL);
    ck_assert_msg(rc == 0, "promtool check metrics (run scripts/bootstrap): %s", out ? out : "");
    free(out);
    resp_free(&m);
    cl_close(b);
}
END_TEST

/* ---- tokens and roles ---- */

START_TEST(api_needs_a_supervisors_token)
{
    Org o = org("auth");
    Resp r = get("/api/v1/live", NULL);
    ck_assert_int_eq(r.status, 401);
    ck_assert(has_header(&r, "WWW-Authenticate: Bearer"));
    ck_assert_int_eq(error_code(&r), -32001);
    resp_free(&r);
    r = get("/api/v1/live", "kic_not_a_token");
    ck_assert_int_eq(r.status, 401);
    resp_free(&r);
    r = get("/api/v1/live", o.agent);
    ck_assert_int_eq(r.status, 403);
    ck_assert_int_eq(error_code(&r), -32003);
    resp_free(&r);
    r = get("/api/v1/report?from=2026-11-01T00:00:00Z&to=2026-11-02T00:00:00Z&interval=1d", o.bridge);
    ck_assert_int_eq(r.status, 403);
    resp_free(&r);
    r = get("/api/v1/live", o.super);
    ck_assert_int_eq(r.status, 200);
    ck_assert(has_header(&r, "Cache-Control: no-store"));
    resp_free(&r);
    /* revoked: forgotten at once, though it was just used */
    ck_assert_int_eq(h_kicctl(&kicd, NULL, "user", "revoke", "--tenant", o.name, "--name", "s.bakker", NULL), 0);
    int status = 200;
    for (int i = 0; i < 50 && status == 200; i++) {
        r = get("/api/v1/live", o.super);
        status = r.status;
        resp_free(&r);
        if (status == 200)
            usleep(100000);
    }
    ck_assert_int_eq(status, 401);
}
END_TEST

/* ---- the same numbers as over JSON-RPC ---- */

START_TEST(live_and_report_equal_the_protocols)
{
    Org o = org("same");
    Client *b = cl_session(kicd.port, o.bridge), *s = cl_session(kicd.port, o.super);
    KicTime t0 = h_today(600);
    for (int i = 0; i < 6; i++) {
        json_t *r = cl_call(b, "call.offered", "{\"event_id\":\"o%d\",\"call_id\":\"c%d\",\"at\":\"%s\",\"queue\":\"%s\",\"location\":\"gorinchem, centrum\"}",
                            i, i, h_at(t0, i * 30), i % 2 ? "thuiszorg" : "wijkverpleging");
        ck_result(r);
        json_decref(r);
        if (i % 3 == 0)
            continue;
        r = cl_call(b, "call.answered", "{\"event_id\":\"a%d\",\"call_id\":\"c%d\",\"at\":\"%s\",\"agent\":\"a.jansen\"}", i, i, h_at(t0, i * 30 + 12));
        ck_result(r);
        json_decref(r);
    }
    json_t *live = cl_call(s, "stats.live", NULL);
    Resp r = get("/api/v1/live", o.super);
    ck_assert_int_eq(r.status, 200);
    json_t *hl = body_json(&r);
    json_t *a = json_object_get(ck_result(live), "total"), *h = json_object_get(hl, "total");
    ck_assert_int_eq(json_integer_value(json_object_get(h, "offered")), 6);
    ck_assert(json_equal(json_object_get(a, "sums"), json_object_get(h, "sums")));
    ck_assert(json_equal(json_object_get(ck_result(live), "queues"), json_object_get(hl, "queues")) ||
              json_array_size(json_object_get(hl, "queues")) == 2);
    json_decref(hl);
    json_decref(live);
    resp_free(&r);
    r = get("/api/v1/live?queues=thuiszorg", o.super);
    hl = body_json(&r);
    ck_assert_uint_eq(json_array_size(json_object_get(hl, "queues")), 1);
    json_decref(hl);
    resp_free(&r);
    /* a report: JSON as report.query gives it, CSV of the same table */
    char from[40], to[40], path[512];
    KicTime day = time_local_day_start(h_today(0));
    time_format_local(day, from, sizeof(from));
    time_format_local(time_add_local_days(day, 1), to, sizeof(to));
    json_t *rq = cl_call(s, "report.query", "{\"from\":\"%s\",\"to\":\"%s\",\"interval\":\"1h\",\"group_by\":[\"queue\",\"location\"]}", from, to);
    /* the offsets as the local times have them ("+01:00" or "+02:00") */
    snprintf(path, sizeof(path), "/api/v1/report?from=%.19s%%2B%s&to=%.19s%%2B%s&interval=1h&group_by=queue,location",
             from, strrchr(from, '+') ? strrchr(from, '+') + 1 : "00:00", to,
             strrchr(to, '+') ? strrchr(to, '+') + 1 : "00:00");
    r = get(path, o.super);
    ck_assert_msg(r.status == 200, "%d %s", r.status, r.body);
    json_t *hr = body_json(&r);
    ck_assert(json_equal(json_object_get(ck_result(rq), "rows"), json_object_get(hr, "rows")));
    ck_assert(json_equal(json_object_get(ck_result(rq), "columns"), json_object_get(hr, "columns")));
    json_decref(hr);
    resp_free(&r);
    char csvpath[600];
    snprintf(csvpath, sizeof(csvpath), "%s&format=csv", path);
    r = get(csvpath, o.super);
    ck_assert_int_eq(r.status, 200);
    ck_assert(has_header(&r, "Content-Type: text/csv"));
    ck_assert(has_header(&r, "Content-Disposition: attachment"));
    /* header line: the columns; then one line per row; the location with
     * a comma is quoted */
    json_t *cols = json_object_get(ck_result(rq), "columns");
    char *nl = strchr(r.body, '\n');
    ck_assert_ptr_nonnull(nl);
    ck_assert_int_eq(strncmp(r.body, "queue,location,interval_start,offered,", 38), 0);
    size_t commas = 0;
    for (char *p = r.body; p < nl; p++)
        commas += *p == ',';
    ck_assert_uint_eq(commas + 1, json_array_size(cols));
    size_t lines = 0;
    for (char *p = r.body; *p; p++)
        lines += *p == '\n';
    ck_assert_uint_eq(lines, 1 + json_array_size(json_object_get(ck_result(rq), "rows")));
    ck_assert_ptr_nonnull(strstr(r.body, "\"gorinchem, centrum\""));
    resp_free(&r);
    json_decref(rq);
    /* bad params: 400 naming the field */
    r = get("/api/v1/report?from=gisteren&to=2026-11-02T00:00:00Z&interval=1d", o.super);
    ck_assert_int_eq(r.status, 400);
    json_t *e = body_json(&r);
    ck_assert_str_eq(json_string_value(json_object_get(json_object_get(json_object_get(e, "error"), "data"), "field")), "from");
    json_decref(e);
    resp_free(&r);
    const char *bad[] = {"/api/v1/report?from=2026-11-01T00:00:00Z&to=2026-11-02T00:00:00Z",
                         "/api/v1/report?from=2026-11-01T00:00:00Z&to=2026-11-02T00:00:00Z&interval=1d&group_by=postcode",
                         "/api/v1/report?from=2026-11-01T00:00:00Z&to=2026-11-02T00:00:00Z&interval=1d&format=xml",
                         "/api/v1/report?from=2026-11-01T00:00:00Z&to=2026-11-02T00:00:00Z&interval=1d&tz=Mars/Base",
                         "/api/v1/live/stream?interval_ms=100", "/api/v1/live/stream?interval_ms=soon",
                         "/api/v1/report?from=%ff&to=x&interval=1d",
                         /* a list item that is not UTF-8, a NUL, a name twice: never
                          * quietly a different report (review 3b F3) */
                         "/api/v1/report?from=2026-11-01T00:00:00Z&to=2026-11-02T00:00:00Z&interval=1d&group_by=agent%ff",
                         "/api/v1/report?from=2026-11-01T00:00:00Z&to=2026-11-02T00:00:00Z&interval=1d&group_by=agent,%ff",
                         "/api/v1/report?from=2026-11-01T00:00:00Z&to=2026-11-02T00:00:00Z&interval=1d&group_by=agent%00x",
                         "/api/v1/report?from=2026-11-01T00:00:00Z&to=2026-11-02T00:00:00Z&interval=1d&group_by=queue&group_by=agent",
                         "/api/v1/live?queues=q1%00zzz",
                         "/api/v1/live/stream?interval_ms=1000&interval_ms=2000", "/api/v1/live?&&"};
    /* each names what it refused (the query string's own faults too) */
    const char *fields[] = {"interval", "group_by", "format", "tz", "interval_ms", "interval_ms",
                            "from", "group_by", "group_by", "group_by", "group_by", "queues",
                            "interval_ms", "query"};
    ck_assert_uint_eq(sizeof(bad) / sizeof(*bad), sizeof(fields) / sizeof(*fields));
    for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
        r = get(bad[i], o.super);
        ck_assert_msg(r.status == 400, "%s: %d", bad[i], r.status);
        ck_assert_int_eq(error_code(&r), -32602);
        e = body_json(&r);
        const char *field = json_string_value(json_object_get(json_object_get(json_object_get(e, "error"), "data"), "field"));
        ck_assert_msg(field && strcmp(field, fields[i]) == 0, "%s: field %s", bad[i], field ? field : "none");
        json_decref(e);
        resp_free(&r);
    }
    /* two Authorization headers: which identity was meant? */
    int fd = tcp_connect(kicd.http_port);
    char req[1024];
    int n = snprintf(req, sizeof(req), "GET /api/v1/live HTTP/1.1\r\nHost: localhost\r\n"
                     "Authorization: Bearer %s\r\nAuthorization: Bearer kic_bogus\r\nConnection: close\r\n\r\n",
                     o.super);
    ck_assert(write(fd, req, (size_t)n) == n);
    char *got = read_to_close(fd, "two Authorization headers");
    ck_assert_msg(got && strncmp(got, "HTTP/1.1 401", 12) == 0, "%s", got ? got : "(nothing)");
    free(got);
    cl_close(b);
    cl_close(s);
}
END_TEST

/* ---- the event stream ---- */

/* Reads from the stream until `needle` has appeared `times` times since
 * the start; returns what was read. */
static char *read_until(int fd, const char *needle, int times, int timeout_ms)
{
    size_t len = 0, cap = 1 << 16;
    char *buf = malloc(cap);
    buf[0] = '\0';
    for (int waited = 0; waited < timeout_ms; waited += 50) {
        int seen = 0;
        for (char *p = buf; (p = strstr(p, needle)); p++)
            seen++;
        if (seen >= times)
            return buf;
        struct pollfd p = {fd, POLLIN, 0};
        if (poll(&p, 1, 50) != 1)
            continue;
        if (len + 8192 > cap)
            buf = realloc(buf, cap *= 2);
        ssize_t got = read(fd, buf + len, cap - len - 1);
        if (got <= 0)
            break;
        len += (size_t)got;
        buf[len] = '\0';
    }
    return buf;
}

START_TEST(the_stream_pushes_snapshots)
{
    Org o = org("stream");
    Client *b = cl_session(kicd.port, o.bridge);
    int fd = http_open("GET", "/api/v1/live/stream?interval_ms=250", o.super);
    char *got = read_until(fd, "event: stats\n", 1, 3000);
    ck_assert_ptr_nonnull(strstr(got, "HTTP/1.1 200"));
    ck_assert_ptr_nonnull(strcasestr(got, "Content-Type: text/event-stream"));
    ck_assert_ptr_nonnull(strcasestr(got, "X-Content-Type-Options: nosniff"));
    ck_assert_ptr_nonnull(strstr(got, "data: {\"at\":"));
    ck_assert_ptr_nonnull(strstr(got, "\"offered\":0"));
    free(got);
    json_t *r = cl_call(b, "call.offered", "{\"event_id\":\"s1\",\"call_id\":\"s1\",\"at\":\"%s\",\"queue\":\"q\"}", h_at(h_today(5), 0));
    ck_result(r);
    json_decref(r);
    got = read_until(fd, "\"offered\":1", 1, 3000);
    ck_assert_ptr_nonnull(strstr(got, "\"offered\":1"));
    free(got);
    /* revoking the token ends the stream */
    ck_assert_int_eq(h_kicctl(&kicd, NULL, "user", "revoke", "--tenant", o.name, "--name", "s.bakker", NULL), 0);
    char buf[4096];
    ssize_t n = 1;
    for (int i = 0; i < 100 && n > 0; i++) {
        struct pollfd p = {fd, POLLIN, 0};
        if (poll(&p, 1, 100) == 1)
            n = read(fd, buf, sizeof(buf));
    }
    ck_assert_msg(n <= 0, "the stream outlived its token");
    close(fd);
    cl_close(b);
}
END_TEST

START_TEST(a_stream_nobody_reads_is_dropped)
{
    Org o = org("slowsse");
    Client *b = cl_session(kicd.port, o.bridge);
    KicTime t0 = h_today(60);
    for (int i = 0; i < 300; i++) {
        json_t *r = cl_call(b, "call.offered", "{\"event_id\":\"w%d\",\"call_id\":\"w%d\",\"at\":\"%s\",\"queue\":\"wachtrij-nummer-%03d\"}", i, i, h_at(t0, 0), i);
        ck_result(r);
        json_decref(r);
    }
    int fd = http_open("GET", "/api/v1/live/stream?interval_ms=250", o.super);
    /* new calls keep coming: an update every interval */
    for (int i = 0; i < 300 && !kicd_log_contains(&kicd, "event stream over"); i++) {
        json_t *r = cl_call(b, "call.offered", "{\"event_id\":\"n%d\",\"call_id\":\"n%d\",\"at\":\"%s\",\"queue\":\"wachtrij-nummer-000\"}", i, i, h_at(h_today(1), 0));
        ck_result(r);
        json_decref(r);
        usleep(100000);
    }
    ck_assert(kicd_log_contains(&kicd, "event stream over"));
    /* it ends (after what the kernel had buffered), and kicd serves on */
    char buf[65536];
    ssize_t n = 1;
    for (int i = 0; i < 2000 && n > 0; i++) {
        struct pollfd p = {fd, POLLIN, 0};
        if (poll(&p, 1, 100) == 1)
            n = read(fd, buf, sizeof(buf));
    }
    ck_assert(n <= 0);
    close(fd);
    Resp h = get("/healthz", NULL);
    ck_assert_int_eq(h.status, 200);
    resp_free(&h);
    cl_close(b);
}
END_TEST

START_TEST(what_is_not_there)
{
    Resp r = get("/nope", NULL);
    ck_assert_int_eq(r.status, 404);
    resp_free(&r);
    r = get("/static/../server/kicd", NULL);
    ck_assert_int_eq(r.status, 404);
    resp_free(&r);
    r = get("/api/v1/nope", NULL);
    ck_assert(r.status == 404 || r.status == 401);
    resp_free(&r);
    r = http_do("POST", "/api/v1/live", NULL);
    ck_assert(r.status == 405 || r.status == 501); /* libevent says 501 */
    resp_free(&r);
    /* a request line that is not HTTP */
    int fd = http_open("BREW", "/pot", NULL);
    char buf[512];
    ssize_t n = read(fd, buf, sizeof(buf) - 1);
    ck_assert(n > 0);
    buf[n] = '\0';
    ck_assert_ptr_null(strstr(buf, "200 OK"));
    close(fd);
}
END_TEST

static bool closed_while_dribbling(int fd, const char *dribble, int limit_ms);

/* Over max_http_connections the connection waiting longest for a request
 * head makes room for the new one, so idle connections cannot keep a
 * supervisor out; when every one is being answered (event streams), the
 * new one is closed unanswered. JSON-RPC is not touched (proto/HTTP.md
 * "Limits"). */
START_TEST(http_connections_are_capped)
{
    Kicd k;
    kicd_init(&k, "http_cap", "[limits]\nmax_http_connections = 3\n");
    kicd_start(&k);
    Org o = {.name = h_tenant("httpcap")};
    o.super = h_user(&k, o.name, "s.bakker", "supervisor", NULL, NULL);
    int idle[3];
    for (int i = 0; i < 3; i++)
        idle[i] = tcp_connect(k.http_port);
    usleep(200 * 1000); /* accepted in that order */
    char *got = read_to_close(http_open_at(k.http_port, "GET", "/healthz", NULL), "over the cap");
    ck_assert_msg(got && strstr(got, "\"http_connections\":3"), "%s", got ? got : "not served");
    free(got);
    ck_assert_msg(closed_while_dribbling(idle[0], NULL, 3000), "the oldest idle one stayed");
    ck_assert_msg(!closed_while_dribbling(idle[1], NULL, 200), "a younger idle one went");
    ck_assert(kicd_log_shows(&k, "closed the HTTP connection idle longest to take a new one"));
    for (int i = 0; i < 3; i++)
        close(idle[i]);
    /* three event streams, each being answered: none makes room */
    int stream[3];
    for (int i = 0; i < 3; i++) {
        stream[i] = http_open_at(k.http_port, "GET", "/api/v1/live/stream?interval_ms=250", o.super);
        free(read_until(stream[i], "event: stats\n", 1, 3000));
    }
    got = read_to_close(http_open_at(k.http_port, "GET", "/healthz", NULL), "over the cap");
    ck_assert_msg(!got, "answered over the cap: %s", got);
    ck_assert(kicd_log_shows(&k, "refused an HTTP connection: 3 open (max_http_connections)"));
    Client *c = cl_session(k.port, h_user(&k, o.name, "pbx", "bridge", NULL, NULL));
    json_decref(ck_ok(cl_call(c, "server.ping", "{}")));
    /* a stream goes: the next request is served (once kicd has seen it go) */
    close(stream[0]);
    for (int tries = 0; !got && tries < 100; tries++) {
        got = read_to_close(http_open_at(k.http_port, "GET", "/healthz", NULL), "under the cap");
        if (!got)
            usleep(50 * 1000);
    }
    ck_assert_msg(got && strstr(got, "\"http_connections\":3"), "%s", got ? got : "never served");
    free(got);
    close(stream[1]);
    close(stream[2]);
    cl_close(c);
    ck_assert(kicd_stop(&k));
    free(o.super);
}
END_TEST

/* True once the server has closed fd (a read gives 0 or an error);
 * sends `dribble` every 200 ms meanwhile, for at most limit_ms. */
static bool closed_while_dribbling(int fd, const char *dribble, int limit_ms)
{
    for (int waited = 0; waited < limit_ms; waited += 200) {
        if (dribble && send(fd, dribble, strlen(dribble), MSG_NOSIGNAL) < 0)
            return true;
        struct pollfd p = {fd, POLLIN, 0};
        if (poll(&p, 1, 200) == 1) {
            char buf[4096];
            if (read(fd, buf, sizeof(buf)) <= 0)
                return true;
        }
    }
    return false;
}

/* One keep-alive request on an open connection; the answer's status. */
static int keepalive_get(int fd, const char *path)
{
    char req[256];
    int n = snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: localhost\r\n\r\n", path);
    ck_assert(write(fd, req, (size_t)n) == n);
    char *got = read_until(fd, "\r\n\r\n", 1, 5000);
    int status = 0;
    ck_assert_msg(sscanf(got, "HTTP/1.1 %d", &status) == 1, "no answer to %s: %s", path, got);
    char *lenh = strcasestr(got, "Content-Length:");
    size_t want = lenh ? strtoul(lenh + 15, NULL, 10) : 0;
    size_t have = strlen(strstr(got, "\r\n\r\n") + 4);
    free(got);
    for (char buf[4096]; have < want;) { /* the rest of the body */
        ssize_t r = read(fd, buf, sizeof(buf) < want - have ? sizeof(buf) : want - have);
        ck_assert(r > 0);
        have += (size_t)r;
    }
    return status;
}

/* evhttp's own timeout restarts with every byte, so a client sending a
 * header line now and then held its connection for ever. A connection
 * owes a whole request head within login_timeout_s of opening and of
 * each answer; one being answered (an event stream) owes nothing
 * (proto/HTTP.md "Limits"). */
START_TEST(a_request_head_sent_slowly_is_cut_off)
{
    Kicd k;
    kicd_init(&k, "http_head", "[limits]\nlogin_timeout_s = 2\n");
    kicd_start(&k);
    Org o = {.name = h_tenant("httphead")};
    o.super = h_user(&k, o.name, "s.bakker", "supervisor", NULL, NULL);
    int stream = http_open_at(k.http_port, "GET", "/api/v1/live/stream?interval_ms=250", o.super);
    free(read_until(stream, "event: stats\n", 1, 3000));
    /* a request line, then a header line every 200 ms: cut off */
    int slow = tcp_connect(k.http_port);
    ck_assert(write(slow, "GET /healthz HTTP/1.1\r\n", 23) == 23);
    ck_assert_msg(closed_while_dribbling(slow, "X-Pad: 1\r\n", 15000), "a slow head held on");
    close(slow);
    /* nothing at all: cut off too */
    int mute = tcp_connect(k.http_port);
    ck_assert_msg(closed_while_dribbling(mute, NULL, 15000), "a mute connection held on");
    close(mute);
    /* a keep-alive client asking every 700 ms is served on and on */
    int keep = tcp_connect(k.http_port);
    for (int i = 0; i < 6; i++) {
        ck_assert_int_eq(keepalive_get(keep, "/healthz"), 200);
        usleep(700 * 1000);
    }
    /* and once it stops asking, it is closed as a mute one */
    ck_assert_msg(closed_while_dribbling(keep, NULL, 15000), "an idle keep-alive held on");
    close(keep);
    /* the stream, open all along, still pushes */
    Client *b = cl_session(k.port, h_user(&k, o.name, "pbx", "bridge", NULL, NULL));
    json_decref(ck_ok(cl_call(b, "call.offered", "{\"event_id\":\"h1\",\"call_id\":\"h1\",\"at\":\"%s\",\"queue\":\"q\"}", h_at(h_today(5), 0))));
    char *got = read_until(stream, "\"offered\":1", 1, 3000);
    ck_assert_msg(strstr(got, "\"offered\":1"), "the stream was closed: %s", got);
    free(got);
    cl_close(b);
    close(stream);
    ck_assert(kicd_stop(&k));
}
END_TEST

int main(void)
{
    kicd_init(&kicd, "http", "[limits]\noutput_buffer = 65536\n");
    kicd_start(&kicd);
    Suite *s = suite_create("http");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 180);
    tcase_add_test(tc, healthz_and_metrics);
    tcase_add_test(tc, api_needs_a_supervisors_token);
    tcase_add_test(tc, live_and_report_equal_the_protocols);
    tcase_add_test(tc, the_stream_pushes_snapshots);
    tcase_add_test(tc, a_stream_nobody_reads_is_dropped);
    tcase_add_test(tc, what_is_not_there);
    tcase_add_test(tc, http_connections_are_capped);
    tcase_add_test(tc, a_request_head_sent_slowly_is_cut_off);
    suite_add_tcase(s, tc);
    return h_run_suite(s, &kicd);
}
