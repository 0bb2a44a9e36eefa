/* Erlang C, computed with the stable recurrence for Erlang B
 * (B(0) = 1, B(k) = A*B(k-1) / (k + A*B(k-1))) and
 * C = N*B / (N - A*(1 - B)): no factorials, no overflow for large N. */
#include "erlang.h"

#include <math.h>

double erlang_traffic(double calls, double period_s, double aht_s)
{
    return period_s > 0 ? calls * aht_s / period_s : 0.0;
}

static double erlang_b(int n, double traffic)
{
    double b = 1.0;
    for (int k = 1; k <= n; k++)
        b = traffic * b / (k + traffic * b);
    return b;
}

double erlang_c(int n, double traffic)
{
    if (traffic <= 0)
        return 0.0;
    if (n <= traffic)
        return 1.0;
    double b = erlang_b(n, traffic);
    return n * b / (n - traffic * (1.0 - b));
}

double erlang_service_level(int n, double traffic, double aht_s, double threshold_s)
{
    if (traffic <= 0)
        return 1.0;
    if (n <= traffic || aht_s <= 0)
        return 0.0;
    return 1.0 - erlang_c(n, traffic) * exp(-(n - traffic) * threshold_s / aht_s);
}

double erlang_asa(int n, double traffic, double aht_s)
{
    if (traffic <= 0)
        return 0.0;
    if (n <= traffic)
        return INFINITY;
    return erlang_c(n, traffic) * aht_s / (n - traffic);
}

int erlang_agents_needed(double traffic, double aht_s, double threshold_s, double target,
                         int max_agents)
{
    if (traffic <= 0)
        return 0;
    for (int n = (int)floor(traffic) + 1; n < max_agents; n++)
        if (erlang_service_level(n, traffic, aht_s, threshold_s) >= target)
            return n;
    return max_agents;
}
