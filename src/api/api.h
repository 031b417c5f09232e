/*
 * api: the agent protocol and the REST surface, between the HTTP server and
 * the application. It turns JSON from desktops into core commands, answers
 * each with ok or a stable error code, and turns the core's events into
 * per-agent JSON pushed to the desktops that may see them (docs/api.md is
 * the protocol's reference).
 *
 * It owns the login sessions (argon2id password hashes from libsodium,
 * random session tokens of which only a hash is stored) and the list of
 * connected desktops. It reaches the rest of the application only through
 * api_env, so it can be tested with a real core and store and no network.
 */
#ifndef TEXTDESK_API_API_H
#define TEXTDESK_API_API_H

#include <jansson.h>
#include <stdint.h>

#include "util/netaddr.h"
#include "core/cc.h"
#include "http/http.h"
#include "sms/gw.h"
#include "store/store.h"

#define API_PROTOCOL_VERSION 1
#define API_SESSION_TTL_MS (12LL * 3600 * 1000)

typedef struct api api;

/* The durable path's commits for /metrics (textdesk_store_commit_seconds):
 * kept by the application, read by api_metrics.c. 'bucket[i]' counts the
 * commits confirmed within api_commit_bounds_s[i] seconds of their start
 * and not within the bound before (not cumulative). */
#define API_COMMIT_BUCKETS 10
extern const double api_commit_bounds_s[API_COMMIT_BUCKETS];
typedef struct api_commit_stats {
    uint64_t commits;  /* confirmed */
    uint64_t failures; /* failed: rolled back, nothing of them kept */
    uint64_t bucket[API_COMMIT_BUCKETS + 1]; /* the last: longer than every bound */
    double sum_s;
} api_commit_stats;
/* Counts a confirmed commit that took 'us' microseconds. */
void api_commit_stats_add(api_commit_stats *s, int64_t us);

typedef struct api_env {
    cc *core;
    store *st;
    gw *sim; /* the simulator gateway, or NULL */
    /* The running gateway 'id' (the inbound router, api_gw.h); NULL: none. */
    gw *(*gateway)(void *app, str id);
    void *app;
    /* Applies 'cmd' to the core and stages it for the next group commit,
     * after which its events are published (api_publish). Returns
     * cc_apply's result. */
    int (*apply)(void *app, const cc_cmd *cmd);
    /* Runs fn(arg, status) once everything applied so far is committed:
     * the API acknowledges nothing before that. 'status' is 0, or
     * -CC_E_STORE when the commit failed (nothing of it was kept: answer
     * with an error). NULL: everything is committed at once (tests). */
    void (*after_commit)(void *app, void (*fn)(void *, int), void *arg);
    /* Wall-clock time in milliseconds. */
    int64_t (*now)(void *app);
    /* Whether the store takes writes (0: degraded, app.h). NULL: always. */
    int (*store_available)(void *app);
    /* Whether a gateway with id 'id' is configured (an entry point's
     * "gateway"). NULL: any. */
    int (*gateway_known)(void *app, str id);
    /* The write path for what is not an event (app_write_begin / _end,
     * app.h): sessions, accounts, settings, canned responses. NULL: a
     * plain store transaction (tests). */
    int (*write_begin)(void *app);
    int (*write_end)(void *app, int r);
    /* The webhook subscriptions changed (api_hooks.c): the application
     * reads them again. NULL: nothing delivers (tests). */
    void (*hooks_changed)(void *app);
    /* Run the retention job now (POST /api/admin/retention/run). NULL:
     * nothing runs it (tests). */
    void (*retention_run)(void *app);
    /* The totals of /metrics, counted from the event log by whoever read
     * it already (app_open's replay: one pass over the log at start, not
     * two); api_new takes them over. NULL: api_new reads the log itself. */
    struct api_metrics *metrics;
    /* The commits of the durable path (NULL: /metrics shows none). */
    const api_commit_stats *commits;
} api_env;

/* /metrics' totals over an event log (api_metrics.c), for api_env.metrics:
 * counted event by event, in the log's order. */
struct api_metrics *api_metrics_new(void);
void api_metrics_count(struct api_metrics *m, const cc_events *evs);
void api_metrics_free(struct api_metrics *m);

api *api_new(const api_env *env);
/* The reverse proxies whose X-Forwarded-For / Forwarded header names the
 * client (api_throttle.h); copied. None by default: the socket's address. */
void api_set_trusted_proxies(api *a, const netaddr *ranges, size_t n);
void api_free(api *a);
/* The simulator gateway from now on (a node of a cluster opens its
 * gateways when it starts to lead: app/ha.h). */
void api_set_sim(api *a, gw *sim);

/* Single sign-on as the configuration's "sso" object says (NULL: off;
 * api_oidc.h), its provider reached on 'loop'. 0, or -1 with the reason
 * in 'err'. */
int api_set_sso(api *a, net_loop *loop, const json_t *cfg, char *err, size_t n);
/* Whether sso.agent_teams names teams of the site (at a single node's
 * start, once the core holds the site). 0, or -1 with the reason in 'err'. */
int api_sso_check_teams(const api *a, char *err, size_t n);
/* Ends single sign-on (sign-ins under way answered 503): before the loop
 * is freed. NULL: nothing. */
void api_sso_close(api *a);

/* Handlers for http_new (http.h); 'arg' is the api. A path outside the
 * API (api_path says which are in it) that no file answers gets the 404
 * page in the reader's language. */
void api_http_request(void *arg, const http_req *req, http_resp *resp);
/* 1 for a path the API answers: /api, /api/... and /metrics. */
int api_path(const char *path);
int api_ws_open(void *arg, const http_req *req, http_ws *ws, void **user);
void api_ws_message(void *arg, http_ws *ws, void *user, str data);
void api_ws_close(void *arg, http_ws *ws, void *user);

/* Pushes committed events to the desktops concerned. */
void api_publish(api *a, const cc_events *ev);
/* Pushes a delivery status change of outbound message 'seq' of 'conv'. */
void api_publish_delivery(api *a, uint32_t conv, uint32_t seq, int store_status, str error);

/* Hashes 'password' for an account (argon2id). Returns a malloc'd string
 * or NULL when out of memory for the hash. */
char *api_password_hash(const char *password);

/* The application rebuilt its core (app.c, after a failed commit): the
 * API reads 'core' from now on. */
void api_set_core(api *a, cc *core);
/* After degraded mode: brings the core's idea of which agents are
 * connected in line with the open desktops (logins and disconnects refused
 * meanwhile), then sends every desktop a fresh snapshot. */
void api_reconcile(api *a);

/* Connected desktops (WebSockets). */
size_t api_conn_count(const api *a);

/* Pushes to supervisors' pages what changed in their view since the last
 * push (a delta of the queues and of the slices of agents and
 * conversations each page shows); the application calls it every
 * API_FEED_MS. After a push that took T the next waits 9 T, so the feed
 * takes at most a tenth of the loop however large the site. */
#define API_FEED_MS 250
void api_feed_flush(api *a);
/* Renders the whole overview once (every queue, agent and open
 * conversation: GET /api/supervisor/overview; every push before deltas)
 * as JSON text and returns its size in bytes, for bench_feed. */
size_t api_feed_render(api *a);
/* For bench_feed: with 'open', adds a page (no socket) showing the first
 * slices; then renders every page's frame as a push does and returns the
 * bytes it would send. */
size_t api_feed_page(api *a, int open);

/* The report of 'o' (core/report.h) over the event log of 'st', with the
 * SMS segments of every reply sent in [from, to), finished at 'now', into
 * '*out' (the caller frees it): what /api/reports answers from
 * (api_report.c; bench_report times it). With 'snaps' (NULL: none) it
 * goes on from the latest snapshot of the fold at a local midnight at or
 * before o->from, and keeps one at each midnight it folds past; it stops
 * reading once the figures are complete. Returns 0 or the store's error. */
struct report;
struct report_opts;
typedef struct api_snaps api_snaps;
api_snaps *api_snaps_new(void);
void api_snaps_free(api_snaps *s);
size_t api_snaps_count(const api_snaps *s);
int api_report_fold(store *st, api_snaps *snaps, const struct report_opts *o, int64_t now,
                    struct report **out);
/* The same fold a chunk at a time (what a report does on the loop):
 * begin; step reads at most 'limit' events (0: all) and returns 0 while
 * more are left, 1 when the figures are complete, or the store's error;
 * end finishes the report at 'now' after a step returned 1 (else frees it
 * and returns NULL) and frees the fold. */
typedef struct api_fold api_fold;
api_fold *api_fold_begin(store *st, api_snaps *snaps, const struct report_opts *o);
int api_fold_step(api_fold *f, size_t limit);
struct report *api_fold_end(api_fold *f, int64_t now);
/* Reports fold a chunk of events per turn of 'loop' (answered when done)
 * instead of in one go: set once the loop runs (app.c). The chunk is
 * API_REPORT_CHUNK events (about 10 ms: bench_report's
 * report_day_max_turn_ms), or TEXTDESK_REPORT_CHUNK (for tests). The
 * same call starts the worker that checks login passwords off the loop
 * (net_work.h: an argon2id check costs about 100 ms of CPU, seconds on a
 * loaded machine, during which nothing else would be served). */
#define API_REPORT_CHUNK 20000
void api_reports_loop(api *a, net_loop *loop);
/* Answers the logins being checked and the reports under way (with 503)
 * and frees them: before the loop is freed. */
void api_reports_close(api *a);

/* ---- retention and erasure (api_privacy.c, docs/privacy.md) ------------ */

/* The retention policy (the setting "retention"): message text of ended
 * conversations is deleted 'days' after they ended (0: kept for ever);
 * entry point ep[i] keeps it ep_days[i] instead. */
#define API_RETENTION_EPS 64
typedef struct api_retention {
    int days;
    size_t neps;
    uint32_t ep[API_RETENTION_EPS];
    int ep_days[API_RETENTION_EPS];
} api_retention;
int api_retention_policy(store *st, api_retention *out);
/* Deletes the text of every message of 'conv' and its survey comments
 * (inside a transaction), keeping each reply's SMS segments and the
 * scores for the reports; adds how many messages to '*n'. */
int api_privacy_forget_conv(store *st, uint32_t conv, size_t *n);

/* ---- outgoing webhooks: the wire format (api_hooks.c) ------------------ */

/* The kinds of events a subscription can want (bit i of store_hook.events
 * is kind i): conversation.started, conversation.accepted, message.in,
 * message.out, message.status, conversation.transferred,
 * conversation.ended, conversation.wrapped_up, conversation.closed,
 * agent.state, customer.opted_out, customer.opted_in. */
#define API_HOOK_NKINDS 12
const char *api_hook_kind_name(int kind);
/* The kind of a feed item's type (store_feed_item.type), or -1. */
int api_hook_kind(int type);
/* The JSON payload of feed item 'it' (malloc'd; NULL for a type no kind
 * has), customer data masked when 'masked'; its idempotency id (the same
 * for every attempt and every subscription) into 'id'. */
char *api_hook_payload(const store_feed_item *it, int masked, char *id, size_t idn);

#endif
