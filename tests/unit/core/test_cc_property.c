/*
 * Randomized property test of the core: many seeds, each a long run of
 * random commands (valid and invalid) and clock steps over a small world so
 * that everything collides. After every step:
 *   - cc_check: each open conversation is in exactly one of queued /
 *     offered / assigned / terminated / wrap-up and its agents agree; load
 *     and offers never exceed capacity; routing is settled;
 *   - only Available (and connected) agents receive new offers and invites;
 *   - RONA is entered only by a timeout and left only by the agent's own
 *     choice (or removal);
 *   - no conversation disappears without a CLOSED event;
 *   - a failed command emits nothing;
 *   - skills: no conversation waits while a ready agent is eligible for it
 *     (checked against cc_eligible, the scanning reference, not the index);
 *     every routed offer goes to a best match (no ready eligible agent has
 *     a higher proficiency sum) and never skips an older conversation of
 *     the same queue that the agent was eligible for, widened or not
 *     (checked on a shadow core that replays the step event by event);
 *     waiting conversations are widened exactly as far as their wait says.
 * At the end of each seed the event log is replayed into a fresh core and
 * the two states must render identically.
 *
 * TEXTDESK_PROP_SEEDS and TEXTDESK_PROP_STEPS override the sizes;
 * TEXTDESK_PROP_FIRST is the first seed (CTest runs seeds 1-1000 and
 * 1001-2000 as two tests, so the two cores share them).
 */
#include "cc_fixture.h"

#define NAGENTS 6
#define NTEAMS 3
#define NQUEUES 4
#define NEPS 3
#define NCUST 10
#define NSKILLS 3

typedef struct rng {
    uint64_t s;
} rng;

static uint64_t rnd(rng *r)
{
    r->s ^= r->s >> 12;
    r->s ^= r->s << 25;
    r->s ^= r->s >> 27;
    return r->s * 0x2545F4914F6CDD1DULL;
}

static uint32_t pick(rng *r, uint32_t n)
{
    return (uint32_t)(rnd(r) % n);
}

static const char *const ep_numbers[NEPS + 1] = {"+46100", "+46200", "71000", "+46999"};

typedef struct world {
    fx f;
    int shadow[NAGENTS + 1];     /* agent state, from events */
    int connected[NAGENTS + 1];  /* from events */
    uint32_t wraps[256][2];      /* (agent, conv) owed, from events */
    size_t nwraps;
    uint64_t opened, closed;
    cc *shadow_core; /* replays every event, to see the state before each */
    uint64_t route_offers, skill_offers, widenings;
} world;

/* Some skills (none half the time), levels 1..5, each skill once. */
static size_t some_skills(rng *r, cc_skill *out)
{
    size_t n = 0;
    if (pick(r, 2))
        return 0;
    for (uint32_t s = 1; s <= NSKILLS; s++)
        if (pick(r, 2))
            out[n++] = (cc_skill){s, 1 + pick(r, CC_LEVEL_MAX)};
    return n;
}

static void put_agent(world *w, rng *r, uint32_t id)
{
    uint32_t teams[2] = {1 + pick(r, NTEAMS), 1 + pick(r, NTEAMS)};
    char name[16];
    snprintf(name, sizeof name, "agent%u", id);
    cc_skill sk[NSKILLS];
    size_t nsk = some_skills(r, sk);
    fx_do(&w->f, (cc_cmd){.type = CC_CMD_AGENT_PUT, .agent = id, .name = str_c(name),
                          .ids = teams, .n_ids = 1 + pick(r, 2), .capacity = 1 + pick(r, 3),
                          .skills = sk, .n_skills = nsk});
}

static void put_queue(world *w, rng *r, uint32_t id, int with_fallback)
{
    uint32_t teams[2] = {1 + pick(r, NTEAMS), 1 + pick(r, NTEAMS)};
    char name[16];
    snprintf(name, sizeof name, "queue%u", id);
    uint32_t fb = with_fallback && pick(r, 2) ? 1 + pick(r, NQUEUES) : 0;
    int autowrap = pick(r, 2);
    cc_skill sk[NSKILLS];
    size_t nsk = some_skills(r, sk);
    fx_do(&w->f, (cc_cmd){.type = CC_CMD_QUEUE_PUT, .queue = id, .name = str_c(name),
                          .ids = teams, .n_ids = 1 + pick(r, 2),
                          .rona_ms = 1000 * (1 + pick(r, 40)),
                          .autowrap_ms = autowrap ? 1000 * (1 + pick(r, 90)) : 0,
                          .reason = autowrap ? 1 : 0, .fallback = fb == id ? 0 : fb,
                          .skills = sk, .n_skills = nsk,
                          .widen_ms = pick(r, 3) ? 1000 * (1 + pick(r, 20)) : 0});
}

/* Entry-point flows to pick from (NULL: none): overflow with and without a
 * queue, business hours that open and close within a run (the clock starts
 * at 1970-01-01 00:00:01 UTC; Monday..Sunday 00:00-00:03 and 00:05-00:08
 * local, UTC+1), closing or queueing out of hours. */
static const cc_ep_flow *some_flow(rng *r)
{
    static cc_ep_flow flows[6];
    static int ready;
    if (!ready) {
        flows[0] = (cc_ep_flow){.max_wait_ms = 20000, .overflow_queue = 2,
                                .overflow_text = STR_LIT("overflow")};
        flows[1] = (cc_ep_flow){.welcome = STR_LIT("welcome"), .max_wait_ms = 45000,
                                .overflow_text = STR_LIT("still waiting")};
        for (int i = 2; i < 5; i++) {
            flows[i] = (cc_ep_flow){.hours = 1, .tz_name = STR_LIT("CET"),
                                    .tz_rule = STR_LIT("CET-1"),
                                    .closed_text = STR_LIT("closed"),
                                    .closed_action = i == 3 ? CC_CLOSED_CLOSE : CC_CLOSED_QUEUE};
            for (int d = 0; d < 7; d++) {
                flows[i].week[d][0][0] = 60;
                flows[i].week[d][0][1] = 63;
                flows[i].week[d][1][0] = 65;
                flows[i].week[d][1][1] = 68;
            }
        }
        flows[4].max_wait_ms = 30000;
        flows[4].overflow_queue = 1;
        flows[4].welcome = STR_LIT("hello");
        /* a language by keyword, a product for everything */
        flows[5].words[0] = (cc_flow_word){STR_LIT("svenska"), {1, 3}};
        flows[5].n_words = 1;
        flows[5].skills[0] = (cc_skill){2, 2};
        flows[5].n_skills = 1;
        flows[1].survey = 1; /* satisfaction survey after wrap-up */
        flows[1].survey_text = STR_LIT("1-5?");
        flows[1].survey_window_ms = 60000;
        flows[0].words[0] = (cc_flow_word){STR_LIT("svenska"), {1, 1}};
        flows[0].n_words = 1;
        ready = 1;
    }
    int k = (int)pick(r, 9);
    return k < 6 ? &flows[k] : NULL;
}

static void setup_world(world *w, rng *r)
{
    fx *f = &w->f;
    for (uint32_t t = 1; t <= NTEAMS; t++)
        OK(f, .type = CC_CMD_TEAM_PUT, .team = t, .name = STR_LIT("team"));
    for (uint32_t s = 1; s <= NSKILLS; s++)
        OK(f, .type = CC_CMD_SKILL_PUT, .skill = s, .name = STR_LIT("skill"));
    OK(f, .type = CC_CMD_REASON_PUT, .reason = 1, .name = STR_LIT("Solved"));
    OK(f, .type = CC_CMD_REASON_PUT, .reason = 2, .name = STR_LIT("Other"));
    OK(f, .type = CC_CMD_IDLE_REASON_PUT, .reason = 1, .name = STR_LIT("Lunch"));
    for (int pass = 0; pass < 2; pass++) /* the second pass can name fallbacks */
        for (uint32_t q = 1; q <= NQUEUES; q++)
            put_queue(w, r, q, pass);
    for (uint32_t e = 1; e <= NEPS; e++)
        OK(f, .type = CC_CMD_EP_PUT, .ep = e, .number = str_c(ep_numbers[e - 1]),
           .queue = 3 + pick(r, NQUEUES - 2), .flow = some_flow(r));
    for (uint32_t a = 1; a <= NAGENTS; a++)
        put_agent(w, r, a);
}

/* A conversation id that exists or recently existed, or a wrong one. */
static uint32_t some_conv(world *w, rng *r)
{
    cc_conv_view v;
    uint32_t hi = 1;
    for (size_t i = w->f.log.n; i-- > 0 && hi == 1;)
        if (w->f.log.v[i].type == CC_EV_CONV_OPENED)
            hi = w->f.log.v[i].conv + 1;
    for (int tries = 0; tries < 8; tries++) {
        uint32_t id = hi > 12 ? hi - 1 - pick(r, 12) : 1 + pick(r, hi);
        if (cc_conv_get(w->f.c, id, &v) == 0)
            return id;
    }
    return 1 + pick(r, hi + 2);
}

/* An agent that is likely to make the command succeed for 'conv'. */
static uint32_t actor(world *w, rng *r, uint32_t conv, int role)
{
    cc_conv_view v;
    if (pick(r, 5) != 0 && cc_conv_get(w->f.c, conv, &v) == 0) {
        uint32_t a = role == 0 ? v.offered_to : role == 1 ? v.owner : v.guest;
        if (a)
            return a;
    }
    return 1 + pick(r, NAGENTS + 1); /* sometimes an unknown agent */
}

static void observe(world *w, const cc_cmd *cmd, int in_tick)
{
    fx *f = &w->f;
    for (size_t i = 0; i < f->ev.n; i++) {
        const cc_event *e = &f->ev.v[i];
        uint32_t a = e->agent;
        switch (e->type) {
        case CC_EV_OFFERED:
            if (w->shadow[a] != CC_AGENT_AVAILABLE || !w->connected[a])
                fail_msg("conv %u offered to agent %u in state %d (connected %d)", e->conv, a,
                         w->shadow[a], w->connected[a]);
            break;
        case CC_EV_CONF_REQUESTED:
            if (w->shadow[e->target] != CC_AGENT_AVAILABLE || !w->connected[e->target])
                fail_msg("conference invite to unavailable agent %u", e->target);
            break;
        case CC_EV_AGENT_STATE:
            if (e->state == CC_AGENT_RONA && !in_tick)
                fail_msg("agent %u set to RONA outside a timeout", a);
            if (w->shadow[a] == CC_AGENT_RONA && e->state != CC_AGENT_RONA && in_tick)
                fail_msg("agent %u left RONA by itself", a);
            if (w->shadow[a] == CC_AGENT_RONA && e->state != CC_AGENT_RONA && !in_tick &&
                !((cmd->type == CC_CMD_SET_STATE || cmd->type == CC_CMD_LOGOUT ||
                   cmd->type == CC_CMD_AGENT_REMOVE) &&
                  cmd->agent == a))
                fail_msg("agent %u left RONA without choosing", a);
            if (w->shadow[a] == CC_AGENT_LOGGED_OUT && e->state != CC_AGENT_LOGGED_OUT)
                w->connected[a] = 1;
            if (e->state == CC_AGENT_LOGGED_OUT)
                w->connected[a] = 0;
            w->shadow[a] = e->state;
            break;
        case CC_EV_AGENT_CONNECTED:
            w->connected[a] = e->state;
            break;
        case CC_EV_AGENT_PUT:
            if (w->shadow[a] == 0)
                w->shadow[a] = CC_AGENT_LOGGED_OUT;
            break;
        case CC_EV_AGENT_REMOVED:
            w->shadow[a] = CC_AGENT_LOGGED_OUT;
            w->connected[a] = 0;
            break;
        case CC_EV_WRAPUP_DUE:
            if (w->nwraps < 256) {
                w->wraps[w->nwraps][0] = a;
                w->wraps[w->nwraps][1] = e->conv;
                w->nwraps++;
            }
            break;
        case CC_EV_WRAPPED_UP:
            for (size_t k = 0; k < w->nwraps; k++)
                if (w->wraps[k][0] == a && w->wraps[k][1] == e->conv) {
                    memmove(w->wraps[k], w->wraps[k + 1],
                            (w->nwraps - k - 1) * sizeof w->wraps[0]);
                    w->nwraps--;
                    break;
                }
            break;
        case CC_EV_CONV_OPENED:
            w->opened++;
            break;
        case CC_EV_CLOSED:
            w->closed++;
            break;
        }
    }
    if (w->opened - w->closed != cc_conv_count(f->c))
        fail_msg("conversations lost: opened %llu closed %llu open %zu",
                 (unsigned long long)w->opened, (unsigned long long)w->closed,
                 cc_conv_count(f->c));
}

static void random_command(world *w, rng *r, cc_cmd *m, char *scratch, size_t n)
{
    memset(m, 0, sizeof *m);
    uint32_t conv = some_conv(w, r);
    switch (pick(r, 24)) {
    case 0:
    case 1:
    case 2:
    case 3: {
        snprintf(scratch, n, "+4670%u", pick(r, NCUST));
        m->type = CC_CMD_SMS_IN;
        m->number = str_c(scratch);
        m->ep_number = str_c(ep_numbers[pick(r, NEPS + 1)]);
        m->text = pick(r, 20) ? pick(r, 3) ? pick(r, 3) ? STR_LIT("hej") : STR_LIT("4 bra")
                                           : STR_LIT("hej, svenska tack")
                              : STR_LIT("bad \xfe");
        m->keyword = pick(r, 8) ? CC_KW_NONE : (int)(1 + pick(r, 3)); /* STOP/START/HELP */
        /* provider ids repeat now and then: duplicates */
        snprintf(scratch + 32, n - 32, "id%u", pick(r, 400));
        m->msg_id = pick(r, 4) ? str_c(scratch + 32) : STR_NULL;
        break;
    }
    case 4:
        m->type = CC_CMD_LOGIN;
        m->agent = 1 + pick(r, NAGENTS);
        break;
    case 5:
        m->type = CC_CMD_LOGOUT;
        m->agent = 1 + pick(r, NAGENTS);
        break;
    case 6:
    case 7:
        m->type = CC_CMD_SET_STATE;
        m->agent = 1 + pick(r, NAGENTS);
        m->state = pick(r, 4) ? CC_AGENT_AVAILABLE : pick(r, 2) ? CC_AGENT_IDLE : CC_AGENT_RONA;
        m->reason = 1;
        break;
    case 8:
    case 9:
        m->type = pick(r, 6) ? CC_CMD_ACCEPT : CC_CMD_DECLINE;
        m->conv = conv;
        m->agent = actor(w, r, conv, 0);
        break;
    case 10:
        m->type = CC_CMD_SEND;
        m->conv = conv;
        m->agent = actor(w, r, conv, pick(r, 3) ? 1 : 2);
        m->text = pick(r, 10) ? STR_LIT("Hej!") : STR_LIT("");
        break;
    case 11:
    case 12:
        m->type = CC_CMD_END;
        m->conv = conv;
        m->agent = actor(w, r, conv, 1);
        break;
    case 13:
        if (w->nwraps && pick(r, 5)) {
            size_t k = pick(r, (uint32_t)w->nwraps);
            m->agent = w->wraps[k][0];
            m->conv = w->wraps[k][1];
        } else {
            m->agent = 1 + pick(r, NAGENTS);
            m->conv = conv;
        }
        m->type = CC_CMD_WRAPUP;
        m->reason = 1 + pick(r, 3);
        break;
    case 14:
        m->type = pick(r, 2) ? CC_CMD_TRANSFER_QUEUE : CC_CMD_TRANSFER_AGENT;
        m->conv = conv;
        m->agent = actor(w, r, conv, 1);
        m->queue = 1 + pick(r, NQUEUES + 1);
        m->target = 1 + pick(r, NAGENTS);
        if (pick(r, 2)) {
            static cc_skill sk[2];
            sk[0] = (cc_skill){1 + pick(r, NSKILLS + 1), pick(r, CC_LEVEL_MAX + 2)};
            sk[1] = (cc_skill){1 + pick(r, NSKILLS), 1 + pick(r, CC_LEVEL_MAX)};
            m->skills = sk;
            m->n_skills = 1 + pick(r, 2);
        }
        break;
    case 15:
        m->type = pick(r, 4) ? CC_CMD_CONF_INVITE : CC_CMD_CONF_CANCEL;
        m->conv = conv;
        m->agent = actor(w, r, conv, 1);
        m->target = 1 + pick(r, NAGENTS);
        break;
    case 16: {
        static const int t[] = {CC_CMD_CONF_ACCEPT, CC_CMD_CONF_ACCEPT, CC_CMD_CONF_DECLINE,
                                CC_CMD_CONF_EXIT};
        m->type = t[pick(r, 4)];
        m->conv = conv;
        m->agent = actor(w, r, conv, 2);
        break;
    }
    case 17:
        snprintf(scratch, n, "+4670%u", pick(r, NCUST));
        m->type = CC_CMD_OUTBOUND;
        m->agent = 1 + pick(r, NAGENTS);
        m->ep = 1 + pick(r, NEPS);
        m->number = str_c(scratch);
        break;
    case 18:
        m->type = pick(r, 2) ? CC_CMD_DISCONNECT : CC_CMD_RECONNECT;
        m->agent = 1 + pick(r, NAGENTS);
        break;
    case 19:
        m->type = CC_CMD_SET_VAR;
        m->conv = conv;
        m->agent = actor(w, r, conv, 1);
        m->key = STR_LIT("order");
        m->value = STR_LIT("A-1");
        break;
    case 20: /* administrator: entry points */
        if (pick(r, 2)) {
            m->type = CC_CMD_EP_REMOVE;
            m->ep = 1 + pick(r, NEPS);
        } else {
            m->type = CC_CMD_EP_PUT;
            m->ep = 1 + pick(r, NEPS);
            m->number = str_c(ep_numbers[m->ep - 1]);
            m->queue = 1 + pick(r, NQUEUES);
            m->flow = some_flow(r);
        }
        break;
    case 21: /* administrator: queues (removal is rare, as in life) */
        if (pick(r, 6) == 0) {
            m->type = CC_CMD_QUEUE_REMOVE;
            m->queue = 1 + pick(r, NQUEUES);
        } else {
            put_queue(w, r, 1 + pick(r, NQUEUES), 1);
            observe(w, &(cc_cmd){0}, 0);
            m->type = CC_CMD_LOGIN;
            m->agent = 1 + pick(r, NAGENTS);
        }
        break;
    case 22: /* administrator: agents */
        if (pick(r, 6) == 0) {
            m->type = CC_CMD_AGENT_REMOVE;
            m->agent = 1 + pick(r, NAGENTS);
        } else {
            put_agent(w, r, 1 + pick(r, NAGENTS));
            observe(w, &(cc_cmd){0}, 0);
            m->type = CC_CMD_LOGIN;
            m->agent = 1 + pick(r, NAGENTS);
        }
        break;
    case 23: /* administrator: skills (removal mostly refused: in use) */
        m->type = pick(r, 2) ? CC_CMD_SKILL_REMOVE : CC_CMD_SKILL_PUT;
        m->skill = 1 + pick(r, NSKILLS + 1);
        m->name = STR_LIT("skill");
        break;
    default:
        m->type = CC_CMD_SETTINGS;
        m->grace_ms = 1000 * (1 + pick(r, 120));
        break;
    }
}

static int ready_in(const cc *c, uint32_t agent)
{
    cc_agent_view a;
    return cc_agent_get(c, agent, &a) == 0 && a.state == CC_AGENT_AVAILABLE && a.connected &&
           a.load + a.reserved < a.capacity;
}

/* The agent's proficiency sum over the skills conversation 'conv' requires
 * (its queue's and its own), from views only. */
static uint32_t match_score(const cc *c, uint32_t agent, uint32_t conv)
{
    cc_conv_view v;
    cc_queue_view q;
    cc_skill as[CC_SKILLS_MAX], xs[CC_SKILLS_MAX];
    if (cc_conv_get(c, conv, &v) != 0 || cc_queue_get(c, v.queue, &q) != 0)
        return 0;
    size_t na = cc_agent_skills(c, agent, as, CC_SKILLS_MAX);
    size_t nx = cc_conv_skills(c, conv, xs, CC_SKILLS_MAX);
    uint32_t sum = 0;
    for (uint32_t s = 1; s <= NSKILLS + 1; s++) {
        int named = 0;
        for (size_t i = 0; i < q.n_skills; i++)
            named |= q.skills[i].skill == s;
        for (size_t i = 0; i < nx; i++)
            named |= xs[i].skill == s;
        for (size_t i = 0; named && i < na; i++)
            if (as[i].skill == s)
                sum += as[i].level;
    }
    return sum;
}

/* Routing fairness at one routed offer, on the state just before it. */
static void check_offer(world *w, const cc_event *e)
{
    cc *c = w->shadow_core;
    cc_conv_view x;
    if (cc_conv_get(c, e->conv, &x) != 0 || x.state != CC_CONV_QUEUED)
        fail_msg("routed offer of conv %u that was not waiting", e->conv);
    if (!cc_eligible(c, e->agent, e->conv))
        fail_msg("conv %u offered to agent %u that is not eligible", e->conv, e->agent);
    uint32_t mine = match_score(c, e->agent, e->conv);
    for (uint32_t a = 1; a <= NAGENTS; a++)
        if (a != e->agent && ready_in(c, a) && cc_eligible(c, a, e->conv) &&
            match_score(c, a, e->conv) > mine)
            fail_msg("conv %u offered to agent %u (match %u) while agent %u matches better",
                     e->conv, e->agent, mine, a);
    uint32_t ids[256];
    size_t n = cc_conv_list(c, ids, 256);
    for (size_t i = 0; i < n && i < 256; i++) {
        cc_conv_view y;
        cc_conv_get(c, ids[i], &y);
        if (y.id == x.id || y.state != CC_CONV_QUEUED || y.queue != x.queue)
            continue;
        int older = y.queued_at < x.queued_at || (y.queued_at == x.queued_at && y.id < x.id);
        if (older && cc_eligible(c, e->agent, y.id))
            fail_msg("conv %u offered to agent %u before older conv %u of queue %u it may take",
                     e->conv, e->agent, y.id, x.queue);
    }
    w->route_offers++;
    cc_skill xs[CC_SKILLS_MAX];
    cc_queue_view q;
    if (cc_conv_skills(c, e->conv, xs, CC_SKILLS_MAX) ||
        (cc_queue_get(c, x.queue, &q) == 0 && q.n_skills))
        w->skill_offers++;
}

/* After a step: routing settled against the reference, widening on time. */
static void check_skills_step(world *w)
{
    fx *f = &w->f;
    for (size_t i = 0; i < f->ev.n; i++) {
        const cc_event *e = &f->ev.v[i];
        if (e->type == CC_EV_OFFERED && e->kind == CC_OFFER_ROUTE)
            check_offer(w, e);
        w->widenings += e->type == CC_EV_WIDENED;
        int rc = cc_replay(w->shadow_core, e);
        if (rc != 0)
            fail_msg("shadow replay of %s failed: %s", cc_ev_name(e->type), cc_err_code(rc));
    }
    uint32_t ids[256];
    size_t n = cc_conv_list(f->c, ids, 256);
    for (size_t i = 0; i < n && i < 256; i++) {
        cc_conv_view v;
        cc_queue_view q;
        cc_conv_get(f->c, ids[i], &v);
        if (v.state != CC_CONV_QUEUED)
            continue;
        for (uint32_t a = 1; a <= NAGENTS; a++)
            if (ready_in(f->c, a) && cc_eligible(f->c, a, v.id))
                fail_msg("conv %u waits while agent %u is ready and eligible", v.id, a);
        if (cc_queue_get(f->c, v.queue, &q) != 0 || q.widen_ms == 0)
            continue;
        uint32_t top = 0;
        cc_skill xs[CC_SKILLS_MAX];
        size_t nx = cc_conv_skills(f->c, v.id, xs, CC_SKILLS_MAX);
        for (size_t k = 0; k < q.n_skills; k++)
            top = q.skills[k].level > top ? q.skills[k].level : top;
        for (size_t k = 0; k < nx; k++)
            top = xs[k].level > top ? xs[k].level : top;
        int64_t due = (f->now - v.queued_at) / q.widen_ms;
        uint32_t want = due > (int64_t)top ? top : (uint32_t)due;
        /* timers fire in cc_tick: right after a command it may lag */
        if (v.widened > want || (v.widened < want && cc_next_deadline(f->c) > f->now))
            fail_msg("conv %u widened %u levels, %u due (waiting since %lld, step %lld)", v.id,
                     v.widened, want, (long long)v.queued_at, (long long)q.widen_ms);
    }
}

static long env_long(const char *name, long dflt)
{
    const char *s = getenv(name);
    if (!s || !*s)
        return dflt;
    char *end;
    long v = strtol(s, &end, 10);
    return *end == '\0' && v > 0 ? v : dflt;
}

static void test_random_runs_keep_invariants(void **state)
{
    long seeds = env_long("TEXTDESK_PROP_SEEDS", 2000);
    long steps = env_long("TEXTDESK_PROP_STEPS", 2000);
    long first = env_long("TEXTDESK_PROP_FIRST", 1);
    uint64_t checked = 0, commands_ok = 0, events = 0;
    uint64_t overflows = 0, ooh_closed = 0, auto_replies = 0; /* entry-point flows */
    uint64_t route_offers = 0, skill_offers = 0, widenings = 0, surveys = 0, answers = 0;
    for (long seed = first; seed < first + seeds; seed++) {
        world *w = calloc(1, sizeof *w);
        rng r = {0x9E3779B97F4A7C15ULL * (uint64_t)seed};
        w->f.c = cc_new();
        cc_events_init(&w->f.ev);
        cc_evlog_init(&w->f.log);
        w->f.now = 1000;
        w->shadow_core = cc_new();
        setup_world(w, &r);
        observe(w, &(cc_cmd){0}, 0);
        for (size_t i = 0; i < w->f.log.n; i++)
            cc_replay(w->shadow_core, &w->f.log.v[i]);
        for (long s = 0; s < steps; s++) {
            if (pick(&r, 4) == 0) {
                fx_tick(&w->f, pick(&r, 20) ? pick(&r, 15000) : 200000);
                observe(w, &(cc_cmd){0}, 1);
                check_skills_step(w);
            } else {
                cc_cmd m;
                char scratch[64];
                if (pick(&r, 100) == 0) {
                    if (pick(&r, 2))
                        put_queue(w, &r, 1 + pick(&r, NQUEUES), 1);
                    else
                        put_agent(w, &r, 1 + pick(&r, NAGENTS));
                    observe(w, &(cc_cmd){0}, 0);
                    check_skills_step(w);
                    continue;
                }
                size_t before = w->f.log.n;
                random_command(w, &r, &m, scratch, sizeof scratch);
                /* an administrator's change made inside random_command */
                for (size_t i = before; i < w->f.log.n; i++)
                    cc_replay(w->shadow_core, &w->f.log.v[i]);
                commands_ok += fx_do(&w->f, m) == 0;
                observe(w, &m, 0);
                check_skills_step(w);
            }
            checked++;
        }
        events += w->f.log.n;
        for (size_t i = 0; i < w->f.log.n; i++) {
            const cc_event *e = &w->f.log.v[i];
            overflows += e->type == CC_EV_OVERFLOWED;
            ooh_closed += e->type == CC_EV_CLOSED && e->code == CC_WHY_OUT_OF_HOURS;
            auto_replies += e->type == CC_EV_MSG_OUT && e->agent == 0;
            surveys += e->type == CC_EV_CSAT_ASKED;
            answers += e->type == CC_EV_CSAT_ANSWERED;
        }
        fx_replay_check(&w->f);
        cc_free(w->shadow_core);
        skill_offers += w->skill_offers;
        route_offers += w->route_offers;
        widenings += w->widenings;
        cc_events_free(&w->f.ev);
        cc_evlog_free(&w->f.log);
        cc_free(w->f.c);
        free(w);
    }
    printf("property: %ld seeds (%ld-%ld) x %ld steps = %llu steps checked (%llu commands "
           "accepted, %llu events replayed)\n",
           seeds, first, first + seeds - 1, steps, (unsigned long long)checked, (unsigned long long)commands_ok,
           (unsigned long long)events);
    printf("property: flows: %llu overflows, %llu closed out of hours, %llu automatic "
           "replies\n",
           (unsigned long long)overflows, (unsigned long long)ooh_closed,
           (unsigned long long)auto_replies);
    printf("property: skills: %llu routed offers checked, %llu of them needing skills, "
           "%llu widenings\n",
           (unsigned long long)route_offers, (unsigned long long)skill_offers,
           (unsigned long long)widenings);
    assert_true(commands_ok > checked / 10); /* the run did real work */
    printf("property: csat: %llu surveys, %llu answers\n", (unsigned long long)surveys,
           (unsigned long long)answers);
    assert_true(skill_offers > 0 && widenings > 0 && route_offers > skill_offers);
    assert_true(surveys > 0 && answers > 0);
    assert_true(overflows > 0 && ooh_closed > 0 && auto_replies > 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_random_runs_keep_invariants),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
