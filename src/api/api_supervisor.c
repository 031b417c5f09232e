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

static json_t *overview(api *a)
{
    const cc *c = a->env.core;
    int64_t now = a->env.now(a->env.app);
    json_t *queues = json_array(), *agents = json_array(), *convs = json_array();

    size_t n = cc_list(c, CC_KIND_QUEUE, NULL, 0);
    cc_item *items = xmalloc((n + 1) * sizeof *items);
    cc_list(c, CC_KIND_QUEUE, items, n);
    for (size_t i = 0; i < n; i++) {
        cc_queue_view q;
        cc_queue_get(c, items[i].id, &q);
        api_qcount k = api__queue_counts(a, q.id);
        report_row today;
        int64_t sl_ms = 0;
        int has = api__today_queue(a, q.id, &today, &sl_ms) == 0;
        json_t *sl = has && today.sl_base ? json_real((double)(int64_t)(1000.0 * today.sl_met /
                                                                          today.sl_base + 0.5) /
                                                      10)
                                          : json_null();
        json_t *row = json_pack(
            "{s:i, s:o, s:i, s:I, s:I, s:I, s:I, s:I}", "id", (int)q.id, "name",
            api__jstr(q.name), "waiting", (int)q.waiting, "longest_wait_ms",
            (json_int_t)(q.waiting && now > q.oldest_key ? now - q.oldest_key : 0), "offered",
            (json_int_t)k.offered, "answered", (json_int_t)k.answered, "terminated",
            (json_int_t)k.terminated, "rona", (json_int_t)k.rona);
        json_object_set_new(row, "sl_today_pct", sl);
        json_object_set_new(row, "sl_threshold_s", json_integer(sl_ms / 1000));
        json_object_set_new(row, "offered_today", json_integer(has ? (json_int_t)today.offered : 0));
        json_object_set_new(row, "accepted_today",
                            json_integer(has ? (json_int_t)today.accepted : 0));
        json_object_set_new(row, "skills", skills_json(c, q.skills, q.n_skills));
        json_object_set_new(row, "widen_step_s", json_integer((json_int_t)(q.widen_ms / 1000)));
        json_array_append_new(queues, row);
    }
    free(items);

    n = cc_list(c, CC_KIND_AGENT, NULL, 0);
    items = xmalloc((n + 1) * sizeof *items);
    cc_list(c, CC_KIND_AGENT, items, n);
    for (size_t i = 0; i < n; i++) {
        cc_agent_view v;
        cc_agent_get(c, items[i].id, &v);
        cc_skill sk[CC_SKILLS_MAX];
        size_t nsk = cc_agent_skills(c, v.id, sk, CC_SKILLS_MAX);
        json_array_append_new(
            agents, json_pack("{s:i, s:o, s:s, s:I, s:b, s:i, s:i, s:i, s:o}", "id", (int)v.id,
                              "name",
                              api__jstr(v.name), "state", agent_states[v.state & 3],
                              "in_state_ms",
                              (json_int_t)(v.state_since && now > v.state_since
                                               ? now - v.state_since
                                               : 0),
                              "connected", v.connected, "load", (int)v.load, "reserved",
                              (int)v.reserved, "capacity", (int)v.capacity, "skills",
                              skills_json(c, sk, nsk)));
    }
    free(items);

    n = cc_conv_count(c);
    uint32_t *ids = xmalloc((n + 1) * sizeof *ids);
    n = cc_conv_list(c, ids, n);
    for (size_t i = 0; i < n; i++) {
        cc_conv_view v;
        if (cc_conv_get(c, ids[i], &v) != 0)
            continue;
        cc_skill xs[CC_SKILLS_MAX];
        size_t nxs = cc_conv_skills(c, v.id, xs, CC_SKILLS_MAX);
        json_t *o =
            json_pack("{s:i, s:o, s:s, s:o, s:o, s:I, s:b, s:o, s:i}", "id", (int)v.id,
                      "queue_name", api__jstr(cc_name(c, CC_KIND_QUEUE, v.queue)),
                      "state", conv_states[v.state < 6 ? v.state : 5], "owner_name",
                      api__jstr(cc_name(c, CC_KIND_AGENT, v.owner)), "guest_name",
                      api__jstr(cc_name(c, CC_KIND_AGENT, v.guest)), "opened_at",
                      (json_int_t)v.opened_at, "outbound", v.outbound, "skills",
                      skills_json(c, xs, nxs), "widened", (int)v.widened);
        api__view_numbers(a, o, v.number, v.ep_number);
        json_object_set_new(o, "supervisor", api__jstr(v.supervisor));
        json_array_append_new(convs, o);
    }
    free(ids);
    json_t *reasons = json_array();
    n = cc_list(c, CC_KIND_IDLE_REASON, NULL, 0);
    items = xmalloc((n + 1) * sizeof *items);
    cc_list(c, CC_KIND_IDLE_REASON, items, n);
    for (size_t i = 0; i < n; i++)
        json_array_append_new(reasons, json_pack("{s:i, s:o}", "id", (int)items[i].id, "name",
                                                 api__jstr(items[i].name)));
    free(items);
    return json_pack("{s:I, s:o, s:o, s:o, s:o}", "now", (json_int_t)now, "queues", queues,
                     "agents", agents, "conversations", convs, "idle_reasons", reasons);
}

/* The acting supervisor's username into 'who' (CC_NAME_MAX + 1 bytes):
 * what the core's events record as who did it. Returns 0, or -1 after
 * answering 401. */
static int supervisor_name(api *a, const http_req *req, http_resp *resp, char *who)
{
    store_account acc;
    if (api__session_of(a, req, &acc) != 0) {
        api__resp_error(resp, 401, "not_logged_in", "no valid session");
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
            api__resp_error(resp, 404, "not_found", "POST /api/supervisor/agents/ID/state");
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
                            "POST /api/supervisor/conversations/ID/ACTION");
            return;
        }
        conv_action(a, req, resp, (uint32_t)id, end + 1);
        return;
    }
    if (strcmp(req->method, "GET") != 0) {
        api__resp_error(resp, 405, "method_not_allowed", "read only");
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
            api__resp_error(resp, 404, "not_found", "no such open conversation");
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
    api__resp_error(resp, 404, "not_found", "no such supervisor resource");
}

/* ---- the live feed ------------------------------------------------------ */

int api__feed_open(api *a, http_ws *ws, void **user)
{
    api_conn *k = xcalloc(1, sizeof *k);
    k->ws = ws;
    k->feed = 1;
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
    free(k);
}

void api__feed_send(api *a, api_conn *k)
{
    json_t *o = overview(a);
    json_object_set_new(o, "type", json_string("overview"));
    api__send_json(k->ws, o);
    json_decref(o);
}

void api__feed_events(api *a, const cc_events *evs)
{
    for (size_t i = 0; i < evs->n; i++)
        api__today_event(a, &evs->v[i]);
    if (evs->n)
        a->feed_dirty = 1;
}

/* The overview push as JSON text (malloc'd; NULL when out of memory). */
static char *render(api *a)
{
    json_t *o = overview(a);
    json_object_set_new(o, "type", json_string("overview"));
    char *s = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    return s;
}

void api_feed_flush(api *a)
{
    int64_t t0 = a->env.now(a->env.app);
    if (!a->feed_dirty || !a->feeds || t0 < a->feed_next)
        return;
    a->feed_dirty = 0;
    int64_t m0 = loop_clock_mono_now();
    char *s = render(a); /* one rendering for every page */
    for (api_conn *k = a->feeds; k && s; k = k->next)
        http_ws_send(k->ws, s, strlen(s));
    free(s);
    /* a big site's overview takes a while to render: wait nine times as
     * long before the next, so the feed stays within a tenth of the loop.
     * The time it took is read afresh: env.now is the loop turn's reading,
     * the same before and after (so the wait was always 0) */
    a->feed_next = t0 + 9 * (loop_clock_mono_now() - m0);
}

size_t api_feed_render(api *a)
{
    char *s = render(a);
    size_t n = s ? strlen(s) : 0;
    free(s);
    return n;
}

void api__feed_free(api *a)
{
    while (a->feeds) {
        api_conn *k = a->feeds;
        a->feeds = k->next;
        free(k);
    }
    report_free(a->today);
}
