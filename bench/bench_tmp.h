/*
 * bench_tmp.h: what the benchmarks that store a log share (bench_report,
 * bench_feed): a SQLite file in a fresh temporary directory, removed with
 * its WAL files at the end, and the process's CPU time. Header only: each
 * bench is one executable.
 */
#ifndef TEXTDESK_BENCH_TMP_H
#define TEXTDESK_BENCH_TMP_H

#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "store/store.h"

typedef struct bench_db {
    char dir[64], path[128];
} bench_db;

/* Opens a new store file under /tmp/NAME-XXXXXX; exits with a message on
 * failure. */
static inline store *bench_db_open(bench_db *d, const char *name)
{
    char err[256];
    snprintf(d->dir, sizeof d->dir, "/tmp/%s-XXXXXX", name);
    if (!mkdtemp(d->dir)) {
        fprintf(stderr, "%s: mkdtemp failed\n", name);
        exit(1);
    }
    snprintf(d->path, sizeof d->path, "%s/textdesk.db", d->dir);
    store *st = store_open(d->path, err, sizeof err);
    if (!st) {
        fprintf(stderr, "%s: store_open: %s\n", name, err);
        exit(1);
    }
    return st;
}

/* Closes 'st' and removes its file, WAL files and directory. */
static inline void bench_db_remove(bench_db *d, store *st)
{
    static const char *const tails[] = {"", "-wal", "-shm"};
    store_close(st);
    for (int i = 0; i < 3; i++) {
        char p[160];
        snprintf(p, sizeof p, "%s%s", d->path, tails[i]);
        unlink(p);
    }
    rmdir(d->dir);
}

/* The process's CPU time, seconds (what other work on the machine does
 * not change). */
static inline double bench_cpu_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

#endif
