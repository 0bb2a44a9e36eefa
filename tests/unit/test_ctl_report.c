/* kicctl's report and live views (tools/kicctl/reportfmt.c, livefmt.c,
 * buckets.c): kicd's intervals on the calendar (23- and 25-hour days,
 * weeks from Monday, months), column choice, CSV, pretty JSON that reads
 * back the same, the HTML page and the live screen. TZ=Europe/Amsterdam. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "buckets.h"
#include "livefmt.h"
#include "reportfmt.h"
#include "unit.h"

static KicTime at(const char *s)
{
    KicTime t;
    ck_assert_msg(time_parse_rfc3339(s, &t), "bad time %s", s);
    return t;
}

static void setup(void)
{
    setenv("TZ", "Europe/Amsterdam", 1);
    tzset();
}

static size_t count(const char *hay, const char *needle)
{
    size_t n = 0;
    for (const char *p = strstr(hay, needle); p; p = strstr(p + 1, needle))
        n++;
    return n;
}

/* ---- intervals ---- */

START_TEST(intervals_by_name)
{
    ReportInterval iv;
    ck_assert(interval_parse("15m", &iv) && iv == IV_15M);
    ck_assert(interval_parse("1mo", &iv) && iv == IV_1MO);
    ck_assert(interval_parse("all", &iv) && iv == IV_ALL);
    ck_assert(!interval_parse("2h", &iv));
    ck_assert(!interval_parse("", &iv));
    ck_assert_str_eq(interval_name(IV_1W), "1w");
}
END_TEST

START_TEST(buckets_start_where_kicd_starts_them)
{
    ck_assert_int_eq(bucket_floor(at("2026-11-22T10:44:59+01:00"), IV_15M), at("2026-11-22T10:30:00+01:00"));
    ck_assert_int_eq(bucket_floor(at("2026-11-22T10:44:59+01:00"), IV_30M), at("2026-11-22T10:30:00+01:00"));
    ck_assert_int_eq(bucket_floor(at("2026-11-22T10:59:59+01:00"), IV_1H), at("2026-11-22T10:00:00+01:00"));
    /* the repeated hour of 25 October: two buckets */
    ck_assert_int_eq(bucket_floor(at("2026-10-25T02:30:00+02:00"), IV_1H), at("2026-10-25T02:00:00+02:00"));
    ck_assert_int_eq(bucket_floor(at("2026-10-25T02:30:00+01:00"), IV_1H), at("2026-10-25T02:00:00+01:00"));
    ck_assert_int_eq(bucket_floor(at("2026-11-22T23:59:59+01:00"), IV_1D), at("2026-11-22T00:00:00+01:00"));
    /* 22 November 2026 is a Sunday: its week began on Monday the 16th */
    ck_assert_int_eq(bucket_floor(at("2026-11-22T12:00:00+01:00"), IV_1W), at("2026-11-16T00:00:00+01:00"));
    ck_assert_int_eq(bucket_floor(at("2026-11-16T00:00:00+01:00"), IV_1W), at("2026-11-16T00:00:00+01:00"));
    ck_assert_int_eq(bucket_floor(at("2026-10-31T23:00:00+01:00"), IV_1MO), at("2026-10-01T00:00:00+02:00"));
    ck_assert_int_eq(bucket_next(at("2026-10-01T00:00:00+02:00"), IV_1MO), at("2026-11-01T00:00:00+01:00"));
    ck_assert_int_eq(bucket_next(at("2026-12-01T00:00:00+01:00"), IV_1MO), at("2027-01-01T00:00:00+01:00"));
    ck_assert_int_eq(bucket_next(at("2026-10-25T00:00:00+02:00"), IV_1D), at("2026-10-26T00:00:00+01:00"));
    ck_assert_int_eq(bucket_next(at("2026-03-23T00:00:00+01:00"), IV_1W), at("2026-03-30T00:00:00+02:00"));
    ck_assert_int_eq(calendar_midnight(2026, 3, 29), at("2026-03-29T00:00:00+01:00"));
    ck_assert_int_eq(calendar_midnight(2026, 3, 30), at("2026-03-30T00:00:00+02:00"));
}
END_TEST

START_TEST(days_of_25_and_23_hours)
{
    KicTime b[200];
    size_t n;
    ck_assert(buckets_between(at("2026-10-25T00:00:00+02:00"), at("2026-10-26T00:00:00+01:00"), IV_1H, b, 200, &n));
    ck_assert_uint_eq(n, 25);
    ck_assert(buckets_between(at("2026-03-29T00:00:00+01:00"), at("2026-03-30T00:00:00+02:00"), IV_1H, b, 200, &n));
    ck_assert_uint_eq(n, 23);
    ck_assert(buckets_between(at("2026-03-29T00:00:00+01:00"), at("2026-03-30T00:00:00+02:00"), IV_15M, b, 200, &n));
    ck_assert_uint_eq(n, 92);
    /* a range not on a boundary still covers its first and last bucket */
    ck_assert(buckets_between(at("2026-11-02T10:10:00+01:00"), at("2026-12-02T00:00:01+01:00"), IV_1W, b, 200, &n));
    ck_assert_uint_eq(n, 5);
    ck_assert_int_eq(b[0], at("2026-11-02T00:00:00+01:00"));
    ck_assert(buckets_between(at("2026-01-01T00:00:00+01:00"), at("2027-01-01T00:00:00+01:00"), IV_1MO, b, 200, &n));
    ck_assert_uint_eq(n, 12);
    /* too many, an empty range, or "all" */
    ck_assert(!buckets_between(at("2026-01-01T00:00:00+01:00"), at("2027-01-01T00:00:00+01:00"), IV_1D, b, 200, &n));
    ck_assert(!buckets_between(at("2026-01-02T00:00:00+01:00"), at("2026-01-01T00:00:00+01:00"), IV_1D, b, 200, &n));
    ck_assert(!buckets_between(at("2026-01-01T00:00:00+01:00"), at("2026-01-02T00:00:00+01:00"), IV_ALL, b, 200, &n));
}
END_TEST

/* ---- a report ---- */

static const char report_text[] =
    "{\"columns\":[\"queue\",\"interval_start\",\"offered\",\"answered\",\"abandoned\","
    "\"short_abandoned\",\"service_level\",\"asa_s\",\"acw_avg_s\",\"handled_independently_rate\","
    "\"fcr_rate\",\"answered_in_sl\",\"acw_s\",\"acw_n\",\"transferred\",\"agents_needed\","
    "\"something_new\"],"
    "\"rows\":["
    "[\"thuiszorg\",\"2026-11-20T09:00:00+01:00\",10,8,2,0,0.7,12.25,61,0.75,null,7,488,8,2,3,\"x\"],"
    "[\"facturen, \\\"eigen\\\" bijdrage\",\"2026-11-20T09:00:00+01:00\",4,4,0,0,1,3.5,30.5,1,0.5,4,122,4,0,2,null],"
    "[\"thuiszorg\",\"2026-11-20T11:00:00+01:00\",1,0,1,1,null,null,null,null,null,0,0,0,0,1,null]],"
    "\"interval\":\"1h\",\"tz\":\"Europe/Amsterdam\",\"source\":\"calls\","
    "\"targets\":{\"service_level\":0.8,\"service_level_threshold_s\":20,\"short_abandon_s\":5}}";

static json_t *fixture(void)
{
    json_error_t e;
    json_t *r = json_loads(report_text, 0, &e);
    ck_assert_msg(r != NULL, "fixture: %s", e.text);
    return r;
}

START_TEST(shape_and_columns)
{
    json_t *r = fixture();
    char err[200];
    ck_assert(report_check(r, err, sizeof(err)));
    ck_assert_uint_eq(report_ndims(r), 1);
    size_t *idx, n;
    ck_assert(report_pick_columns(r, NULL, &idx, &n, err, sizeof(err)));
    /* queue, interval_start, then the main metrics that are there */
    static const size_t main_cols[] = {0, 1, 2, 3, 4, 6, 7, 8, 9, 10, 15};
    ck_assert_uint_eq(n, sizeof(main_cols) / sizeof(*main_cols));
    for (size_t i = 0; i < n; i++)
        ck_assert_uint_eq(idx[i], main_cols[i]);
    free(idx);
    ck_assert(report_pick_columns(r, "all", &idx, &n, err, sizeof(err)));
    ck_assert_uint_eq(n, 17);
    free(idx);
    ck_assert(report_pick_columns(r, "acw_avg_s,offered,queue", &idx, &n, err, sizeof(err)));
    ck_assert_uint_eq(n, 4);
    ck_assert_uint_eq(idx[2], 8);
    ck_assert_uint_eq(idx[3], 2);
    free(idx);
    ck_assert(!report_pick_columns(r, "offered,postcode", &idx, &n, err, sizeof(err)));
    ck_assert_ptr_nonnull(strstr(err, "'postcode'"));
    ck_assert(!report_pick_columns(r, "offered,,answered", &idx, &n, err, sizeof(err)));
    json_decref(r);

    const char *bad[] = {"{}", "{\"columns\":[1],\"rows\":[]}",
                         "{\"columns\":[\"a\"],\"rows\":[[1,2]]}", "{\"columns\":[\"a\"],\"rows\":[3]}"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
        json_t *b = json_loads(bad[i], 0, NULL);
        ck_assert_msg(!report_check(b, err, sizeof(err)), "%s should be refused", bad[i]);
        json_decref(b);
    }
}
END_TEST

static char *steal(StrBuf *b)
{
    char *s = strbuf_steal(b);
    ck_assert_ptr_nonnull(s);
    return s;
}

START_TEST(csv_has_every_column_and_reads_back)
{
    json_t *r = fixture();
    StrBuf b = STRBUF_INIT;
    report_render_csv(&b, r);
    char *csv = steal(&b);
    ck_assert_str_eq(csv,
        "queue,interval_start,offered,answered,abandoned,short_abandoned,service_level,asa_s,"
        "acw_avg_s,handled_independently_rate,fcr_rate,answered_in_sl,acw_s,acw_n,transferred,"
        "agents_needed,something_new\r\n"
        "thuiszorg,2026-11-20T09:00:00+01:00,10,8,2,0,0.7,12.25,61,0.75,,7,488,8,2,3,x\r\n"
        "\"facturen, \"\"eigen\"\" bijdrage\",2026-11-20T09:00:00+01:00,4,4,0,0,1,3.5,30.5,1,0.5,4,122,4,0,2,\r\n"
        "thuiszorg,2026-11-20T11:00:00+01:00,1,0,1,1,,,,,,0,0,0,0,1,\r\n");
    free(csv);
    json_decref(r);
}
END_TEST

START_TEST(table_shows_people_numbers)
{
    json_t *r = fixture();
    size_t *idx, n;
    char err[200];
    ck_assert(report_pick_columns(r, NULL, &idx, &n, err, sizeof(err)));
    StrBuf b = STRBUF_INIT;
    report_render_table(&b, r, idx, n);
    char *t = steal(&b);
    ck_assert_ptr_eq(strstr(t, "queue "), t);
    ck_assert_ptr_nonnull(strstr(t, "service_level"));
    ck_assert_ptr_nonnull(strstr(t, "70.0%"));   /* rates as percentages */
    ck_assert_ptr_nonnull(strstr(t, "1:01"));    /* ACW as m:ss */
    ck_assert_ptr_nonnull(strstr(t, "facturen, \"eigen\" bijdrage"));
    ck_assert_uint_eq(count(t, "\n"), 5); /* header, rule, three rows */
    /* every line as wide as the header (the last column is right-aligned) */
    char *copy = strdup(t), *save = NULL;
    size_t width = 0;
    for (char *line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        if (!width)
            width = fmt_width(line);
        ck_assert_uint_eq(fmt_width(line), width);
    }
    free(copy);
    free(t);
    free(idx);
    /* no rows: the header and a word why */
    json_array_clear(json_object_get(r, "rows"));
    ck_assert(report_pick_columns(r, NULL, &idx, &n, err, sizeof(err)));
    report_render_table(&b, r, idx, n);
    t = steal(&b);
    ck_assert_ptr_nonnull(strstr(t, "no rows"));
    free(t);
    free(idx);
    json_decref(r);
}
END_TEST

START_TEST(pretty_json_reads_back_the_same)
{
    json_t *r = fixture();
    json_object_set_new(r, "whole", json_real(2.0));
    json_object_set_new(r, "third", json_real(1.0 / 3));
    json_object_set_new(r, "empty", json_object());
    json_object_set_new(r, "none", json_array());
    StrBuf b = STRBUF_INIT;
    report_render_pretty(&b, r);
    char *text = steal(&b);
    json_t *back = json_loads(text, 0, NULL);
    ck_assert_msg(back && json_equal(r, back), "does not read back:\n%s", text);
    ck_assert(json_is_real(json_object_get(back, "whole")));
    ck_assert_ptr_nonnull(strstr(text, "\n  \"rows\": [\n    [\"thuiszorg\", "));
    ck_assert_ptr_eq(strstr(text, "{\n  \"columns\""), text);
    /* key order as kicd sent it */
    ck_assert(strstr(text, "\"columns\"") < strstr(text, "\"rows\""));
    ck_assert(strstr(text, "\"rows\"") < strstr(text, "\"targets\""));
    json_decref(back);
    free(text);
    json_decref(r);
}
END_TEST

static char *html(json_t *r, Lang lang)
{
    size_t *idx, n;
    char err[200];
    ck_assert(report_pick_columns(r, NULL, &idx, &n, err, sizeof(err)));
    ReportPage page = {r, at("2026-11-20T00:00:00+01:00"), at("2026-11-21T00:00:00+01:00"), lang,
                       idx, n, "2026-11-22 10:15"};
    StrBuf b = STRBUF_INIT;
    report_render_html(&b, &page);
    free(idx);
    return steal(&b);
}

START_TEST(html_page_is_self_contained)
{
    json_t *r = fixture();
    char *page = html(r, LANG_NL);
    ck_assert_ptr_eq(strstr(page, "<!DOCTYPE html>"), page);
    ck_assert_ptr_nonnull(strstr(page, "<html lang=\"nl\">"));
    ck_assert_ptr_nonnull(strstr(page, "</html>\n"));
    ck_assert_ptr_null(strstr(page, "http://"));
    ck_assert_ptr_null(strstr(page, "https://"));
    ck_assert_ptr_null(strstr(page, "<script"));
    ck_assert_ptr_null(strstr(page, "<link"));
    ck_assert_ptr_null(strstr(page, " src="));
    /* elements close */
    const char *pairs[][2] = {{"<svg", "</svg>"}, {"<table", "</table>"}, {"<section", "</section>"},
                              {"<tr", "</tr>"},   {"<details", "</details>"}};
    for (size_t i = 0; i < sizeof(pairs) / sizeof(*pairs); i++)
        ck_assert_msg(count(page, pairs[i][0]) == count(page, pairs[i][1]), "%s", pairs[i][0]);
    /* four charts: no agents_present column, so no staffing chart */
    ck_assert_uint_eq(count(page, "<svg"), 4);
    ck_assert_ptr_nonnull(strstr(page, "Servicelevel en norm"));
    ck_assert_ptr_nonnull(strstr(page, "norm 80% binnen 20 s"));
    ck_assert_ptr_nonnull(strstr(page, ">nawerktijd (gem.)</th>"));
    ck_assert_ptr_nonnull(strstr(page, ">zelfstandig afgehandeld<"));
    ck_assert_ptr_nonnull(strstr(page, "<td class=\"num\">70,0%</td>"));
    ck_assert_ptr_nonnull(strstr(page, "<td>2026-11-20 09:00</td>"));
    ck_assert_ptr_nonnull(strstr(page, "facturen, &quot;eigen&quot; bijdrage"));
    /* the day in hours: 24 x positions, 10:00 without rows among them */
    ck_assert_ptr_nonnull(strstr(page, "<title>09:00: aangeboden 14</title>"));
    ck_assert_ptr_nonnull(strstr(page, "<title>11:00: aangeboden 1</title>"));
    /* the groups of 09:00 together: 11 of 14 within the service level */
    ck_assert_ptr_nonnull(strstr(page, "<title>09:00: servicelevel 78,6%</title>"));
    /* totals: 15 offered, service level (7+4+0)/(15-1) */
    ck_assert_ptr_nonnull(strstr(page, "<span class=\"v\">15</span>"));
    ck_assert_ptr_nonnull(strstr(page, "<div class=\"card bad\"><span class=\"v\">78,6%</span>"));
    free(page);

    page = html(r, LANG_EN);
    ck_assert_ptr_nonnull(strstr(page, "<html lang=\"en\">"));
    ck_assert_ptr_nonnull(strstr(page, "Service level against its target"));
    ck_assert_ptr_nonnull(strstr(page, "<td class=\"num\">70.0%</td>"));
    free(page);

    /* with agents present: a fifth chart */
    json_array_append_new(json_object_get(r, "columns"), json_string("agents_present"));
    size_t i;
    json_t *row;
    json_array_foreach(json_object_get(r, "rows"), i, row)
    {
        json_array_append_new(row, json_real(1.5));
    }
    page = html(r, LANG_NL);
    ck_assert_uint_eq(count(page, "<svg"), 5);
    ck_assert_ptr_nonnull(strstr(page, "Benodigde en aanwezige medewerkers"));
    free(page);

    json_array_clear(json_object_get(r, "rows"));
    page = html(r, LANG_NL);
    ck_assert_ptr_nonnull(strstr(page, "Geen contacten in deze periode."));
    ck_assert_ptr_null(strstr(page, "<svg"));
    free(page);
    json_decref(r);
}
END_TEST

START_TEST(html_of_a_whole_period_charts_the_groups)
{
    json_t *r = json_loads(
        "{\"columns\":[\"team\",\"offered\",\"answered\",\"short_abandoned\",\"answered_in_sl\"],"
        "\"rows\":[[\"wijkteam-noord\",3,3,0,3],[null,2,1,0,1]],\"interval\":\"all\","
        "\"tz\":\"Europe/Amsterdam\",\"targets\":{}}",
        0, NULL);
    char *page = html(r, LANG_NL);
    ck_assert_ptr_nonnull(strstr(page, "<title>wijkteam-noord: aangeboden 3</title>"));
    ck_assert_ptr_nonnull(strstr(page, "<title>(leeg): aangeboden 2</title>"));
    ck_assert_ptr_null(strstr(page, "<polyline")); /* groups are bars, not a line */
    ck_assert_ptr_null(strstr(page, "class=\"target\"")); /* no target given */
    free(page);
    json_decref(r);
}
END_TEST

/* ---- the live screen ---- */

static const char live_text[] =
    "{\"at\":\"2026-11-22T10:15:00.000+01:00\","
    "\"targets\":{\"service_level\":0.8,\"service_level_threshold_s\":20,\"short_abandon_s\":5},"
    "\"total\":{\"waiting\":3,\"longest_wait_s\":41.2,\"agents\":{\"offline\":2,\"available\":4,"
    "\"ringing\":0,\"on_call\":9,\"acw\":2,\"break\":1},\"offered\":412,\"answered\":377,"
    "\"abandoned\":30,\"service_level\":0.81,\"asa_s\":12.3,\"aht_s\":309.3,\"acw_avg_s\":61.0,"
    "\"transfer_rate\":0.21,\"handled_independently_rate\":0.79,\"fcr_rate\":0.62,"
    "\"callbacks_open\":7,\"callbacks_overdue\":1},"
    "\"queues\":[{\"queue\":\"huishoudelijke-zorg\",\"waiting\":2,\"longest_wait_s\":41.2,"
    "\"agents\":{\"available\":1,\"ringing\":0,\"on_call\":5,\"acw\":1,\"break\":0},"
    "\"offered\":200,\"answered\":180,\"abandoned\":20,\"service_level\":0.74,\"asa_s\":15,"
    "\"aht_s\":3725,\"acw_avg_s\":70,\"transfer_rate\":null,\"handled_independently_rate\":null,"
    "\"fcr_rate\":null,\"callbacks_open\":5,\"callbacks_overdue\":1},"
    "{\"queue\":\"planning\",\"waiting\":1,\"longest_wait_s\":3,\"agents\":{},\"offered\":1}]}";

static char *live(const LiveView *v)
{
    StrBuf b = STRBUF_INIT;
    live_render(&b, v);
    return steal(&b);
}

/* The line whose first word is `label`. */
static char *line_of(const char *screen, const char *label)
{
    size_t n = strlen(label);
    for (const char *p = screen; *p; p += strcspn(p, "\n") + (p[strcspn(p, "\n")] == '\n')) {
        if (strncmp(p, label, n) == 0 && p[n] == ' ')
            return strndup(p, strcspn(p, "\n"));
    }
    return NULL;
}

/* Words of a line, separated by single spaces. */
static char *words(const char *line)
{
    char *w = malloc(strlen(line) + 1), *o = w;
    for (const char *p = line; *p; p++)
        if (*p != ' ' || (o > w && o[-1] != ' '))
            *o++ = *p;
    *o = '\0';
    return w;
}

START_TEST(live_screen)
{
    json_t *snap = json_loads(live_text, 0, NULL);
    ck_assert_ptr_nonnull(snap);
    LiveView v = {snap, NULL, false, 0, "polling"};
    char *s = live(&v);
    ck_assert_ptr_eq(strstr(s, "kicd live  2026-11-22 10:15:00 +01:00   service level target 80% within 20 s\n"), s);
    char *l = line_of(s, "huishoudelijke-zorg"), *w = words(l);
    ck_assert_str_eq(w, "huishoudelijke-zorg 2 0:41 1 0 5 1 0 200 180 20 74%! 0:15 1:02:05 1:10 - - - 5 1");
    free(l);
    free(w);
    l = line_of(s, LIVE_TOTAL_LABEL);
    w = words(l);
    ck_assert_str_eq(w, "(total) 3 0:41 4 0 9 2 1 412 377 30 81% 0:12 5:09 1:01 21% 79% 62% 7 1");
    free(l);
    free(w);
    l = line_of(s, "planning");
    w = words(l);
    ck_assert_str_eq(w, "planning 1 0:03 - - - - - 1 - - - - - - - - - - -");
    free(l);
    free(w);
    ck_assert_ptr_nonnull(strstr(s, "\n---"));
    ck_assert_ptr_nonnull(strstr(s, "\npolling\n"));
    ck_assert_ptr_null(strstr(s, "\x1b["));
    free(s);

    /* a filter, a queue without activity, colours, a narrow terminal */
    json_t *want = json_pack("[s,s]", "planning", "wijkverpleging");
    v = (LiveView){snap, want, true, 70, NULL};
    s = live(&v);
    ck_assert_ptr_null(strstr(s, "huishoudelijke-zorg"));
    ck_assert_ptr_nonnull(strstr(s, "no activity today: wijkverpleging\n"));
    l = line_of(s, "QUEUE");
    ck_assert_uint_le(strlen(l), 70);
    ck_assert_ptr_nonnull(strstr(l, "OFFERED"));
    ck_assert_ptr_null(strstr(l, "SL"));
    free(l);
    v.width = 0;
    free(s);
    s = live(&v);
    ck_assert_ptr_nonnull(strstr(s, "\x1b[32m81%\x1b[0m"));
    free(s);
    json_decref(want);
    json_decref(snap);
}
END_TEST

/* kicd pushes changes, not the clock: between updates the screen adds
 * the time since to the waits of the total and of queues with calls
 * waiting, and leaves everything else (and the original) alone. */
START_TEST(live_waits_grow_between_updates)
{
    json_t *snap = json_loads(live_text, 0, NULL);
    json_t *quiet = json_pack("{s:s,s:i,s:f}", "queue", "rustig", "waiting", 0,
                              "longest_wait_s", 0.0);
    json_array_append_new(json_object_get(snap, "queues"), quiet);
    ck_assert(live_has_waiting(snap));
    json_t *aged = live_aged(snap, 2.5);
    json_t *queues = json_object_get(aged, "queues");
    ck_assert_double_eq_tol(json_number_value(json_object_get(json_object_get(aged, "total"), "longest_wait_s")), 43.7, 1e-9);
    ck_assert_double_eq_tol(json_number_value(json_object_get(json_array_get(queues, 0), "longest_wait_s")), 43.7, 1e-9);
    ck_assert_double_eq_tol(json_number_value(json_object_get(json_array_get(queues, 1), "longest_wait_s")), 5.5, 1e-9);
    ck_assert_double_eq_tol(json_number_value(json_object_get(json_array_get(queues, 2), "longest_wait_s")), 0, 1e-9);
    ck_assert_int_eq(json_integer_value(json_object_get(json_array_get(queues, 0), "offered")), 200);
    ck_assert_double_eq_tol(json_number_value(json_object_get(json_object_get(snap, "total"), "longest_wait_s")), 41.2, 1e-9);
    /* shown on the screen as the grown wait */
    LiveView v = {aged, NULL, false, 0, NULL};
    char *screen = live(&v), *total = line_of(screen, LIVE_TOTAL_LABEL);
    ck_assert_ptr_nonnull(total);
    ck_assert_msg(strstr(total, "44s") || strstr(total, "0:44"), "total line: %s", total);
    free(total);
    free(screen);
    json_decref(aged);
    /* no time, or nobody waiting: the same numbers */
    json_object_set_new(json_object_get(snap, "total"), "waiting", json_integer(0));
    ck_assert(!live_has_waiting(snap));
    aged = live_aged(snap, 0);
    ck_assert(json_equal(aged, snap));
    json_decref(aged);
    json_decref(snap);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("ctl_report");
    TCase *tc = tcase_create("core");
    tcase_add_checked_fixture(tc, setup, NULL);
    tcase_add_test(tc, intervals_by_name);
    tcase_add_test(tc, buckets_start_where_kicd_starts_them);
    tcase_add_test(tc, days_of_25_and_23_hours);
    tcase_add_test(tc, shape_and_columns);
    tcase_add_test(tc, csv_has_every_column_and_reads_back);
    tcase_add_test(tc, table_shows_people_numbers);
    tcase_add_test(tc, pretty_json_reads_back_the_same);
    tcase_add_test(tc, html_page_is_self_contained);
    tcase_add_test(tc, html_of_a_whole_period_charts_the_groups);
    tcase_add_test(tc, live_screen);
    tcase_add_test(tc, live_waits_grow_between_updates);
    suite_add_tcase(s, tc);
    return unit_run(s);
}
