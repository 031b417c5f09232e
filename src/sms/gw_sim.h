/*
 * gw_sim: the built-in customer simulator, a gateway with no network. Its
 * "handsets" are in memory: every message sent to a customer number lands
 * in that number's inbox, where the /sim page (through the API) shows it.
 * It reports each message sent and then delivered at once, so the whole
 * outbox and delivery path runs as with a real provider. Its inbound is
 * the simulator page's POST /api/sim/send (routed to it like any gateway's
 * endpoint, api/api_gw.c): the customer's SMS goes through the inbound
 * port and is answered after its commit, as every gateway's.
 */
#ifndef TEXTDESK_SMS_GW_SIM_H
#define TEXTDESK_SMS_GW_SIM_H

#include <stddef.h>

#include "sms/gw.h"

/* The type (gw.h): at most one per configuration. */
extern const gw_type gw_sim_type;

typedef struct gw_sim_msg {
    int64_t ref, at_seq;
    str from, to, text;
} gw_sim_msg;

/* Calls 'fn' for each message the simulated handset 'number' received,
 * oldest first, skipping the first 'after' of them. */
void gw_sim_inbox(gw *g, str number, size_t after, void (*fn)(void *, const gw_sim_msg *),
                  void *arg);
/* How many messages the simulator has received in all. */
size_t gw_sim_count(gw *g);

#endif
