/*
 * Differential test for the scanner's fast paths (docs/internals/masking.md,
 * "Fast path"): src/mask/mask.c is compiled here a second time with
 * MASK_EXACT_SCAN = 1, which sends every digit run through the one-run step
 * and runs every recognizer at every start. On generated text dense in
 * tokens, near-tokens and their borders, the library's mask_scan and
 * mask_apply must give exactly what that exact scan gives, for every
 * combination of kinds.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#define MASK_EXACT_SCAN 1
#define mask_scan exact_mask_scan
#define mask_apply exact_mask_apply
#define mask_token exact_mask_token
#define mask_kind_name exact_mask_kind_name
#define mask_kind_from_name exact_mask_kind_from_name
#include "../../../src/mask/mask.c"
#undef mask_scan
#undef mask_apply
#undef mask_token
#undef mask_kind_name
#undef mask_kind_from_name

/* The library's (fast) versions; mask.h was read above under other names. */
size_t mask_scan(const char *s, size_t n, unsigned kinds, mask_span *spans, size_t max);
size_t mask_apply(const char *s, size_t n, unsigned kinds, char *out, size_t cap);

enum { MAXN = 4096 };

static uint64_t rng = 0x2545F4914F6CDD1Dull;

static uint32_t rnd(uint32_t n)
{
    rng = rng * 6364136223846793005ull + 1442695040888963407ull;
    return (uint32_t)((rng >> 33) % n);
}

typedef struct text {
    char p[MAXN];
    size_t n;
} text;

static void put(text *t, const char *s, size_t k)
{
    if (t->n + k <= MAXN) {
        memcpy(t->p + t->n, s, k);
        t->n += k;
    }
}

static void digits(char *d, size_t k)
{
    for (size_t i = 0; i < k; i++)
        d[i] = (char)('0' + rnd(10));
}

/* Sets the last of the 'n' digits at 'd' so that Luhn passes. */
static void luhn_fix(char *d, size_t n)
{
    for (char c = '0'; c <= '9'; c++) {
        d[n - 1] = c;
        if (mask__luhn_ok(d, n))
            return;
    }
}

/* Appends 'k' characters of 'src' in groups of 'g' joined by 'sep' (g = 0:
 * no groups). */
static void grouped(text *t, const char *src, size_t k, size_t g, const char *sep)
{
    for (size_t i = 0; i < k; i++) {
        if (g && i && i % g == 0)
            put(t, sep, strlen(sep));
        put(t, src + i, 1);
    }
}

static const char *const seps[] = {" ", "-", "\xc2\xa0", "\xe2\x80\xaf", ".", "+", ""};

/* A token or a near miss: valid and invalid cards, IBANs, personnummer,
 * SSNs, phones and e-mails in their various shapes. */
static void gen_token(text *t)
{
    char d[40], out[48];
    int n;
    switch (rnd(7)) {
    case 0: { /* card, 13-19 digits, maybe off by one in Luhn */
        size_t k = 13 + rnd(7);
        digits(d, k);
        d[0] = (char)('2' + rnd(5));
        luhn_fix(d, k);
        if (rnd(4) == 0)
            d[k - 1] = (char)('0' + rnd(10));
        grouped(t, d, k, rnd(2) ? 4 : rnd(6), seps[rnd(4)]);
        break;
    }
    case 1: { /* IBAN, electronic or print form */
        unsigned c = rnd(4); /* XQ: a country without IBANs */
        memcpy(d, c == 0 ? "gb" : c == 1 ? "XQ" : "SE", 2);
        size_t k = d[0] == 'S' ? 24 : 22;
        digits(d + 2, k - 2);
        if (d[0] == 'g')
            memcpy(d + 4, "WEST", 4);
        for (int x = 0; x < 100 && rnd(4) != 0; x++) {
            d[2] = (char)('0' + x / 10), d[3] = (char)('0' + x % 10);
            if (mask__iban_ok(d, k))
                break;
        }
        grouped(t, d, k, rnd(2) ? 4 : 0, " ");
        break;
    }
    case 2: /* personnummer */
        n = snprintf(out, sizeof out, "%s%02u%02u%02u%s%04u", rnd(2) ? "19" : "",
                     rnd(100), 1 + rnd(12), 1 + rnd(31) + (rnd(4) ? 0 : 60),
                     seps[rnd(7)], rnd(10000));
        put(t, out, (size_t)n);
        break;
    case 3: /* US SSN */
        n = snprintf(out, sizeof out, "%03u-%02u-%04u", rnd(1000), rnd(100), rnd(10000));
        put(t, out, (size_t)n);
        break;
    case 4: { /* phones: +CC, 00CC, trunk, NANP */
        static const char *const fmt[] = {"+46 70 %03u %02u %02u", "0046-70-%03u%02u%02u",
                                          "070-%03u %02u %02u", "(08) %03u %02u %02u",
                                          "+1 (212) %03u-%02u%02u", "1-800-%03u-%02u%02u",
                                          "212.%03u.%02u%02u", "%03u %02u %02u",
                                          "(212)%03u-%02u%02u", "1(212)%03u %02u%02u"};
        n = snprintf(out, sizeof out, fmt[rnd(10)], rnd(1000), rnd(100), rnd(100));
        put(t, out, (size_t)n);
        break;
    }
    case 5: { /* e-mail, local parts with digits and dots */
        static const char *const loc[] = {"anna", "0701234567", "e.j-x",
                                          "kund123", "a", "1.2"};
        static const char *const dom[] = {"@telia.se", "@sms.telia.se", "@x.s",
                                          "@b.se.4111", "@1.se", "@"};
        const char *lp = loc[rnd(6)], *dm = dom[rnd(6)];
        put(t, lp, strlen(lp));
        put(t, dm, strlen(dm));
        break;
    }
    default: { /* a bare digit run */
        size_t k = 1 + rnd(rnd(2) ? 20 : 6);
        digits(d, k);
        put(t, d, k);
    }
    }
}

static const char *const glue[] = {
    " ", " ", " ", "-", ".", ",", "+", "(", ")", "/", ":", "@", "_", "*", "\n",
    "\xc2\xa0", "\xe2\x80\xaf", "SE", "ab", "x", "kr", "0", "1", "07", "00",
    "\xc3\xa9", "\xf0\x9f\x98\x80", "\x80", "\xff", "\xcc\x81", " Hej, ", "mailto:",
};

static void gen_text(text *t, size_t parts)
{
    t->n = 0;
    for (size_t i = 0; i < parts; i++) {
        if (rnd(3) == 0) {
            gen_token(t);
        } else {
            const char *g = glue[rnd(sizeof glue / sizeof *glue)];
            put(t, g, strlen(g));
        }
    }
}

/* Compares the fast and the exact scan of 't' with 'kinds'. */
static void compare(const text *t, unsigned kinds)
{
    static mask_span a[MAXN + 1], b[MAXN + 1];
    static char oa[MAXN], ob[MAXN];
    size_t ca = mask_scan(t->p, t->n, kinds, a, MAXN + 1);
    size_t cb = exact_mask_scan(t->p, t->n, kinds, b, MAXN + 1);
    int same = ca == cb;
    for (size_t i = 0; same && i < ca; i++)
        same = a[i].kind == b[i].kind && a[i].start == b[i].start && a[i].end == b[i].end;
    size_t ma = mask_apply(t->p, t->n, kinds, oa, sizeof oa);
    size_t mb = exact_mask_apply(t->p, t->n, kinds, ob, sizeof ob);
    same = same && ma == mb && memcmp(oa, ob, ma) == 0;
    if (!same)
        print_error("kinds %u, input [%.*s]\n", kinds, (int)t->n, t->p);
    assert_true(same);
}

static void test_fast_equals_exact(void **state)
{
    (void)state;
    static text t;
    for (int i = 0; i < 20000; i++) {
        gen_text(&t, 1 + rnd(40));
        compare(&t, i % 3 ? MASK_ALL : rnd(32));
        if (i % 50 == 0)
            for (unsigned k = 0; k < 32; k++)
                compare(&t, k);
    }
}

/* Long text: the fast path works on 64-byte blocks, so cross many block
 * borders, with runs that straddle them. */
static void test_fast_equals_exact_long(void **state)
{
    (void)state;
    static text t;
    for (int i = 0; i < 200; i++) {
        gen_text(&t, 400);
        compare(&t, MASK_ALL);
        compare(&t, MASK_ALL & ~MASK_EMAIL);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fast_equals_exact),
        cmocka_unit_test(test_fast_equals_exact_long),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
