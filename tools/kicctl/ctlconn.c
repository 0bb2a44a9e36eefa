/* kicctl's blocking JSON-RPC client (see ctlconn.h). Answers can be big
 * (a year of quarter hours); the framer grows to the caller's limit only
 * when an answer needs it. */
#include "ctlconn.h"

#include <errno.h>
#include <netdb.h>
#include <openssl/err.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "jsonrpc.h"
#include "tooltls.h"

/* Splits HOST:PORT (HOST may be [v6]) into host and port (1-65535). */
static bool split_address(const char *server, char *host, size_t size, const char **port)
{
    const char *colon = strrchr(server, ':');
    if (!colon || colon == server || !colon[1] || (size_t)(colon - server) >= size)
        return false;
    size_t n = (size_t)(colon - server);
    if (server[0] == '[' && n >= 2 && server[n - 1] == ']') {
        memcpy(host, server + 1, n - 2);
        host[n - 2] = '\0';
    } else {
        memcpy(host, server, n);
        host[n] = '\0';
    }
    *port = colon + 1;
    char *end;
    long n_port = strtol(*port, &end, 10);
    if (*end || n_port < 1 || n_port > 65535) /* getaddrinfo wraps 99999 */
        return false;
    return true;
}

bool ctlconn_server_ok(const char *server)
{
    char host[256];
    const char *port;
    return split_address(server, host, sizeof(host), &port);
}

/* The TLS handshake on the connected socket: TLS 1.2 or newer, the
 * certificate chained to ca_file (or the system's CAs) and naming host
 * (a DNS name or an IP address), as tooltls.h does it for every tool. */
static bool start_tls(CtlConn *c, const char *host, const char *server, const CtlTls *tls)
{
    /* OpenSSL writes with write(2): a kicd gone away must give an error,
     * not kill the program (plain sends use MSG_NOSIGNAL) */
    signal(SIGPIPE, SIG_IGN);
    char why[300];
    c->ssl_ctx = tooltls_client_ctx(tls->ca_file, why, sizeof(why));
    if (!c->ssl_ctx) {
        fprintf(stderr, "kicctl: %s\n", why);
        return false;
    }
    c->ssl = tooltls_new_ssl(c->ssl_ctx, host);
    if (!c->ssl || SSL_set_fd(c->ssl, c->fd) != 1) {
        fprintf(stderr, "kicctl: cannot set up TLS for %s\n", host);
        return false;
    }
    if (SSL_connect(c->ssl) == 1)
        return true;
    tooltls_handshake_failure(c->ssl, ERR_get_error(), why, sizeof(why));
    fprintf(stderr, "kicctl: no TLS with kicd at %s: %s\n", server, why);
    return false;
}

bool ctlconn_open(CtlConn *c, const char *server, const CtlTls *tls, size_t max_line)
{
    memset(c, 0, sizeof(*c));
    c->fd = -1;
    c->next_id = 1;
    c->max_line = max_line;
    char host[256];
    const char *port;
    if (!split_address(server, host, sizeof(host), &port)) {
        fprintf(stderr, "kicctl: --server must be HOST:PORT (port 1-65535), not '%s'\n", server);
        return false;
    }
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *res;
    int rc = getaddrinfo(host, port, &hints, &res);
    if (rc != 0) {
        fprintf(stderr, "kicctl: %s: %s\n", server, gai_strerror(rc));
        return false;
    }
    int err = 0;
    for (struct addrinfo *ai = res; ai && c->fd < 0; ai = ai->ai_next) {
        c->fd = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
        if (c->fd >= 0 && connect(c->fd, ai->ai_addr, ai->ai_addrlen) != 0) {
            err = errno;
            close(c->fd);
            c->fd = -1;
        }
    }
    freeaddrinfo(res);
    if (c->fd < 0) {
        fprintf(stderr, "kicctl: cannot connect to kicd at %s: %s\n", server, strerror(err));
        return false;
    }
    if (tls && tls->on && !start_tls(c, host, server, tls)) {
        ctlconn_close(c);
        return false;
    }
    if (!framer_init(&c->framer, max_line)) {
        fprintf(stderr, "kicctl: out of memory\n");
        ctlconn_close(c);
        return false;
    }
    return true;
}

void ctlconn_close(CtlConn *c)
{
    if (c->ssl) {
        SSL_shutdown(c->ssl);
        SSL_free(c->ssl);
    }
    SSL_CTX_free(c->ssl_ctx);
    c->ssl = NULL;
    c->ssl_ctx = NULL;
    if (c->fd >= 0)
        close(c->fd);
    c->fd = -1;
    framer_free(&c->framer);
}

static bool send_all(CtlConn *c, const char *p, size_t len)
{
    while (len > 0) {
        ssize_t w;
        if (c->ssl) {
            int n = SSL_write(c->ssl, p, len > INT32_MAX ? INT32_MAX : (int)len);
            w = n > 0 ? n : -1;
            if (n <= 0 && SSL_get_error(c->ssl, n) == SSL_ERROR_SYSCALL && errno == EINTR)
                continue;
        } else {
            w = send(c->fd, p, len, MSG_NOSIGNAL);
            if (w < 0 && errno == EINTR)
                continue;
        }
        if (w <= 0)
            return false;
        p += w;
        len -= (size_t)w;
    }
    return true;
}

bool ctlconn_send_line(CtlConn *c, const char *line)
{
    return c->fd >= 0 && send_all(c, line, strlen(line)) && send_all(c, "\n", 1);
}

/* Reads what is there into dst: bytes (>0), 0 at the end, -1 on error
 * (errno EINTR when a signal came). */
static ssize_t receive(CtlConn *c, char *dst, size_t space)
{
    if (!c->ssl)
        return recv(c->fd, dst, space, 0);
    int n = SSL_read(c->ssl, dst, space > INT32_MAX ? INT32_MAX : (int)space);
    if (n > 0)
        return n;
    int e = SSL_get_error(c->ssl, n);
    if (e == SSL_ERROR_ZERO_RETURN)
        return 0;
    if (e != SSL_ERROR_SYSCALL || errno != EINTR)
        errno = EIO;
    return -1;
}

bool ctlconn_send_request(CtlConn *c, long long id, const char *method, json_t *params)
{
    json_t *req = json_pack("{s:s, s:I, s:s}", "jsonrpc", "2.0", "id", (json_int_t)id, "method",
                            method);
    if (req && params)
        json_object_set(req, "params", params);
    char *line = req ? json_dumps(req, JSON_COMPACT) : NULL;
    json_decref(req);
    bool ok = line && ctlconn_send_line(c, line);
    free(line);
    return ok;
}

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Milliseconds left until deadline (-1: none), for poll. */
static int time_left(long long deadline)
{
    if (deadline < 0)
        return -1;
    long long left = deadline - now_ms();
    return left > 0 ? (int)(left < 1000000000 ? left : 1000000000) : 0;
}

static int wait_readable(const CtlConn *c, struct pollfd *pfd, int timeout_ms)
{
    if (!c->wait_mask)
        return poll(pfd, 1, timeout_ms);
    struct timespec ts = {timeout_ms / 1000, (long)(timeout_ms % 1000) * 1000000};
    return ppoll(pfd, 1, timeout_ms < 0 ? NULL : &ts, c->wait_mask);
}

CtlReadResult ctlconn_read_line(CtlConn *c, int timeout_ms, char **line, size_t *len)
{
    long long deadline = timeout_ms < 0 ? -1 : now_ms() + timeout_ms;
    for (;;) {
        FrameResult r = framer_next(&c->framer, line, len);
        if (r == FRAME_LINE)
            return CTLCONN_LINE;
        if (r == FRAME_TOO_LONG) {
            fprintf(stderr, "kicctl: an answer from kicd is longer than %zu bytes\n", c->max_line);
            return CTLCONN_CLOSED;
        }
        /* TLS may hold decrypted bytes the socket no longer shows */
        if (!c->ssl || SSL_pending(c->ssl) == 0) {
            struct pollfd pfd = {c->fd, POLLIN, 0};
            int pr = wait_readable(c, &pfd, time_left(deadline));
            if (pr == 0)
                return CTLCONN_TIMEOUT;
            if (pr < 0)
                return errno == EINTR ? CTLCONN_INTERRUPTED : CTLCONN_CLOSED;
        }
        size_t space;
        char *dst = framer_space(&c->framer, &space);
        ssize_t n = receive(c, dst, space);
        if (n < 0 && errno == EINTR)
            return CTLCONN_INTERRUPTED;
        if (n <= 0)
            return CTLCONN_CLOSED;
        framer_commit(&c->framer, (size_t)n);
    }
}

json_t *ctlconn_call(CtlConn *c, const char *method, json_t *params, int timeout_ms,
                     CtlNoteFn on_note, void *arg, CtlReadResult *why)
{
    long long id = c->next_id++;
    if (!ctlconn_send_request(c, id, method, params)) {
        *why = CTLCONN_CLOSED;
        return NULL;
    }
    long long deadline = timeout_ms < 0 ? -1 : now_ms() + timeout_ms;
    for (;;) {
        char *line;
        size_t len;
        CtlReadResult r = ctlconn_read_line(c, time_left(deadline), &line, &len);
        if (r == CTLCONN_INTERRUPTED && !(c->stop && *c->stop))
            continue;
        if (r != CTLCONN_LINE) {
            *why = r;
            return NULL;
        }
        json_t *msg = json_loadb(line, len, 0, NULL);
        json_t *mid = json_object_get(msg, "id");
        if (json_is_integer(mid) && json_integer_value(mid) == id)
            return msg;
        if (msg && !mid && on_note)
            on_note(arg, msg);
        json_decref(msg); /* a notification, or an answer to nothing of ours */
    }
}

json_t *ctlconn_login(CtlConn *c, const char *token, const char *server)
{
    json_t *params = json_pack("{s:s}", "token", token);
    CtlReadResult why;
    json_t *resp = ctlconn_call(c, "auth.login", params, 10000, NULL, NULL, &why);
    json_decref(params);
    /* a TLS listener drops a plain client's first line without a word */
    if (!resp)
        fprintf(stderr, "kicctl: no answer to auth.login from %s%s%s\n", server,
                why == CTLCONN_CLOSED ? " (connection closed)" : "",
                why == CTLCONN_CLOSED && !c->ssl
                    ? "; if kicd listens with TLS, give --tls or --tls-ca FILE"
                    : "");
    return resp;
}

/* A hint for the errors a supervisor meets first. */
static const char *error_hint(int code)
{
    switch (code) {
    case RPC_UNAUTHENTICATED: return "; check --token or KIC_TOKEN";
    case RPC_FORBIDDEN: return "; this needs a supervisor or admin token";
    case RPC_STORAGE_UNAVAILABLE: return "; PostgreSQL is unreachable, try again later";
    case RPC_OVERLOADED: return "; try again later";
    default: return "";
    }
}

int ctlconn_print_error(const char *what, json_t *error)
{
    int code = (int)json_integer_value(json_object_get(error, "code"));
    const char *message = json_string_value(json_object_get(error, "message"));
    json_t *data = json_object_get(error, "data");
    const char *field = json_string_value(json_object_get(data, "field"));
    const char *reason = json_string_value(json_object_get(data, "reason"));
    fprintf(stderr, "kicctl: %s: %s", what, message ? message : "error");
    /* kicd's message usually says the reason already */
    bool say_reason = reason && (!message || !strstr(message, reason));
    if (field)
        fprintf(stderr, " (field '%s'%s%s)", field, say_reason ? ": " : "", say_reason ? reason : "");
    fprintf(stderr, " [%d]%s\n", code, error_hint(code));
    return code == RPC_INVALID_PARAMS ? 2 : 1;
}
