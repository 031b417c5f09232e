/* http_int.h: shared between the files of http/ only. */
#ifndef TEXTDESK_HTTP_HTTP_INT_H
#define TEXTDESK_HTTP_HTTP_INT_H

#include <libwebsockets.h>

#include "http/http.h"

struct lws_context *http__lws_context(http_srv *s);
/* Makes lws run its due lws_sul timers soon: after scheduling one (or a
 * kill with LWS_TO_KILL_ASYNC) outside an lws callback (http.c). */
void http__kick(struct lws_context *ctx);

#endif
