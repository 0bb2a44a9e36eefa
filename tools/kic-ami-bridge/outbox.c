/* The outbox is a ring indexed by seq: the entry with seq s sits at offset
 * s - head_seq from head, so an answer finds its entry in O(1). Done
 * entries stay until the head passes them, which is why the cap bounds
 * the span (oldest unanswered to newest) rather than the live count. */
#include "outbox.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

bool outbox_init(Outbox *o, size_t cap)
{
    memset(o, 0, sizeof(*o));
    if (cap == 0)
        cap = 1;
    o->ring = calloc(cap, sizeof(*o->ring));
    if (!o->ring)
        return false;
    o->cap = cap;
    o->head_seq = o->next_seq = 1;
    return true;
}

static OutboxEntry *at(const Outbox *o, size_t offset)
{
    return &o->ring[(o->head + offset) % o->cap];
}

void outbox_free(Outbox *o)
{
    for (size_t i = 0; i < o->count; i++)
        free(at(o, i)->line);
    free(o->ring);
    memset(o, 0, sizeof(*o));
}

bool outbox_has_room(const Outbox *o, size_t n)
{
    return o->count + n <= o->cap;
}

bool outbox_push(Outbox *o, json_t *event)
{
    if (!outbox_has_room(o, 1))
        return false;
    const char *method = json_string_value(json_object_get(event, "method"));
    json_t *params = json_object_get(event, "params");
    if (!method || !json_is_object(params))
        return false;
    json_t *req = json_pack("{s:s, s:I, s:s, s:O}", "jsonrpc", "2.0", "id",
                            (json_int_t)o->next_seq, "method", method, "params", params);
    char *line = req ? json_dumps(req, JSON_COMPACT) : NULL;
    json_decref(req);
    if (!line)
        return false;
    OutboxEntry *e = at(o, o->count);
    memset(e, 0, sizeof(*e));
    e->seq = o->next_seq++;
    e->line = line;
    e->line_len = strlen(line);
    const char *event_id = json_string_value(json_object_get(params, "event_id"));
    snprintf(e->event_id, sizeof(e->event_id), "%s", event_id ? event_id : "");
    snprintf(e->method, sizeof(e->method), "%s", method);
    e->state = OUTBOX_QUEUED;
    o->count++;
    o->live++;
    return true;
}

OutboxEntry *outbox_next(Outbox *o, KicTime now)
{
    bool advance = true;
    for (size_t i = o->cursor; i < o->count; i++) {
        OutboxEntry *e = at(o, i);
        if (e->state == OUTBOX_QUEUED) {
            if (e->not_before <= now)
                return e;
            advance = false; /* waiting for its retry: look here again */
        } else if (advance) {
            o->cursor = i + 1;
        }
    }
    return NULL;
}

void outbox_sent(Outbox *o, OutboxEntry *e)
{
    if (e->state != OUTBOX_QUEUED)
        return;
    e->state = OUTBOX_INFLIGHT;
    e->attempts++;
    o->inflight++;
}

OutboxEntry *outbox_find(Outbox *o, uint64_t seq)
{
    if (seq < o->head_seq || seq - o->head_seq >= o->count)
        return NULL;
    OutboxEntry *e = at(o, (size_t)(seq - o->head_seq));
    return e->seq == seq ? e : NULL;
}

/* Frees done entries at the head. */
static void trim(Outbox *o)
{
    while (o->count > 0 && at(o, 0)->state == OUTBOX_DONE) {
        OutboxEntry *e = at(o, 0);
        free(e->line);
        e->line = NULL;
        o->head = (o->head + 1) % o->cap;
        o->head_seq++;
        o->count--;
        if (o->cursor > 0)
            o->cursor--;
    }
}

bool outbox_answer(Outbox *o, uint64_t seq, OutboxOutcome outcome, KicTime retry_at)
{
    OutboxEntry *e = outbox_find(o, seq);
    if (!e || e->state != OUTBOX_INFLIGHT)
        return false;
    o->inflight--;
    switch (outcome) {
    case OUTBOX_ACCEPTED:
    case OUTBOX_REJECTED:
        if (outcome == OUTBOX_ACCEPTED)
            o->accepted++;
        else
            o->rejected++;
        e->state = OUTBOX_DONE;
        free(e->line);
        e->line = NULL;
        o->live--;
        trim(o);
        break;
    case OUTBOX_RETRY: {
        o->retried++;
        e->state = OUTBOX_QUEUED;
        e->not_before = retry_at;
        size_t offset = (size_t)(seq - o->head_seq);
        if (offset < o->cursor)
            o->cursor = offset;
        break;
    }
    }
    return true;
}

void outbox_requeue(Outbox *o)
{
    for (size_t i = 0; i < o->count; i++) {
        OutboxEntry *e = at(o, i);
        if (e->state == OUTBOX_INFLIGHT)
            e->state = OUTBOX_QUEUED;
    }
    o->inflight = 0;
    o->cursor = 0;
}

KicTime outbox_next_retry(const Outbox *o)
{
    KicTime best = KIC_TIME_NONE;
    for (size_t i = o->cursor; i < o->count; i++) {
        const OutboxEntry *e = at(o, i);
        if (e->state == OUTBOX_QUEUED && e->not_before > 0 &&
            (best == KIC_TIME_NONE || e->not_before < best))
            best = e->not_before;
    }
    return best;
}

char *outbox_line_for_log(const char *line)
{
    json_t *req = json_loads(line, 0, NULL);
    json_t *params = json_object_get(req, "params");
    static const char *const numbers[] = {"caller", "dialled"};
    for (size_t i = 0; i < KIC_ARRAY_LEN(numbers); i++)
        if (json_object_get(params, numbers[i]))
            json_object_set_new(params, numbers[i], json_string("(left out of the log)"));
    char *text = req ? json_dumps(req, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
    json_decref(req);
    return text;
}
