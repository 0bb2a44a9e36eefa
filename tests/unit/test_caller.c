/* Caller numbers: normalisation to E.164 (country 31), withheld words,
 * length limits, and the pseudonymous keys (HMAC-SHA256 per tenant).
 * Expected keys were computed independently (Python hmac/hashlib). */
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <string.h>

#include "caller.h"
#include "unit.h"

static CallerResult norm(const char *raw, char out[CALLER_E164_MAX])
{
    memset(out, 0, CALLER_E164_MAX);
    return caller_normalise(raw, "31", out);
}

static void assert_number(const char *raw, const char *e164)
{
    char out[CALLER_E164_MAX];
    CallerResult r = norm(raw, out);
    ck_assert_msg(r == CALLER_OK, "\"%s\": expected OK, got %d", raw, r);
    ck_assert_msg(strcmp(out, e164) == 0, "\"%s\": expected %s, got %s", raw, e164, out);
}

static void assert_result(const char *raw, CallerResult want)
{
    char out[CALLER_E164_MAX];
    CallerResult r = norm(raw, out);
    ck_assert_msg(r == want, "\"%s\": expected %d, got %d (out %s)", raw, want, r, out);
}

static void key_of(const char *secret, const char *tenant, const char *raw,
                   char out[CALLER_KEY_HEX_LEN])
{
    unsigned char tk[32];
    char e164[CALLER_E164_MAX];
    ck_assert_int_eq(norm(raw, e164), CALLER_OK);
    caller_tenant_key(secret, tenant, tk);
    caller_key_hex(tk, e164, out);
}

START_TEST(dutch_mobile_in_every_format)
{
    assert_number("+31 6 1234 5678", "+31612345678");
    assert_number("+31612345678", "+31612345678");
    assert_number("0031612345678", "+31612345678");
    assert_number("0612345678", "+31612345678");
    assert_number("06-12345678", "+31612345678");
    assert_number("(06) 1234-5678", "+31612345678");
    assert_number("31612345678", "+31612345678");
    assert_number("06.12.34.56.78", "+31612345678");
    assert_number("06/12345678", "+31612345678");
    assert_number("\t0612345678\t", "+31612345678");
    assert_number("00 31 6 12 34 56 78", "+31612345678");
}
END_TEST

START_TEST(other_numbers)
{
    /* national landline: 078 555 1000 -> +31 78 555 1000 */
    assert_number("078-5551000", "+31785551000");
    /* international with 00 and with +: Belgium */
    assert_number("0032 2 123 45 67", "+3221234567");
    assert_number("+32 2 123 45 67", "+3221234567");
    /* another country code configured: a national number takes it */
    char out[CALLER_E164_MAX];
    ck_assert_int_eq(caller_normalise("0470123456", "32", out), CALLER_OK);
    ck_assert_str_eq(out, "+32470123456");
}
END_TEST

START_TEST(withheld_words_any_case_and_spacing)
{
    const char *words[] = {"anonymous", "ANONYMOUS", "Anonymous", "  anonymous  ", "withheld",
                           "WithHeld", " WITHHELD", "private", "Private ", "unknown",
                           "UNKNOWN", "restricted", "Restricted", "unavailable", "UnAvailable",
                           "<unknown>", "<UNKNOWN>", " <Unknown> ", "\tprivate\n"};
    for (size_t i = 0; i < KIC_ARRAY_LEN(words); i++)
        assert_result(words[i], CALLER_WITHHELD);
}
END_TEST

/* caller.c also lists Dutch words (anoniem, onbekend, prive, privé); the
 * header promises case-insensitive words, so "PRIVÉ" should be one too. */
START_TEST(dutch_withheld_words_any_case)
{
    const char *words[] = {"anoniem", "ANONIEM", "onbekend", "Onbekend", "prive", "PRIVE",
                           "privé", "Privé", "PRIVÉ"};
    for (size_t i = 0; i < KIC_ARRAY_LEN(words); i++)
        assert_result(words[i], CALLER_WITHHELD);
}
END_TEST

START_TEST(empty_and_zero_numbers_are_withheld)
{
    assert_result("", CALLER_WITHHELD);
    assert_result("   ", CALLER_WITHHELD);
    assert_result("0", CALLER_WITHHELD);
    assert_result("000", CALLER_WITHHELD);
    assert_result("00", CALLER_WITHHELD);
    assert_result("0000000000", CALLER_WITHHELD);
}
END_TEST

START_TEST(letters_and_stray_characters_are_invalid)
{
    const char *bad[] = {"abc", "06-1234abcd", "0612345678x", "+31 6 1234 567O", "06#12345678",
                         "06*12345678", "+", "++31612345678", "31+612345678", "06_12345678",
                         "anonymous 06", "tel:+31612345678"};
    for (size_t i = 0; i < KIC_ARRAY_LEN(bad); i++)
        assert_result(bad[i], CALLER_INVALID);
}
END_TEST

START_TEST(length_limits)
{
    /* 3 to 15 digits after the "+" */
    assert_result("+12", CALLER_INVALID);
    assert_result("12", CALLER_INVALID);
    assert_number("+123", "+123");
    assert_number("123", "+123");
    assert_number("+123456789012345", "+123456789012345"); /* 15 digits */
    assert_result("+1234567890123456", CALLER_INVALID);    /* 16 digits */
    assert_number("123456789012345", "+123456789012345");
    assert_result("1234567890123456", CALLER_INVALID);
    /* 00 + 15 digits is 15 digits; 00 + 16 is not */
    assert_number("00123456789012345", "+123456789012345");
    assert_result("001234567890123456", CALLER_INVALID);
    /* national: "0" + 13 digits -> 31 + 13 = 15 digits; "0" + 14 -> 16 */
    assert_number("01234567890123", "+311234567890123");
    assert_result("012345678901234", CALLER_INVALID);
    /* a very long string of digits (more than the internal buffer) */
    char longnum[200];
    memset(longnum, '9', sizeof(longnum) - 1);
    longnum[sizeof(longnum) - 1] = '\0';
    assert_result(longnum, CALLER_INVALID);
    /* separators do not count */
    assert_number("+1 2 3 4 5 6 7 8 9 0 1 2 3 4 5", "+123456789012345");
}
END_TEST

START_TEST(output_is_e164)
{
    char out[CALLER_E164_MAX];
    ck_assert_int_eq(norm("+31 6 1234 5678", out), CALLER_OK);
    ck_assert_int_eq(out[0], '+');
    for (size_t i = 1; out[i]; i++)
        ck_assert_msg(out[i] >= '0' && out[i] <= '9', "non-digit in %s", out);
    ck_assert_uint_le(strlen(out), CALLER_E164_MAX - 1);
}
END_TEST

START_TEST(key_known_value)
{
    /* Python: t = HMAC-SHA256(b"s3cret", b"kicd-tenant:viva");
     *         HMAC-SHA256(t, b"+31612345678").hexdigest() */
    unsigned char tk[32];
    caller_tenant_key("s3cret", "viva", tk);
    char tkhex[65];
    for (int i = 0; i < 32; i++)
        snprintf(tkhex + 2 * i, 3, "%02x", tk[i]);
    ck_assert_str_eq(tkhex, "4036349bc17928d9a3f6bfed2f120764987019aaa91b7b610d1e9e2c3d8e790d");
    char key[CALLER_KEY_HEX_LEN];
    caller_key_hex(tk, "+31612345678", key);
    ck_assert_str_eq(key, "033563c2dbdd27fe5abeeefc5b29bdc537738301139e4fd9463adc3069c76e3f");
}
END_TEST

/* The keyer (precomputed HMAC states) gives the one-shot HMAC's keys,
 * also when used many times over and for numbers of every length. */
START_TEST(keyer_matches_one_shot_hmac)
{
    unsigned char tk[32];
    caller_tenant_key("s3cret", "viva", tk);
    CallerKeyer *k = caller_keyer_new(tk);
    ck_assert_ptr_nonnull(k);
    char fast[CALLER_KEY_HEX_LEN], slow[CALLER_KEY_HEX_LEN];
    caller_keyer_hex(k, "+31612345678", fast);
    ck_assert_str_eq(fast, "033563c2dbdd27fe5abeeefc5b29bdc537738301139e4fd9463adc3069c76e3f");
    char num[CALLER_E164_MAX + 64];
    for (int i = 0; i < 2000; i++) {
        int len = 1 + i % 80; /* across SHA-256's 64-byte block */
        num[0] = '+';
        for (int j = 1; j < len; j++)
            num[j] = (char)('0' + (i * 7 + j * 3) % 10);
        num[len] = '\0';
        caller_keyer_hex(k, num, fast);
        caller_key_hex(tk, num, slow);
        ck_assert_str_eq(fast, slow);
    }
    unsigned char other[32];
    caller_tenant_key("s3cret", "zorg", other);
    CallerKeyer *k2 = caller_keyer_new(other);
    caller_keyer_hex(k2, "+31612345678", fast);
    caller_key_hex(other, "+31612345678", slow);
    ck_assert_str_eq(fast, slow);
    ck_assert_str_ne(fast, "033563c2dbdd27fe5abeeefc5b29bdc537738301139e4fd9463adc3069c76e3f");
    caller_keyer_free(k2);
    caller_keyer_free(k);
}
END_TEST

START_TEST(key_is_64_lowercase_hex)
{
    const char *nums[] = {"0612345678", "+3221234567", "123", "+123456789012345"};
    for (size_t n = 0; n < KIC_ARRAY_LEN(nums); n++) {
        char key[CALLER_KEY_HEX_LEN];
        memset(key, 'X', sizeof(key));
        key_of("s3cret", "viva", nums[n], key);
        ck_assert_uint_eq(strlen(key), 64);
        for (int i = 0; i < 64; i++)
            ck_assert_msg((key[i] >= '0' && key[i] <= '9') || (key[i] >= 'a' && key[i] <= 'f'),
                          "not lowercase hex: %s", key);
    }
}
END_TEST

START_TEST(same_number_different_formats_same_key)
{
    const char *formats[] = {"+31 6 1234 5678", "0031612345678", "0612345678", "06-12345678",
                             "(06) 1234-5678", "31612345678", "+31612345678"};
    char first[CALLER_KEY_HEX_LEN], key[CALLER_KEY_HEX_LEN];
    key_of("s3cret", "viva", formats[0], first);
    for (size_t i = 1; i < KIC_ARRAY_LEN(formats); i++) {
        key_of("s3cret", "viva", formats[i], key);
        ck_assert_msg(strcmp(first, key) == 0, "%s gives another key", formats[i]);
    }
    /* a different number gives a different key */
    key_of("s3cret", "viva", "0612345679", key);
    ck_assert_str_ne(first, key);
}
END_TEST

START_TEST(tenants_and_secrets_separate_keys)
{
    char a[CALLER_KEY_HEX_LEN], b[CALLER_KEY_HEX_LEN], c[CALLER_KEY_HEX_LEN];
    key_of("s3cret", "viva", "0612345678", a);
    key_of("s3cret", "other", "0612345678", b);
    key_of("other-secret", "viva", "0612345678", c);
    ck_assert_str_ne(a, b);
    ck_assert_str_ne(a, c);
    ck_assert_str_ne(b, c);
    ck_assert_str_eq(b, "3324ece57ffdf4467dc3a8cc3f23c66333ff4ca68d3ca11b562d214b4e8adfbc");
    ck_assert_str_eq(c, "267da7783845dcfdfa3916a06e62f071cada696a260074e7615de0fb5a346504");
    /* the tenant key is deterministic */
    unsigned char t1[32], t2[32];
    caller_tenant_key("s3cret", "viva", t1);
    caller_tenant_key("s3cret", "viva", t2);
    ck_assert_int_eq(memcmp(t1, t2, 32), 0);
}
END_TEST

/* A tenant's name may be 256 characters, up to 1,024 bytes: its key is
 * the HMAC of the whole "kicd-tenant:<name>", nothing cut, nothing more. */
START_TEST(tenant_key_of_the_longest_name)
{
    static char name[4 * 256 + 1], msg[sizeof(name) + 16];
    for (int i = 0; i < 256; i++)
        memcpy(name + 4 * i, "\xF0\x9F\x93\x9E", 4);
    snprintf(msg, sizeof(msg), "kicd-tenant:%s", name);
    unsigned char want[32], got[32];
    unsigned int len = 32;
    HMAC(EVP_sha256(), "s3cret", 6, (const unsigned char *)msg, strlen(msg), want, &len);
    caller_tenant_key("s3cret", name, got);
    ck_assert_int_eq(memcmp(want, got, 32), 0);
}
END_TEST

/* ---- addresses (e-mail and chat contacts) ---- */

static void assert_address(const char *raw, CallerResult want, const char *out_want)
{
    char out[CALLER_ADDRESS_MAX];
    memset(out, 0, sizeof(out));
    CallerResult r = caller_normalise_address(raw, out);
    ck_assert_msg(r == want, "\"%s\": expected %d, got %d (out %s)", raw, want, r, out);
    if (out_want)
        ck_assert_msg(strcmp(out, out_want) == 0, "\"%s\": expected %s, got %s", raw, out_want,
                      out);
}

START_TEST(email_addresses_are_lower_cased_and_trimmed)
{
    assert_address("jan@example.nl", CALLER_OK, "jan@example.nl");
    assert_address("  Jan.Jansen@Example.NL \t", CALLER_OK, "jan.jansen@example.nl");
    assert_address("MAILTO:Jan@Example.nl", CALLER_OK, "jan@example.nl");
    assert_address("mailto:jan+zorg@example.nl", CALLER_OK, "jan+zorg@example.nl");
    /* bytes beyond ASCII are kept as they came */
    assert_address("Jos\xc3\xa9@Example.nl", CALLER_OK, "jos\xc3\xa9@example.nl");
}
END_TEST

START_TEST(broken_email_addresses_are_invalid)
{
    const char *bad[] = {"@example.nl", "jan@", "jan@@example.nl", "jan@ex@ample.nl",
                         "jan jansen@example.nl", "jan@example .nl", "mailto:", "mailto:jan",
                         "jan\x01@example.nl", "jan@example.nl\n x"};
    for (size_t i = 0; i < KIC_ARRAY_LEN(bad); i++)
        assert_address(bad[i], CALLER_INVALID, NULL);
}
END_TEST

START_TEST(other_handles_are_kept_behind_a_prefix)
{
    assert_address("visitor-8812", CALLER_OK, "id:visitor-8812");
    assert_address("  Visitor 8812  ", CALLER_OK, "id:Visitor 8812");
    /* what no number and no address can be equal to */
    assert_address("+31612345678x", CALLER_OK, "id:+31612345678x");
}
END_TEST

START_TEST(hidden_and_blank_addresses_are_withheld)
{
    const char *hidden[] = {"", "   ", "anonymous", " Onbekend ", "<unknown>"};
    for (size_t i = 0; i < KIC_ARRAY_LEN(hidden); i++)
        assert_address(hidden[i], CALLER_WITHHELD, NULL);
}
END_TEST

START_TEST(address_length_limit)
{
    char raw[KIC_MAX_FIELD + 2];
    memset(raw, 'x', sizeof(raw) - 1);
    raw[sizeof(raw) - 1] = '\0';
    assert_address(raw, CALLER_INVALID, NULL); /* 257 bytes */
    raw[KIC_MAX_FIELD] = '\0';
    char want[CALLER_ADDRESS_MAX + 8]; /* room the compiler can see */
    snprintf(want, sizeof(want), "id:%s", raw);
    assert_address(raw, CALLER_OK, want); /* 256 bytes: the longest field */
}
END_TEST

/* The limit is in characters: 256 four-byte characters are a handle,
 * 257 are not. */
START_TEST(address_length_counts_characters)
{
    static char raw[4 * (KIC_MAX_FIELD + 1) + 1];
    for (int i = 0; i <= KIC_MAX_FIELD; i++)
        memcpy(raw + 4 * i, "\xF0\x9F\x93\x9E", 4);
    raw[4 * (KIC_MAX_FIELD + 1)] = '\0';
    assert_address(raw, CALLER_INVALID, NULL);
    raw[4 * KIC_MAX_FIELD] = '\0';
    static char want[sizeof(raw) + 4]; /* room the compiler can see */
    snprintf(want, sizeof(want), "id:%s", raw);
    assert_address(raw, CALLER_OK, want);
}
END_TEST

START_TEST(an_address_key_differs_from_a_number_key)
{
    unsigned char tk[32];
    caller_tenant_key("s3cret", "viva", tk);
    char a[CALLER_ADDRESS_MAX], b[CALLER_ADDRESS_MAX], ka[CALLER_KEY_HEX_LEN],
        kb[CALLER_KEY_HEX_LEN], kn[CALLER_KEY_HEX_LEN];
    ck_assert_int_eq(caller_normalise_address("Jan@Example.nl", a), CALLER_OK);
    ck_assert_int_eq(caller_normalise_address("mailto:jan@example.NL", b), CALLER_OK);
    caller_key_hex(tk, a, ka);
    caller_key_hex(tk, b, kb);
    ck_assert_str_eq(ka, kb);
    caller_key_hex(tk, "+31612345678", kn);
    ck_assert_str_ne(ka, kn);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("caller");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, dutch_mobile_in_every_format);
    tcase_add_test(tc, other_numbers);
    tcase_add_test(tc, withheld_words_any_case_and_spacing);
    tcase_add_test(tc, dutch_withheld_words_any_case);
    tcase_add_test(tc, empty_and_zero_numbers_are_withheld);
    tcase_add_test(tc, letters_and_stray_characters_are_invalid);
    tcase_add_test(tc, length_limits);
    tcase_add_test(tc, output_is_e164);
    tcase_add_test(tc, key_known_value);
    tcase_add_test(tc, keyer_matches_one_shot_hmac);
    tcase_add_test(tc, key_is_64_lowercase_hex);
    tcase_add_test(tc, same_number_different_formats_same_key);
    tcase_add_test(tc, tenants_and_secrets_separate_keys);
    tcase_add_test(tc, email_addresses_are_lower_cased_and_trimmed);
    tcase_add_test(tc, broken_email_addresses_are_invalid);
    tcase_add_test(tc, other_handles_are_kept_behind_a_prefix);
    tcase_add_test(tc, hidden_and_blank_addresses_are_withheld);
    tcase_add_test(tc, tenant_key_of_the_longest_name);
    tcase_add_test(tc, address_length_limit);
    tcase_add_test(tc, address_length_counts_characters);
    tcase_add_test(tc, an_address_key_differs_from_a_number_key);
    suite_add_tcase(s, tc);
    return unit_run(s);
}
