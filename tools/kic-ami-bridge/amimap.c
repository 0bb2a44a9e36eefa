/* The AMI mapper's state machine. A Caller is one caller channel; each of
 * its queue entries is a Contact (waiting → answered → done). Some AMI
 * events leave the outcome open until a later one decides it (an abandon
 * that may be a timeout, a blind transfer whose target may be a queue, an
 * agent hang-up that may complete an attended transfer); such a contact is
 * "pending" and is decided by that later event or, failing it, once the
 * grace period has passed in stream time. */
#include "amimap.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef enum { CONTACT_WAITING, CONTACT_ANSWERED, CONTACT_DONE } ContactState;

/* What an undecided contact waits for. */
typedef enum {
    PEND_NONE,
    PEND_UNANSWERED, /* QueueCallerAbandon: caller hang-up, or a queue timeout? */
    PEND_LEFT,       /* QueueCallerLeave while waiting: AgentConnect follows, or an exit */
    PEND_CONNECTING, /* QueueCallerLeave after a member answered (DialEnd ANSWER): app_queue
                      * runs the member's gosub/AGI/announcement before AgentConnect */
    PEND_BLIND,      /* BlindTransfer: to a queue (a join follows) or elsewhere */
    PEND_XFER,       /* AgentComplete "transfer" before its transfer event */
    PEND_END,        /* AgentComplete "agent" during a consultation: attended transfer? */
    PEND_HANGUP,     /* caller hung up while answered: AgentComplete gives the reason */
} Pending;

typedef struct Contact {
    char call_id[QUEUELOG_CALL_ID_SIZE];
    char queue[QUEUELOG_NAME_SIZE];
    char agent[QUEUELOG_NAME_SIZE];
    char member_iface[QUEUELOG_NAME_SIZE];
    char member_channel[QUEUELOG_NAME_SIZE];
    char consult_exten[64];   /* a consultation call's exten@context */
    char consult_context[64];
    ContactState state;
    bool held, consulting, transferred;
    bool member_answered; /* a member picked up while waiting (DialEnd ANSWER) */
    bool closed; /* a transferred contact's call.ended (the phone call is over) was sent */
    Pending pending;
    KicTime pending_since; /* stream time */
    KicTime pending_at;    /* the `at` a decision will carry */
    char pend_exten[64], pend_context[64];
    KicTime last_at;
} Contact;

#define CALLER_MAX_CONTACTS 3

typedef struct Caller {
    char uniqueid[QUEUELOG_ID_SIZE];
    char linkedid[QUEUELOG_ID_SIZE];
    char channel[QUEUELOG_NAME_SIZE];
    char number[64];
    char location[QUEUELOG_NAME_SIZE];
    unsigned seq; /* contacts so far */
    size_t n;
    Contact contacts[CALLER_MAX_CONTACTS]; /* oldest first */
    bool hung_up;
    unsigned listed;   /* the last resync round whose channel list named it */
    KicTime last_seen; /* stream time */
} Caller;

struct AmiMapper {
    AmiMapConfig cfg;
    AmiEmitFn emit;
    AmiNoteFn note;
    void *ctx;
    AmiMapStats stats;
    StrMap callers; /* Uniqueid → Caller */
    StrMap linked;  /* Linkedid → the latest Caller with it */
    StrMap queues;  /* known queue names (owned keys) */
    StrMap members; /* interface → Member, whose first field is the name, so
                     * the map reads as interface → name for queuelog_classify */
    KicTime now;    /* stream time: the latest Timestamp seen (received time without them) */
    KicTime next_deadline; /* earliest pending_since + grace; KIC_TIME_NONE if none */
    size_t pending;        /* contacts with a pending decision */
    size_t since_sweep;
    bool stamped;          /* the stream has shown Timestamp headers: they are its clock */
    char resync_id[64];    /* ActionID of the channel list being read, "" between lists */
    unsigned resync_round; /* one per channel list */
};

typedef struct Member {
    char name[QUEUELOG_NAME_SIZE]; /* first: a Member * is its name */
    char iface[QUEUELOG_NAME_SIZE];
} Member;

/* ---- time -------------------------------------------------------------- */

bool ami_time_parse(const char *s, KicTime *out)
{
    int64_t secs = 0, usec = 0;
    int digits = 0, frac = 0;
    const char *p = s;
    while (*p >= '0' && *p <= '9') {
        if (++digits > 12)
            return false;
        secs = secs * 10 + (*p++ - '0');
    }
    if (digits == 0)
        return false;
    if (*p == '.') {
        p++;
        while (*p >= '0' && *p <= '9') {
            if (frac < 6) {
                usec = usec * 10 + (*p - '0');
                frac++;
            }
            p++;
        }
        while (frac++ < 6)
            usec *= 10;
    }
    if (*p)
        return false;
    *out = secs * KIC_USEC + usec;
    return true;
}

void ami_time_format(KicTime t, char *buf, size_t size)
{
    int64_t secs = t / KIC_USEC, usec = t % KIC_USEC;
    if (usec < 0) {
        usec += KIC_USEC;
        secs--;
    }
    time_t tt = (time_t)secs;
    struct tm tm;
    localtime_r(&tt, &tm);
    long off = tm.tm_gmtoff, aoff = off < 0 ? -off : off;
    snprintf(buf, size, "%04d-%02d-%02dT%02d:%02d:%02d.%06d%c%02ld:%02ld", tm.tm_year + 1900,
             tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)usec,
             off < 0 ? '-' : '+', aoff / 3600, (aoff % 3600) / 60);
}

/* ---- small helpers ----------------------------------------------------- */

static void copy(char *dst, size_t size, const char *src)
{
    snprintf(dst, size, "%s", src ? src : "");
}

static bool fits(const char *s, size_t size)
{
    return s && strlen(s) < size;
}

static void note(AmiMapper *m, const char *fmt, ...) KIC_PRINTF(2, 3);
static void note(AmiMapper *m, const char *fmt, ...)
{
    if (!m->note)
        return;
    char text[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof(text), fmt, ap);
    va_end(ap);
    m->note(m->ctx, text);
}

/* A number the PBX shows (not hidden): good enough to name a transfer's
 * target, which is any text; a caller's must be a phone number. */
static bool shown_number(const char *s)
{
    return s && *s && strcmp(s, "<unknown>") != 0 && strcmp(s, "unknown") != 0 &&
           strcmp(s, "anonymous") != 0;
}

/* "Local/a01@agents-00000011;1" and "...;2" are two halves of one channel. */
static bool same_channel_pair(const char *a, const char *b)
{
    const char *sa = strrchr(a, ';'), *sb = strrchr(b, ';');
    size_t la = sa ? (size_t)(sa - a) : strlen(a), lb = sb ? (size_t)(sb - b) : strlen(b);
    return la == lb && strncmp(a, b, la) == 0;
}

/* ---- emitting ---------------------------------------------------------- */

/* Emits one event of contact c; at is clamped to the contact's previous
 * event (AMI timestamps can step back slightly). Takes params. */
static void emit(AmiMapper *m, Contact *c, const char *method, const char *tag, KicTime at,
                 json_t *params)
{
    if (c->last_at != KIC_TIME_NONE && at < c->last_at)
        at = c->last_at;
    c->last_at = at;
    char event_id[QUEUELOG_EVENT_ID_SIZE], at_text[40];
    queuelog_event_id(m->cfg.rules, c->call_id, tag, event_id, sizeof(event_id));
    ami_time_format(at, at_text, sizeof(at_text));
    json_t *full = json_pack("{s:s, s:s, s:s}", "event_id", event_id, "call_id", c->call_id,
                             "at", at_text);
    json_object_update(full, params);
    json_decref(params);
    m->stats.events++;
    m->emit(m->ctx, json_pack("{s:s, s:o}", "method", method, "params", full));
}

/* Hold events carry their instant in the id: a call may hold many times. */
static void emit_hold(AmiMapper *m, Contact *c, bool on, KicTime at)
{
    if (c->last_at != KIC_TIME_NONE && at < c->last_at)
        at = c->last_at;
    char tag[48];
    snprintf(tag, sizeof(tag), "%s-%lld", on ? "hold" : "res", (long long)at);
    c->held = on;
    emit(m, c, on ? "call.held" : "call.resumed", tag, at, json_object());
}

/* How long a pending outcome waits for its deciding event. */
static KicTime grace_of(const AmiMapper *m, Pending p)
{
    return p == PEND_CONNECTING ? m->cfg.connect_grace : m->cfg.grace;
}

static void set_pending(AmiMapper *m, Contact *c, Pending p, KicTime at)
{
    if (c->pending == PEND_NONE && p != PEND_NONE)
        m->pending++;
    else if (c->pending != PEND_NONE && p == PEND_NONE)
        m->pending--;
    c->pending = p;
    if (p == PEND_NONE)
        return;
    c->pending_since = m->now;
    c->pending_at = at;
    KicTime deadline = m->now + grace_of(m, p);
    if (m->next_deadline == KIC_TIME_NONE || deadline < m->next_deadline)
        m->next_deadline = deadline;
}

static void finish(AmiMapper *m, Contact *c)
{
    set_pending(m, c, PEND_NONE, 0);
    c->state = CONTACT_DONE;
}

/* The agent's part is over: a hold still open ends with it. */
static void close_hold(AmiMapper *m, Contact *c, KicTime at)
{
    if (c->held)
        emit_hold(m, c, false, at);
}

static void do_end(AmiMapper *m, Contact *c, const char *by, KicTime at)
{
    close_hold(m, c, at);
    finish(m, c);
    emit(m, c, "call.ended", "end", at, json_pack("{s:s}", "by", by));
}

static void do_abandon(AmiMapper *m, Contact *c, KicTime at)
{
    finish(m, c);
    emit(m, c, "call.abandoned", "abn", at, json_object());
}

/* The queue let the caller go unanswered (timeout, empty queue, ...).
 * --timeout-as abandoned turns a timeout into an abandon, also one whose
 * reason AMI did not say, but not an exit QUEUESTATUS names otherwise
 * (FULL, JOINEMPTY, LEAVEEMPTY, WITHDRAW, ...), as in the queue_log
 * import, where only EXITWITHTIMEOUT is one. */
static void do_exit_because(AmiMapper *m, Contact *c, KicTime at, const char *queuestatus)
{
    bool timeout = !queuestatus || strcmp(queuestatus, "TIMEOUT") == 0;
    if (m->cfg.rules->timeout_is_abandon && timeout)
        do_abandon(m, c, at);
    else
        do_end(m, c, "system", at);
}

static void do_exit(AmiMapper *m, Contact *c, KicTime at)
{
    do_exit_because(m, c, at, NULL);
}

static void do_transfer(AmiMapper *m, Contact *c, QueueLogKind kind, const char *target,
                        const char *mode, KicTime at)
{
    close_hold(m, c, at);
    finish(m, c);
    c->transferred = true;
    emit(m, c, "call.transferred", "xfr", at,
         json_pack("{s:s, s:s, s:s, s:s}", "agent", c->agent, "target", target, "target_kind",
                   queuelog_kind_name(kind), "mode", mode));
}

static void do_transfer_to(AmiMapper *m, Contact *c, const char *exten, const char *context,
                           const char *mode, KicTime at)
{
    char target[QUEUELOG_TARGET_SIZE];
    QueueLogKind kind = queuelog_classify(m->cfg.rules, &m->queues, &m->members, exten, context,
                                          target, sizeof(target));
    do_transfer(m, c, kind, target, mode, at);
}

/* The transfer target of a consultation, when one was seen. */
static void do_transfer_consulted(AmiMapper *m, Contact *c, const char *mode, KicTime at)
{
    if (*c->consult_exten)
        do_transfer_to(m, c, c->consult_exten, c->consult_context, mode, at);
    else
        do_transfer(m, c, m->cfg.rules->default_kind, "unknown", mode, at);
}

/* Decides a pending contact without the event it waited for. */
static void decide(AmiMapper *m, Contact *c)
{
    KicTime at = c->pending_at;
    switch (c->pending) {
    case PEND_UNANSWERED: do_abandon(m, c, at); break; /* what AMI said */
    case PEND_LEFT: do_exit(m, c, at); break;
    case PEND_CONNECTING: do_end(m, c, "system", at); break; /* a member took it: no abandon */
    case PEND_BLIND: do_transfer_to(m, c, c->pend_exten, c->pend_context, "blind", at); break;
    case PEND_XFER:
        do_transfer_consulted(m, c, c->consulting ? "attended" : "blind", at);
        break;
    case PEND_END: do_end(m, c, "agent", at); break;
    case PEND_HANGUP: do_end(m, c, "caller", at); break;
    case PEND_NONE: break;
    }
}

/* ---- callers and contacts ---------------------------------------------- */

static Contact *latest(Caller *cl)
{
    return cl->n ? &cl->contacts[cl->n - 1] : NULL;
}

/* The latest contact of the caller in this queue, or NULL. */
static Contact *in_queue(Caller *cl, const char *queue)
{
    for (size_t i = cl->n; i-- > 0;)
        if (!queue || strcmp(cl->contacts[i].queue, queue) == 0)
            return &cl->contacts[i];
    return NULL;
}

static Contact *answered_in(Caller *cl, const char *queue)
{
    Contact *c = in_queue(cl, queue);
    return c && c->state == CONTACT_ANSWERED ? c : NULL;
}

static bool caller_pending(const Caller *cl)
{
    for (size_t i = 0; i < cl->n; i++)
        if (cl->contacts[i].pending != PEND_NONE)
            return true;
    return false;
}

/* The phone call is over: transferred contacts, whose agent part ended
 * at the transfer, get their call.ended now (no `by`: who hung up on the
 * far side is not known). */
static void close_transferred(AmiMapper *m, Caller *cl, KicTime at)
{
    for (size_t i = 0; i < cl->n; i++) {
        Contact *t = &cl->contacts[i];
        if (t->state == CONTACT_DONE && t->transferred && !t->closed) {
            t->closed = true;
            emit(m, t, "call.ended", "end", at, json_object());
        }
    }
}

static void caller_remove(AmiMapper *m, Caller *cl)
{
    for (size_t i = 0; i < cl->n; i++)
        if (cl->contacts[i].pending != PEND_NONE)
            decide(m, &cl->contacts[i]);
    if (strmap_get(&m->linked, cl->linkedid) == cl)
        strmap_remove(&m->linked, cl->linkedid);
    strmap_remove(&m->callers, cl->uniqueid);
    free(cl);
}

/* A caller dropped without its Hangup (silent for forget_after, or the
 * oldest when too many are followed). Its contacts are closed all the
 * same, at its last sign of life: an open one would keep its agent busy
 * in kicd for ever (by system: nobody knows who hung up). */
static void caller_forget(AmiMapper *m, Caller *cl)
{
    for (size_t i = 0; i < cl->n; i++) {
        Contact *c = &cl->contacts[i];
        if (c->pending != PEND_NONE)
            decide(m, c);
        if (c->state != CONTACT_DONE)
            do_end(m, c, "system", cl->last_seen);
    }
    close_transferred(m, cl, cl->last_seen);
    m->stats.evicted++;
    caller_remove(m, cl);
}

static void evict_oldest(AmiMapper *m)
{
    size_t pos = 0;
    const char *key;
    void *value;
    Caller *oldest = NULL;
    while (strmap_next(&m->callers, &pos, &key, &value)) {
        Caller *cl = value;
        if (!oldest || cl->last_seen < oldest->last_seen)
            oldest = cl;
    }
    if (oldest) {
        note(m, "dropping caller %s: too many callers followed", oldest->uniqueid);
        caller_forget(m, oldest);
    }
}

static Caller *caller_find(AmiMapper *m, const char *uniqueid)
{
    return uniqueid && *uniqueid ? strmap_get(&m->callers, uniqueid) : NULL;
}

static Caller *caller_by_linkedid(AmiMapper *m, const char *linkedid)
{
    return linkedid && *linkedid ? strmap_get(&m->linked, linkedid) : NULL;
}

/* The caller of a queue event, created when new. Fills the channel,
 * Linkedid and number from the event. */
static Caller *caller_for(AmiMapper *m, const AmiMessage *msg)
{
    const char *uid = ami_get(msg, "Uniqueid");
    if (!uid || !*uid || !fits(uid, QUEUELOG_ID_SIZE))
        return NULL;
    Caller *cl = strmap_get(&m->callers, uid);
    if (!cl) {
        if (m->callers.count >= m->cfg.max_callers)
            evict_oldest(m);
        cl = calloc(1, sizeof(*cl));
        if (!cl)
            return NULL;
        copy(cl->uniqueid, sizeof(cl->uniqueid), uid);
        strmap_put(&m->callers, cl->uniqueid, cl);
    }
    const char *linkedid = ami_get(msg, "Linkedid");
    if (linkedid && *linkedid && fits(linkedid, QUEUELOG_ID_SIZE) &&
        strcmp(linkedid, cl->linkedid) != 0) {
        if (*cl->linkedid && strmap_get(&m->linked, cl->linkedid) == cl)
            strmap_remove(&m->linked, cl->linkedid);
        copy(cl->linkedid, sizeof(cl->linkedid), linkedid);
    }
    if (*cl->linkedid)
        strmap_put(&m->linked, cl->linkedid, cl);
    const char *channel = ami_get(msg, "Channel");
    if (channel && fits(channel, sizeof(cl->channel)))
        copy(cl->channel, sizeof(cl->channel), channel);
    const char *num = ami_get(msg, "CallerIDNum");
    if (queuelog_caller_is_number(num) && fits(num, sizeof(cl->number)))
        copy(cl->number, sizeof(cl->number), num);
    cl->last_seen = m->now;
    return cl;
}

/* Opens the caller's next contact in `queue` and emits call.offered. */
static Contact *contact_open(AmiMapper *m, Caller *cl, const char *queue, KicTime at,
                             const char *transferred_from)
{
    char from[QUEUELOG_CALL_ID_SIZE] = "";
    copy(from, sizeof(from), transferred_from);
    if (cl->n == CALLER_MAX_CONTACTS) {
        if (cl->contacts[0].pending != PEND_NONE)
            decide(m, &cl->contacts[0]);
        memmove(&cl->contacts[0], &cl->contacts[1], sizeof(Contact) * (CALLER_MAX_CONTACTS - 1));
        cl->n--;
    }
    Contact *c = &cl->contacts[cl->n++];
    memset(c, 0, sizeof(*c));
    c->last_at = KIC_TIME_NONE;
    c->state = CONTACT_WAITING;
    queuelog_call_id(cl->uniqueid, ++cl->seq, c->call_id, sizeof(c->call_id));
    copy(c->queue, sizeof(c->queue), queue);
    if (*queue && !strmap_get(&m->queues, queue) && m->queues.count < 10000) {
        char *name = strdup(queue);
        if (name)
            strmap_put(&m->queues, name, name);
    }
    json_t *p = json_pack("{s:s}", "queue", queue);
    if (*cl->number)
        json_object_set_new(p, "caller", json_string(cl->number));
    if (*cl->location)
        json_object_set_new(p, "location", json_string(cl->location));
    json_object_set_new(p, "channel", json_string("voice"));
    if (*from)
        json_object_set_new(p, "transferred_from", json_string(from));
    emit(m, c, "call.offered", "off", at, p);
    return c;
}

static void learn_member(AmiMapper *m, const AmiMessage *msg)
{
    const char *iface = ami_get(msg, "Interface"), *name = ami_get(msg, "MemberName");
    if (!iface || !*iface || !fits(iface, QUEUELOG_NAME_SIZE) || !name ||
        !fits(name, QUEUELOG_NAME_SIZE))
        return;
    Member *mb = strmap_get(&m->members, iface);
    if (!mb) {
        if (m->members.count >= 10000 || !(mb = calloc(1, sizeof(*mb))))
            return;
        copy(mb->iface, sizeof(mb->iface), iface);
        strmap_put(&m->members, mb->iface, mb);
    }
    copy(mb->name, sizeof(mb->name), name);
}

/* The agent id of a member; a missing name is taken from what earlier
 * events said about the interface. */
static void agent_of(AmiMapper *m, const char *iface, const char *name, char *out, size_t size)
{
    if ((!name || !*name) && iface) {
        Member *mb = strmap_get(&m->members, iface);
        if (mb)
            name = mb->name;
    }
    queuelog_agent_id(m->cfg.rules, iface, name, out, size);
    if (!*out)
        copy(out, size, "unknown");
}

static KicTime secs_header(const AmiMessage *msg, const char *key)
{
    const char *v = ami_get(msg, key);
    if (!v || !*v)
        return 0;
    char *end;
    long long s = strtoll(v, &end, 10);
    if (*end || s < 0 || s > 86400LL * 365)
        return 0;
    return (KicTime)s * KIC_USEC;
}

/* A call first seen mid-way (the bridge started late): its offer (and
 * answer) are inferred from the hold and talk times the event carries,
 * which AMI gives in seconds (ring times in AgentRingNoAnswer are ms). */
static Contact *contact_infer(AmiMapper *m, Caller *cl, const AmiMessage *msg, KicTime ts,
                              bool answered)
{
    const char *queue = ami_get_or(msg, "Queue", "");
    KicTime talk = answered ? secs_header(msg, "TalkTime") : 0;
    KicTime answer_at = ts - talk;
    Contact *c = contact_open(m, cl, queue, answer_at - secs_header(msg, "HoldTime"), NULL);
    m->stats.synthesized++;
    if (answered) {
        c->state = CONTACT_ANSWERED;
        agent_of(m, ami_get(msg, "Interface"), ami_get(msg, "MemberName"), c->agent,
                 sizeof(c->agent));
        copy(c->member_iface, sizeof(c->member_iface), ami_get(msg, "Interface"));
        emit(m, c, "call.answered", "ans", answer_at, json_pack("{s:s}", "agent", c->agent));
        m->stats.synthesized++;
    }
    return c;
}

/* ---- handlers ---------------------------------------------------------- */

typedef void (*Handler)(AmiMapper *m, const AmiMessage *msg, KicTime ts);

static void unmatched(AmiMapper *m, const AmiMessage *msg)
{
    m->stats.unmatched++;
    note(m, "%s for a call not followed (Uniqueid %s, Linkedid %s)",
         ami_get_or(msg, "Event", "?"), ami_get_or(msg, "Uniqueid", "-"),
         ami_get_or(msg, "Linkedid", "-"));
}

static void on_join(AmiMapper *m, const AmiMessage *msg, KicTime ts)
{
    const char *queue = ami_get(msg, "Queue");
    Caller *cl = queue && *queue && fits(queue, QUEUELOG_NAME_SIZE) ? caller_for(m, msg) : NULL;
    if (!cl) {
        unmatched(m, msg);
        return;
    }
    Contact *cur = latest(cl);
    const char *from = NULL;
    if (cur && cur->state == CONTACT_ANSWERED) {
        /* Joining a queue while still with an agent: a transfer into that
         * queue (the join comes before the old queue's AgentComplete). */
        bool decided = cur->pending != PEND_NONE;
        bool attended = cur->pending != PEND_BLIND && cur->consulting;
        do_transfer(m, cur, QUEUELOG_KIND_QUEUE, queue, attended ? "attended" : "blind",
                    decided ? cur->pending_at : ts);
        from = cur->call_id;
    } else if (cur && cur->state == CONTACT_WAITING) {
        if (cur->pending != PEND_NONE)
            do_exit(m, cur, cur->pending_at); /* overflow into another queue */
        else
            do_exit(m, cur, ts);
    } else if (cur && cur->transferred) {
        from = cur->call_id;
    }
    contact_open(m, cl, queue, ts, from);
}

static void on_leave(AmiMapper *m, const AmiMessage *msg, KicTime ts)
{
    Caller *cl = caller_find(m, ami_get(msg, "Uniqueid"));
    Contact *c = cl ? in_queue(cl, ami_get(msg, "Queue")) : NULL;
    if (!c) {
        unmatched(m, msg);
        return;
    }
    if (c->state == CONTACT_WAITING && c->pending == PEND_NONE)
        set_pending(m, c, c->member_answered ? PEND_CONNECTING : PEND_LEFT, ts);
}

/* A member's phone answered (app_queue's DialEnd, the caller dialling the
 * member): the QueueCallerLeave that follows is a connect, whose
 * AgentConnect may come seconds later, after the member's gosub. */
static void on_dial_end(AmiMapper *m, const AmiMessage *msg, KicTime ts)
{
    (void)ts;
    Caller *cl = caller_find(m, ami_get(msg, "Uniqueid"));
    Contact *c = cl ? latest(cl) : NULL;
    if (c && c->state == CONTACT_WAITING && strcmp(ami_get_or(msg, "DialStatus", ""), "ANSWER") == 0)
        c->member_answered = true;
    else
        m->stats.ignored++;
}

/* The member hung up during the announcement: the caller waits on. */
static void on_dump(AmiMapper *m, const AmiMessage *msg, KicTime ts)
{
    (void)ts;
    Caller *cl = caller_find(m, ami_get(msg, "Uniqueid"));
    Contact *c = cl ? in_queue(cl, ami_get(msg, "Queue")) : NULL;
    if (c && c->state == CONTACT_WAITING)
        c->member_answered = false;
    else
        m->stats.ignored++;
}

static void on_abandon(AmiMapper *m, const AmiMessage *msg, KicTime ts)
{
    Caller *cl = caller_for(m, msg);
    if (!cl) {
        unmatched(m, msg);
        return;
    }
    Contact *c = in_queue(cl, ami_get(msg, "Queue"));
    if (c && c->state != CONTACT_WAITING)
        return; /* already decided */
    if (!c)
        c = contact_infer(m, cl, msg, ts, false);
    set_pending(m, c, PEND_UNANSWERED, ts);
}

static void on_connect(AmiMapper *m, const AmiMessage *msg, KicTime ts)
{
    Caller *cl = caller_for(m, msg);
    if (!cl) {
        unmatched(m, msg);
        return;
    }
    learn_member(m, msg);
    Contact *c = in_queue(cl, ami_get(msg, "Queue"));
    if (c && c->state != CONTACT_WAITING)
        return; /* a repeat */
    if (!c)
        c = contact_infer(m, cl, msg, ts, false);
    set_pending(m, c, PEND_NONE, 0);
    c->state = CONTACT_ANSWERED;
    const char *iface = ami_get(msg, "Interface");
    agent_of(m, iface, ami_get(msg, "MemberName"), c->agent, sizeof(c->agent));
    copy(c->member_iface, sizeof(c->member_iface), fits(iface, sizeof(c->member_iface)) ? iface : "");
    const char *dest = ami_get(msg, "DestChannel");
    copy(c->member_channel, sizeof(c->member_channel),
         fits(dest, sizeof(c->member_channel)) ? dest : "");
    emit(m, c, "call.answered", "ans", ts, json_pack("{s:s}", "agent", c->agent));
    if (cl->hung_up) /* the caller left during the member's gosub: the end follows */
        set_pending(m, c, PEND_HANGUP, ts);
}

/* AgentComplete names the caller by Uniqueid, but not always: then by
 * Linkedid, then by queue and member among answered contacts. */
static Contact *complete_contact(AmiMapper *m, const AmiMessage *msg, Caller **cl_out)
{
    const char *queue = ami_get(msg, "Queue");
    Caller *cl = caller_find(m, ami_get(msg, "Uniqueid"));
    if (!cl)
        cl = caller_by_linkedid(m, ami_get(msg, "Linkedid"));
    if (!cl)
        cl = caller_by_linkedid(m, ami_get(msg, "DestLinkedid"));
    if (cl) {
        *cl_out = cl;
        return in_queue(cl, queue);
    }
    const char *iface = ami_get(msg, "Interface");
    if (!queue || !iface || !*iface)
        return NULL;
    size_t pos = 0;
    const char *key;
    void *value;
    while (strmap_next(&m->callers, &pos, &key, &value)) {
        Caller *each = value;
        Contact *c = answered_in(each, queue);
        if (c && strcmp(c->member_iface, iface) == 0) {
            *cl_out = each;
            return c;
        }
    }
    return NULL;
}

static void on_complete(AmiMapper *m, const AmiMessage *msg, KicTime ts)
{
    learn_member(m, msg);
    Caller *cl = NULL;
    Contact *c = complete_contact(m, msg, &cl);
    if (c && c->state == CONTACT_DONE)
        return; /* e.g. the old queue's AgentComplete after a transfer into a new one */
    if (c && c->state == CONTACT_WAITING) {
        /* its AgentConnect was missed: answered TalkTime ago */
        KicTime answer_at = ts - secs_header(msg, "TalkTime");
        set_pending(m, c, PEND_NONE, 0);
        c->state = CONTACT_ANSWERED;
        agent_of(m, ami_get(msg, "Interface"), ami_get(msg, "MemberName"), c->agent,
                 sizeof(c->agent));
        emit(m, c, "call.answered", "ans", answer_at, json_pack("{s:s}", "agent", c->agent));
        m->stats.synthesized++;
    } else if (!c) {
        if (!cl)
            cl = caller_for(m, msg);
        if (!cl) {
            unmatched(m, msg);
            return;
        }
        c = contact_infer(m, cl, msg, ts, true);
    }
    const char *reason = ami_get_or(msg, "Reason", "");
    if (c->pending == PEND_BLIND || c->pending == PEND_XFER || c->pending == PEND_END) {
        /* already waiting for the deciding event: for a blind transfer,
         * the new queue's join, which app_queue may send after this */
    } else if (strcmp(reason, "transfer") == 0) {
        set_pending(m, c, PEND_XFER, ts);
    } else if (strcmp(reason, "agent") == 0 && c->consulting) {
        /* app_queue may report an attended transfer completed by the
         * agent hanging up as an agent hang-up, just before the transfer. */
        set_pending(m, c, PEND_END, ts);
    } else {
        const char *by = strcmp(reason, "caller") == 0  ? "caller"
                         : strcmp(reason, "agent") == 0 ? "agent"
                                                        : "system";
        do_end(m, c, by, ts);
    }
}

/* The answered contact a transfer event is about: the transferee is the
 * caller; failing that, a caller sharing a Linkedid. */
static Contact *transfer_contact(AmiMapper *m, const AmiMessage *msg, const char *const *linked_keys)
{
    Caller *cl = caller_find(m, ami_get(msg, "TransfereeUniqueid"));
    Contact *c = cl ? latest(cl) : NULL;
    for (size_t i = 0; (!c || c->state != CONTACT_ANSWERED) && linked_keys[i]; i++) {
        cl = caller_by_linkedid(m, ami_get(msg, linked_keys[i]));
        c = cl ? latest(cl) : NULL;
    }
    return c && c->state == CONTACT_ANSWERED ? c : NULL;
}

static void on_blind(AmiMapper *m, const AmiMessage *msg, KicTime ts)
{
    if (strcmp(ami_get_or(msg, "Result", "Success"), "Success") != 0)
        return;
    static const char *const keys[] = {"TransfereeLinkedid", "TransfererLinkedid", NULL};
    Contact *c = transfer_contact(m, msg, keys);
    if (!c) {
        unmatched(m, msg);
        return;
    }
    const char *exten = ami_get_or(msg, "Extension", ""), *context = ami_get_or(msg, "Context", "");
    if (c->pending == PEND_XFER) {
        do_transfer_to(m, c, exten, context, "blind", c->pending_at);
        return;
    }
    copy(c->pend_exten, sizeof(c->pend_exten), exten);
    copy(c->pend_context, sizeof(c->pend_context), context);
    set_pending(m, c, PEND_BLIND, ts);
}

static void on_attended(AmiMapper *m, const AmiMessage *msg, KicTime ts)
{
    if (strcmp(ami_get_or(msg, "Result", "Success"), "Success") != 0)
        return;
    static const char *const keys[] = {"TransfereeLinkedid", "OrigTransfererLinkedid",
                                       "SecondTransfererLinkedid", NULL};
    Contact *c = transfer_contact(m, msg, keys);
    if (!c) {
        unmatched(m, msg);
        return;
    }
    if (strcmp(ami_get_or(msg, "DestType", ""), "Threeway") == 0) {
        /* a conference: the agent stays on the call (app_queue does not
         * count it as a transfer either) */
        c->consulting = false;
        m->stats.ignored++;
        return;
    }
    KicTime at = c->pending == PEND_XFER || c->pending == PEND_END ? c->pending_at : ts;
    const char *t_chan = ami_get(msg, "TransferTargetChannel");
    const char *t_exten = ami_get_or(msg, "TransferTargetExten", "");
    const char *second = ami_get(msg, "SecondTransfererConnectedLineNum");
    const char *dest = ami_get_or(msg, "DestType", "");
    if (t_chan && *t_chan && *t_exten && strcmp(t_exten, "s") != 0) {
        do_transfer_to(m, c, t_exten, ami_get_or(msg, "TransferTargetContext", ""), "attended", at);
    } else if (*c->consult_exten) {
        do_transfer_consulted(m, c, "attended", at);
    } else if (shown_number(second) && fits(second, 64)) {
        do_transfer(m, c, m->cfg.rules->default_kind, second, "attended", at);
    } else {
        char target[QUEUELOG_TARGET_SIZE];
        if (strcmp(dest, "Bridge") == 0)
            snprintf(target, sizeof(target), "bridge/%s", ami_get_or(msg, "DestBridgeUniqueid", ""));
        else if (strcmp(dest, "App") == 0)
            snprintf(target, sizeof(target), "app/%s", ami_get_or(msg, "DestApp", ""));
        else
            snprintf(target, sizeof(target), "unknown");
        do_transfer(m, c, m->cfg.rules->default_kind, target, "attended", at);
    }
}

/* Hold/Unhold on the member's (or the caller's) channel; MusicOnHold on
 * the caller's channel while answered (Local-channel members raise no
 * Hold, only music on the caller). Repeats are folded. */
static void hold_event(AmiMapper *m, const AmiMessage *msg, KicTime ts, bool on, bool moh)
{
    const char *channel = ami_get_or(msg, "Channel", "");
    Caller *cl = caller_find(m, ami_get(msg, "Uniqueid"));
    bool caller_side = cl != NULL;
    if (!cl && !moh)
        cl = caller_by_linkedid(m, ami_get(msg, "Linkedid"));
    Contact *c = cl ? latest(cl) : NULL;
    if (!c || c->state != CONTACT_ANSWERED || c->pending != PEND_NONE) {
        m->stats.ignored++;
        return;
    }
    if (!caller_side && !same_channel_pair(channel, c->member_channel)) {
        m->stats.ignored++; /* a consultation leg, not the call */
        return;
    }
    if (c->held != on)
        emit_hold(m, c, on, ts);
}

static void on_hold(AmiMapper *m, const AmiMessage *msg, KicTime ts)
{
    hold_event(m, msg, ts, true, false);
}

static void on_unhold(AmiMapper *m, const AmiMessage *msg, KicTime ts)
{
    hold_event(m, msg, ts, false, false);
}

static void on_moh_start(AmiMapper *m, const AmiMessage *msg, KicTime ts)
{
    hold_event(m, msg, ts, true, true);
}

static void on_moh_stop(AmiMapper *m, const AmiMessage *msg, KicTime ts)
{
    hold_event(m, msg, ts, false, true);
}

/* A new channel in an answered call that is neither the caller's nor the
 * member's: the agent is consulting someone (an attended transfer may
 * follow, possibly without naming its target). */
static void on_newchannel(AmiMapper *m, const AmiMessage *msg, KicTime ts)
{
    Caller *cl = caller_by_linkedid(m, ami_get(msg, "Linkedid"));
    Contact *c = cl ? latest(cl) : NULL;
    const char *channel = ami_get_or(msg, "Channel", "");
    if (!c || c->state != CONTACT_ANSWERED || same_channel_pair(channel, cl->channel) ||
        same_channel_pair(channel, c->member_channel)) {
        m->stats.ignored++;
        return;
    }
    const char *exten = ami_get_or(msg, "Exten", "");
    const char *context = ami_get_or(msg, "Context", "");
    c->consulting = true;
    if (*exten && strcmp(exten, "s") != 0) {
        copy(c->consult_exten, sizeof(c->consult_exten), exten);
        copy(c->consult_context, sizeof(c->consult_context), context);
    } else {
        /* "PJSIP/2003-0000001a" → "PJSIP/2003" */
        char name[64];
        copy(name, sizeof(name), channel);
        char *dash = strrchr(name, '-');
        if (dash)
            *dash = '\0';
        copy(c->consult_exten, sizeof(c->consult_exten), name);
        c->consult_context[0] = '\0';
    }
}

/* The caller's contact whose unanswered exit is still open, or NULL. */
static Contact *open_exit(AmiMapper *m, const AmiMessage *msg)
{
    Caller *cl = caller_find(m, ami_get(msg, "Uniqueid"));
    Contact *c = cl ? latest(cl) : NULL;
    if (c && c->state == CONTACT_WAITING &&
        (c->pending == PEND_UNANSWERED || c->pending == PEND_LEFT ||
         c->pending == PEND_CONNECTING))
        return c;
    return NULL;
}

/* VarSet is noise except two variables on a caller channel: QUEUESTATUS
 * (set when Queue() returns without a hang-up: the queue let the caller
 * go) and the configured location variable. */
static void on_varset(AmiMapper *m, const AmiMessage *msg, KicTime ts)
{
    const char *var = ami_get_or(msg, "Variable", "");
    while (*var == '_')
        var++;
    if (strcmp(var, "QUEUESTATUS") == 0) {
        Contact *c = open_exit(m, msg);
        if (c) {
            do_exit_because(m, c, c->pending_at, ami_get_or(msg, "Value", ""));
            return;
        }
    } else if (m->cfg.location_var && strcmp(var, m->cfg.location_var) == 0) {
        const char *value = ami_get_or(msg, "Value", "");
        if (*value && fits(value, QUEUELOG_NAME_SIZE)) {
            Caller *cl = caller_for(m, msg);
            if (cl) {
                copy(cl->location, sizeof(cl->location), value);
                return;
            }
        }
    }
    m->stats.ignored++;
}

/* The dialplan carries on with the caller after Queue(): it was not a
 * hang-up. (The "h" extension runs after a hang-up, so it does not count.) */
static void on_newexten(AmiMapper *m, const AmiMessage *msg, KicTime ts)
{
    Contact *c = open_exit(m, msg);
    if (c && strcmp(ami_get_or(msg, "Exten", ""), "h") != 0)
        do_exit(m, c, c->pending_at);
    else
        m->stats.ignored++;
}

/* The caller's channel hangs up (final) or is asked to. A final hang-up
 * removes the caller once nothing about it is pending. */
static void caller_hangup(AmiMapper *m, Caller *cl, KicTime ts, bool final)
{
    Contact *c = latest(cl);
    if (c && c->state == CONTACT_WAITING) {
        if (c->pending == PEND_LEFT)
            do_exit(m, c, c->pending_at);
        else if (c->pending == PEND_CONNECTING)
            ; /* app_queue puts the call through all the same (CONNECT, then
               * COMPLETECALLER): AgentConnect decides, or the deadline */
        else
            do_abandon(m, c, c->pending == PEND_UNANSWERED ? c->pending_at : ts);
    } else if (c && c->state == CONTACT_ANSWERED) {
        if (c->pending != PEND_NONE && c->pending != PEND_HANGUP)
            decide(m, c);
        else if (final && c->pending == PEND_NONE)
            set_pending(m, c, PEND_HANGUP, ts);
    }
    if (final) {
        close_transferred(m, cl, ts);
        cl->hung_up = true;
        if (!caller_pending(cl))
            caller_remove(m, cl);
    }
}

static void hangup_event(AmiMapper *m, const AmiMessage *msg, KicTime ts, bool final)
{
    Caller *cl = caller_find(m, ami_get(msg, "Uniqueid"));
    if (cl)
        caller_hangup(m, cl, ts, final);
    else
        m->stats.ignored++;
}

static void on_hangup(AmiMapper *m, const AmiMessage *msg, KicTime ts)
{
    hangup_event(m, msg, ts, true);
}

static void on_hangup_request(AmiMapper *m, const AmiMessage *msg, KicTime ts)
{
    hangup_event(m, msg, ts, false);
}

static void on_member(AmiMapper *m, const AmiMessage *msg, KicTime ts)
{
    learn_member(m, msg);
    m->stats.ignored++;
}

static const struct {
    const char *event;
    Handler handler;
} handlers[] = {
    {"QueueCallerJoin", on_join},
    {"QueueCallerLeave", on_leave},
    {"QueueCallerAbandon", on_abandon},
    {"DialEnd", on_dial_end},
    {"AgentDump", on_dump},
    {"AgentConnect", on_connect},
    {"AgentComplete", on_complete},
    {"BlindTransfer", on_blind},
    {"AttendedTransfer", on_attended},
    {"Hold", on_hold},
    {"Unhold", on_unhold},
    {"MusicOnHoldStart", on_moh_start},
    {"MusicOnHoldStop", on_moh_stop},
    {"Newchannel", on_newchannel},
    {"VarSet", on_varset},
    {"Newexten", on_newexten},
    {"Hangup", on_hangup},
    {"SoftHangupRequest", on_hangup_request},
    {"HangupRequest", on_hangup_request},
    {"AgentCalled", on_member},
    {"QueueMemberStatus", on_member},
    {"QueueMemberAdded", on_member},
};

/* ---- the mapper -------------------------------------------------------- */

AmiMapper *ami_map_new(const AmiMapConfig *cfg, AmiEmitFn emit_fn, AmiNoteFn note_fn, void *ctx)
{
    AmiMapper *m = calloc(1, sizeof(*m));
    if (!m)
        return NULL;
    m->cfg = *cfg;
    if (m->cfg.grace <= 0)
        m->cfg.grace = 3 * KIC_USEC;
    if (m->cfg.connect_grace <= 0)
        m->cfg.connect_grace = 60 * KIC_USEC;
    if (m->cfg.connect_grace < m->cfg.grace)
        m->cfg.connect_grace = m->cfg.grace;
    if (m->cfg.max_callers == 0)
        m->cfg.max_callers = 10000;
    if (m->cfg.forget_after <= 0)
        m->cfg.forget_after = 6 * 3600 * KIC_USEC;
    m->emit = emit_fn;
    m->note = note_fn;
    m->ctx = ctx;
    m->now = KIC_TIME_NONE;
    m->next_deadline = KIC_TIME_NONE;
    return m;
}

void ami_map_free(AmiMapper *m)
{
    if (!m)
        return;
    size_t pos = 0;
    const char *key;
    void *value;
    while (strmap_next(&m->callers, &pos, &key, &value))
        free(value);
    strmap_free(&m->callers);
    strmap_free(&m->linked);
    pos = 0;
    while (strmap_next(&m->queues, &pos, &key, &value))
        free(value);
    strmap_free(&m->queues);
    pos = 0;
    while (strmap_next(&m->members, &pos, &key, &value))
        free(value);
    strmap_free(&m->members);
    free(m);
}

/* Decides contacts whose grace ran out by `now`, and forgets silent
 * callers. Cheap when nothing is due: one comparison. */
static void expire(AmiMapper *m, KicTime now, bool all)
{
    if (!all && (m->next_deadline == KIC_TIME_NONE || now < m->next_deadline))
        return;
    m->next_deadline = KIC_TIME_NONE;
    size_t pos = 0;
    const char *key;
    void *value;
    while (strmap_next(&m->callers, &pos, &key, &value)) {
        Caller *cl = value;
        for (size_t i = 0; i < cl->n; i++) {
            Contact *c = &cl->contacts[i];
            if (c->pending == PEND_NONE)
                continue;
            KicTime due = c->pending_since + grace_of(m, c->pending);
            if (all || now >= due)
                decide(m, c);
            else if (m->next_deadline == KIC_TIME_NONE || due < m->next_deadline)
                m->next_deadline = due;
        }
        if (cl->hung_up && !caller_pending(cl))
            caller_remove(m, cl);
    }
}

static void forget_silent(AmiMapper *m)
{
    size_t pos = 0;
    const char *key;
    void *value;
    while (strmap_next(&m->callers, &pos, &key, &value)) {
        Caller *cl = value;
        if (m->now - cl->last_seen > m->cfg.forget_after) {
            note(m, "forgetting caller %s: silent too long", cl->uniqueid);
            caller_forget(m, cl);
        }
    }
}

/* ---- resync after a reconnect ------------------------------------------ */

/* An event of the channel list the bridge asked for after a reconnect,
 * known by its ActionID so that a recording of the stream maps alike. */
static bool resync_event(const char *event, const AmiMessage *msg)
{
    const char *id = ami_get(msg, "ActionID");
    return id && strncmp(id, AMI_RESYNC_ACTION_PREFIX, strlen(AMI_RESYNC_ACTION_PREFIX)) == 0 &&
           (strcmp(event, "CoreShowChannel") == 0 ||
            strcmp(event, "CoreShowChannelsComplete") == 0);
}

/* Every followed caller the list did not name hung up while AMI was away
 * (its Hangup, maybe its AgentComplete, lost with the connection): it is
 * decided as that hang-up, at the stream time now. A caller whose Hangup
 * was seen, an outcome still pending, is left to that. */
static void resync_complete(AmiMapper *m)
{
    m->stats.resyncs++;
    size_t pos = 0;
    const char *key;
    void *value;
    while (strmap_next(&m->callers, &pos, &key, &value)) {
        Caller *cl = value;
        if (cl->hung_up || cl->listed == m->resync_round)
            continue;
        note(m, "caller %s hung up while AMI was away: not among the live channels",
             cl->uniqueid);
        m->stats.gone++;
        caller_hangup(m, cl, m->now, true);
    }
}

/* One event of a channel list. Each list has its own ActionID, so a new
 * one starts a new round: a list cut short by another lost connection is
 * never completed and decides nothing. No other event comes between a
 * list's events: Asterisk writes the whole list from the action while
 * events wait in the session's queue. */
static void on_resync(AmiMapper *m, const char *event, const AmiMessage *msg)
{
    const char *id = ami_get(msg, "ActionID");
    if (!fits(id, sizeof(m->resync_id))) {
        m->stats.ignored++;
        return;
    }
    if (strcmp(id, m->resync_id) != 0) {
        copy(m->resync_id, sizeof(m->resync_id), id);
        m->resync_round++;
    }
    if (strcmp(event, "CoreShowChannel") == 0) {
        Caller *cl = caller_find(m, ami_get(msg, "Uniqueid"));
        if (cl)
            cl->listed = m->resync_round;
        return;
    }
    resync_complete(m);
    m->resync_id[0] = '\0';
}

/* The time of an event, which moves the stream clock. Without a
 * Timestamp (timestampevents = no) it is when the event was received;
 * but once the stream has shown Timestamps, an event without one takes
 * the stream time: FullyBooted after each login has none (action_login
 * writes it, not manager_event), and the wall clock would run the stream
 * clock ahead of the recorded times, differently live and from a file. */
static KicTime stream_time(AmiMapper *m, const char *event, const AmiMessage *msg,
                           KicTime received)
{
    KicTime ts;
    const char *stamp = ami_get(msg, "Timestamp");
    if (stamp && ami_time_parse(stamp, &ts)) {
        if (!m->stamped || ts > m->now)
            m->now = ts; /* the first Timestamp takes over from received times */
        m->stamped = true;
        return ts;
    }
    if (strcmp(event, "FullyBooted") != 0)
        m->stats.no_timestamp++;
    if (m->stamped)
        return m->now;
    if (m->now == KIC_TIME_NONE || received > m->now)
        m->now = received;
    return received;
}

void ami_map_feed(AmiMapper *m, const AmiMessage *msg, KicTime received)
{
    m->stats.messages++;
    const char *event = ami_get(msg, "Event");
    if (!event) {
        m->stats.ignored++; /* a Response */
        return;
    }
    if (resync_event(event, msg)) {
        /* built by the action, not by manager_event: no Timestamp, so no
         * say in the stream clock (and no "timestampevents = no" warning) */
        on_resync(m, event, msg);
        return;
    }
    KicTime ts = stream_time(m, event, msg, received);
    Handler handler = NULL;
    for (size_t i = 0; i < KIC_ARRAY_LEN(handlers); i++) {
        if (strcmp(handlers[i].event, event) == 0) {
            handler = handlers[i].handler;
            break;
        }
    }
    if (handler) {
        /* the event deciding a pending contact must be seen before its
         * grace runs out on the same event's time */
        handler(m, msg, ts);
    } else {
        m->stats.ignored++;
    }
    expire(m, m->now, false);
    if (++m->since_sweep >= 1000) {
        m->since_sweep = 0;
        forget_silent(m);
    }
}

void ami_map_idle(AmiMapper *m, KicTime idle_for)
{
    if (m->now != KIC_TIME_NONE)
        expire(m, m->now + idle_for, false);
}

void ami_map_flush(AmiMapper *m)
{
    expire(m, m->now, true);
}

const AmiMapStats *ami_map_stats(const AmiMapper *m)
{
    return &m->stats;
}
