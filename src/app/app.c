#include "app/app.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "app/app_hooks.h"
#include "app/app_retention.h"
#include "app/gateways.h"
#include "app/ha.h"
#include "sms/sms_text.h"
#include "util/log.h"
#include "util/loop_clock.h"
#include "util/xalloc.h"

/* Stops the process: degraded mode cannot absorb this failure. */
void app__fatal_store(app *a, const char *what)
{
    log_kv(LOG_ERROR, "store failure: stopping (a restart recovers everything committed)",
           "while", what, "error", a->st ? store_errmsg(a->st) : "?", NULL);
    _exit(70);
}

int64_t app_now(app *a)
{
    return a->clock_epoch + loop_clock_mono();
}

int app_store_available(const app *a)
{
    return !a->degraded;
}

static void arm_core_timer(app *a)
{
    if (!a->core_timer)
        return;
    int64_t due = cc_next_deadline(a->core);
    if (due == INT64_MAX || a->degraded || a->standby) { /* parked until the resume */
        net_timer_set(a->core_timer, -1);
        return;
    }
    int64_t d = due - app_now(a);
    net_timer_set(a->core_timer, d < 0 ? 0 : d);
}

static void on_outbox_timer(void *arg)
{
    app__outbox_pump(arg);
}

/* ---- the durable path -------------------------------------------------- */


void app__want_flush(app *a)
{
    if (a->flush_timer) {
        if (a->flush_armed != 1) { /* not yet, or at the window's end: now */
            a->flush_armed = 1;
            net_timer_set(a->flush_timer, 0);
        }
    } else if (!a->degraded && !a->stopping)
        app_flush(a); /* not serving yet (first start, tests): commit now */
    /* stopping (app_close, its timers gone): what the closing desktops'
     * disconnects stage waits for app_close's last app_flush, one
     * transaction for all of them instead of one commit (an fsync) each */
}

/* The commit window (app.h). At a moderate rate of inbound SMS (2,000 a
 * second) each commit held one or two, and each is an fsync, some twenty
 * WAL writes and half a dozen lock calls: most of what an SMS cost. The
 * window trades at most APP_COMMIT_WINDOW_MS of latency for fewer of them;
 * it never opens when the server was idle (the last commit ended longer
 * ago), at a high rate (the last commit was large) or on a store that
 * commits without the loop waiting (PostgreSQL: what comes meanwhile
 * shares the next commit anyway). Answers still wait for the commit. */
static int window_opens(app *a)
{
    if (a->async_commit || a->degraded || a->stopping || a->staged.n >= APP_COMMIT_WINDOW_EVENTS ||
        a->last_commit_events >= APP_COMMIT_WINDOW_EVENTS ||
        loop_clock_mono() - a->last_commit_end > APP_COMMIT_WINDOW_MS)
        return 0;
    if (a->window_skip) {
        a->window_skip--;
        return 0;
    }
    return 1;
}

/* What app_apply staged asks for a commit: through the window. */
static void want_flush_staged(app *a)
{
    if (!a->flush_timer || a->flush_armed == 1) {
        app__want_flush(a);
        return;
    }
    if (a->flush_armed == 2) { /* open: note who came later; full, commit now */
        a->window_gain |= net_loop_turns(a->loop) != a->window_turn;
        if (a->staged.n >= APP_COMMIT_WINDOW_EVENTS)
            app__want_flush(a);
        return;
    }
    if (!window_opens(a)) {
        app__want_flush(a);
        return;
    }
    a->flush_armed = 2;
    a->window_turn = net_loop_turns(a->loop);
    a->window_gain = 0;
    net_timer_set(a->flush_timer, APP_COMMIT_WINDOW_MS);
}

/* The flush timer fired: a window that gained nothing makes the next ones
 * skip (app.h). */
static void window_close(app *a)
{
    if (a->flush_armed == 2) {
        if (a->window_gain)
            a->window_backoff = 0;
        else {
            a->window_skip = a->window_backoff ? a->window_backoff : 1;
            a->window_backoff = a->window_skip * 2 > APP_COMMIT_WINDOW_SKIP_MAX
                                    ? APP_COMMIT_WINDOW_SKIP_MAX
                                    : a->window_skip * 2;
        }
    }
    a->flush_armed = 0;
}

static void stage(app *a)
{
    for (size_t i = 0; i < a->ev.n; i++)
        cc_evlog_add(&a->staged, &a->ev.v[i]);
    if (a->ev.n)
        want_flush_staged(a);
}

static void waiters_add(app_waiters *l, void (*fn)(void *, int), void *arg)
{
    if (l->n == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 16;
        l->v = xrealloc(l->v, l->cap * sizeof *l->v);
    }
    l->v[l->n++] = (app_waiter){fn, arg};
}

/* Runs the waiters of 'l' with 'status'; those they register wait for a
 * later commit. */
static void waiters_run(app_waiters *l, int status)
{
    app_waiters w = *l;
    *l = (app_waiters){0};
    for (size_t i = 0; i < w.n; i++)
        w.v[i].fn(w.v[i].arg, status);
    free(w.v);
}

static int replay_one(void *arg, const cc_event *ev);

/* The core as the committed event log says (after a failed commit whose
 * events it had applied). The store's reads work while its writes fail: a
 * full disk or another process's write lock do not stop WAL readers. A
 * database that is unreachable cannot be read either: then the core is
 * rebuilt when it is back, before anything resumes (degraded mode refuses
 * every command meanwhile). */
static void rebuild_core(app *a)
{
    cc *c = cc_new();
    int r = store_events_replay(a->st, replay_one, c);
    if (r == -ENOTCONN) {
        cc_free(c);
        a->stale_core = 1;
        return;
    }
    if (r != 0) {
        cc_free(c);
        app__fatal_store(a, "reading the event log back after a failed commit");
    }
    a->stale_core = 0;
    cc_free(a->core);
    a->core = c;
    app__outbox_forget_all(a);
    if (a->api)
        api_set_core(a->api, c);
}

void app__store_failed(app *a, const char *what)
{
    a->store_failures++;
    if (!a->degraded) {
        a->degraded = 1;
        a->degraded_since = app_now(a);
        log_kv(LOG_ERROR,
               "store unavailable: refusing new work until a write succeeds (degraded mode)",
               "while", what, "error", store_errmsg(a->st), NULL);
        if (a->core_timer)
            net_timer_set(a->core_timer, -1);
    }
    if (a->probe_timer)
        net_timer_set(a->probe_timer, APP_PROBE_MS);
}

/* A write of the durable path failed and was rolled back: nothing of it
 * and nothing staged since is kept, the core goes back to the log, the
 * waiters are refused. */
static void commit_failed(app *a, const char *what)
{
    int had_events = a->staged.n > 0 || a->committing.n > 0;
    a->commits.failures++;
    cc_evlog_free(&a->staged);
    cc_evlog_init(&a->staged);
    cc_evlog_free(&a->committing);
    cc_evlog_init(&a->committing);
    app__outbox_failed(a);
    app__store_failed(a, what);
    if (had_events)
        rebuild_core(a);
    waiters_run(&a->confirm, -CC_E_STORE);
    waiters_run(&a->next, -CC_E_STORE);
}

/* One transaction: the staged events, the outbox's writes and, when
 * probing, one small row that proves the store takes writes again. Returns
 * 0, or the store's error with '*what' set, rolled back. */
static int commit_all(app *a, int probe, const char **what, int *started)
{
    int r = store_begin(a->st);
    if (r != 0) {
        *what = "beginning a transaction";
        return r;
    }
    for (size_t i = 0; i < a->committing.n; i++)
        if ((r = store_event_append(a->st, &a->committing.v[i])) != 0) {
            *what = "appending an event";
            goto fail;
        }
    if ((r = app__outbox_write(a)) != 0) {
        *what = "writing the outbox";
        goto fail;
    }
    if (probe) {
        char v[24];
        snprintf(v, sizeof v, "%lld", (long long)loop_clock_wall());
        if ((r = store_setting_put(a->st, STR_LIT("store_probe"), str_c(v))) != 0) {
            *what = "probing the store";
            goto fail;
        }
    }
    /* serving: without waiting where the store can (PostgreSQL); the loop
     * polls for the confirmation (app__commit_poll) */
    if (a->async_commit && !a->stopping) {
        r = store_commit_start(a->st);
        if (r == 0) {
            *started = a->async_started = 1;
            return 0;
        }
        if (r != -ENOTSUP) {
            *what = "committing";
            goto fail;
        }
        a->async_commit = 0; /* SQLite: its commit is synchronous */
    }
    if ((r = store_commit(a->st)) != 0) {
        *what = "committing";
        goto fail;
    }
    return 0;
fail:
    store_rollback(a->st);
    return r;
}

static void resume(app *a)
{
    if (a->stale_core)
        rebuild_core(a); /* what the unreachable database kept, before anything else */
    if (a->stale_core) { /* gone again: stay degraded, the probe tries again */
        app__store_failed(a, "reading the event log back after the database came back");
        return;
    }
    char ms[24], n[24];
    snprintf(ms, sizeof ms, "%lld", (long long)(app_now(a) - a->degraded_since));
    snprintf(n, sizeof n, "%llu", (unsigned long long)a->store_failures);
    a->degraded = 0;
    log_kv(LOG_WARN, "store available again: resuming", "degraded_ms", ms, "failures_total", n,
           NULL);
    app__outbox_pump(a); /* what waited while parked */
    if (a->api)          /* desktops that came or went meanwhile */
        api_reconcile(a->api);
}

/* The group commit, in two steps (app.h): flush starts the transaction
 * with what is staged and hands the waiters of the next commit over to it;
 * app__commit_confirmed, once the store confirms (SQLite at once, its
 * commit is synchronous; PostgreSQL a loop turn or more later, polled by
 * app__commit_poll after store_commit_start), publishes, sends and
 * releases those waiters. One
 * transaction is in flight at a time: a flush asked for meanwhile runs
 * after the confirmation. */
static void run_commit(app *a, int probe);

static void flush(app *a, int probe)
{
    if (a->in_flight) {
        a->flush_again = 1;
        return;
    }
    if (a->degraded && !probe)
        return;
    if (!a->staged.n && !probe && !app__outbox_dirty(a)) {
        arm_core_timer(a);
        waiters_run(&a->next, 0); /* their work is committed already */
        return;
    }
    cc_evlog t = a->committing; /* empty: swapped, the buffers reused */
    a->committing = a->staged;
    a->staged = t;
    app_waiters w = a->confirm; /* empty likewise */
    a->confirm = a->next;
    a->next = w;
    a->in_flight = 1;
    /* a reply costs one commit before it leaves: the pump marks it
     * SUBMITTING in the transaction that stores it */
    for (size_t i = 0; i < a->committing.n; i++)
        if (a->committing.v[i].type == CC_EV_MSG_OUT) {
            app__outbox_pump_here(a);
            break;
        }
    a->retried = 0;
    a->commit_t0 = loop_clock_mono_us_now();
    run_commit(a, probe);
}

/* A transaction that never began (store_unsent: its connection died while
 * idle, which only the pipeline's answers showed) is run once more at once,
 * on a new connection, rather than through degraded mode: nothing of it
 * was kept, nobody was answered. Its outbox marks are made again. */
static int retry_unsent(app *a, int r)
{
    if (r != -ENOTCONN || !store_unsent(a->st) || a->retried || a->degraded || a->stopping)
        return 0;
    a->retried = 1;
    log_kv(LOG_WARN, "the database connection was lost while idle: committing again",
           "error", store_errmsg(a->st), NULL);
    app__outbox_failed(a);
    return 1;
}

static void on_commit_io(void *arg, int fd, int ev)
{
    (void)fd;
    (void)ev;
    app__commit_poll(arg);
}

/* Runs the transaction of flush: started (PostgreSQL: its connection's
 * socket is watched for the answer, app__commit_poll), or done. */
static void run_commit(app *a, int probe)
{
    const char *what = "committing";
    int started = 0, r = commit_all(a, probe, &what, &started);
    if (started) { /* confirmed later, by app__commit_poll */
        if (a->commit_timer) {
            int fd = store_commit_fd(a->st);
            a->commit_io = fd >= 0 ? net_watch_new(a->loop, fd, on_commit_io, a) : NULL;
            if (a->commit_io)
                net_watch_set(a->commit_io, NET_WATCH_IN);
            /* without a watch, poll; with one, a slow poll as a safety net */
            net_timer_set(a->commit_timer, a->commit_io ? APP_COMMIT_POLL_MS : 1);
        }
        return;
    }
    if (retry_unsent(a, r)) {
        run_commit(a, 0);
        return;
    }
    app__commit_confirmed(a, r, what);
}

int app__commit_poll(app *a)
{
    if (!a->in_flight || !a->async_started)
        return 1;
    int done = 0, r = store_commit_finish(a->st, &done);
    if (!done)
        return 0;
    a->async_started = 0;
    net_watch_free(a->commit_io);
    a->commit_io = NULL;
    if (retry_unsent(a, r)) {
        run_commit(a, 0);
        return !a->async_started;
    }
    app__commit_confirmed(a, r, "committing");
    return 1;
}

static void on_commit_timer(void *arg)
{
    app *a = arg;
    if (!app__commit_poll(a))
        net_timer_set(a->commit_timer, a->commit_io ? APP_COMMIT_POLL_MS : 1);
}

/* Waits for the transaction in flight (stopping). */
static void commit_wait(app *a)
{
    while (!app__commit_poll(a))
        usleep(1000);
}

void app__commit_confirmed(app *a, int status, const char *what)
{
    a->in_flight = 0;
    if (status == -ESTALE && a->ha) /* refused by the fence: another node leads */
        ha_deposed(a, "a commit was refused: another node leads");
    if (status != 0) {
        commit_failed(a, what);
    } else {
        api_commit_stats_add(&a->commits, loop_clock_mono_us_now() - a->commit_t0);
        a->last_commit_end = loop_clock_mono();
        a->last_commit_events = a->committing.n;
        if (a->degraded)
            resume(a);
        if (a->committing.n) {
            cc_events batch = {a->committing.v, a->committing.n, a->committing.cap};
            if (a->api)
                api_publish(a->api, &batch);
            else if (a->metrics) /* before app_listen: counted for api_new */
                api_metrics_count(a->metrics, &batch);
            cc_evlog_free(&a->committing);
            cc_evlog_init(&a->committing);
        }
        app__outbox_committed(a); /* statuses to desktops, sends */
        app_hooks_kick(a->hooks);  /* what the webhooks may want */
        arm_core_timer(a);
        /* waiters may apply more commands: those go to the next commit */
        waiters_run(&a->confirm, 0);
    }
    if (a->flush_again) {
        a->flush_again = 0;
        app__want_flush(a);
    }
}

void app_flush(app *a)
{
    flush(a, 0);
}

static void on_flush_timer(void *arg)
{
    window_close(arg);
    app_flush(arg);
}

static void on_probe_timer(void *arg)
{
    app *a = arg;
    if (a->degraded)
        flush(a, 1); /* failing, it arms the probe again */
}

void app_after_commit(app *a, void (*fn)(void *, int), void *arg)
{
    /* while degraded nothing is staged (commands are refused), and the
     * outbox's pending statuses wait for the resume: answer now */
    if (a->staged.n == 0 && (a->degraded || !app__outbox_dirty(a))) {
        if (a->in_flight) /* what it waits for may be in that transaction */
            waiters_add(&a->confirm, fn, arg);
        else
            fn(arg, 0);
        return;
    }
    waiters_add(&a->next, fn, arg);
    /* staged events asked for their commit (maybe through the window);
     * the outbox's statuses alone ask now */
    if (a->flush_timer && a->staged.n == 0)
        app__want_flush(a);
}

int app_write_begin(app *a)
{
    if (a->degraded || a->standby)
        return -CC_E_STORE;
    if (store_begin(a->st) != 0) {
        app__store_failed(a, "beginning a write");
        return -CC_E_STORE;
    }
    return 0;
}

int app_write_end(app *a, int r)
{
    if (store_msg_edits(a->st) != a->msg_edits) { /* retention, erasure: messages changed */
        a->msg_edits = store_msg_edits(a->st);
        app__outbox_forget_all(a);
    }
    if (r == 0 && (r = store_commit(a->st)) == 0)
        return 0;
    store_rollback(a->st);
    if (r == -ESTALE && a->ha)
        ha_deposed(a, "a write was refused: another node leads");
    if (!store_failed(r))
        return r; /* an answer about the data (-EEXIST, -ENOENT, ...) */
    app__store_failed(a, "writing");
    return -CC_E_STORE;
}

static void purge_sessions(app *a)
{
    int r = app_write_begin(a), n = 0;
    if (r == 0) {
        n = store_session_purge(a->st, loop_clock_wall());
        r = app_write_end(a, n < 0 ? n : 0);
    }
    if (r == 0 && n > 0) {
        char n_s[16];
        snprintf(n_s, sizeof n_s, "%d", n);
        log_kv(LOG_INFO, "expired sessions purged", "count", n_s, NULL);
    }
}

/* The supervisors' live feed: what changed, pushed at most every
 * API_FEED_MS (api_feed_flush). */
static void on_feed_timer(void *arg)
{
    app *a = arg;
    api_feed_flush(a->api);
    net_timer_set(a->feed_timer, API_FEED_MS);
}

static void on_purge_timer(void *arg)
{
    app *a = arg;
    purge_sessions(a);
    net_timer_set(a->purge_timer, APP_PURGE_MS);
}

int app_apply(app *a, const cc_cmd *cmd)
{
    if (a->degraded || a->standby) /* refused, not queued: nothing could be kept */
        return -CC_E_STORE;
    /* a gateway retry older than the core's de-duplication window: the
     * store still knows it. Asked only once that window dropped an id: until
     * then the core knows every id of the log (on PostgreSQL a read is a
     * round trip the loop would wait for, per inbound SMS) */
    if (cmd->type == CC_CMD_SMS_IN && cmd->msg_id.n && !cc_dedupe_complete(a->core) &&
        store_inbound_exists(a->st, cmd->msg_id) > 0)
        return CC_DUPLICATE;
    cc_cmd kwcmd;
    if (cmd->type == CC_CMD_SMS_IN && a->nkw) { /* STOP / START / HELP */
        kwcmd = *cmd;
        enum sms_keyword_kind k = sms_keyword_classify(cmd->text.p, cmd->text.n, a->kw, a->nkw);
        kwcmd.keyword = k == SMS_KW_STOP    ? CC_KW_STOP
                        : k == SMS_KW_START ? CC_KW_START
                        : k == SMS_KW_HELP  ? CC_KW_HELP
                                            : CC_KW_NONE;
        cmd = &kwcmd;
    }
    cc_events_clear(&a->ev);
    int r = cc_apply(a->core, cmd, app_now(a), &a->ev);
    if (r < 0 && cmd->type == CC_CMD_SMS_IN) {
        /* refused by the core (no such entry point, bad text): kept, never
         * dropped; the gateway is answered at once, so it is written now */
        log_kv(LOG_WARN, "inbound SMS refused; kept in inbound_orphans", "reason",
               cc_err_code(r), NULL);
        int w = app_write_begin(a);
        if (w == 0)
            w = app_write_end(a, store_inbound_orphan(a->st, loop_clock_wall(), cmd->number,
                                                      cmd->ep_number, cmd->text, cmd->msg_id,
                                                      str_c(cc_err_code(r))));
        if (w != 0)
            return -CC_E_STORE; /* not kept: the gateway sends it again */
    }
    if (r != 0)
        return r;
    stage(a);
    return 0;
}

void app__core_tick(app *a)
{
    if (a->degraded || a->standby)
        return;
    cc_events_clear(&a->ev);
    cc_tick(a->core, app_now(a), &a->ev);
    stage(a);
    if (a->ev.n == 0)
        arm_core_timer(a);
}

static void on_core_timer(void *arg)
{
    app__core_tick(arg);
}

/* ---- life cycle -------------------------------------------------------- */

static int replay_one(void *arg, const cc_event *ev)
{
    return cc_replay(arg, ev);
}

/* app_open's one pass over the log: the core, and /metrics' totals */
static int replay_start(void *arg, const cc_event *ev)
{
    app *a = arg;
    int r = cc_replay(a->core, ev);
    if (r == 0)
        api_metrics_count(a->metrics, &(cc_events){.v = (cc_event *)ev, .n = 1, .cap = 1});
    return r;
}

int app_open(app *a, const char *store_url, const app_config *cfg, char *err, size_t n)
{
    a->cfg = cfg;
    const char *off = getenv("TEXTDESK_CLOCK_OFFSET_MS");
    loop_clock_set_offset(off ? strtoll(off, NULL, 10) : 0);
    /* the core's clock: the wall clock now, then monotonic (app.h) */
    a->clock_epoch = loop_clock_wall() - loop_clock_mono();
    a->core = cc_new();
    a->kw = xcalloc(128, sizeof *a->kw);
    a->nkw = app_config_keywords(cfg, a->kw, 128);
    cc_events_init(&a->ev);
    cc_evlog_init(&a->staged);
    cc_evlog_init(&a->committing);
    a->st = store_open(store_url, err, n);
    /* a node of a cluster waits for the database (restarted, failing
     * over): its peers serve meanwhile */
    for (int i = 0; !a->st && a->node && i < HA_OPEN_WAIT_S; i++) {
        log_kv(LOG_WARN, "cannot open the store: trying again in a second", "error", err, NULL);
        sleep(1);
        a->st = store_open(store_url, err, n);
    }
    if (!a->st)
        return -1;
    if (a->node) /* a standby: follows the log, writes nothing (app/ha.h) */
        return ha_open(a, store_url, a->node, err, n);
    uint64_t last = 0;
    store_last_seq(a->st, &last);
    if (last == 0)
        return app_config_apply(a, cfg, err, n);
    a->metrics = api_metrics_new();
    int r = store_events_replay(a->st, replay_start, a);
    if (r != 0) {
        snprintf(err, n, "%s store: the event log does not replay (%s): refusing to start",
                 store_kind(a->st),
                 r < 0 ? cc_err_code(r) : "store error");
        return -1;
    }
    (void)app__outbox_recover(a, 0, "process");
    app_apply(a, &(cc_cmd){.type = CC_CMD_RESTART});
    return 0;
}

static int env_apply(void *a, const cc_cmd *cmd)
{
    return app_apply(a, cmd);
}

static void env_after_commit(void *a, void (*fn)(void *, int), void *arg)
{
    app_after_commit(a, fn, arg);
}

static int64_t env_now(void *a)
{
    return app_now(a);
}

static int env_store_available(void *a)
{
    return app_store_available(a);
}

static int env_gateway_known(void *a, str id)
{
    return app__gateway_known(a, id);
}

static gw *env_gateway(void *a, str id)
{
    return app__gateway(a, id);
}

static int env_write_begin(void *a)
{
    return app_write_begin(a);
}

static int env_write_end(void *a, int r)
{
    return app_write_end(a, r);
}

static void env_hooks_changed(void *a)
{
    app_hooks_reload(((app *)a)->hooks);
}

static void env_retention_run(void *a)
{
    app_retention_run(((app *)a)->retention);
}

int app_listen(app *a, const http_cfg *hc, char *err, size_t n)
{
    api_env env = {.core = a->core,
                   .st = a->st,
                   .app = a,
                   .apply = env_apply,
                   .after_commit = env_after_commit,
                   .now = env_now,
                   .store_available = env_store_available,
                   .gateway_known = env_gateway_known,
                   .gateway = env_gateway,
                   .write_begin = env_write_begin,
                   .write_end = env_write_end,
                   .hooks_changed = env_hooks_changed,
                   .retention_run = env_retention_run,
                   .metrics = a->metrics,
                   .commits = &a->commits};
    a->loop = net_loop_new(hc->tls_cert && hc->tls_key, err, n);
    /* a node of a cluster opens its gateways when it leads (app/ha.h) */
    if (!a->loop || (!a->ha && app__gateways_open(a, err, n) != 0))
        return -1;
    env.sim = a->sim;
    a->metrics = NULL; /* api_new takes them, even when it fails */
    a->api = api_new(&env);
    if (!a->api) {
        snprintf(err, n, "libsodium failed to initialise, or the event log cannot be read");
        return -1;
    }
    if (api_set_sso(a->api, a->loop, a->cfg ? app_config_sso(a->cfg) : NULL, err, n) != 0 ||
        (!a->ha && api_sso_check_teams(a->api, err, n) != 0)) /* a standby: no site yet */
        return -1;
    netaddr proxies[APP_TRUSTED_PROXIES_MAX];
    api_set_trusted_proxies(a->api, proxies,
                            app_config_trusted_proxies(a->cfg, proxies, APP_TRUSTED_PROXIES_MAX));
    http_handlers h = {a->api, api_http_request, api_ws_open, api_ws_message, api_ws_close};
    if (a->ha) /* health with the node's role; 503 on a standby */
        h = (http_handlers){a, ha_http_request, ha_ws_open, ha_ws_message, ha_ws_close};
    a->http = http_new(a->loop, hc, &h, err, n);
    if (!a->http)
        return -1;
    api_reports_loop(a->api, a->loop); /* reports fold a chunk per turn */
    a->core_timer = net_timer_new(a->loop, on_core_timer, a);
    a->outbox_timer = net_timer_new(a->loop, on_outbox_timer, a);
    a->flush_timer = net_timer_new(a->loop, on_flush_timer, a);
    a->probe_timer = net_timer_new(a->loop, on_probe_timer, a);
    a->purge_timer = net_timer_new(a->loop, on_purge_timer, a);
    a->commit_timer = net_timer_new(a->loop, on_commit_timer, a);
    a->async_commit = 1;
    net_timer_set(a->purge_timer, 0); /* at start, then every APP_PURGE_MS */
    a->feed_timer = net_timer_new(a->loop, on_feed_timer, a);
    net_timer_set(a->feed_timer, API_FEED_MS);
    arm_core_timer(a);
    if (a->degraded)
        net_timer_set(a->probe_timer, APP_PROBE_MS);
    app__outbox_pump(a); /* what was queued before a restart */
    if (a->ha) { /* the webhooks and retention start when it leads (ha.c) */
        ha_start(a);
    } else {
        a->hooks = app_hooks_new(a); /* and what the webhooks have not delivered */
        a->retention = app_retention_new(a);
    }
    return 0;
}

void app_run(app *a)
{
    while (!a->stopping)
        if (net_loop_turn(a->loop) < 0)
            break;
}

void app_stop(app *a)
{
    a->stopping = 1;
    if (a->loop)
        net_loop_wake(a->loop);
}

void app_close(app *a)
{
    a->stopping = 1; /* no more sends */
    commit_wait(a);
    if (a->st)       /* the outbox's last statuses (a last try when degraded) */
        flush(a, a->degraded);
    app__gateways_close(a); /* drops requests under way (see there) */
    app_hooks_free(a->hooks); /* their progress written, requests dropped */
    a->hooks = NULL;
    app_retention_free(a->retention);
    a->retention = NULL;
    net_timer_free(a->core_timer);
    net_timer_free(a->outbox_timer);
    net_timer_free(a->flush_timer);
    net_timer_free(a->probe_timer);
    net_timer_free(a->feed_timer);
    net_timer_free(a->purge_timer);
    net_timer_free(a->commit_timer);
    net_watch_free(a->commit_io);
    a->commit_io = NULL;
    a->core_timer = a->outbox_timer = a->flush_timer = a->probe_timer = a->purge_timer = NULL;
    a->commit_timer = NULL;
    a->feed_timer = NULL;
    if (a->st)
        app_flush(a);
    api_sso_close(a->api); /* its timer and requests are the loop's */
    api_reports_close(a->api); /* and the reports' */
    http_stop(a->http);
    net_loop_free(a->loop); /* closes desktops: their disconnects are stored */
    a->loop = NULL;
    http_free(a->http);
    a->http = NULL;
    if (a->st)
        app_flush(a);
    api_free(a->api);
    a->api = NULL;
    ha_free(a);
    store_close(a->st);
    cc_events_free(&a->ev);
    cc_evlog_free(&a->staged);
    cc_evlog_free(&a->committing);
    api_metrics_free(a->metrics); /* app_listen never ran */
    a->metrics = NULL;
    free(a->next.v);
    free(a->confirm.v);
    free(a->kw);
    cc_free(a->core);
}
