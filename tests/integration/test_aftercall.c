/* After-call work, categories, caller history with its audit trail,
 * repeats in storage, transfers, and callbacks, against a real kicd and
 * PostgreSQL: every method and every error PROTOCOL.md gives them. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "harness.h"

static Kicd kicd;

typedef struct Org {
    const char *name;
    char *bridge, *agent, *agent2, *super;
} Org;

static Org org(const char *base)
{
    Org o;
    o.name = strdup(h_tenant(base));
    o.bridge = h_user(&kicd, o.name, "pbx", "bridge", NULL, NULL);
    o.agent = h_user(&kicd, o.name, "a.jansen", "agent", NULL, "kic,wijkteam-noord");
    o.agent2 = h_user(&kicd, o.name, "b.devries", "agent", NULL, "kic");
    o.super = h_user(&kicd, o.name, "s.bakker", "supervisor", NULL, NULL);
    return o;
}

/* A call answered by `agent`, ended at t0+end_s (offered at t0). */
static void answered_call(Client *bridge, const char *id, const char *agent, const char *caller,
                          KicTime t0, double end_s)
{
    cl_call_ok(bridge, "call.offered", "{\"event_id\":\"%s-o\",\"call_id\":\"%s\",\"at\":\"%s\",\"queue\":\"thuiszorg\",\"caller\":\"%s\"}", id, id, h_at(t0, 0), caller);
    cl_call_ok(bridge, "call.answered", "{\"event_id\":\"%s-a\",\"call_id\":\"%s\",\"at\":\"%s\",\"agent\":\"%s\"}", id, id, h_at(t0, 10), agent);
    if (end_s > 0)
        cl_call_ok(bridge, "call.ended", "{\"event_id\":\"%s-e\",\"call_id\":\"%s\",\"at\":\"%s\"}", id, id, h_at(t0, end_s));
}

static const char *agent_state(Client *super, const char *agent)
{
    static char state[32];
    json_t *r = cl_call(super, "agents.list", NULL);
    size_t i;
    json_t *a;
    state[0] = '\0';
    json_array_foreach(json_object_get(ck_result(r), "agents"), i, a)
    {
        if (strcmp(json_string_value(json_object_get(a, "agent")), agent) == 0)
            snprintf(state, sizeof(state), "%s", json_string_value(json_object_get(a, "state")));
    }
    json_decref(r);
    return state;
}

static long long sql_for(const Org *o, const char *fmt)
{
    char sql[1024];
    snprintf(sql, sizeof(sql), fmt, o->name);
    return h_sql_int(kicd.conninfo, sql);
}

#define OF_TENANT " JOIN tenants USING (tenant_id) WHERE tenants.name = '%s'"

/* ---- wrap-up ---- */

/* A tenant kicd has not seen yet is loaded before its first login is
 * answered: a wrap-up sent right behind the login (same write) already
 * knows the centre's categories, so an unknown call is -32004, not an
 * unknown category. */
START_TEST(a_new_tenants_first_request_knows_its_categories)
{
    const char *name = h_tenant("fresh");
    char *token = h_user(&kicd, name, "a.jansen", "agent", NULL, "kic");
    Client *a = cl_connect(kicd.port);
    char lines[512];
    snprintf(lines, sizeof(lines),
             "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"auth.login\",\"params\":{\"token\":\"%s\"}}\n"
             "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"call.wrapup\",\"params\":"
             "{\"call_id\":\"nope\",\"category\":\"klacht\",\"resolved\":true}}\n",
             token);
    cl_write(a, lines, strlen(lines));
    json_decref(ck_ok(cl_recv_response(a, 5000)));
    json_t *r = cl_recv_response(a, 5000);
    ck_assert_rpc_error(r, -32004);
    cl_close(a);
}
END_TEST


START_TEST(wrapup_measures_acw_and_frees_the_agent)
{
    Org o = org("wrap");
    Client *b = cl_session(kicd.port, o.bridge), *a = cl_session(kicd.port, o.agent);
    Client *s = cl_session(kicd.port, o.super);
    json_decref(ck_ok(cl_call(a, "agent.state.set", "{\"state\":\"available\"}")));
    KicTime t0 = h_today(600);
    answered_call(b, "w1", "a.jansen", "0612000001", t0, 100);
    ck_assert_str_eq(agent_state(s, "a.jansen"), "acw");
    /* wrapped up 42.5 s after the end (a desktop that queued it: `at`) */
    json_t *r = cl_call(a, "call.wrapup", "{\"call_id\":\"w1\",\"category\":\"planning en roosters\",\"resolved\":true,\"follow_up\":\"none\",\"caller_type\":\"family\",\"note\":\"dochter belt over rooster\",\"at\":\"%s\"}", h_at(t0, 142.5));
    ck_assert_double_eq_tol(json_real_value(json_object_get(ck_result(r), "acw_seconds")), 42.5, 0.001);
    json_decref(r);
    ck_assert_str_eq(agent_state(s, "a.jansen"), "available");
    /* stored: the call, and the wrap-up with its note */
    ck_assert_int_eq(sql_for(&o, "SELECT count(*) FROM calls" OF_TENANT " AND call_id = 'w1' AND acw_s = 42.5 AND category = 'planning en roosters' AND resolved AND caller_type = 'family'"), 1);
    ck_assert_int_eq(sql_for(&o, "SELECT count(*) FROM wrapups" OF_TENANT " AND note = 'dochter belt over rooster' AND agent = 'a.jansen'"), 1);
    /* live ACW average */
    r = cl_call(s, "stats.live", NULL);
    ck_assert_double_eq_tol(json_real_value(json_object_get(json_object_get(ck_result(r), "total"), "acw_avg_s")), 42.5, 0.01);
    json_decref(r);
    /* a wrap-up before the end: ACW 0; break chosen meanwhile stays */
    answered_call(b, "w2", "a.jansen", "0612000002", t0 + 200 * KIC_USEC, 0);
    json_decref(ck_ok(cl_call(a, "agent.state.set", "{\"state\":\"break\",\"reason\":\"lunch\"}")));
    r = cl_call(a, "call.wrapup", "{\"call_id\":\"w2\",\"category\":\"informatie\",\"resolved\":false,\"at\":\"%s\"}", h_at(t0, 230));
    ck_assert_double_eq_tol(json_real_value(json_object_get(ck_result(r), "acw_seconds")), 0.0, 0.001);
    json_decref(r);
    cl_call_ok(b, "call.ended", "{\"event_id\":\"w2-e\",\"call_id\":\"w2\",\"at\":\"%s\"}", h_at(t0, 260));
    ck_assert_str_eq(agent_state(s, "a.jansen"), "break");
    ck_assert_int_eq(sql_for(&o, "SELECT count(*) FROM calls" OF_TENANT " AND call_id = 'w2' AND acw_s = 0"), 1);
    cl_close(b);
    cl_close(a);
    cl_close(s);
}
END_TEST

START_TEST(wrapup_errors)
{
    Org o = org("wraperr");
    Client *b = cl_session(kicd.port, o.bridge), *a = cl_session(kicd.port, o.agent);
    Client *a2 = cl_session(kicd.port, o.agent2), *s = cl_session(kicd.port, o.super);
    KicTime t0 = h_today(600);
    answered_call(b, "e1", "a.jansen", "0612000003", t0, 60);
    const char *good = "\"call_id\":\"e1\",\"category\":\"klacht\",\"resolved\":true";
    ck_assert_rpc_error(cl_call(a, "call.wrapup", "{\"call_id\":\"nope\",\"category\":\"klacht\",\"resolved\":true}"), -32004);
    ck_assert_rpc_error(cl_call(a2, "call.wrapup", "{%s}", good), -32003);
    ck_assert_rpc_error(cl_call(b, "call.wrapup", "{%s}", good), -32003);
    ck_assert_rpc_error(cl_call(s, "call.wrapup", "{%s}", good), -32003);
    ck_assert_rpc_error(cl_call(a, "call.wrapup", "{\"call_id\":\"e1\",\"category\":\"astrologie\",\"resolved\":true}"), -32602);
    ck_assert_rpc_error(cl_call(a, "call.wrapup", "{%s,\"at\":\"%s\"}", good, h_at(h_today(0), 3600)), -32602);
    ck_assert_rpc_error(cl_call(a, "call.wrapup", "{%s,\"at\":\"%s\"}", good, h_at(t0, 5)), -32602); /* before the answer */
    ck_assert_rpc_error(cl_call(a, "call.wrapup", "{%s,\"at\":\"gisteren\"}", good), -32602);
    ck_assert_rpc_error(cl_call(a, "call.wrapup", "{\"category\":\"klacht\",\"resolved\":true}"), -32602);
    ck_assert_rpc_error(cl_call(a, "call.wrapup", "{\"call_id\":\"e1\",\"resolved\":true}"), -32602);
    ck_assert_rpc_error(cl_call(a, "call.wrapup", "{\"call_id\":\"e1\",\"category\":\"klacht\"}"), -32602);
    ck_assert_rpc_error(cl_call(a, "call.wrapup", "{\"call_id\":\"e1\",\"category\":\"klacht\",\"resolved\":\"yes\"}"), -32602);
    ck_assert_rpc_error(cl_call(a, "call.wrapup", "{%s,\"follow_up\":\"later\"}", good), -32602);
    ck_assert_rpc_error(cl_call(a, "call.wrapup", "{%s,\"caller_type\":\"alien\"}", good), -32602);
    ck_assert_rpc_error(cl_call(a, "call.wrapup", "{%s,\"note\":17}", good), -32602);
    /* a note is at most 4,000 characters (not bytes): 4,001 x "é" is refused */
    char note[2 * 4001 + 1];
    for (int i = 0; i < 4001; i++)
        memcpy(note + 2 * i, "\xC3\xA9", 2);
    note[2 * 4001] = '\0';
    ck_assert_rpc_error(cl_call(a, "call.wrapup", "{%s,\"note\":\"%s\"}", good, note), -32602);
    /* nothing was recorded by any of those */
    ck_assert_int_eq(sql_for(&o, "SELECT count(*) FROM wrapups" OF_TENANT), 0);
    note[2 * 4000] = '\0'; /* 4,000 x "é": 8,000 bytes, taken whole */
    json_decref(ck_ok(cl_call(a, "call.wrapup", "{%s,\"note\":\"%s\"}", good, note)));
    ck_assert_int_eq(sql_for(&o, "SELECT count(*) FROM wrapups" OF_TENANT
                                 " AND length(note) = 4000 AND octet_length(note) = 8000"),
                     1);
    ck_assert_rpc_error(cl_call(a, "call.wrapup", "{%s}", good), -32009);
    ck_assert_int_eq(sql_for(&o, "SELECT count(*) FROM wrapups" OF_TENANT), 1);
    cl_close(b);
    cl_close(a);
    cl_close(a2);
    cl_close(s);
}
END_TEST

/* Whether categories.list names `name`; checks the list is sorted. */
/* kicctl's changes reach kicd as a notification, and kicd reloads the
 * tenant's categories and queue teams in the background: count the
 * reloads before a change, then wait for the next one (ASan and a busy
 * machine can take seconds). */
static int config_reloads(const Org *o)
{
    char needle[160];
    snprintf(needle, sizeof(needle), "tenant %s: categories and queue teams reloaded", o->name);
    return kicd_log_count(&kicd, needle);
}

static void wait_config_reload(const Org *o, int before)
{
    for (int i = 0; i < 400 && config_reloads(o) <= before; i++)
        usleep(50000);
    ck_assert_msg(config_reloads(o) > before, "tenant %s: no reload after kicctl", o->name);
}

static bool has_category(Client *c, const char *name)
{
    json_t *r = cl_call(c, "categories.list", NULL);
    json_t *list = json_object_get(ck_result(r), "categories");
    ck_assert(json_is_array(list));
    bool found = false;
    for (size_t i = 0; i < json_array_size(list); i++) {
        const char *got = json_string_value(json_array_get(list, i));
        if (i > 0)
            ck_assert_int_lt(strcmp(json_string_value(json_array_get(list, i - 1)), got), 0);
        found = found || strcmp(got, name) == 0;
    }
    json_decref(r);
    return found;
}

START_TEST(categories_are_the_tenants_and_kicctl_edits_them)
{
    Org o = org("cats");
    Client *b = cl_session(kicd.port, o.bridge), *a = cl_session(kicd.port, o.agent);
    answered_call(b, "c1", "a.jansen", "0612000004", h_today(300), 30);
    answered_call(b, "c2", "a.jansen", "0612000005", h_today(200), 30);
    ck_assert_rpc_error(cl_call(a, "call.wrapup", "{\"call_id\":\"c1\",\"category\":\"valpreventie\",\"resolved\":true}"), -32602);
    /* the desktop can ask which categories there are: the defaults */
    ck_assert(has_category(a, "klacht") && has_category(a, "informatie") && !has_category(a, "valpreventie"));
    int reloads = config_reloads(&o);
    ck_assert_int_eq(h_kicctl(&kicd, NULL, "category", "add", "--tenant", o.name, "--name", "valpreventie", NULL), 0);
    /* kicd hears it on kic_config */
    wait_config_reload(&o, reloads);
    cl_call_ok(a, "call.wrapup", "{\"call_id\":\"c1\",\"category\":\"valpreventie\",\"resolved\":true}");
    reloads = config_reloads(&o);
    ck_assert_int_eq(h_kicctl(&kicd, NULL, "category", "remove", "--tenant", o.name, "--name", "klacht", NULL), 0);
    wait_config_reload(&o, reloads);
    ck_assert_rpc_error(cl_call(a, "call.wrapup", "{\"call_id\":\"c2\",\"category\":\"klacht\",\"resolved\":true}"), -32602);
    ck_assert(has_category(a, "valpreventie") && !has_category(a, "klacht"));
    /* a supervisor may ask too (reports group by them); the bridge not */
    Client *s = cl_session(kicd.port, o.super);
    ck_assert(has_category(s, "valpreventie"));
    ck_assert_rpc_error(cl_call(b, "categories.list", NULL), -32003);
    cl_close(s);
    cl_close(b);
    cl_close(a);
}
END_TEST

/* ---- history, repeats, audit ---- */

START_TEST(caller_history_shows_the_window_and_is_audited)
{
    Org o = org("hist");
    Client *b = cl_session(kicd.port, o.bridge), *a = cl_session(kicd.port, o.agent);
    Client *a2 = cl_session(kicd.port, o.agent2), *s = cl_session(kicd.port, o.super);
    KicTime now = h_today(0);
    const char *caller = "+31 6 5555 0001";
    /* 9 days ago (outside the window), 3 days ago by b.devries with a
     * note, yesterday by a.jansen with a note, and now */
    answered_call(b, "h-9d", "b.devries", caller, now - 9 * 86400LL * KIC_USEC, 60);
    answered_call(b, "h-3d", "b.devries", caller, now - 3 * 86400LL * KIC_USEC, 60);
    json_decref(ck_ok(cl_call(a2, "call.wrapup", "{\"call_id\":\"h-3d\",\"category\":\"facturen en eigen bijdrage\",\"resolved\":false,\"note\":\"NOTE-OF-B\",\"at\":\"%s\"}", h_at(now - 3 * 86400LL * KIC_USEC, 70))));
    answered_call(b, "h-1d", "a.jansen", caller, now - 86400LL * KIC_USEC, 60);
    json_decref(ck_ok(cl_call(a, "call.wrapup", "{\"call_id\":\"h-1d\",\"category\":\"klacht\",\"resolved\":true,\"note\":\"NOTE-OF-A\",\"at\":\"%s\"}", h_at(now - 86400LL * KIC_USEC, 70))));
    answered_call(b, "h-now", "a.jansen", caller, now - 30 * KIC_USEC, 0);
    /* call.connected told the desktop: 2 earlier contacts in the window */
    json_t *n = cl_wait_notification(a, "call.connected", 3000);
    while (n && strcmp(json_string_value(json_object_get(json_object_get(n, "params"), "call_id")), "h-now") != 0) {
        json_decref(n);
        n = cl_wait_notification(a, "call.connected", 3000);
    }
    ck_assert_ptr_nonnull(n);
    ck_assert_int_eq(json_integer_value(json_object_get(json_object_get(n, "params"), "repeat_contacts")), 2);
    json_decref(n);

    json_t *r = cl_call(a, "caller.history", "{\"call_id\":\"h-now\"}");
    json_t *contacts = json_object_get(ck_result(r), "contacts");
    ck_assert_uint_eq(json_array_size(contacts), 2);
    json_t *first = json_array_get(contacts, 0), *second = json_array_get(contacts, 1);
    ck_assert_str_eq(json_string_value(json_object_get(first, "call_id")), "h-1d");
    ck_assert_str_eq(json_string_value(json_object_get(first, "category")), "klacht");
    ck_assert_str_eq(json_string_value(json_object_get(first, "outcome")), "answered");
    ck_assert_str_eq(json_string_value(json_object_get(first, "note")), "NOTE-OF-A");
    ck_assert_str_eq(json_string_value(json_object_get(second, "call_id")), "h-3d");
    ck_assert_ptr_null(json_object_get(second, "note")); /* another agent's note: never */
    char *text = json_dumps(r, JSON_COMPACT);
    ck_assert_ptr_null(strstr(text, "NOTE-OF-B"));
    free(text);
    json_decref(r);
    /* the read is in the audit log: who, which caller, what, where */
    ck_assert_int_eq(sql_for(&o, "SELECT count(*) FROM audit_log" OF_TENANT " AND user_name = 'a.jansen' AND action = 'caller.history' AND subject = 'h-now' AND length(caller_key) = 64 AND peer LIKE '127.0.0.1:%%'"), 1);
    /* someone else's call, an unknown one; not a supervisor's method
     * (PROTOCOL.md: the agent desktop's; data minimisation) */
    ck_assert_rpc_error(cl_call(a2, "caller.history", "{\"call_id\":\"h-now\"}"), -32003);
    ck_assert_rpc_error(cl_call(a, "caller.history", "{\"call_id\":\"nope\"}"), -32004);
    ck_assert_rpc_error(cl_call(s, "caller.history", "{\"call_id\":\"nope\"}"), -32003);
    ck_assert_rpc_error(cl_call(a, "caller.history", "{}"), -32602);
    ck_assert_rpc_error(cl_call(b, "caller.history", "{\"call_id\":\"h-now\"}"), -32003);
    ck_assert_rpc_error(cl_call(s, "caller.history", "{\"call_id\":\"h-now\"}"), -32003);
    /* the audit log cannot be changed, not even by the database owner */
    char sql[256];
    snprintf(sql, sizeof(sql), "SELECT count(*) FROM audit_log" OF_TENANT, o.name);
    long long before = h_sql_int(kicd.conninfo, sql);
    PGconn *db = PQconnectdb(kicd.conninfo);
    PGresult *pr = PQexec(db, "UPDATE audit_log SET user_name = 'x'");
    ck_assert_int_eq(PQresultStatus(pr), PGRES_FATAL_ERROR);
    PQclear(pr);
    pr = PQexec(db, "DELETE FROM audit_log");
    ck_assert_int_eq(PQresultStatus(pr), PGRES_FATAL_ERROR);
    PQclear(pr);
    PQfinish(db);
    ck_assert_int_eq(h_sql_int(kicd.conninfo, sql), before);
    /* a.jansen leaves; the agent id goes to someone new, who answers the
     * caller next: the contacts are theirs to see, a.jansen's note not */
    char *out = NULL;
    ck_assert_int_eq(h_kicctl(&kicd, &out, "user", "revoke", "--tenant", o.name, "--name", "a.jansen", NULL), 0);
    free(out);
    char *successor = h_user(&kicd, o.name, "c.nieuw", "agent", "a.jansen", "kic");
    Client *a3 = cl_session(kicd.port, successor);
    answered_call(b, "h-next", "a.jansen", caller, h_today(0), 0); /* after the revoke */
    r = cl_call(a3, "caller.history", "{\"call_id\":\"h-next\"}");
    contacts = json_object_get(ck_result(r), "contacts");
    ck_assert_uint_eq(json_array_size(contacts), 3);
    text = json_dumps(r, JSON_COMPACT);
    ck_assert_msg(!strstr(text, "NOTE-OF-A"), "the earlier holder's note: %s", text);
    free(text);
    json_decref(r);
    /* and the earlier holder's own calls are not theirs to look into or
     * wrap up (need to know goes by person, not by agent id) */
    ck_assert_rpc_error(cl_call(a3, "caller.history", "{\"call_id\":\"h-now\"}"), -32003);
    ck_assert_rpc_error(cl_call(a3, "call.wrapup", "{\"call_id\":\"h-now\",\"category\":\"klacht\",\"resolved\":true}"),
                        -32003);
    /* a new token for the same name is the same person: b.devries keeps
     * their calls and their note */
    ck_assert_int_eq(h_kicctl(&kicd, &out, "user", "revoke", "--tenant", o.name, "--name", "b.devries", NULL), 0);
    free(out);
    char *renewed = h_user(&kicd, o.name, "b.devries", "agent", NULL, "kic");
    Client *a4 = cl_session(kicd.port, renewed);
    r = cl_call(a4, "caller.history", "{\"call_id\":\"h-3d\"}");
    ck_result(r);
    json_decref(r);
    r = cl_call(a4, "caller.history", "{\"call_id\":\"h-1d\"}"); /* a.jansen's: not theirs */
    ck_assert_int_eq(rpc_code(r), -32003);
    json_decref(r);
    answered_call(b, "h-b", "b.devries", caller, h_today(0), 0);
    r = cl_call(a4, "caller.history", "{\"call_id\":\"h-b\"}");
    text = json_dumps(ck_result(r), JSON_COMPACT);
    ck_assert_msg(strstr(text, "NOTE-OF-B") && !strstr(text, "NOTE-OF-A"), "%s", text);
    free(text);
    json_decref(r);
    cl_close(a4);
    free(renewed);
    cl_close(a3);
    free(successor);
    /* repeats in storage: the 3-day and 1-day contacts were followed
     * within 7 days; the 9-day one too (by the 3-day one, 6 days later) */
    ck_assert_int_eq(sql_for(&o, "SELECT count(*) FROM calls" OF_TENANT " AND followed_by_repeat"), 5);
    cl_close(b);
    cl_close(a);
    cl_close(a2);
    cl_close(s);
}
END_TEST

static int connected_repeats(Client *agent, const char *call_id)
{
    json_t *n = cl_wait_notification(agent, "call.connected", 3000);
    while (n && strcmp(json_string_value(json_object_get(json_object_get(n, "params"), "call_id")), call_id) != 0) {
        json_decref(n);
        n = cl_wait_notification(agent, "call.connected", 3000);
    }
    ck_assert_ptr_nonnull(n);
    int repeats = (int)json_integer_value(json_object_get(json_object_get(n, "params"), "repeat_contacts"));
    json_decref(n);
    return repeats;
}

/* A caller moved on to another queue is the same contact going on
 * (transferred_from): the contacts before it in its chain are neither
 * counted as earlier contacts in call.connected nor listed by
 * caller.history; the caller's real earlier contact is. */
START_TEST(a_transfer_continuation_is_not_its_own_earlier_contact)
{
    Org o = org("xcont");
    Client *b = cl_session(kicd.port, o.bridge), *a = cl_session(kicd.port, o.agent);
    Client *a2 = cl_session(kicd.port, o.agent2);
    KicTime now = h_today(0);
    const char *caller = "0612000099";
    answered_call(b, "p1", "b.devries", caller, now - 2 * 86400LL * KIC_USEC, 60);
    answered_call(b, "t1", "a.jansen", caller, now - 120 * KIC_USEC, 0);
    ck_assert_int_eq(connected_repeats(a, "t1"), 1);
    const char *prev = "t1";
    const char *hops[][2] = {{"t2", "b.devries"}, {"t3", "a.jansen"}};
    for (int i = 0; i < 2; i++) {
        const char *id = hops[i][0], *agent = hops[i][1];
        KicTime at = now - (100 - 30 * i) * KIC_USEC;
        cl_call_ok(b, "call.transferred", "{\"event_id\":\"%s-t\",\"call_id\":\"%s\",\"at\":\"%s\",\"agent\":\"%s\",\"target\":\"q-%s\",\"target_kind\":\"queue\"}",
                   prev, prev, h_at(at, 0), i ? "b.devries" : "a.jansen", id);
        cl_call_ok(b, "call.offered", "{\"event_id\":\"%s-o\",\"call_id\":\"%s\",\"at\":\"%s\",\"queue\":\"q-%s\",\"caller\":\"%s\",\"transferred_from\":\"%s\"}",
                   id, id, h_at(at, 1), id, caller, prev);
        cl_call_ok(b, "call.answered", "{\"event_id\":\"%s-a\",\"call_id\":\"%s\",\"at\":\"%s\",\"agent\":\"%s\"}",
                   id, id, h_at(at, 5), agent);
        ck_assert_int_eq(connected_repeats(i ? a : a2, id), 1);
        json_t *r = cl_call(i ? a : a2, "caller.history", "{\"call_id\":\"%s\"}", id);
        json_t *contacts = json_object_get(ck_result(r), "contacts");
        ck_assert_uint_eq(json_array_size(contacts), 1);
        ck_assert_str_eq(json_string_value(json_object_get(json_array_get(contacts, 0), "call_id")), "p1");
        json_decref(r);
        prev = id;
    }
    cl_close(b);
    cl_close(a);
    cl_close(a2);
}
END_TEST

/* Found by a probe: the history lists a transfer chain's parts and the
 * centre's outbound calls, which repeat_contacts (as the repeat rate)
 * leaves out; each contact now says which it is, so the count is the
 * listed contacts that are inbound and continue none. */
START_TEST(the_history_marks_what_repeat_contacts_leaves_out)
{
    Org o = org("hmark");
    Client *b = cl_session(kicd.port, o.bridge), *a = cl_session(kicd.port, o.agent);
    KicTime now = h_today(0), day = 86400LL * KIC_USEC;
    const char *caller = "0612000077";
    answered_call(b, "m1", "b.devries", caller, now - 2 * day, 0);
    cl_call_ok(b, "call.transferred", "{\"event_id\":\"m1-t\",\"call_id\":\"m1\",\"at\":\"%s\",\"agent\":\"b.devries\",\"target\":\"q-wijk\",\"target_kind\":\"queue\"}", h_at(now - 2 * day, 40));
    cl_call_ok(b, "call.offered", "{\"event_id\":\"m1b-o\",\"call_id\":\"m1b\",\"at\":\"%s\",\"queue\":\"q-wijk\",\"caller\":\"%s\",\"transferred_from\":\"m1\"}", h_at(now - 2 * day, 41), caller);
    cl_call_ok(b, "call.answered", "{\"event_id\":\"m1b-a\",\"call_id\":\"m1b\",\"at\":\"%s\",\"agent\":\"b.devries\"}", h_at(now - 2 * day, 45));
    cl_call_ok(b, "call.ended", "{\"event_id\":\"m1b-e\",\"call_id\":\"m1b\",\"at\":\"%s\"}", h_at(now - 2 * day, 90));
    cl_call_ok(b, "call.offered", "{\"event_id\":\"m2-o\",\"call_id\":\"m2\",\"at\":\"%s\",\"queue\":\"uitgaand\",\"caller\":\"%s\",\"direction\":\"outbound\"}", h_at(now - day, 0), caller);
    cl_call_ok(b, "call.answered", "{\"event_id\":\"m2-a\",\"call_id\":\"m2\",\"at\":\"%s\",\"agent\":\"b.devries\"}", h_at(now - day, 5));
    cl_call_ok(b, "call.ended", "{\"event_id\":\"m2-e\",\"call_id\":\"m2\",\"at\":\"%s\"}", h_at(now - day, 60));
    answered_call(b, "m3", "a.jansen", caller, now - 30 * KIC_USEC, 0);
    int repeats = connected_repeats(a, "m3");
    ck_assert_int_eq(repeats, 1); /* m1 and its continuation m1b, once; not m2 */

    json_t *r = cl_call(a, "caller.history", "{\"call_id\":\"m3\"}");
    json_t *contacts = json_object_get(ck_result(r), "contacts");
    ck_assert_uint_eq(json_array_size(contacts), 3);
    static const char *const want[][3] = {/* newest first: id, direction, transferred_from */
                                          {"m2", "outbound", NULL},
                                          {"m1b", "inbound", "m1"},
                                          {"m1", "inbound", NULL}};
    int counted = 0;
    for (size_t i = 0; i < 3; i++) {
        json_t *c = json_array_get(contacts, i);
        json_t *from = json_object_get(c, "transferred_from");
        ck_assert_str_eq(json_string_value(json_object_get(c, "call_id")), want[i][0]);
        ck_assert_str_eq(json_string_value(json_object_get(c, "direction")), want[i][1]);
        ck_assert_ptr_nonnull(from); /* present, null or not */
        if (want[i][2])
            ck_assert_str_eq(json_string_value(from), want[i][2]);
        else
            ck_assert(json_is_null(from));
        counted += !strcmp(want[i][1], "inbound") && json_is_null(from);
    }
    ck_assert_int_eq(counted, repeats);
    json_decref(r);
    cl_close(b);
    cl_close(a);
}
END_TEST

START_TEST(transfers_count_once_and_are_never_fcr)
{
    Org o = org("xfer");
    Client *b = cl_session(kicd.port, o.bridge), *a = cl_session(kicd.port, o.agent);
    Client *s = cl_session(kicd.port, o.super);
    KicTime t0 = h_today(900);
    /* transferred twice (to a care team, then on), resolved: still one
     * transfer, not handled independently, not FCR */
    answered_call(b, "x1", "a.jansen", "0612000011", t0, 0);
    cl_call_ok(b, "call.transferred", "{\"event_id\":\"x1-t1\",\"call_id\":\"x1\",\"at\":\"%s\",\"agent\":\"a.jansen\",\"target\":\"wijkteam-noord\",\"target_kind\":\"care_team\",\"mode\":\"attended\"}", h_at(t0, 50));
    cl_call_ok(b, "call.transferred", "{\"event_id\":\"x1-t2\",\"call_id\":\"x1\",\"at\":\"%s\",\"agent\":\"a.jansen\",\"target\":\"+31785550000\",\"target_kind\":\"external\"}", h_at(t0, 80));
    cl_call_ok(b, "call.ended", "{\"event_id\":\"x1-e\",\"call_id\":\"x1\",\"at\":\"%s\"}", h_at(t0, 200));
    json_decref(ck_ok(cl_call(a, "call.wrapup", "{\"call_id\":\"x1\",\"category\":\"wijkverpleging\",\"resolved\":true}")));
    /* settled by the KIC itself */
    answered_call(b, "x2", "a.jansen", "0612000012", t0 + 300 * KIC_USEC, 60);
    json_decref(ck_ok(cl_call(a, "call.wrapup", "{\"call_id\":\"x2\",\"category\":\"informatie\",\"resolved\":true}")));
    json_t *r = cl_call(s, "stats.live", NULL);
    json_t *t = json_object_get(ck_result(r), "total");
    ck_assert_double_eq_tol(json_real_value(json_object_get(t, "transfer_rate")), 0.5, 1e-9);
    ck_assert_double_eq_tol(json_real_value(json_object_get(t, "handled_independently_rate")), 0.5, 1e-9);
    ck_assert_double_eq_tol(json_real_value(json_object_get(t, "fcr_rate")), 0.5, 1e-9);
    json_decref(r);
    ck_assert_int_eq(sql_for(&o, "SELECT count(*) FROM calls" OF_TENANT " AND call_id = 'x1' AND transferred AND transfer_kind = 'care_team' AND team = 'wijkteam-noord' AND talk_s = 40"), 1);
    cl_close(b);
    cl_close(a);
    cl_close(s);
}
END_TEST

/* ---- callbacks ---- */

static json_t *callbacks_of(Client *c, const char *params)
{
    json_t *r = cl_call(c, "callback.list", "%s", params ? params : "{}");
    json_t *list = json_incref(json_object_get(ck_result(r), "callbacks"));
    json_decref(r);
    return list;
}

/* The id kicd gives `user`'s callback for request_id on the local day of
 * `day` (server/callbacks.c): SHA-256 of "<tenant id>\0<user id>\0<date>\0
 * <request_id>", its first 8 bytes. */
static void request_callback_id(const Org *o, const char *user, KicTime day, const char *request_id,
                                char out[20])
{
    char sql[256];
    snprintf(sql, sizeof(sql),
             "SELECT u.tenant_id * 1000000000 + u.user_id FROM users u JOIN tenants t USING (tenant_id)"
             " WHERE t.name = '%s' AND u.name = '%s' AND u.revoked_at IS NULL", o->name, user);
    long long both = h_sql_int(kicd.conninfo, sql);
    char date[40], text[512];
    time_format_local(day, date, sizeof(date));
    int n = snprintf(text, sizeof(text), "%lld%c%lld%c%.10s%c%s", both / 1000000000, '\0',
                     both % 1000000000, '\0', date, '\0', request_id);
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len;
    ck_assert(EVP_Digest(text, (size_t)n, md, &len, EVP_sha256(), NULL));
    snprintf(out, 20, "cb-%02x%02x%02x%02x%02x%02x%02x%02x", md[0], md[1], md[2], md[3], md[4], md[5],
             md[6], md[7]);
}

/* callback.create with a request_id sent again (its answer was lost) is
 * answered as the first, duplicate: true, and makes no second callback,
 * the same local day (kicd holds that day's callbacks, closed ones too). */
START_TEST(a_callback_request_sent_again_makes_one_callback)
{
    Org o = org("cbreq");
    Client *a = cl_session(kicd.port, o.agent), *a2 = cl_session(kicd.port, o.agent2);
    json_t *r = ck_ok(cl_call(a, "callback.create", "{\"caller\":\"0612340101\",\"team\":\"kic\",\"request_id\":\"desk-1\"}"));
    char id[64];
    snprintf(id, sizeof(id), "%s", json_string_value(json_object_get(rpc_result(r), "callback_id")));
    ck_assert(json_is_false(json_object_get(rpc_result(r), "duplicate")));
    json_decref(r);
    r = ck_ok(cl_call(a, "callback.create", "{\"caller\":\"0612340101\",\"team\":\"kic\",\"request_id\":\"desk-1\",\"note\":\"again\"}"));
    ck_assert_str_eq(json_string_value(json_object_get(rpc_result(r), "callback_id")), id);
    ck_assert(json_is_true(json_object_get(rpc_result(r), "duplicate")));
    json_decref(r);
    ck_assert_int_eq(sql_for(&o, "SELECT count(*) FROM callbacks" OF_TENANT " AND source = 'agent'"), 1);
    ck_assert_int_eq(sql_for(&o, "SELECT count(*) FROM callback_notes" OF_TENANT), 0);
    /* another request, or another user's with the same id: new ones */
    r = ck_ok(cl_call(a, "callback.create", "{\"caller\":\"0612340101\",\"team\":\"kic\",\"request_id\":\"desk-2\"}"));
    ck_assert_str_ne(json_string_value(json_object_get(rpc_result(r), "callback_id")), id);
    json_decref(r);
    r = ck_ok(cl_call(a2, "callback.create", "{\"caller\":\"0612340101\",\"team\":\"kic\",\"request_id\":\"desk-1\"}"));
    ck_assert_str_ne(json_string_value(json_object_get(rpc_result(r), "callback_id")), id);
    json_decref(r);
    ck_assert_int_eq(sql_for(&o, "SELECT count(*) FROM callbacks" OF_TENANT " AND source = 'agent'"), 3);
    ck_assert_rpc_error(cl_call(a, "callback.create", "{\"caller\":\"0612340101\",\"team\":\"kic\",\"request_id\":7}"), -32602);
    /* ids are the day's: today's is the one kicd gave */
    char today_id[20];
    request_callback_id(&o, "a.jansen", h_today(0), "desk-1", today_id);
    ck_assert_str_eq(today_id, id);
    /* the same request_id on another day is another callback: one closed
     * then (in storage only) is never written over */
    char old_id[20], sql[600];
    request_callback_id(&o, "a.jansen", h_today(0) - 2 * 86400 * KIC_USEC, "desk-old", old_id);
    snprintf(sql, sizeof(sql),
             "INSERT INTO callbacks (tenant_id, callback_id, source, team, status, created_at, due_by, closed_at, outcome)"
             " SELECT tenant_id, '%s', 'agent', 'wijkteam-noord', 'done', now() - interval '3 days',"
             " now() - interval '2 days', now() - interval '2 days', 'reached' FROM tenants WHERE name = '%s'",
             old_id, o.name);
    h_sql_exec(kicd.conninfo, sql);
    r = ck_ok(cl_call(a, "callback.create", "{\"caller\":\"0612340101\",\"team\":\"kic\",\"request_id\":\"desk-old\"}"));
    ck_assert_str_ne(json_string_value(json_object_get(rpc_result(r), "callback_id")), old_id);
    ck_assert(json_is_false(json_object_get(rpc_result(r), "duplicate")));
    json_decref(r);
    snprintf(sql, sizeof(sql),
             "SELECT count(*) FROM callbacks WHERE callback_id = '%s' AND status = 'done' AND number IS NULL", old_id);
    ck_assert_int_eq(h_sql_int(kicd.conninfo, sql), 1);
    cl_close(a);
    cl_close(a2);
}
END_TEST

/* A queue's team removed while kicd runs: its next IVR callback goes to
 * the queue's own name again, not to the team removed (the mapping was
 * only ever added to until a restart). */
START_TEST(a_queue_team_removed_is_forgotten)
{
    Org o = org("qteam");
    Client *b = cl_session(kicd.port, o.bridge);
    int reloads = config_reloads(&o);
    ck_assert_int_eq(h_kicctl(&kicd, NULL, "queue-team", "set", "--tenant", o.name, "--queue", "qz", "--team", "tz", NULL), 0);
    wait_config_reload(&o, reloads);
    reloads = config_reloads(&o);
    ck_assert_int_eq(h_kicctl(&kicd, NULL, "queue-team", "set", "--tenant", o.name, "--queue", "qy", "--team", "ty", NULL), 0);
    wait_config_reload(&o, reloads);
    KicTime now = h_today(0);
    cl_call_ok(b, "callback.requested", "{\"event_id\":\"qt1\",\"callback_id\":\"qt-1\",\"caller\":\"0612349001\",\"queue\":\"qz\",\"at\":\"%s\"}", h_at(now, -2));
    ck_assert_int_eq(sql_for(&o, "SELECT count(*) FROM callbacks" OF_TENANT " AND callback_id = 'qt-1' AND team = 'tz'"), 1);
    reloads = config_reloads(&o);
    ck_assert_int_eq(h_kicctl(&kicd, NULL, "queue-team", "remove", "--tenant", o.name, "--queue", "qz", NULL), 0);
    wait_config_reload(&o, reloads);
    cl_call_ok(b, "callback.requested", "{\"event_id\":\"qt2\",\"callback_id\":\"qt-2\",\"caller\":\"0612349002\",\"queue\":\"qz\",\"at\":\"%s\"}", h_at(now, -1));
    ck_assert_int_eq(sql_for(&o, "SELECT count(*) FROM callbacks" OF_TENANT " AND callback_id = 'qt-2' AND team = 'qz'"), 1);
    cl_call_ok(b, "callback.requested", "{\"event_id\":\"qt3\",\"callback_id\":\"qt-3\",\"caller\":\"0612349003\",\"queue\":\"qy\",\"at\":\"%s\"}", h_at(now, 0));
    ck_assert_int_eq(sql_for(&o, "SELECT count(*) FROM callbacks" OF_TENANT " AND callback_id = 'qt-3' AND team = 'ty'"), 1);
    cl_close(b);
}
END_TEST

START_TEST(callback_lifecycle_numbers_and_summary)
{
    Org o = org("cb");
    Client *b = cl_session(kicd.port, o.bridge), *a = cl_session(kicd.port, o.agent);
    Client *a2 = cl_session(kicd.port, o.agent2), *s = cl_session(kicd.port, o.super);
    /* IVR callbacks of queue "thuiszorg" go to team "kic" */
    int reloads = config_reloads(&o);
    ck_assert_int_eq(h_kicctl(&kicd, NULL, "queue-team", "set", "--tenant", o.name, "--queue", "thuiszorg", "--team", "kic", NULL), 0);
    wait_config_reload(&o, reloads);
    KicTime now = h_today(0);
    cl_call_ok(b, "callback.requested", "{\"event_id\":\"cb1-req\",\"callback_id\":\"ivr-1\",\"caller\":\"06 1234 9999\",\"queue\":\"thuiszorg\",\"at\":\"%s\"}", h_at(now, -60));
    json_t *n = cl_wait_notification(a, "callback.assigned", 3000);
    ck_assert_ptr_nonnull(n);
    ck_assert_str_eq(json_string_value(json_object_get(json_object_get(n, "params"), "team")), "kic");
    json_decref(n);
    /* an agent's callback for a care team, due an hour ago (overdue) */
    json_t *r = cl_call(a, "callback.create", "{\"caller\":\"0031 6 1234 8888\",\"team\":\"wijkteam-noord\",\"note\":\"over indicatie\",\"due_by\":\"%s\"}", h_at(now, -3600));
    const char *cb2 = json_string_value(json_object_get(ck_result(r), "callback_id"));
    char id2[64];
    snprintf(id2, sizeof(id2), "%s", cb2);
    json_decref(r);
    /* a.jansen's teams: kic and wijkteam-noord: both; b.devries: kic only */
    json_t *list = callbacks_of(a, NULL);
    ck_assert_uint_eq(json_array_size(list), 2);
    json_decref(list);
    list = callbacks_of(a2, NULL);
    ck_assert_uint_eq(json_array_size(list), 1);
    ck_assert_str_eq(json_string_value(json_object_get(json_array_get(list, 0), "caller")), "+31612349999");
    json_decref(list);
    /* naming another team shows nothing of it; supervisors use
     * callbacks.summary, which shows no numbers */
    list = callbacks_of(a2, "{\"team\":\"wijkteam-noord\"}");
    ck_assert_uint_eq(json_array_size(list), 0);
    json_decref(list);
    ck_assert_rpc_error(cl_call(s, "callback.list", NULL), -32003);
    /* showing numbers is audited, one row per callback shown */
    ck_assert_int_eq(sql_for(&o, "SELECT count(*) FROM audit_log" OF_TENANT " AND action = 'callback.list'"), 3);
    /* claim, conflict, no answer (kept open, attempt counted), reached */
    r = cl_call(a2, "callback.claim", "{\"callback_id\":\"ivr-1\"}");
    ck_assert_str_eq(json_string_value(json_object_get(ck_result(r), "status")), "claimed");
    json_decref(r);
    ck_assert_rpc_error(cl_call(a, "callback.claim", "{\"callback_id\":\"ivr-1\"}"), -32009);
    ck_assert_rpc_error(cl_call(a, "callback.complete", "{\"callback_id\":\"ivr-1\",\"outcome\":\"reached\"}"), -32009);
    r = cl_call(a2, "callback.complete", "{\"callback_id\":\"ivr-1\",\"outcome\":\"no_answer\",\"note\":\"voicemail\"}");
    ck_assert_str_eq(json_string_value(json_object_get(ck_result(r), "status")), "open");
    ck_assert_int_eq(json_integer_value(json_object_get(ck_result(r), "attempts")), 1);
    json_decref(r);
    r = cl_call(a, "callback.complete", "{\"callback_id\":\"ivr-1\",\"outcome\":\"reached\"}");
    ck_assert_str_eq(json_string_value(json_object_get(ck_result(r), "status")), "done");
    ck_assert_int_eq(json_integer_value(json_object_get(ck_result(r), "attempts")), 2);
    json_decref(r);
    ck_assert_rpc_error(cl_call(a, "callback.complete", "{\"callback_id\":\"ivr-1\",\"outcome\":\"reached\"}"), -32009);
    ck_assert_rpc_error(cl_call(a, "callback.claim", "{\"callback_id\":\"nope\"}"), -32004);
    ck_assert_rpc_error(cl_call(a, "callback.complete", "{\"callback_id\":\"nope\",\"outcome\":\"reached\"}"), -32004);
    /* the number is gone from storage once closed; kept while open */
    ck_assert_int_eq(sql_for(&o, "SELECT count(*) FROM callbacks" OF_TENANT " AND callback_id = 'ivr-1' AND status = 'done' AND number IS NULL AND attempts = 2"), 1);
    char sql[512];
    snprintf(sql, sizeof(sql), "SELECT count(*) FROM callbacks" OF_TENANT " AND callback_id = '%s' AND number = '+31612348888'", o.name, id2);
    ck_assert_int_eq(h_sql_int(kicd.conninfo, sql), 1);
    ck_assert_int_eq(sql_for(&o, "SELECT count(*) FROM callback_notes" OF_TENANT), 2);
    /* the supervisor's view */
    r = cl_call(s, "callbacks.summary", NULL);
    json_t *total = json_object_get(ck_result(r), "total");
    ck_assert_int_eq(json_integer_value(json_object_get(total, "open")), 1);
    ck_assert_int_eq(json_integer_value(json_object_get(total, "overdue")), 1);
    ck_assert_int_eq(json_integer_value(json_object_get(total, "completed_today")), 1);
    ck_assert_int_eq(json_integer_value(json_object_get(total, "completed_on_time")), 1);
    ck_assert(json_real_value(json_object_get(total, "mean_time_to_complete_s")) >= 60.0);
    ck_assert_uint_eq(json_array_size(json_object_get(ck_result(r), "teams")), 2);
    json_decref(r);
    r = cl_call(s, "callbacks.summary", "{\"team\":\"wijkteam-noord\"}");
    ck_assert_int_eq(json_integer_value(json_object_get(json_object_get(ck_result(r), "total"), "overdue")), 1);
    json_decref(r);
    r = cl_call(s, "stats.live", NULL);
    ck_assert_int_eq(json_integer_value(json_object_get(json_object_get(ck_result(r), "total"), "callbacks_open")), 1);
    ck_assert_int_eq(json_integer_value(json_object_get(json_object_get(ck_result(r), "total"), "callbacks_overdue")), 1);
    json_decref(r);
    /* bad input and roles */
    ck_assert_rpc_error(cl_call(a, "callback.create", "{\"caller\":\"anonymous\",\"team\":\"kic\"}"), -32602);
    ck_assert_rpc_error(cl_call(a, "callback.create", "{\"caller\":\"0612345678\"}"), -32602);
    ck_assert_rpc_error(cl_call(a, "callback.create", "{\"caller\":\"0612345678\",\"team\":\"kic\",\"due_by\":\"soon\"}"), -32602);
    ck_assert_rpc_error(cl_call(a, "callback.complete", "{\"callback_id\":\"x\",\"outcome\":\"maybe\"}"), -32602);
    ck_assert_rpc_error(cl_call(a, "callback.complete", "{\"callback_id\":\"x\"}"), -32602);
    ck_assert_rpc_error(cl_call(a, "callback.list", "{\"status\":\"lost\"}"), -32602);
    ck_assert_rpc_error(cl_call(b, "callback.create", "{\"caller\":\"0612345678\",\"team\":\"kic\"}"), -32003);
    ck_assert_rpc_error(cl_call(s, "callback.claim", "{\"callback_id\":\"ivr-1\"}"), -32003);
    ck_assert_rpc_error(cl_call(a, "callbacks.summary", NULL), -32003);
    ck_assert_rpc_error(cl_call(b, "callback.list", NULL), -32003);
    cl_close(b);
    cl_close(a);
    cl_close(a2);
    cl_close(s);
}
END_TEST

START_TEST(callbacks_of_two_tenants_stay_apart)
{
    Org x = org("cbx"), y = org("cby");
    Client *bx = cl_session(kicd.port, x.bridge), *ay = cl_session(kicd.port, y.agent);
    cl_call_ok(bx, "callback.requested", "{\"event_id\":\"same\",\"callback_id\":\"same-id\",\"caller\":\"0612341234\",\"queue\":\"kic\",\"at\":\"%s\"}", h_at(h_today(10), 0));
    ck_assert_rpc_error(cl_call(ay, "callback.claim", "{\"callback_id\":\"same-id\"}"), -32004);
    json_t *list = callbacks_of(ay, "{\"team\":\"kic\"}");
    ck_assert_uint_eq(json_array_size(list), 0);
    json_decref(list);
    cl_close(bx);
    cl_close(ay);
}
END_TEST

/* Runs last: nothing above put a caller's number or a note in kicd's
 * log (debug level, the most it writes). */
START_TEST(no_number_or_note_reached_the_log)
{
    static const char *const secrets[] = {
        "1234 8888", "12348888", "1234 9999", "12349999", "0612341234", "612341234",
        "0612345678", "612345678", "612000001", "612000011", "5555 0001", "55550001",
        "NOTE-OF-A", "NOTE-OF-B", "dochter belt", "over indicatie", "voicemail"};
    for (size_t i = 0; i < sizeof(secrets) / sizeof(*secrets); i++)
        ck_assert_msg(!kicd_log_contains(&kicd, secrets[i]), "the log holds '%s'", secrets[i]);
}
END_TEST

int main(void)
{
    kicd_init(&kicd, "aftercall", NULL);
    kicd_start(&kicd);
    Suite *s = suite_create("aftercall");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, wrapup_measures_acw_and_frees_the_agent);
    tcase_add_test(tc, wrapup_errors);
    tcase_add_test(tc, a_new_tenants_first_request_knows_its_categories);
    tcase_add_test(tc, categories_are_the_tenants_and_kicctl_edits_them);
    tcase_add_test(tc, caller_history_shows_the_window_and_is_audited);
    tcase_add_test(tc, transfers_count_once_and_are_never_fcr);
    tcase_add_test(tc, a_transfer_continuation_is_not_its_own_earlier_contact);
    tcase_add_test(tc, the_history_marks_what_repeat_contacts_leaves_out);
    tcase_add_test(tc, callback_lifecycle_numbers_and_summary);
    tcase_add_test(tc, a_queue_team_removed_is_forgotten);
    tcase_add_test(tc, a_callback_request_sent_again_makes_one_callback);
    tcase_add_test(tc, callbacks_of_two_tenants_stay_apart);
    tcase_add_test(tc, no_number_or_note_reached_the_log);
    suite_add_tcase(s, tc);
    return h_run_suite(s, &kicd);
}
