/* Time as the domain sees it: microseconds since the Unix epoch (UTC),
 * the same resolution PostgreSQL's timestamptz keeps. Parsing and
 * formatting RFC 3339, and local-calendar arithmetic in the process time
 * zone (the server sets TZ from its config; tests set it themselves). */
#ifndef KICTIME_H
#define KICTIME_H

#include "kic.h"

typedef int64_t KicTime;

#define KIC_USEC 1000000LL
#define KIC_TIME_NONE INT64_MIN

/* Parses "YYYY-MM-DDTHH:MM:SS[.frac](Z|+HH:MM|-HH:MM)"; a zone is required.
 * Fractions beyond microseconds are truncated. Years from 1970, instants
 * before 9999-12-30T00:00:00Z (so every zone prints a four-digit year). */
bool time_parse_rfc3339(const char *s, KicTime *out) KIC_MUST_CHECK;

/* Formats t in the process time zone with milliseconds and the local
 * offset, e.g. "2026-11-22T10:15:00.000+01:00". buf needs 30 bytes. */
void time_format_local(KicTime t, char *buf, size_t size);

/* Same, in UTC with a "Z" suffix. */
void time_format_utc(KicTime t, char *buf, size_t size);

/* UTC with all six fraction digits, for storage ("...T08:15:02.120000Z"). */
void time_format_db(KicTime t, char *buf, size_t size);

/* Whole seconds since the epoch as the wall clock of a zone `offset_s`
 * east of UTC shows them, e.g. "2026-03-29T03:00:00+02:00" (PostgreSQL's
 * own text for a timestamptz in that zone, no fraction): reports print
 * thousands of bucket starts with the offsets PostgreSQL gave. Years
 * 0-9999. buf needs 26 bytes. */
void time_format_at_offset(int64_t epoch_s, int offset_s, char *buf, size_t size);

/* Start (local midnight) of the local calendar day containing t. */
KicTime time_local_day_start(KicTime t);
/* Start of the local calendar day after the one containing t: the next
 * midnight, also where a day is 23 or 25 hours long or starts at 01:00
 * (a zone that skips midnight). */
KicTime time_local_next_day_start(KicTime t);

/* t moved by whole local calendar days, keeping the wall-clock time, so a
 * week across a DST change is 167 or 169 hours. As PostgreSQL does: an
 * ambiguous wall time (DST ends) takes the later instant, one in the
 * spring gap the offset from before the gap. */
KicTime time_add_local_days(KicTime t, int days);

/* Remembers, for one `days`, the local day of the last instant asked about
 * and how far the answer lies from it, so that time_add_local_days() costs
 * two comparisons for the next instant of the same day instead of half a
 * dozen localtime_r/mktime calls. Zero-initialised (or reset) it is empty.
 * It is valid for one time zone: reset it after changing TZ. */
typedef struct LocalDaysMemo {
    KicTime lo, hi; /* the remembered local day [lo, hi); empty when hi <= lo */
    KicTime shift;  /* answer - t for every t in [lo, hi), when fast */
    int days;
    bool fast; /* false: a DST change is near, ask the exact function */
} LocalDaysMemo;

void time_local_days_memo_reset(LocalDaysMemo *m);

/* Exactly time_add_local_days(t, days), remembered in m. */
KicTime time_add_local_days_memo(LocalDaysMemo *m, KicTime t, int days);

/* Seconds between two instants as a double (b - a). */
double time_diff_s(KicTime a, KicTime b);

/* Whether tz names a zone of the system's zoneinfo (Europe/Amsterdam,
 * UTC). glibc and PostgreSQL also take POSIX strings ("+05:00", "UTC+5"),
 * with the sign the other way round from what a reader expects: those
 * are no zone names, and are refused, as are localtime (the host's
 * zone), posixrules, Factory, posix/ and right/ names and the tables
 * beside the zones (zone.tab). */
bool time_zone_exists(const char *tz);

#endif
