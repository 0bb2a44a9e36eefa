/* The report's intervals on a calendar, for charts that show intervals
 * without contacts as zeros (report.query leaves them out). Buckets are
 * kicd's: 15m, 30m and 1h counted from local midnight of Monday
 * 2000-01-03 (PostgreSQL date_bin), 1d, 1w (Monday) and 1mo starting at
 * local midnight. Local means the process time zone (TZ): set it to the
 * report's zone first. */
#ifndef BUCKETS_H
#define BUCKETS_H

#include "kictime.h"

#define REPORT_INTERVALS(X)                                                                \
    X(IV_15M, "15m") X(IV_30M, "30m") X(IV_1H, "1h") X(IV_1D, "1d") X(IV_1W, "1w")         \
    X(IV_1MO, "1mo") X(IV_ALL, "all")

#define REPORT_INTERVAL_ITEM(name, text) name,
typedef enum { REPORT_INTERVALS(REPORT_INTERVAL_ITEM) IV_COUNT } ReportInterval;
#undef REPORT_INTERVAL_ITEM

/* "15m" .. "all"; false for anything else. */
bool interval_parse(const char *s, ReportInterval *out) KIC_MUST_CHECK;
const char *interval_name(ReportInterval iv);

/* Local midnight starting a calendar date (month 1-12); where midnight
 * does not exist that day, the day's first instant. */
KicTime calendar_midnight(int year, int month, int mday);

/* The start of the bucket that holds t (not for IV_ALL). */
KicTime bucket_floor(KicTime t, ReportInterval iv);
/* The start of the bucket after the one starting at b. */
KicTime bucket_next(KicTime b, ReportInterval iv);

/* The starts of the buckets that overlap [from, to), in order, into out
 * (room for max). False when there are more than max (or to <= from). */
bool buckets_between(KicTime from, KicTime to, ReportInterval iv, KicTime *out, size_t max,
                     size_t *n) KIC_MUST_CHECK;

#endif
