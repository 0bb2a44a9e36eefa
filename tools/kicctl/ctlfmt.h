/* Pure formatting for kicctl's views (live, report): what each column of
 * a report or snapshot is and how it is called in Dutch and English; a
 * value as text (durations as m:ss, rates as percentages, null as "-");
 * CSV and HTML escaping; an aligned text table. No I/O, no clock. */
#ifndef CTLFMT_H
#define CTLFMT_H

#include <jansson.h>

#include "kic.h"
#include "strbuf.h"

typedef enum { LANG_NL, LANG_EN } Lang;

typedef enum {
    COL_TEXT,    /* group keys, interval_start */
    COL_COUNT,   /* integers */
    COL_RATE,    /* fractions, shown as percentages */
    COL_SECONDS, /* durations, shown as m:ss or h:mm:ss */
    COL_DECIMAL, /* other numbers (agents present on average) */
} ColumnKind;

/* Every column report.query and stats.live are known to give:
 * X(name, kind, Dutch label, English label). Columns not listed here
 * (added by a newer kicd) are shown by name, formatted by their JSON type. */
#define REPORT_COLUMNS(X)                                                                        \
    X(queue, COL_TEXT, "wachtrij", "queue")                                                      \
    X(location, COL_TEXT, "locatie", "location")                                                 \
    X(agent, COL_TEXT, "medewerker", "agent")                                                    \
    X(category, COL_TEXT, "categorie", "category")                                               \
    X(caller_type, COL_TEXT, "soort beller", "caller type")                                      \
    X(channel, COL_TEXT, "kanaal", "channel")                                                    \
    X(direction, COL_TEXT, "richting", "direction")                                              \
    X(team, COL_TEXT, "zorgteam", "care team")                                                   \
    X(interval_start, COL_TEXT, "periode", "interval")                                           \
    X(offered, COL_COUNT, "aangeboden", "offered")                                               \
    X(answered, COL_COUNT, "beantwoord", "answered")                                             \
    X(abandoned, COL_COUNT, "opgehangen in wachtrij", "abandoned")                               \
    X(short_abandoned, COL_COUNT, "kort opgehangen", "short abandoned")                          \
    X(service_level, COL_RATE, "servicelevel", "service level")                                  \
    X(abandon_rate, COL_RATE, "% opgehangen", "abandon rate")                                    \
    X(asa_s, COL_SECONDS, "gemiddelde wachttijd", "average speed of answer")                     \
    X(talk_avg_s, COL_SECONDS, "gesprekstijd (gem.)", "talk time (avg)")                         \
    X(hold_avg_s, COL_SECONDS, "in de wacht (gem.)", "hold (avg)")                               \
    X(acw_avg_s, COL_SECONDS, "nawerktijd (gem.)", "after-call work (avg)")                      \
    X(aht_s, COL_SECONDS, "afhandeltijd (gem.)", "handling time (avg)")                          \
    X(transfer_rate, COL_RATE, "doorverbonden", "transferred")                                   \
    X(handled_independently_rate, COL_RATE, "zelfstandig afgehandeld", "handled independently")  \
    X(repeat_rate, COL_RATE, "herhaalcontact", "repeat contact")                                 \
    X(fcr_provisional_rate, COL_RATE, "opgelost bij eerste contact (voorlopig)",                 \
      "first-contact resolution (provisional)")                                                  \
    X(fcr_rate, COL_RATE, "opgelost bij eerste contact", "first-contact resolution")             \
    X(fcr_pending, COL_COUNT, "FCR nog niet bekend", "FCR pending")                              \
    X(withheld, COL_COUNT, "nummer onbekend", "number withheld")                                 \
    X(agents_needed, COL_COUNT, "benodigde medewerkers", "agents needed")                        \
    X(answered_in_sl, COL_COUNT, "binnen servicelevel", "answered within service level")         \
    X(wait_answered_s, COL_SECONDS, "wachttijd beantwoord (som)", "wait of answered (sum)")      \
    X(talk_n, COL_COUNT, "gesprekken afgerond", "talks ended")                                   \
    X(talk_s, COL_SECONDS, "gesprekstijd (som)", "talk time (sum)")                              \
    X(hold_s, COL_SECONDS, "in de wacht (som)", "hold (sum)")                                    \
    X(acw_n, COL_COUNT, "nawerk afgerond", "wrapped up")                                         \
    X(acw_s, COL_SECONDS, "nawerktijd (som)", "after-call work (sum)")                           \
    X(handle_s, COL_SECONDS, "afhandeltijd (som)", "handling time (sum)")                        \
    X(transferred, COL_COUNT, "doorverbonden (aantal)", "transferred (count)")                   \
    X(resolved, COL_COUNT, "opgelost", "resolved")                                               \
    X(identified, COL_COUNT, "beller bekend", "caller known")                                    \
    X(repeated, COL_COUNT, "gevolgd door herhaalcontact", "followed by a repeat")                \
    X(fcr_provisional, COL_COUNT, "FCR voorlopig (aantal)", "FCR provisional (count)")           \
    X(fcr_closed, COL_COUNT, "FCR-venster gesloten", "FCR window closed")                        \
    X(fcr_final, COL_COUNT, "opgelost bij eerste contact (aantal)", "FCR (count)")               \
    X(callbacks_requested, COL_COUNT, "terugbelverzoeken", "callback requests")                  \
    X(callbacks_completed, COL_COUNT, "teruggebeld", "callbacks completed")                      \
    X(callbacks_completed_on_time, COL_COUNT, "op tijd teruggebeld", "completed on time")        \
    X(callbacks_cancelled, COL_COUNT, "terugbelverzoeken vervallen", "callbacks cancelled")      \
    X(callbacks_open, COL_COUNT, "terugbelverzoeken open", "callbacks open")                     \
    X(callbacks_overdue, COL_COUNT, "terugbelverzoeken te laat", "callbacks overdue")            \
    X(callbacks_attempts, COL_COUNT, "terugbelpogingen", "callback attempts")                    \
    X(callbacks_mean_complete_s, COL_SECONDS, "tijd tot terugbellen (gem.)",                     \
      "time to complete (avg)")                                                                  \
    X(occupancy, COL_RATE, "bezetting", "occupancy")                                             \
    X(agents_present, COL_DECIMAL, "aanwezige medewerkers (gem.)", "agents present (avg)")

typedef struct ColumnInfo {
    const char *name;
    ColumnKind kind;
    const char *label[2]; /* by Lang */
} ColumnInfo;

/* The column's description, or NULL for a column this kicctl does not know. */
const ColumnInfo *ctlfmt_column(const char *name);
/* Its label in lang; the name itself for an unknown column. */
const char *ctlfmt_label(const char *name, Lang lang);
/* Its kind; for an unknown column, guessed from a sample value. */
ColumnKind ctlfmt_kind(const char *name, json_t *sample);

/* How numbers look: '.' or ',' as decimal point, digits of percentages. */
typedef struct FmtStyle {
    char point;
    int percent_decimals;
    const char *null_text; /* an undefined value ("-", or "" in CSV) */
} FmtStyle;

/* Seconds rounded to whole ones: "0:07", "5:09", "1:02:03"; "-0" never. */
void fmt_seconds(StrBuf *out, double seconds);
/* A fraction as a percentage: 0.8125 -> "81.3%" (1 decimal). */
void fmt_percent(StrBuf *out, double rate, const FmtStyle *st);
/* A number with `decimals` places and the style's decimal point. */
void fmt_decimal(StrBuf *out, double v, int decimals, char point);
/* A JSON number as plain text that reads back to the same value:
 * integers as such, reals in the fewest digits (up to 17). */
void fmt_json_number(StrBuf *out, json_t *v);
/* A cell for people: by kind, null as st->null_text, strings as they are. */
void fmt_cell(StrBuf *out, json_t *v, ColumnKind kind, const FmtStyle *st);

/* Text escaped for HTML content and attribute values (& < > " '). */
void html_escape(StrBuf *out, const char *s);

/* Display width of UTF-8 text: code points (no wide characters here). */
size_t fmt_width(const char *s);

/* ---- an aligned text table ---- */

typedef enum { MARK_NONE, MARK_GOOD, MARK_BAD } CellMark;

typedef struct TextTable {
    size_t ncols, nrows, cap;
    char **cells;       /* row-major, owned */
    unsigned char *marks;
    bool *right;        /* per column: right-aligned (numbers) */
    bool failed;        /* out of memory: rendering writes nothing */
} TextTable;

bool ttable_init(TextTable *t, size_t ncols) KIC_MUST_CHECK;
void ttable_free(TextTable *t);
/* Appends a row of ncols empty cells; then set them. */
void ttable_add_row(TextTable *t);
void ttable_set(TextTable *t, size_t col, const char *text, CellMark mark);
/* Aligned rows, two spaces between columns; columns that would pass
 * max_width (0: no limit) are left off. With color, marked cells are
 * green or red (ANSI). Row `rule_before` (if < nrows) gets a dashed line
 * above it. */
void ttable_render(const TextTable *t, StrBuf *out, size_t max_width, bool color,
                   size_t rule_before);

#endif
