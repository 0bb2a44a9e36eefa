/* Framer: lines split anywhere, CRLF, caps, compaction, cap changes. */
#include <stdlib.h>
#include <string.h>

#include "framer.h"
#include "unit.h"

static Framer f;

static void setup(void)
{
    ck_assert(framer_init(&f, 16));
}

static void teardown(void)
{
    framer_free(&f);
}

static FrameResult next(char **line, size_t *len)
{
    return framer_next(&f, line, len);
}

START_TEST(one_line)
{
    char *line;
    size_t len;
    ck_assert_uint_eq(framer_feed(&f, "hello\n", 6), 6);
    ck_assert_int_eq(next(&line, &len), FRAME_LINE);
    ck_assert_str_eq(line, "hello");
    ck_assert_uint_eq(len, 5);
    ck_assert_int_eq(next(&line, &len), FRAME_NEED);
    ck_assert_uint_eq(framer_pending(&f), 0);
}
END_TEST

START_TEST(crlf_and_empty_lines)
{
    char *line;
    size_t len;
    ck_assert_uint_eq(framer_feed(&f, "a\r\n\nb\r\n", 7), 7);
    ck_assert_int_eq(next(&line, &len), FRAME_LINE);
    ck_assert_str_eq(line, "a");
    ck_assert_int_eq(next(&line, &len), FRAME_LINE);
    ck_assert_uint_eq(len, 0);
    ck_assert_int_eq(next(&line, &len), FRAME_LINE);
    ck_assert_str_eq(line, "b");
}
END_TEST

START_TEST(split_across_feeds)
{
    char *line;
    size_t len;
    const char *text = "abc\ndefgh\nij";
    /* every split point gives the same lines */
    for (size_t cut = 0; cut <= strlen(text); cut++) {
        framer_free(&f);
        ck_assert(framer_init(&f, 16));
        ck_assert_uint_eq(framer_feed(&f, text, cut), cut);
        int lines = 0;
        while (next(&line, &len) == FRAME_LINE)
            lines++;
        ck_assert_uint_eq(framer_feed(&f, text + cut, strlen(text) - cut), strlen(text) - cut);
        while (next(&line, &len) == FRAME_LINE)
            lines++;
        ck_assert_int_eq(lines, 2);
        ck_assert_uint_eq(framer_pending(&f), 2); /* "ij" waits for its newline */
    }
}
END_TEST

START_TEST(exactly_max_line_is_accepted)
{
    char *line;
    size_t len;
    char buf[18];
    memset(buf, 'x', 16);
    buf[16] = '\n';
    ck_assert_uint_eq(framer_feed(&f, buf, 17), 17);
    ck_assert_int_eq(next(&line, &len), FRAME_LINE);
    ck_assert_uint_eq(len, 16);
}
END_TEST

START_TEST(too_long_without_newline_is_detected_early)
{
    char *line;
    size_t len;
    char buf[17];
    memset(buf, 'x', 17);
    ck_assert_uint_eq(framer_feed(&f, buf, 16), 16);
    ck_assert_int_eq(next(&line, &len), FRAME_NEED);
    ck_assert_uint_eq(framer_feed(&f, buf, 1), 1);
    ck_assert_int_eq(next(&line, &len), FRAME_TOO_LONG);
}
END_TEST

START_TEST(too_long_with_newline)
{
    char *line;
    size_t len;
    framer_set_max_line(&f, 4);
    /* a lower cap keeps the buffer it has: the bytes fit, the line does not */
    ck_assert_uint_eq(framer_feed(&f, "ok\n12345\n", 9), 9);
    ck_assert_int_eq(next(&line, &len), FRAME_LINE);
    ck_assert_str_eq(line, "ok");
    ck_assert_int_eq(next(&line, &len), FRAME_TOO_LONG);
}
END_TEST

/* A line of exactly max_line bytes may end with CRLF: the '\r' is not
 * content. One byte more is too long, with or without it. */
START_TEST(crlf_does_not_count_toward_the_cap)
{
    char *line;
    size_t len;
    framer_set_max_line(&f, 4);
    ck_assert_uint_eq(framer_feed(&f, "1234\r", 5), 5);
    ck_assert_int_eq(next(&line, &len), FRAME_NEED);
    ck_assert_uint_eq(framer_feed(&f, "\n", 1), 1);
    ck_assert_int_eq(next(&line, &len), FRAME_LINE);
    ck_assert_str_eq(line, "1234");
    ck_assert_uint_eq(len, 4);
    ck_assert_uint_eq(framer_feed(&f, "12345", 5), 5);
    ck_assert_int_eq(next(&line, &len), FRAME_TOO_LONG);
}
END_TEST

START_TEST(crlf_after_too_much_is_too_long)
{
    char *line;
    size_t len;
    framer_set_max_line(&f, 4);
    ck_assert_uint_eq(framer_feed(&f, "12345\r", 6), 6);
    ck_assert_int_eq(next(&line, &len), FRAME_TOO_LONG);
}
END_TEST

START_TEST(buffer_compacts_and_never_overflows)
{
    char *line;
    size_t len;
    /* Many short lines through an 18-byte buffer. */
    int lines = 0;
    for (int i = 0; i < 1000; i++) {
        const char *msg = "0123456\n";
        size_t off = 0;
        while (off < 8) {
            off += framer_feed(&f, msg + off, 8 - off);
            while (next(&line, &len) == FRAME_LINE) {
                ck_assert_str_eq(line, "0123456");
                lines++;
            }
        }
    }
    ck_assert_int_eq(lines, 1000);
}
END_TEST

START_TEST(raising_the_cap_keeps_data)
{
    char *line;
    size_t len;
    ck_assert_uint_eq(framer_feed(&f, "abc", 3), 3);
    framer_set_max_line(&f, 64);
    ck_assert_uint_eq(framer_feed(&f, "defghijklmnopqrstuvwxyz\n", 24), 24);
    ck_assert_int_eq(next(&line, &len), FRAME_LINE);
    ck_assert_str_eq(line, "abcdefghijklmnopqrstuvwxyz");
}
END_TEST

/* An idle connection costs a small buffer whatever its cap; a long line
 * grows it up to the cap (never past it), and once the line is taken the
 * buffer goes back to small. */
START_TEST(buffer_grows_on_demand_and_shrinks_back)
{
    enum { CAP = 100000, LONG = 70000 };
    Framer g;
    ck_assert(framer_init(&g, CAP));
    ck_assert_uint_le(g.size, 1024);
    char *big = malloc(CAP + 10);
    ck_assert_ptr_nonnull(big);
    memset(big, 'x', CAP + 10);
    big[LONG] = '\n';
    ck_assert_uint_eq(framer_feed(&g, big, LONG + 1), LONG + 1);
    ck_assert_uint_le(g.size, CAP + 2);
    char *line;
    size_t len;
    ck_assert_int_eq(framer_next(&g, &line, &len), FRAME_LINE);
    ck_assert_uint_eq(len, LONG);
    size_t space;
    framer_space(&g, &space);
    ck_assert_uint_le(g.size, 1024);
    /* past the cap: refused once the cap is passed, the buffer at most cap + 2 */
    big[LONG] = 'x';
    ck_assert_uint_eq(framer_feed(&g, big, CAP + 10), CAP + 2);
    ck_assert_uint_eq(g.size, CAP + 2);
    ck_assert_int_eq(framer_next(&g, &line, &len), FRAME_TOO_LONG);
    free(big);
    framer_free(&g);
}
END_TEST

START_TEST(space_and_commit)
{
    char *line;
    size_t len, space;
    char *p = framer_space(&f, &space);
    ck_assert_uint_eq(space, 18);
    memcpy(p, "xy\n", 3);
    framer_commit(&f, 3);
    ck_assert_int_eq(next(&line, &len), FRAME_LINE);
    ck_assert_str_eq(line, "xy");
}
END_TEST

int main(void)
{
    Suite *s = suite_create("framer");
    TCase *tc = tcase_create("core");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, one_line);
    tcase_add_test(tc, crlf_and_empty_lines);
    tcase_add_test(tc, split_across_feeds);
    tcase_add_test(tc, exactly_max_line_is_accepted);
    tcase_add_test(tc, too_long_without_newline_is_detected_early);
    tcase_add_test(tc, too_long_with_newline);
    tcase_add_test(tc, crlf_does_not_count_toward_the_cap);
    tcase_add_test(tc, crlf_after_too_much_is_too_long);
    tcase_add_test(tc, buffer_compacts_and_never_overflows);
    tcase_add_test(tc, raising_the_cap_keeps_data);
    tcase_add_test(tc, buffer_grows_on_demand_and_shrinks_back);
    tcase_add_test(tc, space_and_commit);
    suite_add_tcase(s, tc);
    return unit_run(s);
}
