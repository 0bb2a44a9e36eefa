/* Logging to stderr with a level filter. Each line is written with one
 * call, so lines from a crash handler or a child do not interleave. */
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

static LogLevel current = LOG_INFO;

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

bool log_enabled(LogLevel level)
{
    return level <= current;
}

void log_write(LogLevel level, const char *fmt, ...)
{
    if (!log_enabled(level))
        return;
    struct timeval tv;
    gettimeofday(&tv, NULL);
    struct tm tm;
    localtime_r(&tv.tv_sec, &tm);
    char line[2048];
    int n = (int)strftime(line, 32, "%Y-%m-%dT%H:%M:%S", &tm);
    n += snprintf(line + n, sizeof(line) - (size_t)n, ".%03d %s ", (int)(tv.tv_usec / 1000),
                  level_names[level]);
    va_list ap;
    va_start(ap, fmt);
    int m = vsnprintf(line + n, sizeof(line) - (size_t)n - 1, fmt, ap);
    va_end(ap);
    n = m < 0 ? n : n + m;
    if (n > (int)sizeof(line) - 2)
        n = (int)sizeof(line) - 2;
    line[n++] = '\n';
    fwrite(line, 1, (size_t)n, stderr);
}
