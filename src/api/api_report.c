/*
 * api_report.c: GET /api/admin/report/conversations.csv?from=MS&to=MS —
 * one row per conversation opened in [from, to) (milliseconds since the
 * epoch; to defaults to now), built from the event log: when it was opened,
 * first offered, first accepted, ended and last wrapped up; its queue, the
 * agents who handled it, the wrap-up reasons, message counts, transfers and
 * conferences. RFC 4180 CSV (CRLF, quotes doubled), UTF-8, times ISO 8601
 * UTC. Customer numbers are masked when "mask sensitive customer data" is
 * on, as everywhere else.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api/api_int.h"
#include "util/buf.h"
#include "util/xalloc.h"

typedef struct row {
    uint32_t conv, queue, first_queue;
    char number[CC_NUMBER_MAX + 1], ep[CC_NUMBER_MAX + 1];
    int outbound;
    int64_t opened, offered, accepted, ended, wrapped;
    uint32_t msgs_in, msgs_out, transfers, conferences;
    uint32_t agents[8], nagents;
    int out_of_hours, overflowed; /* the entry point's flow */
    uint32_t reasons[8], nreasons;
} row;

typedef struct report {
    int64_t from, to;
    row *rows;
    size_t n, cap;
    hmap index; /* conv -> row index + 1 (as a pointer-sized int) */
} report;

static int idx_eq(const void *e, const void *key)
{
    (void)e;
    (void)key;
    return 1; /* one conv per hash: keys are the conv ids themselves */
}

static row *find(report *r, uint32_t conv)
{
    void *v = hmap_get(&r->index, hmap_hash_u64(conv), idx_eq, &conv);
    if (!v)
        return NULL;
    row *x = &r->rows[(uintptr_t)v - 1];
    return x->conv == conv ? x : NULL;
}

static void add_id(uint32_t *v, uint32_t *n, uint32_t id)
{
    for (uint32_t i = 0; i < *n; i++)
        if (v[i] == id)
            return;
    if (*n < 8)
        v[(*n)++] = id;
}

static int collect(void *arg, const store_cev *e)
{
    report *r = arg;
    row *x;
    if (e->type == CC_EV_CONV_OPENED) {
        if (e->at < r->from || e->at >= r->to)
            return 0;
        if (r->n == r->cap) {
            r->cap = r->cap ? r->cap * 2 : 256;
            r->rows = xrealloc(r->rows, r->cap * sizeof *r->rows);
        }
        x = &r->rows[r->n++];
        memset(x, 0, sizeof *x);
        x->conv = e->conv;
        x->opened = e->at;
        x->queue = x->first_queue = e->queue;
        x->outbound = e->agent != 0;
        snprintf(x->number, sizeof x->number, "%.*s", (int)e->number.n,
                 e->number.p ? e->number.p : "");
        snprintf(x->ep, sizeof x->ep, "%.*s", (int)e->ep_number.n,
                 e->ep_number.p ? e->ep_number.p : "");
        if (x->outbound)
            add_id(x->agents, &x->nagents, e->agent), x->accepted = e->at;
        hmap_put(&r->index, hmap_hash_u64(e->conv), (void *)(uintptr_t)r->n);
        return 0;
    }
    if (!(x = find(r, e->conv)))
        return 0;
    switch (e->type) {
    case CC_EV_MSG_IN:
        x->msgs_in++;
        break;
    case CC_EV_MSG_OUT:
        x->msgs_out++;
        break;
    case CC_EV_QUEUED:
        x->queue = e->queue;
        x->out_of_hours |= e->code == CC_WHY_OUT_OF_HOURS;
        break;
    case CC_EV_OVERFLOWED:
        x->overflowed = 1;
        break;
    case CC_EV_CLOSED:
        x->out_of_hours |= e->code == CC_WHY_OUT_OF_HOURS;
        break;
    case CC_EV_OFFERED:
        if (!x->offered)
            x->offered = e->at;
        break;
    case CC_EV_ACCEPTED:
        if (!x->accepted)
            x->accepted = e->at;
        add_id(x->agents, &x->nagents, e->agent);
        break;
    case CC_EV_TRANSFERRED:
        x->transfers++;
        break;
    case CC_EV_CONF_JOINED:
        x->conferences++;
        add_id(x->agents, &x->nagents, e->target);
        break;
    case CC_EV_ENDED:
        x->ended = e->at;
        break;
    case CC_EV_WRAPPED_UP:
        x->wrapped = e->at;
        if (e->reason)
            add_id(x->reasons, &x->nreasons, e->reason);
        break;
    }
    return 0;
}

/* One CSV field, quoted when it holds a comma, quote, CR or LF. */
static void field(buf *b, str s, int last)
{
    int quote = 0;
    for (size_t i = 0; i < s.n; i++)
        quote |= s.p[i] == ',' || s.p[i] == '"' || s.p[i] == '\r' || s.p[i] == '\n';
    if (quote) {
        buf_add(b, "\"", 1);
        for (size_t i = 0; i < s.n; i++) {
            if (s.p[i] == '"')
                buf_add(b, "\"", 1);
            buf_add(b, &s.p[i], 1);
        }
        buf_add(b, "\"", 1);
    } else if (s.n) {
        buf_add(b, s.p, s.n);
    }
    buf_add(b, last ? "\r\n" : ",", last ? 2 : 1);
}

static void time_field(buf *b, int64_t ms)
{
    char t[40] = "";
    if (ms > 0) {
        time_t secs = (time_t)(ms / 1000);
        struct tm tm;
        gmtime_r(&secs, &tm);
        size_t k = strftime(t, sizeof t, "%Y-%m-%dT%H:%M:%S", &tm);
        snprintf(t + k, sizeof t - k, ".%03dZ", (int)(ms % 1000));
    }
    field(b, str_c(t), 0);
}

static void names(buf *b, const cc *c, int kind, const uint32_t *ids, uint32_t n)
{
    buf tmp;
    buf_init(&tmp);
    for (uint32_t i = 0; i < n; i++) {
        str nm = cc_name(c, kind, ids[i]);
        if (i)
            buf_add(&tmp, "; ", 2);
        if (nm.n)
            buf_add(&tmp, nm.p, nm.n);
        else
            buf_printf(&tmp, "#%u", ids[i]);
    }
    field(b, (str){tmp.p ? tmp.p : "", tmp.n}, 0);
    buf_free(&tmp);
}

static int64_t arg_ms(const http_req *req, const char *name, int64_t dflt, int *bad)
{
    char v[32];
    if (http_req_arg(req, name, v, sizeof v) <= 0)
        return dflt;
    char *end;
    long long x = strtoll(v, &end, 10);
    if (*end || x < 0)
        *bad = 1;
    return x;
}

void api__report_csv(api *a, const http_req *req, http_resp *resp)
{
    int bad = 0;
    report r = {.from = arg_ms(req, "from", 0, &bad),
                .to = arg_ms(req, "to", a->env.now(a->env.app) + 1, &bad)};
    if (bad || r.to <= r.from) {
        api__resp_error(resp, 400, "bad_range",
                        "from and to are milliseconds since 1970, from < to");
        return;
    }
    hmap_init(&r.index);
    if (store_conv_events_since(a->env.st, r.from, collect, &r) != 0) {
        hmap_free(&r.index);
        free(r.rows);
        api__resp_error(resp, 503, "store_unavailable", "the event log cannot be read now");
        return;
    }
    const cc *c = a->env.core;
    buf *b = &resp->body;
    buf_printf(b, "conversation,customer_number,entry_point,queue,direction,opened_at,"
                  "first_offered_at,accepted_at,ended_at,wrapped_up_at,agents,wrapup_reasons,"
                  "messages_in,messages_out,transfers,conferences,out_of_hours,overflowed\r\n");
    for (size_t i = 0; i < r.n; i++) {
        row *x = &r.rows[i];
        char num[16];
        snprintf(num, sizeof num, "%u", x->conv);
        field(b, str_c(num), 0);
        json_t *masked = json_pack("[o, o]", api__jmask(a, str_c(x->number)),
                                   api__jmask(a, str_c(x->ep)));
        field(b, str_c(json_string_value(json_array_get(masked, 0))), 0);
        field(b, str_c(json_string_value(json_array_get(masked, 1))), 0);
        json_decref(masked);
        field(b, cc_name(c, CC_KIND_QUEUE, x->queue), 0);
        field(b, x->outbound ? STR_LIT("outbound") : STR_LIT("inbound"), 0);
        time_field(b, x->opened);
        time_field(b, x->offered);
        time_field(b, x->accepted);
        time_field(b, x->ended);
        time_field(b, x->wrapped);
        names(b, c, CC_KIND_AGENT, x->agents, x->nagents);
        names(b, c, CC_KIND_REASON, x->reasons, x->nreasons);
        buf_printf(b, "%u,%u,%u,%u,%d,%d\r\n", x->msgs_in, x->msgs_out, x->transfers,
                   x->conferences, x->out_of_hours, x->overflowed);
    }
    hmap_free(&r.index);
    free(r.rows);
    resp->status = 200;
    resp->content_type = "text/csv; charset=utf-8";
}
