/*
 * store: the durable store. The rest of textdesk sees only this interface.
 * Two backends implement it behind one ops table chosen at open time
 * (store_int.h): SQLite (store_sqlite.c: one file, WAL, the default) and
 * PostgreSQL (store_pg.c, on libpq). What they share (event columns, id
 * encoding, flow JSON, status names) is in store_row.c. Nothing here names
 * either database.
 *
 * What it keeps:
 *   - the core's event log: every cc_event, in sequence order. It is the
 *     source of truth for the core's state; on start the server replays it
 *     (store_events_replay -> cc_replay).
 *   - messages: each inbound and outbound text with its conversation,
 *     sequence, direction, agent, provider message id and delivery status.
 *     Outbound messages are the outbox.
 *   - raw inbound SMS that the core refused (e.g. to a removed entry point),
 *     so that no customer message is ever dropped.
 *   - agent accounts (username, password hash, agent id, role) and
 *     sessions (token hash, account, expiry).
 *   - key/value settings and canned responses.
 *
 * The store reads no clock: what stamps a time is given 'now' (ms since
 * the epoch).
 *
 * Writes happen inside a transaction opened with store_begin and made
 * durable by store_commit; callers batch many writes into one transaction
 * (group commit). Every function returns 0 or a negative error:
 *   -ENOENT    not found
 *   -EEXIST    unique key taken
 *   -EINVAL    bad argument or call out of order
 *   -ENOSPC    the database's disk is full
 *   -EBUSY     locked by someone else past the lock timeout
 *   -ENOTCONN  unreachable: the database server is gone (connection lost,
 *              server down). Only a network backend returns it; the next
 *              store_begin tries to connect again. Every read can fail with
 *              it too, so readers must handle errors, not only -ENOENT.
 *   -ENOTSUP   this store cannot do it (store_backup, store_check)
 *   -EIO       anything else (store_errmsg says what)
 * After any error inside a transaction the caller rolls back.
 */
#ifndef TEXTDESK_STORE_STORE_H
#define TEXTDESK_STORE_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "core/cc.h"
#include "util/str.h"

typedef struct store store;

/* Whether error 'r' says the store failed (-EIO, -ENOSPC, -EBUSY,
 * -ENOTCONN, -ENOMEM), rather than answering about the data. */
int store_failed(int r);

/* Opens (creating or migrating) the store named by 'url':
 *   postgresql://... or postgres://...  a PostgreSQL database: any libpq
 *       connection URL, including several hosts with
 *       target_session_attrs=read-write; a libpq key=value string
 *       ("host=... dbname=...") works too
 *   sqlite:WHERE or WHERE                SQLite: WHERE is a folder (created
 *       if missing) holding textdesk.db, or a file path ending in ".db" or
 *       naming an existing file, or ":memory:" (tests)
 * On failure returns NULL and writes a reason into 'err'. */
store *store_open(const char *url, char *err, size_t errlen);
void store_close(store *st);
/* The last database error message. */
const char *store_errmsg(const store *st);
/* "sqlite" or "postgresql". */
const char *store_kind(const store *st);
/* Where the data is, for people and logs: the SQLite file, or the
 * PostgreSQL database and server (never a password). */
const char *store_where(const store *st);
/* Whether 'url' names a PostgreSQL store (else SQLite). */
int store_url_is_pg(const char *url);
/* Whether 'url' is a store URL as --store and "store" take it: sqlite:DIR,
 * postgresql://... (or postgres://), a libpq key=value string, or a folder
 * (as --data; refused: a word with a colon that is none of these, such as
 * 'foo:bar'). */
int store_url_ok(const char *url);
#define STORE_URL_HINT "use a folder, sqlite:DIR or postgresql://USER@HOST/DB"
/* The schema version this build writes into 'st' (and migrates older
 * stores to); each backend has its own list of migrations. */
int store_schema_version(const store *st);
/* Whether a commit waits until the data is on disk (1, the default: the
 * durability contract) or only until it is handed to the OS (0: survives a
 * process crash, may lose the last commits on power loss). */
int store_set_sync(store *st, int full);

/* store_begin opens a write transaction (-EINVAL if one is open; -EBUSY if
 * another process holds the write lock past the busy timeout). store_commit
 * makes everything since store_begin durable at once (group commit); on an
 * error the transaction may still be open: roll back. store_rollback drops
 * it; with none open (e.g. SQLite already rolled back after -ENOSPC) it
 * returns 0. Writes other than store_event_append may also run outside a
 * transaction, each then committing on its own. */
int store_begin(store *st);
int store_commit(store *st);
int store_rollback(store *st);
/* The same commit without waiting, for a store whose commit waits on the
 * network (PostgreSQL; -ENOTSUP elsewhere: use store_commit).
 * store_commit_start sends it and returns at once: 0, or an error as
 * store_commit's (roll back). The transaction is then closed for the
 * caller: every other call may go on (a new transaction too), on another
 * connection, while the commit is under way, and sees the data committed
 * before it. store_commit_finish reads what arrived without waiting: '*done'
 * 0 (call again later) or 1 with the commit's result: 0 (durable), or an
 * error (nothing of it was kept; after -ENOTCONN it may have been: read the
 * log back). One commit under way at a time. */
int store_commit_start(store *st);
int store_commit_finish(store *st, int *done);
/* The socket on which the answer of the commit under way arrives, for the
 * caller's loop to watch for input and then call store_commit_finish (no
 * polling); -1 when none is under way, or where commits are synchronous. */
int store_commit_fd(const store *st);
/* After a commit (store_commit, store_commit_finish) failed with
 * -ENOTCONN: 1 when its transaction never began, so nothing of it was
 * kept and it may be run again at once on a new connection (PostgreSQL
 * sends BEGIN with the appends: a connection that died while idle is only
 * found by their answers), 0 when it may have been kept. */
int store_unsent(const store *st);
/* How many times a call waited for a database server's answer (a round
 * trip on the network) since the store was opened: PostgreSQL's reads,
 * writes outside a transaction and reads inside one; never its
 * transactions' appends nor an asynchronous commit (store_commit_start).
 * SQLite: always 0 (no network). What the serving loop waits on; in
 * /metrics as textdesk_store_round_trips_total. */
uint64_t store_waits(const store *st);
/* How many calls changed stored messages other than by an append or
 * store_msg_set_status (store_outbox_recover, store_msg_forget,
 * store_erase_number, store_scrub), whether or not they were kept: what a
 * caller keeps of the messages in memory is stale once this grew. */
uint64_t store_msg_edits(const store *st);

/* ---- event log --------------------------------------------------------- */

/* Appends 'ev' (inside a transaction: -EINVAL otherwise). MSG_IN / MSG_OUT
 * also insert their message (text, provider id, direction); an outbound
 * message starts with status STORE_MSG_QUEUED. Event text is kept only in
 * the message row. -EEXIST when the sequence number is taken or a MSG_IN's
 * provider id was already stored: at once (SQLite: no row of 'ev' is left),
 * or, where appends are pipelined (PostgreSQL: the appends and the COMMIT
 * go in one round trip), from the next call that waits for the database,
 * at the latest store_commit, and then the whole transaction is lost.
 * Either way: after an error, roll back. */
int store_event_append(store *st, const cc_event *ev);

/* Calls 'cb' for every stored event in sequence order, exactly as appended
 * (message text joined back from the message row; empty strings come back
 * as {NULL, 0}). The event's strings and ids are valid during the call
 * only. Stops and returns cb's value if nonzero. 'cb' must not call
 * store_events_load (-EINVAL). */
typedef int (*store_event_cb)(void *arg, const cc_event *ev);
int store_events_load(store *st, store_event_cb cb, void *arg);
/* The same without message text: MSG_IN and MSG_OUT come with an empty
 * 'text'. Rebuilding the core needs no text (it keeps counts), and a start
 * with a million stored messages replays a good part faster without
 * joining every message row back. */
int store_events_replay(store *st, store_event_cb cb, void *arg);
/* What a report folds (core/report.h), as light as the backend can: every
 * event in order with its type, time, conv, agent, target, queue, ep,
 * reason, state, kind and code and AGENT_PUT's id list; no strings,
 * everything else zero or empty. For MSG_OUT, 'segments' is the SMS
 * segments of the reply, stored with its event when it was appended
 * (SQLite schema 10, PostgreSQL 8); for a reply stored before, counted
 * from its text, or taken from what retention kept of it (store_msg_forget).
 * 0 for every other event. No message text is read for a reply stored
 * with its count: the events alone, one sequential read. */
typedef int (*store_report_cb)(void *arg, const cc_event *ev, int segments);
int store_events_report(store *st, store_report_cb cb, void *arg);
/* The same for the events after 'after' (seq) only: a report going on
 * from a snapshot of its fold (api_report.c); both backends seek to them. */
int store_events_report_after(store *st, uint64_t after, store_report_cb cb, void *arg);
/* The same, at most 'limit' events (0: all): a report folded a chunk per
 * loop turn (api_report.c) goes on after the last seq it got. Fewer than
 * 'limit' delivered (and 0 returned): the end of the log. On PostgreSQL the
 * query itself is limited, so a chunk reads only its rows. */
int store_events_report_some(store *st, uint64_t after, size_t limit, store_report_cb cb,
                             void *arg);
/* The SMS segments a reply's text takes (what the store keeps with it,
 * what the reports count): sms_text_analyse's count, 0 for text that is
 * not UTF-8. */
int store_text_segments(str text);
/* The same as store_events_replay for the events after 'after' only: a
 * standby following the log (docs/internals/ha.md). -ENOTSUP on SQLite. */
int store_events_after(store *st, uint64_t after, store_event_cb cb, void *arg);
/* Fencing in a cluster of nodes (docs/internals/ha.md): from now on every
 * transaction first checks that the leadership epoch in the database is
 * 'epoch' (-1: never; a standby), inside that transaction, so a deposed
 * or frozen leader can never commit: its commit fails with -ESTALE. A
 * write outside a transaction is then refused (-EINVAL): it would not be
 * fenced. -ENOTSUP on SQLite. */
int store_fence(store *st, int64_t epoch);
/* Highest stored event sequence number (0 when empty). */
int store_last_seq(store *st, uint64_t *seq);

/* ---- messages and outbox ----------------------------------------------- */

enum store_msg_status {
    STORE_MSG_RECEIVED,   /* inbound */
    STORE_MSG_QUEUED,     /* outbound, waiting for the gateway */
    STORE_MSG_SUBMITTING, /* handed to the gateway, no answer yet */
    STORE_MSG_SENT,       /* gateway accepted it */
    STORE_MSG_DELIVERED,  /* delivery report: delivered */
    STORE_MSG_FAILED,     /* gateway refused or report says failed */
    STORE_MSG_UNKNOWN,    /* was SUBMITTING when the process died */
};
const char *store_msg_status_name(int status);

typedef struct store_msg {
    int64_t id; /* row id: the outbox reference travels to the gateway; it is
                 * the seq of the MSG_IN/MSG_OUT event that stored it */
    uint32_t conv, agent, seq;
    int outbound, status;
    int64_t at, status_at;
    str number, ep_number, text, provider_id, error;
    str name; /* store_msgs_of_conv: a supervisor's name on its reply */
} store_msg;

typedef int (*store_msg_cb)(void *arg, const store_msg *m);

/* Calls 'cb' with message 'id' (strings valid during the call), or
 * returns -ENOENT. */
int store_msg_get(store *st, int64_t id, store_msg_cb cb, void *arg);
/* Messages of conversation 'conv' in order. */
int store_msgs_of_conv(store *st, uint32_t conv, store_msg_cb cb, void *arg);
/* A customer's conversations, newest first (at most 'max'): the
 * interaction history. 'closed_at' is 0 while the conversation is open.
 * Strings are valid during the callback only. */
typedef struct store_hist {
    uint32_t conv;
    int64_t opened_at, closed_at;
    str ep_number;
} store_hist;
typedef int (*store_hist_cb)(void *arg, const store_hist *h);
int store_history(store *st, str number, size_t max, store_hist_cb cb, void *arg);
/* The system notes of a conversation, for its transcript: queued (with
 * why: new, RONA timeout, agent gone, transfer, ...), transferred, owner
 * changed, conference joined and left, terminated, opted out and back in,
 * internal notes, a supervisor joining, taking over and leaving;
 * in order. 'seq' orders
 * them among the messages (a message's id is its event's seq). */
typedef struct store_note {
    int64_t seq, at;
    int type, code; /* cc_ev_type, cc_why */
    uint32_t agent, target, queue;
    str name, text; /* a supervisor's name; an internal note's text */
} store_note;
typedef int (*store_note_cb)(void *arg, const store_note *n);
int store_notes(store *st, uint32_t conv, store_note_cb cb, void *arg);

/* Conversation events from the first one at or after 'from_ms' to the end
 * of the log, in order (for reports). Strings valid during the callback. */
typedef struct store_cev {
    int64_t seq, at;
    int type, code;
    uint32_t conv, agent, target, queue, reason;
    str number, ep_number;
} store_cev;
typedef int (*store_cev_cb)(void *arg, const store_cev *e);
int store_conv_events_since(store *st, int64_t from_ms, store_cev_cb cb, void *arg);
/* The same, at most 'limit' of them (0: all), after seq 'after' (0: from
 * the first at or after 'from_ms'): a chunk per loop turn (api_report.c).
 * Fewer than 'limit' delivered (and 0 returned): the end of the log. */
int store_conv_events_some(store *st, int64_t from_ms, uint64_t after, size_t limit,
                           store_cev_cb cb, void *arg);

/* The wrap-ups recorded for 'conv' (agent, reason; reason 0 when dropped
 * because the agent was removed), in order. */
typedef int (*store_wrapup_cb)(void *arg, uint32_t agent, uint32_t reason, int64_t at);
int store_wrapups(store *st, uint32_t conv, store_wrapup_cb cb, void *arg);
/* The satisfaction answers recorded for 'conv' (score 1-5, the comment,
 * when, the agent who ended it), in order. */
typedef int (*store_csat_cb)(void *arg, int score, str comment, int64_t at, uint32_t agent);
int store_csat(store *st, uint32_t conv, store_csat_cb cb, void *arg);

/* Outbound messages with status QUEUED, oldest first, at most 'max'. 'cb'
 * may change the status of the message it is handed. */
int store_outbox_due(store *st, size_t max, store_msg_cb cb, void *arg);
/* Sets an outbound message's status (and the gateway's id or error when
 * given, i.e. non-empty), stamping status_at with 'now'. Returns
 * -EINVAL for STORE_MSG_RECEIVED or an unknown status, -ENOENT when 'id' is
 * no outbound message. Inside a transaction a backend may leave -ENOENT
 * unreported (nothing changes): PostgreSQL sends the write with the
 * transaction's other statements instead of waiting a round trip for it,
 * and its errors come with the commit. It enforces no transition order:
 * the outbox does. */
int store_msg_set_status(store *st, int64_t id, int status, str provider_id, str error,
                         int64_t now);
/* Finds an outbound message by the gateway's id; 0 and '*id', or -ENOENT. */
int store_msg_by_provider_id(store *st, str provider_id, int64_t *id);
/* Whether an inbound message with this provider id is stored: 1, 0 (also
 * for an empty id), or a negative error. For ids older than the core's
 * de-duplication window: check before handing a gateway retry to the core. */
int store_inbound_exists(store *st, str provider_id);
/* At start: every SUBMITTING message becomes UNKNOWN (never resent
 * blindly), stamped 'now'. Returns how many, or a negative error. */
int store_outbox_recover(store *st, int64_t now);

/* ---- refused inbound --------------------------------------------------- */

/* Keeps an inbound SMS the core refused, with the reason code. */
int store_inbound_orphan(store *st, int64_t at, str number, str ep_number, str text,
                         str provider_id, str reason);

/* ---- accounts and sessions --------------------------------------------- */

enum store_role { STORE_ROLE_AGENT, STORE_ROLE_SUPERVISOR, STORE_ROLE_ADMIN };

typedef struct store_account {
    int64_t id;
    str username, pwhash;
    uint32_t agent; /* 0 for admin accounts without an agent */
    int role;
} store_account;

/* Creates an account: -EEXIST when 'username' is taken, -EINVAL for an
 * empty username or hash or an unknown role. */
int store_account_put(store *st, str username, str pwhash, uint32_t agent, int role);
/* Fills 'out' (strings valid until the next call on 'st'), or -ENOENT. */
int store_account_get(store *st, str username, store_account *out);

/* The (first) account of agent 'agent', or -ENOENT. */
int store_account_of_agent(store *st, uint32_t agent, store_account *out);
/* Replaces an account's password hash; -ENOENT when there is none. */
int store_account_set_pwhash(store *st, str username, str pwhash);
/* Deletes an account and (cascade) its sessions; -ENOENT when none. */
int store_account_del(store *st, str username);

/* Stores a session: -EEXIST when the token hash is taken, -ENOENT when
 * 'account' does not exist. Deleting an account deletes its sessions. */
int store_session_put(store *st, str token_hash, int64_t account, int64_t expires_at);
/* Fills 'out' with the session's account (as store_account_get), or
 * -ENOENT when there is no such session or it expired (expires_at <= now). */
int store_session_get(store *st, str token_hash, int64_t now, store_account *out);
/* Deletes a session, or -ENOENT. */
int store_session_del(store *st, str token_hash);
/* Deletes every session expired at 'now'; returns how many. */
int store_session_purge(store *st, int64_t now);

/* ---- operations -------------------------------------------------------- */

/* Writes a consistent copy of the whole store to the new file 'dest'
 * (SQLite's online backup API), while the server may keep writing. Restore
 * by putting the copy in place of DATA/textdesk.db with the server stopped.
 * -ENOTSUP on PostgreSQL: its own tools do it (pg_dump, pg_basebackup;
 * docs/operations.md). */
int store_backup(store *st, const char *dest);

/* Checks the store: the database's own integrity check where it has one
 * (SQLite; PostgreSQL enforces its constraints on write), foreign keys,
 * and that every message has a status of its direction (received inbound;
 * queued .. unknown outbound). Returns 0 when sound, 1 with the first
 * problem in 'out', or a negative error. Read only. */
int store_check(store *st, char *out, size_t n);

/* ---- canned responses ------------------------------------------------- */

/* Creates or replaces canned response 'id' (a title, Swedish and English
 * text). */
int store_canned_put(store *st, int64_t id, str title, str text_sv, str text_en);
int store_canned_del(store *st, int64_t id); /* -ENOENT when none */
/* Every canned response, by title. */
typedef int (*store_canned_cb)(void *arg, int64_t id, str title, str text_sv, str text_en);
int store_canned_all(store *st, store_canned_cb cb, void *arg);

/* ---- settings ---------------------------------------------------------- */

int store_setting_put(store *st, str key, str value);
/* Copies the value into 'out' (NUL-terminated, at most 'cap' bytes):
 * -ENOENT for an unknown key, -ERANGE when it does not fit. */
int store_setting_get(store *st, str key, char *out, size_t cap);

/* ---- API tokens -------------------------------------------------------- */

/* A named API token (docs/security.md): only the hash of its secret is
 * kept. 'agent' is the agent an agent-role token acts as (0 otherwise);
 * 'expires_at' and 'revoked_at' are 0 for never / not revoked. */
typedef struct store_token {
    int64_t id;
    str name, created_by;
    int role;
    uint32_t agent;
    int64_t created_at, expires_at, revoked_at;
} store_token;

/* Creates a token, its id in '*id': -EEXIST when the name or the hash is
 * taken, -EINVAL for an empty name or hash or an unknown role. */
int store_token_put(store *st, str name, str hash, int role, uint32_t agent, str created_by,
                    int64_t created_at, int64_t expires_at, int64_t *id);
/* The token with this hash, expired and revoked ones too (the caller says
 * which it is); strings valid until the next call on 'st'. -ENOENT. */
int store_token_get(store *st, str hash, store_token *out);
/* Every token, oldest first (strings valid during the callback). */
typedef int (*store_token_cb)(void *arg, const store_token *t);
int store_tokens_all(store *st, store_token_cb cb, void *arg);
/* Revokes token 'id' at 'now': -ENOENT when there is none, -EALREADY when
 * it was revoked before (its first revocation time stays). */
int store_token_revoke(store *st, int64_t id, int64_t now);

/* ---- audit trail ------------------------------------------------------- */

/* One entry of the audit trail: who ('actor': a user name, or "token:"
 * and the token's name), how they were known ('via': session, token or
 * login), from where ('peer': the client's address), what ('action',
 * e.g. "login" or "PUT /api/admin/queues/2", on 'target', with 'detail':
 * the outcome). The store offers no way to change or delete an entry:
 * both backends refuse UPDATE and DELETE on the table with a trigger. */
typedef struct store_audit {
    int64_t id, at;
    str actor, via, peer, action, target, detail;
} store_audit;

/* Appends an entry ('id' is ignored and assigned); -EINVAL without an
 * actor or action. */
int store_audit_add(store *st, const store_audit *e);
/* Entries with from <= at < to (to 0: no end), actor equal to 'actor' and
 * action starting with 'action' (each when not empty), id below
 * 'before_id' (0: any), newest first, at most 'max'. Strings are valid
 * during the callback. */
typedef struct store_audit_filter {
    int64_t from, to, before_id;
    str actor, action;
    size_t max;
} store_audit_filter;
typedef int (*store_audit_cb)(void *arg, const store_audit *e);
int store_audit_list(store *st, const store_audit_filter *f, store_audit_cb cb, void *arg);

/* ---- outgoing event webhooks (docs/integration.md) --------------------- */

/* A subscription: where events go ('url'), signed with 'secret'; 'events'
 * is a bit set of the kinds it wants (app/app_hooks.h names them);
 * 'masked' 1: customer data goes through the masker. Its cursor (seq, sid)
 * is the position in the feed (store_feed) delivered or skipped through;
 * 'delivered' and 'failures' count attempts since it was created; the
 * last attempt's HTTP status (0: no answer), time and error. */
typedef struct store_hook {
    int64_t id;
    str name, url, secret, created_by, last_error;
    uint32_t events;
    int masked, last_status;
    int64_t created_at, seq, sid, delivered, failures, last_at;
} store_hook;

/* Creates a subscription that starts at the end of the feed (only what
 * comes after it), its id in '*id': -EEXIST when the name is taken,
 * -EINVAL without a name, URL or secret. */
int store_hook_put(store *st, const store_hook *h, int64_t *id);
/* Deletes subscription 'id', or -ENOENT. */
int store_hook_del(store *st, int64_t id);
/* Every subscription, oldest first (strings valid during the callback). */
typedef int (*store_hook_cb)(void *arg, const store_hook *h);
int store_hooks_all(store *st, store_hook_cb cb, void *arg);
/* Writes the cursor, counters and last attempt of subscription h->id (the
 * other fields are ignored), or -ENOENT. */
int store_hook_progress(store *st, const store_hook *h);

/* The feed the webhooks read: the conversation and agent events of the
 * log that a subscription may want (opened, accepted, message in and out,
 * transferred, ended, wrapped up, terminated, closed, agent state, opted
 * out and in), and the delivery statuses of outbound messages (sent,
 * delivered, failed, unknown), in the order they were committed. An item's
 * position is (seq, sid): an event is (its seq, 0); a status is (the last
 * event seq when it was written, its own id), so it follows that event.
 * Statuses are recorded (by a trigger) only while a subscription exists. */
typedef struct store_feed_item {
    int64_t seq, sid, at;
    int type; /* cc_ev_type, or -1 for a delivery status */
    uint32_t conv, agent, target, queue, reason, ep;
    int state, code, kind;
    int64_t msg;    /* a message's id (its event's seq) */
    int status;     /* a status: store_msg_status */
    str number, ep_number, text, name, error;
} store_feed_item;
typedef int (*store_feed_cb)(void *arg, const store_feed_item *it);
/* The items after position (seq, sid), in order, at most 'max' (strings
 * valid during the callback); 'cb' returning nonzero stops. */
int store_feed(store *st, int64_t seq, int64_t sid, size_t max, store_feed_cb cb, void *arg);

/* ---- retention and erasure (docs/privacy.md) -------------------------- */

/* Conversations that ended (TERMINATED or CLOSED events) after event
 * 'after_seq', in log order, at most 'max': the closing event's seq and
 * time, the conversation and its entry point. */
typedef struct store_closed {
    int64_t seq, at;
    uint32_t conv, ep;
} store_closed;
typedef int (*store_closed_cb)(void *arg, const store_closed *c);
int store_closed_since(store *st, int64_t after_seq, size_t max, store_closed_cb cb, void *arg);
/* Deletes the text of message 'id', keeping what the reports need of it:
 * 'segments', the SMS segments it took (outbound; the first count kept
 * stays), or -1 (inbound). -ENOENT when there is no such message. */
int store_msg_forget(store *st, int64_t id, int segments);
/* Deletes the comments of the satisfaction answers of 'conv' (the scores
 * stay). */
int store_csat_forget(store *st, uint32_t conv);
/* Deletes the text of refused inbound SMS kept before 'before_at';
 * returns how many, or a negative error. */
int store_orphans_forget(store *st, int64_t before_at);
/* Erases customer number 'number' from every conversation it opened:
 * the number in events, messages and the one-open-conversation table
 * becomes "erased-CONV", display names, variables and survey comments
 * are deleted, and so are its refused inbound SMS. Message text must be
 * deleted first (store_msg_forget). Opt-out and opt-in records keep the
 * number (a STOP must be honoured). '*convs' gets how many conversations
 * it touched. */
int store_erase_number(store *st, str number, int64_t *convs);
/* After a deletion: makes what was deleted unreadable in the database's
 * files where the database can do it at once (SQLite: deleted content is
 * zeroed as it goes, secure_delete; this folds the write-ahead log into
 * the file and truncates it). PostgreSQL: 0, nothing (VACUUM, autovacuum
 * or an operator's, frees the old row versions; docs/privacy.md). */
int store_scrub(store *st);

#endif
