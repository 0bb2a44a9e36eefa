/* Live state (grows with telephony ingest). */
#include "live.h"

#include <stdlib.h>

struct Live {
    Server *srv;
};

Live *live_new(Server *s)
{
    Live *l = calloc(1, sizeof(*l));
    if (l)
        l->srv = s;
    return l;
}

void live_free(Live *l)
{
    free(l);
}

void live_conn_gone(Live *l, Conn *c)
{
    (void)l;
    (void)c;
}
