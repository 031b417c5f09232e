/*
 * api_oidc: single sign-on with OpenID Connect, the relying party's
 * network side (docs/security.md, "Single sign-on"; docs/api.md,
 * /api/sso). The authorization code flow with PKCE (S256): the provider's
 * discovery document, its token endpoint and its JWKS are fetched with the
 * loop's asynchronous HTTP(S) client (net/net_http.h), so the loop never
 * waits on the provider; an ID token's signature is verified with libcjose
 * against the provider's JWKS (RS256/384/512, PS256/384/512, ES256/384/512;
 * an unknown key id fetches the JWKS again, at most once per
 * "jwks_refetch_s", and retries once: key rotation). Its claims, the state
 * table and the site's mapping are api_sso.c (pure). Every sign-in,
 * whether it succeeds or not, goes into the audit trail (via "sso").
 *
 * Written here (and not taken from a library) only what no Debian package
 * does: there is no C OpenID Connect relying-party library in Debian
 * (liboauth2 and mod_auth_openidc are tied to Apache and block on their
 * HTTP calls); the JOSE work itself is libcjose's.
 */
#ifndef TEXTDESK_API_API_OIDC_H
#define TEXTDESK_API_API_OIDC_H

#include <jansson.h>

#include "api/api_sso.h"
#include "http/http.h"
#include "net/net.h"

typedef struct api_oidc api_oidc;
struct api;

/* Single sign-on for 'a' as the "sso" object of the configuration says
 * (NULL: off); starts fetching the provider's discovery document and JWKS
 * on 'loop'. NULL with a reason in 'err' when the settings are wrong. */
api_oidc *api_oidc_new(struct api *a, net_loop *loop, const json_t *cfg, char *err, size_t n);
void api_oidc_free(api_oidc *o);
/* Whether accounts of 'role' may sign in with a local password (NULL:
 * yes). */
int api_oidc_password_allowed(const api_oidc *o, int role);
/* Whether every team of sso.agent_teams is a team of the site in 'core'
 * (NULL 'o': yes). 0, or -1 with what to do in 'err'. */
struct cc;
int api_oidc_check_teams(const api_oidc *o, const struct cc *core, char *err, size_t n);
/* GET /api/sso, POST /api/sso/start, POST /api/sso/callback ('rest' is
 * what follows "/api/sso"); 'o' may be NULL (single sign-on off). */
void api_oidc_request(api_oidc *o, struct api *a, const http_req *req, http_resp *resp,
                      const char *rest);

#endif
