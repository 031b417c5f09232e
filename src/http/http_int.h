/* http_int.h: shared between the files of http/ only. */
#ifndef TEXTDESK_HTTP_HTTP_INT_H
#define TEXTDESK_HTTP_HTTP_INT_H

#include <libwebsockets.h>

#include "http/http.h"

struct lws_context *http__lws_context(http_srv *s);

#endif
