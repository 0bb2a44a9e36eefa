/* A growable byte string for building replies, SQL parameters and reports.
 * Allocation failure is sticky: later appends do nothing and strbuf_steal
 * returns NULL, so callers check once at the end. */
#ifndef STRBUF_H
#define STRBUF_H

#include "kic.h"

typedef struct StrBuf {
    char *data;
    size_t len;
    size_t cap;
    bool failed;
} StrBuf;

#define STRBUF_INIT {NULL, 0, 0, false}

/* Makes room for `extra` more bytes at once (false when that failed,
 * which is sticky: strbuf_reset clears it). */
bool strbuf_reserve(StrBuf *b, size_t extra) KIC_MUST_CHECK;
void strbuf_append(StrBuf *b, const char *s, size_t n);
void strbuf_puts(StrBuf *b, const char *s);
void strbuf_putc(StrBuf *b, char c);
void strbuf_printf(StrBuf *b, const char *fmt, ...) KIC_PRINTF(2, 3);

/* The NUL-terminated contents, now owned by the caller (NULL on failure);
 * the buffer is left empty. */
char *strbuf_steal(StrBuf *b);
void strbuf_reset(StrBuf *b);
void strbuf_free(StrBuf *b);

#endif
