/*
 * api_gw.c: the gateways' inbound endpoints (api_gw.h, docs/api.md).
 *
 * Answers, chosen so that no gateway retries for ever and no SMS is lost:
 *   - accepted or a repeat of a provider id: 200, sent after the commit;
 *   - refused by the core (unknown entry point, bad text): the SMS is kept
 *     in the store's inbound_orphans by app_apply, and we answer 200 (a
 *     retry would be refused again) with result "refused" (webhook) or an
 *     empty body (Kannel: an empty body never becomes a reply SMS);
 *   - malformed requests (missing from/to/id): 400; a bad signature or
 *     token: 401/403, nothing stored;
 *   - the store takes no writes (degraded, app.h) or the commit failed:
 *     503 with error "store_unavailable", nothing kept; Kannel and webhook
 *     providers retry. Delivery reports are answered the same way: 200
 *     after the commit of their status, 503 when it cannot be kept.
 */
#include "api/api_gw.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api_late.h"
#include "util/buf.h"
#include "util/xalloc.h"

#define ARG_MAX 4096

static void resp_text(http_resp *resp, int status, const char *text)
{
    resp->status = status;
    resp->content_type = "text/plain; charset=utf-8";
    buf_add(&resp->body, text, strlen(text));
}

static void resp_json(http_resp *resp, int status, json_t *j)
{
    resp->status = status;
    resp->content_type = "application/json";
    char *s = json_dumps(j, JSON_COMPACT);
    if (s) {
        buf_add(&resp->body, s, strlen(s));
        free(s);
    }
    json_decref(j);
}

static void resp_err(http_resp *resp, int status, const char *code, const char *msg)
{
    resp_json(resp, status, json_pack("{s:s, s:s}", "error", code, "message", msg));
}

/* ---- acknowledging after the commit ------------------------------------ */

/* 503: nothing was kept, the gateway should retry. */
static void resp_unavailable(http_resp *resp, int json)
{
    api_late_unavailable(resp, json);
}

static const char *ctype_of(int json)
{
    return json ? "application/json" : "text/plain; charset=utf-8";
}

/* Answers 'body' (taken; NULL: empty) after the next commit, or at once
 * when 'now'. */
static void answer(const api_gw_env *env, const http_req *req, http_resp *resp, int json,
                   char *body, int now)
{
    api_late_respond(now ? NULL : env->after_commit, env->app, req, resp, ctype_of(json), body,
                     json);
}

/* Applies an inbound SMS and answers after its commit. */
static void inbound(const api_gw_env *env, const http_req *req, http_resp *resp, str gwid,
                    str from, str to, str text, str pid, int json)
{
    char id[300];
    snprintf(id, sizeof id, "%.*s:%.*s", (int)gwid.n, gwid.p, (int)(pid.n > 250 ? 250 : pid.n),
             pid.p);
    int r = env->apply(env->app, &(cc_cmd){.type = CC_CMD_SMS_IN, .number = from,
                                           .ep_number = to, .text = text, .msg_id = str_c(id)});
    if (r == -CC_E_STORE) {
        resp_unavailable(resp, json);
        return;
    }
    const char *result = r < 0 ? "refused" : r == CC_DUPLICATE ? "duplicate" : "ok";
    char *body = NULL;
    if (json) {
        json_t *j = r < 0 ? json_pack("{s:s, s:s}", "result", result, "error", cc_err_code(r))
                          : json_pack("{s:s}", "result", result);
        body = json_dumps(j, JSON_COMPACT);
        json_decref(j);
    }
    answer(env, req, resp, json, body, r < 0); /* a refused one is already stored */
}

/* ---- form decoding ----------------------------------------------------- */

static int hexval(char c)
{
    return c >= '0' && c <= '9'   ? c - '0'
           : c >= 'a' && c <= 'f' ? c - 'a' + 10
           : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                  : -1;
}

int api_gw_form_get(str form, const char *key, buf *out)
{
    if (!form.p) /* an empty body */
        return -ENOENT;
    size_t kl = strlen(key);
    const char *p = form.p, *end = form.p + form.n;
    while (p && p < end) {
        const char *amp = memchr(p, '&', (size_t)(end - p));
        const char *fend = amp ? amp : end;
        const char *eq = memchr(p, '=', (size_t)(fend - p));
        if (eq && (size_t)(eq - p) == kl && memcmp(p, key, kl) == 0) {
            for (const char *q = eq + 1; q < fend; q++) {
                char c = *q;
                if (c == '+') {
                    c = ' ';
                } else if (c == '%') {
                    int h = q + 2 < fend ? hexval(q[1]) : -1, l = h >= 0 ? hexval(q[2]) : -1;
                    if (h < 0 || l < 0)
                        return -EINVAL;
                    c = (char)(h * 16 + l);
                    q += 2;
                }
                buf_add(out, &c, 1);
            }
            return 0;
        }
        p = amp ? amp + 1 : end;
    }
    return -ENOENT;
}

void api_gw_content_charset(const char *ct, char *out, size_t cap)
{
    out[0] = '\0';
    const char *c = strcasestr(ct, "charset=");
    if (!c || cap == 0)
        return;
    c += 8;
    if (*c == '"')
        c++;
    size_t n = 0;
    while (c[n] && c[n] != '"' && c[n] != ';' && c[n] != ' ' && n + 1 < cap)
        n++;
    memcpy(out, c, n);
    out[n] = '\0';
}

int api_gw_ref_parse(str s, int64_t *ref)
{
    if (s.n == 0 || s.n > 19)
        return -EINVAL;
    uint64_t v = 0;
    for (size_t i = 0; i < s.n; i++) {
        if (s.p[i] < '0' || s.p[i] > '9')
            return -EINVAL;
        v = v * 10 + (uint64_t)(s.p[i] - '0');
    }
    if (v == 0 || v > INT64_MAX)
        return -EINVAL;
    *ref = (int64_t)v;
    return 0;
}

/* ---- Kannel ------------------------------------------------------------ */

static int token_ok(const gw_kannel_cfg *k, const http_req *req)
{
    if (!k->token)
        return 1;
    char t[160];
    int n = http_req_arg(req, "token", t, sizeof t);
    return n >= 0 && strcmp(t, k->token) == 0;
}

static void kannel_mo(const api_gw_env *env, const gw_kannel_cfg *k, const http_req *req,
                      http_resp *resp)
{
    char from[64], to[64], id[128], charset[64] = "", coding[8] = "";
    if (http_req_arg(req, "from", from, sizeof from) <= 0 ||
        http_req_arg(req, "to", to, sizeof to) <= 0 ||
        http_req_arg(req, "id", id, sizeof id) <= 0) {
        resp_text(resp, 400, "from, to and id (Kannel's %p, %P, %I) are required");
        return;
    }
    http_req_arg(req, "charset", charset, sizeof charset);
    http_req_arg(req, "coding", coding, sizeof coding);
    str raw;
    char *text = NULL;
    if (strcmp(req->method, "POST") == 0) { /* post-url: the body is the message */
        raw = req->body;
        char ct[128];
        if (!charset[0] && http_req_header(req, "Content-Type", ct, sizeof ct) > 0)
            api_gw_content_charset(ct, charset, sizeof charset);
        if (!coding[0])
            http_req_header(req, "X-Kannel-Coding", coding, sizeof coding);
    } else {
        text = xmalloc(ARG_MAX);
        int n = http_req_arg(req, "text", text, ARG_MAX);
        raw = (str){text, n > 0 ? (size_t)n : 0};
    }
    buf utf8;
    buf_init(&utf8);
    int r = gw_kannel_decode_text(raw, charset, (int)strtol(coding, NULL, 10), &utf8);
    /* undecodable text goes on as it came: the core refuses it and the
     * store keeps it among the refused inbound messages */
    str t = r == 0 ? (str){utf8.p ? utf8.p : "", utf8.n} : raw;
    inbound(env, req, resp, str_c(k->id), str_c(from), str_c(to), t, str_c(id), 0);
    buf_free(&utf8);
    free(text);
}

static void kannel_dlr(const api_gw_env *env, const gw_kannel_cfg *k, const http_req *req,
                       http_resp *resp)
{
    char ref[32], type[16], reply[512] = "";
    if (http_req_arg(req, "ref", ref, sizeof ref) <= 0 ||
        http_req_arg(req, "type", type, sizeof type) <= 0) {
        resp_text(resp, 400, "ref and type are required");
        return;
    }
    http_req_arg(req, "reply", reply, sizeof reply);
    int64_t r;
    int st = gw_kannel_dlr_status((int)strtol(type, NULL, 10));
    if (api_gw_ref_parse(str_c(ref), &r) != 0) {
        resp_text(resp, 400, "ref must be a reference");
        return;
    }
    /* one part of a message sent in parts: the gateway combines the parts'
     * reports into the message's status */
    char part_s[8] = "", parts_s[8] = "", where[32] = "";
    if (http_req_arg(req, "parts", parts_s, sizeof parts_s) > 0) {
        http_req_arg(req, "part", part_s, sizeof part_s);
        unsigned part = (unsigned)strtoul(part_s, NULL, 10);
        unsigned parts = (unsigned)strtoul(parts_s, NULL, 10);
        gw *g = env->kannel_gw ? env->kannel_gw(env->app, str_c(k->id)) : NULL;
        if (st >= 0)
            st = g ? gw_kannel_part_report(g, r, part, parts, st) : st == GW_FAILED ? st : -1;
        snprintf(where, sizeof where, " (part %u/%u)", part, parts);
    }
    if (st >= 0) {
        char err[600] = "";
        if (st == GW_FAILED)
            snprintf(err, sizeof err, "kannel: delivery report %s%s: %s", type, where,
                     reply[0] ? reply : "failed");
        int e = env->report(env->app, r, st, STR_NULL, str_c(err));
        if (e == -EAGAIN) {
            resp_unavailable(resp, 0);
            return;
        }
        if (e == -ENOENT) {
            resp_text(resp, 200, ""); /* not ours (any more): nothing to retry */
            return;
        }
        answer(env, req, resp, 0, NULL, 0);
        return;
    }
    resp_text(resp, 200, "");
}

/* ---- webhook ----------------------------------------------------------- */

int api_gw_fields_parse(const char *content_type, str body, const char *const *names, size_t n,
                        api_gw_fields *f)
{
    memset(f, 0, sizeof *f);
    if (n > API_GW_FIELDS_MAX)
        return -EINVAL;
    for (size_t i = 0; i < n; i++)
        buf_init(&f->keep[i]);
    if (strncasecmp(content_type, "application/x-www-form-urlencoded", 33) == 0) {
        for (size_t i = 0; i < n; i++)
            if (api_gw_form_get(body, names[i], &f->keep[i]) == 0)
                f->v[i] = (str){f->keep[i].p ? f->keep[i].p : "", f->keep[i].n};
        return 0;
    }
    f->j = json_loadb(body.p ? body.p : "", body.n, 0, NULL);
    if (!json_is_object(f->j))
        return -EINVAL;
    for (size_t i = 0; i < n; i++) {
        json_t *v = json_object_get(f->j, names[i]);
        if (json_is_string(v))
            f->v[i] = (str){json_string_value(v), json_string_length(v)};
        else if (json_is_integer(v)) { /* ids and references may come as numbers */
            buf_printf(&f->keep[i], "%lld", (long long)json_integer_value(v));
            f->v[i] = (str){f->keep[i].p, f->keep[i].n};
        }
    }
    return 0;
}

void api_gw_fields_free(api_gw_fields *f)
{
    json_decref(f->j);
    f->j = NULL;
    for (size_t i = 0; i < API_GW_FIELDS_MAX; i++)
        buf_free(&f->keep[i]);
}

static int get_fields(const http_req *req, const char *const *names, size_t n, api_gw_fields *f)
{
    char ct[128] = "";
    http_req_header(req, "Content-Type", ct, sizeof ct);
    return api_gw_fields_parse(ct, req->body, names, n, f);
}

static int verify(const api_gw_env *env, const gw_webhook_cfg *h, const http_req *req,
                  http_resp *resp)
{
    char ts[32] = "", sig[128] = "";
    int tn = http_req_header(req, GW_WEBHOOK_TS_HEADER, ts, sizeof ts);
    int sn = http_req_header(req, GW_WEBHOOK_SIG_HEADER, sig, sizeof sig);
    int r = gw_webhook_verify(h->secret, (str){ts, tn > 0 ? (size_t)tn : 0},
                              (str){sig, sn > 0 ? (size_t)sn : 0}, req->body,
                              env->now(env->app) / 1000);
    if (r == 0)
        return 0;
    resp_err(resp, 401, "bad_signature",
             r == -ETIMEDOUT ? "the signed timestamp is too old or in the future"
             : r == -EINVAL  ? "X-Textdesk-Timestamp and X-Textdesk-Signature are required"
                             : "the signature does not match");
    return -1;
}

static void webhook_inbound(const api_gw_env *env, const gw_webhook_cfg *h, const http_req *req,
                            http_resp *resp)
{
    static const char *const names[] = {"from", "to", "text", "id"};
    api_gw_fields f;
    if (get_fields(req, names, 4, &f) != 0) {
        api_gw_fields_free(&f);
        resp_err(resp, 400, "bad_request", "the body must be a JSON object or a form");
        return;
    }
    if (!f.v[0].n || !f.v[1].n || !f.v[2].p || !f.v[3].n) {
        api_gw_fields_free(&f);
        resp_err(resp, 400, "bad_request", "from, to, text and id are required");
        return;
    }
    inbound(env, req, resp, str_c(h->id), f.v[0], f.v[1], f.v[2], f.v[3], 1);
    api_gw_fields_free(&f);
}

static void webhook_status(const api_gw_env *env, const gw_webhook_cfg *h, const http_req *req,
                           http_resp *resp)
{
    static const char *const names[] = {"reference", "id", "status", "error"};
    api_gw_fields f;
    if (get_fields(req, names, 4, &f) != 0) {
        api_gw_fields_free(&f);
        resp_err(resp, 400, "bad_request", "the body must be a JSON object or a form");
        return;
    }
    str s = f.v[2];
    int st = str_eq(s, STR_LIT("delivered")) ? GW_DELIVERED
             : str_eq(s, STR_LIT("failed"))  ? GW_FAILED
             : str_eq(s, STR_LIT("sent"))    ? GW_SENT
                                             : -1;
    if (st < 0 || (!f.v[0].n && !f.v[1].n)) {
        api_gw_fields_free(&f);
        resp_err(resp, 400, "bad_request",
                 "reference or id, and status (sent, delivered, failed) are required");
        return;
    }
    char err[300] = "";
    if (st == GW_FAILED)
        snprintf(err, sizeof err, "%.*s", (int)(f.v[3].n > 250 ? 250 : f.v[3].n),
                 f.v[3].n ? f.v[3].p : "failed");
    int r;
    if (f.v[0].n) {
        int64_t v;
        r = api_gw_ref_parse(f.v[0], &v) != 0 ? -ENOENT
                                               : env->report(env->app, v, st, f.v[1], str_c(err));
    } else {
        r = env->report_by_provider_id(env->app, f.v[1], st, str_c(err));
    }
    api_gw_fields_free(&f);
    if (r == -ENOENT)
        resp_err(resp, 404, "unknown_message", "no outbound message with that reference or id");
    else if (r == -EAGAIN)
        resp_unavailable(resp, 1);
    else
        answer(env, req, resp, 1, xmemdup0("{\"result\":\"ok\"}", 15), 0);
}

/* ---- routing ----------------------------------------------------------- */

void api_gw_request(const api_gw_env *env, const http_req *req, http_resp *resp)
{
    /* /api/gw/<type>/<id>/<what> */
    const char *p = req->path + 8, *s1 = strchr(p, '/');
    const char *s2 = s1 ? strchr(s1 + 1, '/') : NULL;
    if (!s1 || !s2 || strchr(s2 + 1, '/')) {
        resp_err(resp, 404, "not_found", "expected /api/gw/<type>/<id>/<endpoint>");
        return;
    }
    str type = {p, (size_t)(s1 - p)}, id = {s1 + 1, (size_t)(s2 - s1 - 1)};
    const char *what = s2 + 1;
    if (str_eq(type, STR_LIT("kannel"))) {
        const gw_kannel_cfg *k = env->kannel(env->app, id);
        if (!k) {
            resp_text(resp, 404, "no such kannel gateway");
            return;
        }
        if (!token_ok(k, req)) {
            resp_text(resp, 403, "bad token");
            return;
        }
        if (strcmp(what, "mo") == 0)
            kannel_mo(env, k, req, resp);
        else if (strcmp(what, "dlr") == 0)
            kannel_dlr(env, k, req, resp);
        else
            resp_text(resp, 404, "no such endpoint (mo, dlr)");
        return;
    }
    if (str_eq(type, STR_LIT("webhook"))) {
        const gw_webhook_cfg *h = env->webhook(env->app, id);
        if (!h) {
            resp_err(resp, 404, "not_found", "no such webhook gateway");
            return;
        }
        if (strcmp(req->method, "POST") != 0) {
            resp_err(resp, 405, "method_not_allowed", "POST only");
            return;
        }
        if (verify(env, h, req, resp) != 0)
            return;
        if (strcmp(what, "inbound") == 0)
            webhook_inbound(env, h, req, resp);
        else if (strcmp(what, "status") == 0)
            webhook_status(env, h, req, resp);
        else
            resp_err(resp, 404, "not_found", "no such endpoint (inbound, status)");
        return;
    }
    resp_err(resp, 404, "not_found", "no such gateway type (kannel, webhook)");
}
