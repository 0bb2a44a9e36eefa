/* The signals kicd acts on (SIGTERM, SIGINT: drain and stop; SIGHUP:
 * reload), taken as events of the loop from a signalfd. A handler only
 * learns the signal's number; a signalfd also says which process sent it,
 * so the log can answer an operator's first question about a kicd that
 * stopped: who stopped it? */
#ifndef SIGNALS_H
#define SIGNALS_H

#include <event2/event.h>
#include <stddef.h>
#include <sys/types.h>

#include "kic.h"

typedef struct Signals Signals;

/* sender is 0 when the kernel sent it, or a process outside kicd's PID
 * namespace (whose pid kicd cannot see). */
typedef void (*SignalFn)(int signo, pid_t sender, void *arg);

/* Blocks the three signals (their default actions no longer apply) and
 * reads them from the loop. NULL if the kernel refused (errno set). */
Signals *signals_start(struct event_base *base, SignalFn fn, void *arg) KIC_MUST_CHECK;
void signals_free(Signals *sig);

/* "SIGTERM from pid 1234 (systemd)", for the log; the name is read from
 * /proc and left out when the sender has already gone. */
void signals_describe(int signo, pid_t sender, char *out, size_t n);

#endif
