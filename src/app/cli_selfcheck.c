/*
 * `textdesk selfcheck`: drives the contact-center core through a scripted
 * demo day (every seed flow: offer, accept, reply, conference, transfer,
 * RONA, end, wrap-up, a refused command), prints each step and the events
 * it caused, then replays the event log into a fresh core and checks that
 * both states are identical. Exit 0 when every step did what it should.
 *
 * Options: -q prints only the summary line.
 *
 * `textdesk selfcheck --data DIR` checks a data folder instead (after a
 * crash, a restore, the soak test): SQLite's integrity check and foreign
 * keys, message statuses, and that the event log replays into a core whose
 * invariants hold (every conversation in a valid state). Read only; safe
 * while the server runs.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "app/cli.h"
#include "core/cc.h"
#include "store/store.h"
#include "util/buf.h"

typedef struct run {
    cc *c;
    cc_events ev;
    cc_evlog log;
    int64_t now;
    int quiet, steps, bad;
} run;

static void show_events(run *r)
{
    for (size_t i = 0; i < r->ev.n; i++) {
        cc_evlog_add(&r->log, &r->ev.v[i]);
        if (r->quiet)
            continue;
        buf b;
        buf_init(&b);
        cc_event_format(&r->ev.v[i], &b);
        printf("    %s\n", b.p);
        buf_free(&b);
    }
}

/* Applies 'm'; 'want' is 0 or the expected -CC_E_* code. */
static void step(run *r, const char *what, cc_cmd m, int want)
{
    cc_events_clear(&r->ev);
    int got = cc_apply(r->c, &m, r->now, &r->ev);
    r->steps++;
    int ok = got == want;
    r->bad += !ok;
    if (!r->quiet || !ok)
        printf("%3d %-58s %s%s%s\n", r->steps, what, cc_err_code(got),
               ok ? "" : "  UNEXPECTED, wanted ", ok ? "" : cc_err_code(want));
    show_events(r);
}

static void wait_ms(run *r, const char *what, int64_t ms)
{
    r->now += ms;
    cc_events_clear(&r->ev);
    cc_tick(r->c, r->now, &r->ev);
    r->steps++;
    if (!r->quiet)
        printf("%3d %-58s %s\n", r->steps, what, "ok");
    show_events(r);
}

/* The conversation of the last OFFERED event to 'agent' (0 if none). */
static uint32_t offered(const run *r, uint32_t agent)
{
    for (size_t i = r->log.n; i-- > 0;)
        if (r->log.v[i].type == CC_EV_OFFERED && r->log.v[i].agent == agent)
            return r->log.v[i].conv;
    return 0;
}

static void demo_config(run *r)
{
    static const uint32_t support[] = {1}, sales[] = {2}, both[] = {1, 2};
    step(r, "team Support", (cc_cmd){.type = CC_CMD_TEAM_PUT, .team = 1,
                                     .name = STR_LIT("Support")}, 0);
    step(r, "team Sales", (cc_cmd){.type = CC_CMD_TEAM_PUT, .team = 2,
                                   .name = STR_LIT("Sales")}, 0);
    step(r, "wrap-up reason Löst", (cc_cmd){.type = CC_CMD_REASON_PUT, .reason = 1,
                                            .name = STR_LIT("Löst")}, 0);
    step(r, "idle reason Lunch", (cc_cmd){.type = CC_CMD_IDLE_REASON_PUT, .reason = 1,
                                          .name = STR_LIT("Lunch")}, 0);
    step(r, "queue Support (RONA 30 s)",
         (cc_cmd){.type = CC_CMD_QUEUE_PUT, .queue = 1, .name = STR_LIT("Support"),
                  .ids = support, .n_ids = 1, .rona_ms = 30000}, 0);
    step(r, "queue Sales (auto wrap-up 60 s)",
         (cc_cmd){.type = CC_CMD_QUEUE_PUT, .queue = 2, .name = STR_LIT("Sales"),
                  .ids = sales, .n_ids = 1, .autowrap_ms = 60000, .reason = 1,
                  .fallback = 1}, 0);
    step(r, "entry point +46700000001 -> Support",
         (cc_cmd){.type = CC_CMD_EP_PUT, .ep = 1, .number = STR_LIT("+46700000001"),
                  .queue = 1}, 0);
    step(r, "agent Anna Berg (Support)",
         (cc_cmd){.type = CC_CMD_AGENT_PUT, .agent = 1, .name = STR_LIT("Anna Berg"),
                  .ids = support, .n_ids = 1}, 0);
    step(r, "agent Erik Lund (Support)",
         (cc_cmd){.type = CC_CMD_AGENT_PUT, .agent = 2, .name = STR_LIT("Erik Lund"),
                  .ids = support, .n_ids = 1}, 0);
    step(r, "agent Maja Ek (Support, Sales)",
         (cc_cmd){.type = CC_CMD_AGENT_PUT, .agent = 3, .name = STR_LIT("Maja Ek"),
                  .ids = both, .n_ids = 2}, 0);
}

static void demo_day(run *r)
{
    const cc_cmd avail = {.type = CC_CMD_SET_STATE, .state = CC_AGENT_AVAILABLE};
    step(r, "Anna logs in (Idle)", (cc_cmd){.type = CC_CMD_LOGIN, .agent = 1}, 0);
    cc_cmd m = avail;
    m.agent = 1;
    step(r, "Anna: Tillgänglig", m, 0);
    r->now += 1000;
    step(r, "Erik logs in", (cc_cmd){.type = CC_CMD_LOGIN, .agent = 2}, 0);
    m.agent = 2;
    step(r, "Erik: Tillgänglig", m, 0);
    r->now += 1000;
    step(r, "customer texts: offered to Anna (waited longest)",
         (cc_cmd){.type = CC_CMD_SMS_IN, .number = STR_LIT("+46701234567"),
                  .ep_number = STR_LIT("+46700000001"),
                  .text = STR_LIT("Hej, jag behöver hjälp med min faktura"),
                  .msg_id = STR_LIT("sim-1")}, 0);
    uint32_t conv = offered(r, 1);
    step(r, "the gateway retries the same SMS: no-op",
         (cc_cmd){.type = CC_CMD_SMS_IN, .number = STR_LIT("+46701234567"),
                  .ep_number = STR_LIT("+46700000001"),
                  .text = STR_LIT("Hej, jag behöver hjälp med min faktura"),
                  .msg_id = STR_LIT("sim-1")}, CC_DUPLICATE);
    r->now += 7000;
    step(r, "Erik tries to accept Anna's offer",
         (cc_cmd){.type = CC_CMD_ACCEPT, .agent = 2, .conv = conv}, -CC_E_NOT_OFFERED);
    step(r, "Anna: Godkänn", (cc_cmd){.type = CC_CMD_ACCEPT, .agent = 1, .conv = conv}, 0);
    step(r, "Anna replies",
         (cc_cmd){.type = CC_CMD_SEND, .agent = 1, .conv = conv,
                  .text = STR_LIT("Hej! Vad gäller det?")}, 0);
    step(r, "Erik tries to reply in Anna's conversation",
         (cc_cmd){.type = CC_CMD_SEND, .agent = 2, .conv = conv, .text = STR_LIT("Hej")},
         -CC_E_NOT_YOURS);
    step(r, "Anna: Konferens with Erik (Konferens begärd)",
         (cc_cmd){.type = CC_CMD_CONF_INVITE, .agent = 1, .conv = conv, .target = 2}, 0);
    step(r, "Erik accepts: Konferens",
         (cc_cmd){.type = CC_CMD_CONF_ACCEPT, .agent = 2, .conv = conv}, 0);
    step(r, "Erik replies",
         (cc_cmd){.type = CC_CMD_SEND, .agent = 2, .conv = conv,
                  .text = STR_LIT("Erik här, jag kan fakturor.")}, 0);
    step(r, "Erik: Lämna konferens",
         (cc_cmd){.type = CC_CMD_CONF_EXIT, .agent = 2, .conv = conv}, 0);
    step(r, "Erik wraps up",
         (cc_cmd){.type = CC_CMD_WRAPUP, .agent = 2, .conv = conv, .reason = 1}, 0);
    r->now += 5000;
    step(r, "Anna: Överför to the Sales queue",
         (cc_cmd){.type = CC_CMD_TRANSFER_QUEUE, .agent = 1, .conv = conv, .queue = 2}, 0);
    step(r, "Anna: Skicka avslutning",
         (cc_cmd){.type = CC_CMD_WRAPUP, .agent = 1, .conv = conv, .reason = 1}, 0);
    step(r, "Maja logs in", (cc_cmd){.type = CC_CMD_LOGIN, .agent = 3}, 0);
    m.agent = 3;
    step(r, "Maja: Tillgänglig: offered the Sales conversation", m, 0);
    step(r, "Maja: Godkänn", (cc_cmd){.type = CC_CMD_ACCEPT, .agent = 3, .conv = conv}, 0);
    step(r, "Maja: Avsluta", (cc_cmd){.type = CC_CMD_END, .agent = 3, .conv = conv}, 0);
    wait_ms(r, "60 s pass: Sales' auto wrap-up closes it", 60000);

    step(r, "another customer texts: offered to Erik",
         (cc_cmd){.type = CC_CMD_SMS_IN, .number = STR_LIT("+46709876543"),
                  .ep_number = STR_LIT("+46700000001"), .text = STR_LIT("Hallå?"),
                  .msg_id = STR_LIT("sim-2")}, 0);
    wait_ms(r, "30 s without an answer: Erik goes RONA, next agent offered", 30000);
    step(r, "Erik tries to accept after the offer moved on",
         (cc_cmd){.type = CC_CMD_ACCEPT, .agent = 2, .conv = conv + 1}, -CC_E_NOT_OFFERED);
    m.agent = 2;
    step(r, "Erik leaves RONA by choosing Tillgänglig", m, 0);
}

typedef struct replay_ctx {
    cc *c;
    size_t n;
    int bad;
    uint64_t at_seq;
} replay_ctx;

static int replay_stored(void *arg, const cc_event *ev)
{
    replay_ctx *x = arg;
    x->n++;
    if (cc_replay(x->c, ev) != 0) {
        x->at_seq = ev->seq;
        return 1;
    }
    return 0;
}

/* 'url': a data folder or any store URL (store.h). */
static int check_data(const char *url)
{
    char path[4096], err[512];
    if (store_url_is_pg(url)) {
        snprintf(path, sizeof path, "%s", url);
    } else {
        snprintf(path, sizeof path, "%s/textdesk.db",
                 strncmp(url, "sqlite:", 7) == 0 ? url + 7 : url);
        if (access(path, R_OK) != 0) {
            fprintf(stderr,
                    "textdesk selfcheck: no store at %s: name the server's with --data DIR or"
                    " --store URL\n",
                    path);
            return 1;
        }
    }
    store *st = store_open(path, err, sizeof err);
    if (!st) {
        fprintf(stderr, "textdesk selfcheck: %s\n", err);
        return 1;
    }
    int bad = 0, r = store_check(st, err, sizeof err);
    if (r != 0) {
        printf("store check failed: %s\n", r > 0 ? err : store_errmsg(st));
        bad++;
    }
    replay_ctx x = {.c = cc_new()};
    r = store_events_load(st, replay_stored, &x);
    if (r != 0) {
        printf("the event log does not replay (at event %llu)\n", (unsigned long long)x.at_seq);
        bad++;
    } else if (cc_check(x.c, err, sizeof err) != 0) {
        printf("invariant broken: %s\n", err);
        bad++;
    }
    printf("selfcheck: %s: %zu events replayed, %s\n", store_where(st), x.n,
           bad ? "FAILED" : "store sound, every conversation in a valid state");
    cc_free(x.c);
    store_close(st);
    return bad ? 1 : 0;
}

int cli_selfcheck_main(int argc, char **argv)
{
    static const char usage[] = "usage: textdesk selfcheck [-q | --data DIR | --store URL]\n";
    if (cli_help_asked(argc, argv)) {
        printf("%s\nWithout --data/--store: drives the core through a scripted demo day, prints\n"
               "each step (-q: only the summary) and checks that replaying the events gives\n"
               "the same state. With --data DIR or --store URL: replays that store and checks\n"
               "every conversation. Exit 0 when everything behaved, 1 otherwise.\n",
               usage);
        return 0;
    }
    if (argc > 1 && (strcmp(argv[1], "--data") == 0 || strcmp(argv[1], "--store") == 0)) {
        if (argc != 3) {
            fputs(usage, stderr);
            return 2;
        }
        if (argv[1][2] == 's' && !store_url_ok(argv[2])) {
            fprintf(stderr, "textdesk selfcheck: --store '%.200s': %s\n", argv[2], STORE_URL_HINT);
            return 2;
        }
        return check_data(argv[2]);
    }
    if (argc > 2 || (argc == 2 && strcmp(argv[1], "-q") != 0)) {
        fprintf(stderr, "textdesk selfcheck: unknown argument '%s'\n%s", argv[argc - 1], usage);
        return 2;
    }
    run r = {.c = cc_new(), .now = 1700000000000};
    r.quiet = argc > 1 && strcmp(argv[1], "-q") == 0;
    cc_events_init(&r.ev);
    cc_evlog_init(&r.log);

    demo_config(&r);
    demo_day(&r);

    char err[256];
    if (cc_check(r.c, err, sizeof err) != 0) {
        printf("invariant broken: %s\n", err);
        r.bad++;
    }
    cc *replayed = cc_new();
    for (size_t i = 0; i < r.log.n; i++)
        if (cc_replay(replayed, &r.log.v[i]) != 0) {
            printf("replay refused event %zu\n", i);
            r.bad++;
            break;
        }
    char *a = cc_dump(r.c), *b = cc_dump(replayed);
    int same = strcmp(a, b) == 0;
    r.bad += !same;
    printf("selfcheck: %d steps, %zu events, replay %s, %s\n", r.steps, r.log.n,
           same ? "identical" : "DIFFERENT", r.bad ? "FAILED" : "all as expected");
    free(a);
    free(b);
    cc_free(replayed);
    cc_evlog_free(&r.log);
    cc_events_free(&r.ev);
    cc_free(r.c);
    return r.bad ? 1 : 0;
}
