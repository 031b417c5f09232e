/*
 * bench_server: the real server under load, driven from this process over
 * loopback (a C client, so that the load generator is not the bottleneck).
 *
 *   server_ingest_rate          inbound SMS/s acknowledged by the server
 *                               (POST /api/sim/send, 64 connections, each
 *                               acknowledged only after its commit)
 *   sqlite_raw_batch_rate       raw SQLite batch inserts (1000 a transaction,
 *                               same synchronous=FULL, same disk), this run
 *   server_ingest_vs_raw        the ratio of the two
 *   offer_latency_R_{p50,p99,max}  inbound SMS -> offer frame on the agent's
 *                               WebSocket, with AGENTS connected agents, at R
 *                               SMS/s for a few seconds
 *
 * Usage: bench_server [path/to/textdesk]  (default: textdesk beside this
 * binary). Agents' passwords are hashed at the minimum argon2id cost so that
 * a thousand logins take a second, not a minute; production uses the
 * interactive cost.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <sodium.h>
#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define AGENTS 1000
#define INGEST_N 40000
#define INGEST_CONNS 64
#define SEND_CONNS 64

static int port;
static char dir[256];

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void die(const char *what)
{
    fprintf(stderr, "bench_server: %s: %s\n", what, strerror(errno));
    exit(1);
}

static int connect_lo(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof a) != 0)
        die("connect");
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    return fd;
}

static void write_all(int fd, const char *p, size_t n)
{
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            die("write");
        p += w;
        n -= (size_t)w;
    }
}

/* Reads one HTTP response (headers + Content-Length body) into buf. */
static size_t read_response(int fd, char *buf, size_t cap)
{
    size_t n = 0;
    for (;;) {
        ssize_t r = read(fd, buf + n, cap - 1 - n);
        if (r <= 0)
            die("read response");
        n += (size_t)r;
        buf[n] = 0;
        char *end = strstr(buf, "\r\n\r\n");
        if (!end)
            continue;
        char *cl = strcasestr(buf, "content-length:");
        size_t len = cl ? strtoul(cl + 15, NULL, 10) : 0;
        if (n >= (size_t)(end + 4 - buf) + len)
            return n;
    }
}

static int free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t l = sizeof a;
    if (bind(fd, (struct sockaddr *)&a, sizeof a) != 0 ||
        getsockname(fd, (struct sockaddr *)&a, &l) != 0)
        die("free port");
    close(fd);
    return ntohs(a.sin_port);
}

/* ---- the server -------------------------------------------------------- */

static pid_t start_server(const char *bin)
{
    char cfg[300], hash[crypto_pwhash_STRBYTES];
    if (crypto_pwhash_str(hash, "bench", 5, crypto_pwhash_OPSLIMIT_MIN,
                          crypto_pwhash_MEMLIMIT_MIN) != 0)
        die("hash");
    snprintf(cfg, sizeof cfg, "%s/bench.json", dir);
    FILE *f = fopen(cfg, "w");
    if (!f)
        die("config");
    fprintf(f, "{\"teams\":[{\"id\":1,\"name\":\"T\"}],\"queues\":[{\"id\":1,\"name\":\"Q\","
               "\"teams\":[1],\"rona_timeout_s\":3600}],\"entry_points\":[{\"id\":1,"
               "\"number\":\"+46700000001\",\"queue\":1}],\"agents\":[");
    for (int i = 1; i <= AGENTS; i++)
        fprintf(f, "%s{\"id\":%d,\"name\":\"Agent %d\",\"teams\":[1],\"capacity\":1000,"
                   "\"username\":\"a%d\",\"password_hash\":\"%s\"}",
                i > 1 ? "," : "", i, i, i, hash);
    fprintf(f, "]}\n");
    fclose(f);
    char listen[64], data[300];
    snprintf(listen, sizeof listen, "127.0.0.1:%d", port);
    snprintf(data, sizeof data, "%s/data", dir);
    pid_t pid = fork();
    if (pid == 0) {
        int null = open("/dev/null", O_WRONLY);
        dup2(null, 1);
        execl(bin, bin, "serve", "--config", cfg, "--listen", listen, "--data", data,
              (char *)NULL);
        _exit(127);
    }
    for (int i = 0; i < 400; i++) { /* wait for it to listen */
        usleep(50000);
        int fd = socket(AF_INET, SOCK_STREAM, 0);
        struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        int ok = connect(fd, (struct sockaddr *)&a, sizeof a) == 0;
        close(fd);
        if (ok)
            return pid;
    }
    fprintf(stderr, "bench_server: the server did not start\n");
    exit(1);
}

/* ---- raw SQLite baseline ----------------------------------------------- */

static double raw_sqlite_rate(int rows)
{
    char path[300];
    snprintf(path, sizeof path, "%s/raw.db", dir);
    sqlite3 *db;
    sqlite3_stmt *st;
    sqlite3_open(path, &db);
    sqlite3_exec(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;"
                     "CREATE TABLE t(id INTEGER PRIMARY KEY, number TEXT, text TEXT, pid TEXT)",
                 NULL, NULL, NULL);
    sqlite3_prepare_v2(db, "INSERT INTO t(number, text, pid) VALUES (?, ?, ?)", -1, &st, NULL);
    double t0 = now_s();
    char num[32], pid[32];
    for (int i = 0; i < rows; i++) {
        if (i % 1000 == 0)
            sqlite3_exec(db, "BEGIN", NULL, NULL, NULL);
        snprintf(num, sizeof num, "+4670%07d", i);
        snprintf(pid, sizeof pid, "raw-%d", i);
        sqlite3_bind_text(st, 1, num, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, "Hej, jag behöver hjälp", -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 3, pid, -1, SQLITE_STATIC);
        sqlite3_step(st);
        sqlite3_reset(st);
        if (i % 1000 == 999 || i == rows - 1)
            sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
    }
    double rate = rows / (now_s() - t0);
    sqlite3_finalize(st);
    sqlite3_close(db);
    return rate;
}

/* ---- HTTP senders ------------------------------------------------------ */

typedef struct sender {
    int fd, busy;
    char in[4096];
    size_t n;
    int64_t key; /* the SMS in flight */
} sender;

static int make_sms(char *out, size_t cap, int64_t key)
{
    char body[200];
    int bl = snprintf(body, sizeof body,
                      "{\"from\":\"+4671%08lld\",\"to\":\"+46700000001\",\"text\":\"Hej, jag "
                      "behöver hjälp\",\"id\":\"bench-%lld\"}",
                      (long long)key, (long long)key);
    return snprintf(out, cap,
                    "POST /api/sim/send HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: "
                    "application/json\r\nContent-Length: %d\r\n\r\n%s",
                    bl, body);
}

/* Returns 1 when a whole response is in s->in (and consumes it). */
static int response_done(sender *s, int *ok)
{
    char *end = memmem(s->in, s->n, "\r\n\r\n", 4);
    if (!end)
        return 0;
    char *cl = memmem(s->in, (size_t)(end - s->in), "content-length:", 15);
    size_t len = cl ? strtoul(cl + 15, NULL, 10) : 0;
    size_t total = (size_t)(end + 4 - s->in) + len;
    if (s->n < total)
        return 0;
    *ok = memcmp(s->in, "HTTP/1.1 200", 12) == 0;
    memmove(s->in, s->in + total, s->n - total);
    s->n -= total;
    return 1;
}

static double ingest_rate(int64_t first_key)
{
    int ep = epoll_create1(0);
    sender *s = calloc(INGEST_CONNS, sizeof *s);
    int64_t next = first_key, done = 0, failed = 0;
    char req[512];
    double t0 = now_s();
    for (int i = 0; i < INGEST_CONNS; i++) {
        s[i].fd = connect_lo();
        struct epoll_event ev = {.events = EPOLLIN, .data.u32 = (uint32_t)i};
        epoll_ctl(ep, EPOLL_CTL_ADD, s[i].fd, &ev);
        int n = make_sms(req, sizeof req, next++);
        write_all(s[i].fd, req, (size_t)n);
    }
    while (done < INGEST_N) {
        struct epoll_event evs[64];
        int k = epoll_wait(ep, evs, 64, 10000);
        if (k <= 0)
            die("ingest stalled");
        for (int e = 0; e < k; e++) {
            sender *c = &s[evs[e].data.u32];
            ssize_t r = read(c->fd, c->in + c->n, sizeof c->in - c->n);
            if (r <= 0)
                die("ingest read");
            c->n += (size_t)r;
            int ok;
            while (response_done(c, &ok)) {
                done++;
                failed += !ok;
                if (next - first_key < INGEST_N) {
                    int n = make_sms(req, sizeof req, next++);
                    write_all(c->fd, req, (size_t)n);
                }
            }
        }
    }
    double rate = done / (now_s() - t0);
    for (int i = 0; i < INGEST_CONNS; i++)
        close(s[i].fd);
    free(s);
    close(ep);
    if (failed)
        fprintf(stderr, "bench_server: %lld of %lld inbound SMS refused\n", (long long)failed,
                (long long)done);
    return rate;
}

/* ---- WebSocket agents -------------------------------------------------- */

typedef struct agent {
    int fd;
    unsigned char *in;
    size_t n, cap;
} agent;

static void ws_send_text(int fd, const char *text)
{
    size_t n = strlen(text);
    unsigned char hdr[8] = {0x81, (unsigned char)(0x80 | n), 1, 2, 3, 4};
    unsigned char *frame = malloc(6 + n);
    memcpy(frame, hdr, 6);
    for (size_t i = 0; i < n; i++)
        frame[6 + i] = (unsigned char)text[i] ^ hdr[2 + i % 4];
    write_all(fd, (char *)frame, 6 + n);
    free(frame);
}

static int agent_connect(int i)
{
    char req[1024], resp[8192], cookie[200] = "";
    int fd = connect_lo();
    char body[64];
    int bl = snprintf(body, sizeof body, "{\"username\":\"a%d\",\"password\":\"bench\"}", i);
    int n = snprintf(req, sizeof req,
                     "POST /api/login HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: "
                     "application/json\r\nContent-Length: %d\r\n\r\n%s",
                     bl, body);
    write_all(fd, req, (size_t)n);
    read_response(fd, resp, sizeof resp);
    char *c = strcasestr(resp, "set-cookie: ");
    if (!c)
        die("login");
    sscanf(c + 12, "%199[^;]", cookie);
    close(fd);
    fd = connect_lo();
    n = snprintf(req, sizeof req,
                 "GET /ws HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nOrigin: http://127.0.0.1:%d\r\n"
                 "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: "
                 "dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nCookie: %s\r\n\r\n",
                 port, port, cookie);
    write_all(fd, req, (size_t)n);
    size_t got = 0;
    while (!memmem(resp, got, "\r\n\r\n", 4)) {
        ssize_t r = read(fd, resp + got, sizeof resp - got);
        if (r <= 0)
            die("ws handshake");
        got += (size_t)r;
    }
    if (memcmp(resp, "HTTP/1.1 101", 12) != 0)
        die("ws refused");
    ws_send_text(fd, "{\"cmd\":\"set_state\",\"state\":\"available\"}");
    return fd;
}

/* Send times by SMS key (the customer number encodes the key). */
static double *sent_at;
static double *latency;
static int64_t nlat;

/* Parses whole frames from a->in; records offer latencies. */
static void agent_frames(agent *a)
{
    size_t off = 0;
    for (;;) {
        if (a->n - off < 2)
            break;
        unsigned char *p = a->in + off;
        size_t len = p[1] & 0x7f, h = 2;
        if (len == 126) {
            if (a->n - off < 4)
                break;
            len = (size_t)p[2] << 8 | p[3];
            h = 4;
        } else if (len == 127) {
            if (a->n - off < 10)
                break;
            len = 0;
            for (int i = 2; i < 10; i++)
                len = len << 8 | p[i];
            h = 10;
        }
        if (a->n - off < h + len)
            break;
        char *t = (char *)p + h;
        char *role = memmem(t, len, "\"role\":\"offered\"", 16);
        char *num = memmem(t, len, "\"number\":\"+4671", 15);
        if (role && num) {
            long long key = strtoll(num + 15, NULL, 10);
            if (key >= 0 && key < INGEST_N * 4 && sent_at[key] > 0) {
                latency[nlat++] = now_s() - sent_at[key];
                sent_at[key] = 0;
            }
        }
        off += h + len;
    }
    memmove(a->in, a->in + off, a->n - off);
    a->n -= off;
}

static int cmp_d(const void *x, const void *y)
{
    double a = *(const double *)x, b = *(const double *)y;
    return a < b ? -1 : a > b;
}

static void latency_run(agent *ag, int nag, int ep, int rate, double secs, int64_t first_key)
{
    sender *s = calloc(SEND_CONNS, sizeof *s);
    for (int i = 0; i < SEND_CONNS; i++) {
        s[i].fd = connect_lo();
        struct epoll_event ev = {.events = EPOLLIN, .data.u32 = (uint32_t)(100000 + i)};
        epoll_ctl(ep, EPOLL_CTL_ADD, s[i].fd, &ev);
    }
    int64_t total = (int64_t)(rate * secs), next = 0;
    nlat = 0;
    double t0 = now_s(), deadline = t0 + secs + 5;
    char req[512];
    while (now_s() < deadline && (next < total || nlat < total)) {
        double t = now_s();
        while (next < total && t0 + next / (double)rate <= t) {
            int k;
            for (k = 0; k < SEND_CONNS && s[k].busy; k++)
                ;
            if (k == SEND_CONNS)
                break; /* all busy: the next due SMS waits (measured from now) */
            int64_t key = first_key + next++;
            int n = make_sms(req, sizeof req, key);
            sent_at[key] = now_s();
            write_all(s[k].fd, req, (size_t)n);
            s[k].busy = 1;
        }
        struct epoll_event evs[256];
        int k = epoll_wait(ep, evs, 256, 1);
        for (int e = 0; e < k; e++) {
            uint32_t id = evs[e].data.u32;
            if (id >= 100000) {
                sender *c = &s[id - 100000];
                ssize_t r = read(c->fd, c->in + c->n, sizeof c->in - c->n);
                if (r <= 0)
                    die("sender read");
                c->n += (size_t)r;
                int ok;
                while (response_done(c, &ok))
                    c->busy = 0;
            } else {
                agent *a = &ag[id];
                if (a->cap - a->n < 65536) {
                    a->cap = a->cap * 2 + 65536;
                    a->in = realloc(a->in, a->cap);
                }
                ssize_t r = read(a->fd, a->in + a->n, a->cap - a->n);
                if (r <= 0)
                    die("agent read");
                a->n += (size_t)r;
                agent_frames(a);
            }
        }
    }
    qsort(latency, (size_t)nlat, sizeof *latency, cmp_d);
    if (nlat < total)
        fprintf(stderr, "bench_server: only %lld of %lld offers seen\n", (long long)nlat,
                (long long)total);
    if (nlat) {
        printf("offer_latency_%d_p50: %.2f ms\n", rate, latency[nlat / 2] * 1000);
        printf("offer_latency_%d_p99: %.2f ms\n", rate, latency[nlat * 99 / 100] * 1000);
        printf("offer_latency_%d_max: %.2f ms\n", rate, latency[nlat - 1] * 1000);
    }
    for (int i = 0; i < SEND_CONNS; i++) {
        epoll_ctl(ep, EPOLL_CTL_DEL, s[i].fd, NULL);
        close(s[i].fd);
    }
    free(s);
    (void)nag;
}

int main(int argc, char **argv)
{
    if (sodium_init() < 0)
        return 1;
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
    snprintf(dir, sizeof dir, "/tmp/textdesk-bench-XXXXXX");
    if (!mkdtemp(dir))
        die("mkdtemp");
    port = free_port();
    pid_t pid = start_server(bin);
    sent_at = calloc(INGEST_N * 4, sizeof *sent_at);
    latency = calloc(INGEST_N * 4, sizeof *latency);

    double raw = raw_sqlite_rate(INGEST_N);
    double ingest = ingest_rate(0);
    printf("server_ingest_rate: %.0f sms/s\n", ingest);
    printf("sqlite_raw_batch_rate: %.0f rows/s\n", raw);
    printf("server_ingest_vs_raw: %.3f x\n", ingest / raw);

    /* 1000 agents connect and turn Available; they take what waits */
    int ep = epoll_create1(0);
    agent *ag = calloc(AGENTS, sizeof *ag);
    for (int i = 0; i < AGENTS; i++) {
        ag[i].fd = agent_connect(i + 1);
        struct epoll_event ev = {.events = EPOLLIN, .data.u32 = (uint32_t)i};
        epoll_ctl(ep, EPOLL_CTL_ADD, ag[i].fd, &ev);
    }
    printf("ws_agents: %d agents\n", AGENTS);
    /* drain the offers of what the ingest phase queued */
    double until = now_s() + 3;
    while (now_s() < until) {
        struct epoll_event evs[256];
        int k = epoll_wait(ep, evs, 256, 100);
        for (int e = 0; e < k; e++) {
            agent *a = &ag[evs[e].data.u32];
            if (a->cap - a->n < 65536) {
                a->cap = a->cap * 2 + 65536;
                a->in = realloc(a->in, a->cap);
            }
            ssize_t r = read(a->fd, a->in + a->n, a->cap - a->n);
            if (r > 0)
                a->n += (size_t)r, agent_frames(a);
        }
    }
    latency_run(ag, AGENTS, ep, 500, 4, INGEST_N);
    latency_run(ag, AGENTS, ep, 2000, 4, INGEST_N * 2);

    kill(pid, SIGTERM);
    waitpid(pid, NULL, 0);
    for (int i = 0; i < AGENTS; i++) {
        close(ag[i].fd);
        free(ag[i].in);
    }
    free(ag);
    free(sent_at);
    free(latency);
    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "bench_server: could not remove %s\n", dir);
    return 0;
}
