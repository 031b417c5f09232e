/*
 * app_hooks: delivers the outgoing event webhooks (docs/integration.md).
 *
 * Each subscription (store_hook) has a cursor over the store's feed
 * (store_feed: the committed events a CRM wants and the delivery statuses
 * of replies, in commit order). Its deliverer reads the items after the
 * cursor, keeps those of the kinds it wants, and POSTs them one at a time,
 * in feed order (so in order per conversation), each signed with
 * HMAC-SHA256 over "TIMESTAMP.BODY" with the subscription's secret, to its
 * URL through the loop's HTTP client (net_http: never blocks). A 2xx answer
 * moves the cursor past the item; anything else (a refusal, no answer, a
 * timeout) is counted and the same item is tried again after an
 * exponential backoff, for ever: nothing is skipped. The cursor and the
 * counters are written to the store at most every HOOKS_SAVE_MS, in one
 * transaction for every subscription; a crash (kill -9) loses at most that
 * much progress, so the items after the stored cursor are sent again:
 * at-least-once, each with its idempotency id (the same on every attempt).
 */
#ifndef TEXTDESK_APP_APP_HOOKS_H
#define TEXTDESK_APP_APP_HOOKS_H

#include <stddef.h>
#include <stdint.h>

#include "app/app.h"
#include "util/str.h"

typedef struct app_hooks app_hooks;

/* The "webhooks" section of the configuration. */
typedef struct app_hooks_conf {
    int64_t backoff_ms;     /* first retry delay (default 1000), doubled each time */
    int64_t backoff_max_ms; /* ceiling of the delay (default 300000) */
    int64_t timeout_ms;     /* no answer within it: a failure (default 10000) */
} app_hooks_conf;

/* Validates the section (app_config_load): 0, or -1 with "PATH: KEY:
 * problem" in 'err'. */
int app_config__check_hooks(const app_config *cfg, const char *path, char *err, size_t n);
void app_config_hooks(const app_config *cfg, app_hooks_conf *out);

/* Reads the subscriptions and starts delivering (after app_listen made the
 * loop). */
app_hooks *app_hooks_new(app *a);
/* Writes the progress not yet stored and cancels requests under way. */
void app_hooks_free(app_hooks *h);
/* A commit was confirmed: look for new items (on the next loop turn). */
void app_hooks_kick(app_hooks *h);
/* The subscriptions changed (created, deleted): read them again. */
void app_hooks_reload(app_hooks *h);

/* "t=SECONDS,v1=HEX": the signature header's value for 'body' sent at
 * 'unix_s' with 'secret' (HMAC-SHA256 of "SECONDS.BODY"). 'out' needs 96
 * bytes. */
void app_hooks_sign(str secret, int64_t unix_s, str body, char out[96]);

#endif
