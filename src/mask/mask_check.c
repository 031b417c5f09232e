/*
 * mask_check: the validators behind mask.c (Luhn, card IINs, IBAN mod-97,
 * personnummer dates, SSA rules for US SSNs) and the non-ASCII word-character
 * class used for R2 boundaries. Pure functions over bytes the scanner has
 * already shaped; see mask_int.h for the contracts.
 */
#include <stddef.h>
#include <stdint.h>

#include "mask/mask_int.h"

int mask__luhn_ok(const char *d, size_t n)
{
    unsigned sum = 0;
    int dbl = 0;
    for (size_t i = n; i-- > 0;) {
        unsigned v = (unsigned)(d[i] - '0');
        if (dbl) {
            v *= 2;
            if (v > 9)
                v -= 9;
        }
        sum += v;
        dbl = !dbl;
    }
    return n > 0 && sum % 10 == 0;
}

static unsigned prefix_num(const char *d, size_t k)
{
    unsigned v = 0;
    for (size_t i = 0; i < k; i++)
        v = v * 10 + (unsigned)(d[i] - '0');
    return v;
}

int mask__card_iin_ok(const char *d, size_t n)
{
    if (n < 4)
        return 0;
    unsigned p2 = prefix_num(d, 2), p3 = prefix_num(d, 3), p4 = prefix_num(d, 4);
    if (d[0] == '4')
        return 1;
    if (p2 >= 50 && p2 <= 69) /* covers 51-55 */
        return 1;
    if (p4 >= 2221 && p4 <= 2720)
        return 1;
    if (p2 == 34 || p2 == 37 || p2 == 36 || p2 == 38 || p2 == 39)
        return 1;
    if ((p3 >= 300 && p3 <= 305) || p4 == 3095)
        return 1;
    if (p4 >= 3528 && p4 <= 3589)
        return 1;
    return 0;
}

static int is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static int is_alpha(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

/* Appends one IBAN character to the decimal number in 'acc': a digit as
 * itself, a letter as 10-35 (two decimal digits). */
static uint64_t mod97_push(uint64_t acc, char c)
{
    if (is_digit(c))
        return acc * 10 + (unsigned)(c - '0');
    return acc * 100 + (unsigned)((c | 0x20) - 'a') + 10;
}

int mask__iban_ok(const char *c, size_t n)
{
    if (n < 5 || !is_alpha(c[0]) || !is_alpha(c[1]) || !is_digit(c[2]) ||
        !is_digit(c[3]))
        return 0;
    if (mask__iban_length(c[0], c[1]) != n)
        return 0;
    /* ISO 7064 mod 97-10 over c[4..n) then c[0..4). The remainder is taken
     * every seven characters, not every one: the number in 'acc' stays
     * below 97 * 10^14 + 10^14 < 2^64, and the remainder is the same. */
    uint64_t acc = 0;
    unsigned k = 0;
    for (size_t i = 4; i < n + 4; i++) {
        char ch = c[i < n ? i : i - n];
        if (!is_digit(ch) && !is_alpha(ch))
            return 0;
        acc = mod97_push(acc, ch);
        if (++k == 7) {
            acc %= 97;
            k = 0;
        }
    }
    return acc % 97 == 1;
}

static unsigned days_in_month(unsigned m, int leap)
{
    static const unsigned char dim[12] = {31, 28, 31, 30, 31, 30,
                                          31, 31, 30, 31, 30, 31};
    if (m == 2 && leap)
        return 29;
    return dim[m - 1];
}

int mask__pnr_ok(const char *d, size_t n)
{
    int leap;
    const char *ten; /* the 10-digit form YYMMDDNNNN */
    if (n == 12) {
        unsigned y = prefix_num(d, 4);
        leap = y % 4 == 0 && (y % 100 != 0 || y % 400 == 0);
        ten = d + 2;
    } else if (n == 10) {
        leap = prefix_num(d, 2) % 4 == 0;
        ten = d;
    } else {
        return 0;
    }
    unsigned mm = prefix_num(ten + 2, 2), dd = prefix_num(ten + 4, 2);
    if (mm < 1 || mm > 12)
        return 0;
    if (dd > 60) /* samordningsnummer: day + 60 */
        dd -= 60;
    if (dd < 1 || dd > days_in_month(mm, leap))
        return 0;
    return mask__luhn_ok(ten, 10);
}

int mask__ssn_ok(const char *p)
{
    unsigned area = prefix_num(p, 3), group = prefix_num(p + 4, 2),
             serial = prefix_num(p + 7, 4);
    if (area == 0 || area == 666 || area >= 900)
        return 0;
    return group != 0 && serial != 0;
}

int mask__cp_is_word(uint32_t cp)
{
    if (cp < 0x80) /* callers classify ASCII themselves; be safe anyway */
        return (cp >= '0' && cp <= '9') || (cp >= 'A' && cp <= 'Z') ||
               (cp >= 'a' && cp <= 'z') || cp == '_';
    if (cp < 0xC0) /* C1 controls, Latin-1 punctuation and symbols */
        return cp == 0xAA || cp == 0xB5 || cp == 0xBA;
    if (cp == 0xD7 || cp == 0xF7)
        return 0;
    if (cp < 0x1680)
        return 1;
    if (cp == 0x1680) /* OGHAM SPACE MARK */
        return 0;
    if (cp < 0x2000)
        return 1;
    if (cp < 0x20D0) /* general punctuation, super/subscripts, currency */
        return cp == 0x2071 || cp == 0x207F || (cp >= 0x2090 && cp <= 0x209C);
    if (cp < 0x2100) /* combining marks for symbols */
        return 1;
    if (cp < 0x2C00) /* letterlike, arrows, math, technical, shapes, dingbats */
        return 0;
    if (cp >= 0x2E00 && cp <= 0x2E7F) /* supplemental punctuation */
        return 0;
    if ((cp >= 0x3000 && cp <= 0x3004) || (cp >= 0x3008 && cp <= 0x3020))
        return 0; /* CJK spaces, brackets, punctuation */
    if (cp >= 0xFE00 && cp <= 0xFE0F) /* variation selectors go with emoji */
        return 0;
    if ((cp >= 0xFE10 && cp <= 0xFE1F) || (cp >= 0xFE30 && cp <= 0xFE6F))
        return 0;
    if (cp == 0xFEFF)
        return 0;
    if ((cp >= 0xFF01 && cp <= 0xFF0F) || (cp >= 0xFF1A && cp <= 0xFF20) ||
        (cp >= 0xFF3B && cp <= 0xFF40) || (cp >= 0xFF5B && cp <= 0xFF65))
        return 0; /* full-width punctuation */
    if (cp >= 0xFFF0 && cp <= 0xFFFF)
        return 0;
    if (cp >= 0x1F000 && cp <= 0x1FAFF) /* emoji and pictographs */
        return 0;
    if (cp >= 0xE0000 && cp <= 0xE007F) /* emoji tag sequences */
        return 0;
    return 1;
}
