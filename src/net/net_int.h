/* net_int.h: lws glue shared by net/ and http/ only. */
#ifndef TEXTDESK_NET_NET_INT_H
#define TEXTDESK_NET_NET_INT_H

#include <libwebsockets.h>

#include "net/net.h"

struct lws_context *net__lws_context(net_loop *l);

/* The vhost 'name' for outbound connections (no listener, IPv4), created
 * with 'protos' the first time (net_http.c, net_tcp.c). */
struct lws_vhost *net__outbound_vhost(struct lws_context *ctx, const char *name,
                                      const struct lws_protocols *protos);

#endif
