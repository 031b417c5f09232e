#include "util/netaddr.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int parse_plain(const char *p, size_t n, netaddr *out)
{
    char buf[64];
    if (n == 0 || n >= sizeof buf)
        return -1;
    memcpy(buf, p, n);
    buf[n] = '\0';
    struct in_addr v4;
    memset(out, 0, sizeof *out);
    out->bits = 128;
    if (inet_pton(AF_INET, buf, &v4) == 1) {
        out->a[10] = out->a[11] = 0xff;
        memcpy(out->a + 12, &v4, 4);
        return 0;
    }
    return inet_pton(AF_INET6, buf, out->a) == 1 ? 0 : -1;
}

int netaddr_parse(str s, netaddr *out)
{
    const char *p = s.p;
    size_t n = s.n;
    while (n > 0 && (*p == ' ' || *p == '\t'))
        p++, n--;
    while (n > 0 && (p[n - 1] == ' ' || p[n - 1] == '\t'))
        n--;
    if (n > 0 && p[0] == '[') { /* "[v6]" or "[v6]:port" */
        const char *close = memchr(p, ']', n);
        if (close == NULL)
            return -1;
        size_t rest = n - (size_t)(close - p) - 1;
        if (rest != 0 && close[1] != ':')
            return -1;
        return parse_plain(p + 1, (size_t)(close - p) - 1, out);
    }
    const char *colon = memchr(p, ':', n);
    if (colon != NULL && memchr(colon + 1, ':', n - (size_t)(colon - p) - 1) == NULL)
        n = (size_t)(colon - p); /* "v4:port": one colon only */
    return parse_plain(p, n, out);
}

int netaddr_parse_range(str s, netaddr *out)
{
    const char *slash = s.p ? memchr(s.p, '/', s.n) : NULL;
    if (slash == NULL)
        return netaddr_parse(s, out);
    if (parse_plain(s.p, (size_t)(slash - s.p), out) != 0)
        return -1;
    char digits[8];
    size_t dn = s.n - (size_t)(slash - s.p) - 1;
    if (dn == 0 || dn >= sizeof digits)
        return -1;
    memcpy(digits, slash + 1, dn);
    digits[dn] = '\0';
    char *end;
    long bits = strtol(digits, &end, 10);
    int v4 = memcmp(out->a, "\0\0\0\0\0\0\0\0\0\0\xff\xff", 12) == 0;
    if (*end != '\0' || bits < 0 || bits > (v4 ? 32 : 128))
        return -1;
    out->bits = (unsigned)bits + (v4 ? 96 : 0);
    return 0;
}

int netaddr_in(const netaddr *addr, const netaddr *range)
{
    unsigned full = range->bits / 8, rest = range->bits % 8;
    if (memcmp(addr->a, range->a, full) != 0)
        return 0;
    if (rest == 0)
        return 1;
    uint8_t m = (uint8_t)(0xff << (8 - rest));
    return (addr->a[full] & m) == (range->a[full] & m);
}

size_t netaddr_format(const netaddr *addr, char *out, size_t cap)
{
    char buf[INET6_ADDRSTRLEN];
    if (memcmp(addr->a, "\0\0\0\0\0\0\0\0\0\0\xff\xff", 12) == 0)
        inet_ntop(AF_INET, addr->a + 12, buf, sizeof buf);
    else
        inet_ntop(AF_INET6, addr->a, buf, sizeof buf);
    int k = snprintf(out, cap, "%s", buf);
    return k < 0 ? 0 : (size_t)k < cap ? (size_t)k : cap - 1;
}
