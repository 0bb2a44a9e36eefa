/* The server's core types: roles, the server context, sessions.
 * Everything mutable that lives longer than one callback hangs off Server;
 * there are no other globals. Modules get the Server through their objects. */
#ifndef SERVER_H
#define SERVER_H

#include <event2/event.h>
#include <jansson.h>

#include "config.h"
#include "kic.h"
#include "kictime.h"
#include "log.h"

/* Roles, in the order of their bits. ROLE_ANON marks methods callable
 * before login (only auth.login). */
#define ROLES(X)                         \
    X(ROLE_BRIDGE, "bridge")             \
    X(ROLE_AGENT, "agent")               \
    X(ROLE_SUPERVISOR, "supervisor")     \
    X(ROLE_ADMIN, "admin")

#define ROLE_ENUM(name, text) name,
typedef enum { ROLE_NONE = -1, ROLES(ROLE_ENUM) ROLE_COUNT } Role;
#undef ROLE_ENUM

#define ROLE_BIT(r) (1u << (r))
#define ROLE_ANON (1u << ROLE_COUNT)
#define ROLES_ANY (ROLE_BIT(ROLE_BRIDGE) | ROLE_BIT(ROLE_AGENT) | ROLE_BIT(ROLE_SUPERVISOR) | ROLE_BIT(ROLE_ADMIN))
#define ROLES_SUPERVISING (ROLE_BIT(ROLE_SUPERVISOR) | ROLE_BIT(ROLE_ADMIN))

const char *role_name(Role r);
bool role_parse(const char *name, Role *out) KIC_MUST_CHECK;

typedef struct Conn Conn;
typedef struct PgConn PgConn;
typedef struct Writer Writer;
typedef struct Tenants Tenants;
typedef struct Logins Logins;
typedef struct Tenant Tenant;
typedef struct Http Http;
typedef struct Journal Journal;
typedef struct Listener Listener;
typedef struct Metrics Metrics;

/* Who a connection is, once logged in. */
typedef struct Session {
    bool authenticated;
    Role role;
    int64_t tenant_id;
    Tenant *tenant;
    int64_t user_id;
    char tenant_name[KIC_MAX_FIELD_BYTES + 1];
    char user[KIC_MAX_FIELD_BYTES + 1];
    char agent[KIC_MAX_FIELD_BYTES + 1]; /* empty when the user is no agent */
    /* Since when the agent id is this person's: an agent id is handed out
     * again after a revoke, and what was done under it before the latest
     * revocation of a user of another name was that user's (need to know:
     * caller.history, call.wrapup). KIC_TIME_NONE: nobody else had it (a
     * user revoked and made again under the same name, a new token, is
     * the same person). */
    KicTime agent_since;
    json_t *teams;                 /* array of strings, owned */
} Session;

typedef struct Server {
    struct event_base *base;
    Config cfg;
    ConfigSources sources; /* where cfg was read from; SIGHUP reads them again */
    LogLevel log_level;
    KicTime started_at;

    Listener *listener;
    Http *http;
    struct ssl_ctx_st *tls; /* NULL without TLS */

    Conn *conns;       /* every open connection (doubly linked) */
    Conn *closed;      /* closed, freed by the reaper after this loop turn */
    size_t nconns;
    size_t conns_by_role[ROLE_COUNT];
    Conn *login_wait_oldest, *login_wait_newest; /* not logged in (conn.h) */
    LogThrottle refused_logins; /* bad tokens: a log line a second at most */
    uint64_t next_conn_id;
    struct event *reaper;

    PgConn *pg_writer; /* group commits */
    const char *writer_setup[9]; /* its session's settings (main.c), NULL-ended */
    char writer_lock_sql[2048];   /* its lock (writer_lock.h) */
    KicTime writer_refused_since; /* its lock held elsewhere since (monotonic) */
    KicTime writer_refused_last;
    char writer_tz_sql[300];
    PgConn *pg_reader; /* logins, loads, short reads: never blocks a commit */
    PgConn *pg_reports; /* reports, which may take seconds: never hold up a login */
    Writer *writer;
    Tenants *tenants;
    Logins *logins; /* tokens checked without storage (logins.h) */
    bool ready;   /* live state loaded: serving */
    bool loading; /* the live state is being read */
    struct event *ev_maintain;
    struct event *ev_midnight;
    long maintain_ticks;
    KicTime last_purge; /* the retention job's last run */
    KicTime purged_before; /* retention's horizon: events before it are re-sends */
    Journal *journal;
    Metrics *metrics;

    struct Signals *signals; /* SIGTERM, SIGINT, SIGHUP (signals.h) */
    struct event *ev_drain;
    bool draining;
    KicTime drain_started;
    int exit_code;
} Server;

/* Current time (wall clock) as KicTime. The only clock read in the server;
 * the domain library is handed its times. */
KicTime server_now(void);

void srv_log(const Server *s, LogLevel level, const char *fmt, ...) KIC_PRINTF(3, 4);

/* Closes every session of a user (a revoked token). */
void server_end_user(Server *s, int64_t tenant_id, int64_t user_id, const char *why);

/* Storage holds everything acknowledged (the journal is replayed): the
 * live state may be loaded from it. */
void server_storage_caught_up(Server *s);

/* Starts an orderly stop: no new connections, replies flushed, exit. */
void server_shutdown(Server *s, int exit_code);

#endif
