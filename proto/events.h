/* Telephony event parameters (PROTOCOL.md, role bridge) checked and
 * turned into domain Events. The same code reads events back from
 * storage, so what was accepted is exactly what is replayed.
 *
 * The caller's number (or, on an e-mail or chat contact, address) is
 * normalised and replaced by its key before anything is kept: the
 * stored form of the params has "caller_key" (or
 * "caller_withheld": true) instead of "caller". Only a callback request
 * keeps the plain number, returned separately, because someone must call
 * it back. An outbound contact's dialled number (the client's) is kept
 * only as "dialled_key". An empty caller is a withheld one. Unknown extra
 * fields are kept in the stored form. */
#ifndef EVENTS_H
#define EVENTS_H

#include <jansson.h>

#include "caller.h"
#include "event.h"
#include "jsonrpc.h"

typedef struct CallerCtx {
    const char *country_code;
    unsigned char tenant_key[32];
    CallerKeyer *keyer; /* the tenant key's, when made (faster); else NULL */
} CallerCtx;

typedef struct EventParse {
    Event *event;                   /* new; caller frees (or hands on) */
    char *stored;                   /* new: the params as stored, JSON text */
    char number[CALLER_E164_MAX];   /* the caller's normalised number (callback.requested:
                                     * the number to call back); "" when none */
} EventParse;

/* from_storage: params are a stored form (caller_key instead of caller).
 * Otherwise params is changed in place into the stored form (the caller
 * is replaced by its key): it is the request's own copy.
 * On failure err holds a -32602 naming the field; nothing is allocated. */
bool event_parse(EventType type, json_t *params, const CallerCtx *cc, bool from_storage,
                 EventParse *out, RpcError *err) KIC_MUST_CHECK;

void event_parse_free(EventParse *p);

#endif
