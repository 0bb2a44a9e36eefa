/* Reading a report.query result's columns, for the formats of
 * reportfmt.c and the page of reportpage.c. Every pointer returned is
 * borrowed from the result. */
#ifndef REPORTCOLS_H
#define REPORTCOLS_H

#include <jansson.h>

#include "ctlfmt.h"

json_t *report_columns(json_t *result);
json_t *report_rows(json_t *result);
const char *report_column_name(json_t *result, size_t i);
/* -1 when the result has no such column. */
int report_column_index(json_t *result, const char *name);
/* The kinds of the chosen columns, looked up once (new array; NULL when
 * out of memory). */
ColumnKind *report_column_kinds(json_t *result, const size_t *idx, size_t n);

#endif
