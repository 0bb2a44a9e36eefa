/* Live state: per tenant, what is happening now (calls waiting and in
 * progress, agents' states, today's counters) and who is watching it.
 * Fed by the writer after each durable batch; read by stats methods. */
#ifndef LIVE_H
#define LIVE_H

#include "server.h"

Live *live_new(Server *s);
void live_free(Live *l);

/* A connection went away (close or logout): forget its subscriptions. */
void live_conn_gone(Live *l, Conn *c);

#endif
