/*
 * test_gw_smpp: the SMPP gateway's memory of answered MOs, which decides
 * whether an MO is the SMSC delivering again one whose deliver_sm_resp was
 * lost with the link (gw_smpp.h). The gateway's wiring on the loop is
 * proven end to end by tests/e2e/smpp.test.mjs.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "../../../src/sms/gw_smpp.c"

static gw_smpp G;

static uint64_t H(const char *from, const char *text)
{
    return mo_hash(str_c(from), STR_LIT("71000"), str_c(text));
}

static void test_only_after_a_link_loss(void **st)
{
    (void)st;
    memset(&G, 0, sizeof G);
    uint64_t h = H("+46701234567", "Hej");
    recent_add(&G, h, 0, 1000, 0);
    /* the same text again on the same or a later link, no loss in
     * between: the customer wrote it twice */
    assert_int_equal(recent_redelivery(&G, h, 0, 2000), 0);
    assert_int_equal(recent_redelivery(&G, h, 1, 2000), 0);
    /* the link drops 4 s after our answer: it may not have arrived */
    recent_link_down(&G, 5000);
    assert_int_equal(recent_redelivery(&G, h, 0, 5001), 0); /* not on the old link */
    assert_int_equal(recent_redelivery(&G, H("+46701234567", "Hej!"), 1, 5001), 0);
    assert_int_equal(recent_redelivery(&G, H("+46709999999", "Hej"), 1, 5001), 0);
    assert_int_equal(recent_redelivery(&G, h, 1, 6000), 1);
    /* one redelivery matches once */
    assert_int_equal(recent_redelivery(&G, h, 1, 6001), 0);
}

static void test_old_answers_and_expiry(void **st)
{
    (void)st;
    memset(&G, 0, sizeof G);
    uint64_t a = H("+4670", "answered long before"), b = H("+4670", "could not answer");
    recent_add(&G, a, 0, 1000, 0);
    recent_add(&G, b, 0, 1000, 1); /* -ESTALE: the answer never left */
    recent_link_down(&G, 1000 + GW_SMPP_SUSPECT_MS + 1);
    assert_int_equal(G.nrecent, 1);
    assert_int_equal(recent_redelivery(&G, a, 1, 20000), 0);
    /* a stale one is suspect until the redelivery window ends */
    assert_int_equal(recent_redelivery(&G, b, 1, 1000 + GW_SMPP_REDELIVERY_MS + 1), 0);
    assert_int_equal(recent_redelivery(&G, b, 1, 1000 + GW_SMPP_REDELIVERY_MS), 1);
    /* and a later link loss forgets it once the window is over */
    recent_add(&G, b, 1, 1000, 1);
    recent_link_down(&G, 1000 + GW_SMPP_REDELIVERY_MS + 1);
    assert_int_equal(G.nrecent, 0);
}

static void test_bounded(void **st)
{
    (void)st;
    memset(&G, 0, sizeof G);
    for (uint64_t i = 0; i < RECENT_MAX + 5; i++)
        recent_add(&G, 100 + i, 0, 1000, 1);
    assert_int_equal(G.nrecent, RECENT_MAX);
    assert_int_equal(recent_redelivery(&G, 100, 1, 2000), 0);     /* the oldest went */
    assert_int_equal(recent_redelivery(&G, 100 + 5, 1, 2000), 1); /* the next stayed */
    assert_int_equal(recent_redelivery(&G, 100 + RECENT_MAX + 4, 1, 2000), 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_only_after_a_link_loss),
        cmocka_unit_test(test_old_answers_and_expiry),
        cmocka_unit_test(test_bounded),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
