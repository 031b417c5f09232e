/*
 * gw_relay.c: the "relay" gateway type, a second HTTP dialect written only
 * against the gateway interface (gw.h: its type, the inbound port, the
 * inbound calls) and the helpers every HTTP type shares (gw_conf, gw_http,
 * gw_post for its sends). It proves the seam: this file
 * and one row in gw.c's table are the whole of it (docs/gateways/relay.md).
 *
 * A relay authenticates both ways with a bearer token (at least 16
 * characters) instead of a signature:
 *
 *   outbound  POST <url> {"ref", "sender", "recipient", "body"}, with
 *             "Authorization: Bearer <token>"; 2xx = accepted (its
 *             "message_id" kept as the provider's id), 429/5xx or no
 *             connection = retried, other 4xx = failed with its answer;
 *   inbound   POST /api/gw/relay/<id>/sms {"sender", "recipient", "body",
 *             "message_id"} -> 200 {"status": "accepted" | "duplicate" |
 *             "refused"} after the commit, 503 when it cannot be kept;
 *             POST /api/gw/relay/<id>/report {"ref" or "message_id",
 *             "state": "sent" | "delivered" | "failed", "reason"} -> 200
 *             {"status": "accepted"} after the commit, 404 for no message
 *             of ours.
 *
 * A bad or missing token is 401 and nothing is kept.
 */
#include <errno.h>
#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sms/gw.h"
#include "sms/gw_conf.h"
#include "sms/gw_http.h"
#include "sms/gw_post.h"
#include "util/xalloc.h"

typedef struct relay_cfg {
    const char *id, *url, *token;
} relay_cfg;

typedef struct gw_relay {
    gw base;
    char *id, *url, *auth; /* auth: "Bearer <token>" */
    gw_posts posts;
    gw_port port;
} gw_relay;

/* ---- outbound ------------------------------------------------------------ */

static int relay_send(gw *base, const gw_out *m)
{
    gw_relay *g = (gw_relay *)base;
    char ref[24];
    snprintf(ref, sizeof ref, "%lld", (long long)m->ref);
    json_t *j = json_pack("{s:s, s:s%, s:s%, s:s%}", "ref", ref, "sender",
                          m->from.p ? m->from.p : "", m->from.n, "recipient",
                          m->to.p ? m->to.p : "", m->to.n, "body", m->text.p ? m->text.p : "",
                          m->text.n);
    if (!j) /* jansson refuses text that is not UTF-8 */
        return -EILSEQ;
    char *body = json_dumps(j, JSON_COMPACT);
    json_decref(j);
    const char *hdrs[] = {"Authorization", g->auth, NULL};
    int r = gw_posts_send(&g->posts, g->url, str_c(body), hdrs, m->ref);
    free(body);
    return r;
}

static void relay_free(gw *base)
{
    gw_relay *g = (gw_relay *)base;
    gw_posts_cancel(&g->posts);
    free(g->id);
    free(g->url);
    free(g->auth);
    free(g);
}

/* ---- inbound ------------------------------------------------------------- */

static void in_done(void *arg, int in, const char *code, const char *msg)
{
    gw_call *c = arg;
    if (in == GW_IN_UNAVAILABLE)
        gw_answer_err(c, 503, code, msg);
    else if (in == GW_IN_UNKNOWN)
        gw_answer_err(c, 404, "unknown_message",
                      "no outbound message with that ref or message_id: send the ref textdesk"
                      " gave, or the message_id you answered with");
    else
        gw_answer_json(c, 200, json_pack("{s:s}", "status",
                                 in == GW_IN_DUPLICATE ? "duplicate"
                                 : in == GW_IN_REFUSED ? "refused"
                                                       : "accepted"));
}

static int fields(gw_call *c, const char *const *names, gw_http_fields *f)
{
    if (gw_http_fields_parse("application/json", c->body, names, 4, f) == 0)
        return 0;
    gw_http_fields_free(f);
    gw_answer_err(c, 400, "bad_request",
                  "the body must be a JSON object: send the fields inside {...}");
    return -1;
}

static void relay_sms(gw_relay *g, gw_call *c)
{
    static const char *const names[] = {"sender", "recipient", "body", "message_id"};
    gw_http_fields f;
    if (fields(c, names, &f) != 0)
        return;
    if (!f.v[0].n || !f.v[1].n || !f.v[2].p || !f.v[3].n) {
        gw_http_fields_free(&f);
        gw_answer_err(c, 400, "bad_request", "sender, recipient, body and message_id are required:"
                      " send all four as strings");
        return;
    }
    gw_sms_in_keyed(&g->port, g->id, f.v[0], f.v[1], f.v[2], f.v[3], in_done, c);
    gw_http_fields_free(&f);
}

static void relay_report(gw_relay *g, gw_call *c)
{
    static const char *const names[] = {"ref", "message_id", "state", "reason"};
    gw_http_fields f;
    if (fields(c, names, &f) != 0)
        return;
    int st = gw_status_from_name(f.v[2]);
    int64_t ref = 0;
    if (st < 0 || (!f.v[0].n && !f.v[1].n) || (f.v[0].n && gw_http_ref_parse(f.v[0], &ref))) {
        gw_http_fields_free(&f);
        gw_answer_err(c, 400, "bad_request",
                   "ref (ours) or message_id, and state (sent, delivered, failed) are required:"
                   " send them");
        return;
    }
    char err[300] = "";
    if (st == GW_FAILED)
        snprintf(err, sizeof err, "relay: %.*s", (int)(f.v[3].n > 250 ? 250 : f.v[3].n),
                 f.v[3].n ? f.v[3].p : "failed");
    g->port.report_in(g->port.app, ref, f.v[1], st, str_c(err), in_done, c);
    gw_http_fields_free(&f);
}

static void relay_http(gw *base, gw_call *c)
{
    gw_relay *g = (gw_relay *)base;
    char auth[300];
    int n = c->header(c, "Authorization", auth, sizeof auth);
    if (n < 0 || (size_t)n != strlen(g->auth) || sodium_memcmp(auth, g->auth, (size_t)n) != 0) {
        gw_answer_err(c, 401, "bad_token", "Authorization: Bearer <the relay's token> is required:"
                      " send the gateway's \"token\" of textdesk's configuration");
        return;
    }
    if (strcmp(c->method, "POST") != 0)
        gw_answer_err(c, 405, "method_not_allowed", "use POST");
    else if (strcmp(c->endpoint, "sms") == 0)
        relay_sms(g, c);
    else if (strcmp(c->endpoint, "report") == 0)
        relay_report(g, c);
    else
        gw_answer_err(c, 404, "not_found", "no such endpoint: use sms or report");
}

static const gw_ops relay_ops = {"relay", relay_send, relay_free, relay_http};

/* ---- the type ------------------------------------------------------------ */

static int relay_config(const json_t *o, const char *id, void **out, char *err, size_t n)
{
    static const char *const keys[] = {"id", "type", "url", "token", NULL};
    relay_cfg r = {.id = id};
    if (gw_conf_only(o, keys, err, n) || gw_conf_url(o, "url", 0, &r.url, err, n) ||
        gw_conf_str(o, "token", 1, &r.token, err, n))
        return -1;
    if (strlen(r.token) < 16 || strlen(r.token) > 200 || !gw_conf_id_ok(r.token, 200))
        return gw_conf_fail(err, n, "token", "must be 16..200 of A-Z a-z 0-9 - _");
    relay_cfg *c = xmalloc(sizeof *c);
    *c = r;
    *out = c;
    return 0;
}

static gw *relay_open(const void *cfg, net_loop *loop, const gw_port *port, gw_result_cb cb,
                      void *arg)
{
    const relay_cfg *r = cfg;
    gw_relay *g = xcalloc(1, sizeof *g);
    g->base.ops = &relay_ops;
    g->base.result = cb;
    g->base.arg = arg;
    g->posts = (gw_posts){&g->base, loop, "relay", "message_id", NULL};
    g->port = *port;
    g->id = xmemdup0(r->id, strlen(r->id));
    g->url = xmemdup0(r->url, strlen(r->url));
    size_t an = strlen(r->token) + 8;
    g->auth = xmalloc(an);
    snprintf(g->auth, an, "Bearer %s", r->token);
    return &g->base;
}

const gw_type gw_relay_type = {"relay", relay_config, free, relay_open};
