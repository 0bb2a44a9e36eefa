/* Request dispatch: one table {method, roles, handler, flags}. A line is
 * parsed, checked against JSON-RPC and the session (login, role), and
 * handed to its handler with a Reply to finish. */
#ifndef DISPATCH_H
#define DISPATCH_H

#include "conn.h"

typedef struct Method Method;
typedef void (*MethodHandler)(Conn *c, Reply *r, json_t *params, const Method *m);

struct Method {
    const char *name;
    unsigned roles; /* ROLE_BIT()s that may call it; ROLE_ANON: before login */
    MethodHandler handler;
    /* Worthless without its answer (a token shown only there): sent as a
     * notification (no id), it is not carried out. */
    bool needs_answer;
    /* Answered by PostgreSQL's shared reader connection (reply_reads). */
    bool reads;
};

/* Handles one complete line (not empty). */
void dispatch_line(Conn *c, const char *line, size_t len);

/* Dispatches the next element of the batch in c->batch. */
void dispatch_batch_step(Conn *c);

#endif
