/*
 * bench_reply: an agent's reply -> its submit to the gateway, in process
 * (issue 12): a real app (SQLite file, the served settings), its loop and
 * timers, the built-in simulator as the gateway. Each reply is applied as
 * the desktop's `send` command is (app_apply), then the loop turns until the
 * simulator has it. Prints
 *
 *   reply_commits_before_submit   group commits between the reply and its
 *                                 submit (1: stored and marked SUBMITTING
 *                                 in one transaction)
 *   reply_to_submit_p50, _p99     microseconds, REPLIES replies one after
 *                                 the other
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "app/app.h"
#include "sms/gw_sim.h"

#define REPLIES 300
#define CUSTOMER "+46701234567"

static int64_t now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void count(void *arg, const gw_sim_msg *m)
{
    (void)m;
    (*(size_t *)arg)++;
}

static size_t inbox(app *a)
{
    size_t n = 0;
    gw_sim_inbox(a->sim, STR_LIT(CUSTOMER), 0, count, &n);
    return n;
}

static int cmp(const void *x, const void *y)
{
    int64_t a = *(const int64_t *)x, b = *(const int64_t *)y;
    return a < b ? -1 : a > b;
}

static void die(const char *what)
{
    fprintf(stderr, "bench_reply: %s\n", what);
    exit(1);
}

int main(void)
{
    char dir[] = "/tmp/bench_replyXXXXXX", data[64], err[512];
    if (!mkdtemp(dir))
        die("mkdtemp");
    snprintf(data, sizeof data, "%s/data", dir);
    app_config *cfg = app_config_load(NULL, err, sizeof err);
    static app a;
    if (!cfg || app_open(&a, data, cfg, err, sizeof err) != 0)
        die(err);
    http_cfg hc = {.iface = "127.0.0.1", .port = 0, .web_dir = TEXTDESK_WEB_DIR};
    if (app_listen(&a, &hc, err, sizeof err) != 0)
        die(err);
    app_apply(&a, &(cc_cmd){.type = CC_CMD_LOGIN, .agent = 1});
    app_apply(&a, &(cc_cmd){.type = CC_CMD_SET_STATE, .agent = 1, .state = CC_AGENT_AVAILABLE});
    app_apply(&a, &(cc_cmd){.type = CC_CMD_SMS_IN, .number = STR_LIT(CUSTOMER),
                            .ep_number = STR_LIT("+46700000001"), .text = STR_LIT("Hej"),
                            .msg_id = STR_LIT("bench:1")});
    uint32_t conv = 0;
    for (int i = 0; i < 100 && !conv; i++) {
        net_loop_turn(a.loop);
        uint32_t ids[2];
        if (cc_agent_convs(a.core, 1, ids, 2) == 1)
            conv = ids[0];
    }
    if (!conv || app_apply(&a, &(cc_cmd){.type = CC_CMD_ACCEPT, .agent = 1, .conv = conv}) != 0)
        die("no conversation offered and accepted");
    static int64_t lat[REPLIES];
    uint64_t commits = 0;
    for (int i = 0; i < REPLIES; i++) {
        net_loop_turn(a.loop); /* settle: the previous reply's status */
        size_t before = inbox(&a);
        uint64_t c0 = a.commits;
        char text[32];
        snprintf(text, sizeof text, "Svar %d", i);
        int64_t t0 = now_us();
        if (app_apply(&a, &(cc_cmd){.type = CC_CMD_SEND, .agent = 1, .conv = conv,
                                    .text = str_c(text)}) != 0)
            die("send refused");
        while (inbox(&a) == before)
            if (net_loop_turn(a.loop) < 0)
                die("loop broken");
        lat[i] = now_us() - t0;
        commits += a.commits - c0;
    }
    qsort(lat, REPLIES, sizeof lat[0], cmp);
    printf("reply_commits_before_submit: %.2f commits\n", (double)commits / REPLIES);
    printf("reply_to_submit_p50: %lld us\n", (long long)lat[REPLIES / 2]);
    printf("reply_to_submit_p99: %lld us\n", (long long)lat[REPLIES * 99 / 100]);
    app_close(&a);
    app_config_free(cfg);
    char cmd[96];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    return system(cmd) == 0 ? 0 : 1;
}
