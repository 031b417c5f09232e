/*
 * Unit tests for src/api/api_throttle: an attacker is slowed, the real user
 * is not locked out (issue 19), and the client's address is only taken from
 * a trusted proxy's header.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "api/api_throttle.h"

#define T0 1700000000000LL
#define S(x) str_c(x)

static void fail_n(api_throttle *t, const char *user, const char *addr, int n, int64_t now)
{
    for (int i = 0; i < n; i++)
        api_throttle_failed(t, S(user), S(addr), now);
}

static int64_t wait_of(api_throttle *t, const char *user, const char *addr, int64_t now)
{
    return api_throttle_wait(t, S(user), S(addr), now);
}

/* The pair's own count: 3 free, then 1 s, 2 s, 4 s ... at most 15 min. */
static void test_pair_doubles(void **state)
{
    api_throttle *t = api_throttle_new();
    fail_n(t, "anna", "10.0.0.9", 3, T0);
    assert_int_equal(wait_of(t, "anna", "10.0.0.9", T0), 0);
    api_throttle_failed(t, S("anna"), S("10.0.0.9"), T0);
    assert_int_equal(wait_of(t, "anna", "10.0.0.9", T0), 1000);
    assert_int_equal(wait_of(t, "anna", "10.0.0.9", T0 + 400), 600);
    assert_int_equal(wait_of(t, "anna", "10.0.0.9", T0 + 1000), 0);
    api_throttle_failed(t, S("anna"), S("10.0.0.9"), T0 + 1000);
    assert_int_equal(wait_of(t, "anna", "10.0.0.9", T0 + 1000), 2000);
    api_throttle_failed(t, S("anna"), S("10.0.0.9"), T0 + 3000);
    assert_int_equal(wait_of(t, "anna", "10.0.0.9", T0 + 3000), 4000);
    /* the attacker's pair only (6 failures: below the user's and the
     * address's bars): anna elsewhere, erik here are free */
    assert_int_equal(wait_of(t, "anna", "10.0.0.5", T0 + 3000), 0);
    assert_int_equal(wait_of(t, "erik", "10.0.0.9", T0 + 3000), 0);
    fail_n(t, "anna", "10.0.0.9", 40, T0 + 7000);
    assert_int_equal(wait_of(t, "anna", "10.0.0.9", T0 + 7000), API_THROTTLE_MAX_MS);
    /* forgotten an hour after the last failure */
    assert_int_equal(wait_of(t, "anna", "10.0.0.9", T0 + 7000 + API_THROTTLE_FORGET_MS + 1), 0);
    api_throttle_free(t);
}

/* Wrong passwords from everywhere slow the name down where it has never
 * logged in, but not where its user logs in. */
static void test_user_bar_spares_known_pairs(void **state)
{
    api_throttle *t = api_throttle_new();
    api_throttle_succeeded(t, S("anna"), S("10.0.0.5"), T0 - 1000); /* her desk */
    char addr[32];
    for (int i = 0; i < API_THROTTLE_USER_FREE + 5; i++) { /* one try per address */
        snprintf(addr, sizeof addr, "192.0.2.%d", i + 1);
        api_throttle_failed(t, S("anna"), S(addr), T0);
    }
    assert_int_equal(wait_of(t, "anna", "10.0.0.5", T0), 0);   /* known: free */
    assert_int_equal(wait_of(t, "anna", "10.0.0.6", T0), 16000); /* new place: 2^4 s */
    assert_int_equal(wait_of(t, "anna", "192.0.2.1", T0), 16000);
    assert_int_equal(wait_of(t, "erik", "192.0.2.1", T0), 0);
    /* she logs in at her desk: still free, the others still slowed */
    api_throttle_succeeded(t, S("anna"), S("10.0.0.5"), T0);
    assert_int_equal(wait_of(t, "anna", "10.0.0.5", T0), 0);
    assert_int_equal(wait_of(t, "anna", "10.0.0.6", T0), 16000);
    api_throttle_free(t);
}

/* Made-up names from one address (everyone behind one untrusted proxy):
 * unknown pairs from there are slowed, users who logged in there are not. */
static void test_address_bar_spares_known_pairs(void **state)
{
    api_throttle *t = api_throttle_new();
    api_throttle_succeeded(t, S("erik"), S("10.0.0.1"), T0 - 1000);
    char name[32];
    for (int i = 0; i < API_THROTTLE_ADDR_FREE + 1; i++) {
        snprintf(name, sizeof name, "nobody%d", i);
        api_throttle_failed(t, S(name), S("10.0.0.1"), T0);
    }
    assert_int_equal(wait_of(t, "erik", "10.0.0.1", T0), 0);
    assert_int_equal(wait_of(t, "maja", "10.0.0.1", T0), 1000);
    assert_int_equal(wait_of(t, "maja", "10.0.0.2", T0), 0);
    api_throttle_free(t);
}

/* A success clears its pair; a known pair's own failures still count. */
static void test_success_clears_pair(void **state)
{
    api_throttle *t = api_throttle_new();
    fail_n(t, "anna", "10.0.0.5", 5, T0);
    assert_true(wait_of(t, "anna", "10.0.0.5", T0) > 0);
    api_throttle_succeeded(t, S("anna"), S("10.0.0.5"), T0 + 5000);
    assert_int_equal(wait_of(t, "anna", "10.0.0.5", T0 + 5000), 0);
    fail_n(t, "anna", "10.0.0.5", 4, T0 + 6000);
    assert_int_equal(wait_of(t, "anna", "10.0.0.5", T0 + 6000), 1000);
    /* a known pair lapses after 30 days without a login */
    api_throttle_free(t);
}

/* The table stays bounded; a flood of names evicts counts before known
 * pairs. */
static void test_bounded(void **state)
{
    api_throttle *t = api_throttle_new();
    api_throttle_succeeded(t, S("anna"), S("10.0.0.5"), T0);
    char name[32];
    for (int i = 0; i < API_THROTTLE_MAX_KEYS; i++) {
        snprintf(name, sizeof name, "n%d", i);
        api_throttle_failed(t, S(name), S("10.0.0.1"), T0 + 1 + i);
    }
    assert_true(api_throttle_size(t) <= API_THROTTLE_MAX_KEYS);
    /* room is made an eighth at a time, never by emptying the table */
    assert_true(api_throttle_size(t) >= API_THROTTLE_MAX_KEYS - API_THROTTLE_MAX_KEYS / 8);
    /* anna's desk is still known: the address's count does not apply */
    assert_int_equal(wait_of(t, "anna", "10.0.0.5", T0 + API_THROTTLE_MAX_KEYS), 0);
    api_throttle_free(t);
}

static const char *client(const char *peer, const char *xff, const char *fwd)
{
    static char out[64];
    netaddr tr[2];
    assert_int_equal(netaddr_parse_range(S("127.0.0.1"), &tr[0]), 0);
    assert_int_equal(netaddr_parse_range(S("10.0.0.0/8"), &tr[1]), 0);
    api_throttle_client(tr, 2, S(peer), xff ? S(xff) : STR_NULL, fwd ? S(fwd) : STR_NULL, out,
                        sizeof out);
    return out;
}

static void test_client_address(void **state)
{
    /* not through a trusted proxy: the socket's address, headers ignored */
    assert_string_equal(client("192.0.2.7", "1.2.3.4", NULL), "192.0.2.7");
    assert_string_equal(client("192.0.2.7", NULL, "for=1.2.3.4"), "192.0.2.7");
    /* through one: the rightmost address that is not a trusted proxy */
    assert_string_equal(client("127.0.0.1", "198.51.100.9", NULL), "198.51.100.9");
    assert_string_equal(client("127.0.0.1", "1.2.3.4, 198.51.100.9", NULL), "198.51.100.9");
    assert_string_equal(client("127.0.0.1", "198.51.100.9, 10.1.1.1", NULL), "198.51.100.9");
    assert_string_equal(client("127.0.0.1", "10.2.2.2,10.1.1.1", NULL), "10.2.2.2");
    assert_string_equal(client("127.0.0.1", "[2001:db8::1]:443", NULL), "2001:db8::1");
    /* Forwarded (RFC 7239) when there is no X-Forwarded-For */
    assert_string_equal(client("127.0.0.1", NULL, "for=198.51.100.9;proto=https"),
                        "198.51.100.9");
    assert_string_equal(client("127.0.0.1", NULL,
                               "for=1.2.3.4, For=\"[2001:db8:cafe::17]:4711\";by=10.0.0.1"),
                        "2001:db8:cafe::17");
    /* a header that does not parse counts for nothing */
    assert_string_equal(client("127.0.0.1", "unknown", NULL), "127.0.0.1");
    assert_string_equal(client("127.0.0.1", "1.2.3.4, junk", NULL), "127.0.0.1");
    assert_string_equal(client("127.0.0.1", "", "by=10.0.0.1"), "127.0.0.1");
    assert_string_equal(client("127.0.0.1", NULL, NULL), "127.0.0.1");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pair_doubles),
        cmocka_unit_test(test_user_bar_spares_known_pairs),
        cmocka_unit_test(test_address_bar_spares_known_pairs),
        cmocka_unit_test(test_success_clears_pair),
        cmocka_unit_test(test_bounded),
        cmocka_unit_test(test_client_address),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
