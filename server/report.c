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

#include "audit.h"
#include "erlang.h"
#include "jsonw.h"
#include "methods.h"
#include "params.h"
#include "pg.h"
#include "report.h"
#include "tenants.h"

static const char *const intervals[] = {"15m", "30m", "1h", "1d", "1w", "1mo", "all", NULL};
static const char *const steps[] = {"15 minutes", "30 minutes", "1 hour", "1 day",
                                    "1 week",     "1 month",    NULL};
enum { I_15M, I_30M, I_1H, I_1D, I_1W, I_1MO, I_ALL };

static const char *const dim_names[] = {"queue", "location", "agent", "category", "caller_type",
                                   "channel", "direction", "team", NULL};
enum { D_QUEUE, D_LOCATION, D_AGENT, D_CATEGORY, D_CALLER_TYPE, D_CHANNEL, D_DIRECTION, D_TEAM };

#define REPORT_MAX_AGENTS 1000

struct ReportReq {
    KicTime from, to;
    int interval;
    int ngroup;
    int group[8];
    char tz[72];
    bool rollup;
};

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

bool report_parse(json_t *params, const Config *cfg, ReportReq *q, RpcError *err)
{
    memset(q, 0, sizeof(*q));
    json_t *group;
    const char *tz;
    if (!param_time(params, "from", true, &q->from, err) ||
        !param_time(params, "to", true, &q->to, err) ||
        !param_enum(params, "interval", true, intervals, &q->interval, err) ||
        !param_string_list(params, "group_by", false, 8, 32, &group, err) ||
        !param_string(params, "tz", false, 64, &tz, err))
        return false;
    if (q->to <= q->from) {
        rpc_error_field(err, "to", "must be after from");
        return false;
    }
    if (q->to - q->from > 11LL * 366 * 86400 * KIC_USEC) {
        rpc_error_field(err, "to", "a report spans at most ten years");
        return false;
    }
    size_t i;
    json_t *v;
    json_array_foreach(group, i, v)
    {
        int d = -1;
        for (int k = 0; dim_names[k]; k++)
            if (strcmp(dim_names[k], json_string_value(v)) == 0)
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

/* ---- SQL ---- */

/* The bucket of a timestamptz column, in the session time zone. */
static void bucket_sql(StrBuf *b, const ReportReq *q, const char *col)
{
    switch (q->interval) {
    case I_15M: strbuf_printf(b, "date_bin('15 minutes', %s, '2000-01-03 00:00'::timestamptz)", col); break;
    case I_30M: strbuf_printf(b, "date_bin('30 minutes', %s, '2000-01-03 00:00'::timestamptz)", col); break;
    case I_1H: strbuf_printf(b, "date_bin('1 hour', %s, '2000-01-03 00:00'::timestamptz)", col); break;
    case I_1D: strbuf_printf(b, "date_trunc('day', %s)", col); break;
    case I_1W: strbuf_printf(b, "date_trunc('week', %s)", col); break;
    case I_1MO: strbuf_printf(b, "date_trunc('month', %s)", col); break;
    default: strbuf_puts(b, "NULL::timestamptz"); break;
    }
}

/* The bucket as its epoch (seconds): one key for every statement.
 * date_part, not extract: extract computes in numeric, several times
 * slower over a year of quarter hours. */
static void bucket_key_sql(StrBuf *b, const ReportReq *q, const char *col)
{
    strbuf_puts(b, "date_part('epoch', ");
    bucket_sql(b, q, col);
    strbuf_puts(b, ")::bigint");
}

static void group_select(StrBuf *b, const ReportReq *q)
{
    for (int k = 0; k < q->ngroup; k++)
        strbuf_printf(b, "%s, ", dim_names[q->group[k]]);
}

static void group_by(StrBuf *b, const ReportReq *q)
{
    strbuf_puts(b, " GROUP BY ");
    for (int k = 0; k < q->ngroup; k++)
        strbuf_printf(b, "%d, ", k + 1);
    strbuf_printf(b, "%d ORDER BY %d", q->ngroup + 1, q->ngroup + 1);
    for (int k = 0; k < q->ngroup; k++)
        strbuf_printf(b, ", %d", k + 1);
}

/* The rollup's rows as they are (binary results): dims, the bucket's
 * epoch, MetricSums in order, and whether the block's repeat windows
 * have all closed ($4: the latest closed block). kicd adds them up: the
 * answer for a year by quarter hour and queue is that many rows anyway,
 * and adding in C is cheaper than grouping in SQL and printing text.
 * In the primary key's order, so they come by interval (rows_sort). */
static char *rollup_sql(const ReportReq *q)
{
    StrBuf b = STRBUF_INIT;
    strbuf_puts(&b, "SELECT ");
    group_select(&b, q);
    bucket_key_sql(&b, q, "bucket");
    for (size_t i = 0; metric_sum_names[i]; i++)
        strbuf_printf(&b, ", %s", metric_sum_names[i]);
    strbuf_puts(&b, ", bucket <= $4 FROM call_sums_15m"
                    " WHERE tenant_id = $1 AND bucket >= $2 AND bucket < $3"
                    " ORDER BY bucket, queue, channel, direction");
    return strbuf_steal(&b);
}

/* The same sums from the calls table: metrics_add_call in SQL, grouped
 * here. $4: contacts offered up to it have their repeat window closed;
 * $5 the service-level threshold and $6 the short-abandon limit, in
 * microseconds. Sums of microseconds are taken as float8: exact below
 * 2^53 (285 years), and much faster than numeric. */
static char *calls_sql(const ReportReq *q)
{
    StrBuf b = STRBUF_INIT;
    strbuf_puts(&b, "SELECT ");
    group_select(&b, q);
    bucket_key_sql(&b, q, "offered_at");
    strbuf_puts(&b,
        ", count(*)"                                                              /* offered */
        ", count(*) FILTER (WHERE answered)"                                      /* answered */
        ", count(*) FILTER (WHERE abandoned)"                                     /* abandoned */
        ", count(*) FILTER (WHERE abandoned AND w <= $6)"                         /* short_abandoned */
        ", count(*) FILTER (WHERE answered AND w <= $5)"                          /* answered_in_sl */
        ", coalesce(sum(w::float8) FILTER (WHERE answered), 0)::bigint"           /* wait_answered_us */
        ", count(*) FILTER (WHERE answered AND part_end_at IS NOT NULL)"          /* talk_n */
        ", coalesce(sum(t::float8) FILTER (WHERE answered AND part_end_at IS NOT NULL), 0)::bigint"
        ", coalesce(sum(h::float8) FILTER (WHERE answered AND part_end_at IS NOT NULL), 0)::bigint"
        ", count(*) FILTER (WHERE answered AND part_end_at IS NOT NULL AND wrapped)" /* acw_n */
        ", coalesce(sum(a::float8) FILTER (WHERE answered AND part_end_at IS NOT NULL AND wrapped), 0)::bigint"
        ", coalesce(sum((t + h + a)::float8) FILTER (WHERE answered AND part_end_at IS NOT NULL AND wrapped), 0)::bigint"
        ", count(*) FILTER (WHERE answered AND transferred)"                      /* transferred */
        ", count(*) FILTER (WHERE answered AND wrapped AND resolved)"             /* resolved */
        ", count(*) FILTER (WHERE answered AND identified)"                       /* identified */
        ", count(*) FILTER (WHERE answered AND identified AND followed_by_repeat)" /* repeated */
        ", count(*) FILTER (WHERE fcr)"                                           /* fcr_provisional */
        ", count(*) FILTER (WHERE caller_key IS NULL)"                            /* withheld */
        ", count(*) FILTER (WHERE answered AND identified AND offered_at <= $4)"  /* fcr_closed */
        ", count(*) FILTER (WHERE fcr AND offered_at <= $4)"                      /* fcr_ok */
        " FROM (SELECT *, round(coalesce(wait_s, 0) * 1e6)::bigint AS w,"
        "              round(coalesce(talk_s, 0) * 1e6)::bigint AS t,"
        "              round(coalesce(hold_s, 0) * 1e6)::bigint AS h,"
        "              round(coalesce(acw_s, 0) * 1e6)::bigint AS a,"
        "              wrapped_at IS NOT NULL AS wrapped, caller_key IS NOT NULL AS identified,"
        "              answered AND caller_key IS NOT NULL AND NOT followed_by_repeat"
        "                AND NOT transferred AND wrapped_at IS NOT NULL AND resolved AS fcr"
        "       FROM calls WHERE tenant_id = $1 AND offered_at >= $2 AND offered_at < $3) c");
    group_by(&b, q);
    return strbuf_steal(&b);
}

/* Callbacks requested in each interval and what became of them, when the
 * grouping is by team and/or queue only. */
static bool callbacks_apply(const ReportReq *q)
{
    for (int k = 0; k < q->ngroup; k++)
        if (q->group[k] != D_TEAM && q->group[k] != D_QUEUE)
            return false;
    return true;
}

static char *callbacks_sql(const ReportReq *q)
{
    StrBuf b = STRBUF_INIT;
    strbuf_puts(&b, "SELECT ");
    group_select(&b, q);
    bucket_key_sql(&b, q, "created_at");
    strbuf_puts(&b, ", count(*), count(*) FILTER (WHERE status = 'done'),"
                    " count(*) FILTER (WHERE status = 'done' AND closed_at <= due_by),"
                    " count(*) FILTER (WHERE status = 'cancelled'),"
                    " count(*) FILTER (WHERE status IN ('open', 'claimed')),"
                    " count(*) FILTER (WHERE status IN ('open', 'claimed') AND due_by < now()),"
                    " coalesce(sum(attempts), 0),"
                    " avg(extract(epoch FROM closed_at - created_at)) FILTER (WHERE status = 'done')"
                    " FROM callbacks WHERE tenant_id = $1 AND created_at >= $2 AND created_at < $3");
    group_by(&b, q);
    return strbuf_steal(&b);
}

/* Seconds agents spent busy (on a call or in ACW) and present (logged
 * in, not on break) per bucket, each state interval clipped to each
 * bucket and to [from, to): per agent, or for all agents together. */
static char *presence_sql(const ReportReq *q, bool by_agent)
{
    StrBuf b = STRBUF_INIT;
    strbuf_puts(&b, "WITH b AS (SELECT g AS bs, ");
    if (q->interval == I_ALL) {
        strbuf_puts(&b, "$3::timestamptz AS be FROM (SELECT $2::timestamptz AS g) x)");
    } else {
        strbuf_printf(&b, "g + interval '%s' AS be FROM generate_series(", steps[q->interval]);
        bucket_sql(&b, q, "$2::timestamptz");
        strbuf_printf(&b, ", $3::timestamptz - interval '1 microsecond', interval '%s') g)",
                      steps[q->interval]);
    }
    strbuf_printf(&b,
        " SELECT %sCASE WHEN $4 THEN NULL ELSE extract(epoch FROM b.bs)::bigint END,"
        "  sum(extract(epoch FROM least(i.until, b.be, $3) - greatest(i.since, b.bs, $2)))"
        "    FILTER (WHERE i.state IN ('on_call', 'acw')),"
        "  sum(extract(epoch FROM least(i.until, b.be, $3) - greatest(i.since, b.bs, $2)))"
        "    FILTER (WHERE i.state IN ('available', 'ringing', 'on_call', 'acw'))"
        " FROM b JOIN agent_state_intervals i ON i.tenant_id = $1 AND i.since < b.be"
        "   AND i.until > b.bs AND i.since < $3 AND i.until > $2"
        " GROUP BY %s",
        by_agent ? "i.agent, " : "", by_agent ? "1, 2" : "1");
    return strbuf_steal(&b);
}

/* ---- rows ---- */

#define NO_BUCKET INT64_MIN /* interval "all" */

typedef struct Row {
    int64_t bucket;        /* the bucket's epoch, NO_BUCKET for "all" */
    const char *dims[8];   /* interned group values, NULL for SQL NULL */
    bool has_start;        /* bucket_offset_s known (from S_LEN) */
    int bucket_offset_s;   /* the zone's UTC offset at the bucket's start */
    double bucket_len_s;
    MetricSums sums;
    int64_t fcr_closed, fcr_ok;
    bool has_callbacks;
    int64_t cb[7];
    double cb_mean_s;
    bool has_presence;
    double busy_s, logged_s;
} Row;

/* Rows by (bucket, group values): an open-addressing table of indexes;
 * group values are interned, so equal values are equal pointers. */
typedef struct Rows {
    Row *rows;
    size_t n, cap;
    size_t *slots; /* index + 1, 0 = empty; NULL until needed (row_get) */
    size_t nslots;
    size_t nindexed; /* rows[0, nindexed) are in slots */
    size_t run;      /* before the table: first row of the last bucket */
    StrMap interned;
    int ndims;
    Row **order;   /* rows_sort: the output order */
} Rows;

static const char *intern(Rows *rs, const char *v)
{
    if (!v)
        return NULL;
    char *s = strmap_get(&rs->interned, v);
    if (s)
        return s;
    s = strdup(v);
    if (!s)
        abort();
    strmap_put(&rs->interned, s, s);
    return s;
}

/* splitmix64's finaliser over the bucket and the interned pointers: the
 * table is indexed by the low bits, and buckets (multiples of 900) and
 * pointers (16-byte aligned) differ mostly in their high ones. */
static uint64_t row_hash(int64_t bucket, const char *const *dims, int nd)
{
    uint64_t h = (uint64_t)bucket;
    for (int k = 0; k < nd; k++)
        h = (h ^ (uint64_t)(uintptr_t)dims[k]) * 0x9E3779B97F4A7C15ULL;
    h ^= h >> 30;
    h *= 0xBF58476D1CE4E5B9ULL;
    h ^= h >> 27;
    h *= 0x94D049BB133111EBULL;
    return h ^ (h >> 31);
}

/* Puts every row in the table, sized for at least `want` rows. */
static void rows_index(Rows *rs, size_t want)
{
    size_t n = rs->nslots ? rs->nslots : 1024;
    while (want * 2 > n)
        n *= 2;
    if (n != rs->nslots) {
        free(rs->slots);
        rs->slots = NULL;
        rs->nslots = n;
        rs->nindexed = 0;
    }
    if (!rs->slots) {
        rs->slots = calloc(n, sizeof(size_t));
        if (!rs->slots)
            abort();
    }
    for (size_t i = rs->nindexed; i < rs->n; i++) {
        size_t at = row_hash(rs->rows[i].bucket, rs->rows[i].dims, rs->ndims) & (n - 1);
        while (rs->slots[at])
            at = (at + 1) & (n - 1);
        rs->slots[at] = i + 1;
    }
    rs->nindexed = rs->n;
}

static Row *row_append(Rows *rs, const char *const *dims, int64_t bucket)
{
    if (rs->n == rs->cap) {
        rs->cap = rs->cap ? rs->cap * 2 : 1024;
        rs->rows = realloc(rs->rows, rs->cap * sizeof(Row));
        if (!rs->rows)
            abort();
    }
    Row *row = &rs->rows[rs->n++];
    memset(row, 0, sizeof(*row));
    row->bucket = bucket;
    memcpy(row->dims, dims, (size_t)rs->ndims * sizeof(char *));
    return row;
}

/* Rows of one bucket scanned before the table is built (see row_get). */
#define RUN_SCAN_MAX 32

/* The row for these group values (raw; NULL: SQL NULL) and bucket, made
 * when new. The sums come by bucket, so until something arrives out of
 * that order the rows need no table: a row is new unless it is in the
 * last bucket's run. The table is built once, when first needed (the
 * callbacks and presence after the sums, or a long run). */
static Row *row_get(Rows *rs, const char *const *raw, int64_t bucket)
{
    const char *dims[8];
    size_t dims_size = (size_t)rs->ndims * sizeof(char *);
    for (int k = 0; k < rs->ndims; k++)
        dims[k] = intern(rs, raw[k]);
    if (!rs->slots) {
        if (rs->n == 0 || bucket > rs->rows[rs->n - 1].bucket) {
            rs->run = rs->n;
            return row_append(rs, dims, bucket);
        }
        if (bucket == rs->rows[rs->n - 1].bucket && rs->n - rs->run < RUN_SCAN_MAX) {
            for (size_t i = rs->run; i < rs->n; i++)
                if (memcmp(rs->rows[i].dims, dims, dims_size) == 0)
                    return &rs->rows[i];
            return row_append(rs, dims, bucket);
        }
    }
    rows_index(rs, rs->n + 1);
    size_t at = row_hash(bucket, dims, rs->ndims) & (rs->nslots - 1);
    while (rs->slots[at]) {
        Row *r = &rs->rows[rs->slots[at] - 1];
        if (r->bucket == bucket && memcmp(r->dims, dims, dims_size) == 0)
            return r;
        at = (at + 1) & (rs->nslots - 1);
    }
    Row *row = row_append(rs, dims, bucket);
    rs->slots[at] = rs->n;
    rs->nindexed = rs->n;
    return row;
}

/* The row of text result row i: dims in columns 0..ndims-1, then the
 * bucket's epoch. */
static Row *row_for(Rows *rs, PGresult *r, int i, bool with_bucket)
{
    const char *vals[8];
    int nd = rs->ndims;
    for (int k = 0; k < nd; k++)
        vals[k] = PQgetisnull(r, i, k) ? NULL : PQgetvalue(r, i, k);
    int64_t bucket = with_bucket && !PQgetisnull(r, i, nd) ? strtoll(PQgetvalue(r, i, nd), NULL, 10)
                                                           : NO_BUCKET;
    return row_get(rs, vals, bucket);
}

static void rows_free(Rows *rs)
{
    size_t pos = 0;
    void *v;
    while (strmap_next(&rs->interned, &pos, NULL, &v))
        free(v);
    strmap_free(&rs->interned);
    free(rs->slots);
    free(rs->rows);
    free(rs->order);
}

/* By interval, then by the group values (NULL first); arg: ndims. */
static int cmp_rows(const void *a, const void *b, void *arg)
{
    const Row *x = *(const Row *const *)a, *y = *(const Row *const *)b;
    int ndims = *(const int *)arg;
    if (x->bucket != y->bucket)
        return x->bucket < y->bucket ? -1 : 1;
    for (int k = 0; k < ndims; k++) {
        if (x->dims[k] == y->dims[k])
            continue;
        if (!x->dims[k] || !y->dims[k])
            return x->dims[k] ? 1 : -1;
        int c = strcmp(x->dims[k], y->dims[k]);
        if (c)
            return c;
    }
    return 0;
}

/* Sorts order[from, to) by cmp_rows. */
static void sort_span(Row **order, size_t from, size_t to, int *ndims)
{
    if (to - from > 1)
        qsort_r(order + from, to - from, sizeof(Row *), cmp_rows, ndims);
}

/* rs->order: the rows by interval, then by group values (pointers are
 * sorted: a row is a few hundred bytes). The sums arrive by interval, so
 * the rows they made come first, in interval order: only each interval's
 * own rows need sorting. Rows after that prefix (callbacks or presence
 * in an interval without calls) are sorted apart and merged in. */
static void rows_sort(Rows *rs)
{
    size_t n = rs->n, head = 1;
    Row **order = malloc((n ? n : 1) * sizeof(Row *));
    if (!order)
        abort();
    for (size_t i = 0; i < n; i++)
        order[i] = &rs->rows[i];
    while (head < n && order[head - 1]->bucket <= order[head]->bucket)
        head++;
    head = head < n ? head : n;
    for (size_t run = 0, i = 1; i <= head; i++)
        if (i == head || order[i]->bucket != order[run]->bucket) {
            sort_span(order, run, i, &rs->ndims);
            run = i;
        }
    sort_span(order, head, n, &rs->ndims);
    rs->order = order;
    if (head == n)
        return;
    rs->order = malloc(n * sizeof(Row *));
    if (!rs->order)
        abort();
    for (size_t a = 0, b = head, k = 0; k < n; k++)
        rs->order[k] = b == n || (a < head && cmp_rows(&order[a], &order[b], &rs->ndims) <= 0)
                           ? order[a++]
                           : order[b++];
    free(order);
}

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

/* The rollup's binary rows, added up per group and bucket. */
static void add_rollup_rows(Rows *rs, PGresult *r, bool with_bucket)
{
    int nd = rs->ndims;
    size_t nsums = metric_sum_count();
    for (int i = 0; i < PQntuples(r); i++) {
        const char *vals[8];
        for (int k = 0; k < nd; k++)
            vals[k] = PQgetisnull(r, i, k) ? NULL : PQgetvalue(r, i, k); /* text: its bytes */
        int64_t bucket = with_bucket && !PQgetisnull(r, i, nd) ? bin_int8(r, i, nd) : NO_BUCKET;
        Row *row = row_get(rs, vals, bucket);
        MetricSums add;
        int c = nd + 1;
        for (size_t s = 0; s < nsums; s++)
            metrics_sum_set(&add, s, bin_int8(r, i, c++));
        metrics_add_sums(&row->sums, &add, 1);
        if (*PQgetvalue(r, i, c)) { /* the block's windows have closed */
            row->fcr_closed += add.identified;
            row->fcr_ok += add.fcr_provisional;
        }
    }
}

/* The calls table's rows: one per group and bucket, sums in text. */
static void add_calls_rows(Rows *rs, PGresult *r, bool with_bucket)
{
    int nd = rs->ndims;
    size_t nsums = metric_sum_count();
    for (int i = 0; i < PQntuples(r); i++) {
        Row *row = row_for(rs, r, i, with_bucket);
        int c = nd + 1;
        for (size_t s = 0; s < nsums; s++)
            metrics_sum_set(&row->sums, s, col_int(r, i, c++));
        row->fcr_closed = col_int(r, i, c++);
        row->fcr_ok = col_int(r, i, c++);
    }
}

static bool report_by_agent(const ReportReq *q)
{
    for (int k = 0; k < q->ngroup; k++)
        if (q->group[k] == D_AGENT)
            return true;
    return false;
}

/* ---- the job ---- */

typedef struct ReportCtx {
    ReportReq q;
    Rows rows;            /* filled as the sums arrive */
    size_t max_rows;      /* [limits] report_max_rows */
    bool too_many;        /* more than max_rows: the rest was not kept */
    MetricParams mp;
    double sl_target, sl_threshold_s, short_abandon_s;
    bool with_callbacks, with_occupancy, with_present;
    bool csv;
    ReportDone done;
    void *done_arg;
    KicTime started;
    const LogLevel *log_level;
} ReportCtx;

/* The sums' rows as PostgreSQL sends them (streamed): kicd adds them up
 * while PostgreSQL is still reading and sending. */
static void on_sums_rows(PGresult *r, void *arg)
{
    ReportCtx *ctx = arg;
    if (ctx->too_many)
        return;
    bool wb = ctx->q.interval != I_ALL;
    if (ctx->q.rollup)
        add_rollup_rows(&ctx->rows, r, wb);
    else
        add_calls_rows(&ctx->rows, r, wb);
    ctx->too_many = ctx->rows.n > ctx->max_rows;
}

/* Statement positions in the job: the sums right after the time zone,
 * so PostgreSQL starts on them at once. */
enum { S_TZ, S_CALLS, S_LEN, S_CALLBACKS, S_PRESENCE };

static int cmp_epoch(const void *key, const void *elem)
{
    int64_t a = *(const int64_t *)key, b = *(const int64_t *)elem;
    return (a > b) - (a < b);
}

/* Each row's bucket offset and length, from S_LEN: every bucket start in
 * [from, to), ascending, with the zone's UTC offset there and its length
 * in seconds (a day is 23 or 25 hours when the clocks change). */
static void bucket_starts(Rows *rs, PGresult *len, const ReportReq *q)
{
    int n = len ? PQntuples(len) : 0;
    int64_t *epochs = malloc((size_t)(n ? n : 1) * sizeof(int64_t));
    if (!epochs)
        abort();
    for (int i = 0; i < n; i++)
        epochs[i] = strtoll(PQgetvalue(len, i, 0), NULL, 10);
    for (size_t k = 0; k < rs->n; k++) {
        Row *row = &rs->rows[k];
        if (q->interval == I_ALL) {
            row->bucket_len_s = (double)(q->to - q->from) / 1e6;
            continue;
        }
        int64_t *hit = bsearch(&row->bucket, epochs, (size_t)n, sizeof(int64_t), cmp_epoch);
        if (hit) {
            int i = (int)(hit - epochs);
            row->has_start = true;
            row->bucket_offset_s = atoi(PQgetvalue(len, i, 1));
            row->bucket_len_s = (double)(strtoll(PQgetvalue(len, i, 2), NULL, 10) - *hit);
        }
    }
    free(epochs);
}

static void write_metrics(JsonW *w, const Row *row, const ReportCtx *ctx)
{
    MetricRates r;
    metrics_compute(&row->sums, &r);
    const MetricSums *s = &row->sums;
    double fcr = row->fcr_closed > 0 ? (double)row->fcr_ok / (double)row->fcr_closed : NAN;
    double aht = metrics_defined(r.aht_s) ? r.aht_s
                 : (metrics_defined(r.talk_avg_s) ? r.talk_avg_s + r.hold_avg_s : NAN);
    double needed = NAN;
    if (row->bucket_len_s > 0 && metrics_defined(aht)) {
        double traffic = erlang_traffic((double)s->offered, row->bucket_len_s, aht);
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
    jw_int(w, s->identified - row->fcr_closed);
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
        for (int i = 0; i < 7; i++) {
            if (row->has_callbacks)
                jw_int(w, row->cb[i]);
            else
                jw_int(w, 0);
        }
        jw_fixed(w, row->has_callbacks ? row->cb_mean_s : NAN, 3);
    }
    if (ctx->with_occupancy)
        jw_fixed(w, row->has_presence && row->logged_s > 0 ? row->busy_s / row->logged_s : NAN, 6);
    if (ctx->with_present)
        jw_fixed(w, row->bucket_len_s > 0 ? row->logged_s / row->bucket_len_s : NAN, 6);
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
        jw_string(w, dim_names[q->group[k]]);
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

static void write_rows(JsonW *w, const ReportCtx *ctx, const Rows *rs)
{
    for (size_t i = 0; i < rs->n; i++) {
        const Row *row = rs->order[i];
        jw_begin_array(w);
        for (int k = 0; k < rs->ndims; k++)
            jw_string(w, row->dims[k]);
        if (ctx->q.interval != I_ALL) {
            char start[32];
            time_format_at_offset(row->bucket, row->bucket_offset_s, start, sizeof(start));
            jw_string(w, row->has_start ? start : NULL);
        }
        write_metrics(w, row, ctx);
        jw_end_array(w);
    }
}

/* Bytes a row takes, about: the answer's buffer is taken at once. */
#define ROW_TEXT_GUESS 256

/* The answer: JSON, or CSV (RFC 4180, null empty: the header line, then
 * the rows). Its length in *len. */
static char *render(const ReportCtx *ctx, const Rows *rs, size_t *len)
{
    const ReportReq *q = &ctx->q;
    StrBuf out = STRBUF_INIT;
    strbuf_reserve(&out, rs->n * ROW_TEXT_GUESS + 4096);
    JsonW w;
    if (ctx->csv) {
        jw_init_csv(&w, &out);
        write_columns(&w, ctx);
        write_rows(&w, ctx, rs);
    } else {
        jw_init(&w, &out);
        jw_begin_object(&w);
        jw_key(&w, "columns");
        write_columns(&w, ctx);
        jw_key(&w, "rows");
        jw_begin_array(&w);
        write_rows(&w, ctx, rs);
        jw_end_array(&w);
        jw_key(&w, "interval");
        jw_string(&w, intervals[q->interval]);
        jw_key(&w, "tz");
        jw_string(&w, q->tz);
        jw_key(&w, "source");
        jw_string(&w, q->rollup ? "rollup" : "calls");
        jw_key(&w, "targets");
        jw_begin_object(&w);
        jw_key(&w, "service_level");
        jw_fixed(&w, ctx->sl_target, 6);
        jw_key(&w, "service_level_threshold_s");
        jw_fixed(&w, ctx->sl_threshold_s, 0);
        jw_key(&w, "short_abandon_s");
        jw_fixed(&w, ctx->short_abandon_s, 0);
        jw_end_object(&w);
        jw_end_object(&w);
    }
    *len = out.len;
    char *text = strbuf_steal(&out);
    if (!text)
        abort(); /* out of memory, like every other allocation here */
    return text;
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
    ctx->done(ctx->done_arg, NULL, 0, &err);
    rpc_error_clear(&err);
}

/* Callbacks and presence, into the rows the sums made (or new ones). */
static void add_side_results(ReportCtx *ctx, PgJob *job)
{
    Rows *rs = &ctx->rows;
    int nd = rs->ndims;
    bool wb = ctx->q.interval != I_ALL;
    if (ctx->with_callbacks) {
        PGresult *cb = pgjob_result(job, S_CALLBACKS);
        for (int i = 0; i < PQntuples(cb); i++) {
            Row *row = row_for(rs, cb, i, wb);
            row->has_callbacks = true;
            for (int k = 0; k < 7; k++)
                row->cb[k] = col_int(cb, i, nd + 1 + k);
            row->cb_mean_s = PQgetisnull(cb, i, nd + 8) ? NAN : atof(PQgetvalue(cb, i, nd + 8));
        }
    }
    if (ctx->with_occupancy || ctx->with_present) {
        PGresult *pr = pgjob_result(job, ctx->with_callbacks ? S_PRESENCE : S_CALLBACKS);
        for (int i = 0; i < PQntuples(pr); i++) {
            Row *row = row_for(rs, pr, i, wb);
            row->has_presence = true;
            row->busy_s = PQgetisnull(pr, i, nd + 1) ? 0 : atof(PQgetvalue(pr, i, nd + 1));
            row->logged_s = PQgetisnull(pr, i, nd + 2) ? 0 : atof(PQgetvalue(pr, i, nd + 2));
        }
    }
}

static void report_done(PgJob *job, void *arg)
{
    ReportCtx *ctx = arg;
    Rows *rs = &ctx->rows;
    if (pgjob_error(job)) {
        report_failed(ctx, job);
    } else {
        add_side_results(ctx, job);
        if (ctx->too_many || rs->n > ctx->max_rows) {
            RpcError err = {0};
            rpc_error_field(&err, "interval", "gives too many rows: use a longer interval or range");
            ctx->done(ctx->done_arg, NULL, 0, &err);
            rpc_error_clear(&err);
        } else {
            rows_sort(rs);
            bucket_starts(rs, pgjob_result(job, S_LEN), &ctx->q);
            size_t len;
            char *text = render(ctx, rs, &len);
            if (*ctx->log_level >= LOG_INFO)
                log_write(LOG_INFO, "report", "%zu rows from %s in %.1f ms (%zu bytes)", rs->n,
                          ctx->q.rollup ? "rollup" : "calls",
                          (double)(server_now() - ctx->started) / 1000.0, len);
            ctx->done(ctx->done_arg, text, len, NULL);
        }
    }
    rows_free(rs);
    free(ctx);
}

/* The buckets' starts: every bucket start in [from, to) as its epoch,
 * the zone's UTC offset there and the next bucket's epoch (a day is 23
 * or 25 hours when the clocks change). kicd prints the local times. */
static char *lengths_sql(const ReportReq *q)
{
    if (q->interval == I_ALL)
        return strdup("SELECT $1::timestamptz, $2::timestamptz WHERE false");
    StrBuf b = STRBUF_INIT;
    strbuf_printf(&b, "SELECT date_part('epoch', g)::bigint, date_part('timezone', g)::int,"
                      " date_part('epoch', g + interval '%s')::bigint FROM generate_series(",
                  steps[q->interval]);
    bucket_sql(&b, q, "$1::timestamptz");
    strbuf_printf(&b, ", $2::timestamptz - interval '1 microsecond', interval '%s') g",
                  steps[q->interval]);
    return strbuf_steal(&b);
}

bool report_run(Server *s, const Session *sess, const AuditActor *who, const ReportReq *q,
                bool csv, ReportDone done, void *arg)
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
    ctx->with_callbacks = callbacks_apply(q);
    ctx->with_occupancy = q->ngroup == 1 && q->group[0] == D_AGENT;
    ctx->with_present = q->ngroup == 0;
    ctx->started = server_now();
    ctx->rows.ndims = q->ngroup;
    ctx->max_rows = (size_t)s->cfg.report_max_rows;
    ctx->log_level = &s->log_level;
    char tenant[24], from[40], to[40], cutoff[40], sl[32], shortab[32];
    snprintf(tenant, sizeof(tenant), "%lld", (long long)sess->tenant_id);
    time_format_db(q->from, from, sizeof(from));
    time_format_db(q->to, to, sizeof(to));
    /* Repeat windows (calendar days in the centre's zone, like lib/) are
     * closed for contacts offered up to now minus the window; a rollup
     * block is closed when its last moment is. */
    KicTime closed = time_add_local_days(server_now(), -(int)s->cfg.repeat_window_days);
    time_format_db(q->rollup ? closed - 900 * KIC_USEC : closed, cutoff, sizeof(cutoff));
    snprintf(sl, sizeof(sl), "%lld", s->cfg.sl_threshold_s * KIC_USEC);
    snprintf(shortab, sizeof(shortab), "%lld", s->cfg.short_abandon_s * KIC_USEC);
    char *sums = q->rollup ? rollup_sql(q) : calls_sql(q);
    char *lens = lengths_sql(q);
    PgJob *job = pgjob_new(report_done, ctx);
    const char *tz_args[] = {q->tz};
    /* local to the job's transaction: the buckets are in the report's zone */
    pgjob_add(job, "SELECT set_config('TimeZone', $1, true)", 1, tz_args);
    const char *sum_args[] = {tenant, from, to, cutoff, sl, shortab};
    pgjob_add(job, sums, q->rollup ? 4 : 6, sum_args);
    if (q->rollup)
        pgjob_binary_results(job);
    pgjob_stream_rows(job, on_sums_rows, ctx);
    const char *len_args[] = {from, to};
    pgjob_add(job, lens, 2, len_args);
    if (ctx->with_callbacks) {
        char *cb = callbacks_sql(q);
        pgjob_add(job, cb, 3, sum_args);
        free(cb);
    }
    if (ctx->with_occupancy || ctx->with_present) {
        char *pr = presence_sql(q, ctx->with_occupancy);
        const char *pr_args[] = {tenant, from, to, q->interval == I_ALL ? "true" : "false"};
        pgjob_add(job, pr, 4, pr_args);
        free(pr);
    }
    free(sums);
    free(lens);
    if (report_by_agent(q)) { /* last: the result positions above stay */
        char subject[160], f[40], t[40];
        time_format_utc(q->from, f, sizeof(f));
        time_format_utc(q->to, t, sizeof(t));
        snprintf(subject, sizeof(subject), "by agent %s..%s %s%s", f, t, intervals[q->interval],
                 csv ? " csv" : "");
        audit_add_action(job, who, "report.query", subject);
    }
    if (!pgconn_submit(s->pg_reader, job)) {
        pgjob_free(job);
        free(ctx);
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
