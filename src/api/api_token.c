/*
 * api_token.c: API tokens and the audit trail (docs/security.md).
 *
 * A token is "tdt_" and 43 characters of base64url (32 random bytes from
 * libsodium); only its hash (BLAKE2b, as for sessions) is stored, so the
 * secret is shown once, when it is created. A request with
 * "Authorization: Bearer TOKEN" is the token's role everywhere a session
 * would be (api__session_of asks here first): the same checks, nothing
 * more. Only an agent-role token carries an agent, so only it can open the
 * agent WebSocket (api_ws_open wants an agent).
 *
 * The audit trail records logins (rest_login), and every change made
 * through administration, supervision or reports settings, and every
 * write made with a token (api__audit_before/_after around the REST
 * dispatch): who, via what, from which address, what and the answer's
 * status. The product has no way to change an entry; the store's
 * triggers refuse it even to SQL (store.h).
 */
#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api_int.h"
#include "api/api_parse.h"
#include "util/log.h"
#include "util/utf8.h"

#define TOKEN_PREFIX "tdt_"
#define TOKEN_NAME_MAX 64
#define AUDIT_PAGE_MAX 1000
#define AUDIT_CSV_MAX 100000

static const char *const role_names[] = {"agent", "supervisor", "admin"};

static int role_of_name(const char *s)
{
    for (int i = 0; i < 3; i++)
        if (strcmp(s, role_names[i]) == 0)
            return i;
    return -1;
}

/* ---- bearer tokens ------------------------------------------------------ */

static int bearer_lookup(api *a, const http_req *req, store_account *acc, const char **code,
                         char *msg, size_t n);

int api__bearer_of(api *a, const http_req *req, store_account *acc, const char **code,
                   char *msg, size_t n)
{
    if (!req->impl) /* no HTTP request behind it (tests) */
        return 0;
    /* a gateway's endpoints check their own credentials (the relay's
     * Authorization: Bearer among them: docs/gateways/) */
    if (strncmp(req->path, "/api/gw/", 8) == 0)
        return 0;
    if (req != a->tok_req) /* outside api_http_request (the WebSocket's open) */
        return bearer_lookup(a, req, acc, code, msg, n);
    if (!a->tok_valid) {
        a->tok_code = NULL;
        a->tok_b = bearer_lookup(a, req, &a->tok_acc, &a->tok_code, a->tok_msg,
                                 sizeof a->tok_msg);
        a->tok_valid = 1;
    }
    if (a->tok_b > 0)
        *acc = a->tok_acc;
    if (a->tok_b < 0) {
        if (code)
            *code = a->tok_code;
        snprintf(msg, n, "%s", a->tok_msg);
    }
    return a->tok_b;
}

static int bearer_lookup(api *a, const http_req *req, store_account *acc, const char **code,
                         char *msg, size_t n)
{
    char h[1024];
    int len = http_req_header(req, "Authorization", h, sizeof h);
    const char *c = "bad_token";
    if (len < 0) /* absent (or beyond any header lws keeps) */
        return 0;
    const char *tok = h + 7;
    if (len < 8 || strncasecmp(h, "Bearer ", 7) != 0 || strncmp(tok, TOKEN_PREFIX, 4) != 0 ||
        strlen(tok) > 80) {
        snprintf(msg, n, "the Authorization header must be \"Bearer tdt_...\", a token an"
                         " administrator created");
        goto bad;
    }
    char hash[65];
    api__token_hash(str_c(tok), hash);
    store_token t;
    a->tok_lookups++;
    int r = store_token_get(a->env.st, str_c(hash), &t);
    if (r == -ENOENT) {
        snprintf(msg, n, "unknown API token: ask an administrator for a valid one");
        goto bad;
    }
    if (r != 0) {
        c = "store_unavailable";
        snprintf(msg, n, "tokens cannot be checked right now: try again");
        goto bad;
    }
    int64_t now = a->env.now(a->env.app);
    if (t.revoked_at) {
        c = "token_revoked";
        snprintf(msg, n, "API token \"%.*s\" was revoked: ask an administrator for a new one",
                 (int)(t.name.n > 64 ? 64 : t.name.n), t.name.p);
        goto bad;
    }
    if (t.expires_at && t.expires_at <= now) {
        c = "token_expired";
        snprintf(msg, n, "API token \"%.*s\" expired: ask an administrator for a new one",
                 (int)(t.name.n > 64 ? 64 : t.name.n), t.name.p);
        goto bad;
    }
    snprintf(a->tok_user, sizeof a->tok_user, "token:%.*s", (int)t.name.n, t.name.p);
    *acc = (store_account){
        .id = 0, /* no account: the token itself */
        .username = str_c(a->tok_user),
        .agent = t.role == STORE_ROLE_AGENT ? t.agent : 0,
        .role = t.role,
    };
    return 1;
bad:
    if (code)
        *code = c;
    return -1;
}

/* ---- /api/admin/tokens -------------------------------------------------- */

static json_t *token_json(const store_token *t, int64_t now)
{
    const char *state = t->revoked_at                              ? "revoked"
                        : t->expires_at && t->expires_at <= now ? "expired"
                                                                   : "active";
    json_t *j = json_pack("{s:I, s:o, s:s, s:o, s:I, s:s}", "id", (json_int_t)t->id, "name",
                          api__jstr(t->name), "role", role_names[t->role], "created_by",
                          api__jstr(t->created_by), "created_at", (json_int_t)t->created_at,
                          "state", state);
    json_object_set_new(j, "agent", t->agent ? json_integer(t->agent) : json_null());
    json_object_set_new(j, "expires_at",
                        t->expires_at ? json_integer(t->expires_at) : json_null());
    json_object_set_new(j, "revoked_at",
                        t->revoked_at ? json_integer(t->revoked_at) : json_null());
    return j;
}

typedef struct tok_list {
    json_t *arr;
    int64_t now;
} tok_list;

static int list_cb(void *arg, const store_token *t)
{
    tok_list *l = arg;
    json_array_append_new(l->arr, token_json(t, l->now));
    return 0;
}

/* A printable name of 1..TOKEN_NAME_MAX bytes (UTF-8 allowed), no
 * control characters. */
static int name_ok(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > TOKEN_NAME_MAX)
        return 0;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
            return 0;
    return 1;
}

static void token_create(api *a, const http_req *req, http_resp *resp)
{
    json_t *j = api__parse_body(req, resp);
    if (!j)
        return;
    const char *name = NULL, *role = NULL;
    json_int_t agent = 0, expires_at = 0, days = -1; /* -1: not given */
    json_error_t e;
    if (json_unpack_ex(j, &e, JSON_STRICT, "{s:s, s:s, s?I, s?I, s?I}", "name", &name, "role",
                       &role, "agent", &agent, "expires_at", &expires_at, "expires_in_days",
                       &days) != 0) {
        static const api_field fields[] = {{"name", 's', 0},       {"role", 's', 0},
                                           {"agent", 'I', 1},      {"expires_at", 'I', 1},
                                           {"expires_in_days", 'I', 1}, {NULL, 0, 0}};
        char why[96], m[400];
        api_parse_fields_problem(j, fields, why, sizeof why);
        snprintf(m, sizeof m,
                 "%s: a token needs \"name\" and \"role\" (strings), and may have \"agent\","
                 " \"expires_at\" (ms since 1970) or \"expires_in_days\" (integers)",
                 why);
        json_decref(j);
        api__resp_error(resp, 400, "bad_request", m);
        return;
    }
    int64_t now = a->env.now(a->env.app);
    int r = role_of_name(role);
    const char *code = NULL, *msg = NULL;
    cc_agent_view v;
    if (!name_ok(name)) {
        code = "bad_name";
        msg = "name: 1 to 64 characters, no control characters";
    } else if (r < 0) {
        code = "bad_role";
        msg = "role: agent, supervisor or admin";
    } else if (r == STORE_ROLE_AGENT &&
               (agent <= 0 || agent > UINT32_MAX ||
                cc_agent_get(a->env.core, (uint32_t)agent, &v) != 0)) {
        code = "bad_agent";
        msg = "agent: an agent token acts as an existing agent: give its id";
    } else if (r != STORE_ROLE_AGENT && agent != 0) {
        code = "bad_agent";
        msg = "agent: only an agent token has an agent";
    } else if (expires_at && days != -1) {
        code = "bad_expiry";
        msg = "give expires_at or expires_in_days, not both";
    } else if (days == 0 || days < -1 || days > 3650 || (expires_at && expires_at <= now)) {
        code = "bad_expiry";
        msg = "expires_at must be in the future; expires_in_days 1 to 3650";
    }
    if (code) {
        json_decref(j);
        api__resp_error(resp, 400, code, msg);
        return;
    }
    if (days > 0)
        expires_at = now + days * 86400000LL;
    unsigned char raw[32];
    char tok[4 + 64], hash[65];
    randombytes_buf(raw, sizeof raw);
    memcpy(tok, TOKEN_PREFIX, 4);
    sodium_bin2base64(tok + 4, sizeof tok - 4, raw, sizeof raw,
                      sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    api__token_hash(str_c(tok), hash);
    store_account me;
    str by = api__session_of(a, req, &me) == 0 ? me.username : STR_NULL;
    char byc[96];
    snprintf(byc, sizeof byc, "%.*s", (int)by.n, by.p ? by.p : "");
    int64_t id = 0;
    int w = api__write_begin(a);
    if (w == 0)
        w = api__write_end(a, store_token_put(a->env.st, str_c(name), str_c(hash), r,
                                               (uint32_t)agent, str_c(byc), now, expires_at,
                                               &id));
    if (w == -EEXIST) {
        json_decref(j);
        api__resp_error(resp, 409, "name_taken", "a token of that name exists: choose another");
        return;
    }
    if (w != 0) {
        json_decref(j);
        api__resp_error(resp, 503, "store_unavailable",
                        "tokens cannot be stored right now: try again in a moment");
        return;
    }
    store_token t = {.id = id, .name = str_c(name), .created_by = str_c(byc), .role = r,
                     .agent = (uint32_t)agent, .created_at = now, .expires_at = expires_at};
    json_t *out = token_json(&t, now);
    json_object_set_new(out, "token", json_string(tok)); /* the only time it is shown */
    json_decref(j);
    sodium_memzero(raw, sizeof raw);
    api__resp_json(resp, 201, out);
}

void api__tokens(api *a, const http_req *req, http_resp *resp, const char *rest)
{
    if (api__require_role(a, req, resp, 0) != 0)
        return;
    const char *m = req->method;
    if (*rest == '\0' && strcmp(m, "GET") == 0) {
        tok_list l = {json_array(), a->env.now(a->env.app)};
        if (store_tokens_all(a->env.st, list_cb, &l) != 0) {
            json_decref(l.arr);
            api__resp_error(resp, 503, "store_unavailable",
                            "tokens cannot be read right now: try again in a moment");
            return;
        }
        api__resp_json(resp, 200, json_pack("{s:o}", "tokens", l.arr));
        return;
    }
    if (*rest == '\0' && strcmp(m, "POST") == 0) {
        token_create(a, req, resp);
        return;
    }
    if (*rest == '/' && strcmp(m, "DELETE") == 0) {
        char *end;
        long long id = strtoll(rest + 1, &end, 10);
        if (*end || id <= 0) {
            api__resp_error(resp, 404, "no_such_token", "no API token with that id: GET /api/admin/tokens lists them");
            return;
        }
        int w = api__write_begin(a);
        if (w == 0)
            w = api__write_end(a, store_token_revoke(a->env.st, id, a->env.now(a->env.app)));
        if (w == -ENOENT)
            api__resp_error(resp, 404, "no_such_token", "no API token with that id: GET /api/admin/tokens lists them");
        else if (w == -EALREADY)
            api__resp_error(resp, 409, "already_revoked", "that token was revoked before");
        else if (w != 0)
            api__resp_error(resp, 503, "store_unavailable",
                            "the token cannot be revoked now: try again in a moment");
        else
            api__resp_json(resp, 200, json_pack("{s:I, s:s}", "id", (json_int_t)id, "state",
                                                "revoked"));
        return;
    }
    api__resp_error(resp, 405, "method_not_allowed",
                    "use GET or POST /api/admin/tokens, or DELETE /api/admin/tokens/ID");
}

/* ---- the audit trail ---------------------------------------------------- */

void api__audit(api *a, const http_req *req, str actor, const char *via, const char *action,
                str target, const char *detail)
{
    /* at most 96 bytes of the name given, cut on a character boundary */
    char who[100];
    snprintf(who, sizeof who, "%.*s", (int)(actor.n > 96 ? 96 : actor.n), actor.p ? actor.p : "");
    utf8_trim(who);
    store_audit e = {
        .at = a->env.now(a->env.app),
        .actor = str_c(who[0] ? who : "?"),
        .via = str_c(via),
        .peer = req->peer,
        .action = str_c(action),
        .target = target,
        .detail = str_c(detail),
    };
    int r = api__write_begin(a);
    if (r == 0)
        r = api__write_end(a, store_audit_add(a->env.st, &e));
    if (r != 0)
        log_kv(LOG_WARN, "audit entry not stored", "action", action, "error",
               store_errmsg(a->env.st), NULL);
}

void api__audit_before(api *a, const http_req *req, api_audit_ctx *x)
{
    memset(x, 0, sizeof *x);
    const char *p = req->path;
    /* a transcript a supervisor opens is a view of customer data */
    int view = strncmp(p, "/api/supervisor/conversations/", 30) == 0;
    if (!view && (strcmp(req->method, "GET") == 0 || strcmp(req->method, "HEAD") == 0))
        return;
    int admin = strncmp(p, "/api/admin/", 11) == 0 || strncmp(p, "/api/supervisor/", 16) == 0 ||
                strncmp(p, "/api/reports/", 13) == 0;
    char msg[8];
    store_account acc;
    int b = api__bearer_of(a, req, &acc, NULL, msg, sizeof msg);
    if (b < 0 || (!admin && b == 0))
        return; /* no one to name (a bad token is answered 401 before) */
    if (b == 0 && api__session_of(a, req, &acc) != 0)
        return;
    x->record = 1;
    snprintf(x->actor, sizeof x->actor, "%.*s", (int)acc.username.n, acc.username.p);
    snprintf(x->via, sizeof x->via, "%s", b > 0 ? "token" : "session");
}

void api__audit_after(api *a, const http_req *req, const http_resp *resp,
                      const api_audit_ctx *x)
{
    if (!x->record)
        return;
    char action[160], status[16];
    snprintf(action, sizeof action, "%s %.140s", req->method, req->path);
    for (char *c = action; *c; c++) /* the path is the client's bytes: ASCII only */
        if ((unsigned char)*c < 0x20 || (unsigned char)*c > 0x7e)
            *c = '?';
    snprintf(status, sizeof status, "%d", resp->status ? resp->status : 200);
    api__audit(a, req, str_c(x->actor), x->via, action, STR_NULL, status);
}

/* A CSV field a spreadsheet must not take for a formula (OWASP: a
 * leading = + - @ gets a quote); the actor of a failed login is whatever
 * the client sent. */
static void csv_text(buf *b, str s, int last)
{
    if (s.n && strchr("=+-@\t\r", s.p[0])) {
        buf t;
        buf_init(&t);
        buf_add(&t, "'", 1);
        buf_add(&t, s.p, s.n);
        api__csv_field(b, (str){t.p, t.n}, last);
        buf_free(&t);
        return;
    }
    api__csv_field(b, s, last);
}

typedef struct audit_out {
    json_t *arr;
    buf *csv;
    int64_t last;
} audit_out;

static int audit_cb(void *arg, const store_audit *e)
{
    audit_out *o = arg;
    o->last = e->id;
    if (o->csv) {
        char id[24];
        snprintf(id, sizeof id, "%lld", (long long)e->id);
        api__csv_field(o->csv, str_c(id), 0);
        api__csv_time(o->csv, e->at);
        csv_text(o->csv, e->actor, 0);
        csv_text(o->csv, e->via, 0);
        csv_text(o->csv, e->peer, 0);
        csv_text(o->csv, e->action, 0);
        csv_text(o->csv, e->target, 0);
        csv_text(o->csv, e->detail, 1);
        return 0;
    }
    json_array_append_new(o->arr,
                          json_pack("{s:I, s:I, s:o, s:o, s:o, s:o, s:o, s:o}", "id",
                                    (json_int_t)e->id, "at", (json_int_t)e->at, "actor",
                                    api__jstr(e->actor), "via", api__jstr(e->via), "peer",
                                    api__jstr(e->peer), "action", api__jstr(e->action),
                                    "target", api__jstr(e->target), "detail",
                                    api__jstr(e->detail)));
    return 0;
}

/* A query argument of digits only: 0 when absent, -1 when bad. */
static int64_t arg_num(const http_req *req, const char *name, int *bad)
{
    char v[24];
    int n = http_req_arg(req, name, v, sizeof v);
    if (n <= 0)
        return 0;
    for (int i = 0; i < n; i++)
        if (v[i] < '0' || v[i] > '9')
            *bad = 1;
    return *bad ? 0 : strtoll(v, NULL, 10);
}

void api__audit_get(api *a, const http_req *req, http_resp *resp, int csv)
{
    if (api__require_role(a, req, resp, 0) != 0)
        return;
    if (strcmp(req->method, "GET") != 0) {
        api__resp_error(resp, 405, "method_not_allowed",
                        "the audit trail is read only: GET /api/admin/audit");
        return;
    }
    int bad = 0;
    char actor[96] = "", action[96] = "";
    store_audit_filter f = {
        .from = arg_num(req, "from", &bad),
        .to = arg_num(req, "to", &bad),
        .before_id = arg_num(req, "before", &bad),
    };
    int64_t limit = arg_num(req, "limit", &bad);
    char lv[24];
    if (limit == 0 && http_req_arg(req, "limit", lv, sizeof lv) > 0)
        bad = 1; /* limit=0: 1 to the maximum (absent: the default) */
    if (bad || (f.to && f.to <= f.from) || limit > (csv ? AUDIT_CSV_MAX : AUDIT_PAGE_MAX)) {
        char m[200];
        snprintf(m, sizeof m,
                 "from, to, before and limit: give whole numbers (from and to in ms since"
                 " 1970, from before to; before an entry id; limit 1 to %d)",
                 csv ? AUDIT_CSV_MAX : AUDIT_PAGE_MAX);
        api__resp_error(resp, 400, "bad_filter", m);
        return;
    }
    if (http_req_arg(req, "actor", actor, sizeof actor) > 0)
        f.actor = str_c(actor);
    if (http_req_arg(req, "action", action, sizeof action) > 0)
        f.action = str_c(action);
    f.max = limit ? (size_t)limit : csv ? AUDIT_CSV_MAX : 100;
    audit_out o = {.arr = csv ? NULL : json_array(), .csv = csv ? &resp->body : NULL};
    if (csv)
        buf_printf(&resp->body, "id,time,actor,via,peer,action,target,detail\r\n");
    if (store_audit_list(a->env.st, &f, audit_cb, &o) != 0) {
        json_decref(o.arr);
        resp->body.n = 0;
        api__resp_error(resp, 503, "store_unavailable",
                        "the audit trail cannot be read now: try again in a moment");
        return;
    }
    if (csv) {
        resp->status = 200;
        resp->content_type = "text/csv; charset=utf-8";
        return;
    }
    size_t n = json_array_size(o.arr);
    json_t *j = json_pack("{s:o}", "entries", o.arr);
    /* the next page: entries older than the last one shown */
    json_object_set_new(j, "next_before",
                        n && n == f.max ? json_integer(o.last) : json_null());
    api__resp_json(resp, 200, j);
}
