/* AMI stream parser: the banner line, then messages of "Key: Value" lines
 * (CRLF; a bare LF is tolerated) each ended by a blank line. A pure byte
 * buffer like the protocol framer: bytes go in in any split, whole
 * messages come out. A message bigger than the buffer, or with more
 * fields than fit, is skipped and counted, never half-delivered. */
#ifndef AMIPARSE_H
#define AMIPARSE_H

#include "kic.h"

#define AMI_MAX_FIELDS 160
#define AMI_DEFAULT_MAX_MESSAGE (64 * 1024)

typedef struct AmiField {
    const char *key;
    const char *value;
} AmiField;

/* One message. Pointers are into the parser's buffer: valid until the
 * next ami_parser_feed, ami_parser_space or ami_parser_next call. */
typedef struct AmiMessage {
    AmiField fields[AMI_MAX_FIELDS];
    size_t n;
} AmiMessage;

typedef enum {
    AMI_NEED,      /* no complete message buffered */
    AMI_BANNER,    /* *banner holds the first line ("Asterisk Call Manager/...") */
    AMI_MESSAGE,   /* *msg holds a message */
    AMI_OVERSIZED, /* a message was dropped: too big or too many fields */
} AmiResult;

typedef struct AmiParser {
    char *buf;
    size_t size;      /* bytes allocated: the largest message */
    size_t len;       /* bytes buffered from buf[0] */
    size_t start;     /* start of the message being assembled */
    size_t scan;      /* next byte to look at */
    size_t line;      /* start of the line being scanned */
    size_t nlines;    /* non-empty lines of the current message so far */
    bool want_banner; /* the next line may be the banner */
    bool discarding;  /* dropping an oversized message up to its blank line */
    bool disc_line_empty; /* while discarding: nothing but '\r' on this line yet */
    size_t messages, oversized; /* counters */
} AmiParser;

bool ami_parser_init(AmiParser *p, size_t max_message) KIC_MUST_CHECK;
void ami_parser_free(AmiParser *p);
/* Forgets everything buffered and expects a banner again (new connection). */
void ami_parser_reset(AmiParser *p);

/* Copies up to n bytes in; returns how many were taken (0 when full: call
 * ami_parser_next until it says AMI_NEED). */
size_t ami_parser_feed(AmiParser *p, const char *data, size_t n);
/* Room for writing straight in (e.g. from evbuffer_remove); then commit. */
char *ami_parser_space(AmiParser *p, size_t *space);
void ami_parser_commit(AmiParser *p, size_t n);

AmiResult ami_parser_next(AmiParser *p, AmiMessage *msg, const char **banner);

/* The first value of a key (case-insensitive, as Asterisk reads them), or
 * NULL. ami_get_or gives a default instead of NULL. */
const char *ami_get(const AmiMessage *m, const char *key);
const char *ami_get_or(const AmiMessage *m, const char *key, const char *fallback);

#endif
