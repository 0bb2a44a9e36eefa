/* Live-statistics subscriptions: a JSON-RPC connection (stats.subscribe)
 * or an HTTP event stream receives the tenant's snapshot when something
 * changed, at most once per its interval, and at once when it has been
 * quiet for that long (an acknowledged event is pushed as soon as it is
 * committed). While calls wait, the snapshot changes by itself (the
 * longest wait grows): it is then sent every interval.
 *
 * The owner embeds a Subscriber and gives it a send function; a send
 * may end the owner (an output cap exceeded), so senders are told via
 * subscriber_stop, which is safe to call from inside send. */
#ifndef SUBSCRIBE_H
#define SUBSCRIBE_H

#include "server.h"
#include "tenants.h"

typedef struct Subscriber Subscriber;

/* json: the snapshot as one line of JSON text (no newline). */
typedef void (*SubscriberSend)(Subscriber *sub, const char *json, size_t len);
/* Called when nothing was sent for keepalive_s (HTTP streams). */
typedef void (*SubscriberIdle)(Subscriber *sub);

struct Subscriber {
    Server *srv;
    Tenant *tenant;
    int interval_ms;
    SubscriberSend send;
    SubscriberIdle idle; /* NULL: none */
    int keepalive_s;
    void *owner;
    /* state */
    bool active;
    bool throttled;      /* sent less than an interval ago: the timer decides */
    uint64_t sent_version;
    KicTime last_sent;  /* the latest snapshot */
    KicTime last_write; /* the latest snapshot or keepalive */
    struct event *timer;
};

/* Starts (or restarts with a new interval); the first snapshot follows
 * on the next loop turn. Fields srv, tenant, interval_ms, send, idle, keepalive_s and
 * owner are set by the caller first. */
void subscriber_start(Subscriber *sub);
void subscriber_stop(Subscriber *sub);

/* The tenant's state changed (a batch committed): subscribers that are
 * not throttled get the snapshot now. */
void subscribers_changed(Server *s, Tenant *t);

#endif
