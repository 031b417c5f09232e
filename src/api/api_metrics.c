/*
 * api_metrics.c: GET /metrics in the Prometheus text exposition format
 * (0.0.4): queue depth and longest wait per queue, agents by state, offers,
 * RONAs, conversations, messages, delivery outcomes by status, a
 * handle-time histogram (accept to end), open WebSocket connections,
 * whether the store takes writes, and the store's commits (how many, how
 * many failed, how long each took: api_env.commits).
 * No customer data appears: only queue names and counts. Counters are
 * totals over the whole event log: at start they are counted from the
 * stored events (in the app's replay, api_env.metrics, or else
 * api__metrics_load), so a restart does not reset them, as Prometheus
 * expects of a counter. Only the gateway results, which the
 * event log does not hold, count from the process start.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api_int.h"
#include "util/buf.h"
#include "util/xalloc.h"

/* Upper bounds of the handle-time buckets, seconds (+Inf is implied). */
static const double handle_bounds[API_HANDLE_BUCKETS] = {30, 60, 120, 300, 600, 1200, 3600,
                                                          14400};

const double api_commit_bounds_s[API_COMMIT_BUCKETS] = {0.0005, 0.001, 0.002, 0.005, 0.01,
                                                         0.025,  0.05,  0.1,   0.25,  1};

void api_commit_stats_add(api_commit_stats *s, int64_t us)
{
    double secs = (double)us / 1e6;
    int b = 0;
    while (b < API_COMMIT_BUCKETS && secs > api_commit_bounds_s[b])
        b++;
    s->bucket[b]++;
    s->commits++;
    s->sum_s += secs;
}

typedef struct stamp {
    uint32_t conv;
    int64_t at;
} stamp;

static int stamp_eq(const void *e, const void *key)
{
    return ((const stamp *)e)->conv == *(const uint32_t *)key;
}

static api_qcount *qc(api_metrics *m, uint32_t queue)
{
    if (queue == 0 || queue >= CC_MAX_ID)
        return NULL;
    if (queue >= m->nperq) {
        uint32_t n = m->nperq ? m->nperq : 16;
        while (n <= queue)
            n *= 2;
        m->perq = xrealloc(m->perq, n * sizeof *m->perq);
        memset(m->perq + m->nperq, 0, (n - m->nperq) * sizeof *m->perq);
        m->nperq = n;
    }
    return &m->perq[queue];
}

api_qcount api__queue_counts(const api *a, uint32_t queue)
{
    return queue < a->m.nperq ? a->m.perq[queue] : (api_qcount){0, 0, 0, 0};
}

/* The queue of each open conversation, from the events themselves (not the
 * core: at start the events are counted from the log while the core already
 * holds the final state). */
static uint32_t conv_queue(api_metrics *m, const cc_event *e)
{
    uint64_t h = hmap_hash_u64(e->conv);
    stamp *s = hmap_get(&m->conv_queue, h, stamp_eq, &e->conv);
    if (e->type == CC_EV_CONV_OPENED || e->type == CC_EV_QUEUED || e->type == CC_EV_OFFERED) {
        if (!s) {
            s = xmalloc(sizeof *s);
            s->conv = e->conv;
            hmap_put(&m->conv_queue, h, s);
        }
        s->at = e->queue;
    }
    uint32_t q = s ? (uint32_t)s->at : 0;
    if (e->type == CC_EV_CLOSED && s)
        free(hmap_del(&m->conv_queue, h, stamp_eq, &e->conv));
    return q;
}

void api_metrics_count(api_metrics *m, const cc_events *evs)
{
    for (size_t i = 0; i < evs->n; i++) { /* per queue */
        const cc_event *e = &evs->v[i];
        uint32_t q = e->conv ? conv_queue(m, e) : 0;
        api_qcount *c = (e->type == CC_EV_OFFERED || e->type == CC_EV_ACCEPTED ||
                         e->type == CC_EV_TERMINATED ||
                         (e->type == CC_EV_OFFER_WITHDRAWN && e->code == CC_WHY_TIMEOUT))
                            ? qc(m, q)
                            : NULL;
        if (!c)
            continue;
        c->offered += e->type == CC_EV_OFFERED;
        c->answered += e->type == CC_EV_ACCEPTED;
        c->terminated += e->type == CC_EV_TERMINATED;
        c->rona += e->type == CC_EV_OFFER_WITHDRAWN;
    }
    for (size_t i = 0; i < evs->n; i++) {
        const cc_event *e = &evs->v[i];
        switch (e->type) {
        case CC_EV_CONV_OPENED:
            m->opened++;
            break;
        case CC_EV_CLOSED:
            m->closed++;
            m->out_of_hours += e->code == CC_WHY_OUT_OF_HOURS;
            break;
        case CC_EV_QUEUED:
            m->out_of_hours += e->code == CC_WHY_OUT_OF_HOURS;
            break;
        case CC_EV_OVERFLOWED:
            m->overflows++;
            break;
        case CC_EV_OFFERED:
            m->offers++;
            break;
        case CC_EV_AGENT_STATE:
            m->ronas += e->state == CC_AGENT_RONA;
            break;
        case CC_EV_MSG_IN:
            m->msgs_in++;
            break;
        case CC_EV_MSG_OUT:
            m->msgs_out++;
            break;
        case CC_EV_ACCEPTED:
            if (!hmap_get(&m->accepted_at, hmap_hash_u64(e->conv), stamp_eq, &e->conv)) {
                stamp *s = xmalloc(sizeof *s);
                *s = (stamp){e->conv, e->at};
                hmap_put(&m->accepted_at, hmap_hash_u64(e->conv), s);
            }
            break;
        case CC_EV_ENDED: {
            stamp *s = hmap_del(&m->accepted_at, hmap_hash_u64(e->conv), stamp_eq, &e->conv);
            if (!s)
                break;
            double secs = (e->at - s->at) / 1000.0;
            free(s);
            m->handle_count++;
            m->handle_sum_s += secs;
            for (int b = 0; b < API_HANDLE_BUCKETS; b++)
                if (secs <= handle_bounds[b])
                    m->handle_bucket[b]++;
            break;
        }
        }
    }
}

void api__metrics_delivery(api *a, int store_status)
{
    if (store_status >= 0 && store_status < 8)
        a->m.delivery[store_status]++;
}

void api__metrics_events(api *a, const cc_events *evs)
{
    api_metrics_count(&a->m, evs);
}

static int load_one(void *arg, const cc_event *ev)
{
    cc_events one = {.v = (cc_event *)ev, .n = 1, .cap = 1};
    api_metrics_count(arg, &one);
    return 0;
}

int api__metrics_load(api *a)
{
    return store_events_replay(a->env.st, load_one, &a->m);
}

api_metrics *api_metrics_new(void)
{
    return xcalloc(1, sizeof(api_metrics)); /* empty hmaps are zeroes */
}

static void metrics_clear(api_metrics *m)
{
    size_t i = 0;
    void *e;
    while (hmap_next(&m->accepted_at, &i, &e))
        free(e);
    hmap_free(&m->accepted_at);
    i = 0;
    while (hmap_next(&m->conv_queue, &i, &e))
        free(e);
    hmap_free(&m->conv_queue);
    free(m->perq);
}

void api_metrics_free(api_metrics *m)
{
    if (m) {
        metrics_clear(m);
        free(m);
    }
}

void api__metrics_free(api *a)
{
    metrics_clear(&a->m);
}

/* A label value: backslash, double quote and newline escaped. */
static void label(buf *b, str v)
{
    for (size_t i = 0; i < v.n; i++) {
        char c = v.p[i];
        if (c == '\\' || c == '"')
            buf_printf(b, "\\%c", c);
        else if (c == '\n')
            buf_add(b, "\\n", 2);
        else
            buf_add(b, &c, 1);
    }
}

static void head(buf *b, const char *name, const char *type, const char *help)
{
    buf_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* The commits' counters and histogram (cumulative, as Prometheus wants). */
static void commit_metrics(const api_commit_stats *s, buf *b)
{
    head(b, "textdesk_store_commits_total", "counter",
         "Transactions of the durable path confirmed by the store, since the start.");
    buf_printf(b, "textdesk_store_commits_total %llu\n", (unsigned long long)s->commits);
    head(b, "textdesk_store_commit_failures_total", "counter",
         "Transactions that failed and were rolled back, since the start.");
    buf_printf(b, "textdesk_store_commit_failures_total %llu\n",
               (unsigned long long)s->failures);
    head(b, "textdesk_store_commit_seconds", "histogram",
         "Time from a transaction's start to the store's confirmation.");
    uint64_t n = 0;
    for (int i = 0; i < API_COMMIT_BUCKETS; i++) {
        n += s->bucket[i];
        buf_printf(b, "textdesk_store_commit_seconds_bucket{le=\"%g\"} %llu\n",
                   api_commit_bounds_s[i], (unsigned long long)n);
    }
    buf_printf(b, "textdesk_store_commit_seconds_bucket{le=\"+Inf\"} %llu\n",
               (unsigned long long)s->commits);
    buf_printf(b, "textdesk_store_commit_seconds_sum %.6f\n", s->sum_s);
    buf_printf(b, "textdesk_store_commit_seconds_count %llu\n", (unsigned long long)s->commits);
}

/* The webhooks' delivery status, by subscription name (api_hooks.c). */
static void hook_metrics(api *a, buf *b)
{
    json_t *arr = api__hooks_list(a);
    if (!arr)
        return;
    static const struct {
        const char *name, *type, *help, *field;
    } rows[] = {
        {"textdesk_webhook_deliveries_total", "counter", "Events a webhook receiver accepted.",
         "delivered"},
        {"textdesk_webhook_failures_total", "counter",
         "Webhook attempts that failed (refused, no answer, timed out); each is retried.",
         "failures"},
        {"textdesk_webhook_last_status", "gauge",
         "HTTP status of the last attempt (0: no answer; absent before the first).",
         "last_status"},
        {"textdesk_webhook_behind_events", "gauge",
         "Events of the log after the webhook's cursor (an upper bound on its backlog).",
         "behind"},
    };
    for (size_t r = 0; r < sizeof rows / sizeof rows[0]; r++) {
        head(b, rows[r].name, rows[r].type, rows[r].help);
        size_t i;
        json_t *h;
        json_array_foreach(arr, i, h)
        {
            json_t *v = json_object_get(h, rows[r].field);
            if (!json_is_integer(v))
                continue;
            json_t *name = json_object_get(h, "name");
            buf_printf(b, "%s{webhook=\"", rows[r].name);
            label(b, (str){json_string_value(name), json_string_length(name)});
            buf_printf(b, "\"} %lld\n", (long long)json_integer_value(v));
        }
    }
    json_decref(arr);
}

void api__metrics(api *a, const http_req *req, http_resp *resp)
{
    (void)req;
    const cc *c = a->env.core;
    api_metrics *m = &a->m;
    int64_t now = a->env.now(a->env.app);
    buf *b = &resp->body;
    resp->content_type = "text/plain; version=0.0.4; charset=utf-8";

    size_t nq = cc_list(c, CC_KIND_QUEUE, NULL, 0);
    cc_item *qs = xmalloc((nq + 1) * sizeof *qs);
    cc_list(c, CC_KIND_QUEUE, qs, nq);
    head(b, "textdesk_queue_depth", "gauge", "Conversations waiting in the queue.");
    for (size_t i = 0; i < nq; i++) {
        cc_queue_view q;
        cc_queue_get(c, qs[i].id, &q);
        buf_printf(b, "textdesk_queue_depth{queue=\"");
        label(b, q.name);
        buf_printf(b, "\"} %zu\n", q.waiting);
    }
    head(b, "textdesk_queue_longest_wait_seconds", "gauge",
         "How long the conversation at the head of the queue has waited.");
    for (size_t i = 0; i < nq; i++) {
        cc_queue_view q;
        cc_queue_get(c, qs[i].id, &q);
        double w = q.waiting && now > q.oldest_key ? (now - q.oldest_key) / 1000.0 : 0;
        buf_printf(b, "textdesk_queue_longest_wait_seconds{queue=\"");
        label(b, q.name);
        buf_printf(b, "\"} %.3f\n", w);
    }
    free(qs);

    static const char *const states[] = {"logged_out", "idle", "available", "rona"};
    size_t count[4] = {0};
    size_t na = cc_list(c, CC_KIND_AGENT, NULL, 0);
    cc_item *as = xmalloc((na + 1) * sizeof *as);
    cc_list(c, CC_KIND_AGENT, as, na);
    for (size_t i = 0; i < na; i++) {
        cc_agent_view v;
        if (cc_agent_get(c, as[i].id, &v) == 0)
            count[v.state & 3]++;
    }
    free(as);
    head(b, "textdesk_agents", "gauge", "Agents by state.");
    for (int s = 0; s < 4; s++)
        buf_printf(b, "textdesk_agents{state=\"%s\"} %zu\n", states[s], count[s]);

    head(b, "textdesk_open_conversations", "gauge", "Conversations open in the core.");
    buf_printf(b, "textdesk_open_conversations %zu\n", cc_conv_count(c));
    const struct {
        const char *name, *help;
        uint64_t v;
    } counters[] = {
        {"textdesk_conversations_opened_total", "Conversations opened.", m->opened},
        {"textdesk_conversations_closed_total", "Conversations closed.", m->closed},
        {"textdesk_offers_total", "Offers made to agents.", m->offers},
        {"textdesk_out_of_hours_total",
         "Conversations opened outside their entry point's business hours.", m->out_of_hours},
        {"textdesk_overflows_total",
         "Conversations that waited longer than their entry point's maximum wait.",
         m->overflows},
        {"textdesk_rona_total", "Offers or invites that timed out (agent set to RONA).",
         m->ronas},
        {"textdesk_messages_in_total", "Inbound SMS accepted.", m->msgs_in},
        {"textdesk_messages_out_total", "Replies accepted for sending (agents' and automatic).", m->msgs_out},
    };
    for (size_t i = 0; i < sizeof counters / sizeof counters[0]; i++) {
        head(b, counters[i].name, "counter", counters[i].help);
        buf_printf(b, "%s %llu\n", counters[i].name, (unsigned long long)counters[i].v);
    }
    head(b, "textdesk_gateway_results_total", "counter",
         "Outbound message outcomes reported by gateways, by status.");
    static const int shown[] = {STORE_MSG_SENT, STORE_MSG_DELIVERED, STORE_MSG_FAILED,
                                STORE_MSG_QUEUED};
    for (size_t i = 0; i < 4; i++)
        buf_printf(b, "textdesk_gateway_results_total{status=\"%s\"} %llu\n",
                   store_msg_status_name(shown[i]), (unsigned long long)m->delivery[shown[i]]);

    head(b, "textdesk_handle_time_seconds", "histogram",
         "Time from accepting a conversation to ending it.");
    for (int i = 0; i < API_HANDLE_BUCKETS; i++)
        buf_printf(b, "textdesk_handle_time_seconds_bucket{le=\"%g\"} %llu\n", handle_bounds[i],
                   (unsigned long long)m->handle_bucket[i]);
    buf_printf(b, "textdesk_handle_time_seconds_bucket{le=\"+Inf\"} %llu\n",
               (unsigned long long)m->handle_count);
    buf_printf(b, "textdesk_handle_time_seconds_sum %.3f\n", m->handle_sum_s);
    buf_printf(b, "textdesk_handle_time_seconds_count %llu\n",
               (unsigned long long)m->handle_count);

    head(b, "textdesk_websocket_connections", "gauge", "Open agent desktop connections.");
    buf_printf(b, "textdesk_websocket_connections %zu\n", a->nconns);
    head(b, "textdesk_store_available", "gauge",
         "1 while the store takes writes, 0 while it refuses them (degraded mode).");
    buf_printf(b, "textdesk_store_available %d\n", api__store_available(a));
    if (a->env.commits)
        commit_metrics(a->env.commits, b);
    if (a->env.st) {
        head(b, "textdesk_store_round_trips_total", "counter",
             "Answers of the database server the event loop waited for (PostgreSQL's reads"
             " and writes outside the group commit; 0 on SQLite), since the start.");
        buf_printf(b, "textdesk_store_round_trips_total %llu\n",
                   (unsigned long long)store_waits(a->env.st));
    }
    head(b, "textdesk_api_token_lookups_total", "counter",
         "API tokens looked up in the store (once per request that carries one).");
    buf_printf(b, "textdesk_api_token_lookups_total %llu\n", (unsigned long long)a->tok_lookups);
    hook_metrics(a, b);
    resp->status = 200;
}
