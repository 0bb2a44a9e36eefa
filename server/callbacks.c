/* Callback methods. Changes (create, claim, complete) are Records: durable
 * before they are answered, decided in order by the centre. Reads come
 * from memory; a list that shows callers' numbers is answered only after
 * its audit rows are committed. */
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <stdlib.h>
#include <string.h>

#include "audit.h"
#include "methods.h"
#include "params.h"
#include "pg.h"
#include "tenants.h"
#include "writer.h"

#define NOTE_MAX 4000

/* A change waiting for a look in storage before it goes to the writer. */
typedef struct LookupCtx {
    Server *srv;
    Record *rec;
} LookupCtx;

static bool require_agent(Conn *c, Reply *r)
{
    if (c->sess.agent[0])
        return true;
    reply_errorf(r, RPC_FORBIDDEN, "user %s is not an agent", c->sess.user);
    return false;
}

static void fail(Reply *r, RpcError *err)
{
    reply_error(r, err);
    rpc_error_clear(err);
}

/* "cb-" and 8 bytes in hex: every callback id kicd makes. */
static void id_from(const unsigned char b[8], char out[KIC_MAX_FIELD_BYTES + 1])
{
    snprintf(out, KIC_MAX_FIELD_BYTES + 1, "cb-%02x%02x%02x%02x%02x%02x%02x%02x", b[0], b[1], b[2],
             b[3], b[4], b[5], b[6], b[7]);
}

/* The id of a callback made for a client's request_id: the same for the
 * same user's request sent again the same local day, so kicd can tell it
 * from a new one while it holds that day's callbacks (open, or closed
 * today) in memory, after a restart too. A re-send on a later day gets
 * another id: a new callback, never one written over a closed one. */
static void id_of_request(const Conn *c, const char *request_id, char out[KIC_MAX_FIELD_BYTES + 1])
{
    char day[40], text[128 + KIC_MAX_FIELD_BYTES + 1];
    time_format_local(time_local_day_start(server_now()), day, sizeof(day));
    int n = snprintf(text, sizeof(text), "%lld%c%lld%c%.10s%c%s", (long long)c->sess.tenant_id,
                     '\0', (long long)c->sess.user_id, '\0', day, '\0', request_id);
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    if (n < 0 || (size_t)n >= sizeof(text) || !EVP_Digest(text, (size_t)n, md, &len, EVP_sha256(), NULL))
        abort(); /* request_id is at most a field's bytes: it fits */
    id_from(md, out);
}

static void random_id(char out[KIC_MAX_FIELD_BYTES + 1])
{
    unsigned char rnd[8];
    if (RAND_bytes(rnd, sizeof(rnd)) != 1)
        abort();
    id_from(rnd, out);
}

/* The record goes to the writer once `sql` ($1 tenant, $2 callback id)
 * has looked in storage (done decides); at once when kicd holds the
 * callback, or when storage is down (then memory is all there is). */
static void submit_after_lookup(Conn *c, Record *rec, const char *sql, PgJobDone done)
{
    if (centre_callback(c->sess.tenant->centre, rec->cb.id)) {
        writer_submit(c->srv->writer, rec);
        return;
    }
    char tenant[24];
    snprintf(tenant, sizeof(tenant), "%lld", (long long)c->sess.tenant_id);
    const char *args[] = {tenant, rec->cb.id};
    LookupCtx *ctx = malloc(sizeof(*ctx));
    if (!ctx)
        abort();
    *ctx = (LookupCtx){c->srv, rec};
    PgJob *job = pgjob_new(done, ctx);
    pgjob_add(job, sql, 2, args);
    if (!pgconn_submit(c->srv->pg_reader, job)) {
        pgjob_free(job);
        free(ctx);
        writer_submit(c->srv->writer, rec);
    }
}

void method_callback_create(Conn *c, Reply *r, json_t *params, const Method *m)
{
    const char *caller, *team, *note, *call_id, *request_id;
    KicTime due_by;
    RpcError err = {0};
    if (!require_agent(c, r))
        return;
    if (!param_string_any(params, "caller", true, KIC_MAX_FIELD, &caller, &err) ||
        !param_string(params, "team", true, KIC_MAX_FIELD, &team, &err) ||
        !param_time(params, "due_by", false, &due_by, &err) ||
        !param_string(params, "note", false, NOTE_MAX, &note, &err) ||
        !param_string(params, "call_id", false, KIC_MAX_FIELD, &call_id, &err) ||
        !param_string(params, "request_id", false, KIC_MAX_FIELD, &request_id, &err)) {
        fail(r, &err);
        return;
    }
    Tenant *t = c->sess.tenant;
    char number[CALLER_E164_MAX];
    if (caller_normalise(caller, t->callers.country_code, number) != CALLER_OK) {
        reply_field_error(r, "caller", "must be a number that can be called back");
        return;
    }
    Record *rec = record_new(REC_CALLBACK_CREATE, t, r);
    memcpy(rec->cb.number, number, sizeof(number));
    caller_key_hex(t->callers.tenant_key, rec->cb.number, rec->cb.caller_key);
    if (request_id)
        id_of_request(c, request_id, rec->cb.id);
    else
        random_id(rec->cb.id);
    rec->cb.by_request = request_id != NULL;
    snprintf(rec->cb.agent, sizeof(rec->cb.agent), "%s", c->sess.agent);
    snprintf(rec->cb.team, sizeof(rec->cb.team), "%s", team);
    snprintf(rec->cb.call_id, sizeof(rec->cb.call_id), "%s", call_id ? call_id : "");
    rec->cb.due_by = due_by;
    rec->cb.note = note ? strdup(note) : NULL;
    rec->cb.at = server_now();
    writer_submit(c->srv->writer, rec); /* decided in order: a re-sent request finds its first */
}

/* A callback kicd no longer holds in memory (it holds the open ones and
 * those closed today) may be stored, closed on an earlier day: that is
 * -32009 "already closed", as for one closed today, not -32004. */
static const char sql_callback_stored[] =
    "SELECT 1 FROM callbacks WHERE tenant_id = $1 AND callback_id = $2";

static void stored_looked_up(PgJob *job, void *arg)
{
    LookupCtx *ctx = arg;
    Record *rec = ctx->rec;
    Server *srv = ctx->srv;
    free(ctx);
    if (!reply_conn(rec->reply)) { /* gone (also: kicd stopping, the writer freed) */
        reply_errorf(rec->reply, RPC_UNAUTHENTICATED, "connection closed");
        record_free(rec);
        return;
    }
    PGresult *res = pgjob_result(job, 0);
    bool closed = !pgjob_error(job) && PQntuples(res) == 1 &&
                  !centre_callback(rec->tenant->centre, rec->cb.id);
    if (!closed) { /* unknown, or created meanwhile: the writer decides, in order */
        writer_submit(srv->writer, rec);
        return;
    }
    reply_errorf(rec->reply, RPC_CONFLICT, "callback %.200s is already closed", rec->cb.id);
    record_free(rec);
}

static void change(Conn *c, Reply *r, json_t *params, RecordKind kind)
{
    const char *id, *note = NULL;
    int outcome = -1;
    RpcError err = {0};
    if (!require_agent(c, r))
        return;
    if (!param_string(params, "callback_id", true, KIC_MAX_FIELD, &id, &err) ||
        (kind == REC_CALLBACK_COMPLETE &&
         (!param_enum(params, "outcome", true, callback_outcome_names, &outcome, &err) ||
          !param_string(params, "note", false, NOTE_MAX, &note, &err)))) {
        fail(r, &err);
        return;
    }
    Record *rec = record_new(kind, c->sess.tenant, r);
    snprintf(rec->cb.id, sizeof(rec->cb.id), "%s", id);
    snprintf(rec->cb.agent, sizeof(rec->cb.agent), "%s", c->sess.agent);
    rec->cb.outcome = outcome < 0 ? CBO_REACHED : (CallbackOutcome)outcome;
    rec->cb.note = note ? strdup(note) : NULL;
    rec->cb.at = server_now();
    submit_after_lookup(c, rec, sql_callback_stored, stored_looked_up);
}

void method_callback_claim(Conn *c, Reply *r, json_t *params, const Method *m)
{
    change(c, r, params, REC_CALLBACK_CLAIM);
}

void method_callback_complete(Conn *c, Reply *r, json_t *params, const Method *m)
{
    change(c, r, params, REC_CALLBACK_COMPLETE);
}

/* ---- callback.list ---- */

/* An agent sees the callbacks of the teams on their session; `team`
 * narrows that to one of them. */
static bool team_listed(const Conn *c, json_t *team_filter, const Callback *cb)
{
    if (team_filter && strcmp(json_string_value(team_filter), cb->team) != 0)
        return false;
    size_t i;
    json_t *v;
    json_array_foreach(c->sess.teams, i, v)
    {
        if (strcmp(json_string_value(v), cb->team) == 0)
            return true;
    }
    return false;
}

static json_t *callback_json(const Callback *cb, KicTime now)
{
    char created[40], due[40];
    time_format_local(cb->created_at, created, sizeof(created));
    time_format_local(cb->due_by, due, sizeof(due));
    json_t *o = json_pack("{s:s, s:s, s:s, s:s?, s:s?, s:s, s:s, s:s, s:b, s:i, s:s?, s:s?}",
                          "callback_id", cb->id, "source", cb->from_ivr ? "ivr" : "agent", "team",
                          cb->team, "queue", cb->queue, "call_id", cb->call_id, "status",
                          callback_status_names[cb->status], "created_at", created, "due_by", due,
                          "overdue", callback_overdue(cb, now), "attempts", cb->attempts,
                          "claimed_by", cb->claimed_by, "caller", cb->number[0] ? cb->number : NULL);
    return o;
}

typedef struct ListCtx {
    Reply *reply;
    json_t *result;
} ListCtx;

static void list_audited(PgJob *job, void *arg)
{
    ListCtx *ctx = arg;
    if (pgjob_error(job)) {
        json_decref(ctx->result);
        reply_errorf(ctx->reply, RPC_STORAGE_UNAVAILABLE,
                     "storage unavailable: the read could not be audited");
    } else {
        reply_result(ctx->reply, ctx->result);
    }
    free(ctx);
}

void method_callback_list(Conn *c, Reply *r, json_t *params, const Method *m)
{
    int status = -1;
    RpcError err = {0};
    const char *team;
    if (!param_string(params, "team", false, KIC_MAX_FIELD, &team, &err) ||
        !param_enum(params, "status", false, callback_status_names, &status, &err)) {
        fail(r, &err);
        return;
    }
    json_t *team_filter = json_object_get(params, "team");
    Centre *centre = c->sess.tenant->centre;
    KicTime now = server_now();
    json_t *list = json_array();
    size_t n = 0, cap = 16, pos = 0;
    const char **keys = malloc(cap * sizeof(char *)), **ids = malloc(cap * sizeof(char *));
    Callback *cb;
    while (centre_next_callback(centre, &pos, &cb)) {
        bool status_ok = status < 0 ? callback_is_open(cb) : (int)cb->status == status;
        if (!status_ok || !team_listed(c, team_filter, cb))
            continue;
        json_array_append_new(list, callback_json(cb, now));
        if (cb->number[0]) {
            if (n == cap) {
                cap *= 2;
                keys = realloc(keys, cap * sizeof(char *));
                ids = realloc(ids, cap * sizeof(char *));
            }
            if (!keys || !ids)
                abort();
            keys[n] = cb->caller_key ? cb->caller_key : "";
            ids[n] = cb->id;
            n++;
        }
    }
    json_t *result = json_pack("{s:o}", "callbacks", list);
    if (n == 0) { /* no number shown: nothing to audit */
        free(keys);
        free(ids);
        reply_result(r, result);
        return;
    }
    ListCtx *ctx = malloc(sizeof(*ctx));
    if (!ctx)
        abort();
    ctx->reply = r;
    ctx->result = result;
    PgJob *job = pgjob_new(list_audited, ctx);
    audit_add(job, c, "callback.list", keys, ids, n);
    free(keys);
    free(ids);
    if (!pgconn_submit(c->srv->pg_reader, job)) {
        pgjob_free(job);
        json_decref(result);
        free(ctx);
        reply_errorf(r, RPC_STORAGE_UNAVAILABLE, "storage unavailable: the read could not be audited");
    }
}

/* ---- callbacks.summary ---- */

static json_t *sums_json(const char *team, const CallbackSums *s)
{
    double mean = callback_mean_complete_s(s);
    return json_pack("{s:s?, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:o}", "team", team, "open",
                     (json_int_t)s->open, "overdue", (json_int_t)s->overdue, "requested_today",
                     (json_int_t)s->requested_today, "completed_today",
                     (json_int_t)s->completed_today, "completed_on_time",
                     (json_int_t)s->completed_on_time, "cancelled_today",
                     (json_int_t)s->cancelled_today, "attempts_today",
                     (json_int_t)s->attempts_today, "mean_time_to_complete_s",
                     metrics_defined(mean) ? json_real(mean) : json_null());
}

static int by_name(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

void method_callbacks_summary(Conn *c, Reply *r, json_t *params, const Method *m)
{
    const char *only;
    RpcError err = {0};
    if (!param_string(params, "team", false, KIC_MAX_FIELD, &only, &err)) {
        fail(r, &err);
        return;
    }
    Centre *centre = c->sess.tenant->centre;
    KicTime now = server_now();
    StrMap teams = STRMAP_INIT;
    size_t pos = 0;
    Callback *cb;
    while (centre_next_callback(centre, &pos, &cb))
        if (!only || strcmp(only, cb->team) == 0)
            strmap_put(&teams, cb->team, cb->team);
    const char **names = malloc((teams.count ? teams.count : 1) * sizeof(char *));
    size_t n = 0;
    const char *name;
    for (pos = 0; strmap_next(&teams, &pos, &name, NULL);)
        names[n++] = name;
    qsort(names, n, sizeof(char *), by_name);
    json_t *list = json_array();
    for (size_t i = 0; i < n; i++) {
        CallbackSums s;
        centre_callback_sums(centre, names[i], now, &s);
        json_array_append_new(list, sums_json(names[i], &s));
    }
    CallbackSums total;
    centre_callback_sums(centre, only, now, &total);
    free(names);
    strmap_free(&teams);
    reply_result(r, json_pack("{s:o, s:o}", "teams", list, "total", sums_json(only, &total)));
}
