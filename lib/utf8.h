/* UTF-8 as jansson accepts it (RFC 3629: no overlong forms, no
 * surrogates, nothing above U+10FFFF). Text that kicd composes from
 * client input (an error message quoting an id, cut to a buffer's size)
 * must stay valid, or the JSON encoder refuses it. */
#ifndef UTF8_H
#define UTF8_H

#include <stddef.h>

/* Length of the valid character starting at s (at most n bytes); 0 when
 * the bytes there are not one. */
size_t utf8_char_len(const unsigned char *s, size_t n);

/* Makes s valid in place: a character cut off at the end (text cut to a
 * buffer's size) is dropped, so the text ends on a character boundary;
 * any other byte that starts no valid character becomes '?'. */
void utf8_scrub(char *s);

/* Characters in n bytes of valid UTF-8 (bytes that start one). */
size_t utf8_count(const char *s, size_t n);

#endif
