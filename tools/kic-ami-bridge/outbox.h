/* At-least-once bookkeeping for events on their way to kicd: every event
 * stays here, in the order it was made, from the moment the mapper emits
 * it until kicd answers it. Entries are sent in order, many in flight;
 * an answer marks one done (accepted, duplicate or rejected for good) or
 * due again later; a lost connection makes every in-flight entry due
 * again, oldest first. The span from the oldest unanswered entry to the
 * newest is capped: a full outbox is the signal to stop reading AMI. */
#ifndef OUTBOX_H
#define OUTBOX_H

#include <jansson.h>

#include "kictime.h"

typedef enum { OUTBOX_QUEUED, OUTBOX_INFLIGHT, OUTBOX_DONE } OutboxState;

typedef struct OutboxEntry {
    uint64_t seq;   /* order of making; also the JSON-RPC id */
    char *line;     /* the request line, without newline */
    size_t line_len;
    char event_id[160];
    char method[32];
    OutboxState state;
    unsigned attempts;  /* times sent */
    KicTime not_before; /* a retry waits until then */
} OutboxEntry;

typedef enum {
    OUTBOX_ACCEPTED, /* durable at kicd (or a duplicate of something durable) */
    OUTBOX_REJECTED, /* can never be accepted (-32602): dropped */
    OUTBOX_RETRY,    /* not recorded (-32029, -32050, ...): send again at retry_at */
} OutboxOutcome;

typedef struct Outbox {
    OutboxEntry *ring;
    size_t cap;        /* most entries from the oldest unanswered to the newest */
    size_t head;       /* ring index of the oldest entry */
    size_t count;      /* entries from head, done ones included until head passes them */
    uint64_t head_seq; /* seq of the entry at head */
    uint64_t next_seq;
    size_t cursor;     /* offset from head before which nothing is ready to send */
    size_t live;       /* entries not done */
    size_t inflight;
    size_t accepted, rejected, retried; /* answers so far */
} Outbox;

bool outbox_init(Outbox *o, size_t cap) KIC_MUST_CHECK;
void outbox_free(Outbox *o);

/* Adds an event {"method":..., "params":{...}} (borrowed) as a request
 * line. false when full or out of memory. */
bool outbox_push(Outbox *o, json_t *event) KIC_MUST_CHECK;

/* Room for n more entries. */
bool outbox_has_room(const Outbox *o, size_t n);

/* The oldest entry that is due at `now` and not in flight, or NULL. */
OutboxEntry *outbox_next(Outbox *o, KicTime now);
/* The entry was written to the connection. */
void outbox_sent(Outbox *o, OutboxEntry *e);

/* kicd answered request `seq`. false when no such entry is in flight (an
 * answer from before a reconnect, or a stranger's id). */
bool outbox_answer(Outbox *o, uint64_t seq, OutboxOutcome outcome, KicTime retry_at);

/* The connection is gone: whatever was in flight is due again. */
void outbox_requeue(Outbox *o);

/* A request line as a log may show it: the caller's and the dialled
 * number left out (a caller's number is never written in plain where
 * kicd does not need it). New; NULL when the line is no JSON. */
char *outbox_line_for_log(const char *line);

/* Earliest not_before of an entry waiting to be retried, KIC_TIME_NONE if none. */
KicTime outbox_next_retry(const Outbox *o);

/* The entry with this seq, or NULL. */
OutboxEntry *outbox_find(Outbox *o, uint64_t seq);

#endif
