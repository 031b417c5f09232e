/* Unit tests of the HTTP gateways' pure parts: Kannel's sendsms URL, DLR
 * and answer mapping, MO text decoding; the webhook's HMAC signature,
 * verification and body; the client's URL parsing; the form decoder. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sms/gw_http.h"
#include "net/net_http.h"
#include "sms/gw_kannel.h"
#include "sms/gw_webhook.h"

static const gw_kannel_cfg kcfg = {
    .id = "k1",
    .sendsms_url = "http://127.0.0.1:13013/cgi-bin/sendsms",
    .username = "tester",
    .password = "foo&bar",
    .dlr_url_base = "http://127.0.0.1:8080",
    .dlr_mask = 27,
};

/* The value of query argument 'key' in 'url' (still %-encoded). */
static char *qarg(const char *url, const char *key)
{
    static char out[4096];
    char pat[64];
    snprintf(pat, sizeof pat, "&%s=", key);
    const char *p = strstr(url, pat);
    if (!p) {
        snprintf(pat, sizeof pat, "?%s=", key);
        p = strstr(url, pat);
    }
    if (!p)
        return NULL;
    p += strlen(pat);
    size_t n = strcspn(p, "&");
    memcpy(out, p, n);
    out[n] = '\0';
    return out;
}

static void test_sendsms_url_gsm(void **state)
{
    (void)state;
    buf b;
    buf_init(&b);
    gw_out m = {42, STR_LIT("71000"), STR_LIT("+46701234567"), STR_LIT("Hej då! 50% € [x]")};
    assert_int_equal(gw_kannel_sendsms_url(&kcfg, &m, &b), 0);
    assert_true(strncmp(b.p, "http://127.0.0.1:13013/cgi-bin/sendsms?username=tester&", 55) == 0);
    assert_string_equal(qarg(b.p, "password"), "foo%26bar");
    assert_string_equal(qarg(b.p, "from"), "71000");
    assert_string_equal(qarg(b.p, "to"), "%2B46701234567");
    assert_string_equal(qarg(b.p, "text"), "Hej%20d%C3%A5%21%2050%25%20%E2%82%AC%20%5Bx%5D");
    assert_string_equal(qarg(b.p, "charset"), "UTF-8");
    assert_string_equal(qarg(b.p, "coding"), "0"); /* € and [ ] are GSM (extension) */
    assert_string_equal(qarg(b.p, "dlr-mask"), "27");
    /* the dlr-url is escaped once: Kannel decodes it and fills in %d, %A, %T */
    assert_string_equal(qarg(b.p, "dlr-url"),
                        "http%3A%2F%2F127.0.0.1%3A8080%2Fapi%2Fgw%2Fkannel%2Fk1%2Fdlr%3Fref%3D42"
                        "%26type%3D%25d%26reply%3D%25A%26ts%3D%25T");
    assert_null(qarg(b.p, "smsc"));
    buf_free(&b);
}

static void test_sendsms_url_ucs2_token_smsc(void **state)
{
    (void)state;
    gw_kannel_cfg c = kcfg;
    c.token = "tok-1";
    c.smsc = "carrier";
    buf b;
    buf_init(&b);
    gw_out m = {7, STR_LIT("71000"), STR_LIT("+46701234567"), STR_LIT("Tack 😀")};
    assert_int_equal(gw_kannel_sendsms_url(&c, &m, &b), 0);
    assert_string_equal(qarg(b.p, "coding"), "2");
    assert_string_equal(qarg(b.p, "text"), "Tack%20%F0%9F%98%80");
    assert_non_null(strstr(qarg(b.p, "dlr-url"), "%26token%3Dtok-1"));
    assert_string_equal(qarg(b.p, "smsc"), "carrier");
    buf_free(&b);
    gw_out bad = {8, STR_LIT("71000"), STR_LIT("+4670"), STR_LIT("\xff")};
    buf_init(&b);
    assert_int_equal(gw_kannel_sendsms_url(&c, &bad, &b), -EILSEQ);
    buf_free(&b);
}

/* A URL's %-escaped query value, decoded (the test strings have no '+'). */
static size_t unescape(const char *in, char *out)
{
    size_t n = 0;
    for (; *in; in++) {
        unsigned v;
        if (*in == '%' && sscanf(in + 1, "%2x", &v) == 1) {
            out[n++] = (char)v;
            in += 2;
        } else {
            out[n++] = *in;
        }
    }
    out[n] = '\0';
    return n;
}

/* Checks part 'i' (0-based) of 'n' of message 'ref' in 'u': udh, coding,
 * text and the dlr-url's part numbers. */
static void part_is(const buf *u, int64_t ref, size_t i, size_t n, const char *coding,
                    const char *text)
{
    char got[2048], want[64];
    size_t k = unescape(qarg(u->p, "udh"), got);
    const unsigned char udh[6] = {5, 0, 3, (unsigned char)(ref & 0xff), (unsigned char)n,
                                  (unsigned char)(i + 1)};
    assert_int_equal(k, 6);
    assert_memory_equal(got, udh, 6);
    assert_string_equal(qarg(u->p, "coding"), coding);
    assert_string_equal(qarg(u->p, "charset"), "UTF-8");
    unescape(qarg(u->p, "text"), got);
    assert_string_equal(got, text);
    unescape(qarg(u->p, "dlr-url"), got);
    snprintf(want, sizeof want, "dlr?ref=%lld&part=%zu&parts=%zu&type=%%d", (long long)ref, i + 1, n);
    assert_non_null(strstr(got, want));
}

/* A message in several SMS goes as our own parts: the emoji and the ESC
 * pair stay whole (Kannel's own split cuts the emoji), the UDH carries the
 * reference's low byte; a message in one SMS keeps its single URL. */
static void test_sendsms_part_urls(void **state)
{
    (void)state;
    char a66[67], b22[23], text[512], p2[64];
    memset(a66, 'a', 66), a66[66] = '\0';
    memset(b22, 'b', 22), b22[22] = '\0';
    snprintf(text, sizeof text, "%s\xf0\x9f\x98\x80%s", a66, b22);
    snprintf(p2, sizeof p2, "\xf0\x9f\x98\x80%s", b22);
    gw_out m = {300, STR_LIT("71000"), STR_LIT("+46701234567"), str_c(text)};
    buf *u;
    size_t n;
    assert_int_equal(gw_kannel_sendsms_urls(&kcfg, &m, &u, &n), 0);
    assert_int_equal(n, 2);
    part_is(&u[0], 300, 0, 2, "2", a66);
    part_is(&u[1], 300, 1, 2, "2", p2);
    for (size_t i = 0; i < n; i++)
        buf_free(&u[i]);
    free(u);

    /* gsm7: a x152, EUR, a x152 = 306 septets in 3 parts, the ESC pair kept
     * in part 2 (152 | EUR + 151 | 1) */
    char a152[153], g[400], g2[200];
    memset(a152, 'a', 152), a152[152] = '\0';
    snprintf(g, sizeof g, "%s\xe2\x82\xac%s", a152, a152);
    snprintf(g2, sizeof g2, "\xe2\x82\xac%.151s", a152);
    gw_out gm = {7, STR_LIT("71000"), STR_LIT("+46701234567"), str_c(g)};
    assert_int_equal(gw_kannel_sendsms_urls(&kcfg, &gm, &u, &n), 0);
    assert_int_equal(n, 3);
    part_is(&u[0], 7, 0, 3, "0", a152);
    part_is(&u[1], 7, 1, 3, "0", g2);
    part_is(&u[2], 7, 2, 3, "0", "a");
    for (size_t i = 0; i < n; i++)
        buf_free(&u[i]);
    free(u);

    gw_out one = {8, STR_LIT("71000"), STR_LIT("+46701234567"), STR_LIT("Tack 😀")};
    buf single;
    buf_init(&single);
    assert_int_equal(gw_kannel_sendsms_url(&kcfg, &one, &single), 0);
    assert_int_equal(gw_kannel_sendsms_urls(&kcfg, &one, &u, &n), 0);
    assert_int_equal(n, 1);
    assert_string_equal(u[0].p, single.p);
    assert_null(qarg(u[0].p, "udh"));
    buf_free(&u[0]);
    free(u);
    buf_free(&single);

    gw_out bad = {9, STR_LIT("71000"), STR_LIT("+4670"), STR_LIT("\xff")};
    assert_int_equal(gw_kannel_sendsms_urls(&kcfg, &bad, &u, &n), -EILSEQ);
}

static void no_result(void *arg, int64_t ref, int status, str provider_id, str error)
{
    (void)arg, (void)ref, (void)status, (void)provider_id, (void)error;
    fail_msg("no send was made");
}

/* The parts' reports make the message's: delivered when the last part is,
 * failed at the first failed part, nothing after the final status. */
static void test_part_reports(void **state)
{
    (void)state;
    gw *g = gw_kannel_new(&kcfg, NULL, no_result, NULL);
    /* ref 1: three parts delivered one by one, one report repeated */
    assert_int_equal(gw_kannel_part_report(g, 1, 1, 3, GW_SENT), GW_SENT);
    assert_int_equal(gw_kannel_part_report(g, 1, 2, 3, GW_DELIVERED), GW_SENT);
    assert_int_equal(gw_kannel_part_report(g, 1, 2, 3, GW_DELIVERED), GW_SENT);
    assert_int_equal(gw_kannel_part_report(g, 1, 3, 3, GW_DELIVERED), GW_SENT);
    assert_int_equal(gw_kannel_part_report(g, 1, 1, 3, GW_DELIVERED), GW_DELIVERED);
    assert_int_equal(gw_kannel_part_report(g, 1, 1, 3, GW_SENT), -1);
    assert_int_equal(gw_kannel_part_report(g, 1, 2, 3, GW_FAILED), -1);
    /* ref 2: a failed part fails the message; later deliveries change nothing */
    assert_int_equal(gw_kannel_part_report(g, 2, 1, 2, GW_DELIVERED), GW_SENT);
    assert_int_equal(gw_kannel_part_report(g, 2, 2, 2, GW_FAILED), GW_FAILED);
    assert_int_equal(gw_kannel_part_report(g, 2, 2, 2, GW_DELIVERED), -1);
    assert_int_equal(gw_kannel_part_report(g, 2, 2, 2, GW_FAILED), -1);
    /* bad part numbers and ignored reports */
    assert_int_equal(gw_kannel_part_report(g, 3, 0, 2, GW_DELIVERED), -1);
    assert_int_equal(gw_kannel_part_report(g, 3, 3, 2, GW_DELIVERED), -1);
    assert_int_equal(gw_kannel_part_report(g, 3, 1, 1, GW_DELIVERED), -1);
    assert_int_equal(gw_kannel_part_report(g, 3, 1, 256, GW_DELIVERED), -1);
    assert_int_equal(gw_kannel_part_report(g, 3, 1, 2, -1), -1);
    assert_int_equal(gw_kannel_part_report(g, 3, 1, 2, GW_RETRY), -1);
    gw_free(g);
}

static void test_kannel_status_maps(void **state)
{
    (void)state;
    assert_int_equal(gw_kannel_dlr_status(1), GW_DELIVERED);
    assert_int_equal(gw_kannel_dlr_status(2), GW_FAILED);
    assert_int_equal(gw_kannel_dlr_status(16), GW_FAILED);
    assert_int_equal(gw_kannel_dlr_status(8), GW_SENT);
    assert_int_equal(gw_kannel_dlr_status(4), -1);
    assert_int_equal(gw_kannel_dlr_status(0), -1);
    assert_int_equal(gw_kannel_send_status(202, 1), GW_SENT);
    assert_int_equal(gw_kannel_send_status(403, 1), GW_FAILED);
    assert_int_equal(gw_kannel_send_status(400, 1), GW_FAILED);
    assert_int_equal(gw_kannel_send_status(503, 1), GW_RETRY);
    assert_int_equal(gw_kannel_send_status(429, 1), GW_RETRY);
    assert_int_equal(gw_kannel_send_status(0, 0), GW_RETRY);   /* refused: never sent */
    assert_int_equal(gw_kannel_send_status(0, 1), GW_UNKNOWN); /* may have been sent */
}

static void decode_is(const char *raw, size_t n, const char *cs, int coding, const char *want)
{
    buf b;
    buf_init(&b);
    assert_int_equal(gw_kannel_decode_text((str){raw, n}, cs, coding, &b), 0);
    assert_int_equal(b.n, strlen(want));
    assert_memory_equal(b.p, want, b.n);
    buf_free(&b);
}

static void test_kannel_decode(void **state)
{
    (void)state;
    decode_is("Hej d\xc3\xa5", 7, "UTF-8", 0, "Hej då");
    decode_is("\x00H\x20\xac\xd8\x3d\xde\x00", 8, "UTF-16BE", 2, "H€😀");
    decode_is("\x00H\x20\xac", 4, "", 2, "H€"); /* charset from coding */
    decode_is("\xe5\xe4\xf6", 3, "ISO-8859-1", 1, "åäö");
    buf b;
    buf_init(&b);
    assert_int_equal(gw_kannel_decode_text(STR_LIT("\xff"), "UTF-8", 0, &b), -EILSEQ);
    assert_int_equal(gw_kannel_decode_text(STR_LIT("\x00H\x20"), "UTF-16BE", 2, &b), -EILSEQ);
    assert_int_equal(gw_kannel_decode_text(STR_LIT("x"), "KOI8-R", 0, &b), -ENOTSUP);
    buf_free(&b);
}

/* The signature is HMAC-SHA256(secret, "<ts>." + body): checked against
 * libsodium computed apart, the primitive against RFC 4231 case 2. */
static void test_webhook_sign_verify(void **state)
{
    (void)state;
    assert_true(sodium_init() >= 0);
    char sig[72];
    gw_webhook_sign("Jefe", 0, STR_LIT("what do ya want for nothing?"), sig);
    assert_int_equal(strlen(sig), 71);
    assert_true(strncmp(sig, "sha256=", 7) == 0);
    /* independent: HMAC-SHA256("Jefe", "0.what do ya want for nothing?") */
    unsigned char mac[32];
    crypto_auth_hmacsha256_state st;
    crypto_auth_hmacsha256_init(&st, (const unsigned char *)"Jefe", 4);
    crypto_auth_hmacsha256_update(&st, (const unsigned char *)"0.what do ya want for nothing?", 30);
    crypto_auth_hmacsha256_final(&st, mac);
    char hex[65];
    sodium_bin2hex(hex, sizeof hex, mac, sizeof mac);
    assert_string_equal(sig + 7, hex);
    /* and the RFC vector itself, for the primitive */
    crypto_auth_hmacsha256_init(&st, (const unsigned char *)"Jefe", 4);
    crypto_auth_hmacsha256_update(&st, (const unsigned char *)"what do ya want for nothing?", 28);
    crypto_auth_hmacsha256_final(&st, mac);
    sodium_bin2hex(hex, sizeof hex, mac, sizeof mac);
    assert_string_equal(hex, "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");

    const char *secret = "a-long-webhook-secret";
    str body = STR_LIT("{\"from\":\"+46701234567\",\"to\":\"71000\",\"text\":\"Hej\",\"id\":\"p1\"}");
    gw_webhook_sign(secret, 1700000000, body, sig);
    str s = {sig, 71};
    assert_int_equal(gw_webhook_verify(secret, STR_LIT("1700000000"), s, body, 1700000100), 0);
    assert_int_equal(gw_webhook_verify("other-secret-xxxxxx", STR_LIT("1700000000"), s, body,
                                       1700000100),
                     -EACCES);
    assert_int_equal(gw_webhook_verify(secret, STR_LIT("1700000001"), s, body, 1700000100),
                     -EACCES);
    str tampered = STR_LIT("{\"from\":\"+46701234567\",\"to\":\"71000\",\"text\":\"Hej!\",\"id\":\"p1\"}");
    assert_int_equal(gw_webhook_verify(secret, STR_LIT("1700000000"), s, tampered, 1700000100),
                     -EACCES);
    assert_int_equal(gw_webhook_verify(secret, STR_LIT("1700000000"), s, body, 1700000000 + 301),
                     -ETIMEDOUT);
    assert_int_equal(gw_webhook_verify(secret, STR_LIT(""), s, body, 1700000000), -EINVAL);
    assert_int_equal(gw_webhook_verify(secret, STR_LIT("17x"), s, body, 1700000000), -EINVAL);
    assert_int_equal(gw_webhook_verify(secret, STR_LIT("1700000000"), STR_LIT("sha256=ab"), body,
                                       1700000000),
                     -EINVAL);
    /* upper-case hex is accepted */
    char up[72];
    memcpy(up, sig, 72);
    for (int i = 7; i < 71; i++)
        if (up[i] >= 'a' && up[i] <= 'f')
            up[i] = (char)(up[i] - 32);
    assert_int_equal(gw_webhook_verify(secret, STR_LIT("1700000000"), (str){up, 71}, body,
                                       1700000000),
                     0);
}

static void test_webhook_body(void **state)
{
    (void)state;
    gw_out m = {99, STR_LIT("71000"), STR_LIT("+46701234567"), STR_LIT("Tack 😀")};
    char *s = gw_webhook_body(&m);
    json_t *j = json_loads(s, 0, NULL);
    assert_non_null(j);
    assert_string_equal(json_string_value(json_object_get(j, "reference")), "99");
    assert_string_equal(json_string_value(json_object_get(j, "from")), "71000");
    assert_string_equal(json_string_value(json_object_get(j, "to")), "+46701234567");
    assert_string_equal(json_string_value(json_object_get(j, "text")), "Tack 😀");
    assert_string_equal(json_string_value(json_object_get(j, "encoding")), "ucs2");
    assert_int_equal(json_integer_value(json_object_get(j, "segments")), 1);
    json_decref(j);
    free(s);
    gw_out bad = {1, STR_LIT("a"), STR_LIT("b"), STR_LIT("\xc3")};
    assert_null(gw_webhook_body(&bad));
}

static void test_client_url(void **state)
{
    (void)state;
    char host[64], path[256];
    int port;
    assert_int_equal(net_http_parse_url("http://127.0.0.1:13013/cgi-bin/sendsms?a=b", host,
                                           sizeof host, &port, path, sizeof path),
                     0);
    assert_string_equal(host, "127.0.0.1");
    assert_int_equal(port, 13013);
    assert_string_equal(path, "/cgi-bin/sendsms?a=b");
    assert_int_equal(net_http_parse_url("http://10.0.0.1", host, sizeof host, &port, path,
                                           sizeof path),
                     0);
    assert_int_equal(port, 80);
    assert_string_equal(path, "/");
    assert_int_equal(net_http_parse_url("https://10.0.0.1/", host, sizeof host, &port, path,
                                           sizeof path),
                     0);
    assert_int_equal(port, 443);
    assert_int_equal(net_http_parse_url("https://crm.example.com:8443/hooks/textdesk", host,
                                        sizeof host, &port, path, sizeof path),
                     0);
    assert_string_equal(host, "crm.example.com");
    assert_int_equal(port, 8443);
    assert_string_equal(path, "/hooks/textdesk");
    /* not a host: other schemes, user info, spaces, empty labels */
    assert_int_equal(net_http_parse_url("ftp://10.0.0.1/", host, sizeof host, &port, path,
                                        sizeof path),
                     -1);
    assert_int_equal(net_http_parse_url("http://user@10.0.0.1/", host, sizeof host, &port, path,
                                        sizeof path),
                     -1);
    assert_int_equal(net_http_parse_url("http://a..b/", host, sizeof host, &port, path,
                                        sizeof path),
                     -1);
    assert_int_equal(net_http_parse_url("http://-a.b/", host, sizeof host, &port, path,
                                        sizeof path),
                     -1);
    assert_int_equal(net_http_parse_url("http://a b/", host, sizeof host, &port, path,
                                        sizeof path),
                     -1);
    assert_int_equal(net_http_parse_url("http://10.0.0.1:0/", host, sizeof host, &port, path,
                                           sizeof path),
                     -1);
    assert_int_equal(net_http_parse_url("http://10.0.0.1:70000/", host, sizeof host, &port,
                                           path, sizeof path),
                     -1);
    assert_int_equal(net_http_parse_url("http://10.0.0.1:/", host, sizeof host, &port, path,
                                           sizeof path),
                     -1);
    assert_int_equal(net_http_parse_url("http://:80/", host, sizeof host, &port, path,
                                           sizeof path),
                     -1);
    assert_true(net_http_host_ok("127.0.0.1"));
    assert_false(net_http_host_ok("localhost"));
    assert_false(net_http_host_ok("256.0.0.1"));
    assert_false(net_http_host_ok("1.2.3.4x"));
    assert_true(net_http_name_ok("localhost"));
    assert_true(net_http_name_ok("crm-1.example.com"));
    assert_false(net_http_name_ok("crm_1.example.com"));
    assert_false(net_http_name_ok("example.com-"));
}

static void form_is(const char *form, const char *key, int want_r, const char *want)
{
    buf b;
    buf_init(&b);
    assert_int_equal(gw_http_form_get(str_c(form), key, &b), want_r);
    if (want) {
        assert_int_equal(b.n, strlen(want));
        assert_memory_equal(b.p ? b.p : "", want, b.n);
    }
    buf_free(&b);
}

static void test_form(void **state)
{
    (void)state;
    const char *f = "from=%2B46701234567&to=71000&text=Hej+d%C3%A5+1%2B1&id=&idx=9";
    form_is(f, "from", 0, "+46701234567");
    form_is(f, "to", 0, "71000");
    form_is(f, "text", 0, "Hej då 1+1");
    form_is(f, "id", 0, "");
    form_is(f, "idx", 0, "9");
    form_is(f, "i", -ENOENT, NULL);
    form_is("text=%zz", "text", -EINVAL, NULL);
    form_is("text=%4", "text", -EINVAL, NULL);
}

static void test_ref_parse(void **state)
{
    (void)state;
    int64_t r = -1;
    assert_int_equal(gw_http_ref_parse(STR_LIT("42"), &r), 0);
    assert_int_equal(r, 42);
    assert_int_equal(gw_http_ref_parse(STR_LIT("9223372036854775807"), &r), 0);
    assert_true(r == INT64_MAX);
    r = 7;
    static const char *const bad[] = {"", "0", "000", "-1", "+1", " 1", "1 ", "1x", "0x10",
                                      "9223372036854775808", "99999999999999999999", "1e3"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(gw_http_ref_parse(str_c(bad[i]), &r), -EINVAL);
    assert_int_equal(r, 7); /* untouched on error */
}

static void test_content_charset(void **state)
{
    (void)state;
    char cs[16];
    gw_http_content_charset("text/plain; charset=UTF-16BE", cs, sizeof cs);
    assert_string_equal(cs, "UTF-16BE");
    gw_http_content_charset("text/plain; CHARSET=\"iso-8859-1\"; x=1", cs, sizeof cs);
    assert_string_equal(cs, "iso-8859-1");
    gw_http_content_charset("text/plain", cs, sizeof cs);
    assert_string_equal(cs, "");
    gw_http_content_charset("text/plain; charset=", cs, sizeof cs);
    assert_string_equal(cs, "");
    gw_http_content_charset("a; charset=abcdefghijklmnopqrstuvwxyz", cs, sizeof cs);
    assert_string_equal(cs, "abcdefghijklmno"); /* truncated to the room */
}

static void test_fields(void **state)
{
    (void)state;
    static const char *const names[] = {"from", "to", "text", "id"};
    gw_http_fields f;
    assert_int_equal(gw_http_fields_parse("application/json",
                                         STR_LIT("{\"from\":\"+4670\",\"text\":\"\",\"id\":77,"
                                                 "\"to\":[1]}"),
                                         names, 4, &f),
                     0);
    assert_true(str_eq(f.v[0], STR_LIT("+4670")));
    assert_null(f.v[1].p); /* not a string: absent */
    assert_non_null(f.v[2].p);
    assert_int_equal(f.v[2].n, 0);
    assert_true(str_eq(f.v[3], STR_LIT("77")));
    gw_http_fields_free(&f);
    assert_int_equal(gw_http_fields_parse("application/x-www-form-urlencoded; charset=utf-8",
                                         STR_LIT("to=71000&text=a+b&from=%2B1"), names, 4, &f),
                     0);
    assert_true(str_eq(f.v[0], STR_LIT("+1")) && str_eq(f.v[1], STR_LIT("71000")));
    assert_true(str_eq(f.v[2], STR_LIT("a b")));
    assert_null(f.v[3].p);
    gw_http_fields_free(&f);
    static const char *const bad[] = {"", "[]", "\"x\"", "{", "{\"a\":1}x", "from=1"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(gw_http_fields_parse("", str_c(bad[i]), names, 4, &f), -EINVAL);
        gw_http_fields_free(&f);
    }
    assert_int_equal(gw_http_fields_parse("", STR_LIT("{}"), names, 6, &f), -EINVAL);
    gw_http_fields_free(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sendsms_url_gsm),
        cmocka_unit_test(test_sendsms_url_ucs2_token_smsc),
        cmocka_unit_test(test_sendsms_part_urls),
        cmocka_unit_test(test_part_reports),
        cmocka_unit_test(test_kannel_status_maps),
        cmocka_unit_test(test_kannel_decode),
        cmocka_unit_test(test_webhook_sign_verify),
        cmocka_unit_test(test_webhook_body),
        cmocka_unit_test(test_client_url),
        cmocka_unit_test(test_form),
        cmocka_unit_test(test_ref_parse),
        cmocka_unit_test(test_content_charset),
        cmocka_unit_test(test_fields),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
