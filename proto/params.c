/* Parameter getters: type, presence, length, enum and time checks. */
#include "params.h"

#include <stdio.h>
#include <string.h>

#include "utf8.h"

static bool missing(json_t *v, const char *name, bool required, RpcError *err)
{
    if (v)
        return false;
    if (required)
        rpc_error_field(err, name, "is required");
    return true;
}

/* Short strings are ids, names and codes: they end up in logs, CSV
 * exports and other people's screens, where a line break or an escape
 * sequence does harm and a blank name means nothing. Notes (longer
 * limits) may hold line breaks. */
const char *param_short_text_problem(const char *s)
{
    bool blank = true;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p < 0x20 || *p == 0x7f)
            return "must not contain control characters";
        blank = blank && *p == ' ';
    }
    return blank ? "must not be blank" : NULL;
}

const char *param_user_name_problem(const char *name)
{
    if (strncmp(name, USER_NAME_RESERVED_PREFIX, strlen(USER_NAME_RESERVED_PREFIX)) == 0)
        return "must not begin with 'kicctl:' (the audit log's name for kicctl's operators)";
    return param_short_text_problem(name);
}

static bool short_text_ok(const char *s, const char *name, RpcError *err)
{
    const char *problem = param_short_text_problem(s);
    if (problem)
        rpc_error_field(err, name, problem);
    return !problem;
}

static bool get_string(json_t *params, const char *name, bool required, size_t max_len,
                       bool short_rule, const char **out, RpcError *err);

static bool check_string(json_t *v, const char *name, size_t max_len, bool short_rule,
                         RpcError *err)
{
    if (!json_is_string(v)) {
        rpc_error_field(err, name, "must be a string");
        return false;
    }
    size_t len = json_string_length(v);
    const char *s = json_string_value(v);
    char reason[64];
    if (len == 0) {
        rpc_error_field(err, name, "must not be empty");
        return false;
    }
    /* jansson holds valid UTF-8 only; a string of no more bytes than the
     * limit has no more characters either */
    if (len > max_len && utf8_count(s, len) > max_len) {
        snprintf(reason, sizeof(reason), "must be at most %zu characters", max_len);
        rpc_error_field(err, name, reason);
        return false;
    }
    if (strlen(s) != len) {
        rpc_error_field(err, name, "must not contain NUL characters");
        return false;
    }
    if (short_rule && max_len <= KIC_MAX_FIELD && !short_text_ok(s, name, err))
        return false;
    return true;
}

bool param_check_string(json_t *v, const char *name, size_t max_len, RpcError *err)
{
    return check_string(v, name, max_len, true, err);
}

static bool get_string(json_t *params, const char *name, bool required, size_t max_len,
                       bool short_rule, const char **out, RpcError *err)
{
    json_t *v = json_object_get(params, name);
    *out = NULL;
    if (missing(v, name, required, err))
        return !required;
    if (!check_string(v, name, max_len, short_rule, err))
        return false;
    *out = json_string_value(v);
    return true;
}

bool param_string_any(json_t *params, const char *name, bool required, size_t max_len,
                      const char **out, RpcError *err)
{
    return get_string(params, name, required, max_len, false, out, err);
}

bool param_string(json_t *params, const char *name, bool required, size_t max_len,
                  const char **out, RpcError *err)
{
    return get_string(params, name, required, max_len, true, out, err);
}

bool param_bool(json_t *params, const char *name, bool required, bool *out, bool *present,
                RpcError *err)
{
    json_t *v = json_object_get(params, name);
    if (present)
        *present = v != NULL;
    if (missing(v, name, required, err))
        return !required;
    if (!json_is_boolean(v)) {
        rpc_error_field(err, name, "must be true or false");
        return false;
    }
    *out = json_is_true(v);
    return true;
}

bool param_enum(json_t *params, const char *name, bool required, const char *const *values,
                int *out, RpcError *err)
{
    json_t *v = json_object_get(params, name);
    *out = -1;
    if (missing(v, name, required, err))
        return !required;
    if (json_is_string(v) && strlen(json_string_value(v)) == json_string_length(v)) {
        for (int i = 0; values[i]; i++) {
            if (strcmp(json_string_value(v), values[i]) == 0) {
                *out = i;
                return true;
            }
        }
    }
    char reason[200];
    size_t n = (size_t)snprintf(reason, sizeof(reason), "must be one of");
    for (int i = 0; values[i] && n < sizeof(reason); i++)
        n += (size_t)snprintf(reason + n, sizeof(reason) - n, "%s %s", i ? "," : "", values[i]);
    rpc_error_field(err, name, reason);
    return false;
}

bool param_time(json_t *params, const char *name, bool required, KicTime *out, RpcError *err)
{
    json_t *v = json_object_get(params, name);
    *out = KIC_TIME_NONE;
    if (missing(v, name, required, err))
        return !required;
    if (!json_is_string(v) || json_string_length(v) > 64 ||
        strlen(json_string_value(v)) != json_string_length(v) ||
        !time_parse_rfc3339(json_string_value(v), out)) {
        *out = KIC_TIME_NONE;
        rpc_error_field(err, name, "must be an RFC 3339 time with offset");
        return false;
    }
    return true;
}

/* 1000, 1e3 and 1000.0 are one number: JSON Schema's "integer" (and a
 * client's float arithmetic) says so. Beyond 2^53 a double is not exact. */
static bool whole_number(json_t *v, long long *out)
{
    if (json_is_integer(v)) {
        *out = json_integer_value(v);
        return true;
    }
    if (!json_is_real(v))
        return false;
    double x = json_real_value(v);
    if (!(x >= -9007199254740992.0 && x <= 9007199254740992.0) || (double)(long long)x != x)
        return false;
    *out = (long long)x;
    return true;
}

bool param_int(json_t *params, const char *name, bool required, long long min, long long max,
               long long *out, RpcError *err)
{
    json_t *v = json_object_get(params, name);
    if (missing(v, name, required, err))
        return !required;
    long long n;
    if (!whole_number(v, &n) || n < min || n > max) {
        char reason[96];
        snprintf(reason, sizeof(reason), "must be a whole number from %lld to %lld", min, max);
        rpc_error_field(err, name, reason);
        return false;
    }
    *out = n;
    return true;
}

bool param_string_list(json_t *params, const char *name, bool required, size_t max_items,
                       size_t max_len, json_t **out, RpcError *err)
{
    json_t *v = json_object_get(params, name);
    *out = NULL;
    if (missing(v, name, required, err))
        return !required;
    if (!json_is_array(v) || json_array_size(v) > max_items) {
        char reason[96];
        snprintf(reason, sizeof(reason), "must be a list of at most %zu strings", max_items);
        rpc_error_field(err, name, reason);
        return false;
    }
    size_t i;
    json_t *item;
    json_array_foreach(v, i, item)
    {
        if (!param_check_string(item, name, max_len, err))
            return false;
    }
    *out = v;
    return true;
}
