/*
 * store_lease: leadership of a cluster of textdesk nodes on one PostgreSQL
 * database (docs/internals/ha.md). A lease is a libpq session of its own,
 * never used for data: it holds the session-level advisory lock of the
 * leader, bumps the epoch of the `leadership` row when it wins, renews the
 * node's heartbeat, and LISTENs for the leader's commits. The data
 * connection of the node's store checks the epoch inside every transaction
 * (store_fence, store.h).
 *
 * Everything here is non-blocking, driven by the caller's timer: libpq's
 * asynchronous connect (PQconnectStartParams / PQconnectPoll) and queries
 * (PQsendQueryParams, PQconsumeInput, PQisBusy). Written by hand because
 * libpq offers the calls but no lease; the lease itself is PostgreSQL's
 * (the lock dies with the session) plus the SQL functions of schema
 * version 4 (store_pg.c).
 */
#ifndef TEXTDESK_STORE_STORE_LEASE_H
#define TEXTDESK_STORE_STORE_LEASE_H

#include <stdint.h>

#include "store/store.h"

typedef struct store_lease store_lease;

/* What one step brought. */
typedef struct store_lease_news {
    int answered;     /* a statement was answered (the session works) */
    int lost;         /* the session failed: the lock is gone with it */
    int notified;     /* a leader committed (LISTEN textdesk_events) */
    int64_t won;      /* > 0: this node now leads with this epoch */
    int64_t epoch;    /* the leadership epoch the database has (when answered) */
    char leader[64];  /* the leading node's name ("" when none yet) */
    int tail_done;    /* a tail read ended (store_lease_want_tail) */
    int tail_more;    /* it got as many rows as it may: more to read */
    int tail_failed;  /* it failed (the store's or the callback's error) */
    uint64_t log_last; /* the log's last seq when it was read (tail_done) */
} store_lease_news;

/* A lease for node 'node' on the database 'url' (a libpq URL or key=value
 * string). 'lease_ms': a holder whose heartbeat is older than that is cut
 * (its session terminated) by a candidate, and the server ends the session
 * of a peer silent on TCP about that long (tcp_user_timeout, keepalives).
 * 'fence_ms' (shorter): this end gives the session up after that long
 * without the server's acknowledgement. Connects on the first step. */
store_lease *store_lease_new(const char *url, const char *node, int64_t lease_ms,
                             int64_t fence_ms);
void store_lease_free(store_lease *l);

/* One step, never waiting: connects, reads what arrived, and when idle
 * sends the next statement: a tail read when one is wanted, else, when
 * 'beat' is set, as a follower (leading 0) the candidate's try (take the
 * lock and bump the epoch, or cut a stale holder), as the leader (leading
 * = its epoch) the beat, which renews the heartbeat and reads the epoch.
 * 'seen' is the last event applied (shown per node). Fills 'out'. */
void store_lease_step(store_lease *l, int64_t leading, uint64_t seen, int beat,
                      store_lease_news *out);

/* The session's socket (-1 while there is none) and whether libpq waits
 * for it to be writable: for a watcher of the caller's loop, which steps
 * (beat 0) as soon as something arrives. */
int store_lease_fd(const store_lease *l, int *want_write);

/* A follower reads the log's tail on this session, asynchronously (the
 * loop never waits for the database): 'cb' gets each event after the one
 * given to store_lease_want_tail, decoded with the PostgreSQL store 'st'
 * (the node's data store; cb must not use the session). */
void store_lease_follow(store_lease *l, store *st, store_event_cb cb, void *arg);
/* Asks for the events after 'after' (at most a few hundred per read; news
 * tail_more says when there are more): sent at the next step that finds
 * the session idle. Nothing when one is already under way. A follower
 * only: the step whose answer says it won drops a read wanted meanwhile,
 * and a leader's steps (leading > 0) send none and hand over no rows (its
 * takeover reads the tail on the data connection, after the bump). */
void store_lease_want_tail(store_lease *l, uint64_t after);

/* The last error, for logs. */
const char *store_lease_error(const store_lease *l);

#endif
