/* The HTML page of a report: inline CSS, SVG charts and the tables (see
 * reportfmt.h, report_render_html). The charts add the groups of an
 * interval up from the raw components kicd sends. */
#include "reportfmt.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "buckets.h"
#include "jsonw.h"
#include "reportcols.h"
#include "svgchart.h"

/* The most x positions a chart fills in; longer reports show only the
 * intervals that have rows. */
#define MAX_CHART_BUCKETS 1500

/* The page's own words: X(key, Dutch, English). */
#define PAGE_TEXTS(X)                                                                            \
    X(T_TITLE, "KIC-rapportage", "KIC report")                                                   \
    X(T_PERIOD, "Periode", "Period")                                                             \
    X(T_UNTIL, "tot", "to")                                                                      \
    X(T_INTERVAL, "Indeling", "Interval")                                                        \
    X(T_TZ, "Tijdzone", "Time zone")                                                             \
    X(T_GROUPING, "Gegroepeerd naar", "Grouped by")                                              \
    X(T_NONE, "niets", "nothing")                                                                \
    X(T_SOURCE, "Bron", "Source")                                                                \
    X(T_TOTALS, "Over de hele periode", "For the whole period")                                  \
    X(T_CHART_OFFERED, "Aangeboden en beantwoord", "Offered and answered")                       \
    X(T_CHART_SL, "Servicelevel en norm", "Service level against its target")                    \
    X(T_TARGET, "norm", "target")                                                                \
    X(T_CHART_ACW, "Nawerktijd (gemiddeld)", "After-call work (average)")                        \
    X(T_CHART_INDEP, "Zelfstandig afgehandeld en doorverbonden",                                 \
      "Handled independently and transferred")                                                   \
    X(T_CHART_AGENTS, "Benodigde en aanwezige medewerkers", "Agents needed and present")         \
    X(T_TABLE, "Tabel", "Table")                                                                 \
    X(T_ALL_COLUMNS, "Alle kolommen", "All columns")                                             \
    X(T_NO_ROWS, "Geen contacten in deze periode.", "No contacts in this period.")               \
    X(T_WHOLE, "hele periode", "whole period")                                                   \
    X(T_EMPTY_GROUP, "(leeg)", "(none)")                                                         \
    X(T_MADE, "Gemaakt met kicctl", "Made with kicctl")                                          \
    X(T_WITHIN, "binnen", "within")                                                              \
    X(T_NOTE_SUMS, "Grafieken tellen de groepen per periode op; periodes zonder contacten tellen als nul.", \
      "Charts add the groups of each interval up; intervals without contacts count as zero.")

#define PAGE_TEXT_ENUM(key, nl, en) key,
typedef enum { PAGE_TEXTS(PAGE_TEXT_ENUM) T_COUNT } PageText;
#undef PAGE_TEXT_ENUM
#define PAGE_TEXT_ROW(key, nl, en) {nl, en},
static const char *const page_texts[][2] = {PAGE_TEXTS(PAGE_TEXT_ROW)};
#undef PAGE_TEXT_ROW

static const char *tr(PageText t, Lang lang)
{
    return page_texts[t][lang];
}

static const char *const interval_words[IV_COUNT][2] = {
    [IV_15M] = {"per kwartier", "per quarter hour"}, [IV_30M] = {"per half uur", "per half hour"},
    [IV_1H] = {"per uur", "per hour"},               [IV_1D] = {"per dag", "per day"},
    [IV_1W] = {"per week", "per week"},              [IV_1MO] = {"per maand", "per month"},
    [IV_ALL] = {"hele periode", "whole period"},
};

static const char *const month_abbr[12][2] = {
    {"jan", "Jan"}, {"feb", "Feb"}, {"mrt", "Mar"}, {"apr", "Apr"}, {"mei", "May"}, {"jun", "Jun"},
    {"jul", "Jul"}, {"aug", "Aug"}, {"sep", "Sep"}, {"okt", "Oct"}, {"nov", "Nov"}, {"dec", "Dec"},
};

static const char page_css[] =
    "body{font-family:system-ui,-apple-system,'Segoe UI',Roboto,Arial,sans-serif;margin:2rem auto;"
    "max-width:1100px;padding:0 1rem;color:#1f2933;background:#fff}"
    "h1{font-size:1.6rem;margin:0 0 .5rem}h2{font-size:1.1rem;margin:1.6rem 0 .4rem}"
    "dl.meta{display:grid;grid-template-columns:max-content 1fr;gap:.15rem 1rem;margin:0;"
    "color:#52606d}dl.meta dt{font-weight:600}dl.meta dd{margin:0}"
    ".cards{display:flex;flex-wrap:wrap;gap:.6rem;margin-top:1.2rem}"
    ".card{border:1px solid #d9e2ec;border-radius:6px;padding:.5rem .8rem;min-width:8.5rem}"
    ".card .v{display:block;font-size:1.35rem;font-weight:600}.card .l{color:#52606d;font-size:.85rem}"
    ".card.bad .v{color:#c62828}.card.good .v{color:#2e7d32}"
    "svg.chart{width:100%;height:auto;font-size:11px;fill:#3e4c59}"
    "svg .grid{stroke:#e4e7eb;stroke-width:1}svg .axis{stroke:#7b8794;stroke-width:1}"
    "svg .target{stroke:#c62828;stroke-width:2;stroke-dasharray:6 4}"
    "table{border-collapse:collapse;font-size:.85rem;margin-top:.4rem}"
    "th,td{padding:.25rem .5rem;border-bottom:1px solid #e4e7eb;text-align:left}"
    "td{white-space:nowrap}th{background:#f5f7fa;vertical-align:bottom;max-width:9rem}"
    "td.num,th.num{text-align:right}"
    "tbody tr:nth-child(even){background:#fafbfc}.wide{overflow-x:auto}"
    "p.note,footer{color:#7b8794;font-size:.8rem}footer{margin-top:2rem}"
    "details{margin-top:1.2rem}summary{cursor:pointer;font-weight:600}"
    "@media print{body{margin:0;max-width:none}}";

/* Local date and time for people: "2026-11-22 10:15". */
static void local_text(StrBuf *out, KicTime t)
{
    time_t s = (time_t)(t / KIC_USEC);
    struct tm tm;
    localtime_r(&s, &tm);
    char buf[32];
    strftime(buf, sizeof(buf), "%Y-%m-%d %H:%M", &tm);
    strbuf_puts(out, buf);
}

/* ---- the charts' data ---- */

/* One x position's sums, added up over the groups of its rows. */
typedef struct Point {
    double offered, answered, short_abandoned, answered_in_sl, acw_s, acw_n, transferred;
    double needed, present;
} Point;

typedef struct ChartData {
    size_t n;
    char **labels;
    Point *points;
    bool time_axis; /* x is time (lines); else the groups of an "all" report */
} ChartData;

/* Column positions of the sums the charts use (-1: absent). */
typedef struct SumColumns {
    int offered, answered, short_abandoned, answered_in_sl, acw_s, acw_n, transferred, needed,
        present;
} SumColumns;

static SumColumns sum_columns(json_t *result)
{
    return (SumColumns){report_column_index(result, "offered"),        report_column_index(result, "answered"),
                        report_column_index(result, "short_abandoned"), report_column_index(result, "answered_in_sl"),
                        report_column_index(result, "acw_s"),          report_column_index(result, "acw_n"),
                        report_column_index(result, "transferred"),    report_column_index(result, "agents_needed"),
                        report_column_index(result, "agents_present")};
}

static double cell_number(json_t *row, int col)
{
    json_t *v = col >= 0 ? json_array_get(row, (size_t)col) : NULL;
    return json_is_number(v) ? json_number_value(v) : 0;
}

static void point_add(Point *p, json_t *row, const SumColumns *c)
{
    p->offered += cell_number(row, c->offered);
    p->answered += cell_number(row, c->answered);
    p->short_abandoned += cell_number(row, c->short_abandoned);
    p->answered_in_sl += cell_number(row, c->answered_in_sl);
    p->acw_s += cell_number(row, c->acw_s);
    p->acw_n += cell_number(row, c->acw_n);
    p->transferred += cell_number(row, c->transferred);
    p->needed += cell_number(row, c->needed);
    p->present += cell_number(row, c->present);
}

static double service_level(const Point *p)
{
    double base = p->offered - p->short_abandoned;
    return base > 0 ? p->answered_in_sl / base : NAN;
}

static double acw_avg(const Point *p)
{
    return p->acw_n > 0 ? p->acw_s / p->acw_n : NAN;
}

static void chart_data_free(ChartData *d)
{
    for (size_t i = 0; i < d->n; i++)
        free(d->labels[i]);
    free(d->labels);
    free(d->points);
    memset(d, 0, sizeof(*d));
}

static bool chart_data_alloc(ChartData *d, size_t n)
{
    d->n = n;
    d->labels = calloc(n ? n : 1, sizeof(*d->labels));
    d->points = calloc(n ? n : 1, sizeof(*d->points));
    return d->labels && d->points;
}

/* The x label of a bucket: times of day within one day, dates across
 * days, months by name. */
static char *bucket_label(KicTime b, ReportInterval iv, bool many_days, Lang lang)
{
    time_t s = (time_t)(b / KIC_USEC);
    struct tm tm;
    localtime_r(&s, &tm);
    char buf[40];
    if (iv == IV_1MO)
        snprintf(buf, sizeof(buf), "%s %d", month_abbr[tm.tm_mon][lang], tm.tm_year + 1900);
    else if (iv == IV_1D || iv == IV_1W)
        strftime(buf, sizeof(buf), lang == LANG_NL ? "%d-%m-%Y" : "%Y-%m-%d", &tm);
    else
        strftime(buf, sizeof(buf), many_days ? (lang == LANG_NL ? "%d-%m %H:%M" : "%m-%d %H:%M") : "%H:%M",
                 &tm);
    return strdup(buf);
}

/* Position of t in the sorted starts, or -1. */
static long find_bucket(const KicTime *starts, size_t n, KicTime t)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (starts[mid] < t)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < n && starts[lo] == t ? (long)lo : -1;
}

/* The x positions of a report by interval: every bucket of the range
 * when they are not too many and kicd's buckets are among them, else the
 * buckets that have rows. */
static size_t time_positions(const ReportPage *page, ReportInterval iv, KicTime *starts,
                             const KicTime *row_starts, size_t nrows)
{
    size_t n;
    if (buckets_between(page->from, page->to, iv, starts, MAX_CHART_BUCKETS, &n)) {
        bool all_found = true;
        for (size_t r = 0; r < nrows && all_found; r++)
            all_found = row_starts[r] == KIC_TIME_NONE || find_bucket(starts, n, row_starts[r]) >= 0;
        if (all_found)
            return n;
    }
    n = 0;
    for (size_t r = 0; r < nrows; r++)
        if (row_starts[r] != KIC_TIME_NONE && (n == 0 || starts[n - 1] != row_starts[r]))
            starts[n++] = row_starts[r];
    return n;
}

static bool chart_data_by_time(ChartData *d, const ReportPage *page, ReportInterval iv)
{
    json_t *rows = report_rows(page->result);
    size_t nrows = json_array_size(rows);
    int ci = report_column_index(page->result, "interval_start");
    KicTime *row_starts = calloc(nrows ? nrows : 1, sizeof(*row_starts));
    KicTime *starts = calloc(MAX_CHART_BUCKETS + nrows + 1, sizeof(*starts));
    bool ok = row_starts && starts;
    for (size_t r = 0; ok && r < nrows; r++) {
        const char *text = json_string_value(json_array_get(json_array_get(rows, r), (size_t)ci));
        if (!text || !time_parse_rfc3339(text, &row_starts[r]))
            row_starts[r] = KIC_TIME_NONE;
    }
    size_t n = ok ? time_positions(page, iv, starts, row_starts, nrows) : 0;
    ok = ok && chart_data_alloc(d, n);
    d->time_axis = true;
    SumColumns sc = sum_columns(page->result);
    for (size_t r = 0; ok && r < nrows; r++) {
        long at = row_starts[r] == KIC_TIME_NONE ? -1 : find_bucket(starts, n, row_starts[r]);
        if (at >= 0)
            point_add(&d->points[at], json_array_get(rows, r), &sc);
    }
    bool many_days = n > 1 && time_local_day_start(starts[0]) != time_local_day_start(starts[n - 1]);
    for (size_t i = 0; ok && i < n; i++)
        ok = (d->labels[i] = bucket_label(starts[i], iv, many_days, page->lang)) != NULL;
    free(row_starts);
    free(starts);
    return ok;
}

/* A group's label: its values joined by " / ". */
static char *group_label(json_t *row, size_t ndims, Lang lang)
{
    StrBuf b = STRBUF_INIT;
    for (size_t k = 0; k < ndims; k++) {
        const char *v = json_string_value(json_array_get(row, k));
        if (k)
            strbuf_puts(&b, " / ");
        strbuf_puts(&b, v ? v : tr(T_EMPTY_GROUP, lang));
    }
    if (ndims == 0)
        strbuf_puts(&b, tr(T_WHOLE, lang));
    return strbuf_steal(&b);
}

static bool chart_data_by_group(ChartData *d, const ReportPage *page)
{
    json_t *rows = report_rows(page->result);
    size_t ndims = report_ndims(page->result);
    if (!chart_data_alloc(d, json_array_size(rows)))
        return false;
    SumColumns sc = sum_columns(page->result);
    for (size_t r = 0; r < d->n; r++) {
        point_add(&d->points[r], json_array_get(rows, r), &sc);
        if (!(d->labels[r] = group_label(json_array_get(rows, r), ndims, page->lang)))
            return false;
    }
    return true;
}

/* ---- the page ---- */

typedef struct Page {
    StrBuf *out;
    const ReportPage *in;
    Lang lang;
    FmtStyle style;
    double sl_target; /* NAN: none given */
    double sl_threshold_s;
} Page;

static void put(Page *p, const char *html)
{
    strbuf_puts(p->out, html);
}

static void put_text(Page *p, const char *text)
{
    html_escape(p->out, text);
}

static void render_meta(Page *p, json_t *result)
{
    ReportInterval iv = IV_ALL;
    const char *interval = json_string_value(json_object_get(result, "interval"));
    bool known = interval && interval_parse(interval, &iv);
    put(p, "<dl class=\"meta\"><dt>");
    put_text(p, tr(T_PERIOD, p->lang));
    put(p, "</dt><dd>");
    local_text(p->out, p->in->from);
    strbuf_printf(p->out, " %s ", tr(T_UNTIL, p->lang));
    local_text(p->out, p->in->to);
    put(p, "</dd><dt>");
    put_text(p, tr(T_INTERVAL, p->lang));
    put(p, "</dt><dd>");
    put_text(p, known ? interval_words[iv][p->lang] : interval ? interval : "?");
    put(p, "</dd><dt>");
    put_text(p, tr(T_TZ, p->lang));
    put(p, "</dt><dd>");
    const char *tz = json_string_value(json_object_get(result, "tz"));
    put_text(p, tz ? tz : "?");
    put(p, "</dd><dt>");
    put_text(p, tr(T_GROUPING, p->lang));
    put(p, "</dt><dd>");
    size_t ndims = report_ndims(result);
    for (size_t k = 0; k < ndims; k++) {
        if (k)
            put(p, ", ");
        put_text(p, ctlfmt_label(report_column_name(result, k), p->lang));
    }
    if (!ndims)
        put_text(p, tr(T_NONE, p->lang));
    const char *source = json_string_value(json_object_get(result, "source"));
    if (source) {
        put(p, "</dd><dt>");
        put_text(p, tr(T_SOURCE, p->lang));
        put(p, "</dt><dd>");
        put_text(p, source);
    }
    put(p, "</dd></dl>\n");
}

static void card(Page *p, const char *value, const char *label, CellMark mark)
{
    strbuf_printf(p->out, "<div class=\"card%s\"><span class=\"v\">",
                  mark == MARK_GOOD ? " good" : mark == MARK_BAD ? " bad" : "");
    put_text(p, value);
    put(p, "</span><span class=\"l\">");
    put_text(p, label);
    put(p, "</span></div>");
}

static void card_number(Page *p, double v, ColumnKind kind, const char *column, CellMark mark)
{
    StrBuf b = STRBUF_INIT;
    json_t *j = isnan(v) ? json_null() : kind == COL_COUNT ? json_integer((json_int_t)llround(v))
                                                            : json_real(v);
    fmt_cell(&b, j, kind, &p->style);
    json_decref(j);
    card(p, b.data ? b.data : "", ctlfmt_label(column, p->lang), mark);
    strbuf_free(&b);
}

/* Cards with the whole period's main numbers, from the summed components. */
static void render_totals(Page *p, json_t *result)
{
    SumColumns sc = sum_columns(result);
    Point t = {0};
    size_t r;
    json_t *row;
    json_array_foreach(report_rows(result), r, row)
    {
        point_add(&t, row, &sc);
    }
    double wait = 0, fcr_final = 0, fcr_closed = 0, abandoned = 0;
    int cw = report_column_index(result, "wait_answered_s"), cf = report_column_index(result, "fcr_final"),
        cc = report_column_index(result, "fcr_closed"), ca = report_column_index(result, "abandoned");
    json_array_foreach(report_rows(result), r, row)
    {
        wait += cell_number(row, cw);
        fcr_final += cell_number(row, cf);
        fcr_closed += cell_number(row, cc);
        abandoned += cell_number(row, ca);
    }
    double sl = service_level(&t);
    put(p, "<h2>");
    put_text(p, tr(T_TOTALS, p->lang));
    put(p, "</h2><div class=\"cards\">");
    card_number(p, t.offered, COL_COUNT, "offered", MARK_NONE);
    card_number(p, t.answered, COL_COUNT, "answered", MARK_NONE);
    card_number(p, abandoned, COL_COUNT, "abandoned", MARK_NONE);
    card_number(p, sl, COL_RATE, "service_level",
                isnan(sl) || isnan(p->sl_target) ? MARK_NONE
                : sl >= p->sl_target             ? MARK_GOOD
                                                 : MARK_BAD);
    card_number(p, t.answered > 0 ? wait / t.answered : NAN, COL_SECONDS, "asa_s", MARK_NONE);
    card_number(p, acw_avg(&t), COL_SECONDS, "acw_avg_s", MARK_NONE);
    card_number(p, t.answered > 0 ? (t.answered - t.transferred) / t.answered : NAN, COL_RATE,
                "handled_independently_rate", MARK_NONE);
    card_number(p, fcr_closed > 0 ? fcr_final / fcr_closed : NAN, COL_RATE, "fcr_rate", MARK_NONE);
    put(p, "</div>\n");
}

static void chart(Page *p, const ChartData *d, PageText title, const SvgSeries *series,
                  size_t nseries, AxisKind axis, bool stacked, double target)
{
    char target_label[96] = "";
    if (!isnan(target)) {
        StrBuf b = STRBUF_INIT;
        fmt_percent(&b, target, &(FmtStyle){p->style.point, 0, "-"});
        snprintf(target_label, sizeof(target_label), "%s %s %s %.0f s", tr(T_TARGET, p->lang),
                 b.data ? b.data : "", tr(T_WITHIN, p->lang), p->sl_threshold_s);
        strbuf_free(&b);
    }
    SvgChart c = {
        .title = tr(title, p->lang),
        .n = d->n,
        .x_labels = (const char *const *)d->labels,
        .series = series,
        .nseries = nseries,
        .stacked = stacked,
        .axis = axis,
        .target = target,
        .target_label = target_label,
        .point = p->style.point,
    };
    put(p, "<section><h2>");
    put_text(p, c.title);
    put(p, "</h2>\n");
    svg_render(p->out, &c);
    put(p, "</section>\n");
}

static void render_charts(Page *p, const ChartData *d, bool with_agents)
{
    size_t n = d->n;
    double *v = calloc(8 * (n ? n : 1), sizeof(*v));
    if (!v)
        return;
    double *offered = v, *answered = v + n, *sl = v + 2 * n, *acw = v + 3 * n, *indep = v + 4 * n,
           *transferred = v + 5 * n, *present = v + 6 * n, *needed = v + 7 * n;
    for (size_t i = 0; i < n; i++) {
        const Point *pt = &d->points[i];
        offered[i] = pt->offered;
        answered[i] = pt->answered;
        sl[i] = service_level(pt);
        acw[i] = acw_avg(pt);
        indep[i] = pt->answered - pt->transferred;
        transferred[i] = pt->transferred;
        present[i] = pt->present;
        needed[i] = pt->needed;
    }
    bool lines = d->time_axis;
    Lang l = p->lang;
    chart(p, d, T_CHART_OFFERED,
          (SvgSeries[]){{ctlfmt_label("offered", l), offered, "#8da9c4", false},
                        {ctlfmt_label("answered", l), answered, "#2e7d32", false}},
          2, AXIS_COUNT, false, NAN);
    chart(p, d, T_CHART_SL, (SvgSeries[]){{ctlfmt_label("service_level", l), sl, "#1565c0", lines}}, 1,
          AXIS_RATE, false, p->sl_target);
    chart(p, d, T_CHART_ACW, (SvgSeries[]){{ctlfmt_label("acw_avg_s", l), acw, "#6a1b9a", lines}}, 1,
          AXIS_SECONDS, false, NAN);
    chart(p, d, T_CHART_INDEP,
          (SvgSeries[]){{ctlfmt_label("handled_independently_rate", l), indep, "#2e7d32", false},
                        {ctlfmt_label("transfer_rate", l), transferred, "#ef6c00", false}},
          2, AXIS_COUNT, true, NAN);
    if (with_agents)
        chart(p, d, T_CHART_AGENTS,
              (SvgSeries[]){{ctlfmt_label("agents_needed", l), needed, "#bcaaa4", false},
                            {ctlfmt_label("agents_present", l), present, "#1565c0", lines}},
              2, AXIS_COUNT, false, NAN);
    free(v);
}

/* A cell for the page: interval starts as local date and time. */
static void html_cell(Page *p, StrBuf *b, json_t *v, const char *column, ColumnKind kind)
{
    const char *text = json_string_value(v);
    if (strcmp(column, "interval_start") == 0 && text && strlen(text) >= 16 && text[10] == 'T') {
        strbuf_append(b, text, 10);
        strbuf_putc(b, ' ');
        strbuf_append(b, text + 11, 5);
        return;
    }
    fmt_cell(b, v, kind, &p->style);
}

static void render_table(Page *p, json_t *result, const size_t *cols, size_t n)
{
    ColumnKind *kinds = report_column_kinds(result, cols, n);
    if (!kinds)
        return;
    put(p, "<div class=\"wide\"><table><thead><tr>");
    for (size_t c = 0; c < n; c++) {
        const char *name = report_column_name(result, cols[c]);
        strbuf_printf(p->out, "<th%s title=\"", kinds[c] == COL_TEXT ? "" : " class=\"num\"");
        put_text(p, name);
        put(p, "\">");
        put_text(p, ctlfmt_label(name, p->lang));
        put(p, "</th>");
    }
    put(p, "</tr></thead><tbody>\n");
    size_t r;
    json_t *row;
    StrBuf b = STRBUF_INIT;
    json_array_foreach(report_rows(result), r, row)
    {
        put(p, "<tr>");
        for (size_t c = 0; c < n; c++) {
            ColumnKind kind = kinds[c];
            strbuf_reset(&b);
            html_cell(p, &b, json_array_get(row, cols[c]), report_column_name(result, cols[c]), kind);
            put(p, kind == COL_TEXT ? "<td>" : "<td class=\"num\">");
            put_text(p, b.data ? b.data : "");
            put(p, "</td>");
        }
        put(p, "</tr>\n");
    }
    strbuf_free(&b);
    free(kinds);
    put(p, "</tbody></table></div>\n");
}

static double target_value(json_t *result, const char *name)
{
    json_t *v = json_object_get(json_object_get(result, "targets"), name);
    return json_is_number(v) ? json_number_value(v) : NAN;
}

void report_render_html(StrBuf *out, const ReportPage *in)
{
    json_t *result = in->result;
    Page p = {out, in, in->lang, {in->lang == LANG_NL ? ',' : '.', 1, "–"},
              target_value(result, "service_level"), target_value(result, "service_level_threshold_s")};
    strbuf_printf(out, "<!DOCTYPE html>\n<html lang=\"%s\">\n<head>\n<meta charset=\"utf-8\">\n"
                       "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
                       "<title>", p.lang == LANG_NL ? "nl" : "en");
    put_text(&p, tr(T_TITLE, p.lang));
    put(&p, " ");
    local_text(out, in->from);
    put(&p, " – ");
    local_text(out, in->to);
    strbuf_printf(out, "</title>\n<style>%s</style>\n</head>\n<body>\n<header><h1>", page_css);
    put_text(&p, tr(T_TITLE, p.lang));
    put(&p, "</h1>\n");
    render_meta(&p, result);
    put(&p, "</header>\n<main>\n");
    if (json_array_size(report_rows(result)) == 0) {
        put(&p, "<p>");
        put_text(&p, tr(T_NO_ROWS, p.lang));
        put(&p, "</p>\n");
    } else {
        render_totals(&p, result);
        const char *interval = json_string_value(json_object_get(result, "interval"));
        ReportInterval iv = IV_ALL;
        bool by_time = interval && interval_parse(interval, &iv) && iv != IV_ALL &&
                       report_column_index(result, "interval_start") >= 0;
        ChartData d = {0};
        bool ok = by_time ? chart_data_by_time(&d, in, iv) : chart_data_by_group(&d, in);
        if (ok && d.n > 0) {
            render_charts(&p, &d, report_column_index(result, "agents_present") >= 0);
            put(&p, "<p class=\"note\">");
            put_text(&p, tr(T_NOTE_SUMS, p.lang));
            put(&p, "</p>\n");
        }
        chart_data_free(&d);
        put(&p, "<section><h2>");
        put_text(&p, tr(T_TABLE, p.lang));
        put(&p, "</h2>\n");
        render_table(&p, result, in->columns, in->ncolumns);
        put(&p, "</section>\n<details><summary>");
        put_text(&p, tr(T_ALL_COLUMNS, p.lang));
        put(&p, "</summary>\n");
        size_t ncols = json_array_size(report_columns(result));
        size_t *all = malloc((ncols ? ncols : 1) * sizeof(*all));
        for (size_t i = 0; all && i < ncols; i++)
            all[i] = i;
        if (all)
            render_table(&p, result, all, ncols);
        free(all);
        put(&p, "</details>\n");
    }
    put(&p, "</main>\n<footer>");
    put_text(&p, tr(T_MADE, p.lang));
    strbuf_printf(out, " %s", KIC_VERSION);
    if (in->generated) {
        put(&p, " · ");
        put_text(&p, in->generated);
    }
    put(&p, "</footer>\n</body>\n</html>\n");
}
