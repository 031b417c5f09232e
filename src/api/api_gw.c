/*
 * api_gw.c: the inbound router (api_gw.h). A gw_call lives on the heap from
 * the request until its answer: inside the gateway's 'http' it writes the
 * handler's response; later (after a commit) it completes the deferred
 * request, or just frees itself when the client went away (http_defer).
 */
#include "api/api_gw.h"

#include <stdlib.h>
#include <string.h>

#include "util/xalloc.h"

typedef struct call {
    gw_call c;             /* first: the gateway's handle */
    const http_req *req;   /* during the handler only */
    http_resp *resp;       /* likewise */
    http_defer *d;         /* after it, when not answered */
    int in_handler, answered;
} call;

static int c_header(gw_call *c, const char *name, char *out, size_t cap)
{
    call *k = (call *)c;
    return k->req ? http_req_header(k->req, name, out, cap) : -1;
}

static int c_arg(gw_call *c, const char *name, char *out, size_t cap)
{
    call *k = (call *)c;
    return k->req ? http_req_arg(k->req, name, out, cap) : -1;
}

static void fill(http_resp *r, int status, const char *ctype, const char *body)
{
    r->status = status;
    r->content_type = ctype;
    if (body)
        buf_add(&r->body, body, strlen(body));
}

static void c_answer(gw_call *c, int status, const char *ctype, const char *body)
{
    call *k = (call *)c;
    if (k->in_handler) {
        fill(k->resp, status, ctype, body);
        k->answered = 1;
        return;
    }
    http_resp r = {0};
    buf_init(&r.body);
    fill(&r, status, ctype, body);
    http_defer_complete(k->d, &r);
    buf_free(&r.body);
    free(k);
}

static void not_found(http_resp *resp, const char *msg)
{
    char b[200];
    snprintf(b, sizeof b, "{\"error\":\"not_found\",\"message\":\"%s\"}", msg);
    fill(resp, 404, "application/json", b);
}

void api_gw_request(api_gw_find find, void *app, const http_req *req, http_resp *resp)
{
    /* /api/gw/<type>/<id>/<endpoint> */
    const char *p = req->path + 8, *s1 = strchr(p, '/');
    const char *s2 = s1 ? strchr(s1 + 1, '/') : NULL;
    if (!s1 || !s2 || strchr(s2 + 1, '/')) {
        not_found(resp, "use /api/gw/<type>/<id>/<endpoint>");
        return;
    }
    str type = {p, (size_t)(s1 - p)}, id = {s1 + 1, (size_t)(s2 - s1 - 1)};
    gw *g = find ? find(app, id) : NULL;
    if (!g || !str_eq(type, str_c(g->ops->name)) || !g->ops->http) {
        not_found(resp, "no such gateway of that type: check the type and id against the configuration's gateways");
        return;
    }
    api_gw_call(g, s2 + 1, req, resp);
}

void api_gw_call(gw *g, const char *endpoint, const http_req *req, http_resp *resp)
{
    if (!g->ops->http) {
        not_found(resp, "no such gateway of that type: check the type and id against the configuration's gateways");
        return;
    }
    call *k = xcalloc(1, sizeof *k);
    k->c = (gw_call){.method = req->method,
                     .endpoint = endpoint,
                     .body = req->body,
                     .header = c_header,
                     .arg = c_arg,
                     .answer = c_answer};
    k->req = req;
    k->resp = resp;
    k->in_handler = 1;
    g->ops->http(g, &k->c);
    k->in_handler = 0;
    k->req = NULL;
    k->resp = NULL;
    k->c.body = STR_NULL;
    k->c.method = k->c.endpoint = "";
    if (k->answered)
        free(k);
    else
        k->d = http_defer_begin(req);
}
