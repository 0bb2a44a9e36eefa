/* Callers' numbers: normalised to E.164 and pseudonymised. Only the key,
 * HMAC-SHA256(tenant key, number), links a caller's contacts; the tenant
 * key is HMAC-SHA256(secret, "kicd-tenant:" + tenant name), so the secret
 * (from the config, never the database) yields one key per tenant.
 *
 * Normalisation: separators (space - . / ( )) are dropped, and so is the
 * "(0)" of "+31 (0)6 ..."; "+" and "00" mark an international number; a
 * leading "0" (also after a stray "+") is a national number of the
 * configured country (31: "0612345678" -> "+31612345678"); other digits
 * are taken as international without the "+" (many PBXs present
 * "31612345678"). 3 to 15 digits. Words a PBX uses for a hidden number
 * (anonymous, withheld, private, unknown, restricted, unavailable,
 * "<unknown>") and empty numbers are withheld: no key. */
#ifndef CALLER_H
#define CALLER_H

#include "kic.h"

#define CALLER_E164_MAX 17 /* "+" 15 digits NUL */
#define CALLER_KEY_HEX_LEN 65

typedef enum { CALLER_OK, CALLER_WITHHELD, CALLER_INVALID } CallerResult;

CallerResult caller_normalise(const char *raw, const char *country_code,
                              char out[CALLER_E164_MAX]);

/* Contacts by e-mail or chat may name the caller by address rather than
 * number. An e-mail address ("mailto:" dropped; one "@" with something on
 * each side; no spaces or control characters) is lower-cased, so the same
 * sender always gets the same key; any other handle a chat platform gives
 * (a visitor id) is kept as given, trimmed, behind "id:", so it can equal
 * neither an address nor a number. out receives the text to key. Hidden
 * words and blanks are CALLER_WITHHELD, as for numbers. */
#define CALLER_ADDRESS_MAX (KIC_MAX_FIELD_BYTES + 4) /* "id:" + a field + NUL */
CallerResult caller_normalise_address(const char *raw, char out[CALLER_ADDRESS_MAX]);

void caller_tenant_key(const char *secret, const char *tenant, unsigned char key[32]);
void caller_key_hex(const unsigned char tenant_key[32], const char *who,
                    char out[CALLER_KEY_HEX_LEN]);

/* The same key, with the tenant key's HMAC schedule (its inner and outer
 * SHA-256 states) computed once: keying every number afresh cost more
 * than the rest of an event's checks. Not shared between threads. */
typedef struct CallerKeyer CallerKeyer;
CallerKeyer *caller_keyer_new(const unsigned char tenant_key[32]); /* NULL: out of memory */
void caller_keyer_free(CallerKeyer *k);
void caller_keyer_hex(CallerKeyer *k, const char *who, char out[CALLER_KEY_HEX_LEN]);

#endif
