#include "sms/gw_kannel.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "net/net_http.h"
#include "sms/gw_conf.h"
#include "sms/gw_http.h"
#include "sms/sms_text.h"
#include "util/hmap.h"
#include "util/utf8.h"
#include "util/xalloc.h"

/* A message sent in parts (GW_KANNEL_PARTS_MAX at most): which parts
 * Kannel accepted (a resend skips them) and which the handset has. Kept
 * from its first send or report until the table is full (the oldest goes
 * first), so that late reports still find it. */
typedef struct kmsg {
    struct kmsg *next; /* FIFO, oldest first */
    int64_t ref;
    unsigned nparts, ndelivered;
    int sending; /* a send of ours is under way */
    int done;    /* its final status (delivered or failed) was reported */
    uint64_t accepted[4], delivered[4];
} kmsg;

/* A send under way: its sendsms requests go one after the other. */
typedef struct kpend {
    struct kpend *next, *prev;
    struct gw_kannel *g;
    int64_t ref;
    net_http_req *req;
    buf *urls; /* one per part (one for a single-part message) */
    size_t nurl, cur;
    kmsg *msg; /* NULL for a single-part message */
} kpend;

typedef struct gw_kannel {
    gw base;
    gw_kannel_cfg cfg; /* strings owned */
    net_loop *loop;
    gw_port port; /* inbound: the application */
    kpend *pending;
    hmap msgs; /* kmsg by ref */
    kmsg *head, *tail;
    size_t nmsgs, max_msgs;
} gw_kannel;

#define BIT_GET(a, i) (((a)[(i) >> 6] >> ((i)&63)) & 1)
#define BIT_SET(a, i) ((a)[(i) >> 6] |= (uint64_t)1 << ((i)&63))

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

/* Appends the sendsms URL of one SMS: the whole message when 'parts' is 0,
 * else part 'part' of 'parts' with the concatenation UDH 'udh' (6 bytes).
 * 'text' is UTF-8. */
static void sendsms_url(const gw_kannel_cfg *cfg, const gw_out *m, str text, int ucs2,
                        unsigned part, unsigned parts, const unsigned char *udh, buf *out)
{
    /* the dlr-url as Kannel will call it; its own %-escapes are Kannel's
     * (%d type, %A SMSC reply, %T time) and get escaped once more here */
    buf dlr;
    buf_init(&dlr);
    buf_printf(&dlr, "%s/api/gw/kannel/%s/dlr?ref=%lld", cfg->dlr_url_base, cfg->id,
               (long long)m->ref);
    if (parts)
        buf_printf(&dlr, "&part=%u&parts=%u", part, parts);
    buf_printf(&dlr, "&type=%%d&reply=%%A&ts=%%T");
    if (cfg->token)
        buf_printf(&dlr, "&token=%s", cfg->token);
    buf_printf(out, "%s?username=", cfg->sendsms_url);
    gw_url_escape(out, str_c(cfg->username));
    arg(out, "password", str_c(cfg->password));
    arg(out, "from", m->from);
    arg(out, "to", m->to);
    arg(out, "text", text);
    buf_printf(out, "&charset=UTF-8&coding=%d", ucs2 ? 2 : 0);
    if (parts)
        arg(out, "udh", (str){(const char *)udh, 6});
    buf_printf(out, "&dlr-mask=%d", cfg->dlr_mask);
    arg(out, "dlr-url", (str){dlr.p, dlr.n});
    if (cfg->smsc)
        arg(out, "smsc", str_c(cfg->smsc));
    buf_free(&dlr);
}

int gw_kannel_sendsms_url(const gw_kannel_cfg *cfg, const gw_out *m, buf *out)
{
    sms_info info;
    if (sms_text_analyse(m->text.p, m->text.n, &info) != 0)
        return -EILSEQ;
    sendsms_url(cfg, m, m->text, info.encoding == SMS_UCS2, 0, 0, NULL, out);
    return 0;
}

int gw_kannel_sendsms_urls(const gw_kannel_cfg *cfg, const gw_out *m, buf **urls, size_t *count)
{
    sms_info info;
    *urls = NULL;
    *count = 0;
    if (sms_text_analyse(m->text.p, m->text.n, &info) != 0)
        return -EILSEQ;
    if (info.segments <= 1) {
        buf *u = xcalloc(1, sizeof *u);
        buf_init(u);
        sendsms_url(cfg, m, m->text, info.encoding == SMS_UCS2, 0, 0, NULL, u);
        *urls = u;
        *count = 1;
        return 0;
    }
    if (info.segments > GW_KANNEL_PARTS_MAX)
        return -EMSGSIZE;
    sms_segment *sg = xmalloc(info.segments * sizeof *sg);
    size_t n = 0;
    int r = sms_text_split(m->text.p, m->text.n, sg, info.segments, &n, NULL);
    if (r != 0) {
        free(sg);
        return r == -EILSEQ ? -EILSEQ : -EPROTO;
    }
    buf *u = xcalloc(n, sizeof *u);
    /* each segment decodes on its own (sms_text_split never cuts an ESC or
     * a surrogate pair), so its UTF-8 is exactly that piece of the text */
    char text[SMS_GSM7_DECODE_MAX(SMS_SEGMENT_MAX_BYTES) + 1];
    for (size_t i = 0; i < n; i++) {
        size_t tn = 0;
        int ucs2 = info.encoding == SMS_UCS2;
        int dr = ucs2 ? sms_ucs2_decode(sg[i].data, sg[i].len, text, sizeof text, &tn)
                      : sms_gsm7_decode(sg[i].data, sg[i].len, text, sizeof text, &tn);
        (void)dr; /* cannot fail: 'text' has the decoders' worst case */
        unsigned char udh[6];
        sms_udh_concat(udh, gw_kannel_concat_ref(m->ref), (uint8_t)n, (uint8_t)(i + 1));
        buf_init(&u[i]);
        sendsms_url(cfg, m, (str){text, tn}, ucs2, (unsigned)(i + 1), (unsigned)n, udh, &u[i]);
    }
    free(sg);
    *urls = u;
    *count = n;
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

/* ---- parts and their reports ----------------------------------------- */

static int kmsg_eq(const void *elem, const void *key)
{
    return ((const kmsg *)elem)->ref == *(const int64_t *)key;
}

static kmsg *kmsg_find(gw_kannel *g, int64_t ref)
{
    return hmap_get(&g->msgs, hmap_hash_u64((uint64_t)ref), kmsg_eq, &ref);
}

/* The record of message 'ref' in 'nparts' parts, made if needed. */
static kmsg *kmsg_get(gw_kannel *g, int64_t ref, unsigned nparts)
{
    kmsg *k = kmsg_find(g, ref);
    if (k)
        return k;
    while (g->nmsgs >= g->max_msgs && g->head) {
        kmsg *old = g->head;
        if (old->sending) /* still needed by its send: keep (rare) */
            break;
        g->head = old->next;
        if (!g->head)
            g->tail = NULL;
        hmap_del(&g->msgs, hmap_hash_u64((uint64_t)old->ref), kmsg_eq, &old->ref);
        g->nmsgs--;
        free(old);
    }
    k = xcalloc(1, sizeof *k);
    k->ref = ref;
    k->nparts = nparts;
    hmap_put(&g->msgs, hmap_hash_u64((uint64_t)ref), k);
    if (g->tail)
        g->tail->next = k;
    else
        g->head = k;
    g->tail = k;
    g->nmsgs++;
    return k;
}

int gw_kannel_part_report(gw *base, int64_t ref, unsigned part, unsigned parts, int status)
{
    gw_kannel *g = (gw_kannel *)base;
    if (parts < 2 || parts > GW_KANNEL_PARTS_MAX || part < 1 || part > parts)
        return -1;
    kmsg *k = kmsg_get(g, ref, parts);
    if (k->done || part > k->nparts)
        return -1;
    switch (status) {
    case GW_FAILED:
        k->done = 1;
        return GW_FAILED;
    case GW_DELIVERED:
        if (!BIT_GET(k->delivered, part - 1)) {
            BIT_SET(k->delivered, part - 1);
            k->ndelivered++;
        }
        if (k->ndelivered == k->nparts) {
            k->done = 1;
            return GW_DELIVERED;
        }
        /* one part on the phone: the message is at least sent */
        return k->sending ? -1 : GW_SENT;
    case GW_SENT:
        /* not while our own send of the other parts goes on: its answer
         * says when the message is sent (and frees the conversation) */
        return k->sending ? -1 : GW_SENT;
    default:
        return -1;
    }
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
    if (p->msg)
        p->msg->sending = 0;
    for (size_t i = 0; i < p->nurl; i++)
        buf_free(&p->urls[i]);
    free(p->urls);
    free(p);
}

static void on_answer(void *arg, const net_http_result *r);

/* Starts the request of the next part Kannel has not accepted yet.
 * Returns 1 when one started, 0 when every part is accepted, -1 when the
 * URL is unusable. */
static int send_next(kpend *p)
{
    while (p->cur < p->nurl && p->msg && BIT_GET(p->msg->accepted, p->cur))
        p->cur++;
    if (p->cur == p->nurl)
        return 0;
    net_http_opts o = {.method = "GET", .url = p->urls[p->cur].p};
    p->req = net_http_request(p->g->loop, &o, on_answer, p);
    return p->req ? 1 : -1;
}

static void on_answer(void *arg, const net_http_result *r)
{
    kpend *p = arg;
    gw_kannel *g = p->g;
    int64_t ref = p->ref;
    int st = gw_kannel_send_status(r->status, r->maybe_sent);
    p->req = NULL;
    if (st == GW_SENT) {
        if (p->msg)
            BIT_SET(p->msg->accepted, p->cur);
        p->cur++;
        int more = send_next(p);
        if (more == 1)
            return;
        if (more < 0) /* cannot happen: the first part's URL was usable */
            st = GW_RETRY;
    }
    char err[256];
    err[0] = '\0';
    if (st != GW_SENT) {
        char part[48] = "";
        if (p->msg)
            snprintf(part, sizeof part, "part %zu/%zu: ", p->cur + 1, p->nurl);
        if (r->status) {
            /* Kannel's body is one short line, e.g. "Authorization failed for sendsms" */
            size_t n = r->body.n;
            while (n && (r->body.p[n - 1] == '\n' || r->body.p[n - 1] == '\r'))
                n--;
            snprintf(err, sizeof err, "kannel: %sHTTP %d: %.*s", part, r->status,
                     (int)(n > 200 ? 200 : n), r->body.p);
        } else {
            snprintf(err, sizeof err, "kannel: %s%s", part, r->err ? r->err : "no answer");
        }
    }
    pend_del(g, p);
    g->base.result(g->base.arg, ref, st, STR_NULL, str_c(err));
}

static int kannel_send(gw *base, const gw_out *m)
{
    gw_kannel *g = (gw_kannel *)base;
    kpend *p = xcalloc(1, sizeof *p);
    int r = gw_kannel_sendsms_urls(&g->cfg, m, &p->urls, &p->nurl);
    if (r != 0) {
        free(p);
        return r;
    }
    p->g = g;
    p->ref = m->ref;
    if (p->nurl > 1) {
        /* a resend (after a refusal for now) skips the parts Kannel took */
        kmsg *k = kmsg_get(g, m->ref, (unsigned)p->nurl);
        if (k->sending) { /* the outbox never sends a message twice at once */
            pend_del(g, p);
            return -EBUSY;
        }
        if (k->nparts != p->nurl) /* a report's 'parts' was wrong: start over */
            *k = (kmsg){.next = k->next, .ref = k->ref, .nparts = (unsigned)p->nurl};
        p->msg = k;
        k->sending = 1;
    }
    p->next = g->pending;
    if (g->pending)
        g->pending->prev = p;
    g->pending = p;
    r = send_next(p);
    if (r <= 0) { /* unusable URL; (0: every part was accepted before) */
        pend_del(g, p);
        if (r == 0) {
            g->base.result(g->base.arg, m->ref, GW_SENT, STR_NULL, STR_NULL);
            return 0;
        }
        return -EINVAL;
    }
    return 0;
}

static void kannel_free(gw *base)
{
    gw_kannel *g = (gw_kannel *)base;
    while (g->pending) {
        if (g->pending->req)
            net_http_cancel(g->pending->req);
        pend_del(g, g->pending);
    }
    while (g->head) {
        kmsg *k = g->head;
        g->head = k->next;
        free(k);
    }
    hmap_free(&g->msgs);
    free((char *)g->cfg.id);
    free((char *)g->cfg.sendsms_url);
    free((char *)g->cfg.username);
    free((char *)g->cfg.password);
    free((char *)g->cfg.dlr_url_base);
    free((char *)g->cfg.token);
    free((char *)g->cfg.smsc);
    free(g);
}

static void kannel_http(gw *base, gw_call *c);
static const gw_ops kannel_ops = {"kannel", kannel_send, kannel_free, kannel_http};

static char *dup_or_null(const char *s)
{
    return s ? xmemdup0(s, strlen(s)) : NULL;
}

gw *gw_kannel_new(const gw_kannel_cfg *cfg, net_loop *loop, gw_result_cb cb, void *arg)
{
    gw_kannel *g = xcalloc(1, sizeof *g);
    g->base.ops = &kannel_ops;
    g->base.result = cb;
    g->base.arg = arg;
    g->loop = loop;
    g->cfg.id = dup_or_null(cfg->id);
    g->cfg.sendsms_url = dup_or_null(cfg->sendsms_url);
    g->cfg.username = dup_or_null(cfg->username);
    g->cfg.password = dup_or_null(cfg->password);
    g->cfg.dlr_url_base = dup_or_null(cfg->dlr_url_base);
    g->cfg.token = dup_or_null(cfg->token);
    g->cfg.smsc = dup_or_null(cfg->smsc);
    g->cfg.dlr_mask = cfg->dlr_mask ? cfg->dlr_mask : GW_KANNEL_DLR_MASK_DEFAULT;
    hmap_init(&g->msgs);
    g->max_msgs = GW_KANNEL_TRACK_MAX;
    return &g->base;
}

/* ---- inbound: Kannel's get-url / post-url (mo) and dlr-url (dlr) -------- */

#define ARG_MAX 4096

static void answer_text(gw_call *c, int status, const char *text)
{
    c->answer(c, status, "text/plain; charset=utf-8", text);
}

/* The port's verdict, as Kannel wants it: an empty 200 (an empty body
 * never becomes a reply SMS) or 503 so that Kannel retries. */
static void in_done(void *arg, int in, const char *code, const char *msg)
{
    (void)code;
    gw_call *c = arg;
    if (in == GW_IN_UNAVAILABLE)
        answer_text(c, 503, msg);
    else
        answer_text(c, 200, "");
}

static void kannel_mo(gw_kannel *g, gw_call *c)
{
    char from[64], to[64], id[128], charset[64] = "", coding[8] = "";
    if (c->arg(c, "from", from, sizeof from) <= 0 || c->arg(c, "to", to, sizeof to) <= 0 ||
        c->arg(c, "id", id, sizeof id) <= 0) {
        answer_text(c, 400, "from, to and id (Kannel's %p, %P, %I) are required: add them to"
                            " the post-url");
        return;
    }
    c->arg(c, "charset", charset, sizeof charset);
    c->arg(c, "coding", coding, sizeof coding);
    str raw;
    char *text = NULL;
    if (strcmp(c->method, "POST") == 0) { /* post-url: the body is the message */
        raw = c->body;
        char ct[128];
        if (!charset[0] && c->header(c, "Content-Type", ct, sizeof ct) > 0)
            gw_http_content_charset(ct, charset, sizeof charset);
        if (!coding[0])
            c->header(c, "X-Kannel-Coding", coding, sizeof coding);
    } else {
        text = xmalloc(ARG_MAX);
        int n = c->arg(c, "text", text, ARG_MAX);
        raw = (str){text, n > 0 ? (size_t)n : 0};
    }
    buf utf8;
    buf_init(&utf8);
    int r = gw_kannel_decode_text(raw, charset, (int)strtol(coding, NULL, 10), &utf8);
    /* undecodable text goes on as it came: the core refuses it and the
     * store keeps it among the refused inbound messages */
    str t = r == 0 ? (str){utf8.p ? utf8.p : "", utf8.n} : raw;
    char mid[300];
    snprintf(mid, sizeof mid, "%s:%.250s", g->cfg.id, id);
    g->port.sms_in(g->port.app, str_c(from), str_c(to), t, str_c(mid), in_done, c);
    buf_free(&utf8);
    free(text);
}

static void kannel_dlr(gw_kannel *g, gw_call *c)
{
    char ref[32], type[16], reply[512] = "";
    if (c->arg(c, "ref", ref, sizeof ref) <= 0 || c->arg(c, "type", type, sizeof type) <= 0) {
        answer_text(c, 400, "ref and type are required: textdesk's dlr-url carries them");
        return;
    }
    c->arg(c, "reply", reply, sizeof reply);
    int64_t r;
    int st = gw_kannel_dlr_status((int)strtol(type, NULL, 10));
    if (gw_http_ref_parse(str_c(ref), &r) != 0) {
        answer_text(c, 400, "ref must be a reference");
        return;
    }
    /* one part of a message sent in parts: the parts' reports combine
     * into the message's status */
    char part_s[8] = "", parts_s[8] = "", where[32] = "";
    if (c->arg(c, "parts", parts_s, sizeof parts_s) > 0) {
        c->arg(c, "part", part_s, sizeof part_s);
        unsigned part = (unsigned)strtoul(part_s, NULL, 10);
        unsigned parts = (unsigned)strtoul(parts_s, NULL, 10);
        if (st >= 0)
            st = gw_kannel_part_report(&g->base, r, part, parts, st);
        snprintf(where, sizeof where, " (part %u/%u)", part, parts);
    }
    if (st < 0) {
        answer_text(c, 200, "");
        return;
    }
    char err[600] = "";
    if (st == GW_FAILED)
        snprintf(err, sizeof err, "kannel: delivery report %s%s: %s", type, where,
                 reply[0] ? reply : "failed");
    /* not ours (any more): 200 all the same, nothing to retry */
    g->port.report_in(g->port.app, r, STR_NULL, st, str_c(err), in_done, c);
}

static void kannel_http(gw *base, gw_call *c)
{
    gw_kannel *g = (gw_kannel *)base;
    if (g->cfg.token) {
        char t[160];
        int n = c->arg(c, "token", t, sizeof t);
        if (n < 0 || strcmp(t, g->cfg.token) != 0) {
            answer_text(c, 403, "bad token: the URL's token= must be this gateway's \"token\""
                                " in textdesk's configuration");
            return;
        }
    }
    if (strcmp(c->endpoint, "mo") == 0)
        kannel_mo(g, c);
    else if (strcmp(c->endpoint, "dlr") == 0)
        kannel_dlr(g, c);
    else
        answer_text(c, 404, "no such endpoint (mo, dlr)");
}

/* ---- the type ------------------------------------------------------------ */

static int kannel_config(const json_t *o, const char *id, void **out, char *err, size_t n)
{
    static const char *const keys[] = {"id",       "type",     "sendsms_url", "username",
                                       "password", "dlr_url_base", "token",   "smsc",
                                       "dlr_mask", NULL};
    gw_kannel_cfg k = {.id = id, .dlr_mask = GW_KANNEL_DLR_MASK_DEFAULT};
    long long mask = GW_KANNEL_DLR_MASK_DEFAULT;
    if (gw_conf_only(o, keys, err, n) || gw_conf_url(o, "sendsms_url", 0, &k.sendsms_url, err, n) ||
        gw_conf_str(o, "username", 1, &k.username, err, n) ||
        gw_conf_str(o, "password", 1, &k.password, err, n) ||
        gw_conf_url(o, "dlr_url_base", 1, &k.dlr_url_base, err, n) ||
        gw_conf_str(o, "token", 0, &k.token, err, n) || gw_conf_str(o, "smsc", 0, &k.smsc, err, n))
        return -1;
    if (k.token && !gw_conf_id_ok(k.token, 128))
        return gw_conf_fail(err, n, "token", "must be 1..128 of A-Z a-z 0-9 - _");
    json_t *m = json_object_get(o, "dlr_mask");
    if (m && (!json_is_integer(m) || json_integer_value(m) < 1 || json_integer_value(m) > 31))
        return gw_conf_fail(err, n, "dlr_mask", "must be a whole number 1..31 (Kannel's dlr-mask)");
    if (m)
        mask = json_integer_value(m);
    k.dlr_mask = (int)mask;
    gw_kannel_cfg *c = xmalloc(sizeof *c);
    *c = k;
    *out = c;
    return 0;
}

static gw *kannel_open(const void *cfg, net_loop *loop, const gw_port *port, gw_result_cb cb,
                       void *arg)
{
    gw_kannel *g = (gw_kannel *)gw_kannel_new(cfg, loop, cb, arg);
    g->port = *port;
    return &g->base;
}

const gw_type gw_kannel_type = {"kannel", kannel_config, free, kannel_open};
