/* The local journal (DESIGN.md "Durability"): while PostgreSQL is
 * unreachable, each group commit is appended here as one record
 * (lib/journal_codec), fsynced, and only then acknowledged; it is
 * replayed in order when PostgreSQL is back, and at start-up, then
 * emptied. The file is created with mode 0600: it holds callers' keys
 * and open callbacks' numbers. */
#ifndef JOURNAL_H
#define JOURNAL_H

#include <time.h>

#include "journal_codec.h"
#include "server.h"

/* Opens (or creates) the file and scans what it holds. */
Journal *journal_open(const char *path, long long max_bytes, char *err, size_t errlen);
void journal_close(Journal *j);

/* Appends one record and fsyncs it; false (err set) when either fails:
 * the record must then not be acknowledged. */
bool journal_append(Journal *j, const JournalBatch *b, char *err, size_t errlen) KIC_MUST_CHECK;
/* Whether another batch may still be appended (the size cap). */
bool journal_has_room(const Journal *j);

size_t journal_records(const Journal *j); /* records waiting for replay */
size_t journal_bytes(const Journal *j);
size_t journal_damaged(const Journal *j); /* damaged records seen (and skipped) */
/* Bytes journal_open cut off the end: an append that never completed
 * (kicd or the machine stopped during it), so never acknowledged. */
size_t journal_cut_at_open(const Journal *j);

/* The whole file in memory (malloc'd, *len bytes), for replay. */
bool journal_read(Journal *j, uint8_t **buf, size_t *len, char *err, size_t errlen) KIC_MUST_CHECK;
/* Counts what a scan of the file found damaged or torn. */
void journal_note_scan(Journal *j, const JournalScan *sc);
/* Keeps a copy of buf (the file's bytes, as journal_read gave them) in a
 * new file beside it, "<path>.kept-<UTC time>", mode 0600, fsynced; its
 * name goes to out. For a replay that could not store everything (a
 * record PostgreSQL refused, a damaged one): the journal is then emptied,
 * and the copy is what is left of those records. A copy that cannot be
 * written whole is removed (false, err says why). */
bool journal_keep_copy(const Journal *j, const uint8_t *buf, size_t len, char *out, size_t outlen,
                       char *err, size_t errlen) KIC_MUST_CHECK;
/* The copies journal_keep_copy left beside the journal: each last written
 * before `expire` (wall-clock seconds) is deleted, as retention deletes
 * raw events; fn hears of every copy, deleted or kept (err: errno of a
 * failed delete, else 0). */
typedef void (*JournalKeptFn)(void *arg, const char *path, time_t written, bool deleted, int err);
/* false (errno set) when the directory cannot be read. */
bool journal_sweep_kept(const Journal *j, time_t expire, JournalKeptFn fn, void *arg) KIC_MUST_CHECK;
/* Empties the file (everything in it is stored). */
bool journal_clear(Journal *j, char *err, size_t errlen) KIC_MUST_CHECK;

#endif
