/* The token lookup that auth.login and the HTTP API share: a token's
 * SHA-256 (hex) as $1 gives its user, role and tenant, unless revoked. */
#ifndef SESSION_H
#define SESSION_H

#include <libpq-fe.h>

#include "server.h"

extern const char session_login_sql[];

/* The Session of the lookup's row `row` (teams owned by it); false when
 * the row's role is unknown. */
bool session_from_row(Session *s, PGresult *res, int row) KIC_MUST_CHECK;

#endif
