/* The telephony event methods (role bridge). Parameters are checked here,
 * before anything is queued, so one bad event never touches a batch; the
 * event is then a Record for the writer, answered once durable. */
#include <stdio.h>

#include "methods.h"
#include "monitor.h"
#include "tenants.h"
#include "writer.h"

void method_event(Conn *c, Reply *r, json_t *params, const Method *m)
{
    Tenant *t = c->sess.tenant;
    int type = event_type_from_method(m->name);
    EventParse ep;
    RpcError err = {0};
    if (!event_parse((EventType)type, params, &t->callers, false, &ep, &err)) {
        c->srv->metrics->events_rejected++;
        reply_error(r, &err);
        rpc_error_clear(&err);
        return;
    }
    if (ep.event->at > server_now() + c->srv->cfg.event_skew_s * KIC_USEC) {
        /* A platform clock far ahead would date the call (and its
         * agent's state) where no later event or wrap-up can reach it. */
        c->srv->metrics->events_rejected++;
        event_parse_free(&ep);
        char reason[80];
        snprintf(reason, sizeof(reason), "must not lie more than %lld s ahead of kicd's clock",
                 c->srv->cfg.event_skew_s);
        reply_field_error(r, "at", reason);
        return;
    }
    if (ep.event->at < c->srv->purged_before) {
        /* retention has removed the events (and keys) of that time: this
         * is a re-send, and taken as new it would rebuild its call from
         * itself alone (migration 0012) */
        c->srv->metrics->events_duplicate++;
        event_parse_free(&ep);
        reply_result_text(r, "{\"accepted\":true,\"duplicate\":true}");
        return;
    }
    Record *rec = record_new(REC_EVENT, t, r);
    rec->ev = ep;
    writer_submit(c->srv->writer, rec);
}
