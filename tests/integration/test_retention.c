/* Retention (migrations/0006, 0021, kicctl purge, kicd's daily job): raw
 * events and notes older than retention_days go, by dropping whole
 * monthly partitions and deleting the rest; closed callbacks lose their numbers, open ones keep
 * them; audit rows are kept five years; derived tables stay. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"

static Kicd kicd;

static long long q(const char *sql)
{
    return h_sql_int(kicd.conninfo, sql);
}

/* Rows of every kind, old and new, written as storage holds them. */
static void old_and_new_rows(void)
{
    h_sql_exec(kicd.conninfo, "SELECT kic_event_partition((now() - interval '700 days')::date)");
    /* either side of a 400-day cutoff, most often in one month's partition */
    h_sql_exec(kicd.conninfo, "SELECT kic_event_partition((now() - interval '400 days 1 hour')::date)");
    h_sql_exec(kicd.conninfo, "SELECT kic_event_partition((now() - interval '399 days')::date)");
    h_sql_exec(kicd.conninfo,
               "INSERT INTO events (tenant_id, call_id, at, event_id, type, payload) VALUES"
               " (1, 'edge', now() - interval '400 days 1 hour', 'e-edge', 'call.offered', '{\"note\":\"x\"}'),"
               " (1, 'kept', now() - interval '399 days', 'e-kept', 'call.offered', '{}'),"
               " (1, 'old', now() - interval '700 days', 'e-old', 'call.offered', '{}'),"
               " (1, 'new', now() - interval '10 days', 'e-new', 'call.offered', '{}'),"
               " (1, 'odd', now() - interval '30 years', 'e-odd', 'call.offered', '{}')");
    h_sql_exec(kicd.conninfo,
               "INSERT INTO event_keys (tenant_id, event_id, at) VALUES"
               " (1, 'e-old', now() - interval '700 days'), (1, 'e-new', now() - interval '10 days'),"
               " (1, 'e-odd', now() - interval '30 years')");
    h_sql_exec(kicd.conninfo,
               "INSERT INTO wrapups (tenant_id, call_id, agent, at, category, resolved, note) VALUES"
               " (1, 'old', 'a', now() - interval '500 days', 'klacht', true, 'oud verhaal'),"
               " (1, 'new', 'a', now() - interval '5 days', 'klacht', true, 'nieuw verhaal')");
    h_sql_exec(kicd.conninfo,
               "INSERT INTO callback_notes (tenant_id, callback_id, at, agent, note) VALUES"
               " (1, 'cb-old', now() - interval '500 days', 'a', 'oud'),"
               " (1, 'cb-new', now() - interval '5 days', 'a', 'nieuw')");
    h_sql_exec(kicd.conninfo,
               "INSERT INTO callbacks (tenant_id, callback_id, source, team, number, status, created_at, due_by) VALUES"
               " (1, 'cb-open', 'ivr', 'kic', '+31612345679', 'open', now() - interval '2 days', now())");
    h_sql_exec(kicd.conninfo,
               "INSERT INTO audit_log (tenant_id, at, user_name, role, action) VALUES"
               " (1, now() - interval '6 years', 'x', 'agent', 'caller.history'),"
               " (1, now() - interval '4 years', 'x', 'agent', 'caller.history')");
    h_sql_exec(kicd.conninfo, "INSERT INTO tenants (name) VALUES ('retention') ON CONFLICT DO NOTHING");
}

START_TEST(purge_removes_what_is_past_and_keeps_the_rest)
{
    old_and_new_rows();
    char *out = NULL;
    ck_assert_int_eq(h_kicctl(&kicd, &out, "purge", "--days", "400", NULL), 0);
    ck_assert_ptr_nonnull(strstr(out, "event partitions"));
    free(out);
    /* events: the old month's partition is gone; the default partition's
     * ancient row too; the recent one stays, as do their keys */
    ck_assert_int_eq(q("SELECT count(*) FROM events WHERE event_id = 'e-old'"), 0);
    ck_assert_int_eq(q("SELECT count(*) FROM events WHERE event_id = 'e-odd'"), 0);
    ck_assert_int_eq(q("SELECT count(*) FROM events WHERE event_id = 'e-new'"), 1);
    /* within the month the cutoff falls in: what is older goes too */
    ck_assert_int_eq(q("SELECT count(*) FROM events WHERE event_id = 'e-edge'"), 0);
    ck_assert_int_eq(q("SELECT count(*) FROM events WHERE event_id = 'e-kept'"), 1);
    ck_assert_int_eq(q("SELECT count(*) FROM pg_class WHERE relname = 'events_' ||"
                       " to_char(now() - interval '700 days', 'YYYY_MM')"), 0);
    ck_assert_int_eq(q("SELECT count(*) FROM event_keys WHERE event_id IN ('e-old', 'e-odd')"), 0);
    ck_assert_int_eq(q("SELECT count(*) FROM event_keys WHERE event_id = 'e-new'"), 1);
    /* notes: old ones gone (the wrap-up itself stays), new ones kept */
    ck_assert_int_eq(q("SELECT count(*) FROM wrapups WHERE note IS NULL AND call_id = 'old'"), 1);
    ck_assert_int_eq(q("SELECT count(*) FROM wrapups WHERE note = 'nieuw verhaal'"), 1);
    ck_assert_int_eq(q("SELECT count(*) FROM callback_notes"), 1);
    /* numbers: only where someone still has to call; storage refuses a
     * closed callback with one */
    ck_assert_int_eq(q("SELECT count(*) FROM callbacks WHERE callback_id = 'cb-open' AND number IS NOT NULL"), 1);
    PGconn *db = PQconnectdb(kicd.conninfo);
    PGresult *r = PQexec(db, "UPDATE callbacks SET status = 'done' WHERE callback_id = 'cb-open'");
    ck_assert_int_eq(PQresultStatus(r), PGRES_FATAL_ERROR);
    PQclear(r);
    PQfinish(db);
    /* audit: five years */
    ck_assert_int_eq(q("SELECT count(*) FROM audit_log WHERE user_name = 'x'"), 1);
    /* twice is harmless */
    ck_assert_int_eq(h_kicctl(&kicd, NULL, "purge", "--days", "400", NULL), 0);
    ck_assert_int_ne(h_kicctl(&kicd, NULL, "purge", "--days", "0", NULL), 0);
    ck_assert_int_ne(h_kicctl(&kicd, NULL, "purge", "--days", "soon", NULL), 0);
    /* the audit log stays insert-only otherwise */
    ck_assert_int_eq(q("SELECT count(*) FROM audit_log WHERE at > now() - interval '5 years'") > 0, 1);
}
END_TEST

START_TEST(kicd_runs_the_job_when_it_starts)
{
    for (int i = 0; i < 400 && !kicd_log_contains(&kicd, "retention: removed"); i++)
        usleep(50000);
    ck_assert(kicd_log_contains(&kicd, "retention: removed"));
}
END_TEST

/* The purge takes a call's events and their keys; one of them sent again
 * is a duplicate and changes nothing, neither the call nor the sums
 * (migration 0012). Taken as new it rebuilt the call from itself alone
 * and counted the contact twice. After a restart too. */
static json_t *resend(Client *b, const char *method, const char *id, KicTime at, const char *extra)
{
    char at_text[40];
    time_format_utc(at, at_text, sizeof(at_text));
    return ck_ok(cl_call(b, method, "{\"event_id\":\"%s\",\"call_id\":\"hz1\",\"at\":\"%s\"%s}", id,
                         at_text, extra));
}

static void ck_duplicate(json_t *resp, bool dup)
{
    json_t *result = json_object_get(resp, "result");
    ck_assert(json_is_true(json_object_get(result, "accepted")));
    ck_assert_int_eq(json_is_true(json_object_get(result, "duplicate")), dup);
    json_decref(resp);
}

START_TEST(a_resend_from_before_the_purge_is_a_duplicate)
{
    Kicd k; /* its own: the test restarts it */
    kicd_init(&k, "retention_horizon", "[storage]\nretention_days = 400\n");
    kicd_start(&k);
    const char *tenant = strdup(h_tenant("horizon"));
    Client *b = cl_session(k.port, h_user(&k, tenant, "pbx", "bridge", NULL, NULL));
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    KicTime t0 = ((KicTime)ts.tv_sec - 70 * 86400LL) * KIC_USEC; /* its month goes whole */
    ck_duplicate(resend(b, "call.offered", "hz1-o", t0, ",\"queue\":\"thuiszorg\",\"caller\":\"0612345678\""), false);
    ck_duplicate(resend(b, "call.answered", "hz1-a", t0 + 10 * KIC_USEC, ",\"agent\":\"a.jansen\""), false);
    ck_duplicate(resend(b, "call.ended", "hz1-e", t0 + 70 * KIC_USEC, ""), false);
    char call_sql[512], sums_sql[512];
    snprintf(call_sql, sizeof(call_sql),
             "SELECT count(*) FROM calls JOIN tenants USING (tenant_id) WHERE name = '%s'"
             " AND call_id = 'hz1' AND answered AND talk_s = 60 AND events = 3", tenant);
    snprintf(sums_sql, sizeof(sums_sql),
             "SELECT sum(offered) * 10 + sum(answered) FROM call_sums_15m JOIN tenants USING (tenant_id)"
             " WHERE name = '%s'", tenant);
    ck_assert_int_eq(h_sql_int(k.conninfo, call_sql), 1);
    ck_assert_int_eq(h_sql_int(k.conninfo, sums_sql), 11);
    ck_assert(kicd_log_shows(&k, "retention: events before")); /* its own purge at start */
    int horizons = kicd_log_count(&k, "retention: events before");
    ck_assert_int_eq(h_kicctl(&k, NULL, "purge", "--days", "30", NULL), 0);
    ck_assert_int_eq(h_sql_int(k.conninfo, "SELECT count(*) FROM event_keys WHERE event_id LIKE 'hz1-%'"), 0);
    ck_assert_int_eq(h_sql_int(k.conninfo, "SELECT count(*) FROM events WHERE call_id = 'hz1'"), 0);
    for (int i = 0; i < 200 && kicd_log_count(&k, "retention: events before") == horizons; i++)
        usleep(25000);
    ck_assert_int_gt(kicd_log_count(&k, "retention: events before"), horizons);
    ck_duplicate(resend(b, "call.offered", "hz1-o", t0, ",\"queue\":\"thuiszorg\",\"caller\":\"0612345678\""), true);
    ck_assert_int_eq(h_sql_int(k.conninfo, call_sql), 1);
    ck_assert_int_eq(h_sql_int(k.conninfo, sums_sql), 11);
    cl_close(b);
    /* kicd reads the horizon when it starts */
    ck_assert(kicd_stop(&k));
    kicd_start(&k);
    b = cl_session(k.port, h_user(&k, tenant, "pbx2", "bridge", NULL, NULL));
    ck_duplicate(resend(b, "call.answered", "hz1-a", t0 + 10 * KIC_USEC, ",\"agent\":\"a.jansen\""), true);
    ck_assert_int_eq(h_sql_int(k.conninfo, call_sql), 1);
    ck_assert_int_eq(h_sql_int(k.conninfo, sums_sql), 11);
    /* a new event is still new */
    ck_duplicate(resend(b, "call.offered", "hz2-o", t0 + 70 * 86400LL * KIC_USEC - 60 * KIC_USEC,
                        ",\"queue\":\"thuiszorg\""), false);
    cl_close(b);
    ck_assert(kicd_stop(&k));
}
END_TEST

/* kicctl purge without --days purges as kicd does (migrations/0019):
 * it used 400 days whatever kicd kept, and took a kicd's second year. */
START_TEST(kicctl_purges_with_kicds_retention_days)
{
    Kicd k;
    kicd_init(&k, "retention_days", "[storage]\nretention_days = 500\n");
    char *out = NULL;
    /* kicd has not run here: the retention to use is not known */
    ck_assert_int_eq(h_kicctl(&k, &out, "purge", NULL), 1);
    ck_assert_msg(strstr(out, "give --days"), "%s", out);
    free(out);
    kicd_start(&k);
    /* kicd runs retention once it listens, in the background */
    ck_assert_int_eq(h_sql_int_await(k.conninfo, "SELECT coalesce(kicd_retention_days, 0) FROM purge_horizon", 500), 500);
    h_sql_exec(k.conninfo, "SELECT kic_event_partition((now() - interval '450 days')::date)");
    h_sql_exec(k.conninfo, "INSERT INTO events (tenant_id, call_id, at, event_id, type, payload) VALUES"
                           " (1, 'y2', now() - interval '450 days', 'e-y2', 'call.offered', '{}'),"
                           " (1, 'y3', now() - interval '800 days', 'e-y3', 'call.offered', '{}')");
    ck_assert_int_eq(h_kicctl(&k, &out, "purge", NULL), 0);
    ck_assert_msg(strstr(out, "retention_days 500"), "%s", out);
    free(out);
    ck_assert_int_eq(h_sql_int(k.conninfo, "SELECT count(*) FROM events WHERE event_id = 'e-y2'"), 1);
    ck_assert_int_eq(h_sql_int(k.conninfo, "SELECT count(*) FROM events WHERE event_id = 'e-y3'"), 0);
    ck_assert(kicd_stop(&k));
}
END_TEST

int main(void)
{
    kicd_init(&kicd, "retention", "[storage]\nretention_days = 400\n");
    kicd_start(&kicd);
    Suite *s = suite_create("retention");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, kicd_runs_the_job_when_it_starts);
    tcase_add_test(tc, purge_removes_what_is_past_and_keeps_the_rest);
    tcase_add_test(tc, a_resend_from_before_the_purge_is_a_duplicate);
    tcase_add_test(tc, kicctl_purges_with_kicds_retention_days);
    suite_add_tcase(s, tc);
    return h_run_suite(s, &kicd);
}
