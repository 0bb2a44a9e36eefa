/* The libevent tools over TLS, against a real kicd with a [tls] listener
 * whose certificate a test CA signed (for localhost and 127.0.0.1):
 * kic-ami-bridge delivers a real AMI recording (replayed by
 * kic-ami-replay) with --tls-ca and an IP address, and kic-sim back-fills
 * days with --tls-ca and a host name. A plain bridge is told why kicd
 * cuts it off, and one trusting another CA says the certificate is not
 * trusted, retrying with its back-off without leaking a connection (in a
 * sanitizer build the tools run with leak detection). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"

static Kicd kicd;
static char cert_dir[256];

/* Leak detection for the tools the tests start (ctest turns it off for
 * the test programs themselves); no effect without sanitizers. */
#define TOOL_ASAN_OPTIONS "detect_leaks=1:halt_on_error=1"

/* A path in the certificates' folder, in one of 4 rotating buffers. */
static const char *cert_path(const char *name)
{
    static char bufs[4][320];
    static int next;
    char *b = bufs[next++ % 4];
    snprintf(b, sizeof(bufs[0]), "%s/%s", cert_dir, name);
    return b;
}

/* A test CA, kicd's certificate signed by it (naming localhost and
 * 127.0.0.1), and a second CA that signed nothing of kicd's. */
static void make_certificates(void)
{
    snprintf(cert_dir, sizeof(cert_dir), "%s/kic-tools-tls-XXXXXX", h_tmp_dir());
    if (!mkdtemp(cert_dir))
        abort();
    char cmd[2048], *out = NULL;
    snprintf(cmd, sizeof(cmd),
             "cd %s && "
             "openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=kic-test-ca "
             "-keyout ca.key -out ca.pem && "
             "openssl req -newkey rsa:2048 -nodes -subj /CN=localhost -keyout key.pem "
             "-out kicd.csr && "
             "printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\\n' >san.ext && "
             "openssl x509 -req -in kicd.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 "
             "-extfile san.ext -out cert.pem && "
             "openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=another-ca "
             "-keyout other.key -out other.pem 2>&1",
             cert_dir);
    const char *argv[] = {"/bin/sh", "-c", cmd, NULL};
    if (h_run(&out, argv, NULL) != 0) {
        fprintf(stderr, "making the test certificates failed (run scripts/bootstrap): %s\n",
                out ? out : "");
        exit(1);
    }
    free(out);
}

static long long complete_contacts(const char *tenant)
{
    char sql[512];
    snprintf(sql, sizeof(sql),
             "SELECT count(*) FROM calls JOIN tenants USING (tenant_id) WHERE tenants.name = '%s'"
             " AND complete",
             tenant);
    return h_sql_int(kicd.conninfo, sql);
}

/* Waits until the tenant has n contacts that are over. */
static bool wait_complete(const char *tenant, long long n, int seconds)
{
    for (int i = 0; i < seconds * 10; i++) {
        if (complete_contacts(tenant) >= n)
            return true;
        usleep(100000);
    }
    return false;
}

/* Waits until the file has `times` lines containing needle. */
static bool log_shows(const char *path, const char *needle, int times, int seconds)
{
    for (int i = 0; i < seconds * 10; i++) {
        char *text = h_read_text(path);
        int seen = 0;
        for (const char *p = text; (p = strstr(p, needle)); p++)
            seen++;
        free(text);
        if (seen >= times)
            return true;
        usleep(100000);
    }
    return false;
}

/* No sanitizer report in a tool's log; prints it if there is one. */
static bool tool_log_clean(const char *path)
{
    static const char *const bad[] = {"AddressSanitizer", "LeakSanitizer", "runtime error:",
                                      "SUMMARY:"};
    char *text = h_read_text(path);
    bool clean = true;
    for (size_t i = 0; i < KIC_ARRAY_LEN(bad); i++)
        clean = clean && !strstr(text, bad[i]);
    if (!clean)
        fprintf(stderr, "%s:\n%s\n", path, text);
    free(text);
    return clean;
}

/* Starts kic-ami-bridge towards kicd (at host) with the extra options
 * (NULL-terminated, up to 4) and AMI at ami_port; its log goes to log. */
static pid_t spawn_bridge(const char *host, int ami_port, const char *token, const char *log,
                          const char *const *extra)
{
    char ami[64], server[300];
    snprintf(ami, sizeof(ami), "127.0.0.1:%d", ami_port);
    snprintf(server, sizeof(server), "%s:%d", host, kicd.port);
    const char *argv[24] = {h_build_path("tools/kic-ami-bridge/kic-ami-bridge"), "--ami", ami,
                            "--ami-user", "recorder", "--ami-secret", "x", "--server", server,
                            "--token", token, "--log-level", "info"};
    int n = 13;
    for (int i = 0; extra && extra[i] && i < 4; i++)
        argv[n++] = extra[i];
    argv[n] = NULL;
    /* h_spawn's child inherits the environment as it is at the fork */
    const char *was = getenv("ASAN_OPTIONS");
    char *saved = was ? strdup(was) : NULL;
    setenv("ASAN_OPTIONS", TOOL_ASAN_OPTIONS, 1);
    pid_t pid = h_spawn(argv, log);
    if (saved)
        setenv("ASAN_OPTIONS", saved, 1);
    else
        unsetenv("ASAN_OPTIONS");
    free(saved);
    return pid;
}

START_TEST(the_bridge_delivers_a_recording_over_tls)
{
    const char *tenant = h_tenant("tls-ami");
    char *token = h_user(&kicd, tenant, "asterisk", "bridge", NULL, NULL);
    int ami_port = h_free_port();
    char port[16], log[512];
    snprintf(port, sizeof(port), "%d", ami_port);
    snprintf(log, sizeof(log), "%s/tls-ami.log", kicd.dir);
    const char *replay[] = {h_build_path("tools/kic-ami-bridge/kic-ami-replay"), "--file",
                            h_source_path("tests/fixtures/ami/A-ami.raw"), "--port", port, NULL};
    pid_t rp = h_spawn(replay, log);
    usleep(300000);
    /* an IP address: the certificate's IP entry is what is checked */
    const char *tls[] = {"--tls-ca", cert_path("ca.pem"), NULL};
    pid_t bp = spawn_bridge("127.0.0.1", ami_port, token, log, tls);
    /* the recording's 13 scenarios make 15 contacts */
    bool delivered = wait_complete(tenant, 15, 60);
    int rc = h_stop(bp, 15000);
    h_stop(rp, 5000);
    char *text = h_read_text(log);
    ck_assert_msg(delivered, "the bridge did not deliver every contact over TLS (log: %s)", log);
    ck_assert_msg(strstr(text, "over TLS") && strstr(text, ": logged in (tenant "),
                  "no login over TLS (log: %s)", log);
    ck_assert_msg(!strstr(text, "TLS: "), "a TLS failure (log: %s)", log);
    ck_assert_msg(strstr(text, " rejected, 0 unanswered"), "events left (log: %s)", log);
    free(text);
    ck_assert(tool_log_clean(log));
    ck_assert_int_eq(rc, 0);
    free(token);
}
END_TEST

START_TEST(a_plain_bridge_is_told_to_give_tls)
{
    char log[512];
    snprintf(log, sizeof(log), "%s/tls-plain.log", kicd.dir);
    /* no AMI there: only the kicd side matters */
    pid_t bp = spawn_bridge("127.0.0.1", h_free_port(), "kic_never_checked", log, NULL);
    bool hinted = log_shows(log, "if kicd listens with TLS, give --tls or --tls-ca FILE", 1, 10);
    int rc = h_stop(bp, 15000);
    char *text = h_read_text(log);
    ck_assert_msg(hinted, "no hint (log: %s)", log);
    ck_assert_msg(strstr(text, " warn kicd 127.0.0.1:"), "the hint is not a warning (log: %s)",
                  log);
    free(text);
    ck_assert(tool_log_clean(log));
    ck_assert_int_eq(rc, 0);
    /* kicd saw a line in the clear where a handshake belonged */
    ck_assert(kicd_log_shows(&kicd, "wrong version number"));
}
END_TEST

START_TEST(a_bridge_trusting_another_ca_says_why_and_retries)
{
    char log[512];
    snprintf(log, sizeof(log), "%s/tls-untrusted.log", kicd.dir);
    /* KIC_TLS_CA alone turns TLS on, as --tls-ca does */
    setenv("KIC_TLS_CA", cert_path("other.pem"), 1);
    pid_t bp = spawn_bridge("localhost", h_free_port(), "kic_never_checked", log, NULL);
    unsetenv("KIC_TLS_CA");
    /* three handshakes, each with a fresh SSL freed with its connection */
    bool said = log_shows(log, "TLS: the certificate is not trusted: ", 3, 15);
    int rc = h_stop(bp, 15000);
    char *text = h_read_text(log);
    ck_assert_msg(said, "not three failed handshakes named as such (log: %s)", log);
    ck_assert_msg(strstr(text, " error kicd localhost:"), "not logged as an error (log: %s)", log);
    ck_assert_msg(strstr(text, "reconnecting in"), "no retry (log: %s)", log);
    free(text);
    ck_assert(tool_log_clean(log));
    ck_assert_int_eq(rc, 0);
}
END_TEST

START_TEST(kic_sim_backfills_over_tls)
{
    const char *tenant = h_tenant("tls-sim");
    char *token = h_user(&kicd, tenant, "pbx", "bridge", NULL, NULL);
    char server[64], summary[512], until[40];
    snprintf(server, sizeof(server), "localhost:%d", kicd.port);
    snprintf(summary, sizeof(summary), "%s/tls-sim.json", kicd.dir);
    /* a fixed end a little in the past: two days of calls before it */
    KicTime end = h_today(0) / (60 * KIC_USEC) * (60 * KIC_USEC) - 60 * KIC_USEC;
    time_format_local(end, until, sizeof(until));
    const char *argv[] = {h_build_path("tools/kic-sim/kic-sim"), "--server", server,
                          "--tls-ca", cert_path("ca.pem"), "--bridge-token", token,
                          "--days", "2", "--until", until, "--calls-per-year", "50000",
                          "--seed", "11", "--summary", summary, "--no-progress", NULL};
    const char *env[] = {"ASAN_OPTIONS=" TOOL_ASAN_OPTIONS, NULL};
    char *out = NULL;
    int rc = h_run(&out, argv, env);
    printf("%s", out); /* kic-sim's log in the test's output */
    fflush(stdout);
    ck_assert_msg(!strstr(out, "TLS: ") && !strstr(out, "Sanitizer"), "kic-sim's log above");
    ck_assert_msg(rc == 0, "kic-sim over TLS exited %d", rc);
    free(out);
    json_t *sum = json_load_file(summary, 0, NULL);
    ck_assert_ptr_nonnull(sum);
    ck_assert(json_is_true(json_object_get(sum, "complete")));
    long long contacts = json_integer_value(json_object_get(sum, "contacts"));
    ck_assert_int_gt(contacts, 0);
    char sql[512];
    snprintf(sql, sizeof(sql),
             "SELECT count(*) FROM calls JOIN tenants USING (tenant_id) WHERE tenants.name = '%s'",
             tenant);
    ck_assert_int_eq(h_sql_int(kicd.conninfo, sql), contacts);
    json_decref(sum);
    free(token);
}
END_TEST

int main(void)
{
    make_certificates();
    char conf[1024];
    snprintf(conf, sizeof(conf), "[tls]\ncert = %s\nkey = %s\n", cert_path("cert.pem"),
             cert_path("key.pem"));
    kicd_init(&kicd, "tools_tls", conf);
    kicd_start(&kicd);
    Suite *s = suite_create("tools_tls");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, the_bridge_delivers_a_recording_over_tls);
    tcase_add_test(tc, a_plain_bridge_is_told_to_give_tls);
    tcase_add_test(tc, a_bridge_trusting_another_ca_says_why_and_retries);
    tcase_add_test(tc, kic_sim_backfills_over_tls);
    suite_add_tcase(s, tc);
    int rc = h_run_suite(s, &kicd);
    h_remove_dir(cert_dir);
    return rc;
}
