/* JSON-RPC 2.0 codec: message validation and response construction.
 * Replies are assembled as text around the already-serialised id, so a
 * reply can be built long after the request's json_t has been released. */
#include "jsonrpc.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "json_quick.h"
#include "strbuf.h"
#include "utf8.h"

const char *rpc_code_message(int code)
{
#define RPC_ERROR_CASE(name, num, msg) \
    case num:                          \
        return msg;
    switch (code) { RPC_ERRORS(RPC_ERROR_CASE) }
#undef RPC_ERROR_CASE
    return "error";
}

void rpc_error_set(RpcError *e, int code, const char *fmt, ...)
{
    e->code = code;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->message, sizeof(e->message), fmt, ap);
    va_end(ap);
    /* it may quote client input, cut at the buffer's end mid-character */
    utf8_scrub(e->message);
}

void rpc_error_field(RpcError *e, const char *field, const char *reason)
{
    rpc_error_set(e, RPC_INVALID_PARAMS, "invalid params: %s %s", field, reason);
    json_decref(e->data);
    e->data = json_pack("{s:s, s:s}", "field", field, "reason", reason);
}

void rpc_error_clear(RpcError *e)
{
    json_decref(e->data);
    memset(e, 0, sizeof(*e));
}

bool json_depth_ok(const char *text, size_t len, int max_depth)
{
    int depth = 0;
    bool in_string = false;
    for (size_t i = 0; i < len; i++) {
        char c = text[i];
        if (in_string) {
            if (c == '\\')
                i++;
            else if (c == '"')
                in_string = false;
        } else if (c == '"') {
            in_string = true;
        } else if (c == '[' || c == '{') {
            if (++depth > max_depth)
                return false;
        } else if (c == ']' || c == '}') {
            depth--;
        }
    }
    return true;
}

int json_value_depth(const json_t *v, int limit)
{
    if (!json_is_object(v) && !json_is_array(v))
        return 0;
    if (limit < 0)
        return 1;
    int deepest = 0;
    if (json_is_array(v)) {
        size_t i;
        const json_t *e;
        json_array_foreach(v, i, e) {
            int d = json_value_depth(e, limit - 1);
            if (d > deepest && (deepest = d) >= limit)
                break;
        }
    } else {
        const char *k;
        const json_t *e;
        json_object_foreach((json_t *)v, k, e) {
            int d = json_value_depth(e, limit - 1);
            if (d > deepest && (deepest = d) >= limit)
                break;
        }
    }
    return deepest + 1;
}

json_t *rpc_parse_line(const char *line, size_t len, RpcError *err)
{
    if (!json_depth_ok(line, len, JSON_MAX_CONTAINERS)) {
        rpc_error_set(err, RPC_INVALID_REQUEST, "invalid request: nested deeper than %d",
                      JSON_MAX_CONTAINERS);
        return NULL;
    }
    json_t *v = json_quick_load(line, len, JSON_MAX_CONTAINERS);
    if (v)
        return v;
    json_error_t jerr;
    /* NUL inside a string is valid JSON: accepted here, refused by the
     * parameter checks (params.c) with the field's name. */
    v = json_loadb(line, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY | JSON_ALLOW_NUL, &jerr);
    if (!v)
        rpc_error_set(err, RPC_PARSE_ERROR, "parse error: %s at column %d", jerr.text,
                      jerr.column);
    return v;
}

static bool valid_id(json_t *id)
{
    return json_is_string(id) || json_is_number(id) || json_is_null(id);
}

bool rpc_request_parse(json_t *msg, int max_depth, RpcRequest *req, json_t **id_out,
                       RpcError *err)
{
    *id_out = NULL;
    if (!json_is_object(msg)) {
        rpc_error_set(err, RPC_INVALID_REQUEST, "invalid request: not an object");
        return false;
    }
    json_t *id = json_object_get(msg, "id");
    if (id && !valid_id(id)) {
        rpc_error_set(err, RPC_INVALID_REQUEST, "invalid request: id must be a string, number or null");
        return false;
    }
    *id_out = id;
    if (json_value_depth(msg, max_depth) > max_depth) {
        rpc_error_set(err, RPC_INVALID_REQUEST, "invalid request: nested deeper than %d",
                      max_depth);
        return false;
    }
    json_t *version = json_object_get(msg, "jsonrpc");
    if (!json_is_string(version) || json_string_length(version) != 3 ||
        strcmp(json_string_value(version), "2.0") != 0) {
        rpc_error_set(err, RPC_INVALID_REQUEST, "invalid request: jsonrpc must be \"2.0\"");
        return false;
    }
    json_t *method = json_object_get(msg, "method");
    if (!json_is_string(method)) {
        rpc_error_set(err, RPC_INVALID_REQUEST, "invalid request: method must be a string");
        return false;
    }
    if (strlen(json_string_value(method)) != json_string_length(method)) {
        rpc_error_set(err, RPC_INVALID_REQUEST, "invalid request: method must not contain NUL");
        return false;
    }
    /* JSON-RPC allows params by position or by name; anything else is not
     * a request at all. kicd's methods all take names. */
    json_t *params = json_object_get(msg, "params");
    if (params && !json_is_object(params) && !json_is_array(params)) {
        rpc_error_set(err, RPC_INVALID_REQUEST, "invalid request: params must be an object or an array");
        return false;
    }
    req->method = json_string_value(method);
    req->id = id;
    req->by_position = json_is_array(params);
    req->params = req->by_position ? NULL : params;
    return true;
}

char *rpc_id_text(json_t *id)
{
    if (!id)
        return strdup("null");
    return json_dumps(id, JSON_ENCODE_ANY | JSON_COMPACT);
}

static char *wrap(const char *id_text, const char *key, json_t *value)
{
    char *body = json_dumps(value, JSON_ENCODE_ANY | RPC_DUMP_FLAGS);
    if (!body)
        return NULL;
    StrBuf b = STRBUF_INIT;
    strbuf_printf(&b, "{\"jsonrpc\":\"2.0\",\"id\":%s,\"%s\":%s}", id_text, key, body);
    free(body);
    return strbuf_steal(&b);
}

char *rpc_result_text(const char *id_text, json_t *result)
{
    return wrap(id_text, "result", result);
}

char *rpc_error_text(const char *id_text, const RpcError *err)
{
    json_t *e = json_pack("{s:i, s:s}", "code", err->code, "message",
                          err->message[0] ? err->message : rpc_code_message(err->code));
    if (!e) /* never lose the reply over its message */
        e = json_pack("{s:i, s:s}", "code", err->code, "message", rpc_code_message(err->code));
    if (!e)
        return NULL;
    if (err->data)
        json_object_set(e, "data", err->data);
    char *text = wrap(id_text, "error", e);
    json_decref(e);
    return text;
}

char *rpc_notification_text(const char *method, json_t *params)
{
    json_t *n = json_pack("{s:s, s:s, s:O}", "jsonrpc", "2.0", "method", method, "params", params);
    if (!n)
        return NULL;
    char *text = json_dumps(n, RPC_DUMP_FLAGS);
    json_decref(n);
    return text;
}
