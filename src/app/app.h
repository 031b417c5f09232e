/*
 * app: the running server's wiring. One struct holds everything (STYLE.md
 * 6): the core, the store, the HTTP server, the API and the gateway. It
 * owns the durable path every change takes:
 *
 *   command -> cc_apply -> store (append events, commit) -> api_publish
 *           -> outbox pump -> gateway -> result -> store -> api_publish_delivery
 *
 * and the one timer that drives the core's timeouts (cc_next_deadline).
 * A store write that fails leaves the in-memory core ahead of the disk; the
 * process then stops at once (the next start rebuilds the core from what
 * was committed, and nothing uncommitted was acknowledged).
 */
#ifndef TEXTDESK_APP_APP_H
#define TEXTDESK_APP_APP_H

#include <stdint.h>

#include "api/api.h"
#include "core/cc.h"
#include "http/http.h"
#include "sms/gw.h"
#include "store/store.h"

typedef struct app_config app_config;

typedef struct app {
    cc *core;
    store *st;
    http_srv *http;
    api *api;
    const app_config *cfg;      /* borrowed from app_open's caller */
    struct sms_keyword *kw;     /* opt-out keywords (words owned by cfg) */
    size_t nkw;
    struct app_gateways *gws;   /* gateways and outbox state (app_outbox.c) */
    gw *sim;                    /* the simulator, when configured */
    http_timer *core_timer, *outbox_timer, *flush_timer;
    cc_events ev;
    cc_evlog staged;               /* applied to the core, not yet committed */
    struct app_waiter *waiters;    /* to run after the next commit */
    size_t nwaiters, capwaiters;
    int64_t clock_offset_ms; /* tests: TEXTDESK_CLOCK_OFFSET_MS */
    int stopping;
} app;

/* Wall-clock milliseconds (plus the test offset). */
int64_t app_now(app *a);

/* Opens the store in 'data_dir', rebuilds the core from its event log, and
 * on a first start applies 'cfg' (entities, accounts). 'cfg' (its gateways)
 * must outlive 'a'. Returns 0 or -1 with a reason in 'err'. */
int app_open(app *a, const char *data_dir, const app_config *cfg, char *err, size_t n);
/* Listens as 'hc' says (address, web files, optional TLS) and wires the
 * API; the gateways are created from 'cfg' (app/gateways.h). */
int app_listen(app *a, const http_cfg *hc, char *err, size_t n);
/* Runs the loop until app_stop. */
void app_run(app *a);
/* Asks the loop to end (safe from a signal handler). */
void app_stop(app *a);
void app_close(app *a);

/* Applies 'cmd' to the core and stages its events for the next group
 * commit (see the header comment). Returns cc_apply's result at once;
 * whatever must wait for durability (acknowledging a gateway or a desktop)
 * goes through app_after_commit. */
int app_apply(app *a, const cc_cmd *cmd);
/* Logs the store failure and stops the process (exit 70): the in-memory
 * core must not run ahead of the disk. For app/ only. */
void app__fatal_store(app *a, const char *what) __attribute__((noreturn));
/* Runs 'fn(arg)' once everything applied so far is committed and published
 * (at once when nothing is staged). */
void app_after_commit(app *a, void (*fn)(void *), void *arg);
/* Commits what is staged now (one transaction), publishes it to the
 * desktops, feeds the outbox and runs the waiters. Normally run by a
 * zero-delay timer, so all requests of one loop turn share one commit. */
void app_flush(app *a);

/* ---- configuration (app/config.c) -------------------------------------- */

/* Loads a JSON configuration file; NULL 'path' gives the built-in demo.
 * On error returns NULL and writes "FILE:LINE: key: problem" to 'err'. */
app_config *app_config_load(const char *path, char *err, size_t n);
/* The same from 'len' bytes of JSON in memory; 'name' stands for the file
 * in error messages. */
app_config *app_config_load_text(const char *text, size_t len, const char *name, char *err,
                                 size_t n);
void app_config_free(app_config *cfg);
/* Applies the configured entities to a fresh core (as commands, so they are
 * events in the log) and creates the accounts. */
int app_config_apply(app *a, const app_config *cfg, char *err, size_t n);
/* Prints the accounts a newcomer can log in with (demo only). */
void app_config_print_logins(const app_config *cfg);
/* "listen" and "data_dir" from the file, or NULL. */
/* The opt-out keywords: settings.keywords, or the defaults (sms_text.h).
 * The words stay owned by 'cfg'. Returns how many. */
struct sms_keyword;
size_t app_config_keywords(const app_config *cfg, struct sms_keyword *out, size_t max);
const char *app_config_listen(const app_config *cfg);
/* "tls": {"cert", "key"} from the file, or NULLs. */
void app_config_tls(const app_config *cfg, const char **cert, const char **key);
const char *app_config_data_dir(const app_config *cfg);

#endif
