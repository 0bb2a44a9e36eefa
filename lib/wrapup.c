/* Wrap-up records and the ACW rule. */
#include "wrapup.h"

#include <stdlib.h>
#include <string.h>

#define WRAPUP_ENUM_TEXT(name, text) text,
const char *const follow_up_names[] = {FOLLOW_UPS(WRAPUP_ENUM_TEXT) NULL};
const char *const caller_type_names[] = {CALLER_TYPES(WRAPUP_ENUM_TEXT) NULL};
#undef WRAPUP_ENUM_TEXT

Wrapup *wrapup_new(const char *agent, const char *category, KicTime at, bool resolved,
                   int follow_up, int caller_type)
{
    size_t na = strlen(agent) + 1, nc = strlen(category) + 1;
    Wrapup *w = malloc(sizeof(*w) + na + nc);
    if (!w)
        return NULL;
    char *pool = (char *)(w + 1);
    memcpy(pool, agent, na);
    memcpy(pool + na, category, nc);
    w->agent = pool;
    w->category = pool + na;
    w->at = at;
    w->resolved = resolved;
    w->follow_up = follow_up;
    w->caller_type = caller_type;
    return w;
}

void wrapup_free(Wrapup *w)
{
    free(w);
}

int64_t wrapup_acw_us(KicTime wrapped_at, KicTime part_end)
{
    return wrapped_at > part_end ? wrapped_at - part_end : 0;
}
