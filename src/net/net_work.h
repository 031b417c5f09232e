/*
 * net_work: work that would hold the loop up, run on a thread of its own
 * (a password's argon2id hash: about 100 ms of CPU and 64 MiB here, and
 * seconds on a loaded machine, during which no SMS, desktop or leadership
 * beat would be served). 'run' runs on a worker thread and must touch
 * nothing the loop owns; 'done' runs afterwards on the loop, in the order
 * the jobs finished. One worker by default: the loop keeps the other core,
 * and the hashes' memory stays bounded; jobs queue behind each other.
 *
 * Written by hand: a queue, a mutex, a condition variable and an eventfd
 * that wakes the loop (net_watch); no Debian library fits a
 * caller-owned event loop more simply.
 */
#ifndef TEXTDESK_NET_NET_WORK_H
#define TEXTDESK_NET_NET_WORK_H

#include "net/net.h"

typedef struct net_work net_work;
typedef void (*net_work_fn)(void *arg);

/* 'threads' workers on 'l' (at least 1). NULL when the loop cannot watch
 * the wake-up descriptor, or no thread starts: net_work_submit then runs
 * the job at once, in the caller. */
net_work *net_work_new(net_loop *l, int threads);
/* Queues 'run' (a worker thread) and then 'done' (the loop) with 'arg'.
 * 'w' NULL: both at once, here. */
void net_work_submit(net_work *w, net_work_fn run, net_work_fn done, void *arg);
/* Runs what is queued, waits for the workers, runs every 'done' left, and
 * frees 'w' (NULL: nothing). */
void net_work_free(net_work *w);

#endif
