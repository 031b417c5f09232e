/*
 * bench_core: the contact-center core at contact-center scale.
 *
 * World: 10,000 agents (capacity 3) in 100 teams, 200 queues served by two
 * teams each, one entry point per queue, 100,000 open conversations.
 *
 * Figures (one `name: value unit` line each):
 *   core_bytes_per_conversation  heap growth per open conversation, provider
 *                                message id for de-duplication included
 *   core_ingest_rate             inbound SMS opened and queued per second
 *   core_routing_decisions       offers made per second when all agents turn
 *                                Available with 100,000 waiting
 *   core_linear_scan_decisions   the same decisions made by scanning every
 *                                agent (the baseline a heap avoids)
 *   core_routing_vs_linear_scan  ratio of the two, same process
 *   core_cycles                  offer+accept+end+wrap-up cycles per second,
 *                                100,000 conversations kept open
 *
 * Skills (a second world: the same agents, teams and queues, 20 skills):
 * each queue requires one product skill at proficiency 2 or more; each
 * agent has 3 or 4 of the 20 at random levels (one of them wanted by a
 * queue of its team, so every agent can take something); half of the
 * customers write "svenska", which the entry points' flow turns into the
 * Svenska skill (level 1) on top. 100,000 waiting, then every agent turns
 * Available, as in B:
 *   core_skill_routing_decisions      offers per second with skills
 *   core_skill_linear_scan_decisions  the same decisions by scanning every
 *                                     agent (team, skills, best match, idle)
 *   core_skill_routing_vs_linear_scan ratio of the two
 *   core_skill_vs_team_routing        skill routing / team routing (B), same
 *                                     process (target >= 0.5)
 */
#include <malloc.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/cc.h"

#define AGENTS 10000
#define TEAMS 100
#define QUEUES 200
#define CONVS 100000
#define CYCLES 300000
#define SKILLS 20
#define SVENSKA 20 /* the language skill; products are 1..19 */

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void must(int r, const char *what)
{
    if (r < 0) {
        fprintf(stderr, "bench_core: %s failed: %s\n", what, cc_err_code(r));
        exit(1);
    }
}

static cc *c;
static cc_events ev;
static int64_t clock_ms = 1000;

static int apply(cc_cmd m)
{
    cc_events_clear(&ev);
    return cc_apply(c, &m, clock_ms, &ev);
}

static void sms_text(uint32_t customer, uint32_t queue, str text)
{
    char num[24], ep[24], id[32];
    snprintf(num, sizeof num, "+4670%07u", customer);
    snprintf(ep, sizeof ep, "+46100%04u", queue);
    snprintf(id, sizeof id, "kannel-%u", customer);
    must(apply((cc_cmd){.type = CC_CMD_SMS_IN, .number = str_c(num), .ep_number = str_c(ep),
                        .text = text, .msg_id = str_c(id)}),
         "sms_in");
}

static void sms(uint32_t customer, uint32_t queue)
{
    sms_text(customer, queue, STR_LIT("Hej, jag behöver hjälp"));
}

/* The skills world's rules, shared by the core's setup and the scan. */
static uint32_t team1_of(uint32_t q)
{
    return 1 + q % TEAMS;
}
static uint32_t team2_of(uint32_t q)
{
    return 1 + (q * 7 + 3) % TEAMS;
}
static uint32_t product_of(uint32_t q)
{
    return 1 + q % (SKILLS - 1);
}
static uint32_t rnd32(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return (uint32_t)(*s >> 11);
}

/* Agent a's skills: a product some queue of its team wants (level 2..5),
 * two more at random (1..5), Svenska for every other agent. */
static size_t agent_skills(uint32_t a, uint64_t *seed, cc_skill *out)
{
    uint32_t team = 1 + a % TEAMS, want = 0;
    for (uint32_t q = 1 + rnd32(seed) % QUEUES, k = 0; k < QUEUES; k++, q = 1 + q % QUEUES)
        if (team1_of(q) == team || team2_of(q) == team) {
            want = product_of(q);
            break;
        }
    size_t n = 0;
    out[n++] = (cc_skill){want, 2 + rnd32(seed) % 4};
    for (int i = 0; i < 2; i++) {
        uint32_t s = 1 + rnd32(seed) % (SKILLS - 1), dup = 0;
        for (size_t k = 0; k < n; k++)
            dup |= out[k].skill == s;
        if (!dup)
            out[n++] = (cc_skill){s, 1 + rnd32(seed) % 5};
    }
    if (a % 2)
        out[n++] = (cc_skill){SVENSKA, 1 + rnd32(seed) % 5};
    return n;
}

typedef struct lin_sagent {
    int64_t idle_since;
    uint32_t team, load, cap, id;
    uint8_t level[SKILLS + 1];
} lin_sagent;

/* The baseline with skills: every agent scanned for team, minimums, best
 * match (proficiency sum), then longest idle. */
static double skill_linear_rate(uint32_t decisions)
{
    lin_sagent *a = calloc(AGENTS, sizeof *a);
    uint64_t seed = 42;
    for (uint32_t i = 0; i < AGENTS; i++) {
        cc_skill sk[4];
        size_t n = agent_skills(i + 1, &seed, sk);
        a[i] = (lin_sagent){.idle_since = i, .team = 1 + (i + 1) % TEAMS, .cap = 3, .id = i};
        for (size_t k = 0; k < n; k++)
            a[i].level[sk[k].skill] = (uint8_t)sk[k].level;
    }
    double t0 = now_s();
    uint64_t sink = 0;
    uint32_t made = 0;
    for (uint32_t d = 0; made < decisions && d < 4 * decisions + QUEUES; d++) {
        uint32_t q = 1 + d % QUEUES, t1 = team1_of(q), t2 = team2_of(q), p = product_of(q);
        int sv = (d / QUEUES) % 2;
        lin_sagent *best = NULL;
        uint32_t best_score = 0;
        for (uint32_t i = 0; i < AGENTS; i++) {
            lin_sagent *x = &a[i];
            if ((x->team != t1 && x->team != t2) || x->load >= x->cap || x->level[p] < 2 ||
                (sv && x->level[SVENSKA] < 1))
                continue;
            uint32_t score = x->level[p] + (sv ? x->level[SVENSKA] : 0);
            if (!best || score > best_score ||
                (score == best_score && x->idle_since < best->idle_since)) {
                best = x;
                best_score = score;
            }
        }
        if (!best)
            continue;
        best->load++;
        best->idle_since = AGENTS + d;
        sink += best->team;
        made++;
    }
    double t = now_s() - t0;
    free(a);
    if (sink == 42)
        printf("#\n");
    return made / t;
}

/* World 2: skills. Returns the routing decision rate. */
static double skill_routing_rate(uint64_t *offers_out)
{
    c = cc_new();
    char name[32];
    for (uint32_t s = 1; s <= SKILLS; s++) {
        snprintf(name, sizeof name, s == SVENSKA ? "Svenska" : "product %u", s);
        must(apply((cc_cmd){.type = CC_CMD_SKILL_PUT, .skill = s, .name = str_c(name)}),
             "skill");
    }
    for (uint32_t t = 1; t <= TEAMS; t++) {
        snprintf(name, sizeof name, "team %u", t);
        must(apply((cc_cmd){.type = CC_CMD_TEAM_PUT, .team = t, .name = str_c(name)}), "team");
    }
    cc_ep_flow flow = {.words = {{STR_LIT("svenska"), {SVENSKA, 1}}}, .n_words = 1};
    for (uint32_t q = 1; q <= QUEUES; q++) {
        uint32_t teams[2] = {team1_of(q), team2_of(q)};
        cc_skill need = {product_of(q), 2};
        char ep[24];
        snprintf(name, sizeof name, "queue %u", q);
        snprintf(ep, sizeof ep, "+46100%04u", q);
        must(apply((cc_cmd){.type = CC_CMD_QUEUE_PUT, .queue = q, .name = str_c(name),
                            .ids = teams, .n_ids = 2, .skills = &need, .n_skills = 1}),
             "queue");
        must(apply((cc_cmd){.type = CC_CMD_EP_PUT, .ep = q, .number = str_c(ep), .queue = q,
                            .flow = &flow}),
             "ep");
    }
    uint64_t seed = 42;
    for (uint32_t a = 1; a <= AGENTS; a++) {
        uint32_t team = 1 + a % TEAMS;
        cc_skill sk[4];
        size_t n = agent_skills(a, &seed, sk);
        snprintf(name, sizeof name, "agent %u", a);
        must(apply((cc_cmd){.type = CC_CMD_AGENT_PUT, .agent = a, .name = str_c(name),
                            .ids = &team, .n_ids = 1, .capacity = 3, .skills = sk,
                            .n_skills = n}),
             "agent");
        must(apply((cc_cmd){.type = CC_CMD_LOGIN, .agent = a}), "login");
    }
    for (uint32_t i = 0; i < CONVS; i++) {
        clock_ms++;
        uint32_t q = 1 + i % QUEUES;
        sms_text(i, q, (i / QUEUES) % 2 ? STR_LIT("Hej, kan ni ta det på svenska?")
                                        : STR_LIT("Hello, I need help"));
    }
    uint64_t offers = 0;
    double t0 = now_s();
    for (uint32_t a = 1; a <= AGENTS; a++) {
        must(apply((cc_cmd){.type = CC_CMD_SET_STATE, .agent = a,
                            .state = CC_AGENT_AVAILABLE}),
             "available");
        for (size_t i = 0; i < ev.n; i++)
            offers += ev.v[i].type == CC_EV_OFFERED;
    }
    double rate = offers / (now_s() - t0);
    cc_free(c);
    c = NULL;
    *offers_out = offers;
    return rate;
}

/* The baseline: pick the longest-waiting ready agent of a queue's teams by
 * scanning all agents, as a routing loop without an index would. */
typedef struct lin_agent {
    int64_t idle_since;
    uint32_t team, load, cap;
} lin_agent;

static double linear_scan_rate(uint32_t decisions)
{
    lin_agent *a = calloc(AGENTS, sizeof *a);
    for (uint32_t i = 0; i < AGENTS; i++)
        a[i] = (lin_agent){i, i % TEAMS, 0, 3};
    double t0 = now_s();
    uint64_t sink = 0;
    for (uint32_t d = 0; d < decisions; d++) {
        uint32_t q = d % QUEUES, t1 = q % TEAMS, t2 = (q * 7 + 3) % TEAMS;
        lin_agent *best = NULL;
        for (uint32_t i = 0; i < AGENTS; i++) {
            lin_agent *x = &a[i];
            if ((x->team == t1 || x->team == t2) && x->load < x->cap &&
                (!best || x->idle_since < best->idle_since))
                best = x;
        }
        if (!best)
            break;
        best->load++;
        best->idle_since = AGENTS + d;
        sink += best->team;
    }
    double t = now_s() - t0;
    free(a);
    if (sink == 42)
        printf("#\n");
    return decisions / t;
}

int main(void)
{
    c = cc_new();
    cc_events_init(&ev);
    char name[32];
    for (uint32_t t = 1; t <= TEAMS; t++) {
        snprintf(name, sizeof name, "team %u", t);
        must(apply((cc_cmd){.type = CC_CMD_TEAM_PUT, .team = t, .name = str_c(name)}), "team");
    }
    must(apply((cc_cmd){.type = CC_CMD_REASON_PUT, .reason = 1, .name = STR_LIT("Solved")}),
         "reason");
    for (uint32_t q = 1; q <= QUEUES; q++) {
        uint32_t teams[2] = {1 + q % TEAMS, 1 + (q * 7 + 3) % TEAMS};
        char ep[24];
        snprintf(name, sizeof name, "queue %u", q);
        snprintf(ep, sizeof ep, "+46100%04u", q);
        must(apply((cc_cmd){.type = CC_CMD_QUEUE_PUT, .queue = q, .name = str_c(name),
                            .ids = teams, .n_ids = 2}),
             "queue");
        must(apply((cc_cmd){.type = CC_CMD_EP_PUT, .ep = q, .number = str_c(ep), .queue = q}),
             "ep");
    }
    for (uint32_t a = 1; a <= AGENTS; a++) {
        uint32_t team = 1 + a % TEAMS;
        snprintf(name, sizeof name, "agent %u", a);
        must(apply((cc_cmd){.type = CC_CMD_AGENT_PUT, .agent = a, .name = str_c(name),
                            .ids = &team, .n_ids = 1, .capacity = 3}),
             "agent");
        must(apply((cc_cmd){.type = CC_CMD_LOGIN, .agent = a}), "login");
    }

    /* A: 100,000 conversations queued while every agent is Idle */
    struct mallinfo2 m0 = mallinfo2();
    double t0 = now_s();
    for (uint32_t i = 0; i < CONVS; i++) {
        clock_ms++;
        sms(i, 1 + i % QUEUES);
    }
    double ingest = CONVS / (now_s() - t0);
    struct mallinfo2 m1 = mallinfo2();
    double per_conv = (double)(m1.uordblks - m0.uordblks) / CONVS;

    /* B: every agent turns Available; each gets offers up to capacity */
    uint64_t offers = 0;
    t0 = now_s();
    for (uint32_t a = 1; a <= AGENTS; a++) {
        must(apply((cc_cmd){.type = CC_CMD_SET_STATE, .agent = a,
                            .state = CC_AGENT_AVAILABLE}),
             "available");
        for (size_t i = 0; i < ev.n; i++)
            offers += ev.v[i].type == CC_EV_OFFERED;
    }
    double routing = offers / (now_s() - t0);
    double linear = linear_scan_rate((uint32_t)offers);

    /* C: cycles. Keep a list of pending offers; accept, end, wrap up; the
     * freed slot is offered the next waiting conversation at once; a new
     * inbound SMS keeps 100,000 open. */
    uint32_t *pend_conv = malloc((offers + CYCLES + 16) * sizeof *pend_conv);
    uint32_t *pend_agent = malloc((offers + CYCLES + 16) * sizeof *pend_agent);
    size_t head = 0, tail = 0;
    /* collect B's offers again from the core: walk every conversation id */
    for (uint32_t id = 1; id <= CONVS; id++) {
        cc_conv_view v;
        if (cc_conv_get(c, id, &v) == 0 && v.state == CC_CONV_OFFERED) {
            pend_conv[tail] = id;
            pend_agent[tail++] = v.offered_to;
        }
    }
    uint32_t next_customer = CONVS;
    uint64_t cycles = 0;
    t0 = now_s();
    while (cycles < CYCLES && head < tail) {
        uint32_t conv = pend_conv[head], agent = pend_agent[head];
        head++;
        clock_ms++;
        must(apply((cc_cmd){.type = CC_CMD_ACCEPT, .agent = agent, .conv = conv}), "accept");
        must(apply((cc_cmd){.type = CC_CMD_END, .agent = agent, .conv = conv}), "end");
        must(apply((cc_cmd){.type = CC_CMD_WRAPUP, .agent = agent, .conv = conv, .reason = 1}),
             "wrapup");
        for (size_t i = 0; i < ev.n; i++)
            if (ev.v[i].type == CC_EV_OFFERED) {
                pend_conv[tail] = ev.v[i].conv;
                pend_agent[tail++] = ev.v[i].agent;
            }
        sms(next_customer, 1 + next_customer % QUEUES);
        next_customer++;
        for (size_t i = 0; i < ev.n; i++)
            if (ev.v[i].type == CC_EV_OFFERED) {
                pend_conv[tail] = ev.v[i].conv;
                pend_agent[tail++] = ev.v[i].agent;
            }
        cycles++;
    }
    double cycle_rate = cycles / (now_s() - t0);

    printf("core_agents: %u agents\n", AGENTS);
    printf("core_queues: %u queues\n", QUEUES);
    printf("core_open_conversations: %zu conversations\n", cc_conv_count(c));
    printf("core_bytes_per_conversation: %.0f bytes\n", per_conv);
    printf("core_ingest_rate: %.0f sms/s\n", ingest);
    printf("core_routing_decisions: %.0f decisions/s\n", routing);
    printf("core_linear_scan_decisions: %.0f decisions/s\n", linear);
    printf("core_routing_vs_linear_scan: %.1f x\n", routing / linear);
    printf("core_cycles: %.0f cycles/s\n", cycle_rate);
    free(pend_conv);
    free(pend_agent);
    cc_free(c);

    uint64_t skill_offers;
    double skill_rate = skill_routing_rate(&skill_offers);
    double skill_linear = skill_linear_rate((uint32_t)skill_offers);
    printf("core_skills: %u skills\n", SKILLS);
    printf("core_skill_offers: %llu offers\n", (unsigned long long)skill_offers);
    printf("core_skill_routing_decisions: %.0f decisions/s\n", skill_rate);
    printf("core_skill_linear_scan_decisions: %.0f decisions/s\n", skill_linear);
    printf("core_skill_routing_vs_linear_scan: %.1f x\n", skill_rate / skill_linear);
    printf("core_skill_vs_team_routing: %.2f x\n", skill_rate / routing);
    cc_events_free(&ev);
    return 0;
}
