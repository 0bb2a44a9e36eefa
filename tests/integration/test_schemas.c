/* kicd's real traffic against the JSON Schemas in proto/schemas. Every
 * method is driven with valid requests (every event type, wrap-ups,
 * callbacks through their whole lifecycle, the supervisor's and the
 * admin's methods, the session's), and with deliberately bad ones for
 * the error answers. Every line sent and received goes to
 * schema-traffic.jsonl in the build tree; tests/schemas/validate.mjs
 * then holds each request's params, each answer and each notification
 * to its schema, and the valid vectors' requests to the params schemas.
 * The last test fails (not skips) when node or tests/schemas/node_modules
 * is missing. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"

static Kicd kicd;

static const char *const BOOTSTRAP = "run scripts/bootstrap (it runs npm ci in tests/schemas)";

/* The users, made once in main (each test runs in a forked child). */
static struct {
    char *tenant, *bridge, *agent, *agent2, *super, *admin;
} org;

static char traffic_path[1024];

/* ---- recording every line ---- */

/* How a sent line is meant (validate.mjs's "params" member): NULL for a
 * valid request. */
static const char *const INVALID = "invalid";
static const char *const BEYOND = "beyond-schema";
static const char *const NOT_REQUEST = "not-a-request";

static void record(int conn, const char *key, const char *text, const char *intent)
{
    json_t *rec = json_pack("{s:i, s:s}", "conn", conn, key, text);
    ck_assert_msg(rec != NULL, "line is not UTF-8: %s", text);
    if (intent)
        json_object_set_new(rec, "params", json_string(intent));
    FILE *f = fopen(traffic_path, "a");
    ck_assert_msg(f != NULL, "cannot append to %s", traffic_path);
    json_dumpf(rec, f, JSON_COMPACT);
    fputc('\n', f);
    fclose(f);
    json_decref(rec);
}

/* A connection whose every line is recorded. The harness's cl_call and
 * cl_wait_notification read lines of their own, so only cl_send and
 * cl_recv_line are used on it. */
typedef struct Peer {
    Client *cl;
    int conn;           /* unique across the test's forked children */
    long next_id;
    json_t *notes;      /* notifications received while waiting for answers */
} Peer;

static Peer *peer_connect(void)
{
    static int opened;
    Peer *p = calloc(1, sizeof(*p));
    p->cl = cl_connect(kicd.port);
    p->conn = (int)getpid() * 100 + ++opened;
    p->notes = json_array();
    return p;
}

static void peer_close(Peer *p)
{
    cl_close(p->cl);
    json_decref(p->notes);
    free(p);
}

static void peer_send(Peer *p, const char *line, const char *intent)
{
    record(p->conn, "sent", line, intent);
    cl_send(p->cl, line);
}

static bool is_notification(json_t *v)
{
    return json_is_object(v) && json_object_get(v, "method") && !json_object_get(v, "id");
}

/* The next line that is not a notification (those are kept in p->notes). */
static json_t *peer_answer(Peer *p)
{
    for (;;) {
        char *line = cl_recv_line(p->cl, 15000);
        ck_assert_msg(line != NULL, "no answer from kicd within 15 s");
        record(p->conn, "received", line, NULL);
        json_t *v = json_loads(line, JSON_DECODE_ANY, NULL);
        ck_assert_msg(v != NULL, "kicd sent a line that is not JSON: %s", line);
        free(line);
        if (!is_notification(v))
            return v;
        json_array_append_new(p->notes, v);
    }
}

/* Sends method with params (a printf format for the JSON text, or NULL
 * for none) and returns the whole answer. */
static json_t *peer_vcall(Peer *p, const char *intent, const char *method, const char *fmt,
                          va_list ap)
{
    char *params = NULL, *line = NULL;
    if (fmt && vasprintf(&params, fmt, ap) < 0)
        ck_abort_msg("out of memory");
    long id = ++p->next_id;
    int n = params ? asprintf(&line, "{\"jsonrpc\":\"2.0\",\"id\":%ld,\"method\":\"%s\",\"params\":%s}",
                              id, method, params)
                   : asprintf(&line, "{\"jsonrpc\":\"2.0\",\"id\":%ld,\"method\":\"%s\"}", id, method);
    ck_assert(n > 0);
    peer_send(p, line, intent);
    free(line);
    free(params);
    json_t *answer = peer_answer(p);
    ck_assert_int_eq(json_integer_value(json_object_get(answer, "id")), id);
    return answer;
}

/* A call that must succeed; returns its result (caller decrefs). */
static json_t *ok(Peer *p, const char *method, const char *fmt, ...) KIC_PRINTF(3, 4);
static json_t *ok(Peer *p, const char *method, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    json_t *answer = peer_vcall(p, NULL, method, fmt, ap);
    va_end(ap);
    json_t *result = json_incref(ck_result(answer));
    json_decref(answer);
    return result;
}

static void done(Peer *p, const char *method, const char *fmt, ...) KIC_PRINTF(3, 4);
static void done(Peer *p, const char *method, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    json_t *answer = peer_vcall(p, NULL, method, fmt, ap);
    va_end(ap);
    ck_result(answer);
    json_decref(answer);
}

/* A call that must get error `code`; intent says how the params are meant. */
static void refused(Peer *p, int code, const char *intent, const char *method, const char *fmt, ...)
    KIC_PRINTF(5, 6);
static void refused(Peer *p, int code, const char *intent, const char *method, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    json_t *answer = peer_vcall(p, intent, method, fmt, ap);
    va_end(ap);
    ck_assert_rpc_error(answer, code);
}

/* A raw line (not built from a method) that must get error `code`. */
static void refused_line(Peer *p, int code, const char *intent, const char *line)
{
    peer_send(p, line, intent);
    ck_assert_rpc_error(peer_answer(p), code);
}

static Peer *session(const char *token)
{
    Peer *p = peer_connect();
    json_decref(ok(p, "auth.login", "{\"token\":\"%s\"}", token));
    return p;
}

/* The next notification `method` on p (waiting up to 10 s); caller decrefs. */
static json_t *notification(Peer *p, const char *method)
{
    for (;;) {
        size_t i;
        json_t *n;
        json_array_foreach(p->notes, i, n)
        {
            if (strcmp(json_string_value(json_object_get(n, "method")), method) == 0) {
                json_incref(n);
                json_array_remove(p->notes, i);
                return n;
            }
        }
        char *line = cl_recv_line(p->cl, 10000);
        ck_assert_msg(line != NULL, "no %s notification within 10 s", method);
        record(p->conn, "received", line, NULL);
        json_t *v = json_loads(line, JSON_DECODE_ANY, NULL);
        free(line);
        ck_assert_msg(is_notification(v), "an answer nobody asked for");
        json_array_append_new(p->notes, v);
    }
}

static const char *str(json_t *obj, const char *key)
{
    return json_string_value(json_object_get(obj, key));
}

/* ---- the calls kicd is fed ---- */

/* Event times lie minutes in the past, today: wrap-ups (default: now)
 * then come after the answers (h_run_suite keeps the day's first
 * minutes out of it). */
static KicTime event_base(void)
{
    return h_today(600);
}

static void event(Peer *b, const char *method, const char *id, const char *suffix, KicTime t0,
                  double at, const char *extra)
{
    done(b, method, "{\"event_id\":\"%s-%s\",\"call_id\":\"%s\",\"at\":\"%s\"%s}", id, suffix, id,
         h_at(t0, at), extra);
}

/* A call from caller, answered by agent and ended. */
static void answered_call(Peer *b, const char *id, const char *caller, const char *agent,
                          KicTime t0, double at)
{
    char extra[128], who[64];
    snprintf(extra, sizeof(extra), ",\"queue\":\"kic\",\"caller\":\"%s\"", caller);
    snprintf(who, sizeof(who), ",\"agent\":\"%s\"", agent);
    event(b, "call.offered", id, "o", t0, at, extra);
    event(b, "call.answered", id, "a", t0, at + 5, who);
    event(b, "call.ended", id, "e", t0, at + 60, "");
}

/* ---- session and server ---- */

START_TEST(session_and_server_methods)
{
    Peer *p = peer_connect();
    refused(p, -32001, NULL, "server.ping", NULL);
    refused(p, -32001, NULL, "auth.login", "{\"token\":\"kic_not-a-token\"}");
    json_t *who = ok(p, "auth.login", "{\"token\":\"%s\",\"client\":\"schema test 1.0\"}", org.agent);
    ck_assert_str_eq(str(who, "agent"), "a.jansen");
    json_decref(who);
    refused(p, -32009, NULL, "auth.login", "{\"token\":\"%s\"}", org.agent);
    done(p, "server.info", NULL);
    done(p, "server.ping", NULL);
    done(p, "server.ping", "{\"anything\":[1,{\"x\":null}]}");
    done(p, "auth.logout", NULL);
    json_decref(ok(p, "auth.login", "{\"token\":\"%s\"}", org.super)); /* agent: null */
    /* a batch with a notification in it: two answers in one array */
    peer_send(p,
              "[{\"jsonrpc\":\"2.0\",\"id\":\"b1\",\"method\":\"server.ping\"},"
              "{\"jsonrpc\":\"2.0\",\"method\":\"server.ping\"},"
              "{\"jsonrpc\":\"2.0\",\"id\":\"b2\",\"method\":\"server.info\",\"params\":{}}]",
              NULL);
    json_t *answers = peer_answer(p);
    ck_assert_uint_eq(json_array_size(answers), 2);
    json_decref(answers);
    peer_close(p);
}
END_TEST

START_TEST(lines_that_are_not_requests)
{
    Peer *p = session(org.super);
    refused_line(p, -32700, NOT_REQUEST, "{\"jsonrpc\":\"2.0\",\"id\":1,");
    refused_line(p, -32600, NOT_REQUEST, "{\"jsonrpc\":\"1.0\",\"id\":2,\"method\":\"server.ping\"}");
    refused_line(p, -32600, NOT_REQUEST, "[]");
    refused(p, -32601, NOT_REQUEST, "no.such.method", NULL);
    refused_line(p, -32602, INVALID,
                 "{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"stats.live\",\"params\":[\"kic\"]}");
    refused(p, -32003, NULL, "caller.history", "{\"call_id\":\"x\"}");
    refused(p, -32003, NULL, "user.revoke", "{\"name\":\"x\"}");
    peer_close(p);
}
END_TEST

/* ---- telephony events ---- */

START_TEST(every_telephony_event)
{
    KicTime t0 = event_base();
    Peer *b = session(org.bridge), *a = session(org.agent);
    done(a, "agent.state.set", "{\"state\":\"available\"}");
    done(b, "call.offered",
         "{\"event_id\":\"ev1-o\",\"call_id\":\"ev1\",\"at\":\"%s\",\"queue\":\"kic\","
         "\"caller\":\"+31 (0)6-12.34/56 78\",\"dialled\":\"+31785551000\",\"location\":\"dordrecht\","
         "\"channel\":\"voice\",\"direction\":\"inbound\",\"x_vendor\":{\"trunk\":[1,\"a\"]}}",
         h_at(t0, 0));
    event(b, "call.answered", "ev1", "a", t0, 4, ",\"agent\":\"a.jansen\"");
    json_decref(notification(a, "call.connected"));
    event(b, "call.held", "ev1", "h", t0, 20, "");
    event(b, "call.resumed", "ev1", "r", t0, 30, "");
    event(b, "call.transferred", "ev1", "t", t0, 40,
          ",\"agent\":\"a.jansen\",\"target\":\"wijkteam\",\"target_kind\":\"queue\",\"mode\":\"attended\"");
    json_t *ended = notification(a, "call.ended");
    ck_assert(json_is_true(json_object_get(json_object_get(ended, "params"), "transferred")));
    json_decref(ended);
    /* the transfer continues as a new contact of the other queue */
    done(b, "call.offered",
         "{\"event_id\":\"ev2-o\",\"call_id\":\"ev2\",\"at\":\"%s\",\"queue\":\"wijkteam\","
         "\"caller\":\"0612345678\",\"transferred_from\":\"ev1\",\"channel\":\"chat\"}",
         h_at(t0, 41));
    event(b, "call.abandoned", "ev2", "x", t0, 60, "");
    /* withheld, outbound for a callback, ended by the caller */
    event(b, "call.offered", "ev3", "o", t0, 70,
          ",\"queue\":\"kic\",\"caller\":\"anonymous\",\"direction\":\"outbound\","
          "\"callback_id\":\"ivr-0\",\"channel\":\"whatsapp\"");
    event(b, "call.answered", "ev3", "a", t0, 75, ",\"agent\":\"a.jansen\"");
    event(b, "call.ended", "ev3", "e", t0, 90, ",\"by\":\"caller\"");
    done(b, "callback.requested",
         "{\"event_id\":\"ev4-cb\",\"callback_id\":\"ivr-1\",\"caller\":\"0612340001\","
         "\"queue\":\"kic\",\"at\":\"%s\",\"due_by\":\"%s\",\"call_id\":\"ev2\"}",
         h_at(t0, 100), h_at(t0, 7200));
    json_decref(notification(a, "callback.assigned"));
    json_t *dup = ok(b, "call.held", "{\"event_id\":\"ev1-h\",\"call_id\":\"ev1\",\"at\":\"%s\"}",
                     h_at(t0, 20));
    ck_assert(json_is_true(json_object_get(dup, "duplicate")));
    json_decref(dup);
    /* e-mail and chat contacts named by address or handle */
    event(b, "call.offered", "ev6", "o", t0, 110,
          ",\"queue\":\"kic\",\"caller\":\"mailto:J.Jansen@Example.nl\",\"channel\":\"email\"");
    event(b, "call.offered", "ev7", "o", t0, 120,
          ",\"queue\":\"kic\",\"caller\":\"visitor-4711\",\"channel\":\"chat\"");
    /* a contact still waiting, for the live snapshot */
    event(b, "call.offered", "ev5", "o", h_today(0), -30, ",\"queue\":\"kic\",\"caller\":\"\"");
    peer_close(b);
    peer_close(a);
}
END_TEST

START_TEST(bad_telephony_events)
{
    KicTime t0 = event_base();
    Peer *b = session(org.bridge);
    refused(b, -32602, INVALID, "call.offered", "{\"event_id\":\"bad1\",\"call_id\":\"bad\",\"at\":\"%s\"}",
            h_at(t0, 0));
    refused(b, -32602, INVALID, "call.offered",
            "{\"event_id\":\"bad2\",\"call_id\":\"bad\",\"at\":\"%s\",\"queue\":\"kic\",\"channel\":\"fax\"}",
            h_at(t0, 0));
    refused(b, -32602, INVALID, "call.held",
            "{\"event_id\":\"bad3\",\"call_id\":\"bad\",\"at\":\"2026-11-22T09:15:02\"}");
    refused(b, -32602, INVALID, "call.answered",
            "{\"event_id\":\"bad4\",\"call_id\":\"bad\",\"at\":\"%s\",\"agent\":7}", h_at(t0, 0));
    refused(b, -32602, INVALID, "call.ended",
            "{\"event_id\":\"bad5\",\"call_id\":\"bad\",\"at\":\"%s\",\"x\":\"a\\u0000b\"}", h_at(t0, 0));
    /* a number kicd cannot call back: the schema cannot count its digits */
    refused(b, -32602, BEYOND, "callback.requested",
            "{\"event_id\":\"bad6\",\"callback_id\":\"bad\",\"caller\":\"000\",\"queue\":\"kic\",\"at\":\"%s\"}",
            h_at(t0, 0));
    /* an address is a caller only on an e-mail or chat contact, and must be whole */
    refused(b, -32602, INVALID, "call.offered",
            "{\"event_id\":\"bad7\",\"call_id\":\"bad\",\"at\":\"%s\",\"queue\":\"kic\","
            "\"caller\":\"j.jansen@example.nl\",\"channel\":\"voice\"}",
            h_at(t0, 0));
    refused(b, -32602, BEYOND, "call.offered",
            "{\"event_id\":\"bad8\",\"call_id\":\"bad\",\"at\":\"%s\",\"queue\":\"kic\","
            "\"caller\":\"j.jansen@@example.nl\",\"channel\":\"email\"}",
            h_at(t0, 0));
    peer_close(b);
}
END_TEST

/* ---- the agent's desktop ---- */

START_TEST(wrapups_and_caller_history)
{
    KicTime t0 = event_base();
    Peer *b = session(org.bridge), *a = session(org.agent), *a2 = session(org.agent2);
    done(a, "agent.state.set", "{\"state\":\"break\",\"reason\":\"overleg\"}");
    done(a, "agent.state.set", "{\"state\":\"available\"}");
    done(a, "categories.list", NULL);
    /* the same caller three times: answered and wrapped up, abandoned, answered */
    answered_call(b, "h1", "0612349001", "a.jansen", t0, 0);
    done(a, "call.wrapup",
         "{\"call_id\":\"h1\",\"category\":\"klacht\",\"resolved\":false,\"follow_up\":\"callback\","
         "\"caller_type\":\"family\",\"note\":\"belt terug over de planning\",\"at\":\"%s\"}",
         h_at(t0, 90));
    event(b, "call.offered", "h2", "o", t0, 120, ",\"queue\":\"kic\",\"caller\":\"0612349001\"");
    event(b, "call.abandoned", "h2", "x", t0, 130, "");
    answered_call(b, "h3", "0612349001", "a.jansen", t0, 200);
    json_t *history = ok(a, "caller.history", "{\"call_id\":\"h3\"}");
    ck_assert_uint_eq(json_array_size(json_object_get(history, "contacts")), 2);
    json_decref(history);
    done(a, "call.wrapup", "{\"call_id\":\"h3\",\"category\":\"informatie\",\"resolved\":true}");
    refused(a, -32009, NULL, "call.wrapup",
            "{\"call_id\":\"h3\",\"category\":\"informatie\",\"resolved\":true}");
    refused(a, -32004, NULL, "call.wrapup",
            "{\"call_id\":\"nope\",\"category\":\"informatie\",\"resolved\":true}");
    refused(a, -32602, INVALID, "call.wrapup",
            "{\"call_id\":\"h3\",\"category\":\"informatie\",\"resolved\":\"yes\"}");
    refused(a, -32602, INVALID, "call.wrapup",
            "{\"call_id\":\"h3\",\"category\":\"informatie\",\"resolved\":true,\"caller_type\":\"neighbour\"}");
    refused(a, -32602, BEYOND, "call.wrapup",
            "{\"call_id\":\"h3\",\"category\":\"geen categorie\",\"resolved\":true}");
    refused(a, -32602, BEYOND, "call.wrapup",
            "{\"call_id\":\"h3\",\"category\":\"informatie\",\"resolved\":true,\"at\":\"2099-01-01T00:00:00Z\"}");
    refused(a2, -32003, NULL, "caller.history", "{\"call_id\":\"h3\"}");
    refused(a, -32004, NULL, "caller.history", "{\"call_id\":\"nope\"}");
    refused(a, -32602, INVALID, "caller.history", "{}");
    /* a withheld caller has no history */
    answered_call(b, "h4", "", "a.jansen", t0, 300);
    history = ok(a, "caller.history", "{\"call_id\":\"h4\"}");
    ck_assert(json_is_true(json_object_get(history, "caller_withheld")));
    json_decref(history);
    refused(a, -32602, INVALID, "agent.state.set", "{\"state\":\"on_call\"}");
    done(a, "agent.state.set", "{\"state\":\"offline\"}");
    peer_close(b);
    peer_close(a);
    peer_close(a2);
}
END_TEST

static char *create_callback(Peer *a, const char *fmt_params)
{
    json_t *r = ok(a, "callback.create", "%s", fmt_params);
    char *id = strdup(str(r, "callback_id"));
    json_decref(r);
    json_decref(notification(a, "callback.assigned"));
    return id;
}

START_TEST(callbacks_through_their_lifecycle)
{
    KicTime t0 = event_base();
    Peer *b = session(org.bridge), *a = session(org.agent), *a2 = session(org.agent2);
    answered_call(b, "cb1", "0612348001", "a.jansen", t0, 0);
    char params[256];
    snprintf(params, sizeof(params),
             "{\"caller\":\"06-1234 8001\",\"team\":\"kic\",\"due_by\":\"%s\",\"note\":\"na 14 uur\","
             "\"call_id\":\"cb1\",\"request_id\":\"desk-7\"}",
             h_at(h_today(0), 3600));
    char *full = create_callback(a, params);
    char *plain = create_callback(a, "{\"caller\":\"+31612348002\",\"team\":\"kic\"}");
    json_decref(ok(a, "callback.list", NULL));
    /* tried twice: no answer (open again, nobody holds it), then reached */
    done(a, "callback.claim", "{\"callback_id\":\"%s\"}", full);
    refused(a2, -32009, NULL, "callback.claim", "{\"callback_id\":\"%s\"}", full);
    done(a, "callback.complete", "{\"callback_id\":\"%s\",\"outcome\":\"no_answer\",\"note\":\"voicemail\"}",
         full);
    done(a2, "callback.claim", "{\"callback_id\":\"%s\"}", full);
    done(a2, "callback.complete", "{\"callback_id\":\"%s\",\"outcome\":\"reached\"}", full);
    refused(a, -32009, NULL, "callback.complete", "{\"callback_id\":\"%s\",\"outcome\":\"reached\"}", full);
    done(a, "callback.complete", "{\"callback_id\":\"%s\",\"outcome\":\"cancelled\"}", plain);
    /* the IVR's callback (every_telephony_event) */
    done(a, "callback.claim", "{\"callback_id\":\"ivr-1\"}");
    json_decref(ok(a, "callback.list", "{\"team\":\"kic\",\"status\":\"claimed\"}"));
    json_decref(ok(a, "callback.list", "{\"status\":\"done\"}"));
    json_decref(ok(a, "callback.list", "{\"status\":\"cancelled\"}"));
    refused(a, -32004, NULL, "callback.claim", "{\"callback_id\":\"nope\"}");
    refused(a, -32602, INVALID, "callback.complete", "{\"callback_id\":\"ivr-1\",\"outcome\":\"maybe\"}");
    refused(a, -32602, INVALID, "callback.create", "{\"caller\":\"bel mij\",\"team\":\"kic\"}");
    refused(a, -32602, INVALID, "callback.list", "{\"status\":\"lost\"}");
    refused(a, -32602, BEYOND, "callback.create", "{\"caller\":\"0031\",\"team\":\"kic\"}");
    free(full);
    free(plain);
    peer_close(b);
    peer_close(a);
    peer_close(a2);
}
END_TEST

/* ---- the supervisor's view ---- */

START_TEST(live_statistics)
{
    Peer *s = session(org.super);
    json_decref(ok(s, "stats.live", NULL));
    json_decref(ok(s, "stats.live", "{\"queues\":[\"kic\",\"bestaat-niet\"]}"));
    json_decref(ok(s, "agents.list", NULL));
    json_decref(ok(s, "callbacks.summary", NULL));
    json_decref(ok(s, "callbacks.summary", "{\"team\":\"kic\"}"));
    refused(s, -32602, INVALID, "stats.live", "{\"queues\":\"kic\"}");
    refused(s, -32602, INVALID, "stats.subscribe", "{\"interval_ms\":100}");
    /* subscribed: the first update at once, another after a change */
    json_decref(ok(s, "stats.subscribe", "{\"interval_ms\":250}"));
    json_decref(notification(s, "stats.update"));
    Peer *b = session(org.bridge);
    done(b, "call.offered", "{\"event_id\":\"sub-o\",\"call_id\":\"sub\",\"at\":\"%s\",\"queue\":\"kic\"}",
         h_at(event_base(), 1));
    json_decref(notification(s, "stats.update"));
    peer_close(b);
    json_decref(ok(s, "stats.subscribe", NULL));
    peer_close(s);
}
END_TEST

static void day_bounds(char *from, char *to, size_t n)
{
    KicTime day = time_local_day_start(h_today(0));
    time_format_local(day, from, n);
    time_format_local(time_add_local_days(day, 1), to, n);
}

START_TEST(reports_with_and_without_groupings)
{
    static const char *const shapes[][2] = {
        {"all", "[]"},
        {"1h", "[]"},
        {"15m", "[\"queue\",\"channel\",\"direction\"]"}, /* answered from the rollup */
        {"30m", "[\"queue\"]"},
        {"1d", "[\"team\"]"},
        {"all", "[\"agent\"]"},
        {"1w", "[\"location\",\"category\",\"caller_type\"]"},
        {"1mo", "[\"team\",\"queue\"]"},
    };
    char from[40], to[40];
    day_bounds(from, to, sizeof(from));
    Peer *s = session(org.super), *adm = session(org.admin);
    for (size_t i = 0; i < KIC_ARRAY_LEN(shapes); i++)
        json_decref(ok(i % 2 ? adm : s, "report.query",
                       "{\"from\":\"%s\",\"to\":\"%s\",\"interval\":\"%s\",\"group_by\":%s}", from, to,
                       shapes[i][0], shapes[i][1]));
    json_decref(ok(s, "report.query",
                   "{\"from\":\"%s\",\"to\":\"%s\",\"interval\":\"1h\",\"tz\":\"Europe/Amsterdam\"}", from, to));
    refused(s, -32602, INVALID, "report.query", "{\"from\":\"%s\",\"to\":\"%s\",\"interval\":\"2h\"}", from, to);
    refused(s, -32602, INVALID, "report.query",
            "{\"from\":\"%s\",\"to\":\"%s\",\"interval\":\"1d\",\"group_by\":[\"queue\",\"queue\"]}", from, to);
    refused(s, -32602, INVALID, "report.query", "{\"to\":\"%s\",\"interval\":\"1d\"}", to);
    refused(s, -32602, BEYOND, "report.query", "{\"from\":\"%s\",\"to\":\"%s\",\"interval\":\"1d\"}", to, from);
    refused(s, -32602, BEYOND, "report.query",
            "{\"from\":\"%s\",\"to\":\"%s\",\"interval\":\"1d\",\"tz\":\"Mars/Olympus_Mons\"}", from, to);
    peer_close(s);
    peer_close(adm);
}
END_TEST

/* ---- the admin's methods ---- */

START_TEST(users_and_the_audit_log)
{
    char from[40], to[40];
    day_bounds(from, to, sizeof(from));
    Peer *adm = session(org.admin);
    json_t *made = ok(adm, "user.create",
                      "{\"name\":\"c.smit\",\"role\":\"agent\",\"teams\":[\"kic\",\"wijkteam\"],\"agent\":\"c.smit\"}");
    char *token = strdup(str(made, "token"));
    json_decref(made);
    json_decref(ok(adm, "user.create", "{\"name\":\"s.visser\",\"role\":\"supervisor\"}"));
    refused(adm, -32009, NULL, "user.create", "{\"name\":\"c.smit\",\"role\":\"agent\"}");
    refused(adm, -32602, INVALID, "user.create", "{\"name\":\"x\",\"role\":\"root\"}");
    refused(adm, -32602, INVALID, "user.create", "{\"name\":\"x\",\"role\":\"bridge\",\"agent\":\"x\"}");
    /* the new agent logs in (teams, agent id) and out */
    Peer *c = session(token);
    done(c, "auth.logout", NULL);
    peer_close(c);
    json_decref(ok(adm, "user.revoke", "{\"name\":\"s.visser\"}"));
    refused(adm, -32004, NULL, "user.revoke", "{\"name\":\"s.visser\"}");
    refused(adm, -32602, INVALID, "user.revoke", "{\"name\":\"\"}");
    json_decref(ok(adm, "audit.query", "{\"from\":\"%s\",\"to\":\"%s\"}", from, to));
    json_decref(ok(adm, "audit.query", "{\"from\":\"%s\",\"to\":\"%s\",\"user\":\"a.jansen\"}", from, to));
    refused(adm, -32602, INVALID, "audit.query", "{\"from\":\"%s\"}", from);
    refused(adm, -32602, BEYOND, "audit.query", "{\"from\":\"%s\",\"to\":\"%s\"}", to, from);
    free(token);
    peer_close(adm);
}
END_TEST

/* ---- the schemas' verdict ---- */

/* node and the validator's modules, or a failure that says how to get them. */
static void require_tools(void)
{
    static const char *const modules[] = {"tests/schemas/node_modules/ajv/package.json",
                                          "tests/schemas/node_modules/ajv-formats/package.json"};
    for (size_t i = 0; i < KIC_ARRAY_LEN(modules); i++)
        ck_assert_msg(access(h_source_path(modules[i]), R_OK) == 0, "%s is missing: %s",
                      h_source_path(modules[i]), BOOTSTRAP);
    const char *argv[] = {"/usr/bin/env", "node", "--version", NULL};
    char *out = NULL;
    int rc = h_run(&out, argv, NULL);
    ck_assert_msg(rc == 0, "node does not run (%d: %s): %s", rc, out, BOOTSTRAP);
    free(out);
}

START_TEST(the_traffic_matches_the_schemas)
{
    require_tools();
    /* Every code a client can cause here; -32029 and -32050 need an
     * overloaded kicd or a lost database (test_limits, test_faults). */
    const char *argv[] = {"/usr/bin/env", "node", h_source_path("tests/schemas/validate.mjs"),
                          "--schemas", h_source_path("proto/schemas"),
                          "--traffic", traffic_path,
                          "--vectors", h_source_path("proto/vectors/valid"),
                          "--coverage",
                          "--require-codes", "-32700,-32600,-32601,-32602,-32001,-32003,-32004,-32009",
                          NULL};
    char *out = NULL;
    int rc = h_run(&out, argv, NULL);
    fprintf(stderr, "%s", out);
    free(out);
    ck_assert_msg(rc == 0, "validate.mjs found traffic that does not match proto/schemas (%d): "
                  "see the FAIL lines above; the traffic is in %s", rc, traffic_path);
}
END_TEST

int main(void)
{
    kicd_init(&kicd, "schemas", NULL);
    kicd_start(&kicd);
    org.tenant = strdup(h_tenant("schemas"));
    org.bridge = h_user(&kicd, org.tenant, "pbx", "bridge", NULL, NULL);
    org.agent = h_user(&kicd, org.tenant, "a.jansen", "agent", NULL, "kic");
    org.agent2 = h_user(&kicd, org.tenant, "b.devries", "agent", NULL, "kic");
    org.super = h_user(&kicd, org.tenant, "s.bakker", "supervisor", NULL, NULL);
    org.admin = h_user(&kicd, org.tenant, "beheer", "admin", NULL, NULL);
    snprintf(traffic_path, sizeof(traffic_path), "%s", h_build_path("schema-traffic.jsonl"));
    FILE *f = fopen(traffic_path, "w"); /* this run's traffic only */
    if (!f || fclose(f) != 0) {
        fprintf(stderr, "cannot write %s\n", traffic_path);
        return 2;
    }
    Suite *s = suite_create("schemas");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 180);
    /* In order: later tests use what earlier ones left in kicd (calls,
     * the IVR's callback, a waiting contact), and the last reads the
     * traffic of all. */
    tcase_add_test(tc, session_and_server_methods);
    tcase_add_test(tc, lines_that_are_not_requests);
    tcase_add_test(tc, every_telephony_event);
    tcase_add_test(tc, bad_telephony_events);
    tcase_add_test(tc, wrapups_and_caller_history);
    tcase_add_test(tc, callbacks_through_their_lifecycle);
    tcase_add_test(tc, live_statistics);
    tcase_add_test(tc, reports_with_and_without_groupings);
    tcase_add_test(tc, users_and_the_audit_log);
    tcase_add_test(tc, the_traffic_matches_the_schemas);
    suite_add_tcase(s, tc);
    return h_run_suite(s, &kicd);
}
