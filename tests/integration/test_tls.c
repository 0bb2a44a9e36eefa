/* TLS on both listeners, against a real kicd with a certificate made for
 * the test: JSON-RPC and HTTPS work over TLS 1.2+, TLS 1.1 and plain
 * text are refused at the handshake, and a bad handshake does not
 * disturb anyone else. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "harness.h"

static Kicd kicd;
static char cert_dir[256];

static int tcp_connect(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ck_assert_msg(connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0, "connect: %s", strerror(errno));
    struct timeval tv = {10, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    return fd;
}

typedef struct Tls {
    SSL_CTX *ctx;
    SSL *ssl;
    int fd;
} Tls;

/* A client that trusts only the test's certificate; max_version 0: any. */
static bool tls_open(Tls *t, int port, int max_version)
{
    char ca[300];
    snprintf(ca, sizeof(ca), "%s/cert.pem", cert_dir);
    t->ctx = SSL_CTX_new(TLS_client_method());
    if (max_version) {
        SSL_CTX_set_security_level(t->ctx, 0); /* let the client offer the old version */
        SSL_CTX_set_min_proto_version(t->ctx, TLS1_VERSION);
        SSL_CTX_set_max_proto_version(t->ctx, max_version);
    }
    ck_assert_int_eq(SSL_CTX_load_verify_locations(t->ctx, ca, NULL), 1);
    SSL_CTX_set_verify(t->ctx, SSL_VERIFY_PEER, NULL);
    t->fd = tcp_connect(port);
    t->ssl = SSL_new(t->ctx);
    SSL_set_fd(t->ssl, t->fd);
    SSL_set_tlsext_host_name(t->ssl, "localhost");
    SSL_set1_host(t->ssl, "localhost");
    return SSL_connect(t->ssl) == 1;
}

static void tls_close(Tls *t)
{
    SSL_free(t->ssl);
    SSL_CTX_free(t->ctx);
    close(t->fd);
}

static void tls_write(Tls *t, const char *s)
{
    ck_assert_int_eq(SSL_write(t->ssl, s, (int)strlen(s)), (int)strlen(s));
}

/* Reads until `needle` (or the end); returns what was read. */
static char *tls_read_until(Tls *t, const char *needle)
{
    size_t len = 0, cap = 65536;
    char *buf = malloc(cap);
    buf[0] = '\0';
    while (!strstr(buf, needle) && len + 1 < cap) {
        int n = SSL_read(t->ssl, buf + len, (int)(cap - len - 1));
        if (n <= 0)
            break;
        len += (size_t)n;
        buf[len] = '\0';
    }
    return buf;
}

/* A new TLS client's server.ping is answered. */
static void pinged_over_tls(void)
{
    Tls t;
    ck_assert(tls_open(&t, kicd.port, 0));
    tls_write(&t, "{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":\"server.ping\"}\n");
    char *got = tls_read_until(&t, "\n");
    ck_assert_msg(strstr(got, "\"id\":7"), "%s", got);
    free(got);
    tls_close(&t);
}

START_TEST(json_rpc_over_tls)
{
    char *token = h_user(&kicd, h_tenant("tls"), "sup", "supervisor", NULL, NULL);
    Tls t;
    ck_assert_msg(tls_open(&t, kicd.port, 0), "handshake failed");
    ck_assert_int_ge(SSL_version(t.ssl), TLS1_2_VERSION);
    char line[512];
    snprintf(line, sizeof(line),
             "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"auth.login\",\"params\":{\"token\":\"%s\"}}\n"
             "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"stats.live\"}\n",
             token);
    tls_write(&t, line);
    char *got = tls_read_until(&t, "\"id\":2");
    ck_assert_msg(strstr(got, "\"role\":\"supervisor\""), "login over TLS: %s", got);
    ck_assert_msg(strstr(got, "\"total\""), "stats.live over TLS: %s", got);
    free(got);
    tls_close(&t);
    free(token);
}
END_TEST

START_TEST(https_serves_the_same)
{
    Tls t;
    ck_assert_msg(tls_open(&t, kicd.http_port, 0), "handshake failed");
    tls_write(&t, "GET /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
    char *got = tls_read_until(&t, "}");
    ck_assert_msg(strstr(got, "HTTP/1.1 200") && strstr(got, "\"status\":\"ok\""), "%s", got);
    free(got);
    tls_close(&t);
}
END_TEST

START_TEST(old_tls_and_plain_text_are_refused)
{
    /* TLS 1.1 at most: the handshake fails */
    Tls t;
    ck_assert_msg(!tls_open(&t, kicd.port, TLS1_1_VERSION), "TLS 1.1 was accepted");
    tls_close(&t);
    ck_assert_msg(!tls_open(&t, kicd.http_port, TLS1_1_VERSION), "TLS 1.1 was accepted (HTTP)");
    tls_close(&t);
    /* JSON in the clear gets no JSON back */
    int fd = tcp_connect(kicd.port);
    const char *plain = "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"server.ping\"}\n";
    ck_assert(write(fd, plain, strlen(plain)) > 0);
    char buf[512];
    ssize_t n = read(fd, buf, sizeof(buf) - 1);
    buf[n > 0 ? n : 0] = '\0';
    ck_assert_ptr_null(strstr(buf, "jsonrpc"));
    close(fd);
    /* and someone who does it right is served meanwhile */
    pinged_over_tls();
}
END_TEST

/* A self-signed certificate for localhost, made with the openssl tool. */
static void make_certificate(void)
{
    snprintf(cert_dir, sizeof(cert_dir), "%s/kic-tls-XXXXXX", h_tmp_dir());
    if (!mkdtemp(cert_dir))
        abort();
    char cmd[1024], *out = NULL;
    snprintf(cmd, sizeof(cmd),
             "openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=localhost "
             "-addext subjectAltName=DNS:localhost -keyout %s/key.pem -out %s/cert.pem 2>&1",
             cert_dir, cert_dir);
    const char *argv[] = {"/bin/sh", "-c", cmd, NULL};
    if (h_run(&out, argv, NULL) != 0) {
        fprintf(stderr, "openssl req failed (run scripts/bootstrap): %s\n", out ? out : "");
        exit(1);
    }
    free(out);
}

/* kicctl over TLS: `report` with --tls-ca (or KIC_TLS_CA) trusting the
 * test's certificate; refused without TLS, against the system's CAs, and
 * when the certificate does not name the host asked for. */
static int kicctl_report(const char *server, const char *token, const char *ca, const char *env,
                         char **out)
{
    char port_server[64], tok[160];
    snprintf(port_server, sizeof(port_server), "%s:%d", server, kicd.port);
    snprintf(tok, sizeof(tok), "%s", token);
    const char *argv[24];
    int n = 0;
    argv[n++] = getenv("KICCTL_BIN");
    argv[n++] = "--server";
    argv[n++] = port_server;
    argv[n++] = "--token";
    argv[n++] = tok;
    if (ca && *ca) {
        argv[n++] = "--tls-ca";
        argv[n++] = ca;
    } else if (ca) {
        argv[n++] = "--tls"; /* "": the system's CAs */
    }
    argv[n++] = "report";
    argv[n++] = "--from";
    argv[n++] = "2026-11-01";
    argv[n++] = "--to";
    argv[n++] = "2026-11-02";
    argv[n++] = "--interval";
    argv[n++] = "all";
    argv[n++] = "--format";
    argv[n++] = "csv";
    argv[n] = NULL;
    const char *envv[] = {env, NULL};
    return h_run(out, argv, env ? envv : NULL);
}

START_TEST(kicctl_speaks_tls)
{
    char *token = h_user(&kicd, h_tenant("tlsctl"), "sup", "supervisor", NULL, NULL);
    char ca[300], ca_env[320], *out = NULL;
    snprintf(ca, sizeof(ca), "%s/cert.pem", cert_dir);
    snprintf(ca_env, sizeof(ca_env), "KIC_TLS_CA=%s", ca);
    int rc = kicctl_report("localhost", token, ca, NULL, &out);
    ck_assert_msg(rc == 0, "kicctl report over TLS: %d: %s", rc, out);
    ck_assert_msg(strstr(out, "offered"), "no CSV: %s", out);
    free(out);
    ck_assert_int_eq(kicctl_report("localhost", token, NULL, ca_env, &out), 0);
    free(out);
    /* plain text to a TLS listener: no answer, and a hint why */
    ck_assert_int_ne(kicctl_report("localhost", token, NULL, NULL, &out), 0);
    ck_assert_msg(strstr(out, "give --tls or --tls-ca FILE"), "%s", out);
    free(out);
    /* the system's CAs do not know the test's certificate */
    ck_assert_int_ne(kicctl_report("localhost", token, "", NULL, &out), 0);
    ck_assert_msg(strstr(out, "not trusted"), "%s", out);
    free(out);
    /* the certificate names localhost, not 127.0.0.1 */
    ck_assert_int_ne(kicctl_report("127.0.0.1", token, ca, NULL, &out), 0);
    ck_assert_msg(strstr(out, "not trusted"), "%s", out);
    free(out);
    free(token);
}
END_TEST

/* A client that sends a stream of events and goes (no close_notify)
 * while its answers are due: libevent's TLS bufferevent reports that as
 * an end of input and writes nothing more, and kicd waited for its
 * answers to drain until the idle timer (for ever with idle_timeout_s 0),
 * holding the connection. Now it closes at once (found by a probe). */
START_TEST(a_client_gone_with_answers_due_is_closed)
{
    char *token = h_user(&kicd, h_tenant("tlsgone"), "pbx", "bridge", NULL, NULL);
    size_t cap = 4000 * 200, len = 0;
    char *events = malloc(cap);
    for (int i = 0; i < 3000; i++)
        len += (size_t)snprintf(events + len, cap - len,
                                "{\"jsonrpc\":\"2.0\",\"id\":%d,\"method\":\"call.offered\",\"params\":"
                                "{\"event_id\":\"g%d\",\"call_id\":\"g%d\",\"at\":\"%s\",\"queue\":\"q\"}}\n",
                                i + 10, i, i, h_at(h_today(60), 0));
    int closed_before = kicd_log_count(&kicd, "closed: ");
    for (int round = 0; round < 3; round++) {
        Tls t;
        ck_assert(tls_open(&t, kicd.port, 0));
        char login[256];
        snprintf(login, sizeof(login),
                 "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"auth.login\",\"params\":{\"token\":\"%s\"}}\n", token);
        tls_write(&t, login);
        free(tls_read_until(&t, "\n"));
        ck_assert_int_eq(SSL_write(t.ssl, events, (int)len), (int)len);
        tls_close(&t); /* no close_notify, nothing read */
    }
    int closed = 0;
    for (int i = 0; i < 150 && closed < 3; i++) {
        usleep(100000);
        closed = kicd_log_count(&kicd, "closed: ") - closed_before;
    }
    ck_assert_msg(closed >= 3, "%d of 3 connections gone without reading were closed", closed);
    /* and kicd serves on */
    pinged_over_tls();
    free(events);
    free(token);
}
END_TEST

int main(void)
{
    make_certificate();
    char conf[1024];
    snprintf(conf, sizeof(conf), "[tls]\ncert = %s/cert.pem\nkey = %s/key.pem\n", cert_dir, cert_dir);
    kicd_init(&kicd, "tls", conf);
    kicd_start(&kicd);
    Suite *s = suite_create("tls");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, json_rpc_over_tls);
    tcase_add_test(tc, https_serves_the_same);
    tcase_add_test(tc, old_tls_and_plain_text_are_refused);
    tcase_add_test(tc, kicctl_speaks_tls);
    tcase_add_test(tc, a_client_gone_with_answers_due_is_closed);
    suite_add_tcase(s, tc);
    int rc = h_run_suite(s, &kicd);
    h_remove_dir(cert_dir);
    return rc;
}
