/*
 * test_app_clock: the core's deadlines run on the monotonic clock (app.h,
 * app_now; util/loop_clock.h). A forward step of the wall clock (NTP, an
 * operator) does not fire a pending offer's timeout (RONA); the monotonic
 * time passing does. Drives a real app (SQLite file in a temporary
 * directory, the built-in demo configuration) without a loop.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "app/app.h"
#include "util/loop_clock.h"

static int64_t fake_wall = 1780000000000, fake_mono = 5000000;

static int64_t src_wall(void)
{
    return fake_wall;
}

static int64_t src_mono(void)
{
    return fake_mono;
}

typedef struct env {
    char dir[64];
    app_config *cfg;
    app a;
} env;

static int setup(void **state)
{
    env *e = calloc(1, sizeof *e);
    snprintf(e->dir, sizeof e->dir, "/tmp/td_clockXXXXXX");
    assert_non_null(mkdtemp(e->dir));
    loop_clock_set_source(src_wall, src_mono);
    char err[512];
    e->cfg = app_config_load(NULL, err, sizeof err);
    assert_non_null(e->cfg);
    char data[96];
    snprintf(data, sizeof data, "%s/data", e->dir);
    assert_int_equal(app_open(&e->a, data, e->cfg, err, sizeof err), 0);
    *state = e;
    return 0;
}

static int teardown(void **state)
{
    env *e = *state;
    app_close(&e->a);
    app_config_free(e->cfg);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", e->dir);
    assert_int_equal(system(cmd), 0);
    loop_clock_set_source(NULL, NULL);
    free(e);
    return 0;
}

/* Anna (agent 1) available; a customer texts entry point 1 (queue 1, RONA
 * 30 s): the conversation is offered to her. Returns its id. */
static uint32_t offer_to_anna(app *a)
{
    assert_int_equal(app_apply(a, &(cc_cmd){.type = CC_CMD_LOGIN, .agent = 1}), 0);
    assert_int_equal(app_apply(a, &(cc_cmd){.type = CC_CMD_SET_STATE, .agent = 1,
                                            .state = CC_AGENT_AVAILABLE}),
                     0);
    assert_int_equal(app_apply(a, &(cc_cmd){.type = CC_CMD_SMS_IN,
                                            .number = STR_LIT("+46701234567"),
                                            .ep_number = STR_LIT("+46700000001"),
                                            .text = STR_LIT("Hej"),
                                            .msg_id = STR_LIT("t:1")}),
                     0);
    app_flush(a);
    uint32_t ids[4];
    size_t n = cc_agent_convs(a->core, 1, ids, 4);
    assert_int_equal(n, 1);
    cc_conv_view v;
    assert_int_equal(cc_conv_get(a->core, ids[0], &v), 0);
    assert_int_equal(v.state, CC_CONV_OFFERED);
    assert_int_equal(v.offered_to, 1);
    return ids[0];
}

static void test_wall_step_fires_nothing(void **state)
{
    env *e = *state;
    uint32_t conv = offer_to_anna(&e->a);
    int64_t wall0 = loop_clock_wall(), core0 = app_now(&e->a);

    fake_wall += 3600 * 1000; /* the system clock steps an hour ahead */
    loop_clock_refresh();
    assert_int_equal(loop_clock_wall() - wall0, 3600 * 1000);
    assert_int_equal(app_now(&e->a), core0); /* the core's clock did not move */
    app__core_tick(&e->a);
    app_flush(&e->a);
    cc_conv_view v;
    assert_int_equal(cc_conv_get(e->a.core, conv, &v), 0);
    assert_int_equal(v.state, CC_CONV_OFFERED); /* the offer still stands */
    assert_int_equal(v.offered_to, 1);

    fake_wall -= 2 * 3600 * 1000; /* and back, an hour behind */
    fake_mono += 29 * 1000;       /* 29 s pass */
    loop_clock_refresh();
    app__core_tick(&e->a);
    app_flush(&e->a);
    assert_int_equal(cc_conv_get(e->a.core, conv, &v), 0);
    assert_int_equal(v.state, CC_CONV_OFFERED);

    fake_mono += 2 * 1000; /* 31 s after the offer: RONA */
    loop_clock_refresh();
    app__core_tick(&e->a);
    app_flush(&e->a);
    assert_int_equal(cc_conv_get(e->a.core, conv, &v), 0);
    assert_int_not_equal(v.offered_to, 1);
    cc_agent_view ag;
    assert_int_equal(cc_agent_get(e->a.core, 1, &ag), 0);
    assert_int_not_equal(ag.state, CC_AGENT_AVAILABLE); /* not ready: did not answer */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_wall_step_fires_nothing, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
