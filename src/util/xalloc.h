/*
 * xalloc: allocation that aborts on exhaustion (STYLE.md 10). Out of memory
 * is not an input error a caller can handle sensibly in a daemon; input
 * limits are checked before allocating and reported as errors instead.
 */
#ifndef TEXTDESK_UTIL_XALLOC_H
#define TEXTDESK_UTIL_XALLOC_H

#include <stddef.h>

void *xmalloc(size_t n);
void *xcalloc(size_t count, size_t n);
void *xrealloc(void *p, size_t n);
/* Returns a NUL-terminated copy of the 'n' bytes at 'p'. */
char *xmemdup0(const char *p, size_t n);

#endif
