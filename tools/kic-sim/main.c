/* kic-sim: simulates a KIC (a telephony bridge plus agents) against kicd
 * over the real protocol. Live mode paces the model by the wall clock
 * (--speed model seconds per second, stamped now); bulk mode (--days)
 * back-fills days that end now as fast as kicd answers. --stdout prints
 * the stream instead of sending it. Options come from one table (flag,
 * environment variable, default, help). */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "driver.h"
#include "toollog.h"
#include "toolnet.h"
#include "toolopts.h"
#include "tooltls.h"
#include "utf8.h"

typedef struct Options {
    const char *server, *bridge_token, *agents_file, *agent_count, *days, *until, *speed, *hours,
        *start, *calls_per_year, *seed, *id_prefix, *team, *untimed, *max_inflight, *summary,
        *log_level, *tz, *tls_ca;
    bool summer_peak, to_stdout, no_progress, tls;
} Options;

#define OPT(field) offsetof(Options, field)

static const ToolOption specs[] = {
    {"server", 1, "KIC_SERVER", "127.0.0.1:7411", OPT(server), "kicd HOST:PORT"},
    {"tls", 0, NULL, NULL, TOOLOPT_OWN,
     "TLS to kicd (a [tls] listener), trusting the system's CAs; the certificate must name "
     "--server's host"},
    {"tls-ca", 1, "KIC_TLS_CA", NULL, OPT(tls_ca),
     "TLS to kicd, trusting the CA certificates in this PEM file"},
    {"bridge-token", 1, "KIC_BRIDGE_TOKEN", NULL, OPT(bridge_token),
     "token of a user with role bridge (prefer the environment)"},
    {"agents", 1, "KIC_SIM_AGENTS", NULL, OPT(agents_file),
     "file of 'agent-id token' lines, one per agent (role agent, e.g. team kic)"},
    {"agent-count", 1, NULL, NULL, OPT(agent_count),
     "agents in the pool [default: the lines of --agents, else sized for the volume]"},
    {"days", 1, NULL, NULL, OPT(days), "bulk mode: back-fill N local days ending now (today included)"},
    {"until", 1, NULL, NULL, OPT(until), "bulk: the end, RFC 3339 [default: now]"},
    {"speed", 1, NULL, "60", OPT(speed), "live: model seconds per real second (60: an hour a minute)"},
    {"hours", 1, NULL, NULL, OPT(hours), "live: stop after N model hours [default: run until a signal]"},
    {"start", 1, NULL, NULL, OPT(start),
     "live: the model clock's start, RFC 3339 (stamps are still now) [default: now]"},
    {"calls-per-year", 1, NULL, "115000", OPT(calls_per_year), "inbound calls a year"},
    {"summer-peak", 0, NULL, NULL, TOOLOPT_OWN,
     "July and August: more household-care calls and callbacks, fewer staff, longer waits"},
    {"seed", 1, "KIC_SIM_SEED", "1", OPT(seed), "the model's seed: the same seed, the same stream"},
    {"id-prefix", 1, NULL, NULL, OPT(id_prefix),
     "call ids read PREFIX-N [default: sim<seed>-<b|l><model start YYYYMMDDHHMM>]"},
    {"team", 1, NULL, "kic", OPT(team), "the team of callbacks agents create"},
    {"untimed", 1, NULL, NULL, OPT(untimed),
     "send|skip agent states and the callback flow: kicd stamps agent.state.set and "
     "callback.create/claim/complete on arrival (callback.requested goes with them) "
     "[default: send live, skip bulk]"},
    {"max-inflight", 1, NULL, "512", OPT(max_inflight), "requests pipelined per connection"},
    {"summary", 1, NULL, NULL, OPT(summary), "write a JSON summary of the run to this file"},
    {"stdout", 0, NULL, NULL, TOOLOPT_OWN,
     "print the stream as JSON lines instead of sending it (no kicd, no tokens)"},
    {"no-progress", 0, NULL, NULL, TOOLOPT_OWN, "no progress bar (bulk, on a terminal)"},
    {"tz", 1, NULL, "Europe/Amsterdam", OPT(tz), "the KIC's time zone (curve, calendar, stamps)"},
    {"log-level", 1, "KIC_LOG_LEVEL", "info", OPT(log_level), "error|warn|info|debug"},
    {"help", 0, NULL, NULL, TOOLOPT_OWN, "this text"},
    {"version", 0, NULL, NULL, TOOLOPT_OWN, "the version"},
};

/* The switches: the table stores only values. */
static int own_option(const ToolOption *s, const char *arg, void *opts)
{
    (void)arg;
    Options *o = opts;
    if (strcmp(s->name, "summer-peak") == 0)
        o->summer_peak = true;
    else if (strcmp(s->name, "stdout") == 0)
        o->to_stdout = true;
    else if (strcmp(s->name, "no-progress") == 0)
        o->no_progress = true;
    else if (strcmp(s->name, "tls") == 0)
        o->tls = true;
    return 0;
}

static const ToolOptions options = {
    .prog = "kic-sim",
    .specs = specs,
    .n = KIC_ARRAY_LEN(specs),
    .flag_width = 20,
    .intro = "usage: kic-sim [OPTION]...\n"
             "Simulates a KIC (telephony bridge plus agents) against kicd over its protocol.\n\n"
             "  kic-sim --agents agents.txt                     live, an hour a minute\n"
             "  kic-sim --days 365 --agents agents.txt          a year back-filled, ending now\n"
             "  kic-sim --days 7 --stdout                       the stream as JSON lines\n\n",
    .outro = "\nThe model, its numbers and examples: tools/kic-sim/README.md.\n",
    .own = own_option,
};

static bool parse_number(const char *name, const char *text, double min, double max, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(text, &end);
    if (errno || end == text || *end || !isfinite(v) || v < min || v > max) {
        fprintf(stderr, "kic-sim: --%s must be a number from %g to %g\n", name, min, max);
        return false;
    }
    *out = v;
    return true;
}

static bool parse_int(const char *name, const char *text, long long min, long long max, long long *out)
{
    char *end;
    errno = 0;
    long long v = strtoll(text, &end, 10);
    if (errno || end == text || *end || v < min || v > max) {
        fprintf(stderr, "kic-sim: --%s must be a whole number from %lld to %lld\n", name, min, max);
        return false;
    }
    *out = v;
    return true;
}

#define MAX_AGENTS 1000

typedef struct AgentFile {
    char *ids[MAX_AGENTS], *tokens[MAX_AGENTS];
    int n;
} AgentFile;

/* Lines "agent-id token"; blank lines and '#' comments are skipped. */
static bool read_agents(const char *path, AgentFile *af)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        fprintf(stderr, "kic-sim: cannot read %s: %s\n", path, strerror(errno));
        return false;
    }
    char line[1024];
    int lineno = 0;
    bool ok = true;
    while (ok && fgets(line, sizeof(line), f)) {
        lineno++;
        char *save, *id = strtok_r(line, " \t\r\n", &save);
        if (!id || id[0] == '#')
            continue;
        char *token = strtok_r(NULL, " \t\r\n", &save);
        char *extra = strtok_r(NULL, " \t\r\n", &save);
        if (!token || extra || utf8_count(id, strlen(id)) > KIC_MAX_FIELD) {
            fprintf(stderr, "kic-sim: %s:%d: expected 'agent-id token'\n", path, lineno);
            ok = false;
        } else if (af->n == MAX_AGENTS) {
            fprintf(stderr, "kic-sim: %s: at most %d agents\n", path, MAX_AGENTS);
            ok = false;
        } else {
            af->ids[af->n] = strdup(id);
            af->tokens[af->n] = strdup(token);
            if (!af->ids[af->n] || !af->tokens[af->n])
                ok = false;
            af->n++;
        }
    }
    fclose(f);
    if (ok && af->n == 0) {
        fprintf(stderr, "kic-sim: %s names no agents\n", path);
        ok = false;
    }
    return ok;
}

static void agents_free(AgentFile *af)
{
    for (int i = 0; i < af->n; i++) {
        free(af->ids[i]);
        free(af->tokens[i]);
    }
}

static KicTime wall_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (KicTime)ts.tv_sec * KIC_USEC + ts.tv_nsec / 1000;
}

/* The stream as JSON lines: what would be sent, and over which connection. */
static int print_stream(Sim *sim)
{
    SimAction a;
    while (sim_next(sim, &a)) {
        const char *conn = a.agent == SIM_BRIDGE ? "bridge" : sim_agent_id(sim, a.agent);
        char stamp[40];
        time_format_local(a.stamp, stamp, sizeof(stamp));
        printf("{\"seq\":%llu,\"stamp\":\"%s\",\"conn\":\"%s\",\"method\":\"%s\",\"params\":%s",
               (unsigned long long)a.seq, stamp, conn, sim_method_names[a.method], a.params);
        if (a.after)
            printf(",\"after\":%llu", (unsigned long long)a.after);
        if (a.follows)
            printf(",\"follows\":%llu", (unsigned long long)a.follows);
        if (a.callback_ref)
            printf(",\"callback_ref\":%llu", (unsigned long long)a.callback_ref);
        printf("}\n");
        sim_action_clear(&a);
    }
    const SimStats *st = sim_stats(sim);
    log_write(LOG_INFO,
              "%llu calls, %llu contacts (%llu answered, %llu abandoned, %llu transferred), "
              "%llu wrap-ups, %llu actions",
              (unsigned long long)st->calls, (unsigned long long)st->contacts,
              (unsigned long long)st->answered, (unsigned long long)st->abandoned,
              (unsigned long long)st->transferred, (unsigned long long)st->wrapups,
              (unsigned long long)st->actions);
    return fflush(stdout) == 0 ? 0 : 1;
}

/* The model's window: bulk, `days` whole local days up to --until (now
 * by default); live, from --start (now) at --speed, for --hours. */
static bool plan_window(const Options *o, bool bulk, long long days, SimConfig *sc)
{
    double speed = 60;
    KicTime now = wall_now() / KIC_USEC * KIC_USEC;
    if (bulk) {
        KicTime until = now;
        if (o->until && !time_parse_rfc3339(o->until, &until)) {
            fprintf(stderr, "kic-sim: --until must be RFC 3339, e.g. 2026-03-01T00:00:00+01:00\n");
            return false;
        }
        sc->start = time_add_local_days(time_local_day_start(until - 1), -(int)(days - 1));
        sc->end = until;
        sc->stamp_origin = sc->start;
    } else {
        if (!parse_number("speed", o->speed, 0.001, 100000, &speed))
            return false;
        sc->start = now;
        if (o->start && !time_parse_rfc3339(o->start, &sc->start)) {
            fprintf(stderr, "kic-sim: --start must be RFC 3339\n");
            return false;
        }
        sc->stamp_origin = now;
        sc->speed = speed;
        if (o->hours) {
            double hours;
            if (!parse_number("hours", o->hours, 0.01, 1e6, &hours))
                return false;
            sc->end = sc->start + (KicTime)(hours * 3600.0 * KIC_USEC);
        } else if (o->to_stdout) {
            fprintf(stderr, "kic-sim: --stdout needs an end: --hours or --days\n");
            return false;
        }
    }
    return true;
}

/* Event ids start with this: --id-prefix, or the seed, the mode and the
 * model's start ("sim2026-b202603010700"). */
static bool make_prefix(const Options *o, const SimConfig *sc, long long seed, bool bulk,
                        char *prefix, size_t size)
{
    if (o->id_prefix) {
        snprintf(prefix, size, "%s", o->id_prefix);
    } else {
        char stamp[40];
        time_format_local(sc->start, stamp, sizeof(stamp)); /* 2026-03-01T07:00:00.000+01:00 */
        snprintf(prefix, size, "sim%lld-%c%.4s%.2s%.2s%.2s%.2s", seed, bulk ? 'b' : 'l',
                 stamp, stamp + 5, stamp + 8, stamp + 11, stamp + 14);
    }
    if (!*prefix || strlen(prefix) > 100) {
        fprintf(stderr, "kic-sim: --id-prefix must be 1 to 100 bytes\n");
        return false;
    }
    return true;
}

/* --tls, --tls-ca: the one TLS context of every connection (the bridge's
 * and each agent's), made before the run so that an unreadable CA file
 * stops the start. NULL in *ctx: plain TCP. */
static bool make_tls(const Options *o, SSL_CTX **ctx)
{
    const char *ca = o->tls_ca && *o->tls_ca ? o->tls_ca : NULL;
    *ctx = NULL;
    if (!o->tls && !ca)
        return true;
    char why[300];
    *ctx = tooltls_client_ctx(ca, why, sizeof(why));
    if (!*ctx)
        fprintf(stderr, "kic-sim: %s\n", why);
    return *ctx != NULL;
}

static void driver_configure(DriverConfig *dc, const Options *o, const AgentFile *af,
                             const SimConfig *sc, bool bulk, size_t inflight, const char *prefix,
                             uint64_t seed)
{
    dc->bridge_token = o->bridge_token;
    dc->agent_tokens = af->n ? (const char *const *)af->tokens : NULL;
    dc->bulk = bulk;
    dc->max_inflight = inflight;
    dc->connect_timeout = 10 * KIC_USEC;
    dc->ping_interval = 30 * KIC_USEC;
    dc->progress = bulk && !o->no_progress && isatty(2);
    dc->summary_path = o->summary;
    dc->id_prefix = prefix;
    dc->seed = seed;
    dc->model_start = sc->start;
    dc->model_end = sc->end;
    dc->stamp_origin = sc->stamp_origin;
    dc->speed = sc->speed;
}

int main(int argc, char **argv)
{
    Options o = {0};
    int rc = toolopts_parse(&options, argc, argv, &o);
    if (rc)
        return rc < 0 ? 0 : rc;
    if (!time_zone_exists(o.tz)) {
        /* the C library would run it in UTC without a word */
        fprintf(stderr, "kic-sim: --tz '%s' is not a known time zone (e.g. Europe/Amsterdam)\n", o.tz);
        return 2;
    }
    setenv("TZ", o.tz, 1);
    tzset();
    LogLevel level;
    if (!log_level_parse(o.log_level, &level)) {
        fprintf(stderr, "kic-sim: --log-level must be error, warn, info or debug\n");
        return 2;
    }
    log_set_level(level);

    /* zero-filled, and the agent table (16 kB) kept off the stack; main's
     * own, used by nothing else */
    static Driver d;
    static AgentFile af;
    SimConfig sc = {.speed = 1.0, .end = KIC_TIME_NONE};
    DriverConfig *dc = &d.cfg;
    double cpy;
    long long seed, count = 0, days = 0, inflight;
    rc = 2;
    if (!parse_number("calls-per-year", o.calls_per_year, 1, 1e9, &cpy) ||
        !parse_int("seed", o.seed, 0, INT64_MAX, &seed) ||
        !parse_int("max-inflight", o.max_inflight, 1, 100000, &inflight) ||
        (o.agent_count && !parse_int("agent-count", o.agent_count, 1, MAX_AGENTS, &count)) ||
        (o.days && !parse_int("days", o.days, 1, 3660, &days)))
        goto out;
    if (o.agents_file && !read_agents(o.agents_file, &af))
        goto out;
    if (af.n && count > af.n) {
        fprintf(stderr, "kic-sim: --agent-count %lld but %s names %d agents\n", count,
                o.agents_file, af.n);
        goto out;
    }
    bool bulk = o.days != NULL;
    if (bulk && (o.hours || o.start)) {
        fprintf(stderr, "kic-sim: --hours and --start are for live mode; --days is bulk\n");
        goto out;
    }
    if (!bulk && o.until) {
        fprintf(stderr, "kic-sim: --until is for bulk mode (--days)\n");
        goto out;
    }
    if (!plan_window(&o, bulk, days, &sc))
        goto out;
    char prefix[128];
    if (!make_prefix(&o, &sc, seed, bulk, prefix, sizeof(prefix)))
        goto out;
    bool untimed = !bulk;
    if (o.untimed) {
        if (strcmp(o.untimed, "send") != 0 && strcmp(o.untimed, "skip") != 0) {
            fprintf(stderr, "kic-sim: --untimed must be send or skip\n");
            goto out;
        }
        untimed = strcmp(o.untimed, "send") == 0;
    }
    sc.seed = (uint64_t)seed;
    sc.calls_per_year = cpy;
    sc.summer_peak = o.summer_peak;
    sc.agents = (int)(count ? count : af.n);
    sc.agent_ids = af.n ? (const char *const *)af.ids : NULL;
    sc.id_prefix = prefix;
    sc.team = o.team;
    sc.untimed = untimed;
    char err[128];
    Sim *sim = sim_new(&sc, err, sizeof(err));
    if (!sim) {
        fprintf(stderr, "kic-sim: %s\n", err);
        goto out;
    }
    char from[40], to[40] = "(no end)";
    time_format_local(sc.start, from, sizeof(from));
    if (sc.end != KIC_TIME_NONE)
        time_format_local(sc.end, to, sizeof(to));
    log_write(LOG_INFO, "kic-sim %s: %s, %s to %s, %.0f calls a year%s, %d agents, seed %lld, ids %s-N",
              KIC_VERSION, bulk ? "bulk" : "live", from, to, cpy,
              o.summer_peak ? " with the summer peak" : "", sim_agent_count(sim), seed, prefix);
    if (o.to_stdout) {
        rc = print_stream(sim);
        sim_free(sim);
        goto out;
    }
    dc->port = 7411;
    if (!toolnet_parse_endpoint(o.server, dc->host, sizeof(dc->host), &dc->port)) {
        fprintf(stderr, "kic-sim: --server takes HOST:PORT\n");
        sim_free(sim);
        goto out;
    }
    if (!o.bridge_token || !*o.bridge_token) {
        fprintf(stderr, "kic-sim: a bridge token is needed: --bridge-token or KIC_BRIDGE_TOKEN\n");
        sim_free(sim);
        goto out;
    }
    if (!make_tls(&o, &dc->tls)) {
        sim_free(sim);
        goto out;
    }
    d.sim = sim;
    driver_configure(dc, &o, &af, &sc, bulk, (size_t)inflight, prefix, (uint64_t)seed);
    rc = driver_run(&d) ? 0 : 1;
    SSL_CTX_free(dc->tls);
    sim_free(sim);
out:
    agents_free(&af);
    return rc;
}
