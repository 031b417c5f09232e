/*
 * api_throttle: login throttling that slows an attacker without locking out
 * the real user (issue 19), and the client's address behind trusted
 * reverse proxies. Pure: time is an argument, no I/O; api.c hooks it into
 * POST /api/login. docs/operations.md, "Login throttling", explains it.
 *
 * Failures are counted under three keys, each with a number of free
 * failures after which the next attempt must wait, the wait doubling with
 * every further failure (1 s, 2 s, 4 s, ... at most API_THROTTLE_MAX_MS):
 *   - the pair (user name, address): API_THROTTLE_PAIR_FREE;
 *   - the user name from any address: API_THROTTLE_USER_FREE, a higher bar
 *     (many addresses guessing one password);
 *   - the address for any user name: API_THROTTLE_ADDR_FREE (one address
 *     trying many names).
 * A pair that has logged in within API_THROTTLE_KNOWN_MS is "known": only
 * its own pair count applies to it, so no one elsewhere can keep a user
 * from logging in where they usually do, and made-up names from an
 * address shared by everyone behind an untrusted proxy lock no one out.
 * An attempt made while its wait runs is refused unchecked and not counted
 * (the password is not even tried). A success clears its pair. A count is
 * forgotten API_THROTTLE_FORGET_MS after its last failure. At most
 * API_THROTTLE_MAX_KEYS keys are kept; past that, the stale ones go and
 * then an eighth of the table, failure counts before known pairs, oldest first.
 *
 * Written by hand: no Debian library throttles by composite keys in a
 * caller's event loop; it is a hash table and a few rules.
 */
#ifndef TEXTDESK_API_API_THROTTLE_H
#define TEXTDESK_API_API_THROTTLE_H

#include <stddef.h>
#include <stdint.h>

#include "util/netaddr.h"
#include "util/str.h"

#define API_THROTTLE_PAIR_FREE 3
#define API_THROTTLE_USER_FREE 20
#define API_THROTTLE_ADDR_FREE 30
#define API_THROTTLE_BASE_MS 1000
#define API_THROTTLE_MAX_MS (15 * 60 * 1000)
#define API_THROTTLE_FORGET_MS (60 * 60 * 1000)
#define API_THROTTLE_KNOWN_MS (30LL * 24 * 60 * 60 * 1000)
#define API_THROTTLE_MAX_KEYS 20000

typedef struct api_throttle api_throttle;

api_throttle *api_throttle_new(void);
void api_throttle_free(api_throttle *t);

/* How long (ms) 'user' must wait before trying again from 'addr': 0 when
 * the attempt may be checked now. */
int64_t api_throttle_wait(api_throttle *t, str user, str addr, int64_t now);

/* Records a wrong password (or unknown user) for 'user' from 'addr'. */
void api_throttle_failed(api_throttle *t, str user, str addr, int64_t now);

/* Records a login: the pair is cleared and known from now on. */
void api_throttle_succeeded(api_throttle *t, str user, str addr, int64_t now);

/* The number of keys kept (tests). */
size_t api_throttle_size(const api_throttle *t);

/* The client's address: 'peer' (the socket's), or, when 'peer' lies in one
 * of the 'n' 'trusted' proxy ranges, the address the proxies say they
 * served: X-Forwarded-For ('xff') read from the right, skipping trusted
 * proxies, the first address not trusted; else Forwarded's "for="
 * ('forwarded') the same way. A header that does not parse is ignored
 * (then 'peer' it is). Writes the address into 'out' and returns its
 * length. */
size_t api_throttle_client(const netaddr *trusted, size_t n, str peer, str xff, str forwarded,
                           char *out, size_t cap);

#endif
