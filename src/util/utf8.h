/*
 * utf8: strict UTF-8 decoding (RFC 3629: no overlongs, no surrogates, nothing
 * above U+10FFFF). Written by hand because it is a dozen lines on the hot path
 * of every message and the libraries we use (jansson) do not expose theirs.
 */
#ifndef TEXTDESK_UTIL_UTF8_H
#define TEXTDESK_UTIL_UTF8_H

#include <stddef.h>
#include <stdint.h>

/* Decodes one code point from 's' (at most 'n' bytes, n >= 1). Stores it in
 * '*cp' and returns its length in bytes (1-4), or returns 0 when the bytes at
 * 's' are not valid UTF-8 (then '*cp' is the first byte's value). */
size_t utf8_decode(const unsigned char *s, size_t n, uint32_t *cp);

/* Counts the code points in 's'. Returns the count, or -1 when 's' is not
 * valid UTF-8. */
long utf8_count(const char *s, size_t n);

/* Cuts the NUL-terminated 's' at the end of its longest valid UTF-8 prefix
 * (a message cut by snprintf may end inside a character; JSON cannot carry
 * that). Returns the new length. */
size_t utf8_trim(char *s);

/* Encodes 'cp' into 'out' (room for 4 bytes). Returns the number of bytes,
 * or 0 when 'cp' is a surrogate or above U+10FFFF. */
size_t utf8_encode(uint32_t cp, char *out);

/* A copy of 's' with every NUL byte (U+0000) replaced by U+FFFD, the
 * replacement character, in '*out_n' bytes; NULL (nothing allocated) when
 * 's' holds no NUL. Free with free(). For text from outside (an SMS from a
 * gateway): PostgreSQL's text cannot hold U+0000, and no SMS means one. */
char *utf8_nul_replace(const char *s, size_t n, size_t *out_n);

#endif
