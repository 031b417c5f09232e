/*
 * gw_smpp: an SMSC over SMPP 3.4 (one bind_transceiver link) as a gateway,
 * on the loop (docs/gateways/smpp.md).
 *
 * It owns one smpp_session (the protocol, pure), one TCP connection
 * (net/net_tcp: the lws glue stays in net/) and one timer at the
 * session's next deadline (STYLE.md 5, 7). Bytes read go to the session,
 * the session's output is written when the socket is writable, and the
 * session's events are mapped:
 *
 *   CONNECT / CLOSE          open / drop the TCP connection
 *   SENT / FAILED / RETRY    the gw result callback (GW_SENT with the
 *                            first segment's message_id as provider id)
 *   UNKNOWN                  GW_UNKNOWN: the submit_sm left, its answer
 *                            did not come back; never resent blindly
 *   MO                       handed to the application, which commits it;
 *                            deliver_sm_resp goes out only after the commit
 *   DLR (final)              the message's delivery status (by our ref, or
 *                            by provider id for one sent before a restart);
 *                            deliver_sm_resp after it is recorded
 *
 * While there is no bound link, sends are answered GW_RETRY at once and
 * messages the SMSC has not started on are given back (GW_RETRY), so the
 * outbox keeps them durably queued instead of the session's memory.
 *
 * Idempotent MO: SMPP MO has no message id, and an SMSC redelivers a
 * deliver_sm whose deliver_sm_resp it did not get, which happens when the
 * link drops between our commit and the SMSC reading our answer. So an MO
 * that was committed on a connection that then died within
 * GW_SMPP_SUSPECT_MS of our answer (or whose answer could not be written at
 * all) is remembered for GW_SMPP_REDELIVERY_MS; the same (from, to, text)
 * arriving on a later connection inside that time is acknowledged without
 * a second copy. A restart forgets them.
 */
#ifndef TEXTDESK_SMS_GW_SMPP_H
#define TEXTDESK_SMS_GW_SMPP_H

#include <stdint.h>

#include "net/net.h"
#include "sms/gw.h"
#include "sms/smpp_session.h"

#define GW_SMPP_SUSPECT_MS 10000
#define GW_SMPP_REDELIVERY_MS 600000

typedef struct gw_smpp_cfg {
    const char *id;   /* the gateway's id in the configuration */
    const char *host; /* IPv4 literal */
    int port;
    smpp_cfg smpp; /* credentials, window, throughput, timers (copied) */
} gw_smpp_cfg;

/* 'ok' 1: the MO is durable (acknowledged with status 0); 0: it could not
 * be kept (answered ESME_RSYSERR, so the SMSC delivers it again). */
typedef void (*gw_smpp_done_cb)(void *done_arg, int ok);

/* What the gateway needs from the application for inbound traffic. */
typedef struct gw_smpp_app {
    void *arg;
    /* An MO: commit it, then call 'done' exactly once (possibly before
     * returning). Strings are valid during the call only. */
    void (*mo)(void *arg, const char *gw_id, str from, str to, str text,
               gw_smpp_done_cb done, void *done_arg);
    /* A final receipt (GW_DELIVERED or GW_FAILED with 'error') for our
     * message 'ref', or for the one with 'provider_id' when ref is -1:
     * record it, then call 'done' exactly once (possibly before returning)
     * with 1 when it is durable (or not ours: ignored), 0 when it could not
     * be kept (answered ESME_RSYSERR: the SMSC delivers it again). */
    void (*report)(void *arg, int64_t ref, str provider_id, int status, str error,
                   gw_smpp_done_cb done, void *done_arg);
} gw_smpp_app;

/* Creates the gateway and starts connecting. Returns NULL when the
 * configuration cannot make a session (a credential too long). */
gw *gw_smpp_new(const gw_smpp_cfg *cfg, net_loop *loop, const gw_smpp_app *app,
                gw_result_cb cb, void *arg);

/* The session's counters (for logs and metrics); 'g' must be an SMPP
 * gateway. */
void gw_smpp_stats(gw *g, smpp_stats *out);

#endif
