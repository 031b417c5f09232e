/*
 * net: the process's one event loop, its timers and the cached loop clock
 * (util/loop_clock.h), under every networked layer: the HTTP/WebSocket
 * server (http/), the outbound HTTP client (net_http) and raw TCP client
 * (net_tcp) the gateways use. Gateways depend on net/, never on http/.
 *
 * The loop is libev's (epoll) with libwebsockets as a guest on it: lws's
 * own loop polls every socket on every turn, which with thousands of
 * agents' WebSockets costs more than the work (bench_server,
 * docs/operations.md). When lws's libev plugin (libwebsockets-evlib-ev) is
 * missing, lws's poll loop is used, with a warning. The lws context has no
 * vhost of its own: the server (http_new) and the clients add theirs.
 *
 * Timers are libev's (exact, O(log timers) to arm); on the fallback loop
 * they are lws_sul. Neither walks the connections.
 */
#ifndef TEXTDESK_NET_NET_H
#define TEXTDESK_NET_NET_H

#include <stddef.h>
#include <stdint.h>

typedef struct net_loop net_loop;
typedef struct net_timer net_timer;

/* Creates the loop; 'tls' 1 initialises OpenSSL for a TLS listener.
 * Returns NULL with a reason in 'err'. */
net_loop *net_loop_new(int tls, char *err, size_t errlen);
/* Frees the loop; everything on it (server, clients, timers) must be
 * freed before. */
void net_loop_free(net_loop *l);
/* Runs one turn (waits for I/O or a timer). Returns <0 when the loop is
 * broken. */
int net_loop_turn(net_loop *l);
/* How many turns net_loop_turn has run: what happened in one turn and what
 * in a later one (the app's commit window). */
uint64_t net_loop_turns(const net_loop *l);
/* Makes a blocked net_loop_turn return (safe from a signal handler). */
void net_loop_wake(net_loop *l);

/* 'cb' runs first in every turn, after the wait and before any timer or
 * socket callback of that turn: what must be decided before anything else
 * acts (app/ha.c: a leader whose loop was stopped or blocked past its
 * self-fence stops before a send it had under way goes on). NULL on lws's
 * poll loop, which has no such hook. */
typedef struct net_turn_start net_turn_start;
net_turn_start *net_turn_start_new(net_loop *l, void (*cb)(void *arg), void *arg);
void net_turn_start_free(net_turn_start *h);

/* A one-shot timer on the loop; net_timer_set re-arms it. Its delay runs
 * on the monotonic clock. */
net_timer *net_timer_new(net_loop *l, void (*cb)(void *arg), void *arg);
void net_timer_set(net_timer *t, int64_t delay_ms); /* <0: cancel */
void net_timer_free(net_timer *t);

/* A socket of a library's own (libpq's: the leadership session, app/ha.c;
 * the group commit's connection, app/app.c) watched by the loop:
 * 'cb' runs when it is readable or writable as asked with net_watch_set
 * (NET_WATCH_IN | NET_WATCH_OUT; 0 stops). NULL when the loop cannot watch
 * foreign sockets (lws's poll loop): the caller polls instead. The
 * net_http's watchers are the same (net_int.h). */
enum { NET_WATCH_IN = 1, NET_WATCH_OUT = 2 };
typedef struct net_io net_watch;
net_watch *net_watch_new(net_loop *l, int fd, void (*cb)(void *arg, int fd, int ev), void *arg);
void net_watch_set(net_watch *w, int ev);
void net_watch_free(net_watch *w);

#endif
