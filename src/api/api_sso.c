#include "api/api_sso.h"

#include <sodium.h>
#include <stdio.h>
#include <string.h>

static const char *const ROLE_NAMES[API_SSO_ROLES] = {"agent", "supervisor", "admin"};

static int fail(char *err, size_t n, const char *key, const char *what)
{
    snprintf(err, n, "sso%s%s: %s", *key ? "." : "", key, what);
    return -1;
}

/* Copies string member 'key' of 'o' into 'out' (capacity 'cap'). */
static int text(const json_t *o, const char *key, int required, char *out, size_t cap,
                char *err, size_t n)
{
    const json_t *v = json_object_get(o, key);
    if (!v) {
        if (required)
            return fail(err, n, key, "is required (a string)");
        return 0;
    }
    if (!json_is_string(v) || json_string_length(v) == 0 || json_string_length(v) >= cap)
        return fail(err, n, key, "must be a non-empty string of reasonable length");
    snprintf(out, cap, "%s", json_string_value(v));
    return 0;
}

static int url_ok(const char *u)
{
    return strncmp(u, "https://", 8) == 0 || strncmp(u, "http://", 7) == 0;
}

int api_sso_cfg_parse(const json_t *o, api_sso_cfg *c, char *err, size_t n)
{
    memset(c, 0, sizeof *c);
    for (int r = 0; r < API_SSO_ROLES; r++)
        c->passwords[r] = 1;
    if (!o || json_is_null(o))
        return 0;
    if (!json_is_object(o))
        return fail(err, n, "", "must be an object {\"issuer\": ..., \"client_id\": ...}"
                                " (docs/configuration.md, \"Single sign-on\")");
    static const char *const keys[] = {"issuer", "client_id", "client_secret", "redirect_url",
                                       "scope", "username_claim", "role_claim", "roles",
                                       "provision", "agent_teams", "passwords",
                                       "jwks_refetch_s", NULL};
    const char *key;
    const json_t *v;
    json_object_foreach((json_t *)o, key, v)
    {
        size_t i = 0;
        while (keys[i] && strcmp(keys[i], key) != 0)
            i++;
        if (!keys[i]) {
            snprintf(err, n, "sso: unknown key \"%.40s\" (docs/configuration.md lists them)", key);
            return -1;
        }
    }
    snprintf(c->scope, sizeof c->scope, "openid profile email");
    snprintf(c->username_claim, sizeof c->username_claim, "preferred_username");
    if (text(o, "issuer", 1, c->issuer, sizeof c->issuer, err, n) ||
        text(o, "client_id", 1, c->client_id, sizeof c->client_id, err, n) ||
        text(o, "client_secret", 1, c->client_secret, sizeof c->client_secret, err, n) ||
        text(o, "redirect_url", 1, c->redirect_url, sizeof c->redirect_url, err, n) ||
        text(o, "scope", 0, c->scope, sizeof c->scope, err, n) ||
        text(o, "username_claim", 0, c->username_claim, sizeof c->username_claim, err, n) ||
        text(o, "role_claim", 0, c->role_claim, sizeof c->role_claim, err, n))
        return -1;
    if (!url_ok(c->issuer))
        return fail(err, n, "issuer", "must be an http(s) URL");
    size_t rn = strlen(c->redirect_url);
    if (!url_ok(c->redirect_url) || rn < 5 || strcmp(c->redirect_url + rn - 5, "/sso/") != 0)
        return fail(err, n, "redirect_url",
                    "must be textdesk's page /sso/ as browsers reach it (https://HOST/sso/)");
    if (!strstr(c->scope, "openid"))
        return fail(err, n, "scope", "must include \"openid\"");
    const json_t *roles = json_object_get(o, "roles");
    if (roles && !json_is_object(roles))
        return fail(err, n, "roles", "must be an object {\"agent\": [VALUE, ...], ...}");
    if (c->role_claim[0] && !roles)
        return fail(err, n, "roles", "is required with role_claim: which values give which role");
    json_object_foreach((json_t *)roles, key, v)
    {
        int r = 0;
        while (r < API_SSO_ROLES && strcmp(ROLE_NAMES[r], key) != 0)
            r++;
        if (r == API_SSO_ROLES)
            return api_sso_cfg_free(c),
                   fail(err, n, "roles", "takes only agent, supervisor and admin");
        json_t *arr = json_is_string(v) ? json_pack("[O]", v) : json_incref((json_t *)v);
        size_t i;
        json_t *e;
        int bad = !json_is_array(arr);
        json_array_foreach(arr, i, e) bad |= !json_is_string(e);
        if (bad) {
            json_decref(arr);
            api_sso_cfg_free(c);
            return fail(err, n, "roles", "values must be strings or lists of strings");
        }
        c->role_values[r] = arr;
    }
    const json_t *p = json_object_get(o, "provision");
    if (p && !json_is_boolean(p))
        return api_sso_cfg_free(c), fail(err, n, "provision", "must be true or false");
    c->provision = json_is_true(p);
    const json_t *teams = json_object_get(o, "agent_teams");
    size_t i;
    json_t *e;
    if (teams && (!json_is_array(teams) || json_array_size(teams) > API_SSO_MAX_TEAMS))
        return api_sso_cfg_free(c), fail(err, n, "agent_teams", "must be a list of team ids");
    json_array_foreach((json_t *)teams, i, e)
    {
        if (!json_is_integer(e) || json_integer_value(e) < 1 ||
            json_integer_value(e) > UINT32_MAX)
            return api_sso_cfg_free(c), fail(err, n, "agent_teams", "must be a list of team ids");
        c->agent_teams[c->nteams++] = (uint32_t)json_integer_value(e);
    }
    const json_t *pw = json_object_get(o, "passwords");
    if (pw && !json_is_object(pw))
        return api_sso_cfg_free(c),
               fail(err, n, "passwords", "must be an object {\"agent\": false, ...}");
    json_object_foreach((json_t *)pw, key, v)
    {
        int r = 0;
        while (r < API_SSO_ROLES && strcmp(ROLE_NAMES[r], key) != 0)
            r++;
        if (r == API_SSO_ROLES || !json_is_boolean(v))
            return api_sso_cfg_free(c),
                   fail(err, n, "passwords", "takes agent, supervisor and admin: true or false");
        c->passwords[r] = json_is_true(v);
    }
    const json_t *rf = json_object_get(o, "jwks_refetch_s");
    c->jwks_refetch_ms = 60000;
    if (rf) {
        if (!json_is_integer(rf) || json_integer_value(rf) < 0 || json_integer_value(rf) > 86400)
            return api_sso_cfg_free(c), fail(err, n, "jwks_refetch_s", "must be 0..86400");
        c->jwks_refetch_ms = json_integer_value(rf) * 1000;
    }
    if (c->provision && c->role_claim[0] == '\0')
        return api_sso_cfg_free(c),
               fail(err, n, "provision", "needs role_claim: a new account needs a role");
    c->on = 1;
    return 0;
}

void api_sso_cfg_free(api_sso_cfg *c)
{
    for (int r = 0; r < API_SSO_ROLES; r++) {
        json_decref(c->role_values[r]);
        c->role_values[r] = NULL;
    }
}

static void b64url(const unsigned char *b, size_t n, char out[API_SSO_RAND])
{
    sodium_bin2base64(out, API_SSO_RAND, b, n, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
}

void api_sso_challenge(const char *verifier, char out[API_SSO_RAND])
{
    unsigned char h[crypto_hash_sha256_BYTES];
    crypto_hash_sha256(h, (const unsigned char *)verifier, strlen(verifier));
    b64url(h, sizeof h, out);
}

void api_sso_random(char out[API_SSO_RAND])
{
    unsigned char b[32];
    randombytes_buf(b, sizeof b);
    b64url(b, sizeof b, out);
}

/* ---- sign-ins in progress ------------------------------------------------ */

int api_sso_put(api_sso_table *t, const api_sso_pending *p, int64_t now)
{
    api_sso_pending *free_slot = NULL, *oldest = NULL;
    size_t mine = 0;
    for (size_t i = 0; i < API_SSO_PENDING_MAX; i++) {
        api_sso_pending *e = &t->e[i];
        if (e->expires != 0 && e->expires <= now)
            memset(e, 0, sizeof *e); /* expired: forgotten */
        if (e->expires == 0) {
            if (!free_slot)
                free_slot = e;
        } else if (strcmp(e->client, p->client) == 0) {
            mine++;
            if (!oldest || e->expires < oldest->expires)
                oldest = e;
        }
    }
    if (mine >= API_SSO_PER_CLIENT)
        free_slot = oldest; /* that client's oldest sign-in gives way */
    if (!free_slot)
        return -1;
    *free_slot = *p;
    return 0;
}

int api_sso_take(api_sso_table *t, const char *state, size_t n, int64_t now,
                 api_sso_pending *out)
{
    if (n == 0 || n >= API_SSO_RAND)
        return -1;
    for (size_t i = 0; i < API_SSO_PENDING_MAX; i++) {
        api_sso_pending *e = &t->e[i];
        if (e->expires == 0 || strlen(e->state) != n || sodium_memcmp(e->state, state, n) != 0)
            continue;
        *out = *e;
        memset(e, 0, sizeof *e);
        return out->expires <= now ? -2 : 0;
    }
    return -1;
}

/* ---- claims -------------------------------------------------------------- */

static int bad(const char **code, const char *c, char *msg, size_t n, const char *m)
{
    *code = c;
    snprintf(msg, n, "%s", m);
    return -1;
}

/* The claim at 'path' ("a.b": member b of object a), or NULL. */
static const json_t *claim_at(const json_t *claims, const char *path)
{
    char part[64];
    const json_t *cur = claims;
    while (cur && *path) {
        const char *dot = strchr(path, '.');
        size_t k = dot ? (size_t)(dot - path) : strlen(path);
        if (k >= sizeof part)
            return NULL;
        memcpy(part, path, k);
        part[k] = '\0';
        cur = json_is_object(cur) ? json_object_get(cur, part) : NULL;
        path += k + (dot ? 1 : 0);
    }
    return cur;
}

static int value_gives(const json_t *values, const char *v)
{
    size_t i;
    json_t *e;
    json_array_foreach((json_t *)values, i, e) if (strcmp(json_string_value(e), v) == 0) return 1;
    return 0;
}

/* The highest role any value of 'rc' (a string or a list of strings)
 * gives, or -1; -2 when a value is not a string or too long. */
static int map_role(const json_t *rc, const api_sso_cfg *c)
{
    json_t *arr = json_is_string(rc) ? json_pack("[O]", rc) : json_incref((json_t *)rc);
    int best = -1;
    size_t i;
    json_t *e;
    if (!json_is_array(arr) || json_array_size(arr) > 256)
        best = -2;
    json_array_foreach(arr, i, e)
    {
        if (best == -2)
            break;
        if (!json_is_string(e) || json_string_length(e) > API_SSO_MAX_CLAIM) {
            best = -2;
            break;
        }
        for (int r = API_SSO_ROLES - 1; r > best; r--)
            if (value_gives(c->role_values[r], json_string_value(e)))
                best = r;
    }
    json_decref(arr);
    return best;
}

static int has_aud(const json_t *aud, const char *client, size_t *count)
{
    *count = 0;
    if (json_is_string(aud)) {
        *count = 1;
        return strcmp(json_string_value(aud), client) == 0;
    }
    int found = 0;
    size_t i;
    json_t *e;
    json_array_foreach((json_t *)aud, i, e)
    {
        (*count)++;
        found |= json_is_string(e) && strcmp(json_string_value(e), client) == 0;
    }
    return found;
}

int api_sso_claims(const json_t *claims, const api_sso_cfg *c, const char *nonce,
                   int64_t now_s, api_sso_who *who, const char **code, char *msg, size_t n)
{
    memset(who, 0, sizeof *who);
    const json_t *iss = json_object_get(claims, "iss"), *aud = json_object_get(claims, "aud");
    const json_t *exp = json_object_get(claims, "exp"), *iat = json_object_get(claims, "iat");
    const json_t *azp = json_object_get(claims, "azp"), *no = json_object_get(claims, "nonce");
    if (!json_is_object(claims))
        return bad(code, "sso_bad_token", msg, n, "the ID token's payload is not a JSON object");
    if (!json_is_string(iss) || strcmp(json_string_value(iss), c->issuer) != 0)
        return bad(code, "sso_wrong_issuer", msg, n,
                   "the ID token comes from another issuer than the one configured");
    size_t naud;
    if (!has_aud(aud, c->client_id, &naud))
        return bad(code, "sso_wrong_audience", msg, n,
                   "the ID token was issued for another client (audience)");
    if ((naud > 1 || azp) &&
        (!json_is_string(azp) || strcmp(json_string_value(azp), c->client_id) != 0))
        return bad(code, "sso_wrong_audience", msg, n,
                   "the ID token's authorized party (azp) is another client");
    if (!json_is_integer(exp) || json_integer_value(exp) + API_SSO_LEEWAY_S <= now_s)
        return bad(code, "sso_token_expired", msg, n,
                   "the ID token has expired: sign in again (check the server's clock)");
    if (!json_is_integer(iat) || json_integer_value(iat) > now_s + API_SSO_LEEWAY_S)
        return bad(code, "sso_token_expired", msg, n,
                   "the ID token was issued in the future: check the server's clock");
    if (!json_is_string(no) || strcmp(json_string_value(no), nonce) != 0)
        return bad(code, "sso_wrong_nonce", msg, n,
                   "the ID token does not belong to this sign-in (nonce): sign in again");
    const json_t *u = claim_at(claims, c->username_claim);
    if (!json_is_string(u) || json_string_length(u) == 0 || json_string_length(u) > 64 ||
        memchr(json_string_value(u), '\0', json_string_length(u)))
        return bad(code, "sso_no_username", msg, n,
                   "the ID token has no usable username claim (1..64 bytes): the identity "
                   "provider must send the claim the site maps to the username");
    snprintf(who->username, sizeof who->username, "%s", json_string_value(u));
    who->role = -1;
    if (c->role_claim[0]) {
        const json_t *rc = claim_at(claims, c->role_claim);
        int r = rc ? map_role(rc, c) : -1;
        if (r == -2)
            return bad(code, "sso_claim_too_large", msg, n,
                       "the role claim is not a list of short strings");
        if (r < 0)
            return bad(code, "sso_no_role", msg, n,
                       "the identity provider gives this user no textdesk role: an "
                       "administrator of the provider adds the user to a mapped group");
        who->role = r;
    }
    return 0;
}

/* ---- the authorization request ------------------------------------------ */

int api_sso_urlenc(char *out, size_t cap, size_t len, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        int keep = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
                   (ch >= '0' && ch <= '9') || ch == '-' || ch == '.' || ch == '_' || ch == '~';
        if (len + (keep ? 1 : 3) >= cap)
            return -1;
        if (keep) {
            out[len++] = (char)ch;
        } else {
            out[len++] = '%';
            out[len++] = hex[ch >> 4];
            out[len++] = hex[ch & 15];
        }
    }
    out[len] = '\0';
    return (int)len;
}

int api_sso_auth_url(const api_sso_cfg *c, const char *endpoint, const api_sso_pending *p,
                     char *out, size_t n)
{
    char ch[API_SSO_RAND];
    api_sso_challenge(p->verifier, ch);
    const char *parts[][2] = {{"response_type", "code"},       {"client_id", c->client_id},
                              {"redirect_uri", c->redirect_url}, {"scope", c->scope},
                              {"state", p->state},             {"nonce", p->nonce},
                              {"code_challenge", ch},          {"code_challenge_method", "S256"}};
    int len = snprintf(out, n, "%s%c", endpoint, strchr(endpoint, '?') ? '&' : '?');
    if (len < 0 || (size_t)len >= n)
        return -1;
    for (size_t i = 0; i < sizeof parts / sizeof parts[0]; i++) {
        len = api_sso_urlenc(out, n, (size_t)len, parts[i][0]);
        if (len < 0 || (size_t)len + 2 >= n)
            return -1;
        out[len++] = '=';
        len = api_sso_urlenc(out, n, (size_t)len, parts[i][1]);
        if (len < 0 || (size_t)len + 2 >= n)
            return -1;
        if (i + 1 < sizeof parts / sizeof parts[0])
            out[len++] = '&';
        out[len] = '\0';
    }
    return 0;
}
