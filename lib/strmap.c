/* Open-addressing hash map with FNV-1a hashing; grows at 70% load
 * (tombstones included), so probes stay short. */
#include "strmap.h"

#include <stdlib.h>
#include <string.h>

static const char tombstone_key[] = "";
#define STRMAP_TOMBSTONE tombstone_key

uint64_t strmap_hash(const char *s)
{
    uint64_t h = 1469598103934665603ULL;
    for (; *s; s++) {
        h ^= (unsigned char)*s;
        h *= 1099511628211ULL;
    }
    return h;
}

static StrMapEntry *find_slot(const StrMap *m, const char *key, uint64_t h)
{
    size_t mask = m->cap - 1;
    StrMapEntry *first_tomb = NULL;
    for (size_t i = (size_t)h & mask;; i = (i + 1) & mask) {
        StrMapEntry *e = &m->slots[i];
        if (!e->key)
            return first_tomb ? first_tomb : e;
        if (e->key == STRMAP_TOMBSTONE) {
            if (!first_tomb)
                first_tomb = e;
        } else if (e->hash == h && strcmp(e->key, key) == 0) {
            return e;
        }
    }
}

static void grow(StrMap *m)
{
    size_t ncap = m->cap ? m->cap * 2 : 16;
    if (m->count * 10 < m->cap * 4)
        ncap = m->cap; /* mostly tombstones: rehash at the same size */
    StrMapEntry *old = m->slots;
    size_t ocap = m->cap;
    m->slots = calloc(ncap, sizeof(StrMapEntry));
    if (!m->slots)
        abort();
    m->cap = ncap;
    m->used = m->count;
    for (size_t i = 0; i < ocap; i++) {
        if (old[i].key && old[i].key != STRMAP_TOMBSTONE)
            *find_slot(m, old[i].key, old[i].hash) = old[i];
    }
    free(old);
}

void *strmap_get(const StrMap *m, const char *key)
{
    if (!m->cap)
        return NULL;
    StrMapEntry *e = find_slot(m, key, strmap_hash(key));
    return e->key && e->key != STRMAP_TOMBSTONE ? e->value : NULL;
}

void *strmap_put(StrMap *m, const char *key, void *value)
{
    if ((m->used + 1) * 10 > m->cap * 7)
        grow(m);
    uint64_t h = strmap_hash(key);
    StrMapEntry *e = find_slot(m, key, h);
    void *old = NULL;
    if (e->key && e->key != STRMAP_TOMBSTONE) {
        old = e->value;
    } else {
        if (!e->key)
            m->used++;
        m->count++;
    }
    e->key = key;
    e->value = value;
    e->hash = h;
    return old;
}

void *strmap_remove(StrMap *m, const char *key)
{
    if (!m->cap)
        return NULL;
    StrMapEntry *e = find_slot(m, key, strmap_hash(key));
    if (!e->key || e->key == STRMAP_TOMBSTONE)
        return NULL;
    void *v = e->value;
    e->key = STRMAP_TOMBSTONE;
    e->value = NULL;
    m->count--;
    return v;
}

bool strmap_next(const StrMap *m, size_t *pos, const char **key, void **value)
{
    for (; *pos < m->cap; (*pos)++) {
        StrMapEntry *e = &m->slots[*pos];
        if (e->key && e->key != STRMAP_TOMBSTONE) {
            if (key)
                *key = e->key;
            if (value)
                *value = e->value;
            (*pos)++;
            return true;
        }
    }
    return false;
}

void strmap_free(StrMap *m)
{
    free(m->slots);
    m->slots = NULL;
    m->cap = m->count = m->used = 0;
}
