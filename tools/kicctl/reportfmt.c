/* A report.query result as a table, CSV or pretty JSON (see
 * reportfmt.h; the HTML page is reportpage.c), and the reading of its
 * columns both share (reportcols.h). */
#include "reportfmt.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "jsonw.h"
#include "reportcols.h"


json_t *report_columns(json_t *result)
{
    return json_object_get(result, "columns");
}

json_t *report_rows(json_t *result)
{
    return json_object_get(result, "rows");
}

const char *report_column_name(json_t *result, size_t i)
{
    return json_string_value(json_array_get(report_columns(result), i));
}

int report_column_index(json_t *result, const char *name)
{
    size_t i;
    json_t *c;
    json_array_foreach(report_columns(result), i, c)
    {
        if (strcmp(json_string_value(c), name) == 0)
            return (int)i;
    }
    return -1;
}

/* A sample value of column i (the first non-null), for unknown columns. */
static json_t *sample(json_t *result, size_t i)
{
    size_t r;
    json_t *row;
    json_array_foreach(report_rows(result), r, row)
    {
        json_t *v = json_array_get(row, i);
        if (v && !json_is_null(v))
            return v;
    }
    return NULL;
}

static ColumnKind kind_of(json_t *result, size_t i)
{
    const ColumnInfo *known = ctlfmt_column(report_column_name(result, i));
    return known ? known->kind : ctlfmt_kind(report_column_name(result, i), sample(result, i));
}

/* The kinds of the chosen columns, looked up once (new array). */
ColumnKind *report_column_kinds(json_t *result, const size_t *idx, size_t n)
{
    ColumnKind *kinds = malloc((n ? n : 1) * sizeof(*kinds));
    for (size_t c = 0; kinds && c < n; c++)
        kinds[c] = kind_of(result, idx[c]);
    return kinds;
}

bool report_check(json_t *result, char *err, size_t errsize)
{
    json_t *cols = report_columns(result), *rows = report_rows(result);
    if (!json_is_array(cols) || !json_is_array(rows)) {
        snprintf(err, errsize, "the result has no columns and rows");
        return false;
    }
    size_t i;
    json_t *v;
    json_array_foreach(cols, i, v)
    {
        if (!json_is_string(v)) {
            snprintf(err, errsize, "column %zu has no name", i);
            return false;
        }
    }
    json_array_foreach(rows, i, v)
    {
        if (!json_is_array(v) || json_array_size(v) != json_array_size(cols)) {
            snprintf(err, errsize, "row %zu does not have %zu cells", i, json_array_size(cols));
            return false;
        }
    }
    return true;
}

static bool is_dimension(const char *name)
{
    static const char *const dims[] = {"queue",       "location", "agent",     "category",
                                       "caller_type", "channel",  "direction", "team"};
    for (size_t i = 0; i < KIC_ARRAY_LEN(dims); i++)
        if (strcmp(name, dims[i]) == 0)
            return true;
    return false;
}

size_t report_ndims(json_t *result)
{
    size_t n = 0;
    while (n < json_array_size(report_columns(result)) && is_dimension(report_column_name(result, n)))
        n++;
    return n;
}

/* The group keys and interval_start: always shown first. */
static size_t leading_columns(json_t *result)
{
    size_t n = report_ndims(result);
    const char *next = report_column_name(result, n);
    return n + (next && strcmp(next, "interval_start") == 0);
}

static const char *const default_metrics[] = {
    "offered",  "answered",       "abandoned",         "service_level", "abandon_rate",
    "asa_s",    "aht_s",          "acw_avg_s",         "handled_independently_rate",
    "fcr_rate", "callbacks_open", "callbacks_overdue", "occupancy",     "agents_needed",
    "agents_present"};

static bool picked(const size_t *idx, size_t n, size_t col)
{
    for (size_t i = 0; i < n; i++)
        if (idx[i] == col)
            return true;
    return false;
}

/* Adds the columns named in spec ("a,b"); false naming the first unknown. */
static bool pick_named(json_t *result, const char *spec, size_t *idx, size_t *n, char *err,
                       size_t errsize)
{
    const char *p = spec;
    while (*p) {
        size_t len = strcspn(p, ",");
        char name[128];
        if (len == 0 || len >= sizeof(name)) {
            snprintf(err, errsize, "--columns: '%.*s' is not a column name", (int)len, p);
            return false;
        }
        memcpy(name, p, len);
        name[len] = '\0';
        int c = report_column_index(result, name);
        if (c < 0) {
            snprintf(err, errsize, "--columns: this report has no column '%s' (see --columns all)",
                     name);
            return false;
        }
        if (!picked(idx, *n, (size_t)c))
            idx[(*n)++] = (size_t)c;
        p += len + (p[len] == ',');
    }
    return true;
}

bool report_pick_columns(json_t *result, const char *spec, size_t **idx, size_t *n, char *err,
                         size_t errsize)
{
    size_t ncols = json_array_size(report_columns(result));
    size_t *out = malloc((ncols ? ncols : 1) * sizeof(*out));
    if (!out) {
        snprintf(err, errsize, "out of memory");
        return false;
    }
    size_t count = 0;
    bool all = spec && strcmp(spec, "all") == 0;
    size_t lead = all ? ncols : leading_columns(result);
    for (size_t i = 0; i < lead; i++)
        out[count++] = i;
    if (!spec) {
        for (size_t i = 0; i < KIC_ARRAY_LEN(default_metrics); i++) {
            int c = report_column_index(result, default_metrics[i]);
            if (c >= 0)
                out[count++] = (size_t)c;
        }
    } else if (!all && !pick_named(result, spec, out, &count, err, errsize)) {
        free(out);
        return false;
    }
    *idx = out;
    *n = count;
    return true;
}

/* ---- table ---- */

void report_render_table(StrBuf *out, json_t *result, const size_t *idx, size_t n)
{
    static const FmtStyle style = {'.', 1, "-"};
    TextTable t;
    ColumnKind *kinds = report_column_kinds(result, idx, n);
    if (!kinds || !ttable_init(&t, n)) {
        free(kinds);
        return;
    }
    ttable_add_row(&t);
    for (size_t c = 0; c < n; c++) {
        t.right[c] = kinds[c] != COL_TEXT;
        ttable_set(&t, c, report_column_name(result, idx[c]), MARK_NONE);
    }
    size_t r;
    json_t *row;
    StrBuf cell = STRBUF_INIT;
    json_array_foreach(report_rows(result), r, row)
    {
        ttable_add_row(&t);
        for (size_t c = 0; c < n; c++) {
            strbuf_reset(&cell);
            fmt_cell(&cell, json_array_get(row, idx[c]), kinds[c], &style);
            ttable_set(&t, c, cell.data ? cell.data : "", MARK_NONE);
        }
    }
    strbuf_free(&cell);
    ttable_render(&t, out, 0, false, 1);
    if (json_array_size(report_rows(result)) == 0)
        strbuf_puts(out, "(no rows: no contacts in this period)\n");
    ttable_free(&t);
    free(kinds);
}

/* ---- CSV ---- */

static void csv_value(StrBuf *out, json_t *v)
{
    if (json_is_string(v))
        jw_csv_field(out, json_string_value(v));
    else if (json_is_number(v))
        fmt_json_number(out, v);
    else if (json_is_boolean(v))
        strbuf_puts(out, json_is_true(v) ? "true" : "false");
    else if (v && !json_is_null(v)) {
        char *text = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
        jw_csv_field(out, text ? text : "");
        free(text);
    }
}

void report_render_csv(StrBuf *out, json_t *result)
{
    size_t i;
    json_t *v;
    json_array_foreach(report_columns(result), i, v)
    {
        if (i)
            strbuf_putc(out, ',');
        jw_csv_field(out, json_string_value(v));
    }
    strbuf_puts(out, "\r\n");
    size_t r;
    json_t *row;
    json_array_foreach(report_rows(result), r, row)
    {
        json_array_foreach(row, i, v)
        {
            if (i)
                strbuf_putc(out, ',');
            csv_value(out, v);
        }
        strbuf_puts(out, "\r\n");
    }
}

/* ---- JSON ---- */

static void indent(StrBuf *out, int depth)
{
    strbuf_putc(out, '\n');
    for (int i = 0; i < depth; i++)
        strbuf_puts(out, "  ");
}

static void pretty(StrBuf *out, json_t *v, int depth)
{
    if (json_is_object(v)) {
        if (!json_object_size(v)) {
            strbuf_puts(out, "{}");
            return;
        }
        strbuf_putc(out, '{');
        const char *key;
        json_t *item;
        bool first = true;
        json_object_foreach(v, key, item)
        {
            if (!first)
                strbuf_putc(out, ',');
            first = false;
            indent(out, depth + 1);
            json_t *k = json_string(key);
            char *text = k ? json_dumps(k, JSON_ENCODE_ANY) : NULL;
            strbuf_puts(out, text ? text : "\"\"");
            free(text);
            json_decref(k);
            strbuf_puts(out, ": ");
            pretty(out, item, depth + 1);
        }
        indent(out, depth);
        strbuf_putc(out, '}');
    } else if (json_is_array(v)) {
        if (!json_array_size(v)) {
            strbuf_puts(out, "[]");
            return;
        }
        /* rows of plain values stay on one line each */
        bool flat = true;
        size_t i;
        json_t *item;
        json_array_foreach(v, i, item)
        {
            flat = flat && !json_is_object(item) && !json_is_array(item);
        }
        strbuf_putc(out, '[');
        json_array_foreach(v, i, item)
        {
            if (i)
                strbuf_puts(out, flat ? ", " : ",");
            if (!flat)
                indent(out, depth + 1);
            pretty(out, item, depth + 1);
        }
        if (!flat)
            indent(out, depth);
        strbuf_putc(out, ']');
    } else if (json_is_real(v)) {
        StrBuf num = STRBUF_INIT;
        fmt_json_number(&num, v);
        const char *text = num.data ? num.data : "0";
        strbuf_puts(out, text);
        if (!strpbrk(text, ".eEni"))
            strbuf_puts(out, ".0"); /* a whole real stays a real when read back */
        strbuf_free(&num);
    } else {
        char *text = json_dumps(v, JSON_ENCODE_ANY);
        strbuf_puts(out, text ? text : "null");
        free(text);
    }
}

void report_render_pretty(StrBuf *out, json_t *v)
{
    pretty(out, v, 0);
    strbuf_putc(out, '\n');
}
