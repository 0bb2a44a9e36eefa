/* One-dimensional PostgreSQL arrays in the binary wire format, built a
 * value at a time, for batch statements of the form
 *   INSERT ... SELECT * FROM unnest($1::bigint[], $2::text[], ...)
 * PostgreSQL reads them without parsing text or JSON, which is most of
 * what a batch insert costs otherwise. A PgTable is a row-wise builder
 * over one array per column. */
#ifndef PGARRAY_H
#define PGARRAY_H

#include "kictime.h"
#include "strbuf.h"

typedef enum { PGA_INT8, PGA_TEXT, PGA_JSON, PGA_TIMESTAMPTZ, PGA_FLOAT8, PGA_BOOL } PgArrayType;

typedef struct PgArray {
    PgArrayType type;
    StrBuf body;
    int32_t n;
    bool has_null;
    StrBuf out; /* header + body, made by pgarray_finish */
} PgArray;

#define PGTABLE_MAX_COLS 40

typedef struct PgTable {
    int ncols;
    PgArray cols[PGTABLE_MAX_COLS];
    int col;     /* next column to append to in the current row */
    size_t rows;
} PgTable;

/* types: one per column. */
void pgtable_init(PgTable *t, int ncols, const PgArrayType *types);
void pgtable_free(PgTable *t);
/* Empties the table for reuse, keeping its buffers; their capacity in
 * bytes is returned (to decide whether keeping them is worth it). */
size_t pgtable_clear(PgTable *t);

/* Values of one row, left to right; each call fills the next column. */
void pgtable_row(PgTable *t); /* starts a row */
void pgt_int8(PgTable *t, int64_t v);
void pgt_text(PgTable *t, const char *s);          /* NULL: SQL NULL */
void pgt_json(PgTable *t, const char *json);       /* JSON text, kept as is */
void pgt_time(PgTable *t, KicTime v);              /* KIC_TIME_NONE: NULL */
void pgt_float8(PgTable *t, bool valid, double v); /* !valid: NULL */
void pgt_seconds(PgTable *t, bool valid, int64_t us);
void pgt_bool(PgTable *t, bool v);
void pgt_bool_or_null(PgTable *t, bool valid, bool v);

/* Finishes the arrays; values[i], lengths[i] then describe column i as a
 * binary parameter (valid until pgtable_free). */
void pgtable_finish(PgTable *t, const char **values, int *lengths);

#endif
