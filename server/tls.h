/* TLS for both listeners (JSON-RPC and HTTP) through OpenSSL and
 * libevent's OpenSSL bufferevents: TLS 1.2 and up, the certificate chain
 * and key from the config. */
#ifndef TLS_H
#define TLS_H

#include <openssl/ssl.h>

#include "server.h"

/* The server context, or NULL with err. */
SSL_CTX *tls_context(const char *cert_file, const char *key_file, char *err, size_t errlen);

/* A bufferevent for a new accepted socket (fd) or, fd -1, one that
 * evhttp will give its socket to. */
struct bufferevent *tls_bufferevent(struct event_base *base, SSL_CTX *ctx, evutil_socket_t fd);

/* What OpenSSL said went wrong on this bufferevent's session (the first
 * of its queued errors, which it clears), or false if it said nothing. */
bool tls_error_text(struct bufferevent *bev, char *out, size_t outlen);
/* Whether bev is one of TLS (else a plain socket's). */
bool tls_is(struct bufferevent *bev);

#endif
