/*
 * heap: a binary min-heap of pointers with position tracking, so an element
 * can be removed or re-keyed in O(log n) wherever it sits. The element type
 * and its order belong to the user: 'less' orders two elements and 'moved'
 * records an element's new index (HEAP_NONE when it leaves the heap).
 */
#ifndef TEXTDESK_UTIL_HEAP_H
#define TEXTDESK_UTIL_HEAP_H

#include <stddef.h>
#include <stdint.h>

#define HEAP_NONE UINT32_MAX

typedef struct heap {
    void **v;
    uint32_t n, cap;
    int (*less)(const void *a, const void *b);
    void (*moved)(void *e, uint32_t pos);
} heap;

void heap_init(heap *h, int (*less)(const void *, const void *),
               void (*moved)(void *, uint32_t));
void heap_free(heap *h);

static inline void *heap_top(const heap *h)
{
    return h->n ? h->v[0] : NULL;
}

/* Adds 'e'. */
void heap_push(heap *h, void *e);
/* Removes and returns the least element, or NULL when empty. */
void *heap_pop(heap *h);
/* Removes the element at 'pos' (as last reported through 'moved'). */
void heap_remove(heap *h, uint32_t pos);
/* Restores order after the key of the element at 'pos' changed. */
void heap_fix(heap *h, uint32_t pos);

#endif
