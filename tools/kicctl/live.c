/* kicctl live: the live statistics on a terminal. On a terminal it
 * subscribes (stats.subscribe) and redraws in place with every
 * stats.update; a kicd without subscriptions (-32601) is polled with
 * stats.live instead. Not on a terminal, or with --once, it prints one
 * snapshot and exits. SIGINT/SIGTERM end it cleanly (status 0); a closed
 * connection ends it with status 1. */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "ctlconn.h"
#include "jsonrpc.h"
#include "kicctl.h"
#include "livefmt.h"
#include "utf8.h"

#define LIVE_MAX_LINE (16 * 1024 * 1024)
#define CALL_TIMEOUT_MS 15000
/* A subscriber only listens; a ping now and then finds out when the
 * connection is gone without a word (and keeps a kicd that closes idle
 * connections, idle_timeout_s, from closing it). */
#define PING_EVERY_MS 60000
#define REDRAW_WAITING_MS 1000

/* What the signal handlers tell the loop: the one piece of state shared
 * with them. */
static volatile sig_atomic_t live_stop_signal, live_resized;

static void on_stop(int sig)
{
    live_stop_signal = sig;
}

static void on_resize(int sig)
{
    live_resized = 1;
}

typedef struct Live {
    const CtlOptions *o;
    long interval_ms;
    json_t *queues; /* filter, or NULL */
    bool once;
    bool polling;  /* kicd has no stats.subscribe */
    bool color;
    CtlConn conn;
    json_t *last;  /* the latest snapshot */
    long long last_ms; /* when it came (now_ms) */
} Live;

static bool parse_queues(Live *lv, const char *list)
{
    json_decref(lv->queues); /* the last --queues counts */
    lv->queues = json_array();
    const char *p = list;
    do {
        size_t len = strcspn(p, ",");
        json_t *name = len ? json_stringn(p, len) : NULL; /* NULL: not UTF-8 */
        if (!name || utf8_count(p, len) > KIC_MAX_FIELD) {
            fprintf(stderr, "kicctl: --queues: names must be 1 to %d characters of UTF-8 text, comma-separated\n",
                    KIC_MAX_FIELD);
            json_decref(name);
            return false;
        }
        json_array_append_new(lv->queues, name);
        p += len + (p[len] == ',');
    } while (*p || p[-1] == ','); /* "a," has an empty last name */
    return true;
}

static void usage(FILE *out)
{
    fprintf(out, "usage: kicctl [--server HOST:PORT] [--token TOKEN] live [--interval-ms N] "
                 "[--queues a,b] [--once]\n"
                 "  --interval-ms N  refresh at most every N ms (at least 250; default 1000)\n"
                 "  --queues a,b     only these queues (the total stays the whole centre's)\n"
                 "  --once           print one snapshot and exit (also when not on a terminal)\n");
}

/* 0: go on; else the exit status. */
static int configure(Live *lv, int argc, char **argv)
{
    static const struct option longopts[] = {
        {"interval-ms", required_argument, NULL, 'i'}, {"queues", required_argument, NULL, 'q'},
        {"once", no_argument, NULL, '1'},              {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int ch;
    while ((ch = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        switch (ch) {
        case 'i': {
            char *end;
            errno = 0;
            lv->interval_ms = strtol(optarg, &end, 10);
            if (errno || *end || lv->interval_ms < 250 || lv->interval_ms > 3600000) {
                fprintf(stderr, "kicctl: --interval-ms must be 250 to 3600000\n");
                return 2;
            }
            break;
        }
        case 'q':
            if (!parse_queues(lv, optarg))
                return 2;
            break;
        case '1': lv->once = true; break;
        case 'h': usage(stdout); return -1;
        default: usage(stderr); return 2;
        }
    }
    if (optind != argc) {
        fprintf(stderr, "kicctl: live: unexpected argument '%s'\n", argv[optind]);
        usage(stderr);
        return 2;
    }
    if (!lv->o->token || !*lv->o->token) {
        fprintf(stderr, "kicctl: live needs a supervisor token: --token or KIC_TOKEN\n");
        return 2;
    }
    return 0;
}

static size_t terminal_width(void)
{
    struct winsize ws;
    return ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0 ? ws.ws_col : 0;
}

/* A line cut to the terminal's width, so that it does not wrap and push
 * the screen down. Lines with colours are the table's, which fits already. */
static void append_clipped(StrBuf *out, const char *line, size_t len, size_t width)
{
    if (width && !memchr(line, '\x1b', len)) {
        size_t shown = 0, i = 0;
        for (; i < len; i++) {
            bool starts_char = ((unsigned char)line[i] & 0xC0) != 0x80;
            if (starts_char && shown++ == width)
                break;
        }
        len = i;
    }
    strbuf_append(out, line, len);
}

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Redraws in place: home, each line cleared to its end, the rest below
 * cleared; no full-screen clear, so the screen does not flicker. Waiting
 * callers' waits are shown grown by the time since the snapshot came. */
static void draw(Live *lv)
{
    if (!lv->last)
        return;
    char status[200];
    snprintf(status, sizeof(status), "%s from %s every %ld ms; Ctrl-C quits",
             lv->polling ? "polling stats.live" : "updates pushed", lv->o->server, lv->interval_ms);
    json_t *shown = live_aged(lv->last, (double)(now_ms() - lv->last_ms) / 1000.0);
    LiveView v = {shown, lv->queues, lv->color, terminal_width(), status};
    StrBuf screen = STRBUF_INIT, text = STRBUF_INIT;
    live_render(&text, &v);
    strbuf_puts(&screen, "\x1b[H");
    for (const char *p = text.data ? text.data : ""; *p;) {
        size_t len = strcspn(p, "\n");
        append_clipped(&screen, p, len, v.width);
        strbuf_puts(&screen, "\x1b[K\n");
        p += len + (p[len] == '\n');
    }
    strbuf_puts(&screen, "\x1b[J");
    if (screen.data)
        fwrite(screen.data, 1, screen.len, stdout);
    fflush(stdout);
    strbuf_free(&screen);
    strbuf_free(&text);
    json_decref(shown);
}

static void keep(Live *lv, json_t *snapshot)
{
    json_decref(lv->last);
    lv->last = json_incref(snapshot);
    lv->last_ms = now_ms();
}

/* Keeps the snapshot of a stats.update notification; false for anything else. */
static bool take_update(Live *lv, json_t *msg)
{
    const char *method = json_string_value(json_object_get(msg, "method"));
    json_t *params = json_object_get(msg, "params");
    if (!method || strcmp(method, "stats.update") != 0 || !json_is_object(params))
        return false;
    keep(lv, params);
    return true;
}

/* A notification that arrived while waiting for an answer. */
static void on_note(void *arg, json_t *msg)
{
    take_update(arg, msg);
}

/* Why a call got no answer, as the exit status. */
static int lost(Live *lv, CtlReadResult why, const char *method)
{
    if (why == CTLCONN_INTERRUPTED && live_stop_signal)
        return 0;
    if (why == CTLCONN_CLOSED)
        fprintf(stderr, "kicctl: kicd at %s closed the connection\n", lv->o->server);
    else
        fprintf(stderr, "kicctl: no answer to %s from %s\n", method, lv->o->server);
    return 1;
}

/* Calls stats.live and keeps the snapshot: 0 or the exit status (-1: a
 * stop signal arrived). */
static int fetch(Live *lv)
{
    json_t *params = json_object();
    if (lv->queues)
        json_object_set(params, "queues", lv->queues);
    CtlReadResult why;
    json_t *resp = ctlconn_call(&lv->conn, "stats.live", params, CALL_TIMEOUT_MS, on_note, lv, &why);
    json_decref(params);
    if (!resp) {
        int rc = lost(lv, why, "stats.live");
        return rc == 0 ? -1 : rc;
    }
    json_t *err = json_object_get(resp, "error");
    int rc = err ? ctlconn_print_error("stats.live", err) : 0;
    if (!err)
        keep(lv, json_object_get(resp, "result"));
    json_decref(resp);
    return rc;
}

static int login(Live *lv)
{
    json_t *resp = ctlconn_login(&lv->conn, lv->o->token, lv->o->server);
    if (!resp)
        return 1;
    json_t *err = json_object_get(resp, "error");
    int rc = err ? ctlconn_print_error("kicd refused the token", err) : 0;
    json_decref(resp);
    return rc;
}

/* stats.subscribe; falls back to polling when kicd does not know it. */
static int subscribe(Live *lv)
{
    json_t *params = json_pack("{s:I}", "interval_ms", (json_int_t)lv->interval_ms);
    CtlReadResult why;
    json_t *resp = ctlconn_call(&lv->conn, "stats.subscribe", params, CALL_TIMEOUT_MS, on_note, lv,
                                &why);
    json_decref(params);
    if (!resp) {
        int rc = lost(lv, why, "stats.subscribe");
        return rc == 0 ? -1 : rc;
    }
    json_t *err = json_object_get(resp, "error");
    int rc = 0;
    if (err && json_integer_value(json_object_get(err, "code")) == RPC_METHOD_NOT_FOUND)
        lv->polling = true;
    else if (err)
        rc = ctlconn_print_error("stats.subscribe", err);
    json_decref(resp);
    return rc;
}

/* One line from kicd while watching: a stats.update is drawn, answers
 * (to pings) are passed over. */
static void on_line(Live *lv, const char *line, size_t len)
{
    json_t *msg = json_loadb(line, len, 0, NULL);
    if (msg && !json_object_get(msg, "id") && take_update(lv, msg))
        draw(lv);
    json_decref(msg);
}

/* The periodic part: a poll, or a ping that keeps the subscription's
 * connection from looking idle. 0 or the exit status (-1: stopped). */
static int tick(Live *lv)
{
    if (!lv->polling)
        return ctlconn_send_request(&lv->conn, 0, "server.ping", NULL)
                   ? 0
                   : lost(lv, CTLCONN_CLOSED, "server.ping");
    int rc = fetch(lv);
    if (rc == 0)
        draw(lv);
    return rc;
}

/* Waits for updates (or the next poll) until a signal or a lost
 * connection: the exit status. While calls wait, the screen is redrawn
 * every second between updates, so their waits go on growing. */
static int watch(Live *lv)
{
    long long every = lv->polling ? lv->interval_ms : PING_EVERY_MS;
    long long due = now_ms() + every, redraw = now_ms() + REDRAW_WAITING_MS;
    for (;;) {
        if (now_ms() >= redraw) {
            if (live_has_waiting(lv->last))
                draw(lv);
            redraw = now_ms() + REDRAW_WAITING_MS;
        }
        long long left = (due < redraw ? due : redraw) - now_ms();
        char *line;
        size_t len;
        CtlReadResult r = ctlconn_read_line(&lv->conn, left > 0 ? (int)left : 0, &line, &len);
        if (live_stop_signal)
            return 0;
        if (live_resized) {
            live_resized = 0;
            draw(lv);
        }
        if (r == CTLCONN_CLOSED)
            return lost(lv, r, "");
        if (r == CTLCONN_LINE)
            on_line(lv, line, len);
        if (now_ms() < due)
            continue;
        due = now_ms() + every;
        int rc = tick(lv);
        if (rc)
            return rc < 0 ? 0 : rc;
    }
}

/* The handlers run only while the connection waits (ppoll with *waiting):
 * elsewhere the signals are blocked, so a Ctrl-C between a look at the
 * flag and the next wait cannot be missed. */
static void install_signals(sigset_t *waiting)
{
    sigset_t ours;
    sigemptyset(&ours);
    sigaddset(&ours, SIGINT);
    sigaddset(&ours, SIGTERM);
    sigaddset(&ours, SIGWINCH);
    sigprocmask(SIG_BLOCK, &ours, waiting);
    struct sigaction sa = {0};
    sigemptyset(&sa.sa_mask);
    sa.sa_handler = on_stop;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sa.sa_handler = on_resize;
    sigaction(SIGWINCH, &sa, NULL);
    sigdelset(waiting, SIGINT);
    sigdelset(waiting, SIGTERM);
    sigdelset(waiting, SIGWINCH);
}

/* On a terminal, until stopped. */
static int run_interactive(Live *lv)
{
    sigset_t waiting;
    install_signals(&waiting);
    lv->conn.wait_mask = &waiting;
    lv->color = getenv("NO_COLOR") == NULL;
    fputs("\x1b[?25l\x1b[2J", stdout); /* hide the cursor, clear once */
    int rc = subscribe(lv);
    if (rc == 0)
        rc = fetch(lv);
    if (rc == 0) {
        draw(lv);
        rc = watch(lv);
    }
    lv->conn.wait_mask = NULL;
    fputs("\x1b[?25h", stdout);
    fflush(stdout);
    return rc < 0 ? 0 : rc;
}

/* One snapshot as plain text. */
static int run_once(Live *lv)
{
    int rc = fetch(lv);
    if (rc)
        return rc < 0 ? 0 : rc;
    LiveView v = {lv->last, lv->queues, false, 0, NULL};
    StrBuf text = STRBUF_INIT;
    live_render(&text, &v);
    if (text.data)
        fputs(text.data, stdout);
    strbuf_free(&text);
    return fflush(stdout) == 0 ? 0 : 1;
}

/* Connects, logs in and shows: the exit status (-1: stopped). */
static int run(Live *lv)
{
    if (!ctlconn_open(&lv->conn, lv->o->server, &lv->o->tls, LIVE_MAX_LINE))
        return 1;
    lv->conn.stop = &live_stop_signal;
    int rc = login(lv);
    if (rc)
        return rc;
    return lv->once || !isatty(STDOUT_FILENO) ? run_once(lv) : run_interactive(lv);
}

int cmd_live(const CtlOptions *o, int argc, char **argv)
{
    Live lv = {.o = o, .interval_ms = 1000, .conn = {.fd = -1}};
    int rc = configure(&lv, argc, argv);
    if (rc == 0)
        rc = run(&lv);
    ctlconn_close(&lv.conn);
    json_decref(lv.queues);
    json_decref(lv.last);
    return rc < 0 ? 0 : rc;
}
