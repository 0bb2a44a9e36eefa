/* The Asterisk path end to end: a real Asterisk recording (13 scenarios,
 * tests/fixtures/ami) replayed byte for byte by kic-ami-replay, the real
 * kic-ami-bridge, a real kicd and PostgreSQL; and the same run's
 * queue_log through `kicctl import-queue-log`. Both must give the
 * outcomes the scenarios file states, and each other's. Only Asterisk
 * itself is stood in for. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"

static Kicd kicd; /* shared by the tests; the crash test has its own */

/* One row of calls, as "answered|abandoned|transferred|agent|queue|
 * transfer_kind|transfer_mode|transfer_target|transferred_from|wait|hold". */
static char *outcome(const char *tenant, const char *call_id)
{
    char sql[1024];
    snprintf(sql, sizeof(sql),
             "SELECT concat_ws('|', answered, abandoned, transferred, coalesce(agent, '-'), queue,"
             " coalesce(transfer_kind, '-'), coalesce(transfer_mode, '-'),"
             " coalesce(transfer_target, '-'), coalesce(transferred_from, '-'),"
             " round(wait_s)::int, round(coalesce(hold_s, 0))::int)"
             " FROM calls JOIN tenants USING (tenant_id) WHERE tenants.name = '%s' AND call_id = '%s'",
             tenant, call_id);
    return h_sql_value(kicd.conninfo, sql);
}

static long long contacts(const char *tenant, const char *where)
{
    char sql[512];
    snprintf(sql, sizeof(sql),
             "SELECT count(*) FROM calls JOIN tenants USING (tenant_id) WHERE tenants.name = '%s'%s%s",
             tenant, where ? " AND " : "", where ? where : "");
    return h_sql_int(kicd.conninfo, sql);
}

/* Waits until the tenant has `n` contacts that are over. */
static bool wait_complete(const char *tenant, long long n, int seconds)
{
    for (int i = 0; i < seconds * 10; i++) {
        if (contacts(tenant, "complete") >= n)
            return true;
        usleep(100000);
    }
    return false;
}

/* What the scenarios file says (A-scenarios.md), by caller Uniqueid. The
 * hold of scenario 8 is known to AMI only: queue_log has no hold lines. */
static void assert_scenarios(const char *tenant, bool from_ami)
{
    struct {
        const char *call_id, *expect;
    } cases[] = {
        /* 1: answered after ~2 s, caller hangs up */
        {"1795349913.1", "t|f|f|anouk-jansen|huishoudelijke-zorg|-|-|-|-|2"},
        /* 2: answered after ~2 s, agent hangs up */
        {"1795349925.5", "t|f|f|bram-de-vries|huishoudelijke-zorg|-|-|-|-|2"},
        /* 3: abandoned after ~4 s */
        {"1795349935.9", "f|t|f|-|huishoudelijke-zorg|-|-|-|-|4"},
        /* 4: queue timeout after 8 s: not answered, the caller left unserved */
        {"1795349941.13", "f|t|f|-|thuiszorg|-|-|-|-|8"},
        /* 5: ring no answer, then another member answers (holdtime ~8 s) */
        {"1795349952.23", "t|f|f|bram-de-vries|huishoudelijke-zorg|-|-|-|-|8"},
        /* 6: blind transfer to extension 2001@xfer */
        {"1795349967.29", "t|f|t|chantal-bakker|huishoudelijke-zorg|external|blind|2001@xfer|-|2"},
        /* 11: blind transfer into the other queue: a new contact follows */
        {"1795350058.63", "t|f|t|bram-de-vries|huishoudelijke-zorg|queue|blind|thuiszorg|-|2"},
        {"1795350058.63-2", "t|f|f|esra-yilmaz|thuiszorg|-|-|-|1795350058.63|2"},
        /* 12: dynamic member group (ringall), answered after ~2 s */
        {"1795350076.71", "t|f|f|dirk-visser|thuiszorg|-|-|-|-|2"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char *got = outcome(tenant, cases[i].call_id);
        ck_assert_msg(strncmp(got, cases[i].expect, strlen(cases[i].expect)) == 0,
                      "%s: %s, expected %s", cases[i].call_id, got, cases[i].expect);
        free(got);
    }
    /* 7a, 7b: attended transfers (the AMI names the real target; the
     * queue_log only the bridge, so the target is checked for AMI) */
    char *a = outcome(tenant, "1795349980.33"), *b = outcome(tenant, "1795349997.39");
    ck_assert_msg(strstr(a, "|t|anouk-jansen|huishoudelijke-zorg|") && strstr(a, "|attended|"), "7a: %s", a);
    ck_assert_msg(strstr(b, "|t|bram-de-vries|huishoudelijke-zorg|") && strstr(b, "|attended|"), "7b: %s", b);
    if (from_ami) {
        ck_assert_msg(strstr(a, "|2002@xfer|"), "7a target: %s", a);
        ck_assert_msg(strstr(b, "|2003@xfer|"), "7b target: %s", b);
    }
    free(a);
    free(b);
    /* 8: a hold of ~4 s (AMI only) */
    char *h = outcome(tenant, "1795350015.45");
    ck_assert_msg(strncmp(h, "t|f|f|chantal-bakker|", 21) == 0, "8: %s", h);
    if (from_ami)
        ck_assert_msg(strlen(h) > 2 && strcmp(h + strlen(h) - 2, "|4") == 0, "8 hold: %s", h);
    free(h);
    /* 10: two callers at once, answered after ~4 s and ~8 s */
    char *x = outcome(tenant, "1795350042.53"), *y = outcome(tenant, "1795350042.55");
    ck_assert_msg(strstr(x, "|thuiszorg|-|-|-|-|4"), "10a: %s", x);
    ck_assert_msg(strstr(y, "|thuiszorg|-|-|-|-|8"), "10b: %s", y);
    free(x);
    free(y);
    /* 13 scenarios, two callers in 10 and a second contact in 11 */
    ck_assert_int_eq(contacts(tenant, NULL), 15);
    ck_assert_int_eq(contacts(tenant, "answered"), 13);
    ck_assert_int_eq(contacts(tenant, "abandoned"), 2);
    ck_assert_int_eq(contacts(tenant, "transferred"), 4);
}

START_TEST(bridge_delivers_the_recording_through_drops_and_a_kicd_crash)
{
    Kicd shared = kicd;
    kicd_init(&kicd, "asterisk_crash", NULL); /* this test kills its own kicd */
    kicd_start(&kicd);
    const char *tenant = "asterisk-ami";
    char *token = h_user(&kicd, tenant, "asterisk", "bridge", NULL, NULL);
    char *super = h_user(&kicd, tenant, "sup", "supervisor", NULL, NULL);
    int ami_port = h_free_port();
    char port[16], server[64], log[512];
    snprintf(port, sizeof(port), "%d", ami_port);
    snprintf(server, sizeof(server), "127.0.0.1:%d", kicd.port);
    snprintf(log, sizeof(log), "%s/ami.log", kicd.dir);
    /* Asterisk stand-in: the real bytes, slowly, cut twice mid-stream */
    const char *replay[] = {h_build_path("tools/kic-ami-bridge/kic-ami-replay"), "--file",
                            h_source_path("tests/fixtures/ami/A-ami.raw"), "--port", port,
                            "--chunk", "4096", "--interval-ms", "2", "--drop-at", "250000",
                            "--drop-at", "600000", NULL};
    pid_t rp = h_spawn(replay, log);
    usleep(300000);
    char ami[64];
    snprintf(ami, sizeof(ami), "127.0.0.1:%d", ami_port);
    const char *bridge[] = {h_build_path("tools/kic-ami-bridge/kic-ami-bridge"), "--ami", ami,
                            "--ami-user", "recorder", "--ami-secret", "x", "--server", server,
                            "--token", token, "--log-level", "info", NULL};
    pid_t bp = h_spawn(bridge, log);
    /* kicd dies mid-stream and comes back */
    usleep(700000);
    kicd_kill(&kicd);
    h_db_quiesce(kicd.conninfo);
    usleep(500000);
    kicd_start(&kicd);
    ck_assert_msg(wait_complete(tenant, 15, 60), "the bridge did not deliver every contact");
    ck_assert_int_eq(h_stop(bp, 15000), 0);
    h_stop(rp, 5000);
    assert_scenarios(tenant, true);
    /* nothing counted twice: one stored event per event id, live counts */
    ck_assert_int_eq(h_sql_int(kicd.conninfo, "SELECT count(*) FROM events"),
                     h_sql_int(kicd.conninfo, "SELECT count(*) FROM event_keys"));
    Client *s = cl_session(kicd.port, super);
    /* the recording's day, as the report gives it */
    json_t *r = cl_call(s, "report.query", "{\"from\":\"2026-11-22T00:00:00+01:00\","
                                           "\"to\":\"2026-11-23T00:00:00+01:00\",\"interval\":\"all\"}");
    json_t *res = ck_result(r), *cols = json_object_get(res, "columns");
    json_t *row = json_array_get(json_object_get(res, "rows"), 0), *total = json_object();
    size_t i;
    json_t *c;
    json_array_foreach(cols, i, c)
        json_object_set(total, json_string_value(c), json_array_get(row, i));
    ck_assert_int_eq(json_integer_value(json_object_get(total, "offered")), 15);
    ck_assert_int_eq(json_integer_value(json_object_get(total, "answered")), 13);
    ck_assert_int_eq(json_integer_value(json_object_get(total, "abandoned")), 2);
    ck_assert_double_eq_tol(json_real_value(json_object_get(total, "transfer_rate")), 4.0 / 13.0, 0.0001);
    json_decref(total);
    json_decref(r);
    cl_close(s);
    free(token);
    free(super);
    ck_assert(kicd_stop(&kicd));
    kicd = shared;
}
END_TEST

START_TEST(queue_log_import_gives_the_same_outcomes_and_is_idempotent)
{
    const char *tenant = "asterisk-qlog";
    char *token = h_user(&kicd, tenant, "importer", "bridge", NULL, NULL);
    char server[64];
    snprintf(server, sizeof(server), "127.0.0.1:%d", kicd.port);
    const char *argv[] = {getenv("KICCTL_BIN"), "--server", server, "--token", token,
                          "import-queue-log", h_source_path("tests/fixtures/ami/A-queue_log"), NULL};
    char *out = NULL;
    ck_assert_msg(h_run(&out, argv, NULL) == 0, "import failed: %s", out);
    free(out);
    ck_assert(wait_complete(tenant, 13, 10) || contacts(tenant, NULL) == 15);
    assert_scenarios(tenant, false);
    long long events = h_sql_int(kicd.conninfo, "SELECT count(*) FROM events e JOIN tenants t USING (tenant_id) WHERE t.name = 'asterisk-qlog'");
    /* importing twice changes nothing */
    ck_assert_int_eq(h_run(&out, argv, NULL), 0);
    ck_assert_msg(strstr(out, "43 accepted (43 already there)"), "second import: %s", out);
    free(out);
    ck_assert_int_eq(h_sql_int(kicd.conninfo, "SELECT count(*) FROM events e JOIN tenants t USING (tenant_id) WHERE t.name = 'asterisk-qlog'"), events);
    free(token);
}
END_TEST

/* A kicd that never answers: at SIGTERM the bridge waits its drain time,
 * then names in its log every event that is lost (the ids a queue_log
 * import restores), as many as it counts, and exits 1. */
START_TEST(a_drain_that_times_out_names_the_lost_events)
{
    int silent = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t alen = sizeof(a);
    ck_assert(bind(silent, (struct sockaddr *)&a, sizeof(a)) == 0 && listen(silent, 4) == 0);
    ck_assert(getsockname(silent, (struct sockaddr *)&a, &alen) == 0);
    int ami_port = h_free_port();
    char port[16], server[64], ami[64], log[512];
    snprintf(port, sizeof(port), "%d", ami_port);
    snprintf(server, sizeof(server), "127.0.0.1:%d", ntohs(a.sin_port));
    snprintf(ami, sizeof(ami), "127.0.0.1:%d", ami_port);
    snprintf(log, sizeof(log), "%s/ami-silent.log", kicd.dir);
    const char *replay[] = {h_build_path("tools/kic-ami-bridge/kic-ami-replay"), "--file",
                            h_source_path("tests/fixtures/ami/A-ami.raw"), "--port", port, NULL};
    pid_t rp = h_spawn(replay, log);
    usleep(300000);
    const char *bridge[] = {h_build_path("tools/kic-ami-bridge/kic-ami-bridge"), "--ami", ami,
                            "--ami-user", "recorder", "--ami-secret", "x", "--server", server,
                            "--token", "kic_never_checked", "--log-level", "info", NULL};
    pid_t bp = h_spawn(bridge, log);
    /* the recording is read: its events wait for kicd */
    bool sent = false;
    for (int i = 0; i < 400 && !sent; i++, usleep(50000)) {
        char *text = h_read_text(log);
        sent = text && strstr(text, "kic-ami-replay: all ");
        free(text);
    }
    ck_assert(sent);
    sleep(1);
    ck_assert_int_eq(h_stop(bp, 20000), 1);
    h_stop(rp, 5000);
    close(silent);
    char *text = h_read_text(log);
    const char *count = strstr(text, "drain timed out: ");
    ck_assert_msg(count, "no drain timeout in %s", log);
    int lost = atoi(count + strlen("drain timed out: ")), named = 0;
    for (const char *p = text; (p = strstr(p, "lost, not answered by kicd: ")); p++)
        named++;
    ck_assert_int_gt(lost, 10);
    ck_assert_int_eq(named, lost);
    ck_assert(strstr(text, "lost, not answered by kicd: call.offered ast-1795349913.1-off\n"));
    free(text);
}
END_TEST

int main(void)
{
    kicd_init(&kicd, "asterisk", NULL);
    kicd_start(&kicd);
    Suite *s = suite_create("asterisk");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 180);
    tcase_add_test(tc, queue_log_import_gives_the_same_outcomes_and_is_idempotent);
    tcase_add_test(tc, bridge_delivers_the_recording_through_drops_and_a_kicd_crash);
    tcase_add_test(tc, a_drain_that_times_out_names_the_lost_events);
    suite_add_tcase(s, tc);
    return h_run_suite(s, &kicd);
}
