/*
 * net.c: the loop (net.h). lws is a guest on a libev loop when its libev
 * plugin loads, else lws's own poll loop runs. The context is created with
 * explicit vhosts: the server's listener (http.c) and the clients' outbound
 * vhosts (net__outbound_vhost) are added to it later.
 *
 * The loop clock (util/loop_clock.h) is refreshed by a check watcher of the
 * highest priority, which libev runs right after the poll returns, before
 * the I/O and timer callbacks of that turn. The poll loop has no such hook:
 * there the clock is read afresh at every call.
 *
 * On libev, lws services what was handed to it from outside its own
 * callbacks (a connection killed asynchronously, a zero-delay lws timer, a
 * client connect) only after its next I/O. Whoever hands it such work
 * calls net__kick; a prepare watcher of the lowest priority, the last
 * thing of a turn, then makes that I/O once (lws_cancel_service: a write
 * to lws's pipe). Kicking after every timer and foreign watcher instead
 * cost a write, a read and a loop turn per group commit (issue 12).
 */
#include "net/net.h"

#include <ev.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "net/net_int.h"
#include "util/log.h"
#include "util/loop_clock.h"
#include "util/xalloc.h"

struct net_loop {
    struct lws_context *ctx;
    struct ev_loop *loop; /* epoll via libev; NULL: lws's own poll loop */
    void *foreign[1];
    ev_check clock_w; /* refreshes the loop clock */
    net_turn_end *kick_h; /* runs the kick (net__kick), last of a turn */
    int kick;         /* lws has work to be woken for */
    int turned;       /* the loop has run once */
    uint64_t turns;   /* net_loop_turns */
    void *http;       /* net_http's clients (net_http.c) */
};

struct net_io {
    ev_io w;
    net_loop *l;
    void (*cb)(void *arg, int fd, int ev);
    void *arg;
};

struct net_timer {
    lws_sorted_usec_list_t sul; /* first: the callback gets its address */
    lws_usec_t due;             /* when armed: the absolute time */
    ev_timer ev;                /* instead of 'sul' on the libev loop */
    net_loop *l;
    void (*cb)(void *);
    void *arg;
};

/* ---- the end of a turn ------------------------------------------------- */

struct net_turn_end {
    ev_prepare w;
    net_loop *l;
    void (*cb)(void *);
    void *arg;
};

static void turn_end_cb(struct ev_loop *loop, ev_prepare *w, int revents)
{
    (void)loop;
    (void)revents;
    net_turn_end *h = w->data;
    h->cb(h->arg);
}

/* A prepare watcher: libev runs them, highest priority first, before it
 * polls; the kick's is the lowest, after every other hook's writes. */
static net_turn_end *turn_end_start(net_loop *l, void (*cb)(void *arg), void *arg, int pri)
{
    net_turn_end *h = xcalloc(1, sizeof *h);
    h->l = l;
    h->cb = cb;
    h->arg = arg;
    ev_prepare_init(&h->w, turn_end_cb);
    ev_set_priority(&h->w, pri);
    h->w.data = h;
    ev_prepare_start(l->loop, &h->w);
    return h;
}

net_turn_end *net__turn_end_new(net_loop *l, void (*cb)(void *arg), void *arg)
{
    return l->loop ? turn_end_start(l, cb, arg, 0) : NULL;
}

void net__turn_end_free(net_turn_end *h)
{
    if (!h)
        return;
    ev_prepare_stop(h->l->loop, &h->w);
    free(h);
}

/* ---- the start of a turn ----------------------------------------------- */

struct net_turn_start {
    ev_check w;
    net_loop *l;
    void (*cb)(void *);
    void *arg;
};

static void turn_start_cb(struct ev_loop *loop, ev_check *w, int revents)
{
    (void)loop;
    (void)revents;
    net_turn_start *h = w->data;
    h->cb(h->arg);
}

/* A check watcher of the highest priority: libev queues the checks after
 * the turn's timers and sockets and runs what is queued last first, the
 * highest priority before the rest (test_net_turn asserts the order). */
net_turn_start *net_turn_start_new(net_loop *l, void (*cb)(void *arg), void *arg)
{
    if (!l->loop)
        return NULL;
    net_turn_start *h = xcalloc(1, sizeof *h);
    h->l = l;
    h->cb = cb;
    h->arg = arg;
    ev_check_init(&h->w, turn_start_cb);
    ev_set_priority(&h->w, EV_MAXPRI);
    h->w.data = h;
    ev_check_start(l->loop, &h->w);
    return h;
}

void net_turn_start_free(net_turn_start *h)
{
    if (!h)
        return;
    ev_check_stop(h->l->loop, &h->w);
    free(h);
}

static void on_kick(void *arg)
{
    net_loop *l = arg;
    if (l->kick) {
        l->kick = 0;
        lws_cancel_service(l->ctx);
    }
}

void net__kick(struct lws_context *ctx)
{
    net_loop *l = lws_context_user(ctx);
    if (l) /* on lws's poll loop nobody reads it: lws_service runs them */
        l->kick = 1;
}

static void on_clock(struct ev_loop *loop, ev_check *w, int revents)
{
    (void)loop;
    (void)w;
    (void)revents;
    loop_clock_refresh();
}

net_loop *net_loop_new(int tls, char *err, size_t errlen)
{
    net_loop *l = xcalloc(1, sizeof *l);
    struct lws_context_creation_info info;
    memset(&info, 0, sizeof info);
    info.port = CONTEXT_PORT_NO_LISTEN;
    info.user = l;
    info.options = LWS_SERVER_OPTION_EXPLICIT_VHOSTS | LWS_SERVER_OPTION_DISABLE_IPV6 |
                   LWS_SERVER_OPTION_VALIDATE_UTF8;
    if (tls)
        info.options |= LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
    /* room for long gateway URLs (Kannel MO/sendsms carry the text) */
    info.max_http_header_data = 16384;
    info.pt_serv_buf_size = 32768;
    info.timeout_secs = 30;
    lws_set_log_level(LLL_ERR, NULL);
    l->loop = ev_loop_new(EVFLAG_AUTO | EVFLAG_NOSIGMASK);
    if (l->loop) {
        l->foreign[0] = l->loop;
        info.foreign_loops = l->foreign;
        info.options |= LWS_SERVER_OPTION_LIBEV;
        l->ctx = lws_create_context(&info);
        if (!l->ctx) { /* no plugin (libwebsockets-evlib-ev) */
            ev_loop_destroy(l->loop);
            l->loop = NULL;
            info.foreign_loops = NULL;
            info.options &= ~(uint64_t)LWS_SERVER_OPTION_LIBEV;
        }
    }
    if (!l->ctx) {
        l->ctx = lws_create_context(&info);
        if (l->ctx)
            log_kv(LOG_WARN,
                   "libev loop unavailable: lws's poll loop serves (slower with "
                   "many desktops; install libwebsockets-evlib-ev)",
                   NULL);
    }
    if (!l->ctx) {
        snprintf(err, errlen, "cannot create the event loop (libwebsockets)");
        free(l);
        return NULL;
    }
    if (l->loop) {
        ev_check_init(&l->clock_w, on_clock);
        ev_set_priority(&l->clock_w, EV_MAXPRI);
        ev_check_start(l->loop, &l->clock_w);
        l->kick_h = turn_end_start(l, on_kick, l, EV_MINPRI);
        loop_clock_set_cached(1);
    }
    return l;
}

void net_loop_free(net_loop *l)
{
    if (!l)
        return;
    net_http__loop_free(l);
    if (l->loop) {
        ev_check_stop(l->loop, &l->clock_w);
        net__turn_end_free(l->kick_h);
        loop_clock_set_cached(0);
    }
    lws_context_destroy(l->ctx);
    if (l->loop)
        ev_loop_destroy(l->loop);
    free(l);
}

struct lws_context *net__lws_context(net_loop *l)
{
    return l->ctx;
}

int net_loop_turn(net_loop *l)
{
    l->turns++;
    if (l->loop) {
        if (!l->turned) { /* what was scheduled before the loop ran */
            l->turned = 1;
            lws_cancel_service(l->ctx);
        }
        ev_run(l->loop, EVRUN_ONCE);
        return 0;
    }
    return lws_service(l->ctx, 0);
}

uint64_t net_loop_turns(const net_loop *l)
{
    return l->turns;
}

void net_loop_wake(net_loop *l)
{
    lws_cancel_service(l->ctx);
}

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

void **net__http_slot(net_loop *l)
{
    return &l->http;
}

/* ---- foreign file descriptors ------------------------------------------ */

static void io_cb(struct ev_loop *loop, ev_io *w, int revents)
{
    (void)loop;
    net_io *io = w->data;
    io->cb(io->arg, io->w.fd,
           ((revents & EV_READ) ? NET_IO_IN : 0) |
               ((revents & EV_WRITE) ? NET_IO_OUT : 0));
}

int net__io_supported(const net_loop *l)
{
    return l->loop != NULL;
}

net_io *net__io_new(net_loop *l, int fd, void (*cb)(void *arg, int fd, int ev), void *arg)
{
    if (!l->loop)
        return NULL;
    net_io *io = xcalloc(1, sizeof *io);
    io->l = l;
    io->cb = cb;
    io->arg = arg;
    ev_io_init(&io->w, io_cb, fd, 0);
    io->w.data = io;
    return io;
}

void net__io_set(net_io *io, int ev)
{
    ev_io_stop(io->l->loop, &io->w);
    if (ev == 0)
        return;
    ev_io_set(&io->w, io->w.fd,
              ((ev & NET_IO_IN) ? EV_READ : 0) | ((ev & NET_IO_OUT) ? EV_WRITE : 0));
    ev_io_start(io->l->loop, &io->w);
}

void net__io_free(net_io *io)
{
    if (!io)
        return;
    ev_io_stop(io->l->loop, &io->w);
    free(io);
}

/* net.h: the same watchers for the other layers */
net_watch *net_watch_new(net_loop *l, int fd, void (*cb)(void *arg, int fd, int ev), void *arg)
{
    return net__io_new(l, fd, cb, arg);
}

void net_watch_set(net_watch *w, int ev)
{
    net__io_set(w, ev);
}

void net_watch_free(net_watch *w)
{
    net__io_free(w);
}

/* ---- timers ------------------------------------------------------------ */

/* On the libev loop the timers are libev's. lws 4.1's libev glue keeps its
 * own timers (lws_sul) behind one libev timer that it cannot move earlier
 * while armed, so an lws_sul timer can fire late, by as much as the latest
 * one pending; libev's own timers are exact. */

static void sul_cb(lws_sorted_usec_list_t *sul)
{
    net_timer *t = (net_timer *)sul;
    t->cb(t->arg);
}

static void ev_timer_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
    (void)loop;
    (void)revents;
    net_timer *t = w->data;
    t->cb(t->arg); /* what it handed to lws is kicked (net__kick) */
}

net_timer *net_timer_new(net_loop *l, void (*cb)(void *), void *arg)
{
    net_timer *t = xcalloc(1, sizeof *t);
    t->l = l;
    t->cb = cb;
    t->arg = arg;
    ev_timer_init(&t->ev, ev_timer_cb, 0., 0.);
    t->ev.data = t;
    return t;
}

void net_timer_set(net_timer *t, int64_t delay_ms)
{
    struct ev_loop *loop = t->l->loop;
    if (loop) {
        ev_timer_stop(loop, &t->ev);
        if (delay_ms < 0)
            return;
        if (delay_ms > 0)
            ev_now_update(loop); /* libev counts from the loop's cached time */
        ev_timer_set(&t->ev, (double)delay_ms / 1000., 0.);
        ev_timer_start(loop, &t->ev);
        return;
    }
    if (delay_ms < 0) {
        lws_sul_cancel(&t->sul);
        return;
    }
    /* Re-arming for the time it is already armed for is a no-op: lws keeps
     * its timers in one sorted list with every connection's idle timer, so
     * an insertion far in the future walks them all (O(connections)). */
    lws_usec_t due = lws_now_usecs() + (lws_usec_t)delay_ms * 1000;
    if (!lws_dll2_is_detached(&t->sul.list) && due - t->due < 1000 && t->due - due < 1000)
        return;
    t->due = due;
    lws_sul_schedule(t->l->ctx, 0, &t->sul, sul_cb, (lws_usec_t)delay_ms * 1000);
}

void net_timer_free(net_timer *t)
{
    if (!t)
        return;
    if (t->l->loop)
        ev_timer_stop(t->l->loop, &t->ev);
    else
        lws_sul_cancel(&t->sul);
    free(t);
}
