/*
 * mask: finds and masks sensitive data in customer text (masking/RULES.md,
 * rules R1-R12): payment cards, IBANs, US SSNs and Swedish personnummer /
 * samordningsnummer (both kind "ssn"), e-mail addresses and phone numbers.
 *
 * Written by hand on purpose: no regex library does validated, single-pass
 * masking (Luhn + IIN, ISO 13616 length + mod-97, real-date checks, R2
 * boundaries, R3 longest-valid-candidate back-off) in linear time. The scanner
 * walks the text once; at each possible token start it runs small bounded
 * recognizers, validates their candidates and keeps the longest valid one.
 * See docs/internals/masking.md.
 *
 * The module is pure: it includes only libc and util/, does no I/O, reads no
 * clock, allocates nothing and keeps no mutable globals. Text is UTF-8;
 * invalid bytes are never part of a token and are copied through unchanged.
 * A newline is never part of a token, so masking a buffer of several lines
 * gives the same bytes as masking each line on its own.
 */
#ifndef TEXTDESK_MASK_MASK_H
#define TEXTDESK_MASK_MASK_H

#include <stddef.h>

/* Token kinds; also bits of the 'kinds' masks below. */
typedef enum mask_kind {
    MASK_CARD = 1,
    MASK_IBAN = 2,
    MASK_SSN = 4, /* US SSN and Swedish personnummer/samordningsnummer */
    MASK_EMAIL = 8,
    MASK_PHONE = 16,
    MASK_ALL = 31
} mask_kind;

/* One token found by mask_scan: bytes [start, end) of the text. A span always
 * starts and ends on a UTF-8 character boundary. */
typedef struct mask_span {
    mask_kind kind;
    size_t start;
    size_t end;
} mask_span;

/* Scans the 'n' bytes at 's' for tokens of the kinds set in 'kinds' (a mask
 * of mask_kind bits; other bits are ignored). Stores at most 'max' spans in
 * 'spans', in text order, never overlapping. Returns the number of tokens in
 * the text, which may be larger than 'max' (then only the first 'max' are
 * stored). 'spans' may be NULL when 'max' is 0. */
size_t mask_scan(const char *s, size_t n, unsigned kinds, mask_span *spans,
                 size_t max);

/* Masks the 'n' bytes at 's' (the kinds set in 'kinds') into 'out'. Returns
 * the length of the masked text, which is never more than 'n': every masked
 * character becomes one byte ('*' or the kept ASCII character; an e-mail's
 * first local character keeps its own bytes) and blanks inside number tokens
 * are dropped. Writes at most 'cap' bytes; when the return value is larger
 * than 'cap' the output was cut there, so 'cap' >= 'n' always suffices.
 * 'out' must not overlap 's'. No NUL is written. */
size_t mask_apply(const char *s, size_t n, unsigned kinds, char *out, size_t cap);

/* Returns the masked form of one token that mask_scan reported in the same
 * text: writes it to 'out' (room for span->end - span->start bytes) and
 * returns its length. */
size_t mask_token(const char *s, const mask_span *span, char *out);

/* Returns the kind's lower-case name ("card", "iban", "ssn", "email",
 * "phone"), or "?" for anything that is not exactly one kind. */
const char *mask_kind_name(mask_kind kind);

/* Returns the kind named by the 'n' bytes at 'name' (the names above, exact
 * match), or 0 when there is no such kind. */
unsigned mask_kind_from_name(const char *name, size_t n);

#endif
