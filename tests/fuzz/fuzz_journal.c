/* Fuzz target: the journal reader (lib/journal_codec), which kicd runs
 * over a file a crash or a disk may have damaged. Two modes, by the first
 * byte:
 *  - raw: any bytes are scanned; every record found must re-encode to
 *    exactly the bytes it was read from (nothing invented, nothing read
 *    twice), records in order and not overlapping;
 *  - written: batches built from the input are encoded, the stream is cut
 *    and one byte flipped, then scanned; every record before the damage
 *    comes back identical, and before the damage nothing comes back that
 *    was not written (after it the scan looks for the next record start,
 *    which parameter bytes could imitate only with NULs that kicd refuses
 *    in events). */
#include <string.h>

#include "fuzz.h"
#include "journal_codec.h"

typedef struct Found {
    const uint8_t *buf;
    size_t len;
    size_t last_end;
    size_t n;
    /* written mode: what was written, and where each record starts */
    const StrBuf *records[8];
    size_t starts[8];
    size_t nwritten;
    bool written;
    size_t damage_at; /* after it, the scan may resync inside data */
} Found;

static void check_record(const JournalBatch *b, size_t offset, void *arg)
{
    Found *f = arg;
    FUZZ_CHECK(offset >= f->last_end, "record at %zu overlaps the one ending at %zu", offset,
               f->last_end);
    StrBuf again = STRBUF_INIT;
    FUZZ_CHECK(journal_encode(&again, b), "a record read back cannot be written");
    FUZZ_CHECK(offset + again.len <= f->len, "record runs past the end");
    FUZZ_CHECK(memcmp(f->buf + offset, again.data, again.len) == 0,
               "record at %zu is not the bytes it was read from", offset);
    if (f->written && offset < f->damage_at) {
        bool known = false;
        for (size_t i = 0; i < f->nwritten; i++)
            known |= f->starts[i] == offset && f->records[i]->len == again.len &&
                     memcmp(f->records[i]->data, again.data, again.len) == 0;
        FUZZ_CHECK(known, "a record at %zu that was never written", offset);
    }
    f->last_end = offset + again.len;
    f->n++;
    strbuf_free(&again);
}

static void raw(const uint8_t *data, size_t size)
{
    Found f = {.buf = data, .len = size};
    JournalScan sc;
    journal_scan(data, size, check_record, &f, &sc);
    FUZZ_CHECK(sc.records == f.n, "%zu records counted, %zu seen", sc.records, f.n);
    FUZZ_CHECK(sc.good_end == f.last_end, "good_end %zu, last record ends %zu", sc.good_end,
               f.last_end);
    FUZZ_CHECK(sc.torn_bytes <= size, "more torn bytes than bytes");
}

/* A batch whose names and parameters come from the input. */
static void make_batch(FuzzRng *r, const uint8_t *pool, size_t npool, JournalBatch *b)
{
    memset(b, 0, sizeof(*b));
    for (int i = 0; i < JOURNAL_ID_LEN; i++)
        b->id[i] = (uint8_t)fuzz_rng_next(r);
    b->nstmts = (int)(fuzz_rng_next(r) % 4);
    for (int s = 0; s < b->nstmts; s++) {
        JournalStmt *st = &b->stmts[s];
        snprintf(st->name, sizeof(st->name), "kic_%u", fuzz_rng_next(r) % 1000);
        st->nparams = (int)(fuzz_rng_next(r) % 5);
        for (int p = 0; p < st->nparams; p++) {
            uint32_t x = fuzz_rng_next(r);
            if (x % 7 == 0 || npool == 0) {
                st->values[p] = NULL;
                continue;
            }
            size_t at = x % npool, len = (x >> 8) % (npool - at + 1);
            st->values[p] = (const char *)pool + at;
            st->lengths[p] = (int)len;
        }
    }
}

static void written(const uint8_t *data, size_t size)
{
    if (size < 9)
        return;
    FuzzRng r = {0};
    memcpy(&r.s, data, 8);
    const uint8_t *pool = data + 8;
    size_t npool = size - 8;
    StrBuf all = STRBUF_INIT, one[8];
    Found f = {.written = true};
    size_t n = 1 + fuzz_rng_next(&r) % 8;
    for (size_t i = 0; i < n; i++) {
        JournalBatch b;
        make_batch(&r, pool, npool, &b);
        one[i] = (StrBuf)STRBUF_INIT;
        FUZZ_CHECK(journal_encode(&one[i], &b), "a small batch cannot be written");
        f.starts[i] = all.len;
        f.records[i] = &one[i];
        strbuf_append(&all, one[i].data, one[i].len);
    }
    f.nwritten = n;
    /* cut, and flip one byte before the cut */
    size_t cut = all.len - fuzz_rng_next(&r) % (all.len + 1);
    size_t flip = cut ? fuzz_rng_next(&r) % cut : 0;
    uint8_t *buf = malloc(cut ? cut : 1);
    memcpy(buf, all.data, cut);
    bool flipped = cut && fuzz_rng_next(&r) % 2;
    if (flipped)
        buf[flip] ^= (uint8_t)(1 + fuzz_rng_next(&r) % 255);
    f.buf = buf;
    f.len = cut;
    /* a damaged record is suspect from its first byte: the scan may
     * resync inside it (its parameters may hold a record's bytes) */
    f.damage_at = cut;
    for (size_t i = 0; flipped && i < n; i++)
        if (flip >= f.starts[i] && flip < f.starts[i] + one[i].len)
            f.damage_at = f.starts[i];
    JournalScan sc;
    journal_scan(buf, cut, check_record, &f, &sc);
    /* every record wholly before the damage and the cut is found */
    size_t intact = 0;
    for (size_t i = 0; i < n; i++) {
        size_t end = f.starts[i] + one[i].len;
        if (end <= cut && end <= f.damage_at)
            intact++;
    }
    FUZZ_CHECK(sc.records >= intact, "%zu records found, %zu intact before the damage",
               sc.records, intact);
    free(buf);
    for (size_t i = 0; i < n; i++)
        strbuf_free(&one[i]);
    strbuf_free(&all);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    if (data[0] & 1)
        raw(data + 1, size - 1);
    else
        written(data + 1, size - 1);
    return 0;
}
