/*
 * bench_store: durable ingest through the real core into a real store file.
 *
 * Each run opens a fresh store in a temporary directory (WAL,
 * synchronous=FULL), configures a core with the demo set-up and 20
 * Available agents, then feeds it inbound SMS with distinct customer numbers
 * and provider ids. Every event cc_apply emits is appended to the store; a
 * transaction is committed every N SMS (group commit). The clock runs over
 * cc_apply, the appends and the commits: an SMS counts when it is durable.
 *
 * Figures (one `name: value unit` line each):
 *   store_ingest_batch_N    SMS per second with N SMS per transaction
 *   store_events_per_sms    events appended per SMS (opened, message, queued,
 *                           sometimes offered)
 *   sqlite_raw_batch_1000   the floor's ceiling: plain INSERT INTO t(text,
 *                           number, id), one prepared statement, 1000 rows per
 *                           transaction, same journal and synchronous setting
 *   store_ingest_vs_raw     store_ingest_batch_1000 / sqlite_raw_batch_1000
 *
 * Each run ingests 50,000 SMS, or stops after 10 s (batch 1 on a slow disk is
 * bound by one fsync per SMS), so the whole bench stays under a minute.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "core/cc.h"
#include "store/store.h"

#define AGENTS 20
#define COUNT 50000 /* SMS per run and raw rows */
#define RUN_MAX_S 10.0

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void die(const char *what, const char *why)
{
    fprintf(stderr, "bench_store: %s: %s\n", what, why);
    exit(1);
}

static void rm_dir(const char *dir)
{
    DIR *d = opendir(dir);
    if (d == NULL)
        return;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        char p[512];
        snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
        unlink(p);
    }
    closedir(d);
    rmdir(dir);
}

typedef struct run {
    cc *c;
    store *st;
    cc_events ev;
    int64_t clock_ms;
    size_t events;
} run;

static void apply(run *r, cc_cmd m, const char *what)
{
    cc_events_clear(&r->ev);
    int rc = cc_apply(r->c, &m, r->clock_ms, &r->ev);
    if (rc != 0)
        die(what, cc_err_code(rc));
    for (size_t i = 0; i < r->ev.n; i++)
        if (store_event_append(r->st, &r->ev.v[i]) != 0)
            die("store_event_append", store_errmsg(r->st));
    r->events += r->ev.n;
}

static void configure(run *r)
{
    static const uint32_t t1[] = {1}, t2[] = {2}, t12[] = {1, 2};
    if (store_begin(r->st) != 0)
        die("store_begin", store_errmsg(r->st));
    apply(r, (cc_cmd){.type = CC_CMD_TEAM_PUT, .team = 1, .name = STR_LIT("Support")},
          "team");
    apply(r, (cc_cmd){.type = CC_CMD_TEAM_PUT, .team = 2, .name = STR_LIT("Sales")},
          "team");
    apply(r, (cc_cmd){.type = CC_CMD_REASON_PUT, .reason = 1, .name = STR_LIT("Solved")},
          "reason");
    apply(r,
          (cc_cmd){.type = CC_CMD_QUEUE_PUT,
                   .queue = 1,
                   .name = STR_LIT("Support"),
                   .ids = t1,
                   .n_ids = 1},
          "queue");
    apply(r,
          (cc_cmd){.type = CC_CMD_QUEUE_PUT,
                   .queue = 2,
                   .name = STR_LIT("Sales"),
                   .ids = t2,
                   .n_ids = 1,
                   .fallback = 1},
          "queue");
    apply(r,
          (cc_cmd){.type = CC_CMD_EP_PUT,
                   .ep = 1,
                   .number = STR_LIT("+46700000001"),
                   .queue = 1},
          "ep");
    apply(
        r,
        (cc_cmd){.type = CC_CMD_EP_PUT, .ep = 2, .number = STR_LIT("71000"), .queue = 2},
        "ep");
    for (uint32_t a = 1; a <= AGENTS; a++) {
        char name[32];
        snprintf(name, sizeof name, "Agent %u", a);
        apply(r,
              (cc_cmd){.type = CC_CMD_AGENT_PUT,
                       .agent = a,
                       .name = str_c(name),
                       .ids = a % 2 ? t1 : t12,
                       .n_ids = a % 2 ? 1 : 2},
              "agent");
        apply(r, (cc_cmd){.type = CC_CMD_LOGIN, .agent = a}, "login");
        apply(r,
              (cc_cmd){.type = CC_CMD_SET_STATE, .agent = a, .state = CC_AGENT_AVAILABLE},
              "available");
    }
    if (store_commit(r->st) != 0)
        die("store_commit", store_errmsg(r->st));
}

/* Ingests 'count' SMS (fewer if RUN_MAX_S pass first: a slow disk at batch
 * 1), 'batch' per transaction; returns SMS per second. */
static double ingest(const char *dir, size_t count, size_t batch, double *ev_per_sms)
{
    char path[256], err[512];
    snprintf(path, sizeof path, "%s/ingest-%zu.db", dir, batch);
    run r = {.c = cc_new(), .clock_ms = 1000};
    cc_events_init(&r.ev);
    if ((r.st = store_open(path, err, sizeof err)) == NULL)
        die("store_open", err);
    configure(&r);
    r.events = 0;

    double t0 = now_s();
    for (size_t i = 0; i < count;) {
        if (store_begin(r.st) != 0)
            die("store_begin", store_errmsg(r.st));
        for (size_t k = 0; k < batch && i < count; k++, i++) {
            char num[32], id[64];
            snprintf(num, sizeof num, "+4670%07zu", i);
            snprintf(id, sizeof id, "kannel-%zu-%zu", batch, i);
            r.clock_ms++;
            apply(
                &r,
                (cc_cmd){.type = CC_CMD_SMS_IN,
                         .number = str_c(num),
                         .ep_number = i % 4 ? STR_LIT("+46700000001") : STR_LIT("71000"),
                         .text = STR_LIT("Hej, jag behöver hjälp med min order"),
                         .msg_id = str_c(id)},
                "sms_in");
        }
        if (store_commit(r.st) != 0)
            die("store_commit", store_errmsg(r.st));
        if (now_s() - t0 > RUN_MAX_S)
            count = i;
    }
    double rate = count / (now_s() - t0);
    *ev_per_sms = (double)r.events / count;

    store_close(r.st);
    cc_events_free(&r.ev);
    cc_free(r.c);
    return rate;
}

static void raw_exec(sqlite3 *db, const char *sql)
{
    char *msg = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK)
        die(sql, msg ? msg : "?");
}

/* Plain SQLite: the same journal and synchronous setting as the store. */
static double raw_inserts(const char *dir, size_t rows, size_t batch)
{
    char path[256];
    snprintf(path, sizeof path, "%s/raw.db", dir);
    sqlite3 *db = NULL;
    sqlite3_stmt *s = NULL;
    if (sqlite3_open_v2(path, &db,
                        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                        NULL) != SQLITE_OK)
        die("sqlite3_open", sqlite3_errmsg(db));
    raw_exec(db, "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL;"
                 " CREATE TABLE t (text TEXT, number TEXT, id TEXT)");
    if (sqlite3_prepare_v2(db, "INSERT INTO t (text, number, id) VALUES (?1, ?2, ?3)", -1,
                           &s, NULL) != SQLITE_OK)
        die("prepare", sqlite3_errmsg(db));
    double t0 = now_s();
    for (size_t i = 0; i < rows;) {
        raw_exec(db, "BEGIN");
        for (size_t k = 0; k < batch && i < rows; k++, i++) {
            char num[32], id[64];
            snprintf(num, sizeof num, "+4670%07zu", i);
            snprintf(id, sizeof id, "kannel-raw-%zu", i);
            sqlite3_bind_text(s, 1, "Hej, jag behöver hjälp med min order", -1,
                              SQLITE_STATIC);
            sqlite3_bind_text(s, 2, num, -1, SQLITE_STATIC);
            sqlite3_bind_text(s, 3, id, -1, SQLITE_STATIC);
            if (sqlite3_step(s) != SQLITE_DONE)
                die("insert", sqlite3_errmsg(db));
            sqlite3_reset(s);
        }
        raw_exec(db, "COMMIT");
    }
    double rate = rows / (now_s() - t0);
    sqlite3_finalize(s);
    sqlite3_close(db);
    return rate;
}

int main(void)
{
    char dir[] = "/tmp/textdesk-bench-store-XXXXXX";
    if (mkdtemp(dir) == NULL)
        die("mkdtemp", "failed");
    static const size_t batches[] = {1, 10, 100, 1000};
    double rate1000 = 0, evs = 0;
    for (size_t i = 0; i < sizeof batches / sizeof batches[0]; i++) {
        double rate = ingest(dir, COUNT, batches[i], &evs);
        printf("store_ingest_batch_%zu: %.0f sms/s\n", batches[i], rate);
        fflush(stdout);
        if (batches[i] == 1000)
            rate1000 = rate;
    }
    printf("store_events_per_sms: %.2f events\n", evs);
    double raw = raw_inserts(dir, COUNT, 1000);
    printf("sqlite_raw_batch_1000: %.0f rows/s\n", raw);
    printf("store_ingest_vs_raw: %.3f x\n", rate1000 / raw);
    rm_dir(dir);
    return 0;
}
