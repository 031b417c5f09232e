#include "sms/gw_sim.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sms/gw_conf.h"
#include "sms/gw_http.h"
#include "util/loop_clock.h"
#include "util/xalloc.h"

typedef struct sim_msg {
    int64_t ref;
    char *from, *to, *text;
} sim_msg;

typedef struct gw_sim {
    gw base;
    gw_port port;
    sim_msg *v;
    size_t n, cap;
    uint64_t seq; /* inbound SMS without an id of their own */
} gw_sim;

static int sim_send(gw *g, const gw_out *m)
{
    gw_sim *s = (gw_sim *)g;
    if (s->n == s->cap) {
        s->cap = s->cap ? s->cap * 2 : 64;
        s->v = xrealloc(s->v, s->cap * sizeof *s->v);
    }
    s->v[s->n++] = (sim_msg){m->ref, xmemdup0(m->from.p, m->from.n),
                             xmemdup0(m->to.p, m->to.n), xmemdup0(m->text.p, m->text.n)};
    char id[32];
    int k = snprintf(id, sizeof id, "sim-out-%zu", s->n);
    g->result(g->arg, m->ref, GW_SENT, (str){id, (size_t)k}, STR_NULL);
    g->result(g->arg, m->ref, GW_DELIVERED, (str){id, (size_t)k}, STR_NULL);
    return 0;
}

static void sim_free(gw *g)
{
    gw_sim *s = (gw_sim *)g;
    for (size_t i = 0; i < s->n; i++) {
        free(s->v[i].from);
        free(s->v[i].to);
        free(s->v[i].text);
    }
    free(s->v);
    free(s);
}

/* ---- inbound: the simulated customers' SMS ------------------------------- */

static void in_done(void *arg, int in, const char *code, const char *msg)
{
    gw_call *c = arg;
    if (in == GW_IN_UNAVAILABLE) /* not kept: send it again */
        gw_answer_err(c, 503, code, msg);
    else if (in == GW_IN_REFUSED) /* kept among the refused */
        gw_answer_err(c, 422, code, msg);
    else
        gw_answer_json(c, 200, json_pack("{s:s}", "result",
                                         in == GW_IN_DUPLICATE ? "duplicate" : "ok"));
}

/* POST send {"from", "to", "text", "id" (optional)}: an SMS from a
 * simulated customer, answered once it is committed. */
static void sim_http(gw *g, gw_call *c)
{
    gw_sim *s = (gw_sim *)g;
    if (strcmp(c->endpoint, "send") != 0) {
        gw_answer_err(c, 404, "not_found",
                      "no such simulator call: use send, inbox or entry_points");
        return;
    }
    if (strcmp(c->method, "POST") != 0) {
        gw_answer_err(c, 405, "method_not_allowed", "use POST");
        return;
    }
    static const char *const names[] = {"from", "to", "text", "id"};
    char ct[128] = "";
    c->header(c, "Content-Type", ct, sizeof ct);
    gw_http_fields f;
    if (gw_http_fields_parse(ct, c->body, names, 4, &f) != 0 || !f.v[0].p || !f.v[1].p ||
        !f.v[2].p) {
        gw_http_fields_free(&f);
        gw_answer_err(c, 400, "bad_request",
                      "from, to and text are required strings: send all three");
        return;
    }
    char gen[64];
    str id = f.v[3];
    if (!id.p) {
        int k = snprintf(gen, sizeof gen, "sim-in-%lld-%llu", (long long)loop_clock_wall(),
                         (unsigned long long)++s->seq);
        id = (str){gen, (size_t)k};
    }
    s->port.sms_in(s->port.app, f.v[0], f.v[1], f.v[2], id, in_done, c);
    gw_http_fields_free(&f);
}

static const gw_ops sim_ops = {"sim", sim_send, sim_free, sim_http};

static gw *gw_sim_new(gw_result_cb cb, void *arg)
{
    gw_sim *s = xcalloc(1, sizeof *s);
    s->base.ops = &sim_ops;
    s->base.result = cb;
    s->base.arg = arg;
    return &s->base;
}

void gw_sim_inbox(gw *g, str number, size_t after, void (*fn)(void *, const gw_sim_msg *),
                  void *arg)
{
    gw_sim *s = (gw_sim *)g;
    size_t seen = 0;
    for (size_t i = 0; i < s->n; i++) {
        if (!str_eq(str_c(s->v[i].to), number))
            continue;
        if (seen++ < after)
            continue;
        gw_sim_msg m = {s->v[i].ref, (int64_t)seen, str_c(s->v[i].from), str_c(s->v[i].to),
                        str_c(s->v[i].text)};
        fn(arg, &m);
    }
}

size_t gw_sim_count(gw *g)
{
    return ((gw_sim *)g)->n;
}

/* ---- the type ------------------------------------------------------------ */

static int sim_config(const json_t *o, const char *id, void **out, char *err, size_t n)
{
    static const char *const keys[] = {"id", "type", NULL};
    (void)id;
    *out = NULL;
    return gw_conf_only(o, keys, err, n);
}

static void sim_config_free(void *cfg)
{
    (void)cfg;
}

static gw *sim_open(const void *cfg, net_loop *loop, const gw_port *port, gw_result_cb cb,
                    void *arg)
{
    (void)cfg;
    (void)loop;
    gw *g = gw_sim_new(cb, arg);
    ((gw_sim *)g)->port = *port; /* its inbound: /api/sim/send (sim_http) */
    return g;
}

const gw_type gw_sim_type = {"sim", sim_config, sim_config_free, sim_open};
