/* Stored sums against configured thresholds (rollup_params.h). */
#include "rollup_params.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "pg.h"
#include "report.h"

#define REBUILD_INSERT 3 /* the rebuild job's INSERT */

typedef struct Check {
    Server *s;
    void (*then)(Server *s, bool ok);
    char sl[32], shortab[32];
    KicTime started;
} Check;

static void finish(Check *c, bool ok)
{
    c->then(c->s, ok);
    free(c);
}

static void rebuilt(PgJob *job, void *arg)
{
    Check *c = arg;
    if (pgjob_error(job)) {
        srv_log(c->s, LOG_ERROR, "rebuilding the 15-minute sums failed: %s", pgjob_error(job));
        finish(c, false);
        return;
    }
    srv_log(c->s, LOG_WARN,
            "15-minute sums rebuilt from the calls for the thresholds now configured "
            "(%s rows, %.1f s)",
            PQcmdTuples(pgjob_result(job, REBUILD_INSERT)),
            (double)(server_now() - c->started) / 1e6);
    finish(c, true);
}

/* Sums counted with other thresholds: all of them again, from the calls,
 * in one transaction (nothing else writes them yet: kicd is loading). */
static void rebuild(Check *c)
{
    char *insert = report_rollup_rebuild_sql();
    const char *args[] = {c->sl, c->shortab};
    PgJob *job = pgjob_new(rebuilt, c);
    /* TRUNCATE, not DELETE: a fresh table without a year of dead rows
     * for the reports to wade through until the next vacuum; an explicit
     * transaction, as TRUNCATE's rollback needs one */
    pgjob_add(job, "BEGIN", 0, NULL);
    pgjob_add(job, "SELECT set_config('statement_timeout', '0', true)", 0, NULL);
    pgjob_set_patience(job, 0); /* as long as it takes, like the statement */
    pgjob_add(job, "TRUNCATE call_sums_15m", 0, NULL);
    pgjob_add(job, insert, 2, args); /* REBUILD_INSERT */
    pgjob_add(job, "UPDATE rollup_params SET sl_threshold_us = $1, short_abandon_us = $2,"
                   " rebuilt_at = now()", 2, args);
    pgjob_add(job, "ANALYZE call_sums_15m", 0, NULL);
    pgjob_add(job, "COMMIT", 0, NULL);
    free(insert);
    c->started = server_now();
    srv_log(c->s, LOG_WARN, "the 15-minute sums were counted with other thresholds: rebuilding");
    if (!pgconn_submit(c->s->pg_reader, job)) {
        pgjob_free(job);
        finish(c, false);
    }
}

static void checked(PgJob *job, void *arg)
{
    Check *c = arg;
    if (pgjob_error(job)) {
        srv_log(c->s, LOG_ERROR, "reading rollup_params failed: %s", pgjob_error(job));
        finish(c, false);
        return;
    }
    /* statement 1: the row as it was before the insert-if-missing */
    PGresult *r = pgjob_result(job, 0);
    if (PQntuples(r) == 1 &&
        (strcmp(PQgetvalue(r, 0, 0), c->sl) != 0 || strcmp(PQgetvalue(r, 0, 1), c->shortab) != 0)) {
        rebuild(c);
        return;
    }
    finish(c, true);
}

void rollup_params_check(Server *s, void (*then)(Server *s, bool ok))
{
    Check *c = calloc(1, sizeof(*c));
    if (!c)
        abort();
    c->s = s;
    c->then = then;
    snprintf(c->sl, sizeof(c->sl), "%lld", s->cfg.sl_threshold_s * KIC_USEC);
    snprintf(c->shortab, sizeof(c->shortab), "%lld", s->cfg.short_abandon_s * KIC_USEC);
    const char *args[] = {c->sl, c->shortab};
    PgJob *job = pgjob_new(checked, c);
    pgjob_add(job, "SELECT sl_threshold_us, short_abandon_us FROM rollup_params", 0, NULL);
    /* the migration records the defaults; should the row be gone, what
     * this kicd counts with */
    pgjob_add(job, "INSERT INTO rollup_params (sl_threshold_us, short_abandon_us)"
                   " VALUES ($1, $2) ON CONFLICT DO NOTHING", 2, args);
    if (!pgconn_submit(s->pg_reader, job)) {
        pgjob_free(job);
        finish(c, false);
    }
}
