/* Domain objects as rows for storage. Each table has one column list
 * (RowColumn: name and array type) from which the SQL is generated and to
 * which the rows_* functions append values, in order, as binary arrays:
 *   INSERT INTO t (cols) SELECT * FROM unnest($1::bigint[], ...)
 * so a batch is written without PostgreSQL parsing text. */
#ifndef ROWS_H
#define ROWS_H

#include "centre.h"
#include "pgarray.h"

typedef struct RowColumn {
    const char *name;
    PgArrayType type;
} RowColumn;

typedef struct RowSpec {
    const char *table;
    const RowColumn *cols;
    int ncols;
} RowSpec;

extern const RowSpec rows_events, rows_calls, rows_states, rows_choices, rows_wrapups,
    rows_contacts, rows_callbacks, rows_callback_notes, rows_sums_15m, rows_repeats, rows_call_legs, rows_call_legs_gone, rows_choice_history;

/* "unnest($1::bigint[], $2::text[]) AS x(a, b)"; caller frees. */
char *rows_unnest_sql(const RowSpec *spec);
/* The same rows as "(SELECT unnest($1::bigint[]) AS a, unnest($2::text[])
 * AS b) AS x": set-returning functions in the select list are read a row
 * at a time, while unnest in FROM first copies every row (a batch's
 * payloads too) into a tuple store. For INSERT ... SELECT; joins plan
 * better with the FROM form's row estimate. Caller frees. */
char *rows_unnest_rows_sql(const RowSpec *spec);
/* "a, b, c"; caller frees. */
char *rows_column_list(const RowSpec *spec);
void rows_table_init(PgTable *t, const RowSpec *spec);

void rows_event(PgTable *t, int64_t tenant, const Event *ev, const char *stored);
void rows_call(PgTable *t, const Call *call);
/* A stored call whose repeat flag alone changed: its key and the flag. */
void rows_repeat(PgTable *t, const Call *call);
/* The call's agents' legs (call_legs). */
void rows_legs(PgTable *t, const Call *call);
/* A fingerprint of which legs the call has (0: none), to tell when legs
 * stored may be gone (a late event took one away). */
uint64_t rows_legs_sig(const Call *call);
/* The call's key: its stored legs are removed before its legs are
 * written again. */
void rows_legs_gone(PgTable *t, const Call *call);
void rows_transition(PgTable *t, const Transition *tr);
/* One agent.state.set as made (agent_choice_history). */
void rows_chosen(PgTable *t, int64_t tenant, const char *agent, AgentState state, KicTime since,
                 const char *reason);
/* The agent's latest choice (agent_choices). */
void rows_choice(PgTable *t, int64_t tenant, const Agent *a);
void rows_new_contact(PgTable *t, const Call *call);
void rows_wrapup(PgTable *t, int64_t tenant, const char *call_id, const Wrapup *wu,
                 const char *note, int64_t acw_us);
void rows_callback(PgTable *t, int64_t tenant, const Callback *cb); /* tenant: cb->tenant */
/* call_sums_15m: one block's delta. */
void rows_sums(PgTable *t, const RollupDelta *d);
void rows_callback_note(PgTable *t, int64_t tenant, const char *callback_id, KicTime at,
                        const char *agent, const char *note);

#endif
