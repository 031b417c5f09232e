/*
 * Unit tests for src/api/api_sso (the pure parts of single sign-on): PKCE
 * against RFC 7636's example, the state table (single use, expiry, a full
 * table), the site's settings and their errors, and the ID token's claims:
 * issuer, audience and azp, expiry and issue time with the leeway, nonce,
 * username and the role mapping.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>
#include <sodium.h>

#include "api/api_sso.h"

#define NOW 1700000000LL /* seconds */

static const char *CFG =
    "{\"issuer\": \"https://idp.example/realms/td\", \"client_id\": \"textdesk\","
    " \"client_secret\": \"s3cret\", \"redirect_url\": \"https://td.example/sso/\","
    " \"role_claim\": \"realm_access.roles\","
    " \"roles\": {\"agent\": \"td-agent\", \"supervisor\": [\"td-sup\"], \"admin\": [\"td-admin\"]},"
    " \"passwords\": {\"agent\": false}}";

static void load(api_sso_cfg *c, const char *text)
{
    json_t *j = json_loads(text, 0, NULL);
    char err[256] = "";
    assert_int_equal(api_sso_cfg_parse(j, c, err, sizeof err), 0);
    json_decref(j);
}

static int parse_err(const char *text, char *err, size_t n)
{
    json_t *j = json_loads(text, 0, NULL);
    assert_non_null(j);
    api_sso_cfg c;
    int r = api_sso_cfg_parse(j, &c, err, n);
    if (r == 0)
        api_sso_cfg_free(&c);
    json_decref(j);
    return r;
}

static void test_pkce_rfc7636(void **state)
{
    (void)state;
    char ch[API_SSO_RAND];
    api_sso_challenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk", ch);
    assert_string_equal(ch, "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM");
    char a[API_SSO_RAND], b[API_SSO_RAND];
    api_sso_random(a);
    api_sso_random(b);
    assert_int_equal(strlen(a), 43); /* 32 bytes, base64url without padding */
    assert_string_not_equal(a, b);
    assert_null(strpbrk(a, "+/="));
}

static api_sso_pending pending(const char *st, int64_t expires)
{
    api_sso_pending p = {0};
    snprintf(p.state, sizeof p.state, "%s", st);
    snprintf(p.nonce, sizeof p.nonce, "n-%s", st);
    p.expires = expires;
    return p;
}

static void test_state_single_use_and_expiry(void **state)
{
    (void)state;
    static api_sso_table t; /* 1024 entries: not on the stack */
    memset(&t, 0, sizeof t);
    api_sso_pending p = pending("s1", 1000), out;
    assert_int_equal(api_sso_put(&t, &p, 0), 0);
    p = pending("s2", 1000);
    assert_int_equal(api_sso_put(&t, &p, 0), 0);
    assert_int_equal(api_sso_take(&t, "s1", 2, 500, &out), 0);
    assert_string_equal(out.nonce, "n-s1");
    assert_int_equal(api_sso_take(&t, "s1", 2, 500, &out), -1); /* replayed */
    assert_int_equal(api_sso_take(&t, "s2", 2, 1000, &out), -2); /* expired: gone too */
    assert_int_equal(api_sso_take(&t, "s2", 2, 0, &out), -1);
    assert_int_equal(api_sso_take(&t, "s", 1, 0, &out), -1);   /* a prefix is no match */
    assert_int_equal(api_sso_take(&t, "", 0, 0, &out), -1);
    char big[100];
    memset(big, 'a', sizeof big);
    assert_int_equal(api_sso_take(&t, big, sizeof big, 0, &out), -1);

    /* full: refused while every entry is live, room again once they expire */
    for (int i = 0; i < API_SSO_PENDING_MAX; i++) {
        char s[16];
        snprintf(s, sizeof s, "f%d", i);
        p = pending(s, 2000);
        snprintf(p.client, sizeof p.client, "10.0.%d.%d", i / 256, i % 256);
        assert_int_equal(api_sso_put(&t, &p, 100), 0);
    }
    p = pending("late", 3000);
    assert_int_equal(api_sso_put(&t, &p, 100), -1);
    assert_int_equal(api_sso_put(&t, &p, 2000), 0);
    assert_int_equal(api_sso_take(&t, "late", 4, 2500, &out), 0);
}

/* One address cannot fill the table: its oldest sign-in gives way to its
 * newest, and nobody else's is touched. */
static void test_state_per_client(void **state)
{
    (void)state;
    static api_sso_table t;
    memset(&t, 0, sizeof t);
    api_sso_pending p = pending("other", 5000), out;
    snprintf(p.client, sizeof p.client, "192.0.2.1");
    assert_int_equal(api_sso_put(&t, &p, 0), 0);
    for (int i = 0; i < 3 * API_SSO_PER_CLIENT; i++) {
        char s[16];
        snprintf(s, sizeof s, "m%d", i);
        p = pending(s, 1000 + i);
        snprintf(p.client, sizeof p.client, "198.51.100.7");
        assert_int_equal(api_sso_put(&t, &p, 0), 0);
    }
    int live = 0;
    for (int i = 0; i < API_SSO_PENDING_MAX; i++)
        live += t.e[i].expires != 0;
    assert_int_equal(live, API_SSO_PER_CLIENT + 1);
    assert_int_equal(api_sso_take(&t, "m0", 2, 0, &out), -1); /* given way */
    char last[16];
    snprintf(last, sizeof last, "m%d", 3 * API_SSO_PER_CLIENT - 1);
    assert_int_equal(api_sso_take(&t, last, strlen(last), 0, &out), 0);
    assert_int_equal(api_sso_take(&t, "other", 5, 0, &out), 0);
}

static void test_settings(void **state)
{
    (void)state;
    api_sso_cfg c;
    load(&c, CFG);
    assert_true(c.on);
    assert_string_equal(c.username_claim, "preferred_username");
    assert_string_equal(c.scope, "openid profile email");
    assert_false(c.passwords[0]);
    assert_true(c.passwords[1] && c.passwords[2]);
    assert_int_equal(c.jwks_refetch_ms, 60000);
    api_sso_cfg_free(&c);
    load(&c, "null");
    assert_false(c.on);
    assert_true(c.passwords[0] && c.passwords[1] && c.passwords[2]);

    /* a complete client with one key changed or added: refused, saying why */
    static const char *const bad[][2] = {
        {"\"provision\": true", "sso.provision: needs role_claim"},
        {"\"issuer\": \"ftp://i\"", "sso.issuer: must be an http(s) URL"},
        {"\"colour\": 1", "unknown key \"colour\""},
        {"\"role_claim\": \"g\", \"roles\": {\"agent\": \"a\", \"boss\": \"b\"}", "sso.roles"},
        {"\"role_claim\": \"g\"", "sso.roles: is required with role_claim"},
        {"\"scope\": \"profile\"", "sso.scope: must include \"openid\""},
        {"\"redirect_url\": \"https://r/callback\"", "sso.redirect_url: must be textdesk's page /sso/"},
        {"\"passwords\": {\"agent\": 0}", "sso.passwords"},
        {"\"jwks_refetch_s\": -1", "sso.jwks_refetch_s: must be 0..86400"},
        {"\"agent_teams\": [0]", "sso.agent_teams"},
    };
    char err[256], text[512];
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        /* the later of two equal keys wins in jansson's default decoding */
        snprintf(text, sizeof text,
                 "{\"issuer\": \"https://i\", \"client_id\": \"c\", \"client_secret\": \"s\","
                 " \"redirect_url\": \"https://r/sso/\", %s}",
                 bad[i][0]);
        assert_int_equal(parse_err(text, err, sizeof err), -1);
        if (!strstr(err, bad[i][1]))
            fail_msg("%s: got \"%s\"", bad[i][0], err);
    }
    assert_int_equal(parse_err("[1]", err, sizeof err), -1);
    assert_string_equal(err, "sso: must be an object {\"issuer\": ..., \"client_id\": ...}"
                             " (docs/configuration.md, \"Single sign-on\")");
    assert_int_equal(parse_err("{\"client_id\": \"x\"}", err, sizeof err), -1);
    assert_string_equal(err, "sso.issuer: is required (a string)");
}

/* The claims of a good token for 'c', as JSON text with 'extra' members. */
static json_t *claims(const char *extra)
{
    char t[1024];
    snprintf(t, sizeof t,
             "{\"iss\": \"https://idp.example/realms/td\", \"aud\": \"textdesk\", \"sub\": \"u1\","
             " \"exp\": %lld, \"iat\": %lld, \"nonce\": \"N\", \"preferred_username\": \"anna\","
             " \"realm_access\": {\"roles\": [\"offline\", \"td-agent\"]}%s%s}",
             NOW + 300, NOW - 1, extra[0] ? ", " : "", extra);
    json_t *j = json_loads(t, 0, NULL);
    assert_non_null(j);
    return j;
}

/* The error code of checking 'j' (stolen), or "ok". */
static const char *check(const api_sso_cfg *c, json_t *j, api_sso_who *who)
{
    const char *code = "ok";
    char msg[256];
    int r = api_sso_claims(j, c, "N", NOW, who, &code, msg, sizeof msg);
    json_decref(j);
    if (r == 0)
        return "ok";
    assert_true(strlen(msg) > 10);
    return code;
}

/* 'key' set to 'val' (JSON) in a good token. */
static json_t *with(const char *key, const char *val)
{
    json_t *j = claims(""), *v = json_loads(val, JSON_DECODE_ANY, NULL);
    assert_non_null(v);
    json_object_set_new(j, key, v);
    return j;
}

static void test_claims(void **state)
{
    (void)state;
    api_sso_cfg c;
    load(&c, CFG);
    api_sso_who who;
    assert_string_equal(check(&c, claims(""), &who), "ok");
    assert_string_equal(who.username, "anna");
    assert_int_equal(who.role, 0);
    /* the highest role any value gives */
    assert_string_equal(check(&c, with("realm_access", "{\"roles\": [\"td-agent\", \"td-admin\", \"td-sup\"]}"), &who), "ok");
    assert_int_equal(who.role, 2);
    assert_string_equal(check(&c, with("realm_access", "{\"roles\": \"td-sup\"}"), &who), "ok");
    assert_int_equal(who.role, 1);
    assert_string_equal(check(&c, with("realm_access", "{\"roles\": [\"other\"]}"), &who), "sso_no_role");
    assert_string_equal(check(&c, with("realm_access", "{}"), &who), "sso_no_role");
    assert_string_equal(check(&c, with("realm_access", "{\"roles\": [1]}"), &who), "sso_claim_too_large");

    assert_string_equal(check(&c, with("iss", "\"https://idp.example/realms/td/\""), &who), "sso_wrong_issuer");
    assert_string_equal(check(&c, with("iss", "null"), &who), "sso_wrong_issuer");
    assert_string_equal(check(&c, with("aud", "\"other\""), &who), "sso_wrong_audience");
    assert_string_equal(check(&c, with("aud", "[\"other\", \"textdesk\"]"), &who), "sso_wrong_audience"); /* no azp */
    json_t *j = with("aud", "[\"other\", \"textdesk\"]");
    json_object_set_new(j, "azp", json_string("textdesk"));
    assert_string_equal(check(&c, j, &who), "ok");
    assert_string_equal(check(&c, with("azp", "\"other\""), &who), "sso_wrong_audience");
    assert_string_equal(check(&c, with("aud", "[\"textdesk\"]"), &who), "ok");

    char v[32];
    snprintf(v, sizeof v, "%lld", NOW - API_SSO_LEEWAY_S + 1); /* within the leeway */
    assert_string_equal(check(&c, with("exp", v), &who), "ok");
    snprintf(v, sizeof v, "%lld", NOW - API_SSO_LEEWAY_S);
    assert_string_equal(check(&c, with("exp", v), &who), "sso_token_expired");
    assert_string_equal(check(&c, with("exp", "\"soon\""), &who), "sso_token_expired");
    snprintf(v, sizeof v, "%lld", NOW + API_SSO_LEEWAY_S + 1);
    assert_string_equal(check(&c, with("iat", v), &who), "sso_token_expired");
    assert_string_equal(check(&c, with("nonce", "\"M\""), &who), "sso_wrong_nonce");
    j = claims("");
    json_object_del(j, "nonce");
    assert_string_equal(check(&c, j, &who), "sso_wrong_nonce");

    assert_string_equal(check(&c, with("preferred_username", "\"\""), &who), "sso_no_username");
    assert_string_equal(check(&c, with("preferred_username", "42"), &who), "sso_no_username");
    char longname[80];
    snprintf(longname, sizeof longname, "\"%065d\"", 0);
    assert_string_equal(check(&c, with("preferred_username", longname), &who), "sso_no_username");
    api_sso_cfg_free(&c);

    /* without a role claim: no role (the account's own is used) */
    load(&c, "{\"issuer\": \"https://idp.example/realms/td\", \"client_id\": \"textdesk\","
             " \"client_secret\": \"s\", \"redirect_url\": \"https://td.example/sso/\","
             " \"username_claim\": \"email\"}");
    assert_string_equal(check(&c, with("email", "\"anna@example.se\""), &who), "ok");
    assert_string_equal(who.username, "anna@example.se");
    assert_int_equal(who.role, -1);
    api_sso_cfg_free(&c);
}

static void test_auth_url(void **state)
{
    (void)state;
    api_sso_cfg c;
    load(&c, CFG);
    api_sso_pending p = pending("ST", 1);
    snprintf(p.verifier, sizeof p.verifier, "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk");
    char url[1024];
    assert_int_equal(api_sso_auth_url(&c, "https://idp.example/auth", &p, url, sizeof url), 0);
    assert_string_equal(url, "https://idp.example/auth?response_type=code&client_id=textdesk"
                             "&redirect_uri=https%3A%2F%2Ftd.example%2Fsso%2F"
                             "&scope=openid%20profile%20email&state=ST&nonce=n-ST"
                             "&code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
                             "&code_challenge_method=S256");
    assert_int_equal(api_sso_auth_url(&c, "https://idp.example/auth?x=1", &p, url, sizeof url), 0);
    assert_non_null(strstr(url, "auth?x=1&response_type=code"));
    assert_int_equal(api_sso_auth_url(&c, "https://idp.example/auth", &p, url, 60), -1);
    api_sso_cfg_free(&c);
}

int main(void)
{
    if (sodium_init() < 0)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pkce_rfc7636),
        cmocka_unit_test(test_state_single_use_and_expiry),
        cmocka_unit_test(test_state_per_client),
        cmocka_unit_test(test_settings),
        cmocka_unit_test(test_claims),
        cmocka_unit_test(test_auth_url),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
