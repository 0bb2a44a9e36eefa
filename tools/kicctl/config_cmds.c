/* kicctl category and kicctl queue-team: a tenant's wrap-up categories and
 * which care team a queue's callbacks go to. kicd hears of a change on the
 * kic_config channel and reloads that tenant's lists. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kicctl.h"
#include "utf8.h"

typedef struct ConfigArgs {
    const char *tenant, *name, *queue, *team;
} ConfigArgs;

static bool parse_args(int argc, char **argv, ConfigArgs *a)
{
    static const struct option longopts[] = {
        {"tenant", required_argument, NULL, 't'}, {"name", required_argument, NULL, 'n'},
        {"queue", required_argument, NULL, 'q'},  {"team", required_argument, NULL, 'T'},
        {NULL, 0, NULL, 0},
    };
    int ch;
    while ((ch = getopt_long(argc, argv, "t:n:q:T:", longopts, NULL)) != -1) {
        switch (ch) {
        case 't': a->tenant = optarg; break;
        case 'n': a->name = optarg; break;
        case 'q': a->queue = optarg; break;
        case 'T': a->team = optarg; break;
        default: return false;
        }
    }
    return optind == argc && a->tenant;
}

static const char notify[] =
    " SELECT pg_notify('kic_config', $2 || ':' || tenant_id) FROM tenants WHERE name = $1";

/* Runs one change and announces it; false when the tenant is unknown. */
static int change(PGconn *db, const char *sql, const char *what, const char *const *params,
                  int nparams, const char *tenant)
{
    PGresult *r = ctl_exec(db, "BEGIN", 0, NULL);
    PQclear(r);
    r = ctl_exec(db, sql, nparams, params);
    if (!r) {
        PQclear(ctl_exec(db, "ROLLBACK", 0, NULL));
        return 1;
    }
    int changed = atoi(PQcmdTuples(r));
    PQclear(r);
    const char *np[] = {tenant, what};
    PQclear(ctl_exec(db, notify, 2, np));
    PQclear(ctl_exec(db, "COMMIT", 0, NULL));
    return changed > 0 ? 0 : 1;
}

int cmd_category(const CtlOptions *o, int argc, char **argv)
{
    static const char usage[] = "usage: kicctl category list|add|remove --tenant T [--name N]\n";
    ConfigArgs a = {0};
    if (argc < 2 || !parse_args(argc - 1, argv + 1, &a)) {
        fputs(usage, stderr);
        return 2;
    }
    const char *action = argv[1];
    bool needs_name = strcmp(action, "list") != 0;
    if (needs_name && !ctl_text_ok("--name", a.name)) {
        fputs(usage, stderr);
        return 2;
    }
    PGconn *db = ctl_connect(o);
    if (!db)
        return 1;
    int rc = 2;
    const char *params[] = {a.tenant, a.name};
    if (!strcmp(action, "list")) {
        PGresult *r = ctl_exec(db,
                               "SELECT c.name FROM categories c JOIN tenants t USING (tenant_id)"
                               " WHERE t.name = $1 ORDER BY c.name",
                               1, params);
        rc = r ? 0 : 1;
        for (int i = 0; r && i < PQntuples(r); i++)
            printf("%s\n", PQgetvalue(r, i, 0));
        PQclear(r);
    } else if (!strcmp(action, "add")) {
        rc = change(db,
                    "INSERT INTO categories (tenant_id, name)"
                    " SELECT tenant_id, $2 FROM tenants WHERE name = $1 ON CONFLICT DO NOTHING",
                    "categories", params, 2, a.tenant);
        printf(rc == 0 ? "added '%s'\n" : "'%s' not added (unknown tenant, or already there)\n",
               a.name);
    } else if (!strcmp(action, "remove")) {
        rc = change(db,
                    "DELETE FROM categories WHERE name = $2"
                    " AND tenant_id = (SELECT tenant_id FROM tenants WHERE name = $1)",
                    "categories", params, 2, a.tenant);
        printf(rc == 0 ? "removed '%s'\n" : "'%s' not found\n", a.name);
    } else {
        fputs(usage, stderr);
    }
    PQfinish(db);
    return rc;
}

int cmd_queue_team(const CtlOptions *o, int argc, char **argv)
{
    static const char usage[] =
        "usage: kicctl queue-team set --tenant T --queue Q --team TEAM\n"
        "       kicctl queue-team remove --tenant T --queue Q\n"
        "       kicctl queue-team list --tenant T\n";
    ConfigArgs a = {0};
    if (argc < 2 || !parse_args(argc - 1, argv + 1, &a)) {
        fputs(usage, stderr);
        return 2;
    }
    const char *action = argv[1];
    if ((a.queue && !ctl_text_ok("--queue", a.queue)) || (a.team && !ctl_text_ok("--team", a.team))) {
        fputs(usage, stderr);
        return 2;
    }
    PGconn *db = ctl_connect(o);
    if (!db)
        return 1;
    int rc = 2;
    const char *params[] = {a.tenant, a.queue, a.team};
    if (!strcmp(action, "list")) {
        PGresult *r = ctl_exec(db,
                               "SELECT q.queue, q.team FROM queue_teams q JOIN tenants t"
                               " USING (tenant_id) WHERE t.name = $1 ORDER BY q.queue",
                               1, params);
        rc = r ? 0 : 1;
        for (int i = 0; r && i < PQntuples(r); i++)
            printf("%-30s %s\n", PQgetvalue(r, i, 0), PQgetvalue(r, i, 1));
        PQclear(r);
    } else if (!strcmp(action, "set") && a.queue && a.team && *a.queue && *a.team) {
        rc = change(db,
                    "INSERT INTO queue_teams (tenant_id, queue, team)"
                    " SELECT tenant_id, $2, $3 FROM tenants WHERE name = $1"
                    " ON CONFLICT (tenant_id, queue) DO UPDATE SET team = EXCLUDED.team",
                    "queue_teams", params, 3, a.tenant);
        printf(rc == 0 ? "callbacks of %s go to %s\n" : "unknown tenant\n", a.queue, a.team);
    } else if (!strcmp(action, "remove") && a.queue) {
        rc = change(db,
                    "DELETE FROM queue_teams WHERE queue = $2"
                    " AND tenant_id = (SELECT tenant_id FROM tenants WHERE name = $1)",
                    "queue_teams", params, 2, a.tenant);
        printf(rc == 0 ? "removed %s\n" : "%s had no team\n", a.queue);
    } else {
        fputs(usage, stderr);
    }
    PQfinish(db);
    return rc;
}
