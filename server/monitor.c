/* Counters, histograms and the /metrics text (monitor.h). */
#include "monitor.h"

#include <stdlib.h>
#include <string.h>

#include "centre.h"
#include "http.h"
#include "journal.h"
#include "pg.h"
#include "strbuf.h"
#include "tenants.h"
#include "writer.h"

static const double batch_bounds[] = {1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000};
static const double commit_bounds[] = {0.0005, 0.001, 0.002, 0.005, 0.01, 0.02,
                                       0.05,   0.1,   0.2,   0.5,   1,    5};

Metrics *monitor_new(void)
{
    Metrics *m = calloc(1, sizeof(*m));
    if (!m)
        return NULL;
    m->batch_size.bounds = batch_bounds;
    m->batch_size.nbounds = KIC_ARRAY_LEN(batch_bounds);
    m->commit_seconds.bounds = commit_bounds;
    m->commit_seconds.nbounds = KIC_ARRAY_LEN(commit_bounds);
    return m;
}

void monitor_free(Metrics *m)
{
    free(m);
}

void mon_observe(Histogram *h, double value)
{
    size_t i = 0;
    while (i < h->nbounds && value > h->bounds[i])
        i++;
    h->counts[i]++; /* i == nbounds: the +Inf bucket */
    h->count++;
    h->sum += value;
}

static void header(StrBuf *b, const char *name, const char *type, const char *help)
{
    strbuf_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void histogram(StrBuf *b, const char *name, const char *help, const Histogram *h)
{
    header(b, name, "histogram", help);
    uint64_t cumulative = 0;
    for (size_t i = 0; i < h->nbounds; i++) {
        cumulative += h->counts[i];
        strbuf_printf(b, "%s_bucket{le=\"%g\"} %llu\n", name, h->bounds[i],
                      (unsigned long long)cumulative);
    }
    strbuf_printf(b, "%s_bucket{le=\"+Inf\"} %llu\n", name, (unsigned long long)h->count);
    strbuf_printf(b, "%s_sum %.6f\n%s_count %llu\n", name, h->sum, name,
                  (unsigned long long)h->count);
}

/* Label values as the format wants them: \ " and newline escaped. */
static void label_value(StrBuf *b, const char *v)
{
    for (; *v; v++) {
        if (*v == '\\' || *v == '"')
            strbuf_printf(b, "\\%c", *v);
        else if (*v == '\n')
            strbuf_puts(b, "\\n");
        else
            strbuf_printf(b, "%c", *v);
    }
}

static void waiting_per_queue(StrBuf *b, Server *s)
{
    header(b, "kicd_waiting_calls", "gauge", "Calls waiting in a queue now.");
    header(b, "kicd_longest_wait_seconds", "gauge", "The longest current wait in a queue.");
    size_t pos = 0;
    Tenant *t;
    KicTime now = server_now();
    StrBuf longest = STRBUF_INIT;
    while (tenants_next(s->tenants, &pos, &t)) {
        CentreSnapshot snap;
        if (!t->ready || !centre_snapshot(t->centre, now, &snap))
            continue;
        for (size_t i = 0; i < snap.nqueues; i++) {
            const QueueSnapshot *q = &snap.queues[i];
            StrBuf labels = STRBUF_INIT;
            strbuf_puts(&labels, "{tenant=\"");
            label_value(&labels, t->name);
            strbuf_puts(&labels, "\",queue=\"");
            label_value(&labels, q->queue ? q->queue : "");
            strbuf_puts(&labels, "\"}");
            strbuf_printf(b, "kicd_waiting_calls%s %lld\n", labels.data, (long long)q->waiting);
            strbuf_printf(&longest, "kicd_longest_wait_seconds%s %.3f\n", labels.data,
                          q->longest_wait_s);
            strbuf_free(&labels);
        }
        centre_snapshot_free(&snap);
    }
    /* a metric's samples must follow its own header */
    if (longest.data)
        strbuf_puts(b, longest.data);
    strbuf_free(&longest);
}

char *monitor_prometheus(Server *s)
{
    Metrics *m = s->metrics;
    StrBuf b = STRBUF_INIT;
    header(&b, "kicd_up", "gauge", "1 while kicd serves (its live state is loaded).");
    strbuf_printf(&b, "kicd_up %d\n", s->ready ? 1 : 0);
    header(&b, "kicd_postgres_up", "gauge", "1 while the writer's PostgreSQL connection is up.");
    strbuf_printf(&b, "kicd_postgres_up %d\n", pgconn_is_up(s->pg_writer) ? 1 : 0);
    header(&b, "kicd_uptime_seconds", "gauge", "Seconds since kicd started.");
    strbuf_printf(&b, "kicd_uptime_seconds %.0f\n",
                  (double)(server_now() - s->started_at) / KIC_USEC);
    header(&b, "kicd_connections", "gauge", "Open JSON-RPC connections by role.");
    size_t logged_in = 0;
    for (int r = 0; r < ROLE_COUNT; r++) {
        strbuf_printf(&b, "kicd_connections{role=\"%s\"} %zu\n", role_name((Role)r),
                      s->conns_by_role[r]);
        logged_in += s->conns_by_role[r];
    }
    strbuf_printf(&b, "kicd_connections{role=\"none\"} %zu\n", s->nconns - logged_in);
    header(&b, "kicd_http_connections", "gauge", "Open HTTP connections (event streams among them).");
    strbuf_printf(&b, "kicd_http_connections %zu\n", http_connections(s->http));
    header(&b, "kicd_events_total", "counter", "Telephony events by result.");
    strbuf_printf(&b, "kicd_events_total{result=\"accepted\"} %llu\n",
                  (unsigned long long)m->events_accepted);
    strbuf_printf(&b, "kicd_events_total{result=\"duplicate\"} %llu\n",
                  (unsigned long long)m->events_duplicate);
    strbuf_printf(&b, "kicd_events_total{result=\"rejected\"} %llu\n",
                  (unsigned long long)m->events_rejected);
    header(&b, "kicd_requests_total", "counter", "JSON-RPC requests received.");
    strbuf_printf(&b, "kicd_requests_total %llu\n", (unsigned long long)m->requests);
    header(&b, "kicd_request_errors_total", "counter", "JSON-RPC requests answered with an error.");
    strbuf_printf(&b, "kicd_request_errors_total %llu\n", (unsigned long long)m->request_errors);
    header(&b, "kicd_http_requests_total", "counter", "HTTP requests served.");
    strbuf_printf(&b, "kicd_http_requests_total %llu\n", (unsigned long long)m->http_requests);
    header(&b, "kicd_journal_records", "gauge",
           "Group commits in the local journal, waiting for PostgreSQL.");
    strbuf_printf(&b, "kicd_journal_records %zu\n", journal_records(s->journal));
    header(&b, "kicd_journal_bytes", "gauge", "Size of the local journal.");
    strbuf_printf(&b, "kicd_journal_bytes %zu\n", journal_bytes(s->journal));
    header(&b, "kicd_journal_damaged", "gauge",
           "Damaged or torn records found in the journal (skipped).");
    strbuf_printf(&b, "kicd_journal_damaged %zu\n", journal_damaged(s->journal));
    WriterStats ws;
    writer_stats(s->writer, &ws);
    header(&b, "kicd_batches_total", "counter", "Group commits by where they went.");
    strbuf_printf(&b, "kicd_batches_total{to=\"postgres\"} %llu\n", (unsigned long long)ws.stored);
    strbuf_printf(&b, "kicd_batches_total{to=\"journal\"} %llu\n", (unsigned long long)ws.journaled);
    header(&b, "kicd_writer_queue", "gauge", "Records waiting for a group commit.");
    strbuf_printf(&b, "kicd_writer_queue %zu\n", ws.queued);
    histogram(&b, "kicd_batch_size", "Records per group commit.", &m->batch_size);
    histogram(&b, "kicd_commit_seconds", "From a batch sent to its COMMIT answered.",
              &m->commit_seconds);
    waiting_per_queue(&b, s);
    return strbuf_steal(&b);
}
