/* RFC 3339 parsing and local calendar arithmetic (TZ=Europe/Amsterdam,
 * set by CTest), including both DST changes. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kictime.h"
#include "unit.h"

static KicTime parse(const char *s)
{
    KicTime t;
    ck_assert_msg(time_parse_rfc3339(s, &t), "should parse: %s", s);
    return t;
}

static void setup(void)
{
    setenv("TZ", "Europe/Amsterdam", 1);
    tzset();
}

START_TEST(parses_offsets_and_fractions)
{
    ck_assert_int_eq(parse("1970-01-01T00:00:00Z"), 0);
    ck_assert_int_eq(parse("1970-01-01T01:00:00+01:00"), 0);
    ck_assert_int_eq(parse("2026-11-22T09:15:02.120+01:00"), parse("2026-11-22T08:15:02.12Z"));
    ck_assert_int_eq(parse("2026-11-22T08:15:02.1234567Z") % KIC_USEC, 123456);
    ck_assert_int_eq(parse("2026-11-22t08:15:02z"), parse("2026-11-22T08:15:02Z"));
    ck_assert_int_eq(parse("2026-11-22T08:15:02-05:30"), parse("2026-11-22T13:45:02Z"));
    ck_assert_int_eq(parse("2024-02-29T00:00:00Z") + 86400 * KIC_USEC, parse("2024-03-01T00:00:00Z"));
    ck_assert_int_eq(parse("2000-03-01T00:00:00Z") / KIC_USEC, 951868800);
    /* the last instant: a day short of year 10000 in any zone */
    ck_assert_int_eq(parse("9999-12-30T00:59:59.999999+01:00") / KIC_USEC, 253402127999);
    char buf[40];
    time_format_local(parse("9999-12-29T23:59:59Z"), buf, sizeof(buf));
    ck_assert_str_eq(buf, "9999-12-30T00:59:59.000+01:00");
}
END_TEST

START_TEST(refuses_bad_texts)
{
    const char *bad[] = {"", "2026-11-22", "2026-11-22T09:15:02", "2026-11-22T09:15:02+0100",
                         "2026-13-01T00:00:00Z", "2026-02-29T00:00:00Z", "2026-04-31T00:00:00Z",
                         "2026-11-22T24:00:00Z", "2026-11-22T23:60:00Z", "2026-11-22T23:59:60Z",
                         "1969-12-31T23:59:59Z", "2026-11-22T09:15:02.Z", "2026-11-22T09:15:02Z ",
                         "2026-11-22T09:15:02+24:00", "26-11-22T09:15:02Z", "2026-11-22X09:15:02Z",
                         "2026-1-22T09:15:02Z", "２０２６-11-22T09:15:02Z",
                         "9999-12-30T00:00:00Z", "9999-12-31T23:59:59Z", "9999-12-30T01:00:00+01:00"};
    KicTime t;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        ck_assert_msg(!time_parse_rfc3339(bad[i], &t), "should refuse: %s", bad[i]);
}
END_TEST

START_TEST(formats_local_and_utc)
{
    char buf[40];
    time_format_local(parse("2026-11-22T09:15:00.250Z"), buf, sizeof(buf));
    ck_assert_str_eq(buf, "2026-11-22T10:15:00.250+01:00");
    time_format_local(parse("2026-07-01T12:00:00Z"), buf, sizeof(buf));
    ck_assert_str_eq(buf, "2026-07-01T14:00:00.000+02:00");
    time_format_utc(parse("2026-07-01T12:00:00+02:00"), buf, sizeof(buf));
    ck_assert_str_eq(buf, "2026-07-01T10:00:00.000Z");
}
END_TEST

START_TEST(local_day_start)
{
    ck_assert_int_eq(time_local_day_start(parse("2026-11-22T09:15:00+01:00")), parse("2026-11-22T00:00:00+01:00"));
    ck_assert_int_eq(time_local_day_start(parse("2026-11-22T00:30:00+01:00")), parse("2026-11-22T00:00:00+01:00"));
    /* 23:30 UTC on the 21st is already the 22nd in Amsterdam */
    ck_assert_int_eq(time_local_day_start(parse("2026-11-21T23:30:00Z")), parse("2026-11-22T00:00:00+01:00"));
    /* DST days: the day of the change starts at the old offset */
    ck_assert_int_eq(time_local_day_start(parse("2026-03-29T12:00:00+02:00")), parse("2026-03-29T00:00:00+01:00"));
    ck_assert_int_eq(time_local_day_start(parse("2026-10-25T12:00:00+01:00")), parse("2026-10-25T00:00:00+02:00"));
}
END_TEST

/* The next midnight, where days are 23 or 25 hours long or midnight is
 * skipped (one local day after a 01:00 start would be 01:00 again). */
START_TEST(local_next_day_start)
{
    ck_assert_int_eq(time_local_next_day_start(parse("2026-11-22T09:15:00+01:00")), parse("2026-11-23T00:00:00+01:00"));
    ck_assert_int_eq(time_local_next_day_start(parse("2026-11-22T00:00:00+01:00")), parse("2026-11-23T00:00:00+01:00"));
    ck_assert_int_eq(time_local_next_day_start(parse("2026-03-29T23:59:59+02:00")), parse("2026-03-30T00:00:00+02:00"));
    ck_assert_int_eq(time_local_next_day_start(parse("2026-10-25T00:30:00+02:00")), parse("2026-10-26T00:00:00+01:00"));
    setenv("TZ", "America/Santiago", 1);
    tzset();
    /* 6 September 2026 starts at 01:00 (-03:00); the 7th at 00:00 */
    ck_assert_int_eq(time_local_next_day_start(parse("2026-09-06T01:00:00-03:00")), parse("2026-09-07T00:00:00-03:00"));
    ck_assert_int_eq(time_local_next_day_start(parse("2026-09-05T12:00:00-04:00")), parse("2026-09-06T01:00:00-03:00"));
    setenv("TZ", "Europe/Amsterdam", 1);
    tzset();
}
END_TEST

START_TEST(add_local_days_keeps_wall_time_across_dst)
{
    /* spring forward (29 March 2026): a week is 167 hours */
    KicTime a = parse("2026-03-25T10:00:00+01:00");
    ck_assert_int_eq(time_add_local_days(a, 7), parse("2026-04-01T10:00:00+02:00"));
    ck_assert_int_eq(time_add_local_days(a, 7) - a, 167LL * 3600 * KIC_USEC);
    /* fall back (25 October 2026): a week is 169 hours */
    KicTime b = parse("2026-10-21T10:00:00+02:00");
    ck_assert_int_eq(time_add_local_days(b, 7), parse("2026-10-28T10:00:00+01:00"));
    ck_assert_int_eq(time_add_local_days(b, 7) - b, 169LL * 3600 * KIC_USEC);
    /* microseconds survive */
    ck_assert_int_eq(time_add_local_days(parse("2026-11-22T10:00:00.123456+01:00"), 1),
                     parse("2026-11-23T10:00:00.123456+01:00"));
    /* month and year ends */
    ck_assert_int_eq(time_add_local_days(parse("2026-12-28T10:00:00+01:00"), 7), parse("2027-01-04T10:00:00+01:00"));
}
END_TEST

START_TEST(add_local_days_ambiguous_and_missing_times_match_postgresql)
{
    /* 02:30 on 25 Oct 2026 happens twice: PostgreSQL takes the later (+01:00) */
    KicTime a = parse("2026-10-18T02:30:00+02:00");
    ck_assert_int_eq(time_add_local_days(a, 7), parse("2026-10-25T02:30:00+01:00"));
    /* 02:30 on 29 Mar 2026 does not exist: read with the offset before (+01:00) */
    KicTime b = parse("2026-03-22T02:30:00+01:00");
    ck_assert_int_eq(time_add_local_days(b, 7), parse("2026-03-29T02:30:00+01:00"));
}
END_TEST

START_TEST(formats_at_an_offset_like_postgresql)
{
    char buf[32];
    time_format_at_offset(0, 0, buf, sizeof(buf));
    ck_assert_str_eq(buf, "1970-01-01T00:00:00+00:00");
    /* the spring-forward day's first bucket after the change, and the hour before */
    time_format_at_offset(parse("2026-03-29T03:00:00+02:00") / KIC_USEC, 7200, buf, sizeof(buf));
    ck_assert_str_eq(buf, "2026-03-29T03:00:00+02:00");
    time_format_at_offset(parse("2026-03-29T01:45:00+01:00") / KIC_USEC, 3600, buf, sizeof(buf));
    ck_assert_str_eq(buf, "2026-03-29T01:45:00+01:00");
    /* west of UTC, half hours, leap day, the day before the epoch */
    time_format_at_offset(parse("2028-02-29T23:59:59-03:30") / KIC_USEC, -12600, buf, sizeof(buf));
    ck_assert_str_eq(buf, "2028-02-29T23:59:59-03:30");
    time_format_at_offset(-1, 0, buf, sizeof(buf));
    ck_assert_str_eq(buf, "1969-12-31T23:59:59+00:00");
    time_format_at_offset(parse("2000-03-01T00:00:00+05:45") / KIC_USEC, 20700, buf, sizeof(buf));
    ck_assert_str_eq(buf, "2000-03-01T00:00:00+05:45");
    /* every hour of 400 years against the C library's UTC calendar */
    for (int64_t t = -2208988800LL; t < 10413792000LL; t += 3600 * 7 + 13) {
        time_t tt = (time_t)t;
        struct tm tm;
        gmtime_r(&tt, &tm);
        char want[80];
        snprintf(want, sizeof(want), "%04d-%02d-%02dT%02d:%02d:%02d+00:00", tm.tm_year + 1900,
                 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
        time_format_at_offset(t, 0, buf, sizeof(buf));
        ck_assert_str_eq(buf, want);
    }
    /* a short buffer is cut, never overrun */
    time_format_at_offset(0, 0, buf, 11);
    ck_assert_str_eq(buf, "1970-01-01");
}
END_TEST

/* ---- time_add_local_days_memo ---- */

static const int MEMO_DAYS[] = {-30, -7, -1, 0, 1, 7, 30};
#define NDAYS (sizeof(MEMO_DAYS) / sizeof(MEMO_DAYS[0]))
#define SWEEP_STEP_S (7 * 60 + 13) /* not a divisor of an hour or a day */

static void use_zone(const char *tz)
{
    setenv("TZ", tz, 1);
    tzset();
}

static void assert_memo_agrees(LocalDaysMemo *m, KicTime t, int days)
{
    KicTime want = time_add_local_days(t, days);
    KicTime got = time_add_local_days_memo(m, t, days);
    if (got != want) {
        char at[40], w[40], g[40];
        time_format_local(t, at, sizeof(at));
        time_format_local(want, w, sizeof(w));
        time_format_local(got, g, sizeof(g));
        ck_abort_msg("%s %+d days: want %s, memo gave %s", at, days, w, g);
    }
}

/* Every step from `from` for `span_days` days, in time order as calls
 * come, with one memo per `days` kept across the sweep. */
static void sweep(const char *from, int span_days)
{
    LocalDaysMemo memo[NDAYS] = {{0}};
    KicTime t0 = parse(from), end = t0 + span_days * 86400LL * KIC_USEC;
    for (KicTime t = t0; t < end; t += SWEEP_STEP_S * KIC_USEC + 1)
        for (size_t i = 0; i < NDAYS; i++)
            assert_memo_agrees(&memo[i], t, MEMO_DAYS[i]);
}

START_TEST(memo_agrees_through_two_years_in_amsterdam)
{
    sweep("2025-01-01T00:00:00+01:00", 2 * 366);
}
END_TEST

START_TEST(memo_agrees_through_two_years_in_new_york)
{
    use_zone("America/New_York");
    sweep("2025-01-01T00:00:00-05:00", 2 * 366);
}
END_TEST

START_TEST(memo_agrees_through_two_years_on_lord_howe)
{
    /* DST moves the clock by 30 minutes */
    use_zone("Australia/Lord_Howe");
    sweep("2025-01-01T00:00:00+11:00", 2 * 366);
}
END_TEST

START_TEST(memo_agrees_where_midnight_is_skipped_or_repeated)
{
    /* Havana goes from 00:00 to 01:00 in March and from 01:00 back to
     * 00:00 in November; Santiago from 24:00 back to 23:00 in April and
     * from 24:00 on to 01:00 in September. (Not Apia, which skipped 30
     * December 2011: there the exact function's answer depends on what
     * mktime was asked before, so it cannot be compared with itself.) */
    use_zone("America/Havana");
    sweep("2025-01-01T00:00:00-05:00", 2 * 366);
    use_zone("America/Santiago");
    sweep("2025-01-01T00:00:00-03:00", 2 * 366);
}
END_TEST

/* xorshift64: the same "random" order on every run, and no global state. */
static uint64_t next_random(uint64_t *state)
{
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;
    return *state;
}

/* Two years of sweep steps visited in a random walk: mostly short hops
 * (the same day again, or the next or previous), now and then a jump
 * anywhere, so fills and hits come in odd orders and on DST days. */
static void random_walk(const char *from, int span_days, int steps)
{
    LocalDaysMemo memo[NDAYS] = {{0}};
    KicTime t0 = parse(from);
    int64_t n = span_days * 86400LL / SWEEP_STEP_S, at = n / 2;
    uint64_t state = 0x9e3779b97f4a7c15ULL;
    for (int k = 0; k < steps; k++) {
        uint64_t r = next_random(&state);
        if (r % 8 == 0)
            at = (int64_t)((r >> 3) % (uint64_t)n);
        else
            at = (at + (int64_t)((r >> 3) % 601) - 300 + n) % n; /* within ~1.5 days */
        KicTime t = t0 + at * SWEEP_STEP_S * KIC_USEC + (int64_t)(r >> 40) % KIC_USEC;
        for (size_t i = 0; i < NDAYS; i++)
            assert_memo_agrees(&memo[i], t, MEMO_DAYS[i]);
    }
}

START_TEST(memo_agrees_in_random_order)
{
    random_walk("2025-01-01T00:00:00+01:00", 2 * 366, 100000);
    use_zone("Australia/Lord_Howe");
    random_walk("2025-01-01T00:00:00+11:00", 2 * 366, 100000);
}
END_TEST

START_TEST(memo_takes_the_shortcut_only_on_steady_days)
{
    LocalDaysMemo m;
    time_local_days_memo_reset(&m);
    /* an ordinary Wednesday: the whole day is served by one shift */
    KicTime a = parse("2026-03-18T10:00:00+01:00");
    ck_assert_int_eq(time_add_local_days_memo(&m, a, 7), parse("2026-03-25T10:00:00+01:00"));
    ck_assert(m.fast);
    ck_assert_int_eq(m.lo, parse("2026-03-18T00:00:00+01:00"));
    ck_assert_int_eq(m.hi - m.lo, 86400LL * KIC_USEC);
    /* a week reaching into the spring-forward day: 10:00 comes 167 hours
     * later, but 02:30 does not exist then and is read at +01:00 */
    KicTime b = parse("2026-03-22T02:30:00+01:00");
    ck_assert_int_eq(time_add_local_days_memo(&m, b, 7), parse("2026-03-29T02:30:00+01:00"));
    ck_assert(!m.fast);
    KicTime c = parse("2026-03-22T10:00:00+01:00");
    ck_assert_int_eq(time_add_local_days_memo(&m, c, 7), parse("2026-03-29T10:00:00+02:00"));
    /* starting on the fall-back day (25 hours long), and back across it */
    KicTime d = parse("2026-10-25T02:30:00+01:00");
    ck_assert_int_eq(time_add_local_days_memo(&m, d, 7), parse("2026-11-01T02:30:00+01:00"));
    ck_assert(!m.fast);
    KicTime e = parse("2026-11-01T10:00:00+01:00");
    ck_assert_int_eq(time_add_local_days_memo(&m, e, -7), parse("2026-10-25T10:00:00+01:00"));
    ck_assert_int_eq(time_add_local_days_memo(&m, e, -8), parse("2026-10-24T10:00:00+02:00"));
    /* Havana's 9 March 2025 starts at 01:00, the change skipping midnight:
     * one offset all day, yet 23 hours long, so no shift serves it */
    use_zone("America/Havana");
    time_local_days_memo_reset(&m);
    KicTime f = parse("2025-03-09T12:00:00-04:00");
    ck_assert_int_eq(time_add_local_days_memo(&m, f, 7), parse("2025-03-16T12:00:00-04:00"));
    ck_assert(!m.fast);
}
END_TEST

/* Zone names as the system's zoneinfo has them; POSIX strings, the
 * host's own file, rule templates and the tables beside the zones are
 * no zone names (and a path cannot leave the directory). */
START_TEST(zone_names_are_zoneinfo_zones)
{
    const char *known[] = {"Europe/Amsterdam", "UTC", "Etc/GMT+11", "America/St_Johns"};
    const char *unknown[] = {"",          "Mars/Base",  "+05:00",          "UTC+5",
                             "localtime", "posixrules", "Factory",         "posix/Europe/Amsterdam",
                             "right/UTC", "zone.tab",   "../zoneinfo/UTC", "/usr/share/zoneinfo/UTC",
                             "Europe"};
    for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
        ck_assert_msg(time_zone_exists(known[i]), "%s", known[i]);
    for (size_t i = 0; i < sizeof(unknown) / sizeof(unknown[0]); i++)
        ck_assert_msg(!time_zone_exists(unknown[i]), "%s", unknown[i]);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("kictime");
    TCase *tc = tcase_create("core");
    tcase_add_checked_fixture(tc, setup, NULL);
    tcase_add_test(tc, parses_offsets_and_fractions);
    tcase_add_test(tc, refuses_bad_texts);
    tcase_add_test(tc, formats_local_and_utc);
    tcase_add_test(tc, formats_at_an_offset_like_postgresql);
    tcase_add_test(tc, local_day_start);
    tcase_add_test(tc, local_next_day_start);
    tcase_add_test(tc, add_local_days_keeps_wall_time_across_dst);
    tcase_add_test(tc, add_local_days_ambiguous_and_missing_times_match_postgresql);
    tcase_add_test(tc, memo_takes_the_shortcut_only_on_steady_days);
    tcase_add_test(tc, zone_names_are_zoneinfo_zones);
    suite_add_tcase(s, tc);
    /* The sweeps ask the exact function a few million times. */
    TCase *sweeps = tcase_create("memo sweeps");
    tcase_add_checked_fixture(sweeps, setup, NULL);
    tcase_set_timeout(sweeps, 60);
    tcase_add_test(sweeps, memo_agrees_through_two_years_in_amsterdam);
    tcase_add_test(sweeps, memo_agrees_through_two_years_in_new_york);
    tcase_add_test(sweeps, memo_agrees_through_two_years_on_lord_howe);
    tcase_add_test(sweeps, memo_agrees_where_midnight_is_skipped_or_repeated);
    tcase_add_test(sweeps, memo_agrees_in_random_order);
    suite_add_tcase(s, sweeps);
    return unit_run(s);
}
