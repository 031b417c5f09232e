/*
 * net_tcp.c: raw TCP clients on the loop's lws context (net_tcp.h).
 *
 * The object belongs to this file once the caller closed it or it was
 * reported closed: it is freed when lws closes the wsi (RAW_CLOSE), or from
 * a zero-delay timer when the failure was found while
 * lws_client_connect_via_info was still on the stack (so the caller's
 * callback is never re-entered from net_tcp_connect).
 */
#include "net/net_tcp.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "net/net_http.h"
#include "net/net_int.h"
#include "util/xalloc.h"

#define TCP_VHOST "textdesk-tcp"

struct net_tcp {
    lws_sorted_usec_list_t sul; /* first: the timer callback gets its address */
    struct lws_context *ctx;
    struct lws *wsi;
    net_tcp_cb cb; /* NULL once closed by the caller */
    void *arg;
    int connecting, detached;
    char ip[64];
    char err[128];
};

/* Reports CLOSED (unless the caller closed it) and frees. */
static void finish(net_tcp *c)
{
    net_tcp_cb cb = c->cb;
    c->cb = NULL;
    if (cb)
        cb(c->arg, NET_TCP_CLOSED, c->err[0] ? c->err : "connection closed",
           strlen(c->err[0] ? c->err : "connection closed"));
    free(c);
}

static void late_finish(lws_sorted_usec_list_t *sul)
{
    finish((net_tcp *)sul);
}

static void gone(net_tcp *c, struct lws *wsi)
{
    lws_set_opaque_user_data(wsi, NULL);
    c->wsi = NULL;
    if (c->connecting) {
        c->detached = 1; /* net_tcp_connect reports it from a timer */
        return;
    }
    finish(c);
}

static int cb_tcp(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                  size_t len)
{
    net_tcp *c = wsi ? lws_get_opaque_user_data(wsi) : NULL;
    (void)user;
    switch (reason) {
    case LWS_CALLBACK_CLIENT_CONNECTION_ERROR:
        if (c) {
            snprintf(c->err, sizeof c->err, "connect failed: %s",
                     in ? (const char *)in : "unknown error");
            gone(c, wsi);
        }
        return 0;
    case LWS_CALLBACK_RAW_CONNECTED:
        if (!c || !c->cb)
            return -1;
        {
            /* small PDUs, answered one by one: no Nagle delay */
            int one = 1;
            setsockopt(lws_get_socket_fd(wsi), IPPROTO_TCP, TCP_NODELAY, &one,
                       sizeof one);
        }
        c->cb(c->arg, NET_TCP_CONNECTED, NULL, 0);
        return 0;
    case LWS_CALLBACK_RAW_RX:
        if (c && c->cb)
            c->cb(c->arg, NET_TCP_DATA, in, len);
        return 0;
    case LWS_CALLBACK_RAW_WRITEABLE:
        if (c && c->cb)
            c->cb(c->arg, NET_TCP_WRITABLE, NULL, 0);
        return 0;
    case LWS_CALLBACK_RAW_CLOSE:
        if (c) {
            if (!c->err[0])
                snprintf(c->err, sizeof c->err, "connection closed by the peer");
            gone(c, wsi);
        }
        return 0;
    default:
        return 0;
    }
}

static const struct lws_protocols tcp_protos[] = {
    {"textdesk-tcp", cb_tcp, 0, 0, 0, NULL, 0},
    {NULL, NULL, 0, 0, 0, NULL, 0},
};

static struct lws_vhost *tcp_vhost(struct lws_context *ctx)
{
    return net__outbound_vhost(ctx, TCP_VHOST, tcp_protos);
}

net_tcp *net_tcp_connect(net_loop *l, const char *ip, int port, net_tcp_cb cb,
                           void *arg)
{
    if (!net_http_host_ok(ip) || port <= 0 || port > 65535)
        return NULL;
    struct lws_context *ctx = net__lws_context(l);
    struct lws_vhost *vh = tcp_vhost(ctx);
    if (!vh)
        return NULL;
    net_tcp *c = xcalloc(1, sizeof *c);
    c->ctx = ctx;
    c->cb = cb;
    c->arg = arg;
    snprintf(c->ip, sizeof c->ip, "%s", ip);
    struct lws_client_connect_info ci;
    memset(&ci, 0, sizeof ci);
    ci.context = ctx;
    ci.vhost = vh;
    ci.address = c->ip;
    ci.port = port;
    ci.host = c->ip;
    ci.origin = c->ip;
    ci.path = "/";
    ci.method = "RAW";
    ci.protocol = tcp_protos[0].name;
    ci.local_protocol_name = tcp_protos[0].name;
    ci.opaque_user_data = c; /* no pwsi: lws would write to it after we freed 'c' */
    c->connecting = 1;
    struct lws *wsi = lws_client_connect_via_info(&ci);
    c->connecting = 0;
    net__kick(ctx);
    if (!wsi || c->detached) {
        if (!c->err[0])
            snprintf(c->err, sizeof c->err, "cannot connect to %s:%d", ip, port);
        c->wsi = NULL;
        lws_sul_schedule(ctx, 0, &c->sul, late_finish, 1);
        return c;
    }
    c->wsi = wsi;
    return c;
}

void net_tcp_want_write(net_tcp *c)
{
    if (c && c->wsi)
        lws_callback_on_writable(c->wsi);
}

long net_tcp_write(net_tcp *c, const void *p, size_t n)
{
    if (!c->wsi)
        return -1;
    if (n > NET_TCP_WRITE_MAX)
        n = NET_TCP_WRITE_MAX;
    if (n == 0)
        return 0;
    unsigned char *b = xmalloc(LWS_PRE + n);
    memcpy(b + LWS_PRE, p, n);
    int w = lws_write(c->wsi, b + LWS_PRE, n, LWS_WRITE_RAW);
    free(b);
    if (w < 0) {
        snprintf(c->err, sizeof c->err, "write failed");
        lws_set_timeout(c->wsi, PENDING_TIMEOUT_CLOSE_SEND, LWS_TO_KILL_ASYNC);
        net__kick(c->ctx);
        return -1;
    }
    return (long)n; /* lws keeps and writes what the kernel did not take */
}

void net_tcp_close(net_tcp *c)
{
    if (!c)
        return;
    c->cb = NULL;
    if (c->wsi) { /* freed when lws closes the wsi */
        lws_set_timeout(c->wsi, PENDING_TIMEOUT_CLOSE_SEND, LWS_TO_KILL_ASYNC);
        net__kick(c->ctx);
        return;
    }
    lws_sul_cancel(&c->sul); /* was waiting for late_finish */
    free(c);
}
