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
 * through the inbound port (port_report_in, below); both find the
 * message by our reference, also one left UNKNOWN by a crash.
 *
 * Status writes share the group commit (app.c) instead of a transaction
 * each: a gateway's answer or a report becomes a pending write in memory
 * (record), and the next commit writes every pending status, then runs the
 * pump inside the same transaction (the due list it reads sees those
 * statuses), which marks the next messages SUBMITTING. Only after that
 * commit are the statuses published to the desktops, the reports'
 * senders answered (app_after_commit) and the marked messages handed to
 * their gateways. So the durability rules hold with one fsync per loop
 * turn: SUBMITTING is on disk before its send starts; a status is on disk
 * before anything depends on it (the desktop's bubble, the report's
 * acknowledgement, the conversation's next send, which is marked in the
 * same or a later transaction). A status still in memory when the process
 * dies leaves its message SUBMITTING on disk: UNKNOWN at the next start,
 * as for a crash during the send. Until its write, 'record' and the lookup
 * by provider id read the pending status over the stored one.
 *
 * The due list is known without reading the store (gs->known): the QUEUED
 * messages in id order, read once (store_outbox_due) and then kept as the
 * group commit changes them: a reply appended (CC_EV_MSG_OUT) joins it, a
 * message the pump marks SUBMITTING or whose status is written leaves it.
 * So a reply's commit and a send's answer cost PostgreSQL no round trip
 * (the event loop never waits on the network for them). Anything else that
 * may change the outbox on disk forgets the list, which the next pump
 * reads again: a failed commit, a write of the write path that changed
 * messages (retention, erasure: store_msg_edits, checked by app_write_end),
 * a rebuilt core, a takeover or a recovery, a
 * retry (QUEUED again: its text is no longer in memory), and more than
 * OUTBOX_SCAN messages due (the pump then reads the oldest OUTBOX_SCAN each
 * time, as before). A due message without text (a reply always has one:
 * retention or an erasure deleted it while the reply waited) is FAILED in
 * the pump's transaction, never handed to a gateway (before, an empty SMS
 * went to the gateway, addressed to 'erased-CONV' after an erasure).
 *
 * Likewise the statuses written lately (gs->recent: the last RECENT_MAX
 * messages whose status a confirmed commit wrote, by reference and by
 * provider id) answer a delivery report without reading the store; a
 * report for an older message reads it (one round trip). A rebuilt core, a
 * takeover and a recovery forget them (app__outbox_forget_all).
 *
 * While the store is degraded (app.h) the pump is parked; answers to sends
 * already under way stay pending in memory and are written at the resume;
 * reports from the endpoints are refused (503, or ESME_RSYSERR over SMPP)
 * so their senders retry them.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "app/gateways.h"
#include "util/log.h"
#include "util/loop_clock.h"
#include "util/utf8.h"
#include "util/xalloc.h"

#define OUTBOX_SCAN 1024

typedef struct retry_ent {
    int64_t ref, next_at;
    int attempts;
} retry_ent;

typedef struct submit_ent {
    int64_t ref;
    uint32_t conv, seq; /* what its answer needs, without reading the store */
} submit_ent;

/* A status recorded, not yet committed. */
typedef struct pend_ent {
    int64_t ref;
    int status;
    uint32_t conv, seq;
    char *provider_id, *error; /* owned; NULL when none */
    int quiet; /* app__outbox_failed's QUEUED again: not published, not 'recent' */
} pend_ent;

typedef struct due_msg {
    int64_t id;
    uint32_t conv;
    char *from, *to, *text;
    uint32_t seq;
} due_msg;

/* A status a confirmed commit wrote, in the recent table's ring. */
typedef struct recent_ent {
    int64_t ref;
    int status;
    uint32_t conv, seq;
    char *pid;                /* the provider's id, or NULL */
    int32_t next_ref, next_pid; /* the hash chains; -1 ends them */
    uint32_t hpid;
} recent_ent;

#ifndef RECENT_MAX /* tests/unit/app/test_app_outbox.c makes it small */
#define RECENT_MAX 65536
#endif
#define RECENT_BUCKETS (2 * RECENT_MAX)

typedef struct recent {
    recent_ent *v;           /* RECENT_MAX slots, a ring: v[head] the oldest when full */
    int32_t *by_ref, *by_pid; /* RECENT_BUCKETS chain heads each */
    size_t head, n;
} recent;

typedef struct due_list {
    due_msg *v;
    size_t n, cap;
} due_list;

typedef struct app_gateways {
    size_t n;
    app_gw_conf conf[APP_GW_MAX];
    gw *g[APP_GW_MAX];
    app_outbox_conf ob;
    retry_ent *retry; /* messages waiting for another attempt */
    size_t nretry, capretry;
    submit_ent *sub; /* marked SUBMITTING or handed to a gateway, no answer yet */
    size_t nsub, capsub;
    pend_ent *pend; /* statuses for the next commit, in order */
    size_t npend, cappend, nwritten;
    due_msg *tosend; /* marked SUBMITTING in the open transaction */
    size_t ntosend, captosend;
    due_list known; /* the QUEUED messages, in id order, when known_ok */
    recent recent;  /* statuses written lately (see the header comment) */
    int known_ok;
    int want_pump;
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

static void sub_del(app_gateways *gs, int64_t ref)
{
    int k = sub_find(gs, ref);
    if (k >= 0)
        gs->sub[k] = gs->sub[--gs->nsub];
}

/* The newest pending status of 'ref', or NULL. */
static const pend_ent *pend_last(const app_gateways *gs, int64_t ref)
{
    for (size_t i = gs->npend; i-- > 0;)
        if (gs->pend[i].ref == ref)
            return &gs->pend[i];
    return NULL;
}

static char *dup_opt(str s)
{
    return s.n ? xmemdup0(s.p, s.n) : NULL;
}

static void pend_add(app_gateways *gs, int64_t ref, int status, uint32_t conv, uint32_t seq,
                     str provider_id, str error)
{
    if (gs->npend == gs->cappend) {
        gs->cappend = gs->cappend ? gs->cappend * 2 : 64;
        gs->pend = xrealloc(gs->pend, gs->cappend * sizeof *gs->pend);
    }
    gs->pend[gs->npend++] =
        (pend_ent){ref, status, conv, seq, dup_opt(provider_id), dup_opt(error), 0};
}

static void due_free(due_msg *m)
{
    free(m->from);
    free(m->to);
    free(m->text);
}

/* ---- the known due list (see the header comment) ------------------------ */

static void known_forget(app_gateways *gs)
{
    for (size_t i = 0; i < gs->known.n; i++)
        due_free(&gs->known.v[i]);
    gs->known.n = 0;
    gs->known_ok = 0;
}

/* Where message 'id' is or would go in the known list. */
static size_t known_at(const app_gateways *gs, int64_t id)
{
    size_t lo = 0, hi = gs->known.n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (gs->known.v[mid].id < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* A reply of the transaction being built joins the list (its strings
 * copied); past OUTBOX_SCAN the list is forgotten. */
static void known_add(app_gateways *gs, const cc_event *ev)
{
    size_t k = known_at(gs, (int64_t)ev->seq);
    if (k < gs->known.n && gs->known.v[k].id == (int64_t)ev->seq)
        return; /* the same transaction run again (app.c's retry_unsent) */
    if (gs->known.n >= OUTBOX_SCAN) {
        known_forget(gs);
        return;
    }
    if (gs->known.n == gs->known.cap) {
        gs->known.cap = gs->known.cap ? gs->known.cap * 2 : 64;
        gs->known.v = xrealloc(gs->known.v, gs->known.cap * sizeof *gs->known.v);
    }
    memmove(&gs->known.v[k + 1], &gs->known.v[k], (gs->known.n - k) * sizeof *gs->known.v);
    gs->known.v[k] = (due_msg){(int64_t)ev->seq, ev->conv,
                               xmemdup0(ev->ep_number.p, ev->ep_number.n),
                               xmemdup0(ev->number.p, ev->number.n),
                               xmemdup0(ev->text.p, ev->text.n), ev->msg_seq};
    gs->known.n++;
}

static void known_del(app_gateways *gs, int64_t id)
{
    size_t k = known_at(gs, id);
    if (k >= gs->known.n || gs->known.v[k].id != id)
        return;
    due_free(&gs->known.v[k]);
    memmove(&gs->known.v[k], &gs->known.v[k + 1], (gs->known.n - k - 1) * sizeof *gs->known.v);
    gs->known.n--;
}

/* ---- the statuses written lately (see the header comment) -------------- */

static uint32_t hash_ref(int64_t ref)
{
    return (uint32_t)(((uint64_t)ref * 0x9E3779B97F4A7C15u) >> 40) % RECENT_BUCKETS;
}

static uint32_t hash_pid(str s) /* FNV-1a */
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < s.n; i++)
        h = (h ^ (unsigned char)s.p[i]) * 16777619u;
    return h;
}

static int32_t recent_by_ref(const recent *t, int64_t ref)
{
    if (!t->v)
        return -1;
    for (int32_t i = t->by_ref[hash_ref(ref)]; i >= 0; i = t->v[i].next_ref)
        if (t->v[i].ref == ref)
            return i;
    return -1;
}

/* The newest message with provider id 'pid', or -1. */
static int32_t recent_by_pid(const recent *t, str pid)
{
    if (!t->v || !pid.n)
        return -1;
    uint32_t h = hash_pid(pid);
    for (int32_t i = t->by_pid[h % RECENT_BUCKETS]; i >= 0; i = t->v[i].next_pid)
        if (t->v[i].hpid == h && t->v[i].pid && str_eq(str_c(t->v[i].pid), pid))
            return i;
    return -1;
}

static void chain_unlink(recent *t, int32_t *heads, uint32_t b, int32_t k, int by_pid)
{
    int32_t *at = &heads[b];
    while (*at >= 0 && *at != k)
        at = by_pid ? &t->v[*at].next_pid : &t->v[*at].next_ref;
    if (*at == k)
        *at = by_pid ? t->v[k].next_pid : t->v[k].next_ref;
}

static void pid_unlink(recent *t, int32_t k)
{
    if (t->v[k].pid)
        chain_unlink(t, t->by_pid, t->v[k].hpid % RECENT_BUCKETS, k, 1);
    free(t->v[k].pid);
    t->v[k].pid = NULL;
}

static void pid_link(recent *t, int32_t k, const char *pid)
{
    recent_ent *e = &t->v[k];
    e->pid = xmemdup0(pid, strlen(pid));
    e->hpid = hash_pid(str_c(pid));
    e->next_pid = t->by_pid[e->hpid % RECENT_BUCKETS];
    t->by_pid[e->hpid % RECENT_BUCKETS] = k;
}

/* After a confirmed commit: message 'p->ref' has status 'p->status' (and
 * its provider id, when the write named one). */
static void recent_put(recent *t, const pend_ent *p)
{
    if (!t->v) {
        t->v = xcalloc(RECENT_MAX, sizeof *t->v);
        t->by_ref = xmalloc(RECENT_BUCKETS * sizeof *t->by_ref);
        t->by_pid = xmalloc(RECENT_BUCKETS * sizeof *t->by_pid);
        memset(t->by_ref, 0xff, RECENT_BUCKETS * sizeof *t->by_ref); /* -1 */
        memset(t->by_pid, 0xff, RECENT_BUCKETS * sizeof *t->by_pid);
    }
    int32_t k = recent_by_ref(t, p->ref);
    if (k < 0) {
        if (t->n == RECENT_MAX) { /* the oldest makes room */
            k = (int32_t)t->head;
            chain_unlink(t, t->by_ref, hash_ref(t->v[k].ref), k, 0);
            pid_unlink(t, k);
            t->head = (t->head + 1) % RECENT_MAX;
        } else {
            k = (int32_t)((t->head + t->n++) % RECENT_MAX);
        }
        uint32_t b = hash_ref(p->ref);
        t->v[k] = (recent_ent){.ref = p->ref, .next_ref = t->by_ref[b], .next_pid = -1};
        t->by_ref[b] = k;
    }
    recent_ent *e = &t->v[k];
    e->status = p->status;
    e->conv = p->conv;
    e->seq = p->seq;
    if (p->provider_id && !(e->pid && strcmp(e->pid, p->provider_id) == 0)) {
        pid_unlink(t, k);
        pid_link(t, k, p->provider_id);
    }
}

static void recent_free(recent *t)
{
    if (t->v)
        for (size_t i = 0; i < t->n; i++)
            free(t->v[(t->head + i) % RECENT_MAX].pid);
    free(t->v);
    free(t->by_ref);
    free(t->by_pid);
    *t = (recent){0};
}

void app__outbox_forget_all(app *a)
{
    if (!a->gws)
        return;
    known_forget(a->gws);
    recent_free(&a->gws->recent);
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

/* Records what a gateway (or a delivery report) says about message 'ref':
 * a pending write for the next group commit (see the header comment).
 * Returns 0, -ENOENT when there is no such outbound message, or -EAGAIN
 * when the store could not be read (then degraded: the sender of a report
 * retries it; a send's answer never needs the read). */
static int record(app *a, int64_t ref, int status, str provider_id, str error)
{
    app_gateways *gs = a->gws;
    msg_copy m = {0};
    const pend_ent *p = pend_last(gs, ref);
    int ks = sub_find(gs, ref);
    int32_t kr;
    if (p) {
        m = (msg_copy){1, p->status, p->conv, p->seq};
    } else if (ks >= 0) { /* under way: SUBMITTING, committed before the send */
        m = (msg_copy){1, STORE_MSG_SUBMITTING, gs->sub[ks].conv, gs->sub[ks].seq};
    } else if ((kr = recent_by_ref(&gs->recent, ref)) >= 0) { /* written lately */
        const recent_ent *e = &gs->recent.v[kr];
        m = (msg_copy){1, e->status, e->conv, e->seq};
    } else {
        int r = store_msg_get(a->st, ref, copy_msg, &m);
        if (r == -ENOENT)
            return -ENOENT;
        if (r != 0) { /* the database is unreachable (a full disk or a lock stop no read) */
            app__store_failed(a, "reading a message");
            return -EAGAIN;
        }
    }
    if (!m.found || m.status == STORE_MSG_RECEIVED)
        return -ENOENT;
    int was_submitting = 0, k = sub_find(gs, ref);
    if (k >= 0) {
        /* the send's answer (or a report overtaking it) frees the
         * conversation for its next message */
        gs->sub[k] = gs->sub[--gs->nsub];
        was_submitting = 1;
        app__outbox_pump(a);
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
    pend_add(gs, ref, st, m.conv, m.seq, provider_id, error);
    app__want_flush(a);
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
    return 0;
}

static void on_gw_result(void *arg, int64_t ref, int status, str provider_id, str error)
{
    record(arg, ref, status, provider_id, error);
}

/* ---- the pump ---------------------------------------------------------- */

static int collect_due(void *arg, const store_msg *m)
{
    due_list *l = arg;
    if (l->n == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 64;
        l->v = xrealloc(l->v, l->cap * sizeof *l->v);
    }
    l->v[l->n++] = (due_msg){m->id, m->conv, xmemdup0(m->ep_number.p, m->ep_number.n),
                             xmemdup0(m->number.p, m->number.n), xmemdup0(m->text.p, m->text.n),
                             m->seq};
    return 0;
}

static int gw_index(const app_gateways *gs, str id)
{
    for (size_t i = 0; i < gs->n; i++)
        if (str_eq(str_c(gs->conf[i].id), id))
            return (int)i;
    return -1;
}

int app__gateway_known(app *a, str id)
{
    return a->gws && gw_index(a->gws, id) >= 0;
}

/* The gateway of the entry point with 'ep_number': the one the entry
 * point names (the core keeps it with the entry point: the file or the
 * admin API set it), else the file's "gateway" for that number (entry
 * points stored before the core kept it), else the first. Returns -1
 * with '*missing' set when the entry point names a gateway that is not
 * configured (any more): never another one silently. */
static int gateway_for(app *a, str ep_number, str *missing)
{
    app_gateways *gs = a->gws;
    cc_ep_flow f;
    uint32_t ep = cc_ep_by_number(a->core, ep_number);
    if (ep && cc_ep_flow_get(a->core, ep, &f) == 0 && f.gateway.n) {
        *missing = f.gateway;
        return gw_index(gs, f.gateway);
    }
    const char *id = a->cfg ? app_config_ep_gateway(a->cfg, ep_number) : NULL;
    int i = id ? gw_index(gs, str_c(id)) : -1;
    return i >= 0 ? i : 0;
}

static int in_list(const uint32_t *v, size_t n, uint32_t x)
{
    for (size_t i = 0; i < n; i++)
        if (v[i] == x)
            return 1;
    return 0;
}

#define TEXT_DELETED "its text was deleted (retention or erasure) before it was sent"

/* Inside pump_mark's transaction: due message 'm' has no text (a reply
 * has one: retention or an erasure deleted it while it waited, and an
 * erasure replaced its number): FAILED now, written in this transaction
 * (its status reaches the desktops at the commit), rather than an empty
 * SMS handed to the gateway (to 'erased-CONV' after an erasure). 'm' is
 * freed; returns 0 or the store's error (then 'm' stays). */
static int text_deleted(app *a, due_msg *m)
{
    app_gateways *gs = a->gws;
    int r = store_msg_set_status(a->st, m->id, STORE_MSG_FAILED, STR_NULL,
                                 STR_LIT(TEXT_DELETED), loop_clock_wall());
    if (r != 0)
        return r;
    pend_add(gs, m->id, STORE_MSG_FAILED, m->conv, m->seq, STR_NULL, STR_LIT(TEXT_DELETED));
    gs->nwritten = gs->npend; /* in this transaction (a failed one writes it again) */
    retry_del(gs, m->id);
    char ref_s[24];
    snprintf(ref_s, sizeof ref_s, "%lld", (long long)m->id);
    log_kv(LOG_WARN, "a queued reply's text was deleted: not sent", "ref", ref_s, NULL);
    due_free(m);
    return 0;
}

/* Inside the open transaction: marks the oldest due message of each free
 * conversation SUBMITTING and keeps it in gs->tosend for after the
 * commit. Returns 0 or the store's error. */
static int pump_mark(app *a)
{
    app_gateways *gs = a->gws;
    due_list *l = &gs->known;
    int r;
    if (!gs->known_ok) { /* read it again (see the header comment) */
        known_forget(gs);
        if ((r = store_outbox_due(a->st, OUTBOX_SCAN, collect_due, l)) != 0) {
            known_forget(gs);
            return r;
        }
        gs->known_ok = l->n < OUTBOX_SCAN; /* all of them */
    }
    int64_t now = app_now(a), wake = 0;
    uint32_t *seen = xmalloc((l->n + 1) * sizeof *seen);
    size_t nseen = 0, i, kept = 0;
    for (i = 0; i < l->n; i++) {
        due_msg *m = &l->v[i];
        /* only the oldest queued message of a conversation, and only when
         * none of it is with a gateway: order kept */
        if (in_list(seen, nseen, m->conv) || conv_busy(gs, m->conv)) {
            if (!in_list(seen, nseen, m->conv))
                seen[nseen++] = m->conv;
            l->v[kept++] = *m;
            continue;
        }
        if (!m->text[0]) { /* its text deleted (retention, erasure): never sent */
            if ((r = text_deleted(a, m)) != 0)
                break;
            continue; /* the conversation's next one may go */
        }
        seen[nseen++] = m->conv;
        retry_ent *e = retry_find(gs, m->id);
        if (e && e->next_at > now) {
            if (wake == 0 || e->next_at < wake)
                wake = e->next_at;
            l->v[kept++] = *m;
            continue;
        }
        if ((r = store_msg_set_status(a->st, m->id, STORE_MSG_SUBMITTING, STR_NULL, STR_NULL,
                                      loop_clock_wall())) != 0)
            break;
        if (gs->nsub == gs->capsub) {
            gs->capsub = gs->capsub ? gs->capsub * 2 : 64;
            gs->sub = xrealloc(gs->sub, gs->capsub * sizeof *gs->sub);
        }
        gs->sub[gs->nsub++] = (submit_ent){m->id, m->conv, m->seq};
        if (gs->ntosend == gs->captosend) {
            gs->captosend = gs->captosend ? gs->captosend * 2 : 64;
            gs->tosend = xrealloc(gs->tosend, gs->captosend * sizeof *gs->tosend);
        }
        gs->tosend[gs->ntosend++] = *m; /* the strings move */
    }
    for (; i < l->n; i++) /* after an error: the rest (forgotten below) */
        l->v[kept++] = l->v[i];
    l->n = kept;
    if (r != 0 || !gs->known_ok) /* an error fails the transaction; or not all of them */
        known_forget(gs);
    free(seen);
    if (r == 0 && wake) {
        int64_t d = wake - now;
        net_timer_set(a->outbox_timer, d < 0 ? 0 : d);
    }
    return r;
}

void app__outbox_pump(app *a)
{
    app_gateways *gs = a->gws;
    if (!gs || a->stopping)
        return;
    gs->want_pump = 1;
    app__want_flush(a);
}

void app__outbox_pump_here(app *a)
{
    if (a->gws && !a->stopping)
        a->gws->want_pump = 1;
}

int app__outbox_dirty(const app *a)
{
    const app_gateways *gs = a->gws;
    /* what the transaction in flight writes (nwritten) is not new */
    return gs && (gs->npend > gs->nwritten || (gs->want_pump && !a->stopping));
}

int app__outbox_write(app *a)
{
    app_gateways *gs = a->gws;
    if (!gs)
        return 0;
    for (size_t i = 0; i < gs->npend; i++) {
        const pend_ent *p = &gs->pend[i];
        int r = store_msg_set_status(a->st, p->ref, p->status, str_c(p->provider_id),
                                     str_c(p->error), loop_clock_wall());
        if (r != 0 && r != -ENOENT) /* -ENOENT: cannot be (found before) */
            return r;
        if (p->status == STORE_MSG_QUEUED) /* due again: read its text back */
            known_forget(gs);
        else
            known_del(gs, p->ref);
    }
    /* known_add forgets the list past OUTBOX_SCAN: then the pump reads it */
    for (size_t i = 0; gs->known_ok && i < a->committing.n; i++)
        if (a->committing.v[i].type == CC_EV_MSG_OUT)
            known_add(gs, &a->committing.v[i]);
    gs->nwritten = gs->npend;
    if (gs->want_pump && !a->stopping && a->outbox_timer) {
        gs->want_pump = 0;
        return pump_mark(a);
    }
    return 0;
}

void app__outbox_committed(app *a)
{
    app_gateways *gs = a->gws;
    if (!gs)
        return;
    size_t k = gs->nwritten;
    for (size_t i = 0; i < k; i++) {
        pend_ent *p = &gs->pend[i];
        if (a->api && !p->quiet)
            api_publish_delivery(a->api, p->conv, p->seq, p->status, str_c(p->error));
        if (!p->quiet)
            recent_put(&gs->recent, p);
        free(p->provider_id);
        free(p->error);
    }
    if (k) {
        memmove(gs->pend, gs->pend + k, (gs->npend - k) * sizeof *gs->pend);
        gs->npend -= k;
    }
    gs->nwritten = 0;
    /* the sends: synchronous gateways (the simulator) answer during the
     * call, into the next commit */
    due_msg *v = gs->tosend;
    size_t n = gs->ntosend;
    gs->tosend = NULL;
    gs->ntosend = gs->captosend = 0;
    for (size_t i = 0; i < n; i++) {
        due_msg *m = &v[i];
        str missing = STR_NULL;
        int gi = gateway_for(a, str_c(m->from), &missing);
        gw *g = gi >= 0 ? gs->g[gi] : NULL;
        gw_out o = {m->id, str_c(m->from), str_c(m->to), str_c(m->text)};
        int r = g ? gw_send(g, &o) : -ENODEV; /* NULL: not started yet */
        if (gi < 0) {
            char why[96];
            snprintf(why, sizeof why, "the entry point's gateway '%.*s' is not configured",
                     (int)missing.n, missing.p);
            record(a, m->id, GW_RETRY, STR_NULL, str_c(why));
        } else if (r == -EILSEQ)
            record(a, m->id, GW_FAILED, STR_NULL, STR_LIT("the text is not valid UTF-8"));
        else if (r != 0)
            record(a, m->id, GW_RETRY, STR_NULL, STR_LIT("gateway unavailable"));
        due_free(m);
    }
    free(v);
}

void app__outbox_failed(app *a)
{
    app_gateways *gs = a->gws;
    if (!gs)
        return;
    gs->nwritten = 0;
    for (size_t i = 0; i < gs->ntosend; i++) {
        /* QUEUED on disk, or SUBMITTING when the commit was kept after all
         * and only its answer was lost (-ENOTCONN at the COMMIT): never
         * handed to a gateway, so QUEUED again in the next commit (quietly:
         * the desktops saw nothing else), and the pump marks it again.
         * Without this write it stayed SUBMITTING, never sent, until a
         * restart made it UNKNOWN. A message the failed commit did not keep
         * has no row to write (-ENOENT, ignored), or, by the next commit,
         * the same id appended again: QUEUED anyway. */
        due_msg *m = &gs->tosend[i];
        pend_add(gs, m->id, STORE_MSG_QUEUED, m->conv, m->seq, STR_NULL, STR_NULL);
        gs->pend[gs->npend - 1].quiet = 1;
        sub_del(gs, m->id);
        due_free(m);
    }
    gs->ntosend = 0;
    known_forget(gs); /* what the failed transaction added, or marked */
    gs->want_pump = 1; /* again at the resume */
}

/* ---- the inbound port (gw.h) ------------------------------------------- */

typedef struct in_ack {
    gw_in_done done;
    void *arg;
    int in;
} in_ack;

static void in_committed(void *arg, int status)
{
    in_ack *k = arg;
    if (status < 0)
        k->done(k->arg, GW_IN_UNAVAILABLE, cc_err_code(status), cc_err_msg(status));
    else
        k->done(k->arg, k->in, NULL, NULL);
    free(k);
}

/* Answers 'done' with 'in' once everything applied so far is committed
 * (app_after_commit: the one answer-after-commit mechanism). */
static void after_commit(app *a, int in, gw_in_done done, void *arg)
{
    in_ack *k = xmalloc(sizeof *k);
    *k = (in_ack){done, arg, in};
    app_after_commit(a, in_committed, k);
}

/* What a gateway hands in, with every NUL byte replaced by U+FFFD
 * (utf8_nul_replace): UCS-2 from an SMSC or %00 from an HTTP gateway can
 * carry U+0000, which no SMS means and PostgreSQL's text cannot hold; both
 * stores keep the same characters. At most 4 strings of one call. */
typedef struct clean {
    char *own[4];
    int n;
} clean;

static str clean_str(clean *c, str s)
{
    size_t n;
    char *p = s.n ? utf8_nul_replace(s.p, s.n, &n) : NULL;
    if (!p)
        return s;
    c->own[c->n++] = p;
    return (str){p, n};
}

static void clean_free(clean *c)
{
    for (int i = 0; i < c->n; i++)
        free(c->own[i]);
}

/* An inbound SMS from any gateway: app_apply keeps a refused one among the
 * refused inbound messages at once; a new one or a repeat (whose original
 * may be in the same commit) is acknowledged after the commit. */
static void port_sms_in(void *arg, str from, str to, str text, str msg_id, gw_in_done done,
                        void *done_arg)
{
    app *a = arg;
    clean c = {0};
    int r = app_apply(a, &(cc_cmd){.type = CC_CMD_SMS_IN, .number = clean_str(&c, from),
                                   .ep_number = clean_str(&c, to), .text = clean_str(&c, text),
                                   .msg_id = clean_str(&c, msg_id)});
    clean_free(&c); /* the core and the staged events keep their own copies */
    if (r == -CC_E_STORE)
        done(done_arg, GW_IN_UNAVAILABLE, cc_err_code(r), cc_err_msg(r));
    else if (r < 0)
        done(done_arg, GW_IN_REFUSED, cc_err_code(r), cc_err_msg(r));
    else
        after_commit(a, r == CC_DUPLICATE ? GW_IN_DUPLICATE : GW_IN_OK, done, done_arg);
}

static int report_by_pid(app *a, str provider_id, int status, str error)
{
    app_gateways *gs = a->gws;
    for (size_t i = gs->npend; i-- > 0;) /* the SENT that brought it may be pending */
        if (gs->pend[i].provider_id && str_eq(str_c(gs->pend[i].provider_id), provider_id))
            return record(a, gs->pend[i].ref, status, provider_id, error);
    int32_t kr = recent_by_pid(&gs->recent, provider_id);
    if (kr >= 0) /* written lately */
        return record(a, gs->recent.v[kr].ref, status, provider_id, error);
    int64_t ref;
    int r = store_msg_by_provider_id(a->st, provider_id, &ref);
    if (r == -ENOENT || r == -EINVAL)
        return -ENOENT;
    if (r != 0) { /* unreachable: the report is sent again */
        app__store_failed(a, "finding a message by provider id");
        return -EAGAIN;
    }
    return record(a, ref, status, provider_id, error);
}

/* A delivery report: refused while degraded (the sender retries it),
 * acknowledged once its status is committed. */
static void port_report_in(void *arg, int64_t ref, str provider_id, int status, str error,
                           gw_in_done done, void *done_arg)
{
    app *a = arg;
    if (a->degraded) {
        done(done_arg, GW_IN_UNAVAILABLE, cc_err_code(-CC_E_STORE), cc_err_msg(-CC_E_STORE));
        return;
    }
    clean c = {0};
    provider_id = clean_str(&c, provider_id);
    error = clean_str(&c, error);
    int r = ref > 0         ? record(a, ref, status, provider_id, error)
            : provider_id.n ? report_by_pid(a, provider_id, status, error)
                            : -ENOENT;
    clean_free(&c); /* record keeps its own copies */
    if (r == -EAGAIN) /* the store failed meanwhile: as when degraded */
        done(done_arg, GW_IN_UNAVAILABLE, cc_err_code(-CC_E_STORE), cc_err_msg(-CC_E_STORE));
    else if (r == -ENOENT)
        done(done_arg, GW_IN_UNKNOWN, NULL, NULL);
    else
        after_commit(a, GW_IN_OK, done, done_arg);
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
        gs->conf[0] = (app_gw_conf){.type = gw_type_find("sim"), .id = "sim"};
        gs->ob = (app_outbox_conf){10, 1000, 300000};
    }
    if (gs->n == 0) {
        snprintf(err, n, "no usable gateway configured");
        free(gs);
        return -1;
    }
    a->gws = gs;
    gw_port port = {a, port_sms_in, port_report_in};
    for (size_t i = 0; i < gs->n; i++) {
        const app_gw_conf *c = &gs->conf[i];
        gs->g[i] = c->type->open(c->cfg, a->loop, &port, on_gw_result, a);
        if (gs->g[i] && strcmp(c->type->name, "sim") == 0)
            a->sim = gs->g[i];
    }
    return 0;
}

gw *app__gateway(app *a, str id)
{
    int i = a->gws ? gw_index(a->gws, id) : -1;
    return i >= 0 ? a->gws->g[i] : NULL;
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
    if (a->cfg)
        app_config_gateways_free(gs->conf, gs->n);
    for (size_t i = 0; i < gs->npend; i++) { /* app_close wrote them if it could */
        free(gs->pend[i].provider_id);
        free(gs->pend[i].error);
    }
    for (size_t i = 0; i < gs->ntosend; i++)
        due_free(&gs->tosend[i]);
    free(gs->pend);
    free(gs->tosend);
    known_forget(gs);
    free(gs->known.v);
    recent_free(&gs->recent);
    free(gs->retry);
    free(gs->sub);
    free(gs);
    a->gws = NULL;
    a->sim = NULL;
}

int app__outbox_recover(app *a, int in_tx, const char *who)
{
    int unknown, w = in_tx ? app_write_begin(a) : 0;
    if (w != 0)
        return w;
    app__outbox_forget_all(a);
    unknown = store_outbox_recover(a->st, loop_clock_wall());
    if (in_tx && (w = app_write_end(a, unknown < 0 ? unknown : 0)) != 0)
        return w;
    if (unknown > 0) {
        char n_s[16], msg[96];
        snprintf(n_s, sizeof n_s, "%d", unknown);
        snprintf(msg, sizeof msg, "replies were being sent when the %s stopped: delivery unknown",
                 who);
        log_kv(LOG_WARN, msg, "count", n_s, NULL);
    }
    return unknown;
}
