/* One kicd writes a database. Two that both served its tenants would each
 * decide calls from their own memory, overwrite each other's rows and
 * count today's numbers apart (and one with other thresholds would
 * rebuild the stored sums under the other). So the writer's session holds
 * a PostgreSQL advisory lock for as long as it lives: its set-up takes
 * the lock or fails with WRITER_LOCK_SQLSTATE, naming the session that
 * has it. kicd loads and serves only once its writer is up, so a second
 * kicd never serves; one whose writer cannot take the lock back after a
 * reconnect stops (what it acknowledged is in its journal). A session of
 * a kicd just killed holds the lock until PostgreSQL notices its client
 * is gone (a second or so: client_connection_check_interval), hence the
 * grace before giving up. */
#ifndef WRITER_LOCK_H
#define WRITER_LOCK_H

#include "server.h"

#define WRITER_LOCK_SQLSTATE "KIC01"
#define WRITER_LOCK_GRACE_S 10

/* The set-up statement that takes the lock. */
extern const char WRITER_LOCK_SQL[];

/* The writer's set-up was refused the lock (message: who has it). */
void writer_lock_refused(Server *s, const char *message);
/* The writer is up: it holds the lock. */
void writer_lock_taken(Server *s);

#endif
