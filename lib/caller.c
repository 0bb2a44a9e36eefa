/* Number normalisation and HMAC keys (OpenSSL HMAC, SHA-256). */
#include "caller.h"
#include "utf8.h"

#include <ctype.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

static bool is_withheld_word(const char *s)
{
    static const char *const words[] = {"anonymous", "withheld", "private", "unknown",
                                        "restricted", "unavailable", "<unknown>", "anoniem",
                                        "onbekend", "prive", "privé", "privÉ", NULL};
    while (isspace((unsigned char)*s))
        s++;
    size_t len = strlen(s);
    while (len && isspace((unsigned char)s[len - 1]))
        len--;
    if (len == 0)
        return true;
    for (int i = 0; words[i]; i++)
        if (strlen(words[i]) == len && strncasecmp(s, words[i], len) == 0)
            return true;
    return false;
}

CallerResult caller_normalise(const char *raw, const char *country_code,
                              char out[CALLER_E164_MAX])
{
    if (is_withheld_word(raw))
        return CALLER_WITHHELD;
    char digits[64];
    size_t n = 0;
    bool plus = false;
    for (const char *p = raw; *p; p++) {
        unsigned char ch = (unsigned char)*p;
        /* "+31 (0)6 ...": the bracketed trunk zero is not dialled from abroad */
        if (ch == '(' && p[1] == '0' && p[2] == ')' && plus) {
            p += 2;
            continue;
        }
        if (isdigit(ch)) {
            if (n + 1 >= sizeof(digits))
                return CALLER_INVALID;
            digits[n++] = (char)ch;
        } else if (ch == '+' && n == 0 && !plus) {
            plus = true;
        } else if (!strchr(" -./()\t", ch)) {
            return CALLER_INVALID;
        }
    }
    digits[n] = '\0';
    if (n > 0 && strspn(digits, "0") == n)
        return CALLER_WITHHELD; /* "0", "000": the PBX's way of saying nothing */
    const char *body = digits;
    char national[64];
    if (plus && digits[0] == '0')
        plus = false; /* "+06...": no country code starts with 0; read as national */
    if (!plus && digits[0] == '0' && digits[1] == '0') {
        body = digits + 2;
    } else if (!plus && digits[0] == '0') {
        snprintf(national, sizeof(national), "%s%s", country_code, digits + 1);
        body = national;
    }
    size_t len = strlen(body);
    if (len < 3 || len > 15)
        return CALLER_INVALID;
    out[0] = '+';
    memcpy(out + 1, body, len + 1); /* len <= 15: fits CALLER_E164_MAX */
    return CALLER_OK;
}

/* An e-mail address, lower-cased into out; false if raw (len bytes, no
 * blanks at either end) is not one. */
static bool email_address(const char *raw, size_t len, char *out)
{
    const char *at = memchr(raw, '@', len);
    if (!at || at == raw || at == raw + len - 1 || memchr(at + 1, '@', len - (size_t)(at - raw) - 1))
        return false;
    for (size_t i = 0; i < len; i++) {
        unsigned char ch = (unsigned char)raw[i];
        if (isspace(ch))
            return false;
        out[i] = (char)(ch >= 'A' && ch <= 'Z' ? ch - 'A' + 'a' : ch); /* UTF-8 bytes kept */
    }
    out[len] = '\0';
    return true;
}

CallerResult caller_normalise_address(const char *raw, char out[CALLER_ADDRESS_MAX])
{
    if (is_withheld_word(raw))
        return CALLER_WITHHELD;
    while (isspace((unsigned char)*raw))
        raw++;
    size_t len = strlen(raw);
    while (len && isspace((unsigned char)raw[len - 1]))
        len--;
    if (len > KIC_MAX_FIELD_BYTES || utf8_count(raw, len) > KIC_MAX_FIELD)
        return CALLER_INVALID;
    for (size_t i = 0; i < len; i++)
        if (iscntrl((unsigned char)raw[i]))
            return CALLER_INVALID;
    bool mailto = len >= 7 && strncasecmp(raw, "mailto:", 7) == 0;
    if (mailto)
        return email_address(raw + 7, len - 7, out) ? CALLER_OK : CALLER_INVALID;
    if (memchr(raw, '@', len))
        return email_address(raw, len, out) ? CALLER_OK : CALLER_INVALID;
    memcpy(out, "id:", 3);
    memcpy(out + 3, raw, len);
    out[len + 3] = '\0';
    return CALLER_OK;
}

static void hex(const unsigned char *b, size_t n, char *out)
{
    static const char d[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = d[b[i] >> 4];
        out[2 * i + 1] = d[b[i] & 15];
    }
    out[2 * n] = '\0';
}

void caller_tenant_key(const char *secret, const char *tenant, unsigned char key[32])
{
    char msg[KIC_MAX_FIELD_BYTES + 16];
    unsigned int len = 32;
    int n = snprintf(msg, sizeof(msg), "kicd-tenant:%s", tenant);
    size_t used = n < 0 ? 0 : (size_t)n < sizeof(msg) ? (size_t)n : sizeof(msg) - 1;
    HMAC(EVP_sha256(), secret, (int)strlen(secret), (const unsigned char *)msg, used, key, &len);
}

void caller_key_hex(const unsigned char tenant_key[32], const char *who,
                    char out[CALLER_KEY_HEX_LEN])
{
    unsigned char md[32];
    unsigned int len = 32;
    HMAC(EVP_sha256(), tenant_key, 32, (const unsigned char *)who, strlen(who), md, &len);
    hex(md, sizeof(md), out);
}

/* HMAC (RFC 2104) over SHA-256 by hand, from the two keyed states. */
#define SHA256_BLOCK 64

struct CallerKeyer {
    EVP_MD_CTX *inner, *outer; /* after hashing key^ipad, key^opad */
    EVP_MD_CTX *work;
};

void caller_keyer_free(CallerKeyer *k)
{
    if (!k)
        return;
    EVP_MD_CTX_free(k->inner);
    EVP_MD_CTX_free(k->outer);
    EVP_MD_CTX_free(k->work);
    free(k);
}

static EVP_MD_CTX *keyed_state(const unsigned char key[32], unsigned char pad)
{
    unsigned char block[SHA256_BLOCK];
    memset(block, pad, sizeof(block));
    for (int i = 0; i < 32; i++)
        block[i] ^= key[i];
    EVP_MD_CTX *c = EVP_MD_CTX_new();
    if (c && (!EVP_DigestInit_ex(c, EVP_sha256(), NULL) ||
              !EVP_DigestUpdate(c, block, sizeof(block)))) {
        EVP_MD_CTX_free(c);
        c = NULL;
    }
    return c;
}

CallerKeyer *caller_keyer_new(const unsigned char tenant_key[32])
{
    CallerKeyer *k = calloc(1, sizeof(*k));
    if (!k)
        return NULL;
    k->inner = keyed_state(tenant_key, 0x36);
    k->outer = keyed_state(tenant_key, 0x5c);
    k->work = EVP_MD_CTX_new();
    if (!k->inner || !k->outer || !k->work) {
        caller_keyer_free(k);
        return NULL;
    }
    return k;
}

void caller_keyer_hex(CallerKeyer *k, const char *who, char out[CALLER_KEY_HEX_LEN])
{
    unsigned char ih[32], md[32];
    /* Failures here are allocation failures inside OpenSSL: no key is
     * better than a wrong one, so stop. */
    if (!EVP_MD_CTX_copy_ex(k->work, k->inner) ||
        !EVP_DigestUpdate(k->work, who, strlen(who)) ||
        !EVP_DigestFinal_ex(k->work, ih, NULL) || !EVP_MD_CTX_copy_ex(k->work, k->outer) ||
        !EVP_DigestUpdate(k->work, ih, sizeof(ih)) || !EVP_DigestFinal_ex(k->work, md, NULL))
        abort();
    hex(md, sizeof(md), out);
}
