/* A minimal JSON writer appending to a StrBuf: no trees, no per-value
 * allocation, for the hot paths (batch rows, acknowledgements). Commas
 * are placed automatically; the caller nests begin/end correctly. */
#ifndef JSONW_H
#define JSONW_H

#include "kictime.h"
#include "strbuf.h"

#define JSONW_MAX_DEPTH 8

typedef struct JsonW {
    StrBuf *out;
    int depth;
    bool first[JSONW_MAX_DEPTH]; /* nothing written yet at this level */
    bool after_key;
    bool csv;
} JsonW;

void jw_init(JsonW *w, StrBuf *out);
/* CSV instead (RFC 4180): each array is a line; objects and keys are
 * not for this mode. */
void jw_init_csv(JsonW *w, StrBuf *out);

/* One CSV field (RFC 4180): quoted, quotes doubled, when it holds a
 * separator, a quote or a line break, is empty or has spaces around it; a
 * text that would start a spreadsheet formula (= + - @, a tab or CR
 * first) gets a leading apostrophe, so it stays text. */
void jw_csv_field(StrBuf *b, const char *s);
void jw_begin_object(JsonW *w);
void jw_end_object(JsonW *w);
void jw_begin_array(JsonW *w);
void jw_end_array(JsonW *w);
void jw_key(JsonW *w, const char *key);

void jw_string(JsonW *w, const char *s);   /* NULL writes null */
void jw_int(JsonW *w, int64_t v);
void jw_double(JsonW *w, double v);        /* finite values; NaN writes null */
/* v rounded to `decimals` (0..9) places, trailing zeros dropped; fast
 * (no printf), for large tables of rates and durations. */
void jw_fixed(JsonW *w, double v, int decimals);
void jw_bool(JsonW *w, bool v);
void jw_null(JsonW *w);

/* Appends s as a JSON string literal (quotes and escapes). */
void jw_escape(StrBuf *b, const char *s);

#endif
