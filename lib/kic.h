/* Small shared definitions for every layer of kicd: result checking and
 * array helpers. Kept tiny on purpose; anything with meaning lives in the
 * module that owns it. */
#ifndef KIC_H
#define KIC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Fallible functions return bool (true = success) and must be checked. */
#define KIC_MUST_CHECK __attribute__((warn_unused_result))
#define KIC_PRINTF(fmt, args) __attribute__((format(printf, fmt, args)))
#define KIC_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* Longest string a client may put in any identifier or name field, in
 * characters (as JSON Schema's maxLength and PostgreSQL's length() count
 * them), and the most bytes of UTF-8 that many characters take: the size
 * of a buffer that holds one (plus its NUL). */
#define KIC_MAX_FIELD 256
#define KIC_MAX_FIELD_BYTES (4 * KIC_MAX_FIELD)

#endif
