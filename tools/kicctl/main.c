/* kicctl: the operator's and supervisor's command-line tool.
 *   kicctl [--pg CONNINFO] migrate
 *   kicctl [--pg CONNINFO] user create|revoke|list ...
 *   kicctl [--server HOST:PORT] [--token TOKEN] live|report ...
 * Options before the command are global; each command parses its own. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kicctl.h"
#include "params.h"
#include "utf8.h"

typedef struct Command {
    const char *name;
    int (*run)(const CtlOptions *o, int argc, char **argv);
    const char *usage;
    bool own_help; /* answers --help itself, at more length */
} Command;

static const Command commands[] = {
    {"migrate", cmd_migrate, "migrate [--dir DIR]          apply migrations/NNNN_*.sql in order", false},
    {"user", cmd_user,
     "user create --tenant T --name N --role bridge|agent|supervisor|admin\n"
     "                [--agent ID] [--teams a,b]        print a new token (last line)\n"
     "  user revoke --tenant T --name N\n"
     "  user list [--tenant T]", false},
    {"category", cmd_category,
     "category list|add|remove --tenant T [--name N]   wrap-up categories", false},
    {"queue-team", cmd_queue_team,
     "queue-team list|set|remove --tenant T [--queue Q] [--team TEAM]\n"
     "                                      the care team of a queue's callbacks", false},
    {"purge", cmd_purge,
     "purge [--days N]                     retention now: events and notes older than N\n"
     "                                      days (kicd's retention_days), old audit rows", false},
    {"import-queue-log", cmd_import_queue_log,
     "import-queue-log [--dry-run] [--id-prefix P] [--agent-map F] [--agent-id name|interface]\n"
     "                [--transfer-kind EXTEN@CONTEXT=KIND]... [--default-kind KIND]\n"
     "                [--timeout-as ended|abandoned] [--window N] FILE|-\n"
     "                                      send an Asterisk queue_log to kicd (bridge token)", false},
    {"live", cmd_live,
     "live [--interval-ms N] [--queues a,b] [--once]\n"
     "                                      live statistics, redrawn in place (supervisor token)",
     true},
    {"report", cmd_report,
     "report --from T --to T --interval 15m|30m|1h|1d|1w|1mo|all [--group-by a,b]\n"
     "                [--tz ZONE] [--format table|csv|json|html] [--columns a,b|all]\n"
     "                [--output FILE] [--lang nl|en]\n"
     "                                      report.query as a table, CSV, JSON or an HTML page\n"
     "                                      (supervisor token; T: RFC 3339 or YYYY-MM-DD)",
     true},
};

/* "kicctl COMMAND ... --help" (or -h): every command answers it, exit 0. */
static bool asks_help(int argc, char **argv)
{
    for (int i = 1; i < argc; i++)
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
            return true;
    return false;
}

static void usage(FILE *out)
{
    fprintf(out, "usage: kicctl [--pg CONNINFO] [--server HOST:PORT] [--token TOKEN]\n"
                 "              [--tls] [--tls-ca FILE] COMMAND ...\n\n"
                 "commands:\n");
    for (size_t i = 0; i < KIC_ARRAY_LEN(commands); i++)
        fprintf(out, "  %s\n", commands[i].usage);
    fprintf(out, "\nWithout --pg: KIC_PG, then libpq's PG* variables. Without --server:\n"
                 "KIC_SERVER, then 127.0.0.1:7411. Without --token: KIC_TOKEN.\n"
                 "--tls speaks TLS to kicd (for [tls] listeners), trusting the system's CAs;\n"
                 "--tls-ca FILE (or KIC_TLS_CA) trusts the CA certificates in FILE instead.\n"
                 "The certificate must name the host of --server.\n");
}

static const char *env_or(const char *value, const char *env, const char *fallback)
{
    if (value)
        return value;
    const char *e = getenv(env);
    return e && *e ? e : fallback;
}

bool ctl_text_ok(const char *what, const char *s)
{
    if (!s || !*s || utf8_count(s, strlen(s)) > KIC_MAX_FIELD) {
        fprintf(stderr, "kicctl: %s must be 1 to %d characters\n", what, KIC_MAX_FIELD);
        return false;
    }
    const char *problem = param_short_text_problem(s);
    if (problem) {
        fprintf(stderr, "kicctl: %s %s\n", what, problem);
        return false;
    }
    return true;
}

PGconn *ctl_connect(const CtlOptions *o)
{
    const char *keys[] = {"dbname", "application_name", NULL};
    const char *vals[] = {o->pg ? o->pg : "", "kicctl", NULL};
    PGconn *db = PQconnectdbParams(keys, vals, 1);
    if (PQstatus(db) != CONNECTION_OK) {
        fprintf(stderr, "kicctl: cannot connect to PostgreSQL: %s", PQerrorMessage(db));
        PQfinish(db);
        return NULL;
    }
    PQclear(PQexec(db, "SET client_min_messages TO warning"));
    return db;
}

/* What a refusal by one of the schema's rules means to an operator (the
 * raw message shows internal ids). */
static const char *constraint_meaning(const PGresult *r)
{
    static const struct {
        const char *name, *meaning;
    } known[] = {
        {"users_active_name", "an active user of the tenant has that name already (revoke it first)"},
        {"users_active_agent", "an active user of the tenant has that agent id already"},
    };
    const char *name = PQresultErrorField(r, PG_DIAG_CONSTRAINT_NAME);
    for (size_t i = 0; name && i < KIC_ARRAY_LEN(known); i++)
        if (strcmp(name, known[i].name) == 0)
            return known[i].meaning;
    return NULL;
}

PGresult *ctl_exec(PGconn *db, const char *sql, int nparams, const char *const *params)
{
    PGresult *r = PQexecParams(db, sql, nparams, NULL, params, NULL, NULL, 0);
    ExecStatusType st = PQresultStatus(r);
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
        const char *meaning = constraint_meaning(r);
        if (meaning)
            fprintf(stderr, "kicctl: %s\n", meaning);
        else
            fprintf(stderr, "kicctl: %s", PQresultErrorMessage(r));
        PQclear(r);
        return NULL;
    }
    return r;
}

int main(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"pg", required_argument, NULL, 'p'},   {"server", required_argument, NULL, 's'},
        {"token", required_argument, NULL, 't'}, {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},     {"tls", no_argument, NULL, 'T'},
        {"tls-ca", required_argument, NULL, 'C'}, {NULL, 0, NULL, 0},
    };
    CtlOptions o = {0};
    int ch;
    /* "+": stop at the command name; the rest is the command's. */
    while ((ch = getopt_long(argc, argv, "+p:s:t:hV", longopts, NULL)) != -1) {
        switch (ch) {
        case 'p': o.pg = optarg; break;
        case 's': o.server = optarg; break;
        case 't': o.token = optarg; break;
        case 'T': o.tls.on = true; break;
        case 'C': o.tls.on = true; o.tls.ca_file = optarg; break;
        case 'h': usage(stdout); return 0;
        case 'V': printf("kicctl %s\n", KIC_VERSION); return 0;
        default: usage(stderr); return 2;
        }
    }
    o.pg = env_or(o.pg, "KIC_PG", NULL);
    o.server = env_or(o.server, "KIC_SERVER", "127.0.0.1:7411");
    if (!ctlconn_server_ok(o.server)) {
        fprintf(stderr, "kicctl: --server (or KIC_SERVER) must be HOST:PORT (port 1-65535), not '%s'\n",
                o.server);
        return 2;
    }
    o.token = env_or(o.token, "KIC_TOKEN", NULL);
    o.tls.ca_file = env_or(o.tls.ca_file, "KIC_TLS_CA", NULL);
    if (o.tls.ca_file && *o.tls.ca_file)
        o.tls.on = true;
    else
        o.tls.ca_file = NULL;
    if (optind >= argc) {
        usage(stderr);
        return 2;
    }
    int first = optind;
    const char *name = argv[first];
    for (size_t i = 0; i < KIC_ARRAY_LEN(commands); i++) {
        if (strcmp(commands[i].name, name) == 0) {
            if (!commands[i].own_help && asks_help(argc - first, argv + first)) {
                printf("usage: kicctl [global options] %s\n", commands[i].usage);
                return 0;
            }
            optind = 0; /* GNU getopt: 0 re-initialises for the command's argv */
            return commands[i].run(&o, argc - first, argv + first);
        }
    }
    fprintf(stderr, "kicctl: unknown command '%s'\n", name);
    usage(stderr);
    return 2;
}
