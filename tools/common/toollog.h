/* The tools' log (kic-sim, kic-ami-bridge): one line per message on
 * stderr, "<time> <level> <text>", filtered by a level set once at
 * start-up. log_limited keeps a noisy kind of message (kicd refusing the
 * same method the same way 100,000 times) to a few lines: the first five,
 * then one per ten seconds saying how many were left out. */
#ifndef TOOLLOG_H
#define TOOLLOG_H

#include "kic.h"

#define LOG_LEVELS(X) X(LOG_ERROR, "error") X(LOG_WARN, "warn") X(LOG_INFO, "info") X(LOG_DEBUG, "debug")
#define LOG_LEVEL_ENUM(name, text) name,
typedef enum { LOG_LEVELS(LOG_LEVEL_ENUM) } LogLevel;
#undef LOG_LEVEL_ENUM

bool log_level_parse(const char *name, LogLevel *out) KIC_MUST_CHECK;
void log_set_level(LogLevel level);
void log_write(LogLevel level, const char *fmt, ...) KIC_PRINTF(2, 3);
/* Rate-limited by key (a short string naming the kind of message). */
void log_limited(LogLevel level, const char *key, const char *fmt, ...) KIC_PRINTF(3, 4);
/* A progress bar shares stderr: it is cleared before a line is logged. */
void log_set_progress_line(bool shown);

#endif
