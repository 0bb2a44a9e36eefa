/* Inline SVG charts (see svgchart.h). Coordinates are printed with one
 * decimal in the C locale, which kicctl never changes. */
#include "svgchart.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ctlfmt.h"

#define MARGIN_LEFT 64.0
#define MARGIN_RIGHT 16.0
#define MARGIN_TOP 34.0
#define MARGIN_BOTTOM 44.0
#define LABEL_SPACING 72.0 /* the least room an x label gets */
#define MAX_BAR_WIDTH 48.0

double svg_nice(double v)
{
    if (!(v > 0))
        return 1;
    double p = pow(10, floor(log10(v)));
    static const double steps[] = {1, 2, 5, 10};
    for (size_t i = 0; i < KIC_ARRAY_LEN(steps); i++)
        if (steps[i] * p >= v * (1 - 1e-12))
            return steps[i] * p;
    return 10 * p;
}

double svg_axis_top(double max, AxisKind kind, double *step)
{
    if (kind == AXIS_RATE && max <= 1) {
        *step = 0.25;
        return 1;
    }
    if (!(max > 0))
        max = 1;
    if (kind == AXIS_SECONDS && max > 120)
        *step = svg_nice(max / 60 / 5) * 60;
    else if (kind == AXIS_COUNT)
        *step = fmax(1, svg_nice(max / 5));
    else
        *step = svg_nice(max / 5);
    return ceil(max / *step - 1e-9) * *step;
}

double svg_scale_y(double v, double top, double plot_top, double plot_bottom)
{
    double f = top > 0 ? v / top : 0;
    if (f < 0)
        f = 0;
    if (f > 1)
        f = 1;
    return plot_bottom - f * (plot_bottom - plot_top);
}

double svg_data_max(const SvgChart *c)
{
    double max = isnan(c->target) ? 0 : c->target;
    for (size_t i = 0; i < c->n; i++) {
        double stack = 0;
        for (size_t k = 0; k < c->nseries; k++) {
            double v = c->series[k].values[i];
            if (isnan(v))
                continue;
            if (c->stacked && !c->series[k].line)
                stack += v;
            else if (v > max)
                max = v;
        }
        if (stack > max)
            max = stack;
    }
    return max;
}

/* An axis or tooltip value as text. */
static void value_text(StrBuf *out, double v, AxisKind kind, char point)
{
    FmtStyle st = {point, 1, "-"};
    switch (kind) {
    case AXIS_RATE: fmt_percent(out, v, &st); break;
    case AXIS_SECONDS: fmt_seconds(out, v); break;
    case AXIS_COUNT: fmt_decimal(out, v, fabs(v - round(v)) < 1e-9 ? 0 : 1, point); break;
    }
}

typedef struct Plot {
    double left, right, top, bottom, slot;
    double ytop;
} Plot;

static void render_legend(StrBuf *out, const SvgChart *c)
{
    double x = MARGIN_LEFT;
    for (size_t k = 0; k < c->nseries; k++) {
        const SvgSeries *s = &c->series[k];
        if (s->line)
            strbuf_printf(out, "<line x1=\"%.1f\" y1=\"14\" x2=\"%.1f\" y2=\"14\" stroke=\"%s\" "
                               "stroke-width=\"3\"/>", x, x + 14, s->color);
        else
            strbuf_printf(out, "<rect x=\"%.1f\" y=\"8\" width=\"12\" height=\"12\" fill=\"%s\"/>",
                          x, s->color);
        strbuf_printf(out, "<text x=\"%.1f\" y=\"18\">", x + 18);
        html_escape(out, s->label);
        strbuf_puts(out, "</text>");
        x += 18 + 6.5 * (double)fmt_width(s->label) + 22;
    }
    if (!isnan(c->target) && c->target_label) {
        strbuf_printf(out, "<line x1=\"%.1f\" y1=\"14\" x2=\"%.1f\" y2=\"14\" class=\"target\"/>",
                      x, x + 14);
        strbuf_printf(out, "<text x=\"%.1f\" y=\"18\">", x + 18);
        html_escape(out, c->target_label);
        strbuf_puts(out, "</text>");
    }
}

static void render_axes(StrBuf *out, const SvgChart *c, const Plot *p, double step)
{
    for (double v = 0; v <= p->ytop + step / 2; v += step) {
        double y = svg_scale_y(v, p->ytop, p->top, p->bottom);
        strbuf_printf(out, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" class=\"grid\"/>",
                      p->left, y, p->right, y);
        strbuf_printf(out, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">", p->left - 6, y + 4);
        value_text(out, v, c->axis, c->point);
        strbuf_puts(out, "</text>");
    }
    strbuf_printf(out, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" class=\"axis\"/>",
                  p->left, p->bottom, p->right, p->bottom);
    /* x labels: every k-th, so that they do not overlap */
    size_t every = (size_t)ceil((double)c->n * LABEL_SPACING / (p->right - p->left));
    if (every < 1)
        every = 1;
    for (size_t i = 0; i < c->n; i += every) {
        double x = p->left + p->slot * ((double)i + 0.5);
        strbuf_printf(out, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">", x,
                      p->bottom + 16);
        html_escape(out, c->x_labels[i]);
        strbuf_puts(out, "</text>");
    }
}

static void tooltip(StrBuf *out, const SvgChart *c, size_t i, const SvgSeries *s, double v)
{
    strbuf_puts(out, "<title>");
    html_escape(out, c->x_labels[i]);
    strbuf_puts(out, ": ");
    html_escape(out, s->label);
    strbuf_puts(out, " ");
    value_text(out, v, c->axis, c->point);
    strbuf_puts(out, "</title>");
}

static void render_bars(StrBuf *out, const SvgChart *c, const Plot *p)
{
    size_t nbars = 0;
    for (size_t k = 0; k < c->nseries; k++)
        nbars += !c->series[k].line;
    if (!nbars)
        return;
    /* a few wide slots get bars of a sensible width, centred */
    double group = fmin(p->slot * 0.8, MAX_BAR_WIDTH * (c->stacked ? 1.0 : (double)nbars));
    double width = c->stacked ? group : group / (double)nbars;
    for (size_t i = 0; i < c->n; i++) {
        double x = p->left + p->slot * (double)i + (p->slot - group) / 2;
        double base = 0;
        for (size_t k = 0; k < c->nseries; k++) {
            const SvgSeries *s = &c->series[k];
            double v = s->values[i];
            if (s->line)
                continue;
            if (!isnan(v) && v > 0) {
                double y0 = svg_scale_y(base, p->ytop, p->top, p->bottom);
                double y1 = svg_scale_y(base + v, p->ytop, p->top, p->bottom);
                strbuf_printf(out, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" "
                                   "fill=\"%s\">", x, y1, width, y0 - y1, s->color);
                tooltip(out, c, i, s, v);
                strbuf_puts(out, "</rect>");
            }
            if (c->stacked)
                base += isnan(v) ? 0 : v;
            else
                x += width;
        }
    }
}

/* A line through the values; a gap (NAN) breaks it, a lone value is a dot. */
static void render_line(StrBuf *out, const SvgChart *c, const Plot *p, const SvgSeries *s)
{
    size_t i = 0;
    while (i < c->n) {
        while (i < c->n && isnan(s->values[i]))
            i++;
        size_t start = i;
        while (i < c->n && !isnan(s->values[i]))
            i++;
        if (i - start == 1) {
            double v = s->values[start];
            strbuf_printf(out, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3\" fill=\"%s\">",
                          p->left + p->slot * ((double)start + 0.5),
                          svg_scale_y(v, p->ytop, p->top, p->bottom), s->color);
            tooltip(out, c, start, s, v);
            strbuf_puts(out, "</circle>");
        } else if (i > start) {
            strbuf_printf(out, "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"2\" points=\"",
                          s->color);
            for (size_t j = start; j < i; j++)
                strbuf_printf(out, "%s%.1f,%.1f", j > start ? " " : "",
                              p->left + p->slot * ((double)j + 0.5),
                              svg_scale_y(s->values[j], p->ytop, p->top, p->bottom));
            strbuf_puts(out, "\"/>");
            /* tooltips on invisible dots, one per value */
            for (size_t j = start; j < i && c->n <= 400; j++) {
                strbuf_printf(out, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"4\" fill=\"transparent\">",
                              p->left + p->slot * ((double)j + 0.5),
                              svg_scale_y(s->values[j], p->ytop, p->top, p->bottom));
                tooltip(out, c, j, s, s->values[j]);
                strbuf_puts(out, "</circle>");
            }
        }
    }
}

void svg_render(StrBuf *out, const SvgChart *c)
{
    double step;
    Plot p = {MARGIN_LEFT, SVG_WIDTH - MARGIN_RIGHT, MARGIN_TOP, SVG_HEIGHT - MARGIN_BOTTOM, 0, 0};
    p.ytop = svg_axis_top(svg_data_max(c), c->axis, &step);
    p.slot = (p.right - p.left) / (double)(c->n ? c->n : 1);
    strbuf_printf(out, "<svg class=\"chart\" viewBox=\"0 0 %d %d\" role=\"img\" aria-label=\"",
                  SVG_WIDTH, SVG_HEIGHT);
    html_escape(out, c->title);
    strbuf_puts(out, "\"><title>");
    html_escape(out, c->title);
    strbuf_puts(out, "</title>");
    render_legend(out, c);
    render_axes(out, c, &p, step);
    render_bars(out, c, &p);
    for (size_t k = 0; k < c->nseries; k++)
        if (c->series[k].line)
            render_line(out, c, &p, &c->series[k]);
    if (!isnan(c->target)) {
        double y = svg_scale_y(c->target, p.ytop, p.top, p.bottom);
        strbuf_printf(out, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" class=\"target\"/>",
                      p.left, y, p.right, y);
    }
    strbuf_puts(out, "</svg>\n");
}
