/*
 * test_net_turn: the loop's end-of-turn hook (net/net_int.h,
 * net__turn_end), which http.c uses to write what a turn queued for each
 * WebSocket in one send. What a timer queues is flushed by the hook before
 * the loop waits again, once per turn; a freed hook no longer runs. A real
 * loop (libev); on lws's poll loop there is no hook and the test says so.
 * And the start-of-turn hook (net_turn_start): it runs before the turn's
 * timers and sockets, so a turn after a long stop decides first.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <unistd.h>

#include "net/net.h"
#include "net/net_int.h"

typedef struct st {
    int fired, queued, flushed, ends;
} st;

static void on_timer(void *arg)
{
    st *s = arg;
    s->fired++;
    s->queued++; /* as http_ws_send does: work for the end of the turn */
}

static void on_end(void *arg)
{
    st *s = arg;
    s->ends++;
    s->flushed += s->queued;
    s->queued = 0;
}

/* Turns the loop until 'fired' reaches 'n' (at most 200 turns). */
static void turn_until(net_loop *l, st *s, int n)
{
    for (int i = 0; i < 200 && s->fired < n; i++)
        assert_int_equal(net_loop_turn(l), 0);
    assert_int_equal(s->fired, n);
}

static void test_flushed_at_the_end_of_each_turn(void **state)
{
    (void)state;
    char err[256];
    net_loop *l = net_loop_new(0, err, sizeof err);
    assert_non_null(l);
    st s = {0};
    net_turn_end *h = net__turn_end_new(l, on_end, &s);
    if (!net__io_supported(l)) { /* lws's poll loop: no hook */
        assert_null(h);
        net_loop_free(l);
        skip();
    }
    assert_non_null(h);
    net_timer *t = net_timer_new(l, on_timer, &s);

    net_timer_set(t, 5);
    turn_until(l, &s, 1);
    assert_int_equal(s.queued, 1); /* not yet: the turn is not over */
    int ends = s.ends;
    net_timer_set(t, 5); /* something to wake the next turn */
    turn_until(l, &s, 2);
    /* the hook ran once the first timer's turn was over, before the loop
     * waited for the second timer */
    assert_true(s.ends > ends);
    assert_int_equal(s.flushed, 1);
    assert_int_equal(s.queued, 1);

    net__turn_end_free(h);
    ends = s.ends;
    net_timer_set(t, 5);
    turn_until(l, &s, 3);
    assert_int_equal(s.ends, ends); /* freed: no longer runs */
    assert_int_equal(s.flushed, 1);

    net_timer_free(t);
    net_loop_free(l);
}

/* The order callbacks ran in, one letter each. */
typedef struct order {
    char s[64];
    int n;
} order;

static void add(order *o, char c)
{
    if (o->n < (int)sizeof o->s - 1)
        o->s[o->n++] = c;
}

static void on_start(void *arg)
{
    add(arg, 'S');
}

static void on_due(void *arg)
{
    add(arg, 'T');
}

static void on_readable(void *arg, int fd, int ev)
{
    (void)fd;
    (void)ev;
    add(arg, 'I');
}

static void test_turn_start_runs_before_timers_and_sockets(void **state)
{
    (void)state;
    char err[256];
    net_loop *l = net_loop_new(0, err, sizeof err);
    assert_non_null(l);
    order o = {0};
    net_turn_start *h = net_turn_start_new(l, on_start, &o);
    if (!net__io_supported(l)) {
        assert_null(h);
        net_loop_free(l);
        skip();
    }
    assert_non_null(h);
    /* a turn after a stop: a timer long due and a socket readable, both
     * found by the same wait (the loop's first turn is lws's own) */
    int p[2];
    assert_int_equal(pipe(p), 0);
    net_watch *w = net_watch_new(l, p[0], on_readable, &o);
    net_watch_set(w, NET_WATCH_IN);
    net_timer *t1 = net_timer_new(l, on_due, &o), *t2 = net_timer_new(l, on_due, &o);
    net_timer_set(t1, 0);
    net_timer_set(t2, 1);
    assert_int_equal(write(p[1], "x", 1), 1);
    usleep(20000);
    for (int i = 0; i < 50 && !strchr(o.s, 'I'); i++)
        assert_int_equal(net_loop_turn(l), 0);
    /* in the turn that ran them, the hook came first */
    char *first = strpbrk(o.s, "TI");
    assert_non_null(first);
    assert_true(first > o.s);
    assert_int_equal(first[-1], 'S');
    assert_non_null(strchr(first, 'I'));
    assert_non_null(strchr(first, 'T'));
    assert_null(strchr(first, 'S')); /* the timers and the socket: one turn */
    net_turn_start_free(h);
    int n = o.n;
    net_timer_set(t1, 0);
    for (int i = 0; i < 50 && o.n == n; i++)
        assert_int_equal(net_loop_turn(l), 0);
    assert_null(strchr(o.s + n, 'S')); /* freed: no longer runs */
    net_timer_free(t1);
    net_timer_free(t2);
    net_watch_free(w);
    close(p[0]);
    close(p[1]);
    net_loop_free(l);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_flushed_at_the_end_of_each_turn),
        cmocka_unit_test(test_turn_start_runs_before_timers_and_sockets),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
