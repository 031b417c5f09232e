/*
 * cc_fixture.h: a small harness for core tests. It drives a core with a
 * demo configuration, keeps every emitted event in an owned log, checks the
 * core's invariants after every command and tick, and at teardown replays
 * the whole log into a fresh core and compares the two states.
 *
 * Demo configuration:
 *   teams   1 Support, 2 Sales
 *   queues  1 Support (team 1, RONA 30 s), 2 Sales (team 2, fallback 1,
 *           auto wrap-up 60 s with reason 2)
 *   reasons 1 Solved, 2 No answer; idle reason 1 Lunch
 *   eps     1 "+46700000001" -> queue 1, 2 "71000" -> queue 2
 *   agents  1 Anna (team 1), 2 Erik (team 1), 3 Maja (teams 1, 2),
 *           capacity 3; all logged out
 */
#ifndef TEXTDESK_TEST_CC_FIXTURE_H
#define TEXTDESK_TEST_CC_FIXTURE_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "core/cc.h"

typedef struct fx {
    cc *c;
    cc_events ev; /* events of the last call */
    cc_evlog log; /* every event so far */
    int64_t now;
} fx;

#define EP1 "+46700000001"
#define EP2 "71000"
#define CUST "+46701234567"

static inline void fx_check(fx *f)
{
    char err[256];
    if (cc_check(f->c, err, sizeof err) != 0)
        fail_msg("invariant broken: %s", err);
}

static inline int fx_do(fx *f, cc_cmd cmd)
{
    cc_events_clear(&f->ev);
    int r = cc_apply(f->c, &cmd, f->now, &f->ev);
    if (r != 0)
        assert_int_equal(f->ev.n, 0); /* errors and duplicates emit nothing */
    for (size_t i = 0; i < f->ev.n; i++)
        cc_evlog_add(&f->log, &f->ev.v[i]);
    fx_check(f);
    return r;
}

#define DO(f, ...) fx_do((f), (cc_cmd){__VA_ARGS__})
#define OK(f, ...) assert_int_equal(fx_do((f), (cc_cmd){__VA_ARGS__}), 0)
#define ERR(f, e, ...) assert_int_equal(fx_do((f), (cc_cmd){__VA_ARGS__}), -(e))

/* Advances the clock by 'ms' and fires due timers. */
static inline void fx_tick(fx *f, int64_t ms)
{
    f->now += ms;
    cc_events_clear(&f->ev);
    cc_tick(f->c, f->now, &f->ev);
    for (size_t i = 0; i < f->ev.n; i++)
        cc_evlog_add(&f->log, &f->ev.v[i]);
    fx_check(f);
}

/* The first event of 'type' in the last call for 'conv' (0: any), or NULL. */
static inline const cc_event *fx_find(const fx *f, int type, uint32_t conv)
{
    for (size_t i = 0; i < f->ev.n; i++)
        if (f->ev.v[i].type == type && (conv == 0 || f->ev.v[i].conv == conv))
            return &f->ev.v[i];
    return NULL;
}

static inline size_t fx_count(const fx *f, int type)
{
    size_t n = 0;
    for (size_t i = 0; i < f->ev.n; i++)
        n += f->ev.v[i].type == type;
    return n;
}

static inline int fx_agent_state(const fx *f, uint32_t agent)
{
    cc_agent_view v;
    assert_int_equal(cc_agent_get(f->c, agent, &v), 0);
    return v.state;
}

static inline cc_conv_view fx_conv(const fx *f, uint32_t conv)
{
    cc_conv_view v;
    assert_int_equal(cc_conv_get(f->c, conv, &v), 0);
    return v;
}

/* Customer 'from' texts entry point 'to'; returns the conversation id. */
static inline uint32_t fx_sms(fx *f, const char *from, const char *to, const char *text,
                              const char *msg_id)
{
    assert_int_equal(DO(f, .type = CC_CMD_SMS_IN, .number = str_c(from),
                        .ep_number = str_c(to), .text = str_c(text),
                        .msg_id = str_c(msg_id)),
                     0);
    const cc_event *m = fx_find(f, CC_EV_MSG_IN, 0);
    assert_non_null(m);
    return m->conv;
}

static inline void fx_available(fx *f, uint32_t agent)
{
    cc_agent_view v;
    assert_int_equal(cc_agent_get(f->c, agent, &v), 0);
    if (v.state == CC_AGENT_LOGGED_OUT)
        OK(f, .type = CC_CMD_LOGIN, .agent = agent);
    OK(f, .type = CC_CMD_SET_STATE, .agent = agent, .state = CC_AGENT_AVAILABLE);
}

static inline void fx_config(fx *f)
{
    static const uint32_t t1[] = {1}, t2[] = {2}, t12[] = {1, 2};
    OK(f, .type = CC_CMD_TEAM_PUT, .team = 1, .name = STR_LIT("Support"));
    OK(f, .type = CC_CMD_TEAM_PUT, .team = 2, .name = STR_LIT("Sales"));
    OK(f, .type = CC_CMD_REASON_PUT, .reason = 1, .name = STR_LIT("Solved"));
    OK(f, .type = CC_CMD_REASON_PUT, .reason = 2, .name = STR_LIT("No answer"));
    OK(f, .type = CC_CMD_IDLE_REASON_PUT, .reason = 1, .name = STR_LIT("Lunch"));
    OK(f, .type = CC_CMD_QUEUE_PUT, .queue = 1, .name = STR_LIT("Support"), .ids = t1,
       .n_ids = 1);
    OK(f, .type = CC_CMD_QUEUE_PUT, .queue = 2, .name = STR_LIT("Sales"), .ids = t2,
       .n_ids = 1, .fallback = 1, .autowrap_ms = 60000, .reason = 2);
    OK(f, .type = CC_CMD_EP_PUT, .ep = 1, .number = STR_LIT(EP1), .queue = 1);
    OK(f, .type = CC_CMD_EP_PUT, .ep = 2, .number = STR_LIT(EP2), .queue = 2);
    OK(f, .type = CC_CMD_AGENT_PUT, .agent = 1, .name = STR_LIT("Anna Berg"), .ids = t1,
       .n_ids = 1);
    OK(f, .type = CC_CMD_AGENT_PUT, .agent = 2, .name = STR_LIT("Erik Lund"), .ids = t1,
       .n_ids = 1);
    OK(f, .type = CC_CMD_AGENT_PUT, .agent = 3, .name = STR_LIT("Maja Ek"), .ids = t12,
       .n_ids = 2);
}

/* Replays the log into a fresh core; its dump must equal the live one. */
static inline void fx_replay_check(fx *f)
{
    cc *r = cc_new();
    for (size_t i = 0; i < f->log.n; i++) {
        int rc = cc_replay(r, &f->log.v[i]);
        if (rc != 0)
            fail_msg("replay of event %zu (%s) failed: %s", i, cc_ev_name(f->log.v[i].type),
                     cc_err_code(rc));
    }
    char *a = cc_dump(f->c), *b = cc_dump(r);
    if (strcmp(a, b) != 0) {
        fprintf(stderr, "live:\n%s\nreplayed:\n%s\n", a, b);
        fail_msg("replayed state differs from live state");
    }
    free(a);
    free(b);
    cc_free(r);
}

static inline int fx_setup(void **state)
{
    fx *f = calloc(1, sizeof *f);
    f->c = cc_new();
    cc_events_init(&f->ev);
    cc_evlog_init(&f->log);
    f->now = 1000000;
    fx_config(f);
    *state = f;
    return 0;
}

static inline int fx_teardown(void **state)
{
    fx *f = *state;
    fx_replay_check(f);
    cc_events_free(&f->ev);
    cc_evlog_free(&f->log);
    cc_free(f->c);
    free(f);
    return 0;
}

#define FX_TEST(fn) cmocka_unit_test_setup_teardown(fn, fx_setup, fx_teardown)

#endif
