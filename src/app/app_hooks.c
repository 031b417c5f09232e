/*
 * app_hooks.c: the webhooks' deliverers (app_hooks.h). The payloads and
 * kinds are the API's wire format (api_hook_payload); signing is
 * libsodium's HMAC-SHA256.
 */
#include "app/app_hooks.h"

#include <errno.h>
#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/gateways.h"
#include "net/net_http.h"
#include "util/log.h"
#include "util/loop_clock.h"
#include "util/xalloc.h"

#define HOOKS_READ 64       /* feed items read at a time */
#define HOOKS_READS_TURN 16 /* reads of items no one wants, per turn at most */
#define HOOKS_SAVE_MS 250   /* progress is written at most this often */
#define HOOKS_STORE_RETRY_MS 1000

typedef struct hook_item {
    int64_t seq, sid;
    char id[48];
    int kind;
    char *body;
} hook_item;

typedef struct hsub {
    app_hooks *hs;
    store_hook h; /* counters, cursor, last attempt; strings below */
    char *name, *url, *secret, *last_error;
    int64_t rseq, rsid; /* read through */
    hook_item *q;       /* read, wanted, not delivered: q[qh .. qn) */
    size_t qh, qn, qcap;
    net_http_req *req;
    net_timer *timer; /* the timeout while a request is under way, else the retry */
    int attempts;     /* failures in a row of the head item */
    int dirty;        /* progress not written */
} hsub;

struct app_hooks {
    app *a;
    app_hooks_conf c;
    hsub **v;
    size_t n;
    net_timer *kick, *save;
    int save_armed;
};

/* ---- configuration ------------------------------------------------------ */

void app_config_hooks(const app_config *cfg, app_hooks_conf *out)
{
    json_t *o = json_object_get(app_config__json(cfg), "webhooks"), *v;
    *out = (app_hooks_conf){.backoff_ms = 1000, .backoff_max_ms = 300000, .timeout_ms = 10000};
    if ((v = json_object_get(o, "backoff_ms")) && json_is_integer(v))
        out->backoff_ms = json_integer_value(v);
    if ((v = json_object_get(o, "backoff_max_ms")) && json_is_integer(v))
        out->backoff_max_ms = json_integer_value(v);
    if ((v = json_object_get(o, "timeout_ms")) && json_is_integer(v))
        out->timeout_ms = json_integer_value(v);
}

int app_config__check_hooks(const app_config *cfg, const char *path, char *err, size_t n)
{
    json_t *o = json_object_get(app_config__json(cfg), "webhooks");
    if (!o)
        return 0;
    if (!json_is_object(o)) {
        snprintf(err, n, "%s: webhooks: must be an object", path);
        return -1;
    }
    static const struct {
        const char *k;
        long long lo, hi;
    } r[] = {{"backoff_ms", 10, 3600000}, {"backoff_max_ms", 10, 86400000},
             {"timeout_ms", 100, 600000}};
    const char *key;
    json_t *v;
    json_object_foreach(o, key, v)
    {
        size_t j = 0;
        while (j < 3 && strcmp(r[j].k, key) != 0)
            j++;
        if (j == 3) {
            snprintf(err, n, "%s: webhooks: unknown key \"%.60s\" (backoff_ms, backoff_max_ms,"
                             " timeout_ms)", path, key);
            return -1;
        }
        if (!json_is_integer(v) || json_integer_value(v) < r[j].lo ||
            json_integer_value(v) > r[j].hi) {
            snprintf(err, n, "%s: webhooks.%s: must be a whole number %lld..%lld", path, key,
                     r[j].lo, r[j].hi);
            return -1;
        }
    }
    app_hooks_conf c;
    app_config_hooks(cfg, &c);
    if (c.backoff_max_ms < c.backoff_ms) {
        snprintf(err, n, "%s: webhooks.backoff_max_ms: must not be below backoff_ms", path);
        return -1;
    }
    return 0;
}

/* ---- signing ------------------------------------------------------------ */

void app_hooks_sign(str secret, int64_t unix_s, str body, char out[96])
{
    char t[24];
    int tn = snprintf(t, sizeof t, "%lld.", (long long)unix_s);
    crypto_auth_hmacsha256_state s;
    unsigned char mac[crypto_auth_hmacsha256_BYTES];
    crypto_auth_hmacsha256_init(&s, (const unsigned char *)secret.p, secret.n);
    crypto_auth_hmacsha256_update(&s, (const unsigned char *)t, (unsigned long long)tn);
    crypto_auth_hmacsha256_update(&s, (const unsigned char *)body.p, body.n);
    crypto_auth_hmacsha256_final(&s, mac);
    char hex[2 * sizeof mac + 1];
    sodium_bin2hex(hex, sizeof hex, mac, sizeof mac);
    snprintf(out, 96, "t=%lld,v1=%s", (long long)unix_s, hex);
}

/* ---- progress ----------------------------------------------------------- */

static void set_str(char **dst, str s)
{
    free(*dst);
    *dst = s.n ? xmemdup0(s.p, s.n) : NULL;
}

/* Writes every subscription's unsaved progress in one transaction. */
static void save_all(app_hooks *hs)
{
    int any = 0;
    for (size_t i = 0; i < hs->n; i++)
        any |= hs->v[i]->dirty;
    if (!any)
        return;
    int r = app_write_begin(hs->a);
    if (r != 0)
        return; /* degraded: the next save tries again */
    for (size_t i = 0; r == 0 && i < hs->n; i++) {
        hsub *s = hs->v[i];
        if (!s->dirty)
            continue;
        s->h.last_error = str_c(s->last_error ? s->last_error : "");
        r = store_hook_progress(hs->a->st, &s->h);
        s->h.last_error = STR_NULL;
        if (r == -ENOENT) /* deleted meanwhile: its reload follows */
            r = 0;
    }
    r = app_write_end(hs->a, r);
    if (r == 0)
        for (size_t i = 0; i < hs->n; i++)
            hs->v[i]->dirty = 0;
}

static void on_save(void *arg)
{
    app_hooks *hs = arg;
    hs->save_armed = 0;
    save_all(hs);
    for (size_t i = 0; i < hs->n; i++)
        if (hs->v[i]->dirty && !hs->save_armed) { /* degraded: try again */
            hs->save_armed = 1;
            net_timer_set(hs->save, HOOKS_STORE_RETRY_MS);
        }
}

static void mark_dirty(hsub *s)
{
    s->dirty = 1;
    if (!s->hs->save_armed) {
        s->hs->save_armed = 1;
        net_timer_set(s->hs->save, HOOKS_SAVE_MS);
    }
}

/* ---- delivery ----------------------------------------------------------- */

static void pump(hsub *s);

static void q_clear(hsub *s)
{
    for (size_t i = s->qh; i < s->qn; i++)
        free(s->q[i].body);
    s->qh = s->qn = 0;
}

static int feed_cb(void *arg, const store_feed_item *it)
{
    hsub *s = arg;
    s->rseq = it->seq;
    s->rsid = it->sid;
    int kind = api_hook_kind(it->type);
    if (kind < 0 || !(s->h.events & (1u << kind)))
        return 0;
    if (s->qn == s->qcap) {
        s->qcap = s->qcap ? s->qcap * 2 : HOOKS_READ;
        s->q = xrealloc(s->q, s->qcap * sizeof *s->q);
    }
    hook_item *q = &s->q[s->qn];
    q->seq = it->seq;
    q->sid = it->sid;
    q->kind = kind;
    q->body = api_hook_payload(it, s->h.masked, q->id, sizeof q->id);
    if (q->body)
        s->qn++;
    return 0;
}

/* Reads until something is wanted or the feed ends. 0, or -1 after a
 * store failure (retried by the timer). */
static int refill(hsub *s)
{
    s->qh = s->qn = 0;
    for (int round = 0; round < HOOKS_READS_TURN; round++) {
        int64_t seq = s->rseq, sid = s->rsid;
        if (store_feed(s->hs->a->st, seq, sid, HOOKS_READ, feed_cb, s) != 0) {
            q_clear(s);
            s->rseq = s->h.seq;
            s->rsid = s->h.sid;
            net_timer_set(s->timer, HOOKS_STORE_RETRY_MS);
            return -1;
        }
        if (s->qn)
            return 0;
        if (seq == s->rseq && sid == s->rsid)
            return 0; /* the end */
        /* read, none wanted: the cursor skips them */
        s->h.seq = s->rseq;
        s->h.sid = s->rsid;
        mark_dirty(s);
    }
    app_hooks_kick(s->hs); /* more next turn: the loop is not held */
    return 0;
}

static void attempt_done(hsub *s, int status, const char *err)
{
    int64_t now = loop_clock_wall();
    hook_item *q = &s->q[s->qh];
    s->h.last_status = status;
    s->h.last_at = now;
    if (status >= 200 && status < 300) {
        s->h.delivered++;
        s->attempts = 0;
        set_str(&s->last_error, STR_NULL);
        free(q->body);
        s->qh++;
        if (s->qh == s->qn) { /* everything read is delivered or skipped */
            s->qh = s->qn = 0;
            s->h.seq = s->rseq;
            s->h.sid = s->rsid;
        } else {
            s->h.seq = q->seq;
            s->h.sid = q->sid;
        }
        mark_dirty(s);
        pump(s);
        return;
    }
    s->h.failures++;
    s->attempts++;
    set_str(&s->last_error, str_c(err));
    mark_dirty(s);
    int64_t d = s->hs->c.backoff_ms;
    for (int i = 1; i < s->attempts && d < s->hs->c.backoff_max_ms; i++)
        d *= 2;
    if (d > s->hs->c.backoff_max_ms)
        d = s->hs->c.backoff_max_ms;
    char st[16], at[16], ds[24];
    snprintf(st, sizeof st, "%d", status);
    snprintf(at, sizeof at, "%d", s->attempts);
    snprintf(ds, sizeof ds, "%lld", (long long)d);
    log_kv(LOG_WARN, "webhook delivery failed: retrying", "webhook", s->name, "event", q->id,
           "status", st, "error", err, "attempt", at, "retry_ms", ds, NULL);
    net_timer_set(s->timer, d);
}

static void on_answer(void *arg, const net_http_result *r)
{
    hsub *s = arg;
    s->req = NULL;
    net_timer_set(s->timer, -1);
    char err[160];
    if (r->status == 0)
        snprintf(err, sizeof err, "no answer: %s", r->err ? r->err : "connection failed");
    else
        snprintf(err, sizeof err, "HTTP %d: %.*s", r->status,
                 (int)(r->body.n > 100 ? 100 : r->body.n), r->body.p ? r->body.p : "");
    for (char *c = err; *c; c++) /* the receiver's bytes: one printable line */
        if ((unsigned char)*c < 0x20 || *c == 0x7f)
            *c = ' ';
    attempt_done(s, r->status, err);
}

static void send_head(hsub *s)
{
    hook_item *q = &s->q[s->qh];
    char sig[96];
    str body = str_c(q->body);
    app_hooks_sign(str_c(s->secret), loop_clock_wall() / 1000, body, sig);
    const char *headers[] = {"Textdesk-Signature", sig, "Textdesk-Event-Id", q->id,
                             "Textdesk-Event", api_hook_kind_name(q->kind), NULL};
    net_http_opts o = {.method = "POST", .url = s->url, .content_type = "application/json",
                       .body = body, .headers = headers};
    s->req = net_http_request(s->hs->a->loop, &o, on_answer, s);
    if (!s->req) {
        attempt_done(s, 0, "the URL cannot be used (http[s]://HOST[:PORT]/path)");
        return;
    }
    net_timer_set(s->timer, s->hs->c.timeout_ms);
}

static void pump(hsub *s)
{
    if (s->req || s->attempts || s->hs->a->stopping)
        return; /* under way, or waiting for its retry */
    if (s->qh == s->qn && refill(s) != 0)
        return;
    if (s->qh < s->qn)
        send_head(s);
}

static void on_timer(void *arg)
{
    hsub *s = arg;
    if (s->req) { /* no answer in time */
        net_http_cancel(s->req);
        s->req = NULL;
        char err[64];
        snprintf(err, sizeof err, "no answer within %lld ms", (long long)s->hs->c.timeout_ms);
        attempt_done(s, 0, err);
        return;
    }
    if (s->attempts && s->qh < s->qn) { /* the retry */
        send_head(s);
        return;
    }
    pump(s); /* after a store failure */
}

static void on_kick(void *arg)
{
    app_hooks *hs = arg;
    for (size_t i = 0; i < hs->n; i++)
        pump(hs->v[i]);
}

void app_hooks_kick(app_hooks *hs)
{
    if (hs)
        net_timer_set(hs->kick, 0);
}

/* ---- subscriptions ------------------------------------------------------ */

static void sub_free(hsub *s)
{
    if (s->req)
        net_http_cancel(s->req);
    net_timer_free(s->timer);
    q_clear(s);
    free(s->q);
    free(s->name);
    free(s->url);
    free(s->secret);
    free(s->last_error);
    free(s);
}

typedef struct loaded {
    app_hooks *hs;
    hsub **keep; /* the new list */
    size_t n;
} loaded;

static int load_cb(void *arg, const store_hook *h)
{
    loaded *l = arg;
    app_hooks *hs = l->hs;
    hsub *s = NULL;
    for (size_t i = 0; i < hs->n; i++)
        if (hs->v[i] && hs->v[i]->h.id == h->id) {
            s = hs->v[i];
            hs->v[i] = NULL; /* kept */
        }
    if (!s) {
        s = xcalloc(1, sizeof *s);
        s->hs = hs;
        s->h = *h;
        s->h.name = s->h.url = s->h.secret = s->h.created_by = s->h.last_error = STR_NULL;
        s->name = xmemdup0(h->name.p, h->name.n);
        s->url = xmemdup0(h->url.p, h->url.n);
        s->secret = xmemdup0(h->secret.p, h->secret.n);
        set_str(&s->last_error, h->last_error);
        s->rseq = h->seq;
        s->rsid = h->sid;
        s->timer = net_timer_new(hs->a->loop, on_timer, s);
    }
    l->keep = xrealloc(l->keep, (l->n + 1) * sizeof *l->keep);
    l->keep[l->n++] = s;
    return 0;
}

void app_hooks_reload(app_hooks *hs)
{
    if (!hs)
        return;
    save_all(hs);
    loaded l = {hs, NULL, 0};
    if (store_hooks_all(hs->a->st, load_cb, &l) != 0) {
        /* keep delivering to what was known; put back what was taken */
        for (size_t i = 0, k = 0; i < hs->n; i++)
            if (!hs->v[i])
                hs->v[i] = l.keep[k++];
        free(l.keep);
        log_kv(LOG_WARN, "webhooks could not be read again", "error", store_errmsg(hs->a->st),
               NULL);
        return;
    }
    for (size_t i = 0; i < hs->n; i++)
        if (hs->v[i]) /* deleted */
            sub_free(hs->v[i]);
    free(hs->v);
    hs->v = l.keep;
    hs->n = l.n;
    app_hooks_kick(hs);
}

app_hooks *app_hooks_new(app *a)
{
    app_hooks *hs = xcalloc(1, sizeof *hs);
    hs->a = a;
    app_config_hooks(a->cfg, &hs->c);
    hs->kick = net_timer_new(a->loop, on_kick, hs);
    hs->save = net_timer_new(a->loop, on_save, hs);
    app_hooks_reload(hs);
    return hs;
}

void app_hooks_free(app_hooks *hs)
{
    if (!hs)
        return;
    save_all(hs);
    for (size_t i = 0; i < hs->n; i++)
        sub_free(hs->v[i]);
    free(hs->v);
    net_timer_free(hs->kick);
    net_timer_free(hs->save);
    free(hs);
}
