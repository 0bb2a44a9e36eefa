/* The tenants kicd serves: per tenant its live centre (lib/centre), the
 * key for callers' numbers, and which connections are which agent's
 * desktops (for notifications). Created at start-up for every tenant in
 * storage, and on first login for one added since. */
#ifndef TENANTS_H
#define TENANTS_H

#include "centre.h"
#include "events.h"
#include "server.h"
#include "strmap.h"

/* Called once the tenant's live state is loaded (ok) or could not be. */
typedef void (*TenantReady)(void *arg, bool ok);

typedef struct TenantWaiter {
    TenantReady fn;
    void *arg;
} TenantWaiter;

typedef struct Tenant {
    int64_t id;
    char name[KIC_MAX_FIELD_BYTES + 1];
    char id_text[24];
    Centre *centre;
    CallerCtx callers;
    StrMap desktops; /* agent id -> ConnList */
    bool resyncing;  /* its state is being reloaded from storage */
    StrMap categories; /* wrap-up categories (name -> owned name) */
    struct Subscriber **subs; /* live-statistics subscribers (subscribe.h) */
    size_t nsubs, cap_subs;
    char *snap_line; /* the latest snapshot as JSON text, for subscribers */
    size_t snap_len;
    uint64_t snap_version;
    KicTime snap_at;
    /* Its live state is loaded from storage before any of its sessions
     * may act: logins wait for it. */
    bool ready, loading;
    TenantWaiter *waiters;
    size_t nwaiters, cap_waiters;
} Tenant;

typedef struct Tenants Tenants;

Tenants *tenants_new(Server *s);
void tenants_free(Tenants *t);

/* The tenant, created (empty) if kicd has not seen it yet. */
Tenant *tenants_get(Tenants *t, int64_t id, const char *name);
Tenant *tenants_find(const Tenants *t, int64_t id);
/* Iteration: *pos starts at 0. */
bool tenants_next(const Tenants *t, size_t *pos, Tenant **out);

/* The centre configuration the server's config asks for. */
void tenants_centre_config(const Server *s, CentreConfig *out);

/* Agent desktops: a logged-in agent connection joins, a closing one leaves. */
void tenant_desktop_add(Tenant *t, const char *agent, Conn *c);
void tenant_desktop_remove(Tenant *t, const char *agent, Conn *c);
/* Sends a notification to every desktop of the agent. */
void tenant_notify_agent(Tenant *t, const char *agent, const char *method, json_t *params);
/* Whether any desktop of the agent is connected. */
bool tenant_has_desktop(Tenant *t, const char *agent);

/* Runs fn once the tenant is ready (at once if it is). */
void tenant_when_ready(Tenant *t, TenantReady fn, void *arg);
/* The load finished: tells every waiter. */
void tenant_set_loaded(Tenant *t, bool ok);

/* Wrap-up categories: replaced whole when storage says they changed. */
void tenant_set_categories(Tenant *t, const char *const *names, size_t n);
/* The names as a new JSON array, sorted (bytewise). */
json_t *tenant_categories_json(const Tenant *t);
bool tenant_has_category(const Tenant *t, const char *name);

/* Agents whose session lists `team`: a callback for it is announced. */
void tenant_notify_team(Tenant *t, const char *team, const char *method, json_t *params);

/* Rolls every tenant's day (between batches). */
void tenants_roll_day(Tenants *t, KicTime now);

#endif
