/* Exponential back-off, capped. */
#include "backoff.h"

void backoff_init(Backoff *b, KicTime base, KicTime max)
{
    b->base = base > 0 ? base : 1;
    b->max = max >= b->base ? max : b->base;
    b->failures = 0;
}

KicTime backoff_next(Backoff *b)
{
    KicTime d = b->base;
    for (unsigned i = 0; i < b->failures && d < b->max; i++)
        d *= 2;
    if (d > b->max)
        d = b->max;
    if (b->failures < 64)
        b->failures++;
    return d;
}

void backoff_reset(Backoff *b)
{
    b->failures = 0;
}
