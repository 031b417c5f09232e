/*
 * gw_post: the outbound side shared by the HTTP gateway types that POST one
 * JSON object per message (gw_webhook, gw_relay): the requests under way
 * (cancelled when the gateway is freed) and the mapping of the provider's
 * answer to a gw_status, its message id and its error.
 *
 * The answer: 2xx = GW_SENT (the provider's id from the JSON member
 * 'id_key'); 429, 5xx = GW_RETRY; no answer = GW_RETRY when the request
 * never left, GW_UNKNOWN when it may have; any other status = GW_FAILED
 * with "WHO: HTTP N: <its body>".
 */
#ifndef TEXTDESK_SMS_GW_POST_H
#define TEXTDESK_SMS_GW_POST_H

#include "net/net_http.h"
#include "sms/gw.h"

typedef struct gw_post gw_post;

typedef struct gw_posts {
    gw *g;              /* whose result callback gets the outcomes */
    net_loop *loop;
    const char *who;    /* "webhook": the errors' prefix */
    const char *id_key; /* the provider's message id in a 2xx answer */
    gw_post *head;      /* under way */
} gw_posts;

/* POSTs 'body' (JSON) to 'url' with 'headers' (name, value, ..., NULL) for
 * our message 'ref'; the outcome goes to g's result callback. Returns 0, or
 * -EINVAL when the URL is not usable (nothing started). */
int gw_posts_send(gw_posts *l, const char *url, str body, const char *const *headers,
                  int64_t ref);
/* Cancels everything under way (no callback follows). */
void gw_posts_cancel(gw_posts *l);

#endif
