/* Reading live state back from PostgreSQL: at start-up every tenant's
 * recent calls (cache_days), agents and their choices; for a batch the
 * old calls it touches; and after a write that failed unexpectedly, a
 * tenant's whole state again (memory must follow storage). Events are
 * re-read through the same parser that accepted them. */
#ifndef STORE_H
#define STORE_H

#include <libpq-fe.h>

#include "centre.h"
#include "server.h"
#include "tenants.h"

typedef void (*StoreDone)(Server *s, bool ok);

/* Loads all tenants on the reader connection; done(ok) when finished. */
void store_load_all(Server *s, StoreDone done);
/* Reads every active user's token hash and session (logins.h). */
void store_load_logins(Server *s);

/* Merges the results of the writer's load statements (events, calls'
 * repeat flags, wrap-ups) into the tenants' centres. */
void store_merge_calls(Server *s, PGresult *events, PGresult *calls, PGresult *wrapups,
                       Effects *fx);

/* Rebuilds a tenant's live state from storage. The writer holds new
 * batches until it is done. */
void store_resync(Server *s, Tenant *t);

/* Loads a tenant that appeared after start-up (its calls, agents,
 * categories, callbacks), unless it is loaded or loading; the tenant's
 * waiters hear when it is done. */
void store_load_tenant(Server *s, Tenant *t);

/* A notification from storage: kic_users (a token created or revoked:
 * revoked ones lose their sessions at once) or kic_config (categories or
 * queue teams of a tenant changed). */
void store_on_notify(Server *s, const char *channel, const char *payload);

/* A user revoked: their sessions end now, and an agent is set offline
 * with reason "user revoked" and their claimed callbacks freed. agent:
 * "" or NULL for a user who is no agent. */
void store_user_revoked(Server *s, int64_t tenant_id, int64_t user_id, const char *agent);

#endif
