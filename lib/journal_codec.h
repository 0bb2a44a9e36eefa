/* The journal's record format: what kicd writes to its local journal
 * while PostgreSQL is unreachable, and reads back to replay. A record is
 * one group commit: the batch's id and its statements (prepared
 * statement names with their binary parameters), so replay runs exactly
 * the writes the batch would have run. Pure: encoding into memory and
 * scanning a buffer; server/journal.c does the file.
 *
 * Layout (integers little-endian):
 *   "KJ01" | u32 payload length | u32 CRC-32C of the payload
 *          | u32 CRC-32C of the 12 bytes before | payload
 *   payload: 16-byte batch id | u16 statements | per statement:
 *            u8 name length, name | u16 parameters | per parameter:
 *            i32 length (-1: NULL), bytes
 * A scan checks both CRCs; a damaged record is skipped (the next one is
 * found by its magic), a torn tail (a record cut short, or zero bytes
 * to the end where a record would start) ends the scan; both are
 * counted. */
#ifndef JOURNAL_CODEC_H
#define JOURNAL_CODEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "strbuf.h"

#define JOURNAL_MAGIC "KJ01"
#define JOURNAL_HEADER 16
#define JOURNAL_ID_LEN 16
#define JOURNAL_MAX_STMTS 16
#define JOURNAL_MAX_PARAMS 48
#define JOURNAL_MAX_NAME 63
#define JOURNAL_MAX_RECORD (256u << 20)

typedef struct JournalStmt {
    char name[JOURNAL_MAX_NAME + 1];
    int nparams;
    const char *values[JOURNAL_MAX_PARAMS]; /* NULL: SQL NULL */
    int lengths[JOURNAL_MAX_PARAMS];
} JournalStmt;

typedef struct JournalBatch {
    uint8_t id[JOURNAL_ID_LEN];
    int nstmts;
    JournalStmt stmts[JOURNAL_MAX_STMTS];
} JournalBatch;

/* Appends the batch as one record; false when it does not fit the
 * format's limits (too many statements, a name too long, too large). */
bool journal_encode(StrBuf *out, const JournalBatch *b) KIC_MUST_CHECK;

typedef struct JournalScan {
    size_t records;    /* good records found */
    size_t damaged;    /* records (or stretches of bytes) skipped */
    size_t torn_bytes; /* bytes at the end that are no whole record */
    size_t good_end;   /* offset just after the last good record */
} JournalScan;

/* Called per good record, in order; the batch points into buf. */
typedef void (*JournalRecordFn)(const JournalBatch *b, size_t offset, void *arg);

void journal_scan(const uint8_t *buf, size_t len, JournalRecordFn fn, void *arg,
                  JournalScan *out);

#endif
