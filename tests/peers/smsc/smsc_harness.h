/*
 * smsc_harness: starts the project's copy of the SMPP SMSC simulator
 * (smsc_sim.pl beside this file, Perl Net::SMPP) on free loopback ports,
 * talks to its control port, reads its JSON-lines event log, and drives a
 * pure smpp_session over a real TCP socket with the real clock. Header-only
 * (static functions) so that tests/unit/sms/test_smpp_peer.c and
 * bench/bench_smpp.c share it without a library. Test infrastructure: it
 * reads the clock and does I/O, which the session itself never does.
 *
 * The simulator is found relative to this header (__FILE__), so no build
 * setting is needed and nothing outside the repository is read.
 */
#ifndef TEXTDESK_TESTS_SMSC_HARNESS_H
#define TEXTDESK_TESTS_SMSC_HARNESS_H

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../../free_port.h"
#include "sms/smpp_pdu.h"
#include "sms/smpp_session.h"

typedef struct smsc_sim {
    pid_t pid;
    int port, ctl_port;
    char dir[64];
    char events[128];
} smsc_sim;

static inline int64_t smsc_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static inline void smsc_sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* 1 when perl and Net::SMPP are there. */
static inline int smsc_available(void)
{
    return system("perl -MNet::SMPP -e 1 >/dev/null 2>&1") == 0;
}

static inline void smsc_script(char *out, size_t cap)
{
    const char *f = __FILE__;
    const char *slash = strrchr(f, '/');
    int dn = slash ? (int)(slash - f) : 1;
    snprintf(out, cap, "%.*s/smsc_sim.pl", dn, slash ? f : ".");
}

static inline int smsc_free_port(void)
{
    return free_port();
}

/* Reads the whole event log into a malloc'd NUL-terminated string. */
static inline char *smsc_events(const smsc_sim *s)
{
    FILE *f = fopen(s->events, "rb");
    if (!f)
        return NULL;
    size_t cap = 65536, n = 0;
    char *b = malloc(cap);
    size_t k;
    while (b && (k = fread(b + n, 1, cap - n - 1, f)) > 0) {
        n += k;
        if (cap - n < 2) {
            char *nb = realloc(b, cap * 2);
            if (!nb) {
                free(b);
                b = NULL;
                break;
            }
            b = nb;
            cap *= 2;
        }
    }
    fclose(f);
    if (b)
        b[n] = '\0';
    return b;
}

/* Starts the simulator on SMPP port 'port' (0: a free one). auto_dlr:
 * automatic DELIVRD receipts. Returns 0. */
static inline int smsc_start_on(smsc_sim *s, int auto_dlr, int port_no)
{
    memset(s, 0, sizeof *s);
    snprintf(s->dir, sizeof s->dir, "/tmp/textdesk-smsc-XXXXXX");
    if (!mkdtemp(s->dir))
        return -errno;
    snprintf(s->events, sizeof s->events, "%s/events.jsonl", s->dir);
    s->port = port_no > 0 ? port_no : smsc_free_port();
    s->ctl_port = smsc_free_port();
    while (s->ctl_port == s->port)
        s->ctl_port = smsc_free_port();
    char script[512], port[16], ctl[16], out[128];
    smsc_script(script, sizeof script);
    snprintf(port, sizeof port, "%d", s->port);
    snprintf(ctl, sizeof ctl, "%d", s->ctl_port);
    snprintf(out, sizeof out, "%s/smsc_sim.out", s->dir);
    pid_t pid = fork();
    if (pid < 0)
        return -errno;
    if (pid == 0) {
        /* The simulator must not outlive a test that crashes. */
        prctl(PR_SET_PDEATHSIG, SIGTERM);
        int fd = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        if (fd >= 0) {
            dup2(fd, 1);
            dup2(fd, 2);
            close(fd);
        }
        execlp("perl", "perl", script, "--port", port, "--ctl-port", ctl, "--system-id",
               "test", "--password", "secret", auto_dlr ? "--auto-dlr" : "--no-auto-dlr",
               "--dlr-delay", "0", "--log", s->events, (char *)NULL);
        _exit(127);
    }
    s->pid = pid;
    for (int i = 0; i < 100; i++) {
        char *ev = smsc_events(s);
        int up = ev && strstr(ev, "\"event\":\"listening\"");
        free(ev);
        if (up)
            return 0;
        int st;
        if (waitpid(pid, &st, WNOHANG) == pid) {
            s->pid = 0;
            return -ECHILD;
        }
        smsc_sleep_ms(50);
    }
    return -ETIMEDOUT;
}

/* Starts the simulator on free ports (see smsc_start_on). */
static inline int smsc_start(smsc_sim *s, int auto_dlr)
{
    return smsc_start_on(s, auto_dlr, 0);
}

static inline void smsc_stop(smsc_sim *s)
{
    if (s->pid > 0) {
        kill(s->pid, SIGTERM);
        int st;
        for (int i = 0; i < 40 && waitpid(s->pid, &st, WNOHANG) == 0; i++)
            smsc_sleep_ms(50);
        if (waitpid(s->pid, &st, WNOHANG) == 0) {
            kill(s->pid, SIGKILL);
            waitpid(s->pid, &st, 0);
        }
        s->pid = 0;
    }
    if (getenv("SMSC_KEEP")) { /* debugging: keep the event log */
        fprintf(stderr, "smsc_harness: kept %s\n", s->dir);
        return;
    }
    char p[160];
    snprintf(p, sizeof p, "%s/smsc_sim.out", s->dir);
    unlink(p);
    unlink(s->events);
    rmdir(s->dir);
}

/* Sends one control command; copies the reply line. Returns 0 when the
 * reply starts with "OK". */
static inline int smsc_ctl(const smsc_sim *s, const char *cmd, char *reply, size_t cap)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {0};
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)s->ctl_port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int r = -1;
    if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof a) != 0)
        goto out;
    size_t n = strlen(cmd);
    if (write(fd, cmd, n) != (ssize_t)n || write(fd, "\n", 1) != 1)
        goto out;
    char b[512];
    size_t k = 0;
    while (k < sizeof b - 1) {
        ssize_t m = read(fd, b + k, sizeof b - 1 - k);
        if (m <= 0)
            break;
        k += (size_t)m;
        if (memchr(b, '\n', k))
            break;
    }
    b[k] = '\0';
    char *nl = strchr(b, '\n');
    if (nl)
        *nl = '\0';
    if (reply && cap) {
        size_t m = strlen(b) < cap - 1 ? strlen(b) : cap - 1;
        memcpy(reply, b, m);
        reply[m] = '\0';
    }
    r = strncmp(b, "OK", 2) == 0 ? 0 : -1;
out:
    if (fd >= 0)
        close(fd);
    return r;
}

/* ---- a wire tap: counts PDUs each way, for checks that do not trust the
 * session's own counters ---------------------------------------------------- */

typedef struct smsc_tap {
    uint8_t buf[SMPP_PDU_MAX];
    size_t n;
} smsc_tap;

typedef struct smsc_link smsc_link;
typedef void (*smsc_event_fn)(smsc_link *l, const smpp_event *ev);

struct smsc_link {
    smpp_session *s;
    const smsc_sim *sim;
    int fd;
    smsc_event_fn on_event;
    void *user;
    smsc_tap tap_out, tap_in;
    /* wire counters */
    uint64_t submits_written, submit_resps_read;
    int64_t outstanding, outstanding_max;
    int64_t *submit_times; /* ms of each submit_sm written (first submit_cap) */
    size_t submit_cap;
    uint64_t connects;
};

static inline void smsc_tap_feed(smsc_link *l, smsc_tap *t, const uint8_t *p, size_t n,
                                 int out)
{
    while (n > 0) {
        size_t k = sizeof t->buf - t->n < n ? sizeof t->buf - t->n : n;
        memcpy(t->buf + t->n, p, k);
        t->n += k;
        p += k;
        n -= k;
        for (;;) {
            long len = smpp_pdu_frame(t->buf, t->n);
            if (len <= 0 || (size_t)len > t->n)
                break;
            uint32_t cmd = (uint32_t)t->buf[4] << 24 | (uint32_t)t->buf[5] << 16 |
                           (uint32_t)t->buf[6] << 8 | t->buf[7];
            if (out && cmd == SMPP_SUBMIT_SM) {
                if (l->submit_times && l->submits_written < l->submit_cap)
                    l->submit_times[l->submits_written] = smsc_now_ms();
                l->submits_written++;
                l->outstanding++;
                if (l->outstanding > l->outstanding_max)
                    l->outstanding_max = l->outstanding;
            } else if (!out && (cmd == SMPP_SUBMIT_SM_RESP || cmd == SMPP_GENERIC_NACK)) {
                l->submit_resps_read++;
                l->outstanding--;
            }
            memmove(t->buf, t->buf + len, t->n - (size_t)len);
            t->n -= (size_t)len;
        }
        if (smpp_pdu_frame(t->buf, t->n) < 0)
            t->n = 0;
    }
}

static inline void smsc_link_close(smsc_link *l)
{
    if (l->fd >= 0)
        close(l->fd);
    l->fd = -1;
    l->tap_in.n = l->tap_out.n = 0;
    l->outstanding = 0; /* answers to the old connection never come */
}

static inline int smsc_link_connect(smsc_link *l)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {0};
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)l->sim->port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd < 0)
        return -1;
    if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
        close(fd);
        return -1;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    l->fd = fd;
    l->connects++;
    return 0;
}

static inline void smsc_link_events(smsc_link *l, int64_t now)
{
    smpp_event ev;
    while (smpp_session_poll(l->s, &ev)) {
        if (ev.type == SMPP_EV_CONNECT) {
            if (smsc_link_connect(l) == 0)
                smpp_session_connected(l->s, now);
            else
                smpp_session_link_lost(l->s, now);
        } else if (ev.type == SMPP_EV_CLOSE) {
            /* best effort: let the last answer (unbind_resp) out */
            size_t n;
            const uint8_t *p = smpp_session_out(l->s, &n);
            if (l->fd >= 0 && n > 0 && write(l->fd, p, n) > 0)
                smpp_session_out_consume(l->s, n);
            smsc_link_close(l);
        }
        if (l->on_event)
            l->on_event(l, &ev);
    }
}

static inline void smsc_link_flush(smsc_link *l, int64_t now)
{
    size_t n;
    const uint8_t *p = smpp_session_out(l->s, &n);
    while (l->fd >= 0 && n > 0) {
        ssize_t w = write(l->fd, p, n);
        if (w < 0 && (errno == EAGAIN || errno == EINTR))
            return;
        if (w <= 0) {
            smsc_link_close(l);
            smpp_session_link_lost(l->s, now);
            return;
        }
        smsc_tap_feed(l, &l->tap_out, p, (size_t)w, 1);
        smpp_session_out_consume(l->s, (size_t)w);
        p = smpp_session_out(l->s, &n);
    }
}

/* One loop turn: events, output, wait for input or the session's deadline
 * (at most 'max_wait' ms), input, tick. */
static inline void smsc_link_turn(smsc_link *l, int max_wait)
{
    int64_t now = smsc_now_ms();
    smsc_link_events(l, now);
    smsc_link_flush(l, now);
    smsc_link_events(l, now);
    int64_t due = smpp_session_next_deadline(l->s);
    int64_t wait = due == INT64_MAX ? max_wait : due <= now ? 0 : due - now;
    if (wait > max_wait)
        wait = max_wait;
    size_t pending;
    smpp_session_out(l->s, &pending);
    struct pollfd pfd = {l->fd, (short)(POLLIN | (pending ? POLLOUT : 0)), 0};
    int r = l->fd >= 0 ? poll(&pfd, 1, (int)wait) : (smsc_sleep_ms((int)wait), 0);
    now = smsc_now_ms();
    if (r > 0 && (pfd.revents & (POLLIN | POLLHUP | POLLERR))) {
        uint8_t b[16384];
        for (;;) {
            ssize_t k = read(l->fd, b, sizeof b);
            if (k > 0) {
                smsc_tap_feed(l, &l->tap_in, b, (size_t)k, 0);
                smpp_session_input(l->s, b, (size_t)k, now);
                smsc_link_events(l, now);
                if (l->fd < 0)
                    break;
                continue;
            }
            if (k < 0 && (errno == EAGAIN || errno == EINTR))
                break;
            smsc_link_close(l);
            smpp_session_link_lost(l->s, now);
            break;
        }
    }
    if (smpp_session_next_deadline(l->s) <= now)
        smpp_session_tick(l->s, now);
    smsc_link_events(l, now);
    smsc_link_flush(l, now);
}

/* Runs turns until done(l) or 'ms' elapse. Returns 1 when done. */
static inline int smsc_link_run(smsc_link *l, int (*done)(smsc_link *), int64_t ms)
{
    int64_t end = smsc_now_ms() + ms;
    while (smsc_now_ms() < end) {
        if (done && done(l))
            return 1;
        smsc_link_turn(l, 20);
    }
    return done ? done(l) : 1;
}

#endif
