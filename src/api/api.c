/*
 * api.c: sessions, the REST surface, the WebSocket agent protocol and
 * publishing. What a reader sees of the contact center, and so every
 * masking decision, is in api_view.c. docs/api.md documents every message
 * with an example; keep it in step.
 */
#include "api/api.h"
#include "api/api_int.h"

#include <errno.h>
#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "api/api_gw.h"
#include "api/api_late.h"
#include "api/api_oidc.h"
#include "api/api_parse.h"
#include "net/net_work.h"
#include "util/utf8.h"
#include "sms/gw_sim.h"
#include "sms/sms_text.h"
#include "util/hmap.h"
#include "util/xalloc.h"

api *api_new(const api_env *env)
{
    if (sodium_init() < 0) {
        api_metrics_free(env->metrics);
        return NULL;
    }
    api *a = xcalloc(1, sizeof *a);
    a->env = *env;
    char v[8];
    a->mask = store_setting_get(env->st, STR_LIT("mask_sensitive_data"), v, sizeof v) == 0 &&
              strcmp(v, "1") == 0;
    a->throttle = api_throttle_new();
    a->dummy_hash = api_password_hash("not a password: unknown users are checked against it");
    a->env.metrics = NULL;
    if (env->metrics) { /* counted in the caller's pass over the log: taken over */
        a->m = *env->metrics;
        free(env->metrics);
    } else if (api__metrics_load(a) != 0) { /* the totals of /metrics survive restarts */
        api_free(a);
        return NULL;
    }
    return a;
}

void api_free(api *a)
{
    if (!a)
        return;
    api_oidc_free(a->oidc);
    api_throttle_free(a->throttle);
    free(a->dummy_hash);
    api__metrics_free(a);
    api__feed_free(a);
    for (uint32_t i = 0; i < a->cap; i++)
        while (a->by_agent[i]) {
            api_conn *c = a->by_agent[i];
            a->by_agent[i] = c->next;
            free(c);
        }
    free(a->by_agent);
    free(a);
}

int api_set_sso(api *a, net_loop *loop, const json_t *cfg, char *err, size_t n)
{
    api_oidc *o = api_oidc_new(a, loop, cfg, err, n);
    if (!o)
        return -1;
    api_oidc_free(a->oidc);
    a->oidc = o;
    return 0;
}

int api_sso_check_teams(const api *a, char *err, size_t n)
{
    return api_oidc_check_teams(a->oidc, a->env.core, err, n);
}

void api_sso_close(api *a)
{
    if (a) {
        api_oidc_free(a->oidc);
        a->oidc = NULL;
    }
}

size_t api_conn_count(const api *a)
{
    return a->nconns;
}

/* ---- JSON helpers ------------------------------------------------------ */

json_t *api__jstr(str s)
{
    json_t *j = json_stringn(s.p ? s.p : "", s.n);
    return j ? j : json_string("");
}

static void send_json(http_ws *ws, json_t *j)
{
    char *s = json_dumps(j, JSON_COMPACT);
    if (s) {
        http_ws_send(ws, s, strlen(s));
        free(s);
    }
}

void api__send_json(http_ws *ws, json_t *j)
{
    send_json(ws, j);
}

void api__resp_json(http_resp *resp, int status, json_t *j)
{
    resp->status = status;
    char *s = json_dumps(j, JSON_COMPACT);
    if (s) {
        buf_add(&resp->body, s, strlen(s));
        free(s);
    }
    json_decref(j);
}

void api__resp_error(http_resp *resp, int status, const char *code, const char *msg)
{
    char m[512]; /* valid UTF-8 whatever 'msg' holds: the body is never lost */
    snprintf(m, sizeof m, "%s", msg);
    utf8_trim(m);
    api__resp_json(resp, status, json_pack("{s:s, s:s}", "error", code, "message", m));
}

static const char *status_name(int st)
{
    return store_msg_status_name(st);
}

/* ---- connections ------------------------------------------------------- */

static void conn_add(api *a, api_conn *k)
{
    if (k->agent >= a->cap) {
        uint32_t ncap = a->cap ? a->cap : 64;
        while (ncap <= k->agent)
            ncap *= 2;
        a->by_agent = xrealloc(a->by_agent, ncap * sizeof *a->by_agent);
        memset(a->by_agent + a->cap, 0, (ncap - a->cap) * sizeof *a->by_agent);
        a->cap = ncap;
    }
    k->next = a->by_agent[k->agent];
    a->by_agent[k->agent] = k;
    a->nconns++;
}

static void conn_del(api *a, api_conn *k)
{
    for (api_conn **p = &a->by_agent[k->agent]; *p; p = &(*p)->next)
        if (*p == k) {
            *p = k->next;
            a->nconns--;
            return;
        }
}

static void to_agent(api *a, uint32_t agent, json_t *j)
{
    if (agent < a->cap)
        for (api_conn *k = a->by_agent[agent]; k; k = k->next)
            send_json(k->ws, j);
    json_decref(j);
}

/* ---- sessions ---------------------------------------------------------- */

void api__token_hash(str token, char out[65])
{
    unsigned char h[32];
    crypto_generichash(h, sizeof h, (const unsigned char *)token.p, token.n, NULL, 0);
    sodium_bin2hex(out, 65, h, sizeof h);
}

char *api_password_hash(const char *password)
{
    char *out = xmalloc(crypto_pwhash_STRBYTES);
    if (crypto_pwhash_str(out, password, strlen(password), crypto_pwhash_OPSLIMIT_INTERACTIVE,
                          crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0) {
        free(out);
        return NULL;
    }
    return out;
}

/* The account behind the request's session cookie. */
int api__session_of(api *a, const http_req *req, store_account *acc)
{
    char msg[8];
    int b = api__bearer_of(a, req, acc, NULL, msg, sizeof msg);
    if (b != 0) /* a bearer token, when given, is the only credential */
        return b > 0 ? 0 : -1;
    if (req->session.n == 0 || req->session.n > 128)
        return -1;
    char h[65];
    api__token_hash(req->session, h);
    return store_session_get(a->env.st, str_c(h), a->env.now(a->env.app), acc) == 0 ? 0 : -1;
}

/* ---- REST -------------------------------------------------------------- */

json_t *api__parse_body(const http_req *req, http_resp *resp)
{
    json_t *j;
    api_parse_err e;
    if (api_parse_object(req->body, "the request body", &j, &e) != 0) {
        json_decref(j);
        api__resp_error(resp, 400, e.code, e.msg);
        return NULL;
    }
    return j;
}

void api_set_trusted_proxies(api *a, const netaddr *ranges, size_t n)
{
    a->ntrusted = n < sizeof a->trusted / sizeof a->trusted[0] ? n
                                                                : sizeof a->trusted / sizeof a->trusted[0];
    memcpy(a->trusted, ranges, a->ntrusted * sizeof *ranges);
}

/* The login throttle's clock: monotonic and read afresh, not the loop's
 * cached time, so that a wait counts from when the answer goes out and not
 * from the start of a loop turn that a password check (argon2id, 0.1 s
 * and more on a busy machine) has made long. */
static int64_t throttle_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

str api__client_addr(const api *a, const http_req *req, char *out)
{
    char xff[512], fwd[512];
    int xn = -1, fn = -1;
    if (a->ntrusted > 0 && req->impl != NULL) {
        xn = http_req_header(req, "X-Forwarded-For", xff, sizeof xff);
        fn = http_req_header(req, "Forwarded", fwd, sizeof fwd);
    }
    size_t n = api_throttle_client(a->trusted, a->ntrusted, req->peer,
                                   xn > 0 ? (str){xff, (size_t)xn} : STR_NULL,
                                   fn > 0 ? (str){fwd, (size_t)fn} : STR_NULL, out, 64);
    return (str){out, n};
}

/* A login under way: the password is checked on a worker (net_work), the
 * rest on the loop. Everything of the request it needs is copied. */
typedef struct login_job {
    api *a;
    http_defer *d; /* NULL: answered into 'resp' at once (no worker) */
    http_resp *resp;
    char *user, *pass;
    char addr[64], peer[64];
    int secure, found, ok;
    int64_t acc_id;
    uint32_t agent;
    int role;
    char hash[crypto_pwhash_STRBYTES];
} login_job;

/* The logins being checked ('add' 1: one more; 0: it is done). */
static void login_track(api *a, login_job *j, int add)
{
    if (add) {
        a->logins[a->nlogins++] = j;
        return;
    }
    for (size_t i = 0; i < a->nlogins; i++)
        if (a->logins[i] == j) {
            a->logins[i] = a->logins[--a->nlogins];
            break;
        }
}

/* Whether a login for 'user' waits for its check, or API_LOGINS_MAX do:
 * a name's guesses go one at a time (the throttle counts each before the
 * next), and the queue of checks stays bounded. */
static int login_busy(const api *a, const char *user)
{
    if (a->nlogins >= API_LOGINS_MAX)
        return 1;
    for (size_t i = 0; i < a->nlogins; i++)
        if (strcmp(a->logins[i]->user, user) == 0)
            return 1;
    return 0;
}

static void login_check(void *arg) /* a worker thread: nothing of the loop's */
{
    login_job *j = arg;
    j->ok = crypto_pwhash_str_verify(j->hash, j->pass, strlen(j->pass)) == 0 && j->found;
    sodium_memzero(j->pass, strlen(j->pass));
}

static void login_done(void *arg)
{
    login_job *j = arg;
    api *a = j->a;
    http_resp own = {.status = 200}, *resp = j->d ? &own : j->resp;
    str u = str_c(j->user), addr = str_c(j->addr);
    http_req req = {.peer = str_c(j->peer), .secure = j->secure}; /* what the audit reads */
    int64_t tnow = throttle_now(); /* a wait counts from the answer, not the question */
    if (j->ok)
        api_throttle_succeeded(a->throttle, u, addr, tnow);
    else
        api_throttle_failed(a->throttle, u, addr, tnow);
    /* the account as read before the check (its name is the one given) */
    store_account acc = {.id = j->acc_id, .username = u, .agent = j->agent, .role = j->role};
    if (!j->ok) { /* the name as given: it may name no account */
        api__audit(a, &req, u, "login", "login", STR_NULL, "bad_credentials");
        api__resp_error(resp, 401, "bad_credentials",
                        "unknown user or wrong password: check both and try again");
    } else if (!api_oidc_password_allowed(a->oidc, acc.role)) { /* right password, SSO only */
        api__audit(a, &req, u, "login", "login", STR_NULL, "password_login_off");
        api__resp_error(resp, 403, "password_login_off",
                        "this role signs in with single sign-on only: use the SSO button");
    } else if (api__session_open(a, &acc, j->secure, resp) == 0) {
        api__audit(a, &req, u, "login", "login", STR_NULL, "ok");
    }
    login_track(a, j, 0);
    if (j->d) {
        http_defer_complete(j->d, resp);
        buf_free(&own.body);
    }
    free(j->user);
    free(j->pass);
    free(j);
}

static void rest_login(api *a, const http_req *req, http_resp *resp)
{
    json_t *j = api__parse_body(req, resp);
    if (!j)
        return;
    const char *user = NULL, *pass = NULL;
    if (json_unpack(j, "{s:s, s:s}", "username", &user, "password", &pass) != 0) {
        json_decref(j);
        api__resp_error(resp, 400, "bad_request",
                        "username and password are required strings: send both");
        return;
    }
    int64_t tnow = throttle_now();
    if (login_busy(a, user)) { /* one check at a time per name, a bounded queue */
        json_decref(j);
        api__resp_json(resp, 429,
                       json_pack("{s:s, s:s, s:i}", "error", "too_many_attempts", "message",
                                 "a login for this name is being checked, or too many at once:"
                                 " try again in 1 s",
                                 "retry_after_s", 1));
        return;
    }
    login_job *lj = xcalloc(1, sizeof *lj);
    str u = str_c(user), addr = api__client_addr(a, req, lj->addr);
    int64_t wait = api_throttle_wait(a->throttle, u, addr, tnow);
    if (wait > 0) { /* refused unchecked: the password is not even tried */
        free(lj);
        api__audit(a, req, u, "login", "login", STR_NULL, "too_many_attempts");
        json_decref(j);
        char msg[160];
        long long s = (long long)((wait + 999) / 1000);
        snprintf(msg, sizeof msg,
                 "too many failed logins for this name from here: try again in %lld s", s);
        api__resp_json(resp, 429, json_pack("{s:s, s:s, s:I}", "error", "too_many_attempts",
                                            "message", msg, "retry_after_s", (json_int_t)s));
        return;
    }
    store_account acc;
    lj->found = store_account_get(a->env.st, u, &acc) == 0;
    if (lj->found && acc.pwhash.n < sizeof lj->hash)
        memcpy(lj->hash, acc.pwhash.p, acc.pwhash.n);
    else if (a->dummy_hash) /* an unknown user costs the same time */
        snprintf(lj->hash, sizeof lj->hash, "%s", a->dummy_hash);
    if (lj->found) {
        lj->acc_id = acc.id;
        lj->agent = acc.agent;
        lj->role = acc.role;
    }
    lj->a = a;
    lj->resp = resp;
    lj->user = xmemdup0(user, strlen(user));
    lj->pass = xmemdup0(pass, strlen(pass));
    snprintf(lj->peer, sizeof lj->peer, "%.*s", (int)req->peer.n, req->peer.p ? req->peer.p : "");
    lj->secure = req->secure;
    json_decref(j);
    if (a->work)
        lj->d = http_defer_begin(req);
    login_track(a, lj, 1);
    net_work_submit(a->work, login_check, login_done, lj);
}

int api__session_open(api *a, const store_account *acc, int secure, http_resp *resp)
{
    unsigned char raw[32];
    char token[65], h[65];
    randombytes_buf(raw, sizeof raw);
    sodium_bin2hex(token, sizeof token, raw, sizeof raw);
    api__token_hash(str_c(token), h);
    int64_t now = a->env.now(a->env.app);
    int w = api__write_begin(a);
    if (w == 0)
        w = api__write_end(a, store_session_put(a->env.st, str_c(h), acc->id,
                                                now + API_SESSION_TTL_MS));
    if (w != 0) {
        api__resp_error(resp, 503, "store_unavailable",
                        "sessions cannot be stored right now: try again in a moment");
        return -1;
    }
    static const char *const roles[] = {"agent", "supervisor", "admin"};
    snprintf(resp->set_cookie, sizeof resp->set_cookie,
             "%s=%s; Path=/; HttpOnly; SameSite=Strict; Max-Age=%lld%s", HTTP_SESSION_COOKIE,
             token, API_SESSION_TTL_MS / 1000, secure ? "; Secure" : "");
    api__resp_json(resp, 200,
                   json_pack("{s:o, s:i, s:s, s:o}", "username", api__jstr(acc->username),
                             "agent", (int)acc->agent, "role",
                             acc->role >= 0 && acc->role <= 2 ? roles[acc->role] : "agent", "me",
                             api__agent_json(a, acc->agent)));
    return 0;
}

static void rest_logout(api *a, const http_req *req, http_resp *resp)
{
    store_account acc;
    char msg[8];
    if (api__bearer_of(a, req, &acc, NULL, msg, sizeof msg) > 0) {
        api__resp_error(resp, 400, "token_not_session",
                        "an API token has no session to end: an administrator revokes it");
        return;
    }
    if (api__session_of(a, req, &acc) != 0) {
        api__resp_error(resp, 401, "not_logged_in", API_MSG_NO_SESSION);
        return;
    }
    uint32_t agent = acc.agent;
    cc_agent_view v;
    if (agent && cc_agent_get(a->env.core, agent, &v) == 0 && v.state != CC_AGENT_LOGGED_OUT) {
        int r = a->env.apply(a->env.app, &(cc_cmd){.type = CC_CMD_LOGOUT, .agent = agent});
        if (r < 0) {
            api__resp_error(resp, r == -CC_E_STORE ? 503 : 409, cc_err_code(r), cc_err_msg(r));
            return;
        }
    }
    char h[65];
    api__token_hash(req->session, h);
    int r = api__write_begin(a);
    if (r == 0) {
        int d = store_session_del(a->env.st, str_c(h));
        r = api__write_end(a, d == -ENOENT ? 0 : d);
    }
    if (r != 0) { /* the session stays valid: say so */
        api__resp_error(resp, 503, cc_err_code(-CC_E_STORE), cc_err_msg(-CC_E_STORE));
        return;
    }
    snprintf(resp->set_cookie, sizeof resp->set_cookie,
             "%s=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0%s", HTTP_SESSION_COOKIE,
             req->secure ? "; Secure" : "");
    /* close this agent's desktops: they belong to the session that ended */
    if (agent < a->cap)
        for (api_conn *k = a->by_agent[agent]; k; k = k->next)
            http_ws_close(k->ws);
    api__resp_json(resp, 200, json_pack("{s:b}", "ok", 1));
}

/* GET /api/history?conv=ID: the customer's earlier conversations, for a
 * conversation the agent is in (the REST twin of the `history` command).
 * GET /api/lists: queues, entry points, wrap-up and idle reasons. */
static void rest_agent_read(api *a, const http_req *req, http_resp *resp, int history)
{
    store_account acc;
    if (api__session_of(a, req, &acc) != 0 || acc.agent == 0) {
        api__resp_error(resp, 401, "not_logged_in",
                        "no valid agent session: log in as an agent first (POST /api/login),"
                        " or send an agent's API token");
        return;
    }
    if (!history) {
        api__resp_json(resp, 200,
                       json_pack("{s:o, s:o, s:o, s:o}", "queues",
                                 api__list_json(a, CC_KIND_QUEUE), "entry_points",
                                 api__list_json(a, CC_KIND_EP), "wrapup_reasons",
                                 api__list_json(a, CC_KIND_REASON), "idle_reasons",
                                 api__list_json(a, CC_KIND_IDLE_REASON)));
        return;
    }
    char v[16];
    cc_conv_view c;
    char *end = v;
    uint32_t id = http_req_arg(req, "conv", v, sizeof v) > 0 ? (uint32_t)strtoul(v, &end, 10) : 0;
    if (id == 0 || *end) {
        api__resp_error(resp, 400, "bad_request",
                        "conv: give the id of a conversation you are in (?conv=ID)");
        return;
    }
    if (cc_conv_get(a->env.core, id, &c) != 0 || !api__role_of(a, &c, acc.agent)) {
        api__resp_error(resp, 403, "not_your_conversation", cc_err_msg(-CC_E_NOT_YOURS));
        return;
    }
    api__resp_json(resp, 200, api__history_json(a, &c));
}

/* GET /api/me (401 without a session) and GET /api/session (200 either
 * way, "logged_in" says which: a page's check before login is no error). */
static void rest_me(api *a, const http_req *req, http_resp *resp, int optional)
{
    store_account acc;
    if (api__session_of(a, req, &acc) != 0) {
        if (optional)
            api__resp_json(resp, 200, json_pack("{s:b}", "logged_in", 0));
        else
            api__resp_error(resp, 401, "not_logged_in", API_MSG_NO_SESSION);
        return;
    }
    api__resp_json(resp, 200,
                   json_pack("{s:b, s:o, s:i, s:o}", "logged_in", 1, "username",
                             api__jstr(acc.username), "agent", (int)acc.agent, "me",
                             api__agent_json(a, acc.agent)));
}

static void sim_collect(void *arg, const gw_sim_msg *m)
{
    json_array_append_new(arg, json_pack("{s:I, s:o, s:o, s:o}", "n", (json_int_t)m->at_seq,
                                         "from", api__jstr(m->from), "to", api__jstr(m->to), "text",
                                         api__jstr(m->text)));
}

void api__respond_after_commit(api *a, const http_req *req, http_resp *resp, json_t *body)
{
    char *s = json_dumps(body, JSON_COMPACT);
    json_decref(body);
    api_late_respond(a->env.after_commit, a->env.app, req, resp, "application/json", s, 1);
}

static void rest_sim(api *a, const http_req *req, http_resp *resp, const char *what)
{
    if (!a->env.sim) {
        api__resp_error(resp, 404, "no_simulator",
                        "the simulator gateway is not configured: add it to the configuration's"
                        " gateways (docs/configuration.md)");
        return;
    }
    if (strcmp(what, "entry_points") == 0) {
        /* the simulator plays the customer, who knows the business numbers:
         * never masked (masking protects customer data from agents) */
        cc_item items[64];
        size_t n = cc_list(a->env.core, CC_KIND_EP, items, 64);
        json_t *arr = json_array();
        for (size_t i = 0; i < n && i < 64; i++)
            json_array_append_new(arr, json_pack("{s:i, s:o}", "id", (int)items[i].id, "number",
                                                 api__jstr(items[i].name)));
        api__resp_json(resp, 200, json_pack("{s:o}", "entry_points", arr));
        return;
    }
    if (strcmp(what, "inbox") == 0) {
        char number[64], after[16] = "0";
        if (http_req_arg(req, "number", number, sizeof number) <= 0) {
            api__resp_error(resp, 400, "bad_request", "number is required: give ?number=...");
            return;
        }
        http_req_arg(req, "after", after, sizeof after);
        json_t *arr = json_array();
        gw_sim_inbox(a->env.sim, str_c(number), (size_t)strtoul(after, NULL, 10), sim_collect,
                     arr);
        api__resp_json(resp, 200, json_pack("{s:o}", "messages", arr));
        return;
    }
    /* the simulated customer's SMS: the simulator gateway's own inbound,
     * through the inbound port like every gateway's (sms/gw_sim.c) */
    api_gw_call(a->env.sim, what, req, resp);
}

/* Every desktop starts over from a fresh snapshot (after a setting that
 * changes what they may see). */
void api__resync_all(api *a)
{
    a->feed_dirty = 1; /* supervisors' pages too (api_feed_flush), anew */
    a->feed_lists = 0;
    for (uint32_t i = 0; i < a->cap; i++)
        for (api_conn *k = a->by_agent[i]; k; k = k->next) {
            json_t *snap = api__snapshot(a, k->agent);
            send_json(k->ws, snap);
            json_decref(snap);
        }
}

int api__require_role(api *a, const http_req *req, http_resp *resp, int supervisors_too)
{
    store_account acc;
    if (api__session_of(a, req, &acc) != 0) {
        api__resp_error(resp, 401, "not_logged_in", API_MSG_NO_SESSION);
        return -1;
    }
    if (acc.role != STORE_ROLE_ADMIN && !(supervisors_too && acc.role == STORE_ROLE_SUPERVISOR)) {
        api__resp_error(resp, 403, "forbidden",
                        supervisors_too ? "supervisors and administrators only: log in as one,"
                                          " or send their API token"
                                        : "administrators only: log in as an administrator,"
                                          " or send an admin API token");
        return -1;
    }
    return 0;
}

static void rest_admin_settings(api *a, const http_req *req, http_resp *resp)
{
    if (api__require_role(a, req, resp, 0) != 0)
        return;
    if (strcmp(req->method, "GET") != 0 && strcmp(req->method, "PUT") != 0) {
        api__resp_error(resp, 405, "method_not_allowed", "use GET or PUT");
        return;
    }
    if (strcmp(req->method, "GET") != 0) {
        json_t *j = api__parse_body(req, resp);
        if (!j)
            return;
        const char *key;
        json_t *v;
        json_object_foreach(j, key, v)
        {
            if (strcmp(key, "mask_sensitive_data") != 0 || !json_is_boolean(v)) {
                char name[64], msg[200];
                snprintf(name, sizeof name, "%s", key);
                utf8_trim(name); /* cut to 63 bytes, maybe inside a character */
                snprintf(msg, sizeof msg,
                         "%s: unknown setting or not a boolean: send {\"mask_sensitive_data\":"
                         " true or false}",
                         name);
                json_decref(j);
                api__resp_error(resp, 400, "bad_setting", msg);
                return;
            }
        }
        json_t *m = json_object_get(j, "mask_sensitive_data");
        if (m) {
            int on = json_is_true(m);
            int w = api__write_begin(a); /* the write path: fenced in a cluster too */
            if (w == 0)
                w = api__write_end(a, store_setting_put(a->env.st, STR_LIT("mask_sensitive_data"),
                                                        on ? STR_LIT("1") : STR_LIT("0")));
            if (w != 0) {
                json_decref(j);
                api__resp_error(resp, 503, "store_unavailable",
                                "the setting cannot be stored now: try again in a moment");
                return;
            }
            if (on != a->mask) {
                a->mask = on;
                api__resync_all(a); /* takes effect on open desktops at once */
            }
        }
        json_decref(j);
    }
    api__resp_json(resp, 200, json_pack("{s:b}", "mask_sensitive_data", a->mask));
}

/* Same origin: the Origin header must name the host the request went to. */
static int same_origin(const http_req *req);

/* ---- the page for a path that names nothing ---------------------------- */

/* 1 when Accept-Language 'al' ranks English above Swedish; Swedish, the
 * site's default (as on every page), otherwise. */
static int wants_english(const char *al)
{
    double q_sv = 0, q_en = 0;
    int seen_sv = 0, seen_en = 0;
    while (*al) {
        while (*al == ' ' || *al == ',')
            al++;
        const char *tag = al;
        while (*al && *al != ',' && *al != ';' && *al != ' ')
            al++;
        size_t n = (size_t)(al - tag);
        double q = 1;
        while (*al && *al != ',') {
            if (strncmp(al, ";q=", 3) == 0)
                q = strtod(al + 3, NULL);
            al++;
        }
        int sv = n >= 2 && strncasecmp(tag, "sv", 2) == 0 && (n == 2 || tag[2] == '-');
        int en = n >= 2 && strncasecmp(tag, "en", 2) == 0 && (n == 2 || tag[2] == '-');
        if (sv && !seen_sv)
            seen_sv = 1, q_sv = q;
        if (en && !seen_en)
            seen_en = 1, q_en = q;
    }
    return q_en > 0 && q_en > q_sv;
}

/* 404 for a path outside the API that no file answers (http.c hands it
 * here): a page in the reader's language that says where to go. Both
 * languages are in it; the one the Accept-Language header ranks first is
 * shown, and /js/notfound.js shows the one chosen on the desktop instead. */
static void not_found_page(const http_req *req, http_resp *resp)
{
    char al[256];
    int en = http_req_header(req, "Accept-Language", al, sizeof al) > 0 && wants_english(al);
    resp->status = 404;
    resp->content_type = "text/html; charset=utf-8";
    buf_printf(&resp->body,
               "<!doctype html>\n<html lang=\"%s\">\n<head>\n<meta charset=\"utf-8\">\n"
               "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
               "<title>%s</title>\n<link rel=\"icon\" href=\"data:,\">\n"
               "<link rel=\"stylesheet\" href=\"/desktop.css\">\n"
               "<script type=\"module\" src=\"/js/notfound.js\"></script>\n</head>\n<body>\n"
               "<main class=\"login\">\n"
               "<div class=\"login-card\" lang=\"sv\" data-lang=\"sv\" "
               "data-title=\"Sidan finns inte – textdesk\"%s>\n"
               "<h1><span class=\"brand\">textdesk</span> Sidan finns inte</h1>\n"
               "<p>Det finns ingen sida på den här adressen: kontrollera adressen, eller gå "
               "till agentskrivbordet och logga in där.</p>\n"
               "<p><a href=\"/\">Till agentskrivbordet och inloggningen</a></p>\n</div>\n"
               "<div class=\"login-card\" lang=\"en\" data-lang=\"en\" "
               "data-title=\"Page not found – textdesk\"%s>\n"
               "<h1><span class=\"brand\">textdesk</span> Page not found</h1>\n"
               "<p>There is no page at this address: check the address, or go to the agent "
               "desktop and log in there.</p>\n"
               "<p><a href=\"/\">To the agent desktop and the login</a></p>\n</div>\n"
               "</main>\n</body>\n</html>\n",
               en ? "en" : "sv", en ? "Page not found – textdesk" : "Sidan finns inte – textdesk",
               en ? " hidden" : "", en ? "" : " hidden");
}

static void dispatch(api *a, const http_req *req, http_resp *resp);

int api_path(const char *p)
{
    return (strncmp(p, "/api", 4) == 0 && (p[4] == '\0' || p[4] == '/')) ||
           strcmp(p, "/metrics") == 0;
}

void api_http_request(void *arg, const http_req *req, http_resp *resp)
{
    api *a = arg;
    if (!api_path(req->path)) {
        not_found_page(req, resp); /* not the API's: no file has that path */
        return;
    }
    /* a state-changing call from another site's page is refused (CSRF);
     * browsers always send Origin on such requests */
    if (strcmp(req->method, "GET") != 0 && req->origin.n && !same_origin(req)) {
        api__resp_error(resp, 403, "cross_origin", "requests from other origins are refused");
        return;
    }
    /* a bad bearer token is refused whatever it asks for (api_token.c) */
    store_account tacc;
    const char *code = NULL;
    char msg[160];
    a->tok_req = req; /* looked up once for the whole request */
    a->tok_valid = 0;
    if (api__bearer_of(a, req, &tacc, &code, msg, sizeof msg) < 0) {
        api__resp_error(resp, strcmp(code, "store_unavailable") == 0 ? 503 : 401, code, msg);
        a->tok_req = NULL;
        return;
    }
    api_audit_ctx x;
    api__audit_before(a, req, &x);
    dispatch(a, req, resp);
    api__audit_after(a, req, resp, &x);
    a->tok_req = NULL;
}

/* The calls that only read: another method is refused, not served as a
 * GET (before, a DELETE of /api/session answered as its GET). */
static int read_only(const char *p)
{
    static const char *const paths[] = {"/api/health",  "/api/session",          "/api/me",
                                        "/api/history", "/api/lists",            "/metrics",
                                        "/api/sim/inbox", "/api/sim/entry_points", NULL};
    for (size_t i = 0; paths[i]; i++)
        if (strcmp(p, paths[i]) == 0)
            return 1;
    return 0;
}

static void dispatch(api *a, const http_req *req, http_resp *resp)
{
    const char *p = req->path;
    if (read_only(p) && strcmp(req->method, "GET") != 0) {
        api__resp_error(resp, 405, "method_not_allowed", "read only: use GET");
    } else if (strcmp(p, "/metrics") == 0) {
        api__metrics(a, req, resp);
    } else if (strcmp(p, "/api/health") == 0) {
        if (api__store_available(a))
            api__resp_json(resp, 200,
                           json_pack("{s:b, s:i, s:s}", "ok", 1, "protocol", API_PROTOCOL_VERSION,
                                     "store", "available"));
        else
            api__resp_json(resp, 503,
                           json_pack("{s:b, s:i, s:s, s:s, s:s}", "ok", 0, "protocol",
                                     API_PROTOCOL_VERSION, "store", "unavailable", "error",
                                     cc_err_code(-CC_E_STORE), "message",
                                     cc_err_msg(-CC_E_STORE)));
    } else if ((strcmp(p, "/api/login") == 0 || strcmp(p, "/api/logout") == 0) &&
               strcmp(req->method, "POST") != 0) {
        api__resp_error(resp, 405, "method_not_allowed", "use POST");
    } else if (strcmp(p, "/api/login") == 0) {
        rest_login(a, req, resp);
    } else if (strncmp(p, "/api/sso", 8) == 0 && (p[8] == '\0' || p[8] == '/')) {
        api_oidc_request(a->oidc, a, req, resp, p + 8);
    } else if (strcmp(p, "/api/logout") == 0) {
        rest_logout(a, req, resp);
    } else if (strcmp(p, "/api/history") == 0 || strcmp(p, "/api/lists") == 0) {
        rest_agent_read(a, req, resp, p[5] == 'h');
    } else if (strcmp(p, "/api/me") == 0 || strcmp(p, "/api/session") == 0) {
        rest_me(a, req, resp, p[5] == 's');
    } else if (strcmp(p, "/api/admin/settings") == 0) {
        rest_admin_settings(a, req, resp);
    } else if (strncmp(p, "/api/admin/tokens", 17) == 0 && (p[17] == '\0' || p[17] == '/')) {
        api__tokens(a, req, resp, p + 17);
    } else if (strncmp(p, "/api/admin/webhooks", 19) == 0 && (p[19] == '\0' || p[19] == '/')) {
        api__hooks(a, req, resp, p + 19);
    } else if (strncmp(p, "/api/admin/retention", 20) == 0 && (p[20] == '\0' || p[20] == '/')) {
        api__retention(a, req, resp, p + 20);
    } else if (strncmp(p, "/api/admin/customers/", 21) == 0) {
        api__customers(a, req, resp, p + 20);
    } else if (strcmp(p, "/api/admin/audit") == 0 || strcmp(p, "/api/admin/audit.csv") == 0) {
        api__audit_get(a, req, resp, p[16] == '.');
    } else if (strncmp(p, "/api/admin/", 11) == 0) {
        api__admin(a, req, resp);
    } else if (strncmp(p, "/api/reports/", 13) == 0) {
        api__reports(a, req, resp);
    } else if (strncmp(p, "/api/supervisor/", 16) == 0) {
        api__supervisor(a, req, resp);
    } else if (strncmp(p, "/api/sim/", 9) == 0) {
        rest_sim(a, req, resp, p + 9);
    } else if (strncmp(p, "/api/gw/", 8) == 0) {
        api_gw_request(a->env.gateway, a->env.app, req, resp);
    } else {
        /* the path is not quoted: it is the client's raw bytes */
        api__resp_error(resp, 404, "not_found",
                        "no such endpoint: the API's paths are listed in docs/api.md");
    }
}

/* ---- WebSocket --------------------------------------------------------- */

static int same_origin(const http_req *req)
{
    if (req->origin.n == 0 || req->host.n == 0)
        return 0;
    const char *o = req->origin.p;
    size_t n = req->origin.n, skip = 0;
    if (n > 7 && memcmp(o, "http://", 7) == 0)
        skip = 7;
    else if (n > 8 && memcmp(o, "https://", 8) == 0)
        skip = 8;
    else
        return 0;
    return n - skip == req->host.n && memcmp(o + skip, req->host.p, req->host.n) == 0;
}

int api_ws_open(void *arg, const http_req *req, http_ws *ws, void **user)
{
    api *a = arg;
    store_account acc;
    if (!same_origin(req))
        return 403;
    if (api__session_of(a, req, &acc) != 0)
        return 401;
    /* a token opens what a session of its role opens: an agent token its
     * agent's desktop, the others the supervisors' feed (docs/security.md) */
    char msg[8], by[96] = "";
    store_account tacc;
    if (api__bearer_of(a, req, &tacc, NULL, msg, sizeof msg) > 0)
        snprintf(by, sizeof by, "%.*s", (int)tacc.username.n, tacc.username.p);
    if (acc.agent == 0) { /* a supervisor's page: the live feed (api_supervisor.c) */
        int r = acc.role == STORE_ROLE_AGENT ? 401 : api__feed_open(a, ws, user);
        if (r == 0 && by[0])
            api__audit(a, req, str_c(by), "token", "GET /ws (feed)", STR_NULL, "101");
        return r;
    }
    cc_agent_view v;
    if (cc_agent_get(a->env.core, acc.agent, &v) != 0)
        return 403;
    if (by[0])
        api__audit(a, req, str_c(by), "token", "GET /ws", STR_NULL, "101");
    api_conn *k = xcalloc(1, sizeof *k);
    k->ws = ws;
    k->agent = acc.agent;
    k->account = acc.id;
    conn_add(a, k);
    *user = k;
    if (v.state == CC_AGENT_LOGGED_OUT)
        a->env.apply(a->env.app, &(cc_cmd){.type = CC_CMD_LOGIN, .agent = k->agent});
    else if (!v.connected)
        a->env.apply(a->env.app, &(cc_cmd){.type = CC_CMD_RECONNECT, .agent = k->agent});
    json_t *snap = api__snapshot(a, k->agent);
    send_json(ws, snap);
    json_decref(snap);
    return 0;
}

void api_ws_close(void *arg, http_ws *ws, void *user)
{
    api *a = arg;
    api_conn *k = user;
    if (k->feed) {
        api__feed_close(a, k);
        return;
    }
    conn_del(a, k);
    uint32_t agent = k->agent;
    if (k->pending)
        k->gone = 1; /* the last late reply frees it */
    else
        free(k);
    if (agent < a->cap && a->by_agent[agent])
        return; /* another desktop of the agent is still there */
    cc_agent_view v;
    if (cc_agent_get(a->env.core, agent, &v) == 0 && v.state != CC_AGENT_LOGGED_OUT &&
        v.connected)
        a->env.apply(a->env.app, &(cc_cmd){.type = CC_CMD_DISCONNECT, .agent = agent});
}

/* A result waiting for the commit of what its command changed. */
typedef struct late_reply {
    api_conn *k;
    json_t *msg;
} late_reply;

static void send_late(void *arg, int status)
{
    late_reply *l = arg;
    if (status < 0 && json_is_true(json_object_get(l->msg, "ok"))) {
        /* the commit failed: the command did not happen after all */
        json_t *j = json_pack("{s:s, s:O, s:b, s:s, s:s}", "type", "result", "id",
                              json_object_get(l->msg, "id"), "ok", 0, "error",
                              cc_err_code(status), "message", cc_err_msg(status));
        json_decref(l->msg);
        l->msg = j;
    }
    l->k->pending--;
    if (!l->k->gone)
        send_json(l->k->ws, l->msg);
    else if (l->k->pending == 0)
        free(l->k);
    json_decref(l->msg);
    free(l);
}

/* Sends the result of a command once it is durable (docs/api.md: an ok
 * result means committed). */
static void reply_to(api *a, api_conn *k, json_t *id, int r, json_t *extra)
{
    json_t *j = json_pack("{s:s, s:O, s:b}", "type", "result", "id", id ? id : json_null(),
                          "ok", r >= 0);
    if (r < 0) {
        json_object_set_new(j, "error", json_string(cc_err_code(r)));
        json_object_set_new(j, "message", json_string(cc_err_msg(r)));
    }
    if (extra)
        json_object_update(j, extra);
    json_decref(extra);
    if (!a->env.after_commit) {
        send_json(k->ws, j);
        json_decref(j);
        return;
    }
    late_reply *l = xmalloc(sizeof *l);
    l->k = k;
    l->msg = j;
    k->pending++;
    a->env.after_commit(a->env.app, send_late, l);
}

static void reply_bad(http_ws *ws, json_t *id, const char *code, const char *msg)
{
    char m[512]; /* valid UTF-8 whatever 'msg' holds: the result is never lost */
    snprintf(m, sizeof m, "%s", msg);
    utf8_trim(m);
    json_t *j = json_pack("{s:s, s:O, s:b, s:s, s:s}", "type", "result", "id",
                          id ? id : json_null(), "ok", 0, "error", code, "message", m);
    send_json(ws, j);
    json_decref(j);
}

static json_t *targets_json(api *a, uint32_t agent)
{
    const cc *c = a->env.core;
    size_t n = cc_transfer_targets(c, agent, NULL, 0);
    uint32_t *ids = xmalloc((n + 1) * sizeof *ids);
    cc_transfer_targets(c, agent, ids, n);
    json_t *agents = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(agents, json_pack("{s:i, s:o}", "id", (int)ids[i], "name",
                                                api__jstr(cc_name(c, CC_KIND_AGENT, ids[i]))));
    free(ids);
    return json_pack("{s:o, s:o, s:o}", "queues", api__list_json(a, CC_KIND_QUEUE), "agents",
                     agents, "skills", api__list_json(a, CC_KIND_SKILL));
}

typedef struct resend_walk {
    uint32_t seq;
    char *text;
} resend_walk;

static int find_resend(void *arg, const store_msg *m)
{
    resend_walk *w = arg;
    if (m->seq == w->seq && m->outbound &&
        (m->status == STORE_MSG_UNKNOWN || m->status == STORE_MSG_FAILED))
        w->text = xmemdup0(m->text.p, m->text.n);
    return 0;
}

void api_ws_message(void *arg, http_ws *ws, void *user, str data)
{
    api *a = arg;
    api_conn *k = user;
    api_frame f;
    api_parse_err e;
    if (k->feed) { /* a page's view (its slices), or a fresh overview */
        api__feed_message(a, k, data);
        return;
    }
    if (api_parse_frame(data, &f, &e) != 0) {
        reply_bad(ws, f.id, e.code, e.msg);
        api_parse_frame_free(&f);
        return;
    }
    json_t *id = f.id;
    cc_cmd m = f.cmd;
    m.agent = k->agent;
    cc_conv_view v;
    int r;
    switch (f.kind) {
    case API_FRAME_PING:
        reply_to(a, k, id, 0, json_pack("{s:I}", "now", (json_int_t)a->env.now(a->env.app)));
        break;
    case API_FRAME_SNAPSHOT: {
        json_t *snap = api__snapshot(a, k->agent);
        send_json(ws, snap);
        json_decref(snap);
        reply_to(a, k, id, 0, NULL);
        break;
    }
    case API_FRAME_TARGETS:
        reply_to(a, k, id, 0, targets_json(a, k->agent));
        break;
    case API_FRAME_MESSAGES:
        if (cc_conv_get(a->env.core, m.conv, &v) != 0 || !api__role_of(a, &v, k->agent))
            reply_to(a, k, id, -CC_E_NOT_YOURS, NULL);
        else
            reply_to(a, k, id, 0,
                     json_pack("{s:i, s:o}", "conv", (int)m.conv, "messages",
                               api__transcript(a, m.conv)));
        break;
    case API_FRAME_RESEND: {
        /* the one-click resend of a reply whose delivery is unknown or
         * failed: the same text as a new message (the old one keeps its
         * status; nothing is ever resent automatically) */
        resend_walk w = {f.seq, NULL};
        store_msgs_of_conv(a->env.st, m.conv, find_resend, &w);
        if (!w.text) {
            reply_bad(ws, id, "not_resendable",
                      "no agent message with that seq whose delivery failed or is unknown:"
                      " only those can be sent again (check conv and seq)");
            break;
        }
        m.type = CC_CMD_SEND;
        m.text = str_c(w.text);
        r = a->env.apply(a->env.app, &m);
        free(w.text);
        reply_to(a, k, id, r, NULL);
        break;
    }
    case API_FRAME_CANNED:
        reply_to(a, k, id, 0, json_pack("{s:o}", "canned", api__canned_list(a)));
        break;
    case API_FRAME_HISTORY:
        if (cc_conv_get(a->env.core, m.conv, &v) != 0 || !api__role_of(a, &v, k->agent))
            reply_to(a, k, id, -CC_E_NOT_YOURS, NULL);
        else
            reply_to(a, k, id, 0, api__history_json(a, &v));
        break;
    case API_FRAME_SMS_INFO: {
        sms_info info;
        if (!f.text.p) {
            reply_bad(ws, id, "bad_request", "text: give the text to measure, as a string");
        } else if (sms_text_analyse(f.text.p, f.text.n, &info) != 0) {
            reply_to(a, k, id, -CC_E_UTF8, NULL);
        } else {
            reply_to(a, k, id, 0,
                     json_pack("{s:s, s:i, s:i, s:i}", "encoding",
                               info.encoding == SMS_UCS2 ? "ucs2" : "gsm7", "segments",
                               (int)info.segments, "units", (int)info.units, "chars",
                               (int)info.chars));
        }
        break;
    }
    default: { /* API_FRAME_CORE */
        r = a->env.apply(a->env.app, &m);
        json_t *extra = NULL;
        if (r == 0 && m.type == CC_CMD_OUTBOUND) /* the new conversation's id */
            extra = json_pack("{s:i}", "conv", (int)cc_conv_of(a->env.core, m.number, m.ep));
        else if (r == -CC_E_INVALID && m.type == CC_CMD_OUTBOUND) /* its one field */
            extra = json_pack("{s:s, s:s}", "field", "number", "message",
                              "number: not a number an SMS can be sent to: write + and the "
                              "country code, then the digits (+46701234567)");
        reply_to(a, k, id, r, extra);
        break;
    }
    }
    api_parse_frame_free(&f);
}

/* ---- publishing -------------------------------------------------------- */

/* The (conversation, agent) pairs a batch of events touched, each once, in
 * the order first touched. A hash set, not a scan of the list: a big batch
 * (a stop with thousands of desktops, a burst) touches tens of thousands. */
typedef struct touch {
    uint32_t conv, agent;
} touch;

typedef struct touches {
    touch *v;
    size_t n, cap;
    hmap seen; /* index + 1 into v */
} touches;

typedef struct touch_key {
    const touch *v;
    touch k;
} touch_key;

static int touch_eq(const void *elem, const void *key)
{
    const touch_key *k = key;
    const touch *t = &k->v[(uintptr_t)elem - 1];
    return t->conv == k->k.conv && t->agent == k->k.agent;
}

/* Adds the pair unless 'agent' is 0 or has no desktop here (nobody to
 * tell), or the pair is in already. */
static void touch_add(const api *a, touches *t, uint32_t conv, uint32_t agent)
{
    if (!agent || agent >= a->cap || !a->by_agent[agent])
        return;
    uint64_t h = hmap_hash_u64((uint64_t)conv << 32 | agent);
    touch_key k = {t->v, {conv, agent}};
    if (hmap_get(&t->seen, h, touch_eq, &k))
        return;
    if (t->n == t->cap) {
        t->cap = t->cap ? t->cap * 2 : 16;
        t->v = xrealloc(t->v, t->cap * sizeof *t->v);
    }
    t->v[t->n++] = k.k;
    hmap_put(&t->seen, h, (void *)(uintptr_t)t->n);
}

void api_publish(api *a, const cc_events *evs)
{
    const cc *c = a->env.core;
    api__metrics_events(a, evs);
    api__feed_events(a, evs);
    touches t = {0};
    hmap_init(&t.seen);
    for (size_t i = 0; i < evs->n; i++) {
        const cc_event *e = &evs->v[i];
        if (e->type == CC_EV_SUPERVISED) { /* the agent is told who and why */
            to_agent(a, e->agent,
                     json_pack("{s:s, s:o, s:s, s:o, s:o}", "type", "supervised", "by",
                               api__jstr(e->name), "state",
                               e->state == CC_AGENT_IDLE ? "idle" : "logged_out",
                               "reason_name", api__jstr(cc_name(c, CC_KIND_IDLE_REASON, e->reason)),
                               "message", api__jstr(e->text)));
            continue;
        }
        if (e->type == CC_EV_AGENT_STATE || e->type == CC_EV_AGENT_CONNECTED ||
            e->type == CC_EV_AGENT_PUT) {
            to_agent(a, e->agent,
                     json_pack("{s:s, s:o}", "type", "agent", "me",
                               api__agent_json(a, e->agent)));
            continue;
        }
        if (!e->conv || e->type < CC_EV_CONV_OPENED)
            continue;
        touch_add(a, &t, e->conv, e->agent);
        touch_add(a, &t, e->conv, e->target);
        cc_conv_view v;
        if (cc_conv_get(c, e->conv, &v) == 0) {
            touch_add(a, &t, e->conv, v.owner);
            touch_add(a, &t, e->conv, v.guest);
            touch_add(a, &t, e->conv, v.offered_to);
        }
        if (e->type == CC_EV_MSG_IN || e->type == CC_EV_MSG_OUT) {
            if (cc_conv_get(c, e->conv, &v) != 0)
                continue;
            json_t *msg = api__message_json(a, e);
            uint32_t to[3] = {v.owner, v.conf_state == CC_CONF_ACTIVE ? v.guest : 0,
                              v.offered_to};
            for (int k = 0; k < 3; k++)
                if (to[k] && (k == 0 || to[k] != to[0]))
                    to_agent(a, to[k], json_incref(msg));
            json_decref(msg);
        }
        if (cc_ev_is_note(e->type) && e->type != CC_EV_QUEUED) {
            /* system lines in the transcript (a queued conversation has
             * no one to tell: its note is read with the transcript) */
            json_t *sys = json_pack("{s:s, s:i, s:s, s:i, s:o, s:s, s:I}", "type", "system",
                                    "conv", (int)e->conv, "event", cc_ev_name(e->type),
                                    "agent", (int)(e->target ? e->target : e->agent),
                                    "agent_name",
                                    api__jstr(cc_name(c, CC_KIND_AGENT,
                                                 e->target ? e->target : e->agent)),
                                    "why", cc_why_name(e->code), "at", (json_int_t)e->at);
            api__note_fields(a, sys, e->name, e->type == CC_EV_NOTE ? e->text : STR_NULL);
            if (cc_conv_get(c, e->conv, &v) == 0) {
                to_agent(a, v.owner, json_incref(sys));
                if (v.guest && v.guest != v.owner)
                    to_agent(a, v.guest, json_incref(sys));
                /* the agent a supervisor took it from reads why it went */
                if (e->type == CC_EV_TAKEN_OVER && e->agent != v.owner && e->agent != v.guest)
                    to_agent(a, e->agent, json_incref(sys));
            }
            json_decref(sys);
        }
    }
    /* every agent touched learns the conversation as it now stands for it */
    for (size_t i = 0; i < t.n; i++) {
        cc_conv_view v;
        uint32_t agent = t.v[i].agent;
        if (agent >= a->cap || !a->by_agent[agent]) /* gone meanwhile */
            continue;
        if (cc_conv_get(c, t.v[i].conv, &v) == 0 && api__role_of(a, &v, agent))
            to_agent(a, agent,
                     json_pack("{s:s, s:o}", "type", "conversation", "conversation",
                               api__conv_json(a, &v, agent)));
        else
            to_agent(a, agent, json_pack("{s:s, s:i}", "type", "conversation_removed", "conv",
                                         (int)t.v[i].conv));
        to_agent(
            a, agent,
            json_pack("{s:s, s:o}", "type", "agent", "me", api__agent_json(a, agent)));
    }
    free(t.v);
    hmap_free(&t.seen);
}

void api_publish_delivery(api *a, uint32_t conv, uint32_t seq, int store_status, str error)
{
    api__metrics_delivery(a, store_status);
    cc_conv_view v;
    if (cc_conv_get(a->env.core, conv, &v) != 0)
        return;
    json_t *j = json_pack("{s:s, s:i, s:i, s:s, s:o}", "type", "delivery", "conv", (int)conv,
                          "seq", (int)seq, "status", status_name(store_status), "error",
                          api__jstr(error));
    to_agent(a, v.owner, json_incref(j));
    if (v.guest && v.conf_state == CC_CONF_ACTIVE)
        to_agent(a, v.guest, json_incref(j));
    json_decref(j);
}

int api__write_begin(api *a)
{
    if (a->env.write_begin)
        return a->env.write_begin(a->env.app);
    return store_begin(a->env.st) == 0 ? 0 : -CC_E_STORE;
}

int api__write_end(api *a, int r)
{
    if (a->env.write_end)
        return a->env.write_end(a->env.app, r);
    if (r == 0 && (r = store_commit(a->env.st)) == 0)
        return 0;
    store_rollback(a->env.st);
    return store_failed(r) ? -CC_E_STORE : r;
}

void api_set_sim(api *a, gw *sim)
{
    a->env.sim = sim;
}

int api__store_available(const api *a)
{
    return !a->env.store_available || a->env.store_available(a->env.app);
}

void api_set_core(api *a, cc *core)
{
    a->env.core = core;
}

void api_reconcile(api *a)
{
    size_t n = cc_list(a->env.core, CC_KIND_AGENT, NULL, 0);
    cc_item *v = xcalloc(n + 1, sizeof *v);
    n = cc_list(a->env.core, CC_KIND_AGENT, v, n);
    for (size_t i = 0; i < n; i++) {
        uint32_t agent = v[i].id;
        cc_agent_view av;
        if (cc_agent_get(a->env.core, agent, &av) != 0)
            continue;
        int open = agent < a->cap && a->by_agent[agent];
        if (open && av.state == CC_AGENT_LOGGED_OUT)
            a->env.apply(a->env.app, &(cc_cmd){.type = CC_CMD_LOGIN, .agent = agent});
        else if (open && !av.connected)
            a->env.apply(a->env.app, &(cc_cmd){.type = CC_CMD_RECONNECT, .agent = agent});
        else if (!open && av.state != CC_AGENT_LOGGED_OUT && av.connected)
            a->env.apply(a->env.app, &(cc_cmd){.type = CC_CMD_DISCONNECT, .agent = agent});
    }
    free(v);
    api__resync_all(a);
}
