/* The audit log (NEN 7513): every read or export of callers' data, and
 * every change to who may read it — who (user, role), which caller key,
 * what (action, subject), when, from which address. A read is answered
 * only after its audit rows are committed (the rows go in the same job,
 * one transaction; a report, which may still be refused as too long
 * after its rows are read, writes its row in a job of its own once it
 * is known to succeed): no audit, no read (-32050 when storage cannot
 * take them). */
#ifndef AUDIT_H
#define AUDIT_H

#include "conn.h"
#include "pg.h"

/* Who acts: a JSON-RPC session or an HTTP API user. */
typedef struct AuditActor {
    int64_t tenant_id;
    int64_t user_id; /* users.user_id */
    const char *user;
    Role role;
    const char *peer;
} AuditActor;

AuditActor audit_actor_of(const Conn *c);

/* Adds to job the statement that records these reads by c's session:
 * one row per caller key (NULL keys are skipped). */
void audit_add(PgJob *job, const Conn *c, const char *action, const char *const *caller_keys,
               const char *const *subjects, size_t n);

/* The head of an INSERT of audit rows, for a statement that records an
 * action only when it happens (a data-modifying CTE): the SELECT that
 * follows gives tenant_id, user_id, user_name, role, action, caller_key,
 * subject, peer. */
#define AUDIT_INSERT \
    "INSERT INTO audit_log (tenant_id, user_id, user_name, role, action, caller_key, subject, peer)"

/* One row with no caller key: an action on the log's subject itself (a
 * user created, an export of agents' figures, a look at the log). */
void audit_add_action(PgJob *job, const AuditActor *who, const char *action, const char *subject);

#endif
