/* lib/utf8: what jansson accepts is what utf8_char_len accepts, and a
 * scrubbed text always encodes. */
#include <check.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "utf8.h"

static size_t len_of(const char *s)
{
    return utf8_char_len((const unsigned char *)s, strlen(s));
}

START_TEST(valid_characters)
{
    ck_assert_uint_eq(len_of("a"), 1);
    ck_assert_uint_eq(len_of("\xC3\xA9"), 2);         /* é */
    ck_assert_uint_eq(len_of("\xE2\x82\xAC"), 3);     /* € */
    ck_assert_uint_eq(len_of("\xF0\x9F\x93\x9E"), 4); /* 📞 */
    ck_assert_uint_eq(len_of("\xF4\x8F\xBF\xBF"), 4); /* U+10FFFF */
}
END_TEST

START_TEST(invalid_sequences)
{
    ck_assert_uint_eq(len_of("\xE2\x82"), 0);         /* cut */
    ck_assert_uint_eq(len_of("\x82"), 0);             /* continuation first */
    ck_assert_uint_eq(len_of("\xC0\xAF"), 0);         /* overlong '/' */
    ck_assert_uint_eq(len_of("\xE0\x80\xAF"), 0);     /* overlong, 3 bytes */
    ck_assert_uint_eq(len_of("\xED\xA0\x80"), 0);     /* surrogate D800 */
    ck_assert_uint_eq(len_of("\xF4\x90\x80\x80"), 0); /* above U+10FFFF */
    ck_assert_uint_eq(len_of("\xF5\x80\x80\x80"), 0);
    ck_assert_uint_eq(len_of("\xC3\x28"), 0); /* bad continuation */
}
END_TEST

START_TEST(count_counts_characters_not_bytes)
{
    ck_assert_uint_eq(utf8_count("", 0), 0);
    ck_assert_uint_eq(utf8_count("abc", 3), 3);
    ck_assert_uint_eq(utf8_count("caf\xC3\xA9", 5), 4);                     /* café */
    ck_assert_uint_eq(utf8_count("\xE2\x82\xAC\xF0\x9F\x93\x9E", 7), 2); /* €📞 */
    ck_assert_uint_eq(utf8_count("\xC3\xA9x", 2), 1); /* only n bytes looked at */
}
END_TEST

START_TEST(scrub_drops_a_cut_character_and_marks_stray_bytes)
{
    char s[] = "id \xE2\x82\xAC\xE2\x82";
    utf8_scrub(s);
    ck_assert_str_eq(s, "id \xE2\x82\xAC");
    char t[] = "\xCA\xA3\xD2";
    utf8_scrub(t);
    ck_assert_str_eq(t, "\xCA\xA3");
    char e[] = "a\xF0\x9F\x98";
    utf8_scrub(e);
    ck_assert_str_eq(e, "a");
    /* not a cut: a stray byte, a lead byte followed by ASCII, an
     * impossible lead byte at the end */
    char u[] = "a\x80" "b\xE2" "x\xFF";
    utf8_scrub(u);
    ck_assert_str_eq(u, "a?b?x?");
}
END_TEST

/* Every 1-4 byte sequence from a set of interesting bytes: the verdict
 * matches jansson's, and a scrubbed copy always encodes. */
START_TEST(agrees_with_jansson)
{
    static const unsigned char bytes[] = {0x00, 0x41, 0x7F, 0x80, 0x8F, 0x90, 0x9F, 0xA0, 0xBF,
                                          0xC0, 0xC1, 0xC2, 0xDF, 0xE0, 0xED, 0xEF, 0xF0, 0xF4,
                                          0xF5, 0xFF};
    size_t nb = sizeof(bytes);
    for (size_t a = 1; a < nb; a++)
        for (size_t b = 0; b < nb; b++)
            for (size_t c = 0; c < nb; c++) {
                unsigned char s[5] = {bytes[a], bytes[b], bytes[c], 0x80, 0};
                for (size_t n = 1; n <= 4; n++) {
                    char buf[5] = {0};
                    memcpy(buf, s, n);
                    size_t len = strlen(buf);
                    if (len == 0)
                        continue;
                    /* all of buf one character, as jansson sees it */
                    json_t *j = json_stringn(buf, len);
                    bool whole = true;
                    for (size_t i = 0; i < len;) {
                        size_t l = utf8_char_len((const unsigned char *)buf + i, len - i);
                        if (!l) {
                            whole = false;
                            break;
                        }
                        i += l;
                    }
                    ck_assert_msg((j != NULL) == whole, "%02x %02x %02x (%zu): jansson %d, ours %d",
                                  buf[0] & 0xFF, buf[1] & 0xFF, buf[2] & 0xFF, len, j != NULL, whole);
                    json_decref(j);
                    utf8_scrub(buf);
                    j = json_string(buf);
                    ck_assert_ptr_nonnull(j);
                    json_decref(j);
                }
            }
}
END_TEST

int main(void)
{
    Suite *s = suite_create("utf8");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, valid_characters);
    tcase_add_test(tc, invalid_sequences);
    tcase_add_test(tc, count_counts_characters_not_bytes);
    tcase_add_test(tc, scrub_drops_a_cut_character_and_marks_stray_bytes);
    tcase_add_test(tc, agrees_with_jansson);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
