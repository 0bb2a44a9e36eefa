/* A string-keyed hash map (open addressing, linear probing). Keys are
 * borrowed: they must live as long as their entry, which is natural when
 * the key is a field of the value (a call's id, an agent's name). */
#ifndef STRMAP_H
#define STRMAP_H

#include "kic.h"

typedef struct StrMapEntry {
    const char *key; /* NULL: empty; STRMAP_TOMBSTONE: removed */
    void *value;
    uint64_t hash;
} StrMapEntry;

typedef struct StrMap {
    StrMapEntry *slots;
    size_t cap;   /* power of two, or 0 */
    size_t count; /* live entries */
    size_t used;  /* live + tombstones */
} StrMap;

#define STRMAP_INIT {NULL, 0, 0, 0}

void *strmap_get(const StrMap *m, const char *key);
/* Inserts or replaces; returns the value replaced (or NULL). Aborts when
 * out of memory: a map that cannot grow has nothing sensible to return. */
void *strmap_put(StrMap *m, const char *key, void *value);
/* Removes and returns the value (NULL when absent). */
void *strmap_remove(StrMap *m, const char *key);
/* Iteration: start with *pos = 0; false at the end. Safe against removing
 * the entry just returned. */
bool strmap_next(const StrMap *m, size_t *pos, const char **key, void **value);
void strmap_free(StrMap *m);

uint64_t strmap_hash(const char *s);

#endif
