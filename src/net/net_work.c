#include "net/net_work.h"

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "util/xalloc.h"

#define NET_WORK_MAX_THREADS 8

typedef struct job {
    struct job *next;
    net_work_fn run, done;
    void *arg;
} job;

/* A FIFO of jobs. */
typedef struct jobq {
    job *head, *tail;
} jobq;

struct net_work {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    jobq todo, finished; /* under 'mu' */
    int stop;
    int efd;
    net_watch *watch;
    int nthreads;
    pthread_t th[NET_WORK_MAX_THREADS];
};

static void q_put(jobq *q, job *j)
{
    j->next = NULL;
    if (q->tail)
        q->tail->next = j;
    else
        q->head = j;
    q->tail = j;
}

static job *q_take(jobq *q)
{
    job *j = q->head;
    if (j) {
        q->head = j->next;
        if (!q->head)
            q->tail = NULL;
    }
    return j;
}

static void *worker(void *arg)
{
    net_work *w = arg;
    pthread_mutex_lock(&w->mu);
    for (;;) {
        job *j = q_take(&w->todo);
        if (!j) {
            if (w->stop)
                break;
            pthread_cond_wait(&w->cv, &w->mu);
            continue;
        }
        pthread_mutex_unlock(&w->mu);
        j->run(j->arg);
        pthread_mutex_lock(&w->mu);
        q_put(&w->finished, j);
        uint64_t one = 1;
        /* a full counter (never: 2^64 - 2 wake-ups) still wakes the loop */
        ssize_t n = write(w->efd, &one, sizeof one);
        (void)n;
    }
    pthread_mutex_unlock(&w->mu);
    return NULL;
}

/* On the loop: the 'done' of every finished job. */
static void run_finished(net_work *w)
{
    pthread_mutex_lock(&w->mu);
    jobq f = w->finished;
    w->finished = (jobq){0};
    pthread_mutex_unlock(&w->mu);
    for (job *j; (j = q_take(&f));) {
        j->done(j->arg);
        free(j);
    }
}

static void on_wake(void *arg, int fd, int ev)
{
    (void)ev;
    uint64_t n;
    while (read(fd, &n, sizeof n) == sizeof n)
        ;
    run_finished(arg);
}

net_work *net_work_new(net_loop *l, int threads)
{
    net_work *w = xcalloc(1, sizeof *w);
    w->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (w->efd < 0 || !(w->watch = net_watch_new(l, w->efd, on_wake, w))) {
        if (w->efd >= 0)
            close(w->efd);
        free(w);
        return NULL;
    }
    net_watch_set(w->watch, NET_WATCH_IN);
    pthread_mutex_init(&w->mu, NULL);
    pthread_cond_init(&w->cv, NULL);
    if (threads < 1)
        threads = 1;
    if (threads > NET_WORK_MAX_THREADS)
        threads = NET_WORK_MAX_THREADS;
    for (int i = 0; i < threads; i++)
        if (pthread_create(&w->th[w->nthreads], NULL, worker, w) == 0)
            w->nthreads++;
    if (w->nthreads == 0) {
        net_work_free(w);
        return NULL;
    }
    return w;
}

void net_work_submit(net_work *w, net_work_fn run, net_work_fn done, void *arg)
{
    if (!w) {
        run(arg);
        done(arg);
        return;
    }
    job *j = xcalloc(1, sizeof *j);
    *j = (job){NULL, run, done, arg};
    pthread_mutex_lock(&w->mu);
    q_put(&w->todo, j);
    pthread_cond_signal(&w->cv);
    pthread_mutex_unlock(&w->mu);
}

void net_work_free(net_work *w)
{
    if (!w)
        return;
    pthread_mutex_lock(&w->mu);
    w->stop = 1; /* the workers empty the queue first */
    pthread_cond_broadcast(&w->cv);
    pthread_mutex_unlock(&w->mu);
    for (int i = 0; i < w->nthreads; i++)
        pthread_join(w->th[i], NULL);
    for (job *j; (j = q_take(&w->todo));) { /* no worker ever started */
        j->run(j->arg);
        q_put(&w->finished, j);
    }
    run_finished(w);
    net_watch_free(w->watch);
    close(w->efd);
    pthread_cond_destroy(&w->cv);
    pthread_mutex_destroy(&w->mu);
    free(w);
}
