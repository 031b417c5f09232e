/*
 * http_client: outbound HTTP/1.1 requests on the server's loop (gateways:
 * Kannel's sendsms, webhook providers). One request per connection, no
 * keep-alive, no redirects, no TLS, and IP-literal hosts only: Debian's
 * libwebsockets resolves names with blocking DNS, which the one loop must
 * never do (the team's stack notes, notes/stack.md).
 *
 * The callback runs exactly once per request, always from the loop (never
 * from inside http_client_request), unless the request was cancelled.
 */
#ifndef TEXTDESK_HTTP_HTTP_CLIENT_H
#define TEXTDESK_HTTP_HTTP_CLIENT_H

#include <stddef.h>

#include "http/http.h"
#include "util/str.h"

#define HTTP_CLIENT_MAX_RESPONSE (64 * 1024)

typedef struct http_creq http_creq;

/* The outcome. 'status' is the HTTP status, or 0 when there was no
 * answer; then 'err' says why and 'maybe_sent' says whether the request
 * may have reached the peer (0: the connection never opened, so sending
 * again cannot duplicate it). 'body' is valid during the call only. */
typedef struct http_client_result {
    int status;
    str body;
    const char *err;
    int maybe_sent;
} http_client_result;

typedef void (*http_client_cb)(void *arg, const http_client_result *r);

typedef struct http_client_opts {
    const char *method;       /* "GET" or "POST" */
    const char *url;          /* http://IP:PORT/path?query */
    const char *content_type; /* for a body */
    str body;
    const char *const *headers; /* name, value, name, value, ..., NULL */
} http_client_opts;

/* Parses "http://HOST[:PORT][/PATH]" into its parts (path keeps the query;
 * "/" when absent). Returns 0, or -1 for another scheme or a bad port. */
int http_client_parse_url(const char *url, char *host, size_t hostcap, int *port, char *path,
                          size_t pathcap);
/* Whether 'host' is an IPv4 literal (what http_client_request accepts). */
int http_client_host_ok(const char *host);

/* Starts a request; the result comes through 'cb'. Returns the request (to
 * cancel it) or NULL with nothing started when the URL is not usable. */
http_creq *http_client_request(http_srv *s, const http_client_opts *o, http_client_cb cb,
                               void *arg);
/* The callback will not run; the connection is dropped. */
void http_client_cancel(http_creq *q);

#endif
