/* Domain objects as rows for storage: each function returns a JSON object
 * whose keys are the table's column names, so a batch of them is written
 * with one json_populate_recordset / json_to_recordset statement. */
#ifndef ROWS_H
#define ROWS_H

#include <jansson.h>

#include "centre.h"
#include "events.h"

/* events (and event_keys): the stored form of the params as payload. */
json_t *rows_event(int64_t tenant, const Event *ev, json_t *stored);
/* calls: the derived contact. */
json_t *rows_call(int64_t tenant, const Call *call);
/* agent_states: an effective-state transition. */
json_t *rows_transition(int64_t tenant, const Transition *t);
/* agent_choices: what the agent chose last. */
json_t *rows_choice(int64_t tenant, const Agent *a);
/* A contact whose offer was just applied, for the repeat-marking SQL. */
json_t *rows_new_contact(int64_t tenant, const Call *call);

/* A time as stored (UTC, microseconds), or JSON null for KIC_TIME_NONE. */
json_t *rows_time(KicTime t);

#endif
