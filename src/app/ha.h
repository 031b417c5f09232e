/*
 * ha: a node of an active/standby cluster on one PostgreSQL database
 * (`textdesk serve --store postgresql://... --node NAME`;
 * docs/internals/ha.md). The node starts as a follower: warm (it replays
 * the leader's commits into its core as they come), refusing work (503 to
 * gateways, desktops and the API; /api/health 503 with its role). Its
 * leadership session (store/store_lease.h), stepped by a loop timer, wins
 * the lock and an epoch when the leader is gone; the node then takes over:
 * fences its store with the epoch, replays the tail, recovers the outbox
 * (SUBMITTING -> UNKNOWN), applies RESTART, opens the gateways and serves.
 * A leader that loses its session, sees the epoch move on, gets no answer
 * for HA_FENCE_MS or has a commit refused by the fence is deposed: it
 * executes itself again at once (same pid and arguments, every socket
 * closed) and starts as a follower.
 *
 * Without --node none of this exists: a->ha is NULL.
 */
#ifndef TEXTDESK_APP_HA_H
#define TEXTDESK_APP_HA_H

#include <stdint.h>

#include "http/http.h"

#define HA_TICK_MS 100     /* the leadership session's step */
#define HA_FOLLOW_MS 1000  /* a follower reads the log at least this often */
#define HA_FENCE_MS 3000   /* a leader without an answer for this long stops */
#define HA_LEASE_MS 5000   /* a holder silent for this long is cut by a candidate */
#define HA_OPEN_WAIT_S 120 /* a node starting waits this long for the database */

struct app;
typedef struct ha ha;

/* Whether 'name' is a usable node name: 1 to 63 of [A-Za-z0-9._-]. */
int ha_name_ok(const char *name);
/* The node 'node' of the cluster on 'url' (a's store, a PostgreSQL one):
 * fences the store (a follower never commits) and reads the whole log
 * into a's core. 0, or -1 with a reason. */
int ha_open(struct app *a, const char *url, const char *node, char *err, size_t n);
/* Starts the leadership session's timer (after app_listen). */
void ha_start(struct app *a);
void ha_free(struct app *a);
/* Whether this node leads (1 without a cluster). */
int ha_leads(const struct app *a);
/* A commit or write was refused by the fence (-ESTALE): deposed. */
void ha_deposed(struct app *a, const char *why) __attribute__((noreturn));

/* The HTTP handlers of a node: /api/health with the node's role, epoch and
 * leader (200 on the leader only), /metrics with the cluster's gauges, and
 * 503 for everything else on a follower; the rest goes to the API. 'arg'
 * is the app. */
void ha_http_request(void *arg, const http_req *req, http_resp *resp);
int ha_ws_open(void *arg, const http_req *req, http_ws *ws, void **user);
void ha_ws_message(void *arg, http_ws *ws, void *user, str data);
void ha_ws_close(void *arg, http_ws *ws, void *user);

#endif
