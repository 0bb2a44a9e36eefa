/* The admin's methods (user.create, user.revoke, audit.query), the
 * audit trail of everything that reads callers' data or agents'
 * figures, every method against every role (deny by default), and two
 * tenants with the same ids kept apart. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"

static Kicd kicd;

static const char *str_of(json_t *resp, const char *key)
{
    return json_string_value(json_object_get(rpc_result(resp), key));
}

/* ---- user.create, user.revoke ---- */

START_TEST(admins_create_and_revoke_users)
{
    const char *t = h_tenant("adm");
    char *admin = h_user(&kicd, t, "beheer", "admin", NULL, NULL);
    Client *a = cl_session(kicd.port, admin);
    json_t *r = ck_ok(cl_call(a, "user.create", "{\"name\":\"c.smit\",\"role\":\"agent\",\"teams\":[\"kic\",\"wijkteam-zuid\"]}"));
    ck_assert_str_eq(str_of(r, "name"), "c.smit");
    char *token = strdup(str_of(r, "token"));
    ck_assert_int_eq(strncmp(token, "kic_", 4), 0);
    json_decref(r);
    /* the new token works, as an agent known by the user's name */
    Client *c = cl_connect(kicd.port);
    r = ck_ok(cl_login(c, token));
    ck_assert_str_eq(str_of(r, "role"), "agent");
    ck_assert_str_eq(str_of(r, "agent"), "c.smit");
    ck_assert_uint_eq(json_array_size(json_object_get(rpc_result(r), "teams")), 2);
    json_decref(r);
    /* only the hash is stored */
    char sql[256];
    snprintf(sql, sizeof(sql), "SELECT count(*) FROM users WHERE token_sha256::text LIKE '%%%s%%'", token + 4);
    ck_assert_int_eq(h_sql_int(kicd.conninfo, sql), 0);
    /* a name in use, bad params */
    ck_assert_rpc_error(cl_call(a, "user.create", "{\"name\":\"c.smit\",\"role\":\"supervisor\"}"), -32009);
    ck_assert_rpc_error(cl_call(a, "user.create", "{\"name\":\"x\",\"role\":\"root\"}"), -32602);
    ck_assert_rpc_error(cl_call(a, "user.create", "{\"role\":\"agent\"}"), -32602);
    ck_assert_rpc_error(cl_call(a, "user.create", "{\"name\":\"x\",\"role\":\"bridge\",\"agent\":\"x\"}"), -32602);
    ck_assert_rpc_error(cl_call(a, "user.create", "{\"name\":\"x\",\"role\":\"agent\",\"teams\":\"kic\"}"), -32602);
    ck_assert_rpc_error(cl_call(a, "user.create", "{\"name\":\"\",\"role\":\"agent\"}"), -32602);
    /* kicctl's operators are "kicctl:<login>" in the audit log: no user is */
    json_t *reserved = cl_call(a, "user.create", "{\"name\":\"kicctl:root\",\"role\":\"admin\"}");
    ck_assert_int_eq(rpc_code(reserved), -32602);
    ck_assert_str_eq(json_string_value(json_object_get(json_object_get(json_object_get(reserved, "error"), "data"), "field")),
                     "name");
    json_decref(reserved);
    /* revoking ends the user's session at once and the token with it */
    r = ck_ok(cl_call(a, "user.revoke", "{\"name\":\"c.smit\"}"));
    json_decref(r);
    ck_assert(cl_wait_closed(c, 5000));
    cl_close(c);
    c = cl_connect(kicd.port);
    ck_assert_rpc_error(cl_login(c, token), -32001);
    cl_close(c);
    ck_assert_rpc_error(cl_call(a, "user.revoke", "{\"name\":\"c.smit\"}"), -32004);
    ck_assert_rpc_error(cl_call(a, "user.revoke", "{}"), -32602);
    /* the name is free again */
    json_decref(ck_ok(cl_call(a, "user.create", "{\"name\":\"c.smit\",\"role\":\"supervisor\"}")));
    /* an admin revoking themselves is answered, then their session ends */
    r = ck_ok(cl_call(a, "user.create", "{\"name\":\"beheer-tijdelijk\",\"role\":\"admin\"}"));
    Client *self = cl_session(kicd.port, str_of(r, "token"));
    json_decref(r);
    r = ck_ok(cl_call(self, "user.revoke", "{\"name\":\"beheer-tijdelijk\"}"));
    ck_assert(json_is_true(json_object_get(rpc_result(r), "revoked")));
    json_decref(r);
    ck_assert(cl_wait_closed(self, 5000));
    cl_close(self);
    cl_close(a);
    free(token);
    free(admin);
}
END_TEST

/* The agent's entry in agents.list as "state/reason", waiting up to 5 s
 * for it to become `want` ("" for absent); what it last was. */
static char *agent_entry(Client *super, const char *agent, const char *want)
{
    char *got = NULL;
    for (int i = 0; i < 50; i++) {
        free(got);
        got = strdup("");
        json_t *r = ck_ok(cl_call(super, "agents.list", NULL));
        size_t k;
        json_t *e;
        json_array_foreach(json_object_get(rpc_result(r), "agents"), k, e)
        {
            if (strcmp(json_string_value(json_object_get(e, "agent")), agent) != 0)
                continue;
            const char *reason = json_string_value(json_object_get(e, "reason"));
            free(got);
            got = malloc(512);
            snprintf(got, 512, "%s/%s", json_string_value(json_object_get(e, "state")),
                     reason ? reason : "");
        }
        json_decref(r);
        if (!strcmp(got, want))
            break;
        usleep(100000);
    }
    return got;
}

/* An agent created while kicd runs is listed (offline) before their
 * first act, as after a restart; a revoked agent, who can no longer log
 * in to go offline, goes offline at once, in storage too (what a restart
 * reads), instead of counting as available for ever. */
START_TEST(a_revoked_agent_goes_offline_and_a_new_one_is_listed)
{
    const char *t = h_tenant("adm-off");
    char *admin = h_user(&kicd, t, "beheer", "admin", NULL, NULL);
    char *super = h_user(&kicd, t, "sup", "supervisor", NULL, NULL);
    Client *a = cl_session(kicd.port, admin), *s = cl_session(kicd.port, super);
    json_t *r = ck_ok(cl_call(a, "user.create", "{\"name\":\"f.dekker\",\"role\":\"agent\"}"));
    char *token = strdup(str_of(r, "token"));
    json_decref(r);
    char *entry = agent_entry(s, "f.dekker", "offline/");
    ck_assert_str_eq(entry, "offline/");
    free(entry);
    Client *ag = cl_session(kicd.port, token);
    json_decref(ck_ok(cl_call(ag, "agent.state.set", "{\"state\":\"available\"}")));
    entry = agent_entry(s, "f.dekker", "available/");
    ck_assert_str_eq(entry, "available/");
    free(entry);
    json_decref(ck_ok(cl_call(a, "user.revoke", "{\"name\":\"f.dekker\"}")));
    ck_assert(cl_wait_closed(ag, 5000));
    cl_close(ag);
    entry = agent_entry(s, "f.dekker", "offline/user revoked");
    ck_assert_str_eq(entry, "offline/user revoked");
    free(entry);
    char sql[256];
    snprintf(sql, sizeof(sql),
             "SELECT count(*) FROM agent_choices c JOIN tenants t USING (tenant_id)"
             " WHERE t.name = '%s' AND c.agent = 'f.dekker' AND c.chosen = 'offline'", t);
    ck_assert_int_eq(h_sql_int_await(kicd.conninfo, sql, 1), 1);
    /* one who never chose a state (found by a probe: no reason, nothing
     * stored, so a restart no longer listed them) */
    json_decref(ck_ok(cl_call(a, "user.create", "{\"name\":\"g.visser\",\"role\":\"agent\"}")));
    entry = agent_entry(s, "g.visser", "offline/");
    ck_assert_str_eq(entry, "offline/");
    free(entry);
    json_decref(ck_ok(cl_call(a, "user.revoke", "{\"name\":\"g.visser\"}")));
    entry = agent_entry(s, "g.visser", "offline/user revoked");
    ck_assert_str_eq(entry, "offline/user revoked");
    free(entry);
    snprintf(sql, sizeof(sql),
             "SELECT count(*) FROM agent_choices c JOIN tenants t USING (tenant_id)"
             " WHERE t.name = '%s' AND c.agent = 'g.visser' AND c.chosen = 'offline'"
             " AND c.reason = 'user revoked'", t);
    ck_assert_int_eq(h_sql_int_await(kicd.conninfo, sql, 1), 1);
    cl_close(s);
    cl_close(a);
    free(token);
    free(super);
    free(admin);
}
END_TEST

static long long count_in(const Kicd *k, const char *tenant, const char *where)
{
    char sql[512];
    snprintf(sql, sizeof(sql),
             "SELECT count(*) FROM callbacks c JOIN tenants t USING (tenant_id) WHERE t.name = '%s' AND %s",
             tenant, where);
    return h_sql_int(k->conninfo, sql);
}

/* A revoked agent's claimed callbacks are open again (nobody else could
 * claim or complete them: they were stuck for good), and nothing their
 * session sends after the revoke is answered is carried out (the
 * session ended only when the notification came back, a moment later). */
START_TEST(a_revoked_agents_claims_are_freed_and_their_session_ends_first)
{
    const char *t = h_tenant("adm-claims");
    char *admin = h_user(&kicd, t, "beheer", "admin", NULL, NULL);
    char *bridge = h_user(&kicd, t, "pbx", "bridge", NULL, NULL);
    char *leaver = h_user(&kicd, t, "h.jong", "agent", "h.jong", "kic");
    char *stayer = h_user(&kicd, t, "i.berg", "agent", "i.berg", "kic");
    Client *a = cl_session(kicd.port, admin), *b = cl_session(kicd.port, bridge);
    Client *l = cl_session(kicd.port, leaver), *st = cl_session(kicd.port, stayer);
    KicTime now = h_today(0);
    for (int i = 1; i <= 2; i++)
        cl_call_ok(b, "callback.requested", "{\"event_id\":\"rc%d\",\"callback_id\":\"rc-%d\",\"caller\":\"061234900%d\",\"queue\":\"kic\",\"at\":\"%s\"}",
                   i, i, i, h_at(now, -10 + i));
    json_decref(ck_ok(cl_call(l, "callback.claim", "{\"callback_id\":\"rc-1\"}")));
    ck_assert_rpc_error(cl_call(st, "callback.claim", "{\"callback_id\":\"rc-1\"}"), -32009);
    json_decref(ck_ok(cl_call(a, "user.revoke", "{\"name\":\"h.jong\"}")));
    /* sent after the answer: not carried out */
    cl_send(l, "{\"jsonrpc\":\"2.0\",\"id\":99,\"method\":\"callback.claim\",\"params\":{\"callback_id\":\"rc-2\"}}");
    ck_assert(cl_wait_closed(l, 5000));
    cl_close(l);
    /* rc-1 is open again: another agent claims it */
    json_t *r = NULL;
    for (int i = 0; i < 50; i++) {
        json_decref(r);
        r = cl_call(st, "callback.claim", "{\"callback_id\":\"rc-1\"}");
        if (rpc_code(r) == 0)
            break;
        usleep(100000);
    }
    ck_assert_int_eq(rpc_code(r), 0);
    json_decref(r);
    ck_assert_int_eq(count_in(&kicd, t, "callback_id = 'rc-1' AND claimed_by = 'i.berg'"), 1);
    ck_assert_int_eq(count_in(&kicd, t, "callback_id = 'rc-2' AND status = 'open' AND claimed_by IS NULL"), 1);
    cl_close(a);
    cl_close(b);
    cl_close(st);
    free(admin);
    free(bridge);
    free(leaver);
    free(stayer);
}
END_TEST

/* Revoked with kicctl while kicd was not running: kicd heard no
 * notification, so at start it sets the agent offline as revoked and
 * frees their claims (they stayed available, counted for ever). */
START_TEST(an_agent_revoked_while_kicd_was_down_is_offline_at_start)
{
    Kicd k;
    kicd_init(&k, "revdown", NULL);
    kicd_start(&k);
    char *super = h_user(&k, "revdown", "sup", "supervisor", NULL, NULL);
    char *bridge = h_user(&k, "revdown", "pbx", "bridge", NULL, NULL);
    char *agent = h_user(&k, "revdown", "j.smit", "agent", "j.smit", "kic");
    Client *b = cl_session(k.port, bridge), *ag = cl_session(k.port, agent);
    json_decref(ck_ok(cl_call(ag, "agent.state.set", "{\"state\":\"available\"}")));
    cl_call_ok(b, "callback.requested", "{\"event_id\":\"rd1\",\"callback_id\":\"rd-1\",\"caller\":\"0612349011\",\"queue\":\"kic\",\"at\":\"%s\"}",
               h_at(h_today(0), -5));
    json_decref(ck_ok(cl_call(ag, "callback.claim", "{\"callback_id\":\"rd-1\"}")));
    cl_close(ag);
    cl_close(b);
    ck_assert(kicd_stop(&k));
    ck_assert_int_eq(h_kicctl(&k, NULL, "user", "revoke", "--tenant", "revdown", "--name", "j.smit", NULL), 0);
    kicd_start(&k);
    Client *s = cl_session(k.port, super);
    char *entry = agent_entry(s, "j.smit", "offline/user revoked");
    ck_assert_str_eq(entry, "offline/user revoked");
    free(entry);
    for (int i = 0; i < 50 && count_in(&k, "revdown", "callback_id = 'rd-1' AND status = 'open'") == 0; i++)
        usleep(100000);
    ck_assert_int_eq(count_in(&k, "revdown", "callback_id = 'rd-1' AND status = 'open' AND claimed_by IS NULL"), 1);
    /* and so after another restart */
    cl_close(s);
    ck_assert(kicd_stop(&k));
    kicd_start(&k);
    s = cl_session(k.port, super);
    entry = agent_entry(s, "j.smit", "offline/user revoked");
    ck_assert_str_eq(entry, "offline/user revoked");
    free(entry);
    cl_close(s);
    ck_assert(kicd_stop(&k));
    free(super);
    free(bridge);
    free(agent);
}
END_TEST

/* A change that does not happen leaves no audit row; a change runs only
 * while the admin who asked is active: a create pipelined behind the
 * admin's own revocation creates nothing (it used to create a user whose
 * token nobody received, logged as done by the revoked admin). */
START_TEST(only_changes_that_happen_are_logged_and_only_by_active_admins)
{
    const char *t = h_tenant("admrev");
    char *admin = h_user(&kicd, t, "beheer", "admin", NULL, NULL);
    char *admin2 = h_user(&kicd, t, "beheer2", "admin", NULL, NULL);
    Client *a = cl_session(kicd.port, admin);
    json_decref(ck_ok(cl_call(a, "user.create", "{\"name\":\"d.visser\",\"role\":\"agent\"}")));
    json_decref(ck_ok(cl_call(a, "user.revoke", "{\"name\":\"d.visser\"}")));
    ck_assert_rpc_error(cl_call(a, "user.revoke", "{\"name\":\"d.visser\"}"), -32004);
    ck_assert_rpc_error(cl_call(a, "user.revoke", "{\"name\":\"ghost\"}"), -32004);
    ck_assert_rpc_error(cl_call(a, "user.create", "{\"name\":\"beheer2\",\"role\":\"agent\"}"), -32009);
    char sql[512];
    snprintf(sql, sizeof(sql),
             "SELECT count(*) FILTER (WHERE action = 'user.revoke') * 10 + count(*) FILTER (WHERE action = 'user.create')"
             " FROM audit_log JOIN tenants USING (tenant_id) WHERE tenants.name = '%s'"
             " AND user_name = 'beheer'", t); /* not the set-up's kicctl */
    ck_assert_int_eq(h_sql_int(kicd.conninfo, sql), 11); /* one each */
    /* a create sent as a notification: its token would reach no one, so
     * nothing is created (and, a notification, nothing answered) */
    cl_send(a, "{\"jsonrpc\":\"2.0\",\"method\":\"user.create\",\"params\":{\"name\":\"stil\",\"role\":\"admin\"}}\n");
    json_t *pong = ck_ok(cl_call(a, "server.ping", NULL));
    json_decref(pong);
    snprintf(sql, sizeof(sql),
             "SELECT count(*) FROM users JOIN tenants USING (tenant_id) WHERE tenants.name = '%s'"
             " AND users.name = 'stil'", t);
    ck_assert_int_eq(h_sql_int(kicd.conninfo, sql), 0);
    /* beheer2 revokes themself and, in the same write, creates an admin */
    Client *b = cl_session(kicd.port, admin2);
    json_decref(ck_ok(cl_call(a, "user.create", "{\"name\":\"e.bos\",\"role\":\"supervisor\"}")));
    cl_send(b, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"user.revoke\",\"params\":{\"name\":\"beheer2\"}}\n"
               "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"user.create\",\"params\":{\"name\":\"na-intrekking\",\"role\":\"admin\"}}\n"
               "{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"user.revoke\",\"params\":{\"name\":\"e.bos\"}}\n");
    ck_assert(cl_wait_closed(b, 5000));
    cl_close(b);
    snprintf(sql, sizeof(sql),
             "SELECT count(*) FROM users JOIN tenants USING (tenant_id) WHERE tenants.name = '%s'"
             " AND users.name = 'na-intrekking'", t);
    ck_assert_int_eq(h_sql_int(kicd.conninfo, sql), 0);
    /* nor revokes anyone */
    snprintf(sql, sizeof(sql),
             "SELECT count(*) FROM users JOIN tenants USING (tenant_id) WHERE tenants.name = '%s'"
             " AND users.name = 'e.bos' AND revoked_at IS NULL", t);
    ck_assert_int_eq(h_sql_int(kicd.conninfo, sql), 1);
    snprintf(sql, sizeof(sql),
             "SELECT count(*) FROM audit_log JOIN tenants USING (tenant_id) WHERE tenants.name = '%s'"
             " AND user_name = 'beheer2'", t);
    ck_assert_int_eq(h_sql_int(kicd.conninfo, sql), 1); /* the revocation */
    cl_close(a);
    free(admin);
    free(admin2);
}
END_TEST

/* Two active users may not be the same agent: each would see and act
 * for the other's calls. Revoking the first frees the agent id. */
START_TEST(an_agent_id_belongs_to_one_active_user)
{
    const char *t = h_tenant("adm-agent");
    char *admin = h_user(&kicd, t, "beheer", "admin", NULL, NULL);
    Client *a = cl_session(kicd.port, admin);
    json_decref(ck_ok(cl_call(a, "user.create", "{\"name\":\"d.bakker\",\"role\":\"agent\"}")));
    /* named as the first's agent id, or given it */
    json_t *r = cl_call(a, "user.create", "{\"name\":\"d.bakker2\",\"role\":\"agent\",\"agent\":\"d.bakker\"}");
    ck_assert_rpc_error(json_incref(r), -32009);
    ck_assert_str_eq(json_string_value(json_object_get(json_object_get(json_object_get(r, "error"), "data"), "field")), "agent");
    json_decref(r);
    ck_assert_rpc_error(cl_call(a, "user.create", "{\"name\":\"x.other\",\"role\":\"agent\",\"agent\":\"d.bakker\"}"), -32009);
    /* a name in use is named as the name */
    r = cl_call(a, "user.create", "{\"name\":\"d.bakker\",\"role\":\"agent\",\"agent\":\"d.b\"}");
    ck_assert_rpc_error(json_incref(r), -32009);
    ck_assert_str_eq(json_string_value(json_object_get(json_object_get(json_object_get(r, "error"), "data"), "field")), "name");
    json_decref(r);
    /* nothing was stored for the refused ones */
    char sql[256];
    snprintf(sql, sizeof(sql), "SELECT count(*) FROM users JOIN tenants USING (tenant_id)"
                               " WHERE tenants.name = '%s' AND agent = 'd.bakker'", t);
    ck_assert_int_eq(h_sql_int(kicd.conninfo, sql), 1);
    /* another tenant's agent of that id is no conflict */
    char *other_admin = h_user(&kicd, h_tenant("adm-agent-2"), "beheer", "admin", NULL, NULL);
    Client *o = cl_session(kicd.port, other_admin);
    json_decref(ck_ok(cl_call(o, "user.create", "{\"name\":\"d.bakker\",\"role\":\"agent\"}")));
    cl_close(o);
    /* revoked, the id is free for the new user */
    json_decref(ck_ok(cl_call(a, "user.revoke", "{\"name\":\"d.bakker\"}")));
    json_decref(ck_ok(cl_call(a, "user.create", "{\"name\":\"d.bakker2\",\"role\":\"agent\",\"agent\":\"d.bakker\"}")));
    cl_close(a);
    free(other_admin);
    free(admin);
}
END_TEST

/* ---- the audit trail ---- */

static bool has_entry(json_t *resp, const char *action, const char *user, const char *subject_prefix)
{
    size_t i;
    json_t *e;
    json_array_foreach(json_object_get(rpc_result(resp), "entries"), i, e)
    {
        const char *subject = json_string_value(json_object_get(e, "subject"));
        if (strcmp(json_string_value(json_object_get(e, "action")), action) == 0 &&
            strcmp(json_string_value(json_object_get(e, "user")), user) == 0 &&
            (!subject_prefix || (subject && strncmp(subject, subject_prefix, strlen(subject_prefix)) == 0)))
            return true;
    }
    return false;
}

START_TEST(the_audit_log_shows_who_read_what)
{
    const char *t = h_tenant("aud");
    char *admin = h_user(&kicd, t, "beheer", "admin", NULL, NULL);
    char *bridge = h_user(&kicd, t, "pbx", "bridge", NULL, NULL);
    char *agent = h_user(&kicd, t, "a.jansen", "agent", NULL, "kic");
    char *super = h_user(&kicd, t, "s.bakker", "supervisor", NULL, NULL);
    Client *b = cl_session(kicd.port, bridge), *g = cl_session(kicd.port, agent);
    Client *s = cl_session(kicd.port, super), *a = cl_session(kicd.port, admin);
    KicTime t0 = h_today(300);
    json_decref(ck_ok(cl_call(b, "call.offered", "{\"event_id\":\"o1\",\"call_id\":\"k1\",\"at\":\"%s\",\"queue\":\"q\",\"caller\":\"0612345678\"}", h_at(t0, 0))));
    json_decref(ck_ok(cl_call(b, "call.answered", "{\"event_id\":\"a1\",\"call_id\":\"k1\",\"at\":\"%s\",\"agent\":\"a.jansen\"}", h_at(t0, 5))));
    json_decref(ck_ok(cl_call(g, "caller.history", "{\"call_id\":\"k1\"}")));
    char from[40], to[40];
    KicTime day = time_local_day_start(h_today(0));
    time_format_local(day, from, sizeof(from));
    time_format_local(time_add_local_days(day, 1), to, sizeof(to));
    json_decref(ck_ok(cl_call(s, "report.query", "{\"from\":\"%s\",\"to\":\"%s\",\"interval\":\"all\",\"group_by\":[\"agent\"]}", from, to)));
    json_decref(ck_ok(cl_call(s, "report.query", "{\"from\":\"%s\",\"to\":\"%s\",\"interval\":\"all\",\"group_by\":[\"queue\"]}", from, to)));
    json_decref(ck_ok(cl_call(a, "user.create", "{\"name\":\"n.nieuw\",\"role\":\"agent\"}")));
    json_t *r = ck_ok(cl_call(a, "audit.query", "{\"from\":\"%s\",\"to\":\"%s\"}", from, to));
    ck_assert(has_entry(r, "caller.history", "a.jansen", "k1"));
    ck_assert(has_entry(r, "report.query", "s.bakker", "by agent"));
    ck_assert(has_entry(r, "user.create", "beheer", "n.nieuw"));
    ck_assert(!json_is_true(json_object_get(rpc_result(r), "truncated")));
    /* a report without agents' figures is not personal data: not logged */
    size_t i, reports = 0;
    json_t *e;
    json_array_foreach(json_object_get(rpc_result(r), "entries"), i, e)
        reports += strcmp(json_string_value(json_object_get(e, "action")), "report.query") == 0;
    ck_assert_uint_eq(reports, 1);
    /* the history row names the caller by key, and where from */
    json_array_foreach(json_object_get(rpc_result(r), "entries"), i, e)
    {
        if (strcmp(json_string_value(json_object_get(e, "action")), "caller.history") == 0) {
            ck_assert_uint_eq(strlen(json_string_value(json_object_get(e, "caller_key"))), 64);
            ck_assert_int_eq(strncmp(json_string_value(json_object_get(e, "peer")), "127.0.0.1:", 10), 0);
        }
    }
    /* each entry names its user by id too (kicctl's operators are no kicd users) */
    json_array_foreach(json_object_get(rpc_result(r), "entries"), i, e)
    {
        const char *user = json_string_value(json_object_get(e, "user"));
        json_t *id = json_object_get(e, "user_id");
        if (strncmp(user, "kicctl:", 7) == 0) {
            ck_assert(json_is_null(id));
            continue;
        }
        ck_assert_msg(json_is_integer(id), "%s has no user_id", user);
        char sql[300];
        snprintf(sql, sizeof(sql), "SELECT user_id FROM users JOIN tenants USING (tenant_id)"
                                   " WHERE tenants.name = '%s' AND users.name = '%s'", t, user);
        ck_assert_int_eq(json_integer_value(id), h_sql_int(kicd.conninfo, sql));
    }
    json_decref(r);
    /* a name given again after its user was revoked: the entries of the
     * two are told apart by user_id */
    char *first = h_user(&kicd, t, "wissel", "admin", NULL, NULL);
    Client *w = cl_session(kicd.port, first);
    json_decref(ck_ok(cl_call(w, "user.create", "{\"name\":\"w.een\",\"role\":\"supervisor\"}")));
    cl_close(w);
    json_decref(ck_ok(cl_call(a, "user.revoke", "{\"name\":\"wissel\"}")));
    char *second = h_user(&kicd, t, "wissel", "admin", NULL, NULL);
    w = cl_session(kicd.port, second);
    json_decref(ck_ok(cl_call(w, "user.create", "{\"name\":\"w.twee\",\"role\":\"supervisor\"}")));
    cl_close(w);
    char sql[300];
    snprintf(sql, sizeof(sql), "SELECT min(user_id) FROM users JOIN tenants USING (tenant_id)"
                               " WHERE tenants.name = '%s' AND users.name = 'wissel'", t);
    long long first_id = h_sql_int(kicd.conninfo, sql);
    snprintf(sql, sizeof(sql), "SELECT max(user_id) FROM users JOIN tenants USING (tenant_id)"
                               " WHERE tenants.name = '%s' AND users.name = 'wissel'", t);
    long long second_id = h_sql_int(kicd.conninfo, sql);
    ck_assert_int_ne(first_id, second_id);
    r = ck_ok(cl_call(a, "audit.query", "{\"from\":\"%s\",\"to\":\"%s\",\"user\":\"wissel\"}", from, to));
    json_t *entries = json_object_get(rpc_result(r), "entries");
    ck_assert_uint_eq(json_array_size(entries), 2);
    ck_assert_str_eq(json_string_value(json_object_get(json_array_get(entries, 0), "subject")), "w.een (supervisor)");
    ck_assert_int_eq(json_integer_value(json_object_get(json_array_get(entries, 0), "user_id")), first_id);
    ck_assert_str_eq(json_string_value(json_object_get(json_array_get(entries, 1), "subject")), "w.twee (supervisor)");
    ck_assert_int_eq(json_integer_value(json_object_get(json_array_get(entries, 1), "user_id")), second_id);
    json_decref(r);
    free(first);
    free(second);
    /* by user; and the look at the log is itself logged */
    r = ck_ok(cl_call(a, "audit.query", "{\"from\":\"%s\",\"to\":\"%s\",\"user\":\"beheer\"}", from, to));
    ck_assert(has_entry(r, "audit.query", "beheer", NULL));
    ck_assert(!has_entry(r, "caller.history", "a.jansen", NULL));
    json_decref(r);
    /* a name whose cut to the subject's 40 bytes falls inside a
     * character: logged all the same (it went unlogged: a probe) */
    char accented[80] = "a";
    for (int k = 0; k < 30; k++)
        strcat(accented, "\xc3\xa9"); /* é */
    snprintf(sql, sizeof(sql), "SELECT count(*) FROM audit_log JOIN tenants USING (tenant_id)"
                               " WHERE tenants.name = '%s' AND action = 'audit.query'", t);
    long long logged = h_sql_int(kicd.conninfo, sql);
    json_decref(ck_ok(cl_call(a, "audit.query", "{\"from\":\"%s\",\"to\":\"%s\",\"user\":\"%s\"}", from,
                              to, accented)));
    ck_assert_int_eq(h_sql_int(kicd.conninfo, sql), logged + 1);
    ck_assert_rpc_error(cl_call(a, "audit.query", "{\"to\":\"%s\"}", to), -32602);
    ck_assert_rpc_error(cl_call(a, "audit.query", "{\"from\":\"%s\",\"to\":\"%s\"}", to, from), -32602);
    ck_assert_rpc_error(cl_call(a, "audit.query", "{\"from\":\"%s\",\"to\":\"%s\",\"user\":7}", from, to), -32602);
    cl_close(b);
    cl_close(g);
    cl_close(s);
    cl_close(a);
    free(admin);
    free(bridge);
    free(agent);
    free(super);
}
END_TEST

/* ---- every method, every role ---- */

enum { ANON = 1, BRIDGE = 2, AGENT = 4, SUPER = 8, ADMIN = 16 };

static const struct {
    const char *method;
    int allowed;
} matrix[] = {
    {"call.offered", BRIDGE},       {"call.answered", BRIDGE},
    {"call.held", BRIDGE},          {"call.resumed", BRIDGE},
    {"call.transferred", BRIDGE},   {"call.abandoned", BRIDGE},
    {"call.ended", BRIDGE},         {"callback.requested", BRIDGE},
    {"agent.state.set", AGENT},     {"call.wrapup", AGENT},
    {"caller.history", AGENT},      {"callback.create", AGENT},
    {"callback.list", AGENT},       {"callback.claim", AGENT},
    {"callback.complete", AGENT},   {"stats.live", SUPER | ADMIN},
    {"stats.subscribe", SUPER | ADMIN}, {"agents.list", SUPER | ADMIN},
    {"callbacks.summary", SUPER | ADMIN}, {"report.query", SUPER | ADMIN},
    {"user.create", ADMIN},         {"user.revoke", ADMIN},
    {"audit.query", ADMIN},         {"server.ping", BRIDGE | AGENT | SUPER | ADMIN},
    {"server.info", BRIDGE | AGENT | SUPER | ADMIN},
};

START_TEST(every_method_against_every_role)
{
    const char *t = h_tenant("roles");
    char *tokens[5] = {NULL, h_user(&kicd, t, "pbx", "bridge", NULL, NULL),
                       h_user(&kicd, t, "a.jansen", "agent", NULL, "kic"),
                       h_user(&kicd, t, "s.bakker", "supervisor", NULL, NULL),
                       h_user(&kicd, t, "beheer", "admin", NULL, NULL)};
    for (int role = 0; role < 5; role++) {
        Client *c = tokens[role] ? cl_session(kicd.port, tokens[role]) : cl_connect(kicd.port);
        for (size_t m = 0; m < sizeof(matrix) / sizeof(*matrix); m++) {
            /* params that no method accepts as they are: an allowed call
             * gets -32602 (or succeeds), never a role error */
            json_t *r = cl_call(c, matrix[m].method, "{\"name\":\"\",\"zz\":1}");
            int code = rpc_code(r);
            json_decref(r);
            bool allowed = matrix[m].allowed & (1 << role);
            int denied = role == 0 ? -32001 : -32003;
            if (allowed)
                ck_assert_msg(code != -32001 && code != -32003 && code != -32601,
                              "%s as role %d: %d", matrix[m].method, role, code);
            else
                ck_assert_msg(code == denied, "%s as role %d: %d, expected %d", matrix[m].method,
                              role, code, denied);
        }
        ck_assert_rpc_error(cl_call(c, "no.such.method", NULL), role == 0 ? -32001 : -32601);
        cl_close(c);
    }
    for (int i = 1; i < 5; i++)
        free(tokens[i]);
}
END_TEST

/* ---- two tenants, the same ids ---- */

START_TEST(tenants_with_the_same_ids_stay_apart)
{
    char *bridge[2], *super[2], *admin[2];
    const char *names[2];
    for (int i = 0; i < 2; i++) {
        names[i] = strdup(h_tenant(i ? "twin-b" : "twin-a"));
        bridge[i] = h_user(&kicd, names[i], "pbx", "bridge", NULL, NULL);
        super[i] = h_user(&kicd, names[i], "s.bakker", "supervisor", NULL, NULL);
        admin[i] = h_user(&kicd, names[i], "beheer", "admin", NULL, NULL);
    }
    KicTime t0 = h_today(120);
    for (int i = 0; i < 2; i++) {
        Client *b = cl_session(kicd.port, bridge[i]);
        /* the same event and call ids in both: new in each */
        for (int n = 0; n <= i; n++) {
            json_t *r = ck_ok(cl_call(b, "call.offered", "{\"event_id\":\"same-%d\",\"call_id\":\"same-%d\",\"at\":\"%s\",\"queue\":\"q\"}", n, n, h_at(t0, n)));
            ck_assert(json_is_false(json_object_get(rpc_result(r), "duplicate")));
            json_decref(r);
        }
        cl_close(b);
    }
    for (int i = 0; i < 2; i++) {
        Client *s = cl_session(kicd.port, super[i]);
        json_t *r = ck_ok(cl_call(s, "stats.live", NULL));
        ck_assert_int_eq(json_integer_value(json_object_get(json_object_get(rpc_result(r), "total"), "offered")), i + 1);
        json_decref(r);
        cl_close(s);
    }
    /* an admin revokes only in their own tenant */
    Client *a = cl_session(kicd.port, admin[0]);
    json_decref(ck_ok(cl_call(a, "user.revoke", "{\"name\":\"s.bakker\"}")));
    cl_close(a);
    Client *s = cl_connect(kicd.port);
    json_t *r = ck_ok(cl_login(s, super[1]));
    json_decref(r);
    cl_close(s);
    s = cl_connect(kicd.port);
    ck_assert_rpc_error(cl_login(s, super[0]), -32001);
    cl_close(s);
    for (int i = 0; i < 2; i++) {
        free(bridge[i]);
        free(super[i]);
        free(admin[i]);
        free((char *)names[i]);
    }
}
END_TEST

int main(void)
{
    kicd_init(&kicd, "admin", NULL);
    kicd_start(&kicd);
    Suite *s = suite_create("admin");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, admins_create_and_revoke_users);
    tcase_add_test(tc, only_changes_that_happen_are_logged_and_only_by_active_admins);
    tcase_add_test(tc, an_agent_id_belongs_to_one_active_user);
    tcase_add_test(tc, a_revoked_agent_goes_offline_and_a_new_one_is_listed);
    tcase_add_test(tc, a_revoked_agents_claims_are_freed_and_their_session_ends_first);
    tcase_add_test(tc, an_agent_revoked_while_kicd_was_down_is_offline_at_start);
    tcase_add_test(tc, the_audit_log_shows_who_read_what);
    tcase_add_test(tc, every_method_against_every_role);
    tcase_add_test(tc, tenants_with_the_same_ids_stay_apart);
    suite_add_tcase(s, tc);
    return h_run_suite(s, &kicd);
}
