/* A report.query result as people and programs want it: an aligned
 * table of chosen columns, CSV (RFC 4180), JSON (as kicd sent it, pretty)
 * and one self-contained HTML page with SVG charts. Pure: the result in,
 * text out (the HTML's calendar follows TZ, see buckets.h). */
#ifndef REPORTFMT_H
#define REPORTFMT_H

#include <jansson.h>

#include "ctlfmt.h"
#include "kictime.h"
#include "strbuf.h"

/* Checks the shape kicctl relies on: columns (strings) and rows (arrays
 * of as many cells). */
bool report_check(json_t *result, char *err, size_t errsize) KIC_MUST_CHECK;

/* How many leading columns are group keys (queue, location, ...). */
size_t report_ndims(json_t *result);

/* The columns to show, as indexes into result.columns (*idx is new,
 * caller frees). spec NULL: the group keys, interval_start and the main
 * metrics that are there; "all": every column; "a,b": the group keys and
 * interval_start, then a, b in that order. False with a message naming
 * a column the result does not have. */
bool report_pick_columns(json_t *result, const char *spec, size_t **idx, size_t *n, char *err,
                         size_t errsize) KIC_MUST_CHECK;

/* Aligned columns named as in the result; counts as they are, rates as
 * percentages (1 decimal), durations as m:ss, null as "-". */
void report_render_table(StrBuf *out, json_t *result, const size_t *idx, size_t n);

/* Every column: a header row of the names, then the rows; numbers as
 * JSON writes them, null as an empty field, CRLF line ends. */
void report_render_csv(StrBuf *out, json_t *result);

/* Any JSON value, indented by two spaces, object keys in their order,
 * reals in the fewest digits that read back the same. */
void report_render_pretty(StrBuf *out, json_t *v);

typedef struct ReportPage {
    json_t *result;          /* borrowed */
    KicTime from, to;        /* the range asked for */
    Lang lang;
    const size_t *columns;   /* the main table's columns (report_pick_columns) */
    size_t ncolumns;
    const char *generated;   /* when, as text */
} ReportPage;

/* One HTML document: inline CSS, SVG charts (offered and answered, service
 * level against its target, ACW, handled independently against
 * transferred, agents needed against present when the report has them),
 * the table, and every column in a <details>. No scripts, no links out. */
void report_render_html(StrBuf *out, const ReportPage *page);

#endif
