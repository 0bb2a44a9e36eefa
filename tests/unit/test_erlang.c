/* Erlang C against published values (the worked example: 100
 * calls per 30 minutes, AHT 180 s, target 20 s, 14 agents: traffic 10
 * Erlang, P(wait) 0.1741, service level 0.888, ASA 7.84 s). */
#include <math.h>

#include "erlang.h"
#include "unit.h"

START_TEST(published_example)
{
    double a = erlang_traffic(100, 1800, 180);
    ck_assert_double_eq_tol(a, 10.0, 1e-12);
    ck_assert_double_eq_tol(erlang_c(14, a), 0.1741, 0.00005);
    ck_assert_double_eq_tol(erlang_service_level(14, a, 180, 20), 0.888, 0.0005);
    ck_assert_double_eq_tol(erlang_asa(14, a, 180), 7.84, 0.005);
}
END_TEST

START_TEST(agents_needed_is_the_fewest_reaching_the_target)
{
    double a = erlang_traffic(100, 1800, 180);
    /* 13 agents: SL about 0.782 (< 0.8); 14: 0.888 */
    ck_assert(erlang_service_level(13, a, 180, 20) < 0.8);
    ck_assert_int_eq(erlang_agents_needed(a, 180, 20, 0.8, 200), 14);
    ck_assert_int_eq(erlang_agents_needed(a, 180, 20, 0.89, 200), 15);
    ck_assert_int_eq(erlang_agents_needed(0, 180, 20, 0.8, 200), 0);
    ck_assert_int_eq(erlang_agents_needed(500, 180, 20, 0.8, 100), 100); /* capped */
}
END_TEST

START_TEST(edges)
{
    /* no more agents than traffic: everyone waits, forever */
    ck_assert_double_eq_tol(erlang_c(10, 10.0), 1.0, 1e-12);
    ck_assert_double_eq_tol(erlang_service_level(10, 10.0, 180, 20), 0.0, 1e-12);
    ck_assert(isinf(erlang_asa(9, 10.0, 180)));
    ck_assert_double_eq_tol(erlang_c(5, 0.0), 0.0, 1e-12);
    ck_assert_double_eq_tol(erlang_service_level(5, 0.0, 180, 20), 1.0, 1e-12);
    /* one agent, M/M/1: P(wait) = rho */
    ck_assert_double_eq_tol(erlang_c(1, 0.5), 0.5, 1e-12);
    /* large centres stay finite and monotone */
    double prev = 1.0;
    for (int n = 301; n < 340; n++) {
        double c = erlang_c(n, 300.0);
        ck_assert(c > 0 && c < prev);
        prev = c;
    }
}
END_TEST

int main(void)
{
    Suite *s = suite_create("erlang");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, published_example);
    tcase_add_test(tc, agents_needed_is_the_fewest_reaching_the_target);
    tcase_add_test(tc, edges);
    suite_add_tcase(s, tc);
    return unit_run(s);
}
