/* Binary array encoding (PostgreSQL's array_recv): ndim, has-null flag,
 * element type OID, then per dimension its size and lower bound, then
 * each element as a 4-byte length (-1 for NULL) and its bytes in the
 * element type's binary format. All integers big-endian. */
#include "pgarray.h"

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

/* Element type OIDs (pg_type). */
static const uint32_t type_oid[] = {
    [PGA_INT8] = 20, [PGA_TEXT] = 25, [PGA_JSON] = 114,
    [PGA_TIMESTAMPTZ] = 1184, [PGA_FLOAT8] = 701, [PGA_BOOL] = 16,
};

/* Microseconds between the Unix epoch and PostgreSQL's (2000-01-01). */
#define PG_EPOCH_OFFSET_US (946684800LL * KIC_USEC)

static void put32(StrBuf *b, uint32_t v)
{
    uint32_t be = htonl(v);
    strbuf_append(b, (const char *)&be, 4);
}

static void put64(StrBuf *b, uint64_t v)
{
    put32(b, (uint32_t)(v >> 32));
    put32(b, (uint32_t)v);
}

void pgtable_init(PgTable *t, int ncols, const PgArrayType *types)
{
    if (ncols > PGTABLE_MAX_COLS)
        abort(); /* a table wider than PGTABLE_MAX_COLS: raise it */
    memset(t, 0, sizeof(*t));
    t->ncols = ncols;
    for (int i = 0; i < ncols; i++)
        t->cols[i].type = types[i];
}

void pgtable_free(PgTable *t)
{
    for (int i = 0; i < t->ncols; i++) {
        strbuf_free(&t->cols[i].body);
        strbuf_free(&t->cols[i].out);
    }
    t->rows = 0;
}

size_t pgtable_clear(PgTable *t)
{
    size_t kept = 0;
    for (int i = 0; i < t->ncols; i++) {
        PgArray *a = &t->cols[i];
        strbuf_reset(&a->body);
        strbuf_reset(&a->out);
        a->n = 0;
        a->has_null = false;
        kept += a->body.cap + a->out.cap;
    }
    t->rows = 0;
    t->col = 0;
    return kept;
}

void pgtable_row(PgTable *t)
{
    t->col = 0;
    t->rows++;
}

static PgArray *next_col(PgTable *t)
{
    PgArray *a = &t->cols[t->col++];
    a->n++;
    return a;
}

static void put_null(PgArray *a)
{
    put32(&a->body, 0xFFFFFFFFu);
    a->has_null = true;
}

void pgt_int8(PgTable *t, int64_t v)
{
    PgArray *a = next_col(t);
    put32(&a->body, 8);
    put64(&a->body, (uint64_t)v);
}

void pgt_text(PgTable *t, const char *s)
{
    PgArray *a = next_col(t);
    if (!s) {
        put_null(a);
        return;
    }
    size_t n = strlen(s);
    put32(&a->body, (uint32_t)n);
    strbuf_append(&a->body, s, n);
}

/* json's binary format is its text (PostgreSQL checks the syntax). */
void pgt_json(PgTable *t, const char *json)
{
    PgArray *a = next_col(t);
    size_t n = strlen(json);
    put32(&a->body, (uint32_t)n);
    strbuf_append(&a->body, json, n);
}

void pgt_time(PgTable *t, KicTime v)
{
    PgArray *a = next_col(t);
    if (v == KIC_TIME_NONE) {
        put_null(a);
        return;
    }
    put32(&a->body, 8);
    put64(&a->body, (uint64_t)(v - PG_EPOCH_OFFSET_US));
}

void pgt_float8(PgTable *t, bool valid, double v)
{
    PgArray *a = next_col(t);
    if (!valid) {
        put_null(a);
        return;
    }
    uint64_t bits;
    memcpy(&bits, &v, 8);
    put32(&a->body, 8);
    put64(&a->body, bits);
}

void pgt_seconds(PgTable *t, bool valid, int64_t us)
{
    pgt_float8(t, valid, (double)us / 1e6);
}

void pgt_bool(PgTable *t, bool v)
{
    PgArray *a = next_col(t);
    put32(&a->body, 1);
    strbuf_putc(&a->body, v ? 1 : 0);
}

void pgt_bool_or_null(PgTable *t, bool valid, bool v)
{
    if (valid) {
        pgt_bool(t, v);
        return;
    }
    put_null(next_col(t));
}

void pgtable_finish(PgTable *t, const char **values, int *lengths)
{
    for (int i = 0; i < t->ncols; i++) {
        PgArray *a = &t->cols[i];
        strbuf_reset(&a->out);
        put32(&a->out, 1);                        /* dimensions */
        put32(&a->out, a->has_null ? 1 : 0);      /* has nulls */
        put32(&a->out, type_oid[a->type]);
        put32(&a->out, (uint32_t)a->n);           /* size of the dimension */
        put32(&a->out, 1);                        /* lower bound */
        strbuf_append(&a->out, a->body.data ? a->body.data : "", a->body.len);
        values[i] = a->out.data;
        lengths[i] = (int)a->out.len;
    }
}
