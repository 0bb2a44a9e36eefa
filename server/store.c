/* Loading state from storage (see store.h). Times come back as epoch
 * microseconds (exact, whatever the session time zone). */
#include "store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "logins.h"
#include "pg.h"
#include "session.h"
#include "tenants.h"
#include "writer.h"

#define CALLS_SINCE                                                     \
    "(SELECT DISTINCT call_id FROM events WHERE tenant_id = $1 AND at >= $2::timestamptz" \
    " AND call_id <> '')"

static const char sql_tenants[] = "SELECT tenant_id, name FROM tenants ORDER BY tenant_id";
static const char sql_horizon[] =
    "SELECT (extract(epoch FROM purged_before) * 1000000)::bigint FROM purge_horizon";
static const char sql_events[] =
    "SELECT tenant_id, type, payload::text FROM events"
    " WHERE tenant_id = $1 AND (call_id IN " CALLS_SINCE
    "   OR (call_id = '' AND at >= $2::timestamptz))"
    " ORDER BY tenant_id, call_id";
static const char sql_repeats[] =
    "SELECT tenant_id, call_id, followed_by_repeat FROM calls"
    " WHERE tenant_id = $1 AND followed_by_repeat AND call_id IN " CALLS_SINCE;
static const char sql_wrapups[] =
    "SELECT tenant_id, call_id, agent, (extract(epoch FROM at) * 1000000)::bigint, category,"
    "       resolved, follow_up, caller_type FROM wrapups"
    " WHERE tenant_id = $1 AND call_id IN " CALLS_SINCE;
static const char sql_agents[] =
    "SELECT DISTINCT agent FROM users WHERE tenant_id = $1 AND role = 'agent'"
    " AND revoked_at IS NULL AND agent IS NOT NULL";
/* Agent ids whose users were all revoked (none active has it). */
static const char sql_revoked_agents[] =
    "SELECT DISTINCT agent FROM users r WHERE tenant_id = $1 AND role = 'agent'"
    " AND agent IS NOT NULL AND revoked_at IS NOT NULL AND NOT EXISTS"
    " (SELECT 1 FROM users u WHERE u.tenant_id = r.tenant_id AND u.agent = r.agent"
    "  AND u.revoked_at IS NULL)";
static const char sql_categories[] =
    "SELECT name FROM categories WHERE tenant_id = $1 ORDER BY name";
static const char sql_queue_teams[] = "SELECT queue, team FROM queue_teams WHERE tenant_id = $1";
/* Open callbacks, and those closed today (for today's summary). */
static const char sql_callbacks[] =
    "SELECT callback_id, source, team, queue, call_id, caller_key, number, status,"
    "       (extract(epoch FROM created_at) * 1000000)::bigint,"
    "       (extract(epoch FROM due_by) * 1000000)::bigint, created_by, claimed_by,"
    "       (extract(epoch FROM claimed_at) * 1000000)::bigint, attempts,"
    "       (extract(epoch FROM last_attempt) * 1000000)::bigint,"
    "       (extract(epoch FROM closed_at) * 1000000)::bigint, outcome"
    " FROM callbacks WHERE tenant_id = $1"
    "   AND (status IN ('open', 'claimed') OR closed_at >= $2::timestamptz)";
static const char sql_choices[] =
    "SELECT agent, chosen, (extract(epoch FROM since) * 1000000)::bigint, reason,"
    "       (extract(epoch FROM offline_since) * 1000000)::bigint,"
    "       (extract(epoch FROM login_since) * 1000000)::bigint"
    " FROM agent_choices WHERE tenant_id = $1";

static int find_index(const char *const *names, const char *value)
{
    for (int i = 0; value && names[i]; i++)
        if (strcmp(names[i], value) == 0)
            return i;
    return -1;
}

static KicTime col_time(PGresult *r, int row, int col)
{
    return PQgetisnull(r, row, col) ? KIC_TIME_NONE : strtoll(PQgetvalue(r, row, col), NULL, 10);
}

static const char *col_str(PGresult *r, int row, int col)
{
    return PQgetisnull(r, row, col) ? NULL : PQgetvalue(r, row, col);
}

static Event *parse_stored(Server *s, Tenant *t, const char *type, const char *payload)
{
    int et = event_type_from_method(type);
    json_t *params = json_loads(payload, 0, NULL);
    EventParse ep;
    RpcError err = {0};
    Event *ev = NULL;
    if (et >= 0 && params && event_parse((EventType)et, params, &t->callers, true, &ep, &err)) {
        ev = ep.event;
        ep.event = NULL;
        event_parse_free(&ep);
    } else {
        srv_log(s, LOG_ERROR, "tenant %s: stored %s event unreadable: %s", t->name, type,
                err.message[0] ? err.message : "bad JSON");
    }
    rpc_error_clear(&err);
    json_decref(params);
    return ev;
}

typedef struct WrapList {
    Wrapup **items;
    size_t n;
} WrapList;

static char *call_key(const char *tenant, const char *call_id)
{
    char *k;
    if (asprintf(&k, "%s:%s", tenant, call_id) < 0)
        abort();
    return k;
}

static void free_keys(StrMap *m, bool free_values)
{
    size_t pos = 0;
    const char *k;
    void *v;
    while (strmap_next(m, &pos, &k, &v)) {
        free((char *)k);
        if (free_values) {
            WrapList *l = v;
            for (size_t i = 0; i < l->n; i++)
                wrapup_free(l->items[i]);
            free(l->items);
            free(l);
        }
    }
    strmap_free(m);
}

static void index_wrapups(PGresult *r, StrMap *out)
{
    for (int i = 0; r && i < PQntuples(r); i++) {
        char *k = call_key(PQgetvalue(r, i, 0), PQgetvalue(r, i, 1));
        WrapList *l = strmap_get(out, k);
        if (!l) {
            l = calloc(1, sizeof(*l));
            if (!l)
                abort();
            strmap_put(out, k, l);
        } else {
            free(k);
        }
        Wrapup *w = wrapup_new(PQgetvalue(r, i, 2), PQgetvalue(r, i, 4), col_time(r, i, 3),
                               strcmp(PQgetvalue(r, i, 5), "t") == 0,
                               find_index(follow_up_names, col_str(r, i, 6)),
                               find_index(caller_type_names, col_str(r, i, 7)));
        l->items = realloc(l->items, (l->n + 1) * sizeof(Wrapup *));
        if (!w || !l->items)
            abort();
        l->items[l->n++] = w;
    }
}

/* Hands one call's events (and its wrap-ups, repeat flag) to the centre. */
static void load_group(Tenant *t, Event **evs, size_t n, StrMap *repeats, StrMap *wraps,
                       KicTime now, Effects *fx)
{
    char *k = call_key(t->id_text, evs[0]->call_id);
    WrapList *wl = strmap_get(wraps, k);
    bool repeat = strmap_get(repeats, k) != NULL;
    free(k);
    Wrapup **w = NULL;
    size_t nw = 0;
    if (wl) {
        w = wl->items;
        nw = wl->n;
        wl->items = NULL; /* the centre takes them */
        wl->n = 0;
    }
    centre_load_call(t->centre, evs, n, w, nw, repeat, now, fx);
    free(w);
}

void store_merge_calls(Server *s, PGresult *events, PGresult *calls, PGresult *wrapups,
                       Effects *fx)
{
    StrMap repeats = STRMAP_INIT, wraps = STRMAP_INIT;
    for (int i = 0; calls && i < PQntuples(calls); i++)
        if (strcmp(PQgetvalue(calls, i, 2), "t") == 0)
            strmap_put(&repeats, call_key(PQgetvalue(calls, i, 0), PQgetvalue(calls, i, 1)), calls);
    index_wrapups(wrapups, &wraps);

    KicTime now = server_now();
    Event **group = NULL;
    size_t n = 0, cap = 0;
    Tenant *gt = NULL;
    int rows = events ? PQntuples(events) : 0;
    for (int i = 0; i <= rows; i++) {
        Tenant *t = NULL;
        Event *ev = NULL;
        if (i < rows) {
            t = tenants_find(s->tenants, strtoll(PQgetvalue(events, i, 0), NULL, 10));
            ev = t ? parse_stored(s, t, PQgetvalue(events, i, 1), PQgetvalue(events, i, 2)) : NULL;
            if (!ev)
                continue;
            if (ev->type == EV_CALLBACK_REQUESTED) {
                centre_apply_event(t->centre, ev, NULL, now, false, NULL);
                continue;
            }
        }
        if (n && (!ev || t != gt || strcmp(ev->call_id, group[0]->call_id) != 0)) {
            load_group(gt, group, n, &repeats, &wraps, now, fx);
            n = 0;
        }
        if (!ev)
            break;
        if (n == cap) {
            cap = cap ? cap * 2 : 16;
            group = realloc(group, cap * sizeof(Event *));
            if (!group)
                abort();
        }
        group[n++] = ev;
        gt = t;
    }
    free(group);
    free_keys(&repeats, false);
    free_keys(&wraps, true);
}

/* ---- per-tenant load ---- */

/* Start-up: counts tenants still loading. */
typedef struct StartUp {
    Server *s;
    StoreDone done;
    int pending;
    bool ok;
} StartUp;

typedef struct TenantLoad {
    Server *s;
    Tenant *t;
    StartUp *su; /* NULL outside start-up */
    bool resync; /* replace the tenant's centre with what storage holds */
} TenantLoad;

static void startup_release(StartUp *su)
{
    if (--su->pending > 0)
        return;
    StoreDone done = su->done;
    Server *s = su->s;
    bool ok = su->ok;
    free(su);
    done(s, ok);
}

static void load_agents(Centre *c, PGresult *agents, PGresult *choices)
{
    for (int i = 0; agents && i < PQntuples(agents); i++)
        centre_load_agent(c, PQgetvalue(agents, i, 0), AS_OFFLINE, KIC_TIME_NONE, NULL,
                          KIC_TIME_NONE, KIC_TIME_NONE);
    for (int i = 0; choices && i < PQntuples(choices); i++) {
        int chosen = find_index(agent_state_names, PQgetvalue(choices, i, 1));
        if (chosen < 0)
            continue;
        centre_load_agent(c, PQgetvalue(choices, i, 0), (AgentState)chosen,
                          col_time(choices, i, 2), col_str(choices, i, 3),
                          col_time(choices, i, 4), col_time(choices, i, 5));
    }
}

static void load_categories(Tenant *t, PGresult *r)
{
    int n = r ? PQntuples(r) : 0;
    const char **names = malloc((size_t)(n ? n : 1) * sizeof(char *));
    if (!names)
        abort();
    for (int i = 0; i < n; i++)
        names[i] = PQgetvalue(r, i, 0);
    tenant_set_categories(t, names, (size_t)n);
    free(names);
}

/* The whole mapping: one removed in storage is gone here too. */
static void load_queue_teams(Centre *c, PGresult *r)
{
    if (!r)
        return;
    centre_clear_queue_teams(c);
    for (int i = 0; r && i < PQntuples(r); i++)
        centre_set_queue_team(c, PQgetvalue(r, i, 0), PQgetvalue(r, i, 1));
}

static void load_callbacks(Centre *c, PGresult *r)
{
    for (int i = 0; r && i < PQntuples(r); i++) {
        CallbackNew n = {.id = PQgetvalue(r, i, 0),
                         .from_ivr = strcmp(PQgetvalue(r, i, 1), "ivr") == 0,
                         .team = PQgetvalue(r, i, 2),
                         .queue = col_str(r, i, 3),
                         .call_id = col_str(r, i, 4),
                         .caller_key = col_str(r, i, 5),
                         .number = col_str(r, i, 6),
                         .created_at = col_time(r, i, 8),
                         .due_by = col_time(r, i, 9),
                         .created_by = col_str(r, i, 10)};
        Callback *cb = callback_new(&n);
        int status = find_index(callback_status_names, PQgetvalue(r, i, 7));
        cb->status = status < 0 ? CB_OPEN : (CallbackStatus)status;
        const char *claimed_by = col_str(r, i, 11);
        cb->claimed_by = claimed_by ? strdup(claimed_by) : NULL;
        cb->claimed_at = col_time(r, i, 12);
        cb->attempts = atoi(PQgetvalue(r, i, 13));
        cb->last_attempt = col_time(r, i, 14);
        cb->closed_at = col_time(r, i, 15);
        cb->outcome = find_index(callback_outcome_names, col_str(r, i, 16));
        centre_load_callback(c, cb);
    }
}

static void revoked_while_away(Server *s, Tenant *t, PGresult *revoked);

static void tenant_loaded(PgJob *job, void *arg)
{
    TenantLoad *tl = arg;
    Server *s = tl->s;
    Tenant *t = tl->t;
    if (pgjob_error(job)) {
        srv_log(s, LOG_ERROR, "tenant %s: loading state failed: %s", t->name, pgjob_error(job));
        if (tl->su)
            tl->su->ok = false;
    } else {
        if (tl->resync) {
            CentreConfig cc;
            tenants_centre_config(s, &cc);
            Centre *fresh = centre_new(t->id, &cc, server_now());
            if (!fresh)
                abort();
            centre_free(t->centre);
            t->centre = fresh;
        }
        store_merge_calls(s, pgjob_result(job, 0), pgjob_result(job, 1), pgjob_result(job, 2),
                          NULL);
        load_agents(t->centre, pgjob_result(job, 3), pgjob_result(job, 4));
        load_categories(t, pgjob_result(job, 5));
        load_queue_teams(t->centre, pgjob_result(job, 6));
        load_callbacks(t->centre, pgjob_result(job, 7));
        revoked_while_away(s, t, pgjob_result(job, 8));
        if (tl->resync)
            srv_log(s, LOG_WARN, "tenant %s: live state reloaded from storage", t->name);
    }
    if (tl->resync) {
        t->resyncing = false;
        writer_release(s->writer);
    }
    if (tl->su)
        startup_release(tl->su);
    bool resync = tl->resync;
    free(tl);
    if (!resync)
        tenant_set_loaded(t, !pgjob_error(job));
}

static bool load_tenant(Server *s, Tenant *t, StartUp *su, bool resync)
{
    TenantLoad *tl = calloc(1, sizeof(*tl));
    if (!tl)
        abort();
    tl->s = s;
    tl->t = t;
    tl->su = su;
    tl->resync = resync;
    char horizon[40], today[40];
    time_format_db(centre_loaded_since(t->centre), horizon, sizeof(horizon));
    time_format_db(time_local_day_start(server_now()), today, sizeof(today));
    const char *args[] = {t->id_text, horizon};
    const char *cb_args[] = {t->id_text, today};
    PgJob *job = pgjob_new(tenant_loaded, tl);
    pgjob_add(job, sql_events, 2, args);
    pgjob_add(job, sql_repeats, 2, args);
    pgjob_add(job, sql_wrapups, 2, args);
    pgjob_add(job, sql_agents, 1, args);
    pgjob_add(job, sql_choices, 1, args);
    pgjob_add(job, sql_categories, 1, args);
    pgjob_add(job, sql_queue_teams, 1, args);
    pgjob_add(job, sql_callbacks, 2, cb_args);
    pgjob_add(job, sql_revoked_agents, 1, args);
    if (pgconn_submit(s->pg_reader, job))
        return true;
    pgjob_free(job);
    free(tl);
    return false;
}

/* Retention's horizon (migration 0012), which only moves on. */
static void set_horizon(Server *s, PGresult *r)
{
    if (!r || PQntuples(r) != 1)
        return;
    KicTime h = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
    if (h <= s->purged_before)
        return;
    s->purged_before = h;
    char at[40];
    time_format_utc(h, at, sizeof(at));
    srv_log(s, LOG_INFO, "retention: events before %s are purged; one sent again is a duplicate",
            at);
}

static void horizon_loaded(PgJob *job, void *arg)
{
    if (!pgjob_error(job))
        set_horizon(arg, pgjob_result(job, 0));
}

static void tenants_listed(PgJob *job, void *arg)
{
    StartUp *su = arg;
    if (pgjob_error(job)) {
        srv_log(su->s, LOG_ERROR, "loading tenants failed: %s", pgjob_error(job));
        su->ok = false;
        startup_release(su);
        return;
    }
    set_horizon(su->s, pgjob_result(job, 1));
    PGresult *r = pgjob_result(job, 0);
    srv_log(su->s, LOG_INFO, "loading the live state of %d tenants", PQntuples(r));
    for (int i = 0; i < PQntuples(r); i++) {
        Tenant *t = tenants_get(su->s->tenants, strtoll(PQgetvalue(r, i, 0), NULL, 10),
                                PQgetvalue(r, i, 1));
        su->pending++;
        t->loading = true;
        if (!load_tenant(su->s, t, su, false)) {
            t->loading = false;
            su->pending--;
            su->ok = false;
        }
    }
    startup_release(su); /* the count's own hold, taken in store_load_all */
}

void store_load_all(Server *s, StoreDone done)
{
    StartUp *su = calloc(1, sizeof(*su));
    if (!su)
        abort();
    su->s = s;
    su->done = done;
    su->ok = true;
    su->pending = 1;
    PgJob *job = pgjob_new(tenants_listed, su);
    pgjob_add(job, sql_tenants, 0, NULL);
    pgjob_add(job, sql_horizon, 0, NULL);
    if (!pgconn_submit(s->pg_reader, job)) {
        pgjob_free(job);
        su->ok = false;
        startup_release(su);
    }
}

void store_load_tenant(Server *s, Tenant *t)
{
    if (t->ready || t->loading)
        return;
    t->loading = true;
    if (!load_tenant(s, t, NULL, false)) {
        srv_log(s, LOG_WARN, "tenant %s: storage unavailable, cannot load its state", t->name);
        tenant_set_loaded(t, false);
    }
}

void store_resync(Server *s, Tenant *t)
{
    if (t->resyncing)
        return;
    t->resyncing = true;
    writer_hold(s->writer);
    if (!load_tenant(s, t, NULL, true)) {
        srv_log(s, LOG_ERROR, "tenant %s: cannot reload state (storage unavailable)", t->name);
        t->resyncing = false;
        writer_release(s->writer);
    }
}

/* ---- configuration changed in storage (kicctl) ---- */

typedef struct Reload {
    Server *s;
    int64_t tenant;
    int64_t user;
} Reload;

static void config_loaded(PgJob *job, void *arg)
{
    Reload *rl = arg;
    Tenant *t = tenants_find(rl->s->tenants, rl->tenant);
    if (t && !pgjob_error(job)) {
        load_categories(t, pgjob_result(job, 0));
        load_queue_teams(t->centre, pgjob_result(job, 1));
        srv_log(rl->s, LOG_INFO, "tenant %s: categories and queue teams reloaded", t->name);
    }
    free(rl);
}

static void logins_loaded(PgJob *job, void *arg)
{
    Server *s = arg;
    if (pgjob_error(job))
        srv_log(s, LOG_WARN, "reading the logins failed: %s", pgjob_error(job));
    else
        logins_load(s->logins, pgjob_result(job, 0));
}

void store_load_logins(Server *s)
{
    PgJob *job = pgjob_new(logins_loaded, s);
    pgjob_add(job, logins_all_sql, 0, NULL);
    if (!pgconn_submit(s->pg_reader, job))
        pgjob_free(job);
}

/* A user created or revoked: sessions of a revoked one end; the logins
 * kicd knows follow. */
/* A revoked agent can no longer log in to go offline: left as it was,
 * their last choice (available, say) would count in the live figures
 * for ever, after a restart too. Offline is stored like a choice of
 * theirs, so that memory and storage agree. */
#define REVOKED_REASON "user revoked"

static void revoked_agent_offline(Server *s, Tenant *t, const char *agent)
{
    const Agent *a = centre_agent(t->centre, agent);
    /* Also an agent who never chose a state (offline, no reason, nothing
     * stored): else the reason is missing and a restart, which lists
     * only active users and stored choices, forgets them. Their claimed
     * callbacks are freed: nobody else may claim or complete them. */
    bool done = !a || (a->chosen == AS_OFFLINE && a->reason && !strcmp(a->reason, REVOKED_REASON));
    if (done && centre_claims_of(t->centre, agent) == 0)
        return;
    Record *rec = record_new(REC_AGENT_STATE, t, NULL);
    snprintf(rec->state.agent, sizeof(rec->state.agent), "%s", agent);
    rec->state.chosen = AS_OFFLINE;
    rec->state.reason = strdup(REVOKED_REASON);
    rec->state.at = server_now();
    rec->state.release_claims = true;
    writer_submit(s->writer, rec);
}

void store_user_revoked(Server *s, int64_t tenant_id, int64_t user_id, const char *agent)
{
    server_end_user(s, tenant_id, user_id, "token revoked");
    Tenant *t = tenants_find(s->tenants, tenant_id);
    if (t && agent && agent[0])
        revoked_agent_offline(s, t, agent);
}

/* Agents whose users were revoked while kicd was not running (so it heard
 * no notification), who are not offline as revoked or hold claimed
 * callbacks: as if the revoke were heard now. (An agent id known only
 * from the telephony platform, without a user, is no one's to revoke.) */
static void revoked_while_away(Server *s, Tenant *t, PGresult *revoked)
{
    for (int i = 0; revoked && i < PQntuples(revoked); i++)
        revoked_agent_offline(s, t, PQgetvalue(revoked, i, 0));
}

static void user_checked(PgJob *job, void *arg)
{
    Reload *rl = arg;
    PGresult *r = pgjob_result(job, 0);
    if (!pgjob_error(job) && r && PQntuples(r) == 1) {
        Session sess;
        Tenant *t = tenants_find(rl->s->tenants, rl->tenant);
        const char *agent = PQgetvalue(r, 0, 3);
        bool is_agent = t && strcmp(PQgetvalue(r, 0, 2), "agent") == 0 && agent[0];
        if (strcmp(PQgetvalue(r, 0, 8), "t") == 0) {
            store_user_revoked(rl->s, rl->tenant, rl->user, is_agent ? agent : NULL);
        } else if (session_from_row(&sess, r, 0)) {
            logins_put(rl->s->logins, PQgetvalue(r, 0, 7), &sess);
            json_decref(sess.teams);
            /* a new agent is listed (offline) before their first act, as
             * after a restart */
            if (is_agent && !centre_agent(t->centre, agent))
                centre_load_agent(t->centre, agent, AS_OFFLINE, KIC_TIME_NONE, NULL,
                                  KIC_TIME_NONE, KIC_TIME_NONE);
        }
    }
    free(rl);
}

void store_on_notify(Server *s, const char *channel, const char *payload)
{
    long long tenant = 0, user = 0;
    Reload *rl = calloc(1, sizeof(*rl));
    if (!rl)
        abort();
    rl->s = s;
    PgJob *job = NULL;
    char tid[24], uid[24];
    if (!strcmp(channel, "kic_users") && sscanf(payload, "%lld:%lld", &tenant, &user) == 2) {
        rl->tenant = tenant;
        rl->user = user;
        snprintf(tid, sizeof(tid), "%lld", tenant);
        snprintf(uid, sizeof(uid), "%lld", user);
        const char *args[] = {tid, uid};
        job = pgjob_new(user_checked, rl);
        pgjob_add(job, "SELECT u.user_id, u.name, u.role, coalesce(u.agent, ''),"
                       " array_to_json(u.teams), t.tenant_id, t.name, encode(u.token_sha256, 'hex'),"
                       " u.revoked_at IS NOT NULL,"
                       " (SELECT (extract(epoch FROM max(p.revoked_at)) * 1000000)::bigint FROM users p WHERE p.tenant_id = u.tenant_id AND p.agent = u.agent AND p.name <> u.name AND p.revoked_at IS NOT NULL) AS agent_since"
                       " FROM users u JOIN tenants t USING (tenant_id)"
                       " WHERE u.tenant_id = $1 AND u.user_id = $2",
                  2, args);
    } else if (!strcmp(channel, "kic_config") && !strncmp(payload, "horizon:", 8)) {
        free(rl);
        job = pgjob_new(horizon_loaded, s);
        pgjob_add(job, sql_horizon, 0, NULL);
        if (!pgconn_submit(s->pg_reader, job))
            pgjob_free(job);
        return;
    } else if (!strcmp(channel, "kic_config") && sscanf(payload, "%*[a-z_]:%lld", &tenant) == 1) {
        rl->tenant = tenant;
        snprintf(tid, sizeof(tid), "%lld", tenant);
        const char *args[] = {tid};
        job = pgjob_new(config_loaded, rl);
        pgjob_add(job, sql_categories, 1, args);
        pgjob_add(job, sql_queue_teams, 1, args);
    }
    if (!job || !pgconn_submit(s->pg_reader, job)) {
        if (job)
            pgjob_free(job);
        free(rl);
    }
}
