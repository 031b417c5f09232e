/*
 * api_privacy.c: retention and erasure (docs/privacy.md), the
 * administrator's REST:
 *
 *   GET  /api/admin/retention           the policy and the last run
 *   PUT  /api/admin/retention           {days, entry_points: {ID: days}}
 *   POST /api/admin/retention/run       run the job now (it runs daily)
 *   GET  /api/admin/customers/export?number=N   everything about a number
 *   POST /api/admin/customers/erase     {number}: erase it
 *
 * The retention job itself is the application's (app/app_retention.c); it
 * deletes a conversation's texts through api_privacy_forget_conv, as the
 * erasure does, so both keep what the reports need (a reply's SMS
 * segments).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api_int.h"
#include "sms/sms_text.h"
#include "util/xalloc.h"

#define RETENTION_DAYS_MAX 3650
#define EXPORT_CONVS_MAX 100000

/* ---- deleting a conversation's texts ----------------------------------- */

typedef struct forget_list {
    int64_t *id;
    int *segs;
    size_t n, cap;
} forget_list;

static int forget_cb(void *arg, const store_msg *m)
{
    forget_list *l = arg;
    if (m->text.n == 0)
        return 0; /* deleted before */
    if (l->n == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 16;
        l->id = xrealloc(l->id, l->cap * sizeof *l->id);
        l->segs = xrealloc(l->segs, l->cap * sizeof *l->segs);
    }
    int segs = -1;
    if (m->outbound) {
        sms_info info;
        segs = sms_text_analyse(m->text.p, m->text.n, &info) == 0 ? (int)info.segments : 0;
    }
    l->id[l->n] = m->id;
    l->segs[l->n++] = segs;
    return 0;
}

int api_privacy_forget_conv(store *st, uint32_t conv, size_t *n)
{
    forget_list l = {0};
    int r = store_msgs_of_conv(st, conv, forget_cb, &l);
    for (size_t i = 0; r == 0 && i < l.n; i++)
        r = store_msg_forget(st, l.id[i], l.segs[i]);
    if (r == 0) /* a survey's comment is the customer's text too */
        r = store_csat_forget(st, conv);
    if (r == 0 && n)
        *n += l.n;
    free(l.id);
    free(l.segs);
    return r;
}

/* ---- the retention policy ---------------------------------------------- */

int api_retention_policy(store *st, api_retention *out)
{
    char v[4096];
    memset(out, 0, sizeof *out);
    int r = store_setting_get(st, STR_LIT("retention"), v, sizeof v);
    if (r == -ENOENT)
        return 0;
    if (r != 0)
        return r;
    json_t *j = json_loads(v, 0, NULL);
    json_t *eps = json_object_get(j, "entry_points"), *d;
    out->days = (int)json_integer_value(json_object_get(j, "days"));
    const char *k;
    json_object_foreach(eps, k, d)
    {
        if (out->neps == API_RETENTION_EPS)
            break;
        out->ep[out->neps] = (uint32_t)strtoul(k, NULL, 10);
        out->ep_days[out->neps++] = (int)json_integer_value(d);
    }
    json_decref(j);
    return 0;
}

static json_t *policy_json(api *a)
{
    api_retention p;
    if (api_retention_policy(a->env.st, &p) != 0)
        return NULL;
    json_t *eps = json_object();
    for (size_t i = 0; i < p.neps; i++) {
        char k[16];
        snprintf(k, sizeof k, "%u", p.ep[i]);
        json_object_set_new(eps, k, json_integer(p.ep_days[i]));
    }
    json_t *j = json_pack("{s:i, s:o}", "days", p.days, "entry_points", eps);
    char last[512];
    json_t *lr = store_setting_get(a->env.st, STR_LIT("retention_last"), last, sizeof last) == 0
                     ? json_loads(last, 0, NULL)
                     : NULL;
    json_object_set_new(j, "last_run", lr ? lr : json_null());
    return j;
}

static void retention_put(api *a, const http_req *req, http_resp *resp)
{
    json_t *j = api__parse_body(req, resp);
    if (!j)
        return;
    json_int_t days = -1;
    json_t *eps = NULL;
    json_error_t e;
    const char *msg = NULL;
    if (json_unpack_ex(j, &e, JSON_STRICT, "{s:I, s?o}", "days", &days, "entry_points", &eps) !=
            0 ||
        (eps && !json_is_object(eps)))
        msg = "give \"days\" (a whole number, 0 = keep for ever) and optionally"
              " \"entry_points\": {\"ID\": days} for entry points that differ";
    else if (days < 0 || days > RETENTION_DAYS_MAX)
        msg = "days: 0 (keep for ever) to 3650";
    const char *k;
    json_t *d;
    if (!msg && json_object_size(eps) > API_RETENTION_EPS)
        msg = "entry_points: at most 64";
    json_object_foreach(eps, k, d)
    {
        char *end;
        unsigned long id = strtoul(k, &end, 10);
        cc_ep_flow f;
        if (!msg && (*end || id == 0 || id >= CC_MAX_ID ||
                     cc_ep_flow_get(a->env.core, (uint32_t)id, &f) != 0))
            msg = "entry_points: the keys are ids of existing entry points";
        else if (!msg && (!json_is_integer(d) || json_integer_value(d) < 0 ||
                          json_integer_value(d) > RETENTION_DAYS_MAX))
            msg = "entry_points: days 0 (keep for ever) to 3650";
    }
    if (msg) {
        json_decref(j);
        api__resp_error(resp, 400, "bad_retention", msg);
        return;
    }
    json_t *keep = json_pack("{s:I, s:o}", "days", days, "entry_points",
                             eps ? json_incref(eps) : json_object());
    char *text = json_dumps(keep, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(keep);
    json_decref(j);
    int w = api__write_begin(a);
    if (w == 0)
        w = api__write_end(a, store_setting_put(a->env.st, STR_LIT("retention"), str_c(text)));
    free(text);
    if (w != 0) {
        api__resp_error(resp, 503, "store_unavailable",
                        "the policy cannot be stored right now: try again in a moment");
        return;
    }
    api__resp_json(resp, 200, policy_json(a));
}

void api__retention(api *a, const http_req *req, http_resp *resp, const char *rest)
{
    if (api__require_role(a, req, resp, 0) != 0)
        return;
    const char *m = req->method;
    if (*rest == '\0' && strcmp(m, "GET") == 0) {
        json_t *j = policy_json(a);
        if (!j)
            api__resp_error(resp, 503, "store_unavailable",
                            "the policy cannot be read now: try again in a moment");
        else
            api__resp_json(resp, 200, j);
    } else if (*rest == '\0' && strcmp(m, "PUT") == 0) {
        retention_put(a, req, resp);
    } else if (strcmp(rest, "/run") == 0 && strcmp(m, "POST") == 0) {
        if (a->env.retention_run)
            a->env.retention_run(a->env.app);
        api__resp_json(resp, 202, json_pack("{s:s}", "state", "started"));
    } else {
        api__resp_error(resp, 405, "method_not_allowed",
                        "use GET or PUT /api/admin/retention, or POST /api/admin/retention/run");
    }
}

/* ---- export and erasure of one customer number ------------------------- */

/* A number as stored (cc_number_ok's CC_NUMBER_SENDER). */
static int number_ok(const char *s)
{
    return cc_number_ok(str_c(s), CC_NUMBER_SENDER);
}

typedef struct export_walk {
    json_t *convs;
    store *st;
    int err;
} export_walk;

static int export_msg(void *arg, const store_msg *m)
{
    json_t *arr = arg;
    json_t *j = json_pack("{s:I, s:s, s:I, s:o, s:s}", "id", (json_int_t)m->id, "dir",
                          m->outbound ? "out" : "in", "at", (json_int_t)m->at, "text",
                          m->text.n ? api__jstr(m->text) : json_null(), "status",
                          store_msg_status_name(m->status));
    json_object_set_new(j, "agent", m->agent ? json_integer(m->agent) : json_null());
    json_array_append_new(arr, j);
    return 0;
}

static int export_csat(void *arg, int score, str comment, int64_t at, uint32_t agent)
{
    (void)agent;
    json_array_append_new(arg, json_pack("{s:i, s:o, s:I}", "score", score, "comment",
                                         comment.n ? api__jstr(comment) : json_null(), "at",
                                         (json_int_t)at));
    return 0;
}

static int export_conv(void *arg, const store_hist *h)
{
    export_walk *w = arg;
    json_t *msgs = json_array(), *csat = json_array();
    if (store_msgs_of_conv(w->st, h->conv, export_msg, msgs) != 0 ||
        store_csat(w->st, h->conv, export_csat, csat) != 0)
        w->err = 1;
    json_t *c = json_pack("{s:I, s:I, s:o, s:o, s:o}", "id", (json_int_t)h->conv, "opened_at",
                          (json_int_t)h->opened_at, "ep_number", api__jstr(h->ep_number),
                          "messages", msgs, "satisfaction", csat);
    json_object_set_new(c, "closed_at", h->closed_at ? json_integer(h->closed_at) : json_null());
    json_array_insert_new(w->convs, 0, c); /* history is newest first: oldest first here */
    return w->err;
}

static void export_number(api *a, const http_req *req, http_resp *resp, store_account *who)
{
    char number[64];
    if (http_req_arg(req, "number", number, sizeof number) <= 0 || !number_ok(number)) {
        api__resp_error(resp, 400, "bad_number",
                        "number: the customer's number as stored, e.g. ?number=%2B46701234567"
                        " (+ written %2B)");
        return;
    }
    export_walk w = {json_array(), a->env.st, 0};
    if (store_history(a->env.st, str_c(number), EXPORT_CONVS_MAX, export_conv, &w) != 0) {
        json_decref(w.convs);
        api__resp_error(resp, 503, "store_unavailable",
                        "the export cannot be read right now: try again in a moment");
        return;
    }
    char n[32];
    snprintf(n, sizeof n, "%zu conversations", json_array_size(w.convs));
    /* a view of unmasked customer data: recorded, without the number */
    api__audit(a, req, who->username, "session", "export customer data", str_c(n), "200");
    api__resp_json(resp, 200,
                   json_pack("{s:s, s:I, s:o}", "number", number, "exported_at",
                             (json_int_t)a->env.now(a->env.app), "conversations", w.convs));
}

typedef struct conv_ids {
    uint32_t *v;
    size_t n, cap;
    int open;
} conv_ids;

static int conv_id_cb(void *arg, const store_hist *h)
{
    conv_ids *c = arg;
    if (c->n == c->cap) {
        c->cap = c->cap ? c->cap * 2 : 16;
        c->v = xrealloc(c->v, c->cap * sizeof *c->v);
    }
    c->v[c->n++] = h->conv;
    c->open |= h->closed_at == 0;
    return 0;
}

static void erase_number(api *a, const http_req *req, http_resp *resp, store_account *who)
{
    json_t *j = api__parse_body(req, resp);
    if (!j)
        return;
    const char *number = NULL;
    json_error_t e;
    if (json_unpack_ex(j, &e, JSON_STRICT, "{s:s}", "number", &number) != 0 ||
        !number_ok(number)) {
        json_decref(j);
        api__resp_error(resp, 400, "bad_number",
                        "give {\"number\": \"+46...\"}: the customer's number as stored");
        return;
    }
    conv_ids c = {0};
    size_t nmsg = 0;
    int64_t ncv = 0;
    int w = store_history(a->env.st, str_c(number), EXPORT_CONVS_MAX, conv_id_cb, &c);
    if (w == 0 && c.open) {
        /* still being worked: end it first */
        free(c.v);
        json_decref(j);
        api__resp_error(resp, 409, "conversation_open",
                        "this number has an open conversation: end it, then erase");
        return;
    }
    if (w == 0)
        w = api__write_begin(a);
    if (w == 0) {
        /* texts first (keeping the replies' segments), then the number */
        int r = 0;
        for (size_t i = 0; r == 0 && i < c.n; i++)
            r = api_privacy_forget_conv(a->env.st, c.v[i], &nmsg);
        if (r == 0)
            r = store_erase_number(a->env.st, str_c(number), &ncv);
        w = api__write_end(a, r);
    }
    free(c.v);
    json_decref(j);
    if (w != 0) {
        api__resp_error(resp, 503, "store_unavailable", "nothing was erased: try again");
        return;
    }
    store_scrub(a->env.st);
    char what[64];
    snprintf(what, sizeof what, "%lld conversations, %zu messages", (long long)ncv, nmsg);
    api__audit(a, req, who->username, "session", "erase customer data", str_c(what), "200");
    api__resp_json(resp, 200, json_pack("{s:I, s:I}", "conversations", (json_int_t)ncv,
                                        "messages", (json_int_t)nmsg));
}

void api__customers(api *a, const http_req *req, http_resp *resp, const char *rest)
{
    if (api__require_role(a, req, resp, 0) != 0)
        return;
    store_account who;
    if (api__session_of(a, req, &who) != 0)
        who.username = STR_LIT("?");
    if (strcmp(rest, "/export") == 0 && strcmp(req->method, "GET") == 0)
        export_number(a, req, resp, &who);
    else if (strcmp(rest, "/erase") == 0 && strcmp(req->method, "POST") == 0)
        erase_number(a, req, resp, &who);
    else
        api__resp_error(resp, 405, "method_not_allowed",
                        "use GET /api/admin/customers/export?number=N,"
                        " or POST /api/admin/customers/erase");
}
