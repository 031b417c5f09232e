/*
 * test_app_commit: the group commit confirmed asynchronously (app.h,
 * app__commit_poll; PostgreSQL's store_commit_start). A real app on a real
 * PostgreSQL 15 (the CTest fixture's, named by TEXTDESK_TEST_PG_DIR; skipped
 * without one), the built-in demo configuration, no loop: the test polls.
 * What waits for a commit is released by its confirmation, never before; a
 * command applied meanwhile goes into the next transaction; a commit that
 * waits on the database does not hold the caller; a commit that fails
 * refuses its waiters and puts the app in degraded mode.
 */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "app/app.h"
#include "app_test_pg.h"

typedef struct env {
    char url[320];
    app_config *cfg;
    app a;
} env;

static int setup(void **state)
{
    env *e = calloc(1, sizeof *e);
    if (pg_fixture_db("app", NULL, 0, e->url, sizeof e->url) != 0) {
        free(e);
        skip(); /* no PostgreSQL to run on (run by ctest, with the pg fixture) */
    }
    char err[512];
    e->cfg = app_config_load(NULL, err, sizeof err);
    assert_non_null(e->cfg);
    assert_int_equal(app_open(&e->a, e->url, e->cfg, err, sizeof err), 0);
    e->a.async_commit = 1; /* as app_listen sets it */
    *state = e;
    return 0;
}

static int teardown(void **state)
{
    env *e = *state;
    app_close(&e->a);
    app_config_free(e->cfg);
    free(e);
    return 0;
}

typedef struct seen {
    int n;
    int status;
} seen;

static void on_done(void *arg, int status)
{
    seen *s = arg;
    s->n++;
    s->status = status;
}

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Polls until nothing is in flight (at most ~5 s). */
static void poll_until_idle(app *a)
{
    for (int i = 0; i < 5000 && !app__commit_poll(a); i++)
        usleep(1000);
    assert_int_equal(a->in_flight, 0);
}

static int agent_state(app *a, uint32_t agent)
{
    cc_agent_view v;
    assert_int_equal(cc_agent_get(a->core, agent, &v), 0);
    return v.state;
}

static uint64_t stored_seq(app *a)
{
    uint64_t last = 0;
    assert_int_equal(store_last_seq(a->st, &last), 0);
    return last;
}

static void test_waiters_follow_the_confirmation(void **state)
{
    env *e = *state;
    app *a = &e->a;
    uint64_t seq0 = stored_seq(a);
    assert_int_equal(app_apply(a, &(cc_cmd){.type = CC_CMD_LOGIN, .agent = 1}), 0);
    seen first = {0}, second = {0}, idle = {0};
    app_after_commit(a, on_done, &first);
    app_flush(a);
    assert_int_equal(a->in_flight, 1); /* started, not confirmed: the caller did not wait */
    assert_int_equal(first.n, 0);
    /* nothing new staged: waits for the transaction in flight (its work may
     * be in it), not released at once */
    app_after_commit(a, on_done, &idle);
    assert_int_equal(idle.n, 0);
    /* applied meanwhile: staged for the next transaction */
    assert_int_equal(app_apply(a, &(cc_cmd){.type = CC_CMD_SET_STATE, .agent = 1,
                                            .state = CC_AGENT_AVAILABLE}),
                     0);
    app_after_commit(a, on_done, &second);
    app_flush(a); /* one in flight: runs after its confirmation */
    assert_int_equal(a->flush_again, 1);
    for (int i = 0; i < 5000 && first.n == 0; i++) {
        app__commit_poll(a);
        if (first.n == 0)
            usleep(1000);
    }
    assert_int_equal(first.n, 1);
    assert_int_equal(first.status, 0);
    assert_int_equal(idle.n, 1);
    assert_int_equal(second.n, 0); /* its transaction has only just started */
    poll_until_idle(a);
    assert_int_equal(second.n, 1);
    assert_int_equal(second.status, 0);
    assert_true(stored_seq(a) >= seq0 + 2);
    assert_int_equal(agent_state(a, 1), CC_AGENT_AVAILABLE);
    /* nothing in flight, nothing staged: answered at once */
    seen now = {0};
    app_after_commit(a, on_done, &now);
    assert_int_equal(now.n, 1);
}

/* A lock held elsewhere holds the commit, not the caller; released within
 * the store's lock timeout, the commit goes through; held past it, the
 * commit fails: its waiters are refused, degraded mode begins and the core
 * goes back to what the log holds. */
static void test_a_waiting_commit_holds_nobody(void **state)
{
    env *e = *state;
    app *a = &e->a;
    PGconn *locker = pg_connect_url(e->url);
    /* two commits: the store's two connections made, their statements
     * prepared (preparing waits on the lock too) */
    assert_int_equal(app_apply(a, &(cc_cmd){.type = CC_CMD_LOGIN, .agent = 1}), 0);
    app_flush(a);
    poll_until_idle(a);
    assert_int_equal(app_apply(a, &(cc_cmd){.type = CC_CMD_SET_STATE, .agent = 1,
                                            .state = CC_AGENT_AVAILABLE}),
                     0);
    app_flush(a);
    poll_until_idle(a);

    pg_exec(locker, "BEGIN");
    pg_exec(locker, "LOCK TABLE events IN EXCLUSIVE MODE");
    assert_int_equal(app_apply(a, &(cc_cmd){.type = CC_CMD_SET_STATE, .agent = 1,
                                            .state = CC_AGENT_IDLE}),
                     0);
    seen ok = {0};
    app_after_commit(a, on_done, &ok);
    app_flush(a);
    /* 20 ms by the clock (not 20 sleeps: under load 20 sleeps of 1 ms took
     * longer than the store's 200 ms lock timeout, which then ended the
     * commit the test meant to release): the commit waits on the lock */
    for (int64_t end = mono_ms() + 20; mono_ms() < end;) {
        assert_int_equal(app__commit_poll(a), 0);
        usleep(1000);
    }
    assert_int_equal(ok.n, 0);
    pg_exec(locker, "COMMIT");
    poll_until_idle(a);
    assert_int_equal(ok.n, 1);
    assert_int_equal(ok.status, 0);
    assert_int_equal(a->degraded, 0);

    pg_exec(locker, "BEGIN");
    pg_exec(locker, "LOCK TABLE events IN EXCLUSIVE MODE");
    assert_int_equal(app_apply(a, &(cc_cmd){.type = CC_CMD_SET_STATE, .agent = 1,
                                            .state = CC_AGENT_AVAILABLE}),
                     0);
    assert_int_equal(agent_state(a, 1), CC_AGENT_AVAILABLE); /* applied, not yet kept */
    seen refused = {0};
    app_after_commit(a, on_done, &refused);
    app_flush(a);
    poll_until_idle(a); /* the store's lock timeout (200 ms) ends it */
    pg_exec(locker, "COMMIT");
    PQfinish(locker);
    assert_int_equal(refused.n, 1);
    assert_int_equal(refused.status, -CC_E_STORE);
    assert_int_equal(a->degraded, 1);
    assert_int_equal(agent_state(a, 1), CC_AGENT_IDLE); /* what the log holds */
    assert_int_equal(app_apply(a, &(cc_cmd){.type = CC_CMD_SET_STATE, .agent = 1,
                                            .state = CC_AGENT_AVAILABLE}),
                     -CC_E_STORE);
}

/* Commits one command and polls until confirmed; returns the backend of
 * the connection that carried it. */
static int64_t commit_one(env *e, PGconn *c, int state)
{
    app *a = &e->a;
    assert_int_equal(app_apply(a, &(cc_cmd){.type = CC_CMD_SET_STATE, .agent = 1,
                                            .state = state}),
                     0);
    app_flush(a);
    assert_int_equal(a->in_flight, 1);
    int64_t pid = pg_backend_of(c, store_commit_fd(a->st));
    poll_until_idle(a);
    assert_int_equal(a->degraded, 0);
    return pid;
}

/* A connection the server ended while it was idle, unseen when the next
 * transaction began (its backend stopped when told to terminate: no
 * goodbye yet): BEGIN went out with the appends, the answers show the
 * transaction never began, and the app runs it again at once on the other
 * connection: confirmed, its waiter released with success, no degraded
 * mode, the events stored once. */
static void test_a_connection_dead_while_idle_is_retried(void **state)
{
    env *e = *state;
    app *a = &e->a;
    PGconn *c = pg_connect_url(e->url);
    assert_int_equal(app_apply(a, &(cc_cmd){.type = CC_CMD_LOGIN, .agent = 1}), 0);
    app_flush(a);
    poll_until_idle(a);
    /* the two connections take turns: the next transaction goes on the
     * first one's */
    int64_t first = commit_one(e, c, CC_AGENT_AVAILABLE);
    int64_t second = commit_one(e, c, CC_AGENT_IDLE);
    assert_true(first != second);
    uint64_t seq0 = stored_seq(a);

    assert_int_equal(kill((pid_t)first, SIGSTOP), 0);
    char sql[96];
    snprintf(sql, sizeof sql, "SELECT pg_terminate_backend(%lld)", (long long)first);
    pg_exec(c, sql);
    assert_int_equal(app_apply(a, &(cc_cmd){.type = CC_CMD_SET_STATE, .agent = 1,
                                            .state = CC_AGENT_AVAILABLE}),
                     0);
    seen ok = {0};
    app_after_commit(a, on_done, &ok);
    app_flush(a);
    assert_int_equal(a->in_flight, 1);
    assert_int_equal(app__commit_poll(a), 0); /* no answer: the backend is stopped */
    assert_int_equal(ok.n, 0);
    assert_int_equal(kill((pid_t)first, SIGCONT), 0);
    poll_until_idle(a);
    assert_int_equal(a->retried, 1); /* it went again */
    assert_int_equal(ok.n, 1);
    assert_int_equal(ok.status, 0);
    assert_int_equal(a->degraded, 0);
    assert_int_equal(stored_seq(a), seq0 + 1);
    assert_int_equal(agent_state(a, 1), CC_AGENT_AVAILABLE);
    PQfinish(c);
}

/* The connection killed under a commit whose transaction had begun (held
 * inside its insert by a trigger that sleeps, so the kill comes before its
 * COMMIT; a lock held elsewhere ended it by the store's 200 ms lock timeout
 * before a loaded test saw it wait): the waiter is refused, never released
 * before, degraded mode begins, and nothing of the transaction is stored
 * nor in the core. */
static void test_a_connection_killed_under_a_commit(void **state)
{
    env *e = *state;
    app *a = &e->a;
    PGconn *c = pg_connect_url(e->url);
    assert_int_equal(app_apply(a, &(cc_cmd){.type = CC_CMD_LOGIN, .agent = 1}), 0);
    app_flush(a);
    poll_until_idle(a);
    commit_one(e, c, CC_AGENT_AVAILABLE);
    commit_one(e, c, CC_AGENT_IDLE);
    uint64_t seq0 = stored_seq(a);

    pg_exec(c, "CREATE FUNCTION test_hold() RETURNS trigger LANGUAGE plpgsql AS"
               " $$ BEGIN PERFORM pg_sleep(60); RETURN NEW; END $$");
    pg_exec(c, "CREATE TRIGGER test_hold BEFORE INSERT ON events"
               " FOR EACH ROW EXECUTE FUNCTION test_hold()");
    assert_int_equal(app_apply(a, &(cc_cmd){.type = CC_CMD_SET_STATE, .agent = 1,
                                            .state = CC_AGENT_AVAILABLE}),
                     0);
    seen refused = {0};
    app_after_commit(a, on_done, &refused);
    app_flush(a);
    int64_t pid = pg_backend_of(c, store_commit_fd(a->st));
    char sql[128];
    /* BEGIN answered: the insert waits in the trigger */
    snprintf(sql, sizeof sql, "SELECT count(*) FROM pg_stat_activity WHERE pid = %lld"
                              " AND wait_event = 'PgSleep'", (long long)pid);
    for (int i = 0; i < 500 && pg_int(c, sql) == 0; i++) {
        assert_int_equal(app__commit_poll(a), 0);
        usleep(10000);
    }
    assert_int_equal(pg_int(c, sql), 1);
    assert_int_equal(refused.n, 0);
    snprintf(sql, sizeof sql, "SELECT pg_terminate_backend(%lld)", (long long)pid);
    pg_exec(c, sql);
    poll_until_idle(a);
    pg_exec(c, "DROP TRIGGER test_hold ON events");
    pg_exec(c, "DROP FUNCTION test_hold()");
    assert_int_equal(a->retried, 0); /* it had begun: it may not be run again */
    assert_int_equal(refused.n, 1);
    assert_int_equal(refused.status, -CC_E_STORE);
    assert_int_equal(a->degraded, 1);
    assert_int_equal(stored_seq(a), seq0);
    assert_int_equal(agent_state(a, 1), CC_AGENT_IDLE); /* what the log holds */
    PQfinish(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_waiters_follow_the_confirmation, setup, teardown),
        cmocka_unit_test_setup_teardown(test_a_waiting_commit_holds_nobody, setup, teardown),
        cmocka_unit_test_setup_teardown(test_a_connection_dead_while_idle_is_retried, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_a_connection_killed_under_a_commit, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
