/* lib/journal_codec and lib/crc32c: records read back as written; a torn
 * tail and damaged records are counted and skipped without losing the
 * records after them. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crc32c.h"
#include "journal_codec.h"

static void batch(JournalBatch *b, int seed)
{
    memset(b, 0, sizeof(*b));
    for (int i = 0; i < JOURNAL_ID_LEN; i++)
        b->id[i] = (uint8_t)(seed * 31 + i);
    b->nstmts = 2 + seed % 3;
    static const char bin[] = {0, 1, 2, 'K', 'J', '0', '1', 0, (char)0xff};
    for (int s = 0; s < b->nstmts; s++) {
        JournalStmt *st = &b->stmts[s];
        snprintf(st->name, sizeof(st->name), "kic_stmt_%d_%d", seed, s);
        st->nparams = 3 + s;
        for (int p = 0; p < st->nparams; p++) {
            if (p == 1) { /* NULL */
                st->values[p] = NULL;
            } else if (p == 2) { /* empty, not NULL */
                st->values[p] = "";
                st->lengths[p] = 0;
            } else { /* bytes with NULs and the magic inside */
                st->values[p] = bin;
                st->lengths[p] = (int)sizeof(bin) - (p % 3);
            }
        }
    }
}

typedef struct Seen {
    JournalBatch b[8];
    size_t n;
    size_t offsets[8];
} Seen;

static void collect(const JournalBatch *b, size_t offset, void *arg)
{
    Seen *s = arg;
    ck_assert_uint_lt(s->n, 8);
    s->offsets[s->n] = offset;
    s->b[s->n++] = *b;
}

static void assert_same(const JournalBatch *a, const JournalBatch *b)
{
    ck_assert_mem_eq(a->id, b->id, JOURNAL_ID_LEN);
    ck_assert_int_eq(a->nstmts, b->nstmts);
    for (int s = 0; s < a->nstmts; s++) {
        ck_assert_str_eq(a->stmts[s].name, b->stmts[s].name);
        ck_assert_int_eq(a->stmts[s].nparams, b->stmts[s].nparams);
        for (int p = 0; p < a->stmts[s].nparams; p++) {
            ck_assert_int_eq(a->stmts[s].values[p] == NULL, b->stmts[s].values[p] == NULL);
            if (!a->stmts[s].values[p])
                continue;
            ck_assert_int_eq(a->stmts[s].lengths[p], b->stmts[s].lengths[p]);
            ck_assert(memcmp(a->stmts[s].values[p], b->stmts[s].values[p],
                             (size_t)a->stmts[s].lengths[p]) == 0);
        }
    }
}

/* Three records in a buffer; ends[i] is where record i ends. */
static StrBuf three(JournalBatch want[3], size_t ends[3])
{
    StrBuf out = STRBUF_INIT;
    for (int i = 0; i < 3; i++) {
        batch(&want[i], i + 1);
        ck_assert(journal_encode(&out, &want[i]));
        ends[i] = out.len;
    }
    return out;
}

START_TEST(crc32c_known_value)
{
    ck_assert_uint_eq(crc32c(0, "123456789", 9), 0xE3069283u);
    /* in pieces, the same */
    ck_assert_uint_eq(crc32c(crc32c(0, "1234", 4), "56789", 5), 0xE3069283u);
    ck_assert_uint_eq(crc32c(0, "", 0), 0);
}
END_TEST

START_TEST(records_read_back_as_written)
{
    JournalBatch want[3];
    size_t ends[3];
    StrBuf buf = three(want, ends);
    Seen seen = {0};
    JournalScan sc;
    journal_scan((const uint8_t *)buf.data, buf.len, collect, &seen, &sc);
    ck_assert_uint_eq(sc.records, 3);
    ck_assert_uint_eq(sc.damaged, 0);
    ck_assert_uint_eq(sc.torn_bytes, 0);
    ck_assert_uint_eq(sc.good_end, buf.len);
    for (int i = 0; i < 3; i++)
        assert_same(&want[i], &seen.b[i]);
    ck_assert_uint_eq(seen.offsets[1], ends[0]);
    strbuf_free(&buf);
}
END_TEST

/* kicd stopped while writing: every cut of the last record leaves the
 * first two, and the rest counted as torn. */
START_TEST(a_torn_tail_is_counted_and_the_rest_kept)
{
    JournalBatch want[3];
    size_t ends[3];
    StrBuf buf = three(want, ends);
    for (size_t cut = ends[1] + 1; cut < ends[2]; cut++) {
        Seen seen = {0};
        JournalScan sc;
        journal_scan((const uint8_t *)buf.data, cut, collect, &seen, &sc);
        ck_assert_uint_eq(sc.records, 2);
        ck_assert_uint_eq(sc.good_end, ends[1]);
        ck_assert_uint_eq(sc.torn_bytes + sc.damaged > 0, 1);
        assert_same(&want[1], &seen.b[1]);
    }
    strbuf_free(&buf);
}
END_TEST

/* A crash while appending can leave zeros where the record's bytes
 * never reached the disk: after whole records that is a torn tail (never
 * acknowledged), not damage; zeros before a good record are damage. */
START_TEST(zeros_at_the_end_are_a_torn_tail)
{
    JournalBatch want[3];
    size_t ends[3];
    StrBuf buf = three(want, ends);
    static const char zeros[8192];
    StrBuf z = STRBUF_INIT;
    for (size_t n = 1; n <= sizeof(zeros); n = n * 3 + 1) {
        z.len = 0;
        strbuf_append(&z, buf.data, buf.len);
        strbuf_append(&z, zeros, n);
        JournalScan sc;
        journal_scan((const uint8_t *)z.data, z.len, NULL, NULL, &sc);
        ck_assert_uint_eq(sc.records, 3);
        ck_assert_uint_eq(sc.damaged, 0);
        ck_assert_uint_eq(sc.torn_bytes, n);
        ck_assert_uint_eq(sc.good_end, buf.len);
    }
    /* the last record's place zeroed whole: the first two and a torn tail */
    z.len = 0;
    strbuf_append(&z, buf.data, ends[1]);
    strbuf_append(&z, zeros, ends[2] - ends[1]);
    JournalScan sc;
    journal_scan((const uint8_t *)z.data, z.len, NULL, NULL, &sc);
    ck_assert_uint_eq(sc.records, 2);
    ck_assert_uint_eq(sc.damaged, 0);
    ck_assert_uint_eq(sc.torn_bytes, ends[2] - ends[1]);
    /* zeros with a record after them: damage, the record kept */
    z.len = 0;
    strbuf_append(&z, buf.data, ends[0]);
    strbuf_append(&z, zeros, 100);
    strbuf_append(&z, buf.data + ends[0], buf.len - ends[0]);
    journal_scan((const uint8_t *)z.data, z.len, NULL, NULL, &sc);
    ck_assert_uint_eq(sc.records, 3);
    ck_assert_uint_eq(sc.damaged, 1);
    ck_assert_uint_eq(sc.torn_bytes, 0);
    /* a non-zero byte after the zeros: damage, as before */
    z.len = 0;
    strbuf_append(&z, buf.data, buf.len);
    strbuf_append(&z, zeros, 40);
    strbuf_append(&z, "x", 1);
    journal_scan((const uint8_t *)z.data, z.len, NULL, NULL, &sc);
    ck_assert_uint_eq(sc.records, 3);
    ck_assert_uint_eq(sc.damaged, 1);
    strbuf_free(&z);
    strbuf_free(&buf);
}
END_TEST

/* A flipped byte anywhere in the middle record: it is skipped and
 * counted; the records around it survive. */
START_TEST(a_damaged_record_is_skipped_not_the_ones_after)
{
    JournalBatch want[3];
    size_t ends[3];
    StrBuf buf = three(want, ends);
    for (size_t at = ends[0]; at < ends[1]; at++) {
        char *copy = malloc(buf.len);
        memcpy(copy, buf.data, buf.len);
        copy[at] ^= 0x40;
        Seen seen = {0};
        JournalScan sc;
        journal_scan((const uint8_t *)copy, buf.len, collect, &seen, &sc);
        ck_assert_msg(sc.records == 2, "flip at %zu: %zu records", at, sc.records);
        ck_assert_uint_ge(sc.damaged, 1);
        assert_same(&want[0], &seen.b[0]);
        assert_same(&want[2], &seen.b[1]);
        free(copy);
    }
    strbuf_free(&buf);
}
END_TEST

START_TEST(garbage_before_and_between_records)
{
    JournalBatch want[3];
    size_t ends[3];
    StrBuf good = three(want, ends);
    StrBuf buf = STRBUF_INIT;
    strbuf_append(&buf, "KJ01garbage that looks like a start", 35);
    strbuf_append(&buf, good.data, ends[0]);
    strbuf_append(&buf, "\0\0\0\0KJ0", 7);
    strbuf_append(&buf, good.data + ends[0], good.len - ends[0]);
    Seen seen = {0};
    JournalScan sc;
    journal_scan((const uint8_t *)buf.data, buf.len, collect, &seen, &sc);
    ck_assert_uint_eq(sc.records, 3);
    ck_assert_uint_ge(sc.damaged, 2);
    assert_same(&want[2], &seen.b[2]);
    strbuf_free(&buf);
    strbuf_free(&good);
}
END_TEST

START_TEST(limits_of_the_format)
{
    JournalBatch b;
    batch(&b, 1);
    StrBuf out = STRBUF_INIT;
    b.nstmts = JOURNAL_MAX_STMTS + 1;
    ck_assert(!journal_encode(&out, &b));
    batch(&b, 1);
    b.stmts[0].nparams = JOURNAL_MAX_PARAMS + 1;
    ck_assert(!journal_encode(&out, &b));
    ck_assert_uint_eq(out.len, 0);
    /* an empty batch is a record too */
    memset(&b, 0, sizeof(b));
    ck_assert(journal_encode(&out, &b));
    JournalScan sc;
    journal_scan((const uint8_t *)out.data, out.len, NULL, NULL, &sc);
    ck_assert_uint_eq(sc.records, 1);
    /* nothing at all */
    journal_scan((const uint8_t *)"", 0, NULL, NULL, &sc);
    ck_assert_uint_eq(sc.records + sc.damaged + sc.torn_bytes, 0);
    strbuf_free(&out);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("journal_codec");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, crc32c_known_value);
    tcase_add_test(tc, records_read_back_as_written);
    tcase_add_test(tc, a_torn_tail_is_counted_and_the_rest_kept);
    tcase_add_test(tc, zeros_at_the_end_are_a_torn_tail);
    tcase_add_test(tc, a_damaged_record_is_skipped_not_the_ones_after);
    tcase_add_test(tc, garbage_before_and_between_records);
    tcase_add_test(tc, limits_of_the_format);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
