/* kic-ami-bridge: the shared state of one bridge process. One libevent
 * loop, one thread: the AMI connection (amiconn.c) feeds the mapper, the
 * mapper fills the outbox, the kicd connection (kicconn.c) drains it.
 * Backpressure runs the other way: a full outbox pauses AMI reading. */
#ifndef BRIDGE_H
#define BRIDGE_H

#include <event2/event.h>
#include <openssl/ssl.h>

#include "amimap.h"
#include "backoff.h"
#include "framer.h"
#include "outbox.h"
#include "queuelog.h"

typedef struct Bridge Bridge;

typedef struct Endpoint {
    char host[256];
    int port;
} Endpoint;

typedef struct BridgeConfig {
    Endpoint ami, kicd;
    const char *ami_user, *ami_secret, *token;
    size_t max_unacked;       /* outbox cap */
    size_t max_inflight;      /* pipelined requests at once */
    KicTime ping_interval;    /* kicd heartbeat when idle */
    KicTime ami_ping_interval; /* AMI keep-alive when silent; 0 = off */
    KicTime connect_timeout;
    KicTime drain_timeout;    /* SIGTERM: how long to wait for kicd's answers */
    bool to_stdout;           /* print events instead of sending them */
    SSL_CTX *tls;             /* TLS to kicd with whom it trusts; NULL: plain TCP */
} BridgeConfig;

/* ---- the AMI side ---- */

typedef enum { AMI_DOWN, AMI_CONNECTING, AMI_LOGGING_IN, AMI_UP } AmiConnState;

typedef struct AmiConn {
    Bridge *br;
    struct bufferevent *bev;
    struct event *ev_timer; /* reconnect back-off, connect and login timeouts, keep-alive */
    AmiParser parser;
    AmiConnState state;
    Backoff backoff;
    bool paused;    /* backpressure: not reading */
    bool stopped;   /* draining: no reconnects */
    KicTime last_rx; /* wall clock */
    KicTime ping_sent;
    unsigned long long pings;
    unsigned long long resyncs; /* CoreShowChannels asked for after a reconnect */
    size_t connects;
    size_t logins;
    size_t gone_before; /* the mapper's `gone` when the last resync was asked for */
} AmiConn;

bool amiconn_init(AmiConn *a, Bridge *br) KIC_MUST_CHECK;
void amiconn_free(AmiConn *a);
void amiconn_start(AmiConn *a);
/* Closes for good (draining). */
void amiconn_stop(AmiConn *a);
/* The outbox has room again: go on with buffered messages, then read. */
void amiconn_resume(AmiConn *a);
/* Once a second: keep-alive and dead-peer checks. */
void amiconn_tick(AmiConn *a, KicTime now);

/* ---- the kicd side ---- */

typedef enum { KIC_DOWN, KIC_CONNECTING, KIC_LOGGING_IN, KIC_UP } KicConnState;

typedef struct KicConn {
    Bridge *br;
    struct bufferevent *bev;
    struct event *ev_timer; /* reconnect back-off, connect and login timeouts */
    Framer framer;
    KicConnState state;
    Backoff backoff;
    KicTime last_tx, last_rx; /* wall clock */
    unsigned long long pings;
    bool stopped;
} KicConn;

bool kicconn_init(KicConn *k, Bridge *br) KIC_MUST_CHECK;
void kicconn_free(KicConn *k);
void kicconn_start(KicConn *k);
void kicconn_stop(KicConn *k);
/* Sends whatever the outbox has due, up to the in-flight window. */
void kicconn_flush(KicConn *k);
/* Once a second: heartbeat, retries that came due, dead-peer checks. */
void kicconn_tick(KicConn *k, KicTime now);

/* ---- the bridge ---- */

struct Bridge {
    BridgeConfig cfg;
    struct event_base *base;
    struct evdns_base *dns;
    QueueLogRules rules;
    AmiMapConfig mapcfg;
    AmiMapper *mapper;
    Outbox outbox;
    AmiConn ami;
    KicConn kic;
    KicTime last_ami_event; /* wall clock of the last AMI message fed to the mapper */
    bool warned_no_timestamp; /* the log said once that AMI events lack Timestamp */
    bool draining;
    KicTime drain_deadline;
    size_t dropped; /* events lost because the outbox was full (only while draining) */
};

/* The wall clock, the only clock the bridge reads. */
KicTime bridge_now(void);

/* Free slots the outbox keeps for the events one AMI message may make. */
#define BRIDGE_OUTBOX_SLACK 64

/* The outbox changed (answers came in): resume AMI, finish a drain. */
void bridge_outbox_changed(Bridge *br);

#endif
