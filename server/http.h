/* kicd over HTTP (proto/HTTP.md): libevent's evhttp on cfg.http for
 * browsers, monitoring and scripts. Operations (/healthz, /metrics) need
 * no token; the API (/api/v1/...) takes a supervisor's or admin's bearer
 * token; the pages (/wallboard, /report, /static/...) are built into the
 * binary from web/. */
#ifndef HTTP_H
#define HTTP_H

#include "server.h"

/* Binds addr ("HOST:PORT"); NULL with err on failure. */
Http *http_start(Server *s, const char *addr, char *err, size_t errlen);
/* Open HTTP connections (streams among them); 0 for no listener. */
size_t http_connections(const Http *h);
/* Ends every open event stream (the server is stopping). */
void http_stop(Http *h);
void http_free(Http *h);

/* A user's token was revoked: forget it, end the user's streams. */
void http_forget_user(Http *h, int64_t tenant_id, int64_t user_id);

#endif
