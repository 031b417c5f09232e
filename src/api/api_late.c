#include "api/api_late.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "core/cc.h"
#include "util/xalloc.h"

typedef struct late {
    http_defer *d;
    const char *ctype;
    char *body;
    int json;
} late;

static void fill(http_resp *r, const char *ctype, const char *body)
{
    r->status = 200;
    r->content_type = ctype;
    if (body)
        buf_add(&r->body, body, strlen(body));
}

void api_late_unavailable(http_resp *r, int json)
{
    r->status = 503;
    if (!json) {
        r->content_type = "text/plain; charset=utf-8";
        buf_add(&r->body, cc_err_msg(-CC_E_STORE), strlen(cc_err_msg(-CC_E_STORE)));
        return;
    }
    r->content_type = "application/json";
    json_t *j = json_pack("{s:s, s:s}", "error", cc_err_code(-CC_E_STORE), "message",
                          cc_err_msg(-CC_E_STORE));
    char *s = json_dumps(j, JSON_COMPACT);
    if (s)
        buf_add(&r->body, s, strlen(s));
    free(s);
    json_decref(j);
}

static void send_late(void *arg, int status)
{
    late *l = arg;
    http_resp r = {.status = 200};
    buf_init(&r.body);
    if (status < 0)
        api_late_unavailable(&r, l->json);
    else
        fill(&r, l->ctype, l->body);
    http_defer_complete(l->d, &r);
    buf_free(&r.body);
    free(l->body);
    free(l);
}

void api_late_respond(api_after_commit_fn after, void *app, const http_req *req,
                      http_resp *resp, const char *content_type, char *body, int json)
{
    if (!after) {
        fill(resp, content_type, body);
        free(body);
        return;
    }
    late *l = xmalloc(sizeof *l);
    *l = (late){http_defer_begin(req), content_type, body, json};
    after(app, send_late, l);
}
