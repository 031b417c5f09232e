#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>

#include "util/utf8.h"

static void test_counts_code_points(void **state)
{
    assert_int_equal(utf8_count("", 0), 0);
    assert_int_equal(utf8_count("abc", 3), 3);
    assert_int_equal(utf8_count("\xc3\xa5\xc3\xa4\xc3\xb6", 6), 3); /* åäö */
    assert_int_equal(utf8_count("\xe2\x82\xac", 3), 1);             /* € */
    assert_int_equal(utf8_count("\xf0\x9f\x98\x80", 4), 1);         /* 😀 */
}

static void test_rejects_invalid(void **state)
{
    assert_int_equal(utf8_count("\xff", 1), -1);
    assert_int_equal(utf8_count("\xc0\xaf", 2), -1);         /* overlong '/' */
    assert_int_equal(utf8_count("\xed\xa0\x80", 3), -1);     /* surrogate */
    assert_int_equal(utf8_count("\xf4\x90\x80\x80", 4), -1); /* > U+10FFFF */
    assert_int_equal(utf8_count("\xe2\x82", 2), -1);         /* truncated */
    assert_int_equal(utf8_count("a\x80", 2), -1);            /* lone continuation */
}

static void test_encode_round_trips(void **state)
{
    uint32_t cps[] = {0x41, 0xE5, 0x20AC, 0x1F600, 0x10FFFF};
    for (size_t i = 0; i < sizeof cps / sizeof cps[0]; i++) {
        char buf[4];
        size_t n = utf8_encode(cps[i], buf);
        assert_true(n > 0);
        uint32_t back;
        assert_int_equal(utf8_decode((const unsigned char *)buf, n, &back), n);
        assert_int_equal(back, cps[i]);
    }
    char buf[4];
    assert_int_equal(utf8_encode(0xD800, buf), 0);
    assert_int_equal(utf8_encode(0x110000, buf), 0);
}

/* utf8_trim cuts a message that snprintf cut inside a character. */
static void test_trim(void **state)
{
    char a[] = "Nattk\xc3\xb6", b[] = "Nattk\xc3", c[] = "ab\xff" "cd", d[] = "";
    assert_int_equal(utf8_trim(a), 7);
    assert_string_equal(a, "Nattk\xc3\xb6");
    assert_int_equal(utf8_trim(b), 5);
    assert_string_equal(b, "Nattk");
    assert_int_equal(utf8_trim(c), 2);
    assert_string_equal(c, "ab");
    assert_int_equal(utf8_trim(d), 0);
}

/* utf8_nul_replace: U+0000 becomes U+FFFD; a text without one is left alone. */
static void test_nul_replace(void **state)
{
    size_t n = 99;
    assert_null(utf8_nul_replace("Hej", 3, &n));
    assert_int_equal(n, 99);
    assert_null(utf8_nul_replace("", 0, &n));
    char *r = utf8_nul_replace("a\0b\0", 4, &n);
    assert_non_null(r);
    assert_int_equal(n, 8);
    assert_memory_equal(r, "a\xEF\xBF\xBD" "b\xEF\xBF\xBD", 8);
    assert_int_equal(utf8_count(r, n), 4);
    free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_counts_code_points),
        cmocka_unit_test(test_rejects_invalid),
        cmocka_unit_test(test_encode_round_trips),
        cmocka_unit_test(test_trim),
        cmocka_unit_test(test_nul_replace),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
