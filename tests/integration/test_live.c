/* stats.subscribe against a real kicd: the first snapshot at once, a
 * change pushed after its acknowledgement, never more than once per
 * interval, nothing for a waiting caller's clock alone, bad params and
 * roles, and a subscriber that stops reading
 * dropped at its output cap while the others carry on. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"

static Kicd kicd;

typedef struct Org {
    const char *name;
    char *bridge, *agent, *super, *admin;
} Org;

static Org org(const char *base)
{
    Org o;
    o.name = strdup(h_tenant(base));
    o.bridge = h_user(&kicd, o.name, "pbx", "bridge", NULL, NULL);
    o.agent = h_user(&kicd, o.name, "a.jansen", "agent", NULL, "kic");
    o.super = h_user(&kicd, o.name, "s.bakker", "supervisor", NULL, NULL);
    o.admin = h_user(&kicd, o.name, "beheer", "admin", NULL, NULL);
    return o;
}

static void offer(Client *bridge, const char *id, const char *queue, KicTime at)
{
    json_t *r = cl_call(bridge, "call.offered",
                        "{\"event_id\":\"%s-o\",\"call_id\":\"%s\",\"at\":\"%s\",\"queue\":\"%s\"}",
                        id, id, h_at(at, 0), queue);
    ck_result(r);
    json_decref(r);
}

static long long total_of(json_t *update, const char *field)
{
    return json_integer_value(
        json_object_get(json_object_get(json_object_get(update, "params"), "total"), field));
}

static KicTime at_of(json_t *update)
{
    KicTime t;
    ck_assert(time_parse_rfc3339(
        json_string_value(json_object_get(json_object_get(update, "params"), "at")), &t));
    return t;
}

START_TEST(subscribers_get_changes_at_most_once_per_interval)
{
    Org o = org("sub");
    Client *b = cl_session(kicd.port, o.bridge), *s = cl_session(kicd.port, o.super);
    json_t *r = cl_call(s, "stats.subscribe", "{\"interval_ms\":300}");
    ck_assert(json_is_true(json_object_get(ck_result(r), "subscribed")));
    ck_assert_int_eq(json_integer_value(json_object_get(ck_result(r), "interval_ms")), 300);
    json_decref(r);
    /* the first snapshot comes at once, with the live snapshot's shape */
    json_t *u = cl_wait_notification(s, "stats.update", 2000);
    ck_assert_ptr_nonnull(u);
    ck_assert_int_eq(total_of(u, "offered"), 0);
    ck_assert_ptr_nonnull(json_object_get(json_object_get(u, "params"), "queues"));
    ck_assert_ptr_nonnull(json_object_get(json_object_get(u, "params"), "targets"));
    json_decref(u);
    /* an acknowledged event is pushed */
    usleep(400000);
    offer(b, "s1", "q1", h_today(30));
    u = cl_wait_notification(s, "stats.update", 2000);
    ck_assert_ptr_nonnull(u);
    ck_assert_int_eq(total_of(u, "offered"), 1);
    ck_assert_int_eq(total_of(u, "waiting"), 1);
    json_decref(u);
    /* a burst: updates (stamped by the server) at least 300 ms apart,
     * and the last one has everything */
    for (int i = 0; i < 30; i++) {
        char id[16];
        snprintf(id, sizeof(id), "b%d", i);
        offer(b, id, i % 2 ? "q1" : "q2", h_today(20));
    }
    KicTime prev = 0;
    long long offered = 0;
    for (int n = 0; n < 200 && offered < 31; n++) {
        u = cl_wait_notification(s, "stats.update", 3000);
        ck_assert_ptr_nonnull(u);
        KicTime at = at_of(u);
        if (prev)
            ck_assert_msg(at - prev >= 299 * 1000, "updates %lld ms apart",
                          (long long)(at - prev) / 1000);
        prev = at;
        offered = total_of(u, "offered");
        json_decref(u);
    }
    ck_assert_int_eq(offered, 31);
    /* subscribing again changes the interval */
    r = cl_call(s, "stats.subscribe", "{}");
    ck_assert_int_eq(json_integer_value(json_object_get(ck_result(r), "interval_ms")), 1000);
    json_decref(r);
    cl_close(b);
    cl_close(s);
}
END_TEST

/* A caller waiting is not a change: no update comes for the clock alone
 * (the snapshot's `at` and longest_wait_s let a client count on), so
 * the update for the next real change goes out at once instead of
 * waiting behind refreshes. */
START_TEST(a_waiting_call_sends_no_updates_until_something_changes)
{
    Org o = org("wait");
    Client *b = cl_session(kicd.port, o.bridge), *s = cl_session(kicd.port, o.super);
    offer(b, "w1", "q1", h_today(10));
    json_t *r = cl_call(s, "stats.subscribe", "{\"interval_ms\":250}");
    ck_result(r);
    json_decref(r);
    json_t *u = cl_wait_notification(s, "stats.update", 2000);
    ck_assert_ptr_nonnull(u);
    ck_assert_int_eq(total_of(u, "waiting"), 1);
    double waited = json_number_value(json_object_get(
        json_object_get(json_object_get(u, "params"), "total"), "longest_wait_s"));
    ck_assert_double_ge(waited, 9);
    json_decref(u);
    /* four intervals of the caller waiting: nothing */
    ck_assert_ptr_null(cl_wait_notification(s, "stats.update", 1000));
    /* a change: pushed, with the wait as of its own `at` */
    KicTime sent = h_today(0);
    offer(b, "w2", "q1", h_today(0));
    u = cl_wait_notification(s, "stats.update", 2000);
    ck_assert_ptr_nonnull(u);
    ck_assert_int_eq(total_of(u, "waiting"), 2);
    ck_assert_int_ge(at_of(u), sent);
    json_decref(u);
    cl_close(b);
    cl_close(s);
}
END_TEST

START_TEST(subscribe_errors_and_roles)
{
    Org o = org("suberr");
    Client *s = cl_session(kicd.port, o.super), *a = cl_session(kicd.port, o.agent);
    Client *b = cl_session(kicd.port, o.bridge), *ad = cl_session(kicd.port, o.admin);
    Client *anon = cl_connect(kicd.port);
    const char *bad[] = {"{\"interval_ms\":100}", "{\"interval_ms\":\"1s\"}",
                         "{\"interval_ms\":1.5}", "{\"interval_ms\":-1}", "[250]"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++)
        ck_assert_rpc_error(cl_call(s, "stats.subscribe", "%s", bad[i]), -32602);
    ck_assert_rpc_error(cl_call(a, "stats.subscribe", "{}"), -32003);
    ck_assert_rpc_error(cl_call(b, "stats.subscribe", "{}"), -32003);
    ck_assert_rpc_error(cl_call(anon, "stats.subscribe", "{}"), -32001);
    /* a refused subscription sends nothing */
    ck_assert_ptr_null(cl_wait_notification(s, "stats.update", 500));
    json_t *r = cl_call(ad, "stats.subscribe", "{\"interval_ms\":250}");
    ck_result(r);
    json_decref(r);
    json_t *u = cl_wait_notification(ad, "stats.update", 2000);
    ck_assert_ptr_nonnull(u);
    json_decref(u);
    cl_close(s);
    cl_close(a);
    cl_close(b);
    cl_close(ad);
    cl_close(anon);
}
END_TEST

/* 300 calls waiting in 300 queues make a snapshot of ~200 KB, sent every
 * 250 ms while new calls keep coming: a subscriber that never reads has
 * more than the cap (64 KiB here) unread once the kernel's buffers are
 * full (a few MB) and is dropped; one that reads keeps getting updates,
 * and kicd serves on. */
START_TEST(a_subscriber_that_stops_reading_is_dropped)
{
    Org o = org("slow");
    Client *b = cl_session(kicd.port, o.bridge);
    KicTime t0 = h_today(60);
    for (int i = 0; i < 300; i++) {
        char id[16], queue[32];
        snprintf(id, sizeof(id), "w%d", i);
        snprintf(queue, sizeof(queue), "wachtrij-nummer-%03d", i);
        offer(b, id, queue, t0);
    }
    Client *slow = cl_session(kicd.port, o.super), *good = cl_session(kicd.port, o.super);
    json_t *r = cl_call(slow, "stats.subscribe", "{\"interval_ms\":250}");
    ck_result(r);
    json_decref(r);
    r = cl_call(good, "stats.subscribe", "{\"interval_ms\":250}");
    ck_result(r);
    json_decref(r);
    /* the good one reads for a while; the slow one reads nothing */
    for (int i = 0; i < 200 && !kicd_log_contains(&kicd, "slow reader dropped"); i++) {
        char id[16];
        snprintf(id, sizeof(id), "n%d", i);
        offer(b, id, "wachtrij-nummer-000", h_today(1));
        json_t *u = cl_wait_notification(good, "stats.update", 5000);
        ck_assert_ptr_nonnull(u);
        ck_assert_int_ge(total_of(u, "waiting"), 300);
        json_decref(u);
    }
    ck_assert_msg(kicd_log_contains(&kicd, "slow reader dropped"), "the slow subscriber was kept");
    ck_assert(cl_wait_closed(slow, 10000)); /* after what the kernel had buffered */
    /* the good subscriber and the server carry on */
    offer(b, "after", "q-after", h_today(1));
    json_t *u = cl_wait_notification(good, "stats.update", 2000);
    ck_assert_ptr_nonnull(u);
    json_decref(u);
    /* a batch is answered in one piece: past the cap its remaining
     * requests are refused, not computed */
    Client *batch = cl_session(kicd.port, o.super);
    char line[100 * 64 + 16];
    size_t n = 0;
    line[n++] = '[';
    for (int i = 0; i < 100; i++)
        n += (size_t)snprintf(line + n, sizeof(line) - n,
                              "%s{\"jsonrpc\":\"2.0\",\"id\":%d,\"method\":\"stats.live\"}",
                              i ? "," : "", i);
    line[n++] = ']';
    line[n] = '\0';
    cl_send(batch, line);
    json_t *replies = cl_recv(batch, 10000);
    ck_assert(json_is_array(replies));
    ck_assert_uint_eq(json_array_size(replies), 100);
    ck_assert_int_eq(rpc_code(json_array_get(replies, 0)), 0);
    ck_assert_int_eq(rpc_code(json_array_get(replies, 99)), -32600);
    json_decref(replies);
    r = cl_call(batch, "stats.live", NULL);
    ck_result(r);
    json_decref(r);
    cl_close(batch);
    cl_close(b);
    cl_close(slow);
    cl_close(good);
}
END_TEST

int main(void)
{
    kicd_init(&kicd, "live", "[limits]\noutput_buffer = 65536\n");
    kicd_start(&kicd);
    Suite *s = suite_create("live");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, subscribers_get_changes_at_most_once_per_interval);
    tcase_add_test(tc, a_waiting_call_sends_no_updates_until_something_changes);
    tcase_add_test(tc, subscribe_errors_and_roles);
    tcase_add_test(tc, a_subscriber_that_stops_reading_is_dropped);
    suite_add_tcase(s, tc);
    return h_run_suite(s, &kicd);
}
