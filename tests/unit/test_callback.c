/* Callback lifecycle and per-team sums (lib/callback.c), and callbacks in
 * the centre: IVR requests open them once, teams come from the queue. */
#include <math.h>
#include <string.h>

#include "centre.h"
#include "unit.h"

#define SEC(x) ((int64_t)(x) * KIC_USEC)
#define T0 ((KicTime)1795341600 * KIC_USEC) /* 2026-11-22 10:00 UTC */

static Callback *fresh(KicTime due_in_s)
{
    CallbackNew n = {.id = "cb-1", .team = "kic", .queue = "thuiszorg", .number = "+31612345678",
                     .caller_key = "k", .from_ivr = true, .created_at = T0,
                     .due_by = T0 + SEC(due_in_s)};
    return callback_new(&n);
}

START_TEST(claim_complete_and_conflicts)
{
    Callback *cb = fresh(3600);
    ck_assert_int_eq(cb->status, CB_OPEN);
    ck_assert_int_eq(callback_claim(cb, "a", T0 + SEC(60)), CALLBACK_OK);
    ck_assert_int_eq(cb->status, CB_CLAIMED);
    ck_assert_str_eq(cb->claimed_by, "a");
    ck_assert_int_eq(callback_claim(cb, "a", T0 + SEC(61)), CALLBACK_OK); /* again: no change */
    ck_assert_int_eq(cb->claimed_at, T0 + SEC(60));
    ck_assert_int_eq(callback_claim(cb, "b", T0 + SEC(62)), CALLBACK_HELD_BY_OTHER);
    ck_assert_int_eq(callback_complete(cb, "b", CBO_REACHED, T0 + SEC(63)), CALLBACK_HELD_BY_OTHER);
    /* no answer: open again, free for anyone, the attempt counted */
    ck_assert_int_eq(callback_complete(cb, "a", CBO_NO_ANSWER, T0 + SEC(120)), CALLBACK_OK);
    ck_assert_int_eq(cb->status, CB_OPEN);
    ck_assert_ptr_null(cb->claimed_by);
    ck_assert_int_eq(cb->attempts, 1);
    ck_assert_str_eq(cb->number, "+31612345678");
    /* another agent completes it without claiming */
    ck_assert_int_eq(callback_complete(cb, "b", CBO_REACHED, T0 + SEC(600)), CALLBACK_OK);
    ck_assert_int_eq(cb->status, CB_DONE);
    ck_assert_int_eq(cb->attempts, 2);
    ck_assert_str_eq(cb->number, ""); /* closed: the number is gone */
    ck_assert_str_eq(cb->claimed_by, "b");
    ck_assert_int_eq(cb->closed_at, T0 + SEC(600));
    ck_assert_int_eq(callback_claim(cb, "a", T0 + SEC(700)), CALLBACK_CLOSED);
    ck_assert_int_eq(callback_complete(cb, "b", CBO_REACHED, T0 + SEC(700)), CALLBACK_CLOSED);
    callback_free(cb);
}
END_TEST

START_TEST(cancel_is_no_attempt)
{
    Callback *cb = fresh(3600);
    ck_assert_int_eq(callback_complete(cb, "a", CBO_CANCELLED, T0 + SEC(10)), CALLBACK_OK);
    ck_assert_int_eq(cb->status, CB_CANCELLED);
    ck_assert_int_eq(cb->attempts, 0);
    ck_assert_str_eq(cb->number, "");
    callback_free(cb);
}
END_TEST

START_TEST(overdue_and_sums)
{
    Callback *a = fresh(3600), *b = fresh(60), *c = fresh(600);
    /* b overdue and open; c done on time after 300 s; a done late */
    ck_assert(!callback_overdue(b, T0 + SEC(60)));
    ck_assert(callback_overdue(b, T0 + SEC(61)));
    ck_assert_int_eq(callback_complete(c, "x", CBO_REACHED, T0 + SEC(300)), CALLBACK_OK);
    ck_assert_int_eq(callback_complete(a, "x", CBO_REACHED, T0 + SEC(7200)), CALLBACK_OK);
    ck_assert(!callback_overdue(a, T0 + SEC(9000))); /* closed: not overdue */
    CallbackSums s = {0};
    KicTime day = T0 - SEC(36000), end = day + SEC(86400);
    callback_add_to_sums(&s, a, T0 + SEC(9000), day, end);
    callback_add_to_sums(&s, b, T0 + SEC(9000), day, end);
    callback_add_to_sums(&s, c, T0 + SEC(9000), day, end);
    ck_assert_int_eq(s.open, 1);
    ck_assert_int_eq(s.overdue, 1);
    ck_assert_int_eq(s.requested_today, 3);
    ck_assert_int_eq(s.completed_today, 2);
    ck_assert_int_eq(s.completed_on_time, 1); /* c: 300 <= 600; a: 7200 > 3600 */
    /* mean time to complete: (300 + 7200) / 2 = 3750 s */
    ck_assert_double_eq_tol(callback_mean_complete_s(&s), 3750.0, 1e-9);
    CallbackSums none = {0};
    ck_assert(isnan(callback_mean_complete_s(&none)));
    /* a completion on another day does not count today */
    CallbackSums other = {0};
    callback_add_to_sums(&other, c, T0 + SEC(9000), day + SEC(86400), end + SEC(86400));
    ck_assert_int_eq(other.completed_today, 0);
    callback_free(a);
    callback_free(b);
    callback_free(c);
}
END_TEST

/* The request is dated by the platform's clock, which may run ahead of
 * kicd's: an agent acting "before" it acts at the request's time, so no
 * time to complete is negative (found by a probe: a mean of -1800 s). */
START_TEST(nothing_is_done_before_the_request)
{
    Callback *cb = fresh(60);
    ck_assert_int_eq(callback_claim(cb, "a", T0 - SEC(1800)), CALLBACK_OK);
    ck_assert_int_eq(cb->claimed_at, T0);
    ck_assert_int_eq(callback_complete(cb, "a", CBO_NO_ANSWER, T0 - SEC(1700)), CALLBACK_OK);
    ck_assert_int_eq(cb->last_attempt, T0);
    ck_assert_int_eq(callback_complete(cb, "a", CBO_REACHED, T0 - SEC(1600)), CALLBACK_OK);
    ck_assert_int_eq(cb->closed_at, T0);
    CallbackSums s = {0};
    callback_add_to_sums(&s, cb, T0, T0 - SEC(36000), T0 + SEC(50400));
    ck_assert_int_eq(s.completed_today, 1);
    ck_assert_int_eq(s.completed_on_time, 1);
    ck_assert_double_eq_tol(callback_mean_complete_s(&s), 0.0, 1e-9);
    callback_free(cb);
}
END_TEST

static Event *request(const char *event_id, const char *cb_id, const char *queue, KicTime at)
{
    Event f = {0};
    f.type = EV_CALLBACK_REQUESTED;
    f.at = at;
    f.due_by = KIC_TIME_NONE;
    EventText t = {.event_id = event_id, .callback_id = cb_id, .queue = queue, .caller_key = "k"};
    return event_create(&f, &t);
}

START_TEST(centre_opens_ivr_callbacks_once_with_the_queues_team)
{
    CentreConfig cfg = {{SEC(20), SEC(5)}, 7, 8, SEC(3600), SEC(4 * 3600)};
    Centre *c = centre_new(1, &cfg, T0);
    centre_set_queue_team(c, "thuiszorg", "wijkteam-zuid");
    Effects fx = {0};
    ck_assert_int_eq(centre_apply_event(c, request("e1", "ivr-1", "thuiszorg", T0), "+31612345678", T0, true, &fx), APPLY_NEW);
    Callback *cb = centre_callback(c, "ivr-1");
    ck_assert_ptr_nonnull(cb);
    ck_assert_str_eq(cb->team, "wijkteam-zuid");
    ck_assert_int_eq(cb->due_by, T0 + SEC(4 * 3600)); /* the configured default */
    ck_assert(cb->from_ivr && cb->fresh && cb->dirty);
    ck_assert_uint_eq(fx.ncallbacks, 1);
    /* the same request again (same event): a duplicate, nothing new */
    ck_assert_int_eq(centre_apply_event(c, request("e1", "ivr-1", "thuiszorg", T0), "+31612345678", T0, true, &fx), APPLY_DUPLICATE);
    /* another event for the same callback id keeps the first */
    ck_assert_int_eq(centre_apply_event(c, request("e2", "ivr-1", "planning", T0), "+31699999999", T0, true, &fx), APPLY_NEW);
    ck_assert_str_eq(centre_callback(c, "ivr-1")->number, "+31612345678");
    /* a queue without a team mapping: its own name */
    ck_assert_int_eq(centre_apply_event(c, request("e3", "ivr-2", "planning", T0), "+31612340000", T0, true, &fx), APPLY_NEW);
    ck_assert_str_eq(centre_callback(c, "ivr-2")->team, "planning");
    /* the mapping read again without thuiszorg's: its own name again */
    centre_clear_queue_teams(c);
    centre_set_queue_team(c, "planning", "wijkteam-west");
    ck_assert_int_eq(centre_apply_event(c, request("e4", "ivr-3", "thuiszorg", T0), "+31612340001", T0, true, &fx), APPLY_NEW);
    ck_assert_str_eq(centre_callback(c, "ivr-3")->team, "thuiszorg");
    ck_assert_int_eq(centre_apply_event(c, request("e5", "ivr-4", "planning", T0), "+31612340002", T0, true, &fx), APPLY_NEW);
    ck_assert_str_eq(centre_callback(c, "ivr-4")->team, "wijkteam-west");
    effects_written(&fx);
    effects_reset(&fx);
    ck_assert(!cb->dirty);
    ck_assert_int_eq(centre_claim_callback(c, cb, "a", T0 + SEC(5), &fx), CALLBACK_OK);
    ck_assert_uint_eq(fx.ncallbacks, 1);
    CallbackSums s;
    centre_callback_sums(c, "wijkteam-zuid", T0 + SEC(10), &s);
    ck_assert_int_eq(s.open, 1);
    centre_callback_sums(c, NULL, T0 + SEC(10), &s);
    ck_assert_int_eq(s.open, 4);
    /* the claimer's user revoked: open again, for anyone */
    ck_assert_uint_eq(centre_claims_of(c, "a"), 1);
    effects_written(&fx);
    effects_reset(&fx);
    ck_assert_uint_eq(centre_release_claims(c, "a", &fx), 1);
    ck_assert_uint_eq(fx.ncallbacks, 1);
    ck_assert_int_eq(cb->status, CB_OPEN);
    ck_assert_ptr_null(cb->claimed_by);
    ck_assert_uint_eq(centre_claims_of(c, "a"), 0);
    ck_assert_uint_eq(centre_release_claims(c, "a", &fx), 0);
    ck_assert_int_eq(centre_claim_callback(c, cb, "b", T0 + SEC(20), &fx), CALLBACK_OK);
    effects_written(&fx);
    effects_free(&fx);
    centre_free(c);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("callback");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, claim_complete_and_conflicts);
    tcase_add_test(tc, cancel_is_no_attempt);
    tcase_add_test(tc, overdue_and_sums);
    tcase_add_test(tc, nothing_is_done_before_the_request);
    tcase_add_test(tc, centre_opens_ivr_callbacks_once_with_the_queues_team);
    suite_add_tcase(s, tc);
    return unit_run(s);
}
