/* API tokens: only their SHA-256 is ever stored or compared. Generation
 * needs randomness and lives with the callers (kicctl, the server). */
#ifndef TOKEN_H
#define TOKEN_H

#include "kic.h"

#define TOKEN_PREFIX "kic_"
#define TOKEN_HASH_HEX 65 /* 64 hex digits and NUL */

/* SHA-256 of the token text, as lower-case hex. */
void token_hash_hex(const char *token, char out[TOKEN_HASH_HEX]);

/* Turns 24 random bytes into a token "kic_" + 48 hex digits; out needs 53. */
void token_format(const unsigned char random[24], char out[53]);

#endif
