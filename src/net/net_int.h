/* net_int.h: lws glue shared by net/ and http/ only. */
#ifndef TEXTDESK_NET_NET_INT_H
#define TEXTDESK_NET_NET_INT_H

#include <libwebsockets.h>

#include "net/net.h"

struct lws_context *net__lws_context(net_loop *l);

/* Work was handed to lws from outside its callbacks that it runs only
 * after I/O (lws_set_timeout(LWS_TO_KILL_ASYNC), lws_sul_schedule, a
 * client connect): the loop wakes lws once at the end of the turn (net.c). */
void net__kick(struct lws_context *ctx);

/* The vhost 'name' for outbound connections (no listener, IPv4), created
 * with 'protos' the first time (net_http.c, net_tcp.c). */
struct lws_vhost *net__outbound_vhost(struct lws_context *ctx, const char *name,
                                      const struct lws_protocols *protos);

/* An fd watched by the loop (libev's ev_io), for libraries that bring
 * their own sockets (libcurl in net_http.c). 'ev' is NET_IO_IN|NET_IO_OUT. */
enum { NET_IO_IN = 1, NET_IO_OUT = 2 };
typedef struct net_io net_io;
/* Whether the loop can watch foreign sockets (libev); on lws's poll loop
 * it cannot, net__io_new answers NULL and the caller polls instead. */
int net__io_supported(const net_loop *l);
net_io *net__io_new(net_loop *l, int fd, void (*cb)(void *arg, int fd, int ev),
                    void *arg);
void net__io_set(net_io *w, int ev); /* 0: stop watching */
void net__io_free(net_io *w);

/* 'cb' runs at the end of every turn of the loop, once what the turn's
 * events and timers did is done and before the loop waits again (libev's
 * prepare watcher): e.g. to write what a turn queued for many connections
 * in one go. NULL on lws's poll loop, which has no such hook. */
typedef struct net_turn_end net_turn_end;
net_turn_end *net__turn_end_new(net_loop *l, void (*cb)(void *arg), void *arg);
void net__turn_end_free(net_turn_end *h);

/* net_http's state on this loop (created on its first request), freed by
 * net_http__loop_free from net_loop_free. */
void **net__http_slot(net_loop *l);
void net_http__loop_free(net_loop *l);

#endif
