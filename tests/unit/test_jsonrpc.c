/* JSON-RPC codec: request validation, depth limit, reply construction. */
#include <string.h>

#include "jsonrpc.h"
#include "unit.h"

static int parse_code(const char *line, json_t **id_out_text)
{
    RpcError err = {0};
    json_t *msg = rpc_parse_line(line, strlen(line), &err);
    if (!msg)
        return err.code;
    RpcRequest req;
    json_t *id;
    int code = rpc_request_parse(msg, 16, &req, &id, &err) ? 0 : err.code;
    if (id_out_text)
        *id_out_text = id ? json_incref(id) : NULL;
    rpc_error_clear(&err);
    json_decref(msg);
    return code;
}

START_TEST(valid_requests)
{
    ck_assert_int_eq(parse_code("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"m\"}", NULL), 0);
    ck_assert_int_eq(parse_code("{\"jsonrpc\":\"2.0\",\"id\":\"x\",\"method\":\"m\",\"params\":{}}", NULL), 0);
    ck_assert_int_eq(parse_code("{\"jsonrpc\":\"2.0\",\"id\":null,\"method\":\"m\"}", NULL), 0);
    ck_assert_int_eq(parse_code("{\"jsonrpc\":\"2.0\",\"method\":\"notify\"}", NULL), 0);
}
END_TEST

START_TEST(parse_errors)
{
    ck_assert_int_eq(parse_code("{", NULL), RPC_PARSE_ERROR);
    ck_assert_int_eq(parse_code("nonsense", NULL), RPC_PARSE_ERROR);
    ck_assert_int_eq(parse_code("{\"a\":1,\"a\":2}", NULL), RPC_PARSE_ERROR);
    ck_assert_int_eq(parse_code("\"\\ud800\"", NULL), RPC_PARSE_ERROR);
    ck_assert_int_eq(parse_code("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"m\"} x", NULL), RPC_PARSE_ERROR);
}
END_TEST

START_TEST(invalid_requests)
{
    ck_assert_int_eq(parse_code("[]x", NULL), RPC_PARSE_ERROR);
    ck_assert_int_eq(parse_code("42", NULL), RPC_INVALID_REQUEST);
    ck_assert_int_eq(parse_code("{\"id\":1,\"method\":\"m\"}", NULL), RPC_INVALID_REQUEST);
    ck_assert_int_eq(parse_code("{\"jsonrpc\":\"1.0\",\"id\":1,\"method\":\"m\"}", NULL), RPC_INVALID_REQUEST);
    ck_assert_int_eq(parse_code("{\"jsonrpc\":2.0,\"id\":1,\"method\":\"m\"}", NULL), RPC_INVALID_REQUEST);
    ck_assert_int_eq(parse_code("{\"jsonrpc\":\"2.0\",\"id\":1}", NULL), RPC_INVALID_REQUEST);
    ck_assert_int_eq(parse_code("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":7}", NULL), RPC_INVALID_REQUEST);
    ck_assert_int_eq(parse_code("{\"jsonrpc\":\"2.0\",\"id\":{},\"method\":\"m\"}", NULL), RPC_INVALID_REQUEST);
    ck_assert_int_eq(parse_code("{\"jsonrpc\":\"2.0\",\"id\":true,\"method\":\"m\"}", NULL), RPC_INVALID_REQUEST);
    /* params by position: a request (the dispatcher refuses it after the
     * login and role checks) */
    ck_assert_int_eq(parse_code("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"m\",\"params\":[1]}", NULL), 0);
    ck_assert_int_eq(parse_code("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"m\",\"params\":3}", NULL), RPC_INVALID_REQUEST);
    ck_assert_int_eq(parse_code("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"m\",\"params\":null}", NULL), RPC_INVALID_REQUEST);
    /* NUL: valid JSON, but not in a method name or the version */
    ck_assert_int_eq(parse_code("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"m\\u0000x\"}", NULL), RPC_INVALID_REQUEST);
    ck_assert_int_eq(parse_code("{\"jsonrpc\":\"2.0\\u0000\",\"id\":1,\"method\":\"m\"}", NULL), RPC_INVALID_REQUEST);
    ck_assert_int_eq(parse_code("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"m\",\"params\":{\"a\":\"x\\u0000\"}}", NULL), 0);
}
END_TEST

/* The message says what is wrong with the method: its type, or a NUL. */
START_TEST(a_method_with_nul_is_named_as_such)
{
    static const struct {
        const char *line, *message;
    } cases[] = {
        {"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"m\\u0000x\"}",
         "invalid request: method must not contain NUL"},
        {"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":7}", "invalid request: method must be a string"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        RpcError err = {0};
        json_t *msg = rpc_parse_line(cases[i].line, strlen(cases[i].line), &err);
        ck_assert_ptr_nonnull(msg);
        RpcRequest req;
        json_t *id;
        ck_assert(!rpc_request_parse(msg, 16, &req, &id, &err));
        ck_assert_str_eq(err.message, cases[i].message);
        rpc_error_clear(&err);
        json_decref(msg);
    }
}
END_TEST

START_TEST(id_is_kept_for_errors_when_valid)
{
    json_t *id = NULL;
    ck_assert_int_eq(parse_code("{\"jsonrpc\":\"1.0\",\"id\":77,\"method\":\"m\"}", &id), RPC_INVALID_REQUEST);
    ck_assert_int_eq(json_integer_value(id), 77);
    json_decref(id);
    id = NULL;
    ck_assert_int_eq(parse_code("{\"jsonrpc\":\"2.0\",\"id\":[1],\"method\":\"m\"}", &id), RPC_INVALID_REQUEST);
    ck_assert_ptr_null(id);
}
END_TEST

START_TEST(depth_limit)
{
    char deep[64] = "";
    for (int i = 0; i < 17; i++)
        strcat(deep, "[");
    ck_assert(!json_depth_ok(deep, strlen(deep), 16));
    ck_assert(json_depth_ok(deep, 16, 16));
    /* brackets inside strings do not count, escaped quotes do not end them */
    const char *s = "{\"a\":\"[[[[[[[[[[[[[[[[[[[[\\\"[[[[\"}";
    ck_assert(json_depth_ok(s, strlen(s), 2));
    ck_assert_int_eq(parse_code("[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]", NULL), RPC_INVALID_REQUEST);
    /* a request too deep is refused with its id (it was null) */
    json_t *id = NULL;
    ck_assert_int_eq(parse_code("{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":\"m\",\"params\":"
                                "{\"x\":[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]}}",
                                &id),
                     RPC_INVALID_REQUEST);
    ck_assert_int_eq(json_integer_value(id), 7);
    json_decref(id);
    /* 16 levels pass: the object, params, x and 13 arrays in it */
    ck_assert_int_eq(parse_code("{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":\"m\",\"params\":"
                                "{\"x\":[[[[[[[[[[[[[]]]]]]]]]]]]]}}",
                                NULL),
                     0);
    const char *big = "[{\"a\":[[1]]}]";
    json_t *v = json_loads(big, 0, NULL);
    ck_assert_int_eq(json_value_depth(v, 16), 4);
    ck_assert_int_gt(json_value_depth(v, 2), 2); /* counted only as far as needed */
    json_decref(v);
}
END_TEST

START_TEST(reply_texts)
{
    json_t *id = json_integer(5);
    char *id_text = rpc_id_text(id);
    ck_assert_str_eq(id_text, "5");
    json_t *res = json_pack("{s:b}", "ok", 1);
    char *t = rpc_result_text(id_text, res);
    ck_assert_str_eq(t, "{\"jsonrpc\":\"2.0\",\"id\":5,\"result\":{\"ok\":true}}");
    free(t);
    RpcError e = {0};
    rpc_error_field(&e, "queue", "is required");
    t = rpc_error_text(id_text, &e);
    json_t *parsed = json_loads(t, 0, NULL);
    json_t *err = json_object_get(parsed, "error");
    ck_assert_int_eq(json_integer_value(json_object_get(err, "code")), -32602);
    ck_assert_str_eq(json_string_value(json_object_get(json_object_get(err, "data"), "field")), "queue");
    json_decref(parsed);
    free(t);
    rpc_error_clear(&e);
    char *null_text = rpc_id_text(NULL);
    ck_assert_str_eq(null_text, "null");
    free(null_text);
    json_t *sid = json_string("a\"b");
    char *sid_text = rpc_id_text(sid);
    ck_assert_str_eq(sid_text, "\"a\\\"b\"");
    free(sid_text);
    json_decref(sid);
    free(id_text);
    json_decref(id);
    json_decref(res);
}
END_TEST

START_TEST(every_code_has_a_message)
{
    int codes[] = {-32700, -32600, -32601, -32602, -32603, -32001, -32003, -32004, -32009, -32029, -32050};
    for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++)
        ck_assert_str_ne(rpc_code_message(codes[i]), "error");
}
END_TEST

int main(void)
{
    Suite *s = suite_create("jsonrpc");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, valid_requests);
    tcase_add_test(tc, parse_errors);
    tcase_add_test(tc, invalid_requests);
    tcase_add_test(tc, a_method_with_nul_is_named_as_such);
    tcase_add_test(tc, id_is_kept_for_errors_when_valid);
    tcase_add_test(tc, depth_limit);
    tcase_add_test(tc, reply_texts);
    tcase_add_test(tc, every_code_has_a_message);
    suite_add_tcase(s, tc);
    return unit_run(s);
}
