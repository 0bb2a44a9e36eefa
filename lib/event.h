/* Telephony events as the domain sees them: one struct for every event
 * type, with the fields PROTOCOL.md lists already checked and typed. The
 * caller's number never appears here, only its pseudonymous key.
 * Names and enum values come from X-macro lists so strings and enums
 * cannot drift apart; the order of EVENT_TYPES is also the tie-break when
 * two events of a call carry the same `at`. */
#ifndef EVENT_H
#define EVENT_H

#include "kic.h"
#include "kictime.h"

#define EVENT_TYPES(X)                            \
    X(EV_OFFERED, "call.offered")                 \
    X(EV_ANSWERED, "call.answered")               \
    X(EV_HELD, "call.held")                       \
    X(EV_RESUMED, "call.resumed")                 \
    X(EV_TRANSFERRED, "call.transferred")         \
    X(EV_ABANDONED, "call.abandoned")             \
    X(EV_ENDED, "call.ended")                     \
    X(EV_CALLBACK_REQUESTED, "callback.requested")

#define CHANNELS(X) X(CH_VOICE, "voice") X(CH_WHATSAPP, "whatsapp") X(CH_EMAIL, "email") X(CH_CHAT, "chat")
#define DIRECTIONS(X) X(DIR_INBOUND, "inbound") X(DIR_OUTBOUND, "outbound")
#define TARGET_KINDS(X) X(TK_QUEUE, "queue") X(TK_AGENT, "agent") X(TK_CARE_TEAM, "care_team") X(TK_EXTERNAL, "external")
#define TRANSFER_MODES(X) X(TM_BLIND, "blind") X(TM_ATTENDED, "attended")
#define ENDED_BY(X) X(BY_UNKNOWN, "unknown") X(BY_CALLER, "caller") X(BY_AGENT, "agent") X(BY_SYSTEM, "system")

#define KIC_ENUM_ITEM(name, text) name,
typedef enum { EVENT_TYPES(KIC_ENUM_ITEM) EVENT_TYPE_COUNT } EventType;
typedef enum { CHANNELS(KIC_ENUM_ITEM) CHANNEL_COUNT } Channel;
typedef enum { DIRECTIONS(KIC_ENUM_ITEM) DIRECTION_COUNT } Direction;
typedef enum { TARGET_KINDS(KIC_ENUM_ITEM) TARGET_KIND_COUNT } TargetKind;
typedef enum { TRANSFER_MODES(KIC_ENUM_ITEM) TRANSFER_MODE_COUNT } TransferMode;
typedef enum { ENDED_BY(KIC_ENUM_ITEM) ENDED_BY_COUNT } EndedBy;

/* NULL-terminated name lists (for parameter checks) and lookups. */
extern const char *const event_type_names[];
extern const char *const channel_names[];
extern const char *const direction_names[];
extern const char *const target_kind_names[];
extern const char *const transfer_mode_names[];
extern const char *const ended_by_names[]; /* without "unknown": what a client may send */
const char *ended_by_name(EndedBy by);
/* -1 when not an event method. */
int event_type_from_method(const char *method);

#define CALLER_KEY_HEX 65 /* 64 hex digits and NUL */

/* The strings of an event, as handed to event_new (NULL = absent). */
typedef struct EventText {
    const char *event_id, *call_id;
    const char *queue, *location, *transferred_from, *callback_id; /* offered */
    const char *agent;                                             /* answered, transferred */
    const char *target;                                            /* transferred */
    const char *caller_key; /* offered, callback.requested: hex key or NULL */
} EventText;

typedef struct Event {
    EventType type;
    KicTime at;
    const char *event_id;
    const char *call_id; /* "" for a callback request without a call */
    const char *queue, *location, *transferred_from, *callback_id;
    const char *agent;
    const char *target;
    const char *caller_key; /* NULL: withheld, anonymous or absent */
    bool caller_withheld;   /* a number was given but withheld/anonymous */
    Channel channel;
    Direction direction;
    TargetKind target_kind;
    TransferMode mode;
    EndedBy by;
    KicTime due_by; /* callback.requested; KIC_TIME_NONE when absent */
} Event;

/* One allocation holding the struct and copies of every string. The
 * non-string fields of *fields are copied too. Returns NULL when out of
 * memory. */
Event *event_create(const Event *fields, const EventText *text);
void event_destroy(Event *ev);

/* Total order used to derive calls: by `at`, then type, then event_id. */
int event_compare(const Event *a, const Event *b);

#endif
