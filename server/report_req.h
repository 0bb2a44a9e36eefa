/* report.query's request as parsed (report.c) and turned into SQL
 * (report_sql.c): private to the two. */
#ifndef REPORT_REQ_H
#define REPORT_REQ_H

#include <stdbool.h>

#include "kictime.h"
#include "report.h"

/* interval: the names a request gives, and each one's step in SQL */
extern const char *const report_intervals[];
extern const char *const report_steps[];
enum { I_15M, I_30M, I_1H, I_1D, I_1W, I_1MO, I_ALL };

/* group_by: the dimensions a report groups by */
extern const char *const report_dim_names[];
enum { D_QUEUE, D_LOCATION, D_AGENT, D_CATEGORY, D_CALLER_TYPE, D_CHANNEL, D_DIRECTION, D_TEAM };

#define REPORT_MAX_AGENTS 1000

struct ReportReq {
    KicTime from, to;
    int interval;
    int ngroup;
    int group[8];
    char tz[72];
    bool rollup;
};

#endif
