/* Shared pieces of the benchmark clients (see netio.h). */
#include "netio.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

double clock_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int net_dial(const char *hostport, bool nonblocking)
{
    char host[64];
    int port;
    struct sockaddr_in sa = {.sin_family = AF_INET};
    if (sscanf(hostport, "%63[^:]:%d", host, &port) != 2 || port <= 0 || port > 65535 ||
        inet_pton(AF_INET, host, &sa.sin_addr) != 1) {
        errno = EINVAL;
        return -1;
    }
    sa.sin_port = htons((unsigned short)port);
    int fd = socket(AF_INET, SOCK_STREAM | (nonblocking ? SOCK_NONBLOCK : 0), 0);
    if (fd < 0)
        return -1;
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 &&
        !(nonblocking && errno == EINPROGRESS)) {
        int saved = errno;
        close(fd);
        errno = saved;
        return -1;
    }
    return fd;
}

bool net_send_all(int fd, const char *buf, size_t n)
{
    while (n) {
        ssize_t w = send(fd, buf, n, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return false;
        buf += w;
        n -= (size_t)w;
    }
    return true;
}

void linebuf_init(LineBuf *lb, size_t cap)
{
    lb->data = malloc(cap);
    if (!lb->data)
        abort();
    lb->len = lb->start = 0;
    lb->cap = cap;
}

void linebuf_free(LineBuf *lb)
{
    free(lb->data);
    lb->data = NULL;
}

long linebuf_fill(LineBuf *lb, int fd)
{
    if (lb->start > 0) { /* drop the lines already handed out */
        memmove(lb->data, lb->data + lb->start, lb->len - lb->start);
        lb->len -= lb->start;
        lb->start = 0;
    }
    if (lb->len + 1 >= lb->cap) { /* a long answer (a report): grow */
        lb->cap *= 2;
        lb->data = realloc(lb->data, lb->cap);
        if (!lb->data)
            abort();
    }
    ssize_t r = recv(fd, lb->data + lb->len, lb->cap - lb->len - 1, 0);
    if (r > 0)
        lb->len += (size_t)r;
    return (long)r;
}

char *linebuf_next(LineBuf *lb)
{
    char *line = lb->data + lb->start;
    char *nl = memchr(line, '\n', lb->len - lb->start);
    if (!nl)
        return NULL;
    *nl = '\0';
    lb->start = (size_t)(nl - lb->data) + 1;
    return line;
}

int net_login_line(char *buf, size_t n, const char *token, long id)
{
    return snprintf(buf, n,
                    "{\"jsonrpc\":\"2.0\",\"id\":%ld,\"method\":\"auth.login\","
                    "\"params\":{\"token\":\"%s\"}}\n",
                    id, token);
}

char *net_read_line(int fd, LineBuf *lb)
{
    char *line;
    while (!(line = linebuf_next(lb))) {
        long r = linebuf_fill(lb, fd);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return NULL;
    }
    return line;
}

bool net_login(int fd, LineBuf *lb, const char *token)
{
    char buf[512];
    int n = net_login_line(buf, sizeof(buf), token, 0);
    if (n < 0 || (size_t)n >= sizeof(buf) || !net_send_all(fd, buf, (size_t)n))
        return false;
    char *line = net_read_line(fd, lb);
    if (!line || !strstr(line, "\"result\"")) {
        fprintf(stderr, "login refused: %.200s\n", line ? line : "(connection closed)");
        return false;
    }
    return true;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* The nearest-rank percentile of sorted samples. */
static double percentile(const double *sorted, size_t n, double p)
{
    size_t rank = (size_t)(p * (double)n + 0.999999);
    return sorted[rank == 0 ? 0 : (rank > n ? n : rank) - 1];
}

void latency_print(const char *prefix, double *ms, size_t n)
{
    if (n == 0) {
        printf("%sn=0\n", prefix);
        return;
    }
    qsort(ms, n, sizeof(double), cmp_double);
    printf("%sn=%zu p50_ms=%.2f p90_ms=%.2f p99_ms=%.2f max_ms=%.2f\n", prefix, n,
           percentile(ms, n, 0.50), percentile(ms, n, 0.90), percentile(ms, n, 0.99), ms[n - 1]);
    fflush(stdout);
}
