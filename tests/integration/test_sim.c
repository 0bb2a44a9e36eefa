/* kic-sim against a real kicd and PostgreSQL. Bulk: three simulated days
 * back-filled through the bridge and sixteen agents' own sessions; the
 * calls table must hold exactly the contacts kic-sim says it sent, with
 * the same answered, abandoned and transferred counts (abandons about
 * 12%), queue transfers continuing as contacts of their own, and a second
 * run with the same seed must store nothing new. Live: two model hours at
 * 600 times real speed, with agents' states, must land too. Bulk with the
 * callback flow: every callback stored, attempts in order, no conflicts.
 * Many tenants at once: six simulations side by side, two pairs with the
 * same ids, each tenant holding exactly its own.
 * Methods kicd does not have yet (-32601) are skipped by kic-sim, not
 * failed. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"

static Kicd kicd;

#define AGENTS 16

/* Creates the tenant's bridge and `n` agents; writes the agents file;
 * returns the bridge token (caller frees). */
static char *make_users_n(const char *tenant, const char *path, int n)
{
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fprintf(f, "# agent-id token (made by test_sim)\n");
    for (int i = 1; i <= n; i++) {
        char name[32];
        snprintf(name, sizeof(name), "kic-agent-%02d", i);
        char *token = h_user(&kicd, tenant, name, "agent", NULL, "kic");
        fprintf(f, "%s %s\n", name, token);
        free(token);
    }
    fclose(f);
    return h_user(&kicd, tenant, "pbx", "bridge", NULL, NULL);
}

static char *make_users(const char *tenant, const char *path)
{
    return make_users_n(tenant, path, AGENTS);
}

static long long count_of(const char *tenant, const char *table, const char *where)
{
    char sql[1024];
    int n = snprintf(sql, sizeof(sql),
                     "SELECT count(*) FROM %s JOIN tenants USING (tenant_id) WHERE tenants.name = '%s'%s%s",
                     table, tenant, where ? " AND " : "", where ? where : "");
    ck_assert_int_lt(n, (int)sizeof(sql));
    return h_sql_int(kicd.conninfo, sql);
}

static json_t *read_summary(const char *path)
{
    json_error_t err;
    json_t *j = json_load_file(path, 0, &err);
    ck_assert_msg(j != NULL, "no summary at %s: %s", path, err.text);
    return j;
}

/* A whole-number field of the summary ("contacts"), or of a group in it
 * ("requests", "ok"). */
static long long num2(json_t *sum, const char *group, const char *key)
{
    json_t *v = json_object_get(group ? json_object_get(sum, group) : sum, key);
    ck_assert_msg(json_is_integer(v), "summary has no %s %s", group ? group : "", key);
    return (long long)json_integer_value(v);
}

static long long num(json_t *sum, const char *key)
{
    return num2(sum, NULL, key);
}

/* A count of one method ("call.wrapup", "ok"); 0 when none was generated. */
static long long method(json_t *sum, const char *name, const char *key)
{
    json_t *m = json_object_get(json_object_get(sum, "methods"), name);
    return m ? (long long)json_integer_value(json_object_get(m, key)) : 0;
}

/* Bridge events kicd stored as new. */
static long long bridge_ok(json_t *sum)
{
    static const char *const names[] = {"call.offered", "call.answered", "call.held",
                                        "call.resumed", "call.transferred", "call.abandoned",
                                        "call.ended", "callback.requested"};
    long long n = 0;
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        n += method(sum, names[i], "ok");
    return n;
}

static int run_sim(const char *const *argv, char **out)
{
    int rc = h_run(out, argv, NULL);
    printf("%s", *out); /* kic-sim's log in the test's output */
    fflush(stdout);
    return rc;
}

/* Every generated request of a method was answered one way or another,
 * and none was refused for a reason other than kicd not having it yet. */
static void assert_no_refusals(json_t *sum)
{
    json_t *methods = json_object_get(sum, "methods");
    const char *name;
    json_t *m;
    json_object_foreach(methods, name, m) {
        long long gen = json_integer_value(json_object_get(m, "generated"));
        long long ok = json_integer_value(json_object_get(m, "ok"));
        long long dup = json_integer_value(json_object_get(m, "duplicate"));
        long long conflict = json_integer_value(json_object_get(m, "conflict"));
        long long skipped = json_integer_value(json_object_get(m, "skipped"));
        long long error = json_integer_value(json_object_get(m, "error"));
        ck_assert_msg(error == 0, "kicd refused %lld %s", error, name);
        ck_assert_msg(ok + dup + conflict + skipped == gen, "%s: %lld generated, %lld answered",
                      name, gen, ok + dup + conflict + skipped);
    }
}

/* A zone the C library does not know it would run in UTC without a
 * word: refused, as kicd refuses one. */
START_TEST(an_unknown_zone_is_refused)
{
    const char *const zones[] = {"Mars/Base", "posixrules", "../etc/passwd", "+05:00"};
    for (size_t i = 0; i < sizeof(zones) / sizeof(zones[0]); i++) {
        const char *argv[] = {h_build_path("tools/kic-sim/kic-sim"), "--tz", zones[i], "--days", "1", "--stdout", NULL};
        char *out = NULL;
        ck_assert_int_eq(run_sim(argv, &out), 2);
        ck_assert_msg(strstr(out, "is not a known time zone"), "%s", out);
        free(out);
    }
}
END_TEST

START_TEST(bulk_days_land_in_the_calls_table_and_a_rerun_is_all_duplicates)
{
    const char *tenant = "sim-bulk";
    char agents[512], sum1[512], sum2[512], server[64], until[40];
    snprintf(agents, sizeof(agents), "%s/agents-bulk.txt", kicd.dir);
    snprintf(sum1, sizeof(sum1), "%s/bulk1.json", kicd.dir);
    snprintf(sum2, sizeof(sum2), "%s/bulk2.json", kicd.dir);
    snprintf(server, sizeof(server), "127.0.0.1:%d", kicd.port);
    char *bridge = make_users(tenant, agents);
    /* a fixed end a little in the past, so both runs are the same stream */
    KicTime end = h_today(0) / (60 * KIC_USEC) * (60 * KIC_USEC) - 60 * KIC_USEC;
    time_format_local(end, until, sizeof(until));
    const char *argv1[] = {h_build_path("tools/kic-sim/kic-sim"), "--server", server,
                           "--bridge-token", bridge, "--agents", agents, "--days", "3",
                           "--until", until, "--seed", "20260101", "--calls-per-year", "200000",
                           "--summary", sum1, "--no-progress", NULL};
    char *out = NULL;
    ck_assert_msg(run_sim(argv1, &out) == 0, "kic-sim failed");
    free(out);
    json_t *s1 = read_summary(sum1);
    ck_assert(json_is_true(json_object_get(s1, "complete")));
    assert_no_refusals(s1);
    long long contacts = num(s1, "contacts");
    ck_assert_int_gt(contacts, 300); /* at least: a weekend and a minute of Monday */
    ck_assert_int_eq(num(s1, "contacts_stored"), contacts);
    ck_assert_int_eq(num(s1, "contacts_new"), contacts);

    /* the calls table holds exactly those contacts, with the same outcomes */
    ck_assert_int_eq(count_of(tenant, "calls", NULL), contacts);
    ck_assert_int_eq(count_of(tenant, "calls", "answered"), num(s1, "answered"));
    ck_assert_int_eq(count_of(tenant, "calls", "abandoned"), num(s1, "abandoned"));
    ck_assert_int_eq(count_of(tenant, "calls", "transferred"), num(s1, "transferred"));
    double abandon = (double)num(s1, "abandoned") / (double)contacts;
    ck_assert_msg(abandon > 0.06 && abandon < 0.20, "abandoned %.3f", abandon);
    /* a transfer into another queue is a contact of its own */
    ck_assert_int_eq(count_of(tenant, "calls", "transferred_from IS NOT NULL"),
                     count_of(tenant, "calls", "transfer_kind = 'queue'"));
    ck_assert_int_gt(count_of(tenant, "calls", "transfer_kind = 'care_team'"), 0);
    /* withheld numbers have no caller key; the others do */
    ck_assert_int_gt(count_of(tenant, "calls", "caller_withheld AND caller_key IS NULL"), 0);
    ck_assert_int_eq(count_of(tenant, "calls", "NOT caller_withheld AND caller_key IS NULL"), 0);
    /* and the period is the one asked for: three local days up to --until */
    char where[256];
    snprintf(where, sizeof(where), "offered_at > '%s'::timestamptz OR offered_at < '%s'::timestamptz - interval '3 days'",
             until, until);
    ck_assert_int_eq(count_of(tenant, "calls", where), 0);
    /* every bridge event stored once; wrap-ups stored once kicd has
     * call.wrapup (skipped until then) */
    long long events = count_of(tenant, "events", NULL);
    ck_assert_int_eq(events, bridge_ok(s1));
    ck_assert_int_eq(count_of(tenant, "wrapups", NULL), method(s1, "call.wrapup", "ok"));
    ck_assert_int_eq(method(s1, "call.wrapup", "generated"), num(s1, "wrapups"));

    /* the same seed again: all duplicates, nothing new stored */
    const char *argv2[] = {h_build_path("tools/kic-sim/kic-sim"), "--server", server,
                           "--bridge-token", bridge, "--agents", agents, "--days", "3",
                           "--until", until, "--seed", "20260101", "--calls-per-year", "200000",
                           "--summary", sum2, "--no-progress", NULL};
    ck_assert_msg(run_sim(argv2, &out) == 0, "kic-sim failed the second time");
    free(out);
    json_t *s2 = read_summary(sum2);
    ck_assert(json_is_true(json_object_get(s2, "complete")));
    assert_no_refusals(s2);
    ck_assert_int_eq(num(s2, "contacts"), contacts);
    ck_assert_int_eq(num(s2, "contacts_new"), 0);
    ck_assert_int_eq(num2(s2, "requests", "ok"), 0);
    ck_assert_int_eq(num2(s2, "requests", "duplicate"), bridge_ok(s1));
    ck_assert_int_eq(count_of(tenant, "events", NULL), events);
    ck_assert_int_eq(count_of(tenant, "calls", NULL), contacts);
    printf("bulk: %lld contacts, %lld requests in %.2f s: %.0f answers/s (first run)\n", contacts,
           num2(s1, "requests", "sent"), json_real_value(json_object_get(s1, "elapsed_s")),
           json_real_value(json_object_get(s1, "answers_per_s")));
    json_decref(s1);
    json_decref(s2);
    free(bridge);
}
END_TEST

START_TEST(live_mode_sends_states_and_calls_as_they_happen)
{
    const char *tenant = "sim-live";
    char agents[512], sum[512], server[64];
    snprintf(agents, sizeof(agents), "%s/agents-live.txt", kicd.dir);
    snprintf(sum, sizeof(sum), "%s/live.json", kicd.dir);
    snprintf(server, sizeof(server), "127.0.0.1:%d", kicd.port);
    char *bridge = make_users(tenant, agents);
    /* a Tuesday's morning peak, two model hours in twelve real seconds */
    const char *argv[] = {h_build_path("tools/kic-sim/kic-sim"), "--server", server,
                          "--bridge-token", bridge, "--agents", agents, "--speed", "600",
                          "--hours", "2", "--start", "2026-03-03T09:00:00+01:00", "--seed", "5",
                          "--summary", sum, NULL};
    KicTime before = h_today(0);
    char *out = NULL;
    ck_assert_msg(run_sim(argv, &out) == 0, "kic-sim failed");
    free(out);
    json_t *s = read_summary(sum);
    ck_assert(json_is_true(json_object_get(s, "complete")));
    assert_no_refusals(s);
    long long contacts = num(s, "contacts");
    ck_assert_int_gt(contacts, 40);
    ck_assert_int_eq(count_of(tenant, "calls", NULL), contacts);
    ck_assert_int_eq(count_of(tenant, "calls", "abandoned"), num(s, "abandoned"));
    /* stamped now: every contact was offered during the run */
    char where[256];
    snprintf(where, sizeof(where), "offered_at < '%s'::timestamptz", h_at(before, -1));
    ck_assert_int_eq(count_of(tenant, "calls", where), 0);
    /* the agents on duty told kicd they were available */
    ck_assert_int_ge(method(s, "agent.state.set", "generated"), 5);
    ck_assert_int_eq(method(s, "agent.state.set", "ok"), method(s, "agent.state.set", "generated"));
    ck_assert_int_ge(count_of(tenant, "agent_choices", NULL), 5);
    json_decref(s);
    free(bridge);
}
END_TEST

START_TEST(bulk_with_callbacks_keeps_each_callbacks_attempts_in_order)
{
    /* --untimed send: states and the callback flow too (kicd stamps them
     * now). Attempts on one callback come from different agents over
     * different connections; kicd must see them in the model's order, or
     * it answers -32009 (claimed by another, already closed). */
    const char *tenant = "sim-callbacks";
    char agents[512], sum[512], server[64], until[40];
    snprintf(agents, sizeof(agents), "%s/agents-cb.txt", kicd.dir);
    snprintf(sum, sizeof(sum), "%s/callbacks.json", kicd.dir);
    snprintf(server, sizeof(server), "127.0.0.1:%d", kicd.port);
    char *bridge = make_users(tenant, agents);
    KicTime end = h_today(0) / (60 * KIC_USEC) * (60 * KIC_USEC) - 60 * KIC_USEC;
    time_format_local(end, until, sizeof(until));
    const char *argv[] = {h_build_path("tools/kic-sim/kic-sim"), "--server", server,
                          "--bridge-token", bridge, "--agents", agents, "--days", "6",
                          "--until", until, "--seed", "77", "--untimed", "send",
                          "--summer-peak", "--summary", sum, "--no-progress", NULL};
    char *out = NULL;
    ck_assert_msg(run_sim(argv, &out) == 0, "kic-sim failed");
    free(out);
    json_t *s = read_summary(sum);
    ck_assert(json_is_true(json_object_get(s, "complete")));
    assert_no_refusals(s);
    ck_assert_int_eq(num2(s, "requests", "conflict"), 0);
    ck_assert_int_eq(num2(s, "requests", "skipped"), 0);
    ck_assert_int_gt(method(s, "callback.claim", "ok"), 20);
    ck_assert_int_eq(count_of(tenant, "callbacks", "source = 'ivr'"), method(s, "callback.requested", "ok"));
    ck_assert_int_eq(count_of(tenant, "callbacks", "source = 'agent'"), method(s, "callback.create", "ok"));
    /* every attempt kicd counted is one the model made */
    ck_assert_int_eq(h_sql_int(kicd.conninfo,
                               "SELECT coalesce(sum(attempts), 0) FROM callbacks JOIN tenants USING (tenant_id)"
                               " WHERE tenants.name = 'sim-callbacks'"),
                     method(s, "callback.complete", "ok") -
                         count_of(tenant, "callbacks", "status = 'cancelled'"));
    json_decref(s);
    free(bridge);
}
END_TEST

/* DESIGN.md's scale: one kicd serves many tenants at once, each its own.
 * Six tenants' bridges and agents back-fill two days at the same time;
 * two pairs run the same seed, so they send the very same call and event
 * ids. Each tenant stores exactly its own stream (the same ids in
 * another tenant are not duplicates), and its supervisor's report and
 * agent list hold its own contacts and agents only. */
#define TENANTS 6
#define TENANT_AGENTS 5

typedef struct SimTenant {
    char name[32], agents[512], summary[512], log[512];
    const char *seed;
    char *bridge, *super;
    pid_t pid;
} SimTenant;

static long long report_total(Client *sup, const char *from, const char *to, const char *metric)
{
    json_t *r = cl_call(sup, "report.query", "{\"from\":\"%s\",\"to\":\"%s\",\"interval\":\"all\"}",
                        from, to);
    json_t *table = ck_result(r);
    json_t *columns = json_object_get(table, "columns"), *rows = json_object_get(table, "rows");
    ck_assert_uint_eq(json_array_size(rows), 1);
    long long v = -1;
    for (size_t c = 0; c < json_array_size(columns); c++)
        if (!strcmp(json_string_value(json_array_get(columns, c)), metric))
            v = (long long)json_number_value(json_array_get(json_array_get(rows, 0), c));
    json_decref(r);
    ck_assert_msg(v >= 0, "no %s in the report", metric);
    return v;
}

START_TEST(many_tenants_at_once_keep_their_own_calls)
{
    static const char *const seeds[TENANTS] = {"31", "31", "32", "33", "34", "34"};
    SimTenant t[TENANTS];
    char server[64], until[40], from[40];
    snprintf(server, sizeof(server), "127.0.0.1:%d", kicd.port);
    KicTime end = h_today(0) / (60 * KIC_USEC) * (60 * KIC_USEC) - 60 * KIC_USEC;
    time_format_local(end, until, sizeof(until));
    time_format_local(end - 3 * 86400 * KIC_USEC, from, sizeof(from));
    for (int i = 0; i < TENANTS; i++) {
        snprintf(t[i].name, sizeof(t[i].name), "sim-many-%d", i);
        snprintf(t[i].agents, sizeof(t[i].agents), "%s/agents-many-%d.txt", kicd.dir, i);
        snprintf(t[i].summary, sizeof(t[i].summary), "%s/many-%d.json", kicd.dir, i);
        snprintf(t[i].log, sizeof(t[i].log), "%s/many-%d.log", kicd.dir, i);
        t[i].seed = seeds[i];
        t[i].bridge = make_users_n(t[i].name, t[i].agents, TENANT_AGENTS);
        t[i].super = h_user(&kicd, t[i].name, "sup", "supervisor", NULL, NULL);
    }
    for (int i = 0; i < TENANTS; i++) {
        const char *argv[] = {h_build_path("tools/kic-sim/kic-sim"), "--server", server,
                              "--bridge-token", t[i].bridge, "--agents", t[i].agents, "--days", "2",
                              "--until", until, "--seed", t[i].seed, "--calls-per-year", "60000",
                              "--summary", t[i].summary, "--no-progress", NULL};
        t[i].pid = h_spawn(argv, t[i].log);
    }
    for (int i = 0; i < TENANTS; i++) {
        int status = 0;
        ck_assert_int_eq(waitpid(t[i].pid, &status, 0), t[i].pid);
        ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "kic-sim of %s failed: see %s",
                      t[i].name, t[i].log);
    }
    long long contacts[TENANTS];
    for (int i = 0; i < TENANTS; i++) {
        json_t *s = read_summary(t[i].summary);
        ck_assert(json_is_true(json_object_get(s, "complete")));
        assert_no_refusals(s);
        contacts[i] = num(s, "contacts");
        ck_assert_int_gt(contacts[i], 50);
        /* new to this tenant, whatever another tenant stored */
        ck_assert_int_eq(num(s, "contacts_new"), contacts[i]);
        ck_assert_int_eq(num2(s, "requests", "duplicate"), 0);
        ck_assert_int_eq(count_of(t[i].name, "calls", NULL), contacts[i]);
        ck_assert_int_eq(count_of(t[i].name, "calls", "answered"), num(s, "answered"));
        ck_assert_int_eq(count_of(t[i].name, "calls", "abandoned"), num(s, "abandoned"));
        ck_assert_int_eq(count_of(t[i].name, "events", NULL), bridge_ok(s));
        ck_assert_int_eq(count_of(t[i].name, "wrapups", NULL), method(s, "call.wrapup", "ok"));
        /* the supervisor sees this tenant's contacts and agents, no other's */
        Client *sup = cl_session(kicd.port, t[i].super);
        ck_assert_int_eq(report_total(sup, from, until, "offered"), contacts[i]);
        ck_assert_int_eq(report_total(sup, from, until, "answered"), num(s, "answered"));
        json_t *r = cl_call(sup, "agents.list", NULL);
        json_t *list = json_object_get(ck_result(r), "agents");
        ck_assert_uint_eq(json_array_size(list), TENANT_AGENTS);
        json_decref(r);
        cl_close(sup);
        json_decref(s);
    }
    printf("many tenants: %lld / %lld / %lld / %lld / %lld / %lld contacts at once\n", contacts[0],
           contacts[1], contacts[2], contacts[3], contacts[4], contacts[5]);
    /* the same seed, the same stream, stored twice: once in each tenant */
    ck_assert_int_eq(contacts[0], contacts[1]);
    ck_assert_int_eq(contacts[4], contacts[5]);
    ck_assert_int_eq(h_sql_int(kicd.conninfo,
                               "SELECT count(*) FROM (SELECT call_id FROM calls JOIN tenants USING (tenant_id)"
                               " WHERE tenants.name IN ('sim-many-0', 'sim-many-1')"
                               " GROUP BY call_id HAVING count(*) = 2) shared"),
                     contacts[0]);
    for (int i = 0; i < TENANTS; i++) {
        free(t[i].bridge);
        free(t[i].super);
    }
}
END_TEST

int main(void)
{
    kicd_init(&kicd, "sim", NULL);
    kicd_start(&kicd);
    Suite *s = suite_create("sim");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, an_unknown_zone_is_refused);
    tcase_add_test(tc, bulk_days_land_in_the_calls_table_and_a_rerun_is_all_duplicates);
    tcase_add_test(tc, live_mode_sends_states_and_calls_as_they_happen);
    tcase_add_test(tc, bulk_with_callbacks_keeps_each_callbacks_attempts_in_order);
    tcase_add_test(tc, many_tenants_at_once_keep_their_own_calls);
    suite_add_tcase(s, tc);
    return h_run_suite(s, &kicd);
}
