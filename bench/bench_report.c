/*
 * bench_report: a day's report over 1,000,000 stored messages.
 *
 * Builds a real store file (temporary directory) through the real core:
 * 20 Available agents, 100,000 conversations in one day, each with 5
 * inbound and 5 outbound messages, accepted, ended and wrapped up. Then
 * times what GET /api/reports/figures does for that day (api_report_fold:
 * every stored event read back lean, the replies' SMS segments as stored
 * with them, no text; the fold, percentiles and sorting), hourly in
 * Europe/Stockholm.
 * Baseline, measured in the same run: reading the same events back with a
 * callback that does nothing (store_events_load), the floor of any report
 * computed from the log.
 *
 * Figures:
 *   report_messages          messages stored
 *   report_events            events stored
 *   report_log_scan          ms to read every event back (baseline)
 *   report_log_replay        ms to read them back without message text
 *                            (what a start replays)
 *   report_log_lean          ms to read them back as a report does
 *                            (store_events_report: the fields it folds,
 *                            SQLite's report record, docs/internals/store.md)
 *   report_day               ms for the day's report (target <= 1000)
 *   report_day_vs_scan       report_day / report_log_scan
 *   report_day_cpu           the process's CPU time for it, ms (what the
 *                            machine's other work does not change)
 *   report_day_turns         the same report a chunk of API_REPORT_CHUNK
 *                            events at a time, as it runs on the event
 *                            loop (api_fold_step, no snapshot to start
 *                            from: the first report after a start): chunks
 *   report_day_max_turn_ms   the longest chunk, ms: the longest the report
 *                            holds the loop (SMS, desktops) in one turn
 *   report_day_max_turn_cpu_ms  the same in CPU time
 *   report_day_chunked_vs_one  CPU of all chunks / report_day_cpu
 * Then a tenth as many conversations are stored on the next day, and its
 * report is made three times (CPU time):
 *   report_snapshots         midnight snapshots of the fold the reports
 *                            kept (api_report.c)
 *   report_next_day_first_cpu  the first time: from the snapshot at the
 *                            day before's midnight (no fold had passed
 *                            this one yet), taking one at this midnight
 *   report_next_day_cpu      again: from the snapshot at its midnight
 *   report_next_day_full_cpu from the first event (no snapshots)
 *   report_next_day_vs_full  the ratio: a day's report costs what that day
 *                            holds, not what the log holds
 *
 * REPORT_CONVS overrides the number of conversations (x10 messages).
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "api/api.h"
#include "bench_tmp.h"
#include "core/cc.h"
#include "core/report.h"
#include "core/tz.h"
#include "store/store.h"

#define AGENTS 20
#define DAY_MS 86400000LL

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void die(const char *what, const char *why)
{
    fprintf(stderr, "bench_report: %s: %s\n", what, why);
    exit(1);
}

typedef struct run {
    cc *c;
    store *st;
    cc_events ev;
    int64_t clock_ms;
    size_t events, msgs;
    uint32_t offered_to;
} run;

static void apply(run *r, cc_cmd m, const char *what)
{
    cc_events_clear(&r->ev);
    int rc = cc_apply(r->c, &m, r->clock_ms, &r->ev);
    if (rc != 0)
        die(what, cc_err_code(rc));
    for (size_t i = 0; i < r->ev.n; i++) {
        const cc_event *e = &r->ev.v[i];
        if (store_event_append(r->st, e) != 0)
            die("store_event_append", store_errmsg(r->st));
        r->msgs += e->type == CC_EV_MSG_IN || e->type == CC_EV_MSG_OUT;
        if (e->type == CC_EV_OFFERED)
            r->offered_to = e->agent;
    }
    r->events += r->ev.n;
}

static void configure(run *r)
{
    static const uint32_t t1[] = {1};
    apply(r, (cc_cmd){.type = CC_CMD_TEAM_PUT, .team = 1, .name = STR_LIT("Support")}, "team");
    apply(r, (cc_cmd){.type = CC_CMD_REASON_PUT, .reason = 1, .name = STR_LIT("Solved")},
          "reason");
    apply(r, (cc_cmd){.type = CC_CMD_QUEUE_PUT, .queue = 1, .name = STR_LIT("Support"),
                      .ids = t1, .n_ids = 1},
          "queue");
    apply(r, (cc_cmd){.type = CC_CMD_EP_PUT, .ep = 1, .number = STR_LIT("+46700000001"),
                      .queue = 1},
          "ep");
    for (uint32_t a = 1; a <= AGENTS; a++) {
        char name[32];
        snprintf(name, sizeof name, "Agent %u", a);
        apply(r, (cc_cmd){.type = CC_CMD_AGENT_PUT, .agent = a, .name = str_c(name),
                          .ids = t1, .n_ids = 1},
              "agent");
        apply(r, (cc_cmd){.type = CC_CMD_LOGIN, .agent = a}, "login");
        apply(r, (cc_cmd){.type = CC_CMD_SET_STATE, .agent = a, .state = CC_AGENT_AVAILABLE},
              "available");
    }
}

static int nothing(void *arg, const cc_event *ev)
{
    (void)ev;
    ++*(size_t *)arg;
    return 0;
}

static int nothing_lean(void *arg, const cc_event *ev, int segments)
{
    (void)segments;
    return nothing(arg, ev);
}

/* 'convs' conversations in the day from 'day' (local midnight), numbered
 * from 'first': each 5 SMS in, 5 replies, accepted, ended, wrapped up. */
static void stored_day(run *r, int64_t day, size_t first, size_t convs)
{
    int64_t step = (DAY_MS - 60000) / (int64_t)convs;
    for (size_t i = 0; i < convs; i++) {
        char num[32], id[48];
        snprintf(num, sizeof num, "+4670%07zu", first + i);
        r->clock_ms = day + (int64_t)i * step;
        for (int k = 0; k < 5; k++) {
            snprintf(id, sizeof id, "m-%zu-%d", first + i, k);
            apply(r, (cc_cmd){.type = CC_CMD_SMS_IN, .number = str_c(num),
                               .ep_number = STR_LIT("+46700000001"),
                               .text = STR_LIT("Hej, jag behöver hjälp med min order 4711"),
                               .msg_id = str_c(id)},
                  "sms_in");
            if (k == 0) {
                uint32_t conv = r->ev.v[0].conv;
                r->clock_ms += step / 10;
                apply(r, (cc_cmd){.type = CC_CMD_ACCEPT, .agent = r->offered_to, .conv = conv},
                      "accept");
            }
            uint32_t conv = cc_conv_of(r->c, str_c(num), 1);
            cc_conv_view v;
            cc_conv_get(r->c, conv, &v);
            apply(r, (cc_cmd){.type = CC_CMD_SEND, .agent = v.owner, .conv = conv,
                               .text = STR_LIT("Tack! Jag tittar på din order direkt och "
                                               "återkommer inom några minuter med besked.")},
                  "send");
            if (k == 4) {
                apply(r, (cc_cmd){.type = CC_CMD_END, .agent = v.owner, .conv = conv}, "end");
                apply(r, (cc_cmd){.type = CC_CMD_WRAPUP, .agent = v.owner, .conv = conv,
                                   .reason = 1},
                      "wrapup");
            }
        }
        if (i % 5000 == 4999) {
            if (store_commit(r->st) != 0 || store_begin(r->st) != 0)
                die("store_commit", store_errmsg(r->st));
        }
    }
}

int main(void)
{
    const char *env = getenv("REPORT_CONVS");
    size_t convs = env && atol(env) > 0 ? (size_t)atol(env) : 100000;
    bench_db db;
    run r = {.c = cc_new()};
    cc_events_init(&r.ev);
    r.st = bench_db_open(&db, "textdesk-bench-report");
    store_set_sync(r.st, 0);
    int64_t day = tz_days_from_civil(2026, 12, 3) * DAY_MS - 3600000; /* local midnight */
    r.clock_ms = day - 3600000;
    if (store_begin(r.st) != 0)
        die("store_begin", store_errmsg(r.st));
    configure(&r);
    r.clock_ms = day;
    stored_day(&r, day, 0, convs);
    if (store_commit(r.st) != 0)
        die("store_commit", store_errmsg(r.st));

    size_t seen = 0, seen2 = 0; /* a first pass warms the page cache */
    if (store_events_load(r.st, nothing, &seen) != 0)
        die("store_events_load", store_errmsg(r.st));
    double t0 = now_s();
    if (store_events_replay(r.st, nothing, &seen2) != 0)
        die("store_events_replay", store_errmsg(r.st));
    double replay = now_s() - t0;
    seen = 0;
    t0 = now_s();
    if (store_events_load(r.st, nothing, &seen) != 0)
        die("store_events_load", store_errmsg(r.st));
    double scan = now_s() - t0;
    size_t seen3 = 0;
    t0 = now_s();
    if (store_events_report(r.st, nothing_lean, &seen3) != 0)
        die("store_events_report", store_errmsg(r.st));
    double lean = now_s() - t0;

    report_opts o = {.from = day, .to = day + DAY_MS, .step = REPORT_HOUR};
    const char *rule = "CET-1CEST,M3.5.0,M10.5.0/3";
    tz_parse(rule, strlen(rule), &o.tz);
    report *rep;
    api_snaps *snaps = api_snaps_new();
    t0 = now_s();
    double c0 = bench_cpu_s();
    if (api_report_fold(r.st, snaps, &o, day + DAY_MS, &rep) != 0)
        die("api_report_fold", store_errmsg(r.st));
    double took = now_s() - t0, cpu = bench_cpu_s() - c0;
    const report_row *rows;
    size_t nrows = report_rows(rep, &rows);
    uint64_t offered = 0, out = 0, segs = 0;
    for (size_t i = 0; i < nrows; i++)
        if (rows[i].dim == REPORT_TOTAL)
            offered += rows[i].offered, out += rows[i].msgs_out, segs += rows[i].segments;
    if (offered != convs || out != convs * 5 || segs < out)
        die("check", "the report does not count what was stored");

    printf("report_messages: %zu messages\n", r.msgs);
    printf("report_events: %zu events\n", seen);
    printf("report_log_scan: %.0f ms\n", scan * 1000);
    printf("report_log_replay: %.0f ms\n", replay * 1000);
    printf("report_log_lean: %.0f ms\n", lean * 1000);
    printf("report_day: %.0f ms\n", took * 1000);
    printf("report_day_vs_scan: %.2f x\n", took / scan);
    printf("report_day_cpu: %.0f ms\n", cpu * 1000);
    fflush(stdout);

    /* the same report as the loop folds it: a chunk per turn */
    api_snaps *fresh = api_snaps_new();
    api_fold *x = api_fold_begin(r.st, fresh, &o);
    double max_turn = 0, max_turn_cpu = 0, all_cpu = 0;
    size_t turns = 0;
    int step;
    do {
        double w0 = now_s(), k0 = bench_cpu_s();
        step = api_fold_step(x, API_REPORT_CHUNK);
        double w = now_s() - w0, k = bench_cpu_s() - k0;
        turns++;
        all_cpu += k;
        max_turn = w > max_turn ? w : max_turn;
        max_turn_cpu = k > max_turn_cpu ? k : max_turn_cpu;
    } while (step == 0);
    if (step != 1)
        die("api_fold_step", store_errmsg(r.st));
    double f0 = bench_cpu_s();
    report *chunked = api_fold_end(x, day + DAY_MS);
    all_cpu += bench_cpu_s() - f0;
    const report_row *crows;
    if (report_rows(chunked, &crows) != nrows || memcmp(crows, rows, nrows * sizeof *rows) != 0)
        die("check", "the report folded a chunk per turn differs from the one in one go");
    report_free(chunked);
    api_snaps_free(fresh);
    printf("report_day_turns: %zu chunks\n", turns);
    printf("report_day_max_turn_ms: %.1f ms\n", max_turn * 1000);
    printf("report_day_max_turn_cpu_ms: %.1f ms\n", max_turn_cpu * 1000);
    printf("report_day_chunked_vs_one: %.2f x\n", all_cpu / cpu);
    fflush(stdout);

    /* the next day, a tenth as busy: its report with the snapshot the
     * first one took at its midnight, and without (the whole log) */
    size_t next = convs / 10 ? convs / 10 : 1;
    if (store_begin(r.st) != 0)
        die("store_begin", store_errmsg(r.st));
    stored_day(&r, day + DAY_MS, convs, next);
    if (store_commit(r.st) != 0)
        die("store_commit", store_errmsg(r.st));
    report_opts o2 = o;
    o2.from = day + DAY_MS;
    o2.to = day + 2 * DAY_MS;
    double cost[3];
    for (int k = 0; k < 3; k++) {
        report *r2;
        c0 = bench_cpu_s();
        if (api_report_fold(r.st, k < 2 ? snaps : NULL, &o2, o2.to, &r2) != 0)
            die("api_report_fold", store_errmsg(r.st));
        cost[k] = bench_cpu_s() - c0;
        nrows = report_rows(r2, &rows);
        offered = 0;
        for (size_t i = 0; i < nrows; i++)
            offered += rows[i].dim == REPORT_TOTAL ? rows[i].offered : 0;
        if (offered != next)
            die("check", "the next day's report does not count what was stored");
        report_free(r2);
    }
    printf("report_snapshots: %zu snapshots\n", api_snaps_count(snaps));
    printf("report_next_day_first_cpu: %.0f ms\n", cost[0] * 1000);
    printf("report_next_day_cpu: %.0f ms\n", cost[1] * 1000);
    printf("report_next_day_full_cpu: %.0f ms\n", cost[2] * 1000);
    printf("report_next_day_vs_full: %.2f x\n", cost[1] / cost[2]);
    api_snaps_free(snaps);

    report_free(rep);
    bench_db_remove(&db, r.st);
    cc_events_free(&r.ev);
    cc_free(r.c);
    return 0;
}
