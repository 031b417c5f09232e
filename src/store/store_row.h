/*
 * store_row: what the store's backends share, with no database in it. An
 * event becomes one row of typed columns (and, for MSG_IN/MSG_OUT, one
 * message row) the same way in SQLite and PostgreSQL, and comes back the
 * same way:
 *   - every cc_event field has a column; empty strings are NULL;
 *   - a message's text lives only in its message row (the event's text
 *     column is NULL), joined back when the log is loaded;
 *   - the id list (cc_event.ids) is n_ids uint32, little-endian, in one
 *     blob column (NULL when empty);
 *   - an EP_PUT's flow is kept as its stored JSON (flow_json.h) in 'value'.
 * Also the message status names and the event types the queries select
 * (history, notes), whose numbers are stored.
 */
#ifndef TEXTDESK_STORE_STORE_ROW_H
#define TEXTDESK_STORE_STORE_ROW_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "core/cc.h"
#include "store/flow_json.h"
#include "store/store.h"
#include "util/str.h"

#define STORE_ROW_IDS_MAX 65536 /* ids per event; the core allows CC_TEAMS_MAX */

/* The event columns, in this order, in both schemas. */
#define STORE_ROW_EV_COLS                                                                \
    "seq, type, at, conv, agent, target, queue, team, ep, reason, fallback, capacity,"   \
    " msg_seq, state, kind, code, deadline, key, rona_ms, autowrap_ms, grace_ms, ids,"   \
    " name, number, ep_number, text, msg_id, var_key, value, queue_name"
enum { STORE_ROW_NINT = 21, STORE_ROW_NSTR = 8, STORE_ROW_NCOLS = 30 };

/* The message columns, in this order. */
#define STORE_ROW_MSG_COLS                                                               \
    "id, conv, seq, outbound, agent, number, ep_number, text, provider_id, status,"      \
    " error, at, status_at"

/* Event type numbers in SQL (asserted against cc.h in store_row.c). */
#define STORE_ROW_T_OPENED "15"
#define STORE_ROW_T_WRAPPED_UP "30"
#define STORE_ROW_T_CSAT_ANSWERED "45"
#define STORE_ROW_T_CLOSED "32"
/* The stored numbers of the events flagged CC_EVF_NOTE in cc.h (SQL needs
 * them as text; tests/unit/store/test_store_notes.c holds the two equal).
 * SQLite's partial index events_notes3_by_conv (migration v9) lists the
 * same numbers: a change here needs a migration that rebuilds it. */
#define STORE_ROW_T_NOTES "18, 22, 23, 25, 27, 31, 35, 36, 47, 48, 49, 50"

/* One event as columns: i[] the 21 integers (seq .. grace_ms), ids the
 * encoded id list, s[] the 8 strings (name .. queue_name). Views point into
 * the event or the scratch of 'store_row_buf'. */
typedef struct store_ev_row {
    int64_t i[STORE_ROW_NINT];
    str ids;
    str s[STORE_ROW_NSTR];
} store_ev_row;

/* Scratch a backend keeps per connection. */
typedef struct store_row_buf {
    unsigned char *blob; /* encoded ids */
    size_t blob_cap;
    unsigned char *rep; /* an encoded report record (store_row_rep) */
    size_t rep_cap;
    uint32_t *ids; /* decoded ids */
    size_t ids_cap;
    char *flow_out; /* EP_PUT flow as JSON, for writing */
    json_t *flow_doc; /* EP_PUT flow decoding */
    cc_ep_flow flow;
    char flow_rule[FLOW_JSON_RULE_MAX];
} store_row_buf;

void store_row_buf_free(store_row_buf *b);

/* Whether 'ev' can be stored; NULL, or why not. */
const char *store_row_check(const cc_event *ev);
/* 'ev' as columns (check it first). */
void store_row_from_event(store_row_buf *b, const cc_event *ev, store_ev_row *row);
/* Columns back to an event. Returns 0, or -EIO with why in 'err' (a corrupt
 * id list or flow). */
int store_row_to_event(store_row_buf *b, const store_ev_row *row, cc_event *ev, char *err,
                       size_t n);
/* Whether events of this type carry a message row. */
int store_row_is_msg(int type);

/* The message row an MSG_IN/MSG_OUT event brings (id = the event's seq;
 * outbound messages start QUEUED, inbound RECEIVED; the provider id is
 * kept for inbound only). Strings point into 'ev'. */
void store_row_msg(const cc_event *ev, store_msg *m);

/* The report's read of the log (store_events_report) from its columns:
 * 0-11 seq, type, at, conv, agent, target, queue, ep, reason, state, kind,
 * code (store_row_report_event); 12 AGENT_PUT's ids; 13 a reply's
 * segments: 'segs' (the stored count, or NULL where the schema has none),
 * else what retention kept, else NULL and 14 its text (a reply stored
 * before its count was). Type numbers asserted in store_row.c. */
#define STORE_ROW_REPORT_SELECT(segs)                                                    \
    "SELECT e.seq, e.type, e.at, e.conv, e.agent, e.target, e.queue, e.ep, e.reason,"    \
    " e.state, e.kind, e.code, CASE WHEN e.type = 2 THEN e.ids END,"                     \
    " CASE WHEN e.type = 17 THEN coalesce(" segs ", (SELECT k.segments"                  \
    " FROM msg_segments k WHERE k.id = e.seq)) END,"                                     \
    " CASE WHEN e.type = 17 AND " segs " IS NULL THEN (SELECT m.text"                    \
    " FROM messages m WHERE m.id = e.seq) END"
enum { STORE_ROW_REPORT_NINT = 12 };
/* An event of the report's read from its first 12 columns and its ids:
 * every other field zero. 0, or -EIO with why in 'err' (a corrupt id
 * list). */
int store_row_report_event(store_row_buf *b, const int64_t *v, str ids, cc_event *ev, char *err,
                           size_t n);
/* The segments 'cb' gets with event 'ev' of the report's read: column 13
 * when it is not NULL ('have'), else the count of 'text' (column 14). */
int store_row_report_segments(const cc_event *ev, int have, int64_t segments, str text);

/* The report's record of an event (SQLite's events.rep, schema 10): what
 * store_events_report gives of it (type, at, conv, agent, target, queue,
 * ep, reason, state, kind, code, a reply's segments, the id list) as
 * varints in one blob, written with the event, so that a report reads one
 * column of a row instead of fourteen (docs/internals/store.md).
 * 'segments': the reply's (store_text_segments), 0 for other events. The
 * view points into 'b'. */
str store_row_rep_encode(store_row_buf *b, const cc_event *ev, int segments);
/* A record back into 'ev' (seq given; every other field zero) and
 * '*segments'. 0, or -EIO with why in 'err' (a corrupt record). */
int store_row_rep_decode(store_row_buf *b, uint64_t seq, str rep, cc_event *ev, int *segments,
                         char *err, size_t n);

/* The encoded id list as uint32s into b->ids; 0 or -1 when its length is
 * not a multiple of 4. */
int store_row_ids_decode(store_row_buf *b, str blob, const uint32_t **ids, size_t *n);

/* The columns of an API token and of an audit entry, in this order, in
 * both schemas. */
#define STORE_ROW_TOKEN_COLS                                                             \
    "id, name, created_by, role, agent, created_at, expires_at, revoked_at"
#define STORE_ROW_AUDIT_COLS "id, at, actor, via, peer, action, target, detail"

/* The columns of a webhook subscription, in this order, in both schemas. */
#define STORE_ROW_HOOK_COLS                                                              \
    "id, name, url, secret, created_by, last_error, events, masked, last_status,"        \
    " created_at, cur_seq, cur_sid, delivered, failures, last_at"
/* The event types the webhooks' feed carries (store_feed): AGENT_STATE,
 * CONV_OPENED, MSG_IN, MSG_OUT, ACCEPTED, TRANSFERRED, ENDED, WRAPPED_UP,
 * TERMINATED, CLOSED, OPTED_OUT, OPTED_IN (asserted in store_row.c). */
#define STORE_ROW_T_FEED "13, 15, 16, 17, 21, 22, 28, 30, 31, 32, 35, 36"
/* The feed's columns: an event's, then a delivery status's (store_feed). */
#define STORE_ROW_FEED_EV                                                                \
    "e.seq AS k1, 0 AS k2, e.type, e.at, e.conv, e.agent, e.target, e.queue, e.reason,"  \
    " e.ep, e.state, e.code, e.kind, e.seq AS msg, 0 AS status, e.number, e.ep_number,"  \
    " coalesce(e.text, m.text) AS text, e.name, NULL AS error"                           \
    " FROM events e LEFT JOIN messages m ON m.id = e.seq"
#define STORE_ROW_FEED_ST                                                                \
    "s.after_seq AS k1, s.id AS k2, -1, s.at, m.conv, m.agent, 0, 0, 0, 0, 0, 0, 0,"     \
    " s.msg, s.status, m.number, m.ep_number, NULL, NULL, s.error"                       \
    " FROM msg_statuses s JOIN messages m ON m.id = s.msg"

/* One row of a query's result as the backends read it: 'i64' and 's'
 * read column 'col' (a NULL or empty string is STR_NULL), 'ncols' the
 * row's column count. A backend wraps its row (an SQLite statement, a
 * PostgreSQL result and row number) in one; the readers below fill the
 * store's records from it the same way in both backends. */
typedef struct store_row_in store_row_in;
struct store_row_in {
    int64_t (*i64)(const store_row_in *in, int col);
    str (*s)(const store_row_in *in, int col);
    int ncols;
};
/* The user's callback of a read (cast back by the row function) and its
 * argument. */
typedef struct store_row_cb {
    void (*cb)(void);
    void *arg;
} store_row_cb;
#define STORE_ROW_CB(cb, arg) (&(store_row_cb){(void (*)(void))(cb), (arg)})
/* A row function: reads one row of 'in' and hands it to the callback in
 * 'c' (its type named by the function); returns what the callback does. */
typedef int (*store_row_fn)(const store_row_in *in, const store_row_cb *c);

/* The row functions, one per read, with the columns in the order the
 * queries select them:
 *   msg: STORE_ROW_MSG_COLS, then 'name' when there is a 14th column;
 *   hist: conv, opened_at, ep_number, closed_at;
 *   note: seq, type, code, agent, target, queue, at, name, text;
 *   cev: seq, type, at, conv, agent, target, queue, reason, number,
 *        ep_number, code;
 *   wrapup: agent, reason, at;  csat: score, comment, at, agent;
 *   canned: id, title, text_sv, text_en;
 *   token: STORE_ROW_TOKEN_COLS;  audit: STORE_ROW_AUDIT_COLS;
 *   hook: STORE_ROW_HOOK_COLS;  feed: STORE_ROW_FEED_EV / _ST;
 *   closed: seq, at, conv, ep. */
int store_row_msg_read(const store_row_in *in, const store_row_cb *c);  /* store_msg_cb */
int store_row_hist(const store_row_in *in, const store_row_cb *c);      /* store_hist_cb */
int store_row_note(const store_row_in *in, const store_row_cb *c);      /* store_note_cb */
int store_row_cev(const store_row_in *in, const store_row_cb *c);       /* store_cev_cb */
int store_row_wrapup(const store_row_in *in, const store_row_cb *c);    /* store_wrapup_cb */
int store_row_csat(const store_row_in *in, const store_row_cb *c);      /* store_csat_cb */
int store_row_canned(const store_row_in *in, const store_row_cb *c);    /* store_canned_cb */
int store_row_token_read(const store_row_in *in, const store_row_cb *c); /* store_token_cb */
int store_row_audit(const store_row_in *in, const store_row_cb *c);     /* store_audit_cb */
int store_row_hook(const store_row_in *in, const store_row_cb *c);      /* store_hook_cb */
int store_row_feed(const store_row_in *in, const store_row_cb *c);      /* store_feed_cb */
int store_row_closed(const store_row_in *in, const store_row_cb *c);    /* store_closed_cb */
/* A token from its row (STORE_ROW_TOKEN_COLS). */
void store_row_token(const store_row_in *in, store_token *t);

/* store_msg_get's callback over a read of at most one message: 'found'
 * says whether there was one; 'cb' gets it. */
typedef struct store_row_one_msg {
    store_msg_cb cb;
    void *arg;
    int found;
} store_row_one_msg;
int store_row_one_msg_cb(void *arg, const store_msg *m);

/* Copies the strings '*a' and '*b' into 'dst' (room for a->n + b->n + 2
 * bytes), NUL-terminated, and points them there. */
void store_row_copy2(char *dst, str *a, str *b);

#endif
