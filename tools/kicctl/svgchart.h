/* Inline SVG charts for the HTML report: bars (side by side or stacked)
 * and lines over one x axis, a y axis with round steps, an optional
 * dashed target line, a legend, and a tooltip (<title>) per value. Pure:
 * data in, markup out; no scripts, no external references, and no xmlns
 * attribute (inline <svg> in HTML needs none). */
#ifndef SVGCHART_H
#define SVGCHART_H

#include "kic.h"
#include "strbuf.h"

typedef enum {
    AXIS_COUNT,   /* whole numbers */
    AXIS_RATE,    /* fractions 0..1, labelled as percentages */
    AXIS_SECONDS, /* durations, labelled m:ss */
} AxisKind;

typedef struct SvgSeries {
    const char *label;
    const double *values; /* one per x position; NAN: no value there */
    const char *color;    /* a CSS colour */
    bool line;            /* a line through the values instead of bars */
} SvgSeries;

typedef struct SvgChart {
    const char *title;           /* for screen readers (<title>) */
    size_t n;                    /* positions on the x axis */
    const char *const *x_labels; /* n labels */
    const SvgSeries *series;
    size_t nseries;
    bool stacked;         /* bar series on top of each other */
    AxisKind axis;
    double target;        /* NAN: none; else a dashed line at this value */
    const char *target_label;
    char point;           /* decimal point in labels */
} SvgChart;

/* The chart's size in SVG user units (it scales to the page's width). */
#define SVG_WIDTH 720
#define SVG_HEIGHT 260

/* The smallest of 1, 2, 5 times a power of ten that is >= v (v > 0);
 * 1 for v <= 0. */
double svg_nice(double v);

/* The y axis for values up to max: a round step and the top (a multiple
 * of the step, >= max, about five steps). Rates always go to 100 %;
 * seconds above two minutes step in whole minutes. */
double svg_axis_top(double max, AxisKind kind, double *step);

/* The y pixel of v on an axis from 0 (at plot_bottom) to top (at
 * plot_top); values outside are clamped to the plot. */
double svg_scale_y(double v, double top, double plot_top, double plot_bottom);

/* The largest value to fit: the tallest stack when stacked, else the
 * largest single value; the target counts too. */
double svg_data_max(const SvgChart *c);

/* Appends the chart as one <svg> element. */
void svg_render(StrBuf *out, const SvgChart *c);

#endif
