/* report.query against a real kicd and PostgreSQL: the rollup and the
 * calls table give the same numbers; today's report equals the live
 * snapshot; 23- and 25-hour days; every grouping; callbacks and
 * occupancy; the rows' order; the row limit; every parameter error and role. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "erlang.h"
#include "harness.h"

static Kicd kicd;

typedef struct Org {
    const char *name;
    char *bridge, *agent, *agent2, *super, *admin;
} Org;

static Org org_of(const Kicd *k, const char *base)
{
    Org o;
    o.name = strdup(h_tenant(base));
    o.bridge = h_user(k, o.name, "pbx", "bridge", NULL, NULL);
    o.agent = h_user(k, o.name, "a.jansen", "agent", NULL, "kic,wijkteam-noord");
    o.agent2 = h_user(k, o.name, "b.devries", "agent", NULL, "kic");
    o.super = h_user(k, o.name, "s.bakker", "supervisor", NULL, NULL);
    o.admin = h_user(k, o.name, "beheer", "admin", NULL, NULL);
    return o;
}

static Org org(const char *base)
{
    return org_of(&kicd, base);
}

/* ---- a generated mix of contacts ---- */

static const char *const categories[] = {"klacht", "informatie", "planning en roosters",
                                         "facturen en eigen bijdrage"};
static const char *const caller_types[] = {"client", "family", "professional", "supplier"};

typedef struct Tally {
    int offered, abandoned, short_abandoned, withheld, answered;
} Tally;

/* Contact i of a deterministic mix, offered at `at`: queues, channels,
 * directions, withheld and repeat callers, short and long abandons,
 * waits either side of 20 s, hold, care-team transfers, and wrap-ups by
 * the answering agent (when the answer is in the past). */
static void contact(Client *bridge, Client *agents[2], const char *prefix, int i, KicTime at,
                    Tally *tally)
{
    char id[64], caller[48] = "", extra[160] = "";
    snprintf(id, sizeof(id), "%s-%d", prefix, i);
    if (i % 4 != 3)
        snprintf(caller, sizeof(caller), ",\"caller\":\"+3161000%04d\"", (i / 2) % 10);
    snprintf(extra, sizeof(extra), ",\"location\":\"%s\",\"channel\":\"%s\",\"direction\":\"%s\"",
             i % 3 ? "dordrecht" : "zwijndrecht", i % 5 == 0 ? "whatsapp" : "voice",
             i % 7 == 0 ? "outbound" : "inbound");
    cl_call_ok(bridge, "call.offered",
          "{\"event_id\":\"%s-o\",\"call_id\":\"%s\",\"at\":\"%s\",\"queue\":\"%s\"%s%s}", id, id,
          h_at(at, 0), i % 2 ? "thuiszorg" : "wijkverpleging", caller, extra);
    tally->offered++;
    tally->withheld += i % 4 == 3;
    if (i % 6 == 1 || i % 6 == 4) {
        double after = i % 6 == 1 ? 3 : 40;
        cl_call_ok(bridge, "call.abandoned", "{\"event_id\":\"%s-x\",\"call_id\":\"%s\",\"at\":\"%s\"}",
              id, id, h_at(at, after));
        tally->abandoned++;
        tally->short_abandoned += i % 6 == 1;
        return;
    }
    tally->answered++;
    double wait = 5 + (i % 4) * 7;
    const char *agent = i % 2 ? "a.jansen" : "b.devries";
    cl_call_ok(bridge, "call.answered", "{\"event_id\":\"%s-a\",\"call_id\":\"%s\",\"at\":\"%s\",\"agent\":\"%s\"}",
          id, id, h_at(at, wait), agent);
    if (i % 3 == 0) {
        cl_call_ok(bridge, "call.held", "{\"event_id\":\"%s-h\",\"call_id\":\"%s\",\"at\":\"%s\"}", id,
              id, h_at(at, wait + 20));
        cl_call_ok(bridge, "call.resumed", "{\"event_id\":\"%s-r\",\"call_id\":\"%s\",\"at\":\"%s\"}",
              id, id, h_at(at, wait + 35));
    }
    double end = wait + 60 + i;
    if (i % 8 == 2)
        cl_call_ok(bridge, "call.transferred",
              "{\"event_id\":\"%s-t\",\"call_id\":\"%s\",\"at\":\"%s\",\"agent\":\"%s\","
              "\"target\":\"wijkteam-noord\",\"target_kind\":\"care_team\"}",
              id, id, h_at(at, end), agent);
    cl_call_ok(bridge, "call.ended", "{\"event_id\":\"%s-e\",\"call_id\":\"%s\",\"at\":\"%s\"}", id, id,
          h_at(at, end + 5));
    KicTime wrapped = at + (KicTime)((end + 20 + i) * KIC_USEC);
    if (i % 5 == 3 || wrapped >= h_today(0))
        return;
    json_t *r = cl_call(agents[i % 2 ? 0 : 1], "call.wrapup",
                        "{\"call_id\":\"%s\",\"category\":\"%s\",\"resolved\":%s,"
                        "\"caller_type\":\"%s\",\"at\":\"%s\"}",
                        id, categories[i % 4], i % 3 == 1 ? "false" : "true", caller_types[i % 4],
                        h_at(wrapped, 0));
    json_decref(ck_ok(r));
}

/* ---- the report as a table ---- */

static json_t *report(Client *s, const char *fmt, ...) KIC_PRINTF(2, 3);
static json_t *report(Client *s, const char *fmt, ...)
{
    char params[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(params, sizeof(params), fmt, ap);
    va_end(ap);
    json_t *resp = cl_call(s, "report.query", "%s", params);
    json_t *res = json_incref(ck_result(resp));
    json_decref(resp);
    return res;
}

static int column(json_t *table, const char *name)
{
    size_t i;
    json_t *c;
    json_array_foreach(json_object_get(table, "columns"), i, c)
    {
        if (strcmp(json_string_value(c), name) == 0)
            return (int)i;
    }
    return -1;
}

static size_t nrows(json_t *table)
{
    return json_array_size(json_object_get(table, "rows"));
}

static json_t *cell(json_t *table, size_t row, const char *name)
{
    int c = column(table, name);
    ck_assert_msg(c >= 0, "no column %s", name);
    return json_array_get(json_array_get(json_object_get(table, "rows"), row), (size_t)c);
}

static long long cell_int(json_t *table, size_t row, const char *name)
{
    json_t *v = cell(table, row, name);
    ck_assert_msg(json_is_integer(v), "%s is not an integer", name);
    return json_integer_value(v);
}

/* The row whose `dim` column holds `value` (NULL: JSON null); -1 if none. */
static int find_row(json_t *table, const char *dim, const char *value)
{
    for (size_t i = 0; i < nrows(table); i++) {
        json_t *v = cell(table, i, dim);
        if (value ? json_is_string(v) && strcmp(json_string_value(v), value) == 0 : json_is_null(v))
            return (int)i;
    }
    return -1;
}

static long long offered_where(json_t *table, const char *dim, const char *value)
{
    int r = find_row(table, dim, value);
    ck_assert_msg(r >= 0, "no row with %s = %s", dim, value ? value : "null");
    return cell_int(table, (size_t)r, "offered");
}

/* The table without rows that have no contacts (agents present only). */
static json_t *with_contacts(json_t *table)
{
    json_t *rows = json_array();
    size_t i;
    json_t *row;
    int offered = column(table, "offered");
    json_array_foreach(json_object_get(table, "rows"), i, row)
    {
        if (json_integer_value(json_array_get(row, (size_t)offered)) > 0)
            json_array_append(rows, row);
    }
    json_object_set_new(table, "rows", rows);
    return table;
}

static bool same_value(json_t *a, json_t *b)
{
    if (json_is_number(a) && json_is_number(b))
        return fabs(json_number_value(a) - json_number_value(b)) < 1e-9;
    return json_equal(a, b);
}

/* Every column of `a` equals the same-named column of `b`, row by row. */
static void assert_same_table(json_t *a, json_t *b, const char *what)
{
    ck_assert_msg(nrows(a) == nrows(b), "%s: %zu rows against %zu", what, nrows(a), nrows(b));
    size_t i;
    json_t *name;
    for (size_t r = 0; r < nrows(a); r++)
        json_array_foreach(json_object_get(a, "columns"), i, name)
        {
            json_t *x = cell(a, r, json_string_value(name)), *y = cell(b, r, json_string_value(name));
            if (!same_value(x, y)) {
                char *tx = json_dumps(x, JSON_ENCODE_ANY), *ty = json_dumps(y, JSON_ENCODE_ANY);
                ck_abort_msg("%s: row %zu column %s: %s against %s", what, r,
                             json_string_value(name), tx, ty);
            }
        }
}

static KicTime day_start(KicTime t)
{
    return time_local_day_start(t);
}

static const char *local(KicTime t)
{
    static char bufs[8][40];
    static int next;
    char *b = bufs[next++ % 8];
    time_format_local(t, b, 40);
    return b;
}

/* ---- the two sources agree ---- */

/* The same questions to the rollup and to the calls table, [from, to)
 * being whole days. */
static void compare_sources(Client *s, const char *from, const char *to)
{
    KicTime f, t;
    ck_assert(time_parse_rfc3339(from, &f) && time_parse_rfc3339(to, &t));
    const char *variants[] = {"\"interval\":\"1d\"", "\"interval\":\"1h\"",
                              "\"interval\":\"all\"", "\"interval\":\"1d\",\"tz\":\"UTC\"",
                              "\"interval\":\"15m\"", "\"interval\":\"1w\""};
    for (size_t v = 0; v < sizeof(variants) / sizeof(*variants); v++) {
        json_t *roll = report(s, "{\"from\":\"%s\",\"to\":\"%s\",%s,\"group_by\":[\"queue\",\"channel\",\"direction\"]}",
                              from, to, variants[v]);
        ck_assert_str_eq(json_string_value(json_object_get(roll, "source")), "rollup");
        /* per agent from the calls table, added up here */
        json_t *calls = report(s, "{\"from\":\"%s\",\"to\":\"%s\",%s,\"group_by\":[\"queue\",\"channel\",\"direction\",\"agent\"]}",
                               from, to, variants[v]);
        ck_assert_str_eq(json_string_value(json_object_get(calls, "source")), "calls");
        /* the calls-table report grouped by the same keys only: from
         * unaligned bounds, which the rollup cannot serve */
        json_t *same = report(s, "{\"from\":\"%s\",\"to\":\"%s\",%s,\"group_by\":[\"queue\",\"channel\",\"direction\"]}",
                              local(f + KIC_USEC), local(t - KIC_USEC),
                              variants[v]);
        ck_assert_str_eq(json_string_value(json_object_get(same, "source")), "calls");
        assert_same_table(roll, same, variants[v]);
        /* and the finer grouping adds up to the coarser one */
        long long sum_calls = 0, sum_roll = 0;
        for (size_t r = 0; r < nrows(calls); r++)
            sum_calls += cell_int(calls, r, "offered") * 1000 + cell_int(calls, r, "answered_in_sl");
        for (size_t r = 0; r < nrows(roll); r++)
            sum_roll += cell_int(roll, r, "offered") * 1000 + cell_int(roll, r, "answered_in_sl");
        ck_assert_int_eq(sum_calls, sum_roll);
        json_decref(roll);
        json_decref(calls);
        json_decref(same);
    }
}


START_TEST(rollup_and_calls_table_give_the_same_report)
{
    Org o = org("paths");
    Client *b = cl_session(kicd.port, o.bridge), *s = cl_session(kicd.port, o.super);
    Client *agents[2] = {cl_session(kicd.port, o.agent), cl_session(kicd.port, o.agent2)};
    KicTime today = day_start(h_today(0));
    /* 10 and 9 days ago (repeat windows closed), and yesterday (open) */
    const int days_back[] = {10, 9, 1};
    Tally tally = {0};
    for (int i = 0; i < 72; i++) {
        KicTime day = time_add_local_days(today, -days_back[(i / 2) % 3]);
        contact(b, agents, "p", i, day + (9 * 3600LL + i * 431LL) * KIC_USEC, &tally);
    }
    char from[40], to[40];
    snprintf(from, sizeof(from), "%s", local(time_add_local_days(today, -11)));
    snprintf(to, sizeof(to), "%s", local(today));
    /* queue, channel and direction are the rollup's keys; adding
     * location (one value per routing here would not do: the mix has
     * two) sends the same question to the calls table */
    compare_sources(s, from, to);
    /* against what was sent */
    json_t *all = report(s, "{\"from\":\"%s\",\"to\":\"%s\",\"interval\":\"all\"}", from, to);
    ck_assert_uint_eq(nrows(all), 1);
    ck_assert_int_eq(column(all, "interval_start"), -1);
    ck_assert_int_eq(cell_int(all, 0, "offered"), tally.offered);
    ck_assert_int_eq(cell_int(all, 0, "answered"), tally.answered);
    ck_assert_int_eq(cell_int(all, 0, "abandoned"), tally.abandoned);
    ck_assert_int_eq(cell_int(all, 0, "short_abandoned"), tally.short_abandoned);
    ck_assert_int_eq(cell_int(all, 0, "withheld"), tally.withheld);
    /* yesterday's repeat windows are open: its contacts are pending */
    ck_assert_int_gt(cell_int(all, 0, "fcr_pending"), 0);
    ck_assert_int_gt(cell_int(all, 0, "fcr_closed"), 0);
    ck_assert_int_eq(cell_int(all, 0, "fcr_closed") + cell_int(all, 0, "fcr_pending"),
                     cell_int(all, 0, "answered"));
    ck_assert_double_eq_tol(json_real_value(cell(all, 0, "fcr_rate")),
                            (double)cell_int(all, 0, "fcr_final") / (double)cell_int(all, 0, "fcr_closed"), 1e-6);
    json_decref(all);
    cl_close(b);
    cl_close(s);
    cl_close(agents[0]);
    cl_close(agents[1]);
}
END_TEST

/* A contact whose earlier offer comes second moves to that offer's queue
 * and 15-minute block: the block and queue it leaves hold nothing, and no
 * source answers a row for them (the rollup used to keep an empty one). */
START_TEST(a_contact_moved_by_a_late_offer_leaves_no_empty_row)
{
    Org o = org("moved");
    Client *b = cl_session(kicd.port, o.bridge), *s = cl_session(kicd.port, o.super);
    KicTime d = time_add_local_days(day_start(h_today(0)), -2) + 10LL * 3600 * KIC_USEC;
    cl_call_ok(b, "call.offered", "{\"event_id\":\"m-o2\",\"call_id\":\"m\",\"at\":\"%s\",\"queue\":\"qb\"}", h_at(d, 600));
    cl_call_ok(b, "call.offered", "{\"event_id\":\"m-o1\",\"call_id\":\"m\",\"at\":\"%s\",\"queue\":\"qa\"}", h_at(d, -300));
    cl_call_ok(b, "call.answered", "{\"event_id\":\"m-a\",\"call_id\":\"m\",\"at\":\"%s\",\"agent\":\"a.jansen\"}", h_at(d, 660));
    cl_call_ok(b, "call.ended", "{\"event_id\":\"m-e\",\"call_id\":\"m\",\"at\":\"%s\"}", h_at(d, 720));
    char from[40], to[40];
    snprintf(from, sizeof(from), "%s", local(d - 3600 * KIC_USEC));
    snprintf(to, sizeof(to), "%s", local(d + 3600 * KIC_USEC));
    compare_sources(s, from, to);
    json_t *t = report(s, "{\"from\":\"%s\",\"to\":\"%s\",\"interval\":\"15m\",\"group_by\":[\"queue\"]}", from, to);
    ck_assert_str_eq(json_string_value(json_object_get(t, "source")), "rollup");
    ck_assert_uint_eq(nrows(t), 1);
    ck_assert_str_eq(json_string_value(cell(t, 0, "queue")), "qa");
    ck_assert_int_eq(cell_int(t, 0, "offered"), 1);
    json_decref(t);
    cl_close(b);
    cl_close(s);
}
END_TEST

/* A contact of queue q1 offered at t (caller: a number, or NULL for
 * none), answered by a.jansen after answer_s, ended at end_s and wrapped
 * up then, resolved. */
static void resolved_call(Client *b, Client *a, const char *id, const char *caller, KicTime t,
                          double answer_s, double end_s)
{
    char from[64] = "";
    if (caller)
        snprintf(from, sizeof(from), ",\"caller\":\"%s\"", caller);
    cl_call_ok(b, "call.offered", "{\"event_id\":\"%s-o\",\"call_id\":\"%s\",\"at\":\"%s\",\"queue\":\"q1\"%s}", id, id, h_at(t, 0), from);
    cl_call_ok(b, "call.answered", "{\"event_id\":\"%s-a\",\"call_id\":\"%s\",\"at\":\"%s\",\"agent\":\"a.jansen\"}", id, id, h_at(t, answer_s));
    cl_call_ok(b, "call.ended", "{\"event_id\":\"%s-e\",\"call_id\":\"%s\",\"at\":\"%s\"}", id, id, h_at(t, end_s));
    cl_call_ok(a, "call.wrapup", "{\"call_id\":\"%s\",\"category\":\"klacht\",\"resolved\":true,\"at\":\"%s\"}", id, h_at(t, end_s));
}

/* An interval that from or to cut is as long as the part reported:
 * three contacts of 240 s in half an hour need two agents (Erlang C,
 * traffic 0.4), whether asked as that half hour or as its hour from the
 * half (which used to spread them over the hour: one agent). */
START_TEST(a_cut_interval_counts_its_own_length)
{
    Org o = org("cut");
    Client *b = cl_session(kicd.port, o.bridge), *s = cl_session(kicd.port, o.super);
    Client *a = cl_session(kicd.port, o.agent);
    KicTime d = time_add_local_days(day_start(h_today(0)), -2) + (9 * 3600LL + 1800) * KIC_USEC;
    for (int i = 0; i < 3; i++) {
        char id[8];
        snprintf(id, sizeof(id), "k%d", i);
        resolved_call(b, a, id, NULL, d + (60 + 600 * i) * KIC_USEC, 10, 250);
    }
    const char *intervals[] = {"all", "1h", "30m", "15m"};
    for (int k = 0; k < 4; k++) {
        json_t *t = report(s, "{\"from\":\"%s\",\"to\":\"%s\",\"interval\":\"%s\"}", local(d),
                           local(d + 1800 * KIC_USEC), intervals[k]);
        long long offered = 0;
        for (size_t r = 0; r < nrows(t); r++)
            offered += cell_int(t, r, "offered");
        ck_assert_int_eq(offered, 3);
        if (k < 3) { /* one row with all three */
            ck_assert_uint_eq(nrows(t), 1);
            ck_assert_double_eq_tol(json_number_value(cell(t, 0, "aht_s")), 240, 1e-9);
            ck_assert_int_eq(cell_int(t, 0, "agents_needed"), 2);
            /* on a call 720 s of the 1,800 */
            ck_assert_double_eq_tol(json_number_value(cell(t, 0, "agents_present")), 0.4, 1e-6);
        }
        json_decref(t);
    }
    cl_close(a);
    cl_close(b);
    cl_close(s);
}
END_TEST

/* Repeat rate and FCR are over answered contacts (DESIGN.md): one
 * without a caller number is never a repeat, and resolved it is settled
 * at the first contact. Both sources agree. */
START_TEST(repeat_and_fcr_rates_are_over_answered_contacts)
{
    Org o = org("fcrall");
    Client *b = cl_session(kicd.port, o.bridge), *s = cl_session(kicd.port, o.super);
    Client *a = cl_session(kicd.port, o.agent);
    KicTime d = time_add_local_days(day_start(h_today(0)), -10) + 9LL * 3600 * KIC_USEC;
    const char *callers[] = {NULL, "0612000071", "0612000071"};
    for (int i = 0; i < 3; i++) {
        char id[8];
        snprintf(id, sizeof(id), "f%d", i);
        resolved_call(b, a, id, callers[i], d + 3600LL * i * KIC_USEC, 5, 65);
    }
    char from[40], to[40];
    snprintf(from, sizeof(from), "%s", local(day_start(d)));
    snprintf(to, sizeof(to), "%s", local(time_add_local_days(day_start(d), 1)));
    compare_sources(s, from, to);
    json_t *t = report(s, "{\"from\":\"%s\",\"to\":\"%s\",\"interval\":\"all\"}", from, to);
    ck_assert_int_eq(cell_int(t, 0, "answered"), 3);
    ck_assert_int_eq(cell_int(t, 0, "identified"), 2);
    ck_assert_int_eq(cell_int(t, 0, "withheld"), 1);
    ck_assert_double_eq_tol(json_number_value(cell(t, 0, "repeat_rate")), 1.0 / 3, 1e-6); /* f1 */
    ck_assert_double_eq_tol(json_number_value(cell(t, 0, "fcr_rate")), 2.0 / 3, 1e-6);    /* f0 f2 */
    ck_assert_int_eq(cell_int(t, 0, "fcr_pending"), 0);
    json_decref(t);
    cl_close(a);
    cl_close(b);
    cl_close(s);
}
END_TEST

START_TEST(todays_report_equals_the_live_numbers)
{
    Org o = org("today");
    Client *b = cl_session(kicd.port, o.bridge), *s = cl_session(kicd.port, o.super);
    Client *agents[2] = {cl_session(kicd.port, o.agent), cl_session(kicd.port, o.agent2)};
    KicTime t0 = h_today(3600);
    Tally tally = {0};
    for (int i = 0; i < 40; i++)
        contact(b, agents, "t", i, t0 + i * 45LL * KIC_USEC, &tally);
    /* a contact of yesterday, which neither counts */
    contact(b, agents, "y", 2, time_add_local_days(t0, -1), &(Tally){0});
    KicTime today = day_start(h_today(0));
    json_t *live_resp = cl_call(s, "stats.live", NULL);
    json_t *live = json_object_get(ck_result(live_resp), "total");
    json_t *rep = report(s, "{\"from\":\"%s\",\"to\":\"%s\",\"interval\":\"all\"}", local(today),
                         local(time_add_local_days(today, 1)));
    ck_assert_uint_eq(nrows(rep), 1);
    ck_assert_int_eq(cell_int(rep, 0, "offered"), tally.offered);
    static const char *const counts[] = {"offered", "answered", "abandoned", "short_abandoned",
                                         "fcr_pending"};
    for (size_t i = 0; i < sizeof(counts) / sizeof(*counts); i++)
        ck_assert_msg(json_integer_value(json_object_get(live, counts[i])) == cell_int(rep, 0, counts[i]),
                      "%s differs", counts[i]);
    static const char *const rates[] = {"service_level", "abandon_rate", "asa_s", "talk_avg_s",
                                        "hold_avg_s", "acw_avg_s", "aht_s", "transfer_rate",
                                        "handled_independently_rate", "repeat_rate"};
    for (size_t i = 0; i < sizeof(rates) / sizeof(*rates); i++) {
        json_t *l = json_object_get(live, rates[i]), *r = cell(rep, 0, rates[i]);
        ck_assert_msg(json_is_null(l) == json_is_null(r), "%s: defined in one only", rates[i]);
        /* both to 6 decimals; a microsecond of rounding in the stored
         * seconds may move the last */
        ck_assert_msg(fabs(json_number_value(l) - json_number_value(r)) < 1.5e-6,
                      "%s: live %f, report %f", rates[i], json_number_value(l), json_number_value(r));
    }
    /* live fcr_rate is the provisional one */
    ck_assert_double_eq_tol(json_number_value(json_object_get(live, "fcr_rate")),
                            json_number_value(cell(rep, 0, "fcr_provisional_rate")), 1.5e-6);
    json_t *sums = json_object_get(live, "sums");
    static const char *const same_sums[] = {"answered_in_sl", "talk_n", "acw_n", "transferred",
                                            "resolved", "identified", "repeated",
                                            "fcr_provisional", "withheld"};
    for (size_t i = 0; i < sizeof(same_sums) / sizeof(*same_sums); i++)
        ck_assert_msg(json_integer_value(json_object_get(sums, same_sums[i])) ==
                          cell_int(rep, 0, same_sums[i]),
                      "%s differs", same_sums[i]);
    ck_assert_double_eq_tol(json_integer_value(json_object_get(sums, "handle_us")) / 1e6,
                            json_number_value(cell(rep, 0, "handle_s")), 0.001);
    json_decref(rep);
    json_decref(live_resp);
    cl_close(b);
    cl_close(s);
    cl_close(agents[0]);
    cl_close(agents[1]);
}
END_TEST

/* ---- days of 25 and 23 hours ---- */

static void hourly_contacts(Client *b, const char *prefix, const char *first_utc, int hours)
{
    KicTime t;
    ck_assert(time_parse_rfc3339(first_utc, &t));
    for (int h = 0; h < hours; h++) {
        KicTime at = t + h * 3600LL * KIC_USEC;
        char id[32];
        snprintf(id, sizeof(id), "%s-%d", prefix, h);
        cl_call_ok(b, "call.offered", "{\"event_id\":\"%s-o\",\"call_id\":\"%s\",\"at\":\"%s\",\"queue\":\"thuiszorg\"}", id, id, h_at(at, 0));
        cl_call_ok(b, "call.answered", "{\"event_id\":\"%s-a\",\"call_id\":\"%s\",\"at\":\"%s\",\"agent\":\"a.jansen\"}", id, id, h_at(at, 10));
        cl_call_ok(b, "call.ended", "{\"event_id\":\"%s-e\",\"call_id\":\"%s\",\"at\":\"%s\"}", id, id, h_at(at, 110));
    }
}

/* Half hours and hours begin on the half hour and the hour in every
 * zone, also one whose offset is not what it was in 2000 (Colombo: +06:00
 * then, +05:30 now; they began at :30 there), from either source. */
START_TEST(hours_begin_on_the_hour_in_every_zone)
{
    Org o = org("colombo");
    Client *b = cl_session(kicd.port, o.bridge), *s = cl_session(kicd.port, o.super);
    hourly_contacts(b, "lk", "2026-06-15T02:40:00Z", 3); /* 08:10, 09:10, 10:10 local */
    const char *day = "\"from\":\"2026-06-15T00:00:00+05:30\",\"to\":\"2026-06-16T00:00:00+05:30\","
                      "\"tz\":\"Asia/Colombo\"";
    static const char *const groups[] = {"[]", "[\"location\"]"}; /* the rollup, the calls */
    for (int g = 0; g < 2; g++) {
        json_t *t = with_contacts(report(s, "{%s,\"interval\":\"1h\",\"group_by\":%s}", day, groups[g]));
        ck_assert_uint_eq(nrows(t), 3);
        ck_assert_str_eq(json_string_value(cell(t, 0, "interval_start")), "2026-06-15T08:00:00+05:30");
        ck_assert_str_eq(json_string_value(cell(t, 2, "interval_start")), "2026-06-15T10:00:00+05:30");
        json_decref(t);
        t = with_contacts(report(s, "{%s,\"interval\":\"30m\",\"group_by\":%s}", day, groups[g]));
        ck_assert_str_eq(json_string_value(cell(t, 0, "interval_start")), "2026-06-15T08:00:00+05:30");
        json_decref(t);
    }
    cl_close(b);
    cl_close(s);
}
END_TEST

START_TEST(days_have_23_and_25_hours_when_the_clocks_change)
{
    Org o = org("dst");
    Client *b = cl_session(kicd.port, o.bridge), *s = cl_session(kicd.port, o.super);
    /* Amsterdam's clock changes, asked for by name (the tests' kicd may
     * run in another zone: harness.c, choose_test_zone).
     * One contact in every hour of 25 October 2026 (02:00-03:00 twice);
     * a.jansen stays in after-call work after the last one (no wrap-up),
     * so intervals after it have a row for agents_present only */
    hourly_contacts(b, "oct", "2026-10-24T22:05:00Z", 25);
    /* and of 29 March 2026 (02:00-03:00 missing) */
    hourly_contacts(b, "mar", "2026-03-28T23:05:00Z", 23);
    const char *autumn = "\"from\":\"2026-10-25T00:00:00+02:00\",\"to\":\"2026-10-26T00:00:00+01:00\"";
    json_t *t = with_contacts(report(s, "{%s,\"interval\":\"1h\",\"tz\":\"Europe/Amsterdam\"}", autumn));
    ck_assert_uint_eq(nrows(t), 25);
    ck_assert_str_eq(json_string_value(cell(t, 0, "interval_start")), "2026-10-25T00:00:00+02:00");
    ck_assert_str_eq(json_string_value(cell(t, 2, "interval_start")), "2026-10-25T02:00:00+02:00");
    ck_assert_str_eq(json_string_value(cell(t, 3, "interval_start")), "2026-10-25T02:00:00+01:00");
    ck_assert_str_eq(json_string_value(cell(t, 24, "interval_start")), "2026-10-25T23:00:00+01:00");
    for (size_t r = 0; r < 25; r++)
        ck_assert_int_eq(cell_int(t, r, "offered"), 1);
    json_decref(t);
    /* by day, from either source: one 25-hour day, staffed for 25 hours */
    const char *groups[] = {"[]", "[\"location\"]"};
    for (int g = 0; g < 2; g++) {
        t = with_contacts(report(s, "{\"from\":\"2026-10-24T00:00:00+02:00\",\"to\":\"2026-10-27T00:00:00+01:00\",\"interval\":\"1d\",\"tz\":\"Europe/Amsterdam\",\"group_by\":%s}", groups[g]));
        ck_assert_uint_eq(nrows(t), 1);
        ck_assert_str_eq(json_string_value(cell(t, 0, "interval_start")), "2026-10-25T00:00:00+02:00");
        ck_assert_int_eq(cell_int(t, 0, "offered"), 25);
        double aht = json_number_value(cell(t, 0, "talk_avg_s"));
        ck_assert_double_eq_tol(aht, 100.0, 0.001);
        int needed = erlang_agents_needed(erlang_traffic(25, 25 * 3600.0, aht), aht, 20, 0.8, 1000);
        ck_assert_int_eq(json_integer_value(cell(t, 0, "agents_needed")), needed);
        json_decref(t);
    }
    /* spring: 23 hours, no 02:00 */
    t = with_contacts(report(s, "{\"from\":\"2026-03-29T00:00:00+01:00\",\"to\":\"2026-03-30T00:00:00+02:00\",\"interval\":\"1h\",\"tz\":\"Europe/Amsterdam\"}"));
    ck_assert_uint_eq(nrows(t), 23);
    ck_assert_str_eq(json_string_value(cell(t, 1, "interval_start")), "2026-03-29T01:00:00+01:00");
    ck_assert_str_eq(json_string_value(cell(t, 2, "interval_start")), "2026-03-29T03:00:00+02:00");
    json_decref(t);
    t = with_contacts(report(s, "{\"from\":\"2026-03-01T00:00:00+01:00\",\"to\":\"2026-11-01T00:00:00+01:00\",\"interval\":\"1mo\",\"tz\":\"Europe/Amsterdam\"}"));
    ck_assert_uint_eq(nrows(t), 2);
    ck_assert_str_eq(json_string_value(cell(t, 0, "interval_start")), "2026-03-01T00:00:00+01:00");
    ck_assert_str_eq(json_string_value(cell(t, 1, "interval_start")), "2026-10-01T00:00:00+02:00");
    ck_assert_int_eq(cell_int(t, 0, "offered"), 23);
    ck_assert_int_eq(cell_int(t, 1, "offered"), 25);
    json_decref(t);
    /* weeks start on Monday; the same contacts in UTC days */
    t = with_contacts(report(s, "{\"from\":\"2026-10-19T00:00:00+02:00\",\"to\":\"2026-10-26T00:00:00+01:00\",\"interval\":\"1w\",\"tz\":\"Europe/Amsterdam\"}"));
    ck_assert_uint_eq(nrows(t), 1);
    ck_assert_str_eq(json_string_value(cell(t, 0, "interval_start")), "2026-10-19T00:00:00+02:00");
    json_decref(t);
    t = with_contacts(report(s, "{\"from\":\"2026-10-24T00:00:00Z\",\"to\":\"2026-10-27T00:00:00Z\",\"interval\":\"1d\",\"tz\":\"UTC\"}"));
    ck_assert_uint_eq(nrows(t), 2);
    ck_assert_str_eq(json_string_value(cell(t, 0, "interval_start")), "2026-10-24T00:00:00+00:00");
    ck_assert_int_eq(cell_int(t, 0, "offered"), 2);
    ck_assert_int_eq(cell_int(t, 1, "offered"), 23);
    json_decref(t);
    cl_close(b);
    cl_close(s);
}
END_TEST

/* ---- every grouping ---- */

START_TEST(groups_by_every_dimension)
{
    Org o = org("groups");
    Client *b = cl_session(kicd.port, o.bridge), *s = cl_session(kicd.port, o.super);
    Client *a = cl_session(kicd.port, o.agent), *a2 = cl_session(kicd.port, o.agent2);
    KicTime t0 = h_today(1800);
    cl_call_ok(b, "call.offered", "{\"event_id\":\"g1o\",\"call_id\":\"g1\",\"at\":\"%s\",\"queue\":\"q1\",\"location\":\"dordrecht\",\"caller\":\"0612340001\"}", h_at(t0, 0));
    cl_call_ok(b, "call.answered", "{\"event_id\":\"g1a\",\"call_id\":\"g1\",\"at\":\"%s\",\"agent\":\"a.jansen\"}", h_at(t0, 8));
    cl_call_ok(b, "call.ended", "{\"event_id\":\"g1e\",\"call_id\":\"g1\",\"at\":\"%s\"}", h_at(t0, 68));
    json_decref(ck_ok(cl_call(a, "call.wrapup", "{\"call_id\":\"g1\",\"category\":\"klacht\",\"resolved\":true,\"caller_type\":\"family\",\"at\":\"%s\"}", h_at(t0, 80))));
    cl_call_ok(b, "call.offered", "{\"event_id\":\"g2o\",\"call_id\":\"g2\",\"at\":\"%s\",\"queue\":\"q2\",\"location\":\"gorinchem\",\"channel\":\"whatsapp\"}", h_at(t0, 100));
    cl_call_ok(b, "call.answered", "{\"event_id\":\"g2a\",\"call_id\":\"g2\",\"at\":\"%s\",\"agent\":\"b.devries\"}", h_at(t0, 130));
    cl_call_ok(b, "call.transferred", "{\"event_id\":\"g2t\",\"call_id\":\"g2\",\"at\":\"%s\",\"agent\":\"b.devries\",\"target\":\"wijkteam-noord\",\"target_kind\":\"care_team\"}", h_at(t0, 200));
    cl_call_ok(b, "call.ended", "{\"event_id\":\"g2e\",\"call_id\":\"g2\",\"at\":\"%s\"}", h_at(t0, 210));
    json_decref(ck_ok(cl_call(a2, "call.wrapup", "{\"call_id\":\"g2\",\"category\":\"informatie\",\"resolved\":false,\"caller_type\":\"client\",\"at\":\"%s\"}", h_at(t0, 230))));
    cl_call_ok(b, "call.offered", "{\"event_id\":\"g3o\",\"call_id\":\"g3\",\"at\":\"%s\",\"queue\":\"q1\",\"location\":\"dordrecht\",\"direction\":\"outbound\"}", h_at(t0, 300));
    cl_call_ok(b, "call.abandoned", "{\"event_id\":\"g3x\",\"call_id\":\"g3\",\"at\":\"%s\"}", h_at(t0, 340));
    KicTime today = day_start(h_today(0));
    char range[160];
    snprintf(range, sizeof(range), "\"from\":\"%s\",\"to\":\"%s\",\"interval\":\"all\"", local(today),
             local(time_add_local_days(today, 1)));
    static const struct {
        const char *dim, *value;
        long long offered;
    } expect[] = {
        {"queue", "q1", 2},          {"queue", "q2", 1},
        {"location", "dordrecht", 2}, {"location", "gorinchem", 1},
        {"agent", "a.jansen", 1},    {"agent", "b.devries", 1},     {"agent", NULL, 1},
        {"category", "klacht", 1},   {"category", "informatie", 1}, {"category", NULL, 1},
        {"caller_type", "family", 1}, {"caller_type", "client", 1}, {"caller_type", NULL, 1},
        {"channel", "voice", 2},     {"channel", "whatsapp", 1},
        {"direction", "inbound", 2}, {"direction", "outbound", 1},
        {"team", "wijkteam-noord", 1}, {"team", NULL, 2},
    };
    for (size_t i = 0; i < sizeof(expect) / sizeof(*expect); i++) {
        json_t *t = report(s, "{%s,\"group_by\":[\"%s\"]}", range, expect[i].dim);
        ck_assert_int_eq(column(t, expect[i].dim), 0);
        ck_assert_int_eq(column(t, "offered"), 1); /* no interval_start with "all" */
        ck_assert_msg(offered_where(t, expect[i].dim, expect[i].value) == expect[i].offered,
                      "%s = %s", expect[i].dim, expect[i].value ? expect[i].value : "null");
        json_decref(t);
    }
    /* two at once, in the order asked */
    json_t *t = report(s, "{%s,\"group_by\":[\"location\",\"queue\"]}", range);
    ck_assert_int_eq(column(t, "location"), 0);
    ck_assert_int_eq(column(t, "queue"), 1);
    ck_assert_uint_eq(nrows(t), 2);
    json_decref(t);
    /* the care team's rates: g2 transferred, handled independently 0 */
    t = report(s, "{%s,\"group_by\":[\"team\"]}", range);
    int r = find_row(t, "team", "wijkteam-noord");
    ck_assert_double_eq_tol(json_number_value(cell(t, (size_t)r, "transfer_rate")), 1.0, 1e-9);
    ck_assert_double_eq_tol(json_number_value(cell(t, (size_t)r, "handled_independently_rate")), 0.0, 1e-9);
    json_decref(t);
    cl_close(b);
    cl_close(s);
    cl_close(a);
    cl_close(a2);
}
END_TEST

/* The agent of `a` sets available at S (returned); the bridge `b` then
 * reports call `id` offered at S+0.2 s, answered by a.jansen at S+0.4 and
 * ended at S+1. Returns once S+1.5 has passed. */
/* The agent chooses a state; returns when kicd took it. */
static KicTime choose(Client *a, const char *state)
{
    json_t *r = cl_call(a, "agent.state.set", "{\"state\":\"%s\"}", state);
    KicTime since;
    ck_assert(time_parse_rfc3339(json_string_value(json_object_get(ck_result(r), "since")), &since));
    json_decref(r);
    return since;
}

static KicTime available_then_a_call(Client *a, Client *b, const char *id)
{
    KicTime since = choose(a, "available");
    cl_call_ok(b, "call.offered", "{\"event_id\":\"%s-o\",\"call_id\":\"%s\",\"at\":\"%s\",\"queue\":\"q1\"}", id, id, h_at(since, 0.2));
    cl_call_ok(b, "call.answered", "{\"event_id\":\"%s-a\",\"call_id\":\"%s\",\"at\":\"%s\",\"agent\":\"a.jansen\"}", id, id, h_at(since, 0.4));
    cl_call_ok(b, "call.ended", "{\"event_id\":\"%s-e\",\"call_id\":\"%s\",\"at\":\"%s\"}", id, id, h_at(since, 1.0));
    while (h_today(0) < since + 1500 * 1000)
        usleep(50000);
    return since;
}

START_TEST(callbacks_and_occupancy)
{
    Org o = org("cbocc");
    Client *b = cl_session(kicd.port, o.bridge), *s = cl_session(kicd.port, o.super);
    Client *a = cl_session(kicd.port, o.agent);
    /* callbacks: two for team kic, one completed on the first attempt */
    json_t *r = cl_call(a, "callback.create", "{\"caller\":\"0612340010\",\"team\":\"kic\"}");
    char *cb1 = strdup(json_string_value(json_object_get(ck_result(r), "callback_id")));
    json_decref(r);
    json_decref(ck_ok(cl_call(a, "callback.create", "{\"caller\":\"0612340011\",\"team\":\"kic\"}")));
    json_decref(ck_ok(cl_call(a, "callback.claim", "{\"callback_id\":\"%s\"}", cb1)));
    json_decref(ck_ok(cl_call(a, "callback.complete", "{\"callback_id\":\"%s\",\"outcome\":\"reached\"}", cb1)));
    free(cb1);
    KicTime today = day_start(h_today(0));
    char range[160];
    snprintf(range, sizeof(range), "\"from\":\"%s\",\"to\":\"%s\",\"interval\":\"all\"", local(today),
             local(time_add_local_days(today, 1)));
    json_t *t = report(s, "{%s,\"group_by\":[\"team\"]}", range);
    int row = find_row(t, "team", "kic");
    ck_assert_int_ge(row, 0);
    ck_assert_int_eq(cell_int(t, (size_t)row, "callbacks_requested"), 2);
    ck_assert_int_eq(cell_int(t, (size_t)row, "callbacks_completed"), 1);
    ck_assert_int_eq(cell_int(t, (size_t)row, "callbacks_completed_on_time"), 1);
    ck_assert_int_eq(cell_int(t, (size_t)row, "callbacks_open"), 1);
    ck_assert_int_eq(cell_int(t, (size_t)row, "callbacks_attempts"), 1);
    ck_assert_int_eq(cell_int(t, (size_t)row, "offered"), 0);
    /* the mean to six decimals, as callbacks.summary's (it had three) */
    r = cl_call(s, "callbacks.summary", "{\"team\":\"kic\"}");
    double mean = json_real_value(json_object_get(json_object_get(ck_result(r), "total"), "mean_time_to_complete_s"));
    json_decref(r);
    ck_assert_double_eq_tol(json_number_value(cell(t, (size_t)row, "callbacks_mean_complete_s")), mean, 5e-7);
    json_decref(t);
    /* a grouping callbacks do not have: no callback columns */
    t = report(s, "{%s,\"group_by\":[\"location\"]}", range);
    ck_assert_int_eq(column(t, "callbacks_requested"), -1);
    json_decref(t);

    /* occupancy: available at S, a call answered at S+0.4 s and ended at
     * S+1 s, wrapped up at W, break at B: busy from S+0.4 to W, logged in
     * (not on break) from S to B */
    KicTime since = available_then_a_call(a, b, "oc");
    r = cl_call(a, "call.wrapup", "{\"call_id\":\"oc\",\"category\":\"klacht\",\"resolved\":true}");
    double acw = json_number_value(json_object_get(ck_result(r), "acw_seconds"));
    json_decref(r);
    usleep(300000);
    KicTime brk = choose(a, "break");
    t = report(s, "{%s,\"group_by\":[\"agent\"]}", range);
    row = find_row(t, "agent", "a.jansen");
    ck_assert_int_ge(row, 0);
    double expect = (0.6 + acw) / time_diff_s(since, brk);
    ck_assert_double_eq_tol(json_number_value(cell(t, (size_t)row, "occupancy")), expect, 0.001);
    json_decref(t);
    /* a report starting inside a state counts it from its start: in
     * [S+0.1, S+0.2) available (present, not busy), in [S+0.5, S+0.9) on
     * the call (busy) */
    const double windows[][3] = {{0.1, 0.2, 0}, {0.5, 0.9, 1}};
    for (int k = 0; k < 2; k++) {
        char in[160];
        snprintf(in, sizeof(in), "\"from\":\"%s\",", h_at(since, windows[k][0]));
        snprintf(in + strlen(in), sizeof(in) - strlen(in), "\"to\":\"%s\",\"interval\":\"all\"",
                 h_at(since, windows[k][1]));
        t = report(s, "{%s,\"group_by\":[\"agent\"]}", in);
        ck_assert_uint_eq(nrows(t), 1);
        ck_assert_double_eq_tol(json_number_value(cell(t, 0, "occupancy")), windows[k][2], 1e-6);
        json_decref(t);
        t = report(s, "{%s}", in);
        ck_assert_double_eq_tol(json_number_value(cell(t, 0, "agents_present")), 1.0, 1e-6);
        json_decref(t);
    }
    /* without a grouping: agents present on average (logged in, not on
     * break) over the part of today that has happened, and the targets
     * the numbers are read against */
    KicTime asked = h_today(0);
    t = report(s, "{%s}", range);
    KicTime answered = h_today(0);
    double present = json_number_value(cell(t, 0, "agents_present"));
    ck_assert_double_le(present, time_diff_s(since, brk) / time_diff_s(today, asked) + 5e-7); /* 6 decimals */
    ck_assert_double_ge(present, time_diff_s(since, brk) / time_diff_s(today, answered) - 5e-7);
    json_t *targets = json_object_get(t, "targets");
    ck_assert_double_eq_tol(json_number_value(json_object_get(targets, "service_level")), 0.8, 1e-9);
    ck_assert_int_eq(json_number_value(json_object_get(targets, "service_level_threshold_s")), 20);
    json_decref(t);
    cl_close(b);
    cl_close(s);
    cl_close(a);
}
END_TEST

/* A wrap-up sent after the agent went on break, dated before it (work
 * queued on a desktop): its ACW ends at the wrap-up's time, and the agent
 * was available from then until the break. Occupancy is (talk + hold +
 * ACW) / logged-in time not on break, so the time between is not busy.
 * It used to count as ACW until the break. */
START_TEST(occupancy_with_a_wrapup_dated_before_a_later_break)
{
    Org o = org("lateacw");
    Client *b = cl_session(kicd.port, o.bridge), *s = cl_session(kicd.port, o.super);
    Client *a = cl_session(kicd.port, o.agent);
    KicTime since = available_then_a_call(a, b, "la");
    json_t *r = cl_call(a, "agent.state.set", "{\"state\":\"break\"}");
    ck_assert_str_eq(json_string_value(json_object_get(ck_result(r), "state")), "acw");
    json_decref(r);
    usleep(300000);
    r = cl_call(a, "call.wrapup", "{\"call_id\":\"la\",\"category\":\"klacht\",\"resolved\":true,\"at\":\"%s\"}",
                h_at(since, 1.2));
    ck_assert_double_eq_tol(json_number_value(json_object_get(ck_result(r), "acw_seconds")), 0.2, 1e-6);
    json_decref(r);
    /* on break now, since the break was chosen */
    r = cl_call(s, "agents.list", "{}");
    json_t *me = json_array_get(json_object_get(ck_result(r), "agents"), 0);
    ck_assert_str_eq(json_string_value(json_object_get(me, "state")), "break");
    KicTime brk;
    ck_assert(time_parse_rfc3339(json_string_value(json_object_get(me, "since")), &brk));
    ck_assert_int_gt(brk, since + 1500 * 1000);
    json_decref(r);
    KicTime today = day_start(h_today(0));
    json_t *t = report(s, "{\"from\":\"%s\",\"to\":\"%s\",\"interval\":\"all\",\"group_by\":[\"agent\"]}",
                       local(today), local(time_add_local_days(today, 1)));
    int row = find_row(t, "agent", "a.jansen");
    ck_assert_int_ge(row, 0);
    ck_assert_double_eq_tol(json_number_value(cell(t, (size_t)row, "occupancy")),
                            (0.6 + 0.2) / time_diff_s(since, brk), 0.001); /* times to the ms */
    json_decref(t);
    cl_close(b);
    cl_close(s);
    cl_close(a);
}
END_TEST

/* The call's events come late (a bridge catching up), after the agent
 * chose a break and then available again: the break fell inside the ACW
 * the late events reveal, which lasts until the wrap-up, so the break
 * counts as neither absence nor idle time. Occupancy used to follow the
 * order kicd learned things in: the break cut the ACW short. */
START_TEST(occupancy_does_not_depend_on_when_the_call_events_came)
{
    Org o = org("lateev");
    Client *b = cl_session(kicd.port, o.bridge), *s = cl_session(kicd.port, o.super);
    Client *a = cl_session(kicd.port, o.agent);
    const char *choices[] = {"available", "break", "available"};
    KicTime since[3];
    for (int i = 0; i < 3; i++) {
        if (i)
            usleep(300000);
        since[i] = choose(a, choices[i]);
    }
    /* answered at S+0.1, ended at S+0.2: before the break at S+0.3 */
    cl_call_ok(b, "call.offered", "{\"event_id\":\"l-o\",\"call_id\":\"l\",\"at\":\"%s\",\"queue\":\"q1\"}", h_at(since[0], 0.05));
    cl_call_ok(b, "call.answered", "{\"event_id\":\"l-a\",\"call_id\":\"l\",\"at\":\"%s\",\"agent\":\"a.jansen\"}", h_at(since[0], 0.1));
    cl_call_ok(b, "call.ended", "{\"event_id\":\"l-e\",\"call_id\":\"l\",\"at\":\"%s\"}", h_at(since[0], 0.2));
    json_t *r = cl_call(a, "call.wrapup", "{\"call_id\":\"l\",\"category\":\"klacht\",\"resolved\":true}");
    double acw = json_number_value(json_object_get(ck_result(r), "acw_seconds"));
    json_decref(r);
    usleep(200000);
    KicTime brk = choose(a, "break");
    ck_assert_int_gt(since[0] + 200000 + (KicTime)(acw * 1e6), since[2]); /* the ACW spans both */
    KicTime today = day_start(h_today(0));
    json_t *t = report(s, "{\"from\":\"%s\",\"to\":\"%s\",\"interval\":\"all\",\"group_by\":[\"agent\"]}",
                       local(today), local(time_add_local_days(today, 1)));
    int row = find_row(t, "agent", "a.jansen");
    ck_assert_int_ge(row, 0);
    ck_assert_double_eq_tol(json_number_value(cell(t, (size_t)row, "occupancy")),
                            (0.1 + acw) / time_diff_s(since[0], brk), 0.001);
    json_decref(t);
    /* present: all of it from the first choice to the last break */
    t = report(s, "{\"from\":\"%s\",\"to\":\"%s\",\"interval\":\"all\"}", h_at(since[0], 0),
               h_at(brk, 0));
    ck_assert_double_eq_tol(json_number_value(cell(t, 0, "agents_present")), 1.0, 0.002); /* times to the ms */
    json_decref(t);
    cl_close(b);
    cl_close(s);
    cl_close(a);
}
END_TEST

/* A call three weeks old sent now, from before the agent ever chose a
 * state: the agent was on it, so present and busy for that long. It used
 * to leave no trace. The ACW after it does not count: the agent had not
 * logged in (offline), as the live state has it. */
START_TEST(an_old_call_counts_for_occupancy_and_presence)
{
    Org o = org("oldocc");
    Client *b = cl_session(kicd.port, o.bridge), *s = cl_session(kicd.port, o.super);
    Client *a = cl_session(kicd.port, o.agent);
    KicTime d = time_add_local_days(day_start(h_today(0)), -21) + 10LL * 3600 * 1000000;
    cl_call_ok(b, "call.offered", "{\"event_id\":\"x-o\",\"call_id\":\"x\",\"at\":\"%s\",\"queue\":\"q1\"}", h_at(d, 0));
    cl_call_ok(b, "call.answered", "{\"event_id\":\"x-a\",\"call_id\":\"x\",\"at\":\"%s\",\"agent\":\"a.jansen\"}", h_at(d, 10));
    cl_call_ok(b, "call.ended", "{\"event_id\":\"x-e\",\"call_id\":\"x\",\"at\":\"%s\"}", h_at(d, 300));
    cl_call_ok(a, "call.wrapup", "{\"call_id\":\"x\",\"category\":\"klacht\",\"resolved\":true,\"at\":\"%s\"}", h_at(d, 360));
    char range[160];
    snprintf(range, sizeof(range), "\"from\":\"%s\",", h_at(d, 0));
    snprintf(range + strlen(range), sizeof(range) - strlen(range), "\"to\":\"%s\",\"interval\":\"15m\"", h_at(d, 900));
    json_t *t = report(s, "{%s}", range);
    ck_assert_uint_eq(nrows(t), 1);
    ck_assert_double_eq_tol(json_number_value(cell(t, 0, "agents_present")), 290.0 / 900, 1e-6);
    json_decref(t);
    t = report(s, "{%s,\"group_by\":[\"agent\"]}", range);
    ck_assert_uint_eq(nrows(t), 1);
    ck_assert_double_eq_tol(json_number_value(cell(t, 0, "occupancy")), 1.0, 1e-9);
    json_decref(t);
    cl_close(b);
    cl_close(s);
    cl_close(a);
}
END_TEST

/* An agent who had not chosen a state (no desktop logged in) takes a
 * call and owes its wrap-up: while offline the ACW does not count, once
 * they choose available it does, until the wrap-up; as the live state
 * shows them: offline, then acw. The ACW used to count from the call's
 * end, and without a wrap-up it ran on to now, so the agent stayed
 * present for the rest of the day. */
START_TEST(acw_owed_while_offline_counts_once_the_agent_is_back)
{
    Org o = org("offacw");
    Client *b = cl_session(kicd.port, o.bridge), *s = cl_session(kicd.port, o.super);
    Client *a = cl_session(kicd.port, o.agent);
    KicTime t0 = h_today(0);
    cl_call_ok(b, "call.offered", "{\"event_id\":\"f-o\",\"call_id\":\"f\",\"at\":\"%s\",\"queue\":\"q1\"}", h_at(t0, -3));
    cl_call_ok(b, "call.answered", "{\"event_id\":\"f-a\",\"call_id\":\"f\",\"at\":\"%s\",\"agent\":\"a.jansen\"}", h_at(t0, -2));
    cl_call_ok(b, "call.ended", "{\"event_id\":\"f-e\",\"call_id\":\"f\",\"at\":\"%s\"}", h_at(t0, -1));
    json_t *r = cl_call(s, "agents.list", "{}");
    json_t *me = json_array_get(json_object_get(ck_result(r), "agents"), 0);
    ck_assert_str_eq(json_string_value(json_object_get(me, "state")), "offline");
    json_decref(r);
    /* nobody present between the call's end and now */
    usleep(300000);
    json_t *t = report(s, "{\"from\":\"%s\",\"to\":\"%s\",\"interval\":\"all\"}", h_at(t0, -1),
                       h_at(h_today(0), 0));
    ck_assert(nrows(t) == 0 || json_number_value(cell(t, 0, "agents_present")) == 0.0);
    json_decref(t);
    /* back: in ACW from the choice until the wrap-up */
    KicTime back = h_today(0);
    r = cl_call(a, "agent.state.set", "{\"state\":\"available\"}");
    ck_assert_str_eq(json_string_value(json_object_get(ck_result(r), "state")), "acw");
    json_decref(r);
    KicTime back_done = h_today(0);
    usleep(300000);
    json_decref(ck_ok(cl_call(a, "call.wrapup", "{\"call_id\":\"f\",\"category\":\"klacht\",\"resolved\":true,\"at\":\"%s\"}",
                              h_at(back, 0.2))));
    KicTime brk = choose(a, "break");
    /* present: the talk (1 s), then from the choice to the break; busy:
     * the talk and the 0.2 s of ACW */
    t = report(s, "{\"from\":\"%s\",\"to\":\"%s\",\"interval\":\"all\"}", h_at(t0, -3), h_at(brk, 0));
    double span = time_diff_s(t0, brk) + 3, slack = time_diff_s(back, back_done) + 0.002;
    double present = json_number_value(cell(t, 0, "agents_present")) * span;
    ck_assert_double_le(present, 1 + time_diff_s(back, brk) + 0.002);
    ck_assert_double_ge(present, 1 + time_diff_s(back, brk) - slack);
    json_decref(t);
    t = report(s, "{\"from\":\"%s\",\"to\":\"%s\",\"interval\":\"all\",\"group_by\":[\"agent\"]}",
               h_at(t0, -3), h_at(brk, 0));
    int row = find_row(t, "agent", "a.jansen");
    ck_assert_int_ge(row, 0);
    double busy = json_number_value(cell(t, (size_t)row, "occupancy")) * present;
    ck_assert_double_le(busy, 1.2 + 0.002);
    ck_assert_double_ge(busy, 1.2 - slack);
    json_decref(t);
    cl_close(b);
    cl_close(s);
    cl_close(a);
}
END_TEST

/* A part that ends ahead of now (the platform's clock leads kicd's, up
 * to event_skew_s) is present and busy only until now: the time
 * divided by ends at now too. It gave 54 agents present for one. */
START_TEST(presence_ends_at_now)
{
    Org o = org("present_now");
    Client *b = cl_session(kicd.port, o.bridge), *s = cl_session(kicd.port, o.super);
    KicTime t0 = h_today(0);
    cl_call_ok(b, "call.offered", "{\"event_id\":\"pn-o\",\"call_id\":\"pn\",\"at\":\"%s\",\"queue\":\"q1\"}", h_at(t0, -6));
    cl_call_ok(b, "call.answered", "{\"event_id\":\"pn-a\",\"call_id\":\"pn\",\"at\":\"%s\",\"agent\":\"a.jansen\"}", h_at(t0, -5));
    cl_call_ok(b, "call.ended", "{\"event_id\":\"pn-e\",\"call_id\":\"pn\",\"at\":\"%s\"}", h_at(t0, 600));
    usleep(300000);
    json_t *t = report(s, "{\"from\":\"%s\",\"to\":\"%s\",\"interval\":\"all\"}", h_at(t0, -10),
                       h_at(t0, 3600));
    double present = json_number_value(cell(t, 0, "agents_present"));
    ck_assert_msg(present <= 1.0 + 1e-6 && present > 0.3, "agents_present %f", present);
    json_decref(t);
    t = report(s, "{\"from\":\"%s\",\"to\":\"%s\",\"interval\":\"all\",\"group_by\":[\"agent\"]}",
               h_at(t0, -10), h_at(t0, 3600));
    int row = find_row(t, "agent", "a.jansen");
    ck_assert_int_ge(row, 0);
    ck_assert_double_le(json_number_value(cell(t, (size_t)row, "occupancy")), 1.0 + 1e-6);
    json_decref(t);
    cl_close(b);
    cl_close(s);
}
END_TEST

/* A contact offered in the 15-minute block in which repeat windows are
 * closing now (7 days back): the rollup cannot see inside the block, so
 * both sources count the contact by its block, pending until the block's
 * last moment is 7 days old. They used to differ here. */
START_TEST(both_sources_count_fcr_in_the_closing_block_alike)
{
    Org o = org("fcredge");
    Client *b = cl_session(kicd.port, o.bridge), *s = cl_session(kicd.port, o.super);
    const KicTime block_us = 900 * KIC_USEC;
    KicTime now, closed;
    for (;;) { /* far enough into its block to fit a contact before it */
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        now = (KicTime)ts.tv_sec * KIC_USEC + ts.tv_nsec / 1000;
        closed = time_add_local_days(now, -7);
        long long into = (long long)(closed % block_us / KIC_USEC);
        if (into >= 20 && into < 890)
            break;
        sleep((unsigned)(into < 20 ? 21 - into : 921 - into));
    }
    KicTime at = closed - 10 * KIC_USEC; /* in the block, before its window closed */
    cl_call_ok(b, "call.offered",
               "{\"event_id\":\"f-o\",\"call_id\":\"f\",\"at\":\"%s\",\"queue\":\"q\","
               "\"caller\":\"+31610009999\"}",
               h_at(at, 0));
    cl_call_ok(b, "call.answered",
               "{\"event_id\":\"f-a\",\"call_id\":\"f\",\"at\":\"%s\",\"agent\":\"a.jansen\"}",
               h_at(at, 2));
    KicTime day = day_start(at);
    json_t *roll = report(s, "{\"from\":\"%s\",\"to\":\"%s\",\"interval\":\"all\"}", local(day),
                          local(time_add_local_days(day, 1)));
    json_t *calls_t = report(s, "{\"from\":\"%s\",\"to\":\"%s\",\"interval\":\"all\"}",
                             local(day + KIC_USEC), local(time_add_local_days(day, 1) - KIC_USEC));
    ck_assert_str_eq(json_string_value(json_object_get(roll, "source")), "rollup");
    ck_assert_str_eq(json_string_value(json_object_get(calls_t, "source")), "calls");
    /* (not the whole row: the agent's open on_call interval runs to
     * "now", which moves between the two reports) */
    json_t *both[2] = {roll, calls_t};
    for (int i = 0; i < 2; i++) {
        ck_assert_int_eq(cell_int(both[i], 0, "answered"), 1);
        ck_assert_int_eq(cell_int(both[i], 0, "fcr_pending"), 1);
        ck_assert_int_eq(cell_int(both[i], 0, "fcr_closed"), 0);
        ck_assert(json_is_null(cell(both[i], 0, "fcr_rate")));
    }
    json_decref(roll);
    json_decref(calls_t);
    cl_close(b);
    cl_close(s);
}
END_TEST

/* ---- bad requests ---- */

/* Rows come by interval, then by group value, also where callbacks fall
 * in quarter hours without calls (before, between and after them), and
 * the rollup and the calls table agree on them. */
START_TEST(rows_by_interval_with_callbacks_between_the_calls)
{
    Org o = org("order");
    Client *b = cl_session(kicd.port, o.bridge), *s = cl_session(kicd.port, o.super);
    KicTime nine = time_add_local_days(day_start(h_today(0)), -3) + 9 * 3600 * KIC_USEC;
    /* calls: 09:00 thuiszorg, 09:30 wijkverpleging, 10:00 thuiszorg */
    const struct { int min; const char *queue; } calls[] = {
        {30, "wijkverpleging"}, {0, "thuiszorg"}, {60, "thuiszorg"}};
    for (int i = 0; i < 3; i++)
        cl_call_ok(b, "call.offered",
                   "{\"event_id\":\"o%d\",\"call_id\":\"c%d\",\"at\":\"%s\",\"queue\":\"%s\"}", i,
                   i, h_at(nine, calls[i].min * 60), calls[i].queue);
    /* callbacks: 08:45 and 09:15 (no calls there), 09:30 and 10:00
     * thuiszorg, 11:00 (after the last call) */
    const int cb_min[] = {60, -15, 120, 15, 30};
    for (int i = 0; i < 5; i++)
        cl_call_ok(b, "callback.requested",
                   "{\"event_id\":\"r%d\",\"callback_id\":\"cb%d\",\"caller\":\"06123400%02d\","
                   "\"queue\":\"thuiszorg\",\"at\":\"%s\"}",
                   i, i, i, h_at(nine, cb_min[i] * 60 + 10));
    const struct { const char *time, *queue; int offered, callbacks; } want[] = {
        {"T08:45:00", "thuiszorg", 0, 1}, {"T09:00:00", "thuiszorg", 1, 0},
        {"T09:15:00", "thuiszorg", 0, 1}, {"T09:30:00", "thuiszorg", 0, 1},
        {"T09:30:00", "wijkverpleging", 1, 0}, {"T10:00:00", "thuiszorg", 1, 1},
        {"T11:00:00", "thuiszorg", 0, 1}};
    KicTime day = day_start(nine);
    json_t *roll = report(s, "{\"from\":\"%s\",\"to\":\"%s\",\"interval\":\"15m\",\"group_by\":[\"queue\"]}",
                          local(day), local(time_add_local_days(day, 1)));
    ck_assert_str_eq(json_string_value(json_object_get(roll, "source")), "rollup");
    ck_assert_uint_eq(nrows(roll), 7);
    for (size_t r = 0; r < 7; r++) {
        const char *start = json_string_value(cell(roll, r, "interval_start"));
        ck_assert_msg(start && strstr(start, want[r].time), "row %zu starts %s", r, start);
        ck_assert_str_eq(json_string_value(cell(roll, r, "queue")), want[r].queue);
        ck_assert_int_eq(cell_int(roll, r, "offered"), want[r].offered);
        ck_assert_int_eq(cell_int(roll, r, "callbacks_requested"), want[r].callbacks);
    }
    /* the calls table (bounds off the quarter hour) gives the same rows */
    json_t *calls_t = report(s, "{\"from\":\"%s\",\"to\":\"%s\",\"interval\":\"15m\",\"group_by\":[\"queue\"]}",
                             local(day + KIC_USEC), local(time_add_local_days(day, 1) - KIC_USEC));
    ck_assert_str_eq(json_string_value(json_object_get(calls_t, "source")), "calls");
    assert_same_table(roll, calls_t, "15m by queue");
    json_decref(roll);
    json_decref(calls_t);
    cl_close(b);
    cl_close(s);
}
END_TEST

/* A kicd whose reports stop at 2 rows ([limits] report_max_rows): a
 * third row is refused with the field to change, both from the rollup
 * (streamed) and from the calls table, and the connection goes on. */
START_TEST(a_report_over_the_row_limit_is_refused)
{
    Kicd small;
    kicd_init(&small, "report_limit", "[limits]\nreport_max_rows = 2\n");
    kicd_start(&small);
    Org o = org_of(&small, "limit");
    Client *b = cl_session(small.port, o.bridge), *s = cl_session(small.port, o.super);
    KicTime day = time_add_local_days(day_start(h_today(0)), -2), nine = day + 9 * 3600 * KIC_USEC;
    for (int i = 0; i < 3; i++)
        cl_call_ok(b, "call.offered", "{\"event_id\":\"o%d\",\"call_id\":\"c%d\",\"at\":\"%s\",\"queue\":\"thuiszorg\"}",
                   i, i, h_at(nine, i * 3600));
    const char *range[][2] = {{local(day), local(time_add_local_days(day, 1))},
                              {local(day + KIC_USEC), local(time_add_local_days(day, 1) - KIC_USEC)}};
    for (int k = 0; k < 2; k++) {
        json_t *r = cl_call(s, "report.query", "{\"from\":\"%s\",\"to\":\"%s\",\"interval\":\"1h\"}",
                            range[k][0], range[k][1]);
        ck_assert_int_eq(rpc_code(r), -32602);
        json_t *data = json_object_get(json_object_get(r, "error"), "data");
        ck_assert_str_eq(json_string_value(json_object_get(data, "field")), "interval");
        json_decref(r);
        /* two rows fit */
        json_t *t = report(s, "{\"from\":\"%s\",\"to\":\"%s\",\"interval\":\"1d\",\"group_by\":[\"queue\"]}",
                           range[k][0], range[k][1]);
        ck_assert_uint_eq(nrows(t), 1);
        ck_assert_int_eq(cell_int(t, 0, "offered"), 3);
        json_decref(t);
    }
    /* a report by agent is an export of agents' figures, audit-logged;
     * refused, it read nothing and records nothing */
    json_t *r = cl_call(s, "report.query",
                        "{\"from\":\"%s\",\"to\":\"%s\",\"interval\":\"1h\",\"group_by\":[\"agent\"]}",
                        range[0][0], range[0][1]);
    ck_assert_int_eq(rpc_code(r), -32602);
    json_decref(r);
    const char *audited = "SELECT count(*) FROM audit_log WHERE action = 'report.query'";
    ck_assert_int_eq(h_sql_int(small.conninfo, audited), 0);
    json_decref(report(s, "{\"from\":\"%s\",\"to\":\"%s\",\"interval\":\"1d\",\"group_by\":[\"agent\"]}",
                       range[0][0], range[0][1]));
    ck_assert_int_eq(h_sql_int(small.conninfo, audited), 1);
    cl_close(b);
    cl_close(s);
    ck_assert(kicd_stop(&small));
}
END_TEST

/* The stored 15-minute sums follow the thresholds: a kicd started with
 * another service-level threshold on the same database rebuilds them
 * from the calls before it serves, so the rollup (an aligned period)
 * and the calls table (an unaligned one) agree, by the new threshold. */
START_TEST(sums_are_rebuilt_when_the_thresholds_change)
{
    Kicd a, b;
    kicd_init(&a, "thresholds", NULL);
    kicd_start(&a);
    Org o = org_of(&a, "drempel");
    Client *br = cl_session(a.port, o.bridge);
    KicTime day = time_add_local_days(day_start(h_today(0)), -2), nine = day + 9 * 3600 * KIC_USEC;
    const int waits[] = {10, 25, 40}; /* seconds before the answer */
    for (int i = 0; i < 3; i++) {
        cl_call_ok(br, "call.offered", "{\"event_id\":\"o%d\",\"call_id\":\"c%d\",\"at\":\"%s\",\"queue\":\"thuiszorg\"}",
                   i, i, h_at(nine, i * 60));
        cl_call_ok(br, "call.answered", "{\"event_id\":\"a%d\",\"call_id\":\"c%d\",\"at\":\"%s\",\"agent\":\"a.jansen\"}",
                   i, i, h_at(nine, i * 60 + waits[i]));
    }
    cl_close(br);
    const char *range[][2] = {{local(day), local(time_add_local_days(day, 1))},
                              {local(day + KIC_USEC), local(time_add_local_days(day, 1) - KIC_USEC)}};
    const char *sources[] = {"rollup", "calls"};
    const int in_sl[][2] = {{1, 1}, {2, 2}}; /* by 20 s, then by 30 s */
    for (int run = 0; run < 2; run++) {
        Kicd *k = run ? &b : &a;
        if (run) {
            ck_assert(kicd_stop(&a));
            kicd_init(&b, "thresholds30", "[metrics]\nsl_threshold_s = 30\n");
            snprintf(b.conninfo, sizeof(b.conninfo), "%s", a.conninfo);
            kicd_start(&b);
        }
        Client *s = cl_session(k->port, o.super);
        for (int p = 0; p < 2; p++) {
            json_t *t = report(s, "{\"from\":\"%s\",\"to\":\"%s\",\"interval\":\"1d\",\"group_by\":[\"queue\"]}",
                               range[p][0], range[p][1]);
            ck_assert_str_eq(json_string_value(json_object_get(t, "source")), sources[p]);
            ck_assert_int_eq(cell_int(t, 0, "answered"), 3);
            ck_assert_int_eq(cell_int(t, 0, "answered_in_sl"), in_sl[run][p]);
            json_decref(t);
        }
        cl_close(s);
    }
    ck_assert(kicd_log_contains(&b, "15-minute sums rebuilt"));
    ck_assert(kicd_stop(&b));
    /* a restart with the same thresholds leaves the sums alone */
    Kicd c;
    kicd_init(&c, "thresholds30b", "[metrics]\nsl_threshold_s = 30\n");
    snprintf(c.conninfo, sizeof(c.conninfo), "%s", a.conninfo);
    kicd_start(&c);
    Client *s = cl_session(c.port, o.super); /* logged in: the live state is loaded */
    json_t *t = report(s, "{\"from\":\"%s\",\"to\":\"%s\",\"interval\":\"1d\",\"group_by\":[\"queue\"]}",
                       range[0][0], range[0][1]);
    ck_assert_int_eq(cell_int(t, 0, "answered_in_sl"), 2);
    json_decref(t);
    cl_close(s);
    ck_assert(!kicd_log_contains(&c, "rebuilding"));
    ck_assert(kicd_stop(&c));
}
END_TEST

/* The repeat flags follow repeat_window_days: a kicd started with another
 * window on the same database marks every stored call again and rebuilds
 * the sums, so an old contact counts as a repeat by the window configured
 * now, in the rollup and the calls table alike. Contacts of one caller
 * 3 days apart (x1, x2) and 9 days apart (y1, y2); windows 7, 10, 2. */
START_TEST(repeat_flags_follow_the_window)
{
    static const struct {
        const char *conf;
        int x1, y1; /* x1's and y1's flags by this window */
    } runs[] = {
        {NULL, 1, 0},
        {"[metrics]\nrepeat_window_days = 10\n[storage]\ncache_days = 12\n", 1, 1},
        {"[metrics]\nrepeat_window_days = 2\n", 0, 0},
        {"[metrics]\nrepeat_window_days = 2\n", 0, 0}, /* the same again: nothing to do */
    };
    Kicd k[4];
    KicTime today = day_start(h_today(0)), ten = 10 * 3600 * KIC_USEC;
    const KicTime x1 = time_add_local_days(today, -40) + ten, x2 = time_add_local_days(today, -37) + ten,
                  y1 = time_add_local_days(today, -30) + ten, y2 = time_add_local_days(today, -21) + ten;
    const struct {
        const char *id;
        KicTime at;
    } calls[] = {{"x1", x1}, {"x2", x2}, {"y1", y1}, {"y2", y2}};
    Org o;
    for (int run = 0; run < 4; run++) {
        char name[32];
        snprintf(name, sizeof(name), "window%d", run);
        kicd_init(&k[run], name, runs[run].conf);
        if (run) {
            ck_assert(kicd_stop(&k[run - 1]));
            snprintf(k[run].conninfo, sizeof(k[run].conninfo), "%s", k[0].conninfo);
        }
        kicd_start(&k[run]);
        if (run == 0) {
            o = org_of(&k[0], "herhaal");
            Client *br = cl_session(k[0].port, o.bridge);
            for (size_t i = 0; i < 4; i++) {
                cl_call_ok(br, "call.offered", "{\"event_id\":\"o-%s\",\"call_id\":\"%s\",\"at\":\"%s\","
                           "\"queue\":\"thuiszorg\",\"caller\":\"+31612345678\"}",
                           calls[i].id, calls[i].id, h_at(calls[i].at, 0));
                cl_call_ok(br, "call.answered", "{\"event_id\":\"a-%s\",\"call_id\":\"%s\",\"at\":\"%s\","
                           "\"agent\":\"a.jansen\"}", calls[i].id, calls[i].id, h_at(calls[i].at, 10));
                cl_call_ok(br, "call.ended", "{\"event_id\":\"e-%s\",\"call_id\":\"%s\",\"at\":\"%s\","
                           "\"by\":\"caller\"}", calls[i].id, calls[i].id, h_at(calls[i].at, 100));
            }
            cl_close(br);
        }
        Client *s = cl_session(k[run].port, o.super); /* logged in: loaded */
        const struct {
            const char *id;
            KicTime day;
            int want;
        } checks[] = {{"x1", day_start(x1), runs[run].x1}, {"y1", day_start(y1), runs[run].y1}};
        for (int c = 0; c < 2; c++) {
            char sql[128];
            snprintf(sql, sizeof(sql), "SELECT followed_by_repeat::int FROM calls WHERE call_id = '%s'",
                     checks[c].id);
            ck_assert_msg(h_sql_int(k[run].conninfo, sql) == checks[c].want, "run %d: %s's flag", run,
                          checks[c].id);
            /* the day whole (rollup) and a second short of it (calls) */
            const KicTime d = checks[c].day, e = time_add_local_days(d, 1);
            const KicTime from[] = {d, d + KIC_USEC}, to[] = {e, e - KIC_USEC};
            for (int p = 0; p < 2; p++) {
                char f[64], t[64];
                snprintf(f, sizeof(f), "%s", local(from[p]));
                snprintf(t, sizeof(t), "%s", local(to[p]));
                json_t *r = report(s, "{\"from\":\"%s\",\"to\":\"%s\",\"interval\":\"1d\"}", f, t);
                ck_assert_msg(cell_int(r, 0, "repeated") == checks[c].want, "run %d: %s's day (%s)",
                              run, checks[c].id, json_string_value(json_object_get(r, "source")));
                json_decref(r);
            }
        }
        cl_close(s);
        ck_assert_int_eq(kicd_log_contains(&k[run], "repeat flags marked again"), run == 1 || run == 2);
    }
    /* y1 became a repeat; then x1, x2 (y1 came 7 days after it) and y1
     * stopped being ones */
    ck_assert(kicd_log_contains(&k[1], "repeat flags marked again for a window of 10 days (calls changed: 1)"));
    ck_assert(kicd_log_contains(&k[2], "repeat flags marked again for a window of 2 days (calls changed: 3)"));
    ck_assert(kicd_stop(&k[3]));
}
END_TEST

START_TEST(every_parameter_error_and_role)
{
    Org o = org("reperr");
    Client *s = cl_session(kicd.port, o.super), *a = cl_session(kicd.port, o.agent);
    Client *b = cl_session(kicd.port, o.bridge), *ad = cl_session(kicd.port, o.admin);
    Client *anon = cl_connect(kicd.port);
    const char *good = "{\"from\":\"2026-11-01T00:00:00+01:00\",\"to\":\"2026-11-02T00:00:00+01:00\",\"interval\":\"1h\"}";
    static const struct {
        const char *params, *field;
    } bad[] = {
        {"{\"to\":\"2026-11-02T00:00:00Z\",\"interval\":\"1h\"}", "from"},
        {"{\"from\":\"gisteren\",\"to\":\"2026-11-02T00:00:00Z\",\"interval\":\"1h\"}", "from"},
        {"{\"from\":20261101,\"to\":\"2026-11-02T00:00:00Z\",\"interval\":\"1h\"}", "from"},
        {"{\"from\":\"2026-11-01T00:00:00Z\",\"interval\":\"1h\"}", "to"},
        {"{\"from\":\"2026-11-02T00:00:00Z\",\"to\":\"2026-11-01T00:00:00Z\",\"interval\":\"1h\"}", "to"},
        {"{\"from\":\"2026-11-01T00:00:00Z\",\"to\":\"2026-11-01T00:00:00Z\",\"interval\":\"1h\"}", "to"},
        {"{\"from\":\"2000-01-01T00:00:00Z\",\"to\":\"2026-11-01T00:00:00Z\",\"interval\":\"all\"}", "to"},
        /* ten years and a day (eleven years passed before) */
        {"{\"from\":\"2016-01-01T00:00:00+01:00\",\"to\":\"2026-01-02T00:00:00+01:00\",\"interval\":\"all\"}", "to"},
        {"{\"from\":\"2015-01-01T00:00:00Z\",\"to\":\"2026-01-01T00:00:00Z\",\"interval\":\"1mo\"}", "to"},
        {"{\"from\":\"2026-11-01T00:00:00Z\",\"to\":\"2026-11-02T00:00:00Z\"}", "interval"},
        {"{\"from\":\"2026-11-01T00:00:00Z\",\"to\":\"2026-11-02T00:00:00Z\",\"interval\":\"2h\"}", "interval"},
        {"{\"from\":\"2026-11-01T00:00:00Z\",\"to\":\"2026-11-02T00:00:00Z\",\"interval\":60}", "interval"},
        {"{\"from\":\"2026-11-01T00:00:00Z\",\"to\":\"2026-11-02T00:00:00Z\",\"interval\":\"1h\",\"group_by\":\"queue\"}", "group_by"},
        {"{\"from\":\"2026-11-01T00:00:00Z\",\"to\":\"2026-11-02T00:00:00Z\",\"interval\":\"1h\",\"group_by\":[\"postcode\"]}", "group_by"},
        {"{\"from\":\"2026-11-01T00:00:00Z\",\"to\":\"2026-11-02T00:00:00Z\",\"interval\":\"1h\",\"group_by\":[\"queue\",\"queue\"]}", "group_by"},
        {"{\"from\":\"2026-11-01T00:00:00Z\",\"to\":\"2026-11-02T00:00:00Z\",\"interval\":\"1h\",\"group_by\":[7]}", "group_by"},
        {"{\"from\":\"2026-11-01T00:00:00Z\",\"to\":\"2026-11-02T00:00:00Z\",\"interval\":\"1h\",\"tz\":\"Mars/Olympus_Mons\"}", "tz"},
        {"{\"from\":\"2026-11-01T00:00:00Z\",\"to\":\"2026-11-02T00:00:00Z\",\"interval\":\"1h\",\"tz\":42}", "tz"},
        /* POSIX strings, not zone names (PostgreSQL took "+05:00" as UTC-05:00) */
        {"{\"from\":\"2026-11-01T00:00:00Z\",\"to\":\"2026-11-02T00:00:00Z\",\"interval\":\"1h\",\"tz\":\"+05:00\"}", "tz"},
        {"{\"from\":\"2026-11-01T00:00:00Z\",\"to\":\"2026-11-02T00:00:00Z\",\"interval\":\"1h\",\"tz\":\"UTC+5\"}", "tz"},
        {"{\"from\":\"2026-11-01T00:00:00Z\",\"to\":\"2026-11-02T00:00:00Z\",\"interval\":\"1h\",\"tz\":\"/etc/localtime\"}", "tz"},
        /* the host's zone, templates, other conventions, tables (review 3b F5) */
        {"{\"from\":\"2026-11-01T00:00:00Z\",\"to\":\"2026-11-02T00:00:00Z\",\"interval\":\"1h\",\"tz\":\"localtime\"}", "tz"},
        {"{\"from\":\"2026-11-01T00:00:00Z\",\"to\":\"2026-11-02T00:00:00Z\",\"interval\":\"1h\",\"tz\":\"posixrules\"}", "tz"},
        {"{\"from\":\"2026-11-01T00:00:00Z\",\"to\":\"2026-11-02T00:00:00Z\",\"interval\":\"1h\",\"tz\":\"Factory\"}", "tz"},
        {"{\"from\":\"2026-11-01T00:00:00Z\",\"to\":\"2026-11-02T00:00:00Z\",\"interval\":\"1h\",\"tz\":\"right/Europe/Amsterdam\"}", "tz"},
        {"{\"from\":\"2026-11-01T00:00:00Z\",\"to\":\"2026-11-02T00:00:00Z\",\"interval\":\"1h\",\"tz\":\"zone.tab\"}", "tz"},
        /* 64 characters, 192 bytes: within the limit, but no zone's name */
        {"{\"from\":\"2026-11-01T00:00:00Z\",\"to\":\"2026-11-02T00:00:00Z\",\"interval\":\"1h\",\"tz\":\"Europe/€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€\"}", "tz"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
        json_t *r = cl_call(s, "report.query", "%s", bad[i].params);
        ck_assert_msg(rpc_code(r) == -32602, "case %zu: %d", i, rpc_code(r));
        if (bad[i].field) {
            json_t *data = json_object_get(json_object_get(r, "error"), "data");
            ck_assert_msg(json_is_string(json_object_get(data, "field")) &&
                              strcmp(json_string_value(json_object_get(data, "field")), bad[i].field) == 0,
                          "case %zu: field %s", i, bad[i].field);
        }
        json_decref(r);
    }
    /* ten years to the day, in local time with its offsets, is allowed */
    json_decref(ck_ok(cl_call(s, "report.query", "{\"from\":\"2016-07-01T00:00:00+02:00\",\"to\":\"2026-07-01T00:00:00+02:00\",\"interval\":\"all\"}")));
    json_decref(ck_ok(cl_call(s, "report.query", "{\"from\":\"2016-01-01T00:00:00+01:00\",\"to\":\"2026-01-01T00:00:00+01:00\",\"interval\":\"1mo\"}")));
    ck_assert_rpc_error(cl_call(s, "report.query", "[1,2]"), -32602);
    ck_assert_rpc_error(cl_call(a, "report.query", "%s", good), -32003);
    ck_assert_rpc_error(cl_call(b, "report.query", "%s", good), -32003);
    ck_assert_rpc_error(cl_call(anon, "report.query", "%s", good), -32001);
    json_decref(report(ad, "%s", good));
    /* the connection is still good */
    json_t *t = report(s, "%s", good);
    ck_assert_uint_eq(nrows(t), 0);
    json_decref(t);
    cl_close(s);
    cl_close(a);
    cl_close(b);
    cl_close(ad);
    cl_close(anon);
}
END_TEST

int main(void)
{
    kicd_init(&kicd, "report", NULL);
    kicd_start(&kicd);
    Suite *s = suite_create("report");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 180);
    tcase_add_test(tc, rollup_and_calls_table_give_the_same_report);
    tcase_add_test(tc, a_contact_moved_by_a_late_offer_leaves_no_empty_row);
    tcase_add_test(tc, a_cut_interval_counts_its_own_length);
    tcase_add_test(tc, repeat_and_fcr_rates_are_over_answered_contacts);
    tcase_add_test(tc, both_sources_count_fcr_in_the_closing_block_alike);
    tcase_add_test(tc, todays_report_equals_the_live_numbers);
    tcase_add_test(tc, days_have_23_and_25_hours_when_the_clocks_change);
    tcase_add_test(tc, groups_by_every_dimension);
    tcase_add_test(tc, hours_begin_on_the_hour_in_every_zone);
    tcase_add_test(tc, callbacks_and_occupancy);
    tcase_add_test(tc, occupancy_with_a_wrapup_dated_before_a_later_break);
    tcase_add_test(tc, occupancy_does_not_depend_on_when_the_call_events_came);
    tcase_add_test(tc, an_old_call_counts_for_occupancy_and_presence);
    tcase_add_test(tc, acw_owed_while_offline_counts_once_the_agent_is_back);
    tcase_add_test(tc, presence_ends_at_now);
    tcase_add_test(tc, rows_by_interval_with_callbacks_between_the_calls);
    tcase_add_test(tc, a_report_over_the_row_limit_is_refused);
    tcase_add_test(tc, sums_are_rebuilt_when_the_thresholds_change);
    tcase_add_test(tc, repeat_flags_follow_the_window);
    tcase_add_test(tc, every_parameter_error_and_role);
    suite_add_tcase(s, tc);
    return h_run_suite(s, &kicd);
}
