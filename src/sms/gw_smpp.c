/*
 * gw_smpp.c: the SMPP gateway on the loop (contract in gw_smpp.h).
 *
 * Everything funnels through pump(): it drains the session's events, gives
 * back queued messages while there is no link, asks for a write when the
 * session has output and re-arms the one timer. Callbacks that run inside
 * pump (an MO committed at once, a result that re-enters) only set 'again'.
 */
#include "sms/gw_smpp.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "net/net_http.h"
#include "net/net_tcp.h"
#include "sms/gw_conf.h"
#include "sms/smpp_pdu.h"
#include "util/hmap.h"
#include "util/log.h"
#include "util/loop_clock.h"
#include "util/xalloc.h"

#define RECENT_MAX 1024

/* An MO committed (or being committed) by the application. */
typedef struct mo_wait {
    struct mo_wait *next, *prev;
    struct gw_smpp *g; /* NULL once the gateway is gone */
    uint64_t ack, h, gen;
    int receipt; /* a delivery receipt, not an MO */
} mo_wait;

/* An MO we acknowledged: a redelivery of it is possible while 'suspect'. */
typedef struct recent {
    uint64_t h, gen;
    int64_t at;
    int suspect;
} recent;

typedef struct gw_smpp {
    gw base;
    char *id, *host, *system_id, *password, *system_type;
    int port;
    gw_port in; /* inbound: the application */
    net_loop *loop;
    smpp_session *s;
    net_tcp *conn;
    int connected;
    net_timer *timer;
    mo_wait *waits;
    recent recent[RECENT_MAX];
    size_t nrecent;
    uint64_t seen_downs;
    int in_pump, again;
    char why[160]; /* why there is no link, for the retry error */
} gw_smpp;

static int64_t now_ms(void)
{
    return loop_clock_mono_now(); /* the throughput must not run ahead */
}

static uint64_t downs(const gw_smpp *g)
{
    smpp_stats st;
    smpp_session_stats_get(g->s, &st);
    return st.link_downs;
}

static void set_why(gw_smpp *g, const char *what, str reason)
{
    snprintf(g->why, sizeof g->why, "%s%s%.*s", what, reason.n ? ": " : "", (int)reason.n,
             reason.p ? reason.p : "");
}

static void pump(gw_smpp *g);

/* ---- redelivered MO ---------------------------------------------------- */

static uint64_t mo_hash(str from, str to, str text)
{
    uint64_t h = hmap_hash_bytes(from.p, from.n, 0x736d7070);
    h = hmap_hash_bytes(to.p, to.n, h);
    return hmap_hash_bytes(text.p, text.n, h);
}

static void recent_add(gw_smpp *g, uint64_t h, uint64_t gen, int64_t at, int suspect)
{
    if (g->nrecent == RECENT_MAX) { /* drop the oldest */
        memmove(g->recent, g->recent + 1, (RECENT_MAX - 1) * sizeof *g->recent);
        g->nrecent--;
    }
    g->recent[g->nrecent++] = (recent){h, gen, at, suspect};
}

/* The link 'gen' went down at 'now': answers written shortly before may
 * not have reached the SMSC. Older entries are forgotten. */
static void recent_link_down(gw_smpp *g, int64_t now)
{
    size_t k = 0;
    for (size_t i = 0; i < g->nrecent; i++) {
        recent *r = &g->recent[i];
        if (!r->suspect && now - r->at <= GW_SMPP_SUSPECT_MS)
            r->suspect = 1;
        if (r->suspect && now - r->at <= GW_SMPP_REDELIVERY_MS)
            g->recent[k++] = *r;
    }
    g->nrecent = k;
}

/* 1 when an MO with hash 'h' arriving now is a redelivery (then forgotten:
 * one redelivery matches once). */
static int recent_redelivery(gw_smpp *g, uint64_t h, uint64_t gen, int64_t now)
{
    for (size_t i = 0; i < g->nrecent; i++) {
        recent *r = &g->recent[i];
        if (r->h == h && r->suspect && r->gen < gen &&
            now - r->at <= GW_SMPP_REDELIVERY_MS) {
            memmove(r, r + 1, (g->nrecent - i - 1) * sizeof *r);
            g->nrecent--;
            return 1;
        }
    }
    return 0;
}

/* ---- inbound ----------------------------------------------------------- */

static void wait_unlink(gw_smpp *g, mo_wait *w)
{
    if (w->prev)
        w->prev->next = w->next;
    else if (g)
        g->waits = w->next;
    if (w->next)
        w->next->prev = w->prev;
}

static void mo_done(void *arg, int ok)
{
    mo_wait *w = arg;
    gw_smpp *g = w->g;
    if (g) {
        wait_unlink(g, w);
        int r = smpp_session_ack(g->s, w->ack, ok ? 0 : SMPP_ESME_RSYSERR);
        if (ok && !w->receipt) /* stale: the answer never left, the SMSC will redeliver */
            recent_add(g, w->h, w->gen, now_ms(), r == -ESTALE);
        pump(g);
    }
    free(w);
}

/* The port's verdict: status 0 once it is durable (or refused, or not
 * ours: kept or ignored, a redelivery would change nothing);
 * ESME_RSYSERR when it could not be kept, so the SMSC delivers it again. */
static void in_done(void *arg, int in, const char *code, const char *msg)
{
    (void)code;
    (void)msg;
    mo_done(arg, in != GW_IN_UNAVAILABLE);
}

/* Something the SMSC waits for our answer to (an MO, a receipt). */
static mo_wait *wait_new(gw_smpp *g, uint64_t ack)
{
    mo_wait *w = xcalloc(1, sizeof *w);
    w->g = g;
    w->ack = ack;
    w->next = g->waits;
    if (g->waits)
        g->waits->prev = w;
    g->waits = w;
    return w;
}

static void on_mo(gw_smpp *g, const smpp_event *ev, int64_t now)
{
    uint64_t h = mo_hash(ev->from, ev->to, ev->text), gen = downs(g);
    if (ev->ack && recent_redelivery(g, h, gen, now)) {
        log_kv(
            LOG_INFO,
            "smpp: an MO delivered again after a link loss: acknowledged, not kept twice",
            "gateway", g->id, NULL);
        smpp_session_ack(g->s, ev->ack, 0);
        return;
    }
    if (ev->partial)
        log_kv(LOG_WARN, "smpp: a concatenated MO came incomplete (parts missing)",
               "gateway", g->id, NULL);
    mo_wait *w = wait_new(g, ev->ack);
    w->h = h;
    w->gen = gen;
    /* SMPP MO carries no message id: a redelivery is recognised above */
    g->in.sms_in(g->in.app, ev->from, ev->to, ev->text, STR_NULL, in_done, w);
}

static void on_dlr(gw_smpp *g, const smpp_event *ev)
{
    if (ev->gw_status == GW_DELIVERED || ev->gw_status == GW_FAILED) {
        char err[96] = "";
        if (ev->gw_status == GW_FAILED)
            snprintf(err, sizeof err, "smpp: delivery receipt stat:%.*s err:%.*s",
                     (int)ev->stat.n, ev->stat.p, (int)ev->err.n, ev->err.p);
        mo_wait *w = wait_new(g, ev->ack);
        w->receipt = 1;
        g->in.report_in(g->in.app, ev->ref > 0 ? ev->ref : 0, ev->provider_id, ev->gw_status,
                        str_c(err), in_done, w);
        return;
    }
    smpp_session_ack(g->s, ev->ack, 0); /* progress only */
}

/* ---- the link ---------------------------------------------------------- */

static void on_tcp(void *arg, enum net_tcp_event e, const void *data, size_t n)
{
    gw_smpp *g = arg;
    int64_t now = now_ms();
    switch (e) {
    case NET_TCP_CONNECTED:
        g->connected = 1;
        smpp_session_connected(g->s, now);
        break;
    case NET_TCP_DATA:
        smpp_session_input(g->s, data, n, now);
        break;
    case NET_TCP_WRITABLE: {
        size_t k;
        const uint8_t *p = smpp_session_out(g->s, &k);
        long w = k ? net_tcp_write(g->conn, p, k) : 0;
        if (w > 0)
            smpp_session_out_consume(g->s, (size_t)w);
        break;
    }
    case NET_TCP_CLOSED:
        g->conn = NULL;
        g->connected = 0;
        set_why(g, "link lost", (str){data, n});
        log_kv(LOG_WARN, "smpp: link down", "gateway", g->id, "reason",
               (const char *)data, NULL);
        smpp_session_link_lost(g->s, now);
        break;
    }
    pump(g);
}

static void on_timer(void *arg)
{
    gw_smpp *g = arg;
    smpp_session_tick(g->s, now_ms());
    pump(g);
}

static void result(gw_smpp *g, int64_t ref, int status, str id, const char *prefix,
                   str text)
{
    char err[256] = "";
    if (status != GW_SENT)
        snprintf(err, sizeof err, "smpp: %s%.*s", prefix, (int)text.n,
                 text.p ? text.p : "");
    g->base.result(g->base.arg, ref, status, id, str_c(err));
}

static void handle(gw_smpp *g, const smpp_event *ev, int64_t now)
{
    switch (ev->type) {
    case SMPP_EV_CONNECT:
        g->conn = net_tcp_connect(g->loop, g->host, g->port, on_tcp, g);
        if (!g->conn) {
            set_why(g, "cannot connect", STR_NULL);
            smpp_session_link_lost(g->s, now);
        }
        break;
    case SMPP_EV_CLOSE:
        set_why(g, "link closed", ev->text);
        log_kv(LOG_WARN, "smpp: closing the link", "gateway", g->id, "reason", ev->text.p,
               NULL);
        net_tcp_close(g->conn);
        g->conn = NULL;
        g->connected = 0;
        break;
    case SMPP_EV_BOUND:
        log_kv(LOG_INFO, "smpp: bound", "gateway", g->id, NULL);
        g->why[0] = '\0';
        break;
    case SMPP_EV_BIND_FAILED:
        set_why(g, "bind refused", ev->text);
        log_kv(LOG_WARN, "smpp: bind refused", "gateway", g->id, "error", ev->text.p,
               NULL);
        break;
    case SMPP_EV_SENT:
        result(g, ev->ref, GW_SENT, ev->id, "", STR_NULL);
        break;
    case SMPP_EV_FAILED:
        result(g, ev->ref, GW_FAILED, STR_NULL, "", ev->text);
        break;
    case SMPP_EV_RETRY:
        result(g, ev->ref, GW_RETRY, STR_NULL, "", ev->text);
        break;
    case SMPP_EV_UNKNOWN:
        result(g, ev->ref, GW_UNKNOWN, STR_NULL, "delivery unknown: ", ev->text);
        break;
    case SMPP_EV_MO:
        on_mo(g, ev, now);
        break;
    case SMPP_EV_DLR:
        on_dlr(g, ev);
        break;
    }
}

static void pump(gw_smpp *g)
{
    if (g->in_pump) {
        g->again = 1;
        return;
    }
    g->in_pump = 1;
    int64_t now = now_ms();
    do {
        g->again = 0;
        smpp_event ev;
        while (smpp_session_poll(g->s, &ev))
            handle(g, &ev, now);
        uint64_t d = downs(g);
        if (d != g->seen_downs) {
            g->seen_downs = d;
            recent_link_down(g, now);
        }
        enum smpp_state st = smpp_session_state(g->s);
        if (st != SMPP_ST_BOUND && st != SMPP_ST_UNBINDING &&
            smpp_session_give_back(g->s, g->why[0] ? g->why : "no link to the SMSC"))
            g->again = 1;
    } while (g->again);
    size_t n;
    smpp_session_out(g->s, &n);
    if (n && g->connected)
        net_tcp_want_write(g->conn);
    int64_t due = smpp_session_next_deadline(g->s);
    if (due == INT64_MAX)
        net_timer_set(g->timer, -1);
    else
        net_timer_set(g->timer, due <= now ? 0 : due - now);
    g->in_pump = 0;
}

/* ---- gw_ops ------------------------------------------------------------ */

static int smpp_send(gw *base, const gw_out *m)
{
    gw_smpp *g = (gw_smpp *)base;
    if (smpp_session_state(g->s) != SMPP_ST_BOUND) {
        char why[200];
        snprintf(why, sizeof why, "smpp: not bound to the SMSC (%s)",
                 g->why[0] ? g->why : "connecting");
        g->base.result(g->base.arg, m->ref, GW_RETRY, STR_NULL, str_c(why));
        return 0;
    }
    int r = smpp_session_send(g->s, m->ref, m->from, m->to, m->text, now_ms());
    if (r == -EAGAIN || r == -EILSEQ)
        return r; /* queue full: retried; not UTF-8: failed by the outbox */
    if (r != 0) {
        g->base.result(g->base.arg, m->ref, GW_FAILED, STR_NULL,
                       r == -EMSGSIZE
                           ? STR_LIT("smpp: the text needs more than 255 segments")
                           : STR_LIT("smpp: a number is not valid for SMPP "
                                     "(digits, +digits or at most 11 characters)"));
        return 0;
    }
    pump(g);
    return 0;
}

/* The gateway's own copies of its configuration, and the gateway. */
static void free_gw(gw_smpp *g)
{
    free(g->id);
    free(g->host);
    free(g->system_id);
    free(g->password);
    free(g->system_type);
    free(g);
}

static void smpp_free(gw *base)
{
    gw_smpp *g = (gw_smpp *)base;
    /* messages the SMSC has not started on go back to the outbox's queue;
     * those in flight stay "being submitted" and become "delivery unknown"
     * at the next start (the SMSC may have them) */
    smpp_session_give_back(g->s, "smpp: the server stopped");
    smpp_event ev;
    while (smpp_session_poll(g->s, &ev))
        if (ev.type == SMPP_EV_RETRY)
            result(g, ev.ref, GW_RETRY, STR_NULL, "", ev.text);
    for (mo_wait *w = g->waits; w; w = w->next)
        w->g = NULL; /* freed by their done callback */
    net_tcp_close(g->conn);
    net_timer_free(g->timer);
    smpp_session_free(g->s);
    free_gw(g);
}

static const gw_ops smpp_ops = {"smpp", smpp_send, smpp_free, NULL};

static char *dup_or_null(const char *s)
{
    return s ? xmemdup0(s, strlen(s)) : NULL;
}

gw *gw_smpp_new(const gw_smpp_cfg *cfg, net_loop *loop, const gw_port *in, gw_result_cb cb,
                void *arg)
{
    gw_smpp *g = xcalloc(1, sizeof *g);
    g->id = dup_or_null(cfg->id);
    g->host = dup_or_null(cfg->host);
    g->system_id = dup_or_null(cfg->smpp.system_id);
    g->password = dup_or_null(cfg->smpp.password);
    g->system_type = dup_or_null(cfg->smpp.system_type);
    smpp_cfg sc = cfg->smpp;
    sc.system_id = g->system_id;
    sc.password = g->password;
    sc.system_type = g->system_type;
    g->s = smpp_session_new(&sc);
    if (!g->s) {
        free_gw(g);
        return NULL;
    }
    g->base.ops = &smpp_ops;
    g->base.result = cb;
    g->base.arg = arg;
    g->port = cfg->port;
    g->in = *in;
    g->loop = loop;
    g->timer = net_timer_new(loop, on_timer, g);
    smpp_session_tick(g->s, now_ms()); /* asks to connect */
    pump(g);
    return &g->base;
}

void gw_smpp_stats(gw *base, smpp_stats *out)
{
    smpp_session_stats_get(((gw_smpp *)base)->s, out);
}

/* ---- the type ------------------------------------------------------------ */

static int smpp_config(const json_t *e, const char *id, void **out, char *err, size_t n)
{
    static const char *const keys[] = {
        "id",         "type",           "host",           "port",
        "system_id",  "password",       "system_type",    "window",
        "throughput", "enquire_ms",     "resp_timeout_ms", "backoff_min_ms",
        "backoff_max_ms", "throttled_pause_ms", "max_retries", "mo_timeout_ms",
        "message_payload", "receipts",  NULL};
    gw_smpp_cfg g = {.id = id};
    smpp_cfg *s = &g.smpp;
    if (gw_conf_only(e, keys, err, n) || gw_conf_str(e, "host", 1, &g.host, err, n))
        return -1;
    if (!net_http_host_ok(g.host))
        return gw_conf_fail(err, n, "host", "must be an IPv4 address (no DNS on the server's loop)");
    if (!json_object_get(e, "port"))
        return gw_conf_fail(err, n, "port", "port is required");
    long long port = 0, window = 10, thr = 0, enq = 30000, rto = 10000, bmin = 1000,
              bmax = 60000, pause = 1000, retries = 10, mot = 600000;
    if (gw_conf_int(e, "port", 1, 65535, &port, err, n) ||
        gw_conf_ascii(e, "system_id", 1, 15, &s->system_id, err, n) ||
        gw_conf_ascii(e, "password", 1, 8, &s->password, err, n) ||
        gw_conf_ascii(e, "system_type", 0, 12, &s->system_type, err, n) ||
        gw_conf_int(e, "window", 1, 1000, &window, err, n) ||
        gw_conf_int(e, "throughput", 0, 10000, &thr, err, n) ||
        gw_conf_int(e, "enquire_ms", 1000, 3600000, &enq, err, n) ||
        gw_conf_int(e, "resp_timeout_ms", 100, 600000, &rto, err, n) ||
        gw_conf_int(e, "backoff_min_ms", 100, 3600000, &bmin, err, n) ||
        gw_conf_int(e, "backoff_max_ms", 100, 86400000, &bmax, err, n) ||
        gw_conf_int(e, "throttled_pause_ms", 10, 600000, &pause, err, n) ||
        gw_conf_int(e, "max_retries", 1, 1000, &retries, err, n) ||
        gw_conf_int(e, "mo_timeout_ms", 1000, 86400000, &mot, err, n) ||
        gw_conf_bool(e, "message_payload", &s->payload_mode, err, n))
        return -1;
    int receipts = 1;
    if (gw_conf_bool(e, "receipts", &receipts, err, n))
        return -1;
    if (bmax < bmin)
        return gw_conf_fail(err, n, "backoff_max_ms", "must not be below backoff_min_ms");
    g.port = (int)port;
    s->window = (unsigned)window;
    s->throughput = (unsigned)thr;
    s->enquire_ms = enq;
    s->resp_timeout_ms = rto;
    s->backoff_min_ms = bmin;
    s->backoff_max_ms = bmax;
    s->throttled_pause_ms = pause;
    s->max_retries = (unsigned)retries;
    s->mo_timeout_ms = mot;
    s->no_receipts = !receipts;
    gw_smpp_cfg *c = xmalloc(sizeof *c);
    *c = g;
    *out = c;
    return 0;
}

static gw *smpp_open(const void *cfg, net_loop *loop, const gw_port *port, gw_result_cb cb,
                     void *arg)
{
    return gw_smpp_new(cfg, loop, port, cb, arg);
}

const gw_type gw_smpp_type = {"smpp", smpp_config, free, smpp_open};
