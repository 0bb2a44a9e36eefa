/* RFC 3339 parsing and formatting, and local-calendar arithmetic.
 * Civil-date conversion is done by hand (days_from_civil) so that parsing
 * depends on nothing but the text; local time uses the C library and the
 * process time zone, as PostgreSQL's session TimeZone does on its side,
 * and whether a zone exists, from the zoneinfo files behind it. */
#include "kictime.h"

#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

/* Days since 1970-01-01 of a proleptic Gregorian date (Hinnant's method). */
static int64_t days_from_civil(int64_t y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

/* The proleptic Gregorian date of a day count since 1970-01-01, the
 * inverse of days_from_civil (also Hinnant's). */
static void civil_from_days(int64_t z, int64_t *y, int *m, int *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;                                   /* [0, 146096] */
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365; /* [0, 399] */
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);             /* [0, 365] */
    int64_t mp = (5 * doy + 2) / 153;                                  /* [0, 11], from March */
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = yoe + era * 400 + (*m <= 2);
}

static bool is_leap(int y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int days_in_month(int y, int m)
{
    static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return m == 2 && is_leap(y) ? 29 : days[m - 1];
}

/* Reads exactly n digits at *p, advancing it. */
static bool read_digits(const char **p, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        char c = (*p)[i];
        if (c < '0' || c > '9')
            return false;
        v = v * 10 + (c - '0');
    }
    *p += n;
    *out = v;
    return true;
}

static bool expect(const char **p, char c)
{
    if (**p != c)
        return false;
    (*p)++;
    return true;
}

static bool parse_fraction(const char **p, int *usec)
{
    int v = 0, digits = 0;
    if (**p < '0' || **p > '9')
        return false;
    while (**p >= '0' && **p <= '9') {
        if (digits < 6) {
            v = v * 10 + (**p - '0');
            digits++;
        }
        (*p)++;
    }
    while (digits++ < 6)
        v *= 10;
    *usec = v;
    return true;
}

static bool parse_offset(const char **p, int *offset_s)
{
    char sign = **p;
    int oh, om;
    if (sign == 'Z' || sign == 'z') {
        (*p)++;
        *offset_s = 0;
        return true;
    }
    if (sign != '+' && sign != '-')
        return false;
    (*p)++;
    if (!read_digits(p, 2, &oh) || !expect(p, ':') || !read_digits(p, 2, &om))
        return false;
    if (oh > 23 || om > 59)
        return false;
    *offset_s = (oh * 3600 + om * 60) * (sign == '-' ? -1 : 1);
    return true;
}

bool time_parse_rfc3339(const char *s, KicTime *out)
{
    const char *p = s;
    int y, mo, d, h, mi, sec, usec = 0, offset_s;
    if (!read_digits(&p, 4, &y) || !expect(&p, '-') || !read_digits(&p, 2, &mo) ||
        !expect(&p, '-') || !read_digits(&p, 2, &d))
        return false;
    if (*p != 'T' && *p != 't' && *p != ' ')
        return false;
    p++;
    if (!read_digits(&p, 2, &h) || !expect(&p, ':') || !read_digits(&p, 2, &mi) ||
        !expect(&p, ':') || !read_digits(&p, 2, &sec))
        return false;
    if (*p == '.' && (p++, !parse_fraction(&p, &usec)))
        return false;
    if (!parse_offset(&p, &offset_s) || *p != '\0')
        return false;
    /* Leap seconds (sec 60) are refused: no PBX reports them, and accepting
     * them would make two texts mean the same instant. */
    if (y < 1970 || mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo) || h > 23 ||
        mi > 59 || sec > 59)
        return false;
    int64_t secs = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec - offset_s;
    /* An instant written with a four-digit year in one zone must be
     * written so in every zone kicd may print it in (offsets under a
     * day): nothing from 9999-12-30 UTC on. */
    if (secs >= days_from_civil(9999, 12, 30) * 86400)
        return false;
    *out = secs * KIC_USEC + usec;
    return true;
}

static int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

static void format_tm(const struct tm *tm, int ms, long gmtoff, bool utc, char *buf,
                      size_t size)
{
    if (utc) {
        snprintf(buf, size, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm->tm_year + 1900,
                 tm->tm_mon + 1, tm->tm_mday, tm->tm_hour, tm->tm_min, tm->tm_sec, ms);
        return;
    }
    long off = gmtoff < 0 ? -gmtoff : gmtoff;
    snprintf(buf, size, "%04d-%02d-%02dT%02d:%02d:%02d.%03d%c%02ld:%02ld", tm->tm_year + 1900,
             tm->tm_mon + 1, tm->tm_mday, tm->tm_hour, tm->tm_min, tm->tm_sec, ms,
             gmtoff < 0 ? '-' : '+', off / 3600, (off % 3600) / 60);
}

/* Writes v as exactly `width` digits ending before end; returns the start. */
static char *put_digits(char *end, int64_t v, int width)
{
    while (width-- > 0) {
        *--end = (char)('0' + v % 10);
        v /= 10;
    }
    return end;
}

void time_format_at_offset(int64_t epoch_s, int offset_s, char *buf, size_t size)
{
    char out[26] = "0000-00-00T00:00:00+00:00";
    int64_t local = epoch_s + offset_s;
    int64_t days = floor_div(local, 86400), secs = local - days * 86400, y;
    int m, d;
    civil_from_days(days, &y, &m, &d);
    if (y < 0 || y > 9999) {
        snprintf(buf, size, "%s", "");
        return;
    }
    int off = offset_s < 0 ? -offset_s : offset_s;
    put_digits(out + 4, y, 4);
    put_digits(out + 7, m, 2);
    put_digits(out + 10, d, 2);
    put_digits(out + 13, secs / 3600, 2);
    put_digits(out + 16, secs / 60 % 60, 2);
    put_digits(out + 19, secs % 60, 2);
    out[19] = offset_s < 0 ? '-' : '+';
    put_digits(out + 22, off / 3600, 2);
    put_digits(out + 25, off / 60 % 60, 2);
    snprintf(buf, size, "%s", out);
}

void time_format_local(KicTime t, char *buf, size_t size)
{
    time_t secs = (time_t)floor_div(t, KIC_USEC);
    int ms = (int)((t - (int64_t)secs * KIC_USEC) / 1000);
    struct tm tm;
    localtime_r(&secs, &tm);
    format_tm(&tm, ms, tm.tm_gmtoff, false, buf, size);
}

void time_format_utc(KicTime t, char *buf, size_t size)
{
    time_t secs = (time_t)floor_div(t, KIC_USEC);
    int ms = (int)((t - (int64_t)secs * KIC_USEC) / 1000);
    struct tm tm;
    gmtime_r(&secs, &tm);
    format_tm(&tm, ms, 0, true, buf, size);
}

void time_format_db(KicTime t, char *buf, size_t size)
{
    time_t secs = (time_t)floor_div(t, KIC_USEC);
    long usec = (long)(t - (int64_t)secs * KIC_USEC);
    struct tm tm;
    gmtime_r(&secs, &tm);
    snprintf(buf, size, "%04d-%02d-%02dT%02d:%02d:%02d.%06ldZ", tm.tm_year + 1900, tm.tm_mon + 1,
             tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, usec);
}

/* The instant of a local wall-clock time. Matches PostgreSQL: an ambiguous
 * time (DST ends) takes the offset after the transition (the later
 * instant); a time in the spring gap takes the offset from before it. */
static time_t local_to_instant(const struct tm *wall)
{
    time_t best = (time_t)-1;
    bool found = false;
    for (int dst = 0; dst <= 1; dst++) {
        struct tm try = *wall;
        try.tm_isdst = dst;
        time_t t = mktime(&try);
        struct tm back;
        localtime_r(&t, &back);
        if (back.tm_hour == wall->tm_hour && back.tm_min == wall->tm_min &&
            back.tm_sec == wall->tm_sec && back.tm_mday == wall->tm_mday &&
            (!found || t > best)) {
            best = t;
            found = true;
        }
    }
    if (found)
        return best;
    /* In the gap: interpret with the offset in force just before it. */
    struct tm before = *wall;
    before.tm_isdst = -1;
    before.tm_hour -= 3;
    time_t t0 = mktime(&before);
    struct tm b;
    localtime_r(&t0, &b);
    struct tm try = *wall;
    try.tm_isdst = b.tm_isdst;
    return mktime(&try);
}

KicTime time_local_day_start(KicTime t)
{
    time_t secs = (time_t)floor_div(t, KIC_USEC);
    struct tm tm;
    localtime_r(&secs, &tm);
    tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
    return (KicTime)local_to_instant(&tm) * KIC_USEC;
}

KicTime time_local_next_day_start(KicTime t)
{
    /* days are 23 to 25 hours long: 36 h after a day's start is in the
     * next day */
    return time_local_day_start(time_local_day_start(t) + 36 * 3600 * KIC_USEC);
}

KicTime time_add_local_days(KicTime t, int days)
{
    time_t secs = (time_t)floor_div(t, KIC_USEC);
    int64_t usec = t - (int64_t)secs * KIC_USEC;
    struct tm tm;
    localtime_r(&secs, &tm);
    tm.tm_mday += days;
    /* Normalise the date first (mktime fixes mday overflow), keep wall time. */
    struct tm norm = tm;
    norm.tm_isdst = -1;
    norm.tm_hour = 12;
    mktime(&norm);
    norm.tm_hour = tm.tm_hour;
    norm.tm_min = tm.tm_min;
    norm.tm_sec = tm.tm_sec;
    return (KicTime)local_to_instant(&norm) * KIC_USEC + usec;
}

#define DAY_S 86400
/* Offsets in the tz database span UTC-12 to UTC+14, so a transition more
 * than 26 h away cannot move another instant's wall clock into a day. */
#define NEIGHBOUR_S (26 * 3600)

static struct tm local_tm(int64_t secs)
{
    time_t tt = (time_t)secs;
    struct tm tm;
    localtime_r(&tt, &tm);
    return tm;
}

/* Whether the day starting at start_s (whole seconds) begins at 00:00:00
 * and keeps one UTC offset for 24 h and `margin_s` either side. Reading the
 * offset at the ends stands for the whole span: since 1900 no zone in the
 * tz database has changed its offset and back within 76 h. */
static bool steady_day(int64_t start_s, int margin_s)
{
    struct tm at = local_tm(start_s);
    if (at.tm_hour != 0 || at.tm_min != 0 || at.tm_sec != 0)
        return false; /* midnight fell in a gap */
    return local_tm(start_s - margin_s).tm_gmtoff == at.tm_gmtoff &&
           local_tm(start_s + DAY_S - 1 + margin_s).tm_gmtoff == at.tm_gmtoff;
}

void time_local_days_memo_reset(LocalDaysMemo *m)
{
    *m = (LocalDaysMemo){0};
}

/* Remembers t's local day. On a steady day every instant's wall clock is
 * its distance from midnight; if the target day is steady too (and no
 * change next to it makes its wall times ambiguous), the wall time lands
 * at that distance from the target midnight, so one shift serves the day.
 * Otherwise the day is remembered as one for the exact function. */
static void memo_fill(LocalDaysMemo *m, KicTime t, int days)
{
    KicTime lo = time_local_day_start(t);
    KicTime target = KIC_TIME_NONE;
    if (steady_day(lo / KIC_USEC, 0))
        target = time_add_local_days(lo, days);
    m->days = days;
    m->lo = lo;
    m->fast = target != KIC_TIME_NONE && steady_day(target / KIC_USEC, NEIGHBOUR_S);
    m->shift = m->fast ? target - lo : 0;
    /* A slow day's end only bounds where the exact function is asked. */
    m->hi = m->fast ? lo + DAY_S * KIC_USEC : time_local_day_start(lo + 36 * 3600 * KIC_USEC);
}

static bool memo_covers(const LocalDaysMemo *m, KicTime t, int days)
{
    return days == m->days && t >= m->lo && t < m->hi;
}

KicTime time_add_local_days_memo(LocalDaysMemo *m, KicTime t, int days)
{
    if (!memo_covers(m, t, days))
        memo_fill(m, t, days);
    /* Still outside only when t precedes its day's start: the first of
     * two midnights, when a change at 01:00 sets the clock back to 00:00. */
    if (m->fast && memo_covers(m, t, days))
        return t + m->shift;
    return time_add_local_days(t, days);
}

double time_diff_s(KicTime a, KicTime b)
{
    return (double)(b - a) / (double)KIC_USEC;
}

/* Files of the zoneinfo directory that are no place's zone: the host's
 * own (which a client knows nothing of), the rule templates, and the
 * copies with other conventions (right/ counts leap seconds). */
static bool zone_file_is_no_zone(const char *tz)
{
    static const char *const names[] = {"localtime", "posixrules", "Factory"};
    for (size_t i = 0; i < KIC_ARRAY_LEN(names); i++)
        if (strcmp(tz, names[i]) == 0)
            return true;
    return strncmp(tz, "posix/", 6) == 0 || strncmp(tz, "right/", 6) == 0;
}

bool time_zone_exists(const char *tz)
{
    char path[512], magic[4];
    if (!*tz || tz[0] == '/' || strstr(tz, "..") || zone_file_is_no_zone(tz) ||
        (size_t)snprintf(path, sizeof(path), "/usr/share/zoneinfo/%s", tz) >= sizeof(path))
        return false;
    struct stat st;
    if (stat(path, &st) != 0 || !S_ISREG(st.st_mode))
        return false;
    /* a compiled zone, not one of the tables beside them (zone.tab) */
    FILE *f = fopen(path, "rb");
    bool tzif = f && fread(magic, 1, sizeof(magic), f) == sizeof(magic) &&
                memcmp(magic, "TZif", sizeof(magic)) == 0;
    if (f)
        fclose(f);
    return tzif;
}
