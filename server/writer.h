/* The writer: every change that must be durable before it is answered
 * (telephony events, agents' state choices, wrap-ups, callbacks) passes
 * through here as a Record. Records from all connections are group-
 * committed: collected into a batch (up to batch_max, or what arrived
 * within batch_wait_us), decided in order by the domain (lib/centre),
 * written in one transaction of a few set-based statements through a
 * libpq pipeline, and answered only after COMMIT returned (synchronous
 * commit). One batch is in flight at a time, so decisions and writes
 * follow the same order.
 *
 * A request that fails validation never becomes a Record; a Record that
 * the domain refuses (a duplicate, a wrap-up conflict) is answered with
 * the batch, because the decision it was compared with may still be in
 * flight. */
#ifndef WRITER_H
#define WRITER_H

#include "agent.h"
#include "conn.h"
#include "events.h"
#include "server.h"
#include "tenants.h"
#include "wrapup.h"

typedef enum {
    REC_EVENT,
    REC_AGENT_STATE,
    REC_WRAPUP,
    REC_CALLBACK_CREATE,
    REC_CALLBACK_CLAIM,
    REC_CALLBACK_COMPLETE,
} RecordKind;

typedef struct Record {
    struct Record *next;
    RecordKind kind;
    Tenant *tenant;
    Reply *reply; /* finished by the writer */
    KicTime queued_at;

    /* Set when decided: a ready acknowledgement text, else a result, else
     * the error. */
    const char *ack;
    json_t *result;
    RpcError error;

    /* The kind's own fields, last: record_new allocates only the kind's
     * (an event's record is a sixth of a callback's, and thousands wait
     * at once under a bridge's load). */
    union {
        EventParse ev; /* REC_EVENT */

        struct { /* REC_AGENT_STATE */
            char agent[KIC_MAX_FIELD_BYTES + 1];
            AgentState chosen;
            char *reason;
            KicTime at;
            bool release_claims; /* a revoked user's: their claims are freed */
        } state;

        struct { /* REC_WRAPUP */
            char call_id[KIC_MAX_FIELD_BYTES + 1];
            Wrapup *wrapup;
            char *note;
            KicTime at;
            KicTime holder_since; /* the user's, for centre_check_wrapup */
        } wrap;

        struct { /* REC_CALLBACK_* */
            char id[KIC_MAX_FIELD_BYTES + 1];
            char agent[KIC_MAX_FIELD_BYTES + 1];
            char team[KIC_MAX_FIELD_BYTES + 1];
            char call_id[KIC_MAX_FIELD_BYTES + 1];   /* "" when none */
            char caller_key[CALLER_KEY_HEX_LEN]; /* "" when none */
            char number[CALLER_E164_MAX];
            KicTime due_by;                    /* KIC_TIME_NONE: the default */
            CallbackOutcome outcome;
            char *note;
            KicTime at;
            bool by_request; /* create: the id is the client's request_id's */
        } cb;
    };
} Record;

Writer *writer_new(Server *s);
void writer_free(Writer *w);

/* A new record (zeroed; only its kind's fields exist); fill it, then submit. */
Record *record_new(RecordKind kind, Tenant *t, Reply *reply);
/* A record answered without the writer (its reply is the caller's). */
void record_free(Record *r);
/* Takes ownership. Answers -32029 at once when the queue is full. */
void writer_submit(Writer *w, Record *r);

/* The statements the writer's connection must prepare. */
const struct PgPrepared *writer_statements(const Writer *w);

/* The writer's PostgreSQL connection came up or went down. Down: with a
 * journal, batches in flight and new ones are journaled and
 * acknowledged; records that need an old call from storage are refused
 * (-32050). Up: the journal is replayed first, then batches go on. */
void writer_pg_state(Writer *w, bool up);
/* Another kicd holds the database (writer_lock.h): while out, new records
 * are refused (-32050) and queued ones wait, none journaled, so nothing is
 * acknowledged that this kicd might later write over the other's rows. */
void writer_locked_out(Writer *w, bool out);
/* The journal is being replayed (new batches wait). */
bool writer_replaying(const Writer *w);
/* The journal holds records no replay has been through yet. */
bool writer_journal_pending(const Writer *w);

/* Holds new batches (while a tenant's state is reloaded); nests. */
void writer_hold(Writer *w);
void writer_release(Writer *w);

/* A batch is waiting for old calls to load from storage. */
bool writer_loading(const Writer *w);

typedef struct WriterStats {
    uint64_t batches, records, events_new, events_duplicate, commit_us_total;
    uint64_t stored, journaled; /* batches committed, batches journaled */
    size_t queued, last_batch;
} WriterStats;
void writer_stats(const Writer *w, WriterStats *out);

#endif
