/* Fuzz target: every telephony event's parameter checks (proto/events.c),
 * as a bridge sends them and as they are read back from storage. Input:
 * 1 byte (type in bits 0-2, bit 4: from storage), then the params JSON. */
#include <string.h>

#include "caller.h"
#include "events.h"
#include "fuzz.h"
#include "utf8.h"

#define WIRE_FLAGS (JSON_REJECT_DUPLICATES | JSON_DECODE_ANY | JSON_ALLOW_NUL)
#define STORE_FLAGS 0 /* server/store.c parse_stored() */

/* Invariants: a refusal is a -32602 naming one of the type's fields, with
 * nothing allocated; an accepted event has what the contract requires;
 * its stored form holds no caller number, can be read the way store.c
 * reads a payload (json_loads without JSON_ALLOW_NUL, which is also all
 * PostgreSQL's jsonb can hold), and parses again from storage into an
 * identical Event and the same stored form. */
static CallerCtx cc;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    cc.country_code = "31";
    caller_tenant_key("fuzz-secret", "fuzz-tenant", cc.tenant_key);
    return 0;
}

/* The fields a type's refusal may name (PROTOCOL.md, telephony events). */
static bool field_of(EventType type, bool from_storage, const char *field)
{
    static const char *const common[] = {"event_id", "call_id", "at", NULL};
    static const char *const offered[] = {"queue", "caller", "dialled", "location", "channel",
                                          "direction", "callback_id", "transferred_from", NULL};
    static const char *const answered[] = {"agent", NULL};
    static const char *const transferred[] = {"agent", "target", "target_kind", "mode", NULL};
    static const char *const ended[] = {"by", NULL};
    static const char *const callback[] = {"callback_id", "caller", "queue", "due_by", NULL};
    static const char *const none[] = {NULL};
    const char *const *own;
    switch (type) {
    case EV_OFFERED: own = offered; break;
    case EV_ANSWERED: own = answered; break;
    case EV_TRANSFERRED: own = transferred; break;
    case EV_ENDED: own = ended; break;
    case EV_CALLBACK_REQUESTED: own = callback; break;
    default: own = none; break;
    }
    for (int i = 0; common[i]; i++)
        if (strcmp(field, common[i]) == 0)
            return true;
    for (int i = 0; own[i]; i++) {
        /* From storage the caller is its key. */
        const char *name = from_storage && strcmp(own[i], "caller") == 0 ? "caller_key" : own[i];
        if (strcmp(field, name) == 0)
            return true;
    }
    return false;
}

static bool same_str(const char *a, const char *b)
{
    return a == b || (a && b && strcmp(a, b) == 0);
}

static void check_same_event(const Event *a, const Event *b)
{
    FUZZ_CHECK(a->type == b->type, "type %d vs %d", a->type, b->type);
    FUZZ_CHECK(a->at == b->at, "at %lld vs %lld", (long long)a->at, (long long)b->at);
#define SAME_STR(f) FUZZ_CHECK(same_str(a->f, b->f), #f " '%s' vs '%s'", a->f ? a->f : "(null)", \
                               b->f ? b->f : "(null)")
    SAME_STR(event_id);
    SAME_STR(call_id);
    SAME_STR(queue);
    SAME_STR(location);
    SAME_STR(transferred_from);
    SAME_STR(callback_id);
    SAME_STR(agent);
    SAME_STR(target);
    SAME_STR(caller_key);
#undef SAME_STR
#define SAME(f) FUZZ_CHECK(a->f == b->f, #f " %lld vs %lld", (long long)a->f, (long long)b->f)
    SAME(caller_withheld);
    SAME(channel);
    SAME(direction);
    SAME(target_kind);
    SAME(mode);
    SAME(by);
    SAME(due_by);
#undef SAME
}

/* What every accepted event must satisfy, whichever way it came in. */
static void check_event(EventType type, const Event *ev, bool from_wire)
{
    FUZZ_CHECK(ev->type == type, "type changed");
    FUZZ_CHECK(ev->at != KIC_TIME_NONE, "no at");
    FUZZ_CHECK(ev->event_id && ev->event_id[0] &&
                   utf8_count(ev->event_id, strlen(ev->event_id)) <= KIC_MAX_FIELD,
               "bad event_id");
    FUZZ_CHECK(ev->call_id, "call_id NULL");
    FUZZ_CHECK(type == EV_CALLBACK_REQUESTED || ev->call_id[0], "empty call_id");
    FUZZ_CHECK(type != EV_OFFERED || ev->queue, "offered without queue");
    FUZZ_CHECK(type != EV_ANSWERED || ev->agent, "answered without agent");
    FUZZ_CHECK(type != EV_TRANSFERRED || (ev->agent && ev->target), "transfer incomplete");
    FUZZ_CHECK(type != EV_CALLBACK_REQUESTED || (ev->callback_id && ev->queue),
               "callback request incomplete");
    FUZZ_CHECK((unsigned)ev->channel < CHANNEL_COUNT && (unsigned)ev->direction < DIRECTION_COUNT &&
                   (unsigned)ev->target_kind < TARGET_KIND_COUNT &&
                   (unsigned)ev->mode < TRANSFER_MODE_COUNT && (unsigned)ev->by < ENDED_BY_COUNT,
               "enum out of range");
    FUZZ_CHECK(!from_wire || !(ev->caller_key && ev->caller_withheld),
               "a withheld caller with a key");
}

/* The stored form read back as store.c does, parsed from storage again. */
static void check_stored(EventType type, const EventParse *ep, bool from_wire)
{
    json_error_t je;
    json_t *p = json_loads(ep->stored, STORE_FLAGS, &je);
    FUZZ_CHECK(p, "stored form cannot be read back (%s): %s", je.text, ep->stored);
    FUZZ_CHECK(json_is_object(p), "stored form not an object");
    if (from_wire) {
        FUZZ_CHECK(!json_object_get(p, "caller"), "the caller's number was stored: %s",
                   ep->stored);
        if (ep->event->direction == DIR_OUTBOUND)
            FUZZ_CHECK(!json_object_get(p, "dialled"), "an outbound dialled number was stored");
    }
    json_t *copy = json_deep_copy(p);
    EventParse again;
    RpcError err = {0};
    bool ok = event_parse(type, p, &cc, true, &again, &err);
    FUZZ_CHECK(ok, "stored form refused from storage: %s: %s", err.message, ep->stored);
    check_same_event(ep->event, again.event);
    json_t *q = json_loads(again.stored, STORE_FLAGS, NULL);
    FUZZ_CHECK(q && json_equal(q, copy), "stored form changed on replay: %s vs %s", ep->stored,
               again.stored);
    json_decref(q);
    json_decref(copy);
    json_decref(p);
    event_parse_free(&again);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    EventType type = (EventType)((data[0] & 7) % EVENT_TYPE_COUNT);
    bool from_storage = data[0] & 0x10;
    json_t *doc = json_loadb((const char *)data + 1, size - 1,
                             from_storage ? STORE_FLAGS : WIRE_FLAGS, NULL);
    if (from_storage && !json_is_object(doc)) {
        json_decref(doc);
        return 0; /* store.c never hands anything else over */
    }
    /* From the wire, params are an object or absent (rpc_request_parse). */
    json_t *params = json_is_object(doc) ? doc : NULL;
    EventParse ep;
    memset(&ep, 0x5a, sizeof(ep));
    RpcError err = {0};
    bool ok = event_parse(type, params, &cc, from_storage, &ep, &err);
    if (!ok) {
        FUZZ_CHECK(err.code == RPC_INVALID_PARAMS, "refused with %d: %s", err.code, err.message);
        const char *field = json_string_value(json_object_get(err.data, "field"));
        /* a known field, or any field whose value holds a NUL (unstorable) */
        const char *reason = json_string_value(json_object_get(err.data, "reason"));
        bool nul = field && reason && strstr(reason, "NUL");
        FUZZ_CHECK(field && (field_of(type, from_storage, field) || nul), "%s refused naming '%s'",
                   event_type_names[type], field ? field : "(none)");
        FUZZ_CHECK(json_is_string(json_object_get(err.data, "reason")), "no data.reason");
        FUZZ_CHECK(!ep.event && !ep.stored, "a refusal left something allocated");
        rpc_error_clear(&err);
    } else {
        FUZZ_CHECK(err.code == 0, "accepted with an error set");
        check_event(type, ep.event, !from_storage);
        FUZZ_CHECK(type != EV_CALLBACK_REQUESTED || from_storage || ep.number[0] == '+',
                   "callback request without a number to call");
        check_stored(type, &ep, !from_storage);
        event_parse_free(&ep);
    }
    json_decref(doc);
    return 0;
}
