/* Telephony ingest against a real kicd and PostgreSQL: every event method
 * with every field wrong, roles, duplicates, order independence, tenants
 * kept apart, desktop notifications, agent states, live statistics, and
 * callers' numbers never stored. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"

static Kicd kicd;

typedef struct Tenantx {
    const char *name;
    char *bridge, *agent, *agent2, *super;
} Tenantx;

/* A tenant of its own per test, with a bridge, two agents, a supervisor. */
static Tenantx tenant(const char *base)
{
    Tenantx t;
    t.name = strdup(h_tenant(base));
    t.bridge = h_user(&kicd, t.name, "pbx", "bridge", NULL, NULL);
    t.agent = h_user(&kicd, t.name, "a.jansen", "agent", NULL, "kic");
    t.agent2 = h_user(&kicd, t.name, "b.devries", "agent", NULL, "kic");
    t.super = h_user(&kicd, t.name, "s.bakker", "supervisor", NULL, NULL);
    return t;
}

static long long count_sql(const Tenantx *t, const char *fmt)
{
    char sql[1024];
    snprintf(sql, sizeof(sql), fmt, t->name);
    return h_sql_int(kicd.conninfo, sql);
}

#define EVENTS_OF "SELECT count(*) FROM events JOIN tenants USING (tenant_id) WHERE tenants.name = '%s'"

/* Reads n answers, which must be results to ids 0..n-1 in order. */
static void expect_results(Client *c, int n, int timeout_ms)
{
    for (int i = 0; i < n; i++) {
        json_t *r = cl_recv(c, timeout_ms);
        ck_assert_msg(r != NULL, "no answer to request %d", i);
        ck_assert_int_eq(json_integer_value(json_object_get(r, "id")), i);
        ck_assert_ptr_nonnull(rpc_result(r));
        json_decref(r);
    }
}

/* Stores an event key behind kicd's back, as if the event had come
 * long ago (its call no longer in memory). */
static void store_key_behind(const char *conninfo, const char *tenant, const char *event_id)
{
    char sql[512];
    snprintf(sql, sizeof(sql),
             "INSERT INTO event_keys (tenant_id, event_id, at) SELECT tenant_id, '%s', now()"
             " FROM tenants WHERE name = '%s'", event_id, tenant);
    h_sql_exec(conninfo, sql);
}

static void ok_event(Client *c, const char *method, const char *params, bool duplicate)
{
    json_t *r = cl_call(c, method, "%s", params);
    json_t *res = ck_result(r);
    ck_assert(json_is_true(json_object_get(res, "accepted")));
    ck_assert_int_eq(json_is_true(json_object_get(res, "duplicate")), duplicate);
    json_decref(r);
}

/* ---- bad input ---- */

typedef struct Field {
    const char *name;
    char kind; /* s string, e enum, t time, c caller */
    bool required;
} Field;

typedef struct MethodSpec {
    const char *method;
    const char *valid; /* params with %s for the time */
    Field fields[12]; /* NULL-terminated */
} MethodSpec;

static const MethodSpec specs[] = {
    {"call.offered",
     "{\"event_id\":\"e\",\"call_id\":\"c\",\"at\":\"%s\",\"queue\":\"q\",\"caller\":\"0612345678\","
     "\"dialled\":\"+31785551000\",\"location\":\"dordrecht\",\"channel\":\"voice\","
     "\"direction\":\"inbound\",\"callback_id\":\"cb\",\"transferred_from\":\"c0\"}",
     {{"event_id", 's', true}, {"call_id", 's', true}, {"at", 't', true}, {"queue", 's', true},
      {"caller", 'c', false}, {"dialled", 's', false}, {"location", 's', false},
      {"channel", 'e', false}, {"direction", 'e', false}, {"transferred_from", 's', false}}},
    {"call.answered", "{\"event_id\":\"e\",\"call_id\":\"c\",\"at\":\"%s\",\"agent\":\"a\"}",
     {{"event_id", 's', true}, {"call_id", 's', true}, {"at", 't', true}, {"agent", 's', true}}},
    {"call.held", "{\"event_id\":\"e\",\"call_id\":\"c\",\"at\":\"%s\"}",
     {{"event_id", 's', true}, {"call_id", 's', true}, {"at", 't', true}}},
    {"call.resumed", "{\"event_id\":\"e\",\"call_id\":\"c\",\"at\":\"%s\"}",
     {{"event_id", 's', true}, {"call_id", 's', true}, {"at", 't', true}}},
    {"call.transferred",
     "{\"event_id\":\"e\",\"call_id\":\"c\",\"at\":\"%s\",\"agent\":\"a\",\"target\":\"t\","
     "\"target_kind\":\"care_team\",\"mode\":\"attended\"}",
     {{"event_id", 's', true}, {"call_id", 's', true}, {"at", 't', true}, {"agent", 's', true},
      {"target", 's', true}, {"target_kind", 'e', true}, {"mode", 'e', false}}},
    {"call.abandoned", "{\"event_id\":\"e\",\"call_id\":\"c\",\"at\":\"%s\"}",
     {{"event_id", 's', true}, {"call_id", 's', true}, {"at", 't', true}}},
    {"call.ended", "{\"event_id\":\"e\",\"call_id\":\"c\",\"at\":\"%s\",\"by\":\"caller\"}",
     {{"event_id", 's', true}, {"call_id", 's', true}, {"at", 't', true}, {"by", 'e', false}}},
    {"callback.requested",
     "{\"event_id\":\"e\",\"callback_id\":\"cb\",\"caller\":\"0612345678\",\"queue\":\"q\","
     "\"at\":\"%s\",\"due_by\":\"2030-01-01T00:00:00Z\",\"call_id\":\"c\"}",
     {{"event_id", 's', true}, {"callback_id", 's', true}, {"caller", 'c', true},
      {"queue", 's', true}, {"at", 't', true}, {"due_by", 't', false}, {"call_id", 's', false}}},
};

/* One mutation of a valid params object. */
static void expect_field_error(Client *c, const char *method, json_t *params, const char *field)
{
    char *text = json_dumps(params, JSON_COMPACT);
    json_t *r = cl_call(c, method, "%s", text);
    json_t *err = json_object_get(r, "error");
    char *got_text = r ? json_dumps(r, JSON_COMPACT) : NULL;
    ck_assert_msg(rpc_code(r) == -32602, "%s %s: expected -32602, got %s", method, text,
                  got_text ? got_text : "nothing");
    free(got_text);
    const char *got = json_string_value(json_object_get(json_object_get(err, "data"), "field"));
    ck_assert_msg(got && strcmp(got, field) == 0, "%s %s: expected field %s, got %s", method,
                  text, field, got ? got : "none");
    ck_assert(json_string_value(json_object_get(json_object_get(err, "data"), "reason")));
    free(text);
    json_decref(r);
}

static json_t *valid_params(const MethodSpec *spec)
{
    char text[1024];
    snprintf(text, sizeof(text), spec->valid, h_at(h_today(60), 0));
    json_t *p = json_loads(text, 0, NULL);
    ck_assert_ptr_nonnull(p);
    return p;
}

static void mutate(Client *c, const MethodSpec *spec, const Field *f, json_t *value)
{
    json_t *p = valid_params(spec);
    if (value)
        json_object_set_new(p, f->name, value);
    else
        json_object_del(p, f->name);
    expect_field_error(c, spec->method, p, f->name);
    json_decref(p);
}

START_TEST(every_field_of_every_event_is_checked)
{
    Tenantx t = tenant("bad");
    Client *c = cl_session(kicd.port, t.bridge);
    char long_text[300];
    memset(long_text, 'x', 257);
    long_text[257] = '\0';
    int cases = 0;
    for (size_t m = 0; m < sizeof(specs) / sizeof(specs[0]); m++) {
        const MethodSpec *spec = &specs[m];
        for (const Field *f = spec->fields; f->name; f++) {
            if (f->required) {
                mutate(c, spec, f, NULL);
                cases++;
            }
            mutate(c, spec, f, json_integer(42));
            mutate(c, spec, f, json_true());
            mutate(c, spec, f, json_null());
            mutate(c, spec, f, json_pack("[s]", "x"));
            mutate(c, spec, f, json_object());
            if (f->kind != 'c' || f->required) /* an empty caller is a withheld one */
                mutate(c, spec, f, json_string(""));
            mutate(c, spec, f, json_string(long_text));
            mutate(c, spec, f, json_stringn("a\0b", 3));
            cases += 8;
            if (f->kind == 'e') {
                mutate(c, spec, f, json_string("bogus"));
                cases++;
            }
            if (f->kind == 't') {
                const char *bad[] = {"2026-11-22T09:15:02", "2026-13-01T00:00:00Z",
                                     "2026-11-22T23:59:60Z", "yesterday", "1969-12-31T23:59:59Z",
                                     "9999-12-31T23:59:59Z"};
                for (size_t i = 0; i < 6; i++)
                    mutate(c, spec, f, json_string(bad[i]));
                cases += 6;
            }
            if (!strcmp(f->name, "at")) { /* event_skew_s (3600) ahead of now */
                mutate(c, spec, f, json_string(h_at(h_today(0), 86400 + 7200)));
                cases++;
            }
            if (f->kind == 'c') {
                mutate(c, spec, f, json_string("not a number"));
                mutate(c, spec, f, json_string("+1234567890123456"));
                cases += 2;
            }
        }
    }
    /* a callback needs a number someone can call */
    json_t *p = valid_params(&specs[7]);
    json_object_set_new(p, "caller", json_string("anonymous"));
    expect_field_error(c, "callback.requested", p, "caller");
    json_decref(p);
    ck_assert_int_ge(cases, 250);
    /* nothing was recorded, and the connection still works */
    ck_assert_int_eq(count_sql(&t, EVENTS_OF), 0);
    ok_event(c, "call.held", "{\"event_id\":\"ok\",\"call_id\":\"c\",\"at\":\"2026-01-01T00:00:00Z\"}", false);
    cl_close(c);
}
END_TEST

/* E-mail and chat contacts may name the caller by address: stored only as
 * its key, and two contacts from one address (in any case) make a repeat.
 * A phone channel still wants a number. */
/* A late call.ended dated before the answer: the call was never
 * answered after all (an answer after the end is ignored), so the
 * agent's part stored with the answer is removed; occupancy reads them. */
START_TEST(a_part_a_late_event_takes_away_is_removed_from_storage)
{
    Tenantx t = tenant("legsgone");
    KicTime t0 = h_today(1200);
    Client *c = cl_session(kicd.port, t.bridge);
    cl_call_ok(c, "call.offered", "{\"event_id\":\"g-o\",\"call_id\":\"g\",\"at\":\"%s\",\"queue\":\"q\"}", h_at(t0, 0));
    cl_call_ok(c, "call.answered", "{\"event_id\":\"g-a\",\"call_id\":\"g\",\"at\":\"%s\",\"agent\":\"a.jansen\"}", h_at(t0, 10));
    const char *legs = "SELECT count(*) FROM call_legs JOIN tenants USING (tenant_id)"
                       " WHERE tenants.name = '%s' AND call_id = 'g'";
    ck_assert_int_eq(count_sql(&t, legs), 1);
    cl_call_ok(c, "call.ended", "{\"event_id\":\"g-e\",\"call_id\":\"g\",\"at\":\"%s\"}", h_at(t0, 5));
    ck_assert_int_eq(count_sql(&t, legs), 0);
    ck_assert_int_eq(count_sql(&t, "SELECT count(*) FROM calls JOIN tenants USING (tenant_id)"
                                   " WHERE tenants.name = '%s' AND call_id = 'g' AND NOT answered"),
                     1);
    cl_close(c);
}
END_TEST

START_TEST(email_contacts_are_linked_by_address)
{
    Tenantx t = tenant("mail");
    Client *c = cl_session(kicd.port, t.bridge);
    ok_event(c, "call.offered",
             "{\"event_id\":\"m1\",\"call_id\":\"m1\",\"at\":\"2026-11-20T09:00:00Z\","
             "\"queue\":\"q\",\"caller\":\"Jan.Jansen@Example.nl\",\"channel\":\"email\"}",
             false);
    ok_event(c, "call.offered",
             "{\"event_id\":\"m2\",\"call_id\":\"m2\",\"at\":\"2026-11-20T10:00:00Z\","
             "\"queue\":\"q\",\"caller\":\"mailto:jan.jansen@example.NL\",\"channel\":\"email\"}",
             false);
    ok_event(c, "call.offered",
             "{\"event_id\":\"m3\",\"call_id\":\"m3\",\"at\":\"2026-11-20T11:00:00Z\","
             "\"queue\":\"q\",\"caller\":\"visitor-4711\",\"channel\":\"chat\"}",
             false);
    const char *calls = "SELECT count(*) FROM calls JOIN tenants USING (tenant_id)"
                        " WHERE tenants.name = '%s'";
    char sql[512];
    snprintf(sql, sizeof(sql), "%s AND call_id = 'm1' AND followed_by_repeat", calls);
    ck_assert_int_eq(count_sql(&t, sql), 1);
    snprintf(sql, sizeof(sql), "%s AND caller_key IS NOT NULL AND NOT caller_withheld", calls);
    ck_assert_int_eq(count_sql(&t, sql), 3);
    ck_assert_int_eq(count_sql(&t, EVENTS_OF " AND payload::text ~* 'example|4711'"), 0);
    json_t *p = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "event_id", "m4", "call_id", "m4", "at",
                          "2026-11-20T12:00:00Z", "queue", "q", "caller", "jan@example.nl",
                          "channel", "voice");
    expect_field_error(c, "call.offered", p, "caller");
    json_decref(p);
    ck_assert_int_eq(count_sql(&t, EVENTS_OF), 3);
    cl_close(c);
}
END_TEST

START_TEST(valid_events_of_every_method_are_stored)
{
    Tenantx t = tenant("valid");
    Client *c = cl_session(kicd.port, t.bridge);
    for (size_t m = 0; m < sizeof(specs) / sizeof(specs[0]); m++) {
        json_t *p = valid_params(&specs[m]);
        char id[32];
        snprintf(id, sizeof(id), "ev-%zu", m);
        json_object_set_new(p, "event_id", json_string(id));
        json_object_set_new(p, "extra_vendor_field", json_pack("{s:i}", "x", 1));
        char *text = json_dumps(p, JSON_COMPACT);
        ok_event(c, specs[m].method, text, false);
        free(text);
        json_decref(p);
    }
    ck_assert_int_eq(count_sql(&t, EVENTS_OF), 8);
    /* unknown fields are kept in the raw event */
    ck_assert_int_eq(count_sql(&t, EVENTS_OF " AND payload->'extra_vendor_field'->>'x' = '1'"), 8);
    cl_close(c);
}
END_TEST

START_TEST(callers_numbers_are_never_stored_outside_callbacks)
{
    Tenantx t = tenant("privacy");
    Client *c = cl_session(kicd.port, t.bridge);
    KicTime t0 = h_today(120);
    char p[512];
    snprintf(p, sizeof(p), "{\"event_id\":\"p1\",\"call_id\":\"pc\",\"at\":\"%s\",\"queue\":\"q\",\"caller\":\"+31 6 9876 5432\"}", h_at(t0, 0));
    ok_event(c, "call.offered", p, false);
    snprintf(p, sizeof(p), "{\"event_id\":\"p2\",\"call_id\":\"pw\",\"at\":\"%s\",\"queue\":\"q\",\"caller\":\"Anonymous\"}", h_at(t0, 1));
    ok_event(c, "call.offered", p, false);
    ck_assert_int_eq(count_sql(&t, EVENTS_OF " AND payload::text LIKE '%%98765432%%'"), 0);
    ck_assert_int_eq(count_sql(&t, EVENTS_OF " AND payload::jsonb ? 'caller'"), 0);
    ck_assert_int_eq(count_sql(&t, EVENTS_OF " AND length(payload->>'caller_key') = 64"), 1);
    ck_assert_int_eq(count_sql(&t, EVENTS_OF " AND payload->>'caller_withheld' = 'true'"), 1);
    ck_assert_int_eq(count_sql(&t, "SELECT count(*) FROM calls JOIN tenants USING (tenant_id) "
                                   "WHERE tenants.name = '%s' AND caller_key IS NULL AND caller_withheld"), 1);
    cl_close(c);
}
END_TEST

/* ---- roles ---- */

START_TEST(roles_are_enforced_for_ingest_methods)
{
    Tenantx t = tenant("roles");
    Client *agent = cl_session(kicd.port, t.agent);
    Client *super = cl_session(kicd.port, t.super);
    Client *bridge = cl_session(kicd.port, t.bridge);
    const char *params = "{\"event_id\":\"r\",\"call_id\":\"c\",\"at\":\"2026-01-01T00:00:00Z\"}";
    for (size_t m = 0; m < sizeof(specs) / sizeof(specs[0]); m++) {
        ck_assert_rpc_error(cl_call(agent, specs[m].method, "%s", params), -32003);
        ck_assert_rpc_error(cl_call(super, specs[m].method, "%s", params), -32003);
    }
    ck_assert_rpc_error(cl_call(bridge, "agent.state.set", "{\"state\":\"available\"}"), -32003);
    ck_assert_rpc_error(cl_call(super, "agent.state.set", "{\"state\":\"available\"}"), -32003);
    ck_assert_rpc_error(cl_call(bridge, "stats.live", NULL), -32003);
    ck_assert_rpc_error(cl_call(agent, "stats.live", NULL), -32003);
    ck_assert_rpc_error(cl_call(bridge, "agents.list", NULL), -32003);
    ck_assert_rpc_error(cl_call(agent, "agents.list", NULL), -32003);
    ck_assert_int_eq(count_sql(&t, EVENTS_OF), 0);
    cl_close(agent);
    cl_close(super);
    cl_close(bridge);
}
END_TEST

/* ---- duplicates and order ---- */

/* The events of one answered, held, transferred call, in time order. */
static void call_events(char out[6][512], const char *prefix, const char *call, KicTime t0)
{
    snprintf(out[0], 512, "{\"event_id\":\"%s1\",\"call_id\":\"%s\",\"at\":\"%s\",\"queue\":\"thuiszorg\",\"caller\":\"0611111111\"}", prefix, call, h_at(t0, 0));
    snprintf(out[1], 512, "{\"event_id\":\"%s2\",\"call_id\":\"%s\",\"at\":\"%s\",\"agent\":\"a.jansen\"}", prefix, call, h_at(t0, 14.5));
    snprintf(out[2], 512, "{\"event_id\":\"%s3\",\"call_id\":\"%s\",\"at\":\"%s\"}", prefix, call, h_at(t0, 30));
    snprintf(out[3], 512, "{\"event_id\":\"%s4\",\"call_id\":\"%s\",\"at\":\"%s\"}", prefix, call, h_at(t0, 45));
    snprintf(out[4], 512, "{\"event_id\":\"%s5\",\"call_id\":\"%s\",\"at\":\"%s\",\"agent\":\"a.jansen\",\"target\":\"wijkteam-noord\",\"target_kind\":\"care_team\"}", prefix, call, h_at(t0, 100));
    snprintf(out[5], 512, "{\"event_id\":\"%s6\",\"call_id\":\"%s\",\"at\":\"%s\",\"by\":\"agent\"}", prefix, call, h_at(t0, 160));
}

static const char *const call_methods[6] = {"call.offered", "call.answered", "call.held",
                                            "call.resumed", "call.transferred", "call.ended"};

static char *call_row(const Tenantx *t, const char *call)
{
    char sql[1024];
    snprintf(sql, sizeof(sql),
             "SELECT concat_ws('|', queue, agent, wait_s, talk_s, hold_s, answered, abandoned,"
             " transferred, transfer_kind, team, complete, events, ended_by)"
             " FROM calls JOIN tenants USING (tenant_id) WHERE tenants.name = '%s' AND call_id = '%s'",
             t->name, call);
    return h_sql_value(kicd.conninfo, sql);
}

START_TEST(duplicates_and_any_order_give_the_same_call)
{
    Tenantx t = tenant("order");
    Client *c = cl_session(kicd.port, t.bridge);
    KicTime t0 = h_today(600);
    char ev[6][512];
    call_events(ev, "in-", "in-order", t0);
    for (int i = 0; i < 6; i++)
        ok_event(c, call_methods[i], ev[i], false);
    /* the same call's events reversed, with every event sent twice */
    call_events(ev, "rev-", "reversed", t0);
    for (int i = 5; i >= 0; i--) {
        ok_event(c, call_methods[i], ev[i], false);
        ok_event(c, call_methods[i], ev[i], true);
    }
    char *a = call_row(&t, "in-order"), *b = call_row(&t, "reversed");
    ck_assert_str_eq(a, "thuiszorg|a.jansen|14.5|70.5|15|t|f|t|care_team|wijkteam-noord|t|6|agent");
    ck_assert_str_eq(a, b);
    free(a);
    free(b);
    ck_assert_int_eq(count_sql(&t, EVENTS_OF), 12);
    ck_assert_int_eq(count_sql(&t, "SELECT count(*) FROM event_keys JOIN tenants USING (tenant_id) WHERE tenants.name = '%s'"), 12);
    cl_close(c);
}
END_TEST

START_TEST(duplicates_inside_one_batch_array)
{
    Tenantx t = tenant("batchdup");
    Client *c = cl_session(kicd.port, t.bridge);
    const char *at = h_at(h_today(30), 0);
    cl_sendf(c, "[{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"call.offered\",\"params\":{\"event_id\":\"x\",\"call_id\":\"b1\",\"at\":\"%s\",\"queue\":\"q\"}},"
                "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"call.offered\",\"params\":{\"event_id\":\"x\",\"call_id\":\"b1\",\"at\":\"%s\",\"queue\":\"q\"}},"
                "{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"call.offered\",\"params\":{\"event_id\":\"y\",\"call_id\":\"b2\",\"queue\":\"q\"}}]",
             at, at);
    json_t *r = cl_recv(c, 10000);
    ck_assert_uint_eq(json_array_size(r), 3);
    ck_assert(json_is_false(json_object_get(rpc_result(json_array_get(r, 0)), "duplicate")));
    ck_assert(json_is_true(json_object_get(rpc_result(json_array_get(r, 1)), "duplicate")));
    ck_assert_int_eq(rpc_code(json_array_get(r, 2)), -32602);
    json_decref(r);
    ck_assert_int_eq(count_sql(&t, EVENTS_OF), 1);
    cl_close(c);
}
END_TEST

START_TEST(same_event_id_under_another_call_is_a_duplicate)
{
    Tenantx t = tenant("reuse");
    Client *c = cl_session(kicd.port, t.bridge);
    const char *at = h_at(h_today(30), 0);
    char p[256];
    snprintf(p, sizeof(p), "{\"event_id\":\"same\",\"call_id\":\"one\",\"at\":\"%s\",\"queue\":\"q\"}", at);
    ok_event(c, "call.offered", p, false);
    snprintf(p, sizeof(p), "{\"event_id\":\"same\",\"call_id\":\"two\",\"at\":\"%s\",\"queue\":\"q\"}", at);
    ok_event(c, "call.offered", p, true);
    ck_assert_int_eq(count_sql(&t, EVENTS_OF), 1);
    cl_close(c);
}
END_TEST

/* An event id already stored under a call memory no longer holds (here:
 * a key put into storage behind kicd's back) is found by storage: that
 * event is not stored again, and the events of the same batch are. */
START_TEST(an_event_id_known_only_to_storage_is_not_stored_again)
{
    Tenantx t = tenant("oldkey");
    store_key_behind(kicd.conninfo, t.name, "old-1");
    Client *c = cl_session(kicd.port, t.bridge);
    KicTime t0 = h_today(600);
    const char *ids[] = {"new-1", "old-1", "new-2"};
    for (int i = 0; i < 3; i++) /* sent at once: one batch */
        cl_sendf(c, "{\"jsonrpc\":\"2.0\",\"id\":%d,\"method\":\"call.offered\",\"params\":{\"event_id\":\"%s\",\"call_id\":\"k%d\",\"at\":\"%s\",\"queue\":\"q\"}}",
                 i, ids[i], i, h_at(t0, i));
    expect_results(c, 3, 5000);
    ck_assert_int_eq(count_sql(&t, EVENTS_OF), 2);
    ck_assert_int_eq(count_sql(&t, EVENTS_OF " AND event_id IN ('new-1', 'new-2')"), 2);
    ck_assert_int_eq(count_sql(&t, "SELECT count(*) FROM event_keys JOIN tenants USING (tenant_id) WHERE tenants.name = '%s'"), 3);
    cl_close(c);
}
END_TEST

/* The rewind tests' kicd: two records a batch, so the four events of
 * rewind_events are three batches in flight at once: [the stored key,
 * call x offered], [x answered], [x ended]. */
static const char *start_rewind_kicd(Kicd *k, const char *db, const char *tenant_base,
                                     const char **bridge)
{
    kicd_init(k, db, "[storage]\nbatch_max = 2\nbatch_wait_us = 200000\n");
    kicd_start(k);
    const char *name = h_tenant(tenant_base);
    *bridge = h_user(k, name, "pbx", "bridge", NULL, NULL); /* creates the tenant */
    store_key_behind(k->conninfo, name, "old-1");
    return name;
}

/* One event of a rewind test: its at is `offset` seconds after t0; extra
 * holds further params (",\"queue\":\"q\"" and the like). */
typedef struct RewindEvent {
    const char *method, *event_id, *call_id, *extra;
    int offset;
} RewindEvent;

/* Sends the four events in one write, with ids 0-3. */
static void send_four(Client *c, const RewindEvent ev[4])
{
    KicTime t0 = h_today(600);
    char lines[2048];
    size_t len = 0;
    for (int i = 0; i < 4; i++)
        len += (size_t)snprintf(lines + len, sizeof(lines) - len,
                                "%s{\"jsonrpc\":\"2.0\",\"id\":%d,\"method\":\"%s\",\"params\":"
                                "{\"event_id\":\"%s\",\"call_id\":\"%s\",\"at\":\"%s\"%s}}",
                                i ? "\n" : "", i, ev[i].method, ev[i].event_id, ev[i].call_id,
                                h_at(t0, ev[i].offset), ev[i].extra);
    ck_assert_uint_lt(len, sizeof(lines));
    cl_send(c, lines);
}

/* Sends, in one write: an event whose key storage has, then call x. */
static void send_rewind_events(Client *c)
{
    static const RewindEvent ev[4] = {
        {"call.offered", "old-1", "k", ",\"queue\":\"q\"", 0},
        {"call.offered", "x1", "x", ",\"queue\":\"q\"", 1},
        {"call.answered", "x2", "x", ",\"agent\":\"a.jansen\"", 5},
        {"call.ended", "x3", "x", ",\"by\":\"caller\"", 65},
    };
    send_four(c, ev);
}

/* How many of the tenant's calls rows match `cond`; with wait, first
 * waits (up to 10 s) for one to. */
static long long calls_where(const Kicd *k, const char *name, const char *cond, bool wait)
{
    char sql[512];
    snprintf(sql, sizeof(sql),
             "SELECT count(*) FROM calls JOIN tenants USING (tenant_id) WHERE tenants.name = '%s'"
             " AND %s", name, cond);
    for (int tries = 0; wait && h_sql_int(k->conninfo, sql) == 0 && tries < 500; tries++)
        usleep(20000);
    return h_sql_int(k->conninfo, sql);
}

/* Waits until call x's row is its last batch's, then checks that the
 * three new events, and not the stored key's, were stored. */
static void expect_call_x_whole(const Kicd *k, const char *name)
{
    ck_assert_int_eq(calls_where(k, name, "call_id = 'x' AND answered AND ended AND events = 3", true), 1);
    char sql[512];
    snprintf(sql, sizeof(sql),
             "SELECT count(*) FROM events JOIN tenants USING (tenant_id) WHERE tenants.name = '%s'", name);
    ck_assert_int_eq(h_sql_int(k->conninfo, sql), 3);
}

/* When a batch meets a stored key, it and the batches sent after it are
 * written again in order: a later batch already committed must not be
 * overwritten by the older rows of the first. */
START_TEST(batches_after_a_stored_key_are_written_again_in_order)
{
    Kicd small;
    const char *bridge;
    const char *name = start_rewind_kicd(&small, "ingest_rewind", "rewind", &bridge);
    Client *c = cl_session(small.port, bridge);
    send_rewind_events(c);
    expect_results(c, 4, 5000);
    expect_call_x_whole(&small, name);
    cl_close(c);
    kicd_stop(&small);
}
END_TEST

/* A later contact of the same caller rewrites only the repeat flag of
 * the earlier one. Here the earlier one's row is in the batch that meets
 * a stored key: the later batch commits first (its update finds no row),
 * then both are written again in order, so the flag lands on the row.
 * Two records a batch: [stored key, x offered] [y offered, z offered]. */
START_TEST(a_repeat_flag_of_a_call_in_a_rewound_batch_is_stored)
{
    Kicd small;
    const char *bridge;
    const char *name = start_rewind_kicd(&small, "ingest_rewind_repeat", "rewindrep", &bridge);
    Client *c = cl_session(small.port, bridge);
    static const RewindEvent ev[4] = {
        {"call.offered", "old-1", "k", ",\"queue\":\"q\"", 0},
        {"call.offered", "x1", "x", ",\"queue\":\"q\",\"caller\":\"0612345678\"", 600},
        {"call.offered", "y1", "y", ",\"queue\":\"q\",\"caller\":\"0612345678\"", 1200},
        {"call.offered", "z1", "z", ",\"queue\":\"q\"", 1200},
    };
    send_four(c, ev);
    expect_results(c, 4, 5000);
    ck_assert(kicd_log_shows(&small, "was stored before"));
    ck_assert_int_eq(calls_where(&small, name,
                                 "call_id = 'x' AND followed_by_repeat AND caller_key IS NOT NULL", true), 1);
    ck_assert_int_eq(calls_where(&small, name, "call_id = 'y' AND NOT followed_by_repeat", false), 1);
    cl_close(c);
    kicd_stop(&small);
}
END_TEST

/* The connection to PostgreSQL breaks while a rewind waits for the
 * batches after the failed one: the calls table is locked, so two
 * batches hang in PostgreSQL when the first fails on a stored key; the
 * session they hang in is then ended. All three batches go to the journal
 * and are answered from there; once the lock is gone they are written
 * from it, in order, safe. */
START_TEST(a_connection_lost_during_a_rewind_loses_nothing)
{
    Kicd small;
    const char *bridge;
    const char *name = start_rewind_kicd(&small, "ingest_rewind_lost", "rewindlost", &bridge);
    PGconn *locker = PQconnectdb(small.conninfo);
    PGresult *pr = PQexec(locker, "BEGIN; LOCK TABLE calls IN EXCLUSIVE MODE");
    ck_assert_int_eq(PQresultStatus(pr), PGRES_COMMAND_OK);
    PQclear(pr);
    Client *c = cl_session(small.port, bridge);
    send_rewind_events(c);

    /* the writer's session waits for the lock: end it */
    h_db_await_lock_wait(small.conninfo);
    ck_assert(kicd_log_shows(&small, "was stored before"));
    h_sql_exec(small.conninfo, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                               " WHERE application_name = 'kicd' AND wait_event_type = 'Lock'"
                               " AND datname = current_database()");
    expect_results(c, 4, 10000); /* durable in the journal */
    pr = PQexec(locker, "COMMIT");
    PQclear(pr);
    PQfinish(locker);
    expect_call_x_whole(&small, name);
    ck_assert(kicd_log_shows(&small, "journal replayed"));
    cl_close(c);
    ck_assert(kicd_stop(&small));
}
END_TEST

/* A calls row storage holds for a call memory takes for new (written by
 * something else, or before memory's window): the batch is written the
 * safe way and the row is the call as derived. */
START_TEST(a_call_known_only_to_storage_is_updated_not_inserted)
{
    Tenantx t = tenant("oldcall");
    char sql[512];
    snprintf(sql, sizeof(sql),
             "INSERT INTO calls (tenant_id, call_id, queue) SELECT tenant_id, 'z', 'elsewhere'"
             " FROM tenants WHERE name = '%s'", t.name);
    h_sql_exec(kicd.conninfo, sql);
    Client *c = cl_session(kicd.port, t.bridge);
    KicTime t0 = h_today(600);
    char lines[1024];
    snprintf(lines, sizeof(lines), /* sent at once: one batch */
             "{\"jsonrpc\":\"2.0\",\"id\":0,\"method\":\"call.offered\",\"params\":{\"event_id\":\"y1\",\"call_id\":\"y\",\"at\":\"%s\",\"queue\":\"q\"}}\n"
             "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"call.offered\",\"params\":{\"event_id\":\"z1\",\"call_id\":\"z\",\"at\":\"%s\",\"queue\":\"q\"}}",
             h_at(t0, 0), h_at(t0, 1));
    cl_send(c, lines);
    expect_results(c, 2, 5000);
    ck_assert_int_eq(count_sql(&t, EVENTS_OF), 2);
    ck_assert_int_eq(count_sql(&t, "SELECT count(*) FROM calls JOIN tenants USING (tenant_id)"
                                   " WHERE tenants.name = '%s' AND queue = 'q' AND events = 1"),
                     2);
    ck_assert(kicd_log_contains(&kicd, "a call of a batch"));
    cl_close(c);
}
END_TEST

static long long count_in(const Kicd *k, const char *tenant, const char *table)
{
    char sql[256];
    snprintf(sql, sizeof(sql), "SELECT count(*) FROM %s JOIN tenants USING (tenant_id)"
                               " WHERE tenants.name = '%s'", table, tenant);
    return h_sql_int(k->conninfo, sql);
}

/* One batch with rows for every table, written fast (event keys first):
 * each gets its statement, all in one transaction. Everything arrives
 * from idle within the batch's wait, so it is one batch. */
START_TEST(a_batch_with_every_kind_of_row_is_stored_whole)
{
    Kicd k;
    kicd_init(&k, "ingest_every_kind", "[storage]\nbatch_wait_us = 500000\n");
    kicd_start(&k);
    const char *name = h_tenant("everykind");
    const char *bridge = h_user(&k, name, "pbx", "bridge", NULL, NULL);
    const char *agent = h_user(&k, name, "a.jansen", "agent", NULL, "kic");
    Client *b = cl_session(k.port, bridge), *a = cl_session(k.port, agent);
    KicTime t0 = h_today(900);
    /* before: a call of the agent's, ended; a callback the agent holds */
    cl_call_ok(b, "call.offered", "{\"event_id\":\"p-o\",\"call_id\":\"p\",\"at\":\"%s\",\"queue\":\"q\",\"caller\":\"0612000001\"}", h_at(t0, 0));
    cl_call_ok(b, "call.answered", "{\"event_id\":\"p-a\",\"call_id\":\"p\",\"at\":\"%s\",\"agent\":\"a.jansen\"}", h_at(t0, 10));
    cl_call_ok(b, "call.ended", "{\"event_id\":\"p-e\",\"call_id\":\"p\",\"at\":\"%s\"}", h_at(t0, 100));
    json_t *r = cl_call(a, "callback.create", "{\"caller\":\"0612000002\",\"team\":\"kic\"}");
    char cb[64];
    snprintf(cb, sizeof(cb), "%s", json_string_value(json_object_get(ck_result(r), "callback_id")));
    json_decref(r);
    cl_call_ok(a, "callback.claim", "{\"callback_id\":\"%s\"}", cb);

    /* the burst: a contact from ten days ago (its repeat window reaches
     * past what memory holds: settled in storage), answered (a leg; being
     * older than memory it changes no agent's live state);
     * a callback requested; the wrap-up of the earlier call; a choice of
     * state; the callback tried, with a note */
    char lines[2048];
    snprintf(lines, sizeof(lines),
             "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"call.offered\",\"params\":{\"event_id\":\"n-o\",\"call_id\":\"n\",\"at\":\"%s\",\"queue\":\"q\",\"caller\":\"0612000001\"}}\n"
             "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"call.answered\",\"params\":{\"event_id\":\"n-a\",\"call_id\":\"n\",\"at\":\"%s\",\"agent\":\"b.devries\"}}\n"
             "{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"callback.requested\",\"params\":{\"event_id\":\"r-1\",\"callback_id\":\"ivr-9\",\"caller\":\"0612000003\",\"queue\":\"q\",\"at\":\"%s\"}}",
             h_at(t0, -10 * 86400.0), h_at(t0, -10 * 86400.0 + 5), h_at(t0, 120));
    cl_send(b, lines);
    snprintf(lines, sizeof(lines),
             "{\"jsonrpc\":\"2.0\",\"id\":4,\"method\":\"call.wrapup\",\"params\":{\"call_id\":\"p\",\"category\":\"wijkverpleging\",\"resolved\":true}}\n"
             "{\"jsonrpc\":\"2.0\",\"id\":5,\"method\":\"agent.state.set\",\"params\":{\"state\":\"break\",\"reason\":\"lunch\"}}\n"
             "{\"jsonrpc\":\"2.0\",\"id\":6,\"method\":\"callback.complete\",\"params\":{\"callback_id\":\"%s\",\"outcome\":\"no_answer\",\"note\":\"voicemail\"}}",
             cb);
    cl_send(a, lines);
    for (int i = 1; i <= 6; i++) {
        r = cl_recv_response(i <= 3 ? b : a, 10000);
        if (r && !rpc_result(r)) {
            char *text = json_dumps(r, 0);
            fprintf(stderr, "answer to %d: %s\n", i, text);
            free(text);
        }
        ck_assert_msg(r && rpc_result(r), "request %d not answered with a result", i);
        ck_assert_int_eq(json_integer_value(json_object_get(r, "id")), i);
        json_decref(r);
    }
    ck_assert(kicd_log_contains(&k, "writing a batch of 6 records in 14 statements\n"));
    ck_assert_int_eq(count_in(&k, name, "events"), 6);
    ck_assert_int_eq(count_in(&k, name, "event_keys"), 6);
    ck_assert_int_eq(count_in(&k, name, "calls"), 2);
    ck_assert_int_eq(count_in(&k, name, "wrapups"), 1);
    ck_assert_int_eq(count_in(&k, name, "agent_choices"), 1);
    ck_assert_int_eq(count_in(&k, name, "callbacks"), 2);
    ck_assert_int_eq(count_in(&k, name, "callback_notes"), 1);
    ck_assert_int_ge(count_in(&k, name, "agent_states"), 3); /* a.jansen's: on call, ACW, break */
    ck_assert_int_eq(count_in(&k, name, "call_legs"), 2); /* p's, then n's */
    ck_assert_int_eq(count_in(&k, name, "agent_choice_history"), 1);
    cl_close(a);
    cl_close(b);
    ck_assert(kicd_stop(&k));
}
END_TEST

/* A state interval storage holds and memory does not know (stored before
 * a restart, say): the batch that opens it again is written the safe way,
 * whole, and the interval stays one row. */
START_TEST(a_state_interval_known_only_to_storage_is_not_stored_again)
{
    Tenantx t = tenant("oldstate");
    KicTime t0 = h_today(600);
    char at0[40], at1[40], sql[512];
    snprintf(at0, sizeof(at0), "%s", h_at(t0, 0));
    snprintf(at1, sizeof(at1), "%s", h_at(t0, 4));
    snprintf(sql, sizeof(sql),
             "INSERT INTO agent_states (tenant_id, agent, since, state) SELECT tenant_id,"
             " 'a.jansen', '%s', 'on_call' FROM tenants WHERE name = '%s'", at1, t.name);
    h_sql_exec(kicd.conninfo, sql);
    Client *c = cl_session(kicd.port, t.bridge);
    char lines[1024];
    snprintf(lines, sizeof(lines), /* sent at once: one batch */
             "{\"jsonrpc\":\"2.0\",\"id\":0,\"method\":\"call.offered\",\"params\":{\"event_id\":\"s1\",\"call_id\":\"s\",\"at\":\"%s\",\"queue\":\"q\"}}\n"
             "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"call.answered\",\"params\":{\"event_id\":\"s2\",\"call_id\":\"s\",\"at\":\"%s\",\"agent\":\"a.jansen\"}}",
             at0, at1);
    cl_send(c, lines);
    expect_results(c, 2, 5000);
    ck_assert_int_eq(count_sql(&t, EVENTS_OF), 2);
    ck_assert_int_eq(count_sql(&t, "SELECT count(*) FROM calls JOIN tenants USING (tenant_id)"
                                   " WHERE tenants.name = '%s' AND call_id = 's' AND answered"),
                     1);
    ck_assert_int_eq(count_sql(&t, "SELECT count(*) FROM agent_states JOIN tenants USING (tenant_id)"
                                   " WHERE tenants.name = '%s' AND agent = 'a.jansen'"),
                     1);
    ck_assert(kicd_log_contains(&kicd, "an agent's state interval of a batch"));
    cl_close(c);
}
END_TEST

START_TEST(tenants_with_the_same_ids_stay_apart)
{
    Tenantx a = tenant("ta"), b = tenant("tb");
    Client *ca = cl_session(kicd.port, a.bridge), *cb = cl_session(kicd.port, b.bridge);
    KicTime t0 = h_today(300);
    char ev[6][512];
    call_events(ev, "same-", "shared-id", t0);
    for (int i = 0; i < 6; i++) {
        ok_event(ca, call_methods[i], ev[i], false);
        ok_event(cb, call_methods[i], ev[i], false); /* not a duplicate: another tenant */
    }
    ck_assert_int_eq(count_sql(&a, EVENTS_OF), 6);
    ck_assert_int_eq(count_sql(&b, EVENTS_OF), 6);
    /* each supervisor sees one call, their own */
    Client *sa = cl_session(kicd.port, a.super);
    json_t *r = cl_call(sa, "stats.live", NULL);
    ck_assert_int_eq(json_integer_value(json_object_get(json_object_get(ck_result(r), "total"), "offered")), 1);
    json_decref(r);
    /* callers' keys differ per tenant for the same number */
    char sql[512];
    snprintf(sql, sizeof(sql), "SELECT count(DISTINCT caller_key) FROM calls WHERE call_id = 'shared-id' AND tenant_id IN (SELECT tenant_id FROM tenants WHERE name IN ('%s', '%s'))", a.name, b.name);
    ck_assert_int_eq(h_sql_int(kicd.conninfo, sql), 2);
    cl_close(ca);
    cl_close(cb);
    cl_close(sa);
}
END_TEST

/* ---- agents, notifications, live ---- */

START_TEST(desktop_gets_connected_and_ended_and_agent_states_follow)
{
    Tenantx t = tenant("desk");
    Client *bridge = cl_session(kicd.port, t.bridge);
    Client *desk = cl_session(kicd.port, t.agent);
    Client *super = cl_session(kicd.port, t.super);
    json_t *r = cl_call(desk, "agent.state.set", "{\"state\":\"available\"}");
    ck_assert_str_eq(json_string_value(json_object_get(ck_result(r), "state")), "available");
    char *since = strdup(json_string_value(json_object_get(ck_result(r), "since")));
    json_decref(r);
    /* the same again (a desktop restoring its state): nothing changes */
    usleep(20000);
    r = cl_call(desk, "agent.state.set", "{\"state\":\"available\"}");
    ck_assert_str_eq(json_string_value(json_object_get(ck_result(r), "since")), since);
    json_decref(r);
    free(since);

    KicTime t0 = h_today(5);
    char p[512];
    snprintf(p, sizeof(p), "{\"event_id\":\"d1\",\"call_id\":\"dc\",\"at\":\"%s\",\"queue\":\"q\",\"caller\":\"0612340000\"}", h_at(t0, 0));
    ok_event(bridge, "call.offered", p, false);
    r = cl_call(super, "stats.live", NULL);
    ck_assert_int_eq(json_integer_value(json_object_get(json_object_get(ck_result(r), "total"), "waiting")), 1);
    json_decref(r);

    snprintf(p, sizeof(p), "{\"event_id\":\"d2\",\"call_id\":\"dc\",\"at\":\"%s\",\"agent\":\"a.jansen\"}", h_at(t0, 3));
    ok_event(bridge, "call.answered", p, false);
    json_t *n = cl_wait_notification(desk, "call.connected", 5000);
    ck_assert_ptr_nonnull(n);
    ck_assert_str_eq(json_string_value(json_object_get(json_object_get(n, "params"), "call_id")), "dc");
    ck_assert_int_eq(json_integer_value(json_object_get(json_object_get(n, "params"), "repeat_contacts")), 0);
    json_decref(n);
    r = cl_call(super, "agents.list", NULL);
    json_t *agents = json_object_get(ck_result(r), "agents");
    ck_assert_str_eq(json_string_value(json_object_get(json_array_get(agents, 0), "agent")), "a.jansen");
    ck_assert_str_eq(json_string_value(json_object_get(json_array_get(agents, 0), "state")), "on_call");
    json_decref(r);

    /* break chosen during the call: on_call still, then acw, then break */
    r = cl_call(desk, "agent.state.set", "{\"state\":\"break\",\"reason\":\"lunch\"}");
    ck_assert_str_eq(json_string_value(json_object_get(ck_result(r), "state")), "on_call");
    json_decref(r);
    snprintf(p, sizeof(p), "{\"event_id\":\"d3\",\"call_id\":\"dc\",\"at\":\"%s\"}", h_at(t0, 4));
    ok_event(bridge, "call.ended", p, false);
    n = cl_wait_notification(desk, "call.ended", 5000);
    ck_assert_ptr_nonnull(n);
    ck_assert(json_is_true(json_object_get(json_object_get(n, "params"), "wrapup_due")));
    json_decref(n);
    r = cl_call(super, "agents.list", NULL);
    agents = json_object_get(ck_result(r), "agents");
    ck_assert_str_eq(json_string_value(json_object_get(json_array_get(agents, 0), "state")), "acw");
    ck_assert_str_eq(json_string_value(json_object_get(json_array_get(agents, 0), "reason")), "lunch");
    json_decref(r);
    /* the other agent's desktop heard nothing */
    Client *desk2 = cl_session(kicd.port, t.agent2);
    ck_assert_ptr_null(cl_wait_notification(desk2, "call.connected", 300));
    /* state intervals are stored */
    ck_assert_int_ge(count_sql(&t, "SELECT count(*) FROM agent_states JOIN tenants USING (tenant_id) WHERE tenants.name = '%s' AND agent = 'a.jansen'"), 3);
    ck_assert_int_eq(count_sql(&t, "SELECT count(*) FROM agent_choices JOIN tenants USING (tenant_id) WHERE tenants.name = '%s' AND chosen = 'break' AND reason = 'lunch'"), 1);
    ck_assert_rpc_error(cl_call(desk, "agent.state.set", "{\"state\":\"on_call\"}"), -32602);
    ck_assert_rpc_error(cl_call(desk, "agent.state.set", "{}"), -32602);
    ck_assert_rpc_error(cl_call(desk, "agent.state.set", "{\"state\":\"available\",\"reason\":7}"), -32602);
    cl_close(bridge);
    cl_close(desk);
    cl_close(desk2);
    cl_close(super);
}
END_TEST

/* n copies of one UTF-8 character (caller frees). */
static char *repeat_char(int n, const char *ch)
{
    size_t w = strlen(ch);
    char *s = malloc((size_t)n * w + 1);
    ck_assert_ptr_nonnull(s);
    for (int i = 0; i < n; i++)
        memcpy(s + (size_t)i * w, ch, w);
    s[(size_t)n * w] = '\0';
    return s;
}

static void ok_event_json(Client *c, const char *method, json_t *params)
{
    char *text = json_dumps(params, JSON_COMPACT);
    ok_event(c, method, text, false);
    free(text);
    json_decref(params);
}

/* Names are limited to 256 characters, not bytes: the longest names in
 * characters of two, three and four bytes pass whole through ingest,
 * live state, desktops' notices and storage. */
START_TEST(names_of_256_multibyte_characters_pass_whole)
{
    Tenantx t = tenant("utf8");
    char *agent = repeat_char(256, "\xC3\xA9");           /* é: 512 bytes */
    char *queue = repeat_char(256, "\xE2\x82\xAC");       /* €: 768 bytes */
    char *call = repeat_char(256, "\xF0\x9F\x93\x9E");    /* 📞: 1,024 bytes */
    char *reason = repeat_char(256, "\xE2\x98\x95");      /* ☕ */
    char *event = repeat_char(254, "\xF0\x9F\x93\x9E");   /* + "-1": 256 characters */
    char *token = h_user(&kicd, t.name, "utf8.agent", "agent", agent, "kic");
    Client *bridge = cl_session(kicd.port, t.bridge);
    Client *desk = cl_session(kicd.port, token);
    Client *super = cl_session(kicd.port, t.super);
    KicTime t0 = h_today(20);

    ok_event_json(bridge, "call.offered",
                  json_pack("{s:s+, s:s, s:s, s:s}", "event_id", event, "-1", "call_id", call,
                            "at", h_at(t0, 0), "queue", queue));
    ok_event_json(bridge, "call.answered",
                  json_pack("{s:s+, s:s, s:s, s:s}", "event_id", event, "-2", "call_id", call,
                            "at", h_at(t0, 2), "agent", agent));
    json_t *n = cl_wait_notification(desk, "call.connected", 5000);
    ck_assert_ptr_nonnull(n);
    json_t *np = json_object_get(n, "params");
    ck_assert_str_eq(json_string_value(json_object_get(np, "call_id")), call);
    ck_assert_str_eq(json_string_value(json_object_get(np, "queue")), queue);
    json_decref(n);
    /* a state with the longest reason, chosen during the call */
    json_t *r = cl_call(desk, "agent.state.set", "{\"state\":\"break\",\"reason\":\"%s\"}", reason);
    ck_result(r);
    json_decref(r);
    ok_event_json(bridge, "call.ended",
                  json_pack("{s:s+, s:s, s:s}", "event_id", event, "-3", "call_id", call, "at",
                            h_at(t0, 9)));
    n = cl_wait_notification(desk, "call.ended", 5000);
    ck_assert_ptr_nonnull(n);
    ck_assert_str_eq(json_string_value(json_object_get(json_object_get(n, "params"), "call_id")), call);
    json_decref(n);
    r = cl_call(super, "agents.list", NULL);
    json_t *agents = json_object_get(ck_result(r), "agents"), *a, *mine = NULL;
    size_t i;
    json_array_foreach(agents, i, a)
    {
        if (strcmp(json_string_value(json_object_get(a, "agent")), agent) == 0)
            mine = a;
    }
    ck_assert_ptr_nonnull(mine);
    ck_assert_str_eq(json_string_value(json_object_get(mine, "reason")), reason);
    json_decref(r);
    r = cl_call(super, "stats.live", NULL);
    json_t *q0 = json_array_get(json_object_get(ck_result(r), "queues"), 0);
    ck_assert_str_eq(json_string_value(json_object_get(q0, "queue")), queue);
    json_decref(r);
    /* stored whole: characters and bytes */
    ck_assert_int_eq(count_sql(&t, "SELECT count(*) FROM calls JOIN tenants USING (tenant_id)"
                                   " WHERE tenants.name = '%s' AND length(call_id) = 256"
                                   " AND octet_length(call_id) = 1024 AND octet_length(queue) = 768"
                                   " AND octet_length(agent) = 512 AND ended_at IS NOT NULL"),
                     1);
    ck_assert_int_eq(count_sql(&t, "SELECT count(*) FROM agent_states JOIN tenants USING (tenant_id)"
                                   " WHERE tenants.name = '%s' AND octet_length(agent) = 512"
                                   " AND state IN ('on_call', 'acw')"),
                     2);
    ck_assert_int_eq(count_sql(&t, "SELECT count(*) FROM agent_choices JOIN tenants USING (tenant_id)"
                                   " WHERE tenants.name = '%s' AND octet_length(agent) = 512"
                                   " AND chosen = 'break' AND octet_length(reason) = 768"),
                     1);
    /* one character more is refused, naming the field */
    char *longer = repeat_char(257, "\xC3\xA9");
    json_t *p = json_pack("{s:s, s:s, s:s, s:s}", "event_id", "long", "call_id", "long", "at",
                          h_at(t0, 10), "queue", longer);
    char *text = json_dumps(p, JSON_COMPACT);
    r = cl_call(bridge, "call.offered", "%s", text);
    ck_assert_int_eq(rpc_code(r), -32602);
    ck_assert_str_eq(json_string_value(json_object_get(json_object_get(json_object_get(r, "error"), "data"), "field")), "queue");
    json_decref(r);
    free(text);
    json_decref(p);
    ck_assert_int_eq(count_sql(&t, EVENTS_OF), 3);
    free(longer);
    free(agent);
    free(queue);
    free(call);
    free(event);
    free(reason);
    free(token);
    cl_close(bridge);
    cl_close(desk);
    cl_close(super);
}
END_TEST

START_TEST(live_statistics_count_today)
{
    Tenantx t = tenant("live");
    Client *bridge = cl_session(kicd.port, t.bridge);
    Client *super = cl_session(kicd.port, t.super);
    KicTime t0 = h_today(900);
    char p[512];
    /* answered in 10 s; abandoned after 3 s (short); abandoned after 40 s; one waiting */
    snprintf(p, sizeof(p), "{\"event_id\":\"l1\",\"call_id\":\"l-a\",\"at\":\"%s\",\"queue\":\"q1\"}", h_at(t0, 0));
    ok_event(bridge, "call.offered", p, false);
    snprintf(p, sizeof(p), "{\"event_id\":\"l2\",\"call_id\":\"l-a\",\"at\":\"%s\",\"agent\":\"a.jansen\"}", h_at(t0, 10));
    ok_event(bridge, "call.answered", p, false);
    snprintf(p, sizeof(p), "{\"event_id\":\"l3\",\"call_id\":\"l-b\",\"at\":\"%s\",\"queue\":\"q1\"}", h_at(t0, 20));
    ok_event(bridge, "call.offered", p, false);
    snprintf(p, sizeof(p), "{\"event_id\":\"l4\",\"call_id\":\"l-b\",\"at\":\"%s\"}", h_at(t0, 23));
    ok_event(bridge, "call.abandoned", p, false);
    snprintf(p, sizeof(p), "{\"event_id\":\"l5\",\"call_id\":\"l-c\",\"at\":\"%s\",\"queue\":\"q2\"}", h_at(t0, 30));
    ok_event(bridge, "call.offered", p, false);
    snprintf(p, sizeof(p), "{\"event_id\":\"l6\",\"call_id\":\"l-c\",\"at\":\"%s\"}", h_at(t0, 70));
    ok_event(bridge, "call.abandoned", p, false);
    snprintf(p, sizeof(p), "{\"event_id\":\"l7\",\"call_id\":\"l-d\",\"at\":\"%s\",\"queue\":\"q2\"}", h_at(t0, 100));
    ok_event(bridge, "call.offered", p, false);

    json_t *r = cl_call(super, "stats.live", NULL);
    json_t *total = json_object_get(ck_result(r), "total");
    ck_assert_int_eq(json_integer_value(json_object_get(total, "offered")), 4);
    ck_assert_int_eq(json_integer_value(json_object_get(total, "answered")), 1);
    ck_assert_int_eq(json_integer_value(json_object_get(total, "abandoned")), 2);
    ck_assert_int_eq(json_integer_value(json_object_get(total, "waiting")), 1);
    /* l-d has waited since t0 + 100 s (t0 is later than 15 min ago just after midnight) */
    double waited = time_diff_s(t0, h_today(0)) - 100;
    ck_assert(json_real_value(json_object_get(total, "longest_wait_s")) >= waited - 1);
    /* SL = answered within 20 s / (offered - short abandons) = 1/3 */
    ck_assert_double_eq_tol(json_real_value(json_object_get(total, "service_level")), 0.3333, 0.0001);
    ck_assert_double_eq_tol(json_real_value(json_object_get(total, "asa_s")), 10.0, 0.001);
    ck_assert(json_is_null(json_object_get(total, "aht_s")));
    json_t *queues = json_object_get(ck_result(r), "queues");
    ck_assert_uint_eq(json_array_size(queues), 2);
    ck_assert_str_eq(json_string_value(json_object_get(json_array_get(queues, 0), "queue")), "q1");
    json_decref(r);
    r = cl_call(super, "stats.live", "{\"queues\":[\"q2\"]}");
    queues = json_object_get(ck_result(r), "queues");
    ck_assert_uint_eq(json_array_size(queues), 1);
    ck_assert_int_eq(json_integer_value(json_object_get(json_array_get(queues, 0), "waiting")), 1);
    json_decref(r);
    ck_assert_rpc_error(cl_call(super, "stats.live", "{\"queues\":\"q2\"}"), -32602);
    ck_assert_rpc_error(cl_call(super, "stats.live", "{\"queues\":[7]}"), -32602);
    cl_close(bridge);
    cl_close(super);
}
END_TEST

/* A re-send decided while its first copy's batch was still on its way
 * is no duplicate when that batch then fails: both are told to send again
 * (-32603, nothing recorded), and the next copy is stored. */
START_TEST(a_resend_behind_a_failed_batch_is_not_called_a_duplicate)
{
    Tenantx t = tenant("failed");
    /* storage refuses the event's key after a while: the batch fails,
     * the connection stays */
    h_sql_exec(kicd.conninfo,
               "CREATE FUNCTION kic_test_refuse() RETURNS trigger LANGUAGE plpgsql AS $$"
               " BEGIN IF NEW.event_id = 'boom' THEN PERFORM pg_sleep(1.5);"
               " RAISE EXCEPTION 'refused by the test'; END IF; RETURN NEW; END $$");
    h_sql_exec(kicd.conninfo, "CREATE TRIGGER kic_test_refuse BEFORE INSERT ON event_keys"
                              " FOR EACH ROW EXECUTE FUNCTION kic_test_refuse()");
    Client *c = cl_session(kicd.port, t.bridge);
    char p[256];
    snprintf(p, sizeof(p), "{\"event_id\":\"boom\",\"call_id\":\"bc\",\"at\":\"%s\",\"queue\":\"q\"}",
             h_at(h_today(600), 0));
    cl_sendf(c, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"call.offered\",\"params\":%s}", p);
    usleep(300000); /* the first batch waits in the trigger meanwhile */
    cl_sendf(c, "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"call.offered\",\"params\":%s}", p);
    for (int id = 1; id <= 2; id++) {
        json_t *r = cl_recv(c, 10000);
        ck_assert_msg(r != NULL, "no answer to request %d", id);
        ck_assert_int_eq(json_integer_value(json_object_get(r, "id")), id);
        ck_assert_int_eq(rpc_code(r), -32603);
        json_decref(r);
    }
    h_sql_exec(kicd.conninfo, "DROP TRIGGER kic_test_refuse ON event_keys");
    h_sql_exec(kicd.conninfo, "DROP FUNCTION kic_test_refuse()");
    ck_assert_int_eq(count_sql(&t, EVENTS_OF), 0);
    ok_event(c, "call.offered", p, false);
    ck_assert_int_eq(count_sql(&t, EVENTS_OF " AND event_id = 'boom'"), 1);
    cl_close(c);
}
END_TEST

/* A callback request older than memory holds (here: sent again after a
 * restart) is known by its stored key: a duplicate, and the callback it
 * opened, closed since, stays closed, its number purged. */
START_TEST(an_old_callback_request_sent_again_is_a_duplicate)
{
    Kicd k; /* its own, to restart (a test runs in a child of main's) */
    kicd_init(&k, "ingest_oldcb", NULL);
    kicd_start(&k);
    const char *name = h_tenant("oldcb");
    char *bridge = h_user(&k, name, "pbx", "bridge", NULL, NULL);
    char *agent = h_user(&k, name, "a.jansen", "agent", NULL, "kic");
    Client *b = cl_session(k.port, bridge), *a = cl_session(k.port, agent);
    char p[512];
    snprintf(p, sizeof(p),
             "{\"event_id\":\"cb-old\",\"callback_id\":\"ivr-old\",\"caller\":\"0612000077\","
             "\"queue\":\"kic\",\"at\":\"%s\"}", h_at(h_today(0), -20 * 86400.0));
    ok_event(b, "callback.requested", p, false);
    json_t *r = cl_call(a, "callback.complete", "{\"callback_id\":\"ivr-old\",\"outcome\":\"reached\"}");
    ck_assert_str_eq(json_string_value(json_object_get(ck_result(r), "status")), "done");
    json_decref(r);
    cl_close(a);
    cl_close(b);
    ck_assert(kicd_stop(&k));
    kicd_start(&k);
    b = cl_session(k.port, bridge);
    ok_event(b, "callback.requested", p, true);
    ck_assert_int_eq(h_sql_int(k.conninfo, "SELECT count(*) FROM callbacks WHERE callback_id = 'ivr-old'"
                                           " AND status = 'done' AND number IS NULL"), 1);
    ck_assert_int_eq(h_sql_int(k.conninfo, "SELECT count(*) FROM events"), 1);
    /* a new request of that age is stored */
    snprintf(p, sizeof(p),
             "{\"event_id\":\"cb-old-2\",\"callback_id\":\"ivr-old-2\",\"caller\":\"0612000078\","
             "\"queue\":\"kic\",\"at\":\"%s\"}", h_at(h_today(0), -20 * 86400.0));
    ok_event(b, "callback.requested", p, false);
    ck_assert_int_eq(h_sql_int(k.conninfo, "SELECT count(*) FROM events"), 2);
    cl_close(b);
    free(bridge);
    free(agent);
    ck_assert(kicd_stop(&k));
}
END_TEST

/* A late contact whose repeat window reaches past what memory holds is
 * settled against storage both ways: the earlier contact of one caller
 * is marked a repeat, and the late contact of another caller, followed
 * by a stored one, is marked itself. The restart leaves the stored
 * contacts (9 and 17 days old) out of memory, which holds 8 days. */
typedef struct Contact {
    const char *call, *caller;
    int days_ago;
} Contact;

static void offer_contacts(Client *b, const Contact *list, size_t n)
{
    char p[512];
    for (size_t i = 0; i < n; i++) {
        snprintf(p, sizeof(p), "{\"event_id\":\"%s-o\",\"call_id\":\"%s\",\"at\":\"%s\","
                 "\"queue\":\"q\",\"caller\":\"%s\"}", list[i].call, list[i].call,
                 h_at(h_today(0), -list[i].days_ago * 86400.0), list[i].caller);
        ok_event(b, "call.offered", p, false);
    }
}

START_TEST(repeats_reaching_past_memory_are_settled_in_storage)
{
    Kicd k;
    kicd_init(&k, "ingest_oldrepeat", NULL);
    kicd_start(&k);
    const char *name = h_tenant("oldrep");
    char *bridge = h_user(&k, name, "pbx", "bridge", NULL, NULL);
    static const Contact before[] = {{"x-early", "0612000081", 17}, {"y-late", "0612000082", 9}},
                         after[] = {{"x-late", "0612000081", 11}, {"y-early", "0612000082", 11}};
    Client *b = cl_session(k.port, bridge);
    offer_contacts(b, before, 2);
    cl_close(b);
    ck_assert(kicd_stop(&k));
    kicd_start(&k);
    b = cl_session(k.port, bridge);
    offer_contacts(b, after, 2);
    ck_assert_int_eq(calls_where(&k, name, "call_id = 'x-early' AND followed_by_repeat", false), 1);
    ck_assert_int_eq(calls_where(&k, name, "call_id = 'y-early' AND followed_by_repeat", false), 1);
    ck_assert_int_eq(calls_where(&k, name, "call_id IN ('x-late', 'y-late') AND followed_by_repeat", false), 0);
    cl_close(b);
    free(bridge);
    ck_assert(kicd_stop(&k));
}
END_TEST

START_TEST(pipelined_events_are_all_acknowledged_in_order)
{
    Tenantx t = tenant("pipe");
    Client *c = cl_session(kicd.port, t.bridge);
    KicTime t0 = h_today(1200);
    int n = 3000;
    for (int i = 0; i < n; i++)
        cl_sendf(c, "{\"jsonrpc\":\"2.0\",\"id\":%d,\"method\":\"call.offered\",\"params\":{\"event_id\":\"p%d\",\"call_id\":\"pc%d\",\"at\":\"%s\",\"queue\":\"q%d\"}}",
                 i, i / 2, i / 2, h_at(t0, (i / 2) * 0.1), (i / 2) % 3);
    for (int i = 0; i < n; i++) {
        json_t *r = cl_recv(c, 20000);
        ck_assert_int_eq(json_integer_value(json_object_get(r, "id")), i);
        ck_assert_int_eq(json_is_true(json_object_get(rpc_result(r), "duplicate")), i % 2);
        json_decref(r);
    }
    ck_assert_int_eq(count_sql(&t, EVENTS_OF), n / 2);
    ck_assert_int_eq(count_sql(&t, "SELECT count(*) FROM calls JOIN tenants USING (tenant_id) WHERE tenants.name = '%s'"), n / 2);
    cl_close(c);
}
END_TEST

int main(void)
{
    kicd_init(&kicd, "ingest", NULL);
    kicd_start(&kicd);
    Suite *s = suite_create("ingest");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, every_field_of_every_event_is_checked);
    tcase_add_test(tc, valid_events_of_every_method_are_stored);
    tcase_add_test(tc, callers_numbers_are_never_stored_outside_callbacks);
    tcase_add_test(tc, roles_are_enforced_for_ingest_methods);
    tcase_add_test(tc, duplicates_and_any_order_give_the_same_call);
    tcase_add_test(tc, duplicates_inside_one_batch_array);
    tcase_add_test(tc, same_event_id_under_another_call_is_a_duplicate);
    tcase_add_test(tc, an_event_id_known_only_to_storage_is_not_stored_again);
    tcase_add_test(tc, batches_after_a_stored_key_are_written_again_in_order);
    tcase_add_test(tc, a_repeat_flag_of_a_call_in_a_rewound_batch_is_stored);
    tcase_add_test(tc, a_connection_lost_during_a_rewind_loses_nothing);
    tcase_add_test(tc, a_state_interval_known_only_to_storage_is_not_stored_again);
    tcase_add_test(tc, a_batch_with_every_kind_of_row_is_stored_whole);
    tcase_add_test(tc, a_call_known_only_to_storage_is_updated_not_inserted);
    tcase_add_test(tc, tenants_with_the_same_ids_stay_apart);
    tcase_add_test(tc, desktop_gets_connected_and_ended_and_agent_states_follow);
    tcase_add_test(tc, live_statistics_count_today);
    tcase_add_test(tc, names_of_256_multibyte_characters_pass_whole);
    tcase_add_test(tc, pipelined_events_are_all_acknowledged_in_order);
    tcase_add_test(tc, a_resend_behind_a_failed_batch_is_not_called_a_duplicate);
    tcase_add_test(tc, an_old_callback_request_sent_again_is_a_duplicate);
    tcase_add_test(tc, repeats_reaching_past_memory_are_settled_in_storage);
    tcase_add_test(tc, email_contacts_are_linked_by_address);
    tcase_add_test(tc, a_part_a_late_event_takes_away_is_removed_from_storage);
    suite_add_tcase(s, tc);
    return h_run_suite(s, &kicd);
}
