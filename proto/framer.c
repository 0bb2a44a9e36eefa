/* Newline framer over one linear buffer of max_line + 2 bytes (a line,
 * an optional '\r' that the cap does not count, and its '\n'). Bytes are
 * appended at the end; lines are handed out from the front; the buffer is
 * compacted when space runs out. Each byte is scanned for '\n' once. */
#include "framer.h"

#include <stdlib.h>
#include <string.h>

bool framer_init(Framer *f, size_t max_line)
{
    memset(f, 0, sizeof(*f));
    f->buf = malloc(max_line + 3);
    if (!f->buf)
        return false;
    f->size = max_line + 2;
    f->max_line = max_line;
    return true;
}

void framer_free(Framer *f)
{
    free(f->buf);
    memset(f, 0, sizeof(*f));
}

static void compact(Framer *f)
{
    if (f->start == 0)
        return;
    memmove(f->buf, f->buf + f->start, f->len - f->start);
    f->len -= f->start;
    f->start = 0;
}

bool framer_set_max_line(Framer *f, size_t max_line)
{
    compact(f);
    size_t size = max_line + 2;
    if (size < f->len)
        size = f->len;
    char *nb = realloc(f->buf, size + 1);
    if (!nb)
        return false;
    f->buf = nb;
    f->size = size;
    f->max_line = max_line;
    return true;
}

char *framer_space(Framer *f, size_t *space)
{
    if (f->len == f->size)
        compact(f);
    *space = f->size - f->len;
    return f->buf + f->len;
}

void framer_commit(Framer *f, size_t n)
{
    f->len += n;
}

size_t framer_feed(Framer *f, const char *data, size_t n)
{
    size_t space;
    char *dst = framer_space(f, &space);
    if (n > space)
        n = space;
    memcpy(dst, data, n);
    framer_commit(f, n);
    return n;
}

FrameResult framer_next(Framer *f, char **line, size_t *line_len)
{
    char *from = f->buf + f->start + f->scanned;
    size_t avail = f->len - f->start - f->scanned;
    char *nl = memchr(from, '\n', avail);
    char *begin = f->buf + f->start;
    if (!nl) {
        f->scanned += avail;
        /* only a '\r' may stand past the cap, waiting for its '\n' */
        bool cr_last = f->scanned > 0 && begin[f->scanned - 1] == '\r';
        return f->scanned > f->max_line + cr_last ? FRAME_TOO_LONG : FRAME_NEED;
    }
    size_t n = (size_t)(nl - begin);
    size_t content = n > 0 && begin[n - 1] == '\r' ? n - 1 : n;
    if (content > f->max_line)
        return FRAME_TOO_LONG;
    f->start += n + 1;
    f->scanned = 0;
    n = content;
    begin[n] = '\0';
    *line = begin;
    *line_len = n;
    if (f->start == f->len)
        f->start = f->len = 0;
    return FRAME_LINE;
}

size_t framer_pending(const Framer *f)
{
    return f->len - f->start;
}
