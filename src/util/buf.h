/*
 * buf: a growable byte buffer, always NUL-terminated, with printf-style
 * appending. For building text (dumps, JSON lines, reports) without fixed
 * limits; allocation failure aborts (xalloc.h).
 */
#ifndef TEXTDESK_UTIL_BUF_H
#define TEXTDESK_UTIL_BUF_H

#include <stddef.h>

typedef struct buf {
    char *p;
    size_t n, cap;
} buf;

void buf_init(buf *b);
void buf_free(buf *b);
void buf_add(buf *b, const void *p, size_t n);
void buf_printf(buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Hands the bytes to the caller (free them) and leaves 'b' empty. */
char *buf_take(buf *b);

#endif
