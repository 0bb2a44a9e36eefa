/* See tooltls.h. */
#include "tooltls.h"

#include <arpa/inet.h>
#include <errno.h>
#include <event2/bufferevent_ssl.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <string.h>

#include "toolnet.h"

/* OpenSSL's reason for an error; OpenSSL 3 names none for the system's
 * errors (a missing file), which carry errno instead. NULL: none. */
static const char *reason_of(unsigned long e)
{
#ifdef ERR_SYSTEM_ERROR
    if (e && ERR_SYSTEM_ERROR(e))
        return strerror(ERR_GET_REASON(e));
#endif
    return e ? ERR_reason_error_string(e) : NULL;
}

SSL_CTX *tooltls_client_ctx(const char *ca_file, char *why, size_t n)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
    if (!ctx) {
        snprintf(why, n, "cannot create a TLS context");
        return NULL;
    }
    /* TLS 1.0 and 1.1 are deprecated (RFC 8996); kicd refuses them too */
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
    ERR_clear_error();
    int loaded = ca_file ? SSL_CTX_load_verify_locations(ctx, ca_file, NULL)
                         : SSL_CTX_set_default_verify_paths(ctx);
    if (loaded == 1)
        return ctx;
    /* the first error is the cause (a missing file, no PEM certificate) */
    const char *reason = reason_of(ERR_peek_error());
    snprintf(why, n, "cannot read the CA certificates %s%s%s%s",
             ca_file ? ca_file : "of the system", reason ? " (" : "", reason ? reason : "",
             reason ? ")" : "");
    ERR_clear_error();
    SSL_CTX_free(ctx);
    return NULL;
}

SSL *tooltls_new_ssl(SSL_CTX *ctx, const char *host)
{
    SSL *ssl = SSL_new(ctx);
    if (!ssl)
        return NULL;
    unsigned char ip[16];
    bool is_ip = inet_pton(AF_INET, host, ip) == 1 || inet_pton(AF_INET6, host, ip) == 1;
    /* an address is matched against the certificate's IP entries; SNI
     * carries names only (RFC 6066) */
    bool named = is_ip ? X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), host) == 1
                       : SSL_set_tlsext_host_name(ssl, host) == 1 && SSL_set1_host(ssl, host) == 1;
    if (!named) {
        SSL_free(ssl);
        return NULL;
    }
    return ssl;
}

void tooltls_handshake_failure(const SSL *ssl, unsigned long err, char *why, size_t n)
{
    long verify = SSL_get_verify_result(ssl);
    const char *reason = reason_of(err);
    if (verify != X509_V_OK)
        snprintf(why, n, "the certificate is not trusted: %s",
                 X509_verify_cert_error_string(verify));
    else
        snprintf(why, n, "%s", reason ? reason : "the handshake failed");
}

struct bufferevent *tooltls_bufferevent(struct event_base *base, SSL_CTX *ctx, const char *host)
{
    if (!ctx)
        return bufferevent_socket_new(base, -1, BEV_OPT_CLOSE_ON_FREE);
    SSL *ssl = tooltls_new_ssl(ctx, host);
    if (!ssl)
        return NULL;
    /* fd -1: connecting makes the socket; CLOSE_ON_FREE frees the SSL with
     * it. No "dirty shutdown" allowed: libevent would report a refused
     * connect as an end of input then. */
    return bufferevent_openssl_socket_new(base, -1, ssl, BUFFEREVENT_SSL_CONNECTING,
                                          BEV_OPT_CLOSE_ON_FREE); /* failing, it frees ssl */
}

/* The first OpenSSL error libevent queued for a TLS bufferevent (0:
 * none), the cause; takes them all. libevent hands them back newest
 * first, and queues SSL_get_error's code too (no library): the last one
 * taken with a library is the first. */
static unsigned long bev_tls_error(struct bufferevent *bev)
{
    unsigned long e, first = 0;
    while ((e = bufferevent_get_openssl_error(bev)) != 0)
        if (ERR_GET_LIB(e) != 0)
            first = e;
    return first;
}

/* OpenSSL 3's word for a peer that closed without close_notify: for a
 * line protocol, whose lines are whole JSON messages, just an end. */
static bool is_unexpected_eof(unsigned long err)
{
#ifdef SSL_R_UNEXPECTED_EOF_WHILE_READING
    return ERR_GET_LIB(err) == ERR_LIB_SSL &&
           ERR_GET_REASON(err) == SSL_R_UNEXPECTED_EOF_WHILE_READING;
#else
    return false;
#endif
}

/* What a TLS client reads from a listener in the clear: its answer to a
 * ClientHello is no TLS record. */
static bool is_plain_peer(unsigned long err)
{
    int reason = ERR_GET_REASON(err);
    return ERR_GET_LIB(err) == ERR_LIB_SSL &&
           (reason == SSL_R_WRONG_VERSION_NUMBER || reason == SSL_R_PACKET_LENGTH_TOO_LONG);
}

LogLevel tooltls_failure(struct bufferevent *bev, short what, bool tls, bool connected,
                         bool logged_in, char *why, size_t n)
{
    static const char plain_hint[] = "; if kicd listens with TLS, give --tls or --tls-ca FILE";
    static const char tls_hint[] = "; does kicd listen with TLS ([tls] cert and key)?";
    static const char closed_hint[] = " during the TLS handshake; does kicd listen with TLS "
                                      "([tls] cert and key)?";
    int sock_err = EVUTIL_SOCKET_ERROR(); /* before anything else may set errno */
    SSL *ssl = tls ? bufferevent_openssl_get_ssl(bev) : NULL;
    unsigned long err = ssl ? bev_tls_error(bev) : 0;
    char reason[256];
    if (err && is_unexpected_eof(err)) {
        snprintf(why, n, "connection closed by kicd%s", connected ? "" : closed_hint);
        return !connected || logged_in ? LOG_WARN : LOG_INFO;
    }
    if (err || (ssl && SSL_get_verify_result(ssl) != X509_V_OK)) {
        tooltls_handshake_failure(ssl, err, reason, sizeof(reason));
        snprintf(why, n, "TLS: %s%s", reason, !connected && is_plain_peer(err) ? tls_hint : "");
        return LOG_ERROR;
    }
    toolnet_failure(bev, what, "kicd", reason, sizeof(reason));
    /* a TLS listener cuts a plain line; a plain one may cut a ClientHello */
    const char *hint = NULL;
    if (!tls && connected && !logged_in)
        hint = plain_hint;
    else if (tls && !connected && ((what & BEV_EVENT_EOF) || sock_err == ECONNRESET))
        hint = closed_hint;
    snprintf(why, n, "%s%s", reason, hint ? hint : "");
    return hint || logged_in ? LOG_WARN : LOG_INFO;
}
