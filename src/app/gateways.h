/*
 * gateways: the configured SMS gateways and the outbox that feeds them
 * (app/config_gw.c reads the "gateways" and "outbox" sections and the
 * entry points' "gateway"; app/app_outbox.c runs them).
 *
 * Without a "gateways" section there is one gateway, the built-in simulator
 * (id "sim"), so the demo keeps working. An entry point's gateway is part
 * of the entry point (cc_ep_flow.gateway: the file seeds it, the admin API
 * changes it); one without uses the first configured gateway. The section is read at every start
 * (unlike the entities, which seed the store on the first start only).
 */
#ifndef TEXTDESK_APP_GATEWAYS_H
#define TEXTDESK_APP_GATEWAYS_H

#include <stddef.h>
#include <stdint.h>

#include "app/app.h"
#include "sms/gw.h"

#define APP_GW_MAX 16
#define APP_GW_ID_MAX 32

/* One configured gateway: its type (sms/gw.h's table), its id (borrowed
 * from the loaded configuration) and what its type read (owned: free with
 * app_config_gateways_free). */
typedef struct app_gw_conf {
    const gw_type *type;
    const char *id;
    void *cfg;
} app_gw_conf;

typedef struct app_outbox_conf {
    int max_attempts;       /* sends tried before FAILED (default 10) */
    int64_t backoff_ms;     /* first retry delay (default 1000), doubled each time */
    int64_t backoff_max_ms; /* ceiling of the delay (default 300000) */
} app_outbox_conf;

/* Validates the sections; called by app_config_load. Returns 0, or -1 with
 * "PATH: KEY: problem" in 'err'. */
int app_config__check_gateways(const app_config *cfg, const char *path, char *err, size_t n);
/* The configured gateways (the implicit simulator when none), in order. */
size_t app_config_gateways(const app_config *cfg, app_gw_conf *out, size_t max);
void app_config_gateways_free(app_gw_conf *v, size_t n);
/* The gateway id the file gives the entry point with 'number', or NULL.
 * The entry point's own (cc_ep_flow.gateway) comes first (app_outbox.c). */
const char *app_config_ep_gateway(const app_config *cfg, str number);
void app_config_outbox(const app_config *cfg, app_outbox_conf *out);

/* The loaded JSON (a json_t *), for config_gw.c. */
void *app_config__json(const app_config *cfg);

/* ---- runtime (app_outbox.c) -------------------------------------------- */

/* Reads the configured gateways and creates them on a->loop, each with the
 * inbound port (sms in, report in: app_outbox.c); a->sim is the simulator
 * when one is configured. Returns 0, or -1 with a reason. */
int app__gateways_open(app *a, char *err, size_t n);
/* Whether gateway 'id' is configured. */
int app__gateway_known(app *a, str id);
/* The running gateway 'id', or NULL (the inbound router, api_gw.h). */
gw *app__gateway(app *a, str id);
void app__gateways_close(app *a);
/* After a stop (the process's, or a cluster's leader's: 'who'): replies
 * whose submission was under way become UNKNOWN (store_outbox_recover,
 * never sent again blindly), logged with their count. 'in_tx': inside a
 * transaction of the write path (a fenced store takes no other write).
 * Returns how many, or <0 when the store failed. */
int app__outbox_recover(app *a, int in_tx, const char *who);
/* Asks for the outbox pump (due messages to their gateways) in the next
 * group commit (see app_outbox.c). */
void app__outbox_pump(app *a);
/* The same inside the group commit being built (app.c: a batch with a
 * reply): the pump runs in that transaction, after its events are
 * appended, so the reply is marked SUBMITTING in the commit that stores it
 * and handed to its gateway at that commit's confirmation. */
void app__outbox_pump_here(app *a);
/* Whether the outbox has statuses to write or wants the pump. */
int app__outbox_dirty(const app *a);
/* Inside the group commit's transaction: writes the delivery statuses
 * recorded since the last commit and, when asked for, marks the next due
 * messages SUBMITTING. Returns 0 or the store's error. */
int app__outbox_write(app *a);
/* After that transaction committed: publishes the statuses to the
 * desktops and hands the marked messages to their gateways. */
void app__outbox_committed(app *a);
/* After it failed: the marked messages are not sent (they are QUEUED on
 * disk still); the statuses stay in memory for the next commit. */
void app__outbox_failed(app *a);
/* Forgets what the outbox keeps in memory of the stored messages (the due
 * list, the statuses written lately): something other than the group
 * commit may have changed them (a write of the write path that changed
 * messages: store_msg_edits; a rebuilt core; a recovery, a takeover); the
 * next pump reads the due list again. */
void app__outbox_forget_all(app *a);

#endif
