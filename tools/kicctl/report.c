/* kicctl report: report.query over the protocol, written as an aligned
 * table, CSV, JSON or one self-contained HTML page.
 *
 * --from and --to take RFC 3339 (passed on as they are) or a plain date
 * YYYY-MM-DD, which means local midnight at the start of that day in the
 * report's time zone: --tz when given, else kicd's configured zone, which
 * server.info names. (A kicd that does not say it: kicctl reads a plain
 * date in its own zone (TZ) and, when the answer names a zone in which
 * that midnight is another instant, asks once more; a report by agent is
 * then audit-logged twice.) --to is exclusive:
 * --from 2026-11-01 --to 2026-11-02 is one day. Everything else is checked
 * by kicd, whose -32602 names the field (exit status 2). */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

#include "buckets.h"
#include "ctlconn.h"
#include "kicctl.h"
#include "reportfmt.h"

#define REPORT_MAX_LINE ((size_t)512 * 1024 * 1024)
#define REPORT_TIMEOUT_MS (10 * 60 * 1000)

typedef enum { FORMAT_TABLE, FORMAT_CSV, FORMAT_JSON, FORMAT_HTML } ReportFormat;

typedef struct ReportArgs {
    const char *from, *to, *interval, *group_by, *tz, *output, *columns;
    ReportFormat format;
    Lang lang;
} ReportArgs;

/* A --from/--to value: as given, and the text sent for it. */
typedef struct Bound {
    const char *given;
    bool is_date;        /* YYYY-MM-DD */
    int year, month, day;
    KicTime midnight;    /* of the date in the zone it was last read in */
    char sent[48];
} Bound;

static void usage(FILE *out)
{
    fprintf(out,
            "usage: kicctl [--server HOST:PORT] [--token TOKEN] report --from T --to T\n"
            "         --interval 15m|30m|1h|1d|1w|1mo|all [--group-by a,b] [--tz ZONE]\n"
            "         [--format table|csv|json|html] [--columns a,b|all] [--output FILE] "
            "[--lang nl|en]\n"
            "  T: RFC 3339 (2026-11-01T00:00:00+01:00) or a date (2026-11-01: midnight in the\n"
            "     report's zone, --tz or kicd's); --to is exclusive\n"
            "  --group-by: queue, location, agent, category, caller_type, channel, direction, team\n"
            "  --columns: the metrics of the table (table, html; default: the main ones; all: every\n"
            "     column); csv and json always have every column\n"
            "  --lang: the HTML page's labels (default nl)\n");
}

static bool parse_format(const char *s, ReportFormat *f)
{
    static const char *const names[] = {"table", "csv", "json", "html"};
    for (size_t i = 0; i < KIC_ARRAY_LEN(names); i++)
        if (strcmp(s, names[i]) == 0) {
            *f = (ReportFormat)i;
            return true;
        }
    return false;
}

/* Whether s is text JSON can carry (UTF-8): anything else was dropped
 * from the query, which then asked for another report than the one given. */
static bool is_text(const char *s)
{
    json_t *t = json_string(s);
    json_decref(t);
    return t != NULL;
}

/* 2 with a message naming the option when a value cannot be sent as it
 * was given, else 0. */
static int check_values(const ReportArgs *a)
{
    const struct {
        const char *name, *value;
    } given[] = {{"from", a->from},         {"to", a->to}, {"interval", a->interval},
                 {"group-by", a->group_by}, {"tz", a->tz}, {"columns", a->columns}};
    for (size_t i = 0; i < sizeof(given) / sizeof(given[0]); i++)
        if (given[i].value && !is_text(given[i].value)) {
            fprintf(stderr, "kicctl: --%s must be UTF-8 text\n", given[i].name);
            return 2;
        }
    if (a->group_by) {
        const char *g = a->group_by;
        size_t n = strlen(g);
        if (n == 0 || g[0] == ',' || g[n - 1] == ',' || strstr(g, ",,")) {
            fprintf(stderr, "kicctl: --group-by names keys separated by commas, none empty\n");
            return 2;
        }
    }
    return 0;
}

/* 0: go on; else the exit status (-1: --help shown). */
static int parse_args(ReportArgs *a, int argc, char **argv)
{
    static const struct option longopts[] = {
        {"from", required_argument, NULL, 'f'},     {"to", required_argument, NULL, 't'},
        {"interval", required_argument, NULL, 'i'}, {"group-by", required_argument, NULL, 'g'},
        {"tz", required_argument, NULL, 'z'},       {"format", required_argument, NULL, 'F'},
        {"output", required_argument, NULL, 'o'},   {"lang", required_argument, NULL, 'l'},
        {"columns", required_argument, NULL, 'c'},  {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int ch;
    while ((ch = getopt_long(argc, argv, "o:h", longopts, NULL)) != -1) {
        switch (ch) {
        case 'f': a->from = optarg; break;
        case 't': a->to = optarg; break;
        case 'i': a->interval = optarg; break;
        case 'g': a->group_by = optarg; break;
        case 'z': a->tz = optarg; break;
        case 'o': a->output = optarg; break;
        case 'c': a->columns = optarg; break;
        case 'F':
            if (!parse_format(optarg, &a->format)) {
                fprintf(stderr, "kicctl: --format must be table, csv, json or html\n");
                return 2;
            }
            break;
        case 'l':
            if (strcmp(optarg, "nl") && strcmp(optarg, "en")) {
                fprintf(stderr, "kicctl: --lang must be nl or en\n");
                return 2;
            }
            a->lang = strcmp(optarg, "en") == 0 ? LANG_EN : LANG_NL;
            break;
        case 'h': usage(stdout); return -1;
        default: usage(stderr); return 2;
        }
    }
    if (optind != argc || !a->from || !a->to || !a->interval) {
        if (optind == argc)
            fprintf(stderr, "kicctl: report needs --from, --to and --interval\n");
        else
            fprintf(stderr, "kicctl: report: unexpected argument '%s'\n", argv[optind]);
        usage(stderr);
        return 2;
    }
    return check_values(a);
}

/* ---- the range ---- */

/* "YYYY-MM-DD" and nothing else. */
static bool is_plain_date(const char *s)
{
    static const char pattern[] = "dddd-dd-dd";
    if (strlen(s) != sizeof(pattern) - 1)
        return false;
    for (size_t i = 0; pattern[i]; i++)
        if (pattern[i] == 'd' ? s[i] < '0' || s[i] > '9' : s[i] != pattern[i])
            return false;
    return true;
}

static void bound_init(Bound *b, const char *given)
{
    memset(b, 0, sizeof(*b));
    b->given = given;
    b->is_date = is_plain_date(given) &&
                 sscanf(given, "%4d-%2d-%2d", &b->year, &b->month, &b->day) == 3;
    snprintf(b->sent, sizeof(b->sent), "%s", given);
}

static void use_zone(const char *tz)
{
    setenv("TZ", tz, 1);
    tzset();
}

/* Reads a plain date in the process time zone. A date the calendar does
 * not have is sent as it is, for kicd to refuse. */
static void bound_localize(Bound *b)
{
    if (!b->is_date)
        return;
    KicTime t = calendar_midnight(b->year, b->month, b->day);
    time_t s = (time_t)(t / KIC_USEC);
    struct tm tm;
    localtime_r(&s, &tm);
    if (tm.tm_year + 1900 != b->year || tm.tm_mon + 1 != b->month || tm.tm_mday != b->day) {
        b->midnight = KIC_TIME_NONE; /* 2026-02-30 */
        snprintf(b->sent, sizeof(b->sent), "%s", b->given);
        return;
    }
    b->midnight = t;
    time_format_local(t, b->sent, sizeof(b->sent));
}

/* Reads the plain dates again in `tz`; true when that moved either. */
static bool bounds_moved(Bound *from, Bound *to, const char *tz)
{
    KicTime was_from = from->midnight, was_to = to->midnight;
    use_zone(tz);
    bound_localize(from);
    bound_localize(to);
    return from->midnight != was_from || to->midnight != was_to;
}

/* ---- the query ---- */

static json_t *query_params(const ReportArgs *a, const Bound *from, const Bound *to)
{
    json_t *p = json_pack("{s:s, s:s, s:s}", "from", from->sent, "to", to->sent, "interval",
                          a->interval);
    if (a->tz)
        json_object_set_new(p, "tz", json_string(a->tz));
    if (a->group_by) {
        json_t *keys = json_array();
        const char *s = a->group_by;
        while (*s) {
            size_t len = strcspn(s, ",");
            json_array_append_new(keys, json_stringn(s, len));
            s += len + (s[len] == ',');
        }
        json_object_set_new(p, "group_by", keys);
    }
    return p;
}

/* One report.query: the result (new reference) or NULL with *rc set. */
static json_t *query(CtlConn *c, const CtlOptions *o, const ReportArgs *a, const Bound *from,
                     const Bound *to, int *rc)
{
    json_t *params = query_params(a, from, to);
    CtlReadResult why;
    json_t *resp = ctlconn_call(c, "report.query", params, REPORT_TIMEOUT_MS, NULL, NULL, &why);
    json_decref(params);
    if (!resp) {
        fprintf(stderr, "kicctl: %s from %s\n",
                why == CTLCONN_CLOSED ? "lost the connection to kicd" : "no answer to report.query",
                o->server);
        *rc = 1;
        return NULL;
    }
    json_t *err = json_object_get(resp, "error");
    json_t *result = json_incref(json_object_get(resp, "result"));
    if (err)
        *rc = ctlconn_print_error("report.query", err);
    json_decref(resp);
    return err ? NULL : result;
}

/* kicd's zone as server.info gives it; NULL when it does not. */
static char *server_zone(CtlConn *c)
{
    json_t *params = json_object();
    CtlReadResult why;
    json_t *resp = ctlconn_call(c, "server.info", params, REPORT_TIMEOUT_MS, NULL, NULL, &why);
    json_decref(params);
    const char *tz = json_string_value(json_object_get(json_object_get(resp, "result"), "tz"));
    char *zone = tz ? strdup(tz) : NULL;
    json_decref(resp);
    return zone;
}

/* Plain dates read in the report's zone (see the top of this file). */
static json_t *query_in_zone(CtlConn *c, const CtlOptions *o, const ReportArgs *a, Bound *from,
                             Bound *to, int *rc)
{
    if (a->tz) {
        use_zone(a->tz);
    } else if (from->is_date || to->is_date) {
        char *zone = server_zone(c);
        if (zone)
            use_zone(zone);
        free(zone);
    }
    bound_localize(from);
    bound_localize(to);
    json_t *result = query(c, o, a, from, to, rc);
    const char *tz = json_string_value(json_object_get(result, "tz"));
    if (!result || !tz || a->tz || !bounds_moved(from, to, tz))
        return result;
    json_decref(result);
    return query(c, o, a, from, to, rc);
}

/* ---- output ---- */

static char *generated_text(void)
{
    struct timeval tv;
    gettimeofday(&tv, NULL);
    KicTime now = (KicTime)tv.tv_sec * KIC_USEC + tv.tv_usec;
    char buf[48];
    time_format_local(now, buf, sizeof(buf));
    buf[16] = '\0'; /* "2026-11-22T10:15" */
    buf[10] = ' ';
    return strdup(buf);
}

/* The output in the chosen format; false with a message (and *rc). */
static bool render(StrBuf *out, json_t *result, const ReportArgs *a, const Bound *from,
                   const Bound *to, int *rc)
{
    char err[256];
    if (!report_check(result, err, sizeof(err))) {
        fprintf(stderr, "kicctl: kicd's report is not what kicctl expects: %s\n", err);
        *rc = 1;
        return false;
    }
    if (a->format == FORMAT_JSON) {
        report_render_pretty(out, result);
        return true;
    }
    if (a->format == FORMAT_CSV) {
        report_render_csv(out, result);
        return true;
    }
    size_t *cols, ncols;
    if (!report_pick_columns(result, a->columns, &cols, &ncols, err, sizeof(err))) {
        fprintf(stderr, "kicctl: %s\n", err);
        *rc = 2;
        return false;
    }
    if (a->format == FORMAT_TABLE) {
        report_render_table(out, result, cols, ncols);
    } else {
        const char *tz = json_string_value(json_object_get(result, "tz"));
        if (tz)
            use_zone(tz); /* the page's calendar is the report's */
        char *generated = generated_text();
        ReportPage page = {result, 0, 0, a->lang, cols, ncols, generated};
        if (!time_parse_rfc3339(from->sent, &page.from) || !time_parse_rfc3339(to->sent, &page.to))
            page.from = page.to = 0;
        report_render_html(out, &page);
        free(generated);
    }
    free(cols);
    return true;
}

static int write_output(const StrBuf *text, const char *path)
{
    FILE *f = path ? fopen(path, "wb") : stdout;
    if (!f) {
        fprintf(stderr, "kicctl: cannot write %s: %s\n", path, strerror(errno));
        return 1;
    }
    bool ok = !text->len || fwrite(text->data, 1, text->len, f) == text->len;
    ok = (path ? fclose(f) == 0 : fflush(f) == 0) && ok;
    if (!ok)
        fprintf(stderr, "kicctl: cannot write %s: %s\n", path ? path : "the output", strerror(errno));
    return ok ? 0 : 1;
}

int cmd_report(const CtlOptions *o, int argc, char **argv)
{
    ReportArgs a = {.format = FORMAT_TABLE, .lang = LANG_NL};
    int rc = parse_args(&a, argc, argv);
    if (rc)
        return rc < 0 ? 0 : rc;
    if (!o->token || !*o->token) {
        fprintf(stderr, "kicctl: report needs a supervisor token: --token or KIC_TOKEN\n");
        return 2;
    }
    Bound from, to;
    bound_init(&from, a.from);
    bound_init(&to, a.to);
    CtlConn conn;
    if (!ctlconn_open(&conn, o->server, &o->tls, REPORT_MAX_LINE))
        return 1;
    json_t *result = NULL;
    json_t *login = ctlconn_login(&conn, o->token, o->server);
    rc = login ? 0 : 1;
    if (login && json_object_get(login, "error"))
        rc = ctlconn_print_error("kicd refused the token", json_object_get(login, "error"));
    json_decref(login);
    if (rc == 0)
        result = query_in_zone(&conn, o, &a, &from, &to, &rc);
    ctlconn_close(&conn);
    StrBuf out = STRBUF_INIT;
    if (result && render(&out, result, &a, &from, &to, &rc)) {
        if (out.failed) {
            fprintf(stderr, "kicctl: out of memory\n");
            rc = 1;
        } else {
            rc = write_output(&out, a.output);
        }
    }
    strbuf_free(&out);
    json_decref(result);
    return rc;
}
