/*
 * test_app_window: the commit window (app.h, APP_COMMIT_WINDOW_MS). A real
 * app on a SQLite file (the built-in demo configuration) with its loop, the
 * inbound SMS applied from inside loop turns as the gateways do (a timer's
 * callback, or the answer of the previous one). A lone SMS after a quiet
 * spell commits at the next turn; an SMS right after a small commit waits
 * for more, and one that comes in a later turn shares its commit; the
 * answers only ever follow the commit; a window that gained nothing (a
 * sender that waits for each answer) makes the next ones skip, 1, 2, 4 ...;
 * a window that fills up commits at once, and a large commit opens none.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "app/app.h"
#include "util/loop_clock.h"

#define MAX_SMS 200

typedef struct env {
    char dir[64];
    app_config *cfg;
    app a;
    int next;                  /* SMS applied so far */
    int armed[MAX_SMS];        /* a.flush_armed right after each apply */
    uint64_t applied_at[MAX_SMS]; /* a.commits.commits then */
    uint64_t answered_at[MAX_SMS]; /* a.commits.commits at its answer (0: none yet) */
    int chain;                 /* answers that apply the next SMS */
} env;

static env *E;

static void on_answer(void *arg, int status);

/* Applies the next inbound SMS (a new customer each) and waits for its
 * answer, as a gateway does. */
static void apply_sms(env *e)
{
    int i = e->next++;
    assert_true(i < MAX_SMS);
    char from[32], id[32];
    snprintf(from, sizeof from, "+46701%06d", i);
    snprintf(id, sizeof id, "win:%d", i);
    assert_int_equal(app_apply(&e->a, &(cc_cmd){.type = CC_CMD_SMS_IN, .number = str_c(from),
                                               .ep_number = STR_LIT("+46700000001"),
                                               .text = STR_LIT("Hej"), .msg_id = str_c(id)}),
                     0);
    e->armed[i] = e->a.flush_armed;
    e->applied_at[i] = e->a.commits.commits;
    app_after_commit(&e->a, on_answer, (void *)(intptr_t)i);
}

static void on_answer(void *arg, int status)
{
    int i = (int)(intptr_t)arg;
    assert_int_equal(status, 0);
    assert_int_equal(E->answered_at[i], 0);
    E->answered_at[i] = E->a.commits.commits;
    if (E->chain > 0) { /* the sender's next SMS, right after this commit */
        E->chain--;
        apply_sms(E);
    }
}

static void on_timer(void *arg)
{
    apply_sms(arg);
}

/* Turns the loop until SMS 'i' is answered. */
static void turn_until_answered(env *e, int i)
{
    for (int k = 0; k < 100000 && !e->answered_at[i]; k++)
        assert_int_equal(net_loop_turn(e->a.loop), 0);
    assert_true(e->answered_at[i] > 0);
}

static net_timer *tick;

static void on_tick(void *arg)
{
    (void)arg;
    net_timer_set(tick, 1);
}

/* Turns the loop for 'ms' milliseconds (a quiet spell; a 1 ms tick keeps
 * it turning). */
static void turn_for(env *e, int64_t ms)
{
    tick = net_timer_new(e->a.loop, on_tick, NULL);
    net_timer_set(tick, 1);
    int64_t until = loop_clock_mono_now() + ms;
    while (loop_clock_mono_now() < until)
        assert_int_equal(net_loop_turn(e->a.loop), 0);
    net_timer_free(tick);
    tick = NULL;
}

static int setup(void **state)
{
    static env e;
    memset(&e, 0, sizeof e);
    E = &e;
    snprintf(e.dir, sizeof e.dir, "/tmp/td_windowXXXXXX");
    assert_non_null(mkdtemp(e.dir));
    char err[512], data[96];
    e.cfg = app_config_load(NULL, err, sizeof err);
    assert_non_null(e.cfg);
    snprintf(data, sizeof data, "%s/data", e.dir);
    if (app_open(&e.a, data, e.cfg, err, sizeof err) != 0)
        fail_msg("app_open: %s", err);
    http_cfg hc = {.iface = "127.0.0.1", .port = 0, .web_dir = TEXTDESK_WEB_DIR};
    if (app_listen(&e.a, &hc, err, sizeof err) != 0)
        fail_msg("app_listen: %s", err);
    turn_for(&e, 20); /* what the start scheduled */
    *state = &e;
    return 0;
}

static int teardown(void **state)
{
    env *e = *state;
    app_close(&e->a);
    app_config_free(e->cfg);
    char cmd[96];
    snprintf(cmd, sizeof cmd, "rm -rf %s", e->dir);
    assert_int_equal(system(cmd), 0);
    return 0;
}

/* After a quiet spell: no window, committed in the next turn. */
static void lone_sms(env *e)
{
    turn_for(e, 3 * APP_COMMIT_WINDOW_MS + 5);
    net_timer *t = net_timer_new(e->a.loop, on_timer, e);
    net_timer_set(t, 0);
    int i = e->next;
    turn_until_answered(e, i);
    net_timer_free(t);
    assert_int_equal(e->armed[i], 1); /* at once */
    assert_int_equal(e->answered_at[i], e->applied_at[i] + 1); /* after its commit */
}

static void test_a_lone_sms_commits_at_once(void **state)
{
    env *e = *state;
    lone_sms(e);
    lone_sms(e); /* and again: no window learnt from the first */
}

/* An SMS right after a small commit opens the window; one applied in a
 * later turn, before the window ends, shares its commit. */
static void test_a_burst_shares_one_commit(void **state)
{
    env *e = *state;
    lone_sms(e);
    e->chain = 1; /* its answer applies the next one, right after that commit */
    int first = e->next;
    lone_sms(e);
    int second = first + 1;
    assert_int_equal(e->next, second + 1);
    assert_int_equal(e->armed[second], 2); /* the window */
    assert_int_equal(e->answered_at[second], 0); /* not before its commit */
    net_timer *t = net_timer_new(e->a.loop, on_timer, e);
    net_timer_set(t, 0); /* the next turn, within the window */
    int third = second + 1;
    turn_until_answered(e, third);
    net_timer_free(t);
    assert_int_equal(e->armed[third], 2); /* still open */
    turn_until_answered(e, second);
    /* one commit for both, after both were applied */
    assert_int_equal(e->answered_at[second], e->applied_at[second] + 1);
    assert_int_equal(e->answered_at[third], e->answered_at[second]);
}

/* A sender that waits for each answer (a closed loop of one): the window
 * gains nothing, and the next windows open ever more rarely. */
static void test_a_window_that_gains_nothing_backs_off(void **state)
{
    env *e = *state;
    e->chain = 12;
    int first = e->next;
    lone_sms(e); /* its answer starts the chain */
    turn_until_answered(e, first + 12);
    assert_int_equal(e->chain, 0);
    /* opened (gained nothing: skip 1), skipped, opened (skip 2), skipped
     * twice, opened (skip 4), four skipped, opened (skip 8), skipped */
    static const int want[] = {2, 1, 2, 1, 1, 2, 1, 1, 1, 1, 2, 1};
    for (int k = 0; k < 12; k++) {
        int i = first + 1 + k;
        if (e->armed[i] != want[k])
            fail_msg("SMS %d of the chain: flush_armed %d, want %d", k, e->armed[i], want[k]);
        assert_int_equal(e->answered_at[i], e->applied_at[i] + 1); /* each its own commit */
    }
}

/* A window that fills up commits at once; a large commit opens no window
 * after it (a high rate: what comes meanwhile shares the next commit). */
static void test_a_full_window_commits_at_once(void **state)
{
    env *e = *state;
    lone_sms(e);
    int first = e->next;
    e->chain = 1;
    lone_sms(e);
    int opener = first + 1;
    assert_int_equal(e->armed[opener], 2);
    while (e->a.flush_armed == 2) /* the same turn: SMS until the window is full */
        apply_sms(e);
    int last = e->next - 1;
    assert_true(e->a.staged.n >= APP_COMMIT_WINDOW_EVENTS);
    assert_int_equal(e->armed[last], 1);
    turn_until_answered(e, last);
    assert_int_equal(e->answered_at[opener], e->answered_at[last]);
    assert_true(e->a.last_commit_events >= APP_COMMIT_WINDOW_EVENTS);
    /* right after that large commit */
    e->chain = 0;
    apply_sms(e);
    assert_int_equal(e->armed[e->next - 1], 1);
    turn_until_answered(e, e->next - 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_a_lone_sms_commits_at_once, setup, teardown),
        cmocka_unit_test_setup_teardown(test_a_burst_shares_one_commit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_a_window_that_gains_nothing_backs_off, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_a_full_window_commits_at_once, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
