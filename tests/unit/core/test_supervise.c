/*
 * A supervisor in a conversation (issue 15), in the core: internal notes
 * (whisper) by a supervisor and by agents in a conference, barge (the
 * supervisor joins and writes to the customer), take-over (the agent is
 * released with a note, the supervisor ends it), and every refusal. The
 * fixture's teardown replays each log into a fresh core and compares.
 */
#include "cc_fixture.h"

#define SUP "lena"

/* A conversation of CUST that Anna (agent 1) has accepted. */
static uint32_t accepted(fx *f)
{
    fx_available(f, 1);
    uint32_t v = fx_sms(f, CUST, EP1, "Hej", "m1");
    OK(f, .type = CC_CMD_ACCEPT, .agent = 1, .conv = v);
    return v;
}

static void test_whisper_by_supervisor_and_conference(void **state)
{
    fx *f = *state;
    uint32_t v = accepted(f);
    /* the supervisor's note: an event, never a message to the customer */
    OK(f, .type = CC_CMD_NOTE, .conv = v, .name = STR_LIT(SUP), .text = STR_LIT("Erbjud rabatt"));
    const cc_event *n = fx_find(f, CC_EV_NOTE, v);
    assert_non_null(n);
    assert_int_equal(f->ev.n, 1);
    assert_int_equal(n->agent, 0);
    assert_memory_equal(n->name.p, SUP, n->name.n);
    assert_memory_equal(n->text.p, "Erbjud rabatt", n->text.n);
    assert_true(cc_ev_is_note(CC_EV_NOTE));
    assert_int_equal(fx_conv(f, v).msgs_out, 0);
    /* an agent alone with the customer has nobody to whisper to */
    ERR(f, CC_E_NO_CONFERENCE, .type = CC_CMD_NOTE, .agent = 1, .conv = v, .text = STR_LIT("x"));
    /* in a conference: the owner and the guest may */
    fx_available(f, 2);
    OK(f, .type = CC_CMD_CONF_INVITE, .agent = 1, .conv = v, .target = 2);
    ERR(f, CC_E_NOT_YOURS, .type = CC_CMD_NOTE, .agent = 2, .conv = v, .text = STR_LIT("x"));
    OK(f, .type = CC_CMD_CONF_ACCEPT, .agent = 2, .conv = v);
    OK(f, .type = CC_CMD_NOTE, .agent = 2, .conv = v, .text = STR_LIT("Kolla fakturan"));
    assert_int_equal(fx_find(f, CC_EV_NOTE, v)->agent, 2);
    OK(f, .type = CC_CMD_NOTE, .agent = 1, .conv = v, .text = STR_LIT("Ok"));
    /* bad input */
    ERR(f, CC_E_TEXT_EMPTY, .type = CC_CMD_NOTE, .agent = 1, .conv = v, .text = STR_LIT(""));
    ERR(f, CC_E_UTF8, .type = CC_CMD_NOTE, .agent = 1, .conv = v, .text = STR_LIT("\xff"));
    fx_available(f, 3);
    ERR(f, CC_E_NOT_YOURS, .type = CC_CMD_NOTE, .agent = 3, .conv = v, .text = STR_LIT("x"));
    ERR(f, CC_E_NO_CONVERSATION, .type = CC_CMD_NOTE, .conv = 99, .name = STR_LIT(SUP),
        .text = STR_LIT("x"));
    ERR(f, CC_E_INVALID, .type = CC_CMD_NOTE, .conv = v, .text = STR_LIT("x")); /* nobody */
    /* after the end nothing more is noted */
    OK(f, .type = CC_CMD_END, .agent = 1, .conv = v);
    ERR(f, CC_E_NOT_ACCEPTED, .type = CC_CMD_NOTE, .conv = v, .name = STR_LIT(SUP),
        .text = STR_LIT("x"));
}

static void test_barge_write_and_leave(void **state)
{
    fx *f = *state;
    uint32_t v = accepted(f);
    ERR(f, CC_E_NOT_SUPERVISING, .type = CC_CMD_SEND, .conv = v, .name = STR_LIT(SUP),
        .text = STR_LIT("Hej"));
    OK(f, .type = CC_CMD_BARGE, .conv = v, .name = STR_LIT(SUP));
    const cc_event *j = fx_find(f, CC_EV_SUP_JOINED, v);
    assert_non_null(j);
    assert_int_equal(j->agent, 1);
    cc_conv_view cv = fx_conv(f, v);
    assert_memory_equal(cv.supervisor.p, SUP, cv.supervisor.n);
    assert_int_equal(cv.owner, 1); /* the agent keeps it */
    OK(f, .type = CC_CMD_BARGE, .conv = v, .name = STR_LIT(SUP)); /* already in: nothing */
    assert_int_equal(f->ev.n, 0);
    ERR(f, CC_E_SUPERVISOR, .type = CC_CMD_BARGE, .conv = v, .name = STR_LIT("olof"));
    /* the supervisor writes to the customer: a reply with agent 0 and a name */
    OK(f, .type = CC_CMD_SEND, .conv = v, .name = STR_LIT(SUP), .text = STR_LIT("Jag hjälper till"));
    const cc_event *m = fx_find(f, CC_EV_MSG_OUT, v);
    assert_int_equal(m->agent, 0);
    assert_memory_equal(m->name.p, SUP, m->name.n);
    assert_memory_equal(m->number.p, CUST, m->number.n);
    ERR(f, CC_E_NOT_SUPERVISING, .type = CC_CMD_SEND, .conv = v, .name = STR_LIT("olof"),
        .text = STR_LIT("Hej"));
    /* the agent may whisper now (a supervisor is in it); only the agent ends it */
    OK(f, .type = CC_CMD_NOTE, .agent = 1, .conv = v, .text = STR_LIT("Tack"));
    ERR(f, CC_E_NOT_OWNER, .type = CC_CMD_END, .conv = v, .name = STR_LIT(SUP));
    OK(f, .type = CC_CMD_SUP_LEAVE, .conv = v, .name = STR_LIT(SUP));
    assert_non_null(fx_find(f, CC_EV_SUP_LEFT, v));
    assert_int_equal(fx_conv(f, v).supervisor.n, 0);
    ERR(f, CC_E_NOT_SUPERVISING, .type = CC_CMD_SUP_LEAVE, .conv = v, .name = STR_LIT(SUP));
    /* joining again, then the agent ends it: the supervisor's presence ends too */
    OK(f, .type = CC_CMD_BARGE, .conv = v, .name = STR_LIT(SUP));
    OK(f, .type = CC_CMD_END, .agent = 1, .conv = v);
    OK(f, .type = CC_CMD_WRAPUP, .agent = 1, .conv = v, .reason = 1);
    assert_non_null(fx_find(f, CC_EV_CLOSED, v));
}

static void test_barge_needs_an_accepted_conversation(void **state)
{
    fx *f = *state;
    uint32_t v = fx_sms(f, CUST, EP1, "Hej", "m1"); /* queued: nobody available */
    ERR(f, CC_E_NOT_ACCEPTED, .type = CC_CMD_BARGE, .conv = v, .name = STR_LIT(SUP));
    ERR(f, CC_E_NOT_ACCEPTED, .type = CC_CMD_TAKE_OVER, .conv = v, .name = STR_LIT(SUP));
    ERR(f, CC_E_INVALID, .type = CC_CMD_BARGE, .conv = v, .name = STR_LIT(""));
    ERR(f, CC_E_NO_CONVERSATION, .type = CC_CMD_BARGE, .conv = 77, .name = STR_LIT(SUP));
    /* a supervisor may still note a waiting one */
    OK(f, .type = CC_CMD_NOTE, .conv = v, .name = STR_LIT(SUP), .text = STR_LIT("VIP-kund"));
    /* joined, then transferred back to a queue: the presence ends */
    fx_available(f, 1);
    OK(f, .type = CC_CMD_ACCEPT, .agent = 1, .conv = v);
    OK(f, .type = CC_CMD_BARGE, .conv = v, .name = STR_LIT(SUP));
    OK(f, .type = CC_CMD_TRANSFER_QUEUE, .agent = 1, .conv = v, .queue = 1);
    assert_int_equal(fx_conv(f, v).supervisor.n, 0);
}

static void test_take_over(void **state)
{
    fx *f = *state;
    uint32_t v = accepted(f);
    fx_available(f, 2);
    OK(f, .type = CC_CMD_CONF_INVITE, .agent = 1, .conv = v, .target = 2);
    ERR(f, CC_E_CONFERENCE, .type = CC_CMD_TAKE_OVER, .conv = v, .name = STR_LIT(SUP));
    OK(f, .type = CC_CMD_CONF_CANCEL, .agent = 1, .conv = v);
    cc_agent_view a;
    assert_int_equal(cc_agent_get(f->c, 1, &a), 0);
    uint32_t load = a.load;
    OK(f, .type = CC_CMD_TAKE_OVER, .conv = v, .name = STR_LIT(SUP));
    const cc_event *t = fx_find(f, CC_EV_TAKEN_OVER, v);
    assert_non_null(t);
    assert_int_equal(t->agent, 1);
    assert_true(cc_ev_is_note(CC_EV_TAKEN_OVER)); /* the agent's system note */
    /* Anna is released: no longer holds it, owes no wrap-up */
    assert_int_equal(cc_agent_get(f->c, 1, &a), 0);
    assert_int_equal(a.load, load - 1);
    assert_false(cc_wrapup_due(f->c, 1, v));
    cc_conv_view cv = fx_conv(f, v);
    assert_int_equal(cv.owner, 0);
    assert_int_equal(cv.state, CC_CONV_ASSIGNED);
    assert_memory_equal(cv.supervisor.p, SUP, cv.supervisor.n);
    /* Anna can do nothing more with it */
    ERR(f, CC_E_NOT_YOURS, .type = CC_CMD_SEND, .agent = 1, .conv = v, .text = STR_LIT("x"));
    ERR(f, CC_E_NOT_YOURS, .type = CC_CMD_END, .agent = 1, .conv = v);
    /* another supervisor neither joins nor takes it; leaving is refused */
    ERR(f, CC_E_SUPERVISOR, .type = CC_CMD_TAKE_OVER, .conv = v, .name = STR_LIT("olof"));
    ERR(f, CC_E_STATE, .type = CC_CMD_SUP_LEAVE, .conv = v, .name = STR_LIT(SUP));
    /* the customer's next message stays in this conversation */
    assert_int_equal(fx_sms(f, CUST, EP1, "Hallå?", "m2"), v);
    OK(f, .type = CC_CMD_SEND, .conv = v, .name = STR_LIT(SUP), .text = STR_LIT("Jag tar det"));
    /* the supervisor ends it: nobody owes a wrap-up, it closes at once */
    OK(f, .type = CC_CMD_END, .conv = v, .name = STR_LIT(SUP));
    assert_non_null(fx_find(f, CC_EV_ENDED, v));
    assert_non_null(fx_find(f, CC_EV_CLOSED, v));
    assert_int_equal(cc_conv_count(f->c), 0);
}

/* A log whose supervisor events do not fit the state is refused. */
static void test_corrupt_log(void **state)
{
    fx *f = *state;
    uint32_t v = accepted(f);
    cc *r = cc_new();
    for (size_t i = 0; i < f->log.n; i++)
        assert_int_equal(cc_replay(r, &f->log.v[i]), 0);
    cc_event e = {.type = CC_EV_SUP_LEFT, .conv = v, .name = STR_LIT(SUP), .seq = f->log.n + 1};
    assert_int_equal(cc_replay(r, &e), -CC_E_NOT_SUPERVISING);
    e = (cc_event){.type = CC_EV_TAKEN_OVER, .conv = v, .agent = 2, .name = STR_LIT(SUP),
                   .seq = f->log.n + 1};
    assert_int_equal(cc_replay(r, &e), -CC_E_NOT_OWNER);
    e = (cc_event){.type = CC_EV_NOTE, .conv = v, .seq = f->log.n + 1};
    assert_int_equal(cc_replay(r, &e), -CC_E_INVALID);
    cc_free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        FX_TEST(test_whisper_by_supervisor_and_conference),
        FX_TEST(test_barge_write_and_leave),
        FX_TEST(test_barge_needs_an_accepted_conversation),
        FX_TEST(test_take_over),
        FX_TEST(test_corrupt_log),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
