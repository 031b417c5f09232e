#include "sms/sms_text.h"

#include <errno.h>
#include <string.h>

#include "util/utf8.h"

/* ---- The GSM 03.38 tables (3GPP TS 23.038, 6.2.1 and 6.2.1.1) ---------- */

/* The tables keep one row per 8 codes and one case a line. */
/* clang-format off */

/* Septet -> code point for the default alphabet. 0x1B is the escape; it has
 * no character of its own (a lone one decodes as a space, see below). */
static const uint16_t gsm_default[128] = {
    0x0040, 0x00A3, 0x0024, 0x00A5, 0x00E8, 0x00E9, 0x00F9, 0x00EC, /* 0x00 */
    0x00F2, 0x00C7, 0x000A, 0x00D8, 0x00F8, 0x000D, 0x00C5, 0x00E5, /* 0x08 */
    0x0394, 0x005F, 0x03A6, 0x0393, 0x039B, 0x03A9, 0x03A0, 0x03A8, /* 0x10 */
    0x03A3, 0x0398, 0x039E, 0x0020, 0x00C6, 0x00E6, 0x00DF, 0x00C9, /* 0x18 */
    0x0020, 0x0021, 0x0022, 0x0023, 0x00A4, 0x0025, 0x0026, 0x0027, /* 0x20 */
    0x0028, 0x0029, 0x002A, 0x002B, 0x002C, 0x002D, 0x002E, 0x002F, /* 0x28 */
    0x0030, 0x0031, 0x0032, 0x0033, 0x0034, 0x0035, 0x0036, 0x0037, /* 0x30 */
    0x0038, 0x0039, 0x003A, 0x003B, 0x003C, 0x003D, 0x003E, 0x003F, /* 0x38 */
    0x00A1, 0x0041, 0x0042, 0x0043, 0x0044, 0x0045, 0x0046, 0x0047, /* 0x40 */
    0x0048, 0x0049, 0x004A, 0x004B, 0x004C, 0x004D, 0x004E, 0x004F, /* 0x48 */
    0x0050, 0x0051, 0x0052, 0x0053, 0x0054, 0x0055, 0x0056, 0x0057, /* 0x50 */
    0x0058, 0x0059, 0x005A, 0x00C4, 0x00D6, 0x00D1, 0x00DC, 0x00A7, /* 0x58 */
    0x00BF, 0x0061, 0x0062, 0x0063, 0x0064, 0x0065, 0x0066, 0x0067, /* 0x60 */
    0x0068, 0x0069, 0x006A, 0x006B, 0x006C, 0x006D, 0x006E, 0x006F, /* 0x68 */
    0x0070, 0x0071, 0x0072, 0x0073, 0x0074, 0x0075, 0x0076, 0x0077, /* 0x70 */
    0x0078, 0x0079, 0x007A, 0x00E4, 0x00F6, 0x00F1, 0x00FC, 0x00E0, /* 0x78 */
};

/* Marks an extension-table code in the encode tables. */
#define EXT 0x100
#define NO (-1)

/* ASCII -> septet (0-0x7F), EXT | extension code, or NO. */
static const int16_t gsm_from_ascii[128] = {
    /* 0x00 */ NO, NO, NO, NO, NO, NO, NO, NO,
    /* 0x08 */ NO, NO /* tab */, 0x0A, NO, EXT | 0x0A /* FF */, 0x0D, NO, NO,
    /* 0x10 */ NO, NO, NO, NO, NO, NO, NO, NO,
    /* 0x18 */ NO, NO, NO, NO, NO, NO, NO, NO,
    /* 0x20 */ 0x20, 0x21, 0x22, 0x23, 0x02 /* $ */, 0x25, 0x26, 0x27,
    /* 0x28 */ 0x28, 0x29, 0x2A, 0x2B, 0x2C, 0x2D, 0x2E, 0x2F,
    /* 0x30 */ 0x30, 0x31, 0x32, 0x33, 0x34, 0x35, 0x36, 0x37,
    /* 0x38 */ 0x38, 0x39, 0x3A, 0x3B, 0x3C, 0x3D, 0x3E, 0x3F,
    /* 0x40 */ 0x00 /* @ */, 0x41, 0x42, 0x43, 0x44, 0x45, 0x46, 0x47,
    /* 0x48 */ 0x48, 0x49, 0x4A, 0x4B, 0x4C, 0x4D, 0x4E, 0x4F,
    /* 0x50 */ 0x50, 0x51, 0x52, 0x53, 0x54, 0x55, 0x56, 0x57,
    /* 0x58 */ 0x58, 0x59, 0x5A, EXT | 0x3C /* [ */, EXT | 0x2F /* \ */,
               EXT | 0x3E /* ] */, EXT | 0x14 /* ^ */, 0x11 /* _ */,
    /* 0x60 */ NO /* ` */, 0x61, 0x62, 0x63, 0x64, 0x65, 0x66, 0x67,
    /* 0x68 */ 0x68, 0x69, 0x6A, 0x6B, 0x6C, 0x6D, 0x6E, 0x6F,
    /* 0x70 */ 0x70, 0x71, 0x72, 0x73, 0x74, 0x75, 0x76, 0x77,
    /* 0x78 */ 0x78, 0x79, 0x7A, EXT | 0x28 /* { */, EXT | 0x40 /* | */,
               EXT | 0x29 /* } */, EXT | 0x3D /* ~ */, NO /* DEL */,
};

/* Returns the GSM 03.38 code of 'cp': a septet 0-0x7F, EXT | an extension
 * code, or NO when 'cp' is not in the alphabet or its extension table. */
static int gsm_code(uint32_t cp)
{
    if (cp < 0x80)
        return gsm_from_ascii[cp];
    switch (cp) {
    case 0x00A1: return 0x40; /* ¡ */
    case 0x00A3: return 0x01; /* £ */
    case 0x00A4: return 0x24; /* ¤ */
    case 0x00A5: return 0x03; /* ¥ */
    case 0x00A7: return 0x5F; /* § */
    case 0x00BF: return 0x60; /* ¿ */
    case 0x00C4: return 0x5B; /* Ä */
    case 0x00C5: return 0x0E; /* Å */
    case 0x00C6: return 0x1C; /* Æ */
    case 0x00C7: return 0x09; /* Ç (ç is not GSM) */
    case 0x00C9: return 0x1F; /* É */
    case 0x00D1: return 0x5D; /* Ñ */
    case 0x00D6: return 0x5C; /* Ö */
    case 0x00D8: return 0x0B; /* Ø */
    case 0x00DC: return 0x5E; /* Ü */
    case 0x00DF: return 0x1E; /* ß */
    case 0x00E0: return 0x7F; /* à */
    case 0x00E4: return 0x7B; /* ä */
    case 0x00E5: return 0x0F; /* å */
    case 0x00E6: return 0x1D; /* æ */
    case 0x00E8: return 0x04; /* è */
    case 0x00E9: return 0x05; /* é */
    case 0x00EC: return 0x07; /* ì */
    case 0x00F1: return 0x7D; /* ñ */
    case 0x00F2: return 0x08; /* ò */
    case 0x00F6: return 0x7C; /* ö */
    case 0x00F8: return 0x0C; /* ø */
    case 0x00F9: return 0x06; /* ù */
    case 0x00FC: return 0x7E; /* ü */
    case 0x0393: return 0x13; /* Γ */
    case 0x0394: return 0x10; /* Δ */
    case 0x0398: return 0x19; /* Θ */
    case 0x039B: return 0x14; /* Λ */
    case 0x039E: return 0x1A; /* Ξ */
    case 0x03A0: return 0x16; /* Π */
    case 0x03A3: return 0x18; /* Σ */
    case 0x03A6: return 0x12; /* Φ */
    case 0x03A8: return 0x17; /* Ψ */
    case 0x03A9: return 0x15; /* Ω (Greek; the ohm sign U+2126 is not GSM) */
    case 0x20AC: return EXT | 0x65; /* € */
    default: return NO;
    }
}

/* Extension code -> code point, or 0 when the code has no extension
 * character (the receiver then shows the default-alphabet character). */
static uint32_t gsm_ext_cp(unsigned code)
{
    switch (code) {
    case 0x0A: return 0x000C; /* form feed */
    case 0x14: return '^';
    case 0x28: return '{';
    case 0x29: return '}';
    case 0x2F: return '\\';
    case 0x3C: return '[';
    case 0x3D: return '~';
    case 0x3E: return ']';
    case 0x40: return '|';
    case 0x65: return 0x20AC; /* € */
    default: return 0;
    }
}

/* clang-format on */

/* ---- Analysis and splitting -------------------------------------------- */

/* Decodes the code point at text[*pos] into '*cp' and advances '*pos'.
 * Returns 0, or -1 on invalid UTF-8 (then '*pos' is unchanged). */
static inline int next_cp(const unsigned char *p, size_t n, size_t *pos, uint32_t *cp)
{
    size_t i = *pos;
    if (p[i] < 0x80) {
        *cp = p[i];
        *pos = i + 1;
        return 0;
    }
    size_t k = utf8_decode(p + i, n - i, cp);
    if (k == 0)
        return -1;
    *pos = i + k;
    return 0;
}

/* Greedy filling of parts of 'cap' units: adds a character of 'cost' units,
 * opening a new part when it does not fit in the current one. */
typedef struct fill {
    size_t units, parts, used;
} fill;

static inline void fill_add(fill *f, size_t cost, size_t cap)
{
    if (f->used + cost > cap) {
        f->parts++;
        f->used = 0;
    }
    f->used += cost;
    f->units += cost;
}

int sms_text_analyse(const char *text, size_t n, sms_info *out)
{
    const unsigned char *p = (const unsigned char *)text;
    /* Both encodings are counted in the same pass, since one non-GSM
     * character at the end turns the whole message into ucs2. */
    fill g = {0, 1, 0}, u = {0, 1, 0};
    int gsm = 1;
    size_t chars = 0, pos = 0;

    memset(out, 0, sizeof *out);
    while (pos < n) {
        uint32_t cp;
        if (next_cp(p, n, &pos, &cp) != 0) {
            out->error_offset = pos;
            return -EILSEQ;
        }
        chars++;
        fill_add(&u, cp >= 0x10000 ? 2 : 1, SMS_UCS2_PART);
        if (gsm) {
            int c = gsm_code(cp);
            if (c == NO)
                gsm = 0;
            else
                fill_add(&g, (c & EXT) ? 2 : 1, SMS_GSM7_PART);
        }
    }
    out->chars = chars;
    if (gsm) {
        out->encoding = SMS_GSM7;
        out->units = g.units;
        out->segments = g.units <= SMS_GSM7_SINGLE ? 1 : g.parts;
    } else {
        out->encoding = SMS_UCS2;
        out->units = u.units;
        out->segments = u.units <= SMS_UCS2_SINGLE ? 1 : u.parts;
    }
    return 0;
}

int sms_text_split(const char *text, size_t n, sms_segment *out, size_t max,
                   size_t *count, sms_info *info)
{
    const unsigned char *p = (const unsigned char *)text;
    sms_info a;
    int r = sms_text_analyse(text, n, &a);
    if (info)
        *info = a;
    *count = r == 0 ? a.segments : 0;
    if (r != 0)
        return r;
    if (a.segments > max)
        return -ENOSPC;

    int gsm = a.encoding == SMS_GSM7;
    size_t cap;
    if (gsm)
        cap = a.segments == 1 ? SMS_GSM7_SINGLE : SMS_GSM7_PART;
    else
        cap = a.segments == 1 ? SMS_UCS2_SINGLE : SMS_UCS2_PART;

    sms_segment *s = out;
    s->len = s->units = 0;
    size_t pos = 0;
    while (pos < n) {
        uint32_t cp;
        (void)next_cp(p, n, &pos, &cp); /* validated by the analysis */
        int c = gsm ? gsm_code(cp) : 0;
        size_t cost = gsm ? ((c & EXT) ? 2 : 1) : (cp >= 0x10000 ? 2 : 1);
        if (s->units + cost > cap) {
            s++;
            s->len = s->units = 0;
        }
        s->units += cost;
        if (gsm) {
            if (c & EXT)
                s->data[s->len++] = SMS_GSM7_ESC;
            s->data[s->len++] = (unsigned char)(c & 0x7F);
        } else if (cp >= 0x10000) {
            uint32_t v = cp - 0x10000;
            uint32_t hi = 0xD800 | (v >> 10), lo = 0xDC00 | (v & 0x3FF);
            s->data[s->len++] = (unsigned char)(hi >> 8);
            s->data[s->len++] = (unsigned char)(hi & 0xFF);
            s->data[s->len++] = (unsigned char)(lo >> 8);
            s->data[s->len++] = (unsigned char)(lo & 0xFF);
        } else {
            s->data[s->len++] = (unsigned char)(cp >> 8);
            s->data[s->len++] = (unsigned char)(cp & 0xFF);
        }
    }
    /* The split fills exactly as the analysis counted. */
    if ((size_t)(s - out) + 1 != a.segments)
        return -EPROTO; /* unreachable: the two loops share their rule */
    return 0;
}

/* ---- 7-bit packing and UDH --------------------------------------------- */

unsigned sms_gsm7_fill_bits(size_t udh_len)
{
    return (unsigned)((7 - (udh_len * 8) % 7) % 7);
}

size_t sms_gsm7_packed_size(size_t n, unsigned fill_bits)
{
    return n == 0 ? 0 : (fill_bits + 7 * n + 7) / 8;
}

size_t sms_gsm7_pack(const unsigned char *septets, size_t n, unsigned fill_bits,
                     unsigned char *out)
{
    if (n == 0)
        return 0;
    if (fill_bits > 6)
        return 0;
    size_t size = sms_gsm7_packed_size(n, fill_bits);
    memset(out, 0, size);
    for (size_t i = 0; i < n; i++) {
        size_t bit = fill_bits + 7 * i;
        size_t byte = bit / 8;
        unsigned sh = (unsigned)(bit % 8);
        unsigned v = septets[i] & 0x7F;
        out[byte] |= (unsigned char)((v << sh) & 0xFF);
        if (sh > 1)
            out[byte + 1] |= (unsigned char)(v >> (8 - sh));
    }
    return size;
}

int sms_gsm7_unpack(const unsigned char *packed, size_t len, unsigned fill_bits, size_t n,
                    unsigned char *out)
{
    if (fill_bits > 6 || len < sms_gsm7_packed_size(n, fill_bits))
        return -EINVAL;
    for (size_t i = 0; i < n; i++) {
        size_t bit = fill_bits + 7 * i;
        size_t byte = bit / 8;
        unsigned sh = (unsigned)(bit % 8);
        unsigned v = packed[byte] >> sh;
        if (sh > 1)
            v |= (unsigned)packed[byte + 1] << (8 - sh);
        out[i] = (unsigned char)(v & 0x7F);
    }
    return 0;
}

int sms_udh_concat(unsigned char out[6], uint8_t ref, uint8_t total, uint8_t seq)
{
    if (seq < 1 || seq > total)
        return -EINVAL;
    out[0] = 0x05; /* UDHL: 5 bytes follow */
    out[1] = 0x00; /* IEI: concatenated short messages, 8-bit reference */
    out[2] = 0x03; /* IEDL */
    out[3] = ref;
    out[4] = total;
    out[5] = seq;
    return 0;
}

/* ---- Decoding ---------------------------------------------------------- */

/* Appends 'cp' as UTF-8 to out[*len] if it fits in 'cap'. Returns 0 or
 * -ENOSPC. */
static int put_cp(char *out, size_t cap, size_t *len, uint32_t cp)
{
    char tmp[4];
    size_t k = utf8_encode(cp, tmp);
    if (k == 0)
        k = utf8_encode(0xFFFD, tmp);
    if (cap - *len < k)
        return -ENOSPC;
    memcpy(out + *len, tmp, k);
    *len += k;
    return 0;
}

int sms_gsm7_decode(const unsigned char *septets, size_t n, char *out, size_t cap,
                    size_t *out_len)
{
    size_t len = 0;
    *out_len = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned s = septets[i];
        uint32_t cp;
        if (s > 0x7F) {
            cp = 0xFFFD;
        } else if (s != SMS_GSM7_ESC) {
            cp = gsm_default[s];
        } else if (i + 1 == n) {
            cp = ' '; /* a lone ESC at the end */
        } else {
            unsigned e = septets[++i];
            if (e > 0x7F)
                cp = 0xFFFD;
            else if (e == SMS_GSM7_ESC)
                cp = ' '; /* reserved for another extension table: a space */
            else if ((cp = gsm_ext_cp(e)) == 0)
                cp = gsm_default[e];
        }
        if (put_cp(out, cap, &len, cp) != 0)
            return -ENOSPC;
        *out_len = len;
    }
    return 0;
}

int sms_ucs2_decode(const unsigned char *be, size_t n, char *out, size_t cap,
                    size_t *out_len)
{
    size_t len = 0;
    *out_len = 0;
    for (size_t i = 0; i < n;) {
        uint32_t cp;
        if (n - i < 2) {
            cp = 0xFFFD; /* a last odd byte */
            i = n;
        } else {
            uint32_t u = ((uint32_t)be[i] << 8) | be[i + 1];
            i += 2;
            if (u >= 0xD800 && u <= 0xDBFF && n - i >= 2) {
                uint32_t lo = ((uint32_t)be[i] << 8) | be[i + 1];
                if (lo >= 0xDC00 && lo <= 0xDFFF) {
                    u = 0x10000 + ((u - 0xD800) << 10) + (lo - 0xDC00);
                    i += 2;
                }
            }
            cp = (u >= 0xD800 && u <= 0xDFFF) ? 0xFFFD : u;
        }
        if (put_cp(out, cap, &len, cp) != 0)
            return -ENOSPC;
        *out_len = len;
    }
    return 0;
}

/* ---- Opt-out keywords -------------------------------------------------- */

/* clang-format off */
const sms_keyword sms_keywords_default[] = {
    {"STOP", SMS_KW_STOP},
    {"STOPP", SMS_KW_STOP},
    {"UNSUBSCRIBE", SMS_KW_STOP},
    {"CANCEL", SMS_KW_STOP},
    {"END", SMS_KW_STOP},
    {"QUIT", SMS_KW_STOP},
    {"REVOKE", SMS_KW_STOP},
    {"OPT OUT", SMS_KW_STOP},
    {"START", SMS_KW_START},
    {"UNSTOP", SMS_KW_START},
    {"B\xC3\x96RJA", SMS_KW_START}, /* BÖRJA */
    {"HELP", SMS_KW_HELP},
    {"HJ\xC3\x84LP", SMS_KW_HELP}, /* HJÄLP */
};
/* clang-format on */
const size_t sms_keywords_default_count =
    sizeof sms_keywords_default / sizeof sms_keywords_default[0];

static int kw_blank(uint32_t cp)
{
    return cp == ' ' || (cp >= '\t' && cp <= '\r') || cp == 0x00A0;
}

/* Simple case folding for ASCII and Latin-1 letters (not ×, not ß). */
static uint32_t kw_fold(uint32_t cp)
{
    if (cp >= 'A' && cp <= 'Z')
        return cp + 32;
    if (cp >= 0xC0 && cp <= 0xDE && cp != 0xD7)
        return cp + 32;
    return cp;
}

/* Reads a text as its normalized keyword form: leading and trailing blanks
 * dropped, each inner run of blanks one space, letters folded. */
typedef struct kw_reader {
    const unsigned char *p;
    size_t n, i;
    int started;
} kw_reader;

#define KW_END (-1)
#define KW_BAD (-2)

static long kw_next(kw_reader *r)
{
    size_t j = r->i;
    int blank = 0;
    uint32_t cp = 0;
    while (j < r->n) {
        size_t k = j;
        if (next_cp(r->p, r->n, &k, &cp) != 0)
            return KW_BAD;
        if (!kw_blank(cp))
            break;
        blank = 1;
        j = k;
    }
    if (j >= r->n) {
        r->i = r->n;
        return KW_END;
    }
    if (blank && r->started) {
        r->i = j;
        return ' ';
    }
    (void)next_cp(r->p, r->n, &j, &cp);
    r->i = j;
    r->started = 1;
    return (long)kw_fold(cp);
}

/* Returns 1 when 'text' matches the keyword 'word', 0 when not, -1 when
 * 'text' is not valid UTF-8. */
static int kw_match(const char *text, size_t n, const char *word)
{
    kw_reader t = {(const unsigned char *)text, n, 0, 0};
    kw_reader w = {(const unsigned char *)word, strlen(word), 0, 0};
    for (int first = 1;; first = 0) {
        long a = kw_next(&t), b = kw_next(&w);
        if (a == KW_BAD)
            return -1;
        if (b == KW_BAD || (first && b == KW_END))
            return 0; /* a broken or empty keyword never matches */
        if (a != b)
            return 0;
        if (a == KW_END)
            return 1;
    }
}

enum sms_keyword_kind sms_keyword_classify(const char *text, size_t n,
                                           const sms_keyword *kw, size_t nkw)
{
    if (n > 0 && text == NULL)
        return SMS_KW_NONE;
    for (size_t i = 0; i < nkw; i++) {
        if (kw[i].word == NULL)
            continue;
        int m = kw_match(text ? text : "", n, kw[i].word);
        if (m < 0)
            return SMS_KW_NONE;
        if (m > 0)
            return kw[i].kind;
    }
    return SMS_KW_NONE;
}

/* clang-format off */
const char *sms_keyword_kind_name(enum sms_keyword_kind kind)
{
    switch (kind) {
    case SMS_KW_STOP: return "stop";
    case SMS_KW_START: return "start";
    case SMS_KW_HELP: return "help";
    default: return "none";
    }
}
/* clang-format on */
