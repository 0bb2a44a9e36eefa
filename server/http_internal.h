/* What http.c (listener, routing, pages, operations) and http_api.c
 * (tokens, live, stream, report) share. */
#ifndef HTTP_INTERNAL_H
#define HTTP_INTERNAL_H

#include <event2/http.h>
#include <jansson.h>

#include "http.h"
#include "strmap.h"
#include "subscribe.h"
#include "tenants.h"

/* Who a bearer token is, as last looked up (cached: the live API must
 * not ask the database on every request). */
typedef struct HttpUser {
    char hash[65]; /* the token's SHA-256, hex: the cache key */
    int64_t tenant_id, user_id;
    char tenant_name[KIC_MAX_FIELD_BYTES + 1];
    char user[KIC_MAX_FIELD_BYTES + 1];
    Role role;
    KicTime checked_at;
} HttpUser;

/* One open HTTP connection, as kicd counts and times it. */
typedef struct HttpConn {
    struct Http *http;
    struct evhttp_connection *evcon;
    size_t index;        /* its place in Http.conns */
    bool serving;        /* a request has come and is not answered yet */
    KicTime head_since;  /* since when it owes a request head */
} HttpConn;

/* An open /api/v1/live/stream. */
typedef struct HttpStream {
    struct HttpStream *prev, *next;
    Http *http;
    struct evhttp_request *req;
    struct evhttp_connection *evcon;
    HttpConn *conn;
    int64_t tenant_id, user_id;
    Subscriber sub;
} HttpStream;

struct Http {
    Server *srv;
    struct evhttp *evh;
    struct evhttp_bound_socket *sock;
    StrMap users; /* token hash -> HttpUser (owned) */
    HttpStream *streams; /* each on a connection of conns: max_http_connections bounds them */
    HttpConn **conns;          /* open connections, max_http_connections at most */
    size_t nconns, conns_cap;
    struct event *head_sweep;  /* closes those too slow with a request head */
    LogThrottle refusals;      /* the log says refusals once a second at most */
    LogThrottle made_room;     /* and connections closed to make room */
};

/* Every connection's close callback (arg: its HttpConn), counting it
 * out; a stream that puts its own in its place calls this from there,
 * and puts it back. */
void http_conn_closed(struct evhttp_connection *evcon, void *conn);
/* The record of a connection evhttp serves (NULL if it is not counted). */
HttpConn *http_conn_of(Http *h, struct evhttp_connection *evcon);

/* Replies (every one with Cache-Control: no-store). text is borrowed. */
void http_reply(struct evhttp_request *req, int status, const char *content_type,
                const char *body, size_t len);
void http_reply_json(struct evhttp_request *req, int status, const char *json);
/* Same as http_reply, taking the malloc'd body: it is sent from where it
 * is and freed once written (a report can be tens of megabytes). */
void http_reply_owned(struct evhttp_request *req, int status, const char *content_type,
                      char *body, size_t len);
/* {"error":{"code":..,"message":..,"data":..}}; data may be NULL. */
void http_reply_error(struct evhttp_request *req, int status, int code, const char *message,
                      json_t *data);

/* The API (http_api.c): path starts with /api/v1/. */
void http_api(Http *h, struct evhttp_request *req, const char *path);
void http_api_free(Http *h);

#endif
