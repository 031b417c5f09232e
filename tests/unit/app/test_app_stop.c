/*
 * test_app_stop: a graceful stop stores what the closing desktops cause
 * (their agents' disconnects, the conversations that follow) in one
 * transaction at the end of app_close, not one commit each: with 10,000
 * desktops one commit (an fsync) each made a stop take ~40 s, and a
 * cluster's standby waited that long for the lock. Nothing is lost: every
 * disconnect is in the store afterwards. Drives a real app (SQLite file in
 * a temporary directory, the built-in demo configuration) without a loop,
 * and reads the file with a second SQLite connection.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <sqlite3.h>

#include "app/app.h"

/* The number of rows 'sql' counts in the store file under 'dir', read by a
 * connection of its own (what a restarted server would find). */
static long long count(const char *dir, const char *sql)
{
    char path[128];
    snprintf(path, sizeof path, "%s/data/textdesk.db", dir);
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    long long n = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(db);
    return n;
}

static void test_stop_commits_disconnects_once(void **state)
{
    (void)state;
    char dir[] = "/tmp/td_stopXXXXXX";
    assert_non_null(mkdtemp(dir));
    char err[512], data[64];
    app_config *cfg = app_config_load(NULL, err, sizeof err);
    assert_non_null(cfg);
    snprintf(data, sizeof data, "%s/data", dir);
    app a = {0};
    int r = app_open(&a, data, cfg, err, sizeof err);
    if (r != 0)
        fail_msg("app_open: %s", err);
    /* serving without a loop commits each command at once */
    for (uint32_t ag = 1; ag <= 3; ag++) {
        assert_int_equal(app_apply(&a, &(cc_cmd){.type = CC_CMD_LOGIN, .agent = ag}), 0);
        assert_int_equal(app_apply(&a, &(cc_cmd){.type = CC_CMD_SET_STATE, .agent = ag,
                                                 .state = CC_AGENT_AVAILABLE}),
                         0);
    }
    const char *all = "SELECT count(*) FROM events";
    long long before = count(dir, all);
    assert_true(before >= 6);

    /* stopping: the desktops close, each agent disconnects */
    a.stopping = 1;
    for (uint32_t ag = 1; ag <= 3; ag++)
        assert_int_equal(app_apply(&a, &(cc_cmd){.type = CC_CMD_DISCONNECT, .agent = ag}), 0);
    assert_int_equal(count(dir, all), before); /* not one commit each */

    app_close(&a);
    long long after = count(dir, all);
    assert_true(after >= before + 3); /* all of them, in app_close's last commit */
    char q[128];
    snprintf(q, sizeof q, "SELECT count(DISTINCT agent) FROM events WHERE seq > %lld", before);
    assert_int_equal(count(dir, q), 3);
    app_config_free(cfg);
    char cmd[64];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    assert_int_equal(system(cmd), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_stop_commits_disconnects_once),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
