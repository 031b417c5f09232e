/*
 * api_gw: the gateways' inbound HTTP endpoints (docs/api.md, "Gateways"):
 *
 *   GET|POST /api/gw/kannel/<id>/mo      Kannel get-url / post-url (MO)
 *   GET      /api/gw/kannel/<id>/dlr     Kannel dlr-url (ref = our reference;
 *                                        part, parts for a message in parts)
 *   POST     /api/gw/webhook/<id>/inbound  signed JSON or form: from, to, text, id
 *   POST     /api/gw/webhook/<id>/status   signed: reference or id, status, error
 *
 * An inbound SMS is answered only after its transaction commits (the
 * gateway retries anything we did not confirm); a repeat of a provider id
 * is confirmed without a second message. It reaches the application only
 * through api_gw_env.
 */
#ifndef TEXTDESK_API_API_GW_H
#define TEXTDESK_API_API_GW_H

#include <stdint.h>

#include "core/cc.h"
#include "http/http.h"
#include "sms/gw_kannel.h"
#include "sms/gw_webhook.h"
#include "util/buf.h"

typedef struct api_gw_env {
    void *app;
    int (*apply)(void *app, const cc_cmd *cmd);
    /* NULL: everything is committed at once (tests) */
    void (*after_commit)(void *app, void (*fn)(void *), void *arg);
    /* A delivery report for our reference 'ref' (gw_status). Returns 0 or
     * -ENOENT when no outbound message has that reference. */
    int (*report)(void *app, int64_t ref, int status, str provider_id, str error);
    /* The same, by the provider's message id. */
    int (*report_by_provider_id)(void *app, str provider_id, int status, str error);
    /* The configured gateway 'id' of that type, or NULL. */
    const gw_kannel_cfg *(*kannel)(void *app, str id);
    const gw_webhook_cfg *(*webhook)(void *app, str id);
    /* The running Kannel gateway 'id' (it combines the reports of a
     * message's parts), or NULL; the member itself may be NULL (tests). */
    gw *(*kannel_gw)(void *app, str id);
    int64_t (*now)(void *app); /* wall clock, ms */
} api_gw_env;

/* Appends the %-decoded value of 'key' in the form body 'form'
 * (application/x-www-form-urlencoded: '+' is a space) to 'out'. Returns 0,
 * -ENOENT when absent, -EINVAL for a bad %-escape. */
int api_gw_form_get(str form, const char *key, buf *out);

/* Handles a request under /api/gw/. */
void api_gw_request(const api_gw_env *env, const http_req *req, http_resp *resp);

#endif
