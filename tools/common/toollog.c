/* Logging to stderr with a level filter and per-kind rate limits. Each
 * line is written with one call so lines never interleave. */
#include "toollog.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

static const char *const level_names[] = {
#define LOG_LEVEL_NAME(name, text) text,
    LOG_LEVELS(LOG_LEVEL_NAME)
#undef LOG_LEVEL_NAME
};

static LogLevel current = LOG_INFO;
static bool progress_shown;

#define LIMIT_KINDS 64
#define LIMIT_BURST 5
#define LIMIT_EVERY_S 10

static struct {
    char key[64];
    unsigned long count, suppressed;
    time_t last;
} kinds[LIMIT_KINDS];

bool log_level_parse(const char *name, LogLevel *out)
{
    for (size_t i = 0; i < KIC_ARRAY_LEN(level_names); i++) {
        if (strcmp(name, level_names[i]) == 0) {
            *out = (LogLevel)i;
            return true;
        }
    }
    return false;
}

void log_set_level(LogLevel level)
{
    current = level;
}

static bool log_enabled(LogLevel level)
{
    return level <= current;
}

void log_set_progress_line(bool shown)
{
    progress_shown = shown;
}

__attribute__((format(printf, 3, 0)))
static void vlog(LogLevel level, const char *suffix, const char *fmt, va_list ap)
{
    struct timeval tv;
    gettimeofday(&tv, NULL);
    struct tm tm;
    localtime_r(&tv.tv_sec, &tm);
    char line[2048];
    int n = 0;
    if (progress_shown)
        n += snprintf(line, sizeof(line), "\r\033[K");
    n += (int)strftime(line + n, 32, "%Y-%m-%dT%H:%M:%S", &tm);
    n += snprintf(line + n, sizeof(line) - (size_t)n, ".%03d %s ", (int)(tv.tv_usec / 1000),
                  level_names[level]);
    int m = vsnprintf(line + n, sizeof(line) - (size_t)n - 1, fmt, ap);
    n = m < 0 ? n : n + m;
    if (suffix && n < (int)sizeof(line) - 2)
        n += snprintf(line + n, sizeof(line) - (size_t)n - 1, "%s", suffix);
    if (n > (int)sizeof(line) - 2)
        n = (int)sizeof(line) - 2;
    line[n++] = '\n';
    fwrite(line, 1, (size_t)n, stderr);
}

void log_write(LogLevel level, const char *fmt, ...)
{
    if (!log_enabled(level))
        return;
    va_list ap;
    va_start(ap, fmt);
    vlog(level, NULL, fmt, ap);
    va_end(ap);
}

void log_limited(LogLevel level, const char *key, const char *fmt, ...)
{
    if (!log_enabled(level))
        return;
    size_t i;
    for (i = 0; i < LIMIT_KINDS && kinds[i].key[0]; i++)
        if (strcmp(kinds[i].key, key) == 0)
            break;
    if (i == LIMIT_KINDS)
        i = LIMIT_KINDS - 1; /* a full table shares its last slot */
    else if (!kinds[i].key[0])
        snprintf(kinds[i].key, sizeof(kinds[i].key), "%s", key);
    time_t now = time(NULL);
    kinds[i].count++;
    if (kinds[i].count > LIMIT_BURST && now - kinds[i].last < LIMIT_EVERY_S) {
        kinds[i].suppressed++;
        return;
    }
    char suffix[96] = "";
    if (kinds[i].suppressed)
        snprintf(suffix, sizeof(suffix), " (and %lu more like it)", kinds[i].suppressed);
    if (kinds[i].count == LIMIT_BURST)
        snprintf(suffix + strlen(suffix), sizeof(suffix) - strlen(suffix),
                 " (more like this: one line per %d s)", LIMIT_EVERY_S);
    kinds[i].suppressed = 0;
    kinds[i].last = now;
    va_list ap;
    va_start(ap, fmt);
    vlog(level, suffix, fmt, ap);
    va_end(ap);
}
