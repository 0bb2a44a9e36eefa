/* Audit rows, written with the statement that reads (or just before the
 * reply), on the reader connection. */
#include "audit.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "utf8.h"

static const char sql_audit[] =
    AUDIT_INSERT
    " SELECT $1::bigint, $7::bigint, $2, $3, $4, x.caller_key, x.subject, $5"
    " FROM json_to_recordset($6::json) AS x(caller_key text, subject text)";

AuditActor audit_actor_of(const Conn *c)
{
    return (AuditActor){c->sess.tenant_id, c->sess.user_id, c->sess.user, c->sess.role, c->peer};
}

static void add_rows(PgJob *job, const AuditActor *who, const char *action, json_t *rows)
{
    char tenant[24], user_id[24];
    snprintf(tenant, sizeof(tenant), "%lld", (long long)who->tenant_id);
    snprintf(user_id, sizeof(user_id), "%lld", (long long)who->user_id);
    char *text = json_dumps(rows, JSON_COMPACT);
    const char *args[] = {tenant, who->user, role_name(who->role), action, who->peer, text, user_id};
    pgjob_add(job, sql_audit, 7, args);
    free(text);
}

/* A subject as JSON text. Subjects quote clients and may be cut to a
 * buffer (a name cut inside a character): JSON takes only valid UTF-8,
 * and a row that cannot be encoded would be a read left out of the log. */
static json_t *subject_text(const char *subject)
{
    if (!subject)
        return json_null();
    char *copy = strdup(subject);
    if (!copy)
        abort();
    utf8_scrub(copy);
    json_t *text = json_string(copy);
    free(copy);
    if (!text)
        abort(); /* scrubbed: valid */
    return text;
}

void audit_add(PgJob *job, const Conn *c, const char *action, const char *const *caller_keys,
               const char *const *subjects, size_t n)
{
    json_t *rows = json_array();
    for (size_t i = 0; i < n; i++)
        if (caller_keys[i])
            json_array_append_new(rows, json_pack("{s:s, s:o}", "caller_key", caller_keys[i], "subject",
                                                  subject_text(subjects ? subjects[i] : NULL)));
    AuditActor who = audit_actor_of(c);
    add_rows(job, &who, action, rows);
    json_decref(rows);
}

void audit_add_action(PgJob *job, const AuditActor *who, const char *action, const char *subject)
{
    json_t *rows = json_pack("[{s:n, s:o}]", "caller_key", "subject", subject_text(subject));
    add_rows(job, who, action, rows);
    json_decref(rows);
}
