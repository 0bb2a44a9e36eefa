/* kicctl's SVG charts (tools/kicctl/svgchart.c): round axis steps,
 * scaling into the plot, what counts for the axis, and the markup
 * (bars, broken lines, the target line, escaping, no links out). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "svgchart.h"
#include "unit.h"

static size_t count(const char *hay, const char *needle)
{
    size_t n = 0;
    for (const char *p = strstr(hay, needle); p; p = strstr(p + 1, needle))
        n++;
    return n;
}

START_TEST(nice_numbers)
{
    ck_assert_double_eq(svg_nice(0), 1);
    ck_assert_double_eq(svg_nice(-3), 1);
    ck_assert_double_eq_tol(svg_nice(0.3), 0.5, 1e-12);
    ck_assert_double_eq(svg_nice(1), 1);
    ck_assert_double_eq(svg_nice(1.2), 2);
    ck_assert_double_eq(svg_nice(3), 5);
    ck_assert_double_eq(svg_nice(7), 10);
    ck_assert_double_eq(svg_nice(82.4), 100);
    ck_assert_double_eq(svg_nice(200), 200);
    ck_assert_double_eq(svg_nice(250), 500);
}
END_TEST

START_TEST(axes_have_round_steps)
{
    double step;
    ck_assert_double_eq(svg_axis_top(412, AXIS_COUNT, &step), 500);
    ck_assert_double_eq(step, 100);
    ck_assert_double_eq(svg_axis_top(7, AXIS_COUNT, &step), 8);
    ck_assert_double_eq(step, 2);
    ck_assert_double_eq(svg_axis_top(3, AXIS_COUNT, &step), 3);
    ck_assert_double_eq(step, 1); /* counts never step by fractions */
    ck_assert_double_eq(svg_axis_top(0, AXIS_COUNT, &step), 1);
    ck_assert_double_eq(svg_axis_top(100, AXIS_COUNT, &step), 100);
    ck_assert_double_eq(step, 20);
    /* rates: always to 100 % in quarters */
    ck_assert_double_eq(svg_axis_top(0.42, AXIS_RATE, &step), 1);
    ck_assert_double_eq(step, 0.25);
    /* seconds: round seconds up to two minutes, whole minutes above */
    ck_assert_double_eq(svg_axis_top(100, AXIS_SECONDS, &step), 100);
    ck_assert_double_eq(step, 20);
    ck_assert_double_eq(svg_axis_top(400, AXIS_SECONDS, &step), 480);
    ck_assert_double_eq(step, 120);
    ck_assert_double_eq(svg_axis_top(61, AXIS_SECONDS, &step), 80);
    ck_assert_double_eq(step, 20);
}
END_TEST

START_TEST(values_scale_into_the_plot)
{
    ck_assert_double_eq(svg_scale_y(0, 10, 30, 230), 230);
    ck_assert_double_eq(svg_scale_y(10, 10, 30, 230), 30);
    ck_assert_double_eq(svg_scale_y(5, 10, 30, 230), 130);
    ck_assert_double_eq(svg_scale_y(-1, 10, 30, 230), 230);
    ck_assert_double_eq(svg_scale_y(99, 10, 30, 230), 30);
    ck_assert_double_eq(svg_scale_y(3, 0, 30, 230), 230);
}
END_TEST

static const char *const labels4[] = {"09:00", "10:00", "11:00", "12:00"};

START_TEST(what_counts_for_the_axis)
{
    double a[] = {1, 2, NAN, 4}, b[] = {3, 3, 3, NAN};
    SvgSeries s[] = {{"a", a, "#000", false}, {"b", b, "#111", false}};
    SvgChart c = {"t", 4, labels4, s, 2, false, AXIS_COUNT, NAN, NULL, '.'};
    ck_assert_double_eq(svg_data_max(&c), 4);
    c.stacked = true;
    ck_assert_double_eq(svg_data_max(&c), 5); /* 2 + 3 */
    c.target = 9;
    ck_assert_double_eq(svg_data_max(&c), 9);
}
END_TEST

static char *render(const SvgChart *c)
{
    StrBuf b = STRBUF_INIT;
    svg_render(&b, c);
    return strbuf_steal(&b);
}

START_TEST(bars_lines_and_target)
{
    double offered[] = {5, 0, 3, 2}, answered[] = {4, 0, 3, 1};
    SvgSeries bars[] = {{"aangeboden", offered, "#8da9c4", false},
                        {"beantwoord", answered, "#2e7d32", false}};
    SvgChart c = {"Aangeboden & beantwoord", 4, labels4, bars, 2, false, AXIS_COUNT, NAN, NULL, ','};
    char *svg = render(&c);
    ck_assert_ptr_eq(strstr(svg, "<svg"), svg);
    ck_assert_ptr_nonnull(strstr(svg, "</svg>\n"));
    ck_assert_ptr_null(strstr(svg, "http"));
    ck_assert_ptr_null(strstr(svg, "<script"));
    ck_assert_ptr_nonnull(strstr(svg, "Aangeboden &amp; beantwoord"));
    /* a bar per value above zero, plus two legend swatches */
    ck_assert_uint_eq(count(svg, "<rect"), 6 + 2);
    ck_assert_ptr_nonnull(strstr(svg, "<title>09:00: aangeboden 5</title>"));
    ck_assert_uint_eq(count(svg, "class=\"target\""), 0);
    free(svg);

    /* a line broken by a gap, a lone value as a dot, and the target */
    double sl[] = {0.9, 0.7, NAN, 0.85};
    SvgSeries line[] = {{"servicelevel", sl, "#1565c0", true}};
    SvgChart l = {"SL", 4, labels4, line, 1, false, AXIS_RATE, 0.8, "norm 80%", ','};
    svg = render(&l);
    ck_assert_uint_eq(count(svg, "<polyline"), 1);
    ck_assert_ptr_nonnull(strstr(svg, "<circle cx=\"624.0\"")); /* the lone 12:00 value */
    ck_assert_uint_eq(count(svg, "class=\"target\""), 2); /* the line and its legend */
    ck_assert_ptr_nonnull(strstr(svg, ">100,0%<"));
    ck_assert_ptr_nonnull(strstr(svg, ">norm 80%<"));
    /* 80 % of the plot's height above its bottom (216 - 0.8 * 182) */
    ck_assert_ptr_nonnull(strstr(svg, "y1=\"70.4\""));
    free(svg);
}
END_TEST

START_TEST(stacked_bars_and_many_labels)
{
    enum { N = 96 };
    double a[N], b[N];
    const char *labels[N];
    char text[N][8];
    for (int i = 0; i < N; i++) {
        a[i] = i % 3;
        b[i] = 1;
        snprintf(text[i], sizeof(text[i]), "%02d:%02d", i / 4, i % 4 * 15);
        labels[i] = text[i];
    }
    SvgSeries s[] = {{"zelfstandig", a, "#2e7d32", false}, {"door", b, "#ef6c00", false}};
    SvgChart c = {"stack", N, labels, s, 2, true, AXIS_COUNT, NAN, NULL, '.'};
    char *svg = render(&c);
    /* 64 non-zero values of a, 96 of b, two legend swatches */
    ck_assert_uint_eq(count(svg, "<rect"), 64 + 96 + 2);
    /* labels thinned so they do not overlap: 640 units / 72 a label */
    size_t shown = count(svg, "text-anchor=\"middle\"");
    ck_assert_uint_le(shown, 9);
    ck_assert_uint_ge(shown, 6);
    free(svg);
    /* nothing at all still makes a chart */
    SvgChart empty = {"leeg", 0, NULL, NULL, 0, false, AXIS_SECONDS, NAN, NULL, '.'};
    svg = render(&empty);
    ck_assert_ptr_nonnull(strstr(svg, "</svg>"));
    free(svg);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("ctl_svg");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, nice_numbers);
    tcase_add_test(tc, axes_have_round_steps);
    tcase_add_test(tc, values_scale_into_the_plot);
    tcase_add_test(tc, what_counts_for_the_axis);
    tcase_add_test(tc, bars_lines_and_target);
    tcase_add_test(tc, stacked_bars_and_many_labels);
    suite_add_tcase(s, tc);
    return unit_run(s);
}
