/* Fuzz target: the line framer (proto/framer.c), driven as conn.c drives
 * it, checked against a model of the byte stream. Input: 4 bytes seeding
 * how the stream is chopped, 1 byte choosing the first cap, the stream. */
#include <string.h>

#include "framer.h"
#include "fuzz.h"

static size_t pick_cap(uint32_t r)
{
    /* Mostly small caps, so the fuzzer reaches them with short inputs;
     * now and then the real ones (16 KiB before login, 64 KiB after). */
    switch (r % 16) {
    case 0: return 16384;
    case 1: return 65536;
    case 2: return 0;
    default: return r / 16 % 96;
    }
}

/* Invariants, checked after every call: each line is the next segment of
 * the input with its '\n' or '\r\n' removed (bytes are conserved); no line
 * is longer than the cap; TOO_LONG only when the pending line really is
 * over the cap; NEED always leaves room for the next byte (else the
 * connection would stall for ever). Chunks go in through both framer_feed
 * and framer_space + framer_commit; the cap is raised and lowered on the
 * way, as login and logout do. */
typedef struct Model {
    const uint8_t *stream;
    size_t fed;      /* bytes of stream handed to the framer */
    size_t consumed; /* bytes of stream returned as lines (with their '\n') */
} Model;

/* Where the next '\n' at or after consumed is, or NULL. */
static const uint8_t *model_newline(const Model *m)
{
    return memchr(m->stream + m->consumed, '\n', m->fed - m->consumed);
}

/* Takes lines out until NEED or TOO_LONG (or max_lines); false once the
 * stream is unusable (TOO_LONG). */
static bool drain(Framer *f, Model *m, size_t max_lines)
{
    for (size_t taken = 0; taken < max_lines; taken++) {
        char *line = NULL;
        size_t len = 0;
        FrameResult r = framer_next(f, &line, &len);
        const uint8_t *nl = model_newline(m);
        size_t pending = m->fed - m->consumed;
        /* a line's one trailing '\r' does not count toward the cap */
        bool cr_last = pending > 0 && m->stream[m->fed - 1] == '\r';
        if (r == FRAME_NEED) {
            FUZZ_CHECK(!nl, "NEED with a complete line buffered");
            FUZZ_CHECK(pending <= f->max_line + cr_last, "NEED with %zu bytes pending over cap %zu",
                       pending, f->max_line);
            FUZZ_CHECK(framer_pending(f) == pending, "pending %zu, model %zu",
                       framer_pending(f), pending);
            size_t space;
            (void)framer_space(f, &space);
            FUZZ_CHECK(space > 0, "NEED but no space: the connection would stall");
            return true;
        }
        if (r == FRAME_TOO_LONG) {
            size_t seg = nl ? (size_t)(nl - (m->stream + m->consumed)) : pending;
            bool cr = nl ? seg > 0 && nl[-1] == '\r' : cr_last;
            FUZZ_CHECK(seg > f->max_line + cr, "TOO_LONG for a line of %zu bytes, cap %zu", seg,
                       f->max_line);
            return false;
        }
        FUZZ_CHECK(r == FRAME_LINE, "unknown result %d", (int)r);
        FUZZ_CHECK(nl, "a line returned before its newline arrived");
        size_t seg = (size_t)(nl - (m->stream + m->consumed));
        size_t want = seg;
        if (want > 0 && m->stream[m->consumed + want - 1] == '\r')
            want--;
        FUZZ_CHECK(len <= f->max_line, "line of %zu bytes over cap %zu", len, f->max_line);
        FUZZ_CHECK(seg <= f->max_line + (seg > want), "raw line of %zu bytes over cap %zu", seg,
                   f->max_line);
        FUZZ_CHECK(len == want, "line of %zu bytes, model %zu", len, want);
        FUZZ_CHECK(memcmp(line, m->stream + m->consumed, len) == 0, "line bytes differ");
        FUZZ_CHECK(line[len] == '\0', "line not NUL-terminated");
        m->consumed += seg + 1;
        FUZZ_CHECK(framer_pending(f) == m->fed - m->consumed, "pending %zu, model %zu",
                   framer_pending(f), m->fed - m->consumed);
    }
    return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    FuzzRng rng = {0};
    uint8_t cap_byte = 7;
    if (size >= 5) {
        memcpy(&rng.s, data, 4);
        cap_byte = data[4];
        data += 5;
        size -= 5;
    }
    Framer f;
    FUZZ_CHECK(framer_init(&f, pick_cap(cap_byte)), "framer_init failed");
    Model m = {data, 0, 0};
    bool usable = true;
    while (usable && m.fed < size) {
        uint32_t op = fuzz_rng_next(&rng);
        if (op % 29 == 0) {
            framer_set_max_line(&f, pick_cap(fuzz_rng_next(&rng)));
            continue;
        }
        size_t want = (op >> 8) % 4 == 0 ? 1 + (op >> 12) % 300 : 1 + (op >> 12) % 8;
        if (want > size - m.fed)
            want = size - m.fed;
        size_t took;
        if (op & 0x10) {
            took = framer_feed(&f, (const char *)data + m.fed, want);
        } else {
            size_t space;
            char *dst = framer_space(&f, &space);
            took = want < space ? want : space;
            memcpy(dst, data + m.fed, took);
            framer_commit(&f, took);
        }
        FUZZ_CHECK(took <= want, "took %zu of %zu", took, want);
        m.fed += took;
        /* A full buffer must be drained; otherwise sometimes leave lines in. */
        size_t max_lines = took < want ? SIZE_MAX : (op & 0x20) ? 1 : SIZE_MAX;
        usable = drain(&f, &m, max_lines);
        if (usable && took == 0) {
            /* drain() saw NEED with space left, so the next feed must take. */
            size_t space;
            (void)framer_space(&f, &space);
            FUZZ_CHECK(space > 0, "no progress possible");
        }
    }
    if (usable)
        (void)drain(&f, &m, SIZE_MAX);
    framer_free(&f);
    return 0;
}
