/* A report's rows: sums per interval and group values, looked up while
 * PostgreSQL sends them and sorted for the answer. Group values are
 * interned per report (equal values are equal pointers), so a row's key
 * is compared and hashed without touching its strings.
 *
 * The sums arrive by interval, so report.c keeps one interval's rows at
 * a time (row_table_clear between intervals: memory is one interval's,
 * not a year's) and a second table for the callbacks and presence that
 * came before them. */
#ifndef REPORT_ROWS_H
#define REPORT_ROWS_H

#include "metrics.h"
#include "strmap.h"

#define NO_BUCKET INT64_MIN /* interval "all" */
#define ROW_MAX_DIMS 8

typedef struct Row {
    int64_t bucket;                  /* the bucket's epoch, NO_BUCKET for "all" */
    const char *dims[ROW_MAX_DIMS];  /* interned group values, NULL for SQL NULL */
    MetricSums sums;
    int64_t fcr_closed, fcr_ok;
    bool has_callbacks;
    int64_t cb[7];
    double cb_mean_s;
    bool has_presence;
    double busy_s, logged_s;
} Row;

typedef struct RowTable {
    Row *rows;
    size_t n, cap;
    /* open addressing: generation << 32 | (index + 1); a slot of another
     * generation is empty, so clearing is one increment */
    uint64_t *slots;
    size_t nslots;
    uint32_t gen;
    Row **order; /* row_table_sorted */
    size_t order_cap;
    StrMap *values; /* the interned group values, shared between tables */
    int ndims;
} RowTable;

/* values: where group values are interned (row_values_free frees them). */
void row_table_init(RowTable *t, StrMap *values, int ndims);
/* The row for these group values (NULL: SQL NULL) and bucket, made
 * (zeroed) when new. Valid until the next row_table_get or clear. */
Row *row_table_get(RowTable *t, const char *const *values, int64_t bucket);
/* Forgets every row, keeping the memory for the next interval. */
void row_table_clear(RowTable *t);
/* The rows by interval, then by group values (NULL first); valid until
 * the table changes. */
Row **row_table_sorted(RowTable *t);
void row_table_free(RowTable *t);

/* Answer order: by interval, then group values, NULL first (<0, 0, >0). */
int row_cmp(const Row *a, const Row *b, int ndims);
/* Takes the callbacks and presence of `side` (a row of the same key). */
void row_take_side(Row *into, const Row *side);

void row_values_free(StrMap *values);

#endif
