/* The SQL of report.query (report.c runs it): what each part of a report
 * reads, from the rollup or the calls table, for one parsed request. Each
 * returns an allocated statement text. */
#ifndef REPORT_SQL_H
#define REPORT_SQL_H

#include <stdbool.h>

#include "report_req.h"

/* The sums per bucket and grouping: from call_sums_15m (q->rollup) or
 * from the calls table. */
char *report_rollup_sql(const ReportReq *q);
char *report_calls_sql(const ReportReq *q);
/* Whether the request's grouping can carry callbacks, and their cohorts. */
bool report_callbacks_apply(const ReportReq *q);
char *report_callbacks_sql(const ReportReq *q);
/* Logged-in and break time for occupancy (by_agent: per agent). */
char *report_presence_sql(const ReportReq *q, bool by_agent);
/* Each bucket's start, offset and end between $1 and $2. */
char *report_lengths_sql(const ReportReq *q);

#endif
