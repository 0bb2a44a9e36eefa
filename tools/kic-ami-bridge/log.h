/* The bridge's log: one line per message on stderr, "<time> <level> <text>",
 * filtered by a level set once at start-up. */
#ifndef BRIDGE_LOG_H
#define BRIDGE_LOG_H

#include "kic.h"

#define LOG_LEVELS(X) X(LOG_ERROR, "error") X(LOG_WARN, "warn") X(LOG_INFO, "info") X(LOG_DEBUG, "debug")
#define LOG_LEVEL_ENUM(name, text) name,
typedef enum { LOG_LEVELS(LOG_LEVEL_ENUM) } LogLevel;
#undef LOG_LEVEL_ENUM

bool log_level_parse(const char *name, LogLevel *out) KIC_MUST_CHECK;
void log_set_level(LogLevel level);
bool log_enabled(LogLevel level);
void log_write(LogLevel level, const char *fmt, ...) KIC_PRINTF(2, 3);

#endif
