/* Audit rows, written with the statement that reads (or just before the
 * reply), on the reader connection. */
#include "audit.h"

#include <jansson.h>
#include <stdlib.h>

static const char sql_audit[] =
    "INSERT INTO audit_log (tenant_id, user_name, role, action, caller_key, subject, peer)"
    " SELECT $1::bigint, $2, $3, $4, x.caller_key, x.subject, $5"
    " FROM json_to_recordset($6::json) AS x(caller_key text, subject text)";

void audit_add(PgJob *job, const Conn *c, const char *action, const char *const *caller_keys,
               const char *const *subjects, size_t n)
{
    json_t *rows = json_array();
    for (size_t i = 0; i < n; i++)
        if (caller_keys[i])
            json_array_append_new(rows, json_pack("{s:s, s:s?}", "caller_key", caller_keys[i],
                                                  "subject", subjects ? subjects[i] : NULL));
    char tenant[24];
    snprintf(tenant, sizeof(tenant), "%lld", (long long)c->sess.tenant_id);
    char *text = json_dumps(rows, JSON_COMPACT);
    const char *args[] = {tenant, c->sess.user, role_name(c->sess.role), action, c->peer, text};
    pgjob_add(job, sql_audit, 6, args);
    free(text);
    json_decref(rows);
}
