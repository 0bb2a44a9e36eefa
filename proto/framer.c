/* Newline framer over one linear buffer that grows on demand to at most
 * max_line + 2 bytes (a line, an optional '\r' that the cap does not
 * count, and its '\n'). Bytes are appended at the end; lines are handed
 * out from the front; the buffer is compacted when space runs out, and
 * grown only when compacting frees nothing. Each byte is scanned for
 * '\n' once. */
#include "framer.h"

#include <stdlib.h>
#include <string.h>

/* Most requests are a few hundred bytes: a connection starts with this
 * much, and an empty buffer a long line made larger goes back to it. */
#define FRAMER_INITIAL 1024
#define FRAMER_KEEP (16 * 1024)

static size_t limit(const Framer *f)
{
    return f->max_line + 2;
}

static bool resize(Framer *f, size_t size)
{
    char *nb = realloc(f->buf, size + 1);
    if (!nb)
        return false;
    f->buf = nb;
    f->size = size;
    return true;
}

bool framer_init(Framer *f, size_t max_line)
{
    memset(f, 0, sizeof(*f));
    f->max_line = max_line;
    size_t size = limit(f) < FRAMER_INITIAL ? limit(f) : FRAMER_INITIAL;
    return resize(f, size);
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

void framer_set_max_line(Framer *f, size_t max_line)
{
    f->max_line = max_line;
}

char *framer_space(Framer *f, size_t *space)
{
    if (f->len == 0 && f->size > FRAMER_KEEP && !resize(f, FRAMER_INITIAL))
        abort();
    if (f->len == f->size)
        compact(f);
    if (f->len == f->size && f->size < limit(f)) {
        size_t size = f->size * 2 < limit(f) ? f->size * 2 : limit(f);
        if (!resize(f, size))
            abort(); /* out of memory, as everywhere in kicd */
    }
    *space = f->size - f->len;
    return f->buf + f->len;
}

void framer_commit(Framer *f, size_t n)
{
    f->len += n;
}

size_t framer_feed(Framer *f, const char *data, size_t n)
{
    size_t taken = 0;
    while (taken < n) {
        size_t space;
        char *dst = framer_space(f, &space);
        if (space == 0)
            break;
        if (space > n - taken)
            space = n - taken;
        memcpy(dst, data + taken, space);
        framer_commit(f, space);
        taken += space;
    }
    return taken;
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
