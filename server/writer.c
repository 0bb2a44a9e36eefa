/* Group commit (see writer.h). A batch goes through three steps:
 *   load    calls that the batch touches but memory lacks (old calls
 *           getting a late event) are read from storage first;
 *   decide  each record is applied to its tenant's centre, in order, and
 *           the effects are written as JSON arrays, one per table;
 *   write   one statement per table, in one pipeline job: one implicit
 *           transaction, committed when the job's sync is answered.
 * While PostgreSQL executes one batch the next is decided and queued
 * behind it on the same connection (pipeline_depth batches in flight),
 * so the two processes work at once; order is kept because one
 * connection executes in order. If the connection drops, every batch in
 * flight is sent again, in order, when it is back: the statements are
 * then idempotent (keys and ON CONFLICT), and replies wait for a COMMIT.
 *
 * Events are first written the fast way: plain inserts of their keys and
 * rows, as memory (which holds every event of the calls it holds) finds
 * them new. Only an event id seen on a call memory no longer holds can
 * break that; the key insert then fails the batch, and it is sent again
 * the safe way (keys ON CONFLICT DO NOTHING, only events whose key was
 * new), with every batch sent after it: see on_written. */
#include "writer.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "journal.h"
#include "jsonw.h"
#include "monitor.h"
#include "pg.h"
#include "replay.h"
#include "rows.h"
#include "store.h"
#include "subscribe.h"
#include "write_sql.h"
#include "strbuf.h"

#define QUEUE_MAX 200000
#define PIPELINE_DEPTH 3
/* Records decided or answered between two pushes of what the writer's
 * connection still has to send (pgconn_pump): about 0.2 ms of work. */
#define PUMP_EVERY 64

static const char ACK_NEW[] = "{\"accepted\":true,\"duplicate\":false}";
static const char ACK_DUP[] = "{\"accepted\":true,\"duplicate\":true}";

typedef struct PendingNotice {
    Tenant *tenant;
    char agent[KIC_MAX_FIELD_BYTES + 1]; /* one agent's desktops, or */
    char team[KIC_MAX_FIELD_BYTES + 1];  /* every agent of a team ("" when agent) */
    const char *method;
    json_t *params;
} PendingNotice;

/* A statement per table, one more for the contacts (marking earlier ones
 * and the new one) and one for the event keys of a fast batch. */
#define WRITE_MAX_STMTS (WT_COUNT + 2)

typedef struct Batch {
    struct Batch *next;
    struct Writer *writer;
    Record *records;
    size_t n;
    PgTable tables[WT_COUNT]; /* the rows of each table, as column arrays */
    const char *values[WT_PARAMS][PGTABLE_MAX_COLS + 1]; /* + the sums' write mark */
    int lengths[WT_PARAMS][PGTABLE_MAX_COLS + 1];
    /* Statements in order: prepared statement and its parameters' row. */
    int stmt_table[WRITE_MAX_STMTS];
    const char *stmt_name[WRITE_MAX_STMTS];
    int nstmt;
    int events_stmt; /* index of the events insert, -1 if none */
    int states_stmt; /* of the agent_states insert, -1 if none */
    int calls_new_stmt; /* of the new calls' insert, -1 if none */
    uint64_t generation; /* the Effects.batch it was decided in */
    bool states_maybe_stored; /* an interval may be stored by a batch before */
    long long events_expected;
    /* Events go in fast (plain inserts: the keys are new, as memory
     * believes) or safe (keys ON CONFLICT DO NOTHING, only events whose
     * key was new): on every resend, in the journal, and after a fast
     * batch met a key already stored. */
    bool safe;
    bool count_events; /* no earlier attempt may have committed: check the count */
    PendingNotice *notices;
    size_t nnotices, cap_notices;
    int attempt;
    bool awaiting_retry; /* to be sent again: the connection was lost, or a rewind */
    /* Decided while a batch that then failed was still on its way: its
     * refusals (a duplicate, a conflict) may rest on what that batch
     * never stored. */
    bool after_failure;
    KicTime write_started;
    /* Its write mark: the sums it adds are added once, however often the
     * batch is sent (a retry, a journal replay). */
    uint8_t id[JOURNAL_ID_LEN];
} Batch;

struct Writer {
    Server *srv;
    Record *qhead, *qtail;
    size_t queued;
    struct event *ev_timer;
    int held;

    Batch *loading; /* a batch waiting for its calls to load (one at most) */
    Batch *flight_head, *flight_tail; /* decided and sent, in order */
    int inflight;
    int results_due;  /* writes sent whose result has not come back */
    bool rewinding;   /* a fast batch met a stored key: resend from it, safe */

    bool replaying;      /* the journal goes into PostgreSQL first */
    /* The journal's records a finished replay has been through: those it
     * could not store stay when no copy of them could be kept. */
    size_t journal_tried;
    bool journal_broken; /* a write or fsync failed: new records get -32050, and
                          * the batches in flight wait (unanswered) for a
                          * journal write that works or for PostgreSQL */
    struct event *ev_journal_retry;
    bool locked_out; /* another kicd holds the database: new records get
                      * -32050, none is journaled (writer_lock.h) */

    Batch *spare[PIPELINE_DEPTH + 1]; /* finished batches kept for reuse */
    int nspare;

    Effects fx;     /* scratch for one decision pass */
    StrMap stored_keys; /* "tenant:event_id" storage has, of the batch decided next */
    StrMap choices; /* "tenant:agent" -> Record, latest choice of a batch */
    PgPrepared prepared[WRITE_SQL_PREPARED + 1]; /* prepared on the writer connection */
    char *prepared_sql[WRITE_SQL_PREPARED];

    WriterStats stats;
};


/* ---- records ---- */

Record *record_new(RecordKind kind, Tenant *t, Reply *reply)
{
    const Record *x = NULL;
    size_t fields = kind == REC_EVENT         ? sizeof(x->ev)
                    : kind == REC_AGENT_STATE ? sizeof(x->state)
                    : kind == REC_WRAPUP      ? sizeof(x->wrap)
                                              : sizeof(x->cb);
    Record *r = calloc(1, offsetof(Record, ev) + fields);
    if (!r)
        abort();
    r->kind = kind;
    r->tenant = t;
    r->reply = reply;
    return r;
}

void record_free(Record *r)
{
    switch (r->kind) {
    case REC_EVENT: event_parse_free(&r->ev); break;
    case REC_AGENT_STATE: free(r->state.reason); break;
    case REC_WRAPUP:
        wrapup_free(r->wrap.wrapup);
        free(r->wrap.note);
        break;
    default: free(r->cb.note); break;
    }
    json_decref(r->result);
    rpc_error_clear(&r->error);
    free(r);
}

/* Answers a record as decided (or with err when given) and frees it. */
static void count_event(Metrics *m, const Record *r, const RpcError *err)
{
    if (r->kind != REC_EVENT)
        return;
    if (!err && r->ack == ACK_NEW)
        m->events_accepted++;
    else if (!err && r->ack == ACK_DUP)
        m->events_duplicate++;
    else
        m->events_rejected++;
}

static void record_finish(Metrics *m, Record *r, const RpcError *err)
{
    count_event(m, r, err);
    if (r->reply) {
        if (err)
            reply_error(r->reply, err);
        else if (r->ack)
            reply_result_text(r->reply, r->ack);
        else if (r->result)
            reply_result(r->reply, json_incref(r->result));
        else
            reply_error(r->reply, &r->error);
    }
    record_free(r);
}

/* ---- batches ---- */

/* Batches are reused (up to SPARE_BATCHES, while their buffers stay
 * under SPARE_BYTES): a fresh one was a 30 KB calloc and every column
 * array regrown from nothing, for each batch. */
#define SPARE_BATCHES (PIPELINE_DEPTH + 1)
#define SPARE_BYTES (8u << 20)

static Batch *batch_new(Writer *w)
{
    Batch *b = w->nspare ? w->spare[--w->nspare] : calloc(1, sizeof(*b));
    if (!b)
        abort();
    if (!b->tables[0].ncols)
        for (int t = 0; t < WT_COUNT; t++)
            rows_table_init(&b->tables[t], write_table_specs[t]);
    b->writer = w;
    b->events_stmt = b->states_stmt = b->calls_new_stmt = -1;
    b->count_events = true;
    if (getrandom(b->id, sizeof(b->id), 0) != (ssize_t)sizeof(b->id))
        abort(); /* the kernel's generator cannot fail once booted */
    return b;
}

static void batch_destroy(Batch *b)
{
    for (int t = 0; t < WT_COUNT; t++)
        pgtable_free(&b->tables[t]);
    free(b->notices);
    free(b);
}

/* Done with a batch (its records are answered or handed back). */
static void batch_free(Writer *w, Batch *b)
{
    for (size_t i = 0; i < b->nnotices; i++)
        json_decref(b->notices[i].params);
    size_t kept = 0;
    for (int t = 0; t < WT_COUNT; t++)
        kept += pgtable_clear(&b->tables[t]);
    if (w->nspare == SPARE_BATCHES || kept > SPARE_BYTES) {
        batch_destroy(b);
        return;
    }
    /* as calloc left it, but for the tables' buffers and notices' array */
    PgTable tables[WT_COUNT];
    memcpy(tables, b->tables, sizeof(tables));
    PendingNotice *notices = b->notices;
    size_t cap_notices = b->cap_notices;
    memset(b, 0, sizeof(*b));
    memcpy(b->tables, tables, sizeof(tables));
    b->notices = notices;
    b->cap_notices = cap_notices;
    w->spare[w->nspare++] = b;
}

/* The tenants a batch changed, for live-statistics subscribers;
 * SIZE_MAX when there are more than max (then all are told). */
static size_t batch_tenants(const Batch *b, Tenant **out, size_t max)
{
    size_t n = 0;
    for (const Record *r = b->records; r; r = r->next) {
        size_t i = 0;
        while (i < n && out[i] != r->tenant)
            i++;
        if (i == n && n == max)
            return SIZE_MAX;
        if (i == n)
            out[n++] = r->tenant;
    }
    return n;
}

/* Whether a record was decided to change nothing: a duplicate, or an
 * error such as a conflict. */
static bool record_refused(const Record *r)
{
    return r->ack == ACK_DUP || (!r->ack && !r->result);
}

/* Answers every record of a batch (err: all with that error) and sends
 * its notifications (only when stored). */
static void batch_finish(Writer *w, Batch *b, const RpcError *err)
{
    Tenant *changed[64];
    size_t nchanged = batch_tenants(b, changed, 64);
    /* A refusal decided after a failed batch is not trusted: the sender
     * tries again, and memory, reloaded from storage, decides afresh. */
    RpcError unsure = {0};
    if (b->after_failure)
        rpc_error_set(&unsure, RPC_INTERNAL,
                      "internal error: an earlier change this depends on could not be stored;"
                      " send it again");
    size_t done = 0;
    for (Record *r = b->records, *next; r; r = next) {
        next = r->next;
        record_finish(w->srv->metrics, r,
                      !err && b->after_failure && record_refused(r) ? &unsure : err);
        if (++done % PUMP_EVERY == 0)
            pgconn_pump(w->srv->pg_writer);
    }
    b->records = NULL;
    rpc_error_clear(&unsure);
    for (size_t i = 0; !err && i < b->nnotices; i++) {
        PendingNotice *p = &b->notices[i];
        if (p->team[0])
            tenant_notify_team(p->tenant, p->team, p->method, p->params);
        else
            tenant_notify_agent(p->tenant, p->agent, p->method, p->params);
    }
    w->stats.batches++;
    w->stats.records += b->n;
    w->stats.last_batch = b->n;
    mon_observe(&w->srv->metrics->batch_size, (double)b->n);
    batch_free(w, b);
    /* after the replies: a subscriber sees what was acknowledged */
    size_t pos = 0;
    Tenant *t;
    if (nchanged == SIZE_MAX)
        while (tenants_next(w->srv->tenants, &pos, &t))
            subscribers_changed(w->srv, t);
    for (size_t i = 0; nchanged != SIZE_MAX && i < nchanged; i++)
        subscribers_changed(w->srv, changed[i]);
}

/* ---- queue ---- */

static void start_batch(Writer *w);

/* PostgreSQL is down and batches go to the journal instead. */
static bool journaling(const Writer *w)
{
    return w->srv->journal && !w->journal_broken && !pgconn_is_up(w->srv->pg_writer);
}

static bool can_start(const Writer *w)
{
    return !w->held && w->qhead && !w->loading && !w->replaying && !w->journal_broken &&
           !w->rewinding && !w->locked_out &&
           w->inflight < PIPELINE_DEPTH && (pgconn_is_up(w->srv->pg_writer) || journaling(w));
}

static void maybe_start(Writer *w)
{
    if (!can_start(w))
        return;
    KicTime age = server_now() - w->qhead->queued_at;
    if (w->queued >= (size_t)w->srv->cfg.batch_max || age >= w->srv->cfg.batch_wait_us ||
        w->inflight > 0) {
        /* With a batch in flight, the next one gathers while it commits:
         * no extra wait. */
        event_del(w->ev_timer);
        start_batch(w);
        return;
    }
    if (!evtimer_pending(w->ev_timer, NULL)) {
        long long left = w->srv->cfg.batch_wait_us - age;
        struct timeval tv = {(time_t)(left / KIC_USEC), (suseconds_t)(left % KIC_USEC)};
        evtimer_add(w->ev_timer, &tv);
    }
}

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
    maybe_start(arg);
}

void writer_submit(Writer *w, Record *r)
{
    RpcError e = {0};
    if (w->queued >= QUEUE_MAX)
        rpc_error_set(&e, RPC_OVERLOADED, "overloaded: %zu records waiting, retry later",
                      w->queued);
    else if (journaling(w) && !journal_has_room(w->srv->journal))
        rpc_error_set(&e, RPC_OVERLOADED,
                      "overloaded: storage unreachable and the journal is full, retry later");
    else if (w->journal_broken)
        rpc_error_set(&e, RPC_STORAGE_UNAVAILABLE,
                      "storage unavailable and the journal cannot be written");
    else if (w->locked_out)
        rpc_error_set(&e, RPC_STORAGE_UNAVAILABLE,
                      "storage unavailable: another kicd writes to the database");
    if (e.code) {
        record_finish(w->srv->metrics, r, &e);
        return;
    }
    r->queued_at = server_now();
    if (w->qtail)
        w->qtail->next = r;
    else
        w->qhead = r;
    w->qtail = r;
    w->queued++;
    maybe_start(w);
}

/* ---- load ---- */

static void decide(Writer *w, Batch *b);
static void on_loaded(PgJob *job, void *arg);

/* A record about a call memory does not hold: a late event of an old
 * call, or a wrap-up of one. */
static bool needs_call_load(const Record *r)
{
    return (r->kind == REC_EVENT && centre_needs_load(r->tenant->centre, r->ev.event)) ||
           (r->kind == REC_WRAPUP && !centre_call(r->tenant->centre, r->wrap.call_id));
}

static bool needs_key_check(const Record *r)
{
    return r->kind == REC_EVENT && centre_needs_key_check(r->tenant->centre, r->ev.event);
}

static void key_text(StrBuf *out, const Record *r, const char *id)
{
    strbuf_reset(out);
    strbuf_printf(out, "%s:%s", r->tenant->id_text, id);
}

/* What the batch needs from storage before it is decided, as JSON
 * arrays: the old calls it touches that memory does not hold, and the
 * event keys memory cannot vouch for. False when it needs nothing. */
static bool loads_needed(const Batch *b, char **calls, char **keys)
{
    StrBuf out[2] = {STRBUF_INIT, STRBUF_INIT}, key = STRBUF_INIT;
    StrMap seen = STRMAP_INIT;
    JsonW jw[2];
    for (int i = 0; i < 2; i++) {
        jw_init(&jw[i], &out[i]);
        jw_begin_array(&jw[i]);
    }
    for (Record *r = b->records; r; r = r->next) {
        const char *id = NULL, *name = NULL;
        int list = 0;
        if (needs_call_load(r)) {
            id = r->kind == REC_EVENT ? r->ev.event->call_id : r->wrap.call_id;
            name = "call_id";
            key_text(&key, r, id);
            strbuf_putc(&key, 'c'); /* apart from event ids */
        } else if (needs_key_check(r)) {
            id = r->ev.event->event_id;
            name = "event_id";
            list = 1;
            key_text(&key, r, id);
        }
        if (!id || strmap_get(&seen, key.data))
            continue;
        strmap_put(&seen, strbuf_steal(&key), r);
        jw_begin_object(&jw[list]);
        jw_key(&jw[list], "tenant_id");
        jw_int(&jw[list], r->tenant->id);
        jw_key(&jw[list], name);
        jw_string(&jw[list], id);
        jw_end_object(&jw[list]);
    }
    size_t pos = 0;
    const char *k;
    bool any = seen.count > 0;
    while (strmap_next(&seen, &pos, &k, NULL))
        free((char *)k);
    strmap_free(&seen);
    strbuf_free(&key);
    for (int i = 0; i < 2; i++)
        jw_end_array(&jw[i]);
    *calls = strbuf_steal(&out[0]);
    *keys = strbuf_steal(&out[1]);
    if (!any) {
        free(*calls);
        free(*keys);
        *calls = *keys = NULL;
    }
    return any;
}

static bool refuse_loads(Writer *w, Batch *b);

static void start_batch(Writer *w)
{
    Batch *b = batch_new(w);
    size_t max = (size_t)w->srv->cfg.batch_max;
    b->records = w->qhead;
    Record *last = w->qhead;
    b->n = 1;
    while (b->n < max && last->next) {
        last = last->next;
        b->n++;
    }
    w->qhead = last->next;
    if (!w->qhead)
        w->qtail = NULL;
    last->next = NULL;
    w->queued -= b->n;

    if (journaling(w) && !refuse_loads(w, b)) {
        maybe_start(w); /* nothing left of this one */
        return;
    }
    char *calls, *keys;
    if (!loads_needed(b, &calls, &keys)) {
        decide(w, b);
        return;
    }
    w->loading = b;
    PgJob *job = pgjob_new(on_loaded, w);
    const char *args[] = {calls}, *key_args[] = {keys};
    pgjob_add(job, write_sql_load_events, 1, args);
    pgjob_add(job, write_sql_load_calls, 1, args);
    pgjob_add(job, write_sql_load_wrapups, 1, args);
    pgjob_add(job, write_sql_load_keys, 1, key_args);
    free(calls);
    free(keys);
    if (!pgconn_submit(w->srv->pg_writer, job)) {
        pgjob_free(job);
        on_loaded(NULL, w);
    }
}

/* While PostgreSQL is down, a record that needs storage first (an old
 * call memory does not hold, an old callback request's key) cannot be
 * decided: it is refused (nothing recorded; the sender tries again
 * later) and the rest of the batch goes on. False when nothing is left. */
static bool refuse_loads(Writer *w, Batch *b)
{
    RpcError e = {0};
    rpc_error_set(&e, RPC_STORAGE_UNAVAILABLE,
                  "storage unavailable: this needs an older call from storage, retry later");
    Record **link = &b->records;
    while (*link) {
        Record *r = *link;
        if (!needs_call_load(r) && !needs_key_check(r)) {
            link = &r->next;
            continue;
        }
        *link = r->next;
        b->n--;
        record_finish(w->srv->metrics, r, &e);
    }
    if (b->records)
        return true;
    batch_free(w, b);
    return false;
}

/* Puts a batch's records back at the head of the queue (undecided). */
static void requeue(Writer *w, Batch *b)
{
    Record *last = b->records;
    while (last->next)
        last = last->next;
    last->next = w->qhead;
    w->qhead = b->records;
    if (!w->qtail)
        w->qtail = last;
    w->queued += b->n;
    b->records = NULL;
    batch_free(w, b);
}

static void on_loaded(PgJob *job, void *arg)
{
    Writer *w = arg;
    Batch *b = w->loading;
    w->loading = NULL;
    if (!job || pgjob_error(job)) {
        if (job && !pgjob_conn_lost(job))
            srv_log(w->srv, LOG_ERROR, "loading calls failed: %s", pgjob_error(job));
        requeue(w, b); /* tried again when the connection is back */
        return;
    }
    if (w->held) {
        /* memory is being reloaded (a batch failed): decide after that */
        requeue(w, b);
        return;
    }
    effects_reset(&w->fx);
    store_merge_calls(w->srv, pgjob_result(job, 0), pgjob_result(job, 1),
                      pgjob_result(job, 2), &w->fx);
    PGresult *keys = pgjob_result(job, 3);
    for (int i = 0; i < PQntuples(keys); i++) {
        char *key;
        if (asprintf(&key, "%s:%s", PQgetvalue(keys, i, 0), PQgetvalue(keys, i, 1)) < 0)
            abort();
        strmap_put(&w->stored_keys, key, w);
    }
    decide(w, b);
}

/* ---- decide ---- */

static PendingNotice *new_notice(Batch *b, Tenant *t)
{
    if (b->nnotices == b->cap_notices) {
        b->cap_notices = b->cap_notices ? b->cap_notices * 2 : 32;
        b->notices = realloc(b->notices, b->cap_notices * sizeof(PendingNotice));
        if (!b->notices)
            abort();
    }
    PendingNotice *p = &b->notices[b->nnotices++];
    memset(p, 0, sizeof(*p));
    p->tenant = t;
    return p;
}

/* A new callback is announced to its team's desktops. */
static void announce_callback(Batch *b, Tenant *t, const Callback *cb)
{
    PendingNotice *p = new_notice(b, t);
    snprintf(p->team, sizeof(p->team), "%s", cb->team);
    p->method = "callback.assigned";
    char due[40];
    time_format_local(cb->due_by, due, sizeof(due));
    p->params = json_pack("{s:s, s:s, s:s?, s:s}", "callback_id", cb->id, "team", cb->team,
                          "queue", cb->queue, "due_by", due);
}

static void add_notice(Batch *b, Tenant *t, const Notice *n)
{
    PendingNotice *p = new_notice(b, t);
    snprintf(p->agent, sizeof(p->agent), "%s", n->agent);
    if (n->kind == NOTICE_CONNECTED) {
        p->method = "call.connected";
        p->params = json_pack("{s:s, s:s, s:i}", "call_id", n->call_id, "queue", n->queue,
                              "repeat_contacts", n->earlier_contacts);
    } else {
        p->method = "call.ended";
        p->params = json_pack("{s:s, s:s, s:b, s:b}", "call_id", n->call_id, "queue", n->queue,
                              "transferred", n->transferred, "wrapup_due", n->wrapup_due);
    }
}

/* Whether storage has the event's key, as the batch's load found. */
static bool key_stored(Writer *w, const Record *r)
{
    if (!w->stored_keys.count)
        return false;
    char *key;
    if (asprintf(&key, "%s:%s", r->tenant->id_text, r->ev.event->event_id) < 0)
        abort();
    bool stored = strmap_get(&w->stored_keys, key) != NULL;
    free(key);
    return stored;
}

static void forget_stored_keys(Writer *w)
{
    size_t pos = 0;
    const char *k;
    while (strmap_next(&w->stored_keys, &pos, &k, NULL))
        free((char *)k);
    strmap_free(&w->stored_keys);
    w->stored_keys = (StrMap)STRMAP_INIT;
}

static void decide_event(Writer *w, Batch *b, Record *r, KicTime now)
{
    if (key_stored(w, r)) {
        w->stats.events_duplicate++;
        r->ack = ACK_DUP;
        return;
    }
    Event *ev = r->ev.event;
    r->ev.event = NULL; /* the centre owns it now (or frees a duplicate) */
    if (centre_apply_event(r->tenant->centre, ev, r->ev.number, now, true, &w->fx) == APPLY_NEW) {
        /* Still alive: the centre keeps new events; only duplicates go. */
        rows_event(&b->tables[WT_EVENTS], r->tenant->id, ev, r->ev.stored);
        w->stats.events_new++;
        r->ack = ACK_NEW;
    } else {
        w->stats.events_duplicate++;
        r->ack = ACK_DUP;
    }
}

static void decide_state(Writer *w, Batch *b, Record *r)
{
    Centre *c = r->tenant->centre;
    bool changed = centre_set_agent_state(c, r->state.agent, r->state.chosen, r->state.reason,
                                          r->state.at, &w->fx);
    if (r->state.release_claims)
        centre_release_claims(c, r->state.agent, &w->fx);
    Agent *a = centre_agent(c, r->state.agent);
    if (changed) {
        rows_chosen(&b->tables[WT_CHOSEN], r->tenant->id, r->state.agent, r->state.chosen,
                    r->state.at, r->state.reason);
        char *key;
        if (asprintf(&key, "%s:%s", r->tenant->id_text, a->id) < 0)
            abort();
        if (strmap_get(&w->choices, key))
            free(key);
        else
            strmap_put(&w->choices, key, r);
    }
    char since[40];
    time_format_local(a->since, since, sizeof(since));
    r->result = json_pack("{s:s, s:s, s:s}", "state", agent_state_names[a->state], "since", since,
                          "chosen", agent_state_names[a->chosen]);
}

static void decide_wrapup(Writer *w, Batch *b, Record *r, KicTime now)
{
    Centre *c = r->tenant->centre;
    Wrapup *wu = r->wrap.wrapup;
    switch (centre_check_wrapup(c, r->wrap.call_id, wu->agent, r->wrap.holder_since, wu->at)) {
    case WRAPUP_UNKNOWN_CALL:
        rpc_error_set(&r->error, RPC_NOT_FOUND, "unknown call: %.200s", r->wrap.call_id);
        return;
    case WRAPUP_NOT_YOURS:
        rpc_error_set(&r->error, RPC_FORBIDDEN, "call %.200s was not answered by you",
                      r->wrap.call_id);
        return;
    case WRAPUP_ALREADY:
        rpc_error_set(&r->error, RPC_CONFLICT, "call %.200s is already wrapped up",
                      r->wrap.call_id);
        return;
    case WRAPUP_BEFORE_ANSWER:
        rpc_error_field(&r->error, "at", "must not lie before the answer");
        return;
    case WRAPUP_OK: break;
    }
    int64_t acw_us;
    r->wrap.wrapup = NULL; /* the centre owns it now */
    centre_apply_wrapup(c, r->wrap.call_id, wu, now, &acw_us, &w->fx);
    rows_wrapup(&b->tables[WT_WRAPUPS], r->tenant->id, r->wrap.call_id, wu, r->wrap.note, acw_us);
    r->result = json_pack("{s:f}", "acw_seconds", (double)acw_us / 1e6);
}

/* One row per block: deltas of the same block in this batch are added
 * first (a block can appear in one statement only once). */
static void sum_deltas(Effects *fx, PgTable *table)
{
    StrMap blocks = STRMAP_INIT;
    char key[KIC_MAX_FIELD_BYTES + 96];
    for (size_t i = 0; i < fx->ndeltas; i++) {
        RollupDelta *d = &fx->deltas[i];
        snprintf(key, sizeof(key), "%lld|%lld|%d|%d|%s", (long long)d->tenant,
                 (long long)d->key.bucket, d->key.channel, d->key.direction, d->key.queue);
        RollupDelta *into = strmap_get(&blocks, key);
        if (into) {
            metrics_add_sums(&into->sums, &d->sums, 1);
            continue;
        }
        char *k = strdup(key);
        if (!k)
            abort();
        strmap_put(&blocks, k, d);
    }
    size_t pos = 0;
    const char *k;
    void *v;
    while (strmap_next(&blocks, &pos, &k, &v)) {
        rows_sums(table, v);
        free((char *)k);
    }
    strmap_free(&blocks);
}

static void callback_error(Record *r, CallbackResult res)
{
    if (res == CALLBACK_HELD_BY_OTHER)
        rpc_error_set(&r->error, RPC_CONFLICT, "callback %.200s is claimed by another agent",
                      r->cb.id);
    else
        rpc_error_set(&r->error, RPC_CONFLICT, "callback %.200s is already closed", r->cb.id);
}

static json_t *callback_result(const Callback *cb)
{
    return json_pack("{s:s, s:s, s:i, s:s?}", "callback_id", cb->id, "status",
                     callback_status_names[cb->status], "attempts", cb->attempts, "agent",
                     cb->claimed_by);
}

static void decide_callback(Writer *w, Batch *b, Record *r)
{
    Centre *c = r->tenant->centre;
    if (r->kind == REC_CALLBACK_CREATE) {
        const Callback *made = r->cb.by_request ? centre_callback(c, r->cb.id) : NULL;
        if (made) { /* the same request sent again: answered as the first */
            char due[40];
            time_format_local(made->due_by, due, sizeof(due));
            r->result = json_pack("{s:s, s:s, s:s, s:b}", "callback_id", made->id, "team", made->team,
                                  "due_by", due, "duplicate", 1);
            return;
        }
        CallbackNew n = {.id = r->cb.id,
                         .team = r->cb.team,
                         .call_id = r->cb.call_id[0] ? r->cb.call_id : NULL,
                         .caller_key = r->cb.caller_key[0] ? r->cb.caller_key : NULL,
                         .created_by = r->cb.agent,
                         .number = r->cb.number,
                         .created_at = r->cb.at,
                         .due_by = r->cb.due_by != KIC_TIME_NONE
                                       ? r->cb.due_by
                                       : r->cb.at + w->srv->cfg.callback_due_hours * 3600 * KIC_USEC};
        Callback *cb = centre_create_callback(c, &n, &w->fx);
        char due[40];
        time_format_local(cb->due_by, due, sizeof(due));
        r->result = json_pack("{s:s, s:s, s:s, s:b}", "callback_id", cb->id, "team", cb->team,
                              "due_by", due, "duplicate", 0);
    } else {
        Callback *cb = centre_callback(c, r->cb.id);
        if (!cb) {
            rpc_error_set(&r->error, RPC_NOT_FOUND, "unknown callback: %.200s", r->cb.id);
            return;
        }
        CallbackResult res = r->kind == REC_CALLBACK_CLAIM
                                 ? centre_claim_callback(c, cb, r->cb.agent, r->cb.at, &w->fx)
                                 : centre_complete_callback(c, cb, r->cb.agent, r->cb.outcome,
                                                            r->cb.at, &w->fx);
        if (res != CALLBACK_OK) {
            callback_error(r, res);
            return;
        }
        r->result = callback_result(cb);
    }
    if (r->cb.note)
        rows_callback_note(&b->tables[WT_CB_NOTES], r->tenant->id, r->cb.id, r->cb.at,
                           r->cb.agent, r->cb.note);
}

/* Rows for everything the decisions changed. Dirty marks are cleared
 * here, once the rows are serialised: a later batch that changes the
 * same call again writes it again. */
static void effects_rows(Writer *w, Batch *b)
{
    Effects *fx = &w->fx;
    for (size_t i = 0; i < fx->ndirty; i++) {
        Call *call = fx->dirty[i];
        if (call->row_stored && call->dirty_repeat_only)
            rows_repeat(&b->tables[WT_REPEATS], call);
        else {
            rows_call(&b->tables[call->row_stored ? WT_CALLS : WT_CALLS_NEW], call);
            uint64_t sig = rows_legs_sig(call);
            if (call->legs_sig != 0 && call->legs_sig != sig)
                rows_legs_gone(&b->tables[WT_LEGS_GONE], call);
            rows_legs(&b->tables[WT_LEGS], call);
            call->legs_sig = sig;
        }
        call->row_stored = true;
    }
    effects_written(fx);
    for (size_t i = 0; i < fx->ntransitions; i++) {
        rows_transition(&b->tables[WT_STATES], &fx->transitions[i]);
        b->states_maybe_stored |= fx->transitions[i].maybe_stored;
    }
    for (size_t i = 0; i < fx->nnew; i++)
        rows_new_contact(&b->tables[WT_CONTACTS], fx->new_contacts[i]);
    sum_deltas(fx, &b->tables[WT_SUMS]);
    for (size_t i = 0; i < fx->ncallbacks; i++) {
        Callback *cb = fx->callbacks[i];
        Tenant *t = tenants_find(w->srv->tenants, cb->tenant);
        rows_callback(&b->tables[WT_CALLBACKS], cb->tenant, cb);
        if (cb->fresh && t) {
            announce_callback(b, t, cb);
            cb->fresh = false;
        }
    }
    size_t pos = 0;
    const char *key;
    void *v;
    while (strmap_next(&w->choices, &pos, &key, &v)) {
        Record *r = v;
        rows_choice(&b->tables[WT_CHOICES], r->tenant->id,
                    centre_agent(r->tenant->centre, r->state.agent));
        free((char *)key);
    }
    strmap_free(&w->choices);
}

static void add_stmt(Batch *b, int t, const char *name)
{
    if (t >= 0 && !b->tables[t].rows)
        return;
    if (b->nstmt == WRITE_MAX_STMTS)
        abort(); /* plan_statements and WRITE_MAX_STMTS disagree */
    b->stmt_table[b->nstmt] = t;
    b->stmt_name[b->nstmt] = name;
    b->nstmt++;
}

/* The parameters: each table's column arrays (the sums' followed by the
 * batch's write mark), and the keys' three of the events' columns. */
static void finish_tables(Batch *b)
{
    for (int t = 0; t < WT_COUNT; t++)
        if (b->tables[t].rows)
            pgtable_finish(&b->tables[t], b->values[t], b->lengths[t]);
    static const int key_cols[] = {0, 3, 2}; /* tenant_id, event_id, at */
    for (int i = 0; i < 3; i++) {
        b->values[WT_KEYS][i] = b->values[WT_EVENTS][key_cols[i]];
        b->lengths[WT_KEYS][i] = b->lengths[WT_EVENTS][key_cols[i]];
    }
    int n = b->tables[WT_SUMS].ncols;
    b->values[WT_SUMS][n] = (const char *)b->id;
    b->lengths[WT_SUMS][n] = JOURNAL_ID_LEN;
    b->events_expected = (long long)b->tables[WT_EVENTS].rows;
}

/* A statement per table with rows (two for events when fast). No
 * BEGIN/COMMIT: everything up to a pipeline sync is one implicit
 * transaction, committed (and, with synchronous_commit, flushed) before
 * the sync is answered, and rolled back there on any error. An explicit
 * block would instead stay open in the failed state after an error and
 * poison the batch behind it. */
static void plan_statements(Batch *b)
{
    b->nstmt = 0;
    b->events_stmt = b->states_stmt = b->calls_new_stmt = -1;
    if (b->tables[WT_EVENTS].rows && !b->safe) {
        add_stmt(b, WT_EVENTS, "kic_event_keys");
        b->stmt_table[b->nstmt - 1] = WT_KEYS;
    }
    if (b->tables[WT_EVENTS].rows)
        b->events_stmt = b->nstmt;
    add_stmt(b, WT_EVENTS, b->safe ? write_stmt_names[WT_EVENTS] : "kic_events_new");
    add_stmt(b, WT_WRAPUPS, write_stmt_names[WT_WRAPUPS]);
    /* A call memory has never written goes in plainly when fast (it fails
     * the batch if storage has it after all, as a key does). */
    b->calls_new_stmt = b->tables[WT_CALLS_NEW].rows ? b->nstmt : -1;
    add_stmt(b, WT_CALLS_NEW, b->safe ? write_stmt_names[WT_CALLS] : "kic_calls_new");
    add_stmt(b, WT_CALLS, write_stmt_names[WT_CALLS]);
    add_stmt(b, WT_REPEATS, write_stmt_names[WT_REPEATS]);
    add_stmt(b, WT_LEGS_GONE, write_stmt_names[WT_LEGS_GONE]);
    add_stmt(b, WT_LEGS, write_stmt_names[WT_LEGS]);
    add_stmt(b, WT_SUMS, write_stmt_names[WT_SUMS]);
    /* plainly unless an interval may be in a batch before (which may
     * have committed by now): then a copy stored is no error */
    bool states_safe = b->safe || b->states_maybe_stored;
    b->states_stmt = b->tables[WT_STATES].rows && !states_safe ? b->nstmt : -1;
    add_stmt(b, WT_STATES, states_safe ? write_stmt_names[WT_STATES] : "kic_states_new");
    add_stmt(b, WT_CHOICES, write_stmt_names[WT_CHOICES]);
    add_stmt(b, WT_CHOSEN, write_stmt_names[WT_CHOSEN]);
    add_stmt(b, WT_CALLBACKS, write_stmt_names[WT_CALLBACKS]);
    add_stmt(b, WT_CB_NOTES, write_stmt_names[WT_CB_NOTES]);
    add_stmt(b, WT_CONTACTS, write_stmt_names[WT_CONTACTS]); /* kic_mark_earlier */
    add_stmt(b, WT_CONTACTS, "kic_mark_self");
}

static void submit_write(Writer *w, Batch *b);

static void decide(Writer *w, Batch *b)
{
    KicTime now = server_now();
    /* w->fx is empty here, or holds what a load just merged. */
    size_t done = 0;
    for (Record *r = b->records; r; r = r->next) {
        if (++done % PUMP_EVERY == 0)
            pgconn_pump(w->srv->pg_writer);
        size_t before = w->fx.nnotices;
        switch (r->kind) {
        case REC_EVENT: decide_event(w, b, r, now); break;
        case REC_AGENT_STATE: decide_state(w, b, r); break;
        case REC_WRAPUP: decide_wrapup(w, b, r, now); break;
        default: decide_callback(w, b, r); break;
        }
        /* Only for desktops connected now: most agents' calls have none
         * watching (a bridge's load), and building the notice cost more
         * than deciding the event. */
        for (size_t i = before; i < w->fx.nnotices; i++)
            if (tenant_has_desktop(r->tenant, w->fx.notices[i].agent))
                add_notice(b, r->tenant, &w->fx.notices[i]);
    }
    forget_stored_keys(w);
    effects_rows(w, b);
    b->generation = w->fx.batch;
    effects_reset(&w->fx);
    finish_tables(b);
    if (w->flight_tail)
        w->flight_tail->next = b;
    else
        w->flight_head = b;
    w->flight_tail = b;
    w->inflight++;
    submit_write(w, b);
    maybe_start(w);
}

/* ---- write ---- */

static void on_written(PgJob *job, void *arg);

/* How many parameters statement i takes. */
static int stmt_params(const Batch *b, int i)
{
    int t = b->stmt_table[i];
    if (t == WT_KEYS)
        return 3;
    return b->tables[t].ncols + (t == WT_SUMS); /* the write mark */
}

static void journal_flight(Writer *w);
static void on_journal_retry(evutil_socket_t fd, short what, void *arg);

static void submit_write(Writer *w, Batch *b)
{
    if (!pgconn_is_up(w->srv->pg_writer) && w->srv->journal) {
        b->awaiting_retry = true;
        journal_flight(w);
        return;
    }
    if (b->attempt > 0)
        b->safe = true; /* an earlier attempt may have stored some of it */
    plan_statements(b);
    PgJob *job = pgjob_new(on_written, b);
    for (int i = 0; i < b->nstmt; i++)
        pgjob_add_prepared(job, b->stmt_name[i], stmt_params(b, i), b->values[b->stmt_table[i]],
                           b->lengths[b->stmt_table[i]]);
    srv_log(w->srv, LOG_DEBUG, "writing a batch of %zu records in %d statements%s", b->n,
            b->nstmt, b->safe ? ", safe" : "");
    b->attempt++;
    b->awaiting_retry = false;
    b->write_started = server_now();
    if (!pgconn_submit(w->srv->pg_writer, job)) {
        pgjob_free(job);
        b->awaiting_retry = true;
        return;
    }
    w->results_due++;
}

static bool stmt_failed(PgJob *job, int i)
{
    PGresult *r = i >= 0 ? pgjob_result(job, i) : NULL;
    return r && PQresultStatus(r) == PGRES_FATAL_ERROR;
}

/* A fast batch failed on a row already stored: an event key (an event id
 * memory does not know, its call evicted, came again), a state interval
 * (opened before a restart, or longer ago than the agent's latest few),
 * or a call memory took for new. Nothing of the batch was stored. */
static bool fast_write_met_stored(PgJob *job, const Batch *b, const char **what)
{
    const char *state = pgjob_sqlstate(job);
    if (b->safe || !state || strcmp(state, "23505"))
        return false;
    if (b->events_stmt >= 1 && stmt_failed(job, b->events_stmt - 1)) {
        *what = "an event id";
        return true;
    }
    if (stmt_failed(job, b->states_stmt)) {
        *what = "an agent's state interval";
        return true;
    }
    if (stmt_failed(job, b->calls_new_stmt)) {
        *what = "a call";
        return true;
    }
    return false;
}

/* Sends again every batch waiting for it, in order. */
static void resend_waiting(Writer *w)
{
    for (Batch *b = w->flight_head; b; b = b->next) {
        if (b->awaiting_retry) {
            srv_log(w->srv, LOG_INFO, "re-sending a batch of %zu records", b->n);
            submit_write(w, b);
        }
    }
}

/* A rewind: the failed batch and every batch sent after it go again, in
 * order and safe, once all their results are in (a later batch may have
 * committed; its calls rows must not be overwritten by the older ones of
 * the failed batch). New batches wait meanwhile. */
static void rewind_result(Writer *w, Batch *b, bool failed_here)
{
    b->awaiting_retry = true;
    b->safe = true;
    if (!failed_here)
        b->count_events = false; /* it may have committed */
    if (w->results_due == 0) {
        w->rewinding = false;
        resend_waiting(w);
        maybe_start(w);
    }
}

static void on_written(PgJob *job, void *arg)
{
    Batch *b = arg;
    Writer *w = b->writer;
    w->results_due--;
    if (pgjob_conn_lost(job)) {
        /* resent, safe, when the connection is back (with all after it) */
        for (Batch *x = b; x; x = x->next) {
            x->awaiting_retry = true;
            x->count_events = false;
        }
        w->rewinding = false;
        return;
    }
    const char *what = NULL;
    bool on_stored = fast_write_met_stored(job, b, &what);
    if (on_stored || w->rewinding) {
        if (on_stored && !w->rewinding) {
            srv_log(w->srv, LOG_INFO, "%s of a batch of %zu was stored before;"
                                      " writing it again, checking each row", what, b->n);
            w->rewinding = true;
        }
        rewind_result(w, b, on_stored);
        return;
    }
    /* Results come back in the order batches were sent. */
    w->flight_head = b->next;
    if (!w->flight_head)
        w->flight_tail = NULL;
    w->inflight--;
    if (pgjob_error(job)) {
        srv_log(w->srv, LOG_ERROR, "batch of %zu records not stored: %s", b->n, pgjob_error(job));
        w->fx.trusted_from = w->fx.batch + 1; /* what was decided with it may be lost too */
        for (Batch *x = w->flight_head; x; x = x->next)
            x->after_failure = true;
        /* Memory is ahead of storage now: reload what storage has. */
        for (Record *r = b->records; r; r = r->next)
            store_resync(w->srv, r->tenant);
        RpcError e = {0};
        rpc_error_set(&e, RPC_INTERNAL, "internal error: the change could not be stored");
        batch_finish(w, b, &e);
        maybe_start(w);
        return;
    }
    w->stats.commit_us_total += (uint64_t)(server_now() - b->write_started);
    w->stats.stored++;
    if (b->generation > w->fx.stored_through)
        w->fx.stored_through = b->generation;
    mon_observe(&w->srv->metrics->commit_seconds,
                (double)(server_now() - b->write_started) / KIC_USEC);
    if (b->events_stmt >= 0 && b->count_events) {
        long long stored = atoll(PQcmdTuples(pgjob_result(job, b->events_stmt)));
        if (stored != b->events_expected) {
            /* Some event ids were already stored under another call:
             * storage is right, memory must follow it. */
            srv_log(w->srv, LOG_WARN, "%lld of %lld events were already stored; resyncing",
                    b->events_expected - stored, b->events_expected);
            for (Record *r = b->records; r; r = r->next)
                store_resync(w->srv, r->tenant);
        }
    }
    batch_finish(w, b, NULL);
    maybe_start(w);
}

/* ---- public ---- */

Writer *writer_new(Server *s)
{
    Writer *w = calloc(1, sizeof(*w));
    if (!w)
        return NULL;
    w->srv = s;
    effects_reset(&w->fx); /* batches count from 1 */
    w->fx.trusted_from = 1;
    w->ev_timer = evtimer_new(s->base, on_timer, w);
    w->ev_journal_retry = evtimer_new(s->base, on_journal_retry, w);
    write_sql_prepare(w->prepared, w->prepared_sql, s->cfg.repeat_window_days);
    if (!w->ev_timer || !w->ev_journal_retry) {
        writer_free(w);
        return NULL;
    }
    return w;
}

void writer_free(Writer *w)
{
    if (!w)
        return;
    RpcError e = {0};
    rpc_error_set(&e, RPC_STORAGE_UNAVAILABLE, "storage unavailable: server stopping");
    while (w->flight_head) {
        Batch *b = w->flight_head;
        w->flight_head = b->next;
        batch_finish(w, b, &e);
    }
    if (w->loading)
        batch_finish(w, w->loading, &e);
    while (w->qhead) {
        Record *r = w->qhead;
        w->qhead = r->next;
        record_finish(w->srv->metrics, r, &e);
    }
    if (w->stats.batches)
        srv_log(w->srv, LOG_INFO,
                "writer: %llu batches, %llu records (%.1f a batch), %.2f ms from send to commit",
                (unsigned long long)w->stats.batches, (unsigned long long)w->stats.records,
                (double)w->stats.records / (double)w->stats.batches,
                (double)w->stats.commit_us_total / 1000.0 / (double)w->stats.batches);
    if (w->ev_timer)
        event_free(w->ev_timer);
    if (w->ev_journal_retry)
        event_free(w->ev_journal_retry);
    effects_free(&w->fx);
    forget_stored_keys(w);
    while (w->nspare)
        batch_destroy(w->spare[--w->nspare]);
    write_sql_free(w->prepared_sql);
    free(w);
}

/* ---- the journal ---- */

_Static_assert(WRITE_MAX_STMTS <= JOURNAL_MAX_STMTS, "a batch's statements fit a journal record");

static void batch_to_journal(Batch *b, JournalBatch *jb)
{
    b->safe = true; /* a replay may find some of it stored */
    plan_statements(b);
    memcpy(jb->id, b->id, JOURNAL_ID_LEN);
    jb->nstmts = b->nstmt;
    for (int i = 0; i < b->nstmt; i++) {
        JournalStmt *st = &jb->stmts[i];
        int t = b->stmt_table[i];
        snprintf(st->name, sizeof(st->name), "%s", b->stmt_name[i]);
        st->nparams = stmt_params(b, i);
        memcpy(st->values, b->values[t], (size_t)st->nparams * sizeof(char *));
        memcpy(st->lengths, b->lengths[t], (size_t)st->nparams * sizeof(int));
    }
}

#define JOURNAL_RETRY_S 1

/* PostgreSQL is down: every batch in flight (sent or not, its outcome
 * unknown) goes to the journal, in order, and is acknowledged once
 * fsynced. When the journal cannot be written (a full disk), nothing
 * unsynced is acknowledged: the batches in flight wait, new records are
 * refused with -32050 (nothing recorded), and the journal is tried again
 * every second until it works or PostgreSQL is back. */
static void journal_flight(Writer *w)
{
    while (w->flight_head) {
        Batch *b = w->flight_head;
        JournalBatch *jb = malloc(sizeof(*jb));
        char err[512];
        if (!jb)
            abort();
        batch_to_journal(b, jb);
        bool ok = journal_append(w->srv->journal, jb, err, sizeof(err));
        free(jb);
        if (!ok) {
            if (!w->journal_broken)
                srv_log(w->srv, LOG_ERROR,
                        "%s: new records are refused (-32050) until the journal can be "
                        "written or PostgreSQL is back; %d batches in flight wait",
                        err, w->inflight);
            w->journal_broken = true;
            struct timeval tv = {JOURNAL_RETRY_S, 0};
            evtimer_add(w->ev_journal_retry, &tv);
            return;
        }
        if (w->journal_broken) {
            w->journal_broken = false;
            srv_log(w->srv, LOG_WARN, "the journal can be written again");
        }
        w->flight_head = b->next;
        if (!w->flight_head)
            w->flight_tail = NULL;
        w->inflight--;
        w->stats.journaled++;
        batch_finish(w, b, NULL);
    }
}

static void on_journal_retry(evutil_socket_t fd, short what, void *arg)
{
    Writer *w = arg;
    if (!w->journal_broken || pgconn_is_up(w->srv->pg_writer))
        return; /* writer_pg_state has taken over */
    journal_flight(w);
    maybe_start(w);
}

static void on_replayed(Server *s, bool ok)
{
    Writer *w = s->writer;
    w->replaying = false;
    if (ok) {
        w->journal_tried = journal_records(s->journal);
        server_storage_caught_up(s);
    }
    /* after the journal, never before: see writer_pg_state (if PostgreSQL
     * went away again, they join the journal behind its records) */
    resend_waiting(w);
    maybe_start(w);
}

void writer_locked_out(Writer *w, bool out)
{
    w->locked_out = out;
    if (!out)
        maybe_start(w);
}

void writer_pg_state(Writer *w, bool up)
{
    if (!up) {
        if (w->srv->journal)
            journal_flight(w);
        maybe_start(w); /* queued records go to the journal now */
        return;
    }
    w->journal_broken = false; /* what waited for it goes to PostgreSQL */
    /* In order: the journal's records first, then the batches that could
     * not be journaled (a full disk) and waited, then new ones. The rows
     * of calls, agents' choices and callbacks are written whole, so a
     * journal record replayed after a newer batch put the older row back
     * (an acknowledged state or callback completion lost). */
    if (journal_records(w->srv->journal) > 0) {
        if (!w->replaying) {
            w->replaying = true; /* new batches wait until the journal is in */
            replay_start(w->srv, on_replayed);
        }
        return; /* on_replayed sends the waiting batches */
    }
    resend_waiting(w);
    server_storage_caught_up(w->srv);
    maybe_start(w);
}

bool writer_replaying(const Writer *w)
{
    return w->replaying;
}

bool writer_journal_pending(const Writer *w)
{
    return journal_records(w->srv->journal) > w->journal_tried;
}

const PgPrepared *writer_statements(const Writer *w)
{
    return w->prepared;
}

void writer_hold(Writer *w)
{
    w->held++;
}

void writer_release(Writer *w)
{
    if (w->held > 0 && --w->held == 0)
        maybe_start(w);
}

bool writer_loading(const Writer *w)
{
    return w->loading != NULL;
}

void writer_stats(const Writer *w, WriterStats *out)
{
    *out = w->stats;
    out->queued = w->queued;
}
