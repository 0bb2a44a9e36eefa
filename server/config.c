/* The option table and its INI reader (Debian's libinih). */
#include "config.h"

#include <errno.h>
#include <ini.h>
#include <libpq-fe.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <strings.h>

#include "listen_addr.h"
#include "log.h"

/* Shorter, a caller's key would be a hash anyone could recompute from
 * the number: every key in the database reversible. */
#define MIN_SECRET_LEN 16

typedef struct Option {
    const char *section;
    const char *name;
    ConfigType type;
    const char *def;
    bool reloadable;
    const char *help;
    size_t offset;
} Option;

static const Option options[] = {
#define CONFIG_ROW(sec, nm, type, def, reload, help) \
    {#sec, #nm, CONFIG_##type, def, reload, help, offsetof(Config, nm)},
    CONFIG_OPTIONS(CONFIG_ROW)
#undef CONFIG_ROW
};

static const Option *find(const char *name)
{
    for (size_t i = 0; i < KIC_ARRAY_LEN(options); i++)
        if (strcmp(options[i].name, name) == 0)
            return &options[i];
    return NULL;
}

/* Every whole number has a range, checked before anything starts: below
 * it kicd cannot work; above it a typo (a byte count for seconds, a stray
 * digit) would let one client take the machine or overflow the int a
 * value is used as (max_depth, the line caps). --help shows them. */
static const struct {
    const char *name;
    long long min, max;
} ranges[] = {
    {"max_connections", 1, 1000000},
    {"max_http_connections", 1, 1000000},
    {"login_timeout_s", 1, 3600},
    {"idle_timeout_s", 0, 7 * 86400},
    {"max_line", 256, 64 << 20},
    {"max_line_unauth", 256, 64 << 20},
    {"max_depth", 2, 1000},
    {"max_batch", 1, 100000},
    {"output_buffer", 4096, 1LL << 30},
    {"max_outstanding", 1, 1000000},
    {"requests_per_wakeup", 1, 100000},
    {"max_bad_lines", 1, 1000000},
    {"report_max_rows", 1, 10000000},
    {"batch_max", 1, 100000},
    {"batch_wait_us", 0, 1000000},
    {"journal_max_bytes", 1 << 20, 1LL << 40},
    {"pg_timeout_s", 0, 3600},
    {"retention_days", 1, 36500},
    {"cache_days", 1, 366},
    {"sl_threshold_s", 1, 86400},
    {"short_abandon_s", 0, 3600},
    {"repeat_window_days", 1, 365},
    {"callback_due_hours", 1, 24 * 366},
    {"wrapup_skew_s", 0, 86400},
    {"event_skew_s", 0, 7 * 86400},
};

static int range_of(const char *name)
{
    for (size_t i = 0; i < KIC_ARRAY_LEN(ranges); i++)
        if (strcmp(ranges[i].name, name) == 0)
            return (int)i;
    return -1;
}

static bool parse_value(Config *c, const Option *o, const char *value, char *err, size_t errlen)
{
    void *field = (char *)c + o->offset;
    char *end;
    switch (o->type) {
    case CONFIG_STR: {
        char *copy = strdup(value);
        if (!copy)
            return false;
        free(*(char **)field);
        *(char **)field = copy;
        return true;
    }
    case CONFIG_INT: {
        errno = 0;
        long long v = strtoll(value, &end, 10);
        if (errno || end == value || *end != '\0' || v < 0) {
            snprintf(err, errlen, "%s: expected a whole number >= 0, got '%s'", o->name, value);
            return false;
        }
        *(long long *)field = v;
        return true;
    }
    case CONFIG_DBL: {
        errno = 0;
        double v = strtod(value, &end);
        if (errno || end == value || *end != '\0' || !isfinite(v)) {
            snprintf(err, errlen, "%s: expected a number, got '%s'", o->name, value);
            return false;
        }
        *(double *)field = v;
        return true;
    }
    case CONFIG_BOOL:
        if (!strcasecmp(value, "true") || !strcasecmp(value, "yes") || !strcmp(value, "1") ||
            !strcasecmp(value, "on")) {
            *(bool *)field = true;
        } else if (!strcasecmp(value, "false") || !strcasecmp(value, "no") ||
                   !strcmp(value, "0") || !strcasecmp(value, "off")) {
            *(bool *)field = false;
        } else {
            snprintf(err, errlen, "%s: expected true or false, got '%s'", o->name, value);
            return false;
        }
        return true;
    }
    return false;
}

void config_init(Config *c)
{
    memset(c, 0, sizeof(*c));
    char err[256];
    for (size_t i = 0; i < KIC_ARRAY_LEN(options); i++) {
        /* a default that does not parse, or a number without a range, is
         * a bug in the tables */
        if (!parse_value(c, &options[i], options[i].def, err, sizeof(err)) ||
            (options[i].type == CONFIG_INT && range_of(options[i].name) < 0))
            abort();
    }
}

void config_free(Config *c)
{
    for (size_t i = 0; i < KIC_ARRAY_LEN(options); i++) {
        if (options[i].type == CONFIG_STR) {
            char **field = (char **)((char *)c + options[i].offset);
            free(*field);
            *field = NULL;
        }
    }
}

bool config_set(Config *c, const char *name, const char *value, char *err, size_t errlen)
{
    const Option *o = find(name);
    if (!o) {
        snprintf(err, errlen, "unknown option '%s'", name);
        return false;
    }
    return parse_value(c, o, value, err, errlen);
}

typedef struct IniCtx {
    Config *c;
    char *err;
    size_t errlen;
    bool failed;
} IniCtx;

static int on_ini_value(void *user, const char *section, const char *name, const char *value)
{
    IniCtx *ctx = user;
    const Option *o = find(name);
    if (!o || strcmp(o->section, section) != 0) {
        snprintf(ctx->err, ctx->errlen, "unknown option [%s] %s", section, name);
        ctx->failed = true;
        return 0;
    }
    if (!parse_value(ctx->c, o, value, ctx->err, ctx->errlen)) {
        ctx->failed = true;
        return 0;
    }
    return 1;
}

bool config_load_file(Config *c, const char *path, char *err, size_t errlen)
{
    IniCtx ctx = {c, err, errlen, false};
    FILE *f = fopen(path, "r");
    struct stat st;
    if (!f || fstat(fileno(f), &st) != 0) {
        snprintf(err, errlen, "cannot open %s: %s", path, strerror(errno));
        if (f)
            fclose(f);
        return false;
    }
    if (!S_ISREG(st.st_mode)) {
        snprintf(err, errlen, "%s is no regular file", path);
        fclose(f);
        return false;
    }
    int rc = ini_parse_file(f, on_ini_value, &ctx);
    fclose(f);
    if (ctx.failed) {
        size_t n = strlen(err);
        snprintf(err + n, errlen - n, " (in %s)", path);
        return false;
    }
    if (rc != 0) {
        snprintf(err, errlen, "%s: syntax error on line %d", path, rc);
        return false;
    }
    return true;
}

static size_t field_size(ConfigType t)
{
    switch (t) {
    case CONFIG_STR: return sizeof(char *);
    case CONFIG_INT: return sizeof(long long);
    case CONFIG_BOOL: return sizeof(bool);
    default: return sizeof(double);
    }
}

void config_copy(Config *dst, const Config *src)
{
    *dst = *src;
    for (size_t i = 0; i < KIC_ARRAY_LEN(options); i++) {
        if (options[i].type != CONFIG_STR)
            continue;
        char **field = (char **)((char *)dst + options[i].offset);
        if (*field && !(*field = strdup(*field)))
            abort();
    }
}

static bool same_value(const Option *o, const Config *a, const Config *b)
{
    const char *x = (const char *)a + o->offset, *y = (const char *)b + o->offset;
    if (o->type == CONFIG_STR) {
        const char *sx = *(char *const *)x, *sy = *(char *const *)y;
        return strcmp(sx ? sx : "", sy ? sy : "") == 0;
    }
    return memcmp(x, y, field_size(o->type)) == 0;
}

size_t config_restart_changes(const Config *was, const Config *now, char *out, size_t outlen)
{
    size_t n = 0, used = 0;
    out[0] = '\0';
    for (size_t i = 0; i < KIC_ARRAY_LEN(options); i++) {
        if (options[i].reloadable || same_value(&options[i], was, now))
            continue;
        int w = snprintf(out + used, outlen - used, "%s%s", n ? ", " : "", options[i].name);
        if (w > 0 && (size_t)w < outlen - used)
            used += (size_t)w;
        n++;
    }
    return n;
}

/* A flag given (even empty: --http "" turns HTTP off). */
static bool set_if(Config *c, const char *name, const char *value, char *err, size_t n)
{
    return !value || config_set(c, name, value, err, n);
}

/* An environment variable set and not empty. */
static bool set_from_env(Config *c, const char *name, const char *var, char *err, size_t n)
{
    const char *value = getenv(var);
    return !value || !*value || config_set(c, name, value, err, n);
}

bool config_read(Config *c, const ConfigSources *src, char *err, size_t errlen)
{
    config_init(c);
    if (src->file && !config_load_file(c, src->file, err, errlen))
        return false;
    return set_from_env(c, "pg", "KIC_PG", err, errlen) &&
           set_from_env(c, "secret", "KIC_CALLER_SECRET", err, errlen) &&
           set_if(c, "pg", src->pg, err, errlen) && set_if(c, "listen", src->listen, err, errlen) &&
           set_if(c, "http", src->http, err, errlen) &&
           set_if(c, "log_level", src->log_level, err, errlen) && config_validate(c, err, errlen);
}

void config_take_reloadable(Config *c, Config *next)
{
    for (size_t i = 0; i < KIC_ARRAY_LEN(options); i++) {
        if (!options[i].reloadable)
            continue;
        unsigned char tmp[sizeof(long long) > sizeof(double) ? sizeof(long long) : sizeof(double)];
        size_t n = field_size(options[i].type);
        char *mine = (char *)c + options[i].offset, *theirs = (char *)next + options[i].offset;
        memcpy(tmp, mine, n);
        memcpy(mine, theirs, n);
        memcpy(theirs, tmp, n);
    }
}

/* Both addresses must parse, and without TLS only loopback unless the
 * operator says otherwise: tokens and care data must not cross a network
 * in the clear by accident. */
static bool check_addresses(const Config *c, char *err, size_t errlen)
{
    const char *names[] = {"listen", "http"};
    const char *addrs[] = {c->listen, c->http};
    bool tls = c->cert[0] != '\0';
    for (size_t i = 0; i < KIC_ARRAY_LEN(addrs); i++) {
        struct sockaddr_storage ss;
        int len;
        if (!addrs[i][0] && i == 1)
            continue; /* no HTTP */
        if (!listen_addr_parse(addrs[i], &ss, &len)) {
            snprintf(err, errlen, "%s: bad address '%s' (want IP:PORT, port 1-65535)", names[i],
                     addrs[i]);
            return false;
        }
        if (!tls && !c->allow_plain_public && !listen_addr_is_loopback(&ss)) {
            snprintf(err, errlen,
                     "refusing to listen on %s without TLS: set [tls] cert and key, or "
                     "allow_plain_public = true",
                     addrs[i]);
            return false;
        }
    }
    return true;
}

/* A country calling code: 1 to 3 digits, no leading 0 ("31"). */
static bool country_code_ok(const char *cc)
{
    size_t n = strlen(cc);
    if (n < 1 || n > 3 || cc[0] == '0')
        return false;
    for (size_t i = 0; i < n; i++)
        if (cc[i] < '0' || cc[i] > '9')
            return false;
    return true;
}

/* The values that are no number range. */
static bool check_words(const Config *c, char *err, size_t errlen)
{
    LogLevel level;
    if (!log_level_parse(c->log_level, &level)) {
        snprintf(err, errlen, "log_level: unknown level '%s' (error, warn, info or debug)",
                 c->log_level);
        return false;
    }
    if (!time_zone_exists(c->tz)) {
        snprintf(err, errlen, "tz: unknown time zone '%s'", c->tz);
        return false;
    }
    if (strlen(c->secret) < MIN_SECRET_LEN) {
        snprintf(err, errlen,
                 "callers' secret missing or shorter than %d characters: set KIC_CALLER_SECRET "
                 "or [callers] secret to a long random value, and keep it",
                 MIN_SECRET_LEN);
        return false;
    }
    char *why = NULL;
    PQconninfoOption *parsed = PQconninfoParse(c->pg, &why);
    if (!parsed) {
        /* a typo can never connect: say so now, not in a retry loop; but
         * libpq quotes a whole URI, password and all, so then only that */
        bool secret = strstr(c->pg, "://") || strstr(c->pg, "password");
        snprintf(err, errlen, "pg: %s",
                 secret ? "the connection URI or string does not parse (not shown: it may hold "
                          "a password)"
                        : why ? why : "out of memory");
        char *nl = strchr(err, '\n');
        if (nl)
            *nl = '\0';
        PQfreemem(why);
        return false;
    }
    PQconninfoFree(parsed);
    if (!country_code_ok(c->country_code)) {
        snprintf(err, errlen, "country_code: want the digits of a calling code (31), not '%s'",
                 c->country_code);
        return false;
    }
    return true;
}

bool config_validate(const Config *c, char *err, size_t errlen)
{
    for (size_t i = 0; i < KIC_ARRAY_LEN(ranges); i++) {
        const Option *o = find(ranges[i].name);
        long long v = *(const long long *)((const char *)c + o->offset);
        if (v < ranges[i].min || v > ranges[i].max) {
            snprintf(err, errlen, "%s must lie between %lld and %lld (it is %lld)", o->name,
                     ranges[i].min, ranges[i].max, v);
            return false;
        }
    }
    if (c->max_line_unauth > c->max_line) {
        snprintf(err, errlen, "max_line_unauth must not exceed max_line");
        return false;
    }
    if (!(c->sl_target > 0 && c->sl_target < 1)) {
        snprintf(err, errlen, "sl_target must lie between 0 and 1");
        return false;
    }
    if (c->cache_days <= c->repeat_window_days) {
        snprintf(err, errlen, "cache_days must exceed repeat_window_days");
        return false;
    }
    if ((c->cert[0] != '\0') != (c->key[0] != '\0')) {
        snprintf(err, errlen, "tls needs both cert and key");
        return false;
    }
    return check_words(c, err, errlen) && check_addresses(c, err, errlen);
}

void config_print_help(void)
{
    const char *section = "";
    for (size_t i = 0; i < KIC_ARRAY_LEN(options); i++) {
        const Option *o = &options[i];
        if (strcmp(section, o->section) != 0) {
            section = o->section;
            printf("  [%s]\n", section);
        }
        char range[64] = "";
        int r = range_of(o->name);
        if (r >= 0)
            snprintf(range, sizeof(range), ", %lld..%lld", ranges[r].min, ranges[r].max);
        printf("    %-20s %s (default: %s%s)%s\n", o->name, o->help, o->def[0] ? o->def : "none",
               range, o->reloadable ? " [SIGHUP]" : "");
    }
}

