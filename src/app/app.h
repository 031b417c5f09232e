/*
 * app: the running server's wiring. One struct holds everything (STYLE.md
 * 6): the core, the store, the HTTP server, the API and the gateway. It
 * owns the durable path every change takes:
 *
 *   command -> cc_apply -> store (append events, commit) -> api_publish
 *           -> outbox pump -> gateway -> result -> store -> api_publish_delivery
 *
 * and the one timer that drives the core's timeouts (cc_next_deadline).
 * Everything a loop turn changes goes into one transaction (group commit):
 * the core's events, the outbox's delivery statuses and its SUBMITTING
 * marks (app_outbox.c).
 *
 * Degraded mode (docs/internals/degraded.md). When that commit fails (disk
 * full, the database locked by another process past the short busy
 * timeout, an I/O error), the transaction is rolled back and the core is
 * rebuilt from the committed event log, so the in-memory core never runs
 * ahead of the disk. Whatever waited for that commit learns it failed
 * (status CC_E_STORE): a gateway's inbound request gets 503 and retries, an
 * agent's command gets the error `store_unavailable`; nothing of it was
 * acknowledged, nothing of it is kept. Then, until a write succeeds again:
 * new commands are refused with -CC_E_STORE, the core timer and the outbox
 * are parked (gateway answers for sends already under way are kept in
 * memory and written at the resume), and a probe tries a small write every
 * APP_PROBE_MS. The first one that commits ends degraded mode by itself.
 */
#ifndef TEXTDESK_APP_APP_H
#define TEXTDESK_APP_APP_H

#include <stdint.h>

#include "util/netaddr.h"
#include "api/api.h"
#include "core/cc.h"
#include "http/http.h"
#include "sms/gw.h"
#include "store/store.h"

#define APP_PROBE_MS 1000 /* degraded: how often the store is tried again */
/* a commit in flight whose socket the loop watches is polled too, as a
 * safety net (a socket watch alone ends it at once) */
#define APP_COMMIT_POLL_MS 10
#define APP_PURGE_MS (3600 * 1000) /* how often expired sessions are deleted */
/* The commit window (app__want_flush): on a store whose commit the loop
 * waits for (SQLite: an fsync), a commit of newly applied commands waits
 * up to APP_COMMIT_WINDOW_MS for more to share it, when the last commit
 * ended that recently and was small; it starts at once when
 * APP_COMMIT_WINDOW_EVENTS events are staged. A window that gained nothing
 * (no command in a later loop turn: whoever sent them waits for this
 * commit's answer) makes the next ones skip, 1, 2, 4 ... up to
 * APP_COMMIT_WINDOW_SKIP_MAX commits, until one gains again. */
#define APP_COMMIT_WINDOW_MS 1
#define APP_COMMIT_WINDOW_EVENTS 64
#define APP_COMMIT_WINDOW_SKIP_MAX 1024

typedef struct app_config app_config;

/* Who waits for a commit (app_after_commit). */
typedef struct app_waiter {
    void (*fn)(void *, int);
    void *arg;
} app_waiter;
typedef struct app_waiters {
    app_waiter *v;
    size_t n, cap;
} app_waiters;

typedef struct app {
    cc *core;
    store *st;
    net_loop *loop;
    http_srv *http;
    api *api;
    const app_config *cfg;      /* borrowed from app_open's caller */
    struct sms_keyword *kw;     /* opt-out keywords (words owned by cfg) */
    size_t nkw;
    struct app_gateways *gws;   /* gateways and outbox state (app_outbox.c) */
    gw *sim;                    /* the simulator, when configured */
    net_timer *core_timer, *outbox_timer, *flush_timer, *probe_timer, *purge_timer;
    net_timer *feed_timer; /* the supervisors' live feed (api_feed_flush) */
    net_timer *commit_timer; /* polls a transaction in flight (app__commit_poll) */
    net_watch *commit_io; /* its connection's socket, watched for the answer */
    int async_commit;  /* commit without waiting where the store can (set by app_listen) */
    int async_started; /* the transaction in flight was started so (store_commit_start) */
    int retried;       /* it is the second try of one that never began (store_unsent) */
    struct app_hooks *hooks; /* outgoing event webhooks (app_hooks.h) */
    struct app_retention *retention; /* the retention job (app_retention.h) */
    cc_events ev;
    cc_evlog staged;     /* applied to the core, not in a transaction yet */
    cc_evlog committing; /* in the transaction in flight */
    app_waiters next;    /* released by the next transaction's confirmation */
    app_waiters confirm; /* released by the confirmation of the one in flight */
    int in_flight;       /* a transaction awaits its confirmation */
    int flush_again;     /* a flush was asked for meanwhile */
    api_commit_stats commits; /* confirmed and failed, their times (/metrics) */
    uint64_t msg_edits;  /* store_msg_edits when the outbox's memory was last true to it */
    int64_t commit_t0;   /* loop_clock_mono_us_now() when the one in flight started */
    /* /metrics' totals counted in app_open's replay and the commits before
     * app_listen, handed to api_new (api_env.metrics); NULL once taken */
    struct api_metrics *metrics;
    /* the commit window (APP_COMMIT_WINDOW_MS) */
    int flush_armed;          /* the flush timer is set: 1 at once, 2 at the window's end */
    uint64_t window_turn;     /* the loop's turn that opened it (net_loop_turns) */
    int window_gain;          /* commands staged in a later turn */
    unsigned window_skip, window_backoff; /* commits left without one; the next skip */
    int64_t last_commit_end;  /* loop_clock_mono() when the last commit ended */
    size_t last_commit_events; /* the events it held */
    int64_t clock_epoch;     /* app_now() - loop_clock_mono() */
    int stopping;
    int degraded;            /* the store refuses writes (see above) */
    int64_t degraded_since;  /* app_now() when it began */
    int stale_core;          /* a failed commit's events are in the core: rebuild at resume */
    uint64_t store_failures; /* commits that failed, since the start */
    const char *node;        /* --node: a node of a cluster (app/ha.h), or NULL */
    struct ha *ha;           /* that node's state (NULL without --node) */
    const struct ha_timing *ha_timing; /* the cluster's timing (app/ha.h); NULL: defaults */
    int standby;             /* a node that does not lead: refuses work as degraded does */
} app;

/* The core's clock, in milliseconds since the epoch: the wall clock (with
 * the test offset, util/loop_clock.h) when the process started, then
 * advanced by the monotonic clock. Every time given to the core (cc_apply,
 * cc_tick) and every deadline it returns are on it, so a step of the
 * system clock (NTP, an operator) neither fires the core's timeouts early
 * nor holds them back; the events' times follow it too, so after a step
 * they differ from the wall clock by the step until the next start.
 * What is not the core's (sessions, statuses, log lines) reads the wall
 * clock (loop_clock_wall). */
int64_t app_now(app *a);

/* Opens the store named by 'store_url' (store_open: a data folder, sqlite:DIR
 * or postgresql://...), rebuilds the core from its event log, and
 * on a first start applies 'cfg' (entities, accounts). With a->node set, the
 * node of a cluster starts as a standby instead: it writes nothing until it
 * leads (app/ha.h). 'cfg' (its gateways)
 * must outlive 'a'. Returns 0 or -1 with a reason in 'err'. */
int app_open(app *a, const char *store_url, const app_config *cfg, char *err, size_t n);
/* Listens as 'hc' says (address, web files, optional TLS) and wires the
 * API; the gateways are created from 'cfg' (app/gateways.h). */
int app_listen(app *a, const http_cfg *hc, char *err, size_t n);
/* Runs the loop until app_stop. */
void app_run(app *a);
/* Asks the loop to end (safe from a signal handler). */
void app_stop(app *a);
void app_close(app *a);

/* Applies 'cmd' to the core and stages its events for the next group
 * commit (see the header comment). Returns cc_apply's result at once;
 * whatever must wait for durability (acknowledging a gateway or a desktop)
 * goes through app_after_commit. */
int app_apply(app *a, const cc_cmd *cmd);
/* The write path for what is not an event (sessions, accounts, settings,
 * canned responses, refused inbound): app_write_begin opens a store
 * transaction, or returns -CC_E_STORE while degraded (or when it cannot:
 * then degraded mode begins); the caller writes; app_write_end(a, r)
 * commits when r is 0 and rolls back otherwise. It returns 0 once durable;
 * the caller's own r when that is an answer about the data (-EEXIST,
 * -ENOENT, ...); -CC_E_STORE when the store failed, which starts degraded
 * mode as a failed group commit does. Not batched into the group commit:
 * these are rare, and their callers answer at once. */
int app_write_begin(app *a);
int app_write_end(app *a, int r);
/* Logs the store failure and stops the process (exit 70): for failures
 * degraded mode cannot absorb (the event log cannot be read back). For
 * app/ only. */
void app__fatal_store(app *a, const char *what) __attribute__((noreturn));
/* Enters degraded mode after a failed write ('what' says which), if not in
 * it already: logs, parks the core timer, arms the probe. For app/ only;
 * app_flush calls it itself. */
void app__store_failed(app *a, const char *what);
/* Whether the store takes writes (0 while degraded). */
int app_store_available(const app *a);
/* The one "answer after commit" mechanism: every acknowledgement that
 * promises durability (a gateway's inbound SMS or delivery report over
 * HTTP or SMPP, an agent's command result, a REST change, the simulator)
 * goes through it. Runs 'fn(arg, status)' once everything applied so far
 * is committed and published: status 0, or -CC_E_STORE when that commit
 * failed (nothing of it was kept: refuse what waited). At once (status 0)
 * when nothing is waiting to be committed.
 *
 * The waiters are released by the commit's *confirmation*
 * (app__commit_confirmed), not by the return of the store's commit call:
 * a store whose commits are confirmed asynchronously (a database server
 * driven by the loop) calls it a loop turn or more later, and nothing is
 * acknowledged, published or sent before it. */
void app_after_commit(app *a, void (*fn)(void *, int), void *arg);
/* The store confirmed (status 0) or failed (the store's error; 'what'
 * says at which step) the transaction app_flush started: publishes its
 * events, writes the outbox's results to the desktops, starts the sends
 * and releases its waiters, or enters degraded mode and refuses them. For
 * app/ and a store that confirms asynchronously. */
void app__commit_confirmed(app *a, int status, const char *what);
/* Reads, without waiting, whether the store confirmed the transaction in
 * flight that was committed asynchronously (a->async_commit: PostgreSQL,
 * store_commit_start); when it has, runs app__commit_confirmed. Returns 1
 * when nothing is in flight any more, 0 while it still is. The loop calls
 * it from a 1 ms timer; tests call it themselves. */
int app__commit_poll(app *a);
/* The core timer's work: cc_tick at app_now, its events staged (for tests
 * too, which run no loop). */
void app__core_tick(app *a);
/* Asks for a group commit on the next loop turn (zero-delay timer), or at
 * once when not serving yet; a commit window that is open ends then too.
 * (What app_apply stages asks through the commit window instead.) */
void app__want_flush(app *a);
/* Commits what is staged now (one transaction: events, the outbox's status
 * writes and SUBMITTING marks); its confirmation (app__commit_confirmed)
 * publishes it to the desktops, starts the outbox's sends and runs the
 * waiters. Normally run by a zero-delay timer, so all requests of one loop
 * turn share one commit; one transaction is in flight at a time (a flush
 * asked for meanwhile follows its confirmation). Does nothing while
 * degraded (the probe commits then). */
void app_flush(app *a);

/* ---- configuration (app/config.c) -------------------------------------- */

/* Loads a JSON configuration file; NULL 'path' gives the built-in demo.
 * On error returns NULL and writes "FILE: key: problem" to 'err', or for a
 * file that is not JSON "FILE: line L, column C: problem: what to do". */
app_config *app_config_load(const char *path, char *err, size_t n);
/* The same from 'len' bytes of JSON in memory; 'name' stands for the file
 * in error messages. */
app_config *app_config_load_text(const char *text, size_t len, const char *name, char *err,
                                 size_t n);
void app_config_free(app_config *cfg);
/* 0 when 'len' bytes of 'text' are JSON; else -1 with 'err' as
 * app_config_load words a file that is not ('name' stands for the file). */
int app_config_check_json(const char *text, size_t len, const char *name, char *err, size_t n);
/* Applies the configured entities to a fresh core (as commands, so they are
 * events in the log) and creates the accounts. */
int app_config_apply(app *a, const app_config *cfg, char *err, size_t n);
/* Prints the accounts a newcomer can log in with (demo only). */
void app_config_print_logins(const app_config *cfg);
/* "listen" and "data_dir" from the file, or NULL. */
/* The opt-out keywords: settings.keywords, or the defaults (sms_text.h).
 * The words stay owned by 'cfg'. Returns how many. */
struct sms_keyword;
size_t app_config_keywords(const app_config *cfg, struct sms_keyword *out, size_t max);
const char *app_config_listen(const app_config *cfg);
/* "tls": {"cert", "key"} from the file, or NULLs. */
void app_config_tls(const app_config *cfg, const char **cert, const char **key);
/* The reverse proxies whose X-Forwarded-For / Forwarded is believed
 * ("trusted_proxies"): stores at most 'max' ranges, returns how many. */
#define APP_TRUSTED_PROXIES_MAX 64
size_t app_config_trusted_proxies(const app_config *cfg, netaddr *out, size_t max);
const char *app_config_data_dir(const app_config *cfg);
/* "ca_file": the CAs trusted for outbound HTTPS (net_http), or NULL for
 * the system's. */
const char *app_config_ca_file(const app_config *cfg);
/* The "sso" object (single sign-on, api_sso.h), or NULL. */
const json_t *app_config_sso(const app_config *cfg);
/* "store" (a store URL, store.h) from the file, or NULL. */
const char *app_config_store(const app_config *cfg);
/* "ha": the cluster's timing (app/ha.h), the defaults where the file is
 * silent. */
struct ha_timing;
void app_config_ha(const app_config *cfg, struct ha_timing *t);

#endif
