/*
 * test_smpp: the SMPP 3.4 codec (smpp_pdu) and the pure ESME session
 * (smpp_session) with injected time. The "SMSC" here is the test itself,
 * answering with PDUs built by the codec; the real simulator is exercised by
 * test_smpp_peer.c.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "sms/gw.h"
#include "sms/smpp_pdu.h"
#include "sms/smpp_session.h"

/* ---- helpers ------------------------------------------------------------ */

static uint8_t wire[SMPP_PDU_MAX];

static size_t enc(const smpp_pdu *p)
{
    size_t n = 0;
    assert_int_equal(smpp_pdu_encode(p, wire, sizeof wire, &n), 0);
    return n;
}

static void feed(smpp_session *s, const smpp_pdu *p, int64_t now)
{
    size_t n = enc(p);
    assert_int_equal(smpp_session_input(s, wire, n, now), 0);
}

static void feed_resp(smpp_session *s, uint32_t cmd, uint32_t seq, uint32_t status,
                      const char *msgid, int64_t now)
{
    smpp_pdu p;
    smpp_pdu_init(&p, cmd, seq);
    p.command_status = status;
    if (msgid)
        snprintf(p.message_id, sizeof p.message_id, "%s", msgid);
    feed(s, &p, now);
}

/* The session's pending output, decoded. Bytes are copied so that the
 * borrowed short_message views stay valid until the next call. */
#define MAXPDU 64
static smpp_pdu outp[MAXPDU];
static uint8_t outbytes[MAXPDU][1024];

static size_t take_out(smpp_session *s)
{
    size_t n;
    const uint8_t *b = smpp_session_out(s, &n);
    size_t k = 0, off = 0;
    while (off < n) {
        long len = smpp_pdu_frame(b + off, n - off);
        assert_true(len >= 16 && (size_t)len <= n - off);
        assert_true(k < MAXPDU && (size_t)len <= sizeof outbytes[0]);
        memcpy(outbytes[k], b + off, (size_t)len);
        assert_int_equal(smpp_pdu_decode(outbytes[k], (size_t)len, &outp[k]), 0);
        k++;
        off += (size_t)len;
    }
    smpp_session_out_consume(s, n);
    return k;
}

static smpp_event ev;

static int next_ev(smpp_session *s)
{
    return smpp_session_poll(s, &ev) ? (int)ev.type : 0;
}

static void expect_ev(smpp_session *s, int type)
{
    int t = next_ev(s);
    if (t != type) {
        print_error("expected event %s, got %s\n", smpp_event_name(type),
                     t ? smpp_event_name(t) : "none");
        fail();
    }
}

static smpp_cfg base_cfg(void)
{
    smpp_cfg c = {0};
    c.system_id = "test";
    c.password = "secret";
    c.system_type = "textdesk";
    c.window = 10;
    c.enquire_ms = 30000;
    c.resp_timeout_ms = 10000;
    c.backoff_min_ms = 1000;
    c.backoff_max_ms = 8000;
    c.throttled_pause_ms = 500;
    return c;
}

/* A session bound at time 'now'. */
static smpp_session *bound(const smpp_cfg *c, int64_t now)
{
    smpp_session *s = smpp_session_new(c);
    assert_non_null(s);
    assert_int_equal(smpp_session_next_deadline(s), INT64_MIN);
    smpp_session_tick(s, now);
    expect_ev(s, SMPP_EV_CONNECT);
    smpp_session_connected(s, now);
    assert_int_equal(take_out(s), 1);
    assert_int_equal(outp[0].command_id, SMPP_BIND_TRANSCEIVER);
    assert_string_equal(outp[0].system_id, "test");
    assert_string_equal(outp[0].password, "secret");
    assert_string_equal(outp[0].system_type, "textdesk");
    assert_int_equal(outp[0].interface_version, 0x34);
    smpp_pdu r;
    smpp_pdu_init(&r, SMPP_BIND_TRANSCEIVER_RESP, outp[0].sequence_number);
    snprintf(r.system_id, sizeof r.system_id, "SIMSMSC");
    feed(s, &r, now);
    expect_ev(s, SMPP_EV_BOUND);
    assert_int_equal(smpp_session_state(s), SMPP_ST_BOUND);
    return s;
}

static int send_text(smpp_session *s, int64_t ref, const char *text, int64_t now)
{
    return smpp_session_send(s, ref, STR_LIT("71000"), STR_LIT("+46701234567"),
                             str_c(text), now);
}

/* 400 characters of Swedish (GSM 03.38: å ä ö are in the default alphabet). */
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
        if ((b & 0xC0) != 0x80) { /* a character starts here */
            if (chars == 400)
                break;
            chars++;
        }
        swedish[n++] = (char)b;
        i++;
    }
    swedish[n] = '\0';
}

/* ---- codec -------------------------------------------------------------- */

static void test_pdu_bind_vector(void **st)
{
    (void)st;
    smpp_pdu p;
    smpp_pdu_init(&p, SMPP_BIND_TRANSCEIVER, 1);
    snprintf(p.system_id, sizeof p.system_id, "test");
    snprintf(p.password, sizeof p.password, "secret");
    size_t n = enc(&p);
    static const uint8_t want[] = {0x00, 0x00, 0x00, 0x21, 0x00, 0x00, 0x00, 0x09, 0x00,
                                   0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 't',  'e',
                                   's',  't',  0x00, 's',  'e',  'c',  'r',  'e',  't',
                                   0x00, 0x00, 0x34, 0x00, 0x00, 0x00};
    assert_int_equal(n, sizeof want);
    assert_memory_equal(wire, want, sizeof want);
    smpp_pdu d;
    assert_int_equal(smpp_pdu_frame(wire, n), 33);
    assert_int_equal(smpp_pdu_decode(wire, n, &d), 0);
    assert_string_equal(d.system_id, "test");
    assert_string_equal(d.password, "secret");
    assert_int_equal(d.interface_version, 0x34);

    static const uint8_t enq[] = {0, 0, 0, 0x10, 0, 0, 0, 0x15, 0, 0, 0, 0, 0, 0, 0, 7};
    smpp_pdu_init(&p, SMPP_ENQUIRE_LINK, 7);
    n = enc(&p);
    assert_int_equal(n, 16);
    assert_memory_equal(wire, enq, 16);
    /* A bare submit_sm_resp with an error status (no message_id) decodes. */
    static const uint8_t nack58[] = {0, 0, 0, 0x10, 0x80, 0, 0, 4, 0, 0, 0, 0x58, 0, 0, 0, 3};
    assert_int_equal(smpp_pdu_decode(nack58, 16, &d), 0);
    assert_int_equal(d.command_status, 0x58);
    assert_string_equal(smpp_status_name(0x58), "ESME_RTHROTTLED");
    assert_string_equal(smpp_cmd_name(SMPP_DELIVER_SM_RESP), "deliver_sm_resp");
}

static void test_pdu_submit_roundtrip(void **st)
{
    (void)st;
    smpp_pdu p, d;
    uint8_t sm[] = {5, 0, 3, 0x2A, 3, 1, 'H', 'e', 'j'};
    smpp_pdu_init(&p, SMPP_SUBMIT_SM, 42);
    p.source_addr_ton = 0;
    p.source_addr_npi = 1;
    snprintf(p.source_addr, sizeof p.source_addr, "71000");
    p.dest_addr_ton = 1;
    p.dest_addr_npi = 1;
    snprintf(p.destination_addr, sizeof p.destination_addr, "46701234567");
    p.esm_class = SMPP_ESM_UDHI;
    p.registered_delivery = 1;
    p.data_coding = 8;
    p.short_message = sm;
    p.sm_length = sizeof sm;
    p.has_sar = 1;
    p.sar_msg_ref_num = 0x1234;
    p.sar_total_segments = 3;
    p.sar_segment_seqnum = 1;
    size_t n = enc(&p);
    assert_int_equal(smpp_pdu_decode(wire, n, &d), 0);
    assert_int_equal(d.command_id, SMPP_SUBMIT_SM);
    assert_int_equal(d.sequence_number, 42);
    assert_string_equal(d.source_addr, "71000");
    assert_string_equal(d.destination_addr, "46701234567");
    assert_int_equal(d.dest_addr_ton, 1);
    assert_int_equal(d.esm_class, 0x40);
    assert_int_equal(d.data_coding, 8);
    assert_int_equal(d.registered_delivery, 1);
    assert_int_equal(d.sm_length, sizeof sm);
    assert_memory_equal(d.short_message, sm, sizeof sm);
    assert_true(d.has_sar);
    assert_int_equal(d.sar_msg_ref_num, 0x1234);
    assert_int_equal(d.sar_total_segments, 3);

    /* message_payload instead of short_message. */
    uint8_t big[600];
    memset(big, 'a', sizeof big);
    smpp_pdu_init(&p, SMPP_SUBMIT_SM, 43);
    snprintf(p.source_addr, sizeof p.source_addr, "71000");
    snprintf(p.destination_addr, sizeof p.destination_addr, "4670");
    p.has_payload = 1;
    p.message_payload = big;
    p.payload_len = sizeof big;
    n = enc(&p);
    assert_int_equal(smpp_pdu_decode(wire, n, &d), 0);
    assert_true(d.has_payload);
    assert_int_equal(d.sm_length, 0);
    assert_int_equal(d.payload_len, sizeof big);
    assert_memory_equal(d.message_payload, big, sizeof big);
    /* Both at once is refused both ways. */
    p.short_message = sm;
    p.sm_length = 3;
    assert_int_equal(smpp_pdu_encode(&p, wire, sizeof wire, &n), -EINVAL);

    /* deliver_sm receipt with receipted_message_id and message_state. */
    smpp_pdu_init(&p, SMPP_DELIVER_SM, 9);
    p.esm_class = SMPP_ESM_TYPE_RECEIPT;
    p.has_receipted_message_id = 1;
    snprintf(p.receipted_message_id, sizeof p.receipted_message_id, "1001");
    p.has_message_state = 1;
    p.message_state = 2;
    n = enc(&p);
    assert_int_equal(smpp_pdu_decode(wire, n, &d), 0);
    assert_true(d.has_receipted_message_id && d.has_message_state);
    assert_string_equal(d.receipted_message_id, "1001");
    assert_int_equal(d.message_state, 2);

    /* Too-long fields are refused, not truncated. */
    smpp_pdu_init(&p, SMPP_BIND_TRANSCEIVER, 1);
    memset(p.password, 'x', sizeof p.password); /* no NUL within 9 */
    assert_int_equal(smpp_pdu_encode(&p, wire, sizeof wire, &n), -EINVAL);
    smpp_pdu_init(&p, 0x00000003u /* query_sm: not supported */, 1);
    assert_int_equal(smpp_pdu_encode(&p, wire, sizeof wire, &n), -EINVAL);
    smpp_pdu_init(&p, SMPP_ENQUIRE_LINK, 1);
    assert_int_equal(smpp_pdu_encode(&p, wire, 10, &n), -ENOSPC);
}

static void put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static void test_pdu_malformed(void **st)
{
    (void)st;
    smpp_pdu d;
    uint8_t b[128];
    memset(b, 0, sizeof b);
    /* framing */
    assert_int_equal(smpp_pdu_frame(b, 3), 0);
    put32(b, 8);
    assert_int_equal(smpp_pdu_frame(b, 16), -SMPP_ELEN);
    put32(b, SMPP_PDU_MAX + 1);
    assert_int_equal(smpp_pdu_frame(b, 16), -SMPP_ELEN);
    assert_int_equal(smpp_pdu_decode(b, 10, &d), -SMPP_ESHORT);
    put32(b, 20);
    put32(b + 4, SMPP_ENQUIRE_LINK);
    assert_int_equal(smpp_pdu_decode(b, 16, &d), -SMPP_ELEN); /* length != n */
    /* enquire_link with a body */
    assert_int_equal(smpp_pdu_decode(b, 20, &d), -SMPP_EBODY);
    assert_int_equal(d.command_id, SMPP_ENQUIRE_LINK); /* header still set */
    assert_int_equal(smpp_err_status(-SMPP_EBODY), SMPP_ESME_RINVCMDLEN);
    /* unknown command */
    put32(b, 16);
    put32(b + 4, 0x00000103u);
    assert_int_equal(smpp_pdu_decode(b, 16, &d), -SMPP_ECMD);
    assert_int_equal(smpp_err_status(-SMPP_ECMD), SMPP_ESME_RINVCMDID);
    /* system_id of 16 bytes without NUL */
    put32(b, 16 + 20);
    put32(b + 4, SMPP_BIND_TRANSCEIVER);
    memset(b + 16, 'a', 20);
    assert_int_equal(smpp_pdu_decode(b, 36, &d), -SMPP_ECSTR);
    /* string running off the end */
    put32(b, 16 + 4);
    assert_int_equal(smpp_pdu_decode(b, 20, &d), -SMPP_ETRUNC);
    /* submit_sm_resp with status 0 but no message_id */
    put32(b, 16);
    put32(b + 4, SMPP_SUBMIT_SM_RESP);
    assert_int_equal(smpp_pdu_decode(b, 16, &d), -SMPP_ETRUNC);

    /* A valid deliver_sm, then damaged in each way. */
    smpp_pdu p;
    uint8_t sm[] = "Hej";
    smpp_pdu_init(&p, SMPP_DELIVER_SM, 5);
    p.short_message = sm;
    p.sm_length = 3;
    p.has_message_state = 1;
    p.message_state = 2;
    size_t n = enc(&p);
    assert_int_equal(smpp_pdu_decode(wire, n, &d), 0);
    /* sm_length past the end: drop the TLV (5 bytes) and the text tail */
    uint8_t c[256];
    memcpy(c, wire, n);
    size_t smlen_at = n - 5 - 3 - 1;
    c[smlen_at] = 200;
    assert_int_equal(smpp_pdu_decode(c, n, &d), -SMPP_ESMLEN);
    /* TLV value length past the end */
    memcpy(c, wire, n);
    c[n - 2] = 9;
    assert_int_equal(smpp_pdu_decode(c, n, &d), -SMPP_ETLV);
    /* message_state with length 2 */
    memcpy(c, wire, n);
    c[n - 3] = 0; /* len hi */
    c[n - 2] = 2; /* len lo: value now runs 1 past: ETLV */
    assert_int_equal(smpp_pdu_decode(c, n, &d), -SMPP_ETLV);
    memcpy(c, wire, n);
    c[n - 2] = 2;
    c[n] = 0;
    put32(c, (uint32_t)n + 1);
    assert_int_equal(smpp_pdu_decode(c, n + 1, &d), -SMPP_ETLVLEN);
    /* a dangling 2-byte TLV header */
    memcpy(c, wire, n);
    c[n] = 0x04;
    c[n + 1] = 0x27;
    put32(c, (uint32_t)n + 2);
    assert_int_equal(smpp_pdu_decode(c, n + 2, &d), -SMPP_ETLV);
    /* sar TLVs must come as a set */
    smpp_pdu_init(&p, SMPP_DELIVER_SM, 5);
    p.has_sar = 1;
    p.sar_total_segments = 2;
    p.sar_segment_seqnum = 1;
    n = enc(&p);
    assert_int_equal(smpp_pdu_decode(wire, n, &d), 0);
    assert_int_equal(smpp_pdu_decode(wire, n - 5, &d), -SMPP_ELEN);
    put32(wire, (uint32_t)n - 5);
    assert_int_equal(smpp_pdu_decode(wire, n - 5, &d), -SMPP_ETLVLEN);
    assert_string_equal(smpp_strerror(-SMPP_ESMLEN),
                        "sm_length runs past the end of the PDU");
}

/* ---- receipts ----------------------------------------------------------- */

static void test_receipt_parse(void **st)
{
    (void)st;
    /* The simulator's exact receipt text (smsc_sim.pl receipt_text). */
    const char *t = "id:1002 sub:001 dlvrd:001 submit date:2501011200 done date:2501011201 "
                    "stat:DELIVRD err:000 text:Hej! Vi har tagit ";
    char id[66], stat[16], err[16];
    assert_int_equal(smpp_receipt_parse(t, strlen(t), id, sizeof id, stat, sizeof stat, err,
                                        sizeof err),
                     0);
    assert_string_equal(id, "1002");
    assert_string_equal(stat, "DELIVRD");
    assert_string_equal(err, "000");
    const char *u = "id:abc-7 sub:001 dlvrd:000 submit date:2501011200 done "
                    "date:2501011201 stat:UNDELIV err:001 text:";
    assert_int_equal(smpp_receipt_parse(u, strlen(u), id, sizeof id, stat, sizeof stat, err,
                                        sizeof err),
                     0);
    assert_string_equal(id, "abc-7");
    assert_string_equal(stat, "UNDELIV");
    assert_int_equal(smpp_stat_gw("DELIVRD"), GW_DELIVERED);
    assert_int_equal(smpp_stat_gw("UNDELIV"), GW_FAILED);
    assert_int_equal(smpp_stat_gw("EXPIRED"), GW_FAILED);
    assert_int_equal(smpp_stat_gw("REJECTD"), GW_FAILED);
    assert_int_equal(smpp_stat_gw("ENROUTE"), -1);
    assert_int_equal(smpp_stat_gw("ACCEPTD"), -1);
    assert_int_equal(smpp_receipt_parse("hello", 5, id, sizeof id, stat, sizeof stat, err,
                                        sizeof err),
                     -EINVAL);
    assert_int_equal(smpp_receipt_parse("id:1", 4, id, sizeof id, stat, sizeof stat, err,
                                        sizeof err),
                     -EINVAL);
}

/* ---- session: bind, backoff --------------------------------------------- */

static void test_bind_refused_and_backoff(void **st)
{
    (void)st;
    smpp_cfg c = base_cfg();
    smpp_session *s = smpp_session_new(&c);
    int64_t t = 1000;
    int64_t want_delay[] = {1000, 2000, 4000, 8000, 8000};
    for (int i = 0; i < 5; i++) {
        smpp_session_tick(s, t);
        expect_ev(s, SMPP_EV_CONNECT);
        smpp_session_connected(s, t);
        assert_int_equal(take_out(s), 1);
        feed_resp(s, SMPP_BIND_TRANSCEIVER_RESP, outp[0].sequence_number,
                  SMPP_ESME_RINVPASWD, NULL, t);
        expect_ev(s, SMPP_EV_BIND_FAILED);
        assert_int_equal(ev.status, 0x0E);
        assert_non_null(strstr(ev.text.p, "ESME_RINVPASWD"));
        expect_ev(s, SMPP_EV_CLOSE);
        assert_int_equal(next_ev(s), 0);
        assert_int_equal(smpp_session_state(s), SMPP_ST_IDLE);
        assert_int_equal(smpp_session_next_deadline(s), t + want_delay[i]);
        smpp_session_tick(s, t + want_delay[i] - 1);
        assert_int_equal(next_ev(s), 0);
        t += want_delay[i];
    }
    /* A connect failure also backs off; a good bind resets the delay. */
    smpp_session_tick(s, t);
    expect_ev(s, SMPP_EV_CONNECT);
    smpp_session_link_lost(s, t);
    assert_int_equal(smpp_session_next_deadline(s), t + 8000);
    t += 8000;
    smpp_session_tick(s, t);
    expect_ev(s, SMPP_EV_CONNECT);
    smpp_session_connected(s, t);
    take_out(s);
    feed_resp(s, SMPP_BIND_TRANSCEIVER_RESP, outp[0].sequence_number, 0, NULL, t);
    expect_ev(s, SMPP_EV_BOUND);
    smpp_session_link_lost(s, t);
    assert_int_equal(smpp_session_next_deadline(s), t + 1000);
    /* Bind timeout. */
    smpp_session_tick(s, t + 1000);
    expect_ev(s, SMPP_EV_CONNECT);
    smpp_session_connected(s, t + 1000);
    take_out(s);
    assert_int_equal(smpp_session_next_deadline(s), t + 11000);
    smpp_session_tick(s, t + 11000);
    expect_ev(s, SMPP_EV_CLOSE);
    assert_non_null(strstr(ev.text.p, "timeout"));
    smpp_session_free(s);

    c.password = "much too long";
    assert_null(smpp_session_new(&c));
}

/* ---- session: window, throttle ------------------------------------------ */

static void test_window(void **st)
{
    (void)st;
    smpp_cfg c = base_cfg();
    c.window = 3;
    smpp_session *s = bound(&c, 0);
    for (int i = 0; i < 10; i++)
        assert_int_equal(send_text(s, 100 + i, "hello", 0), 0);
    assert_int_equal(take_out(s), 3);
    smpp_stats sx;
    smpp_session_stats_get(s, &sx);
    assert_int_equal(sx.inflight, 3);
    assert_int_equal(sx.queued, 10);
    uint32_t seqs[3] = {outp[0].sequence_number, outp[1].sequence_number,
                        outp[2].sequence_number};
    /* Answer out of order: each answer lets exactly one more out. */
    feed_resp(s, SMPP_SUBMIT_SM_RESP, seqs[1], 0, "m101", 1);
    assert_int_equal(take_out(s), 1);
    expect_ev(s, SMPP_EV_SENT);
    assert_int_equal(ev.ref, 101);
    assert_true(str_eq(ev.id, STR_LIT("m101")));
    int sent = 1, out = 4;
    uint32_t pending[16];
    size_t np = 0;
    pending[np++] = seqs[0];
    pending[np++] = seqs[2];
    pending[np++] = outp[0].sequence_number;
    int64_t t = 2;
    while (np > 0) {
        uint32_t q = pending[--np];
        char id[16];
        snprintf(id, sizeof id, "id%u", q);
        feed_resp(s, SMPP_SUBMIT_SM_RESP, q, 0, id, t++);
        size_t k = take_out(s);
        smpp_session_stats_get(s, &sx);
        assert_true(sx.inflight <= 3);
        for (size_t i = 0; i < k; i++)
            pending[np++] = outp[i].sequence_number;
        out += (int)k;
        while (next_ev(s) == SMPP_EV_SENT)
            sent++;
    }
    assert_int_equal(out, 10);
    assert_int_equal(sent, 10);
    smpp_session_stats_get(s, &sx);
    assert_int_equal(sx.inflight_max, 3);
    assert_int_equal(sx.queued, 0);
    smpp_session_free(s);
}

/* give_back returns untouched messages (RETRY, in order) and keeps a
 * partly submitted one; a 0x58-refused message counts as untouched. */
static void test_give_back(void **st)
{
    (void)st;
    smpp_cfg c = base_cfg();
    c.window = 2;
    smpp_session *s = bound(&c, 0);
    make_swedish();
    assert_int_equal(smpp_session_give_back(s, "nothing"), 0);
    assert_int_equal(send_text(s, 1, swedish, 0), 0); /* 3 segments */
    assert_int_equal(send_text(s, 2, "two", 0), 0);
    assert_int_equal(send_text(s, 3, "three", 0), 0);
    assert_int_equal(take_out(s), 2);
    uint32_t a1 = outp[0].sequence_number;
    feed_resp(s, SMPP_SUBMIT_SM_RESP, a1, 0, "a1", 1);
    assert_int_equal(take_out(s), 1); /* the third segment of 1 */
    assert_int_equal(next_ev(s), 0);
    assert_int_equal(smpp_session_give_back(s, "no link"), 2);
    expect_ev(s, SMPP_EV_RETRY);
    assert_int_equal(ev.ref, 2);
    assert_true(str_eq(ev.text, STR_LIT("no link")));
    expect_ev(s, SMPP_EV_RETRY);
    assert_int_equal(ev.ref, 3);
    assert_int_equal(next_ev(s), 0);
    smpp_stats sx;
    smpp_session_stats_get(s, &sx);
    assert_int_equal(sx.queued, 1);
    smpp_session_link_lost(s, 2);
    expect_ev(s, SMPP_EV_UNKNOWN);
    assert_int_equal(ev.ref, 1);
    assert_int_equal(next_ev(s), 0);
    smpp_session_free(s);

    s = bound(&c, 0);
    assert_int_equal(send_text(s, 7, "throttled", 0), 0);
    assert_int_equal(take_out(s), 1);
    feed_resp(s, SMPP_SUBMIT_SM_RESP, outp[0].sequence_number, SMPP_ESME_RTHROTTLED, NULL, 1);
    assert_int_equal(take_out(s), 0);
    assert_int_equal(smpp_session_give_back(s, "stop"), 1);
    expect_ev(s, SMPP_EV_RETRY);
    assert_int_equal(ev.ref, 7);
    smpp_session_tick(s, 1000); /* after the pause: nothing left to resubmit */
    assert_int_equal(take_out(s), 0);
    smpp_session_free(s);
}

static void test_throttle(void **st)
{
    (void)st;
    smpp_cfg c = base_cfg();
    c.window = 100;
    c.throughput = 10;
    smpp_session *s = bound(&c, 0);
    for (int i = 0; i < 25; i++)
        assert_int_equal(send_text(s, i, "x", 0), 0);
    int total = (int)take_out(s);
    assert_int_equal(total, 1);
    assert_int_equal(smpp_session_next_deadline(s), 100);
    smpp_session_tick(s, 99);
    assert_int_equal(take_out(s), 0);
    /* Tick every millisecond for 2 s: exactly 10 per second. */
    int at_1000 = 0;
    for (int64_t t = 100; t <= 2000; t++) {
        smpp_session_tick(s, t);
        total += (int)take_out(s);
        if (t == 999)
            at_1000 = total;
    }
    assert_int_equal(at_1000, 10);
    assert_int_equal(total, 21);
    /* Coarse ticks do not burst: one per tick at most when late. */
    smpp_session_tick(s, 5000);
    assert_int_equal(take_out(s), 1);
    smpp_session_free(s);

    /* 333/s: 1000/333 is not whole; over 3 s still 999 (+1 at t=0). */
    c.throughput = 333;
    c.window = 5000;
    c.max_queue = 5000;
    s = bound(&c, 0);
    for (int i = 0; i < 2000; i++)
        send_text(s, i, "x", 0);
    total = 0;
    for (int64_t t = 0; t < 3000; t++) {
        smpp_session_tick(s, t);
        size_t n;
        smpp_session_out(s, &n);
        smpp_session_out_consume(s, n);
    }
    smpp_stats sx;
    smpp_session_stats_get(s, &sx);
    assert_int_equal(sx.submits, 999);
    smpp_session_free(s);
}

/* ---- session: enquire_link ---------------------------------------------- */

static void test_enquire_link(void **st)
{
    (void)st;
    smpp_cfg c = base_cfg();
    smpp_session *s = bound(&c, 0);
    assert_int_equal(smpp_session_next_deadline(s), 30000);
    smpp_session_tick(s, 29999);
    assert_int_equal(take_out(s), 0);
    smpp_session_tick(s, 30000);
    assert_int_equal(take_out(s), 1);
    assert_int_equal(outp[0].command_id, SMPP_ENQUIRE_LINK);
    feed_resp(s, SMPP_ENQUIRE_LINK_RESP, outp[0].sequence_number, 0, NULL, 30005);
    /* Traffic from the SMSC postpones the next one. */
    assert_int_equal(smpp_session_next_deadline(s), 60005);
    smpp_pdu p;
    smpp_pdu_init(&p, SMPP_ENQUIRE_LINK, 77);
    feed(s, &p, 40000);
    assert_int_equal(take_out(s), 1);
    assert_int_equal(outp[0].command_id, SMPP_ENQUIRE_LINK_RESP);
    assert_int_equal(outp[0].sequence_number, 77);
    assert_int_equal(smpp_session_next_deadline(s), 70000);
    /* No answer: the link is given up after resp_timeout. */
    smpp_session_tick(s, 70000);
    assert_int_equal(take_out(s), 1);
    assert_int_equal(smpp_session_next_deadline(s), 80000);
    smpp_session_tick(s, 80000);
    expect_ev(s, SMPP_EV_CLOSE);
    assert_non_null(strstr(ev.text.p, "enquire_link_resp timeout"));
    assert_int_equal(smpp_session_state(s), SMPP_ST_IDLE);
    smpp_session_free(s);
}

/* ---- session: concatenated submit, receipts ----------------------------- */

static void test_concat_submit_and_dlr(void **st)
{
    (void)st;
    make_swedish();
    smpp_cfg c = base_cfg();
    smpp_session *s = bound(&c, 0);
    assert_int_equal(send_text(s, 7, swedish, 0), 0);
    assert_int_equal(take_out(s), 3);
    uint8_t ref = outp[0].short_message[3];
    for (int i = 0; i < 3; i++) {
        smpp_pdu *p = &outp[i];
        assert_int_equal(p->command_id, SMPP_SUBMIT_SM);
        assert_int_equal(p->esm_class, 0x40);
        assert_int_equal(p->data_coding, 0);
        assert_int_equal(p->registered_delivery, 1);
        assert_int_equal(p->source_addr_ton, 0);
        assert_string_equal(p->source_addr, "71000");
        assert_int_equal(p->dest_addr_ton, 1);
        assert_string_equal(p->destination_addr, "46701234567");
        const uint8_t udh[6] = {5, 0, 3, ref, 3, (uint8_t)(i + 1)};
        assert_memory_equal(p->short_message, udh, 6);
        assert_true(p->sm_length <= 6 + 153);
    }
    assert_int_equal(outp[0].sm_length + outp[1].sm_length + outp[2].sm_length - 18, 400);
    uint32_t q[3] = {outp[0].sequence_number, outp[1].sequence_number,
                     outp[2].sequence_number};
    /* Acks out of order: SENT only after the last, id of segment 1. */
    feed_resp(s, SMPP_SUBMIT_SM_RESP, q[2], 0, "1003", 1);
    feed_resp(s, SMPP_SUBMIT_SM_RESP, q[0], 0, "1001", 1);
    assert_int_equal(next_ev(s), 0);
    feed_resp(s, SMPP_SUBMIT_SM_RESP, q[1], 0, "1002", 1);
    expect_ev(s, SMPP_EV_SENT);
    assert_int_equal(ev.ref, 7);
    assert_int_equal(ev.segments, 3);
    assert_true(str_eq(ev.id, STR_LIT("1001")));

    /* Receipts: per segment; the message is delivered with the last. */
    const char *ids[3] = {"1003", "1001", "1002"};
    for (int i = 0; i < 3; i++) {
        smpp_pdu p;
        char text[200];
        smpp_pdu_init(&p, SMPP_DELIVER_SM, 500 + (uint32_t)i);
        p.esm_class = 0x04;
        snprintf(p.source_addr, sizeof p.source_addr, "46701234567");
        snprintf(p.destination_addr, sizeof p.destination_addr, "71000");
        int k = snprintf(text, sizeof text,
                         "id:%s sub:001 dlvrd:001 submit date:2501011200 done "
                         "date:2501011201 stat:DELIVRD err:000 text:Hej! Vi har tagit ",
                         ids[i]);
        p.short_message = (const uint8_t *)text;
        p.sm_length = (size_t)k;
        p.has_receipted_message_id = 1;
        snprintf(p.receipted_message_id, sizeof p.receipted_message_id, "%s", ids[i]);
        p.has_message_state = 1;
        p.message_state = 2;
        feed(s, &p, 2000);
        expect_ev(s, SMPP_EV_DLR);
        assert_int_equal(ev.ref, 7);
        assert_true(str_eq(ev.id, str_c(ids[i])));
        assert_true(str_eq(ev.provider_id, STR_LIT("1001")));
        assert_true(str_eq(ev.stat, STR_LIT("DELIVRD")));
        assert_true(str_eq(ev.err, STR_LIT("000")));
        assert_int_equal(ev.gw_status, i == 2 ? GW_DELIVERED : -1);
        /* The deliver_sm_resp waits for the ack. */
        assert_int_equal(take_out(s), 0);
        assert_int_equal(smpp_session_ack(s, ev.ack, 0), 0);
        assert_int_equal(take_out(s), 1);
        assert_int_equal(outp[0].command_id, SMPP_DELIVER_SM_RESP);
        assert_int_equal(outp[0].sequence_number, 500 + (uint32_t)i);
    }
    /* A receipt for an id we never sent: ref -1, status from the stat. */
    smpp_pdu p;
    const char *t = "id:999 sub:001 dlvrd:000 submit date:2501011200 done "
                    "date:2501011201 stat:UNDELIV err:001 text:";
    smpp_pdu_init(&p, SMPP_DELIVER_SM, 600);
    p.esm_class = 0x04;
    p.short_message = (const uint8_t *)t;
    p.sm_length = strlen(t);
    feed(s, &p, 3000);
    expect_ev(s, SMPP_EV_DLR);
    assert_int_equal(ev.ref, -1);
    assert_int_equal(ev.gw_status, GW_FAILED);
    assert_true(str_eq(ev.provider_id, STR_LIT("999")));
    smpp_session_free(s);
}

static void test_payload_mode_and_ucs2(void **st)
{
    (void)st;
    make_swedish();
    smpp_cfg c = base_cfg();
    c.payload_mode = 1;
    c.no_receipts = 1;
    smpp_session *s = bound(&c, 0);
    assert_int_equal(send_text(s, 1, swedish, 0), 0);
    assert_int_equal(take_out(s), 1);
    assert_int_equal(outp[0].sm_length, 0);
    assert_true(outp[0].has_payload);
    assert_int_equal(outp[0].payload_len, 400);
    assert_int_equal(outp[0].esm_class, 0);
    assert_int_equal(outp[0].registered_delivery, 0);
    smpp_session_free(s);

    c = base_cfg();
    s = bound(&c, 0);
    /* Emoji -> UCS-2, 8 units = 16 bytes, one segment. */
    assert_int_equal(send_text(s, 2, "Hej \xF0\x9F\x98\x80 ok", 0), 0);
    assert_int_equal(take_out(s), 1);
    assert_int_equal(outp[0].data_coding, 8);
    assert_int_equal(outp[0].esm_class, 0);
    assert_int_equal(outp[0].sm_length, 18);
    assert_int_equal(outp[0].short_message[8], 0xD8);
    /* Bad input. */
    assert_int_equal(send_text(s, 3, "\xFF", 0), -EILSEQ);
    assert_int_equal(smpp_session_send(s, 4, STR_LIT("71000"), STR_LIT("+46x"),
                                       STR_LIT("a"), 0),
                     -EINVAL);
    assert_int_equal(smpp_session_send(s, 4, STR_LIT("TextdeskSupport"), STR_LIT("+46"),
                                       STR_LIT("a"), 0),
                     -EINVAL);
    assert_int_equal(smpp_session_send(s, 4, STR_LIT("Textdesk"), STR_LIT("+46"),
                                       STR_LIT("a"), 0),
                     0);
    assert_int_equal(take_out(s), 1);
    assert_int_equal(outp[0].source_addr_ton, 5);
    assert_string_equal(outp[0].source_addr, "Textdesk");
    smpp_session_free(s);
}

/* ---- session: MO -------------------------------------------------------- */

static void deliver(smpp_session *s, uint32_t seq, uint8_t esm, uint8_t dcs,
                    const uint8_t *sm, size_t n, int64_t now)
{
    smpp_pdu p;
    smpp_pdu_init(&p, SMPP_DELIVER_SM, seq);
    p.source_addr_ton = 1;
    p.source_addr_npi = 1;
    snprintf(p.source_addr, sizeof p.source_addr, "46701234567");
    snprintf(p.destination_addr, sizeof p.destination_addr, "71000");
    p.esm_class = esm;
    p.data_coding = dcs;
    p.short_message = sm;
    p.sm_length = n;
    feed(s, &p, now);
}

static void test_mo_single(void **st)
{
    (void)st;
    smpp_cfg c = base_cfg();
    smpp_session *s = bound(&c, 0);
    /* GSM 03.38 unpacked: "Hjälp €" (ä = 0x7B, € = 1B 65). */
    const uint8_t gsm[] = {'H', 'j', 0x7B, 'l', 'p', ' ', 0x1B, 0x65};
    deliver(s, 10, 0, 0, gsm, sizeof gsm, 1);
    expect_ev(s, SMPP_EV_MO);
    assert_true(str_eq(ev.text, STR_LIT("Hj\xC3\xA4lp \xE2\x82\xAC")));
    assert_true(str_eq(ev.from, STR_LIT("+46701234567"))); /* TON 1: '+' back */
    assert_true(str_eq(ev.to, STR_LIT("71000")));
    assert_int_equal(ev.segments, 1);
    assert_int_equal(take_out(s), 0);
    assert_int_equal(smpp_session_ack(s, ev.ack, 0), 0);
    assert_int_equal(take_out(s), 1);
    assert_int_equal(outp[0].command_id, SMPP_DELIVER_SM_RESP);
    assert_int_equal(outp[0].sequence_number, 10);
    /* UCS-2 with an emoji. */
    const uint8_t u[] = {0x00, 'H', 0x00, 'i', 0xD8, 0x3D, 0xDE, 0x00};
    deliver(s, 11, 0, 8, u, sizeof u, 2);
    expect_ev(s, SMPP_EV_MO);
    assert_true(str_eq(ev.text, STR_LIT("Hi\xF0\x9F\x98\x80")));
    /* Latin-1 (dcs 3). */
    const uint8_t l[] = {'K', 0xF6, 'p'};
    deliver(s, 12, 0, 3, l, sizeof l, 3);
    expect_ev(s, SMPP_EV_MO);
    assert_true(str_eq(ev.text, STR_LIT("K\xC3\xB6p")));
    /* Ack after the link went down: stale. */
    uint64_t a = ev.ack;
    smpp_session_link_lost(s, 4);
    assert_int_equal(smpp_session_ack(s, a, 0), -ESTALE);
    smpp_session_free(s);
}

/* Inbound addresses: TON 1 digits get their '+' (so that a reply goes out
 * as TON 1 again), anything else is kept as it came; the same for a
 * concatenated MO and for a receipt's handset. */
static void test_mo_addresses(void **st)
{
    (void)st;
    smpp_cfg c = base_cfg();
    smpp_session *s = bound(&c, 0);
    const struct {
        uint8_t ton;
        const char *addr, *want;
    } v[] = {{1, "46701234567", "+46701234567"}, {0, "46701234567", "46701234567"},
             {5, "Bank", "Bank"}, {1, "12ab", "12ab"}, {2, "0701234567", "0701234567"},
             {1, "", ""}};
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        smpp_pdu p;
        smpp_pdu_init(&p, SMPP_DELIVER_SM, 50 + (uint32_t)i);
        p.source_addr_ton = v[i].ton;
        snprintf(p.source_addr, sizeof p.source_addr, "%s", v[i].addr);
        p.dest_addr_ton = 1;
        snprintf(p.destination_addr, sizeof p.destination_addr, "46700000001");
        p.short_message = (const uint8_t *)"hi";
        p.sm_length = 2;
        feed(s, &p, 1);
        expect_ev(s, SMPP_EV_MO);
        assert_true(str_eq(ev.from, str_c(v[i].want)));
        assert_true(str_eq(ev.to, STR_LIT("+46700000001")));
        assert_int_equal(smpp_session_ack(s, ev.ack, 0), 0);
    }
    /* 20 digits with TON 1: the '+' still fits. */
    smpp_pdu p;
    smpp_pdu_init(&p, SMPP_DELIVER_SM, 60);
    p.source_addr_ton = 1;
    snprintf(p.source_addr, sizeof p.source_addr, "12345678901234567890");
    snprintf(p.destination_addr, sizeof p.destination_addr, "71000");
    uint8_t part1[] = {5, 0, 3, 7, 2, 1, 'a'}, part2[] = {5, 0, 3, 7, 2, 2, 'b'};
    p.esm_class = 0x40;
    p.short_message = part1;
    p.sm_length = sizeof part1;
    feed(s, &p, 2);
    p.sequence_number = 61;
    p.short_message = part2;
    p.sm_length = sizeof part2;
    feed(s, &p, 3);
    expect_ev(s, SMPP_EV_MO);
    assert_true(str_eq(ev.from, STR_LIT("+12345678901234567890")));
    assert_true(str_eq(ev.to, STR_LIT("71000")));
    assert_true(str_eq(ev.text, STR_LIT("ab")));
    smpp_session_free(s);
}

static void test_mo_concat(void **st)
{
    (void)st;
    smpp_cfg c = base_cfg();
    c.mo_timeout_ms = 60000;
    c.enquire_ms = 100000;
    smpp_session *s = bound(&c, 0);
    /* Three UCS-2 parts "Hej ", "på ", "dig", sent 3, 1, 1 (dup), 2. */
    uint8_t p1[] = {5, 0, 3, 0x33, 3, 1, 0, 'H', 0, 'e', 0, 'j', 0, ' '};
    uint8_t p2[] = {5, 0, 3, 0x33, 3, 2, 0, 'p', 0, 0xE5, 0, ' '};
    uint8_t p3[] = {5, 0, 3, 0x33, 3, 3, 0, 'd', 0, 'i', 0, 'g'};
    deliver(s, 21, 0x40, 8, p3, sizeof p3, 1);
    deliver(s, 22, 0x40, 8, p1, sizeof p1, 2);
    deliver(s, 23, 0x40, 8, p1, sizeof p1, 3);
    assert_int_equal(next_ev(s), 0);
    /* Parts held by the session are acknowledged at once. */
    assert_int_equal(take_out(s), 3);
    deliver(s, 24, 0x40, 8, p2, sizeof p2, 4);
    expect_ev(s, SMPP_EV_MO);
    assert_true(str_eq(ev.text, STR_LIT("Hej p\xC3\xA5 dig")));
    assert_int_equal(ev.segments, 3);
    assert_int_equal(ev.partial, 0);
    assert_int_equal(take_out(s), 0);
    smpp_session_ack(s, ev.ack, 0);
    assert_int_equal(take_out(s), 1);
    assert_int_equal(outp[0].sequence_number, 24);
    assert_int_equal(next_ev(s), 0);

    /* Two interleaved messages from the same sender, different refs; and
     * one that never completes is given up at mo_timeout_ms. */
    uint8_t a1[] = {5, 0, 3, 1, 2, 1, 0, 'A'};
    uint8_t b1[] = {5, 0, 3, 2, 2, 1, 0, 'B'};
    uint8_t a2[] = {5, 0, 3, 1, 2, 2, 0, 'a'};
    deliver(s, 31, 0x40, 8, a1, sizeof a1, 10);
    deliver(s, 32, 0x40, 8, b1, sizeof b1, 10);
    deliver(s, 33, 0x40, 8, a2, sizeof a2, 10);
    expect_ev(s, SMPP_EV_MO);
    assert_true(str_eq(ev.text, STR_LIT("Aa")));
    assert_int_equal(next_ev(s), 0);
    assert_int_equal(smpp_session_next_deadline(s), 60010);
    smpp_session_tick(s, 60010);
    int got = 0;
    while (next_ev(s)) {
        if (ev.type == SMPP_EV_MO) {
            got = 1;
            assert_true(str_eq(ev.text, STR_LIT("B")));
            assert_int_equal(ev.partial, 1);
            assert_int_equal(ev.ack, 0);
        }
    }
    assert_true(got);

    /* A broken UDH length is refused with RINVMSGLEN, no event. */
    take_out(s);
    uint8_t bad[] = {9, 0, 3};
    deliver(s, 40, 0x40, 8, bad, sizeof bad, 70000);
    assert_int_equal(next_ev(s), 0);
    assert_int_equal(take_out(s), 1);
    assert_int_equal(outp[0].command_status, SMPP_ESME_RINVMSGLEN);
    smpp_session_free(s);
}

/* ---- session: errors ---------------------------------------------------- */

static void test_submit_errors(void **st)
{
    (void)st;
    smpp_cfg c = base_cfg();
    c.max_retries = 2;
    smpp_session *s = bound(&c, 0);
    send_text(s, 1, "one", 0);
    send_text(s, 2, "two", 0);
    assert_int_equal(take_out(s), 2);
    uint32_t q1 = outp[0].sequence_number, q2 = outp[1].sequence_number;
    /* 0x58 on the first: no event, paused, the same text resubmitted first. */
    feed_resp(s, SMPP_SUBMIT_SM_RESP, q1, SMPP_ESME_RTHROTTLED, NULL, 100);
    assert_int_equal(next_ev(s), 0);
    assert_int_equal(take_out(s), 0);
    /* 0x45 on the second: failed. */
    feed_resp(s, SMPP_SUBMIT_SM_RESP, q2, SMPP_ESME_RSUBMITFAIL, NULL, 101);
    expect_ev(s, SMPP_EV_FAILED);
    assert_int_equal(ev.ref, 2);
    assert_int_equal(ev.status, 0x45);
    assert_non_null(strstr(ev.text.p, "ESME_RSUBMITFAIL"));
    assert_int_equal(smpp_session_next_deadline(s), 600);
    smpp_session_tick(s, 599);
    assert_int_equal(take_out(s), 0);
    smpp_session_tick(s, 600);
    assert_int_equal(take_out(s), 1);
    assert_memory_equal(outp[0].short_message, "one", 3);
    feed_resp(s, SMPP_SUBMIT_SM_RESP, outp[0].sequence_number, 0, "1005", 601);
    expect_ev(s, SMPP_EV_SENT);
    assert_int_equal(ev.ref, 1);
    smpp_stats sx;
    smpp_session_stats_get(s, &sx);
    assert_int_equal(sx.throttled, 1);

    /* generic_nack for a submit_sm fails it with its status. */
    send_text(s, 3, "three", 700);
    take_out(s);
    feed_resp(s, SMPP_GENERIC_NACK, outp[0].sequence_number, SMPP_ESME_RINVCMDLEN, NULL,
              701);
    expect_ev(s, SMPP_EV_FAILED);
    assert_int_equal(ev.ref, 3);
    assert_int_equal(ev.status, 2);

    /* Throttled past max_retries: RETRY (resend later). */
    send_text(s, 4, "four", 1000);
    int64_t t = 1000;
    for (int i = 0; i < 3; i++) {
        assert_int_equal(take_out(s), 1);
        feed_resp(s, SMPP_SUBMIT_SM_RESP, outp[0].sequence_number, SMPP_ESME_RTHROTTLED,
                  NULL, t);
        t += 500;
        smpp_session_tick(s, t);
    }
    expect_ev(s, SMPP_EV_RETRY);
    assert_int_equal(ev.ref, 4);
    assert_int_equal(ev.status, 0x58);

    /* An unknown request from the SMSC gets generic_nack 0x03; a framed
     * but malformed one gets the matching status; the link stays up. */
    take_out(s);
    uint8_t b[16] = {0, 0, 0, 16, 0, 0, 0, 0x03, 0, 0, 0, 0, 0, 0, 0, 9};
    assert_int_equal(smpp_session_input(s, b, 16, t), 0);
    uint8_t b2[20] = {0, 0, 0, 20, 0, 0, 0, 0x15, 0, 0, 0, 0, 0, 0, 0, 10};
    assert_int_equal(smpp_session_input(s, b2, 20, t), 0);
    assert_int_equal(take_out(s), 2);
    assert_int_equal(outp[0].command_id, SMPP_GENERIC_NACK);
    assert_int_equal(outp[0].command_status, SMPP_ESME_RINVCMDID);
    assert_int_equal(outp[0].sequence_number, 9);
    assert_int_equal(outp[1].command_status, SMPP_ESME_RINVCMDLEN);
    assert_int_equal(smpp_session_state(s), SMPP_ST_BOUND);
    /* An unframeable length closes the link. */
    uint8_t b3[4] = {0, 0, 0, 3};
    assert_int_equal(smpp_session_input(s, b3, 4, t), -SMPP_ELEN);
    expect_ev(s, SMPP_EV_CLOSE);
    assert_int_equal(smpp_session_state(s), SMPP_ST_IDLE);
    smpp_session_free(s);
}

/* ---- session: link loss ------------------------------------------------- */

static void test_link_loss(void **st)
{
    (void)st;
    smpp_cfg c = base_cfg();
    c.window = 2;
    smpp_session *s = bound(&c, 0);
    for (int i = 1; i <= 4; i++)
        send_text(s, i, "msg", 0);
    assert_int_equal(take_out(s), 2);
    /* One answered, then the link drops with one in flight. */
    feed_resp(s, SMPP_SUBMIT_SM_RESP, outp[0].sequence_number, 0, "a1", 1);
    expect_ev(s, SMPP_EV_SENT);
    assert_int_equal(take_out(s), 1); /* ref 3 goes out */
    smpp_session_link_lost(s, 2);
    expect_ev(s, SMPP_EV_UNKNOWN);
    assert_int_equal(ev.ref, 2);
    expect_ev(s, SMPP_EV_UNKNOWN);
    assert_int_equal(ev.ref, 3);
    assert_int_equal(next_ev(s), 0);
    smpp_stats sx;
    smpp_session_stats_get(s, &sx);
    assert_int_equal(sx.queued, 1);
    assert_int_equal(sx.inflight, 0);
    /* Sending while down queues; a second link_lost is a no-op. */
    send_text(s, 5, "msg", 3);
    smpp_session_link_lost(s, 3);
    assert_int_equal(take_out(s), 0);
    assert_int_equal(smpp_session_next_deadline(s), 1002);
    smpp_session_tick(s, 1002);
    expect_ev(s, SMPP_EV_CONNECT);
    smpp_session_connected(s, 1003);
    take_out(s);
    feed_resp(s, SMPP_BIND_TRANSCEIVER_RESP, outp[0].sequence_number, 0, NULL, 1004);
    expect_ev(s, SMPP_EV_BOUND);
    assert_int_equal(take_out(s), 2);
    assert_int_equal(outp[0].command_id, SMPP_SUBMIT_SM);
    feed_resp(s, SMPP_SUBMIT_SM_RESP, outp[0].sequence_number, 0, "a4", 1005);
    feed_resp(s, SMPP_SUBMIT_SM_RESP, outp[1].sequence_number, 0, "a5", 1005);
    expect_ev(s, SMPP_EV_SENT);
    assert_int_equal(ev.ref, 4);
    expect_ev(s, SMPP_EV_SENT);
    assert_int_equal(ev.ref, 5);

    /* A segment of a multi-part message in flight: the whole message is
     * unknown; a submit_sm_resp timeout drops the link the same way. */
    make_swedish();
    send_text(s, 6, swedish, 2000);
    assert_int_equal(take_out(s), 2);
    feed_resp(s, SMPP_SUBMIT_SM_RESP, outp[0].sequence_number, 0, "b1", 2001);
    take_out(s);
    assert_int_equal(smpp_session_next_deadline(s), 12000);
    smpp_session_tick(s, 12000);
    expect_ev(s, SMPP_EV_CLOSE);
    assert_non_null(strstr(ev.text.p, "submit_sm_resp timeout"));
    expect_ev(s, SMPP_EV_UNKNOWN);
    assert_int_equal(ev.ref, 6);
    assert_int_equal(next_ev(s), 0);
    smpp_session_free(s);
}

static void test_unbind(void **st)
{
    (void)st;
    smpp_cfg c = base_cfg();
    smpp_session *s = bound(&c, 0);
    /* The SMSC unbinds: we answer and close, then reconnect. */
    smpp_pdu p;
    smpp_pdu_init(&p, SMPP_UNBIND, 5);
    feed(s, &p, 10);
    assert_int_equal(take_out(s), 0); /* output dropped with the link... */
    expect_ev(s, SMPP_EV_CLOSE);
    assert_int_equal(smpp_session_state(s), SMPP_ST_IDLE);
    smpp_session_free(s);

    /* Our stop: unbind, unbind_resp, close, stopped. */
    s = bound(&c, 0);
    smpp_session_stop(s, 5);
    assert_int_equal(take_out(s), 1);
    assert_int_equal(outp[0].command_id, SMPP_UNBIND);
    feed_resp(s, SMPP_UNBIND_RESP, outp[0].sequence_number, 0, NULL, 6);
    expect_ev(s, SMPP_EV_CLOSE);
    assert_int_equal(smpp_session_state(s), SMPP_ST_STOPPED);
    assert_int_equal(smpp_session_next_deadline(s), INT64_MAX);
    smpp_session_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pdu_bind_vector),
        cmocka_unit_test(test_pdu_submit_roundtrip),
        cmocka_unit_test(test_pdu_malformed),
        cmocka_unit_test(test_receipt_parse),
        cmocka_unit_test(test_bind_refused_and_backoff),
        cmocka_unit_test(test_window),
        cmocka_unit_test(test_give_back),
        cmocka_unit_test(test_throttle),
        cmocka_unit_test(test_enquire_link),
        cmocka_unit_test(test_concat_submit_and_dlr),
        cmocka_unit_test(test_payload_mode_and_ucs2),
        cmocka_unit_test(test_mo_single),
        cmocka_unit_test(test_mo_addresses),
        cmocka_unit_test(test_mo_concat),
        cmocka_unit_test(test_submit_errors),
        cmocka_unit_test(test_link_loss),
        cmocka_unit_test(test_unbind),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
