/*
 * cc_skill.c: the skill-routing index of the core (bookkeeping only: it is
 * called from evolve, never decides and never emits).
 *
 * A waiting conversation that requires no skill sits in its queue's plain
 * heap and is routed through the teams' heaps of ready agents, as before
 * skills existed. One that requires skills (its queue's, its entry point
 * flow's, those added on transfer; minimums lowered by widening) sits in a
 * skill class of its queue: all conversations of that queue requiring the
 * same skills at the same minimums. Each class keeps the eligible agents
 * (in one of the queue's teams, proficient enough in every skill) in a heap
 * ordered by match score (sum of proficiencies in the class's skills), then
 * longest idle, then id. So a routing decision reads heap tops: O(classes
 * of a queue + log n), never a scan of the agents.
 *
 * A class is made when a conversation first needs it (one scan of the
 * agents) and kept while its queue is unchanged; a queue keeps at most
 * CLASSES_KEEP classes with nobody waiting. Changing an agent's teams or
 * skills re-derives its memberships from the classes of its teams' queues;
 * changing a queue's teams or skills re-classes its waiting conversations.
 * Written here because no library keeps such an index.
 */
#include <stdlib.h>
#include <string.h>

#include "core/cc_int.h"
#include "util/xalloc.h"

#define CLASSES_KEEP 16

int cc__smember_less(const void *x, const void *y)
{
    const cc__smember *m = x, *o = y;
    if (m->score != o->score)
        return m->score > o->score;
    const cc__agent *a = m->a, *b = o->a;
    return a->idle_since != b->idle_since ? a->idle_since < b->idle_since : a->id < b->id;
}

void cc__smember_moved(void *e, uint32_t pos)
{
    ((cc__smember *)e)->pos = pos;
}

uint32_t cc__agent_level(const cc__agent *a, uint32_t skill)
{
    uint32_t lo = 0, hi = a->nskills;
    while (lo < hi) {
        uint32_t mid = (lo + hi) / 2;
        if (a->skills[mid].skill < skill)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < a->nskills && a->skills[lo].skill == skill ? a->skills[lo].level : 0;
}

/* Merges two ascending skill lists, keeping the higher level of a skill in
 * both. */
static uint32_t merge(const cc_skill *x, uint32_t nx, const cc_skill *y, uint32_t ny,
                      cc_skill *out)
{
    uint32_t i = 0, j = 0, n = 0;
    while (i < nx || j < ny) {
        if (j == ny || (i < nx && x[i].skill < y[j].skill))
            out[n++] = x[i++];
        else if (i == nx || y[j].skill < x[i].skill)
            out[n++] = y[j++];
        else {
            out[n] = x[i];
            if (y[j].level > out[n].level)
                out[n].level = y[j].level;
            n++, i++, j++;
        }
    }
    return n;
}

uint32_t cc__conv_key(const cc__queue *q, const cc__conv *v, cc_skill *out)
{
    uint32_t n = merge(q->req, q->nreq, v->extra, v->nextra, out);
    for (uint32_t i = 0; i < n; i++)
        out[i].level = out[i].level > v->widen ? out[i].level - v->widen : 0;
    return n;
}

uint32_t cc__conv_top_level(const cc__queue *q, const cc__conv *v)
{
    uint32_t top = 0;
    for (uint32_t i = 0; i < q->nreq; i++)
        top = q->req[i].level > top ? q->req[i].level : top;
    for (uint32_t i = 0; i < v->nextra; i++)
        top = v->extra[i].level > top ? v->extra[i].level : top;
    return top;
}

static int in_teams(const cc__agent *a, const cc__queue *q)
{
    for (uint32_t i = 0; i < a->nteams; i++)
        for (uint32_t k = 0; k < q->nteams; k++)
            if (a->teams[i].team == q->teams[k])
                return 1;
    return 0;
}

int cc__agent_meets(const cc__agent *a, const cc__queue *q, const cc_skill *key, uint32_t n,
                    uint32_t *score)
{
    if (!in_teams(a, q))
        return 0;
    uint32_t sum = 0;
    for (uint32_t i = 0; i < n; i++) {
        uint32_t l = cc__agent_level(a, key[i].skill);
        if (l < key[i].level)
            return 0;
        sum += l;
    }
    *score = sum;
    return 1;
}

/* ---- memberships ------------------------------------------------------- */

static void member_add(cc__class *k, cc__agent *a, uint32_t score)
{
    cc__smember *m = xmalloc(sizeof *m);
    *m = (cc__smember){a, k, HEAP_NONE, score};
    if (k->nmem == k->capmem) {
        k->capmem = k->capmem ? k->capmem * 2 : 8;
        k->mem = xrealloc(k->mem, k->capmem * sizeof *k->mem);
    }
    k->mem[k->nmem++] = m;
    if (a->nsmem == a->capsmem) {
        a->capsmem = a->capsmem ? a->capsmem * 2 : 4;
        a->smem = xrealloc(a->smem, a->capsmem * sizeof *a->smem);
    }
    a->smem[a->nsmem++] = m;
    if (cc__ready(a))
        heap_push(&k->ready, m);
}

static void ptr_del(cc__smember **v, uint32_t *n, const cc__smember *m)
{
    for (uint32_t i = 0; i < *n; i++)
        if (v[i] == m) {
            v[i] = v[--*n];
            return;
        }
}

static void member_free(cc__smember *m)
{
    if (m->pos != HEAP_NONE)
        heap_remove(&m->k->ready, m->pos);
    ptr_del(m->k->mem, &m->k->nmem, m);
    ptr_del(m->a->smem, &m->a->nsmem, m);
    free(m);
}

void cc__agent_sync_classes(cc__agent *a, int ready)
{
    for (uint32_t i = 0; i < a->nsmem; i++) {
        cc__smember *m = a->smem[i];
        if (ready && m->pos == HEAP_NONE)
            heap_push(&m->k->ready, m);
        else if (ready)
            heap_fix(&m->k->ready, m->pos);
        else if (m->pos != HEAP_NONE)
            heap_remove(&m->k->ready, m->pos);
    }
}

void cc__agent_reclass(cc *c, cc__agent *a, int keep)
{
    while (a->nsmem)
        member_free(a->smem[a->nsmem - 1]);
    if (!keep) {
        free(a->smem);
        a->smem = NULL;
        a->capsmem = 0;
        return;
    }
    for (uint32_t i = 0; i < a->nteams; i++) {
        cc__team *t = cc__tab_get(&c->teams, a->teams[i].team);
        for (uint32_t j = 0; j < t->queues.n; j++) {
            cc__queue *q = cc__tab_get(&c->queues, t->queues.v[j]);
            for (uint32_t x = 0; x < q->ncls; x++) {
                cc__class *k = q->cls[x];
                int have = 0;
                for (uint32_t y = 0; y < a->nsmem && !have; y++)
                    have = a->smem[y]->k == k; /* via another of its teams */
                uint32_t score;
                if (!have && cc__agent_meets(a, q, k->req, k->nreq, &score))
                    member_add(k, a, score);
            }
        }
    }
}

/* ---- classes ----------------------------------------------------------- */

static void class_free(cc__class *k)
{
    while (k->nmem)
        member_free(k->mem[k->nmem - 1]);
    free(k->mem);
    heap_free(&k->ready);
    heap_free(&k->waiting);
    free(k->req);
    free(k);
}

static cc__class *class_new(cc *c, cc__queue *q, const cc_skill *key, uint32_t n)
{
    if (q->ncls >= CLASSES_KEEP) /* forget the classes nobody waits in */
        for (uint32_t i = q->ncls; i-- > 0;)
            if (q->cls[i]->waiting.n == 0) {
                class_free(q->cls[i]);
                q->cls[i] = q->cls[--q->ncls];
            }
    cc__class *k = xcalloc(1, sizeof *k);
    k->q = q;
    k->req = xmalloc(n * sizeof *k->req);
    memcpy(k->req, key, n * sizeof *k->req);
    k->nreq = n;
    heap_init(&k->waiting, cc__conv_less, cc__conv_moved);
    heap_init(&k->ready, cc__smember_less, cc__smember_moved);
    if (q->ncls == q->capcls) {
        q->capcls = q->capcls ? q->capcls * 2 : 4;
        q->cls = xrealloc(q->cls, q->capcls * sizeof *q->cls);
    }
    q->cls[q->ncls++] = k;
    for (uint32_t id = 0; id < c->agents.cap; id++) {
        cc__agent *a = c->agents.v[id];
        uint32_t score;
        if (a && cc__agent_meets(a, q, key, n, &score))
            member_add(k, a, score);
    }
    return k;
}

static cc__class *class_find(cc *c, cc__queue *q, const cc_skill *key, uint32_t n)
{
    for (uint32_t i = 0; i < q->ncls; i++) {
        cc__class *k = q->cls[i];
        if (k->nreq == n && memcmp(k->req, key, n * sizeof *key) == 0)
            return k;
    }
    return class_new(c, q, key, n);
}

void cc__queue_drop_classes(cc__queue *q)
{
    for (uint32_t i = 0; i < q->ncls; i++)
        class_free(q->cls[i]);
    free(q->cls);
    q->cls = NULL;
    q->ncls = q->capcls = 0;
}

/* ---- conversations ----------------------------------------------------- */

void cc__conv_enqueue(cc *c, cc__queue *q, cc__conv *v)
{
    cc_skill key[CC__KEY_MAX];
    uint32_t n = cc__conv_key(q, v, key);
    v->cls = n ? class_find(c, q, key, n) : NULL;
    heap_push(v->cls ? &v->cls->waiting : &q->waiting, v);
    q->nwait++;
    if (q->widen_ms > 0 && v->widen < cc__conv_top_level(q, v))
        cc__timer_push(c, v->qkey + (int64_t)(v->widen + 1) * q->widen_ms, CC__T_WIDEN, v->id,
                       0, 0);
}

void cc__conv_dequeue(cc *c, cc__conv *v)
{
    if (v->qpos == HEAP_NONE)
        return;
    cc__queue *q = cc__tab_get(&c->queues, v->queue);
    heap_remove(v->cls ? &v->cls->waiting : &q->waiting, v->qpos);
    v->cls = NULL;
    q->nwait--;
}

cc__conv *cc__queue_head(const cc__queue *q)
{
    cc__conv *best = heap_top(&q->waiting);
    for (uint32_t i = 0; i < q->ncls; i++) {
        cc__conv *v = heap_top(&q->cls[i]->waiting);
        if (v && (!best || cc__conv_less(v, best)))
            best = v;
    }
    return best;
}

uint32_t cc__widen_due(const cc *c, const cc__queue *q, const cc__conv *v)
{
    if (q->widen_ms <= 0 || c->now <= v->qkey)
        return 0;
    int64_t steps = (c->now - v->qkey) / q->widen_ms;
    uint32_t top = cc__conv_top_level(q, v);
    return steps > (int64_t)top ? top : (uint32_t)steps;
}

void cc__queue_reclass(cc *c, cc__queue *q)
{
    cc__conv **all = xmalloc((q->nwait + 1) * sizeof *all);
    uint32_t n = 0;
    cc__conv *v;
    while ((v = cc__queue_head(q))) {
        cc__conv_dequeue(c, v);
        all[n++] = v;
    }
    cc__queue_drop_classes(q);
    for (uint32_t i = 0; i < n; i++) {
        all[i]->widen = (uint8_t)cc__widen_due(c, q, all[i]);
        cc__conv_enqueue(c, q, all[i]);
    }
    free(all);
}
