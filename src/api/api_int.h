/*
 * api_int.h: what the files of the api module share (api.c: sessions, the
 * agent protocol, publishing; api_admin.c: the administrator's REST).
 */
#ifndef TEXTDESK_API_API_INT_H
#define TEXTDESK_API_API_INT_H

#include <jansson.h>

#include "api/api_throttle.h"
#include "api/api.h"
#include "core/report.h"
#include "util/hmap.h"

typedef struct api_conn {
    http_ws *ws;
    int pending; /* replies waiting for a commit */
    int gone;    /* closed while replies were pending: freed by the last */
    uint32_t agent;
    int64_t account;
    int feed;              /* a supervisor's live feed (no agent) */
    struct api_feed_view *fv; /* feeds: what the page shows and last got */
    struct api_conn *next; /* the same agent's other desktops; feeds: the next feed */
} api_conn;

/* The 401 of a call without a usable session or token, saying what to do. */
#define API_MSG_NO_SESSION                                                                \
    "no valid session: log in first (POST /api/login), or send an API token"              \
    " (Authorization: Bearer tdt_...)"

/* Counters for /metrics (api_metrics.c). */
#define API_HANDLE_BUCKETS 8
typedef struct api_metrics {
    uint64_t opened, closed, offers, ronas, msgs_in, msgs_out;
    uint64_t out_of_hours, overflows; /* entry-point flows */
    uint64_t delivery[8]; /* by store_msg_status */
    uint64_t handle_count, handle_bucket[API_HANDLE_BUCKETS];
    double handle_sum_s;
    hmap accepted_at; /* conv -> when its owner accepted (handle time) */
    hmap conv_queue;  /* open conv -> its queue */
    struct api_qcount *perq; /* per queue id: offered, answered, ... */
    uint32_t nperq;
} api_metrics;

/* Figures of one queue over the whole event log. */
typedef struct api_qcount {
    uint64_t offered, answered, terminated, rona;
} api_qcount;

typedef struct api_rjob api_rjob;

/* Logins whose password is being checked at once, at most: one more is
 * refused 429 with a retry in 1 s. */
#define API_LOGINS_MAX 64

struct api {
    api_env env;
    api_conn **by_agent; /* index: agent id */
    uint32_t cap;
    size_t nconns;
    int mask; /* "mask sensitive customer data" */
    api_throttle *throttle; /* login failures (api_throttle.h) */
    netaddr trusted[64];    /* reverse proxies believed about the client */
    size_t ntrusted;
    char *dummy_hash; /* verified against for unknown users (same timing) */
    char tok_user[80]; /* "token:NAME" of the last bearer token looked up */
    /* the request being answered: its bearer token is looked up in the
     * store once, whatever asks (api__bearer_of) */
    const http_req *tok_req;
    int tok_valid, tok_b;
    store_account tok_acc;
    const char *tok_code;
    char tok_msg[160];
    uint64_t tok_lookups; /* store lookups of bearer tokens, for /metrics */
    api_metrics m;
    api_conn *feeds;     /* supervisors' pages (api_supervisor.c) */
    int feed_dirty;      /* something changed since the last push */
    int64_t feed_next;   /* no push before (render time x 9 after the last) */
    int feed_lists;      /* the id lists below are up to date (else rebuilt) */
    uint32_t *feed_agents, *feed_queues, *feed_convs; /* ascending ids */
    size_t feed_nagents, feed_nqueues, feed_nconvs, feed_capconvs;
    uint32_t *feed_touched; /* conversations with events since the last push */
    size_t feed_ntouched, feed_captouched;
    report *today;        /* today's figures in the site's zone, folded live */
    api_snaps *snaps;     /* the report fold at local midnights (api_report.c) */
    int64_t today_to;    /* when 'today' ends (0: rebuild it) */
    struct api_oidc *oidc; /* single sign-on (api_oidc.c); NULL: off */
    net_loop *loop;       /* reports folded a chunk per turn; NULL: in one go */
    api_rjob *jobs;       /* reports under way (api_report.c) */
    size_t report_chunk;  /* events folded per turn */
    /* password checks off the loop (net_work.h; api.c's rest_login); NULL:
     * in the request's turn */
    struct net_work *work;
    struct login_job *logins[API_LOGINS_MAX]; /* being checked */
    size_t nlogins;
};

json_t *api__jstr(str s);
/* ---- views (api_view.c): what each reader sees, every masking decision -- */
/* A string of customer data, masked (mask.h) when 'masked'. */
json_t *api__jmask_if(str s, int masked);
/* Sets "number" and "ep_number" of 'obj', masked when the setting is on. */
void api__view_numbers(const api *a, json_t *obj, str number, str ep_number);
/* A desktop's views of agent 'agent': itself, a conversation, the lists,
 * the whole snapshot, the customer's earlier conversations. */
json_t *api__agent_json(const api *a, uint32_t agent);
/* How 'agent' relates to conversation 'v' ("owner", ...); NULL: not at all. */
const char *api__role_of(const api *a, const cc_conv_view *v, uint32_t agent);
json_t *api__conv_json(const api *a, const cc_conv_view *v, uint32_t agent);
json_t *api__list_json(const api *a, int kind);
json_t *api__snapshot(const api *a, uint32_t agent);
json_t *api__history_json(api *a, const cc_conv_view *v);
/* The "message" frame of a MSG_IN or MSG_OUT event. */
json_t *api__message_json(const api *a, const cc_event *e);
/* A supervisor's view of open conversation 'v' with its transcript;
 * 'unmasked' (asked for, allowed and audited by the caller) shows it as it
 * is while masking is on. */
json_t *api__supervised_conv(const api *a, const cc_conv_view *v, int unmasked);
/* The canned responses as a JSON list (api_admin.c). */
json_t *api__canned_list(api *a);
/* GET /api/admin/report/conversations.csv (api_report.c). */
void api__report_csv(api *a, const http_req *req, http_resp *resp);
/* /api/reports/...: figures, agent states and report settings (api_report.c). */
void api__reports(api *a, const http_req *req, http_resp *resp);
void api__resp_json(http_resp *resp, int status, json_t *j); /* steals 'j' */
/* The client's address into 'out' (room for 64 bytes): the socket's, or
 * what a trusted reverse proxy says (api_throttle_client). */
str api__client_addr(const api *a, const http_req *req, char *out);
void api__resp_error(http_resp *resp, int status, const char *code, const char *msg);
/* The request body as a JSON object, or NULL after answering 400. */
json_t *api__parse_body(const http_req *req, http_resp *resp);
/* The account behind the request's session cookie: 0, or -1. */
int api__session_of(api *a, const http_req *req, store_account *acc);
/* Answers 401/403 and returns -1 unless the session is an administrator's
 * (or, with 'supervisors_too', a supervisor's). */
int api__require_role(api *a, const http_req *req, http_resp *resp, int supervisors_too);
/* Every open desktop starts over from a fresh snapshot. */
void api__resync_all(api *a);
/* The write path for what is not an event (api_env.write_begin / _end):
 * begin gives 0 or -CC_E_STORE; end(a, r) commits when r is 0 and gives 0,
 * the caller's r when it answers about the data, or -CC_E_STORE. */
int api__write_begin(api *a);
int api__write_end(api *a, int r);
/* Whether the store takes writes (api_env.store_available). */
int api__store_available(const api *a);
/* Counts the events of a committed batch / a delivery status (api_metrics.c). */
void api__metrics_events(api *a, const cc_events *evs);
void api__metrics_delivery(api *a, int store_status);
void api__metrics_free(api *a);
/* Counts the stored event log at start, so totals survive restarts. */
int api__metrics_load(api *a);
/* The counters of 'queue' (zeros for an unknown one). */
api_qcount api__queue_counts(const api *a, uint32_t queue);
/* Sends 'j' (borrowed) on a WebSocket. */
void api__send_json(http_ws *ws, json_t *j);
/* The supervisors' live feed (api_supervisor.c): a WebSocket of a
 * supervisor or administrator account gets the overview at once and again
 * after events, at most every API_FEED_MS (api_feed_flush). */
int api__feed_open(api *a, http_ws *ws, void **user);
void api__feed_close(api *a, api_conn *k);
void api__feed_send(api *a, api_conn *k);
/* A frame from a page: {"type": "view", "agents": {"offset", "limit"},
 * "conversations": {...}} sets its slices; then (or on anything else) a
 * fresh overview. */
void api__feed_message(api *a, api_conn *k, str data);
void api__feed_events(api *a, const cc_events *evs);
void api__feed_free(api *a);
/* Today's figures (api_report.c): folds one event; the live row of
 * 'queue' today (0 or -1); rebuilt from the log when the day or the report
 * settings change. */
void api__today_event(api *a, const cc_event *ev);
int api__today_queue(api *a, uint32_t queue, report_row *out, int64_t *sl_ms);
/* Query argument 'name' as milliseconds since 1970 ('dflt' when absent;
 * sets '*bad' when it is not a whole number >= 0) (api_report.c). */
int64_t api__arg_ms(const http_req *req, const char *name, int64_t dflt, int *bad);
/* GET /api/supervisor/csat: satisfaction scores (api_csat.c). */
void api__csat(api *a, const http_req *req, http_resp *resp);
/* /api/supervisor/... (api_supervisor.c). */
void api__supervisor(api *a, const http_req *req, http_resp *resp);
/* The transcript of 'conv' as the `messages` command returns it (api_view.c). */
json_t *api__transcript(const api *a, uint32_t conv);
/* Adds a supervisor's name ("supervisor") and an internal note's text
 * ("text", masked) to a transcript line, when not empty. */
void api__note_fields(const api *a, json_t *o, str name, str text);
/* GET /metrics: Prometheus text format 0.0.4. */
void api__metrics(api *a, const http_req *req, http_resp *resp);

/* Answers 200 with 'body' (stolen) once what was applied is committed. */
void api__respond_after_commit(api *a, const http_req *req, http_resp *resp, json_t *body);
/* CSV helpers of api_report.c: one field (quoted when needed; 'last'
 * ends the row) and a time in ISO 8601 UTC (empty for 0). */
void api__csv_field(buf *b, str s, int last);
void api__csv_time(buf *b, int64_t ms);
/* Opens a session for 'acc': stores it, sets the cookie and answers 200
 * with the account (what POST /api/login answers); 0, or -1 after
 * answering 503. */
int api__session_open(api *a, const store_account *acc, int secure, http_resp *resp);
/* The hex hash under which a session or API token is stored (api.c). */
void api__token_hash(str token, char out[65]);

/* ---- api_token.c: API tokens and the audit trail ----------------------- */

/* The request's Authorization header: 0 when it has none; 1 with 'acc'
 * filled (strings valid until the next call) for a valid bearer token;
 * -1 for a bad, unknown, expired or revoked one, with an error code and a
 * message for the 401 in 'code' and 'msg'. */
int api__bearer_of(api *a, const http_req *req, store_account *acc, const char **code,
                   char *msg, size_t n);
/* /api/admin/tokens[/ID] (administrators). */
void api__tokens(api *a, const http_req *req, http_resp *resp, const char *rest);
/* GET /api/admin/audit and /api/admin/audit.csv (administrators). */
void api__audit_get(api *a, const http_req *req, http_resp *resp, int csv);
/* Appends an entry to the audit trail through the write path; a failure
 * is logged (the change it records was refused the same way). */
void api__audit(api *a, const http_req *req, str actor, const char *via, const char *action,
                str target, const char *detail);
/* Around every REST request: who is asking (before), and the entry for a
 * change (after), for administration, supervision and any write made
 * with a token. */
typedef struct api_audit_ctx {
    int record;
    char actor[96], via[8];
} api_audit_ctx;
void api__audit_before(api *a, const http_req *req, api_audit_ctx *x);
void api__audit_after(api *a, const http_req *req, const http_resp *resp,
                      const api_audit_ctx *x);

/* ---- api_hooks.c: outgoing webhooks ------------------------------------ */

/* /api/admin/webhooks[/ID] (administrators). */
void api__hooks(api *a, const http_req *req, http_resp *resp, const char *rest);
/* Every subscription with its delivery status, as the list answers it; NULL
 * when the store cannot be read. */
json_t *api__hooks_list(api *a);

/* ---- api_privacy.c: retention and erasure ------------------------------ */

/* /api/admin/retention[/run] and /api/admin/customers/{export,erase}. */
void api__retention(api *a, const http_req *req, http_resp *resp, const char *rest);
void api__customers(api *a, const http_req *req, http_resp *resp, const char *rest);

/* /api/admin/... except settings (api_admin.c); 'acc' is an administrator. */
void api__admin(api *a, const http_req *req, http_resp *resp);

#endif
