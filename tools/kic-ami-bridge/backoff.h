/* Exponential back-off for reconnects and retries: base, 2·base, 4·base,
 * ... up to max; reset after a success. Deterministic: callers that want
 * jitter add it themselves. */
#ifndef BACKOFF_H
#define BACKOFF_H

#include "kictime.h"

typedef struct Backoff {
    KicTime base, max;
    unsigned failures;
} Backoff;

void backoff_init(Backoff *b, KicTime base, KicTime max);
/* The wait before the next attempt; counts one more failure. */
KicTime backoff_next(Backoff *b);
void backoff_reset(Backoff *b);

#endif
