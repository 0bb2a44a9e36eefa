/* kicctl import-queue-log: maps an Asterisk queue_log (lib/queuelog.c) and
 * sends the events to kicd as a bridge, pipelined, retrying what kicd
 * could not take yet. The event ids are the AMI bridge's, so importing a
 * period the bridge already sent only fills its gaps; importing the same
 * file twice changes nothing. A progress bar on a terminal, a summary of
 * unmapped lines by reason at the end. Blocking sockets: a command-line tool. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "ctlconn.h"
#include "jsonrpc.h"
#include "kicctl.h"
#include "queuelog.h"


#define READ_CHUNK (64 * 1024)
#define MAX_REPLY (256 * 1024)
#define MAX_RECONNECTS 8

typedef struct Request {
    char *line;
    long long id;
    int attempts;
    KicTime not_before;
} Request;

/* A FIFO of requests (events waiting, or waiting for a retry). */
typedef struct Queue {
    Request *items;
    size_t head, count, cap;
} Queue;

typedef struct Import {
    const char *path;
    FILE *in;
    long long total_bytes; /* 0: unknown (a pipe) */
    long long read_bytes;
    bool eof, dry_run, progress;
    QueueLogRules rules;
    QueueLog *ql;
    Queue waiting;    /* mapped, not sent (or due for a retry) */
    Queue inflight;   /* sent on this connection, in order */
    size_t window;
    long long next_id;
    CtlConn conn; /* fd -1 while not connected */
    /* counts */
    size_t sent, accepted, duplicates, rejected, retried;
    char first_rejection[512];
    KicTime last_draw;
} Import;

static KicTime now_us(void)
{
    struct timeval tv;
    gettimeofday(&tv, NULL);
    return (KicTime)tv.tv_sec * KIC_USEC + tv.tv_usec;
}

static bool queue_push(Queue *q, Request r)
{
    if (q->count == q->cap) {
        size_t cap = q->cap ? q->cap * 2 : 256;
        Request *items = malloc(cap * sizeof(*items));
        if (!items)
            return false;
        for (size_t i = 0; i < q->count; i++)
            items[i] = q->items[(q->head + i) % q->cap];
        free(q->items);
        q->items = items;
        q->cap = cap;
        q->head = 0;
    }
    q->items[(q->head + q->count++) % q->cap] = r;
    return true;
}

static Request *queue_front(Queue *q)
{
    return q->count ? &q->items[q->head] : NULL;
}

static Request queue_pop(Queue *q)
{
    Request r = q->items[q->head];
    q->head = (q->head + 1) % q->cap;
    q->count--;
    return r;
}

static void queue_free(Queue *q)
{
    while (q->count)
        free(queue_pop(q).line);
    free(q->items);
}

/* ---- mapping ---- */

static void on_event(void *ctx, json_t *ev)
{
    Import *im = ctx;
    if (im->dry_run) {
        char *line = json_dumps(ev, JSON_COMPACT);
        if (line)
            puts(line);
        free(line);
    } else {
        json_t *req = json_pack("{s:s, s:I, s:O, s:O}", "jsonrpc", "2.0", "id",
                                (json_int_t)im->next_id, "method", json_object_get(ev, "method"),
                                "params", json_object_get(ev, "params"));
        char *line = req ? json_dumps(req, JSON_COMPACT) : NULL;
        json_decref(req);
        if (!line || !queue_push(&im->waiting, (Request){line, im->next_id, 0, 0})) {
            fprintf(stderr, "kicctl: out of memory\n");
            exit(1);
        }
        im->next_id++;
    }
    json_decref(ev);
}

/* Maps the next chunk of the file. */
static void read_more(Import *im)
{
    char buf[READ_CHUNK];
    size_t n = fread(buf, 1, sizeof(buf), im->in);
    im->read_bytes += (long long)n;
    queuelog_feed(im->ql, buf, n);
    if (n < sizeof(buf)) {
        queuelog_finish(im->ql);
        im->eof = true;
    }
}

/* ---- the connection ---- */

/* The next line from kicd, waiting up to timeout_ms. 1: a line; 0: none
 * yet; -1: the connection is gone. */
static int read_line(Import *im, int timeout_ms, char **line, size_t *len)
{
    CtlReadResult r = ctlconn_read_line(&im->conn, timeout_ms, line, len);
    if (r == CTLCONN_LINE)
        return 1;
    return r == CTLCONN_CLOSED ? -1 : 0;
}

/* Connects and logs in; false (with the reason printed) when that fails
 * for a reason retrying cannot fix, or *retry set when it might. */
static bool open_session(Import *im, const CtlOptions *o, bool *retry)
{
    *retry = false;
    if (!ctlconn_open(&im->conn, o->server, &o->tls, MAX_REPLY)) {
        *retry = true;
        return false;
    }
    json_t *msg = ctlconn_login(&im->conn, o->token, o->server);
    if (!msg) {
        ctlconn_close(&im->conn);
        *retry = true;
        return false;
    }
    json_t *err = json_object_get(msg, "error");
    const char *role = json_string_value(json_object_get(json_object_get(msg, "result"), "role"));
    bool ok = !err && role && strcmp(role, "bridge") == 0;
    if (err)
        fprintf(stderr, "kicctl: kicd refused the token: %s\n",
                json_string_value(json_object_get(err, "message")));
    else if (!ok)
        fprintf(stderr, "kicctl: the token's role is '%s'; importing needs a bridge token\n",
                role ? role : "?");
    json_decref(msg);
    if (!ok)
        ctlconn_close(&im->conn);
    return ok;
}

static void close_session(Import *im)
{
    ctlconn_close(&im->conn);
    /* whatever was in flight goes first next time, in its order */
    Queue again = {0};
    while (im->inflight.count)
        queue_push(&again, queue_pop(&im->inflight));
    while (im->waiting.count)
        queue_push(&again, queue_pop(&im->waiting));
    free(im->waiting.items);
    im->waiting = again;
}

/* Books one answer. False when the import cannot go on. */
static bool on_reply(Import *im, const char *text, size_t len)
{
    json_t *msg = json_loadb(text, len, 0, NULL);
    json_t *id = json_object_get(msg, "id");
    if (!json_is_integer(id)) {
        json_decref(msg);
        return true; /* a notification, or an answer to nothing of ours */
    }
    long long want = json_integer_value(id);
    Request *front = queue_front(&im->inflight);
    if (!front || front->id != want) {
        fprintf(stderr, "kicctl: kicd answered request %lld out of order\n", want);
        json_decref(msg);
        return false;
    }
    Request r = queue_pop(&im->inflight);
    json_t *err = json_object_get(msg, "error");
    bool ok = true;
    if (!err) {
        im->accepted++;
        if (json_is_true(json_object_get(json_object_get(msg, "result"), "duplicate")))
            im->duplicates++;
        free(r.line);
    } else {
        int code = (int)json_integer_value(json_object_get(err, "code"));
        const char *message = json_string_value(json_object_get(err, "message"));
        if (code == RPC_INVALID_PARAMS || code == RPC_INVALID_REQUEST) {
            if (!im->rejected++) {
                char *data = json_dumps(json_object_get(err, "data"), JSON_COMPACT);
                snprintf(im->first_rejection, sizeof(im->first_rejection), "%d %s %s: %.300s",
                         code, message ? message : "", data ? data : "", r.line);
                free(data);
            }
            free(r.line);
        } else if (code == RPC_OVERLOADED || code == RPC_STORAGE_UNAVAILABLE ||
                   code == RPC_INTERNAL) {
            im->retried++;
            r.attempts++;
            KicTime delay = (KicTime)KIC_USEC / 2 << (r.attempts < 6 ? r.attempts : 6);
            r.not_before = now_us() + delay;
            /* to the front: it keeps its place before everything not yet sent */
            Queue again = {0};
            queue_push(&again, r);
            while (im->waiting.count)
                queue_push(&again, queue_pop(&im->waiting));
            free(im->waiting.items);
            im->waiting = again;
        } else {
            fprintf(stderr, "kicctl: kicd refused an event: %d %s\n", code, message ? message : "");
            free(r.line);
            ok = false;
        }
    }
    json_decref(msg);
    return ok;
}

static void draw(Import *im, bool last)
{
    if (!im->progress)
        return;
    KicTime now = now_us();
    if (!last && now - im->last_draw < KIC_USEC / 10)
        return;
    im->last_draw = now;
    const QueueLogStats *st = queuelog_stats(im->ql);
    if (im->total_bytes > 0) {
        int width = 30;
        double frac = (double)im->read_bytes / (double)im->total_bytes;
        int done = (int)(frac * width + 0.5);
        fprintf(stderr, "\r[%.*s%.*s] %3d%% ", done, "##############################", width - done,
                "..............................", (int)(frac * 100 + 0.5));
    } else {
        fprintf(stderr, "\r");
    }
    fprintf(stderr, "%zu lines, %zu events sent, %zu accepted%s", st->lines, im->sent,
            im->accepted, last ? "\n" : "");
    fflush(stderr);
}

/* Sends, reads answers, reconnects; false when it has to give up. */
static bool deliver(Import *im, const CtlOptions *o)
{
    int reconnects = 0;
    bool retry;
    while (!open_session(im, o, &retry)) {
        if (!retry || ++reconnects > MAX_RECONNECTS)
            return false;
        sleep(1u << (reconnects < 5 ? reconnects : 5));
    }
    for (;;) {
        if (!im->eof && im->waiting.count < im->window)
            read_more(im);
        KicTime now = now_us();
        int wait_ms = 1000;
        bool lost = false;
        while (im->inflight.count < im->window && im->waiting.count) {
            Request *next = queue_front(&im->waiting);
            if (next->not_before > now) {
                wait_ms = (int)((next->not_before - now) / 1000) + 1;
                break;
            }
            Request r = queue_pop(&im->waiting);
            queue_push(&im->inflight, r);
            if (!ctlconn_send_line(&im->conn, r.line)) {
                lost = true;
                break;
            }
            im->sent++;
        }
        draw(im, false);
        if (!lost && im->eof && !im->waiting.count && !im->inflight.count)
            return true;
        if (!lost && !im->inflight.count && im->waiting.count) {
            usleep((useconds_t)wait_ms * 1000); /* only retries, not due yet */
            continue;
        }
        if (!lost && !im->inflight.count)
            continue; /* read more of the file */
        char *line;
        size_t len;
        int r = lost ? -1 : read_line(im, wait_ms, &line, &len);
        while (r == 1) {
            if (!on_reply(im, line, len))
                return false;
            r = read_line(im, 0, &line, &len);
        }
        if (r < 0) {
            fprintf(stderr, "\nkicctl: lost the connection to kicd; re-sending %zu events\n",
                    im->inflight.count);
            close_session(im);
            do {
                if (++reconnects > MAX_RECONNECTS)
                    return false;
                sleep(1u << (reconnects < 5 ? reconnects : 5));
            } while (!open_session(im, o, &retry) && retry);
            if (im->conn.fd < 0)
                return false;
        }
    }
}

static void summary(Import *im)
{
    const QueueLogStats *st = queuelog_stats(im->ql);
    FILE *out = im->dry_run ? stderr : stdout;
    fprintf(out, "%s: %zu lines, %zu mapped to %zu events", im->path, st->lines, st->mapped,
            st->events);
    if (st->synthesized)
        fprintf(out, " (%zu inferred for calls whose start is missing)", st->synthesized);
    fprintf(out, "\n");
    if (!im->dry_run) {
        fprintf(out, "  sent %zu: %zu accepted (%zu already there), %zu rejected, %zu retried\n",
                im->sent, im->accepted, im->duplicates, im->rejected, im->retried);
        if (im->rejected)
            fprintf(out, "  first rejection: %s\n", im->first_rejection);
    }
    size_t skipped = 0, failed = 0;
    for (int i = 0; i < QUEUELOG_NSKIPS; i++)
        skipped += st->skipped[i];
    for (int i = 0; i < QUEUELOG_NFAILS; i++)
        failed += st->failed[i];
    fprintf(out, "  nothing for kicd: %zu\n", skipped);
    for (int i = 0; i < QUEUELOG_NSKIPS; i++)
        if (st->skipped[i])
            fprintf(out, "    %6zu  %s\n", st->skipped[i], queuelog_skip_name((QueueLogSkip)i));
    fprintf(out, "  not mapped: %zu\n", failed);
    for (int i = 0; i < QUEUELOG_NFAILS; i++)
        if (st->failed[i])
            fprintf(out, "    %6zu  %s (first at line %zu)\n", st->failed[i],
                    queuelog_fail_name((QueueLogFail)i), st->first_failed_line[i]);
}

static bool rule_refused(const char *why)
{
    fprintf(stderr, "kicctl: %s\n", why);
    return false;
}

static bool configure(Import *im, int argc, char **argv)
{
    static const struct option longopts[] = {
        {"dry-run", no_argument, NULL, 'n'},        {"id-prefix", required_argument, NULL, 'P'},
        {"agent-map", required_argument, NULL, 'm'}, {"agent-id", required_argument, NULL, 'a'},
        {"transfer-kind", required_argument, NULL, 'k'},
        {"default-kind", required_argument, NULL, 'd'},
        {"timeout-as", required_argument, NULL, 't'}, {"window", required_argument, NULL, 'w'},
        {NULL, 0, NULL, 0},
    };
    QueueLogRules *r = &im->rules;
    char err[256];
    int ch, at = 0;
    while ((ch = getopt_long(argc, argv, "n", longopts, &at)) != -1) {
        switch (ch) {
        case 'n': im->dry_run = true; break;
        case 'm': {
            FILE *f = fopen(optarg, "rb");
            char text[65536];
            size_t n = f ? fread(text, 1, sizeof(text), f) : 0;
            if (f)
                fclose(f);
            if (!f || n == sizeof(text) || !queuelog_rules_load_agent_map(r, text, n, err, sizeof(err))) {
                fprintf(stderr, "kicctl: --agent-map %s: %s\n", optarg,
                        !f ? strerror(errno) : n == sizeof(text) ? "too big" : err);
                return false;
            }
            break;
        }
        case 'P': /* the rules, by their long names */
        case 'a':
        case 'k':
        case 'd':
        case 't':
            if (!queuelog_rules_set(r, longopts[at].name, optarg, err, sizeof(err)))
                return rule_refused(err);
            break;
        case 'w': {
            char *end;
            errno = 0;
            long long w = strtoll(optarg, &end, 10);
            im->window = errno || end == optarg || *end || w < 1 || w > 4000 ? 0 : (size_t)w;
            if (im->window == 0) {
                fprintf(stderr, "kicctl: --window must be a whole number from 1 to 4000\n");
                return false;
            }
            break;
        }
        default: return false;
        }
    }
    if (optind != argc - 1) {
        fprintf(stderr, "usage: kicctl import-queue-log [--dry-run] [--id-prefix P] "
                        "[--agent-map FILE] [--agent-id name|interface]\n"
                        "         [--transfer-kind EXTEN@CONTEXT=KIND]... [--default-kind KIND] "
                        "[--timeout-as ended|abandoned] [--window N] FILE|-\n");
        return false;
    }
    im->path = argv[optind];
    return true;
}

int cmd_import_queue_log(const CtlOptions *o, int argc, char **argv)
{
    Import im = {.window = 256, .next_id = 1, .conn = {.fd = -1}};
    queuelog_rules_init(&im.rules);
    int rc = 2;
    if (!configure(&im, argc, argv))
        goto done;
    if (!im.dry_run && (!o->token || !*o->token)) {
        fprintf(stderr, "kicctl: importing needs a bridge token: --token or KIC_TOKEN\n");
        goto done;
    }
    rc = 1;
    im.in = strcmp(im.path, "-") == 0 ? stdin : fopen(im.path, "rb");
    if (!im.in) {
        fprintf(stderr, "kicctl: cannot read %s: %s\n", im.path, strerror(errno));
        goto done;
    }
    struct stat sb;
    if (fstat(fileno(im.in), &sb) == 0 && S_ISREG(sb.st_mode))
        im.total_bytes = (long long)sb.st_size;
    im.progress = !im.dry_run && isatty(STDERR_FILENO);
    im.ql = queuelog_new(&im.rules, on_event, &im);
    if (!im.ql)
        goto done;
    if (im.dry_run) {
        while (!im.eof)
            read_more(&im);
        rc = 0;
    } else {
        bool ok = deliver(&im, o);
        draw(&im, true);
        rc = ok && im.rejected == 0 ? 0 : 1;
        if (!ok)
            fprintf(stderr, "kicctl: import stopped; %zu events not delivered (running it again "
                            "is safe: delivered ones come back as duplicates)\n",
                    im.waiting.count + im.inflight.count);
    }
    summary(&im);
done:
    if (im.in && im.in != stdin)
        fclose(im.in);
    ctlconn_close(&im.conn);
    queue_free(&im.waiting);
    queue_free(&im.inflight);
    queuelog_free(im.ql);
    queuelog_rules_free(&im.rules);
    return rc;
}
