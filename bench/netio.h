/* Small pieces the benchmark clients share: a monotonic clock, dialling
 * kicd, newline framing of its answers, and latency percentiles. Plain
 * sockets, no libevent: the clients must cost kicd's machine little and
 * be easy to read. */
#ifndef KIC_BENCH_NETIO_H
#define KIC_BENCH_NETIO_H

#include <stdbool.h>
#include <stddef.h>

/* Seconds on the monotonic clock. */
double clock_s(void);

/* Connects to "HOST:PORT" (IPv4). Blocking connects return a connected
 * socket with TCP_NODELAY; non-blocking ones may still be in progress.
 * Returns -1 with errno set on failure. */
int net_dial(const char *hostport, bool nonblocking);

/* Writes all of buf on a blocking socket; false when the peer is gone. */
bool net_send_all(int fd, const char *buf, size_t n) __attribute__((warn_unused_result));

/* Input framing: bytes read so far, and the lines in them. */
typedef struct LineBuf {
    char *data;
    size_t len, cap;
    size_t start; /* where the next unread line begins */
} LineBuf;

void linebuf_init(LineBuf *lb, size_t cap);
void linebuf_free(LineBuf *lb);
/* Reads what the socket has: >0 bytes read, 0 the peer closed, -1 an
 * error (errno; EAGAIN on a non-blocking socket with nothing to read). */
long linebuf_fill(LineBuf *lb, int fd);
/* The next complete line, NUL-terminated in place, or NULL. */
char *linebuf_next(LineBuf *lb);

/* The login request line for token, into buf. */
int net_login_line(char *buf, size_t n, const char *token, long id);
/* Logs in on a blocking socket; false (and a message) when refused. */
bool net_login(int fd, LineBuf *lb, const char *token) __attribute__((warn_unused_result));
/* Blocks until the next whole line; NULL when the peer closed. */
char *net_read_line(int fd, LineBuf *lb);

/* Prints "n=N p50_ms=.. p90_ms=.. p99_ms=.. max_ms=.." for samples
 * (sorted in place), after the prefix. */
void latency_print(const char *prefix, double *ms, size_t n);

#endif
