/*
 * cc_view.c: read-only access to the core: views for the API layer, the
 * canonical dump used to compare a replayed core with the live one, and the
 * invariant checker the property test runs after every step.
 */
#include <stdio.h> /* snprintf into the caller's buffer only */
#include <stdlib.h>
#include <string.h>

#include "core/cc_int.h"
#include "util/buf.h"
#include "util/xalloc.h"

static int cmp_u32_asc(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

int cc_dedupe_complete(const cc *c)
{
    return !c->seen_forgot;
}

int cc_agent_get(const cc *c, uint32_t id, cc_agent_view *out)
{
    const cc__agent *a = cc__tab_get(&c->agents, id);
    if (!a)
        return -CC_E_NO_AGENT;
    *out = (cc_agent_view){
        .id = a->id,
        .name = str_c(a->name),
        .state = a->state,
        .idle_reason = a->idle_reason,
        .connected = a->connected,
        .capacity = a->capacity,
        .load = a->load,
        .reserved = a->reserved,
        .engaged = a->load > 0,
        .state_since = a->state_since,
    };
    return 0;
}

size_t cc_agent_teams(const cc *c, uint32_t agent, uint32_t *out, size_t max)
{
    const cc__agent *a = cc__tab_get(&c->agents, agent);
    size_t n = a ? a->nteams : 0;
    for (size_t i = 0; i < n && i < max; i++)
        out[i] = a->teams[i].team;
    return n;
}

int cc_queue_get(const cc *c, uint32_t id, cc_queue_view *out)
{
    const cc__queue *q = cc__tab_get(&c->queues, id);
    if (!q)
        return -CC_E_NO_QUEUE;
    const cc__conv *head = cc__queue_head(q);
    *out = (cc_queue_view){
        .id = q->id,
        .name = str_c(q->name),
        .teams = q->teams,
        .n_teams = q->nteams,
        .rona_ms = q->rona_ms,
        .autowrap_ms = q->autowrap_ms,
        .default_reason = q->default_reason,
        .fallback = q->fallback,
        .waiting = q->nwait,
        .oldest_key = head ? head->qkey : 0,
        .skills = q->req,
        .n_skills = q->nreq,
        .widen_ms = q->widen_ms,
    };
    return 0;
}

uint32_t cc_ep_queue(const cc *c, uint32_t ep)
{
    const cc__ep *e = cc__tab_get(&c->eps, ep);
    return e ? e->queue : 0;
}

uint32_t cc_ep_by_number(const cc *c, str number)
{
    const cc__ep *e = cc__ep_by_number(c, number.p, number.n);
    return e ? e->id : 0;
}

int cc_conv_get(const cc *c, uint32_t id, cc_conv_view *out)
{
    const cc__conv *v = cc__conv_find(c, id);
    if (!v)
        return -CC_E_NO_CONVERSATION;
    *out = (cc_conv_view){
        .id = v->id,
        .ep = v->ep,
        .queue = v->queue,
        .owner = v->owner,
        .offered_to = v->offer_to,
        .guest = v->guest,
        .transferred_by = v->transferred_by,
        .state = v->state,
        .conf_state = v->conf,
        .offer_kind = v->offer_kind,
        .outbound = v->outbound,
        .terminated = v->state == CC_CONV_TERMINATED ? v->why_terminated : 0,
        .opted_out = cc__optout_find(c, v->number, v->number_len, v->ep) != NULL,
        .number = {v->number, v->number_len},
        .ep_number = {v->ep_number, v->ep_number_len},
        .name = str_c(v->name),
        .supervisor = str_c(v->sup),
        .opened_at = v->opened_at,
        .offer_deadline = v->offer_deadline,
        .queued_at = v->qkey,
        .widened = v->widen,
        .msgs_in = v->msgs_in,
        .msgs_out = v->msgs_out,
        .wrapups_due = v->wrapups_due,
    };
    return 0;
}

str cc_conv_var(const cc *c, uint32_t conv, str key)
{
    const cc__conv *v = cc__conv_find(c, conv);
    if (!v)
        return STR_NULL;
    for (uint32_t i = 0; i < v->nvars; i++)
        if (str_eq(str_c(v->vars[i].key), key))
            return str_c(v->vars[i].value);
    return STR_NULL;
}

size_t cc_conv_vars(const cc *c, uint32_t conv, str *keys, str *values, size_t max)
{
    const cc__conv *v = cc__conv_find(c, conv);
    if (!v)
        return 0;
    for (uint32_t i = 0; i < v->nvars && i < max; i++) {
        keys[i] = str_c(v->vars[i].key);
        values[i] = str_c(v->vars[i].value);
    }
    return v->nvars;
}

int cc_survey_pending(const cc *c, str number, uint32_t ep, uint32_t *conv, int64_t *deadline)
{
    const cc__survey *s = cc__survey_find(c, number.p, number.n, ep);
    if (!s)
        return 0;
    *conv = s->conv;
    *deadline = s->deadline;
    return 1;
}

int cc_opted_out(const cc *c, str number, uint32_t ep)
{
    return cc__optout_find(c, number.p, number.n, ep) != NULL;
}

uint32_t cc_conv_of(const cc *c, str number, uint32_t ep)
{
    const cc__conv *v = cc__pair_find(c, number.p, number.n, ep);
    return v ? v->id : 0;
}

long cc_queue_depth(const cc *c, uint32_t queue)
{
    const cc__queue *q = cc__tab_get(&c->queues, queue);
    return q ? (long)q->nwait : -CC_E_NO_QUEUE;
}

size_t cc_conv_count(const cc *c)
{
    return c->convs.len;
}

size_t cc_conv_list(const cc *c, uint32_t *out, size_t max)
{
    uint32_t *all = xmalloc((c->convs.len + 1) * sizeof *all);
    size_t n = 0, it = 0;
    void *e;
    while (hmap_next(&c->convs, &it, &e))
        all[n++] = ((const cc__conv *)e)->id;
    qsort(all, n, sizeof *all, cmp_u32_asc);
    for (size_t i = 0; i < n && i < max; i++)
        out[i] = all[i];
    free(all);
    return n;
}

int cc_wrapup_due(const cc *c, uint32_t agent, uint32_t conv)
{
    const cc__agent *a = cc__tab_get(&c->agents, agent);
    return a && cc__wrap_find(a, conv) != NULL;
}

int64_t cc_wrapup_deadline(const cc *c, uint32_t agent, uint32_t conv)
{
    const cc__agent *a = cc__tab_get(&c->agents, agent);
    const cc__wrap *w = a ? cc__wrap_find(a, conv) : NULL;
    return w ? w->deadline : -1;
}

size_t cc_agent_convs(const cc *c, uint32_t agent, uint32_t *out, size_t max)
{
    const cc__agent *a = cc__tab_get(&c->agents, agent);
    if (!a)
        return 0;
    size_t total = a->held.n + a->pending.n + a->nwraps, n = 0;
    uint32_t *all = xmalloc((total + 1) * sizeof *all);
    for (uint32_t i = 0; i < a->held.n; i++)
        all[n++] = a->held.v[i];
    for (uint32_t i = 0; i < a->pending.n; i++)
        all[n++] = a->pending.v[i];
    for (uint32_t i = 0; i < a->nwraps; i++)
        all[n++] = a->wraps[i].conv;
    qsort(all, n, sizeof *all, cmp_u32_asc);
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (i && all[i] == all[i - 1])
            continue;
        if (k < max)
            out[k] = all[i];
        k++;
    }
    free(all);
    return k;
}

static const cc__tab *tab_of(const cc *c, int kind)
{
    switch (kind) {
    case CC_KIND_TEAM:
        return &c->teams;
    case CC_KIND_QUEUE:
        return &c->queues;
    case CC_KIND_EP:
        return &c->eps;
    case CC_KIND_REASON:
        return &c->reasons;
    case CC_KIND_IDLE_REASON:
        return &c->idle_reasons;
    case CC_KIND_AGENT:
        return &c->agents;
    case CC_KIND_SKILL:
        return &c->skills;
    }
    return NULL;
}

str cc_name(const cc *c, int kind, uint32_t id)
{
    const cc__tab *t = tab_of(c, kind);
    const void *e = t ? cc__tab_get(t, id) : NULL;
    if (!e)
        return STR_NULL;
    switch (kind) {
    case CC_KIND_TEAM:
        return str_c(((const cc__team *)e)->name);
    case CC_KIND_QUEUE:
        return str_c(((const cc__queue *)e)->name);
    case CC_KIND_EP:
        return str_c(((const cc__ep *)e)->number);
    case CC_KIND_AGENT:
        return str_c(((const cc__agent *)e)->name);
    default:
        return str_c(((const cc__reason *)e)->name);
    }
}

size_t cc_list(const cc *c, int kind, cc_item *out, size_t max)
{
    const cc__tab *t = tab_of(c, kind);
    size_t n = 0;
    for (uint32_t id = 0; t && id < t->cap; id++) {
        if (!t->v[id])
            continue;
        if (n < max)
            out[n] = (cc_item){id, cc_name(c, kind, id)};
        n++;
    }
    return n;
}

size_t cc_agent_skills(const cc *c, uint32_t agent, cc_skill *out, size_t max)
{
    const cc__agent *a = cc__tab_get(&c->agents, agent);
    size_t n = a ? a->nskills : 0;
    for (size_t i = 0; i < n && i < max; i++)
        out[i] = a->skills[i];
    return n;
}

size_t cc_conv_skills(const cc *c, uint32_t conv, cc_skill *out, size_t max)
{
    const cc__conv *v = cc__conv_find(c, conv);
    size_t n = v ? v->nextra : 0;
    for (size_t i = 0; i < n && i < max; i++)
        out[i] = v->extra[i];
    return n;
}

int cc_eligible(const cc *c, uint32_t agent, uint32_t conv)
{
    const cc__agent *a = cc__tab_get(&c->agents, agent);
    const cc__conv *v = cc__conv_find(c, conv);
    const cc__queue *q = v ? cc__tab_get(&c->queues, v->queue) : NULL;
    if (!a || !q)
        return 0;
    int team = 0;
    for (uint32_t i = 0; i < a->nteams; i++)
        for (uint32_t k = 0; k < q->nteams; k++)
            team |= a->teams[i].team == q->teams[k];
    if (!team)
        return 0;
    /* each required skill at its highest minimum, lowered by widening */
    const cc_skill *lists[2] = {q->req, v->extra};
    uint32_t counts[2] = {q->nreq, v->nextra};
    for (int l = 0; l < 2; l++)
        for (uint32_t i = 0; i < counts[l]; i++) {
            uint32_t need = lists[l][i].level, have = 0;
            for (uint32_t k = 0; k < a->nskills; k++)
                if (a->skills[k].skill == lists[l][i].skill)
                    have = a->skills[k].level;
            if (need > v->widen && have < need - v->widen)
                return 0;
        }
    return 1;
}

size_t cc_transfer_targets(const cc *c, uint32_t agent, uint32_t *out, size_t max)
{
    size_t n = 0;
    for (uint32_t id = 0; id < c->agents.cap; id++) {
        const cc__agent *a = c->agents.v[id];
        if (!a || id == agent || !cc__ready(a))
            continue;
        if (n < max)
            out[n] = id;
        n++;
    }
    return n;
}

/* ---- dump -------------------------------------------------------------- */

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

static void dump_ids(buf *b, const char *label, const cc__ids *l)
{
    uint32_t *s = xmalloc((l->n + 1) * sizeof *s);
    if (l->n)
        memcpy(s, l->v, l->n * sizeof *s);
    qsort(s, l->n, sizeof *s, cmp_u32);
    buf_printf(b, " %s=[", label);
    for (uint32_t i = 0; i < l->n; i++)
        buf_printf(b, "%s%u", i ? "," : "", s[i]);
    buf_printf(b, "]");
    free(s);
}

static void dump_skills(buf *b, const char *label, const cc_skill *s, uint32_t n)
{
    buf_printf(b, " %s=[", label);
    for (uint32_t i = 0; i < n; i++)
        buf_printf(b, "%s%u:%u", i ? "," : "", s[i].skill, s[i].level);
    buf_printf(b, "]");
}

static int cmp_wrap(const void *x, const void *y)
{
    const cc__wrap *a = x, *b = y;
    return a->conv < b->conv ? -1 : a->conv > b->conv;
}

static int cmp_str(const void *x, const void *y)
{
    return strcmp(*(char *const *)x, *(char *const *)y);
}

static int cmp_conv_ptr(const void *x, const void *y)
{
    const cc__conv *a = *(cc__conv *const *)x, *b = *(cc__conv *const *)y;
    return a->id < b->id ? -1 : a->id > b->id;
}

char *cc_dump(const cc *c)
{
    buf b;
    buf_init(&b);
    buf_printf(&b, "next_conv=%u grace=%lld seen=%zu\n", c->next_conv,
               (long long)c->grace_ms, c->seen_len);
    for (uint32_t i = 0; i < c->teams.cap; i++) {
        const cc__team *t = c->teams.v[i];
        if (t) {
            buf_printf(&b, "team %u '%s' members=%u", t->id, t->name, t->members);
            dump_ids(&b, "queues", &t->queues);
            buf_printf(&b, " ready=%u\n", t->ready.n);
        }
    }
    for (uint32_t i = 0; i < c->queues.cap; i++) {
        const cc__queue *q = c->queues.v[i];
        if (!q)
            continue;
        buf_printf(&b, "queue %u '%s' rona=%lld autowrap=%lld reason=%u fallback=%u teams=",
                   q->id, q->name, (long long)q->rona_ms, (long long)q->autowrap_ms,
                   q->default_reason, q->fallback);
        for (uint32_t k = 0; k < q->nteams; k++)
            buf_printf(&b, "%s%u", k ? "," : "", q->teams[k]);
        dump_skills(&b, "skills", q->req, q->nreq);
        buf_printf(&b, " widen=%lld", (long long)q->widen_ms);
        /* waiting, in queue order */
        cc__conv **w = xmalloc((q->nwait + 1) * sizeof *w);
        uint32_t nw = 0;
        for (uint32_t k = 0; k < q->waiting.n; k++)
            w[nw++] = q->waiting.v[k];
        for (uint32_t x = 0; x < q->ncls; x++)
            for (uint32_t k = 0; k < q->cls[x]->waiting.n; k++)
                w[nw++] = q->cls[x]->waiting.v[k];
        for (uint32_t x = 1; x < nw; x++) /* insertion sort by queue order */
            for (uint32_t y = x; y > 0 && cc__conv_less(w[y], w[y - 1]); y--) {
                cc__conv *tmp = w[y];
                w[y] = w[y - 1];
                w[y - 1] = tmp;
            }
        buf_printf(&b, " waiting=[");
        for (uint32_t k = 0; k < nw; k++)
            buf_printf(&b, "%s%u", k ? "," : "", w[k]->id);
        buf_printf(&b, "]\n");
        free(w);
    }
    for (uint32_t i = 0; i < c->eps.cap; i++) {
        const cc__ep *e = c->eps.v[i];
        if (!e)
            continue;
        const cc_ep_flow *f = &e->flow;
        buf_printf(&b,
                   "ep %u '%s' queue=%u welcome='%.*s' hours=%d tz='%.*s' rule='%.*s' "
                   "closed='%.*s' action=%d wait=%lld overflow=%u '%.*s' gateway='%.*s' week=",
                   e->id, e->number, e->queue, (int)f->welcome.n, f->welcome.p, f->hours,
                   (int)f->tz_name.n, f->tz_name.p, (int)f->tz_rule.n, f->tz_rule.p,
                   (int)f->closed_text.n, f->closed_text.p, f->closed_action,
                   (long long)f->max_wait_ms, f->overflow_queue, (int)f->overflow_text.n,
                   f->overflow_text.p, (int)f->gateway.n, f->gateway.p);
        for (int d = 0; d < 7; d++)
            for (int k = 0; k < CC_HOURS_SPANS; k++)
                buf_printf(&b, "%u-%u%s", f->week[d][k][0], f->week[d][k][1],
                           k + 1 < CC_HOURS_SPANS ? "," : d < 6 ? "/" : "");
        buf_printf(&b, " holidays=");
        for (size_t k = 0; k < f->n_holidays; k++)
            buf_printf(&b, "%s%u", k ? "," : "", f->holidays[k]);
        dump_skills(&b, "skills", f->skills, (uint32_t)f->n_skills);
        buf_printf(&b, " survey=%d/%lld '%.*s'", f->survey, (long long)f->survey_window_ms,
                   (int)f->survey_text.n, f->survey_text.p);
        buf_printf(&b, " words=");
        for (size_t k = 0; k < f->n_words; k++)
            buf_printf(&b, "%s%.*s:%u:%u", k ? "," : "", (int)f->words[k].word.n,
                       f->words[k].word.p, f->words[k].skill.skill, f->words[k].skill.level);
        buf_printf(&b, "\n");
    }
    for (uint32_t i = 0; i < c->reasons.cap; i++) {
        const cc__reason *r = c->reasons.v[i];
        if (r)
            buf_printf(&b, "wrapup_reason %u '%s'\n", r->id, r->name);
    }
    for (uint32_t i = 0; i < c->idle_reasons.cap; i++) {
        const cc__reason *r = c->idle_reasons.v[i];
        if (r)
            buf_printf(&b, "idle_reason %u '%s'\n", r->id, r->name);
    }
    for (uint32_t i = 0; i < c->skills.cap; i++) {
        const cc__reason *r = c->skills.v[i];
        if (r)
            buf_printf(&b, "skill %u '%s'\n", r->id, r->name);
    }
    for (uint32_t i = 0; i < c->agents.cap; i++) {
        const cc__agent *a = c->agents.v[i];
        if (!a)
            continue;
        buf_printf(&b,
                   "agent %u '%s' state=%d idle=%u conn=%d cap=%u load=%u res=%u since=%lld "
                   "idle_since=%lld grace=%lld teams=",
                   a->id, a->name, a->state, a->idle_reason, a->connected, a->capacity,
                   a->load, a->reserved, (long long)a->state_since, (long long)a->idle_since,
                   (long long)a->grace_deadline);
        for (uint32_t k = 0; k < a->nteams; k++)
            buf_printf(&b, "%s%u", k ? "," : "", a->teams[k].team);
        dump_skills(&b, "skills", a->skills, a->nskills);
        dump_ids(&b, "held", &a->held);
        dump_ids(&b, "pending", &a->pending);
        cc__wrap *w = xmalloc((a->nwraps + 1) * sizeof *w);
        if (a->nwraps)
            memcpy(w, a->wraps, a->nwraps * sizeof *w);
        qsort(w, a->nwraps, sizeof *w, cmp_wrap);
        buf_printf(&b, " wraps=[");
        for (uint32_t k = 0; k < a->nwraps; k++)
            buf_printf(&b, "%s%u:%u@%lld", k ? "," : "", w[k].conv, w[k].reason,
                       (long long)w[k].deadline);
        buf_printf(&b, "]\n");
        free(w);
    }
    /* opt-outs, sorted by ep then number */
    char **outs = xmalloc((c->optouts.len + 1) * sizeof *outs);
    size_t nout = 0, oi = 0;
    void *oe;
    while (hmap_next(&c->optouts, &oi, &oe)) {
        const cc__optout *o = oe;
        buf one;
        buf_init(&one);
        buf_printf(&one, "optout %010u '%.*s'", o->ep, (int)o->n, o->number);
        outs[nout++] = buf_take(&one);
    }
    oi = 0;
    while (hmap_next(&c->surveys, &oi, &oe)) {
        const cc__survey *o = oe;
        buf one;
        buf_init(&one);
        buf_printf(&one, "survey %010u '%.*s' conv=%u agent=%u queue=%u until=%lld", o->ep,
                   (int)o->n, o->number, o->conv, o->agent, o->queue, (long long)o->deadline);
        outs = xrealloc(outs, (nout + 1) * sizeof *outs);
        outs[nout++] = buf_take(&one);
    }
    qsort(outs, nout, sizeof *outs, cmp_str);
    for (size_t k = 0; k < nout; k++) {
        buf_printf(&b, "%s\n", outs[k]);
        free(outs[k]);
    }
    free(outs);
    cc__conv **all = xmalloc((c->convs.len + 1) * sizeof *all);
    size_t n = 0, it = 0;
    void *e;
    while (hmap_next(&c->convs, &it, &e))
        all[n++] = e;
    qsort(all, n, sizeof *all, cmp_conv_ptr);
    for (size_t i = 0; i < n; i++) {
        const cc__conv *v = all[i];
        buf_printf(&b,
                   "conv %u ep=%u q=%u num='%.*s' name='%s' state=%d owner=%u offer=%u/%d@%lld "
                   "guest=%u conf=%d@%lld out=%d term=%d qkey=%lld opened=%lld wraps=%u tby=%u "
                   "eby=%u in=%u out=%u pair=%d wait=%lld/%d vars=",
                   v->id, v->ep, v->queue, (int)v->number_len, v->number,
                   v->name ? v->name : "", v->state, v->owner, v->offer_to, v->offer_kind,
                   (long long)v->offer_deadline, v->guest, v->conf,
                   (long long)v->conf_deadline, v->outbound, v->why_terminated,
                   (long long)v->qkey, (long long)v->opened_at, v->wrapups_due,
                   v->transferred_by, v->ended_by, v->msgs_in,
                   v->msgs_out, v->in_pair, (long long)v->wait_deadline, v->overflowed);
        if (v->sup)
            buf_printf(&b, "sup='%s' ", v->sup);
        for (uint32_t k = 0; k < v->nvars; k++)
            buf_printf(&b, "%s%s=%s", k ? "," : "", v->vars[k].key, v->vars[k].value);
        dump_skills(&b, "skills", v->extra, v->nextra);
        buf_printf(&b, " widen=%u\n", v->widen);
    }
    free(all);
    return buf_take(&b);
}

/* ---- event text -------------------------------------------------------- */

static void fmt_str(buf *b, const char *label, str s)
{
    if (!s.p)
        return;
    buf_printf(b, " %s=\"", label);
    for (size_t i = 0; i < s.n; i++) {
        unsigned char ch = (unsigned char)s.p[i];
        if (ch == '"' || ch == '\\')
            buf_printf(b, "\\%c", ch);
        else if (ch < 0x20)
            buf_printf(b, "\\x%02x", ch);
        else
            buf_add(b, &s.p[i], 1);
    }
    buf_add(b, "\"", 1);
}

void cc_event_format(const cc_event *ev, buf *b)
{
    buf_printf(b, "#%llu %s", (unsigned long long)ev->seq, cc_ev_name(ev->type));
    const struct {
        const char *label;
        uint32_t v;
    } ids[] = {{"conv", ev->conv},   {"agent", ev->agent}, {"target", ev->target},
               {"queue", ev->queue}, {"team", ev->team},   {"ep", ev->ep},
               {"reason", ev->reason}};
    for (size_t i = 0; i < sizeof ids / sizeof ids[0]; i++)
        if (ids[i].v)
            buf_printf(b, " %s=%u", ids[i].label, ids[i].v);
    if (ev->type == CC_EV_AGENT_STATE || ev->type == CC_EV_SUPERVISED) {
        static const char *const st[] = {"logged_out", "idle", "available", "rona"};
        buf_printf(b, " state=%s", ev->state >= 0 && ev->state < 4 ? st[ev->state] : "?");
    }
    if (ev->code)
        buf_printf(b, " why=%s", cc_why_name(ev->code));
    if (ev->type == CC_EV_OFFERED)
        buf_printf(b, " kind=%s", ev->kind == CC_OFFER_TRANSFER ? "transfer" : "route");
    if (ev->deadline)
        buf_printf(b, " deadline=%lld", (long long)ev->deadline);
    if (ev->type >= CC_EV_SKILL_PUT && ev->type <= CC_EV_WIDENED) {
        if (ev->type == CC_EV_SKILL_PUT || ev->type == CC_EV_SKILL_REMOVED)
            buf_printf(b, " skill=%u", ev->target);
        if (ev->type == CC_EV_QUEUE_SKILLS)
            buf_printf(b, " widen_ms=%lld", (long long)ev->key);
        if (ev->type == CC_EV_WIDENED)
            buf_printf(b, " levels=%d", ev->kind);
        if (ev->type != CC_EV_SKILL_PUT && ev->type != CC_EV_SKILL_REMOVED &&
            ev->type != CC_EV_WIDENED) {
            buf_printf(b, " skills=");
            for (size_t i = 0; i < ev->n_ids; i++) {
                cc_skill s = cc_skill_unpack(ev->ids[i]);
                buf_printf(b, "%s%u:%u", i ? "," : "", s.skill, s.level);
            }
        }
    }
    fmt_str(b, "queue_name", ev->queue_name);
    fmt_str(b, "number", ev->number);
    fmt_str(b, "ep_number", ev->ep_number);
    fmt_str(b, "name", ev->name);
    fmt_str(b, "text", ev->text);
    fmt_str(b, "key", ev->var_key);
    fmt_str(b, "value", ev->value);
}

/* ---- invariants -------------------------------------------------------- */

#define FAIL(...)                                                                    \
    do {                                                                             \
        snprintf(err, n, __VA_ARGS__);                                               \
        goto out;                                                                    \
    } while (0)



int cc_check(const cc *c, char *err, size_t n)
{
    int r = -1;
    size_t it = 0;
    void *e;
    /* conversations */
    while (hmap_next(&c->convs, &it, &e)) {
        const cc__conv *v = e;
        const cc__agent *o = cc__tab_get(&c->agents, v->owner);
        switch (v->state) {
        case CC_CONV_QUEUED: {
            const cc__queue *q = cc__tab_get(&c->queues, v->queue);
            const heap *h = !q ? NULL : v->cls ? &v->cls->waiting : &q->waiting;
            if (!q || v->qpos == HEAP_NONE || v->qpos >= h->n || h->v[v->qpos] != v ||
                (v->cls && v->cls->q != q))
                FAIL("conv %u queued but not in queue %u", v->id, v->queue);
            cc_skill key[CC__KEY_MAX];
            uint32_t nk = cc__conv_key(q, v, key);
            if ((nk == 0) != (v->cls == NULL) ||
                (v->cls && (v->cls->nreq != nk || memcmp(v->cls->req, key, nk * sizeof *key))))
                FAIL("conv %u waits in the wrong skill class", v->id);
            if (v->owner || v->offer_to || v->guest || v->sup)
                FAIL("queued conv %u has agents or a supervisor", v->id);
            break;
        }
        case CC_CONV_OFFERED: {
            const cc__agent *a = cc__tab_get(&c->agents, v->offer_to);
            if (!a || !cc__ids_has(&a->pending, v->id) || v->qpos != HEAP_NONE || v->owner)
                FAIL("conv %u offered inconsistently", v->id);
            break;
        }
        case CC_CONV_ASSIGNED:
        case CC_CONV_TERMINATED:
            /* owner 0: a supervisor took it over and is in it alone */
            if (v->owner ? !o || !cc__ids_has(&o->held, v->id) : !v->sup || v->conf)
                FAIL("conv %u assigned but not held by owner %u", v->id, v->owner);
            if (v->qpos != HEAP_NONE)
                FAIL("conv %u assigned but queued", v->id);
            break;
        case CC_CONV_WRAPUP:
            if (v->owner || v->guest || v->wrapups_due == 0 || v->qpos != HEAP_NONE)
                FAIL("conv %u in wrap-up inconsistently", v->id);
            break;
        default:
            FAIL("conv %u in bad state %d", v->id, v->state);
        }
        if (v->conf != CC_CONF_NONE) {
            const cc__agent *g = cc__tab_get(&c->agents, v->guest);
            const cc__ids *l = v->conf == CC_CONF_ACTIVE ? &g->held : &g->pending;
            if (!g || !cc__ids_has(l, v->id) || v->owner == v->guest)
                FAIL("conv %u conference guest %u inconsistent", v->id, v->guest);
            if (v->state != CC_CONV_ASSIGNED && v->state != CC_CONV_TERMINATED)
                FAIL("conv %u conference outside assignment", v->id);
        }
        int open = v->state == CC_CONV_QUEUED || v->state == CC_CONV_OFFERED ||
                   v->state == CC_CONV_ASSIGNED;
        if (open != v->in_pair || (open && cc__pair_find(c, v->number, v->number_len,
                                                         v->ep) != v))
            FAIL("conv %u threading index wrong", v->id);
    }
    if (c->pairs.len > c->convs.len)
        FAIL("threading index has stale entries");
    /* agents */
    for (uint32_t i = 0; i < c->agents.cap; i++) {
        const cc__agent *a = c->agents.v[i];
        if (!a)
            continue;
        uint32_t due = 0;
        for (uint32_t k = 0; k < a->nwraps; k++) {
            const cc__conv *v = cc__conv_find(c, a->wraps[k].conv);
            if (!v || v->wrapups_due == 0)
                FAIL("agent %u owes wrap-up for missing conv %u", a->id, a->wraps[k].conv);
            due++;
        }
        if (a->load != a->held.n + a->nwraps)
            FAIL("agent %u load %u != held %u + wraps %u", a->id, a->load, a->held.n,
                 a->nwraps);
        if (a->reserved != a->pending.n)
            FAIL("agent %u reserved %u != pending %u", a->id, a->reserved, a->pending.n);
        if (a->load + a->reserved > a->capacity)
            FAIL("agent %u over capacity: %u + %u > %u", a->id, a->load, a->reserved,
                 a->capacity);
        if (a->state == CC_AGENT_LOGGED_OUT && (a->held.n || a->pending.n || a->nwraps))
            FAIL("logged-out agent %u holds work", a->id);
        for (uint32_t k = 0; k < a->held.n; k++) {
            const cc__conv *v = cc__conv_find(c, a->held.v[k]);
            if (!v || !(v->owner == a->id || (v->guest == a->id && v->conf == CC_CONF_ACTIVE)))
                FAIL("agent %u holds conv %u it is not in", a->id, a->held.v[k]);
        }
        for (uint32_t k = 0; k < a->pending.n; k++) {
            const cc__conv *v = cc__conv_find(c, a->pending.v[k]);
            if (!v || !(v->offer_to == a->id ||
                        (v->guest == a->id && v->conf == CC_CONF_REQUESTED)))
                FAIL("agent %u has a stale pending conv %u", a->id, a->pending.v[k]);
        }
        int ready = cc__ready(a);
        for (uint32_t k = 0; k < a->nteams; k++)
            if ((a->teams[k].pos != HEAP_NONE) != ready)
                FAIL("agent %u team heap membership wrong (ready=%d)", a->id, ready);
        for (uint32_t k = 0; k < a->nsmem; k++) {
            const cc__smember *m = a->smem[k];
            uint32_t score;
            if (m->a != a || (m->pos != HEAP_NONE) != ready ||
                !cc__agent_meets(a, m->k->q, m->k->req, m->k->nreq, &score) || score != m->score)
                FAIL("agent %u skill class membership wrong", a->id);
        }
    }
    /* routing settled: no conversation waits while an eligible agent is ready */
    for (uint32_t i = 0; i < c->queues.cap; i++) {
        const cc__queue *q = c->queues.v[i];
        if (!q)
            continue;
        for (uint32_t k = 0; k < q->waiting.n; k++) {
            const cc__conv *v = q->waiting.v[k];
            if (v->state != CC_CONV_QUEUED || v->queue != q->id || v->qpos != k || v->cls)
                FAIL("queue %u holds conv %u that is not waiting there", q->id, v->id);
        }
        uint32_t total = q->waiting.n;
        for (uint32_t x = 0; x < q->ncls; x++) {
            const cc__class *cl = q->cls[x];
            total += cl->waiting.n;
            for (uint32_t k = 0; k < cl->waiting.n; k++) {
                const cc__conv *v = cl->waiting.v[k];
                if (v->state != CC_CONV_QUEUED || v->queue != q->id || v->qpos != k ||
                    v->cls != cl)
                    FAIL("queue %u class holds conv %u that is not waiting there", q->id,
                         v->id);
            }
            if (cl->waiting.n && cl->ready.n)
                FAIL("queue %u has %u waiting for skills while an eligible agent is ready",
                     q->id, cl->waiting.n);
        }
        if (total != q->nwait)
            FAIL("queue %u counts %u waiting, holds %u", q->id, q->nwait, total);
        if (q->waiting.n == 0)
            continue;
        for (uint32_t k = 0; k < q->nteams; k++) {
            const cc__team *t = cc__tab_get(&c->teams, q->teams[k]);
            if (t->ready.n)
                FAIL("queue %u has %u waiting while team %u has a ready agent", q->id,
                     q->waiting.n, t->id);
        }
    }
    r = 0;
out:
    return r;
}
