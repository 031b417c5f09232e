/*
 * net_http.c: outbound HTTP on the loop's lws context. Client
 * connections live on their own vhost ("textdesk-client", created on first
 * use, no listener) so that their protocol never meets the server's.
 *
 * A request object belongs to this file. It is freed when its connection
 * ends, after the callback ran (or was cancelled). Failures found while
 * lws_client_connect_via_info is still running are reported from a
 * zero-delay timer, so callers never see their callback re-entered.
 */
#include "net/net_http.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "net/net_int.h"
#include "util/buf.h"
#include "util/xalloc.h"

#define CLIENT_VHOST "textdesk-client"

struct net_http_req {
    lws_sorted_usec_list_t sul; /* first: the timer callback gets its address */
    struct lws *wsi;
    net_http_cb cb;
    void *arg;
    char host[64], *path, *method, *ctype;
    char **hdrs; /* name, value, ..., NULL */
    buf body, resp;
    int status, wrote, connecting, finished, detached;
    char err[128];
};

int net_http_host_ok(const char *host)
{
    unsigned a, b, c, d;
    char tail;
    return sscanf(host, "%3u.%3u.%3u.%3u%c", &a, &b, &c, &d, &tail) == 4 && a < 256 &&
           b < 256 && c < 256 && d < 256;
}

int net_http_parse_url(const char *url, char *host, size_t hostcap, int *port, char *path,
                          size_t pathcap)
{
    if (strncmp(url, "http://", 7) != 0)
        return -1;
    const char *h = url + 7, *slash = strchr(h, '/');
    const char *hend = slash ? slash : h + strlen(h);
    const char *colon = memchr(h, ':', (size_t)(hend - h));
    const char *name_end = colon ? colon : hend;
    if (name_end == h || (size_t)(name_end - h) >= hostcap)
        return -1;
    memcpy(host, h, (size_t)(name_end - h));
    host[name_end - h] = '\0';
    *port = 80;
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

static void creq_free(net_http_req *q)
{
    free(q->path);
    free(q->method);
    free(q->ctype);
    if (q->hdrs)
        for (char **h = q->hdrs; *h; h++)
            free(*h);
    free(q->hdrs);
    buf_free(&q->body);
    buf_free(&q->resp);
    free(q);
}

/* Runs the callback once. */
static void finish(net_http_req *q)
{
    if (q->finished)
        return;
    q->finished = 1;
    if (!q->cb)
        return;
    net_http_result r = {q->status, {q->resp.p ? q->resp.p : "", q->resp.n},
                            q->status ? NULL : (q->err[0] ? q->err : "no answer"),
                            q->status ? 1 : q->wrote};
    net_http_cb cb = q->cb;
    q->cb = NULL;
    cb(q->arg, &r);
}

static void late_fail(lws_sorted_usec_list_t *sul)
{
    net_http_req *q = (net_http_req *)sul;
    finish(q);
    creq_free(q);
}

/* The connection is gone: report (unless reported) and free, or leave it
 * to late_fail when connect_via_info is still on the stack. */
static void conn_gone(net_http_req *q, struct lws *wsi)
{
    lws_set_opaque_user_data(wsi, NULL);
    q->wsi = NULL;
    if (q->connecting) {
        q->detached = 1;
        return;
    }
    finish(q);
    creq_free(q);
}

static int cb_client(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                     size_t len)
{
    net_http_req *q = wsi ? lws_get_opaque_user_data(wsi) : NULL;
    switch (reason) {
    case LWS_CALLBACK_CLIENT_CONNECTION_ERROR:
        if (q) {
            snprintf(q->err, sizeof q->err, "%s", in ? (const char *)in : "connection failed");
            conn_gone(q, wsi);
        }
        return 0;
    case LWS_CALLBACK_CLIENT_APPEND_HANDSHAKE_HEADER: {
        if (!q)
            return -1;
        unsigned char **p = in, *end = *p + len;
        q->wrote = 1;
        if (q->hdrs)
            for (char **h = q->hdrs; h[0] && h[1]; h += 2)
                if (lws_add_http_header_by_name(wsi, (const unsigned char *)h[0],
                                                (const unsigned char *)h[1], (int)strlen(h[1]),
                                                p, end))
                    return -1;
        if (strcmp(q->method, "GET") != 0) {
            char cl[24];
            int n = snprintf(cl, sizeof cl, "%zu", q->body.n);
            if (lws_add_http_header_by_token(wsi, WSI_TOKEN_HTTP_CONTENT_LENGTH,
                                             (unsigned char *)cl, n, p, end))
                return -1;
            if (q->ctype && lws_add_http_header_by_token(wsi, WSI_TOKEN_HTTP_CONTENT_TYPE,
                                                         (unsigned char *)q->ctype,
                                                         (int)strlen(q->ctype), p, end))
                return -1;
            if (q->body.n) {
                lws_client_http_body_pending(wsi, 1);
                lws_callback_on_writable(wsi);
            }
        }
        return 0;
    }
    case LWS_CALLBACK_CLIENT_HTTP_WRITEABLE: {
        if (!q || !q->body.n)
            return 0;
        unsigned char *b = xmalloc(LWS_PRE + q->body.n);
        memcpy(b + LWS_PRE, q->body.p, q->body.n);
        int w = lws_write(wsi, b + LWS_PRE, q->body.n, LWS_WRITE_HTTP_FINAL);
        free(b);
        lws_client_http_body_pending(wsi, 0);
        return w < 0 ? -1 : 0;
    }
    case LWS_CALLBACK_ESTABLISHED_CLIENT_HTTP:
        if (q)
            q->status = (int)lws_http_client_http_response(wsi);
        return 0;
    case LWS_CALLBACK_RECEIVE_CLIENT_HTTP_READ:
        if (q && q->resp.n + len <= NET_HTTP_MAX_RESPONSE)
            buf_add(&q->resp, in, len);
        return 0;
    case LWS_CALLBACK_RECEIVE_CLIENT_HTTP: {
        char tmp[LWS_PRE + 4096], *px = tmp + LWS_PRE;
        int lenx = (int)sizeof tmp - LWS_PRE;
        if (lws_http_client_read(wsi, &px, &lenx) < 0)
            return -1;
        return 0;
    }
    case LWS_CALLBACK_COMPLETED_CLIENT_HTTP:
        if (q) {
            conn_gone(q, wsi);
            return -1; /* one request per connection */
        }
        return 0;
    case LWS_CALLBACK_CLOSED_CLIENT_HTTP:
        if (q) {
            if (!q->status && !q->err[0])
                snprintf(q->err, sizeof q->err, "connection closed before an answer");
            conn_gone(q, wsi);
        }
        return 0;
    default:
        break;
    }
    return lws_callback_http_dummy(wsi, reason, user, in, len);
}

static const struct lws_protocols client_protos[] = {
    {"textdesk-client", cb_client, 0, 0, 0, NULL, 0},
    {NULL, NULL, 0, 0, 0, NULL, 0},
};

struct lws_vhost *net__outbound_vhost(struct lws_context *ctx, const char *name,
                                       const struct lws_protocols *protos)
{
    struct lws_vhost *vh = lws_get_vhost_by_name(ctx, name);
    if (vh)
        return vh;
    struct lws_context_creation_info info;
    memset(&info, 0, sizeof info);
    info.port = CONTEXT_PORT_NO_LISTEN;
    info.protocols = protos;
    info.vhost_name = name;
    info.options = LWS_SERVER_OPTION_DISABLE_IPV6;
    return lws_create_vhost(ctx, &info);
}

static struct lws_vhost *client_vhost(struct lws_context *ctx)
{
    return net__outbound_vhost(ctx, CLIENT_VHOST, client_protos);
}

net_http_req *net_http_request(net_loop *l, const net_http_opts *o, net_http_cb cb,
                               void *arg)
{
    char host[64], path[16384];
    int port;
    if (net_http_parse_url(o->url, host, sizeof host, &port, path, sizeof path) != 0 ||
        !net_http_host_ok(host))
        return NULL;
    struct lws_context *ctx = net__lws_context(l);
    struct lws_vhost *vh = client_vhost(ctx);
    if (!vh)
        return NULL;
    net_http_req *q = xcalloc(1, sizeof *q);
    q->cb = cb;
    q->arg = arg;
    snprintf(q->host, sizeof q->host, "%s", host);
    q->path = xmemdup0(path, strlen(path));
    q->method = xmemdup0(o->method, strlen(o->method));
    if (o->content_type)
        q->ctype = xmemdup0(o->content_type, strlen(o->content_type));
    buf_init(&q->body);
    buf_init(&q->resp);
    if (o->body.n)
        buf_add(&q->body, o->body.p, o->body.n);
    if (o->headers) {
        size_t n = 0;
        while (o->headers[n])
            n++;
        q->hdrs = xcalloc(n + 1, sizeof *q->hdrs);
        for (size_t i = 0; i + 1 < n; i += 2) {
            /* lws wants "name:" */
            size_t kl = strlen(o->headers[i]);
            q->hdrs[i] = xmalloc(kl + 2);
            memcpy(q->hdrs[i], o->headers[i], kl);
            q->hdrs[i][kl] = ':';
            q->hdrs[i][kl + 1] = '\0';
            q->hdrs[i + 1] = xmemdup0(o->headers[i + 1], strlen(o->headers[i + 1]));
        }
    }
    struct lws_client_connect_info ci;
    memset(&ci, 0, sizeof ci);
    ci.context = ctx;
    ci.vhost = vh;
    ci.address = q->host;
    ci.port = port;
    ci.path = q->path;
    ci.host = q->host;
    ci.origin = q->host;
    ci.method = q->method;
    ci.protocol = client_protos[0].name;
    ci.local_protocol_name = client_protos[0].name;
    ci.ssl_connection = LCCSCF_HTTP_NO_FOLLOW_REDIRECT;
    ci.opaque_user_data = q;
    ci.pwsi = &q->wsi;
    q->connecting = 1;
    struct lws *wsi = lws_client_connect_via_info(&ci);
    q->connecting = 0;
    if (!wsi || q->detached) {
        if (!q->err[0])
            snprintf(q->err, sizeof q->err, "cannot connect to %s:%d", host, port);
        q->wsi = NULL;
        q->wrote = 0;
        lws_sul_schedule(ctx, 0, &q->sul, late_fail, 1);
        return q;
    }
    return q;
}

void net_http_cancel(net_http_req *q)
{
    if (!q)
        return;
    q->cb = NULL;
    if (q->wsi) { /* freed when the connection closes */
        lws_set_timeout(q->wsi, PENDING_TIMEOUT_CLOSE_SEND, LWS_TO_KILL_ASYNC);
        return;
    }
    lws_sul_cancel(&q->sul); /* was waiting for late_fail */
    creq_free(q);
}
