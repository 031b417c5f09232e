/*
 * store_int: what the store's backends implement, inside src/store only.
 * store.c chooses a backend at open time from the store URL and forwards
 * every call of store.h through its ops table (the way SQLite's VFS or
 * OpenSMTPD's queue backends work). A backend's handle starts with
 * 'struct store' (its ops and the last error message), so store.c can
 * report errors without knowing the backend.
 *
 * Each op has the contract of the store.h function of the same name; the
 * optional ones (backup, check) may be NULL: store.c then answers
 * -ENOTSUP, "not supported by this store".
 */
#ifndef TEXTDESK_STORE_STORE_INT_H
#define TEXTDESK_STORE_STORE_INT_H

#include "store/store.h"

struct store_ops {
    const char *kind; /* "sqlite", "postgresql": for messages and logs */
    int schema_version;
    void (*close)(store *st);
    int (*set_sync)(store *st, int full);
    int (*begin)(store *st);
    int (*commit)(store *st);
    int (*rollback)(store *st);
    int (*commit_start)(store *st);             /* optional */
    int (*commit_finish)(store *st, int *done); /* with commit_start */
    int (*commit_fd)(const store *st);          /* with commit_start */
    int (*event_append)(store *st, const cc_event *ev);
    /* with_text: 0 replay (no text), 1 load (all) */
    int (*events_load)(store *st, int with_text, store_event_cb cb, void *arg);
    int (*events_after)(store *st, uint64_t after, store_event_cb cb, void *arg); /* optional */
    /* store_events_report_some (after 0, limit 0: store_events_report) */
    int (*events_report)(store *st, uint64_t after, size_t limit, store_report_cb cb,
                         void *arg);
    int (*fence)(store *st, int64_t epoch);                                       /* optional */
    int (*last_seq)(store *st, uint64_t *seq);
    int (*msg_get)(store *st, int64_t id, store_msg_cb cb, void *arg);
    int (*msgs_of_conv)(store *st, uint32_t conv, store_msg_cb cb, void *arg);
    int (*history)(store *st, str number, size_t max, store_hist_cb cb, void *arg);
    int (*notes)(store *st, uint32_t conv, store_note_cb cb, void *arg);
    int (*conv_events_since)(store *st, int64_t from_ms, uint64_t after, size_t limit,
                             store_cev_cb cb, void *arg);
    int (*wrapups)(store *st, uint32_t conv, store_wrapup_cb cb, void *arg);
    int (*csat)(store *st, uint32_t conv, store_csat_cb cb, void *arg);
    int (*outbox_due)(store *st, size_t max, store_msg_cb cb, void *arg);
    int (*msg_set_status)(store *st, int64_t id, int status, str provider_id, str error,
                          int64_t now);
    int (*msg_by_provider_id)(store *st, str provider_id, int64_t *id);
    int (*inbound_exists)(store *st, str provider_id);
    int (*outbox_recover)(store *st, int64_t now);
    int (*inbound_orphan)(store *st, int64_t at, str number, str ep_number, str text,
                          str provider_id, str reason);
    int (*account_put)(store *st, str username, str pwhash, uint32_t agent, int role);
    int (*account_get)(store *st, str username, store_account *out);
    int (*account_of_agent)(store *st, uint32_t agent, store_account *out);
    int (*account_set_pwhash)(store *st, str username, str pwhash);
    int (*account_del)(store *st, str username);
    int (*session_put)(store *st, str token_hash, int64_t account, int64_t expires_at);
    int (*session_get)(store *st, str token_hash, int64_t now, store_account *out);
    int (*session_del)(store *st, str token_hash);
    int (*session_purge)(store *st, int64_t now);
    int (*backup)(store *st, const char *dest);  /* optional */
    int (*check)(store *st, char *out, size_t n); /* optional */
    int (*canned_put)(store *st, int64_t id, str title, str text_sv, str text_en);
    int (*canned_del)(store *st, int64_t id);
    int (*canned_all)(store *st, store_canned_cb cb, void *arg);
    int (*setting_put)(store *st, str key, str value);
    int (*setting_get)(store *st, str key, char *out, size_t cap);
    int (*token_put)(store *st, str name, str hash, int role, uint32_t agent, str created_by,
                     int64_t created_at, int64_t expires_at, int64_t *id);
    int (*token_get)(store *st, str hash, store_token *out);
    int (*tokens_all)(store *st, store_token_cb cb, void *arg);
    int (*token_revoke)(store *st, int64_t id, int64_t now);
    int (*audit_add)(store *st, const store_audit *e);
    int (*audit_list)(store *st, const store_audit_filter *f, store_audit_cb cb, void *arg);
    int (*hook_put)(store *st, const store_hook *h, int64_t *id);
    int (*hook_del)(store *st, int64_t id);
    int (*hooks_all)(store *st, store_hook_cb cb, void *arg);
    int (*hook_progress)(store *st, const store_hook *h);
    int (*feed)(store *st, int64_t seq, int64_t sid, size_t max, store_feed_cb cb, void *arg);
    int (*closed_since)(store *st, int64_t after_seq, size_t max, store_closed_cb cb, void *arg);
    int (*msg_forget)(store *st, int64_t id, int segments);
    int (*csat_forget)(store *st, uint32_t conv);
    int (*orphans_forget)(store *st, int64_t before_at);
    int (*erase_number)(store *st, str number, int64_t *convs);
    int (*scrub)(store *st);
};

struct store {
    const struct store_ops *ops;
    char err[512];
    char where[256]; /* for people: the file, or database and server (no password) */
    int loading;     /* inside store_events_load */
    int unsent;      /* the last transaction that failed never began (store_unsent) */
    uint64_t waits;  /* round trips the caller waited for (store_waits) */
    uint64_t msg_edits; /* calls that changed messages otherwise (store_msg_edits) */
};

/* The backends' open functions: 'where' is the SQLite file (":memory:"
 * for tests) or the libpq connection string / URL. NULL with the reason
 * (no "store: " prefix) in 'err'. */
store *store__sqlite_open(const char *file, char *err, size_t errlen);
store *store__pg_open(const char *conninfo, char *err, size_t errlen);

/* PostgreSQL's schema version 4: leadership and fencing (store_lease.c). */
extern const char store__pg_schema_v4[];
/* A follower's read of the log's tail on its leadership session
 * (store_lease.c), asynchronous: the statement ($1 the last event applied,
 * $2 at most this many rows; the last column the log's last seq), and the
 * event of row 'i' of its result, decoded with the PostgreSQL store 'st'
 * (0, or an error with st's message). */
struct pg_result;
extern const char store__pg_tail_sql[];
int store__pg_tail_event(store *st, const struct pg_result *res, int i, cc_event *ev);

/* Records an error message in 'st' and returns 'r'. */
int store__fail(store *st, int r, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#endif
