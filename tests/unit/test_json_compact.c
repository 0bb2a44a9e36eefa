/* proto/json_compact: byte for byte what json_dumps(v, JSON_COMPACT)
 * gives, on hand-picked edge cases, on generated values of every kind,
 * and on an event's params as ingest stores them. */
#include <check.h>
#include <float.h>
#include <jansson.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json_compact.h"
#include "unit.h"

/* json_compact(v) is json_dumps(v, JSON_COMPACT), NULL included. A
 * mismatch shows where it starts, not the whole (possibly long) text. */
static void assert_same(const json_t *v)
{
    char *want = json_dumps(v, JSON_COMPACT);
    char *got = json_compact(v);
    if (!want) {
        ck_assert_msg(got == NULL, "json_dumps gave NULL, json_compact gave %.200s", got);
    } else {
        ck_assert_msg(got != NULL, "json_compact gave NULL for %.200s", want);
        size_t at = 0;
        while (want[at] && want[at] == got[at])
            at++;
        size_t from = at > 40 ? at - 40 : 0;
        ck_assert_msg(want[at] == got[at], "differs at byte %zu:\nwant ...%.80s\ngot  ...%.80s", at,
                      want + from, got + from);
    }
    free(want);
    free(got);
}

/* Wraps a value in [ ] (taking the reference), checks it, frees it. */
static void assert_same_in_array(json_t *v)
{
    ck_assert_ptr_nonnull(v);
    json_t *a = json_array();
    json_array_append_new(a, v);
    assert_same(a);
    json_decref(a);
}

/* The output for one value wrapped in [ ], compared with what we expect. */
static void assert_text(json_t *v, const char *want)
{
    json_t *a = json_array();
    json_array_append_new(a, v);
    char *got = json_compact(a);
    ck_assert_ptr_nonnull(got);
    ck_assert_str_eq(got, want);
    free(got);
    assert_same(a);
    json_decref(a);
}

START_TEST(every_escape)
{
    assert_text(json_string("\"\\/"), "[\"\\\"\\\\/\"]");
    assert_text(json_string("\b\f\n\r\t"), "[\"\\b\\f\\n\\r\\t\"]");
    assert_text(json_string("\x01\x1f\x7f"), "[\"\\u0001\\u001F\x7f\"]");
    assert_text(json_string("plain text, 0-9 ~{}[]:"), "[\"plain text, 0-9 ~{}[]:\"]");
}
END_TEST

/* Each control byte alone, at the start, in the middle and at the end of
 * runs of every length around the 8-byte word the scanner reads. */
START_TEST(all_control_characters)
{
    char all[0x21];
    for (int c = 0; c < 0x20; c++)
        all[c] = (char)c;
    all[0x20] = 0x7f;
    assert_same_in_array(json_stringn(all, sizeof(all)));
    for (int c = 0; c <= 0x7f; c++) {
        if (c > 0x20 && c < 0x7f && c != '"' && c != '\\')
            continue;
        for (size_t pre = 0; pre < 18; pre++)
            for (size_t post = 0; post < 18; post += 5) {
                char s[40];
                memset(s, 'x', sizeof(s));
                s[pre] = (char)c;
                assert_same_in_array(json_stringn(s, pre + 1 + post));
            }
    }
}
END_TEST

START_TEST(embedded_nul)
{
    assert_text(json_stringn("a\0b", 3), "[\"a\\u0000b\"]");
    assert_text(json_stringn("\0", 1), "[\"\\u0000\"]");
    json_t *o = json_object();
    json_object_setn_new(o, "k\0ey", 4, json_stringn("\0\0", 2));
    char *got = json_compact(o);
    ck_assert_str_eq(got, "{\"k\\u0000ey\":\"\\u0000\\u0000\"}");
    free(got);
    assert_same(o);
    json_decref(o);
}
END_TEST

START_TEST(multibyte_utf8)
{
    assert_text(json_string("caf\xC3\xA9"), "[\"caf\xC3\xA9\"]");
    assert_text(json_string("\xE2\x82\xAC 5"), "[\"\xE2\x82\xAC 5\"]");
    assert_text(json_string("\xF0\x9F\x93\x9E\n\xF4\x8F\xBF\xBF"),
                "[\"\xF0\x9F\x93\x9E\\n\xF4\x8F\xBF\xBF\"]");
    assert_same_in_array(json_string("\xC2\x80\xDF\xBF\xE0\xA0\x80\xEF\xBF\xBF\xF0\x90\x80\x80"));
    assert_same_in_array(json_string("Bj\xC3\xB6rk \"\xC3\xA9\xC3\xA9n\" \\ \xE2\x82\xAC\t"));
}
END_TEST

START_TEST(empty_values)
{
    json_t *v = json_object();
    assert_same(v);
    json_decref(v);
    v = json_array();
    assert_same(v);
    json_decref(v);
    assert_text(json_string(""), "[\"\"]");
    assert_text(json_pack("{s:s}", "", ""), "[{\"\":\"\"}]");
    assert_text(json_pack("[[],{},[[]],{s:{}}]", "a"), "[[[],{},[[]],{\"a\":{}}]]");
}
END_TEST

START_TEST(nesting_20_deep)
{
    json_t *v = json_string("leaf");
    for (int depth = 0; depth < 20; depth++) {
        json_t *c;
        if (depth % 2) {
            c = json_object();
            json_object_set_new(c, "k", json_integer(depth));
            json_object_set_new(c, "in", v);
        } else {
            c = json_array();
            json_array_append_new(c, v);
            json_array_append_new(c, json_true());
        }
        v = c;
        assert_same(v);
    }
    json_decref(v);
}
END_TEST

START_TEST(integers_at_the_edges)
{
    assert_text(json_integer(INT64_MIN), "[-9223372036854775808]");
    assert_text(json_integer(INT64_MAX), "[9223372036854775807]");
    assert_text(json_integer(0), "[0]");
    assert_text(json_integer(-1), "[-1]");
    /* every digit count, and both sides of each power of ten */
    for (json_int_t p = 1; p <= INT64_MAX / 10; p *= 10)
        for (json_int_t d = -1; d <= 1; d++) {
            assert_same_in_array(json_integer(p + d));
            assert_same_in_array(json_integer(-(p + d)));
        }
}
END_TEST

START_TEST(reals)
{
    static const double vals[] = {0.1, 1e300, -0.0, 3.0, 0.0, -1.5, 1e-300, 5e-324, DBL_MAX,
                                  -DBL_MAX, DBL_MIN, 123456789.125, 1e17, 1e16, 2.5e-7};
    for (size_t i = 0; i < sizeof(vals) / sizeof(vals[0]); i++)
        assert_same_in_array(json_real(vals[i]));
    assert_text(json_real(3.0), "[3.0]");
    assert_text(json_real(-0.0), "[-0.0]");
}
END_TEST

/* Without JSON_ENCODE_ANY json_dumps refuses anything but a container. */
START_TEST(top_level_non_containers)
{
    json_t *vals[] = {json_string("x"), json_integer(1), json_real(1.5), json_true(),
                      json_false(), json_null()};
    for (size_t i = 0; i < sizeof(vals) / sizeof(vals[0]); i++) {
        char *want = json_dumps(vals[i], JSON_COMPACT);
        ck_assert_ptr_null(want);
        ck_assert_ptr_null(json_compact(vals[i]));
        json_decref(vals[i]);
    }
    ck_assert_ptr_null(json_dumps(NULL, JSON_COMPACT));
    ck_assert_ptr_null(json_compact(NULL));
}
END_TEST

/* A _nocheck string can hold bytes that are not UTF-8: json_dumps then
 * fails as a whole, and so do we. */
START_TEST(invalid_utf8_value_fails_as_in_jansson)
{
    static const char *bad[] = {"\xFF", "ok\xC3", "\xC0\xAF", "\xED\xA0\x80", "\xF4\x90\x80\x80",
                                "a\x80z", "\xE2\x82", "a\nb\xFF", "0123456789abcdef\xFF",
                                "01234567\xC3", "0123456789abcdefghijklmnopqrstu\xF5\x80\x80\x80x"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        json_t *a = json_array();
        json_array_append_new(a, json_string_nocheck(bad[i]));
        ck_assert_ptr_null(json_compact(a));
        assert_same(a);
        json_decref(a);
    }
}
END_TEST

/* An invalid _nocheck key does not fail json_dumps (2.14 ignores what
 * dump_string returns for a key): the key stops after its last escape,
 * unquoted, and the rest follows. Not JSON, but json_dumps's bytes. */
START_TEST(invalid_utf8_key_as_in_jansson)
{
    static const struct {
        const char *key, *want;
    } cases[] = {
        {"\xFF", "{\":1,\"n\":null}"},
        {"ok\xC3", "{\":1,\"n\":null}"},
        {"a\nb\xFF", "{\"a\\n:1,\"n\":null}"},
        {"x\"y\x80z", "{\"x\\\":1,\"n\":null}"},
        {"\x01\x02\xFF", "{\"\\u0001\\u0002:1,\"n\":null}"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        json_t *o = json_object();
        json_object_set_new_nocheck(o, cases[i].key, json_integer(1));
        json_object_set_new(o, "n", json_null());
        char *got = json_compact(o);
        ck_assert_ptr_nonnull(got);
        ck_assert_str_eq(got, cases[i].want);
        free(got);
        assert_same(o);
        json_decref(o);
    }
}
END_TEST

/* jansson lets a container end up inside itself through another one;
 * json_dumps fails then. The same value twice side by side is fine. */
START_TEST(cycles_fail_shared_values_do_not)
{
    json_t *a = json_array(), *b = json_object();
    json_array_append(a, b);
    json_object_set(b, "a", a);
    ck_assert_ptr_null(json_compact(a));
    assert_same(a);
    assert_same(b);
    json_object_clear(b);

    json_t *shared = json_pack("{s:[i,i]}", "x", 1, 2);
    json_array_append(a, shared);
    json_object_set(b, "one", shared);
    json_object_set(b, "two", shared);
    assert_same(a);
    char *got = json_compact(a);
    ck_assert_str_eq(got, "[{\"one\":{\"x\":[1,2]},\"two\":{\"x\":[1,2]}},{\"x\":[1,2]}]");
    free(got);
    json_decref(shared);
    json_decref(b);
    json_decref(a);
}
END_TEST

/* stored_form deletes keys and sets others: the order stays jansson's. */
START_TEST(order_after_deletes_and_sets)
{
    json_t *o = json_pack("{s:i,s:i,s:i,s:i}", "d", 1, "c", 2, "b", 3, "a", 4);
    json_object_del(o, "c");
    json_object_set_new(o, "c", json_integer(5));
    json_object_set_new(o, "d", json_integer(6));
    json_object_set_new(o, "e", json_integer(7));
    json_object_del(o, "a");
    char *got = json_compact(o);
    ck_assert_str_eq(got, "{\"d\":6,\"b\":3,\"c\":5,\"e\":7}");
    free(got);
    assert_same(o);
    json_decref(o);
}
END_TEST

/* Larger than any stack area: the heap path, growth and the final copy. */
START_TEST(long_values)
{
    size_t sizes[] = {1000, 2040, 2046, 2047, 2048, 2049, 4096, 100000};
    for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
        char *s = malloc(sizes[i]);
        memset(s, 'a', sizes[i]);
        assert_same_in_array(json_stringn(s, sizes[i]));
        memset(s, '\n', sizes[i]);
        assert_same_in_array(json_stringn(s, sizes[i]));
        free(s);
    }
    json_t *a = json_array();
    for (int i = 0; i < 5000; i++)
        json_array_append_new(a, json_pack("{s:i,s:s}", "n", i, "s", "\x01x"));
    assert_same(a);
    json_decref(a);
}
END_TEST

/* ---- generated values ---- */

typedef struct Rng {
    uint64_t s;
} Rng;

/* splitmix64: small, seedable, good enough to mix cases. */
static uint64_t next(Rng *r)
{
    uint64_t z = (r->s += 0x9E3779B97F4A7C15u);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9u;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBu;
    return z ^ (z >> 31);
}

static unsigned below(Rng *r, unsigned n)
{
    return (unsigned)(next(r) % n);
}

/* Appends one valid UTF-8 character of `bytes` bytes (2-4). */
static size_t put_utf8(Rng *r, char *out, int bytes)
{
    uint32_t cp;
    if (bytes == 2) {
        cp = 0x80 + below(r, 0x800 - 0x80);
    } else if (bytes == 3) {
        do
            cp = 0x800 + below(r, 0x10000 - 0x800);
        while (cp >= 0xD800 && cp <= 0xDFFF);
    } else {
        cp = 0x10000 + below(r, 0x110000 - 0x10000);
    }
    unsigned char *u = (unsigned char *)out;
    if (bytes == 2) {
        u[0] = (unsigned char)(0xC0 | cp >> 6);
        u[1] = (unsigned char)(0x80 | (cp & 0x3F));
    } else if (bytes == 3) {
        u[0] = (unsigned char)(0xE0 | cp >> 12);
        u[1] = (unsigned char)(0x80 | (cp >> 6 & 0x3F));
        u[2] = (unsigned char)(0x80 | (cp & 0x3F));
    } else {
        u[0] = (unsigned char)(0xF0 | cp >> 18);
        u[1] = (unsigned char)(0x80 | (cp >> 12 & 0x3F));
        u[2] = (unsigned char)(0x80 | (cp >> 6 & 0x3F));
        u[3] = (unsigned char)(0x80 | (cp & 0x3F));
    }
    return (size_t)bytes;
}

/* Mostly short plain text, as in params; sometimes every kind of byte,
 * sometimes long. Writes at most 4 * max bytes; returns the length. */
static size_t gen_text(Rng *r, char *out, size_t max)
{
    unsigned shape = below(r, 100);
    size_t n = shape < 60 ? below(r, 17) : shape < 95 ? below(r, 80) : below(r, (unsigned)max);
    bool plain = below(r, 3) == 0;
    size_t len = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned k = plain ? 0 : below(r, 20);
        if (k < 12)
            out[len++] = (char)(0x20 + below(r, 0x5F)); /* printable incl. '"' '\\' */
        else if (k < 14)
            out[len++] = "\"\\/"[below(r, 3)];
        else if (k < 16)
            out[len++] = (char)(below(r, 8) == 0 ? 0x7F : below(r, 0x20)); /* NUL too */
        else
            len += put_utf8(r, out + len, 2 + (int)below(r, 3));
    }
    return len;
}

static json_t *gen_value(Rng *r, int depth, char *buf, size_t max);

static json_t *gen_container(Rng *r, int depth, char *buf, size_t max, bool object)
{
    json_t *c = object ? json_object() : json_array();
    unsigned n = below(r, 10) == 0 ? below(r, 40) : below(r, 8);
    json_t *last = NULL;
    for (unsigned i = 0; i < n; i++) {
        /* now and then the same value again: shared, not a cycle */
        json_t *v = last && below(r, 16) == 0 ? json_incref(last)
                                               : gen_value(r, depth + 1, buf, max);
        last = v;
        if (object) {
            size_t klen = below(r, 4) == 0 ? gen_text(r, buf, max)
                                           : (size_t)sprintf(buf, "k%u", below(r, 12));
            json_object_setn_new(c, buf, klen, v);
            if (below(r, 8) == 0) { /* a del (of a copy of the first key) as stored_form does */
                void *it = json_object_iter(c);
                size_t first_len = json_object_iter_key_len(it);
                memcpy(buf, json_object_iter_key(it), first_len);
                json_object_deln(c, buf, first_len);
                last = NULL; /* it may have been the one deleted */
            }
        } else {
            json_array_append_new(c, v);
        }
    }
    return c;
}

static json_t *gen_real(Rng *r)
{
    switch (below(r, 4)) {
    case 0: return json_real((double)(int)below(r, 2000) / 8 - 100);
    case 1: return json_real(below(r, 2) ? -0.0 : 0.1);
    default: {
        uint64_t bits = next(r);
        double d;
        memcpy(&d, &bits, sizeof(d));
        return json_real(isfinite(d) ? d : 1e-3);
    }
    }
}

static json_t *gen_integer(Rng *r)
{
    static const json_int_t edges[] = {INT64_MIN, INT64_MIN + 1, INT64_MAX, 0, -1, 9, 10, 99, 100};
    switch (below(r, 4)) {
    case 0: return json_integer(edges[below(r, sizeof(edges) / sizeof(edges[0]))]);
    case 1: return json_integer((json_int_t)next(r));
    case 2: return json_integer((json_int_t)(next(r) >> below(r, 64)));
    default: return json_integer((json_int_t)below(r, 2001) - 1000);
    }
}

static json_t *gen_value(Rng *r, int depth, char *buf, size_t max)
{
    unsigned k = below(r, depth < 5 ? 12 : 8);
    switch (k) {
    case 0: return json_null();
    case 1: return json_boolean(below(r, 2));
    case 2: return gen_integer(r);
    case 3: return gen_real(r);
    case 4:
    case 5:
    case 6:
    case 7: {
        size_t len = gen_text(r, buf, max);
        json_t *s = json_stringn(buf, len);
        ck_assert_ptr_nonnull(s);
        return s;
    }
    case 8:
    case 9: return gen_container(r, depth, buf, max, true);
    default: return gen_container(r, depth, buf, max, false);
    }
}

START_TEST(random_values)
{
    enum { MAX_TEXT = 600 };
    static char buf[4 * MAX_TEXT + 16];
    Rng r = {20261123};
    /* any kind at the top: a scalar there must give NULL, as in jansson */
    for (int i = 0; i < 10000; i++) {
        json_t *v = gen_value(&r, 0, buf, MAX_TEXT);
        assert_same(v);
        json_decref(v);
    }
    /* and 20,000 containers at the top, which json_dumps writes out */
    for (int i = 0; i < 20000; i++) {
        json_t *v = gen_container(&r, 0, buf, MAX_TEXT, below(&r, 2) == 0);
        assert_same(v);
        json_decref(v);
    }
}
END_TEST

/* An event's params after stored_form: the shape the hot path sees. */
START_TEST(realistic_event_params)
{
    json_t *p = json_pack(
        "{s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:{s:i,s:[s,s]},s:b,s:i}", "event_id",
        "0b9e8d36-3f5e-4c6a-9a55-6f1d2c7e8a41", "call_id", "c-20261123-101500-000123", "at",
        "2026-11-23T10:15:00.123+01:00", "queue", "wijkverpleging-noord", "channel", "voice",
        "direction", "inbound", "agent", "a.jansen", "location", "utrecht", "caller_key",
        "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08", "extra_vendor_field",
        "x", 1, "tags", "a", "b", "caller_withheld", 0, "wait_ms", 48213);
    json_object_set_new(p, "note", json_string("terugbellen \"na 14:00\"\nmevr. M\xC3\xBCller"));
    char *got = json_compact(p);
    ck_assert_str_eq(got,
                     "{\"event_id\":\"0b9e8d36-3f5e-4c6a-9a55-6f1d2c7e8a41\","
                     "\"call_id\":\"c-20261123-101500-000123\","
                     "\"at\":\"2026-11-23T10:15:00.123+01:00\","
                     "\"queue\":\"wijkverpleging-noord\",\"channel\":\"voice\","
                     "\"direction\":\"inbound\",\"agent\":\"a.jansen\",\"location\":\"utrecht\","
                     "\"caller_key\":"
                     "\"9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08\","
                     "\"extra_vendor_field\":{\"x\":1,\"tags\":[\"a\",\"b\"]},"
                     "\"caller_withheld\":false,\"wait_ms\":48213,"
                     "\"note\":\"terugbellen \\\"na 14:00\\\"\\nmevr. M\xC3\xBCller\"}");
    free(got);
    assert_same(p);
    json_decref(p);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("json_compact");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, every_escape);
    tcase_add_test(tc, all_control_characters);
    tcase_add_test(tc, embedded_nul);
    tcase_add_test(tc, multibyte_utf8);
    tcase_add_test(tc, empty_values);
    tcase_add_test(tc, nesting_20_deep);
    tcase_add_test(tc, integers_at_the_edges);
    tcase_add_test(tc, reals);
    tcase_add_test(tc, top_level_non_containers);
    tcase_add_test(tc, invalid_utf8_value_fails_as_in_jansson);
    tcase_add_test(tc, invalid_utf8_key_as_in_jansson);
    tcase_add_test(tc, cycles_fail_shared_values_do_not);
    tcase_add_test(tc, order_after_deletes_and_sets);
    tcase_add_test(tc, long_values);
    tcase_add_test(tc, random_values);
    tcase_add_test(tc, realistic_event_params);
    suite_add_tcase(s, tc);
    return unit_run(s);
}
