/* Row builders (see rows.h). Durations are stored as seconds. */
#include "rows.h"

#include <stdlib.h>

#include "strbuf.h"

#define SPEC(tbl, cols) {tbl, cols, (int)(sizeof(cols) / sizeof(cols[0]))}

static const RowColumn event_cols[] = {
    {"tenant_id", PGA_INT8}, {"call_id", PGA_TEXT}, {"at", PGA_TIMESTAMPTZ},
    {"event_id", PGA_TEXT},  {"type", PGA_TEXT},    {"payload", PGA_JSON},
};

static const RowColumn call_cols[] = {
    {"tenant_id", PGA_INT8},          {"call_id", PGA_TEXT},
    {"queue", PGA_TEXT},              {"location", PGA_TEXT},
    {"channel", PGA_TEXT},            {"direction", PGA_TEXT},
    {"caller_key", PGA_TEXT},         {"caller_withheld", PGA_BOOL},
    {"transferred_from", PGA_TEXT},   {"callback_id", PGA_TEXT},
    {"offered_at", PGA_TIMESTAMPTZ},  {"answered_at", PGA_TIMESTAMPTZ},
    {"abandoned_at", PGA_TIMESTAMPTZ}, {"ended_at", PGA_TIMESTAMPTZ},
    {"part_end_at", PGA_TIMESTAMPTZ}, {"agent", PGA_TEXT},
    {"answered", PGA_BOOL},           {"abandoned", PGA_BOOL},
    {"ended", PGA_BOOL},              {"ended_by", PGA_TEXT},
    {"transferred", PGA_BOOL},        {"transfer_target", PGA_TEXT},
    {"transfer_kind", PGA_TEXT},      {"transfer_mode", PGA_TEXT},
    {"team", PGA_TEXT},               {"wait_s", PGA_FLOAT8},
    {"talk_s", PGA_FLOAT8},           {"hold_s", PGA_FLOAT8},
    {"acw_s", PGA_FLOAT8},            {"wrapped_at", PGA_TIMESTAMPTZ},
    {"category", PGA_TEXT},           {"resolved", PGA_BOOL},
    {"caller_type", PGA_TEXT},        {"follow_up", PGA_TEXT},
    {"followed_by_repeat", PGA_BOOL}, {"complete", PGA_BOOL},
    {"events", PGA_INT8},
};

static const RowColumn repeat_cols[] = {
    {"tenant_id", PGA_INT8}, {"call_id", PGA_TEXT}, {"followed_by_repeat", PGA_BOOL},
};

static const RowColumn state_cols[] = {
    {"tenant_id", PGA_INT8}, {"agent", PGA_TEXT}, {"since", PGA_TIMESTAMPTZ},
    {"state", PGA_TEXT},     {"reason", PGA_TEXT},
};

static const RowColumn leg_cols[] = {
    {"tenant_id", PGA_INT8},          {"call_id", PGA_TEXT},          {"agent", PGA_TEXT},
    {"answered_at", PGA_TIMESTAMPTZ}, {"end_at", PGA_TIMESTAMPTZ},    {"wrapped_at", PGA_TIMESTAMPTZ},
};

static const RowColumn legs_gone_cols[] = {
    {"tenant_id", PGA_INT8}, {"call_id", PGA_TEXT},
};

static const RowColumn chosen_cols[] = {
    {"tenant_id", PGA_INT8}, {"agent", PGA_TEXT}, {"since", PGA_TIMESTAMPTZ},
    {"state", PGA_TEXT},     {"reason", PGA_TEXT},
};

static const RowColumn choice_cols[] = {
    {"tenant_id", PGA_INT8},        {"agent", PGA_TEXT},   {"chosen", PGA_TEXT},
    {"since", PGA_TIMESTAMPTZ},     {"reason", PGA_TEXT},  {"offline_since", PGA_TIMESTAMPTZ},
    {"login_since", PGA_TIMESTAMPTZ},
};

static const RowColumn wrapup_cols[] = {
    {"tenant_id", PGA_INT8},   {"call_id", PGA_TEXT},     {"agent", PGA_TEXT},
    {"at", PGA_TIMESTAMPTZ},   {"category", PGA_TEXT},    {"resolved", PGA_BOOL},
    {"follow_up", PGA_TEXT},   {"caller_type", PGA_TEXT}, {"note", PGA_TEXT},
    {"acw_s", PGA_FLOAT8},
};

static const RowColumn contact_cols[] = {
    {"tenant_id", PGA_INT8},        {"call_id", PGA_TEXT}, {"caller_key", PGA_TEXT},
    {"offered_at", PGA_TIMESTAMPTZ}, {"trigger", PGA_BOOL},
};

static const RowColumn callback_cols[] = {
    {"tenant_id", PGA_INT8},          {"callback_id", PGA_TEXT},       {"source", PGA_TEXT},
    {"team", PGA_TEXT},               {"queue", PGA_TEXT},             {"call_id", PGA_TEXT},
    {"caller_key", PGA_TEXT},         {"number", PGA_TEXT},            {"status", PGA_TEXT},
    {"created_at", PGA_TIMESTAMPTZ},  {"due_by", PGA_TIMESTAMPTZ},     {"created_by", PGA_TEXT},
    {"claimed_by", PGA_TEXT},         {"claimed_at", PGA_TIMESTAMPTZ}, {"attempts", PGA_INT8},
    {"last_attempt", PGA_TIMESTAMPTZ}, {"closed_at", PGA_TIMESTAMPTZ}, {"outcome", PGA_TEXT},
};

static const RowColumn callback_note_cols[] = {
    {"tenant_id", PGA_INT8}, {"callback_id", PGA_TEXT}, {"at", PGA_TIMESTAMPTZ},
    {"agent", PGA_TEXT},     {"note", PGA_TEXT},
};

/* The block key, then MetricSums in its own order (lib/metrics.h). */
static const RowColumn sums_cols[] = {
    {"tenant_id", PGA_INT8}, {"bucket", PGA_TIMESTAMPTZ}, {"queue", PGA_TEXT},
    {"channel", PGA_TEXT},   {"direction", PGA_TEXT},
#define SUM_COLUMN(name, desc) {#name, PGA_INT8},
    METRIC_SUMS(SUM_COLUMN)
#undef SUM_COLUMN
};

const RowSpec rows_events = SPEC("events", event_cols);
const RowSpec rows_calls = SPEC("calls", call_cols);
const RowSpec rows_states = SPEC("agent_states", state_cols);
const RowSpec rows_call_legs = SPEC("call_legs", leg_cols);
const RowSpec rows_call_legs_gone = SPEC("call_legs", legs_gone_cols);
const RowSpec rows_choice_history = SPEC("agent_choice_history", chosen_cols);
const RowSpec rows_choices = SPEC("agent_choices", choice_cols);
const RowSpec rows_wrapups = SPEC("wrapups", wrapup_cols);
const RowSpec rows_contacts = SPEC("contacts", contact_cols);
const RowSpec rows_callbacks = SPEC("callbacks", callback_cols);
const RowSpec rows_callback_notes = SPEC("callback_notes", callback_note_cols);
const RowSpec rows_sums_15m = SPEC("call_sums_15m", sums_cols);
const RowSpec rows_repeats = SPEC("calls", repeat_cols);

static const char *sql_type(PgArrayType t)
{
    switch (t) {
    case PGA_INT8: return "bigint";
    case PGA_JSON: return "json";
    case PGA_TIMESTAMPTZ: return "timestamptz";
    case PGA_FLOAT8: return "double precision";
    case PGA_BOOL: return "boolean";
    default: return "text";
    }
}

char *rows_unnest_sql(const RowSpec *spec)
{
    StrBuf b = STRBUF_INIT;
    strbuf_puts(&b, "unnest(");
    for (int i = 0; i < spec->ncols; i++)
        strbuf_printf(&b, "%s$%d::%s[]", i ? ", " : "", i + 1, sql_type(spec->cols[i].type));
    strbuf_puts(&b, ") AS x(");
    for (int i = 0; i < spec->ncols; i++)
        strbuf_printf(&b, "%s%s", i ? ", " : "", spec->cols[i].name);
    strbuf_putc(&b, ')');
    return strbuf_steal(&b);
}

char *rows_unnest_rows_sql(const RowSpec *spec)
{
    StrBuf b = STRBUF_INIT;
    strbuf_puts(&b, "(SELECT ");
    for (int i = 0; i < spec->ncols; i++)
        strbuf_printf(&b, "%sunnest($%d::%s[]) AS %s", i ? ", " : "", i + 1,
                      sql_type(spec->cols[i].type), spec->cols[i].name);
    strbuf_puts(&b, ") AS x");
    return strbuf_steal(&b);
}

char *rows_column_list(const RowSpec *spec)
{
    StrBuf b = STRBUF_INIT;
    for (int i = 0; i < spec->ncols; i++)
        strbuf_printf(&b, "%s%s", i ? ", " : "", spec->cols[i].name);
    return strbuf_steal(&b);
}

void rows_table_init(PgTable *t, const RowSpec *spec)
{
    PgArrayType types[PGTABLE_MAX_COLS];
    for (int i = 0; i < spec->ncols; i++)
        types[i] = spec->cols[i].type;
    pgtable_init(t, spec->ncols, types);
}

void rows_event(PgTable *t, int64_t tenant, const Event *ev, const char *stored)
{
    pgtable_row(t);
    pgt_int8(t, tenant);
    pgt_text(t, ev->call_id);
    pgt_time(t, ev->at);
    pgt_text(t, ev->event_id);
    pgt_text(t, event_type_names[ev->type]);
    pgt_json(t, stored);
}

void rows_repeat(PgTable *t, const Call *call)
{
    pgtable_row(t);
    pgt_int8(t, call->tenant);
    pgt_text(t, call->call_id);
    pgt_bool(t, call->followed_by_repeat);
}

/* The care team a contact went to: the target of a care-team transfer. */
static const char *team_of(const CallSummary *s)
{
    return s->transferred && s->transfer_kind == TK_CARE_TEAM ? s->transfer_target : NULL;
}

static KicTime when(bool valid, KicTime t)
{
    return valid ? t : KIC_TIME_NONE;
}

/* Values in the order of call_cols. */
void rows_call(PgTable *t, const Call *call)
{
    const CallSummary *s = &call->sum;
    pgtable_row(t);
    pgt_int8(t, call->tenant);
    pgt_text(t, call->call_id);
    pgt_text(t, s->queue);
    pgt_text(t, s->location);
    pgt_text(t, s->offered ? channel_names[s->channel] : NULL);
    pgt_text(t, s->offered ? direction_names[s->direction] : NULL);
    pgt_text(t, s->caller_key);
    pgt_bool(t, s->caller_withheld);
    pgt_text(t, s->transferred_from);
    pgt_text(t, s->callback_id);
    pgt_time(t, when(s->offered, s->offered_at));
    pgt_time(t, when(s->answered, s->answered_at));
    pgt_time(t, when(s->abandoned, s->abandoned_at));
    pgt_time(t, when(s->ended, s->ended_at));
    pgt_time(t, when(s->part_ended, s->part_end_at));
    pgt_text(t, s->agent);
    pgt_bool(t, s->answered);
    pgt_bool(t, s->abandoned);
    pgt_bool(t, s->ended);
    pgt_text(t, s->ended ? ended_by_name(s->ended_by) : NULL);
    pgt_bool(t, s->transferred);
    pgt_text(t, s->transfer_target);
    pgt_text(t, s->transferred ? target_kind_names[s->transfer_kind] : NULL);
    pgt_text(t, s->transferred ? transfer_mode_names[s->transfer_mode] : NULL);
    pgt_text(t, team_of(s));
    pgt_seconds(t, s->answered || s->abandoned, s->wait_us);
    pgt_seconds(t, s->part_ended, s->talk_us);
    pgt_seconds(t, s->answered, s->hold_us);
    pgt_seconds(t, s->wrapped && s->part_ended, s->acw_us);
    pgt_time(t, when(s->wrapped, s->wrapped_at));
    pgt_text(t, s->category);
    pgt_bool_or_null(t, s->wrapped, s->resolved);
    pgt_text(t, s->caller_type >= 0 ? caller_type_names[s->caller_type] : NULL);
    pgt_text(t, s->follow_up >= 0 ? follow_up_names[s->follow_up] : NULL);
    pgt_bool(t, s->followed_by_repeat);
    pgt_bool(t, s->complete);
    pgt_int8(t, s->nevents);
}

void rows_legs(PgTable *t, const Call *call)
{
    const CallSummary *s = &call->sum;
    for (int i = 0; i < s->nlegs; i++) {
        const CallLeg *leg = &s->legs[i];
        pgtable_row(t);
        pgt_int8(t, call->tenant);
        pgt_text(t, call->call_id);
        pgt_text(t, leg->agent);
        pgt_time(t, leg->answered_at);
        pgt_time(t, leg->end_at);
        pgt_time(t, leg->wrapup ? leg->wrapup->at : KIC_TIME_NONE);
    }
}

/* FNV-1a over each leg's key (agent, answered_at). */
uint64_t rows_legs_sig(const Call *call)
{
    const CallSummary *s = &call->sum;
    if (s->nlegs == 0)
        return 0;
    uint64_t h = 14695981039346656037ULL;
    for (int i = 0; i < s->nlegs; i++) {
        for (const char *p = s->legs[i].agent; *p; p++)
            h = (h ^ (unsigned char)*p) * 1099511628211ULL;
        uint64_t at = (uint64_t)s->legs[i].answered_at;
        for (int k = 0; k < 9; k++) /* a separator byte, then the time's 8 */
            h = (h ^ (k ? (at >> (8 * (k - 1))) & 0xff : 0)) * 1099511628211ULL;
    }
    return h == 0 || h == UINT64_MAX ? 1 : h;
}

void rows_legs_gone(PgTable *t, const Call *call)
{
    pgtable_row(t);
    pgt_int8(t, call->tenant);
    pgt_text(t, call->call_id);
}

void rows_transition(PgTable *t, const Transition *tr)
{
    pgtable_row(t);
    pgt_int8(t, tr->tenant);
    pgt_text(t, tr->agent);
    pgt_time(t, tr->since);
    pgt_text(t, agent_state_names[tr->state]);
    pgt_text(t, tr->reason[0] ? tr->reason : NULL);
}

void rows_chosen(PgTable *t, int64_t tenant, const char *agent, AgentState state, KicTime since,
                 const char *reason)
{
    pgtable_row(t);
    pgt_int8(t, tenant);
    pgt_text(t, agent);
    pgt_time(t, since);
    pgt_text(t, agent_state_names[state]);
    pgt_text(t, reason);
}

void rows_choice(PgTable *t, int64_t tenant, const Agent *a)
{
    pgtable_row(t);
    pgt_int8(t, tenant);
    pgt_text(t, a->id);
    pgt_text(t, agent_state_names[a->chosen]);
    pgt_time(t, a->chosen_since);
    pgt_text(t, a->reason);
    pgt_time(t, a->offline_since);
    pgt_time(t, a->login_since);
}

void rows_new_contact(PgTable *t, const Call *call)
{
    const CallSummary *s = &call->sum;
    pgtable_row(t);
    pgt_int8(t, call->tenant);
    pgt_text(t, call->call_id);
    pgt_text(t, s->caller_key);
    pgt_time(t, s->offered_at);
    pgt_bool(t, s->direction == DIR_INBOUND && !s->transferred_from);
}

void rows_wrapup(PgTable *t, int64_t tenant, const char *call_id, const Wrapup *wu,
                 const char *note, int64_t acw_us)
{
    pgtable_row(t);
    pgt_int8(t, tenant);
    pgt_text(t, call_id);
    pgt_text(t, wu->agent);
    pgt_time(t, wu->at);
    pgt_text(t, wu->category);
    pgt_bool(t, wu->resolved);
    pgt_text(t, wu->follow_up >= 0 ? follow_up_names[wu->follow_up] : NULL);
    pgt_text(t, wu->caller_type >= 0 ? caller_type_names[wu->caller_type] : NULL);
    pgt_text(t, note);
    pgt_seconds(t, true, acw_us);
}

void rows_callback(PgTable *t, int64_t tenant, const Callback *cb)
{
    pgtable_row(t);
    pgt_int8(t, tenant);
    pgt_text(t, cb->id);
    pgt_text(t, cb->from_ivr ? "ivr" : "agent");
    pgt_text(t, cb->team);
    pgt_text(t, cb->queue);
    pgt_text(t, cb->call_id);
    pgt_text(t, cb->caller_key);
    pgt_text(t, cb->number[0] ? cb->number : NULL);
    pgt_text(t, callback_status_names[cb->status]);
    pgt_time(t, cb->created_at);
    pgt_time(t, cb->due_by);
    pgt_text(t, cb->created_by);
    pgt_text(t, cb->claimed_by);
    pgt_time(t, cb->claimed_at);
    pgt_int8(t, cb->attempts);
    pgt_time(t, cb->last_attempt);
    pgt_time(t, cb->closed_at);
    pgt_text(t, cb->outcome >= 0 ? callback_outcome_names[cb->outcome] : NULL);
}

void rows_callback_note(PgTable *t, int64_t tenant, const char *callback_id, KicTime at,
                        const char *agent, const char *note)
{
    pgtable_row(t);
    pgt_int8(t, tenant);
    pgt_text(t, callback_id);
    pgt_time(t, at);
    pgt_text(t, agent);
    pgt_text(t, note);
}

void rows_sums(PgTable *t, const RollupDelta *d)
{
    pgtable_row(t);
    pgt_int8(t, d->tenant);
    pgt_time(t, d->key.bucket);
    pgt_text(t, d->key.queue);
    pgt_text(t, channel_names[d->key.channel]);
    pgt_text(t, direction_names[d->key.direction]);
    for (size_t i = 0; metric_sum_names[i]; i++)
        pgt_int8(t, metrics_sum_at(&d->sums, i));
}
