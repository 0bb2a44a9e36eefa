/* proto/json_quick: what it reads is what json_loadb reads (same values,
 * keys in the same order); what jansson refuses it never accepts; and it
 * does read the lines clients really send, or it would save nothing. */
#include <check.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json_quick.h"
#include "unit.h"

#define FLAGS (JSON_REJECT_DUPLICATES | JSON_DECODE_ANY | JSON_ALLOW_NUL)
#define DEPTH 16

static char *dump(const json_t *v)
{
    return json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
}

/* If json_quick_load reads text, jansson reads the same tree, keys in
 * the same order (the dumps are byte for byte equal). Returns whether
 * it read it. */
static bool same_as_jansson(const char *text, size_t len)
{
    json_t *q = json_quick_load(text, len, DEPTH);
    if (!q)
        return false;
    json_error_t e;
    json_t *j = json_loadb(text, len, FLAGS, &e);
    ck_assert_msg(j != NULL, "read what jansson refuses (%s): %.*s", e.text, (int)len, text);
    char *dq = dump(q), *dj = dump(j);
    ck_assert_msg(json_equal(q, j) && strcmp(dq, dj) == 0, "read %s, jansson %s", dq, dj);
    free(dq);
    free(dj);
    json_decref(q);
    json_decref(j);
    return true;
}

static void expect_read(const char *text)
{
    ck_assert_msg(same_as_jansson(text, strlen(text)), "not read: %s", text);
}

/* Left to jansson, which reads it. */
static void expect_left(const char *text)
{
    ck_assert_msg(!same_as_jansson(text, strlen(text)), "read: %s", text);
    json_t *j = json_loadb(text, strlen(text), FLAGS, NULL);
    ck_assert_msg(j != NULL, "premise: %s", text);
    json_decref(j);
}

/* Not JSON: refused here and by jansson. */
static void expect_refused_n(const char *text, size_t len)
{
    ck_assert_msg(json_quick_load(text, len, DEPTH) == NULL, "read: %.*s", (int)len, text);
    json_t *j = json_loadb(text, len, FLAGS, NULL);
    ck_assert_msg(j == NULL, "premise (jansson reads it): %.*s", (int)len, text);
}

static void expect_refused(const char *text)
{
    expect_refused_n(text, strlen(text));
}

START_TEST(reads_every_telephony_event)
{
    static const char *const lines[] = {
        "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"call.offered\",\"params\":{\"event_id\":"
        "\"e1\",\"call_id\":\"c1\",\"at\":\"2026-11-23T09:00:00.120+01:00\",\"queue\":"
        "\"planning\",\"caller\":\"0612345678\",\"dialled\":\"+31785551000\",\"location\":"
        "\"leiden\",\"channel\":\"voice\",\"direction\":\"inbound\"}}",
        "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"call.answered\",\"params\":{\"event_id\":"
        "\"e2\",\"call_id\":\"c1\",\"at\":\"2026-11-23T09:00:10Z\",\"agent\":\"agent-07\"}}",
        "{\"jsonrpc\":\"2.0\",\"id\":\"x-3\",\"method\":\"call.held\",\"params\":{\"event_id\":"
        "\"e3\",\"call_id\":\"c1\",\"at\":\"2026-11-23T09:01:00Z\"}}",
        "{\"jsonrpc\":\"2.0\",\"id\":4,\"method\":\"call.transferred\",\"params\":{\"event_id\":"
        "\"e4\",\"call_id\":\"c1\",\"at\":\"2026-11-23T09:02:00Z\",\"agent\":\"agent-07\","
        "\"target\":\"wijkteam-3\",\"target_kind\":\"care_team\",\"mode\":\"blind\"}}",
        "{\"jsonrpc\":\"2.0\",\"id\":5,\"method\":\"call.ended\",\"params\":{\"event_id\":"
        "\"e5\",\"call_id\":\"c1\",\"at\":\"2026-11-23T09:03:00Z\",\"by\":\"caller\"}}",
        "{\"jsonrpc\":\"2.0\",\"id\":6,\"method\":\"callback.requested\",\"params\":{"
        "\"event_id\":\"e6\",\"callback_id\":\"cb1\",\"at\":\"2026-11-23T09:04:00Z\","
        "\"number\":\"0612345678\",\"team\":\"wijkteam-3\",\"withheld\":false,\"tries\":null}}",
        "[{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":\"ping\"},"
        "{\"jsonrpc\":\"2.0\",\"method\":\"agent.state.set\",\"params\":{\"state\":\"ready\"}}]",
        " \t{ \"jsonrpc\" : \"2.0\" ,\r\n \"id\" : -12 , \"method\" : \"ping\" } \r\n",
    };
    for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++)
        expect_read(lines[i]);
}
END_TEST

START_TEST(reads_scalars_containers_and_utf8)
{
    expect_read("true");
    expect_read("false");
    expect_read("null");
    expect_read("0");
    expect_read("-0");
    expect_read("7");
    expect_read("-123");
    expect_read("123456789012345678"); /* 18 digits */
    expect_read("-999999999999999999");
    expect_read("\"\"");
    expect_read("\"caf\xC3\xA9 \xE2\x82\xAC 5 \xF0\x9F\x93\x9E \x7F\"");
    expect_read("{\"caf\xC3\xA9\":\"\xF4\x8F\xBF\xBF\"}");
    expect_read("[]");
    expect_read("{}");
    expect_read("[ ]");
    expect_read("{ }");
    expect_read("[[],{},[[]],{\"a\":{}}]");
    expect_read("[1,true,false,null,\"s\",[2],{\"k\":3}]");
    expect_read("{\"b\":1,\"a\":2,\"c\":{\"z\":1,\"y\":2,\"x\":[3,2,1]}}"); /* key order */
    expect_read("{\"\":\"\",\"a\":\"\"}");
}
END_TEST

START_TEST(leaves_escapes_reals_and_long_integers_to_jansson)
{
    expect_left("\"a\\nb\"");
    expect_left("\"\\u00e9\"");
    expect_left("\"\\u0000\""); /* NUL, allowed (JSON_ALLOW_NUL) */
    expect_left("{\"k\\\"ey\":1}");
    expect_left("{\"note\":\"say \\\"hi\\\"\"}");
    expect_left("1.5");
    expect_left("-0.0");
    expect_left("1e3");
    expect_left("2E-2");
    expect_left("[1,2.0]");
    expect_left("1234567890123456789"); /* 19 digits */
    expect_left("-9223372036854775808");
    /* far too long for any integer type: jansson refuses it, and reading
     * it must not overflow on the way (UBSan build) */
    char many[200];
    memset(many, '6', sizeof(many) - 1);
    many[sizeof(many) - 1] = '\0';
    expect_refused(many);
}
END_TEST

START_TEST(refuses_what_jansson_refuses)
{
    static const char *const bad[] = {
        "", " ", "\n", "{", "}", "[", "]", "[1,]", "[,1]", "[1 2]", "{\"a\":1,}",
        "{\"a\" 1}", "{\"a\":}", "{a:1}", "{\"a\":1 \"b\":2}", "{'a':1}", "'s'", "\"open",
        "[\"open]", "{\"a\":\"b}", "01", "-01", "00", "-", "+1", "--1", "1-", "0x10", ".5",
        "1.", "NaN", "Infinity", "-Infinity", "tru", "truex", "nul", "nulll", "False", "TRUE",
        "[true false]", "{} x", "{}{}", "[] []", "1 2", "\"a\" \"b\"", "/* c */ 1", "1 // c",
        "{\"a\":1,\"a\":2}", "{\"a\":{\"b\":1,\"b\":1}}", "[{\"x\":1,\"y\":2,\"x\":3}]",
        "\"\x01\"", "\"a\tb\"", "\"a\nb\"", "\"\x1f\"", "{\"k\x02\":1}",
        "\"\xC0\x80\"", "\"\xC1\xBF\"", "\"\xE0\x80\x80\"", "\"\xED\xA0\x80\"", "\"\xF5\x80\x80\x80\"",
        "\"\xF4\x90\x80\x80\"", "\"\x80\"", "\"\xBF\"", "\"\xC3\"", "\"\xE2\x82\"", "\"\xFF\"",
        "{\"\xC3\":1}", "\"\\x\"", "\"\\u12\"", "\"\\ud800\"",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        expect_refused(bad[i]);
    expect_refused_n("[1]\0", 4);
    expect_refused_n("\0[1]", 4);
    expect_refused_n("\"a\0b\"", 5);
    expect_refused_n("{\"a\0\":1}", 8);
}
END_TEST

START_TEST(nesting_up_to_the_limit)
{
    char text[4 * DEPTH + 8];
    for (int depth = 1; depth <= DEPTH + 1; depth++) {
        size_t n = 0;
        for (int i = 0; i < depth; i++)
            n += (size_t)sprintf(text + n, i % 2 ? "{\"k\":" : "[");
        text[n++] = '1';
        for (int i = depth - 1; i >= 0; i--)
            text[n++] = i % 2 ? '}' : ']';
        text[n] = '\0';
        if (depth <= DEPTH)
            expect_read(text);
        else
            ck_assert(!same_as_jansson(text, n)); /* jansson and rpc_parse_line's limit decide */
    }
}
END_TEST

/* Whatever the configured limit, nothing deeper than jansson's own: it
 * counts scalars too, so 2,048 arrays around a 1 are one too deep. */
START_TEST(never_deeper_than_jansson_allows)
{
    for (int arrays = 2046; arrays <= 2050; arrays++) {
        for (int with_scalar = 0; with_scalar <= 1; with_scalar++) {
            char *text = malloc(2 * (size_t)arrays + 2);
            ck_assert_ptr_nonnull(text);
            memset(text, '[', (size_t)arrays);
            size_t n = (size_t)arrays;
            if (with_scalar)
                text[n++] = '1';
            memset(text + n, ']', (size_t)arrays);
            n += (size_t)arrays;
            json_t *q = json_quick_load(text, n, 100000);
            json_t *j = json_loadb(text, n, FLAGS, NULL);
            ck_assert_msg(!q || j, "read %d arrays%s that jansson refuses", arrays,
                          with_scalar ? " around a 1" : "");
            json_decref(q);
            json_decref(j);
            free(text);
        }
    }
}
END_TEST

/* Random texts from a small JSON grammar, with tokens that jansson
 * refuses or that are left to it mixed in, and then bytes changed: what
 * is read must be read as jansson reads it. Fixed seed, so a failure
 * repeats. */
static uint32_t rnd_state = 2026;
static uint32_t rnd(void)
{
    rnd_state = rnd_state * 1103515245u + 12345u;
    return rnd_state >> 8;
}

static void gen(char *buf, size_t *n, size_t cap, int depth)
{
    static const char *const atoms[] = {
        "0", "-7", "42", "123456789012345678", "1234567890123456789", "1.5", "2e3", "true",
        "false", "null", "\"\"", "\"abc\"", "\"caf\xC3\xA9\"", "\"\xE2\x82\xAC\"", "\"a\\nb\"",
        "\"\\u00e9\"", "01", "tru", "\"\xC3\"", "\"\x01\"", " ", "\t\r\n",
    };
    if (*n + 64 > cap)
        return;
    uint32_t r = rnd() % 10;
    if (depth > 4 || r < 5) {
        const char *a = atoms[rnd() % (sizeof(atoms) / sizeof(atoms[0]))];
        *n += (size_t)snprintf(buf + *n, cap - *n, "%s", a);
        return;
    }
    bool obj = r < 8;
    buf[(*n)++] = obj ? '{' : '[';
    int items = (int)(rnd() % 4);
    for (int i = 0; i < items && *n + 64 < cap; i++) {
        if (i)
            buf[(*n)++] = rnd() % 30 ? ',' : ' ';
        if (obj) {
            static const char *const keys[] = {"\"a\"", "\"b\"", "\"event_id\"", "\"\"", "\"k\\\"\""};
            *n += (size_t)snprintf(buf + *n, cap - *n, "%s%s",
                                   keys[rnd() % (sizeof(keys) / sizeof(keys[0]))],
                                   rnd() % 30 ? ":" : " ");
        }
        gen(buf, n, cap, depth + 1);
    }
    buf[(*n)++] = obj ? '}' : ']';
}

START_TEST(random_texts_read_as_jansson_reads_them)
{
    char buf[4096];
    int read_whole = 0, read_mutated = 0;
    for (int i = 0; i < 40000; i++) {
        size_t n = 0;
        gen(buf, &n, sizeof(buf), 0);
        read_whole += same_as_jansson(buf, n);
        int changes = 1 + (int)(rnd() % 3);
        for (int k = 0; k < changes && n > 0; k++) {
            size_t at = rnd() % n;
            static const char bytes[] = "{}[]\",:\\ 0-9aeltu\x01\x80\xC3\xFF";
            switch (rnd() % 3) {
            case 0: /* replace */
                buf[at] = bytes[rnd() % (sizeof(bytes) - 1)];
                break;
            case 1: /* delete */
                memmove(buf + at, buf + at + 1, n - at - 1);
                n--;
                break;
            default: /* insert */
                if (n + 1 < sizeof(buf)) {
                    memmove(buf + at + 1, buf + at, n - at);
                    buf[at] = bytes[rnd() % (sizeof(bytes) - 1)];
                    n++;
                }
            }
        }
        read_mutated += same_as_jansson(buf, n);
    }
    /* the test must exercise the reader, not only its refusals */
    ck_assert_int_gt(read_whole, 5000);
    ck_assert_int_gt(read_mutated, 500);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("json_quick");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, reads_every_telephony_event);
    tcase_add_test(tc, reads_scalars_containers_and_utf8);
    tcase_add_test(tc, leaves_escapes_reals_and_long_integers_to_jansson);
    tcase_add_test(tc, refuses_what_jansson_refuses);
    tcase_add_test(tc, nesting_up_to_the_limit);
    tcase_add_test(tc, never_deeper_than_jansson_allows);
    tcase_add_test(tc, random_texts_read_as_jansson_reads_them);
    suite_add_tcase(s, tc);
    return unit_run(s);
}
