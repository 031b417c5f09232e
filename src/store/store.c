/*
 * store: chooses the backend from the store URL at open time and forwards
 * every call through its ops table (store_int.h). The common argument
 * checks and the "not supported by this store" answer live here, once.
 */
#include "store/store.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "sms/sms_text.h"
#include "store/store_int.h"
#include "store/store_row.h"

static const char *const STATUS_NAMES[] = {
    "received", "queued", "submitting", "sent", "delivered", "failed", "unknown",
};

const char *store_msg_status_name(int status)
{
    if (status < 0 || status >= (int)(sizeof STATUS_NAMES / sizeof STATUS_NAMES[0]))
        return "invalid";
    return STATUS_NAMES[status];
}

int store_failed(int r)
{
    return r == -EIO || r == -ENOSPC || r == -EBUSY || r == -ENOTCONN || r == -ENOMEM ||
           r == -ESTALE;
}

int store__fail(store *st, int r, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(st->err, sizeof st->err, fmt, ap);
    va_end(ap);
    return r;
}

int store_url_is_pg(const char *url)
{
    if (url == NULL)
        return 0;
    if (strncmp(url, "postgresql://", 13) == 0 || strncmp(url, "postgres://", 11) == 0)
        return 1;
    /* a libpq key=value connection string */
    return strchr(url, '=') != NULL && strncmp(url, "sqlite:", 7) != 0 &&
           (strstr(url, "host=") || strstr(url, "dbname=") || strstr(url, "service="));
}

int store_url_ok(const char *url)
{
    if (!url || !*url)
        return 0;
    if (store_url_is_pg(url) || strncmp(url, "sqlite:", 7) == 0)
        return store_url_is_pg(url) || url[7] != '\0';
    /* a folder, as --data takes it: no scheme of another kind before it
     * ('foo:bar' is refused, '/srv/textdesk' and './data' are not) */
    size_t scheme = strcspn(url, ":/");
    return url[scheme] != ':';
}

/* SQLite: a folder holding textdesk.db, or a file. */
static store *open_sqlite(const char *where, char *err, size_t errlen)
{
    size_t n = strlen(where);
    struct stat sb;
    int is_file = strcmp(where, ":memory:") == 0 || (n > 3 && strcmp(where + n - 3, ".db") == 0) ||
                  (stat(where, &sb) == 0 && !S_ISDIR(sb.st_mode));
    if (is_file)
        return store__sqlite_open(where, err, errlen);
    if (mkdir(where, 0700) != 0 && errno != EEXIST) {
        snprintf(err, errlen, "cannot create the data folder %s: %s", where, strerror(errno));
        return NULL;
    }
    char path[4096];
    if ((size_t)snprintf(path, sizeof path, "%s/textdesk.db", where) >= sizeof path) {
        snprintf(err, errlen, "data folder path too long");
        return NULL;
    }
    return store__sqlite_open(path, err, errlen);
}

store *store_open(const char *url, char *err, size_t errlen)
{
    char why[512] = "";
    store *st = NULL;
    if (url == NULL || *url == '\0')
        snprintf(why, sizeof why, "no path given");
    else if (store_url_is_pg(url))
        st = store__pg_open(url, why, sizeof why);
    else
        st = open_sqlite(strncmp(url, "sqlite:", 7) == 0 ? url + 7 : url, why, sizeof why);
    if (st == NULL && err && errlen)
        snprintf(err, errlen, "store: %s", why);
    return st;
}

void store_close(store *st)
{
    if (st)
        st->ops->close(st);
}

const char *store_errmsg(const store *st)
{
    return st ? st->err : "no store";
}

const char *store_kind(const store *st)
{
    return st->ops->kind;
}

const char *store_where(const store *st)
{
    return st->where;
}

int store_schema_version(const store *st)
{
    return st->ops->schema_version;
}

int store_set_sync(store *st, int full)
{
    return st->ops->set_sync(st, full);
}

int store_begin(store *st)
{
    return st->ops->begin(st);
}

int store_commit(store *st)
{
    return st->ops->commit(st);
}

int store_commit_start(store *st)
{
    if (!st->ops->commit_start)
        return store__fail(st, -ENOTSUP, "an asynchronous commit is not supported by this"
                                          " store (%s)", st->ops->kind);
    return st->ops->commit_start(st);
}

int store_commit_finish(store *st, int *done)
{
    if (!st->ops->commit_finish) {
        *done = 1;
        return store__fail(st, -ENOTSUP, "an asynchronous commit is not supported by this"
                                          " store (%s)", st->ops->kind);
    }
    return st->ops->commit_finish(st, done);
}

int store_commit_fd(const store *st)
{
    return st->ops->commit_fd ? st->ops->commit_fd(st) : -1;
}

int store_unsent(const store *st)
{
    return st->unsent;
}

uint64_t store_waits(const store *st)
{
    return st->waits;
}

uint64_t store_msg_edits(const store *st)
{
    return st->msg_edits;
}

int store_rollback(store *st)
{
    return st->ops->rollback(st);
}

int store_event_append(store *st, const cc_event *ev)
{
    const char *why = store_row_check(ev);
    if (why)
        return store__fail(st, -EINVAL, "invalid argument: %s", why);
    return st->ops->event_append(st, ev);
}

/* One read of the log (events_load(with_text), or the report's read after
 * 'after' when 'rcb' is set), never from its own callback. */
static int events_load(store *st, int with_text, uint64_t after, size_t limit,
                       store_event_cb cb, store_report_cb rcb, void *arg)
{
    if (st->loading)
        return store__fail(st, -EINVAL, "invalid argument: store_events_load called from its"
                                         " own callback");
    st->loading = 1;
    int r = rcb ? st->ops->events_report(st, after, limit, rcb, arg)
                : st->ops->events_load(st, with_text, cb, arg);
    st->loading = 0;
    return r;
}

int store_events_load(store *st, store_event_cb cb, void *arg)
{
    return events_load(st, 1, 0, 0, cb, NULL, arg);
}

int store_events_replay(store *st, store_event_cb cb, void *arg)
{
    return events_load(st, 0, 0, 0, cb, NULL, arg);
}

int store_events_report(store *st, store_report_cb cb, void *arg)
{
    return events_load(st, 0, 0, 0, NULL, cb, arg);
}

int store_events_report_after(store *st, uint64_t after, store_report_cb cb, void *arg)
{
    return events_load(st, 0, after, 0, NULL, cb, arg);
}

int store_events_report_some(store *st, uint64_t after, size_t limit, store_report_cb cb,
                             void *arg)
{
    return events_load(st, 0, after, limit, NULL, cb, arg);
}

int store_text_segments(str text)
{
    sms_info info;
    return sms_text_analyse(text.p ? text.p : "", text.n, &info) == 0 ? (int)info.segments : 0;
}

static int unsupported(store *st, const char *what)
{
    return store__fail(st, -ENOTSUP, "%s is not supported by this store (%s)", what,
                       st->ops->kind);
}

int store_events_after(store *st, uint64_t after, store_event_cb cb, void *arg)
{
    if (!st->ops->events_after)
        return unsupported(st, "reading the log from a sequence number");
    if (st->loading)
        return store__fail(st, -EINVAL, "invalid argument: store_events_after called from a"
                                         " callback of the log");
    st->loading = 1;
    int r = st->ops->events_after(st, after, cb, arg);
    st->loading = 0;
    return r;
}

int store_fence(store *st, int64_t epoch)
{
    return st->ops->fence ? st->ops->fence(st, epoch) : unsupported(st, "a cluster of nodes");
}

int store_last_seq(store *st, uint64_t *seq)
{
    return st->ops->last_seq(st, seq);
}

int store_msg_get(store *st, int64_t id, store_msg_cb cb, void *arg)
{
    return st->ops->msg_get(st, id, cb, arg);
}

int store_msgs_of_conv(store *st, uint32_t conv, store_msg_cb cb, void *arg)
{
    return st->ops->msgs_of_conv(st, conv, cb, arg);
}

int store_history(store *st, str number, size_t max, store_hist_cb cb, void *arg)
{
    return st->ops->history(st, number, max, cb, arg);
}

int store_notes(store *st, uint32_t conv, store_note_cb cb, void *arg)
{
    return st->ops->notes(st, conv, cb, arg);
}

int store_conv_events_since(store *st, int64_t from_ms, store_cev_cb cb, void *arg)
{
    return st->ops->conv_events_since(st, from_ms, 0, 0, cb, arg);
}

int store_conv_events_some(store *st, int64_t from_ms, uint64_t after, size_t limit,
                           store_cev_cb cb, void *arg)
{
    return st->ops->conv_events_since(st, from_ms, after, limit, cb, arg);
}

int store_wrapups(store *st, uint32_t conv, store_wrapup_cb cb, void *arg)
{
    return st->ops->wrapups(st, conv, cb, arg);
}

int store_csat(store *st, uint32_t conv, store_csat_cb cb, void *arg)
{
    return st->ops->csat(st, conv, cb, arg);
}

int store_outbox_due(store *st, size_t max, store_msg_cb cb, void *arg)
{
    return st->ops->outbox_due(st, max, cb, arg);
}

int store_msg_set_status(store *st, int64_t id, int status, str provider_id, str error,
                         int64_t now)
{
    if (status <= STORE_MSG_RECEIVED || status > STORE_MSG_UNKNOWN)
        return store__fail(st, -EINVAL, "invalid argument: not an outbound message status");
    return st->ops->msg_set_status(st, id, status, provider_id, error, now);
}

int store_msg_by_provider_id(store *st, str provider_id, int64_t *id)
{
    if (provider_id.n == 0)
        return store__fail(st, -EINVAL, "invalid argument: empty provider id");
    return st->ops->msg_by_provider_id(st, provider_id, id);
}

int store_inbound_exists(store *st, str provider_id)
{
    if (provider_id.n == 0)
        return 0;
    return st->ops->inbound_exists(st, provider_id);
}

int store_outbox_recover(store *st, int64_t now)
{
    st->msg_edits++;
    return st->ops->outbox_recover(st, now);
}

int store_inbound_orphan(store *st, int64_t at, str number, str ep_number, str text,
                         str provider_id, str reason)
{
    return st->ops->inbound_orphan(st, at, number, ep_number, text, provider_id, reason);
}

int store_account_put(store *st, str username, str pwhash, uint32_t agent, int role)
{
    if (username.n == 0 || pwhash.n == 0)
        return store__fail(st, -EINVAL, "invalid argument: empty username or password hash");
    if (role < STORE_ROLE_AGENT || role > STORE_ROLE_ADMIN)
        return store__fail(st, -EINVAL, "invalid argument: unknown role");
    return st->ops->account_put(st, username, pwhash, agent, role);
}

int store_account_get(store *st, str username, store_account *out)
{
    if (username.n == 0)
        return store__fail(st, -EINVAL, "invalid argument: empty username");
    return st->ops->account_get(st, username, out);
}

int store_account_of_agent(store *st, uint32_t agent, store_account *out)
{
    return st->ops->account_of_agent(st, agent, out);
}

int store_account_set_pwhash(store *st, str username, str pwhash)
{
    if (username.n == 0 || pwhash.n == 0)
        return store__fail(st, -EINVAL, "invalid argument: empty username or password hash");
    return st->ops->account_set_pwhash(st, username, pwhash);
}

int store_account_del(store *st, str username)
{
    return st->ops->account_del(st, username);
}

int store_session_put(store *st, str token_hash, int64_t account, int64_t expires_at)
{
    if (token_hash.n == 0)
        return store__fail(st, -EINVAL, "invalid argument: empty token hash");
    return st->ops->session_put(st, token_hash, account, expires_at);
}

int store_session_get(store *st, str token_hash, int64_t now, store_account *out)
{
    if (token_hash.n == 0)
        return store__fail(st, -EINVAL, "invalid argument: empty token hash");
    return st->ops->session_get(st, token_hash, now, out);
}

int store_session_del(store *st, str token_hash)
{
    if (token_hash.n == 0)
        return store__fail(st, -EINVAL, "invalid argument: empty token hash");
    return st->ops->session_del(st, token_hash);
}

int store_session_purge(store *st, int64_t now)
{
    return st->ops->session_purge(st, now);
}

int store_backup(store *st, const char *dest)
{
    return st->ops->backup ? st->ops->backup(st, dest) : unsupported(st, "online backup");
}

int store_check(store *st, char *out, size_t n)
{
    return st->ops->check ? st->ops->check(st, out, n) : unsupported(st, "the integrity check");
}

int store_canned_put(store *st, int64_t id, str title, str text_sv, str text_en)
{
    if (id <= 0 || title.n == 0)
        return store__fail(st, -EINVAL, "invalid argument: a canned response needs an id"
                                         " above 0 and a title");
    return st->ops->canned_put(st, id, title, text_sv, text_en);
}

int store_canned_del(store *st, int64_t id)
{
    return st->ops->canned_del(st, id);
}

int store_canned_all(store *st, store_canned_cb cb, void *arg)
{
    return st->ops->canned_all(st, cb, arg);
}

int store_setting_put(store *st, str key, str value)
{
    if (key.n == 0)
        return store__fail(st, -EINVAL, "invalid argument: empty setting key");
    return st->ops->setting_put(st, key, value);
}

int store_setting_get(store *st, str key, char *out, size_t cap)
{
    if (key.n == 0 || out == NULL || cap == 0)
        return store__fail(st, -EINVAL, "invalid argument: empty setting key or no room");
    return st->ops->setting_get(st, key, out, cap);
}

int store_token_put(store *st, str name, str hash, int role, uint32_t agent, str created_by,
                    int64_t created_at, int64_t expires_at, int64_t *id)
{
    if (name.n == 0 || hash.n == 0 || role < STORE_ROLE_AGENT || role > STORE_ROLE_ADMIN)
        return store__fail(st, -EINVAL, "invalid argument: a token needs a name, a hash and"
                                         " a known role");
    int64_t dummy;
    return st->ops->token_put(st, name, hash, role, agent, created_by, created_at, expires_at,
                              id ? id : &dummy);
}

int store_token_get(store *st, str hash, store_token *out)
{
    if (hash.n == 0)
        return store__fail(st, -EINVAL, "invalid argument: empty token hash");
    return st->ops->token_get(st, hash, out);
}

int store_tokens_all(store *st, store_token_cb cb, void *arg)
{
    return st->ops->tokens_all(st, cb, arg);
}

int store_token_revoke(store *st, int64_t id, int64_t now)
{
    return st->ops->token_revoke(st, id, now);
}

int store_audit_add(store *st, const store_audit *e)
{
    if (e->actor.n == 0 || e->action.n == 0)
        return store__fail(st, -EINVAL, "invalid argument: an audit entry needs an actor and"
                                         " an action");
    return st->ops->audit_add(st, e);
}

int store_audit_list(store *st, const store_audit_filter *f, store_audit_cb cb, void *arg)
{
    return st->ops->audit_list(st, f, cb, arg);
}

int store_hook_put(store *st, const store_hook *h, int64_t *id)
{
    if (h->name.n == 0 || h->url.n == 0 || h->secret.n == 0)
        return store__fail(st, -EINVAL, "invalid argument: a webhook needs a name, a URL and"
                                         " a secret");
    int64_t dummy;
    return st->ops->hook_put(st, h, id ? id : &dummy);
}

int store_hook_del(store *st, int64_t id)
{
    return st->ops->hook_del(st, id);
}

int store_hooks_all(store *st, store_hook_cb cb, void *arg)
{
    return st->ops->hooks_all(st, cb, arg);
}

int store_hook_progress(store *st, const store_hook *h)
{
    return st->ops->hook_progress(st, h);
}

int store_feed(store *st, int64_t seq, int64_t sid, size_t max, store_feed_cb cb, void *arg)
{
    if (seq < 0 || sid < 0)
        return store__fail(st, -EINVAL, "invalid argument: a negative feed position");
    return st->ops->feed(st, seq, sid, max > 100000 ? 100000 : max, cb, arg);
}

int store_closed_since(store *st, int64_t after_seq, size_t max, store_closed_cb cb, void *arg)
{
    return st->ops->closed_since(st, after_seq, max > 100000 ? 100000 : max, cb, arg);
}

int store_msg_forget(store *st, int64_t id, int segments)
{
    st->msg_edits++;
    return st->ops->msg_forget(st, id, segments);
}

int store_erase_number(store *st, str number, int64_t *convs)
{
    st->msg_edits++;
    if (number.n == 0)
        return store__fail(st, -EINVAL, "invalid argument: no number to erase");
    int64_t dummy;
    return st->ops->erase_number(st, number, convs ? convs : &dummy);
}

int store_scrub(store *st)
{
    st->msg_edits++;
    return st->ops->scrub(st);
}

int store_csat_forget(store *st, uint32_t conv)
{
    return st->ops->csat_forget(st, conv);
}

int store_orphans_forget(store *st, int64_t before_at)
{
    return st->ops->orphans_forget(st, before_at);
}
