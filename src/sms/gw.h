/*
 * gw: the one gateway interface every SMS provider sits behind (the built-in
 * simulator, Kannel, SMPP, webhook providers, the relay dialect). A gateway
 * type is one file (sms/gw_NAME.c) and one row in the table of types
 * (gw.c, gw_types): it owns
 *
 *   - its configuration: 'config' reads its object of the configuration's
 *     "gateways" list;
 *   - its outbound send and delivery reports: gw_send hands it an outbox
 *     message and it reports the outcome through the result callback, now
 *     or later;
 *   - its inbound endpoint(s): 'http' answers the calls under
 *     /api/gw/<type>/<id>/<endpoint> (the router, api/api_gw.c, knows no
 *     type), or it reads its own connection (SMPP);
 *
 * and reaches the application only through the inbound port (gw_port):
 * an SMS in, a report in, each acknowledged by a callback that runs once
 * what it brought is committed (the answer after commit, app.h), so the
 * provider is answered only then (DESIGN.md section 2).
 */
#ifndef TEXTDESK_SMS_GW_H
#define TEXTDESK_SMS_GW_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "net/net.h"
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

/* ---- the inbound port (the application's side) -------------------------- */

/* How the application took what came in. */
enum gw_in {
    GW_IN_OK,          /* committed */
    GW_IN_DUPLICATE,   /* a repeat of a provider id: committed before */
    GW_IN_REFUSED,     /* an SMS the core refused ('code' says why): kept among
                        * the refused, a retry would be refused again */
    GW_IN_UNKNOWN,     /* a report for no message of ours: nothing to retry */
    GW_IN_UNAVAILABLE, /* not kept (the store takes no writes, or the commit
                        * failed): the provider should send it again */
};
/* 'code' and 'msg': the error's stable code and text (REFUSED and
 * UNAVAILABLE; NULL otherwise). */
typedef void (*gw_in_done)(void *arg, int in, const char *code, const char *msg);

typedef struct gw_port {
    void *app;
    /* An SMS from 'from' to the business number 'to'; 'msg_id' is the
     * provider's id ("gw:id", empty: none). 'done' runs exactly once, at once
     * or after the commit; the strings are valid during the call only. */
    void (*sms_in)(void *app, str from, str to, str text, str msg_id, gw_in_done done,
                   void *arg);
    /* A delivery report (gw_status) for our reference 'ref' (> 0), or
     * else for the message with 'provider_id'; 'done' likewise. */
    void (*report_in)(void *app, int64_t ref, str provider_id, int status, str error,
                      gw_in_done done, void *arg);
} gw_port;

/* ---- inbound HTTP calls -------------------------------------------------- */

/* One request to /api/gw/<type>/<id>/<endpoint>, handed to the gateway
 * 'id'. The accessors work during the 'http' call only; 'answer' must be
 * called exactly once, during the call or later (after a commit); 'body'
 * is copied. */
typedef struct gw_call gw_call;
struct gw_call {
    const char *method;   /* "GET", "POST", ... */
    const char *endpoint; /* "inbound", "mo", ... */
    str body;
    int (*header)(gw_call *c, const char *name, char *out, size_t cap); /* length or -1 */
    int (*arg)(gw_call *c, const char *name, char *out, size_t cap);    /* length or -1 */
    void (*answer)(gw_call *c, int status, const char *content_type, const char *body);
    void *impl;
};

/* Answers 'c' with the JSON 'j' (taken), or with {"error": code,
 * "message": msg}: the answers of the types whose endpoints speak JSON. */
void gw_answer_json(gw_call *c, int status, json_t *j);
void gw_answer_err(gw_call *c, int status, const char *code, const char *msg);

/* GW_SENT, GW_DELIVERED or GW_FAILED for "sent", "delivered", "failed"
 * (the JSON dialects' delivery states); -1 for anything else. */
int gw_status_from_name(str s);

/* Hands the SMS 'from' -> 'to' with the provider's message 'id' to 'port',
 * keyed "<gw_id>:<id>" (the id cut at 250 bytes), the rule that makes a
 * provider's retry a duplicate on every HTTP gateway type. */
void gw_sms_in_keyed(const gw_port *port, const char *gw_id, str from, str to, str text, str id,
                     gw_in_done done, void *arg);

typedef struct gw_ops {
    const char *name; /* the type's name */
    int (*send)(gw *g, const gw_out *m);
    void (*free)(gw *g);
    /* An inbound call; NULL: the type has no HTTP endpoint (404). */
    void (*http)(gw *g, gw_call *c);
} gw_ops;

/* ---- gateway types ------------------------------------------------------- */

typedef struct gw_type {
    const char *name; /* "type" in the configuration, <type> in the URLs */
    /* Reads gateway 'id' from its configuration object 'o' (strings may
     * point into 'o', which outlives the gateway) into a new '*cfg'.
     * Returns 0, or -1 with "KEY: problem" in 'err'. */
    int (*config)(const json_t *o, const char *id, void **cfg, char *err, size_t n);
    void (*config_free)(void *cfg);
    /* Creates the gateway on 'loop'; NULL when it cannot be made. */
    gw *(*open)(const void *cfg, net_loop *loop, const gw_port *port, gw_result_cb cb,
                void *arg);
} gw_type;

/* The table of gateway types (gw.c), NULL-terminated. */
extern const gw_type *const gw_types[];
/* The type called 'name', or NULL. */
const gw_type *gw_type_find(const char *name);
/* "sim, kannel, ..." for messages. */
const char *gw_type_names(void);

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
