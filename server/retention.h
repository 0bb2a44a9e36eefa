/* The daily retention job: kic_purge (migrations/0006) with the
 * configured retention_days, on the reader connection, its counts logged.
 * Runs once the live state is loaded, then every 24 hours. */
#ifndef RETENTION_H
#define RETENTION_H

#include "server.h"

void retention_run(Server *s);
/* From the minute timer: runs the job when a day has passed. */
void retention_tick(Server *s);

#endif
