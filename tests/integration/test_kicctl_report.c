/* kicctl report and kicctl live against a real kicd: every report format
 * carries report.query's numbers (JSON equal, CSV cell for cell, the
 * table and the HTML page showing them), plain dates are midnight in the
 * report's zone whatever kicctl's own TZ, live --once shows stats.live,
 * on a terminal live redraws, stops on SIGINT (0) and on a closed
 * connection (1), and bad parameters, tokens and roles give the
 * documented exit status and a message naming the field. */
#include <arpa/inet.h>
#include <fcntl.h>
#include <math.h>
#include <netinet/in.h>
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"
#include "strbuf.h"

static Kicd kicd;

typedef struct Org {
    char *name, *bridge, *agent, *agent2, *super;
} Org;

static Org org_of(const Kicd *k, const char *base)
{
    Org o;
    o.name = strdup(h_tenant(base));
    o.bridge = h_user(k, o.name, "pbx", "bridge", NULL, NULL);
    o.agent = h_user(k, o.name, "a.jansen", "agent", NULL, "kic");
    o.agent2 = h_user(k, o.name, "b.devries", "agent", NULL, "kic");
    o.super = h_user(k, o.name, "s.bakker", "supervisor", NULL, NULL);
    return o;
}

/* resp, after failing the test unless it is a result. */
/* ---- running kicctl ---- */

/* kicctl --server <kicd> [--token token] args... with extra environment
 * (NULL-terminated, may be NULL); stdout and stderr in *out. */
static int ctl_env(const Kicd *k, const char *token, const char *const *env, char **out,
                   const char *const *args)
{
    char server[64];
    snprintf(server, sizeof(server), "127.0.0.1:%d", k->port);
    const char *argv[40];
    int n = 0;
    argv[n++] = getenv("KICCTL_BIN");
    argv[n++] = "--server";
    argv[n++] = server;
    if (token) {
        argv[n++] = "--token";
        argv[n++] = token;
    }
    for (const char *const *a = args; *a && n < 38; a++)
        argv[n++] = *a;
    argv[n] = NULL;
    return h_run(out, argv, env);
}

#define ARGS(...) ((const char *const[]){__VA_ARGS__, NULL})

static int ctl(const char *token, char **out, const char *const *args)
{
    return ctl_env(&kicd, token, NULL, out, args);
}

static char *read_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    ck_assert_msg(f != NULL, "cannot read %s", path);
    StrBuf b = STRBUF_INIT;
    char chunk[4096];
    size_t n;
    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
        strbuf_append(&b, chunk, n);
    fclose(f);
    char *text = strbuf_steal(&b);
    return text ? text : strdup("");
}

static const char *out_path(const char *name)
{
    static char path[4][400];
    static int next;
    char *p = path[next++ % 4];
    snprintf(p, 400, "%s/%s", kicd.dir, name);
    return p;
}

/* ---- contacts ---- */

static const char *const queues[] = {"thuiszorg", "planning, roosters", "wijkverpleging"};

/* Contact i at `at`: some abandoned (short and long), some transferred,
 * most wrapped up by the answering agent. All are over: nothing waits. */
static void contact(Client *b, Client *agents[2], const char *prefix, int i, KicTime at)
{
    char id[64];
    snprintf(id, sizeof(id), "%s-%d", prefix, i);
    cl_call_ok(b, "call.offered",
          "{\"event_id\":\"%s-o\",\"call_id\":\"%s\",\"at\":\"%s\",\"queue\":\"%s\","
          "\"caller\":\"+316100%05d\"}",
          id, id, h_at(at, 0), queues[i % 3], i % 7);
    if (i % 5 == 1 || i % 11 == 4) {
        cl_call_ok(b, "call.abandoned", "{\"event_id\":\"%s-x\",\"call_id\":\"%s\",\"at\":\"%s\"}", id,
              id, h_at(at, i % 5 == 1 ? 3 : 45));
        return;
    }
    double wait = 4 + (i % 4) * 8;
    const char *agent = i % 2 ? "a.jansen" : "b.devries";
    cl_call_ok(b, "call.answered",
          "{\"event_id\":\"%s-a\",\"call_id\":\"%s\",\"at\":\"%s\",\"agent\":\"%s\"}", id, id,
          h_at(at, wait), agent);
    double end = wait + 50 + i * 3;
    if (i % 4 == 2)
        cl_call_ok(b, "call.transferred",
              "{\"event_id\":\"%s-t\",\"call_id\":\"%s\",\"at\":\"%s\",\"agent\":\"%s\","
              "\"target\":\"wijkteam-noord\",\"target_kind\":\"care_team\"}",
              id, id, h_at(at, end), agent);
    cl_call_ok(b, "call.ended", "{\"event_id\":\"%s-e\",\"call_id\":\"%s\",\"at\":\"%s\"}", id, id,
          h_at(at, end + 2));
    KicTime wrapped = at + (KicTime)((end + 15 + i % 9 * 10) * KIC_USEC);
    if (i % 6 == 5 || wrapped >= h_today(0))
        return;
    json_decref(ck_ok(cl_call(agents[i % 2 ? 0 : 1], "call.wrapup",
                                        "{\"call_id\":\"%s\",\"category\":\"informatie\","
                                        "\"resolved\":%s,\"at\":\"%s\"}",
                                        id, i % 3 ? "true" : "false", h_at(wrapped, 0))));
}

static const char *local(KicTime t)
{
    static char bufs[8][40];
    static int next;
    char *b = bufs[next++ % 8];
    time_format_local(t, b, 40);
    return b;
}

static const char *date_of(KicTime t)
{
    static char bufs[4][16];
    static int next;
    char *b = bufs[next++ % 4];
    snprintf(b, 16, "%.10s", local(t));
    return b;
}

static json_t *report(Client *s, const char *fmt, ...) KIC_PRINTF(2, 3);
static json_t *report(Client *s, const char *fmt, ...)
{
    char params[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(params, sizeof(params), fmt, ap);
    va_end(ap);
    json_t *resp = cl_call(s, "report.query", "%s", params);
    json_t *res = json_incref(ck_result(resp));
    json_decref(resp);
    return res;
}

/* ---- reading kicctl's formats ---- */

/* RFC 4180: rows of fields (quoted fields may hold commas, quotes, line
 * breaks); every record must end in CRLF. A JSON array of arrays. */
static json_t *parse_csv(const char *s)
{
    json_t *rows = json_array(), *row = json_array();
    struct {
        char *data;
        size_t len;
    } field = {calloc(1, strlen(s) + 1), 0};
    const char *p = s;
    while (*p) {
        field.len = 0;
        if (*p == '"') {
            for (p++;; p++) {
                ck_assert_msg(*p, "unterminated quoted field");
                if (*p == '"' && p[1] == '"')
                    field.data[field.len++] = *p++;
                else if (*p == '"')
                    break;
                else
                    field.data[field.len++] = *p;
            }
            p++;
        } else {
            while (*p && *p != ',' && *p != '\r' && *p != '\n')
                field.data[field.len++] = *p++;
        }
        json_array_append_new(row, json_stringn(field.data, field.len));
        if (*p == ',') {
            p++;
            continue;
        }
        ck_assert_msg(p[0] == '\r' && p[1] == '\n', "a record must end in CRLF");
        p += 2;
        json_array_append_new(rows, row);
        row = json_array();
    }
    json_decref(row);
    free(field.data);
    return rows;
}

/* Cell text as kicctl's table shows it (see tools/kicctl/ctlfmt.c). */
static void table_text(char *buf, size_t n, const char *column, json_t *v)
{
    if (json_is_null(v))
        snprintf(buf, n, "-");
    else if (json_is_string(v))
        snprintf(buf, n, "%s", json_string_value(v));
    else if (strstr(column, "rate") || strcmp(column, "service_level") == 0)
        snprintf(buf, n, "%.1f%%", json_number_value(v) * 100);
    else if (strlen(column) > 2 && strcmp(column + strlen(column) - 2, "_s") == 0) {
        long long s = llround(json_number_value(v));
        snprintf(buf, n, "%lld:%02lld", s / 60, s % 60);
    } else if (json_is_integer(v))
        snprintf(buf, n, "%lld", (long long)json_integer_value(v));
    else
        snprintf(buf, n, "%.1f", json_number_value(v));
}

/* The lines of text, split at '\n'. */
static json_t *lines_of(const char *text)
{
    json_t *lines = json_array();
    for (const char *p = text; *p;) {
        size_t len = strcspn(p, "\n");
        json_array_append_new(lines, json_stringn(p, len));
        p += len + (p[len] == '\n');
    }
    return lines;
}

/* Words of a table line (columns are separated by two or more spaces, a
 * cell may hold one space, as in "planning, roosters"). */
static json_t *cells_of(const char *line)
{
    json_t *cells = json_array();
    const char *p = line;
    while (*p == ' ')
        p++;
    while (*p) {
        const char *end = strstr(p, "  ");
        size_t len = end ? (size_t)(end - p) : strlen(p);
        json_array_append_new(cells, json_stringn(p, len));
        p += len;
        while (*p == ' ')
            p++;
    }
    return cells;
}

/* The cells of the first line of text. */
static json_t *first_line_cells(const char *text)
{
    char *line = strndup(text, strcspn(text, "\n"));
    json_t *cells = cells_of(line);
    free(line);
    return cells;
}

/* ---- report ---- */

START_TEST(every_format_carries_report_query)
{
    Org o = org_of(&kicd, "formats");
    Client *b = cl_session(kicd.port, o.bridge), *s = cl_session(kicd.port, o.super);
    Client *agents[2] = {cl_session(kicd.port, o.agent), cl_session(kicd.port, o.agent2)};
    KicTime day = time_add_local_days(time_local_day_start(h_today(0)), -3);
    for (int i = 0; i < 30; i++)
        contact(b, agents, "f", i, day + (9 * 3600LL + i * 397LL) * KIC_USEC);
    /* half an hour after local midnight: which day it is depends on the zone */
    contact(b, agents, "night", 0, day + 1800 * KIC_USEC);
    const char *from = local(day), *to = local(time_add_local_days(day, 1));
    json_t *want = report(s, "{\"from\":\"%s\",\"to\":\"%s\",\"interval\":\"1h\",\"group_by\":[\"queue\"]}",
                          from, to);
    json_t *rows = json_object_get(want, "rows"), *cols = json_object_get(want, "columns");
    ck_assert_uint_ge(json_array_size(rows), 10);
    char *out = NULL;

    /* JSON: the result itself */
    ck_assert_int_eq(ctl(o.super, &out, ARGS("report", "--from", from, "--to", to, "--interval", "1h",
                                             "--group-by", "queue", "--format", "json", "--output",
                                             out_path("r.json"))), 0);
    ck_assert_str_eq(out, "");
    free(out);
    char *text = read_file(out_path("r.json"));
    json_t *got = json_loads(text, 0, NULL);
    ck_assert_msg(got && json_equal(got, want), "kicctl's JSON differs from report.query's:\n%s", text);
    json_decref(got);
    free(text);
    /* to stdout as well */
    ck_assert_int_eq(ctl(o.super, &out, ARGS("report", "--from", from, "--to", to, "--interval", "1h",
                                             "--group-by", "queue", "--format", "json")), 0);
    got = json_loads(out, 0, NULL);
    ck_assert(got && json_equal(got, want));
    json_decref(got);
    free(out);

    /* CSV: the same cells */
    ck_assert_int_eq(ctl(o.super, &out, ARGS("report", "--from", from, "--to", to, "--interval", "1h",
                                             "--group-by", "queue", "--format", "csv", "--output",
                                             out_path("r.csv"))), 0);
    free(out);
    text = read_file(out_path("r.csv"));
    json_t *csv = parse_csv(text);
    free(text);
    ck_assert_uint_eq(json_array_size(csv), json_array_size(rows) + 1);
    size_t c, r;
    json_t *v;
    json_array_foreach(cols, c, v)
    {
        ck_assert_str_eq(json_string_value(json_array_get(json_array_get(csv, 0), c)), json_string_value(v));
    }
    for (r = 0; r < json_array_size(rows); r++) {
        json_t *row = json_array_get(rows, r), *line = json_array_get(csv, r + 1);
        ck_assert_uint_eq(json_array_size(line), json_array_size(row));
        json_array_foreach(row, c, v)
        {
            const char *cell = json_string_value(json_array_get(line, c));
            if (json_is_null(v))
                ck_assert_str_eq(cell, "");
            else if (json_is_string(v))
                ck_assert_str_eq(cell, json_string_value(v));
            else
                ck_assert_msg(strtod(cell, NULL) == json_number_value(v), "row %zu column %zu: %s", r,
                              c, cell);
        }
    }
    json_decref(csv);

    /* table: the default columns, each row's numbers as people read them */
    ck_assert_int_eq(ctl(o.super, &out, ARGS("report", "--from", from, "--to", to, "--interval", "1h",
                                             "--group-by", "queue")), 0);
    json_t *lines = lines_of(out);
    free(out);
    json_t *header = cells_of(json_string_value(json_array_get(lines, 0)));
    ck_assert_str_eq(json_string_value(json_array_get(header, 0)), "queue");
    ck_assert_str_eq(json_string_value(json_array_get(header, 1)), "interval_start");
    ck_assert_uint_eq(json_array_size(lines), json_array_size(rows) + 2); /* header, rule */
    for (r = 0; r < json_array_size(rows); r++) {
        json_t *cells = cells_of(json_string_value(json_array_get(lines, r + 2)));
        ck_assert_uint_eq(json_array_size(cells), json_array_size(header));
        json_t *name;
        json_array_foreach(header, c, name)
        {
            int at = -1;
            json_t *cn;
            size_t k;
            json_array_foreach(cols, k, cn)
            {
                if (strcmp(json_string_value(cn), json_string_value(name)) == 0)
                    at = (int)k;
            }
            ck_assert_int_ge(at, 0);
            char expect[64];
            table_text(expect, sizeof(expect), json_string_value(name),
                       json_array_get(json_array_get(rows, r), (size_t)at));
            ck_assert_str_eq(json_string_value(json_array_get(cells, c)), expect);
        }
        json_decref(cells);
    }
    json_decref(header);
    json_decref(lines);
    /* chosen columns, and all of them */
    ck_assert_int_eq(ctl(o.super, &out, ARGS("report", "--from", from, "--to", to, "--interval", "1h",
                                             "--group-by", "queue", "--columns", "offered,acw_avg_s")), 0);
    ck_assert_int_eq(strncmp(out, "queue", 5), 0);
    header = first_line_cells(out);
    ck_assert_uint_eq(json_array_size(header), 4);
    ck_assert_str_eq(json_string_value(json_array_get(header, 3)), "acw_avg_s");
    json_decref(header);
    free(out);
    ck_assert_int_eq(ctl(o.super, &out, ARGS("report", "--from", from, "--to", to, "--interval", "1h",
                                             "--group-by", "queue", "--columns", "all")), 0);
    header = first_line_cells(out);
    ck_assert_uint_eq(json_array_size(header), json_array_size(cols));
    json_decref(header);
    free(out);

    /* HTML: one file, charts, the numbers, nothing from elsewhere */
    ck_assert_int_eq(ctl(o.super, &out, ARGS("report", "--from", from, "--to", to, "--interval", "1h",
                                             "--group-by", "queue", "--format", "html", "--output",
                                             out_path("r.html"))), 0);
    free(out);
    text = read_file(out_path("r.html"));
    ck_assert_ptr_eq(strstr(text, "<!DOCTYPE html>"), text);
    ck_assert_ptr_nonnull(strstr(text, "</html>"));
    ck_assert_ptr_nonnull(strstr(text, "<svg"));
    ck_assert_ptr_nonnull(strstr(text, "KIC-rapportage"));
    ck_assert_ptr_nonnull(strstr(text, "zelfstandig afgehandeld"));
    ck_assert_ptr_null(strstr(text, "http://"));
    ck_assert_ptr_null(strstr(text, "https://"));
    ck_assert_ptr_null(strstr(text, "<script"));
    ck_assert_ptr_nonnull(strstr(text, "planning, roosters"));
    int offered = -1;
    json_array_foreach(cols, c, v)
    {
        if (strcmp(json_string_value(v), "offered") == 0)
            offered = (int)c;
    }
    for (r = 0; r < json_array_size(rows); r++) {
        json_t *row = json_array_get(rows, r);
        char cell[128];
        snprintf(cell, sizeof(cell), "<td>%.10s %.5s</td>",
                 json_string_value(json_array_get(row, 1)), json_string_value(json_array_get(row, 1)) + 11);
        ck_assert_msg(strstr(text, cell), "no %s", cell);
        snprintf(cell, sizeof(cell), "<td class=\"num\">%lld</td>",
                 (long long)json_integer_value(json_array_get(row, (size_t)offered)));
        ck_assert_msg(strstr(text, cell), "no %s", cell);
    }
    free(text);
    ck_assert_int_eq(ctl(o.super, &out, ARGS("report", "--from", from, "--to", to, "--interval", "all",
                                             "--format", "html", "--lang", "en")), 0);
    ck_assert_ptr_nonnull(strstr(out, "<html lang=\"en\">"));
    ck_assert_ptr_nonnull(strstr(out, "handled independently"));
    free(out);

    /* plain dates are midnight in the report's zone (kicd's), not in
     * kicctl's: with TZ=UTC the night contact still counts */
    static const char *const utc[] = {"TZ=UTC", NULL};
    ck_assert_int_eq(ctl_env(&kicd, o.super, utc, &out,
                             ARGS("report", "--from", date_of(day), "--to",
                                  date_of(time_add_local_days(day, 1)), "--interval", "1h",
                                  "--group-by", "queue", "--format", "json")), 0);
    got = json_loads(out, 0, NULL);
    ck_assert_msg(got && json_equal(got, want), "plain dates gave another report:\n%s", out);
    json_decref(got);
    free(out);
    /* kicctl reads kicd's zone first (server.info): a report by agent,
     * an audit-logged export, is asked and logged once, for the range
     * asked for */
    const char *audited = "SELECT count(*) FROM audit_log WHERE action = 'report.query'";
    long long before = h_sql_int(kicd.conninfo, audited);
    ck_assert_int_eq(ctl_env(&kicd, o.super, utc, &out,
                             ARGS("report", "--from", date_of(day), "--to",
                                  date_of(time_add_local_days(day, 1)), "--interval", "all",
                                  "--group-by", "agent", "--format", "json")), 0);
    free(out);
    ck_assert_int_eq(h_sql_int(kicd.conninfo, audited), before + 1);
    /* --tz: midnight in that zone */
    json_t *in_utc = report(s, "{\"from\":\"%sT00:00:00Z\",\"to\":\"%sT00:00:00Z\",\"interval\":\"all\",\"tz\":\"UTC\"}",
                            date_of(day), date_of(time_add_local_days(day, 1)));
    ck_assert_int_eq(ctl(o.super, &out, ARGS("report", "--from", date_of(day), "--to",
                                             date_of(time_add_local_days(day, 1)), "--interval", "all",
                                             "--tz", "UTC", "--format", "json")), 0);
    got = json_loads(out, 0, NULL);
    ck_assert(got && json_equal(got, in_utc));
    json_decref(got);
    free(out);
    json_decref(in_utc);

    json_decref(want);
    cl_close(b);
    cl_close(s);
    cl_close(agents[0]);
    cl_close(agents[1]);
}
END_TEST

/* ---- live --once ---- */

/* The words kicctl live shows for a queue (or the total) of a snapshot. */
static void live_words(char *buf, size_t n, const char *label, json_t *q, double target)
{
    static const char *const fields[] = {"waiting", "longest_wait_s", "agents.available",
        "agents.ringing", "agents.on_call", "agents.acw", "agents.break", "offered", "answered",
        "abandoned", "service_level", "asa_s", "aht_s", "acw_avg_s", "transfer_rate",
        "handled_independently_rate", "fcr_rate", "callbacks_open", "callbacks_overdue"};
    size_t len = (size_t)snprintf(buf, n, "%s", label);
    for (size_t i = 0; i < sizeof(fields) / sizeof(*fields); i++) {
        const char *f = fields[i];
        json_t *v = strncmp(f, "agents.", 7) == 0 ? json_object_get(json_object_get(q, "agents"), f + 7)
                                                  : json_object_get(q, f);
        char w[32];
        if (!v || json_is_null(v))
            snprintf(w, sizeof(w), "-");
        else if (strstr(f, "rate") || strcmp(f, "service_level") == 0)
            snprintf(w, sizeof(w), "%.0f%%%s", json_number_value(v) * 100,
                     strcmp(f, "service_level") == 0 && json_number_value(v) < target ? "!" : "");
        else if (strcmp(f + strlen(f) - 2, "_s") == 0) {
            long long s = llround(json_number_value(v));
            snprintf(w, sizeof(w), "%lld:%02lld", s / 60, s % 60);
        } else
            snprintf(w, sizeof(w), "%lld", (long long)json_integer_value(v));
        len += (size_t)snprintf(buf + len, n - len, " %s", w);
    }
}

/* The line of `text` whose first column is `label`, its cells joined
 * by single spaces. */
static char *live_line(const char *text, const char *label)
{
    json_t *lines = lines_of(text);
    char *found = NULL;
    size_t i;
    json_t *l;
    json_array_foreach(lines, i, l)
    {
        json_t *cells = cells_of(json_string_value(l));
        const char *first = json_string_value(json_array_get(cells, 0));
        if (!found && first && strcmp(first, label) == 0) {
            StrBuf b = STRBUF_INIT;
            size_t k;
            json_t *cell;
            json_array_foreach(cells, k, cell)
            {
                strbuf_printf(&b, "%s%s", k ? " " : "", json_string_value(cell));
            }
            found = strbuf_steal(&b);
        }
        json_decref(cells);
    }
    json_decref(lines);
    return found;
}

static void assert_live_matches(const char *text, json_t *snap, const char *only)
{
    double target = json_number_value(json_object_get(json_object_get(snap, "targets"), "service_level"));
    char want[512];
    size_t i;
    json_t *q;
    json_array_foreach(json_object_get(snap, "queues"), i, q)
    {
        const char *name = json_string_value(json_object_get(q, "queue"));
        char *got = live_line(text, name);
        if (only && strcmp(name, only) != 0) {
            ck_assert_msg(got == NULL, "%s shown, only %s asked for", name, only);
            continue;
        }
        live_words(want, sizeof(want), name, q, target);
        ck_assert_msg(got && strcmp(got, want) == 0, "queue %s:\n got  %s\n want %s\n%s", name,
                      got ? got : "(none)", want, text);
        free(got);
    }
    char *got = live_line(text, "(total)");
    live_words(want, sizeof(want), "(total)", json_object_get(snap, "total"), target);
    ck_assert_msg(got && strcmp(got, want) == 0, "total:\n got  %s\n want %s", got ? got : "(none)", want);
    free(got);
}

START_TEST(live_once_shows_stats_live)
{
    Org o = org_of(&kicd, "live");
    Client *b = cl_session(kicd.port, o.bridge), *s = cl_session(kicd.port, o.super);
    Client *agents[2] = {cl_session(kicd.port, o.agent), cl_session(kicd.port, o.agent2)};
    json_decref(ck_ok(cl_call(agents[0], "agent.state.set", "{\"state\":\"available\"}")));
    json_decref(ck_ok(cl_call(agents[1], "agent.state.set", "{\"state\":\"break\"}")));
    KicTime t0 = h_today(3000);
    for (int i = 0; i < 24; i++)
        contact(b, agents, "l", i, t0 + i * 60LL * KIC_USEC);
    json_t *resp = cl_call(s, "stats.live", NULL);
    json_t *snap = ck_result(resp);
    ck_assert_uint_eq(json_array_size(json_object_get(snap, "queues")), 3);
    char *out = NULL;
    ck_assert_int_eq(ctl(o.super, &out, ARGS("live", "--once")), 0);
    assert_live_matches(out, snap, NULL);
    ck_assert_ptr_null(strstr(out, "\x1b[")); /* no terminal, no escapes */
    free(out);
    /* stdout not a terminal: one snapshot even without --once */
    ck_assert_int_eq(ctl(o.super, &out, ARGS("live")), 0);
    assert_live_matches(out, snap, NULL);
    free(out);
    ck_assert_int_eq(ctl(o.super, &out, ARGS("live", "--once", "--queues", "wijkverpleging")), 0);
    assert_live_matches(out, snap, "wijkverpleging");
    free(out);
    /* the environment names the server and the token */
    char server[64], token[128];
    snprintf(server, sizeof(server), "KIC_SERVER=127.0.0.1:%d", kicd.port);
    snprintf(token, sizeof(token), "KIC_TOKEN=%s", o.super);
    const char *argv[] = {getenv("KICCTL_BIN"), "live", "--once", NULL};
    ck_assert_int_eq(h_run(&out, argv, (const char *const[]){server, token, NULL}), 0);
    assert_live_matches(out, snap, NULL);
    free(out);
    json_decref(resp);
    cl_close(b);
    cl_close(s);
    cl_close(agents[0]);
    cl_close(agents[1]);
}
END_TEST

/* ---- errors ---- */

START_TEST(errors_name_the_field_and_set_the_status)
{
    Org o = org_of(&kicd, "errors");
    static const char *const r1h[] = {"--from", "2026-11-01T00:00:00+01:00", "--to",
                                      "2026-11-02T00:00:00+01:00", "--interval", "1h"};
    static const struct {
        const char *args[12];
        int status;
        const char *message;
    } cases[] = {
        {{"report", "--from", "2026-11-02", "--to", "2026-11-01", "--interval", "1h"}, 2, "field 'to'"},
        {{"report", "--from", "gisteren", "--to", "2026-11-01", "--interval", "1h"}, 2, "field 'from'"},
        {{"report", "--from", "2026-11-01", "--to", "2026-11-02", "--interval", "2h"}, 2, "field 'interval'"},
        {{"report", "--from", "2026-11-01", "--to", "2026-11-02", "--interval", "1h", "--group-by", "postcode"}, 2, "field 'group_by'"},
        {{"report", "--from", "2026-11-01", "--to", "2026-11-02", "--interval", "1h", "--tz", "Mars/Olympus_Mons"}, 2, "field 'tz'"},
        {{"report", "--from", "2026-11-01", "--to", "2026-11-02"}, 2, "needs --from, --to and --interval"},
        {{"report", "--from", "2026-11-01", "--to", "2026-11-02", "--interval", "1h", "--format", "pdf"}, 2, "--format"},
        {{"report", "--from", "2026-11-01", "--to", "2026-11-02", "--interval", "1h", "--lang", "fr"}, 2, "--lang"},
        {{"report", "--from", "2026-11-01", "--to", "2026-11-02", "--interval", "1h", "--columns", "offered,nosuch"}, 2, "'nosuch'"},
        {{"report", "--from", "2026-11-01", "--to", "2026-11-02", "--interval", "1h", "--no-such-flag"}, 2, "usage"},
        {{"report", "--from", "2026-11-01", "--to", "2026-11-02", "--interval", "1h", "--output", "/nonexistent/dir/r.csv"}, 1, "cannot write"},
        /* values a query cannot carry as given: refused, not dropped */
        {{"report", "--from", "2026-11-01", "--to", "2026-11-02", "--interval", "1h", "--tz", "\xff"}, 2, "--tz must be UTF-8"},
        {{"report", "--from", "2026-11-01", "--to", "2026-11-02", "--interval", "1h", "--group-by", "queue,\xff"}, 2, "--group-by must be UTF-8"},
        {{"report", "--from", "2026-11-01", "--to", "2026-11-02", "--interval", "all\xff"}, 2, "--interval must be UTF-8"},
        {{"report", "--from", "2026-11-01", "--to", "2026-11-02", "--interval", "1h", "--group-by", ""}, 2, "--group-by names keys"},
        {{"report", "--from", "2026-11-01", "--to", "2026-11-02", "--interval", "1h", "--group-by", "queue,,team"}, 2, "--group-by names keys"},
        {{"live", "--once", "--queues", ""}, 2, "--queues"},
        {{"live", "--once", "--queues", "\xff"}, 2, "--queues"},
        {{"live", "--once", "--queues", "thuiszorg,"}, 2, "--queues"},
        {{"live", "--interval-ms", "100"}, 2, "--interval-ms"},
        {{"live", "stray"}, 2, "usage"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
        char *out = NULL;
        int rc = ctl(o.super, &out, cases[i].args);
        ck_assert_msg(rc == cases[i].status && strstr(out, cases[i].message),
                      "case %zu: status %d, output: %s", i, rc, out);
        /* one line, unless it is the usage */
        if (strcmp(cases[i].message, "usage") != 0 && strncmp(cases[i].message, "needs", 5) != 0)
            ck_assert_msg(strchr(out, '\n') == out + strlen(out) - 1, "case %zu: not one line: %s", i, out);
        free(out);
    }
    /* tokens and roles */
    const char *const report_args[] = {"report", r1h[0], r1h[1], r1h[2], r1h[3], r1h[4], r1h[5], NULL};
    const char *const live_args[] = {"live", "--once", NULL};
    const char *const *commands[] = {report_args, live_args};
    for (int k = 0; k < 2; k++) {
        char *out = NULL;
        ck_assert_int_eq(ctl("kic_not-a-token", &out, commands[k]), 1);
        ck_assert_msg(strstr(out, "-32001") && strstr(out, "--token"), "%s", out);
        free(out);
        const char *refused[] = {o.agent, o.bridge};
        for (int t = 0; t < 2; t++) {
            ck_assert_int_eq(ctl(refused[t], &out, commands[k]), 1);
            ck_assert_msg(strstr(out, "-32003") && strstr(out, "supervisor"), "%s", out);
            free(out);
        }
        /* no token at all: a usage error before connecting */
        static const char *const no_token[] = {"KIC_TOKEN=", NULL};
        ck_assert_int_eq(ctl_env(&kicd, NULL, no_token, &out, commands[k]), 2);
        ck_assert_ptr_nonnull(strstr(out, "KIC_TOKEN"));
        free(out);
        /* nobody listening */
        Kicd nowhere = kicd;
        nowhere.port = h_free_port();
        ck_assert_int_eq(ctl_env(&nowhere, o.super, NULL, &out, commands[k]), 1);
        ck_assert_ptr_nonnull(strstr(out, "cannot connect"));
        free(out);
    }
}
END_TEST

/* ---- live on a terminal ---- */

typedef struct Pty {
    pid_t pid;
    int fd;
    char *seen; /* everything it wrote */
    size_t len;
} Pty;

static Pty pty_start(const Kicd *k, const char *token)
{
    char server[64];
    snprintf(server, sizeof(server), "127.0.0.1:%d", k->port);
    struct winsize ws = {.ws_row = 50, .ws_col = 220};
    Pty p = {0};
    p.pid = forkpty(&p.fd, NULL, NULL, &ws);
    ck_assert_int_ge(p.pid, 0);
    if (p.pid == 0) {
        execl(getenv("KICCTL_BIN"), "kicctl", "--server", server, "--token", token, "live",
              "--interval-ms", "250", (char *)NULL);
        _exit(127);
    }
    return p;
}

/* Reads until `needle` was written after byte `from`, or timeout. */
static bool pty_wait_for(Pty *p, size_t from, const char *needle, int timeout_ms)
{
    for (int waited = 0; waited < timeout_ms; waited += 50) {
        if (p->seen && from < p->len && strstr(p->seen + from, needle))
            return true;
        struct pollfd pfd = {p->fd, POLLIN, 0};
        if (poll(&pfd, 1, 50) <= 0)
            continue;
        char chunk[8192];
        ssize_t n = read(p->fd, chunk, sizeof(chunk));
        if (n <= 0)
            return false; /* it ended */
        p->seen = realloc(p->seen, p->len + (size_t)n + 1);
        memcpy(p->seen + p->len, chunk, (size_t)n);
        p->len += (size_t)n;
        p->seen[p->len] = '\0';
    }
    return false;
}

static int pty_exit_status(Pty *p)
{
    pty_wait_for(p, p->len, "\x01never", 3000); /* drain what it writes last */
    int status = 0;
    pid_t done = 0;
    for (int i = 0; i < 100 && (done = waitpid(p->pid, &status, WNOHANG)) == 0; i++)
        usleep(50000);
    if (done == 0) { /* still running: that is a failure too */
        kill(p->pid, SIGKILL);
        waitpid(p->pid, &status, 0);
    }
    close(p->fd);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

START_TEST(live_on_a_terminal_redraws_and_stops)
{
    Kicd k;
    kicd_init(&k, "kicctl_live", NULL);
    kicd_start(&k);
    Org o = org_of(&k, "tty");
    Pty p = pty_start(&k, o.super);
    ck_assert_msg(pty_wait_for(&p, 0, "(total)", 10000), "no screen: %s", p.seen ? p.seen : "");
    ck_assert_ptr_nonnull(strstr(p.seen, "\x1b[H"));   /* drawn in place */
    ck_assert_ptr_nonnull(strstr(p.seen, "\x1b[?25l")); /* cursor hidden */
    ck_assert_ptr_nonnull(strstr(p.seen, "updates pushed")); /* kicd has stats.subscribe */
    /* a call arrives: the next screens show its queue */
    size_t before = p.len;
    Client *b = cl_session(k.port, o.bridge);
    KicTime t = h_today(60);
    cl_call_ok(b, "call.offered", "{\"event_id\":\"p1-o\",\"call_id\":\"p1\",\"at\":\"%s\",\"queue\":\"pty-queue\"}", h_at(t, 0));
    cl_call_ok(b, "call.abandoned", "{\"event_id\":\"p1-x\",\"call_id\":\"p1\",\"at\":\"%s\"}", h_at(t, 30));
    ck_assert_msg(pty_wait_for(&p, before, "pty-queue", 10000), "not redrawn: %s", p.seen + before);
    /* Ctrl-C: a clean stop, the cursor back */
    kill(p.pid, SIGINT);
    ck_assert_int_eq(pty_exit_status(&p), 0);
    ck_assert_ptr_nonnull(strstr(p.seen, "\x1b[?25h"));
    free(p.seen);

    /* kicd goes away: status 1 and why */
    p = pty_start(&k, o.super);
    ck_assert(pty_wait_for(&p, 0, "(total)", 10000));
    cl_close(b);
    ck_assert(kicd_stop(&k));
    ck_assert_msg(pty_wait_for(&p, 0, "closed the connection", 10000), "%s", p.seen);
    ck_assert_int_eq(pty_exit_status(&p), 1);
    free(p.seen);
}
END_TEST

/* ---- an older kicd: no stats.subscribe ---- */

/* A stand-in for a kicd without stats.subscribe, in a child process: it
 * logs anyone in as a supervisor, answers stats.subscribe with -32601
 * and stats.live with a snapshot whose offered count goes up by one per
 * call, and closes the connection after `polls` of those. */
static pid_t old_kicd_start(int port, int polls)
{
    int ls = socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port),
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    ck_assert_int_eq(bind(ls, (struct sockaddr *)&a, sizeof(a)), 0);
    ck_assert_int_eq(listen(ls, 4), 0);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid > 0) {
        close(ls);
        return pid;
    }
    int fd = accept(ls, NULL, NULL);
    FILE *in = fdopen(fd, "r");
    char line[4096];
    int served = 0;
    while (served < polls && fgets(line, sizeof(line), in)) {
        json_t *req = json_loads(line, 0, NULL);
        const char *method = json_string_value(json_object_get(req, "method"));
        json_t *id = json_object_get(req, "id");
        json_t *resp = json_pack("{s:s, s:O}", "jsonrpc", "2.0", "id", id ? id : json_null());
        if (method && strcmp(method, "auth.login") == 0)
            json_object_set_new(resp, "result", json_pack("{s:s, s:s}", "role", "supervisor", "tenant", "t"));
        else if (method && strcmp(method, "stats.live") == 0)
            json_object_set_new(resp, "result",
                json_pack("{s:s, s:{s:f, s:i}, s:{s:i, s:f, s:{}, s:i}, s:[]}", "at",
                          "2026-11-22T10:15:00.000+01:00", "targets", "service_level", 0.8,
                          "service_level_threshold_s", 20, "total", "waiting", 0, "longest_wait_s", 0.0,
                          "agents", "offered", 100 + served++, "queues"));
        else
            json_object_set_new(resp, "error", json_pack("{s:i, s:s}", "code", -32601, "message", "method not found"));
        char *text = json_dumps(resp, JSON_COMPACT);
        dprintf(fd, "%s\n", text);
        free(text);
        json_decref(resp);
        json_decref(req);
    }
    _exit(0);
}

START_TEST(live_polls_a_kicd_without_subscriptions)
{
    Kicd old = kicd;
    old.port = h_free_port();
    pid_t server = old_kicd_start(old.port, 4);
    Pty p = pty_start(&old, "kic_any");
    /* the first snapshot, then polls every 250 ms: 100, 101, ... */
    ck_assert_msg(pty_wait_for(&p, 0, "polling stats.live", 10000), "%s", p.seen ? p.seen : "");
    ck_assert_msg(pty_wait_for(&p, 0, " 102 ", 10000), "%s", p.seen);
    /* after the fourth poll the stand-in hangs up */
    ck_assert_msg(pty_wait_for(&p, 0, "closed the connection", 10000), "%s", p.seen);
    ck_assert_int_eq(pty_exit_status(&p), 1);
    free(p.seen);
    int status;
    waitpid(server, &status, 0);
}
END_TEST

int main(void)
{
    kicd_init(&kicd, "kicctl_report", NULL);
    kicd_start(&kicd);
    Suite *s = suite_create("kicctl_report");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, every_format_carries_report_query);
    tcase_add_test(tc, live_once_shows_stats_live);
    tcase_add_test(tc, errors_name_the_field_and_set_the_status);
    tcase_add_test(tc, live_on_a_terminal_redraws_and_stops);
    tcase_add_test(tc, live_polls_a_kicd_without_subscriptions);
    suite_add_tcase(s, tc);
    return h_run_suite(s, &kicd);
}
