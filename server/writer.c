/* Group commit (see writer.h). A batch goes through three steps:
 *   load    calls that the batch touches but memory lacks (old calls
 *           getting a late event) are read from storage first;
 *   decide  each record is applied to its tenant's centre, in order;
 *           the effects become a few JSON arrays;
 *   write   BEGIN; one statement per table; COMMIT, in one pipeline.
 * If the connection drops during the write, the same statements are sent
 * again when it is back (they are idempotent: keys and ON CONFLICT);
 * replies wait until a COMMIT succeeded. */
#include "writer.h"

#include <stdlib.h>
#include <string.h>

#include "pg.h"
#include "rows.h"
#include "store.h"
#include "strbuf.h"

#define WRITE_MAX_STMTS 10
#define QUEUE_MAX 200000

typedef struct PendingNotice {
    Tenant *tenant;
    char agent[KIC_MAX_FIELD + 1];
    const char *method;
    json_t *params;
} PendingNotice;

struct Writer {
    Server *srv;
    Record *qhead, *qtail;
    size_t queued;
    struct event *ev_timer;

    /* The batch in flight. */
    Record *bhead;
    size_t bn;
    bool busy;
    int held;            /* writer_hold count */
    bool awaiting_retry; /* the write was cut off: resend when up */
    int attempt;
    const char *sql[WRITE_MAX_STMTS];
    char *params[WRITE_MAX_STMTS][2];
    int nparams[WRITE_MAX_STMTS];
    int nstmt;
    int events_stmt; /* index of the events insert, -1 if none */
    long long events_expected;
    Effects fx;
    PendingNotice *notices;
    size_t nnotices, cap_notices;
    StrMap choices; /* "tenant:agent" -> last choice row of this batch */
    KicTime write_started;
    char *calls_sql;

    WriterStats stats;
};

static const char sql_load_events[] =
    "SELECT e.tenant_id, e.type, e.payload::text FROM events e"
    " JOIN json_to_recordset($1::json) AS x(tenant_id bigint, call_id text)"
    "   USING (tenant_id, call_id)"
    " ORDER BY e.tenant_id, e.call_id";
static const char sql_load_calls[] =
    "SELECT c.tenant_id, c.call_id, c.followed_by_repeat FROM calls c"
    " JOIN json_to_recordset($1::json) AS x(tenant_id bigint, call_id text)"
    "   USING (tenant_id, call_id)";
static const char sql_load_wrapups[] =
    "SELECT w.tenant_id, w.call_id, w.agent, (extract(epoch FROM w.at) * 1000000)::bigint,"
    "       w.category, w.resolved, w.follow_up, w.caller_type FROM wrapups w"
    " JOIN json_to_recordset($1::json) AS x(tenant_id bigint, call_id text)"
    "   USING (tenant_id, call_id)";

static const char sql_events[] =
    "WITH r AS MATERIALIZED (SELECT * FROM json_to_recordset($1::json) AS x("
    "   tenant_id bigint, call_id text, at timestamptz, event_id text, type text, payload jsonb)),"
    " k AS (INSERT INTO event_keys (tenant_id, event_id, at)"
    "       SELECT tenant_id, event_id, at FROM r ON CONFLICT DO NOTHING"
    "       RETURNING tenant_id, event_id)"
    " INSERT INTO events (tenant_id, call_id, at, event_id, type, payload)"
    " SELECT r.tenant_id, r.call_id, r.at, r.event_id, r.type, r.payload"
    " FROM r JOIN k USING (tenant_id, event_id)";
static const char sql_states[] =
    "INSERT INTO agent_states (tenant_id, agent, since, state, reason)"
    " SELECT tenant_id, agent, since, state, reason FROM json_to_recordset($1::json)"
    "   AS x(tenant_id bigint, agent text, since timestamptz, state text, reason text)"
    " ON CONFLICT DO NOTHING";
static const char sql_choices[] =
    "INSERT INTO agent_choices (tenant_id, agent, chosen, since, reason, offline_since)"
    " SELECT tenant_id, agent, chosen, since, reason, offline_since"
    " FROM json_populate_recordset(NULL::agent_choices, $1::json)"
    " ON CONFLICT (tenant_id, agent) DO UPDATE SET chosen = EXCLUDED.chosen,"
    "   since = EXCLUDED.since, reason = EXCLUDED.reason, offline_since = EXCLUDED.offline_since";
static const char sql_wrapups[] =
    "INSERT INTO wrapups (tenant_id, call_id, agent, at, category, resolved, follow_up,"
    "                     caller_type, note, acw_s)"
    " SELECT tenant_id, call_id, agent, at, category, resolved, follow_up, caller_type, note, acw_s"
    " FROM json_populate_recordset(NULL::wrapups, $1::json) ON CONFLICT DO NOTHING";
/* Repeats settled in storage too, for contacts older than memory holds:
 * a new contact marks earlier ones of the same caller within their
 * window; and is marked itself when a later one already exists. The
 * window is in calendar days of the session time zone (set at connect). */
static const char sql_mark_earlier[] =
    "UPDATE calls c SET followed_by_repeat = true"
    " FROM json_to_recordset($1::json) AS n(tenant_id bigint, call_id text, caller_key text,"
    "                                       offered_at timestamptz, trigger boolean)"
    " WHERE n.trigger AND c.tenant_id = n.tenant_id AND c.caller_key = n.caller_key"
    "   AND NOT c.followed_by_repeat AND (c.offered_at, c.call_id) < (n.offered_at, n.call_id)"
    "   AND n.offered_at <= c.offered_at + make_interval(days => $2::int)";
static const char sql_mark_self[] =
    "UPDATE calls c SET followed_by_repeat = true"
    " FROM json_to_recordset($1::json) AS n(tenant_id bigint, call_id text, caller_key text,"
    "                                       offered_at timestamptz, trigger boolean)"
    " WHERE c.tenant_id = n.tenant_id AND c.call_id = n.call_id AND NOT c.followed_by_repeat"
    "   AND EXISTS (SELECT 1 FROM calls l WHERE l.tenant_id = c.tenant_id"
    "     AND l.caller_key = c.caller_key AND l.direction = 'inbound'"
    "     AND l.transferred_from IS NULL AND (l.offered_at, l.call_id) > (c.offered_at, c.call_id)"
    "     AND l.offered_at <= c.offered_at + make_interval(days => $2::int))";

/* Columns of calls written from rows_call (updated_at is the server's). */
static const char *const call_columns[] = {
    "tenant_id", "call_id", "queue", "location", "channel", "direction", "caller_key",
    "caller_withheld", "transferred_from", "callback_id", "offered_at", "answered_at",
    "abandoned_at", "ended_at", "part_end_at", "agent", "answered", "abandoned", "ended",
    "ended_by", "transferred", "transfer_target", "transfer_kind", "transfer_mode", "team",
    "wait_s", "talk_s", "hold_s", "acw_s", "wrapped_at", "category", "resolved", "caller_type",
    "follow_up", "followed_by_repeat", "complete", "events", NULL};

static char *build_calls_sql(void)
{
    StrBuf b = STRBUF_INIT;
    strbuf_puts(&b, "INSERT INTO calls (");
    for (int i = 0; call_columns[i]; i++)
        strbuf_printf(&b, "%s%s", i ? ", " : "", call_columns[i]);
    strbuf_puts(&b, ") SELECT ");
    for (int i = 0; call_columns[i]; i++)
        strbuf_printf(&b, "%s%s", i ? ", " : "", call_columns[i]);
    strbuf_puts(&b, " FROM json_populate_recordset(NULL::calls, $1::json)"
                    " ON CONFLICT (tenant_id, call_id) DO UPDATE SET ");
    for (int i = 2; call_columns[i]; i++) {
        if (strcmp(call_columns[i], "followed_by_repeat") == 0)
            strbuf_puts(&b, "followed_by_repeat = calls.followed_by_repeat OR "
                            "EXCLUDED.followed_by_repeat, ");
        else
            strbuf_printf(&b, "%s = EXCLUDED.%s, ", call_columns[i], call_columns[i]);
    }
    strbuf_puts(&b, "updated_at = now()");
    return strbuf_steal(&b);
}

/* ---- records ---- */

Record *record_new(RecordKind kind, Tenant *t, Reply *reply)
{
    Record *r = calloc(1, sizeof(*r));
    if (!r)
        abort();
    r->kind = kind;
    r->tenant = t;
    r->reply = reply;
    return r;
}

static void record_free(Record *r)
{
    event_parse_free(&r->ev);
    free(r->state.reason);
    wrapup_free(r->wrap.wrapup);
    free(r->wrap.note);
    json_decref(r->result);
    rpc_error_clear(&r->error);
    free(r);
}

/* Answers a record as decided (or with err when given) and frees it. */
static void record_finish(Record *r, const RpcError *err)
{
    if (r->reply) {
        if (err)
            reply_error(r->reply, err);
        else if (r->result)
            reply_result(r->reply, json_incref(r->result));
        else
            reply_error(r->reply, &r->error);
    }
    record_free(r);
}

/* ---- queue ---- */

static void start_batch(Writer *w);

static void maybe_start(Writer *w)
{
    if (w->busy || w->held || !w->qhead || !pgconn_is_up(w->srv->pg_writer))
        return;
    KicTime age = server_now() - w->qhead->queued_at;
    if (w->queued >= (size_t)w->srv->cfg.batch_max || age >= w->srv->cfg.batch_wait_us) {
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
    if (w->queued >= QUEUE_MAX) {
        RpcError e = {0};
        rpc_error_set(&e, RPC_OVERLOADED, "overloaded: %zu records waiting, retry later",
                      w->queued);
        record_finish(r, &e);
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

static void decide(Writer *w);

typedef struct CallKey {
    Tenant *tenant;
    const char *call_id;
} CallKey;

static void on_loaded(PgJob *job, void *arg);

/* Old calls the batch touches that memory does not hold, as JSON. */
static char *loads_needed(Writer *w)
{
    json_t *list = json_array();
    StrMap seen = STRMAP_INIT;
    StrBuf key = STRBUF_INIT;
    for (Record *r = w->bhead; r; r = r->next) {
        const char *call_id = NULL;
        if (r->kind == REC_EVENT && centre_needs_load(r->tenant->centre, r->ev.event))
            call_id = r->ev.event->call_id;
        else if (r->kind == REC_WRAPUP && !centre_call(r->tenant->centre, r->wrap.call_id))
            call_id = r->wrap.call_id;
        if (!call_id)
            continue;
        strbuf_reset(&key);
        strbuf_printf(&key, "%s:%s", r->tenant->id_text, call_id);
        if (strmap_get(&seen, key.data))
            continue;
        strmap_put(&seen, strbuf_steal(&key), r);
        json_array_append_new(list, json_pack("{s:I, s:s}", "tenant_id",
                                              (json_int_t)r->tenant->id, "call_id", call_id));
    }
    size_t pos = 0;
    const char *k;
    while (strmap_next(&seen, &pos, &k, NULL))
        free((char *)k);
    strmap_free(&seen);
    strbuf_free(&key);
    char *text = json_array_size(list) ? json_dumps(list, JSON_COMPACT) : NULL;
    json_decref(list);
    return text;
}

static void start_batch(Writer *w)
{
    size_t max = (size_t)w->srv->cfg.batch_max;
    w->busy = true;
    w->bhead = w->qhead;
    Record *last = w->qhead;
    w->bn = 1;
    while (w->bn < max && last->next) {
        last = last->next;
        w->bn++;
    }
    w->qhead = last->next;
    if (!w->qhead)
        w->qtail = NULL;
    last->next = NULL;
    w->queued -= w->bn;

    char *loads = loads_needed(w);
    if (!loads) {
        decide(w);
        return;
    }
    PgJob *job = pgjob_new(on_loaded, w);
    const char *args[] = {loads};
    pgjob_add(job, sql_load_events, 1, args);
    pgjob_add(job, sql_load_calls, 1, args);
    pgjob_add(job, sql_load_wrapups, 1, args);
    free(loads);
    if (!pgconn_submit(w->srv->pg_writer, job)) {
        pgjob_free(job);
        on_loaded(NULL, w);
    }
}

/* Puts the batch back at the head of the queue (nothing was decided). */
static void requeue_batch(Writer *w)
{
    Record *last = w->bhead;
    while (last->next)
        last = last->next;
    last->next = w->qhead;
    w->qhead = w->bhead;
    if (!w->qtail)
        w->qtail = last;
    w->queued += w->bn;
    w->bhead = NULL;
    w->bn = 0;
    w->busy = false;
}

static void on_loaded(PgJob *job, void *arg)
{
    Writer *w = arg;
    if (!job || pgjob_error(job)) {
        if (job && !pgjob_conn_lost(job))
            srv_log(w->srv, LOG_ERROR, "loading calls failed: %s", pgjob_error(job));
        requeue_batch(w); /* tried again when the connection is back */
        return;
    }
    store_merge_calls(w->srv, pgjob_result(job, 0), pgjob_result(job, 1),
                      pgjob_result(job, 2), &w->fx);
    decide(w);
}

/* ---- decide ---- */

static void add_notice(Writer *w, Tenant *t, const Notice *n)
{
    if (w->nnotices == w->cap_notices) {
        w->cap_notices = w->cap_notices ? w->cap_notices * 2 : 64;
        w->notices = realloc(w->notices, w->cap_notices * sizeof(PendingNotice));
        if (!w->notices)
            abort();
    }
    PendingNotice *p = &w->notices[w->nnotices++];
    p->tenant = t;
    snprintf(p->agent, sizeof(p->agent), "%s", n->agent);
    if (n->kind == NOTICE_CONNECTED) {
        p->method = "call.connected";
        p->params = json_pack("{s:s, s:s, s:i}", "call_id", n->call_id, "queue", n->queue,
                              "repeat_contacts", n->earlier_contacts);
    } else {
        p->method = "call.ended";
        p->params = json_pack("{s:s, s:s, s:b, s:b}", "call_id", n->call_id, "queue", n->queue,
                              "transferred", n->transferred, "wrapup_due", 1);
    }
}

static void decide_event(Writer *w, Record *r, json_t *events, KicTime now)
{
    Centre *c = r->tenant->centre;
    json_t *row = rows_event(r->tenant->id, r->ev.event, r->ev.stored);
    Event *ev = r->ev.event;
    r->ev.event = NULL; /* the centre owns it now (or frees a duplicate) */
    ApplyResult ar = centre_apply_event(c, ev, now, true, &w->fx);
    if (ar == APPLY_NEW) {
        json_array_append_new(events, row);
        w->stats.events_new++;
    } else {
        json_decref(row);
        w->stats.events_duplicate++;
    }
    r->result = json_pack("{s:b, s:b}", "accepted", 1, "duplicate", ar == APPLY_DUPLICATE);
}

static void decide_state(Writer *w, Record *r, KicTime now)
{
    Centre *c = r->tenant->centre;
    centre_set_agent_state(c, r->state.agent, r->state.chosen, r->state.reason, r->state.at,
                           &w->fx);
    Agent *a = centre_agent(c, r->state.agent);
    char key[KIC_MAX_FIELD + 32];
    snprintf(key, sizeof(key), "%s:%s", r->tenant->id_text, a->id);
    json_t *old = strmap_get(&w->choices, key);
    if (old) {
        json_object_update(old, rows_choice(r->tenant->id, a));
    } else {
        char *k = strdup(key);
        if (!k)
            abort();
        strmap_put(&w->choices, k, rows_choice(r->tenant->id, a));
    }
    char since[40];
    time_format_local(a->since, since, sizeof(since));
    r->result = json_pack("{s:s, s:s, s:s}", "state", agent_state_names[a->state], "since", since,
                          "chosen", agent_state_names[a->chosen]);
}

static void decide_wrapup(Writer *w, Record *r, json_t *wrapups, KicTime now)
{
    Centre *c = r->tenant->centre;
    Wrapup *wu = r->wrap.wrapup;
    switch (centre_check_wrapup(c, r->wrap.call_id, wu->agent, wu->at)) {
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
    r->wrap.wrapup = NULL;
    centre_apply_wrapup(c, r->wrap.call_id, wu, now, &acw_us, &w->fx);
    json_t *row = json_pack(
        "{s:I, s:s, s:s, s:o, s:s, s:b, s:o, s:o, s:o, s:f}", "tenant_id",
        (json_int_t)r->tenant->id, "call_id", r->wrap.call_id, "agent", wu->agent, "at",
        rows_time(wu->at), "category", wu->category, "resolved", wu->resolved, "follow_up",
        wu->follow_up >= 0 ? json_string(follow_up_names[wu->follow_up]) : json_null(),
        "caller_type",
        wu->caller_type >= 0 ? json_string(caller_type_names[wu->caller_type]) : json_null(),
        "note", r->wrap.note ? json_string(r->wrap.note) : json_null(), "acw_s",
        (double)acw_us / 1e6);
    json_array_append_new(wrapups, row);
    r->result = json_pack("{s:f}", "acw_seconds", (double)acw_us / 1e6);
}

static void add_stmt(Writer *w, const char *sql, json_t *rows, const char *second)
{
    if (!json_array_size(rows)) {
        json_decref(rows);
        return;
    }
    int i = w->nstmt++;
    w->sql[i] = sql;
    w->params[i][0] = json_dumps(rows, JSON_COMPACT);
    w->params[i][1] = second ? strdup(second) : NULL;
    w->nparams[i] = second ? 2 : 1;
    json_decref(rows);
}

static void submit_write(Writer *w);

static void free_statements(Writer *w)
{
    for (int i = 0; i < w->nstmt; i++) {
        free(w->params[i][0]);
        free(w->params[i][1]);
        w->params[i][0] = w->params[i][1] = NULL;
    }
    w->nstmt = 0;
    w->events_stmt = -1;
}

/* The batch's effects as statements. */
static void build_statements(Writer *w, json_t *events, json_t *wrapups)
{
    json_t *calls = json_array(), *states = json_array(), *choices = json_array(),
           *contacts = json_array();
    for (size_t i = 0; i < w->fx.ndirty; i++)
        json_array_append_new(calls, rows_call(w->fx.dirty[i]->tenant, w->fx.dirty[i]));
    for (size_t i = 0; i < w->fx.ntransitions; i++)
        json_array_append_new(states, rows_transition(w->fx.transitions[i].tenant,
                                                      &w->fx.transitions[i]));
    for (size_t i = 0; i < w->fx.nnew; i++)
        json_array_append_new(contacts, rows_new_contact(w->fx.new_contacts[i]->tenant,
                                                         w->fx.new_contacts[i]));
    size_t pos = 0;
    const char *key;
    void *row;
    while (strmap_next(&w->choices, &pos, &key, &row)) {
        json_array_append_new(choices, row);
        free((char *)key);
    }
    strmap_free(&w->choices);

    char window[16];
    snprintf(window, sizeof(window), "%lld", w->srv->cfg.repeat_window_days);
    free_statements(w);
    w->events_expected = (long long)json_array_size(events);
    w->sql[w->nstmt++] = "BEGIN";
    if (json_array_size(events))
        w->events_stmt = w->nstmt;
    add_stmt(w, sql_events, events, NULL);
    add_stmt(w, sql_wrapups, wrapups, NULL);
    add_stmt(w, w->calls_sql, calls, NULL);
    add_stmt(w, sql_states, states, NULL);
    add_stmt(w, sql_choices, choices, NULL);
    if (json_array_size(contacts)) {
        add_stmt(w, sql_mark_earlier, json_incref(contacts), window);
        add_stmt(w, sql_mark_self, json_incref(contacts), window);
    }
    json_decref(contacts);
    w->sql[w->nstmt] = "COMMIT";
    w->nparams[w->nstmt] = 0;
    w->nstmt++;
}

static void decide(Writer *w)
{
    KicTime now = server_now();
    json_t *events = json_array(), *wrapups = json_array();
    effects_reset(&w->fx);
    for (Record *r = w->bhead; r; r = r->next) {
        size_t before = w->fx.nnotices;
        switch (r->kind) {
        case REC_EVENT: decide_event(w, r, events, now); break;
        case REC_AGENT_STATE: decide_state(w, r, now); break;
        case REC_WRAPUP: decide_wrapup(w, r, wrapups, now); break;
        }
        for (size_t i = before; i < w->fx.nnotices; i++)
            add_notice(w, r->tenant, &w->fx.notices[i]);
    }
    build_statements(w, events, wrapups);
    w->attempt = 0;
    submit_write(w);
}

/* ---- write ---- */

static void on_written(PgJob *job, void *arg);

static void submit_write(Writer *w)
{
    PgJob *job = pgjob_new(on_written, w);
    for (int i = 0; i < w->nstmt; i++)
        pgjob_add(job, w->sql[i], w->nparams[i], (const char *const *)w->params[i]);
    w->attempt++;
    w->write_started = server_now();
    if (!pgconn_submit(w->srv->pg_writer, job)) {
        pgjob_free(job);
        w->awaiting_retry = true;
    }
}

static void finish_batch(Writer *w, const RpcError *err)
{
    Record *r = w->bhead;
    w->bhead = NULL;
    while (r) {
        Record *next = r->next;
        record_finish(r, err);
        r = next;
    }
    for (size_t i = 0; i < w->nnotices; i++) {
        PendingNotice *p = &w->notices[i];
        if (!err)
            tenant_notify_agent(p->tenant, p->agent, p->method, p->params);
        json_decref(p->params);
    }
    w->nnotices = 0;
    w->stats.batches++;
    w->stats.records += w->bn;
    w->stats.last_batch = w->bn;
    w->bn = 0;
    free_statements(w);
    w->busy = false;
}

static void on_written(PgJob *job, void *arg)
{
    Writer *w = arg;
    if (pgjob_conn_lost(job)) {
        /* Resent, unchanged, when the connection is back. */
        w->awaiting_retry = true;
        return;
    }
    if (pgjob_error(job)) {
        srv_log(w->srv, LOG_ERROR, "batch of %zu records not stored: %s", w->bn,
                pgjob_error(job));
        /* Memory is ahead of storage now: reload what storage has. */
        for (Record *r = w->bhead; r; r = r->next)
            store_resync(w->srv, r->tenant);
        effects_written(&w->fx);
        RpcError e = {0};
        rpc_error_set(&e, RPC_INTERNAL, "internal error: the change could not be stored");
        finish_batch(w, &e);
        maybe_start(w);
        return;
    }
    w->stats.commit_us_total += (uint64_t)(server_now() - w->write_started);
    if (w->events_stmt >= 0 && w->attempt == 1) {
        long long stored = atoll(PQcmdTuples(pgjob_result(job, w->events_stmt)));
        if (stored != w->events_expected) {
            /* Some event ids were already stored under another call:
             * storage is right, memory must follow it. */
            srv_log(w->srv, LOG_WARN, "%lld of %lld events were already stored; resyncing",
                    w->events_expected - stored, w->events_expected);
            for (Record *r = w->bhead; r; r = r->next)
                store_resync(w->srv, r->tenant);
        }
    }
    effects_written(&w->fx);
    finish_batch(w, NULL);
    maybe_start(w);
}

/* ---- public ---- */

Writer *writer_new(Server *s)
{
    Writer *w = calloc(1, sizeof(*w));
    if (!w)
        return NULL;
    w->srv = s;
    w->events_stmt = -1;
    w->ev_timer = evtimer_new(s->base, on_timer, w);
    w->calls_sql = build_calls_sql();
    if (!w->ev_timer || !w->calls_sql) {
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
    if (w->bhead)
        finish_batch(w, &e);
    while (w->qhead) {
        Record *r = w->qhead;
        w->qhead = r->next;
        record_finish(r, &e);
    }
    if (w->ev_timer)
        event_free(w->ev_timer);
    effects_free(&w->fx);
    free(w->notices);
    free(w->calls_sql);
    free(w);
}

void writer_pg_state(Writer *w, bool up)
{
    if (!up)
        return;
    if (w->awaiting_retry) {
        w->awaiting_retry = false;
        srv_log(w->srv, LOG_INFO, "re-sending a batch of %zu records", w->bn);
        submit_write(w);
        return;
    }
    maybe_start(w);
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

bool writer_idle(const Writer *w)
{
    return !w->busy && !w->qhead;
}

void writer_stats(const Writer *w, WriterStats *out)
{
    *out = w->stats;
    out->queued = w->queued;
}
