#include "sms/gw_post.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>

#include "util/xalloc.h"

struct gw_post {
    gw_post *next, *prev;
    gw_posts *l;
    int64_t ref;
    net_http_req *req;
};

static void unlink_post(gw_posts *l, gw_post *p)
{
    if (p->prev)
        p->prev->next = p->next;
    else
        l->head = p->next;
    if (p->next)
        p->next->prev = p->prev;
    free(p);
}

static void on_answer(void *arg, const net_http_result *r)
{
    gw_post *p = arg;
    gw_posts *l = p->l;
    int64_t ref = p->ref;
    unlink_post(l, p);
    int st = r->status == 0                         ? (r->maybe_sent ? GW_UNKNOWN : GW_RETRY)
             : r->status >= 200 && r->status < 300 ? GW_SENT
             : r->status == 429 || r->status >= 500 ? GW_RETRY
                                                    : GW_FAILED;
    char err[256] = "", id[128] = "";
    if (st == GW_SENT) {
        json_t *j = json_loadb(r->body.p, r->body.n, 0, NULL);
        const char *pid = json_string_value(json_object_get(j, l->id_key));
        if (pid)
            snprintf(id, sizeof id, "%s", pid);
        json_decref(j);
    } else if (r->status) {
        size_t n = r->body.n;
        while (n && (r->body.p[n - 1] == '\n' || r->body.p[n - 1] == '\r'))
            n--;
        snprintf(err, sizeof err, "%s: HTTP %d: %.*s", l->who, r->status,
                 (int)(n > 200 ? 200 : n), r->body.p);
    } else {
        snprintf(err, sizeof err, "%s: %s", l->who, r->err ? r->err : "no answer");
    }
    l->g->result(l->g->arg, ref, st, str_c(id), str_c(err));
}

int gw_posts_send(gw_posts *l, const char *url, str body, const char *const *headers,
                  int64_t ref)
{
    gw_post *p = xcalloc(1, sizeof *p);
    p->l = l;
    p->ref = ref;
    net_http_opts o = {.method = "POST",
                       .url = url,
                       .content_type = "application/json",
                       .body = body,
                       .headers = headers};
    p->req = net_http_request(l->loop, &o, on_answer, p);
    if (!p->req) {
        free(p);
        return -EINVAL;
    }
    p->next = l->head;
    if (l->head)
        l->head->prev = p;
    l->head = p;
    return 0;
}

void gw_posts_cancel(gw_posts *l)
{
    while (l->head) {
        net_http_cancel(l->head->req);
        unlink_post(l, l->head);
    }
}
