/*
 * Customer satisfaction surveys in the core: asked when a conversation an
 * agent ended closes after its wrap-ups, answered by the customer's next
 * SMS within the window ("4", "4 snabb hjälp"), which opens nothing; a
 * keyword, other text or a late answer takes the usual path; opted-out
 * customers are not asked. Every test ends with the replay comparison.
 */
#include "cc_fixture.h"

#define QUESTION "Hur nöjd är du? Svara 1-5."

static void put_survey(fx *f, int64_t window_ms)
{
    cc_ep_flow flow = {.survey = 1, .survey_text = STR_LIT(QUESTION),
                       .survey_window_ms = window_ms};
    OK(f, .type = CC_CMD_EP_PUT, .ep = 1, .number = STR_LIT(EP1), .queue = 1, .flow = &flow);
}

/* A conversation of 'number' answered by Anna, ended and wrapped up. */
static uint32_t handled(fx *f, const char *number, const char *id)
{
    uint32_t v = fx_sms(f, number, EP1, "Hej", id);
    OK(f, .type = CC_CMD_ACCEPT, .agent = 1, .conv = v);
    OK(f, .type = CC_CMD_END, .agent = 1, .conv = v);
    OK(f, .type = CC_CMD_WRAPUP, .agent = 1, .conv = v, .reason = 1);
    return v;
}

static int sms(fx *f, const char *number, const char *text, const char *id, int keyword)
{
    return DO(f, .type = CC_CMD_SMS_IN, .number = str_c(number), .ep_number = STR_LIT(EP1),
              .text = str_c(text), .msg_id = str_c(id), .keyword = keyword);
}

static void test_survey_after_wrapup_and_answer(void **state)
{
    fx *f = *state;
    put_survey(f, 600000);
    fx_available(f, 1);
    uint32_t v = handled(f, CUST, "m1");
    /* asked, the question goes out like any reply, then closed */
    const cc_event *a = fx_find(f, CC_EV_CSAT_ASKED, v);
    assert_non_null(a);
    assert_int_equal(a->agent, 1);
    assert_int_equal(a->queue, 1);
    assert_int_equal(a->deadline, f->now + 600000);
    const cc_event *q = fx_find(f, CC_EV_MSG_OUT, v);
    assert_non_null(q);
    assert_int_equal(q->agent, 0);
    assert_memory_equal(q->text.p, QUESTION, strlen(QUESTION));
    assert_true(a < q && q < fx_find(f, CC_EV_CLOSED, v));
    uint32_t conv;
    int64_t until;
    assert_true(cc_survey_pending(f->c, STR_LIT(CUST), 1, &conv, &until));
    assert_int_equal(conv, v);
    /* the answer, with a comment: recorded, nothing opens */
    f->now += 60000;
    assert_int_equal(sms(f, CUST, "  4 - snabb hjälp!\n", "m2", CC_KW_NONE), 0);
    const cc_event *r = fx_find(f, CC_EV_CSAT_ANSWERED, 0);
    assert_non_null(r);
    assert_int_equal(r->conv, v);
    assert_int_equal(r->reason, 4);
    assert_int_equal(r->agent, 1);
    assert_int_equal(r->text.n, strlen("snabb hjälp!"));
    assert_memory_equal(r->text.p, "snabb hjälp!", r->text.n);
    assert_null(fx_find(f, CC_EV_CONV_OPENED, 0));
    assert_int_equal(cc_conv_count(f->c), 0);
    assert_false(cc_survey_pending(f->c, STR_LIT(CUST), 1, &conv, &until));
    /* the gateway's retry is a duplicate */
    assert_int_equal(sms(f, CUST, "4 - snabb hjälp!", "m2", CC_KW_NONE), CC_DUPLICATE);
    /* once answered, the next SMS is a new conversation */
    assert_int_equal(sms(f, CUST, "5", "m3", CC_KW_NONE), 0);
    assert_non_null(fx_find(f, CC_EV_CONV_OPENED, 0));
}

static void test_other_text_late_answer_and_stop_take_the_usual_path(void **state)
{
    fx *f = *state;
    put_survey(f, 60000);
    fx_available(f, 1);
    uint32_t v = handled(f, CUST, "m1");
    /* not a score ("10", "45 tack", "0", "6", text, nothing): asked
     * customers get a conversation as usual */
    static const char *const not_scores[] = {"10", "45 tack", "0", "6", "Hej igen", ""};
    for (size_t i = 0; i < sizeof not_scores / sizeof *not_scores; i++) {
        char num[32], id[32];
        snprintf(num, sizeof num, "+4670900000%zu", i);
        snprintf(id, sizeof id, "x%zu", i);
        handled(f, num, id);
        assert_non_null(fx_find(f, CC_EV_CSAT_ASKED, 0));
        snprintf(id, sizeof id, "y%zu", i);
        assert_int_equal(sms(f, num, not_scores[i], id, CC_KW_NONE), 0);
        assert_null(fx_find(f, CC_EV_CSAT_ANSWERED, 0));
        const cc_event *o = fx_find(f, CC_EV_CONV_OPENED, 0);
        assert_non_null(o);
        OK(f, .type = CC_CMD_ACCEPT, .agent = 1, .conv = o->conv);
        OK(f, .type = CC_CMD_END, .agent = 1, .conv = o->conv);
        OK(f, .type = CC_CMD_WRAPUP, .agent = 1, .conv = o->conv, .reason = 1);
    }
    uint32_t w = fx_sms(f, CUST, EP1, "Jag har en fråga till", "m2");
    assert_int_not_equal(w, v);
    OK(f, .type = CC_CMD_ACCEPT, .agent = 1, .conv = w);
    /* while a conversation is open, "3" is a message in it */
    assert_int_equal(sms(f, CUST, "3", "m3", CC_KW_NONE), 0);
    assert_null(fx_find(f, CC_EV_CSAT_ANSWERED, 0));
    assert_int_equal(fx_find(f, CC_EV_MSG_IN, 0)->conv, w);
    OK(f, .type = CC_CMD_END, .agent = 1, .conv = w);
    OK(f, .type = CC_CMD_WRAPUP, .agent = 1, .conv = w, .reason = 1);
    /* late: after the window a score opens a conversation */
    f->now += 60001;
    assert_int_equal(sms(f, CUST, "5", "m4", CC_KW_NONE), 0);
    assert_null(fx_find(f, CC_EV_CSAT_ANSWERED, 0));
    uint32_t late = fx_find(f, CC_EV_CONV_OPENED, 0)->conv;
    OK(f, .type = CC_CMD_ACCEPT, .agent = 1, .conv = late);
    OK(f, .type = CC_CMD_END, .agent = 1, .conv = late);
    OK(f, .type = CC_CMD_WRAPUP, .agent = 1, .conv = late, .reason = 1);
    assert_non_null(fx_find(f, CC_EV_CSAT_ASKED, late));
    /* STOP (a keyword, even "STOP 5") still opts out, and is no answer */
    assert_int_equal(sms(f, CUST, "STOP", "m5", CC_KW_STOP), 0);
    assert_null(fx_find(f, CC_EV_CSAT_ANSWERED, 0));
    assert_non_null(fx_find(f, CC_EV_OPTED_OUT, 0));
    assert_true(cc_opted_out(f->c, STR_LIT(CUST), 1));
    /* an opted-out customer is not asked */
    uint32_t x = fx_find(f, CC_EV_CONV_OPENED, 0)->conv;
    OK(f, .type = CC_CMD_ACCEPT, .agent = 1, .conv = x);
    OK(f, .type = CC_CMD_END, .agent = 1, .conv = x);
    OK(f, .type = CC_CMD_WRAPUP, .agent = 1, .conv = x, .reason = 1);
    assert_null(fx_find(f, CC_EV_CSAT_ASKED, 0));
    assert_null(fx_find(f, CC_EV_MSG_OUT, 0));
}

static void test_no_survey_without_an_agent_or_when_terminated(void **state)
{
    fx *f = *state;
    put_survey(f, 60000);
    /* closed because its entry point was removed: nobody ended it */
    uint32_t v = fx_sms(f, CUST, EP1, "Hej", "m1");
    OK(f, .type = CC_CMD_EP_REMOVE, .ep = 1);
    assert_non_null(fx_find(f, CC_EV_CLOSED, v));
    assert_null(fx_find(f, CC_EV_CSAT_ASKED, 0));
    /* a flow without a survey asks nothing */
    OK(f, .type = CC_CMD_EP_PUT, .ep = 1, .number = STR_LIT(EP1), .queue = 1);
    fx_available(f, 1);
    handled(f, CUST, "m2");
    assert_null(fx_find(f, CC_EV_CSAT_ASKED, 0));
    assert_int_equal(sms(f, CUST, "4", "m3", CC_KW_NONE), 0);
    assert_non_null(fx_find(f, CC_EV_CONV_OPENED, 0));
}

static void test_bad_survey_flows_are_refused(void **state)
{
    fx *f = *state;
    cc_ep_flow bad[] = {
        {.survey = 1, .survey_window_ms = 60000},                        /* no text */
        {.survey = 1, .survey_text = STR_LIT("1-5?"), .survey_window_ms = 999},
        {.survey = 1, .survey_text = STR_LIT("1-5?"), .survey_window_ms = 8LL * 86400000},
        {.survey = 0, .survey_text = STR_LIT("1-5?")},                   /* text, no survey */
        {.survey = 1, .survey_text = STR_LIT("bad \xff"), .survey_window_ms = 60000},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        ERR(f, CC_E_INVALID, .type = CC_CMD_EP_PUT, .ep = 1, .number = STR_LIT(EP1), .queue = 1,
            .flow = &bad[i]);
    /* a corrupt log: an answer nobody asked for */
    cc *r = cc_new();
    cc_event ev = {.type = CC_EV_CSAT_ANSWERED, .seq = 1, .conv = 3, .ep = 1,
                   .number = STR_LIT(CUST), .reason = 4};
    assert_int_equal(cc_replay(r, &ev), -CC_E_INVALID);
    cc_free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        FX_TEST(test_survey_after_wrapup_and_answer),
        FX_TEST(test_other_text_late_answer_and_stop_take_the_usual_path),
        FX_TEST(test_no_survey_without_an_agent_or_when_terminated),
        FX_TEST(test_bad_survey_flows_are_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
