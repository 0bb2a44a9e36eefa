/* Telephony event parameters (proto/events.c): for every event method,
 * every field is broken in every way the contract forbids, and each
 * failure must be a -32602 whose data.field names exactly that field.
 * Valid events parse with their defaults; the stored form keeps unknown
 * fields, replaces the caller's number by its key, and parses back (from
 * storage) into an identical Event. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "events.h"
#include "kictime.h"
#include "unit.h"

typedef enum { F_STR, F_ENUM, F_TIME, F_CALLER } FieldKind;

typedef struct FieldDef {
    const char *name;
    FieldKind kind;
    bool required;
} FieldDef;

typedef struct MethodDef {
    const char *method;
    const char *valid; /* every field, optional ones included */
    FieldDef fields[12];
} MethodDef;

#define AT "\"at\":\"2026-11-22T09:15:02.120+01:00\""
#define COMMON "\"event_id\":\"pbx1-77813\",\"call_id\":\"1700000000.42\"," AT

static const MethodDef methods[] = {
    {"call.offered",
     "{" COMMON ",\"queue\":\"huishoudelijke-zorg\",\"caller\":\"+31612345678\","
     "\"dialled\":\"+31785551000\",\"location\":\"dordrecht\",\"channel\":\"whatsapp\","
     "\"direction\":\"outbound\",\"callback_id\":\"cb-9\",\"transferred_from\":\"1700000000.41\"}",
     {{"event_id", F_STR, true},
      {"call_id", F_STR, true},
      {"at", F_TIME, true},
      {"queue", F_STR, true},
      {"caller", F_CALLER, false},
      {"dialled", F_STR, false},
      {"location", F_STR, false},
      {"channel", F_ENUM, false},
      {"direction", F_ENUM, false},
      {"callback_id", F_STR, false},
      {"transferred_from", F_STR, false}}},
    {"call.answered",
     "{" COMMON ",\"agent\":\"a.jansen\"}",
     {{"event_id", F_STR, true}, {"call_id", F_STR, true}, {"at", F_TIME, true}, {"agent", F_STR, true}}},
    {"call.held", "{" COMMON "}",
     {{"event_id", F_STR, true}, {"call_id", F_STR, true}, {"at", F_TIME, true}}},
    {"call.resumed", "{" COMMON "}",
     {{"event_id", F_STR, true}, {"call_id", F_STR, true}, {"at", F_TIME, true}}},
    {"call.transferred",
     "{" COMMON ",\"agent\":\"a.jansen\",\"target\":\"wijkteam-noord\",\"target_kind\":\"care_team\","
     "\"mode\":\"attended\"}",
     {{"event_id", F_STR, true},
      {"call_id", F_STR, true},
      {"at", F_TIME, true},
      {"agent", F_STR, true},
      {"target", F_STR, true},
      {"target_kind", F_ENUM, true},
      {"mode", F_ENUM, false}}},
    {"call.abandoned", "{" COMMON "}",
     {{"event_id", F_STR, true}, {"call_id", F_STR, true}, {"at", F_TIME, true}}},
    {"call.ended", "{" COMMON ",\"by\":\"agent\"}",
     {{"event_id", F_STR, true}, {"call_id", F_STR, true}, {"at", F_TIME, true}, {"by", F_ENUM, false}}},
    {"callback.requested",
     "{" COMMON ",\"callback_id\":\"cb-1\",\"caller\":\"0612345678\",\"queue\":\"terugbellen\","
     "\"due_by\":\"2026-11-22T17:00:00+01:00\"}",
     {{"event_id", F_STR, true},
      {"call_id", F_STR, false},
      {"at", F_TIME, true},
      {"callback_id", F_STR, true},
      {"caller", F_CALLER, true},
      {"queue", F_STR, true},
      {"due_by", F_TIME, false}}},
};
#define NMETHODS ((int)KIC_ARRAY_LEN(methods))

/* The key of +31612345678 for secret "s3cret", tenant "viva" (computed
 * independently with Python's hmac module). */
#define KEY_0612345678 "033563c2dbdd27fe5abeeefc5b29bdc537738301139e4fd9463adc3069c76e3f"

static CallerCtx cc;

static void setup(void)
{
    setenv("TZ", "Europe/Amsterdam", 1);
    tzset();
    cc.country_code = "31";
    caller_tenant_key("s3cret", "viva", cc.tenant_key);
    cc.keyer = caller_keyer_new(cc.tenant_key); /* as kicd's tenants have */
}

static void teardown(void)
{
    caller_keyer_free(cc.keyer);
    cc.keyer = NULL;
}

static json_t *load(const char *text)
{
    json_error_t e;
    json_t *j = json_loads(text, 0, &e);
    ck_assert_msg(j != NULL, "bad test JSON: %s (%s)", text, e.text);
    return j;
}

/* The stored form (JSON text) as a tree; caller decrefs. */
static json_t *stored_of(const EventParse *p)
{
    ck_assert_ptr_nonnull(p->stored);
    return load(p->stored);
}

static EventType type_of(const char *method)
{
    int t = event_type_from_method(method);
    ck_assert_int_ge(t, 0);
    return (EventType)t;
}

static json_t *string_of(size_t len, char fill)
{
    char *buf = malloc(len + 1);
    ck_assert_ptr_nonnull(buf);
    memset(buf, fill, len);
    buf[len] = '\0';
    json_t *s = json_stringn(buf, len);
    free(buf);
    return s;
}

/* n copies of one UTF-8 character. */
static json_t *chars_of(size_t n, const char *ch)
{
    size_t w = strlen(ch);
    char *buf = malloc(n * w + 1);
    ck_assert_ptr_nonnull(buf);
    for (size_t i = 0; i < n; i++)
        memcpy(buf + i * w, ch, w);
    json_t *s = json_stringn(buf, n * w);
    free(buf);
    return s;
}

/* Parses params (stolen) and expects a -32602 naming field. */
static void expect_field_error(const char *method, json_t *params, const char *field,
                               const char *what)
{
    EventParse out;
    RpcError err;
    memset(&err, 0, sizeof(err));
    memset(&out, 0xAB, sizeof(out));
    bool ok = event_parse(type_of(method), params, &cc, false, &out, &err);
    ck_assert_msg(!ok, "%s: %s %s was accepted", method, field, what);
    ck_assert_msg(err.code == -32602, "%s: %s %s: code %d", method, field, what, err.code);
    json_t *f = json_object_get(err.data, "field");
    ck_assert_msg(json_is_string(f), "%s: %s %s: no data.field", method, field, what);
    ck_assert_msg(strcmp(json_string_value(f), field) == 0, "%s: %s %s: data.field is %s",
                  method, field, what, json_string_value(f));
    ck_assert_msg(json_is_string(json_object_get(err.data, "reason")), "%s: %s %s: no reason",
                  method, field, what);
    ck_assert_msg(out.event == NULL && out.stored == NULL, "%s: %s %s: allocated on failure",
                  method, field, what);
    rpc_error_clear(&err);
    json_decref(params);
}

static void expect_ok(const char *method, json_t *params, const char *what)
{
    EventParse out;
    RpcError err;
    memset(&err, 0, sizeof(err));
    bool ok = event_parse(type_of(method), params, &cc, false, &out, &err);
    ck_assert_msg(ok, "%s: %s refused: %s", method, what, err.message);
    ck_assert_ptr_nonnull(out.event);
    ck_assert_ptr_nonnull(out.stored);
    event_parse_free(&out);
    json_decref(params);
}

/* A copy of the method's valid params with field set to v (stolen), or
 * removed when v is NULL. */
static json_t *with(const MethodDef *m, const char *field, json_t *v)
{
    json_t *p = load(m->valid);
    if (v)
        json_object_set_new(p, field, v);
    else
        json_object_del(p, field);
    return p;
}

START_TEST(every_field_of_every_method)
{
    const MethodDef *m = &methods[_i];
    for (int fi = 0; m->fields[fi].name; fi++) {
        const FieldDef *f = &m->fields[fi];
        const char *n = f->name;
        /* missing */
        if (f->required)
            expect_field_error(m->method, with(m, n, NULL), n, "missing");
        else
            expect_ok(m->method, with(m, n, NULL), "optional field absent");
        /* wrong JSON types, null included (null is not absence) */
        expect_field_error(m->method, with(m, n, json_integer(42)), n, "as a number");
        expect_field_error(m->method, with(m, n, json_real(1.5)), n, "as a real");
        expect_field_error(m->method, with(m, n, json_true()), n, "as true");
        expect_field_error(m->method, with(m, n, json_false()), n, "as false");
        expect_field_error(m->method, with(m, n, json_object()), n, "as an object");
        expect_field_error(m->method, with(m, n, json_array()), n, "as an array");
        expect_field_error(m->method, with(m, n, json_null()), n, "as null");
        /* empty, too long, embedded NUL; an empty caller is a withheld one
         * (lib/caller.h), except where a number must be called back */
        if (f->kind == F_CALLER && !f->required)
            expect_ok(m->method, with(m, n, json_string("")), "empty caller is withheld");
        else
            expect_field_error(m->method, with(m, n, json_string("")), n, "empty");
        expect_field_error(m->method, with(m, n, string_of(257, 'a')), n, "of 257 bytes");
        expect_field_error(m->method, with(m, n, chars_of(257, "\xC3\xA9")), n,
                           "of 257 characters (514 bytes)");
        {
            /* the valid value with a NUL and more after it: C sees a valid
             * value, the JSON text holds more (and PostgreSQL cannot) */
            json_t *base = load(m->valid);
            const char *good = json_string_value(json_object_get(base, n));
            ck_assert_ptr_nonnull(good);
            char buf[300];
            size_t len = strlen(good);
            memcpy(buf, good, len);
            memcpy(buf + len, "\0x", 2);
            expect_field_error(m->method, with(m, n, json_stringn(buf, len + 2)), n,
                               "valid value followed by NUL");
            expect_field_error(m->method, with(m, n, json_stringn(buf, len + 1)), n,
                               "valid value ending in NUL");
            json_decref(base);
        }
        switch (f->kind) {
        case F_STR:
            expect_ok(m->method, with(m, n, string_of(256, 'a')), "256 bytes");
            /* the limit counts characters, as JSON Schema's maxLength does */
            expect_ok(m->method, with(m, n, chars_of(256, "\xC3\xA9")), "256 x e-acute");
            expect_ok(m->method, with(m, n, chars_of(256, "\xE2\x82\xAC")), "256 x euro");
            expect_ok(m->method, with(m, n, chars_of(256, "\xF0\x9F\x93\x9E")),
                      "256 x 4-byte characters");
            expect_field_error(m->method, with(m, n, json_stringn("ab\0cd", 5)), n,
                               "with NUL inside");
            expect_field_error(m->method, with(m, n, json_stringn("abcd\0", 5)), n,
                               "with NUL at the end");
            /* ids and names go to logs, CSV and screens */
            expect_field_error(m->method, with(m, n, json_string("   ")), n, "blank");
            expect_field_error(m->method, with(m, n, json_string("ab\ncd")), n, "line break");
            expect_field_error(m->method, with(m, n, json_string("ab\tcd")), n, "tab");
            expect_field_error(m->method, with(m, n, json_string("\x1b[31mred")), n, "escape");
            expect_field_error(m->method, with(m, n, json_string("ab\x7f")), n, "DEL");
            expect_ok(m->method, with(m, n, json_string(" a b ")), "spaces around and inside");
            break;
        case F_ENUM:
            expect_field_error(m->method, with(m, n, json_string("bogus")), n, "bad value");
            expect_field_error(m->method, with(m, n, json_string("unknown")), n, "unknown");
            expect_field_error(m->method, with(m, n, json_string("VOICE")), n, "upper case");
            expect_field_error(m->method, with(m, n, json_string(" queue")), n, "spaced");
            break;
        case F_TIME:
            expect_field_error(m->method, with(m, n, json_string("2026-11-22T09:15:02")), n,
                               "without offset");
            expect_field_error(m->method, with(m, n, json_string("2026-11-22")), n, "date only");
            expect_field_error(m->method, with(m, n, json_string("2026-02-30T09:15:02+01:00")), n,
                               "bad date");
            expect_field_error(m->method, with(m, n, json_string("2026-13-01T09:15:02Z")), n,
                               "bad month");
            expect_field_error(m->method, with(m, n, json_string("2026-12-31T23:59:60Z")), n,
                               "leap second");
            expect_field_error(m->method, with(m, n, json_string("yesterday")), n, "words");
            break;
        case F_CALLER:
            /* a number has its own syntax: tabs separate, blank is withheld */
            expect_ok(m->method, with(m, n, json_string("+31\t612345678")), "tab separator");
            if (!f->required)
                expect_ok(m->method, with(m, n, json_string(" \t ")), "blank caller is withheld");
            else
                expect_field_error(m->method, with(m, n, json_string(" \t ")), n, "blank");
            expect_field_error(m->method, with(m, n, json_string("+3161234\n5678")), n,
                               "line break");
            expect_field_error(m->method, with(m, n, json_string("abc")), n, "letters");
            expect_field_error(m->method, with(m, n, json_string("+12")), n, "too short");
            expect_field_error(m->method, with(m, n, json_string("+1234567890123456")), n,
                               "16 digits");
            expect_field_error(m->method, with(m, n, json_stringn("+31612345678\0", 13)), n,
                               "with NUL at the end");
            expect_field_error(m->method, with(m, n, json_stringn("+316\0" "12345678", 13)), n,
                               "with NUL inside");
            {
                /* 256 bytes: spaces (separators) and a valid number */
                json_t *pad = string_of(256 - 12, ' ');
                char buf[300];
                snprintf(buf, sizeof(buf), "%s+31612345678", json_string_value(pad));
                json_decref(pad);
                ck_assert_uint_eq(strlen(buf), 256);
                expect_ok(m->method, with(m, n, json_string(buf)), "256-byte caller");
            }
            break;
        }
    }
    /* the valid form itself parses */
    expect_ok(m->method, load(m->valid), "valid params");
}
END_TEST

/* Enumerated values with a NUL after a valid value: PostgreSQL text and
 * jsonb cannot hold NUL, and the stored form keeps the raw string. */
START_TEST(enum_with_embedded_nul_is_refused)
{
    expect_field_error("call.offered", with(&methods[0], "channel", json_stringn("voice\0x", 7)),
                       "channel", "with NUL after a valid value");
    expect_field_error("call.ended", with(&methods[6], "by", json_stringn("agent\0", 6)), "by",
                       "with NUL at the end");
    expect_field_error("call.transferred",
                       with(&methods[4], "target_kind", json_stringn("queue\0zz", 8)),
                       "target_kind", "with NUL after a valid value");
}
END_TEST

START_TEST(time_with_embedded_nul_is_refused)
{
    expect_field_error("call.held",
                       with(&methods[2], "at", json_stringn("2026-11-22T09:15:02+01:00\0x", 27)),
                       "at", "with NUL after a valid time");
    expect_field_error(
        "callback.requested",
        with(&methods[7], "due_by", json_stringn("2026-11-22T17:00:00+01:00\0", 26)), "due_by",
        "with NUL at the end");
}
END_TEST

START_TEST(params_not_an_object_or_absent)
{
    /* a request without params reaches the handler as NULL */
    RpcError err;
    memset(&err, 0, sizeof(err));
    EventParse out;
    ck_assert(!event_parse(EV_HELD, NULL, &cc, false, &out, &err));
    ck_assert_int_eq(err.code, -32602);
    ck_assert_str_eq(json_string_value(json_object_get(err.data, "field")), "event_id");
    rpc_error_clear(&err);
}
END_TEST

static KicTime t_of(const char *s)
{
    KicTime t;
    ck_assert(time_parse_rfc3339(s, &t));
    return t;
}

static void parse_ok(EventType type, json_t *params, bool from_storage, EventParse *out)
{
    RpcError err;
    memset(&err, 0, sizeof(err));
    bool ok = event_parse(type, params, &cc, from_storage, out, &err);
    ck_assert_msg(ok, "refused: %s", err.message);
}

START_TEST(defaults_of_minimal_events)
{
    EventParse p;
    json_t *j = load("{\"event_id\":\"e1\",\"call_id\":\"c1\"," AT ",\"queue\":\"q\"}");
    parse_ok(EV_OFFERED, j, false, &p);
    const Event *e = p.event;
    ck_assert_int_eq(e->type, EV_OFFERED);
    ck_assert_int_eq(e->at, t_of("2026-11-22T08:15:02.120Z"));
    ck_assert_str_eq(e->event_id, "e1");
    ck_assert_str_eq(e->call_id, "c1");
    ck_assert_str_eq(e->queue, "q");
    ck_assert_int_eq(e->channel, CH_VOICE);
    ck_assert_int_eq(e->direction, DIR_INBOUND);
    ck_assert_ptr_null(e->location);
    ck_assert_ptr_null(e->transferred_from);
    ck_assert_ptr_null(e->callback_id);
    ck_assert_ptr_null(e->agent);
    ck_assert_ptr_null(e->target);
    ck_assert_ptr_null(e->caller_key); /* no caller given */
    ck_assert(!e->caller_withheld);
    ck_assert_int_eq(e->by, BY_UNKNOWN);
    json_t *st = stored_of(&p);
    ck_assert_ptr_null(json_object_get(st, "caller_key"));
    ck_assert_ptr_null(json_object_get(st, "caller_withheld"));
    json_decref(st);
    event_parse_free(&p);
    json_decref(j);

    j = load("{\"event_id\":\"e2\",\"call_id\":\"c1\"," AT
             ",\"agent\":\"a\",\"target\":\"q2\",\"target_kind\":\"queue\"}");
    parse_ok(EV_TRANSFERRED, j, false, &p);
    ck_assert_int_eq(p.event->mode, TM_BLIND);
    ck_assert_int_eq(p.event->target_kind, TK_QUEUE);
    ck_assert_str_eq(p.event->agent, "a");
    ck_assert_str_eq(p.event->target, "q2");
    event_parse_free(&p);
    json_decref(j);

    j = load("{\"event_id\":\"e3\",\"call_id\":\"c1\"," AT "}");
    parse_ok(EV_ENDED, j, false, &p);
    ck_assert_int_eq(p.event->by, BY_UNKNOWN);
    event_parse_free(&p);
    json_decref(j);
}
END_TEST

START_TEST(every_enum_value_maps)
{
    static const struct {
        const char *field;
        const char *value;
        int want;
    } cases[] = {
        {"channel", "voice", CH_VOICE},       {"channel", "whatsapp", CH_WHATSAPP},
        {"channel", "email", CH_EMAIL},       {"channel", "chat", CH_CHAT},
        {"direction", "inbound", DIR_INBOUND}, {"direction", "outbound", DIR_OUTBOUND},
    };
    for (size_t i = 0; i < KIC_ARRAY_LEN(cases); i++) {
        EventParse p;
        json_t *j = with(&methods[0], cases[i].field, json_string(cases[i].value));
        parse_ok(EV_OFFERED, j, false, &p);
        int got = strcmp(cases[i].field, "channel") == 0 ? (int)p.event->channel
                                                          : (int)p.event->direction;
        ck_assert_msg(got == cases[i].want, "%s=%s gives %d", cases[i].field, cases[i].value, got);
        event_parse_free(&p);
        json_decref(j);
    }
    static const struct {
        const char *value;
        TargetKind kind;
    } kinds[] = {{"queue", TK_QUEUE}, {"agent", TK_AGENT}, {"care_team", TK_CARE_TEAM},
                 {"external", TK_EXTERNAL}};
    for (size_t i = 0; i < KIC_ARRAY_LEN(kinds); i++) {
        EventParse p;
        json_t *j = with(&methods[4], "target_kind", json_string(kinds[i].value));
        parse_ok(EV_TRANSFERRED, j, false, &p);
        ck_assert_int_eq(p.event->target_kind, kinds[i].kind);
        ck_assert_int_eq(p.event->mode, TM_ATTENDED);
        event_parse_free(&p);
        json_decref(j);
    }
    static const struct {
        const char *value;
        EndedBy by;
    } bys[] = {{"caller", BY_CALLER}, {"agent", BY_AGENT}, {"system", BY_SYSTEM}};
    for (size_t i = 0; i < KIC_ARRAY_LEN(bys); i++) {
        EventParse p;
        json_t *j = with(&methods[6], "by", json_string(bys[i].value));
        parse_ok(EV_ENDED, j, false, &p);
        ck_assert_int_eq(p.event->by, bys[i].by);
        ck_assert_str_eq(ended_by_name(p.event->by), bys[i].value);
        event_parse_free(&p);
        json_decref(j);
    }
}
END_TEST

START_TEST(method_names)
{
    const char *names[] = {"call.offered", "call.answered", "call.held", "call.resumed",
                           "call.transferred", "call.abandoned", "call.ended",
                           "callback.requested"};
    for (int i = 0; i < (int)KIC_ARRAY_LEN(names); i++) {
        ck_assert_int_eq(event_type_from_method(names[i]), i);
        ck_assert_str_eq(event_type_names[i], names[i]);
    }
    ck_assert_ptr_null(event_type_names[EVENT_TYPE_COUNT]);
    ck_assert_int_eq(event_type_from_method("call.wrapup"), -1);
    ck_assert_int_eq(event_type_from_method("call.offered "), -1);
    ck_assert_int_eq(event_type_from_method(""), -1);
}
END_TEST

START_TEST(offered_fields_and_key)
{
    EventParse p;
    json_t *j = load(methods[0].valid);
    parse_ok(EV_OFFERED, j, false, &p);
    const Event *e = p.event;
    ck_assert_str_eq(e->event_id, "pbx1-77813");
    ck_assert_str_eq(e->call_id, "1700000000.42");
    ck_assert_int_eq(e->at, t_of("2026-11-22T08:15:02.120Z"));
    ck_assert_str_eq(e->queue, "huishoudelijke-zorg");
    ck_assert_str_eq(e->location, "dordrecht");
    ck_assert_str_eq(e->callback_id, "cb-9");
    ck_assert_str_eq(e->transferred_from, "1700000000.41");
    ck_assert_int_eq(e->channel, CH_WHATSAPP);
    ck_assert_int_eq(e->direction, DIR_OUTBOUND);
    ck_assert_str_eq(e->caller_key, KEY_0612345678);
    ck_assert(!e->caller_withheld);
    event_parse_free(&p);
    json_decref(j);
}
END_TEST

/* The client of an outbound contact is its caller; without one, the
 * number dialled. On an inbound contact dialled is the centre's own
 * number and never the key. */
START_TEST(outbound_without_a_caller_is_keyed_by_the_number_dialled)
{
    static const struct {
        const char *params;
        const char *key; /* NULL: none */
        bool withheld;
    } cases[] = {
        {"\"direction\":\"outbound\",\"dialled\":\"0612345678\"", KEY_0612345678, false},
        {"\"direction\":\"outbound\",\"dialled\":\"+31 6 12345678\"", KEY_0612345678, false},
        /* a caller given is the client, whatever was dialled */
        {"\"direction\":\"outbound\",\"caller\":\"0612345678\",\"dialled\":\"+31785551000\"",
         KEY_0612345678, false},
        {"\"direction\":\"outbound\",\"caller\":\"anonymous\",\"dialled\":\"+31612345678\"", NULL,
         true},
        /* dialled no number: nobody to key */
        {"\"direction\":\"outbound\",\"dialled\":\"sip:kic\"", NULL, false},
        {"\"dialled\":\"+31785551000\"", NULL, false},
    };
    for (size_t i = 0; i < KIC_ARRAY_LEN(cases); i++) {
        char text[512];
        snprintf(text, sizeof(text), "{\"event_id\":\"e1\",\"call_id\":\"c1\"," AT ",\"queue\":\"q\",%s}",
                 cases[i].params);
        json_t *j = load(text);
        EventParse p;
        parse_ok(EV_OFFERED, j, false, &p);
        if (cases[i].key)
            ck_assert_msg(p.event->caller_key && strcmp(p.event->caller_key, cases[i].key) == 0,
                          "case %zu: key %s", i, p.event->caller_key ? p.event->caller_key : "none");
        else
            ck_assert_msg(!p.event->caller_key, "case %zu: keyed", i);
        ck_assert_int_eq(p.event->caller_withheld, cases[i].withheld);
        ck_assert_msg(!strstr(p.stored, "12345678"), "case %zu stores the number: %s", i, p.stored);
        /* read back as stored: the same key */
        json_t *st = stored_of(&p);
        EventParse back;
        parse_ok(EV_OFFERED, st, true, &back);
        ck_assert_int_eq(!back.event->caller_key, !p.event->caller_key);
        if (p.event->caller_key)
            ck_assert_str_eq(back.event->caller_key, p.event->caller_key);
        event_parse_free(&back);
        json_decref(st);
        event_parse_free(&p);
        json_decref(j);
    }
}
END_TEST

/* The stored form: caller replaced by its key, everything else kept. */
START_TEST(stored_form_has_key_not_number)
{
    EventParse p;
    json_t *j = with(&methods[0], "caller", json_string("06-12345678"));
    json_object_set_new(j, "x_pbx", load("{\"uniqueid\":\"1700000000.42\",\"n\":[1,2]}"));
    json_object_set_new(j, "x_flag", json_true());
    json_t *orig = json_deep_copy(j);
    parse_ok(EV_OFFERED, j, false, &p);
    json_t *s = stored_of(&p);
    ck_assert_ptr_null(json_object_get(s, "caller"));
    ck_assert_str_eq(json_string_value(json_object_get(s, "caller_key")), KEY_0612345678);
    ck_assert_ptr_null(json_object_get(s, "caller_withheld"));
    /* unknown fields kept as they were */
    ck_assert(json_equal(json_object_get(s, "x_pbx"), json_object_get(orig, "x_pbx")));
    ck_assert(json_is_true(json_object_get(s, "x_flag")));
    /* every other field unchanged; one more (the key), one less (caller) */
    const char *k;
    json_t *v;
    json_object_foreach(orig, k, v)
    {
        /* this contact is outbound: its dialled number is the client's and
         * is kept only as dialled_key (proto/events.h) */
        if (strcmp(k, "caller") == 0 || strcmp(k, "dialled") == 0)
            continue;
        ck_assert_msg(json_equal(json_object_get(s, k), v), "field %s changed", k);
    }
    ck_assert_ptr_null(json_object_get(s, "dialled"));
    ck_assert_uint_eq(strlen(json_string_value(json_object_get(s, "dialled_key"))), 64);
    ck_assert_uint_eq(json_object_size(s), json_object_size(orig));
    /* the number appears nowhere, in no format */
    ck_assert_ptr_null(strstr(p.stored, "12345678"));
    /* events.h: params are changed in place into the stored form */
    ck_assert(json_equal(j, s));
    event_parse_free(&p);
    json_decref(s);
    json_decref(orig);
    json_decref(j);
}
END_TEST

/* Whatever the method, a "caller" never reaches storage in plain. */
START_TEST(number_never_stored_for_any_method)
{
    for (int i = 0; i < NMETHODS; i++) {
        EventParse p;
        json_t *j = with(&methods[i], "caller", json_string("06-12345678"));
        parse_ok(type_of(methods[i].method), j, false, &p);
        ck_assert_msg(strstr(p.stored, "12345678") == NULL, "%s stores the number: %s",
                      methods[i].method, p.stored);
        json_t *st = stored_of(&p);
        ck_assert_ptr_null(json_object_get(st, "caller"));
        json_decref(st);
        if (p.event->type != EV_OFFERED && p.event->type != EV_CALLBACK_REQUESTED)
            ck_assert_ptr_null(p.event->caller_key);
        event_parse_free(&p);
        json_decref(j);
    }
}
END_TEST

START_TEST(withheld_caller_stored_as_flag)
{
    const char *words[] = {"anonymous", " Withheld ", "0", "<unknown>"};
    for (size_t i = 0; i < KIC_ARRAY_LEN(words); i++) {
        EventParse p;
        json_t *j = with(&methods[0], "caller", json_string(words[i]));
        parse_ok(EV_OFFERED, j, false, &p);
        ck_assert_ptr_null(p.event->caller_key);
        ck_assert(p.event->caller_withheld);
        json_t *st = stored_of(&p);
        ck_assert_ptr_null(json_object_get(st, "caller"));
        ck_assert_ptr_null(json_object_get(st, "caller_key"));
        ck_assert(json_is_true(json_object_get(st, "caller_withheld")));
        json_decref(st);
        event_parse_free(&p);
        json_decref(j);
    }
}
END_TEST

static void assert_str_same(const char *a, const char *b, const char *what)
{
    ck_assert_msg((a == NULL) == (b == NULL), "%s: %s vs %s", what, a ? a : "(null)",
                  b ? b : "(null)");
    if (a)
        ck_assert_msg(strcmp(a, b) == 0, "%s: %s vs %s", what, a, b);
}

static void assert_events_equal(const Event *a, const Event *b, const char *what)
{
    ck_assert_msg(a->type == b->type, "%s: type", what);
    ck_assert_msg(a->at == b->at, "%s: at", what);
    assert_str_same(a->event_id, b->event_id, "event_id");
    assert_str_same(a->call_id, b->call_id, "call_id");
    assert_str_same(a->queue, b->queue, "queue");
    assert_str_same(a->location, b->location, "location");
    assert_str_same(a->transferred_from, b->transferred_from, "transferred_from");
    assert_str_same(a->callback_id, b->callback_id, "callback_id");
    assert_str_same(a->agent, b->agent, "agent");
    assert_str_same(a->target, b->target, "target");
    assert_str_same(a->caller_key, b->caller_key, "caller_key");
    ck_assert_msg(a->caller_withheld == b->caller_withheld, "%s: caller_withheld", what);
    ck_assert_msg(a->channel == b->channel, "%s: channel", what);
    ck_assert_msg(a->direction == b->direction, "%s: direction", what);
    ck_assert_msg(a->target_kind == b->target_kind, "%s: target_kind", what);
    ck_assert_msg(a->mode == b->mode, "%s: mode", what);
    ck_assert_msg(a->by == b->by, "%s: by", what);
    ck_assert_msg(a->due_by == b->due_by, "%s: due_by", what);
}

/* Parses live params, then their stored form as storage, and compares. */
static void round_trip(EventType type, json_t *params, const char *what)
{
    EventParse live, back;
    parse_ok(type, params, false, &live);
    json_t *reloaded = stored_of(&live); /* as it comes back from the database */
    parse_ok(type, reloaded, true, &back);
    assert_events_equal(live.event, back.event, what);
    /* the stored form of a stored form is itself */
    json_t *again = stored_of(&back);
    ck_assert_msg(json_equal(again, reloaded), "%s: stored form changed", what);
    json_decref(again);
    event_parse_free(&live);
    event_parse_free(&back);
    json_decref(reloaded);
}

START_TEST(storage_round_trip_every_method)
{
    for (int i = 0; i < NMETHODS; i++) {
        json_t *j = load(methods[i].valid);
        json_object_set_new(j, "x_extra", json_string("kept"));
        round_trip(type_of(methods[i].method), j, methods[i].method);
        json_decref(j);
        /* and with only the required fields */
        j = load(methods[i].valid);
        for (int f = 0; methods[i].fields[f].name; f++)
            if (!methods[i].fields[f].required)
                json_object_del(j, methods[i].fields[f].name);
        round_trip(type_of(methods[i].method), j, methods[i].method);
        json_decref(j);
    }
    /* withheld and absent callers */
    json_t *j = with(&methods[0], "caller", json_string("Anonymous"));
    round_trip(EV_OFFERED, j, "withheld");
    json_decref(j);
    j = with(&methods[0], "caller", NULL);
    round_trip(EV_OFFERED, j, "no caller");
    json_decref(j);
}
END_TEST

/* A client cannot inject a key: "caller_key"/"caller_withheld" sent by a
 * bridge are not read live, so what is replayed must not read them either
 * (events.h: "what was accepted is exactly what is replayed"). */
START_TEST(client_supplied_caller_key_does_not_change_replay)
{
    json_t *j = with(&methods[0], "caller", NULL);
    json_object_set_new(j, "caller_key", json_string("forged"));
    round_trip(EV_OFFERED, j, "no caller, forged caller_key");
    json_decref(j);

    j = with(&methods[0], "caller", json_string("anonymous"));
    json_object_set_new(j, "caller_key", json_string("forged"));
    round_trip(EV_OFFERED, j, "withheld caller, forged caller_key");
    json_decref(j);

    j = with(&methods[0], "caller", NULL);
    json_object_set_new(j, "caller_withheld", json_true());
    round_trip(EV_OFFERED, j, "no caller, caller_withheld true");
    json_decref(j);
}
END_TEST

START_TEST(callback_requested_needs_callable_number)
{
    const MethodDef *m = &methods[7];
    EventParse p;
    json_t *j = load(m->valid);
    parse_ok(EV_CALLBACK_REQUESTED, j, false, &p);
    ck_assert_str_eq(p.number, "+31612345678");
    ck_assert_str_eq(p.event->caller_key, KEY_0612345678);
    ck_assert_str_eq(p.event->callback_id, "cb-1");
    ck_assert_str_eq(p.event->queue, "terugbellen");
    ck_assert_str_eq(p.event->call_id, "1700000000.42");
    ck_assert_int_eq(p.event->due_by, t_of("2026-11-22T16:00:00Z"));
    json_t *st = stored_of(&p);
    ck_assert_ptr_null(json_object_get(st, "caller"));
    json_decref(st);
    ck_assert_ptr_null(strstr(p.stored, "12345678"));
    event_parse_free(&p);
    json_decref(j);

    /* without call_id and due_by: call_id "" and no due time */
    j = with(m, "call_id", NULL);
    json_object_del(j, "due_by");
    json_object_set_new(j, "caller", json_string("+32 2 123 45 67"));
    parse_ok(EV_CALLBACK_REQUESTED, j, false, &p);
    ck_assert_str_eq(p.event->call_id, "");
    ck_assert_int_eq(p.event->due_by, KIC_TIME_NONE);
    ck_assert_str_eq(p.number, "+3221234567");
    event_parse_free(&p);
    json_decref(j);

    /* a withheld number cannot be called back */
    const char *hidden[] = {"anonymous", "WITHHELD", "0", "<unknown>"};
    for (size_t i = 0; i < KIC_ARRAY_LEN(hidden); i++)
        expect_field_error("callback.requested", with(m, "caller", json_string(hidden[i])),
                           "caller", hidden[i]);
    expect_field_error("callback.requested", with(m, "caller", NULL), "caller", "missing");
}
END_TEST

START_TEST(failure_leaves_nothing)
{
    /* the error of a later field, after earlier fields parsed */
    json_t *j = with(&methods[4], "mode", json_string("bogus"));
    expect_field_error("call.transferred", j, "mode", "bad value");
    /* the caller check is after every other field */
    j = with(&methods[0], "caller", json_string("x"));
    expect_field_error("call.offered", j, "caller", "letters");
}
END_TEST

/* An e-mail or chat contact may name its caller by address or handle:
 * keyed like a number, never stored in plain, and a number still reads as
 * a number. Phone channels and callbacks still need a number. */
START_TEST(email_and_chat_callers_may_be_addresses)
{
    const MethodDef *m = &methods[0];
    char want[CALLER_KEY_HEX_LEN];
    caller_key_hex(cc.tenant_key, "jan@example.nl", want);
    const char *channels[] = {"email", "chat"};
    for (size_t i = 0; i < KIC_ARRAY_LEN(channels); i++) {
        EventParse p;
        json_t *j = with(m, "caller", json_string(" Jan@Example.NL "));
        json_object_set_new(j, "channel", json_string(channels[i]));
        parse_ok(EV_OFFERED, j, false, &p);
        ck_assert_str_eq(p.event->caller_key, want);
        ck_assert(!p.event->caller_withheld);
        ck_assert_str_eq(p.number, ""); /* no number to call back */
        ck_assert_ptr_null(strstr(p.stored, "xample")); /* in neither case */
        event_parse_free(&p);
        json_decref(j);

        j = with(m, "caller", json_string("0612345678"));
        json_object_set_new(j, "channel", json_string(channels[i]));
        parse_ok(EV_OFFERED, j, false, &p);
        ck_assert_str_eq(p.event->caller_key, KEY_0612345678);
        event_parse_free(&p);
        json_decref(j);

        j = with(m, "caller", json_string("visitor-8812"));
        json_object_set_new(j, "channel", json_string(channels[i]));
        parse_ok(EV_OFFERED, j, false, &p);
        ck_assert_uint_eq(strlen(p.event->caller_key), 64);
        ck_assert_ptr_null(strstr(p.stored, "8812"));
        event_parse_free(&p);
        json_decref(j);

        j = with(m, "caller", json_string("anonymous"));
        json_object_set_new(j, "channel", json_string(channels[i]));
        parse_ok(EV_OFFERED, j, false, &p);
        ck_assert(p.event->caller_withheld);
        ck_assert_ptr_null(p.event->caller_key);
        event_parse_free(&p);
        json_decref(j);

        j = with(m, "caller", json_string("jan@@example.nl"));
        json_object_set_new(j, "channel", json_string(channels[i]));
        expect_field_error("call.offered", j, "caller", "a broken address");
    }
    const char *phone[] = {"voice", "whatsapp"};
    for (size_t i = 0; i < KIC_ARRAY_LEN(phone); i++) {
        json_t *j = with(m, "caller", json_string("jan@example.nl"));
        json_object_set_new(j, "channel", json_string(phone[i]));
        expect_field_error("call.offered", j, "caller", "an address on a phone channel");
    }
    expect_field_error("call.offered", with(m, "caller", json_string("jan@example.nl")), "caller",
                       "an address on the default channel"); /* whatsapp in the valid params */
    expect_field_error("callback.requested",
                       with(&methods[7], "caller", json_string("jan@example.nl")), "caller",
                       "an address to call back");
}
END_TEST

int main(void)
{
    Suite *s = suite_create("events");
    TCase *tc = tcase_create("core");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_loop_test(tc, every_field_of_every_method, 0, NMETHODS);
    tcase_add_test(tc, enum_with_embedded_nul_is_refused);
    tcase_add_test(tc, time_with_embedded_nul_is_refused);
    tcase_add_test(tc, params_not_an_object_or_absent);
    tcase_add_test(tc, defaults_of_minimal_events);
    tcase_add_test(tc, every_enum_value_maps);
    tcase_add_test(tc, method_names);
    tcase_add_test(tc, offered_fields_and_key);
    tcase_add_test(tc, outbound_without_a_caller_is_keyed_by_the_number_dialled);
    tcase_add_test(tc, stored_form_has_key_not_number);
    tcase_add_test(tc, number_never_stored_for_any_method);
    tcase_add_test(tc, withheld_caller_stored_as_flag);
    tcase_add_test(tc, storage_round_trip_every_method);
    tcase_add_test(tc, client_supplied_caller_key_does_not_change_replay);
    tcase_add_test(tc, callback_requested_needs_callable_number);
    tcase_add_test(tc, failure_leaves_nothing);
    tcase_add_test(tc, email_and_chat_callers_may_be_addresses);
    suite_add_tcase(s, tc);
    return unit_run(s);
}
