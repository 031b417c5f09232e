/*
 * app_outbox.c: the configured gateways and the outbox that feeds them.
 *
 * Every outbound message is a row in the store: QUEUED -> SUBMITTING
 * (committed before the send: a crash during it leaves it UNKNOWN, never
 * resent blindly) -> SENT -> DELIVERED or FAILED. The pump hands each
 * conversation's oldest QUEUED message to the gateway of its entry point,
 * and nothing more of that conversation until the gateway answered, so
 * replies go out in order. A gateway that is down or refuses for now
 * (GW_RETRY) gets the message again after an exponential backoff
 * (app_outbox_conf), which also holds back the rest of that conversation;
 * after max_attempts the message is FAILED with the gateway's last error,
 * shown on the agent's bubble. Attempt counts live in memory: a restart
 * starts them over.
 *
 * Delivery reports come from the gateways (through the result callback) or
 * from the inbound endpoints (api_gw.c, through 'report'); both find the
 * message by our reference, also one left UNKNOWN by a crash.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "api/api_gw.h"
#include "app/gateways.h"
#include "sms/gw_sim.h"
#include "util/log.h"
#include "util/xalloc.h"

#define OUTBOX_SCAN 1024

typedef struct retry_ent {
    int64_t ref, next_at;
    int attempts;
} retry_ent;

typedef struct submit_ent {
    int64_t ref;
    uint32_t conv;
} submit_ent;

typedef struct app_gateways {
    size_t n;
    app_gw_conf conf[APP_GW_MAX];
    gw *g[APP_GW_MAX];
    app_outbox_conf ob;
    api_gw_env env;
    retry_ent *retry; /* messages waiting for another attempt */
    size_t nretry, capretry;
    submit_ent *sub; /* handed to a gateway, no answer yet */
    size_t nsub, capsub;
    int busy, again;
} app_gateways;


/* ---- small tables ------------------------------------------------------ */

static retry_ent *retry_find(app_gateways *gs, int64_t ref)
{
    for (size_t i = 0; i < gs->nretry; i++)
        if (gs->retry[i].ref == ref)
            return &gs->retry[i];
    return NULL;
}

static void retry_del(app_gateways *gs, int64_t ref)
{
    retry_ent *r = retry_find(gs, ref);
    if (r)
        *r = gs->retry[--gs->nretry];
}

static retry_ent *retry_get(app_gateways *gs, int64_t ref)
{
    retry_ent *r = retry_find(gs, ref);
    if (r)
        return r;
    if (gs->nretry == gs->capretry) {
        gs->capretry = gs->capretry ? gs->capretry * 2 : 16;
        gs->retry = xrealloc(gs->retry, gs->capretry * sizeof *gs->retry);
    }
    r = &gs->retry[gs->nretry++];
    *r = (retry_ent){ref, 0, 0};
    return r;
}

static int sub_find(app_gateways *gs, int64_t ref)
{
    for (size_t i = 0; i < gs->nsub; i++)
        if (gs->sub[i].ref == ref)
            return (int)i;
    return -1;
}

static int conv_busy(app_gateways *gs, uint32_t conv)
{
    for (size_t i = 0; i < gs->nsub; i++)
        if (gs->sub[i].conv == conv)
            return 1;
    return 0;
}

/* ---- results ----------------------------------------------------------- */

typedef struct msg_copy {
    int found, status;
    uint32_t conv, seq;
} msg_copy;

static int copy_msg(void *arg, const store_msg *m)
{
    msg_copy *c = arg;
    *c = (msg_copy){1, m->status, m->conv, m->seq};
    return 0;
}

static int64_t backoff(const app_outbox_conf *ob, int attempts)
{
    int64_t d = ob->backoff_ms;
    for (int i = 1; i < attempts && d < ob->backoff_max_ms; i++)
        d *= 2;
    return d < ob->backoff_max_ms ? d : ob->backoff_max_ms;
}

/* Records what a gateway (or a delivery report) says about message 'ref'.
 * Returns 0, or -ENOENT when there is no such outbound message. */
static int record(app *a, int64_t ref, int status, str provider_id, str error)
{
    app_gateways *gs = a->gws;
    msg_copy m = {0};
    int r = store_msg_get(a->st, ref, copy_msg, &m);
    if (r == -ENOENT || (r == 0 && (!m.found || m.status == STORE_MSG_RECEIVED)))
        return -ENOENT;
    if (r != 0)
        app__fatal_store(a, "reading a message");
    int was_submitting = 0, k = sub_find(gs, ref);
    if (k >= 0) {
        /* the send's answer (or a report overtaking it) frees the
         * conversation for its next message */
        gs->sub[k] = gs->sub[--gs->nsub];
        was_submitting = 1;
        gs->again = 1;
        http_timer_set(a->outbox_timer, 0);
    }
    int final = m.status == STORE_MSG_DELIVERED || m.status == STORE_MSG_FAILED;
    int st;
    char why[320];
    switch (status) {
    case GW_SENT:
        if (final || m.status == STORE_MSG_SENT) /* a report came first */
            return 0;
        st = STORE_MSG_SENT;
        retry_del(gs, ref);
        break;
    case GW_DELIVERED:
        st = STORE_MSG_DELIVERED;
        retry_del(gs, ref);
        break;
    case GW_FAILED:
        st = STORE_MSG_FAILED;
        retry_del(gs, ref);
        break;
    case GW_UNKNOWN:
        if (final)
            return 0;
        st = STORE_MSG_UNKNOWN;
        retry_del(gs, ref);
        break;
    default: { /* GW_RETRY: only for a send of ours */
        if (!was_submitting)
            return 0;
        retry_ent *e = retry_get(gs, ref);
        e->attempts++;
        if (e->attempts >= gs->ob.max_attempts) {
            snprintf(why, sizeof why, "%.*s (gave up after %d attempts)", (int)error.n,
                     error.p ? error.p : "", e->attempts);
            error = str_c(why);
            st = STORE_MSG_FAILED;
            retry_del(gs, ref);
        } else {
            st = STORE_MSG_QUEUED;
            e->next_at = app_now(a) + backoff(&gs->ob, e->attempts);
        }
        break;
    }
    }
    if (store_begin(a->st) != 0 || store_msg_set_status(a->st, ref, st, provider_id, error) != 0 ||
        store_commit(a->st) != 0)
        app__fatal_store(a, "recording a delivery status");
    if (st == STORE_MSG_FAILED || st == STORE_MSG_QUEUED || st == STORE_MSG_UNKNOWN) {
        char ref_s[24];
        snprintf(ref_s, sizeof ref_s, "%lld", (long long)ref);
        char *e = xmemdup0(error.p ? error.p : "", error.n);
        log_kv(st == STORE_MSG_QUEUED ? LOG_INFO : LOG_WARN,
               st == STORE_MSG_FAILED   ? "gateway failed a message"
               : st == STORE_MSG_QUEUED ? "gateway unavailable: will retry"
                                        : "delivery unknown",
               "ref", ref_s, "error", e, NULL);
        free(e);
    }
    if (a->api)
        api_publish_delivery(a->api, m.conv, m.seq, st, error);
    return 0;
}

static void on_gw_result(void *arg, int64_t ref, int status, str provider_id, str error)
{
    record(arg, ref, status, provider_id, error);
}

/* ---- the pump ---------------------------------------------------------- */

typedef struct due_msg {
    int64_t id;
    uint32_t conv;
    char *from, *to, *text;
} due_msg;

typedef struct due_list {
    due_msg *v;
    size_t n, cap;
} due_list;

static int collect_due(void *arg, const store_msg *m)
{
    due_list *l = arg;
    if (l->n == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 64;
        l->v = xrealloc(l->v, l->cap * sizeof *l->v);
    }
    l->v[l->n++] = (due_msg){m->id, m->conv, xmemdup0(m->ep_number.p, m->ep_number.n),
                             xmemdup0(m->number.p, m->number.n), xmemdup0(m->text.p, m->text.n)};
    return 0;
}

static gw *gateway_for(app *a, str ep_number)
{
    app_gateways *gs = a->gws;
    const char *id = a->cfg ? app_config_ep_gateway(a->cfg, ep_number) : NULL;
    if (id)
        for (size_t i = 0; i < gs->n; i++)
            if (strcmp(gs->conf[i].id, id) == 0)
                return gs->g[i];
    return gs->n ? gs->g[0] : NULL;
}

static int in_list(const uint32_t *v, size_t n, uint32_t x)
{
    for (size_t i = 0; i < n; i++)
        if (v[i] == x)
            return 1;
    return 0;
}

static void pump_once(app *a, int64_t *wake)
{
    app_gateways *gs = a->gws;
    due_list l = {0};
    if (store_outbox_due(a->st, OUTBOX_SCAN, collect_due, &l) != 0)
        app__fatal_store(a, "reading the outbox");
    int64_t now = app_now(a);
    uint32_t *seen = xmalloc((l.n + 1) * sizeof *seen);
    size_t nseen = 0, nsend = 0;
    due_msg **send = xmalloc((l.n + 1) * sizeof *send);
    for (size_t i = 0; i < l.n; i++) {
        due_msg *m = &l.v[i];
        /* only the oldest queued message of a conversation, and only when
         * none of it is with a gateway: order kept */
        if (in_list(seen, nseen, m->conv) || conv_busy(gs, m->conv)) {
            if (!in_list(seen, nseen, m->conv))
                seen[nseen++] = m->conv;
            continue;
        }
        seen[nseen++] = m->conv;
        retry_ent *r = retry_find(gs, m->id);
        if (r && r->next_at > now) {
            if (*wake == 0 || r->next_at < *wake)
                *wake = r->next_at;
            continue;
        }
        send[nsend++] = m;
    }
    if (nsend) {
        if (store_begin(a->st) != 0)
            app__fatal_store(a, "beginning a transaction");
        for (size_t i = 0; i < nsend; i++)
            if (store_msg_set_status(a->st, send[i]->id, STORE_MSG_SUBMITTING, STR_NULL,
                                     STR_NULL) != 0)
                app__fatal_store(a, "marking a message as submitting");
        if (store_commit(a->st) != 0)
            app__fatal_store(a, "committing");
    }
    for (size_t i = 0; i < nsend; i++) {
        due_msg *m = send[i];
        if (gs->nsub == gs->capsub) {
            gs->capsub = gs->capsub ? gs->capsub * 2 : 64;
            gs->sub = xrealloc(gs->sub, gs->capsub * sizeof *gs->sub);
        }
        gs->sub[gs->nsub++] = (submit_ent){m->id, m->conv};
        gw *g = gateway_for(a, str_c(m->from));
        gw_out o = {m->id, str_c(m->from), str_c(m->to), str_c(m->text)};
        int r = g ? gw_send(g, &o) : -ENODEV; /* NULL: not started yet */
        if (r == -EILSEQ)
            record(a, m->id, GW_FAILED, STR_NULL, STR_LIT("the text is not valid UTF-8"));
        else if (r != 0)
            record(a, m->id, GW_RETRY, STR_NULL, STR_LIT("gateway unavailable"));
    }
    for (size_t i = 0; i < l.n; i++) {
        free(l.v[i].from);
        free(l.v[i].to);
        free(l.v[i].text);
    }
    free(l.v);
    free(seen);
    free(send);
}

void app__outbox_pump(app *a)
{
    app_gateways *gs = a->gws;
    if (!gs || gs->busy || a->stopping)
        return;
    gs->busy = 1;
    int64_t wake = 0;
    int rounds = 0;
    do { /* synchronous gateways (the simulator) answer during the send */
        gs->again = 0;
        wake = 0;
        pump_once(a, &wake);
    } while (gs->again && ++rounds < 64);
    gs->busy = 0;
    if (gs->again)
        http_timer_set(a->outbox_timer, 0);
    else if (wake) {
        int64_t d = wake - app_now(a);
        http_timer_set(a->outbox_timer, d < 0 ? 0 : d);
    }
}

/* ---- inbound endpoints' environment ------------------------------------ */

static int env_apply(void *a, const cc_cmd *cmd)
{
    return app_apply(a, cmd);
}

static void env_after_commit(void *a, void (*fn)(void *), void *arg)
{
    app_after_commit(a, fn, arg);
}

static int env_report(void *arg, int64_t ref, int status, str provider_id, str error)
{
    return record(arg, ref, status, provider_id, error);
}

static int env_report_pid(void *arg, str provider_id, int status, str error)
{
    app *a = arg;
    int64_t ref;
    int r = store_msg_by_provider_id(a->st, provider_id, &ref);
    if (r == -ENOENT || r == -EINVAL)
        return -ENOENT;
    if (r != 0)
        app__fatal_store(a, "finding a message by provider id");
    return record(a, ref, status, provider_id, error);
}

static const app_gw_conf *find_conf(app *a, str id, int type)
{
    app_gateways *gs = a->gws;
    for (size_t i = 0; gs && i < gs->n; i++)
        if (gs->conf[i].type == type && str_eq(str_c(gs->conf[i].id), id))
            return &gs->conf[i];
    return NULL;
}

static const gw_kannel_cfg *env_kannel(void *a, str id)
{
    const app_gw_conf *c = find_conf(a, id, APP_GW_KANNEL);
    return c ? &c->kannel : NULL;
}

static gw *env_kannel_gw(void *arg, str id)
{
    app *a = arg;
    const app_gw_conf *c = find_conf(a, id, APP_GW_KANNEL);
    return c ? a->gws->g[c - a->gws->conf] : NULL;
}

static const gw_webhook_cfg *env_webhook(void *a, str id)
{
    const app_gw_conf *c = find_conf(a, id, APP_GW_WEBHOOK);
    return c ? &c->webhook : NULL;
}

static int64_t env_now(void *a)
{
    return app_now(a);
}

/* ---- SMPP inbound (gw_smpp.h) ------------------------------------------ */

typedef struct smpp_mo_ack {
    gw_smpp_done_cb done;
    void *arg;
} smpp_mo_ack;

static void smpp_mo_committed(void *arg)
{
    smpp_mo_ack *k = arg;
    k->done(k->arg, 1);
    free(k);
}

/* An MO from an SMSC: applied like the HTTP gateways' inbound (app_apply
 * keeps a refused one in inbound_orphans at once); the SMSC gets its
 * deliver_sm_resp after the commit. SMPP MO carries no message id: the
 * gateway itself recognises a redelivery (gw_smpp.h). */
static void smpp_mo(void *arg, const char *gw_id, str from, str to, str text,
                    gw_smpp_done_cb done, void *done_arg)
{
    app *a = arg;
    (void)gw_id;
    int r = app_apply(a, &(cc_cmd){.type = CC_CMD_SMS_IN, .number = from, .ep_number = to,
                                   .text = text});
    if (r < 0 || r == CC_DUPLICATE) { /* already durable, or nothing to keep */
        done(done_arg, 1);
        return;
    }
    smpp_mo_ack *k = xmalloc(sizeof *k);
    *k = (smpp_mo_ack){done, done_arg};
    app_after_commit(a, smpp_mo_committed, k);
}

static void smpp_report(void *arg, int64_t ref, str provider_id, int status, str error)
{
    if (ref >= 0)
        record(arg, ref, status, provider_id, error);
    else if (provider_id.n)
        env_report_pid(arg, provider_id, status, error);
}

/* ---- life cycle -------------------------------------------------------- */

int app__gateways_open(app *a, char *err, size_t n)
{
    app_gateways *gs = xcalloc(1, sizeof *gs);
    if (a->cfg) {
        gs->n = app_config_gateways(a->cfg, gs->conf, APP_GW_MAX);
        app_config_outbox(a->cfg, &gs->ob);
    } else {
        gs->n = 1;
        gs->conf[0] = (app_gw_conf){.type = APP_GW_SIM, .id = "sim"};
        gs->ob = (app_outbox_conf){10, 1000, 300000};
    }
    if (gs->n == 0) {
        snprintf(err, n, "no usable gateway configured");
        free(gs);
        return -1;
    }
    for (size_t i = 0; i < gs->n; i++)
        if (gs->conf[i].type == APP_GW_SIM) /* needs no network */
            a->sim = gs->g[i] = gw_sim_new(on_gw_result, a);
    gs->env = (api_gw_env){.app = a,
                           .apply = env_apply,
                           .after_commit = env_after_commit,
                           .report = env_report,
                           .report_by_provider_id = env_report_pid,
                           .kannel = env_kannel,
                           .kannel_gw = env_kannel_gw,
                           .webhook = env_webhook,
                           .now = env_now};
    a->gws = gs;
    return 0;
}

void app__gateways_start(app *a)
{
    app_gateways *gs = a->gws;
    for (size_t i = 0; i < gs->n; i++) {
        const app_gw_conf *c = &gs->conf[i];
        if (c->type == APP_GW_KANNEL)
            gs->g[i] = gw_kannel_new(&c->kannel, a->http, on_gw_result, a);
        else if (c->type == APP_GW_WEBHOOK)
            gs->g[i] = gw_webhook_new(&c->webhook, a->http, on_gw_result, a);
        else if (c->type == APP_GW_SMPP) {
            gw_smpp_app in = {a, smpp_mo, smpp_report};
            gs->g[i] = gw_smpp_new(&c->smpp, a->http, &in, on_gw_result, a);
        }
    }
}

const api_gw_env *app__gateways_env(app *a)
{
    return a->gws ? &a->gws->env : NULL;
}

void app__gateways_close(app *a)
{
    app_gateways *gs = a->gws;
    if (!gs)
        return;
    /* requests under way are dropped: their messages stay SUBMITTING and
     * become UNKNOWN at the next start (never resent blindly) */
    for (size_t i = 0; i < gs->n; i++)
        gw_free(gs->g[i]);
    free(gs->retry);
    free(gs->sub);
    free(gs);
    a->gws = NULL;
    a->sim = NULL;
}
