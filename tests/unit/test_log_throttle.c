/* log_throttle (server/log.c): a line a second at most for refusals over
 * a cap, the ones held back counted into the next line. */
#include "log.h"
#include "unit.h"

START_TEST(the_first_is_said_the_rest_of_the_second_are_counted)
{
    LogThrottle t = {0};
    char more[64];
    KicTime t0 = 1000 * KIC_USEC;
    ck_assert(log_throttle(&t, t0, more, sizeof(more)));
    ck_assert_str_eq(more, "");
    ck_assert(!log_throttle(&t, t0 + 1, more, sizeof(more)));
    ck_assert(!log_throttle(&t, t0 + KIC_USEC - 1, more, sizeof(more)));
    ck_assert(log_throttle(&t, t0 + KIC_USEC, more, sizeof(more)));
    ck_assert_str_eq(more, " (and 2 more since the last such line)");
    /* a quiet second later: nothing held back */
    ck_assert(log_throttle(&t, t0 + 5 * KIC_USEC, more, sizeof(more)));
    ck_assert_str_eq(more, "");
}
END_TEST

int main(void)
{
    Suite *s = suite_create("log_throttle");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, the_first_is_said_the_rest_of_the_second_are_counted);
    suite_add_tcase(s, tc);
    return unit_run(s);
}
