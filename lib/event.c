/* Event names, allocation (struct and strings in one block) and order. */
#include "event.h"

#include <stdlib.h>
#include <string.h>

#define KIC_ENUM_TEXT(name, text) text,
const char *const event_type_names[] = {EVENT_TYPES(KIC_ENUM_TEXT) NULL};
const char *const channel_names[] = {CHANNELS(KIC_ENUM_TEXT) NULL};
const char *const direction_names[] = {DIRECTIONS(KIC_ENUM_TEXT) NULL};
const char *const target_kind_names[] = {TARGET_KINDS(KIC_ENUM_TEXT) NULL};
const char *const transfer_mode_names[] = {TRANSFER_MODES(KIC_ENUM_TEXT) NULL};
static const char *const ended_by_all[] = {ENDED_BY(KIC_ENUM_TEXT) NULL};
#undef KIC_ENUM_TEXT
const char *const ended_by_names[] = {"caller", "agent", "system", NULL};

const char *ended_by_name(EndedBy by)
{
    return by < ENDED_BY_COUNT ? ended_by_all[by] : "unknown";
}

int event_type_from_method(const char *method)
{
    for (int i = 0; i < EVENT_TYPE_COUNT; i++)
        if (strcmp(method, event_type_names[i]) == 0)
            return i;
    return -1;
}

static size_t text_size(const char *s)
{
    return s ? strlen(s) + 1 : 0;
}

static const char *place(char **pool, const char *s)
{
    if (!s)
        return NULL;
    size_t n = strlen(s) + 1;
    memcpy(*pool, s, n);
    const char *out = *pool;
    *pool += n;
    return out;
}

Event *event_create(const Event *fields, const EventText *t)
{
    const char *call_id = t->call_id ? t->call_id : "";
    size_t size = sizeof(Event) + text_size(t->event_id) + text_size(call_id) +
                  text_size(t->queue) + text_size(t->location) + text_size(t->transferred_from) +
                  text_size(t->callback_id) + text_size(t->agent) + text_size(t->target) +
                  text_size(t->caller_key);
    Event *ev = malloc(size);
    if (!ev)
        return NULL;
    *ev = *fields;
    char *pool = (char *)(ev + 1);
    ev->event_id = place(&pool, t->event_id);
    ev->call_id = place(&pool, call_id);
    ev->queue = place(&pool, t->queue);
    ev->location = place(&pool, t->location);
    ev->transferred_from = place(&pool, t->transferred_from);
    ev->callback_id = place(&pool, t->callback_id);
    ev->agent = place(&pool, t->agent);
    ev->target = place(&pool, t->target);
    ev->caller_key = place(&pool, t->caller_key);
    return ev;
}

void event_destroy(Event *ev)
{
    free(ev);
}

int event_compare(const Event *a, const Event *b)
{
    if (a->at != b->at)
        return a->at < b->at ? -1 : 1;
    if (a->type != b->type)
        return a->type < b->type ? -1 : 1;
    return strcmp(a->event_id, b->event_id);
}
