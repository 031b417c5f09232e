/*
 * Skills-based routing in the core: agents' proficiencies, queues' and
 * flows' minimums, skills added on transfer, best match then longest idle,
 * widening, and the removal rules. Bad inputs change nothing (the fixture
 * asserts that every refused command emits nothing) and every test ends
 * with the replay comparison.
 *
 * On top of the fixture's demo: skills 1 Svenska, 2 Fakturor, 3 English.
 */
#include "cc_fixture.h"

#define ST(s) CC_AGENT_##s
#define SK(...) ((const cc_skill[]){__VA_ARGS__})
#define NSK(...) (sizeof((const cc_skill[]){__VA_ARGS__}) / sizeof(cc_skill))

static const uint32_t t1[] = {1}, t12[] = {1, 2};

static int skills_setup(void **state)
{
    fx_setup(state);
    fx *f = *state;
    OK(f, .type = CC_CMD_SKILL_PUT, .skill = 1, .name = STR_LIT("Svenska"));
    OK(f, .type = CC_CMD_SKILL_PUT, .skill = 2, .name = STR_LIT("Fakturor"));
    OK(f, .type = CC_CMD_SKILL_PUT, .skill = 3, .name = STR_LIT("English"));
    return 0;
}

#define SK_TEST(fn) cmocka_unit_test_setup_teardown(fn, skills_setup, fx_teardown)

static void put_agent(fx *f, uint32_t id, const char *name, const uint32_t *teams, size_t nt,
                      const cc_skill *s, size_t n, uint32_t capacity)
{
    OK(f, .type = CC_CMD_AGENT_PUT, .agent = id, .name = str_c(name), .ids = teams,
       .n_ids = nt, .skills = s, .n_skills = n, .capacity = capacity);
}

static void put_queue1(fx *f, const cc_skill *s, size_t n, int64_t widen_ms)
{
    OK(f, .type = CC_CMD_QUEUE_PUT, .queue = 1, .name = STR_LIT("Support"), .ids = t1,
       .n_ids = 1, .skills = s, .n_skills = n, .widen_ms = widen_ms);
}

static uint32_t offered_to(const fx *f, uint32_t conv)
{
    const cc_event *o = fx_find(f, CC_EV_OFFERED, conv);
    return o ? o->agent : 0;
}

static void test_skill_config_and_bad_input(void **state)
{
    fx *f = *state;
    ERR(f, CC_E_INVALID, .type = CC_CMD_SKILL_PUT, .skill = 0, .name = STR_LIT("x"));
    ERR(f, CC_E_INVALID, .type = CC_CMD_SKILL_PUT, .skill = CC_MAX_ID, .name = STR_LIT("x"));
    ERR(f, CC_E_INVALID, .type = CC_CMD_SKILL_PUT, .skill = 4, .name = STR_LIT(""));
    ERR(f, CC_E_INVALID, .type = CC_CMD_SKILL_PUT, .skill = 4, .name = STR_LIT("\xff"));
    /* agents: levels 1..5, configured skills, each once, at most 32 */
    ERR(f, CC_E_INVALID, .type = CC_CMD_AGENT_PUT, .agent = 1, .name = STR_LIT("Anna"),
        .ids = t1, .n_ids = 1, .skills = SK({1, 0}), .n_skills = 1);
    ERR(f, CC_E_INVALID, .type = CC_CMD_AGENT_PUT, .agent = 1, .name = STR_LIT("Anna"),
        .ids = t1, .n_ids = 1, .skills = SK({1, 6}), .n_skills = 1);
    ERR(f, CC_E_INVALID, .type = CC_CMD_AGENT_PUT, .agent = 1, .name = STR_LIT("Anna"),
        .ids = t1, .n_ids = 1, .skills = SK({1, 2}, {1, 3}), .n_skills = 2);
    ERR(f, CC_E_NO_SKILL, .type = CC_CMD_AGENT_PUT, .agent = 1, .name = STR_LIT("Anna"),
        .ids = t1, .n_ids = 1, .skills = SK({9, 2}), .n_skills = 1);
    cc_skill many[CC_SKILLS_MAX + 1];
    for (uint32_t i = 0; i <= CC_SKILLS_MAX; i++)
        many[i] = (cc_skill){i + 1, 1};
    ERR(f, CC_E_INVALID, .type = CC_CMD_AGENT_PUT, .agent = 1, .name = STR_LIT("Anna"),
        .ids = t1, .n_ids = 1, .skills = many, .n_skills = CC_SKILLS_MAX + 1);
    ERR(f, CC_E_INVALID, .type = CC_CMD_AGENT_PUT, .agent = 1, .name = STR_LIT("Anna"),
        .ids = t1, .n_ids = 1, .skills = NULL, .n_skills = 1);
    /* queues: the same, and no negative widening */
    ERR(f, CC_E_INVALID, .type = CC_CMD_QUEUE_PUT, .queue = 1, .name = STR_LIT("Support"),
        .ids = t1, .n_ids = 1, .widen_ms = -1);
    ERR(f, CC_E_NO_SKILL, .type = CC_CMD_QUEUE_PUT, .queue = 1, .name = STR_LIT("Support"),
        .ids = t1, .n_ids = 1, .skills = SK({7, 1}), .n_skills = 1);
    ERR(f, CC_E_INVALID, .type = CC_CMD_QUEUE_PUT, .queue = 1, .name = STR_LIT("Support"),
        .ids = t1, .n_ids = 1, .skills = SK({1, 9}), .n_skills = 1);
    /* the views show what was put, ascending by skill */
    put_agent(f, 1, "Anna Berg", t1, 1, SK({3, 4}, {1, 5}), 2, 0);
    const cc_event *e = fx_find(f, CC_EV_AGENT_SKILLS, 0);
    assert_non_null(e);
    assert_int_equal(e->n_ids, 2);
    cc_skill got[4];
    assert_int_equal(cc_agent_skills(f->c, 1, got, 4), 2);
    assert_int_equal(got[0].skill, 1);
    assert_int_equal(got[0].level, 5);
    assert_int_equal(got[1].skill, 3);
    assert_int_equal(got[1].level, 4);
    put_queue1(f, SK({2, 3}), 1, 15000);
    cc_queue_view q;
    assert_int_equal(cc_queue_get(f->c, 1, &q), 0);
    assert_int_equal(q.n_skills, 1);
    assert_int_equal(q.skills[0].skill, 2);
    assert_int_equal(q.skills[0].level, 3);
    assert_int_equal(q.widen_ms, 15000);
    /* a put without skills clears them (and emits no skills event) */
    put_agent(f, 1, "Anna Berg", t1, 1, NULL, 0, 0);
    assert_null(fx_find(f, CC_EV_AGENT_SKILLS, 0));
    assert_int_equal(cc_agent_skills(f->c, 1, got, 4), 0);
    assert_string_equal(cc_name(f->c, CC_KIND_SKILL, 2).p, "Fakturor");
    assert_int_equal(cc_list(f->c, CC_KIND_SKILL, NULL, 0), 3);
}

static void test_best_match_then_longest_idle(void **state)
{
    fx *f = *state;
    put_queue1(f, SK({1, 2}), 1, 0);
    put_agent(f, 1, "Anna Berg", t1, 1, SK({1, 3}), 1, 3);
    put_agent(f, 2, "Erik Lund", t1, 1, SK({1, 5}), 1, 1);
    put_agent(f, 3, "Maja Ek", t12, 2, SK({1, 1}), 1, 3); /* below the minimum */
    fx_available(f, 3); /* Maja has waited longest, but is not eligible */
    f->now += 1000;
    fx_available(f, 1);
    f->now += 1000;
    fx_available(f, 2);
    uint32_t a = fx_sms(f, "+46701", EP1, "Hej", "1");
    assert_int_equal(offered_to(f, a), 2); /* best proficiency first */
    uint32_t b = fx_sms(f, "+46702", EP1, "Hej", "2");
    assert_int_equal(offered_to(f, b), 1); /* Erik is full: the next best */
    assert_true(cc_eligible(f->c, 1, b));
    /* Maja never gets one while the minimum holds */
    uint32_t d[3];
    for (int i = 0; i < 3; i++) {
        char num[32];
        snprintf(num, sizeof num, "+4671%d", i);
        d[i] = fx_sms(f, num, EP1, "Hej", num);
    }
    assert_int_equal(fx_conv(f, d[0]).state, CC_CONV_OFFERED);
    assert_int_equal(fx_conv(f, d[1]).state, CC_CONV_OFFERED);
    assert_int_equal(fx_conv(f, d[2]).state, CC_CONV_QUEUED);
    assert_false(cc_eligible(f->c, 3, d[2]));
    assert_int_equal(cc_queue_depth(f->c, 1), 1);
    /* equal proficiency: longest idle first */
    put_queue1(f, SK({1, 1}), 1, 0); /* now Maja qualifies and takes it */
    assert_int_equal(offered_to(f, d[2]), 3);
}

static void test_equal_match_longest_idle_wins(void **state)
{
    fx *f = *state;
    put_queue1(f, SK({1, 2}), 1, 0);
    put_agent(f, 1, "Anna Berg", t1, 1, SK({1, 4}), 1, 1);
    put_agent(f, 2, "Erik Lund", t1, 1, SK({1, 4}), 1, 1);
    fx_available(f, 2);
    f->now += 1000;
    fx_available(f, 1);
    uint32_t a = fx_sms(f, "+46701", EP1, "Hej", "1");
    assert_int_equal(offered_to(f, a), 2);
    uint32_t b = fx_sms(f, "+46702", EP1, "Hej", "2");
    assert_int_equal(offered_to(f, b), 1);
}

static void test_flow_word_adds_skill_and_head_does_not_block(void **state)
{
    fx *f = *state;
    cc_ep_flow flow = {0};
    flow.words[0] = (cc_flow_word){STR_LIT("svenska"), {1, 2}};
    flow.n_words = 1;
    flow.skills[0] = (cc_skill){3, 1};
    flow.n_skills = 1;
    /* a word with a blank or an unknown skill is refused */
    cc_ep_flow bad = flow;
    bad.words[0].word = STR_LIT("sv enska");
    ERR(f, CC_E_INVALID, .type = CC_CMD_EP_PUT, .ep = 1, .number = STR_LIT(EP1), .queue = 1,
        .flow = &bad);
    bad = flow;
    bad.words[0].skill.skill = 42;
    ERR(f, CC_E_NO_SKILL, .type = CC_CMD_EP_PUT, .ep = 1, .number = STR_LIT(EP1), .queue = 1,
        .flow = &bad);
    OK(f, .type = CC_CMD_EP_PUT, .ep = 1, .number = STR_LIT(EP1), .queue = 1, .flow = &flow);
    put_agent(f, 1, "Anna Berg", t1, 1, SK({3, 5}), 1, 3);           /* English only */
    put_agent(f, 2, "Erik Lund", t1, 1, SK({1, 4}, {3, 1}), 2, 3);   /* Swedish */
    /* the Swedish customer waits: nobody Swedish is there */
    uint32_t sv = fx_sms(f, "+46701", EP1, "Hej! Kan ni svara på SVENSKA?", "1");
    const cc_event *ks = fx_find(f, CC_EV_CONV_SKILLS, sv);
    assert_non_null(ks);
    assert_int_equal(ks->agent, 0);
    assert_int_equal(ks->n_ids, 2);
    cc_skill got[4];
    assert_int_equal(cc_conv_skills(f->c, sv, got, 4), 2);
    assert_int_equal(got[0].skill, 1);
    assert_int_equal(got[0].level, 2);
    f->now += 1000;
    /* "svenskan" is not the word */
    uint32_t en = fx_sms(f, "+46702", EP1, "Hello, svenskan no", "2");
    assert_int_equal(cc_conv_skills(f->c, en, got, 4), 1);
    fx_available(f, 1);
    /* the waiting Swedish head does not block the English one behind it */
    assert_int_equal(fx_conv(f, en).state, CC_CONV_OFFERED);
    assert_int_equal(fx_conv(f, en).offered_to, 1);
    assert_int_equal(fx_conv(f, sv).state, CC_CONV_QUEUED);
    fx_available(f, 2);
    assert_int_equal(offered_to(f, sv), 2);
}

static void test_widening_falls_back_step_by_step(void **state)
{
    fx *f = *state;
    put_queue1(f, SK({1, 2}), 1, 10000);
    put_agent(f, 1, "Anna Berg", t1, 1, NULL, 0, 3); /* no Swedish at all */
    fx_available(f, 1);
    int64_t t0 = f->now;
    uint32_t a = fx_sms(f, "+46701", EP1, "Hej", "1");
    assert_int_equal(fx_conv(f, a).state, CC_CONV_QUEUED);
    assert_int_equal(cc_next_deadline(f->c), t0 + 10000);
    fx_tick(f, 9999);
    assert_int_equal(f->ev.n, 0);
    fx_tick(f, 1); /* one level down: Swedish 1 still required */
    const cc_event *w = fx_find(f, CC_EV_WIDENED, a);
    assert_non_null(w);
    assert_int_equal(w->kind, 1);
    assert_int_equal(fx_conv(f, a).widened, 1);
    assert_int_equal(fx_conv(f, a).state, CC_CONV_QUEUED);
    assert_false(cc_eligible(f->c, 1, a));
    fx_tick(f, 10000); /* nothing required any more: Anna gets it */
    assert_int_equal(fx_find(f, CC_EV_WIDENED, a)->kind, 2);
    assert_int_equal(offered_to(f, a), 1);
    /* a Swedish agent is still preferred after widening (best match) */
    put_agent(f, 2, "Erik Lund", t1, 1, SK({1, 1}), 1, 3);
    uint32_t b = fx_sms(f, "+46702", EP1, "Hej", "2");
    fx_tick(f, 10000);
    assert_int_equal(fx_conv(f, b).widened, 1);
    fx_available(f, 2);
    assert_int_equal(offered_to(f, b), 2);
    /* no more steps than levels, and none once the conversation is taken */
    OK(f, .type = CC_CMD_ACCEPT, .agent = 1, .conv = a);
    OK(f, .type = CC_CMD_ACCEPT, .agent = 2, .conv = b);
    fx_tick(f, 100000);
    assert_null(fx_find(f, CC_EV_WIDENED, 0));
}

static void test_widening_never_skips_an_older_conversation(void **state)
{
    fx *f = *state;
    put_queue1(f, SK({1, 2}), 1, 10000);
    put_agent(f, 1, "Anna Berg", t1, 1, NULL, 0, 1);
    fx_available(f, 1);
    uint32_t older = fx_sms(f, "+46701", EP1, "Hej", "1");
    f->now += 3000;
    uint32_t newer = fx_sms(f, "+46702", EP1, "Hej", "2");
    /* both widen; the older first, and it is the one offered */
    fx_tick(f, 17000); /* older at 20 s: level 2; newer at 17 s: level 1 */
    assert_int_equal(offered_to(f, older), 1);
    assert_int_equal(fx_conv(f, newer).state, CC_CONV_QUEUED);
    fx_tick(f, 3000);
    assert_int_equal(fx_conv(f, newer).widened, 2);
    assert_int_equal(fx_conv(f, newer).state, CC_CONV_QUEUED); /* Anna is full */
    /* declined: the older keeps its place and comes back first */
    OK(f, .type = CC_CMD_DECLINE, .agent = 1, .conv = older);
    assert_int_equal(offered_to(f, older), 1);
    assert_int_equal(fx_conv(f, newer).state, CC_CONV_QUEUED);
}

static void test_transfer_adds_skills(void **state)
{
    fx *f = *state;
    put_agent(f, 1, "Anna Berg", t1, 1, NULL, 0, 3);
    put_agent(f, 2, "Erik Lund", t1, 1, SK({2, 2}), 1, 3);
    put_agent(f, 3, "Maja Ek", t12, 2, SK({2, 5}), 1, 3);
    fx_available(f, 1);
    uint32_t a = fx_sms(f, "+46701", EP1, "Fakturan är fel", "1");
    OK(f, .type = CC_CMD_ACCEPT, .agent = 1, .conv = a);
    ERR(f, CC_E_NO_SKILL, .type = CC_CMD_TRANSFER_QUEUE, .agent = 1, .conv = a, .queue = 1,
        .skills = SK({8, 2}), .n_skills = 1);
    ERR(f, CC_E_INVALID, .type = CC_CMD_TRANSFER_QUEUE, .agent = 1, .conv = a, .queue = 1,
        .skills = SK({2, 0}), .n_skills = 1);
    assert_int_equal(fx_conv(f, a).owner, 1);
    OK(f, .type = CC_CMD_TRANSFER_QUEUE, .agent = 1, .conv = a, .queue = 1,
       .skills = SK({2, 3}), .n_skills = 1);
    const cc_event *k = fx_find(f, CC_EV_CONV_SKILLS, a);
    assert_non_null(k);
    assert_int_equal(k->agent, 1);
    assert_int_equal(fx_conv(f, a).state, CC_CONV_QUEUED); /* nobody ready has it */
    fx_available(f, 2); /* Erik: Fakturor 2 < 3 */
    assert_int_equal(fx_conv(f, a).state, CC_CONV_QUEUED);
    fx_available(f, 3);
    assert_int_equal(offered_to(f, a), 3);
    OK(f, .type = CC_CMD_ACCEPT, .agent = 3, .conv = a);
    /* a second transfer keeps the higher level of a skill named again */
    OK(f, .type = CC_CMD_TRANSFER_QUEUE, .agent = 3, .conv = a, .queue = 1,
       .skills = SK({2, 1}, {1, 1}), .n_skills = 2);
    cc_skill got[4];
    assert_int_equal(cc_conv_skills(f->c, a, got, 4), 2);
    assert_int_equal(got[1].skill, 2);
    assert_int_equal(got[1].level, 3);
}

static void test_changes_of_agents_and_queues_reroute(void **state)
{
    fx *f = *state;
    put_queue1(f, SK({2, 4}), 1, 0);
    put_agent(f, 1, "Anna Berg", t1, 1, SK({2, 3}), 1, 3);
    fx_available(f, 1);
    uint32_t a = fx_sms(f, "+46701", EP1, "Hej", "1");
    assert_int_equal(fx_conv(f, a).state, CC_CONV_QUEUED);
    /* Anna learns: offered at once */
    put_agent(f, 1, "Anna Berg", t1, 1, SK({2, 4}), 1, 3);
    assert_int_equal(offered_to(f, a), 1);
    uint32_t b = fx_sms(f, "+46702", EP1, "Hej", "2");
    assert_int_equal(offered_to(f, b), 1);
    put_agent(f, 2, "Erik Lund", t1, 1, SK({2, 1}), 1, 3);
    fx_available(f, 2);
    OK(f, .type = CC_CMD_SET_STATE, .agent = 1, .state = ST(IDLE));
    uint32_t d = fx_sms(f, "+46703", EP1, "Hej", "3");
    assert_int_equal(fx_conv(f, d).state, CC_CONV_QUEUED);
    /* the queue asks less: Erik gets it */
    put_queue1(f, SK({2, 1}), 1, 0);
    assert_int_equal(offered_to(f, d), 2);
    /* removing an agent that was eligible leaves no trace in the index */
    OK(f, .type = CC_CMD_DECLINE, .agent = 2, .conv = d);
    OK(f, .type = CC_CMD_SET_STATE, .agent = 2, .state = ST(IDLE));
    OK(f, .type = CC_CMD_AGENT_REMOVE, .agent = 2);
    put_agent(f, 2, "Erik Lund", t1, 1, SK({2, 1}), 1, 3);
    fx_available(f, 2);
    assert_int_equal(offered_to(f, d), 2);
}

static void test_skill_removal_rules(void **state)
{
    fx *f = *state;
    ERR(f, CC_E_NO_SKILL, .type = CC_CMD_SKILL_REMOVE, .skill = 9);
    put_agent(f, 1, "Anna Berg", t1, 1, SK({1, 3}), 1, 3);
    ERR(f, CC_E_IN_USE, .type = CC_CMD_SKILL_REMOVE, .skill = 1);
    put_agent(f, 1, "Anna Berg", t1, 1, NULL, 0, 3);
    put_queue1(f, SK({1, 1}), 1, 0);
    ERR(f, CC_E_IN_USE, .type = CC_CMD_SKILL_REMOVE, .skill = 1);
    put_queue1(f, NULL, 0, 0);
    cc_ep_flow flow = {0};
    flow.words[0] = (cc_flow_word){STR_LIT("svenska"), {1, 1}};
    flow.n_words = 1;
    OK(f, .type = CC_CMD_EP_PUT, .ep = 1, .number = STR_LIT(EP1), .queue = 1, .flow = &flow);
    ERR(f, CC_E_IN_USE, .type = CC_CMD_SKILL_REMOVE, .skill = 1);
    uint32_t a = fx_sms(f, "+46701", EP1, "svenska", "1");
    OK(f, .type = CC_CMD_EP_PUT, .ep = 1, .number = STR_LIT(EP1), .queue = 1);
    /* an open conversation still requires it */
    ERR(f, CC_E_IN_USE, .type = CC_CMD_SKILL_REMOVE, .skill = 1);
    fx_available(f, 1);
    assert_int_equal(offered_to(f, a), 0);
    put_agent(f, 1, "Anna Berg", t1, 1, SK({1, 1}), 1, 3);
    OK(f, .type = CC_CMD_ACCEPT, .agent = 1, .conv = a);
    OK(f, .type = CC_CMD_END, .agent = 1, .conv = a);
    OK(f, .type = CC_CMD_WRAPUP, .agent = 1, .conv = a, .reason = 1);
    put_agent(f, 1, "Anna Berg", t1, 1, NULL, 0, 3);
    OK(f, .type = CC_CMD_SKILL_REMOVE, .skill = 1);
    assert_non_null(fx_find(f, CC_EV_SKILL_REMOVED, 0));
    assert_null(cc_name(f->c, CC_KIND_SKILL, 1).p);
    ERR(f, CC_E_NO_SKILL, .type = CC_CMD_AGENT_PUT, .agent = 1, .name = STR_LIT("Anna"),
        .ids = t1, .n_ids = 1, .skills = SK({1, 1}), .n_skills = 1);
}

static void test_replay_refuses_bad_skill_events(void **state)
{
    fx *f = *state;
    cc *r = cc_new();
    uint32_t bad = cc_skill_pack((cc_skill){5, 2}); /* no skill 5 */
    cc_event ev = {.type = CC_EV_AGENT_SKILLS, .seq = 1, .agent = 1, .ids = &bad, .n_ids = 1};
    assert_int_equal(cc_replay(r, &ev), -CC_E_NO_SKILL);
    ev = (cc_event){.type = CC_EV_SKILL_PUT, .seq = 1, .target = 5, .name = STR_LIT("x")};
    assert_int_equal(cc_replay(r, &ev), 0);
    bad = cc_skill_pack((cc_skill){5, 7}); /* level out of range */
    ev = (cc_event){.type = CC_EV_QUEUE_SKILLS, .seq = 2, .queue = 1, .ids = &bad, .n_ids = 1};
    assert_int_equal(cc_replay(r, &ev), -CC_E_NO_SKILL);
    ev = (cc_event){.type = CC_EV_WIDENED, .seq = 2, .conv = 1, .queue = 1, .kind = 1};
    assert_int_equal(cc_replay(r, &ev), -CC_E_NO_CONVERSATION);
    cc_free(r);
    (void)f;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        SK_TEST(test_skill_config_and_bad_input),
        SK_TEST(test_best_match_then_longest_idle),
        SK_TEST(test_equal_match_longest_idle_wins),
        SK_TEST(test_flow_word_adds_skill_and_head_does_not_block),
        SK_TEST(test_widening_falls_back_step_by_step),
        SK_TEST(test_widening_never_skips_an_older_conversation),
        SK_TEST(test_transfer_adds_skills),
        SK_TEST(test_changes_of_agents_and_queues_reroute),
        SK_TEST(test_skill_removal_rules),
        SK_TEST(test_replay_refuses_bad_skill_events),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
