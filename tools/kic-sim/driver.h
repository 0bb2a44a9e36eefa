/* kic-sim, the program: one libevent loop, one thread. The driver pulls
 * actions from the simulation (paced by the wall clock in live mode, as
 * fast as kicd answers in bulk mode) and hands each to its connection:
 * the bridge's, or the agent's own. A connection (simconn.c) logs in and
 * pipelines its requests; the driver decides when a request may go (its
 * `after` and `callback_ref` are satisfied) and what an answer means. */
#ifndef SIM_DRIVER_H
#define SIM_DRIVER_H

#include <event2/event.h>
#include <jansson.h>
#include <openssl/ssl.h>

#include "framer.h"
#include "sim.h"
#include "strmap.h"

typedef struct Driver Driver;

/* One action on its way to kicd. */
typedef struct Request {
    SimAction a;
    char key[24];         /* a.seq in decimal: the key among the agents' unanswered requests */
    long id;              /* JSON-RPC id while in flight */
    unsigned attempts;
    KicTime not_before;   /* wall clock: a retry waits until then */
    struct Request *next;
} Request;

typedef struct ReqList {
    Request *head, *tail;
    size_t n;
} ReqList;

typedef enum { SC_DOWN, SC_CONNECTING, SC_LOGGING_IN, SC_UP, SC_DEAD } SimConnState;

typedef struct SimConn {
    Driver *d;
    int index;            /* 0: the bridge; 1 + i: agent i */
    const char *name;     /* "bridge" or the agent's id */
    const char *token;    /* NULL: no token, its actions are skipped */
    struct bufferevent *bev;
    struct event *timer;  /* reconnect back-off, connect and login timeouts, retries */
    Framer framer;
    SimConnState state;
    ReqList pending;      /* not sent yet, by seq */
    ReqList inflight;     /* sent, in send order (kicd answers in order) */
    long next_id;
    KicTime backoff;
    KicTime last_rx, last_tx;
    unsigned long long pings;
} SimConn;

bool simconn_init(SimConn *c, Driver *d, int index, const char *name, const char *token) KIC_MUST_CHECK;
void simconn_free(SimConn *c);
void simconn_start(SimConn *c);
/* Sends what may go now, up to the in-flight window. */
void simconn_flush(SimConn *c);
/* Once a second: heartbeat when idle, dead-peer check, retries due. */
void simconn_tick(SimConn *c, KicTime now);
/* Adds a request to the pending list in seq order. */
void reqlist_insert_sorted(ReqList *l, Request *r);
Request *reqlist_pop(ReqList *l);

/* ---- the driver ---- */

typedef struct DriverConfig {
    char host[256];
    int port;
    SSL_CTX *tls;                    /* TLS to kicd with whom it trusts; NULL: plain TCP */
    const char *bridge_token;
    const char *const *agent_tokens; /* per agent; NULL entries: none */
    bool bulk;
    size_t max_inflight;             /* per connection */
    KicTime connect_timeout;
    KicTime ping_interval;
    bool progress;                   /* a progress bar on stderr */
    const char *summary_path;        /* JSON summary written here at the end */
    const char *id_prefix;           /* for the summary */
    uint64_t seed;
    KicTime model_start, model_end;  /* for the progress bar and the summary */
    KicTime stamp_origin;            /* live: the wall clock of model_start */
    double speed;                    /* live: model seconds per wall-clock second */
} DriverConfig;

typedef struct MethodCounts {
    unsigned long long sent, ok, duplicate, conflict, error, retried, skipped;
} MethodCounts;

typedef struct CallbackId {
    char key[24];  /* the seq of its callback.create, in decimal */
    char *id;      /* kicd's callback_id; NULL: the create failed */
} CallbackId;

struct Driver {
    DriverConfig cfg;
    Sim *sim;
    struct event_base *base;
    struct evdns_base *dns;
    SimConn *conns;
    int nconns;
    struct event *ev_pump, *ev_tick, *ev_sigint, *ev_sigterm;

    SimAction held;      /* live: the next action, not due yet */
    bool have_held;
    bool sim_done;       /* sim_next returned false */
    bool stopping;       /* a signal came: no more generating */
    KicTime drain_deadline;
    bool interrupted;
    bool fatal;          /* the bridge cannot log in */
    size_t in_memory;    /* requests pending or in flight, all connections */

    StrMap callback_ids; /* seq of a callback.create -> CallbackId */
    StrMap agent_unanswered; /* seq -> Request: agents' requests not answered yet */
    bool bridge_unsorted; /* a retry was re-sent: the bridge's in-flight list is not in seq order */
    bool disabled[SM_COUNT];
    MethodCounts counts[SM_COUNT];
    unsigned long long answered_total;
    KicTime started, finished;
    KicTime last_progress;
    bool no_agent_tokens_warned;
};

/* The wall clock, the only clock the program reads. */
KicTime driver_now(void);

/* Whether the request may be sent now (its dependencies are answered);
 * sets *skip when it never can be (a method kicd does not know, a
 * callback whose creation failed). */
bool driver_ready(Driver *d, const Request *r, bool *skip);
/* The line to send for a request, with its id (new; caller frees). */
char *driver_request_line(Driver *d, const Request *r, long id);
/* kicd answered r (msg is the whole response); the driver books it and
 * either frees r or gives it back to be retried (returns true then). */
bool driver_answer(Driver *d, SimConn *c, Request *r, json_t *msg);
/* A request was dropped without an answer (skipped). Frees it. */
void driver_skip(Driver *d, Request *r, const char *why);
/* Something changed (answers, a connection came up): send and pull more. */
void driver_kick(Driver *d);
/* A connection gave up for good (its token was refused). */
void driver_conn_dead(Driver *d, SimConn *c);

bool driver_run(Driver *d) KIC_MUST_CHECK;

#endif
