/* Event parameter checks, per type, field by field. */
#include "events.h"

#include <stdlib.h>
#include <string.h>

#include "json_compact.h"
#include "params.h"

typedef struct Fields {
    const char *event_id, *call_id, *queue, *caller, *dialled, *location, *callback_id,
        *transferred_from, *agent, *target, *caller_key;
    int channel, direction, target_kind, mode, by;
    KicTime at, due_by;
    bool withheld;
} Fields;

static bool get_str(json_t *p, const char *name, bool required, const char **out, RpcError *err)
{
    return param_string(p, name, required, KIC_MAX_FIELD, out, err);
}

static bool common(json_t *p, EventType type, Fields *f, RpcError *err)
{
    return get_str(p, "event_id", true, &f->event_id, err) &&
           get_str(p, "call_id", type != EV_CALLBACK_REQUESTED, &f->call_id, err) &&
           param_time(p, "at", true, &f->at, err);
}

static bool offered(json_t *p, Fields *f, RpcError *err)
{
    return get_str(p, "queue", true, &f->queue, err) &&
           get_str(p, "dialled", false, &f->dialled, err) &&
           get_str(p, "location", false, &f->location, err) &&
           param_enum(p, "channel", false, channel_names, &f->channel, err) &&
           param_enum(p, "direction", false, direction_names, &f->direction, err) &&
           get_str(p, "callback_id", false, &f->callback_id, err) &&
           get_str(p, "transferred_from", false, &f->transferred_from, err);
}

static bool transferred(json_t *p, Fields *f, RpcError *err)
{
    return get_str(p, "agent", true, &f->agent, err) &&
           get_str(p, "target", true, &f->target, err) &&
           param_enum(p, "target_kind", true, target_kind_names, &f->target_kind, err) &&
           param_enum(p, "mode", false, transfer_mode_names, &f->mode, err);
}

static bool callback_requested(json_t *p, Fields *f, RpcError *err)
{
    return get_str(p, "callback_id", true, &f->callback_id, err) &&
           get_str(p, "queue", true, &f->queue, err) &&
           param_time(p, "due_by", false, &f->due_by, err);
}

static bool type_fields(EventType type, json_t *p, Fields *f, RpcError *err)
{
    switch (type) {
    case EV_OFFERED: return offered(p, f, err);
    case EV_ANSWERED: return get_str(p, "agent", true, &f->agent, err);
    case EV_TRANSFERRED: return transferred(p, f, err);
    case EV_ENDED: return param_enum(p, "by", false, ended_by_names, &f->by, err);
    case EV_CALLBACK_REQUESTED: return callback_requested(p, f, err);
    default: return true;
    }
}

/* Reads the caller: a number from a client, or its key from storage. On
 * an e-mail or chat contact the caller may be an address or a handle
 * instead (caller_normalise_address). ident receives what is keyed; number
 * the normalised number, "" when the caller is not one. */
static bool caller_field(EventType type, json_t *p, const CallerCtx *cc, bool from_storage,
                         Fields *f, char number[CALLER_E164_MAX], char ident[CALLER_ADDRESS_MAX],
                         RpcError *err)
{
    bool needs_number = type == EV_CALLBACK_REQUESTED;
    if (type != EV_OFFERED && !needs_number)
        return true;
    if (from_storage) {
        if (!get_str(p, "caller_key", false, &f->caller_key, err))
            return false;
        f->withheld = json_is_true(json_object_get(p, "caller_withheld"));
        return true;
    }
    json_t *raw = json_object_get(p, "caller");
    if (json_is_string(raw) && json_string_length(raw) == 0 && !needs_number) {
        f->caller = "";
        f->withheld = true; /* an empty number is a hidden one */
        return true;
    }
    if (!param_string_any(p, "caller", needs_number, KIC_MAX_FIELD, &f->caller, err))
        return false;
    if (!f->caller)
        return true;
    bool by_address = !needs_number && (f->channel == CH_EMAIL || f->channel == CH_CHAT);
    CallerResult r = caller_normalise(f->caller, cc->country_code, number);
    if (r == CALLER_OK) {
        memcpy(ident, number, CALLER_E164_MAX);
    } else if (r == CALLER_INVALID && by_address) {
        number[0] = '\0';
        r = caller_normalise_address(f->caller, ident);
    }
    if (r == CALLER_INVALID || (needs_number && r == CALLER_WITHHELD)) {
        rpc_error_field(err, "caller", needs_number ? "must be a number that can be called back"
                                       : by_address ? "must be a phone number, an e-mail address or a handle"
                                                    : "must be a phone number");
        return false;
    }
    f->withheld = r == CALLER_WITHHELD;
    return true;
}

/* The caller is the client, on an outbound contact too (the one called).
 * An outbound contact that names no caller has the client in dialled:
 * that number then links the contact to the client's others. */
static void outbound_client(Fields *f, const CallerCtx *cc, char ident[CALLER_ADDRESS_MAX])
{
    char e164[CALLER_E164_MAX];
    if (f->direction != DIR_OUTBOUND || f->caller || !f->dialled ||
        caller_normalise(f->dialled, cc->country_code, e164) != CALLER_OK)
        return;
    memcpy(ident, e164, sizeof(e164));
    f->caller = f->dialled;
}

static void key_of(const CallerCtx *cc, const char *e164, char out[CALLER_KEY_HEX_LEN])
{
    if (cc->keyer)
        caller_keyer_hex(cc->keyer, e164, out);
    else
        caller_key_hex(cc->tenant_key, e164, out);
}

/* The params as stored: the number replaced by its key (in place). The
 * key fields are the server's: a client's own values never survive, or a
 * replay would read them as the key. On an outbound contact the dialled
 * number is the client's, so it is pseudonymised too. */
static char *stored_form(json_t *params, const char *key, bool withheld, const CallerCtx *cc,
                         bool outbound)
{
    json_object_del(params, "caller");
    json_object_del(params, "caller_key");
    json_object_del(params, "caller_withheld");
    json_object_del(params, "dialled_key");
    json_t *dialled = json_object_get(params, "dialled");
    if (outbound && json_is_string(dialled)) {
        char e164[CALLER_E164_MAX], dkey[CALLER_KEY_HEX_LEN];
        if (caller_normalise(json_string_value(dialled), cc->country_code, e164) == CALLER_OK) {
            key_of(cc, e164, dkey);
            json_object_set_new(params, "dialled_key", json_string(dkey));
        }
        json_object_del(params, "dialled");
    }
    if (key)
        json_object_set_new(params, "caller_key", json_string(key));
    if (withheld)
        json_object_set_new(params, "caller_withheld", json_true());
    return json_compact(params);
}

/* Whether a value holds a string with a NUL anywhere inside: storage
 * (jsonb) cannot keep one, and extra fields are stored as they came. */
static bool holds_nul(json_t *v)
{
    size_t i;
    const char *k;
    json_t *x;
    switch (json_typeof(v)) {
    case JSON_STRING: return strlen(json_string_value(v)) != json_string_length(v);
    case JSON_ARRAY:
        json_array_foreach(v, i, x) if (holds_nul(x)) return true;
        return false;
    case JSON_OBJECT:
        json_object_foreach(v, k, x) if (holds_nul(x)) return true;
        return false;
    default: return false;
    }
}

static bool no_nul(json_t *params, RpcError *err)
{
    const char *k;
    json_t *x;
    json_object_foreach(params, k, x)
    {
        if (holds_nul(x)) {
            rpc_error_field(err, k, "must not contain NUL characters");
            return false;
        }
    }
    return true;
}

bool event_parse(EventType type, json_t *params, const CallerCtx *cc, bool from_storage,
                 EventParse *out, RpcError *err)
{
    Fields f;
    memset(&f, 0, sizeof(f));
    f.channel = f.direction = f.target_kind = f.mode = f.by = -1;
    f.due_by = KIC_TIME_NONE;
    memset(out, 0, sizeof(*out));
    char ident[CALLER_ADDRESS_MAX];
    if (!no_nul(params, err) || !common(params, type, &f, err) || !type_fields(type, params, &f, err) ||
        !caller_field(type, params, cc, from_storage, &f, out->number, ident, err))
        return false;
    if (!from_storage)
        outbound_client(&f, cc, ident);
    char key[CALLER_KEY_HEX_LEN];
    const char *caller_key = f.caller_key;
    if (!from_storage && f.caller && !f.withheld) {
        key_of(cc, ident, key);
        caller_key = key;
    }
    Event fields;
    memset(&fields, 0, sizeof(fields));
    fields.type = type;
    fields.at = f.at;
    fields.channel = f.channel < 0 ? CH_VOICE : (Channel)f.channel;
    fields.direction = f.direction < 0 ? DIR_INBOUND : (Direction)f.direction;
    fields.target_kind = f.target_kind < 0 ? TK_EXTERNAL : (TargetKind)f.target_kind;
    fields.mode = f.mode < 0 ? TM_BLIND : (TransferMode)f.mode;
    fields.by = f.by < 0 ? BY_UNKNOWN : (EndedBy)(f.by + 1); /* names skip "unknown" */
    fields.caller_withheld = f.withheld;
    fields.due_by = f.due_by;
    EventText text = {f.event_id, f.call_id, f.queue, f.location, f.transferred_from,
                      f.callback_id, f.agent, f.target, caller_key};
    out->event = event_create(&fields, &text);
    out->stored = from_storage ? json_compact(params)
                               : stored_form(params, caller_key, f.withheld, cc,
                                             fields.direction == DIR_OUTBOUND);
    if (!out->event || !out->stored) {
        event_parse_free(out);
        rpc_error_set(err, RPC_INTERNAL, "internal error: out of memory");
        return false;
    }
    return true;
}

void event_parse_free(EventParse *p)
{
    event_destroy(p->event);
    free(p->stored);
    p->event = NULL;
    p->stored = NULL;
}
