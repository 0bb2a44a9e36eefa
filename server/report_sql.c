/* The SQL of report.query: see report_sql.h, and report.c for where the
 * sums come from. */
#include "report_sql.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "metrics.h"
#include "strbuf.h"

/* The bucket of a timestamptz column, in the session time zone. Every
 * zone's offset is a whole number of quarter hours, so quarters can count
 * from one fixed origin. Half hours and hours count from the local
 * midnight of the row's own day: an origin in 2000 carries that year's
 * offset, and a zone whose offset moved by half an hour since (Colombo,
 * +06:00 then, +05:30 now) would have its hours start at :30. */
static void bucket_sql(StrBuf *b, const ReportReq *q, const char *col)
{
    switch (q->interval) {
    case I_15M: strbuf_printf(b, "date_bin('15 minutes', %s, '2000-01-03 00:00'::timestamptz)", col); break;
    case I_30M: strbuf_printf(b, "date_bin('30 minutes', %s, date_trunc('day', %s))", col, col); break;
    case I_1H: strbuf_printf(b, "date_bin('1 hour', %s, date_trunc('day', %s))", col, col); break;
    case I_1D: strbuf_printf(b, "date_trunc('day', %s)", col); break;
    case I_1W: strbuf_printf(b, "date_trunc('week', %s)", col); break;
    case I_1MO: strbuf_printf(b, "date_trunc('month', %s)", col); break;
    default: strbuf_puts(b, "NULL::timestamptz"); break;
    }
}

/* The bucket as its epoch (seconds): one key for every statement.
 * date_part, not extract: extract computes in numeric, several times
 * slower over a year of quarter hours. */
static void bucket_key_sql(StrBuf *b, const ReportReq *q, const char *col)
{
    strbuf_puts(b, "date_part('epoch', ");
    bucket_sql(b, q, col);
    strbuf_puts(b, ")::bigint");
}

static void group_select(StrBuf *b, const ReportReq *q)
{
    for (int k = 0; k < q->ngroup; k++)
        strbuf_printf(b, "%s, ", report_dim_names[q->group[k]]);
}

static void group_by(StrBuf *b, const ReportReq *q)
{
    strbuf_puts(b, " GROUP BY ");
    for (int k = 0; k < q->ngroup; k++)
        strbuf_printf(b, "%d, ", k + 1);
    strbuf_printf(b, "%d ORDER BY %d", q->ngroup + 1, q->ngroup + 1);
    for (int k = 0; k < q->ngroup; k++)
        strbuf_printf(b, ", %d", k + 1);
}

/* The rollup's rows as they are (binary results): dims, the bucket's
 * epoch, MetricSums in order, and whether the block's repeat windows
 * have all closed ($4: the first block not closed). kicd adds them up: the
 * answer for a year by quarter hour and queue is that many rows anyway,
 * and adding in C is cheaper than grouping in SQL and printing text.
 * In the primary key's order, so they come by interval (rows_sort). */
char *report_rollup_sql(const ReportReq *q)
{
    StrBuf b = STRBUF_INIT;
    strbuf_puts(&b, "SELECT ");
    group_select(&b, q);
    bucket_key_sql(&b, q, "bucket");
    for (size_t i = 0; metric_sum_names[i]; i++)
        strbuf_printf(&b, ", %s", metric_sum_names[i]);
    /* a row whose contacts all moved away (a late, earlier offer gave
     * one another queue or block) is kept at zero by the writer's
     * additions: no contacts, no row, as from the calls table */
    strbuf_puts(&b, ", bucket < $4 FROM call_sums_15m"
                    " WHERE tenant_id = $1 AND bucket >= $2 AND bucket < $3 AND offered <> 0"
                    " ORDER BY bucket, queue, channel, direction");
    return strbuf_steal(&b);
}

/* metrics_add_call in SQL: the MetricSums columns, in order, over the
 * calls of call_rows(); $<sl> and $<shortab> are the service-level
 * threshold and the short-abandon limit in microseconds. Sums of
 * microseconds are taken as float8: exact below 2^53 (285 years), and
 * much faster than numeric. */
static void call_sums_columns(StrBuf *b, int sl, int shortab)
{
    strbuf_printf(b,
        ", count(*)"                                                              /* offered */
        ", count(*) FILTER (WHERE answered)"                                      /* answered */
        ", count(*) FILTER (WHERE abandoned)"                                     /* abandoned */
        ", count(*) FILTER (WHERE abandoned AND w <= $%d)"                        /* short_abandoned */
        ", count(*) FILTER (WHERE answered AND w <= $%d)"                         /* answered_in_sl */
        ", coalesce(sum(w::float8) FILTER (WHERE answered), 0)::bigint"           /* wait_answered_us */
        ", count(*) FILTER (WHERE answered AND part_end_at IS NOT NULL)"          /* talk_n */
        ", coalesce(sum(t::float8) FILTER (WHERE answered AND part_end_at IS NOT NULL), 0)::bigint"
        ", coalesce(sum(h::float8) FILTER (WHERE answered AND part_end_at IS NOT NULL), 0)::bigint"
        ", count(*) FILTER (WHERE answered AND part_end_at IS NOT NULL AND wrapped)" /* acw_n */
        ", coalesce(sum(a::float8) FILTER (WHERE answered AND part_end_at IS NOT NULL AND wrapped), 0)::bigint"
        ", coalesce(sum((t + h + a)::float8) FILTER (WHERE answered AND part_end_at IS NOT NULL AND wrapped), 0)::bigint"
        ", count(*) FILTER (WHERE answered AND transferred)"                      /* transferred */
        ", count(*) FILTER (WHERE answered AND wrapped AND resolved)"             /* resolved */
        ", count(*) FILTER (WHERE answered AND identified)"                       /* identified */
        ", count(*) FILTER (WHERE answered AND followed_by_repeat)"               /* repeated */
        ", count(*) FILTER (WHERE fcr)"                                           /* fcr_provisional */
        ", count(*) FILTER (WHERE caller_key IS NULL)",                           /* withheld */
        shortab, sl);
}

/* The calls (with what call_sums_columns needs) that `where` selects. */
static void call_rows(StrBuf *b, const char *where)
{
    strbuf_printf(b,
        " FROM (SELECT *, round(coalesce(wait_s, 0) * 1e6)::bigint AS w,"
        "              round(coalesce(talk_s, 0) * 1e6)::bigint AS t,"
        "              round(coalesce(hold_s, 0) * 1e6)::bigint AS h,"
        "              round(coalesce(acw_s, 0) * 1e6)::bigint AS a,"
        "              wrapped_at IS NOT NULL AS wrapped, caller_key IS NOT NULL AS identified,"
        "              answered AND NOT followed_by_repeat"
        "                AND NOT transferred AND wrapped_at IS NOT NULL AND resolved AS fcr"
        "       FROM calls WHERE %s) c", where);
}

/* The same sums from the calls table, grouped here. $4: contacts
 * offered before it have their repeat window closed; $5 the
 * service-level threshold and $6 the short-abandon limit. */
char *report_calls_sql(const ReportReq *q)
{
    StrBuf b = STRBUF_INIT;
    strbuf_puts(&b, "SELECT ");
    group_select(&b, q);
    bucket_key_sql(&b, q, "offered_at");
    call_sums_columns(&b, 5, 6);
    strbuf_puts(&b,
        ", count(*) FILTER (WHERE answered AND offered_at < $4)"                 /* fcr_closed */
        ", count(*) FILTER (WHERE fcr AND offered_at < $4)");                    /* fcr_ok */
    call_rows(&b, "tenant_id = $1 AND offered_at >= $2 AND offered_at < $3");
    group_by(&b, q);
    return strbuf_steal(&b);
}

char *report_rollup_rebuild_sql(void)
{
    StrBuf b = STRBUF_INIT;
    strbuf_puts(&b, "INSERT INTO call_sums_15m (tenant_id, bucket, queue, channel, direction");
    for (size_t i = 0; metric_sum_names[i]; i++)
        strbuf_printf(&b, ", %s", metric_sum_names[i]);
    strbuf_puts(&b, ") SELECT tenant_id,"
                    " to_timestamp(floor(extract(epoch FROM offered_at) / 900) * 900),"
                    " coalesce(queue, ''), channel, direction");
    call_sums_columns(&b, 1, 2);
    call_rows(&b, "offered_at IS NOT NULL");
    /* in key order: reports read the table by key range, and rows
     * stored in that order are read in few pages */
    strbuf_puts(&b, " GROUP BY 1, 2, 3, 4, 5 ORDER BY 1, 2, 3, 4, 5");
    return strbuf_steal(&b);
}

/* Callbacks requested in each interval and what became of them, when the
 * grouping is by team and/or queue only. */
bool report_callbacks_apply(const ReportReq *q)
{
    for (int k = 0; k < q->ngroup; k++)
        if (q->group[k] != D_TEAM && q->group[k] != D_QUEUE)
            return false;
    return true;
}

char *report_callbacks_sql(const ReportReq *q)
{
    StrBuf b = STRBUF_INIT;
    strbuf_puts(&b, "SELECT ");
    group_select(&b, q);
    bucket_key_sql(&b, q, "created_at");
    strbuf_puts(&b, ", count(*), count(*) FILTER (WHERE status = 'done'),"
                    " count(*) FILTER (WHERE status = 'done' AND closed_at <= due_by),"
                    " count(*) FILTER (WHERE status = 'cancelled'),"
                    " count(*) FILTER (WHERE status IN ('open', 'claimed')),"
                    " count(*) FILTER (WHERE status IN ('open', 'claimed') AND due_by < now()),"
                    " coalesce(sum(attempts), 0),"
                    " avg(extract(epoch FROM closed_at - created_at)) FILTER (WHERE status = 'done')"
                    " FROM callbacks WHERE tenant_id = $1 AND created_at >= $2 AND created_at < $3");
    group_by(&b, q);
    return strbuf_steal(&b);
}

/* The agents' facts behind presence, merged into intervals i(agent, kind,
 * since, until): kind b(usy) or p(resent). See report_presence_sql. */
static const char presence_ctes[] =
    "WITH RECURSIVE sa AS ("
    "  (SELECT agent FROM agent_choice_history WHERE tenant_id = $1 ORDER BY agent LIMIT 1)"
    "  UNION ALL"
    "  SELECT (SELECT s.agent FROM agent_choice_history s WHERE s.tenant_id = $1"
    "          AND s.agent > sa.agent ORDER BY s.agent LIMIT 1) FROM sa WHERE sa.agent IS NOT NULL),"
    " la AS ("
    "  (SELECT agent FROM call_legs WHERE tenant_id = $1 ORDER BY agent LIMIT 1)"
    "  UNION ALL"
    "  SELECT (SELECT l.agent FROM call_legs l WHERE l.tenant_id = $1 AND l.agent > la.agent"
    "          ORDER BY l.agent LIMIT 1) FROM la WHERE la.agent IS NOT NULL),"
    " a AS (SELECT agent FROM sa WHERE agent IS NOT NULL"
    "       UNION SELECT agent FROM la WHERE agent IS NOT NULL),"
    /* the choices: the last before the day before from, and since */
    " ch AS (SELECT a.agent, x.since AS t, x.state FROM a CROSS JOIN LATERAL ("
    "  (SELECT since, state FROM agent_choice_history WHERE tenant_id = $1 AND agent = a.agent"
    "    AND since < $2::timestamptz - interval '1 day' ORDER BY since DESC, state DESC LIMIT 1)"
    "  UNION ALL"
    "  (SELECT since, state FROM agent_choice_history WHERE tenant_id = $1 AND agent = a.agent"
    "    AND since >= $2::timestamptz - interval '1 day' AND since < $3)) x),"
    /* the legs: likewise, and the first after to */
    " lg AS (SELECT a.agent, x.* FROM a CROSS JOIN LATERAL ("
    "  (SELECT call_id, answered_at, end_at, wrapped_at FROM call_legs"
    "    WHERE tenant_id = $1 AND agent = a.agent"
    "    AND answered_at < $2::timestamptz - interval '1 day' ORDER BY answered_at DESC LIMIT 1)"
    "  UNION ALL"
    "  (SELECT call_id, answered_at, end_at, wrapped_at FROM call_legs"
    "    WHERE tenant_id = $1 AND agent = a.agent"
    "    AND answered_at >= $2::timestamptz - interval '1 day' AND answered_at < $3)"
    "  UNION ALL"
    "  (SELECT call_id, answered_at, end_at, wrapped_at FROM call_legs"
    "    WHERE tenant_id = $1 AND agent = a.agent AND answered_at >= $3"
    "    ORDER BY answered_at LIMIT 1)) x),"
    " ln AS (SELECT *, lead(answered_at) OVER (PARTITION BY agent ORDER BY answered_at, call_id)"
    "   AS next_answer FROM lg),"
    /* around each leg's end, in one timeline of the ends and the
     * choices (a choice at the end's instant is in effect at it): the
     * choice in effect at the end (grp: the choices so far), and,
     * read backwards, the first choice and the first offline at or
     * after it */
    " tl AS (SELECT agent, call_id, answered_at, end_at AS t, 0 AS k, NULL::text AS state"
    "          FROM lg WHERE end_at IS NOT NULL"
    "        UNION ALL SELECT agent, NULL, NULL, t, 1, state FROM ch),"
    " tg AS (SELECT *, count(*) FILTER (WHERE k = 1) OVER (PARTITION BY agent"
    "   ORDER BY t, k DESC, state ROWS UNBOUNDED PRECEDING) AS grp FROM tl),"
    " off AS (SELECT agent, call_id, answered_at, k,"
    "   max(state) OVER (PARTITION BY agent, grp) AS at_end,"
    "   min(t) FILTER (WHERE k = 1) OVER later AS next_choice,"
    "   min(t) FILTER (WHERE state = 'offline') OVER later AS next_off FROM tg"
    "   WINDOW later AS (PARTITION BY agent ORDER BY t DESC, k DESC"
    "         ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING)),"
    /* on each call, then in ACW until the wrap-up, the next call or
     * going offline; while offline (chosen, or never chose a state)
     * the ACW owed does not count until the agent is back: as the
     * live state has it (lib/agent.h) */
    " busy AS ("
    "  SELECT agent, answered_at AS s, coalesce(end_at, next_answer, $5::timestamptz) AS e FROM ln"
    "  UNION ALL"
    "  SELECT ln.agent, CASE WHEN coalesce(off.at_end, 'offline') <> 'offline' THEN ln.end_at"
    "    ELSE coalesce(off.next_choice, 'infinity') END,"
    "   least(coalesce(ln.wrapped_at, 'infinity'),"
    "    coalesce(ln.next_answer, 'infinity'), coalesce(off.next_off, 'infinity'), $5::timestamptz)"
    "   FROM ln JOIN off ON off.k = 0 AND off.agent = ln.agent AND off.call_id = ln.call_id"
    "    AND off.answered_at = ln.answered_at),"
    " f AS (SELECT agent, 'b' AS kind, s, e FROM busy"
    "  UNION ALL SELECT agent, 'p', s, e FROM busy"
    "  UNION ALL SELECT agent, 'p', s, e FROM (SELECT agent, state, t AS s,"
    "    coalesce(lead(t) OVER (PARTITION BY agent ORDER BY t, state), $5::timestamptz) AS e FROM ch) c"
    "   WHERE state = 'available'),"
    /* clipped to [from, to) and to now, kicd's ($5: a part may end
     * ahead of it when the platform's clock leads; the time divided by
     * ends at kicd's now too, whatever the database's clock says),
     * then merged where they overlap */
    " fc AS (SELECT * FROM (SELECT agent, kind, greatest(s, $2) AS s, least(e, $3, $5::timestamptz) AS e"
    "   FROM f) y WHERE e > s),"
    " fm AS (SELECT *, max(e) OVER (PARTITION BY agent, kind ORDER BY s, e"
    "   ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS before FROM fc),"
    " fg AS (SELECT *, count(*) FILTER (WHERE before IS NULL OR s > before)"
    "   OVER (PARTITION BY agent, kind ORDER BY s, e) AS island FROM fm),"
    " i AS (SELECT agent, kind, min(s) AS since, max(e) AS until FROM fg"
    "   GROUP BY agent, kind, island)";

/* Seconds agents spent busy (on a call or in ACW) and present (logged
 * in, not on break) per bucket, per agent or for all agents together.
 * From the facts, whatever order they arrived in: each agent's legs
 * (call_legs: on the call from the answer to the end of their part,
 * then ACW until the wrap-up's time, their next call or their logging
 * off) laid over the states they chose (agent_choice_history; not
 * agent_states, which holds kicd's view as it went, in the order it
 * learned things). Busy is the union of the legs' times; present
 * is that and the times they chose available. Only what touches
 * [from, to) is read, agent by agent along the keys (the agents
 * themselves by skipping along them): each agent's choices and legs from
 * a day before `from` (a part still open then), the last of each before
 * that, and their first leg after `to` (which ends an ACW). Each
 * merged interval is clipped to [from, to) and spread over the buckets
 * it spans; joining every bucket with every fact instead takes minutes
 * over a year. */
char *report_presence_sql(const ReportReq *q, bool by_agent)
{
    StrBuf b = STRBUF_INIT;
    strbuf_puts(&b, presence_ctes);
    /* the bucket's start and end: each bucket an interval spans, or
     * [from, to) for "all" */
    char bs[24] = "$2::timestamptz", be[48] = "$3::timestamptz";
    if (q->interval != I_ALL) {
        snprintf(bs, sizeof(bs), "g");
        snprintf(be, sizeof(be), "g + interval '%s'", report_steps[q->interval]);
    }
    strbuf_printf(&b,
        " SELECT %sCASE WHEN $4 THEN NULL ELSE date_part('epoch', %s)::bigint END,"
        "  sum(extract(epoch FROM least(i.until, %s) - greatest(i.since, %s)))"
        "    FILTER (WHERE i.kind = 'b'),"
        "  sum(extract(epoch FROM least(i.until, %s) - greatest(i.since, %s)))"
        "    FILTER (WHERE i.kind = 'p')"
        " FROM i",
        by_agent ? "i.agent, " : "", bs, be, bs, be, bs);
    if (q->interval != I_ALL) {
        strbuf_puts(&b, " CROSS JOIN LATERAL generate_series(");
        bucket_sql(&b, q, "i.since");
        strbuf_printf(&b, ", i.until - interval '1 microsecond', interval '%s') g",
                      report_steps[q->interval]);
    }
    strbuf_printf(&b, " WHERE i.until > i.since GROUP BY %s", by_agent ? "1, 2" : "1");
    return strbuf_steal(&b);
}

char *report_lengths_sql(const ReportReq *q)
{
    if (q->interval == I_ALL)
        return strdup("SELECT $1::timestamptz, $2::timestamptz WHERE false");
    StrBuf b = STRBUF_INIT;
    strbuf_printf(&b, "SELECT date_part('epoch', g)::bigint, date_part('timezone', g)::int,"
                      " date_part('epoch', g + interval '%s')::bigint FROM generate_series(",
                  report_steps[q->interval]);
    bucket_sql(&b, q, "$1::timestamptz");
    strbuf_printf(&b, ", $2::timestamptz - interval '1 microsecond', interval '%s') g",
                  report_steps[q->interval]);
    return strbuf_steal(&b);
}
