/*
 * gw_kannel: Kannel 1.4 (bearerbox + smsbox) as a gateway.
 *
 * Outbound: one GET to smsbox's sendsms per message with username and
 * password, from = the entry point's number, the text as UTF-8 with
 * charset=UTF-8 and coding 0 (GSM 03.38) or 2 (UCS-2) chosen by sms_text
 * (Kannel never picks UCS-2 itself: non-GSM text would become '?'), and
 * dlr-mask + dlr-url. sendsms returns no message id, so the dlr-url carries
 * OUR reference (ref=...): the delivery report finds the message by it,
 * even one left "delivery unknown" by a crash.
 *
 * A message that needs more than one SMS is split HERE (sms_text_split),
 * not by Kannel: Kannel cuts UCS-2 every 67 units and so can split an
 * emoji's surrogate pair. Each part is its own sendsms, in order, with
 * udh = 05 00 03 ref total seq (ref = our reference's low byte) and the
 * part's text; Kannel sends a message whose UDH and text fit one SMS as it
 * is. Each part's dlr-url adds part=P&parts=N; gw_kannel_part_report
 * combines the parts' reports: delivered when every part is, failed when
 * any part fails. The gateway remembers (in memory, GW_KANNEL_TRACK_MAX
 * messages) which parts Kannel accepted, so a resend after a refusal for
 * now sends only the rest, and which parts were delivered.
 *
 * Inbound: MO via get-url/post-url (/api/gw/kannel/<id>/mo) and DLR via
 * dlr-url (.../dlr), routed here by api/api_gw.c and handed to the inbound
 * port; Kannel is answered after the commit (an empty 200, or 503 so that
 * it retries). The pure helpers below decode what Kannel sends. What
 * Kannel really sends is recorded in docs/gateways/kannel.md.
 */
#ifndef TEXTDESK_SMS_GW_KANNEL_H
#define TEXTDESK_SMS_GW_KANNEL_H

#include <stddef.h>
#include <stdint.h>

#include "net/net.h"
#include "sms/gw.h"
#include "util/buf.h"

typedef struct gw_kannel_cfg {
    const char *id;           /* the gateway's id in the configuration */
    const char *sendsms_url;  /* http://IP:PORT/cgi-bin/sendsms */
    const char *username;
    const char *password;
    const char *dlr_url_base; /* how Kannel reaches textdesk: http://IP:PORT */
    const char *token;        /* NULL, or required as token=... on MO and DLR */
    const char *smsc;         /* NULL, or Kannel's smsc id to route through */
    int dlr_mask;             /* Kannel dlr-mask bits (default 27: 1|2|8|16) */
} gw_kannel_cfg;

#define GW_KANNEL_DLR_MASK_DEFAULT 27
#define GW_KANNEL_PARTS_MAX 255   /* the concatenation UDH counts in 8 bits */
#define GW_KANNEL_TRACK_MAX 10000 /* messages in parts remembered for reports */

/* The type (gw.h): its configuration object, inbound and outbound. */
extern const gw_type gw_kannel_type;

/* Outbound only (tests); the type's open adds the inbound port. */
gw *gw_kannel_new(const gw_kannel_cfg *cfg, net_loop *loop, gw_result_cb cb, void *arg);

/* Appends the whole sendsms URL for 'm' to 'out'. Returns 0, or -EILSEQ
 * when the text is not valid UTF-8. */
int gw_kannel_sendsms_url(const gw_kannel_cfg *cfg, const gw_out *m, buf *out);

/* For any message: splits it as sms_text_split does and stores one
 * sendsms URL per SMS in '*urls' (an array of '*count' bufs: the caller
 * frees each and the array). A message that fits one SMS gets the URL of
 * gw_kannel_sendsms_url; one in parts gets one URL per part, with udh and
 * part=P&parts=N in its dlr-url. Returns 0, -EILSEQ (not UTF-8) or
 * -EMSGSIZE (more than GW_KANNEL_PARTS_MAX parts). */
int gw_kannel_sendsms_urls(const gw_kannel_cfg *cfg, const gw_out *m, buf **urls, size_t *count);

/* The 8-bit concatenation reference of message 'ref': its low byte, so
 * that 256 messages in a row never share one. */
static inline uint8_t gw_kannel_concat_ref(int64_t ref)
{
    return (uint8_t)((uint64_t)ref & 0xff);
}

/* Combines the delivery report 'status' (gw_kannel_dlr_status) of part
 * 'part' (1-based) of 'parts' of message 'ref' sent by Kannel gateway 'g'.
 * Returns the message's new gw_status, or -1 when nothing changes:
 * GW_FAILED once, for the first failed part; GW_DELIVERED once, when the
 * last part is delivered; GW_SENT for an accepted or delivered part while
 * no send of ours is under way (it resolves "delivery unknown"); -1 for
 * anything after the final status, for a bad part number, and for reports
 * this module ignores. After a restart the parts delivered before it are
 * forgotten: such a message stays sent, never wrongly delivered. */
int gw_kannel_part_report(gw *g, int64_t ref, unsigned part, unsigned parts, int status);

/* Appends 's' %-encoded for a URL query (RFC 3986 unreserved kept). */
void gw_url_escape(buf *out, str s);

/* Maps a Kannel DLR type (%d) to a gw_status; -1 for reports that change
 * nothing (4 = buffered). */
int gw_kannel_dlr_status(int type);

/* Maps sendsms's answer (HTTP status, 0 for none) to a gw_status. */
int gw_kannel_send_status(int http_status, int maybe_sent);

/* Converts MO text 'raw' in 'charset' (Kannel's %C: UTF-8, UTF-16BE,
 * ISO-8859-1, WINDOWS-1252...; empty = from 'coding': 2 -> UTF-16BE, else
 * UTF-8) to UTF-8 appended to 'out'. Returns 0, -EILSEQ for bytes that are
 * not valid in the charset, -ENOTSUP for a charset we do not know. */
int gw_kannel_decode_text(str raw, const char *charset, int coding, buf *out);

#endif
