/*
 * net_http.c: outbound HTTP(S) on the loop, through libcurl's multi
 * interface (net_curl.h: loaded on the first request). libcurl's sockets
 * are watched by the loop (net__io_*), its timeout is a net_timer; names
 * are resolved by its threaded resolver, so the loop never blocks on DNS.
 * On lws's poll loop (no libev) there are no foreign watchers: a 10 ms
 * timer drives curl_multi_perform while requests run.
 *
 * One request per connection (no reuse): a request that fails on a reused
 * connection would be retried by libcurl, and a peer that acted on it
 * before the connection died would see it twice (gateway sends).
 *
 * A request object belongs to this file. It is freed after its callback
 * ran (or when cancelled). Failures found before a transfer could start
 * (libcurl missing) are reported from a zero-delay timer, so callers never
 * see their callback re-entered.
 */
#include "net/net_http.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "net/net_curl.h"
#include "net/net_int.h"
#include "util/buf.h"
#include "util/xalloc.h"

#define CONNECT_TIMEOUT_MS 10000L
#define TOTAL_TIMEOUT_MS 30000L
#define POLL_MS 10 /* the poll-loop fallback */

typedef struct client {
    net_loop *l;
    const net_curl_api *cu;
    CURLM *m;
    net_timer *timer; /* curl's timeout, or the fallback's poll */
    int polling;      /* no libev: perform on the timer */
    int running;
    char *ca_file;
} client;

struct net_http_req {
    client *c;
    CURL *h;
    struct curl_slist *hdrs;
    net_timer *late; /* a failure reported from the loop */
    net_http_cb cb;
    void *arg;
    buf resp;
    char err[CURL_ERROR_SIZE];
};

static char *ca_file_setting; /* net_http_set_ca_file */

void net_http_set_ca_file(const char *path)
{
    free(ca_file_setting);
    ca_file_setting = path && path[0] ? xmemdup0(path, strlen(path)) : NULL;
}

int net_http_host_ok(const char *host)
{
    unsigned a, b, c, d;
    char tail;
    return sscanf(host, "%3u.%3u.%3u.%3u%c", &a, &b, &c, &d, &tail) == 4 && a < 256 &&
           b < 256 && c < 256 && d < 256;
}

int net_http_name_ok(const char *host)
{
    size_t n = strlen(host), label = 0;
    if (n == 0 || n > 253 || host[0] == '.' || host[0] == '-' || host[n - 1] == '-')
        return 0;
    for (size_t i = 0; i < n; i++) {
        char ch = host[i];
        if (ch == '.') {
            if (label == 0)
                return 0;
            label = 0;
        } else if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
                   (ch >= '0' && ch <= '9') || ch == '-') {
            if (++label > 63)
                return 0;
        } else {
            return 0;
        }
    }
    return 1;
}

int net_http_parse_url(const char *url, char *host, size_t hostcap, int *port, char *path,
                       size_t pathcap)
{
    int tls = strncmp(url, "https://", 8) == 0;
    if (!tls && strncmp(url, "http://", 7) != 0)
        return -1;
    const char *h = url + (tls ? 8 : 7), *slash = strchr(h, '/');
    const char *hend = slash ? slash : h + strlen(h);
    const char *colon = memchr(h, ':', (size_t)(hend - h));
    const char *name_end = colon ? colon : hend;
    if (name_end == h || (size_t)(name_end - h) >= hostcap)
        return -1;
    memcpy(host, h, (size_t)(name_end - h));
    host[name_end - h] = '\0';
    if (!net_http_name_ok(host))
        return -1;
    *port = tls ? 443 : 80;
    if (colon) {
        long p = 0;
        const char *q = colon + 1;
        if (q == hend)
            return -1;
        for (; q < hend; q++) {
            if (*q < '0' || *q > '9')
                return -1;
            p = p * 10 + (*q - '0');
            if (p > 65535)
                return -1;
        }
        if (p == 0)
            return -1;
        *port = (int)p;
    }
    const char *pth = slash ? slash : "/";
    if (strlen(pth) >= pathcap)
        return -1;
    memcpy(path, pth, strlen(pth) + 1);
    return 0;
}

/* ---- requests ----------------------------------------------------------- */

static void req_free(net_http_req *q)
{
    if (q->h) {
        q->c->cu->multi_remove_handle(q->c->m, q->h);
        q->c->cu->easy_cleanup(q->h);
    }
    if (q->hdrs)
        q->c->cu->slist_free_all(q->hdrs);
    net_timer_free(q->late);
    buf_free(&q->resp);
    free(q);
}

/* Runs the callback once and frees the request. */
static void finish(net_http_req *q, int status, int maybe_sent)
{
    net_http_result r = {status,
                         {q->resp.p ? q->resp.p : "", q->resp.n},
                         status ? NULL : (q->err[0] ? q->err : "no answer"),
                         status ? 1 : maybe_sent};
    net_http_cb cb = q->cb;
    q->cb = NULL;
    if (cb)
        cb(q->arg, &r);
    req_free(q);
}

static void late_fail(void *arg)
{
    finish(arg, 0, 0);
}

/* Reports the transfers that ended. */
static void reap(client *c)
{
    CURLMsg *msg;
    int left;
    while ((msg = c->cu->multi_info_read(c->m, &left)) != NULL) {
        if (msg->msg != CURLMSG_DONE)
            continue;
        CURL *h = msg->easy_handle;
        CURLcode rc = msg->data.result;
        char *priv = NULL;
        long status = 0, sent = 0;
        c->cu->easy_getinfo(h, CURLINFO_PRIVATE, &priv);
        c->cu->easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
        c->cu->easy_getinfo(h, CURLINFO_REQUEST_SIZE, &sent);
        net_http_req *q = (net_http_req *)priv;
        if (rc != CURLE_OK) {
            if (!q->err[0])
                snprintf(q->err, sizeof q->err, "%s", c->cu->easy_strerror(rc));
            status = 0;
        }
        finish(q, (int)status, sent > 0);
    }
}

static void on_io(void *arg, int fd, int ev)
{
    client *c = arg;
    int what = ((ev & NET_IO_IN) ? CURL_CSELECT_IN : 0) |
               ((ev & NET_IO_OUT) ? CURL_CSELECT_OUT : 0);
    c->cu->multi_socket_action(c->m, fd, what, &c->running);
    reap(c);
}

static int on_socket(CURL *h, curl_socket_t s, int what, void *userp, void *socketp)
{
    (void)h;
    client *c = userp;
    net_io *io = socketp;
    if (what == CURL_POLL_REMOVE) {
        net__io_free(io);
        c->cu->multi_assign(c->m, s, NULL);
        return 0;
    }
    if (io == NULL) {
        io = net__io_new(c->l, s, on_io, c);
        c->cu->multi_assign(c->m, s, io);
    }
    net__io_set(io, ((what & CURL_POLL_IN) ? NET_IO_IN : 0) |
                        ((what & CURL_POLL_OUT) ? NET_IO_OUT : 0));
    return 0;
}

static int on_curl_timer(CURLM *m, long ms, void *userp)
{
    (void)m;
    client *c = userp;
    net_timer_set(c->timer, ms < 0 ? -1 : ms);
    return 0;
}

static void on_timeout(void *arg)
{
    client *c = arg;
    if (c->polling) {
        c->cu->multi_perform(c->m, &c->running);
        reap(c);
        if (c->running)
            net_timer_set(c->timer, POLL_MS);
        return;
    }
    c->cu->multi_socket_action(c->m, CURL_SOCKET_TIMEOUT, 0, &c->running);
    reap(c);
}

/* This loop's client, created on the first request; NULL with 'err' set
 * when libcurl cannot be loaded. */
static client *client_of(net_loop *l, char *err, size_t errlen)
{
    void **slot = net__http_slot(l);
    if (*slot)
        return *slot;
    const net_curl_api *cu = net_curl(err, errlen);
    if (!cu)
        return NULL;
    client *c = xcalloc(1, sizeof *c);
    c->l = l;
    c->cu = cu;
    c->m = cu->multi_init();
    c->timer = net_timer_new(l, on_timeout, c);
    c->polling = !net__io_supported(l);
    if (!c->polling) {
        cu->multi_setopt(c->m, CURLMOPT_SOCKETFUNCTION, on_socket);
        cu->multi_setopt(c->m, CURLMOPT_SOCKETDATA, (void *)c);
        cu->multi_setopt(c->m, CURLMOPT_TIMERFUNCTION, on_curl_timer);
        cu->multi_setopt(c->m, CURLMOPT_TIMERDATA, (void *)c);
    }
    *slot = c;
    return c;
}

void net_http__loop_free(net_loop *l)
{
    client *c = *net__http_slot(l);
    if (!c)
        return;
    c->cu->multi_cleanup(c->m);
    net_timer_free(c->timer);
    free(c);
    *net__http_slot(l) = NULL;
}

static size_t on_body(char *p, size_t size, size_t n, void *arg)
{
    net_http_req *q = arg;
    size_t len = size * n;
    if (q->resp.n + len <= NET_HTTP_MAX_RESPONSE) /* the rest is dropped */
        buf_add(&q->resp, p, len);
    return len;
}

/* "Name: value" for libcurl; 0 or -1 when it cannot be added. */
static int add_header(net_http_req *q, const char *name, const char *value)
{
    size_t kl = strlen(name), vl = strlen(value);
    char *line = xmalloc(kl + vl + 3);
    memcpy(line, name, kl);
    memcpy(line + kl, ": ", 2);
    memcpy(line + kl + 2, value, vl + 1);
    struct curl_slist *n = q->c->cu->slist_append(q->hdrs, line);
    free(line);
    if (!n)
        return -1;
    q->hdrs = n;
    return 0;
}

net_http_req *net_http_request(net_loop *l, const net_http_opts *o, net_http_cb cb,
                               void *arg)
{
    char host[256], path[16384];
    int port;
    if (net_http_parse_url(o->url, host, sizeof host, &port, path, sizeof path) != 0)
        return NULL;
    net_http_req *q = xcalloc(1, sizeof *q);
    q->cb = cb;
    q->arg = arg;
    buf_init(&q->resp);
    q->c = client_of(l, q->err, sizeof q->err);
    if (!q->c) { /* libcurl missing: say so from the loop */
        q->late = net_timer_new(l, late_fail, q);
        net_timer_set(q->late, 0);
        return q;
    }
    const net_curl_api *cu = q->c->cu;
    CURL *h = q->h = cu->easy_init();
    cu->easy_setopt(h, CURLOPT_URL, o->url);
    cu->easy_setopt(h, CURLOPT_PRIVATE, (char *)q);
    cu->easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    cu->easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    cu->easy_setopt(h, CURLOPT_FORBID_REUSE, 1L);
    cu->easy_setopt(h, CURLOPT_FRESH_CONNECT, 1L);
    cu->easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, CONNECT_TIMEOUT_MS);
    cu->easy_setopt(h, CURLOPT_TIMEOUT_MS, TOTAL_TIMEOUT_MS);
    cu->easy_setopt(h, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
    cu->easy_setopt(h, CURLOPT_USERAGENT, "textdesk");
    cu->easy_setopt(h, CURLOPT_ERRORBUFFER, q->err);
    cu->easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    cu->easy_setopt(h, CURLOPT_WRITEDATA, (void *)q);
    if (ca_file_setting)
        cu->easy_setopt(h, CURLOPT_CAINFO, ca_file_setting);
    int bad = add_header(q, "Expect", ""); /* no 100-continue round trip */
    if (o->headers)
        for (size_t i = 0; o->headers[i] && o->headers[i + 1]; i += 2)
            bad |= add_header(q, o->headers[i], o->headers[i + 1]);
    if (strcmp(o->method, "GET") == 0) {
        cu->easy_setopt(h, CURLOPT_HTTPGET, 1L);
    } else {
        if (o->content_type)
            bad |= add_header(q, "Content-Type", o->content_type);
        cu->easy_setopt(h, CURLOPT_POSTFIELDSIZE, (long)o->body.n);
        cu->easy_setopt(h, CURLOPT_COPYPOSTFIELDS, o->body.n ? o->body.p : "");
        if (strcmp(o->method, "POST") != 0)
            cu->easy_setopt(h, CURLOPT_CUSTOMREQUEST, o->method);
    }
    cu->easy_setopt(h, CURLOPT_HTTPHEADER, q->hdrs);
    if (bad || cu->multi_add_handle(q->c->m, h) != CURLM_OK) {
        snprintf(q->err, sizeof q->err, "cannot start a request to %.200s", host);
        cu->easy_cleanup(h);
        q->h = NULL;
        q->late = net_timer_new(l, late_fail, q);
        net_timer_set(q->late, 0);
        return q;
    }
    if (q->c->polling)
        net_timer_set(q->c->timer, 0);
    (void)port;
    return q;
}

void net_http_cancel(net_http_req *q)
{
    if (!q)
        return;
    q->cb = NULL;
    req_free(q);
}
