/* The live snapshot as text (see livefmt.h). The columns are one table,
 * so header, cells and legend cannot drift apart. */
#include "livefmt.h"

#include <math.h>
#include <string.h>

#include "ctlfmt.h"

typedef struct LiveColumn {
    const char *header;
    const char *field; /* in a queue's object */
    const char *agent_state; /* non-NULL: agents.<state> instead */
    ColumnKind kind;
} LiveColumn;

static const LiveColumn live_columns[] = {
    {"WAIT", "waiting", NULL, COL_COUNT},
    {"LONGEST", "longest_wait_s", NULL, COL_SECONDS},
    {"AVAIL", NULL, "available", COL_COUNT},
    {"RING", NULL, "ringing", COL_COUNT},
    {"CALL", NULL, "on_call", COL_COUNT},
    {"ACW", NULL, "acw", COL_COUNT},
    {"BREAK", NULL, "break", COL_COUNT},
    {"OFFERED", "offered", NULL, COL_COUNT},
    {"ANSWERED", "answered", NULL, COL_COUNT},
    {"ABANDONED", "abandoned", NULL, COL_COUNT},
    {"SL", "service_level", NULL, COL_RATE},
    {"ASA", "asa_s", NULL, COL_SECONDS},
    {"AHT", "aht_s", NULL, COL_SECONDS},
    {"ACW-AVG", "acw_avg_s", NULL, COL_SECONDS},
    {"TRANSF", "transfer_rate", NULL, COL_RATE},
    {"INDEP", "handled_independently_rate", NULL, COL_RATE},
    {"FCR", "fcr_rate", NULL, COL_RATE},
    {"CB-OPEN", "callbacks_open", NULL, COL_COUNT},
    {"CB-LATE", "callbacks_overdue", NULL, COL_COUNT},
};

static const char legend[] =
    "agents: AVAIL available, RING ringing, CALL on call, ACW after-call work, BREAK on break\n"
    "today: SL service level (! below target), ASA speed of answer, AHT handling time, ACW-AVG\n"
    "  after-call work, TRANSF transferred, INDEP handled independently, FCR first-contact\n"
    "  resolution (provisional), CB-OPEN/CB-LATE callbacks open/overdue\n";

static json_t *field_of(json_t *q, const LiveColumn *c)
{
    if (c->agent_state)
        return json_object_get(json_object_get(q, "agents"), c->agent_state);
    return json_object_get(q, c->field);
}

static void add_row(TextTable *t, const char *label, json_t *q, double target)
{
    static const FmtStyle style = {'.', 0, "-"};
    ttable_add_row(t);
    ttable_set(t, 0, label, MARK_NONE);
    StrBuf b = STRBUF_INIT;
    for (size_t i = 0; i < KIC_ARRAY_LEN(live_columns); i++) {
        const LiveColumn *c = &live_columns[i];
        json_t *v = field_of(q, c);
        strbuf_reset(&b);
        fmt_cell(&b, v, c->kind, &style);
        CellMark mark = MARK_NONE;
        if (strcmp(c->header, "SL") == 0 && json_is_number(v) && !isnan(target)) {
            bool below = json_number_value(v) < target;
            mark = below ? MARK_BAD : MARK_GOOD;
            if (below)
                strbuf_putc(&b, '!');
        }
        ttable_set(t, i + 1, b.data ? b.data : "", mark);
    }
    strbuf_free(&b);
}

static bool wanted(json_t *queues, const char *name)
{
    if (!queues)
        return true;
    size_t i;
    json_t *q;
    json_array_foreach(queues, i, q)
    {
        if (name && strcmp(json_string_value(q), name) == 0)
            return true;
    }
    return false;
}

/* "2026-11-22T10:15:00.000+01:00" -> "2026-11-22 10:15:00 +01:00". */
static void moment(StrBuf *out, const char *at)
{
    size_t len = strlen(at);
    if (len < 19 || at[10] != 'T') {
        strbuf_puts(out, at);
        return;
    }
    strbuf_append(out, at, 10);
    strbuf_putc(out, ' ');
    strbuf_append(out, at + 11, 8);
    const char *zone = at + 19;
    while (*zone == '.' || (*zone >= '0' && *zone <= '9'))
        zone++;
    if (*zone)
        strbuf_printf(out, " %s", zone);
}

static void heading(StrBuf *out, json_t *snap, double target)
{
    strbuf_puts(out, "kicd live  ");
    const char *at = json_string_value(json_object_get(snap, "at"));
    moment(out, at ? at : "?");
    json_t *threshold = json_object_get(json_object_get(snap, "targets"), "service_level_threshold_s");
    if (!isnan(target)) {
        strbuf_puts(out, "   service level target ");
        fmt_percent(out, target, &(FmtStyle){'.', 0, "-"});
        if (json_is_number(threshold))
            strbuf_printf(out, " within %.0f s", json_number_value(threshold));
    }
    strbuf_puts(out, "\n\n");
}

/* Requested queues that the snapshot does not have (no activity yet). */
static void missing_queues(StrBuf *out, json_t *queues, json_t *have)
{
    size_t i, j;
    json_t *want, *q;
    bool any = false;
    json_array_foreach(queues, i, want)
    {
        bool found = false;
        json_array_foreach(have, j, q)
        {
            const char *name = json_string_value(json_object_get(q, "queue"));
            found = found || (name && strcmp(name, json_string_value(want)) == 0);
        }
        if (!found) {
            strbuf_puts(out, any ? ", " : "no activity today: ");
            strbuf_puts(out, json_string_value(want));
            any = true;
        }
    }
    if (any)
        strbuf_putc(out, '\n');
}

void live_render(StrBuf *out, const LiveView *v)
{
    json_t *snap = v->snapshot;
    json_t *t = json_object_get(json_object_get(snap, "targets"), "service_level");
    double target = json_is_number(t) ? json_number_value(t) : NAN;
    heading(out, snap, target);
    TextTable table;
    if (!ttable_init(&table, KIC_ARRAY_LEN(live_columns) + 1))
        return;
    ttable_add_row(&table);
    ttable_set(&table, 0, "QUEUE", MARK_NONE);
    for (size_t i = 0; i < KIC_ARRAY_LEN(live_columns); i++) {
        ttable_set(&table, i + 1, live_columns[i].header, MARK_NONE);
        table.right[i + 1] = true;
    }
    json_t *queues = json_object_get(snap, "queues");
    size_t i;
    json_t *q;
    json_array_foreach(queues, i, q)
    {
        const char *name = json_string_value(json_object_get(q, "queue"));
        if (wanted(v->queues, name))
            add_row(&table, name ? name : "?", q, target);
    }
    size_t total_row = table.nrows;
    add_row(&table, LIVE_TOTAL_LABEL, json_object_get(snap, "total"), target);
    ttable_render(&table, out, v->width, v->color, total_row);
    ttable_free(&table);
    if (v->queues)
        missing_queues(out, v->queues, queues);
    strbuf_putc(out, '\n');
    strbuf_puts(out, legend);
    if (v->status)
        strbuf_printf(out, "\n%s\n", v->status);
}

bool live_has_waiting(json_t *snapshot)
{
    return json_integer_value(json_object_get(json_object_get(snapshot, "total"), "waiting")) > 0;
}

static void age_scope(json_t *scope, double seconds)
{
    json_t *wait = json_object_get(scope, "longest_wait_s");
    if (json_integer_value(json_object_get(scope, "waiting")) > 0 && json_is_number(wait))
        json_object_set_new(scope, "longest_wait_s",
                            json_real(json_number_value(wait) + seconds));
}

json_t *live_aged(json_t *snapshot, double seconds)
{
    json_t *aged = json_deep_copy(snapshot);
    if (!aged || seconds <= 0)
        return aged;
    age_scope(json_object_get(aged, "total"), seconds);
    size_t i;
    json_t *q;
    json_array_foreach(json_object_get(aged, "queues"), i, q)
        age_scope(q, seconds);
    return aged;
}
