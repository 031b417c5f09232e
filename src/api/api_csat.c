/*
 * api_csat.c: customer satisfaction scores (supervisors and
 * administrators), from the event log's csat_answered events:
 *
 *   GET /api/supervisor/csat?from=MS&to=MS&interval=day|hour
 *
 * Answers given in [from, to) (milliseconds since 1970; to defaults to now,
 * from to 0), overall and per queue, per agent (who ended the
 * conversation), per team (the agent's teams as configured now) and per
 * interval (UTC days or hours). Each group: answers, average, and how many
 * gave each score 1 to 5. Until the reporting work lands this is the
 * report's own endpoint (docs/api.md).
 */
#include <stdlib.h>
#include <string.h>

#include "api/api_int.h"
#include "util/hmap.h"
#include "util/xalloc.h"

typedef struct group {
    int64_t key; /* an id, or an interval's start */
    uint64_t n, sum, scores[5];
} group;

typedef struct tally {
    hmap by[4]; /* queues, agents, teams, intervals */
    group total;
    int64_t from, to, step;
    const cc *core;
} tally;

enum { BY_QUEUE, BY_AGENT, BY_TEAM, BY_INTERVAL };

static int group_eq(const void *e, const void *key)
{
    return ((const group *)e)->key == *(const int64_t *)key;
}

static void count(group *g, int score)
{
    g->n++;
    g->sum += (uint64_t)score;
    g->scores[score - 1]++;
}

static void add(tally *t, int by, int64_t key, int score)
{
    uint64_t h = hmap_hash_u64((uint64_t)key);
    group *g = hmap_get(&t->by[by], h, group_eq, &key);
    if (!g) {
        g = xcalloc(1, sizeof *g);
        g->key = key;
        hmap_put(&t->by[by], h, g);
    }
    count(g, score);
}

static int collect(void *arg, const store_cev *e)
{
    tally *t = arg;
    if (e->at >= t->to)
        return 1; /* the log is in time order: done */
    if (e->type != CC_EV_CSAT_ANSWERED || e->reason < 1 || e->reason > 5)
        return 0;
    int score = (int)e->reason;
    count(&t->total, score);
    add(t, BY_QUEUE, e->queue, score);
    add(t, BY_AGENT, e->agent, score);
    uint32_t teams[CC_TEAMS_MAX];
    size_t n = cc_agent_teams(t->core, e->agent, teams, CC_TEAMS_MAX);
    for (size_t i = 0; i < n && i < CC_TEAMS_MAX; i++)
        add(t, BY_TEAM, teams[i], score);
    add(t, BY_INTERVAL, e->at - e->at % t->step, score);
    return 0;
}

static json_t *group_json(const group *g)
{
    json_t *s = json_array();
    for (int i = 0; i < 5; i++)
        json_array_append_new(s, json_integer((json_int_t)g->scores[i]));
    return json_pack("{s:I, s:f, s:o}", "answers", (json_int_t)g->n, "average",
                     g->n ? (double)g->sum / (double)g->n : 0.0, "scores", s);
}

static int cmp_group(const void *x, const void *y)
{
    const group *a = *(group *const *)x, *b = *(group *const *)y;
    return a->key < b->key ? -1 : a->key > b->key;
}

/* One list, ascending by key, each group named when 'kind' >= 0. */
static json_t *list_json(tally *t, int by, int kind, const char *key)
{
    size_t n = t->by[by].len, k = 0, it = 0;
    group **v = xmalloc((n + 1) * sizeof *v);
    void *e;
    while (hmap_next(&t->by[by], &it, &e))
        v[k++] = e;
    qsort(v, k, sizeof *v, cmp_group);
    json_t *arr = json_array();
    for (size_t i = 0; i < k; i++) {
        json_t *j = group_json(v[i]);
        json_object_set_new(j, key, json_integer((json_int_t)v[i]->key));
        if (kind >= 0)
            json_object_set_new(j, "name", api__jstr(cc_name(t->core, kind, (uint32_t)v[i]->key)));
        json_array_append_new(arr, j);
        free(v[i]);
    }
    free(v);
    return arr;
}

void api__csat(api *a, const http_req *req, http_resp *resp)
{
    int bad = 0;
    tally t = {.from = api__arg_ms(req, "from", 0, &bad),
               .to = api__arg_ms(req, "to", a->env.now(a->env.app) + 1, &bad),
               .step = 86400000,
               .core = a->env.core};
    char iv[16] = "day";
    if (http_req_arg(req, "interval", iv, sizeof iv) > 0 && strcmp(iv, "day") != 0) {
        if (strcmp(iv, "hour") != 0) {
            api__resp_error(resp, 400, "bad_interval", "interval is day or hour");
            return;
        }
        t.step = 3600000;
    }
    if (bad || t.to <= t.from) {
        api__resp_error(resp, 400, "bad_range",
                        "from and to: give milliseconds since 1970, from before to");
        return;
    }
    for (int i = 0; i < 4; i++)
        hmap_init(&t.by[i]);
    int r = store_conv_events_since(a->env.st, t.from, collect, &t);
    json_t *out = json_pack("{s:I, s:I, s:s, s:o, s:o, s:o, s:o, s:o}", "from",
                            (json_int_t)t.from, "to", (json_int_t)t.to, "interval", iv, "total",
                            group_json(&t.total), "queues",
                            list_json(&t, BY_QUEUE, CC_KIND_QUEUE, "id"), "agents",
                            list_json(&t, BY_AGENT, CC_KIND_AGENT, "id"), "teams",
                            list_json(&t, BY_TEAM, CC_KIND_TEAM, "id"), "intervals",
                            list_json(&t, BY_INTERVAL, -1, "start"));
    for (int i = 0; i < 4; i++)
        hmap_free(&t.by[i]);
    if (r < 0) {
        json_decref(out);
        api__resp_error(resp, 503, "store_unavailable",
                        "the event log cannot be read now: try again in a moment");
        return;
    }
    api__resp_json(resp, 200, out);
}
