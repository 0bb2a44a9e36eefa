/* json_dumps(v, JSON_COMPACT) without jansson's overheads. The rules are
 * jansson 2.14's (src/dump.c): objects in json_object_iter order (the
 * order json_dumps walks without JSON_SORT_KEYS), "," and ":" with no
 * spaces; in strings and keys '"', '\\' and the controls below 0x20 are
 * escaped, \b \f \n \r \t in short form and the others as \u00XX in
 * upper-case hex, while DEL and every non-ASCII byte is copied as it is;
 * a string value that is not valid UTF-8 (json_string_nocheck) or a
 * container inside itself makes the whole dump fail (an invalid key does
 * not: see put_string); integers as "%lld"; reals are left to jansson,
 * they are rare.
 *
 * The output goes to a stack area first and is copied once into an
 * exact-size allocation at the end, as json_dumps's own strdup does: a
 * typical event's params cost one malloc. A longer value moves to the
 * heap and doubles from there. */
#include "json_compact.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "utf8.h"

/* Event params are 300-400 bytes; a few KiB of stack is harmless here. */
#define OUT_STACK 2048

typedef struct Out {
    char *base; /* stack or heap, whichever holds the output */
    char *p;    /* next byte to write */
    char *end;  /* end of base's capacity */
    bool on_heap;
    char stack[OUT_STACK];
} Out;

/* The containers being written, innermost first: json_dumps fails on a
 * container found inside itself, and so must we (or recurse forever). A
 * chain on the C stack costs no allocation; params are a few levels deep. */
typedef struct Open {
    const json_t *v;
    const struct Open *up;
} Open;

static bool put_value(Out *o, const json_t *v, const Open *up);

static void out_init(Out *o)
{
    o->base = o->p = o->stack;
    o->end = o->stack + sizeof(o->stack);
    o->on_heap = false;
}

/* Slow path of out_room: double the capacity until n more bytes fit,
 * leaving the stack area on the first growth. */
static bool out_grow(Out *o, size_t n)
{
    size_t used = (size_t)(o->p - o->base);
    size_t cap = (size_t)(o->end - o->base);
    if (n > SIZE_MAX / 2 - used)
        return false;
    while (cap - used < n)
        cap *= 2;
    char *nb;
    if (o->on_heap) {
        nb = realloc(o->base, cap);
    } else {
        nb = malloc(cap);
        if (nb)
            memcpy(nb, o->base, used);
    }
    if (!nb)
        return false;
    o->base = nb;
    o->p = nb + used;
    o->end = nb + cap;
    o->on_heap = true;
    return true;
}

/* Room for n more bytes; writers check once and then store directly. */
static inline bool out_room(Out *o, size_t n)
{
    return (size_t)(o->end - o->p) >= n || out_grow(o, n);
}

static inline bool put_char(Out *o, char c)
{
    if (!out_room(o, 1))
        return false;
    *o->p++ = c;
    return true;
}

static bool put_bytes(Out *o, const char *s, size_t n)
{
    if (!out_room(o, n))
        return false;
    memcpy(o->p, s, n);
    o->p += n;
    return true;
}

static void out_free(Out *o)
{
    if (o->on_heap)
        free(o->base);
}

/* The finished, NUL-terminated text in an allocation of its own size. */
static char *out_take(Out *o)
{
    if (!put_char(o, '\0')) {
        out_free(o);
        return NULL;
    }
    size_t len = (size_t)(o->p - o->base);
    if (o->on_heap) {
        char *r = realloc(o->base, len); /* only gives back the slack */
        return r ? r : o->base;
    }
    char *r = malloc(len);
    if (r)
        memcpy(r, o->base, len);
    return r;
}

/* Whether a string byte goes out unchanged without a further look: printable
 * ASCII except the two that JSON escapes. DEL (0x7F) is one; jansson leaves it. */
static inline bool plain_byte(unsigned char c)
{
    return c >= 0x20 && c < 0x80 && c != '"' && c != '\\';
}

/* plain_byte for eight bytes at once (exact, not an estimate). Per byte:
 * (b - k) & ~b has the high bit set where b < k, and with k = 1 applied
 * to b ^ '"' and b ^ '\\' it flags those two; b itself flags >= 0x80. The
 * lowest offending byte is always flagged, as no borrow reaches it, and
 * a clean word borrows nowhere, so the test is exact for the whole word. */
static inline bool word_plain(uint64_t x)
{
    const uint64_t ones = 0x0101010101010101u, high = ones * 0x80;
    uint64_t q = x ^ (ones * '"'), b = x ^ (ones * '\\');
    uint64_t bad = ((x - ones * 0x20) & ~x) | ((q - ones) & ~q) | ((b - ones) & ~b) | x;
    return (bad & high) == 0;
}

static inline uint64_t load8(const unsigned char *s)
{
    uint64_t x;
    memcpy(&x, s, sizeof(x));
    return x;
}

/* Four bytes as a word for word_plain, the other four filled with 'a'. */
static inline uint64_t load4(const unsigned char *s)
{
    uint32_t x;
    memcpy(&x, s, sizeof(x));
    return 0x6161616100000000u | x;
}

/* How many bytes from s on are plain_byte: a word at a time, since most
 * values (ids, names, timestamps, hex keys) are nothing else. The last
 * partial word is tested by reading the final 8 (or, for a short string,
 * the first and last 4) bytes again, overlapping what was already seen:
 * no byte-by-byte tail, and no read outside the string. */
static size_t plain_run(const unsigned char *s, size_t n)
{
    size_t i = 0;
    while (n - i >= 8 && word_plain(load8(s + i)))
        i += 8;
    /* the loop got within 8 of the end only if every word was clean */
    if (n - i < 8 && n >= 8 && word_plain(load8(s + n - 8)))
        return n;
    if (n >= 4 && n < 8 && word_plain(load4(s)) && word_plain(load4(s + n - 4)))
        return n;
    while (i < n && plain_byte(s[i]))
        i++;
    return i;
}

/* Writes the escape for '"', '\\' or a control byte at p (room for 6
 * assured) and returns the end. The short forms are jansson's; the rest
 * are \u00XX with upper-case hex, as its "\\u%04X" makes them. */
static char *put_escape(char *p, unsigned char c)
{
    static const char hex[] = "0123456789ABCDEF";
    char letter = 0;
    switch (c) {
    case '"': letter = '"'; break;
    case '\\': letter = '\\'; break;
    case '\b': letter = 'b'; break;
    case '\f': letter = 'f'; break;
    case '\n': letter = 'n'; break;
    case '\r': letter = 'r'; break;
    case '\t': letter = 't'; break;
    default: break;
    }
    *p++ = '\\';
    if (letter) {
        *p++ = letter;
        return p;
    }
    memcpy(p, "u00", 3);
    p[3] = hex[c >> 4];
    p[4] = hex[c & 0x0F];
    return p + 5;
}

/* A quoted string (value or key) of n bytes, NULs included. Bytes that
 * need no escape are copied in runs with one memcpy each; a non-ASCII
 * character is checked as jansson checks it and stays in the run.
 * Invariant: room for the rest of the input unescaped plus the closing
 * quote, so only an escape (1 byte in, up to 6 out) needs a new check.
 *
 * Invalid UTF-8 fails a value, as in json_dumps. In a key (only
 * json_object_set*_nocheck makes one) jansson 2.14 ignores the failure of
 * its dump_string: the key stops after its last escape, with no closing
 * quote, and the dump goes on. We write the same bytes, deliberately:
 * this function promises json_dumps's output, not valid JSON. */
static bool put_string(Out *o, const char *str, size_t n, bool key)
{
    const unsigned char *s = (const unsigned char *)str, *end = s + n, *run = s;
    if (!out_room(o, n + 2))
        return false;
    *o->p++ = '"';
    for (;;) {
        s += plain_run(s, (size_t)(end - s));
        if (s == end)
            break;
        if (*s >= 0x80) {
            size_t len = utf8_char_len(s, (size_t)(end - s));
            if (len == 0)
                return key; /* the pending run is dropped, as jansson drops it */
            s += len;
            continue;
        }
        memcpy(o->p, run, (size_t)(s - run));
        o->p += s - run;
        if (!out_room(o, 6 + (size_t)(end - s - 1) + 1))
            return false;
        o->p = put_escape(o->p, *s++);
        run = s;
    }
    memcpy(o->p, run, (size_t)(s - run));
    o->p += s - run;
    *o->p++ = '"';
    return true;
}

/* Two digits at a time, as the division is what costs. */
static const char digit_pairs[] = "0001020304050607080910111213141516171819"
                                  "2021222324252627282930313233343536373839"
                                  "4041424344454647484950515253545556575859"
                                  "6061626364656667686970717273747576777879"
                                  "8081828384858687888990919293949596979899";

/* An integer as "%lld" prints it. The magnitude is taken unsigned, so
 * INT64_MIN needs no special case. */
static bool put_integer(Out *o, json_int_t i)
{
    char tmp[24];
    char *q = tmp + sizeof(tmp);
    unsigned long long u = i < 0 ? 0ULL - (unsigned long long)i : (unsigned long long)i;
    while (u >= 100) {
        size_t d = (size_t)(u % 100);
        u /= 100;
        q -= 2;
        memcpy(q, digit_pairs + 2 * d, 2);
    }
    if (u >= 10) {
        q -= 2;
        memcpy(q, digit_pairs + 2 * u, 2);
    } else {
        *--q = (char)('0' + u);
    }
    if (i < 0)
        *--q = '-';
    return put_bytes(o, q, (size_t)(tmp + sizeof(tmp) - q));
}

/* Reals are rare in params and their shortest round-trip form is subtle:
 * jansson formats them itself, into a stack buffer (it needs < 100 bytes). */
static bool put_real(Out *o, const json_t *v)
{
    char tmp[128];
    size_t n = json_dumpb(v, tmp, sizeof(tmp), JSON_COMPACT | JSON_ENCODE_ANY);
    if (n == 0 || n > sizeof(tmp))
        return false;
    return put_bytes(o, tmp, n);
}

static bool is_open(const json_t *v, const Open *up)
{
    for (; up; up = up->up)
        if (up->v == v)
            return true;
    return false;
}

static bool put_array(Out *o, const json_t *a, const Open *up)
{
    if (is_open(a, up))
        return false;
    const Open self = {a, up};
    size_t n = json_array_size(a);
    if (!put_char(o, '['))
        return false;
    for (size_t i = 0; i < n; i++) {
        if (i > 0 && !put_char(o, ','))
            return false;
        if (!put_value(o, json_array_get(a, i), &self))
            return false;
    }
    return put_char(o, ']');
}

/* Keys by json_object_iter, the walk json_dumps makes (insertion order in
 * 2.14), each with its length: a key may hold a NUL (json_object_setn). */
static bool put_object(Out *o, const json_t *obj, const Open *up)
{
    if (is_open(obj, up))
        return false;
    const Open self = {obj, up};
    json_t *mobj = (json_t *)obj; /* jansson's iterators take non-const */
    if (!put_char(o, '{'))
        return false;
    bool first = true;
    for (void *it = json_object_iter(mobj); it; it = json_object_iter_next(mobj, it)) {
        if (!first && !put_char(o, ','))
            return false;
        first = false;
        if (!put_string(o, json_object_iter_key(it), json_object_iter_key_len(it), true) ||
            !put_char(o, ':') || !put_value(o, json_object_iter_value(it), &self))
            return false;
    }
    return put_char(o, '}');
}

static bool put_value(Out *o, const json_t *v, const Open *up)
{
    if (!v)
        return false;
    switch (json_typeof(v)) {
    case JSON_OBJECT: return put_object(o, v, up);
    case JSON_ARRAY: return put_array(o, v, up);
    case JSON_STRING:
        return put_string(o, json_string_value(v), json_string_length(v), false);
    case JSON_INTEGER: return put_integer(o, json_integer_value(v));
    case JSON_REAL: return put_real(o, v);
    case JSON_TRUE: return put_bytes(o, "true", 4);
    case JSON_FALSE: return put_bytes(o, "false", 5);
    case JSON_NULL: return put_bytes(o, "null", 4);
    }
    return false;
}

char *json_compact(const json_t *v)
{
    /* Without JSON_ENCODE_ANY json_dumps takes only a container. */
    if (!json_is_object(v) && !json_is_array(v))
        return NULL;
    Out o;
    out_init(&o);
    if (!put_value(&o, v, NULL)) {
        out_free(&o);
        return NULL;
    }
    return out_take(&o);
}
