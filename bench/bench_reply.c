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
 *   reply_ws_to_submit_p50, _p99  the same from the desktop's side: the
 *                                 agent's `send` frame written to the
 *                                 server's WebSocket (a real connection over
 *                                 loopback, logged in like a desktop) until
 *                                 the gateway has the reply: the frame's
 *                                 parsing, the commit and the submit
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
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

/* ---- a desktop's connection, served by the same loop ------------------- */

static int connect_to(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0)
        die("cannot connect to the server");
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    return fd;
}

static void send_all(int fd, const void *p, size_t n)
{
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EAGAIN)
            continue;
        if (w <= 0)
            die("write");
        p = (const char *)p + w;
        n -= (size_t)w;
    }
}

/* Turns the loop until 'fd' has brought 'want' (in what it read into
 * 'in', NUL-terminated); returns where it starts. */
static char *turn_until(app *a, int fd, char *in, size_t cap, size_t *n, const char *want)
{
    for (int i = 0; i < 100000; i++) {
        ssize_t r = read(fd, in + *n, cap - 1 - *n);
        if (r > 0) {
            *n += (size_t)r;
            in[*n] = 0;
        }
        char *hit = memmem(in, *n, want, strlen(want));
        if (hit)
            return hit;
        if (r == 0 || *n + 1 >= cap)
            die("the server closed or said too much");
        net_loop_turn(a->loop);
    }
    die("no answer from the server");
    return NULL;
}

/* A masked text frame (RFC 6455: a client masks). */
static void ws_text(int fd, const char *text)
{
    size_t n = strlen(text);
    unsigned char f[512] = {0x81, (unsigned char)(0x80 | 126), (unsigned char)(n >> 8),
                            (unsigned char)n, 1, 2, 3, 4};
    if (n > sizeof f - 8)
        die("frame too long");
    for (size_t i = 0; i < n; i++)
        f[8 + i] = (unsigned char)text[i] ^ f[4 + i % 4];
    send_all(fd, f, 8 + n);
}

/* Logs anna in and opens her desktop's WebSocket; returns its socket. */
static int desktop_open(app *a)
{
    int port = http_port(a->http);
    static char in[1 << 16];
    size_t n = 0;
    char req[1024], cookie[256];
    const char body[] = "{\"username\":\"anna\",\"password\":\"demo-anna\"}";
    int fd = connect_to(port);
    int k = snprintf(req, sizeof req,
                     "POST /api/login HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nContent-Type: "
                     "application/json\r\nContent-Length: %zu\r\n\r\n%s",
                     port, sizeof body - 1, body);
    send_all(fd, req, (size_t)k);
    char *c = turn_until(a, fd, in, sizeof in, &n, "td_session=");
    if (sscanf(c, "%255[^;\r]", cookie) != 1)
        die("no session cookie");
    close(fd);
    fd = connect_to(port);
    k = snprintf(req, sizeof req,
                 "GET /ws HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nOrigin: http://127.0.0.1:%d\r\n"
                 "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: "
                 "dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nCookie: %s\r\n\r\n",
                 port, port, cookie);
    send_all(fd, req, (size_t)k);
    n = 0;
    turn_until(a, fd, in, sizeof in, &n, "\"type\":\"snapshot\"");
    return fd;
}

/* Reads (and forgets) what the server sent the desktop. */
static void drain(int fd)
{
    char tmp[1 << 16];
    while (read(fd, tmp, sizeof tmp) > 0)
        ;
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
        uint64_t c0 = a.commits.commits;
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
        commits += a.commits.commits - c0;
    }
    qsort(lat, REPLIES, sizeof lat[0], cmp);
    printf("reply_commits_before_submit: %.2f commits\n", (double)commits / REPLIES);
    printf("reply_to_submit_p50: %lld us\n", (long long)lat[REPLIES / 2]);
    printf("reply_to_submit_p99: %lld us\n", (long long)lat[REPLIES * 99 / 100]);
    fflush(stdout);

    /* the same replies from the desktop: a `send` frame on its WebSocket */
    int ws = desktop_open(&a);
    for (int i = 0; i < REPLIES; i++) {
        net_loop_turn(a.loop);
        drain(ws);
        size_t before = inbox(&a);
        char frame[128];
        snprintf(frame, sizeof frame, "{\"id\":%d,\"cmd\":\"send\",\"conv\":%u,\"text\":\"Svar %d\"}",
                 i + 1, conv, i);
        int64_t t0 = now_us();
        ws_text(ws, frame);
        while (inbox(&a) == before)
            if (net_loop_turn(a.loop) < 0)
                die("loop broken");
        lat[i] = now_us() - t0;
    }
    close(ws);
    qsort(lat, REPLIES, sizeof lat[0], cmp);
    printf("reply_ws_to_submit_p50: %lld us\n", (long long)lat[REPLIES / 2]);
    printf("reply_ws_to_submit_p99: %lld us\n", (long long)lat[REPLIES * 99 / 100]);
    app_close(&a);
    app_config_free(cfg);
    char cmd[96];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    return system(cmd) == 0 ? 0 : 1;
}
