/* http_int.h: shared between the files of http/ only. */
#ifndef TEXTDESK_HTTP_HTTP_INT_H
#define TEXTDESK_HTTP_HTTP_INT_H

#include <libwebsockets.h>

#include "http/http.h"

struct lws_context *http__lws_context(http_srv *s);

/* The vhost 'name' for outbound connections (no listener, IPv4), created
 * with 'protos' the first time (http_client.c). */
struct lws_vhost *http__outbound_vhost(struct lws_context *ctx, const char *name,
                                       const struct lws_protocols *protos);

#endif
