/*
 * mask: the single-pass scanner and the masker (see mask.h and
 * docs/internals/masking.md).
 *
 * The scanner walks the text once, left to right. Every token but an e-mail
 * has an ASCII digit among its first three bytes, and an e-mail can only
 * start where the run of local-part characters before an '@' starts; so the
 * scanner jumps from digit run to digit run (SSE2 where available) and from
 * '@' to '@' (memchr), and tries only those few positions. At a candidate
 * start every enabled recognizer runs, each bounded in how far it looks ahead
 * (e-mail aside: each '@' is walked back from and its domain parsed once),
 * and the longest valid candidate wins (R3). Scanning resumes after the
 * token. No backtracking, no allocation: linear time.
 */
#include <stdint.h>
#include <string.h>

#include "mask/mask.h"
#include "mask/mask_int.h"
#include "util/utf8.h"

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

typedef unsigned char u8;

/* MASK_EXACT_SCAN = 1 (tests only, tests/unit/mask/test_mask_fast.c) turns
 * the fast paths off: every digit run goes through the one-run step and
 * every recognizer runs at every start. The output must not change. */
#ifndef MASK_EXACT_SCAN
#define MASK_EXACT_SCAN 0
#endif

/* ASCII character classes. */
enum {
    K_DIGIT = 1,  /* 0-9 */
    K_ALPHA = 2,  /* A-Z a-z */
    K_WORD = 4,   /* letters, digits, '_': R2 "glued" characters */
    K_LOCAL = 8,  /* e-mail local part: word and . % + - */
};

#define D (K_DIGIT | K_WORD | K_LOCAL)
#define A (K_ALPHA | K_WORD | K_LOCAL)
#define L K_LOCAL
static const u8 cls[256] = {
    ['0'] = D, ['1'] = D, ['2'] = D, ['3'] = D, ['4'] = D,
    ['5'] = D, ['6'] = D, ['7'] = D, ['8'] = D, ['9'] = D,
    ['A'] = A, ['B'] = A, ['C'] = A, ['D'] = A, ['E'] = A, ['F'] = A, ['G'] = A,
    ['H'] = A, ['I'] = A, ['J'] = A, ['K'] = A, ['L'] = A, ['M'] = A, ['N'] = A,
    ['O'] = A, ['P'] = A, ['Q'] = A, ['R'] = A, ['S'] = A, ['T'] = A, ['U'] = A,
    ['V'] = A, ['W'] = A, ['X'] = A, ['Y'] = A, ['Z'] = A,
    ['a'] = A, ['b'] = A, ['c'] = A, ['d'] = A, ['e'] = A, ['f'] = A, ['g'] = A,
    ['h'] = A, ['i'] = A, ['j'] = A, ['k'] = A, ['l'] = A, ['m'] = A, ['n'] = A,
    ['o'] = A, ['p'] = A, ['q'] = A, ['r'] = A, ['s'] = A, ['t'] = A, ['u'] = A,
    ['v'] = A, ['w'] = A, ['x'] = A, ['y'] = A, ['z'] = A,
    ['_'] = K_WORD | K_LOCAL,
    ['.'] = L, ['%'] = L, ['+'] = L, ['-'] = L,
};
#undef D
#undef A
#undef L

/* Neighbour classes of a digit run, for run_matters: what the two bytes
 * before the run and the two bytes after it say about whether a token can
 * start at or just before the run. */
enum {
    NB_OPENS = 1,   /* '+' '(': a phone can start here (byte before) */
    NB_ALPHA = 2,   /* A-Z a-z: "LL" before digits may start an IBAN */
    NB_STOP = 4,    /* letters, digits, '_', '+': digits after it cannot start */
    NB_GUARD = 8,   /* ' ' '-' '.' ',': after a digit, digits cannot start */
    NB_DIGIT = 16,  /* 0-9 */
    NB_ON = 32,     /* '(' and bytes >= 0x80: the number may go on (byte after) */
    NB_JOIN = 64,   /* ' ' '-' '.' '+': may join the run to a next block */
    NB_DP = 128,    /* 0-9 '(': a next block starts here */
};

#define DG (NB_STOP | NB_DIGIT | NB_DP)
#define AL (NB_ALPHA | NB_STOP)
#define H4 NB_ON, NB_ON, NB_ON, NB_ON
#define H32 H4, H4, H4, H4, H4, H4, H4, H4
static const u8 nb[256] = {
    ['0'] = DG, ['1'] = DG, ['2'] = DG, ['3'] = DG, ['4'] = DG,
    ['5'] = DG, ['6'] = DG, ['7'] = DG, ['8'] = DG, ['9'] = DG,
    ['A'] = AL, ['B'] = AL, ['C'] = AL, ['D'] = AL, ['E'] = AL, ['F'] = AL, ['G'] = AL,
    ['H'] = AL, ['I'] = AL, ['J'] = AL, ['K'] = AL, ['L'] = AL, ['M'] = AL, ['N'] = AL,
    ['O'] = AL, ['P'] = AL, ['Q'] = AL, ['R'] = AL, ['S'] = AL, ['T'] = AL, ['U'] = AL,
    ['V'] = AL, ['W'] = AL, ['X'] = AL, ['Y'] = AL, ['Z'] = AL,
    ['a'] = AL, ['b'] = AL, ['c'] = AL, ['d'] = AL, ['e'] = AL, ['f'] = AL, ['g'] = AL,
    ['h'] = AL, ['i'] = AL, ['j'] = AL, ['k'] = AL, ['l'] = AL, ['m'] = AL, ['n'] = AL,
    ['o'] = AL, ['p'] = AL, ['q'] = AL, ['r'] = AL, ['s'] = AL, ['t'] = AL, ['u'] = AL,
    ['v'] = AL, ['w'] = AL, ['x'] = AL, ['y'] = AL, ['z'] = AL,
    ['_'] = NB_STOP,
    ['+'] = NB_OPENS | NB_STOP | NB_JOIN,
    ['('] = NB_OPENS | NB_ON | NB_DP,
    [' '] = NB_GUARD | NB_JOIN,
    ['-'] = NB_GUARD | NB_JOIN,
    ['.'] = NB_GUARD | NB_JOIN,
    [','] = NB_GUARD,
    [0x80] = H32, H32, H32, H32,
};
#undef DG
#undef AL
#undef H4
#undef H32

static inline int is_digit(u8 b)
{
    return cls[b] & K_DIGIT;
}

static inline int is_alpha(u8 b)
{
    return cls[b] & K_ALPHA;
}

static inline int is_alnum(u8 b)
{
    return cls[b] & (K_DIGIT | K_ALPHA);
}

/* Length of the blank (R1: U+0020, U+00A0, U+202F) at 'p', or 0. */
static inline size_t blank_at(const u8 *s, size_t n, size_t p)
{
    if (p >= n)
        return 0;
    if (s[p] == ' ')
        return 1;
    if (s[p] == 0xC2 && p + 1 < n && s[p + 1] == 0xA0)
        return 2;
    if (s[p] == 0xE2 && p + 2 < n && s[p + 1] == 0x80 && s[p + 2] == 0xAF)
        return 3;
    return 0;
}

/* Length of a number separator (a blank or '-') at 'p', or 0. */
static inline size_t sep_at(const u8 *s, size_t n, size_t p)
{
    if (p < n && s[p] == '-')
        return 1;
    return blank_at(s, n, p);
}

/* Bit i set when s[base + i] is an ASCII digit (i < 64, base + i < n). */
static uint64_t digit_mask64(const u8 *s, size_t n, size_t base)
{
    uint64_t m = 0;
#if defined(__SSE2__)
    if (base + 64 <= n) {
        const __m128i zero = _mm_set1_epi8('0'), nine = _mm_set1_epi8(9);
        for (int i = 0; i < 4; i++) {
            __m128i v = _mm_sub_epi8(_mm_loadu_si128((const __m128i *)(s + base) + i), zero);
            /* unsigned v <= 9  <=>  min(v, 9) == v */
            uint64_t k = (uint32_t)_mm_movemask_epi8(_mm_cmpeq_epi8(_mm_min_epu8(v, nine), v));
            m |= k << (16 * i);
        }
        return m;
    }
#endif
    size_t lim = n - base < 64 ? n - base : 64;
    for (size_t i = 0; i < lim; i++)
        m |= (uint64_t)(is_digit(s[base + i]) != 0) << i;
    return m;
}

/* Returns the position of the first ASCII digit at or after 'p', or 'n';
 * '*end' gets the end of the digit run there. Works on 64-byte blocks whose
 * digit bitmask the caller keeps in '*base' / '*mask' ('*base' SIZE_MAX at
 * first), so each byte is classified once. */
static inline size_t find_digit(const u8 *s, size_t n, size_t p, size_t *end, size_t *base,
                         uint64_t *mask)
{
    for (;;) {
        if (p >= n) {
            *end = n;
            return n;
        }
        if (*base == SIZE_MAX || p < *base || p - *base >= 64) {
            *base = p & ~(size_t)63;
            *mask = digit_mask64(s, n, *base);
        }
        size_t off = p - *base;
        uint64_t m = *mask >> off;
        if (m) {
            size_t d = p + (size_t)__builtin_ctzll(m);
            /* zero only when the whole block from d on is digits */
            uint64_t rest = ~(*mask >> (d - *base));
            size_t e = rest ? d + (size_t)__builtin_ctzll(rest) : *base + 64;
            if (e - *base >= 64) /* the run goes on past the block */
                while (e < n && is_digit(s[e]))
                    e++;
            *end = e;
            return d;
        }
        p = *base + 64;
    }
}

/* Can a token start with the 'run' digits at 'p'? A run of fewer than 7
 * digits is a token only when a separator and another digit (or a "(d"
 * block) follow: not in "14:30", "199,00 kr", "71000", "kl 14 idag". */
static inline int digits_may_start(const u8 *s, size_t n, size_t p, size_t run)
{
    if (run >= 7)
        return 1;
    size_t q = p + run, k = sep_at(s, n, q);
    if (q >= n)
        return 0;
    if (s[q] == '(')
        return 1;
    if (k == 0 && ((s[q] == '.' && (run == 3 || (run == 1 && s[p] == '1'))) ||
                   (s[q] == '+' && run == 6)))
        k = 1;
    return k > 0 && q + k < n && (is_digit(s[q + k]) || s[q + k] == '(');
}

/* Does the digit run [d, q) need a closer look? Returns 0 only when no token
 * can start at it or just before it, so that the scanner may step over it:
 * nothing that starts a token sits before it ("+d", "(d", "LLd"), and
 * either the run cannot start a token (R2: glued to a word character, after
 * '+', or after a blank, '-', '.' or ',' that follows a digit, unless that
 * digit ends the last masked token at 'last_end'), or no token can go on
 * past it (no separator + digit, '(' or non-ASCII byte follows) while the
 * run alone is no token either: that takes 13+ digits (card), 10 or 12
 * (personnummer) or 7+ starting with 0 (phone). A superset of what
 * digits_may_start and the recognizers accept, from four class-table
 * lookups and no data-dependent branches. */
static inline int run_matters(const u8 *s, size_t n, size_t d, size_t q, size_t last_end)
{
    if (d < 2 || q + 1 >= n)
        return 1; /* at the edges of the text: let the full check decide */
    /* the four neighbours' classes side by side: before-1, before-2,
     * after, after+1 in bytes 0-3 */
    uint32_t v = (uint32_t)nb[s[d - 1]] | (uint32_t)nb[s[d - 2]] << 8 |
                 (uint32_t)nb[s[q]] << 16 | (uint32_t)nb[s[q + 1]] << 24;
    uint32_t before = (v & NB_OPENS) | (v & (v >> 8) & NB_ALPHA);
    uint32_t blocked = (v & NB_STOP) |
                       (v & (v >> 9) & NB_GUARD & -(uint32_t)(d - 1 != last_end));
    size_t r = q - d;
    uint32_t alone = (r >= 13) | (r == 10) | (r == 12) | ((r >= 7) & (s[d] == '0'));
    uint32_t goes_on = alone | ((v >> 16) & NB_ON) | ((v >> 16) & (v >> 25) & NB_JOIN);
    return (before != 0) | ((goes_on != 0) & (blocked == 0));
}

/* The digit runs that start in the 64-byte block at 'base' (whose digit
 * bitmask is 'digits') and need a closer look: bit i set when a run starts
 * at base + i and run_matters says so. Computed without the 'last_end'
 * exception, so it depends on the text only; next_token handles the one run
 * the exception can concern. */
static uint64_t block_candidates(const u8 *s, size_t n, size_t base, uint64_t digits)
{
    uint64_t carry = base > 0 && is_digit(s[base - 1]);
    uint64_t starts = digits & ~(digits << 1 | carry), cand = 0;
    while (starts) {
        unsigned i = (unsigned)__builtin_ctzll(starts);
        starts &= starts - 1;
        uint64_t rest = ~digits >> i;
        size_t e = base + i + (rest ? (size_t)__builtin_ctzll(rest) : 64 - i);
        if (rest == 0) /* the run goes on past the block */
            while (e < n && is_digit(s[e]))
                e++;
        cand |= (uint64_t)run_matters(s, n, base + i, e, SIZE_MAX) << i;
    }
    return cand;
}

/* Decodes the character before 'p' (p > 0), which must be a character
 * boundary as the forward decoder sees it. Stores its start in '*start' and
 * returns its code point; an invalid byte comes back as itself + 0x110000
 * so that it never equals a real character. */
static uint32_t prev_char(const u8 *s, size_t p, size_t *start)
{
    if (s[p - 1] < 0x80) {
        *start = p - 1;
        return s[p - 1];
    }
    size_t q = p - 1;
    size_t lim = p >= 4 ? p - 4 : 0;
    while (q > lim && (s[q] & 0xC0) == 0x80)
        q--;
    uint32_t cp;
    size_t k = utf8_decode(s + q, p - q, &cp);
    if (k != 0 && q + k == p) {
        *start = q;
        return cp;
    }
    *start = p - 1;
    return 0x110000u + s[p - 1];
}

static inline int cp_is_local(uint32_t cp)
{
    if (cp < 0x80)
        return cls[cp] & K_LOCAL;
    return cp < 0x110000 && mask__cp_is_word(cp);
}

/* R2 end rule: may a token end at 'e' (not before a word character, nor
 * before '.' or ',' followed by a digit)? */
static int end_ok(const u8 *s, size_t n, size_t e)
{
    if (e >= n)
        return 1;
    u8 b = s[e];
    if (b < 0x80) {
        if (cls[b] & K_WORD)
            return 0;
        if ((b == '.' || b == ',') && e + 1 < n && is_digit(s[e + 1]))
            return 0;
        return 1;
    }
    uint32_t cp;
    if (utf8_decode(s + e, n - e, &cp) == 0)
        return 1;
    return !mask__cp_is_word(cp);
}

static int digits_at(const u8 *s, size_t n, size_t p, size_t k)
{
    if (p + k > n)
        return 0;
    for (size_t i = 0; i < k; i++)
        if (!is_digit(s[p + i]))
            return 0;
    return 1;
}

/* Is [p, p+11) shaped like ddd-dd-dddd? */
static int ssn_shape(const u8 *s, size_t n, size_t p)
{
    return p + 11 <= n && digits_at(s, n, p, 3) && s[p + 3] == '-' &&
           digits_at(s, n, p + 4, 2) && s[p + 6] == '-' &&
           digits_at(s, n, p + 7, 4);
}

/* Is [p, p+11) shaped like dddddd-dddd or dddddd+dddd? */
static int pnr_shape(const u8 *s, size_t n, size_t p)
{
    return p + 11 <= n && digits_at(s, n, p, 6) &&
           (s[p + 6] == '-' || s[p + 6] == '+') && digits_at(s, n, p + 7, 4);
}

/* Does an identifier of a fixed shape start at 'p' (whose first digit run
 * has 'run' digits, counted up to 13) and end within its own boundaries?
 * The shapes are a US SSN (ddd-dd-dddd) and a personnummer (dddddd-dddd,
 * dddddd+dddd, yyyymmdd-dddd); "its own boundaries" means no digit and no
 * '-' + digit right after it (a blank may follow: "000-12-3456 666-..."
 * is two shapes side by side). Returns its end, or 0. Such a span is atomic
 * (RULES.md R3, R7): it is masked as an SSN or personnummer when valid,
 * and otherwise left whole; a phone or card never starts with it and goes
 * on past it, never runs on into it after a blank (a concatenation of
 * neighbours), and never starts inside it. */
static size_t id_shape_end(const u8 *s, size_t n, size_t p, size_t run)
{
    size_t e;
    if (run == 3 && ssn_shape(s, n, p))
        e = p + 11;
    else if (run == 6 && pnr_shape(s, n, p))
        e = p + 11;
    else if (run == 8 && p + 8 < n && s[p + 8] == '-' && digits_at(s, n, p + 9, 4))
        e = p + 13;
    else
        return 0;
    if (e < n && (is_digit(s[e]) || (s[e] == '-' && e + 1 < n && is_digit(s[e + 1]))))
        return 0;
    return e;
}

/* id_shape_end for a group that starts at 'q' right after a blank inside a
 * longer number: a phone or card ends before it. */
static int id_shape_at(const u8 *s, size_t n, size_t q)
{
    size_t run = 0;
    while (run < 9 && q + run < n && is_digit(s[q + run]))
        run++;
    return (run == 3 || run == 6 || run == 8) && id_shape_end(s, n, q, run) != 0;
}

/* ---- recognizers: each returns the end of its longest valid candidate
 * starting at 'p', or 0. ---- */

/* R8: 13-19 digits in groups joined by single blanks or '-'. */
static size_t rec_card(const u8 *s, size_t n, size_t p)
{
    char d[19];
    size_t nd = 0, best = 0, q = p;
    for (;;) {
        while (q < n && is_digit(s[q])) {
            if (nd == sizeof d)
                return best;
            d[nd++] = (char)s[q++];
        }
        if (nd >= 13 && end_ok(s, n, q) && mask__card_iin_ok(d, nd) &&
            mask__luhn_ok(d, nd))
            best = q;
        size_t k = sep_at(s, n, q);
        if (k == 0 || q + k >= n || !is_digit(s[q + k]) ||
            (s[q] != '-' && id_shape_at(s, n, q + k)))
            return best;
        q += k;
    }
}

/* R11: ddd-dd-dddd only. */
static size_t rec_ssn_us(const u8 *s, size_t n, size_t p)
{
    if (ssn_shape(s, n, p) && end_ok(s, n, p + 11) &&
        mask__ssn_ok((const char *)s + p))
        return p + 11;
    return 0;
}

/* R10: YYMMDD-NNNN, YYMMDD+NNNN, YYYYMMDD-NNNN, YYYYMMDDNNNN, YYMMDDNNNN. */
static size_t rec_pnr(const u8 *s, size_t n, size_t p)
{
    char d[12];
    size_t run = 0;
    while (run < 13 && p + run < n && is_digit(s[p + run]))
        run++;
    size_t e = 0, nd = 0;
    if (run == 12) {
        e = p + 12, nd = 12;
        memcpy(d, s + p, 12);
    } else if (run == 10) {
        e = p + 10, nd = 10;
        memcpy(d, s + p, 10);
    } else if (run == 8 && p + 9 < n && s[p + 8] == '-' &&
               digits_at(s, n, p + 9, 4)) {
        e = p + 13, nd = 12;
        memcpy(d, s + p, 8);
        memcpy(d + 8, s + p + 9, 4);
    } else if (run == 6 && pnr_shape(s, n, p)) {
        e = p + 11, nd = 10;
        memcpy(d, s + p, 6);
        memcpy(d + 6, s + p + 7, 4);
    } else {
        return 0;
    }
    if (end_ok(s, n, e) && mask__pnr_ok(d, nd))
        return e;
    return 0;
}

enum { PH_PLUS, PH_00, PH_TRUNK };

/* R7 forms (a) +CC, (b) 00CC, (c) trunk 0[1-9] / (0[1-9]..): a sequence of
 * blocks (digit runs or (d{1,4})) joined by an optional single blank or '-',
 * ending on a digit run. */
static size_t rec_phone(const u8 *s, size_t n, size_t p)
{
    int form;
    size_t q = p;
    if (s[p] == '+') {
        if (p + 1 >= n || !is_digit(s[p + 1]))
            return 0;
        form = PH_PLUS, q = p + 1;
    } else if (s[p] == '0' && p + 1 < n && s[p + 1] == '0') {
        form = PH_00;
    } else if (s[p] == '0' && p + 1 < n && s[p + 1] >= '1' && s[p + 1] <= '9') {
        form = PH_TRUNK;
    } else if (s[p] == '(' && p + 2 < n && s[p + 1] == '0' && s[p + 2] >= '1' &&
               s[p + 2] <= '9') {
        form = PH_TRUNK;
    } else {
        return 0;
    }
    size_t lo = form == PH_TRUNK ? 7 : 8, hi = form == PH_TRUNK ? 11 : 15;
    size_t skip = form == PH_00 ? 2 : 0; /* digits not counted */
    size_t nd = 0, best = 0;
    for (;;) {
        if (q < n && is_digit(s[q])) {
            while (q < n && is_digit(s[q])) {
                if (++nd > hi + skip)
                    return best;
                q++;
            }
            size_t cnt = nd - skip;
            if (nd >= skip && cnt >= lo && cnt <= hi && end_ok(s, n, q) &&
                !(q - p == 11 && (ssn_shape(s, n, p) || pnr_shape(s, n, p))))
                best = q;
        } else if (q < n && s[q] == '(') {
            size_t k = 0;
            while (k < 4 && q + 1 + k < n && is_digit(s[q + 1 + k]))
                k++;
            if (k == 0 || q + 1 + k >= n || s[q + 1 + k] != ')')
                return best;
            nd += k;
            if (nd > hi + skip)
                return best;
            q += k + 2;
        } else {
            return best;
        }
        /* optional joiner, then the next block */
        size_t k = sep_at(s, n, q);
        if (q + k < n && (is_digit(s[q + k]) || s[q + k] == '(') &&
            (k > 0 || s[q - 1] == ')' || s[q + k] == '(') &&
            !(k > 0 && s[q] != '-' && id_shape_at(s, n, q + k)))
            q += k;
        else
            return best;
    }
}

/* NANP body at 'p': (ddd) ddd-dddd, ddd-ddd-dddd, ddd ddd dddd or
 * ddd.ddd.dddd. The area code in parentheses may be followed by one blank,
 * one '-' or nothing ("(212)555-0187"), and its exchange and line by '-', a
 * blank or '.' (the parentheses alone mark the number). Returns its end or
 * 0; '*sep' gets '(' , '-', ' ' or '.'. */
static size_t nanp_body(const u8 *s, size_t n, size_t p, int *sep)
{
    if (p < n && s[p] == '(') {
        if (!digits_at(s, n, p + 1, 3) || p + 4 >= n || s[p + 4] != ')')
            return 0;
        size_t q = p + 5 + sep_at(s, n, p + 5), k;
        if (!digits_at(s, n, q, 3) || q + 3 >= n)
            return 0;
        k = s[q + 3] == '.' ? 1 : sep_at(s, n, q + 3);
        if (k == 0 || !digits_at(s, n, q + 3 + k, 4))
            return 0;
        *sep = '(';
        return q + 3 + k + 4;
    }
    if (!digits_at(s, n, p, 3))
        return 0;
    size_t q = p + 3, k1, k2;
    if (q < n && (s[q] == '-' || s[q] == '.')) {
        u8 c = s[q];
        if (!digits_at(s, n, q + 1, 3) || q + 4 >= n || s[q + 4] != c ||
            !digits_at(s, n, q + 5, 4))
            return 0;
        *sep = c;
        return q + 9;
    }
    if ((k1 = blank_at(s, n, q)) == 0 || !digits_at(s, n, q + k1, 3) ||
        (k2 = blank_at(s, n, q + k1 + 3)) == 0 ||
        !digits_at(s, n, q + k1 + 3 + k2, 4))
        return 0;
    *sep = ' ';
    return q + k1 + 3 + k2 + 4;
}

/* R7 form (d): NANP, optionally after "1" and a blank (or "1-" / "1." before
 * the dash / dot forms, or "1" right before the area code in parentheses:
 * "1(212)555-0187"). */
static size_t rec_nanp(const u8 *s, size_t n, size_t p)
{
    int sep;
    size_t e;
    if (s[p] == '1' && p + 1 < n) {
        size_t k = blank_at(s, n, p + 1);
        int psep = ' '; /* ' ': goes with every body */
        if (k == 0 && (s[p + 1] == '-' || s[p + 1] == '.'))
            k = 1, psep = s[p + 1];
        if ((k > 0 || s[p + 1] == '(') && (e = nanp_body(s, n, p + 1 + k, &sep)) != 0 &&
            (psep == ' ' || psep == sep) && end_ok(s, n, e))
            return e;
    }
    e = nanp_body(s, n, p, &sep);
    if (e != 0 && end_ok(s, n, e))
        return e;
    return 0;
}

/* R9: IBAN in electronic form (one alphanumeric run) or print form (groups of
 * four joined by single blanks, the last group 1-4). Returns the end of the
 * valid IBAN, or 0; in that case '*atomic' gets the end of an IBAN-shaped
 * span of 15-34 characters that must be left whole (or stays 0). */
static size_t rec_iban(const u8 *s, size_t n, size_t p, size_t *atomic)
{
    if (p + 4 > n || !is_alpha(s[p + 1]) || !is_digit(s[p + 2]) ||
        !is_digit(s[p + 3]))
        return 0;
    /* 0 for a country without IBANs: never valid, but still IBAN-shaped,
     * so its inner groups are not scanned again (atomic, R9) */
    unsigned want = mask__iban_length((char)s[p], (char)s[p + 1]);
    char c[34];
    memcpy(c, s + p, 4);
    size_t q = p + 4, m = 4;
    if (q < n && is_alnum(s[q])) { /* electronic form */
        while (q < n && is_alnum(s[q])) {
            if (m == sizeof c)
                return 0; /* longer than any IBAN: not IBAN-shaped */
            c[m++] = (char)s[q++];
        }
        if (end_ok(s, n, q) && m == want && mask__iban_ok(c, m))
            return q;
        if (m >= 15)
            *atomic = q;
        return 0;
    }
    size_t at_want = 0; /* end of the group boundary where m == want */
    int too_long = 0;
    for (;;) {
        size_t k = blank_at(s, n, q), g = 0;
        if (k == 0)
            break;
        while (g < 5 && q + k + g < n && is_alnum(s[q + k + g]))
            g++;
        if (g == 0 || g > 4)
            break;
        if (m + g > sizeof c) {
            too_long = 1;
            break;
        }
        memcpy(c + m, s + q + k, g);
        m += g, q += k + g;
        if (m == want)
            at_want = q;
        if (g < 4)
            break;
    }
    if (at_want && end_ok(s, n, at_want) && mask__iban_ok(c, want))
        return at_want;
    if (!too_long && m >= 15)
        *atomic = q;
    return 0;
}

/* Does a domain-label character (alphanumeric or non-ASCII word) start at
 * 'q'? */
static int label_char_at(const u8 *s, size_t n, size_t q)
{
    if (s[q] < 0x80)
        return is_alnum(s[q]);
    uint32_t cp;
    return utf8_decode(s + q, n - q, &cp) != 0 && mask__cp_is_word(cp);
}

/* R6: 'p' starts the local part, 'at' is its '@'. Domain: two or more labels
 * (alphanumerics with inner hyphens) joined by single dots; the last label is
 * two or more letters only. Returns the end of the longest valid domain. */
static size_t rec_email(const u8 *s, size_t n, size_t at)
{
    size_t q = at + 1, best = 0, labels = 0;
    for (;;) {
        /* one label: runs of alnum joined by hyphens */
        size_t start = q;
        int letters_only = 1;
        size_t cps = 0;
        for (;;) {
            size_t run0 = q;
            while (q < n) {
                u8 b = s[q];
                if (b < 0x80) {
                    if (!is_alnum(b))
                        break;
                    if (is_digit(b))
                        letters_only = 0;
                    q++;
                } else {
                    uint32_t cp;
                    size_t k = utf8_decode(s + q, n - q, &cp);
                    if (k == 0 || !mask__cp_is_word(cp))
                        break;
                    q += k;
                }
                cps++;
            }
            if (q == run0)
                break;
            size_t h = q;
            while (h < n && s[h] == '-')
                h++;
            if (h == q || h >= n || !label_char_at(s, n, h))
                break; /* hyphens only inside a label */
            letters_only = 0;
            q = h;
        }
        if (q == start)
            return best;
        labels++;
        if (labels >= 2 && letters_only && cps >= 2 && end_ok(s, n, q))
            best = q;
        if (q + 1 < n && s[q] == '.')
            q++;
        else
            return best;
    }
}

/* ---- the scanner ---- */

typedef struct cursor {
    const u8 *s;
    size_t n;
    unsigned kinds;
    size_t pos;
    size_t next_digit; /* first digit at or after some p <= pos */
    size_t digit_end;  /* end of the digit run at next_digit */
    size_t blk_base;   /* 64-byte block whose digit bitmask is blk_mask */
    uint64_t blk_mask;
    size_t cb_base;    /* 64-byte block whose masks follow (SIZE_MAX: none) */
    uint64_t cb_digits; /* its digits */
    uint64_t cb_cand;  /* its candidate run starts (block_candidates) */
    size_t nc_from;    /* last next_candidate answer: no candidate run */
    size_t nc_d;       /* starts in [nc_from, nc_d); one starts at nc_d */
    size_t nc_e;       /* (or nc_d == n) and ends at nc_e */
    size_t last_end;   /* end of the last masked token (digit-run rule) */
    size_t at_pos;     /* next '@' at or after the scan position, or n */
    size_t at_lstart;  /* start of the local run ending at 'at_pos' */
} cursor;

static void cursor_init(cursor *c, const char *s, size_t n, unsigned kinds)
{
    c->s = (const u8 *)s;
    c->n = n;
    c->kinds = kinds & MASK_ALL;
    c->pos = 0;
    c->blk_base = SIZE_MAX;
    c->blk_mask = 0;
    c->next_digit = find_digit(c->s, n, 0, &c->digit_end, &c->blk_base, &c->blk_mask);
    c->cb_base = SIZE_MAX;
    c->cb_digits = 0;
    c->cb_cand = 0;
    c->nc_from = 1;
    c->nc_d = 0;
    c->nc_e = 0;
    c->last_end = SIZE_MAX;
    c->at_pos = 0;
    c->at_lstart = SIZE_MAX;
    if (!(c->kinds & MASK_EMAIL))
        c->at_pos = n;
}

static void find_at(cursor *c, size_t p);

static void cursor_start(cursor *c, const char *s, size_t n, unsigned kinds)
{
    cursor_init(c, s, n, kinds);
    if (c->kinds & MASK_EMAIL)
        find_at(c, 0);
}

/* Finds the next '@' at or after 'p' and the start of the maximal run of
 * local-part characters that ends at it. Every '@' is looked at once and the
 * runs are disjoint, so this is linear over the whole scan. */
static void find_at(cursor *c, size_t p)
{
    const u8 *a = p < c->n ? memchr(c->s + p, '@', c->n - p) : NULL;
    c->at_lstart = SIZE_MAX;
    if (a == NULL) {
        c->at_pos = c->n;
        return;
    }
    size_t at = (size_t)(a - c->s), q = at;
    while (q > 0) {
        size_t st;
        uint32_t cp = prev_char(c->s, q, &st);
        if (!cp_is_local(cp))
            break;
        q = st;
    }
    c->at_pos = at;
    if (q < at)
        c->at_lstart = q;
}

/* Moves the '@' cache on to the first '@' whose local run starts at or
 * after 'p'. Each '@' is looked at once over the whole scan. */
static inline void email_sync(cursor *c, size_t p)
{
    if (!(c->kinds & MASK_EMAIL))
        return;
    while (c->at_pos < c->n && (c->at_lstart == SIZE_MAX || c->at_lstart < p))
        find_at(c, c->at_pos + 1 > p ? c->at_pos + 1 : p);
}

/* R2 start rules other than "not after a word character" (the caller has
 * checked that one). */
static int start_ok(const cursor *c, size_t p)
{
    if (p == 0 || !is_digit(c->s[p]))
        return 1;
    size_t st;
    uint32_t prev = prev_char(c->s, p, &st);
    if (prev == '+')
        return 0;
    if (prev == '-' || prev == ' ' || prev == 0xA0 || prev == 0x202F)
        return !(st > 0 && is_digit(c->s[st - 1]) && st != c->last_end);
    if (prev == '.' || prev == ',')
        return !(st > 0 && is_digit(c->s[st - 1]));
    return 1;
}

#define TAKE(e, k)                                                             \
    do {                                                                       \
        size_t e_ = (e);                                                       \
        if (e_ > best) {                                                       \
            best = e_;                                                         \
            kind = (k);                                                        \
        }                                                                      \
    } while (0)

/* Tries every enabled kind at 'p'. Returns 1 with a token in '*out', or 0;
 * '*skip' gets the end of an atomic invalid IBAN to jump over (or 0).
 * 'run_end' is the end of the digit run at 'p' when the caller knows it
 * (then it has also checked digits_may_start there), else 0. */
static int try_at(cursor *c, size_t p, size_t run_end, mask_span *out, size_t *skip)
{
    const u8 *s = c->s;
    size_t n = c->n, best = 0;
    mask_kind kind = 0;
    unsigned kinds = c->kinds;
    u8 b = s[p];
    *skip = 0;
    email_sync(c, p);
    if (!start_ok(c, p))
        return 0;
    if (is_digit(b)) {
        size_t run; /* length of the first digit run, up to 13 */
        if (run_end != 0) {
            run = run_end - p < 13 ? run_end - p : 13;
        } else {
            run = 1;
            while (run < 13 && p + run < n && is_digit(s[p + run]))
                run++;
            if (!digits_may_start(s, n, p, run) &&
                !(kinds & MASK_EMAIL && p == c->at_lstart))
                return 0;
        }
        /* Each recognizer only where its first test can pass: a card's IIN
         * starts with 2-6; an SSN is ddd-; a personnummer's first run has
         * 6, 8, 10 or 12 digits; a phone starting with a digit starts with
         * 0; NANP is ddd[-. ] or 1 and a separator. An SSN- or
         * personnummer-shaped span is only ever that (id_shape_end). */
        int all = MASK_EXACT_SCAN;
        size_t id_end = (run == 3 || run == 6 || run == 8) ? id_shape_end(s, n, p, run) : 0;
        if (id_end != 0) {
            kinds &= MASK_SSN | MASK_EMAIL;
            *skip = id_end;
        }
        if ((kinds & MASK_CARD) && (all || (b >= '2' && b <= '6')))
            TAKE(rec_card(s, n, p), MASK_CARD);
        if (kinds & MASK_SSN) {
            if (all || run == 3)
                TAKE(rec_ssn_us(s, n, p), MASK_SSN);
            if (all || run == 6 || run == 8 || run == 10 || run == 12)
                TAKE(rec_pnr(s, n, p), MASK_SSN);
        }
        if (kinds & MASK_PHONE) {
            if (all || b == '0')
                TAKE(rec_phone(s, n, p), MASK_PHONE);
            if (all || run == 3 || (run == 1 && b == '1'))
                TAKE(rec_nanp(s, n, p), MASK_PHONE);
        }
    } else if (b == '+' || b == '(') {
        if (kinds & MASK_PHONE) {
            TAKE(rec_phone(s, n, p), MASK_PHONE);
            if (b == '(')
                TAKE(rec_nanp(s, n, p), MASK_PHONE);
        }
    } else if (is_alpha(b) && (kinds & MASK_IBAN)) {
        TAKE(rec_iban(s, n, p, skip), MASK_IBAN);
    }
    if (kinds & MASK_EMAIL) {
        if (p == c->at_lstart)
            TAKE(rec_email(s, n, c->at_pos), MASK_EMAIL);
    }
    if (best == 0)
        return 0;
    *skip = 0;
    out->kind = kind;
    out->start = p;
    out->end = best;
    return 1;
}

/* Is the character before 'p' a word character (R2)? */
static inline int prev_is_word(const u8 *s, size_t p)
{
    if (p == 0)
        return 0;
    if (s[p - 1] < 0x80)
        return cls[s[p - 1]] & K_WORD;
    size_t st;
    uint32_t cp = prev_char(s, p, &st);
    return cp < 0x110000 && mask__cp_is_word(cp);
}

/* Returns the start of the first candidate digit run (block_candidates)
 * that starts at or after 'p', or n; '*end' gets the end of that run. Each
 * block's masks are computed once: 'p' only grows during a scan. */
static inline size_t next_candidate(cursor *c, size_t p, size_t *end)
{
    const u8 *s = c->s;
    size_t n = c->n, from = p;
    if (p >= c->nc_from && p <= c->nc_d) {
        *end = c->nc_e;
        return c->nc_d;
    }
    c->nc_from = from;
    while (p < n) {
        size_t base = p & ~(size_t)63;
        if (base != c->cb_base) {
            c->cb_base = base;
            c->cb_digits = digit_mask64(s, n, base);
            c->cb_cand = block_candidates(s, n, base, c->cb_digits);
        }
        uint64_t m = c->cb_cand >> (p - base);
        if (m) {
            size_t d = p + (size_t)__builtin_ctzll(m);
            uint64_t rest = ~c->cb_digits >> (d - base);
            size_t e = rest ? d + (size_t)__builtin_ctzll(rest) : base + 64;
            if (rest == 0)
                while (e < n && is_digit(s[e]))
                    e++;
            c->nc_d = d, c->nc_e = *end = e;
            return d;
        }
        p = base + 64;
    }
    c->nc_d = c->nc_e = *end = n;
    return n;
}

/* Finds the next token at or after c->pos. Returns 1 and fills '*out', or 0
 * at the end of the text.
 *
 * Every token but an e-mail has an ASCII digit among its first three bytes
 * (cards, SSNs, personnummer and NANP start with one; phones start with a
 * digit, "+d" or "(d"; IBANs with "LLdd"). So the scanner jumps from digit
 * to digit (16 bytes at a time with SSE2) and tries only the few positions
 * just before each digit run, plus the one place an e-mail can start: the
 * start of the local-part run that ends at the next '@'. */
static int next_token(cursor *c, mask_span *out)
{
    const u8 *s = c->s;
    size_t n = c->n, p = c->pos, skip;
    /* keep the digit cursor in registers */
    size_t nd = c->next_digit, de = c->digit_end, bb = c->blk_base;
    uint64_t bm = c->blk_mask;
    while (p < n) {
        size_t es = SIZE_MAX; /* next e-mail start candidate */
        if (c->kinds & MASK_EMAIL) {
            email_sync(c, p);
            es = c->at_lstart;
        }
        size_t d, e, ws;
        /* Fast path: jump to the next candidate run. Every run before it
         * is one the steps below would pass over without a token, as long
         * as the next e-mail start lies beyond it, and as long as no run
         * right after the last token is exempt from the digit-run rule
         * (block_candidates ignores that exception). */
        size_t le = c->last_end;
        if (!MASK_EXACT_SCAN && !(le != SIZE_MAX && p <= le + 1 && le + 1 < n &&
              (s[le] == ' ' || s[le] == '-') && is_digit(s[le + 1]))) {
            d = next_candidate(c, p, &e);
            if (es > d) {
                if (d >= n)
                    break;
                ws = d >= p + 2 ? d - 2 : p;
                goto run;
            }
        }
        /* Exact step, one digit run at a time: an e-mail start comes
         * first, or the run follows the last token. */
        if (nd < p)
            nd = find_digit(s, n, p, &de, &bb, &bm);
        d = nd, e = de;
        /* earliest start a digit at 'd' allows: "LLdd" (IBAN) */
        ws = d >= n ? n : (d >= p + 2 ? d - 2 : p);
        if (es < ws) {
            /* the local run's start follows a non-local character, so it
             * is not after a word character */
            if (try_at(c, es, 0, out, &skip))
                goto found;
            p = skip ? skip : es + 1;
            continue;
        }
        if (ws >= n)
            break;
        /* nothing can start before d (no "LL", '+', '(' or e-mail start
         * there) and the digit run is no token start */
        if (!MASK_EXACT_SCAN && es > d && !run_matters(s, n, d, e, c->last_end)) {
            p = e;
            continue;
        }
    run:
        /* d - 2: "LLdd" (IBAN) or an e-mail start; d - 1: "+d", "(d" or an
         * e-mail start; d: a digit. An e-mail start at d - 1 or d other
         * than 'es' needs an '@' at d - 2 or d - 1, ending the run that
         * starts at 'es' ("a@5b@x.se": 'es' is the "a" at d - 2, the next
         * local run starts at d): so once past 'es', move the '@' cache on. */
        for (size_t x = ws; x <= d; x++) {
            if (x > es) {
                email_sync(c, x);
                es = c->at_lstart;
            }
            if (x != es && x != d) {
                if (x + 2 == d ? !((c->kinds & MASK_IBAN) && is_alpha(s[x]) &&
                                   is_alpha(s[x + 1]) && d + 1 < n && is_digit(s[d + 1]))
                               : (s[x] != '+' && s[x] != '('))
                    continue;
            }
            if (x == d && x != es && !digits_may_start(s, n, d, e - d))
                break;
            if (prev_is_word(s, x))
                continue;
            if (try_at(c, x, x == d && x != es ? e : 0, out, &skip))
                goto found;
            if (skip) {
                p = skip;
                goto next;
            }
        }
        /* no token starts inside the digit run */
        p = e;
    next:;
    }
    c->pos = n;
    return 0;
found:
    c->pos = out->end;
    c->last_end = out->end;
    c->next_digit = nd, c->digit_end = de, c->blk_base = bb, c->blk_mask = bm;
    return 1;
}

size_t mask_scan(const char *s, size_t n, unsigned kinds, mask_span *spans,
                 size_t max)
{
    cursor c;
    mask_span sp;
    size_t count = 0;
    cursor_start(&c, s, n, kinds);
    while (next_token(&c, &sp)) {
        if (count < max)
            spans[count] = sp;
        count++;
    }
    return count;
}

/* Bounded writer: counts every byte, stores those that fit. */
typedef struct emit {
    char *o;
    size_t w;
    size_t cap;
} emit;

static inline void emit_n(emit *e, const void *p, size_t k)
{
    if (e->w < e->cap) {
        size_t room = e->cap - e->w;
        memcpy(e->o + e->w, p, k < room ? k : room);
    }
    e->w += k;
}

static inline void emit_c(emit *e, char ch)
{
    if (e->w < e->cap)
        e->o[e->w] = ch;
    e->w++;
}

static void emit_stars(emit *e, size_t k)
{
    if (e->w < e->cap) {
        size_t room = e->cap - e->w;
        memset(e->o + e->w, '*', k < room ? k : room);
    }
    e->w += k;
}

static void emit_token(emit *e, const u8 *s, const mask_span *sp)
{
    if (sp->kind == MASK_EMAIL) {
        const u8 *at = memchr(s + sp->start, '@', sp->end - sp->start);
        size_t q = sp->start, stop = (size_t)(at - s);
        uint32_t cp;
        size_t k = utf8_decode(s + q, stop - q, &cp);
        if (k == 0)
            k = 1; /* cannot happen: the local part is valid UTF-8 */
        emit_n(e, s + q, k);
        q += k;
        while (q < stop) {
            k = utf8_decode(s + q, stop - q, &cp);
            q += k ? k : 1;
            emit_c(e, '*');
        }
        emit_n(e, at, sp->end - stop);
        return;
    }
    /* R5: '*' x (N - 4), then the last four letters/digits. Number tokens
     * hold only ASCII and blanks. */
    size_t count = 0; /* non-blank characters: the ASCII bytes but ' ' */
    for (size_t q = sp->start; q < sp->end; q++)
        count += s[q] < 0x80 && s[q] != ' ';
    char last[4];
    unsigned nl = 0;
    for (size_t q = sp->end; q > sp->start && nl < 4;) {
        q--;
        if (is_alnum(s[q])) /* blank bytes are never alphanumeric */
            last[3 - nl++] = (char)s[q];
    }
    emit_stars(e, count - nl);
    emit_n(e, last + 4 - nl, nl);
}

size_t mask_token(const char *s, const mask_span *span, char *out)
{
    emit e = {out, 0, SIZE_MAX};
    emit_token(&e, (const u8 *)s, span);
    return e.w;
}

size_t mask_apply(const char *s, size_t n, unsigned kinds, char *out, size_t cap)
{
    cursor c;
    mask_span sp;
    emit e = {out, 0, cap};
    size_t done = 0;
    cursor_start(&c, s, n, kinds);
    while (next_token(&c, &sp)) {
        emit_n(&e, s + done, sp.start - done);
        emit_token(&e, (const u8 *)s, &sp);
        done = sp.end;
    }
    emit_n(&e, s + done, n - done);
    return e.w;
}

static const char *const kind_names[] = {"card", "iban", "ssn", "email", "phone"};

const char *mask_kind_name(mask_kind kind)
{
    for (unsigned i = 0; i < 5; i++)
        if ((unsigned)kind == 1u << i)
            return kind_names[i];
    return "?";
}

unsigned mask_kind_from_name(const char *name, size_t n)
{
    for (unsigned i = 0; i < 5; i++)
        if (strlen(kind_names[i]) == n && memcmp(kind_names[i], name, n) == 0)
            return 1u << i;
    return 0;
}
