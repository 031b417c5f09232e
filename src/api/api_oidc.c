#include "api/api_oidc.h"

#include <cjose/cjose.h>
#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api_int.h"
#include "net/net_http.h"
#include "util/log.h"
#include "util/loop_clock.h"
#include "util/xalloc.h"

#define RETRY_MS 30000 /* discovery or JWKS failed: tried again after */
#define SSO_COOKIE "td_sso"

typedef struct flight flight;

struct api_oidc {
    api *a;
    net_loop *loop;
    api_sso_cfg cfg;
    char *auth_ep, *token_ep, *jwks_uri;
    json_t *keys;       /* the JWKS's "keys" (NULL: not fetched yet) */
    int64_t jwks_at;    /* monotonic ms when the JWKS was last asked for */
    net_http_req *disc, *jwks_req;
    net_timer *retry;
    flight *flights;    /* every sign-in waiting for the provider */
    api_sso_table *tab; /* sign-ins in progress */
};

/* A callback being answered: waits for the token endpoint, then perhaps
 * for the JWKS. */
struct flight {
    api_oidc *o;
    http_defer *d;
    api_sso_pending p;
    char peer[64];
    int secure;
    int await_jwks; /* waits for the JWKS fetch */
    int refetched;  /* the JWKS was fetched again for it */
    net_http_req *q;
    char *id_token;
    flight *next;
};

static const char *const ROLE_NAMES[] = {"agent", "supervisor", "admin"};

static void fetch_discovery(api_oidc *o);
static void fetch_jwks(api_oidc *o);
static void flight_verify(flight *f);

/* ---- discovery and JWKS ------------------------------------------------- */

static void on_retry(void *arg)
{
    api_oidc *o = arg;
    if (!o->token_ep)
        fetch_discovery(o);
    else if (!o->keys)
        fetch_jwks(o);
}

static char *member(const json_t *j, const char *key)
{
    const char *s = json_string_value(json_object_get(j, key));
    return s && (strncmp(s, "https://", 8) == 0 || strncmp(s, "http://", 7) == 0)
               ? xmemdup0(s, strlen(s))
               : NULL;
}

static void on_discovery(void *arg, const net_http_result *r)
{
    api_oidc *o = arg;
    o->disc = NULL;
    json_t *j = r->status == 200 ? json_loadb(r->body.p, r->body.n, 0, NULL) : NULL;
    const char *iss = json_string_value(json_object_get(j, "issuer"));
    char *auth = member(j, "authorization_endpoint"), *tok = member(j, "token_endpoint");
    char *jwks = member(j, "jwks_uri");
    const char *why = !j                                     ? "no JSON document"
                      : !iss || strcmp(iss, o->cfg.issuer) != 0 ? "its issuer is not the configured one"
                      : !auth || !tok || !jwks ? "it lacks an endpoint (authorization, token, jwks_uri)"
                                               : NULL;
    json_decref(j);
    if (why) {
        char st[16];
        snprintf(st, sizeof st, "%d", r->status);
        log_kv(LOG_WARN, "sso: discovery failed, retried in 30 s", "issuer", o->cfg.issuer,
               "status", st, "error", r->err ? r->err : why, NULL);
        free(auth), free(tok), free(jwks);
        net_timer_set(o->retry, RETRY_MS);
        return;
    }
    o->auth_ep = auth, o->token_ep = tok, o->jwks_uri = jwks;
    log_kv(LOG_INFO, "sso: provider discovered", "issuer", o->cfg.issuer, NULL);
    fetch_jwks(o);
}

static void fetch_discovery(api_oidc *o)
{
    if (o->disc)
        return;
    char url[320];
    size_t n = strlen(o->cfg.issuer);
    snprintf(url, sizeof url, "%.*s/.well-known/openid-configuration",
             (int)(n && o->cfg.issuer[n - 1] == '/' ? n - 1 : n), o->cfg.issuer);
    net_http_opts q = {.method = "GET", .url = url};
    o->disc = net_http_request(o->loop, &q, on_discovery, o);
    if (!o->disc) {
        log_kv(LOG_WARN, "sso: the issuer's URL cannot be fetched", "issuer", o->cfg.issuer, NULL);
        net_timer_set(o->retry, RETRY_MS);
    }
}

static void fail_flight(flight *f, str who, int status, const char *code, const char *msg);

static void on_jwks(void *arg, const net_http_result *r)
{
    api_oidc *o = arg;
    o->jwks_req = NULL;
    json_t *j = r->status == 200 ? json_loadb(r->body.p, r->body.n, 0, NULL) : NULL;
    json_t *keys = json_object_get(j, "keys");
    if (json_is_array(keys)) {
        json_decref(o->keys);
        o->keys = json_incref(keys);
        log_kv(LOG_INFO, "sso: provider's keys fetched", "issuer", o->cfg.issuer, NULL);
    } else {
        log_kv(LOG_WARN, "sso: the provider's JWKS cannot be read", "url", o->jwks_uri, "error",
               r->err ? r->err : "no \"keys\" list", NULL);
        if (!o->keys)
            net_timer_set(o->retry, RETRY_MS);
    }
    json_decref(j);
    /* the sign-ins that waited for it: verified now (with the keys there are) */
    for (flight *f = o->flights, *next; f; f = next) {
        next = f->next;
        if (f->await_jwks) {
            f->await_jwks = 0;
            flight_verify(f);
        }
    }
}

static void fetch_jwks(api_oidc *o)
{
    if (o->jwks_req)
        return;
    o->jwks_at = loop_clock_mono();
    net_http_opts q = {.method = "GET", .url = o->jwks_uri};
    o->jwks_req = net_http_request(o->loop, &q, on_jwks, o);
    if (!o->jwks_req)
        net_timer_set(o->retry, RETRY_MS);
}

/* ---- life ----------------------------------------------------------------- */

api_oidc *api_oidc_new(api *a, net_loop *loop, const json_t *cfg, char *err, size_t n)
{
    api_oidc *o = xcalloc(1, sizeof *o);
    o->a = a;
    o->loop = loop;
    if (api_sso_cfg_parse(cfg, &o->cfg, err, n) != 0) {
        free(o);
        return NULL;
    }
    if (o->cfg.on) {
        o->tab = xcalloc(1, sizeof *o->tab);
        o->retry = net_timer_new(loop, on_retry, o);
        fetch_discovery(o);
    }
    return o;
}

static void flight_free(flight *f)
{
    api_oidc *o = f->o;
    for (flight **p = &o->flights; *p; p = &(*p)->next)
        if (*p == f) {
            *p = f->next;
            break;
        }
    if (f->q)
        net_http_cancel(f->q);
    free(f->id_token);
    sodium_memzero(&f->p, sizeof f->p);
    free(f);
}

void api_oidc_free(api_oidc *o)
{
    if (!o)
        return;
    while (o->flights)
        fail_flight(o->flights, STR_NULL, 503, "sso_unavailable", "the server is stopping");
    if (o->disc)
        net_http_cancel(o->disc);
    if (o->jwks_req)
        net_http_cancel(o->jwks_req);
    if (o->retry)
        net_timer_free(o->retry);
    json_decref(o->keys);
    free(o->auth_ep), free(o->token_ep), free(o->jwks_uri);
    if (o->tab)
        sodium_memzero(o->tab, sizeof *o->tab);
    free(o->tab);
    api_sso_cfg_free(&o->cfg);
    free(o);
}

int api_oidc_check_teams(const api_oidc *o, const cc *core, char *err, size_t n)
{
    for (size_t i = 0; o && o->cfg.on && i < o->cfg.nteams; i++) {
        uint32_t t = o->cfg.agent_teams[i];
        if (cc_name(core, CC_KIND_TEAM, t).n == 0) {
            snprintf(err, n,
                     "sso.agent_teams: no team %u on this site: list ids of existing teams"
                     " (textdesk admin list teams) or create team %u first",
                     t, t);
            return -1;
        }
    }
    return 0;
}

int api_oidc_password_allowed(const api_oidc *o, int role)
{
    return !o || role < 0 || role >= API_SSO_ROLES || o->cfg.passwords[role];
}

/* ---- answering ------------------------------------------------------------- */

/* Audits a sign-in as api__audit does, for a request answered later. */
static void audit(api *a, const char *peer, str who, const char *detail)
{
    http_req r = {.peer = str_c(peer)};
    api__audit(a, &r, who, "sso", "login", STR_NULL, detail);
}

static void complete(flight *f, http_resp *r)
{
    http_defer_complete(f->d, r);
    f->d = NULL;
    flight_free(f);
}

/* Answers the sign-in with an error, audited under 'who' (the username
 * claim once known). */
static void fail_flight(flight *f, str who, int status, const char *code, const char *msg)
{
    audit(f->o->a, f->peer, who, code);
    http_resp r = {0};
    buf_init(&r.body);
    api__resp_error(&r, status, code, msg);
    complete(f, &r);
    buf_free(&r.body);
}

/* ---- verifying the ID token ---------------------------------------------- */

static int alg_kty(const char *alg)
{
    static const char *const rsa[] = {"RS256", "RS384", "RS512", "PS256", "PS384", "PS512"};
    static const char *const ec[] = {"ES256", "ES384", "ES512"};
    for (size_t i = 0; alg && i < 6; i++)
        if (strcmp(alg, rsa[i]) == 0)
            return CJOSE_JWK_KTY_RSA;
    for (size_t i = 0; alg && i < 3; i++)
        if (strcmp(alg, ec[i]) == 0)
            return CJOSE_JWK_KTY_EC;
    return -1;
}

/* Verifies 'tok' against the keys fetched; the payload into '*claims'.
 * Returns 0; 1 when no key has the token's key id (fetch the JWKS again);
 * -1 with an error code and message. */
static int verify(api_oidc *o, const char *tok, json_t **claims, const char **code, char *msg,
                  size_t n)
{
    *claims = NULL;
    *code = "sso_bad_token";
    cjose_err e;
    cjose_jws_t *jws = cjose_jws_import(tok, strlen(tok), &e);
    if (!jws) {
        snprintf(msg, n, "the ID token is not a signed JWT (%s)", e.message);
        return -1;
    }
    cjose_header_t *h = cjose_jws_get_protected(jws);
    const char *alg = cjose_header_get(h, CJOSE_HDR_ALG, &e);
    const char *kid = cjose_header_get(h, CJOSE_HDR_KID, &e);
    int kty = alg_kty(alg), seen = 0, ok = 0;
    if (kty < 0) {
        snprintf(msg, n, "the ID token's algorithm is not accepted (RS*, PS*, ES* only)");
        cjose_jws_release(jws);
        return -1;
    }
    size_t i;
    json_t *k;
    json_array_foreach(o->keys, i, k)
    {
        const char *kk = json_string_value(json_object_get(k, "kid"));
        const char *use = json_string_value(json_object_get(k, "use"));
        if ((kid && (!kk || strcmp(kk, kid) != 0)) || (use && strcmp(use, "sig") != 0))
            continue;
        cjose_jwk_t *jwk = cjose_jwk_import_json((cjose_header_t *)k, &e);
        if (!jwk)
            continue;
        if ((int)cjose_jwk_get_kty(jwk, &e) == kty) {
            seen = 1;
            ok = cjose_jws_verify(jws, jwk, &e);
        }
        cjose_jwk_release(jwk);
        if (ok)
            break;
    }
    uint8_t *pt = NULL;
    size_t pn = 0;
    if (ok && cjose_jws_get_plaintext(jws, &pt, &pn, &e))
        *claims = json_loadb((const char *)pt, pn, JSON_REJECT_DUPLICATES, NULL);
    cjose_jws_release(jws);
    if (!seen)
        return 1;
    if (!ok) {
        *code = "sso_bad_signature";
        snprintf(msg, n, "the ID token's signature does not verify with the provider's keys");
        return -1;
    }
    if (!json_is_object(*claims)) {
        json_decref(*claims);
        *claims = NULL;
        snprintf(msg, n, "the ID token's payload is not a JSON object");
        return -1;
    }
    return 0;
}

/* The next free agent id (provisioning). */
static uint32_t next_agent_id(api *a)
{
    size_t n = cc_list(a->env.core, CC_KIND_AGENT, NULL, 0);
    cc_item *items = xcalloc(n + 1, sizeof *items);
    n = cc_list(a->env.core, CC_KIND_AGENT, items, n + 1);
    uint32_t max = 0;
    for (size_t i = 0; i < n; i++)
        max = items[i].id > max ? items[i].id : max;
    free(items);
    return max + 1;
}

/* Creates the account of 'who' (provisioning on first sign-in): an agent
 * in the site's agent_teams, or a supervisor or administrator. Its
 * password hash is no argon2id hash: it never signs in with a password. */
static int provision(api_oidc *o, const api_sso_who *who, const char **code, char *msg, size_t n)
{
    api *a = o->a;
    uint32_t agent = 0;
    if (who->role == STORE_ROLE_AGENT) {
        if (o->cfg.nteams == 0) {
            *code = "sso_unknown_user";
            snprintf(msg, n, "new agents need sso.agent_teams: an administrator sets it or "
                             "creates the agent");
            return -1;
        }
        agent = next_agent_id(a);
        cc_cmd c = {.type = CC_CMD_AGENT_PUT, .agent = agent, .name = str_c(who->username),
                    .ids = o->cfg.agent_teams, .n_ids = o->cfg.nteams};
        int r = a->env.apply(a->env.app, &c);
        if (r < 0) { /* e.g. a team of sso.agent_teams removed since */
            *code = r == -CC_E_STORE ? cc_err_code(r) : "sso_unknown_user";
            snprintf(msg, n, "the agent cannot be created (%s): an administrator corrects "
                             "sso.agent_teams or creates the agent", cc_err_msg(r));
            return -1;
        }
    }
    int w = api__write_begin(a);
    if (w == 0)
        w = api__write_end(a, store_account_put(a->env.st, str_c(who->username), STR_LIT("!sso"),
                                                agent, who->role));
    if (w != 0) {
        *code = "store_unavailable";
        snprintf(msg, n, "the account cannot be stored right now: try again");
        return -1;
    }
    log_kv(LOG_INFO, "sso: account created on first sign-in", "username", who->username, "role",
           ROLE_NAMES[who->role], NULL);
    return 0;
}

static void flight_verify(flight *f)
{
    api_oidc *o = f->o;
    api *a = o->a;
    json_t *claims;
    const char *code;
    char msg[512];
    int v = verify(o, f->id_token, &claims, &code, msg, sizeof msg);
    if (v == 1 && !f->refetched &&
        (o->jwks_req || loop_clock_mono() - o->jwks_at >= o->cfg.jwks_refetch_ms)) {
        f->refetched = 1; /* key rotation: the new key is fetched, once */
        fetch_jwks(o);
        if (o->jwks_req) {
            f->await_jwks = 1;
            return;
        }
    }
    if (v == 1) {
        code = "sso_unknown_key";
        snprintf(msg, sizeof msg,
                 "the ID token is signed with a key the provider does not publish");
    }
    if (v != 0)
        return fail_flight(f, STR_NULL, 401, code, msg);
    api_sso_who who;
    int64_t now = a->env.now(a->env.app);
    if (api_sso_claims(claims, &o->cfg, f->p.nonce, now / 1000, &who, &code, msg, sizeof msg)) {
        json_decref(claims);
        return fail_flight(f, str_c(who.username), strcmp(code, "sso_no_role") == 0 ? 403 : 401,
                           code, msg);
    }
    json_decref(claims);
    str user = str_c(who.username);
    store_account acc;
    int have = store_account_get(a->env.st, user, &acc) == 0;
    if (!have && !o->cfg.provision) {
        snprintf(msg, sizeof msg,
                 "there is no textdesk account named %s and accounts are not created on first "
                 "sign-in: an administrator creates it",
                 who.username);
        return fail_flight(f, user, 403, "sso_unknown_user", msg);
    }
    if (!have && provision(o, &who, &code, msg, sizeof msg) != 0) /* 503: try again */
        return fail_flight(f, user, strcmp(code, "sso_unknown_user") == 0 ? 403 : 503, code, msg);
    if (!have && store_account_get(a->env.st, user, &acc) != 0)
        return fail_flight(f, user, 503, "store_unavailable",
                           "the account cannot be read right now: try again");
    if (who.role >= 0 && who.role != acc.role) {
        snprintf(msg, sizeof msg,
                 "the identity provider makes %s %s, but the textdesk account is %s: an "
                 "administrator changes one of them",
                 who.username, ROLE_NAMES[who.role], ROLE_NAMES[acc.role]);
        return fail_flight(f, user, 403, "sso_role_mismatch", msg);
    }
    http_resp r = {0};
    buf_init(&r.body);
    if (api__session_open(a, &acc, f->secure, &r) == 0)
        audit(a, f->peer, acc.username, "ok");
    complete(f, &r);
    buf_free(&r.body);
}

static void on_token(void *arg, const net_http_result *r)
{
    flight *f = arg;
    f->q = NULL;
    json_t *j = r->status ? json_loadb(r->body.p, r->body.n, 0, NULL) : NULL;
    const char *tok = json_string_value(json_object_get(j, "id_token"));
    if (r->status != 200 || !tok) {
        char msg[256];
        const char *e = json_string_value(json_object_get(j, "error"));
        snprintf(msg, sizeof msg,
                 r->status == 0 ? "the identity provider cannot be reached (%.100s): try again"
                 : r->status == 200 ? "the identity provider answered without an ID token%.0s"
                                    : "the identity provider refused the sign-in (%.100s): start "
                                      "again from the login page",
                 r->status == 0 ? (r->err ? r->err : "") : e ? e : "no reason given");
        json_decref(j);
        return fail_flight(f, STR_NULL, r->status == 0 ? 502 : 401,
                           r->status == 0 ? "sso_unavailable" : "sso_token_refused", msg);
    }
    if (strlen(tok) > API_SSO_MAX_TOKEN) {
        json_decref(j);
        return fail_flight(f, STR_NULL, 401, "sso_token_too_large", "the ID token is too large");
    }
    f->id_token = xmemdup0(tok, strlen(tok));
    json_decref(j);
    flight_verify(f);
}

/* ---- REST ----------------------------------------------------------------- */

/* The td_sso cookie's value into 'out' (room for API_SSO_RAND): its length, or 0. */
static size_t cookie_of(const http_req *req, char *out)
{
    char c[2048];
    int n = req->impl ? http_req_header(req, "Cookie", c, sizeof c) : -1;
    const char *p = n > 0 ? c : NULL;
    while (p && *p) {
        while (*p == ' ' || *p == ';')
            p++;
        size_t k = strcspn(p, ";");
        if (k > sizeof SSO_COOKIE && memcmp(p, SSO_COOKIE "=", sizeof SSO_COOKIE) == 0 &&
            k - sizeof SSO_COOKIE < API_SSO_RAND) {
            memcpy(out, p + sizeof SSO_COOKIE, k - sizeof SSO_COOKIE);
            out[k - sizeof SSO_COOKIE] = '\0';
            return k - sizeof SSO_COOKIE;
        }
        p += k;
    }
    return 0;
}

static void sso_info(api_oidc *o, http_resp *resp)
{
    json_t *pw = json_object();
    for (int r = 0; r < API_SSO_ROLES; r++)
        json_object_set_new(pw, ROLE_NAMES[r], json_boolean(api_oidc_password_allowed(o, r)));
    int on = o && o->cfg.on;
    api__resp_json(resp, 200,
                   json_pack("{s:b, s:b, s:o}", "enabled", on, "ready",
                             on && o->token_ep && o->keys, "passwords", pw));
}

static void sso_start(api_oidc *o, const http_req *req, http_resp *resp)
{
    if (!o->token_ep || !o->keys) {
        if (!o->token_ep)
            fetch_discovery(o);
        else
            fetch_jwks(o);
        api__resp_error(resp, 503, "sso_unavailable",
                        "the identity provider cannot be reached right now: try again in a "
                        "minute, or tell an administrator");
        return;
    }
    api_sso_pending p = {0};
    char bind[API_SSO_RAND];
    api_sso_random(p.state);
    api_sso_random(p.nonce);
    api_sso_random(p.verifier);
    api_sso_random(bind);
    api__token_hash(str_c(bind), p.binding);
    int64_t now = o->a->env.now(o->a->env.app);
    p.expires = now + API_SSO_STATE_TTL_MS;
    (void)api__client_addr(o->a, req, p.client);
    char url[2048];
    if (api_sso_auth_url(&o->cfg, o->auth_ep, &p, url, sizeof url) != 0) {
        api__resp_error(resp, 500, "sso_misconfigured",
                        "the provider's authorization URL is too long");
        return;
    }
    if (api_sso_put(o->tab, &p, now) != 0) {
        api__resp_error(resp, 503, "sso_busy", "too many sign-ins in progress: try again soon");
        return;
    }
    snprintf(resp->set_cookie, sizeof resp->set_cookie,
             SSO_COOKIE "=%s; Path=/api/sso/; HttpOnly; SameSite=Lax; Max-Age=%lld%s", bind,
             API_SSO_STATE_TTL_MS / 1000, req->secure ? "; Secure" : "");
    sodium_memzero(&p, sizeof p);
    api__resp_json(resp, 200, json_pack("{s:s}", "url", url));
}

static void sso_callback(api_oidc *o, const http_req *req, http_resp *resp)
{
    api *a = o->a;
    json_t *j = api__parse_body(req, resp);
    if (!j)
        return;
    const json_t *js = json_object_get(j, "state"), *jc = json_object_get(j, "code");
    const char *perr = json_string_value(json_object_get(j, "error"));
    if (!json_is_string(js) || (!perr && !json_is_string(jc)) ||
        json_string_length(jc) > 4096) {
        json_decref(j);
        api__audit(a, req, STR_NULL, "sso", "login", STR_NULL, "bad_request");
        api__resp_error(resp, 400, "bad_request",
                        "state and code (or error) are required strings: start again from the "
                        "login page");
        return;
    }
    flight *f = xcalloc(1, sizeof *f);
    f->o = o;
    int t = api_sso_take(o->tab, json_string_value(js), json_string_length(js),
                         a->env.now(a->env.app), &f->p);
    char bind[API_SSO_RAND], h[65] = "";
    if (cookie_of(req, bind))
        api__token_hash(str_c(bind), h);
    const char *code = t == -1                                ? "sso_state_unknown"
                       : t == -2                              ? "sso_state_expired"
                       : sodium_memcmp(h, f->p.binding, 64) != 0 ? "sso_state_foreign"
                       : perr                                 ? "sso_denied"
                                                              : NULL;
    if (code) {
        char msg[256];
        snprintf(msg, sizeof msg, "%s",
                 t == -1 ? "this sign-in was already used or never started here: start again "
                           "from the login page"
                 : t == -2 ? "this sign-in took too long and expired: start again from the "
                             "login page"
                 : !perr ? "this sign-in was started in another browser: start again from "
                           "the login page"
                         : "the identity provider did not sign you in: start again, or ask "
                           "its administrator");
        api__audit(a, req, STR_NULL, "sso", "login", STR_NULL, code);
        sodium_memzero(&f->p, sizeof f->p);
        free(f);
        json_decref(j);
        api__resp_error(resp, code[4] == 'd' ? 401 : 400, code, msg);
        return;
    }
    snprintf(f->peer, sizeof f->peer, "%.*s", (int)req->peer.n, req->peer.p ? req->peer.p : "");
    f->secure = req->secure;
    /* the token request: the code with its verifier (PKCE), the client's
     * secret as HTTP Basic (client_secret_basic, RFC 6749 2.3.1) */
    char body[8192], cred[800], basic[1100];
    int n = snprintf(body, sizeof body, "grant_type=authorization_code&code=");
    n = api_sso_urlenc(body, sizeof body, (size_t)n, json_string_value(jc));
    const char *rest[] = {"&redirect_uri=", o->cfg.redirect_url, "&code_verifier=",
                          f->p.verifier, "&client_id=", o->cfg.client_id};
    for (size_t i = 0; i < 6 && n >= 0; i += 2) {
        n += snprintf(body + n, sizeof body - (size_t)n, "%s", rest[i]);
        n = api_sso_urlenc(body, sizeof body, (size_t)n, rest[i + 1]);
    }
    int cn = api_sso_urlenc(cred, sizeof cred, 0, o->cfg.client_id);
    if (cn >= 0)
        cred[cn++] = ':';
    cn = cn >= 0 ? api_sso_urlenc(cred, sizeof cred, (size_t)cn, o->cfg.client_secret) : -1;
    json_decref(j);
    memcpy(basic, "Basic ", 6);
    sodium_bin2base64(basic + 6, sizeof basic - 6, (const unsigned char *)cred,
                      cn > 0 ? (size_t)cn : 0, sodium_base64_VARIANT_ORIGINAL);
    const char *hdr[] = {"Accept", "application/json", "Authorization", basic, NULL};
    net_http_opts q = {.method = "POST",
                       .url = o->token_ep,
                       .content_type = "application/x-www-form-urlencoded",
                       .body = {body, n > 0 ? (size_t)n : 0},
                       .headers = hdr};
    f->next = o->flights;
    o->flights = f;
    f->q = n > 0 && cn > 0 ? net_http_request(o->loop, &q, on_token, f) : NULL;
    sodium_memzero(cred, sizeof cred);
    sodium_memzero(basic, sizeof basic);
    if (!f->q) {
        flight_free(f);
        api__audit(a, req, STR_NULL, "sso", "login", STR_NULL, "sso_unavailable");
        api__resp_error(resp, 502, "sso_unavailable",
                        "the identity provider's token endpoint cannot be called");
        return;
    }
    f->d = http_defer_begin(req);
}

void api_oidc_request(api_oidc *o, api *a, const http_req *req, http_resp *resp,
                      const char *rest)
{
    (void)a;
    int get = strcmp(req->method, "GET") == 0, post = strcmp(req->method, "POST") == 0;
    if (rest[0] == '\0' && get) {
        sso_info(o, resp);
        return;
    }
    if (!o || !o->cfg.on) {
        api__resp_error(resp, 404, "sso_off",
                        "single sign-on is not configured on this site: sign in with your "
                        "password");
        return;
    }
    if (strcmp(rest, "/start") == 0 && post)
        sso_start(o, req, resp);
    else if (strcmp(rest, "/callback") == 0 && post)
        sso_callback(o, req, resp);
    else
        api__resp_error(resp, 404, "not_found",
                        "no such endpoint: the API's paths are listed in docs/api.md");
}
