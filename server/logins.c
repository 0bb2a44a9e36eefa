/* The logins kicd knows (logins.h). */
#include "logins.h"

#include <stdlib.h>
#include <string.h>

#include "session.h"

typedef struct KnownLogin {
    char hash[TOKEN_HASH_HEX]; /* the map's key */
    Session sess;
} KnownLogin;

const char logins_all_sql[] =
    "SELECT u.user_id, u.name, u.role, coalesce(u.agent, ''), array_to_json(u.teams), "
    "       t.tenant_id, t.name, encode(u.token_sha256, 'hex'),"
    "       (SELECT (extract(epoch FROM max(p.revoked_at)) * 1000000)::bigint FROM users p WHERE p.tenant_id = u.tenant_id AND p.agent = u.agent AND p.name <> u.name AND p.revoked_at IS NOT NULL) AS agent_since "
    "FROM users u JOIN tenants t USING (tenant_id) WHERE u.revoked_at IS NULL";

Logins *logins_new(void)
{
    Logins *l = calloc(1, sizeof(*l));
    if (!l)
        abort();
    return l;
}

static void known_free(KnownLogin *k)
{
    json_decref(k->sess.teams);
    free(k);
}

void logins_forget_hash(Logins *l, const char *hash_hex)
{
    KnownLogin *k = strmap_remove(&l->by_hash, hash_hex);
    if (k)
        known_free(k);
}

static void forget_all(Logins *l)
{
    size_t pos = 0;
    void *v;
    while (strmap_next(&l->by_hash, &pos, NULL, &v))
        known_free(v);
    strmap_free(&l->by_hash);
    l->by_hash = (StrMap)STRMAP_INIT;
}

void logins_free(Logins *l)
{
    if (!l)
        return;
    forget_all(l);
    free(l);
}

void logins_put(Logins *l, const char *hash_hex, const Session *s)
{
    if (strlen(hash_hex) != TOKEN_HASH_HEX - 1)
        return;
    KnownLogin *k = calloc(1, sizeof(*k));
    if (!k)
        abort();
    memcpy(k->hash, hash_hex, TOKEN_HASH_HEX);
    k->sess = *s;
    k->sess.tenant = NULL;
    k->sess.teams = s->teams ? json_deep_copy(s->teams) : json_array();
    if (!k->sess.teams)
        abort();
    logins_forget_hash(l, hash_hex);
    strmap_put(&l->by_hash, k->hash, k);
}

void logins_load(Logins *l, PGresult *rows)
{
    forget_all(l);
    for (int i = 0; i < PQntuples(rows); i++) {
        Session s;
        if (!session_from_row(&s, rows, i))
            continue;
        logins_put(l, PQgetvalue(rows, i, 7), &s);
        json_decref(s.teams);
    }
}

void logins_forget_user(Logins *l, int64_t tenant_id, int64_t user_id)
{
    size_t pos = 0;
    void *v;
    while (strmap_next(&l->by_hash, &pos, NULL, &v)) {
        KnownLogin *k = v;
        if (k->sess.tenant_id == tenant_id && k->sess.user_id == user_id)
            logins_forget_hash(l, k->hash); /* safe: strmap_next allows it */
    }
}

bool logins_get(const Logins *l, const char *hash_hex, Session *out)
{
    const KnownLogin *k = strmap_get(&l->by_hash, hash_hex);
    if (!k)
        return false;
    *out = k->sess;
    out->teams = json_deep_copy(k->sess.teams);
    if (!out->teams)
        abort();
    return true;
}
