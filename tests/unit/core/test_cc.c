/*
 * Behaviour of the contact-center core, one test per rule, illegal
 * transitions included. Every test runs under cc_fixture.h, which checks the
 * invariants after each step and that replaying the event log reproduces
 * the live state.
 */
#include "cc_fixture.h"
#include "core/cc_int.h"

#define ST(s) CC_AGENT_##s

/* ---- 1. agent states ---------------------------------------------------- */

static void test_agent_logs_in_idle_and_chooses_states(void **state)
{
    fx *f = *state;
    assert_int_equal(fx_agent_state(f, 1), ST(LOGGED_OUT));
    ERR(f, CC_E_NOT_LOGGED_IN, .type = CC_CMD_SET_STATE, .agent = 1, .state = ST(AVAILABLE));
    OK(f, .type = CC_CMD_LOGIN, .agent = 1);
    assert_int_equal(fx_agent_state(f, 1), ST(IDLE));
    ERR(f, CC_E_LOGGED_IN, .type = CC_CMD_LOGIN, .agent = 1);
    OK(f, .type = CC_CMD_SET_STATE, .agent = 1, .state = ST(AVAILABLE));
    assert_int_equal(fx_agent_state(f, 1), ST(AVAILABLE));
    /* Idle: plain, or with an idle reason that exists */
    ERR(f, CC_E_NO_REASON, .type = CC_CMD_SET_STATE, .agent = 1, .state = ST(IDLE),
        .reason = 9);
    OK(f, .type = CC_CMD_SET_STATE, .agent = 1, .state = ST(IDLE));
    assert_int_equal(fx_agent_state(f, 1), ST(IDLE));
    OK(f, .type = CC_CMD_SET_STATE, .agent = 1, .state = ST(AVAILABLE));
    OK(f, .type = CC_CMD_SET_STATE, .agent = 1, .state = ST(IDLE), .reason = 1);
    cc_agent_view v;
    cc_agent_get(f->c, 1, &v);
    assert_int_equal(v.state, ST(IDLE));
    assert_int_equal(v.idle_reason, 1);
    /* RONA and logged-out are not states an agent picks */
    ERR(f, CC_E_STATE, .type = CC_CMD_SET_STATE, .agent = 1, .state = ST(RONA));
    ERR(f, CC_E_STATE, .type = CC_CMD_SET_STATE, .agent = 1, .state = ST(LOGGED_OUT));
    ERR(f, CC_E_STATE, .type = CC_CMD_SET_STATE, .agent = 1, .state = 42);
    assert_int_equal(fx_agent_state(f, 1), ST(IDLE));
    ERR(f, CC_E_NO_AGENT, .type = CC_CMD_LOGIN, .agent = 77);
    OK(f, .type = CC_CMD_LOGOUT, .agent = 1);
    assert_int_equal(fx_agent_state(f, 1), ST(LOGGED_OUT));
    ERR(f, CC_E_NOT_LOGGED_IN, .type = CC_CMD_LOGOUT, .agent = 1);
    /* choosing the state one is in changes nothing */
    fx_available(f, 2);
    OK(f, .type = CC_CMD_SET_STATE, .agent = 2, .state = ST(AVAILABLE));
    assert_int_equal(f->ev.n, 0);
}

static void test_idle_stops_new_offers_but_work_continues(void **state)
{
    fx *f = *state;
    fx_available(f, 1);
    uint32_t conv = fx_sms(f, CUST, EP1, "Hej", "m1");
    OK(f, .type = CC_CMD_ACCEPT, .agent = 1, .conv = conv);
    OK(f, .type = CC_CMD_SET_STATE, .agent = 1, .state = ST(IDLE), .reason = 1);
    uint32_t other = fx_sms(f, "+46709999999", EP1, "Hallå?", "m2");
    assert_null(fx_find(f, CC_EV_OFFERED, 0));
    assert_int_equal(fx_conv(f, other).state, CC_CONV_QUEUED);
    OK(f, .type = CC_CMD_SEND, .agent = 1, .conv = conv, .text = STR_LIT("Jag kollar"));
    fx_available(f, 1);
    const cc_event *o = fx_find(f, CC_EV_OFFERED, other);
    assert_non_null(o);
    assert_int_equal(o->agent, 1);
}

/* ---- 2. inbound and threading ------------------------------------------- */

static void test_inbound_threads_by_customer_and_entry_point(void **state)
{
    fx *f = *state;
    uint32_t a = fx_sms(f, CUST, EP1, "Hej", "m1");
    const cc_event *o = NULL;
    assert_int_equal(f->log.v[f->log.n - 3].type, CC_EV_CONV_OPENED);
    assert_int_equal(fx_conv(f, a).state, CC_CONV_QUEUED);
    assert_int_equal(cc_queue_depth(f->c, 1), 1);
    /* same pair: same conversation, no new queue entry */
    assert_int_equal(fx_sms(f, CUST, EP1, "Är ni där?", "m2"), a);
    assert_null(fx_find(f, CC_EV_CONV_OPENED, 0));
    assert_int_equal(cc_queue_depth(f->c, 1), 1);
    assert_int_equal(fx_conv(f, a).msgs_in, 2);
    /* other entry point: other conversation, in that entry point's queue */
    uint32_t b = fx_sms(f, CUST, EP2, "Pris?", "m3");
    assert_int_not_equal(a, b);
    assert_int_equal(fx_conv(f, b).queue, 2);
    /* other customer: other conversation */
    uint32_t d = fx_sms(f, "+46708888888", EP1, "Hej", "m4");
    assert_int_not_equal(a, d);
    (void)o;
}

/* fx_teardown without the replay check: a test that shrank the window
 * would replay into the default one, which forgets nothing. */
static int fx_teardown_window(void **state)
{
    fx *f = *state;
    cc_events_free(&f->ev);
    cc_evlog_free(&f->log);
    cc_free(f->c);
    free(f);
    return 0;
}

/* The de-duplication window: complete (every id of the log known, so the
 * app need not ask the store) until it drops its oldest id. */
static void test_dedupe_window_says_when_it_forgot(void **state)
{
    fx *f = *state;
    f->c->seen_max = 2; /* CC__DEFAULT_DEDUPE is a million */
    assert_int_equal(cc_dedupe_complete(f->c), 1);
    fx_sms(f, CUST, EP1, "Hej", "w-1");
    fx_sms(f, CUST, EP1, "Hej", "w-2");
    assert_int_equal(cc_dedupe_complete(f->c), 1);
    fx_sms(f, CUST, EP1, "Hej", "w-3"); /* w-1 forgotten */
    assert_int_equal(cc_dedupe_complete(f->c), 0);
    assert_int_equal(DO(f, .type = CC_CMD_SMS_IN, .number = STR_LIT(CUST),
                        .ep_number = STR_LIT(EP1), .text = STR_LIT("Hej"),
                        .msg_id = STR_LIT("w-3")),
                     CC_DUPLICATE);
}

static void test_duplicate_provider_id_is_a_no_op(void **state)
{
    fx *f = *state;
    uint32_t a = fx_sms(f, CUST, EP1, "Hej", "kannel-uuid-1");
    size_t before = f->log.n;
    assert_int_equal(DO(f, .type = CC_CMD_SMS_IN, .number = STR_LIT(CUST),
                        .ep_number = STR_LIT(EP1), .text = STR_LIT("Hej"),
                        .msg_id = STR_LIT("kannel-uuid-1")),
                     CC_DUPLICATE);
    assert_int_equal(f->log.n, before);
    assert_int_equal(fx_conv(f, a).msgs_in, 1);
    /* even after the conversation ended, a retry opens nothing */
    fx_available(f, 1);
    OK(f, .type = CC_CMD_ACCEPT, .agent = 1, .conv = a);
    OK(f, .type = CC_CMD_END, .agent = 1, .conv = a);
    assert_int_equal(DO(f, .type = CC_CMD_SMS_IN, .number = STR_LIT(CUST),
                        .ep_number = STR_LIT(EP1), .text = STR_LIT("Hej"),
                        .msg_id = STR_LIT("kannel-uuid-1")),
                     CC_DUPLICATE);
    assert_int_equal(cc_conv_count(f->c), 1);
    /* no id: never deduplicated */
    fx_sms(f, CUST, EP1, "Hej", "");
    fx_sms(f, CUST, EP1, "Hej", "");
}

static void test_inbound_bad_input(void **state)
{
    fx *f = *state;
    ERR(f, CC_E_NO_ENTRY_POINT, .type = CC_CMD_SMS_IN, .number = STR_LIT(CUST),
        .ep_number = STR_LIT("+4600"), .text = STR_LIT("x"));
    ERR(f, CC_E_UTF8, .type = CC_CMD_SMS_IN, .number = STR_LIT(CUST),
        .ep_number = STR_LIT(EP1), .text = STR_LIT("bad \xff byte"));
    ERR(f, CC_E_INVALID, .type = CC_CMD_SMS_IN, .number = STR_LIT(""),
        .ep_number = STR_LIT(EP1), .text = STR_LIT("x"));
    ERR(f, CC_E_INVALID, .type = CC_CMD_SMS_IN, .number = STR_LIT("+46 70"),
        .ep_number = STR_LIT(EP1), .text = STR_LIT("x"));
    /* a sender no reply could go back to */
    ERR(f, CC_E_INVALID, .type = CC_CMD_SMS_IN, .number = STR_LIT("abc"),
        .ep_number = STR_LIT(EP1), .text = STR_LIT("x"));
    ERR(f, CC_E_INVALID, .type = CC_CMD_SMS_IN,
        .number = STR_LIT("+4670123456789012345678901234567890"), .ep_number = STR_LIT(EP1),
        .text = STR_LIT("x"));
    char *big = malloc(CC_INBOUND_MAX + 1);
    memset(big, 'a', CC_INBOUND_MAX + 1);
    ERR(f, CC_E_TEXT_TOO_LONG, .type = CC_CMD_SMS_IN, .number = STR_LIT(CUST),
        .ep_number = STR_LIT(EP1), .text = {big, CC_INBOUND_MAX + 1});
    free(big);
    assert_int_equal(cc_conv_count(f->c), 0);
    /* an empty SMS is still a message */
    fx_sms(f, CUST, EP1, "", "e1");
    assert_int_equal(cc_conv_count(f->c), 1);
}

static void test_after_end_next_sms_opens_new_conversation(void **state)
{
    fx *f = *state;
    fx_available(f, 1);
    uint32_t a = fx_sms(f, CUST, EP1, "Hej", "m1");
    OK(f, .type = CC_CMD_ACCEPT, .agent = 1, .conv = a);
    OK(f, .type = CC_CMD_END, .agent = 1, .conv = a);
    /* ended, wrap-up still due: the customer's next SMS is a new conversation */
    uint32_t b = fx_sms(f, CUST, EP1, "En sak till", "m2");
    assert_int_not_equal(a, b);
    assert_int_equal(fx_conv(f, a).state, CC_CONV_WRAPUP);
}

/* ---- 3./4. routing and offers ------------------------------------------- */

static void test_routing_longest_waiting_agent_first(void **state)
{
    fx *f = *state;
    fx_available(f, 2); /* Erik waits since t0 */
    f->now += 1000;
    fx_available(f, 1); /* Anna since t0+1s */
    uint32_t a = fx_sms(f, "+46701", EP1, "a", "1");
    const cc_event *o = fx_find(f, CC_EV_OFFERED, a);
    assert_non_null(o);
    assert_int_equal(o->agent, 2);
    assert_string_equal(o->queue_name.p, "Support");
    assert_memory_equal(o->number.p, "+46701", 6);
    assert_memory_equal(o->ep_number.p, EP1, strlen(EP1));
    assert_int_equal(o->deadline, f->now + 30000);
    f->now += 1000;
    uint32_t b = fx_sms(f, "+46702", EP1, "b", "2");
    assert_int_equal(fx_find(f, CC_EV_OFFERED, b)->agent, 1);
    f->now += 1000;
    /* Erik was offered longest ago: he is next, with a second offer */
    uint32_t d = fx_sms(f, "+46703", EP1, "c", "3");
    assert_int_equal(fx_find(f, CC_EV_OFFERED, d)->agent, 2);
}

static void test_queue_is_fifo_and_agent_takes_oldest(void **state)
{
    fx *f = *state;
    uint32_t ids[3];
    const char *nums[] = {"+46711", "+46712", "+46713"};
    for (int i = 0; i < 3; i++) {
        ids[i] = fx_sms(f, nums[i], EP1, "x", nums[i]);
        f->now += 10;
    }
    assert_int_equal(cc_queue_depth(f->c, 1), 3);
    OK(f, .type = CC_CMD_AGENT_PUT, .agent = 1, .name = STR_LIT("Anna Berg"),
       .ids = (const uint32_t[]){1}, .n_ids = 1, .capacity = 1);
    fx_available(f, 1);
    assert_int_equal(fx_find(f, CC_EV_OFFERED, 0)->conv, ids[0]);
    assert_int_equal(fx_count(f, CC_EV_OFFERED), 1);
}

static void test_offers_fill_capacity_then_wait(void **state)
{
    fx *f = *state;
    for (int i = 0; i < 5; i++) {
        char num[32];
        snprintf(num, sizeof num, "+4672%d", i);
        fx_sms(f, num, EP1, "x", num);
    }
    fx_available(f, 1);
    assert_int_equal(fx_count(f, CC_EV_OFFERED), 3); /* capacity 3 */
    assert_int_equal(cc_queue_depth(f->c, 1), 2);
    cc_agent_view v;
    cc_agent_get(f->c, 1, &v);
    assert_int_equal(v.reserved, 3);
    assert_int_equal(v.load, 0);
    assert_int_equal(v.engaged, 0);
    uint32_t first = f->log.v[f->log.n - 3].conv;
    OK(f, .type = CC_CMD_ACCEPT, .agent = 1, .conv = first);
    cc_agent_get(f->c, 1, &v);
    assert_int_equal(v.load, 1);
    assert_int_equal(v.reserved, 2);
    assert_int_equal(v.engaged, 1);
    assert_int_equal(fx_conv(f, first).state, CC_CONV_ASSIGNED);
    assert_int_equal(fx_conv(f, first).owner, 1);
}

static void test_accept_only_own_pending_offer(void **state)
{
    fx *f = *state;
    fx_available(f, 1);
    fx_available(f, 2);
    uint32_t a = fx_sms(f, CUST, EP1, "x", "1");
    uint32_t to = fx_find(f, CC_EV_OFFERED, a)->agent;
    uint32_t other = to == 1 ? 2 : 1;
    ERR(f, CC_E_NOT_OFFERED, .type = CC_CMD_ACCEPT, .agent = other, .conv = a);
    ERR(f, CC_E_NO_CONVERSATION, .type = CC_CMD_ACCEPT, .agent = to, .conv = 999);
    ERR(f, CC_E_NOT_LOGGED_IN, .type = CC_CMD_ACCEPT, .agent = 3, .conv = a);
    OK(f, .type = CC_CMD_ACCEPT, .agent = to, .conv = a);
    ERR(f, CC_E_NOT_OFFERED, .type = CC_CMD_ACCEPT, .agent = to, .conv = a);
}

static void test_offer_timeout_rona_and_requeue_at_head(void **state)
{
    fx *f = *state;
    fx_available(f, 1);
    uint32_t a = fx_sms(f, "+46731", EP1, "first", "1");
    f->now += 10;
    uint32_t b = fx_sms(f, "+46732", EP1, "second", "2"); /* also offered to Anna */
    f->now += 10;
    OK(f, .type = CC_CMD_ACCEPT, .agent = 1, .conv = b);
    fx_tick(f, 29000);
    assert_int_equal(fx_agent_state(f, 1), ST(AVAILABLE));
    fx_tick(f, 1000); /* a's offer: 30 s */
    const cc_event *w = fx_find(f, CC_EV_OFFER_WITHDRAWN, a);
    assert_non_null(w);
    assert_int_equal(w->code, CC_WHY_TIMEOUT);
    assert_int_equal(fx_agent_state(f, 1), ST(RONA));
    assert_int_equal(fx_conv(f, a).state, CC_CONV_QUEUED);
    /* RONA stays RONA however long we wait */
    fx_tick(f, 3600 * 1000);
    assert_int_equal(fx_agent_state(f, 1), ST(RONA));
    /* queued behind 'a' meanwhile, but 'a' keeps its place at the head */
    uint32_t d = fx_sms(f, "+46733", EP1, "third", "3");
    (void)d;
    fx_available(f, 2);
    assert_int_equal(fx_find(f, CC_EV_OFFERED, 0)->conv, a);
    assert_int_equal(fx_find(f, CC_EV_OFFERED, 0)->agent, 2);
    /* the RONA agent keeps its accepted work */
    OK(f, .type = CC_CMD_SEND, .agent = 1, .conv = b, .text = STR_LIT("Hej!"));
    /* and leaves RONA only by choosing a state */
    fx_available(f, 1);
    assert_int_equal(fx_agent_state(f, 1), ST(AVAILABLE));
}

static void test_rona_withdraws_every_pending_offer(void **state)
{
    fx *f = *state;
    fx_available(f, 1);
    uint32_t a = fx_sms(f, "+46741", EP1, "x", "1");
    f->now += 5000;
    uint32_t b = fx_sms(f, "+46742", EP1, "y", "2");
    fx_tick(f, 25000); /* a times out; b had 5 s left */
    assert_int_equal(fx_agent_state(f, 1), ST(RONA));
    assert_int_equal(fx_conv(f, a).state, CC_CONV_QUEUED);
    assert_int_equal(fx_conv(f, b).state, CC_CONV_QUEUED);
    cc_agent_view v;
    cc_agent_get(f->c, 1, &v);
    assert_int_equal(v.reserved, 0);
    fx_tick(f, 10000); /* b's stale timer fires harmlessly */
    assert_int_equal(fx_conv(f, b).state, CC_CONV_QUEUED);
}

static void test_decline_requeues_in_place(void **state)
{
    fx *f = *state;
    fx_available(f, 1);
    uint32_t a = fx_sms(f, CUST, EP1, "x", "1");
    OK(f, .type = CC_CMD_DECLINE, .agent = 1, .conv = a);
    assert_non_null(fx_find(f, CC_EV_OFFER_WITHDRAWN, a));
    assert_int_equal(fx_agent_state(f, 1), ST(AVAILABLE)); /* declining is not RONA */
    /* the only ready agent gets it again: nothing waits while someone is ready */
    assert_int_equal(fx_find(f, CC_EV_OFFERED, a)->agent, 1);
    OK(f, .type = CC_CMD_LOGIN, .agent = 2);
    ERR(f, CC_E_NOT_OFFERED, .type = CC_CMD_DECLINE, .agent = 2, .conv = a);
}

/* ---- 5. reply ----------------------------------------------------------- */

static void test_reply_rules(void **state)
{
    fx *f = *state;
    fx_available(f, 1);
    fx_available(f, 2);
    uint32_t a = fx_sms(f, CUST, EP1, "x", "1");
    uint32_t owner = fx_find(f, CC_EV_OFFERED, a)->agent, other = owner == 1 ? 2 : 1;
    /* offered is not accepted */
    ERR(f, CC_E_NOT_YOURS, .type = CC_CMD_SEND, .agent = owner, .conv = a,
        .text = STR_LIT("hej"));
    OK(f, .type = CC_CMD_ACCEPT, .agent = owner, .conv = a);
    ERR(f, CC_E_NOT_YOURS, .type = CC_CMD_SEND, .agent = other, .conv = a,
        .text = STR_LIT("hej"));
    ERR(f, CC_E_NO_CONVERSATION, .type = CC_CMD_SEND, .agent = owner, .conv = 4242,
        .text = STR_LIT("hej"));
    ERR(f, CC_E_TEXT_EMPTY, .type = CC_CMD_SEND, .agent = owner, .conv = a,
        .text = STR_LIT(""));
    ERR(f, CC_E_UTF8, .type = CC_CMD_SEND, .agent = owner, .conv = a,
        .text = STR_LIT("caf\xc3"));
    /* 1000 code points are fine even at 2000 bytes; 1001 are not */
    char text[2 * 1001];
    for (int i = 0; i < 1001; i++)
        memcpy(text + 2 * i, "\xc3\xa5", 2); /* å */
    ERR(f, CC_E_TEXT_TOO_LONG, .type = CC_CMD_SEND, .agent = owner, .conv = a,
        .text = {text, 2 * 1001});
    OK(f, .type = CC_CMD_SEND, .agent = owner, .conv = a, .text = {text, 2 * 1000});
    const cc_event *m = fx_find(f, CC_EV_MSG_OUT, a);
    assert_non_null(m);
    assert_int_equal(m->agent, owner);
    assert_int_equal(m->text.n, 2000);
    assert_memory_equal(m->number.p, CUST, strlen(CUST));
    assert_memory_equal(m->ep_number.p, EP1, strlen(EP1));
    assert_int_equal(m->msg_seq, 2);
    assert_int_equal(fx_conv(f, a).msgs_out, 1);
}

/* ---- 6. transfer -------------------------------------------------------- */

static uint32_t accepted_by(fx *f, uint32_t agent, const char *from, const char *ep)
{
    uint32_t a = fx_sms(f, from, ep, "hej", from);
    const cc_event *o = fx_find(f, CC_EV_OFFERED, a);
    assert_non_null(o);
    assert_int_equal(o->agent, agent);
    OK(f, .type = CC_CMD_ACCEPT, .agent = agent, .conv = a);
    return a;
}

static void test_transfer_to_queue(void **state)
{
    fx *f = *state;
    fx_available(f, 1);
    uint32_t a = accepted_by(f, 1, CUST, EP1);
    OK(f, .type = CC_CMD_SEND, .agent = 1, .conv = a, .text = STR_LIT("Jag skickar vidare"));
    ERR(f, CC_E_NO_QUEUE, .type = CC_CMD_TRANSFER_QUEUE, .agent = 1, .conv = a, .queue = 9);
    OK(f, .type = CC_CMD_TRANSFER_QUEUE, .agent = 1, .conv = a, .queue = 2);
    assert_true(cc_wrapup_due(f->c, 1, a));
    cc_conv_view v = fx_conv(f, a);
    assert_int_equal(v.state, CC_CONV_QUEUED);
    assert_int_equal(v.queue, 2);
    assert_int_equal(v.msgs_in + v.msgs_out, 2); /* history kept */
    /* the sender cannot act on it any more */
    ERR(f, CC_E_NOT_YOURS, .type = CC_CMD_SEND, .agent = 1, .conv = a, .text = STR_LIT("x"));
    /* Maja serves Sales: offered to her like a new conversation */
    fx_available(f, 3);
    const cc_event *o = fx_find(f, CC_EV_OFFERED, a);
    assert_non_null(o);
    assert_int_equal(o->agent, 3);
    assert_string_equal(o->queue_name.p, "Sales");
    OK(f, .type = CC_CMD_WRAPUP, .agent = 1, .conv = a, .reason = 1);
    assert_false(cc_wrapup_due(f->c, 1, a));
    assert_int_equal(fx_conv(f, a).state, CC_CONV_OFFERED); /* still open for Maja */
}

static void test_transfer_only_after_accept_and_by_owner(void **state)
{
    fx *f = *state;
    fx_available(f, 1);
    uint32_t a = fx_sms(f, CUST, EP1, "x", "1");
    ERR(f, CC_E_NOT_YOURS, .type = CC_CMD_TRANSFER_QUEUE, .agent = 1, .conv = a, .queue = 2);
    ERR(f, CC_E_NOT_YOURS, .type = CC_CMD_TRANSFER_AGENT, .agent = 1, .conv = a, .target = 2);
    OK(f, .type = CC_CMD_ACCEPT, .agent = 1, .conv = a);
    fx_available(f, 2);
    ERR(f, CC_E_NOT_YOURS, .type = CC_CMD_TRANSFER_QUEUE, .agent = 2, .conv = a, .queue = 2);
    OK(f, .type = CC_CMD_END, .agent = 1, .conv = a);
    ERR(f, CC_E_NOT_YOURS, .type = CC_CMD_TRANSFER_QUEUE, .agent = 1, .conv = a, .queue = 2);
}

static void test_transfer_to_agent_accepted(void **state)
{
    fx *f = *state;
    fx_available(f, 1);
    uint32_t a = accepted_by(f, 1, CUST, EP1);
    /* only an available agent with capacity is a valid target */
    OK(f, .type = CC_CMD_LOGIN, .agent = 2);
    ERR(f, CC_E_TARGET_UNAVAILABLE, .type = CC_CMD_TRANSFER_AGENT, .agent = 1, .conv = a,
        .target = 2);
    ERR(f, CC_E_SAME_AGENT, .type = CC_CMD_TRANSFER_AGENT, .agent = 1, .conv = a,
        .target = 1);
    ERR(f, CC_E_NO_AGENT, .type = CC_CMD_TRANSFER_AGENT, .agent = 1, .conv = a, .target = 99);
    uint32_t targets[8];
    assert_int_equal(cc_transfer_targets(f->c, 1, targets, 8), 0);
    fx_available(f, 2);
    assert_int_equal(cc_transfer_targets(f->c, 1, targets, 8), 1);
    assert_int_equal(targets[0], 2);
    OK(f, .type = CC_CMD_TRANSFER_AGENT, .agent = 1, .conv = a, .target = 2);
    const cc_event *o = fx_find(f, CC_EV_OFFERED, a);
    assert_int_equal(o->agent, 2);
    assert_int_equal(o->kind, CC_OFFER_TRANSFER);
    assert_true(cc_wrapup_due(f->c, 1, a));
    OK(f, .type = CC_CMD_ACCEPT, .agent = 2, .conv = a);
    assert_int_equal(fx_conv(f, a).owner, 2);
    OK(f, .type = CC_CMD_SEND, .agent = 2, .conv = a, .text = STR_LIT("Hej, Erik här"));
}

static void test_transfer_to_agent_not_accepted(void **state)
{
    fx *f = *state;
    fx_available(f, 1);
    uint32_t a = accepted_by(f, 1, CUST, EP1);
    fx_available(f, 2);
    OK(f, .type = CC_CMD_TRANSFER_AGENT, .agent = 1, .conv = a, .target = 2);
    fx_tick(f, 30000);
    assert_int_equal(fx_agent_state(f, 2), ST(RONA));
    assert_non_null(fx_find(f, CC_EV_OFFER_WITHDRAWN, a));
    /* queued in its last queue: Anna is at capacity 3 with 1 wrap-up, so
     * she is offered it again; nothing is dropped */
    cc_conv_view v = fx_conv(f, a);
    assert_true(v.state == CC_CONV_QUEUED || v.state == CC_CONV_OFFERED);
    assert_int_equal(v.queue, 1);
    /* decline: queued too, target not RONA */
    uint32_t b = accepted_by(f, 1, "+46750", EP1);
    fx_available(f, 3);
    OK(f, .type = CC_CMD_TRANSFER_AGENT, .agent = 1, .conv = b, .target = 3);
    OK(f, .type = CC_CMD_DECLINE, .agent = 3, .conv = b);
    assert_int_equal(fx_agent_state(f, 3), ST(AVAILABLE));
    assert_non_null(fx_find(f, CC_EV_QUEUED, b));
}

/* ---- 7. conference ------------------------------------------------------ */

static void test_conference_flow(void **state)
{
    fx *f = *state;
    fx_available(f, 1);
    uint32_t a = accepted_by(f, 1, CUST, EP1);
    fx_available(f, 2);
    ERR(f, CC_E_NO_CONFERENCE, .type = CC_CMD_CONF_ACCEPT, .agent = 2, .conv = a);
    OK(f, .type = CC_CMD_CONF_INVITE, .agent = 1, .conv = a, .target = 2);
    assert_int_equal(fx_conv(f, a).conf_state, CC_CONF_REQUESTED);
    /* one conference at a time, and no transfer meanwhile */
    fx_available(f, 3);
    ERR(f, CC_E_CONFERENCE, .type = CC_CMD_CONF_INVITE, .agent = 1, .conv = a, .target = 3);
    ERR(f, CC_E_CONFERENCE, .type = CC_CMD_TRANSFER_QUEUE, .agent = 1, .conv = a, .queue = 2);
    ERR(f, CC_E_NO_CONFERENCE, .type = CC_CMD_CONF_ACCEPT, .agent = 3, .conv = a);
    /* requested guest cannot send yet */
    ERR(f, CC_E_NOT_YOURS, .type = CC_CMD_SEND, .agent = 2, .conv = a, .text = STR_LIT("x"));
    OK(f, .type = CC_CMD_CONF_ACCEPT, .agent = 2, .conv = a);
    assert_non_null(fx_find(f, CC_EV_CONF_JOINED, a));
    assert_int_equal(fx_conv(f, a).conf_state, CC_CONF_ACTIVE);
    OK(f, .type = CC_CMD_SEND, .agent = 2, .conv = a, .text = STR_LIT("Hej, Erik här"));
    /* only the owner ends or transfers */
    ERR(f, CC_E_NOT_OWNER, .type = CC_CMD_END, .agent = 2, .conv = a);
    ERR(f, CC_E_NOT_OWNER, .type = CC_CMD_TRANSFER_QUEUE, .agent = 2, .conv = a, .queue = 1);
    ERR(f, CC_E_CONFERENCE, .type = CC_CMD_TRANSFER_QUEUE, .agent = 1, .conv = a, .queue = 2);
    /* End conference: ends for everyone, both owe a wrap-up */
    OK(f, .type = CC_CMD_END, .agent = 1, .conv = a);
    assert_true(cc_wrapup_due(f->c, 1, a));
    assert_true(cc_wrapup_due(f->c, 2, a));
    assert_int_equal(fx_conv(f, a).state, CC_CONV_WRAPUP);
    OK(f, .type = CC_CMD_WRAPUP, .agent = 1, .conv = a, .reason = 1);
    assert_int_equal(fx_conv(f, a).state, CC_CONV_WRAPUP);
    OK(f, .type = CC_CMD_WRAPUP, .agent = 2, .conv = a, .reason = 1);
    assert_non_null(fx_find(f, CC_EV_CLOSED, a));
    assert_int_equal(cc_conv_get(f->c, a, &(cc_conv_view){0}), -CC_E_NO_CONVERSATION);
}

static void test_conference_guest_exits_owner_continues(void **state)
{
    fx *f = *state;
    fx_available(f, 1);
    uint32_t a = accepted_by(f, 1, CUST, EP1);
    fx_available(f, 2);
    OK(f, .type = CC_CMD_CONF_INVITE, .agent = 1, .conv = a, .target = 2);
    ERR(f, CC_E_NO_CONFERENCE, .type = CC_CMD_CONF_EXIT, .agent = 2, .conv = a);
    OK(f, .type = CC_CMD_CONF_ACCEPT, .agent = 2, .conv = a);
    OK(f, .type = CC_CMD_CONF_EXIT, .agent = 2, .conv = a);
    assert_non_null(fx_find(f, CC_EV_CONF_LEFT, a));
    assert_true(cc_wrapup_due(f->c, 2, a));
    assert_int_equal(fx_conv(f, a).conf_state, CC_CONF_NONE);
    assert_int_equal(fx_conv(f, a).state, CC_CONV_ASSIGNED);
    OK(f, .type = CC_CMD_SEND, .agent = 1, .conv = a, .text = STR_LIT("Tack"));
    ERR(f, CC_E_NOT_YOURS, .type = CC_CMD_SEND, .agent = 2, .conv = a, .text = STR_LIT("x"));
    OK(f, .type = CC_CMD_WRAPUP, .agent = 2, .conv = a, .reason = 1);
    /* a new conference may be requested again */
    OK(f, .type = CC_CMD_CONF_INVITE, .agent = 1, .conv = a, .target = 2);
}

static void test_conference_declined_or_timed_out(void **state)
{
    fx *f = *state;
    fx_available(f, 1);
    uint32_t a = accepted_by(f, 1, CUST, EP1);
    fx_available(f, 2);
    OK(f, .type = CC_CMD_CONF_INVITE, .agent = 1, .conv = a, .target = 2);
    OK(f, .type = CC_CMD_CONF_DECLINE, .agent = 2, .conv = a);
    assert_int_equal(fx_conv(f, a).conf_state, CC_CONF_NONE);
    assert_int_equal(fx_agent_state(f, 2), ST(AVAILABLE));
    OK(f, .type = CC_CMD_CONF_INVITE, .agent = 1, .conv = a, .target = 2);
    fx_tick(f, 30000);
    const cc_event *e = fx_find(f, CC_EV_CONF_CANCELLED, a);
    assert_non_null(e);
    assert_int_equal(e->code, CC_WHY_TIMEOUT);
    assert_int_equal(fx_agent_state(f, 2), ST(RONA));
    assert_int_equal(fx_conv(f, a).owner, 1); /* back to the owner alone */
    ERR(f, CC_E_TARGET_UNAVAILABLE, .type = CC_CMD_CONF_INVITE, .agent = 1, .conv = a,
        .target = 2);
}

static void test_conference_cancelled_by_owner(void **state)
{
    fx *f = *state;
    fx_available(f, 1);
    uint32_t a = accepted_by(f, 1, CUST, EP1);
    fx_available(f, 2);
    /* nothing requested yet: nothing to cancel */
    ERR(f, CC_E_NO_CONFERENCE, .type = CC_CMD_CONF_CANCEL, .agent = 1, .conv = a);
    OK(f, .type = CC_CMD_CONF_INVITE, .agent = 1, .conv = a, .target = 2);
    cc_agent_view v;
    cc_agent_get(f->c, 2, &v);
    assert_int_equal(v.reserved, 1);
    /* only the owner cancels: not the invited agent, not a stranger */
    ERR(f, CC_E_NOT_YOURS, .type = CC_CMD_CONF_CANCEL, .agent = 2, .conv = a);
    ERR(f, CC_E_NOT_LOGGED_IN, .type = CC_CMD_CONF_CANCEL, .agent = 3, .conv = a);
    ERR(f, CC_E_NO_CONVERSATION, .type = CC_CMD_CONF_CANCEL, .agent = 1, .conv = a + 99);
    ERR(f, CC_E_NO_AGENT, .type = CC_CMD_CONF_CANCEL, .agent = 77, .conv = a);
    OK(f, .type = CC_CMD_CONF_CANCEL, .agent = 1, .conv = a);
    const cc_event *e = fx_find(f, CC_EV_CONF_CANCELLED, a);
    assert_non_null(e);
    assert_int_equal(e->code, CC_WHY_CANCELLED);
    assert_int_equal(e->target, 2);
    assert_int_equal(fx_conv(f, a).conf_state, CC_CONF_NONE);
    assert_int_equal(fx_conv(f, a).guest, 0);
    /* the invited agent is free again, not in RONA, and cannot accept now */
    assert_int_equal(fx_agent_state(f, 2), ST(AVAILABLE));
    cc_agent_get(f->c, 2, &v);
    assert_int_equal(v.reserved, 0);
    ERR(f, CC_E_NO_CONFERENCE, .type = CC_CMD_CONF_ACCEPT, .agent = 2, .conv = a);
    ERR(f, CC_E_NO_CONFERENCE, .type = CC_CMD_CONF_CANCEL, .agent = 1, .conv = a);
    /* the invite's timer is gone: no RONA later */
    fx_tick(f, 60000);
    assert_int_equal(fx_agent_state(f, 2), ST(AVAILABLE));
    /* a joined conference is not a request: End conference ends that */
    OK(f, .type = CC_CMD_CONF_INVITE, .agent = 1, .conv = a, .target = 2);
    OK(f, .type = CC_CMD_CONF_ACCEPT, .agent = 2, .conv = a);
    ERR(f, CC_E_NO_CONFERENCE, .type = CC_CMD_CONF_CANCEL, .agent = 1, .conv = a);
    ERR(f, CC_E_NOT_OWNER, .type = CC_CMD_CONF_CANCEL, .agent = 2, .conv = a);
    assert_int_equal(fx_conv(f, a).conf_state, CC_CONF_ACTIVE);
    /* an ended conversation has no request to cancel */
    OK(f, .type = CC_CMD_END, .agent = 1, .conv = a);
    ERR(f, CC_E_NOT_YOURS, .type = CC_CMD_CONF_CANCEL, .agent = 1, .conv = a);
}

/* ---- 8. end and wrap-up ------------------------------------------------- */

static void test_end_and_wrapup(void **state)
{
    fx *f = *state;
    fx_available(f, 1);
    uint32_t a = accepted_by(f, 1, CUST, EP1);
    ERR(f, CC_E_NO_WRAPUP, .type = CC_CMD_WRAPUP, .agent = 1, .conv = a, .reason = 1);
    ERR(f, CC_E_NOT_LOGGED_IN, .type = CC_CMD_END, .agent = 2, .conv = a);
    OK(f, .type = CC_CMD_LOGIN, .agent = 2);
    ERR(f, CC_E_NOT_YOURS, .type = CC_CMD_END, .agent = 2, .conv = a);
    OK(f, .type = CC_CMD_END, .agent = 1, .conv = a);
    const cc_event *w = fx_find(f, CC_EV_WRAPUP_DUE, a);
    assert_non_null(w);
    assert_int_equal(w->deadline, 0); /* Support has no auto wrap-up */
    ERR(f, CC_E_NOT_YOURS, .type = CC_CMD_END, .agent = 1, .conv = a);
    ERR(f, CC_E_NOT_YOURS, .type = CC_CMD_SEND, .agent = 1, .conv = a, .text = STR_LIT("x"));
    cc_agent_view v;
    cc_agent_get(f->c, 1, &v);
    assert_int_equal(v.load, 1); /* a wrap-up holds its slot */
    ERR(f, CC_E_NO_REASON, .type = CC_CMD_WRAPUP, .agent = 1, .conv = a, .reason = 7);
    ERR(f, CC_E_BUSY, .type = CC_CMD_LOGOUT, .agent = 1);
    OK(f, .type = CC_CMD_WRAPUP, .agent = 1, .conv = a, .reason = 1);
    assert_non_null(fx_find(f, CC_EV_CLOSED, a));
    cc_agent_get(f->c, 1, &v);
    assert_int_equal(v.load, 0);
    ERR(f, CC_E_NO_WRAPUP, .type = CC_CMD_WRAPUP, .agent = 1, .conv = a, .reason = 1);
    OK(f, .type = CC_CMD_LOGOUT, .agent = 1);
}

static void test_auto_wrapup_picks_default_reason(void **state)
{
    fx *f = *state;
    fx_available(f, 3);
    uint32_t a = accepted_by(f, 3, CUST, EP2); /* Sales: auto wrap-up 60 s, reason 2 */
    OK(f, .type = CC_CMD_END, .agent = 3, .conv = a);
    assert_int_equal(fx_find(f, CC_EV_WRAPUP_DUE, a)->deadline, f->now + 60000);
    fx_tick(f, 59999);
    assert_true(cc_wrapup_due(f->c, 3, a));
    fx_tick(f, 1);
    const cc_event *w = fx_find(f, CC_EV_WRAPPED_UP, a);
    assert_non_null(w);
    assert_int_equal(w->reason, 2);
    assert_int_equal(w->code, CC_WHY_AUTO);
    assert_non_null(fx_find(f, CC_EV_CLOSED, a));
    /* a queue with auto wrap-up needs a default reason that exists */
    ERR(f, CC_E_NO_REASON, .type = CC_CMD_QUEUE_PUT, .queue = 5, .name = STR_LIT("X"),
        .autowrap_ms = 1000);
    ERR(f, CC_E_IN_USE, .type = CC_CMD_REASON_REMOVE, .reason = 2);
}

/* ---- 9. resources removed ----------------------------------------------- */

static void test_entry_point_removed_terminates(void **state)
{
    fx *f = *state;
    fx_available(f, 1);
    uint32_t a = accepted_by(f, 1, CUST, EP1);
    OK(f, .type = CC_CMD_SET_STATE, .agent = 1, .state = ST(IDLE), .reason = 1);
    uint32_t q = fx_sms(f, "+46760", EP1, "waiting", "w");
    fx_available(f, 2);
    uint32_t o = fx_sms(f, "+46761", EP1, "offered", "o");
    assert_int_equal(fx_conv(f, o).state, CC_CONV_OFFERED);
    OK(f, .type = CC_CMD_SET_STATE, .agent = 2, .state = ST(IDLE), .reason = 1);
    uint32_t q2 = fx_sms(f, "+46762", EP1, "waiting", "w2");
    (void)q;
    OK(f, .type = CC_CMD_EP_REMOVE, .ep = 1);
    size_t closed = 0;
    for (size_t i = 0; i < f->ev.n; i++)
        closed += f->ev.v[i].type == CC_EV_CLOSED && f->ev.v[i].code == CC_WHY_EP_REMOVED;
    assert_int_equal(closed, 3);
    /* assigned: terminated with a warning, kept for its agent */
    const cc_event *t = fx_find(f, CC_EV_TERMINATED, a);
    assert_non_null(t);
    assert_int_equal(t->code, CC_WHY_EP_REMOVED);
    assert_int_equal(fx_conv(f, a).state, CC_CONV_TERMINATED);
    /* it still says which number the customer texted */
    assert_int_equal(fx_conv(f, a).ep_number.n, strlen(EP1));
    assert_memory_equal(fx_conv(f, a).ep_number.p, EP1, strlen(EP1));
    ERR(f, CC_E_TERMINATED, .type = CC_CMD_SEND, .agent = 1, .conv = a, .text = STR_LIT("x"));
    ERR(f, CC_E_TERMINATED, .type = CC_CMD_TRANSFER_QUEUE, .agent = 1, .conv = a,
        .queue = 2);
    /* waiting and offered ones: terminated and closed, never silently */
    assert_int_equal(cc_conv_get(f->c, q2, &(cc_conv_view){0}), -CC_E_NO_CONVERSATION);
    assert_int_equal(cc_conv_get(f->c, o, &(cc_conv_view){0}), -CC_E_NO_CONVERSATION);
    /* the agent ends it and wraps up */
    OK(f, .type = CC_CMD_END, .agent = 1, .conv = a);
    OK(f, .type = CC_CMD_WRAPUP, .agent = 1, .conv = a, .reason = 1);
    /* new SMS to the removed number are refused (the server keeps them) */
    ERR(f, CC_E_NO_ENTRY_POINT, .type = CC_CMD_SMS_IN, .number = STR_LIT(CUST),
        .ep_number = STR_LIT(EP1), .text = STR_LIT("x"));
    ERR(f, CC_E_NO_ENTRY_POINT, .type = CC_CMD_EP_REMOVE, .ep = 1);
}

static void test_queue_removed_moves_to_fallback_or_terminates(void **state)
{
    fx *f = *state;
    static const uint32_t t2[] = {2};
    /* an entry point still routes to Sales: refused */
    ERR(f, CC_E_IN_USE, .type = CC_CMD_QUEUE_REMOVE, .queue = 2);
    ERR(f, CC_E_IN_USE, .type = CC_CMD_QUEUE_REMOVE, .queue = 1); /* Sales' fallback */
    uint32_t a = fx_sms(f, CUST, EP2, "x", "1");
    OK(f, .type = CC_CMD_QUEUE_PUT, .queue = 3, .name = STR_LIT("Sales 2"), .ids = t2,
       .n_ids = 1);
    OK(f, .type = CC_CMD_EP_PUT, .ep = 2, .number = STR_LIT(EP2), .queue = 3);
    OK(f, .type = CC_CMD_QUEUE_REMOVE, .queue = 2);
    const cc_event *qd = fx_find(f, CC_EV_QUEUED, a);
    assert_non_null(qd);
    assert_int_equal(qd->queue, 1);
    assert_int_equal(qd->code, CC_WHY_QUEUE_REMOVED);
    assert_int_equal(cc_queue_depth(f->c, 1), 1);
    /* without a fallback: terminated and closed */
    uint32_t b = fx_sms(f, "+46799", EP2, "y", "2");
    OK(f, .type = CC_CMD_QUEUE_PUT, .queue = 4, .name = STR_LIT("Tmp"), .ids = t2, .n_ids = 1);
    OK(f, .type = CC_CMD_EP_PUT, .ep = 2, .number = STR_LIT(EP2), .queue = 4);
    OK(f, .type = CC_CMD_QUEUE_REMOVE, .queue = 3);
    assert_non_null(fx_find(f, CC_EV_TERMINATED, b));
    assert_non_null(fx_find(f, CC_EV_CLOSED, b));
    ERR(f, CC_E_NO_QUEUE, .type = CC_CMD_QUEUE_REMOVE, .queue = 3);
}

static void test_agent_removed_requeues_its_work(void **state)
{
    fx *f = *state;
    fx_available(f, 1);
    uint32_t a = accepted_by(f, 1, CUST, EP1);
    uint32_t b = fx_sms(f, "+46770", EP1, "x", "2"); /* offered to Anna */
    uint32_t d = accepted_by(f, 1, "+46771", EP1);
    OK(f, .type = CC_CMD_END, .agent = 1, .conv = d);
    fx_available(f, 2);
    OK(f, .type = CC_CMD_AGENT_REMOVE, .agent = 1);
    assert_int_equal(cc_agent_get(f->c, 1, &(cc_agent_view){0}), -CC_E_NO_AGENT);
    /* both go back to the queue and on to Erik; the owed wrap-up is closed */
    assert_int_equal(fx_conv(f, a).offered_to, 2);
    assert_int_equal(fx_conv(f, b).offered_to, 2);
    const cc_event *w = fx_find(f, CC_EV_WRAPPED_UP, d);
    assert_non_null(w);
    assert_int_equal(w->code, CC_WHY_AGENT_REMOVED);
    assert_non_null(fx_find(f, CC_EV_CLOSED, d));
    ERR(f, CC_E_NO_AGENT, .type = CC_CMD_AGENT_REMOVE, .agent = 1);
}

static void test_agent_removed_hands_conference_to_guest(void **state)
{
    fx *f = *state;
    fx_available(f, 1);
    uint32_t a = accepted_by(f, 1, CUST, EP1);
    fx_available(f, 2);
    OK(f, .type = CC_CMD_CONF_INVITE, .agent = 1, .conv = a, .target = 2);
    OK(f, .type = CC_CMD_CONF_ACCEPT, .agent = 2, .conv = a);
    OK(f, .type = CC_CMD_AGENT_REMOVE, .agent = 1);
    assert_int_equal(fx_conv(f, a).owner, 2);
    assert_int_equal(fx_conv(f, a).conf_state, CC_CONF_NONE);
    OK(f, .type = CC_CMD_END, .agent = 2, .conv = a);
}

static void test_config_validation(void **state)
{
    fx *f = *state;
    ERR(f, CC_E_INVALID, .type = CC_CMD_TEAM_PUT, .team = 0, .name = STR_LIT("x"));
    ERR(f, CC_E_INVALID, .type = CC_CMD_TEAM_PUT, .team = CC_MAX_ID, .name = STR_LIT("x"));
    ERR(f, CC_E_INVALID, .type = CC_CMD_TEAM_PUT, .team = 5, .name = STR_LIT(""));
    ERR(f, CC_E_NO_TEAM, .type = CC_CMD_AGENT_PUT, .agent = 9, .name = STR_LIT("x"),
        .ids = (const uint32_t[]){7}, .n_ids = 1);
    ERR(f, CC_E_NO_QUEUE, .type = CC_CMD_EP_PUT, .ep = 9, .number = STR_LIT("123"),
        .queue = 99);
    ERR(f, CC_E_IN_USE, .type = CC_CMD_EP_PUT, .ep = 9, .number = STR_LIT(EP1), .queue = 1);
    /* a business number is a phone number or short code, not a word */
    ERR(f, CC_E_INVALID, .type = CC_CMD_EP_PUT, .ep = 9, .number = STR_LIT("abc"), .queue = 1);
    ERR(f, CC_E_INVALID, .type = CC_CMD_EP_PUT, .ep = 9, .number = STR_LIT("12"), .queue = 1);
    assert_int_equal(cc_ep_by_number(f->c, STR_LIT("abc")), 0);
    ERR(f, CC_E_INVALID, .type = CC_CMD_QUEUE_PUT, .queue = 1, .name = STR_LIT("x"),
        .fallback = 1);
    ERR(f, CC_E_NO_QUEUE, .type = CC_CMD_QUEUE_PUT, .queue = 1, .name = STR_LIT("x"),
        .fallback = 55);
    ERR(f, CC_E_IN_USE, .type = CC_CMD_TEAM_REMOVE, .team = 1);
    ERR(f, CC_E_UNKNOWN_COMMAND, .type = 999);
    ERR(f, CC_E_UNKNOWN_COMMAND, .type = -1);
    /* capacity cannot drop below what the agent holds right now */
    fx_available(f, 1);
    accepted_by(f, 1, CUST, EP1);
    accepted_by(f, 1, "+46780", EP1);
    ERR(f, CC_E_BUSY, .type = CC_CMD_AGENT_PUT, .agent = 1, .name = STR_LIT("Anna"),
        .ids = (const uint32_t[]){1}, .n_ids = 1, .capacity = 1);
    OK(f, .type = CC_CMD_AGENT_PUT, .agent = 1, .name = STR_LIT("Anna"),
       .ids = (const uint32_t[]){1}, .n_ids = 1, .capacity = 2);
    assert_string_equal(cc_err_code(-CC_E_NO_CAPACITY), "no_capacity");
    assert_string_equal(cc_cmd_name(CC_CMD_CONF_EXIT), "conference_exit");
    assert_string_equal(cc_cmd_name(CC_CMD_CONF_CANCEL), "conference_cancel");
    assert_string_equal(cc_why_name(CC_WHY_CANCELLED), "cancelled");
    assert_string_equal(cc_ev_name(CC_EV_OFFERED), "offered");
}

/* ---- logout, disconnect ------------------------------------------------- */

static void test_logout_and_disconnect_lose_pending_offers(void **state)
{
    fx *f = *state;
    fx_available(f, 1);
    uint32_t a = fx_sms(f, CUST, EP1, "x", "1");
    OK(f, .type = CC_CMD_LOGOUT, .agent = 1);
    assert_int_equal(fx_find(f, CC_EV_OFFER_WITHDRAWN, a)->code, CC_WHY_AGENT_AWAY);
    assert_int_equal(fx_conv(f, a).state, CC_CONV_QUEUED);
    fx_available(f, 1);
    assert_int_equal(fx_conv(f, a).offered_to, 1);
    OK(f, .type = CC_CMD_DISCONNECT, .agent = 1);
    assert_int_equal(fx_conv(f, a).state, CC_CONV_QUEUED);
    ERR(f, CC_E_STATE, .type = CC_CMD_DISCONNECT, .agent = 1);
    OK(f, .type = CC_CMD_RECONNECT, .agent = 1);
    assert_int_equal(fx_conv(f, a).offered_to, 1);
    ERR(f, CC_E_STATE, .type = CC_CMD_RECONNECT, .agent = 1);
}

static void test_disconnect_grace_requeues_assigned(void **state)
{
    fx *f = *state;
    OK(f, .type = CC_CMD_SETTINGS, .grace_ms = 60000);
    fx_available(f, 1);
    uint32_t a = accepted_by(f, 1, CUST, EP1);
    OK(f, .type = CC_CMD_DISCONNECT, .agent = 1);
    fx_tick(f, 30000);
    OK(f, .type = CC_CMD_RECONNECT, .agent = 1); /* back in time: keeps it */
    fx_tick(f, 60000);
    assert_int_equal(fx_conv(f, a).owner, 1);
    OK(f, .type = CC_CMD_DISCONNECT, .agent = 1);
    fx_tick(f, 59999);
    assert_int_equal(fx_conv(f, a).owner, 1);
    fx_tick(f, 1);
    const cc_event *q = fx_find(f, CC_EV_QUEUED, a);
    assert_non_null(q);
    assert_int_equal(q->code, CC_WHY_GRACE);
    fx_available(f, 2);
    assert_int_equal(fx_conv(f, a).offered_to, 2);
}

/* ---- 10. outbound ------------------------------------------------------- */

static void test_outbound_conversation(void **state)
{
    fx *f = *state;
    ERR(f, CC_E_NOT_LOGGED_IN, .type = CC_CMD_OUTBOUND, .agent = 1, .ep = 1,
        .number = STR_LIT(CUST));
    OK(f, .type = CC_CMD_LOGIN, .agent = 1); /* Idle is fine for outbound */
    ERR(f, CC_E_NO_ENTRY_POINT, .type = CC_CMD_OUTBOUND, .agent = 1, .ep = 9,
        .number = STR_LIT(CUST));
    ERR(f, CC_E_INVALID, .type = CC_CMD_OUTBOUND, .agent = 1, .ep = 1, .number = STR_LIT(""));
    /* not a number an SMS can go to: letters, blanks, too few or many digits */
    static const char *const bad[] = {"abc", "+46abc", "+", "+46", "070 1234567", "++4670123",
                                      "+4670123456789012", "0701-234567"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        ERR(f, CC_E_INVALID, .type = CC_CMD_OUTBOUND, .agent = 1, .ep = 1,
            .number = str_c(bad[i]));
    OK(f, .type = CC_CMD_OUTBOUND, .agent = 1, .ep = 1, .number = STR_LIT(CUST));
    const cc_event *o = fx_find(f, CC_EV_CONV_OPENED, 0);
    assert_int_equal(o->kind, 1);
    uint32_t a = o->conv;
    cc_conv_view v = fx_conv(f, a);
    assert_int_equal(v.state, CC_CONV_ASSIGNED);
    assert_int_equal(v.owner, 1);
    assert_int_equal(v.outbound, 1);
    OK(f, .type = CC_CMD_SEND, .agent = 1, .conv = a, .text = STR_LIT("Hej från oss"));
    ERR(f, CC_E_EXISTS, .type = CC_CMD_OUTBOUND, .agent = 1, .ep = 1, .number = STR_LIT(CUST));
    /* the customer's answer threads into it */
    assert_int_equal(fx_sms(f, CUST, EP1, "Tack", "r1"), a);
    OK(f, .type = CC_CMD_OUTBOUND, .agent = 1, .ep = 1, .number = STR_LIT("+46790"));
    OK(f, .type = CC_CMD_OUTBOUND, .agent = 1, .ep = 1, .number = STR_LIT("+46791"));
    ERR(f, CC_E_NO_CAPACITY, .type = CC_CMD_OUTBOUND, .agent = 1, .ep = 1,
        .number = STR_LIT("+46792"));
}

/* ---- variables and names ------------------------------------------------ */

static void test_variables_and_display_name(void **state)
{
    fx *f = *state;
    fx_available(f, 1);
    uint32_t a = accepted_by(f, 1, CUST, EP1);
    OK(f, .type = CC_CMD_SET_VAR, .agent = 1, .conv = a, .key = STR_LIT("order"),
       .value = STR_LIT("A-1001"));
    OK(f, .type = CC_CMD_SET_VAR, .agent = 1, .conv = a, .key = STR_LIT("order"),
       .value = STR_LIT("A-1002"));
    str v = cc_conv_var(f->c, a, STR_LIT("order"));
    assert_int_equal(v.n, 6);
    assert_memory_equal(v.p, "A-1002", 6);
    ERR(f, CC_E_INVALID, .type = CC_CMD_SET_VAR, .agent = 1, .conv = a, .key = STR_LIT(""),
        .value = STR_LIT("x"));
    OK(f, .type = CC_CMD_LOGIN, .agent = 2);
    ERR(f, CC_E_NOT_YOURS, .type = CC_CMD_SET_VAR, .agent = 2, .conv = a,
        .key = STR_LIT("k"), .value = STR_LIT("x"));
    for (int i = 1; i < CC_VARS_MAX; i++) {
        char k[16];
        snprintf(k, sizeof k, "k%d", i);
        OK(f, .type = CC_CMD_SET_VAR, .agent = 1, .conv = a, .key = str_c(k),
           .value = STR_LIT("v"));
    }
    ERR(f, CC_E_LIMIT, .type = CC_CMD_SET_VAR, .agent = 1, .conv = a, .key = STR_LIT("more"),
        .value = STR_LIT("v"));
    OK(f, .type = CC_CMD_SET_NAME, .agent = 1, .conv = a, .name = STR_LIT("Melissa"));
    assert_string_equal(fx_conv(f, a).name.p, "Melissa");
}

/* ---- opt-out ------------------------------------------------------------ */

static void test_stop_opts_out_until_start(void **state)
{
    fx *f = *state;
    fx_available(f, 1);
    uint32_t a = accepted_by(f, 1, CUST, EP1);
    OK(f, .type = CC_CMD_SMS_IN, .number = STR_LIT(CUST), .ep_number = STR_LIT(EP1),
       .text = STR_LIT("STOPP"), .msg_id = STR_LIT("s1"), .keyword = CC_KW_STOP);
    assert_non_null(fx_find(f, CC_EV_MSG_IN, a)); /* the agent still sees it */
    const cc_event *o = fx_find(f, CC_EV_OPTED_OUT, a);
    assert_non_null(o);
    assert_int_equal(o->ep, 1);
    assert_true(fx_conv(f, a).opted_out);
    assert_true(cc_opted_out(f->c, STR_LIT(CUST), 1));
    assert_false(cc_opted_out(f->c, STR_LIT(CUST), 2)); /* per entry point */
    ERR(f, CC_E_OPTED_OUT, .type = CC_CMD_SEND, .agent = 1, .conv = a, .text = STR_LIT("Hej?"));
    /* a second STOP changes nothing more */
    OK(f, .type = CC_CMD_SMS_IN, .number = STR_LIT(CUST), .ep_number = STR_LIT(EP1),
       .text = STR_LIT("stop"), .msg_id = STR_LIT("s2"), .keyword = CC_KW_STOP);
    assert_null(fx_find(f, CC_EV_OPTED_OUT, 0));
    /* the opt-out outlives the conversation: no outbound either */
    OK(f, .type = CC_CMD_END, .agent = 1, .conv = a);
    OK(f, .type = CC_CMD_WRAPUP, .agent = 1, .conv = a, .reason = 1);
    ERR(f, CC_E_OPTED_OUT, .type = CC_CMD_OUTBOUND, .agent = 1, .ep = 1,
        .number = STR_LIT(CUST));
    OK(f, .type = CC_CMD_OUTBOUND, .agent = 1, .ep = 2, .number = STR_LIT(CUST));
    /* START opts back in; HELP is only a message */
    uint32_t b = fx_sms(f, CUST, EP1, "BÖRJA", "s3");
    (void)b;
    OK(f, .type = CC_CMD_SMS_IN, .number = STR_LIT(CUST), .ep_number = STR_LIT(EP1),
       .text = STR_LIT("börja"), .msg_id = STR_LIT("s4"), .keyword = CC_KW_START);
    assert_non_null(fx_find(f, CC_EV_OPTED_IN, 0));
    assert_false(cc_opted_out(f->c, STR_LIT(CUST), 1));
    OK(f, .type = CC_CMD_SMS_IN, .number = STR_LIT(CUST), .ep_number = STR_LIT(EP1),
       .text = STR_LIT("HJÄLP"), .msg_id = STR_LIT("s5"), .keyword = CC_KW_HELP);
    assert_null(fx_find(f, CC_EV_OPTED_OUT, 0));
    assert_null(fx_find(f, CC_EV_OPTED_IN, 0));
    assert_non_null(fx_find(f, CC_EV_MSG_IN, 0));
}

/* ---- restart and views -------------------------------------------------- */

static void test_restart_requeues_offers_without_rona(void **state)
{
    fx *f = *state;
    fx_available(f, 1);
    uint32_t held = accepted_by(f, 1, CUST, EP1);
    uint32_t offered = fx_sms(f, "+46711", EP1, "x", "o1");
    assert_int_equal(fx_conv(f, offered).offered_to, 1);
    OK(f, .type = CC_CMD_RESTART);
    assert_int_equal(fx_conv(f, offered).state, CC_CONV_QUEUED);
    assert_int_equal(fx_agent_state(f, 1), ST(AVAILABLE)); /* not RONA */
    cc_agent_view v;
    cc_agent_get(f->c, 1, &v);
    assert_int_equal(v.connected, 0);
    assert_int_equal(fx_conv(f, held).owner, 1); /* kept during the grace period */
    OK(f, .type = CC_CMD_RECONNECT, .agent = 1);
    assert_int_equal(fx_conv(f, offered).offered_to, 1);
}

static void test_views_list_what_an_agent_sees(void **state)
{
    fx *f = *state;
    fx_available(f, 1);
    uint32_t a = accepted_by(f, 1, CUST, EP1);
    uint32_t b = fx_sms(f, "+46712", EP1, "x", "o2");
    uint32_t d = accepted_by(f, 1, "+46713", EP1);
    OK(f, .type = CC_CMD_END, .agent = 1, .conv = d);
    uint32_t ids[8];
    assert_int_equal(cc_agent_convs(f->c, 1, ids, 8), 3);
    assert_int_equal(ids[0], a);
    assert_int_equal(ids[1], b);
    assert_int_equal(ids[2], d);
    assert_int_equal(cc_wrapup_deadline(f->c, 1, d), 0);
    assert_int_equal(cc_wrapup_deadline(f->c, 1, a), -1);
    cc_item items[4];
    assert_int_equal(cc_list(f->c, CC_KIND_QUEUE, items, 4), 2);
    assert_int_equal(items[1].id, 2);
    assert_memory_equal(items[1].name.p, "Sales", 5);
    assert_memory_equal(cc_name(f->c, CC_KIND_EP, 2).p, EP2, strlen(EP2));
    assert_int_equal(cc_name(f->c, CC_KIND_AGENT, 9).n, 0);
}


/* A supervisor forces an agent to an idle reason: the audit record first,
 * then the state with code SUPERVISOR; work in hand stays. */
static void test_force_state_idle(void **state)
{
    fx *f = *state;
    fx_available(f, 1);
    uint32_t conv = fx_sms(f, CUST, EP1, "Hej", "f1");
    OK(f, .type = CC_CMD_ACCEPT, .agent = 1, .conv = conv);
    OK(f, .type = CC_CMD_FORCE_STATE, .agent = 1, .state = CC_AGENT_IDLE, .reason = 1,
       .name = STR_LIT("lena"), .text = STR_LIT("Teammöte"));
    assert_int_equal(f->ev.n, 2);
    const cc_event *e = &f->ev.v[0];
    assert_int_equal(e->type, CC_EV_SUPERVISED);
    assert_int_equal(e->agent, 1);
    assert_int_equal(e->kind, 1);
    assert_int_equal(e->state, CC_AGENT_IDLE);
    assert_int_equal(e->reason, 1);
    assert_true(str_eq(e->name, STR_LIT("lena")));
    assert_true(str_eq(e->text, STR_LIT("Teammöte")));
    e = &f->ev.v[1];
    assert_int_equal(e->type, CC_EV_AGENT_STATE);
    assert_int_equal(e->code, CC_WHY_SUPERVISOR);
    assert_int_equal(fx_agent_state(f, 1), CC_AGENT_IDLE);
    assert_int_equal(fx_conv(f, conv).owner, 1); /* the conversation stays */
    OK(f, .type = CC_CMD_SEND, .agent = 1, .conv = conv, .text = STR_LIT("Strax"));
    /* the same again: recorded, no state change */
    OK(f, .type = CC_CMD_FORCE_STATE, .agent = 1, .state = CC_AGENT_IDLE, .reason = 1,
       .name = STR_LIT("lena"));
    assert_int_equal(f->ev.n, 1);
    assert_int_equal(f->ev.v[0].type, CC_EV_SUPERVISED);
    /* plain idle (no reason) */
    OK(f, .type = CC_CMD_FORCE_STATE, .agent = 1, .state = CC_AGENT_IDLE, .name = STR_LIT("lena"));
    assert_int_equal(f->ev.n, 2);
    assert_int_equal(f->ev.v[1].reason, 0);
}

/* Logging an agent out: refused while it holds work; pending offers go
 * back to the queue as on the agent's own logout. */
static void test_force_state_logout(void **state)
{
    fx *f = *state;
    fx_available(f, 1);
    uint32_t conv = fx_sms(f, CUST, EP1, "Hej", "f2");
    OK(f, .type = CC_CMD_ACCEPT, .agent = 1, .conv = conv);
    ERR(f, CC_E_BUSY, .type = CC_CMD_FORCE_STATE, .agent = 1, .state = CC_AGENT_LOGGED_OUT,
        .name = STR_LIT("lena"));
    OK(f, .type = CC_CMD_END, .agent = 1, .conv = conv);
    ERR(f, CC_E_BUSY, .type = CC_CMD_FORCE_STATE, .agent = 1, .state = CC_AGENT_LOGGED_OUT,
        .name = STR_LIT("lena")); /* a wrap-up is owed */
    OK(f, .type = CC_CMD_WRAPUP, .agent = 1, .conv = conv, .reason = 1);
    uint32_t next = fx_sms(f, "+46709999999", EP1, "Hej", "f3");
    assert_int_equal(fx_conv(f, next).offered_to, 1);
    OK(f, .type = CC_CMD_FORCE_STATE, .agent = 1, .state = CC_AGENT_LOGGED_OUT,
       .name = STR_LIT("lena"), .text = STR_LIT("Passet är slut"));
    assert_non_null(fx_find(f, CC_EV_SUPERVISED, 0));
    assert_non_null(fx_find(f, CC_EV_OFFER_WITHDRAWN, next));
    assert_int_equal(fx_agent_state(f, 1), CC_AGENT_LOGGED_OUT);
    assert_int_equal(fx_conv(f, next).state, CC_CONV_QUEUED);
}

static void test_force_state_refused(void **state)
{
    fx *f = *state;
    str lena = STR_LIT("lena");
    ERR(f, CC_E_NOT_LOGGED_IN, .type = CC_CMD_FORCE_STATE, .agent = 1, .state = CC_AGENT_IDLE,
        .name = lena);
    ERR(f, CC_E_NO_AGENT, .type = CC_CMD_FORCE_STATE, .agent = 99, .state = CC_AGENT_IDLE,
        .name = lena);
    fx_available(f, 1);
    ERR(f, CC_E_INVALID, .type = CC_CMD_FORCE_STATE, .agent = 1, .state = CC_AGENT_IDLE);
    ERR(f, CC_E_INVALID, .type = CC_CMD_FORCE_STATE, .agent = 1, .state = CC_AGENT_IDLE,
        .name = lena, .text = STR_LIT("bad \xfe"));
    ERR(f, CC_E_NO_REASON, .type = CC_CMD_FORCE_STATE, .agent = 1, .state = CC_AGENT_IDLE,
        .reason = 7, .name = lena);
    ERR(f, CC_E_STATE, .type = CC_CMD_FORCE_STATE, .agent = 1, .state = CC_AGENT_AVAILABLE,
        .name = lena);
    ERR(f, CC_E_STATE, .type = CC_CMD_FORCE_STATE, .agent = 1, .state = CC_AGENT_RONA,
        .name = lena);
    assert_int_equal(fx_agent_state(f, 1), CC_AGENT_AVAILABLE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        FX_TEST(test_agent_logs_in_idle_and_chooses_states),
        FX_TEST(test_idle_stops_new_offers_but_work_continues),
        FX_TEST(test_inbound_threads_by_customer_and_entry_point),
        cmocka_unit_test_setup_teardown(test_dedupe_window_says_when_it_forgot, fx_setup,
                                        fx_teardown_window),
        FX_TEST(test_duplicate_provider_id_is_a_no_op),
        FX_TEST(test_inbound_bad_input),
        FX_TEST(test_after_end_next_sms_opens_new_conversation),
        FX_TEST(test_routing_longest_waiting_agent_first),
        FX_TEST(test_queue_is_fifo_and_agent_takes_oldest),
        FX_TEST(test_offers_fill_capacity_then_wait),
        FX_TEST(test_accept_only_own_pending_offer),
        FX_TEST(test_offer_timeout_rona_and_requeue_at_head),
        FX_TEST(test_rona_withdraws_every_pending_offer),
        FX_TEST(test_decline_requeues_in_place),
        FX_TEST(test_reply_rules),
        FX_TEST(test_transfer_to_queue),
        FX_TEST(test_transfer_only_after_accept_and_by_owner),
        FX_TEST(test_transfer_to_agent_accepted),
        FX_TEST(test_transfer_to_agent_not_accepted),
        FX_TEST(test_conference_flow),
        FX_TEST(test_conference_guest_exits_owner_continues),
        FX_TEST(test_conference_declined_or_timed_out),
        FX_TEST(test_conference_cancelled_by_owner),
        FX_TEST(test_end_and_wrapup),
        FX_TEST(test_auto_wrapup_picks_default_reason),
        FX_TEST(test_entry_point_removed_terminates),
        FX_TEST(test_queue_removed_moves_to_fallback_or_terminates),
        FX_TEST(test_agent_removed_requeues_its_work),
        FX_TEST(test_agent_removed_hands_conference_to_guest),
        FX_TEST(test_config_validation),
        FX_TEST(test_logout_and_disconnect_lose_pending_offers),
        FX_TEST(test_disconnect_grace_requeues_assigned),
        FX_TEST(test_outbound_conversation),
        FX_TEST(test_variables_and_display_name),
        FX_TEST(test_restart_requeues_offers_without_rona),
        FX_TEST(test_stop_opts_out_until_start),
        FX_TEST(test_views_list_what_an_agent_sees),
        FX_TEST(test_force_state_idle),
        FX_TEST(test_force_state_logout),
        FX_TEST(test_force_state_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
