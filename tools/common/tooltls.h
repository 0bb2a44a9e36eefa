/* The client side of TLS to kicd, shared by kicctl (blocking, on its own
 * socket) and the libevent tools (kic-ami-bridge, kic-sim): one policy
 * for whom to trust and what the certificate must name, and one wording
 * for why a handshake failed. TLS 1.2 or newer, the chain verified
 * against a CA file or the system's CAs, the host checked as a DNS name
 * (with SNI) or as an IP address. */
#ifndef KIC_TOOLTLS_H
#define KIC_TOOLTLS_H

#include <event2/bufferevent.h>
#include <openssl/ssl.h>
#include <stdbool.h>
#include <stddef.h>

#include "toollog.h"

/* A client context trusting the CA certificates in ca_file (PEM), or the
 * system's when ca_file is NULL. NULL when they cannot be read, with why
 * ("cannot read the CA certificates FILE (reason)") filled. One context
 * serves every connection of a program; SSL_CTX_free it at the end. */
SSL_CTX *tooltls_client_ctx(const char *ca_file, char *why, size_t n);

/* A connection's SSL whose handshake checks that the certificate names
 * host: a DNS name (also sent as SNI) or an IPv4/IPv6 address. NULL when
 * out of memory or host cannot be a name (longer than 255 bytes). */
SSL *tooltls_new_ssl(SSL_CTX *ctx, const char *host);

/* Why the handshake on ssl failed: "the certificate is not trusted:
 * <OpenSSL's verify reason>" when the chain or name check failed, else
 * the reason of the OpenSSL error err, else "the handshake failed". */
void tooltls_handshake_failure(const SSL *ssl, unsigned long err, char *why, size_t n);

/* A bufferevent for bufferevent_socket_connect_hostname (which makes
 * its socket): plain TCP when ctx is NULL, else TLS to host (an SSL from
 * tooltls_new_ssl, handshake as the client once connected;
 * BEV_EVENT_CONNECTED comes after the handshake). Freeing it closes the
 * socket and frees the SSL. NULL when out of memory. */
struct bufferevent *tooltls_bufferevent(struct event_base *base, SSL_CTX *ctx, const char *host);

/* Why a connection to kicd ended, from a bufferevent event that is not
 * CONNECTED, and how loud to log it. connected: BEV_EVENT_CONNECTED came
 * (after the handshake, with TLS); logged_in: kicd answered auth.login.
 * A TLS failure ("TLS: the certificate is not trusted: ...", OpenSSL's
 * reason; the errors libevent queued for bev are taken) needs someone to
 * fix a certificate, a CA or a name: LOG_ERROR. When the two sides seem
 * to disagree about TLS, a hint, and at least LOG_WARN: a plain
 * connection that kicd cut before answering auth.login is what a TLS
 * listener does with a line in the clear ("give --tls or --tls-ca FILE");
 * a TLS connection that kicd closed during the handshake, or answered
 * with no TLS record ("wrong version number"), what a plain one does with
 * a ClientHello ("does kicd listen with TLS?"). Anything else, a close
 * without close_notify included: toolnet_failure's reason, LOG_WARN when
 * a session was lost, LOG_INFO when it never came up. */
LogLevel tooltls_failure(struct bufferevent *bev, short what, bool tls, bool connected,
                         bool logged_in, char *why, size_t n);

#endif
