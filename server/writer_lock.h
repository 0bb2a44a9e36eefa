/* One kicd writes a database. Two that both served its tenants would each
 * decide calls from their own memory, overwrite each other's rows and
 * count today's numbers apart (and one with other thresholds would
 * rebuild the stored sums under the other). So the writer's session holds
 * a PostgreSQL advisory lock for as long as it lives: its set-up takes
 * the lock or fails with WRITER_LOCK_SQLSTATE, naming the session that
 * has it. kicd loads and serves only once its writer is up, so a second
 * kicd never serves. A kicd whose writer is refused the lock after a
 * reconnect refuses new records (-32050) rather than journal what it may
 * never write consistently, and stops after the grace.
 *
 * A session can outlive its client: one of a kicd just killed lasts until
 * PostgreSQL notices (a second or so on a socket that closed; keepalives,
 * set on the writer's session, end one whose network broke within about
 * 20 s). A kicd ends its own previous session itself (writer_lock_prepare);
 * the grace covers a session of an earlier kicd process. */
#ifndef WRITER_LOCK_H
#define WRITER_LOCK_H

#include "server.h"

#define WRITER_LOCK_SQLSTATE "KIC01"
#define WRITER_LOCK_GRACE_S 30

/* Writes the set-up statement that takes the lock into
 * s->writer_lock_sql. previous_pid: the server process of the writer's
 * last session (0: none), which it may end to take the lock back. */
void writer_lock_prepare(Server *s, int previous_pid);

/* The writer's set-up was refused the lock (message: who has it). */
void writer_lock_refused(Server *s, const char *message);
/* The writer is up: it holds the lock. */
void writer_lock_taken(Server *s);

#endif
