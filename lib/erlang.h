/* Erlang C: staffing for a queue of calls. With A Erlang of traffic
 * (calls per second x AHT) offered to N agents (N > A):
 *   P(wait)       = C(N, A) = (A^N/N! * N/(N-A)) / (sum_{k<N} A^k/k! + A^N/N! * N/(N-A))
 *   service level = 1 - P(wait) * exp(-(N - A) * T / AHT)   (answered within T)
 *   ASA           = P(wait) * AHT / (N - A)
 * agents_needed is the fewest N reaching a service-level target. */
#ifndef ERLANG_H
#define ERLANG_H

#include "kic.h"

/* Traffic in Erlang of `calls` arriving in `period_s` with `aht_s`. */
double erlang_traffic(double calls, double period_s, double aht_s);
/* P(wait) for n agents; 1 when n <= traffic (the queue never empties). */
double erlang_c(int n, double traffic);
double erlang_service_level(int n, double traffic, double aht_s, double threshold_s);
double erlang_asa(int n, double traffic, double aht_s);
/* The fewest agents for which the service level reaches target (0..1);
 * 0 when there is no traffic. Capped at max_agents (returned when even
 * that is not enough). */
int erlang_agents_needed(double traffic, double aht_s, double threshold_s, double target,
                         int max_agents);

#endif
