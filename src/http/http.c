/*
 * http.c: libwebsockets glue. Traps handled here (found in the stack spike,
 * the team's stack notes, notes/stack.md): with a callback mount, 'in' is the full URI;
 * per-session data can be NULL in CLOSED_HTTP; a WebSocket upgrade binds
 * to protocols[0] whatever its path, so the path is checked in
 * FILTER_PROTOCOL_CONNECTION; one lws_write per WRITEABLE, with LWS_PRE
 * headroom; the timeout argument of lws_service is ignored (timers are
 * lws_sul).
 *
 * The server is one vhost ("default") on the loop's lws context (net/net.h),
 * which owns the loop, its timers and the clients.
 *
 * What a WebSocket costs must not grow with the number of them (issue 12):
 *  - Liveness is ours, not lws's. lws 4.1 keeps a "validity" timer per
 *    WebSocket (ping after 300 s of silence, hang up at 310 s) in the one
 *    sorted list that also holds every HTTP request's timeouts, so each
 *    connect and, once those timers spread over time, each HTTP request (an
 *    inbound SMS) walked a share of all the desktops' entries. The vhost
 *    turns them off (retry policy without validity) and one sweep timer
 *    every HTTP_WS_SWEEP_MS visits the WebSockets instead: a ping after
 *    HTTP_WS_PING_MS of silence, closed when the next sweep still has no
 *    answer (any frame, or the pong, answers). Its cost is per time, not per
 *    message.
 *  - Queued messages go out together: one send per connection and
 *    writable event, each message still its own text frame. lws writes one
 *    frame per lws_write (a syscall and a poll round each); the frames are
 *    built here (server frames are unmasked: a two to ten byte header) and
 *    written as raw bytes (LWS_WRITE_HTTP on a WebSocket is a raw write in
 *    lws 4.1, which queues what the socket does not take and calls back only
 *    once it is sent). No extension is negotiated, so frames are plain.
 *  - ... and without a poll round: what a turn of the loop queued for a
 *    WebSocket is written at the end of that turn (flush_dirty, the loop's
 *    net__turn_end hook), straight to the socket, instead of asking lws for
 *    a writable callback (two epoll_ctl calls, a poll event and a callback
 *    per desktop and turn: with an offer per SMS, per SMS). Only a socket
 *    lws still holds unsent bytes for, a due ping, a closing WebSocket or
 *    more than HTTP_WS_WRITE_MAX bytes wait for the writable callback as
 *    before; so does everything on lws's poll loop (no such hook).
 *  - An HTTP/1.1 answer likewise (an inbound SMS's, after its commit):
 *    written at the end of the turn (flush_answers) instead of from a
 *    writable callback. lws then holds the keep-alive connection until it
 *    sees it writable (lws_http_transaction_completed: LRS_DEFERRING_ACTION,
 *    another poll round): the socket took the answer whole, so it is told
 *    so at once (lws_service_fd with POLLOUT), and the two epoll_ctl calls
 *    per answer are gone. A next request lws already read (pipelined) is
 *    served after its next I/O: the turn kicks it (net__kick).
 */
#include "http/http.h"

#include <arpa/inet.h>
#include <libwebsockets.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include "net/net_int.h"
#include "util/log.h"
#include "util/loop_clock.h"
#include "util/xalloc.h"

#define HTTP_WS_SWEEP_MS 30000
#define HTTP_WS_PING_MS 300000
#define HTTP_WS_WRITE_MAX (256 * 1024) /* bytes of frames written at once */

/* An entry of one of the server's lists (live, dirty, answers): intrusive,
 * doubly linked, so that leaving one is O(1) whatever its length. */
typedef struct hnode {
    struct hnode *prev, *next;
    void *obj; /* what the entry is */
    int on;    /* it is in its list */
} hnode;

static void hnode_push(hnode **head, hnode *n, void *obj)
{
    if (n->on)
        return;
    n->obj = obj;
    n->on = 1;
    n->prev = NULL;
    n->next = *head;
    if (*head)
        (*head)->prev = n;
    *head = n;
}

static void hnode_del(hnode **head, hnode *n)
{
    if (!n->on)
        return;
    if (n->prev)
        n->prev->next = n->next;
    else
        *head = n->next;
    if (n->next)
        n->next->prev = n->prev;
    n->prev = n->next = NULL;
    n->on = 0;
}

struct http_srv {
    struct lws_vhost *vhost;
    http_handlers h;
    int port;
    net_timer *sweep;       /* the WebSockets' liveness */
    int64_t ping_ms;        /* silence before a ping */
    hnode *live;            /* every accepted WebSocket */
    hnode *dirty;           /* WebSockets with frames queued this turn */
    hnode *answers;         /* HTTP/1.1 answers (pss_http) ready this turn */
    net_turn_end *turn_end; /* writes them (NULL: writable callbacks) */
    struct lws_protocols protos[3];
    struct lws_http_mount mounts[5];
    struct lws_protocol_vhost_options hdrs[5];
    char *web_dir, *sim_dir;
};

typedef struct wmsg {
    struct wmsg *next;
    size_t n;
    unsigned char data[]; /* LWS_PRE headroom, then the text */
} wmsg;

struct http_ws {
    struct lws *wsi;
    http_srv *srv;
    hnode live_n, dirty_n;          /* srv->live, srv->dirty */
    int established, peer_closing;
    int64_t rx_at;                  /* the last frame from the peer (mono) */
    int ping_due, ping_out;         /* a ping to write; one written, unanswered */
    void *user;
    int accepted, closing;
    wmsg *head, *tail;
    size_t backlog;
    buf rx;
    int rx_too_big;
};

struct http_defer {
    struct lws *wsi;
    struct pss_http *pss; /* NULL once the connection is gone */
};

typedef struct pss_http {
    struct lws *wsi;
    hnode ans_n; /* srv->answers */
    buf body;
    int too_big, has_resp, handled, deferred;
    int head; /* a HEAD: answered as its GET, without the body */
    http_defer *defer;
    char method[8];
    char path[256];
    unsigned char *out; /* LWS_PRE + headers + body, written when writable */
    size_t out_hdr, out_n; /* header bytes, then body bytes */
    unsigned gen;          /* counts transaction ends (pss_http_reset) */
} pss_http;

typedef struct pss_ws {
    http_ws *ws;
} pss_ws;

/* ---- helpers ----------------------------------------------------------- */

static str hdr(struct lws *wsi, enum lws_token_indexes t, char *tmp, size_t cap)
{
    int n = lws_hdr_total_length(wsi, t);
    if (n <= 0 || (size_t)n >= cap)
        return STR_NULL;
    if (lws_hdr_copy(wsi, tmp, (int)cap, t) < 0)
        return STR_NULL;
    return (str){tmp, (size_t)n};
}

/* The value of cookie HTTP_SESSION_COOKIE in a Cookie header. */
static str cookie_session(str cookies)
{
    const char *p = cookies.p, *end = cookies.p + cookies.n;
    size_t klen = strlen(HTTP_SESSION_COOKIE);
    while (p && p < end) {
        while (p < end && (*p == ' ' || *p == ';'))
            p++;
        const char *eq = memchr(p, '=', (size_t)(end - p));
        if (!eq)
            break;
        const char *semi = memchr(eq, ';', (size_t)(end - eq));
        const char *vend = semi ? semi : end;
        if ((size_t)(eq - p) == klen && memcmp(p, HTTP_SESSION_COOKIE, klen) == 0)
            return (str){eq + 1, (size_t)(vend - eq - 1)};
        p = semi ? semi + 1 : end;
    }
    return STR_NULL;
}

typedef struct req_bufs {
    char cookie[1024], origin[256], host[256], peer[64];
} req_bufs;

/* The client's address as text into 'out' (64 bytes). Read once per
 * connection, not per request (a getpeername per inbound SMS on a
 * keep-alive connection): the listener is IPv4 only, and the address plus
 * one is kept in the connection's opaque user data, which is ours on the
 * server's connections (net_tcp's are client connections). */
static const char *peer_of(struct lws *wsi, char *out, size_t cap)
{
    struct lws *nwsi = lws_get_network_wsi(wsi);
    uint64_t v = (uint64_t)(uintptr_t)lws_get_opaque_user_data(nwsi);
    if (v == 0) {
        struct sockaddr_in sa;
        socklen_t l = sizeof sa;
        int fd = lws_get_socket_fd(nwsi);
        if (fd < 0 || getpeername(fd, (struct sockaddr *)&sa, &l) != 0 || l != sizeof sa ||
            sa.sin_family != AF_INET)
            return lws_get_peer_simple(wsi, out, cap);
        v = (uint64_t)ntohl(sa.sin_addr.s_addr) + 1;
        lws_set_opaque_user_data(nwsi, (void *)(uintptr_t)v);
    }
    uint32_t a = (uint32_t)(v - 1);
    snprintf(out, cap, "%u.%u.%u.%u", a >> 24, (a >> 16) & 255, (a >> 8) & 255, a & 255);
    return out;
}

static void fill_req(struct lws *wsi, http_req *req, req_bufs *b)
{
    req->session = cookie_session(hdr(wsi, WSI_TOKEN_HTTP_COOKIE, b->cookie, sizeof b->cookie));
    req->origin = hdr(wsi, WSI_TOKEN_ORIGIN, b->origin, sizeof b->origin);
    req->host = hdr(wsi, WSI_TOKEN_HOST, b->host, sizeof b->host);
    const char *peer = peer_of(wsi, b->peer, sizeof b->peer);
    req->peer = peer ? str_c(peer) : STR_NULL;
    req->secure = lws_is_ssl(wsi);
    req->impl = wsi;
}

int http_req_header(const http_req *req, const char *name, char *out, size_t cap)
{
    char key[64];
    int kn = snprintf(key, sizeof key, "%s:", name);
    for (int i = 0; i < kn; i++) /* lws keeps custom header names lowercase */
        key[i] = (char)(key[i] >= 'A' && key[i] <= 'Z' ? key[i] + 32 : key[i]);
    /* headers lws knows by a token are not among the custom ones */
    int tok = strcmp(key, "content-type:") == 0      ? WSI_TOKEN_HTTP_CONTENT_TYPE
              : strcmp(key, "authorization:") == 0   ? WSI_TOKEN_HTTP_AUTHORIZATION
              : strcmp(key, "x-forwarded-for:") == 0 ? WSI_TOKEN_X_FORWARDED_FOR
              : strcmp(key, "cookie:") == 0          ? WSI_TOKEN_HTTP_COOKIE
              : strcmp(key, "accept-language:") == 0 ? WSI_TOKEN_HTTP_ACCEPT_LANGUAGE
                                                     : -1;
    if (tok >= 0) {
        int n = lws_hdr_total_length(req->impl, (enum lws_token_indexes)tok);
        if (n <= 0 || (size_t)n >= cap ||
            lws_hdr_copy(req->impl, out, (int)cap, (enum lws_token_indexes)tok) < 0)
            return -1;
        return n;
    }
    int n = lws_hdr_custom_length(req->impl, key, kn);
    if (n < 0 || (size_t)n >= cap || lws_hdr_custom_copy(req->impl, out, (int)cap, key, kn) < 0)
        return -1;
    return n;
}

int http_req_arg(const http_req *req, const char *name, char *out, size_t cap)
{
    char key[64];
    snprintf(key, sizeof key, "%s=", name);
    /* lws fills 'out' with "name=value" and points after the '=' */
    const char *v = lws_get_urlarg_by_name(req->impl, key, out, (int)cap);
    if (!v)
        return -1;
    size_t n = strlen(v);
    memmove(out, v, n + 1);
    return (int)n;
}

/* ---- HTTP -------------------------------------------------------------- */

/* The request's method and its URI token: with a callback mount 'in' is
 * the full URI for GET but mount-relative for POST, so the path is always
 * copied from the method's own token (query arguments are held apart). */
static const char *method_of(struct lws *wsi, enum lws_token_indexes *tok)
{
    static const struct {
        enum lws_token_indexes t;
        const char *name;
    } m[] = {{WSI_TOKEN_GET_URI, "GET"},       {WSI_TOKEN_POST_URI, "POST"},
             {WSI_TOKEN_PUT_URI, "PUT"},       {WSI_TOKEN_PATCH_URI, "PATCH"},
             {WSI_TOKEN_DELETE_URI, "DELETE"}, {WSI_TOKEN_OPTIONS_URI, "OPTIONS"},
             {WSI_TOKEN_HEAD_URI, "HEAD"}};
    for (size_t i = 0; i < sizeof m / sizeof m[0]; i++)
        if (lws_hdr_total_length(wsi, m[i].t) > 0) {
            *tok = m[i].t;
            return m[i].name;
        }
    *tok = WSI_TOKEN_GET_URI;
    return "?";
}

/* Prepares the answer; it is written when the connection is writable,
 * never from inside the callback that delivered the request. (Written
 * there, an answer without a body ends the transaction inside lws 4.1's
 * header parsing, and lws then served the next request of a keep-alive
 * connection with the old request's headers: Kannel's POSTed SMS after a
 * delivery report was answered 200 and never seen. tests/e2e/keepalive.) */
static int respond(struct lws *wsi, pss_http *pss, http_resp *resp)
{
    unsigned char hbuf[1024], *start = hbuf, *p = start, *end = hbuf + sizeof hbuf - 1;
    const char *ctype = resp->content_type ? resp->content_type : "application/json";
    if (lws_add_http_common_headers(wsi, (unsigned)resp->status, ctype, resp->body.n, &p, end))
        return -1;
    if (lws_add_http_header_by_name(wsi, (const unsigned char *)"cache-control:",
                                    (const unsigned char *)"no-store", 8, &p, end))
        return -1;
    if (resp->set_cookie[0] &&
        lws_add_http_header_by_name(wsi, (const unsigned char *)"set-cookie:",
                                    (const unsigned char *)resp->set_cookie,
                                    (int)strlen(resp->set_cookie), &p, end))
        return -1;
    if (lws_finalize_http_header(wsi, &p, end))
        return -1;
    size_t hn = (size_t)(p - start);
    size_t bn = pss->head ? 0 : resp->body.n; /* a HEAD: the GET's headers only */
    free(pss->out);
    pss->out = xmalloc(LWS_PRE + hn + bn + 1);
    memcpy(pss->out + LWS_PRE, start, hn);
    if (bn)
        memcpy(pss->out + LWS_PRE + hn, resp->body.p, bn);
    pss->out_hdr = hn;
    pss->out_n = bn;
    pss->has_resp = 1;
    http_srv *s = lws_vhost_user(lws_get_vhost(wsi));
    if (!s->turn_end || lws_get_network_wsi(wsi) != wsi) { /* HTTP/2: its stream's turn */
        lws_callback_on_writable(wsi);
        return 0;
    }
    if (!pss->ans_n.on) { /* written at the end of the turn: flush_answers */
        pss->wsi = wsi;
        hnode_push(&s->answers, &pss->ans_n, pss);
    }
    return 0;
}

static void answer_unqueue(http_srv *s, pss_http *pss)
{
    hnode_del(&s->answers, &pss->ans_n);
}

/* Writes the prepared answer: headers, then the body. Returns -1 to close.
 * On HTTP/1.1 (a connection of its own, not an HTTP/2 stream) both are
 * the same raw bytes on the socket, written in one send instead of two
 * (issue 12: a syscall less per inbound SMS); an HTTP/2 stream needs its
 * HEADERS and DATA frames written apart. */
static int write_answer(struct lws *wsi, pss_http *pss)
{
    unsigned char *out = pss->out; /* ours now: a reset during the writes must not free it */
    size_t hn = pss->out_hdr, bn = pss->out_n;
    unsigned gen = pss->gen;
    int r = 0;
    pss->out = NULL;
    pss->has_resp = 0;
    if (bn && lws_get_network_wsi(wsi) == wsi) {
        if (lws_write(wsi, out + LWS_PRE, hn + bn, LWS_WRITE_HTTP_HEADERS) != (int)(hn + bn))
            r = -1;
        else if (pss->gen == gen && lws_http_transaction_completed(wsi))
            r = -1;
    } else if (lws_write(wsi, out + LWS_PRE, hn, LWS_WRITE_HTTP_HEADERS) != (int)hn)
        r = -1;
    else if (pss->gen == gen) { /* lws ends an empty answer's transaction itself */
        if (bn && lws_write(wsi, out + LWS_PRE + hn, bn, LWS_WRITE_HTTP_FINAL) != (int)bn)
            r = -1;
        else if (pss->gen == gen && lws_http_transaction_completed(wsi))
            r = -1;
    }
    free(out);
    return r;
}

static int handle(struct lws *wsi, http_srv *s, pss_http *pss)
{
    if (pss->handled) /* "Content-Length: 0" gets a BODY_COMPLETION too */
        return 0;
    pss->handled = 1;
    http_resp resp = {.status = 200};
    buf_init(&resp.body);
    if (pss->too_big) {
        resp.status = 413;
        buf_printf(&resp.body,
                   "{\"error\":\"too_large\",\"message\":\"request body over %d bytes:"
                   " send a smaller one\"}",
                   HTTP_MAX_BODY);
    } else {
        req_bufs b;
        http_req req = {.method = pss->method, .path = pss->path,
                        .body = {pss->body.p, pss->body.n}};
        fill_req(wsi, &req, &b);
        s->h.request(s->h.arg, &req, &resp);
    }
    if (pss->deferred) { /* answered through http_defer (maybe already) */
        buf_free(&resp.body);
        return 0;
    }
    int r = respond(wsi, pss, &resp);
    buf_free(&resp.body);
    return r;
}

http_defer *http_defer_begin(const http_req *req)
{
    struct lws *wsi = req->impl;
    pss_http *pss = lws_wsi_user(wsi);
    http_defer *d = xcalloc(1, sizeof *d);
    d->wsi = wsi;
    d->pss = pss;
    pss->defer = d;
    pss->deferred = 1;
    return d;
}

void http_defer_complete(http_defer *d, http_resp *resp)
{
    if (d->pss) {
        d->pss->defer = NULL;
        if (respond(d->wsi, d->pss, resp) != 0) {
            lws_set_timeout(d->wsi, PENDING_TIMEOUT_CLOSE_SEND, LWS_TO_KILL_ASYNC);
            net__kick(lws_get_context(d->wsi));
        }
    }
    free(d);
}

static void pss_http_reset(http_srv *s, pss_http *pss)
{
    answer_unqueue(s, pss);
    if (pss->defer) { /* the connection ends before its answer: orphan it */
        pss->defer->pss = NULL;
        pss->defer = NULL;
    }
    buf_free(&pss->body);
    free(pss->out);
    pss->out = NULL;
    pss->out_hdr = pss->out_n = 0;
    pss->gen++;
    pss->too_big = pss->has_resp = pss->handled = pss->deferred = pss->head = 0;
}

static int cb_http(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                   size_t len)
{
    pss_http *pss = user;
    http_srv *s = lws_vhost_user(lws_get_vhost(wsi));
    switch (reason) {
    case LWS_CALLBACK_HTTP: {
        pss_http_reset(s, pss);
        enum lws_token_indexes tok;
        snprintf(pss->method, sizeof pss->method, "%s", method_of(wsi, &tok));
        /* HEAD is answered as GET would be, headers (Content-Type and
         * Content-Length included) without the body, as any HTTP server
         * does (RFC 9110 9.3.2): the handler sees a GET */
        if (strcmp(pss->method, "HEAD") == 0) {
            pss->head = 1;
            snprintf(pss->method, sizeof pss->method, "GET");
        }
        if (lws_hdr_total_length(wsi, tok) >= (int)sizeof pss->path ||
            lws_hdr_copy(wsi, pss->path, sizeof pss->path, tok) < 0) {
            /* answered like every refusal, in JSON (lws's own is an HTML
             * "<h1>414</h1>"); a body that follows is not read */
            pss->handled = 1;
            http_resp resp = {.status = 414};
            buf_init(&resp.body);
            buf_printf(&resp.body,
                       "{\"error\":\"uri_too_long\",\"message\":\"the path is longer than %zu"
                       " bytes: shorten it (query arguments do not count)\"}",
                       sizeof pss->path - 1);
            int r = respond(wsi, pss, &resp);
            buf_free(&resp.body);
            return r;
        }
        char cl[32];
        str clen = hdr(wsi, WSI_TOKEN_HTTP_CONTENT_LENGTH, cl, sizeof cl);
        int has_body = strcmp(pss->method, "GET") != 0 && strcmp(pss->method, "DELETE") != 0 &&
                       strcmp(pss->method, "OPTIONS") != 0 && clen.n > 0 &&
                       strtol(cl, NULL, 10) > 0;
        if (clen.n > 0 && strtol(cl, NULL, 10) > HTTP_MAX_BODY)
            pss->too_big = 1;
        if (has_body && !pss->too_big)
            return 0; /* the body follows */
        return handle(wsi, s, pss);
    }
    case LWS_CALLBACK_HTTP_BODY:
        if (pss->body.n + len > HTTP_MAX_BODY)
            pss->too_big = 1;
        else
            buf_add(&pss->body, in, len);
        return 0;
    case LWS_CALLBACK_HTTP_BODY_COMPLETION:
        return handle(wsi, s, pss);
    case LWS_CALLBACK_HTTP_WRITEABLE:
        if (!pss || !pss->has_resp)
            return 0;
        answer_unqueue(s, pss);
        return write_answer(wsi, pss);
    case LWS_CALLBACK_CLOSED_HTTP:
    case LWS_CALLBACK_HTTP_DROP_PROTOCOL:
        if (pss)
            pss_http_reset(s, pss);
        break;
    default:
        break;
    }
    return lws_callback_http_dummy(wsi, reason, user, in, len);
}

/* ---- WebSocket --------------------------------------------------------- */

static void live_add(http_srv *s, http_ws *ws)
{
    hnode_push(&s->live, &ws->live_n, ws);
    ws->rx_at = loop_clock_mono();
}

static void dirty_del(http_ws *ws)
{
    hnode_del(&ws->srv->dirty, &ws->dirty_n);
}

static void ws_free(http_ws *ws)
{
    dirty_del(ws);
    if (ws->accepted)
        hnode_del(&ws->srv->live, &ws->live_n);
    while (ws->head) {
        wmsg *m = ws->head;
        ws->head = m->next;
        free(m);
    }
    buf_free(&ws->rx);
    free(ws);
}

/* The header of an unmasked server frame of 'n' bytes with 'op' (RFC 6455
 * 5.2) into 'h'; returns its length. */
static size_t frame_header(unsigned char *h, unsigned op, size_t n)
{
    h[0] = (unsigned char)(0x80 | op); /* FIN */
    if (n < 126) {
        h[1] = (unsigned char)n;
        return 2;
    }
    if (n < 65536) {
        h[1] = 126;
        h[2] = (unsigned char)(n >> 8);
        h[3] = (unsigned char)n;
        return 4;
    }
    h[1] = 127;
    for (int i = 0; i < 8; i++)
        h[2 + i] = (unsigned char)((uint64_t)n >> (56 - 8 * i));
    return 10;
}

/* Writes a due ping and the queued messages, up to HTTP_WS_WRITE_MAX
 * bytes of them (at least one), as frames in one raw write. */
static int ws_write_queued(http_ws *ws)
{
    size_t total = ws->ping_due ? 4 : 0;
    for (wmsg *m = ws->head; m && (total == 0 || total + m->n + 10 <= HTTP_WS_WRITE_MAX);
         m = m->next)
        total += m->n + 10;
    if (total == 0)
        return 0;
    unsigned char *out = xmalloc(LWS_PRE + total), *p = out + LWS_PRE;
    if (ws->ping_due) { /* lws 4.1 does not report an empty pong: two bytes */
        p += frame_header(p, 0x9, 2);
        *p++ = 't';
        *p++ = 'd';
        ws->ping_due = 0;
        ws->ping_out = 1;
    }
    size_t budget = total;
    while (ws->head && (p == out + LWS_PRE || ws->head->n + 10 <= budget)) {
        wmsg *m = ws->head;
        ws->head = m->next;
        if (!ws->head)
            ws->tail = NULL;
        ws->backlog--;
        p += frame_header(p, 0x1, m->n); /* text */
        memcpy(p, m->data + LWS_PRE, m->n);
        p += m->n;
        budget -= m->n + 10;
        free(m);
    }
    size_t n = (size_t)(p - (out + LWS_PRE));
    /* LWS_WRITE_HTTP on a WebSocket: the bytes as they are (see above) */
    int w = lws_write(ws->wsi, out + LWS_PRE, n, LWS_WRITE_HTTP);
    free(out);
    return w < 0 ? -1 : 0;
}

/* Every HTTP_WS_SWEEP_MS: pings the WebSockets silent for ping_ms, closes
 * those that left the last ping unanswered. */
static void on_sweep(void *arg)
{
    http_srv *s = arg;
    int64_t now = loop_clock_mono();
    for (hnode *n = s->live; n; n = n->next) {
        http_ws *ws = n->obj;
        if (ws->closing)
            continue;
        if (ws->ping_out) { /* a whole sweep without an answer */
            lws_set_timeout(ws->wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
            net__kick(lws_get_context(ws->wsi));
            ws->closing = 1;
        } else if (!ws->ping_due && now - ws->rx_at >= s->ping_ms) {
            ws->ping_due = 1;
            lws_callback_on_writable(ws->wsi);
        }
    }
    net_timer_set(s->sweep, s->ping_ms < HTTP_WS_SWEEP_MS ? s->ping_ms : HTTP_WS_SWEEP_MS);
}

static int cb_ws(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                 size_t len)
{
    pss_ws *pss = user;
    http_srv *s = lws_vhost_user(lws_get_vhost(wsi));
    switch (reason) {
    case LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION: {
        char uri[64];
        if (lws_hdr_copy(wsi, uri, sizeof uri, WSI_TOKEN_GET_URI) < 0 || strcmp(uri, "/ws") != 0)
            return 1;
        http_ws *ws = xcalloc(1, sizeof *ws);
        ws->wsi = wsi;
        ws->srv = s;
        buf_init(&ws->rx);
        req_bufs b;
        http_req req = {.method = "GET", .path = "/ws"};
        fill_req(wsi, &req, &b);
        int refuse = s->h.ws_open(s->h.arg, &req, ws, &ws->user);
        if (refuse != 0) {
            ws_free(ws);
            /* answer the upgrade with a plain HTTP status, then close */
            lws_return_http_status(wsi, (unsigned)refuse, NULL);
            return 1;
        }
        ws->accepted = 1;
        live_add(s, ws);
        pss->ws = ws;
        return 0;
    }
    case LWS_CALLBACK_ESTABLISHED:
        if (!pss->ws)
            return -1;
        pss->ws->established = 1; /* what came before asked for a writable callback */
        return 0;
    case LWS_CALLBACK_WS_PEER_INITIATED_CLOSE: /* lws answers it: write no more */
        if (pss->ws)
            pss->ws->peer_closing = 1;
        return 0;
    case LWS_CALLBACK_RECEIVE: {
        http_ws *ws = pss->ws;
        if (!ws || ws->closing)
            return 0;
        ws->rx_at = loop_clock_mono();
        ws->ping_out = 0;
        if (ws->rx.n + len > HTTP_MAX_BODY) {
            lws_close_reason(wsi, LWS_CLOSE_STATUS_MESSAGE_TOO_LARGE,
                             (unsigned char *)"message too large", 17);
            return -1;
        }
        buf_add(&ws->rx, in, len);
        if (lws_is_final_fragment(wsi) && lws_remaining_packet_payload(wsi) == 0) {
            str msg = {ws->rx.p ? ws->rx.p : "", ws->rx.n};
            s->h.ws_message(s->h.arg, ws, ws->user, msg);
            ws->rx.n = 0;
        }
        return 0;
    }
    case LWS_CALLBACK_RECEIVE_PONG:
        if (pss->ws) {
            pss->ws->rx_at = loop_clock_mono();
            pss->ws->ping_out = 0;
        }
        return 0;
    case LWS_CALLBACK_SERVER_WRITEABLE: {
        http_ws *ws = pss->ws;
        if (!ws)
            return -1;
        if (ws_write_queued(ws) != 0)
            return -1;
        if (ws->head)
            lws_callback_on_writable(wsi);
        else if (ws->closing) {
            lws_close_reason(wsi, LWS_CLOSE_STATUS_NORMAL, NULL, 0);
            return -1;
        }
        return 0;
    }
    case LWS_CALLBACK_CLOSED: {
        http_ws *ws = pss ? pss->ws : NULL;
        if (ws) {
            pss->ws = NULL;
            if (ws->accepted)
                s->h.ws_close(s->h.arg, ws, ws->user);
            ws_free(ws);
        }
        return 0;
    }
    default:
        break;
    }
    return lws_callback_http_dummy(wsi, reason, user, in, len);
}

void http_ws_send(http_ws *ws, const char *data, size_t n)
{
    if (ws->closing)
        return;
    wmsg *m = xmalloc(sizeof *m + LWS_PRE + n + 1);
    m->next = NULL;
    m->n = n;
    memcpy(m->data + LWS_PRE, data, n);
    if (ws->tail)
        ws->tail->next = m;
    else
        ws->head = m;
    ws->tail = m;
    ws->backlog++;
    http_srv *s = ws->srv;
    if (!s->turn_end || !ws->established || ws->peer_closing) {
        lws_callback_on_writable(ws->wsi);
        return;
    }
    /* written at the end of the turn: flush_dirty */
    hnode_push(&s->dirty, &ws->dirty_n, ws);
}

/* Writes the HTTP/1.1 answers the turn made ready (the file's comment). */
static void flush_answers(http_srv *s)
{
    while (s->answers) {
        pss_http *pss = s->answers->obj;
        struct lws *wsi = pss->wsi;
        answer_unqueue(s, pss);
        if (!pss->has_resp)
            continue;
        if (lws_partial_buffered(wsi)) {
            lws_callback_on_writable(wsi);
            continue;
        }
        struct lws_context *ctx = lws_get_context(wsi);
        int fd = lws_get_socket_fd(wsi);
        net__kick(ctx); /* a request lws read after this one */
        /* 'pss' is lws's again: the transaction's end rebinds the
         * connection and frees it */
        if (write_answer(wsi, pss) != 0) {
            lws_set_timeout(wsi, PENDING_TIMEOUT_CLOSE_SEND, LWS_TO_KILL_ASYNC);
            continue;
        }
        if (fd >= 0 && !lws_partial_buffered(wsi)) {
            struct lws_pollfd pfd = {.fd = fd, .events = LWS_POLLOUT, .revents = LWS_POLLOUT};
            lws_service_fd(ctx, &pfd); /* may close 'wsi' */
        }
    }
}

/* At the end of a turn of the loop: writes what the turn queued for each
 * WebSocket and each HTTP/1.1 answer straight to its socket (the file's
 * comment). */
static void flush_dirty(void *arg)
{
    http_srv *s = arg;
    flush_answers(s);
    while (s->dirty) {
        http_ws *ws = s->dirty->obj;
        dirty_del(ws);
        if (!ws->head)
            continue;
        if (ws->closing || ws->ping_due || ws->peer_closing || lws_partial_buffered(ws->wsi)) {
            lws_callback_on_writable(ws->wsi);
            continue;
        }
        if (ws_write_queued(ws) != 0) { /* the socket failed: lws closes it */
            ws->closing = 1;
            lws_set_timeout(ws->wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
            net__kick(lws_get_context(ws->wsi));
            continue;
        }
        if (ws->head) /* over HTTP_WS_WRITE_MAX: the rest when writable */
            lws_callback_on_writable(ws->wsi);
    }
}

void http_ws_close(http_ws *ws)
{
    ws->closing = 1;
    lws_callback_on_writable(ws->wsi);
}

size_t http_ws_backlog(const http_ws *ws)
{
    return ws->backlog;
}

/* ---- server ------------------------------------------------------------ */

/* Every agent's desktop holds a socket: raise the soft limit on open files
 * (often 1024) towards the hard one, before lws sizes its tables by it. */
#define HTTP_NOFILE_WANT 65536

static void raise_nofile(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur >= HTTP_NOFILE_WANT)
        return;
    rl.rlim_cur = rl.rlim_max < HTTP_NOFILE_WANT ? rl.rlim_max : HTTP_NOFILE_WANT;
    setrlimit(RLIMIT_NOFILE, &rl);
}

http_srv *http_new(net_loop *loop, const http_cfg *cfg, const http_handlers *h, char *err,
                   size_t errlen)
{
    http_srv *s = xcalloc(1, sizeof *s);
    s->h = *h;
    s->web_dir = xmemdup0(cfg->web_dir, strlen(cfg->web_dir));
    size_t sl = strlen(cfg->web_dir) + 8;
    s->sim_dir = xmalloc(sl);
    snprintf(s->sim_dir, sl, "%s/sim", cfg->web_dir);

    s->protos[0] = (struct lws_protocols){"textdesk", cb_ws, sizeof(pss_ws), 4096, 0, NULL, 0};
    s->protos[1] = (struct lws_protocols){"http", cb_http, sizeof(pss_http), 0, 0, NULL, 0};

    /* mounts: /api and /metrics -> callback, /sim -> web/sim, /vendor/chart.js
     * -> Debian's libjs-chart.js where it installs it (the reports page's
     * charts; scripts/deps.sh installs it), / -> web */
    struct lws_http_mount *api = &s->mounts[0], *metrics = &s->mounts[3],
                          *sim = &s->mounts[1], *root = &s->mounts[2], *chart = &s->mounts[4];
    api->mount_next = metrics;
    metrics->mount_next = chart;
    chart->mount_next = sim;
    chart->mountpoint = "/vendor/chart.js";
    chart->mountpoint_len = 16;
    chart->origin = "/usr/share/javascript/chart.js";
    chart->origin_protocol = LWSMPRO_FILE;
    metrics->mountpoint = "/metrics";
    metrics->mountpoint_len = 8;
    metrics->origin = "http";
    metrics->origin_protocol = LWSMPRO_CALLBACK;
    api->mountpoint = "/api";
    api->mountpoint_len = 4;
    api->origin = "http";
    api->origin_protocol = LWSMPRO_CALLBACK;
    sim->mount_next = root;
    sim->mountpoint = "/sim";
    sim->mountpoint_len = 4;
    sim->origin = s->sim_dir;
    sim->def = "index.html";
    sim->origin_protocol = LWSMPRO_FILE;
    root->mountpoint = "/";
    root->mountpoint_len = 1;
    root->origin = s->web_dir;
    root->def = "index.html";
    root->origin_protocol = LWSMPRO_FILE;
    /* a path no file answers goes to the request handler (cb_http), which
     * answers a page of its own, not lws's English "<h1>404</h1>" */
    root->protocol = sim->protocol = "http";

    static const char csp[] = "default-src 'self'; script-src 'self'; style-src 'self'; "
                              "img-src 'self' data:; connect-src 'self'; "
                              "frame-ancestors 'none'; base-uri 'none'; form-action 'self'";
    s->hdrs[0] = (struct lws_protocol_vhost_options){&s->hdrs[1], NULL,
                                                     "content-security-policy:", csp};
    s->hdrs[1] = (struct lws_protocol_vhost_options){&s->hdrs[2], NULL,
                                                     "x-content-type-options:", "nosniff"};
    s->hdrs[2] = (struct lws_protocol_vhost_options){&s->hdrs[3], NULL, "x-frame-options:",
                                                     "DENY"};
    s->hdrs[3] = (struct lws_protocol_vhost_options){NULL, NULL, "referrer-policy:",
                                                     "no-referrer"};
    if (cfg->tls_cert) /* browsers then refuse plain HTTP to us for a year */
        s->hdrs[3].next = &s->hdrs[4];
    s->hdrs[4] = (struct lws_protocol_vhost_options){NULL, NULL, "strict-transport-security:",
                                                     "max-age=31536000"};

    struct lws_context_creation_info info;
    memset(&info, 0, sizeof info);
    info.port = cfg->port; /* 0: a free one */
    info.iface = cfg->iface;
    info.vhost_name = "default";
    info.protocols = s->protos;
    info.mounts = api;
    info.headers = &s->hdrs[0];
    info.user = s;
    info.options = LWS_SERVER_OPTION_VALIDATE_UTF8 | LWS_SERVER_OPTION_DISABLE_IPV6;
    if (cfg->tls_cert && cfg->tls_key) {
        info.options |= LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
        info.ssl_cert_filepath = cfg->tls_cert;
        info.ssl_private_key_filepath = cfg->tls_key;
    }
    info.timeout_secs = 30;
    /* no lws validity timers: the sweep (on_sweep) does their work */
    static const lws_retry_bo_t no_validity = {.secs_since_valid_ping = 0,
                                               .secs_since_valid_hangup = 0};
    info.retry_and_idle_policy = &no_validity;
    raise_nofile();
    s->vhost = lws_create_vhost(net__lws_context(loop), &info);
    if (!s->vhost) {
        if (cfg->tls_cert)
            snprintf(err, errlen,
                     "cannot listen on %s:%d with TLS (address in use, or the certificate "
                     "%s or key %s unreadable or not a matching PEM pair?)",
                     cfg->iface, cfg->port, cfg->tls_cert, cfg->tls_key);
        else
            snprintf(err, errlen, "cannot listen on %s:%d (address in use or not allowed?)",
                     cfg->iface, cfg->port);
        free(s->web_dir);
        free(s->sim_dir);
        free(s);
        return NULL;
    }
    s->port = lws_get_vhost_listen_port(s->vhost);
    s->ping_ms = cfg->ws_ping_ms > 0 ? cfg->ws_ping_ms : HTTP_WS_PING_MS;
    s->sweep = net_timer_new(loop, on_sweep, s);
    s->turn_end = net__turn_end_new(loop, flush_dirty, s);
    net_timer_set(s->sweep, s->ping_ms < HTTP_WS_SWEEP_MS ? s->ping_ms : HTTP_WS_SWEEP_MS);
    return s;
}

int http_port(const http_srv *s)
{
    return s->port;
}

void http_stop(http_srv *s)
{
    if (s) {
        net_timer_free(s->sweep);
        s->sweep = NULL;
        net__turn_end_free(s->turn_end);
        s->turn_end = NULL;
        while (s->dirty) { /* lws writes them when writable, as on the poll loop */
            http_ws *ws = s->dirty->obj;
            lws_callback_on_writable(ws->wsi);
            dirty_del(ws);
        }
        while (s->answers) {
            pss_http *pss = s->answers->obj;
            lws_callback_on_writable(pss->wsi);
            answer_unqueue(s, pss);
        }
    }
}

void http_free(http_srv *s)
{
    if (!s)
        return;
    http_stop(s);
    free(s->web_dir);
    free(s->sim_dir);
    free(s);
}
