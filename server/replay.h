/* Replaying the journal into PostgreSQL: each record's statements as one
 * transaction, in order, on the writer's connection (where they are
 * prepared). Every statement is idempotent (keys with ON CONFLICT, and
 * the sums guarded by their batch's write mark), so a record that had in
 * fact been committed, or a replay cut short and run again, changes
 * nothing twice. The journal is emptied once every record is stored. */
#ifndef REPLAY_H
#define REPLAY_H

#include "server.h"

/* ok: everything stored and the journal emptied; false: PostgreSQL went
 * away meanwhile (the journal is kept; replay again when it is back). */
typedef void (*ReplayDone)(Server *s, bool ok);

/* Starts a replay; done is called exactly once (at once when there is
 * nothing to replay). */
void replay_start(Server *s, ReplayDone done);

#endif
