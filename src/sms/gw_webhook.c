#include "sms/gw_webhook.h"

#include <errno.h>
#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sms/gw_conf.h"
#include "sms/gw_http.h"
#include "sms/gw_post.h"
#include "sms/sms_text.h"
#include "util/loop_clock.h"
#include "util/xalloc.h"

typedef struct gw_webhook {
    gw base;
    char *id, *url, *secret;
    gw_posts posts; /* outbound requests under way */
    gw_port port;   /* inbound: the application */
} gw_webhook;

void gw_webhook_sign(const char *secret, int64_t ts, str body, char out[72])
{
    /* the streaming API takes a key of any length (RFC 2104) */
    crypto_auth_hmacsha256_state st;
    unsigned char mac[crypto_auth_hmacsha256_BYTES];
    char tsb[24];
    int tn = snprintf(tsb, sizeof tsb, "%lld.", (long long)ts);
    crypto_auth_hmacsha256_init(&st, (const unsigned char *)secret, strlen(secret));
    crypto_auth_hmacsha256_update(&st, (const unsigned char *)tsb, (unsigned long long)tn);
    if (body.n)
        crypto_auth_hmacsha256_update(&st, (const unsigned char *)body.p, body.n);
    crypto_auth_hmacsha256_final(&st, mac);
    memcpy(out, "sha256=", 7);
    sodium_bin2hex(out + 7, 65, mac, sizeof mac);
    sodium_memzero(&st, sizeof st);
}

int gw_webhook_verify(const char *secret, str ts, str sig, str body, int64_t now_s)
{
    if (ts.n == 0 || ts.n > 18 || sig.n != 71)
        return -EINVAL;
    int64_t t = 0;
    for (size_t i = 0; i < ts.n; i++) {
        if (ts.p[i] < '0' || ts.p[i] > '9')
            return -EINVAL;
        t = t * 10 + (ts.p[i] - '0');
    }
    char want[72];
    gw_webhook_sign(secret, t, body, want);
    char got[72];
    memcpy(got, sig.p, 71);
    got[71] = '\0';
    for (int i = 0; i < 71; i++) /* hex may come in upper case */
        if (got[i] >= 'A' && got[i] <= 'F')
            got[i] = (char)(got[i] + 32);
    if (sodium_memcmp(want, got, 71) != 0)
        return -EACCES;
    if (t < now_s - GW_WEBHOOK_TOLERANCE_S || t > now_s + GW_WEBHOOK_TOLERANCE_S)
        return -ETIMEDOUT;
    return 0;
}

char *gw_webhook_body(const gw_out *m)
{
    sms_info info;
    if (sms_text_analyse(m->text.p, m->text.n, &info) != 0)
        return NULL;
    char ref[24];
    snprintf(ref, sizeof ref, "%lld", (long long)m->ref);
    json_t *j = json_pack("{s:s, s:s%, s:s%, s:s%, s:s, s:i}", "reference", ref, "from",
                          m->from.p ? m->from.p : "", m->from.n, "to", m->to.p ? m->to.p : "",
                          m->to.n, "text", m->text.p ? m->text.p : "", m->text.n, "encoding",
                          info.encoding == SMS_UCS2 ? "ucs2" : "gsm7", "segments",
                          (int)info.segments);
    if (!j)
        return NULL;
    char *s = json_dumps(j, JSON_COMPACT);
    json_decref(j);
    return s;
}

static int webhook_send(gw *base, const gw_out *m)
{
    gw_webhook *g = (gw_webhook *)base;
    char *body = gw_webhook_body(m);
    if (!body)
        return -EILSEQ;
    char sig[72], ts[24], ref[24];
    int64_t now = loop_clock_wall() / 1000;
    gw_webhook_sign(g->secret, now, str_c(body), sig);
    snprintf(ts, sizeof ts, "%lld", (long long)now);
    snprintf(ref, sizeof ref, "%lld", (long long)m->ref);
    const char *hdrs[] = {GW_WEBHOOK_TS_HEADER, ts, GW_WEBHOOK_SIG_HEADER, sig,
                          "Idempotency-Key", ref, NULL};
    int r = gw_posts_send(&g->posts, g->url, str_c(body), hdrs, m->ref);
    free(body);
    return r;
}

static void webhook_free(gw *base)
{
    gw_webhook *g = (gw_webhook *)base;
    gw_posts_cancel(&g->posts);
    free(g->id);
    free(g->url);
    free(g->secret);
    free(g);
}

static void webhook_http(gw *base, gw_call *c);
static const gw_ops webhook_ops = {"webhook", webhook_send, webhook_free, webhook_http};

gw *gw_webhook_new(const gw_webhook_cfg *cfg, net_loop *loop, gw_result_cb cb, void *arg)
{
    gw_webhook *g = xcalloc(1, sizeof *g);
    g->base.ops = &webhook_ops;
    g->base.result = cb;
    g->base.arg = arg;
    g->posts = (gw_posts){&g->base, loop, "webhook", "id", NULL};
    g->id = xmemdup0(cfg->id, strlen(cfg->id));
    g->url = xmemdup0(cfg->url, strlen(cfg->url));
    g->secret = xmemdup0(cfg->secret, strlen(cfg->secret));
    return &g->base;
}

/* ---- inbound: signed calls to /api/gw/webhook/<id>/{inbound,status} ---- */

static void in_done(void *arg, int in, const char *code, const char *msg)
{
    gw_call *c = arg;
    switch (in) {
    case GW_IN_UNAVAILABLE:
        gw_answer_err(c, 503, code, msg);
        break;
    case GW_IN_UNKNOWN:
        gw_answer_err(c, 404, "unknown_message",
                      "no outbound message with that reference or id: send the reference"
                      " textdesk gave, or the id you answered with");
        break;
    case GW_IN_REFUSED: /* kept among the refused: a retry would be refused again */
        gw_answer_json(c, 200, json_pack("{s:s, s:s}", "result", "refused", "error", code));
        break;
    default:
        gw_answer_json(c, 200, json_pack("{s:s}", "result",
                                      in == GW_IN_DUPLICATE ? "duplicate" : "ok"));
    }
}

static int get_fields(gw_call *c, const char *const *names, size_t n, gw_http_fields *f)
{
    char ct[128] = "";
    c->header(c, "Content-Type", ct, sizeof ct);
    if (gw_http_fields_parse(ct, c->body, names, n, f) == 0)
        return 0;
    gw_http_fields_free(f);
    gw_answer_err(c, 400, "bad_request",
                  "the body must be a JSON object or a form: send the fields in one"
                  " of those");
    return -1;
}

static int verify(gw_webhook *g, gw_call *c)
{
    char ts[32] = "", sig[128] = "";
    int tn = c->header(c, GW_WEBHOOK_TS_HEADER, ts, sizeof ts);
    int sn = c->header(c, GW_WEBHOOK_SIG_HEADER, sig, sizeof sig);
    int r = gw_webhook_verify(g->secret, (str){ts, tn > 0 ? (size_t)tn : 0},
                              (str){sig, sn > 0 ? (size_t)sn : 0}, c->body,
                              loop_clock_wall() / 1000);
    if (r == 0)
        return 0;
    gw_answer_err(c, 401, "bad_signature",
               r == -ETIMEDOUT ? "the signed timestamp is too old or in the future: sign with the"
                                 " current time (within 300 s)"
               : r == -EINVAL  ? "X-Textdesk-Timestamp and X-Textdesk-Signature are required:"
                                 " sign every request (docs/gateways/webhook.md)"
                               : "the signature does not match: sign with the gateway's secret"
                                 " (docs/gateways/webhook.md)");
    return -1;
}

static void webhook_inbound(gw_webhook *g, gw_call *c)
{
    static const char *const names[] = {"from", "to", "text", "id"};
    gw_http_fields f;
    if (get_fields(c, names, 4, &f) != 0)
        return;
    if (!f.v[0].n || !f.v[1].n || !f.v[2].p || !f.v[3].n) {
        gw_http_fields_free(&f);
        gw_answer_err(c, 400, "bad_request", "from, to, text and id are required: send all four");
        return;
    }
    gw_sms_in_keyed(&g->port, g->id, f.v[0], f.v[1], f.v[2], f.v[3], in_done, c);
    gw_http_fields_free(&f);
}

static void webhook_status(gw_webhook *g, gw_call *c)
{
    static const char *const names[] = {"reference", "id", "status", "error"};
    gw_http_fields f;
    if (get_fields(c, names, 4, &f) != 0)
        return;
    int st = gw_status_from_name(f.v[2]);
    if (st < 0 || (!f.v[0].n && !f.v[1].n)) {
        gw_http_fields_free(&f);
        gw_answer_err(c, 400, "bad_request",
                   "reference or id, and status (sent, delivered, failed) are required: send"
                   " them");
        return;
    }
    char err[300] = "";
    if (st == GW_FAILED)
        snprintf(err, sizeof err, "%.*s", (int)(f.v[3].n > 250 ? 250 : f.v[3].n),
                 f.v[3].n ? f.v[3].p : "failed");
    int64_t ref = 0;
    if (f.v[0].n && gw_http_ref_parse(f.v[0], &ref) != 0) {
        gw_http_fields_free(&f);
        in_done(c, GW_IN_UNKNOWN, NULL, NULL);
        return;
    }
    g->port.report_in(g->port.app, ref, f.v[1], st, str_c(err), in_done,
                      c);
    gw_http_fields_free(&f);
}

static void webhook_http(gw *base, gw_call *c)
{
    gw_webhook *g = (gw_webhook *)base;
    if (strcmp(c->method, "POST") != 0) {
        gw_answer_err(c, 405, "method_not_allowed", "use POST");
        return;
    }
    if (verify(g, c) != 0)
        return;
    if (strcmp(c->endpoint, "inbound") == 0)
        webhook_inbound(g, c);
    else if (strcmp(c->endpoint, "status") == 0)
        webhook_status(g, c);
    else
        gw_answer_err(c, 404, "not_found", "no such endpoint: use inbound or status");
}

/* ---- the type ------------------------------------------------------------ */

static int webhook_config(const json_t *o, const char *id, void **out, char *err, size_t n)
{
    static const char *const keys[] = {"id", "type", "url", "secret", NULL};
    gw_webhook_cfg h = {.id = id};
    if (gw_conf_only(o, keys, err, n) || gw_conf_url(o, "url", 0, &h.url, err, n) ||
        gw_conf_str(o, "secret", 1, &h.secret, err, n))
        return -1;
    if (strlen(h.secret) < 16)
        return gw_conf_fail(err, n, "secret", "must be at least 16 characters");
    gw_webhook_cfg *c = xmalloc(sizeof *c);
    *c = h;
    *out = c;
    return 0;
}

static gw *webhook_open(const void *cfg, net_loop *loop, const gw_port *port, gw_result_cb cb,
                        void *arg)
{
    gw_webhook *g = (gw_webhook *)gw_webhook_new(cfg, loop, cb, arg);
    g->port = *port;
    return &g->base;
}

const gw_type gw_webhook_type = {"webhook", webhook_config, free, webhook_open};
