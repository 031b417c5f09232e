/*
 * gw_webhook: a generic HTTP provider (docs/gateways/webhook.md), so that a
 * Twilio-, 46elks- or Sinch-like service can be connected with a small
 * adapter.
 *
 * Outbound: POST of a JSON object {reference, from, to, text, encoding,
 * segments} to the configured URL, signed like every inbound call
 * (X-Textdesk-Timestamp, X-Textdesk-Signature: sha256=HEX of
 * HMAC-SHA256(secret, timestamp "." body)) and with Idempotency-Key = our
 * reference, so a provider can drop a repeat. 2xx = accepted (an "id" in a
 * JSON answer is kept as the provider's id); 429 and 5xx, or no connection,
 * are retried; other 4xx fail with the provider's answer as the error.
 *
 * Inbound: signed POSTs to /api/gw/webhook/<id>/inbound (from, to, text,
 * id) and .../status (reference or id, status, error), routed here by
 * api/api_gw.c, checked with gw_webhook_verify and handed to the inbound
 * port; answered after the commit.
 */
#ifndef TEXTDESK_SMS_GW_WEBHOOK_H
#define TEXTDESK_SMS_GW_WEBHOOK_H

#include <stdint.h>

#include "net/net.h"
#include "sms/gw.h"

#define GW_WEBHOOK_SIG_HEADER "X-Textdesk-Signature"
#define GW_WEBHOOK_TS_HEADER "X-Textdesk-Timestamp"
/* How far a signed timestamp may be from our clock. */
#define GW_WEBHOOK_TOLERANCE_S 300

typedef struct gw_webhook_cfg {
    const char *id;
    const char *url;    /* http://IP:PORT/path: where outbound messages go */
    const char *secret; /* shared HMAC key */
} gw_webhook_cfg;

/* The type (gw.h). */
extern const gw_type gw_webhook_type;

/* Outbound only (tests); the type's open adds the inbound port. */
gw *gw_webhook_new(const gw_webhook_cfg *cfg, net_loop *loop, gw_result_cb cb, void *arg);

/* Writes "sha256=" + 64 lowercase hex digits + NUL (72 bytes) into 'out':
 * the signature of 'body' sent at unix time 'ts'. */
void gw_webhook_sign(const char *secret, int64_t ts, str body, char out[72]);

/* Checks a request: 'ts' and 'sig' are the two headers as received.
 * Returns 0, or -EACCES (bad signature), -ETIMEDOUT (timestamp further than
 * GW_WEBHOOK_TOLERANCE_S from 'now_s'), -EINVAL (a header missing or
 * malformed). Constant-time comparison. */
int gw_webhook_verify(const char *secret, str ts, str sig, str body, int64_t now_s);

/* The JSON body of an outbound message (malloc'd, NUL-terminated) or NULL
 * for text that is not valid UTF-8. */
char *gw_webhook_body(const gw_out *m);

#endif
