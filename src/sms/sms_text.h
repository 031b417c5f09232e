/*
 * sms_text: the text side of SMS. It owns the GSM 03.38 default alphabet and
 * extension table, the choice between gsm7 and ucs2, unit and segment
 * counting (RULES.md in the shared spec: 160/153 septets, 70/67 UTF-16 units,
 * an ESC pair or a surrogate pair never split, greedy fill), splitting a
 * message into per-segment payloads for the gateways, GSM 7-bit packing, the
 * 8-bit concatenation UDH, decoding inbound GSM 03.38 and UTF-16BE to UTF-8,
 * and the STOP/START/HELP opt-out keyword classifier.
 *
 * Written by hand: no Debian library counts GSM 03.38 septets or segments
 * with these no-split rules, and iconv has no GSM 7-bit charset. The module
 * is pure (no I/O, no clock) and never allocates; analysis runs on every
 * keystroke of the desktop's counter. docs/internals/sms.md explains it.
 */
#ifndef TEXTDESK_SMS_SMS_TEXT_H
#define TEXTDESK_SMS_SMS_TEXT_H

#include <stddef.h>
#include <stdint.h>

enum sms_encoding {
    SMS_GSM7 = 0, /* GSM 03.38 default alphabet + extension table */
    SMS_UCS2 = 1, /* UTF-16BE (UCS-2 with surrogate pairs) */
};

/* Capacities in units (septets for gsm7, UTF-16 code units for ucs2). */
#define SMS_GSM7_SINGLE 160 /* a message that fits one SMS */
#define SMS_GSM7_PART 153   /* each part of a concatenated message */
#define SMS_UCS2_SINGLE 70
#define SMS_UCS2_PART 67

/* Largest payload of one segment in bytes: 160 unpacked septets (gsm7) or
 * 70 UTF-16 units = 140 bytes (ucs2). */
#define SMS_SEGMENT_MAX_BYTES 160

/* The GSM 03.38 escape to the extension table. */
#define SMS_GSM7_ESC 0x1B

/* The result of sms_text_analyse. */
typedef struct sms_info {
    enum sms_encoding encoding;
    size_t units;        /* septets (gsm7) or UTF-16 code units (ucs2) */
    size_t segments;     /* SMS parts needed; 1 for the empty message */
    size_t chars;        /* Unicode code points */
    size_t error_offset; /* on -EILSEQ: byte offset of the first bad byte */
} sms_info;

/* One segment ready for a gateway. For gsm7 'data' holds unpacked GSM 03.38
 * septet values, one per byte (an extension character is 0x1B followed by
 * its code); for ucs2 it holds UTF-16BE bytes. */
typedef struct sms_segment {
    unsigned char data[SMS_SEGMENT_MAX_BYTES];
    size_t len;   /* bytes used in 'data' */
    size_t units; /* septets or UTF-16 code units in this segment */
} sms_segment;

/* Analyses the UTF-8 message 'text' ('n' bytes, need not be NUL-terminated;
 * NULL is allowed when n is 0) and fills '*out': gsm7 when every character is
 * in the GSM 03.38 alphabet or its extension table, else ucs2; the units; the
 * segment count per RULES.md. The empty message is gsm7, 1 segment, 0 units.
 * Returns 0, or -EILSEQ when 'text' is not valid UTF-8 (then only
 * out->error_offset is meaningful). Allocation-free, O(n). */
int sms_text_analyse(const char *text, size_t n, sms_info *out);

/* Splits the UTF-8 message 'text' into the segments sms_text_analyse counts
 * and encodes each into out[0..] (see sms_segment). 'max' is the room in
 * 'out'. Stores the number of segments in '*count' (also on -ENOSPC, so the
 * caller learns how many it needs). 'info' may be NULL; if given it receives
 * the analysis. Returns 0, -EILSEQ (invalid UTF-8) or -ENOSPC (more than
 * 'max' segments; 'out' is then unspecified); -EPROTO would mean that the
 * split disagreed with the analysis, a bug the tests and fuzzer rule out.
 * The empty message gives one empty gsm7 segment. Each segment decodes on
 * its own: no ESC pair and no surrogate pair straddles two segments. */
int sms_text_split(const char *text, size_t n, sms_segment *out, size_t max,
                   size_t *count, sms_info *info);

/* Returns the number of fill bits that align the first septet after a user
 * data header of 'udh_len' bytes (UDHL byte included) to a septet boundary:
 * 1 for the 6-byte concatenation UDH, 0 without a UDH. */
unsigned sms_gsm7_fill_bits(size_t udh_len);

/* Returns the bytes that sms_gsm7_pack writes for 'n' septets after
 * 'fill_bits' fill bits. */
size_t sms_gsm7_packed_size(size_t n, unsigned fill_bits);

/* Packs the 'n' unpacked septets at 'septets' (values 0-0x7F; the high bit
 * is ignored) into 'out' as GSM 7-bit packed data, least significant bit
 * first, starting after 'fill_bits' zero bits (0-6; see sms_gsm7_fill_bits).
 * 'out' must hold sms_gsm7_packed_size(n, fill_bits) bytes; the fill bits
 * and the spare bits of the last byte are zero (no CR padding). Returns the
 * number of bytes written, or 0 when fill_bits > 6 and n > 0. */
size_t sms_gsm7_pack(const unsigned char *septets, size_t n, unsigned fill_bits,
                     unsigned char *out);

/* Unpacks 'n' septets from the packed bytes 'packed' ('len' bytes) that begin
 * after 'fill_bits' fill bits, into 'out' (room for 'n' bytes). Returns 0, or
 * -EINVAL when fill_bits > 6 or 'len' is too short for 'n' septets. */
int sms_gsm7_unpack(const unsigned char *packed, size_t len, unsigned fill_bits, size_t n,
                    unsigned char *out);

/* Writes the 6-byte concatenation UDH with an 8-bit reference,
 * 05 00 03 ref total seq, into 'out'. Returns 0, or -EINVAL unless
 * 1 <= seq <= total. */
int sms_udh_concat(unsigned char out[6], uint8_t ref, uint8_t total, uint8_t seq);

/* Worst-case UTF-8 bytes that the decoders write for 'n' input bytes. */
#define SMS_GSM7_DECODE_MAX(n) (3 * (size_t)(n))
#define SMS_UCS2_DECODE_MAX(n) (3 * (((size_t)(n) + 1) / 2))

/* Decodes 'n' unpacked GSM 03.38 septets (one per byte, extension characters
 * as 0x1B + code) to UTF-8 in 'out' ('cap' bytes) and stores the length in
 * '*out_len'. Bad input never fails: a byte above 0x7F becomes U+FFFD; per
 * 3GPP TS 23.038, ESC + a code that is not in the extension table decodes as
 * that code's default-alphabet character, and ESC ESC, or an ESC at the end,
 * decode as a space. Returns 0, or -ENOSPC when 'cap' is too small
 * (SMS_GSM7_DECODE_MAX(n) always suffices). */
int sms_gsm7_decode(const unsigned char *septets, size_t n, char *out, size_t cap,
                    size_t *out_len);

/* Decodes 'n' bytes of UTF-16BE to UTF-8 in 'out' ('cap' bytes) and stores
 * the length in '*out_len'. Surrogate pairs become one code point; a lone
 * surrogate, and a last odd byte, become U+FFFD. Returns 0, or -ENOSPC when
 * 'cap' is too small (SMS_UCS2_DECODE_MAX(n) always suffices). */
int sms_ucs2_decode(const unsigned char *be, size_t n, char *out, size_t cap,
                    size_t *out_len);

/* Opt-out keyword classes. */
enum sms_keyword_kind {
    SMS_KW_NONE = 0,
    SMS_KW_STOP,
    SMS_KW_START,
    SMS_KW_HELP,
};

/* One keyword: 'word' is UTF-8, matched case-insensitively. */
typedef struct sms_keyword {
    const char *word;
    enum sms_keyword_kind kind;
} sms_keyword;

/* The default keywords: STOP, STOPP, UNSUBSCRIBE, CANCEL, END, QUIT, REVOKE,
 * OPT OUT -> STOP; START, UNSTOP, BÖRJA -> START; HELP, HJÄLP -> HELP. */
extern const sms_keyword sms_keywords_default[];
extern const size_t sms_keywords_default_count;

/* Classifies the whole inbound UTF-8 message 'text' ('n' bytes) against the
 * 'nkw' keywords in 'kw' (e.g. sms_keywords_default). The message matches a
 * keyword when, with surrounding blanks (space, tab, CR, LF, VT, FF, U+00A0)
 * trimmed and each inner run of blanks taken as one space, it equals the
 * keyword ignoring case (ASCII and Latin-1 letters, so Å/å, Ä/ä, Ö/ö). The
 * first matching keyword wins. Anything else, including invalid UTF-8 and
 * "STOP please", is SMS_KW_NONE. Allocation-free. */
enum sms_keyword_kind sms_keyword_classify(const char *text, size_t n,
                                           const sms_keyword *kw, size_t nkw);

/* Returns "none", "stop", "start" or "help". */
const char *sms_keyword_kind_name(enum sms_keyword_kind kind);

#endif
