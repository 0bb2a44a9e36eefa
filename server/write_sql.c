/* The SQL of the writer (writer.c): the statements it prepares on its
 * connection, one per table a batch writes, generated from the column
 * lists in rows.c, and the reads that load what a batch needs. */
#include "write_sql.h"

#include <stdlib.h>
#include <string.h>

#include "kic.h"
#include "strbuf.h"

const char write_sql_load_events[] =
    "SELECT e.tenant_id, e.type, e.payload::text FROM events e"
    " JOIN json_to_recordset($1::json) AS x(tenant_id bigint, call_id text)"
    "   USING (tenant_id, call_id)"
    " ORDER BY e.tenant_id, e.call_id";
const char write_sql_load_calls[] =
    "SELECT c.tenant_id, c.call_id, c.followed_by_repeat FROM calls c"
    " JOIN json_to_recordset($1::json) AS x(tenant_id bigint, call_id text)"
    "   USING (tenant_id, call_id)";
const char write_sql_load_keys[] =
    "SELECT k.tenant_id, k.event_id FROM event_keys k"
    " JOIN json_to_recordset($1::json) AS x(tenant_id bigint, event_id text)"
    "   USING (tenant_id, event_id)";
const char write_sql_load_wrapups[] =
    "SELECT w.tenant_id, w.call_id, w.agent, (extract(epoch FROM w.at) * 1000000)::bigint,"
    "       w.category, w.resolved, w.follow_up, w.caller_type FROM wrapups w"
    " JOIN json_to_recordset($1::json) AS x(tenant_id bigint, call_id text)"
    "   USING (tenant_id, call_id)";

/* Prepared statement names, one per table written: the safe statement
 * where a table has a fast variant too, and the first of the two that
 * settle repeats in storage. write_sql_prepare adds the fast variants,
 * the second repeat statement (kic_mark_self) and the events statement
 * of journals written before migration 0008. */
const char *const write_stmt_names[WT_COUNT] = {
    [WT_EVENTS] = "kic_events_json",  [WT_WRAPUPS] = "kic_wrapups",
    [WT_CALLS] = "kic_calls",         [WT_SUMS] = "kic_sums",
    [WT_STATES] = "kic_states",
    [WT_CHOICES] = "kic_choices",     [WT_CALLBACKS] = "kic_callbacks",
    [WT_CB_NOTES] = "kic_cb_notes",   [WT_CONTACTS] = "kic_mark_earlier",
    [WT_CALLS_NEW] = "kic_calls", /* calls not stored yet (fast: kic_calls_new) */
    [WT_REPEATS] = "kic_repeats",     [WT_LEGS] = "kic_legs",
    [WT_LEGS_GONE] = "kic_legs_gone",
    [WT_CHOSEN] = "kic_chosen",
};
const RowSpec *const write_table_specs[WT_COUNT] = {
    [WT_EVENTS] = &rows_events,       [WT_WRAPUPS] = &rows_wrapups,
    [WT_CALLS] = &rows_calls,         [WT_SUMS] = &rows_sums_15m,
    [WT_STATES] = &rows_states,
    [WT_CHOICES] = &rows_choices,     [WT_CALLBACKS] = &rows_callbacks,
    [WT_CB_NOTES] = &rows_callback_notes, [WT_CONTACTS] = &rows_contacts,
    [WT_CALLS_NEW] = &rows_calls,     [WT_REPEATS] = &rows_repeats,
    [WT_LEGS] = &rows_call_legs,      [WT_CHOSEN] = &rows_choice_history,
    [WT_LEGS_GONE] = &rows_call_legs_gone,
};

/* A contact marked a repeat in storage leaves its block's sums: it now
 * counts as repeated, and no longer as a provisional FCR (as
 * metrics_add_call says: answered, and for FCR not transferred, wrapped
 * up, resolved; a contact marked has a caller key). */
static const char sums_after_marking[] =
    "INSERT INTO call_sums_15m (tenant_id, bucket, queue, channel, direction, repeated, fcr_provisional)"
    " SELECT tenant_id, to_timestamp(floor(extract(epoch FROM offered_at) / 900) * 900),"
    "        coalesce(queue, ''), channel, direction,"
    "        count(*) FILTER (WHERE answered AND caller_key IS NOT NULL),"
    "        -count(*) FILTER (WHERE answered AND caller_key IS NOT NULL AND NOT transferred"
    "                          AND wrapped_at IS NOT NULL AND resolved)"
    " FROM m WHERE offered_at IS NOT NULL GROUP BY 1, 2, 3, 4, 5"
    " ON CONFLICT (tenant_id, bucket, queue, channel, direction) DO UPDATE SET"
    "   repeated = call_sums_15m.repeated + EXCLUDED.repeated,"
    "   fcr_provisional = call_sums_15m.fcr_provisional + EXCLUDED.fcr_provisional";

/* Repeat marking in storage reads the stored calls of the batch's callers
 * once, by the caller index (or one scan of calls), and matches them to
 * the batch's contacts there: joined to calls directly, a plan misjudged
 * on a small or freshly grown table scanned calls for every contact. The
 * rows to mark are then updated by their tuple ids. */
static const char callers_calls[] =
    "c AS MATERIALIZED (SELECT ctid AS tid, tenant_id, call_id, caller_key, offered_at,"
    "   direction, transferred_from, followed_by_repeat FROM calls"
    "   WHERE caller_key = ANY ($3::text[]))"; /* $3: contact_cols caller_key, rows.c */

/* The SET list of an upsert that replaces the whole row but its key
 * (tenant_id and the row's own id, the first two columns). */
static void set_all_but_key(StrBuf *b, const RowSpec *spec)
{
    for (int i = 2; i < spec->ncols; i++)
        strbuf_printf(b, "%s = EXCLUDED.%s, ", spec->cols[i].name, spec->cols[i].name);
    strbuf_puts(b, "updated_at = now()");
}

/* The events' statements (and the keys'), or false when name is none. */
static bool sql_events(StrBuf *b, const char *name, const RowSpec *spec, const char *cols,
                       const char *rows)
{
    if (!strcmp(name, "kic_events_json")) {
        /* The keys first: only events whose key is new are stored. When
         * every key is new (always, unless an event id was reused on
         * another call that memory no longer holds) the rows go in
         * without a join; the IN list is read only otherwise. */
        strbuf_printf(b,
                      "WITH k AS (INSERT INTO event_keys (tenant_id, event_id, at)"
                      "   SELECT * FROM unnest($1::bigint[], $4::text[], $3::timestamptz[])"
                      "   ON CONFLICT DO NOTHING RETURNING tenant_id, event_id)"
                      " INSERT INTO events (%s) SELECT * FROM %s"
                      " WHERE (SELECT count(*) FROM k) = cardinality($1::bigint[])"
                      "    OR (x.tenant_id, x.event_id) IN (SELECT tenant_id, event_id FROM k)",
                      cols, rows);
    } else if (!strcmp(name, "kic_event_keys")) {
        /* Fast: fails the batch on a key already stored (see on_written). */
        strbuf_puts(b, "INSERT INTO event_keys (tenant_id, event_id, at)"
                        " SELECT unnest($1::bigint[]), unnest($2::text[]), unnest($3::timestamptz[])");
    } else if (!strcmp(name, "kic_states_new") || !strcmp(name, "kic_calls_new")) {
        /* Fast, as the keys: fails the batch on an interval or a call
         * already stored. */
        strbuf_printf(b, "INSERT INTO %s (%s) SELECT * FROM %s", spec->table, cols, rows);
    } else if (!strcmp(name, "kic_events_new")) {
        strbuf_printf(b, "INSERT INTO events (%s) SELECT * FROM %s", cols, rows);
    } else if (!strcmp(name, "kic_events")) {
        /* Before migration 0008 (payload jsonb), for journals written
         * then: their payload arrays are jsonb. */
        strbuf_printf(b,
                      "WITH r AS MATERIALIZED (SELECT * FROM unnest($1::bigint[], $2::text[],"
                      "   $3::timestamptz[], $4::text[], $5::text[], $6::jsonb[])"
                      "   AS x(tenant_id, call_id, at, event_id, type, payload)),"
                      " k AS (INSERT INTO event_keys (tenant_id, event_id, at)"
                      "       SELECT tenant_id, event_id, at FROM r ON CONFLICT DO NOTHING"
                      "       RETURNING tenant_id, event_id)"
                      " INSERT INTO events (%s) SELECT r.tenant_id, r.call_id, r.at, r.event_id,"
                      " r.type, r.payload::json FROM r JOIN k USING (tenant_id, event_id)",
                      cols);
    } else {
        return false;
    }
    return true;
}

/* The two statements that settle repeats in storage, or false when name
 * is neither. */
static bool sql_mark_repeats(StrBuf *b, const char *name, const char *unnest, long long window)
{
    if (!strcmp(name, "kic_mark_earlier")) {
        strbuf_printf(b, "WITH x AS MATERIALIZED (SELECT * FROM %s WHERE x.trigger),"
                          " %s,"
                          " m AS (UPDATE calls SET followed_by_repeat = true"
                          "   WHERE NOT followed_by_repeat AND ctid = ANY (ARRAY("
                          "     SELECT c.tid FROM c JOIN x ON c.tenant_id = x.tenant_id"
                          "       AND c.caller_key = x.caller_key"
                          "     WHERE NOT c.followed_by_repeat"
                          "       AND (c.offered_at, c.call_id) < (x.offered_at, x.call_id)"
                          "       AND x.offered_at <= c.offered_at + make_interval(days => %lld)))"
                          "   RETURNING calls.*) %s",
                      unnest, callers_calls, window, sums_after_marking);
    } else if (!strcmp(name, "kic_mark_self")) {
        strbuf_printf(b, "WITH x AS MATERIALIZED (SELECT * FROM %s),"
                          " %s,"
                          " m AS (UPDATE calls SET followed_by_repeat = true"
                          "   WHERE NOT followed_by_repeat AND ctid = ANY (ARRAY("
                          "     SELECT c.tid FROM c JOIN x USING (tenant_id, call_id)"
                          "     WHERE NOT c.followed_by_repeat"
                          "       AND EXISTS (SELECT 1 FROM c l WHERE l.tenant_id = c.tenant_id"
                          "         AND l.caller_key = c.caller_key AND l.direction = 'inbound'"
                          "         AND l.transferred_from IS NULL"
                          "         AND (l.offered_at, l.call_id) > (c.offered_at, c.call_id)"
                          "         AND l.offered_at <= c.offered_at + make_interval(days => %lld))))"
                          "   RETURNING calls.*) %s",
                      unnest, callers_calls, window, sums_after_marking);
    } else {
        return false;
    }
    return true;
}

/* The statement of each other table: upserts, the legs' delete, the
 * repeat flags, the sums behind their write mark, and the append-only
 * tables. */
static void sql_table(StrBuf *b, const char *name, const RowSpec *spec, const char *cols,
                      const char *rows, const char *unnest)
{
    if (!strcmp(name, "kic_calls")) {
        strbuf_printf(b, "INSERT INTO calls (%s) SELECT * FROM %s"
                          " ON CONFLICT (tenant_id, call_id) DO UPDATE SET ", cols, rows);
        set_all_but_key(b, spec);
    } else if (!strcmp(name, "kic_legs")) {
        strbuf_printf(b, "INSERT INTO call_legs (%s) SELECT * FROM %s"
                          " ON CONFLICT (tenant_id, call_id, agent, answered_at) DO UPDATE"
                          " SET end_at = EXCLUDED.end_at, wrapped_at = EXCLUDED.wrapped_at"
                          " WHERE (call_legs.end_at, call_legs.wrapped_at)"
                          "   IS DISTINCT FROM (EXCLUDED.end_at, EXCLUDED.wrapped_at)",
                      cols, rows);
    } else if (!strcmp(name, "kic_legs_gone")) {
        /* Before kic_legs: a call whose legs changed (a late event took
         * one away) has them all written again. */
        strbuf_printf(b, "DELETE FROM call_legs l USING %s"
                          " WHERE l.tenant_id = x.tenant_id AND l.call_id = x.call_id", unnest);
    } else if (!strcmp(name, "kic_repeats")) {
        /* Stored calls whose repeat flag alone changed (a later contact of
         * the caller): that column, not the whole row. A call whose row is
         * not stored yet is in a batch before this one; were that batch
         * to fail, it is sent again with every batch after it, this one
         * included (rewind_result). */
        strbuf_printf(b, "UPDATE calls c SET followed_by_repeat = x.followed_by_repeat,"
                          " updated_at = now() FROM %s"
                          " WHERE c.tenant_id = x.tenant_id AND c.call_id = x.call_id", unnest);
    } else if (!strcmp(name, "kic_sums")) {
        /* the batch's write mark ($ncols + 1) first: a batch sent again
         * finds it and adds nothing */
        strbuf_printf(b, "WITH m AS (INSERT INTO write_marks (id) VALUES ($%d::bytea)"
                          " ON CONFLICT DO NOTHING RETURNING 1)"
                          " INSERT INTO call_sums_15m (%s) SELECT * FROM %s"
                          " WHERE EXISTS (SELECT 1 FROM m)"
                          " ON CONFLICT (tenant_id, bucket, queue, channel, direction) DO UPDATE SET ",
                      spec->ncols + 1, cols, unnest);
        for (int i = 5; i < spec->ncols; i++)
            strbuf_printf(b, "%s%s = call_sums_15m.%s + EXCLUDED.%s", i > 5 ? ", " : "",
                          spec->cols[i].name, spec->cols[i].name, spec->cols[i].name);
    } else if (!strcmp(name, "kic_callbacks")) {
        strbuf_printf(b, "INSERT INTO callbacks (%s) SELECT * FROM %s"
                          " ON CONFLICT (tenant_id, callback_id) DO UPDATE SET ", cols, unnest);
        set_all_but_key(b, spec);
    } else if (!strcmp(name, "kic_choices")) {
        strbuf_printf(b, "INSERT INTO agent_choices (%s) SELECT * FROM %s"
                          " ON CONFLICT (tenant_id, agent) DO UPDATE SET chosen = EXCLUDED.chosen,"
                          " since = EXCLUDED.since, reason = EXCLUDED.reason,"
                          " offline_since = EXCLUDED.offline_since,"
                          " login_since = EXCLUDED.login_since", cols, unnest);
    } else {
        /* agent_states, wrapups, callback_notes, agent_choice_history:
         * append-only, idempotent by key */
        strbuf_printf(b, "INSERT INTO %s (%s) SELECT * FROM %s ON CONFLICT DO NOTHING",
                      spec->table, cols, rows);
    }
}

/* The writes, generated from the column lists in rows.c. Repeats are
 * settled in storage for contacts whose window reaches past what memory
 * holds: a new contact marks earlier ones of the same caller within their
 * window, and is marked itself when a later one exists; the window is in
 * calendar days of the session time zone (set at connect), as in lib/.
 * These two are planned at each execution (PgPrepared.planned_each_time):
 * they only run for a backlog of older calls, and a generic plan made
 * while calls was small scanned the whole table for every contact (2,000
 * acks/s; bench/RESULTS.md, stop 24). */
static char *sql_for(const char *name, const RowSpec *spec, long long window)
{
    char *unnest = rows_unnest_sql(spec), *cols = rows_column_list(spec);
    char *rows = rows_unnest_rows_sql(spec);
    StrBuf b = STRBUF_INIT;
    if (!sql_events(&b, name, spec, cols, rows) && !sql_mark_repeats(&b, name, unnest, window))
        sql_table(&b, name, spec, cols, rows, unnest);
    free(unnest);
    free(rows);
    free(cols);
    return strbuf_steal(&b);
}

void write_sql_prepare(PgPrepared out[WRITE_SQL_PREPARED + 1], char *sql[WRITE_SQL_PREPARED],
                       long long repeat_window_days)
{
    int n = 0;
    for (int t = 0; t < WT_COUNT; t++) {
        if (t == WT_CALLS_NEW)
            continue; /* its safe statement is WT_CALLS' */
        sql[n] = sql_for(write_stmt_names[t], write_table_specs[t], repeat_window_days);
        out[n] = (PgPrepared){.name = write_stmt_names[t], .sql = sql[n], .planned_each_time = t == WT_CONTACTS};
        n++;
    }
    sql[n] = sql_for("kic_mark_self", &rows_contacts, repeat_window_days);
    out[n] = (PgPrepared){.name = "kic_mark_self", .sql = sql[n], .planned_each_time = true};
    n++;
    static const char *const events_extra[] = {"kic_event_keys", "kic_events_new", "kic_events"};
    for (size_t i = 0; i < KIC_ARRAY_LEN(events_extra); i++) {
        sql[n] = sql_for(events_extra[i], &rows_events, 0);
        out[n] = (PgPrepared){.name = events_extra[i], .sql = sql[n]};
        n++;
    }
    sql[n] = sql_for("kic_states_new", &rows_states, 0);
    out[n] = (PgPrepared){.name = "kic_states_new", .sql = sql[n]};
    n++;
    sql[n] = sql_for("kic_calls_new", &rows_calls, 0);
    out[n] = (PgPrepared){.name = "kic_calls_new", .sql = sql[n]};
    n++;
    if (n != WRITE_SQL_PREPARED)
        abort(); /* the arrays' sizes must follow the statements above */
    out[n] = (PgPrepared){.name = NULL};
}

void write_sql_free(char *sql[WRITE_SQL_PREPARED])
{
    for (int i = 0; i < WRITE_SQL_PREPARED; i++) {
        free(sql[i]);
        sql[i] = NULL;
    }
}
