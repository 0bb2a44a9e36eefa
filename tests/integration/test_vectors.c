/* Runs the protocol's test vectors (proto/vectors, format in its README)
 * against a real kicd: `test_vectors FILE.jsonl` one file (CTest
 * vectors.<dir>.<file>), `test_vectors` every file (integration.vectors).
 * Each case runs on a fresh connection logged in as its role. */
#include <ctype.h>
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>

#include "harness.h"
#include "strbuf.h"

#define REPLY_TIMEOUT_MS 5000
#define CLOSE_TIMEOUT_MS 6000 /* login_timeout_s below, and some */
#define MAX_REPLIES 4096

typedef enum { EXPECT_REPLIES, EXPECT_NO_REPLY, EXPECT_CLOSE } ExpectKind;

#define CODE_RESULT 0 /* a reply with a result */

typedef struct Case {
    char where[160];   /* file:line */
    char name[200];
    char role[16];
    char *send;        /* bytes to send (tokens substituted at run time) */
    size_t send_len;
    bool newline;      /* append "\n" (unless "raw": true) */
    bool shutdown;     /* half-close after sending */
    ExpectKind kind;
    bool batch;        /* the (single) reply is a batch array */
    int *codes;        /* expected replies in order (CODE_RESULT = result) */
    size_t ncodes;
    char field[64];    /* data.field of a -32602 ("" = not checked) */
    char message[128]; /* substring of error.message ("" = not checked) */
    json_t *id;        /* "id": the id every reply must carry (else taken from the request) */
    bool pending;      /* from a pending-*.jsonl file */
} Case;

/* A case passes when exactly the expected replies come back (code,
 * data.field, echoed id), then nothing else (a server.ping probe on the
 * same connection is answered next), and a separate client can still log
 * in and get server.ping answered. In pending-*.jsonl files, a case whose
 * method answers -32601 is skipped and says so: it starts counting as
 * soon as the method exists. */
static Kicd kicd;
static Case *cases;
static size_t ncases;
static char *tokens[5]; /* by role index: none (unused), bridge, agent, supervisor, admin */
static char *revoked_token;

/* Counters shared with Check's forked test processes. */
typedef struct Tally {
    long run, skipped, failed;
} Tally;
static Tally *tally;

static const char *const role_names[] = {"none", "bridge", "agent", "supervisor", "admin"};

static int role_index(const char *role)
{
    for (int i = 0; i < 5; i++)
        if (strcmp(role, role_names[i]) == 0)
            return i;
    return -1;
}

/* ---- loading ---- */

static void load_fail(const char *where, const char *what)
{
    fprintf(stderr, "test_vectors: %s: %s\n", where, what);
    exit(2);
}

static int b64_value(int ch)
{
    if (ch >= 'A' && ch <= 'Z')
        return ch - 'A';
    if (ch >= 'a' && ch <= 'z')
        return ch - 'a' + 26;
    if (ch >= '0' && ch <= '9')
        return ch - '0' + 52;
    if (ch == '+' || ch == '-')
        return 62;
    if (ch == '/' || ch == '_')
        return 63;
    return -1;
}

static bool b64_decode(const char *in, StrBuf *out)
{
    unsigned acc = 0;
    int bits = 0;
    for (const char *p = in; *p && *p != '='; p++) {
        int v = b64_value((unsigned char)*p);
        if (v < 0)
            return false;
        acc = (acc << 6) | (unsigned)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            char ch = (char)((acc >> bits) & 0xff);
            strbuf_append(out, &ch, 1);
        }
    }
    return true;
}

/* "send", "send_b64" or "send_parts" ([string | {"repeat": s, "count": n}]). */
static void load_send(json_t *v, Case *c)
{
    StrBuf b = STRBUF_INIT;
    json_t *send = json_object_get(v, "send");
    json_t *b64 = json_object_get(v, "send_b64");
    json_t *parts = json_object_get(v, "send_parts");
    if ((send != NULL) + (b64 != NULL) + (parts != NULL) != 1)
        load_fail(c->where, "needs exactly one of send, send_b64, send_parts");
    if (json_is_string(send)) {
        strbuf_append(&b, json_string_value(send), json_string_length(send));
    } else if (json_is_string(b64)) {
        if (!b64_decode(json_string_value(b64), &b))
            load_fail(c->where, "send_b64 is not base64");
    } else if (json_is_array(parts)) {
        size_t i;
        json_t *part;
        json_array_foreach(parts, i, part)
        {
            if (json_is_string(part)) {
                strbuf_append(&b, json_string_value(part), json_string_length(part));
                continue;
            }
            json_t *rep = json_object_get(part, "repeat");
            json_int_t n = json_integer_value(json_object_get(part, "count"));
            if (!json_is_string(rep) || n < 0 || n > 10 * 1000 * 1000)
                load_fail(c->where, "a send_parts entry is a string or {repeat, count}");
            for (json_int_t k = 0; k < n; k++)
                strbuf_append(&b, json_string_value(rep), json_string_length(rep));
        }
    } else {
        load_fail(c->where, "send must be a string");
    }
    json_int_t repeat = json_is_integer(json_object_get(v, "repeat"))
                            ? json_integer_value(json_object_get(v, "repeat"))
                            : 1;
    c->newline = !json_is_true(json_object_get(v, "raw"));
    if (c->newline)
        strbuf_append(&b, "\n", 1);
    c->send_len = b.len * (size_t)repeat;
    c->send = malloc(c->send_len + 1);
    for (json_int_t k = 0; k < repeat; k++)
        memcpy(c->send + (size_t)k * b.len, b.data, b.len);
    c->send[c->send_len] = '\0';
    strbuf_free(&b);
}

static int code_of(json_t *v, const char *where)
{
    if (json_is_integer(v))
        return (int)json_integer_value(v);
    if (json_is_string(v) && strcmp(json_string_value(v), "result") == 0)
        return CODE_RESULT;
    load_fail(where, "an expected reply is an error code or \"result\"");
    return 0;
}

/* Fills codes from one value: a code, "result", or a list of them. */
static void load_codes(json_t *v, Case *c, json_int_t repeat)
{
    size_t n = json_is_array(v) ? json_array_size(v) : 1;
    c->ncodes = n * (size_t)repeat;
    c->codes = calloc(c->ncodes + 1, sizeof(int));
    for (json_int_t k = 0; k < repeat; k++)
        for (size_t i = 0; i < n; i++)
            c->codes[(size_t)k * n + i] =
                code_of(json_is_array(v) ? json_array_get(v, i) : v, c->where);
}

static void load_case(json_t *v, Case *c)
{
    if (!json_is_object(v))
        load_fail(c->where, "a case is a JSON object");
    const char *name = json_string_value(json_object_get(v, "name"));
    const char *role = json_string_value(json_object_get(v, "role"));
    if (!name || !role || role_index(role) < 0)
        load_fail(c->where, "name and role (none, bridge, agent, supervisor, admin) are required");
    snprintf(c->name, sizeof(c->name), "%s", name);
    snprintf(c->role, sizeof(c->role), "%s", role);
    load_send(v, c);
    c->shutdown = json_is_true(json_object_get(v, "shutdown"));
    c->batch = json_is_true(json_object_get(v, "batch"));
    json_int_t repeat = json_is_integer(json_object_get(v, "repeat"))
                            ? json_integer_value(json_object_get(v, "repeat"))
                            : 1;
    json_t *expect = json_object_get(v, "expect");
    if (json_is_string(expect) && strcmp(json_string_value(expect), "no-reply") == 0) {
        c->kind = EXPECT_NO_REPLY;
    } else if (json_is_string(expect) && strcmp(json_string_value(expect), "close") == 0) {
        c->kind = EXPECT_CLOSE;
        json_t *code = json_object_get(v, "code");
        if (code)
            load_codes(code, c, repeat);
    } else if (expect) {
        c->kind = EXPECT_REPLIES;
        load_codes(expect, c, c->batch ? 1 : repeat);
    } else {
        load_fail(c->where, "expect is required");
    }
    const char *field = json_string_value(json_object_get(v, "field"));
    snprintf(c->field, sizeof(c->field), "%s", field ? field : "");
    c->id = json_incref(json_object_get(v, "id"));
    const char *msg = json_string_value(json_object_get(v, "message_contains"));
    snprintf(c->message, sizeof(c->message), "%s", msg ? msg : "");
}

static void load_file(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f)
        load_fail(path, "cannot open");
    const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
    bool pending = strncmp(base, "pending-", 8) == 0;
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    int lineno = 0;
    while ((n = getline(&line, &cap, f)) >= 0) {
        lineno++;
        while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
            line[--n] = '\0';
        if (n == 0)
            continue;
        cases = realloc(cases, (ncases + 1) * sizeof(Case));
        Case *c = &cases[ncases++];
        memset(c, 0, sizeof(*c));
        snprintf(c->where, sizeof(c->where), "%s:%d", base, lineno);
        c->pending = pending;
        json_error_t je;
        json_t *v = json_loadb(line, (size_t)n, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, &je);
        if (!v)
            load_fail(c->where, je.text);
        load_case(v, c);
        json_decref(v);
    }
    free(line);
    fclose(f);
}

/* ---- running ---- */

/* The bytes to send with ${token:ROLE} replaced by that role's token. */
static char *substitute(const Case *c, size_t *len)
{
    StrBuf b = STRBUF_INIT;
    const char *p = c->send, *end = c->send + c->send_len;
    while (p < end) {
        const char *mark = memmem(p, (size_t)(end - p), "${token:", 8);
        if (!mark) {
            strbuf_append(&b, p, (size_t)(end - p));
            break;
        }
        strbuf_append(&b, p, (size_t)(mark - p));
        const char *close = memchr(mark, '}', (size_t)(end - mark));
        ck_assert_msg(close, "%s: unterminated ${token:", c->where);
        char role[32];
        snprintf(role, sizeof(role), "%.*s", (int)(close - mark - 8), mark + 8);
        const char *tok = strcmp(role, "revoked") == 0 ? revoked_token : NULL;
        int ri = role_index(role);
        if (ri > 0)
            tok = tokens[ri];
        ck_assert_msg(tok, "%s: no token for role '%s'", c->where, role);
        strbuf_append(&b, tok, strlen(tok));
        p = close + 1;
    }
    *len = b.len;
    return strbuf_steal(&b);
}

/* The method a one-line case calls, for the pending-method skip. */
static char *case_method(const Case *c)
{
    json_t *v = json_loadb(c->send, c->send_len, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
    if (json_is_array(v) && json_array_size(v) > 0) {
        json_t *first = json_incref(json_array_get(v, 0));
        json_decref(v);
        v = first;
    }
    const char *m = json_string_value(json_object_get(v, "method"));
    char *out = m ? strdup(m) : NULL;
    json_decref(v);
    return out;
}

/* The id a single request line carries, for checking the echo (borrowed
 * from *doc, which the caller frees); NULL when not one request. */
static json_t *case_id(const Case *c, json_t **doc)
{
    *doc = NULL;
    if (c->batch || c->send_len == 0 ||
        memchr(c->send, '\n', c->send_len) != c->send + c->send_len - 1)
        return NULL;
    *doc = json_loadb(c->send, c->send_len - 1, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, NULL);
    json_t *id = json_object_get(*doc, "id");
    if (id && (json_is_string(id) || json_is_number(id) || json_is_null(id)))
        return id;
    return NULL;
}

static bool is_notification(json_t *v)
{
    return json_is_object(v) && json_object_get(v, "method") && !json_object_get(v, "id");
}

/* The next line that is not a notification; NULL on timeout or close. */
static char *next_reply(Client *cl, int timeout_ms)
{
    for (;;) {
        char *line = cl_recv_line(cl, timeout_ms);
        if (!line)
            return NULL;
        json_t *v = json_loads(line, JSON_DECODE_ANY, NULL);
        bool note = is_notification(v);
        json_decref(v);
        if (!note)
            return line;
        free(line);
    }
}

static const char *code_text(int code, char *buf, size_t n)
{
    if (code == CODE_RESULT)
        snprintf(buf, n, "a result");
    else
        snprintf(buf, n, "error %d", code);
    return buf;
}

/* One reply object against one expected code; "" when it matches, else
 * why not (static buffer). Sets *method_missing for a -32601. */
static const char *check_one(const Case *c, json_t *r, int want, json_t *id,
                             bool *method_missing)
{
    static char why[1024];
    char wbuf[32];
    char *txt = json_dumps(r, JSON_COMPACT | JSON_ENCODE_ANY);
    int got = rpc_code(r);
    why[0] = '\0';
    if (got == -32601)
        *method_missing = true;
    if (!json_is_object(r) || !json_is_string(json_object_get(r, "jsonrpc")) ||
        strcmp(json_string_value(json_object_get(r, "jsonrpc")), "2.0") != 0) {
        snprintf(why, sizeof(why), "not a JSON-RPC 2.0 reply: %.600s", txt);
    } else if (got != want) {
        snprintf(why, sizeof(why), "expected %s, got %.600s", code_text(want, wbuf, sizeof(wbuf)),
                 txt);
    } else if (want == -32700 && !json_is_null(json_object_get(r, "id"))) {
        snprintf(why, sizeof(why), "a -32700 must have id null: %.600s", txt);
    } else if (id && !json_equal(json_object_get(r, "id"), id)) {
        snprintf(why, sizeof(why), "the request's id was not echoed: %.600s", txt);
    } else if (want != CODE_RESULT && c->field[0]) {
        json_t *data = json_object_get(json_object_get(r, "error"), "data");
        const char *field = json_string_value(json_object_get(data, "field"));
        if (!field || strcmp(field, c->field) != 0)
            snprintf(why, sizeof(why), "expected data.field \"%s\": %.600s", c->field, txt);
    }
    if (!why[0] && want != CODE_RESULT && c->message[0]) {
        const char *m =
            json_string_value(json_object_get(json_object_get(r, "error"), "message"));
        if (!m || !strstr(m, c->message))
            snprintf(why, sizeof(why), "expected a message containing \"%s\": %.600s",
                     c->message, txt);
    }
    free(txt);
    return why;
}

/* Reads and checks the expected replies; "" when all match. */
static const char *check_replies(const Case *c, Client *cl, bool *method_missing)
{
    static char why[1200];
    why[0] = '\0';
    json_t *doc = NULL;
    json_t *id = c->id ? c->id : c->ncodes == 1 ? case_id(c, &doc) : NULL;
    size_t want_lines = c->batch ? 1 : c->ncodes;
    for (size_t i = 0; i < want_lines && !why[0]; i++) {
        char *line = next_reply(cl, REPLY_TIMEOUT_MS);
        if (!line) {
            snprintf(why, sizeof(why), "reply %zu of %zu: none (timeout or closed)", i + 1,
                     want_lines);
            break;
        }
        json_t *r = json_loads(line, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
        if (!r) {
            snprintf(why, sizeof(why), "reply %zu is not JSON: %.600s", i + 1, line);
        } else if (c->batch) {
            if (!json_is_array(r) || json_array_size(r) != c->ncodes) {
                snprintf(why, sizeof(why), "expected a batch of %zu replies: %.600s", c->ncodes,
                         line);
            } else {
                for (size_t k = 0; k < c->ncodes && !why[0]; k++) {
                    const char *w = check_one(c, json_array_get(r, k), c->codes[k], NULL,
                                              method_missing);
                    if (w[0])
                        snprintf(why, sizeof(why), "batch entry %zu: %s", k, w);
                }
            }
        } else {
            const char *w = check_one(c, r, c->codes[i], id, method_missing);
            if (w[0])
                snprintf(why, sizeof(why), "reply %zu: %s", i + 1, w);
        }
        json_decref(r);
        free(line);
    }
    json_decref(doc);
    return why;
}

/* Nothing more came back: the next reply is the probe's. */
static const char *check_probe(Client *cl)
{
    static char why[800];
    why[0] = '\0';
    cl_send(cl, "{\"jsonrpc\":\"2.0\",\"id\":\"vector-probe\",\"method\":\"server.ping\"}");
    char *line = next_reply(cl, REPLY_TIMEOUT_MS);
    json_t *r = line ? json_loads(line, 0, NULL) : NULL;
    const char *id = json_string_value(json_object_get(r, "id"));
    if (!line)
        snprintf(why, sizeof(why), "the connection closed or went silent (probe unanswered)");
    else if (!id || strcmp(id, "vector-probe") != 0)
        snprintf(why, sizeof(why), "an unexpected reply came back: %.600s", line);
    json_decref(r);
    free(line);
    return why;
}

/* A separate client still gets server.ping answered. */
static void check_server_alive(const Case *c)
{
    Client *mon = cl_connect(kicd.port);
    json_t *r = cl_login(mon, tokens[3]);
    ck_assert_msg(rpc_code(r) == 0, "%s %s: after this case a new client cannot log in",
                  c->where, c->name);
    json_decref(r);
    r = cl_call(mon, "server.ping", NULL);
    ck_assert_msg(rpc_code(r) == 0, "%s %s: after this case server.ping is not answered",
                  c->where, c->name);
    json_decref(r);
    cl_close(mon);
}

/* Whether kicd still runs (this is a forked Check child: kicd is its
 * parent's child, so /proc tells, not waitpid). */
static bool kicd_runs(void)
{
    char path[64], stat[256];
    snprintf(path, sizeof(path), "/proc/%d/stat", (int)kicd.pid);
    FILE *f = fopen(path, "r");
    bool runs = f && fgets(stat, sizeof(stat), f);
    if (f)
        fclose(f);
    const char *state = runs ? strrchr(stat, ')') : NULL;
    return state && state[1] == ' ' && state[2] != 'Z' && state[2] != 'X';
}

START_TEST(vector)
{
    const Case *c = &cases[_i];
    ck_assert_msg(kicd_runs(), "kicd (pid %d) has stopped; its log: %s", (int)kicd.pid,
                  kicd.log_path);
    Client *cl = cl_connect(kicd.port);
    int ri = role_index(c->role);
    if (ri > 0) {
        json_t *r = cl_login(cl, tokens[ri]);
        ck_assert_msg(rpc_code(r) == 0, "%s %s: login as %s failed", c->where, c->name, c->role);
        json_decref(r);
    }
    size_t len;
    char *bytes = substitute(c, &len);
    cl_write(cl, bytes, len);
    free(bytes);
    if (c->shutdown)
        shutdown(cl->fd, SHUT_WR);

    bool method_missing = false;
    const char *why = "";
    switch (c->kind) {
    case EXPECT_REPLIES:
        why = check_replies(c, cl, &method_missing);
        if (!why[0] && !c->shutdown)
            why = check_probe(cl);
        break;
    case EXPECT_NO_REPLY:
        if (!c->shutdown) {
            why = check_probe(cl);
        } else {
            char *extra = next_reply(cl, 500);
            if (extra)
                why = "a reply came back";
            free(extra);
        }
        break;
    case EXPECT_CLOSE:
        if (c->ncodes)
            why = check_replies(c, cl, &method_missing);
        if (!why[0]) {
            char *extra = next_reply(cl, CLOSE_TIMEOUT_MS);
            if (extra) {
                static char buf[800];
                snprintf(buf, sizeof(buf), "expected the connection to close, got %.600s", extra);
                free(extra);
                why = buf;
            } else if (!cl_wait_closed(cl, 1000)) {
                why = "the connection was not closed";
            }
        }
        break;
    }
    cl_close(cl);

    bool expected_missing = c->ncodes && c->codes[0] == -32601;
    if (why[0] && c->pending && method_missing && !expected_missing) {
        char *m = case_method(c);
        fprintf(stderr, "SKIP %s %s: %s answers -32601 (not implemented yet)\n", c->where,
                c->name, m ? m : "the method");
        free(m);
        __atomic_add_fetch(&tally->skipped, 1, __ATOMIC_SEQ_CST);
        check_server_alive(c);
        return;
    }
    __atomic_add_fetch(&tally->run, 1, __ATOMIC_SEQ_CST);
    if (why[0])
        __atomic_add_fetch(&tally->failed, 1, __ATOMIC_SEQ_CST);
    ck_assert_msg(!why[0], "%s %s: %s", c->where, c->name, why);
    check_server_alive(c);
}
END_TEST

/* A database name from the file name: kic_v_<dir>_<file>. */
static void db_name(const char *path, char *out, size_t n)
{
    char tmp[256];
    const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
    const char *dir = "all";
    char dirbuf[64] = "";
    if (path[0]) {
        const char *slash = strrchr(path, '/');
        if (slash) {
            const char *d = slash;
            while (d > path && d[-1] != '/')
                d--;
            snprintf(dirbuf, sizeof(dirbuf), "%.*s", (int)(slash - d), d);
            dir = dirbuf;
        }
    }
    snprintf(tmp, sizeof(tmp), "v_%.60s_%.120s", dir, base);
    char *dot = strstr(tmp, ".jsonl");
    if (dot)
        *dot = '\0';
    size_t k = 0;
    for (char *p = tmp; *p && k + 1 < n && k < 40; p++)
        out[k++] = isalnum((unsigned char)*p) ? (char)tolower((unsigned char)*p) : '_';
    out[k] = '\0';
}

int main(int argc, char **argv)
{
    char name[64];
    if (argc > 1) {
        const char *path = argv[1];
        char full[1024];
        if (path[0] != '/') {
            snprintf(full, sizeof(full), "%s", h_source_path(path));
            path = full;
        }
        load_file(path);
        db_name(path, name, sizeof(name));
    } else {
        glob_t g;
        const char *pattern = h_source_path("proto/vectors/*/*.jsonl");
        if (glob(pattern, 0, NULL, &g) != 0)
            load_fail(pattern, "no vector files");
        for (size_t i = 0; i < g.gl_pathc; i++)
            load_file(g.gl_pathv[i]);
        globfree(&g);
        snprintf(name, sizeof(name), "v_all");
    }
    if (ncases == 0)
        load_fail(argc > 1 ? argv[1] : "proto/vectors", "no cases");

    tally = mmap(NULL, sizeof(*tally), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (tally == MAP_FAILED)
        load_fail("mmap", "no shared memory for the tally");
    memset(tally, 0, sizeof(*tally));

    /* A short login timeout so the silent-connection case is quick. */
    kicd_init(&kicd, name, "[limits]\nlogin_timeout_s = 3\n");
    kicd_start(&kicd);
    tokens[1] = h_user(&kicd, "vectors", "pbx", "bridge", NULL, NULL);
    tokens[2] = h_user(&kicd, "vectors", "a.jansen", "agent", NULL, "kic");
    tokens[3] = h_user(&kicd, "vectors", "s.devries", "supervisor", NULL, "kic");
    tokens[4] = h_user(&kicd, "vectors", "beheer", "admin", NULL, NULL);
    revoked_token = h_user(&kicd, "vectors", "ex.medewerker", "agent", NULL, "kic");
    if (h_kicctl(&kicd, NULL, "user", "revoke", "--tenant", "vectors", "--name", "ex.medewerker",
                 NULL) != 0)
        load_fail("kicctl", "cannot revoke a user");

    Suite *s = suite_create("vectors");
    TCase *tc = tcase_create("vectors");
    tcase_set_timeout(tc, 60);
    tcase_add_loop_test(tc, vector, 0, (int)ncases);
    suite_add_tcase(s, tc);
    int rc = h_run_suite(s, &kicd);
    printf("vectors: %zu cases: %ld run, %ld failed, %ld skipped (method not implemented yet)\n",
           ncases, tally->run, tally->failed, tally->skipped);
    return rc;
}
