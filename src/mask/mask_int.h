/*
 * mask_int: validators and character classes shared by the mask/ files (and
 * by bench/bench_mask.c, whose PCRE2 baseline must validate candidates with
 * exactly the same checks). Not part of the public interface.
 */
#ifndef TEXTDESK_MASK_MASK_INT_H
#define TEXTDESK_MASK_MASK_INT_H

#include <stddef.h>
#include <stdint.h>

/* Returns 1 when the 'n' ASCII digits at 'd' pass the Luhn check. */
int mask__luhn_ok(const char *d, size_t n);

/* Returns 1 when the 'n' (13-19) ASCII digits at 'd' start with an IIN that
 * R8 lists: 4; 50-69; 2221-2720; 34, 37; 36, 38, 39; 300-305, 3095;
 * 3528-3589. */
int mask__card_iin_ok(const char *d, size_t n);

/* Returns 1 when the 'n' alphanumeric ASCII characters at 'c' (blanks already
 * removed) are a valid IBAN: two letters, two digits, the registered length
 * for the country and mod-97 = 1. Letters may be of either case. */
int mask__iban_ok(const char *c, size_t n);

/* Returns the registered IBAN length for the country with letters 'a' 'b'
 * (either case), or 0 when the country has no IBAN. */
unsigned mask__iban_length(char a, char b);

/* Returns 1 when the 10 or 12 ASCII digits at 'd' are a valid personnummer
 * or samordningsnummer (R10): a real date (day + 60 for samordningsnummer;
 * 10-digit forms: leap year when YY % 4 == 0) and Luhn over the 10-digit form.
 * 'n' must be 10 or 12. */
int mask__pnr_ok(const char *d, size_t n);

/* Returns 1 when 'ddd-dd-dddd' at 'p' (11 bytes, shape already checked) is a
 * US SSN R11 allows: area not 000, 666 or 900-999; group not 00; serial not
 * 0000. */
int mask__ssn_ok(const char *p);

/* Returns 1 when the non-ASCII code point 'cp' counts as a word character for
 * R2 (a letter, digit or combining mark); punctuation, symbols, emoji,
 * blanks and other spaces return 0. */
int mask__cp_is_word(uint32_t cp);

#endif
