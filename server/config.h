/* kicd configuration: one table of options (section, name, type, default,
 * reloadable, help) from which the struct, the INI reader, the --help text
 * and the defaults are all generated, so they cannot drift apart.
 * Precedence: defaults < INI file < environment (KIC_PG,
 * KIC_CALLER_SECRET) < command-line flags. */
#ifndef CONFIG_H
#define CONFIG_H

#include "kic.h"

#define CONFIG_OPTIONS(X)                                                                   \
    X(server, listen, STR, "127.0.0.1:7411", 0, "JSON-RPC address IP:PORT")               \
    X(server, http, STR, "127.0.0.1:7480", 0, "HTTP address IP:PORT (empty: off)")        \
    X(server, pg, STR, "", 0, "PostgreSQL conninfo (KIC_PG wins; empty: libpq PG* vars)")   \
    X(server, log_level, STR, "info", 1, "error, warn, info or debug")                    \
    X(server, tz, STR, "Europe/Amsterdam", 0, "time zone of 'today' and of reports")      \
    X(server, allow_plain_public, BOOL, "false", 0,                                        \
      "listen without TLS on a non-loopback address")                                     \
    X(server, core_dumps, BOOL, "false", 0,                                                \
      "allow core dumps (they hold callers' notes and numbers)")                          \
    X(limits, max_connections, INT, "10000", 0, "JSON-RPC connections at once")           \
    X(limits, max_http_connections, INT, "1000", 0, "HTTP connections at once")           \
    X(limits, login_timeout_s, INT, "10", 0, "seconds to log in (HTTP: to send a request head)")     \
    X(limits, idle_timeout_s, INT, "300", 1, "seconds without a request (0: never)")      \
    X(limits, max_line, INT, "65536", 0, "longest request line after login, bytes")       \
    X(limits, max_line_unauth, INT, "16384", 0, "longest request line before login")      \
    X(limits, max_depth, INT, "16", 0, "deepest JSON nesting of a request")               \
    X(limits, max_batch, INT, "1000", 0, "most requests in one batch array")              \
    X(limits, output_buffer, INT, "1048576", 1, "bytes queued to a client before drop")   \
    X(limits, max_outstanding, INT, "4096", 0, "unanswered requests before we stop reading") \
    X(limits, requests_per_wakeup, INT, "256", 0, "lines handled per read before yielding") \
    X(limits, max_bad_lines, INT, "100", 0, "bad lines in a row before disconnect")       \
    X(limits, report_max_rows, INT, "500000", 0, "most rows one report answers (memory)") \
    X(storage, batch_max, INT, "2000", 0, "most records in one group commit")             \
    X(storage, batch_wait_us, INT, "1000", 0, "longest a record waits for its batch")     \
    X(storage, journal_path, STR, "kicd.journal", 0, "journal file while PostgreSQL is down") \
    X(storage, journal_max_bytes, INT, "1073741824", 0, "journal size before -32029")      \
    X(storage, pg_timeout_s, INT, "10", 0,                                                \
      "seconds PostgreSQL may answer nothing before kicd takes it as down (0: never)")    \
    X(storage, retention_days, INT, "400", 0, "days raw events and notes are kept")       \
    X(storage, cache_days, INT, "8", 0, "days of calls kept in memory")                   \
    X(metrics, sl_threshold_s, INT, "20", 0, "answered within this counts for service level") \
    X(metrics, short_abandon_s, INT, "5", 0, "abandoned within this is a short abandon")  \
    X(metrics, sl_target, DBL, "0.8", 0, "service-level target for agents_needed")        \
    X(metrics, repeat_window_days, INT, "7", 0, "days in which a new contact is a repeat") \
    X(metrics, callback_due_hours, INT, "24", 0, "default time to complete a callback")   \
    X(metrics, wrapup_skew_s, INT, "120", 0, "how far in the future a wrap-up 'at' may be") \
    X(metrics, event_skew_s, INT, "3600", 0, "how far in the future an event's 'at' may be") \
    X(callers, country_code, STR, "31", 0, "country code for national numbers")           \
    X(callers, secret, STR, "", 0, "HMAC secret for caller keys, 16+ chars, required (or KIC_CALLER_SECRET)") \
    X(tls, cert, STR, "", 0, "PEM certificate chain; with key, TLS on both listeners")    \
    X(tls, key, STR, "", 0, "PEM private key")

typedef enum { CONFIG_STR, CONFIG_INT, CONFIG_BOOL, CONFIG_DBL } ConfigType;

#define CONFIG_CTYPE_STR char *
#define CONFIG_CTYPE_INT long long
#define CONFIG_CTYPE_BOOL bool
#define CONFIG_CTYPE_DBL double

typedef struct Config {
#define CONFIG_FIELD(sec, name, type, def, reload, help) CONFIG_CTYPE_##type name;
    CONFIG_OPTIONS(CONFIG_FIELD)
#undef CONFIG_FIELD
} Config;

/* Fills in the defaults. */
void config_init(Config *c);
void config_free(Config *c);

/* Reads an INI file over the current values. Unknown keys and bad values
 * are errors (written to err), as is a path that is no regular file. */
bool config_load_file(Config *c, const char *path, char *err, size_t errlen) KIC_MUST_CHECK;

/* Where the settings come from, each over the one before: the defaults,
 * the file, the environment (KIC_PG, KIC_CALLER_SECRET), the flags. */
typedef struct ConfigSources {
    const char *file;                          /* --config, or NULL */
    const char *pg, *listen, *http, *log_level; /* flags, or NULL */
} ConfigSources;

/* The settings kicd would start with now, read whole from the sources
 * and checked by config_validate; c is initialised either way (free it).
 * Start-up and SIGHUP both read this way, so a reload refuses exactly
 * what a start would, and a line deleted from the file means its default
 * again. */
bool config_read(Config *c, const ConfigSources *src, char *err, size_t errlen) KIC_MUST_CHECK;

/* SIGHUP: the reloadable options of next (from config_read) take effect
 * in c; next keeps the old ones, for config_free. */
void config_take_reloadable(Config *c, Config *next);

/* dst = src, with strings of its own (config_free frees them). */
void config_copy(Config *dst, const Config *src);

/* Names (", "-separated, into out) of the options that take effect only
 * at a restart and differ between was and now; how many there are. */
size_t config_restart_changes(const Config *was, const Config *now, char *out, size_t outlen);

/* Sets one option by its name (flags and environment use this). */
bool config_set(Config *c, const char *name, const char *value, char *err, size_t errlen)
    KIC_MUST_CHECK;

/* Checks every value kicd would refuse to start with: ranges, values
 * against each other, the log level, the zone, the callers' secret and
 * country code, and the addresses (without TLS only loopback, unless
 * allow_plain_public). */
bool config_validate(const Config *c, char *err, size_t errlen) KIC_MUST_CHECK;

/* Prints every option with its default, for --help. */
void config_print_help(void);

#endif
