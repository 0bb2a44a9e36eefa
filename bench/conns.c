/* kic-bench-conns: many connections at once, held open until SIGTERM.
 *
 *   kic-bench-conns idle HOST:PORT TOKEN N
 *       opens N connections and logs each in (non-blocking, a few hundred
 *       handshakes at a time), prints "ready conns=N seconds=S" once all
 *       are logged in, then holds them idle.
 *   kic-bench-conns slowloris HOST:PORT N PERIOD_MS
 *       opens N connections that each send one more byte of a login line
 *       every PERIOD_MS and never finish it; prints "ready conns=N" once
 *       all are open. One that kicd closes is opened again at once.
 *
 * On SIGTERM or SIGINT it prints what happened ("closed_by_kicd=..
 * reopened=.. bytes=..") and exits. One thread, epoll: the client must be
 * cheap beside the kicd it shares two cores with. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "netio.h"

#define MAX_HANDSHAKES 256 /* connections being opened or logging in at once */

typedef enum { C_CLOSED, C_CONNECTING, C_LOGGING_IN, C_READY, C_TRICKLING } ConnState;

typedef struct Conn {
    int fd;
    ConnState state;
    size_t sent;    /* slowloris: bytes of the endless line sent so far */
    double next_at; /* slowloris: when the next byte is due */
} Conn;

typedef struct Pool {
    const char *addr, *token; /* token NULL: slowloris */
    Conn *conns;
    size_t n, opened, ready, handshakes;
    double period_s;
    int ep;
    long closed_by_kicd, failed, bytes;
} Pool;

static volatile sig_atomic_t stopping;

static void on_signal(int sig)
{
    (void)sig;
    stopping = 1;
}

static void watch(Pool *p, size_t i, uint32_t events, int op)
{
    struct epoll_event ev = {.events = events, .data.u64 = i};
    if (epoll_ctl(p->ep, op, p->conns[i].fd, &ev) != 0) {
        perror("epoll_ctl");
        exit(1);
    }
}

/* Starts connection i; false when the machine refuses a socket now. */
static bool conn_open(Pool *p, size_t i)
{
    Conn *c = &p->conns[i];
    c->fd = net_dial(p->addr, true);
    if (c->fd < 0) {
        if (p->failed++ < 5)
            perror("connect");
        return false;
    }
    c->state = C_CONNECTING;
    c->sent = 0;
    p->handshakes++;
    watch(p, i, EPOLLOUT, EPOLL_CTL_ADD);
    return true;
}

/* kicd (or the network) ended connection i: count it, open it again. */
static void conn_lost(Pool *p, size_t i)
{
    Conn *c = &p->conns[i];
    if (c->state == C_CONNECTING || c->state == C_LOGGING_IN)
        p->handshakes--;
    if (c->state == C_READY)
        p->ready--;
    close(c->fd);
    c->state = C_CLOSED;
    c->fd = -1;
    p->closed_by_kicd++;
    conn_open(p, i);
}

/* The connect finished: log in (idle) or start trickling (slowloris). */
static void conn_connected(Pool *p, size_t i, double now)
{
    Conn *c = &p->conns[i];
    int err = 0;
    socklen_t len = sizeof(err);
    if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0 || err) {
        conn_lost(p, i);
        return;
    }
    if (p->token) {
        char line[512];
        int n = net_login_line(line, sizeof(line), p->token, 1);
        if (send(c->fd, line, (size_t)n, MSG_NOSIGNAL) != n) {
            conn_lost(p, i);
            return;
        }
        c->state = C_LOGGING_IN;
    } else {
        p->handshakes--;
        p->ready++;
        c->state = C_TRICKLING;
        /* spread the bytes evenly over the period */
        c->next_at = now + p->period_s * (double)(i % 1000) / 1000.0;
    }
    watch(p, i, EPOLLIN, EPOLL_CTL_MOD);
}

/* Something to read: a login answer, an error, or the end. */
static void conn_readable(Pool *p, size_t i)
{
    Conn *c = &p->conns[i];
    char buf[4096];
    ssize_t r = recv(c->fd, buf, sizeof(buf) - 1, 0);
    if (r < 0 && (errno == EAGAIN || errno == EINTR))
        return;
    if (r <= 0) {
        conn_lost(p, i);
        return;
    }
    buf[r] = '\0';
    if (c->state != C_LOGGING_IN)
        return; /* idle and slowloris connections expect nothing */
    if (!strstr(buf, "\"result\"")) {
        if (p->failed++ < 5)
            fprintf(stderr, "login refused: %.200s\n", buf);
        return;
    }
    c->state = C_READY;
    p->handshakes--;
    p->ready++;
}

/* Opens more connections while fewer than MAX_HANDSHAKES are under way. */
static void open_more(Pool *p)
{
    while (p->opened < p->n && p->handshakes < MAX_HANDSHAKES) {
        if (!conn_open(p, p->opened))
            return;
        p->opened++;
    }
}

/* The endless login line: a valid start, then a token that never ends. */
static char slow_byte(size_t k)
{
    static const char head[] = "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"auth.login\","
                               "\"params\":{\"token\":\"kic_";
    return k < sizeof(head) - 1 ? head[k] : 'x';
}

static void trickle(Pool *p, double now)
{
    for (size_t i = 0; i < p->opened; i++) {
        Conn *c = &p->conns[i];
        if (c->state != C_TRICKLING || c->next_at > now)
            continue;
        char b = slow_byte(c->sent);
        if (send(c->fd, &b, 1, MSG_NOSIGNAL) == 1) {
            c->sent++;
            p->bytes++;
        }
        c->next_at += p->period_s;
    }
}

static void handle(Pool *p, const struct epoll_event *ev, double now)
{
    size_t i = (size_t)ev->data.u64;
    Conn *c = &p->conns[i];
    if (c->state == C_CONNECTING)
        conn_connected(p, i, now);
    else if (ev->events & (EPOLLIN | EPOLLHUP | EPOLLERR))
        conn_readable(p, i);
}

static int run(Pool *p)
{
    p->conns = calloc(p->n, sizeof(Conn));
    p->ep = epoll_create1(0);
    if (!p->conns || p->ep < 0)
        abort();
    signal(SIGTERM, on_signal);
    signal(SIGINT, on_signal);
    double start = clock_s();
    bool announced = false;
    struct epoll_event evs[512];
    while (!stopping) {
        open_more(p);
        int n = epoll_wait(p->ep, evs, 512, p->token ? 200 : 10);
        double now = clock_s();
        for (int k = 0; k < n; k++)
            handle(p, &evs[k], now);
        if (!p->token)
            trickle(p, now);
        if (!announced && p->ready == p->n) {
            printf("ready conns=%zu seconds=%.2f\n", p->n, now - start);
            fflush(stdout);
            announced = true;
        }
    }
    printf("closed_by_kicd=%ld reopened=%ld failed=%ld bytes=%ld ready=%zu\n", p->closed_by_kicd,
           p->closed_by_kicd, p->failed, p->bytes, p->ready);
    return 0;
}

int main(int argc, char **argv)
{
    Pool p = {0};
    if (argc == 5 && !strcmp(argv[1], "idle")) {
        p.addr = argv[2];
        p.token = argv[3];
        p.n = (size_t)atol(argv[4]);
    } else if (argc == 5 && !strcmp(argv[1], "slowloris")) {
        p.addr = argv[2];
        p.n = (size_t)atol(argv[3]);
        p.period_s = atof(argv[4]) / 1000.0;
    } else {
        fprintf(stderr, "usage: see the comment at the top of bench/conns.c\n");
        return 2;
    }
    if (p.n == 0)
        return 2;
    return run(&p);
}
