/*
 * str: a borrowed, length-carrying view of bytes (STYLE.md 13). A str never
 * owns its bytes and is not NUL-terminated in general; whoever hands one out
 * says how long the bytes stay valid.
 */
#ifndef TEXTDESK_UTIL_STR_H
#define TEXTDESK_UTIL_STR_H

#include <stddef.h>
#include <string.h>

typedef struct str {
    const char *p;
    size_t n;
} str;

#define STR_LIT(s) ((str){(s), sizeof(s) - 1})
#define STR_NULL ((str){NULL, 0})

/* Returns a view of the NUL-terminated string 's' (NULL gives an empty view). */
static inline str str_c(const char *s)
{
    return (str){s, s ? strlen(s) : 0};
}

/* Returns 1 when 'a' and 'b' hold the same bytes. */
static inline int str_eq(str a, str b)
{
    return a.n == b.n && (a.n == 0 || memcmp(a.p, b.p, a.n) == 0);
}

#endif
