#include "util/heap.h"

#include <stdlib.h>

#include "util/xalloc.h"

static void noop_moved(void *e, uint32_t pos)
{
    (void)e, (void)pos;
}

void heap_init(heap *h, int (*less)(const void *, const void *),
               void (*moved)(void *, uint32_t))
{
    h->v = NULL;
    h->n = h->cap = 0;
    h->less = less;
    h->moved = moved ? moved : noop_moved;
}

void heap_free(heap *h)
{
    free(h->v);
    h->v = NULL;
    h->n = h->cap = 0;
}

static void place(heap *h, uint32_t i, void *e)
{
    h->v[i] = e;
    h->moved(e, i);
}

static void sift_up(heap *h, uint32_t i)
{
    void *e = h->v[i];
    while (i > 0) {
        uint32_t p = (i - 1) / 2;
        if (!h->less(e, h->v[p]))
            break;
        place(h, i, h->v[p]);
        i = p;
    }
    place(h, i, e);
}

static void sift_down(heap *h, uint32_t i)
{
    void *e = h->v[i];
    for (;;) {
        uint32_t l = 2 * i + 1, m = i;
        void *best = e;
        if (l < h->n && h->less(h->v[l], best))
            m = l, best = h->v[l];
        if (l + 1 < h->n && h->less(h->v[l + 1], best))
            m = l + 1, best = h->v[l + 1];
        if (m == i)
            break;
        place(h, i, best);
        i = m;
    }
    place(h, i, e);
}

void heap_push(heap *h, void *e)
{
    if (h->n == h->cap) {
        h->cap = h->cap ? h->cap * 2 : 8;
        h->v = xrealloc(h->v, (size_t)h->cap * sizeof *h->v);
    }
    h->v[h->n++] = e;
    sift_up(h, h->n - 1);
}

void heap_remove(heap *h, uint32_t pos)
{
    void *e = h->v[pos];
    h->n--;
    if (pos != h->n) {
        h->v[pos] = h->v[h->n];
        heap_fix(h, pos);
    }
    h->moved(e, HEAP_NONE);
}

void *heap_pop(heap *h)
{
    if (h->n == 0)
        return NULL;
    void *e = h->v[0];
    heap_remove(h, 0);
    return e;
}

void heap_fix(heap *h, uint32_t pos)
{
    if (pos > 0 && h->less(h->v[pos], h->v[(pos - 1) / 2]))
        sift_up(h, pos);
    else
        sift_down(h, pos);
}
