/*
 * fuzz_sms: arbitrary bytes through every entry point of sms/sms_text.
 * Nothing may crash; for valid UTF-8 the split must agree with the analysis
 * (same segment count, each segment within 160/153 septets or 70/67 units)
 * and the segments, each decoded on its own, must reassemble the input.
 * Arbitrary bytes decoded as GSM 03.38 or UTF-16BE must give valid UTF-8, and
 * 7-bit packing must round-trip.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "sms/sms_text.h"
#include "util/utf8.h"

static void check_split(const char *text, size_t n, const sms_info *a)
{
    sms_segment *segs = malloc(a->segments * sizeof *segs);
    char *back = malloc(SMS_GSM7_DECODE_MAX(2 * SMS_SEGMENT_MAX_BYTES) * a->segments + 1);
    CHECK(segs && back);
    size_t count = 0;
    sms_info b;
    CHECK(sms_text_split(text, n, segs, a->segments, &count, &b) == 0);
    CHECK(count == a->segments);
    CHECK(b.encoding == a->encoding && b.units == a->units && b.segments == a->segments);
    if (count > 1)
        CHECK(sms_text_split(text, n, segs, count - 1, &count, NULL) == -ENOSPC);
    CHECK(sms_text_split(text, n, segs, a->segments, &count, NULL) == 0);

    int gsm = a->encoding == SMS_GSM7;
    size_t cap = gsm ? (count == 1 ? SMS_GSM7_SINGLE : SMS_GSM7_PART)
                     : (count == 1 ? SMS_UCS2_SINGLE : SMS_UCS2_PART);
    size_t units = 0, len = 0;
    for (size_t i = 0; i < count; i++) {
        const sms_segment *s = &segs[i];
        CHECK(s->units <= cap);
        CHECK(s->len == (gsm ? s->units : 2 * s->units));
        if (count > 1)
            CHECK(s->units > 0);
        units += s->units;
        size_t k = 0;
        if (gsm) {
            CHECK(sms_gsm7_decode(s->data, s->len, back + len,
                                  SMS_GSM7_DECODE_MAX(s->len), &k) == 0);
            /* Packed for SMPP after the concatenation UDH, and back. */
            unsigned char packed[SMS_SEGMENT_MAX_BYTES], un[SMS_SEGMENT_MAX_BYTES];
            unsigned fill = sms_gsm7_fill_bits(6);
            size_t pk = sms_gsm7_pack(s->data, s->len, fill, packed);
            CHECK(pk == sms_gsm7_packed_size(s->len, fill));
            CHECK(6 + pk <= 140 || count == 1);
            CHECK(sms_gsm7_unpack(packed, pk, fill, s->len, un) == 0);
            CHECK(s->len == 0 || memcmp(un, s->data, s->len) == 0);
        } else {
            CHECK(sms_ucs2_decode(s->data, s->len, back + len,
                                  SMS_UCS2_DECODE_MAX(s->len), &k) == 0);
        }
        len += k;
    }
    CHECK(units == a->units);
    CHECK(len == n && (n == 0 || memcmp(back, text, n) == 0));
    free(segs);
    free(back);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *text = (const char *)data;
    sms_info a;
    int r = sms_text_analyse(text, size, &a);
    CHECK(r == 0 || r == -EILSEQ);
    CHECK((r == 0) == (utf8_count(text, size) >= 0));
    if (r == 0) {
        CHECK(a.chars == (size_t)utf8_count(text, size));
        CHECK(a.segments >= 1);
        check_split(text, size, &a);
    } else {
        CHECK(a.error_offset < size);
    }

    (void)sms_keyword_classify(text, size, sms_keywords_default,
                               sms_keywords_default_count);

    /* Inbound decoding of arbitrary bytes: always valid UTF-8 out. */
    char *out = malloc(SMS_GSM7_DECODE_MAX(size) + SMS_UCS2_DECODE_MAX(size) + 1);
    CHECK(out);
    size_t k;
    CHECK(sms_gsm7_decode(data, size, out, SMS_GSM7_DECODE_MAX(size), &k) == 0);
    CHECK(utf8_count(out, k) >= 0);
    CHECK(sms_ucs2_decode(data, size, out, SMS_UCS2_DECODE_MAX(size), &k) == 0);
    CHECK(utf8_count(out, k) >= 0);
    free(out);

    /* Packing arbitrary septets round-trips (high bits dropped). */
    if (size > 0) {
        unsigned fill = data[0] % 7;
        unsigned char *p = malloc(size + 1), *u = malloc(size);
        CHECK(p && u);
        size_t pk = sms_gsm7_pack(data, size, fill, p);
        CHECK(pk == sms_gsm7_packed_size(size, fill) && pk <= size + 1);
        CHECK(sms_gsm7_unpack(p, pk, fill, size, u) == 0);
        for (size_t i = 0; i < size; i++)
            CHECK(u[i] == (data[i] & 0x7F));
        free(p);
        free(u);
    }
    return 0;
}
