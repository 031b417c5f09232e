/*
 * cc.c: deciding. Each command is validated completely first (on error
 * nothing is emitted and nothing changes); then its consequences are emitted
 * one event at a time, each applied at once by cc__evolve, so later steps of
 * the same command see the state the earlier ones made. After every command
 * and every fired timer, settle() routes until no queue has a conversation
 * waiting while an eligible agent is ready.
 */
#include <stdlib.h>
#include <string.h>

#include "core/cc_int.h"
#include "util/utf8.h"
#include "util/xalloc.h"

/* ---- names ------------------------------------------------------------- */

const char *cc_err_code(int err)
{
    if (err == CC_DUPLICATE)
        return "duplicate";
    switch (-err) {
    case 0:
        return "ok";
#define X(name, num, code, msg)                                                      \
    case num:                                                                        \
        return code;
        CC_ERRORS(X)
#undef X
    }
    return "unknown_error";
}

const char *cc_err_msg(int err)
{
    if (err == CC_DUPLICATE)
        return "already received";
    switch (-err) {
    case 0:
        return "ok";
#define X(name, num, code, msg)                                                      \
    case num:                                                                        \
        return msg;
        CC_ERRORS(X)
#undef X
    }
    return "unknown error";
}

const char *cc_cmd_name(int type)
{
    static const char *const names[] = {
#define X(name, wire, flags) wire,
        CC_COMMANDS(X)
#undef X
    };
    return type >= 0 && type < CC_CMD__COUNT ? names[type] : "?";
}

int cc_cmd_is_agent(int type)
{
    static const unsigned char flags[] = {
#define X(name, wire, f) (f),
        CC_COMMANDS(X)
#undef X
    };
    return type >= 0 && type < CC_CMD__COUNT && (flags[type] & CC_CMDF_AGENT);
}

const char *cc_ev_name(int type)
{
    static const char *const names[] = {
#define X(name, wire, flags) wire,
        CC_EVENTS(X)
#undef X
    };
    return type >= 0 && type < CC_EV__COUNT ? names[type] : "?";
}

int cc_ev_is_note(int type)
{
    static const unsigned char flags[] = {
#define X(name, wire, f) (f),
        CC_EVENTS(X)
#undef X
    };
    return type >= 0 && type < CC_EV__COUNT && (flags[type] & CC_EVF_NOTE);
}

const char *cc_why_name(int why)
{
    static const char *const names[] = {
        "none",  "new",           "timeout",       "declined",
        "agent_away", "transfer", "grace",         "agent_removed",
        "queue_removed", "entry_point_removed", "ended", "auto", "out_of_hours", "overflow",
        "cancelled", "supervisor",
    };
    return why >= 0 && why < (int)(sizeof names / sizeof names[0]) ? names[why] : "?";
}

/* ---- event buffers ----------------------------------------------------- */

void cc_events_init(cc_events *e)
{
    memset(e, 0, sizeof *e);
}

void cc_events_clear(cc_events *e)
{
    e->n = 0;
}

void cc_events_free(cc_events *e)
{
    free(e->v);
    memset(e, 0, sizeof *e);
}

void cc_evlog_init(cc_evlog *l)
{
    memset(l, 0, sizeof *l);
}

static str dup_str(str s)
{
    return s.n ? (str){xmemdup0(s.p, s.n), s.n} : STR_NULL;
}

void cc_evlog_add(cc_evlog *l, const cc_event *ev)
{
    if (l->n == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 64;
        l->v = xrealloc(l->v, l->cap * sizeof *l->v);
    }
    cc_event *d = &l->v[l->n++];
    *d = *ev;
    d->name = dup_str(ev->name);
    d->number = dup_str(ev->number);
    d->ep_number = dup_str(ev->ep_number);
    d->text = dup_str(ev->text);
    d->msg_id = dup_str(ev->msg_id);
    d->var_key = dup_str(ev->var_key);
    d->value = dup_str(ev->value);
    d->queue_name = dup_str(ev->queue_name);
    if (ev->flow) {
        cc_ep_flow *f = xcalloc(1, sizeof *f);
        cc__flow_set(f, ev->flow);
        d->flow = f;
    }
    if (ev->n_ids) {
        uint32_t *ids = xmalloc(ev->n_ids * sizeof *ids);
        memcpy(ids, ev->ids, ev->n_ids * sizeof *ids);
        d->ids = ids;
    } else {
        d->ids = NULL;
    }
}

void cc_evlog_free(cc_evlog *l)
{
    for (size_t i = 0; i < l->n; i++) {
        cc_event *d = &l->v[i];
        free((char *)d->name.p);
        free((char *)d->number.p);
        free((char *)d->ep_number.p);
        free((char *)d->text.p);
        free((char *)d->msg_id.p);
        free((char *)d->var_key.p);
        free((char *)d->value.p);
        free((char *)d->queue_name.p);
        free((uint32_t *)d->ids);
        if (d->flow) {
            cc__flow_free((cc_ep_flow *)d->flow);
            free((cc_ep_flow *)d->flow);
        }
    }
    free(l->v);
    memset(l, 0, sizeof *l);
}

/* ---- life cycle -------------------------------------------------------- */

cc *cc_new(void)
{
    cc *c = xcalloc(1, sizeof *c);
    hmap_init(&c->convs);
    hmap_init(&c->pairs);
    hmap_init(&c->ep_numbers);
    hmap_init(&c->seen);
    hmap_init(&c->optouts);
    hmap_init(&c->surveys);
    c->next_conv = 1;
    c->grace_ms = CC__DEFAULT_GRACE_MS;
    c->seen_max = CC__DEFAULT_DEDUPE;
    return c;
}

static void free_graves(cc *c)
{
    for (size_t i = 0; i < c->ngraves; i++)
        c->graves[i].free(c->graves[i].p);
    c->ngraves = 0;
}

static void tab_free(cc__tab *t, void (*fn)(void *))
{
    for (uint32_t i = 0; i < t->cap; i++)
        if (t->v[i])
            fn(t->v[i]);
    free(t->v);
}

void cc_free(cc *c)
{
    if (!c)
        return;
    free_graves(c);
    free(c->graves);
    size_t i = 0;
    void *e;
    while (hmap_next(&c->convs, &i, &e))
        cc__conv_free(e);
    hmap_free(&c->convs);
    hmap_free(&c->pairs);
    hmap_free(&c->ep_numbers);
    for (size_t k = 0; k < c->seen_len; k++)
        free(c->seen_ring[(c->seen_head + k) % c->seen_cap]);
    free(c->seen_ring);
    hmap_free(&c->seen);
    i = 0;
    while (hmap_next(&c->optouts, &i, &e))
        free(e);
    hmap_free(&c->optouts);
    i = 0;
    while (hmap_next(&c->surveys, &i, &e))
        free(e);
    hmap_free(&c->surveys);
    tab_free(&c->queues, cc__queue_free); /* their classes point at agents */
    tab_free(&c->agents, cc__agent_free);
    tab_free(&c->teams, cc__team_free);
    tab_free(&c->skills, cc__named_free);
    tab_free(&c->eps, cc__ep_free);
    tab_free(&c->reasons, cc__named_free);
    tab_free(&c->idle_reasons, cc__named_free);
    free(c->timers);
    free(c->dirty_agents.v);
    free(c->dirty_queues.v);
    free(c);
}

/* ---- emitting ---------------------------------------------------------- */

static void emit(cc *c, cc_event *ev)
{
    ev->seq = ++c->seq;
    ev->at = c->now;
    int r = cc__evolve(c, ev);
    if (r != 0)
        abort(); /* decide let through an event that does not fit: a bug */
    if (c->out) {
        cc_events *o = c->out;
        if (o->n == o->cap) {
            o->cap = o->cap ? o->cap * 2 : 32;
            o->v = xrealloc(o->v, o->cap * sizeof *o->v);
        }
        o->v[o->n++] = *ev;
    }
}

#define EMIT(c, ...)                                                                 \
    do {                                                                             \
        cc_event ev__ = {__VA_ARGS__};                                               \
        emit((c), &ev__);                                                            \
    } while (0)

static str s_of(const char *p)
{
    return str_c(p);
}

static cc__agent *agent_of(const cc *c, uint32_t id)
{
    return cc__tab_get(&c->agents, id);
}

static cc__queue *queue_of(const cc *c, uint32_t id)
{
    return cc__tab_get(&c->queues, id);
}

static cc__ep *ep_of(const cc *c, uint32_t id)
{
    return cc__tab_get(&c->eps, id);
}

static str conv_number(const cc__conv *v)
{
    return (str){v->number, v->number_len};
}

static str conv_ep_number(const cc *c, const cc__conv *v)
{
    (void)c;
    return (str){v->ep_number, v->ep_number_len};
}

static int64_t rona_ms_of(const cc *c, uint32_t queue)
{
    cc__queue *q = queue_of(c, queue);
    return q ? q->rona_ms : CC__DEFAULT_RONA_MS;
}

static void finish(cc *c, cc__conv *v, int why);

/* Queues 'v' again, keeping its place: in its last queue, or when that was
 * removed, its entry point's queue. With neither, it is terminated and
 * closed (never silently). */
static void requeue(cc *c, cc__conv *v, int why)
{
    cc__queue *q = queue_of(c, v->queue);
    if (!q) {
        cc__ep *e = ep_of(c, v->ep);
        q = e ? queue_of(c, e->queue) : NULL;
    }
    if (q) {
        EMIT(c, .type = CC_EV_QUEUED, .conv = v->id, .queue = q->id, .key = v->qkey,
             .code = why);
        return;
    }
    EMIT(c, .type = CC_EV_TERMINATED, .conv = v->id, .code = CC_WHY_QUEUE_REMOVED);
    finish(c, v, CC_WHY_QUEUE_REMOVED);
}

static void offer(cc *c, cc__conv *v, cc__agent *a, int kind)
{
    cc__queue *q = queue_of(c, v->queue);
    EMIT(c, .type = CC_EV_OFFERED, .conv = v->id, .agent = a->id, .queue = v->queue,
         .kind = kind, .deadline = c->now + rona_ms_of(c, v->queue),
         .number = conv_number(v), .ep_number = conv_ep_number(c, v),
         .queue_name = q ? s_of(q->name) : STR_NULL);
}

static void withdraw_offer(cc *c, cc__conv *v, int why)
{
    EMIT(c, .type = CC_EV_OFFER_WITHDRAWN, .conv = v->id, .agent = v->offer_to, .code = why);
    requeue(c, v, why);
}

/* Withdraws every offer and conference invite pending for 'a'. */
static void withdraw_all(cc *c, cc__agent *a, int why)
{
    while (a->pending.n) {
        cc__conv *v = cc__conv_find(c, a->pending.v[0]);
        if (v->state == CC_CONV_OFFERED && v->offer_to == a->id)
            withdraw_offer(c, v, why);
        else
            EMIT(c, .type = CC_EV_CONF_CANCELLED, .conv = v->id, .target = a->id,
                 .code = why);
    }
}

static void set_rona(cc *c, cc__agent *a)
{
    if (a->state != CC_AGENT_RONA)
        EMIT(c, .type = CC_EV_AGENT_STATE, .agent = a->id, .state = CC_AGENT_RONA,
             .code = CC_WHY_TIMEOUT);
    withdraw_all(c, a, CC_WHY_AGENT_AWAY);
}

static int may_auto_reply(const cc *c, const cc_cmd *m, const cc__conv *v);
static void auto_reply(cc *c, cc__conv *v, str text);

/* The entry point's satisfaction survey, as the conversation closes after
 * an agent ended it (not one that was terminated or closed unanswered). */
static void survey(cc *c, cc__conv *v)
{
    cc__ep *e = cc__tab_get(&c->eps, v->ep);
    if (!e || !e->flow.survey || !v->ended_by || v->state != CC_CONV_WRAPUP ||
        !may_auto_reply(c, NULL, v))
        return;
    EMIT(c, .type = CC_EV_CSAT_ASKED, .conv = v->id, .ep = v->ep,
         .number = (str){v->number, v->number_len},
         .ep_number = (str){v->ep_number, v->ep_number_len}, .agent = v->ended_by,
         .queue = v->queue, .deadline = c->now + e->flow.survey_window_ms);
    auto_reply(c, v, e->flow.survey_text);
}

static void close_if_done(cc *c, cc__conv *v, int why)
{
    if (v->state == CC_CONV_WRAPUP && v->wrapups_due == 0) {
        if (why == CC_WHY_ENDED)
            survey(c, v);
        EMIT(c, .type = CC_EV_CLOSED, .conv = v->id, .code = why);
    }
}

/* A survey answer: optional blanks, a digit 1-5, then the end or a
 * non-digit; the rest (trimmed) is the comment. Returns the score or 0. */
static int score_of(str t, str *comment)
{
    size_t i = 0;
    while (i < t.n && (t.p[i] == ' ' || t.p[i] == '\t' || t.p[i] == '\n' || t.p[i] == '\r'))
        i++;
    if (i == t.n || t.p[i] < '1' || t.p[i] > '5' ||
        (i + 1 < t.n && t.p[i + 1] >= '0' && t.p[i + 1] <= '9'))
        return 0;
    int score = t.p[i] - '0';
    i++;
    while (i < t.n && (t.p[i] == ' ' || t.p[i] == '\t' || t.p[i] == '\n' || t.p[i] == '\r' ||
                       t.p[i] == '.' || t.p[i] == ',' || t.p[i] == '-' || t.p[i] == ':'))
        i++;
    size_t end = t.n;
    while (end > i && (t.p[end - 1] == ' ' || t.p[end - 1] == '\n' || t.p[end - 1] == '\r'))
        end--;
    *comment = (str){t.p + i, end - i};
    return score;
}

/* Ends a terminated conversation that nobody will handle any more: closed
 * now, or once the wrap-ups still owed for it (a transferring agent's) are
 * done. */
static void finish(cc *c, cc__conv *v, int why)
{
    EMIT(c, .type = CC_EV_ENDED, .conv = v->id, .agent = v->owner);
    if (v->wrapups_due == 0)
        EMIT(c, .type = CC_EV_CLOSED, .conv = v->id, .code = why);
}

/* The agent owes a wrap-up for 'v': one per agent and conversation, so an
 * agent who handles it twice (transferred back) wraps it up once. */
static void wrapup_due(cc *c, cc__conv *v, uint32_t agent)
{
    if (cc__wrap_find(agent_of(c, agent), v->id))
        return;
    cc__queue *q = queue_of(c, v->queue);
    int64_t deadline = q && q->autowrap_ms ? c->now + q->autowrap_ms : 0;
    EMIT(c, .type = CC_EV_WRAPUP_DUE, .conv = v->id, .agent = agent, .queue = v->queue,
         .reason = q ? q->default_reason : 0, .deadline = deadline);
}

/* The agent is gone from its conversations (removed, or disconnected past
 * the grace period): owned ones go back to their queue (or to the guest of
 * an active conference), joined ones are left. */
static void release_held(cc *c, cc__agent *a, int why)
{
    while (a->held.n) {
        cc__conv *v = cc__conv_find(c, a->held.v[0]);
        if (v->guest == a->id) {
            EMIT(c, .type = CC_EV_CONF_LEFT, .conv = v->id, .target = a->id, .code = why);
            continue;
        }
        if (v->conf == CC_CONF_ACTIVE) {
            EMIT(c, .type = CC_EV_OWNER_CHANGED, .conv = v->id, .agent = a->id,
                 .target = v->guest, .code = why);
            continue;
        }
        if (v->conf == CC_CONF_REQUESTED)
            EMIT(c, .type = CC_EV_CONF_CANCELLED, .conv = v->id, .target = v->guest,
                 .code = why);
        if (v->state == CC_CONV_TERMINATED) {
            /* Nobody can reach the customer any more, and nobody else will
             * end it: close it, saying why. */
            finish(c, v, why);
        } else {
            requeue(c, v, why);
        }
    }
}

/* ---- routing ----------------------------------------------------------- */

static cc__agent *best_agent(const cc *c, const cc__queue *q)
{
    cc__agent *best = NULL;
    for (uint32_t i = 0; i < q->nteams; i++) {
        cc__team *t = cc__tab_get(&c->teams, q->teams[i]);
        cc__member *m = heap_top(&t->ready);
        if (!m)
            continue;
        if (!best || m->a->idle_since < best->idle_since ||
            (m->a->idle_since == best->idle_since && m->a->id < best->id))
            best = m->a;
    }
    return best;
}

/* The oldest conversation ready agent 'a' may take: the heads of its
 * teams' queues (no skill required) and of its skill classes. */
static cc__conv *best_conv(const cc *c, const cc__agent *a)
{
    cc__conv *best = NULL;
    for (uint32_t i = 0; i < a->nteams; i++) {
        cc__team *t = cc__tab_get(&c->teams, a->teams[i].team);
        for (uint32_t k = 0; k < t->queues.n; k++) {
            cc__queue *q = queue_of(c, t->queues.v[k]);
            cc__conv *v = heap_top(&q->waiting);
            if (v && (!best || cc__conv_less(v, best)))
                best = v;
        }
    }
    for (uint32_t i = 0; i < a->nsmem; i++) {
        cc__conv *v = heap_top(&a->smem[i]->k->waiting);
        if (v && (!best || cc__conv_less(v, best)))
            best = v;
    }
    return best;
}

/* Offers the oldest conversation of 'q' that has a ready eligible agent to
 * its best agent. Returns 0 when there is none. */
static int route_queue(cc *c, cc__queue *q)
{
    cc__conv *best = heap_top(&q->waiting);
    cc__agent *to = best ? best_agent(c, q) : NULL;
    if (!to)
        best = NULL;
    for (uint32_t i = 0; i < q->ncls; i++) {
        cc__class *k = q->cls[i];
        cc__conv *v = heap_top(&k->waiting);
        cc__smember *m = heap_top(&k->ready);
        if (v && m && (!best || cc__conv_less(v, best)))
            best = v, to = m->a;
    }
    if (!best)
        return 0;
    offer(c, best, to, CC_OFFER_ROUTE);
    return 1;
}

static void settle(cc *c)
{
    for (;;) {
        if (c->dirty_queues.n) {
            cc__queue *q = queue_of(c, c->dirty_queues.v[--c->dirty_queues.n]);
            if (!q)
                continue;
            q->dirty = 0;
            while (route_queue(c, q))
                ;
        } else if (c->dirty_agents.n) {
            cc__agent *a = agent_of(c, c->dirty_agents.v[--c->dirty_agents.n]);
            if (!a)
                continue;
            a->dirty = 0;
            /* Its oldest conversation's queue routes: that one, or an
             * older one of the queue that another ready agent may take,
             * each to its best agent (FIFO within the queue stays). */
            cc__conv *v;
            while (cc__ready(a) && (v = best_conv(c, a)))
                route_queue(c, queue_of(c, v->queue));
        } else {
            return;
        }
    }
}

_Static_assert(CC_TEXT_MAX == 1000 && CC_INBOUND_MAX == 64 * 1024,
               "CC_E_TEXT_TOO_LONG's message (cc.h) says the limits");

/* ---- validation helpers ------------------------------------------------ */

static int valid_id(uint32_t id)
{
    return id > 0 && id < CC_MAX_ID;
}

static int valid_name(str s, size_t max)
{
    return s.n > 0 && s.n <= max && utf8_count(s.p, s.n) >= 0;
}

int cc_number_ok(str s, enum cc_number_kind kind)
{
    if (s.n == 0 || s.n > CC_NUMBER_MAX)
        return 0;
    if (kind == CC_NUMBER_PHONE) {
        size_t plus = s.p[0] == '+', digits = s.n - plus;
        if (digits < CC_DIGITS_MIN || digits > CC_DIGITS_MAX)
            return 0;
        for (size_t i = plus; i < s.n; i++)
            if (s.p[i] < '0' || s.p[i] > '9')
                return 0;
        return 1;
    }
    for (size_t i = 0; i < s.n; i++)
        if ((unsigned char)s.p[i] <= ' ' || (unsigned char)s.p[i] >= 0x7f)
            return 0;
    return 1;
}

static int need_agent(const cc *c, uint32_t id, cc__agent **out)
{
    *out = agent_of(c, id);
    if (!*out)
        return -CC_E_NO_AGENT;
    if ((*out)->state == CC_AGENT_LOGGED_OUT)
        return -CC_E_NOT_LOGGED_IN;
    return 0;
}

/* The acting agent must be the owner of an accepted, still open
 * conversation. */
static int need_owner(const cc *c, const cc_cmd *cmd, cc__agent **a, cc__conv **v)
{
    int r = need_agent(c, cmd->agent, a);
    if (r)
        return r;
    *v = cc__conv_find(c, cmd->conv);
    if (!*v)
        return -CC_E_NO_CONVERSATION;
    if ((*v)->owner != cmd->agent)
        return (*v)->guest == cmd->agent && (*v)->conf == CC_CONF_ACTIVE ? -CC_E_NOT_OWNER
                                                                          : -CC_E_NOT_YOURS;
    if ((*v)->state == CC_CONV_TERMINATED)
        return -CC_E_TERMINATED;
    if ((*v)->state != CC_CONV_ASSIGNED)
        return -CC_E_NOT_ACCEPTED;
    return 0;
}

static int is_member(const cc__conv *v, uint32_t agent)
{
    return agent && (v->owner == agent || (v->guest == agent && v->conf == CC_CONF_ACTIVE));
}

/* A skill list of a command: at most CC_SKILLS_MAX, levels 1 to
 * CC_LEVEL_MAX, each skill configured and listed once. */
static int check_skills(const cc *c, const cc_skill *s, size_t n)
{
    if (n > CC_SKILLS_MAX || (n && !s))
        return -CC_E_INVALID;
    for (size_t i = 0; i < n; i++) {
        if (s[i].level < 1 || s[i].level > CC_LEVEL_MAX)
            return -CC_E_INVALID;
        for (size_t k = 0; k < i; k++)
            if (s[k].skill == s[i].skill)
                return -CC_E_INVALID;
    }
    for (size_t i = 0; i < n; i++)
        if (!cc__tab_get(&c->skills, s[i].skill))
            return -CC_E_NO_SKILL;
    return 0;
}

/* Ids handed out in an event must stay valid until the next call into the
 * core: a copy, freed then. */
static const uint32_t *keep_ids(cc *c, const uint32_t *ids, size_t n)
{
    uint32_t *k = xmalloc((n ? n : 1) * sizeof *k);
    memcpy(k, ids, n * sizeof *k);
    cc__bury(c, k, free);
    return k;
}

static const uint32_t *packed_skills(cc *c, const cc_skill *s, size_t n)
{
    uint32_t packed[CC__KEY_MAX];
    for (size_t i = 0; i < n && i < CC__KEY_MAX; i++)
        packed[i] = cc_skill_pack(s[i]);
    return keep_ids(c, packed, n);
}

static int has_skill(const cc_skill *s, size_t n, uint32_t skill)
{
    for (size_t i = 0; i < n; i++)
        if (s[i].skill == skill)
            return 1;
    return 0;
}

/* Whether anything still names 'skill': an agent, a queue, an entry point's
 * flow or an open conversation. */
static int skill_in_use(const cc *c, uint32_t skill)
{
    for (uint32_t i = 0; i < c->agents.cap; i++) {
        const cc__agent *a = c->agents.v[i];
        if (a && has_skill(a->skills, a->nskills, skill))
            return 1;
    }
    for (uint32_t i = 0; i < c->queues.cap; i++) {
        const cc__queue *q = c->queues.v[i];
        if (q && has_skill(q->req, q->nreq, skill))
            return 1;
    }
    for (uint32_t i = 0; i < c->eps.cap; i++) {
        const cc__ep *e = c->eps.v[i];
        if (e && cc__flow_names_skill(&e->flow, skill))
            return 1;
    }
    size_t it = 0;
    void *e;
    while (hmap_next(&c->convs, &it, &e)) {
        const cc__conv *v = e;
        if (has_skill(v->extra, v->nextra, skill))
            return 1;
    }
    return 0;
}

/* ---- commands ---------------------------------------------------------- */

static int cmd_config(cc *c, const cc_cmd *m)
{
    switch (m->type) {
    case CC_CMD_TEAM_PUT:
        if (!valid_id(m->team) || !valid_name(m->name, CC_NAME_MAX))
            return -CC_E_INVALID;
        EMIT(c, .type = CC_EV_TEAM_PUT, .team = m->team, .name = m->name);
        return 0;
    case CC_CMD_QUEUE_PUT: {
        if (!valid_id(m->queue) || !valid_name(m->name, CC_NAME_MAX) || m->rona_ms < 0 ||
            m->autowrap_ms < 0 || m->n_ids > CC_TEAMS_MAX || m->fallback == m->queue ||
            m->widen_ms < 0)
            return -CC_E_INVALID;
        int r = check_skills(c, m->skills, m->n_skills);
        if (r)
            return r;
        for (size_t i = 0; i < m->n_ids; i++)
            if (!cc__tab_get(&c->teams, m->ids[i]))
                return -CC_E_NO_TEAM;
        if (m->fallback && !queue_of(c, m->fallback))
            return -CC_E_NO_QUEUE;
        if ((m->autowrap_ms || m->reason) && !cc__tab_get(&c->reasons, m->reason))
            return -CC_E_NO_REASON;
        EMIT(c, .type = CC_EV_QUEUE_PUT, .queue = m->queue, .name = m->name, .ids = m->ids,
             .n_ids = m->n_ids, .rona_ms = m->rona_ms ? m->rona_ms : CC__DEFAULT_RONA_MS,
             .autowrap_ms = m->autowrap_ms, .reason = m->reason, .fallback = m->fallback);
        if (m->n_skills || m->widen_ms) {
            EMIT(c, .type = CC_EV_QUEUE_SKILLS, .queue = m->queue,
                 .ids = packed_skills(c, m->skills, m->n_skills),
                 .n_ids = m->n_skills, .key = m->widen_ms);
        }
        return 0;
    }
    case CC_CMD_AGENT_PUT: {
        if (!valid_id(m->agent) || !valid_name(m->name, CC_NAME_MAX) ||
            m->n_ids > CC_TEAMS_MAX || m->capacity > 1000)
            return -CC_E_INVALID;
        for (size_t i = 0; i < m->n_ids; i++)
            if (!cc__tab_get(&c->teams, m->ids[i]))
                return -CC_E_NO_TEAM;
        int r = check_skills(c, m->skills, m->n_skills);
        if (r)
            return r;
        uint32_t cap = m->capacity ? m->capacity : CC__DEFAULT_CAPACITY;
        cc__agent *a = agent_of(c, m->agent);
        if (a && cap < a->load + a->reserved)
            return -CC_E_BUSY; /* lower it once the agent has finished some */
        EMIT(c, .type = CC_EV_AGENT_PUT, .agent = m->agent, .name = m->name, .ids = m->ids,
             .n_ids = m->n_ids, .capacity = cap);
        if (m->n_skills) {
            EMIT(c, .type = CC_EV_AGENT_SKILLS, .agent = m->agent,
                 .ids = packed_skills(c, m->skills, m->n_skills),
                 .n_ids = m->n_skills);
        }
        return 0;
    }
    case CC_CMD_EP_PUT: {
        if (!valid_id(m->ep) || !cc_number_ok(m->number, CC_NUMBER_PHONE))
            return -CC_E_INVALID;
        if (!queue_of(c, m->queue))
            return -CC_E_NO_QUEUE;
        cc__ep *other = cc__ep_by_number(c, m->number.p, m->number.n);
        if (other && other->id != m->ep)
            return -CC_E_IN_USE;
        const char *what;
        if (m->flow && cc_flow_check(m->flow, &what) != 0)
            return -CC_E_INVALID;
        for (size_t i = 0; m->flow && i < m->flow->n_skills + m->flow->n_words; i++) {
            uint32_t sk = i < m->flow->n_skills ? m->flow->skills[i].skill
                                                : m->flow->words[i - m->flow->n_skills].skill.skill;
            if (!cc__tab_get(&c->skills, sk))
                return -CC_E_NO_SKILL;
        }
        if (m->flow && m->flow->overflow_queue &&
            (m->flow->overflow_queue == m->queue || !queue_of(c, m->flow->overflow_queue)))
            return m->flow->overflow_queue == m->queue ? -CC_E_INVALID : -CC_E_NO_QUEUE;
        EMIT(c, .type = CC_EV_EP_PUT, .ep = m->ep, .number = m->number, .queue = m->queue,
             .flow = m->flow);
        return 0;
    }
    case CC_CMD_REASON_PUT:
    case CC_CMD_IDLE_REASON_PUT:
        if (!valid_id(m->reason) || !valid_name(m->name, CC_NAME_MAX))
            return -CC_E_INVALID;
        EMIT(c,
             .type = m->type == CC_CMD_REASON_PUT ? CC_EV_REASON_PUT : CC_EV_IDLE_REASON_PUT,
             .reason = m->reason, .name = m->name);
        return 0;
    case CC_CMD_SETTINGS:
        if (m->grace_ms < 0)
            return -CC_E_INVALID;
        EMIT(c, .type = CC_EV_SETTINGS,
             .grace_ms = m->grace_ms ? m->grace_ms : CC__DEFAULT_GRACE_MS);
        return 0;
    case CC_CMD_TEAM_REMOVE: {
        cc__team *t = cc__tab_get(&c->teams, m->team);
        if (!t)
            return -CC_E_NO_TEAM;
        if (t->members || t->queues.n)
            return -CC_E_IN_USE;
        EMIT(c, .type = CC_EV_TEAM_REMOVED, .team = m->team);
        return 0;
    }
    case CC_CMD_REASON_REMOVE:
        if (!cc__tab_get(&c->reasons, m->reason))
            return -CC_E_NO_REASON;
        for (uint32_t i = 0; i < c->queues.cap; i++) {
            cc__queue *q = c->queues.v[i];
            if (q && q->default_reason == m->reason)
                return -CC_E_IN_USE;
        }
        EMIT(c, .type = CC_EV_REASON_REMOVED, .reason = m->reason);
        return 0;
    case CC_CMD_IDLE_REASON_REMOVE:
        if (!cc__tab_get(&c->idle_reasons, m->reason))
            return -CC_E_NO_REASON;
        EMIT(c, .type = CC_EV_IDLE_REASON_REMOVED, .reason = m->reason);
        return 0;
    case CC_CMD_SKILL_PUT:
        if (!valid_id(m->skill) || !valid_name(m->name, CC_NAME_MAX))
            return -CC_E_INVALID;
        EMIT(c, .type = CC_EV_SKILL_PUT, .target = m->skill, .name = m->name);
        return 0;
    case CC_CMD_SKILL_REMOVE:
        if (!cc__tab_get(&c->skills, m->skill))
            return -CC_E_NO_SKILL;
        if (skill_in_use(c, m->skill))
            return -CC_E_IN_USE;
        EMIT(c, .type = CC_EV_SKILL_REMOVED, .target = m->skill);
        return 0;
    }
    return -CC_E_UNKNOWN_COMMAND;
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

/* Ids of open conversations matching 'pred', ascending (a stable order
 * keeps the emitted events independent of hash table layout). */
static uint32_t *convs_where(cc *c, int (*pred)(const cc__conv *, uint32_t), uint32_t arg,
                             size_t *n)
{
    uint32_t *ids = xmalloc((c->convs.len + 1) * sizeof *ids);
    size_t k = 0, i = 0;
    void *e;
    while (hmap_next(&c->convs, &i, &e))
        if (pred(e, arg))
            ids[k++] = ((cc__conv *)e)->id;
    qsort(ids, k, sizeof *ids, cmp_u32);
    *n = k;
    return ids;
}

static int on_ep(const cc__conv *v, uint32_t ep)
{
    return v->ep == ep;
}

static int waiting_in(const cc__conv *v, uint32_t queue)
{
    return v->queue == queue && v->state == CC_CONV_QUEUED;
}

static int cmd_remove(cc *c, const cc_cmd *m)
{
    size_t n;
    uint32_t *ids;
    switch (m->type) {
    case CC_CMD_EP_REMOVE:
        if (!ep_of(c, m->ep))
            return -CC_E_NO_ENTRY_POINT;
        ids = convs_where(c, on_ep, m->ep, &n);
        for (size_t i = 0; i < n; i++) {
            cc__conv *v = cc__conv_find(c, ids[i]);
            int why = CC_WHY_EP_REMOVED;
            switch (v->state) {
            case CC_CONV_OFFERED:
                EMIT(c, .type = CC_EV_OFFER_WITHDRAWN, .conv = v->id, .agent = v->offer_to,
                     .code = why);
                /* fall through */
            case CC_CONV_QUEUED:
                EMIT(c, .type = CC_EV_TERMINATED, .conv = v->id, .code = why);
                finish(c, v, why);
                break;
            case CC_CONV_ASSIGNED:
                if (v->conf == CC_CONF_REQUESTED)
                    EMIT(c, .type = CC_EV_CONF_CANCELLED, .conv = v->id, .target = v->guest,
                         .code = why);
                EMIT(c, .type = CC_EV_TERMINATED, .conv = v->id, .code = why);
                break;
            }
        }
        free(ids);
        EMIT(c, .type = CC_EV_EP_REMOVED, .ep = m->ep);
        return 0;
    case CC_CMD_QUEUE_REMOVE: {
        cc__queue *q = queue_of(c, m->queue);
        if (!q)
            return -CC_E_NO_QUEUE;
        for (uint32_t i = 0; i < c->eps.cap; i++) {
            cc__ep *e = c->eps.v[i];
            if (e && (e->queue == q->id || e->flow.overflow_queue == q->id))
                return -CC_E_IN_USE;
        }
        for (uint32_t i = 0; i < c->queues.cap; i++) {
            cc__queue *o = c->queues.v[i];
            if (o && o->fallback == q->id)
                return -CC_E_IN_USE;
        }
        ids = convs_where(c, waiting_in, q->id, &n);
        for (size_t i = 0; i < n; i++) {
            cc__conv *v = cc__conv_find(c, ids[i]);
            if (q->fallback) {
                EMIT(c, .type = CC_EV_QUEUED, .conv = v->id, .queue = q->fallback,
                     .key = v->qkey, .code = CC_WHY_QUEUE_REMOVED);
            } else {
                EMIT(c, .type = CC_EV_TERMINATED, .conv = v->id, .code = CC_WHY_QUEUE_REMOVED);
                finish(c, v, CC_WHY_QUEUE_REMOVED);
            }
        }
        free(ids);
        EMIT(c, .type = CC_EV_QUEUE_REMOVED, .queue = m->queue);
        return 0;
    }
    case CC_CMD_AGENT_REMOVE: {
        cc__agent *a = agent_of(c, m->agent);
        if (!a)
            return -CC_E_NO_AGENT;
        withdraw_all(c, a, CC_WHY_AGENT_REMOVED);
        release_held(c, a, CC_WHY_AGENT_REMOVED);
        while (a->nwraps) {
            cc__conv *v = cc__conv_find(c, a->wraps[0].conv);
            EMIT(c, .type = CC_EV_WRAPPED_UP, .conv = v->id, .agent = a->id, .reason = 0,
                 .code = CC_WHY_AGENT_REMOVED);
            close_if_done(c, v, CC_WHY_ENDED);
        }
        if (a->state != CC_AGENT_LOGGED_OUT)
            EMIT(c, .type = CC_EV_AGENT_STATE, .agent = a->id, .state = CC_AGENT_LOGGED_OUT,
                 .code = CC_WHY_AGENT_REMOVED);
        EMIT(c, .type = CC_EV_AGENT_REMOVED, .agent = m->agent);
        return 0;
    }
    }
    return -CC_E_UNKNOWN_COMMAND;
}

static int cmd_agent(cc *c, const cc_cmd *m)
{
    cc__agent *a = agent_of(c, m->agent);
    if (!a)
        return -CC_E_NO_AGENT;
    switch (m->type) {
    case CC_CMD_LOGIN:
        if (a->state != CC_AGENT_LOGGED_OUT)
            return -CC_E_LOGGED_IN;
        EMIT(c, .type = CC_EV_AGENT_STATE, .agent = a->id, .state = CC_AGENT_IDLE);
        return 0;
    case CC_CMD_LOGOUT:
        if (a->state == CC_AGENT_LOGGED_OUT)
            return -CC_E_NOT_LOGGED_IN;
        if (a->held.n || a->nwraps)
            return -CC_E_BUSY;
        withdraw_all(c, a, CC_WHY_AGENT_AWAY);
        EMIT(c, .type = CC_EV_AGENT_STATE, .agent = a->id, .state = CC_AGENT_LOGGED_OUT);
        return 0;
    case CC_CMD_DISCONNECT:
        if (a->state == CC_AGENT_LOGGED_OUT)
            return -CC_E_NOT_LOGGED_IN;
        if (!a->connected)
            return -CC_E_STATE;
        withdraw_all(c, a, CC_WHY_AGENT_AWAY);
        EMIT(c, .type = CC_EV_AGENT_CONNECTED, .agent = a->id, .state = 0,
             .deadline = c->now + c->grace_ms);
        return 0;
    case CC_CMD_RECONNECT:
        if (a->state == CC_AGENT_LOGGED_OUT)
            return -CC_E_NOT_LOGGED_IN;
        if (a->connected)
            return -CC_E_STATE;
        EMIT(c, .type = CC_EV_AGENT_CONNECTED, .agent = a->id, .state = 1);
        return 0;
    case CC_CMD_SET_STATE:
        if (a->state == CC_AGENT_LOGGED_OUT)
            return -CC_E_NOT_LOGGED_IN;
        if (m->state != CC_AGENT_AVAILABLE && m->state != CC_AGENT_IDLE)
            return -CC_E_STATE; /* RONA is the system's; logging out is LOGOUT */
        /* plain Idle (reason 0) or Idle with a configured reason */
        if (m->state == CC_AGENT_IDLE && m->reason && !cc__tab_get(&c->idle_reasons, m->reason))
            return -CC_E_NO_REASON;
        if (a->state == m->state && (m->state != CC_AGENT_IDLE || a->idle_reason == m->reason))
            return 0;
        EMIT(c, .type = CC_EV_AGENT_STATE, .agent = a->id, .state = m->state,
             .reason = m->state == CC_AGENT_IDLE ? m->reason : 0);
        return 0;
    case CC_CMD_FORCE_STATE: {
        if (a->state == CC_AGENT_LOGGED_OUT)
            return -CC_E_NOT_LOGGED_IN;
        if (!valid_name(m->name, CC_NAME_MAX) ||
            (m->text.n && !valid_name(m->text, CC_NAME_MAX)))
            return -CC_E_INVALID;
        uint32_t reason = m->state == CC_AGENT_IDLE ? m->reason : 0;
        if (m->state == CC_AGENT_IDLE) {
            if (reason && !cc__tab_get(&c->idle_reasons, reason))
                return -CC_E_NO_REASON;
        } else if (m->state == CC_AGENT_LOGGED_OUT) {
            if (a->held.n || a->nwraps)
                return -CC_E_BUSY;
        } else {
            return -CC_E_STATE; /* idle or logged out: nobody is made to take work */
        }
        EMIT(c, .type = CC_EV_SUPERVISED, .agent = a->id, .kind = 1, .state = m->state,
             .reason = reason, .name = m->name, .text = m->text);
        if (m->state == CC_AGENT_LOGGED_OUT)
            withdraw_all(c, a, CC_WHY_AGENT_AWAY);
        if (a->state != m->state || a->idle_reason != reason)
            EMIT(c, .type = CC_EV_AGENT_STATE, .agent = a->id, .state = m->state,
                 .reason = reason, .code = CC_WHY_SUPERVISOR);
        return 0;
    }
    }
    return -CC_E_UNKNOWN_COMMAND;
}

/* After a restart nobody's desktop is connected yet: offers and invites go
 * back (no RONA: nobody failed to answer), and every logged-in agent starts
 * its grace period, as after a disconnect. */
static int cmd_restart(cc *c)
{
    for (uint32_t id = 0; id < c->agents.cap; id++) {
        cc__agent *a = c->agents.v[id];
        if (!a || a->state == CC_AGENT_LOGGED_OUT)
            continue;
        withdraw_all(c, a, CC_WHY_AGENT_AWAY);
        if (a->connected)
            EMIT(c, .type = CC_EV_AGENT_CONNECTED, .agent = a->id, .state = 0,
                 .deadline = c->now + c->grace_ms);
    }
    return 0;
}

/* STOP opts the customer out of this entry point, START back in; the
 * message itself still reaches the agent. */
static void opt_keyword(cc *c, const cc_cmd *m, cc__conv *v, cc__ep *e)
{
    int out = cc__optout_find(c, m->number.p, m->number.n, e->id) != NULL;
    if (m->keyword == CC_KW_STOP && !out)
        EMIT(c, .type = CC_EV_OPTED_OUT, .conv = v->id, .ep = e->id, .number = m->number,
             .ep_number = s_of(e->number));
    else if (m->keyword == CC_KW_START && out)
        EMIT(c, .type = CC_EV_OPTED_IN, .conv = v->id, .ep = e->id, .number = m->number,
             .ep_number = s_of(e->number));
}

/* Whether automatic replies may go to the customer of 'v' once the
 * keyword of 'm' (if any) has taken effect. */
static int may_auto_reply(const cc *c, const cc_cmd *m, const cc__conv *v)
{
    if (m && m->keyword == CC_KW_STOP)
        return 0;
    if (m && m->keyword == CC_KW_START)
        return 1;
    return cc__optout_find(c, v->number, v->number_len, v->ep) == NULL;
}

/* An automatic reply: an outbound message of no agent (the outbox sends
 * it like any reply). */
static void auto_reply(cc *c, cc__conv *v, str text)
{
    EMIT(c, .type = CC_EV_MSG_OUT, .conv = v->id, .agent = 0, .number = conv_number(v),
         .ep_number = conv_ep_number(c, v), .text = text,
         .msg_seq = v->msgs_in + v->msgs_out + 1);
}

/* A conversation just opened by the customer's first message: the entry
 * point's welcome or out-of-hours reply, then queued (with its maximum
 * wait when in hours) or, out of hours when so configured, closed. */
static void opened_flow(cc *c, const cc_cmd *m, cc__conv *v, cc__ep *e)
{
    const cc_ep_flow *f = &e->flow;
    int reply = may_auto_reply(c, m, v);
    cc_skill sk[CC_SKILLS_MAX];
    size_t nsk = cc_flow_skills(f, m->text, sk);
    if (nsk) {
        EMIT(c, .type = CC_EV_CONV_SKILLS, .conv = v->id, .ids = packed_skills(c, sk, nsk),
             .n_ids = nsk);
    }
    if (cc_flow_open(f, c->now)) {
        if (f->welcome.n && reply)
            auto_reply(c, v, f->welcome);
        EMIT(c, .type = CC_EV_QUEUED, .conv = v->id, .queue = e->queue, .key = c->now,
             .code = CC_WHY_NEW, .deadline = f->max_wait_ms ? c->now + f->max_wait_ms : 0);
        opt_keyword(c, m, v, e);
        return;
    }
    if (f->closed_text.n && reply)
        auto_reply(c, v, f->closed_text);
    if (f->closed_action == CC_CLOSED_CLOSE) {
        opt_keyword(c, m, v, e);
        EMIT(c, .type = CC_EV_CLOSED, .conv = v->id, .code = CC_WHY_OUT_OF_HOURS);
        return;
    }
    EMIT(c, .type = CC_EV_QUEUED, .conv = v->id, .queue = e->queue, .key = c->now,
         .code = CC_WHY_OUT_OF_HOURS);
    opt_keyword(c, m, v, e);
}

/* The maximum wait of a conversation's entry point has passed: it moves
 * to the overflow queue and/or the customer gets the overflow reply. */
static void overflow(cc *c, cc__conv *v)
{
    cc__ep *e = ep_of(c, v->ep);
    if (!e || !e->flow.max_wait_ms)
        return; /* the flow changed since it was queued */
    const cc_ep_flow *f = &e->flow;
    uint32_t to = f->overflow_queue && f->overflow_queue != v->queue &&
                          queue_of(c, f->overflow_queue)
                      ? f->overflow_queue
                      : 0;
    EMIT(c, .type = CC_EV_OVERFLOWED, .conv = v->id, .queue = to, .code = CC_WHY_OVERFLOW);
    if (f->overflow_text.n && may_auto_reply(c, NULL, v))
        auto_reply(c, v, f->overflow_text);
    if (to)
        EMIT(c, .type = CC_EV_QUEUED, .conv = v->id, .queue = to, .key = v->qkey,
             .code = CC_WHY_OVERFLOW);
}

static int cmd_sms_in(cc *c, const cc_cmd *m)
{
    if (!cc_number_ok(m->number, CC_NUMBER_PHONE) || m->msg_id.n > CC_NAME_MAX)
        return -CC_E_INVALID;
    if (m->name.n && !valid_name(m->name, CC_NAME_MAX))
        return -CC_E_INVALID;
    if (m->text.n > CC_INBOUND_MAX)
        return -CC_E_TEXT_TOO_LONG;
    if (utf8_count(m->text.p, m->text.n) < 0)
        return -CC_E_UTF8;
    cc__ep *e = cc__ep_by_number(c, m->ep_number.p, m->ep_number.n);
    if (!e)
        return -CC_E_NO_ENTRY_POINT;
    if (m->msg_id.n && cc__seen(c, m->msg_id))
        return CC_DUPLICATE;
    cc__conv *v = cc__pair_find(c, m->number.p, m->number.n, e->id);
    cc__survey *s = v || m->keyword != CC_KW_NONE
                        ? NULL
                        : cc__survey_find(c, m->number.p, m->number.n, e->id);
    str comment;
    int score = s && c->now <= s->deadline ? score_of(m->text, &comment) : 0;
    if (score) { /* the answer to a survey: recorded, nothing opens */
        EMIT(c, .type = CC_EV_CSAT_ANSWERED, .conv = s->conv, .ep = e->id, .number = m->number,
             .ep_number = s_of(e->number), .agent = s->agent, .queue = s->queue,
             .reason = (uint32_t)score, .text = comment, .msg_id = m->msg_id);
        return 0;
    }
    if (!v) {
        uint32_t id = c->next_conv;
        EMIT(c, .type = CC_EV_CONV_OPENED, .conv = id, .ep = e->id, .queue = e->queue,
             .number = m->number, .ep_number = s_of(e->number), .name = m->name);
        v = cc__conv_find(c, id);
        EMIT(c, .type = CC_EV_MSG_IN, .conv = v->id, .number = m->number,
             .ep_number = s_of(e->number), .text = m->text, .msg_id = m->msg_id,
             .msg_seq = 1);
        opened_flow(c, m, v, e);
        return 0;
    }
    EMIT(c, .type = CC_EV_MSG_IN, .conv = v->id, .number = m->number,
         .ep_number = s_of(e->number), .text = m->text, .msg_id = m->msg_id,
         .msg_seq = v->msgs_in + v->msgs_out + 1);
    opt_keyword(c, m, v, e);
    return 0;
}

static int check_text(str text)
{
    long n = utf8_count(text.p, text.n);
    if (n < 0)
        return -CC_E_UTF8;
    if (n == 0)
        return -CC_E_TEXT_EMPTY;
    if (n > CC_TEXT_MAX)
        return -CC_E_TEXT_TOO_LONG;
    return 0;
}

static int cmd_conv(cc *c, const cc_cmd *m)
{
    cc__agent *a;
    cc__conv *v;
    int r;
    switch (m->type) {
    case CC_CMD_ACCEPT:
    case CC_CMD_DECLINE:
        if ((r = need_agent(c, m->agent, &a)))
            return r;
        if (!(v = cc__conv_find(c, m->conv)))
            return -CC_E_NO_CONVERSATION;
        if (v->state != CC_CONV_OFFERED || v->offer_to != a->id)
            return -CC_E_NOT_OFFERED;
        if (m->type == CC_CMD_ACCEPT)
            EMIT(c, .type = CC_EV_ACCEPTED, .conv = v->id, .agent = a->id,
                 .kind = v->offer_kind);
        else
            withdraw_offer(c, v, CC_WHY_DECLINED);
        return 0;
    case CC_CMD_SEND:
        if ((r = need_agent(c, m->agent, &a)))
            return r;
        if (!(v = cc__conv_find(c, m->conv)))
            return -CC_E_NO_CONVERSATION;
        if (!is_member(v, a->id))
            return -CC_E_NOT_YOURS;
        if (v->state == CC_CONV_TERMINATED)
            return -CC_E_TERMINATED;
        if (v->state != CC_CONV_ASSIGNED)
            return -CC_E_NOT_ACCEPTED;
        if ((r = check_text(m->text)))
            return r;
        if (cc__optout_find(c, v->number, v->number_len, v->ep))
            return -CC_E_OPTED_OUT;
        EMIT(c, .type = CC_EV_MSG_OUT, .conv = v->id, .agent = a->id,
             .number = conv_number(v), .ep_number = conv_ep_number(c, v), .text = m->text,
             .msg_seq = v->msgs_in + v->msgs_out + 1);
        return 0;
    case CC_CMD_OUTBOUND: {
        if ((r = need_agent(c, m->agent, &a)))
            return r;
        cc__ep *e = ep_of(c, m->ep);
        if (!e)
            return -CC_E_NO_ENTRY_POINT;
        if (!cc_number_ok(m->number, CC_NUMBER_PHONE))
            return -CC_E_INVALID;
        if (a->load + a->reserved >= a->capacity)
            return -CC_E_NO_CAPACITY;
        if (cc__pair_find(c, m->number.p, m->number.n, e->id))
            return -CC_E_EXISTS;
        if (cc__optout_find(c, m->number.p, m->number.n, e->id))
            return -CC_E_OPTED_OUT;
        EMIT(c, .type = CC_EV_CONV_OPENED, .conv = c->next_conv, .ep = e->id,
             .queue = e->queue, .number = m->number, .ep_number = s_of(e->number),
             .kind = 1, .agent = a->id);
        return 0;
    }
    case CC_CMD_TRANSFER_QUEUE:
    case CC_CMD_TRANSFER_AGENT:
    case CC_CMD_CONF_INVITE: {
        if ((r = need_owner(c, m, &a, &v)))
            return r;
        if (v->conf != CC_CONF_NONE)
            return -CC_E_CONFERENCE;
        if (m->type == CC_CMD_TRANSFER_QUEUE) {
            if (!queue_of(c, m->queue))
                return -CC_E_NO_QUEUE;
            if ((r = check_skills(c, m->skills, m->n_skills)))
                return r;
            /* the conversation's extra skills and the new ones, the higher
             * level of a skill in both */
            uint32_t packed[CC_SKILLS_MAX];
            size_t n = 0;
            for (uint32_t i = 0; i < v->nextra; i++)
                packed[n++] = cc_skill_pack(v->extra[i]);
            for (size_t i = 0; i < m->n_skills; i++) {
                size_t k = 0;
                while (k < n && cc_skill_unpack(packed[k]).skill != m->skills[i].skill)
                    k++;
                if (k == n && n == CC_SKILLS_MAX)
                    return -CC_E_LIMIT;
                if (k == n || cc_skill_unpack(packed[k]).level < m->skills[i].level)
                    packed[k] = cc_skill_pack(m->skills[i]);
                n += k == n;
            }
            EMIT(c, .type = CC_EV_TRANSFERRED, .conv = v->id, .agent = a->id,
                 .queue = m->queue);
            wrapup_due(c, v, a->id);
            if (m->n_skills)
                EMIT(c, .type = CC_EV_CONV_SKILLS, .conv = v->id, .agent = a->id,
                     .ids = keep_ids(c, packed, n), .n_ids = n);
            EMIT(c, .type = CC_EV_QUEUED, .conv = v->id, .queue = m->queue, .key = c->now,
                 .code = CC_WHY_TRANSFER);
            return 0;
        }
        cc__agent *t = agent_of(c, m->target);
        if (!t)
            return -CC_E_NO_AGENT;
        if (t == a)
            return -CC_E_SAME_AGENT;
        if (!cc__ready(t))
            return -CC_E_TARGET_UNAVAILABLE;
        if (m->type == CC_CMD_CONF_INVITE) {
            EMIT(c, .type = CC_EV_CONF_REQUESTED, .conv = v->id, .agent = a->id,
                 .target = t->id, .deadline = c->now + rona_ms_of(c, v->queue));
            return 0;
        }
        EMIT(c, .type = CC_EV_TRANSFERRED, .conv = v->id, .agent = a->id, .target = t->id);
        wrapup_due(c, v, a->id);
        offer(c, v, t, CC_OFFER_TRANSFER);
        return 0;
    }
    case CC_CMD_CONF_CANCEL:
        if ((r = need_owner(c, m, &a, &v)))
            return r;
        if (v->conf != CC_CONF_REQUESTED)
            return -CC_E_NO_CONFERENCE;
        EMIT(c, .type = CC_EV_CONF_CANCELLED, .conv = v->id, .target = v->guest,
             .code = CC_WHY_CANCELLED);
        return 0;
    case CC_CMD_CONF_ACCEPT:
    case CC_CMD_CONF_DECLINE:
    case CC_CMD_CONF_EXIT:
        if ((r = need_agent(c, m->agent, &a)))
            return r;
        if (!(v = cc__conv_find(c, m->conv)))
            return -CC_E_NO_CONVERSATION;
        if (v->guest != a->id ||
            v->conf != (m->type == CC_CMD_CONF_EXIT ? CC_CONF_ACTIVE : CC_CONF_REQUESTED))
            return -CC_E_NO_CONFERENCE;
        if (m->type == CC_CMD_CONF_ACCEPT) {
            EMIT(c, .type = CC_EV_CONF_JOINED, .conv = v->id, .target = a->id);
        } else if (m->type == CC_CMD_CONF_DECLINE) {
            EMIT(c, .type = CC_EV_CONF_CANCELLED, .conv = v->id, .target = a->id,
                 .code = CC_WHY_DECLINED);
        } else {
            EMIT(c, .type = CC_EV_CONF_LEFT, .conv = v->id, .target = a->id);
            wrapup_due(c, v, a->id);
        }
        return 0;
    case CC_CMD_END: {
        if ((r = need_owner(c, m, &a, &v)) && r != -CC_E_TERMINATED)
            return r;
        uint32_t guest = v->conf == CC_CONF_ACTIVE ? v->guest : 0;
        if (v->conf == CC_CONF_REQUESTED)
            EMIT(c, .type = CC_EV_CONF_CANCELLED, .conv = v->id, .target = v->guest,
                 .code = CC_WHY_ENDED);
        if (guest)
            EMIT(c, .type = CC_EV_CONF_LEFT, .conv = v->id, .target = guest,
                 .code = CC_WHY_ENDED);
        EMIT(c, .type = CC_EV_ENDED, .conv = v->id, .agent = a->id);
        wrapup_due(c, v, a->id);
        if (guest)
            wrapup_due(c, v, guest);
        return 0;
    }
    case CC_CMD_WRAPUP:
        if (!(a = agent_of(c, m->agent)))
            return -CC_E_NO_AGENT;
        if (!cc__wrap_find(a, m->conv))
            return -CC_E_NO_WRAPUP;
        if (!cc__tab_get(&c->reasons, m->reason))
            return -CC_E_NO_REASON;
        v = cc__conv_find(c, m->conv);
        EMIT(c, .type = CC_EV_WRAPPED_UP, .conv = v->id, .agent = a->id, .reason = m->reason);
        close_if_done(c, v, CC_WHY_ENDED);
        return 0;
    case CC_CMD_SET_VAR:
    case CC_CMD_SET_NAME:
        if ((r = need_agent(c, m->agent, &a)))
            return r;
        if (!(v = cc__conv_find(c, m->conv)))
            return -CC_E_NO_CONVERSATION;
        if (!is_member(v, a->id))
            return -CC_E_NOT_YOURS;
        if (m->type == CC_CMD_SET_NAME) {
            if (m->name.n && !valid_name(m->name, CC_NAME_MAX))
                return -CC_E_INVALID;
            EMIT(c, .type = CC_EV_NAME_SET, .conv = v->id, .agent = a->id, .name = m->name);
            return 0;
        }
        if (!valid_name(m->key, CC_NAME_MAX) || m->value.n > CC_VALUE_MAX ||
            utf8_count(m->value.p, m->value.n) < 0)
            return -CC_E_INVALID;
        if (v->nvars >= CC_VARS_MAX && !cc_conv_var(c, v->id, m->key).p)
            return -CC_E_LIMIT;
        EMIT(c, .type = CC_EV_VAR_SET, .conv = v->id, .agent = a->id, .var_key = m->key,
             .value = m->value);
        return 0;
    }
    return -CC_E_UNKNOWN_COMMAND;
}

/* A supervisor in a conversation (no agent record: 'name' says who), and
 * internal notes, by a supervisor or an agent. */
static int cmd_sup(cc *c, const cc_cmd *m)
{
    cc__conv *v = cc__conv_find(c, m->conv);
    int r;
    if (m->agent) { /* NOTE by an agent in a conference or with a supervisor */
        cc__agent *a;
        if ((r = need_agent(c, m->agent, &a)))
            return r;
        if (!v)
            return -CC_E_NO_CONVERSATION;
        if (!is_member(v, a->id))
            return -CC_E_NOT_YOURS;
        if (v->conf != CC_CONF_ACTIVE && !v->sup)
            return -CC_E_NO_CONFERENCE;
        if ((r = check_text(m->text)))
            return r;
        EMIT(c, .type = CC_EV_NOTE, .conv = v->id, .agent = a->id, .text = m->text);
        return 0;
    }
    if (!valid_name(m->name, CC_NAME_MAX))
        return -CC_E_INVALID;
    if (!v)
        return -CC_E_NO_CONVERSATION;
    int in = v->sup && str_eq(m->name, str_c(v->sup));
    switch (m->type) {
    case CC_CMD_NOTE:
        if (v->state == CC_CONV_WRAPUP)
            return -CC_E_NOT_ACCEPTED;
        if ((r = check_text(m->text)))
            return r;
        EMIT(c, .type = CC_EV_NOTE, .conv = v->id, .name = m->name, .text = m->text);
        return 0;
    case CC_CMD_SUP_LEAVE:
        if (!in)
            return -CC_E_NOT_SUPERVISING;
        if (!v->owner)
            return -CC_E_STATE; /* taken over: end it */
        EMIT(c, .type = CC_EV_SUP_LEFT, .conv = v->id, .name = m->name);
        return 0;
    }
    if (v->state == CC_CONV_TERMINATED && !(m->type == CC_CMD_END && in))
        return -CC_E_TERMINATED;
    if (v->state != CC_CONV_ASSIGNED && v->state != CC_CONV_TERMINATED)
        return -CC_E_NOT_ACCEPTED;
    if (m->type == CC_CMD_BARGE || m->type == CC_CMD_TAKE_OVER) {
        if (v->sup && !in)
            return -CC_E_SUPERVISOR;
        if (m->type == CC_CMD_BARGE) {
            if (in)
                return 0; /* already in */
            EMIT(c, .type = CC_EV_SUP_JOINED, .conv = v->id, .agent = v->owner, .name = m->name);
            return 0;
        }
        if (!v->owner)
            return 0; /* already taken over */
        if (v->conf != CC_CONF_NONE)
            return -CC_E_CONFERENCE;
        EMIT(c, .type = CC_EV_TAKEN_OVER, .conv = v->id, .agent = v->owner, .name = m->name);
        return 0;
    }
    if (!in)
        return -CC_E_NOT_SUPERVISING;
    if (m->type == CC_CMD_END) {
        if (v->owner)
            return -CC_E_NOT_OWNER; /* the agent ends it */
        EMIT(c, .type = CC_EV_ENDED, .conv = v->id, .name = m->name);
        close_if_done(c, v, CC_WHY_ENDED);
        return 0;
    }
    /* SEND */
    if ((r = check_text(m->text)))
        return r;
    if (cc__optout_find(c, v->number, v->number_len, v->ep))
        return -CC_E_OPTED_OUT;
    EMIT(c, .type = CC_EV_MSG_OUT, .conv = v->id, .name = m->name, .number = conv_number(v),
         .ep_number = conv_ep_number(c, v), .text = m->text,
         .msg_seq = v->msgs_in + v->msgs_out + 1);
    return 0;
}

int cc_apply(cc *c, const cc_cmd *m, int64_t now, cc_events *out)
{
    free_graves(c);
    if (now > c->now)
        c->now = now;
    c->out = out;
    int r;
    switch (m->type) {
    case CC_CMD_SKILL_PUT:
    case CC_CMD_SKILL_REMOVE:
    case CC_CMD_TEAM_PUT:
    case CC_CMD_QUEUE_PUT:
    case CC_CMD_AGENT_PUT:
    case CC_CMD_EP_PUT:
    case CC_CMD_REASON_PUT:
    case CC_CMD_IDLE_REASON_PUT:
    case CC_CMD_SETTINGS:
    case CC_CMD_TEAM_REMOVE:
    case CC_CMD_REASON_REMOVE:
    case CC_CMD_IDLE_REASON_REMOVE:
        r = cmd_config(c, m);
        break;
    case CC_CMD_QUEUE_REMOVE:
    case CC_CMD_AGENT_REMOVE:
    case CC_CMD_EP_REMOVE:
        r = cmd_remove(c, m);
        break;
    case CC_CMD_LOGIN:
    case CC_CMD_LOGOUT:
    case CC_CMD_DISCONNECT:
    case CC_CMD_RECONNECT:
    case CC_CMD_SET_STATE:
    case CC_CMD_FORCE_STATE:
        r = cmd_agent(c, m);
        break;
    case CC_CMD_SMS_IN:
        r = cmd_sms_in(c, m);
        break;
    case CC_CMD_RESTART:
        r = cmd_restart(c);
        break;
    case CC_CMD_NOTE:
    case CC_CMD_BARGE:
    case CC_CMD_TAKE_OVER:
    case CC_CMD_SUP_LEAVE:
        r = cmd_sup(c, m);
        break;
    case CC_CMD_SEND:
    case CC_CMD_END:
        /* agent 0 with a name: the supervisor in the conversation */
        r = m->agent == 0 && m->name.n ? cmd_sup(c, m) : cmd_conv(c, m);
        break;
    default:
        r = m->type >= 0 && m->type < CC_CMD__COUNT ? cmd_conv(c, m)
                                                     : -CC_E_UNKNOWN_COMMAND;
        break;
    }
    if (r == 0)
        settle(c);
    c->out = NULL;
    return r;
}

/* ---- time -------------------------------------------------------------- */

static cc__timer timer_pop(cc *c)
{
    cc__timer top = c->timers[0], last = c->timers[--c->ntimers];
    size_t i = 0, n = c->ntimers;
    for (;;) {
        size_t l = 2 * i + 1, m = i;
        int64_t best = last.due;
        if (l < n && c->timers[l].due < best)
            m = l, best = c->timers[l].due;
        if (l + 1 < n && c->timers[l + 1].due < best)
            m = l + 1;
        if (m == i)
            break;
        c->timers[i] = c->timers[m];
        i = m;
    }
    if (n)
        c->timers[i] = last;
    return top;
}

int64_t cc_next_deadline(const cc *c)
{
    return c->ntimers ? c->timers[0].due : INT64_MAX;
}

static void fire(cc *c, const cc__timer *t)
{
    cc__conv *v = t->conv ? cc__conv_find(c, t->conv) : NULL;
    cc__agent *a = t->agent ? agent_of(c, t->agent) : NULL;
    switch (t->kind) {
    case CC__T_OFFER:
        if (!v || v->state != CC_CONV_OFFERED || v->offer_gen != t->gen)
            return;
        a = agent_of(c, v->offer_to);
        withdraw_offer(c, v, CC_WHY_TIMEOUT);
        set_rona(c, a);
        return;
    case CC__T_CONF:
        if (!v || v->conf != CC_CONF_REQUESTED || v->conf_gen != t->gen)
            return;
        a = agent_of(c, v->guest);
        EMIT(c, .type = CC_EV_CONF_CANCELLED, .conv = v->id, .target = a->id,
             .code = CC_WHY_TIMEOUT);
        set_rona(c, a);
        return;
    case CC__T_WRAP: {
        cc__wrap *w = a && v ? cc__wrap_find(a, v->id) : NULL;
        if (!w || w->gen != t->gen)
            return;
        EMIT(c, .type = CC_EV_WRAPPED_UP, .conv = v->id, .agent = a->id, .reason = w->reason,
             .code = CC_WHY_AUTO);
        close_if_done(c, v, CC_WHY_ENDED);
        return;
    }
    case CC__T_GRACE:
        if (!a || a->connected || a->state == CC_AGENT_LOGGED_OUT || a->disc_gen != t->gen)
            return;
        release_held(c, a, CC_WHY_GRACE);
        return;
    case CC__T_WAIT:
        /* Still waiting (an offer pending at the deadline re-arms the
         * timer when it comes back to the queue). */
        if (!v || v->state != CC_CONV_QUEUED || v->overflowed || !v->wait_deadline ||
            v->wait_deadline > c->now)
            return;
        overflow(c, v);
        return;
    case CC__T_WIDEN: {
        /* Still waiting in a queue that widens: one level per step since
         * its queue time, down to nothing required. */
        cc__queue *q = v && v->state == CC_CONV_QUEUED ? queue_of(c, v->queue) : NULL;
        if (!q || q->widen_ms <= 0 || v->qpos == HEAP_NONE)
            return;
        uint32_t level = cc__widen_due(c, q, v);
        if (level > v->widen)
            EMIT(c, .type = CC_EV_WIDENED, .conv = v->id, .queue = q->id, .kind = (int)level);
        return;
    }
    }
}

void cc_tick(cc *c, int64_t now, cc_events *out)
{
    free_graves(c);
    if (now > c->now)
        c->now = now;
    c->out = out;
    while (c->ntimers && c->timers[0].due <= now) {
        cc__timer t = timer_pop(c);
        fire(c, &t);
        settle(c);
    }
    c->out = NULL;
}

int cc_replay(cc *c, const cc_event *ev)
{
    free_graves(c);
    if (ev->at > c->now)
        c->now = ev->at;
    c->replaying = 1;
    int r = cc__evolve(c, ev);
    c->replaying = 0;
    if (r == 0)
        c->seq = ev->seq;
    return r;
}
