/* Fuzz target: the parameter getters every method uses (proto/params.c).
 * Input: 12 bytes of getter settings (required flags, limits), then the
 * params JSON; each getter reads its own member ("s", "b", "e", "t", "i",
 * "l", "v"). */
#include <limits.h>
#include <string.h>

#include "fuzz.h"
#include "params.h"
#include "utf8.h"

#define PARSE_FLAGS (JSON_REJECT_DUPLICATES | JSON_DECODE_ANY | JSON_ALLOW_NUL)

/* Invariants: success means the value keeps the getter's promise (length,
 * no NUL, range, one of the names, a time that formats and parses back to
 * itself) and absent optional members leave the documented outputs;
 * failure is a -32602 naming that member, with a reason, in a reply that
 * is valid JSON. */
static void check_refusal(RpcError *err, const char *name)
{
    FUZZ_CHECK(err->code == RPC_INVALID_PARAMS, "%s refused with %d", name, err->code);
    const char *field = json_string_value(json_object_get(err->data, "field"));
    FUZZ_CHECK(field && strcmp(field, name) == 0, "%s refused naming '%s'", name,
               field ? field : "(none)");
    FUZZ_CHECK(json_is_string(json_object_get(err->data, "reason")), "%s: no reason", name);
    char *text = rpc_error_text("1", err);
    FUZZ_CHECK(text, "%s: no reply built", name);
    json_t *r = json_loads(text, 0, NULL);
    FUZZ_CHECK(r, "%s: reply is not JSON: %s", name, text);
    json_decref(r);
    free(text);
    rpc_error_clear(err);
}

/* Characters of valid UTF-8, counted by decoding each one. */
static size_t characters(const char *s, size_t len)
{
    size_t n = 0;
    for (size_t i = 0; i < len; n++) {
        size_t w = utf8_char_len((const unsigned char *)s + i, len - i);
        FUZZ_CHECK(w > 0, "accepted invalid UTF-8 at byte %zu", i);
        i += w;
    }
    return n;
}

/* The limit is in characters (a character is at most 4 bytes). */
static void check_string(json_t *v, const char *s, size_t max_len, const char *name)
{
    FUZZ_CHECK(json_is_string(v), "%s: accepted a non-string", name);
    size_t len = json_string_length(v);
    size_t chars = characters(json_string_value(v), len);
    FUZZ_CHECK(chars >= 1 && chars <= max_len && len <= 4 * max_len,
               "%s: accepted %zu characters, %zu bytes (max %zu characters)", name, chars, len,
               max_len);
    FUZZ_CHECK(!s || (strlen(s) == len && memcmp(s, json_string_value(v), len) == 0),
               "%s: value differs", name);
}

/* Short strings (every limit here is below KIC_MAX_FIELD) are ids and
 * names: never blank, never a control character. */
static void check_short_text(json_t *v, const char *name)
{
    const unsigned char *p = (const unsigned char *)json_string_value(v);
    bool blank = true;
    for (size_t i = 0; i < json_string_length(v); i++) {
        FUZZ_CHECK(p[i] >= 0x20 && p[i] != 0x7f, "%s: accepted control character 0x%02x", name,
                   p[i]);
        blank = blank && p[i] == ' ';
    }
    FUZZ_CHECK(!blank, "%s: accepted a blank string", name);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 12)
        return 0;
    uint8_t req = data[0];
    size_t max_len = data[1];
    size_t max_items = data[2] % 16;
    size_t item_len = data[3] % 64;
    int32_t lo;
    uint32_t span;
    memcpy(&lo, data + 4, 4);
    memcpy(&span, data + 8, 4);
    long long min = lo, max = (long long)lo + span;
    if (req & 0x80) {
        min = LLONG_MIN;
        max = LLONG_MAX;
    }
    json_t *p = json_loadb((const char *)data + 12, size - 12, PARSE_FLAGS, NULL);
    if (!json_is_object(p)) {
        json_decref(p);
        p = NULL; /* params absent: the getters take NULL */
    }
    RpcError err = {0};

    const char *s = (const char *)1;
    json_t *v = json_object_get(p, "s");
    if (param_string(p, "s", req & 1, max_len, &s, &err)) {
        FUZZ_CHECK(v || !(req & 1), "s: required but absent, accepted");
        if (v) {
            check_string(v, s, max_len, "s");
            check_short_text(v, "s");
        }
        else
            FUZZ_CHECK(!s, "s: absent but set");
    } else {
        FUZZ_CHECK(!s, "s: refused but set");
        check_refusal(&err, "s");
    }

    bool b = false, present = false;
    v = json_object_get(p, "b");
    if (param_bool(p, "b", req & 2, &b, &present, &err)) {
        FUZZ_CHECK(present == (v != NULL), "b: present wrong");
        FUZZ_CHECK(!v || (json_is_boolean(v) && b == json_is_true(v)), "b: value wrong");
        FUZZ_CHECK(v || !(req & 2), "b: required but absent, accepted");
    } else {
        check_refusal(&err, "b");
    }

    static const char *const names[] = {"voice", "whatsapp", "email", "chat", NULL};
    int e = 99;
    v = json_object_get(p, "e");
    if (param_enum(p, "e", req & 4, names, &e, &err)) {
        if (v)
            FUZZ_CHECK(e >= 0 && e < 4 && json_is_string(v) &&
                           strcmp(json_string_value(v), names[e]) == 0 &&
                           json_string_length(v) == strlen(names[e]),
                       "e: index %d wrong", e);
        else
            FUZZ_CHECK(e == -1 && !(req & 4), "e: absent gave %d", e);
    } else {
        FUZZ_CHECK(e == -1, "e: refused but set");
        check_refusal(&err, "e");
    }

    KicTime t = 0;
    v = json_object_get(p, "t");
    if (param_time(p, "t", req & 8, &t, &err)) {
        if (v) {
            /* 1970-01-01 to 9999-12-31, offsets of up to a day either side */
            FUZZ_CHECK(t >= -86400 * KIC_USEC && t < 253402387200LL * KIC_USEC,
                       "t: out of range %lld", (long long)t);
            /* Our own format must parse back to the same instant. Only
             * for instants in 1970-9999 UTC: the limit is on the text's
             * year, so an accepted "1970-01-01T00:30:00+01:00" is an
             * instant that kicd cannot write in a form it reads back. */
            if (t >= 0 && t < 253402300800LL * KIC_USEC) {
                char text[40];
                KicTime back;
                time_format_db(t, text, sizeof(text));
                FUZZ_CHECK(time_parse_rfc3339(text, &back) && back == t,
                           "t: %lld formats as %s, which does not parse back", (long long)t,
                           text);
            }
        } else {
            FUZZ_CHECK(t == KIC_TIME_NONE && !(req & 8), "t: absent gave a time");
        }
    } else {
        FUZZ_CHECK(t == KIC_TIME_NONE, "t: refused but set");
        check_refusal(&err, "t");
    }

    long long i = 12345;
    v = json_object_get(p, "i");
    if (param_int(p, "i", req & 16, min, max, &i, &err)) {
        if (v)
            /* a whole number: an integer, or a real such as 1e3 or 1000.0 */
            FUZZ_CHECK(((json_is_integer(v) && i == json_integer_value(v)) ||
                        (json_is_real(v) && (double)i == json_real_value(v))) &&
                           i >= min && i <= max,
                       "i: %lld accepted outside [%lld, %lld]", i, min, max);
        else
            FUZZ_CHECK(i == 12345 && !(req & 16), "i: absent but changed");
    } else {
        check_refusal(&err, "i");
    }

    json_t *list = (json_t *)1;
    v = json_object_get(p, "l");
    if (param_string_list(p, "l", req & 32, max_items, item_len, &list, &err)) {
        if (v) {
            FUZZ_CHECK(list == v && json_is_array(v) && json_array_size(v) <= max_items,
                       "l: wrong list accepted");
            size_t k;
            json_t *item;
            json_array_foreach(v, k, item)
            {
                check_string(item, NULL, item_len, "l[]");
                check_short_text(item, "l[]");
            }
        } else {
            FUZZ_CHECK(!list && !(req & 32), "l: absent but set");
        }
    } else {
        FUZZ_CHECK(!list, "l: refused but set");
        check_refusal(&err, "l");
    }

    v = json_object_get(p, "v");
    if (v) {
        if (param_check_string(v, "v", max_len, &err))
            check_string(v, NULL, max_len, "v");
        else
            check_refusal(&err, "v");
    }
    json_decref(p);
    return 0;
}
