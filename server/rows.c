/* Row builders (see rows.h). Durations are stored as seconds. */
#include "rows.h"

json_t *rows_time(KicTime t)
{
    if (t == KIC_TIME_NONE)
        return json_null();
    char buf[40];
    time_format_db(t, buf, sizeof(buf));
    return json_string(buf);
}

static json_t *opt_str(const char *s)
{
    return s ? json_string(s) : json_null();
}

static json_t *seconds(bool valid, int64_t us)
{
    return valid ? json_real((double)us / 1e6) : json_null();
}

json_t *rows_event(int64_t tenant, const Event *ev, json_t *stored)
{
    return json_pack("{s:I, s:s, s:o, s:s, s:s, s:O}", "tenant_id", (json_int_t)tenant, "call_id",
                     ev->call_id, "at", rows_time(ev->at), "event_id", ev->event_id, "type",
                     event_type_names[ev->type], "payload", stored);
}

/* The care team a contact went to: the target of a care-team transfer. */
static const char *team_of(const CallSummary *s)
{
    return s->transferred && s->transfer_kind == TK_CARE_TEAM ? s->transfer_target : NULL;
}

json_t *rows_call(int64_t tenant, const Call *call)
{
    const CallSummary *s = &call->sum;
    json_t *row = json_pack(
        "{s:I, s:s, s:o, s:o, s:o, s:o, s:o, s:b, s:o, s:o}", "tenant_id", (json_int_t)tenant,
        "call_id", call->call_id, "queue", opt_str(s->queue), "location", opt_str(s->location),
        "channel", s->offered ? json_string(channel_names[s->channel]) : json_null(), "direction",
        s->offered ? json_string(direction_names[s->direction]) : json_null(), "caller_key",
        opt_str(s->caller_key), "caller_withheld", s->caller_withheld, "transferred_from",
        opt_str(s->transferred_from), "callback_id", opt_str(s->callback_id));
    if (!row)
        return NULL;
    json_object_set_new(row, "offered_at", rows_time(s->offered ? s->offered_at : KIC_TIME_NONE));
    json_object_set_new(row, "answered_at", rows_time(s->answered ? s->answered_at : KIC_TIME_NONE));
    json_object_set_new(row, "abandoned_at", rows_time(s->abandoned ? s->abandoned_at : KIC_TIME_NONE));
    json_object_set_new(row, "ended_at", rows_time(s->ended ? s->ended_at : KIC_TIME_NONE));
    json_object_set_new(row, "part_end_at", rows_time(s->part_ended ? s->part_end_at : KIC_TIME_NONE));
    json_object_set_new(row, "agent", opt_str(s->agent));
    json_object_set_new(row, "answered", json_boolean(s->answered));
    json_object_set_new(row, "abandoned", json_boolean(s->abandoned));
    json_object_set_new(row, "ended", json_boolean(s->ended));
    json_object_set_new(row, "ended_by", s->ended ? json_string(ended_by_name(s->ended_by)) : json_null());
    json_object_set_new(row, "transferred", json_boolean(s->transferred));
    json_object_set_new(row, "transfer_target", opt_str(s->transfer_target));
    json_object_set_new(row, "transfer_kind", s->transferred ? json_string(target_kind_names[s->transfer_kind]) : json_null());
    json_object_set_new(row, "transfer_mode", s->transferred ? json_string(transfer_mode_names[s->transfer_mode]) : json_null());
    json_object_set_new(row, "team", opt_str(team_of(s)));
    json_object_set_new(row, "wait_s", seconds(s->answered || s->abandoned, s->wait_us));
    json_object_set_new(row, "talk_s", seconds(s->part_ended, s->talk_us));
    json_object_set_new(row, "hold_s", seconds(s->answered, s->hold_us));
    json_object_set_new(row, "acw_s", seconds(s->wrapped && s->part_ended, s->acw_us));
    json_object_set_new(row, "wrapped_at", rows_time(s->wrapped ? s->wrapped_at : KIC_TIME_NONE));
    json_object_set_new(row, "category", opt_str(s->category));
    json_object_set_new(row, "resolved", s->wrapped ? json_boolean(s->resolved) : json_null());
    json_object_set_new(row, "caller_type", s->caller_type >= 0 ? json_string(caller_type_names[s->caller_type]) : json_null());
    json_object_set_new(row, "follow_up", s->follow_up >= 0 ? json_string(follow_up_names[s->follow_up]) : json_null());
    json_object_set_new(row, "followed_by_repeat", json_boolean(s->followed_by_repeat));
    json_object_set_new(row, "complete", json_boolean(s->complete));
    json_object_set_new(row, "events", json_integer(s->nevents));
    return row;
}

json_t *rows_transition(int64_t tenant, const Transition *t)
{
    return json_pack("{s:I, s:s, s:o, s:s, s:o}", "tenant_id", (json_int_t)tenant, "agent",
                     t->agent, "since", rows_time(t->since), "state",
                     agent_state_names[t->state], "reason",
                     t->reason[0] ? json_string(t->reason) : json_null());
}

json_t *rows_choice(int64_t tenant, const Agent *a)
{
    return json_pack("{s:I, s:s, s:s, s:o, s:o, s:o}", "tenant_id", (json_int_t)tenant, "agent",
                     a->id, "chosen", agent_state_names[a->chosen], "since",
                     rows_time(a->chosen_since), "reason", opt_str(a->reason), "offline_since",
                     rows_time(a->offline_since));
}

json_t *rows_new_contact(int64_t tenant, const Call *call)
{
    const CallSummary *s = &call->sum;
    return json_pack("{s:I, s:s, s:s, s:o, s:b}", "tenant_id", (json_int_t)tenant, "call_id",
                     call->call_id, "caller_key", s->caller_key, "offered_at",
                     rows_time(s->offered_at), "trigger",
                     s->direction == DIR_INBOUND && !s->transferred_from);
}
