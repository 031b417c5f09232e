/*
 * test_store_notes: the store's list of system-note event numbers
 * (STORE_ROW_T_NOTES, text for SQL) is the set the event table flags
 * CC_EVF_NOTE (cc.h): one declaration, and this test fails on any drift.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>

#include "core/cc.h"
#include "store/store_row.h"

static void test_notes_list_is_the_flagged_events(void **state)
{
    (void)state;
    int listed[CC_EV__COUNT] = {0};
    const char *p = STORE_ROW_T_NOTES;
    while (*p) {
        char *end;
        long t = strtol(p, &end, 10);
        assert_true(end != p);
        assert_true(t >= 0 && t < CC_EV__COUNT);
        listed[t] = 1;
        p = end;
        while (*p == ',' || *p == ' ')
            p++;
    }
    for (int t = 0; t < CC_EV__COUNT; t++)
        if (listed[t] != cc_ev_is_note(t))
            fail_msg("event %d (%s): flagged %d, listed %d", t, cc_ev_name(t),
                     cc_ev_is_note(t), listed[t]);
    assert_false(cc_ev_is_note(-1));
    assert_false(cc_ev_is_note(CC_EV__COUNT));
    assert_true(cc_ev_is_note(CC_EV_OPTED_IN));
    assert_false(cc_ev_is_note(CC_EV_MSG_IN));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_notes_list_is_the_flagged_events),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
