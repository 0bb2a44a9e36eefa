/* Typed access to request parameters with the contract's error reporting:
 * every failure is a -32602 naming the field (data.field) and the reason
 * (data.reason). Absent optional parameters leave the output unset and
 * succeed. Strings are at most max_len characters of UTF-8 (4 * max_len
 * bytes at most), never empty, and never contain NUL (PostgreSQL text
 * cannot hold it); short ones (ids, names: up to KIC_MAX_FIELD) are
 * neither blank nor hold control characters. */
#ifndef PARAMS_H
#define PARAMS_H

#include <jansson.h>

#include "jsonrpc.h"
#include "kictime.h"

/* What is wrong with a short string by the rule above (blank, or a
 * control character), or NULL: for tools that take such names too. */
const char *param_short_text_problem(const char *s);

/* The audit log names kicctl's operators "kicctl:<login>": what is wrong
 * with a user's name (such a name, or the short text rule), or NULL. */
#define USER_NAME_RESERVED_PREFIX "kicctl:"
const char *param_user_name_problem(const char *name);

/* *out = NULL when absent. */
bool param_string(json_t *params, const char *name, bool required, size_t max_len,
                  const char **out, RpcError *err) KIC_MUST_CHECK;

/* As param_string, without refusing blanks and control characters in
 * short strings: for values with a syntax of their own (a caller's
 * number may be blank, withheld, or use tabs as separators). */
bool param_string_any(json_t *params, const char *name, bool required, size_t max_len,
                      const char **out, RpcError *err) KIC_MUST_CHECK;

/* *present = whether given (may be NULL when required). */
bool param_bool(json_t *params, const char *name, bool required, bool *out, bool *present,
                RpcError *err) KIC_MUST_CHECK;

/* values: NULL-terminated list; *out = index, or -1 when absent. */
bool param_enum(json_t *params, const char *name, bool required, const char *const *values,
                int *out, RpcError *err) KIC_MUST_CHECK;

/* RFC 3339 with offset; *out = KIC_TIME_NONE when absent. */
bool param_time(json_t *params, const char *name, bool required, KicTime *out, RpcError *err)
    KIC_MUST_CHECK;

/* A whole number within [min, max]; *out untouched when absent. */
bool param_int(json_t *params, const char *name, bool required, long long min, long long max,
               long long *out, RpcError *err) KIC_MUST_CHECK;

/* An array of at most max_items strings (each as param_string checks);
 * *out is borrowed from params, NULL when absent. */
bool param_string_list(json_t *params, const char *name, bool required, size_t max_items,
                       size_t max_len, json_t **out, RpcError *err) KIC_MUST_CHECK;

/* The same checks on a bare string value (list items, nested fields). */
bool param_check_string(json_t *v, const char *name, size_t max_len, RpcError *err)
    KIC_MUST_CHECK;

#endif
