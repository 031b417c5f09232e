/*
 * smpp_session: the ESME state machine (contract in smpp_session.h).
 *
 * Messages live in one FIFO list until every segment is acknowledged (or the
 * message fails / goes unknown); sending takes the first queued segment from
 * the head, so a resubmitted (throttled) segment goes out before anything
 * newer. The window is a small array of in-flight entries; each points at its
 * message, or at nothing once that message has already been reported. A
 * message that got at least one message_id owns a 'track' record that
 * outlives it, so receipts for any of its segment ids find our ref; tracks
 * are kept in a FIFO of at most track_max and their ids in a hash map.
 */
#include "sms/smpp_session.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "sms/gw.h"
#include "sms/smpp_pdu.h"
#include "sms/sms_text.h"
#include "util/hmap.h"
#include "util/xalloc.h"

#define MAX_SEGMENTS 255

enum seg_state { SEG_QUEUED, SEG_INFLIGHT, SEG_ACKED };

typedef struct track track;

typedef struct seg {
    uint8_t *data; /* short_message (UDH included) or message_payload */
    size_t len;
    uint8_t state;
} seg;

typedef struct msg {
    struct msg *next, *prev;
    int64_t ref;
    char from[21], to[21];
    uint8_t src_ton, src_npi, dst_ton, dst_npi;
    uint8_t dcs, esm;
    int payload;
    unsigned nseg, nacked, ninflight, retries;
    char first_id[66];
    track *trk;
    seg *segs;
    uint8_t *bytes;
} msg;

typedef struct idrec {
    char id[66];
    uint64_t h;
    track *trk;
    struct idrec *next_in_track;
    int state; /* 0 none yet, 1 delivered, 2 failed */
} idrec;

struct track {
    track *next; /* FIFO of tracks, oldest first */
    int64_t ref;
    char first_id[66];
    unsigned nseg, ndelivered;
    int done; /* final status reported */
    idrec *ids;
};

typedef struct inflight {
    uint32_t seq;
    msg *m; /* NULL: message already reported */
    unsigned seg;
    int64_t sent_at;
} inflight;

typedef struct mo_part {
    char *text; /* UTF-8, NULL = not yet */
    size_t len;
} mo_part;

typedef struct mo_asm {
    struct mo_asm *next;
    char from[22], to[22]; /* as in the event: "+4670..." for TON 1 */
    unsigned ref, total, have;
    int64_t started;
    mo_part parts[];
} mo_asm;

typedef struct evrec {
    struct evrec *next;
    smpp_event ev;
    char id[66], provider_id[66], from[22], to[22], stat[16], err[16];
    char *text;
} evrec;

struct smpp_session {
    smpp_cfg cfg;
    char system_id[16], password[9], system_type[13];
    enum smpp_state st;
    uint32_t gen, next_seq;
    int64_t reconnect_at, backoff, conn_started;
    uint32_t bind_seq, enq_seq, unbind_seq;
    int64_t bind_sent, enq_sent, unbind_sent, last_rx;
    int enq_pending;
    int stopping;

    uint8_t *in;
    size_t in_n, in_cap;
    uint8_t *out;
    size_t out_off, out_n, out_cap;

    int64_t thr_next; /* next allowed send, in ms * throughput */
    int64_t pause_until;

    msg *head, *tail;
    size_t nmsg;
    inflight *inf;
    unsigned ninf;
    uint8_t concat_ref;

    hmap ids;
    track *trk_head, *trk_tail;
    size_t ntrk;

    mo_asm *mo;
    size_t nmo;

    evrec *ev_head, *ev_tail, *ev_cur;
    smpp_stats st_;
};

/* ---- small helpers ------------------------------------------------------ */

static void copyz(char *dst, size_t cap, const char *src, size_t n)
{
    if (n >= cap)
        n = cap - 1;
    memcpy(dst, src, n);
    dst[n] = '\0';
}

static uint32_t seq_next(smpp_session *s)
{
    uint32_t q = s->next_seq;
    s->next_seq = s->next_seq >= 0x7FFFFFFFu ? 1 : s->next_seq + 1;
    return q;
}

/* Encodes 'p' straight into the output buffer. Encoding our own PDUs cannot
 * fail (the session validated every field); a failure is a bug. */
static void put_pdu(smpp_session *s, const smpp_pdu *p)
{
    if (s->out_off > 0 && s->out_off == s->out_n)
        s->out_off = s->out_n = 0;
    if (s->out_cap - s->out_n < SMPP_PDU_MAX) {
        if (s->out_off > 0) {
            memmove(s->out, s->out + s->out_off, s->out_n - s->out_off);
            s->out_n -= s->out_off;
            s->out_off = 0;
        }
        while (s->out_cap - s->out_n < SMPP_PDU_MAX)
            s->out_cap = s->out_cap ? 2 * s->out_cap : 2 * SMPP_PDU_MAX;
        s->out = xrealloc(s->out, s->out_cap);
    }
    size_t n = 0;
    if (smpp_pdu_encode(p, s->out + s->out_n, s->out_cap - s->out_n, &n) != 0)
        abort();
    s->out_n += n;
}

static void put_simple(smpp_session *s, uint32_t cmd, uint32_t seq, uint32_t status)
{
    smpp_pdu p;
    smpp_pdu_init(&p, cmd, seq);
    p.command_status = status;
    put_pdu(s, &p);
}

static evrec *ev_new(smpp_session *s, enum smpp_event_type t, int64_t ref)
{
    evrec *e = xcalloc(1, sizeof *e);
    e->ev.type = t;
    e->ev.ref = ref;
    e->ev.gw_status = -1;
    if (s->ev_tail)
        s->ev_tail->next = e;
    else
        s->ev_head = e;
    s->ev_tail = e;
    return e;
}

static void ev_text(evrec *e, const char *t, size_t n)
{
    free(e->text);
    e->text = xmemdup0(t, n);
    e->ev.text = (str){e->text, n};
}

static void ev_textf(evrec *e, const char *fmt, uint32_t status)
{
    char b[160];
    int k = snprintf(b, sizeof b, fmt, status, smpp_status_name(status),
                     smpp_status_text(status));
    ev_text(e, b, k < 0 ? 0 : ((size_t)k >= sizeof b ? sizeof b - 1 : (size_t)k));
}

static void ev_free(evrec *e)
{
    if (e) {
        free(e->text);
        free(e);
    }
}

/* ---- configuration ------------------------------------------------------ */

smpp_session *smpp_session_new(const smpp_cfg *cfg)
{
    const char *sid = cfg->system_id ? cfg->system_id : "";
    const char *pw = cfg->password ? cfg->password : "";
    const char *ty = cfg->system_type ? cfg->system_type : "";
    if (strlen(sid) > 15 || strlen(pw) > 8 || strlen(ty) > 12)
        return NULL;
    smpp_session *s = xcalloc(1, sizeof *s);
    s->cfg = *cfg;
    copyz(s->system_id, sizeof s->system_id, sid, strlen(sid));
    copyz(s->password, sizeof s->password, pw, strlen(pw));
    copyz(s->system_type, sizeof s->system_type, ty, strlen(ty));
    smpp_cfg *c = &s->cfg;
    if (c->window == 0)
        c->window = 10;
    if (c->throughput > 100000)
        c->throughput = 100000;
    if (c->enquire_ms <= 0)
        c->enquire_ms = 30000;
    if (c->resp_timeout_ms <= 0)
        c->resp_timeout_ms = 10000;
    if (c->backoff_min_ms <= 0)
        c->backoff_min_ms = 1000;
    if (c->backoff_max_ms < c->backoff_min_ms)
        c->backoff_max_ms = c->backoff_min_ms > 60000 ? c->backoff_min_ms : 60000;
    if (c->throttled_pause_ms <= 0)
        c->throttled_pause_ms = 1000;
    if (c->max_retries == 0)
        c->max_retries = 10;
    if (c->max_queue == 0)
        c->max_queue = 10000;
    if (c->track_max == 0)
        c->track_max = 10000;
    if (c->mo_timeout_ms <= 0)
        c->mo_timeout_ms = 600000;
    s->st = SMPP_ST_IDLE;
    s->reconnect_at = INT64_MIN;
    s->backoff = c->backoff_min_ms;
    s->next_seq = 1;
    s->thr_next = INT64_MIN;
    s->pause_until = INT64_MIN;
    s->inf = xcalloc(c->window, sizeof *s->inf);
    hmap_init(&s->ids);
    return s;
}

static void msg_free(msg *m)
{
    free(m->segs);
    free(m->bytes);
    free(m);
}

static void track_free(track *t)
{
    idrec *r = t->ids;
    while (r) {
        idrec *nx = r->next_in_track;
        free(r);
        r = nx;
    }
    free(t);
}

static void mo_free(mo_asm *a)
{
    for (unsigned i = 0; i < a->total; i++)
        free(a->parts[i].text);
    free(a);
}

void smpp_session_free(smpp_session *s)
{
    if (!s)
        return;
    for (msg *m = s->head; m;) {
        msg *nx = m->next;
        msg_free(m);
        m = nx;
    }
    for (track *t = s->trk_head; t;) {
        track *nx = t->next;
        track_free(t);
        t = nx;
    }
    hmap_free(&s->ids);
    for (mo_asm *a = s->mo; a;) {
        mo_asm *nx = a->next;
        mo_free(a);
        a = nx;
    }
    ev_free(s->ev_cur);
    for (evrec *e = s->ev_head; e;) {
        evrec *nx = e->next;
        ev_free(e);
        e = nx;
    }
    free(s->inf);
    free(s->in);
    free(s->out);
    free(s);
}

enum smpp_state smpp_session_state(const smpp_session *s)
{
    return s->st;
}

void smpp_session_stats_get(const smpp_session *s, smpp_stats *out)
{
    *out = s->st_;
    out->inflight = s->ninf;
    out->queued = s->nmsg;
}

/* ---- receipts tracking -------------------------------------------------- */

static int idrec_eq(const void *elem, const void *key)
{
    return strcmp(((const idrec *)elem)->id, key) == 0;
}

static uint64_t id_hash(const char *id)
{
    return hmap_hash_bytes(id, strlen(id), 0x5bd1e995);
}

static void track_drop_oldest(smpp_session *s)
{
    track *t = s->trk_head;
    s->trk_head = t->next;
    if (!s->trk_head)
        s->trk_tail = NULL;
    s->ntrk--;
    for (idrec *r = t->ids; r; r = r->next_in_track)
        hmap_del(&s->ids, r->h, idrec_eq, r->id);
    track_free(t);
}

static void track_add_id(smpp_session *s, msg *m, const char *id)
{
    if (!m->trk) {
        if (s->ntrk >= s->cfg.track_max)
            track_drop_oldest(s);
        track *t = xcalloc(1, sizeof *t);
        t->ref = m->ref;
        t->nseg = m->nseg;
        if (s->trk_tail)
            s->trk_tail->next = t;
        else
            s->trk_head = t;
        s->trk_tail = t;
        s->ntrk++;
        m->trk = t;
    }
    if (id[0] == '\0')
        return;
    uint64_t h = id_hash(id);
    idrec *old = hmap_get(&s->ids, h, idrec_eq, id);
    if (old) /* an SMSC reusing ids: the newest message wins */
        hmap_del(&s->ids, h, idrec_eq, id);
    idrec *r = xcalloc(1, sizeof *r);
    copyz(r->id, sizeof r->id, id, strlen(id));
    r->h = h;
    r->trk = m->trk;
    r->next_in_track = m->trk->ids;
    m->trk->ids = r;
    hmap_put(&s->ids, h, r);
}

/* ---- message list ------------------------------------------------------- */

static void msg_unlink(smpp_session *s, msg *m)
{
    if (m->prev)
        m->prev->next = m->next;
    else
        s->head = m->next;
    if (m->next)
        m->next->prev = m->prev;
    else
        s->tail = m->prev;
    s->nmsg--;
    for (unsigned i = 0; i < s->ninf; i++)
        if (s->inf[i].m == m)
            s->inf[i].m = NULL;
    msg_free(m);
}

static void inf_remove(smpp_session *s, unsigned i)
{
    s->inf[i] = s->inf[--s->ninf];
}

/* Address -> TON/NPI: "+4670..." international/ISDN, digits unknown/ISDN,
 * anything else alphanumeric. */
static int addr_parse(str a, char out[21], uint8_t *ton, uint8_t *npi)
{
    if (a.n == 0)
        return -EINVAL;
    int plus = a.p[0] == '+';
    size_t k = a.n - (size_t)plus;
    int digits = k > 0;
    for (size_t i = plus; i < a.n; i++) {
        if (a.p[i] == '\0')
            return -EINVAL;
        if (a.p[i] < '0' || a.p[i] > '9')
            digits = 0;
    }
    if (plus && !digits)
        return -EINVAL;
    if (digits) {
        if (k > 20)
            return -EINVAL;
        *ton = plus ? 1 : 0;
        *npi = 1;
    } else {
        if (a.n > 11)
            return -EINVAL;
        *ton = 5;
        *npi = 0;
    }
    copyz(out, 21, a.p + plus, k);
    return 0;
}

static void pump(smpp_session *s, int64_t now);

int smpp_session_send(smpp_session *s, int64_t ref, str from, str to, str text,
                      int64_t now)
{
    if (s->nmsg >= s->cfg.max_queue)
        return -EAGAIN;
    msg *m = xcalloc(1, sizeof *m);
    int r = -EINVAL;
    if (addr_parse(from, m->from, &m->src_ton, &m->src_npi) != 0 ||
        addr_parse(to, m->to, &m->dst_ton, &m->dst_npi) != 0)
        goto out;
    sms_segment *sg = xmalloc(MAX_SEGMENTS * sizeof *sg);
    size_t count = 0;
    sms_info info;
    r = sms_text_split(text.p, text.n, sg, MAX_SEGMENTS, &count, &info);
    if (r == -ENOSPC)
        r = -EMSGSIZE;
    if (r != 0) {
        free(sg);
        goto out;
    }
    m->ref = ref;
    m->dcs = info.encoding == SMS_UCS2 ? 8 : 0;
    size_t total = 0;
    for (size_t i = 0; i < count; i++)
        total += sg[i].len + 6;
    m->bytes = xmalloc(total + 1);
    if (s->cfg.payload_mode) {
        m->payload = 1;
        m->nseg = 1;
        m->segs = xcalloc(1, sizeof *m->segs);
        m->segs[0].data = m->bytes;
        for (size_t i = 0; i < count; i++) {
            memcpy(m->bytes + m->segs[0].len, sg[i].data, sg[i].len);
            m->segs[0].len += sg[i].len;
        }
    } else {
        m->nseg = (unsigned)count;
        m->segs = xcalloc(count, sizeof *m->segs);
        uint8_t cref = count > 1 ? s->concat_ref++ : 0;
        m->esm = count > 1 ? SMPP_ESM_UDHI : 0;
        uint8_t *p = m->bytes;
        for (size_t i = 0; i < count; i++) {
            m->segs[i].data = p;
            if (count > 1) {
                sms_udh_concat(p, cref, (uint8_t)count, (uint8_t)(i + 1));
                p += 6;
            }
            memcpy(p, sg[i].data, sg[i].len);
            p += sg[i].len;
            m->segs[i].len = (size_t)(p - m->segs[i].data);
        }
    }
    free(sg);
    m->prev = s->tail;
    if (s->tail)
        s->tail->next = m;
    else
        s->head = m;
    s->tail = m;
    s->nmsg++;
    pump(s, now);
    return 0;
out:
    free(m);
    return r;
}

size_t smpp_session_give_back(smpp_session *s, const char *why)
{
    size_t k = 0;
    for (msg *m = s->head, *nx; m; m = nx) {
        nx = m->next;
        if (m->nacked || m->ninflight)
            continue;
        evrec *e = ev_new(s, SMPP_EV_RETRY, m->ref);
        ev_text(e, why, strlen(why));
        e->ev.segments = m->nseg;
        msg_unlink(s, m);
        k++;
    }
    return k;
}

/* ---- sending ------------------------------------------------------------ */

static int throttle_ok(const smpp_session *s, int64_t now)
{
    if (now < s->pause_until)
        return 0;
    if (s->cfg.throughput == 0)
        return 1;
    return s->thr_next == INT64_MIN || now * (int64_t)s->cfg.throughput >= s->thr_next;
}

static int64_t throttle_at(const smpp_session *s)
{
    int64_t t = s->pause_until;
    if (s->cfg.throughput && s->thr_next != INT64_MIN) {
        int64_t n = s->cfg.throughput;
        int64_t a = (s->thr_next + n - 1) / n;
        if (a > t)
            t = a;
    }
    return t;
}

/* Spends one send. The next one is due 1/throughput s after the previous
 * due time, so fractional intervals carry over (333/s gives 333, not 250);
 * after a pause longer than one interval the schedule restarts from now, so
 * an idle link never bursts. */
static void throttle_take(smpp_session *s, int64_t now)
{
    if (s->cfg.throughput == 0)
        return;
    int64_t base = now * (int64_t)s->cfg.throughput;
    if (s->thr_next == INT64_MIN || base - s->thr_next >= 1000)
        s->thr_next = base;
    s->thr_next += 1000;
}

static void submit_seg(smpp_session *s, msg *m, unsigned i, int64_t now)
{
    smpp_pdu p;
    smpp_pdu_init(&p, SMPP_SUBMIT_SM, seq_next(s));
    p.source_addr_ton = m->src_ton;
    p.source_addr_npi = m->src_npi;
    memcpy(p.source_addr, m->from, sizeof p.source_addr);
    p.dest_addr_ton = m->dst_ton;
    p.dest_addr_npi = m->dst_npi;
    memcpy(p.destination_addr, m->to, sizeof p.destination_addr);
    p.esm_class = m->esm;
    p.registered_delivery = s->cfg.no_receipts ? 0 : 1;
    p.data_coding = m->dcs;
    if (m->payload) {
        p.has_payload = 1;
        p.message_payload = m->segs[i].data;
        p.payload_len = m->segs[i].len;
    } else {
        p.short_message = m->segs[i].data;
        p.sm_length = m->segs[i].len;
    }
    put_pdu(s, &p);
    m->segs[i].state = SEG_INFLIGHT;
    m->ninflight++;
    s->inf[s->ninf++] = (inflight){p.sequence_number, m, i, now};
    if (s->ninf > s->st_.inflight_max)
        s->st_.inflight_max = s->ninf;
    s->st_.submits++;
    throttle_take(s, now);
}

/* The first queued segment in FIFO order, or NULL. */
static msg *next_queued(smpp_session *s, unsigned *seg_out)
{
    for (msg *m = s->head; m; m = m->next) {
        if (m->nacked + m->ninflight == m->nseg)
            continue;
        for (unsigned i = 0; i < m->nseg; i++)
            if (m->segs[i].state == SEG_QUEUED) {
                *seg_out = i;
                return m;
            }
    }
    return NULL;
}

static void pump(smpp_session *s, int64_t now)
{
    if (s->st != SMPP_ST_BOUND)
        return;
    while (s->ninf < s->cfg.window && throttle_ok(s, now)) {
        unsigned i;
        msg *m = next_queued(s, &i);
        if (!m)
            return;
        submit_seg(s, m, i, now);
    }
}

/* ---- link state --------------------------------------------------------- */

static void link_down(smpp_session *s, int64_t now, const char *why)
{
    if (s->st == SMPP_ST_IDLE || s->st == SMPP_ST_STOPPED)
        return;
    for (unsigned i = 0; i < s->ninf; i++) {
        msg *m = s->inf[i].m;
        if (!m)
            continue;
        evrec *e = ev_new(s, SMPP_EV_UNKNOWN, m->ref);
        ev_text(e, why, strlen(why));
        e->ev.segments = m->nseg;
        msg_unlink(s, m); /* nulls the other entries of m */
    }
    s->ninf = 0;
    s->enq_pending = 0;
    s->in_n = 0;
    s->out_off = s->out_n = 0;
    s->gen++;
    s->st_.link_downs++;
    if (s->stopping) {
        s->st = SMPP_ST_STOPPED;
        return;
    }
    s->st = SMPP_ST_IDLE;
    s->reconnect_at = now + s->backoff;
    s->backoff = s->backoff * 2 > s->cfg.backoff_max_ms ? s->cfg.backoff_max_ms
                                                         : s->backoff * 2;
}

/* The session gives up the link itself. */
static void close_link(smpp_session *s, int64_t now, const char *why)
{
    if (s->st == SMPP_ST_IDLE || s->st == SMPP_ST_STOPPED)
        return;
    evrec *e = ev_new(s, SMPP_EV_CLOSE, -1);
    ev_text(e, why, strlen(why));
    link_down(s, now, why);
}

void smpp_session_link_lost(smpp_session *s, int64_t now)
{
    link_down(s, now, "link lost with submit_sm in flight");
}

void smpp_session_connected(smpp_session *s, int64_t now)
{
    if (s->st != SMPP_ST_CONNECTING)
        return;
    smpp_pdu p;
    smpp_pdu_init(&p, SMPP_BIND_TRANSCEIVER, seq_next(s));
    memcpy(p.system_id, s->system_id, sizeof p.system_id);
    memcpy(p.password, s->password, sizeof p.password);
    memcpy(p.system_type, s->system_type, sizeof p.system_type);
    p.interface_version = 0x34;
    put_pdu(s, &p);
    s->bind_seq = p.sequence_number;
    s->bind_sent = now;
    s->last_rx = now;
    s->st = SMPP_ST_BINDING;
}

void smpp_session_stop(smpp_session *s, int64_t now)
{
    s->stopping = 1;
    if (s->st == SMPP_ST_BOUND) {
        s->unbind_seq = seq_next(s);
        put_simple(s, SMPP_UNBIND, s->unbind_seq, 0);
        s->unbind_sent = now;
        s->st = SMPP_ST_UNBINDING;
    } else if (s->st == SMPP_ST_IDLE) {
        s->st = SMPP_ST_STOPPED;
    } else if (s->st != SMPP_ST_UNBINDING && s->st != SMPP_ST_STOPPED) {
        close_link(s, now, "stopped");
    }
}

/* ---- inbound: text decoding -------------------------------------------- */

static size_t latin1_to_utf8(const uint8_t *b, size_t n, char *out)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (b[i] < 0x80) {
            out[k++] = (char)b[i];
        } else {
            out[k++] = (char)(0xC0 | b[i] >> 6);
            out[k++] = (char)(0x80 | (b[i] & 0x3F));
        }
    }
    return k;
}

/* Decodes 'n' bytes in data_coding 'dcs' to newly allocated UTF-8. */
static char *decode_text(uint8_t dcs, const uint8_t *b, size_t n, size_t *len)
{
    enum { GSM, UCS2, LATIN1 } how = LATIN1;
    if (dcs == 0)
        how = GSM; /* SMSC default alphabet: GSM 03.38, unpacked */
    else if (dcs == 8)
        how = UCS2;
    else if (dcs >= 0x10 && dcs <= 0x3F)
        how = ((dcs >> 2) & 3) == 0 ? GSM : ((dcs >> 2) & 3) == 2 ? UCS2 : LATIN1;
    else if ((dcs & 0xF0) == 0xF0)
        how = (dcs & 0x04) ? LATIN1 : GSM;
    else if ((dcs & 0xF0) == 0xE0)
        how = UCS2;
    size_t cap = 3 * n + 4;
    char *o = xmalloc(cap);
    size_t k = 0;
    if (how == GSM)
        sms_gsm7_decode(b, n, o, cap, &k);
    else if (how == UCS2)
        sms_ucs2_decode(b, n, o, cap, &k);
    else
        k = latin1_to_utf8(b, n, o);
    o[k] = '\0';
    *len = k;
    return o;
}

/* ---- inbound: receipts -------------------------------------------------- */

static const char *find_key(const char *t, size_t n, const char *key, size_t *rest)
{
    size_t kl = strlen(key);
    for (size_t i = 0; i + kl <= n; i++) {
        if ((i == 0 || t[i - 1] == ' ') && strncasecmp(t + i, key, kl) == 0) {
            *rest = n - i - kl;
            return t + i + kl;
        }
    }
    return NULL;
}

static void copy_word(const char *p, size_t n, char *out, size_t cap)
{
    size_t k = 0;
    while (k < n && p[k] != ' ' && p[k] != '\0')
        k++;
    if (cap == 0)
        return;
    copyz(out, cap, p, k);
}

int smpp_receipt_parse(const char *text, size_t n, char *id, size_t id_cap, char *stat,
                       size_t stat_cap, char *err, size_t err_cap)
{
    size_t rest;
    const char *p = find_key(text, n, "id:", &rest);
    if (!p)
        return -EINVAL;
    copy_word(p, rest, id, id_cap);
    p = find_key(text, n, "stat:", &rest);
    if (!p)
        return -EINVAL;
    copy_word(p, rest, stat, stat_cap);
    p = find_key(text, n, "err:", &rest);
    if (p)
        copy_word(p, rest, err, err_cap);
    else if (err_cap)
        err[0] = '\0';
    return 0;
}

int smpp_stat_gw(const char *stat)
{
    if (strcasecmp(stat, "DELIVRD") == 0)
        return GW_DELIVERED;
    if (strcasecmp(stat, "ENROUTE") == 0 || strcasecmp(stat, "ACCEPTD") == 0)
        return -1;
    return GW_FAILED; /* UNDELIV EXPIRED REJECTD DELETED UNKNOWN and others */
}

static const char *state_stat(uint8_t st)
{
    static const char *const names[] = {"SCHEDLD", "ENROUTE", "DELIVRD", "EXPIRED",
                                        "DELETED", "UNDELIV", "ACCEPTD", "UNKNOWN",
                                        "REJECTD"};
    return st < 9 ? names[st] : "UNKNOWN";
}

/* An inbound address as the rest of textdesk writes numbers: an
 * international one (TON 1, digits) gets its '+' back, so that a reply to
 * it goes out as TON 1 again (addr_parse). Others are kept as they came. */
static void addr_format(char out[22], const char *addr, uint8_t ton)
{
    size_t n = strlen(addr);
    int digits = n > 0;
    for (size_t i = 0; i < n; i++)
        if (addr[i] < '0' || addr[i] > '9')
            digits = 0;
    if (ton == 1 && digits) {
        out[0] = '+';
        copyz(out + 1, 21, addr, n);
    } else {
        copyz(out, 22, addr, n);
    }
}

static uint64_t ack_token(const smpp_session *s, uint32_t seq)
{
    return (uint64_t)s->gen << 32 | seq;
}

static void on_receipt(smpp_session *s, const smpp_pdu *p, const char *text, size_t n)
{
    char id[66] = "", stat[16] = "", err[16] = "";
    int parsed = smpp_receipt_parse(text, n, id, sizeof id, stat, sizeof stat, err,
                                    sizeof err) == 0;
    if (p->has_receipted_message_id)
        copyz(id, sizeof id, p->receipted_message_id, strlen(p->receipted_message_id));
    if (p->has_message_state && (!parsed || stat[0] == '\0'))
        copyz(stat, sizeof stat, state_stat(p->message_state),
              strlen(state_stat(p->message_state)));
    if (id[0] == '\0' || stat[0] == '\0') {
        /* A receipt we cannot read: acknowledge it so the SMSC stops. */
        put_simple(s, SMPP_DELIVER_SM_RESP, p->sequence_number, 0);
        return;
    }
    s->st_.dlr++;
    evrec *e = ev_new(s, SMPP_EV_DLR, -1);
    copyz(e->id, sizeof e->id, id, strlen(id));
    copyz(e->stat, sizeof e->stat, stat, strlen(stat));
    copyz(e->err, sizeof e->err, err, strlen(err));
    addr_format(e->from, p->source_addr, p->source_addr_ton);
    addr_format(e->to, p->destination_addr, p->dest_addr_ton);
    int seg_gw = smpp_stat_gw(stat);
    idrec *r = hmap_get(&s->ids, id_hash(id), idrec_eq, id);
    if (r) {
        track *t = r->trk;
        e->ev.ref = t->ref;
        copyz(e->provider_id, sizeof e->provider_id, t->first_id, strlen(t->first_id));
        int before = r->state;
        if (seg_gw == GW_DELIVERED && r->state == 0) {
            r->state = 1;
            t->ndelivered++;
        } else if (seg_gw == GW_FAILED && r->state != 2) {
            if (r->state == 1)
                t->ndelivered--;
            r->state = 2;
        }
        if (!t->done && r->state == 2 && before != 2) {
            e->ev.gw_status = GW_FAILED;
            t->done = 1;
        } else if (!t->done && t->ndelivered == t->nseg) {
            e->ev.gw_status = GW_DELIVERED;
            t->done = 1;
        }
    } else {
        copyz(e->provider_id, sizeof e->provider_id, id, strlen(id));
        e->ev.gw_status = seg_gw;
    }
    e->ev.ack = ack_token(s, p->sequence_number);
}

/* ---- inbound: MO -------------------------------------------------------- */

static void emit_mo(smpp_session *s, const char *from, const char *to, char *text,
                    size_t len, unsigned parts, int partial, uint64_t ack)
{
    s->st_.mo++;
    evrec *e = ev_new(s, SMPP_EV_MO, -1);
    copyz(e->from, sizeof e->from, from, strlen(from));
    copyz(e->to, sizeof e->to, to, strlen(to));
    e->text = text;
    e->ev.text = (str){text, len};
    e->ev.segments = parts;
    e->ev.partial = partial;
    e->ev.ack = ack;
}

static void mo_emit_asm(smpp_session *s, mo_asm *a, uint64_t ack)
{
    size_t total = 0;
    for (unsigned i = 0; i < a->total; i++)
        total += a->parts[i].len;
    char *t = xmalloc(total + 1);
    size_t k = 0;
    for (unsigned i = 0; i < a->total; i++) {
        if (a->parts[i].text) {
            memcpy(t + k, a->parts[i].text, a->parts[i].len);
            k += a->parts[i].len;
        }
    }
    t[k] = '\0';
    emit_mo(s, a->from, a->to, t, k, a->have, a->have < a->total, ack);
}

static void mo_remove(smpp_session *s, mo_asm *a)
{
    mo_asm **pp = &s->mo;
    while (*pp != a)
        pp = &(*pp)->next;
    *pp = a->next;
    s->nmo--;
    mo_free(a);
}

#define MO_MAX_PENDING 256

static void on_mo_part(smpp_session *s, const smpp_pdu *p, const char *from, const char *to,
                       unsigned ref, unsigned total, unsigned seqn, char *text, size_t len,
                       int64_t now)
{
    mo_asm *a = s->mo;
    for (; a; a = a->next)
        if (a->ref == ref && a->total == total && strcmp(a->from, from) == 0 &&
            strcmp(a->to, to) == 0)
            break;
    if (!a) {
        if (s->nmo >= MO_MAX_PENDING) { /* give up the oldest (list tail) */
            mo_asm *o = s->mo;
            while (o->next)
                o = o->next;
            mo_emit_asm(s, o, 0);
            mo_remove(s, o);
        }
        a = xcalloc(1, sizeof *a + total * sizeof(mo_part));
        copyz(a->from, sizeof a->from, from, strlen(from));
        copyz(a->to, sizeof a->to, to, strlen(to));
        a->ref = ref;
        a->total = total;
        a->started = now;
        a->next = s->mo;
        s->mo = a;
        s->nmo++;
    }
    mo_part *pt = &a->parts[seqn - 1];
    if (pt->text != NULL || a->have + 1 < a->total) {
        /* A duplicate (keep the first) or not the last missing part: the
         * part is held here, so acknowledge it now. */
        if (pt->text == NULL) {
            pt->text = text;
            pt->len = len;
            a->have++;
        } else {
            free(text);
        }
        put_simple(s, SMPP_DELIVER_SM_RESP, p->sequence_number, 0);
        return;
    }
    pt->text = text;
    pt->len = len;
    a->have++;
    mo_emit_asm(s, a, ack_token(s, p->sequence_number));
    mo_remove(s, a);
}

static void on_deliver(smpp_session *s, const smpp_pdu *p, int64_t now)
{
    const uint8_t *b = p->has_payload ? p->message_payload : p->short_message;
    size_t n = p->has_payload ? p->payload_len : p->sm_length;
    unsigned ref = 0, total = 1, seqn = 1;
    if (p->esm_class & SMPP_ESM_UDHI) {
        size_t udhl = n > 0 ? b[0] : 0;
        if (n == 0 || 1 + udhl > n) {
            put_simple(s, SMPP_DELIVER_SM_RESP, p->sequence_number,
                       SMPP_ESME_RINVMSGLEN);
            s->st_.nacks_sent++;
            return;
        }
        for (size_t i = 1; i + 1 < 1 + udhl;) {
            uint8_t iei = b[i], iel = b[i + 1];
            if (i + 2 + iel > 1 + udhl)
                break;
            const uint8_t *v = b + i + 2;
            if (iei == 0x00 && iel == 3) {
                ref = v[0];
                total = v[1];
                seqn = v[2];
            } else if (iei == 0x08 && iel == 4) {
                ref = (unsigned)v[0] << 8 | v[1];
                total = v[2];
                seqn = v[3];
            }
            i += 2 + (size_t)iel;
        }
        b += 1 + udhl;
        n -= 1 + udhl;
    } else if (p->has_sar) {
        ref = p->sar_msg_ref_num;
        total = p->sar_total_segments;
        seqn = p->sar_segment_seqnum;
    }
    size_t len;
    char *text = decode_text(p->data_coding, b, n, &len);
    if ((p->esm_class & SMPP_ESM_TYPE_MASK) == SMPP_ESM_TYPE_RECEIPT) {
        on_receipt(s, p, text, len);
        free(text);
        return;
    }
    char from[22], to[22];
    addr_format(from, p->source_addr, p->source_addr_ton);
    addr_format(to, p->destination_addr, p->dest_addr_ton);
    if (total <= 1 || seqn < 1 || seqn > total) {
        emit_mo(s, from, to, text, len, 1, 0, ack_token(s, p->sequence_number));
        return;
    }
    on_mo_part(s, p, from, to, ref, total, seqn, text, len, now);
}

/* ---- inbound: responses ------------------------------------------------- */

static int is_throttle(uint32_t st)
{
    return st == SMPP_ESME_RTHROTTLED || st == SMPP_ESME_RMSGQFUL;
}

static void on_submit_resp(smpp_session *s, unsigned i, const smpp_pdu *p, int64_t now)
{
    inflight f = s->inf[i];
    inf_remove(s, i);
    msg *m = f.m;
    uint32_t st = p->command_status;
    if (st == 0 && p->command_id == SMPP_GENERIC_NACK)
        st = SMPP_ESME_RSYSERR;
    if (st == 0)
        s->st_.submit_ok++;
    else
        s->st_.submit_err++;
    if (!m)
        return;
    m->ninflight--;
    if (st == 0) {
        m->segs[f.seg].state = SEG_ACKED;
        m->nacked++;
        if (f.seg == 0)
            copyz(m->first_id, sizeof m->first_id, p->message_id, strlen(p->message_id));
        track_add_id(s, m, p->message_id);
        if (f.seg == 0)
            memcpy(m->trk->first_id, m->first_id, sizeof m->first_id);
        if (m->nacked == m->nseg) {
            evrec *e = ev_new(s, SMPP_EV_SENT, m->ref);
            copyz(e->id, sizeof e->id, m->first_id, strlen(m->first_id));
            e->ev.segments = m->nseg;
            msg_unlink(s, m);
        }
        return;
    }
    if (is_throttle(st)) {
        s->st_.throttled++;
        m->segs[f.seg].state = SEG_QUEUED;
        s->pause_until = now + s->cfg.throttled_pause_ms;
        if (++m->retries <= s->cfg.max_retries)
            return;
        evrec *e = ev_new(s, SMPP_EV_RETRY, m->ref);
        e->ev.status = st;
        ev_textf(e, "SMPP 0x%02X %s: %s (retries exhausted)", st);
        msg_unlink(s, m);
        return;
    }
    evrec *e = ev_new(s, SMPP_EV_FAILED, m->ref);
    e->ev.status = st;
    ev_textf(e, "SMPP 0x%02X %s: %s", st);
    msg_unlink(s, m);
}

static void on_pdu(smpp_session *s, const smpp_pdu *p, int64_t now)
{
    uint32_t cmd = p->command_id, seq = p->sequence_number;
    switch (cmd) {
    case SMPP_BIND_TRANSCEIVER_RESP:
    case SMPP_BIND_RECEIVER_RESP:
    case SMPP_BIND_TRANSMITTER_RESP:
        if (s->st != SMPP_ST_BINDING || seq != s->bind_seq)
            return;
        if (p->command_status != 0) {
            evrec *e = ev_new(s, SMPP_EV_BIND_FAILED, -1);
            e->ev.status = p->command_status;
            ev_textf(e, "bind refused: SMPP 0x%02X %s: %s", p->command_status);
            close_link(s, now, "bind refused");
            return;
        }
        s->st = SMPP_ST_BOUND;
        s->backoff = s->cfg.backoff_min_ms;
        s->st_.binds++;
        ev_new(s, SMPP_EV_BOUND, -1);
        pump(s, now);
        return;
    case SMPP_GENERIC_NACK:
        if (s->st == SMPP_ST_BINDING && seq == s->bind_seq) {
            evrec *e = ev_new(s, SMPP_EV_BIND_FAILED, -1);
            e->ev.status = p->command_status;
            ev_textf(e, "bind refused (generic_nack): SMPP 0x%02X %s: %s",
                     p->command_status);
            close_link(s, now, "bind refused");
            return;
        }
        if (s->enq_pending && seq == s->enq_seq) {
            s->enq_pending = 0;
            return;
        }
        /* Otherwise a nack for a submit_sm. */
        /* fall through */
    case SMPP_SUBMIT_SM_RESP:
        for (unsigned i = 0; i < s->ninf; i++)
            if (s->inf[i].seq == seq) {
                on_submit_resp(s, i, p, now);
                pump(s, now);
                return;
            }
        return; /* late or unknown: ignore */
    case SMPP_ENQUIRE_LINK_RESP:
        if (s->enq_pending && seq == s->enq_seq)
            s->enq_pending = 0;
        return;
    case SMPP_ENQUIRE_LINK:
        put_simple(s, SMPP_ENQUIRE_LINK_RESP, seq, 0);
        return;
    case SMPP_UNBIND:
        put_simple(s, SMPP_UNBIND_RESP, seq, 0);
        close_link(s, now, "unbind from the SMSC");
        return;
    case SMPP_UNBIND_RESP:
        if (s->st == SMPP_ST_UNBINDING)
            close_link(s, now, "unbound");
        return;
    case SMPP_DELIVER_SM:
        if (s->st != SMPP_ST_BOUND && s->st != SMPP_ST_UNBINDING) {
            put_simple(s, SMPP_GENERIC_NACK, seq, SMPP_ESME_RINVBNDSTS);
            s->st_.nacks_sent++;
            return;
        }
        on_deliver(s, p, now);
        return;
    case SMPP_DELIVER_SM_RESP:
        return;
    default: /* a request we do not serve (bind from the SMSC, submit_sm...) */
        if (!(cmd & SMPP_RESP_BIT)) {
            put_simple(s, SMPP_GENERIC_NACK, seq, SMPP_ESME_RINVCMDID);
            s->st_.nacks_sent++;
        }
        return;
    }
}

int smpp_session_input(smpp_session *s, const void *bytes, size_t n, int64_t now)
{
    if (s->st == SMPP_ST_IDLE || s->st == SMPP_ST_STOPPED || s->st == SMPP_ST_CONNECTING)
        return 0;
    if (s->in_n + n > s->in_cap) {
        while (s->in_n + n > s->in_cap)
            s->in_cap = s->in_cap ? 2 * s->in_cap : 8192;
        s->in = xrealloc(s->in, s->in_cap);
    }
    memcpy(s->in + s->in_n, bytes, n);
    s->in_n += n;
    s->last_rx = now;
    size_t off = 0;
    uint32_t gen = s->gen;
    while (s->gen == gen) {
        long len = smpp_pdu_frame(s->in + off, s->in_n - off);
        if (len < 0) {
            close_link(s, now, "unframeable PDU (bad command_length)");
            return (int)len;
        }
        if (len == 0 || (size_t)len > s->in_n - off)
            break;
        smpp_pdu p;
        int r = smpp_pdu_decode(s->in + off, (size_t)len, &p);
        off += (size_t)len;
        if (r != 0) {
            /* Framed but malformed: answer requests with generic_nack; a
             * malformed response is dropped (its timeout will fire). */
            if (!(p.command_id & SMPP_RESP_BIT) || r == -SMPP_ECMD) {
                put_simple(s, SMPP_GENERIC_NACK, p.sequence_number, smpp_err_status(r));
                s->st_.nacks_sent++;
            }
            continue;
        }
        on_pdu(s, &p, now);
    }
    if (s->gen != gen)
        return 0; /* the link went down inside: buffers were reset */
    memmove(s->in, s->in + off, s->in_n - off);
    s->in_n -= off;
    return 0;
}

const uint8_t *smpp_session_out(const smpp_session *s, size_t *n)
{
    *n = s->out_n - s->out_off;
    return s->out + s->out_off;
}

void smpp_session_out_consume(smpp_session *s, size_t n)
{
    if (n > s->out_n - s->out_off)
        n = s->out_n - s->out_off;
    s->out_off += n;
    if (s->out_off == s->out_n)
        s->out_off = s->out_n = 0;
}

int smpp_session_ack(smpp_session *s, uint64_t ack, uint32_t status)
{
    if (ack == 0)
        return 0;
    if ((uint32_t)(ack >> 32) != s->gen || s->st < SMPP_ST_BINDING ||
        s->st > SMPP_ST_UNBINDING)
        return -ESTALE;
    put_simple(s, SMPP_DELIVER_SM_RESP, (uint32_t)ack, status);
    return 0;
}

/* ---- timers ------------------------------------------------------------- */

void smpp_session_tick(smpp_session *s, int64_t now)
{
    int64_t to = s->cfg.resp_timeout_ms;
    for (mo_asm *a = s->mo, *nx; a; a = nx) {
        nx = a->next;
        if (now - a->started >= s->cfg.mo_timeout_ms) {
            mo_emit_asm(s, a, 0);
            mo_remove(s, a);
        }
    }
    switch (s->st) {
    case SMPP_ST_IDLE:
        if (now >= s->reconnect_at) {
            s->st = SMPP_ST_CONNECTING;
            s->conn_started = now;
            ev_new(s, SMPP_EV_CONNECT, -1);
        }
        return;
    case SMPP_ST_CONNECTING:
        if (now - s->conn_started >= to) {
            close_link(s, now, "connect timeout");
        }
        return;
    case SMPP_ST_BINDING:
        if (now - s->bind_sent >= to)
            close_link(s, now, "bind_transceiver_resp timeout");
        return;
    case SMPP_ST_UNBINDING:
        if (now - s->unbind_sent >= to)
            close_link(s, now, "unbind_resp timeout");
        return;
    case SMPP_ST_BOUND:
        break;
    case SMPP_ST_STOPPED:
        return;
    }
    for (unsigned i = 0; i < s->ninf; i++)
        if (now - s->inf[i].sent_at >= to) {
            close_link(s, now, "submit_sm_resp timeout");
            return;
        }
    if (s->enq_pending) {
        if (now - s->enq_sent >= to) {
            close_link(s, now, "enquire_link_resp timeout");
            return;
        }
    } else if (now - s->last_rx >= s->cfg.enquire_ms) {
        s->enq_seq = seq_next(s);
        put_simple(s, SMPP_ENQUIRE_LINK, s->enq_seq, 0);
        s->enq_sent = now;
        s->enq_pending = 1;
        s->st_.enquires_sent++;
    }
    pump(s, now);
}

static int64_t min64(int64_t a, int64_t b)
{
    return a < b ? a : b;
}

int64_t smpp_session_next_deadline(const smpp_session *s)
{
    int64_t d = INT64_MAX, to = s->cfg.resp_timeout_ms;
    for (const mo_asm *a = s->mo; a; a = a->next)
        d = min64(d, a->started + s->cfg.mo_timeout_ms);
    switch (s->st) {
    case SMPP_ST_IDLE:
        return min64(d, s->reconnect_at);
    case SMPP_ST_CONNECTING:
        return min64(d, s->conn_started + to);
    case SMPP_ST_BINDING:
        return min64(d, s->bind_sent + to);
    case SMPP_ST_UNBINDING:
        return min64(d, s->unbind_sent + to);
    case SMPP_ST_STOPPED:
        return d;
    case SMPP_ST_BOUND:
        break;
    }
    for (unsigned i = 0; i < s->ninf; i++)
        d = min64(d, s->inf[i].sent_at + to);
    d = min64(d, s->enq_pending ? s->enq_sent + to : s->last_rx + s->cfg.enquire_ms);
    if (s->ninf < s->cfg.window && s->nmsg > 0) {
        unsigned i;
        if (next_queued((smpp_session *)s, &i))
            d = min64(d, throttle_at(s));
    }
    return d;
}

int smpp_session_poll(smpp_session *s, smpp_event *ev)
{
    ev_free(s->ev_cur);
    s->ev_cur = NULL;
    evrec *e = s->ev_head;
    if (!e)
        return 0;
    s->ev_head = e->next;
    if (!s->ev_head)
        s->ev_tail = NULL;
    s->ev_cur = e;
    *ev = e->ev;
    ev->id = str_c(e->id);
    ev->provider_id = str_c(e->provider_id);
    ev->from = str_c(e->from);
    ev->to = str_c(e->to);
    ev->stat = str_c(e->stat);
    ev->err = str_c(e->err);
    if (!e->text)
        ev->text = STR_LIT("");
    return 1;
}

const char *smpp_state_name(enum smpp_state st)
{
    static const char *const n[] = {"idle",  "connecting", "binding",
                                    "bound", "unbinding",  "stopped"};
    return (unsigned)st < 6 ? n[st] : "?";
}

const char *smpp_event_name(enum smpp_event_type t)
{
    static const char *const n[] = {"?",      "connect", "close", "bound",
                                    "bind_failed", "sent", "failed", "retry",
                                    "unknown", "mo",     "dlr"};
    return (unsigned)t < sizeof n / sizeof n[0] ? n[t] : "?";
}
