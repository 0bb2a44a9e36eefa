/* Recursive descent over the bytes, building jansson values as it goes
 * (see json_quick.h). What it accepts it must accept exactly as jansson
 * 2.14 (src/load.c) does; whatever it is unsure of it gives up on, and
 * jansson reads the text instead. So:
 *   - whitespace is space, tab, newline and carriage return;
 *   - a string is bytes up to the closing quote, valid UTF-8 as jansson
 *     checks it (lib/utf8), with no control character below 0x20 (an
 *     error in jansson) and no backslash (escapes are left to jansson);
 *   - an integer is -?(0|[1-9][0-9]*) of at most 18 digits, so it fits in
 *     a json_int_t; a fraction or exponent (a real) is left to jansson;
 *   - a key met twice in one object is an error (JSON_REJECT_DUPLICATES);
 *   - after the value only whitespace may follow (JSON_DECODE_ANY takes
 *     any value at the top, not only a container). */
#include "json_quick.h"

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "utf8.h"

#define MAX_INT_DIGITS 18

typedef struct Reader {
    const unsigned char *p;
    const unsigned char *end;
    int depth_left; /* containers that may still open */
} Reader;

static json_t *read_value(Reader *r);

static void skip_space(Reader *r)
{
    while (r->p < r->end && (*r->p == ' ' || *r->p == '\n' || *r->p == '\r' || *r->p == '\t'))
        r->p++;
}

/* Past the opening quote: the string's bytes up to (not including) the
 * closing quote, which is consumed; false if it is not a plain string. */
static bool read_string_bytes(Reader *r, const char **s, size_t *len)
{
    const unsigned char *start = r->p;
    while (r->p < r->end) {
        unsigned char c = *r->p;
        if (c == '"') {
            *s = (const char *)start;
            *len = (size_t)(r->p - start);
            r->p++;
            return true;
        }
        if (c == '\\' || c < 0x20)
            return false;
        if (c < 0x80) {
            r->p++;
        } else {
            size_t n = utf8_char_len(r->p, (size_t)(r->end - r->p));
            if (n == 0)
                return false;
            r->p += n;
        }
    }
    return false; /* unterminated */
}

static json_t *read_string(Reader *r)
{
    const char *s;
    size_t len;
    if (!read_string_bytes(r, &s, &len))
        return NULL;
    return json_stringn_nocheck(s, len); /* checked above */
}

static json_t *read_integer(Reader *r)
{
    bool negative = false;
    if (*r->p == '-') {
        negative = true;
        r->p++;
    }
    const unsigned char *digits = r->p;
    while (r->p < r->end && *r->p >= '0' && *r->p <= '9')
        r->p++;
    size_t n = (size_t)(r->p - digits);
    if (n == 0 || n > MAX_INT_DIGITS || (digits[0] == '0' && n > 1))
        return NULL;
    if (r->p < r->end && (*r->p == '.' || *r->p == 'e' || *r->p == 'E'))
        return NULL; /* a real */
    json_int_t v = 0; /* 18 digits cannot overflow */
    for (size_t i = 0; i < n; i++)
        v = v * 10 + (digits[i] - '0');
    return json_integer(negative ? -v : v);
}

/* true, false or null, spelled out in full. */
static json_t *read_literal(Reader *r, const char *word, size_t len, json_t *value)
{
    if ((size_t)(r->end - r->p) < len || memcmp(r->p, word, len) != 0)
        return NULL;
    r->p += len;
    return value;
}

static json_t *read_object(Reader *r)
{
    json_t *obj = json_object();
    if (!obj)
        return NULL;
    skip_space(r);
    if (r->p < r->end && *r->p == '}') {
        r->p++;
        return obj;
    }
    for (;;) {
        const char *key;
        size_t klen;
        if (r->p == r->end || *r->p != '"')
            break;
        r->p++;
        if (!read_string_bytes(r, &key, &klen) || json_object_getn(obj, key, klen))
            break; /* an escape, or a duplicate key */
        skip_space(r);
        if (r->p == r->end || *r->p != ':')
            break;
        r->p++;
        json_t *v = read_value(r);
        if (!v || json_object_setn_new_nocheck(obj, key, klen, v) != 0)
            break;
        skip_space(r);
        if (r->p < r->end && *r->p == '}') {
            r->p++;
            return obj;
        }
        if (r->p == r->end || *r->p != ',')
            break;
        r->p++;
        skip_space(r);
    }
    json_decref(obj);
    return NULL;
}

static json_t *read_array(Reader *r)
{
    json_t *arr = json_array();
    if (!arr)
        return NULL;
    skip_space(r);
    if (r->p < r->end && *r->p == ']') {
        r->p++;
        return arr;
    }
    for (;;) {
        json_t *v = read_value(r);
        if (!v || json_array_append_new(arr, v) != 0)
            break;
        skip_space(r);
        if (r->p < r->end && *r->p == ']') {
            r->p++;
            return arr;
        }
        if (r->p == r->end || *r->p != ',')
            break;
        r->p++;
    }
    json_decref(arr);
    return NULL;
}

static json_t *read_container(Reader *r, json_t *(*read)(Reader *))
{
    if (r->depth_left == 0)
        return NULL;
    r->depth_left--;
    r->p++;
    json_t *v = read(r);
    r->depth_left++;
    return v;
}

static json_t *read_value(Reader *r)
{
    skip_space(r);
    if (r->p == r->end)
        return NULL;
    switch (*r->p) {
    case '{':
        return read_container(r, read_object);
    case '[':
        return read_container(r, read_array);
    case '"':
        r->p++;
        return read_string(r);
    case 't':
        return read_literal(r, "true", 4, json_true());
    case 'f':
        return read_literal(r, "false", 5, json_false());
    case 'n':
        return read_literal(r, "null", 4, json_null());
    default:
        if (*r->p == '-' || (*r->p >= '0' && *r->p <= '9'))
            return read_integer(r);
        return NULL;
    }
}

json_t *json_quick_load(const char *text, size_t len, int max_depth)
{
    if (max_depth > JSON_MAX_CONTAINERS)
        max_depth = JSON_MAX_CONTAINERS;
    Reader r = {(const unsigned char *)text, (const unsigned char *)text + len, max_depth};
    json_t *v = read_value(&r);
    if (!v)
        return NULL;
    skip_space(&r);
    if (r.p != r.end) {
        json_decref(v);
        return NULL;
    }
    return v;
}
