/*
 * fuzz_smpp: arbitrary bytes through the SMPP codec and the ESME session.
 * Nothing may crash or leak. Every PDU that decodes must re-encode (unless it
 * carries a field our encoder refuses: sm_length 255) and decode again to the
 * same fields. Then the bytes are fed, in chunks whose size the first byte
 * picks, to a bound session that has messages queued, with ticks and acks in
 * between: the session must survive any stream the SMSC could send.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "sms/smpp_pdu.h"
#include "sms/smpp_session.h"

static uint8_t buf[SMPP_PDU_MAX];

static void check_codec(const uint8_t *data, size_t size)
{
    size_t off = 0;
    while (off < size) {
        long len = smpp_pdu_frame(data + off, size - off);
        if (len <= 0 || (size_t)len > size - off)
            return;
        smpp_pdu a, b;
        int r = smpp_pdu_decode(data + off, (size_t)len, &a);
        CHECK(r <= 0);
        if (r == 0) {
            size_t n = 0;
            int e = smpp_pdu_encode(&a, buf, sizeof buf, &n);
            CHECK(e == 0 || (e == -EINVAL && a.sm_length == 255));
            if (e == 0) {
                CHECK(smpp_pdu_decode(buf, n, &b) == 0);
                CHECK(b.command_id == a.command_id && b.sequence_number == a.sequence_number);
                CHECK(strcmp(a.source_addr, b.source_addr) == 0);
                CHECK(strcmp(a.destination_addr, b.destination_addr) == 0);
                CHECK(strcmp(a.message_id, b.message_id) == 0);
                CHECK(a.sm_length == b.sm_length);
                CHECK(a.sm_length == 0 ||
                      memcmp(a.short_message, b.short_message, a.sm_length) == 0);
                CHECK(a.has_payload == b.has_payload && a.payload_len == b.payload_len);
            }
        }
        (void)smpp_strerror(r);
        off += (size_t)len;
    }
}

static void drain(smpp_session *s, int64_t now)
{
    smpp_event ev;
    int k = 0;
    while (smpp_session_poll(s, &ev)) {
        if (ev.type == SMPP_EV_CONNECT)
            smpp_session_connected(s, now);
        if (ev.ack)
            smpp_session_ack(s, ev.ack, (k++ & 1) ? 0 : 8);
    }
    size_t n;
    smpp_session_out(s, &n);
    smpp_session_out_consume(s, n);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    check_codec(data, size);
    if (size > 0)
        check_codec(data + 1, size - 1); /* the corpus prefixes a chunk-size byte */

    smpp_cfg c = {0};
    c.system_id = "test";
    c.password = "secret";
    c.window = 3;
    c.throughput = 50;
    c.mo_timeout_ms = 5000;
    smpp_session *s = smpp_session_new(&c);
    CHECK(s);
    int64_t now = 0;
    smpp_session_tick(s, now);
    drain(s, now);
    /* Bind: the first bind_transceiver has sequence number 1. */
    static const uint8_t bind_ok[] = {0, 0, 0, 17, 0x80, 0, 0, 9, 0, 0, 0, 0, 0, 0, 0, 1, 0};
    CHECK(smpp_session_input(s, bind_ok, sizeof bind_ok, now) == 0);
    CHECK(smpp_session_state(s) == SMPP_ST_BOUND);
    smpp_session_send(s, 1, STR_LIT("71000"), STR_LIT("+46701234567"), STR_LIT("hej"), now);
    smpp_session_send(s, 2, STR_LIT("71000"), STR_LIT("+46701234567"),
                      STR_LIT("\xC3\xA5\xC3\xA4\xC3\xB6 0123456789012345678901234567890123456789"
                              "0123456789012345678901234567890123456789012345678901234567"
                              "890123456789012345678901234567890123456789012345678901234"),
                      now);
    drain(s, now);
    size_t chunk = size > 0 ? (size_t)data[0] % 64 + 1 : 1;
    for (size_t off = 1; off < size; off += chunk) {
        size_t n = size - off < chunk ? size - off : chunk;
        smpp_session_input(s, data + off, n, now);
        now += data[off] * 37;
        smpp_session_tick(s, now);
        drain(s, now);
        CHECK(smpp_session_next_deadline(s) >= now || smpp_session_state(s) == SMPP_ST_IDLE);
    }
    smpp_stats st;
    smpp_session_stats_get(s, &st);
    CHECK(st.inflight_max <= 3);
    smpp_session_free(s);
    return 0;
}
