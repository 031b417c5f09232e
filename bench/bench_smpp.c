/*
 * bench_smpp: submit_sm throughput of the pure SMPP session over loopback
 * TCP against the real SMSC simulator (tests/peers/smsc/smsc_sim.pl, Perl
 * Net::SMPP), with window 10 and, as the baseline in the same run, window 1
 * (stop-and-wait). Each run submits single-segment messages with no
 * throttle and no receipts for a fixed time and counts submit_sm_resp with
 * status 0. The simulator is one single-threaded Perl process that logs a
 * JSON line per PDU: it, not the session, is the bottleneck, so the figures
 * measure what the window buys against a slow peer. Prints `name: value
 * unit` lines; about 10 s. Skips (exit 0) when perl Net::SMPP is missing.
 */
#include <stdio.h>
#include <stdlib.h>

#include "../tests/peers/smsc/smsc_harness.h"

static int bound(smsc_link *l)
{
    return smpp_session_state(l->s) == SMPP_ST_BOUND;
}

/* Submits for 'ms' milliseconds with 'window'; returns messages/s. */
static double run(const smsc_sim *sim, unsigned window, int64_t ms, uint64_t *done_out,
                  unsigned *inflight_max)
{
    smpp_cfg c = {0};
    c.system_id = "test";
    c.password = "secret";
    c.window = window;
    c.no_receipts = 1;
    c.max_queue = 1000000;
    smsc_link l = {0};
    l.sim = sim;
    l.fd = -1;
    l.s = smpp_session_new(&c);
    if (!smsc_link_run(&l, bound, 5000)) {
        fprintf(stderr, "bench_smpp: bind failed\n");
        exit(1);
    }
    int64_t ref = 0;
    /* Keep the queue a little ahead of the window. */
    for (; ref < 100; ref++)
        smpp_session_send(l.s, ref, STR_LIT("71000"), STR_LIT("+46701234567"),
                          STR_LIT("Benchmark reply text"), smsc_now_ms());
    int64_t t0 = smsc_now_ms(), end = t0 + ms;
    smpp_stats st0;
    smpp_session_stats_get(l.s, &st0);
    while (smsc_now_ms() < end) {
        smsc_link_turn(&l, 5);
        smpp_stats st;
        smpp_session_stats_get(l.s, &st);
        while (st.queued < 100) {
            smpp_session_send(l.s, ref++, STR_LIT("71000"), STR_LIT("+46701234567"),
                              STR_LIT("Benchmark reply text"), smsc_now_ms());
            st.queued++;
        }
    }
    double secs = (double)(smsc_now_ms() - t0) / 1000.0;
    smpp_stats st;
    smpp_session_stats_get(l.s, &st);
    *done_out = st.submit_ok - st0.submit_ok;
    *inflight_max = st.inflight_max;
    smpp_session_stop(l.s, smsc_now_ms());
    smsc_link_run(&l, NULL, 200);
    smpp_session_free(l.s);
    smsc_link_close(&l);
    return (double)*done_out / secs;
}

int main(void)
{
    if (!smsc_available()) {
        printf("bench_smpp: skipped (perl Net::SMPP missing; scripts/deps.sh --test)\n");
        return 0;
    }
    smsc_sim sim;
    if (smsc_start(&sim, 0) != 0) {
        fprintf(stderr, "bench_smpp: simulator did not start\n");
        return 1;
    }
    uint64_t n1, n10;
    unsigned m1, m10;
    double r1 = run(&sim, 1, 4000, &n1, &m1);
    double r10 = run(&sim, 10, 4000, &n10, &m10);
    smsc_stop(&sim);
    printf("smpp_submit_window1: %.0f msg/s\n", r1);
    printf("smpp_submit_window10: %.0f msg/s\n", r10);
    printf("smpp_submit_window10_speedup: %.2f x\n", r1 > 0 ? r10 / r1 : 0.0);
    printf("smpp_submit_window10_inflight_max: %u pdus\n", m10);
    printf("smpp_submit_accepted_total: %llu msgs\n", (unsigned long long)(n1 + n10));
    return 0;
}
