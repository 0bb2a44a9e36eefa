/* AMI stream parser. Lines are scanned once; a message is split into
 * fields in place (NUL at each ':' and line end) only when its blank line
 * has arrived, so a message split across any number of reads comes out
 * exactly as if it had arrived whole. */
#include "amiparse.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

bool ami_parser_init(AmiParser *p, size_t max_message)
{
    memset(p, 0, sizeof(*p));
    if (max_message < 256)
        max_message = 256;
    p->buf = malloc(max_message);
    if (!p->buf)
        return false;
    p->size = max_message;
    p->want_banner = true;
    return true;
}

void ami_parser_free(AmiParser *p)
{
    free(p->buf);
    p->buf = NULL;
}

void ami_parser_reset(AmiParser *p)
{
    p->len = p->start = p->scan = p->line = p->nlines = 0;
    p->want_banner = true;
    p->discarding = false;
}

static void compact(AmiParser *p)
{
    if (p->start == 0)
        return;
    memmove(p->buf, p->buf + p->start, p->len - p->start);
    p->len -= p->start;
    p->scan -= p->start;
    p->line -= p->start;
    p->start = 0;
}

char *ami_parser_space(AmiParser *p, size_t *space)
{
    compact(p);
    *space = p->size - p->len;
    return p->buf + p->len;
}

void ami_parser_commit(AmiParser *p, size_t n)
{
    p->len += n;
}

size_t ami_parser_feed(AmiParser *p, const char *data, size_t n)
{
    size_t space;
    char *dst = ami_parser_space(p, &space);
    if (n > space)
        n = space;
    memcpy(dst, data, n);
    p->len += n;
    return n;
}

/* Splits the lines in [from, to) into fields; false when too many. */
static bool split_fields(AmiParser *p, size_t from, size_t to, AmiMessage *msg)
{
    msg->n = 0;
    size_t pos = from;
    while (pos < to) {
        char *s = p->buf + pos;
        char *nl = memchr(s, '\n', to - pos);
        size_t end = nl ? (size_t)(nl - p->buf) : to;
        size_t next = end + 1;
        if (end > pos && p->buf[end - 1] == '\r')
            end--;
        p->buf[end] = '\0';
        pos = next;
        if (*s == '\0')
            continue;
        if (msg->n == AMI_MAX_FIELDS)
            return false;
        char *colon = strchr(s, ':');
        char *value = s + strlen(s);
        if (colon) {
            *colon = '\0';
            value = colon + 1;
            while (*value == ' ' || *value == '\t')
                value++;
        }
        msg->fields[msg->n].key = s;
        msg->fields[msg->n].value = value;
        msg->n++;
    }
    return true;
}

/* While discarding, eats bytes up to and including a blank line. */
static bool discard(AmiParser *p)
{
    while (p->scan < p->len) {
        char c = p->buf[p->scan++];
        if (c == '\n') {
            if (p->disc_line_empty) {
                p->discarding = false;
                p->start = p->line = p->scan;
                p->nlines = 0;
                return true;
            }
            p->disc_line_empty = true;
        } else if (c != '\r') {
            p->disc_line_empty = false;
        }
    }
    p->start = p->line = p->scan;
    return false;
}

AmiResult ami_parser_next(AmiParser *p, AmiMessage *msg, const char **banner)
{
    for (;;) {
        if (p->discarding) {
            if (!discard(p))
                return AMI_NEED;
            p->oversized++;
            return AMI_OVERSIZED;
        }
        char *nl = memchr(p->buf + p->scan, '\n', p->len - p->scan);
        if (!nl) {
            p->scan = p->len;
            if (p->len - p->start < p->size)
                return AMI_NEED;
            /* Full and no end in sight: drop it all, up to its blank line. */
            p->disc_line_empty = true;
            for (size_t i = p->line; i < p->len; i++)
                if (p->buf[i] != '\r')
                    p->disc_line_empty = false;
            p->discarding = true;
            p->want_banner = false;
            p->start = p->line = p->scan = p->len;
            continue;
        }
        size_t end = (size_t)(nl - p->buf);
        size_t content_end = end > p->line && p->buf[end - 1] == '\r' ? end - 1 : end;
        bool empty = content_end == p->line;
        p->scan = end + 1;
        if (p->want_banner && p->nlines == 0 && !empty) {
            p->want_banner = false;
            if (!memchr(p->buf + p->line, ':', content_end - p->line)) {
                p->buf[content_end] = '\0';
                *banner = p->buf + p->line;
                p->start = p->line = p->scan;
                return AMI_BANNER;
            }
        }
        if (!empty) {
            p->nlines++;
            p->line = p->scan;
            continue;
        }
        if (p->nlines == 0) { /* a stray blank line between messages */
            p->start = p->line = p->scan;
            continue;
        }
        bool ok = split_fields(p, p->start, end, msg);
        p->start = p->line = p->scan;
        p->nlines = 0;
        if (!ok) {
            p->oversized++;
            return AMI_OVERSIZED;
        }
        p->messages++;
        return AMI_MESSAGE;
    }
}

const char *ami_get(const AmiMessage *m, const char *key)
{
    for (size_t i = 0; i < m->n; i++)
        if (strcasecmp(m->fields[i].key, key) == 0)
            return m->fields[i].value;
    return NULL;
}

const char *ami_get_or(const AmiMessage *m, const char *key, const char *fallback)
{
    const char *v = ami_get(m, key);
    return v ? v : fallback;
}
