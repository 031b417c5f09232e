/*
 * app_retention: the retention job (docs/privacy.md). Once a day (the
 * first run a minute after the start), and when an administrator asks
 * (POST /api/admin/retention/run), it deletes the message text of
 * conversations that ended longer ago than the policy's days for their
 * entry point (api_retention_policy), keeping each reply's SMS segments
 * for the reports. It works in batches of APP_RETENTION_BATCH ended
 * conversations, one short transaction each, and lets the loop run
 * between batches, so a first run over a year of conversations never
 * stalls the desktops. Each policy (the site's days, and each entry point
 * that has its own) keeps a cursor in the log of ended conversations (the
 * setting "retention_cursors"), so a run reads only what ended since the
 * last one. The last run's figures are the setting "retention_last".
 */
#ifndef TEXTDESK_APP_APP_RETENTION_H
#define TEXTDESK_APP_APP_RETENTION_H

#include "app/app.h"

#define APP_RETENTION_BATCH 50
#define APP_RETENTION_DAY_MS (24LL * 3600 * 1000)
#define APP_RETENTION_FIRST_MS (60 * 1000)

typedef struct app_retention app_retention;

app_retention *app_retention_new(app *a);
void app_retention_free(app_retention *r);
/* Starts a run now (on the next loop turn), unless one is under way. */
void app_retention_run(app_retention *r);

#endif
