/* report.query's engine, shared by the JSON-RPC method and the HTTP API:
 * parse a request, run it on the reader connection, get the result as
 * JSON text ({columns, rows, ...}) or an error. */
#ifndef REPORT_H
#define REPORT_H

#include <jansson.h>

#include "jsonrpc.h"
#include "server.h"

struct AuditActor;
typedef struct ReportReq ReportReq;

/* text: the result object as JSON (or CSV when asked), len bytes, now
 * the callee's to free; or NULL with err. */
typedef void (*ReportDone)(void *arg, char *text, size_t len, const RpcError *err);

/* Fills q (an opaque ReportReq allocated by report_req_new). */
ReportReq *report_req_new(void);
void report_req_free(ReportReq *q);
bool report_parse(json_t *params, const Config *cfg, ReportReq *q, RpcError *err)
    KIC_MUST_CHECK;
/* False when storage is not reachable (done is then not called). csv:
 * the table as CSV (a header line, then the rows) instead. A report by
 * agent is staff members' figures: it is audit-logged as `who` asking,
 * in the same transaction. */
bool report_run(Server *s, const Session *sess, const struct AuditActor *who,
                const ReportReq *q, bool csv, ReportDone done, void *arg) KIC_MUST_CHECK;

/* INSERT of call_sums_15m from the calls table, as the writer keeps it
 * (every offered call in its UTC quarter hour and routing key), with the
 * service-level threshold $1 and short-abandon limit $2 in microseconds:
 * the same SQL the reports read the calls table with. */
char *report_rollup_rebuild_sql(void);

#endif
