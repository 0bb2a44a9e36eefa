/* kicctl purge: the retention job (migrations/0006, kic_purge) now, as
 * kicd runs it daily: raw events and notes older than --days (default:
 * kicd's retention_days, as it last purged), audit rows older than five
 * years. */
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

#include "kicctl.h"

/* kicd's retention_days as it last purged (migrations/0019). kicd
 * purges when it starts, so none recorded means kicd has not run on this
 * database since: guessing could take what it keeps. */
static bool kicd_retention_days(PGconn *db, char *out, size_t outlen)
{
    PGresult *r = ctl_exec(db, "SELECT kicd_retention_days FROM purge_horizon", 0, NULL);
    if (!r)
        return false;
    bool known = PQntuples(r) == 1 && !PQgetisnull(r, 0, 0);
    if (known)
        snprintf(out, outlen, "%s", PQgetvalue(r, 0, 0));
    else
        fprintf(stderr, "kicctl: kicd has not purged this database yet, so its retention_days "
                        "is not known: give --days N\n");
    PQclear(r);
    return known;
}

int cmd_purge(const CtlOptions *o, int argc, char **argv)
{
    static const struct option longopts[] = {{"days", required_argument, NULL, 'd'},
                                             {NULL, 0, NULL, 0}};
    const char *days = NULL;
    int ch;
    while ((ch = getopt_long(argc, argv, "d:", longopts, NULL)) != -1) {
        if (ch != 'd')
            return 2;
        days = optarg;
    }
    char *end;
    long n = days ? strtol(days, &end, 10) : 1;
    if (optind != argc || (days && (*end || n < 1 || n > 100000))) {
        fprintf(stderr, "kicctl: purge [--days N] (N from 1; default: kicd's retention_days)\n");
        return 2;
    }
    PGconn *db = ctl_connect(o);
    if (!db)
        return 1;
    char kicds[24];
    if (!days) {
        if (!kicd_retention_days(db, kicds, sizeof(kicds))) {
            PQfinish(db);
            return 1;
        }
        days = kicds;
        printf("retention_days %s (kicd's, as it last purged)\n", days);
    }
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
