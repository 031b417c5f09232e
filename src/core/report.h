/*
 * report: contact-center figures folded from the core's event log, per
 * queue, entry point, agent, team and in total, per interval (15 minutes,
 * an hour or a day in the site's time zone, or the whole range).
 *
 * Pure like the rest of core/: no I/O, no clock. The caller hands it every
 * stored event in sequence order, from the first (state before the range
 * matters: who was Available at midnight, which conversation was waiting),
 * and the time to stop counting open states ('now' for a range that is not
 * over yet). Folding the same log twice gives the same figures, so a past
 * day reads the same on every node and after every restart.
 *
 *     report *r = report_new(&opts);
 *     for each stored event: report_add(r, &ev, segments_if_message_out);
 *     report_finish(r, now);
 *     report_rows(r, &rows) ...
 *     report_free(r);
 *
 * Every figure is defined in docs/reports.md; in short:
 *  - a queue *leg* starts when a conversation enters a queue while not
 *    already waiting (first queued, transferred to a queue, overflowed,
 *    requeued after its owner left) and ends at the first accept
 *    (accepted), an overflow (expired) or its close (abandoned). Leg figures
 *    (offered, accepted, abandoned, expired, service level, time to accept)
 *    count in the interval where the leg started, for its queue, its entry
 *    point and the total;
 *  - agent and team rows count offers made to the agent, its accepts, and
 *    time to accept from the offer;
 *  - everything else counts in the interval of the event that completes it
 *    (a CSAT score: where the answer came, for the queue, entry point and
 *    agent the survey was asked for).
 *
 * Written by hand: it is a fold over this project's own event types.
 */
#ifndef TEXTDESK_CORE_REPORT_H
#define TEXTDESK_CORE_REPORT_H

#include <stddef.h>
#include <stdint.h>

#include "core/cc.h"
#include "core/tz.h"

enum report_dim { REPORT_TOTAL, REPORT_QUEUE, REPORT_EP, REPORT_AGENT, REPORT_TEAM };
#define REPORT_DIMS 5
enum report_step { REPORT_ALL, REPORT_15MIN, REPORT_HOUR, REPORT_DAY };

#define REPORT_SL_DEFAULT_MS 60000

typedef struct report_opts {
    int64_t from, to; /* ms since 1970 UTC: [from, to) */
    int step;         /* report_step */
    tz_rule tz;       /* the site's time zone (all zero: UTC) */
    int64_t sl_default_ms; /* service-level threshold (0: 60 s) */
    const uint32_t *sl_queues; /* per-queue thresholds: queue ids ... */
    const int64_t *sl_ms;      /* ... and their thresholds, ms */
    size_t n_sl;
} report_opts;

/* A duration figure: how many, their sum, the 90th percentile (nearest
 * rank: the smallest value with at least 90 % of the samples at or below
 * it; 0 when n is 0). */
typedef struct report_stat {
    uint64_t n;
    int64_t sum_ms, p90_ms;
} report_stat;

typedef struct report_row {
    int dim;     /* report_dim */
    uint32_t id; /* queue, entry point, agent or team id; 0 for the total */
    int64_t start, end; /* the interval, ms UTC */
    uint64_t offered, accepted, abandoned, expired;
    uint64_t transferred, conferenced, ended, rona;
    uint64_t sl_met, sl_base; /* service level = sl_met / sl_base */
    report_stat accept, reply, handle;
    uint64_t msgs_in, msgs_out, segments, opt_outs;
    int64_t state_ms[4]; /* time per cc_agent_state (agents, teams) */
    int64_t busy_ms;     /* time holding or owing a wrap-up for >= 1 */
    /* customer satisfaction: surveys sent, answers, the sum of their
     * scores and how many of each score 1-5 (csat_by_score[score - 1]) */
    uint64_t csat_asked, csat_answers, csat_sum, csat_by_score[5];
} report_row;

enum report_count_kind { REPORT_WRAPUPS, REPORT_IDLE_MS };
/* A breakdown by reason: wrap-ups by wrap-up reason (a count), or idle
 * time by idle reason (ms), per row. */
typedef struct report_count {
    int dim;
    uint32_t id;
    int64_t start;
    int kind;
    uint32_t reason;
    int64_t value;
} report_count;

/* One stretch of an agent's state (logged in), clipped to the range. */
typedef struct report_span {
    uint32_t agent;
    int state;
    uint32_t reason;
    int64_t start, end;
} report_span;

typedef struct report report;

report *report_new(const report_opts *opts);
void report_free(report *r);
/* Folds one event. 'segments': for MESSAGE_OUT, the SMS segments the text
 * takes (the caller owns SMS rules); ignored otherwise. Events must come
 * in log order. */
void report_add(report *r, const cc_event *ev, uint32_t segments);
/* Closes the states still open at 'now' (or at the range's end, if
 * earlier), computes averages and percentiles and sorts the rows (by
 * dimension, id, start). Call once, after the last report_add. */
void report_finish(report *r, int64_t now);

/* A new report of 'opts' that goes on from the fold state of 'state'
 * (who is in which state since when, the open conversations and their
 * queue legs: not its figures). Folding the events after the ones 'state'
 * got gives the same figures as folding the whole log into a new report,
 * provided 'state' got none at or after opts->from: a snapshot of the fold
 * taken before the first event at or after some T <= from (api_report.c
 * keeps one at each local midnight). NULL 'state': report_new. */
report *report_resume(const report_opts *opts, const report *state);
/* 1 when no event at 't' or later can change the figures any more: 't' is
 * at or after the range's end and every queue leg that started in the
 * range has ended (a leg counts where it started, when it ends). Events
 * come with non-decreasing times (the core's clock never goes back), so a
 * fold may stop at the first such event. */
int report_done(const report *r, int64_t t);

/* Views into the report, valid until report_free. Rows exist only for
 * intervals where something counted; the total row of each interval exists
 * whenever any row of it does. */
size_t report_rows(const report *r, const report_row **out);
size_t report_counts(const report *r, const report_count **out);
size_t report_spans(const report *r, const report_span **out);

/* While folding (before report_finish): the counters so far of row
 * (dim, id) in the interval holding 't', into 'out' (durations of states
 * still open and percentiles are not in it). Returns 0, or -1 when there is
 * no such row yet. For live figures (service level today). */
int report_peek(const report *r, int dim, uint32_t id, int64_t t, report_row *out);

/* The service-level threshold of 'queue', ms. */
int64_t report_sl_ms(const report *r, uint32_t queue);
/* The interval holding 't' under 'opts' (start, end in ms UTC). */
void report_interval(const report_opts *opts, int64_t t, int64_t *start, int64_t *end);
/* The site's offset from UTC at 't', seconds east. */
int32_t report_utc_offset(const report_opts *opts, int64_t t);

#endif
