/*
 * fuzz_gw: arbitrary bytes through what the gateways' inbound endpoints
 * parse (sms/gw_http.c, sms/gw_kannel.c, sms/gw_webhook.c). The input is
 * "META\0BODY" (no NUL: all META); the first byte of META picks the
 * charset, coding and content type. Checked beyond "no crash":
 *   - form decoding never grows the text, and any bytes %-encoded by
 *     gw_url_escape come back unchanged from a form;
 *   - webhook fields from a JSON object are the object's strings, and META
 *     put into a JSON body (when valid UTF-8) comes back unchanged;
 *   - the Content-Type charset is bounded and holds no quote, ';' or blank;
 *   - MO text decoding returns 0 / -EILSEQ / -ENOTSUP, and what it accepts
 *     is valid UTF-8 (UTF-8 in: the same bytes; Latin-1: one character per
 *     byte);
 *   - a reference parses only when it is plain digits in 1..INT64_MAX, and
 *     prints back the same;
 *   - HMAC: a signature we make verifies (also in upper case), one changed
 *     hex digit or a timestamp out of the window does not, and META as a
 *     signature or timestamp verifies only if it is the right signature.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "fuzz.h"
#include "sms/gw_http.h"
#include "sms/gw_kannel.h"
#include "sms/gw_webhook.h"
#include "util/utf8.h"

static void check_form(str meta, str body)
{
    static const char *const keys[] = {"from", "to", "text", "id", "token", ""};
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        buf b;
        buf_init(&b);
        int r = gw_http_form_get(body, keys[i], &b);
        CHECK(r == 0 || r == -ENOENT || r == -EINVAL);
        CHECK(b.n <= body.n);
        buf_free(&b);
    }
    /* META %-encoded as the value of "text" between other fields */
    buf form, out;
    buf_init(&form);
    buf_init(&out);
    buf_printf(&form, "from=%%2B46701&text=");
    size_t before = form.n;
    gw_url_escape(&form, meta);
    for (size_t i = before; i < form.n; i++) {
        char c = form.p[i];
        CHECK(c == '%' || c == '-' || c == '_' || c == '.' || c == '~' ||
              (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'));
    }
    buf_printf(&form, "&id=9");
    CHECK(gw_http_form_get((str){form.p, form.n}, "text", &out) == 0);
    CHECK(out.n == meta.n && (meta.n == 0 || memcmp(out.p, meta.p, meta.n) == 0));
    buf_free(&form);
    buf_free(&out);
}

static void check_fields(uint8_t sel, str meta, str body)
{
    static const char *const names[] = {"from", "to", "text", "id"};
    const char *ct = sel & 1 ? "application/x-www-form-urlencoded" : "application/json";
    gw_http_fields f;
    int r = gw_http_fields_parse(ct, body, names, 4, &f);
    CHECK(r == 0 || r == -EINVAL);
    if (r == 0 && f.j) {
        for (size_t i = 0; i < 4; i++) {
            json_t *v = json_object_get(f.j, names[i]);
            if (json_is_string(v))
                CHECK(str_eq(f.v[i], (str){json_string_value(v), json_string_length(v)}));
            else if (!json_is_integer(v))
                CHECK(f.v[i].p == NULL);
        }
    }
    gw_http_fields_free(&f);

    json_t *o = json_object();
    json_t *s = json_stringn(meta.p ? meta.p : "", meta.n); /* NULL unless valid UTF-8 */
    CHECK((s != NULL) == (utf8_count(meta.p, meta.n) >= 0));
    if (s) {
        json_object_set_new(o, "text", s);
        json_object_set_new(o, "id", json_integer(sel));
        char *d = json_dumps(o, JSON_COMPACT | JSON_ENSURE_ASCII);
        CHECK(d);
        CHECK(gw_http_fields_parse("application/json", str_c(d), names, 4, &f) == 0);
        CHECK(str_eq(f.v[2], meta) && f.v[2].p);
        char want[8];
        snprintf(want, sizeof want, "%u", sel);
        CHECK(str_eq(f.v[3], str_c(want)));
        CHECK(!f.v[0].p && !f.v[1].p);
        gw_http_fields_free(&f);
        free(d);
    }
    json_decref(o);
}

static void check_decode(uint8_t sel, str meta, str body)
{
    static const char *const charsets[] = {"",           "UTF-8",    "utf8",   "UTF-16BE",
                                           "UCS-2",      "utf-16",   "ISO-8859-1", "latin1",
                                           "WINDOWS-1252", "EBCDIC", NULL};
    char ct[64], cs[16];
    snprintf(ct, sizeof ct, "%.*s", (int)(meta.n < 63 ? meta.n : 63), meta.p ? meta.p : "");
    gw_http_content_charset(ct, cs, sizeof cs);
    size_t cl = strlen(cs);
    CHECK(cl < sizeof cs);
    CHECK(!memchr(cs, '"', cl) && !memchr(cs, ';', cl) && !memchr(cs, ' ', cl));

    const char *charset = charsets[sel % 11];
    if (!charset)
        charset = cs;
    int coding = (sel >> 4) & 3;
    buf out;
    buf_init(&out);
    int r = gw_kannel_decode_text(body, charset, coding, &out);
    CHECK(r == 0 || r == -EILSEQ || r == -ENOTSUP);
    if (r == 0) {
        long chars = utf8_count(out.p ? out.p : "", out.n);
        CHECK(chars >= 0);
        const char *eff = *charset ? charset : coding == 2 ? "UTF-16BE" : "UTF-8";
        if (strcasecmp(eff, "UTF-8") == 0 || strcasecmp(eff, "utf8") == 0)
            CHECK(out.n == body.n && (body.n == 0 || memcmp(out.p, body.p, body.n) == 0));
        if (strcasecmp(eff, "ISO-8859-1") == 0 || strcasecmp(eff, "latin1") == 0 ||
            strcasecmp(eff, "WINDOWS-1252") == 0)
            CHECK((size_t)chars == body.n);
        if (strcasecmp(eff, "UTF-16BE") == 0)
            CHECK(body.n % 2 == 0 && (size_t)chars <= body.n / 2);
    } else {
        CHECK(out.n == 0);
    }
    buf_free(&out);
}

static void check_ref(str meta)
{
    int64_t v = 0;
    int r = gw_http_ref_parse(meta, &v);
    int digits = meta.n > 0;
    for (size_t i = 0; i < meta.n; i++)
        digits &= meta.p[i] >= '0' && meta.p[i] <= '9';
    CHECK(r == 0 || r == -EINVAL);
    if (!digits) {
        CHECK(r != 0);
        return;
    }
    size_t lead = 0;
    while (lead < meta.n && meta.p[lead] == '0')
        lead++;
    size_t sig = meta.n - lead;
    int fits = sig > 0 && (meta.n < 19 || (meta.n == 19 &&
                                           memcmp(meta.p, "9223372036854775807", 19) <= 0));
    CHECK((r == 0) == fits);
    if (r == 0) {
        char back[24];
        int n = snprintf(back, sizeof back, "%lld", (long long)v);
        CHECK(v > 0 && (size_t)n == sig && memcmp(back, meta.p + lead, sig) == 0);
    }
}

static void check_hmac(const uint8_t *data, size_t size, str meta, str body)
{
    char secret[65];
    snprintf(secret, sizeof secret, "%.*s", (int)(meta.n < 64 ? meta.n : 64),
             meta.p ? meta.p : "");
    int64_t ts = 0;
    for (size_t i = 0; i < size && i < 5; i++)
        ts = ts * 256 + data[i]; /* up to 2^40: an 11..13-digit time */
    char sig[72], tsb[24];
    gw_webhook_sign(secret, ts, body, sig);
    CHECK(strlen(sig) == 71 && memcmp(sig, "sha256=", 7) == 0);
    int tn = snprintf(tsb, sizeof tsb, "%lld", (long long)ts);
    str tss = {tsb, (size_t)tn}, sigs = {sig, 71};
    CHECK(gw_webhook_verify(secret, tss, sigs, body, ts) == 0);
    CHECK(gw_webhook_verify(secret, tss, sigs, body, ts + GW_WEBHOOK_TOLERANCE_S) == 0);
    CHECK(gw_webhook_verify(secret, tss, sigs, body, ts + GW_WEBHOOK_TOLERANCE_S + 1) ==
          -ETIMEDOUT);
    CHECK(gw_webhook_verify(secret, tss, sigs, body, ts - GW_WEBHOOK_TOLERANCE_S - 1) ==
          -ETIMEDOUT);
    char up[72];
    memcpy(up, sig, 72);
    for (int i = 7; i < 71; i++)
        if (up[i] >= 'a' && up[i] <= 'f')
            up[i] = (char)(up[i] - 32);
    CHECK(gw_webhook_verify(secret, tss, (str){up, 71}, body, ts) == 0);
    int at = 7 + (int)(size % 64);
    up[at] = up[at] == '0' ? '1' : '0';
    CHECK(gw_webhook_verify(secret, tss, (str){up, 71}, body, ts) == -EACCES);
    CHECK(gw_webhook_verify(secret, tss, (str){sig, 70}, body, ts) == -EINVAL);

    /* META as the signature header, then as the timestamp header */
    int r = gw_webhook_verify(secret, tss, meta, body, ts);
    CHECK(r == 0 || r == -EINVAL || r == -EACCES);
    if (r == 0)
        CHECK(meta.n == 71 && strncasecmp(meta.p, sig, 71) == 0);
    r = gw_webhook_verify(secret, meta, sigs, body, ts);
    CHECK(r == 0 || r == -EINVAL || r == -EACCES || r == -ETIMEDOUT);
    if (r == 0) { /* only the same time, maybe written with leading zeros */
        int64_t t = 0;
        for (size_t i = 0; i < meta.n; i++)
            t = t * 10 + (meta.p[i] - '0');
        CHECK(t == ts);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *nul = memchr(data, 0, size);
    str meta = {(const char *)data, nul ? (size_t)(nul - data) : size};
    str body = nul ? (str){(const char *)nul + 1, size - meta.n - 1} : STR_NULL;
    uint8_t sel = size ? data[0] : 0;
    check_form(meta, body);
    check_fields(sel, meta, body);
    check_decode(sel, meta, body);
    check_ref(meta);
    check_hmac(data, size, meta, body);
    return 0;
}
