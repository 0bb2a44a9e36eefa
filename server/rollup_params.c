/* Stored sums against configured thresholds (rollup_params.h). */
#include "rollup_params.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "pg.h"
#include "report.h"

/* Every stored call's repeat flag as the window $1 (days, in the
 * session's time zone) makes it: followed by an inbound contact of the
 * same caller that is no transfer's continuation, offered after it (by
 * offered_at, then call_id) and within the window. The rule of
 * kic_mark_self and kic_mark_earlier (write_sql.c), for all calls at
 * once: one sort by caller instead of a look-up per call. */
static const char remark_sql[] =
    "UPDATE calls c SET followed_by_repeat = n.repeated"
    " FROM (SELECT tenant_id, call_id, coalesce(min(offered_at)"
    "         FILTER (WHERE direction = 'inbound' AND transferred_from IS NULL)"
    "         OVER (PARTITION BY tenant_id, caller_key ORDER BY offered_at, call_id"
    "               ROWS BETWEEN 1 FOLLOWING AND UNBOUNDED FOLLOWING)"
    "         <= offered_at + make_interval(days => $1::int), false) AS repeated"
    "       FROM calls WHERE caller_key IS NOT NULL) n"
    " WHERE c.tenant_id = n.tenant_id AND c.call_id = n.call_id"
    "   AND c.followed_by_repeat <> n.repeated";

typedef struct Check {
    Server *s;
    void (*then)(Server *s, bool ok);
    char sl[32], shortab[32], window[16];
    bool remark;    /* the repeat window differs: flags first */
    int insert_at;  /* the rebuild job's INSERT */
    int remark_at;  /* and its UPDATE of the flags, when remark */
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
    if (c->remark)
        srv_log(c->s, LOG_WARN, "repeat flags marked again for a window of %s days (calls changed: %s)",
                c->window, PQcmdTuples(pgjob_result(job, c->remark_at)));
    srv_log(c->s, LOG_WARN,
            "15-minute sums rebuilt from the calls for the thresholds now configured "
            "(%s rows, %.1f s)",
            PQcmdTuples(pgjob_result(job, c->insert_at)),
            (double)(server_now() - c->started) / 1e6);
    finish(c, true);
}

/* Sums counted with other thresholds, or flags marked with another
 * window: the flags (then) and all the sums again, from the calls, in one
 * transaction (nothing else writes them yet: kicd is loading). */
static void rebuild(Check *c)
{
    char *insert = report_rollup_rebuild_sql();
    const char *args[] = {c->sl, c->shortab, c->window};
    const char *tz[] = {c->s->cfg.tz};
    PgJob *job = pgjob_new(rebuilt, c);
    /* TRUNCATE, not DELETE: a fresh table without a year of dead rows
     * for the reports to wade through until the next vacuum; an explicit
     * transaction, as TRUNCATE's rollback needs one */
    pgjob_add(job, "BEGIN", 0, NULL);
    pgjob_add(job, "SELECT set_config('statement_timeout', '0', true)", 0, NULL);
    pgjob_set_patience(job, 0); /* as long as it takes, like the statement */
    c->insert_at = 3;
    if (c->remark) {
        /* the window is in calendar days of the configured zone */
        pgjob_add(job, "SELECT set_config('TimeZone', $1, true)", 1, tz);
        pgjob_add(job, remark_sql, 1, &args[2]);
        c->remark_at = 3;
        c->insert_at = 5;
    }
    pgjob_add(job, "TRUNCATE call_sums_15m", 0, NULL);
    pgjob_add(job, insert, 2, args); /* insert_at */
    pgjob_add(job, "UPDATE rollup_params SET sl_threshold_us = $1, short_abandon_us = $2,"
                   " repeat_window_days = $3, rebuilt_at = now()", 3, args);
    pgjob_add(job, "ANALYZE call_sums_15m", 0, NULL);
    pgjob_add(job, "COMMIT", 0, NULL);
    free(insert);
    c->started = server_now();
    if (c->remark)
        srv_log(c->s, LOG_WARN, "the repeat flags were marked with another window: marking them"
                                " again and rebuilding the 15-minute sums");
    else
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
    if (PQntuples(r) == 1) {
        c->remark = strcmp(PQgetvalue(r, 0, 2), c->window) != 0;
        if (c->remark || strcmp(PQgetvalue(r, 0, 0), c->sl) != 0 ||
            strcmp(PQgetvalue(r, 0, 1), c->shortab) != 0) {
            rebuild(c);
            return;
        }
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
    snprintf(c->window, sizeof(c->window), "%lld", s->cfg.repeat_window_days);
    const char *args[] = {c->sl, c->shortab, c->window};
    PgJob *job = pgjob_new(checked, c);
    pgjob_add(job, "SELECT sl_threshold_us, short_abandon_us, repeat_window_days FROM rollup_params",
              0, NULL);
    /* the migration records the defaults; should the row be gone, what
     * this kicd counts with */
    pgjob_add(job, "INSERT INTO rollup_params (sl_threshold_us, short_abandon_us, repeat_window_days)"
                   " VALUES ($1, $2, $3) ON CONFLICT DO NOTHING", 3, args);
    if (!pgconn_submit(s->pg_reader, job)) {
        pgjob_free(job);
        finish(c, false);
    }
}
