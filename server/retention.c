/* Retention: the daily purge of raw events and notes (kic_purge), and of
 * the journal copies kept beside the journal, as old. */
#include "retention.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "journal.h"
#include "kictime.h"
#include "pg.h"
#include "strbuf.h"

#define RETENTION_EVERY_US (24LL * 3600 * KIC_USEC)

static void purged(PgJob *job, void *arg)
{
    Server *s = arg;
    if (pgjob_error(job)) {
        srv_log(s, LOG_WARN, "retention: not run: %s", pgjob_error(job));
        s->last_purge = 0; /* again at the next tick */
        return;
    }
    PGresult *r = pgjob_result(job, 0);
    StrBuf b = STRBUF_INIT;
    for (int i = 0; i < PQntuples(r); i++)
        strbuf_printf(&b, "%s%s %s", i ? ", " : "", PQgetvalue(r, i, 0), PQgetvalue(r, i, 1));
    srv_log(s, LOG_INFO, "retention: removed %s", b.data ? b.data : "nothing");
    strbuf_free(&b);
}

static void kept_seen(void *arg, const char *path, time_t written, bool deleted, int err)
{
    Server *s = arg;
    char when[40];
    time_format_utc((KicTime)written * KIC_USEC, when, sizeof(when));
    if (deleted)
        srv_log(s, LOG_WARN, "retention: deleted %s, written %s: past retention_days", path, when);
    else if (err)
        srv_log(s, LOG_ERROR, "retention: cannot delete %s, written %s: %s", path, when,
                strerror(err));
    else
        srv_log(s, LOG_WARN,
                "%s, written %s, holds acknowledged events PostgreSQL did not store, and callers'"
                " data: deal with them and delete it (retention deletes it after %lld days)",
                path, when, s->cfg.retention_days);
}

void retention_run(Server *s)
{
    if (s->journal &&
        !journal_sweep_kept(s->journal, time(NULL) - (time_t)s->cfg.retention_days * 86400,
                            kept_seen, s))
        srv_log(s, LOG_ERROR, "retention: cannot read the journal's directory to find kept copies: %s",
                strerror(errno));
    char days[24];
    snprintf(days, sizeof(days), "%lld", s->cfg.retention_days);
    PgJob *job = pgjob_new(purged, s);
    const char *args[] = {days};
    pgjob_add(job, "SELECT what, removed FROM kic_purge($1::int)", 1, args);
    /* what kicctl purge defaults to (migrations/0019); the row is there
     * once kic_purge has run */
    pgjob_add(job, "UPDATE purge_horizon SET kicd_retention_days = $1::int", 1, args);
    s->last_purge = server_now();
    if (!pgconn_submit(s->pg_reader, job)) {
        pgjob_free(job);
        s->last_purge = 0;
    }
}

void retention_tick(Server *s)
{
    if (server_now() - s->last_purge >= RETENTION_EVERY_US)
        retention_run(s);
}
