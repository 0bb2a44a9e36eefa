/* Token hashing with OpenSSL's SHA-256 (EVP interface). */
#include "token.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <string.h>

static void to_hex(const unsigned char *bytes, size_t n, char *out)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[bytes[i] >> 4];
        out[2 * i + 1] = digits[bytes[i] & 15];
    }
    out[2 * n] = '\0';
}

void token_hash_hex(const char *token, char out[TOKEN_HASH_HEX])
{
    unsigned char md[32];
    unsigned int len = 0;
    EVP_Digest(token, strlen(token), md, &len, EVP_sha256(), NULL);
    to_hex(md, sizeof(md), out);
}

void token_format(const unsigned char random[24], char out[53])
{
    memcpy(out, TOKEN_PREFIX, 4);
    to_hex(random, 24, out + 4);
}
