/* The SQL of the writer: its prepared statements, one per table a batch
 * writes (and a few variants), and the reads that load the calls, wrap-ups
 * and event keys a batch needs from storage. */
#ifndef WRITE_SQL_H
#define WRITE_SQL_H

#include "pg.h"
#include "rows.h"

/* The tables a batch writes, each an index into a batch's rows (the order
 * statements are sent in is writer.c plan_statements'); then WT_KEYS, the
 * parameters of the fast event-keys insert (three of the events'
 * columns). */
enum {
    WT_EVENTS, WT_WRAPUPS, WT_CALLS, WT_SUMS, WT_STATES, WT_CHOICES, WT_CALLBACKS, WT_CB_NOTES,
    WT_CONTACTS, WT_CALLS_NEW, WT_REPEATS, WT_LEGS_GONE, WT_LEGS, WT_CHOSEN, WT_COUNT, WT_KEYS = WT_COUNT, WT_PARAMS
};

/* How many statements write_sql_prepare makes. */
#define WRITE_SQL_PREPARED (WT_COUNT + 5)

/* The prepared statement of each table (the safe one where a table has a
 * fast variant too: see writer.c plan_statements), and its columns. */
extern const char *const write_stmt_names[WT_COUNT];
extern const RowSpec *const write_table_specs[WT_COUNT];

/* Loads of a batch, each taking a JSON array of {tenant_id, call_id} (or
 * {tenant_id, event_id} for the keys) as $1. */
extern const char write_sql_load_events[];
extern const char write_sql_load_calls[];
extern const char write_sql_load_keys[];
extern const char write_sql_load_wrapups[];

/* Fills out[] with every statement and a NULL-named end; their texts are
 * allocated in sql[] (write_sql_free). The repeat window (days) goes into
 * the statements that settle repeats in storage. */
void write_sql_prepare(PgPrepared out[WRITE_SQL_PREPARED + 1], char *sql[WRITE_SQL_PREPARED],
                       long long repeat_window_days);
void write_sql_free(char *sql[WRITE_SQL_PREPARED]);

#endif
