/* report.query: the metrics of DESIGN.md over [from, to), per interval
 * (aligned to local time in `tz`, so days are 23 or 25 hours when the
 * clocks change) and per any grouping. Storage returns only sums, the
 * same MetricSums the live statistics use; rates come from
 * metrics_compute, so a metric is defined in one place.
 *
 * Where the sums come from:
 * - call_sums_15m (the rollup kicd keeps with every write) when grouping
 *   by queue, channel and direction only and from/to fall on quarter
 *   hours: fast for a year of a large centre;
 * - otherwise the calls table, with filters that state metrics_add_call
 *   again in SQL (tests hold the two paths equal).
 * Final FCR counts a contact once its repeat window has closed (per
 * quarter hour on the rollup path); until then it is pending. Callbacks
 * are reported as cohorts: those requested in the interval, and what
 * became of them. Occupancy comes with a grouping by agent alone. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "audit.h"
#include "erlang.h"
#include "jsonw.h"
#include "methods.h"
#include "params.h"
#include "pg.h"
#include "report.h"
#include "report_req.h"
#include "report_rows.h"
#include "report_sql.h"
#include "tenants.h"

const char *const report_intervals[] = {"15m", "30m", "1h", "1d", "1w", "1mo", "all", NULL};
const char *const report_steps[] = {"15 minutes", "30 minutes", "1 hour", "1 day",
                                    "1 week",     "1 month",    NULL};
const char *const report_dim_names[] = {"queue",       "location", "agent",     "category",
                                        "caller_type", "channel",  "direction", "team", NULL};

ReportReq *report_req_new(void)
{
    ReportReq *q = calloc(1, sizeof(*q));
    if (!q)
        abort();
    return q;
}

void report_req_free(ReportReq *q)
{
    free(q);
}

/* ---- request ---- */

/* `from` plus ten calendar years (counted in UTC), and three hours for
 * the offsets the report's zone may have at either end. */
static KicTime ten_years_after(KicTime from)
{
    time_t sec = (time_t)(from / KIC_USEC);
    if (from % KIC_USEC < 0)
        sec--;
    struct tm tm;
    gmtime_r(&sec, &tm);
    tm.tm_year += 10;
    return (KicTime)timegm(&tm) * KIC_USEC + (from - (KicTime)sec * KIC_USEC) +
           3LL * 3600 * KIC_USEC;
}

bool report_parse(json_t *params, const Config *cfg, ReportReq *q, RpcError *err)
{
    memset(q, 0, sizeof(*q));
    json_t *group;
    const char *tz;
    if (!param_time(params, "from", true, &q->from, err) ||
        !param_time(params, "to", true, &q->to, err) ||
        !param_enum(params, "interval", true, report_intervals, &q->interval, err) ||
        !param_string_list(params, "group_by", false, 8, 32, &group, err) ||
        !param_string(params, "tz", false, 64, &tz, err))
        return false;
    if (tz && (strlen(tz) >= sizeof(q->tz) || !time_zone_exists(tz))) {
        rpc_error_field(err, "tz", "is not a known time zone");
        return false;
    }
    if (q->to <= q->from) {
        rpc_error_field(err, "to", "must be after from");
        return false;
    }
    if (q->to > ten_years_after(q->from)) {
        rpc_error_field(err, "to", "must be at most ten years after from");
        return false;
    }
    size_t i;
    json_t *v;
    json_array_foreach(group, i, v)
    {
        int d = -1;
        for (int k = 0; report_dim_names[k]; k++)
            if (strcmp(report_dim_names[k], json_string_value(v)) == 0)
                d = k;
        for (int k = 0; d >= 0 && k < q->ngroup; k++)
            if (q->group[k] == d)
                d = -2;
        if (d < 0) {
            rpc_error_field(err, "group_by",
                            d == -2 ? "names a grouping twice"
                                    : "must list queue, location, agent, category, caller_type, "
                                      "channel, direction or team");
            return false;
        }
        q->group[q->ngroup++] = d;
    }
    snprintf(q->tz, sizeof(q->tz), "%s", tz ? tz : cfg->tz);
    bool routing_only = true;
    for (int k = 0; k < q->ngroup; k++)
        routing_only &= q->group[k] == D_QUEUE || q->group[k] == D_CHANNEL ||
                        q->group[k] == D_DIRECTION;
    bool aligned = q->from % (900 * KIC_USEC) == 0 && q->to % (900 * KIC_USEC) == 0;
    q->rollup = routing_only && aligned;
    return true;
}

/* ---- rows ---- */

static int64_t col_int(PGresult *r, int i, int c)
{
    return PQgetisnull(r, i, c) ? 0 : strtoll(PQgetvalue(r, i, c), NULL, 10);
}

static int64_t bin_int8(PGresult *r, int i, int c)
{
    if (PQgetisnull(r, i, c))
        return 0;
    const unsigned char *p = (const unsigned char *)PQgetvalue(r, i, c);
    uint64_t v = 0;
    for (int k = 0; k < 8; k++)
        v = v << 8 | p[k];
    return (int64_t)v;
}

static size_t metric_sum_count(void)
{
    size_t n = 0;
    while (metric_sum_names[n])
        n++;
    return n;
}

/* Group values of result row i (columns 0..nd-1) and, after them, its
 * bucket's epoch (text results). */
static int64_t row_key(PGresult *r, int i, int nd, bool with_bucket, const char **vals)
{
    for (int k = 0; k < nd; k++)
        vals[k] = PQgetisnull(r, i, k) ? NULL : PQgetvalue(r, i, k);
    return with_bucket && !PQgetisnull(r, i, nd) ? strtoll(PQgetvalue(r, i, nd), NULL, 10)
                                                 : NO_BUCKET;
}

static bool report_by_agent(const ReportReq *q)
{
    for (int k = 0; k < q->ngroup; k++)
        if (q->group[k] == D_AGENT)
            return true;
    return false;
}

/* ---- the job ---- */

/* A bucket's start: its epoch, the zone's UTC offset there and its
 * length (a day is 23 or 25 hours when the clocks change). */
typedef struct BucketStart {
    int64_t epoch;
    int offset_s;
    double len_s;
} BucketStart;

/* The report as it is made. Statements before the sums give the bucket
 * starts, callbacks and presence; then the sums stream in by interval,
 * and each interval is written out (merged with the callbacks and
 * presence of its rows) as soon as the next one begins: kicd writes the
 * answer while PostgreSQL is still sending, and holds one interval's
 * rows, not a year's. */
typedef struct ReportCtx {
    ReportReq q;
    PgJob *job;
    int s_len, s_callbacks, s_presence; /* statement positions, -1: none */
    StrMap values;          /* interned group values */
    RowTable interval;      /* the sums of the interval arriving */
    RowTable side;          /* callbacks and presence, every interval */
    Row **side_order;       /* side's rows in answer order */
    size_t side_next;       /* the first not yet written */
    BucketStart *starts;
    size_t nstarts, next_start;
    bool begun;             /* side results read, answer begun */
    bool too_many;          /* more than max_rows: stopped */
    bool out_of_order;      /* the sums did not come by interval: stopped */
    size_t nrows, max_rows; /* rows written; [limits] report_max_rows */
    StrBuf out;
    JsonW w;
    double sl_target, sl_threshold_s, short_abandon_s;
    bool with_callbacks, with_occupancy, with_present;
    bool csv;
    ReportDone done;
    void *done_arg;
    KicTime started;
    const LogLevel *log_level;
    /* A report by agent is an export of agents' figures: its audit row is
     * written once the report is known to succeed (a refused one records
     * nothing), and the answer waits for that row. The actor's strings
     * are copied: the session may end while the report runs. */
    PgConn *audit_conn;
    AuditActor audit_who;
    char *audit_user, *audit_peer, *audit_subject;
} ReportCtx;

/* The start of a bucket; buckets are asked for in ascending order. */
static const BucketStart *start_of(ReportCtx *ctx, int64_t bucket)
{
    while (ctx->next_start < ctx->nstarts && ctx->starts[ctx->next_start].epoch < bucket)
        ctx->next_start++;
    if (ctx->next_start < ctx->nstarts && ctx->starts[ctx->next_start].epoch == bucket)
        return &ctx->starts[ctx->next_start];
    return NULL;
}

static void write_metrics(JsonW *w, const Row *row, double bucket_len_s, const ReportCtx *ctx)
{
    MetricRates r;
    metrics_compute(&row->sums, &r);
    const MetricSums *s = &row->sums;
    double fcr = row->fcr_closed > 0 ? (double)row->fcr_ok / (double)row->fcr_closed : NAN;
    double aht = metrics_defined(r.aht_s) ? r.aht_s
                 : (metrics_defined(r.talk_avg_s) ? r.talk_avg_s + r.hold_avg_s : NAN);
    double needed = NAN;
    if (bucket_len_s > 0 && metrics_defined(aht)) {
        double traffic = erlang_traffic((double)s->offered, bucket_len_s, aht);
        needed = erlang_agents_needed(traffic, aht, ctx->sl_threshold_s, ctx->sl_target,
                                      REPORT_MAX_AGENTS);
    } else if (s->offered == 0) {
        needed = 0;
    }
    jw_int(w, s->offered);
    jw_int(w, s->answered);
    jw_int(w, s->abandoned);
    jw_int(w, s->short_abandoned);
    /* rates to 6 places, durations in seconds to the millisecond */
    for (size_t i = 0; metric_rate_names[i]; i++)
        jw_fixed(w, metrics_rate_at(&r, i), 6);
    jw_fixed(w, fcr, 6);
    jw_int(w, s->answered - row->fcr_closed);
    jw_int(w, s->withheld);
    jw_fixed(w, needed, 0);
    /* raw components, seconds where the sums are microseconds */
    jw_int(w, s->answered_in_sl);
    jw_fixed(w, (double)s->wait_answered_us / 1e6, 3);
    jw_int(w, s->talk_n);
    jw_fixed(w, (double)s->talk_us / 1e6, 3);
    jw_fixed(w, (double)s->hold_us / 1e6, 3);
    jw_int(w, s->acw_n);
    jw_fixed(w, (double)s->acw_us / 1e6, 3);
    jw_fixed(w, (double)s->handle_us / 1e6, 3);
    jw_int(w, s->transferred);
    jw_int(w, s->resolved);
    jw_int(w, s->identified);
    jw_int(w, s->repeated);
    jw_int(w, s->fcr_provisional);
    jw_int(w, row->fcr_closed);
    jw_int(w, row->fcr_ok);
    if (ctx->with_callbacks) {
        for (int i = 0; i < 7; i++)
            jw_int(w, row->has_callbacks ? row->cb[i] : 0);
        jw_fixed(w, row->has_callbacks ? row->cb_mean_s : NAN, 6); /* a mean, as the others */
    }
    if (ctx->with_occupancy)
        jw_fixed(w, row->has_presence && row->logged_s > 0 ? row->busy_s / row->logged_s : NAN, 6);
    if (ctx->with_present)
        jw_fixed(w, bucket_len_s > 0 ? row->logged_s / bucket_len_s : NAN, 6);
}

static const char *const metric_columns[] = {
    "offered", "answered", "abandoned", "short_abandoned",
    /* metric_rate_names go here */
    NULL};
static const char *const tail_columns[] = {
    "fcr_rate", "fcr_pending", "withheld", "agents_needed",
    "answered_in_sl", "wait_answered_s", "talk_n", "talk_s", "hold_s", "acw_n", "acw_s",
    "handle_s", "transferred", "resolved", "identified", "repeated", "fcr_provisional",
    "fcr_closed", "fcr_final", NULL};
static const char *const callback_columns[] = {
    "callbacks_requested", "callbacks_completed", "callbacks_completed_on_time",
    "callbacks_cancelled", "callbacks_open", "callbacks_overdue", "callbacks_attempts",
    "callbacks_mean_complete_s", NULL};

static void write_columns(JsonW *w, const ReportCtx *ctx)
{
    const ReportReq *q = &ctx->q;
    jw_begin_array(w);
    for (int k = 0; k < q->ngroup; k++)
        jw_string(w, report_dim_names[q->group[k]]);
    if (q->interval != I_ALL)
        jw_string(w, "interval_start");
    for (int i = 0; metric_columns[i]; i++)
        jw_string(w, metric_columns[i]);
    for (int i = 0; metric_rate_names[i]; i++)
        jw_string(w, metric_rate_names[i]);
    for (int i = 0; tail_columns[i]; i++)
        jw_string(w, tail_columns[i]);
    for (int i = 0; ctx->with_callbacks && callback_columns[i]; i++)
        jw_string(w, callback_columns[i]);
    if (ctx->with_occupancy)
        jw_string(w, "occupancy");
    if (ctx->with_present)
        jw_string(w, "agents_present");
    jw_end_array(w);
}

/* The part of [lo, hi) the report spans and that has happened: what
 * per-second figures (agents present, Erlang C's traffic) divide by. An
 * interval that from or to cut, or that is still going on, is as long
 * as that part: the contacts of half an hour are not spread over an
 * hour, nor today's presence over the hours still to come. */
static double span_s(const ReportCtx *ctx, KicTime lo, KicTime hi)
{
    KicTime end = ctx->q.to < ctx->started ? ctx->q.to : ctx->started;
    if (hi > end)
        hi = end;
    if (lo < ctx->q.from)
        lo = ctx->q.from;
    return hi > lo ? (double)(hi - lo) / 1e6 : 0;
}

/* One row of the answer; rows come in answer order. */
static void write_row(ReportCtx *ctx, const Row *row)
{
    if (++ctx->nrows > ctx->max_rows) {
        ctx->too_many = true;
        return;
    }
    JsonW *w = &ctx->w;
    double len_s = 0;
    jw_begin_array(w);
    for (int k = 0; k < ctx->q.ngroup; k++)
        jw_string(w, row->dims[k]);
    if (ctx->q.interval == I_ALL) {
        len_s = span_s(ctx, ctx->q.from, ctx->q.to);
    } else {
        const BucketStart *bs = start_of(ctx, row->bucket);
        char start[32];
        if (bs) {
            time_format_at_offset(row->bucket, bs->offset_s, start, sizeof(start));
            len_s = bs->len_s;
        }
        jw_string(w, bs ? start : NULL);
    }
    write_metrics(w, row, len_s, ctx);
    jw_end_array(w);
}

/* Callbacks and presence of intervals before `bucket` that no sums took. */
static void write_side_before(ReportCtx *ctx, int64_t bucket, bool all)
{
    while (!ctx->too_many && ctx->side_next < ctx->side.n &&
           (all || ctx->side_order[ctx->side_next]->bucket < bucket))
        write_row(ctx, ctx->side_order[ctx->side_next++]);
}

/* The interval's rows, sorted and merged with its callbacks and
 * presence, into the answer; then the table is empty for the next. */
static void flush_interval(ReportCtx *ctx)
{
    RowTable *t = &ctx->interval;
    if (t->n == 0)
        return;
    int64_t bucket = t->rows[0].bucket;
    Row **rows = row_table_sorted(t);
    write_side_before(ctx, bucket, false);
    for (size_t i = 0; i < t->n && !ctx->too_many; i++) {
        while (!ctx->too_many && ctx->side_next < ctx->side.n) {
            const Row *side = ctx->side_order[ctx->side_next];
            int c = row_cmp(side, rows[i], ctx->q.ngroup);
            if (c > 0)
                break;
            ctx->side_next++;
            if (c == 0) {
                row_take_side(rows[i], side);
                break;
            }
            write_row(ctx, side);
        }
        write_row(ctx, rows[i]);
    }
    row_table_clear(t);
}

/* The row of the arriving interval with these group values; the first
 * row of a later interval writes out the one before. NULL: stop (rows
 * out of interval order, or too many). */
static Row *sums_row(ReportCtx *ctx, const char *const *vals, int64_t bucket)
{
    RowTable *t = &ctx->interval;
    if (t->n > 0 && bucket != t->rows[0].bucket) {
        if (bucket < t->rows[0].bucket) {
            ctx->out_of_order = true;
            return NULL;
        }
        flush_interval(ctx);
    }
    Row *row = row_table_get(t, vals, bucket);
    if (t->n > ctx->max_rows) {
        ctx->too_many = true;
        return NULL;
    }
    return row;
}

/* The rollup's binary rows, added up per group and bucket. */
static void add_rollup_rows(ReportCtx *ctx, PGresult *r, bool with_bucket)
{
    int nd = ctx->q.ngroup;
    size_t nsums = metric_sum_count();
    for (int i = 0; i < PQntuples(r); i++) {
        const char *vals[ROW_MAX_DIMS];
        for (int k = 0; k < nd; k++)
            vals[k] = PQgetisnull(r, i, k) ? NULL : PQgetvalue(r, i, k); /* text: its bytes */
        int64_t bucket = with_bucket && !PQgetisnull(r, i, nd) ? bin_int8(r, i, nd) : NO_BUCKET;
        Row *row = sums_row(ctx, vals, bucket);
        if (!row)
            return;
        MetricSums add;
        int c = nd + 1;
        for (size_t s = 0; s < nsums; s++)
            metrics_sum_set(&add, s, bin_int8(r, i, c++));
        metrics_add_sums(&row->sums, &add, 1);
        if (*PQgetvalue(r, i, c)) { /* the block's windows have closed */
            row->fcr_closed += add.answered;
            row->fcr_ok += add.fcr_provisional;
        }
    }
}

/* The calls table's rows: one per group and bucket, sums in text. */
static void add_calls_rows(ReportCtx *ctx, PGresult *r, bool with_bucket)
{
    int nd = ctx->q.ngroup;
    size_t nsums = metric_sum_count();
    for (int i = 0; i < PQntuples(r); i++) {
        const char *vals[ROW_MAX_DIMS];
        Row *row = sums_row(ctx, vals, row_key(r, i, nd, with_bucket, vals));
        if (!row)
            return;
        int c = nd + 1;
        for (size_t s = 0; s < nsums; s++)
            metrics_sum_set(&row->sums, s, col_int(r, i, c++));
        row->fcr_closed = col_int(r, i, c++);
        row->fcr_ok = col_int(r, i, c++);
    }
}

/* Every bucket start in [from, to), ascending (S_LEN: epoch, offset,
 * the next bucket's epoch). */
static void read_starts(ReportCtx *ctx, PGresult *len)
{
    int n = len ? PQntuples(len) : 0;
    ctx->starts = malloc((size_t)(n ? n : 1) * sizeof(BucketStart));
    if (!ctx->starts)
        abort();
    for (int i = 0; i < n; i++) {
        BucketStart *bs = &ctx->starts[i];
        bs->epoch = strtoll(PQgetvalue(len, i, 0), NULL, 10);
        bs->offset_s = atoi(PQgetvalue(len, i, 1));
        int64_t next = strtoll(PQgetvalue(len, i, 2), NULL, 10);
        bs->len_s = span_s(ctx, bs->epoch * KIC_USEC, next * KIC_USEC);
    }
    ctx->nstarts = (size_t)n;
}

/* Callbacks and presence, by interval and group values. */
static void read_side(ReportCtx *ctx)
{
    RowTable *t = &ctx->side;
    int nd = ctx->q.ngroup;
    bool wb = ctx->q.interval != I_ALL;
    const char *vals[ROW_MAX_DIMS];
    PGresult *cb = ctx->s_callbacks >= 0 ? pgjob_result(ctx->job, ctx->s_callbacks) : NULL;
    for (int i = 0; cb && i < PQntuples(cb); i++) {
        Row *row = row_table_get(t, vals, row_key(cb, i, nd, wb, vals));
        row->has_callbacks = true;
        for (int k = 0; k < 7; k++)
            row->cb[k] = col_int(cb, i, nd + 1 + k);
        row->cb_mean_s = PQgetisnull(cb, i, nd + 8) ? NAN : atof(PQgetvalue(cb, i, nd + 8));
    }
    PGresult *pr = ctx->s_presence >= 0 ? pgjob_result(ctx->job, ctx->s_presence) : NULL;
    for (int i = 0; pr && i < PQntuples(pr); i++) {
        Row *row = row_table_get(t, vals, row_key(pr, i, nd, wb, vals));
        row->has_presence = true;
        row->busy_s = PQgetisnull(pr, i, nd + 1) ? 0 : atof(PQgetvalue(pr, i, nd + 1));
        row->logged_s = PQgetisnull(pr, i, nd + 2) ? 0 : atof(PQgetvalue(pr, i, nd + 2));
    }
    ctx->side_order = row_table_sorted(t);
}

/* Bytes a row takes, about: the answer's buffer is taken for the first
 * intervals at once. */
#define ROW_TEXT_GUESS 256

/* Once the statements before the sums are in: the starts, the side rows
 * and the answer's head (JSON, or CSV: RFC 4180, null empty, the header
 * line then the rows). */
static void report_begin(ReportCtx *ctx)
{
    ctx->begun = true;
    read_starts(ctx, pgjob_result(ctx->job, ctx->s_len));
    read_side(ctx);
    /* room for the answer at once; only a guess, so failing it is not
     * failing the answer (growing step by step may still fit) */
    if (!strbuf_reserve(&ctx->out, (ctx->side.n + 1024) * ROW_TEXT_GUESS))
        strbuf_reset(&ctx->out);
    if (ctx->csv) {
        jw_init_csv(&ctx->w, &ctx->out);
        write_columns(&ctx->w, ctx);
    } else {
        jw_init(&ctx->w, &ctx->out);
        jw_begin_object(&ctx->w);
        jw_key(&ctx->w, "columns");
        write_columns(&ctx->w, ctx);
        jw_key(&ctx->w, "rows");
        jw_begin_array(&ctx->w);
    }
}

/* The last interval, the side rows after it, and the answer's tail. */
static void report_end(ReportCtx *ctx)
{
    flush_interval(ctx);
    write_side_before(ctx, 0, true);
    if (ctx->csv)
        return;
    JsonW *w = &ctx->w;
    jw_end_array(w);
    jw_key(w, "interval");
    jw_string(w, report_intervals[ctx->q.interval]);
    jw_key(w, "tz");
    jw_string(w, ctx->q.tz);
    jw_key(w, "source");
    jw_string(w, ctx->q.rollup ? "rollup" : "calls");
    jw_key(w, "targets");
    jw_begin_object(w);
    jw_key(w, "service_level");
    jw_fixed(w, ctx->sl_target, 6);
    jw_key(w, "service_level_threshold_s");
    jw_fixed(w, ctx->sl_threshold_s, 0);
    jw_key(w, "short_abandon_s");
    jw_fixed(w, ctx->short_abandon_s, 0);
    jw_end_object(w);
    jw_end_object(w);
}

/* The sums' rows as PostgreSQL sends them (streamed). */
static void on_sums_rows(PGresult *r, void *arg)
{
    ReportCtx *ctx = arg;
    if (!ctx->begun)
        report_begin(ctx);
    if (ctx->too_many || ctx->out_of_order)
        return;
    bool wb = ctx->q.interval != I_ALL;
    if (ctx->q.rollup)
        add_rollup_rows(ctx, r, wb);
    else
        add_calls_rows(ctx, r, wb);
}

static void report_reply_error(ReportCtx *ctx, RpcError *err)
{
    ctx->done(ctx->done_arg, NULL, 0, err);
    rpc_error_clear(err);
}

/* A failed report: the error to the caller. */
static void report_failed(ReportCtx *ctx, PgJob *job)
{
    RpcError err = {0};
    if (!strcmp(pgjob_sqlstate(job), "22023")) {
        rpc_error_field(&err, "tz", "is not a known time zone");
    } else {
        log_write(LOG_WARN, "report", "report.query failed: %s", pgjob_error(job));
        rpc_error_set(&err, pgjob_conn_lost(job) ? RPC_STORAGE_UNAVAILABLE : RPC_INTERNAL,
                      "report failed: storage %s", pgjob_conn_lost(job) ? "unavailable" : "error");
    }
    report_reply_error(ctx, &err);
}

static void report_ctx_free(ReportCtx *ctx)
{
    free(ctx->audit_user);
    free(ctx->audit_peer);
    free(ctx->audit_subject);
    row_table_free(&ctx->interval);
    row_table_free(&ctx->side);
    row_values_free(&ctx->values);
    free(ctx->starts);
    strbuf_free(&ctx->out);
    free(ctx);
}

static void report_reply_ok(ReportCtx *ctx)
{
    size_t len = ctx->out.len;
    if (*ctx->log_level >= LOG_INFO)
        log_write(LOG_INFO, "report", "%zu rows from %s in %.1f ms (%zu bytes)", ctx->nrows,
                  ctx->q.rollup ? "rollup" : "calls",
                  (double)(server_now() - ctx->started) / 1000.0, len);
    char *text = strbuf_steal(&ctx->out);
    if (!text)
        abort(); /* out of memory, like every other allocation here */
    ctx->done(ctx->done_arg, text, len, NULL);
}

static void report_audited(PgJob *job, void *arg)
{
    ReportCtx *ctx = arg;
    if (pgjob_error(job)) {
        RpcError err = {0};
        rpc_error_set(&err, RPC_STORAGE_UNAVAILABLE, "storage unavailable: report not audited");
        report_reply_error(ctx, &err);
    } else {
        report_reply_ok(ctx);
    }
    report_ctx_free(ctx);
}

/* Submits the audit row of a successful report; false when it cannot. */
static bool report_audit(ReportCtx *ctx)
{
    PgJob *job = pgjob_new(report_audited, ctx);
    audit_add_action(job, &ctx->audit_who, "report.query", ctx->audit_subject);
    if (pgconn_submit(ctx->audit_conn, job))
        return true;
    pgjob_free(job);
    return false;
}

static void report_done(PgJob *job, void *arg)
{
    ReportCtx *ctx = arg;
    RpcError err = {0};
    if (pgjob_error(job)) {
        report_failed(ctx, job);
        report_ctx_free(ctx);
        return;
    }
    if (!ctx->begun) /* no sums at all */
        report_begin(ctx);
    if (!ctx->too_many && !ctx->out_of_order)
        report_end(ctx);
    if (ctx->too_many) {
        rpc_error_field(&err, "interval", "gives too many rows: use a longer interval or range");
        report_reply_error(ctx, &err);
    } else if (ctx->out_of_order) {
        log_write(LOG_ERROR, "report", "report.query: the sums did not come by interval");
        rpc_error_set(&err, RPC_INTERNAL, "report failed: storage error");
        report_reply_error(ctx, &err);
    } else if (ctx->audit_subject) {
        if (report_audit(ctx))
            return; /* report_audited answers */
        rpc_error_set(&err, RPC_STORAGE_UNAVAILABLE, "storage unavailable: report not audited");
        report_reply_error(ctx, &err);
    } else {
        report_reply_ok(ctx);
    }
    report_ctx_free(ctx);
}

/* The buckets' starts: every bucket start in [from, to) as its epoch,
 * the zone's UTC offset there and the next bucket's epoch (a day is 23
 * or 25 hours when the clocks change). kicd prints the local times. */

static ReportCtx *report_ctx_new(Server *s, const ReportReq *q, bool csv, ReportDone done,
                                 void *arg)
{
    ReportCtx *ctx = calloc(1, sizeof(*ctx));
    if (!ctx)
        abort();
    ctx->q = *q;
    ctx->csv = csv;
    ctx->done = done;
    ctx->done_arg = arg;
    ctx->sl_target = s->cfg.sl_target;
    ctx->sl_threshold_s = (double)s->cfg.sl_threshold_s;
    ctx->short_abandon_s = (double)s->cfg.short_abandon_s;
    ctx->with_callbacks = report_callbacks_apply(q);
    ctx->with_occupancy = q->ngroup == 1 && q->group[0] == D_AGENT;
    ctx->with_present = q->ngroup == 0;
    ctx->started = server_now();
    ctx->max_rows = (size_t)s->cfg.report_max_rows;
    ctx->log_level = &s->log_level;
    ctx->s_callbacks = ctx->s_presence = -1;
    row_table_init(&ctx->interval, &ctx->values, q->ngroup);
    row_table_init(&ctx->side, &ctx->values, q->ngroup);
    return ctx;
}

static char *strdup_or_die(const char *x)
{
    char *d = strdup(x);
    if (!d)
        abort();
    return d;
}

static void report_audit_later(ReportCtx *ctx, Server *s, const AuditActor *who)
{
    char subject[160], f[40], t[40];
    time_format_utc(ctx->q.from, f, sizeof(f));
    time_format_utc(ctx->q.to, t, sizeof(t));
    snprintf(subject, sizeof(subject), "by agent %s..%s %s%s", f, t, report_intervals[ctx->q.interval],
             ctx->csv ? " csv" : "");
    ctx->audit_conn = s->pg_reader;
    ctx->audit_user = strdup_or_die(who->user);
    ctx->audit_peer = who->peer ? strdup_or_die(who->peer) : NULL;
    ctx->audit_subject = strdup_or_die(subject);
    ctx->audit_who = (AuditActor){who->tenant_id, who->user_id, ctx->audit_user, who->role,
                                  ctx->audit_peer};
}

bool report_run(Server *s, const Session *sess, const AuditActor *who, const ReportReq *q,
                bool csv, ReportDone done, void *arg)
{
    ReportCtx *ctx = report_ctx_new(s, q, csv, done, arg);
    char tenant[24], from[40], to[40], cutoff[40], sl[32], shortab[32];
    snprintf(tenant, sizeof(tenant), "%lld", (long long)sess->tenant_id);
    time_format_db(q->from, from, sizeof(from));
    time_format_db(q->to, to, sizeof(to));
    /* Repeat windows (calendar days in the centre's zone, like lib/) are
     * closed for contacts offered up to now minus the window. The rollup
     * sees whole 15-minute blocks, closed when their last moment is; the
     * calls table counts by the same blocks, so that both sources give
     * the same fcr figures (a contact's window counts as closed up to 15
     * minutes late). */
    KicTime closed = time_add_local_days(server_now(), -(int)s->cfg.repeat_window_days);
    time_format_db(rollup_bucket(closed), cutoff, sizeof(cutoff));
    snprintf(sl, sizeof(sl), "%lld", s->cfg.sl_threshold_s * KIC_USEC);
    snprintf(shortab, sizeof(shortab), "%lld", s->cfg.short_abandon_s * KIC_USEC);
    PgJob *job = pgjob_new(report_done, ctx);
    ctx->job = job;
    const char *tz_args[] = {q->tz};
    /* local to the job's transaction: the buckets are in the report's zone */
    pgjob_add(job, "SELECT set_config('TimeZone', $1, true)", 1, tz_args);
    /* What the sums merge with comes first (it is small); the sums last,
     * streamed, so the answer is written as they arrive. */
    const char *len_args[] = {from, to};
    char *sql = report_lengths_sql(q);
    ctx->s_len = pgjob_count(job);
    pgjob_add(job, sql, 2, len_args);
    free(sql);
    const char *sum_args[] = {tenant, from, to, cutoff, sl, shortab};
    if (ctx->with_callbacks) {
        sql = report_callbacks_sql(q);
        ctx->s_callbacks = pgjob_count(job);
        pgjob_add(job, sql, 3, sum_args);
        free(sql);
    }
    if (ctx->with_occupancy || ctx->with_present) {
        sql = report_presence_sql(q, ctx->with_occupancy);
        char now[40];
        time_format_db(ctx->started, now, sizeof(now));
        const char *pr_args[] = {tenant, from, to, q->interval == I_ALL ? "true" : "false", now};
        ctx->s_presence = pgjob_count(job);
        pgjob_add(job, sql, 5, pr_args);
        free(sql);
    }
    sql = q->rollup ? report_rollup_sql(q) : report_calls_sql(q);
    pgjob_add(job, sql, q->rollup ? 4 : 6, sum_args);
    free(sql);
    if (q->rollup)
        pgjob_binary_results(job);
    pgjob_stream_rows(job, on_sums_rows, ctx);
    if (report_by_agent(q))
        report_audit_later(ctx, s, who);
    if (!pgconn_submit(s->pg_reports, job)) {
        pgjob_free(job);
        report_ctx_free(ctx);
        return false;
    }
    return true;
}

/* ---- the method ---- */

static void reply_report(void *arg, char *json, size_t len, const RpcError *err)
{
    Reply *r = arg;
    (void)len;
    if (err)
        reply_error(r, err);
    else
        reply_result_text(r, json);
    free(json);
}

void method_report_query(Conn *c, Reply *r, json_t *params, const Method *m)
{
    ReportReq q;
    RpcError err = {0};
    if (!report_parse(params, &c->srv->cfg, &q, &err)) {
        reply_error(r, &err);
        rpc_error_clear(&err);
        return;
    }
    AuditActor who = audit_actor_of(c);
    if (!report_run(c->srv, &c->sess, &who, &q, false, reply_report, r))
        reply_errorf(r, RPC_STORAGE_UNAVAILABLE, "storage unavailable: no report");
}
