/* Tenant registry. */
#include "tenants.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conn.h"

typedef struct ConnList {
    char *agent;
    Conn **conns;
    size_t n, cap;
} ConnList;

struct Tenants {
    Server *srv;
    StrMap by_id; /* id_text -> Tenant */
};

Tenants *tenants_new(Server *s)
{
    Tenants *t = calloc(1, sizeof(*t));
    if (t)
        t->srv = s;
    return t;
}

static void tenant_free(Tenant *t)
{
    size_t pos = 0;
    void *v;
    while (strmap_next(&t->desktops, &pos, NULL, &v)) {
        ConnList *l = v;
        free(l->agent);
        free(l->conns);
        free(l);
    }
    strmap_free(&t->desktops);
    for (pos = 0; strmap_next(&t->categories, &pos, NULL, &v);)
        free(v);
    strmap_free(&t->categories);
    centre_free(t->centre);
    caller_keyer_free(t->callers.keyer);
    free(t->subs); /* empty: their connections closed first */
    free(t->snap_line);
    free(t->waiters); /* none left: a pending load fails its waiters first */
    free(t);
}

void tenants_free(Tenants *t)
{
    if (!t)
        return;
    size_t pos = 0;
    void *v;
    while (strmap_next(&t->by_id, &pos, NULL, &v))
        tenant_free(v);
    strmap_free(&t->by_id);
    free(t);
}

void tenants_centre_config(const Server *s, CentreConfig *out)
{
    memset(out, 0, sizeof(*out));
    out->metric.sl_threshold_us = s->cfg.sl_threshold_s * KIC_USEC;
    out->metric.short_abandon_us = s->cfg.short_abandon_s * KIC_USEC;
    out->repeat_window_days = (int)s->cfg.repeat_window_days;
    out->cache_days = (int)s->cfg.cache_days;
    out->notice_max_age_us = 3600 * KIC_USEC;
    out->callback_due_us = s->cfg.callback_due_hours * 3600 * KIC_USEC;
}

Tenant *tenants_find(const Tenants *t, int64_t id)
{
    char key[24];
    snprintf(key, sizeof(key), "%lld", (long long)id);
    return strmap_get(&t->by_id, key);
}

Tenant *tenants_get(Tenants *t, int64_t id, const char *name)
{
    Tenant *tn = tenants_find(t, id);
    if (tn)
        return tn;
    tn = calloc(1, sizeof(*tn));
    if (!tn)
        abort();
    tn->id = id;
    snprintf(tn->id_text, sizeof(tn->id_text), "%lld", (long long)id);
    snprintf(tn->name, sizeof(tn->name), "%s", name);
    CentreConfig cc;
    tenants_centre_config(t->srv, &cc);
    tn->centre = centre_new(id, &cc, server_now());
    if (!tn->centre)
        abort();
    tn->callers.country_code = t->srv->cfg.country_code;
    caller_tenant_key(t->srv->cfg.secret, name, tn->callers.tenant_key);
    tn->callers.keyer = caller_keyer_new(tn->callers.tenant_key);
    if (!tn->callers.keyer)
        abort();
    strmap_put(&t->by_id, tn->id_text, tn);
    return tn;
}

bool tenants_next(const Tenants *t, size_t *pos, Tenant **out)
{
    void *v;
    if (!strmap_next(&t->by_id, pos, NULL, &v))
        return false;
    *out = v;
    return true;
}

void tenant_desktop_add(Tenant *t, const char *agent, Conn *c)
{
    ConnList *l = strmap_get(&t->desktops, agent);
    if (!l) {
        l = calloc(1, sizeof(*l));
        if (!l || !(l->agent = strdup(agent)))
            abort();
        strmap_put(&t->desktops, l->agent, l);
    }
    if (l->n == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 2;
        l->conns = realloc(l->conns, l->cap * sizeof(Conn *));
        if (!l->conns)
            abort();
    }
    l->conns[l->n++] = c;
}

void tenant_desktop_remove(Tenant *t, const char *agent, Conn *c)
{
    ConnList *l = strmap_get(&t->desktops, agent);
    if (!l)
        return;
    for (size_t i = 0; i < l->n; i++) {
        if (l->conns[i] == c) {
            l->conns[i] = l->conns[--l->n];
            break;
        }
    }
    if (l->n == 0) {
        strmap_remove(&t->desktops, l->agent);
        free(l->agent);
        free(l->conns);
        free(l);
    }
}

bool tenant_has_desktop(Tenant *t, const char *agent)
{
    ConnList *l = strmap_get(&t->desktops, agent);
    return l && l->n > 0;
}

void tenant_notify_agent(Tenant *t, const char *agent, const char *method, json_t *params)
{
    ConnList *l = strmap_get(&t->desktops, agent);
    if (!l)
        return;
    /* Copy first: a slow desktop may be dropped (and leave the list). */
    size_t n = l->n;
    Conn **targets = malloc(n * sizeof(Conn *));
    if (!targets)
        abort();
    memcpy(targets, l->conns, n * sizeof(Conn *));
    for (size_t i = 0; i < n; i++)
        conn_notify(targets[i], method, params);
    free(targets);
}

void tenant_set_categories(Tenant *t, const char *const *names, size_t n)
{
    size_t pos = 0;
    void *v;
    while (strmap_next(&t->categories, &pos, NULL, &v))
        free(v);
    strmap_free(&t->categories);
    for (size_t i = 0; i < n; i++) {
        char *name = strdup(names[i]);
        if (!name)
            abort();
        char *old = strmap_put(&t->categories, name, name);
        if (old && old != name)
            free(old);
    }
}

bool tenant_has_category(const Tenant *t, const char *name)
{
    return strmap_get(&t->categories, name) != NULL;
}

static int compare_names(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

json_t *tenant_categories_json(const Tenant *t)
{
    size_t n = t->categories.count, pos = 0, i = 0;
    const char **names = calloc(n ? n : 1, sizeof(*names));
    if (!names)
        abort();
    const char *name;
    while (i < n && strmap_next(&t->categories, &pos, &name, NULL))
        names[i++] = name;
    qsort(names, i, sizeof(*names), compare_names);
    json_t *list = json_array();
    for (size_t k = 0; k < i; k++)
        json_array_append_new(list, json_string(names[k]));
    free(names);
    return list;
}

static bool session_in_team(const Conn *c, const char *team)
{
    size_t i;
    json_t *v;
    json_array_foreach(c->sess.teams, i, v)
    {
        if (strcmp(json_string_value(v), team) == 0)
            return true;
    }
    return false;
}

/* The tenant's agent desktops (copied: a slow receiver may be dropped,
 * and leave the lists, while we send). */
static size_t tenant_conns(Tenant *t, Conn ***out)
{
    size_t n = 0, cap = 16;
    Conn **list = malloc(cap * sizeof(Conn *));
    size_t pos = 0;
    void *v;
    while (list && strmap_next(&t->desktops, &pos, NULL, &v)) {
        ConnList *l = v;
        for (size_t i = 0; i < l->n; i++) {
            if (n == cap) {
                cap *= 2;
                Conn **nl = realloc(list, cap * sizeof(Conn *));
                if (!nl)
                    abort();
                list = nl;
            }
            list[n++] = l->conns[i];
        }
    }
    if (!list)
        abort();
    *out = list;
    return n;
}

void tenant_notify_team(Tenant *t, const char *team, const char *method, json_t *params)
{
    Conn **list;
    size_t n = tenant_conns(t, &list);
    for (size_t i = 0; i < n; i++)
        if (session_in_team(list[i], team))
            conn_notify(list[i], method, params);
    free(list);
}

void tenants_roll_day(Tenants *t, KicTime now)
{
    size_t pos = 0;
    Tenant *tn;
    while (tenants_next(t, &pos, &tn))
        centre_roll_day(tn->centre, now);
}

void tenant_when_ready(Tenant *t, TenantReady fn, void *arg)
{
    if (t->ready) {
        fn(arg, true);
        return;
    }
    if (t->nwaiters == t->cap_waiters) {
        t->cap_waiters = t->cap_waiters ? t->cap_waiters * 2 : 4;
        t->waiters = realloc(t->waiters, t->cap_waiters * sizeof(*t->waiters));
        if (!t->waiters)
            abort();
    }
    t->waiters[t->nwaiters++] = (TenantWaiter){fn, arg};
}

void tenant_set_loaded(Tenant *t, bool ok)
{
    t->loading = false;
    t->ready = ok;
    /* a waiter may start another load (and wait again): take the list */
    TenantWaiter *w = t->waiters;
    size_t n = t->nwaiters;
    t->waiters = NULL;
    t->nwaiters = t->cap_waiters = 0;
    for (size_t i = 0; i < n; i++)
        w[i].fn(w[i].arg, ok);
    free(w);
}
