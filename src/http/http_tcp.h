/*
 * http_tcp: a raw TCP client connection on the server's loop, for
 * gateways that speak their own protocol over TCP (SMPP: sms/gw_smpp.c).
 * It lives here, beside http_client, because it is libwebsockets glue (a
 * "RAW" client on its own vhost, "textdesk-tcp"); the protocol modules
 * above it see bytes and events only, never lws.
 *
 * IPv4 literals only: Debian's libwebsockets resolves names with blocking
 * DNS, which the one loop must never do (notes in http_client.h). No TLS.
 *
 * One callback per connection, switched on the event (STYLE.md 7):
 *   HTTP_TCP_CONNECTED  the connection is up;
 *   HTTP_TCP_DATA       'data', 'n': bytes read;
 *   HTTP_TCP_WRITABLE   http_tcp_write may be called (once) now;
 *   HTTP_TCP_CLOSED     the connect failed or the connection ended; 'data'
 *                       is a NUL-terminated reason. The connection is gone
 *                       once the callback returns: do not use it again.
 * The callback never runs from inside http_tcp_connect, and never after
 * http_tcp_close.
 */
#ifndef TEXTDESK_HTTP_HTTP_TCP_H
#define TEXTDESK_HTTP_HTTP_TCP_H

#include <stddef.h>

#include "http/http.h"

typedef struct http_tcp http_tcp;

enum http_tcp_event {
    HTTP_TCP_CONNECTED,
    HTTP_TCP_DATA,
    HTTP_TCP_WRITABLE,
    HTTP_TCP_CLOSED,
};

typedef void (*http_tcp_cb)(void *arg, enum http_tcp_event ev, const void *data,
                            size_t n);

/* Starts connecting to 'ip':'port' (an IPv4 literal). Returns the
 * connection, or NULL with nothing started when the address is not usable.
 * A connection that cannot be made is reported as HTTP_TCP_CLOSED. */
http_tcp *http_tcp_connect(http_srv *s, const char *ip, int port, http_tcp_cb cb,
                           void *arg);

/* Asks for one HTTP_TCP_WRITABLE callback. */
void http_tcp_want_write(http_tcp *c);

/* Inside HTTP_TCP_WRITABLE only: writes up to 'n' bytes (at most
 * HTTP_TCP_WRITE_MAX). Returns how many were taken (what the kernel did not
 * take is kept and written by the loop), or -1 when the connection broke
 * (HTTP_TCP_CLOSED follows). */
#define HTTP_TCP_WRITE_MAX (64 * 1024)
long http_tcp_write(http_tcp *c, const void *p, size_t n);

/* Drops the connection at once (unwritten bytes are lost); no callback
 * follows. Safe inside the connection's own callback. */
void http_tcp_close(http_tcp *c);

#endif
