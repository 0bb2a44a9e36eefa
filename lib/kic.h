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

/* Longest string a client may put in any identifier or name field. */
#define KIC_MAX_FIELD 256

#endif
