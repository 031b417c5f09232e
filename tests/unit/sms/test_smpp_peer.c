/*
 * test_smpp_peer: the pure smpp_session against the real SMSC simulator
 * (tests/peers/smsc/smsc_sim.pl, Perl Net::SMPP) over loopback TCP with the
 * real clock. Each test starts its own simulator on free ports and checks
 * what the session reports AND what the simulator logged (its JSON event
 * log), so neither side is taken on trust. Skipped, with a message, only
 * when perl or Net::SMPP is missing (scripts/deps.sh --test installs it).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "../../peers/smsc/smsc_harness.h"
#include "sms/gw.h"

/* ---- recorded outcomes -------------------------------------------------- */

#define NREF 512

typedef struct rec {
    smsc_sim sim;
    smsc_link link;
    int bound, bind_failed;
    uint32_t bind_status;
    int sent[NREF], failed[NREF], retry[NREF], unknown[NREF];
    uint32_t fail_status[NREF];
    char sent_id[NREF][66];
    char mo[16][1024];
    int nmo;
    unsigned mo_segments[16];
    struct {
        int64_t ref;
        char id[66], provider_id[66], stat[16];
        int gw;
    } dlr[64];
    int ndlr;
    int closes;
} rec;

static rec R;

static void on_event(smsc_link *l, const smpp_event *ev)
{
    (void)l;
    int64_t ref = ev->ref;
    int in = ref >= 0 && ref < NREF;
    switch (ev->type) {
    case SMPP_EV_BOUND:
        R.bound++;
        break;
    case SMPP_EV_BIND_FAILED:
        R.bind_failed++;
        R.bind_status = ev->status;
        break;
    case SMPP_EV_CLOSE:
        R.closes++;
        break;
    case SMPP_EV_SENT:
        if (in) {
            R.sent[ref]++;
            snprintf(R.sent_id[ref], sizeof R.sent_id[ref], "%.*s", (int)ev->id.n, ev->id.p);
        }
        break;
    case SMPP_EV_FAILED:
        if (in) {
            R.failed[ref]++;
            R.fail_status[ref] = ev->status;
        }
        break;
    case SMPP_EV_RETRY:
        if (in)
            R.retry[ref]++;
        break;
    case SMPP_EV_UNKNOWN:
        if (in)
            R.unknown[ref]++;
        break;
    case SMPP_EV_MO:
        if (R.nmo < 16) {
            snprintf(R.mo[R.nmo], sizeof R.mo[0], "%.*s", (int)ev->text.n, ev->text.p);
            R.mo_segments[R.nmo] = ev->segments;
            R.nmo++;
        }
        smpp_session_ack(R.link.s, ev->ack, 0); /* "committed" */
        break;
    case SMPP_EV_DLR:
        if (R.ndlr < 64) {
            R.dlr[R.ndlr].ref = ev->ref;
            R.dlr[R.ndlr].gw = ev->gw_status;
            snprintf(R.dlr[R.ndlr].id, 66, "%.*s", (int)ev->id.n, ev->id.p);
            snprintf(R.dlr[R.ndlr].provider_id, 66, "%.*s", (int)ev->provider_id.n,
                     ev->provider_id.p);
            snprintf(R.dlr[R.ndlr].stat, 16, "%.*s", (int)ev->stat.n, ev->stat.p);
            R.ndlr++;
        }
        smpp_session_ack(R.link.s, ev->ack, 0);
        break;
    default:
        break;
    }
}

static smpp_cfg peer_cfg(void)
{
    smpp_cfg c = {0};
    c.system_id = "test";
    c.password = "secret";
    c.system_type = "textdesk";
    c.window = 10;
    c.resp_timeout_ms = 5000;
    c.backoff_min_ms = 200;
    c.backoff_max_ms = 1000;
    c.throttled_pause_ms = 300;
    return c;
}

static int setup_with(void **state, int auto_dlr)
{
    (void)state;
    if (!smsc_available()) {
        print_message("SKIP: perl Net::SMPP is missing (scripts/deps.sh --test installs "
                      "libnet-smpp-perl); the SMPP peer tests did not run\n");
        skip();
    }
    memset(&R, 0, sizeof R);
    int r = smsc_start(&R.sim, auto_dlr);
    if (r != 0) {
        print_error("simulator did not start: %d\n", r);
        return -1;
    }
    R.link.sim = &R.sim;
    R.link.fd = -1;
    R.link.on_event = on_event;
    return 0;
}

static int setup(void **state)
{
    return setup_with(state, 1);
}

static int setup_nodlr(void **state)
{
    return setup_with(state, 0);
}

static int teardown(void **state)
{
    (void)state;
    if (R.link.s)
        smpp_session_free(R.link.s);
    R.link.s = NULL;
    smsc_link_close(&R.link);
    free(R.link.submit_times);
    R.link.submit_times = NULL;
    smsc_stop(&R.sim);
    return 0;
}

static void open_session(const smpp_cfg *c)
{
    R.link.s = smpp_session_new(c);
    assert_non_null(R.link.s);
}

static int is_bound(smsc_link *l)
{
    return smpp_session_state(l->s) == SMPP_ST_BOUND;
}

static void bind_up(const smpp_cfg *c)
{
    open_session(c);
    assert_true(smsc_link_run(&R.link, is_bound, 5000));
}

static void ctl(const char *cmd)
{
    char reply[256];
    if (smsc_ctl(&R.sim, cmd, reply, sizeof reply) != 0) {
        print_error("control '%s' -> '%s'\n", cmd, reply);
        fail();
    }
}

/* The simulator answers a PDU before it logs it, so our side can be done
 * before the log is: wait until the log has not grown for 150 ms (at most
 * 3 s), serving the link meanwhile. */
static void settle(void)
{
    long last = -1;
    int64_t still = smsc_now_ms(), end = still + 3000;
    while (smsc_now_ms() < end) {
        struct stat sb;
        long sz = stat(R.sim.events, &sb) == 0 ? (long)sb.st_size : -1;
        if (sz != last) {
            last = sz;
            still = smsc_now_ms();
        } else if (smsc_now_ms() - still >= 150) {
            return;
        }
        if (R.link.s)
            smsc_link_turn(&R.link, 10);
        else
            smsc_sleep_ms(10);
    }
}

/* The simulator's log as JSON objects; 'event' filters (NULL = all). */
static json_t *events(const char *event)
{
    settle();
    char *txt = smsc_events(&R.sim);
    assert_non_null(txt);
    json_t *arr = json_array();
    for (char *line = txt; line && *line;) {
        char *nl = strchr(line, '\n');
        if (nl)
            *nl = '\0';
        json_t *o = json_loads(line, 0, NULL);
        if (o) {
            const char *e = json_string_value(json_object_get(o, "event"));
            if (!event || (e && strcmp(e, event) == 0))
                json_array_append(arr, o);
            json_decref(o);
        }
        line = nl ? nl + 1 : NULL;
    }
    free(txt);
    return arr;
}

static const char *jstr(json_t *o, const char *k)
{
    const char *s = json_string_value(json_object_get(o, k));
    return s ? s : "";
}

static long jint(json_t *o, const char *k)
{
    return (long)json_integer_value(json_object_get(o, k));
}

/* 400 characters of Swedish in the GSM 03.38 alphabet. */
static char swedish[1024];
static void make_swedish(void)
{
    const char *w = "Hej! Vi har tagit emot ditt \xC3\xA4rende och \xC3\xA5terkommer s\xC3\xA5 "
                    "snart vi kan. Mvh Kundtj\xC3\xA4nst, G\xC3\xB6teborg. ";
    size_t chars = 0, n = 0, i = 0;
    for (;;) {
        unsigned char b = (unsigned char)w[i];
        if (b == 0) {
            i = 0;
            continue;
        }
        if ((b & 0xC0) != 0x80) {
            if (chars == 400)
                break;
            chars++;
        }
        swedish[n++] = (char)b;
        i++;
    }
    swedish[n] = '\0';
}

static int send_ref(int64_t ref, const char *text)
{
    return smpp_session_send(R.link.s, ref, STR_LIT("71000"), STR_LIT("+46701234567"),
                             str_c(text), smsc_now_ms());
}

/* ---- tests -------------------------------------------------------------- */

static int bind_refused(smsc_link *l)
{
    (void)l;
    return R.bind_failed > 0;
}

static void test_bind(void **st)
{
    (void)st;
    smpp_cfg c = peer_cfg();
    c.password = "wrong";
    open_session(&c);
    assert_true(smsc_link_run(&R.link, bind_refused, 5000));
    assert_int_equal(R.bind_status, SMPP_ESME_RINVPASWD);
    assert_int_equal(smpp_session_state(R.link.s), SMPP_ST_IDLE);
    smpp_session_free(R.link.s);

    c.password = "secret";
    bind_up(&c);
    json_t *b = events("bind_transceiver");
    assert_int_equal(json_array_size(b), 2);
    assert_int_equal(jint(json_array_get(b, 0), "status"), 0x0E);
    assert_int_equal(jint(json_array_get(b, 1), "status"), 0);
    assert_string_equal(jstr(json_array_get(b, 1), "system_id"), "test");
    assert_string_equal(jstr(json_array_get(b, 1), "system_type"), "textdesk");
    assert_string_equal(jstr(json_array_get(b, 1), "interface_version"), "0x34");
    json_decref(b);
    /* The SMSC's enquire_link is answered. */
    ctl("ENQUIRE");
    smsc_link_run(&R.link, NULL, 500);
    b = events("enquire_link_resp");
    assert_int_equal(json_array_size(b), 1);
    json_decref(b);
}

static int got_mo3(smsc_link *l)
{
    (void)l;
    return R.nmo >= 3;
}

static void test_mo(void **st)
{
    (void)st;
    smpp_cfg c = peer_cfg();
    bind_up(&c);
    ctl("MO +46701234567 71000 Hej, jag beh\xC3\xB6ver hj\xC3\xA4lp med {fakturan} \xE2\x82\xAC");
    ctl("MOUCS2 +46701234567 71000 \xD0\x9F\xD1\x80\xD0\xB8\xD0\xB2\xD0\xB5\xD1\x82 "
        "\xE2\x9C\x93 \xE5\xA5\xBD");
    /* 150 characters -> 3 UCS-2 parts of 67, 67, 16. */
    char longt[400];
    size_t k = 0;
    for (int i = 0; i < 150; i++)
        longt[k++] = (char)('a' + i % 26);
    longt[k] = '\0';
    char cmd[512];
    snprintf(cmd, sizeof cmd, "MOLONG +46701234567 71000 %s", longt);
    ctl(cmd);
    assert_true(smsc_link_run(&R.link, got_mo3, 5000));
    assert_string_equal(R.mo[0], "Hej, jag beh\xC3\xB6ver hj\xC3\xA4lp med {fakturan} \xE2\x82\xAC");
    assert_string_equal(R.mo[1], "\xD0\x9F\xD1\x80\xD0\xB8\xD0\xB2\xD0\xB5\xD1\x82 "
                                 "\xE2\x9C\x93 \xE5\xA5\xBD");
    assert_string_equal(R.mo[2], longt);
    assert_int_equal(R.mo_segments[2], 3);
    /* Every deliver_sm got a deliver_sm_resp with status 0. */
    smsc_link_run(&R.link, NULL, 300);
    json_t *d = events("deliver_sm"), *r = events("deliver_sm_resp");
    assert_int_equal(json_array_size(d), 5);
    assert_int_equal(jint(json_array_get(d, 0), "data_coding"), 0);
    assert_int_equal(jint(json_array_get(d, 1), "data_coding"), 8);
    assert_int_equal(jint(json_array_get(d, 2), "esm_class"), 0x40);
    assert_int_equal(json_array_size(r), 5);
    for (size_t i = 0; i < 5; i++)
        assert_int_equal(jint(json_array_get(r, i), "status"), 0);
    json_decref(d);
    json_decref(r);
}

static int sent_and_3dlr(smsc_link *l)
{
    (void)l;
    return R.sent[1] && R.ndlr >= 3;
}

static void test_submit_concat_and_dlr(void **st)
{
    (void)st;
    make_swedish();
    smpp_cfg c = peer_cfg();
    bind_up(&c);
    assert_int_equal(send_ref(1, swedish), 0);
    assert_true(smsc_link_run(&R.link, sent_and_3dlr, 8000));
    json_t *s = events("submit_sm");
    assert_int_equal(json_array_size(s), 3);
    char joined[1024] = "";
    char udh0[16] = "";
    for (size_t i = 0; i < 3; i++) {
        json_t *o = json_array_get(s, i);
        assert_int_equal(jint(o, "data_coding"), 0);
        assert_int_equal(jint(o, "esm_class"), 0x40);
        assert_int_equal(jint(o, "registered_delivery"), 1);
        assert_int_equal(jint(o, "used_message_payload"), 0);
        assert_string_equal(jstr(o, "destination_addr"), "46701234567");
        assert_int_equal(jint(o, "dest_addr_ton"), 1);
        const char *udh = jstr(o, "udh_hex");
        assert_int_equal(strlen(udh), 12);
        assert_memory_equal(udh, "050003", 6);
        if (i == 0)
            snprintf(udh0, sizeof udh0, "%.2s", udh + 6);
        assert_memory_equal(udh + 6, udh0, 2); /* same reference */
        char tail[5];
        snprintf(tail, sizeof tail, "03%02zu", i + 1);
        assert_string_equal(udh + 8, tail);
        strncat(joined, jstr(o, "text"), sizeof joined - strlen(joined) - 1);
    }
    assert_string_equal(joined, swedish);
    /* provider id = the first segment's message id */
    assert_string_equal(R.sent_id[1], jstr(json_array_get(s, 0), "message_id"));
    json_decref(s);
    /* Three receipts (one per segment); the last one delivers the message. */
    int delivered = 0;
    for (int i = 0; i < R.ndlr; i++) {
        assert_int_equal(R.dlr[i].ref, 1);
        assert_string_equal(R.dlr[i].provider_id, R.sent_id[1]);
        assert_string_equal(R.dlr[i].stat, "DELIVRD");
        delivered += R.dlr[i].gw == GW_DELIVERED;
    }
    assert_int_equal(delivered, 1);
    assert_int_equal(R.dlr[R.ndlr - 1].gw, GW_DELIVERED);
}

static int sent2_dlr(smsc_link *l)
{
    (void)l;
    return R.sent[2] && R.ndlr >= 1;
}

static void test_dlr_undeliv(void **st)
{
    (void)st;
    smpp_cfg c = peer_cfg();
    bind_up(&c);
    send_ref(2, "Kort svar");
    int got = 0;
    for (int i = 0; i < 100 && !R.sent[2]; i++)
        smsc_link_turn(&R.link, 20);
    assert_int_equal(R.sent[2], 1);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "DLR %s UNDELIV", R.sent_id[2]);
    ctl(cmd);
    assert_true(smsc_link_run(&R.link, sent2_dlr, 3000));
    for (int i = 0; i < R.ndlr; i++)
        if (R.dlr[i].ref == 2 && R.dlr[i].gw == GW_FAILED) {
            got = 1;
            assert_string_equal(R.dlr[i].stat, "UNDELIV");
            assert_string_equal(R.dlr[i].id, R.sent_id[2]);
        }
    assert_true(got);
}

#define NDROP 60
static int all_resolved(smsc_link *l)
{
    (void)l;
    for (int i = 0; i < NDROP; i++)
        if (!R.sent[i] && !R.unknown[i] && !R.failed[i] && !R.retry[i])
            return 0;
    return 1;
}

static int sent_count(void)
{
    int n = 0;
    for (int i = 0; i < NREF; i++)
        n += R.sent[i];
    return n;
}

static int twenty_sent(smsc_link *l)
{
    (void)l;
    return sent_count() >= 20;
}

static void test_drop_and_reconnect(void **st)
{
    (void)st;
    smpp_cfg c = peer_cfg();
    c.throughput = 40; /* so that the DROP lands mid-stream */
    bind_up(&c);
    char text[NDROP][32];
    for (int i = 0; i < NDROP; i++) {
        snprintf(text[i], sizeof text[i], "reply number %d", i);
        assert_int_equal(send_ref(i, text[i]), 0);
    }
    assert_true(smsc_link_run(&R.link, twenty_sent, 5000));
    ctl("DROP");
    assert_true(smsc_link_run(&R.link, all_resolved, 15000));
    assert_true(R.bound >= 2); /* re-bound after the drop */
    assert_true(R.link.connects >= 2);
    /* The simulator's log: each text accepted at most once (no duplicate);
     * every text we count as sent was accepted, under the id we got. */
    json_t *s = events("submit_sm");
    int accepted[NDROP] = {0};
    for (size_t i = 0; i < json_array_size(s); i++) {
        json_t *o = json_array_get(s, i);
        int n = -1;
        if (sscanf(jstr(o, "text"), "reply number %d", &n) == 1 && n >= 0 && n < NDROP &&
            jint(o, "status") == 0) {
            accepted[n]++;
            if (R.sent[n])
                assert_string_equal(R.sent_id[n], jstr(o, "message_id"));
        }
    }
    int unknown = 0;
    for (int i = 0; i < NDROP; i++) {
        assert_true(accepted[i] <= 1);
        assert_int_equal(R.sent[i] + R.unknown[i], 1);
        if (R.sent[i])
            assert_int_equal(accepted[i], 1);
        unknown += R.unknown[i];
    }
    print_message("drop: %d sent, %d in flight at the drop (reported unknown), binds %d\n",
                  sent_count(), unknown, R.bound);
    json_decref(s);
    json_t *d = events("disconnect");
    assert_true(json_array_size(d) >= 1);
    json_decref(d);
}

static int ref_done(smsc_link *l)
{
    (void)l;
    return R.sent[1] + R.failed[1] + R.retry[1] > 0;
}

static int ref2_done(smsc_link *l)
{
    (void)l;
    return R.sent[2] + R.failed[2] + R.retry[2] > 0;
}

static void test_failnext(void **st)
{
    (void)st;
    smpp_cfg c = peer_cfg();
    bind_up(&c);
    ctl("FAILNEXT 0x58");
    int64_t t0 = smsc_now_ms();
    send_ref(1, "throttled first");
    assert_true(smsc_link_run(&R.link, ref_done, 5000));
    int64_t took = smsc_now_ms() - t0;
    assert_int_equal(R.sent[1], 1);
    assert_true(took >= 300); /* waited throttled_pause_ms */
    json_t *s = events("submit_sm");
    assert_int_equal(json_array_size(s), 2);
    assert_int_equal(jint(json_array_get(s, 0), "status"), 0x58);
    assert_int_equal(jint(json_array_get(s, 1), "status"), 0);
    assert_string_equal(jstr(json_array_get(s, 1), "text"), "throttled first");
    assert_string_equal(R.sent_id[1], jstr(json_array_get(s, 1), "message_id"));
    json_decref(s);

    ctl("FAILNEXT 0x45");
    send_ref(2, "refused");
    assert_true(smsc_link_run(&R.link, ref2_done, 5000));
    assert_int_equal(R.failed[2], 1);
    assert_int_equal(R.fail_status[2], SMPP_ESME_RSUBMITFAIL);
}

#define NWIN 200
static int win_done(smsc_link *l)
{
    (void)l;
    return sent_count() >= NWIN;
}

static void test_window(void **st)
{
    (void)st;
    smpp_cfg c = peer_cfg();
    c.window = 10;
    c.no_receipts = 1;
    bind_up(&c);
    for (int i = 0; i < NWIN; i++)
        assert_int_equal(send_ref(i, "window test"), 0);
    assert_true(smsc_link_run(&R.link, win_done, 20000));
    smpp_stats sx;
    smpp_session_stats_get(R.link.s, &sx);
    print_message("window: session inflight_max %u, wire outstanding_max %ld\n",
                  sx.inflight_max, (long)R.link.outstanding_max);
    assert_true(sx.inflight_max <= 10);
    assert_true(R.link.outstanding_max <= 10);
    assert_true(R.link.outstanding_max >= 2); /* the window was used */
    assert_int_equal(R.link.submits_written, NWIN);
    json_t *s = events("submit_sm");
    assert_int_equal(json_array_size(s), NWIN);
    json_decref(s);
}

#define NTHR 30
static int thr_done(smsc_link *l)
{
    (void)l;
    return sent_count() >= NTHR;
}

static void test_throttle(void **st)
{
    (void)st;
    smpp_cfg c = peer_cfg();
    c.throughput = 20;
    c.no_receipts = 1;
    bind_up(&c);
    R.link.submit_cap = NTHR;
    R.link.submit_times = calloc(NTHR, sizeof(int64_t));
    for (int i = 0; i < NTHR; i++)
        send_ref(i, "throttle test");
    assert_true(smsc_link_run(&R.link, thr_done, 10000));
    int64_t *t = R.link.submit_times;
    double secs = (double)(t[NTHR - 1] - t[0]) / 1000.0;
    double rate = (NTHR - 1) / secs;
    print_message("throttle: configured 20/s, measured %.2f/s over %.2f s\n", rate, secs);
    /* never faster than configured; slower only by what a loaded machine
     * delays the loop (CI saw 17.6/s at load 9: the lower bound only
     * catches a throttle that holds back far more than it should) */
    assert_true(rate > 12.0 && rate <= 20.5);
    /* never more than 20 in any one-second span (+1 for the boundary) */
    for (int i = 0; i < NTHR; i++) {
        int n = 0;
        for (int j = i; j < NTHR && t[j] - t[i] < 1000; j++)
            n++;
        assert_true(n <= 21);
    }
}

static void test_enquire_link(void **st)
{
    (void)st;
    smpp_cfg c = peer_cfg();
    c.enquire_ms = 250;
    bind_up(&c);
    smsc_link_run(&R.link, NULL, 1200);
    json_t *e = events("enquire_link"); /* settles: keeps the link served */
    smpp_stats sx;
    smpp_session_stats_get(R.link.s, &sx);
    size_t n = json_array_size(e);
    print_message("enquire_link: simulator logged %zu, session sent %llu (every 250 ms)\n",
                  n, (unsigned long long)sx.enquires_sent);
    assert_true(n >= 4);
    assert_true(n == sx.enquires_sent || n + 1 == sx.enquires_sent);
    json_decref(e);
    assert_int_equal(smpp_session_state(R.link.s), SMPP_ST_BOUND);
    /* Graceful stop: unbind, and the simulator sees it. */
    smpp_session_stop(R.link.s, smsc_now_ms());
    smsc_link_run(&R.link, NULL, 300);
    assert_int_equal(smpp_session_state(R.link.s), SMPP_ST_STOPPED);
    e = events("unbind");
    assert_int_equal(json_array_size(e), 1);
    json_decref(e);
}

static void test_payload_mode(void **st)
{
    (void)st;
    make_swedish();
    smpp_cfg c = peer_cfg();
    c.payload_mode = 1;
    bind_up(&c);
    send_ref(1, swedish);
    assert_true(smsc_link_run(&R.link, ref_done, 5000));
    assert_int_equal(R.sent[1], 1);
    json_t *s = events("submit_sm");
    assert_int_equal(json_array_size(s), 1);
    assert_int_equal(jint(json_array_get(s, 0), "used_message_payload"), 1);
    assert_string_equal(jstr(json_array_get(s, 0), "text"), swedish);
    json_decref(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_bind, setup, teardown),
        cmocka_unit_test_setup_teardown(test_mo, setup, teardown),
        cmocka_unit_test_setup_teardown(test_submit_concat_and_dlr, setup, teardown),
        cmocka_unit_test_setup_teardown(test_dlr_undeliv, setup_nodlr, teardown),
        cmocka_unit_test_setup_teardown(test_drop_and_reconnect, setup_nodlr, teardown),
        cmocka_unit_test_setup_teardown(test_failnext, setup_nodlr, teardown),
        cmocka_unit_test_setup_teardown(test_window, setup_nodlr, teardown),
        cmocka_unit_test_setup_teardown(test_throttle, setup_nodlr, teardown),
        cmocka_unit_test_setup_teardown(test_enquire_link, setup_nodlr, teardown),
        cmocka_unit_test_setup_teardown(test_payload_mode, setup_nodlr, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
