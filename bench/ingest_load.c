/* kic-bench-ingest: load client for the ingest benchmark.
 *
 *   kic-bench-ingest throughput HOST:PORT TOKEN EVENTS [WINDOW]
 *       pushes EVENTS realistic telephony events over one bridge
 *       connection, at most WINDOW unanswered, and prints
 *       "events=N seconds=S rate=R" counting durable acks.
 *   kic-bench-ingest latency HOST:PORT TOKEN RATE SECONDS
 *       sends at a steady RATE events/s and prints ack latency
 *       percentiles "p50_ms=.. p99_ms=.. max_ms=..".
 *   kic-bench-ingest naive CONNINFO ROWS
 *       the naive design: the first ROWS stored events inserted again,
 *       one INSERT per transaction, printing "rows=N rate=R".
 *
 * Events: calls of a KIC day (offered, answered, sometimes held/resumed,
 * sometimes transferred, ended; some abandoned), with callers' numbers,
 * locations and queues, so kicd does all its real work per event. */
#include <arpa/inet.h>
#include <errno.h>
#include <libpq-fe.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int dial(const char *hostport)
{
    char host[64];
    int port;
    if (sscanf(hostport, "%63[^:]:%d", host, &port) != 2) {
        fprintf(stderr, "bad address %s\n", hostport);
        exit(2);
    }
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    inet_pton(AF_INET, host, &sa.sin_addr);
    if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
        perror("connect");
        exit(1);
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    return fd;
}

/* ---- the event stream ---- */

typedef struct Gen {
    unsigned seed;
    long call;
    int step, nsteps;
    char steps[8][24];
    double t0, at;
    char run[16];
} Gen;

static unsigned rnd(Gen *g)
{
    g->seed = g->seed * 1103515245u + 12345u;
    return g->seed >> 8;
}

static const char *const queues[] = {"huishoudelijke-zorg", "thuiszorg", "wijkverpleging",
                                     "planning", "klantenservice"};
static const char *const locations[] = {"dordrecht", "zwijndrecht", "papendrecht", "sliedrecht"};

/* Plans the next call's steps. */
static void next_call(Gen *g)
{
    g->call++;
    g->step = 0;
    g->nsteps = 0;
    g->at = g->t0 + (double)g->call * 1.7;
    strcpy(g->steps[g->nsteps++], "call.offered");
    if (rnd(g) % 100 < 12) {
        strcpy(g->steps[g->nsteps++], "call.abandoned");
        return;
    }
    strcpy(g->steps[g->nsteps++], "call.answered");
    if (rnd(g) % 100 < 20) {
        strcpy(g->steps[g->nsteps++], "call.held");
        strcpy(g->steps[g->nsteps++], "call.resumed");
    }
    if (rnd(g) % 100 < 20)
        strcpy(g->steps[g->nsteps++], "call.transferred");
    strcpy(g->steps[g->nsteps++], "call.ended");
}

static void fmt_time(double epoch, char *out, size_t n)
{
    time_t s = (time_t)epoch;
    struct tm tm;
    gmtime_r(&s, &tm);
    snprintf(out, n, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
             tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)((epoch - (double)s) * 1000));
}

/* Writes request `id` (the next event) into buf; returns its length. */
static int next_event(Gen *g, long id, char *buf, size_t n)
{
    if (g->step >= g->nsteps)
        next_call(g);
    const char *method = g->steps[g->step];
    g->at += 1.0 + (double)(rnd(g) % 40);
    char at[64], call[48], extra[256] = "";
    fmt_time(g->at, at, sizeof(at));
    snprintf(call, sizeof(call), "%s-%ld", g->run, g->call);
    unsigned agent = (unsigned)(g->call % 40);
    if (!strcmp(method, "call.offered"))
        snprintf(extra, sizeof(extra),
                 ",\"queue\":\"%s\",\"caller\":\"06%08u\",\"dialled\":\"+31785551000\","
                 "\"location\":\"%s\",\"channel\":\"voice\"",
                 queues[rnd(g) % 5], rnd(g) % 30000, locations[rnd(g) % 4]);
    else if (!strcmp(method, "call.answered"))
        snprintf(extra, sizeof(extra), ",\"agent\":\"agent-%02u\"", agent);
    else if (!strcmp(method, "call.transferred"))
        snprintf(extra, sizeof(extra),
                 ",\"agent\":\"agent-%02u\",\"target\":\"wijkteam-%u\",\"target_kind\":\"care_team\"",
                 agent, rnd(g) % 12);
    else if (!strcmp(method, "call.ended"))
        snprintf(extra, sizeof(extra), ",\"by\":\"caller\"");
    int len = snprintf(buf, n,
                       "{\"jsonrpc\":\"2.0\",\"id\":%ld,\"method\":\"%s\",\"params\":{\"event_id\":"
                       "\"%s-%ld-%d\",\"call_id\":\"%s\",\"at\":\"%s\"%s}}\n",
                       id, method, g->run, g->call, g->step, call, at, extra);
    g->step++;
    return len;
}

/* Calls 1.7 s apart from an hour into today (UTC): 200,000 events run
 * some 28 hours, into tomorrow, so the bench's kicd takes events that far
 * ahead (event_skew_s, bench/lib.sh). Earlier days would make each
 * contact's repeat window reach past what kicd holds in memory: a
 * different path, not today's traffic, which KIC_BENCH_DAYS_BACK=n (the
 * day starting n days before today) measures: a bridge catching up. */
static void gen_init(Gen *g)
{
    memset(g, 0, sizeof(*g));
    g->seed = 4711;
    const char *back = getenv("KIC_BENCH_DAYS_BACK");
    g->t0 = (double)(time(NULL) / 86400 * 86400) + 3600.0 - (back ? atof(back) : 0.0) * 86400.0;
    snprintf(g->run, sizeof(g->run), "r%lx", (long)time(NULL) % 100000);
    g->step = g->nsteps = 0;
}

/* ---- the connection ---- */

typedef struct Link {
    int fd;
    char in[1 << 20];
    size_t inlen;
} Link;

static void send_all(int fd, const char *p, size_t n)
{
    while (n) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
        if (w <= 0) {
            perror("send");
            exit(1);
        }
        p += w;
        n -= (size_t)w;
    }
}

/* Reads what is there; calls on_line for each complete line. */
static int read_lines(Link *l, void (*on_line)(const char *, void *), void *arg)
{
    ssize_t r = recv(l->fd, l->in + l->inlen, sizeof(l->in) - l->inlen, 0);
    if (r <= 0) {
        fprintf(stderr, "connection closed by kicd\n");
        exit(1);
    }
    l->inlen += (size_t)r;
    int lines = 0;
    char *start = l->in, *nl;
    while ((nl = memchr(start, '\n', l->inlen - (size_t)(start - l->in)))) {
        *nl = '\0';
        on_line(start, arg);
        lines++;
        start = nl + 1;
    }
    l->inlen -= (size_t)(start - l->in);
    memmove(l->in, start, l->inlen);
    return lines;
}

static void login(Link *l, const char *token)
{
    char buf[512];
    int n = snprintf(buf, sizeof(buf),
                     "{\"jsonrpc\":\"2.0\",\"id\":0,\"method\":\"auth.login\",\"params\":{\"token\":\"%s\"}}\n",
                     token);
    send_all(l->fd, buf, (size_t)n);
    ssize_t r = recv(l->fd, buf, sizeof(buf) - 1, 0);
    if (r <= 0 || !strstr(buf, "\"result\"")) {
        fprintf(stderr, "login failed\n");
        exit(1);
    }
}

static void count_ack(const char *line, void *arg)
{
    long *errors = arg;
    if (!strstr(line, "\"accepted\":true")) {
        if ((*errors)++ < 5)
            fprintf(stderr, "not accepted: %.200s\n", line);
    }
}

static int throughput(const char *addr, const char *token, long events, long window)
{
    static Link l;
    l.fd = dial(addr);
    login(&l, token);
    Gen g;
    gen_init(&g);
    long sent = 0, acked = 0, errors = 0;
    char out[1 << 16];
    double t0 = now_s();
    while (acked < events) {
        struct pollfd pfd = {l.fd, POLLIN, 0};
        if (sent < events && sent - acked < window)
            pfd.events |= POLLOUT;
        poll(&pfd, 1, 1000);
        if (pfd.revents & POLLOUT) {
            size_t n = 0;
            while (sent < events && sent - acked < window && n < sizeof(out) - 1024)
                n += (size_t)next_event(&g, ++sent, out + n, sizeof(out) - n);
            send_all(l.fd, out, n);
        }
        if (pfd.revents & POLLIN)
            acked += read_lines(&l, count_ack, &errors);
    }
    double secs = now_s() - t0;
    printf("events=%ld seconds=%.3f rate=%.0f errors=%ld\n", acked, secs, (double)acked / secs,
           errors);
    return errors ? 1 : 0;
}

typedef struct LatencyCtx {
    double *sent_at;
    double *lat;
    long n;
} LatencyCtx;

static void record_latency(const char *line, void *arg)
{
    LatencyCtx *c = arg;
    const char *p = strstr(line, "\"id\":");
    if (!p)
        return;
    long id = strtol(p + 5, NULL, 10);
    c->lat[c->n++] = (now_s() - c->sent_at[id]) * 1000.0;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static int latency(const char *addr, const char *token, double rate, double seconds)
{
    static Link l;
    l.fd = dial(addr);
    login(&l, token);
    Gen g;
    gen_init(&g);
    snprintf(g.run, sizeof(g.run), "l%lx", (long)time(NULL) % 100000);
    long total = (long)(rate * seconds);
    LatencyCtx c = {calloc((size_t)total + 2, sizeof(double)), calloc((size_t)total + 2, sizeof(double)), 0};
    double start = now_s();
    long sent = 0;
    char buf[2048];
    while (c.n < total) {
        double due = start + (double)sent / rate;
        double wait = due - now_s();
        if (sent < total && wait <= 0) {
            int n = next_event(&g, ++sent, buf, sizeof(buf));
            c.sent_at[sent] = now_s();
            send_all(l.fd, buf, (size_t)n);
            continue;
        }
        /* rounded up: a zero timeout would spin a core the server needs */
        int ms = sent < total ? (int)(wait * 1000) + 1 : 1000;
        struct pollfd pfd = {l.fd, POLLIN, 0};
        if (poll(&pfd, 1, ms < 0 ? 0 : ms) > 0)
            read_lines(&l, record_latency, &c);
    }
    qsort(c.lat, (size_t)c.n, sizeof(double), cmp_double);
    printf("events=%ld rate=%.0f p50_ms=%.2f p99_ms=%.2f max_ms=%.2f\n", c.n, rate,
           c.lat[c.n / 2], c.lat[(long)((double)c.n * 0.99)], c.lat[c.n - 1]);
    return 0;
}

/* The naive design: the first ROWS stored events inserted again, one
 * INSERT per transaction (autocommit, synchronous commit), into a scratch
 * table shaped like events. */
static int naive(const char *conninfo, long rows)
{
    PGconn *db = PQconnectdb(conninfo);
    if (PQstatus(db) != CONNECTION_OK) {
        fprintf(stderr, "%s", PQerrorMessage(db));
        return 1;
    }
    PQclear(PQexec(db, "SET synchronous_commit TO on"));
    PQclear(PQexec(db, "DROP TABLE IF EXISTS naive_events"));
    PQclear(PQexec(db, "CREATE TABLE naive_events (LIKE events INCLUDING DEFAULTS INCLUDING INDEXES)"));
    char limit[32];
    snprintf(limit, sizeof(limit), "%ld", rows);
    const char *lp[] = {limit};
    PGresult *src = PQexecParams(db,
                                 "SELECT tenant_id, call_id, at, event_id, type, payload::text"
                                 " FROM events LIMIT $1",
                                 1, NULL, lp, NULL, NULL, 0);
    if (PQresultStatus(src) != PGRES_TUPLES_OK) {
        fprintf(stderr, "%s", PQresultErrorMessage(src));
        return 1;
    }
    long n = PQntuples(src);
    double t0 = now_s();
    for (long i = 0; i < n; i++) {
        const char *params[6];
        for (int c = 0; c < 6; c++)
            params[c] = PQgetvalue(src, (int)i, c);
        PGresult *r = PQexecParams(db,
                                   "INSERT INTO naive_events (tenant_id, call_id, at, event_id,"
                                   " type, payload) VALUES ($1, $2, $3, $4, $5, $6)",
                                   6, NULL, params, NULL, NULL, 0);
        if (PQresultStatus(r) != PGRES_COMMAND_OK) {
            fprintf(stderr, "%s", PQresultErrorMessage(r));
            return 1;
        }
        PQclear(r);
    }
    double secs = now_s() - t0;
    PQclear(src);
    PQclear(PQexec(db, "DROP TABLE naive_events"));
    PQfinish(db);
    printf("rows=%ld seconds=%.3f rate=%.0f\n", n, secs, (double)n / secs);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc >= 5 && !strcmp(argv[1], "throughput"))
        return throughput(argv[2], argv[3], atol(argv[4]), argc > 5 ? atol(argv[5]) : 4000);
    if (argc == 6 && !strcmp(argv[1], "latency"))
        return latency(argv[2], argv[3], atof(argv[4]), atof(argv[5]));
    if (argc == 4 && !strcmp(argv[1], "naive"))
        return naive(argv[2], atol(argv[3]));
    fprintf(stderr, "usage: see the comment at the top of bench/ingest_load.c\n");
    return 2;
}
