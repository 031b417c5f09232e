#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "sms/sms_text.h"
#include "util/utf8.h"

/* ---- helpers ------------------------------------------------------------ */

/* A message under construction (the longest test message is 3000 bytes). */
static char msg[8192];
static size_t msg_n;

static void m_reset(void)
{
    msg_n = 0;
}

/* Appends 'times' copies of the UTF-8 string 's'. */
static void m_rep(const char *s, size_t times)
{
    size_t k = strlen(s);
    for (size_t i = 0; i < times; i++) {
        assert_true(msg_n + k <= sizeof msg);
        memcpy(msg + msg_n, s, k);
        msg_n += k;
    }
}

static sms_segment segs[32];

/* Splits 's' and checks what every split must give: as many segments as the
 * analysis counts, each within its capacity, each decoding on its own, and
 * together the original text. */
static void check_split(int line, const char *s, size_t n, const sms_info *a)
{
    size_t count = 0;
    sms_info b;
    int r = sms_text_split(s, n, segs, 32, &count, &b);
    if (r != 0 || count != a->segments || b.units != a->units) {
        print_error("line %d: split r=%d count=%zu\n", line, r, count);
        fail();
    }
    size_t cap =
        a->encoding == SMS_GSM7 ? (count == 1 ? 160 : 153) : (count == 1 ? 70 : 67);
    static char text[16384];
    size_t tn = 0, units = 0;
    for (size_t i = 0; i < count; i++) {
        assert_true(segs[i].units <= cap);
        units += segs[i].units;
        size_t k;
        if (a->encoding == SMS_GSM7) {
            assert_int_equal(segs[i].len, segs[i].units);
            assert_int_equal(sms_gsm7_decode(segs[i].data, segs[i].len, text + tn,
                                             sizeof text - tn, &k),
                             0);
        } else {
            assert_int_equal(segs[i].len, 2 * segs[i].units);
            assert_int_equal(sms_ucs2_decode(segs[i].data, segs[i].len, text + tn,
                                             sizeof text - tn, &k),
                             0);
        }
        tn += k;
    }
    assert_int_equal(units, a->units);
    if (tn != n || memcmp(text, s, n) != 0) {
        print_error("line %d: split does not decode to the original\n", line);
        fail();
    }
}

/* Asserts the analysis of 's' ('n' bytes) and the split's consistency. */
static void check_at(int line, const char *s, size_t n, enum sms_encoding enc,
                     size_t segments, size_t units)
{
    sms_info a;
    int r = sms_text_analyse(s, n, &a);
    if (r != 0 || a.encoding != enc || a.segments != segments || a.units != units) {
        print_error("line %d: want %s %zu %zu, got r=%d %s %zu %zu\n", line,
                    enc == SMS_GSM7 ? "gsm7" : "ucs2", segments, units, r,
                    a.encoding == SMS_GSM7 ? "gsm7" : "ucs2", a.segments, a.units);
        fail();
    }
    check_split(line, s, n, &a);
}

#define CHECK(s, enc, segments, units)                                                   \
    check_at(__LINE__, (s), strlen(s), enc, segments, units)
#define CHECK_MSG(enc, segments, units)                                                  \
    check_at(__LINE__, msg, msg_n, enc, segments, units)

/* ---- alphabet and traps -------------------------------------------------- */

static void test_default_alphabet_is_gsm7(void **state)
{
    /* RULES.md's default alphabet, all 127 characters (128 less ESC). */
    const char *all = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ"
                      " !\"#¤%&'()*+,-./0123456789:;<=>?"
                      "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿"
                      "abcdefghijklmnopqrstuvwxyzäöñüà";
    assert_int_equal(utf8_count(all, strlen(all)), 127);
    CHECK(all, SMS_GSM7, 1, 127);
    /* Each one alone is one septet. */
    size_t i = 0, n = strlen(all);
    while (i < n) {
        uint32_t cp;
        size_t k = utf8_decode((const unsigned char *)all + i, n - i, &cp);
        check_at(__LINE__, all + i, k, SMS_GSM7, 1, 1);
        i += k;
    }
}

static void test_extension_table_counts_two(void **state)
{
    const char *ext[] = {"\f", "^", "{", "}", "\\", "[", "~", "]", "|", "€"};
    for (size_t i = 0; i < sizeof ext / sizeof ext[0]; i++)
        CHECK(ext[i], SMS_GSM7, 1, 2);
    CHECK("\f^{}\\[~]|€", SMS_GSM7, 1, 20);
    CHECK("Pris: 100 €", SMS_GSM7, 1, 12);
}

static void test_traps_are_ucs2(void **state)
{
    const char *traps[] = {
        "ç", /* only capital Ç is GSM */
        "È",
        "À",
        "Á",
        "á",
        "í",
        "ó",
        "ú",
        "`", /* 0x60 is ¿ */
        "’",
        "‘",
        "“",
        "”",
        "–",
        "—",
        "…",
        "\xc2\xa0", /* no-break space */
        "°",
        "µ",
        "™",
        "Α",            /* Greek capital alpha U+0391 */
        "\xe2\x84\xa6", /* ohm sign U+2126 */
        "✅",
        "❤",
        "☺",  /* BMP emoji: 1 unit each */
        "\t", /* tab is not GSM */
    };
    for (size_t i = 0; i < sizeof traps / sizeof traps[0]; i++)
        CHECK(traps[i], SMS_UCS2, 1, 1);
    /* The GSM look-alikes next to them. */
    CHECK("Ç", SMS_GSM7, 1, 1);
    CHECK("\xce\xa9", SMS_GSM7, 1, 1); /* Greek Ω U+03A9 */
    CHECK("A", SMS_GSM7, 1, 1);
    CHECK("¿", SMS_GSM7, 1, 1);
    CHECK("\r", SMS_GSM7, 1, 1); /* CR is GSM */
    CHECK("\n", SMS_GSM7, 1, 1);
    /* Decomposed e + U+0301: two code points, both ucs2 units. */
    CHECK("e\xcc\x81", SMS_UCS2, 1, 2);
    CHECK("\xc3\xa9", SMS_GSM7, 1, 1); /* precomposed é is GSM */
    /* One trap anywhere makes the whole message ucs2. */
    CHECK("Hej! Vi ses på fredag’", SMS_UCS2, 1, 22);
    CHECK("’Hej! Vi ses på fredag", SMS_UCS2, 1, 22);
    CHECK("Garçon", SMS_UCS2, 1, 6);
}

static void test_ucs2_units(void **state)
{
    CHECK("😀", SMS_UCS2, 1, 2);
    CHECK("𝄞", SMS_UCS2, 1, 2);
    CHECK("𠜎", SMS_UCS2, 1, 2);
    CHECK("ç😀", SMS_UCS2, 1, 3);
    /* € and the other extension characters count 1 in a ucs2 message. */
    CHECK("€ç", SMS_UCS2, 1, 2);
    CHECK("\f^{}\\[~]|€ç", SMS_UCS2, 1, 11);
    /* Grapheme clusters count per code point. */
    CHECK("🇸🇪", SMS_UCS2, 1, 4);
    CHECK("👍🏽", SMS_UCS2, 1, 4);
    CHECK("👨‍👩‍👧", SMS_UCS2, 1, 8);
}

static void test_empty_message(void **state)
{
    CHECK("", SMS_GSM7, 1, 0);
    sms_info a;
    assert_int_equal(sms_text_analyse(NULL, 0, &a), 0);
    assert_int_equal(a.encoding, SMS_GSM7);
    assert_int_equal(a.segments, 1);
    assert_int_equal(a.units, 0);
    size_t count;
    assert_int_equal(sms_text_split("", 0, segs, 1, &count, NULL), 0);
    assert_int_equal(count, 1);
    assert_int_equal(segs[0].len, 0);
    assert_int_equal(segs[0].units, 0);
}

/* ---- segment boundaries -------------------------------------------------- */

static void test_gsm7_boundaries(void **state)
{
    static const struct {
        size_t n, segments;
    } cases[] = {{1, 1},   {153, 1}, {154, 1}, {160, 1}, {161, 2},
                 {305, 2}, {306, 2}, {307, 3}, {459, 3}, {460, 4}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        m_reset();
        m_rep("a", cases[i].n);
        check_at(__LINE__, msg, msg_n, SMS_GSM7, cases[i].segments, cases[i].n);
    }
}

static void test_ucs2_boundaries(void **state)
{
    static const struct {
        size_t n, segments;
    } cases[] = {{1, 1},   {67, 1},  {68, 1},  {70, 1}, {71, 2},
                 {134, 2}, {135, 3}, {201, 3}, {202, 4}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        m_reset();
        m_rep("ç", 1);
        m_rep("a", cases[i].n - 1);
        check_at(__LINE__, msg, msg_n, SMS_UCS2, cases[i].segments, cases[i].n);
    }
}

static void test_esc_pair_never_straddles(void **state)
{
    /* RULES.md: a×152 € a×152 = 306 septets = 3 parts, not 2. */
    m_reset();
    m_rep("a", 152);
    m_rep("€", 1);
    m_rep("a", 152);
    CHECK_MSG(SMS_GSM7, 3, 306);
    size_t count;
    assert_int_equal(sms_text_split(msg, msg_n, segs, 32, &count, NULL), 0);
    assert_int_equal(count, 3);
    assert_int_equal(segs[0].units, 152); /* as Kannel sends it: 152+153+1 */
    assert_int_equal(segs[1].units, 153);
    assert_int_equal(segs[2].units, 1);
    assert_int_equal(segs[1].data[0], 0x1B);
    assert_int_equal(segs[1].data[1], 0x65);

    /* € straddling 153 in a 2-part message. */
    m_reset();
    m_rep("a", 152);
    m_rep("€", 1);
    m_rep("a", 1);
    CHECK_MSG(SMS_GSM7, 1, 155);
    m_reset();
    m_rep("a", 152);
    m_rep("€", 1);
    m_rep("a", 7);
    CHECK_MSG(SMS_GSM7, 2, 161);
    assert_int_equal(sms_text_split(msg, msg_n, segs, 32, &count, NULL), 0);
    assert_int_equal(segs[0].units, 152);
    assert_int_equal(segs[1].units, 9);

    /* The single-message limit is 160 septets, ESC pair included. */
    m_reset();
    m_rep("a", 158);
    m_rep("€", 1);
    CHECK_MSG(SMS_GSM7, 1, 160);
    m_reset();
    m_rep("a", 159);
    m_rep("€", 1);
    CHECK_MSG(SMS_GSM7, 2, 161);

    /* Plain ⌈n/153⌉ would say 2 here too; greedy fill says 3. */
    m_reset();
    m_rep("€", 153);
    CHECK_MSG(SMS_GSM7, 3, 306);
}

static void test_surrogate_pair_never_straddles(void **state)
{
    /* RULES.md: a×66 😀 a×66 = 134 units = 3 parts. */
    m_reset();
    m_rep("a", 66);
    m_rep("😀", 1);
    m_rep("a", 66);
    CHECK_MSG(SMS_UCS2, 3, 134);
    size_t count;
    assert_int_equal(sms_text_split(msg, msg_n, segs, 32, &count, NULL), 0);
    assert_int_equal(count, 3);
    assert_int_equal(segs[0].units, 66);
    assert_int_equal(segs[1].units, 67);
    assert_int_equal(segs[2].units, 1);
    static const unsigned char pair[] = {0xD8, 0x3D, 0xDE, 0x00};
    assert_memory_equal(segs[1].data, pair, 4);

    m_reset();
    m_rep("a", 66);
    m_rep("😀", 1);
    CHECK_MSG(SMS_UCS2, 1, 68);
    m_reset();
    m_rep("a", 68);
    m_rep("😀", 1);
    CHECK_MSG(SMS_UCS2, 1, 70);
    m_reset();
    m_rep("a", 69);
    m_rep("😀", 1);
    CHECK_MSG(SMS_UCS2, 2, 71);
}

static void test_grapheme_cluster_may_split(void **state)
{
    /* RULES.md: x×62 👨‍👩‍👧 x×64 = ucs2 2 134, split at a ZWJ. */
    m_reset();
    m_rep("x", 62);
    m_rep("👨‍👩‍👧", 1);
    m_rep("x", 64);
    CHECK_MSG(SMS_UCS2, 2, 134);
    size_t count;
    assert_int_equal(sms_text_split(msg, msg_n, segs, 32, &count, NULL), 0);
    assert_int_equal(segs[0].units, 67); /* ... 👨 ZWJ 👩 */
    assert_int_equal(segs[1].units, 67); /* ZWJ 👧 x×64 */
    static const unsigned char zwj_girl[] = {0x20, 0x0D, 0xD8, 0x3D, 0xDC, 0x67};
    assert_memory_equal(segs[1].data, zwj_girl, sizeof zwj_girl);
}

static void test_desktop_limit_example(void **state)
{
    /* RULES.md: €×1000 = gsm7 14 2000 (76 € per 153-septet part). */
    m_reset();
    m_rep("€", 1000);
    CHECK_MSG(SMS_GSM7, 14, 2000);
    sms_info a;
    assert_int_equal(sms_text_analyse(msg, msg_n, &a), 0);
    assert_int_equal(a.chars, 1000);
    size_t count;
    assert_int_equal(sms_text_split(msg, msg_n, segs, 13, &count, NULL), -ENOSPC);
    assert_int_equal(count, 14);
    assert_int_equal(sms_text_split(msg, msg_n, segs, 14, &count, NULL), 0);
    for (size_t i = 0; i < 13; i++)
        assert_int_equal(segs[i].units, 152);
    assert_int_equal(segs[13].units, 2000 - 13 * 152);
}

static void test_invalid_utf8(void **state)
{
    sms_info a;
    assert_int_equal(sms_text_analyse("ab\xff", 3, &a), -EILSEQ);
    assert_int_equal(a.error_offset, 2);
    assert_int_equal(sms_text_analyse("\xe2\x82", 2, &a), -EILSEQ); /* truncated € */
    assert_int_equal(a.error_offset, 0);
    assert_int_equal(sms_text_analyse("x\xed\xa0\x80", 4, &a), -EILSEQ); /* surrogate */
    assert_int_equal(a.error_offset, 1);
    assert_int_equal(sms_text_analyse("\xc0\xaf", 2, &a), -EILSEQ); /* overlong */
    size_t count = 99;
    assert_int_equal(sms_text_split("ok\x80", 3, segs, 32, &count, &a), -EILSEQ);
    assert_int_equal(count, 0);
    assert_int_equal(a.error_offset, 2);
}

/* ---- payloads ------------------------------------------------------------ */

static void test_split_payloads(void **state)
{
    size_t count;
    assert_int_equal(sms_text_split("Hej €@$", 9, segs, 32, &count, NULL), 0);
    static const unsigned char gsm[] = {0x48, 0x65, 0x6A, 0x20, 0x1B, 0x65, 0x00, 0x02};
    assert_int_equal(segs[0].len, sizeof gsm);
    assert_memory_equal(segs[0].data, gsm, sizeof gsm);

    assert_int_equal(sms_text_split("ç😀€", 9, segs, 32, &count, NULL), 0);
    static const unsigned char ucs[] = {0x00, 0xE7, 0xD8, 0x3D, 0xDE, 0x00, 0x20, 0xAC};
    assert_int_equal(segs[0].len, sizeof ucs);
    assert_memory_equal(segs[0].data, ucs, sizeof ucs);
}

/* Every code point that analyses as gsm7 encodes to septets that decode back
 * to it, and there are exactly 127 + 10 of them. */
static void test_tables_are_consistent(void **state)
{
    size_t gsm = 0;
    for (uint32_t cp = 0; cp <= 0x10FFFF; cp++) {
        char u[4];
        size_t k = utf8_encode(cp, u);
        if (k == 0)
            continue; /* surrogate */
        sms_info a;
        assert_int_equal(sms_text_analyse(u, k, &a), 0);
        if (a.encoding != SMS_GSM7) {
            assert_int_equal(a.units, cp >= 0x10000 ? 2 : 1);
            continue;
        }
        gsm++;
        check_split(__LINE__, u, k, &a);
    }
    assert_int_equal(gsm, 137);
    /* Every septet but ESC decodes to a character that encodes back to it. */
    for (unsigned s = 0; s < 0x80; s++) {
        if (s == 0x1B)
            continue;
        unsigned char in = (unsigned char)s;
        char u[8];
        size_t k, count;
        assert_int_equal(sms_gsm7_decode(&in, 1, u, sizeof u, &k), 0);
        assert_int_equal(sms_text_split(u, k, segs, 1, &count, NULL), 0);
        assert_int_equal(segs[0].len, 1);
        assert_int_equal(segs[0].data[0], s);
    }
}

/* ---- decoding ------------------------------------------------------------ */

static void expect_gsm7(int line, const unsigned char *in, size_t n, const char *want)
{
    char out[64];
    size_t k;
    assert_int_equal(sms_gsm7_decode(in, n, out, sizeof out, &k), 0);
    if (k != strlen(want) || memcmp(out, want, k) != 0) {
        print_error("line %d: got '%.*s'\n", line, (int)k, out);
        fail();
    }
}

static void expect_ucs2(int line, const unsigned char *in, size_t n, const char *want)
{
    char out[64];
    size_t k;
    assert_int_equal(sms_ucs2_decode(in, n, out, sizeof out, &k), 0);
    if (k != strlen(want) || memcmp(out, want, k) != 0) {
        print_error("line %d: got '%.*s'\n", line, (int)k, out);
        fail();
    }
}

#define GSM7(want, ...)                                                                  \
    do {                                                                                 \
        static const unsigned char in_[] = {__VA_ARGS__};                                \
        expect_gsm7(__LINE__, in_, sizeof in_, want);                                    \
    } while (0)
#define UCS2(want, ...)                                                                  \
    do {                                                                                 \
        static const unsigned char in_[] = {__VA_ARGS__};                                \
        expect_ucs2(__LINE__, in_, sizeof in_, want);                                    \
    } while (0)

static void test_gsm7_decode(void **state)
{
    GSM7("Hej åäö", 0x48, 0x65, 0x6A, 0x20, 0x0F, 0x7B, 0x7C);
    GSM7("@£$¥", 0x00, 0x01, 0x02, 0x03);
    GSM7("€[]", 0x1B, 0x65, 0x1B, 0x3C, 0x1B, 0x3E);
    GSM7("\f", 0x1B, 0x0A);
    GSM7("ΩΔ", 0x15, 0x10);
    /* Bad input: documented replacements, never an error. */
    GSM7("a\xef\xbf\xbd"
         "b",
         0x61, 0x80, 0x62);           /* above 0x7F: U+FFFD */
    GSM7("a ", 0x61, 0x1B);           /* ESC at the end: space */
    GSM7(" a", 0x1B, 0x1B, 0x61);     /* ESC ESC: space */
    GSM7("A", 0x1B, 0x41);            /* unknown ext: default char */
    GSM7("\xef\xbf\xbd", 0x1B, 0xFF); /* ESC + high byte: U+FFFD */
    char out[4];
    size_t k;
    static const unsigned char euro[] = {0x1B, 0x65};
    assert_int_equal(sms_gsm7_decode(euro, 2, out, 2, &k), -ENOSPC);
    assert_int_equal(sms_gsm7_decode(euro, 2, out, 3, &k), 0);
    assert_int_equal(k, 3);
    assert_int_equal(sms_gsm7_decode(NULL, 0, out, 0, &k), 0);
    assert_int_equal(k, 0);
}

static void test_ucs2_decode(void **state)
{
    UCS2("Hej €", 0x00, 0x48, 0x00, 0x65, 0x00, 0x6A, 0x00, 0x20, 0x20, 0xAC);
    UCS2("😀", 0xD8, 0x3D, 0xDE, 0x00);
    UCS2("\xef\xbf\xbd"
         "A",
         0xD8, 0x3D, 0x00, 0x41);                             /* lone high surrogate */
    UCS2("\xef\xbf\xbd", 0xDE, 0x00);                         /* lone low surrogate */
    UCS2("\xef\xbf\xbd", 0xD8, 0x3D);                         /* high at the end */
    UCS2("\xef\xbf\xbd\xef\xbf\xbd", 0xDE, 0x00, 0xD8, 0x3D); /* reversed pair */
    UCS2("A\xef\xbf\xbd", 0x00, 0x41, 0x42);                  /* odd last byte */
    char out[8];
    size_t k;
    static const unsigned char pair[] = {0xD8, 0x3D, 0xDE, 0x00};
    assert_int_equal(sms_ucs2_decode(pair, 4, out, 3, &k), -ENOSPC);
    assert_true(SMS_UCS2_DECODE_MAX(1) >= 3);
    assert_true(SMS_UCS2_DECODE_MAX(4) >= 4);
}

/* ---- packing and UDH ----------------------------------------------------- */

static void test_gsm7_pack(void **state)
{
    static const unsigned char hello[] = {'h', 'e', 'l', 'l', 'o',
                                          'h', 'e', 'l', 'l', 'o'};
    static const unsigned char want0[] = {0xE8, 0x32, 0x9B, 0xFD, 0x46,
                                          0x97, 0xD9, 0xEC, 0x37};
    static const unsigned char want1[] = {0xD0, 0x65, 0x36, 0xFB, 0x8D,
                                          0x2E, 0xB3, 0xD9, 0x6F};
    unsigned char out[16], back[16];
    assert_int_equal(sms_gsm7_packed_size(10, 0), 9);
    assert_int_equal(sms_gsm7_pack(hello, 10, 0, out), 9);
    assert_memory_equal(out, want0, 9);
    assert_int_equal(sms_gsm7_unpack(out, 9, 0, 10, back), 0);
    assert_memory_equal(back, hello, 10);
    /* After a 6-byte UDH: one fill bit. */
    assert_int_equal(sms_gsm7_pack(hello, 10, 1, out), 9);
    assert_memory_equal(out, want1, 9);
    assert_int_equal(sms_gsm7_unpack(out, 9, 1, 10, back), 0);
    assert_memory_equal(back, hello, 10);
    /* "hello": the classic E8 32 9B FD 06. */
    static const unsigned char want5[] = {0xE8, 0x32, 0x9B, 0xFD, 0x06};
    assert_int_equal(sms_gsm7_pack(hello, 5, 0, out), 5);
    assert_memory_equal(out, want5, 5);

    assert_int_equal(sms_gsm7_fill_bits(0), 0);
    assert_int_equal(sms_gsm7_fill_bits(6), 1);
    assert_int_equal(sms_gsm7_fill_bits(7), 0);
    assert_int_equal(sms_gsm7_fill_bits(1), 6);
    /* A full concatenated part: 6-byte UDH + 153 septets = 140 bytes. */
    assert_int_equal(6 + sms_gsm7_packed_size(153, sms_gsm7_fill_bits(6)), 140);
    assert_int_equal(sms_gsm7_packed_size(160, 0), 140);
    assert_int_equal(sms_gsm7_packed_size(0, 1), 0);

    assert_int_equal(sms_gsm7_pack(hello, 10, 7, out), 0);
    assert_int_equal(sms_gsm7_unpack(out, 8, 0, 10, back), -EINVAL);
    assert_int_equal(sms_gsm7_unpack(out, 9, 7, 1, back), -EINVAL);

    /* Round trip of every septet value at every fill. */
    unsigned char all[128], packed[128], un[128];
    for (unsigned i = 0; i < 128; i++)
        all[i] = (unsigned char)i;
    for (unsigned f = 0; f <= 6; f++) {
        size_t k = sms_gsm7_pack(all, 128, f, packed);
        assert_int_equal(k, sms_gsm7_packed_size(128, f));
        assert_int_equal(sms_gsm7_unpack(packed, k, f, 128, un), 0);
        assert_memory_equal(un, all, 128);
    }
}

static void test_udh_concat(void **state)
{
    unsigned char udh[6];
    static const unsigned char want[] = {0x05, 0x00, 0x03, 0x2A, 0x03, 0x01};
    assert_int_equal(sms_udh_concat(udh, 0x2A, 3, 1), 0);
    assert_memory_equal(udh, want, 6);
    assert_int_equal(sms_udh_concat(udh, 0xFF, 255, 255), 0);
    assert_int_equal(udh[3], 0xFF);
    assert_int_equal(udh[5], 0xFF);
    assert_int_equal(sms_udh_concat(udh, 1, 3, 0), -EINVAL);
    assert_int_equal(sms_udh_concat(udh, 1, 3, 4), -EINVAL);
    assert_int_equal(sms_udh_concat(udh, 1, 0, 0), -EINVAL);
}

/* ---- keywords ------------------------------------------------------------ */

static enum sms_keyword_kind kw(const char *s)
{
    return sms_keyword_classify(s, strlen(s), sms_keywords_default,
                                sms_keywords_default_count);
}

static void test_keywords_default(void **state)
{
    const char *stop[] = {"STOP",
                          "stop",
                          "Stop",
                          " Stop ",
                          "\tSTOP\r\n",
                          "stopp",
                          "STOPP",
                          "unsubscribe",
                          "CANCEL",
                          "end",
                          "Quit",
                          "REVOKE",
                          "opt out",
                          "OPT OUT",
                          "Opt  Out",
                          " opt\tout ",
                          "\xc2\xa0STOP\xc2\xa0"};
    for (size_t i = 0; i < sizeof stop / sizeof stop[0]; i++) {
        if (kw(stop[i]) != SMS_KW_STOP) {
            print_error("'%s' is not STOP\n", stop[i]);
            fail();
        }
    }
    const char *start[] = {"START", "start", "unstop", "BÖRJA",
                           "börja", "Börja", "bÖrJa"};
    for (size_t i = 0; i < sizeof start / sizeof start[0]; i++)
        assert_int_equal(kw(start[i]), SMS_KW_START);
    const char *help[] = {"HELP", "help", "hjälp", "HJÄLP", "Hjälp", " hjÄlp\n"};
    for (size_t i = 0; i < sizeof help / sizeof help[0]; i++)
        assert_int_equal(kw(help[i]), SMS_KW_HELP);
    const char *none[] = {"",        "   ",   "STOP please", "please stop",   "optout",
                          "opt-out", "STOP.", "stoppa",      "bo\xcc\x88rja", "borja",
                          "hjalp",   "ST OP", "S",           "\xff",          "STOP\xff"};
    for (size_t i = 0; i < sizeof none / sizeof none[0]; i++) {
        if (kw(none[i]) != SMS_KW_NONE) {
            print_error("'%s' is not NONE\n", none[i]);
            fail();
        }
    }
    assert_int_equal(
        sms_keyword_classify(NULL, 0, sms_keywords_default, sms_keywords_default_count),
        SMS_KW_NONE);
    assert_int_equal(sms_keywords_default_count, 13);
}

static void test_keywords_configurable(void **state)
{
    static const sms_keyword custom[] = {
        {"avsluta", SMS_KW_STOP}, {"", SMS_KW_HELP}, /* an empty keyword never matches */
        {"  ", SMS_KW_HELP},                         /* nor a blank one */
        {NULL, SMS_KW_HELP},                         /* nor a missing one */
        {"ÅTER", SMS_KW_START},   {"Info  Tack", SMS_KW_HELP},
    };
    size_t n = sizeof custom / sizeof custom[0];
    assert_int_equal(sms_keyword_classify("AVSLUTA", 7, custom, n), SMS_KW_STOP);
    assert_int_equal(sms_keyword_classify("åter", 5, custom, n), SMS_KW_START);
    assert_int_equal(sms_keyword_classify("info tack", 9, custom, n), SMS_KW_HELP);
    assert_int_equal(sms_keyword_classify("STOP", 4, custom, n), SMS_KW_NONE);
    assert_int_equal(sms_keyword_classify("", 0, custom, n), SMS_KW_NONE);
    assert_int_equal(sms_keyword_classify(" ", 1, custom, n), SMS_KW_NONE);
    assert_int_equal(sms_keyword_classify("STOP", 4, NULL, 0), SMS_KW_NONE);
    /* The first match wins. */
    static const sms_keyword twice[] = {{"stop", SMS_KW_HELP}, {"STOP", SMS_KW_STOP}};
    assert_int_equal(sms_keyword_classify("Stop", 4, twice, 2), SMS_KW_HELP);
    assert_string_equal(sms_keyword_kind_name(SMS_KW_STOP), "stop");
    assert_string_equal(sms_keyword_kind_name(SMS_KW_START), "start");
    assert_string_equal(sms_keyword_kind_name(SMS_KW_HELP), "help");
    assert_string_equal(sms_keyword_kind_name(SMS_KW_NONE), "none");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_default_alphabet_is_gsm7),
        cmocka_unit_test(test_extension_table_counts_two),
        cmocka_unit_test(test_traps_are_ucs2),
        cmocka_unit_test(test_ucs2_units),
        cmocka_unit_test(test_empty_message),
        cmocka_unit_test(test_gsm7_boundaries),
        cmocka_unit_test(test_ucs2_boundaries),
        cmocka_unit_test(test_esc_pair_never_straddles),
        cmocka_unit_test(test_surrogate_pair_never_straddles),
        cmocka_unit_test(test_grapheme_cluster_may_split),
        cmocka_unit_test(test_desktop_limit_example),
        cmocka_unit_test(test_invalid_utf8),
        cmocka_unit_test(test_split_payloads),
        cmocka_unit_test(test_tables_are_consistent),
        cmocka_unit_test(test_gsm7_decode),
        cmocka_unit_test(test_ucs2_decode),
        cmocka_unit_test(test_gsm7_pack),
        cmocka_unit_test(test_udh_concat),
        cmocka_unit_test(test_keywords_default),
        cmocka_unit_test(test_keywords_configurable),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
