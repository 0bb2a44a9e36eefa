/* The live snapshot (stats.live, stats.update) as a compact text screen:
 * one row per queue and a total, with waiting calls, agents by state,
 * today's counts, service level against its target, ASA, AHT, ACW,
 * transfer rate, handled independently, FCR and callbacks. Pure: the
 * snapshot in, lines out; the caller puts them on the terminal. */
#ifndef LIVEFMT_H
#define LIVEFMT_H

#include <jansson.h>

#include "strbuf.h"

typedef struct LiveView {
    json_t *snapshot; /* borrowed: a stats.live result */
    json_t *queues;   /* borrowed: names to show (array of strings), NULL: all */
    bool color;       /* ANSI colours for the service level */
    size_t width;     /* columns that fit on a line (0: no limit) */
    const char *status; /* a last line (how it refreshes), or NULL */
} LiveView;

/* The total's row label; no queue is called that (parentheses). */
#define LIVE_TOTAL_LABEL "(total)"

/* Appends the screen, lines ending in '\n'. */
void live_render(StrBuf *out, const LiveView *v);

/* The snapshot as it stands `seconds` after it was taken (a new
 * reference): kicd pushes changes, not the clock, so the longest wait of
 * the total and of each queue with calls waiting grows by `seconds`. */
json_t *live_aged(json_t *snapshot, double seconds);

/* Whether the snapshot has calls waiting (its waits grow). */
bool live_has_waiting(json_t *snapshot);

#endif
