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

/* The type (gw.h). */
extern const gw_type gw_smpp_type;

/* Creates the gateway and starts connecting. Returns NULL when the
 * configuration cannot make a session (a credential too long). */
gw *gw_smpp_new(const gw_smpp_cfg *cfg, net_loop *loop, const gw_port *in, gw_result_cb cb,
                void *arg);

/* The session's counters (for logs and metrics); 'g' must be an SMPP
 * gateway. */
void gw_smpp_stats(gw *g, smpp_stats *out);

#endif
