/* Unit tests for src/util/netaddr: address literals as proxies write them,
 * ranges, and the range test. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "util/netaddr.h"

static void fmt(const char *in, const char *want)
{
    netaddr a;
    char out[64];
    assert_int_equal(netaddr_parse(str_c(in), &a), 0);
    assert_int_equal(netaddr_format(&a, out, sizeof out), strlen(want));
    assert_string_equal(out, want);
}

static int in(const char *addr, const char *range)
{
    netaddr a, r;
    assert_int_equal(netaddr_parse(str_c(addr), &a), 0);
    assert_int_equal(netaddr_parse_range(str_c(range), &r), 0);
    return netaddr_in(&a, &r);
}

static void test_parse(void **state)
{
    fmt("10.0.0.1", "10.0.0.1");
    fmt(" 10.0.0.1 ", "10.0.0.1");
    fmt("10.0.0.1:5678", "10.0.0.1");
    fmt("::1", "::1");
    fmt("[::1]", "::1");
    fmt("[2001:db8::17]:443", "2001:db8::17");
    fmt("::ffff:10.0.0.1", "10.0.0.1");
    netaddr a;
    static const char *const bad[] = {"", "unknown", "10.0.0", "10.0.0.256", "[::1",
                                      "[::1]x", "::1::2", "_hidden", "10.0.0.1:80:90"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(netaddr_parse(str_c(bad[i]), &a), -1);
    assert_int_equal(netaddr_parse_range(str_c("10.0.0.0/33"), &a), -1);
    assert_int_equal(netaddr_parse_range(str_c("::/129"), &a), -1);
    assert_int_equal(netaddr_parse_range(str_c("10.0.0.0/"), &a), -1);
    assert_int_equal(netaddr_parse_range(str_c("10.0.0.0/8x"), &a), -1);
}

static void test_ranges(void **state)
{
    assert_true(in("127.0.0.1", "127.0.0.1"));
    assert_false(in("127.0.0.2", "127.0.0.1"));
    assert_true(in("10.200.3.4", "10.0.0.0/8"));
    assert_false(in("11.0.0.1", "10.0.0.0/8"));
    assert_true(in("192.168.1.77", "192.168.1.64/26"));
    assert_false(in("192.168.1.128", "192.168.1.64/26"));
    assert_true(in("fd12::1", "fd00::/8"));
    assert_false(in("fe80::1", "fd00::/8"));
    assert_true(in("1.2.3.4", "0.0.0.0/0"));
    assert_false(in("::1", "0.0.0.0/0")); /* an IPv4 range holds no IPv6 address */
    assert_true(in("::ffff:10.1.2.3", "10.0.0.0/8"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse),
        cmocka_unit_test(test_ranges),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
