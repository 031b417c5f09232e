/*
 * api_supervisor.c: what a supervisor sees (supervisor and administrator
 * accounts): live figures per queue and per agent, the open conversations,
 * and one conversation read-only, masked as on the desktop.
 *
 *   GET /api/supervisor/overview
 *   GET /api/supervisor/csat          satisfaction scores (api_csat.c)
 *   GET /api/supervisor/conversations/ID
 *   POST /api/supervisor/agents/ID/state   force an agent idle or out
 *   POST /api/supervisor/conversations/ID/ACTION   note, barge, take_over,
 *        leave, send, end: the supervisor in a conversation (cc.h)
 *   WebSocket /ws with a supervisor's session: the overview pushed after
 *   events (at most every API_FEED_MS), {"type": "overview", ...}
 *
 * Counters (offered, answered, terminated, RONA) count over the whole event
 * log; gauges (waiting, longest wait, states, loads) are live; the service
 * level today comes from core/report.h folded live (api_report.c).
 */
#include <stdlib.h>
#include <string.h>

#include "api/api_int.h"
#include "core/report.h"
#include "util/loop_clock.h"
#include "util/xalloc.h"

static const char *const agent_states[] = {"logged_out", "idle", "available", "rona"};
static const char *const conv_states[] = {"queued",     "offered", "assigned",
                                          "terminated", "wrapup",  "closed"};

/* Skills with their names: [{"skill": id, "name": "...", "level": n}]. */
static json_t *skills_json(const cc *c, const cc_skill *s, size_t n)
{
    json_t *arr = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(arr, json_pack("{s:i, s:o, s:i}", "skill", (int)s[i].skill, "name",
                                             api__jstr(cc_name(c, CC_KIND_SKILL, s[i].skill)),
                                             "level", (int)s[i].level));
    return arr;
}

/* A 64-bit FNV-1a over 'n' bytes, continuing 'h': what a feed page last
 * got of a row, to send only rows that changed. */
static uint64_t fp_add(uint64_t h, const void *p, size_t n)
{
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++)
        h = (h ^ b[i]) * 0x100000001b3ull;
    return h;
}
#define FP_INIT 0xcbf29ce484222325ull
#define FP(h, x) ((h) = fp_add((h), &(x), sizeof(x)))

/* Queue 'id' as a row (when 'row') and its fingerprint (what the row shows
 * but the time: the page counts the longest wait from "oldest_at"). */
static uint64_t queue_row(api *a, uint32_t id, int64_t now, json_t **row)
{
    const cc *c = a->env.core;
    cc_queue_view q;
    if (cc_queue_get(c, id, &q) != 0)
        return 0;
    api_qcount k = api__queue_counts(a, q.id);
    report_row today;
    int64_t sl_ms = 0;
    int has = api__today_queue(a, q.id, &today, &sl_ms) == 0;
    if (!has)
        memset(&today, 0, sizeof today);
    int64_t oldest = q.waiting ? q.oldest_key : 0;
    uint64_t h = FP_INIT;
    FP(h, q.waiting);
    FP(h, oldest);
    FP(h, k);
    FP(h, today.sl_met);
    FP(h, today.sl_base);
    FP(h, today.offered);
    FP(h, today.accepted);
    FP(h, sl_ms);
    if (!row)
        return h | 1; /* never 0 */
    json_t *sl = has && today.sl_base
                     ? json_real((double)(int64_t)(1000.0 * today.sl_met / today.sl_base + 0.5) /
                                 10)
                     : json_null();
    json_t *o = json_pack(
        "{s:i, s:o, s:i, s:I, s:I, s:I, s:I, s:I, s:I}", "id", (int)q.id, "name",
        api__jstr(q.name), "waiting", (int)q.waiting, "longest_wait_ms",
        (json_int_t)(q.waiting && now > q.oldest_key ? now - q.oldest_key : 0), "oldest_at",
        (json_int_t)oldest, "offered", (json_int_t)k.offered, "answered",
        (json_int_t)k.answered, "terminated", (json_int_t)k.terminated, "rona",
        (json_int_t)k.rona);
    json_object_set_new(o, "sl_today_pct", sl);
    json_object_set_new(o, "sl_threshold_s", json_integer(sl_ms / 1000));
    json_object_set_new(o, "offered_today", json_integer((json_int_t)today.offered));
    json_object_set_new(o, "accepted_today", json_integer((json_int_t)today.accepted));
    json_object_set_new(o, "skills", skills_json(c, q.skills, q.n_skills));
    json_object_set_new(o, "widen_step_s", json_integer((json_int_t)(q.widen_ms / 1000)));
    *row = o;
    return h | 1;
}

/* Agent 'id' likewise ("state_since": when its state began). */
static uint64_t agent_row(api *a, uint32_t id, int64_t now, json_t **row)
{
    const cc *c = a->env.core;
    cc_agent_view v;
    if (cc_agent_get(c, id, &v) != 0)
        return 0;
    uint64_t h = FP_INIT;
    FP(h, v.state);
    FP(h, v.state_since);
    FP(h, v.connected);
    FP(h, v.load);
    FP(h, v.reserved);
    FP(h, v.capacity);
    if (!row)
        return h | 1;
    cc_skill sk[CC_SKILLS_MAX];
    size_t nsk = cc_agent_skills(c, v.id, sk, CC_SKILLS_MAX);
    *row = json_pack("{s:i, s:o, s:s, s:I, s:I, s:b, s:i, s:i, s:i, s:o}", "id", (int)v.id,
                     "name", api__jstr(v.name), "state", agent_states[v.state & 3],
                     "in_state_ms",
                     (json_int_t)(v.state_since && now > v.state_since ? now - v.state_since
                                                                       : 0),
                     "state_since", (json_int_t)v.state_since, "connected", v.connected,
                     "load", (int)v.load, "reserved", (int)v.reserved, "capacity",
                     (int)v.capacity, "skills", skills_json(c, sk, nsk));
    return h | 1;
}

/* Open conversation 'id' likewise (0: not open). */
static uint64_t conv_row(api *a, uint32_t id, json_t **row)
{
    const cc *c = a->env.core;
    cc_conv_view v;
    if (cc_conv_get(c, id, &v) != 0)
        return 0;
    cc_skill xs[CC_SKILLS_MAX];
    size_t nxs = cc_conv_skills(c, v.id, xs, CC_SKILLS_MAX);
    uint64_t h = FP_INIT;
    FP(h, v.queue);
    FP(h, v.state);
    FP(h, v.owner);
    FP(h, v.guest);
    FP(h, v.widened);
    h = fp_add(h, v.supervisor.p ? v.supervisor.p : "", v.supervisor.n);
    h = fp_add(h, xs, (nxs < CC_SKILLS_MAX ? nxs : CC_SKILLS_MAX) * sizeof *xs);
    if (!row)
        return h | 1; /* never 0 */
    json_t *o = json_pack("{s:i, s:o, s:s, s:o, s:o, s:I, s:b, s:o, s:i}", "id", (int)v.id,
                          "queue_name", api__jstr(cc_name(c, CC_KIND_QUEUE, v.queue)), "state",
                          conv_states[v.state < 6 ? v.state : 5], "owner_name",
                          api__jstr(cc_name(c, CC_KIND_AGENT, v.owner)), "guest_name",
                          api__jstr(cc_name(c, CC_KIND_AGENT, v.guest)), "opened_at",
                          (json_int_t)v.opened_at, "outbound", v.outbound, "skills",
                          skills_json(c, xs, nxs), "widened", (int)v.widened);
    api__view_numbers(a, o, v.number, v.ep_number);
    json_object_set_new(o, "supervisor", api__jstr(v.supervisor));
    *row = o;
    return h | 1;
}

static json_t *idle_reasons(const cc *c)
{
    json_t *reasons = json_array();
    size_t n = cc_list(c, CC_KIND_IDLE_REASON, NULL, 0);
    cc_item *items = xmalloc((n + 1) * sizeof *items);
    cc_list(c, CC_KIND_IDLE_REASON, items, n);
    for (size_t i = 0; i < n; i++)
        json_array_append_new(reasons, json_pack("{s:i, s:o}", "id", (int)items[i].id, "name",
                                                 api__jstr(items[i].name)));
    free(items);
    return reasons;
}

/* The ids of every item of 'kind', ascending (malloc'd) into '*out'. */
static size_t kind_ids(const cc *c, int kind, uint32_t **out)
{
    size_t n = cc_list(c, kind, NULL, 0);
    cc_item *items = xmalloc((n + 1) * sizeof *items);
    cc_list(c, kind, items, n);
    *out = xmalloc((n + 1) * sizeof **out);
    for (size_t i = 0; i < n; i++)
        (*out)[i] = items[i].id;
    free(items);
    return n;
}

static json_t *overview(api *a)
{
    const cc *c = a->env.core;
    int64_t now = a->env.now(a->env.app);
    json_t *queues = json_array(), *agents = json_array(), *convs = json_array(), *row;
    uint32_t *ids;
    size_t n = kind_ids(c, CC_KIND_QUEUE, &ids);
    for (size_t i = 0; i < n; i++)
        if (queue_row(a, ids[i], now, &row))
            json_array_append_new(queues, row);
    free(ids);
    n = kind_ids(c, CC_KIND_AGENT, &ids);
    for (size_t i = 0; i < n; i++)
        if (agent_row(a, ids[i], now, &row))
            json_array_append_new(agents, row);
    free(ids);
    n = cc_conv_count(c);
    ids = xmalloc((n + 1) * sizeof *ids);
    n = cc_conv_list(c, ids, n);
    for (size_t i = 0; i < n; i++)
        if (conv_row(a, ids[i], &row))
            json_array_append_new(convs, row);
    free(ids);
    return json_pack("{s:I, s:o, s:o, s:o, s:o}", "now", (json_int_t)now, "queues", queues,
                     "agents", agents, "conversations", convs, "idle_reasons", idle_reasons(c));
}

/* The acting supervisor's username into 'who' (CC_NAME_MAX + 1 bytes):
 * what the core's events record as who did it. Returns 0, or -1 after
 * answering 401. */
static int supervisor_name(api *a, const http_req *req, http_resp *resp, char *who)
{
    store_account acc;
    if (api__session_of(a, req, &acc) != 0) {
        api__resp_error(resp, 401, "not_logged_in", API_MSG_NO_SESSION);
        return -1;
    }
    snprintf(who, CC_NAME_MAX + 1, "%.*s", (int)acc.username.n, acc.username.p);
    return 0;
}

/* POST /api/supervisor/agents/ID/state {"state": "idle"|"logged_out",
 * "reason": N, "message": "..."}: FORCE_STATE in the supervisor's name. */
static void force_state(api *a, const http_req *req, http_resp *resp, uint32_t agent)
{
    char who[CC_NAME_MAX + 1];
    if (supervisor_name(a, req, resp, who) != 0)
        return;
    json_t *j = api__parse_body(req, resp);
    if (!j)
        return;
    const char *st = json_string_value(json_object_get(j, "state"));
    json_t *reason = json_object_get(j, "reason"), *msg = json_object_get(j, "message");
    const char *bad = NULL, *key;
    json_t *v;
    json_object_foreach(j, key, v)
    {
        if (strcmp(key, "state") && strcmp(key, "reason") && strcmp(key, "message"))
            bad = "unknown field: state, reason and message only";
    }
    if (!st || (strcmp(st, "idle") && strcmp(st, "logged_out")))
        bad = "state: \"idle\" (with an idle reason, or none) or \"logged_out\"";
    else if (reason && (!json_is_integer(reason) || json_integer_value(reason) < 0 ||
                        json_integer_value(reason) >= CC_MAX_ID))
        bad = "reason: an idle reason's id";
    else if (msg && (!json_is_string(msg) || strlen(json_string_value(msg)) > CC_NAME_MAX))
        bad = "message: text of at most 200 bytes, shown to the agent";
    if (bad) {
        json_decref(j);
        api__resp_error(resp, 400, "bad_request", bad);
        return;
    }
    cc_cmd cmd = {.type = CC_CMD_FORCE_STATE,
                  .agent = agent,
                  .state = strcmp(st, "idle") == 0 ? CC_AGENT_IDLE : CC_AGENT_LOGGED_OUT,
                  .reason = reason ? (uint32_t)json_integer_value(reason) : 0,
                  .name = str_c(who),
                  .text = msg ? str_c(json_string_value(msg)) : STR_NULL};
    int r = api__store_available(a) ? a->env.apply(a->env.app, &cmd) : -CC_E_STORE;
    json_decref(j);
    if (r < 0) {
        api__resp_error(resp,
                        r == -CC_E_STORE  ? 503
                        : r == -CC_E_BUSY ? 409
                        : r == -CC_E_NO_AGENT ? 404
                                          : 422,
                        cc_err_code(r), cc_err_msg(r));
        return;
    }
    api__respond_after_commit(a, req, resp, json_pack("{s:b}", "ok", 1));
}

/* POST /api/supervisor/conversations/ID/ACTION {"text": "..."}: the
 * supervisor's actions in a conversation, in the supervisor's name. */
static void conv_action(api *a, const http_req *req, http_resp *resp, uint32_t conv,
                        const char *action)
{
    static const struct {
        const char *name;
        int type, text;
    } acts[] = {{"note", CC_CMD_NOTE, 1},           {"barge", CC_CMD_BARGE, 0},
                {"take_over", CC_CMD_TAKE_OVER, 0}, {"leave", CC_CMD_SUP_LEAVE, 0},
                {"send", CC_CMD_SEND, 1},           {"end", CC_CMD_END, 0}};
    size_t i = 0;
    while (i < sizeof acts / sizeof acts[0] && strcmp(acts[i].name, action))
        i++;
    if (i == sizeof acts / sizeof acts[0]) {
        api__resp_error(resp, 404, "not_found",
                        "POST /api/supervisor/conversations/ID/ACTION: note, barge, take_over, "
                        "leave, send or end");
        return;
    }
    char who[CC_NAME_MAX + 1];
    if (supervisor_name(a, req, resp, who) != 0)
        return;
    json_t *j = NULL, *text = NULL;
    if (acts[i].text) {
        if (!(j = api__parse_body(req, resp)))
            return;
        text = json_object_get(j, "text");
        if (!json_is_string(text) || json_object_size(j) != 1) {
            json_decref(j);
            api__resp_error(resp, 400, "bad_request",
                            "send {\"text\": \"...\"}: the text only, at most 1000 characters");
            return;
        }
    }
    cc_cmd cmd = {.type = acts[i].type,
                  .conv = conv,
                  .name = str_c(who),
                  .text = text ? (str){json_string_value(text), json_string_length(text)}
                               : STR_NULL};
    int r = api__store_available(a) ? a->env.apply(a->env.app, &cmd) : -CC_E_STORE;
    json_decref(j);
    if (r < 0) {
        api__resp_error(resp,
                        r == -CC_E_STORE ? 503
                        : r == -CC_E_NO_CONVERSATION ? 404
                        : r == -CC_E_SUPERVISOR || r == -CC_E_CONFERENCE ||
                                r == -CC_E_NOT_OWNER || r == -CC_E_STATE
                            ? 409
                            : 422,
                        cc_err_code(r), cc_err_msg(r));
        return;
    }
    api__respond_after_commit(a, req, resp, json_pack("{s:b}", "ok", 1));
}

void api__supervisor(api *a, const http_req *req, http_resp *resp)
{
    if (api__require_role(a, req, resp, 1) != 0)
        return;
    const char *rest = req->path + strlen("/api/supervisor/");
    if (strncmp(rest, "agents/", 7) == 0 && strcmp(req->method, "POST") == 0) {
        char *end;
        unsigned long id = strtoul(rest + 7, &end, 10);
        if (id == 0 || id >= CC_MAX_ID || strcmp(end, "/state") != 0) {
            api__resp_error(resp, 404, "not_found",
                            "no such call: use POST /api/supervisor/agents/ID/state");
            return;
        }
        force_state(a, req, resp, (uint32_t)id);
        return;
    }
    if (strncmp(rest, "conversations/", 14) == 0 && strcmp(req->method, "POST") == 0) {
        char *end;
        unsigned long id = strtoul(rest + 14, &end, 10);
        if (id == 0 || id >= CC_MAX_ID || *end != '/') {
            api__resp_error(resp, 404, "not_found",
                            "no such call: use POST /api/supervisor/conversations/ID/ACTION");
            return;
        }
        conv_action(a, req, resp, (uint32_t)id, end + 1);
        return;
    }
    if (strcmp(req->method, "GET") != 0) {
        api__resp_error(resp, 405, "method_not_allowed", "read only: use GET");
        return;
    }
    if (strcmp(rest, "overview") == 0) {
        api__resp_json(resp, 200, overview(a));
        return;
    }
    if (strcmp(rest, "csat") == 0) {
        api__csat(a, req, resp);
        return;
    }
    if (strncmp(rest, "conversations/", 14) == 0) {
        char *end;
        unsigned long id = strtoul(rest + 14, &end, 10);
        cc_conv_view v;
        if (*end || id == 0 || id >= CC_MAX_ID ||
            cc_conv_get(a->env.core, (uint32_t)id, &v) != 0) {
            api__resp_error(resp, 404, "not_found", cc_err_msg(-CC_E_NO_CONVERSATION));
            return;
        }
        /* ?unmasked=1: a supervisor or administrator may read it unmasked
         * while masking is on; each such view is in the audit trail */
        char um[16] = ""; /* lws copies "unmasked=1" into it first */
        int unmasked = 0;
        if (http_req_arg(req, "unmasked", um, sizeof um) > 0 && strcmp(um, "1") == 0 &&
            a->mask) {
            store_account who;
            str name = api__session_of(a, req, &who) == 0 ? who.username : STR_LIT("?");
            char target[32];
            snprintf(target, sizeof target, "conversation %lu", id);
            api__audit(a, req, name, "session", "view unmasked conversation", str_c(target),
                       "200");
            unmasked = 1;
        }
        json_t *j = api__supervised_conv(a, &v, unmasked);
        /* who is in it, for the supervisor's actions (docs/supervision.md) */
        json_object_set_new(j, "state", json_string(conv_states[v.state < 6 ? v.state : 5]));
        json_object_set_new(j, "owner_name",
                            api__jstr(cc_name(a->env.core, CC_KIND_AGENT, v.owner)));
        json_object_set_new(j, "supervisor", api__jstr(v.supervisor));
        json_object_set_new(j, "conference",
                            json_string(v.conf_state == CC_CONF_ACTIVE ? "active"
                                        : v.conf_state                ? "requested"
                                                                      : "none"));
        json_object_set_new(j, "guest_name",
                            api__jstr(cc_name(a->env.core, CC_KIND_AGENT, v.guest)));
        api__resp_json(resp, 200, j);
        return;
    }
    api__resp_error(resp, 404, "not_found",
                    "no such supervisor resource: check the path (docs/api.md lists them)");
}

/* ---- the live feed ------------------------------------------------------ */
/*
 * Each page gets the queues and a slice of the agents and of the open
 * conversations (ascending ids, "offset" and "limit" from the page's
 * {"type": "view"}, 100 each by default). The first frame is an
 * "overview" with all of it; after events a "delta" with only the rows
 * whose content changed since that page's last frame, and the slice's ids
 * when they changed (docs/api.md). What a page last got is kept as one
 * fingerprint per row (fp_add), so a push looks at the queues and the
 * page's slices only: its cost does not grow with the site's agents or
 * open conversations, only with what changed in view.
 */

#define FEED_LIMIT 100     /* rows of a slice unless the page asks */
#define FEED_LIMIT_MAX 500 /* at most */

typedef struct feed_list { /* a slice as the page last got it */
    uint32_t offset, limit;
    uint32_t *ids;  /* ascending */
    uint64_t *fp;   /* their rows' fingerprints */
    size_t n, total;
    int changed; /* the last frame had something new of this list */
} feed_list;

struct api_feed_view {
    feed_list agents, convs, queues; /* queues: all, from 0 */
    uint32_t reading;                /* the conversation the page reads */
    int full;                        /* the next frame is a whole overview */
};

static void list_init(feed_list *l, uint32_t limit)
{
    l->limit = limit;
    l->ids = xrealloc(l->ids, (limit + 1) * sizeof *l->ids);
    l->fp = xrealloc(l->fp, (limit + 1) * sizeof *l->fp);
    l->n = 0;
}

/* Keeps the feed's sorted list of open conversation ids (a->feed_convs)
 * as the events open and close them. */
static void convs_insert(api *a, uint32_t id)
{
    size_t n = a->feed_nconvs, lo = 0, hi = n;
    if (n && a->feed_convs[n - 1] < id)
        lo = n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (a->feed_convs[mid] < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo < n && a->feed_convs[lo] == id)
        return;
    if (n == a->feed_capconvs) {
        a->feed_capconvs = a->feed_capconvs ? a->feed_capconvs * 2 : 256;
        a->feed_convs = xrealloc(a->feed_convs, a->feed_capconvs * sizeof *a->feed_convs);
    }
    memmove(&a->feed_convs[lo + 1], &a->feed_convs[lo], (n - lo) * sizeof *a->feed_convs);
    a->feed_convs[lo] = id;
    a->feed_nconvs++;
}

static void convs_remove(api *a, uint32_t id)
{
    size_t lo = 0, hi = a->feed_nconvs;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (a->feed_convs[mid] < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo < a->feed_nconvs && a->feed_convs[lo] == id) {
        memmove(&a->feed_convs[lo], &a->feed_convs[lo + 1],
                (a->feed_nconvs - lo - 1) * sizeof *a->feed_convs);
        a->feed_nconvs--;
    }
}

/* Rebuilds the id lists from the core (at the first push and after a
 * change of configuration: names, skills, masking). */
static void lists_rebuild(api *a)
{
    const cc *c = a->env.core;
    free(a->feed_agents);
    free(a->feed_queues);
    a->feed_nagents = kind_ids(c, CC_KIND_AGENT, &a->feed_agents);
    a->feed_nqueues = kind_ids(c, CC_KIND_QUEUE, &a->feed_queues);
    size_t n = cc_conv_count(c);
    if (n + 1 > a->feed_capconvs) {
        a->feed_capconvs = n + 256;
        a->feed_convs = xrealloc(a->feed_convs, a->feed_capconvs * sizeof *a->feed_convs);
    }
    a->feed_nconvs = cc_conv_list(c, a->feed_convs, n);
    a->feed_lists = 1;
    for (api_conn *k = a->feeds; k; k = k->next)
        k->fv->full = 1;
}

/* Where 'id' is in ascending 'v' (n: absent). */
static size_t find_id(const uint32_t *v, size_t n, uint32_t id)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (v[mid] < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < n && v[lo] == id ? lo : n;
}

static int has_id(const feed_list *l, uint32_t id, uint64_t *fp)
{
    size_t i = find_id(l->ids, l->n, id);
    if (i == l->n)
        return 0;
    *fp = l->fp[i];
    return 1;
}

static int cmp_u32(const void *x, const void *y)
{
    uint32_t a = *(const uint32_t *)x, b = *(const uint32_t *)y;
    return (a > b) - (a < b);
}

/* The conversations page 'v' shows or reads that had events since the last
 * push (the page reads a transcript anew), or NULL. */
static json_t *touched(api *a, const struct api_feed_view *v)
{
    json_t *t = NULL;
    for (size_t i = 0; i <= v->convs.n; i++) {
        uint32_t id = i < v->convs.n ? v->convs.ids[i] : v->reading;
        if (!id || (i == v->convs.n && find_id(v->convs.ids, v->convs.n, id) < v->convs.n) ||
            find_id(a->feed_touched, a->feed_ntouched, id) == a->feed_ntouched)
            continue;
        if (!t)
            t = json_array();
        json_array_append_new(t, json_integer(id));
    }
    return t;
}

typedef uint64_t (*row_fn)(api *a, uint32_t id, int64_t now, json_t **row);

static uint64_t conv_row_at(api *a, uint32_t id, int64_t now, json_t **row)
{
    (void)now;
    return conv_row(a, id, row);
}

/* One list of a frame: {"total", "offset", "ids" (when the slice's
 * membership changed), "rows" (new or changed)}; the queues: the rows. */
static json_t *list_frame(api *a, feed_list *l, const uint32_t *all, size_t nall, row_fn fn,
                          int64_t now, int full, int bare)
{
    size_t off = l->offset < nall ? l->offset : (nall > l->limit ? nall - l->limit : 0);
    size_t end = off + l->limit < nall ? off + l->limit : nall;
    uint32_t *ids = xmalloc((end - off + 1) * sizeof *ids);
    uint64_t *fps = xmalloc((end - off + 1) * sizeof *fps);
    json_t *rows = json_array();
    size_t n = 0;
    int moved = full || l->n != end - off;
    for (size_t i = off; i < end; i++) {
        uint64_t was = 0, h = fn(a, all[i], now, NULL);
        if (!h) /* gone meanwhile (a conversation closed in this batch) */
            continue;
        int known = !full && has_id(l, all[i], &was);
        moved |= n >= l->n || l->ids[n] != all[i];
        if (!known || was != h) {
            json_t *row = NULL;
            fn(a, all[i], now, &row);
            json_array_append_new(rows, row);
        }
        ids[n] = all[i];
        fps[n++] = h;
    }
    moved |= n != l->n;
    l->changed = moved || json_array_size(rows) || l->total != nall;
    free(l->ids);
    free(l->fp);
    l->ids = ids;
    l->fp = fps;
    l->n = n;
    l->total = nall;
    if (bare)
        return rows;
    json_t *o = json_pack("{s:I, s:I, s:I, s:o}", "total", (json_int_t)nall, "offset",
                          (json_int_t)off, "limit", (json_int_t)l->limit, "rows", rows);
    if (moved) {
        json_t *v = json_array();
        for (size_t i = 0; i < n; i++)
            json_array_append_new(v, json_integer(ids[i]));
        json_object_set_new(o, "ids", v);
    }
    return o;
}

/* The frame for page 'k': an overview when its view is new, a delta
 * otherwise; NULL when nothing it shows changed. */
static json_t *frame(api *a, api_conn *k)
{
    struct api_feed_view *v = k->fv;
    if (!a->feed_lists)
        lists_rebuild(a);
    int64_t now = a->env.now(a->env.app);
    int full = v->full;
    v->queues.offset = 0;
    if (v->queues.limit < a->feed_nqueues + 1)
        list_init(&v->queues, (uint32_t)a->feed_nqueues + 16);
    json_t *queues = list_frame(a, &v->queues, a->feed_queues, a->feed_nqueues, queue_row,
                                now, full, 1);
    json_t *agents = list_frame(a, &v->agents, a->feed_agents, a->feed_nagents, agent_row,
                                now, full, 0);
    json_t *convs =
        list_frame(a, &v->convs, a->feed_convs, a->feed_nconvs, conv_row_at, now, full, 0);
    v->full = 0;
    json_t *t = full ? NULL : touched(a, v);
    if (!full && !t && !v->queues.changed && !v->agents.changed && !v->convs.changed) {
        json_decref(queues);
        json_decref(agents);
        json_decref(convs);
        return NULL;
    }
    json_t *o = json_pack("{s:s, s:I, s:o, s:o, s:o}", "type", full ? "overview" : "delta",
                          "now", (json_int_t)now, "queues", queues, "agents", agents,
                          "conversations", convs);
    if (t)
        json_object_set_new(o, "touched", t);
    if (full)
        json_object_set_new(o, "idle_reasons", idle_reasons(a->env.core));
    return o;
}

static void view_free(struct api_feed_view *v)
{
    if (!v)
        return;
    feed_list *l[3] = {&v->agents, &v->convs, &v->queues};
    for (int i = 0; i < 3; i++) {
        free(l[i]->ids);
        free(l[i]->fp);
    }
    free(v);
}

static struct api_feed_view *view_new(void)
{
    struct api_feed_view *v = xcalloc(1, sizeof *v);
    list_init(&v->agents, FEED_LIMIT);
    list_init(&v->convs, FEED_LIMIT);
    v->full = 1;
    return v;
}

int api__feed_open(api *a, http_ws *ws, void **user)
{
    api_conn *k = xcalloc(1, sizeof *k);
    k->ws = ws;
    k->feed = 1;
    k->fv = view_new();
    k->next = a->feeds;
    a->feeds = k;
    *user = k;
    api__feed_send(a, k);
    return 0;
}

void api__feed_close(api *a, api_conn *k)
{
    for (api_conn **p = &a->feeds; *p; p = &(*p)->next)
        if (*p == k) {
            *p = k->next;
            break;
        }
    view_free(k->fv);
    free(k);
}

/* A whole overview of page 'k' now. */
void api__feed_send(api *a, api_conn *k)
{
    k->fv->full = 1;
    json_t *o = frame(a, k);
    api__send_json(k->ws, o);
    json_decref(o);
}

/* A slice's bounds from {"offset": n, "limit": n} (absent: unchanged). */
static void view_slice(feed_list *l, json_t *j)
{
    json_t *off = json_object_get(j, "offset"), *lim = json_object_get(j, "limit");
    if (json_is_integer(off) && json_integer_value(off) >= 0 &&
        json_integer_value(off) < CC_MAX_ID)
        l->offset = (uint32_t)json_integer_value(off);
    if (json_is_integer(lim) && json_integer_value(lim) >= 1)
        list_init(l, json_integer_value(lim) < FEED_LIMIT_MAX
                         ? (uint32_t)json_integer_value(lim)
                         : FEED_LIMIT_MAX);
}

void api__feed_message(api *a, api_conn *k, str data)
{
    json_t *j = json_loadb(data.p ? data.p : "", data.n, 0, NULL);
    const char *type = json_string_value(json_object_get(j, "type"));
    if (type && strcmp(type, "view") == 0) {
        view_slice(&k->fv->agents, json_object_get(j, "agents"));
        view_slice(&k->fv->convs, json_object_get(j, "conversations"));
        json_t *r = json_object_get(j, "reading");
        if (json_is_integer(r) && json_integer_value(r) >= 0 && json_integer_value(r) < CC_MAX_ID)
            k->fv->reading = (uint32_t)json_integer_value(r);
    }
    json_decref(j);
    api__feed_send(a, k); /* the view asked for, or anything else: a fresh overview */
}

void api__feed_events(api *a, const cc_events *evs)
{
    for (size_t i = 0; i < evs->n; i++) {
        const cc_event *e = &evs->v[i];
        api__today_event(a, e);
        if ((e->type >= CC_EV_TEAM_PUT && e->type <= CC_EV_IDLE_REASON_REMOVED) ||
            (e->type >= CC_EV_SKILL_PUT && e->type <= CC_EV_QUEUE_SKILLS))
            a->feed_lists = 0; /* names, skills, who exists: every page anew */
        else if (e->type == CC_EV_CONV_OPENED && a->feed_lists)
            convs_insert(a, e->conv);
        else if (e->type == CC_EV_CLOSED && a->feed_lists)
            convs_remove(a, e->conv);
        if (e->conv && a->feeds) {
            if (a->feed_ntouched == a->feed_captouched) {
                a->feed_captouched = a->feed_captouched ? a->feed_captouched * 2 : 256;
                a->feed_touched =
                    xrealloc(a->feed_touched, a->feed_captouched * sizeof *a->feed_touched);
            }
            a->feed_touched[a->feed_ntouched++] = e->conv;
        }
    }
    if (evs->n)
        a->feed_dirty = 1;
}

/* The frame of every page, sent; the bytes sent in all. */
static size_t push(api *a)
{
    size_t bytes = 0;
    if (a->feed_ntouched)
        qsort(a->feed_touched, a->feed_ntouched, sizeof *a->feed_touched, cmp_u32);
    for (api_conn *k = a->feeds; k; k = k->next) {
        json_t *o = frame(a, k);
        if (!o)
            continue;
        char *s = json_dumps(o, JSON_COMPACT);
        json_decref(o);
        if (!s)
            continue;
        bytes += strlen(s);
        if (k->ws)
            http_ws_send(k->ws, s, strlen(s));
        free(s);
    }
    a->feed_ntouched = 0;
    return bytes;
}

void api_feed_flush(api *a)
{
    int64_t t0 = a->env.now(a->env.app);
    if (!a->feed_dirty || !a->feeds || t0 < a->feed_next)
        return;
    a->feed_dirty = 0;
    int64_t m0 = loop_clock_mono_now();
    push(a);
    /* a big change (every page anew) takes a while to render: wait nine
     * times as long before the next, so the feed stays within a tenth of
     * the loop. The time it took is read afresh: env.now is the loop
     * turn's reading, the same before and after */
    a->feed_next = t0 + 9 * (loop_clock_mono_now() - m0);
}

size_t api_feed_render(api *a)
{
    json_t *o = overview(a);
    json_object_set_new(o, "type", json_string("overview"));
    char *s = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    size_t n = s ? strlen(s) : 0;
    free(s);
    return n;
}

size_t api_feed_page(api *a, int open)
{
    if (open) {
        api_conn *k = xcalloc(1, sizeof *k);
        k->feed = 1;
        k->fv = view_new();
        k->next = a->feeds;
        a->feeds = k;
    }
    a->feed_dirty = 0;
    return push(a);
}

void api__feed_free(api *a)
{
    while (a->feeds) {
        api_conn *k = a->feeds;
        a->feeds = k->next;
        view_free(k->fv);
        free(k);
    }
    free(a->feed_agents);
    free(a->feed_queues);
    free(a->feed_convs);
    free(a->feed_touched);
    report_free(a->today);
    api_snaps_free(a->snaps);
}
