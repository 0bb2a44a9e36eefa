/* AMI events → kicd bridge events. Follows each caller channel (keyed by
 * its Uniqueid) through its queue contacts and turns QueueCallerJoin,
 * AgentConnect, AgentComplete, transfers, hold and hang-ups into
 * call.offered/answered/held/resumed/transferred/abandoned/ended. Pure:
 * no sockets, no clock; time comes from the events' Timestamp headers,
 * so replaying a recording gives the same events and ids every time.
 * The rules are in README.md beside this file. */
#ifndef AMIMAP_H
#define AMIMAP_H

#include <jansson.h>

#include "amiparse.h"
#include "kictime.h"
#include "queuelog.h"

typedef struct AmiMapConfig {
    const QueueLogRules *rules; /* borrowed; ids, agents, transfer kinds */
    const char *location_var;   /* channel variable naming the caller's location, or NULL */
    KicTime grace;              /* how long an undecided outcome waits for the event
                                 * that decides it (stream time); default 3 s */
    KicTime connect_grace;      /* how long a caller a member answered may wait for its
                                 * AgentConnect (the member's gosub runs between);
                                 * default 60 s, never below grace */
    size_t max_callers;         /* caller channels followed at once; default 10000 */
    KicTime forget_after;       /* a caller silent this long is dropped (an open contact
                                 * ended by system); default 6 h */
} AmiMapConfig;

typedef struct AmiMapStats {
    size_t messages;    /* AMI messages fed */
    size_t events;      /* kicd events emitted */
    size_t ignored;     /* messages of no interest (VarSet, Newexten, responses, ...) */
    size_t unmatched;   /* queue events that named no call we follow */
    size_t synthesized; /* call.offered/answered inferred for calls seen mid-way */
    size_t evicted;     /* callers dropped to stay within max_callers or forget_after */
    size_t no_timestamp; /* events without a Timestamp header (received time used), but
                          * FullyBooted and the resync lists, which never have one */
    size_t resyncs;      /* channel lists (CoreShowChannels after a reconnect) completed */
    size_t gone;         /* followed callers such a list showed hung up while away */
} AmiMapStats;

/* After a reconnect the bridge asks AMI for the live channels (Action:
 * CoreShowChannels) with an ActionID starting with this. The mapper knows
 * the answer's CoreShowChannel / CoreShowChannelsComplete events by that
 * ActionID (not by connection state), so a recording of the stream maps
 * the same as the live connection did: every followed caller missing from
 * the list hung up while the bridge was away, and is decided as a hang-up
 * at the stream time then. The list events carry no Timestamp (the action
 * builds them, not manager_event) and do not move the stream clock. */
#define AMI_RESYNC_ACTION_PREFIX "kic-resync-"

/* Receives each event {"method":..., "params":{...}}; the reference is the
 * callee's. */
typedef void (*AmiEmitFn)(void *ctx, json_t *event);
/* Receives a line worth logging at debug level (unmatched events etc.). */
typedef void (*AmiNoteFn)(void *ctx, const char *text);

typedef struct AmiMapper AmiMapper;

/* cfg is copied (rules stays borrowed). NULL when out of memory. */
AmiMapper *ami_map_new(const AmiMapConfig *cfg, AmiEmitFn emit, AmiNoteFn note, void *ctx);
void ami_map_free(AmiMapper *m);

/* One AMI message; received is when it arrived, used only when the event
 * has no Timestamp header. */
void ami_map_feed(AmiMapper *m, const AmiMessage *msg, KicTime received);

/* The stream has been silent for idle_for: outcomes whose grace has run
 * out by stream time plus idle_for are decided now. */
void ami_map_idle(AmiMapper *m, KicTime idle_for);

/* Decides every undecided outcome now (end of a recording, shutdown). */
void ami_map_flush(AmiMapper *m);

const AmiMapStats *ami_map_stats(const AmiMapper *m);

/* AMI "Timestamp: 1795349914.048917" (epoch seconds, up to microseconds). */
bool ami_time_parse(const char *s, KicTime *out) KIC_MUST_CHECK;
/* RFC 3339 in the process time zone with microseconds and the offset,
 * e.g. "2026-11-22T13:18:34.048917+01:00". buf needs 40 bytes. */
void ami_time_format(KicTime t, char *buf, size_t size);

#endif
