/*
 * api_view.c: what each reader sees of the contact center (api_int.h): a
 * desktop's snapshot, conversations, transcript and the customer's history,
 * the messages pushed to it, a supervisor's conversation and the numbers of
 * lists and reports; and with it every masking decision of the API. Customer
 * data (numbers, names, variables, message text, survey comments) leaves
 * through api__jmask_if only: masked when the setting is on, unmasked only
 * where a caller asks for it (a supervisor's audited ?unmasked=1, a webhook
 * subscription that asked for unmasked data).
 */
#include "api/api_int.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "mask/mask.h"
#include "util/xalloc.h"

static const char *const state_names[] = {"logged_out", "idle", "available", "rona"};
static const char *const conv_state_names[] = {"queued",     "offered", "assigned",
                                               "terminated", "wrapup",  "closed"};
static const char *const conf_names[] = {"none", "requested", "active"};

/* ---- the masking decision -------------------------------------------- */

/* A string of customer data as a reader is allowed to see it: masked
 * (mask.h) when 'masked'. Every masked field of the API goes through here. */
json_t *api__jmask_if(str s, int masked)
{
    if (!masked || s.n == 0)
        return api__jstr(s);
    char small[512];
    char *out = s.n <= sizeof small ? small : xmalloc(s.n);
    size_t n = mask_apply(s.p, s.n, MASK_ALL, out, s.n);
    json_t *j = api__jstr((str){out, n});
    if (out != small)
        free(out);
    return j;
}

/* ... masked when the setting is on (a desktop, a supervisor's page, a
 * report), so that no unmasked value reaches them. */
static json_t *jmask(const api *a, str s)
{
    return api__jmask_if(s, a->mask);
}

void api__view_numbers(const api *a, json_t *obj, str number, str ep_number)
{
    json_object_set_new(obj, "number", jmask(a, number));
    json_object_set_new(obj, "ep_number", jmask(a, ep_number));
}

/* ---- a desktop's views --------------------------------------------------- */

json_t *api__agent_json(const api *a, uint32_t agent)
{
    cc_agent_view v;
    if (cc_agent_get(a->env.core, agent, &v) != 0)
        return json_null();
    return json_pack("{s:i, s:o, s:s, s:i, s:b, s:i, s:i, s:i, s:b, s:I}", "id",
                     (int)v.id, "name", api__jstr(v.name), "state",
                     v.state >= 0 && v.state < 4 ? state_names[v.state] : "?",
                     "idle_reason", (int)v.idle_reason, "connected", v.connected,
                     "capacity", (int)v.capacity, "load", (int)v.load, "reserved",
                     (int)v.reserved, "engaged", v.engaged, "state_since",
                     (json_int_t)v.state_since);
}

/* How 'agent' relates to conversation 'v'; NULL when it does not. */
const char *api__role_of(const api *a, const cc_conv_view *v, uint32_t agent)
{
    if (v->owner == agent)
        return "owner";
    if (v->guest == agent)
        return v->conf_state == CC_CONF_ACTIVE ? "guest" : "invited";
    if (v->offered_to == agent)
        return "offered";
    if (cc_wrapup_due(a->env.core, agent, v->id))
        return "wrapup";
    return NULL;
}

json_t *api__conv_json(const api *a, const cc_conv_view *v, uint32_t agent)
{
    const cc *c = a->env.core;
    const char *role = api__role_of(a, v, agent);
    int64_t wd = cc_wrapup_deadline(c, agent, v->id);
    json_t *vars = json_object();
    json_object_set_new(vars, "customer_number", jmask(a, v->number));
    json_object_set_new(vars, "entry_point", jmask(a, v->ep_number));
    str keys[CC_VARS_MAX], values[CC_VARS_MAX];
    size_t nv = cc_conv_vars(c, v->id, keys, values, CC_VARS_MAX);
    for (size_t i = 0; i < nv && i < CC_VARS_MAX; i++) {
        char *k = xmemdup0(keys[i].p, keys[i].n);
        json_object_set_new(vars, k, jmask(a, values[i]));
        free(k);
    }
    json_t *j = json_pack(
        "{s:i, s:o, s:o, s:o, s:i, s:o, s:s, s:s, s:s, s:s, s:i, s:o, s:i, s:o, s:b, "
        "s:I, s:I}",
        "id", (int)v->id, "number", jmask(a, v->number), "ep_number",
        jmask(a, v->ep_number), "name", jmask(a, v->name), "queue", (int)v->queue,
        "queue_name", api__jstr(cc_name(c, CC_KIND_QUEUE, v->queue)), "state",
        conv_state_names[v->state < 6 ? v->state : 5], "role", role ? role : "none",
        "offer_kind", v->offer_kind == CC_OFFER_TRANSFER ? "transfer" : "route",
        "conference", conf_names[v->conf_state < 3 ? v->conf_state : 0], "owner",
        (int)v->owner, "owner_name", api__jstr(cc_name(c, CC_KIND_AGENT, v->owner)),
        "guest", (int)v->guest, "guest_name",
        api__jstr(cc_name(c, CC_KIND_AGENT, v->guest)), "outbound", v->outbound,
        "opened_at", (json_int_t)v->opened_at, "offer_deadline",
        (json_int_t)(v->offered_to == agent ? v->offer_deadline : 0));
    json_object_set_new(j, "terminated",
                        v->terminated ? json_string(cc_why_name(v->terminated))
                                      : json_null());
    json_object_set_new(j, "opted_out", json_boolean(v->opted_out));
    json_object_set_new(j, "from_agent", json_integer(v->transferred_by));
    json_object_set_new(j, "from_agent_name",
                        api__jstr(cc_name(c, CC_KIND_AGENT, v->transferred_by)));
    json_object_set_new(j, "wrapup_due", json_boolean(wd >= 0));
    json_object_set_new(j, "wrapup_deadline", json_integer(wd > 0 ? wd : 0));
    json_object_set_new(j, "variables", vars);
    json_object_set_new(j, "supervisor", api__jstr(v->supervisor));
    return j;
}

json_t *api__list_json(const api *a, int kind)
{
    const cc *c = a->env.core;
    size_t n = cc_list(c, kind, NULL, 0);
    cc_item *items = xmalloc((n + 1) * sizeof *items);
    cc_list(c, kind, items, n);
    json_t *arr = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(arr,
                              json_pack("{s:i, s:o}", "id", (int)items[i].id,
                                        kind == CC_KIND_EP ? "number" : "name",
                                        kind == CC_KIND_EP ? jmask(a, items[i].name)
                                                           : api__jstr(items[i].name)));
    free(items);
    return arr;
}

json_t *api__snapshot(const api *a, uint32_t agent)
{
    const cc *c = a->env.core;
    size_t n = cc_agent_convs(c, agent, NULL, 0);
    uint32_t *ids = xmalloc((n + 1) * sizeof *ids);
    cc_agent_convs(c, agent, ids, n);
    json_t *convs = json_array();
    for (size_t i = 0; i < n; i++) {
        cc_conv_view v;
        if (cc_conv_get(c, ids[i], &v) == 0)
            json_array_append_new(convs, api__conv_json(a, &v, agent));
    }
    free(ids);
    return json_pack("{s:s, s:i, s:o, s:o, s:o, s:o, s:o, s:o}", "type", "snapshot",
                     "protocol", API_PROTOCOL_VERSION, "me", api__agent_json(a, agent),
                     "conversations", convs, "queues", api__list_json(a, CC_KIND_QUEUE),
                     "entry_points", api__list_json(a, CC_KIND_EP), "wrapup_reasons",
                     api__list_json(a, CC_KIND_REASON), "idle_reasons",
                     api__list_json(a, CC_KIND_IDLE_REASON));
}

/* An internal note's text and a supervisor's name on a transcript line
 * (masked like every text an agent reads). */
static void note_fields(json_t *o, str name, str text, int masked)
{
    if (name.n)
        json_object_set_new(o, "supervisor", json_stringn(name.p, name.n));
    if (text.n)
        json_object_set_new(o, "text", api__jmask_if(text, masked));
}

void api__note_fields(const api *a, json_t *o, str name, str text)
{
    note_fields(o, name, text, a->mask);
}

typedef struct msg_walk {
    const api *a;
    int masked;
    json_t *arr;
    json_t *keys; /* each entry's event seq, to merge messages and notes */
} msg_walk;

static int msg_collect(void *arg, const store_msg *m)
{
    msg_walk *w = arg;
    json_array_append_new(
        w->arr,
        json_pack("{s:s, s:i, s:s, s:o, s:i, s:o, s:I, s:s, s:o}", "kind", "message",
                  "seq", (int)m->seq, "dir", m->outbound ? "out" : "in", "text",
                  api__jmask_if(m->text, w->masked), "agent", (int)m->agent, "agent_name",
                  api__jstr(cc_name(w->a->env.core, CC_KIND_AGENT, m->agent)), "at",
                  (json_int_t)m->at, "status", store_msg_status_name(m->status), "error",
                  api__jstr(m->error)));
    if (m->outbound && !m->agent)
        note_fields(json_array_get(w->arr, json_array_size(w->arr) - 1), m->name,
                    STR_NULL, w->masked);
    json_array_append_new(w->keys, json_integer(m->id));
    return 0;
}

static int note_collect(void *arg, const store_note *n)
{
    msg_walk *w = arg;
    if (n->type == CC_EV_QUEUED && n->code == CC_WHY_NEW)
        return 0; /* every conversation starts so */
    const cc *c = w->a->env.core;
    uint32_t who =
        n->type == CC_EV_CONF_JOINED || n->type == CC_EV_CONF_LEFT ? n->target : n->agent;
    json_t *o = json_pack(
        "{s:s, s:s, s:s, s:i, s:o, s:o, s:o, s:I}", "kind", "system", "event",
        cc_ev_name(n->type), "why", cc_why_name(n->code), "agent", (int)who, "agent_name",
        api__jstr(cc_name(c, CC_KIND_AGENT, who)), "target_name",
        api__jstr(cc_name(c, CC_KIND_AGENT, n->target)), "queue_name",
        api__jstr(cc_name(c, CC_KIND_QUEUE, n->queue)), "at", (json_int_t)n->at);
    note_fields(o, n->name, n->text, w->masked);
    json_array_append_new(w->arr, o);
    json_array_append_new(w->keys, json_integer(n->seq));
    return 0;
}

/* The transcript: messages and system notes, in the order they happened. */
static json_t *transcript(const api *a, uint32_t conv, int masked)
{
    msg_walk w = {a, masked, json_array(), json_array()};
    store_msgs_of_conv(a->env.st, conv, msg_collect, &w);
    size_t nmsg = json_array_size(w.arr);
    store_notes(a->env.st, conv, note_collect, &w);
    size_t n = json_array_size(w.arr);
    json_t *out = json_array();
    size_t i = 0, k = nmsg; /* both runs are in seq order: merge them */
    while (i < nmsg || k < n) {
        int take_msg =
            k >= n || (i < nmsg && json_integer_value(json_array_get(w.keys, i)) <
                                       json_integer_value(json_array_get(w.keys, k)));
        json_array_append(out, json_array_get(w.arr, take_msg ? i++ : k++));
    }
    json_decref(w.arr);
    json_decref(w.keys);
    return out;
}

typedef struct hist_walk {
    api *a;
    json_t *arr;
    uint32_t skip; /* the conversation being asked about */
} hist_walk;

static int wrap_collect(void *arg, uint32_t agent, uint32_t reason, int64_t at)
{
    hist_walk *w = arg;
    const cc *c = w->a->env.core;
    json_t *last = json_array_get(w->arr, json_array_size(w->arr) - 1);
    json_array_append_new(
        json_object_get(last, "wrapups"),
        json_pack("{s:i, s:o, s:i, s:o, s:I}", "agent", (int)agent, "agent_name",
                  api__jstr(cc_name(c, CC_KIND_AGENT, agent)), "reason", (int)reason,
                  "reason_name", api__jstr(cc_name(c, CC_KIND_REASON, reason)), "at",
                  (json_int_t)at));
    return 0;
}

/* The customer's satisfaction answer for that conversation (masked like
 * other customer text). */
static int csat_collect(void *arg, int score, str comment, int64_t at, uint32_t agent)
{
    hist_walk *w = arg;
    json_t *last = json_array_get(w->arr, json_array_size(w->arr) - 1);
    json_object_set_new(last, "csat",
                        json_pack("{s:i, s:o, s:I, s:i}", "score", score, "comment",
                                  jmask(w->a, comment), "at", (json_int_t)at, "agent",
                                  (int)agent));
    return 0;
}

static int hist_collect(void *arg, const store_hist *h)
{
    hist_walk *w = arg;
    if (h->conv == w->skip)
        return 0;
    json_array_append_new(
        w->arr, json_pack("{s:i, s:I, s:I, s:o, s:[]}", "conv", (int)h->conv, "opened_at",
                          (json_int_t)h->opened_at, "closed_at", (json_int_t)h->closed_at,
                          "ep_number", jmask(w->a, h->ep_number), "wrapups"));
    return 0;
}

/* The customer's earlier conversations, for one the agent is in. */
json_t *api__history_json(api *a, const cc_conv_view *v)
{
    hist_walk w = {a, json_array(), v->id};
    store_history(a->env.st, v->number, 50, hist_collect, &w);
    json_t *e;
    size_t i;
    json_array_foreach(w.arr, i, e)
    {
        hist_walk one = {a, json_array(), 0};
        json_array_append(one.arr, e);
        store_wrapups(a->env.st, (uint32_t)json_integer_value(json_object_get(e, "conv")),
                      wrap_collect, &one);
        store_csat(a->env.st, (uint32_t)json_integer_value(json_object_get(e, "conv")),
                   csat_collect, &one);
        json_decref(one.arr);
    }
    return json_pack("{s:i, s:o}", "conv", (int)v->id, "history", w.arr);
}

json_t *api__transcript(const api *a, uint32_t conv)
{
    return transcript(a, conv, a->mask);
}

/* ---- what is pushed as it happens ------------------------------------- */

json_t *api__message_json(const api *a, const cc_event *e)
{
    const cc *c = a->env.core;
    json_t *j = json_pack(
        "{s:s, s:i, s:o}", "type", "message", "conv", (int)e->conv, "message",
        json_pack("{s:i, s:s, s:o, s:i, s:o, s:I, s:s}", "seq", (int)e->msg_seq, "dir",
                  e->type == CC_EV_MSG_IN ? "in" : "out", "text", jmask(a, e->text),
                  "agent", (int)e->agent, "agent_name",
                  api__jstr(cc_name(c, CC_KIND_AGENT, e->agent)), "at", (json_int_t)e->at,
                  "status", e->type == CC_EV_MSG_IN ? "received" : "queued"));
    if (e->type == CC_EV_MSG_OUT && !e->agent) /* a supervisor's */
        note_fields(json_object_get(j, "message"), e->name, STR_NULL, a->mask);
    return j;
}

/* ---- a supervisor's view ------------------------------------------------ */

json_t *api__supervised_conv(const api *a, const cc_conv_view *v, int unmasked)
{
    int masked = a->mask && !unmasked;
    return json_pack("{s:i, s:o, s:o, s:o, s:b}", "id", (int)v->id, "number",
                     api__jmask_if(v->number, masked), "ep_number",
                     api__jmask_if(v->ep_number, masked), "messages",
                     transcript(a, v->id, masked), "masked", masked);
}
