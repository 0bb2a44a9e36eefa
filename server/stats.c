/* stats.live: the live snapshot (PROTOCOL.md "Live snapshot"), computed
 * from memory by the domain and only formatted here. Per queue and in
 * total: waiting, longest wait, agents by state, today's counts and
 * rates, and the raw sums they come from. fcr_rate is provisional for
 * today: the repeat windows of today's contacts are still open. */
#include <math.h>
#include <string.h>

#include "methods.h"
#include "params.h"
#include "stats.h"
#include "subscribe.h"

/* Six decimals, as report.query writes them: today's live figures and
 * today's report read the same. */
static json_t *rate(double v)
{
    return metrics_defined(v) ? json_real(round(v * 1e6) / 1e6) : json_null();
}

static json_t *queue_json(const QueueSnapshot *q)
{
    json_t *o = json_object();
    if (q->queue)
        json_object_set_new(o, "queue", json_string(q->queue));
    json_object_set_new(o, "waiting", json_integer(q->waiting));
    json_object_set_new(o, "longest_wait_s", json_real(round(q->longest_wait_s * 10.0) / 10.0));
    json_t *agents = json_object();
    for (int i = 0; i < AGENT_STATE_COUNT; i++)
        json_object_set_new(agents, agent_state_names[i], json_integer(q->agents[i]));
    json_object_set_new(o, "agents", agents);
    json_object_set_new(o, "offered", json_integer(q->today.offered));
    json_object_set_new(o, "answered", json_integer(q->today.answered));
    json_object_set_new(o, "abandoned", json_integer(q->today.abandoned));
    json_object_set_new(o, "short_abandoned", json_integer(q->today.short_abandoned));
    for (size_t i = 0; metric_rate_names[i]; i++)
        json_object_set_new(o, metric_rate_names[i], rate(metrics_rate_at(&q->rates, i)));
    json_object_set_new(o, "fcr_rate", rate(q->rates.fcr_provisional_rate));
    json_object_set_new(o, "fcr_pending", json_integer(q->today.answered));
    json_object_set_new(o, "callbacks_open", json_integer(q->callbacks_open));
    json_object_set_new(o, "callbacks_overdue", json_integer(q->callbacks_overdue));
    json_t *sums = json_object();
    for (size_t i = 0; metric_sum_names[i]; i++)
        json_object_set_new(sums, metric_sum_names[i], json_integer(metrics_sum_at(&q->today, i)));
    json_object_set_new(o, "sums", sums);
    return o;
}

static bool wanted(json_t *filter, const char *queue)
{
    if (!filter)
        return true;
    size_t i;
    json_t *v;
    json_array_foreach(filter, i, v)
    {
        if (strcmp(json_string_value(v), queue) == 0)
            return true;
    }
    return false;
}

static json_t *stats_targets_json(const Config *cfg)
{
    return json_pack("{s:f, s:I, s:I}", "service_level", cfg->sl_target,
                     "service_level_threshold_s", (json_int_t)cfg->sl_threshold_s,
                     "short_abandon_s", (json_int_t)cfg->short_abandon_s);
}

json_t *stats_snapshot_json(const Config *cfg, Tenant *t, json_t *filter, KicTime now)
{
    CentreSnapshot snap;
    if (!centre_snapshot(t->centre, now, &snap))
        return NULL;
    char at[40];
    time_format_local(now, at, sizeof(at));
    json_t *queues = json_array();
    for (size_t i = 0; i < snap.nqueues; i++)
        if (wanted(filter, snap.queues[i].queue))
            json_array_append_new(queues, queue_json(&snap.queues[i]));
    json_t *out = json_pack("{s:s, s:o, s:o, s:o}", "at", at, "targets", stats_targets_json(cfg),
                            "total", queue_json(&snap.total), "queues", queues);
    centre_snapshot_free(&snap);
    return out;
}

void method_stats_live(Conn *c, Reply *r, json_t *params, const Method *m)
{
    json_t *filter;
    RpcError err = {0};
    if (!param_string_list(params, "queues", false, 1000, KIC_MAX_FIELD, &filter, &err)) {
        reply_error(r, &err);
        rpc_error_clear(&err);
        return;
    }
    json_t *snap = stats_snapshot_json(&c->srv->cfg, c->sess.tenant, filter, server_now());
    if (!snap) {
        reply_errorf(r, RPC_INTERNAL, "internal error: out of memory");
        return;
    }
    reply_result(r, snap);
}

/* ---- stats.subscribe ---- */

static void push_update(Subscriber *sub, const char *json, size_t len)
{
    conn_send_notification(sub->owner, "stats.update", json, len);
}

void method_stats_subscribe(Conn *c, Reply *r, json_t *params, const Method *m)
{
    long long interval = 1000;
    RpcError err = {0};
    if (!param_int(params, "interval_ms", false, 250, 3600000, &interval, &err)) {
        reply_error(r, &err);
        rpc_error_clear(&err);
        return;
    }
    Subscriber *sub = &c->sub;
    sub->srv = c->srv;
    sub->tenant = c->sess.tenant;
    sub->interval_ms = (int)interval;
    sub->send = push_update;
    sub->idle = NULL;
    sub->owner = c;
    reply_result(r, json_pack("{s:b, s:I}", "subscribed", 1, "interval_ms", (json_int_t)interval));
    subscriber_start(sub);
    conn_log(c, LOG_DEBUG, "subscribed to live statistics every %lld ms", (long long)interval);
}
