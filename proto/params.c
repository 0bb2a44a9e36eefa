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

bool check_string_value(json_t *v, const char *name, size_t max_len, RpcError *err)
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
    return true;
}

bool param_string(json_t *params, const char *name, bool required, size_t max_len,
                  const char **out, RpcError *err)
{
    json_t *v = json_object_get(params, name);
    *out = NULL;
    if (missing(v, name, required, err))
        return !required;
    if (!check_string_value(v, name, max_len, err))
        return false;
    *out = json_string_value(v);
    return true;
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

bool param_int(json_t *params, const char *name, bool required, long long min, long long max,
               long long *out, RpcError *err)
{
    json_t *v = json_object_get(params, name);
    if (missing(v, name, required, err))
        return !required;
    if (!json_is_integer(v) || json_integer_value(v) < min || json_integer_value(v) > max) {
        char reason[96];
        snprintf(reason, sizeof(reason), "must be a whole number from %lld to %lld", min, max);
        rpc_error_field(err, name, reason);
        return false;
    }
    *out = json_integer_value(v);
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
        if (!check_string_value(item, name, max_len, err))
            return false;
    }
    *out = v;
    return true;
}
