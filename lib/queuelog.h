/* Asterisk queue_log → kicd bridge events, and the Asterisk naming rules
 * (agent ids, call ids, event ids, transfer-target kinds) that the AMI
 * bridge shares, so both sources name the same call, agent and event alike.
 * Pure: the caller hands in lines or a buffer; no files, no sockets, no
 * clock. Events come out as {"method": ..., "params": {...}} objects. */
#ifndef QUEUELOG_H
#define QUEUELOG_H

#include <jansson.h>

#include "kictime.h"
#include "strmap.h"

/* ---- shared rules ------------------------------------------------------ */

#define QUEUELOG_KINDS(X)                       \
    X(QUEUELOG_KIND_QUEUE, "queue")             \
    X(QUEUELOG_KIND_AGENT, "agent")             \
    X(QUEUELOG_KIND_CARE_TEAM, "care_team")     \
    X(QUEUELOG_KIND_EXTERNAL, "external")
#define QUEUELOG_KIND_ENUM(name, text) name,
typedef enum { QUEUELOG_KINDS(QUEUELOG_KIND_ENUM) } QueueLogKind;
#undef QUEUELOG_KIND_ENUM

#define QUEUELOG_MAX_KIND_RULES 32
#define QUEUELOG_ID_SIZE 64   /* Uniqueid, Linkedid, queue_log callid */
#define QUEUELOG_NAME_SIZE 128 /* queue, agent id, member, channel */
#define QUEUELOG_TARGET_SIZE 192
#define QUEUELOG_CALL_ID_SIZE 80
#define QUEUELOG_EVENT_ID_SIZE 160

/* "exten@context=kind"; "*" matches any exten or any context. */
typedef struct QueueLogKindRule {
    char exten[64];
    char context[64];
    QueueLogKind kind;
} QueueLogKindRule;

typedef struct QueueLogRules {
    char id_prefix[32];        /* event ids start "<prefix>-"; default "ast" */
    bool agent_by_interface;   /* prefer the member interface over its name */
    bool timeout_is_abandon;   /* queue timeout → call.abandoned, not call.ended(system) */
    QueueLogKind default_kind; /* for targets no rule recognises; default external */
    size_t n_kind_rules;
    QueueLogKindRule kind_rules[QUEUELOG_MAX_KIND_RULES];
    StrMap agent_map; /* member name or interface → agent id (owned) */
} QueueLogRules;

void queuelog_rules_init(QueueLogRules *r);
void queuelog_rules_free(QueueLogRules *r);
/* Adds one "exten@context=kind" rule; false with a reason in err. */
bool queuelog_rules_add_kind(QueueLogRules *r, const char *spec, char *err, size_t errsize)
    KIC_MUST_CHECK;
/* Adds one explicit agent id for a member name or an interface. */
bool queuelog_rules_add_agent(QueueLogRules *r, const char *key, const char *agent_id)
    KIC_MUST_CHECK;
/* Loads "key = agent_id" lines ('#' comments, blank lines allowed). */
bool queuelog_rules_load_agent_map(QueueLogRules *r, const char *text, size_t len, char *err,
                                   size_t errsize) KIC_MUST_CHECK;

bool queuelog_kind_parse(const char *s, QueueLogKind *out) KIC_MUST_CHECK;
/* Sets a rule from the option of that name, as the bridge and the
 * importer take them: "id-prefix", "agent-id" (name, interface),
 * "timeout-as" (ended, abandoned), "default-kind" or "transfer-kind"
 * (repeatable). false with "--option must ..." in err. */
bool queuelog_rules_set(QueueLogRules *r, const char *option, const char *value, char *err,
                        size_t errsize) KIC_MUST_CHECK;
const char *queuelog_kind_name(QueueLogKind k);

/* The kicd agent id of a queue member. Either argument may be NULL or "".
 * Rule: explicit map (interface, then name); with agent_by_interface the
 * interface's resource ("Local/a01@agents/nm" → "a01"); a name that is
 * itself an interface (unnamed dynamic member) likewise; otherwise the
 * name as a slug ("Anouk Jansen" → "anouk-jansen"). "" when nothing. */
void queuelog_agent_id(const QueueLogRules *r, const char *interface, const char *member,
                       char *out, size_t size);

/* A caller contact's call id: the caller channel's Uniqueid for its first
 * queue entry, "<uniqueid>-<n>" for the n-th (n ≥ 2, after a transfer). */
void queuelog_call_id(const char *uniqueid, unsigned seq, char *out, size_t size);

/* Whether a PBX's caller id is a phone number kicd takes as a voice
 * caller (caller.h); a hidden one ("anonymous") or anything else (a SIP
 * user's name "alice", "sip:bob@pbx") is not: the contact is then
 * offered without a caller (withheld), never refused for it. */
bool queuelog_caller_is_number(const char *raw);

/* "<prefix>-<call_id>-<tag>". */
void queuelog_event_id(const QueueLogRules *r, const char *call_id, const char *tag, char *out,
                       size_t size);

/* Kind and target of a transfer to exten@context. Order: explicit rules;
 * a known queue (queues: set of names, may be NULL) → queue, target the
 * queue; a known member's extension (members: interface → member name,
 * may be NULL) → agent, target its agent id; else the default kind.
 * Targets other than queue and agent read "exten@context". */
QueueLogKind queuelog_classify(const QueueLogRules *r, const StrMap *queues, const StrMap *members,
                               const char *exten, const char *context, char *target,
                               size_t size);

/* ---- queue_log mapping ------------------------------------------------- */

/* Lines that are understood but carry nothing for kicd. */
#define QUEUELOG_SKIPS(X)                                      \
    X(QUEUELOG_SKIP_MEMBER, "member or agent event")           \
    X(QUEUELOG_SKIP_RING, "ring attempt")                      \
    X(QUEUELOG_SKIP_SYSTEM, "queue system event")              \
    X(QUEUELOG_SKIP_CONSUMED, "already covered by an earlier line") \
    X(QUEUELOG_SKIP_NOTED, "noted for a later event (DID)")        \
    X(QUEUELOG_SKIP_BLANK, "blank line")
/* Lines that could not be mapped. */
#define QUEUELOG_FAILS(X)                                      \
    X(QUEUELOG_FAIL_FIELDS, "too few fields")                  \
    X(QUEUELOG_FAIL_TIME, "bad timestamp")                     \
    X(QUEUELOG_FAIL_UNKNOWN, "unknown event")                  \
    X(QUEUELOG_FAIL_NO_CALL, "no open contact for this call")  \
    X(QUEUELOG_FAIL_TOO_LONG, "line or field too long")        \
    X(QUEUELOG_FAIL_NUMBER, "bad number field")
#define QUEUELOG_REASON_ENUM(name, text) name,
typedef enum { QUEUELOG_SKIPS(QUEUELOG_REASON_ENUM) QUEUELOG_NSKIPS } QueueLogSkip;
typedef enum { QUEUELOG_FAILS(QUEUELOG_REASON_ENUM) QUEUELOG_NFAILS } QueueLogFail;
#undef QUEUELOG_REASON_ENUM

const char *queuelog_skip_name(QueueLogSkip s);
const char *queuelog_fail_name(QueueLogFail f);

typedef struct QueueLogStats {
    size_t lines;       /* lines seen */
    size_t mapped;      /* lines that gave at least one event */
    size_t events;      /* events emitted */
    size_t synthesized; /* offered/answered events inferred for calls whose start is missing */
    size_t skipped[QUEUELOG_NSKIPS];
    size_t failed[QUEUELOG_NFAILS];
    size_t first_failed_line[QUEUELOG_NFAILS]; /* 1-based; 0 = none */
} QueueLogStats;

/* Receives each event; the reference is the callee's. */
typedef void (*QueueLogEmitFn)(void *ctx, json_t *event);

typedef struct QueueLog QueueLog;

#define QUEUELOG_MAX_LINE 4096

/* rules is borrowed and must outlive the mapper. NULL when out of memory. */
QueueLog *queuelog_new(const QueueLogRules *rules, QueueLogEmitFn emit, void *ctx);
void queuelog_free(QueueLog *q);

/* One line without its newline (a trailing '\r' is ignored). Lines are
 * numbered in feed order. */
void queuelog_feed_line(QueueLog *q, const char *line, size_t len);

/* Any chunk of the file; lines may span chunks. */
void queuelog_feed(QueueLog *q, const char *data, size_t len);

/* End of input: maps a last line that has no newline. */
void queuelog_finish(QueueLog *q);

const QueueLogStats *queuelog_stats(const QueueLog *q);

#endif
