/* The bridge's at-least-once bookkeeping as pure logic: events leave in
 * order with many in flight, answers arrive in any order, a reconnect
 * re-sends exactly the unanswered ones oldest first, retries wait their
 * turn, rejected ones are dropped, the cap holds; and the back-off. */
#include <stdlib.h>
#include <string.h>

#include "backoff.h"
#include "outbox.h"
#include "unit.h"

static Outbox o;

static void setup(void)
{
    ck_assert(outbox_init(&o, 8));
}

static void teardown(void)
{
    outbox_free(&o);
}

static void push(int n)
{
    for (int i = 0; i < n; i++) {
        char id[32];
        snprintf(id, sizeof(id), "ev-%d", (int)o.next_seq);
        json_t *ev = json_pack("{s:s, s:{s:s, s:s, s:s}}", "method", "call.offered", "params",
                               "event_id", id, "call_id", "1.1", "at",
                               "2026-11-22T13:18:34.048917+01:00");
        ck_assert(outbox_push(&o, ev));
        json_decref(ev);
    }
}

/* Sends everything due; returns the seqs sent, in order, as "1,2,3". */
static char *send_all(KicTime now)
{
    static char buf[256];
    buf[0] = '\0';
    OutboxEntry *e;
    while ((e = outbox_next(&o, now)) != NULL) {
        snprintf(buf + strlen(buf), sizeof(buf) - strlen(buf), "%s%llu", *buf ? "," : "",
                 (unsigned long long)e->seq);
        outbox_sent(&o, e);
    }
    return buf;
}

START_TEST(lines_are_json_rpc_requests_with_seq_ids)
{
    push(2);
    OutboxEntry *e = outbox_next(&o, 0);
    ck_assert_uint_eq(e->seq, 1);
    ck_assert_str_eq(e->event_id, "ev-1");
    ck_assert_str_eq(e->method, "call.offered");
    json_error_t err;
    json_t *req = json_loads(e->line, 0, &err);
    ck_assert_ptr_nonnull(req);
    ck_assert_str_eq(json_string_value(json_object_get(req, "jsonrpc")), "2.0");
    ck_assert_int_eq(json_integer_value(json_object_get(req, "id")), 1);
    ck_assert_str_eq(json_string_value(json_object_get(req, "method")), "call.offered");
    ck_assert_str_eq(json_string_value(json_object_get(json_object_get(req, "params"), "call_id")),
                     "1.1");
    ck_assert_ptr_null(strchr(e->line, '\n'));
    ck_assert_uint_eq(e->line_len, strlen(e->line));
    json_decref(req);
    json_t *bad = json_pack("{s:s}", "method", "call.offered"); /* no params */
    ck_assert(!outbox_push(&o, bad));
    json_decref(bad);
}
END_TEST

START_TEST(pipelined_in_order_and_answered_in_any_order)
{
    push(5);
    ck_assert_str_eq(send_all(0), "1,2,3,4,5");
    ck_assert_uint_eq(o.inflight, 5);
    ck_assert_ptr_null(outbox_next(&o, 0)); /* nothing more to send */
    ck_assert(outbox_answer(&o, 3, OUTBOX_ACCEPTED, 0));
    ck_assert(outbox_answer(&o, 1, OUTBOX_ACCEPTED, 0));
    ck_assert_uint_eq(o.live, 3);
    ck_assert_uint_eq(o.head_seq, 2); /* 1 freed; 3 waits for 2 */
    ck_assert(!outbox_answer(&o, 3, OUTBOX_ACCEPTED, 0)); /* twice */
    ck_assert(!outbox_answer(&o, 99, OUTBOX_ACCEPTED, 0)); /* a stranger */
    ck_assert(outbox_answer(&o, 2, OUTBOX_ACCEPTED, 0));
    ck_assert_uint_eq(o.head_seq, 4);
    ck_assert_uint_eq(o.count, 2);
    ck_assert_uint_eq(o.accepted, 3);
}
END_TEST

START_TEST(reconnect_resends_the_unanswered_oldest_first)
{
    push(6);
    ck_assert_str_eq(send_all(0), "1,2,3,4,5,6");
    ck_assert(outbox_answer(&o, 2, OUTBOX_ACCEPTED, 0));
    ck_assert(outbox_answer(&o, 5, OUTBOX_ACCEPTED, 0));
    outbox_requeue(&o); /* the connection dropped */
    ck_assert_uint_eq(o.inflight, 0);
    push(1);
    ck_assert_str_eq(send_all(0), "1,3,4,6,7");
    ck_assert_uint_eq(outbox_find(&o, 1)->attempts, 2);
    ck_assert_uint_eq(outbox_find(&o, 7)->attempts, 1);
    /* answers from the old connection for entries now re-sent count once */
    ck_assert(outbox_answer(&o, 1, OUTBOX_ACCEPTED, 0));
    ck_assert(!outbox_answer(&o, 1, OUTBOX_ACCEPTED, 0));
    /* and a second drop before anything else was answered */
    outbox_requeue(&o);
    ck_assert_str_eq(send_all(0), "3,4,6,7");
}
END_TEST

START_TEST(retry_later_waits_and_keeps_its_place)
{
    push(4);
    ck_assert_str_eq(send_all(0), "1,2,3,4");
    KicTime t0 = 1000 * KIC_USEC;
    ck_assert(outbox_answer(&o, 1, OUTBOX_ACCEPTED, 0));
    ck_assert(outbox_answer(&o, 2, OUTBOX_RETRY, t0 + 2 * KIC_USEC)); /* -32029 */
    ck_assert(outbox_answer(&o, 3, OUTBOX_ACCEPTED, 0));
    ck_assert_uint_eq(o.retried, 1);
    push(1);
    ck_assert_str_eq(send_all(t0), "5"); /* 2 is not due yet; others go on */
    ck_assert_int_eq(outbox_next_retry(&o), t0 + 2 * KIC_USEC);
    ck_assert_str_eq(send_all(t0 + KIC_USEC), "");
    ck_assert_str_eq(send_all(t0 + 2 * KIC_USEC), "2");
    ck_assert_int_eq(outbox_next_retry(&o), KIC_TIME_NONE);
    ck_assert(outbox_answer(&o, 2, OUTBOX_ACCEPTED, 0));
    ck_assert_uint_eq(o.head_seq, 4); /* 4 and 5 still in flight */
}
END_TEST

START_TEST(rejected_is_dropped_for_good)
{
    push(3);
    ck_assert_str_eq(send_all(0), "1,2,3");
    ck_assert(outbox_answer(&o, 2, OUTBOX_REJECTED, 0)); /* -32602 */
    ck_assert_uint_eq(o.rejected, 1);
    ck_assert_uint_eq(o.live, 2);
    outbox_requeue(&o);
    ck_assert_str_eq(send_all(0), "1,3");
}
END_TEST

/* What the bridge logs of an event kicd refused for good: everything
 * but the numbers. */
START_TEST(a_line_for_the_log_leaves_the_numbers_out)
{
    char *shown = outbox_line_for_log(
        "{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":\"call.offered\",\"params\":{\"event_id\":\"e1\","
        "\"caller\":\"+31612345678\",\"dialled\":\"0612345678\",\"queue\":\"q\"}}");
    ck_assert_ptr_nonnull(shown);
    ck_assert_ptr_null(strstr(shown, "12345678"));
    ck_assert_ptr_nonnull(strstr(shown, "\"event_id\":\"e1\""));
    ck_assert_ptr_nonnull(strstr(shown, "\"queue\":\"q\""));
    ck_assert_ptr_nonnull(strstr(shown, "\"caller\":\"(left out of the log)\""));
    free(shown);
    shown = outbox_line_for_log("{\"method\":\"call.ended\",\"params\":{\"event_id\":\"e2\"}}");
    ck_assert_str_eq(shown, "{\"method\":\"call.ended\",\"params\":{\"event_id\":\"e2\"}}");
    free(shown);
    ck_assert_ptr_null(outbox_line_for_log("not json +31612345678"));
}
END_TEST

START_TEST(the_cap_bounds_the_span_and_signals_backpressure)
{
    push(8);
    ck_assert(!outbox_has_room(&o, 1));
    json_t *ev = json_pack("{s:s, s:{}}", "method", "call.ended", "params");
    ck_assert(!outbox_push(&o, ev)); /* full: the bridge stops reading AMI instead */
    ck_assert_str_eq(send_all(0), "1,2,3,4,5,6,7,8");
    /* answering a later one does not make room: the oldest holds the span */
    ck_assert(outbox_answer(&o, 8, OUTBOX_ACCEPTED, 0));
    ck_assert(!outbox_has_room(&o, 1));
    ck_assert(outbox_answer(&o, 1, OUTBOX_ACCEPTED, 0));
    ck_assert(outbox_has_room(&o, 1));
    ck_assert(!outbox_has_room(&o, 2));
    ck_assert(outbox_push(&o, ev));
    json_decref(ev);
    ck_assert_uint_eq(o.live, 7);
    /* the ring wraps around cleanly */
    for (uint64_t s = 2; s <= 7; s++)
        ck_assert(outbox_answer(&o, s, OUTBOX_ACCEPTED, 0));
    ck_assert_str_eq(send_all(0), "9");
    push(7);
    ck_assert_str_eq(send_all(0), "10,11,12,13,14,15,16");
    ck_assert_str_eq(outbox_find(&o, 16)->event_id, "ev-16");
}
END_TEST

START_TEST(backoff_doubles_to_its_cap_and_resets)
{
    Backoff b;
    backoff_init(&b, KIC_USEC / 2, 30 * KIC_USEC);
    KicTime want[] = {500000, 1000000, 2000000, 4000000, 8000000, 16000000, 30000000, 30000000};
    for (size_t i = 0; i < KIC_ARRAY_LEN(want); i++)
        ck_assert_int_eq(backoff_next(&b), want[i]);
    for (int i = 0; i < 100; i++)
        ck_assert_int_eq(backoff_next(&b), 30 * KIC_USEC);
    backoff_reset(&b);
    ck_assert_int_eq(backoff_next(&b), KIC_USEC / 2);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("ami_outbox");
    TCase *tc = tcase_create("core");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, lines_are_json_rpc_requests_with_seq_ids);
    tcase_add_test(tc, pipelined_in_order_and_answered_in_any_order);
    tcase_add_test(tc, reconnect_resends_the_unanswered_oldest_first);
    tcase_add_test(tc, retry_later_waits_and_keeps_its_place);
    tcase_add_test(tc, rejected_is_dropped_for_good);
    tcase_add_test(tc, a_line_for_the_log_leaves_the_numbers_out);
    tcase_add_test(tc, the_cap_bounds_the_span_and_signals_backpressure);
    tcase_add_test(tc, backoff_doubles_to_its_cap_and_resets);
    suite_add_tcase(s, tc);
    return unit_run(s);
}
