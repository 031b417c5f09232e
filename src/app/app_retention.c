/*
 * app_retention.c: the retention job (app_retention.h).
 */
#include "app/app_retention.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/log.h"
#include "util/loop_clock.h"
#include "util/xalloc.h"

/* One policy of a run: the entry point it is for (0: the site's, for every
 * entry point without its own), its cutoff and cursor. */
typedef struct ret_policy {
    uint32_t ep;
    int64_t cutoff, cursor;
    int done, orphans_done;
} ret_policy;

struct app_retention {
    app *a;
    net_timer *timer;
    int running;
    api_retention pol;
    ret_policy p[API_RETENTION_EPS + 1];
    size_t np;
    size_t convs, msgs, orphans; /* this run's */
    int64_t started;
    int64_t batch_max_ms; /* the longest batch: how long it held the loop */
};

static int has_own(const app_retention *r, uint32_t ep)
{
    for (size_t i = 0; i < r->pol.neps; i++)
        if (r->pol.ep[i] == ep)
            return 1;
    return 0;
}

static void cursors_load(app_retention *r)
{
    char v[4096];
    json_t *j = store_setting_get(r->a->st, STR_LIT("retention_cursors"), v, sizeof v) == 0
                    ? json_loads(v, 0, NULL)
                    : NULL;
    for (size_t i = 0; i < r->np; i++) {
        char k[16];
        snprintf(k, sizeof k, "%u", r->p[i].ep);
        r->p[i].cursor = json_integer_value(json_object_get(j, k));
    }
    json_decref(j);
}

static int cursors_save(app_retention *r)
{
    json_t *j = json_object();
    for (size_t i = 0; i < r->np; i++) {
        char k[16];
        snprintf(k, sizeof k, "%u", r->p[i].ep);
        json_object_set_new(j, k, json_integer(r->p[i].cursor));
    }
    char *s = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(j);
    int rc = store_setting_put(r->a->st, STR_LIT("retention_cursors"), str_c(s));
    free(s);
    return rc;
}

typedef struct batch {
    app_retention *r;
    ret_policy *p;
    uint32_t conv[APP_RETENTION_BATCH];
    int64_t seq[APP_RETENTION_BATCH];
    size_t n, seen;
    int64_t last;
    int stop;
} batch;

static int closed_cb(void *arg, const store_closed *c)
{
    batch *b = arg;
    b->seen++;
    if (c->at >= b->p->cutoff) { /* later ones ended later still: wait for them */
        b->stop = 1;
        return 1;
    }
    b->last = c->seq;
    int mine = b->p->ep ? c->ep == b->p->ep : !has_own(b->r, c->ep);
    if (mine)
        b->conv[b->n++] = c->conv;
    return 0;
}

/* One batch of one policy, in one transaction. 0, 1 when that policy is
 * done, or -1 when the store failed. */
static int one_batch_timed(app_retention *r, ret_policy *p);

static int one_batch(app_retention *r, ret_policy *p)
{
    int64_t t0 = loop_clock_mono_now();
    int d = one_batch_timed(r, p);
    int64_t ms = loop_clock_mono_now() - t0;
    if (ms > r->batch_max_ms)
        r->batch_max_ms = ms;
    return d;
}

static int one_batch_timed(app_retention *r, ret_policy *p)
{
    batch b = {.r = r, .p = p, .last = p->cursor};
    if (store_closed_since(r->a->st, p->cursor, APP_RETENTION_BATCH, closed_cb, &b) < 0)
        return -1;
    if (b.last == p->cursor && (p->ep != 0 || p->orphans_done))
        return 1;
    int w = app_write_begin(r->a);
    if (w != 0)
        return -1;
    size_t msgs = 0;
    int rc = 0;
    if (p->ep == 0 && !p->orphans_done) { /* refused SMS: by the site's days */
        rc = store_orphans_forget(r->a->st, p->cutoff);
        if (rc >= 0) {
            r->orphans += (size_t)rc;
            p->orphans_done = 1;
            rc = 0;
        }
    }
    for (size_t i = 0; rc == 0 && i < b.n; i++)
        rc = api_privacy_forget_conv(r->a->st, b.conv[i], &msgs);
    int64_t before = p->cursor;
    p->cursor = b.last;
    if (rc == 0)
        rc = cursors_save(r);
    if (app_write_end(r->a, rc) != 0) {
        p->cursor = before;
        return -1;
    }
    r->convs += b.n;
    r->msgs += msgs;
    return b.stop || b.seen < APP_RETENTION_BATCH;
}

static void finish(app_retention *r, int ok)
{
    r->running = 0;
    char v[256], c[24], m[24], bm[24];
    snprintf(v, sizeof v,
             "{\"started_at\":%lld,\"finished_at\":%lld,\"conversations\":%zu,"
             "\"messages\":%zu,\"refused_sms\":%zu,\"batch_max_ms\":%lld,\"ok\":%s}",
             (long long)r->started, (long long)app_now(r->a), r->convs, r->msgs, r->orphans,
             (long long)r->batch_max_ms, ok ? "true" : "false");
    int w = app_write_begin(r->a);
    if (w == 0)
        app_write_end(r->a, store_setting_put(r->a->st, STR_LIT("retention_last"), str_c(v)));
    if (r->msgs)
        store_scrub(r->a->st);
    snprintf(c, sizeof c, "%zu", r->convs);
    snprintf(m, sizeof m, "%zu", r->msgs);
    snprintf(bm, sizeof bm, "%lld", (long long)r->batch_max_ms);
    log_kv(ok ? LOG_INFO : LOG_WARN, ok ? "retention: texts deleted" : "retention: stopped by"
                                                                       " the store",
           "conversations", c, "messages", m, "batch_max_ms", bm, NULL);
    net_timer_set(r->timer, APP_RETENTION_DAY_MS);
}

static void start(app_retention *r)
{
    r->running = 1;
    r->convs = r->msgs = r->orphans = 0;
    r->batch_max_ms = 0;
    r->started = app_now(r->a);
    r->np = 0;
    if (api_retention_policy(r->a->st, &r->pol) != 0) {
        finish(r, 0);
        return;
    }
    int64_t now = app_now(r->a);
    if (r->pol.days > 0)
        r->p[r->np++] = (ret_policy){.ep = 0, .cutoff = now - r->pol.days * APP_RETENTION_DAY_MS};
    for (size_t i = 0; i < r->pol.neps; i++)
        if (r->pol.ep_days[i] > 0)
            r->p[r->np++] = (ret_policy){
                .ep = r->pol.ep[i], .cutoff = now - r->pol.ep_days[i] * APP_RETENTION_DAY_MS};
    cursors_load(r);
}

static void on_timer(void *arg)
{
    app_retention *r = arg;
    if (!r->running)
        start(r);
    if (!r->running)
        return;
    /* one batch per turn: the loop runs in between */
    for (size_t i = 0; i < r->np; i++) {
        ret_policy *p = &r->p[i];
        if (p->done)
            continue;
        int d = one_batch(r, p);
        if (d < 0) {
            finish(r, 0);
            return;
        }
        p->done = d;
        net_timer_set(r->timer, 0);
        return;
    }
    finish(r, 1);
}

app_retention *app_retention_new(app *a)
{
    app_retention *r = xcalloc(1, sizeof *r);
    r->a = a;
    r->timer = net_timer_new(a->loop, on_timer, r);
    net_timer_set(r->timer, APP_RETENTION_FIRST_MS);
    return r;
}

void app_retention_run(app_retention *r)
{
    if (r && !r->running)
        net_timer_set(r->timer, 0);
}

void app_retention_free(app_retention *r)
{
    if (!r)
        return;
    net_timer_free(r->timer);
    free(r);
}
