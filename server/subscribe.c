/* Live-statistics subscriptions (see subscribe.h). Each subscriber has
 * one timer: while throttled it marks the end of the interval after a
 * send; otherwise it waits for the keepalive of an HTTP stream. */
#include "subscribe.h"

#include <event2/event.h>
#include <stdlib.h>
#include <string.h>

#include "centre.h"
#include "stats.h"

/* Time-driven changes (a callback falls overdue, the day rolls over)
 * have no version: a quiet subscriber gets a fresh snapshot this often. */
#define REFRESH_QUIET_US (60LL * KIC_USEC)

static const char *subscribe_snapshot_line(Server *s, Tenant *t, size_t *len)
{
    KicTime now = server_now();
    uint64_t version = centre_version(t->centre);
    /* one snapshot serves every subscriber of this loop turn */
    if (!t->snap_line || t->snap_version != version || now - t->snap_at > 20000) {
        json_t *snap = stats_snapshot_json(&s->cfg, t, NULL, now);
        char *line = snap ? json_dumps(snap, RPC_DUMP_FLAGS) : NULL;
        if (!line)
            abort();
        json_decref(snap);
        free(t->snap_line);
        t->snap_line = line;
        t->snap_len = strlen(line);
        t->snap_version = version;
        t->snap_at = now;
    }
    *len = t->snap_len;
    return t->snap_line;
}

static void arm(Subscriber *sub, KicTime after_us)
{
    struct timeval tv = {(time_t)(after_us / KIC_USEC), (suseconds_t)(after_us % KIC_USEC)};
    event_add(sub->timer, &tv);
}

/* A change, or the quiet refresh. A waiting caller's growing wait is not
 * a change: the snapshot says how long each queue's longest wait was at
 * its `at`, and clients add the time since (the wallboard, kicctl live).
 * Refreshing for it every interval would hold a real change (a new call,
 * an answer) back until the next interval whenever a call waits. */
static bool dirty(const Subscriber *sub, KicTime now)
{
    return centre_version(sub->tenant->centre) != sub->sent_version ||
           now - sub->last_sent >= REFRESH_QUIET_US;
}

static void send_now(Subscriber *sub)
{
    size_t len;
    const char *line = subscribe_snapshot_line(sub->srv, sub->tenant, &len);
    sub->sent_version = sub->tenant->snap_version;
    sub->last_sent = sub->last_write = server_now();
    sub->throttled = true;
    arm(sub, (KicTime)sub->interval_ms * 1000);
    sub->send(sub, line, len); /* may stop the subscriber */
}

/* Nothing to send: wake for the next keepalive or the quiet refresh. */
static void wait_quietly(Subscriber *sub, KicTime now)
{
    KicTime wake = sub->last_sent + REFRESH_QUIET_US;
    if (sub->idle) {
        KicTime due = sub->last_write + (KicTime)sub->keepalive_s * KIC_USEC;
        if (now >= due) {
            sub->last_write = now;
            sub->idle(sub); /* may stop the subscriber */
            if (!sub->active)
                return;
            due = now + (KicTime)sub->keepalive_s * KIC_USEC;
        }
        if (due < wake)
            wake = due;
    }
    arm(sub, wake > now ? wake - now : 0);
}

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    Subscriber *sub = arg;
    sub->throttled = false;
    if (!sub->active)
        return;
    KicTime now = server_now();
    if (dirty(sub, now))
        send_now(sub);
    else
        wait_quietly(sub, now);
}

static void list_add(Tenant *t, Subscriber *sub)
{
    for (size_t i = 0; i < t->nsubs; i++)
        if (t->subs[i] == sub)
            return;
    if (t->nsubs == t->cap_subs) {
        t->cap_subs = t->cap_subs ? t->cap_subs * 2 : 8;
        t->subs = realloc(t->subs, t->cap_subs * sizeof(*t->subs));
        if (!t->subs)
            abort();
    }
    t->subs[t->nsubs++] = sub;
}

static void list_remove(Tenant *t, Subscriber *sub)
{
    for (size_t i = 0; i < t->nsubs; i++) {
        if (t->subs[i] == sub) {
            t->subs[i] = t->subs[--t->nsubs];
            return;
        }
    }
}

void subscriber_start(Subscriber *sub)
{
    if (!sub->timer) {
        sub->timer = event_new(sub->srv->base, -1, 0, on_timer, sub);
        if (!sub->timer)
            abort();
    }
    event_del(sub->timer);
    sub->active = true;
    sub->throttled = false;
    sub->sent_version = UINT64_MAX; /* nothing sent yet: dirty */
    list_add(sub->tenant, sub);
    /* the first snapshot on the next loop turn, after the caller's reply */
    arm(sub, 0);
}

void subscriber_stop(Subscriber *sub)
{
    if (sub->timer) {
        event_free(sub->timer);
        sub->timer = NULL;
    }
    if (sub->active)
        list_remove(sub->tenant, sub);
    sub->active = false;
    sub->throttled = false;
}

void subscribers_changed(Server *s, Tenant *t)
{
    (void)s;
    if (t->nsubs == 0)
        return;
    /* a send may stop subscribers (and so edit the list): walk a copy */
    size_t n = t->nsubs;
    Subscriber **copy = malloc(n * sizeof(*copy));
    if (!copy)
        abort();
    memcpy(copy, t->subs, n * sizeof(*copy));
    for (size_t i = 0; i < n; i++) {
        Subscriber *sub = copy[i];
        bool still = false;
        for (size_t k = 0; k < t->nsubs && !still; k++)
            still = t->subs[k] == sub;
        if (still && sub->active && !sub->throttled &&
            centre_version(t->centre) != sub->sent_version) {
            event_del(sub->timer);
            send_now(sub);
        }
    }
    free(copy);
}
