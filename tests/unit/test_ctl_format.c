/* kicctl's formatting helpers (tools/kicctl/ctlfmt.c): durations,
 * percentages, numbers that read back the same, CSV quoting (RFC 4180),
 * HTML escaping, the column catalogue and aligned text tables. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctlfmt.h"
#include "jsonw.h"
#include "unit.h"

/* The text a formatter appends, in one of a few static buffers. */
static const char *text_of(StrBuf *b)
{
    static char bufs[4][256];
    static int next;
    char *out = bufs[next++ % 4];
    snprintf(out, 256, "%s", b->data ? b->data : "");
    strbuf_free(b);
    return out;
}

static const char *seconds(double s)
{
    StrBuf b = STRBUF_INIT;
    fmt_seconds(&b, s);
    return text_of(&b);
}

static const char *percent(double rate, char point)
{
    StrBuf b = STRBUF_INIT;
    fmt_percent(&b, rate, &(FmtStyle){point, 1, "-"});
    return text_of(&b);
}

static const char *number(json_t *v)
{
    StrBuf b = STRBUF_INIT;
    fmt_json_number(&b, v);
    json_decref(v);
    return text_of(&b);
}

static const char *csv(const char *s)
{
    StrBuf b = STRBUF_INIT;
    jw_csv_field(&b, s);
    return text_of(&b);
}

static const char *cell(json_t *v, ColumnKind kind)
{
    StrBuf b = STRBUF_INIT;
    fmt_cell(&b, v, kind, &(FmtStyle){'.', 1, "-"});
    json_decref(v);
    return text_of(&b);
}

START_TEST(durations_as_minutes_and_hours)
{
    ck_assert_str_eq(seconds(0), "0:00");
    ck_assert_str_eq(seconds(7.4), "0:07");
    ck_assert_str_eq(seconds(7.5), "0:08");
    ck_assert_str_eq(seconds(59.6), "1:00");
    ck_assert_str_eq(seconds(309.3), "5:09");
    ck_assert_str_eq(seconds(3599.4), "59:59");
    ck_assert_str_eq(seconds(3723), "1:02:03");
    ck_assert_str_eq(seconds(90000), "25:00:00");
    ck_assert_str_eq(seconds(-0.2), "0:00"); /* never "-0:00" */
    ck_assert_str_eq(seconds(-65), "-1:05");
}
END_TEST

START_TEST(percentages_and_decimals)
{
    ck_assert_str_eq(percent(0.8126, '.'), "81.3%");
    ck_assert_str_eq(percent(0.8126, ','), "81,3%");
    ck_assert_str_eq(percent(1, '.'), "100.0%");
    ck_assert_str_eq(percent(0, '.'), "0.0%");
    ck_assert_str_eq(percent(-0.00001, '.'), "0.0%"); /* never "-0.0%" */
    StrBuf b = STRBUF_INIT;
    fmt_decimal(&b, 2.345, 2, ',');
    ck_assert_str_eq(text_of(&b), "2,35");
    fmt_decimal(&b, 7, 0, '.');
    ck_assert_str_eq(text_of(&b), "7");
    fmt_percent(&b, 0.8049, &(FmtStyle){'.', 0, "-"});
    ck_assert_str_eq(text_of(&b), "80%");
}
END_TEST

START_TEST(json_numbers_read_back_the_same)
{
    ck_assert_str_eq(number(json_integer(412)), "412");
    ck_assert_str_eq(number(json_integer(-3)), "-3");
    ck_assert_str_eq(number(json_real(0.81)), "0.81");
    ck_assert_str_eq(number(json_real(309.3)), "309.3");
    ck_assert_str_eq(number(json_real(0.1 + 0.2)), "0.30000000000000004");
    const double samples[] = {1.0 / 3, 2.0 / 3, 1e-7, 123456.789012, 9007199254740993.0, 0.000001};
    for (size_t i = 0; i < sizeof(samples) / sizeof(*samples); i++) {
        const char *t = number(json_real(samples[i]));
        ck_assert_msg(strtod(t, NULL) == samples[i], "%s does not read back", t);
    }
}
END_TEST

START_TEST(cells_by_kind)
{
    ck_assert_str_eq(cell(json_null(), COL_RATE), "-");
    ck_assert_str_eq(cell(NULL, COL_COUNT), "-");
    ck_assert_str_eq(cell(json_string("thuiszorg"), COL_TEXT), "thuiszorg");
    ck_assert_str_eq(cell(json_real(0.75), COL_RATE), "75.0%");
    ck_assert_str_eq(cell(json_real(61.4), COL_SECONDS), "1:01");
    ck_assert_str_eq(cell(json_integer(12), COL_COUNT), "12");
    ck_assert_str_eq(cell(json_real(3.0), COL_COUNT), "3");
    ck_assert_str_eq(cell(json_real(0.333), COL_COUNT), "0.33");
    ck_assert_str_eq(cell(json_real(2.46), COL_DECIMAL), "2.5");
    ck_assert_str_eq(cell(json_true(), COL_TEXT), "true");
    ck_assert_str_eq(cell(json_pack("[i]", 1), COL_TEXT), "[1]");
    StrBuf b = STRBUF_INIT;
    fmt_cell(&b, json_null(), COL_RATE, &(FmtStyle){'.', 1, ""});
    ck_assert_uint_eq(b.len, 0);
    strbuf_free(&b);
}
END_TEST

START_TEST(csv_fields_quoted_when_needed)
{
    ck_assert_str_eq(csv("thuiszorg"), "thuiszorg");
    ck_assert_str_eq(csv(""), "\"\""); /* not null, which is an empty field */
    ck_assert_str_eq(csv("facturen, eigen bijdrage"), "\"facturen, eigen bijdrage\"");
    ck_assert_str_eq(csv("zeg \"hallo\""), "\"zeg \"\"hallo\"\"\"");
    ck_assert_str_eq(csv("twee\nregels"), "\"twee\nregels\"");
    ck_assert_str_eq(csv("cr\rhere"), "\"cr\rhere\"");
    ck_assert_str_eq(csv(" spatie"), "\" spatie\"");
    ck_assert_str_eq(csv("spatie "), "\"spatie \"");
    ck_assert_str_eq(csv("a;b"), "a;b");
    /* what a spreadsheet would run as a formula stays text */
    ck_assert_str_eq(csv("=HYPERLINK(\"http://x\",\"y\")"), "\"'=HYPERLINK(\"\"http://x\"\",\"\"y\"\")\"");
    ck_assert_str_eq(csv("=cmd|' /C calc'!A0"), "\"'=cmd|' /C calc'!A0\"");
    ck_assert_str_eq(csv("@SUM(1)"), "\"'@SUM(1)\"");
    ck_assert_str_eq(csv("+plus"), "\"'+plus\"");
    ck_assert_str_eq(csv("-minus"), "\"'-minus\"");
    ck_assert_str_eq(csv("\tx"), "\"'\tx\"");
    ck_assert_str_eq(csv("a=b"), "a=b");
}
END_TEST

START_TEST(html_is_escaped)
{
    StrBuf b = STRBUF_INIT;
    html_escape(&b, "<a href=\"x\">Tom & Jerry's</a>");
    ck_assert_str_eq(text_of(&b), "&lt;a href=&quot;x&quot;&gt;Tom &amp; Jerry&#39;s&lt;/a&gt;");
    html_escape(&b, "zoë");
    ck_assert_str_eq(text_of(&b), "zoë");
}
END_TEST

START_TEST(column_catalogue)
{
    ck_assert_int_eq(ctlfmt_column("service_level")->kind, COL_RATE);
    ck_assert_int_eq(ctlfmt_column("acw_avg_s")->kind, COL_SECONDS);
    ck_assert_int_eq(ctlfmt_column("offered")->kind, COL_COUNT);
    ck_assert_int_eq(ctlfmt_column("queue")->kind, COL_TEXT);
    ck_assert_str_eq(ctlfmt_label("acw_avg_s", LANG_NL), "nawerktijd (gem.)");
    ck_assert_str_eq(ctlfmt_label("handled_independently_rate", LANG_NL), "zelfstandig afgehandeld");
    ck_assert_str_eq(ctlfmt_label("transfer_rate", LANG_NL), "doorverbonden");
    ck_assert_str_eq(ctlfmt_label("abandoned", LANG_NL), "opgehangen in wachtrij");
    ck_assert_str_eq(ctlfmt_label("queue", LANG_EN), "queue");
    /* a column a newer kicd adds: its name, its kind from a value */
    ck_assert_ptr_null(ctlfmt_column("something_new"));
    ck_assert_str_eq(ctlfmt_label("something_new", LANG_NL), "something_new");
    json_t *i = json_integer(3), *r = json_real(0.5), *s = json_string("x");
    ck_assert_int_eq(ctlfmt_kind("something_new", i), COL_COUNT);
    ck_assert_int_eq(ctlfmt_kind("something_new", r), COL_DECIMAL);
    ck_assert_int_eq(ctlfmt_kind("something_new", s), COL_TEXT);
    ck_assert_int_eq(ctlfmt_kind("something_new", NULL), COL_TEXT);
    json_decref(i);
    json_decref(r);
    json_decref(s);
    ck_assert_uint_eq(fmt_width("wachtrij"), 8);
    ck_assert_uint_eq(fmt_width("zoë"), 3);
}
END_TEST

static char *render(TextTable *t, size_t width, bool color, size_t rule)
{
    StrBuf b = STRBUF_INIT;
    ttable_render(t, &b, width, color, rule);
    return strbuf_steal(&b);
}

START_TEST(text_tables_align_and_fit)
{
    TextTable t;
    ck_assert(ttable_init(&t, 3));
    t.right[1] = t.right[2] = true;
    ttable_add_row(&t);
    ttable_set(&t, 0, "queue", MARK_NONE);
    ttable_set(&t, 1, "offered", MARK_NONE);
    ttable_set(&t, 2, "SL", MARK_NONE);
    ttable_add_row(&t);
    ttable_set(&t, 0, "zoë", MARK_NONE);
    ttable_set(&t, 1, "7", MARK_NONE);
    ttable_set(&t, 2, "50%!", MARK_BAD);
    ttable_add_row(&t);
    ttable_set(&t, 0, "thuiszorg", MARK_NONE);
    ttable_set(&t, 1, "412", MARK_NONE);
    ttable_set(&t, 2, "81%", MARK_GOOD);
    char *s = render(&t, 0, false, 2);
    ck_assert_str_eq(s, "queue      offered    SL\n"
                        "zoë              7  50%!\n"
                        "------------------------\n"
                        "thuiszorg      412   81%\n");
    free(s);
    /* columns that do not fit are left off; the first always shows */
    s = render(&t, 20, false, 99);
    ck_assert_str_eq(s, "queue      offered\nzoë              7\nthuiszorg      412\n");
    free(s);
    s = render(&t, 3, false, 99);
    ck_assert_str_eq(s, "queue\nzoë\nthuiszorg\n");
    free(s);
    s = render(&t, 0, true, 99);
    ck_assert_ptr_nonnull(strstr(s, "\x1b[31m50%!\x1b[0m"));
    ck_assert_ptr_nonnull(strstr(s, "\x1b[32m81%\x1b[0m"));
    free(s);
    /* many rows grow the table */
    for (int i = 0; i < 100; i++) {
        ttable_add_row(&t);
        ttable_set(&t, 1, "1", MARK_NONE);
    }
    ck_assert_uint_eq(t.nrows, 103);
    ck_assert(!t.failed);
    ttable_free(&t);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("ctl_format");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, durations_as_minutes_and_hours);
    tcase_add_test(tc, percentages_and_decimals);
    tcase_add_test(tc, json_numbers_read_back_the_same);
    tcase_add_test(tc, cells_by_kind);
    tcase_add_test(tc, csv_fields_quoted_when_needed);
    tcase_add_test(tc, html_is_escaped);
    tcase_add_test(tc, column_catalogue);
    tcase_add_test(tc, text_tables_align_and_fit);
    suite_add_tcase(s, tc);
    return unit_run(s);
}
