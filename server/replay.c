/* Replay of the journal into PostgreSQL, record by record (replay.h). */
#include "replay.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "journal.h"
#include "pg.h"

typedef struct Replay {
    Server *srv;
    ReplayDone done;
    uint8_t *buf; /* the journal's bytes: the jobs' parameters point here */
    size_t len;
    size_t pending, sent, stored, failed, damaged;
    bool lost;
    KicTime started;
} Replay;

/* Records PostgreSQL refused, or damaged ones, are acknowledged events
 * nobody else holds: before the journal is emptied, its bytes are kept
 * in a file beside it for the operator (README, "The journal"). Without
 * that copy the journal is kept as it is (replaying it again stores
 * nothing twice). */
static bool keep_what_was_not_stored(Replay *rp)
{
    Server *s = rp->srv;
    if (!rp->failed && !rp->damaged)
        return true;
    char kept[PATH_MAX + 64], err[PATH_MAX + 256];
    if (!journal_keep_copy(s->journal, rp->buf, rp->len, kept, sizeof(kept), err, sizeof(err))) {
        srv_log(s, LOG_ERROR, "%s; the journal is kept as it is", err);
        return false;
    }
    srv_log(s, LOG_ERROR,
            "journal: %zu records refused by PostgreSQL and %zu damaged were not stored;"
            " the journal's bytes are kept in %s",
            rp->failed, rp->damaged, kept);
    return true;
}

static void finish(Replay *rp)
{
    Server *s = rp->srv;
    bool ok = !rp->lost;
    char err[256];
    if (ok && keep_what_was_not_stored(rp) && !journal_clear(s->journal, err, sizeof(err))) {
        /* stored, but the file keeps them: replaying again is harmless */
        srv_log(s, LOG_ERROR, "%s", err);
    }
    if (ok)
        srv_log(s, LOG_WARN, "journal replayed: %zu records stored, %zu refused, in %.0f ms",
                rp->stored, rp->failed, (double)(server_now() - rp->started) / 1000.0);
    else
        srv_log(s, LOG_WARN, "journal replay cut off (%zu of %zu stored): PostgreSQL went away",
                rp->stored, rp->sent);
    ReplayDone done = rp->done;
    free(rp->buf);
    free(rp);
    done(s, ok);
}

static void release(Replay *rp)
{
    if (--rp->pending == 0)
        finish(rp);
}

static void record_done(PgJob *job, void *arg)
{
    Replay *rp = arg;
    if (pgjob_conn_lost(job))
        rp->lost = true;
    else if (pgjob_error(job)) {
        /* A record PostgreSQL refuses would be refused forever: it is
         * logged and counted, and the rest goes on. */
        rp->failed++;
        srv_log(rp->srv, LOG_ERROR, "journal record not stored: %s", pgjob_error(job));
    } else {
        rp->stored++;
    }
    release(rp);
}

static void submit_record(const JournalBatch *b, size_t offset, void *arg)
{
    Replay *rp = arg;
    if (rp->lost)
        return;
    PgJob *job = pgjob_new(record_done, rp);
    for (int i = 0; i < b->nstmts; i++)
        pgjob_add_prepared(job, b->stmts[i].name, b->stmts[i].nparams, b->stmts[i].values,
                           b->stmts[i].lengths);
    rp->pending++;
    rp->sent++;
    if (!pgconn_submit(rp->srv->pg_writer, job)) {
        pgjob_free(job);
        rp->pending--;
        rp->lost = true;
    }
}

void replay_start(Server *s, ReplayDone done)
{
    Replay *rp = calloc(1, sizeof(*rp));
    if (!rp)
        abort();
    rp->srv = s;
    rp->done = done;
    rp->started = server_now();
    rp->pending = 1; /* our own hold while submitting */
    char err[256];
    if (!journal_read(s->journal, &rp->buf, &rp->len, err, sizeof(err))) {
        srv_log(s, LOG_ERROR, "%s", err);
        rp->lost = true;
    } else {
        JournalScan sc;
        srv_log(s, LOG_WARN, "replaying %zu journal records", journal_records(s->journal));
        journal_scan(rp->buf, rp->len, submit_record, rp, &sc);
        journal_note_scan(s->journal, &sc);
        rp->damaged = sc.damaged; /* a torn tail was never acknowledged */
        if (sc.damaged || sc.torn_bytes)
            srv_log(s, LOG_ERROR, "journal: %zu damaged records and %zu torn bytes skipped",
                    sc.damaged, sc.torn_bytes);
    }
    release(rp);
}
