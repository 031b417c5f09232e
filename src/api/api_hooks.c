/*
 * api_hooks.c: outgoing event webhooks, the wire side (docs/integration.md):
 * the kinds of events a subscription can want, the JSON payload of one item
 * of the store's feed (store_feed), and the administrator's REST:
 *
 *   GET    /api/admin/webhooks       every subscription with its delivery
 *                                    status (delivered, failures, last
 *                                    answer, how far behind)
 *   POST   /api/admin/webhooks       {name, url, events: [kind...] or ["*"],
 *                                    masked: true}: the signing secret is
 *                                    answered once, here
 *   DELETE /api/admin/webhooks/ID
 *
 * Deliveries themselves (the cursor, signing, retries) are the
 * application's (app/app_hooks.c): the API only tells it the subscriptions
 * changed (api_env.hooks_changed).
 */
#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api_int.h"
#include "api/api_parse.h"
#include "net/net_http.h"
#include "util/xalloc.h"

#define HOOK_NAME_MAX 64
#define HOOK_URL_MAX 512
#define HOOKS_MAX 32

static const char *const KINDS[API_HOOK_NKINDS] = {
    "conversation.started", "conversation.accepted", "message.in",
    "message.out",          "message.status",        "conversation.transferred",
    "conversation.ended",   "conversation.wrapped_up", "conversation.closed",
    "agent.state",          "customer.opted_out",    "customer.opted_in",
};

const char *api_hook_kind_name(int kind)
{
    return kind >= 0 && kind < API_HOOK_NKINDS ? KINDS[kind] : "?";
}

int api_hook_kind(int type)
{
    switch (type) {
    case -1:
        return 4;
    case CC_EV_CONV_OPENED:
        return 0;
    case CC_EV_ACCEPTED:
        return 1;
    case CC_EV_MSG_IN:
        return 2;
    case CC_EV_MSG_OUT:
        return 3;
    case CC_EV_TRANSFERRED:
        return 5;
    case CC_EV_ENDED:
    case CC_EV_TERMINATED:
        return 6;
    case CC_EV_WRAPPED_UP:
        return 7;
    case CC_EV_CLOSED:
        return 8;
    case CC_EV_AGENT_STATE:
        return 9;
    case CC_EV_OPTED_OUT:
        return 10;
    case CC_EV_OPTED_IN:
        return 11;
    default:
        return -1;
    }
}

/* A string of customer data: masked for a masked subscription
 * (api_view.c), null when empty. */
static json_t *cust(str s, int masked)
{
    return s.n == 0 ? json_null() : api__jmask_if(s, masked);
}

static json_t *id_or_null(uint32_t id)
{
    return id ? json_integer(id) : json_null();
}

char *api_hook_payload(const store_feed_item *it, int masked, char *id, size_t idn)
{
    static const char *const states[] = {"logged_out", "idle", "available", "rona"};
    int kind = api_hook_kind(it->type);
    if (kind < 0)
        return NULL;
    if (it->sid)
        snprintf(id, idn, "evt_%lld_%lld", (long long)it->seq, (long long)it->sid);
    else
        snprintf(id, idn, "evt_%lld", (long long)it->seq);
    json_t *d = json_object();
    switch (it->type) {
    case CC_EV_CONV_OPENED:
        json_object_set_new(d, "number", cust(it->number, masked));
        json_object_set_new(d, "ep_number", cust(it->ep_number, masked));
        json_object_set_new(d, "entry_point", id_or_null(it->ep));
        json_object_set_new(d, "queue", id_or_null(it->queue));
        json_object_set_new(d, "outbound", json_boolean(it->kind == 1));
        json_object_set_new(d, "agent", id_or_null(it->agent));
        break;
    case CC_EV_MSG_IN:
    case CC_EV_MSG_OUT:
        json_object_set_new(d, "message", json_integer(it->msg));
        json_object_set_new(d, "number", cust(it->number, masked));
        json_object_set_new(d, "ep_number", cust(it->ep_number, masked));
        json_object_set_new(d, "text", cust(it->text, masked));
        if (it->type == CC_EV_MSG_OUT) {
            json_object_set_new(d, "agent", id_or_null(it->agent));
            json_object_set_new(d, "status", json_string("queued"));
        }
        break;
    case -1:
        json_object_set_new(d, "message", json_integer(it->msg));
        json_object_set_new(d, "status", json_string(store_msg_status_name(it->status)));
        json_object_set_new(d, "error", it->error.n ? api__jstr(it->error) : json_null());
        json_object_set_new(d, "agent", id_or_null(it->agent));
        break;
    case CC_EV_ACCEPTED:
        json_object_set_new(d, "agent", id_or_null(it->agent));
        break;
    case CC_EV_TRANSFERRED:
        json_object_set_new(d, "from_agent", id_or_null(it->agent));
        json_object_set_new(d, "to_queue", id_or_null(it->queue));
        json_object_set_new(d, "to_agent", id_or_null(it->target));
        break;
    case CC_EV_ENDED:
    case CC_EV_TERMINATED:
        json_object_set_new(d, "agent", id_or_null(it->agent));
        json_object_set_new(d, "cause", json_string(it->type == CC_EV_ENDED
                                                         ? "agent"
                                                         : cc_why_name(it->code)));
        break;
    case CC_EV_WRAPPED_UP:
        json_object_set_new(d, "agent", id_or_null(it->agent));
        json_object_set_new(d, "wrapup_reason", id_or_null(it->reason));
        json_object_set_new(d, "cause", json_string(cc_why_name(it->code)));
        break;
    case CC_EV_CLOSED:
        json_object_set_new(d, "cause", json_string(cc_why_name(it->code)));
        break;
    case CC_EV_AGENT_STATE:
        json_object_set_new(d, "agent", json_integer(it->agent));
        json_object_set_new(d, "state", json_string(it->state >= 0 && it->state < 4
                                                        ? states[it->state]
                                                        : "?"));
        json_object_set_new(d, "idle_reason", id_or_null(it->reason));
        json_object_set_new(d, "cause", json_string(cc_why_name(it->code)));
        break;
    case CC_EV_OPTED_OUT:
    case CC_EV_OPTED_IN:
        json_object_set_new(d, "number", cust(it->number, masked));
        json_object_set_new(d, "entry_point", id_or_null(it->ep));
        break;
    default:
        break;
    }
    json_t *j = json_pack("{s:s, s:s, s:I, s:o, s:o}", "id", id, "type", KINDS[kind], "at",
                          (json_int_t)it->at, "conversation",
                          it->type == CC_EV_AGENT_STATE ? json_null() : id_or_null(it->conv),
                          "data", d);
    char *s = json_dumps(j, JSON_COMPACT);
    json_decref(j);
    return s;
}

/* ---- /api/admin/webhooks ------------------------------------------------ */

static json_t *kinds_json(uint32_t events)
{
    json_t *arr = json_array();
    for (int k = 0; k < API_HOOK_NKINDS; k++)
        if (events & (1u << k))
            json_array_append_new(arr, json_string(KINDS[k]));
    return arr;
}

typedef struct hook_list {
    json_t *arr;
    uint64_t last;
} hook_list;

static int hook_cb(void *arg, const store_hook *h)
{
    hook_list *l = arg;
    json_t *j = json_pack("{s:I, s:o, s:o, s:o, s:b, s:o, s:I, s:I, s:I}", "id",
                          (json_int_t)h->id, "name", api__jstr(h->name), "url",
                          api__jstr(h->url), "events", kinds_json(h->events), "masked",
                          h->masked, "created_by", api__jstr(h->created_by), "created_at",
                          (json_int_t)h->created_at, "delivered", (json_int_t)h->delivered,
                          "failures", (json_int_t)h->failures);
    json_object_set_new(j, "last_status", h->last_at ? json_integer(h->last_status) : json_null());
    json_object_set_new(j, "last_at", h->last_at ? json_integer(h->last_at) : json_null());
    json_object_set_new(j, "last_error", h->last_error.n ? api__jstr(h->last_error) : json_null());
    /* events of the log after its cursor (a bound on what it still has to
     * deliver: not every event is one it wants) */
    json_object_set_new(j, "behind",
                        json_integer(l->last > (uint64_t)h->seq ? (json_int_t)(l->last - (uint64_t)h->seq) : 0));
    json_array_append_new(l->arr, j);
    return 0;
}

json_t *api__hooks_list(api *a)
{
    hook_list l = {json_array(), 0};
    if (store_last_seq(a->env.st, &l.last) != 0 || store_hooks_all(a->env.st, hook_cb, &l) != 0) {
        json_decref(l.arr);
        return NULL;
    }
    return l.arr;
}

static int count_cb(void *arg, const store_hook *h)
{
    (void)h;
    (*(int *)arg)++;
    return 0;
}

static void hook_bad(http_resp *resp, json_t *j, const char *code, const char *msg)
{
    json_decref(j);
    api__resp_error(resp, 400, code, msg);
}

static void hook_create(api *a, const http_req *req, http_resp *resp)
{
    json_t *j = api__parse_body(req, resp);
    if (!j)
        return;
    const char *name = NULL, *url = NULL;
    json_t *events = NULL;
    int masked = 1;
    json_error_t e;
    if (json_unpack_ex(j, &e, JSON_STRICT, "{s:s, s:s, s:o, s?b}", "name", &name, "url", &url,
                       "events", &events, "masked", &masked) != 0) {
        static const api_field fields[] = {
            {"name", 's', 0},   {"url", 's', 0}, {"events", 'o', 0},
            {"masked", 'b', 1}, {NULL, 0, 0}};
        char why[96], m[400];
        api_parse_fields_problem(j, fields, why, sizeof why);
        snprintf(m, sizeof m,
                 "%s: a webhook needs \"name\", \"url\" (strings) and \"events\" (a list"
                 " of event kinds, or [\"*\"] for all), and may have \"masked\" (true or false)",
                 why);
        hook_bad(resp, j, "bad_request", m);
        return;
    }
    size_t nlen = strlen(name);
    int name_ok = nlen > 0 && nlen <= HOOK_NAME_MAX;
    for (size_t i = 0; i < nlen; i++)
        if ((unsigned char)name[i] < 0x20 || name[i] == 0x7f)
            name_ok = 0;
    if (!name_ok) {
        hook_bad(resp, j, "bad_name", "name: 1 to 64 characters, no control characters");
        return;
    }
    char host[256], path[HOOK_URL_MAX];
    int port;
    if (strlen(url) > HOOK_URL_MAX ||
        net_http_parse_url(url, host, sizeof host, &port, path, sizeof path) != 0) {
        hook_bad(resp, j, "bad_url",
                 "url: http:// or https:// with a host name or IPv4 address, an optional"
                 " port and a path (https://crm.example.com/hooks/textdesk)");
        return;
    }
    uint32_t set = 0;
    size_t i;
    json_t *v;
    int bad = !json_is_array(events) || json_array_size(events) == 0;
    json_array_foreach(events, i, v)
    {
        const char *k = json_string_value(v);
        int found = 0;
        if (k && strcmp(k, "*") == 0) {
            set = (1u << API_HOOK_NKINDS) - 1;
            found = 1;
        }
        for (int x = 0; k && !found && x < API_HOOK_NKINDS; x++)
            if (strcmp(k, KINDS[x]) == 0) {
                set |= 1u << x;
                found = 1;
            }
        bad |= !found;
    }
    if (bad) {
        char m[600];
        int o = snprintf(m, sizeof m, "events: a list of \"*\" or of these kinds:");
        for (int x = 0; x < API_HOOK_NKINDS; x++)
            o += snprintf(m + o, sizeof m - (size_t)o, "%s %s", x ? "," : "", KINDS[x]);
        hook_bad(resp, j, "bad_events", m);
        return;
    }
    int count = 0;
    if (store_hooks_all(a->env.st, count_cb, &count) == 0 && count >= HOOKS_MAX) {
        json_decref(j);
        api__resp_error(resp, 409, "too_many_webhooks",
                        "at most 32 webhooks: delete one you no longer need first");
        return;
    }
    unsigned char raw[24];
    char secret[8 + 48];
    memcpy(secret, "whsec_", 6);
    randombytes_buf(raw, sizeof raw);
    sodium_bin2base64(secret + 6, sizeof secret - 6, raw, sizeof raw,
                      sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    store_account me;
    str by = api__session_of(a, req, &me) == 0 ? me.username : STR_NULL;
    char byc[96];
    snprintf(byc, sizeof byc, "%.*s", (int)by.n, by.p ? by.p : "");
    store_hook h = {.name = str_c(name), .url = str_c(url), .secret = str_c(secret),
                    .created_by = str_c(byc), .events = set, .masked = masked,
                    .created_at = a->env.now(a->env.app)};
    int w = api__write_begin(a);
    if (w == 0)
        w = api__write_end(a, store_hook_put(a->env.st, &h, &h.id));
    if (w == -EEXIST) {
        json_decref(j);
        api__resp_error(resp, 409, "name_taken", "a webhook of that name exists: choose another");
        return;
    }
    if (w != 0) {
        json_decref(j);
        api__resp_error(resp, 503, "store_unavailable",
                        "the webhook cannot be stored right now: try again in a moment");
        return;
    }
    if (a->env.hooks_changed)
        a->env.hooks_changed(a->env.app);
    hook_list l = {json_array(), 0};
    hook_cb(&l, &h);
    json_t *out = json_incref(json_array_get(l.arr, 0));
    json_decref(l.arr);
    json_object_set_new(out, "secret", json_string(secret)); /* the only time it is shown */
    sodium_memzero(raw, sizeof raw);
    sodium_memzero(secret, sizeof secret);
    json_decref(j);
    api__resp_json(resp, 201, out);
}

void api__hooks(api *a, const http_req *req, http_resp *resp, const char *rest)
{
    if (api__require_role(a, req, resp, 0) != 0)
        return;
    const char *m = req->method;
    if (*rest == '\0' && strcmp(m, "GET") == 0) {
        json_t *arr = api__hooks_list(a);
        if (!arr) {
            api__resp_error(resp, 503, "store_unavailable",
                            "webhooks cannot be read right now: try again in a moment");
            return;
        }
        api__resp_json(resp, 200, json_pack("{s:o, s:o}", "webhooks", arr, "kinds",
                                            kinds_json((1u << API_HOOK_NKINDS) - 1)));
        return;
    }
    if (*rest == '\0' && strcmp(m, "POST") == 0) {
        hook_create(a, req, resp);
        return;
    }
    if (*rest == '/' && strcmp(m, "DELETE") == 0) {
        char *end;
        long long id = strtoll(rest + 1, &end, 10);
        int w = *end || id <= 0 ? -ENOENT : api__write_begin(a);
        if (w == 0)
            w = api__write_end(a, store_hook_del(a->env.st, id));
        if (w == -ENOENT) {
            api__resp_error(resp, 404, "no_such_webhook", "no webhook with that id: GET /api/admin/webhooks lists them");
            return;
        }
        if (w != 0) {
            api__resp_error(resp, 503, "store_unavailable",
                            "the webhook cannot be deleted now: try again in a moment");
            return;
        }
        if (a->env.hooks_changed)
            a->env.hooks_changed(a->env.app);
        api__resp_json(resp, 200, json_pack("{s:I, s:s}", "id", (json_int_t)id, "state",
                                            "deleted"));
        return;
    }
    api__resp_error(resp, 405, "method_not_allowed",
                    "use GET or POST /api/admin/webhooks, or DELETE /api/admin/webhooks/ID");
}
