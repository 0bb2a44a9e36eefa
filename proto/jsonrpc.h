/* JSON-RPC 2.0 codec for the kicd wire contract (PROTOCOL.md): parsing a
 * line into requests, and building result, error and notification lines.
 * Pure: no sockets, no server state. Lines built here carry no newline. */
#ifndef JSONRPC_H
#define JSONRPC_H

#include <jansson.h>

#include "kic.h"

/* The public error codes; names are for code, numbers are the contract. */
#define RPC_ERRORS(X)                                                  \
    X(RPC_PARSE_ERROR, -32700, "parse error: not JSON")                \
    X(RPC_INVALID_REQUEST, -32600, "invalid request")                  \
    X(RPC_METHOD_NOT_FOUND, -32601, "method not found")                \
    X(RPC_INVALID_PARAMS, -32602, "invalid params")                    \
    X(RPC_INTERNAL, -32603, "internal error")                          \
    X(RPC_UNAUTHENTICATED, -32001, "not logged in")                    \
    X(RPC_FORBIDDEN, -32003, "not allowed for this role")              \
    X(RPC_NOT_FOUND, -32004, "unknown id")                             \
    X(RPC_CONFLICT, -32009, "conflict")                                \
    X(RPC_OVERLOADED, -32029, "overloaded: retry later")               \
    X(RPC_STORAGE_UNAVAILABLE, -32050, "storage unavailable")

#define RPC_ERROR_ENUM(name, code, msg) name = code,
typedef enum { RPC_ERRORS(RPC_ERROR_ENUM) } RpcCode;
#undef RPC_ERROR_ENUM

/* Default message for a code. */
const char *rpc_code_message(int code);

#define RPC_MAX_BATCH 1000

/* An error to send: code, message, and optional data (owned). */
/* How results and notifications are written: 15 significant digits
 * print 0.8 as 0.8 (17 would give 0.80000000000000004). */
#define RPC_DUMP_FLAGS (JSON_COMPACT | JSON_REAL_PRECISION(15))

typedef struct RpcError {
    int code;
    char message[200];
    json_t *data;
} RpcError;

void rpc_error_set(RpcError *e, int code, const char *fmt, ...) KIC_PRINTF(3, 4);
/* An invalid-params error naming the field and the reason. */
void rpc_error_field(RpcError *e, const char *field, const char *reason);
void rpc_error_clear(RpcError *e);

/* True if the text nests arrays and objects no deeper than max_depth.
 * Scans strings correctly; does not otherwise validate JSON. */
bool json_depth_ok(const char *text, size_t len, int max_depth);

/* How deep v nests arrays and objects (a scalar is 0), counted up to
 * limit + 1 at most (so a walk never goes deeper than that). */
int json_value_depth(const json_t *v, int limit);

/* Parses one line. NULL with a -32700 error when it is not acceptable
 * JSON, or -32600 when it nests deeper than jansson goes (2,047 levels).
 * Duplicate object keys are refused. The request limit (max_depth) is
 * rpc_request_parse's: a batch's array is no level of its requests, and
 * a request too deep is answered with its id. */
json_t *rpc_parse_line(const char *line, size_t len, RpcError *err);

typedef struct RpcRequest {
    const char *method; /* borrowed from the message */
    json_t *id;         /* borrowed; NULL for a notification */
    json_t *params;     /* borrowed; an object, or NULL when absent (jansson's
                         * getters accept NULL, so handlers read it alike) */
    bool by_position;   /* params was an array: a valid request, which the
                         * dispatcher refuses (-32602) once it knows the
                         * caller may call the method at all */
} RpcRequest;

/* Checks one message against JSON-RPC 2.0 (params, when present, is an
 * object or an array) and nested no deeper than max_depth (-32600). On
 * failure err holds the error and *id_out the id to answer with (NULL
 * means null). */
bool rpc_request_parse(json_t *msg, int max_depth, RpcRequest *req, json_t **id_out,
                       RpcError *err) KIC_MUST_CHECK;

/* The id serialised as JSON ("null" for NULL); caller frees. */
char *rpc_id_text(json_t *id);

/* Response lines; callers free. NULL only when out of memory. */
char *rpc_result_text(const char *id_text, json_t *result);
char *rpc_error_text(const char *id_text, const RpcError *err);
char *rpc_notification_text(const char *method, json_t *params);

#endif
