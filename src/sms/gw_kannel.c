#include "sms/gw_kannel.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "http/http_client.h"
#include "sms/sms_text.h"
#include "util/utf8.h"
#include "util/xalloc.h"

/* A sendsms request under way. */
typedef struct kpend {
    struct kpend *next, *prev;
    struct gw_kannel *g;
    int64_t ref;
    http_creq *req;
} kpend;

typedef struct gw_kannel {
    gw base;
    gw_kannel_cfg cfg; /* strings owned */
    http_srv *http;
    kpend *pending;
} gw_kannel;

void gw_url_escape(buf *out, str s)
{
    static const char hex[] = "0123456789ABCDEF";
    for (size_t i = 0; i < s.n; i++) {
        unsigned char c = (unsigned char)s.p[i];
        if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
            c == '-' || c == '_' || c == '.' || c == '~') {
            buf_add(out, &s.p[i], 1);
        } else {
            char e[3] = {'%', hex[c >> 4], hex[c & 15]};
            buf_add(out, e, 3);
        }
    }
}

static void arg(buf *out, const char *name, str value)
{
    buf_printf(out, "&%s=", name);
    gw_url_escape(out, value);
}

int gw_kannel_sendsms_url(const gw_kannel_cfg *cfg, const gw_out *m, buf *out)
{
    sms_info info;
    if (sms_text_analyse(m->text.p, m->text.n, &info) != 0)
        return -EILSEQ;
    /* the dlr-url as Kannel will call it; its own %-escapes are Kannel's
     * (%d type, %A SMSC reply, %T time) and get escaped once more here */
    buf dlr;
    buf_init(&dlr);
    buf_printf(&dlr, "%s/api/gw/kannel/%s/dlr?ref=%lld&type=%%d&reply=%%A&ts=%%T",
               cfg->dlr_url_base, cfg->id, (long long)m->ref);
    if (cfg->token)
        buf_printf(&dlr, "&token=%s", cfg->token);
    buf_printf(out, "%s?username=", cfg->sendsms_url);
    gw_url_escape(out, str_c(cfg->username));
    arg(out, "password", str_c(cfg->password));
    arg(out, "from", m->from);
    arg(out, "to", m->to);
    arg(out, "text", m->text);
    buf_printf(out, "&charset=UTF-8&coding=%d", info.encoding == SMS_UCS2 ? 2 : 0);
    buf_printf(out, "&dlr-mask=%d", cfg->dlr_mask);
    arg(out, "dlr-url", (str){dlr.p, dlr.n});
    if (cfg->smsc)
        arg(out, "smsc", str_c(cfg->smsc));
    buf_free(&dlr);
    return 0;
}

int gw_kannel_dlr_status(int type)
{
    switch (type) {
    case 1: /* delivered to the phone */
        return GW_DELIVERED;
    case 2:  /* failed */
    case 16: /* rejected by the SMSC */
        return GW_FAILED;
    case 8: /* accepted by the SMSC */
        return GW_SENT;
    default: /* 4 buffered, or unknown: changes nothing */
        return -1;
    }
}

int gw_kannel_send_status(int http_status, int maybe_sent)
{
    if (http_status == 0)
        return maybe_sent ? GW_UNKNOWN : GW_RETRY;
    if (http_status >= 200 && http_status < 300)
        return GW_SENT;
    if (http_status == 429 || http_status >= 500)
        return GW_RETRY; /* 503 "Temporal failure, try again later" */
    return GW_FAILED;    /* 400 bad request, 403 authorization failed */
}

static int ieq(const char *a, const char *b)
{
    return strcasecmp(a, b) == 0;
}

int gw_kannel_decode_text(str raw, const char *charset, int coding, buf *out)
{
    const char *cs = charset && *charset ? charset : coding == 2 ? "UTF-16BE" : "UTF-8";
    if (ieq(cs, "UTF-8") || ieq(cs, "UTF8")) {
        for (size_t i = 0; i < raw.n;) {
            uint32_t cp;
            size_t k = utf8_decode((const unsigned char *)raw.p + i, raw.n - i, &cp);
            if (k == 0)
                return -EILSEQ;
            i += k;
        }
        buf_add(out, raw.p, raw.n);
        return 0;
    }
    if (ieq(cs, "UTF-16BE") || ieq(cs, "UCS-2") || ieq(cs, "UCS-2BE") || ieq(cs, "UTF-16")) {
        if (raw.n % 2)
            return -EILSEQ;
        size_t cap = SMS_UCS2_DECODE_MAX(raw.n) + 1, n = 0;
        char *tmp = xmalloc(cap);
        int r = sms_ucs2_decode((const unsigned char *)raw.p, raw.n, tmp, cap, &n);
        if (r == 0)
            buf_add(out, tmp, n);
        free(tmp);
        return r == 0 ? 0 : -EILSEQ;
    }
    if (ieq(cs, "ISO-8859-1") || ieq(cs, "LATIN1") || ieq(cs, "WINDOWS-1252")) {
        /* 0x80-0x9F of windows-1252 are taken as Latin-1 controls; Kannel
         * sends these charsets only for 8-bit data */
        for (size_t i = 0; i < raw.n; i++) {
            char e[4];
            size_t k = utf8_encode((unsigned char)raw.p[i], e);
            buf_add(out, e, k);
        }
        return 0;
    }
    return -ENOTSUP;
}

/* ---- the gateway ------------------------------------------------------- */

static void pend_del(gw_kannel *g, kpend *p)
{
    if (p->prev)
        p->prev->next = p->next;
    else
        g->pending = p->next;
    if (p->next)
        p->next->prev = p->prev;
    free(p);
}

static void on_answer(void *arg, const http_client_result *r)
{
    kpend *p = arg;
    gw_kannel *g = p->g;
    int64_t ref = p->ref;
    pend_del(g, p);
    int st = gw_kannel_send_status(r->status, r->maybe_sent);
    char err[256];
    err[0] = '\0';
    if (st != GW_SENT) {
        if (r->status) {
            /* Kannel's body is one short line, e.g. "Authorization failed for sendsms" */
            size_t n = r->body.n;
            while (n && (r->body.p[n - 1] == '\n' || r->body.p[n - 1] == '\r'))
                n--;
            snprintf(err, sizeof err, "kannel: HTTP %d: %.*s", r->status, (int)(n > 200 ? 200 : n),
                     r->body.p);
        } else {
            snprintf(err, sizeof err, "kannel: %s", r->err ? r->err : "no answer");
        }
    }
    g->base.result(g->base.arg, ref, st, STR_NULL, str_c(err));
}

static int kannel_send(gw *base, const gw_out *m)
{
    gw_kannel *g = (gw_kannel *)base;
    buf url;
    buf_init(&url);
    if (gw_kannel_sendsms_url(&g->cfg, m, &url) != 0) {
        buf_free(&url);
        return -EILSEQ;
    }
    kpend *p = xcalloc(1, sizeof *p);
    p->g = g;
    p->ref = m->ref;
    http_client_opts o = {.method = "GET", .url = url.p};
    p->req = http_client_request(g->http, &o, on_answer, p);
    buf_free(&url);
    if (!p->req) {
        free(p);
        return -EINVAL;
    }
    p->next = g->pending;
    if (g->pending)
        g->pending->prev = p;
    g->pending = p;
    return 0;
}

static void kannel_free(gw *base)
{
    gw_kannel *g = (gw_kannel *)base;
    while (g->pending) {
        http_client_cancel(g->pending->req);
        pend_del(g, g->pending);
    }
    free((char *)g->cfg.id);
    free((char *)g->cfg.sendsms_url);
    free((char *)g->cfg.username);
    free((char *)g->cfg.password);
    free((char *)g->cfg.dlr_url_base);
    free((char *)g->cfg.token);
    free((char *)g->cfg.smsc);
    free(g);
}

static const gw_ops kannel_ops = {"kannel", kannel_send, kannel_free};

static char *dup_or_null(const char *s)
{
    return s ? xmemdup0(s, strlen(s)) : NULL;
}

gw *gw_kannel_new(const gw_kannel_cfg *cfg, http_srv *http, gw_result_cb cb, void *arg)
{
    gw_kannel *g = xcalloc(1, sizeof *g);
    g->base.ops = &kannel_ops;
    g->base.result = cb;
    g->base.arg = arg;
    g->http = http;
    g->cfg.id = dup_or_null(cfg->id);
    g->cfg.sendsms_url = dup_or_null(cfg->sendsms_url);
    g->cfg.username = dup_or_null(cfg->username);
    g->cfg.password = dup_or_null(cfg->password);
    g->cfg.dlr_url_base = dup_or_null(cfg->dlr_url_base);
    g->cfg.token = dup_or_null(cfg->token);
    g->cfg.smsc = dup_or_null(cfg->smsc);
    g->cfg.dlr_mask = cfg->dlr_mask ? cfg->dlr_mask : GW_KANNEL_DLR_MASK_DEFAULT;
    return &g->base;
}
