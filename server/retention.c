#include "retention.h"

#include <stdlib.h>

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

void retention_run(Server *s)
{
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
