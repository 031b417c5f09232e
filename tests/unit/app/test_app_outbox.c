/*
 * test_app_outbox: the outbox's memory (src/app/app_outbox.c, header
 * comment): the due list kept in memory and the statuses written lately.
 * A real app with its loop on a SQLite file and, when the CTest fixture
 * names one (TEXTDESK_TEST_PG_DIR), on a real PostgreSQL 15 (asynchronous
 * commits: one transaction in flight while the next is staged). The
 * gateway is the test's (tgw, in place of the built-in simulator): it logs
 * every send, answers now or in a later loop turn (newest first, so the
 * answers of several conversations cross), refuses for now (GW_RETRY) or
 * is down (the send fails). The file includes app_outbox.c with a recent
 * table of 8 statuses (RECENT_MAX), so that its eviction happens.
 *
 * Pinned down: replies of several conversations go out each exactly once,
 * in order within their conversation; a refused send goes again once, in
 * order; more than OUTBOX_SCAN (1024) replies queued while the gateway was
 * down all go out once it is back, in order; a reply queued when its
 * customer's number is erased is never handed to the gateway (FAILED:
 * before, the due list read back from the store handed an empty text to
 * 'erased-CONV'); delivery reports find their message in the recent table
 * without the store (PostgreSQL: textdesk_store_round_trips_total,
 * store_waits, does not move) and in the store once it left the table; the
 * table itself against a model (eviction, chains, provider ids reused).
 */
#define RECENT_MAX 8
#include "../../../src/app/app_outbox.c"

#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "api/api.h"
#include "app_test_pg.h"

#define EP "+46700000001"

static const char CONFIG[] =
    "{\"teams\": [{\"id\": 1, \"name\": \"T\"}],"
    " \"queues\": [{\"id\": 1, \"name\": \"Q\", \"teams\": [1]}],"
    " \"wrapup_reasons\": [{\"id\": 1, \"name\": \"Done\"}],"
    " \"entry_points\": [{\"id\": 1, \"number\": \"" EP "\", \"queue\": 1}],"
    " \"agents\": [{\"id\": 1, \"name\": \"A\", \"teams\": [1], \"capacity\": 50,"
    "   \"username\": \"anna\", \"password\": \"demo-anna\"}],"
    " \"outbox\": {\"max_attempts\": 1000, \"backoff_ms\": 10, \"backoff_max_ms\": 10},"
    " \"gateways\": [{\"id\": \"sim\", \"type\": \"sim\"}]}";

/* ---- the test's gateway ------------------------------------------------- */

typedef struct tsend {
    int64_t ref;
    char *to, *text;
    int accepted; /* answered GW_SENT (else down or refused) */
} tsend;

typedef struct tanswer {
    int64_t ref;
    int status;
    char pid[32];
} tanswer;

typedef struct tgw {
    gw base;
    int down;   /* sends fail (-EIO: the app records GW_RETRY) */
    int refuse; /* the next this many sends are answered GW_RETRY */
    int async;  /* answers wait for a later loop turn (tgw_deliver) */
    int hold;   /* ... and longer: until this is 0 */
    tsend *log;
    size_t n, cap;
    tanswer *held;
    size_t nheld, capheld;
} tgw;

static void tgw_answer(tgw *g, int64_t ref, int status, const char *pid)
{
    if (!g->async) {
        g->base.result(g->base.arg, ref, status, str_c(pid), STR_LIT("test"));
        return;
    }
    if (g->nheld == g->capheld) {
        g->capheld = g->capheld ? 2 * g->capheld : 64;
        g->held = xrealloc(g->held, g->capheld * sizeof *g->held);
    }
    tanswer *h = &g->held[g->nheld++];
    *h = (tanswer){ref, status, ""};
    snprintf(h->pid, sizeof h->pid, "%s", pid ? pid : "");
}

/* The held answers, newest first. */
static void tgw_deliver(tgw *g)
{
    while (g->nheld && !g->hold) {
        tanswer h = g->held[--g->nheld];
        g->base.result(g->base.arg, h.ref, h.status, str_c(h.pid), STR_LIT("test"));
    }
}

static int tgw_send(gw *base, const gw_out *m)
{
    tgw *g = (tgw *)base;
    if (g->n == g->cap) {
        g->cap = g->cap ? 2 * g->cap : 256;
        g->log = xrealloc(g->log, g->cap * sizeof *g->log);
    }
    tsend *s = &g->log[g->n++];
    *s = (tsend){m->ref, xmemdup0(m->to.p, m->to.n), xmemdup0(m->text.p, m->text.n), 0};
    if (g->down)
        return -EIO;
    if (g->refuse > 0) {
        g->refuse--;
        tgw_answer(g, m->ref, GW_RETRY, NULL);
        return 0;
    }
    s->accepted = 1;
    char pid[32];
    snprintf(pid, sizeof pid, "p-%lld", (long long)m->ref);
    tgw_answer(g, m->ref, GW_SENT, pid);
    return 0;
}

static void tgw_free(gw *base)
{
    tgw *g = (tgw *)base;
    for (size_t i = 0; i < g->n; i++) {
        free(g->log[i].to);
        free(g->log[i].text);
    }
    free(g->log);
    free(g->held);
    free(g);
}

static const gw_ops tgw_ops = {"test", tgw_send, tgw_free, NULL};

/* ---- the app ------------------------------------------------------------- */

typedef struct env {
    char dir[64];
    char url[320];
    app_config *cfg;
    app a;
    tgw *g;
    gw *sim; /* the simulator tgw stands in for (the API keeps its pointer) */
    net_timer *tick;
} env;

static void on_tick(void *arg)
{
    env *e = arg;
    tgw_deliver(e->g);
    net_timer_set(e->tick, 1);
}

/* Turns the loop until cond(e) (at most ~20 s: a loaded machine). */
static void turn_until(env *e, int (*cond)(env *), const char *what)
{
    int64_t end = loop_clock_mono_now() + 20000;
    while (!cond(e) && loop_clock_mono_now() < end)
        assert_int_equal(net_loop_turn(e->a.loop), 0);
    if (!cond(e))
        fail_msg("timed out waiting for %s", what);
}

/* Nothing pending anywhere: no commit in flight or staged, no status to
 * write, no send under way, no answer held. */
static int settled(env *e)
{
    app *a = &e->a;
    return !a->in_flight && a->staged.n == 0 && !app__outbox_dirty(a) &&
           a->gws->nsub == 0 && e->g->nheld == 0 && a->flush_armed == 0;
}

static void apply_ok(env *e, cc_cmd c)
{
    int r = app_apply(&e->a, &c);
    if (r != 0)
        fail_msg("command %d: %d", c.type, r);
}

static int open_app(env *e, const char *url)
{
    char err[512];
    e->cfg = app_config_load_text(CONFIG, sizeof CONFIG - 1, "(test)", err, sizeof err);
    if (!e->cfg)
        fail_msg("config: %s", err);
    if (app_open(&e->a, url, e->cfg, err, sizeof err) != 0)
        fail_msg("app_open: %s", err);
    http_cfg hc = {.iface = "127.0.0.1", .port = 0, .web_dir = TEXTDESK_WEB_DIR};
    if (app_listen(&e->a, &hc, err, sizeof err) != 0)
        fail_msg("app_listen: %s", err);
    e->g = xcalloc(1, sizeof *e->g);
    e->g->base = (gw){&tgw_ops, on_gw_result, &e->a};
    e->sim = e->a.gws->g[0];
    e->a.gws->g[0] = &e->g->base;
    e->tick = net_timer_new(e->a.loop, on_tick, e);
    net_timer_set(e->tick, 1);
    apply_ok(e, (cc_cmd){.type = CC_CMD_LOGIN, .agent = 1});
    apply_ok(e,
             (cc_cmd){.type = CC_CMD_SET_STATE, .agent = 1, .state = CC_AGENT_AVAILABLE});
    turn_until(e, settled, "the start");
    return 0;
}

static int setup_sqlite(void **state)
{
    env *e = calloc(1, sizeof *e);
    snprintf(e->dir, sizeof e->dir, "/tmp/td_outboxXXXXXX");
    assert_non_null(mkdtemp(e->dir));
    snprintf(e->url, sizeof e->url, "%s/data", e->dir);
    *state = e;
    return open_app(e, e->url);
}

static int setup_pg(void **state)
{
    env *e = calloc(1, sizeof *e);
    if (pg_fixture_db("outbox", NULL, 0, e->url, sizeof e->url) != 0) {
        free(e);
        *state = NULL; /* no PostgreSQL to run on (run by ctest, with the pg fixture) */
        return 0;
    }
    *state = e;
    return open_app(e, e->url);
}

/* The test's app, or a skip (PostgreSQL: none to run on). */
static env *env_of(void **state)
{
    if (!*state)
        skip();
    return *state;
}

static int teardown(void **state)
{
    env *e = *state;
    if (!e)
        return 0;
    if (e->g) {
        net_timer_free(e->tick);
        e->a.gws->g[0] = e->sim;
        tgw_free(&e->g->base);
    }
    app_close(&e->a);
    app_config_free(e->cfg);
    if (e->dir[0]) {
        char cmd[96];
        snprintf(cmd, sizeof cmd, "rm -rf %s", e->dir);
        assert_int_equal(system(cmd), 0);
    }
    free(e);
    return 0;
}

static int is_pg(env *e)
{
    return strcmp(store_kind(e->a.st), "postgresql") == 0;
}

/* ---- conversations and replies ------------------------------------------ */

/* A customer writes from 'number'; agent 1 accepts. Returns the conv. */
static uint32_t open_conv(env *e, const char *number)
{
    char id[48];
    snprintf(id, sizeof id, "in-%s", number);
    apply_ok(e, (cc_cmd){.type = CC_CMD_SMS_IN,
                         .number = str_c(number),
                         .ep_number = STR_LIT(EP),
                         .text = STR_LIT("Hej"),
                         .msg_id = str_c(id)});
    uint32_t conv = 0;
    for (size_t i = 0; i < e->a.ev.n; i++)
        if (e->a.ev.v[i].type == CC_EV_OFFERED)
            conv = e->a.ev.v[i].conv;
    assert_true(conv > 0);
    apply_ok(e, (cc_cmd){.type = CC_CMD_ACCEPT, .agent = 1, .conv = conv});
    return conv;
}

/* Agent 1 replies 'text' in 'conv'; returns the reply's reference. */
static int64_t reply(env *e, uint32_t conv, const char *text)
{
    apply_ok(
        e, (cc_cmd){.type = CC_CMD_SEND, .agent = 1, .conv = conv, .text = str_c(text)});
    for (size_t i = 0; i < e->a.ev.n; i++)
        if (e->a.ev.v[i].type == CC_EV_MSG_OUT)
            return (int64_t)e->a.ev.v[i].seq;
    fail_msg("no reply stored");
    return 0;
}

/* 'each' replies in each of 'convs' conversations, taking turns ("cC mK"),
 * their references into 'refs'; with 'turns', a loop turn after every
 * second one. Returns how many. */
static size_t replies_round(env *e, const uint32_t *conv, int convs, int each,
                            int64_t *refs, int turns)
{
    size_t n = 0;
    for (int k = 0; k < each; k++)
        for (int c = 0; c < convs; c++) {
            char text[32];
            snprintf(text, sizeof text, "c%d m%d", c, k);
            refs[n++] = reply(e, conv[c], text);
            if (turns && c % 2)
                assert_int_equal(net_loop_turn(e->a.loop), 0);
        }
    return n;
}

typedef struct stored {
    int status;
    char text[64], error[128], number[32];
} stored;

static int copy_stored(void *arg, const store_msg *m)
{
    stored *s = arg;
    s->status = m->status;
    snprintf(s->text, sizeof s->text, "%.*s", (int)m->text.n, m->text.p ? m->text.p : "");
    snprintf(s->error, sizeof s->error, "%.*s", (int)m->error.n,
             m->error.p ? m->error.p : "");
    snprintf(s->number, sizeof s->number, "%.*s", (int)m->number.n,
             m->number.p ? m->number.p : "");
    return 0;
}

static stored msg_stored(env *e, int64_t ref)
{
    stored s = {0};
    assert_int_equal(store_msg_get(e->a.st, ref, copy_stored, &s), 0);
    return s;
}

/* How many sends of 'ref' the gateway accepted. */
static int accepted(env *e, int64_t ref)
{
    int n = 0;
    for (size_t i = 0; i < e->g->n; i++)
        n += e->g->log[i].ref == ref && e->g->log[i].accepted;
    return n;
}

/* Every one of 'refs' accepted exactly once, and what went to each
 * number, attempts included, in the order of the references (a refused
 * one may go again, never after a later one of its number). */
static void assert_once_in_order(env *e, const int64_t *refs, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (accepted(e, refs[i]) != 1)
            fail_msg("reply %lld accepted %d times", (long long)refs[i],
                     accepted(e, refs[i]));
    for (size_t i = 0; i < e->g->n; i++)
        for (size_t j = i + 1; j < e->g->n; j++)
            if (strcmp(e->g->log[i].to, e->g->log[j].to) == 0 &&
                e->g->log[j].ref < e->g->log[i].ref)
                fail_msg("to %s: %lld went after %lld", e->g->log[i].to,
                         (long long)e->g->log[j].ref, (long long)e->g->log[i].ref);
}

static int64_t *want_refs;
static size_t want_n;

static int all_accepted(env *e)
{
    for (size_t i = 0; i < want_n; i++)
        if (accepted(e, want_refs[i]) == 0)
            return 0;
    return settled(e);
}

/* ---- delivery reports ---------------------------------------------------- */

typedef struct rep {
    int n, in;
} rep;

static void on_report_done(void *arg, int in, const char *code, const char *msg)
{
    (void)code;
    (void)msg;
    rep *r = arg;
    r->n++;
    r->in = in;
}

/* A delivery report by provider id; returns how the app took it once
 * committed. */
static int report_pid(env *e, int64_t ref)
{
    char pid[32];
    snprintf(pid, sizeof pid, "p-%lld", (long long)ref);
    rep r = {0};
    port_report_in(&e->a, 0, str_c(pid), GW_DELIVERED, STR_NULL, on_report_done, &r);
    int64_t end = loop_clock_mono_now() + 20000;
    while (r.n == 0 && loop_clock_mono_now() < end)
        assert_int_equal(net_loop_turn(e->a.loop), 0);
    assert_int_equal(r.n, 1);
    return r.in;
}

/* ---- the tests ----------------------------------------------------------- */

/* Four conversations, five replies each, applied across loop turns (on
 * PostgreSQL while commits are in flight); the answers come in later turns,
 * newest first. Each reply goes once, in order per conversation, with its
 * text; no store read on the way (PostgreSQL). Then the delivery reports:
 * those of the last 8 (the recent table) without the store, the others
 * through it, each to its own message. */
static void test_replies_go_once_in_order(void **state)
{
    env *e = env_of(state);
    e->g->async = 1;
    enum { CONVS = 4, EACH = 5 };
    uint32_t conv[CONVS];
    char num[CONVS][24];
    for (int c = 0; c < CONVS; c++) {
        snprintf(num[c], sizeof num[c], "+4670111%04d", c);
        conv[c] = open_conv(e, num[c]);
    }
    turn_until(e, settled, "the conversations");
    uint64_t waits0 = store_waits(e->a.st);
    int64_t refs[CONVS * EACH];
    /* some share a commit, some come while one is in flight */
    size_t n = replies_round(e, conv, CONVS, EACH, refs, 1);
    want_refs = refs;
    want_n = n;
    turn_until(e, all_accepted, "every reply sent");
    assert_int_equal(e->g->n, n); /* nothing refused: one send each */
    assert_once_in_order(e, refs, n);
    for (size_t i = 0; i < e->g->n; i++) {
        const tsend *s = &e->g->log[i];
        int k = 0;
        while (refs[k] != s->ref)
            k++;
        char text[32];
        snprintf(text, sizeof text, "c%d m%d", k % CONVS, k / CONVS);
        assert_string_equal(s->text, text);
        assert_string_equal(s->to, num[k % CONVS]);
    }
    assert_int_equal(store_waits(e->a.st),
                     waits0); /* SQLite: always; PostgreSQL: none read */
    for (size_t i = 0; i < n; i++)
        assert_int_equal(msg_stored(e, refs[i]).status, STORE_MSG_SENT);

    /* the reports: for the RECENT_MAX statuses written last (in the order
     * the answers came), from the recent table */
    int resident[CONVS * EACH], nres = 0;
    for (size_t i = 0; i < n; i++)
        nres += resident[i] = recent_by_ref(&e->a.gws->recent, refs[i]) >= 0;
    assert_int_equal(nres, RECENT_MAX);
    waits0 = store_waits(e->a.st);
    for (size_t i = 0; i < n; i++)
        if (resident[i])
            assert_int_equal(report_pid(e, refs[i]), GW_IN_OK);
    assert_int_equal(store_waits(e->a.st), waits0);
    /* the older ones left it: found in the store (a round trip each on
     * PostgreSQL) */
    for (size_t i = 0; i < n; i++)
        if (!resident[i])
            assert_int_equal(report_pid(e, refs[i]), GW_IN_OK);
    if (is_pg(e))
        assert_true(store_waits(e->a.st) >= waits0 + (n - RECENT_MAX));
    for (size_t i = 0; i < n; i++)
        assert_int_equal(msg_stored(e, refs[i]).status, STORE_MSG_DELIVERED);
    assert_int_equal(report_pid(e, 999999), GW_IN_UNKNOWN);
}

/* The gateway refuses the first send for now (GW_RETRY): that reply goes
 * again after the backoff, once, before the rest of its conversation; the
 * other conversation is not held up. */
static void test_a_refused_reply_goes_again_once_in_order(void **state)
{
    env *e = env_of(state);
    e->g->async = 1;
    e->g->refuse = 1;
    uint32_t c1 = open_conv(e, "+46701110001"), c2 = open_conv(e, "+46701110002");
    turn_until(e, settled, "the conversations");
    int64_t refs[5] = {reply(e, c1, "a1"), reply(e, c2, "b1"), reply(e, c1, "a2"),
                       reply(e, c2, "b2"), reply(e, c1, "a3")};
    want_refs = refs;
    want_n = 5;
    turn_until(e, all_accepted, "every reply sent");
    assert_int_equal(e->g->n, 6);
    assert_int_equal(e->g->log[0].ref, refs[0]);
    assert_int_equal(e->g->log[0].accepted, 0); /* refused */
    assert_once_in_order(e, refs, 5);
    /* the first conversation: a1 refused, a1, a2, a3 */
    int64_t seen[6];
    size_t k = 0;
    for (size_t i = 0; i < e->g->n; i++)
        if (strcmp(e->g->log[i].to, "+46701110001") == 0)
            seen[k++] = e->g->log[i].ref;
    assert_int_equal(k, 4);
    assert_int_equal(seen[0], refs[0]);
    assert_int_equal(seen[1], refs[0]);
    assert_int_equal(seen[2], refs[2]);
    assert_int_equal(seen[3], refs[4]);
    for (int i = 0; i < 5; i++)
        assert_int_equal(msg_stored(e, refs[i]).status, STORE_MSG_SENT);
}

static size_t tried_at_least;

static int tried(env *e)
{
    return e->g->n >= tried_at_least;
}

/* 1,032 replies in 43 conversations queued while the gateway is down (the
 * due list over OUTBOX_SCAN: read from the store at each pump), then it
 * comes back: every reply goes once, in order per conversation. */
static void test_more_than_a_scan_queued_while_down(void **state)
{
    env *e = env_of(state);
    enum { CONVS = 43, EACH = 24 }; /* 1,032: over OUTBOX_SCAN, few rounds */
    e->g->down = 1;
    uint32_t conv[CONVS];
    for (int c = 0; c < CONVS; c++) {
        char num[24];
        snprintf(num, sizeof num, "+4670222%04d", c);
        conv[c] = open_conv(e, num);
    }
    static int64_t refs[CONVS * EACH];
    size_t n = replies_round(e, conv, CONVS, EACH, refs, 0);
    /* attempts, refused: each conversation's first, again and again */
    tried_at_least = 2 * CONVS;
    turn_until(e, tried, "attempts while down");
    assert_int_equal(e->a.gws->known_ok, 0); /* more than OUTBOX_SCAN: not kept */
    for (size_t i = 0; i < e->g->n; i++)
        assert_int_equal(e->g->log[i].accepted, 0);
    e->g->down = 0;
    want_refs = refs;
    want_n = n;
    turn_until(e, all_accepted, "every reply sent");
    assert_once_in_order(e, refs, n);
    for (size_t i = 0; i < n; i += 37)
        assert_int_equal(msg_stored(e, refs[i]).status, STORE_MSG_SENT);
    assert_int_equal(msg_stored(e, refs[n - 1]).status, STORE_MSG_SENT);
}

static int64_t watched;

static int watched_failed(env *e)
{
    return settled(e) && msg_stored(e, watched).status == STORE_MSG_FAILED;
}

/* Replies queued (the gateway down) when their conversations end, one
 * customer's number is erased (as POST /api/admin/customers/erase does),
 * another conversation's texts deleted by retention: the due list is read
 * again, and both replies, their texts gone, are FAILED without reaching
 * the gateway; another conversation's reply goes. */
static void test_an_erased_reply_is_not_sent(void **state)
{
    env *e = env_of(state);
    e->g->down = 1;
    uint32_t c1 = open_conv(e, "+46701119991"), c2 = open_conv(e, "+46701119992"),
             c3 = open_conv(e, "+46701119993");
    int64_t r1 = reply(e, c1, "secret text"), r3 = reply(e, c3, "old text");
    for (int i = 0; i < 2; i++) {
        uint32_t c = i ? c3 : c1;
        apply_ok(e, (cc_cmd){.type = CC_CMD_END, .agent = 1, .conv = c});
        apply_ok(e, (cc_cmd){.type = CC_CMD_WRAPUP, .agent = 1, .conv = c, .reason = 1});
    }
    tried_at_least = 2; /* tried, refused, tried again */
    turn_until(e, tried, "attempts while down");
    assert_int_equal(msg_stored(e, r1).status == STORE_MSG_QUEUED ||
                         msg_stored(e, r1).status == STORE_MSG_SUBMITTING,
                     1);
    turn_until(e, settled, "the end");
    assert_int_equal(app_write_begin(&e->a), 0);
    size_t nmsg = 0;
    int64_t ncv = 0;
    int r = api_privacy_forget_conv(e->a.st, c1, &nmsg);
    if (r == 0)
        r = store_erase_number(e->a.st, STR_LIT("+46701119991"), &ncv);
    assert_int_equal(app_write_end(&e->a, r), 0);
    assert_int_equal(ncv, 1);
    /* the third conversation's texts deleted as retention does (a batch
     * of its own; the number stays) */
    assert_int_equal(app_write_begin(&e->a), 0);
    assert_int_equal(app_write_end(&e->a, api_privacy_forget_conv(e->a.st, c3, &nmsg)),
                     0);
    size_t tried = e->g->n;
    e->g->down = 0;
    int64_t r2 = reply(e, c2, "still sent");
    watched = r1;
    turn_until(e, watched_failed, "the erased reply failed");
    watched = r3;
    turn_until(e, watched_failed, "the reply whose text retention deleted failed");
    want_refs = &r2;
    want_n = 1;
    turn_until(e, all_accepted, "the other reply sent");
    for (size_t i = tried; i < e->g->n; i++) {
        assert_true(e->g->log[i].ref != r1 && e->g->log[i].ref != r3);
        assert_null(strstr(e->g->log[i].to, "erased"));
    }
    for (int i = 0; i < 2; i++) {
        stored s = msg_stored(e, i ? r3 : r1);
        assert_string_equal(s.text, "");
        assert_string_equal(s.error, TEXT_DELETED);
    }
    assert_int_equal(accepted(e, r2), 1);
    assert_int_equal(e->a.gws->nsub, 0);
}

/* A delivery report by reference for a reply still queued (the gateway
 * down: an earlier attempt may have reached the handset after all): its
 * status is written, it leaves the due list and is never sent again; the
 * next reply of the conversation goes once. */
static void test_a_report_for_a_queued_reply(void **state)
{
    env *e = env_of(state);
    e->g->down = 1;
    uint32_t c = open_conv(e, "+46701115551");
    int64_t r1 = reply(e, c, "first"), r2 = reply(e, c, "second");
    tried_at_least = 2;
    turn_until(e, tried, "attempts while down");
    rep r = {0};
    port_report_in(&e->a, r1, STR_NULL, GW_DELIVERED, STR_NULL, on_report_done, &r);
    turn_until(e, settled, "the report");
    assert_int_equal(r.n, 1);
    assert_int_equal(r.in, GW_IN_OK);
    assert_int_equal(msg_stored(e, r1).status, STORE_MSG_DELIVERED);
    size_t tried_before = e->g->n;
    e->g->down = 0;
    want_refs = &r2;
    want_n = 1;
    turn_until(e, all_accepted, "the second reply sent");
    for (size_t i = tried_before; i < e->g->n; i++)
        assert_true(e->g->log[i].ref != r1);
    assert_int_equal(accepted(e, r1), 0);
    assert_int_equal(accepted(e, r2), 1);
    assert_int_equal(msg_stored(e, r1).status, STORE_MSG_DELIVERED);
    assert_int_equal(msg_stored(e, r2).status, STORE_MSG_SENT);
}

/* ---- PostgreSQL: a failed commit, a commit run again ---------------------- */

static int degraded(env *e)
{
    return e->a.degraded;
}

/* Two replies queued while the gateway is down; the table of messages
 * locked elsewhere, so a commit (a refused attempt's status) fails by the
 * store's lock timeout: rolled back, degraded mode, the due list
 * forgotten. Released and the gateway back: the probe resumes, and each
 * reply goes once, in order. */
static void test_a_failed_commit_sends_once(void **state)
{
    env *e = env_of(state);
    e->g->async = 1;
    e->g->down = 1;
    uint32_t c = open_conv(e, "+46701113331");
    int64_t refs[2] = {reply(e, c, "one"), reply(e, c, "two")};
    tried_at_least = 2;
    turn_until(e, tried, "attempts while down");
    uint64_t failures = e->a.commits.failures;
    PGconn *k = pg_connect_url(e->url);
    pg_exec(k, "BEGIN");
    pg_exec(k, "LOCK TABLE messages IN EXCLUSIVE MODE");
    turn_until(e, degraded, "a failed commit");
    pg_exec(k, "COMMIT");
    PQfinish(k);
    assert_true(e->a.commits.failures > failures);
    e->g->down = 0;
    want_refs = refs;
    want_n = 2;
    turn_until(e, all_accepted, "both replies sent after the resume");
    assert_int_equal(e->a.degraded, 0);
    assert_once_in_order(e, refs, 2);
    assert_int_equal(msg_stored(e, refs[0]).status, STORE_MSG_SENT);
    assert_int_equal(msg_stored(e, refs[1]).status, STORE_MSG_SENT);
}

/* Commits one event (a conversation variable) at once; returns the
 * server's pid of the connection that carried it. */
static int64_t commit_noted(env *e, PGconn *k, uint32_t conv)
{
    static int n;
    char v[16];
    snprintf(v, sizeof v, "%d", ++n);
    apply_ok(e, (cc_cmd){.type = CC_CMD_SET_VAR,
                         .agent = 1,
                         .conv = conv,
                         .key = STR_LIT("k"),
                         .value = str_c(v)});
    app_flush(&e->a);
    assert_int_equal(e->a.in_flight, 1);
    int64_t pid = pg_backend_of(k, store_commit_fd(e->a.st));
    turn_until(e, settled, "the commit");
    return pid;
}

/* The connection of the next transaction ended by the server while idle,
 * unseen (its backend stopped when told to terminate): the transaction
 * holding a reply never began and is run again at once on the other
 * connection (app.c, retry_unsent: commit_all twice, the marks made
 * again). The reply goes once. */
static void test_a_commit_run_again_sends_once(void **state)
{
    env *e = env_of(state);
    e->g->async = 1;
    uint32_t c = open_conv(e, "+46701114441");
    turn_until(e, settled, "the conversation");
    PGconn *k = pg_connect_url(e->url);
    int64_t first = commit_noted(e, k, c), second = commit_noted(e, k, c);
    assert_true(first != second); /* they take turns: the next goes on the first's */
    assert_int_equal(kill((pid_t)first, SIGSTOP), 0);
    char sql[96];
    snprintf(sql, sizeof sql, "SELECT pg_terminate_backend(%lld)", (long long)first);
    pg_exec(k, sql);
    e->g->hold = 1;
    int64_t r = reply(e, c, "once");
    app_flush(&e->a);
    assert_int_equal(e->a.in_flight, 1);
    assert_int_equal(app__commit_poll(&e->a), 0); /* no answer: the backend is stopped */
    assert_int_equal(kill((pid_t)first, SIGCONT), 0);
    tried_at_least = 1;
    turn_until(e, tried, "the reply handed to the gateway");
    assert_int_equal(e->a.retried, 1); /* its transaction went again */
    assert_int_equal(e->a.degraded, 0);
    e->g->hold = 0;
    want_refs = &r;
    want_n = 1;
    turn_until(e, all_accepted, "the reply sent");
    PQfinish(k);
    assert_int_equal(e->g->n, 1);
    assert_int_equal(accepted(e, r), 1);
    assert_int_equal(msg_stored(e, r).status, STORE_MSG_SENT);
}

static uint64_t failures_before;

static int commit_failed_since(env *e)
{
    return e->a.commits.failures > failures_before && !e->a.in_flight;
}

/* The commit that stores a reply and marks it SUBMITTING is kept by the
 * database, but its answer never reaches the app (once another connection
 * sees the row SUBMITTING, the commit's socket is replaced by /dev/null:
 * a connection lost after the COMMIT was done). With no answer at all the
 * app takes it for a transaction that never began and runs it again
 * (app.c, retry_unsent), which the database refuses (its events are there:
 * duplicate key), so it counts failed: degraded, the core read back from
 * the log. The reply was never handed to a gateway: it goes once after the
 * resume. Before, it stayed SUBMITTING and was never sent
 * (app__outbox_failed). */
static void test_a_kept_commit_whose_answer_was_lost(void **state)
{
    env *e = env_of(state);
    uint32_t c = open_conv(e, "+46701115551");
    turn_until(e, settled, "the conversation");
    PGconn *k = pg_connect_url(e->url);
    failures_before = e->a.commits.failures;
    int64_t r = reply(e, c, "kept, unanswered");
    app_flush(&e->a);
    assert_int_equal(e->a.in_flight, 1);
    int fd = store_commit_fd(e->a.st);
    assert_true(fd >= 0);
    char sql[128];
    snprintf(sql, sizeof sql, "SELECT count(*) FROM messages WHERE id = %lld AND status = %d",
             (long long)r, STORE_MSG_SUBMITTING);
    int64_t end = loop_clock_mono_now() + 20000;
    while (pg_int(k, sql) == 0 && loop_clock_mono_now() < end)
        usleep(1000);
    assert_int_equal(pg_int(k, sql), 1); /* committed: marked, not yet sent */
    assert_int_equal(e->g->n, 0);
    int null = open("/dev/null", O_RDONLY);
    assert_true(null >= 0);
    assert_int_equal(dup2(null, fd), fd);
    close(null);
    turn_until(e, commit_failed_since, "the commit counted failed");
    want_refs = &r;
    want_n = 1;
    turn_until(e, all_accepted, "the reply sent after the resume");
    PQfinish(k);
    assert_int_equal(e->a.degraded, 0);
    assert_int_equal(accepted(e, r), 1);
    assert_int_equal(msg_stored(e, r).status, STORE_MSG_SENT);
}

/* ---- the recent table against a model ----------------------------------- */

typedef struct model_ent {
    int64_t ref;
    int status;
    char pid[16];    /* "" none */
    uint64_t linked; /* when its pid was last set (the newest wins a lookup) */
} model_ent;

/* Random statuses, some for messages already in the table (in place), some
 * with a provider id another message had (reused), some changing a
 * message's provider id; after each, every lookup by reference and by
 * provider id answers as the model: the last RECENT_MAX messages by first
 * write, the newest link of a provider id. */
static void test_recent_table_model(void **state)
{
    (void)state;
    recent t = {0};
    model_ent m[RECENT_MAX];
    size_t mn = 0, head = 0;
    uint64_t clock = 0;
    unsigned seed = 12345;
    for (int step = 0; step < 20000; step++) {
        seed = seed * 1103515245u + 12345u;
        unsigned x = seed >> 8;
        int64_t ref = 1 + (int64_t)(x % 40); /* few refs: many updates in place */
        char pid[16] = "";
        if (x % 3) /* two thirds carry a provider id, from a small set: reuse */
            snprintf(pid, sizeof pid, "p%u", (x >> 8) % 12);
        int status = (int)((x >> 12) % 5);
        pend_ent p = {ref, status, (uint32_t)ref, 1, pid[0] ? pid : NULL, NULL, 0};
        recent_put(&t, &p);
        clock++;
        /* the model */
        size_t k = 0;
        while (k < mn && m[(head + k) % RECENT_MAX].ref != ref)
            k++;
        model_ent *me;
        if (k < mn) {
            me = &m[(head + k) % RECENT_MAX];
        } else {
            if (mn == RECENT_MAX) {
                me = &m[head];
                head = (head + 1) % RECENT_MAX;
            } else {
                me = &m[(head + mn++) % RECENT_MAX];
            }
            *me = (model_ent){ref, 0, "", 0};
        }
        me->status = status;
        if (pid[0] && strcmp(me->pid, pid) != 0) {
            snprintf(me->pid, sizeof me->pid, "%s", pid);
            me->linked = clock;
        }
        assert_int_equal(t.n, mn);
        for (int64_t q = 1; q <= 40; q++) {
            int32_t i = recent_by_ref(&t, q);
            size_t j = 0;
            while (j < mn && m[(head + j) % RECENT_MAX].ref != q)
                j++;
            if (j == mn) {
                assert_int_equal(i, -1);
            } else {
                assert_true(i >= 0);
                assert_int_equal(t.v[i].ref, q);
                assert_int_equal(t.v[i].status, m[(head + j) % RECENT_MAX].status);
            }
        }
        for (unsigned q = 0; q < 12; q++) {
            char qp[16];
            snprintf(qp, sizeof qp, "p%u", q);
            int64_t want = -1;
            uint64_t best = 0;
            for (size_t j = 0; j < mn; j++)
                if (strcmp(m[j].pid, qp) == 0 && m[j].linked > best) {
                    best = m[j].linked;
                    want = m[j].ref;
                }
            int32_t i = recent_by_pid(&t, str_c(qp));
            assert_int_equal(i < 0 ? -1 : t.v[i].ref, want);
        }
    }
    recent_free(&t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_recent_table_model),
        cmocka_unit_test_setup_teardown(test_replies_go_once_in_order, setup_sqlite,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_a_refused_reply_goes_again_once_in_order,
                                        setup_sqlite, teardown),
        cmocka_unit_test_setup_teardown(test_more_than_a_scan_queued_while_down,
                                        setup_sqlite, teardown),
        cmocka_unit_test_setup_teardown(test_an_erased_reply_is_not_sent, setup_sqlite,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_a_report_for_a_queued_reply, setup_sqlite,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_replies_go_once_in_order, setup_pg,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_a_refused_reply_goes_again_once_in_order,
                                        setup_pg, teardown),
        cmocka_unit_test_setup_teardown(test_more_than_a_scan_queued_while_down, setup_pg,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_an_erased_reply_is_not_sent, setup_pg,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_a_report_for_a_queued_reply, setup_pg,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_a_failed_commit_sends_once, setup_pg,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_a_kept_commit_whose_answer_was_lost, setup_pg,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_a_commit_run_again_sends_once, setup_pg,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
