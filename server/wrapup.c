/* call.wrapup: an agent's after-call work for a call they answered, once
 * per call and agent; categories.list: the categories it accepts, for the
 * desktop's choice. Checked here: the fields, the category (the
 * tenant's list), and that `at` is not in the future (a small clock-skew
 * allowance). Decided by the centre in order with the call's events:
 * unknown call (-32004), not theirs (-32003), already done (-32009),
 * before their answer (-32602 at). */
#include <stdlib.h>
#include <string.h>

#include "methods.h"
#include "params.h"
#include "tenants.h"
#include "writer.h"

#define NOTE_MAX 4000

void method_call_wrapup(Conn *c, Reply *r, json_t *params, const Method *m)
{
    const char *call_id, *category, *note;
    bool resolved;
    int follow_up, caller_type;
    KicTime at;
    RpcError err = {0};
    if (!c->sess.agent[0]) {
        reply_errorf(r, RPC_FORBIDDEN, "user %s is not an agent", c->sess.user);
        return;
    }
    if (!param_string(params, "call_id", true, KIC_MAX_FIELD, &call_id, &err) ||
        !param_string(params, "category", true, KIC_MAX_FIELD, &category, &err) ||
        !param_bool(params, "resolved", true, &resolved, NULL, &err) ||
        !param_enum(params, "follow_up", false, follow_up_names, &follow_up, &err) ||
        !param_enum(params, "caller_type", false, caller_type_names, &caller_type, &err) ||
        !param_string(params, "note", false, NOTE_MAX, &note, &err) ||
        !param_time(params, "at", false, &at, &err)) {
        reply_error(r, &err);
        rpc_error_clear(&err);
        return;
    }
    Tenant *t = c->sess.tenant;
    if (!tenant_has_category(t, category)) {
        reply_field_error(r, "category", "is not one of this centre's wrap-up categories (categories.list)");
        return;
    }
    KicTime now = server_now();
    if (at == KIC_TIME_NONE)
        at = now;
    else if (at > now + c->srv->cfg.wrapup_skew_s * KIC_USEC) {
        reply_field_error(r, "at", "must not lie in the future");
        return;
    }
    Record *rec = record_new(REC_WRAPUP, t, r);
    snprintf(rec->wrap.call_id, sizeof(rec->wrap.call_id), "%s", call_id);
    rec->wrap.wrapup = wrapup_new(c->sess.agent, category, at, resolved, follow_up, caller_type);
    rec->wrap.note = note ? strdup(note) : NULL;
    rec->wrap.at = at;
    rec->wrap.holder_since = c->sess.agent_since;
    if (!rec->wrap.wrapup)
        abort();
    writer_submit(c->srv->writer, rec);
}

/* The tenant's list as kicd holds it now (kicctl category add/remove
 * reach it on the kic_config channel): what call.wrapup accepts. */
void method_categories_list(Conn *c, Reply *r, json_t *params, const Method *m)
{
    (void)params;
    (void)m;
    reply_result(r, json_pack("{s:o}", "categories", tenant_categories_json(c->sess.tenant)));
}
