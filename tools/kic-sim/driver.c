/* The driver: pulls actions from the simulation, hands them to their
 * connections, books kicd's answers, and ends the run.
 *
 * Pacing. Live: an action goes when the wall clock reaches its stamp.
 * Bulk: the bridge's pending list is kept one window ahead, so kicd is
 * never waiting for us, and memory stays bounded.
 *
 * Order across connections. An agent's request that names a bridge action
 * in `after` waits until kicd has answered every bridge action up to it
 * (the bridge's oldest unanswered seq is past it): a wrap-up never
 * overtakes the end of the call it wraps up. One that names an agent's
 * action in `follows` waits until that one is answered: attempts on one
 * callback by two agents arrive in order. A claim of a callback that an
 * agent created waits for kicd's answer to the create, which names it.
 *
 * Answers. Accepted or duplicate: done. -32601: kicd does not have the
 * method yet; it is not sent again (one warning). -32029, -32050 and
 * -32603: retried with a back-off. -32009: a conflict (a wrap-up already
 * there after a re-run, a claim someone else holds): counted, no retry.
 * Anything else: counted and logged, rate-limited, and the run goes on. */
#include "driver.h"

#include <event2/dns.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>

#include "jsonrpc.h"
#include "toollog.h"
#include "jsonw.h"
#include "strbuf.h"

/* Requests held in memory at most (bulk): the rest stays in the model. */
#define DRIVER_MAX_IN_MEMORY 200000
#define DRIVER_TICK_MS 250
#define DRIVER_DRAIN_S 10

KicTime driver_now(void)
{
    struct timeval tv;
    gettimeofday(&tv, NULL);
    return (KicTime)tv.tv_sec * KIC_USEC + tv.tv_usec;
}

static SimConn *conn_of(Driver *d, const SimAction *a)
{
    return &d->conns[a->agent == SIM_BRIDGE ? 0 : 1 + a->agent];
}

/* The oldest bridge action kicd has not answered (UINT64_MAX: none). */
static uint64_t bridge_unanswered(Driver *d)
{
    SimConn *b = &d->conns[0];
    uint64_t min = b->pending.head ? b->pending.head->a.seq : UINT64_MAX;
    if (b->inflight.n == 0) {
        d->bridge_unsorted = false;
    } else if (d->bridge_unsorted) {
        for (Request *r = b->inflight.head; r; r = r->next)
            if (r->a.seq < min)
                min = r->a.seq;
    } else if (b->inflight.head->a.seq < min) {
        min = b->inflight.head->a.seq;
    }
    return min;
}

static CallbackId *callback_id(Driver *d, uint64_t create_seq)
{
    char key[24];
    snprintf(key, sizeof(key), "%llu", (unsigned long long)create_seq);
    return strmap_get(&d->callback_ids, key);
}

/* Books what kicd called a created callback (NULL: it was not created). */
static void callback_id_set(Driver *d, uint64_t create_seq, const char *id)
{
    CallbackId *ci = calloc(1, sizeof(*ci));
    if (!ci)
        return; /* its claims will wait until the end of the run, then count as unanswered */
    snprintf(ci->key, sizeof(ci->key), "%llu", (unsigned long long)create_seq);
    ci->id = id ? strdup(id) : NULL;
    CallbackId *old = strmap_put(&d->callback_ids, ci->key, ci);
    if (old) {
        free(old->id);
        free(old);
    }
}

bool driver_ready(Driver *d, const Request *r, bool *skip)
{
    const SimAction *a = &r->a;
    if (d->disabled[a->method]) {
        *skip = true;
        return false;
    }
    if (a->after && bridge_unanswered(d) <= a->after)
        return false;
    if (a->follows) {
        char key[24];
        snprintf(key, sizeof(key), "%llu", (unsigned long long)a->follows);
        if (strmap_get(&d->agent_unanswered, key))
            return false;
    }
    if (a->callback_ref) {
        CallbackId *ci = callback_id(d, a->callback_ref);
        if (!ci)
            return false;
        if (!ci->id) {
            *skip = true;
            return false;
        }
    }
    return true;
}

char *driver_request_line(Driver *d, const Request *r, long id)
{
    const SimAction *a = &r->a;
    StrBuf b = STRBUF_INIT;
    strbuf_printf(&b, "{\"jsonrpc\":\"2.0\",\"id\":%ld,\"method\":\"%s\",\"params\":", id,
                  sim_method_names[a->method]);
    if (a->callback_ref) {
        CallbackId *ci = callback_id(d, a->callback_ref);
        strbuf_puts(&b, "{\"callback_id\":");
        jw_escape(&b, ci && ci->id ? ci->id : "");
        strbuf_puts(&b, a->params[1] == '}' ? "" : ",");
        strbuf_puts(&b, a->params + 1);
    } else {
        strbuf_puts(&b, a->params);
    }
    strbuf_putc(&b, '}');
    return strbuf_steal(&b);
}

static void request_free(Driver *d, Request *r)
{
    if (r->key[0])
        strmap_remove(&d->agent_unanswered, r->key);
    sim_action_clear(&r->a);
    free(r);
    d->in_memory--;
}

void driver_skip(Driver *d, Request *r, const char *why)
{
    d->counts[r->a.method].skipped++;
    if (r->a.method == SM_CB_CREATE)
        callback_id_set(d, r->a.seq, NULL);
    if (why)
        log_limited(LOG_WARN, "skip", "%s not sent: %s", sim_method_names[r->a.method], why);
    request_free(d, r);
}

static KicTime retry_delay(unsigned attempts)
{
    KicTime delay = KIC_USEC / 2;
    for (unsigned i = 1; i < attempts && delay < 30 * KIC_USEC; i++)
        delay *= 2;
    return delay > 30 * KIC_USEC ? 30 * KIC_USEC : delay;
}

bool driver_answer(Driver *d, SimConn *c, Request *r, json_t *msg)
{
    SimMethod m = r->a.method;
    const char *name = sim_method_names[m];
    MethodCounts *mc = &d->counts[m];
    d->answered_total++;
    json_t *err = json_object_get(msg, "error");
    if (!err) {
        json_t *res = json_object_get(msg, "result");
        if (json_is_true(json_object_get(res, "duplicate")))
            mc->duplicate++;
        else
            mc->ok++;
        if (m == SM_CB_CREATE) {
            const char *id = json_string_value(json_object_get(res, "callback_id"));
            if (!id)
                log_limited(LOG_WARN, "create-no-id", "kicd created a callback without naming it");
            callback_id_set(d, r->a.seq, id);
        }
        request_free(d, r);
        return false;
    }
    int code = (int)json_integer_value(json_object_get(err, "code"));
    const char *message = json_string_value(json_object_get(err, "message"));
    message = message ? message : "";
    char key[64];
    snprintf(key, sizeof(key), "%s %d", name, code);
    switch (code) {
    case RPC_METHOD_NOT_FOUND:
        if (!d->disabled[m])
            log_write(LOG_WARN, "kicd does not have %s yet (-32601): not sending it any more", name);
        d->disabled[m] = true;
        mc->skipped++;
        break;
    case RPC_OVERLOADED:
    case RPC_STORAGE_UNAVAILABLE:
    case RPC_INTERNAL: {
        mc->retried++;
        d->answered_total--;
        KicTime delay = retry_delay(r->attempts);
        r->not_before = driver_now() + delay;
        log_limited(LOG_WARN, key, "kicd cannot take %s now (%d %s): retrying in %.1f s", name, code,
                    message, (double)delay / KIC_USEC);
        return true;
    }
    case RPC_CONFLICT:
        mc->conflict++;
        log_limited(m == SM_WRAPUP ? LOG_DEBUG : LOG_INFO, key, "%s: %s (%s)", c->name, message, name);
        break;
    default: {
        mc->error++;
        char *data = json_dumps(json_object_get(err, "data"), JSON_COMPACT | JSON_ENCODE_ANY);
        log_limited(LOG_ERROR, key, "kicd refused %s from %s (%d %s%s%s): %.300s", name, c->name, code,
                    message, data ? " " : "", data ? data : "", r->a.params);
        free(data);
        break;
    }
    }
    if (m == SM_CB_CREATE)
        callback_id_set(d, r->a.seq, NULL);
    request_free(d, r);
    return false;
}

void driver_conn_dead(Driver *d, SimConn *c)
{
    if (c->index == 0) {
        log_write(LOG_ERROR, "the bridge cannot log in: stopping");
        d->fatal = true;
        event_base_loopbreak(d->base);
        return;
    }
    Request *r;
    while ((r = reqlist_pop(&c->pending)))
        driver_skip(d, r, NULL);
    log_write(LOG_WARN, "%s: its wrap-ups, states and callbacks are not sent", c->name);
}

/* ---- pulling from the model ---- */

static void enqueue(Driver *d, SimAction *a)
{
    SimConn *c = conn_of(d, a);
    Request *r = calloc(1, sizeof(*r));
    if (!r) {
        log_limited(LOG_ERROR, "oom", "out of memory: %s lost", sim_method_names[a->method]);
        sim_action_clear(a);
        return;
    }
    r->a = *a;
    d->in_memory++;
    if (a->agent != SIM_BRIDGE) {
        snprintf(r->key, sizeof(r->key), "%llu", (unsigned long long)a->seq);
        strmap_put(&d->agent_unanswered, r->key, r);
    }
    if (c->state == SC_DEAD) {
        if (!c->token && !d->no_agent_tokens_warned) {
            log_write(LOG_WARN, "no token for agent %s (--agents): agents' requests are not sent", c->name);
            d->no_agent_tokens_warned = true;
        }
        driver_skip(d, r, NULL);
        return;
    }
    reqlist_insert_sorted(&c->pending, r);
}

/* Model time of the wall clock (live). */
static KicTime model_now(const Driver *d, KicTime wall)
{
    return d->cfg.model_start + (KicTime)((double)(wall - d->cfg.stamp_origin) * d->cfg.speed);
}

static void finish_if_done(Driver *d)
{
    if ((d->sim_done && d->in_memory == 0) ||
        (d->stopping && (d->in_memory == 0 || driver_now() > d->drain_deadline)))
        event_base_loopbreak(d->base);
}

static void pull(Driver *d)
{
    KicTime now = driver_now();
    while (!d->sim_done) {
        if (d->cfg.bulk && (d->conns[0].pending.n >= d->cfg.max_inflight ||
                            d->in_memory >= DRIVER_MAX_IN_MEMORY))
            break;
        if (!d->have_held) {
            if (!sim_next(d->sim, &d->held)) {
                d->sim_done = true;
                break;
            }
            d->have_held = true;
        }
        if (!d->cfg.bulk && !d->stopping && d->held.stamp > now) {
            KicTime wait = d->held.stamp - now;
            struct timeval tv = {(time_t)(wait / KIC_USEC), (suseconds_t)(wait % KIC_USEC)};
            event_add(d->ev_pump, &tv);
            break;
        }
        d->have_held = false;
        enqueue(d, &d->held);
    }
}

void driver_kick(Driver *d)
{
    if (d->fatal)
        return;
    pull(d);
    for (int i = 0; i < d->nconns; i++)
        simconn_flush(&d->conns[i]);
    finish_if_done(d);
}

static void on_pump(evutil_socket_t fd, short what, void *arg)
{
    driver_kick(arg);
}

/* ---- progress, signals ---- */

static void progress(Driver *d, bool last)
{
    KicTime now = driver_now();
    if (!last && now - d->last_progress < KIC_USEC / 4)
        return;
    d->last_progress = now;
    double span = (double)(d->cfg.model_end - d->cfg.model_start);
    double done = span > 0 ? (double)(sim_time(d->sim) - d->cfg.model_start) / span : 1;
    if (d->sim_done)
        done = 1;
    done = done < 0 ? 0 : done > 1 ? 1 : done;
    char bar[31];
    int full = (int)(done * 30);
    for (int i = 0; i < 30; i++)
        bar[i] = i < full ? '#' : '.';
    bar[30] = '\0';
    double secs = (double)(now - d->started) / KIC_USEC;
    char day[40];
    time_format_local(sim_time(d->sim), day, sizeof(day));
    day[10] = '\0';
    fprintf(stderr, "\r\033[K[%s] %5.1f%%  %s  %llu contacts  %.0f req/s%s", bar, done * 100, day,
            (unsigned long long)sim_stats(d->sim)->contacts,
            secs > 0 ? (double)d->answered_total / secs : 0.0, last ? "\n" : "");
    log_set_progress_line(!last);
}

static void on_tick(evutil_socket_t fd, short what, void *arg)
{
    Driver *d = arg;
    KicTime now = driver_now();
    for (int i = 0; i < d->nconns; i++)
        simconn_tick(&d->conns[i], now);
    if (d->cfg.progress)
        progress(d, false);
    driver_kick(d);
}

static void on_signal(evutil_socket_t sig, short what, void *arg)
{
    Driver *d = arg;
    if (d->stopping) {
        log_write(LOG_WARN, "second signal: leaving at once");
        event_base_loopbreak(d->base);
        return;
    }
    d->stopping = true;
    d->drain_deadline = driver_now() + DRIVER_DRAIN_S * KIC_USEC;
    event_del(d->ev_pump);
    if (d->have_held) {
        sim_action_clear(&d->held);
        d->have_held = false;
    }
    if (d->cfg.bulk) {
        d->interrupted = true;
        d->sim_done = true;
        log_write(LOG_INFO, "signal %d: stopping; waiting up to %d s for kicd's answers", (int)sig,
                  DRIVER_DRAIN_S);
    } else {
        /* the agents on duty log off, then the run ends */
        sim_stop(d->sim, model_now(d, driver_now()));
        log_write(LOG_INFO, "signal %d: agents log off; waiting up to %d s for kicd's answers", (int)sig,
                  DRIVER_DRAIN_S);
    }
    driver_kick(d);
}

/* ---- the summary ---- */

static json_t *summary_json(Driver *d)
{
    const SimStats *st = sim_stats(d->sim);
    json_t *methods = json_object();
    unsigned long long sent = 0, ok = 0, dup = 0, conflict = 0, error = 0, skipped = 0, retried = 0;
    for (int m = 0; m < SM_COUNT; m++) {
        const MethodCounts *mc = &d->counts[m];
        if (st->by_method[m] == 0)
            continue;
        json_object_set_new(methods, sim_method_names[m],
                            json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}", "generated",
                                      (json_int_t)st->by_method[m], "sent", (json_int_t)mc->sent,
                                      "ok", (json_int_t)mc->ok, "duplicate", (json_int_t)mc->duplicate,
                                      "conflict", (json_int_t)mc->conflict, "error",
                                      (json_int_t)mc->error, "skipped", (json_int_t)mc->skipped,
                                      "retried", (json_int_t)mc->retried));
        sent += mc->sent;
        ok += mc->ok;
        dup += mc->duplicate;
        conflict += mc->conflict;
        error += mc->error;
        skipped += mc->skipped;
        retried += mc->retried;
    }
    double secs = (double)((d->finished ? d->finished : driver_now()) - d->started) / KIC_USEC;
    char from[40], until[40];
    time_format_local(d->cfg.model_start, from, sizeof(from));
    /* the end asked for (bulk, --hours), else as far as the model got */
    time_format_local(d->cfg.model_end != KIC_TIME_NONE && (d->sim_done && !d->interrupted)
                          ? d->cfg.model_end
                          : sim_time(d->sim),
                      until, sizeof(until));
    const MethodCounts *off = &d->counts[SM_OFFERED];
    json_t *sum = json_object();
    json_t *req = json_object();
    static const struct {
        const char *key;
        size_t offset;
    } model_counts[] = {
        {"calls", offsetof(SimStats, calls)},
        {"contacts", offsetof(SimStats, contacts)},
        {"answered", offsetof(SimStats, answered)},
        {"abandoned", offsetof(SimStats, abandoned)},
        {"transferred", offsetof(SimStats, transferred)},
        {"repeats", offsetof(SimStats, repeats)},
        {"ivr_callbacks", offsetof(SimStats, ivr_callbacks)},
        {"agent_callbacks", offsetof(SimStats, agent_callbacks)},
        {"wrapups", offsetof(SimStats, wrapups)},
        {"shifts", offsetof(SimStats, shifts)},
    };
    json_object_set_new(sum, "mode", json_string(d->cfg.bulk ? "bulk" : "live"));
    json_object_set_new(sum, "from", json_string(from));
    json_object_set_new(sum, "until", json_string(until));
    json_object_set_new(sum, "id_prefix", json_string(d->cfg.id_prefix));
    json_object_set_new(sum, "seed", json_integer((json_int_t)d->cfg.seed));
    for (size_t i = 0; i < KIC_ARRAY_LEN(model_counts); i++)
        json_object_set_new(sum, model_counts[i].key,
                            json_integer((json_int_t) * (const uint64_t *)((const char *)st +
                                                                           model_counts[i].offset)));
    json_object_set_new(sum, "contacts_stored", json_integer((json_int_t)(off->ok + off->duplicate)));
    json_object_set_new(sum, "contacts_new", json_integer((json_int_t)off->ok));
    json_object_set_new(req, "generated", json_integer((json_int_t)st->actions));
    json_object_set_new(req, "sent", json_integer((json_int_t)sent));
    json_object_set_new(req, "ok", json_integer((json_int_t)ok));
    json_object_set_new(req, "duplicate", json_integer((json_int_t)dup));
    json_object_set_new(req, "conflict", json_integer((json_int_t)conflict));
    json_object_set_new(req, "error", json_integer((json_int_t)error));
    json_object_set_new(req, "skipped", json_integer((json_int_t)skipped));
    json_object_set_new(req, "retried", json_integer((json_int_t)retried));
    json_object_set_new(sum, "requests", req);
    json_object_set_new(sum, "methods", methods);
    json_object_set_new(sum, "elapsed_s", json_real(secs));
    json_object_set_new(sum, "answers_per_s",
                        json_real(secs > 0 ? (double)d->answered_total / secs : 0.0));
    json_object_set_new(sum, "complete", json_boolean(d->sim_done && d->in_memory == 0 &&
                                                      !d->interrupted && !d->fatal));
    return sum;
}

static void report(Driver *d)
{
    json_t *sum = summary_json(d);
    if (!sum)
        return;
    const SimStats *st = sim_stats(d->sim);
    json_t *req = json_object_get(sum, "requests");
    log_write(LOG_INFO,
              "%llu calls, %llu contacts (%llu answered, %llu abandoned, %llu transferred), "
              "%llu wrap-ups, %llu IVR and %llu agent callbacks",
              (unsigned long long)st->calls, (unsigned long long)st->contacts,
              (unsigned long long)st->answered, (unsigned long long)st->abandoned,
              (unsigned long long)st->transferred, (unsigned long long)st->wrapups,
              (unsigned long long)st->ivr_callbacks, (unsigned long long)st->agent_callbacks);
    log_write(LOG_INFO,
              "requests: %lld sent, %lld accepted, %lld duplicates, %lld conflicts, %lld errors, "
              "%lld not sent, %lld retries; %.1f s, %.0f answers/s",
              (long long)json_integer_value(json_object_get(req, "sent")),
              (long long)json_integer_value(json_object_get(req, "ok")),
              (long long)json_integer_value(json_object_get(req, "duplicate")),
              (long long)json_integer_value(json_object_get(req, "conflict")),
              (long long)json_integer_value(json_object_get(req, "error")),
              (long long)json_integer_value(json_object_get(req, "skipped")),
              (long long)json_integer_value(json_object_get(req, "retried")),
              json_real_value(json_object_get(sum, "elapsed_s")),
              json_real_value(json_object_get(sum, "answers_per_s")));
    if (d->in_memory)
        log_write(LOG_WARN, "%zu requests were not answered", d->in_memory);
    if (d->cfg.summary_path) {
        if (json_dump_file(sum, d->cfg.summary_path, JSON_INDENT(2) | JSON_SORT_KEYS) != 0)
            log_write(LOG_ERROR, "cannot write the summary to %s", d->cfg.summary_path);
    }
    json_decref(sum);
}

/* ---- the run ---- */

bool driver_run(Driver *d)
{
    bool ok = false;
    d->base = event_base_new();
    if (!d->base)
        goto fail;
    d->dns = evdns_base_new(d->base, EVDNS_BASE_INITIALIZE_NAMESERVERS);
    d->ev_pump = evtimer_new(d->base, on_pump, d);
    d->ev_tick = event_new(d->base, -1, EV_PERSIST, on_tick, d);
    d->ev_sigint = evsignal_new(d->base, SIGINT, on_signal, d);
    d->ev_sigterm = evsignal_new(d->base, SIGTERM, on_signal, d);
    struct timeval tick = {0, DRIVER_TICK_MS * 1000};
    if (!d->dns || !d->ev_pump || !d->ev_tick || !d->ev_sigint || !d->ev_sigterm ||
        event_add(d->ev_tick, &tick) || event_add(d->ev_sigint, NULL) ||
        event_add(d->ev_sigterm, NULL))
        goto fail;
    d->nconns = 1 + sim_agent_count(d->sim);
    d->conns = calloc((size_t)d->nconns, sizeof(*d->conns));
    if (!d->conns)
        goto fail;
    if (!simconn_init(&d->conns[0], d, 0, "bridge", d->cfg.bridge_token))
        goto fail;
    for (int i = 0; i < sim_agent_count(d->sim); i++) {
        const char *token = d->cfg.agent_tokens ? d->cfg.agent_tokens[i] : NULL;
        if (!simconn_init(&d->conns[1 + i], d, 1 + i, sim_agent_id(d->sim, i), token))
            goto fail;
    }
    signal(SIGPIPE, SIG_IGN);
    d->started = driver_now();
    for (int i = 0; i < d->nconns; i++)
        simconn_start(&d->conns[i]);
    driver_kick(d);
    event_base_dispatch(d->base);
    d->finished = driver_now();
    if (d->cfg.progress)
        progress(d, true);
    report(d);
    ok = !d->fatal && !d->interrupted && d->sim_done && d->in_memory == 0;
fail:
    if (!d->base || !d->conns)
        log_write(LOG_ERROR, "cannot set up the event loop");
    for (int i = 0; d->conns && i < d->nconns; i++)
        simconn_free(&d->conns[i]);
    free(d->conns);
    if (d->have_held)
        sim_action_clear(&d->held);
    size_t pos = 0;
    const char *key;
    void *value;
    while (strmap_next(&d->callback_ids, &pos, &key, &value)) {
        CallbackId *ci = value;
        free(ci->id);
        free(ci);
    }
    strmap_free(&d->callback_ids);
    strmap_free(&d->agent_unanswered);
    if (d->ev_pump)
        event_free(d->ev_pump);
    if (d->ev_tick)
        event_free(d->ev_tick);
    if (d->ev_sigint)
        event_free(d->ev_sigint);
    if (d->ev_sigterm)
        event_free(d->ev_sigterm);
    if (d->dns)
        evdns_base_free(d->dns, 0);
    if (d->base)
        event_base_free(d->base);
    return ok;
}
