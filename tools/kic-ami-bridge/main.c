/* kic-ami-bridge: reads Asterisk AMI queue events and forwards them to kicd
 * as bridge events, at least once. Options come from a table (flag,
 * environment variable, default, help); --map-file maps a recorded AMI
 * stream to stdout without any network, to see what would be sent. */
#include <errno.h>
#include <event2/dns.h>
#include <event2/event.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>

#include "bridge.h"
#include "toollog.h"
#include "toolnet.h"
#include "toolopts.h"
#include "tooltls.h"

KicTime bridge_now(void)
{
    struct timeval tv;
    gettimeofday(&tv, NULL);
    return (KicTime)tv.tv_sec * KIC_USEC + tv.tv_usec;
}

/* ---- options ----------------------------------------------------------- */

typedef struct Options {
    const char *ami, *ami_user, *ami_secret, *server, *token;
    const char *agent_map, *agent_id, *default_kind, *timeout_as, *id_prefix, *location_var;
    const char *grace_ms, *connect_grace_ms, *max_unacked, *max_inflight, *ping_s, *ami_ping_s;
    const char *log_level;
    const char *map_file, *tls_ca;
    bool to_stdout, tls;
    const char *kinds[QUEUELOG_MAX_KIND_RULES];
    size_t nkinds;
} Options;

#define OPT(field) offsetof(Options, field)

static const ToolOption specs[] = {
    {"ami", 1, "KIC_AMI", "127.0.0.1:5038", OPT(ami), "Asterisk manager HOST:PORT"},
    {"ami-user", 1, "KIC_AMI_USER", NULL, OPT(ami_user), "AMI user (manager.conf)"},
    {"ami-secret", 1, "KIC_AMI_SECRET", NULL, OPT(ami_secret), "AMI secret (prefer the environment)"},
    {"server", 1, "KIC_SERVER", "127.0.0.1:7411", OPT(server), "kicd HOST:PORT"},
    {"token", 1, "KIC_TOKEN", NULL, OPT(token), "kicd bridge token (prefer the environment)"},
    {"tls", 0, NULL, NULL, TOOLOPT_OWN,
     "TLS to kicd (a [tls] listener), trusting the system's CAs; the certificate must name "
     "--server's host"},
    {"tls-ca", 1, "KIC_TLS_CA", NULL, OPT(tls_ca),
     "TLS to kicd, trusting the CA certificates in this PEM file"},
    {"agent-map", 1, "KIC_AGENT_MAP", NULL, OPT(agent_map),
     "file of 'member name or interface = agent id' lines"},
    {"agent-id", 1, NULL, "name", OPT(agent_id),
     "name: agent ids from member names; interface: from interfaces"},
    {"transfer-kind", 1, NULL, NULL, TOOLOPT_OWN,
     "EXTEN@CONTEXT=KIND (repeatable; * matches any): queue|agent|care_team|external"},
    {"default-kind", 1, NULL, "external", OPT(default_kind), "kind of a transfer no rule names"},
    {"timeout-as", 1, NULL, "ended", OPT(timeout_as),
     "a queue timeout is sent as call.ended by system (ended) or call.abandoned"},
    {"id-prefix", 1, NULL, "ast", OPT(id_prefix),
     "event ids read PREFIX-CALLID-TAG; keep it equal to the queue_log import's"},
    {"location-var", 1, NULL, "KIC_LOCATION", OPT(location_var),
     "channel variable that names the caller's location ('' for none)"},
    {"grace-ms", 1, NULL, "3000", OPT(grace_ms),
     "how long an undecided outcome waits for the event that decides it"},
    {"connect-grace-ms", 1, NULL, "60000", OPT(connect_grace_ms),
     "how long a caller whose member answered waits for AgentConnect (member gosub)"},
    {"max-unacked", 1, NULL, "10000", OPT(max_unacked),
     "events kept until kicd answers them; when full, AMI reading pauses"},
    {"max-inflight", 1, NULL, "256", OPT(max_inflight), "requests pipelined to kicd at once"},
    {"ping", 1, NULL, "30", OPT(ping_s), "seconds of quiet before a server.ping to kicd"},
    {"ami-ping", 1, NULL, "60", OPT(ami_ping_s),
     "seconds of AMI silence before an Action: Ping (0: never)"},
    {"log-level", 1, "KIC_LOG_LEVEL", "info", OPT(log_level), "error|warn|info|debug"},
    {"map-file", 1, NULL, NULL, OPT(map_file),
     "map a recorded AMI stream (e.g. A-ami.raw) to JSON lines on stdout, then exit"},
    {"stdout", 0, NULL, NULL, TOOLOPT_OWN,
     "print the events as JSON lines instead of sending them to kicd (no token needed)"},
    {"help", 0, NULL, NULL, TOOLOPT_OWN, "this text"},
    {"version", 0, NULL, NULL, TOOLOPT_OWN, "the version"},
};

/* The options the table cannot store itself: switches and a repeatable flag. */
static int own_option(const ToolOption *s, const char *arg, void *opts)
{
    Options *o = opts;
    if (strcmp(s->name, "stdout") == 0) {
        o->to_stdout = true;
        return 0;
    }
    if (strcmp(s->name, "tls") == 0) {
        o->tls = true;
        return 0;
    }
    /* --transfer-kind */
    if (o->nkinds == QUEUELOG_MAX_KIND_RULES) {
        fprintf(stderr, "kic-ami-bridge: at most %d --transfer-kind rules\n", QUEUELOG_MAX_KIND_RULES);
        return 2;
    }
    o->kinds[o->nkinds++] = arg;
    return 0;
}

static const ToolOptions options = {
    .prog = "kic-ami-bridge",
    .specs = specs,
    .n = KIC_ARRAY_LEN(specs),
    .flag_width = 22,
    .intro = "usage: kic-ami-bridge [OPTION]...\n"
             "Forwards Asterisk AMI queue events to kicd as bridge events, at least once.\n\n",
    .outro = "\nThe mapping rules, event ids and traps: tools/kic-ami-bridge/README.md.\n",
    .own = own_option,
};

static bool parse_count(const char *name, const char *text, long min, long max, long *out)
{
    char *end;
    errno = 0;
    long v = strtol(text, &end, 10);
    if (errno || *end || v < min || v > max) {
        fprintf(stderr, "kic-ami-bridge: --%s must be %ld to %ld\n", name, min, max);
        return false;
    }
    *out = v;
    return true;
}

/* AMI action values end at CR/LF: one in a user or secret would inject lines. */
static bool one_line(const char *what, const char *s)
{
    if (!s || !*s || strpbrk(s, "\r\n") || strlen(s) > 200) {
        fprintf(stderr, "kic-ami-bridge: %s must be one line of 1 to 200 bytes\n", what);
        return false;
    }
    return true;
}

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    char *buf = NULL;
    size_t cap = 0, n = 0;
    for (;;) {
        if (n == cap) {
            cap = cap ? cap * 2 : 65536;
            char *nb = realloc(buf, cap);
            if (!nb) {
                free(buf);
                fclose(f);
                return NULL;
            }
            buf = nb;
        }
        size_t r = fread(buf + n, 1, cap - n, f);
        n += r;
        if (r == 0)
            break;
    }
    bool failed = ferror(f); /* a read error is not the end: no map cut short */
    fclose(f);
    if (failed) {
        free(buf);
        return NULL;
    }
    *len = n;
    return buf;
}

/* --tls, --tls-ca: the one TLS context of every kicd connection, made
 * now so that an unreadable CA file stops the start, not each connect. */
static bool configure_tls(const Options *o, BridgeConfig *cfg)
{
    const char *ca = o->tls_ca && *o->tls_ca ? o->tls_ca : NULL;
    if (!o->tls && !ca)
        return true;
    char why[300];
    cfg->tls = tooltls_client_ctx(ca, why, sizeof(why));
    if (!cfg->tls)
        fprintf(stderr, "kic-ami-bridge: %s\n", why);
    return cfg->tls != NULL;
}

/* Fills the bridge's rules and limits from the options; prints why not. */
static bool configure(const Options *o, Bridge *br, bool network)
{
    BridgeConfig *cfg = &br->cfg;
    LogLevel level;
    if (!log_level_parse(o->log_level, &level)) {
        fprintf(stderr, "kic-ami-bridge: --log-level must be error, warn, info or debug\n");
        return false;
    }
    log_set_level(level);
    QueueLogRules *r = &br->rules;
    char err[256];
    bool rules_ok = queuelog_rules_set(r, "id-prefix", o->id_prefix, err, sizeof(err)) &&
                    queuelog_rules_set(r, "agent-id", o->agent_id, err, sizeof(err)) &&
                    queuelog_rules_set(r, "timeout-as", o->timeout_as, err, sizeof(err)) &&
                    queuelog_rules_set(r, "default-kind", o->default_kind, err, sizeof(err));
    for (size_t i = 0; rules_ok && i < o->nkinds; i++)
        rules_ok = queuelog_rules_set(r, "transfer-kind", o->kinds[i], err, sizeof(err));
    if (!rules_ok) {
        fprintf(stderr, "kic-ami-bridge: %s\n", err);
        return false;
    }
    if (o->agent_map) {
        size_t len;
        char *text = slurp(o->agent_map, &len);
        if (!text) {
            fprintf(stderr, "kic-ami-bridge: cannot read %s: %s\n", o->agent_map, strerror(errno));
            return false;
        }
        bool ok = queuelog_rules_load_agent_map(r, text, len, err, sizeof(err));
        free(text);
        if (!ok) {
            fprintf(stderr, "kic-ami-bridge: %s: %s\n", o->agent_map, err);
            return false;
        }
    }
    long grace, connect_grace, unacked, inflight, ping, ami_ping;
    if (!parse_count("grace-ms", o->grace_ms, 100, 600000, &grace) ||
        !parse_count("connect-grace-ms", o->connect_grace_ms, 100, 3600000, &connect_grace) ||
        !parse_count("max-unacked", o->max_unacked, 2 * BRIDGE_OUTBOX_SLACK, 10000000, &unacked) ||
        !parse_count("max-inflight", o->max_inflight, 1, 1000000, &inflight) ||
        !parse_count("ping", o->ping_s, 1, 3600, &ping) ||
        !parse_count("ami-ping", o->ami_ping_s, 0, 3600, &ami_ping))
        return false;
    br->mapcfg = (AmiMapConfig){.rules = r,
                                .location_var = *o->location_var ? o->location_var : NULL,
                                .grace = grace * 1000,
                                .connect_grace = connect_grace * 1000};
    cfg->max_unacked = (size_t)unacked;
    cfg->max_inflight = (size_t)inflight;
    cfg->ping_interval = ping * KIC_USEC;
    cfg->ami_ping_interval = ami_ping * KIC_USEC;
    cfg->connect_timeout = 10 * KIC_USEC;
    cfg->drain_timeout = 10 * KIC_USEC;
    if (!network)
        return true;
    cfg->ami.port = 5038;
    cfg->kicd.port = 7411;
    if (!toolnet_parse_endpoint(o->ami, cfg->ami.host, sizeof(cfg->ami.host), &cfg->ami.port) ||
        !toolnet_parse_endpoint(o->server, cfg->kicd.host, sizeof(cfg->kicd.host), &cfg->kicd.port)) {
        fprintf(stderr, "kic-ami-bridge: --ami and --server take HOST:PORT\n");
        return false;
    }
    if (!one_line("--ami-user (or KIC_AMI_USER)", o->ami_user) ||
        !one_line("--ami-secret (or KIC_AMI_SECRET)", o->ami_secret))
        return false;
    cfg->to_stdout = o->to_stdout;
    if (!o->to_stdout && (!o->token || !*o->token)) {
        fprintf(stderr, "kic-ami-bridge: a bridge token is needed: --token or KIC_TOKEN\n");
        return false;
    }
    cfg->ami_user = o->ami_user;
    cfg->ami_secret = o->ami_secret;
    cfg->token = o->token;
    return o->to_stdout || configure_tls(o, cfg);
}

/* ---- --map-file: a recording to JSON lines ------------------------------ */

static void print_event(void *ctx, json_t *ev)
{
    char *line = json_dumps(ev, JSON_COMPACT);
    if (line) {
        puts(line);
        free(line);
    }
    json_decref(ev);
}

static void debug_note(void *ctx, const char *text)
{
    log_write(LOG_DEBUG, "%s", text);
}

static int map_file(Bridge *br, const char *path)
{
    size_t len;
    char *data = slurp(path, &len);
    if (!data) {
        fprintf(stderr, "kic-ami-bridge: cannot read %s: %s\n", path, strerror(errno));
        return 1;
    }
    AmiMapper *m = ami_map_new(&br->mapcfg, print_event, debug_note, NULL);
    AmiParser p;
    if (!m || !ami_parser_init(&p, AMI_DEFAULT_MAX_MESSAGE)) {
        free(data);
        ami_map_free(m);
        return 1;
    }
    for (size_t off = 0; off < len;) {
        off += ami_parser_feed(&p, data + off, len - off);
        AmiMessage msg;
        const char *banner;
        AmiResult r;
        while ((r = ami_parser_next(&p, &msg, &banner)) != AMI_NEED)
            if (r == AMI_MESSAGE)
                ami_map_feed(m, &msg, bridge_now());
    }
    ami_map_flush(m);
    const AmiMapStats *st = ami_map_stats(m);
    log_write(LOG_INFO, "%zu AMI messages → %zu events (%zu ignored, %zu not matched, %zu inferred)",
              st->messages, st->events, st->ignored, st->unmatched, st->synthesized);
    ami_parser_free(&p);
    ami_map_free(m);
    free(data);
    return 0;
}

/* ---- the running bridge ------------------------------------------------ */

static void on_mapped(void *ctx, json_t *ev)
{
    Bridge *br = ctx;
    if (br->cfg.to_stdout) {
        print_event(NULL, ev);
        fflush(stdout);
        return;
    }
    if (!outbox_push(&br->outbox, ev)) {
        /* only while draining can the outbox overflow: AMI pauses first */
        br->dropped++;
        json_t *p = json_object_get(ev, "params");
        log_write(LOG_ERROR, "outbox full: lost %s %s", json_string_value(json_object_get(ev, "method")),
                  json_string_value(json_object_get(p, "event_id")));
    }
    json_decref(ev);
    kicconn_flush(&br->kic);
}

void bridge_outbox_changed(Bridge *br)
{
    amiconn_resume(&br->ami);
    if (br->draining && br->outbox.live == 0) {
        log_write(LOG_INFO, "every event is answered by kicd; exiting");
        event_base_loopexit(br->base, NULL);
    }
}

/* Names each event kicd has not answered: what is lost when the bridge
 * exits now (the queue_log import restores them by these ids). */
static void log_unanswered(Bridge *br)
{
    for (uint64_t seq = br->outbox.head_seq; seq < br->outbox.next_seq; seq++) {
        const OutboxEntry *e = outbox_find(&br->outbox, seq);
        if (e && e->state != OUTBOX_DONE)
            log_write(LOG_ERROR, "lost, not answered by kicd: %s %s", e->method, e->event_id);
    }
}

static void on_tick(evutil_socket_t fd, short what, void *arg)
{
    Bridge *br = arg;
    KicTime now = bridge_now();
    if (br->last_ami_event)
        ami_map_idle(br->mapper, now - br->last_ami_event);
    amiconn_tick(&br->ami, now);
    kicconn_tick(&br->kic, now);
    if (br->draining && now >= br->drain_deadline) {
        log_write(LOG_ERROR, "drain timed out: %zu events not answered by kicd are lost "
                             "(a queue_log import with the same --id-prefix restores them)",
                  br->outbox.live);
        log_unanswered(br);
        event_base_loopexit(br->base, NULL);
    }
}

static void on_signal(evutil_socket_t sig, short what, void *arg)
{
    Bridge *br = arg;
    if (br->draining) {
        log_write(LOG_WARN, "second signal: exiting now with %zu events unanswered", br->outbox.live);
        log_unanswered(br);
        event_base_loopexit(br->base, NULL);
        return;
    }
    log_write(LOG_INFO, "signal %d: stopping AMI, deciding open calls, waiting up to %.0f s "
                        "for kicd to answer %zu events",
              (int)sig, (double)br->cfg.drain_timeout / KIC_USEC, br->outbox.live);
    br->draining = true;
    br->drain_deadline = bridge_now() + br->cfg.drain_timeout;
    amiconn_stop(&br->ami);
    ami_map_flush(br->mapper);
    bridge_outbox_changed(br);
}

static int run(Bridge *br)
{
    int rc = 1;
    struct event *tick = NULL, *sigterm = NULL, *sigint = NULL;
    br->base = event_base_new();
    if (!br->base)
        goto fail;
    br->dns = evdns_base_new(br->base, EVDNS_BASE_INITIALIZE_NAMESERVERS);
    br->mapper = ami_map_new(&br->mapcfg, on_mapped, debug_note, br);
    if (!br->dns || !br->mapper || !outbox_init(&br->outbox, br->cfg.max_unacked) ||
        !amiconn_init(&br->ami, br) || !kicconn_init(&br->kic, br))
        goto fail;
    tick = event_new(br->base, -1, EV_PERSIST, on_tick, br);
    sigterm = evsignal_new(br->base, SIGTERM, on_signal, br);
    sigint = evsignal_new(br->base, SIGINT, on_signal, br);
    struct timeval second = {1, 0};
    if (!tick || !sigterm || !sigint || event_add(tick, &second) || event_add(sigterm, NULL) ||
        event_add(sigint, NULL))
        goto fail;
    signal(SIGPIPE, SIG_IGN);
    log_write(LOG_INFO, "kic-ami-bridge %s: AMI %s:%d → kicd %s:%d%s (outbox %zu, %zu in flight)",
              KIC_VERSION, br->cfg.ami.host, br->cfg.ami.port, br->cfg.kicd.host,
              br->cfg.kicd.port, br->cfg.tls ? " over TLS" : "", br->cfg.max_unacked,
              br->cfg.max_inflight);
    if (!br->cfg.to_stdout)
        kicconn_start(&br->kic);
    amiconn_start(&br->ami);
    event_base_dispatch(br->base);
    const AmiMapStats *st = ami_map_stats(br->mapper);
    log_write(LOG_INFO, "done: %zu AMI messages, %zu events made, %zu accepted, %zu rejected, "
                        "%zu unanswered",
              st->messages, st->events, br->outbox.accepted, br->outbox.rejected, br->outbox.live);
    rc = br->outbox.live == 0 && br->dropped == 0 ? 0 : 1;
fail:
    if (rc && !br->base)
        log_write(LOG_ERROR, "cannot set up the event loop");
    if (tick)
        event_free(tick);
    if (sigterm)
        event_free(sigterm);
    if (sigint)
        event_free(sigint);
    if (br->base) {
        amiconn_free(&br->ami);
        kicconn_free(&br->kic);
    }
    ami_map_free(br->mapper);
    outbox_free(&br->outbox);
    if (br->dns)
        evdns_base_free(br->dns, 0);
    if (br->base)
        event_base_free(br->base);
    return rc;
}

int main(int argc, char **argv)
{
    Options o = {0};
    int rc = toolopts_parse(&options, argc, argv, &o);
    if (rc)
        return rc < 0 ? 0 : rc;
    static Bridge br; /* zero-filled; main's own, used by nothing else */
    queuelog_rules_init(&br.rules);
    srandom((unsigned)getpid() ^ (unsigned)bridge_now());
    if (!configure(&o, &br, o.map_file == NULL))
        rc = 2;
    else if (o.map_file)
        rc = map_file(&br, o.map_file);
    else
        rc = run(&br);
    SSL_CTX_free(br.cfg.tls);
    queuelog_rules_free(&br.rules);
    return rc;
}
