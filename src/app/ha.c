/*
 * ha: a node of an active/standby cluster (ha.h, docs/internals/ha.md).
 */
#include "app/ha.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "app/app.h"
#include "app/app_hooks.h"
#include "app/app_retention.h"
#include "app/gateways.h"
#include "store/store_lease.h"
#include "util/log.h"
#include "util/loop_clock.h"
#include "util/xalloc.h"

struct ha {
    app *a;
    store_lease *l;
    net_timer *timer;
    net_turn_start *wake; /* a leader checks its self-fence first in a turn */
    net_watch *io; /* the leadership session's socket, when the loop can watch it */
    int io_fd;
    char node[64];
    char leader[64];  /* the leading node as the database last said */
    int leads;
    int64_t epoch;    /* ours while leading; else the database's */
    uint64_t seen;    /* the last event applied to the core */
    uint64_t behind;  /* events behind the log when last woken (a follower) */
    uint64_t takeovers;
    int64_t last_answer, last_follow; /* loop_clock_mono */
    int replay_failed;
    ha_timing t;
    char *cmdline; /* /proc/self/cmdline: to start again when deposed */
    size_t cmdline_n;
};

int ha_name_ok(const char *name)
{
    size_t n = strlen(name);
    if (n == 0 || n > 63)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = name[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-'))
            return 0;
    }
    return 1;
}

int ha_timing_check(const ha_timing *t, char *err, size_t n)
{
    if (t->lease_ms < HA_LEASE_MIN || t->lease_ms > HA_LEASE_MAX) {
        snprintf(err, n, "ha.lease_ms %lld: use %d to %d milliseconds", (long long)t->lease_ms,
                 HA_LEASE_MIN, HA_LEASE_MAX);
        return -1;
    }
    if (t->step_ms < HA_STEP_MIN || t->step_ms > HA_STEP_MAX) {
        snprintf(err, n, "ha.step_ms %lld: use %d to %d milliseconds", (long long)t->step_ms,
                 HA_STEP_MIN, HA_STEP_MAX);
        return -1;
    }
    if (t->fence_ms < HA_FENCE_MIN || t->fence_ms >= t->lease_ms) {
        snprintf(err, n,
                 "ha.self_fence_ms %lld: use %d milliseconds or more, and less than ha.lease_ms"
                 " (%lld): a leader must stop acting before another node may take over",
                 (long long)t->fence_ms, HA_FENCE_MIN, (long long)t->lease_ms);
        return -1;
    }
    if (t->fence_ms < 3 * t->step_ms) {
        snprintf(err, n,
                 "ha.self_fence_ms %lld: at least three steps (ha.step_ms %lld): a leader"
                 " must hear a few beats before it stops",
                 (long long)t->fence_ms, (long long)t->step_ms);
        return -1;
    }
    return 0;
}

/* ---- following the log --------------------------------------------------- */

static int follow_one(void *arg, const cc_event *ev)
{
    ha *h = arg;
    int r = cc_replay(h->a->core, ev);
    if (r != 0) {
        h->replay_failed = 1;
        return r;
    }
    h->seen = ev->seq;
    return 0;
}

/* Applies the events after the last one seen, waiting for the data
 * connection (at the start and in a takeover only; a follower reads on its
 * session without waiting: step): 0, or the store's error. A log that
 * does not replay stops the process. */
static int follow(ha *h)
{
    app *a = h->a;
    uint64_t last = 0;
    if (store_last_seq(a->st, &last) == 0)
        h->behind = last > h->seen ? last - h->seen : 0;
    int r = store_events_after(a->st, h->seen, follow_one, h);
    if (h->replay_failed)
        app__fatal_store(a, "replaying the leader's events");
    return r;
}

/* ---- deposed ------------------------------------------------------------- */

void ha_deposed(app *a, const char *why)
{
    ha *h = a->ha;
    char e[24];
    snprintf(e, sizeof e, "%lld", (long long)h->epoch);
    log_kv(LOG_ERROR, "deposed: stopping at once, starting again as a standby", "node", h->node,
           "epoch", e, "why", why, NULL);
    fflush(NULL);
    char *argv[64];
    size_t n = 0;
    for (size_t i = 0; i < h->cmdline_n && n < 63; i += strlen(h->cmdline + i) + 1)
        argv[n++] = h->cmdline + i;
    argv[n] = NULL;
    /* every socket goes: gateways, SMPP binds, desktops, the listening
     * port, the database sessions (the lock with them) */
    close_range(3, ~0U, CLOSE_RANGE_CLOEXEC);
    if (n)
        execv("/proc/self/exe", argv);
    log_kv(LOG_ERROR, "cannot start again: exiting", "error", strerror(errno), NULL);
    _exit(75);
}

/* ---- taking over ----------------------------------------------------------- */

static void take_over(ha *h, int64_t epoch)
{
    app *a = h->a;
    int64_t t0 = loop_clock_mono_now();
    h->epoch = epoch;
    store_fence(a->st, epoch);
    /* the bump is committed: every commit of the old epoch is visible */
    if (follow(h) != 0)
        ha_deposed(a, "cannot read the log's tail");
    h->leads = 1;
    h->takeovers++;
    h->last_answer = loop_clock_mono();
    snprintf(h->leader, sizeof h->leader, "%s", h->node);
    a->standby = 0;
    char err[512];
    if (h->seen == 0) { /* a new cluster: the configuration seeds it */
        if (app_config_apply(a, a->cfg, err, sizeof err) != 0)
            ha_deposed(a, err);
    } else {
        if (app__outbox_recover(a, 1, "leader") < 0)
            ha_deposed(a, "cannot recover the outbox");
        app_apply(a, &(cc_cmd){.type = CC_CMD_RESTART});
    }
    if (app__gateways_open(a, err, sizeof err) != 0)
        ha_deposed(a, err);
    api_set_sim(a->api, a->sim);
    app__outbox_pump(a);
    /* the leader's own jobs: webhooks from their cursors, retention */
    a->hooks = app_hooks_new(a);
    a->retention = app_retention_new(a);
    char e[24], ms[24], seq[24];
    snprintf(e, sizeof e, "%lld", (long long)epoch);
    snprintf(ms, sizeof ms, "%lld", (long long)(loop_clock_mono_now() - t0));
    snprintf(seq, sizeof seq, "%llu", (unsigned long long)h->seen);
    log_kv(LOG_WARN, "leading", "node", h->node, "epoch", e, "takeover_ms", ms, "last_seq", seq,
           NULL);
    h->last_answer = loop_clock_mono_now(); /* the takeover's own time is no silence */
}

/* ---- the leadership session's step -------------------------------------- */

/* The loop watches the session's socket (when it can: net_watch_new), so
 * an answer, a notification or a tail's rows are read as they arrive; the
 * timer still steps every step_ms and sends the beat or the try. */
static void on_io(void *arg, int fd, int ev);

static void watch(ha *h, int lost)
{
    int want_write = 0;
    int fd = store_lease_fd(h->l, &want_write);
    if (lost || fd < 0 || fd != h->io_fd) {
        net_watch_free(h->io);
        h->io = NULL;
        h->io_fd = -1;
    }
    if (fd >= 0 && !h->io && (h->io = net_watch_new(h->a->loop, fd, on_io, h)) != NULL)
        h->io_fd = fd;
    if (h->io)
        net_watch_set(h->io, NET_WATCH_IN | (want_write ? NET_WATCH_OUT : 0));
}

static void step(ha *h, int beat)
{
    app *a = h->a;
    store_lease_news nw;
    store_lease_step(h->l, h->leads ? h->epoch : 0, h->seen, beat, &nw);
    int64_t now = loop_clock_mono();
    if (nw.answered) {
        h->last_answer = now;
        if (!h->leads) {
            h->epoch = nw.epoch;
            snprintf(h->leader, sizeof h->leader, "%s", nw.leader);
        }
    }
    if (nw.tail_done) {
        if (h->replay_failed)
            app__fatal_store(a, "replaying the leader's events");
        if (!nw.tail_failed)
            h->behind = nw.log_last > h->seen ? nw.log_last - h->seen : 0;
    }
    if (h->leads) {
        if (nw.lost)
            ha_deposed(a, "the leadership session was lost");
        if (nw.answered && nw.epoch != h->epoch)
            ha_deposed(a, "another node leads");
        if (now - h->last_answer > h->t.fence_ms)
            ha_deposed(a, "no answer from the database");
    } else if (nw.won > 0) {
        take_over(h, nw.won);
    } else if (nw.notified || nw.tail_more || now - h->last_follow >= HA_FOLLOW_MS) {
        /* read the tail on the session, without waiting (store_lease.h) */
        h->last_follow = now;
        store_lease_want_tail(h->l, h->seen);
    }
    if (nw.lost && !h->leads)
        log_kv(LOG_WARN, "leadership session lost: connecting again", "node", h->node, "error",
               store_lease_error(h->l), NULL);
    watch(h, nw.lost);
}

static void on_io(void *arg, int fd, int ev)
{
    (void)fd;
    (void)ev;
    step(arg, 0);
}

/* First in every turn of a leader: a loop that was stopped (SIGSTOP) or
 * blocked past the self-fence reads what its session got meanwhile and
 * stops if it is still without an answer, before anything else of the turn
 * runs: a send it had under way (a reply the new leader has marked in doubt
 * and gone past), a commit's confirmation, a desktop's command. The timer's
 * step alone came after them. */
static void on_wake(void *arg)
{
    ha *h = arg;
    if (h->leads && loop_clock_mono_now() - h->last_answer > h->t.fence_ms) {
        loop_clock_refresh(); /* this may run before the loop's own refresh */
        step(h, 0);           /* deposes unless an answer came meanwhile */
    }
}

static void on_tick(void *arg)
{
    ha *h = arg;
    step(h, 1);
    net_timer_set(h->timer, h->t.step_ms);
}

/* ---- life cycle ------------------------------------------------------------ */

int ha_open(app *a, const char *url, const char *node, char *err, size_t n)
{
    if (!store_url_is_pg(url)) {
        snprintf(err, n, "--node needs a PostgreSQL store (--store postgresql://...): the"
                         " nodes of a cluster share its database");
        return -1;
    }
    if (!ha_name_ok(node)) {
        snprintf(err, n, "--node '%s': use 1 to 63 letters, digits, '.', '_' or '-'", node);
        return -1;
    }
    ha_timing t = a->ha_timing ? *a->ha_timing : HA_TIMING_DEFAULT;
    if (ha_timing_check(&t, err, n) != 0)
        return -1;
    ha *h = xcalloc(1, sizeof *h);
    h->t = t;
    h->a = a;
    a->ha = h;
    a->standby = 1;
    snprintf(h->node, sizeof h->node, "%s", node);
    h->epoch = -1;
    store_fence(a->st, -1); /* a follower never commits */
    FILE *f = fopen("/proc/self/cmdline", "rb");
    if (f) {
        char cl[8192];
        h->cmdline_n = fread(cl, 1, sizeof cl - 1, f);
        cl[h->cmdline_n] = '\0';
        h->cmdline = xmemdup0(cl, h->cmdline_n);
        fclose(f);
    }
    if (follow(h) != 0) {
        snprintf(err, n, "%s store: cannot read the event log: %s", store_kind(a->st),
                 store_errmsg(a->st));
        return -1;
    }
    h->l = store_lease_new(url, node, h->t.lease_ms, h->t.fence_ms);
    store_lease_follow(h->l, a->st, follow_one, h);
    h->io_fd = -1;
    return 0;
}

void ha_start(app *a)
{
    ha *h = a->ha;
    h->timer = net_timer_new(a->loop, on_tick, h);
    h->wake = net_turn_start_new(a->loop, on_wake, h);
    h->last_follow = loop_clock_mono();
    net_timer_set(h->timer, 0);
    char lease[24], fence[24], step[24];
    snprintf(lease, sizeof lease, "%lld", (long long)h->t.lease_ms);
    snprintf(fence, sizeof fence, "%lld", (long long)h->t.fence_ms);
    snprintf(step, sizeof step, "%lld", (long long)h->t.step_ms);
    log_kv(LOG_INFO, "standing by", "node", h->node, "lease_ms", lease, "self_fence_ms", fence,
           "step_ms", step, NULL);
}

void ha_free(app *a)
{
    ha *h = a->ha;
    if (!h)
        return;
    net_timer_free(h->timer);
    net_turn_start_free(h->wake);
    net_watch_free(h->io);
    store_lease_free(h->l);
    free(h->cmdline);
    free(h);
    a->ha = NULL;
}

int ha_leads(const app *a)
{
    return !a->ha || a->ha->leads;
}

/* ---- HTTP -------------------------------------------------------------------- */

static void resp_json(http_resp *resp, int status, json_t *j)
{
    resp->status = status;
    char *s = json_dumps(j, JSON_COMPACT);
    if (s) {
        buf_add(&resp->body, s, strlen(s));
        free(s);
    }
    json_decref(j);
}

static void health(app *a, http_resp *resp)
{
    ha *h = a->ha;
    int ok = h->leads && app_store_available(a);
    resp_json(resp, ok ? 200 : 503,
              json_pack("{s:b, s:i, s:s, s:s, s:I, s:s, s:s}", "ok", ok, "protocol",
                        API_PROTOCOL_VERSION, "role", h->leads ? "leader" : "standby", "node",
                        h->node, "epoch", (json_int_t)h->epoch, "leader", h->leader, "store",
                        app_store_available(a) || !h->leads ? "available" : "unavailable"));
}

static void metrics(app *a, http_resp *resp)
{
    ha *h = a->ha;
    buf *b = &resp->body;
    const char *n = h->node;
    buf_printf(b, "# HELP textdesk_ha_leader 1 on the node that leads the cluster, 0 on a"
                  " standby\n# TYPE textdesk_ha_leader gauge\n");
    buf_printf(b, "textdesk_ha_leader{node=\"%s\"} %d\n", n, h->leads);
    buf_printf(b, "# HELP textdesk_ha_epoch The leadership epoch (the node's own while it"
                  " leads)\n# TYPE textdesk_ha_epoch gauge\n");
    buf_printf(b, "textdesk_ha_epoch{node=\"%s\"} %lld\n", n, (long long)h->epoch);
    buf_printf(b, "# HELP textdesk_ha_takeovers_total Takeovers by this node since it"
                  " started\n# TYPE textdesk_ha_takeovers_total counter\n");
    buf_printf(b, "textdesk_ha_takeovers_total{node=\"%s\"} %llu\n", n,
               (unsigned long long)h->takeovers);
    buf_printf(b, "# HELP textdesk_ha_events_behind Events of the log a standby had not"
                  " applied when it last woke up\n# TYPE textdesk_ha_events_behind gauge\n");
    buf_printf(b, "textdesk_ha_events_behind{node=\"%s\"} %llu\n", n,
               (unsigned long long)(h->leads ? 0 : h->behind));
}

void ha_http_request(void *arg, const http_req *req, http_resp *resp)
{
    app *a = arg;
    ha *h = a->ha;
    if (strcmp(req->path, "/api/health") == 0) {
        health(a, resp);
        return;
    }
    if (strcmp(req->path, "/metrics") == 0) {
        api_http_request(a->api, req, resp);
        if (resp->status == 200)
            metrics(a, resp);
        return;
    }
    /* A path no file answers is the 404 page on every node: a standby
     * serves the same files as the leader (the desktop, which waits there
     * for a leader: js/login_form.js), and a person who mistyped an
     * address reads where to go in their language, not the API's 503. */
    if (!h->leads && api_path(req->path)) { /* the load balancer sends clients to the leader */
        char m[256];
        snprintf(m, sizeof m, "node %s is a standby; the leader is %s: try again", h->node,
                 h->leader[0] ? h->leader : "not known yet");
        resp_json(resp, 503, json_pack("{s:s, s:s}", "error", "standby", "message", m));
        return;
    }
    api_http_request(a->api, req, resp);
}

int ha_ws_open(void *arg, const http_req *req, http_ws *ws, void **user)
{
    app *a = arg;
    if (!a->ha->leads)
        return 503;
    return api_ws_open(a->api, req, ws, user);
}

void ha_ws_message(void *arg, http_ws *ws, void *user, str data)
{
    app *a = arg;
    api_ws_message(a->api, ws, user, data);
}

void ha_ws_close(void *arg, http_ws *ws, void *user)
{
    app *a = arg;
    api_ws_close(a->api, ws, user);
}
