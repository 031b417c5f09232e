/*
 * gw_http: the pure parts of reading a gateway provider's HTTP request
 * (form and JSON fields, charsets, our references), shared by the gateway
 * types with inbound endpoints (gw_kannel, gw_webhook, gw_relay) and
 * fuzzed on their own (fuzz/fuzz_gw.c). No I/O.
 */
#ifndef TEXTDESK_SMS_GW_HTTP_H
#define TEXTDESK_SMS_GW_HTTP_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "util/buf.h"
#include "util/str.h"

/* Appends the %-decoded value of 'key' in the form body 'form'
 * (application/x-www-form-urlencoded: '+' is a space) to 'out'. Returns 0,
 * -ENOENT when absent, -EINVAL for a bad %-escape. */
int gw_http_form_get(str form, const char *key, buf *out);

/* The pure parts of reading a gateway's request, apart so that they can
 * be tested and fuzzed without a server (fuzz/fuzz_gw.c). */

/* Writes the charset parameter of Content-Type value 'ct' (unquoted; ""
 * when there is none) into 'out' of 'cap' bytes, truncated, NUL-terminated. */
void gw_http_content_charset(const char *ct, char *out, size_t cap);

/* Parses one of our message references as it comes back in a delivery
 * report: 1 to 19 decimal digits, a value from 1 to INT64_MAX. Returns 0 or
 * -EINVAL (signs, spaces and anything else are refused). */
int gw_http_ref_parse(str s, int64_t *ref);

/* The named fields of a webhook body: a form
 * (application/x-www-form-urlencoded, by 'content_type') or else a JSON
 * object, whose string or integer members count. v[i] is STR_NULL when
 * names[i] is absent (or of another type); the views stay valid until
 * gw_http_fields_free, which must follow either result. Returns 0, or
 * -EINVAL when the body is not a JSON object or 'n' is too large. */
#define GW_HTTP_FIELDS_MAX 5
typedef struct gw_http_fields {
    json_t *j;
    buf keep[GW_HTTP_FIELDS_MAX]; /* decoded bytes */
    str v[GW_HTTP_FIELDS_MAX];
} gw_http_fields;
int gw_http_fields_parse(const char *content_type, str body, const char *const *names, size_t n,
                        gw_http_fields *f);
void gw_http_fields_free(gw_http_fields *f);

#endif
