/*
 * http: the HTTP and WebSocket server, on libwebsockets (Debian's 4.1;
 * docs/internals/http.md lists the library's traps we work around). It knows
 * nothing of contact centers: it serves static files from a directory
 * (GET and HEAD),
 * hands every request under /api/ (and /metrics), and every path no file
 * answers, to one request handler, and every
 * WebSocket on /ws to three connection handlers. It runs on the process's
 * one loop (net/net.h), which also carries the timers and the gateways'
 * clients.
 *
 * Limits enforced here, before any handler sees the data: request bodies
 * and WebSocket messages of at most HTTP_MAX_BODY bytes (413 / close 1009),
 * WebSocket only on /ws. Every response carries a strict Content-Security-
 * Policy (no inline script), nosniff, DENY framing and no-referrer headers.
 * With a certificate and key configured, the listener serves HTTPS and WSS
 * only (and HSTS); otherwise plain HTTP.
 */
#ifndef TEXTDESK_HTTP_HTTP_H
#define TEXTDESK_HTTP_HTTP_H

#include <stddef.h>
#include <stdint.h>

#include "net/net.h"
#include "util/buf.h"
#include "util/str.h"

#define HTTP_MAX_BODY (64 * 1024)
#define HTTP_SESSION_COOKIE "td_session"

typedef struct http_srv http_srv;
typedef struct http_ws http_ws;

typedef struct http_cfg {
    const char *iface; /* "127.0.0.1" */
    int port;          /* 0: pick a free port (http_port tells which) */
    const char *web_dir;
    /* Both set: the listener speaks only HTTPS and WSS with this PEM
     * certificate (chain) and private key (OpenSSL). Both NULL: plain. */
    const char *tls_cert, *tls_key;
    /* A WebSocket silent this long is pinged, and closed when a sweep
     * (every 30 s, or this often when shorter) finds the ping unanswered.
     * 0: 300 s (what lws itself would do). */
    int64_t ws_ping_ms;
} http_cfg;

/* A request as the handlers see it. Strings are valid during the call. */
typedef struct http_req {
    /* "GET", "POST", "PUT", "DELETE", "PATCH"; a HEAD is handed over as
     * its GET, and only the answer's headers are written */
    const char *method;
    const char *path;   /* "/api/login" (no query) */
    str body;
    str session;        /* value of the td_session cookie, or empty */
    str origin, host;   /* headers, or empty */
    str peer;           /* the client's address ("127.0.0.1") */
    int secure;         /* it came over TLS */
    void *impl;
} http_req;

/* Copies request header 'name' (e.g. "X-Signature", "Content-Type") into
 * 'out'; returns its length or -1 (absent or longer than 'cap' - 1). */
int http_req_header(const http_req *req, const char *name, char *out, size_t cap);
/* Copies query argument 'name' into 'out'; returns its length or -1. */
int http_req_arg(const http_req *req, const char *name, char *out, size_t cap);

typedef struct http_resp {
    int status;               /* default 200 */
    const char *content_type; /* default "application/json" */
    buf body;
    char set_cookie[256];     /* a Set-Cookie value, or "" */
} http_resp;

/* A response finished later (after a group commit): inside the request
 * handler, http_defer takes the request over; the handler leaves 'resp'
 * alone and the response is sent by http_defer_complete. When the client
 * went away meanwhile, completing just frees the handle. */
typedef struct http_defer http_defer;
http_defer *http_defer_begin(const http_req *req);
void http_defer_complete(http_defer *d, http_resp *resp);

typedef struct http_handlers {
    void *arg;
    /* A request under /api/. Fill 'resp'. */
    void (*request)(void *arg, const http_req *req, http_resp *resp);
    /* A WebSocket upgrade on /ws. Return 0 and set '*user' to accept it,
     * or an HTTP status (401, 403) to refuse. */
    int (*ws_open)(void *arg, const http_req *req, http_ws *ws, void **user);
    /* One whole message (text), at most HTTP_MAX_BODY bytes. */
    void (*ws_message)(void *arg, http_ws *ws, void *user, str data);
    /* The connection is gone; 'ws' must not be used after this. */
    void (*ws_close)(void *arg, http_ws *ws, void *user);
} http_handlers;

/* Starts listening on 'loop'. Returns NULL and a reason in 'err' on
 * failure. */
http_srv *http_new(net_loop *loop, const http_cfg *cfg, const http_handlers *h, char *err,
                   size_t errlen);
/* The port actually listened on. */
int http_port(const http_srv *s);
/* Stops the server's timer: before net_loop_free. */
void http_stop(http_srv *s);
/* Frees the server. Its connections are closed by net_loop_free, whose
 * close callbacks still use it: free it after the loop. */
void http_free(http_srv *s);

/* Queues a text message to one WebSocket (copied). */
void http_ws_send(http_ws *ws, const char *data, size_t n);
/* Closes the connection after what is queued (ws_close follows). */
void http_ws_close(http_ws *ws);
/* Messages waiting to be written to 'ws'. */
size_t http_ws_backlog(const http_ws *ws);

#endif
