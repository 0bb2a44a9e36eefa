/* Logging to stderr: one line per message with time, level and, for a
 * connection, its id, peer and user. The level lives in the Server. */
#ifndef LOG_H
#define LOG_H

#include <stddef.h>

#include "kic.h"
#include "kictime.h"

#define LOG_LEVELS(X) X(LOG_ERROR, "error") X(LOG_WARN, "warn") X(LOG_INFO, "info") X(LOG_DEBUG, "debug")
#define LOG_LEVEL_ENUM(name, text) name,
typedef enum { LOG_LEVELS(LOG_LEVEL_ENUM) } LogLevel;
#undef LOG_LEVEL_ENUM

/* Level by name; false when unknown. */
bool log_level_parse(const char *name, LogLevel *out) KIC_MUST_CHECK;
const char *log_level_name(LogLevel level);

/* Writes one line: "<time> <level> [<prefix>] <message>". prefix may be NULL. */
void log_write(LogLevel level, const char *prefix, const char *fmt, ...) KIC_PRINTF(3, 4);

/* A line a second at most for a kind of event that can come in floods
 * (connections refused over a cap): log_throttle says whether to write
 * one now, and fills `more` with " (and N more since the last such
 * line)" for the ones held back, or "". */
typedef struct LogThrottle {
    KicTime said_at;
    unsigned long unsaid;
} LogThrottle;

bool log_throttle(LogThrottle *t, KicTime now, char *more, size_t size);

#endif
