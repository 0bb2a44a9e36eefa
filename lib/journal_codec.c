/* Encoding and scanning journal records (journal_codec.h has the format). */
#include "journal_codec.h"

#include <string.h>

#include "crc32c.h"

static void put_u16(StrBuf *b, uint16_t v)
{
    uint8_t x[2] = {(uint8_t)v, (uint8_t)(v >> 8)};
    strbuf_append(b, (const char *)x, 2);
}

static void put_u32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static uint32_t get_u32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint16_t get_u16(const uint8_t *p)
{
    return (uint16_t)(p[0] | p[1] << 8);
}

bool journal_encode(StrBuf *out, const JournalBatch *b)
{
    if (b->nstmts < 0 || b->nstmts > JOURNAL_MAX_STMTS)
        return false;
    StrBuf p = STRBUF_INIT;
    strbuf_append(&p, (const char *)b->id, JOURNAL_ID_LEN);
    put_u16(&p, (uint16_t)b->nstmts);
    for (int s = 0; s < b->nstmts; s++) {
        const JournalStmt *st = &b->stmts[s];
        size_t nl = strlen(st->name);
        if (nl > JOURNAL_MAX_NAME || st->nparams < 0 || st->nparams > JOURNAL_MAX_PARAMS) {
            strbuf_free(&p);
            return false;
        }
        uint8_t len8 = (uint8_t)nl;
        strbuf_append(&p, (const char *)&len8, 1);
        strbuf_append(&p, st->name, nl);
        put_u16(&p, (uint16_t)st->nparams);
        for (int i = 0; i < st->nparams; i++) {
            uint8_t l[4];
            int32_t len = st->values[i] ? st->lengths[i] : -1;
            put_u32(l, (uint32_t)len);
            strbuf_append(&p, (const char *)l, 4);
            if (len > 0)
                strbuf_append(&p, st->values[i], (size_t)len);
        }
    }
    if (p.failed || p.len > JOURNAL_MAX_RECORD) {
        strbuf_free(&p);
        return false;
    }
    uint8_t h[JOURNAL_HEADER];
    memcpy(h, JOURNAL_MAGIC, 4);
    put_u32(h + 4, (uint32_t)p.len);
    put_u32(h + 8, crc32c(0, p.data, p.len));
    put_u32(h + 12, crc32c(0, h, 12));
    strbuf_append(out, (const char *)h, JOURNAL_HEADER);
    strbuf_append(out, p.data, p.len);
    strbuf_free(&p);
    return !out->failed;
}

/* Reads the payload into b (pointing into it); false when malformed. */
static bool decode(const uint8_t *p, size_t len, JournalBatch *b)
{
    size_t at = 0;
    if (len < JOURNAL_ID_LEN + 2)
        return false;
    memcpy(b->id, p, JOURNAL_ID_LEN);
    at = JOURNAL_ID_LEN;
    b->nstmts = get_u16(p + at);
    at += 2;
    if (b->nstmts > JOURNAL_MAX_STMTS)
        return false;
    for (int s = 0; s < b->nstmts; s++) {
        JournalStmt *st = &b->stmts[s];
        if (at + 1 > len)
            return false;
        size_t nl = p[at++];
        if (nl > JOURNAL_MAX_NAME || at + nl + 2 > len)
            return false;
        memcpy(st->name, p + at, nl);
        st->name[nl] = '\0';
        at += nl;
        st->nparams = get_u16(p + at);
        at += 2;
        if (st->nparams > JOURNAL_MAX_PARAMS)
            return false;
        for (int i = 0; i < st->nparams; i++) {
            if (at + 4 > len)
                return false;
            int32_t l = (int32_t)get_u32(p + at);
            at += 4;
            if (l < -1 || (l > 0 && (size_t)l > len - at))
                return false;
            st->values[i] = l < 0 ? NULL : (const char *)p + at;
            st->lengths[i] = l < 0 ? 0 : l;
            at += l > 0 ? (size_t)l : 0;
        }
    }
    return at == len;
}

/* True when buf[from..len) holds nothing but zero bytes. */
static bool zeros_to_end(const uint8_t *buf, size_t len, size_t from)
{
    for (size_t i = from; i < len; i++)
        if (buf[i])
            return false;
    return true;
}

/* The offset of the next magic after `from`, or len. */
static size_t next_magic(const uint8_t *buf, size_t len, size_t from)
{
    for (size_t i = from; i + 4 <= len; i++)
        if (memcmp(buf + i, JOURNAL_MAGIC, 4) == 0)
            return i;
    return len;
}

void journal_scan(const uint8_t *buf, size_t len, JournalRecordFn fn, void *arg,
                  JournalScan *out)
{
    memset(out, 0, sizeof(*out));
    JournalBatch b;
    size_t at = 0;
    while (at < len) {
        if (len - at < JOURNAL_HEADER) {
            out->torn_bytes = len - at;
            break;
        }
        const uint8_t *h = buf + at;
        bool header_ok = memcmp(h, JOURNAL_MAGIC, 4) == 0 && get_u32(h + 12) == crc32c(0, h, 12);
        if (!header_ok && zeros_to_end(buf, len, at)) {
            /* A crash during an append can leave the file longer than its
             * data (the size reached the disk, the bytes did not): that
             * append was never synced, so never acknowledged. */
            out->torn_bytes = len - at;
            break;
        }
        if (!header_ok) { /* damaged: resume at the next record that starts well */
            out->damaged++;
            at = next_magic(buf, len, at + 1);
            continue;
        }
        size_t plen = get_u32(h + 4);
        if (plen > JOURNAL_MAX_RECORD || plen > len - at - JOURNAL_HEADER) {
            out->torn_bytes = len - at; /* written in part when kicd stopped */
            break;
        }
        const uint8_t *p = h + JOURNAL_HEADER;
        if (get_u32(h + 8) != crc32c(0, p, plen) || !decode(p, plen, &b)) {
            out->damaged++;
            at = next_magic(buf, len, at + 1);
            continue;
        }
        out->records++;
        if (fn)
            fn(&b, at, arg);
        at += JOURNAL_HEADER + plen;
        out->good_end = at;
    }
}
