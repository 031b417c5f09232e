/*
 * net_tcp: a raw TCP client connection on the loop (net.h), for
 * gateways that speak their own protocol over TCP (SMPP: sms/gw_smpp.c).
 * It lives here, beside net_http, because it is libwebsockets glue (a
 * "RAW" client on its own vhost, "textdesk-tcp"); the protocol modules
 * above it see bytes and events only, never lws.
 *
 * IPv4 literals only: Debian's libwebsockets resolves names with blocking
 * DNS, which the one loop must never do (notes in net_http.h). No TLS.
 *
 * One callback per connection, switched on the event (STYLE.md 7):
 *   NET_TCP_CONNECTED  the connection is up;
 *   NET_TCP_DATA       'data', 'n': bytes read;
 *   NET_TCP_WRITABLE   net_tcp_write may be called (once) now;
 *   NET_TCP_CLOSED     the connect failed or the connection ended; 'data'
 *                       is a NUL-terminated reason. The connection is gone
 *                       once the callback returns: do not use it again.
 * The callback never runs from inside net_tcp_connect, and never after
 * net_tcp_close.
 */
#ifndef TEXTDESK_NET_NET_TCP_H
#define TEXTDESK_NET_NET_TCP_H

#include <stddef.h>

#include "net/net.h"

typedef struct net_tcp net_tcp;

enum net_tcp_event {
    NET_TCP_CONNECTED,
    NET_TCP_DATA,
    NET_TCP_WRITABLE,
    NET_TCP_CLOSED,
};

typedef void (*net_tcp_cb)(void *arg, enum net_tcp_event ev, const void *data,
                            size_t n);

/* Starts connecting to 'ip':'port' (an IPv4 literal). Returns the
 * connection, or NULL with nothing started when the address is not usable.
 * A connection that cannot be made is reported as NET_TCP_CLOSED. */
net_tcp *net_tcp_connect(net_loop *l, const char *ip, int port, net_tcp_cb cb,
                           void *arg);

/* Asks for one NET_TCP_WRITABLE callback. */
void net_tcp_want_write(net_tcp *c);

/* Inside NET_TCP_WRITABLE only: writes up to 'n' bytes (at most
 * NET_TCP_WRITE_MAX). Returns how many were taken (what the kernel did not
 * take is kept and written by the loop), or -1 when the connection broke
 * (NET_TCP_CLOSED follows). */
#define NET_TCP_WRITE_MAX (64 * 1024)
long net_tcp_write(net_tcp *c, const void *p, size_t n);

/* Drops the connection at once (unwritten bytes are lost); no callback
 * follows. Safe inside the connection's own callback. */
void net_tcp_close(net_tcp *c);

#endif
