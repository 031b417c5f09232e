/*
 * free_port.h - a free TCP port on 127.0.0.1 for a server a test or bench
 * starts (the C twin of freePort in tests/e2e/lib/server.mjs).
 *
 * The port comes from below the kernel's ephemeral range
 * (/proc/sys/net/ipv4/ip_local_port_range), not from bind(port 0): a port
 * bind(0) returned is an ephemeral one, and between the moment it is
 * closed and the moment the server listens on it any outgoing connection
 * on the machine (a peer connecting to its SMSC, a client to PostgreSQL)
 * may take it as its local port. CI saw exactly that: "Address already in
 * use" for a port chosen four seconds before, while Kannel started. Ports
 * below the range are never handed out to outgoing connections; a random
 * one is tried with bind() so two test processes rarely meet.
 */
#ifndef TEXTDESK_TESTS_FREE_PORT_H
#define TEXTDESK_TESTS_FREE_PORT_H

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static inline int free_port_try(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0)
        return -1;
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t l = sizeof a;
    int got = -1;
    if (bind(fd, (struct sockaddr *)&a, sizeof a) == 0 &&
        getsockname(fd, (struct sockaddr *)&a, &l) == 0)
        got = ntohs(a.sin_port);
    close(fd);
    return got;
}

/* A free port below the ephemeral range; -1 when none could be bound. */
static inline int free_port(void)
{
    static unsigned seed;
    int lo = 32768, hi = 60999;
    FILE *f = fopen("/proc/sys/net/ipv4/ip_local_port_range", "r");
    if (f) {
        if (fscanf(f, "%d %d", &lo, &hi) != 2)
            lo = 32768, hi = 60999;
        fclose(f);
    }
    if (!seed)
        seed = (unsigned)getpid() ^ (unsigned)time(NULL) * 2654435761u;
    int first = 10000, last = lo - 1; /* below the range */
    if (last - first < 1000)
        first = hi + 1, last = 65535; /* or above it */
    if (last - first >= 1000) {
        for (int i = 0; i < 200; i++) {
            int p = first + (int)(rand_r(&seed) % (unsigned)(last - first + 1));
            if (free_port_try(p) == p)
                return p;
        }
    }
    return free_port_try(0); /* no room outside the range: the kernel's pick */
}

#endif
