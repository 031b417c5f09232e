/*
 * gw: the one gateway interface every SMS provider sits behind (the built-in
 * simulator, Kannel, SMPP, webhook providers). Inbound messages do not pass
 * through it: each gateway's own endpoint hands them to the application,
 * which commits them and only then acknowledges (DESIGN.md section 2).
 * Outbound messages come from the outbox: gw_send hands one over and the
 * gateway reports the outcome through the callback, now or later.
 */
#ifndef TEXTDESK_SMS_GW_H
#define TEXTDESK_SMS_GW_H

#include <stdint.h>

#include "util/str.h"

typedef struct gw gw;

enum gw_status {
    GW_SENT,      /* accepted by the provider */
    GW_DELIVERED, /* the handset has it (delivery report) */
    GW_FAILED,    /* refused or undeliverable; 'error' says why */
    GW_RETRY,     /* not now (down, throttled): try again later */
    GW_UNKNOWN,   /* the request may have reached the provider, no answer came:
                   * never resent blindly; a later report resolves it */
};

/* An outbound SMS. 'ref' is our outbox reference; it travels to the
 * provider where it can (dlr-url, idempotency key) so that a delivery
 * report finds the message again. */
typedef struct gw_out {
    int64_t ref;
    str from; /* the entry point's number */
    str to;   /* the customer's number */
    str text; /* UTF-8 */
} gw_out;

typedef void (*gw_result_cb)(void *arg, int64_t ref, int status, str provider_id, str error);

typedef struct gw_ops {
    const char *name;
    int (*send)(gw *g, const gw_out *m);
    void (*free)(gw *g);
} gw_ops;

struct gw {
    const gw_ops *ops;
    gw_result_cb result;
    void *arg;
};

/* Hands 'm' to the gateway. Returns 0 (the outcome comes through the
 * callback) or a negative error (the message stays queued). */
static inline int gw_send(gw *g, const gw_out *m)
{
    return g->ops->send(g, m);
}

static inline void gw_free(gw *g)
{
    if (g)
        g->ops->free(g);
}

#endif
