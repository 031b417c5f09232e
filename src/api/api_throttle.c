#include "api/api_throttle.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "util/hmap.h"
#include "util/xalloc.h"

/* Key kinds: the first byte of a key. */
enum { K_PAIR = 'p', K_USER = 'u', K_ADDR = 'a', K_KNOWN = 'k' };

#define USER_MAX 128 /* longer names share their first 128 bytes' counts */
#define ADDR_MAX 64

typedef struct entry {
    int64_t last; /* last failure (K_KNOWN: last login) */
    uint32_t fails;
    size_t n;
    char key[];
} entry;

struct api_throttle {
    hmap m;
};

typedef struct keybuf {
    char p[1 + USER_MAX + 1 + ADDR_MAX];
    size_t n;
} keybuf;

/* kind, user name, NUL, address (user names hold no NUL: api_parse) */
static void make_key(keybuf *k, int kind, str user, str addr)
{
    size_t un = user.n < USER_MAX ? user.n : USER_MAX, an = addr.n < ADDR_MAX ? addr.n : ADDR_MAX;
    k->n = 0;
    k->p[k->n++] = (char)kind;
    if (kind != K_ADDR) {
        memcpy(k->p + k->n, user.p, un);
        k->n += un;
    }
    if (kind != K_USER) {
        k->p[k->n++] = '\0';
        memcpy(k->p + k->n, addr.p, an);
        k->n += an;
    }
}

static int entry_eq(const void *e, const void *key)
{
    const entry *x = e;
    const keybuf *k = key;
    return x->n == k->n && memcmp(x->key, k->p, k->n) == 0;
}

static uint64_t key_hash(const char *p, size_t n)
{
    return hmap_hash_bytes(p, n, 0x7468726f74746c65ULL);
}

static int stale(const entry *e, int64_t now)
{
    int64_t keep = e->key[0] == K_KNOWN ? API_THROTTLE_KNOWN_MS : API_THROTTLE_FORGET_MS;
    return now - e->last > keep;
}

api_throttle *api_throttle_new(void)
{
    api_throttle *t = xcalloc(1, sizeof *t);
    hmap_init(&t->m);
    return t;
}

void api_throttle_free(api_throttle *t)
{
    if (t == NULL)
        return;
    size_t i = 0;
    void *e;
    while (hmap_next(&t->m, &i, &e))
        free(e);
    hmap_free(&t->m);
    free(t);
}

size_t api_throttle_size(const api_throttle *t)
{
    return t->m.len;
}

static entry *get(api_throttle *t, const keybuf *k, int64_t now)
{
    entry *e = hmap_get(&t->m, key_hash(k->p, k->n), entry_eq, k);
    if (e != NULL && stale(e, now)) {
        hmap_del(&t->m, key_hash(k->p, k->n), entry_eq, k);
        free(e);
        e = NULL;
    }
    return e;
}

static void drop(api_throttle *t, entry *e)
{
    keybuf k;
    k.n = e->n;
    memcpy(k.p, e->key, e->n);
    hmap_del(&t->m, key_hash(k.p, k.n), entry_eq, &k);
    free(e);
}

/* Eviction order: failure counts before known pairs, then the oldest. */
static int by_keep(const void *a, const void *b)
{
    const entry *x = *(entry *const *)a, *y = *(entry *const *)b;
    int kx = x->key[0] == K_KNOWN, ky = y->key[0] == K_KNOWN;
    if (kx != ky)
        return kx - ky;
    return (x->last > y->last) - (x->last < y->last);
}

/* Makes room for more keys when the table is full: the stale ones go and,
 * while fewer than an eighth have gone, the failure counts and only then
 * the known pairs, oldest first. Freeing an eighth at a time keeps a flood
 * of made-up names at O(1) per attempt, amortised (one scan per
 * API_THROTTLE_MAX_KEYS / 8 new keys, not one per key). */
static void make_room(api_throttle *t, int64_t now)
{
    if (t->m.len < API_THROTTLE_MAX_KEYS)
        return;
    size_t len = t->m.len, want = API_THROTTLE_MAX_KEYS / 8, ng = 0, nk = 0, i = 0;
    entry **all = xmalloc(len * sizeof *all);
    void *v;
    while (hmap_next(&t->m, &i, &v)) { /* stale at the front, the rest after */
        entry *e = v;
        if (stale(e, now)) {
            if (ng < nk)
                all[nk] = all[ng];
            nk++;
            all[ng++] = e;
        } else {
            all[nk++] = e;
        }
    }
    if (ng < want) {
        qsort(all + ng, nk - ng, sizeof *all, by_keep);
        ng = want < nk ? want : nk;
    }
    for (size_t j = 0; j < ng; j++)
        drop(t, all[j]);
    free(all);
}

static entry *get_or_add(api_throttle *t, const keybuf *k, int64_t now)
{
    entry *e = get(t, k, now);
    if (e != NULL)
        return e;
    make_room(t, now);
    e = xcalloc(1, sizeof *e + k->n);
    e->n = k->n;
    memcpy(e->key, k->p, k->n);
    e->last = now;
    hmap_put(&t->m, key_hash(k->p, k->n), e);
    return e;
}

/* When the next attempt under 'e' may come, with 'free' failures free. */
static int64_t due(const entry *e, uint32_t free_fails)
{
    if (e == NULL || e->fails <= free_fails)
        return 0;
    uint32_t step = e->fails - free_fails - 1;
    int64_t d = step >= 20 ? API_THROTTLE_MAX_MS : (int64_t)API_THROTTLE_BASE_MS << step;
    return e->last + (d < API_THROTTLE_MAX_MS ? d : API_THROTTLE_MAX_MS);
}

int64_t api_throttle_wait(api_throttle *t, str user, str addr, int64_t now)
{
    keybuf k;
    make_key(&k, K_PAIR, user, addr);
    int64_t until = due(get(t, &k, now), API_THROTTLE_PAIR_FREE);
    make_key(&k, K_KNOWN, user, addr);
    if (get(t, &k, now) == NULL) { /* not known here: the wider counts too */
        make_key(&k, K_USER, user, addr);
        int64_t u = due(get(t, &k, now), API_THROTTLE_USER_FREE);
        make_key(&k, K_ADDR, user, addr);
        int64_t a = due(get(t, &k, now), API_THROTTLE_ADDR_FREE);
        until = u > until ? u : until;
        until = a > until ? a : until;
    }
    return until > now ? until - now : 0;
}

void api_throttle_failed(api_throttle *t, str user, str addr, int64_t now)
{
    static const int kinds[] = {K_PAIR, K_USER, K_ADDR};
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
        keybuf k;
        make_key(&k, kinds[i], user, addr);
        entry *e = get_or_add(t, &k, now);
        if (e->fails < UINT32_MAX)
            e->fails++;
        e->last = now;
    }
}

void api_throttle_succeeded(api_throttle *t, str user, str addr, int64_t now)
{
    keybuf k;
    make_key(&k, K_PAIR, user, addr);
    entry *e = get(t, &k, now);
    if (e != NULL)
        drop(t, e);
    make_key(&k, K_KNOWN, user, addr);
    get_or_add(t, &k, now)->last = now;
}

/* ---- the client's address ---------------------------------------------- */

static int trusted_addr(const netaddr *trusted, size_t n, const netaddr *a)
{
    for (size_t i = 0; i < n; i++)
        if (netaddr_in(a, &trusted[i]))
            return 1;
    return 0;
}

/* The value of "for=" in one Forwarded element ('p', 'n' bytes), unquoted,
 * or STR_NULL. */
static str forwarded_for(const char *p, size_t n)
{
    const char *end = p + n;
    while (p < end) {
        const char *semi = memchr(p, ';', (size_t)(end - p));
        const char *pe = semi ? semi : end;
        while (p < pe && (*p == ' ' || *p == '\t'))
            p++;
        if (pe - p > 4 && strncasecmp(p, "for=", 4) == 0) {
            const char *v = p + 4;
            size_t vn = (size_t)(pe - v);
            while (vn > 0 && (v[vn - 1] == ' ' || v[vn - 1] == '\t'))
                vn--;
            if (vn >= 2 && v[0] == '"' && v[vn - 1] == '"')
                v++, vn -= 2;
            return (str){v, vn};
        }
        p = pe + 1;
    }
    return STR_NULL;
}

/* Walks the comma-separated list 'h' from the right: the first address not
 * trusted (or, all trusted, the leftmost) into '*out'. Returns 0, or -1
 * when the list is empty or an entry is no address. */
static int walk(const netaddr *trusted, size_t n, str h, int fwd, netaddr *out)
{
    size_t end = h.n;
    int any = 0;
    while (end > 0) {
        size_t start = end;
        while (start > 0 && h.p[start - 1] != ',')
            start--;
        str item = {h.p + start, end - start};
        if (fwd)
            item = forwarded_for(item.p, item.n);
        if (item.p == NULL || netaddr_parse(item, out) != 0)
            return -1;
        any = 1;
        if (!trusted_addr(trusted, n, out))
            return 0;
        end = start > 0 ? start - 1 : 0;
    }
    return any ? 0 : -1;
}

size_t api_throttle_client(const netaddr *trusted, size_t n, str peer, str xff, str forwarded,
                           char *out, size_t cap)
{
    netaddr p, c;
    if (peer.p == NULL || netaddr_parse(peer, &p) != 0 || !trusted_addr(trusted, n, &p) ||
        ((xff.n == 0 || walk(trusted, n, xff, 0, &c) != 0) &&
         (forwarded.n == 0 || walk(trusted, n, forwarded, 1, &c) != 0))) {
        size_t k = peer.n < cap ? peer.n : cap - 1;
        memcpy(out, peer.p ? peer.p : "", k);
        out[k] = '\0';
        return k;
    }
    return netaddr_format(&c, out, cap);
}
