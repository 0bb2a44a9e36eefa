/* The TLS context and TLS bufferevents of both listeners (tls.h). */
#include "tls.h"

#include <event2/bufferevent_ssl.h>
#include <openssl/err.h>

static void openssl_error(const char *what, const char *file, char *err, size_t errlen)
{
    char detail[256];
    ERR_error_string_n(ERR_get_error(), detail, sizeof(detail));
    snprintf(err, errlen, "tls: %s %s: %s", what, file, detail);
}

SSL_CTX *tls_context(const char *cert_file, const char *key_file, char *err, size_t errlen)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
    if (!ctx) {
        openssl_error("cannot create a context for", cert_file, err, errlen);
        return NULL;
    }
    /* TLS 1.0 and 1.1 are deprecated (RFC 8996); no compression (CRIME);
     * the server's cipher order; no renegotiation by the client. */
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION | SSL_OP_CIPHER_SERVER_PREFERENCE |
                                 SSL_OP_NO_RENEGOTIATION);
    if (SSL_CTX_use_certificate_chain_file(ctx, cert_file) != 1) {
        openssl_error("cannot read the certificate", cert_file, err, errlen);
    } else if (SSL_CTX_use_PrivateKey_file(ctx, key_file, SSL_FILETYPE_PEM) != 1) {
        openssl_error("cannot read the key", key_file, err, errlen);
    } else if (SSL_CTX_check_private_key(ctx) != 1) {
        openssl_error("the key does not match the certificate", cert_file, err, errlen);
    } else {
        return ctx;
    }
    SSL_CTX_free(ctx);
    return NULL;
}

struct bufferevent *tls_bufferevent(struct event_base *base, SSL_CTX *ctx, evutil_socket_t fd)
{
    SSL *ssl = SSL_new(ctx);
    if (!ssl)
        return NULL;
    /* on failure libevent frees the SSL itself (BEV_OPT_CLOSE_ON_FREE) */
    struct bufferevent *bev = bufferevent_openssl_socket_new(
        base, fd, ssl, BUFFEREVENT_SSL_ACCEPTING, BEV_OPT_CLOSE_ON_FREE);
    if (!bev)
        return NULL;
    /* a client that closes without close_notify is common, not an attack */
    bufferevent_openssl_set_allow_dirty_shutdown(bev, 1);
    return bev;
}

bool tls_error_text(struct bufferevent *bev, char *out, size_t outlen)
{
    /* libevent hands the errors back newest first: the last one taken with
     * a library is the first queued, the cause (it also queues
     * SSL_get_error's code, which has none) */
    unsigned long e, first = 0;
    while ((e = bufferevent_get_openssl_error(bev)) != 0)
        if (ERR_GET_LIB(e) != 0)
            first = e;
    if (first)
        ERR_error_string_n(first, out, outlen);
    return first != 0;
}

bool tls_is(struct bufferevent *bev)
{
    return bufferevent_openssl_get_ssl(bev) != NULL;
}
