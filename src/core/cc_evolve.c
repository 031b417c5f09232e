/*
 * cc_evolve.c: the one place where the core's state changes. Each event is
 * applied here, both live (right after cc.c decided and emitted it) and in
 * replay. Evolve never decides anything and never emits events; it checks
 * that the event fits the state so that a corrupt log is refused rather than
 * applied halfway.
 */
#include <stdlib.h>
#include <string.h>

#include "core/cc_int.h"
#include "util/xalloc.h"

/* ---- small helpers ---------------------------------------------------- */

void cc__ids_add(cc__ids *l, uint32_t id)
{
    if (l->n == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 4;
        l->v = xrealloc(l->v, l->cap * sizeof *l->v);
    }
    l->v[l->n++] = id;
}

int cc__ids_del(cc__ids *l, uint32_t id)
{
    for (uint32_t i = 0; i < l->n; i++)
        if (l->v[i] == id) {
            l->v[i] = l->v[--l->n];
            return 1;
        }
    return 0;
}

int cc__ids_has(const cc__ids *l, uint32_t id)
{
    for (uint32_t i = 0; i < l->n; i++)
        if (l->v[i] == id)
            return 1;
    return 0;
}

void cc__tab_set(cc__tab *t, uint32_t id, void *e)
{
    if (id >= t->cap) {
        uint32_t ncap = t->cap ? t->cap : 16;
        while (ncap <= id)
            ncap *= 2;
        t->v = xrealloc(t->v, ncap * sizeof *t->v);
        memset(t->v + t->cap, 0, (ncap - t->cap) * sizeof *t->v);
        t->cap = ncap;
    }
    if (t->v[id] == NULL && e != NULL)
        t->count++;
    else if (t->v[id] != NULL && e == NULL)
        t->count--;
    t->v[id] = e;
}

int cc__ready(const cc__agent *a)
{
    return a->state == CC_AGENT_AVAILABLE && a->connected &&
           a->load + a->reserved < a->capacity;
}

int cc__conv_less(const void *x, const void *y)
{
    const cc__conv *a = x, *b = y;
    return a->qkey != b->qkey ? a->qkey < b->qkey : a->id < b->id;
}

void cc__conv_moved(void *e, uint32_t pos)
{
    ((cc__conv *)e)->qpos = pos;
}

int cc__member_less(const void *x, const void *y)
{
    const cc__agent *a = ((const cc__member *)x)->a, *b = ((const cc__member *)y)->a;
    return a->idle_since != b->idle_since ? a->idle_since < b->idle_since : a->id < b->id;
}

void cc__member_moved(void *e, uint32_t pos)
{
    ((cc__member *)e)->pos = pos;
}

static int conv_id_eq(const void *e, const void *key)
{
    return ((const cc__conv *)e)->id == *(const uint32_t *)key;
}

cc__conv *cc__conv_find(const cc *c, uint32_t id)
{
    return hmap_get(&c->convs, hmap_hash_u64(id), conv_id_eq, &id);
}

struct pair_key {
    const char *number;
    size_t n;
    uint32_t ep;
};

static uint64_t pair_hash(const char *number, size_t n, uint32_t ep)
{
    return hmap_hash_bytes(number, n, ep);
}

static int pair_eq(const void *e, const void *key)
{
    const cc__conv *v = e;
    const struct pair_key *k = key;
    return v->ep == k->ep && v->number_len == k->n && memcmp(v->number, k->number, k->n) == 0;
}

cc__conv *cc__pair_find(const cc *c, const char *number, size_t n, uint32_t ep)
{
    struct pair_key k = {number, n, ep};
    return hmap_get(&c->pairs, pair_hash(number, n, ep), pair_eq, &k);
}

static void pair_drop(cc *c, cc__conv *v)
{
    if (!v->in_pair)
        return;
    struct pair_key k = {v->number, v->number_len, v->ep};
    hmap_del(&c->pairs, pair_hash(v->number, v->number_len, v->ep), pair_eq, &k);
    v->in_pair = 0;
}

struct str_key {
    const char *p;
    size_t n;
};

static int ep_num_eq(const void *e, const void *key)
{
    const cc__ep *ep = e;
    const struct str_key *k = key;
    return strlen(ep->number) == k->n && memcmp(ep->number, k->p, k->n) == 0;
}

static int optout_eq(const void *e, const void *key)
{
    const cc__optout *o = e;
    const struct pair_key *k = key;
    return o->ep == k->ep && o->n == k->n && memcmp(o->number, k->number, k->n) == 0;
}

cc__optout *cc__optout_find(const cc *c, const char *number, size_t n, uint32_t ep)
{
    struct pair_key k = {number, n, ep};
    return hmap_get(&c->optouts, pair_hash(number, n, ep), optout_eq, &k);
}

static int survey_eq(const void *e, const void *key)
{
    const cc__survey *o = e;
    const struct pair_key *k = key;
    return o->ep == k->ep && o->n == k->n && memcmp(o->number, k->number, k->n) == 0;
}

cc__survey *cc__survey_find(const cc *c, const char *number, size_t n, uint32_t ep)
{
    struct pair_key k = {number, n, ep};
    return hmap_get(&c->surveys, pair_hash(number, n, ep), survey_eq, &k);
}

cc__ep *cc__ep_by_number(const cc *c, const char *number, size_t n)
{
    struct str_key k = {number, n};
    return hmap_get(&c->ep_numbers, hmap_hash_bytes(number, n, 0), ep_num_eq, &k);
}

static int seen_eq(const void *e, const void *key)
{
    const struct str_key *k = key;
    return strlen(e) == k->n && memcmp(e, k->p, k->n) == 0;
}

int cc__seen(const cc *c, str id)
{
    struct str_key k = {id.p, id.n};
    return hmap_get(&c->seen, hmap_hash_bytes(id.p, id.n, 7), seen_eq, &k) != NULL;
}

/* Remembers a provider message id; forgets the oldest past seen_max. */
static void seen_add(cc *c, str id)
{
    if (id.n == 0 || cc__seen(c, id))
        return;
    if (c->seen_len == c->seen_max) {
        char *old = c->seen_ring[c->seen_head];
        struct str_key k = {old, strlen(old)};
        hmap_del(&c->seen, hmap_hash_bytes(old, k.n, 7), seen_eq, &k);
        free(old);
        c->seen_head = (c->seen_head + 1) % c->seen_cap;
        c->seen_len--;
        c->seen_forgot = 1;
    }
    if (c->seen_len == c->seen_cap) {
        /* Grow the ring, unrolling it so that the oldest comes first. */
        size_t ncap = c->seen_cap ? c->seen_cap * 2 : 64;
        if (ncap > c->seen_max)
            ncap = c->seen_max;
        char **r = xmalloc(ncap * sizeof *r);
        for (size_t i = 0; i < c->seen_len; i++)
            r[i] = c->seen_ring[(c->seen_head + i) % c->seen_cap];
        free(c->seen_ring);
        c->seen_ring = r;
        c->seen_cap = ncap;
        c->seen_head = 0;
    }
    char *s = xmemdup0(id.p, id.n);
    c->seen_ring[(c->seen_head + c->seen_len) % c->seen_cap] = s;
    c->seen_len++;
    hmap_put(&c->seen, hmap_hash_bytes(id.p, id.n, 7), s);
}

cc__wrap *cc__wrap_find(const cc__agent *a, uint32_t conv)
{
    for (uint32_t i = 0; i < a->nwraps; i++)
        if (a->wraps[i].conv == conv)
            return &a->wraps[i];
    return NULL;
}

void cc__timer_push(cc *c, int64_t due, uint32_t kind, uint32_t conv, uint32_t agent,
                    uint32_t gen)
{
    if (c->ntimers == c->captimers) {
        c->captimers = c->captimers ? c->captimers * 2 : 64;
        c->timers = xrealloc(c->timers, c->captimers * sizeof *c->timers);
    }
    size_t i = c->ntimers++;
    cc__timer t = {due, kind, conv, agent, gen};
    while (i > 0 && c->timers[(i - 1) / 2].due > due) {
        c->timers[i] = c->timers[(i - 1) / 2];
        i = (i - 1) / 2;
    }
    c->timers[i] = t;
}

void cc__bury(cc *c, void *p, void (*fn)(void *))
{
    if (c->ngraves == c->capgraves) {
        c->capgraves = c->capgraves ? c->capgraves * 2 : 16;
        c->graves = xrealloc(c->graves, c->capgraves * sizeof *c->graves);
    }
    c->graves[c->ngraves++] = (cc__grave){p, fn};
}

void cc__conv_free(void *p)
{
    cc__conv *v = p;
    for (uint32_t i = 0; i < v->nvars; i++) {
        free(v->vars[i].key);
        free(v->vars[i].value);
    }
    free(v->vars);
    free(v->name);
    free(v->sup);
    free(v->extra);
    free(v);
}

static void set_str(char **dst, str s)
{
    free(*dst);
    *dst = xmemdup0(s.p, s.n);
}

/* ---- agents and routing bookkeeping ----------------------------------- */

static void mark_agent(cc *c, cc__agent *a)
{
    if (c->replaying || a->dirty)
        return;
    a->dirty = 1;
    cc__ids_add(&c->dirty_agents, a->id);
}

static void mark_queue(cc *c, cc__queue *q)
{
    if (c->replaying || q->dirty)
        return;
    q->dirty = 1;
    cc__ids_add(&c->dirty_queues, q->id);
}

/* Puts the agent into its teams' ready heaps exactly when it is ready, with
 * its current key, and marks it for routing when it is. */
static void agent_sync(cc *c, cc__agent *a)
{
    int want = cc__ready(a);
    for (uint32_t i = 0; i < a->nteams; i++) {
        cc__member *m = &a->teams[i];
        cc__team *t = cc__tab_get(&c->teams, m->team);
        if (want && m->pos == HEAP_NONE)
            heap_push(&t->ready, m);
        else if (want)
            heap_fix(&t->ready, m->pos);
        else if (m->pos != HEAP_NONE)
            heap_remove(&t->ready, m->pos);
    }
    cc__agent_sync_classes(a, want);
    if (want)
        mark_agent(c, a);
}

static void agent_leave_teams(cc *c, cc__agent *a)
{
    for (uint32_t i = 0; i < a->nteams; i++) {
        cc__member *m = &a->teams[i];
        cc__team *t = cc__tab_get(&c->teams, m->team);
        if (m->pos != HEAP_NONE)
            heap_remove(&t->ready, m->pos);
        t->members--;
    }
    free(a->teams);
    a->teams = NULL;
    a->nteams = 0;
}

void cc__agent_free(void *p)
{
    cc__agent *a = p;
    free(a->name);
    free(a->teams);
    free(a->skills);
    free(a->smem); /* memberships went with the agent's removal or the queues */
    free(a->held.v);
    free(a->pending.v);
    free(a->wraps);
    free(a);
}

void cc__named_free(void *p)
{
    /* teams' and reasons' first two members are id and name */
    free(((cc__reason *)p)->name);
    free(p);
}

void cc__team_free(void *p)
{
    cc__team *t = p;
    heap_free(&t->ready);
    free(t->queues.v);
    free(t->name);
    free(t);
}

void cc__queue_free(void *p)
{
    cc__queue *q = p;
    cc__queue_drop_classes(q);
    free(q->req);
    heap_free(&q->waiting);
    free(q->teams);
    free(q->name);
    free(q);
}

void cc__ep_free(void *p)
{
    cc__ep *e = p;
    free(e->number);
    cc__flow_free(&e->flow);
    free(e);
}

static void queue_set_teams(cc *c, cc__queue *q, const uint32_t *ids, size_t n)
{
    for (uint32_t i = 0; i < q->nteams; i++) {
        cc__team *t = cc__tab_get(&c->teams, q->teams[i]);
        if (t)
            cc__ids_del(&t->queues, q->id);
    }
    free(q->teams);
    q->teams = n ? xmalloc(n * sizeof *q->teams) : NULL;
    q->nteams = 0;
    for (size_t i = 0; i < n; i++) {
        cc__team *t = cc__tab_get(&c->teams, ids[i]);
        if (!t || cc__ids_has(&t->queues, q->id))
            continue; /* unknown or listed twice */
        q->teams[q->nteams++] = ids[i];
        cc__ids_add(&t->queues, q->id);
    }
}

/* ---- conversation bookkeeping ----------------------------------------- */

static void conv_unqueue(cc *c, cc__conv *v)
{
    cc__conv_dequeue(c, v);
}

static void held_drop(cc *c, uint32_t agent, uint32_t conv)
{
    cc__agent *a = cc__tab_get(&c->agents, agent);
    if (a && cc__ids_del(&a->held, conv)) {
        a->load--;
        agent_sync(c, a);
    }
}

static void pending_drop(cc *c, uint32_t agent, uint32_t conv)
{
    cc__agent *a = cc__tab_get(&c->agents, agent);
    if (a && cc__ids_del(&a->pending, conv)) {
        a->reserved--;
        agent_sync(c, a);
    }
}

/* ---- evolve ------------------------------------------------------------ */

#define NEED(cond, err)                                                              \
    do {                                                                             \
        if (!(cond))                                                                 \
            return -CC_E_##err;                                                      \
    } while (0)

static int evolve_config(cc *c, const cc_event *ev)
{
    switch (ev->type) {
    case CC_EV_TEAM_PUT: {
        cc__team *t = cc__tab_get(&c->teams, ev->team);
        if (!t) {
            t = xcalloc(1, sizeof *t);
            t->id = ev->team;
            heap_init(&t->ready, cc__member_less, cc__member_moved);
            cc__tab_set(&c->teams, t->id, t);
        }
        set_str(&t->name, ev->name);
        return 0;
    }
    case CC_EV_QUEUE_PUT: {
        cc__queue *q = cc__tab_get(&c->queues, ev->queue);
        if (!q) {
            q = xcalloc(1, sizeof *q);
            q->id = ev->queue;
            heap_init(&q->waiting, cc__conv_less, cc__conv_moved);
            cc__tab_set(&c->queues, q->id, q);
        }
        set_str(&q->name, ev->name);
        queue_set_teams(c, q, ev->ids, ev->n_ids);
        q->rona_ms = ev->rona_ms;
        q->autowrap_ms = ev->autowrap_ms;
        q->default_reason = ev->reason;
        q->fallback = ev->fallback;
        free(q->req); /* a QUEUE_SKILLS that follows sets them */
        q->req = NULL;
        q->nreq = 0;
        q->widen_ms = 0;
        cc__queue_reclass(c, q);
        mark_queue(c, q);
        return 0;
    }
    case CC_EV_AGENT_PUT: {
        cc__agent *a = cc__tab_get(&c->agents, ev->agent);
        if (!a) {
            a = xcalloc(1, sizeof *a);
            a->id = ev->agent;
            a->state = CC_AGENT_LOGGED_OUT;
            cc__tab_set(&c->agents, a->id, a);
        } else {
            agent_leave_teams(c, a);
        }
        set_str(&a->name, ev->name);
        a->capacity = ev->capacity;
        a->teams = ev->n_ids ? xcalloc(ev->n_ids, sizeof *a->teams) : NULL;
        for (size_t i = 0; i < ev->n_ids; i++) {
            cc__team *t = cc__tab_get(&c->teams, ev->ids[i]);
            int dup = 0;
            for (uint32_t k = 0; k < a->nteams; k++)
                dup |= a->teams[k].team == ev->ids[i];
            if (!t || dup)
                continue;
            a->teams[a->nteams++] = (cc__member){a, ev->ids[i], HEAP_NONE};
            t->members++;
        }
        free(a->skills); /* an AGENT_SKILLS that follows sets them */
        a->skills = NULL;
        a->nskills = 0;
        cc__agent_reclass(c, a, 1);
        agent_sync(c, a);
        return 0;
    }
    case CC_EV_EP_PUT: {
        cc__ep *e = cc__tab_get(&c->eps, ev->ep);
        if (!e) {
            e = xcalloc(1, sizeof *e);
            e->id = ev->ep;
            cc__tab_set(&c->eps, e->id, e);
        } else {
            struct str_key k = {e->number, strlen(e->number)};
            hmap_del(&c->ep_numbers, hmap_hash_bytes(k.p, k.n, 0), ep_num_eq, &k);
        }
        NEED(!cc__ep_by_number(c, ev->number.p, ev->number.n), IN_USE);
        set_str(&e->number, ev->number);
        e->queue = ev->queue;
        cc__flow_set(&e->flow, ev->flow);
        hmap_put(&c->ep_numbers, hmap_hash_bytes(ev->number.p, ev->number.n, 0), e);
        return 0;
    }
    case CC_EV_REASON_PUT:
    case CC_EV_IDLE_REASON_PUT: {
        cc__tab *tab = ev->type == CC_EV_REASON_PUT ? &c->reasons : &c->idle_reasons;
        cc__reason *r = cc__tab_get(tab, ev->reason);
        if (!r) {
            r = xcalloc(1, sizeof *r);
            r->id = ev->reason;
            cc__tab_set(tab, r->id, r);
        }
        set_str(&r->name, ev->name);
        return 0;
    }
    case CC_EV_SETTINGS:
        c->grace_ms = ev->grace_ms;
        return 0;
    case CC_EV_TEAM_REMOVED: {
        cc__team *t = cc__tab_get(&c->teams, ev->team);
        NEED(t, NO_TEAM);
        NEED(t->members == 0 && t->queues.n == 0, IN_USE);
        cc__tab_set(&c->teams, t->id, NULL);
        cc__bury(c, t, cc__team_free);
        return 0;
    }
    case CC_EV_QUEUE_REMOVED: {
        cc__queue *q = cc__tab_get(&c->queues, ev->queue);
        NEED(q, NO_QUEUE);
        NEED(q->nwait == 0, IN_USE);
        /* Conversations that still name the queue (offered, assigned) now
         * name its fallback; with none, a later re-queue uses the entry
         * point's queue (see cc.c requeue). */
        size_t i = 0;
        void *e;
        while (hmap_next(&c->convs, &i, &e)) {
            cc__conv *v = e;
            if (v->queue == q->id)
                v->queue = q->fallback;
        }
        queue_set_teams(c, q, NULL, 0);
        cc__queue_drop_classes(q);
        cc__ids_del(&c->dirty_queues, q->id);
        cc__tab_set(&c->queues, q->id, NULL);
        cc__bury(c, q, cc__queue_free);
        return 0;
    }
    case CC_EV_AGENT_REMOVED: {
        cc__agent *a = cc__tab_get(&c->agents, ev->agent);
        NEED(a, NO_AGENT);
        NEED(a->held.n == 0 && a->pending.n == 0 && a->nwraps == 0, BUSY);
        agent_leave_teams(c, a);
        cc__agent_reclass(c, a, 0);
        cc__ids_del(&c->dirty_agents, a->id);
        cc__tab_set(&c->agents, a->id, NULL);
        cc__bury(c, a, cc__agent_free);
        return 0;
    }
    case CC_EV_EP_REMOVED: {
        cc__ep *e = cc__tab_get(&c->eps, ev->ep);
        NEED(e, NO_ENTRY_POINT);
        struct str_key k = {e->number, strlen(e->number)};
        hmap_del(&c->ep_numbers, hmap_hash_bytes(k.p, k.n, 0), ep_num_eq, &k);
        cc__tab_set(&c->eps, e->id, NULL);
        cc__bury(c, e, cc__ep_free);
        return 0;
    }
    case CC_EV_REASON_REMOVED:
    case CC_EV_IDLE_REASON_REMOVED: {
        cc__tab *tab = ev->type == CC_EV_REASON_REMOVED ? &c->reasons : &c->idle_reasons;
        cc__reason *r = cc__tab_get(tab, ev->reason);
        NEED(r, NO_REASON);
        cc__tab_set(tab, r->id, NULL);
        cc__bury(c, r, cc__named_free);
        return 0;
    }
    }
    return -CC_E_UNKNOWN_COMMAND;
}

static int evolve_agent(cc *c, const cc_event *ev, cc__agent *a)
{
    switch (ev->type) {
    case CC_EV_AGENT_STATE:
        if (ev->state == CC_AGENT_AVAILABLE && a->state != CC_AGENT_AVAILABLE)
            a->idle_since = ev->at;
        if (a->state == CC_AGENT_LOGGED_OUT && ev->state != CC_AGENT_LOGGED_OUT)
            a->connected = 1;
        if (ev->state == CC_AGENT_LOGGED_OUT) {
            NEED(a->held.n == 0 && a->pending.n == 0 && a->nwraps == 0, BUSY);
            a->connected = 0;
        }
        a->state = ev->state;
        a->idle_reason = ev->state == CC_AGENT_IDLE ? ev->reason : 0;
        a->state_since = ev->at;
        agent_sync(c, a);
        return 0;
    case CC_EV_AGENT_CONNECTED:
        NEED(a->state != CC_AGENT_LOGGED_OUT, NOT_LOGGED_IN);
        a->connected = ev->state;
        if (!ev->state) {
            NEED(a->pending.n == 0, BUSY);
            a->disc_gen = ++c->gen;
            a->grace_deadline = ev->deadline;
            cc__timer_push(c, ev->deadline, CC__T_GRACE, 0, a->id, a->disc_gen);
        } else {
            a->grace_deadline = 0;
        }
        agent_sync(c, a);
        return 0;
    }
    return -CC_E_UNKNOWN_COMMAND;
}

static int evolve_opened(cc *c, const cc_event *ev)
{
    NEED(ev->conv != 0 && !cc__conv_find(c, ev->conv), INVALID);
    NEED(ev->number.n > 0 && ev->number.n <= CC_NUMBER_MAX, INVALID);
    NEED(cc__tab_get(&c->eps, ev->ep), NO_ENTRY_POINT);
    NEED(!cc__pair_find(c, ev->number.p, ev->number.n, ev->ep), EXISTS);
    cc__agent *a = NULL;
    if (ev->kind) {
        a = cc__tab_get(&c->agents, ev->agent);
        NEED(a, NO_AGENT);
    }
    cc__conv *v = xcalloc(1, sizeof *v);
    v->id = ev->conv;
    v->ep = ev->ep;
    v->queue = ev->queue;
    v->qpos = HEAP_NONE;
    v->opened_at = ev->at;
    v->outbound = ev->kind != 0;
    memcpy(v->number, ev->number.p, ev->number.n);
    v->number_len = (uint8_t)ev->number.n;
    const cc__ep *epn = cc__tab_get(&c->eps, ev->ep);
    v->ep_number_len = (uint8_t)strlen(epn->number);
    memcpy(v->ep_number, epn->number, v->ep_number_len);
    if (ev->name.n)
        v->name = xmemdup0(ev->name.p, ev->name.n);
    hmap_put(&c->convs, hmap_hash_u64(v->id), v);
    hmap_put(&c->pairs, pair_hash(v->number, v->number_len, v->ep), v);
    v->in_pair = 1;
    if (v->id >= c->next_conv)
        c->next_conv = v->id + 1;
    if (a) {
        v->state = CC_CONV_ASSIGNED;
        v->owner = a->id;
        cc__ids_add(&a->held, v->id);
        a->load++;
        agent_sync(c, a);
    } else {
        v->state = CC_CONV_QUEUED; /* placed by the QUEUED event that follows */
    }
    return 0;
}

static void sup_clear(cc__conv *v)
{
    free(v->sup);
    v->sup = NULL;
}

/* A supervisor in a conversation: notes, joining, taking over, leaving. */
static int evolve_sup(cc *c, const cc_event *ev, cc__conv *v)
{
    int in = v->sup && str_eq(ev->name, str_c(v->sup));
    switch (ev->type) {
    case CC_EV_NOTE:
        NEED(v->state != CC_CONV_WRAPUP, STATE);
        NEED(ev->agent || ev->name.n, INVALID);
        return 0;
    case CC_EV_SUP_JOINED:
        NEED(v->state == CC_CONV_ASSIGNED && v->owner && !v->sup && ev->name.n, SUPERVISOR);
        v->sup = xmemdup0(ev->name.p, ev->name.n);
        return 0;
    case CC_EV_TAKEN_OVER:
        NEED(v->state == CC_CONV_ASSIGNED && v->owner == ev->agent && ev->agent, NOT_OWNER);
        NEED(v->conf == CC_CONF_NONE, CONFERENCE);
        NEED(!v->sup || in, SUPERVISOR);
        held_drop(c, v->owner, v->id);
        v->owner = 0;
        if (!v->sup)
            v->sup = xmemdup0(ev->name.p, ev->name.n);
        return 0;
    default: /* SUP_LEFT */
        NEED(in && v->owner, NOT_SUPERVISING);
        sup_clear(v);
        return 0;
    }
}

static int evolve_conv(cc *c, const cc_event *ev, cc__conv *v)
{
    if (ev->type >= CC_EV_NOTE && ev->type <= CC_EV_SUP_LEFT)
        return evolve_sup(c, ev, v);
    cc__agent *a = ev->agent ? cc__tab_get(&c->agents, ev->agent) : NULL;
    cc__agent *t = ev->target ? cc__tab_get(&c->agents, ev->target) : NULL;

    switch (ev->type) {
    case CC_EV_MSG_IN:
        v->msgs_in++;
        seen_add(c, ev->msg_id);
        return 0;
    case CC_EV_MSG_OUT:
        v->msgs_out++;
        return 0;
    case CC_EV_QUEUED: {
        cc__queue *q = cc__tab_get(&c->queues, ev->queue);
        NEED(q, NO_QUEUE);
        NEED(v->state == CC_CONV_QUEUED || v->state == CC_CONV_ASSIGNED, STATE);
        NEED(v->guest == 0, CONFERENCE);
        conv_unqueue(c, v);
        if (v->owner) {
            held_drop(c, v->owner, v->id);
            v->owner = 0;
        }
        sup_clear(v); /* back in a queue: nobody supervises a waiting one */
        v->queue = q->id;
        v->qkey = ev->key;
        v->state = CC_CONV_QUEUED;
        v->widen = (uint8_t)cc__widen_due(c, q, v); /* e.g. back after RONA */
        cc__conv_enqueue(c, q, v);
        mark_queue(c, q);
        if (ev->code == CC_WHY_NEW)
            v->wait_deadline = ev->deadline;
        if (v->wait_deadline && !v->overflowed) /* (again) waiting: watch the maximum */
            cc__timer_push(c, v->wait_deadline, CC__T_WAIT, v->id, 0, 0);
        return 0;
    }
    case CC_EV_OFFERED:
        NEED(a, NO_AGENT);
        NEED(v->state == CC_CONV_QUEUED || v->state == CC_CONV_ASSIGNED, STATE);
        conv_unqueue(c, v);
        v->state = CC_CONV_OFFERED;
        v->offer_to = a->id;
        v->offer_kind = (uint8_t)ev->kind;
        v->offer_deadline = ev->deadline;
        v->offer_gen = ++c->gen;
        cc__timer_push(c, ev->deadline, CC__T_OFFER, v->id, 0, v->offer_gen);
        cc__ids_add(&a->pending, v->id);
        a->reserved++;
        a->idle_since = ev->at;
        agent_sync(c, a);
        return 0;
    case CC_EV_OFFER_WITHDRAWN:
        NEED(v->state == CC_CONV_OFFERED && v->offer_to == ev->agent, NOT_OFFERED);
        pending_drop(c, v->offer_to, v->id);
        v->offer_to = 0;
        v->offer_deadline = 0;
        v->state = CC_CONV_QUEUED; /* placed by the QUEUED or TERMINATED next */
        return 0;
    case CC_EV_ACCEPTED:
        NEED(v->state == CC_CONV_OFFERED && v->offer_to == ev->agent && a, NOT_OFFERED);
        cc__ids_del(&a->pending, v->id);
        a->reserved--;
        cc__ids_add(&a->held, v->id);
        a->load++;
        v->state = CC_CONV_ASSIGNED;
        v->owner = a->id;
        v->offer_to = 0;
        v->offer_deadline = 0;
        v->wait_deadline = 0; /* answered: the maximum wait is over */
        agent_sync(c, a);
        return 0;
    case CC_EV_OVERFLOWED:
        NEED(v->state == CC_CONV_QUEUED && !v->overflowed, STATE);
        v->overflowed = 1;
        v->wait_deadline = 0;
        return 0; /* a QUEUED that follows moves it */
    case CC_EV_TRANSFERRED:
        NEED(v->state == CC_CONV_ASSIGNED && v->owner == ev->agent, NOT_OWNER);
        NEED(v->conf == CC_CONF_NONE, CONFERENCE);
        sup_clear(v);
        held_drop(c, v->owner, v->id);
        v->transferred_by = v->owner;
        v->owner = 0;
        return 0; /* the OFFERED or QUEUED that follows places it */
    case CC_EV_OWNER_CHANGED:
        NEED(v->owner == ev->agent && v->guest == ev->target && v->conf == CC_CONF_ACTIVE,
             NO_CONFERENCE);
        held_drop(c, v->owner, v->id);
        v->owner = v->guest;
        v->guest = 0;
        v->conf = CC_CONF_NONE;
        return 0;
    case CC_EV_CONF_REQUESTED:
        NEED(t, NO_AGENT);
        NEED(v->conf == CC_CONF_NONE, CONFERENCE);
        v->conf = CC_CONF_REQUESTED;
        v->guest = t->id;
        v->conf_deadline = ev->deadline;
        v->conf_gen = ++c->gen;
        cc__timer_push(c, ev->deadline, CC__T_CONF, v->id, 0, v->conf_gen);
        cc__ids_add(&t->pending, v->id);
        t->reserved++;
        t->idle_since = ev->at;
        agent_sync(c, t);
        return 0;
    case CC_EV_CONF_JOINED:
        NEED(t && v->conf == CC_CONF_REQUESTED && v->guest == t->id, NO_CONFERENCE);
        cc__ids_del(&t->pending, v->id);
        t->reserved--;
        cc__ids_add(&t->held, v->id);
        t->load++;
        v->conf = CC_CONF_ACTIVE;
        v->conf_deadline = 0;
        agent_sync(c, t);
        return 0;
    case CC_EV_CONF_CANCELLED:
        NEED(v->conf == CC_CONF_REQUESTED && v->guest == ev->target, NO_CONFERENCE);
        pending_drop(c, v->guest, v->id);
        v->conf = CC_CONF_NONE;
        v->guest = 0;
        v->conf_deadline = 0;
        return 0;
    case CC_EV_CONF_LEFT:
        NEED(v->conf == CC_CONF_ACTIVE && v->guest == ev->target, NO_CONFERENCE);
        held_drop(c, v->guest, v->id);
        v->conf = CC_CONF_NONE;
        v->guest = 0;
        return 0;
    case CC_EV_ENDED:
        NEED(v->state == CC_CONV_ASSIGNED || v->state == CC_CONV_TERMINATED, STATE);
        NEED(v->owner == ev->agent && v->conf == CC_CONF_NONE, NOT_OWNER);
        NEED(!ev->name.n || (v->sup && str_eq(ev->name, str_c(v->sup))), NOT_SUPERVISING);
        held_drop(c, v->owner, v->id);
        sup_clear(v);
        v->ended_by = ev->agent;
        v->owner = 0;
        v->state = CC_CONV_WRAPUP;
        pair_drop(c, v);
        return 0;
    case CC_EV_WRAPUP_DUE:
        NEED(a, NO_AGENT);
        NEED(!cc__wrap_find(a, v->id), EXISTS);
        if (a->nwraps == a->capwraps) {
            a->capwraps = a->capwraps ? a->capwraps * 2 : 4;
            a->wraps = xrealloc(a->wraps, a->capwraps * sizeof *a->wraps);
        }
        cc__wrap *nw = &a->wraps[a->nwraps++];
        *nw = (cc__wrap){v->id, ev->reason, ++c->gen, ev->deadline};
        if (ev->deadline)
            cc__timer_push(c, ev->deadline, CC__T_WRAP, v->id, a->id, nw->gen);
        a->load++;
        v->wrapups_due++;
        agent_sync(c, a);
        return 0;
    case CC_EV_WRAPPED_UP: {
        NEED(a, NO_AGENT);
        cc__wrap *w = cc__wrap_find(a, v->id);
        NEED(w, NO_WRAPUP);
        *w = a->wraps[--a->nwraps];
        a->load--;
        a->idle_since = ev->at;
        v->wrapups_due--;
        agent_sync(c, a);
        return 0;
    }
    case CC_EV_TERMINATED:
        NEED(v->state == CC_CONV_QUEUED || v->state == CC_CONV_ASSIGNED, STATE);
        conv_unqueue(c, v);
        v->state = CC_CONV_TERMINATED;
        v->why_terminated = (uint8_t)ev->code;
        pair_drop(c, v);
        return 0;
    case CC_EV_CLOSED:
        NEED(v->wrapups_due == 0 && v->guest == 0 && v->offer_to == 0, BUSY);
        conv_unqueue(c, v);
        if (v->owner)
            held_drop(c, v->owner, v->id);
        pair_drop(c, v);
        hmap_del(&c->convs, hmap_hash_u64(v->id), conv_id_eq, &v->id);
        cc__bury(c, v, cc__conv_free);
        return 0;
    case CC_EV_VAR_SET: {
        for (uint32_t i = 0; i < v->nvars; i++)
            if (strlen(v->vars[i].key) == ev->var_key.n &&
                memcmp(v->vars[i].key, ev->var_key.p, ev->var_key.n) == 0) {
                set_str(&v->vars[i].value, ev->value);
                return 0;
            }
        NEED(v->nvars < CC_VARS_MAX, LIMIT);
        v->vars = xrealloc(v->vars, (v->nvars + 1) * sizeof *v->vars);
        v->vars[v->nvars].key = xmemdup0(ev->var_key.p, ev->var_key.n);
        v->vars[v->nvars].value = xmemdup0(ev->value.p, ev->value.n);
        v->nvars++;
        return 0;
    }
    case CC_EV_NAME_SET:
        free(v->name);
        v->name = ev->name.n ? xmemdup0(ev->name.p, ev->name.n) : NULL;
        return 0;
    case CC_EV_OPTED_OUT: {
        NEED(ev->number.n > 0 && ev->number.n <= CC_NUMBER_MAX, INVALID);
        if (cc__optout_find(c, ev->number.p, ev->number.n, ev->ep))
            return 0;
        cc__optout *o = xcalloc(1, sizeof *o);
        o->ep = ev->ep;
        o->n = (uint8_t)ev->number.n;
        memcpy(o->number, ev->number.p, ev->number.n);
        hmap_put(&c->optouts, pair_hash(o->number, o->n, o->ep), o);
        return 0;
    }
    case CC_EV_OPTED_IN: {
        struct pair_key k = {ev->number.p, ev->number.n, ev->ep};
        free(hmap_del(&c->optouts, pair_hash(k.number, k.n, k.ep), optout_eq, &k));
        return 0;
    }
    }
    return -CC_E_UNKNOWN_COMMAND;
}

static int skill_cmp(const void *x, const void *y)
{
    const cc_skill *a = x, *b = y;
    return a->skill < b->skill ? -1 : a->skill > b->skill;
}

/* The packed skills of an event, ascending, in a new array (NULL when
 * none). Returns how many, or -1 when one is out of range or twice. */
static long skills_of(const cc *c, const cc_event *ev, cc_skill **out)
{
    *out = NULL;
    if (ev->n_ids == 0)
        return 0;
    if (ev->n_ids > CC_SKILLS_MAX)
        return -1;
    cc_skill *v = xmalloc(ev->n_ids * sizeof *v);
    for (size_t i = 0; i < ev->n_ids; i++)
        v[i] = cc_skill_unpack(ev->ids[i]);
    qsort(v, ev->n_ids, sizeof *v, skill_cmp);
    for (size_t i = 0; i < ev->n_ids; i++)
        if (v[i].level < 1 || v[i].level > CC_LEVEL_MAX || !cc__tab_get(&c->skills, v[i].skill) ||
            (i && v[i].skill == v[i - 1].skill)) {
            free(v);
            return -1;
        }
    *out = v;
    return (long)ev->n_ids;
}

static int evolve_skills(cc *c, const cc_event *ev)
{
    cc_skill *sk = NULL;
    long n = 0;
    if (ev->type == CC_EV_AGENT_SKILLS || ev->type == CC_EV_QUEUE_SKILLS ||
        ev->type == CC_EV_CONV_SKILLS)
        NEED((n = skills_of(c, ev, &sk)) >= 0, NO_SKILL);
    switch (ev->type) {
    case CC_EV_SKILL_PUT: {
        NEED(ev->target > 0 && ev->target < CC_MAX_ID, INVALID);
        cc__reason *r = cc__tab_get(&c->skills, ev->target);
        if (!r) {
            r = xcalloc(1, sizeof *r);
            r->id = ev->target;
            cc__tab_set(&c->skills, r->id, r);
        }
        set_str(&r->name, ev->name);
        return 0;
    }
    case CC_EV_SKILL_REMOVED: {
        cc__reason *r = cc__tab_get(&c->skills, ev->target);
        NEED(r, NO_SKILL);
        cc__tab_set(&c->skills, r->id, NULL);
        cc__bury(c, r, cc__named_free);
        return 0;
    }
    case CC_EV_AGENT_SKILLS: {
        cc__agent *a = cc__tab_get(&c->agents, ev->agent);
        if (!a) {
            free(sk);
            return -CC_E_NO_AGENT;
        }
        free(a->skills);
        a->skills = sk;
        a->nskills = (uint32_t)n;
        cc__agent_reclass(c, a, 1);
        agent_sync(c, a);
        return 0;
    }
    case CC_EV_QUEUE_SKILLS: {
        cc__queue *q = cc__tab_get(&c->queues, ev->queue);
        if (!q || ev->key < 0) {
            free(sk);
            return q ? -CC_E_INVALID : -CC_E_NO_QUEUE;
        }
        free(q->req);
        q->req = sk;
        q->nreq = (uint32_t)n;
        q->widen_ms = ev->key;
        cc__queue_reclass(c, q);
        mark_queue(c, q);
        return 0;
    }
    case CC_EV_CONV_SKILLS: {
        cc__conv *v = cc__conv_find(c, ev->conv);
        if (!v) {
            free(sk);
            return -CC_E_NO_CONVERSATION;
        }
        free(v->extra);
        v->extra = sk;
        v->nextra = (uint8_t)n;
        if (v->qpos != HEAP_NONE) {
            cc__queue *q = cc__tab_get(&c->queues, v->queue);
            cc__conv_dequeue(c, v);
            v->widen = (uint8_t)cc__widen_due(c, q, v);
            cc__conv_enqueue(c, q, v);
            mark_queue(c, q);
        }
        return 0;
    }
    case CC_EV_WIDENED: {
        cc__conv *v = cc__conv_find(c, ev->conv);
        NEED(v, NO_CONVERSATION);
        NEED(v->qpos != HEAP_NONE && v->queue == ev->queue, STATE);
        NEED(ev->kind > v->widen && ev->kind <= CC_LEVEL_MAX, INVALID);
        cc__queue *q = cc__tab_get(&c->queues, v->queue);
        cc__conv_dequeue(c, v);
        v->widen = (uint8_t)ev->kind;
        cc__conv_enqueue(c, q, v);
        mark_queue(c, q);
        return 0;
    }
    }
    return -CC_E_UNKNOWN_COMMAND;
}

/* Surveys outlive their conversation: keyed by (customer, entry point). */
static int evolve_csat(cc *c, const cc_event *ev)
{
    NEED(ev->number.n > 0 && ev->number.n <= CC_NUMBER_MAX, INVALID);
    struct pair_key k = {ev->number.p, ev->number.n, ev->ep};
    uint64_t h = pair_hash(k.number, k.n, k.ep);
    if (ev->type == CC_EV_CSAT_ASKED) {
        NEED(cc__conv_find(c, ev->conv), NO_CONVERSATION);
        free(hmap_del(&c->surveys, h, survey_eq, &k));
        cc__survey *s = xcalloc(1, sizeof *s);
        *s = (cc__survey){.ep = ev->ep, .conv = ev->conv, .agent = ev->agent,
                          .queue = ev->queue, .deadline = ev->deadline,
                          .n = (uint8_t)ev->number.n};
        memcpy(s->number, ev->number.p, ev->number.n);
        hmap_put(&c->surveys, h, s);
        return 0;
    }
    cc__survey *s = hmap_get(&c->surveys, h, survey_eq, &k);
    NEED(s && s->conv == ev->conv && ev->reason >= 1 && ev->reason <= 5, INVALID);
    seen_add(c, ev->msg_id);
    free(hmap_del(&c->surveys, h, survey_eq, &k));
    return 0;
}

int cc__evolve(cc *c, const cc_event *ev)
{
    if (ev->type == CC_EV_SUPERVISED) { /* the audit record of FORCE_STATE */
        NEED(cc__tab_get(&c->agents, ev->agent), NO_AGENT);
        return 0;
    }
    if (ev->type == CC_EV_CSAT_ASKED || ev->type == CC_EV_CSAT_ANSWERED)
        return evolve_csat(c, ev);
    if (ev->type >= CC_EV_SKILL_PUT && ev->type <= CC_EV_WIDENED)
        return evolve_skills(c, ev);
    if (ev->type <= CC_EV_IDLE_REASON_REMOVED)
        return evolve_config(c, ev);
    if (ev->type == CC_EV_AGENT_STATE || ev->type == CC_EV_AGENT_CONNECTED) {
        cc__agent *a = cc__tab_get(&c->agents, ev->agent);
        NEED(a, NO_AGENT);
        return evolve_agent(c, ev, a);
    }
    if (ev->type == CC_EV_CONV_OPENED)
        return evolve_opened(c, ev);
    if (ev->type > CC_EV_CONV_OPENED && ev->type < CC_EV__COUNT) {
        cc__conv *v = cc__conv_find(c, ev->conv);
        NEED(v, NO_CONVERSATION);
        return evolve_conv(c, ev, v);
    }
    return -CC_E_UNKNOWN_COMMAND;
}
