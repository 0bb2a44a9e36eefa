/* queue_log import: each line "epoch|callid|queue|agent|EVENT|data..." moves
 * one caller contact along waiting → answered → done, and the moves become
 * kicd events. A call is keyed by its callid (the caller channel's
 * Uniqueid); its n-th ENTERQUEUE is its n-th contact. Calls whose first
 * lines are missing (a rotated log) get their start inferred from the
 * hold and talk times the later lines carry. */
#include "queuelog.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "caller.h"

/* ---- shared rules ------------------------------------------------------ */

static const char *const kind_names[] = {
#define QUEUELOG_KIND_NAME(name, text) text,
    QUEUELOG_KINDS(QUEUELOG_KIND_NAME)
#undef QUEUELOG_KIND_NAME
};

static const char *const skip_names[] = {
#define QUEUELOG_REASON_NAME(name, text) text,
    QUEUELOG_SKIPS(QUEUELOG_REASON_NAME)
};
static const char *const fail_names[] = {QUEUELOG_FAILS(QUEUELOG_REASON_NAME)
#undef QUEUELOG_REASON_NAME
};

const char *queuelog_kind_name(QueueLogKind k)
{
    return (size_t)k < KIC_ARRAY_LEN(kind_names) ? kind_names[k] : "external";
}

bool queuelog_kind_parse(const char *s, QueueLogKind *out)
{
    for (size_t i = 0; i < KIC_ARRAY_LEN(kind_names); i++) {
        if (strcmp(s, kind_names[i]) == 0) {
            *out = (QueueLogKind)i;
            return true;
        }
    }
    return false;
}

/* Which of two words value is: 0, 1, or -1 for neither. */
static int one_of(const char *value, const char *first, const char *second)
{
    return strcmp(value, first) == 0 ? 0 : strcmp(value, second) == 0 ? 1 : -1;
}

bool queuelog_rules_set(QueueLogRules *r, const char *option, const char *value, char *err,
                        size_t errsize)
{
    int which;
    if (strcmp(option, "id-prefix") == 0) {
        if (!*value || strlen(value) >= sizeof(r->id_prefix)) {
            snprintf(err, errsize, "--id-prefix must be 1 to %zu bytes", sizeof(r->id_prefix) - 1);
            return false;
        }
        snprintf(r->id_prefix, sizeof(r->id_prefix), "%s", value);
    } else if (strcmp(option, "agent-id") == 0) {
        if ((which = one_of(value, "name", "interface")) < 0) {
            snprintf(err, errsize, "--agent-id must be name or interface");
            return false;
        }
        r->agent_by_interface = which == 1;
    } else if (strcmp(option, "timeout-as") == 0) {
        if ((which = one_of(value, "ended", "abandoned")) < 0) {
            snprintf(err, errsize, "--timeout-as must be ended or abandoned");
            return false;
        }
        r->timeout_is_abandon = which == 1;
    } else if (strcmp(option, "default-kind") == 0) {
        if (!queuelog_kind_parse(value, &r->default_kind)) {
            snprintf(err, errsize, "--default-kind must be queue, agent, care_team or external");
            return false;
        }
    } else if (strcmp(option, "transfer-kind") == 0) {
        char why[200];
        if (!queuelog_rules_add_kind(r, value, why, sizeof(why))) {
            snprintf(err, errsize, "--transfer-kind %s", why);
            return false;
        }
    } else {
        snprintf(err, errsize, "--%s is no queue-log rule", option);
        return false;
    }
    return true;
}

const char *queuelog_skip_name(QueueLogSkip s)
{
    return (size_t)s < KIC_ARRAY_LEN(skip_names) ? skip_names[s] : "?";
}

const char *queuelog_fail_name(QueueLogFail f)
{
    return (size_t)f < KIC_ARRAY_LEN(fail_names) ? fail_names[f] : "?";
}

/* An agent-map entry; its key lives inside it, as StrMap wants. */
typedef struct AgentEntry {
    char *key;
    char *id;
} AgentEntry;

void queuelog_rules_init(QueueLogRules *r)
{
    memset(r, 0, sizeof(*r));
    snprintf(r->id_prefix, sizeof(r->id_prefix), "ast");
    r->default_kind = QUEUELOG_KIND_EXTERNAL;
}

void queuelog_rules_free(QueueLogRules *r)
{
    size_t pos = 0;
    const char *key;
    void *value;
    while (strmap_next(&r->agent_map, &pos, &key, &value)) {
        AgentEntry *e = value;
        free(e->key);
        free(e->id);
        free(e);
    }
    strmap_free(&r->agent_map);
}

static void copy_str(char *dst, size_t size, const char *src, size_t n)
{
    if (size == 0)
        return;
    if (n >= size)
        n = size - 1;
    memcpy(dst, src, n);
    dst[n] = '\0';
}

bool queuelog_rules_add_kind(QueueLogRules *r, const char *spec, char *err, size_t errsize)
{
    const char *at = strchr(spec, '@');
    const char *eq = strrchr(spec, '=');
    if (!at || !eq || eq < at) {
        snprintf(err, errsize, "'%s' is not exten@context=kind", spec);
        return false;
    }
    QueueLogKindRule rule;
    size_t exten_len = (size_t)(at - spec), ctx_len = (size_t)(eq - at - 1);
    if (exten_len == 0 || ctx_len == 0 || exten_len >= sizeof(rule.exten) ||
        ctx_len >= sizeof(rule.context)) {
        snprintf(err, errsize, "'%s': exten and context must be 1 to 63 bytes", spec);
        return false;
    }
    if (!queuelog_kind_parse(eq + 1, &rule.kind)) {
        snprintf(err, errsize, "'%s': kind must be queue, agent, care_team or external", spec);
        return false;
    }
    if (r->n_kind_rules >= QUEUELOG_MAX_KIND_RULES) {
        snprintf(err, errsize, "at most %d transfer rules", QUEUELOG_MAX_KIND_RULES);
        return false;
    }
    copy_str(rule.exten, sizeof(rule.exten), spec, exten_len);
    copy_str(rule.context, sizeof(rule.context), at + 1, ctx_len);
    r->kind_rules[r->n_kind_rules++] = rule;
    return true;
}

bool queuelog_rules_add_agent(QueueLogRules *r, const char *key, const char *agent_id)
{
    if (!*key || !*agent_id || strlen(key) >= QUEUELOG_NAME_SIZE ||
        strlen(agent_id) >= QUEUELOG_NAME_SIZE)
        return false;
    AgentEntry *e = calloc(1, sizeof(*e));
    if (!e)
        return false;
    e->key = strdup(key);
    e->id = strdup(agent_id);
    if (!e->key || !e->id) {
        free(e->key);
        free(e->id);
        free(e);
        return false;
    }
    AgentEntry *old = strmap_put(&r->agent_map, e->key, e);
    if (old) {
        free(old->key);
        free(old->id);
        free(old);
    }
    return true;
}

static void trim(const char **s, const char **end)
{
    while (*s < *end && isspace((unsigned char)**s))
        (*s)++;
    while (*end > *s && isspace((unsigned char)(*end)[-1]))
        (*end)--;
}

bool queuelog_rules_load_agent_map(QueueLogRules *r, const char *text, size_t len, char *err,
                                   size_t errsize)
{
    const char *p = text, *stop = text + len;
    int lineno = 0;
    while (p < stop) {
        const char *nl = memchr(p, '\n', (size_t)(stop - p));
        const char *end = nl ? nl : stop;
        lineno++;
        const char *s = p, *e = end;
        trim(&s, &e);
        p = nl ? nl + 1 : stop;
        if (s == e || *s == '#')
            continue;
        const char *eq = memchr(s, '=', (size_t)(e - s));
        if (!eq) {
            snprintf(err, errsize, "line %d: expected 'member = agent_id'", lineno);
            return false;
        }
        const char *ks = s, *ke = eq, *vs = eq + 1, *ve = e;
        trim(&ks, &ke);
        trim(&vs, &ve);
        char key[QUEUELOG_NAME_SIZE], id[QUEUELOG_NAME_SIZE];
        if (ks == ke || vs == ve || (size_t)(ke - ks) >= sizeof(key) ||
            (size_t)(ve - vs) >= sizeof(id)) {
            snprintf(err, errsize, "line %d: member and agent id must be 1 to %d bytes", lineno,
                     QUEUELOG_NAME_SIZE - 1);
            return false;
        }
        copy_str(key, sizeof(key), ks, (size_t)(ke - ks));
        copy_str(id, sizeof(id), vs, (size_t)(ve - vs));
        if (!queuelog_rules_add_agent(r, key, id)) {
            snprintf(err, errsize, "line %d: out of memory", lineno);
            return false;
        }
    }
    return true;
}

/* Lower-case ASCII letters and digits, '.', '_' and '-' kept, UTF-8 bytes
 * kept, every other run of bytes one '-'; no '-' at either end. */
static void slug(const char *s, size_t n, char *out, size_t size)
{
    size_t o = 0;
    bool dash = false;
    for (size_t i = 0; i < n && o + 1 < size; i++) {
        unsigned char c = (unsigned char)s[i];
        if (isalnum(c) || c == '.' || c == '_' || c >= 0x80) {
            if (dash && o > 0 && o + 2 < size)
                out[o++] = '-';
            dash = false;
            out[o++] = (char)(c < 0x80 ? tolower(c) : c);
        } else {
            dash = true;
        }
    }
    out[o] = '\0';
}

/* "Local/a01@agents/nm" → "a01", "PJSIP/1001" → "1001". */
static void interface_slug(const char *iface, char *out, size_t size)
{
    const char *p = strchr(iface, '/');
    p = p ? p + 1 : iface;
    size_t n = strcspn(p, "@/");
    slug(p, n, out, size);
}

void queuelog_agent_id(const QueueLogRules *r, const char *interface, const char *member,
                       char *out, size_t size)
{
    bool has_if = interface && *interface, has_name = member && *member;
    AgentEntry *e = NULL;
    if (has_if)
        e = strmap_get(&r->agent_map, interface);
    if (!e && has_name)
        e = strmap_get(&r->agent_map, member);
    if (e) {
        copy_str(out, size, e->id, strlen(e->id));
        return;
    }
    if (has_if && (r->agent_by_interface || !has_name))
        interface_slug(interface, out, size);
    else if (has_name && strchr(member, '/'))
        interface_slug(member, out, size);
    else if (has_name)
        slug(member, strlen(member), out, size);
    else
        copy_str(out, size, "", 0);
}

void queuelog_call_id(const char *uniqueid, unsigned seq, char *out, size_t size)
{
    if (size == 0)
        return;
    size_t n = strlen(uniqueid);
    if (n >= size)
        n = size - 1;
    memmove(out, uniqueid, n); /* may be the caller's own buffer */
    out[n] = '\0';
    if (seq > 1)
        snprintf(out + n, size - n, "-%u", seq);
}

void queuelog_event_id(const QueueLogRules *r, const char *call_id, const char *tag, char *out,
                       size_t size)
{
    snprintf(out, size, "%s-%s-%s", r->id_prefix, call_id, tag);
}

static bool pattern_match(const char *pattern, const char *s)
{
    return strcmp(pattern, "*") == 0 || strcmp(pattern, s) == 0;
}

/* Does exten@context reach this member interface? Local members are
 * reached at their own exten@context; others (PJSIP/1001) at their
 * resource in any context. */
static bool reaches_member(const char *iface, const char *exten, const char *context)
{
    const char *p = strchr(iface, '/');
    if (!p)
        return false;
    p++;
    size_t n = strcspn(p, "@/");
    if (strlen(exten) != n || strncmp(p, exten, n) != 0)
        return false;
    if (strncmp(iface, "Local/", 6) != 0 || p[n] != '@')
        return true;
    const char *ctx = p + n + 1;
    size_t cn = strcspn(ctx, "/");
    return strlen(context) == cn && strncmp(ctx, context, cn) == 0;
}

QueueLogKind queuelog_classify(const QueueLogRules *r, const StrMap *queues, const StrMap *members,
                               const char *exten, const char *context, char *target,
                               size_t size)
{
    exten = exten ? exten : "";
    context = context ? context : "";
    for (size_t i = 0; i < r->n_kind_rules; i++) {
        const QueueLogKindRule *rule = &r->kind_rules[i];
        if (pattern_match(rule->exten, exten) && pattern_match(rule->context, context)) {
            if (rule->kind == QUEUELOG_KIND_QUEUE)
                snprintf(target, size, "%s", exten);
            else
                snprintf(target, size, "%s@%s", exten, context);
            return rule->kind;
        }
    }
    if (queues && *exten && strmap_get(queues, exten)) {
        snprintf(target, size, "%s", exten);
        return QUEUELOG_KIND_QUEUE;
    }
    if (members && *exten) {
        size_t pos = 0;
        const char *iface;
        void *name;
        while (strmap_next(members, &pos, &iface, &name)) {
            if (reaches_member(iface, exten, context)) {
                queuelog_agent_id(r, iface, name, target, size);
                return QUEUELOG_KIND_AGENT;
            }
        }
    }
    if (*context)
        snprintf(target, size, "%s@%s", exten, context);
    else
        snprintf(target, size, "%s", exten);
    return r->default_kind;
}

/* ---- queue_log mapping ------------------------------------------------- */

typedef enum { CONTACT_WAITING, CONTACT_ANSWERED, CONTACT_DONE } ContactState;

typedef struct Contact {
    char call_id[QUEUELOG_CALL_ID_SIZE];
    char queue[QUEUELOG_NAME_SIZE];
    char agent[QUEUELOG_NAME_SIZE];
    ContactState state;
    bool transferred;
    KicTime last_at;
} Contact;

/* Contacts of one call kept for late lines; older ones are forgotten. */
#define CALL_MAX_CONTACTS 4

typedef struct Call {
    char callid[QUEUELOG_ID_SIZE];
    char dialled[QUEUELOG_NAME_SIZE];
    unsigned seq; /* contacts so far */
    size_t n;
    Contact contacts[CALL_MAX_CONTACTS]; /* oldest first */
    KicTime last_line;
} Call;

struct QueueLog {
    const QueueLogRules *rules;
    QueueLogEmitFn emit;
    void *ctx;
    QueueLogStats stats;
    StrMap calls;   /* callid → Call */
    StrMap queues;  /* queue name → itself (owned) */
    StrMap members; /* interface → "" (owned key), from ADDMEMBER */
    KicTime now;    /* latest line time */
    size_t lines_since_sweep;
    char partial[QUEUELOG_MAX_LINE + 1];
    size_t partial_len;
    bool discarding; /* inside an over-long line */
};

/* Fields of one line, split in a private copy. */
#define LINE_MAX_FIELDS 16
typedef struct Line {
    char buf[QUEUELOG_MAX_LINE + 1];
    const char *f[LINE_MAX_FIELDS];
    size_t n;
    KicTime t;
} Line;
_Static_assert(sizeof(Line) < 8192, "a Line lives on the stack");

QueueLog *queuelog_new(const QueueLogRules *rules, QueueLogEmitFn emit, void *ctx)
{
    QueueLog *q = calloc(1, sizeof(*q));
    if (!q)
        return NULL;
    q->rules = rules;
    q->emit = emit;
    q->ctx = ctx;
    q->now = KIC_TIME_NONE;
    return q;
}

static void free_keyed(StrMap *m)
{
    size_t pos = 0;
    const char *key;
    void *value;
    while (strmap_next(m, &pos, &key, &value))
        free(value);
    strmap_free(m);
}

void queuelog_free(QueueLog *q)
{
    if (!q)
        return;
    free_keyed(&q->calls);
    free_keyed(&q->queues);
    free_keyed(&q->members);
    free(q);
}

const QueueLogStats *queuelog_stats(const QueueLog *q)
{
    return &q->stats;
}

static void fail(QueueLog *q, QueueLogFail f)
{
    q->stats.failed[f]++;
    if (!q->stats.first_failed_line[f])
        q->stats.first_failed_line[f] = q->stats.lines;
}

static void skip(QueueLog *q, QueueLogSkip s)
{
    q->stats.skipped[s]++;
}

/* Remembers a name in a set whose keys are owned copies. */
static void set_add(StrMap *set, const char *name)
{
    if (!*name || strmap_get(set, name) || set->count >= 10000)
        return;
    char *copy = strdup(name);
    if (copy)
        strmap_put(set, copy, copy);
}

/* Emits one event for a contact, at no earlier than its previous event
 * (queue_log seconds can step back across lines). Takes params. */
static void emit_event(QueueLog *q, Contact *c, const char *method, const char *tag, KicTime t,
                       json_t *params)
{
    if (c->last_at != KIC_TIME_NONE && t < c->last_at)
        t = c->last_at;
    c->last_at = t;
    char event_id[QUEUELOG_EVENT_ID_SIZE], at[40];
    queuelog_event_id(q->rules, c->call_id, tag, event_id, sizeof(event_id));
    time_format_local(t, at, sizeof(at));
    json_t *full = json_object();
    json_object_set_new(full, "event_id", json_string(event_id));
    json_object_set_new(full, "call_id", json_string(c->call_id));
    json_object_set_new(full, "at", json_string(at));
    json_object_update(full, params);
    json_decref(params);
    json_t *ev = json_pack("{s:s, s:o}", "method", method, "params", full);
    q->stats.events++;
    q->emit(q->ctx, ev);
}

bool queuelog_caller_is_number(const char *raw)
{
    /* kicd's country decides how a national number is written in E.164,
     * not whether it is one; "1", the shortest code, refuses nothing kicd
     * would take. */
    char e164[CALLER_E164_MAX];
    return raw && caller_normalise(raw, "1", e164) == CALLER_OK;
}

static Contact *contact_new(QueueLog *q, Call *call, const char *queue, KicTime t,
                            const char *caller, const char *transferred_from)
{
    if (call->n == CALL_MAX_CONTACTS) {
        memmove(&call->contacts[0], &call->contacts[1], sizeof(Contact) * (CALL_MAX_CONTACTS - 1));
        call->n--;
    }
    Contact *c = &call->contacts[call->n++];
    memset(c, 0, sizeof(*c));
    c->last_at = KIC_TIME_NONE;
    call->seq++;
    queuelog_call_id(call->callid, call->seq, c->call_id, sizeof(c->call_id));
    copy_str(c->queue, sizeof(c->queue), queue, strlen(queue));
    c->state = CONTACT_WAITING;
    set_add(&q->queues, queue);
    json_t *p = json_pack("{s:s}", "queue", queue);
    if (queuelog_caller_is_number(caller))
        json_object_set_new(p, "caller", json_string(caller));
    if (*call->dialled)
        json_object_set_new(p, "dialled", json_string(call->dialled));
    json_object_set_new(p, "channel", json_string("voice"));
    if (transferred_from)
        json_object_set_new(p, "transferred_from", json_string(transferred_from));
    emit_event(q, c, "call.offered", "off", t, p);
    return c;
}

static void contact_answer(QueueLog *q, Contact *c, const char *agent, KicTime t)
{
    snprintf(c->agent, sizeof(c->agent), "%s", *agent ? agent : "unknown");
    c->state = CONTACT_ANSWERED;
    emit_event(q, c, "call.answered", "ans", t, json_pack("{s:s}", "agent", c->agent));
}

static void contact_end(QueueLog *q, Contact *c, const char *by, KicTime t)
{
    c->state = CONTACT_DONE;
    emit_event(q, c, "call.ended", "end", t, json_pack("{s:s}", "by", by));
}

static void contact_abandon(QueueLog *q, Contact *c, KicTime t)
{
    c->state = CONTACT_DONE;
    emit_event(q, c, "call.abandoned", "abn", t, json_object());
}

static void contact_transfer(QueueLog *q, Contact *c, const char *target, QueueLogKind kind,
                             const char *mode, KicTime t)
{
    c->state = CONTACT_DONE;
    c->transferred = true;
    emit_event(q, c, "call.transferred", "xfr", t,
               json_pack("{s:s, s:s, s:s, s:s}", "agent", c->agent, "target", target,
                         "target_kind", queuelog_kind_name(kind), "mode", mode));
}

/* The latest contact of the call in this queue (any state), or NULL. */
static Contact *contact_in_queue(Call *call, const char *queue)
{
    for (size_t i = call->n; i-- > 0;)
        if (strcmp(call->contacts[i].queue, queue) == 0)
            return &call->contacts[i];
    return NULL;
}

static Call *call_get(QueueLog *q, const char *callid, bool create)
{
    Call *call = strmap_get(&q->calls, callid);
    if (call || !create)
        return call;
    call = calloc(1, sizeof(*call));
    if (!call)
        return NULL;
    snprintf(call->callid, sizeof(call->callid), "%s", callid);
    strmap_put(&q->calls, call->callid, call);
    return call;
}

/* Forgets calls whose contacts are all done and that saw no line for two
 * hours of log time, so a year of queue_log fits in memory. */
static void sweep(QueueLog *q)
{
    size_t pos = 0;
    const char *key;
    void *value;
    while (strmap_next(&q->calls, &pos, &key, &value)) {
        Call *call = value;
        bool open = false;
        for (size_t i = 0; i < call->n; i++)
            open |= call->contacts[i].state != CONTACT_DONE;
        if (!open && q->now - call->last_line > 2 * 3600 * KIC_USEC) {
            strmap_remove(&q->calls, key);
            free(call);
        }
    }
}

static bool parse_uint(const char *s, long long *out)
{
    if (!*s)
        return false;
    char *end;
    long long v = strtoll(s, &end, 10);
    if (*end || v < 0)
        return false;
    *out = v;
    return true;
}

/* A duration field in seconds; missing or odd values count as 0. */
static KicTime secs_field(const Line *l, size_t i)
{
    long long v;
    if (i >= l->n || !parse_uint(l->f[i], &v) || v > 365LL * 86400)
        return 0;
    return (KicTime)v * KIC_USEC;
}

static const char *field(const Line *l, size_t i)
{
    return i < l->n ? l->f[i] : "";
}

/* Starts a contact for a call whose ENTERQUEUE is not in the input: it
 * was offered `wait` before t, answered `talk` before t (when answered). */
static Contact *contact_infer(QueueLog *q, Call *call, const Line *l, KicTime wait, KicTime talk,
                              bool answered)
{
    const char *queue = field(l, 2);
    KicTime answer_t = l->t - talk;
    Contact *c = contact_new(q, call, queue, answer_t - wait, NULL, NULL);
    q->stats.synthesized++;
    if (answered) {
        char agent[QUEUELOG_NAME_SIZE];
        queuelog_agent_id(q->rules, NULL, field(l, 3), agent, sizeof(agent));
        contact_answer(q, c, agent, answer_t);
        q->stats.synthesized++;
    }
    return c;
}

typedef enum { EV_ENTER, EV_CONNECT, EV_COMPLETE_CALLER, EV_COMPLETE_AGENT, EV_ABANDON,
               EV_TIMEOUT, EV_EMPTY, EV_KEY, EV_WITHDRAW, EV_DUMP, EV_BLIND, EV_ATTENDED, EV_OLD_TRANSFER, EV_DID,
               EV_RING, EV_MEMBER, EV_ADDMEMBER, EV_SYSTEM } EventKind;

static const struct {
    const char *name;
    EventKind kind;
} event_table[] = {
    {"ENTERQUEUE", EV_ENTER},         {"CONNECT", EV_CONNECT},
    {"COMPLETECALLER", EV_COMPLETE_CALLER}, {"COMPLETEAGENT", EV_COMPLETE_AGENT},
    {"AGENTDUMP", EV_DUMP},           {"ABANDON", EV_ABANDON},
    {"WITHDRAW", EV_WITHDRAW},
    {"EXITWITHTIMEOUT", EV_TIMEOUT},  {"EXITEMPTY", EV_EMPTY},
    {"EXITWITHKEY", EV_KEY},          {"BLINDTRANSFER", EV_BLIND},
    {"ATTENDEDTRANSFER", EV_ATTENDED}, {"TRANSFER", EV_OLD_TRANSFER},
    {"DID", EV_DID},                  {"RINGNOANSWER", EV_RING},
    {"RINGCANCELED", EV_RING},        {"PAUSE", EV_MEMBER},
    {"UNPAUSE", EV_MEMBER},           {"PAUSEALL", EV_MEMBER},
    {"UNPAUSEALL", EV_MEMBER},        {"ADDMEMBER", EV_ADDMEMBER},
    {"REMOVEMEMBER", EV_MEMBER},      {"AGENTLOGIN", EV_MEMBER},
    {"AGENTLOGOFF", EV_MEMBER},       {"AGENTCALLBACKLOGIN", EV_MEMBER},
    {"AGENTCALLBACKLOGOFF", EV_MEMBER}, {"PENALTY", EV_MEMBER},
    {"QUEUESTART", EV_SYSTEM},        {"CONFIGRELOAD", EV_SYSTEM},
    {"SYSCOMPAT", EV_SYSTEM},
};

static bool event_lookup(const char *name, EventKind *out)
{
    for (size_t i = 0; i < KIC_ARRAY_LEN(event_table); i++) {
        if (strcmp(event_table[i].name, name) == 0) {
            *out = event_table[i].kind;
            return true;
        }
    }
    return false;
}

static void on_enter(QueueLog *q, Call *call, const Line *l)
{
    Contact *cur = call->n ? &call->contacts[call->n - 1] : NULL;
    const char *from = NULL;
    char from_id[QUEUELOG_CALL_ID_SIZE];
    if (cur && cur->state == CONTACT_ANSWERED) {
        /* The caller re-enters a queue while still with an agent: a
         * transfer into that queue (its own line follows, same second). */
        contact_transfer(q, cur, field(l, 2), QUEUELOG_KIND_QUEUE, "blind", l->t);
        from = cur->call_id;
    } else if (cur && cur->state == CONTACT_DONE && cur->transferred) {
        from = cur->call_id;
    } else if (cur && cur->state == CONTACT_WAITING) {
        contact_end(q, cur, "system", l->t); /* its exit line is missing */
    }
    if (from) {
        snprintf(from_id, sizeof(from_id), "%s", from);
        from = from_id;
    }
    contact_new(q, call, field(l, 2), l->t, field(l, 6), from);
}

/* The answered contact a COMPLETE or TRANSFER line ends: `c` when it is
 * answered; `c` answered `talk` ago when its CONNECT line is missing; a
 * contact inferred from the line when the call was not seen at all. */
static Contact *answered_contact(QueueLog *q, Call *call, Contact *c, const Line *l, KicTime hold,
                                 KicTime talk)
{
    if (c && c->state == CONTACT_ANSWERED)
        return c;
    if (!c || c->state != CONTACT_WAITING)
        return contact_infer(q, call, l, hold, talk, true);
    char agent[QUEUELOG_NAME_SIZE];
    queuelog_agent_id(q->rules, NULL, field(l, 3), agent, sizeof(agent));
    contact_answer(q, c, agent, l->t - talk);
    q->stats.synthesized++;
    return c;
}

static void on_transfer(QueueLog *q, Call *call, const Line *l, EventKind kind)
{
    Contact *c = contact_in_queue(call, field(l, 2));
    if (c && c->state == CONTACT_DONE && c->transferred) {
        skip(q, QUEUELOG_SKIP_CONSUMED);
        return;
    }
    /* BLINDTRANSFER|exten|context|hold|talk; ATTENDEDTRANSFER|BRIDGE|id|hold|talk,
     * |APP|app|hold|talk, or |LINK|chan1|chan2|hold|talk (one field more) */
    size_t times = kind == EV_ATTENDED && strcmp(field(l, 5), "LINK") == 0 ? 8 : 7;
    c = answered_contact(q, call, c, l, secs_field(l, times), secs_field(l, times + 1));
    char target[QUEUELOG_TARGET_SIZE];
    QueueLogKind k;
    if (kind == EV_ATTENDED) {
        /* app_queue names the bridge (or app, or channel), not the target. */
        const char *type = field(l, 5), *detail = field(l, 6);
        if (strcmp(type, "BRIDGE") == 0)
            snprintf(target, sizeof(target), "bridge/%s", detail);
        else if (strcmp(type, "APP") == 0)
            snprintf(target, sizeof(target), "app/%s", detail);
        else if (strcmp(type, "LINK") == 0 && *field(l, 7))
            snprintf(target, sizeof(target), "%s", field(l, 7)); /* the channel linked to */
        else
            snprintf(target, sizeof(target), "%s", *detail ? detail : "unknown");
        k = q->rules->default_kind;
    } else {
        k = queuelog_classify(q->rules, &q->queues, &q->members, field(l, 5), field(l, 6), target,
                              sizeof(target));
    }
    contact_transfer(q, c, target, k, kind == EV_ATTENDED ? "attended" : "blind", l->t);
}

/* The call a line is about, once the line is known to name one; NULL
 * when the line was counted as skipped (no call in it: a ring, a member's
 * or the system's) or failed. */
static Call *line_call(QueueLog *q, Line *l, EventKind *kind)
{
    if (l->n < 5) {
        fail(q, QUEUELOG_FAIL_FIELDS);
        return NULL;
    }
    if (!event_lookup(l->f[4], kind)) {
        fail(q, QUEUELOG_FAIL_UNKNOWN);
        return NULL;
    }
    switch (*kind) {
    case EV_RING:
    case EV_DUMP: /* the member hung up during the announcement: the caller waits on */
        skip(q, QUEUELOG_SKIP_RING);
        return NULL;
    case EV_MEMBER: skip(q, QUEUELOG_SKIP_MEMBER); return NULL;
    case EV_SYSTEM: skip(q, QUEUELOG_SKIP_SYSTEM); return NULL;
    case EV_ADDMEMBER:
        if (strchr(l->f[3], '/'))
            set_add(&q->members, l->f[3]);
        skip(q, QUEUELOG_SKIP_MEMBER);
        return NULL;
    default: break;
    }
    const char *callid = l->f[1];
    if (!*callid || strcmp(callid, "NONE") == 0 || !*l->f[2] || strcmp(l->f[2], "NONE") == 0) {
        fail(q, QUEUELOG_FAIL_NO_CALL);
        return NULL;
    }
    if (strlen(callid) >= QUEUELOG_ID_SIZE || strlen(l->f[2]) >= QUEUELOG_NAME_SIZE ||
        strlen(l->f[3]) >= QUEUELOG_NAME_SIZE) {
        fail(q, QUEUELOG_FAIL_TOO_LONG);
        return NULL;
    }
    Call *call = call_get(q, callid, true);
    if (!call)
        fail(q, QUEUELOG_FAIL_NO_CALL);
    return call;
}

/* CONNECT|holdtime|bridged uniqueid|ringtime: the contact `c` (NULL: not
 * seen entering) is answered. */
static void on_connect(QueueLog *q, Call *call, Contact *c, const Line *l)
{
    if (c && c->state != CONTACT_WAITING) {
        skip(q, QUEUELOG_SKIP_CONSUMED);
        return;
    }
    if (!c)
        c = contact_infer(q, call, l, secs_field(l, 5), 0, false);
    char agent[QUEUELOG_NAME_SIZE];
    queuelog_agent_id(q->rules, NULL, l->f[3], agent, sizeof(agent));
    contact_answer(q, c, agent, l->t);
}

/* COMPLETECALLER/COMPLETEAGENT|holdtime|calltime|origpos: the call ends. */
static void on_complete(QueueLog *q, Call *call, Contact *c, const Line *l, EventKind kind)
{
    if (c && c->state == CONTACT_DONE) {
        skip(q, QUEUELOG_SKIP_CONSUMED);
        return;
    }
    c = answered_contact(q, call, c, l, secs_field(l, 5), secs_field(l, 6));
    contact_end(q, c, kind == EV_COMPLETE_CALLER ? "caller" : "agent", l->t);
}

/* ABANDON|pos|origpos|wait, EXITWITHTIMEOUT, EXITEMPTY, WITHDRAW|pos|origpos|wait|info,
 * EXITWITHKEY|key|pos|origpos|wait: the caller leaves the queue. */
static void on_leave(QueueLog *q, Call *call, Contact *c, const Line *l, EventKind kind)
{
    if (c && c->state != CONTACT_WAITING) {
        skip(q, QUEUELOG_SKIP_CONSUMED);
        return;
    }
    if (!c)
        c = contact_infer(q, call, l, secs_field(l, kind == EV_KEY ? 8 : 7), 0, false);
    if (kind == EV_ABANDON || (kind == EV_TIMEOUT && q->rules->timeout_is_abandon))
        contact_abandon(q, c, l->t);
    else
        contact_end(q, c, kind == EV_KEY ? "caller" : "system", l->t);
}

/* Maps one split line; returns false when it was counted as skipped or
 * failed (so the caller does not count it as mapped). */
static bool map_line(QueueLog *q, Line *l)
{
    EventKind kind;
    Call *call = line_call(q, l, &kind);
    if (!call)
        return false;
    call->last_line = l->t;
    size_t before = q->stats.events;
    Contact *c = contact_in_queue(call, l->f[2]);
    switch (kind) {
    case EV_DID:
        snprintf(call->dialled, sizeof(call->dialled), "%s", field(l, 5));
        skip(q, QUEUELOG_SKIP_NOTED);
        return false;
    case EV_ENTER: on_enter(q, call, l); break;
    case EV_CONNECT: on_connect(q, call, c, l); break;
    case EV_COMPLETE_CALLER:
    case EV_COMPLETE_AGENT: on_complete(q, call, c, l, kind); break;
    case EV_ABANDON:
    case EV_TIMEOUT:
    case EV_EMPTY:
    case EV_WITHDRAW:
    case EV_KEY: on_leave(q, call, c, l, kind); break;
    case EV_BLIND:
    case EV_ATTENDED:
    case EV_OLD_TRANSFER: on_transfer(q, call, l, kind); break;
    default: break;
    }
    return q->stats.events > before;
}

static bool split_line(QueueLog *q, Line *l, const char *text, size_t len)
{
    if (len > QUEUELOG_MAX_LINE) {
        fail(q, QUEUELOG_FAIL_TOO_LONG);
        return false;
    }
    memcpy(l->buf, text, len);
    l->buf[len] = '\0';
    l->n = 0;
    char *p = l->buf;
    for (;;) {
        if (l->n < LINE_MAX_FIELDS)
            l->f[l->n++] = p;
        char *bar = strchr(p, '|');
        if (!bar)
            break;
        *bar = '\0';
        p = bar + 1;
    }
    long long epoch;
    if (!parse_uint(l->f[0], &epoch) || epoch > 253402300799LL) {
        fail(q, l->n < 5 ? QUEUELOG_FAIL_FIELDS : QUEUELOG_FAIL_TIME);
        return false;
    }
    l->t = (KicTime)epoch * KIC_USEC;
    return true;
}

void queuelog_feed_line(QueueLog *q, const char *line, size_t len)
{
    q->stats.lines++;
    if (len > 0 && line[len - 1] == '\r')
        len--;
    size_t blank = 0;
    while (blank < len && isspace((unsigned char)line[blank]))
        blank++;
    if (blank == len) {
        skip(q, QUEUELOG_SKIP_BLANK);
        return;
    }
    Line l;
    if (!split_line(q, &l, line, len))
        return;
    if (q->now == KIC_TIME_NONE || l.t > q->now)
        q->now = l.t;
    if (map_line(q, &l))
        q->stats.mapped++;
    if (++q->lines_since_sweep >= 1000) {
        q->lines_since_sweep = 0;
        sweep(q);
    }
}

void queuelog_feed(QueueLog *q, const char *data, size_t len)
{
    while (len > 0) {
        const char *nl = memchr(data, '\n', len);
        size_t n = nl ? (size_t)(nl - data) : len;
        if (q->discarding) {
            /* the rest of an over-long line, already counted */
        } else if (q->partial_len + n > QUEUELOG_MAX_LINE) {
            q->stats.lines++;
            fail(q, QUEUELOG_FAIL_TOO_LONG);
            q->partial_len = 0;
            q->discarding = true;
        } else {
            memcpy(q->partial + q->partial_len, data, n);
            q->partial_len += n;
        }
        if (!nl)
            return;
        if (!q->discarding)
            queuelog_feed_line(q, q->partial, q->partial_len);
        q->partial_len = 0;
        q->discarding = false;
        data = nl + 1;
        len -= n + 1;
    }
}

void queuelog_finish(QueueLog *q)
{
    if (q->partial_len > 0 && !q->discarding)
        queuelog_feed_line(q, q->partial, q->partial_len);
    q->partial_len = 0;
    q->discarding = false;
}
