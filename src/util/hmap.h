/*
 * hmap: an open-addressing hash table of pointers (linear probing with
 * backward-shift deletion, so no tombstones). The table stores each
 * element's 64-bit hash beside it; the user supplies the hash and an
 * equality test against a lookup key, so one table type serves string keys,
 * integer keys and composite keys alike.
 */
#ifndef TEXTDESK_UTIL_HMAP_H
#define TEXTDESK_UTIL_HMAP_H

#include <stddef.h>
#include <stdint.h>

typedef struct hmap {
    uint64_t *h; /* 0 = empty slot; stored hashes are forced non-zero */
    void **v;
    size_t cap, len;
} hmap;

typedef int (*hmap_eq)(const void *elem, const void *key);

void hmap_init(hmap *m);
void hmap_free(hmap *m);

/* Returns the element with hash 'h' for which eq(elem, key) holds, or NULL. */
void *hmap_get(const hmap *m, uint64_t h, hmap_eq eq, const void *key);
/* Adds 'elem' under hash 'h'. The caller makes sure no equal element is
 * present. */
void hmap_put(hmap *m, uint64_t h, void *elem);
/* Removes and returns the matching element, or NULL. */
void *hmap_del(hmap *m, uint64_t h, hmap_eq eq, const void *key);

/* Iteration: for (size_t i = 0; hmap_next(m, &i, &e);) visits every element
 * once, in table order. The table must not change during the walk. */
int hmap_next(const hmap *m, size_t *i, void **elem);

/* Hash helpers. */
uint64_t hmap_hash_bytes(const void *p, size_t n, uint64_t seed);
static inline uint64_t hmap_hash_u64(uint64_t x)
{
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

#endif
