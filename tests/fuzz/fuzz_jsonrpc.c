/* Fuzz target: the JSON-RPC codec (proto/jsonrpc.c) on one line as the
 * server gets it, and every reply text the server would build for it. */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "json_quick.h"
#include "jsonrpc.h"

#define MAX_DEPTH 16 /* the server's default (limits.max_depth) */
#define PARSE_FLAGS (JSON_REJECT_DUPLICATES | JSON_DECODE_ANY | JSON_ALLOW_NUL)

/* Invariants: the line is refused exactly when it is not JSON (-32700) or
 * nested deeper than jansson reads (-32600); a request is refused when it
 * nests deeper than the limit, with its id; a request's id, method and params
 * are what the message holds; every reply (result, error, error naming a
 * field, notification, the dispatcher's "method not found" and "not
 * allowed" texts with the client's method name in them) is built -- a
 * NULL reply means the client never hears back -- and parses back as JSON
 * with the same id and code. */
static int depth_of(json_t *v)
{
    int deepest = 0;
    if (json_is_object(v)) {
        const char *k;
        json_t *x;
        json_object_foreach(v, k, x)
        {
            int d = depth_of(x);
            if (d > deepest)
                deepest = d;
        }
        return deepest + 1;
    }
    if (json_is_array(v)) {
        size_t i;
        json_t *x;
        json_array_foreach(v, i, x)
        {
            int d = depth_of(x);
            if (d > deepest)
                deepest = d;
        }
        return deepest + 1;
    }
    return 0;
}

/* A reply line must be a JSON object with jsonrpc "2.0" and this id
 * (JSON null for NULL); returns it parsed (caller decrefs). */
static json_t *check_reply(const char *text, json_t *id, const char *what)
{
    FUZZ_CHECK(text, "%s: no reply built", what);
    FUZZ_CHECK(!strchr(text, '\n'), "%s: reply holds a newline: %s", what, text);
    json_error_t je;
    json_t *r = json_loads(text, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, &je);
    FUZZ_CHECK(r, "%s: reply is not JSON (%s): %s", what, je.text, text);
    FUZZ_CHECK(json_is_object(r), "%s: reply not an object", what);
    json_t *v = json_object_get(r, "jsonrpc");
    FUZZ_CHECK(json_is_string(v) && strcmp(json_string_value(v), "2.0") == 0,
               "%s: jsonrpc member wrong: %s", what, text);
    json_t *rid = json_object_get(r, "id");
    FUZZ_CHECK(rid, "%s: reply without id: %s", what, text);
    FUZZ_CHECK(id ? json_equal(rid, id) : json_is_null(rid), "%s: id changed: %s", what, text);
    return r;
}

static void check_error_reply(const char *id_text, json_t *id, const RpcError *e,
                              const char *what)
{
    char *text = rpc_error_text(id_text, e);
    json_t *r = check_reply(text, id, what);
    json_t *err = json_object_get(r, "error");
    FUZZ_CHECK(json_integer_value(json_object_get(err, "code")) == e->code,
               "%s: code changed: %s", what, text);
    FUZZ_CHECK(json_is_string(json_object_get(err, "message")), "%s: no message", what);
    json_decref(r);
    free(text);
}

/* One request object: what the dispatcher does with it, reply by reply. */
static void one_request(json_t *msg)
{
    RpcRequest req;
    json_t *id = (json_t *)1;
    RpcError err = {0};
    bool ok = rpc_request_parse(msg, MAX_DEPTH, &req, &id, &err);
    char *id_text = rpc_id_text(id);
    FUZZ_CHECK(id_text, "rpc_id_text failed");
    json_t *mid = json_is_object(msg) ? json_object_get(msg, "id") : NULL;
    bool id_valid = !mid || json_is_string(mid) || json_is_number(mid) || json_is_null(mid);
    FUZZ_CHECK(ok || !json_is_object(msg) || !id_valid || depth_of(msg) <= MAX_DEPTH || id == mid,
               "a request too deep refused without its id");
    if (!ok) {
        FUZZ_CHECK(err.code == RPC_INVALID_REQUEST, "request refused with %d", err.code);
        check_error_reply(id_text, id, &err, "refusal");
        rpc_error_clear(&err);
        free(id_text);
        return;
    }
    FUZZ_CHECK(json_is_object(msg), "accepted a non-object");
    FUZZ_CHECK(depth_of(msg) <= MAX_DEPTH, "accepted depth %d", depth_of(msg));
    FUZZ_CHECK(req.id == json_object_get(msg, "id"), "id is not the message's");
    FUZZ_CHECK(!req.id || json_is_string(req.id) || json_is_number(req.id) ||
                   json_is_null(req.id),
               "accepted an id of type %d", json_typeof(req.id));
    FUZZ_CHECK(req.method && strlen(req.method) ==
                                 json_string_length(json_object_get(msg, "method")),
               "method holds NUL");
    FUZZ_CHECK(!req.params || json_is_object(req.params), "params not an object");
    FUZZ_CHECK(req.by_position == json_is_array(json_object_get(msg, "params")),
               "params by position not told apart");

    /* The result echoes the params (a handler may answer anything). */
    json_t *params = req.params ? req.params : json_null();
    char *text = rpc_result_text(id_text, params);
    json_t *r = check_reply(text, req.id, "result");
    FUZZ_CHECK(json_equal(json_object_get(r, "result"), params), "result changed: %s", text);
    json_decref(r);
    free(text);

    /* Errors as the dispatcher words them (server/dispatch.c), with the
     * client's method name in them. */
    RpcError e = {0};
    rpc_error_set(&e, RPC_METHOD_NOT_FOUND, "method not found: %.100s", req.method);
    check_error_reply(id_text, req.id, &e, "method not found");
    rpc_error_set(&e, RPC_FORBIDDEN, "role %s may not call %s", "agent", req.method);
    check_error_reply(id_text, req.id, &e, "forbidden");
    rpc_error_field(&e, req.method, "must be a string");
    check_error_reply(id_text, req.id, &e, "invalid params");
    rpc_error_clear(&e);

    /* A notification of that method carrying these params. */
    json_t *np = req.params ? json_incref(req.params) : json_object();
    text = rpc_notification_text(req.method, np);
    FUZZ_CHECK(text, "no notification built");
    json_error_t je;
    r = json_loads(text, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, &je);
    FUZZ_CHECK(r, "notification is not JSON (%s): %s", je.text, text);
    FUZZ_CHECK(strcmp(json_string_value(json_object_get(r, "method")), req.method) == 0,
               "notification method changed");
    FUZZ_CHECK(json_equal(json_object_get(r, "params"), np), "notification params changed");
    FUZZ_CHECK(!json_object_get(r, "id"), "notification with an id");
    json_decref(r);
    json_decref(np);
    free(text);
    free(id_text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *line = (const char *)data;
    RpcError err = {0};
    json_t *msg = rpc_parse_line(line, size, &err);
    json_t *plain = json_loadb(line, size, PARSE_FLAGS, NULL);
    if (!msg) {
        FUZZ_CHECK(err.code == RPC_PARSE_ERROR || err.code == RPC_INVALID_REQUEST,
                   "line refused with %d", err.code);
        if (plain)
            FUZZ_CHECK(err.code == RPC_INVALID_REQUEST && depth_of(plain) > JSON_MAX_CONTAINERS,
                       "valid JSON of depth %d refused with %d: %s", depth_of(plain), err.code,
                       err.message);
        check_error_reply("null", NULL, &err, "line refusal");
        rpc_error_clear(&err);
        json_decref(plain);
        return 0;
    }
    FUZZ_CHECK(plain && json_equal(plain, msg), "accepted what jansson alone refuses");
    /* json_equal ignores key order; the stored raw event keeps it */
    char *mine = json_dumps(msg, JSON_COMPACT | JSON_ENCODE_ANY);
    char *theirs = json_dumps(plain, JSON_COMPACT | JSON_ENCODE_ANY);
    FUZZ_CHECK(mine && theirs && strcmp(mine, theirs) == 0, "read otherwise than jansson: %s / %s",
               mine, theirs);
    free(mine);
    free(theirs);
    json_decref(plain);
    if (json_is_array(msg)) {
        /* The dispatcher refuses empty and oversized batches as a whole. */
        size_t n = json_array_size(msg);
        for (size_t i = 0; i < n && i < RPC_MAX_BATCH; i++)
            one_request(json_array_get(msg, i));
    } else {
        one_request(msg);
    }
    json_decref(msg);
    return 0;
}
