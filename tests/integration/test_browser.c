/* The supervisors' pages in a real browser: kicd is fed a known day
 * (calls answered, transferred, abandoned and waiting, wrap-ups,
 * callbacks, agents in every state), then tests/browser/pages.mjs opens
 * /wallboard and /report in Debian's chromium and reads back every number
 * they show. Each must be what stats.live and report.query say over
 * JSON-RPC: the raw value exactly, and its text formatted the way the
 * pages promise (whole percentages, m:ss, the language's separators).
 * Screenshots and the downloaded CSVs stay in the build tree, in
 * browser-artefacts/. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"

static Kicd kicd;

static const char *const BOOTSTRAP =
    "run scripts/bootstrap (it installs chromium and runs npm ci in tests/browser)";

typedef struct Org {
    const char *name;
    char *bridge, *super, *agent_token[4];
} Org;

static const char *const AGENTS[4] = {"a.jansen", "b.devries", "c.smit", "d.visser"};

static Org org(const char *base)
{
    Org o;
    o.name = strdup(h_tenant(base));
    o.bridge = h_user(&kicd, o.name, "pbx", "bridge", NULL, NULL);
    o.super = h_user(&kicd, o.name, "s.bakker", "supervisor", NULL, NULL);
    for (int i = 0; i < 4; i++)
        o.agent_token[i] = h_user(&kicd, o.name, AGENTS[i], "agent", NULL, "kic");
    return o;
}

static void call(Client *c, const char *method, const char *fmt, ...) KIC_PRINTF(3, 4);
static void call(Client *c, const char *method, const char *fmt, ...)
{
    char params[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(params, sizeof(params), fmt, ap);
    va_end(ap);
    json_decref(ck_ok(cl_call(c, method, "%s", params)));
}

/* ---- the day kicd is fed ---- */

static void offered(Client *b, const char *id, const char *queue, KicTime t0, double at)
{
    call(b, "call.offered",
         "{\"event_id\":\"%s-o\",\"call_id\":\"%s\",\"at\":\"%s\",\"queue\":\"%s\",\"caller\":\"+3161200%04d\"}",
         id, id, h_at(t0, at), queue, atoi(id + 1));
}

static void step(Client *b, const char *method, const char *id, const char *suffix, KicTime t0,
                 double at, const char *extra)
{
    call(b, method, "{\"event_id\":\"%s-%s\",\"call_id\":\"%s\",\"at\":\"%s\"%s}", id, suffix, id,
         h_at(t0, at), extra);
}

/* Seven contacts in two queues: answered within and past 20 s, one
 * transferred to a care team, a long and a short abandon, one still
 * waiting; two wrapped up (one resolved). Afterwards: a.jansen available,
 * b.devries on a call, c.smit in after-call work, d.visser on break. */
static void feed_calls(Client *b, Client *agents[4], KicTime t0)
{
    for (int i = 0; i < 3; i++)
        call(agents[i], "agent.state.set", "{\"state\":\"available\"}");
    call(agents[3], "agent.state.set", "{\"state\":\"break\",\"reason\":\"lunch\"}");

    offered(b, "p1", "thuiszorg", t0, 0);
    step(b, "call.answered", "p1", "a", t0, 8, ",\"agent\":\"a.jansen\"");
    step(b, "call.ended", "p1", "e", t0, 128, "");
    call(agents[0], "call.wrapup",
         "{\"call_id\":\"p1\",\"category\":\"informatie\",\"resolved\":true,\"at\":\"%s\"}",
         h_at(t0, 170));

    offered(b, "p2", "thuiszorg", t0, 30);
    step(b, "call.answered", "p2", "a", t0, 60, ",\"agent\":\"b.devries\"");

    offered(b, "p3", "wijkverpleging", t0, 40);
    step(b, "call.answered", "p3", "a", t0, 45, ",\"agent\":\"c.smit\"");
    step(b, "call.transferred", "p3", "t", t0, 100,
         ",\"agent\":\"c.smit\",\"target\":\"wijkteam-noord\",\"target_kind\":\"care_team\"");
    step(b, "call.ended", "p3", "e", t0, 110, "");

    offered(b, "p4", "wijkverpleging", t0, 50);
    step(b, "call.abandoned", "p4", "x", t0, 80, "");
    offered(b, "p5", "thuiszorg", t0, 70);
    step(b, "call.abandoned", "p5", "x", t0, 72, "");

    offered(b, "p7", "wijkverpleging", t0, 200);
    step(b, "call.answered", "p7", "a", t0, 205, ",\"agent\":\"a.jansen\"");
    step(b, "call.ended", "p7", "e", t0, 300, "");
    call(agents[0], "call.wrapup",
         "{\"call_id\":\"p7\",\"category\":\"klacht\",\"resolved\":false,\"at\":\"%s\"}",
         h_at(t0, 320));

    offered(b, "p6", "thuiszorg", h_today(0), -20);
}

/* Three callbacks: one from the IVR, one overdue, one completed. */
static void feed_callbacks(Client *b, Client *agent)
{
    KicTime now = h_today(0);
    call(b, "callback.requested",
         "{\"event_id\":\"cb-ivr\",\"callback_id\":\"ivr-1\",\"caller\":\"0612349999\","
         "\"queue\":\"thuiszorg\",\"at\":\"%s\"}",
         h_at(now, -60));
    call(agent, "callback.create", "{\"caller\":\"0612348888\",\"team\":\"kic\",\"due_by\":\"%s\"}",
         h_at(now, -3600));
    json_t *r = ck_ok(cl_call(agent, "callback.create", "{\"caller\":\"0612347777\",\"team\":\"kic\"}"));
    char id[64];
    snprintf(id, sizeof(id), "%s", json_string_value(json_object_get(rpc_result(r), "callback_id")));
    json_decref(r);
    call(agent, "callback.claim", "{\"callback_id\":\"%s\"}", id);
    call(agent, "callback.complete", "{\"callback_id\":\"%s\",\"outcome\":\"reached\"}", id);
}

/* ---- what the pages promise about their text ---- */

typedef enum { K_COUNT, K_RATE, K_DURATION, K_DECIMAL, K_TEXT } Kind;

/* The format of a metric follows from its name, as on the pages. */
static Kind kind_of(const char *metric)
{
    static const char *const text[] = {"interval_start", "queue", "location", "agent", "category",
                                       "caller_type", "channel", "direction", "team"};
    for (size_t i = 0; i < KIC_ARRAY_LEN(text); i++)
        if (strcmp(metric, text[i]) == 0)
            return K_TEXT;
    size_t n = strlen(metric);
    if (strcmp(metric, "service_level") == 0 || strcmp(metric, "occupancy") == 0 ||
        (n > 5 && strcmp(metric + n - 5, "_rate") == 0))
        return K_RATE;
    if (n > 2 && strcmp(metric + n - 2, "_s") == 0)
        return K_DURATION;
    if (strcmp(metric, "agents_present") == 0)
        return K_DECIMAL;
    return K_COUNT;
}

/* JavaScript's Math.round for the non-negative numbers shown: half up. */
static long long round_half_up(double x)
{
    double r = floor(x);
    return (long long)(x - r >= 0.5 ? r + 1 : r);
}

/* An integer with the language's thousands separator. */
static void grouped(long long v, char sep, char *buf, size_t n)
{
    char digits[32];
    snprintf(digits, sizeof(digits), "%lld", v);
    size_t len = strlen(digits), o = 0;
    for (size_t i = 0; i < len && o + 2 < n; i++) {
        if (i > 0 && (len - i) % 3 == 0)
            buf[o++] = sep;
        buf[o++] = digits[i];
    }
    buf[o] = '\0';
}

static void expected_text(json_t *v, Kind kind, bool nl, char *buf, size_t n)
{
    if (json_is_null(v)) {
        snprintf(buf, n, "\xE2\x80\x93"); /* en dash */
        return;
    }
    double x = json_number_value(v);
    switch (kind) {
    case K_RATE:
        snprintf(buf, n, "%lld%%", round_half_up(x * 100));
        return;
    case K_DURATION: {
        long long s = round_half_up(x);
        if (s >= 3600)
            snprintf(buf, n, "%lld:%02lld:%02lld", s / 3600, s % 3600 / 60, s % 60);
        else
            snprintf(buf, n, "%lld:%02lld", s / 60, s % 60);
        return;
    }
    case K_DECIMAL: {
        long long tenths = round_half_up(x * 10);
        char whole[32];
        grouped(tenths / 10, nl ? '.' : ',', whole, sizeof(whole));
        snprintf(buf, n, "%s%c%lld", whole, nl ? ',' : '.', tenths % 10);
        return;
    }
    case K_COUNT:
        grouped(round_half_up(x), nl ? '.' : ',', buf, n);
        return;
    case K_TEXT:
        break;
    }
    ck_abort_msg("no number format for text");
}

/* The page's value is the JSON kicd sent: the same number (or null). */
static bool same_value(json_t *page, json_t *rpc)
{
    if (json_is_null(page) || json_is_null(rpc))
        return json_is_null(page) && json_is_null(rpc);
    if (json_is_number(page) && json_is_number(rpc))
        return json_number_value(page) == json_number_value(rpc);
    return json_equal(page, rpc);
}

static char *dump(json_t *v)
{
    return v ? json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT) : strdup("(absent)");
}

/* One number a page showed: its value against kicd's, its text against
 * the format. between_hi, when given, allows any value from rpc up to it
 * (a number that grows while the page is read). */
static void assert_shown(json_t *shown, json_t *rpc, json_t *between_hi, bool nl, const char *where)
{
    const char *metric = json_string_value(json_object_get(shown, "metric"));
    json_t *value = json_object_get(shown, "value");
    bool ok = between_hi ? json_number_value(value) >= json_number_value(rpc) &&
                               json_number_value(value) <= json_number_value(between_hi)
                         : same_value(value, rpc);
    if (!ok) {
        char *a = dump(value), *b = dump(rpc), *c = dump(between_hi);
        ck_abort_msg("%s %s: the page shows %s, kicd says %s (up to %s)", where, metric, a, b, c);
    }
    Kind kind = kind_of(metric);
    if (kind == K_TEXT)
        return;
    char want[64];
    expected_text(value, kind, nl, want, sizeof(want));
    const char *text = json_string_value(json_object_get(shown, "text"));
    ck_assert_msg(strcmp(text, want) == 0, "%s %s: shown as '%s', expected '%s'", where, metric,
                  text, want);
}

/* ---- the wallboard against stats.live ---- */

static const char *const BOARD_METRICS[] = {
    "waiting", "longest_wait_s", "service_level", "handled_independently_rate",
    "fcr_provisional_rate", "agents.available", "agents.ringing", "agents.on_call", "agents.acw",
    "agents.break", "offered", "answered", "abandoned", "callbacks_open", "callbacks_overdue"};

static json_t *scope_of(json_t *live, const char *queue)
{
    if (!queue)
        return json_object_get(live, "total");
    size_t i;
    json_t *q;
    json_array_foreach(json_object_get(live, "queues"), i, q)
    {
        if (strcmp(json_string_value(json_object_get(q, "queue")), queue) == 0)
            return q;
    }
    return NULL;
}

/* A field by dotted path ("agents.on_call"). */
static json_t *field(json_t *obj, const char *path)
{
    char buf[64];
    snprintf(buf, sizeof(buf), "%s", path);
    char *save = NULL;
    for (char *part = strtok_r(buf, ".", &save); part && obj; part = strtok_r(NULL, ".", &save))
        obj = json_object_get(obj, part);
    return obj;
}

static void check_wallboard(json_t *board, json_t *before, json_t *after, bool nl)
{
    json_t *metrics = json_object_get(board, "metrics");
    size_t i;
    json_t *m;
    json_array_foreach(metrics, i, m)
    {
        const char *scope = json_string_value(json_object_get(m, "scope"));
        const char *queue = json_string_value(json_object_get(m, "queue"));
        const char *metric = json_string_value(json_object_get(m, "metric"));
        ck_assert_msg(strcmp(scope, queue ? "queue" : "total") == 0, "scope %s", scope);
        json_t *s0 = scope_of(before, queue), *s1 = scope_of(after, queue);
        ck_assert_msg(s0 && s1, "the wallboard shows queue %s, kicd has none", queue);
        json_t *v0 = field(s0, metric), *v1 = field(s1, metric);
        ck_assert_msg(v0 && v1, "the wallboard shows %s, kicd has no such field", metric);
        char where[128];
        snprintf(where, sizeof(where), "wallboard (%s) %s", nl ? "nl" : "en", queue ? queue : "total");
        /* the one number that moves: the waiting caller waits longer */
        bool grows = strcmp(metric, "longest_wait_s") == 0;
        ck_assert_msg(grows || same_value(v0, v1), "%s %s changed while the page was read", where, metric);
        assert_shown(m, v0, grows ? v1 : NULL, nl, where);
    }
    /* every number of the total and of every queue is there */
    size_t scopes = 1 + json_array_size(json_object_get(before, "queues"));
    ck_assert_uint_eq(json_array_size(metrics), scopes * KIC_ARRAY_LEN(BOARD_METRICS));
}

static json_t *shown_total(json_t *board, const char *metric)
{
    size_t i;
    json_t *m;
    json_array_foreach(json_object_get(board, "metrics"), i, m)
    {
        if (strcmp(json_string_value(json_object_get(m, "scope")), "total") == 0 &&
            strcmp(json_string_value(json_object_get(m, "metric")), metric) == 0)
            return m;
    }
    ck_abort_msg("the wallboard shows no total %s", metric);
    return NULL;
}

/* ---- the report against report.query ---- */

static int column(json_t *table, const char *name)
{
    size_t i;
    json_t *c;
    json_array_foreach(json_object_get(table, "columns"), i, c)
    {
        if (strcmp(json_string_value(c), name) == 0)
            return (int)i;
    }
    return -1;
}

static json_t *cell(json_t *table, size_t row, const char *name)
{
    int c = column(table, name);
    ck_assert_msg(c >= 0, "report.query has no column %s", name);
    return json_array_get(json_array_get(json_object_get(table, "rows"), row), (size_t)c);
}

static double column_sum(json_t *table, const char *name)
{
    double sum = 0;
    for (size_t r = 0; r < json_array_size(json_object_get(table, "rows")); r++)
        sum += json_number_value(cell(table, r, name));
    return sum;
}

static double series_sum(json_t *chart, const char *series)
{
    double sum = 0;
    const char *bucket;
    json_t *v;
    json_object_foreach(json_object_get(json_object_get(chart, "series"), series), bucket, v)
    {
        sum += json_number_value(v);
    }
    return sum;
}

static size_t series_len(json_t *chart, const char *series)
{
    return json_object_size(json_object_get(json_object_get(chart, "series"), series));
}

/* The table: every row kicd gave, every number the page shows of it.
 * agents_present grows while agents are logged in in the current
 * interval, so it may lie between the reports taken before and after. */
static void check_table(json_t *page, json_t *before, json_t *after)
{
    json_t *rows = json_object_get(page, "rows");
    size_t nrows = json_array_size(json_object_get(before, "rows"));
    ck_assert_uint_eq(json_array_size(rows), nrows);
    ck_assert_uint_eq(json_array_size(json_object_get(after, "rows")), nrows);
    for (size_t r = 0; r < nrows; r++) {
        const char *metric;
        json_t *shown;
        json_object_foreach(json_array_get(rows, r), metric, shown)
        {
            json_t *m = json_pack("{s:s,s:O,s:O}", "metric", metric, "value",
                                  json_object_get(shown, "value"), "text", json_object_get(shown, "text"));
            bool grows = strcmp(metric, "agents_present") == 0;
            json_t *v0 = cell(before, r, metric), *v1 = cell(after, r, metric);
            ck_assert_msg(grows || same_value(v0, v1), "report row %zu %s changed meanwhile", r, metric);
            char where[64];
            snprintf(where, sizeof(where), "report row %zu", r);
            assert_shown(m, v0, grows ? v1 : NULL, true, where);
            json_decref(m);
        }
    }
}

/* The columns the table must show, given what kicd answered. */
static void check_columns(json_t *page, json_t *rpc, const char *const *want, size_t n)
{
    json_t *cols = json_object_get(page, "columns");
    for (size_t i = 0; i < n; i++) {
        bool found = false;
        size_t j;
        json_t *c;
        json_array_foreach(cols, j, c)
        {
            found |= strcmp(json_string_value(c), want[i]) == 0;
        }
        ck_assert_msg(found == (column(rpc, want[i]) >= 0), "report table: column %s %s", want[i],
                      found ? "shown but not in the answer" : "missing");
    }
}

/* The CSV download is the same table. */
static void check_csv(json_t *page, json_t *rpc)
{
    json_t *csv = json_object_get(page, "csv");
    ck_assert_str_eq(json_string_value(json_object_get(csv, "filename")), "kic-report.csv");
    ck_assert_msg(json_equal(json_object_get(csv, "header"), json_object_get(rpc, "columns")),
                  "CSV header differs from report.query's columns");
    ck_assert_int_eq(json_integer_value(json_object_get(csv, "rows")),
                     (json_int_t)json_array_size(json_object_get(rpc, "rows")));
}

static json_t *chart(json_t *page, const char *name)
{
    json_t *c = json_object_get(json_object_get(page, "charts"), name);
    ck_assert_msg(c != NULL, "no chart %s", name);
    return c;
}

/* Hourly, no grouping: one band per hour of the day, missing hours as
 * zero bars; what the bars add up to is what the table adds up to. */
static void check_hourly_charts(json_t *page, json_t *rpc, size_t hours)
{
    static const char *const all[] = {"volume", "service_level", "acw", "handled", "callbacks", "agents"};
    for (size_t i = 0; i < KIC_ARRAY_LEN(all); i++)
        ck_assert_msg(json_is_true(json_object_get(chart(page, all[i]), "svg")), "chart %s", all[i]);
    json_t *volume = chart(page, "volume");
    ck_assert_uint_eq(series_len(volume, "offered"), hours);
    ck_assert_uint_eq(series_len(volume, "answered"), hours);
    ck_assert(series_sum(volume, "offered") == column_sum(rpc, "offered"));
    ck_assert(series_sum(volume, "answered") == column_sum(rpc, "answered"));
    json_t *handled = chart(page, "handled");
    ck_assert(series_sum(handled, "transferred") == column_sum(rpc, "transferred"));
    ck_assert(series_sum(handled, "handled") ==
              column_sum(rpc, "answered") - column_sum(rpc, "transferred"));
    json_t *cb = chart(page, "callbacks");
    ck_assert(series_sum(cb, "open") == column_sum(rpc, "callbacks_open"));
    ck_assert(series_sum(cb, "closed") ==
              column_sum(rpc, "callbacks_completed") + column_sum(rpc, "callbacks_cancelled"));
    ck_assert_uint_eq(series_len(chart(page, "agents"), "agents_needed"), hours);
    json_t *sl = chart(page, "service_level");
    ck_assert(json_number_value(json_object_get(sl, "target")) ==
              json_number_value(json_object_get(json_object_get(rpc, "targets"), "service_level")));
    ck_assert_uint_ge(series_len(sl, "service_level"), 1);
}

/* Grouped by queue: the charts add the queues up; agents present is not
 * in such a report, so its chart says so instead. */
static void check_grouped_charts(json_t *page, json_t *rpc)
{
    json_t *volume = chart(page, "volume");
    ck_assert_uint_eq(series_len(volume, "offered"), 1);
    ck_assert(series_sum(volume, "offered") == column_sum(rpc, "offered"));
    ck_assert(json_is_true(json_object_get(chart(page, "agents"), "unavailable")));
    ck_assert(json_is_true(json_object_get(chart(page, "callbacks"), "svg")));
}

/* ---- running the browser ---- */

static const char *chromium_path(void)
{
    const char *p = getenv("CHROMIUM");
    return p && *p ? p : "/usr/bin/chromium";
}

/* The browser test's tools, or a failure that says how to get them. */
static void require_tools(void)
{
    ck_assert_msg(access(chromium_path(), X_OK) == 0, "%s is missing: %s", chromium_path(), BOOTSTRAP);
    const char *pw = h_source_path("tests/browser/node_modules/playwright-core/package.json");
    ck_assert_msg(access(pw, R_OK) == 0, "%s is missing: %s", pw, BOOTSTRAP);
    const char *argv[] = {"/usr/bin/env", "node", "--version", NULL};
    char *out = NULL;
    int rc = h_run(&out, argv, NULL);
    ck_assert_msg(rc == 0, "node does not run (%d: %s): %s", rc, out, BOOTSTRAP);
    free(out);
}

/* pages.mjs prints its JSON as the last line; anything before it is
 * node's or chromium's chatter. */
static json_t *run_pages(const Org *o, const char *const *reports, size_t nreports)
{
    char base[64];
    snprintf(base, sizeof(base), "http://127.0.0.1:%d", kicd.http_port);
    const char *out_dir = h_build_path("browser-artefacts");
    const char *argv[32] = {"/usr/bin/env", "node", h_source_path("tests/browser/pages.mjs"),
                            "--base", base, "--token", o->super,
                            "--agent-token", o->agent_token[0], "--out", out_dir,
                            "--chromium", chromium_path()};
    size_t n = 13;
    for (size_t i = 0; i < nreports; i++) {
        argv[n++] = "--report";
        argv[n++] = reports[i];
    }
    argv[n] = NULL;
    char *out = NULL;
    int rc = h_run(&out, argv, NULL);
    ck_assert_msg(rc == 0, "pages.mjs failed (%d); screenshots in %s:\n%s", rc, out_dir, out);
    size_t len = strlen(out);
    while (len && out[len - 1] == '\n')
        out[--len] = '\0';
    char *last = strrchr(out, '\n');
    json_error_t err;
    json_t *result = json_loads(last ? last + 1 : out, 0, &err);
    ck_assert_msg(result != NULL, "pages.mjs printed no JSON (%s):\n%s", err.text, out);
    free(out);
    return result;
}

static json_t *live(Client *s)
{
    json_t *r = cl_call(s, "stats.live", NULL);
    json_t *res = json_incref(ck_result(r));
    json_decref(r);
    return res;
}

static json_t *report(Client *s, const char *from, const char *to, const char *interval,
                      const char *group_by)
{
    const char *tz = getenv("TZ");
    json_t *r = cl_call(s, "report.query",
                        "{\"from\":\"%s\",\"to\":\"%s\",\"interval\":\"%s\",\"tz\":\"%s\",\"group_by\":%s}",
                        from, to, interval, tz && *tz ? tz : "Europe/Amsterdam", group_by);
    json_t *res = json_incref(ck_result(r));
    json_decref(r);
    return res;
}

START_TEST(the_pages_show_what_kicd_says)
{
    require_tools();
    Org o = org("pages");
    Client *b = cl_session(kicd.port, o.bridge), *s = cl_session(kicd.port, o.super);
    Client *agents[4];
    for (int i = 0; i < 4; i++)
        agents[i] = cl_session(kicd.port, o.agent_token[i]);
    feed_calls(b, agents, h_today(900));
    feed_callbacks(b, agents[0]);

    KicTime day = time_local_day_start(h_today(0)), next = time_add_local_days(day, 1);
    char from[40], to[40], date[16], q_hourly[96], q_queues[96];
    time_format_local(day, from, sizeof(from));
    time_format_local(next, to, sizeof(to));
    snprintf(date, sizeof(date), "%.10s", from);
    snprintf(q_hourly, sizeof(q_hourly), "from=%s&to=%s&interval=1h", date, date);
    snprintf(q_queues, sizeof(q_queues), "from=%s&to=%s&interval=1d&group_by=queue", date, date);

    json_t *live0 = live(s);
    json_t *hourly0 = report(s, from, to, "1h", "[]"), *queues0 = report(s, from, to, "1d", "[\"queue\"]");
    const char *const queries[] = {q_hourly, q_queues};
    json_t *pages = run_pages(&o, queries, 2);
    json_t *live1 = live(s);
    json_t *hourly1 = report(s, from, to, "1h", "[]"), *queues1 = report(s, from, to, "1d", "[\"queue\"]");

    /* the day is what was fed: the assertions below compare like with like */
    json_t *total = json_object_get(live0, "total");
    ck_assert_int_eq(json_integer_value(json_object_get(total, "offered")), 7);
    ck_assert_int_eq(json_integer_value(json_object_get(total, "waiting")), 1);
    ck_assert_int_eq(json_integer_value(field(total, "agents.on_call")), 1);
    ck_assert_int_eq(json_integer_value(field(total, "agents.acw")), 1);
    ck_assert_int_eq(json_integer_value(field(total, "agents.break")), 1);
    ck_assert_int_eq(json_integer_value(json_object_get(total, "callbacks_overdue")), 1);
    ck_assert_uint_eq(json_array_size(json_object_get(live0, "queues")), 2);

    json_t *board = json_object_get(pages, "wallboard");
    ck_assert_str_eq(json_string_value(json_object_get(board, "lang")), "nl");
    ck_assert(json_is_false(json_object_get(board, "address_has_token")));
    check_wallboard(board, live0, live1, true);
    check_wallboard(json_object_get(pages, "wallboard_en"), live0, live1, false);
    /* 3 of 6 answered within 20 s (the short abandon left out): below 80% */
    json_t *sl = shown_total(board, "service_level");
    ck_assert_str_eq(json_string_value(json_object_get(sl, "text")), "50%");
    ck_assert_str_eq(json_string_value(json_object_get(sl, "below")), "true");

    const char *m401 = json_string_value(json_object_get(json_object_get(pages, "refused_401"), "message"));
    const char *m403 = json_string_value(json_object_get(json_object_get(pages, "refused_403"), "message"));
    ck_assert_msg(m401 && m403 && *m401 && *m403 && strcmp(m401, m403) != 0,
                  "401 and 403 need their own message");
    ck_assert(json_is_true(json_object_get(json_object_get(pages, "reconnect"), "reconnected")));

    json_t *reports = json_object_get(pages, "reports");
    ck_assert_uint_eq(json_array_size(reports), 2);
    json_t *hourly = json_array_get(reports, 0), *by_queue = json_array_get(reports, 1);
    static const char *const main_columns[] = {
        "interval_start", "offered", "answered", "abandoned", "service_level", "asa_s",
        "acw_avg_s", "aht_s", "handled_independently_rate", "transfer_rate", "fcr_rate",
        "callbacks_open", "callbacks_overdue", "agents_needed", "agents_present", "queue"};
    check_columns(hourly, hourly0, main_columns, KIC_ARRAY_LEN(main_columns));
    check_table(hourly, hourly0, hourly1);
    check_csv(hourly, hourly0);
    check_hourly_charts(hourly, hourly0, (size_t)lround(time_diff_s(day, next) / 3600));
    check_columns(by_queue, queues0, main_columns, KIC_ARRAY_LEN(main_columns));
    check_table(by_queue, queues0, queues1);
    check_csv(by_queue, queues0);
    check_grouped_charts(by_queue, queues0);

    json_decref(pages);
    json_decref(live0);
    json_decref(live1);
    json_decref(hourly0);
    json_decref(hourly1);
    json_decref(queues0);
    json_decref(queues1);
    for (int i = 0; i < 4; i++)
        cl_close(agents[i]);
    cl_close(b);
    cl_close(s);
}
END_TEST

int main(void)
{
    kicd_init(&kicd, "browser", NULL);
    kicd_start(&kicd);
    Suite *s = suite_create("browser");
    TCase *tc = tcase_create("pages");
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, the_pages_show_what_kicd_says);
    suite_add_tcase(s, tc);
    return h_run_suite(s, &kicd);
}
