/*
 * The reporting fold (core/report.c): hand-computed scenarios driven
 * through the real core (the cc fixture's demo set-up), intervals across
 * midnight and both DST changes of Europe/Stockholm, and a property test:
 * random days folded live, event by event as the core emits them, equal the
 * same log written to a real SQLite file and read back (in full, and with
 * the reports' lean read, store_events_report); 15-minute rows add
 * up to the day's.
 */
#include "cc_fixture.h"

#include <unistd.h>

#include "core/report.h"
#include "core/tz.h"
#include "api/api.h"
#include "store/store.h"

#define SEC 1000LL
#define MIN (60 * SEC)
#define HOUR (60 * MIN)
#define STOCKHOLM "CET-1CEST,M3.5.0,M10.5.0/3"

/* 'y'-'m'-'d'T'hh':'mm'Z as ms. */
static int64_t utc(int y, int m, int d, int hh, int mm)
{
    return (tz_days_from_civil(y, m, d) * 86400 + hh * 3600 + mm * 60) * 1000;
}

static report_opts opts_all(void)
{
    return (report_opts){.from = 0, .to = INT64_MAX / 2, .step = REPORT_ALL};
}

static report_opts opts_tz(int step, int64_t from, int64_t to)
{
    report_opts o = {.from = from, .to = to, .step = step};
    assert_int_equal(tz_parse(STOCKHOLM, strlen(STOCKHOLM), &o.tz), 0);
    return o;
}

static uint32_t segs(const cc_event *e)
{
    /* what the store counts and keeps with a reply (the long reply of the
     * random days takes 2 segments, the short one 1) */
    return e->type == CC_EV_MSG_OUT ? (uint32_t)store_text_segments(e->text) : 0;
}

static report *fold(const fx *f, const report_opts *o, int64_t now)
{
    report *r = report_new(o);
    for (size_t i = 0; i < f->log.n; i++)
        report_add(r, &f->log.v[i], segs(&f->log.v[i]));
    report_finish(r, now);
    return r;
}

static const report_row *row(const report *r, int dim, uint32_t id, int64_t start)
{
    const report_row *v;
    size_t n = report_rows(r, &v);
    for (size_t i = 0; i < n; i++)
        if (v[i].dim == dim && v[i].id == id && (start < 0 || v[i].start == start))
            return &v[i];
    fail_msg("no row dim %d id %u start %lld", dim, id, (long long)start);
    return NULL;
}

static int64_t count(const report *r, int dim, uint32_t id, int64_t start, int kind,
                     uint32_t reason)
{
    const report_count *v;
    size_t n = report_counts(r, &v);
    for (size_t i = 0; i < n; i++)
        if (v[i].dim == dim && v[i].id == id && (start < 0 || v[i].start == start) &&
            v[i].kind == kind && v[i].reason == reason)
            return v[i].value;
    return 0;
}

/* One conversation from first SMS to wrap-up, every figure by hand. */
static void test_one_conversation(void **state)
{
    fx *f = *state;
    int64_t t0 = f->now;
    fx_available(f, 1);
    f->now += 10 * SEC;
    uint32_t conv = fx_sms(f, CUST, EP1, "Hej", "m1"); /* opened, offered to Anna */
    f->now += 20 * SEC;
    OK(f, .type = CC_CMD_ACCEPT, .agent = 1, .conv = conv);
    f->now += 30 * SEC;
    OK(f, .type = CC_CMD_SEND, .agent = 1, .conv = conv, .text = STR_LIT("Hej, vad gäller det?"));
    f->now += 240 * SEC;
    OK(f, .type = CC_CMD_END, .agent = 1, .conv = conv);
    f->now += 60 * SEC;
    OK(f, .type = CC_CMD_WRAPUP, .agent = 1, .conv = conv, .reason = 1);
    report_opts o = opts_all();
    report *r = fold(f, &o, t0 + 400 * SEC);

    const report_row *q = row(r, REPORT_QUEUE, 1, -1);
    assert_int_equal(q->offered, 1);
    assert_int_equal(q->accepted, 1);
    assert_int_equal(q->abandoned + q->expired, 0);
    assert_int_equal(q->sl_met, 1);
    assert_int_equal(q->sl_base, 1);
    assert_int_equal(q->accept.n, 1);
    assert_int_equal(q->accept.sum_ms, 20 * SEC); /* queued -> accepted */
    assert_int_equal(q->accept.p90_ms, 20 * SEC);
    assert_int_equal(q->reply.sum_ms, 50 * SEC); /* opened -> first reply */
    assert_int_equal(q->handle.n, 1);
    assert_int_equal(q->handle.sum_ms, 330 * SEC); /* accepted -> wrapped up */
    assert_int_equal(q->msgs_in, 1);
    assert_int_equal(q->msgs_out, 1);
    assert_int_equal(q->segments, 1);
    assert_int_equal(q->ended, 1);
    assert_int_equal(count(r, REPORT_QUEUE, 1, -1, REPORT_WRAPUPS, 1), 1);
    assert_memory_equal(&row(r, REPORT_EP, 1, -1)->offered, &q->offered,
                        offsetof(report_row, state_ms) - offsetof(report_row, offered));

    const report_row *a = row(r, REPORT_AGENT, 1, -1);
    assert_int_equal(a->offered, 1);
    assert_int_equal(a->accepted, 1);
    assert_int_equal(a->accept.sum_ms, 20 * SEC); /* offered -> accepted */
    assert_int_equal(a->handle.sum_ms, 330 * SEC);
    assert_int_equal(a->msgs_out, 1);
    assert_int_equal(a->msgs_in, 0); /* inbound counts for queues, not agents */
    assert_int_equal(a->state_ms[CC_AGENT_AVAILABLE], 400 * SEC);
    assert_int_equal(a->state_ms[CC_AGENT_IDLE], 0);
    assert_int_equal(a->busy_ms, 330 * SEC); /* holding, then owing the wrap-up */
    const report_row *team = row(r, REPORT_TEAM, 1, -1);
    assert_int_equal(team->busy_ms, 330 * SEC);
    assert_int_equal(team->accepted, 1);

    const report_span *sp;
    size_t n = report_spans(r, &sp);
    assert_int_equal(n, 1);
    assert_int_equal(sp[0].agent, 1);
    assert_int_equal(sp[0].state, CC_AGENT_AVAILABLE);
    assert_int_equal(sp[0].end - sp[0].start, 400 * SEC);
    report_free(r);
}

/* Ten conversations waiting 10, 20, ... 100 s: service level against the
 * default 60 s and a per-queue 30 s; p90 by nearest rank. */
static void test_service_level_and_p90(void **state)
{
    fx *f = *state;
    fx_available(f, 1);
    for (int i = 1; i <= 10; i++) {
        char id[16];
        snprintf(id, sizeof id, "s%d", i);
        uint32_t conv = fx_sms(f, CUST, EP1, "Hej", id);
        f->now += i * 10 * SEC;
        OK(f, .type = CC_CMD_ACCEPT, .agent = 1, .conv = conv);
        OK(f, .type = CC_CMD_END, .agent = 1, .conv = conv);
        OK(f, .type = CC_CMD_WRAPUP, .agent = 1, .conv = conv, .reason = 1 + i % 2);
        f->now += SEC;
    }
    report_opts o = opts_all();
    report *r = fold(f, &o, f->now);
    const report_row *q = row(r, REPORT_QUEUE, 1, -1);
    assert_int_equal(q->offered, 10);
    assert_int_equal(q->sl_base, 10);
    assert_int_equal(q->sl_met, 6); /* 10..60 s */
    assert_int_equal(q->accept.sum_ms, 550 * SEC);
    assert_int_equal(q->accept.p90_ms, 90 * SEC);
    assert_int_equal(count(r, REPORT_QUEUE, 1, -1, REPORT_WRAPUPS, 1), 5);
    assert_int_equal(count(r, REPORT_QUEUE, 1, -1, REPORT_WRAPUPS, 2), 5);
    report_free(r);

    /* live: the same counters before report_finish */
    r = report_new(&o);
    for (size_t i = 0; i < f->log.n; i++)
        report_add(r, &f->log.v[i], segs(&f->log.v[i]));
    report_row live;
    assert_int_equal(report_peek(r, REPORT_QUEUE, 1, f->now, &live), 0);
    assert_int_equal(live.sl_met, 6);
    assert_int_equal(live.sl_base, 10);
    assert_int_equal(live.offered, 10);
    assert_int_equal(report_peek(r, REPORT_QUEUE, 2, f->now, &live), -1); /* no such row */
    o.from = f->now + 1;
    report_free(r);
    r = report_new(&o);
    assert_int_equal(report_peek(r, REPORT_QUEUE, 1, f->now, &live), -1); /* outside the range */
    report_free(r);
    o.from = 0;

    uint32_t qs[] = {1};
    int64_t ms[] = {30 * SEC};
    o.sl_queues = qs;
    o.sl_ms = ms;
    o.n_sl = 1;
    r = fold(f, &o, f->now);
    assert_int_equal(report_sl_ms(r, 1), 30 * SEC);
    assert_int_equal(report_sl_ms(r, 2), REPORT_SL_DEFAULT_MS);
    assert_int_equal(row(r, REPORT_QUEUE, 1, -1)->sl_met, 3);
    report_free(r);
}

/* RONA, transfer to a queue (a new leg there), conference, and a
 * conversation closed unanswered when its entry point is removed. */
static void test_rona_transfer_conference_abandon(void **state)
{
    fx *f = *state;
    fx_available(f, 1);
    uint32_t conv = fx_sms(f, CUST, EP1, "Hej", "r1");
    fx_tick(f, 30 * SEC); /* Anna does not answer: RONA */
    assert_int_equal(fx_agent_state(f, 1), CC_AGENT_RONA);
    fx_available(f, 2);
    OK(f, .type = CC_CMD_ACCEPT, .agent = 2, .conv = conv);
    OK(f, .type = CC_CMD_TRANSFER_QUEUE, .agent = 2, .conv = conv, .queue = 2);
    fx_available(f, 3);
    OK(f, .type = CC_CMD_ACCEPT, .agent = 3, .conv = conv);
    OK(f, .type = CC_CMD_CONF_INVITE, .agent = 3, .conv = conv, .target = 2);
    OK(f, .type = CC_CMD_CONF_ACCEPT, .agent = 2, .conv = conv);
    OK(f, .type = CC_CMD_END, .agent = 3, .conv = conv);
    OK(f, .type = CC_CMD_SET_STATE, .agent = 2, .state = CC_AGENT_IDLE, .reason = 1);
    OK(f, .type = CC_CMD_SET_STATE, .agent = 3, .state = CC_AGENT_IDLE, .reason = 1);
    uint32_t lost = fx_sms(f, "+46709999999", EP2, "Hallå?", "r2");
    f->now += MIN;
    OK(f, .type = CC_CMD_EP_REMOVE, .ep = 2);
    assert_int_equal(cc_conv_get(f->c, lost, &(cc_conv_view){0}), -CC_E_NO_CONVERSATION);

    report_opts o = opts_all();
    report *r = fold(f, &o, f->now);
    const report_row *q1 = row(r, REPORT_QUEUE, 1, -1), *q2 = row(r, REPORT_QUEUE, 2, -1);
    assert_int_equal(q1->offered, 1); /* the requeue after RONA is the same leg */
    assert_int_equal(q1->accepted, 1);
    assert_int_equal(q1->rona, 1);
    assert_int_equal(q1->transferred, 1);
    assert_int_equal(q2->offered, 2); /* the transfer, and the lost one */
    assert_int_equal(q2->accepted, 1);
    assert_int_equal(q2->abandoned, 1);
    assert_int_equal(q2->sl_base, 2);
    assert_int_equal(q2->conferenced, 1);
    assert_int_equal(q2->ended, 1); /* by an agent; not the one the removal closed */
    const report_row *t = row(r, REPORT_TOTAL, 0, -1);
    assert_int_equal(t->offered, 3);
    assert_int_equal(t->accepted, 2);
    assert_int_equal(t->abandoned, 1);
    assert_int_equal(row(r, REPORT_AGENT, 1, -1)->rona, 1);
    assert_int_equal(row(r, REPORT_AGENT, 1, -1)->accepted, 0);
    assert_int_equal(row(r, REPORT_AGENT, 2, -1)->transferred, 1);
    assert_int_equal(row(r, REPORT_AGENT, 2, -1)->conferenced, 1);
    assert_int_equal(row(r, REPORT_AGENT, 3, -1)->ended, 1);
    /* Maja is in both teams: her accept counts in each */
    assert_int_equal(row(r, REPORT_TEAM, 2, -1)->accepted, 1);
    assert_int_equal(row(r, REPORT_TEAM, 1, -1)->accepted, 2);
    report_free(r);
}

/* An agent Available from 23:30 to 00:30 local time, then at lunch for 15
 * minutes; a conversation queued at 23:59:30 and accepted at 00:00:30. */
static void test_day_across_midnight(void **state)
{
    fx *f = *state;
    f->now = utc(2026, 12, 3, 22, 30); /* 23:30 in Stockholm (CET) */
    fx_available(f, 1);
    OK(f, .type = CC_CMD_SET_STATE, .agent = 1, .state = CC_AGENT_IDLE, .reason = 1);
    f->now = utc(2026, 12, 3, 22, 59) + 30 * SEC;
    fx_available(f, 2);
    uint32_t conv = fx_sms(f, CUST, EP1, "Hej", "n1");
    f->now += MIN;
    OK(f, .type = CC_CMD_ACCEPT, .agent = 2, .conv = conv);
    f->now = utc(2026, 12, 3, 23, 30);
    OK(f, .type = CC_CMD_SET_STATE, .agent = 2, .state = CC_AGENT_IDLE, .reason = 1);
    f->now += 15 * MIN;
    OK(f, .type = CC_CMD_SET_STATE, .agent = 2, .state = CC_AGENT_AVAILABLE);

    int64_t d3 = utc(2026, 12, 2, 23, 0), d4 = utc(2026, 12, 3, 23, 0);
    report_opts o = opts_tz(REPORT_DAY, d3, utc(2026, 12, 4, 23, 0));
    report *r = fold(f, &o, utc(2026, 12, 4, 0, 0)); /* now: 01:00 on the 4th */
    const report_row *a3 = row(r, REPORT_AGENT, 2, d3), *a4 = row(r, REPORT_AGENT, 2, d4);
    assert_int_equal(a3->end, d4);
    assert_int_equal(a3->state_ms[CC_AGENT_AVAILABLE], 30 * SEC);
    assert_int_equal(a4->state_ms[CC_AGENT_AVAILABLE], 30 * MIN + 15 * MIN);
    assert_int_equal(a4->state_ms[CC_AGENT_IDLE], 15 * MIN);
    assert_int_equal(count(r, REPORT_AGENT, 2, d4, REPORT_IDLE_MS, 1), 15 * MIN);
    /* Anna: lunch from 23:30 until now (01:00): 30 min on the 3rd */
    assert_int_equal(count(r, REPORT_AGENT, 1, d3, REPORT_IDLE_MS, 1), 30 * MIN);
    assert_int_equal(count(r, REPORT_AGENT, 1, d4, REPORT_IDLE_MS, 1), 60 * MIN);
    /* the leg counts on the day it was queued; the agent's accept on the
     * day it happened */
    assert_int_equal(row(r, REPORT_QUEUE, 1, d3)->offered, 1);
    assert_int_equal(row(r, REPORT_QUEUE, 1, d3)->accepted, 1);
    assert_int_equal(row(r, REPORT_QUEUE, 1, d3)->accept.sum_ms, MIN);
    assert_int_equal(a4->accepted, 1);
    assert_int_equal(a3->accepted, 0);
    /* busy from the accept (00:00:30) until now (01:00) */
    assert_int_equal(a4->busy_ms, HOUR - 30 * SEC);
    report_free(r);

    /* hours: 23:00-00:00 local and 00:00-01:00 local are two rows */
    o.step = REPORT_HOUR;
    r = fold(f, &o, utc(2026, 12, 4, 0, 0));
    assert_int_equal(row(r, REPORT_AGENT, 2, utc(2026, 12, 3, 22, 0))->state_ms[CC_AGENT_AVAILABLE],
                     30 * SEC);
    assert_int_equal(row(r, REPORT_AGENT, 2, d4)->state_ms[CC_AGENT_IDLE], 15 * MIN);
    report_free(r);
}

/* Customer satisfaction (issue 17), by hand. Entry point 1 surveys with a
 * 2-hour window. In Stockholm (CET) on 3 December: Anna handles two
 * conversations, Maja one (both in team Support; Maja also in Sales).
 * Answers: 4 to Anna at 23:40, 2 to Maja at 23:50. At 00:20 (the next
 * local day) Anna's second customer sends "9": no score, it opens a
 * conversation, which Maja handles; its survey is answered 5 at 00:25.
 * Scores count where the answer came, for whom the survey asked. */
static void test_csat_scores(void **state)
{
    fx *f = *state;
    cc_ep_flow flow = {.survey = 1, .survey_text = STR_LIT("Betyg 1-5?"),
                       .survey_window_ms = 2 * HOUR};
    OK(f, .type = CC_CMD_EP_PUT, .ep = 1, .number = STR_LIT(EP1), .queue = 1, .flow = &flow);
    f->now = utc(2026, 12, 3, 22, 0); /* 23:00 local */
    fx_available(f, 1);
    const char *cust[3] = {"+46701000001", "+46701000002", "+46701000003"};
    uint32_t agent_of[3] = {1, 1, 3};
    for (int i = 0; i < 3; i++) {
        if (i == 2) {
            OK(f, .type = CC_CMD_SET_STATE, .agent = 1, .state = CC_AGENT_IDLE);
            fx_available(f, 3);
        }
        const char *ids[3] = {"c0", "c1", "c2"};
        uint32_t v = fx_sms(f, cust[i], EP1, "Hej", ids[i]);
        OK(f, .type = CC_CMD_ACCEPT, .agent = agent_of[i], .conv = v);
        f->now += MIN;
        OK(f, .type = CC_CMD_END, .agent = agent_of[i], .conv = v);
        OK(f, .type = CC_CMD_WRAPUP, .agent = agent_of[i], .conv = v, .reason = 1);
        assert_non_null(fx_find(f, CC_EV_CSAT_ASKED, v));
    }
    f->now = utc(2026, 12, 3, 22, 40);
    assert_int_equal(DO(f, .type = CC_CMD_SMS_IN, .number = str_c(cust[0]),
                        .ep_number = STR_LIT(EP1), .text = STR_LIT("4"), .msg_id = STR_LIT("a0")), 0);
    f->now = utc(2026, 12, 3, 22, 50);
    assert_int_equal(DO(f, .type = CC_CMD_SMS_IN, .number = str_c(cust[2]),
                        .ep_number = STR_LIT(EP1), .text = STR_LIT("2 dåligt"),
                        .msg_id = STR_LIT("a2")), 0);
    f->now = utc(2026, 12, 3, 23, 20);
    assert_int_equal(DO(f, .type = CC_CMD_SMS_IN, .number = str_c(cust[1]),
                        .ep_number = STR_LIT(EP1), .text = STR_LIT("9"), .msg_id = STR_LIT("a1")), 0);
    assert_null(fx_find(f, CC_EV_CSAT_ANSWERED, 0)); /* "9": no score, a conversation */
    uint32_t v9 = fx_find(f, CC_EV_CONV_OPENED, 0)->conv;
    OK(f, .type = CC_CMD_ACCEPT, .agent = 3, .conv = v9);
    OK(f, .type = CC_CMD_END, .agent = 3, .conv = v9);
    OK(f, .type = CC_CMD_WRAPUP, .agent = 3, .conv = v9, .reason = 1); /* asked again */
    f->now = utc(2026, 12, 3, 23, 25);
    assert_int_equal(DO(f, .type = CC_CMD_SMS_IN, .number = str_c(cust[1]),
                        .ep_number = STR_LIT(EP1), .text = STR_LIT("5"), .msg_id = STR_LIT("a3")), 0);
    assert_int_equal(fx_find(f, CC_EV_CSAT_ANSWERED, 0)->agent, 3); /* the newer survey */

    int64_t d3 = utc(2026, 12, 2, 23, 0), d4 = utc(2026, 12, 3, 23, 0);
    report_opts o = opts_tz(REPORT_DAY, d3, utc(2026, 12, 4, 23, 0));
    report *r = fold(f, &o, utc(2026, 12, 4, 6, 0));
    const report_row *t3 = row(r, REPORT_TOTAL, 0, d3), *t4 = row(r, REPORT_TOTAL, 0, d4);
    assert_int_equal(t3->csat_asked, 3);
    assert_int_equal(t3->csat_answers, 2); /* 4 and 2 */
    assert_int_equal(t3->csat_sum, 6);
    assert_int_equal(t3->csat_by_score[3], 1);
    assert_int_equal(t3->csat_by_score[1], 1);
    assert_int_equal(t4->csat_asked, 1); /* the "9" conversation's survey */
    assert_int_equal(t4->csat_answers, 1);
    assert_int_equal(t4->csat_sum, 5);
    assert_int_equal(t4->csat_by_score[4], 1);
    /* agents: Anna 4 on the 3rd; Maja 2 on the 3rd and 5 on the 4th */
    assert_int_equal(row(r, REPORT_AGENT, 1, d3)->csat_answers, 1);
    assert_int_equal(row(r, REPORT_AGENT, 1, d3)->csat_sum, 4);
    assert_int_equal(row(r, REPORT_AGENT, 1, d3)->csat_asked, 2);
    assert_int_equal(row(r, REPORT_AGENT, 3, d3)->csat_sum, 2);
    assert_int_equal(row(r, REPORT_AGENT, 3, d4)->csat_sum, 5);
    /* teams: Support has all; Sales (Maja's second team) Maja's */
    assert_int_equal(row(r, REPORT_TEAM, 1, d3)->csat_answers, 2);
    assert_int_equal(row(r, REPORT_TEAM, 1, d3)->csat_sum, 6);
    assert_int_equal(row(r, REPORT_TEAM, 2, d3)->csat_sum, 2);
    assert_int_equal(row(r, REPORT_TEAM, 2, d4)->csat_sum, 5);
    /* queue and entry point as the totals */
    assert_int_equal(row(r, REPORT_QUEUE, 1, d3)->csat_sum, 6);
    assert_int_equal(row(r, REPORT_EP, 1, d4)->csat_answers, 1);
    report_free(r);
    /* the whole range: one row, 3 answers averaging 11/3 */
    o.step = REPORT_ALL;
    r = fold(f, &o, utc(2026, 12, 4, 6, 0));
    assert_int_equal(row(r, REPORT_TOTAL, 0, -1)->csat_answers, 3);
    assert_int_equal(row(r, REPORT_TOTAL, 0, -1)->csat_sum, 11);
    assert_int_equal(row(r, REPORT_TOTAL, 0, -1)->csat_asked, 4);
    report_free(r);
}

/* An agent Available through both DST changes: 23 and 25 hours. */
static void test_dst_days(void **state)
{
    fx *f = *state;
    f->now = utc(2026, 3, 28, 20, 0);
    fx_available(f, 1);
    int64_t from = utc(2026, 3, 28, 23, 0), to = utc(2026, 3, 29, 22, 0); /* local 29 March */
    report_opts o = opts_tz(REPORT_DAY, from, to);
    report *r = fold(f, &o, utc(2026, 3, 30, 1, 0));
    const report_row *a = row(r, REPORT_AGENT, 1, from);
    assert_int_equal(a->end, to);
    assert_int_equal(a->state_ms[CC_AGENT_AVAILABLE], 23 * HOUR);
    report_free(r);

    o.step = REPORT_HOUR;
    r = fold(f, &o, utc(2026, 3, 30, 1, 0));
    const report_row *v;
    size_t n = report_rows(r, &v), hours = 0;
    for (size_t i = 0; i < n; i++)
        if (v[i].dim == REPORT_AGENT) {
            hours++;
            assert_int_equal(v[i].end - v[i].start, HOUR);
            assert_int_equal(v[i].state_ms[CC_AGENT_AVAILABLE], HOUR);
        }
    assert_int_equal(hours, 23);
    report_free(r);

    f->now = utc(2026, 10, 24, 12, 0);
    from = utc(2026, 10, 24, 22, 0);
    to = utc(2026, 10, 25, 23, 0); /* local 25 October */
    o = opts_tz(REPORT_DAY, from, to);
    r = fold(f, &o, utc(2026, 10, 26, 12, 0));
    a = row(r, REPORT_AGENT, 1, from);
    assert_int_equal(a->end, to);
    assert_int_equal(a->state_ms[CC_AGENT_AVAILABLE], 25 * HOUR);
    report_free(r);

    /* 02:00 local happens twice: two hour rows, +02:00 then +01:00 */
    o.step = REPORT_HOUR;
    r = fold(f, &o, utc(2026, 10, 26, 12, 0));
    n = report_rows(r, &v);
    hours = 0;
    for (size_t i = 0; i < n; i++)
        hours += v[i].dim == REPORT_AGENT;
    assert_int_equal(hours, 25);
    int64_t first = utc(2026, 10, 25, 0, 0), second = utc(2026, 10, 25, 1, 0);
    assert_int_equal(row(r, REPORT_AGENT, 1, first)->end, second);
    assert_int_equal(report_utc_offset(&o, first), 7200);
    assert_int_equal(report_utc_offset(&o, second), 3600);
    report_free(r);

    /* 15 minutes: 100 rows on the long day */
    o.step = REPORT_15MIN;
    r = fold(f, &o, utc(2026, 10, 26, 12, 0));
    n = report_rows(r, &v);
    hours = 0;
    for (size_t i = 0; i < n; i++)
        hours += v[i].dim == REPORT_AGENT;
    assert_int_equal(hours, 100);
    report_free(r);
}

/* Interval edges: a zone half an hour off UTC, and nothing counted outside
 * the range. */
static void test_interval_edges(void **state)
{
    (void)state;
    report_opts o = {.step = REPORT_HOUR, .from = 0, .to = INT64_MAX / 2};
    assert_int_equal(tz_parse("IST-5:30", 8, &o.tz), 0);
    int64_t s, e, t = utc(2026, 1, 1, 10, 10); /* 15:40 local */
    report_interval(&o, t, &s, &e);
    assert_int_equal(s, utc(2026, 1, 1, 9, 30));
    assert_int_equal(e, utc(2026, 1, 1, 10, 30));
    o.step = REPORT_DAY;
    report_interval(&o, t, &s, &e);
    assert_int_equal(s, utc(2025, 12, 31, 18, 30));
    assert_int_equal(e - s, 24 * HOUR);
    o.step = REPORT_15MIN;
    report_interval(&o, utc(1969, 12, 31, 23, 50), &s, &e); /* before the epoch */
    assert_int_equal(e - s, 15 * MIN);
    assert_true(s <= utc(1969, 12, 31, 23, 50) && utc(1969, 12, 31, 23, 50) < e);
}

static void test_outside_range_counts_nothing(void **state)
{
    fx *f = *state;
    fx_available(f, 1);
    uint32_t conv = fx_sms(f, CUST, EP1, "Hej", "o1");
    OK(f, .type = CC_CMD_ACCEPT, .agent = 1, .conv = conv);
    report_opts o = {.from = f->now + HOUR, .to = f->now + 2 * HOUR, .step = REPORT_ALL};
    report *r = fold(f, &o, f->now + 3 * HOUR);
    const report_row *a = row(r, REPORT_AGENT, 1, -1);
    assert_int_equal(a->accepted, 0);
    assert_int_equal(a->state_ms[CC_AGENT_AVAILABLE], HOUR); /* state carried in */
    assert_int_equal(a->busy_ms, HOUR);
    const report_row *t = row(r, REPORT_TOTAL, 0, -1);
    assert_int_equal(t->offered + t->msgs_in, 0);
    report_free(r);
    /* a range not yet begun: nothing at all */
    o.from = f->now + 10 * HOUR;
    o.to = f->now + 11 * HOUR;
    r = fold(f, &o, f->now);
    const report_row *v;
    assert_int_equal(report_rows(r, &v), 0);
    report_free(r);
}

/* ---- property: live == replayed from the store; 15 min adds up to days -- */

typedef struct rng {
    uint64_t s;
} rng;

static uint32_t pick(rng *r, uint32_t n)
{
    r->s ^= r->s >> 12;
    r->s ^= r->s << 25;
    r->s ^= r->s >> 27;
    return (uint32_t)((r->s * 0x2545F4914F6CDD1DULL) % n);
}

typedef struct pending {
    uint32_t conv, agent;
} pending;

/* Runs one random day through the core, folding each event as it comes. */
static void random_day(fx *f, rng *g, report *live)
{
    pending owed[64], held[64];
    size_t nowed = 0, nheld = 0;
    uint32_t offers[64][2];
    size_t noffers = 0;
    for (int step = 0; step < 1500; step++) {
        size_t before = f->log.n;
        uint32_t ag = 1 + pick(g, 3);
        switch (pick(g, 12)) {
        case 0:
        case 1: {
            char num[16], id[16];
            snprintf(num, sizeof num, "+4670%u", pick(g, 30));
            snprintf(id, sizeof id, "p%d", step);
            DO(f, .type = CC_CMD_SMS_IN, .number = str_c(num),
               .ep_number = str_c(pick(g, 2) ? EP1 : EP2), .text = STR_LIT("Hej"),
               .msg_id = str_c(id));
            break;
        }
        case 2:
            if (DO(f, .type = CC_CMD_LOGIN, .agent = ag) != 0)
                DO(f, .type = CC_CMD_SET_STATE, .agent = ag,
                   .state = pick(g, 3) ? CC_AGENT_AVAILABLE : CC_AGENT_IDLE, .reason = 1);
            break;
        case 3:
            DO(f, .type = pick(g, 4) ? CC_CMD_SET_STATE : CC_CMD_LOGOUT, .agent = ag,
               .state = CC_AGENT_AVAILABLE);
            break;
        case 4:
        case 5:
            if (noffers) {
                size_t k = pick(g, (uint32_t)noffers);
                DO(f, .type = pick(g, 8) ? CC_CMD_ACCEPT : CC_CMD_DECLINE,
                   .agent = offers[k][1], .conv = offers[k][0]);
            }
            break;
        case 6:
            if (nheld) {
                pending p = held[pick(g, (uint32_t)nheld)];
                DO(f, .type = CC_CMD_SEND, .agent = p.agent, .conv = p.conv,
                   .text = pick(g, 3) ? STR_LIT("Hej!")
                                      : STR_LIT("Ett längre svar som tar mer än ett segment "
                                                "när det skickas som UCS-2, ett segment är "
                                                "70 tecken där ✓"));
            }
            break;
        case 7:
            if (nheld) {
                pending p = held[pick(g, (uint32_t)nheld)];
                int k = (int)pick(g, 4);
                if (k == 0)
                    DO(f, .type = CC_CMD_TRANSFER_QUEUE, .agent = p.agent, .conv = p.conv,
                       .queue = 1 + pick(g, 2));
                else if (k == 1)
                    DO(f, .type = CC_CMD_CONF_INVITE, .agent = p.agent, .conv = p.conv,
                       .target = 1 + pick(g, 3));
                else
                    DO(f, .type = CC_CMD_END, .agent = p.agent, .conv = p.conv);
            }
            break;
        case 8:
            if (nowed) {
                pending p = owed[pick(g, (uint32_t)nowed)];
                DO(f, .type = CC_CMD_WRAPUP, .agent = p.agent, .conv = p.conv,
                   .reason = 1 + pick(g, 2));
            }
            break;
        case 9:
            DO(f, .type = CC_CMD_CONF_ACCEPT, .agent = ag, .conv = held[0].conv);
            break;
        default:
            fx_tick(f, pick(g, 10) ? pick(g, 40) * SEC : 20 * MIN);
            break;
        }
        f->now += pick(g, 5) * SEC;
        /* fold what the core emitted, and track offers, held and owed */
        for (size_t i = before; i < f->log.n; i++) {
            const cc_event *e = &f->log.v[i];
            report_add(live, e, segs(e));
        }
        nowed = nheld = noffers = 0;
        uint32_t ids[64];
        for (uint32_t a = 1; a <= 3; a++) {
            size_t n = cc_agent_convs(f->c, a, ids, 64);
            for (size_t k = 0; k < n && k < 64; k++) {
                cc_conv_view v;
                if (cc_wrapup_due(f->c, a, ids[k]) && nowed < 64)
                    owed[nowed++] = (pending){ids[k], a};
                if (cc_conv_get(f->c, ids[k], &v) != 0)
                    continue;
                if (v.offered_to == a && noffers < 64) {
                    offers[noffers][0] = ids[k];
                    offers[noffers++][1] = a;
                }
                if ((v.owner == a || v.guest == a) && v.state == CC_CONV_ASSIGNED && nheld < 64)
                    held[nheld++] = (pending){ids[k], a};
            }
        }
        if (!nheld)
            held[0] = (pending){0, 0};
    }
}

static int load_cb(void *arg, const cc_event *e)
{
    report_add(arg, e, segs(e));
    return 0;
}

/* The reports' lean read: the segments the store kept, never the text. */
static int lean_cb(void *arg, const cc_event *e, int segments)
{
    assert_int_equal(e->text.n, 0);
    report_add(arg, e, (uint32_t)segments);
    return 0;
}

static void assert_same(const report *a, const report *b)
{
    const report_row *x, *y;
    size_t n = report_rows(a, &x);
    assert_int_equal(report_rows(b, &y), n);
    assert_memory_equal(x, y, n * sizeof *x);
    const report_count *cx, *cy;
    n = report_counts(a, &cx);
    assert_int_equal(report_counts(b, &cy), n);
    assert_memory_equal(cx, cy, n * sizeof *cx);
    const report_span *sx, *sy;
    n = report_spans(a, &sx);
    assert_int_equal(report_spans(b, &sy), n);
    for (size_t i = 0; i < n; i++) { /* field by field: the struct has padding */
        assert_int_equal(sx[i].agent, sy[i].agent);
        assert_int_equal(sx[i].state, sy[i].state);
        assert_int_equal(sx[i].reason, sy[i].reason);
        assert_int_equal(sx[i].start, sy[i].start);
        assert_int_equal(sx[i].end, sy[i].end);
    }
}

/* The 15-minute rows of each (dimension, id) add up to the day's row. */
static void assert_adds_up(const report *q, const report *d)
{
    const report_row *x, *y;
    size_t nq = report_rows(q, &x), nd = report_rows(d, &y);
    for (size_t i = 0; i < nd; i++) {
        report_row sum = {0};
        size_t seen = 0;
        for (size_t k = 0; k < nq; k++) {
            if (x[k].dim != y[i].dim || x[k].id != y[i].id || x[k].start < y[i].start ||
                x[k].end > y[i].end)
                continue;
            seen++;
            uint64_t *s = &sum.offered;
            const uint64_t *v = &x[k].offered;
            for (size_t j = 0; j < 10; j++) /* offered .. sl_base */
                s[j] += v[j];
            sum.accept.n += x[k].accept.n;
            sum.accept.sum_ms += x[k].accept.sum_ms;
            sum.handle.n += x[k].handle.n;
            sum.handle.sum_ms += x[k].handle.sum_ms;
            sum.msgs_out += x[k].msgs_out;
            sum.segments += x[k].segments;
            for (int st = 0; st < 4; st++)
                sum.state_ms[st] += x[k].state_ms[st];
            sum.busy_ms += x[k].busy_ms;
        }
        assert_true(seen > 0);
        assert_memory_equal(&sum.offered, &y[i].offered, 10 * sizeof(uint64_t));
        assert_int_equal(sum.accept.n, y[i].accept.n);
        assert_int_equal(sum.accept.sum_ms, y[i].accept.sum_ms);
        assert_int_equal(sum.handle.sum_ms, y[i].handle.sum_ms);
        assert_int_equal(sum.msgs_out, y[i].msgs_out);
        assert_int_equal(sum.segments, y[i].segments);
        assert_memory_equal(sum.state_ms, y[i].state_ms, sizeof sum.state_ms);
        assert_int_equal(sum.busy_ms, y[i].busy_ms);
        /* an agent is in one state at a time */
        if (y[i].dim == REPORT_AGENT)
            assert_true(y[i].state_ms[1] + y[i].state_ms[2] + y[i].state_ms[3] <=
                        y[i].end - y[i].start);
        /* every leg ends at most once */
        assert_true(y[i].accepted + y[i].abandoned + y[i].expired <= y[i].offered ||
                    y[i].dim >= REPORT_AGENT);
        assert_true(y[i].sl_met <= y[i].sl_base);
    }
}

static void test_property_live_equals_replayed(void **state)
{
    fx *f = *state;
    uint64_t seen[7] = {0}; /* accepted, abandoned, expired, transferred,
                               conferenced, handle times, segments beyond
                               one a reply: the runs are not vacuous */
    char dir[] = "/tmp/textdesk-report-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[64];
    snprintf(path, sizeof path, "%s/t.db", dir);
    for (uint64_t seed = 1; seed <= 12; seed++) {
        rng g = {0x9E3779B97F4A7C15ULL * seed};
        int64_t day0 = utc(2026, 10, 24, 22, 0) + (int64_t)seed * 3 * 86400000LL;
        if (f->now < day0)
            f->now = day0;
        size_t first = f->log.n;
        report_opts o = opts_tz(seed % 2 ? REPORT_HOUR : REPORT_15MIN, day0, day0 + 86400000LL);
        report *live = report_new(&o);
        for (size_t i = 0; i < first; i++)
            report_add(live, &f->log.v[i], segs(&f->log.v[i]));
        random_day(f, &g, live);
        report_finish(live, f->now);

        char err[128];
        store *st = store_open(path, err, sizeof err);
        assert_non_null(st);
        assert_int_equal(store_begin(st), 0);
        uint64_t last = 0;
        assert_int_equal(store_last_seq(st, &last), 0);
        for (size_t i = 0; i < f->log.n; i++)
            if (f->log.v[i].seq > last)
                assert_int_equal(store_event_append(st, &f->log.v[i]), 0);
        assert_int_equal(store_commit(st), 0);
        report *replayed = report_new(&o);
        assert_int_equal(store_events_load(st, load_cb, replayed), 0);
        report_finish(replayed, f->now);
        /* the lean read the reports use gives the same figures */
        report *lean = report_new(&o);
        assert_int_equal(store_events_report(st, lean_cb, lean), 0);
        report_finish(lean, f->now);
        /* and so does the fold a chunk per loop turn (api_report.c), with
         * its midnight snapshots and without, in chunks of a few events */
        api_snaps *snaps = api_snaps_new();
        for (int k = 0; k < 3; k++) {
            api_fold *x = api_fold_begin(st, k == 2 ? NULL : snaps, &o);
            int rc, turns = 0;
            while ((rc = api_fold_step(x, 1 + seed * 7 % 40)) == 0)
                turns++;
            assert_int_equal(rc, 1);
            assert_true(turns > 10);
            report *chunked = api_fold_end(x, f->now);
            assert_non_null(chunked);
            assert_same(live, chunked);
            report_free(chunked);
        }
        assert_true(api_snaps_count(snaps) > 0);
        api_snaps_free(snaps);
        store_close(st);
        assert_same(live, replayed);
        assert_same(live, lean);
        report_free(lean);

        report_opts od = o;
        od.step = REPORT_DAY;
        report *day = fold(f, &od, f->now);
        assert_adds_up(live, day);
        const report_row *v;
        size_t n = report_rows(day, &v);
        for (size_t i = 0; i < n; i++)
            if (v[i].dim == REPORT_TOTAL) {
                seen[0] += v[i].accepted;
                seen[1] += v[i].abandoned;
                seen[2] += v[i].expired;
                seen[3] += v[i].transferred;
                seen[4] += v[i].conferenced;
                seen[5] += v[i].handle.n;
                seen[6] += v[i].segments - v[i].msgs_out;
            }
        report_free(day);
        report_free(live);
        report_free(replayed);
    }
    print_message("accepted %llu abandoned %llu transferred %llu conferenced %llu handled %llu\n",
                  (unsigned long long)seen[0], (unsigned long long)seen[1],
                  (unsigned long long)seen[3], (unsigned long long)seen[4],
                  (unsigned long long)seen[5]);
    assert_true(seen[0] > 50 && seen[3] > 5 && seen[4] > 0 && seen[5] > 50 && seen[6] > 20);
    unlink(path);
    char p2[80];
    snprintf(p2, sizeof p2, "%s-wal", path);
    unlink(p2);
    snprintf(p2, sizeof p2, "%s-shm", path);
    unlink(p2);
    rmdir(dir);
}

/* ---- snapshots: a day folded from a snapshot at an earlier midnight ---- */

/* The figures of 'o' folded from a snapshot of the fold taken before the
 * first event at or after 'snap_at' (<= o->from), reading on only until
 * report_done: what api_report.c does with its midnight snapshots. */
static report *fold_from_snapshot(const fx *f, const report_opts *o, int64_t snap_at,
                                  int64_t now, size_t *read)
{
    report_opts none = {0}; /* a state-only fold: no range, no figures */
    report *state = report_new(&none);
    size_t i = 0;
    while (i < f->log.n && f->log.v[i].at < snap_at)
        report_add(state, &f->log.v[i], segs(&f->log.v[i])), i++;
    report *r = report_resume(o, state);
    report_free(state);
    size_t start = i;
    for (; i < f->log.n && !report_done(r, f->log.v[i].at); i++)
        report_add(r, &f->log.v[i], segs(&f->log.v[i]));
    *read = i - start;
    report_finish(r, now);
    return r;
}

static void test_snapshot_equals_full_replay(void **state)
{
    fx *f = *state;
    /* three evenings into nights around the autumn DST change in
     * Stockholm (2026-10-25 has 25 hours): traffic across each midnight */
    int64_t mid[4] = {utc(2026, 10, 24, 22, 0), utc(2026, 10, 25, 23, 0),
                      utc(2026, 10, 26, 23, 0), utc(2026, 10, 27, 23, 0)};
    for (int d = 0; d < 3; d++) {
        rng g = {0xA5A5A5A5ULL * (uint64_t)(d + 7)};
        if (f->now < mid[d] - 2 * HOUR)
            f->now = mid[d] - 2 * HOUR;
        report_opts none = {0};
        report *sink = report_new(&none);
        random_day(f, &g, sink);
        report_free(sink);
    }
    int64_t now = f->now + HOUR;
    size_t offered = 0; /* the days are not empty */
    for (int d = 0; d < 3; d++) {
        int64_t s, e;
        report_interval(&(report_opts){.step = REPORT_DAY, .tz = opts_tz(REPORT_DAY, 0, 1).tz},
                        mid[d] + 1, &s, &e);
        assert_int_equal(s, mid[d]);
        assert_int_equal(e, mid[d + 1]); /* 25 hours on the DST day */
        for (int step = REPORT_15MIN; step <= REPORT_DAY; step++) {
            report_opts o = opts_tz(step, mid[d], mid[d + 1]);
            report *full = fold(f, &o, now);
            size_t n_at = 0, n_before = 0;
            report *at = fold_from_snapshot(f, &o, mid[d], now, &n_at);
            assert_same(full, at);
            /* an earlier snapshot (the midnight before) gives the same */
            report *before = fold_from_snapshot(f, &o, mid[d] - 86400000LL, now, &n_before);
            assert_same(full, before);
            /* and the fold read less than the log: it stopped once the day
             * was over and its queue legs had ended */
            assert_true(n_at < f->log.n);
            const report_row *v;
            size_t n = report_rows(full, &v);
            assert_true(n > 0);
            for (size_t i = 0; i < n; i++)
                if (v[i].dim == REPORT_TOTAL)
                    offered += v[i].offered;
            report_free(full);
            report_free(at);
            report_free(before);
        }
    }
    assert_true(offered > 0);
    /* a range that is not over yet reads to the end */
    report_opts o = opts_tz(REPORT_HOUR, mid[2], mid[3]);
    size_t n_read = 0;
    report *open = fold_from_snapshot(f, &o, mid[2], now, &n_read);
    report *full = fold(f, &o, now);
    assert_same(full, open);
    report_free(open);
    report_free(full);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        FX_TEST(test_one_conversation),
        FX_TEST(test_service_level_and_p90),
        FX_TEST(test_rona_transfer_conference_abandon),
        FX_TEST(test_day_across_midnight),
        FX_TEST(test_dst_days),
        cmocka_unit_test(test_interval_edges),
        FX_TEST(test_csat_scores),
        FX_TEST(test_outside_range_counts_nothing),
        FX_TEST(test_property_live_equals_replayed),
        FX_TEST(test_snapshot_equals_full_replay),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
