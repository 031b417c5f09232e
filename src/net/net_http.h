/*
 * net_http: outbound HTTP/1.1 requests on the loop (net.h) (gateways:
 * Kannel's sendsms, webhook providers). One request per connection, no
 * keep-alive, no redirects, no TLS, and IP-literal hosts only: Debian's
 * libwebsockets resolves names with blocking DNS, which the one loop must
 * never do (the team's stack notes, notes/stack.md).
 *
 * The callback runs exactly once per request, always from the loop (never
 * from inside net_http_request), unless the request was cancelled.
 */
#ifndef TEXTDESK_NET_NET_HTTP_H
#define TEXTDESK_NET_NET_HTTP_H

#include <stddef.h>

#include "net/net.h"
#include "util/str.h"

#define NET_HTTP_MAX_RESPONSE (64 * 1024)

typedef struct net_http_req net_http_req;

/* The outcome. 'status' is the HTTP status, or 0 when there was no
 * answer; then 'err' says why and 'maybe_sent' says whether the request
 * may have reached the peer (0: the connection never opened, so sending
 * again cannot duplicate it). 'body' is valid during the call only. */
typedef struct net_http_result {
    int status;
    str body;
    const char *err;
    int maybe_sent;
} net_http_result;

typedef void (*net_http_cb)(void *arg, const net_http_result *r);

typedef struct net_http_opts {
    const char *method;       /* "GET" or "POST" */
    const char *url;          /* http://IP:PORT/path?query */
    const char *content_type; /* for a body */
    str body;
    const char *const *headers; /* name, value, name, value, ..., NULL */
} net_http_opts;

/* Parses "http://HOST[:PORT][/PATH]" into its parts (path keeps the query;
 * "/" when absent). Returns 0, or -1 for another scheme or a bad port. */
int net_http_parse_url(const char *url, char *host, size_t hostcap, int *port, char *path,
                          size_t pathcap);
/* Whether 'host' is an IPv4 literal (what net_http_request accepts). */
int net_http_host_ok(const char *host);

/* Starts a request; the result comes through 'cb'. Returns the request (to
 * cancel it) or NULL with nothing started when the URL is not usable. */
net_http_req *net_http_request(net_loop *l, const net_http_opts *o, net_http_cb cb,
                               void *arg);
/* The callback will not run; the connection is dropped. */
void net_http_cancel(net_http_req *q);

#endif
