/* JSON writer: values are separated by commas per nesting level. In
 * CSV mode an array is a line (RFC 4180): no brackets, CRLF at its
 * end, strings quoted when they must be, null an empty field. */
#include "jsonw.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

void jw_init(JsonW *w, StrBuf *out)
{
    memset(w, 0, sizeof(*w));
    w->out = out;
    w->first[0] = true;
}

void jw_init_csv(JsonW *w, StrBuf *out)
{
    jw_init(w, out);
    w->csv = true;
}

/* Writes the separator a new value needs. */
static void sep(JsonW *w)
{
    if (w->after_key) {
        w->after_key = false;
        return;
    }
    if (!w->first[w->depth])
        strbuf_putc(w->out, ',');
    w->first[w->depth] = false;
}

/* The separator a new value needs and the value's text, with one
 * reservation: numbers are most of what a report writes. */
static void put_value(JsonW *w, const char *s, size_t n)
{
    bool comma = !w->after_key && !w->first[w->depth];
    w->after_key = false;
    w->first[w->depth] = false;
    if (!strbuf_reserve(w->out, n + 1))
        return;
    char *p = w->out->data + w->out->len;
    if (comma)
        *p++ = ',';
    memcpy(p, s, n);
    p[n] = '\0';
    w->out->len = (size_t)(p + n - w->out->data);
}

static void open_level(JsonW *w, char c)
{
    if (w->csv) { /* a line: its fields are separated at the next level */
        if (w->depth + 1 < JSONW_MAX_DEPTH)
            w->depth++;
        w->first[w->depth] = true;
        return;
    }
    sep(w);
    strbuf_putc(w->out, c);
    if (w->depth + 1 < JSONW_MAX_DEPTH)
        w->depth++;
    w->first[w->depth] = true;
}

static void close_level(JsonW *w, char c)
{
    if (w->csv)
        strbuf_puts(w->out, "\r\n"); /* RFC 4180's line end */
    else
        strbuf_putc(w->out, c);
    if (w->depth > 0)
        w->depth--;
}

void jw_begin_object(JsonW *w) { open_level(w, '{'); }
void jw_end_object(JsonW *w) { close_level(w, '}'); }
void jw_begin_array(JsonW *w) { open_level(w, '['); }
void jw_end_array(JsonW *w) { close_level(w, ']'); }

void jw_escape(StrBuf *b, const char *s)
{
    static const char hex[] = "0123456789abcdef";
    strbuf_putc(b, '"');
    const char *run = s;
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c >= 0x20 && c != '"' && c != '\\')
            continue;
        strbuf_append(b, run, (size_t)(s - run));
        run = s + 1;
        switch (c) {
        case '"': strbuf_puts(b, "\\\""); break;
        case '\\': strbuf_puts(b, "\\\\"); break;
        case '\n': strbuf_puts(b, "\\n"); break;
        case '\r': strbuf_puts(b, "\\r"); break;
        case '\t': strbuf_puts(b, "\\t"); break;
        default: {
            char u[7] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15], 0};
            strbuf_puts(b, u);
        }
        }
    }
    strbuf_append(b, run, (size_t)(s - run));
    strbuf_putc(b, '"');
}

void jw_key(JsonW *w, const char *key)
{
    sep(w);
    jw_escape(w->out, key);
    strbuf_putc(w->out, ':');
    w->after_key = true;
}

void jw_csv_field(StrBuf *b, const char *s)
{
    size_t len = strlen(s);
    /* A text a spreadsheet would run as a formula (a queue or category
     * named "=HYPERLINK(...)" by whoever set up the platform) is kept as
     * text: a leading apostrophe, which spreadsheets hide. */
    bool formula = len && strchr("=+-@\t\r", s[0]);
    bool quote = formula || s[strcspn(s, ",\"\r\n")] || len == 0 || s[0] == ' ' ||
                 s[len - 1] == ' ';
    if (!quote) {
        strbuf_append(b, s, len);
        return;
    }
    strbuf_putc(b, '"');
    if (formula)
        strbuf_putc(b, '\'');
    for (; *s; s++) {
        if (*s == '"')
            strbuf_putc(b, '"');
        strbuf_putc(b, *s);
    }
    strbuf_putc(b, '"');
}

void jw_string(JsonW *w, const char *s)
{
    if (!s) {
        jw_null(w);
        return;
    }
    sep(w);
    if (w->csv)
        jw_csv_field(w->out, s);
    else
        jw_escape(w->out, s);
}

void jw_int(JsonW *w, int64_t v)
{
    char buf[24], *p = buf + sizeof(buf);
    uint64_t u = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;
    do {
        *--p = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    if (v < 0)
        *--p = '-';
    put_value(w, p, (size_t)(buf + sizeof(buf) - p));
}

void jw_double(JsonW *w, double v)
{
    if (!isfinite(v)) {
        jw_null(w);
        return;
    }
    char buf[40];
    int n = snprintf(buf, sizeof(buf), "%.17g", v);
    put_value(w, buf, (size_t)n);
}

void jw_fixed(JsonW *w, double v, int decimals)
{
    static const double scale[] = {1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9};
    if (!isfinite(v) || fabs(v) > 9e15 / scale[decimals]) {
        jw_double(w, v); /* NaN (null) or too large for the fast path */
        return;
    }
    char buf[48], *p = buf + sizeof(buf);
    long long scaled = llround(fabs(v) * scale[decimals]);
    bool negative = v < 0 && scaled != 0; /* never "-0" */
    int frac = decimals;
    /* fraction digits, dropping trailing zeros */
    bool any = false;
    while (frac-- > 0) {
        int d = (int)(scaled % 10);
        scaled /= 10;
        if (d || any) {
            *--p = (char)('0' + d);
            any = true;
        }
    }
    if (any)
        *--p = '.';
    do {
        *--p = (char)('0' + scaled % 10);
        scaled /= 10;
    } while (scaled);
    if (negative)
        *--p = '-';
    put_value(w, p, (size_t)(buf + sizeof(buf) - p));
}

void jw_bool(JsonW *w, bool v)
{
    sep(w);
    strbuf_puts(w->out, v ? "true" : "false");
}

void jw_null(JsonW *w)
{
    sep(w);
    if (!w->csv)
        strbuf_puts(w->out, "null");
}

