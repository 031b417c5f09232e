#include "util/hmap.h"

#include <stdlib.h>
#include <string.h>

#include "util/xalloc.h"

static inline uint64_t fix(uint64_t h)
{
    return h ? h : 1;
}

void hmap_init(hmap *m)
{
    memset(m, 0, sizeof *m);
}

void hmap_free(hmap *m)
{
    free(m->h);
    free(m->v);
    memset(m, 0, sizeof *m);
}

static void grow(hmap *m)
{
    size_t ocap = m->cap;
    uint64_t *oh = m->h;
    void **ov = m->v;
    m->cap = ocap ? ocap * 2 : 16;
    m->h = xcalloc(m->cap, sizeof *m->h);
    m->v = xcalloc(m->cap, sizeof *m->v);
    m->len = 0;
    for (size_t i = 0; i < ocap; i++)
        if (oh[i])
            hmap_put(m, oh[i], ov[i]);
    free(oh);
    free(ov);
}

void *hmap_get(const hmap *m, uint64_t h, hmap_eq eq, const void *key)
{
    if (m->len == 0)
        return NULL;
    h = fix(h);
    size_t mask = m->cap - 1;
    for (size_t i = h & mask;; i = (i + 1) & mask) {
        if (m->h[i] == 0)
            return NULL;
        if (m->h[i] == h && eq(m->v[i], key))
            return m->v[i];
    }
}

void hmap_put(hmap *m, uint64_t h, void *elem)
{
    if ((m->len + 1) * 4 > m->cap * 3)
        grow(m);
    h = fix(h);
    size_t mask = m->cap - 1;
    size_t i = h & mask;
    while (m->h[i])
        i = (i + 1) & mask;
    m->h[i] = h;
    m->v[i] = elem;
    m->len++;
}

void *hmap_del(hmap *m, uint64_t h, hmap_eq eq, const void *key)
{
    if (m->len == 0)
        return NULL;
    h = fix(h);
    size_t mask = m->cap - 1;
    size_t i = h & mask;
    for (;; i = (i + 1) & mask) {
        if (m->h[i] == 0)
            return NULL;
        if (m->h[i] == h && eq(m->v[i], key))
            break;
    }
    void *found = m->v[i];
    /* Backward-shift: pull later members of the probe run into the hole
     * when their home slot does not lie cyclically in (hole, j]. */
    size_t j = i;
    for (;;) {
        j = (j + 1) & mask;
        if (m->h[j] == 0)
            break;
        size_t home = m->h[j] & mask;
        int between = i <= j ? (home > i && home <= j) : (home > i || home <= j);
        if (between)
            continue;
        m->h[i] = m->h[j];
        m->v[i] = m->v[j];
        i = j;
    }
    m->h[i] = 0;
    m->v[i] = NULL;
    m->len--;
    return found;
}

int hmap_next(const hmap *m, size_t *i, void **elem)
{
    while (*i < m->cap) {
        size_t k = (*i)++;
        if (m->h[k]) {
            *elem = m->v[k];
            return 1;
        }
    }
    return 0;
}

uint64_t hmap_hash_bytes(const void *p, size_t n, uint64_t seed)
{
    /* FNV-1a folded through a final mix: short keys (phone numbers, message
     * ids) dominate, where this is as fast as anything fancier. */
    const unsigned char *s = p;
    uint64_t h = 0xcbf29ce484222325ULL ^ seed;
    for (size_t i = 0; i < n; i++) {
        h ^= s[i];
        h *= 0x100000001b3ULL;
    }
    return hmap_hash_u64(h);
}
