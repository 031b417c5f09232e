/*
 * api_report.c: GET /api/admin/report/conversations.csv?from=MS&to=MS —
 * one row per conversation opened in [from, to) (milliseconds since the
 * epoch; to defaults to now), built from the event log: when it was opened,
 * first offered, first accepted, ended and last wrapped up; its queue, the
 * agents who handled it, the wrap-up reasons, message counts, transfers and
 * conferences. RFC 4180 CSV (CRLF, quotes doubled), UTF-8, times ISO 8601
 * UTC. Customer numbers are masked when "mask sensitive customer data" is
 * on, as everywhere else.
 *
 * And the figures of core/report.h over the event log (/api/reports/...,
 * below), for supervisors and administrators.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api/api_int.h"
#include "net/net_work.h"
#include "core/report.h"
#include "net/net.h"
#include "store/flow_json.h"
#include "util/buf.h"
#include "util/xalloc.h"

typedef struct row {
    uint32_t conv, queue, first_queue;
    char number[CC_NUMBER_MAX + 1], ep[CC_NUMBER_MAX + 1];
    int outbound;
    int64_t opened, offered, accepted, ended, wrapped;
    uint32_t msgs_in, msgs_out, transfers, conferences;
    uint32_t agents[8], nagents;
    int out_of_hours, overflowed; /* the entry point's flow */
    uint32_t reasons[8], nreasons;
} row;

typedef struct report {
    int64_t from, to;
    size_t got;        /* events read in this chunk */
    uint64_t last_seq; /* the last one read */
    row *rows;
    size_t n, cap;
    hmap index; /* conv -> row index + 1 (as a pointer-sized int) */
} report;

static int idx_eq(const void *e, const void *key)
{
    (void)e;
    (void)key;
    return 1; /* one conv per hash: keys are the conv ids themselves */
}

static row *find(report *r, uint32_t conv)
{
    void *v = hmap_get(&r->index, hmap_hash_u64(conv), idx_eq, &conv);
    if (!v)
        return NULL;
    row *x = &r->rows[(uintptr_t)v - 1];
    return x->conv == conv ? x : NULL;
}

static void add_id(uint32_t *v, uint32_t *n, uint32_t id)
{
    for (uint32_t i = 0; i < *n; i++)
        if (v[i] == id)
            return;
    if (*n < 8)
        v[(*n)++] = id;
}

static int collect(void *arg, const store_cev *e)
{
    report *r = arg;
    row *x;
    r->got++;
    r->last_seq = (uint64_t)e->seq;
    if (e->type == CC_EV_CONV_OPENED) {
        if (e->at < r->from || e->at >= r->to)
            return 0;
        if (r->n == r->cap) {
            r->cap = r->cap ? r->cap * 2 : 256;
            r->rows = xrealloc(r->rows, r->cap * sizeof *r->rows);
        }
        x = &r->rows[r->n++];
        memset(x, 0, sizeof *x);
        x->conv = e->conv;
        x->opened = e->at;
        x->queue = x->first_queue = e->queue;
        x->outbound = e->agent != 0;
        snprintf(x->number, sizeof x->number, "%.*s", (int)e->number.n,
                 e->number.p ? e->number.p : "");
        snprintf(x->ep, sizeof x->ep, "%.*s", (int)e->ep_number.n,
                 e->ep_number.p ? e->ep_number.p : "");
        if (x->outbound)
            add_id(x->agents, &x->nagents, e->agent), x->accepted = e->at;
        hmap_put(&r->index, hmap_hash_u64(e->conv), (void *)(uintptr_t)r->n);
        return 0;
    }
    if (!(x = find(r, e->conv)))
        return 0;
    switch (e->type) {
    case CC_EV_MSG_IN:
        x->msgs_in++;
        break;
    case CC_EV_MSG_OUT:
        x->msgs_out++;
        break;
    case CC_EV_QUEUED:
        x->queue = e->queue;
        x->out_of_hours |= e->code == CC_WHY_OUT_OF_HOURS;
        break;
    case CC_EV_OVERFLOWED:
        x->overflowed = 1;
        break;
    case CC_EV_CLOSED:
        x->out_of_hours |= e->code == CC_WHY_OUT_OF_HOURS;
        break;
    case CC_EV_OFFERED:
        if (!x->offered)
            x->offered = e->at;
        break;
    case CC_EV_ACCEPTED:
        if (!x->accepted)
            x->accepted = e->at;
        add_id(x->agents, &x->nagents, e->agent);
        break;
    case CC_EV_TRANSFERRED:
        x->transfers++;
        break;
    case CC_EV_CONF_JOINED:
        x->conferences++;
        add_id(x->agents, &x->nagents, e->target);
        break;
    case CC_EV_ENDED:
        x->ended = e->at;
        break;
    case CC_EV_WRAPPED_UP:
        x->wrapped = e->at;
        if (e->reason)
            add_id(x->reasons, &x->nreasons, e->reason);
        break;
    }
    return 0;
}

/* One CSV field, quoted when it holds a comma, quote, CR or LF. */
static void field(buf *b, str s, int last)
{
    int quote = 0;
    for (size_t i = 0; i < s.n; i++)
        quote |= s.p[i] == ',' || s.p[i] == '"' || s.p[i] == '\r' || s.p[i] == '\n';
    if (quote) {
        buf_add(b, "\"", 1);
        for (size_t i = 0; i < s.n; i++) {
            if (s.p[i] == '"')
                buf_add(b, "\"", 1);
            buf_add(b, &s.p[i], 1);
        }
        buf_add(b, "\"", 1);
    } else if (s.n) {
        buf_add(b, s.p, s.n);
    }
    buf_add(b, last ? "\r\n" : ",", last ? 2 : 1);
}

static void time_field(buf *b, int64_t ms)
{
    char t[40] = "";
    if (ms > 0) {
        time_t secs = (time_t)(ms / 1000);
        struct tm tm;
        gmtime_r(&secs, &tm);
        size_t k = strftime(t, sizeof t, "%Y-%m-%dT%H:%M:%S", &tm);
        snprintf(t + k, sizeof t - k, ".%03dZ", (int)(ms % 1000));
    }
    field(b, str_c(t), 0);
}

static void names(buf *b, const cc *c, int kind, const uint32_t *ids, uint32_t n)
{
    buf tmp;
    buf_init(&tmp);
    for (uint32_t i = 0; i < n; i++) {
        str nm = cc_name(c, kind, ids[i]);
        if (i)
            buf_add(&tmp, "; ", 2);
        if (nm.n)
            buf_add(&tmp, nm.p, nm.n);
        else
            buf_printf(&tmp, "#%u", ids[i]);
    }
    field(b, (str){tmp.p ? tmp.p : "", tmp.n}, 0);
    buf_free(&tmp);
}

int64_t api__arg_ms(const http_req *req, const char *name, int64_t dflt, int *bad)
{
    char v[32];
    if (http_req_arg(req, name, v, sizeof v) <= 0)
        return dflt;
    char *end;
    long long x = strtoll(v, &end, 10);
    if (*end || x < 0)
        *bad = 1;
    return x;
}

/* Reads the next 'limit' events (0: all) of the conversations report:
 * 0 while more are left, 1 when all are read, or the store's error. */
static int conv_step(api *a, report *r, size_t limit)
{
    r->got = 0;
    int rc = store_conv_events_some(a->env.st, r->from, r->last_seq, limit, collect, r);
    if (rc != 0)
        return rc < 0 ? rc : -EIO;
    return limit && r->got == limit ? 0 : 1;
}

static void conv_free(report *r)
{
    hmap_free(&r->index);
    free(r->rows);
}

static void store_503(http_resp *resp)
{
    api__resp_error(resp, 503, "store_unavailable",
                    "the event log cannot be read now; try again in a moment");
}

/* The CSV of the conversations read into 'r' (freed here). */
static void conv_answer(api *a, report *r, http_resp *resp)
{
    const cc *c = a->env.core;
    buf *b = &resp->body;
    buf_printf(b, "conversation,customer_number,entry_point,queue,direction,opened_at,"
                  "first_offered_at,accepted_at,ended_at,wrapped_up_at,agents,wrapup_reasons,"
                  "messages_in,messages_out,transfers,conferences,out_of_hours,overflowed\r\n");
    for (size_t i = 0; i < r->n; i++) {
        row *x = &r->rows[i];
        char num[16];
        snprintf(num, sizeof num, "%u", x->conv);
        field(b, str_c(num), 0);
        json_t *shown = json_object(); /* the numbers as this reader may see them */
        api__view_numbers(a, shown, str_c(x->number), str_c(x->ep));
        field(b, str_c(json_string_value(json_object_get(shown, "number"))), 0);
        field(b, str_c(json_string_value(json_object_get(shown, "ep_number"))), 0);
        json_decref(shown);
        field(b, cc_name(c, CC_KIND_QUEUE, x->queue), 0);
        field(b, x->outbound ? STR_LIT("outbound") : STR_LIT("inbound"), 0);
        time_field(b, x->opened);
        time_field(b, x->offered);
        time_field(b, x->accepted);
        time_field(b, x->ended);
        time_field(b, x->wrapped);
        names(b, c, CC_KIND_AGENT, x->agents, x->nagents);
        names(b, c, CC_KIND_REASON, x->reasons, x->nreasons);
        buf_printf(b, "%u,%u,%u,%u,%d,%d\r\n", x->msgs_in, x->msgs_out, x->transfers,
                   x->conferences, x->out_of_hours, x->overflowed);
    }
    conv_free(r);
    resp->status = 200;
    resp->content_type = "text/csv; charset=utf-8";
}

static void run_conv(api *a, const http_req *req, http_resp *resp, const report *r);

void api__report_csv(api *a, const http_req *req, http_resp *resp)
{
    int bad = 0;
    report r = {.from = api__arg_ms(req, "from", 0, &bad),
                .to = api__arg_ms(req, "to", a->env.now(a->env.app) + 1, &bad)};
    if (bad || r.to <= r.from) {
        api__resp_error(resp, 400, "bad_range",
                        "from and to: give milliseconds since 1970, from before to");
        return;
    }
    hmap_init(&r.index);
    if (a->loop) { /* a chunk per loop turn */
        run_conv(a, req, resp, &r);
        return;
    }
    if (conv_step(a, &r, 0) != 1) {
        conv_free(&r);
        store_503(resp);
        return;
    }
    conv_answer(a, &r, resp);
}

/* ---- figures: /api/reports/... (report.h) ------------------------------ */
/*
 *   GET /api/reports/figures[.csv]?from=&to=&step=&tz=&dim=&id=
 *   GET /api/reports/states[.csv]?from=&to=&tz=&agent=
 *   GET /api/reports/settings          PUT (administrators)
 *
 * from/to: milliseconds since 1970, or a local date YYYY-MM-DD (its
 * midnight in the time zone); default today. step: 15min, hour, day, all
 * (default hour). tz: an IANA zone or "UTC" (default: the settings').
 * dim: total, queue, entry_point, agent, team (default all), id: one of
 * them. JSON rows carry exactly the CSV's columns.
 */

#define REPORT_SETTINGS_KEY "reports"
#define REPORT_MAX_ROWS_SPAN (400LL * 86400000LL) /* a range of at most 400 days */

static const char *const dim_names[REPORT_DIMS] = {"total", "queue", "entry_point", "agent",
                                                   "team"};
static const int dim_kinds[REPORT_DIMS] = {-1, CC_KIND_QUEUE, CC_KIND_EP, CC_KIND_AGENT,
                                           CC_KIND_TEAM};

typedef struct rq {
    report_opts o;
    int dim; /* -1: all */
    uint32_t id;
    char tz[64];
    uint32_t slq[256];
    int64_t slms[256];
} rq;

/* The stored report settings (an object; empty when none). */
static json_t *settings_get(api *a)
{
    char v[8192];
    json_t *j = NULL;
    if (store_setting_get(a->env.st, STR_LIT(REPORT_SETTINGS_KEY), v, sizeof v) == 0)
        j = json_loads(v, 0, NULL);
    return json_is_object(j) ? j : (json_decref(j), json_object());
}

/* Resolves a zone name ("UTC", an IANA name or a POSIX rule) into 'out'. */
static int zone(const char *name, tz_rule *out)
{
    char rule[128];
    memset(out, 0, sizeof *out);
    if (!*name || strcmp(name, "UTC") == 0)
        return 0;
    if (flow_json_zone_rule(name, rule, sizeof rule) == 0)
        return tz_parse(rule, strlen(rule), out);
    return tz_parse(name, strlen(name), out);
}

/* A bound: ms since 1970 or a local date; 'dflt' when absent. */
static int bound(const http_req *req, const char *name, const tz_rule *tz, int64_t dflt,
                 int64_t *out)
{
    char v[32];
    *out = dflt;
    if (http_req_arg(req, name, v, sizeof v) <= 0)
        return 0;
    int y, m, d, k = 0;
    if (sscanf(v, "%4d-%2d-%2d%n", &y, &m, &d, &k) == 3 && v[k] == '\0') {
        if (m < 1 || m > 12 || d < 1 || d > 31)
            return -1;
        int64_t local = tz_days_from_civil(y, m, d) * 86400000LL;
        report_opts o = {.tz = *tz};
        int64_t guess = local - report_utc_offset(&o, local) * 1000LL;
        *out = local - report_utc_offset(&o, guess) * 1000LL;
        return 0;
    }
    char *end;
    long long x = strtoll(v, &end, 10);
    if (*end || end == v || x < 0)
        return -1;
    *out = x;
    return 0;
}

static void settings_opts(api *a, rq *q)
{
    memset(q, 0, sizeof *q);
    json_t *set = settings_get(a);
    const char *tzs = json_string_value(json_object_get(set, "time_zone"));
    snprintf(q->tz, sizeof q->tz, "%s", tzs ? tzs : "UTC");
    json_int_t dflt = json_integer_value(json_object_get(set, "service_level_s"));
    q->o.sl_default_ms = dflt > 0 ? dflt * 1000 : REPORT_SL_DEFAULT_MS;
    const char *key;
    json_t *v;
    json_object_foreach(json_object_get(set, "queue_service_level_s"), key, v)
    {
        if (q->o.n_sl < 256 && json_integer_value(v) > 0) {
            q->slq[q->o.n_sl] = (uint32_t)strtoul(key, NULL, 10);
            q->slms[q->o.n_sl++] = json_integer_value(v) * 1000;
        }
    }
    json_decref(set);
    q->o.sl_queues = q->slq;
    q->o.sl_ms = q->slms;
    if (zone(q->tz, &q->o.tz) != 0)
        memset(&q->o.tz, 0, sizeof q->o.tz);
}

/* Parses the query; answers 400 and returns -1 on a bad one. */
static int parse_rq(api *a, const http_req *req, http_resp *resp, rq *q, int figures)
{
    settings_opts(a, q);

    char arg[64];
    if (http_req_arg(req, "tz", arg, sizeof arg) > 0)
        snprintf(q->tz, sizeof q->tz, "%s", arg);
    if (zone(q->tz, &q->o.tz) != 0) {
        api__resp_error(resp, 400, "bad_time_zone",
                        "tz: unknown time zone; give an IANA name such as Europe/Stockholm, "
                        "or UTC");
        return -1;
    }
    q->o.step = REPORT_HOUR;
    if (http_req_arg(req, "step", arg, sizeof arg) > 0) {
        static const char *const steps[] = {"all", "15min", "hour", "day"};
        q->o.step = -1;
        for (int i = 0; i < 4; i++)
            if (strcmp(arg, steps[i]) == 0)
                q->o.step = i;
        if (q->o.step < 0) {
            api__resp_error(resp, 400, "bad_step", "step: one of 15min, hour, day, all");
            return -1;
        }
    }
    int64_t now = a->env.now(a->env.app), s, e;
    report_interval(&(report_opts){.step = REPORT_DAY, .tz = q->o.tz}, now, &s, &e);
    if (bound(req, "from", &q->o.tz, s, &q->o.from) != 0 ||
        bound(req, "to", &q->o.tz, q->o.from == s ? e : q->o.from + 86400000LL, &q->o.to) != 0 ||
        q->o.to <= q->o.from || q->o.to - q->o.from > REPORT_MAX_ROWS_SPAN) {
        api__resp_error(resp, 400, "bad_range",
                        "from and to: milliseconds since 1970 or dates (YYYY-MM-DD), from before "
                        "to, at most 400 days apart");
        return -1;
    }
    if (q->o.step == REPORT_15MIN && q->o.to - q->o.from > 31 * 86400000LL) {
        api__resp_error(resp, 400, "bad_range", "15-minute intervals: at most 31 days");
        return -1;
    }
    q->dim = -1;
    const char *which = figures ? "dim" : NULL;
    if (which && http_req_arg(req, which, arg, sizeof arg) > 0) {
        for (int i = 0; i < REPORT_DIMS; i++)
            if (strcmp(arg, dim_names[i]) == 0)
                q->dim = i;
        if (q->dim < 0) {
            api__resp_error(resp, 400, "bad_dim",
                            "dim: one of total, queue, entry_point, agent, team");
            return -1;
        }
    }
    if (http_req_arg(req, figures ? "id" : "agent", arg, sizeof arg) > 0) {
        char *end;
        unsigned long id = strtoul(arg, &end, 10);
        if (*end || id == 0 || id >= CC_MAX_ID) {
            api__resp_error(resp, 400, "bad_id", "id / agent: a number from 1");
            return -1;
        }
        q->id = (uint32_t)id;
    }
    return 0;
}

/* ---- snapshots of the fold at local midnights ----------------------------
 * A day's report need not fold the log from its first event: the fold's
 * state (agents' states, open conversations and their queue legs) taken
 * before the first event at or after a midnight T serves every report
 * from T on (report_resume), and the fold stops once no later event can
 * change the figures (report_done). The snapshots are taken as reports
 * fold past midnights (in the report's zone) and kept in memory only:
 * derived from the log, rebuilt after a restart by the first report that
 * needs them, dropped when the log is shorter than they are (a restored
 * backup). Retention and erasure delete texts, names and numbers, never
 * events, and none of those is in a snapshot, so figures of past days stay
 * as they were (docs/privacy.md, docs/reports.md). */

#define SNAPS_MAX 400 /* about a year of days; the oldest go first */

typedef struct snap {
    int64_t at;   /* the midnight */
    uint64_t seq; /* the last event folded into 'state' */
    report *state;
} snap;

struct api_snaps {
    snap *v; /* by 'at' */
    size_t n, cap;
    uint64_t top; /* the highest seq of any */
};

api_snaps *api_snaps_new(void)
{
    return xcalloc(1, sizeof(api_snaps));
}

static void snaps_clear(api_snaps *s)
{
    for (size_t i = 0; i < s->n; i++)
        report_free(s->v[i].state);
    s->n = 0;
    s->top = 0;
}

void api_snaps_free(api_snaps *s)
{
    if (!s)
        return;
    snaps_clear(s);
    free(s->v);
    free(s);
}

size_t api_snaps_count(const api_snaps *s)
{
    return s ? s->n : 0;
}

/* The latest snapshot at or before 't', or NULL. */
static const snap *snap_before(const api_snaps *s, int64_t t)
{
    const snap *best = NULL;
    for (size_t i = 0; s && i < s->n && s->v[i].at <= t; i++)
        best = &s->v[i];
    return best;
}

static void snap_put(api_snaps *s, int64_t at, uint64_t seq, const report *r)
{
    size_t i = 0;
    while (i < s->n && s->v[i].at < at)
        i++;
    if (i < s->n && s->v[i].at == at)
        return;
    if (s->n == SNAPS_MAX) {
        report_free(s->v[0].state);
        memmove(&s->v[0], &s->v[1], --s->n * sizeof *s->v);
        if (i == 0)
            return; /* older than every one kept */
        i--;
    }
    if (s->n == s->cap) {
        s->cap = s->cap ? s->cap * 2 : 16;
        s->v = xrealloc(s->v, s->cap * sizeof *s->v);
    }
    memmove(&s->v[i + 1], &s->v[i], (s->n - i) * sizeof *s->v);
    report_opts none = {0}; /* the state only */
    s->v[i] = (snap){at, seq, report_resume(&none, r)};
    s->n++;
    if (seq > s->top)
        s->top = seq;
}

typedef struct fold_arg {
    report *r;
    api_snaps *snaps;
    report_opts day; /* the report's zone, by day: where midnights are */
    uint64_t last_seq; /* the last event folded */
    int64_t next_mid;  /* the next midnight to take a snapshot at */
    size_t got;        /* events read in this chunk */
} fold_arg;

#define FOLD_DONE 1 /* fold_one: the figures are complete */

static int fold_one(void *arg, const cc_event *ev, int segments)
{
    fold_arg *f = arg;
    f->got++;
    if (f->snaps) {
        int64_t s, e;
        if (f->next_mid == INT64_MIN) { /* the first event: its day's start */
            report_interval(&f->day, ev->at, &s, &e);
            f->next_mid = s;
        }
        while (ev->at >= f->next_mid) {
            snap_put(f->snaps, f->next_mid, f->last_seq, f->r);
            report_interval(&f->day, f->next_mid, &s, &e);
            f->next_mid = e;
        }
    }
    if (report_done(f->r, ev->at))
        return FOLD_DONE;
    f->last_seq = ev->seq;
    report_add(f->r, ev, (uint32_t)segments);
    return 0;
}

struct api_fold {
    store *st;
    fold_arg f;
    int rc; /* 0 going on, 1 done, <0 the store's error */
};

api_fold *api_fold_begin(store *st, api_snaps *snaps, const report_opts *o)
{
    uint64_t last = 0;
    if (snaps && snaps->n && (store_last_seq(st, &last) != 0 || last < snaps->top))
        snaps_clear(snaps); /* not the log they were taken from */
    const snap *from = snap_before(snaps, o->from);
    api_fold *x = xcalloc(1, sizeof *x);
    x->st = st;
    x->f = (fold_arg){.r = report_resume(o, from ? from->state : NULL),
                      .snaps = snaps,
                      .day = {.step = REPORT_DAY, .tz = o->tz},
                      .last_seq = from ? from->seq : 0,
                      .next_mid = INT64_MIN};
    if (from) { /* the next midnight after the snapshot's */
        int64_t s;
        report_interval(&x->f.day, from->at, &s, &x->f.next_mid);
    }
    return x;
}

int api_fold_step(api_fold *x, size_t limit)
{
    if (x->rc)
        return x->rc;
    x->f.got = 0; /* the next chunk goes on after the last event folded */
    int rc = store_events_report_some(x->st, x->f.last_seq, limit, fold_one, &x->f);
    if (rc == FOLD_DONE || (rc == 0 && (!limit || x->f.got < limit)))
        rc = 1;
    return x->rc = rc;
}

report *api_fold_end(api_fold *x, int64_t now)
{
    report *r = x->f.r;
    if (x->rc == 1)
        report_finish(r, now);
    else
        report_free(r), r = NULL;
    free(x);
    return r;
}

int api_report_fold(store *st, api_snaps *snaps, const report_opts *o, int64_t now,
                    report **out)
{
    api_fold *x = api_fold_begin(st, snaps, o);
    int rc = api_fold_step(x, 0);
    *out = api_fold_end(x, now);
    return rc == 1 ? 0 : rc;
}

/* Local time with its offset: 2026-12-04T00:00:00+01:00. */
static void local_iso(const report_opts *o, int64_t ms, char *out, size_t n)
{
    int32_t off = report_utc_offset(o, ms);
    int64_t secs = ms / 1000 + off;
    int64_t days = secs / 86400, rem = secs % 86400;
    if (rem < 0)
        rem += 86400, days--;
    int y, m, d;
    tz_civil_from_days(days, &y, &m, &d);
    int ao = off < 0 ? -off : off;
    snprintf(out, n, "%04d-%02d-%02dT%02d:%02d:%02d%c%02d:%02d", y, m, d, (int)(rem / 3600),
             (int)(rem / 60 % 60), (int)(rem % 60), off < 0 ? '-' : '+', ao / 3600,
             ao / 60 % 60);
}

static const char *const columns[] = {
    "interval_start",  "interval_end",     "dimension",        "id",
    "name",            "offered",          "accepted",         "abandoned",
    "expired",         "transferred",      "conferenced",      "ended",
    "rona",            "service_level_pct", "service_level_threshold_s",
    "accept_avg_s",    "accept_p90_s",     "first_reply_avg_s", "first_reply_p90_s",
    "handled",         "handle_avg_s",     "handle_p90_s",     "messages_in",
    "messages_out",    "sms_segments",     "opt_outs",         "available_s",
    "idle_s",          "rona_s",           "busy_s",           "occupancy_pct",
    "wrapups_by_reason", "idle_by_reason", "csat_asked",     "csat_answers",
    "csat_avg",        "csat_by_score"};
#define NCOLS (sizeof columns / sizeof columns[0])

/* A cell: a string, an integer, a number with one decimal, or empty. */
typedef struct cell {
    int kind; /* 0 empty, 1 string, 2 integer, 3 decimal */
    char s[512];
    int64_t i;
    double d;
} cell;

static void c_str(cell *c, const char *s)
{
    c->kind = 1;
    snprintf(c->s, sizeof c->s, "%s", s);
}
static void c_int(cell *c, int64_t v)
{
    c->kind = 2;
    c->i = v;
}
static void c_dec(cell *c, int ok, double v)
{
    c->kind = ok ? 3 : 0;
    c->d = v;
}

static str item_name(const cc *c, int kind, uint32_t id, char *tmp, size_t n)
{
    str s = cc_name(c, kind, id);
    if (s.n)
        return s;
    snprintf(tmp, n, "#%u", id);
    return str_c(tmp);
}

/* "Solved=3; No answer=1" for the counts of 'kind' of row 'x'. */
static void breakdown(const report *r, const cc *c, const report_row *x, int kind, cell *out)
{
    const report_count *v;
    size_t n = report_counts(r, &v);
    buf b;
    buf_init(&b);
    for (size_t i = 0; i < n; i++) {
        if (v[i].dim != x->dim || v[i].id != x->id || v[i].start != x->start ||
            v[i].kind != kind || v[i].reason == 0) /* idle without a reason */
            continue;
        char tmp[16];
        str nm = item_name(c, kind == REPORT_WRAPUPS ? CC_KIND_REASON : CC_KIND_IDLE_REASON,
                           v[i].reason, tmp, sizeof tmp);
        if (kind == REPORT_IDLE_MS)
            buf_printf(&b, "%s%.*s=%.1f", b.n ? "; " : "", (int)nm.n, nm.p, v[i].value / 1000.0);
        else
            buf_printf(&b, "%s%.*s=%lld", b.n ? "; " : "", (int)nm.n, nm.p, (long long)v[i].value);
    }
    c_str(out, b.p ? b.p : "");
    buf_free(&b);
}

static void row_cells(api *a, const rq *q, const report *r, const report_row *x, cell *c)
{
    const cc *core = a->env.core;
    memset(c, 0, NCOLS * sizeof *c);
    local_iso(&q->o, x->start, c[0].s, sizeof c[0].s);
    c[0].kind = 1;
    local_iso(&q->o, x->end, c[1].s, sizeof c[1].s);
    c[1].kind = 1;
    c_str(&c[2], dim_names[x->dim]);
    if (x->dim != REPORT_TOTAL) {
        char tmp[16];
        c_int(&c[3], x->id);
        str nm = item_name(core, dim_kinds[x->dim], x->id, tmp, sizeof tmp);
        snprintf(c[4].s, sizeof c[4].s, "%.*s", (int)nm.n, nm.p);
        c[4].kind = 1;
    }
    const uint64_t *u = &x->offered;
    for (int i = 0; i < 8; i++) /* offered .. rona */
        c_int(&c[5 + i], (int64_t)u[i]);
    int leg = x->dim <= REPORT_EP;
    c_dec(&c[13], leg && x->sl_base, x->sl_base ? 100.0 * x->sl_met / x->sl_base : 0);
    if (x->dim == REPORT_QUEUE)
        c_dec(&c[14], 1, report_sl_ms(r, x->id) / 1000.0);
    const report_stat *st[3] = {&x->accept, &x->reply, &x->handle};
    for (int k = 0, col = 15; k < 3; k++, col += 2) {
        if (k == 2)
            c_int(&c[col++], (int64_t)x->handle.n);
        c_dec(&c[col], st[k]->n, st[k]->n ? st[k]->sum_ms / 1000.0 / st[k]->n : 0);
        c_dec(&c[col + 1], st[k]->n, st[k]->p90_ms / 1000.0);
    }
    c_int(&c[22], (int64_t)x->msgs_in);
    c_int(&c[23], (int64_t)x->msgs_out);
    c_int(&c[24], (int64_t)x->segments);
    c_int(&c[25], (int64_t)x->opt_outs);
    int agentish = x->dim >= REPORT_AGENT;
    int64_t in = x->state_ms[CC_AGENT_AVAILABLE] + x->state_ms[CC_AGENT_IDLE] +
                 x->state_ms[CC_AGENT_RONA];
    c_dec(&c[26], agentish, x->state_ms[CC_AGENT_AVAILABLE] / 1000.0);
    c_dec(&c[27], agentish, x->state_ms[CC_AGENT_IDLE] / 1000.0);
    c_dec(&c[28], agentish, x->state_ms[CC_AGENT_RONA] / 1000.0);
    c_dec(&c[29], agentish, x->busy_ms / 1000.0);
    c_dec(&c[30], agentish && in > 0, in > 0 ? 100.0 * x->busy_ms / in : 0);
    breakdown(r, core, x, REPORT_WRAPUPS, &c[31]);
    if (agentish)
        breakdown(r, core, x, REPORT_IDLE_MS, &c[32]);
    c_int(&c[33], (int64_t)x->csat_asked);
    c_int(&c[34], (int64_t)x->csat_answers);
    c_dec(&c[35], x->csat_answers > 0,
          x->csat_answers ? (double)x->csat_sum / (double)x->csat_answers : 0);
    c[36].kind = 1; /* "5=2; 4=1": the scores given, best first */
    for (int k = 5, o = 0; k >= 1; k--)
        if (x->csat_by_score[k - 1])
            o += snprintf(c[36].s + o, sizeof c[36].s - (size_t)o, "%s%d=%llu", o ? "; " : "", k,
                          (unsigned long long)x->csat_by_score[k - 1]);
}

static void cell_csv(buf *b, const cell *c, int last)
{
    char t[64];
    switch (c->kind) {
    case 1:
        field(b, str_c(c->s), last);
        return;
    case 2:
        snprintf(t, sizeof t, "%lld", (long long)c->i);
        break;
    case 3:
        snprintf(t, sizeof t, "%.1f", c->d);
        break;
    default:
        t[0] = '\0';
    }
    field(b, str_c(t), last);
}

static json_t *cell_json(const cell *c)
{
    switch (c->kind) {
    case 1:
        return json_string(c->s);
    case 2:
        return json_integer(c->i);
    case 3:
        return json_real((double)(int64_t)(c->d * 10 + (c->d < 0 ? -0.5 : 0.5)) / 10);
    default:
        return json_null();
    }
}

static int wanted(const rq *q, const report_row *x)
{
    return (q->dim < 0 || x->dim == q->dim) && (!q->id || x->id == q->id);
}

static json_t *range_json(const rq *q)
{
    char f[40], t[40];
    static const char *const steps[] = {"all", "15min", "hour", "day"};
    local_iso(&q->o, q->o.from, f, sizeof f);
    local_iso(&q->o, q->o.to, t, sizeof t);
    return json_pack("{s:s, s:s, s:I, s:I, s:s, s:s}", "from", f, "to", t, "from_ms",
                     (json_int_t)q->o.from, "to_ms", (json_int_t)q->o.to, "step",
                     steps[q->o.step & 3], "time_zone", q->tz);
}

/* The answer to 'q' from its finished report 'r' (freed here). */
static void figures_answer(api *a, const rq *qp, report *r, http_resp *resp, int csv)
{
    const rq q = *qp;
    const report_row *v;
    size_t n = report_rows(r, &v);
    cell *c = xmalloc(NCOLS * sizeof *c);
    if (csv) {
        buf *b = &resp->body;
        for (size_t k = 0; k < NCOLS; k++)
            field(b, str_c(columns[k]), k + 1 == NCOLS);
        for (size_t i = 0; i < n; i++) {
            if (!wanted(&q, &v[i]))
                continue;
            row_cells(a, &q, r, &v[i], c);
            for (size_t k = 0; k < NCOLS; k++)
                cell_csv(b, &c[k], k + 1 == NCOLS);
        }
        resp->status = 200;
        resp->content_type = "text/csv; charset=utf-8";
    } else {
        json_t *rows = json_array();
        for (size_t i = 0; i < n; i++) {
            if (!wanted(&q, &v[i]))
                continue;
            row_cells(a, &q, r, &v[i], c);
            json_t *o = json_object();
            for (size_t k = 0; k < NCOLS; k++)
                json_object_set_new(o, columns[k], cell_json(&c[k]));
            json_array_append_new(rows, o);
        }
        json_t *cols = json_array();
        for (size_t k = 0; k < NCOLS; k++)
            json_array_append_new(cols, json_string(columns[k]));
        api__resp_json(resp, 200,
                       json_pack("{s:o, s:o, s:o}", "range", range_json(&q), "columns", cols,
                                 "rows", rows));
    }
    free(c);
    report_free(r);
}

static const char *const state_names[] = {"logged_out", "idle", "available", "rona"};

static void states_answer(api *a, const rq *qp, report *r, http_resp *resp, int csv)
{
    const rq q = *qp;
    const report_span *v;
    size_t n = report_spans(r, &v);
    const cc *core = a->env.core;
    json_t *rows = json_array();
    buf *b = &resp->body;
    if (csv)
        buf_printf(b, "agent,name,state,idle_reason,start,end,duration_s\r\n");
    for (size_t i = 0; i < n; i++) {
        if (q.id && v[i].agent != q.id)
            continue;
        char tmp[16], s[40], e[40];
        str nm = item_name(core, CC_KIND_AGENT, v[i].agent, tmp, sizeof tmp);
        str reason = v[i].reason ? cc_name(core, CC_KIND_IDLE_REASON, v[i].reason) : STR_LIT("");
        local_iso(&q.o, v[i].start, s, sizeof s);
        local_iso(&q.o, v[i].end, e, sizeof e);
        if (csv) {
            buf_printf(b, "%u,", v[i].agent);
            field(b, nm, 0);
            buf_printf(b, "%s,", state_names[v[i].state & 3]);
            field(b, reason, 0);
            buf_printf(b, "%s,%s,%.1f\r\n", s, e, (v[i].end - v[i].start) / 1000.0);
        } else {
            json_array_append_new(
                rows, json_pack("{s:i, s:o, s:s, s:o, s:s, s:s, s:I, s:I}", "agent",
                                (int)v[i].agent, "name", api__jstr(nm), "state",
                                state_names[v[i].state & 3], "idle_reason", api__jstr(reason),
                                "start", s, "end", e, "start_ms", (json_int_t)v[i].start,
                                "end_ms", (json_int_t)v[i].end));
        }
    }
    if (csv) {
        json_decref(rows);
        resp->status = 200;
        resp->content_type = "text/csv; charset=utf-8";
    } else {
        api__resp_json(resp, 200,
                       json_pack("{s:o, s:o}", "range", range_json(&q), "states", rows));
    }
    report_free(r);
}

/* ---- reports folded a chunk per loop turn --------------------------------
 * A report over a busy log reads a million events: folded in one go it
 * would hold the event loop (every SMS and desktop) for most of a second.
 * With a loop (api_reports_loop), a report is a job: the request is
 * deferred (http_defer), a timer folds API_REPORT_CHUNK events per turn
 * (about 10 ms), and the last turn answers, the same bytes as in one go.
 * The conversations report (CSV, above) reads its events the same way.
 * Events committed meanwhile are folded too (the report ends at 'now' when
 * it is answered). Without a loop (tests): in one go. */

struct api_rjob {
    api *a;
    api_rjob *next;
    http_defer *d;
    net_timer *t;
    api_fold *f; /* the figures' fold; NULL: the conversations report */
    report conv; /* the conversations report's rows */
    int states, csv;
    rq q;
};

static void job_free(api_rjob *j)
{
    api_rjob **p = &j->a->jobs;
    while (*p != j)
        p = &(*p)->next;
    *p = j->next;
    net_timer_free(j->t);
    free(j);
}

static void answer(api *a, const rq *q, report *r, http_resp *resp, int states, int csv)
{
    if (!r)
        store_503(resp);
    else if (states)
        states_answer(a, q, r, resp, csv);
    else
        figures_answer(a, q, r, resp, csv);
}

static void job_turn(void *arg)
{
    api_rjob *j = arg;
    api *a = j->a;
    int rc = j->f ? api_fold_step(j->f, a->report_chunk) : conv_step(a, &j->conv, a->report_chunk);
    if (rc == 0) {
        net_timer_set(j->t, 0); /* the next chunk after this turn's I/O */
        return;
    }
    http_resp resp = {.status = 200};
    buf_init(&resp.body);
    if (!j->f && rc == 1)
        conv_answer(a, &j->conv, &resp);
    else if (!j->f)
        conv_free(&j->conv), store_503(&resp);
    else
        answer(a, &j->q, api_fold_end(j->f, a->env.now(a->env.app)), &resp, j->states, j->csv);
    http_defer_complete(j->d, &resp); /* frees only, when the client left */
    buf_free(&resp.body);
    job_free(j);
}

static void job_start(api *a, const http_req *req, api_rjob *j)
{
    j->a = a;
    j->next = a->jobs;
    j->t = net_timer_new(a->loop, job_turn, j);
    j->d = http_defer_begin(req);
    a->jobs = j;
    job_turn(j); /* the first chunk now */
}

static void run_conv(api *a, const http_req *req, http_resp *resp, const report *r)
{
    (void)resp; /* answered by the job */
    api_rjob *j = xcalloc(1, sizeof *j);
    j->conv = *r;
    job_start(a, req, j);
}

static void run(api *a, const http_req *req, http_resp *resp, const rq *q, int states, int csv)
{
    if (!a->snaps)
        a->snaps = api_snaps_new();
    if (!a->loop) {
        report *r = NULL;
        api_report_fold(a->env.st, a->snaps, &q->o, a->env.now(a->env.app), &r);
        answer(a, q, r, resp, states, csv);
        return;
    }
    api_rjob *j = xcalloc(1, sizeof *j);
    *j = (api_rjob){.states = states, .csv = csv, .q = *q};
    j->q.o.sl_queues = j->q.slq; /* its own copy of the thresholds */
    j->q.o.sl_ms = j->q.slms;
    j->f = api_fold_begin(a->env.st, a->snaps, &j->q.o);
    job_start(a, req, j);
}

void api_reports_loop(api *a, net_loop *loop)
{
    a->loop = loop;
    a->work = net_work_new(loop, 1); /* the password checks (api.c) */
    const char *v = getenv("TEXTDESK_REPORT_CHUNK"); /* for tests: docs/reports.md */
    long n = v ? strtol(v, NULL, 10) : 0;
    a->report_chunk = n > 0 ? (size_t)n : API_REPORT_CHUNK;
}

void api_reports_close(api *a)
{
    if (a) { /* the logins under way are answered (their connections still open) */
        net_work_free(a->work);
        a->work = NULL;
    }
    while (a && a->jobs) {
        api_rjob *j = a->jobs;
        if (j->f)
            report_free(api_fold_end(j->f, 0));
        else
            conv_free(&j->conv);
        http_resp resp = {.status = 200};
        buf_init(&resp.body);
        api__resp_error(&resp, 503, "shutting_down",
                        "the server is stopping; ask for the report again in a moment");
        http_defer_complete(j->d, &resp);
        buf_free(&resp.body);
        job_free(j);
    }
    if (a)
        a->loop = NULL;
}

static void figures(api *a, const http_req *req, http_resp *resp, int csv)
{
    rq q;
    if (parse_rq(a, req, resp, &q, 1) != 0)
        return;
    if (q.id && q.dim < 0) {
        api__resp_error(resp, 400, "bad_id", "id needs dim (queue, entry_point, agent or team)");
        return;
    }
    run(a, req, resp, &q, 0, csv);
}

static void states(api *a, const http_req *req, http_resp *resp, int csv)
{
    rq q;
    if (parse_rq(a, req, resp, &q, 0) != 0)
        return;
    q.o.step = REPORT_ALL;
    run(a, req, resp, &q, 1, csv);
}

/* The settings 's' as GET and PUT answer them: every key, the defaults of
 * those not stored. */
static json_t *settings_full(json_t *s)
{
    if (!json_object_get(s, "time_zone"))
        json_object_set_new(s, "time_zone", json_string("UTC"));
    if (!json_object_get(s, "service_level_s"))
        json_object_set_new(s, "service_level_s", json_integer(REPORT_SL_DEFAULT_MS / 1000));
    if (!json_object_get(s, "queue_service_level_s"))
        json_object_set_new(s, "queue_service_level_s", json_object());
    return s;
}

/* PUT body: {"time_zone": "Europe/Stockholm", "service_level_s": 60,
 * "queue_service_level_s": {"1": 30}}; every key optional. */
static void settings(api *a, const http_req *req, http_resp *resp)
{
    if (strcmp(req->method, "GET") == 0) {
        api__resp_json(resp, 200, settings_full(settings_get(a)));
        return;
    }
    if (strcmp(req->method, "PUT") != 0) {
        api__resp_error(resp, 405, "method_not_allowed", "use GET or PUT");
        return;
    }
    if (api__require_role(a, req, resp, 0) != 0)
        return;
    json_t *j = api__parse_body(req, resp);
    if (!j)
        return;
    json_t *s = settings_get(a);
    const char *key, *bad = NULL;
    unsigned long no_queue = 0; /* a queue id the core does not have */
    json_t *v;
    json_object_foreach(j, key, v)
    {
        tz_rule tr;
        if (strcmp(key, "time_zone") == 0) {
            if (!json_is_string(v) || strlen(json_string_value(v)) >= 64 ||
                zone(json_string_value(v), &tr) != 0)
                bad = "time_zone: an IANA zone name such as Europe/Stockholm, or UTC";
        } else if (strcmp(key, "service_level_s") == 0) {
            if (!json_is_integer(v) || json_integer_value(v) < 1 ||
                json_integer_value(v) > 86400)
                bad = "service_level_s: whole seconds, 1 to 86400";
        } else if (strcmp(key, "queue_service_level_s") == 0) {
            const char *qk;
            json_t *qv;
            if (!json_is_object(v) || json_object_size(v) > 256)
                bad = "queue_service_level_s: an object of queue id -> seconds";
            json_object_foreach(v, qk, qv)
            {
                char *end;
                unsigned long id = strtoul(qk, &end, 10);
                if (*end || id == 0 || id >= CC_MAX_ID || qk[0] == '0' || !json_is_integer(qv) ||
                    json_integer_value(qv) < 1 || json_integer_value(qv) > 86400)
                    bad = "queue_service_level_s: queue ids (numbers) -> whole seconds, 1 to "
                          "86400";
                else if (!no_queue && cc_queue_depth(a->env.core, (uint32_t)id) < 0)
                    no_queue = id;
            }
        } else {
            bad = "unknown key: time_zone, service_level_s and queue_service_level_s only";
        }
        if (bad)
            break;
        json_object_set(s, key, v);
    }
    json_decref(j);
    if (bad) {
        json_decref(s);
        api__resp_error(resp, 400, "bad_setting", bad);
        return;
    }
    if (no_queue) { /* a reference: as the admin API answers one (docs/api.md) */
        json_decref(s);
        char field[48], msg[200];
        snprintf(field, sizeof field, "queue_service_level_s.%lu", no_queue);
        snprintf(msg, sizeof msg, "%s: %s", field, cc_err_msg(-CC_E_NO_QUEUE));
        api__resp_json(resp, 422,
                       json_pack("{s:s, s:s, s:s, s:s}", "error", cc_err_code(-CC_E_NO_QUEUE),
                                 "message", msg, "field", field, "code",
                                 cc_err_code(-CC_E_NO_QUEUE)));
        return;
    }
    char *text = json_dumps(s, JSON_COMPACT | JSON_SORT_KEYS);
    int rc = -EINVAL;
    if (strlen(text) < 8000 && (rc = api__write_begin(a)) == 0) /* the write path */
        rc = api__write_end(a, store_setting_put(a->env.st, STR_LIT(REPORT_SETTINGS_KEY),
                                                 str_c(text)));
    free(text);
    if (rc != 0) {
        json_decref(s);
        api__resp_error(resp, rc == -EINVAL ? 400 : 503,
                        rc == -EINVAL ? "bad_setting" : "store_unavailable",
                        rc == -EINVAL ? "too many settings"
                                      : "the settings cannot be stored now; try again");
        return;
    }
    a->today_to = 0; /* today's live figures follow the new settings */
    api__resp_json(resp, 200, settings_full(s));
}

void api__reports(api *a, const http_req *req, http_resp *resp)
{
    if (api__require_role(a, req, resp, 1) != 0)
        return;
    const char *rest = req->path + strlen("/api/reports/");
    if (strcmp(rest, "settings") == 0) {
        settings(a, req, resp);
        return;
    }
    if (strcmp(req->method, "GET") != 0) {
        api__resp_error(resp, 405, "method_not_allowed", "read only: use GET");
        return;
    }
    if (strcmp(rest, "figures") == 0 || strcmp(rest, "figures.csv") == 0)
        figures(a, req, resp, rest[7] == '.');
    else if (strcmp(rest, "states") == 0 || strcmp(rest, "states.csv") == 0)
        states(a, req, resp, rest[6] == '.');
    else
        api__resp_error(resp, 404, "not_found",
                        "no such report: figures, figures.csv, states, states.csv, settings");
}

/* For the other CSV answers (api_token.c: the audit trail). */
void api__csv_field(buf *b, str s, int last)
{
    field(b, s, last);
}

void api__csv_time(buf *b, int64_t ms)
{
    time_field(b, ms);
}

/* ---- today, folded live (the supervisors' service level today) ------- */


static int today_fold(void *arg, const cc_event *ev)
{
    report_add(((api *)arg)->today, ev, 0);
    return 0;
}

/* (Re)builds today's report when the day changed or settings did. */
static void today_fresh(api *a)
{
    int64_t now = a->env.now(a->env.app);
    if (a->today && now < a->today_to)
        return;
    rq q;
    settings_opts(a, &q);
    q.o.step = REPORT_DAY;
    report_interval(&q.o, now, &q.o.from, &q.o.to);
    report_free(a->today);
    a->today = report_new(&q.o);
    a->today_to = q.o.to;
    if (store_events_replay(a->env.st, today_fold, a) != 0) { /* try again next time */
        report_free(a->today);
        a->today = NULL;
        a->today_to = 0;
    }
}

void api__today_event(api *a, const cc_event *ev)
{
    if (a->today)
        report_add(a->today, ev, 0);
}

int api__today_queue(api *a, uint32_t queue, report_row *out, int64_t *sl_ms)
{
    today_fresh(a);
    if (!a->today)
        return -1;
    *sl_ms = report_sl_ms(a->today, queue);
    return report_peek(a->today, REPORT_QUEUE, queue, a->env.now(a->env.app), out);
}
