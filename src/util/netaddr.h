/*
 * netaddr: IP address literals and CIDR ranges (IPv4 and IPv6), for
 * deciding whether a request came through a trusted reverse proxy. Parsing
 * is inet_pton's; this adds the prefix, the range test and the spellings a
 * proxy header uses ("[::1]:443", "1.2.3.4:5678"). Pure: no I/O.
 */
#ifndef TEXTDESK_UTIL_NETADDR_H
#define TEXTDESK_UTIL_NETADDR_H

#include <stddef.h>
#include <stdint.h>

#include "util/str.h"

/* An address (IPv4 addresses kept as IPv4-mapped IPv6) or a range of them:
 * the first 'bits' bits of 'a' (128 for one address). */
typedef struct netaddr {
    uint8_t a[16];
    unsigned bits;
} netaddr;

/* Parses one address literal: "10.0.0.1", "::1", "::ffff:10.0.0.1", and as
 * proxy headers write them "[::1]", "[::1]:443", "10.0.0.1:5678" (a port is
 * ignored). Returns 0, or -1 when 's' is no address. */
int netaddr_parse(str s, netaddr *out);

/* Parses an address or a range "10.0.0.0/8", "fd00::/8". Returns 0, or -1. */
int netaddr_parse_range(str s, netaddr *out);

/* Whether 'addr' (one address) lies in 'range'. */
int netaddr_in(const netaddr *addr, const netaddr *range);

/* Writes the address's usual text ("10.0.0.1", "::1") into 'out' (room for
 * 46 bytes) and returns its length. */
size_t netaddr_format(const netaddr *addr, char *out, size_t cap);

#endif
