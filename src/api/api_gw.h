/*
 * api_gw: the router of the gateways' inbound HTTP endpoints (docs/api.md,
 * "Gateways"): a request to /api/gw/<type>/<id>/<endpoint> goes to the
 * configured gateway <id> when it is of type <type>, through its 'http'
 * (sms/gw.h), as a gw_call. The router knows no gateway type: each type
 * reads its own requests, hands what they bring to the application through
 * the inbound port, and answers (after the commit, possibly a loop turn
 * later: the call then stays open, http_defer).
 */
#ifndef TEXTDESK_API_API_GW_H
#define TEXTDESK_API_API_GW_H

#include "http/http.h"
#include "sms/gw.h"

/* The running gateway 'id', or NULL. */
typedef gw *(*api_gw_find)(void *app, str id);

/* Handles a request under /api/gw/. */
void api_gw_request(api_gw_find find, void *app, const http_req *req, http_resp *resp);
/* Hands 'req' to gateway 'g' as a call to its 'endpoint' (the simulator's
 * /api/sim/send). */
void api_gw_call(gw *g, const char *endpoint, const http_req *req, http_resp *resp);

#endif
