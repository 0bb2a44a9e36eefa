/* kicctl purge: the retention job (migrations/0006, kic_purge) now, as
 * kicd runs it daily: raw events and notes older than --days (default
 * 400), closed callbacks' numbers, audit rows older than five years. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "kicctl.h"

int cmd_purge(const CtlOptions *o, int argc, char **argv)
{
    static const struct option longopts[] = {{"days", required_argument, NULL, 'd'},
                                             {NULL, 0, NULL, 0}};
    const char *days = "400";
    int ch;
    while ((ch = getopt_long(argc, argv, "d:", longopts, NULL)) != -1) {
        if (ch != 'd')
            return 2;
        days = optarg;
    }
    char *end;
    long n = strtol(days, &end, 10);
    if (optind != argc || *end || n < 1 || n > 100000) {
        fprintf(stderr, "kicctl: purge [--days N] (N from 1; default 400)\n");
        return 2;
    }
    PGconn *db = ctl_connect(o);
    if (!db)
        return 1;
    const char *params[] = {days};
    PGresult *r = ctl_exec(db, "SELECT what, removed FROM kic_purge($1::int)", 1, params);
    if (!r) {
        PQfinish(db);
        return 1;
    }
    for (int i = 0; i < PQntuples(r); i++)
        printf("%-32s %s\n", PQgetvalue(r, i, 0), PQgetvalue(r, i, 1));
    PQclear(r);
    PQfinish(db);
    return 0;
}
