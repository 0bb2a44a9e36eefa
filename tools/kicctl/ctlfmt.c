/* Formatting for kicctl's views (see ctlfmt.h): the column catalogue,
 * values as text, CSV and HTML escaping, and aligned text tables. */
#include "ctlfmt.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define COLUMN_INFO(name, kind, nl, en) {#name, kind, {nl, en}},
static const ColumnInfo columns[] = {REPORT_COLUMNS(COLUMN_INFO)};
#undef COLUMN_INFO

const ColumnInfo *ctlfmt_column(const char *name)
{
    for (size_t i = 0; i < KIC_ARRAY_LEN(columns); i++)
        if (strcmp(columns[i].name, name) == 0)
            return &columns[i];
    return NULL;
}

const char *ctlfmt_label(const char *name, Lang lang)
{
    const ColumnInfo *c = ctlfmt_column(name);
    return c ? c->label[lang] : name;
}

ColumnKind ctlfmt_kind(const char *name, json_t *sample)
{
    const ColumnInfo *c = ctlfmt_column(name);
    if (c)
        return c->kind;
    if (json_is_integer(sample))
        return COL_COUNT;
    return json_is_real(sample) ? COL_DECIMAL : COL_TEXT;
}

/* ---- values ---- */

void fmt_seconds(StrBuf *out, double seconds)
{
    long long s = llround(fabs(seconds));
    if (seconds < 0 && s > 0)
        strbuf_putc(out, '-');
    if (s >= 3600)
        strbuf_printf(out, "%lld:%02lld:%02lld", s / 3600, s / 60 % 60, s % 60);
    else
        strbuf_printf(out, "%lld:%02lld", s / 60, s % 60);
}

void fmt_decimal(StrBuf *out, double v, int decimals, char point)
{
    char buf[64];
    snprintf(buf, sizeof(buf), "%.*f", decimals, v);
    if (buf[0] == '-' && strspn(buf + 1, "0.") == strlen(buf + 1))
        memmove(buf, buf + 1, strlen(buf)); /* never "-0.0" */
    char *dot = strchr(buf, '.');
    if (dot)
        *dot = point;
    strbuf_puts(out, buf);
}

void fmt_percent(StrBuf *out, double rate, const FmtStyle *st)
{
    fmt_decimal(out, rate * 100.0, st->percent_decimals, st->point);
    strbuf_putc(out, '%');
}

void fmt_json_number(StrBuf *out, json_t *v)
{
    if (json_is_integer(v)) {
        strbuf_printf(out, "%lld", (long long)json_integer_value(v));
        return;
    }
    double d = json_number_value(v);
    char buf[40];
    for (int digits = 15; digits <= 17; digits++) {
        snprintf(buf, sizeof(buf), "%.*g", digits, d);
        if (strtod(buf, NULL) == d)
            break;
    }
    strbuf_puts(out, buf);
}

void fmt_cell(StrBuf *out, json_t *v, ColumnKind kind, const FmtStyle *st)
{
    if (!v || json_is_null(v)) {
        strbuf_puts(out, st->null_text);
    } else if (json_is_string(v)) {
        strbuf_puts(out, json_string_value(v));
    } else if (json_is_boolean(v)) {
        strbuf_puts(out, json_is_true(v) ? "true" : "false");
    } else if (!json_is_number(v)) {
        char *text = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
        strbuf_puts(out, text ? text : "?");
        free(text);
    } else {
        double d = json_number_value(v);
        switch (kind) {
        case COL_RATE: fmt_percent(out, d, st); break;
        case COL_SECONDS: fmt_seconds(out, d); break;
        case COL_DECIMAL: fmt_decimal(out, d, 1, st->point); break;
        case COL_COUNT:
        case COL_TEXT:
            if (json_is_integer(v))
                fmt_json_number(out, v);
            else
                fmt_decimal(out, d, fabs(d - round(d)) < 1e-9 ? 0 : 2, st->point);
            break;
        }
    }
}

/* ---- escaping ---- */


void html_escape(StrBuf *out, const char *s)
{
    for (const char *p = s; *p; p++) {
        switch (*p) {
        case '&': strbuf_puts(out, "&amp;"); break;
        case '<': strbuf_puts(out, "&lt;"); break;
        case '>': strbuf_puts(out, "&gt;"); break;
        case '"': strbuf_puts(out, "&quot;"); break;
        case '\'': strbuf_puts(out, "&#39;"); break;
        default: strbuf_putc(out, *p);
        }
    }
}

size_t fmt_width(const char *s)
{
    size_t n = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        n += (*p & 0xC0) != 0x80;
    return n;
}

/* ---- text tables ---- */

bool ttable_init(TextTable *t, size_t ncols)
{
    memset(t, 0, sizeof(*t));
    t->ncols = ncols;
    t->right = calloc(ncols ? ncols : 1, sizeof(*t->right));
    return t->right != NULL;
}

void ttable_free(TextTable *t)
{
    for (size_t i = 0; i < t->nrows * t->ncols; i++)
        free(t->cells[i]);
    free(t->cells);
    free(t->marks);
    free(t->right);
    memset(t, 0, sizeof(*t));
}

void ttable_add_row(TextTable *t)
{
    if (t->failed)
        return;
    if (t->nrows == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 16;
        char **cells = realloc(t->cells, cap * t->ncols * sizeof(*cells));
        if (cells)
            t->cells = cells;
        unsigned char *marks = cells ? realloc(t->marks, cap * t->ncols) : NULL;
        if (!marks) {
            t->failed = true;
            return;
        }
        t->marks = marks;
        t->cap = cap;
    }
    for (size_t c = 0; c < t->ncols; c++) {
        t->cells[t->nrows * t->ncols + c] = NULL;
        t->marks[t->nrows * t->ncols + c] = MARK_NONE;
    }
    t->nrows++;
}

void ttable_set(TextTable *t, size_t col, const char *text, CellMark mark)
{
    if (t->failed || !t->nrows || col >= t->ncols)
        return;
    size_t at = (t->nrows - 1) * t->ncols + col;
    free(t->cells[at]);
    t->cells[at] = strdup(text);
    t->marks[at] = (unsigned char)mark;
    if (!t->cells[at])
        t->failed = true;
}

static const char *cell_text(const TextTable *t, size_t row, size_t col)
{
    const char *s = t->cells[row * t->ncols + col];
    return s ? s : "";
}

static void pad(StrBuf *out, size_t n)
{
    while (n--)
        strbuf_putc(out, ' ');
}

void ttable_render(const TextTable *t, StrBuf *out, size_t max_width, bool color,
                   size_t rule_before)
{
    if (t->failed || !t->ncols)
        return;
    size_t *width = calloc(t->ncols, sizeof(*width));
    if (!width)
        return;
    for (size_t r = 0; r < t->nrows; r++)
        for (size_t c = 0; c < t->ncols; c++) {
            size_t w = fmt_width(cell_text(t, r, c));
            if (w > width[c])
                width[c] = w;
        }
    /* the columns that fit */
    size_t shown = 0, total = 0;
    while (shown < t->ncols) {
        size_t need = total + (shown ? 2 : 0) + width[shown];
        if (max_width && need > max_width && shown > 0)
            break;
        total = need;
        shown++;
    }
    for (size_t r = 0; r < t->nrows; r++) {
        if (r == rule_before && r > 0) {
            for (size_t i = 0; i < total; i++)
                strbuf_putc(out, '-');
            strbuf_putc(out, '\n');
        }
        /* trailing blanks of the last column are left off */
        for (size_t c = 0; c < shown; c++) {
            const char *s = cell_text(t, r, c);
            size_t gap = width[c] - fmt_width(s);
            if (c)
                pad(out, 2);
            if (t->right[c])
                pad(out, gap);
            unsigned char mark = t->marks[r * t->ncols + c];
            if (color && mark != MARK_NONE)
                strbuf_puts(out, mark == MARK_GOOD ? "\x1b[32m" : "\x1b[31m");
            strbuf_puts(out, s);
            if (color && mark != MARK_NONE)
                strbuf_puts(out, "\x1b[0m");
            if (!t->right[c] && c + 1 < shown)
                pad(out, gap);
        }
        strbuf_putc(out, '\n');
    }
    free(width);
}
