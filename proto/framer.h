/* Newline framing for the wire protocol, as a pure byte buffer: the server
 * copies socket bytes in and takes complete lines out. A line longer than
 * the cap is reported as soon as the cap is passed, without waiting for
 * its newline (memcached's rule), so a peer cannot make us buffer more. */
#ifndef FRAMER_H
#define FRAMER_H

#include "kic.h"

typedef struct Framer {
    char *buf;
    size_t len;      /* bytes buffered, from buf[0] */
    size_t start;    /* first byte not yet handed out as a line */
    size_t scanned;  /* bytes after start already known to hold no '\n' */
    size_t size;     /* usable bytes allocated (one more holds a NUL); grows
                      * on demand up to max_line + 2 */
    size_t max_line; /* longest accepted line, excluding the newline */
} Framer;

typedef enum {
    FRAME_LINE,     /* *line, *line_len hold one line, '\r\n' or '\n' removed */
    FRAME_NEED,     /* no complete line buffered */
    FRAME_TOO_LONG, /* the next line exceeds max_line: the stream is unusable */
} FrameResult;

bool framer_init(Framer *f, size_t max_line) KIC_MUST_CHECK;
void framer_free(Framer *f);

/* Raises or lowers the cap (after login lines may be longer). A smaller
 * cap never drops buffered bytes; it is checked on the next line. The
 * buffer itself grows only when a line needs it, so an idle connection
 * costs a small buffer whatever its cap. */
void framer_set_max_line(Framer *f, size_t max_line);

/* Free space at the end of the buffer (compacting or growing first, or
 * shrinking an empty buffer a long line left large). The caller writes up
 * to *space bytes at the returned pointer, then framer_commit. */
char *framer_space(Framer *f, size_t *space);
void framer_commit(Framer *f, size_t n);

/* Copies up to n bytes in; returns how many were taken. */
size_t framer_feed(Framer *f, const char *data, size_t n);

/* The next complete line. The pointer is valid until the next call to any
 * framer function; the line is NUL-terminated in place. */
FrameResult framer_next(Framer *f, char **line, size_t *line_len);

/* Bytes buffered and not yet returned as lines. */
size_t framer_pending(const Framer *f);

#endif
