/* Log line formatting. Filtering by level is done by the callers' macros
 * (srv_log, conn_log), which know the server's current level. */
#include "log.h"

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

const char *log_level_name(LogLevel level)
{
    return level_names[level];
}

void log_write(LogLevel level, const char *prefix, const char *fmt, ...)
{
    char line[2048];
    struct timeval tv;
    struct tm tm;
    gettimeofday(&tv, NULL);
    gmtime_r(&tv.tv_sec, &tm);
    int n = snprintf(line, sizeof(line), "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ %-5s ",
                     tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
                     tm.tm_sec, (long)tv.tv_usec / 1000, level_names[level]);
    if (prefix)
        n += snprintf(line + n, sizeof(line) - (size_t)n, "[%s] ", prefix);
    va_list ap;
    va_start(ap, fmt);
    if ((size_t)n < sizeof(line))
        vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
    va_end(ap);
    /* One write per line so lines from a crash stay whole. */
    fprintf(stderr, "%s\n", line);
}

bool log_throttle(LogThrottle *t, KicTime now, char *more, size_t size)
{
    if (now - t->said_at < KIC_USEC) {
        t->unsaid++;
        return false;
    }
    more[0] = '\0';
    if (t->unsaid)
        snprintf(more, size, " (and %lu more since the last such line)", t->unsaid);
    t->said_at = now;
    t->unsaid = 0;
    return true;
}
