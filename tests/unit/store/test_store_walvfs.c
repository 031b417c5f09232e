/*
 * test_store_walvfs: the VFS that writes a commit's WAL frames in one write
 * (store_walvfs.c). A commit's frames reach the file in one write instead of
 * two per page; another connection (the default VFS, as another process
 * would read it) sees every commit at once, with synchronous FULL and
 * NORMAL; a process killed right after a commit keeps it; a transaction
 * larger than the cache (spilled, rewritten frames) and than 1 MiB reads
 * back whole; a commit that cannot be written fails, and the next one
 * succeeds once the space returns.
 */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include <sqlite3.h>

#include "store/store_walvfs.h"

typedef struct tfx {
    char dir[64], path[96];
} tfx;

static int setup(void **state)
{
    tfx *t = calloc(1, sizeof *t);
    snprintf(t->dir, sizeof t->dir, "/tmp/td-walvfs-XXXXXX");
    if (!mkdtemp(t->dir))
        return -1;
    snprintf(t->path, sizeof t->path, "%s/t.db", t->dir);
    *state = t;
    return store_walvfs_register() == SQLITE_OK ? 0 : -1;
}

static int teardown(void **state)
{
    tfx *t = *state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", t->dir);
    int r = system(cmd);
    free(t);
    return r == 0 ? 0 : -1;
}

/* A fresh database: no file, no WAL, no shared memory left. */
static void wipe(const tfx *t)
{
    static const char *const ext[] = {"", "-wal", "-shm"};
    char p[128];
    for (int i = 0; i < 3; i++) {
        snprintf(p, sizeof p, "%s%s", t->path, ext[i]);
        unlink(p);
    }
}

static void ok(sqlite3 *db, const char *sql)
{
    char *err = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &err) != SQLITE_OK)
        fail_msg("%s: %s", sql, err ? err : "?");
}

static sqlite3 *open_walvfs(const char *path, const char *sync)
{
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE,
                                     STORE_WALVFS_NAME),
                     SQLITE_OK);
    char sql[96];
    snprintf(sql, sizeof sql, "PRAGMA journal_mode = WAL; PRAGMA synchronous = %s", sync);
    ok(db, sql);
    ok(db, "CREATE TABLE IF NOT EXISTS t (id INTEGER PRIMARY KEY, v BLOB)");
    return db;
}

/* Rows in t as a connection on the default VFS reads them. */
static int64_t rows_seen(const char *path)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    int64_t n = -1;
    assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    if (sqlite3_prepare_v2(db, "SELECT count(*) FROM t WHERE length(v) = 1000", -1, &st,
                           NULL) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW)
        n = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(db);
    return n;
}

static void insert(sqlite3 *db, int n)
{
    ok(db, "BEGIN");
    for (int i = 0; i < n; i++)
        ok(db, "INSERT INTO t (v) VALUES (randomblob(1000))");
    ok(db, "COMMIT");
}

static void test_commit_writes_its_frames_at_once(void **state)
{
    tfx *t = *state;
    sqlite3 *db = open_walvfs(t->path, "FULL");
    insert(db, 1);
    unsigned long long w0 = store_walvfs_writes();
    insert(db, 40); /* ~11 pages: 22 writes on the default VFS */
    unsigned long long w = store_walvfs_writes() - w0;
    if (w < 1 || w > 2)
        fail_msg("a commit of 40 rows made %llu writes", w);
    assert_int_equal(rows_seen(t->path), 41);
    sqlite3_close(db);
}

static void test_other_connection_sees_each_commit(void **state)
{
    tfx *t = *state;
    static const char *const syncs[] = {"FULL", "NORMAL"};
    for (int s = 0; s < 2; s++) {
        wipe(t);
        sqlite3 *db = open_walvfs(t->path, syncs[s]);
        for (int k = 1; k <= 5; k++) { /* no checkpoint: every row is in the WAL */
            insert(db, 3);
            if (rows_seen(t->path) != 3 * k)
                fail_msg("synchronous=%s: commit %d not seen", syncs[s], k);
        }
        sqlite3_close(db);
        assert_int_equal(rows_seen(t->path), 15);
    }
}

static void test_killed_process_keeps_its_commits(void **state)
{
    tfx *t = *state;
    static const char *const syncs[] = {"FULL", "NORMAL"};
    for (int s = 0; s < 2; s++) {
        wipe(t);
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) { /* no close, no checkpoint: killed after its commits */
            sqlite3 *db = open_walvfs(t->path, syncs[s]);
            insert(db, 7);
            insert(db, 5);
            kill(getpid(), SIGKILL);
        }
        int status = 0;
        assert_int_equal(waitpid(pid, &status, 0), pid);
        assert_true(WIFSIGNALED(status));
        if (rows_seen(t->path) != 12)
            fail_msg("synchronous=%s: %lld rows after the kill", syncs[s],
                     (long long)rows_seen(t->path));
    }
}

/* A commit whose held frames cannot be written (a full disk: here the
 * file size limit, as in e2e_degraded) fails and is rolled back; once the
 * space returns the next commit succeeds. In a child: the limit is its. */
static void test_failed_commit_then_space_returns(void **state)
{
    tfx *t = *state;
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        signal(SIGXFSZ, SIG_IGN);
        sqlite3 *db = open_walvfs(t->path, "FULL");
        insert(db, 2);
        char wal[128];
        struct stat sb;
        snprintf(wal, sizeof wal, "%s-wal", t->path);
        struct rlimit rl;
        getrlimit(RLIMIT_FSIZE, &rl);
        rlim_t hard = rl.rlim_max;
        if (stat(wal, &sb) != 0)
            _exit(2);
        rl.rlim_cur = (rlim_t)sb.st_size + 1000;
        setrlimit(RLIMIT_FSIZE, &rl);
        int failed = 0;
        for (int k = 0; k < 3; k++) {
            sqlite3_exec(db, "BEGIN", NULL, NULL, NULL);
            for (int i = 0; i < 40; i++)
                sqlite3_exec(db, "INSERT INTO t (v) VALUES (randomblob(1000))", NULL, NULL,
                             NULL);
            if (sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
                failed++;
                sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
            }
        }
        rl.rlim_cur = hard;
        setrlimit(RLIMIT_FSIZE, &rl);
        insert(db, 5);
        sqlite3_close(db);
        _exit(failed == 3 ? 0 : 3);
    }
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    assert_int_equal(rows_seen(t->path), 7);
}

static void test_large_spilled_transaction_reads_back(void **state)
{
    tfx *t = *state;
    sqlite3 *db = open_walvfs(t->path, "FULL");
    ok(db, "PRAGMA cache_size = 20"); /* spills to the WAL mid-transaction */
    ok(db, "BEGIN");
    for (int i = 0; i < 3000; i++) /* ~3 MiB */
        ok(db, "INSERT INTO t (v) VALUES (randomblob(1000))");
    ok(db, "UPDATE t SET v = zeroblob(1000) WHERE id % 7 = 0"); /* spilled pages again */
    ok(db, "COMMIT");
    assert_int_equal(rows_seen(t->path), 3000);
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &st, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_string_equal((const char *)sqlite3_column_text(st, 0), "ok");
    sqlite3_finalize(st);
    ok(db, "PRAGMA wal_checkpoint(TRUNCATE)");
    sqlite3_close(db);
    assert_int_equal(rows_seen(t->path), 3000);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_commit_writes_its_frames_at_once, setup, teardown),
        cmocka_unit_test_setup_teardown(test_other_connection_sees_each_commit, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_killed_process_keeps_its_commits, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_failed_commit_then_space_returns, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_large_spilled_transaction_reads_back, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
