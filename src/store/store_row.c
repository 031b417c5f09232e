/*
 * store_row: the event <-> columns rules both store backends share
 * (store_row.h).
 */
#include "store/store_row.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/xalloc.h"

_Static_assert(CC_EV_CONV_OPENED == 15 && CC_EV_WRAPPED_UP == 30 && CC_EV_CLOSED == 32 &&
                   CC_EV_QUEUED == 18 && CC_EV_TRANSFERRED == 22 &&
                   CC_EV_OWNER_CHANGED == 23 && CC_EV_CONF_JOINED == 25 &&
                   CC_EV_CONF_LEFT == 27 && CC_EV_TERMINATED == 31 &&
                   CC_EV_OPTED_OUT == 35 && CC_EV_OPTED_IN == 36 &&
                   CC_EV_CSAT_ANSWERED == 45 && CC_EV_NOTE == 47 &&
                   CC_EV_SUP_LEFT == 50,
               "event type numbers are stored: append new events at the end of CC_EVENTS");
_Static_assert(CC_EV_AGENT_STATE == 13 && CC_EV_MSG_IN == 16 && CC_EV_MSG_OUT == 17 &&
                   CC_EV_ACCEPTED == 21 && CC_EV_ENDED == 28,
               "STORE_ROW_T_FEED: event type numbers are stored");
_Static_assert(CC_EV_AGENT_PUT == 2, "STORE_ROW_REPORT_SELECT: event type numbers are stored");
_Static_assert(STORE_MSG_SENT == 3, "the msg_statuses trigger records statuses from sent on");
_Static_assert(STORE_ROW_NINT + 1 + STORE_ROW_NSTR == STORE_ROW_NCOLS, "event columns");

void store_row_buf_free(store_row_buf *b)
{
    free(b->blob);
    free(b->rep);
    free(b->ids);
    free(b->flow_out);
    json_decref(b->flow_doc);
    memset(b, 0, sizeof *b);
}

int store_row_is_msg(int type)
{
    return type == CC_EV_MSG_IN || type == CC_EV_MSG_OUT;
}

const char *store_row_check(const cc_event *ev)
{
    if (ev == NULL || ev->type < 0 || ev->type >= CC_EV__COUNT)
        return "unknown event type";
    if (ev->seq == 0 || ev->seq > INT64_MAX)
        return "event sequence out of range";
    if (ev->n_ids > STORE_ROW_IDS_MAX || (ev->n_ids && ev->ids == NULL))
        return "bad id list";
    return NULL;
}

static str encode_ids(store_row_buf *b, const uint32_t *ids, size_t n)
{
    if (n == 0)
        return STR_NULL;
    if (n * 4 > b->blob_cap) {
        b->blob_cap = n * 4;
        b->blob = xrealloc(b->blob, b->blob_cap);
    }
    for (size_t i = 0; i < n; i++) {
        b->blob[4 * i] = (unsigned char)ids[i];
        b->blob[4 * i + 1] = (unsigned char)(ids[i] >> 8);
        b->blob[4 * i + 2] = (unsigned char)(ids[i] >> 16);
        b->blob[4 * i + 3] = (unsigned char)(ids[i] >> 24);
    }
    return (str){(const char *)b->blob, n * 4};
}

int store_row_ids_decode(store_row_buf *b, str blob, const uint32_t **ids, size_t *n)
{
    *ids = NULL;
    *n = 0;
    if (blob.n == 0)
        return 0;
    if (blob.n % 4)
        return -1;
    size_t k = blob.n / 4;
    if (k > b->ids_cap) {
        b->ids_cap = k;
        b->ids = xrealloc(b->ids, k * sizeof *b->ids);
    }
    const unsigned char *p = (const unsigned char *)blob.p;
    for (size_t i = 0; i < k; i++)
        b->ids[i] = (uint32_t)p[4 * i] | (uint32_t)p[4 * i + 1] << 8 |
                    (uint32_t)p[4 * i + 2] << 16 | (uint32_t)p[4 * i + 3] << 24;
    *ids = b->ids;
    *n = k;
    return 0;
}

void store_row_from_event(store_row_buf *b, const cc_event *ev, store_ev_row *row)
{
    int64_t *i = row->i;
    *i++ = (int64_t)ev->seq;
    *i++ = ev->type;
    *i++ = ev->at;
    *i++ = ev->conv;
    *i++ = ev->agent;
    *i++ = ev->target;
    *i++ = ev->queue;
    *i++ = ev->team;
    *i++ = ev->ep;
    *i++ = ev->reason;
    *i++ = ev->fallback;
    *i++ = ev->capacity;
    *i++ = ev->msg_seq;
    *i++ = ev->state;
    *i++ = ev->kind;
    *i++ = ev->code;
    *i++ = ev->deadline;
    *i++ = ev->key;
    *i++ = ev->rona_ms;
    *i++ = ev->autowrap_ms;
    *i++ = ev->grace_ms;
    row->ids = encode_ids(b, ev->ids, ev->n_ids);
    str *s = row->s;
    *s++ = ev->name;
    *s++ = ev->number;
    *s++ = ev->ep_number;
    *s++ = store_row_is_msg(ev->type) ? STR_NULL : ev->text; /* text: message row */
    *s++ = ev->msg_id;
    *s++ = ev->var_key;
    free(b->flow_out);
    b->flow_out = NULL;
    if (ev->type == CC_EV_EP_PUT && ev->flow && !flow_json_empty(ev->flow)) {
        json_t *o = json_object();
        flow_json_put(o, ev->flow, 1);
        b->flow_out = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
        json_decref(o);
        *s++ = str_c(b->flow_out);
    } else {
        *s++ = ev->value;
    }
    *s++ = ev->queue_name;
    for (int k = 0; k < STORE_ROW_NSTR; k++)
        if (row->s[k].n == 0)
            row->s[k] = STR_NULL;
}

/* An EP_PUT's flow from its stored JSON. */
static int load_flow(store_row_buf *b, cc_event *ev)
{
    json_decref(b->flow_doc);
    b->flow_doc = json_loadb(ev->value.p, ev->value.n, 0, NULL);
    flow_json_err err;
    if (!b->flow_doc || flow_json_parse(b->flow_doc, 1, &b->flow, b->flow_rule, &err) < 0)
        return -1;
    ev->flow = &b->flow;
    ev->value = STR_NULL;
    return 0;
}

int store_row_to_event(store_row_buf *b, const store_ev_row *row, cc_event *ev, char *err,
                       size_t n)
{
    memset(ev, 0, sizeof *ev);
    const int64_t *i = row->i;
    ev->seq = (uint64_t)*i++;
    ev->type = (int)*i++;
    ev->at = *i++;
    ev->conv = (uint32_t)*i++;
    ev->agent = (uint32_t)*i++;
    ev->target = (uint32_t)*i++;
    ev->queue = (uint32_t)*i++;
    ev->team = (uint32_t)*i++;
    ev->ep = (uint32_t)*i++;
    ev->reason = (uint32_t)*i++;
    ev->fallback = (uint32_t)*i++;
    ev->capacity = (uint32_t)*i++;
    ev->msg_seq = (uint32_t)*i++;
    ev->state = (int)*i++;
    ev->kind = (int)*i++;
    ev->code = (int)*i++;
    ev->deadline = *i++;
    ev->key = *i++;
    ev->rona_ms = *i++;
    ev->autowrap_ms = *i++;
    ev->grace_ms = *i++;
    const uint32_t *ids;
    size_t nids;
    if (store_row_ids_decode(b, row->ids, &ids, &nids) != 0) {
        snprintf(err, n, "event %llu: corrupt id list (%zu bytes)",
                 (unsigned long long)ev->seq, row->ids.n);
        return -EIO;
    }
    ev->ids = ids;
    ev->n_ids = nids;
    const str *s = row->s;
    ev->name = *s++;
    ev->number = *s++;
    ev->ep_number = *s++;
    ev->text = *s++;
    ev->msg_id = *s++;
    ev->var_key = *s++;
    ev->value = *s++;
    ev->queue_name = *s++;
    if (ev->type == CC_EV_EP_PUT && ev->value.n && load_flow(b, ev) != 0) {
        snprintf(err, n, "event %llu: bad entry point flow", (unsigned long long)ev->seq);
        return -EIO;
    }
    return 0;
}

void store_row_msg(const cc_event *ev, store_msg *m)
{
    int out = ev->type == CC_EV_MSG_OUT;
    *m = (store_msg){
        .id = (int64_t)ev->seq,
        .conv = ev->conv,
        .seq = ev->msg_seq,
        .outbound = out,
        .agent = out ? ev->agent : 0,
        .number = ev->number,
        .ep_number = ev->ep_number,
        .text = ev->text,
        .provider_id = out ? STR_NULL : ev->msg_id,
        .status = out ? STORE_MSG_QUEUED : STORE_MSG_RECEIVED,
        .at = ev->at,
        .status_at = ev->at,
    };
}

void store_row_copy2(char *dst, str *a, str *b)
{
    if (a->n)
        memcpy(dst, a->p, a->n);
    dst[a->n] = '\0';
    char *d2 = dst + a->n + 1;
    if (b->n)
        memcpy(d2, b->p, b->n);
    d2[b->n] = '\0';
    *a = (str){a->n ? dst : NULL, a->n};
    *b = (str){b->n ? d2 : NULL, b->n};
}

/* The fields of the report's read (type .. code, 11 values in 'f') and
 * 'seq' into 'ev', every other field zero. */
static void report_fields(cc_event *ev, uint64_t seq, const int64_t *f)
{
    memset(ev, 0, sizeof *ev);
    ev->seq = seq;
    ev->type = (int)f[0];
    ev->at = f[1];
    ev->conv = (uint32_t)f[2];
    ev->agent = (uint32_t)f[3];
    ev->target = (uint32_t)f[4];
    ev->queue = (uint32_t)f[5];
    ev->ep = (uint32_t)f[6];
    ev->reason = (uint32_t)f[7];
    ev->state = (int)f[8];
    ev->kind = (int)f[9];
    ev->code = (int)f[10];
}

int store_row_report_event(store_row_buf *b, const int64_t *v, str ids, cc_event *ev, char *err,
                           size_t n)
{
    report_fields(ev, (uint64_t)v[0], v + 1);
    if (ids.n && store_row_ids_decode(b, ids, &ev->ids, &ev->n_ids) != 0) {
        snprintf(err, n, "event %llu: corrupt id list (%zu bytes)",
                 (unsigned long long)ev->seq, ids.n);
        return -EIO;
    }
    return 0;
}

int store_row_report_segments(const cc_event *ev, int have, int64_t segments, str text)
{
    if (ev->type != CC_EV_MSG_OUT)
        return 0;
    return have ? (int)segments : store_text_segments(text);
}

/* ---- the row readers ------------------------------------------------------ */

static inline int64_t ci(const store_row_in *in, int col)
{
    return in->i64(in, col);
}

static inline str cs(const store_row_in *in, int col)
{
    return in->s(in, col);
}

int store_row_msg_read(const store_row_in *in, const store_row_cb *c)
{
    store_msg m = {
        .id = ci(in, 0),
        .conv = (uint32_t)ci(in, 1),
        .seq = (uint32_t)ci(in, 2),
        .outbound = (int)ci(in, 3),
        .agent = (uint32_t)ci(in, 4),
        .number = cs(in, 5),
        .ep_number = cs(in, 6),
        .text = cs(in, 7),
        .provider_id = cs(in, 8),
        .status = (int)ci(in, 9),
        .error = cs(in, 10),
        .at = ci(in, 11),
        .status_at = ci(in, 12),
        .name = in->ncols > 13 ? cs(in, 13) : STR_NULL,
    };
    return ((store_msg_cb)c->cb)(c->arg, &m);
}

int store_row_one_msg_cb(void *arg, const store_msg *m)
{
    store_row_one_msg *o = arg;
    o->found = 1;
    return o->cb(o->arg, m);
}

int store_row_hist(const store_row_in *in, const store_row_cb *c)
{
    store_hist h = {
        .conv = (uint32_t)ci(in, 0),
        .opened_at = ci(in, 1),
        .ep_number = cs(in, 2),
        .closed_at = ci(in, 3),
    };
    return ((store_hist_cb)c->cb)(c->arg, &h);
}

int store_row_note(const store_row_in *in, const store_row_cb *c)
{
    store_note n = {
        .seq = ci(in, 0),
        .type = (int)ci(in, 1),
        .code = (int)ci(in, 2),
        .agent = (uint32_t)ci(in, 3),
        .target = (uint32_t)ci(in, 4),
        .queue = (uint32_t)ci(in, 5),
        .at = ci(in, 6),
        .name = cs(in, 7),
        .text = cs(in, 8),
    };
    return ((store_note_cb)c->cb)(c->arg, &n);
}

int store_row_cev(const store_row_in *in, const store_row_cb *c)
{
    store_cev e = {
        .seq = ci(in, 0),
        .type = (int)ci(in, 1),
        .at = ci(in, 2),
        .conv = (uint32_t)ci(in, 3),
        .agent = (uint32_t)ci(in, 4),
        .target = (uint32_t)ci(in, 5),
        .queue = (uint32_t)ci(in, 6),
        .reason = (uint32_t)ci(in, 7),
        .number = cs(in, 8),
        .ep_number = cs(in, 9),
        .code = (int)ci(in, 10),
    };
    return ((store_cev_cb)c->cb)(c->arg, &e);
}

int store_row_wrapup(const store_row_in *in, const store_row_cb *c)
{
    return ((store_wrapup_cb)c->cb)(c->arg, (uint32_t)ci(in, 0), (uint32_t)ci(in, 1), ci(in, 2));
}

int store_row_csat(const store_row_in *in, const store_row_cb *c)
{
    str comment = cs(in, 1);
    if (!comment.p)
        comment = (str){"", 0}; /* a view the callback may read */
    return ((store_csat_cb)c->cb)(c->arg, (int)ci(in, 0), comment, ci(in, 2), (uint32_t)ci(in, 3));
}

int store_row_canned(const store_row_in *in, const store_row_cb *c)
{
    return ((store_canned_cb)c->cb)(c->arg, ci(in, 0), cs(in, 1), cs(in, 2), cs(in, 3));
}

void store_row_token(const store_row_in *in, store_token *t)
{
    *t = (store_token){
        .id = ci(in, 0),
        .name = cs(in, 1),
        .created_by = cs(in, 2),
        .role = (int)ci(in, 3),
        .agent = (uint32_t)ci(in, 4),
        .created_at = ci(in, 5),
        .expires_at = ci(in, 6),
        .revoked_at = ci(in, 7),
    };
}

int store_row_token_read(const store_row_in *in, const store_row_cb *c)
{
    store_token t;
    store_row_token(in, &t);
    return ((store_token_cb)c->cb)(c->arg, &t);
}

int store_row_audit(const store_row_in *in, const store_row_cb *c)
{
    store_audit e = {
        .id = ci(in, 0),
        .at = ci(in, 1),
        .actor = cs(in, 2),
        .via = cs(in, 3),
        .peer = cs(in, 4),
        .action = cs(in, 5),
        .target = cs(in, 6),
        .detail = cs(in, 7),
    };
    return ((store_audit_cb)c->cb)(c->arg, &e);
}

int store_row_hook(const store_row_in *in, const store_row_cb *c)
{
    store_hook h = {
        .id = ci(in, 0),
        .name = cs(in, 1),
        .url = cs(in, 2),
        .secret = cs(in, 3),
        .created_by = cs(in, 4),
        .last_error = cs(in, 5),
        .events = (uint32_t)ci(in, 6),
        .masked = (int)ci(in, 7),
        .last_status = (int)ci(in, 8),
        .created_at = ci(in, 9),
        .seq = ci(in, 10),
        .sid = ci(in, 11),
        .delivered = ci(in, 12),
        .failures = ci(in, 13),
        .last_at = ci(in, 14),
    };
    return ((store_hook_cb)c->cb)(c->arg, &h);
}

int store_row_feed(const store_row_in *in, const store_row_cb *c)
{
    store_feed_item it = {
        .seq = ci(in, 0),
        .sid = ci(in, 1),
        .type = (int)ci(in, 2),
        .at = ci(in, 3),
        .conv = (uint32_t)ci(in, 4),
        .agent = (uint32_t)ci(in, 5),
        .target = (uint32_t)ci(in, 6),
        .queue = (uint32_t)ci(in, 7),
        .reason = (uint32_t)ci(in, 8),
        .ep = (uint32_t)ci(in, 9),
        .state = (int)ci(in, 10),
        .code = (int)ci(in, 11),
        .kind = (int)ci(in, 12),
        .msg = ci(in, 13),
        .status = (int)ci(in, 14),
        .number = cs(in, 15),
        .ep_number = cs(in, 16),
        .text = cs(in, 17),
        .name = cs(in, 18),
        .error = cs(in, 19),
    };
    return ((store_feed_cb)c->cb)(c->arg, &it);
}

int store_row_closed(const store_row_in *in, const store_row_cb *c)
{
    store_closed x = {
        .seq = ci(in, 0),
        .at = ci(in, 1),
        .conv = (uint32_t)ci(in, 2),
        .ep = (uint32_t)ci(in, 3),
    };
    return ((store_closed_cb)c->cb)(c->arg, &x);
}


/* ---- the report's record ------------------------------------------------ */

static unsigned char *put_varint(unsigned char *p, uint64_t x)
{
    while (x >= 0x80) {
        *p++ = (unsigned char)(x | 0x80);
        x >>= 7;
    }
    *p++ = (unsigned char)x;
    return p;
}

static uint64_t zz(int64_t x)
{
    return ((uint64_t)x << 1) ^ (uint64_t)(x >> 63);
}

static int64_t unzz(uint64_t x)
{
    return (int64_t)(x >> 1) ^ -(int64_t)(x & 1);
}

enum { REP_FIELDS = 13 }; /* 12 values and the number of ids */

str store_row_rep_encode(store_row_buf *b, const cc_event *ev, int segments)
{
    size_t need = (REP_FIELDS + ev->n_ids) * 10;
    if (need > b->rep_cap) {
        b->rep_cap = need;
        b->rep = xrealloc(b->rep, need);
    }
    const int64_t v[REP_FIELDS] = {ev->type,   ev->at,    ev->conv,  ev->agent, ev->target,
                                   ev->queue,  ev->ep,    ev->reason, ev->state, ev->kind,
                                   ev->code,   segments, (int64_t)ev->n_ids};
    unsigned char *p = b->rep;
    for (int k = 0; k < REP_FIELDS; k++)
        p = put_varint(p, zz(v[k]));
    for (size_t i = 0; i < ev->n_ids; i++)
        p = put_varint(p, ev->ids[i]);
    return (str){(const char *)b->rep, (size_t)(p - b->rep)};
}

/* The varint at '*p' (before 'end'); -1 when it runs past or is too long.
 * Most are one byte (types, small ids): that case first. */
static inline int get_varint(const unsigned char **p, const unsigned char *end, uint64_t *x)
{
    if (*p < end && **p < 0x80) {
        *x = *(*p)++;
        return 0;
    }
    uint64_t v = 0;
    for (int shift = 0; shift < 64 && *p < end; shift += 7) {
        unsigned char c = *(*p)++;
        v |= (uint64_t)(c & 0x7f) << shift;
        if (!(c & 0x80)) {
            *x = v;
            return 0;
        }
    }
    return -1;
}

int store_row_rep_decode(store_row_buf *b, uint64_t seq, str rep, cc_event *ev, int *segments,
                         char *err, size_t n)
{
    const unsigned char *p = (const unsigned char *)rep.p, *end = p + rep.n;
    int64_t v[REP_FIELDS];
    for (int k = 0; k < REP_FIELDS; k++) {
        uint64_t x;
        if (get_varint(&p, end, &x) != 0)
            goto bad;
        v[k] = unzz(x);
    }
    if (v[12] < 0 || v[12] > STORE_ROW_IDS_MAX)
        goto bad;
    report_fields(ev, seq, v);
    *segments = (int)v[11];
    if (v[12]) {
        size_t k = (size_t)v[12];
        if (k > b->ids_cap) {
            b->ids_cap = k;
            b->ids = xrealloc(b->ids, k * sizeof *b->ids);
        }
        for (size_t i = 0; i < k; i++) {
            uint64_t x;
            if (get_varint(&p, end, &x) != 0 || x > UINT32_MAX)
                goto bad;
            b->ids[i] = (uint32_t)x;
        }
        ev->ids = b->ids;
        ev->n_ids = k;
    }
    if (p == end)
        return 0;
bad:
    snprintf(err, n, "event %llu: corrupt report record (%zu bytes)", (unsigned long long)seq,
             rep.n);
    return -EIO;
}
