/* kic-bench-probe: latency probes of one client against kicd.
 *
 *   kic-bench-probe ping HOST:PORT TOKEN SECONDS RATE [METHOD]
 *       one request (server.ping, or METHOD without params) every 1/RATE s,
 *       each waited for: "n=.. p50_ms=.. p90_ms=.. p99_ms=.. max_ms=..".
 *   kic-bench-probe wrapup HOST:PORT BRIDGE_TOKEN AGENT_TOKEN AGENT COUNT RATE
 *       the bridge stores COUNT calls answered by AGENT and ended; then the
 *       agent wraps them up, one call.wrapup every 1/RATE s, each waited
 *       for: the percentiles of request to answer.
 *   kic-bench-probe push HOST:PORT BRIDGE_TOKEN SUPERVISOR_TOKEN SAMPLES quiet|busy
 *       a stats.subscribe subscriber (interval_ms 250); SAMPLES times, once
 *       the subscriber has been sent nothing for longer than the interval,
 *       the bridge sends one call.offered: the percentiles of the time from
 *       the bridge's ack to the stats.update whose total.offered shows it
 *       ("ack_to_update"), and from sending the event to that update
 *       ("send_to_update"). quiet: each call is abandoned in the same
 *       write, so none is left waiting; busy: calls are left waiting, and
 *       kicd then refreshes the subscriber every interval (the quiet spell
 *       is only waited for in quiet mode).
 *   kic-bench-probe serving HOST:PORT TOKEN START_EPOCH TIMEOUT_S
 *       tries to log in until kicd answers a login, and prints the seconds
 *       since START_EPOCH (wall clock, from `date +%s.%N`): "serving_s=..".
 *
 * Latencies are of a closed loop (one request in flight), so a stall
 * delays the next request rather than piling up behind it. */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "netio.h"

#define CATEGORY "informatie" /* one of a new tenant's default categories */

static void die(const char *what)
{
    fprintf(stderr, "kic-bench-probe: %s\n", what);
    exit(1);
}

/* Sleeps until the monotonic clock reaches t. */
static void sleep_until(double t)
{
    double d = t - clock_s();
    if (d <= 0)
        return;
    struct timespec ts = {(time_t)d, (long)((d - (double)(time_t)d) * 1e9)};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

/* A logged-in blocking connection. */
typedef struct Client {
    int fd;
    LineBuf in;
} Client;

static void client_open(Client *c, const char *addr, const char *token)
{
    c->fd = net_dial(addr, false);
    if (c->fd < 0)
        die("cannot connect to kicd");
    linebuf_init(&c->in, 1 << 16);
    if (!net_login(c->fd, &c->in, token))
        die("login refused");
}

static void client_send(Client *c, const char *line, size_t n)
{
    if (!net_send_all(c->fd, line, n))
        die("kicd closed the connection");
}

/* The next line that is an answer (has an "id"), skipping notifications. */
static char *client_answer(Client *c)
{
    for (;;) {
        char *line = net_read_line(c->fd, &c->in);
        if (!line)
            die("kicd closed the connection");
        if (strstr(line, "\"id\":"))
            return line;
    }
}

/* RFC 3339 UTC text of the wall clock plus offset_s. */
static void stamp(double offset_s, char *out, size_t n)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    double t = (double)ts.tv_sec + (double)ts.tv_nsec / 1e9 + offset_s;
    time_t s = (time_t)t;
    struct tm tm;
    gmtime_r(&s, &tm);
    char day[32];
    strftime(day, sizeof(day), "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(out, n, "%s.%03dZ", day, (int)((t - (double)s) * 1000));
}

/* Sends one request every 1/rate s for `seconds`, timing each answer. */
static int probe_ping(const char *addr, const char *token, double seconds, double rate,
                      const char *method)
{
    Client c;
    client_open(&c, addr, token);
    size_t total = (size_t)(seconds * rate);
    double *ms = calloc(total ? total : 1, sizeof(double));
    if (!ms)
        abort();
    double start = clock_s();
    for (size_t i = 0; i < total; i++) {
        sleep_until(start + (double)i / rate);
        char req[256];
        int n = snprintf(req, sizeof(req), "{\"jsonrpc\":\"2.0\",\"id\":%zu,\"method\":\"%s\"}\n",
                         i + 1, method);
        double t0 = clock_s();
        client_send(&c, req, (size_t)n);
        char *answer = client_answer(&c);
        ms[i] = (clock_s() - t0) * 1000.0;
        if (!strstr(answer, "\"result\""))
            fprintf(stderr, "%s: %.200s\n", method, answer);
    }
    latency_print("", ms, total);
    free(ms);
    return 0;
}

/* The three events of a call answered by `agent` a minute ago, into buf. */
static int answered_call_events(char *buf, size_t n, const char *call_id, const char *agent,
                                long id)
{
    char off[40], ans[40], end[40];
    stamp(-90, off, sizeof(off));
    stamp(-80, ans, sizeof(ans));
    stamp(-30, end, sizeof(end));
    return snprintf(
        buf, n,
        "{\"jsonrpc\":\"2.0\",\"id\":%ld,\"method\":\"call.offered\",\"params\":{\"event_id\":"
        "\"%s-off\",\"call_id\":\"%s\",\"at\":\"%s\",\"queue\":\"planning\",\"caller\":"
        "\"+31612345678\"}}\n"
        "{\"jsonrpc\":\"2.0\",\"id\":%ld,\"method\":\"call.answered\",\"params\":{\"event_id\":"
        "\"%s-ans\",\"call_id\":\"%s\",\"at\":\"%s\",\"agent\":\"%s\"}}\n"
        "{\"jsonrpc\":\"2.0\",\"id\":%ld,\"method\":\"call.ended\",\"params\":{\"event_id\":"
        "\"%s-end\",\"call_id\":\"%s\",\"at\":\"%s\",\"by\":\"caller\"}}\n",
        id, call_id, call_id, off, id + 1, call_id, call_id, ans, agent, id + 2, call_id, call_id,
        end);
}

/* Stores `count` ended calls of `agent` over the bridge, all acked. */
static void store_calls(Client *bridge, const char *run, const char *agent, size_t count)
{
    for (size_t i = 0; i < count; i++) {
        char call_id[64], buf[2048];
        snprintf(call_id, sizeof(call_id), "%s-%zu", run, i);
        int n = answered_call_events(buf, sizeof(buf), call_id, agent, (long)(3 * i + 1));
        client_send(bridge, buf, (size_t)n);
    }
    for (size_t i = 0; i < 3 * count; i++) {
        char *answer = client_answer(bridge);
        if (!strstr(answer, "\"accepted\":true"))
            fprintf(stderr, "event: %.200s\n", answer);
    }
}

static int probe_wrapup(const char *addr, const char *bridge_token, const char *agent_token,
                        const char *agent, size_t count, double rate)
{
    Client bridge, desk;
    client_open(&bridge, addr, bridge_token);
    client_open(&desk, addr, agent_token);
    char run[32];
    snprintf(run, sizeof(run), "wr%ld-%d", (long)time(NULL), (int)getpid());
    store_calls(&bridge, run, agent, count);
    double *ms = calloc(count ? count : 1, sizeof(double));
    if (!ms)
        abort();
    size_t failed = 0;
    double start = clock_s();
    for (size_t i = 0; i < count; i++) {
        sleep_until(start + (double)i / rate);
        char req[512];
        int n = snprintf(req, sizeof(req),
                         "{\"jsonrpc\":\"2.0\",\"id\":%zu,\"method\":\"call.wrapup\",\"params\":"
                         "{\"call_id\":\"%s-%zu\",\"category\":\"" CATEGORY "\",\"resolved\":true}}\n",
                         i + 1, run, i);
        double t0 = clock_s();
        client_send(&desk, req, (size_t)n);
        char *answer = client_answer(&desk);
        ms[i] = (clock_s() - t0) * 1000.0;
        if (!strstr(answer, "\"acw_seconds\"") && failed++ < 5)
            fprintf(stderr, "call.wrapup: %.200s\n", answer);
    }
    latency_print("", ms, count);
    free(ms);
    return failed ? 1 : 0;
}

/* total.offered of a stats.update line, or -1 when it is not one. */
static long update_offered(const char *line)
{
    if (!strstr(line, "\"stats.update\""))
        return -1;
    const char *total = strstr(line, "\"total\":");
    const char *offered = total ? strstr(total, "\"offered\":") : NULL;
    return offered ? strtol(offered + strlen("\"offered\":"), NULL, 10) : -1;
}

/* Reads the subscriber's pending lines; returns the highest offered seen
 * in them (or `seen` if none). */
static long drain_updates(Client *sub, long seen, double *at)
{
    long r = linebuf_fill(&sub->in, sub->fd);
    if (r == 0 || (r < 0 && errno != EINTR))
        die("kicd closed the subscriber");
    char *line;
    while ((line = linebuf_next(&sub->in))) {
        long offered = update_offered(line);
        if (offered > seen) {
            seen = offered;
            *at = clock_s();
        }
    }
    return seen;
}

/* Reads the subscriber for `spell_s`, or (quiet) until it has been sent
 * nothing for `spell_s`; returns the offered count. */
static long wait_spell(Client *sub, long seen, double spell_s, bool quiet)
{
    double began = clock_s(), last = began, at;
    for (double left; (left = last + spell_s - clock_s()) > 0;) {
        if (clock_s() - began > 30)
            die("the subscriber is never quiet: a call is still waiting in this tenant");
        struct pollfd p = {sub->fd, POLLIN, 0};
        if (poll(&p, 1, (int)(left * 1000) + 1) > 0) {
            seen = drain_updates(sub, seen, &at);
            if (quiet)
                last = clock_s();
        }
    }
    return seen;
}

/* One sample: sends a call.offered (and, when `abandon`, its abandon in
 * the same write, so no call is left waiting) and waits for the offer's
 * ack and the update showing it; false on a 5 s timeout. */
static bool push_sample(Client *bridge, Client *sub, long *seen, long i, bool abandon,
                        double *ack_to_update, double *send_to_update)
{
    char at[40], req[1024];
    stamp(0, at, sizeof(at));
    int pid = (int)getpid();
    int n = snprintf(req, sizeof(req),
                     "{\"jsonrpc\":\"2.0\",\"id\":%ld,\"method\":\"call.offered\",\"params\":"
                     "{\"event_id\":\"push%d-%ld\",\"call_id\":\"push%d-%ld\",\"at\":\"%s\","
                     "\"queue\":\"planning\"}}\n",
                     2 * i, pid, i, pid, i, at);
    if (abandon)
        n += snprintf(req + n, sizeof(req) - (size_t)n,
                      "{\"jsonrpc\":\"2.0\",\"id\":%ld,\"method\":\"call.abandoned\",\"params\":"
                      "{\"event_id\":\"push%d-%ld-abn\",\"call_id\":\"push%d-%ld\",\"at\":\"%s\"}}\n",
                      2 * i + 1, pid, i, pid, i, at);
    char first_id[32];
    snprintf(first_id, sizeof(first_id), "\"id\":%ld,", 2 * i);
    double sent = clock_s(), acked = 0, updated = 0;
    client_send(bridge, req, (size_t)n);
    while ((!acked || !updated) && clock_s() - sent < 5.0) {
        struct pollfd p[2] = {{bridge->fd, POLLIN, 0}, {sub->fd, POLLIN, 0}};
        if (poll(p, 2, 100) <= 0)
            continue;
        if (p[0].revents) {
            if (linebuf_fill(&bridge->in, bridge->fd) <= 0)
                die("kicd closed the bridge");
            for (char *line; (line = linebuf_next(&bridge->in));)
                if (strstr(line, first_id))
                    acked = clock_s();
        }
        if (p[1].revents)
            *seen = drain_updates(sub, *seen, &updated);
    }
    if (!acked || !updated)
        return false;
    /* an update that came before the ack counts as 0: the subscriber
     * saw the call no later than the bridge heard it was stored */
    *ack_to_update = updated > acked ? (updated - acked) * 1000.0 : 0.0;
    *send_to_update = (updated - sent) * 1000.0;
    return true;
}

/* Busy mode leaves its calls waiting: abandons them all, so the tenant
 * is quiet again for whatever runs next. */
static void abandon_waiting(Client *bridge, size_t samples)
{
    char at[40], req[512];
    stamp(0, at, sizeof(at));
    int pid = (int)getpid();
    for (size_t i = 1; i <= samples; i++) {
        int n = snprintf(req, sizeof(req),
                         "{\"jsonrpc\":\"2.0\",\"id\":\"end%zu\",\"method\":\"call.abandoned\","
                         "\"params\":{\"event_id\":\"push%d-%zu-abn\",\"call_id\":\"push%d-%zu\","
                         "\"at\":\"%s\"}}\n",
                         i, pid, i, pid, i, at);
        client_send(bridge, req, (size_t)n);
    }
    for (size_t i = 1; i <= samples; i++)
        client_answer(bridge);
}

static int probe_push(const char *addr, const char *bridge_token, const char *super_token,
                      size_t samples, bool busy)
{
    Client bridge, sub;
    client_open(&bridge, addr, bridge_token);
    client_open(&sub, addr, super_token);
    static const char subscribe[] =
        "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"stats.subscribe\",\"params\":{\"interval_ms\":250}}\n";
    client_send(&sub, subscribe, strlen(subscribe));
    if (!strstr(client_answer(&sub), "\"result\""))
        die("stats.subscribe refused");
    double *ack_ms = calloc(samples + 1, sizeof(double));
    double *send_ms = calloc(samples + 1, sizeof(double));
    if (!ack_ms || !send_ms)
        abort();
    long seen = -1;
    size_t n = 0, lost = 0;
    for (size_t i = 0; i < samples; i++) {
        /* quiet for longer than the interval: kicd then pushes right after
         * the commit. Busy, a call is always waiting and kicd refreshes
         * every interval: wait spells that fall at every phase of it. */
        if (busy)
            seen = wait_spell(&sub, seen, 0.3 + 0.025 * (double)(i % 10), false);
        else
            seen = wait_spell(&sub, seen, 0.35, true);
        if (push_sample(&bridge, &sub, &seen, (long)i + 1, !busy, &ack_ms[n], &send_ms[n]))
            n++;
        else
            lost++;
    }
    if (busy)
        abandon_waiting(&bridge, samples);
    printf("lost=%zu\n", lost);
    latency_print("ack_to_update ", ack_ms, n);
    latency_print("send_to_update ", send_ms, n);
    free(ack_ms);
    free(send_ms);
    return lost ? 1 : 0;
}

static double wall_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* One attempt to log in; true when kicd answered with a result. */
static bool try_login(const char *addr, const char *token)
{
    int fd = net_dial(addr, false);
    if (fd < 0)
        return false;
    LineBuf in;
    linebuf_init(&in, 4096);
    char req[512];
    int n = net_login_line(req, sizeof(req), token, 1);
    bool ok = false;
    if (net_send_all(fd, req, (size_t)n)) {
        char *line = net_read_line(fd, &in);
        ok = line && strstr(line, "\"result\"");
    }
    linebuf_free(&in);
    close(fd);
    return ok;
}

static int probe_serving(const char *addr, const char *token, double start_epoch, double timeout)
{
    while (!try_login(addr, token)) {
        if (wall_s() - start_epoch > timeout)
            die("kicd did not answer a login in time");
        sleep_until(clock_s() + 0.002);
    }
    printf("serving_s=%.3f\n", wall_s() - start_epoch);
    return 0;
}

int main(int argc, char **argv)
{
    if ((argc == 6 || argc == 7) && !strcmp(argv[1], "ping"))
        return probe_ping(argv[2], argv[3], atof(argv[4]), atof(argv[5]),
                          argc == 7 ? argv[6] : "server.ping");
    if (argc == 8 && !strcmp(argv[1], "wrapup"))
        return probe_wrapup(argv[2], argv[3], argv[4], argv[5], (size_t)atol(argv[6]),
                            atof(argv[7]));
    if (argc == 7 && !strcmp(argv[1], "push"))
        return probe_push(argv[2], argv[3], argv[4], (size_t)atol(argv[5]),
                          !strcmp(argv[6], "busy"));
    if (argc == 6 && !strcmp(argv[1], "serving"))
        return probe_serving(argv[2], argv[3], atof(argv[4]), atof(argv[5]));
    fprintf(stderr, "usage: see the comment at the top of bench/probe.c\n");
    return 2;
}
