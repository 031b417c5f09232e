/*
 * api_sso: the pure parts of single sign-on with OpenID Connect
 * (docs/security.md, "Single sign-on"): the site's settings, PKCE, the
 * table of sign-ins in progress (state parameter, nonce, code verifier;
 * single use, with an expiry) and the checks of an ID token's claims
 * (issuer, audience, authorized party, expiry, issue time, nonce) with the
 * mapping of its claims to a username and a role. No I/O and no clock:
 * time is an argument. The network part (discovery, token endpoint, JWKS,
 * signature with libcjose) is api_oidc.c.
 *
 * Written here because no Debian library does it: libcjose verifies a
 * JWS against a JWK, but the OpenID Connect rules over the claims, the
 * state table and the site's mapping are the relying party's own.
 */
#ifndef TEXTDESK_API_API_SSO_H
#define TEXTDESK_API_API_SSO_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#define API_SSO_ROLES 3          /* store_role: agent, supervisor, admin */
#define API_SSO_MAX_TEAMS 16
#define API_SSO_STATE_TTL_MS (10 * 60 * 1000LL)
#define API_SSO_PENDING_MAX 1024 /* sign-ins in progress at once */
#define API_SSO_PER_CLIENT 8      /* ... from one client address */
#define API_SSO_LEEWAY_S 60      /* clock skew allowed on exp and iat */
#define API_SSO_MAX_TOKEN 16384  /* the longest ID token taken (bytes) */
#define API_SSO_MAX_CLAIM 256    /* the longest username or role value */
#define API_SSO_RAND 44          /* 32 random bytes in base64url + NUL */

typedef struct api_sso_cfg {
    int on;
    char issuer[256], client_id[128], client_secret[256], redirect_url[256], scope[128];
    char username_claim[64], role_claim[64]; /* role_claim "": the account's role */
    json_t *role_values[API_SSO_ROLES];      /* arrays of claim values per role */
    int provision;                           /* create accounts on first login */
    uint32_t agent_teams[API_SSO_MAX_TEAMS]; /* teams of a provisioned agent */
    size_t nteams;
    int passwords[API_SSO_ROLES];            /* local passwords allowed, per role */
    int64_t jwks_refetch_ms;                 /* at most one JWKS refetch this often */
} api_sso_cfg;

/* Reads the "sso" object of the configuration into 'out' (absent or NULL:
 * off, passwords allowed for every role). Returns 0, or -1 with what is
 * wrong in 'err' (prefixed "sso."). Free with api_sso_cfg_free. */
int api_sso_cfg_parse(const json_t *o, api_sso_cfg *out, char *err, size_t n);
void api_sso_cfg_free(api_sso_cfg *c);

/* PKCE (RFC 7636, S256): base64url(SHA-256(verifier)) without padding. */
void api_sso_challenge(const char *verifier, char out[API_SSO_RAND]);
/* 32 random bytes (libsodium) as base64url without padding. */
void api_sso_random(char out[API_SSO_RAND]);

/* A sign-in in progress. 'binding' is the hash of the browser's td_sso
 * cookie: the state is only good in the browser that started it. */
typedef struct api_sso_pending {
    char state[API_SSO_RAND], nonce[API_SSO_RAND], verifier[API_SSO_RAND];
    char binding[65];
    char client[64]; /* the address that started it (api__client_addr) */
    int64_t expires; /* ms; 0: free slot */
} api_sso_pending;

typedef struct api_sso_table {
    api_sso_pending e[API_SSO_PENDING_MAX];
} api_sso_table;

/* Adds 'p' (its 'expires' set by the caller), dropping expired entries.
 * A client address with API_SSO_PER_CLIENT sign-ins in progress loses its
 * oldest (a user who clicked again and again, or someone filling the table
 * from one address: they cannot lock the others out). Returns 0, or -1 when
 * API_SSO_PENDING_MAX sign-ins are in progress. */
int api_sso_put(api_sso_table *t, const api_sso_pending *p, int64_t now);
/* Takes the sign-in of 'state' out of the table (single use: it is gone
 * whatever follows) into 'out': 0, -1 unknown (never issued or already
 * used), -2 expired. */
int api_sso_take(api_sso_table *t, const char *state, size_t n, int64_t now,
                 api_sso_pending *out);

/* Who an ID token names. role: a store_role, or -1 when the site maps no
 * role claim. */
typedef struct api_sso_who {
    char username[API_SSO_MAX_CLAIM + 1];
    int role;
} api_sso_who;

/* Checks the claims of a verified ID token against the site and the
 * sign-in ('nonce'; 'now_s' in seconds) and maps them. Returns 0, or -1
 * with a stable error code in '*code' and an English message. */
int api_sso_claims(const json_t *claims, const api_sso_cfg *c, const char *nonce,
                   int64_t now_s, api_sso_who *who, const char **code, char *msg, size_t n);

/* The authorization request's URL (authorization code flow with PKCE). */
int api_sso_auth_url(const api_sso_cfg *c, const char *endpoint, const api_sso_pending *p,
                     char *out, size_t n);
/* Appends 's' percent-encoded (RFC 3986 unreserved kept) to 'out' of
 * capacity 'cap' holding 'len' bytes; returns the new length or -1. */
int api_sso_urlenc(char *out, size_t cap, size_t len, const char *s);

#endif
