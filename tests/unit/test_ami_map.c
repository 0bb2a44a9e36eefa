/* AMI mapper against the real recording A-ami.raw: per scenario of
 * A-scenarios.md the kicd events it must give, that any split of the
 * byte stream gives the same events and ids, and each trap of
 * shared/ami/README.md, made by editing the recorded stream. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "amimap.h"
#include "strbuf.h"
#include "unit.h"

#ifndef KIC_SHARED_AMI_DIR
#define KIC_SHARED_AMI_DIR "../../../shared/ami" /* not used: kicami defines it */
#endif

static char *raw;
static size_t raw_len;
static QueueLogRules rules;

static char *read_file(const char *name, size_t *len)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/%s", KIC_SHARED_AMI_DIR, name);
    FILE *f = fopen(path, "rb");
    ck_assert_msg(f != NULL, "cannot open %s", path);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)n + 1);
    ck_assert_uint_eq(fread(buf, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    buf[n] = '\0';
    *len = (size_t)n;
    return buf;
}

static void setup(void)
{
    setenv("TZ", "Europe/Amsterdam", 1);
    raw = read_file("A-ami.raw", &raw_len);
    queuelog_rules_init(&rules);
}

static void teardown(void)
{
    free(raw);
    queuelog_rules_free(&rules);
}

static void collect(void *ctx, json_t *ev)
{
    json_array_append_new(ctx, ev);
}

/* How map_bytes maps: the mapper's config (rules filled in), when the
 * messages are received, and where its stats go when done (NULL: nowhere). */
typedef struct MapHow {
    AmiMapConfig cfg;
    KicTime received;
    AmiMapStats *stats;
} MapHow;

/* Parses and maps a byte stream fed in chunks: chunk 0 = all at once,
 * 1 = byte by byte, other = random sizes from that seed. */
static json_t *map_bytes(const char *data, size_t len, unsigned chunk, bool flush, MapHow how)
{
    json_t *events = json_array();
    how.cfg.rules = &rules;
    AmiMapper *m = ami_map_new(&how.cfg, collect, NULL, events);
    AmiParser p;
    ck_assert(ami_parser_init(&p, AMI_DEFAULT_MAX_MESSAGE));
    unsigned seed = chunk;
    size_t off = 0;
    while (off < len) {
        size_t n = len - off;
        if (chunk == 1)
            n = 1;
        else if (chunk > 1)
            n = 1 + (size_t)rand_r(&seed) % 3000;
        if (n > len - off)
            n = len - off;
        off += ami_parser_feed(&p, data + off, n);
        AmiMessage msg;
        const char *banner;
        AmiResult r;
        while ((r = ami_parser_next(&p, &msg, &banner)) != AMI_NEED)
            if (r == AMI_MESSAGE)
                ami_map_feed(m, &msg, how.received);
    }
    if (flush)
        ami_map_flush(m);
    if (how.stats)
        *how.stats = *ami_map_stats(m);
    ami_parser_free(&p);
    ami_map_free(m);
    return events;
}

static json_t *map_stream(const char *data, size_t len, unsigned chunk, bool flush)
{
    MapHow how = {.cfg = {.location_var = "KIC_LOCATION"}};
    return map_bytes(data, len, chunk, flush, how);
}

static json_t *map_recording(void)
{
    return map_stream(raw, raw_len, 0, true);
}

/* ---- looking at the events ---- */

static json_t *event(json_t *events, const char *call_id, const char *method)
{
    size_t i;
    json_t *ev;
    json_array_foreach(events, i, ev) {
        json_t *p = json_object_get(ev, "params");
        if (strcmp(json_string_value(json_object_get(ev, "method")), method) == 0 &&
            strcmp(json_string_value(json_object_get(p, "call_id")), call_id) == 0)
            return p;
    }
    return NULL;
}

static int count(json_t *events, const char *call_id, const char *method)
{
    int n = 0;
    size_t i;
    json_t *ev;
    json_array_foreach(events, i, ev) {
        json_t *p = json_object_get(ev, "params");
        if ((!method || strcmp(json_string_value(json_object_get(ev, "method")), method) == 0) &&
            (!call_id || strcmp(json_string_value(json_object_get(p, "call_id")), call_id) == 0))
            n++;
    }
    return n;
}

static const char *str(json_t *params, const char *key)
{
    const char *s = json_string_value(json_object_get(params, key));
    ck_assert_msg(s != NULL, "missing %s", key);
    return s;
}

static KicTime at(json_t *params)
{
    KicTime t;
    ck_assert_msg(time_parse_rfc3339(str(params, "at"), &t), "bad at %s", str(params, "at"));
    return t;
}

/* Seconds from one event of the call to another. */
static double span(json_t *events, const char *call_id, const char *from, const char *to)
{
    json_t *a = event(events, call_id, from), *b = event(events, call_id, to);
    ck_assert_msg(a && b, "%s: need %s and %s", call_id, from, to);
    return time_diff_s(at(a), at(b));
}

static void assert_answered(json_t *events, const char *call_id, const char *queue,
                            const char *caller, const char *agent, double wait_s)
{
    json_t *off = event(events, call_id, "call.offered");
    ck_assert_msg(off != NULL, "%s not offered", call_id);
    ck_assert_str_eq(str(off, "queue"), queue);
    ck_assert_str_eq(str(off, "caller"), caller);
    ck_assert_str_eq(str(off, "channel"), "voice");
    json_t *ans = event(events, call_id, "call.answered");
    ck_assert_msg(ans != NULL, "%s not answered", call_id);
    ck_assert_str_eq(str(ans, "agent"), agent);
    double w = span(events, call_id, "call.offered", "call.answered");
    ck_assert_msg(w > wait_s - 0.6 && w < wait_s + 0.6, "%s waited %.3f s, not ~%.1f", call_id, w,
                  wait_s);
    ck_assert_int_eq(count(events, call_id, "call.abandoned"), 0);
}

static void assert_ended(json_t *events, const char *call_id, const char *by, double talk_s)
{
    json_t *end = event(events, call_id, "call.ended");
    ck_assert_msg(end != NULL, "%s not ended", call_id);
    ck_assert_str_eq(str(end, "by"), by);
    ck_assert_int_eq(count(events, call_id, "call.transferred"), 0);
    double t = span(events, call_id, "call.answered", "call.ended");
    ck_assert_msg(t > talk_s - 1.0 && t < talk_s + 1.0, "%s talked %.3f s, not ~%.0f", call_id, t,
                  talk_s);
}

/* A transferred contact: no end of its own until the caller's channel
 * hangs up, then one call.ended without `by`. */
static void assert_closed_after_transfer(json_t *events, const char *call_id)
{
    ck_assert_int_eq(count(events, call_id, "call.ended"), 1);
    json_t *end = event(events, call_id, "call.ended");
    ck_assert_ptr_null(json_object_get(end, "by"));
    ck_assert(at(end) >= at(event(events, call_id, "call.transferred")));
}

/* ---- the scenarios of A-scenarios.md ---- */

START_TEST(s01_answered_caller_hangs_up)
{
    json_t *ev = map_recording();
    assert_answered(ev, "1795349913.1", "huishoudelijke-zorg", "+31612340001", "anouk-jansen", 2);
    assert_ended(ev, "1795349913.1", "caller", 7);
    ck_assert_int_eq(count(ev, "1795349913.1", NULL), 3);
    ck_assert_str_eq(str(event(ev, "1795349913.1", "call.offered"), "event_id"),
                     "ast-1795349913.1-off");
    ck_assert_str_eq(str(event(ev, "1795349913.1", "call.offered"), "at"),
                     "2026-11-22T13:18:34.048917+01:00");
    json_decref(ev);
}
END_TEST

START_TEST(s02_answered_agent_hangs_up)
{
    json_t *ev = map_recording();
    assert_answered(ev, "1795349925.5", "huishoudelijke-zorg", "+31612340002", "bram-de-vries", 2);
    assert_ended(ev, "1795349925.5", "agent", 5.5);
    json_decref(ev);
}
END_TEST

START_TEST(s03_abandoned_while_waiting)
{
    json_t *ev = map_recording();
    ck_assert_ptr_nonnull(event(ev, "1795349935.9", "call.offered"));
    ck_assert_ptr_nonnull(event(ev, "1795349935.9", "call.abandoned"));
    double w = span(ev, "1795349935.9", "call.offered", "call.abandoned");
    ck_assert_msg(w > 3.9 && w < 4.1, "waited %.3f", w);
    ck_assert_int_eq(count(ev, "1795349935.9", NULL), 2);
    json_decref(ev);
}
END_TEST

START_TEST(s04_queue_timeout_is_not_an_abandon)
{
    /* AMI says QueueCallerAbandon; QUEUESTATUS=TIMEOUT says otherwise. */
    json_t *ev = map_recording();
    ck_assert_int_eq(count(ev, "1795349941.13", "call.abandoned"), 0);
    ck_assert_int_eq(count(ev, "1795349941.13", "call.answered"), 0);
    json_t *end = event(ev, "1795349941.13", "call.ended");
    ck_assert_ptr_nonnull(end);
    ck_assert_str_eq(str(end, "by"), "system");
    double w = span(ev, "1795349941.13", "call.offered", "call.ended");
    ck_assert_msg(w > 7.9 && w < 8.1, "waited %.3f", w);
    json_decref(ev);

    rules.timeout_is_abandon = true; /* the operator's choice */
    ev = map_recording();
    ck_assert_ptr_nonnull(event(ev, "1795349941.13", "call.abandoned"));
    ck_assert_int_eq(count(ev, "1795349941.13", "call.ended"), 0);
    ck_assert_ptr_nonnull(event(ev, "1795349935.9", "call.abandoned"));
    json_decref(ev);
}
END_TEST

START_TEST(s05_ring_no_answer_then_another_member)
{
    json_t *ev = map_recording();
    assert_answered(ev, "1795349952.23", "huishoudelijke-zorg", "+31612340005", "bram-de-vries", 8);
    assert_ended(ev, "1795349952.23", "agent", 4.5);
    json_decref(ev);
}
END_TEST

START_TEST(s06_blind_transfer_to_extension)
{
    json_t *ev = map_recording();
    assert_answered(ev, "1795349967.29", "huishoudelijke-zorg", "+31612340006", "chantal-bakker", 2);
    json_t *x = event(ev, "1795349967.29", "call.transferred");
    ck_assert_ptr_nonnull(x);
    ck_assert_str_eq(str(x, "agent"), "chantal-bakker");
    ck_assert_str_eq(str(x, "target"), "2001@xfer");
    ck_assert_str_eq(str(x, "target_kind"), "external");
    ck_assert_str_eq(str(x, "mode"), "blind");
    double talk = span(ev, "1795349967.29", "call.answered", "call.transferred");
    ck_assert_msg(talk > 2.9 && talk < 3.1, "talk %.3f", talk);
    /* the agent's part ends at the transfer; the call when the caller,
     * after 5 s with 2001, hangs up; no second contact */
    assert_closed_after_transfer(ev, "1795349967.29");
    double after = span(ev, "1795349967.29", "call.transferred", "call.ended");
    ck_assert_msg(after > 5.9 && after < 6.1, "ended %.3f s after the transfer", after);
    ck_assert_int_eq(count(ev, "1795349967.29-2", NULL), 0);
    ck_assert_int_eq(count(ev, "1795349967.29", "call.held"), 0); /* the lone Unhold */
    json_decref(ev);

    ck_assert(queuelog_rules_add_kind(&rules, "*@xfer=care_team", NULL, 0));
    ev = map_recording();
    ck_assert_str_eq(str(event(ev, "1795349967.29", "call.transferred"), "target_kind"),
                     "care_team");
    json_decref(ev);
}
END_TEST

static void assert_attended(json_t *ev, const char *call_id, const char *agent, const char *target)
{
    json_t *x = event(ev, call_id, "call.transferred");
    ck_assert_ptr_nonnull(x);
    ck_assert_str_eq(str(x, "agent"), agent);
    ck_assert_str_eq(str(x, "target"), target);
    ck_assert_str_eq(str(x, "mode"), "attended");
    ck_assert_str_eq(str(x, "target_kind"), "external");
    assert_closed_after_transfer(ev, call_id);
    /* the caller waited on hold during the consultation; the hold ends
     * no later than the transfer */
    ck_assert_int_eq(count(ev, call_id, "call.held"), 1);
    ck_assert_int_eq(count(ev, call_id, "call.resumed"), 1);
    ck_assert(at(event(ev, call_id, "call.held")) <= at(event(ev, call_id, "call.resumed")));
    ck_assert(at(event(ev, call_id, "call.resumed")) <= at(x));
}

START_TEST(s07a_attended_transfer_completed_with_dtmf)
{
    json_t *ev = map_recording();
    assert_answered(ev, "1795349980.33", "huishoudelijke-zorg", "+31612340007", "anouk-jansen", 2);
    assert_attended(ev, "1795349980.33", "anouk-jansen", "2002@xfer");
    double hold = span(ev, "1795349980.33", "call.held", "call.resumed");
    ck_assert_msg(hold > 3.0 && hold < 3.5, "hold %.3f", hold);
    json_decref(ev);
}
END_TEST

START_TEST(s07b_attended_transfer_completed_by_hangup)
{
    /* AttendedTransfer names no target here: the consultation channel does. */
    json_t *ev = map_recording();
    assert_answered(ev, "1795349997.39", "huishoudelijke-zorg", "+31612340014", "bram-de-vries", 2);
    assert_attended(ev, "1795349997.39", "bram-de-vries", "2003@xfer");
    json_decref(ev);
}
END_TEST

START_TEST(s08_hold_and_resume)
{
    json_t *ev = map_recording();
    assert_answered(ev, "1795350015.45", "huishoudelijke-zorg", "+31612340008", "chantal-bakker", 2);
    assert_ended(ev, "1795350015.45", "agent", 9.5);
    ck_assert_int_eq(count(ev, "1795350015.45", "call.held"), 1);
    double before = span(ev, "1795350015.45", "call.answered", "call.held");
    double hold = span(ev, "1795350015.45", "call.held", "call.resumed");
    ck_assert_msg(before > 2.0 && before < 3.0, "talked %.3f before hold", before);
    ck_assert_msg(hold > 3.8 && hold < 4.2, "hold %.3f", hold);
    json_decref(ev);
}
END_TEST

START_TEST(s09_paused_member_skipped)
{
    json_t *ev = map_recording();
    assert_answered(ev, "1795350031.49", "huishoudelijke-zorg", "+31612340009", "anouk-jansen", 2);
    assert_ended(ev, "1795350031.49", "agent", 4.5);
    json_decref(ev);
}
END_TEST

START_TEST(s10_two_calls_waiting)
{
    json_t *ev = map_recording();
    assert_answered(ev, "1795350042.53", "thuiszorg", "+31612340010", "esra-yilmaz", 4);
    assert_answered(ev, "1795350042.55", "thuiszorg", "+31612340011", "dirk-visser", 8);
    assert_ended(ev, "1795350042.53", "agent", 5.5);
    assert_ended(ev, "1795350042.55", "agent", 5.5);
    json_decref(ev);
}
END_TEST

START_TEST(s11_blind_transfer_into_another_queue)
{
    json_t *ev = map_recording();
    const char *first = "1795350058.63", *second = "1795350058.63-2";
    assert_answered(ev, first, "huishoudelijke-zorg", "+31612340012", "bram-de-vries", 2);
    json_t *x = event(ev, first, "call.transferred");
    ck_assert_ptr_nonnull(x);
    ck_assert_str_eq(str(x, "target"), "thuiszorg");
    ck_assert_str_eq(str(x, "target_kind"), "queue");
    ck_assert_str_eq(str(x, "mode"), "blind");
    ck_assert_str_eq(str(x, "agent"), "bram-de-vries");
    assert_closed_after_transfer(ev, first);
    /* a new contact of its own queue, naming the first */
    json_t *off = event(ev, second, "call.offered");
    ck_assert_ptr_nonnull(off);
    ck_assert_str_eq(str(off, "transferred_from"), first);
    ck_assert(at(x) <= at(off));
    assert_answered(ev, second, "thuiszorg", "+31612340012", "esra-yilmaz", 2);
    assert_ended(ev, second, "agent", 6.5);
    ck_assert(at(event(ev, first, "call.ended")) >= at(event(ev, second, "call.ended")));
    json_decref(ev);
}
END_TEST

START_TEST(s12_dynamic_member)
{
    json_t *ev = map_recording();
    assert_answered(ev, "1795350076.71", "thuiszorg", "+31612340013", "dirk-visser", 2);
    assert_ended(ev, "1795350076.71", "agent", 4.5);
    json_decref(ev);
}
END_TEST

/* ---- properties of the whole output ---- */

START_TEST(every_contact_has_one_outcome_and_unique_ids)
{
    json_t *ev = map_recording();
    ck_assert_int_eq(count(ev, NULL, "call.offered"), 15);
    ck_assert_int_eq(count(ev, NULL, "call.answered"), 13);
    ck_assert_int_eq(count(ev, NULL, "call.abandoned"), 1);
    ck_assert_int_eq(count(ev, NULL, "call.transferred"), 4);
    ck_assert_int_eq(count(ev, NULL, "call.ended"), 14); /* 10 + 4 after transfers */
    ck_assert_int_eq(count(ev, NULL, "call.held"), count(ev, NULL, "call.resumed"));
    StrMap ids = STRMAP_INIT;
    size_t i;
    json_t *e;
    json_array_foreach(ev, i, e) {
        json_t *p = json_object_get(e, "params");
        const char *call_id = str(p, "call_id");
        const char *method = json_string_value(json_object_get(e, "method"));
        ck_assert_msg(strmap_put(&ids, str(p, "event_id"), p) == NULL, "id %s twice",
                      str(p, "event_id"));
        if (strcmp(method, "call.offered") == 0) {
            int xfr = count(ev, call_id, "call.transferred");
            int outcomes = count(ev, call_id, "call.abandoned") + xfr +
                           count(ev, call_id, "call.ended") - xfr; /* a transfer's closing end */
            ck_assert_int_le(xfr, 1);
            ck_assert_msg(outcomes == 1, "%s has %d outcomes", call_id, outcomes);
        } else {
            /* nothing before the offer, and time never runs backwards */
            ck_assert(at(event(ev, call_id, "call.offered")) <= at(p));
        }
    }
    strmap_free(&ids);
    json_decref(ev);
}
END_TEST

START_TEST(replay_gives_the_same_events)
{
    json_t *a = map_recording(), *b = map_recording();
    ck_assert(json_equal(a, b));
    json_decref(a);
    json_decref(b);
}
END_TEST

START_TEST(any_split_of_the_stream_gives_the_same_events)
{
    json_t *whole = map_recording();
    json_t *bytewise = map_stream(raw, raw_len, 1, true);
    ck_assert(json_equal(whole, bytewise));
    json_decref(bytewise);
    for (unsigned seed = 2; seed < 12; seed++) {
        json_t *chunked = map_stream(raw, raw_len, seed, true);
        ck_assert_msg(json_equal(whole, chunked), "seed %u differs", seed);
        json_decref(chunked);
    }
    json_decref(whole);
}
END_TEST

START_TEST(the_recording_decides_everything_without_a_flush)
{
    /* every outcome is decided by a later event in the stream itself */
    json_t *a = map_recording(), *b = map_stream(raw, raw_len, 0, false);
    ck_assert(json_equal(a, b));
    json_decref(a);
    json_decref(b);
}
END_TEST

/* ---- the traps, by editing the recorded stream ---- */

typedef void (*EditFn)(StrBuf *out, const char *msg, size_t len, void *ctx);

/* Rebuilds the stream message by message ("\r\n\r\n"-separated); fn
 * appends each message's replacement (without the blank line). */
static char *edit_stream(EditFn fn, void *ctx, size_t *out_len)
{
    StrBuf out = STRBUF_INIT;
    const char *p = raw, *end = raw + raw_len;
    while (p < end) {
        const char *sep = strstr(p, "\r\n\r\n");
        size_t len = sep ? (size_t)(sep - p) : (size_t)(end - p);
        size_t before = out.len;
        fn(&out, p, len, ctx);
        if (out.len > before)
            strbuf_puts(&out, "\r\n\r\n");
        p += len + (sep ? 4 : 0);
    }
    *out_len = out.len;
    return strbuf_steal(&out);
}

/* True if the message has this exact line. */
static bool has_line(const char *msg, size_t len, const char *line)
{
    size_t n = strlen(line);
    for (const char *p = msg; p + n <= msg + len; p++) {
        if ((p == msg || p[-1] == '\n') && memcmp(p, line, n) == 0 &&
            (p + n == msg + len || p[n] == '\r'))
            return true;
    }
    return false;
}

/* Appends the message without lines whose key is in drop (NULL-ended). */
static void append_without(StrBuf *out, const char *msg, size_t len, const char *const *drop)
{
    const char *p = msg, *end = msg + len;
    bool first = true;
    while (p < end) {
        const char *nl = strstr(p, "\r\n");
        if (!nl || nl > end)
            nl = end;
        bool keep = true;
        for (size_t i = 0; drop[i]; i++) {
            size_t k = strlen(drop[i]);
            if ((size_t)(nl - p) > k && memcmp(p, drop[i], k) == 0 && p[k] == ':')
                keep = false;
        }
        if (keep) {
            if (!first)
                strbuf_puts(out, "\r\n");
            strbuf_append(out, p, (size_t)(nl - p));
            first = false;
        }
        p = nl + (nl < end ? 2 : 0);
    }
}

static void keep_all(StrBuf *out, const char *msg, size_t len, void *ctx)
{
    strbuf_append(out, msg, len);
}

START_TEST(editing_helpers_are_faithful)
{
    size_t len;
    char *same = edit_stream(keep_all, NULL, &len);
    ck_assert_uint_eq(len, raw_len);
    ck_assert(memcmp(same, raw, len) == 0);
    free(same);
}
END_TEST

static void drop_varset(StrBuf *out, const char *msg, size_t len, void *ctx)
{
    if (has_line(msg, len, "Event: VarSet") && !has_line(msg, len, "Variable: QUEUESTATUS"))
        return;
    strbuf_append(out, msg, len);
    /* and some noise of our own after every event on a caller channel */
    if (ctx && has_line(msg, len, "Event: Newstate")) {
        strbuf_puts(out, "\r\n\r\nEvent: VarSet\r\nPrivilege: dialplan,all\r\n"
                         "Channel: Local/thuiszorg@incoming-00000006;2\r\n"
                         "Uniqueid: 1795349941.13\r\nLinkedid: 1795349941.12\r\n"
                         "Variable: __TALK\r\nValue: 60");
    }
}

START_TEST(varset_noise_changes_nothing)
{
    json_t *whole = map_recording();
    size_t len;
    char *edited = edit_stream(drop_varset, NULL, &len);
    json_t *quiet = map_stream(edited, len, 0, true);
    free(edited);
    ck_assert(json_equal(whole, quiet));
    json_decref(quiet);
    edited = edit_stream(drop_varset, "noisy", &len);
    json_t *noisy = map_stream(edited, len, 0, true);
    free(edited);
    ck_assert(json_equal(whole, noisy));
    json_decref(noisy);
    json_decref(whole);
}
END_TEST

/* Scenario 2's AgentComplete, stripped of caller fields. */
static void strip_complete(StrBuf *out, const char *msg, size_t len, void *ctx)
{
    if (has_line(msg, len, "Event: AgentComplete") && has_line(msg, len, "Uniqueid: 1795349925.5"))
        append_without(out, msg, len, ctx);
    else
        strbuf_append(out, msg, len);
}

START_TEST(agent_complete_without_caller_fields)
{
    static const char *const no_caller[] = {"Channel", "Uniqueid", "CallerIDNum", "CallerIDName",
                                            "ConnectedLineNum", "ConnectedLineName", NULL};
    static const char *const no_ids[] = {"Channel", "Uniqueid", "Linkedid", "CallerIDNum",
                                         "DestChannel", "DestUniqueid", "DestLinkedid", NULL};
    const void *variants[] = {no_caller, no_ids};
    for (size_t v = 0; v < 2; v++) {
        size_t len;
        char *edited = edit_stream(strip_complete, (void *)variants[v], &len);
        json_t *ev = map_stream(edited, len, 0, true);
        free(edited);
        /* by Linkedid, then by queue and member */
        assert_ended(ev, "1795349925.5", "agent", 5.5);
        ck_assert_int_eq(count(ev, NULL, "call.ended"), 14);
        json_decref(ev);
    }
}
END_TEST

/* The recording with every `from` replaced by `to`. */
static char *replaced(const char *from, const char *to, size_t *len)
{
    StrBuf out = STRBUF_INIT;
    size_t flen = strlen(from);
    for (size_t i = 0; i < raw_len;) {
        if (i + flen <= raw_len && memcmp(raw + i, from, flen) == 0) {
            strbuf_puts(&out, to);
            i += flen;
        } else {
            strbuf_append(&out, raw + i, 1);
            i++;
        }
    }
    *len = out.len;
    return strbuf_steal(&out);
}

/* A caller id that is no phone number (a SIP user's name) offers the
 * contact without a caller, as a hidden one: kicd refuses such a caller on
 * a voice call, and the offer, refused for good, would be lost. */
START_TEST(a_caller_id_that_is_no_number_offers_a_withheld_caller)
{
    json_t *whole = map_recording();
    static const char *const names[] = {"alice", "sip:bob@pbx", "+31612345678;ext=1", "123abc"};
    for (size_t i = 0; i < KIC_ARRAY_LEN(names); i++) {
        size_t len;
        char *edited = replaced("+31612340001", names[i], &len);
        json_t *ev = map_stream(edited, len, 0, true);
        free(edited);
        json_t *off = event(ev, "1795349913.1", "call.offered");
        ck_assert_msg(off != NULL, "%s: not offered", names[i]);
        ck_assert_msg(json_object_get(off, "caller") == NULL, "%s: sent as the caller", names[i]);
        ck_assert_int_eq(count(ev, NULL, "call.offered"), count(whole, NULL, "call.offered"));
        assert_ended(ev, "1795349913.1", "caller", 7);
        json_decref(ev);
    }
    json_decref(whole);
}
END_TEST

START_TEST(bridge_started_mid_call)
{
    /* start the stream just after scenario 1's QueueCallerJoin */
    const char *cut = strstr(raw, "Event: MusicOnHoldStart");
    ck_assert_ptr_nonnull(cut);
    json_t *ev = map_stream(cut, raw_len - (size_t)(cut - raw), 0, true);
    json_t *off = event(ev, "1795349913.1", "call.offered");
    ck_assert_ptr_nonnull(off);
    /* offered HoldTime (2 s, in seconds) before the AgentConnect */
    KicTime want;
    ck_assert(ami_time_parse("1795349914.053307", &want));
    ck_assert_int_eq(at(off), want);
    ck_assert_str_eq(str(off, "caller"), "+31612340001"); /* AgentConnect carries it */
    assert_ended(ev, "1795349913.1", "caller", 7);
    ck_assert_int_eq(count(ev, NULL, "call.offered"), 15);
    json_decref(ev);
}
END_TEST

/* Scenario 1's AgentComplete stamped before its AgentConnect. */
static void step_back(StrBuf *out, const char *msg, size_t len, void *ctx)
{
    if (has_line(msg, len, "Event: AgentComplete") && has_line(msg, len, "Uniqueid: 1795349913.1")) {
        static const char *const ts[] = {"Timestamp", NULL};
        strbuf_puts(out, "Timestamp: 1795349916.053000\r\n");
        append_without(out, msg, len, ts);
    } else {
        strbuf_append(out, msg, len);
    }
}

START_TEST(timestamps_stepping_back_are_clamped)
{
    size_t len;
    char *edited = edit_stream(step_back, NULL, &len);
    json_t *ev = map_stream(edited, len, 0, true);
    free(edited);
    json_t *ans = event(ev, "1795349913.1", "call.answered");
    json_t *end = event(ev, "1795349913.1", "call.ended");
    ck_assert_ptr_nonnull(end);
    ck_assert_int_eq(at(end), at(ans)); /* not before the answer */
    json_decref(ev);
}
END_TEST

/* Scenario 7b as in the dry runs: AgentComplete (Reason agent) first. */
static void race_7b(StrBuf *out, const char *msg, size_t len, void *ctx)
{
    char **held = ctx;
    if (has_line(msg, len, "Event: AttendedTransfer") &&
        has_line(msg, len, "TransfereeUniqueid: 1795349997.39")) {
        *held = strndup(msg, len); /* put it after the AgentComplete */
        return;
    }
    if (has_line(msg, len, "Event: AgentComplete") && has_line(msg, len, "Uniqueid: 1795349997.39")) {
        static const char *const reason[] = {"Reason", NULL};
        append_without(out, msg, len, reason);
        strbuf_puts(out, "\r\nReason: agent\r\n\r\n");
        strbuf_puts(out, *held);
        free(*held);
        *held = NULL;
        return;
    }
    strbuf_append(out, msg, len);
}

START_TEST(attended_transfer_reported_as_agent_hangup_first)
{
    char *held = NULL;
    size_t len;
    char *edited = edit_stream(race_7b, &held, &len);
    ck_assert_ptr_null(held);
    json_t *ev = map_stream(edited, len, 0, true);
    free(edited);
    assert_attended(ev, "1795349997.39", "bram-de-vries", "2003@xfer");
    json_decref(ev);
}
END_TEST

/* Drops scenario 7a's MusicOnHoldStop: Hold without Unhold. */
static void no_unhold(StrBuf *out, const char *msg, size_t len, void *ctx)
{
    if (has_line(msg, len, "Event: MusicOnHoldStop") && has_line(msg, len, "Uniqueid: 1795349980.33"))
        return;
    strbuf_append(out, msg, len);
}

START_TEST(hold_without_unhold_ends_at_the_transfer)
{
    size_t len;
    char *edited = edit_stream(no_unhold, NULL, &len);
    json_t *ev = map_stream(edited, len, 0, true);
    free(edited);
    assert_attended(ev, "1795349980.33", "anouk-jansen", "2002@xfer");
    ck_assert_int_eq(at(event(ev, "1795349980.33", "call.resumed")),
                     at(event(ev, "1795349980.33", "call.transferred")));
    json_decref(ev);
}
END_TEST

/* Scenario 11 with the new queue's join after the old AgentComplete. */
static void join_late(StrBuf *out, const char *msg, size_t len, void *ctx)
{
    char **held = ctx;
    if (has_line(msg, len, "Event: QueueCallerJoin") && has_line(msg, len, "Queue: thuiszorg") &&
        has_line(msg, len, "Uniqueid: 1795350058.63")) {
        *held = strndup(msg, len);
        return;
    }
    strbuf_append(out, msg, len);
    if (*held && has_line(msg, len, "Event: AgentComplete") &&
        has_line(msg, len, "Uniqueid: 1795350058.63")) {
        strbuf_puts(out, "\r\n\r\n");
        strbuf_puts(out, *held);
        free(*held);
        *held = NULL;
    }
}

START_TEST(blind_transfer_to_queue_in_either_order)
{
    char *held = NULL;
    size_t len;
    char *edited = edit_stream(join_late, &held, &len);
    ck_assert_ptr_null(held);
    json_t *ev = map_stream(edited, len, 0, true);
    free(edited);
    json_t *x = event(ev, "1795350058.63", "call.transferred");
    ck_assert_ptr_nonnull(x);
    ck_assert_str_eq(str(x, "target_kind"), "queue"); /* a queue it has seen */
    ck_assert_str_eq(str(x, "target"), "thuiszorg");
    ck_assert_str_eq(str(event(ev, "1795350058.63-2", "call.offered"), "transferred_from"),
                     "1795350058.63");
    json_decref(ev);
}
END_TEST

START_TEST(undecided_abandon_is_decided_after_grace)
{
    /* the stream stops right after scenario 3's QueueCallerAbandon */
    const char *cut = strstr(raw, "Event: QueueCallerAbandon");
    cut = strstr(cut, "\r\n\r\n") + 4;
    size_t len = (size_t)(cut - raw);
    json_t *ev = map_stream(raw, len, 0, false);
    ck_assert_int_eq(count(ev, "1795349935.9", "call.abandoned"), 0); /* still open */
    json_decref(ev);

    json_t *events = json_array();
    AmiMapConfig cfg = {.rules = &rules};
    AmiMapper *m = ami_map_new(&cfg, collect, NULL, events);
    AmiParser p;
    ck_assert(ami_parser_init(&p, AMI_DEFAULT_MAX_MESSAGE));
    for (size_t off = 0; off < len;) {
        off += ami_parser_feed(&p, raw + off, len - off);
        AmiMessage msg;
        const char *banner;
        AmiResult r;
        while ((r = ami_parser_next(&p, &msg, &banner)) != AMI_NEED)
            if (r == AMI_MESSAGE)
                ami_map_feed(m, &msg, 0);
    }
    ami_map_idle(m, 1 * KIC_USEC);
    ck_assert_int_eq(count(events, "1795349935.9", "call.abandoned"), 0);
    ami_map_idle(m, 4 * KIC_USEC);
    ck_assert_int_eq(count(events, "1795349935.9", "call.abandoned"), 1);
    ck_assert_int_eq(time_diff_s(at(event(events, "1795349935.9", "call.offered")),
                                 at(event(events, "1795349935.9", "call.abandoned"))) > 3.9, 1);
    ami_parser_free(&p);
    ami_map_free(m);
    json_decref(events);
}
END_TEST

/* ---- hand-written streams for what the recording does not show ---- */

#define BANNER "Asterisk Call Manager/13.0.0\r\n"
#define JOIN(ts, uid, queue)                                                                    \
    "Event: QueueCallerJoin\r\nTimestamp: " ts "\r\nChannel: PJSIP/trunk-" uid "\r\n"         \
    "CallerIDNum: +31612340002\r\nUniqueid: " uid "\r\nLinkedid: " uid "\r\nQueue: " queue   \
    "\r\nPosition: 1\r\nCount: 1\r\n\r\n"
#define DIAL_END(ts, uid, status)                                                               \
    "Event: DialEnd\r\nTimestamp: " ts "\r\nChannel: PJSIP/trunk-" uid "\r\nUniqueid: " uid   \
    "\r\nDestChannel: PJSIP/1001-0000000a\r\nDestUniqueid: m" uid "\r\nDialStatus: " status   \
    "\r\n\r\n"
#define LEAVE(ts, uid, queue)                                                                   \
    "Event: QueueCallerLeave\r\nTimestamp: " ts "\r\nChannel: PJSIP/trunk-" uid "\r\n"        \
    "Uniqueid: " uid "\r\nQueue: " queue "\r\nCount: 0\r\nPosition: 1\r\n\r\n"
#define MEMBER "Interface: PJSIP/1001\r\nMemberName: Anouk Jansen\r\n"
#define CONNECT(ts, uid, queue)                                                                 \
    "Event: AgentConnect\r\nTimestamp: " ts "\r\nChannel: PJSIP/trunk-" uid "\r\n"            \
    "Uniqueid: " uid "\r\nLinkedid: " uid "\r\nQueue: " queue "\r\nDestChannel: "            \
    "PJSIP/1001-0000000a\r\n" MEMBER "HoldTime: 10\r\nRingTime: 5\r\n\r\n"
#define COMPLETE(ts, uid, queue, reason)                                                        \
    "Event: AgentComplete\r\nTimestamp: " ts "\r\nChannel: PJSIP/trunk-" uid "\r\n"           \
    "Uniqueid: " uid "\r\nLinkedid: " uid "\r\nQueue: " queue "\r\n" MEMBER                   \
    "HoldTime: 10\r\nTalkTime: 60\r\nReason: " reason "\r\n\r\n"
#define HANGUP(ts, uid)                                                                         \
    "Event: Hangup\r\nTimestamp: " ts "\r\nChannel: PJSIP/trunk-" uid "\r\nUniqueid: " uid    \
    "\r\nLinkedid: " uid "\r\nCause: 16\r\n\r\n"
/* an unrelated event: stream time moves on */
#define TICK(ts)                                                                                \
    "Event: DeviceStateChange\r\nTimestamp: " ts "\r\nDevice: PJSIP/1009\r\nState: "          \
    "NOT_INUSE\r\n\r\n"

static json_t *map_text(const char *text, bool flush)
{
    return map_stream(text, strlen(text), 0, flush);
}

/* ---- resync after a reconnect: the channel list (CoreShowChannels) ---- */

/* As manager.c writes them: no Timestamp (the action builds them, and
 * action_login builds FullyBooted). */
#define FULLY_BOOTED                                                                            \
    "Event: FullyBooted\r\nPrivilege: system,all\r\nUptime: 80\r\nLastReload: 80\r\n"        \
    "Status: Fully Booted\r\n\r\n"
#define LIST_START(id)                                                                          \
    "Response: Success\r\nActionID: " id "\r\nEventList: start\r\n"                          \
    "Message: Channels will follow\r\n\r\n"
#define LISTED(id, uid)                                                                         \
    "Event: CoreShowChannel\r\nActionID: " id "\r\nChannel: PJSIP/trunk-" uid "\r\n"        \
    "ChannelState: 6\r\nChannelStateDesc: Up\r\nCallerIDNum: +31612340002\r\n"              \
    "Context: incoming\r\nExten: s\r\nPriority: 3\r\nUniqueid: " uid "\r\nLinkedid: " uid   \
    "\r\nApplication: Queue\r\nApplicationData: q1\r\nDuration: 00:00:07\r\n"               \
    "BridgeId: \r\n\r\n"
#define LIST_END(id, n)                                                                         \
    "Event: CoreShowChannelsComplete\r\nActionID: " id "\r\nEventList: Complete\r\n"        \
    "ListItems: " n "\r\n\r\n"

START_TEST(resync_list_without_a_caller_ends_or_abandons_its_contact)
{
    /* .1 answered, .2 waiting: their Hangups were lost with the
     * connection, so the list after the reconnect lacks them; .3 is in
     * it, as is a channel the bridge does not follow (.9) */
    static const char text[] =
        BANNER JOIN("1795349900.000000", "1795349900.1", "q1")
            CONNECT("1795349905.000000", "1795349900.1", "q1")
                JOIN("1795349906.000000", "1795349900.2", "q1")
                    JOIN("1795349907.000000", "1795349900.3", "q1") FULLY_BOOTED
                        LIST_START("kic-resync-1") LISTED("kic-resync-1", "1795349900.9")
                            LISTED("kic-resync-1", "1795349900.3")
                                LIST_END("kic-resync-1", "2") TICK("1795349911.000000");
    json_t *ev = map_text(text, false);
    /* a hang-up at the stream time of the list, after the usual grace */
    assert_ended(ev, "1795349900.1", "caller", 2.0);
    ck_assert_double_eq_tol(span(ev, "1795349900.1", "call.offered", "call.ended"), 7.0, 0.001);
    ck_assert_int_eq(count(ev, "1795349900.2", "call.abandoned"), 1);
    ck_assert_double_eq_tol(span(ev, "1795349900.2", "call.offered", "call.abandoned"), 1.0,
                            0.001);
    ck_assert_int_eq(count(ev, "1795349900.3", NULL), 1); /* listed: still waiting */
    ck_assert_int_eq(count(ev, NULL, NULL), 6);
    json_decref(ev);
}
END_TEST

START_TEST(a_listed_caller_is_kept_and_followed)
{
    static const char text[] =
        BANNER JOIN("1795349900.000000", "1795349900.3", "q1") FULLY_BOOTED
            LIST_START("kic-resync-1") LISTED("kic-resync-1", "1795349900.3")
                LIST_END("kic-resync-1", "1") CONNECT("1795349920.000000", "1795349900.3", "q1")
                    COMPLETE("1795349980.000000", "1795349900.3", "q1", "agent")
                        HANGUP("1795349980.000100", "1795349900.3");
    json_t *ev = map_text(text, true);
    assert_answered(ev, "1795349900.3", "q1", "+31612340002", "anouk-jansen", 20.0);
    assert_ended(ev, "1795349900.3", "agent", 60.0);
    json_decref(ev);
}
END_TEST

START_TEST(an_agent_complete_after_the_list_still_says_who_hung_up)
{
    /* the list says the caller is gone; its AgentComplete, sent after the
     * reconnect, comes within the grace and names the agent */
    static const char text[] =
        BANNER JOIN("1795349900.000000", "1795349900.1", "q1")
            CONNECT("1795349905.000000", "1795349900.1", "q1") FULLY_BOOTED
                LIST_START("kic-resync-1") LIST_END("kic-resync-1", "0")
                    COMPLETE("1795349906.000000", "1795349900.1", "q1", "agent")
                        TICK("1795349912.000000");
    json_t *ev = map_text(text, false);
    assert_ended(ev, "1795349900.1", "agent", 1.0);
    json_decref(ev);
}
END_TEST

START_TEST(resync_events_have_no_timestamp_and_leave_the_clock_alone)
{
    /* received long after the recording: a list event counted as one
     * without Timestamp, or moving the stream clock, would stamp the end
     * with that time (and warn about timestampevents) */
    static const char text[] =
        BANNER FULLY_BOOTED JOIN("1795349900.000000", "1795349900.1", "q1")
            CONNECT("1795349905.000000", "1795349900.1", "q1") FULLY_BOOTED
                LIST_START("kic-resync-1") LISTED("kic-resync-1", "1795349900.9")
                    LIST_END("kic-resync-1", "1") TICK("1795349906.000000");
    AmiMapStats st;
    MapHow how = {.received = 2000000000 * KIC_USEC, .stats = &st};
    json_t *ev = map_bytes(text, strlen(text), 0, true, how);
    ck_assert_uint_eq(st.no_timestamp, 0);
    ck_assert_uint_eq(st.resyncs, 1);
    ck_assert_uint_eq(st.gone, 1);
    assert_ended(ev, "1795349900.1", "caller", 0.0);
    json_decref(ev);
}
END_TEST

START_TEST(a_list_cut_short_decides_nothing)
{
    /* the connection was lost again during the first list: only the
     * second, complete one counts */
    static const char text[] =
        BANNER JOIN("1795349900.000000", "1795349900.1", "q1") FULLY_BOOTED
            LIST_START("kic-resync-1") LISTED("kic-resync-1", "1795349900.9") FULLY_BOOTED
                LIST_START("kic-resync-2") LISTED("kic-resync-2", "1795349900.1")
                    LIST_END("kic-resync-2", "1") TICK("1795349910.000000")
                        "Event: CoreShowChannelsComplete\r\nActionID: someone-else\r\n"
                        "EventList: Complete\r\nListItems: 0\r\n\r\n";
    json_t *ev = map_text(text, true);
    ck_assert_int_eq(count(ev, NULL, NULL), 1); /* offered, still waiting */
    json_decref(ev);
}
END_TEST

START_TEST(forgetting_a_caller_ends_its_open_contact)
{
    /* evicted to make room: its agent must not stay on the call in kicd */
    static const char two[] = BANNER JOIN("1795349900.000000", "1795349900.1", "q1")
        CONNECT("1795349905.000000", "1795349900.1", "q1")
            JOIN("1795349950.000000", "1795349900.2", "q1");
    AmiMapStats st;
    MapHow how = {.cfg = {.max_callers = 1}, .stats = &st};
    json_t *ev = map_bytes(two, strlen(two), 0, false, how);
    json_t *end = event(ev, "1795349900.1", "call.ended");
    ck_assert_ptr_nonnull(end);
    ck_assert_str_eq(str(end, "by"), "system");
    ck_assert_double_eq_tol(span(ev, "1795349900.1", "call.answered", "call.ended"), 0.0, 0.001);
    ck_assert_int_eq(count(ev, "1795349900.2", "call.offered"), 1);
    ck_assert_uint_eq(st.evicted, 1);
    json_decref(ev);

    /* silent longer than forget_after (here 60 s), found by the sweep
     * every 1000 messages: ended at its last sign of life */
    StrBuf text = STRBUF_INIT;
    strbuf_puts(&text, BANNER JOIN("1795349900.000000", "1795349900.1", "q1"));
    for (int i = 0; i < 1000; i++)
        strbuf_printf(&text, "Event: DeviceStateChange\r\nTimestamp: %d.000000\r\n"
                             "Device: PJSIP/1009\r\nState: NOT_INUSE\r\n\r\n",
                      1795349970 + i);
    how = (MapHow){.cfg = {.forget_after = 60 * KIC_USEC}, .stats = &st};
    ev = map_bytes(text.data, text.len, 0, false, how);
    end = event(ev, "1795349900.1", "call.ended");
    ck_assert_ptr_nonnull(end);
    ck_assert_str_eq(str(end, "by"), "system");
    ck_assert_double_eq_tol(span(ev, "1795349900.1", "call.offered", "call.ended"), 0.0, 0.001);
    ck_assert_uint_eq(st.evicted, 1);
    json_decref(ev);
    strbuf_free(&text);
}
END_TEST

START_TEST(member_gosub_between_leave_and_connect)
{
    /* app_queue leaves the queue, runs the member's gosub (a whisper),
     * then sends AgentConnect: 5 s later here, past the 3 s grace */
    static const char text[] =
        BANNER JOIN("1795349900.000000", "1795349900.1", "q1")
            DIAL_END("1795349905.000000", "1795349900.1", "ANSWER")
                LEAVE("1795349905.000100", "1795349900.1", "q1") TICK("1795349909.000000")
                    CONNECT("1795349910.000000", "1795349900.1", "q1")
                        COMPLETE("1795349970.000000", "1795349900.1", "q1", "caller");
    json_t *ev = map_text(text, true);
    assert_answered(ev, "1795349900.1", "q1", "+31612340002", "anouk-jansen", 10.0);
    assert_ended(ev, "1795349900.1", "caller", 60.0);
    ck_assert_int_eq(count(ev, NULL, NULL), 3);
    json_decref(ev);
}
END_TEST

START_TEST(without_an_answer_a_leave_is_an_exit)
{
    /* no member picked up: the queue let the caller go (after the grace) */
    static const char text[] =
        BANNER JOIN("1795349900.000000", "1795349900.1", "q1")
            DIAL_END("1795349905.000000", "1795349900.1", "NOANSWER")
                LEAVE("1795349905.000100", "1795349900.1", "q1") TICK("1795349909.000000");
    json_t *ev = map_text(text, false);
    ck_assert_str_eq(str(event(ev, "1795349900.1", "call.ended"), "by"), "system");
    ck_assert_int_eq(count(ev, "1795349900.1", "call.answered"), 0);
    json_decref(ev);
}
END_TEST

START_TEST(caller_hangs_up_before_being_put_through)
{
    /* app_queue puts the call through all the same once the member's
     * gosub is done (CONNECT, then COMPLETECALLER in queue_log): the
     * contact is answered and ended by the caller, not abandoned */
    static const char text[] =
        BANNER JOIN("1795349900.000000", "1795349900.1", "q1")
            DIAL_END("1795349905.000000", "1795349900.1", "ANSWER")
                LEAVE("1795349905.000100", "1795349900.1", "q1")
                    HANGUP("1795349907.000000", "1795349900.1")
                        CONNECT("1795349908.000000", "1795349900.1", "q1");
    json_t *ev = map_text(text, true);
    ck_assert_int_eq(count(ev, "1795349900.1", "call.abandoned"), 0);
    ck_assert_int_eq(count(ev, "1795349900.1", "call.answered"), 1);
    ck_assert_str_eq(str(event(ev, "1795349900.1", "call.ended"), "by"), "caller");
    json_decref(ev);
    /* no AgentConnect at all: an end by the system, never an abandon (a
     * member took the call), also with --timeout-as abandoned */
    rules.timeout_is_abandon = true;
    static const char cut[] =
        BANNER JOIN("1795349900.000000", "1795349900.1", "q1")
            DIAL_END("1795349905.000000", "1795349900.1", "ANSWER")
                LEAVE("1795349905.000100", "1795349900.1", "q1")
                    HANGUP("1795349907.000000", "1795349900.1");
    ev = map_text(cut, true);
    ck_assert_int_eq(count(ev, "1795349900.1", "call.abandoned"), 0);
    ck_assert_str_eq(str(event(ev, "1795349900.1", "call.ended"), "by"), "system");
    json_decref(ev);
}
END_TEST

START_TEST(a_dumped_member_answer_does_not_hold_the_exit)
{
    /* AgentDump: the member hung up during the announcement, the caller
     * waited on; the later leave is an exit, decided after 3 s, not 60 */
    static const char text[] =
        BANNER JOIN("1795349900.000000", "1795349900.1", "q1")
            DIAL_END("1795349905.000000", "1795349900.1", "ANSWER")
                "Event: AgentDump\r\nTimestamp: 1795349906.000000\r\nChannel: PJSIP/trunk-"
                "1795349900.1\r\nUniqueid: 1795349900.1\r\nQueue: q1\r\n" MEMBER "\r\n"
                LEAVE("1795349930.000000", "1795349900.1", "q1") TICK("1795349934.000000");
    json_t *ev = map_text(text, false);
    ck_assert_int_eq(count(ev, "1795349900.1", "call.ended"), 1);
    json_decref(ev);
}
END_TEST

START_TEST(blind_transfer_by_number_into_a_queue_joined_after_complete)
{
    /* AgentComplete (transfer) may come before the new queue's join, and
     * the exten dialled (600) does not name the queue (support) */
    static const char text[] =
        BANNER JOIN("1795349900.000000", "1795349900.1", "q1")
            DIAL_END("1795349905.000000", "1795349900.1", "ANSWER")
                LEAVE("1795349905.000100", "1795349900.1", "q1")
                    CONNECT("1795349905.000200", "1795349900.1", "q1")
        "Event: BlindTransfer\r\nTimestamp: 1795349930.000000\r\nResult: Success\r\n"
        "TransfererChannel: PJSIP/1001-0000000a\r\nTransfererUniqueid: m1795349900.1\r\n"
        "TransfererLinkedid: 1795349900.1\r\nTransfereeChannel: PJSIP/trunk-1795349900.1\r\n"
        "TransfereeUniqueid: 1795349900.1\r\nTransfereeLinkedid: 1795349900.1\r\n"
        "IsExternal: No\r\nContext: from-internal\r\nExtension: 600\r\n\r\n"
                        COMPLETE("1795349930.100000", "1795349900.1", "q1", "transfer")
                            JOIN("1795349931.000000", "1795349900.1", "support");
    json_t *ev = map_text(text, true);
    json_t *x = event(ev, "1795349900.1", "call.transferred");
    ck_assert_ptr_nonnull(x);
    ck_assert_str_eq(str(x, "target_kind"), "queue");
    ck_assert_str_eq(str(x, "target"), "support");
    ck_assert_str_eq(str(x, "mode"), "blind");
    ck_assert_double_eq_tol(span(ev, "1795349900.1", "call.answered", "call.transferred"), 25.0,
                            0.01);
    ck_assert_str_eq(str(event(ev, "1795349900.1-2", "call.offered"), "transferred_from"),
                     "1795349900.1");
    json_decref(ev);
}
END_TEST

START_TEST(a_three_way_call_is_no_transfer)
{
    /* AttendedTransfer DestType Threeway: the agent stays on the call */
    static const char text[] =
        BANNER JOIN("1795349900.000000", "1795349900.1", "q1")
            DIAL_END("1795349905.000000", "1795349900.1", "ANSWER")
                LEAVE("1795349905.000100", "1795349900.1", "q1")
                    CONNECT("1795349910.000000", "1795349900.1", "q1")
        "Event: AttendedTransfer\r\nTimestamp: 1795349936.000000\r\nResult: Success\r\n"
        "OrigTransfererChannel: PJSIP/1001-0000000a\r\nOrigTransfererLinkedid: 1795349900.1\r\n"
        "SecondTransfererChannel: PJSIP/1001-0000000b\r\n"
        "SecondTransfererLinkedid: 1795349936.7\r\nTransfereeChannel: PJSIP/trunk-1795349900.1\r\n"
        "TransfereeUniqueid: 1795349900.1\r\nTransfereeLinkedid: 1795349900.1\r\n"
        "DestType: Threeway\r\nDestTransfererChannel: PJSIP/1001-0000000a\r\n\r\n"
                        COMPLETE("1795349970.000000", "1795349900.1", "q1", "caller");
    json_t *ev = map_text(text, true);
    ck_assert_int_eq(count(ev, "1795349900.1", "call.transferred"), 0);
    assert_ended(ev, "1795349900.1", "caller", 60.0);
    json_decref(ev);
}
END_TEST

START_TEST(only_a_timeout_becomes_an_abandon)
{
    /* --timeout-as abandoned: a queue that emptied (LEAVEEMPTY) let the
     * caller go, it did not time out (the queue_log import agrees) */
    rules.timeout_is_abandon = true;
    static const char text[] =
        BANNER JOIN("1795349900.000000", "1795349900.1", "q1")
        "Event: QueueCallerAbandon\r\nTimestamp: 1795349930.000000\r\nChannel: PJSIP/trunk-"
        "1795349900.1\r\nUniqueid: 1795349900.1\r\nQueue: q1\r\nPosition: 1\r\n"
        "OriginalPosition: 1\r\nHoldTime: 30\r\n\r\n"
        "Event: VarSet\r\nTimestamp: 1795349930.000100\r\nChannel: PJSIP/trunk-1795349900.1\r\n"
        "Uniqueid: 1795349900.1\r\nVariable: QUEUESTATUS\r\nValue: LEAVEEMPTY\r\n\r\n"
        JOIN("1795349940.000000", "1795349940.2", "q1")
        "Event: QueueCallerAbandon\r\nTimestamp: 1795349970.000000\r\nChannel: PJSIP/trunk-"
        "1795349940.2\r\nUniqueid: 1795349940.2\r\nQueue: q1\r\nPosition: 1\r\n"
        "OriginalPosition: 1\r\nHoldTime: 30\r\n\r\n"
        "Event: VarSet\r\nTimestamp: 1795349970.000100\r\nChannel: PJSIP/trunk-1795349940.2\r\n"
        "Uniqueid: 1795349940.2\r\nVariable: QUEUESTATUS\r\nValue: TIMEOUT\r\n\r\n";
    json_t *ev = map_text(text, true);
    ck_assert_str_eq(str(event(ev, "1795349900.1", "call.ended"), "by"), "system");
    ck_assert_int_eq(count(ev, "1795349900.1", "call.abandoned"), 0);
    ck_assert_int_eq(count(ev, "1795349940.2", "call.abandoned"), 1);
    json_decref(ev);
}
END_TEST

START_TEST(location_from_a_channel_variable)
{
    static const char join_and_var[] =
        "Asterisk Call Manager/13.0.0\r\n"
        "Event: VarSet\r\nTimestamp: 1795349913.000000\r\nChannel: PJSIP/trunk-00000001\r\n"
        "Uniqueid: 1795349913.1\r\nLinkedid: 1795349913.1\r\nVariable: __KIC_LOCATION\r\n"
        "Value: dordrecht\r\n\r\n"
        "Event: QueueCallerJoin\r\nTimestamp: 1795349914.000000\r\nChannel: PJSIP/trunk-00000001\r\n"
        "CallerIDNum: +31612340001\r\nUniqueid: 1795349913.1\r\nLinkedid: 1795349913.1\r\n"
        "Queue: huishoudelijke-zorg\r\nPosition: 1\r\nCount: 1\r\n\r\n";
    json_t *ev = map_stream(join_and_var, sizeof(join_and_var) - 1, 0, false);
    json_t *off = event(ev, "1795349913.1", "call.offered");
    ck_assert_str_eq(str(off, "location"), "dordrecht");
    ck_assert_str_eq(str(off, "caller"), "+31612340001");
    json_decref(ev);
}
END_TEST

START_TEST(agent_ids_follow_the_rules)
{
    ck_assert(queuelog_rules_add_agent(&rules, "Anouk Jansen", "a.jansen"));
    json_t *ev = map_recording();
    ck_assert_str_eq(str(event(ev, "1795349913.1", "call.answered"), "agent"), "a.jansen");
    json_decref(ev);
    rules.agent_by_interface = true;
    ev = map_recording();
    ck_assert_str_eq(str(event(ev, "1795349925.5", "call.answered"), "agent"), "a02");
    ck_assert_str_eq(str(event(ev, "1795349913.1", "call.answered"), "agent"), "a.jansen");
    json_decref(ev);
}
END_TEST

START_TEST(time_parse_and_format)
{
    KicTime t;
    ck_assert(ami_time_parse("1795349914.048917", &t));
    ck_assert_int_eq(t, 1795349914048917LL);
    ck_assert(ami_time_parse("1795349914", &t));
    ck_assert_int_eq(t, 1795349914000000LL);
    ck_assert(ami_time_parse("1795349914.5", &t));
    ck_assert_int_eq(t, 1795349914500000LL);
    ck_assert(!ami_time_parse("", &t));
    ck_assert(!ami_time_parse("17953x", &t));
    ck_assert(!ami_time_parse("-1", &t));
    char buf[40];
    ami_time_format(1795349914048917LL, buf, sizeof(buf));
    ck_assert_str_eq(buf, "2026-11-22T13:18:34.048917+01:00");
    KicTime back;
    ck_assert(time_parse_rfc3339(buf, &back));
    ck_assert_int_eq(back, 1795349914048917LL);
    ami_time_format(1782000000000001LL, buf, sizeof(buf)); /* summer time */
    ck_assert_str_eq(buf, "2026-06-21T02:00:00.000001+02:00");
}
END_TEST

int main(void)
{
    Suite *s = suite_create("ami_map");
    TCase *sc = tcase_create("scenarios");
    tcase_add_checked_fixture(sc, setup, teardown);
    tcase_add_test(sc, s01_answered_caller_hangs_up);
    tcase_add_test(sc, s02_answered_agent_hangs_up);
    tcase_add_test(sc, s03_abandoned_while_waiting);
    tcase_add_test(sc, s04_queue_timeout_is_not_an_abandon);
    tcase_add_test(sc, s05_ring_no_answer_then_another_member);
    tcase_add_test(sc, s06_blind_transfer_to_extension);
    tcase_add_test(sc, s07a_attended_transfer_completed_with_dtmf);
    tcase_add_test(sc, s07b_attended_transfer_completed_by_hangup);
    tcase_add_test(sc, s08_hold_and_resume);
    tcase_add_test(sc, s09_paused_member_skipped);
    tcase_add_test(sc, s10_two_calls_waiting);
    tcase_add_test(sc, s11_blind_transfer_into_another_queue);
    tcase_add_test(sc, s12_dynamic_member);
    suite_add_tcase(s, sc);

    TCase *whole = tcase_create("whole");
    tcase_add_checked_fixture(whole, setup, teardown);
    tcase_set_timeout(whole, 60);
    tcase_add_test(whole, every_contact_has_one_outcome_and_unique_ids);
    tcase_add_test(whole, replay_gives_the_same_events);
    tcase_add_test(whole, any_split_of_the_stream_gives_the_same_events);
    tcase_add_test(whole, the_recording_decides_everything_without_a_flush);
    suite_add_tcase(s, whole);

    TCase *traps = tcase_create("traps");
    tcase_add_checked_fixture(traps, setup, teardown);
    tcase_add_test(traps, editing_helpers_are_faithful);
    tcase_add_test(traps, varset_noise_changes_nothing);
    tcase_add_test(traps, agent_complete_without_caller_fields);
    tcase_add_test(traps, a_caller_id_that_is_no_number_offers_a_withheld_caller);
    tcase_add_test(traps, bridge_started_mid_call);
    tcase_add_test(traps, timestamps_stepping_back_are_clamped);
    tcase_add_test(traps, attended_transfer_reported_as_agent_hangup_first);
    tcase_add_test(traps, hold_without_unhold_ends_at_the_transfer);
    tcase_add_test(traps, blind_transfer_to_queue_in_either_order);
    tcase_add_test(traps, undecided_abandon_is_decided_after_grace);
    tcase_add_test(traps, location_from_a_channel_variable);
    tcase_add_test(traps, member_gosub_between_leave_and_connect);
    tcase_add_test(traps, without_an_answer_a_leave_is_an_exit);
    tcase_add_test(traps, caller_hangs_up_before_being_put_through);
    tcase_add_test(traps, a_dumped_member_answer_does_not_hold_the_exit);
    tcase_add_test(traps, blind_transfer_by_number_into_a_queue_joined_after_complete);
    tcase_add_test(traps, a_three_way_call_is_no_transfer);
    tcase_add_test(traps, only_a_timeout_becomes_an_abandon);
    tcase_add_test(traps, agent_ids_follow_the_rules);
    tcase_add_test(traps, time_parse_and_format);
    suite_add_tcase(s, traps);

    TCase *resync = tcase_create("resync");
    tcase_add_checked_fixture(resync, setup, teardown);
    tcase_add_test(resync, resync_list_without_a_caller_ends_or_abandons_its_contact);
    tcase_add_test(resync, a_listed_caller_is_kept_and_followed);
    tcase_add_test(resync, an_agent_complete_after_the_list_still_says_who_hung_up);
    tcase_add_test(resync, resync_events_have_no_timestamp_and_leave_the_clock_alone);
    tcase_add_test(resync, a_list_cut_short_decides_nothing);
    tcase_add_test(resync, forgetting_a_caller_ends_its_open_contact);
    suite_add_tcase(s, resync);
    return unit_run(s);
}
