/*
 * test_flow: time zones (tz) and entry-point flows in the core: welcome,
 * business hours with holidays, out-of-hours reply with queue or close, the
 * maximum queue wait with overflow, and what may not be configured. The
 * clock is injected (fx->now), so every instant is exact.
 */
#include "core/cc_fixture.h"
#include "core/tz.h"

#define SE "CET-1CEST,M3.5.0,M10.5.0/3"

/* Milliseconds since the epoch of a UTC date and time. */
static int64_t utc_ms(int y, int mo, int d, int h, int mi, int s)
{
    return (tz_days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + s) * 1000;
}

static tz_rule rule(const char *s)
{
    tz_rule r;
    if (tz_parse(s, strlen(s), &r) != 0)
        fail_msg("rule '%s' refused", s);
    return r;
}

/* ---- tz ----------------------------------------------------------------- */

static void test_tz_daylight_saving_switches_to_the_second(void **state)
{
    (void)state;
    tz_rule se = rule(SE);
    /* Europe/Stockholm: summer time from 2026-03-29 01:00 UTC to 2026-10-25 01:00 UTC */
    assert_int_equal(tz_offset(&se, utc_ms(2026, 3, 29, 0, 59, 59) / 1000), 3600);
    assert_int_equal(tz_offset(&se, utc_ms(2026, 3, 29, 1, 0, 0) / 1000), 7200);
    assert_int_equal(tz_offset(&se, utc_ms(2026, 10, 25, 0, 59, 59) / 1000), 7200);
    assert_int_equal(tz_offset(&se, utc_ms(2026, 10, 25, 1, 0, 0) / 1000), 3600);
    /* America/New_York: second Sunday of March, first of November, 02:00 local */
    tz_rule ny = rule("EST5EDT,M3.2.0,M11.1.0");
    assert_int_equal(tz_offset(&ny, utc_ms(2026, 3, 8, 6, 59, 59) / 1000), -5 * 3600);
    assert_int_equal(tz_offset(&ny, utc_ms(2026, 3, 8, 7, 0, 0) / 1000), -4 * 3600);
    assert_int_equal(tz_offset(&ny, utc_ms(2026, 11, 1, 5, 59, 59) / 1000), -4 * 3600);
    assert_int_equal(tz_offset(&ny, utc_ms(2026, 11, 1, 6, 0, 0) / 1000), -5 * 3600);
    /* Australia/Sydney: summer across the new year; ends first Sunday of
     * April 03:00 local (2026-04-04 16:00 UTC) */
    tz_rule syd = rule("AEST-10AEDT,M10.1.0,M4.1.0/3");
    assert_int_equal(tz_offset(&syd, utc_ms(2026, 1, 15, 12, 0, 0) / 1000), 11 * 3600);
    assert_int_equal(tz_offset(&syd, utc_ms(2026, 4, 4, 15, 59, 59) / 1000), 11 * 3600);
    assert_int_equal(tz_offset(&syd, utc_ms(2026, 4, 4, 16, 0, 0) / 1000), 10 * 3600);
    assert_int_equal(tz_offset(&syd, utc_ms(2026, 7, 1, 0, 0, 0) / 1000), 10 * 3600);
    /* no daylight saving, half hours, quoted names */
    tz_rule in = rule("IST-5:30");
    assert_int_equal(tz_offset(&in, 0), 5 * 3600 + 1800);
    tz_rule q = rule("<+03>-3");
    assert_int_equal(tz_offset(&q, 0), 3 * 3600);
    tz_rule j = rule("XST3XDT,J60/0,J300"); /* Julian days never count Feb 29 */
    assert_int_equal(tz_offset(&j, utc_ms(2028, 2, 29, 12, 0, 0) / 1000), -3 * 3600);
    assert_int_equal(tz_offset(&j, utc_ms(2028, 3, 1, 12, 0, 0) / 1000), -2 * 3600);
}

static void test_tz_local_time_and_bad_rules(void **state)
{
    (void)state;
    tz_rule se = rule(SE);
    tz_local t = tz_localtime(&se, utc_ms(2026, 11, 24, 20, 5, 0) / 1000);
    assert_int_equal(t.year, 2026);
    assert_int_equal(t.month, 11);
    assert_int_equal(t.day, 24);
    assert_int_equal(t.wday, 1); /* Tuesday */
    assert_int_equal(t.minute, 21 * 60 + 5);
    t = tz_localtime(&se, utc_ms(2026, 12, 31, 23, 30, 0) / 1000); /* new year locally */
    assert_int_equal(t.year, 2027);
    assert_int_equal(t.month, 1);
    assert_int_equal(t.day, 1);
    assert_int_equal(t.wday, 4); /* Friday */
    assert_int_equal(t.minute, 30);

    static const char *const bad[] = {
        "",         "CE-1",       "CET",        "CET-1CEST",  "CET-25",
        "CET-1CEST,M3.5.0",       "CET-1CEST,M13.5.0,M10.5.0",  "CET-1CEST,M3.6.0,M10.5.0",
        "CET-1CEST,M3.5.7,M10.5.0", "CET-1CEST,J0,J10",          "CET-1CEST,M3.5.0,M10.5.0/168",
        "<+3>-3",   "CET-1 ",     "Europe/Stockholm",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        tz_rule r = {.std_off = 42};
        if (tz_parse(bad[i], strlen(bad[i]), &r) == 0)
            fail_msg("rule '%s' accepted", bad[i]);
        assert_int_equal(r.std_off, 42); /* unchanged */
    }
}

/* ---- flows -------------------------------------------------------------- */

/* Weekdays 08:00-17:00 in Stockholm, 2026-12-24 a holiday. */
static cc_ep_flow office(void)
{
    cc_ep_flow f = {.hours = 1,
                    .tz_name = STR_LIT("Europe/Stockholm"),
                    .tz_rule = STR_LIT(SE),
                    .holidays = {20261224},
                    .n_holidays = 1,
                    .welcome = STR_LIT("Hej! Vi svarar snart."),
                    .closed_text = STR_LIT("Vi har stängt, öppet 8-17.")};
    for (int d = 0; d < 5; d++) {
        f.week[d][0][0] = 8 * 60;
        f.week[d][0][1] = 17 * 60;
    }
    return f;
}

static void put_flow(fx *f, const cc_ep_flow *flow)
{
    OK(f, .type = CC_CMD_EP_PUT, .ep = 1, .number = STR_LIT(EP1), .queue = 1, .flow = flow);
}

/* The automatic replies of the last call, in order, joined by '|'. */
static void auto_replies(const fx *f, char *out, size_t cap)
{
    out[0] = '\0';
    for (size_t i = 0; i < f->ev.n; i++) {
        const cc_event *e = &f->ev.v[i];
        if (e->type != CC_EV_MSG_OUT)
            continue;
        assert_int_equal(e->agent, 0);
        size_t n = strlen(out);
        snprintf(out + n, cap - n, "%s%.*s", n ? "|" : "", (int)e->text.n, e->text.p);
    }
}

static void test_flow_business_hours_at_the_edges(void **state)
{
    (void)state;
    cc_ep_flow f = office();
    /* Tuesday 2026-11-24 (UTC+1): 08:00 local = 07:00 UTC */
    assert_false(cc_flow_open(&f, utc_ms(2026, 11, 24, 6, 59, 59)));
    assert_true(cc_flow_open(&f, utc_ms(2026, 11, 24, 7, 0, 0)));
    assert_true(cc_flow_open(&f, utc_ms(2026, 11, 24, 15, 59, 59)));
    assert_false(cc_flow_open(&f, utc_ms(2026, 11, 24, 16, 0, 0)));
    /* summer time: 08:00 local = 06:00 UTC */
    assert_true(cc_flow_open(&f, utc_ms(2026, 6, 10, 6, 0, 0)));
    assert_false(cc_flow_open(&f, utc_ms(2026, 6, 10, 5, 59, 59)));
    /* Saturday, and the holiday (a Thursday) */
    assert_false(cc_flow_open(&f, utc_ms(2026, 11, 28, 10, 0, 0)));
    assert_false(cc_flow_open(&f, utc_ms(2026, 12, 24, 10, 0, 0)));
    assert_true(cc_flow_open(&f, utc_ms(2026, 12, 23, 10, 0, 0)));
    /* two spans, lunch closed; a span to midnight */
    f.week[1][0][1] = 12 * 60;
    f.week[1][1][0] = 13 * 60;
    f.week[1][1][1] = 1440;
    assert_false(cc_flow_open(&f, utc_ms(2026, 11, 24, 11, 30, 0)));
    assert_true(cc_flow_open(&f, utc_ms(2026, 11, 24, 22, 59, 59)));
    assert_false(cc_flow_open(&f, utc_ms(2026, 11, 24, 23, 0, 0))); /* Wed 00:00 */
    /* no hours: always open */
    cc_ep_flow none = {0};
    assert_true(cc_flow_open(&none, 0));
    assert_true(cc_flow_open(NULL, 0));
}

static void test_flow_welcome_in_hours_then_queued(void **state)
{
    fx *f = *state;
    cc_ep_flow flow = office();
    put_flow(f, &flow);
    f->now = utc_ms(2026, 11, 24, 9, 0, 0);
    uint32_t v = fx_sms(f, CUST, EP1, "Hej, min faktura?", "w1");
    char r[512];
    auto_replies(f, r, sizeof r);
    assert_string_equal(r, "Hej! Vi svarar snart.");
    /* the reply follows the customer's message and precedes the queueing */
    assert_true(fx_find(f, CC_EV_MSG_OUT, v)->seq > fx_find(f, CC_EV_MSG_IN, v)->seq);
    assert_true(fx_find(f, CC_EV_MSG_OUT, v)->seq < fx_find(f, CC_EV_QUEUED, v)->seq);
    assert_int_equal(fx_find(f, CC_EV_MSG_OUT, v)->msg_seq, 2);
    assert_int_equal(fx_conv(f, v).state, CC_CONV_QUEUED);
    assert_int_equal(fx_conv(f, v).msgs_out, 1);
    /* a second message in the same conversation gets no welcome */
    fx_sms(f, CUST, EP1, "Hallå?", "w2");
    assert_int_equal(fx_count(f, CC_EV_MSG_OUT), 0);
    /* nor an outbound conversation */
    fx_available(f, 1);
    OK(f, .type = CC_CMD_OUTBOUND, .agent = 1, .ep = 1, .number = STR_LIT("+46705550000"));
    assert_int_equal(fx_count(f, CC_EV_MSG_OUT), 0);
}

static void test_flow_out_of_hours_queues_or_closes(void **state)
{
    fx *f = *state;
    cc_ep_flow flow = office();
    flow.max_wait_ms = 60000; /* no maximum wait out of hours */
    flow.overflow_queue = 2;
    put_flow(f, &flow);
    f->now = utc_ms(2026, 11, 24, 19, 0, 0); /* 20:00 local */
    uint32_t v = fx_sms(f, CUST, EP1, "Kväll", "o1");
    char r[512];
    auto_replies(f, r, sizeof r);
    assert_string_equal(r, "Vi har stängt, öppet 8-17.");
    assert_int_equal(fx_find(f, CC_EV_QUEUED, v)->deadline, 0);
    assert_int_equal(fx_find(f, CC_EV_QUEUED, v)->code, CC_WHY_OUT_OF_HOURS);
    fx_tick(f, 3600 * 1000);
    assert_int_equal(fx_count(f, CC_EV_OVERFLOWED), 0);
    assert_int_equal(fx_conv(f, v).queue, 1);

    /* closing: the conversation is kept in the log but not left open */
    flow.closed_action = CC_CLOSED_CLOSE;
    put_flow(f, &flow);
    uint32_t w = fx_sms(f, "+46709998877", EP1, "Hej?", "o2");
    auto_replies(f, r, sizeof r);
    assert_string_equal(r, "Vi har stängt, öppet 8-17.");
    const cc_event *cl = fx_find(f, CC_EV_CLOSED, w);
    assert_non_null(cl);
    assert_int_equal(cl->code, CC_WHY_OUT_OF_HOURS);
    assert_null(fx_find(f, CC_EV_QUEUED, w));
    cc_conv_view cv;
    assert_int_equal(cc_conv_get(f->c, w, &cv), -CC_E_NO_CONVERSATION);
    /* the next message opens a new conversation (and gets the reply again) */
    uint32_t w2 = fx_sms(f, "+46709998877", EP1, "Hallå?", "o3");
    assert_int_not_equal(w2, w);
    assert_non_null(fx_find(f, CC_EV_CLOSED, w2));
    /* on a holiday at noon: closed too */
    f->now = utc_ms(2026, 12, 24, 11, 0, 0);
    uint32_t h = fx_sms(f, "+46701112233", EP1, "God jul", "o4");
    assert_non_null(fx_find(f, CC_EV_CLOSED, h));
}

static void test_flow_no_automatic_reply_to_opted_out_customers(void **state)
{
    fx *f = *state;
    cc_ep_flow flow = office();
    put_flow(f, &flow);
    f->now = utc_ms(2026, 11, 24, 9, 0, 0);
    /* STOP as the first message: no welcome */
    OK(f, .type = CC_CMD_SMS_IN, .number = STR_LIT(CUST), .ep_number = STR_LIT(EP1),
       .text = STR_LIT("STOP"), .msg_id = STR_LIT("s1"), .keyword = CC_KW_STOP);
    assert_int_equal(fx_count(f, CC_EV_MSG_OUT), 0);
    assert_int_equal(fx_count(f, CC_EV_OPTED_OUT), 1);
    uint32_t v = fx_find(f, CC_EV_MSG_IN, 0)->conv;
    fx_available(f, 1);
    OK(f, .type = CC_CMD_ACCEPT, .agent = 1, .conv = v);
    OK(f, .type = CC_CMD_END, .agent = 1, .conv = v);
    OK(f, .type = CC_CMD_WRAPUP, .agent = 1, .conv = v, .reason = 1);
    OK(f, .type = CC_CMD_SET_STATE, .agent = 1, .state = CC_AGENT_IDLE);
    /* still opted out: a new conversation gets no welcome either */
    fx_sms(f, CUST, EP1, "En fråga", "s2");
    assert_int_equal(fx_count(f, CC_EV_MSG_OUT), 0);
    /* START opts back in, and the welcome goes out */
    OK(f, .type = CC_CMD_SMS_IN, .number = STR_LIT("+46700000099"), .ep_number = STR_LIT(EP1),
       .text = STR_LIT("START"), .msg_id = STR_LIT("s3"), .keyword = CC_KW_START);
    assert_int_equal(fx_count(f, CC_EV_MSG_OUT), 1);
}

static void test_flow_max_wait_overflows_once(void **state)
{
    fx *f = *state;
    cc_ep_flow flow = {.max_wait_ms = 120000,
                       .overflow_queue = 2,
                       .overflow_text = STR_LIT("Vi kopplar dig vidare.")};
    put_flow(f, &flow);
    uint32_t v = fx_sms(f, CUST, EP1, "Hej", "x1");
    int64_t t0 = f->now;
    assert_int_equal(fx_find(f, CC_EV_QUEUED, v)->deadline, t0 + 120000);
    assert_int_equal(cc_next_deadline(f->c), t0 + 120000);
    fx_tick(f, 119999);
    assert_int_equal(fx_count(f, CC_EV_OVERFLOWED), 0);
    fx_tick(f, 1);
    const cc_event *o = fx_find(f, CC_EV_OVERFLOWED, v);
    assert_non_null(o);
    assert_int_equal(o->queue, 2);
    assert_int_equal(o->code, CC_WHY_OVERFLOW);
    char r[512];
    auto_replies(f, r, sizeof r);
    assert_string_equal(r, "Vi kopplar dig vidare.");
    const cc_event *q = fx_find(f, CC_EV_QUEUED, v);
    assert_int_equal(q->code, CC_WHY_OVERFLOW);
    assert_int_equal(q->key, t0); /* keeps its place by the time it first queued */
    assert_int_equal(fx_conv(f, v).queue, 2);
    /* once only */
    fx_tick(f, 3600 * 1000);
    assert_int_equal(fx_count(f, CC_EV_OVERFLOWED), 0);
    /* an agent of the overflow queue gets it */
    fx_available(f, 3);
    assert_int_equal(fx_conv(f, v).offered_to, 3);
}

static void test_flow_max_wait_counts_offers_and_stops_at_accept(void **state)
{
    fx *f = *state;
    cc_ep_flow flow = {.max_wait_ms = 20000, .overflow_text = STR_LIT("Tack för ditt tålamod.")};
    put_flow(f, &flow);
    fx_available(f, 1);
    uint32_t v = fx_sms(f, CUST, EP1, "Hej", "y1");
    assert_int_equal(fx_conv(f, v).offered_to, 1);
    /* the offer is pending at the maximum (RONA 30 s): no overflow yet */
    fx_tick(f, 25000);
    assert_int_equal(fx_count(f, CC_EV_OVERFLOWED), 0);
    /* back in the queue after the RONA: the overflow reply goes out, it stays */
    fx_tick(f, 5000);
    assert_non_null(fx_find(f, CC_EV_OFFER_WITHDRAWN, v));
    const cc_event *o = fx_find(f, CC_EV_OVERFLOWED, v);
    assert_non_null(o);
    assert_int_equal(o->queue, 0);
    assert_int_equal(fx_count(f, CC_EV_MSG_OUT), 1);
    assert_int_equal(fx_conv(f, v).queue, 1);

    /* accepted before the maximum: never overflows */
    fx_available(f, 2);
    assert_int_equal(fx_conv(f, v).offered_to, 2);
    OK(f, .type = CC_CMD_ACCEPT, .agent = 2, .conv = v);
    uint32_t w = fx_sms(f, "+46705554433", EP1, "Hej", "y2");
    assert_int_equal(fx_conv(f, w).offered_to, 2);
    OK(f, .type = CC_CMD_ACCEPT, .agent = 2, .conv = w);
    fx_tick(f, 60000);
    assert_int_equal(fx_count(f, CC_EV_OVERFLOWED), 0);
    /* the flow removed while waiting: nothing happens at the old deadline */
    put_flow(f, NULL);
    uint32_t z = fx_sms(f, "+46705551122", EP1, "Hej", "y3");
    (void)z;
    fx_tick(f, 60000);
    assert_int_equal(fx_count(f, CC_EV_OVERFLOWED), 0);
}

static void test_flow_bad_configuration_is_refused(void **state)
{
    fx *f = *state;
    cc_ep_flow ok = office();
    const char *what = NULL;
    assert_int_equal(cc_flow_check(&ok, &what), 0);

    typedef struct bad_case {
        const char *name;
        cc_ep_flow flow;
        int err;
    } bad_case;
    bad_case bad[9];
    size_t n = 0;
    bad[n] = (bad_case){"empty span", office(), CC_E_INVALID};
    bad[n].flow.week[2][0][1] = bad[n].flow.week[2][0][0];
    n++;
    bad[n] = (bad_case){"span past midnight", office(), CC_E_INVALID};
    bad[n].flow.week[2][0][1] = 1441;
    n++;
    bad[n] = (bad_case){"bad rule", office(), CC_E_INVALID};
    bad[n].flow.tz_rule = STR_LIT("Europe/Stockholm");
    n++;
    bad[n] = (bad_case){"impossible holiday", office(), CC_E_INVALID};
    bad[n].flow.holidays[0] = 20260230;
    n++;
    bad[n] = (bad_case){"wait without action", {.max_wait_ms = 1000}, CC_E_INVALID};
    n++;
    bad[n] = (bad_case){"overflow to its own queue",
                              {.max_wait_ms = 1000, .overflow_queue = 1}, CC_E_INVALID};
    n++;
    bad[n] = (bad_case){"overflow to no queue",
                              {.max_wait_ms = 1000, .overflow_queue = 9}, CC_E_NO_QUEUE};
    n++;
    bad[n] = (bad_case){"closed reply without hours",
                              {.closed_text = STR_LIT("Stängt")}, CC_E_INVALID};
    n++;
    bad[n] = (bad_case){"gateway id too long",
                              {.gateway = STR_LIT("a-gateway-id-of-thirty-three-byte")},
                              CC_E_INVALID};
    n++;
    for (size_t i = 0; i < n; i++) {
        int r = DO(f, .type = CC_CMD_EP_PUT, .ep = 1, .number = STR_LIT(EP1), .queue = 1,
                   .flow = &bad[i].flow);
        if (r != -bad[i].err)
            fail_msg("%s: got %s", bad[i].name, cc_err_code(r));
    }
    cc_ep_flow now;
    assert_int_equal(cc_ep_flow_get(f->c, 1, &now), 0);
    assert_int_equal(now.hours, 0); /* nothing was stored */

    /* a queue that is an overflow target cannot be removed */
    cc_ep_flow of = {.max_wait_ms = 1000, .overflow_queue = 2};
    OK(f, .type = CC_CMD_EP_PUT, .ep = 1, .number = STR_LIT(EP1), .queue = 1, .flow = &of);
    OK(f, .type = CC_CMD_EP_REMOVE, .ep = 2);
    ERR(f, CC_E_IN_USE, .type = CC_CMD_QUEUE_REMOVE, .queue = 2);
    assert_int_equal(cc_ep_flow_get(f->c, 1, &now), 0);
    assert_int_equal(now.overflow_queue, 2);
}

/* The gateway of an entry point is kept with it: renumbering keeps it
 * when the command names it, and replay (the teardown) rebuilds it. */
static void test_flow_gateway_is_part_of_the_entry_point(void **state)
{
    fx *f = *state;
    cc_ep_flow g = {.gateway = STR_LIT("kannel-2")};
    OK(f, .type = CC_CMD_EP_PUT, .ep = 3, .number = STR_LIT("+46700000003"), .queue = 1,
       .flow = &g);
    assert_int_equal(cc_ep_by_number(f->c, STR_LIT("+46700000003")), 3);
    assert_int_equal(cc_ep_by_number(f->c, STR_LIT("+46700000004")), 0);
    const cc_event *e = fx_find(f, CC_EV_EP_PUT, 0);
    assert_non_null(e);
    assert_non_null(e->flow);
    assert_true(str_eq(e->flow->gateway, STR_LIT("kannel-2")));
    OK(f, .type = CC_CMD_EP_PUT, .ep = 3, .number = STR_LIT("+46700000004"), .queue = 1,
       .flow = &g);
    cc_ep_flow now;
    assert_int_equal(cc_ep_flow_get(f->c, 3, &now), 0);
    assert_true(str_eq(now.gateway, STR_LIT("kannel-2")));
    assert_int_equal(cc_ep_by_number(f->c, STR_LIT("+46700000004")), 3);
    assert_int_equal(cc_ep_by_number(f->c, STR_LIT("+46700000003")), 0);
    OK(f, .type = CC_CMD_EP_PUT, .ep = 3, .number = STR_LIT("+46700000004"), .queue = 1);
    assert_int_equal(cc_ep_flow_get(f->c, 3, &now), 0);
    assert_int_equal(now.gateway.n, 0); /* a put without it: the default */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tz_daylight_saving_switches_to_the_second),
        cmocka_unit_test(test_tz_local_time_and_bad_rules),
        cmocka_unit_test(test_flow_business_hours_at_the_edges),
        FX_TEST(test_flow_welcome_in_hours_then_queued),
        FX_TEST(test_flow_out_of_hours_queues_or_closes),
        FX_TEST(test_flow_no_automatic_reply_to_opted_out_customers),
        FX_TEST(test_flow_max_wait_overflows_once),
        FX_TEST(test_flow_max_wait_counts_offers_and_stops_at_accept),
        FX_TEST(test_flow_bad_configuration_is_refused),
        FX_TEST(test_flow_gateway_is_part_of_the_entry_point),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
