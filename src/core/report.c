/*
 * report.c: the fold (report.h). State kept while folding: every agent's
 * state and teams, every open conversation's queue, entry point, owner,
 * guest, open queue leg, and which agents hold it or owe it a wrap-up.
 */
#include "core/report.h"

#include <stdlib.h>
#include <string.h>

#include "util/hmap.h"
#include "util/xalloc.h"

#define DAY_MS 86400000LL

typedef struct samples {
    int64_t *v;
    size_t n, cap;
} samples;

typedef struct rowx {
    report_row row;
    samples s[3]; /* accept, reply, handle */
} rowx;

typedef struct eng { /* one agent on one conversation */
    uint32_t agent, queue;
    int held, owed;
    int64_t since; /* first took it (handle time runs from here) */
} eng;

typedef struct conv {
    uint32_t id, queue, ep, owner, guest;
    int outbound, replied, leg_open;
    uint32_t leg_queue;
    int64_t opened, leg_start, offer_at;
    eng *e;
    size_t ne, cape;
} conv;

typedef struct agent {
    uint32_t id;
    int state;
    uint32_t reason;
    int64_t since;
    uint32_t *teams;
    size_t nteams;
    uint32_t busy; /* conversations held or owed */
    int64_t busy_since;
} agent;

struct report {
    report_opts o;
    int64_t stop; /* min(to, now) once finished; 'to' before */
    uint32_t *slq;
    int64_t *slms;
    hmap rows_ix, convs, agents, counts_ix;
    rowx **rows;
    size_t nrows, caprows;
    report_row *out;
    report_count **counts;
    size_t ncounts, capcounts;
    report_count *cout;
    report_span *spans;
    size_t nspans, capspans;
    int64_t cs, ce; /* the last interval looked up */
    rowx *near[256]; /* rows looked up lately, by (dim, id): most events
                        count for the same few rows of one interval */
    size_t pending; /* open queue legs that started in the range */
};

static int in_range(const report *r, int64_t t)
{
    return t >= r->o.from && t < r->o.to;
}

/* ---- intervals --------------------------------------------------------- */

static int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

static int64_t off_ms(const report_opts *o, int64_t t)
{
    return (int64_t)tz_offset(&o->tz, floor_div(t, 1000)) * 1000;
}

int32_t report_utc_offset(const report_opts *o, int64_t t)
{
    return (int32_t)(off_ms(o, t) / 1000);
}

/* The first ms in (lo, hi] whose offset differs from lo's (hi if none). */
static int64_t change_after(const report_opts *o, int64_t lo, int64_t hi)
{
    int64_t off = off_ms(o, lo);
    if (off_ms(o, hi) == off)
        return hi;
    while (hi - lo > 1) {
        int64_t mid = lo + (hi - lo) / 2;
        if (off_ms(o, mid) == off)
            lo = mid;
        else
            hi = mid;
    }
    return hi;
}

void report_interval(const report_opts *o, int64_t t, int64_t *start, int64_t *end)
{
    int64_t off = off_ms(o, t), s, e;
    switch (o->step) {
    case REPORT_15MIN:
    case REPORT_HOUR: {
        int64_t size = o->step == REPORT_HOUR ? 3600000 : 900000;
        s = floor_div(t + off, size) * size - off;
        e = s + size;
        /* an offset change inside (a zone whose shift is not a multiple of
         * the interval) cuts the interval there */
        if (off_ms(o, s) != off)
            s = change_after(o, s, t);
        if (off_ms(o, e - 1) != off)
            e = change_after(o, t, e - 1);
        break;
    }
    case REPORT_DAY: {
        int64_t d = floor_div(t + off, DAY_MS);
        s = d * DAY_MS - off_ms(o, d * DAY_MS - off);
        e = (d + 1) * DAY_MS - off_ms(o, (d + 1) * DAY_MS - off);
        if (s > t) /* local midnight skipped by a shift at midnight */
            s = t;
        if (e <= t)
            e = t + 1;
        break;
    }
    default:
        s = o->from;
        e = o->to;
    }
    *start = s;
    *end = e;
}

/* ---- rows -------------------------------------------------------------- */

typedef struct rkey {
    int dim;
    uint32_t id;
    int64_t start;
} rkey;

static uint64_t rhash(int dim, uint32_t id, int64_t start)
{
    return hmap_hash_u64(((uint64_t)start * 31u) ^ ((uint64_t)id << 3) ^ (uint64_t)dim);
}

static int row_eq(const void *e, const void *k)
{
    const report_row *a = e;
    const rkey *b = k;
    return a->dim == b->dim && a->id == b->id && a->start == b->start;
}

static rowx *row_get(report *r, int dim, uint32_t id, int64_t s, int64_t e)
{
    rowx **near = &r->near[(id * 5u + (uint32_t)dim) & 255u];
    if (*near && (*near)->row.id == id && (*near)->row.dim == dim && (*near)->row.start == s)
        return *near;
    rkey k = {dim, id, s};
    uint64_t h = rhash(dim, id, s);
    rowx *x = hmap_get(&r->rows_ix, h, row_eq, &k);
    if (x)
        return *near = x;
    x = xcalloc(1, sizeof *x);
    x->row.dim = dim;
    x->row.id = id;
    x->row.start = s;
    x->row.end = e;
    hmap_put(&r->rows_ix, h, x);
    if (r->nrows == r->caprows) {
        r->caprows = r->caprows ? r->caprows * 2 : 64;
        r->rows = xrealloc(r->rows, r->caprows * sizeof *r->rows);
    }
    r->rows[r->nrows++] = x;
    return *near = x;
}

/* The interval of 't', or 0 when 't' is outside the range. */
static int at(report *r, int64_t t, int64_t *s, int64_t *e)
{
    if (t < r->o.from || t >= r->o.to)
        return 0;
    if (!(t >= r->cs && t < r->ce))
        report_interval(&r->o, t, &r->cs, &r->ce);
    *s = r->cs;
    *e = r->ce;
    return 1;
}

/* Whom a figure counts for: 'total' row, queue, entry point, agent (and
 * the agent's teams); 0: not that dimension. */
typedef struct who {
    int total;
    uint32_t queue, ep, agent;
} who;

static agent *agent_find(report *r, uint32_t id);

/* Calls 'fn' on every row 'w' names in the interval of 't'. */
typedef void (*row_fn)(report *r, rowx *x, const void *arg);

static void each(report *r, int64_t t, who w, row_fn fn, const void *arg)
{
    int64_t s, e;
    if (!at(r, t, &s, &e))
        return;
    rowx *tot = row_get(r, REPORT_TOTAL, 0, s, e); /* present in every interval */
    if (w.total)
        fn(r, tot, arg);
    if (w.queue)
        fn(r, row_get(r, REPORT_QUEUE, w.queue, s, e), arg);
    if (w.ep)
        fn(r, row_get(r, REPORT_EP, w.ep, s, e), arg);
    if (w.agent) {
        fn(r, row_get(r, REPORT_AGENT, w.agent, s, e), arg);
        agent *a = agent_find(r, w.agent);
        for (size_t i = 0; a && i < a->nteams; i++)
            fn(r, row_get(r, REPORT_TEAM, a->teams[i], s, e), arg);
    }
}

typedef struct add_arg {
    size_t field; /* offset of a uint64_t in report_row */
    uint64_t n;
} add_arg;

static void add_fn(report *r, rowx *x, const void *arg)
{
    (void)r;
    const add_arg *a = arg;
    *(uint64_t *)((char *)&x->row + a->field) += a->n;
}

static void add(report *r, int64_t t, who w, size_t field, uint64_t n)
{
    add_arg a = {field, n};
    each(r, t, w, add_fn, &a);
}

#define BUMP(r, t, w, field) add((r), (t), (w), offsetof(report_row, field), 1)

typedef struct sample_arg {
    int which;
    int64_t v;
} sample_arg;

static void sample_fn(report *r, rowx *x, const void *arg)
{
    (void)r;
    const sample_arg *a = arg;
    samples *s = &x->s[a->which];
    if (s->n == s->cap) {
        s->cap = s->cap ? s->cap * 2 : 8;
        s->v = xrealloc(s->v, s->cap * sizeof *s->v);
    }
    s->v[s->n++] = a->v;
}

static void sample(report *r, int64_t t, who w, int which, int64_t v)
{
    sample_arg a = {which, v < 0 ? 0 : v};
    each(r, t, w, sample_fn, &a);
}

typedef struct count_arg {
    int kind;
    uint32_t reason;
    int64_t v;
} count_arg;

typedef struct ckey {
    int dim;
    uint32_t id;
    int64_t start;
    int kind;
    uint32_t reason;
} ckey;

static int count_eq(const void *e, const void *k)
{
    const report_count *a = e;
    const ckey *b = k;
    return a->dim == b->dim && a->id == b->id && a->start == b->start && a->kind == b->kind &&
           a->reason == b->reason;
}

static void count_fn(report *r, rowx *x, const void *arg)
{
    const count_arg *a = arg;
    ckey k = {x->row.dim, x->row.id, x->row.start, a->kind, a->reason};
    uint64_t h = rhash(k.dim, k.id, k.start) ^ hmap_hash_u64(((uint64_t)k.kind << 32) | k.reason);
    report_count *c = hmap_get(&r->counts_ix, h, count_eq, &k);
    if (!c) {
        c = xcalloc(1, sizeof *c);
        *c = (report_count){k.dim, k.id, k.start, k.kind, k.reason, 0};
        hmap_put(&r->counts_ix, h, c);
        if (r->ncounts == r->capcounts) {
            r->capcounts = r->capcounts ? r->capcounts * 2 : 64;
            r->counts = xrealloc(r->counts, r->capcounts * sizeof *r->counts);
        }
        r->counts[r->ncounts++] = c;
    }
    c->value += a->v;
}

/* ---- agents ------------------------------------------------------------ */

static int id_eq(const void *e, const void *k)
{
    return *(const uint32_t *)e == *(const uint32_t *)k; /* id is the first field */
}

static agent *agent_find(report *r, uint32_t id)
{
    return hmap_get(&r->agents, hmap_hash_u64(id), id_eq, &id);
}

static agent *agent_get(report *r, uint32_t id)
{
    agent *a = agent_find(r, id);
    if (!a) {
        a = xcalloc(1, sizeof *a);
        a->id = id;
        a->state = CC_AGENT_LOGGED_OUT;
        hmap_put(&r->agents, hmap_hash_u64(id), a);
    }
    return a;
}

typedef struct dur_arg {
    size_t field; /* offset of an int64_t in report_row */
    int64_t v;
} dur_arg;

static void dur_fn(report *r, rowx *x, const void *arg)
{
    (void)r;
    const dur_arg *a = arg;
    *(int64_t *)((char *)&x->row + a->field) += a->v;
}

static void idle_fn(report *r, rowx *x, const void *arg)
{
    if (x->row.dim == REPORT_AGENT || x->row.dim == REPORT_TEAM)
        count_fn(r, x, arg);
}

/* Adds [t0, t1) of agent 'a' to 'field' (and to idle time by 'reason'
 * when 'idle'), split over the intervals, clipped to the range. */
static void accrue(report *r, const agent *a, int64_t t0, int64_t t1, size_t field, int idle,
                   uint32_t reason)
{
    if (t0 < r->o.from)
        t0 = r->o.from;
    if (t1 > r->stop)
        t1 = r->stop;
    while (t0 < t1) {
        int64_t s, e;
        if (!at(r, t0, &s, &e))
            return;
        int64_t t = e < t1 ? e : t1;
        dur_arg d = {field, t - t0};
        each(r, t0, (who){0, 0, 0, a->id}, dur_fn, &d);
        if (idle) {
            count_arg c = {REPORT_IDLE_MS, reason, t - t0};
            each(r, t0, (who){0, 0, 0, a->id}, idle_fn, &c);
        }
        t0 = t;
    }
}

static void span_close(report *r, agent *a, int64_t t)
{
    if (a->state != CC_AGENT_LOGGED_OUT) {
        size_t f = offsetof(report_row, state_ms) + (size_t)a->state * sizeof(int64_t);
        accrue(r, a, a->since, t, f, a->state == CC_AGENT_IDLE, a->reason);
        int64_t s = a->since > r->o.from ? a->since : r->o.from;
        int64_t e = t < r->stop ? t : r->stop;
        if (s < e) {
            if (r->nspans == r->capspans) {
                r->capspans = r->capspans ? r->capspans * 2 : 64;
                r->spans = xrealloc(r->spans, r->capspans * sizeof *r->spans);
            }
            r->spans[r->nspans++] = (report_span){a->id, a->state, a->reason, s, e};
        }
    }
    a->since = t;
}

static void busy_add(report *r, agent *a, int64_t t, int d)
{
    if (d > 0 && a->busy++ == 0)
        a->busy_since = t;
    if (d < 0 && a->busy > 0 && --a->busy == 0)
        accrue(r, a, a->busy_since, t, offsetof(report_row, busy_ms), 0, 0);
}

/* ---- conversations ----------------------------------------------------- */

static conv *conv_find(report *r, uint32_t id)
{
    return hmap_get(&r->convs, hmap_hash_u64(id), id_eq, &id);
}

static eng *eng_get(conv *v, uint32_t ag)
{
    for (size_t i = 0; i < v->ne; i++)
        if (v->e[i].agent == ag)
            return &v->e[i];
    if (v->ne == v->cape) {
        v->cape = v->cape ? v->cape * 2 : 2;
        v->e = xrealloc(v->e, v->cape * sizeof *v->e);
    }
    v->e[v->ne] = (eng){.agent = ag, .queue = v->queue};
    return &v->e[v->ne++];
}

/* 'agent' takes part in 'v' (owner or guest) from 't'. */
static void take(report *r, conv *v, uint32_t ag, int64_t t)
{
    if (!ag)
        return;
    eng *e = eng_get(v, ag);
    if (!e->held && !e->owed)
        busy_add(r, agent_get(r, ag), t, +1);
    if (!e->since)
        e->since = t;
    e->held = 1;
    e->queue = v->queue;
}

static void let_go(report *r, conv *v, uint32_t ag, int64_t t)
{
    if (!ag)
        return;
    eng *e = eng_get(v, ag);
    if (e->held && !e->owed)
        busy_add(r, agent_get(r, ag), t, -1);
    e->held = 0;
}

static who conv_who(const conv *v, uint32_t ag)
{
    return (who){1, v->queue, v->ep, ag};
}

static void conv_free(report *r, conv *v, int64_t t)
{
    for (size_t i = 0; i < v->ne; i++)
        if (v->e[i].held || v->e[i].owed)
            busy_add(r, agent_get(r, v->e[i].agent), t, -1);
    hmap_del(&r->convs, hmap_hash_u64(v->id), id_eq, &v->id);
    free(v->e);
    free(v);
}

static void leg_end(report *r, conv *v, size_t field)
{
    if (!v->leg_open)
        return;
    who w = {1, v->leg_queue, v->ep, 0};
    add(r, v->leg_start, w, field, 1);
    BUMP(r, v->leg_start, w, sl_base);
    v->leg_open = 0;
    if (in_range(r, v->leg_start))
        r->pending--;
}

/* ---- the fold ---------------------------------------------------------- */

report *report_new(const report_opts *o)
{
    report *r = xcalloc(1, sizeof *r);
    r->o = *o;
    if (!r->o.sl_default_ms)
        r->o.sl_default_ms = REPORT_SL_DEFAULT_MS;
    if (o->n_sl) {
        r->slq = xmalloc(o->n_sl * sizeof *r->slq);
        r->slms = xmalloc(o->n_sl * sizeof *r->slms);
        memcpy(r->slq, o->sl_queues, o->n_sl * sizeof *r->slq);
        memcpy(r->slms, o->sl_ms, o->n_sl * sizeof *r->slms);
    }
    r->o.sl_queues = r->slq;
    r->o.sl_ms = r->slms;
    r->stop = o->to;
    r->cs = r->ce = INT64_MIN;
    hmap_init(&r->rows_ix);
    hmap_init(&r->convs);
    hmap_init(&r->agents);
    hmap_init(&r->counts_ix);
    return r;
}

report *report_resume(const report_opts *o, const report *state)
{
    report *r = report_new(o);
    if (!state)
        return r;
    size_t i = 0;
    void *e;
    while (hmap_next(&state->agents, &i, &e)) {
        const agent *s = e;
        agent *a = xmalloc(sizeof *a);
        *a = *s;
        a->teams = xmalloc((s->nteams + 1) * sizeof *a->teams);
        if (s->nteams)
            memcpy(a->teams, s->teams, s->nteams * sizeof *a->teams);
        hmap_put(&r->agents, hmap_hash_u64(a->id), a);
    }
    i = 0;
    while (hmap_next(&state->convs, &i, &e)) {
        const conv *s = e;
        conv *v = xmalloc(sizeof *v);
        *v = *s;
        v->cape = s->ne;
        v->e = xmalloc((s->ne + 1) * sizeof *v->e);
        if (s->ne)
            memcpy(v->e, s->e, s->ne * sizeof *v->e);
        hmap_put(&r->convs, hmap_hash_u64(v->id), v);
        r->pending += v->leg_open && in_range(r, v->leg_start);
    }
    return r;
}

int report_done(const report *r, int64_t t)
{
    return t >= r->o.to && r->pending == 0;
}

int report_peek(const report *r, int dim, uint32_t id, int64_t t, report_row *out)
{
    int64_t s, e;
    if (t < r->o.from || t >= r->o.to)
        return -1;
    report_interval(&r->o, t, &s, &e);
    rkey k = {dim, id, s};
    const rowx *x = hmap_get(&r->rows_ix, rhash(dim, id, s), row_eq, &k);
    if (!x)
        return -1;
    *out = x->row;
    return 0;
}

int64_t report_sl_ms(const report *r, uint32_t queue)
{
    for (size_t i = 0; i < r->o.n_sl; i++)
        if (r->o.sl_queues[i] == queue)
            return r->o.sl_ms[i];
    return r->o.sl_default_ms;
}

void report_add(report *r, const cc_event *ev, uint32_t segments)
{
    int64_t t = ev->at;
    conv *v = ev->conv ? conv_find(r, ev->conv) : NULL;
    agent *a;
    switch (ev->type) {
    case CC_EV_AGENT_PUT:
        a = agent_get(r, ev->agent);
        free(a->teams);
        a->nteams = ev->n_ids;
        a->teams = xmalloc((ev->n_ids + 1) * sizeof *a->teams);
        if (ev->n_ids)
            memcpy(a->teams, ev->ids, ev->n_ids * sizeof *a->teams);
        return;
    case CC_EV_AGENT_REMOVED:
        if ((a = agent_find(r, ev->agent))) {
            span_close(r, a, t);
            if (a->busy) {
                a->busy = 1;
                busy_add(r, a, t, -1);
            }
            hmap_del(&r->agents, hmap_hash_u64(a->id), id_eq, &a->id);
            free(a->teams);
            free(a);
        }
        return;
    case CC_EV_AGENT_STATE:
        a = agent_get(r, ev->agent);
        span_close(r, a, t);
        if (ev->state == CC_AGENT_RONA)
            BUMP(r, t, ((who){0, 0, 0, a->id}), rona);
        a->state = ev->state;
        a->reason = ev->state == CC_AGENT_IDLE ? ev->reason : 0;
        return;
    case CC_EV_CONV_OPENED:
        if (v)
            return;
        v = xcalloc(1, sizeof *v);
        *v = (conv){.id = ev->conv, .queue = ev->queue, .ep = ev->ep, .opened = t,
                    .outbound = ev->kind == 1};
        hmap_put(&r->convs, hmap_hash_u64(v->id), v);
        if (v->outbound) {
            v->owner = ev->agent;
            take(r, v, ev->agent, t);
        }
        return;
    case CC_EV_CSAT_ASKED:
        BUMP(r, t, ((who){1, ev->queue, ev->ep, ev->agent}), csat_asked);
        return;
    case CC_EV_CSAT_ANSWERED:
        if (ev->reason < 1 || ev->reason > 5)
            return;
        {
            who w = {1, ev->queue, ev->ep, ev->agent};
            BUMP(r, t, w, csat_answers);
            add(r, t, w, offsetof(report_row, csat_sum), ev->reason);
            add(r, t, w, offsetof(report_row, csat_by_score) + (ev->reason - 1) * sizeof(uint64_t), 1);
        }
        return;
    case CC_EV_OPTED_OUT:
        BUMP(r, t, ((who){1, v ? v->queue : 0, ev->ep, 0}), opt_outs);
        return;
    }
    if (!v)
        return;
    switch (ev->type) {
    case CC_EV_MSG_IN:
        BUMP(r, t, conv_who(v, 0), msgs_in);
        break;
    case CC_EV_MSG_OUT: {
        BUMP(r, t, conv_who(v, ev->agent), msgs_out);
        add(r, t, conv_who(v, ev->agent), offsetof(report_row, segments), segments);
        if (ev->agent && !v->replied && !v->outbound) {
            v->replied = 1;
            sample(r, t, conv_who(v, ev->agent), 1, t - v->opened);
        }
        break;
    }
    case CC_EV_QUEUED:
        let_go(r, v, v->owner, t);
        v->owner = 0;
        v->queue = ev->queue;
        if (!v->leg_open) {
            v->leg_open = 1;
            v->leg_queue = ev->queue;
            v->leg_start = t;
            r->pending += in_range(r, t);
            BUMP(r, t, ((who){1, ev->queue, v->ep, 0}), offered);
        }
        break;
    case CC_EV_OVERFLOWED:
        leg_end(r, v, offsetof(report_row, expired));
        break;
    case CC_EV_OFFERED:
        v->offer_at = t;
        BUMP(r, t, ((who){0, 0, 0, ev->agent}), offered);
        break;
    case CC_EV_OFFER_WITHDRAWN:
        if (ev->code == CC_WHY_TIMEOUT)
            BUMP(r, t, ((who){1, v->queue, v->ep, 0}), rona);
        break;
    case CC_EV_ACCEPTED:
        BUMP(r, t, ((who){0, 0, 0, ev->agent}), accepted);
        sample(r, t, (who){0, 0, 0, ev->agent}, 0, t - v->offer_at);
        v->owner = ev->agent;
        take(r, v, ev->agent, t);
        if (v->leg_open) {
            int64_t wait = t - v->leg_start;
            who w = {1, v->leg_queue, v->ep, 0};
            sample(r, v->leg_start, w, 0, wait);
            if (wait <= report_sl_ms(r, v->leg_queue))
                BUMP(r, v->leg_start, w, sl_met);
            leg_end(r, v, offsetof(report_row, accepted));
        }
        break;
    case CC_EV_TRANSFERRED:
        BUMP(r, t, conv_who(v, ev->agent), transferred);
        let_go(r, v, ev->agent, t);
        v->owner = 0;
        break;
    case CC_EV_OWNER_CHANGED:
        let_go(r, v, ev->agent, t);
        v->owner = ev->target;
        v->guest = 0;
        break;
    case CC_EV_CONF_JOINED:
        BUMP(r, t, conv_who(v, ev->target), conferenced);
        v->guest = ev->target;
        take(r, v, ev->target, t);
        break;
    case CC_EV_CONF_LEFT:
        let_go(r, v, ev->target, t);
        v->guest = 0;
        break;
    case CC_EV_ENDED:
        if (ev->agent) /* not a terminated conversation the system closed */
            BUMP(r, t, conv_who(v, ev->agent), ended);
        let_go(r, v, v->owner, t);
        v->owner = 0;
        break;
    case CC_EV_WRAPUP_DUE: {
        eng *e = eng_get(v, ev->agent);
        if (!e->held && !e->owed)
            busy_add(r, agent_get(r, ev->agent), t, +1);
        if (!e->since)
            e->since = t;
        e->owed = 1;
        e->queue = ev->queue;
        break;
    }
    case CC_EV_WRAPPED_UP: {
        eng *e = eng_get(v, ev->agent);
        who w = {1, e->queue, v->ep, ev->agent};
        sample(r, t, w, 2, t - e->since);
        if (ev->reason) {
            count_arg c = {REPORT_WRAPUPS, ev->reason, 1};
            each(r, t, w, count_fn, &c);
        }
        if (e->owed && !e->held)
            busy_add(r, agent_get(r, ev->agent), t, -1);
        e->owed = 0;
        e->since = 0;
        break;
    }
    case CC_EV_CLOSED:
        leg_end(r, v, offsetof(report_row, abandoned));
        conv_free(r, v, t);
        break;
    }
}

/* ---- results ----------------------------------------------------------- */

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

static void stat_of(samples *s, report_stat *out)
{
    out->n = s->n;
    out->sum_ms = 0;
    out->p90_ms = 0;
    if (!s->n)
        return;
    for (size_t i = 0; i < s->n; i++)
        out->sum_ms += s->v[i];
    qsort(s->v, s->n, sizeof *s->v, cmp_i64);
    size_t k = (s->n * 9 + 9) / 10; /* ceil(0.9 n), 1-based */
    out->p90_ms = s->v[k - 1];
}

static int cmp_key(int d1, uint32_t i1, int64_t s1, int d2, uint32_t i2, int64_t s2)
{
    if (d1 != d2)
        return d1 < d2 ? -1 : 1;
    if (i1 != i2)
        return i1 < i2 ? -1 : 1;
    return (s1 > s2) - (s1 < s2);
}

static int cmp_row(const void *a, const void *b)
{
    const report_row *x = a, *y = b;
    return cmp_key(x->dim, x->id, x->start, y->dim, y->id, y->start);
}

static int cmp_count(const void *a, const void *b)
{
    const report_count *x = a, *y = b;
    int c = cmp_key(x->dim, x->id, x->start, y->dim, y->id, y->start);
    if (c)
        return c;
    if (x->kind != y->kind)
        return x->kind < y->kind ? -1 : 1;
    return (x->reason > y->reason) - (x->reason < y->reason);
}

static int cmp_span(const void *a, const void *b)
{
    const report_span *x = a, *y = b;
    return cmp_key(0, x->agent, x->start, 0, y->agent, y->start);
}

void report_finish(report *r, int64_t now)
{
    if (r->out)
        return;
    if (now < r->stop)
        r->stop = now;
    size_t i = 0;
    void *e;
    while (hmap_next(&r->agents, &i, &e)) {
        agent *a = e;
        span_close(r, a, r->stop);
        if (a->busy)
            accrue(r, a, a->busy_since, r->stop, offsetof(report_row, busy_ms), 0, 0);
    }
    r->out = xmalloc((r->nrows + 1) * sizeof *r->out);
    for (i = 0; i < r->nrows; i++) {
        rowx *x = r->rows[i];
        stat_of(&x->s[0], &x->row.accept);
        stat_of(&x->s[1], &x->row.reply);
        stat_of(&x->s[2], &x->row.handle);
        r->out[i] = x->row;
    }
    qsort(r->out, r->nrows, sizeof *r->out, cmp_row);
    r->cout = xmalloc((r->ncounts + 1) * sizeof *r->cout);
    for (i = 0; i < r->ncounts; i++)
        r->cout[i] = *r->counts[i];
    qsort(r->cout, r->ncounts, sizeof *r->cout, cmp_count);
    if (r->nspans)
        qsort(r->spans, r->nspans, sizeof *r->spans, cmp_span);
}

size_t report_rows(const report *r, const report_row **out)
{
    *out = r->out;
    return r->out ? r->nrows : 0;
}

size_t report_counts(const report *r, const report_count **out)
{
    *out = r->cout;
    return r->cout ? r->ncounts : 0;
}

size_t report_spans(const report *r, const report_span **out)
{
    *out = r->spans;
    return r->out ? r->nspans : 0;
}

void report_free(report *r)
{
    if (!r)
        return;
    size_t i = 0;
    void *e;
    while (hmap_next(&r->convs, &i, &e)) {
        free(((conv *)e)->e);
        free(e);
    }
    i = 0;
    while (hmap_next(&r->agents, &i, &e)) {
        free(((agent *)e)->teams);
        free(e);
    }
    for (i = 0; i < r->nrows; i++) {
        for (int k = 0; k < 3; k++)
            free(r->rows[i]->s[k].v);
        free(r->rows[i]);
    }
    for (i = 0; i < r->ncounts; i++)
        free(r->counts[i]);
    hmap_free(&r->rows_ix);
    hmap_free(&r->convs);
    hmap_free(&r->agents);
    hmap_free(&r->counts_ix);
    free(r->rows);
    free(r->out);
    free(r->counts);
    free(r->cout);
    free(r->spans);
    free(r->slq);
    free(r->slms);
    free(r);
}
