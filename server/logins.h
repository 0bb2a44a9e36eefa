/* The logins kicd can check without PostgreSQL (DESIGN.md "Durability":
 * agents and supervisors keep working while it is unreachable). Every
 * active user's token hash with its session, read whenever the reader
 * connection comes up, kept current from kic_users and from every login
 * that storage answers. auth.login uses it only when storage cannot
 * answer; a token storage refuses is forgotten at once. */
#ifndef LOGINS_H
#define LOGINS_H

#include <libpq-fe.h>

#include "server.h"
#include "strmap.h"
#include "token.h"

struct Logins {
    StrMap by_hash; /* token SHA-256 (hex) -> KnownLogin */
};

/* What the lookup of every active user selects: session_login_sql's
 * columns, then the token hash in hex. */
extern const char logins_all_sql[];

Logins *logins_new(void);
void logins_free(Logins *l);
/* Replaces everything with the rows of logins_all_sql. */
void logins_load(Logins *l, PGresult *rows);
/* Remembers (a copy of) the session of a token hash. */
void logins_put(Logins *l, const char *hash_hex, const Session *s);
void logins_forget_hash(Logins *l, const char *hash_hex);
void logins_forget_user(Logins *l, int64_t tenant_id, int64_t user_id);
/* The session of a token hash (teams copied, tenant unset): false when
 * unknown. */
bool logins_get(const Logins *l, const char *hash_hex, Session *out) KIC_MUST_CHECK;

#endif
