/*
 * loop_clock: the one clock every layer above the core reads (the app, the
 * API, the gateways, the store's timestamps, the log). Two readings:
 *
 *   loop_clock_wall()  wall-clock milliseconds since the epoch, plus the
 *                      test offset (TEXTDESK_CLOCK_OFFSET_MS): for what is
 *                      shown and stored (sessions, statuses, log lines,
 *                      signed timestamps of webhook providers);
 *   loop_clock_mono()  monotonic milliseconds (CLOCK_MONOTONIC): for
 *                      durations and deadlines, which a step of the system
 *                      clock (NTP, an operator) must not move.
 *
 * Both are read once per loop turn (net/net.c refreshes them when the loop
 * wakes up), so everything a turn does sees one time and a turn costs no
 * clock reads beyond that. Outside a running loop (start-up, tools, tests)
 * every call reads the clock afresh.
 *
 * A process-wide singleton, like the system clock it caches; a leaf so that
 * util/log.c can read it. Tests replace the source (loop_clock_set_source)
 * to step the wall clock without touching the machine's.
 */
#ifndef TEXTDESK_UTIL_LOOP_CLOCK_H
#define TEXTDESK_UTIL_LOOP_CLOCK_H

#include <stdint.h>

int64_t loop_clock_wall(void);
int64_t loop_clock_mono(void);
/* The monotonic clock read now, not the turn's reading: for rate limits,
 * which must not run ahead when a turn is long (the SMPP throughput). */
int64_t loop_clock_mono_now(void);
/* The same in microseconds: for what lasts about a millisecond (a store
 * commit's time, /metrics). */
int64_t loop_clock_mono_us_now(void);

/* Reads the clocks into the cache (the loop, at the start of a turn). */
void loop_clock_refresh(void);
/* 1: the readings come from the cache, refreshed by the loop; 0: every
 * call reads afresh (the default; a loop that cannot refresh at the start
 * of its turns must leave it so). */
void loop_clock_set_cached(int on);
/* Milliseconds added to the wall clock (tests: TEXTDESK_CLOCK_OFFSET_MS). */
void loop_clock_set_offset(int64_t ms);

/* Tests: the raw readings come from these (NULL: the system's clocks). */
typedef int64_t (*loop_clock_src)(void);
void loop_clock_set_source(loop_clock_src wall, loop_clock_src mono);

#endif
