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
 * for the self-fence time or has a commit refused by the fence is deposed: it
 * executes itself again at once (same pid and arguments, every socket
 * closed) and starts as a follower.
 *
 * Without --node none of this exists: a->ha is NULL.
 */
#ifndef TEXTDESK_APP_HA_H
#define TEXTDESK_APP_HA_H

#include <stddef.h>
#include <stdint.h>

#include "http/http.h"

#define HA_FOLLOW_MS 1000  /* a follower reads the log at least this often */
#define HA_OPEN_WAIT_S 120 /* a node starting waits this long for the database */

/* The cluster's timing (config file "ha", serve --lease-ms, --self-fence-ms,
 * --step-ms; docs/configuration.md). */
typedef struct ha_timing {
    int64_t lease_ms; /* a holder silent this long is cut by a candidate; the
                         database also ends a silent leader's session then */
    int64_t fence_ms; /* a leader without an answer this long stops by itself */
    int64_t step_ms;  /* the leadership session's step (the beat, the try) */
} ha_timing;
#define HA_LEASE_MS 5000
#define HA_FENCE_MS 3000
#define HA_STEP_MS 100
#define HA_TIMING_DEFAULT ((ha_timing){HA_LEASE_MS, HA_FENCE_MS, HA_STEP_MS})
/* The bounds of each (ms), and the rules between them: the self-fence
 * shorter than the lease (a leader stops acting before anyone may take
 * over), and at least three steps long (a leader hears a few beats before
 * it gives up). */
#define HA_LEASE_MIN 1000
#define HA_LEASE_MAX 600000
#define HA_FENCE_MIN 300
#define HA_STEP_MIN 10
#define HA_STEP_MAX 1000

struct app;
typedef struct ha ha;

/* Whether 't' is usable: 0, or -1 with what to change in 'err' (names as
 * in the configuration file: ha.lease_ms, ha.self_fence_ms, ha.step_ms). */
int ha_timing_check(const ha_timing *t, char *err, size_t n);

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
