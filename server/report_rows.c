/* A report's rows (report_rows.h). */
#include <stdlib.h>
#include <string.h>

#include "report_rows.h"

#define FIRST_SLOTS 64 /* one interval's rows are usually few */

void row_table_init(RowTable *t, StrMap *values, int ndims)
{
    memset(t, 0, sizeof(*t));
    t->values = values;
    t->ndims = ndims;
    t->gen = 1; /* calloc'd slots are generation 0: empty */
}

static const char *intern(StrMap *values, const char *v)
{
    if (!v)
        return NULL;
    char *s = strmap_get(values, v);
    if (s)
        return s;
    s = strdup(v);
    if (!s)
        abort();
    strmap_put(values, s, s);
    return s;
}

/* splitmix64's finaliser over the bucket and the interned pointers: the
 * table is indexed by the low bits, and buckets (multiples of 900) and
 * pointers (16-byte aligned) differ mostly in their high ones. */
static uint64_t row_hash(int64_t bucket, const char *const *dims, int nd)
{
    uint64_t h = (uint64_t)bucket;
    for (int k = 0; k < nd; k++)
        h = (h ^ (uint64_t)(uintptr_t)dims[k]) * 0x9E3779B97F4A7C15ULL;
    h ^= h >> 30;
    h *= 0xBF58476D1CE4E5B9ULL;
    h ^= h >> 27;
    h *= 0x94D049BB133111EBULL;
    return h ^ (h >> 31);
}

static bool slot_used(const RowTable *t, size_t at)
{
    return (uint32_t)(t->slots[at] >> 32) == t->gen;
}

static size_t slot_row(const RowTable *t, size_t at)
{
    return (size_t)(uint32_t)t->slots[at] - 1;
}

static void slot_set(RowTable *t, size_t at, size_t row)
{
    t->slots[at] = (uint64_t)t->gen << 32 | (uint64_t)(row + 1);
}

/* A table twice as large with this generation's rows in it. */
static void grow_slots(RowTable *t)
{
    free(t->slots);
    t->nslots = t->nslots ? t->nslots * 2 : FIRST_SLOTS;
    t->slots = calloc(t->nslots, sizeof(uint64_t));
    if (!t->slots)
        abort();
    t->gen = 1;
    for (size_t i = 0; i < t->n; i++) {
        size_t at = row_hash(t->rows[i].bucket, t->rows[i].dims, t->ndims) & (t->nslots - 1);
        while (slot_used(t, at))
            at = (at + 1) & (t->nslots - 1);
        slot_set(t, at, i);
    }
}

static Row *append(RowTable *t, const char *const *dims, int64_t bucket)
{
    if (t->n == t->cap) {
        t->cap = t->cap ? t->cap * 2 : 64;
        t->rows = realloc(t->rows, t->cap * sizeof(Row));
        if (!t->rows)
            abort();
    }
    Row *row = &t->rows[t->n++];
    memset(row, 0, sizeof(*row));
    row->bucket = bucket;
    memcpy(row->dims, dims, (size_t)t->ndims * sizeof(char *));
    return row;
}

Row *row_table_get(RowTable *t, const char *const *values, int64_t bucket)
{
    const char *dims[ROW_MAX_DIMS];
    size_t dims_size = (size_t)t->ndims * sizeof(char *);
    for (int k = 0; k < t->ndims; k++)
        dims[k] = intern(t->values, values[k]);
    if ((t->n + 1) * 2 > t->nslots)
        grow_slots(t);
    size_t at = row_hash(bucket, dims, t->ndims) & (t->nslots - 1);
    while (slot_used(t, at)) {
        Row *r = &t->rows[slot_row(t, at)];
        if (r->bucket == bucket && memcmp(r->dims, dims, dims_size) == 0)
            return r;
        at = (at + 1) & (t->nslots - 1);
    }
    slot_set(t, at, t->n);
    return append(t, dims, bucket);
}

void row_table_clear(RowTable *t)
{
    t->n = 0;
    if (++t->gen == 0) { /* after 2^32 clears: start the slots afresh */
        memset(t->slots, 0, t->nslots * sizeof(uint64_t));
        t->gen = 1;
    }
}

int row_cmp(const Row *x, const Row *y, int ndims)
{
    if (x->bucket != y->bucket)
        return x->bucket < y->bucket ? -1 : 1;
    for (int k = 0; k < ndims; k++) {
        if (x->dims[k] == y->dims[k])
            continue;
        if (!x->dims[k] || !y->dims[k])
            return x->dims[k] ? 1 : -1;
        int c = strcmp(x->dims[k], y->dims[k]);
        if (c)
            return c;
    }
    return 0;
}

static int cmp_row_ptrs(const void *a, const void *b, void *arg)
{
    return row_cmp(*(const Row *const *)a, *(const Row *const *)b, *(const int *)arg);
}

/* Pointers are sorted: a row is a few hundred bytes. */
Row **row_table_sorted(RowTable *t)
{
    if (t->order_cap < t->n || !t->order) {
        t->order_cap = t->cap ? t->cap : 1;
        free(t->order);
        t->order = malloc(t->order_cap * sizeof(Row *));
        if (!t->order)
            abort();
    }
    for (size_t i = 0; i < t->n; i++)
        t->order[i] = &t->rows[i];
    if (t->n > 1)
        qsort_r(t->order, t->n, sizeof(Row *), cmp_row_ptrs, &t->ndims);
    return t->order;
}

void row_table_free(RowTable *t)
{
    free(t->rows);
    free(t->slots);
    free(t->order);
    memset(t, 0, sizeof(*t));
}

void row_take_side(Row *into, const Row *side)
{
    into->has_callbacks = side->has_callbacks;
    memcpy(into->cb, side->cb, sizeof(into->cb));
    into->cb_mean_s = side->cb_mean_s;
    into->has_presence = side->has_presence;
    into->busy_s = side->busy_s;
    into->logged_s = side->logged_s;
}

void row_values_free(StrMap *values)
{
    size_t pos = 0;
    void *v;
    while (strmap_next(values, &pos, NULL, &v))
        free(v);
    strmap_free(values);
}
