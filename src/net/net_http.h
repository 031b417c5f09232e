/*
 * net_http: outbound HTTP/1.1 and HTTPS requests on the loop (net.h)
 * (gateways: Kannel's sendsms, webhook providers; event webhooks, single
 * sign-on). Host names or IPv4 literals; names are resolved off the loop.
 * HTTPS checks the peer's certificate and name against the system's CAs,
 * or the bundle given to net_http_set_ca_file. One request per connection,
 * no keep-alive, no redirects; 10 s to connect, 30 s in all. Built on
 * libcurl (net_curl.h), which lws's client cannot replace: lws resolves
 * names with blocking DNS (the team's stack notes).
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
    const char *url;          /* http[s]://HOST[:PORT]/path?query */
    const char *content_type; /* for a body */
    str body;
    const char *const *headers; /* name, value, name, value, ..., NULL */
} net_http_opts;

/* Parses "http[s]://HOST[:PORT][/PATH]" into its parts (path keeps the
 * query; "/" when absent; port 80 or 443 when absent). Returns 0, or -1 for
 * another scheme, a host that is not a name or IPv4 literal, or a bad port. */
int net_http_parse_url(const char *url, char *host, size_t hostcap, int *port, char *path,
                       size_t pathcap);
/* Whether 'host' is an IPv4 literal (what the SMPP link, net_tcp, takes). */
int net_http_host_ok(const char *host);
/* Whether 'host' is a DNS name (letters, digits, '-' in dot-separated
 * labels) or an IPv4 literal: what net_http_request takes. */
int net_http_name_ok(const char *host);
/* The PEM bundle of CAs trusted for HTTPS from now on (the "ca_file"
 * setting); NULL or "": the system's. */
void net_http_set_ca_file(const char *path);

/* Starts a request; the result comes through 'cb'. Returns the request (to
 * cancel it) or NULL with nothing started when the URL is not usable. */
net_http_req *net_http_request(net_loop *l, const net_http_opts *o, net_http_cb cb,
                               void *arg);
/* The callback will not run; the connection is dropped. */
void net_http_cancel(net_http_req *q);

#endif
