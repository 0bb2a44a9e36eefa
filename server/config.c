/* The option table and its INI reader (Debian's libinih). */
#include "config.h"

#include <errno.h>
#include <ini.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <strings.h>

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
        if (errno || end == value || *end != '\0') {
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
    int rc = ini_parse(path, on_ini_value, &ctx);
    if (rc == -1) {
        snprintf(err, errlen, "cannot open %s: %s", path, strerror(errno));
        return false;
    }
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

bool config_reload_file(Config *c, const char *path, char *err, size_t errlen)
{
    /* The file is read into a copy (its own strings) and checked whole,
     * the options that wait for a restart too (a value kicd could not
     * restart with is refused now, not at the restart); only then do the
     * reloadable values change places with c's, and the copy, now holding
     * the old ones, is freed. */
    Config next;
    config_copy(&next, c);
    bool ok = config_load_file(&next, path, err, errlen) &&
              config_validate(&next, err, errlen);
    for (size_t i = 0; ok && i < KIC_ARRAY_LEN(options); i++) {
        if (!options[i].reloadable)
            continue;
        unsigned char tmp[sizeof(long long) > sizeof(double) ? sizeof(long long) : sizeof(double)];
        size_t n = field_size(options[i].type);
        char *mine = (char *)c + options[i].offset, *theirs = (char *)&next + options[i].offset;
        memcpy(tmp, mine, n);
        memcpy(mine, theirs, n);
        memcpy(theirs, tmp, n);
    }
    config_free(&next);
    return ok;
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
    if (c->sl_target <= 0 || c->sl_target >= 1) {
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
    return true;
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

/* Files of the zoneinfo directory that are no place's zone: the host's
 * own (which a client knows nothing of), the rule templates, and the
 * copies with other conventions (right/ counts leap seconds). */
static bool zone_file_is_no_zone(const char *tz)
{
    static const char *const names[] = {"localtime", "posixrules", "Factory"};
    for (size_t i = 0; i < KIC_ARRAY_LEN(names); i++)
        if (strcmp(tz, names[i]) == 0)
            return true;
    return strncmp(tz, "posix/", 6) == 0 || strncmp(tz, "right/", 6) == 0;
}

bool config_zone_exists(const char *tz)
{
    char path[512], magic[4];
    if (!*tz || tz[0] == '/' || strstr(tz, "..") || zone_file_is_no_zone(tz) ||
        (size_t)snprintf(path, sizeof(path), "/usr/share/zoneinfo/%s", tz) >= sizeof(path))
        return false;
    struct stat st;
    if (stat(path, &st) != 0 || !S_ISREG(st.st_mode))
        return false;
    /* a compiled zone, not one of the tables beside them (zone.tab) */
    FILE *f = fopen(path, "rb");
    bool tzif = f && fread(magic, 1, sizeof(magic), f) == sizeof(magic) &&
                memcmp(magic, "TZif", sizeof(magic)) == 0;
    if (f)
        fclose(f);
    return tzif;
}
