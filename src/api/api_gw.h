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

#include <jansson.h>
#include <stdint.h>

#include "core/cc.h"
#include "http/http.h"
#include "sms/gw_kannel.h"
#include "sms/gw_webhook.h"
#include "util/buf.h"

typedef struct api_gw_env {
    void *app;
    int (*apply)(void *app, const cc_cmd *cmd);
    /* Runs fn(arg, status) after the next commit: status 0, or
     * -CC_E_STORE when it failed. NULL: everything is committed at once
     * (tests). */
    void (*after_commit)(void *app, void (*fn)(void *, int), void *arg);
    /* A delivery report for our reference 'ref' (gw_status), written with
     * the next commit (answer after it). Returns 0, -ENOENT when no
     * outbound message has that reference, or -EAGAIN when the store takes
     * no writes now (answer 503: the sender retries). */
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

/* The pure parts of reading a gateway's request, apart so that they can
 * be tested and fuzzed without a server (fuzz/fuzz_gw.c). */

/* Writes the charset parameter of Content-Type value 'ct' (unquoted; ""
 * when there is none) into 'out' of 'cap' bytes, truncated, NUL-terminated. */
void api_gw_content_charset(const char *ct, char *out, size_t cap);

/* Parses one of our message references as it comes back in a delivery
 * report: 1 to 19 decimal digits, a value from 1 to INT64_MAX. Returns 0 or
 * -EINVAL (signs, spaces and anything else are refused). */
int api_gw_ref_parse(str s, int64_t *ref);

/* The named fields of a webhook body: a form
 * (application/x-www-form-urlencoded, by 'content_type') or else a JSON
 * object, whose string or integer members count. v[i] is STR_NULL when
 * names[i] is absent (or of another type); the views stay valid until
 * api_gw_fields_free, which must follow either result. Returns 0, or
 * -EINVAL when the body is not a JSON object or 'n' is too large. */
#define API_GW_FIELDS_MAX 5
typedef struct api_gw_fields {
    json_t *j;
    buf keep[API_GW_FIELDS_MAX]; /* decoded bytes */
    str v[API_GW_FIELDS_MAX];
} api_gw_fields;
int api_gw_fields_parse(const char *content_type, str body, const char *const *names, size_t n,
                        api_gw_fields *f);
void api_gw_fields_free(api_gw_fields *f);

/* Handles a request under /api/gw/. */
void api_gw_request(const api_gw_env *env, const http_req *req, http_resp *resp);

#endif
