/*
 * bench_feed: what the supervisors' live feed adds to the CPU cost of an
 * SMS, at 5,000 agents and 2,000 SMS/s (issue 15).
 *
 * Builds a site through the real core, store (SQLite in a temporary
 * directory) and API: 5,000 Available agents (capacity 3) in 50 teams, 50
 * queues and entry points. Then one supervisor's page is opened (its
 * first slices of agents and conversations, as the page opens) and SMS
 * come in; each opens a conversation, offered and accepted, its events
 * stored (group commit of 100) and published to the desktops, and every
 * 500 SMS (250 ms at 2,000 SMS/s) the feed pushes what changed:
 *
 *   feed_sms_cpu_us        CPU per inbound SMS on the server's path, the
 *                          pushes not counted (the baseline)
 *   feed_render_ms         CPU of one push (a delta: the queues and the
 *                          rows of the page's slices that changed), mean
 *   feed_render_max_ms     the dearest push
 *   feed_render_bytes      a push's size, mean
 *   feed_first_frame_bytes the page's first frame (its whole view)
 *   feed_full_render_ms    CPU of the whole overview (every queue, agent and
 *                          open conversation: GET /api/supervisor/overview,
 *                          and every push before deltas), median of 5
 *   feed_full_render_bytes its size
 *   feed_pushes_per_s      pushes per second at that cost: at most one per
 *                          API_FEED_MS, and after a push that took T none
 *                          before 9 T later (api_feed_flush)
 *   feed_added_cpu_per_sms_pct   the feed's CPU per second over the SMS'
 *                          CPU per second at 2,000 SMS/s, in percent
 *                          (target <= 10)
 *
 * CPU is the process's (clock_gettime CLOCK_PROCESS_CPUTIME_ID), so a
 * shared machine's other work does not count. FEED_SMS overrides the number
 * of SMS (default 10,000).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "api/api.h"
#include "bench_tmp.h"
#include "core/cc.h"
#include "store/store.h"

#define AGENTS 5000
#define TEAMS 50
#define SMS_RATE 2000.0

static void die(const char *what, const char *why)
{
    fprintf(stderr, "bench_feed: %s: %s\n", what, why);
    exit(1);
}

typedef struct site {
    cc *c;
    store *st;
    api *api;
    cc_events ev;
    int64_t now;
    uint32_t offered_to, offered_conv;
} site;

static int64_t site_now(void *app)
{
    return ((site *)app)->now;
}

static int site_apply(void *app, const cc_cmd *m)
{
    site *s = app;
    cc_events_clear(&s->ev);
    int rc = cc_apply(s->c, m, s->now, &s->ev);
    if (rc < 0)
        return rc;
    s->offered_to = 0;
    for (size_t i = 0; i < s->ev.n; i++) {
        if (store_event_append(s->st, &s->ev.v[i]) != 0)
            die("store_event_append", store_errmsg(s->st));
        if (s->ev.v[i].type == CC_EV_OFFERED) {
            s->offered_to = s->ev.v[i].agent;
            s->offered_conv = s->ev.v[i].conv;
        }
    }
    api_publish(s->api, &s->ev);
    return rc;
}

static void must(site *s, cc_cmd m, const char *what)
{
    int rc = site_apply(s, &m);
    if (rc < 0)
        die(what, cc_err_code(rc));
}

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "--help") == 0) {
        puts("usage: bench_feed\nPrints the supervisors' feed's added CPU per SMS at 5,000 "
             "agents and 2,000 SMS/s (FEED_SMS: how many SMS, default 10000).");
        return 0;
    }
    const char *env = getenv("FEED_SMS");
    size_t n = env && atol(env) > 0 ? (size_t)atol(env) : 10000;
    bench_db db;
    site s = {.c = cc_new(), .now = 1764800000000};
    cc_events_init(&s.ev);
    s.st = bench_db_open(&db, "bench_feed");
    s.api = api_new(&(api_env){.core = s.c, .st = s.st, .app = &s, .apply = site_apply,
                               .now = site_now});
    if (store_begin(s.st) != 0)
        die("store_begin", store_errmsg(s.st));
    for (uint32_t t = 1; t <= TEAMS; t++) {
        char name[32], num[32];
        snprintf(name, sizeof name, "Team %u", t);
        must(&s, (cc_cmd){.type = CC_CMD_TEAM_PUT, .team = t, .name = str_c(name)}, "team");
        must(&s, (cc_cmd){.type = CC_CMD_QUEUE_PUT, .queue = t, .name = str_c(name), .ids = &t,
                          .n_ids = 1},
             "queue");
        snprintf(num, sizeof num, "+467000%05u", t);
        must(&s, (cc_cmd){.type = CC_CMD_EP_PUT, .ep = t, .number = str_c(num), .queue = t}, "ep");
    }
    for (uint32_t a = 1; a <= AGENTS; a++) {
        char name[32];
        snprintf(name, sizeof name, "Agent %u", a);
        uint32_t team = 1 + (a - 1) % TEAMS;
        must(&s, (cc_cmd){.type = CC_CMD_AGENT_PUT, .agent = a, .name = str_c(name), .ids = &team,
                          .n_ids = 1, .capacity = 3},
             "agent");
        must(&s, (cc_cmd){.type = CC_CMD_LOGIN, .agent = a}, "login");
        must(&s, (cc_cmd){.type = CC_CMD_SET_STATE, .agent = a, .state = CC_AGENT_AVAILABLE},
             "available");
    }
    if (store_commit(s.st) != 0 || store_begin(s.st) != 0)
        die("store_commit", store_errmsg(s.st));

    /* SMS in, offered, accepted, stored, published, with one supervisor's
     * page open (its first slices, as the page opens); every 500 SMS (250
     * ms at 2,000 SMS/s: one push per API_FEED_MS) the feed pushes what
     * changed. The push's CPU is counted apart from the SMS'. */
    size_t bytes = api_feed_page(s.api, 1), pushes = 0, pbytes = 0;
    double push_cpu = 0, *pv = malloc((n / 500 + 2) * sizeof *pv);
    double t0 = bench_cpu_s();
    for (size_t i = 0; i < n; i++) {
        char from[32], to[32], id[32];
        snprintf(from, sizeof from, "+4670%07zu", i);
        snprintf(to, sizeof to, "+467000%05zu", 1 + i % TEAMS);
        snprintf(id, sizeof id, "m%zu", i);
        s.now += 1;
        must(&s, (cc_cmd){.type = CC_CMD_SMS_IN, .number = str_c(from), .ep_number = str_c(to),
                          .text = STR_LIT("Hej, jag har en fråga om min faktura"),
                          .msg_id = str_c(id)},
             "sms_in");
        if (s.offered_to)
            must(&s, (cc_cmd){.type = CC_CMD_ACCEPT, .agent = s.offered_to, .conv = s.offered_conv},
                 "accept");
        if (i % 100 == 99 && (store_commit(s.st) != 0 || store_begin(s.st) != 0))
            die("store_commit", store_errmsg(s.st));
        if (i % 500 == 499) {
            double p0 = bench_cpu_s();
            pbytes += api_feed_page(s.api, 0);
            pv[pushes++] = bench_cpu_s() - p0;
            push_cpu += pv[pushes - 1];
        }
    }
    if (store_commit(s.st) != 0)
        die("store_commit", store_errmsg(s.st));
    double per_sms = (bench_cpu_s() - t0 - push_cpu) / (double)n;
    for (size_t i = 1; i < pushes; i++)
        for (size_t k = i; k > 0 && pv[k] < pv[k - 1]; k--) {
            double x = pv[k];
            pv[k] = pv[k - 1];
            pv[k - 1] = x;
        }
    double render = pushes ? push_cpu / (double)pushes : 0;

    /* the whole overview (GET /api/supervisor/overview; every push before
     * deltas): the median of 5 */
    double v[5];
    size_t full_bytes = 0;
    for (int k = 0; k < 5; k++) {
        double f0 = bench_cpu_s();
        full_bytes = api_feed_render(s.api);
        v[k] = bench_cpu_s() - f0;
    }
    for (int i = 1; i < 5; i++)
        for (int k = i; k > 0 && v[k] < v[k - 1]; k--) {
            double x = v[k];
            v[k] = v[k - 1];
            v[k - 1] = x;
        }
    double period = render * 9 > API_FEED_MS / 1000.0 ? render * 9 : API_FEED_MS / 1000.0;
    double rate = 1.0 / period;
    double added = 100.0 * rate * render / (SMS_RATE * per_sms);

    printf("feed_agents: %d agents\n", AGENTS);
    printf("feed_open_conversations: %zu conversations\n", cc_conv_count(s.c));
    printf("feed_sms_cpu_us: %.1f us\n", per_sms * 1e6);
    printf("feed_render_ms: %.3f ms\n", render * 1000);
    printf("feed_render_max_ms: %.3f ms\n", pushes ? pv[pushes - 1] * 1000 : 0);
    printf("feed_render_bytes: %zu bytes\n", pushes ? pbytes / pushes : 0);
    printf("feed_first_frame_bytes: %zu bytes\n", bytes);
    printf("feed_full_render_ms: %.1f ms\n", v[2] * 1000);
    printf("feed_full_render_bytes: %zu bytes\n", full_bytes);
    printf("feed_pushes_per_s: %.2f /s\n", rate);
    printf("feed_added_cpu_per_sms_pct: %.1f %%\n", added);
    free(pv);

    api_free(s.api);
    bench_db_remove(&db, s.st);
    cc_events_free(&s.ev);
    cc_free(s.c);
    return 0;
}
