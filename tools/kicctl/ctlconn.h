/* kicctl's JSON-RPC client: one blocking TCP connection to kicd (TLS
 * 1.2+ when asked, the server's certificate and name verified), lines in
 * and out through the protocol's framer, login, a call that waits for its
 * answer while handing notifications to the caller, and the one-line
 * message (and exit status) for an error answer. Shared by
 * import-queue-log, live and report; a command-line tool may block. */
#ifndef CTLCONN_H
#define CTLCONN_H

#include <jansson.h>
#include <openssl/ssl.h>
#include <signal.h>

#include "framer.h"
#include "kic.h"

/* How to reach kicd: TLS or not, and whom to trust. */
typedef struct CtlTls {
    bool on;
    const char *ca_file; /* PEM file of the CA(s) to trust; NULL: the system's */
} CtlTls;

typedef struct CtlConn {
    int fd;            /* -1 when closed */
    SSL_CTX *ssl_ctx;  /* TLS: both set; else NULL */
    SSL *ssl;
    Framer framer;
    size_t max_line;   /* the framer grows to this for big answers */
    long long next_id; /* ids of ctlconn_call's requests */
    /* A flag a signal handler sets to stop the program: a call waiting for
     * its answer gives up when a signal arrives with it set, and goes on
     * waiting after other signals (a resized terminal). NULL: none. */
    volatile sig_atomic_t *stop;
    /* NULL: waits use poll. Else they use ppoll with this signal mask, so
     * that signals the program blocks elsewhere arrive only while it
     * waits, and none slips in between a check of its flag and the wait. */
    const sigset_t *wait_mask;
} CtlConn;

/* What ctlconn_read_line found. */
typedef enum {
    CTLCONN_LINE = 1,
    CTLCONN_TIMEOUT = 0,
    CTLCONN_CLOSED = -1,      /* the peer closed, or a read failed */
    CTLCONN_INTERRUPTED = -2, /* a signal arrived while waiting */
} CtlReadResult;

/* A notification (no id) that arrived while waiting for an answer;
 * msg is borrowed. */
typedef void (*CtlNoteFn)(void *arg, json_t *msg);

/* Connects to HOST:PORT ([v6]:PORT too), over TLS when tls->on (the
 * certificate must name HOST). Prints why and returns false on failure.
 * max_line: the longest answer accepted. */
bool ctlconn_open(CtlConn *c, const char *server, const CtlTls *tls,
                  size_t max_line) KIC_MUST_CHECK;
void ctlconn_close(CtlConn *c);
/* Whether server is HOST:PORT with a port of 1-65535: checked with the
 * options, so a bad one is a usage error (exit 2). */
bool ctlconn_server_ok(const char *server) KIC_MUST_CHECK;

/* Sends one line; the newline is added. */
bool ctlconn_send_line(CtlConn *c, const char *line) KIC_MUST_CHECK;
/* Sends a request {"jsonrpc":"2.0","id":id,"method":..,"params":..};
 * params is borrowed and may be NULL. */
bool ctlconn_send_request(CtlConn *c, long long id, const char *method,
                          json_t *params) KIC_MUST_CHECK;

/* The next line, waiting up to timeout_ms (-1: no limit). The line stays
 * valid until the next read. */
CtlReadResult ctlconn_read_line(CtlConn *c, int timeout_ms, char **line, size_t *len);

/* Sends a request and waits for its answer (the whole response object,
 * new reference), handing notifications that arrive meanwhile to on_note
 * (may be NULL). NULL when the connection closed, nothing came within
 * timeout_ms, or *c->stop was set; *why says which. */
json_t *ctlconn_call(CtlConn *c, const char *method, json_t *params, int timeout_ms,
                     CtlNoteFn on_note, void *arg, CtlReadResult *why);

/* auth.login: the response (new reference), or NULL with the reason
 * printed when kicd did not answer. */
json_t *ctlconn_login(CtlConn *c, const char *token, const char *server);

/* The exit status for an error answer: 2 for invalid params (-32602),
 * else 1. Prints one line: "kicctl: <what>: <message> (field <f>: <reason>)",
 * with a hint for a bad token or a role that may not do this. */
int ctlconn_print_error(const char *what, json_t *error);

#endif
