/* queue_log import: the real A-queue_log mapped per scenario, the same
 * per-call outcomes as the AMI mapping of the same run (A-ami.raw), stable
 * ids on a second import, unmapped lines counted by reason, calls whose
 * start is missing, and the shared naming rules. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "amimap.h"
#include "queuelog.h"
#include "unit.h"

static QueueLogRules rules;

static void setup(void)
{
    setenv("TZ", "Europe/Amsterdam", 1);
    queuelog_rules_init(&rules);
}

static void teardown(void)
{
    queuelog_rules_free(&rules);
}

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

static void collect(void *ctx, json_t *ev)
{
    json_array_append_new(ctx, ev);
}

/* Maps text fed in chunks of `chunk` bytes (0: at once). */
static json_t *map_text(const char *text, size_t len, size_t chunk, QueueLogStats *stats)
{
    json_t *events = json_array();
    QueueLog *q = queuelog_new(&rules, collect, events);
    ck_assert_ptr_nonnull(q);
    for (size_t off = 0; off < len;) {
        size_t n = chunk && chunk < len - off ? chunk : len - off;
        queuelog_feed(q, text + off, n);
        off += n;
    }
    queuelog_finish(q);
    if (stats)
        *stats = *queuelog_stats(q);
    queuelog_free(q);
    return events;
}

static json_t *map_str(const char *text, QueueLogStats *stats)
{
    return map_text(text, strlen(text), 0, stats);
}

static json_t *map_recording(QueueLogStats *stats)
{
    size_t len;
    char *text = read_file("A-queue_log", &len);
    json_t *ev = map_text(text, len, 0, stats);
    free(text);
    return ev;
}

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

static const char *str(json_t *params, const char *key)
{
    const char *s = json_string_value(json_object_get(params, key));
    ck_assert_msg(s != NULL, "missing %s", key);
    return s;
}

static KicTime at(json_t *params)
{
    KicTime t;
    ck_assert(time_parse_rfc3339(str(params, "at"), &t));
    return t;
}

static double span(json_t *events, const char *call_id, const char *from, const char *to)
{
    json_t *a = event(events, call_id, from), *b = event(events, call_id, to);
    ck_assert_msg(a && b, "%s: need %s and %s", call_id, from, to);
    return time_diff_s(at(a), at(b));
}

/* The rules as the bridge's and the importer's options set them. */
START_TEST(rules_are_set_by_option_name)
{
    char err[256];
    ck_assert(queuelog_rules_set(&rules, "id-prefix", "pbx2", err, sizeof(err)));
    ck_assert_str_eq(rules.id_prefix, "pbx2");
    ck_assert(queuelog_rules_set(&rules, "agent-id", "interface", err, sizeof(err)));
    ck_assert(rules.agent_by_interface);
    ck_assert(queuelog_rules_set(&rules, "agent-id", "name", err, sizeof(err)));
    ck_assert(!rules.agent_by_interface);
    ck_assert(queuelog_rules_set(&rules, "timeout-as", "abandoned", err, sizeof(err)));
    ck_assert(rules.timeout_is_abandon);
    ck_assert(queuelog_rules_set(&rules, "default-kind", "care_team", err, sizeof(err)));
    ck_assert_int_eq(rules.default_kind, QUEUELOG_KIND_CARE_TEAM);
    ck_assert(queuelog_rules_set(&rules, "transfer-kind", "2001@xfer=agent", err, sizeof(err)));
    static const char *const bad[][3] = {
        {"id-prefix", "", "--id-prefix must be 1 to 31 bytes"},
        {"id-prefix", "0123456789012345678901234567890123", "--id-prefix must be 1 to 31 bytes"},
        {"agent-id", "Name", "--agent-id must be name or interface"},
        {"timeout-as", "", "--timeout-as must be ended or abandoned"},
        {"default-kind", "team", "--default-kind must be queue, agent, care_team or external"},
        {"transfer-kind", "2001", "--transfer-kind "},
        {"window", "12", "--window is no queue-log rule"},
    };
    for (size_t i = 0; i < KIC_ARRAY_LEN(bad); i++) {
        ck_assert_msg(!queuelog_rules_set(&rules, bad[i][0], bad[i][1], err, sizeof(err)), "%s %s",
                      bad[i][0], bad[i][1]);
        ck_assert_msg(strncmp(err, bad[i][2], strlen(bad[i][2])) == 0, "%s", err);
    }
    ck_assert_str_eq(rules.id_prefix, "pbx2"); /* a refusal changes nothing */
}
END_TEST

START_TEST(recording_maps_every_scenario)
{
    QueueLogStats st;
    json_t *ev = map_recording(&st);
    /* 1: answered by Anouk after 2 s, caller hangs up */
    ck_assert_str_eq(str(event(ev, "1795349913.1", "call.offered"), "queue"), "huishoudelijke-zorg");
    ck_assert_str_eq(str(event(ev, "1795349913.1", "call.offered"), "caller"), "+31612340001");
    ck_assert_str_eq(str(event(ev, "1795349913.1", "call.answered"), "agent"), "anouk-jansen");
    ck_assert(span(ev, "1795349913.1", "call.offered", "call.answered") == 2.0);
    ck_assert_str_eq(str(event(ev, "1795349913.1", "call.ended"), "by"), "caller");
    ck_assert_str_eq(str(event(ev, "1795349913.1", "call.ended"), "event_id"), "ast-1795349913.1-end");
    /* 2 */
    ck_assert_str_eq(str(event(ev, "1795349925.5", "call.ended"), "by"), "agent");
    /* 3: abandoned after 4 s */
    ck_assert(span(ev, "1795349935.9", "call.offered", "call.abandoned") == 4.0);
    /* 4: timeout, not abandon */
    ck_assert_ptr_null(event(ev, "1795349941.13", "call.abandoned"));
    ck_assert_str_eq(str(event(ev, "1795349941.13", "call.ended"), "by"), "system");
    /* 5: Bram after 8 s */
    ck_assert_str_eq(str(event(ev, "1795349952.23", "call.answered"), "agent"), "bram-de-vries");
    ck_assert(span(ev, "1795349952.23", "call.offered", "call.answered") == 8.0);
    /* 6: blind to 2001@xfer */
    json_t *x = event(ev, "1795349967.29", "call.transferred");
    ck_assert_str_eq(str(x, "target"), "2001@xfer");
    ck_assert_str_eq(str(x, "mode"), "blind");
    ck_assert_str_eq(str(x, "target_kind"), "external");
    /* 7a, 7b: attended; queue_log names the bridge only */
    x = event(ev, "1795349980.33", "call.transferred");
    ck_assert_str_eq(str(x, "mode"), "attended");
    ck_assert_str_eq(str(x, "target"), "bridge/c5bcff55-ea07-4c3a-bcbe-448c3fefa2cd");
    ck_assert_str_eq(str(event(ev, "1795349997.39", "call.transferred"), "mode"), "attended");
    /* 11: into thuiszorg, a new contact naming the first */
    x = event(ev, "1795350058.63", "call.transferred");
    ck_assert_str_eq(str(x, "target"), "thuiszorg");
    ck_assert_str_eq(str(x, "target_kind"), "queue");
    json_t *second = event(ev, "1795350058.63-2", "call.offered");
    ck_assert_str_eq(str(second, "transferred_from"), "1795350058.63");
    ck_assert_str_eq(str(second, "queue"), "thuiszorg");
    ck_assert_str_eq(str(event(ev, "1795350058.63-2", "call.answered"), "agent"), "esra-yilmaz");
    ck_assert_ptr_null(event(ev, "1795350058.63", "call.ended"));
    /* the counts */
    ck_assert_uint_eq(st.lines, 54);
    ck_assert_uint_eq(st.events, 43);
    ck_assert_uint_eq(st.mapped, 42);
    ck_assert_uint_eq(st.skipped[QUEUELOG_SKIP_RING], 6);
    ck_assert_uint_eq(st.skipped[QUEUELOG_SKIP_MEMBER], 4); /* PAUSE, UNPAUSE, ADD/REMOVEMEMBER */
    ck_assert_uint_eq(st.skipped[QUEUELOG_SKIP_SYSTEM], 1); /* QUEUESTART */
    ck_assert_uint_eq(st.skipped[QUEUELOG_SKIP_CONSUMED], 1); /* 11's BLINDTRANSFER line */
    for (int f = 0; f < QUEUELOG_NFAILS; f++)
        ck_assert_uint_eq(st.failed[f], 0);
    ck_assert_uint_eq(st.synthesized, 0);
    json_decref(ev);
}
END_TEST

START_TEST(importing_twice_gives_the_same_ids)
{
    json_t *a = map_recording(NULL), *b = map_recording(NULL);
    ck_assert(json_equal(a, b));
    size_t len;
    char *text = read_file("A-queue_log", &len);
    for (size_t chunk = 1; chunk < 200; chunk += 13) {
        json_t *c = map_text(text, len, chunk, NULL);
        ck_assert_msg(json_equal(a, c), "chunk %zu differs", chunk);
        json_decref(c);
    }
    free(text);
    json_decref(a);
    json_decref(b);
}
END_TEST

/* ---- the same run seen through AMI ---- */

static json_t *map_ami(void)
{
    size_t len;
    char *raw = read_file("A-ami.raw", &len);
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
    ami_map_flush(m);
    ami_parser_free(&p);
    ami_map_free(m);
    free(raw);
    return events;
}

/* Fields that must agree; attended targets are left out (queue_log only
 * names the bridge), and so are holds (queue_log has none). */
static void assert_same_params(const char *call_id, const char *method, json_t *a, json_t *q)
{
    static const char *const keys[] = {"queue", "caller", "agent", "by", "target_kind", "mode",
                                       "transferred_from", "event_id"};
    for (size_t i = 0; i < KIC_ARRAY_LEN(keys); i++) {
        json_t *va = json_object_get(a, keys[i]), *vq = json_object_get(q, keys[i]);
        ck_assert_msg(json_equal(va, vq) || (!va && !vq), "%s %s: %s differs", call_id, method,
                      keys[i]);
    }
    if (strcmp(method, "call.transferred") == 0 &&
        strcmp(json_string_value(json_object_get(a, "mode")), "blind") == 0)
        ck_assert_str_eq(str(a, "target"), str(q, "target"));
    /* queue_log keeps whole seconds: the same second, or the next one */
    double d = time_diff_s(at(q), at(a));
    ck_assert_msg(d >= 0 && d < 1.0, "%s %s: AMI %s vs queue_log %s", call_id, method,
                  str(a, "at"), str(q, "at"));
}

START_TEST(queue_log_and_ami_agree_per_call)
{
    json_t *ami = map_ami(), *ql = map_recording(NULL);
    size_t i, compared = 0;
    json_t *e;
    json_array_foreach(ql, i, e) {
        json_t *q = json_object_get(e, "params");
        const char *method = json_string_value(json_object_get(e, "method"));
        const char *call_id = str(q, "call_id");
        json_t *a = event(ami, call_id, method);
        ck_assert_msg(a != NULL, "AMI lacks %s for %s", method, call_id);
        assert_same_params(call_id, method, a, q);
        compared++;
    }
    /* and AMI has nothing queue_log lacks, aside from holds and the end
     * of a transferred contact's phone call, which queue_log never logs */
    json_array_foreach(ami, i, e) {
        const char *method = json_string_value(json_object_get(e, "method"));
        json_t *params = json_object_get(e, "params");
        if (strcmp(method, "call.held") == 0 || strcmp(method, "call.resumed") == 0 ||
            (strcmp(method, "call.ended") == 0 && !json_object_get(params, "by")))
            continue;
        const char *call_id = str(params, "call_id");
        ck_assert_msg(event(ql, call_id, method) != NULL, "queue_log lacks %s for %s", method,
                      call_id);
    }
    ck_assert_uint_eq(compared, 43);
    json_decref(ami);
    json_decref(ql);
}
END_TEST

/* ---- odd input ---- */

START_TEST(unmapped_lines_are_counted_by_reason)
{
    QueueLogStats st;
    json_t *ev = map_str("1795349914|1.1|q1|NONE|ENTERQUEUE||+31600000001|1\n"
                         "garbage\n"
                         "1795349915|1.1|q1\n"
                         "17953x9915|1.1|q1|NONE|CONNECT|1|2.2|1\n"
                         "1795349916|1.1|q1|Anouk Jansen|TELEPORT|1\n"
                         "1795349916|NONE|q1|Anouk Jansen|CONNECT|2|1.2|2\n"
                         "\n"
                         "1795349917|1.1|q1|Anouk Jansen|CONNECT|3|1.3|2\r\n"
                         "1795349918|1.1|q1|Anouk Jansen|CONNECT|3|1.3|2\n"
                         "1795349920|1.1|q1|Anouk Jansen|COMPLETEAGENT|3|3|1",
                         &st);
    ck_assert_uint_eq(st.lines, 10);
    ck_assert_uint_eq(st.failed[QUEUELOG_FAIL_FIELDS], 2);
    ck_assert_uint_eq(st.first_failed_line[QUEUELOG_FAIL_FIELDS], 2);
    ck_assert_uint_eq(st.failed[QUEUELOG_FAIL_TIME], 1);
    ck_assert_uint_eq(st.first_failed_line[QUEUELOG_FAIL_TIME], 4);
    ck_assert_uint_eq(st.failed[QUEUELOG_FAIL_UNKNOWN], 1);
    ck_assert_uint_eq(st.failed[QUEUELOG_FAIL_NO_CALL], 1);
    ck_assert_uint_eq(st.skipped[QUEUELOG_SKIP_BLANK], 1);
    ck_assert_uint_eq(st.skipped[QUEUELOG_SKIP_CONSUMED], 1); /* the repeated CONNECT */
    ck_assert_uint_eq(st.mapped, 3);
    ck_assert_uint_eq(json_array_size(ev), 3); /* offered, answered, ended */
    ck_assert(span(ev, "1.1", "call.answered", "call.ended") == 3.0);
    json_decref(ev);
}
END_TEST

START_TEST(over_long_lines_are_refused_without_losing_the_next)
{
    char *text = malloc(QUEUELOG_MAX_LINE + 200);
    memset(text, 'x', QUEUELOG_MAX_LINE + 10);
    strcpy(text + QUEUELOG_MAX_LINE + 10, "\n1795349914|1.1|q1|NONE|ENTERQUEUE||+31600000001|1\n");
    QueueLogStats st;
    json_t *ev = map_text(text, strlen(text), 100, &st);
    ck_assert_uint_eq(st.failed[QUEUELOG_FAIL_TOO_LONG], 1);
    ck_assert_uint_eq(st.lines, 2);
    ck_assert_ptr_nonnull(event(ev, "1.1", "call.offered"));
    json_decref(ev);
    free(text);
}
END_TEST

/* A caller id that is no phone number: offered without a caller (kicd
 * would refuse it on a voice call, and the offer would be lost). */
START_TEST(a_caller_id_that_is_no_number_offers_a_withheld_caller)
{
    QueueLogStats st;
    json_t *ev = map_str("1795349914|1.1|q1|NONE|ENTERQUEUE||alice|1\n"
                         "1795349914|2.1|q1|NONE|ENTERQUEUE||sip:bob@pbx|1\n"
                         "1795349914|3.1|q1|NONE|ENTERQUEUE||0612345678|1\n",
                         &st);
    ck_assert_ptr_null(json_object_get(event(ev, "1.1", "call.offered"), "caller"));
    ck_assert_ptr_null(json_object_get(event(ev, "2.1", "call.offered"), "caller"));
    ck_assert_str_eq(str(event(ev, "3.1", "call.offered"), "caller"), "0612345678");
    json_decref(ev);
}
END_TEST

START_TEST(calls_whose_start_is_missing_are_inferred)
{
    /* a rotated log: this file starts after the ENTERQUEUE lines */
    QueueLogStats st;
    json_t *ev = map_str("1795349916|1.1|q1|Anouk Jansen|CONNECT|2|1.2|2\n"
                         "1795349923|1.1|q1|Anouk Jansen|COMPLETECALLER|2|7|1\n"
                         "1795349939|2.1|q1|NONE|ABANDON|1|1|4\n"
                         "1795349972|3.1|q1|Chantal Bakker|BLINDTRANSFER|2001|xfer|2|3|1\n",
                         &st);
    ck_assert_int_eq(at(event(ev, "1.1", "call.offered")) / KIC_USEC, 1795349914);
    ck_assert_str_eq(str(event(ev, "1.1", "call.ended"), "by"), "caller");
    ck_assert_int_eq(at(event(ev, "2.1", "call.offered")) / KIC_USEC, 1795349935);
    ck_assert_ptr_nonnull(event(ev, "2.1", "call.abandoned"));
    ck_assert_int_eq(at(event(ev, "3.1", "call.offered")) / KIC_USEC, 1795349967);
    ck_assert_int_eq(at(event(ev, "3.1", "call.answered")) / KIC_USEC, 1795349969);
    ck_assert_str_eq(str(event(ev, "3.1", "call.answered"), "agent"), "chantal-bakker");
    ck_assert_str_eq(str(event(ev, "3.1", "call.transferred"), "target"), "2001@xfer");
    ck_assert_uint_eq(st.synthesized, 4);
    json_decref(ev);
}
END_TEST

START_TEST(exits_did_and_timeout_rule)
{
    const char *text = "1|1.1|q1|NONE|DID|+31785551000\n"
                       "2|1.1|q1|NONE|ENTERQUEUE||+31600000001|1\n"
                       "9|1.1|q1|NONE|EXITWITHKEY|1|1|1|7\n"
                       "10|2.1|q1|NONE|ENTERQUEUE||+31600000002|1\n"
                       "20|2.1|q1|NONE|EXITEMPTY|1|1|10\n"
                       "30|3.1|q1|NONE|ENTERQUEUE||+31600000003|1\n"
                       "38|3.1|q1|NONE|EXITWITHTIMEOUT|1|1|8\n";
    json_t *ev = map_str(text, NULL);
    ck_assert_str_eq(str(event(ev, "1.1", "call.offered"), "dialled"), "+31785551000");
    ck_assert_str_eq(str(event(ev, "1.1", "call.ended"), "by"), "caller");
    ck_assert_str_eq(str(event(ev, "2.1", "call.ended"), "by"), "system");
    ck_assert_str_eq(str(event(ev, "3.1", "call.ended"), "by"), "system");
    json_decref(ev);
    rules.timeout_is_abandon = true;
    ev = map_str(text, NULL);
    ck_assert_ptr_nonnull(event(ev, "3.1", "call.abandoned"));
    ck_assert_str_eq(str(event(ev, "2.1", "call.ended"), "by"), "system");
    json_decref(ev);
}
END_TEST

START_TEST(agent_dump_withdraw_and_missing_connect)
{
    /* AGENTDUMP: the member hung up during the announcement, the caller
     * waited on and another member took the call; WITHDRAW: the caller
     * was taken out of the queue (QueueWithdrawCaller); a COMPLETE whose
     * CONNECT is missing answers the waiting contact, it makes no second */
    QueueLogStats st;
    json_t *ev = map_str("100|1.1|q1|NONE|ENTERQUEUE||+31600000001|1\n"
                         "105|1.1|q1|Anouk Jansen|AGENTDUMP\n"
                         "110|1.1|q1|Bram de Vries|CONNECT|10|1.3|4\n"
                         "170|1.1|q1|Bram de Vries|COMPLETEAGENT|10|60|1\n"
                         "200|2.1|q1|NONE|ENTERQUEUE||+31600000002|1\n"
                         "230|2.1|q1|NONE|WITHDRAW|1|1|30|\n"
                         "300|3.1|q1|NONE|ENTERQUEUE||+31600000003|1\n"
                         "400|3.1|q1|Anouk Jansen|COMPLETECALLER|10|90|1\n",
                         &st);
    ck_assert_int_eq(json_array_size(ev), 8);
    ck_assert_str_eq(str(event(ev, "1.1", "call.answered"), "agent"), "bram-de-vries");
    ck_assert_int_eq(at(event(ev, "1.1", "call.answered")) / KIC_USEC, 110);
    ck_assert_str_eq(str(event(ev, "1.1", "call.ended"), "by"), "agent");
    ck_assert_ptr_null(event(ev, "1.1-2", "call.offered"));
    ck_assert_str_eq(str(event(ev, "2.1", "call.ended"), "by"), "system");
    ck_assert_int_eq(at(event(ev, "2.1", "call.ended")) / KIC_USEC, 230);
    ck_assert_int_eq(at(event(ev, "3.1", "call.offered")) / KIC_USEC, 300);
    ck_assert_int_eq(at(event(ev, "3.1", "call.answered")) / KIC_USEC, 310);
    ck_assert_str_eq(str(event(ev, "3.1", "call.ended"), "by"), "caller");
    ck_assert_ptr_null(event(ev, "3.1-2", "call.offered"));
    ck_assert_uint_eq(st.failed[QUEUELOG_FAIL_UNKNOWN], 0);
    json_decref(ev);
}
END_TEST

START_TEST(attended_transfer_link_reads_its_times)
{
    /* ATTENDEDTRANSFER|LINK|chan1|chan2|hold|talk|origpos: one field more
     * than BRIDGE and APP; a call first seen here is inferred from them */
    json_t *ev = map_str("1000|4.1|q1|Anouk Jansen|ATTENDEDTRANSFER|LINK|PJSIP/trunk-1|"
                         "PJSIP/2001-7|12|50|1\n",
                         NULL);
    ck_assert_int_eq(at(event(ev, "4.1", "call.answered")) / KIC_USEC, 950);
    ck_assert_int_eq(at(event(ev, "4.1", "call.offered")) / KIC_USEC, 938);
    ck_assert_str_eq(str(event(ev, "4.1", "call.transferred"), "target"), "PJSIP/2001-7");
    ck_assert_str_eq(str(event(ev, "4.1", "call.transferred"), "mode"), "attended");
    json_decref(ev);
}
END_TEST

START_TEST(rules_agent_ids)
{
    char id[QUEUELOG_NAME_SIZE];
    queuelog_agent_id(&rules, NULL, "Anouk Jansen", id, sizeof(id));
    ck_assert_str_eq(id, "anouk-jansen");
    queuelog_agent_id(&rules, "Local/a01@agents/nm", "Anouk Jansen", id, sizeof(id));
    ck_assert_str_eq(id, "anouk-jansen");
    queuelog_agent_id(&rules, NULL, "Local/a06@agents/nm", id, sizeof(id));
    ck_assert_str_eq(id, "a06");
    queuelog_agent_id(&rules, "PJSIP/1001", NULL, id, sizeof(id));
    ck_assert_str_eq(id, "1001");
    queuelog_agent_id(&rules, NULL, "  Esra  Yılmaz (KIC) ", id, sizeof(id));
    ck_assert_str_eq(id, "esra-yılmaz-kic");
    queuelog_agent_id(&rules, NULL, "", id, sizeof(id));
    ck_assert_str_eq(id, "");
    rules.agent_by_interface = true;
    queuelog_agent_id(&rules, "Local/a01@agents/nm", "Anouk Jansen", id, sizeof(id));
    ck_assert_str_eq(id, "a01");
    const char map[] = "# KIC agents\n"
                       "Anouk Jansen = a.jansen\n"
                       "\n"
                       "  Local/a02@agents/nm=b.devries  \n";
    char err[128];
    ck_assert(queuelog_rules_load_agent_map(&rules, map, strlen(map), err, sizeof(err)));
    queuelog_agent_id(&rules, "Local/a01@agents/nm", "Anouk Jansen", id, sizeof(id));
    ck_assert_str_eq(id, "a.jansen");
    queuelog_agent_id(&rules, "Local/a02@agents/nm", "Bram de Vries", id, sizeof(id));
    ck_assert_str_eq(id, "b.devries");
    ck_assert(!queuelog_rules_load_agent_map(&rules, "no equals sign\n", 15, err, sizeof(err)));
    ck_assert_str_eq(err, "line 1: expected 'member = agent_id'");
}
END_TEST

START_TEST(rules_transfer_kinds)
{
    char target[QUEUELOG_TARGET_SIZE], err[128];
    StrMap queues = STRMAP_INIT, members = STRMAP_INIT;
    strmap_put(&queues, "thuiszorg", "thuiszorg");
    strmap_put(&members, "Local/a02@agents/nm", "Bram de Vries");
    strmap_put(&members, "PJSIP/1004", "Dirk Visser");
    ck_assert_int_eq(queuelog_classify(&rules, &queues, &members, "thuiszorg", "incoming", target,
                                       sizeof(target)),
                     QUEUELOG_KIND_QUEUE);
    ck_assert_str_eq(target, "thuiszorg");
    ck_assert_int_eq(queuelog_classify(&rules, &queues, &members, "a02", "agents", target,
                                       sizeof(target)),
                     QUEUELOG_KIND_AGENT);
    ck_assert_str_eq(target, "bram-de-vries");
    ck_assert_int_eq(queuelog_classify(&rules, &queues, &members, "a02", "other", target,
                                       sizeof(target)),
                     QUEUELOG_KIND_EXTERNAL);
    ck_assert_int_eq(queuelog_classify(&rules, &queues, &members, "1004", "from-internal", target,
                                       sizeof(target)),
                     QUEUELOG_KIND_AGENT);
    ck_assert_str_eq(target, "dirk-visser");
    ck_assert_int_eq(queuelog_classify(&rules, &queues, &members, "2001", "xfer", target,
                                       sizeof(target)),
                     QUEUELOG_KIND_EXTERNAL);
    ck_assert_str_eq(target, "2001@xfer");
    ck_assert(queuelog_rules_add_kind(&rules, "*@xfer=care_team", err, sizeof(err)));
    ck_assert(queuelog_rules_add_kind(&rules, "2099@xfer=external", err, sizeof(err)));
    ck_assert_int_eq(queuelog_classify(&rules, &queues, &members, "2001", "xfer", target,
                                       sizeof(target)),
                     QUEUELOG_KIND_CARE_TEAM);
    ck_assert(!queuelog_rules_add_kind(&rules, "2001@xfer=team", err, sizeof(err)));
    ck_assert(!queuelog_rules_add_kind(&rules, "xfer=queue", err, sizeof(err)));
    rules.default_kind = QUEUELOG_KIND_CARE_TEAM;
    ck_assert_int_eq(queuelog_classify(&rules, NULL, NULL, "0612345678", "outbound", target,
                                       sizeof(target)),
                     QUEUELOG_KIND_CARE_TEAM);
    strmap_free(&queues);
    strmap_free(&members);
    char call_id[QUEUELOG_CALL_ID_SIZE], event_id[QUEUELOG_EVENT_ID_SIZE];
    queuelog_call_id("1795350058.63", 1, call_id, sizeof(call_id));
    ck_assert_str_eq(call_id, "1795350058.63");
    queuelog_call_id("1795350058.63", 2, call_id, sizeof(call_id));
    ck_assert_str_eq(call_id, "1795350058.63-2");
    snprintf(rules.id_prefix, sizeof(rules.id_prefix), "pbx1");
    queuelog_event_id(&rules, call_id, "off", event_id, sizeof(event_id));
    ck_assert_str_eq(event_id, "pbx1-1795350058.63-2-off");
}
END_TEST

int main(void)
{
    Suite *s = suite_create("queuelog");
    TCase *tc = tcase_create("core");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, rules_are_set_by_option_name);
    tcase_add_test(tc, recording_maps_every_scenario);
    tcase_add_test(tc, importing_twice_gives_the_same_ids);
    tcase_add_test(tc, queue_log_and_ami_agree_per_call);
    tcase_add_test(tc, unmapped_lines_are_counted_by_reason);
    tcase_add_test(tc, over_long_lines_are_refused_without_losing_the_next);
    tcase_add_test(tc, calls_whose_start_is_missing_are_inferred);
    tcase_add_test(tc, a_caller_id_that_is_no_number_offers_a_withheld_caller);
    tcase_add_test(tc, exits_did_and_timeout_rule);
    tcase_add_test(tc, agent_dump_withdraw_and_missing_connect);
    tcase_add_test(tc, attended_transfer_link_reads_its_times);
    tcase_add_test(tc, rules_agent_ids);
    tcase_add_test(tc, rules_transfer_kinds);
    suite_add_tcase(s, tc);
    return unit_run(s);
}
