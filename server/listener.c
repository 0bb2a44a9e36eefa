/* Accepting connections. */
#include "listener.h"

#include <arpa/inet.h>
#include <errno.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conn.h"
#include "tls.h"

struct Listener {
    Server *srv;
    struct evconnlistener *ev;
    struct event *resume; /* accepting again after a pause */
    bool stopped;         /* shutting down: no resuming */
    bool paused_said;     /* the pause is in the log; cleared by an accept */
    LogThrottle refusals;     /* the last "refused" line, and those since */
    LogThrottle made_room;    /* the last "closed the oldest" line, and those since */
};

static void peer_text(const struct sockaddr *sa, char *out, size_t n)
{
    char host[INET6_ADDRSTRLEN] = "?";
    int port = 0;
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
        inet_ntop(AF_INET, &in->sin_addr, host, sizeof(host));
        port = ntohs(in->sin_port);
    } else if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;
        inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof(host));
        port = ntohs(in6->sin6_port);
    }
    snprintf(out, n, "%s:%d", host, port);
}

/* Over the cap: say so in one line and close. The line is small enough to
 * fit any socket buffer, so a plain non-blocking send suffices. */
static void refuse(evutil_socket_t fd)
{
    static const char line[] =
        "{\"jsonrpc\":\"2.0\",\"id\":null,\"error\":{\"code\":-32029,"
        "\"message\":\"overloaded: too many connections, retry later\"}}\n";
    ssize_t rc = send(fd, line, sizeof(line) - 1, MSG_NOSIGNAL | MSG_DONTWAIT);
    (void)rc;
    evutil_closesocket(fd);
}

/* A line a second at most: a flood of connections over the cap must not
 * become a flood of the log. */
static void log_refusal(Listener *l, const char *peer)
{
    char more[64];
    if (log_throttle(&l->refusals, server_now(), more, sizeof(more)))
        srv_log(l->srv, LOG_WARN, "refused %s%s: %zu connections (max_connections)", peer, more,
                l->srv->nconns);
}

static void log_room(Listener *l)
{
    char more[64];
    if (log_throttle(&l->made_room, server_now(), more, sizeof(more)))
        srv_log(l->srv, LOG_WARN,
                "closed the oldest connection not logged in%s to take a new one: %zu connections (max_connections)",
                more, l->srv->nconns);
}

static void on_accept(struct evconnlistener *ev, evutil_socket_t fd, struct sockaddr *sa,
                      int salen, void *arg)
{
    Listener *l = arg;
    Server *s = l->srv;
    char peer[64];
    peer_text(sa, peer, sizeof(peer));
    if (l->paused_said) {
        srv_log(s, LOG_WARN, "accepting connections again (%zu open)", s->nconns);
        l->paused_said = false;
    }
    if (s->nconns >= (size_t)s->cfg.max_connections) {
        Conn *waiting = conn_oldest_not_logged_in(s);
        if (!waiting) {
            refuse(fd);
            log_refusal(l, peer);
            return;
        }
        log_room(l);
        conn_close(waiting, "made room for a new connection: not logged in, %zu connections (max_connections)",
                   s->nconns);
    }
    struct bufferevent *bev;
    if (s->tls) {
        bev = tls_bufferevent(s->base, s->tls, fd);
    } else {
        bev = bufferevent_socket_new(s->base, fd, BEV_OPT_CLOSE_ON_FREE);
    }
    if (!bev) {
        srv_log(s, LOG_ERROR, "cannot set up connection from %s", peer);
        evutil_closesocket(fd);
        return;
    }
    if (!conn_new(s, bev, peer)) {
        srv_log(s, LOG_ERROR, "out of memory for connection from %s", peer);
        bufferevent_free(bev);
    }
}

/* Out of descriptors, accept() fails at once for every connection in the
 * backlog, and a listener left on is woken for them again and again: a
 * busy loop that also filled the log (600,000 lines in two seconds). So,
 * as nginx does, accepting stops for a moment; the connections wait in
 * the kernel's queue and are taken once descriptors are free. Those
 * already open are served all along. Said once, until accepting works. */
static void on_accept_error(struct evconnlistener *ev, void *arg)
{
    Listener *l = arg;
    int err = EVUTIL_SOCKET_ERROR();
    if (!l->paused_said)
        srv_log(l->srv, LOG_ERROR,
                "cannot accept connections: %s (%zu open); new ones wait until some close",
                evutil_socket_error_to_string(err), l->srv->nconns);
    l->paused_said = true;
    evconnlistener_disable(ev);
    static const struct timeval pause = {0, ACCEPT_PAUSE_MS * 1000};
    event_add(l->resume, &pause);
}

static void on_resume(evutil_socket_t fd, short what, void *arg)
{
    Listener *l = arg;
    if (!l->stopped)
        evconnlistener_enable(l->ev);
}

Listener *listener_start(Server *s, const char *addr, char *err, size_t errlen)
{
    struct sockaddr_storage ss;
    int len;
    if (!listen_addr_parse(addr, &ss, &len)) {
        snprintf(err, errlen, "bad listen address '%s' (want IP:PORT)", addr);
        return NULL;
    }
    Listener *l = calloc(1, sizeof(*l));
    if (!l)
        return NULL;
    l->srv = s;
    l->ev = evconnlistener_new_bind(s->base, on_accept, l,
                                    LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE, 1024,
                                    (struct sockaddr *)&ss, len);
    if (!l->ev) {
        snprintf(err, errlen, "cannot listen on %s: %s", addr, strerror(errno));
        free(l);
        return NULL;
    }
    evconnlistener_set_error_cb(l->ev, on_accept_error);
    l->resume = evtimer_new(s->base, on_resume, l);
    if (!l->resume)
        abort();
    return l;
}

void listener_stop(Listener *l)
{
    if (!l)
        return;
    l->stopped = true;
    evconnlistener_disable(l->ev);
    event_del(l->resume);
}

void listener_free(Listener *l)
{
    if (!l)
        return;
    evconnlistener_free(l->ev);
    event_free(l->resume);
    free(l);
}
