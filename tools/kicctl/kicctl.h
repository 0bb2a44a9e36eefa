/* kicctl: shared declarations of the subcommands. Each subcommand gets
 * the global options and its own argv (argv[0] = its name). */
#ifndef KICCTL_H
#define KICCTL_H

#include <libpq-fe.h>

#include "ctlconn.h"
#include "kic.h"

typedef struct CtlOptions {
    const char *pg;     /* --pg, else KIC_PG, else libpq's PG* variables */
    const char *server; /* --server, else KIC_SERVER, else 127.0.0.1:7411 */
    const char *token;  /* --token, else KIC_TOKEN */
    CtlTls tls;         /* --tls / --tls-ca FILE, else KIC_TLS_CA (implies TLS) */
} CtlOptions;

/* Exit codes: 0 ok, 1 failed, 2 usage. */
int cmd_migrate(const CtlOptions *o, int argc, char **argv);
int cmd_user(const CtlOptions *o, int argc, char **argv);
int cmd_import_queue_log(const CtlOptions *o, int argc, char **argv);
int cmd_category(const CtlOptions *o, int argc, char **argv);
int cmd_queue_team(const CtlOptions *o, int argc, char **argv);
int cmd_purge(const CtlOptions *o, int argc, char **argv);
int cmd_live(const CtlOptions *o, int argc, char **argv);
int cmd_report(const CtlOptions *o, int argc, char **argv);

/* A blocking connection (kicctl is a command-line tool); prints why on
 * failure and returns NULL. */
PGconn *ctl_connect(const CtlOptions *o);

/* A name given on the command line (a tenant, user, agent, team, queue
 * or category): 1 to KIC_MAX_FIELD characters, neither blank nor holding
 * a control character, as kicd's own requests; prints why not. */
bool ctl_text_ok(const char *what, const char *s) KIC_MUST_CHECK;

/* Runs a statement; prints the error and returns NULL unless the status
 * is one of the expected ones. */
PGresult *ctl_exec(PGconn *db, const char *sql, int nparams, const char *const *params);

#endif
