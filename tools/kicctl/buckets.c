/* Report intervals on the local calendar (see buckets.h). */
#include "buckets.h"

#include <string.h>
#include <time.h>

#define REPORT_INTERVAL_NAME(name, text) text,
static const char *const interval_names[] = {REPORT_INTERVALS(REPORT_INTERVAL_NAME)};
#undef REPORT_INTERVAL_NAME

bool interval_parse(const char *s, ReportInterval *out)
{
    for (int i = 0; i < IV_COUNT; i++)
        if (strcmp(s, interval_names[i]) == 0) {
            *out = (ReportInterval)i;
            return true;
        }
    return false;
}

const char *interval_name(ReportInterval iv)
{
    return iv >= 0 && iv < IV_COUNT ? interval_names[iv] : "?";
}

/* Local midnight of a calendar date (the earlier instant when ambiguous). */
static KicTime local_midnight(int year, int month0, int mday)
{
    struct tm tm = {.tm_year = year - 1900, .tm_mon = month0, .tm_mday = mday, .tm_isdst = -1};
    time_t t = mktime(&tm);
    return time_local_day_start((KicTime)t * KIC_USEC + 12 * 3600 * KIC_USEC);
}

KicTime calendar_midnight(int year, int month, int mday)
{
    return local_midnight(year, month - 1, mday);
}

static struct tm local_tm(KicTime t)
{
    time_t s = (time_t)(t / KIC_USEC);
    if (t % KIC_USEC < 0)
        s--;
    struct tm tm;
    localtime_r(&s, &tm);
    return tm;
}

static KicTime fixed_step(ReportInterval iv)
{
    switch (iv) {
    case IV_15M: return 15 * 60 * KIC_USEC;
    case IV_30M: return 30 * 60 * KIC_USEC;
    default: return 3600 * KIC_USEC;
    }
}

KicTime bucket_floor(KicTime t, ReportInterval iv)
{
    switch (iv) {
    case IV_15M:
    case IV_30M:
    case IV_1H: {
        KicTime origin = local_midnight(2000, 0, 3), step = fixed_step(iv);
        KicTime k = (t - origin) / step;
        if ((t - origin) % step < 0)
            k--;
        return origin + k * step;
    }
    case IV_1D: return time_local_day_start(t);
    case IV_1W: {
        KicTime day = time_local_day_start(t);
        struct tm tm = local_tm(day);
        return time_add_local_days(day, -((tm.tm_wday + 6) % 7));
    }
    case IV_1MO: {
        struct tm tm = local_tm(t);
        return local_midnight(tm.tm_year + 1900, tm.tm_mon, 1);
    }
    default: return t;
    }
}

KicTime bucket_next(KicTime b, ReportInterval iv)
{
    switch (iv) {
    case IV_15M:
    case IV_30M:
    case IV_1H: return b + fixed_step(iv);
    case IV_1D: return time_local_day_start(time_add_local_days(b, 1) + 12 * 3600 * KIC_USEC);
    case IV_1W: return time_local_day_start(time_add_local_days(b, 7) + 12 * 3600 * KIC_USEC);
    case IV_1MO: {
        struct tm tm = local_tm(b + 12 * 3600 * KIC_USEC);
        return local_midnight(tm.tm_year + 1900 + (tm.tm_mon == 11), (tm.tm_mon + 1) % 12, 1);
    }
    default: return b;
    }
}

bool buckets_between(KicTime from, KicTime to, ReportInterval iv, KicTime *out, size_t max,
                     size_t *n)
{
    *n = 0;
    if (iv == IV_ALL || to <= from)
        return false;
    for (KicTime b = bucket_floor(from, iv); b < to; b = bucket_next(b, iv)) {
        if (*n == max)
            return false;
        out[(*n)++] = b;
    }
    return true;
}
