/* kicctl user create|revoke|list. A new token is shown once and only its
 * SHA-256 is stored; the tenant is created on first use. Changes are
 * announced on the kic_users channel so a running kicd can end revoked
 * sessions at once. Both land in the audit log, as they do through
 * kicd's user.create and user.revoke: by "kicctl:<login>", role admin. */
#include <getopt.h>
#include <openssl/rand.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kicctl.h"
#include "params.h"
#include "strbuf.h"
#include "token.h"
#include "utf8.h"

/* Who ran kicctl, for the audit log: the login of the process's user,
 * not $USER, which anyone can set. */
static void operator_name(char *out, size_t n)
{
    const struct passwd *pw = getpwuid(geteuid());
    snprintf(out, n, "kicctl:%s", pw && pw->pw_name ? pw->pw_name : "unknown");
}

/* The audit row of a change, after the CTE u(tenant_id, user_id) that
 * made it: $N is the operator, the subject the user's name. */
#define AUDIT_CHANGE(action, name_param, operator_param)                                        \
    " a AS (INSERT INTO audit_log (tenant_id, user_name, role, action, subject, peer)"           \
    "       SELECT tenant_id, " operator_param ", 'admin', '" action "', " name_param ","         \
    "              inet_client_addr()::text FROM u)"

typedef struct UserArgs {
    const char *tenant, *name, *role, *agent, *teams;
} UserArgs;

static bool parse_user_args(int argc, char **argv, UserArgs *a)
{
    static const struct option longopts[] = {
        {"tenant", required_argument, NULL, 't'}, {"name", required_argument, NULL, 'n'},
        {"role", required_argument, NULL, 'r'},   {"agent", required_argument, NULL, 'a'},
        {"teams", required_argument, NULL, 'T'},  {NULL, 0, NULL, 0},
    };
    int ch;
    while ((ch = getopt_long(argc, argv, "t:n:r:a:T:", longopts, NULL)) != -1) {
        switch (ch) {
        case 't': a->tenant = optarg; break;
        case 'n': a->name = optarg; break;
        case 'r': a->role = optarg; break;
        case 'a': a->agent = optarg; break;
        case 'T': a->teams = optarg; break;
        default: return false;
        }
    }
    return optind == argc;
}

/* "a,b" -> PostgreSQL array literal {"a","b"} (quotes and backslashes
 * escaped); empty, blank or too long items, and control characters, are
 * refused. */
static char *teams_literal(const char *teams)
{
    StrBuf b = STRBUF_INIT;
    strbuf_putc(&b, '{');
    const char *p = teams ? teams : "";
    bool first = true;
    while (*p) {
        const char *end = strchr(p, ',');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        char item[KIC_MAX_FIELD_BYTES + 1];
        if (len == 0 || len > KIC_MAX_FIELD_BYTES || utf8_count(p, len) > KIC_MAX_FIELD) {
            strbuf_free(&b);
            return NULL;
        }
        memcpy(item, p, len);
        item[len] = '\0';
        if (param_short_text_problem(item)) {
            strbuf_free(&b);
            return NULL;
        }
        strbuf_puts(&b, first ? "\"" : ",\"");
        for (size_t i = 0; i < len; i++) {
            if (p[i] == '"' || p[i] == '\\')
                strbuf_putc(&b, '\\');
            strbuf_putc(&b, p[i]);
        }
        strbuf_putc(&b, '"');
        first = false;
        p += len + (end ? 1 : 0);
        if (end && !*p) { /* trailing comma */
            strbuf_free(&b);
            return NULL;
        }
    }
    strbuf_putc(&b, '}');
    return strbuf_steal(&b);
}

static int user_create(PGconn *db, const UserArgs *a)
{
    static const char *const roles[] = {"bridge", "agent", "supervisor", "admin"};
    bool role_ok = false;
    for (size_t i = 0; a->role && i < KIC_ARRAY_LEN(roles); i++)
        role_ok |= strcmp(a->role, roles[i]) == 0;
    if (!role_ok) {
        fprintf(stderr, "kicctl: --role must be bridge, agent, supervisor or admin\n");
        return 2;
    }
    if (!ctl_text_ok("--tenant", a->tenant) || !ctl_text_ok("--name", a->name))
        return 2;
    if (param_user_name_problem(a->name)) {
        fprintf(stderr, "kicctl: --name %s\n", param_user_name_problem(a->name));
        return 2;
    }
    const char *agent = a->agent;
    if (agent && strcmp(a->role, "agent") != 0) {
        fprintf(stderr, "kicctl: --agent is only for users with the role agent\n");
        return 2;
    }
    if (!agent && strcmp(a->role, "agent") == 0)
        agent = a->name; /* an agent is known by their user name unless told */
    if (agent && !ctl_text_ok("--agent", agent))
        return 2;
    char *teams = teams_literal(a->teams);
    if (!teams) {
        fprintf(stderr, "kicctl: --teams must be a comma-separated list of names\n");
        return 2;
    }
    unsigned char random[24];
    if (RAND_bytes(random, sizeof(random)) != 1) {
        fprintf(stderr, "kicctl: no randomness available for a token\n");
        free(teams);
        return 1;
    }
    char token[53], hash[TOKEN_HASH_HEX];
    token_format(random, token);
    token_hash_hex(token, hash);
    char operator[300];
    operator_name(operator, sizeof(operator));
    const char *params[] = {a->tenant, a->name, a->role, agent, teams, hash, operator};
    PGresult *r = ctl_exec(
        db,
        "WITH t AS (INSERT INTO tenants (name) VALUES ($1) ON CONFLICT (name) DO UPDATE"
        "           SET name = EXCLUDED.name RETURNING tenant_id),"
        " u AS (INSERT INTO users (tenant_id, name, role, agent, teams, token_sha256)"
        "       SELECT tenant_id, $2, $3, $4, $5::text[], decode($6, 'hex') FROM t"
        "       RETURNING tenant_id, user_id),"
        AUDIT_CHANGE("user.create", "$2", "$7")
        "SELECT pg_notify('kic_users', tenant_id || ':' || user_id) FROM u",
        7, params);
    free(teams);
    if (!r)
        return 1;
    PQclear(r);
    printf("created %s '%s' in tenant '%s'%s%s\n", a->role, a->name, a->tenant,
           agent ? " as agent " : "", agent ? agent : "");
    printf("token (shown once; only its hash is kept):\n%s\n", token);
    return 0;
}

static int user_revoke(PGconn *db, const UserArgs *a)
{
    if (!ctl_text_ok("--tenant", a->tenant) || !ctl_text_ok("--name", a->name))
        return 2;
    if (param_user_name_problem(a->name)) {
        fprintf(stderr, "kicctl: --name %s\n", param_user_name_problem(a->name));
        return 2;
    }
    char operator[300];
    operator_name(operator, sizeof(operator));
    const char *params[] = {a->tenant, a->name, operator};
    PGresult *r = ctl_exec(
        db,
        "WITH u AS (UPDATE users SET revoked_at = now()"
        "           WHERE tenant_id = (SELECT tenant_id FROM tenants WHERE name = $1)"
        "             AND name = $2 AND revoked_at IS NULL RETURNING tenant_id, user_id),"
        AUDIT_CHANGE("user.revoke", "$2", "$3")
        "SELECT pg_notify('kic_users', tenant_id || ':' || user_id) FROM u",
        3, params);
    if (!r)
        return 1;
    int n = PQntuples(r);
    PQclear(r);
    if (n == 0) {
        fprintf(stderr, "kicctl: no active user '%s' in tenant '%s'\n", a->name, a->tenant);
        return 1;
    }
    printf("revoked '%s' in tenant '%s'\n", a->name, a->tenant);
    return 0;
}

static int user_list(PGconn *db, const UserArgs *a)
{
    const char *params[] = {a->tenant};
    PGresult *r = ctl_exec(
        db,
        "SELECT t.name, u.name, u.role, coalesce(u.agent, '-'), array_to_string(u.teams, ','),"
        "       to_char(u.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI'),"
        "       coalesce(to_char(u.revoked_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI'), '-')"
        " FROM users u JOIN tenants t USING (tenant_id)"
        " WHERE $1::text IS NULL OR t.name = $1"
        " ORDER BY t.name, u.name, u.created_at",
        1, params);
    if (!r)
        return 1;
    printf("%-16s %-20s %-10s %-16s %-16s %-17s %s\n", "TENANT", "NAME", "ROLE", "AGENT",
           "TEAMS", "CREATED (UTC)", "REVOKED (UTC)");
    for (int i = 0; i < PQntuples(r); i++)
        printf("%-16s %-20s %-10s %-16s %-16s %-17s %s\n", PQgetvalue(r, i, 0),
               PQgetvalue(r, i, 1), PQgetvalue(r, i, 2), PQgetvalue(r, i, 3),
               *PQgetvalue(r, i, 4) ? PQgetvalue(r, i, 4) : "-", PQgetvalue(r, i, 5),
               PQgetvalue(r, i, 6));
    PQclear(r);
    return 0;
}

int cmd_user(const CtlOptions *o, int argc, char **argv)
{
    static const char usage[] =
        "usage: kicctl user create --tenant T --name N --role ROLE [--agent ID] [--teams a,b]\n"
        "       kicctl user revoke --tenant T --name N\n"
        "       kicctl user list [--tenant T]\n";
    if (argc < 2) {
        fputs(usage, stderr);
        return 2;
    }
    const char *action = argv[1];
    UserArgs a = {0};
    if (!parse_user_args(argc - 1, argv + 1, &a)) {
        fputs(usage, stderr);
        return 2;
    }
    int (*run)(PGconn *, const UserArgs *) = NULL;
    if (strcmp(action, "create") == 0)
        run = user_create;
    else if (strcmp(action, "revoke") == 0)
        run = user_revoke;
    else if (strcmp(action, "list") == 0)
        run = user_list;
    if (!run) {
        fputs(usage, stderr);
        return 2;
    }
    PGconn *db = ctl_connect(o);
    if (!db)
        return 1;
    int rc = run(db, &a);
    PQfinish(db);
    return rc;
}
