/*
 * bench_smpp: submit_sm throughput against the real SMSC simulator
 * (tests/peers/smsc/smsc_sim.pl, Perl Net::SMPP), window 10, two ways in
 * one run:
 *
 *   smpp_submit_window{1,10}   the pure SMPP session over loopback TCP,
 *                              driven from this process: single-segment
 *                              messages, no throttle, no receipts, for a
 *                              fixed time, counting submit_sm_resp with
 *                              status 0 (window 1, stop-and-wait, is the
 *                              baseline of the window's speedup);
 *   smpp_server_submit_window10  the running server (textdesk serve, the
 *                              release binary beside this one) with an
 *                              "smpp" gateway: a WebSocket agent opens
 *                              SERVER_CONVS conversations and sends
 *                              SERVER_REPLIES replies in each while the
 *                              SMSC is not there yet; then the simulator
 *                              starts and the outbox drains through the
 *                              gateway. Rate = submit_sm seen by the SMSC
 *                              (its event log's timestamps) from the first
 *                              to the last of the N replies, after checking
 *                              that exactly N arrived;
 *   smpp_server_vs_session     the ratio of the two window-10 figures.
 *
 * The simulator is one single-threaded Perl process that logs a JSON line
 * per PDU: it is the bottleneck of the session-direct figure, so the ratio
 * shows what the server's path (store, outbox, one reply in flight per
 * conversation) costs on top of the SMPP link. Prints `name: value unit`
 * lines; about 20 s. Skips (exit 0) when perl Net::SMPP is missing.
 *
 * Usage: bench_smpp [path/to/textdesk]  (default: textdesk beside this
 * binary; without it only the session-direct figures are printed).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../tests/peers/smsc/smsc_harness.h"

static int bound(smsc_link *l)
{
    return smpp_session_state(l->s) == SMPP_ST_BOUND;
}

/* Submits for 'ms' milliseconds with 'window'; returns messages/s. */
static double run(const smsc_sim *sim, unsigned window, int64_t ms, uint64_t *done_out,
                  unsigned *inflight_max)
{
    smpp_cfg c = {0};
    c.system_id = "test";
    c.password = "secret";
    c.window = window;
    c.no_receipts = 1;
    c.max_queue = 1000000;
    smsc_link l = {0};
    l.sim = sim;
    l.fd = -1;
    l.s = smpp_session_new(&c);
    if (!smsc_link_run(&l, bound, 5000)) {
        fprintf(stderr, "bench_smpp: bind failed\n");
        exit(1);
    }
    int64_t ref = 0;
    /* Keep the queue a little ahead of the window. */
    for (; ref < 100; ref++)
        smpp_session_send(l.s, ref, STR_LIT("71000"), STR_LIT("+46701234567"),
                          STR_LIT("Benchmark reply text"), smsc_now_ms());
    int64_t t0 = smsc_now_ms(), end = t0 + ms;
    smpp_stats st0;
    smpp_session_stats_get(l.s, &st0);
    while (smsc_now_ms() < end) {
        smsc_link_turn(&l, 5);
        smpp_stats st;
        smpp_session_stats_get(l.s, &st);
        while (st.queued < 100) {
            smpp_session_send(l.s, ref++, STR_LIT("71000"), STR_LIT("+46701234567"),
                              STR_LIT("Benchmark reply text"), smsc_now_ms());
            st.queued++;
        }
    }
    double secs = (double)(smsc_now_ms() - t0) / 1000.0;
    smpp_stats st;
    smpp_session_stats_get(l.s, &st);
    *done_out = st.submit_ok - st0.submit_ok;
    *inflight_max = st.inflight_max;
    smpp_session_stop(l.s, smsc_now_ms());
    smsc_link_run(&l, NULL, 200);
    smpp_session_free(l.s);
    smsc_link_close(&l);
    return (double)*done_out / secs;
}

/* ---- through the running server -------------------------------------- */

#define SERVER_CONVS 50   /* conversations: at most one reply each in flight */
#define SERVER_REPLIES 40 /* replies per conversation */
#define SERVER_N (SERVER_CONVS * SERVER_REPLIES)

static void die(const char *what)
{
    fprintf(stderr, "bench_smpp: %s\n", what);
    exit(1);
}

static int connect_lo(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
        if (fd >= 0)
            close(fd);
        return -1;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    return fd;
}

static void write_all(int fd, const void *p, size_t n)
{
    const char *c = p;
    while (n) {
        ssize_t w = write(fd, c, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            die("write");
        c += w;
        n -= (size_t)w;
    }
}

/* Reads until 'buf' (NUL-terminated) holds the end of an HTTP head and
 * Content-Length bytes of body. */
static void read_http(int fd, char *buf, size_t cap)
{
    size_t n = 0;
    for (;;) {
        ssize_t r = read(fd, buf + n, cap - 1 - n);
        if (r <= 0)
            die("read HTTP answer");
        n += (size_t)r;
        buf[n] = '\0';
        char *end = strstr(buf, "\r\n\r\n");
        if (!end)
            continue;
        char *cl = strcasestr(buf, "content-length:");
        size_t len = cl ? strtoul(cl + 15, NULL, 10) : 0;
        if (n >= (size_t)(end + 4 - buf) + len)
            return;
    }
}

/* One masked text frame (payload < 126 bytes). */
static void ws_send(int fd, const char *text)
{
    size_t n = strlen(text);
    unsigned char f[6 + 126] = {0x81, (unsigned char)(0x80 | n), 1, 2, 3, 4};
    if (n >= 126)
        die("frame too long");
    for (size_t i = 0; i < n; i++)
        f[6 + i] = (unsigned char)text[i] ^ f[2 + i % 4];
    write_all(fd, f, 6 + n);
}

/* The agent's WebSocket: frames come in 'in'. */
typedef struct wsc {
    int fd;
    unsigned char *in;
    size_t n, cap;
} wsc;

/* Reads the next whole frame's payload into 'out' (NUL-terminated). */
static void ws_next(wsc *w, char **out, size_t *len)
{
    for (;;) {
        if (w->n >= 2) {
            size_t l = w->in[1] & 0x7f, h = 2;
            if (l == 126 && w->n >= 4)
                l = (size_t)w->in[2] << 8 | w->in[3], h = 4;
            else if (l == 127 && w->n >= 10) {
                l = 0;
                for (int i = 2; i < 10; i++)
                    l = l << 8 | w->in[i];
                h = 10;
            } else if (l >= 126)
                h = 0;
            if (h && w->n >= h + l) {
                *out = malloc(l + 1);
                memcpy(*out, w->in + h, l);
                (*out)[l] = '\0';
                *len = l;
                memmove(w->in, w->in + h + l, w->n - h - l);
                w->n -= h + l;
                return;
            }
        }
        if (w->cap - w->n < 65536) {
            w->cap = w->cap * 2 + 65536;
            w->in = realloc(w->in, w->cap);
        }
        ssize_t r = read(w->fd, w->in + w->n, w->cap - w->n);
        if (r <= 0)
            die("read WebSocket");
        w->n += (size_t)r;
    }
}

/* Waits for the result of command 'id'; returns its frame (free it). */
static char *ws_result(wsc *w, int id)
{
    char want[48];
    snprintf(want, sizeof want, "\"id\":%d,", id);
    for (;;) {
        char *f;
        size_t l;
        ws_next(w, &f, &l);
        if (strstr(f, "\"type\":\"result\"") && strstr(f, want))
            return f;
        free(f);
    }
}

static void ws_login(wsc *w, int port)
{
    char req[1024], resp[8192], cookie[256] = "";
    int fd = connect_lo(port);
    if (fd < 0)
        die("connect to the server");
    const char *body = "{\"username\":\"a1\",\"password\":\"bench-pw\"}";
    int n = snprintf(req, sizeof req,
                     "POST /api/login HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: "
                     "application/json\r\nContent-Length: %zu\r\n\r\n%s",
                     strlen(body), body);
    write_all(fd, req, (size_t)n);
    read_http(fd, resp, sizeof resp);
    close(fd);
    char *c = strcasestr(resp, "set-cookie: ");
    if (!c)
        die("login");
    sscanf(c + 12, "%255[^;]", cookie);
    w->fd = connect_lo(port);
    n = snprintf(req, sizeof req,
                 "GET /ws HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nOrigin: http://127.0.0.1:%d\r\n"
                 "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: "
                 "dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nCookie: %s\r\n\r\n",
                 port, port, cookie);
    write_all(w->fd, req, (size_t)n);
    size_t got = 0;
    while (!memmem(resp, got, "\r\n\r\n", 4)) {
        ssize_t r = read(w->fd, resp + got, sizeof resp - got);
        if (r <= 0)
            die("WebSocket handshake");
        got += (size_t)r;
    }
    char *end = (char *)memmem(resp, got, "\r\n\r\n", 4) + 4;
    if (memcmp(resp, "HTTP/1.1 101", 12) != 0)
        die("WebSocket refused");
    /* frames that came with the handshake's answer */
    size_t extra = got - (size_t)(end - resp);
    w->cap = extra + 65536;
    w->in = malloc(w->cap);
    memcpy(w->in, end, extra);
    w->n = extra;
}

static pid_t start_server(const char *bin, const char *dir, int port, int smsc_port)
{
    char cfg[300], listen[64], data[300];
    snprintf(cfg, sizeof cfg, "%s/bench.json", dir);
    FILE *f = fopen(cfg, "w");
    if (!f)
        die("config");
    fprintf(f,
            "{\"teams\":[{\"id\":1,\"name\":\"T\"}],\"queues\":[{\"id\":1,\"name\":\"Q\","
            "\"teams\":[1]}],\"entry_points\":[{\"id\":1,\"number\":\"71000\",\"queue\":1,"
            "\"gateway\":\"smsc1\"}],\"agents\":[{\"id\":1,\"name\":\"Bench\",\"teams\":[1],"
            "\"capacity\":%d,\"username\":\"a1\",\"password\":\"bench-pw\"}],"
            "\"gateways\":[{\"id\":\"smsc1\",\"type\":\"smpp\",\"host\":\"127.0.0.1\","
            "\"port\":%d,\"system_id\":\"test\",\"password\":\"secret\",\"window\":10,"
            "\"receipts\":false,\"backoff_min_ms\":100,\"backoff_max_ms\":200}],"
            "\"outbox\":{\"max_attempts\":1000,\"backoff_ms\":50,\"backoff_max_ms\":100}}\n",
            SERVER_CONVS, smsc_port);
    fclose(f);
    snprintf(listen, sizeof listen, "127.0.0.1:%d", port);
    snprintf(data, sizeof data, "%s/data", dir);
    pid_t pid = fork();
    if (pid == 0) {
        int null = open("/dev/null", O_WRONLY);
        dup2(null, 1);
        dup2(null, 2);
        execl(bin, bin, "serve", "--config", cfg, "--listen", listen, "--data", data,
              (char *)NULL);
        _exit(127);
    }
    for (int i = 0; i < 400; i++) {
        smsc_sleep_ms(50);
        int fd = connect_lo(port);
        if (fd >= 0) {
            close(fd);
            return pid;
        }
    }
    die("the server did not start");
    return -1;
}

/* The 't' of each submit_sm in the simulator's log, in order; returns the
 * count (at most 'max'). */
static size_t submit_times(const smsc_sim *sim, double *t, size_t max)
{
    char *ev = smsc_events(sim);
    size_t n = 0;
    for (char *p = ev; p && (p = strstr(p, "{\"event\":\"submit_sm\"")) != NULL; p++) {
        char *nl = strchr(p, '\n');
        char *tp = strstr(p, "\"t\":");
        if (tp && (!nl || tp < nl) && n < max)
            t[n++] = strtod(tp + 4, NULL);
    }
    free(ev);
    return n;
}

/* Messages/s reaching the SMSC through the server; 0 when it cannot run. */
static double server_run(const char *bin, double *drain_s)
{
    char dir[64] = "/tmp/textdesk-bench-smpp-XXXXXX";
    if (!mkdtemp(dir))
        die("mkdtemp");
    int port = smsc_free_port(), smsc_port = smsc_free_port();
    while (smsc_port == port)
        smsc_port = smsc_free_port();
    pid_t pid = start_server(bin, dir, port, smsc_port);
    wsc w = {0};
    ws_login(&w, port);
    int id = 1;
    char cmd[128];
    ws_send(w.fd, "{\"id\":1,\"cmd\":\"set_state\",\"state\":\"available\"}");
    free(ws_result(&w, id++));
    int conv[SERVER_CONVS];
    for (int i = 0; i < SERVER_CONVS; i++) {
        snprintf(cmd, sizeof cmd,
                 "{\"id\":%d,\"cmd\":\"outbound\",\"entry_point\":1,\"number\":\"+467100%05d\"}",
                 id, i);
        ws_send(w.fd, cmd);
        char *r = ws_result(&w, id++);
        char *c = strstr(r, "\"conv\":");
        if (!strstr(r, "\"ok\":true") || !c) {
            fprintf(stderr, "bench_smpp: outbound: %s\n", r);
            die("outbound refused");
        }
        conv[i] = (int)strtol(c + 7, NULL, 10);
        free(r);
    }
    /* the replies, while no SMSC listens: they wait in the outbox */
    for (int k = 0; k < SERVER_REPLIES; k++) {
        int first = id;
        for (int i = 0; i < SERVER_CONVS; i++) {
            snprintf(cmd, sizeof cmd, "{\"id\":%d,\"cmd\":\"send\",\"conv\":%d,\"text\":\"Svar %d\"}",
                     id++, conv[i], k);
            ws_send(w.fd, cmd);
        }
        for (int i = first; i < id; i++) {
            char *r = ws_result(&w, i);
            if (!strstr(r, "\"ok\":true")) {
                fprintf(stderr, "bench_smpp: send: %s\n", r);
                die("send refused");
            }
            free(r);
        }
    }
    smsc_sim sim;
    if (smsc_start_on(&sim, 0, smsc_port) != 0)
        die("simulator did not start");
    double *t = calloc(SERVER_N + 1, sizeof *t);
    int64_t end = smsc_now_ms() + 120000;
    size_t n = 0;
    while ((n = submit_times(&sim, t, SERVER_N + 1)) < SERVER_N && smsc_now_ms() < end)
        smsc_sleep_ms(100);
    smsc_sleep_ms(500); /* would anything more come (a duplicate)? */
    n = submit_times(&sim, t, SERVER_N + 1);
    double rate = 0;
    if (n != SERVER_N) {
        fprintf(stderr, "bench_smpp: the SMSC got %zu submit_sm, expected %d\n", n, SERVER_N);
    } else {
        *drain_s = t[n - 1] - t[0];
        rate = *drain_s > 0 ? (double)(n - 1) / *drain_s : 0;
    }
    kill(pid, SIGTERM);
    waitpid(pid, NULL, 0);
    smsc_stop(&sim);
    close(w.fd);
    free(w.in);
    free(t);
    char rm[128];
    snprintf(rm, sizeof rm, "rm -rf '%s'", dir);
    if (system(rm) != 0)
        fprintf(stderr, "bench_smpp: could not remove %s\n", dir);
    return rate;
}

int main(int argc, char **argv)
{
    signal(SIGPIPE, SIG_IGN);
    char bin[4096];
    if (argc > 1) {
        snprintf(bin, sizeof bin, "%s", argv[1]);
    } else {
        snprintf(bin, sizeof bin, "%s", argv[0]);
        char *slash = strrchr(bin, '/');
        snprintf(slash ? slash + 1 : bin, sizeof bin - (size_t)(slash ? slash + 1 - bin : 0),
                 "textdesk");
    }
    if (!smsc_available()) {
        printf("bench_smpp: skipped (perl Net::SMPP missing; scripts/deps.sh --test)\n");
        return 0;
    }
    smsc_sim sim;
    if (smsc_start(&sim, 0) != 0) {
        fprintf(stderr, "bench_smpp: simulator did not start\n");
        return 1;
    }
    uint64_t n1, n10;
    unsigned m1, m10;
    double r1 = run(&sim, 1, 4000, &n1, &m1);
    double r10 = run(&sim, 10, 4000, &n10, &m10);
    smsc_stop(&sim);
    printf("smpp_submit_window1: %.0f msg/s\n", r1);
    printf("smpp_submit_window10: %.0f msg/s\n", r10);
    printf("smpp_submit_window10_speedup: %.2f x\n", r1 > 0 ? r10 / r1 : 0.0);
    printf("smpp_submit_window10_inflight_max: %u pdus\n", m10);
    printf("smpp_submit_accepted_total: %llu msgs\n", (unsigned long long)(n1 + n10));
    if (access(bin, X_OK) != 0) {
        printf("smpp_server_submit_window10: skipped (no server binary at %s)\n", bin);
        return 0;
    }
    double drain = 0, rs = server_run(bin, &drain);
    if (rs <= 0)
        return 1;
    printf("smpp_server_submit_window10: %.0f msg/s\n", rs);
    printf("smpp_server_submit_msgs: %d msgs\n", SERVER_N);
    printf("smpp_server_submit_drain: %.2f s\n", drain);
    printf("smpp_server_vs_session: %.2f x\n", r10 > 0 ? rs / r10 : 0.0);
    return 0;
}
