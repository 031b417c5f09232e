/*
 * store_pg: the store (store.h) on PostgreSQL through libpq (Debian's
 * libpq-dev). One connection, used by one thread (the event loop); every
 * data statement is prepared on the connection (PQprepare) when it is
 * made, and made again after a reconnect. Parameters go as text for
 * integers and as binary (length-given bytes) for strings and blobs, so no
 * string is copied or escaped; results come back as text.
 *
 * The schema is a list of migrations applied in order under an advisory
 * lock; the table schema_version records which were applied. Constraints
 * enforce what the code relies on: the event sequence (primary key, > 0),
 * unique (gateway, provider message id) for inbound messages (the message
 * id is "gateway:provider id"), one open conversation per (customer
 * number, entry point) (table conversations), messages reference their
 * event, sessions their account.
 *
 * A lost connection is -ENOTCONN ("unreachable"): the open transaction is
 * gone with it. The next call reconnects (PQreset) before it runs.
 * docs/internals/store.md covers both backends.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "store/store.h"
#include "store/store_int.h"
#include "store/store_row.h"
#include "util/xalloc.h"

#define PG_LOCK_TIMEOUT "200ms" /* as SQLite's busy timeout: then -EBUSY */
#define PG_CONNECT_TIMEOUT "3"  /* seconds, unless the URL says */
#define PG_MIGRATE_LOCK "7413013" /* pg_advisory_xact_lock key while migrating */

/* ---- schema ------------------------------------------------------------- */

/* Version 1: everything store_sqlite.c's versions 1 to 4 hold, plus the
 * conversations table behind the one-open-conversation constraint.
 * Integers are bigint throughout (ms times, ids). */
static const char PG_SCHEMA_V1[] =
    "CREATE TABLE IF NOT EXISTS events ("
    " seq bigint PRIMARY KEY CHECK (seq > 0),"
    " type integer NOT NULL, at bigint NOT NULL,"
    " conv bigint NOT NULL DEFAULT 0, agent bigint NOT NULL DEFAULT 0,"
    " target bigint NOT NULL DEFAULT 0, queue bigint NOT NULL DEFAULT 0,"
    " team bigint NOT NULL DEFAULT 0, ep bigint NOT NULL DEFAULT 0,"
    " reason bigint NOT NULL DEFAULT 0, fallback bigint NOT NULL DEFAULT 0,"
    " capacity bigint NOT NULL DEFAULT 0, msg_seq bigint NOT NULL DEFAULT 0,"
    " state integer NOT NULL DEFAULT 0, kind integer NOT NULL DEFAULT 0,"
    " code integer NOT NULL DEFAULT 0, deadline bigint NOT NULL DEFAULT 0,"
    " key bigint NOT NULL DEFAULT 0, rona_ms bigint NOT NULL DEFAULT 0,"
    " autowrap_ms bigint NOT NULL DEFAULT 0, grace_ms bigint NOT NULL DEFAULT 0,"
    " ids bytea, name text, number text, ep_number text, text text, msg_id text,"
    " var_key text, value text, queue_name text);"
    "CREATE INDEX IF NOT EXISTS events_opened_by_number ON events(number, seq)"
    " WHERE type = " STORE_ROW_T_OPENED ";"
    "CREATE INDEX IF NOT EXISTS events_end_by_conv ON events(conv, seq)"
    " WHERE type IN (" STORE_ROW_T_WRAPPED_UP ", " STORE_ROW_T_CLOSED ");"
    "CREATE INDEX IF NOT EXISTS events_notes_by_conv ON events(conv, seq)"
    " WHERE type IN (18, 22, 23, 25, 27, 31, 35, 36);"
    "CREATE TABLE IF NOT EXISTS messages ("
    " id bigint PRIMARY KEY REFERENCES events(seq),"
    " conv bigint NOT NULL, seq bigint NOT NULL,"
    " outbound integer NOT NULL CHECK (outbound IN (0, 1)),"
    " agent bigint NOT NULL DEFAULT 0, number text, ep_number text, text text,"
    " provider_id text, status integer NOT NULL, error text,"
    " at bigint NOT NULL, status_at bigint NOT NULL,"
    " CHECK ((outbound = 0 AND status = 0) OR (outbound = 1 AND status BETWEEN 1 AND 6)));"
    "CREATE INDEX IF NOT EXISTS messages_conv ON messages(conv, id);"
    "CREATE UNIQUE INDEX IF NOT EXISTS messages_inbound_provider ON messages(provider_id)"
    " WHERE outbound = 0 AND provider_id IS NOT NULL;"
    "CREATE INDEX IF NOT EXISTS messages_outbound_provider ON messages(provider_id)"
    " WHERE outbound = 1 AND provider_id IS NOT NULL;"
    "CREATE INDEX IF NOT EXISTS messages_outbox ON messages(status, id) WHERE outbound = 1;"
    /* one open conversation per (customer number, entry point): open from
     * CONV_OPENED until ENDED, TERMINATED or CLOSED, as the core's pairs */
    "CREATE TABLE IF NOT EXISTS conversations ("
    " conv bigint PRIMARY KEY, number text NOT NULL, ep bigint NOT NULL,"
    " open boolean NOT NULL);"
    "CREATE UNIQUE INDEX IF NOT EXISTS conversations_one_open ON conversations(number, ep)"
    " WHERE open;"
    "CREATE TABLE IF NOT EXISTS inbound_orphans ("
    " id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, at bigint NOT NULL, number text,"
    " ep_number text, text text, provider_id text, reason text);"
    "CREATE TABLE IF NOT EXISTS accounts ("
    " id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, username text NOT NULL UNIQUE,"
    " pwhash text NOT NULL, agent bigint NOT NULL DEFAULT 0, role integer NOT NULL);"
    "CREATE TABLE IF NOT EXISTS sessions ("
    " token_hash bytea PRIMARY KEY,"
    " account bigint NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,"
    " expires_at bigint NOT NULL);"
    "CREATE INDEX IF NOT EXISTS sessions_account ON sessions(account);"
    "CREATE INDEX IF NOT EXISTS sessions_expiry ON sessions(expires_at);"
    "CREATE TABLE IF NOT EXISTS settings (key text PRIMARY KEY, value text NOT NULL);"
    "CREATE TABLE IF NOT EXISTS canned ("
    " id bigint PRIMARY KEY, title text NOT NULL, text_sv text NOT NULL,"
    " text_en text NOT NULL);";

/* v2: satisfaction answers by conversation (the interaction history). */
static const char PG_SCHEMA_V2[] =
    "CREATE INDEX IF NOT EXISTS events_csat_by_conv ON events(conv, seq)"
    " WHERE type = " STORE_ROW_T_CSAT_ANSWERED ";";

/* v3: API tokens (hashes only) and the audit trail, which a trigger keeps
 * append-only (docs/security.md). */
static const char PG_SCHEMA_V3[] =
    "CREATE TABLE IF NOT EXISTS api_tokens ("
    " id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, name text NOT NULL UNIQUE,"
    " hash text NOT NULL UNIQUE, role integer NOT NULL, agent bigint NOT NULL DEFAULT 0,"
    " created_by text, created_at bigint NOT NULL, expires_at bigint NOT NULL DEFAULT 0,"
    " revoked_at bigint NOT NULL DEFAULT 0);"
    "CREATE TABLE IF NOT EXISTS audit ("
    " id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, at bigint NOT NULL,"
    " actor text NOT NULL, via text, peer text, action text NOT NULL, target text,"
    " detail text);"
    "CREATE INDEX IF NOT EXISTS audit_at ON audit(at);"
    "CREATE OR REPLACE FUNCTION textdesk_audit_frozen() RETURNS trigger LANGUAGE plpgsql"
    " AS $$ BEGIN RAISE EXCEPTION 'the audit trail cannot be changed'; END $$;"
    "DROP TRIGGER IF EXISTS audit_frozen ON audit;"
    "CREATE TRIGGER audit_frozen BEFORE UPDATE OR DELETE OR TRUNCATE ON audit"
    " FOR EACH STATEMENT EXECUTE FUNCTION textdesk_audit_frozen();";

/* v5: webhook subscriptions (docs/integration.md) with their cursor over
 * the feed (store_feed), and the delivery statuses of outbound messages
 * for it, recorded by a trigger while a subscription exists. */
static const char PG_SCHEMA_V5[] =
    "CREATE TABLE IF NOT EXISTS webhooks ("
    " id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, name text NOT NULL UNIQUE,"
    " url text NOT NULL, secret text NOT NULL, created_by text, last_error text,"
    " events bigint NOT NULL, masked integer NOT NULL DEFAULT 1,"
    " last_status integer NOT NULL DEFAULT 0, created_at bigint NOT NULL,"
    " cur_seq bigint NOT NULL DEFAULT 0, cur_sid bigint NOT NULL DEFAULT 0,"
    " delivered bigint NOT NULL DEFAULT 0, failures bigint NOT NULL DEFAULT 0,"
    " last_at bigint NOT NULL DEFAULT 0);"
    "CREATE TABLE IF NOT EXISTS msg_statuses ("
    " id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, after_seq bigint NOT NULL,"
    " msg bigint NOT NULL, status integer NOT NULL, at bigint NOT NULL, error text);"
    "CREATE INDEX IF NOT EXISTS msg_statuses_pos ON msg_statuses(after_seq, id);"
    "CREATE INDEX IF NOT EXISTS msg_statuses_msg ON msg_statuses(msg);"
    "CREATE OR REPLACE FUNCTION textdesk_msg_status_feed() RETURNS trigger LANGUAGE plpgsql"
    " AS $$ BEGIN"
    " IF NEW.status <> OLD.status AND NEW.status >= 3 AND EXISTS (SELECT 1 FROM webhooks)"
    " THEN INSERT INTO msg_statuses (after_seq, msg, status, at, error) VALUES ("
    " (SELECT coalesce(max(seq), 0) FROM events), NEW.id, NEW.status, NEW.status_at,"
    " NEW.error); END IF; RETURN NULL; END $$;"
    "DROP TRIGGER IF EXISTS msg_status_feed ON messages;"
    "CREATE TRIGGER msg_status_feed AFTER UPDATE OF status ON messages"
    " FOR EACH ROW EXECUTE FUNCTION textdesk_msg_status_feed();";

/* v6: retention and erasure (docs/privacy.md): what the reports need of a
 * reply whose text is deleted (its segments), the ended conversations in
 * log order, a conversation's opening event. */
static const char PG_SCHEMA_V6[] =
    "CREATE TABLE IF NOT EXISTS msg_segments ("
    " id bigint PRIMARY KEY, segments integer NOT NULL);"
    "CREATE INDEX IF NOT EXISTS events_ended_by_seq ON events(seq) WHERE type IN (31, 32);"
    "CREATE INDEX IF NOT EXISTS events_opened_by_conv ON events(conv) WHERE type = 15;";

/* v7: internal notes and a supervisor's joining, taking over and leaving
 * join the transcript's notes (events 47-50). */
static const char PG_SCHEMA_V7[] =
    "DROP INDEX IF EXISTS events_notes_by_conv;"
    "CREATE INDEX IF NOT EXISTS events_notes2_by_conv ON events(conv, seq)"
    " WHERE type IN (" STORE_ROW_T_NOTES ");";

/* v8: each reply's SMS segments in its event row (MSG_OUT; NULL for every
 * other event), counted when it is appended (store_text_segments), so that
 * a report reads the events alone (store_events_report). Replies stored
 * before keep NULL and are counted from their text when read: a column
 * without a default rewrites nothing, so the migration is instant. */
static const char PG_SCHEMA_V8[] = "ALTER TABLE events ADD COLUMN IF NOT EXISTS segments integer;";

/* The migrations, oldest first; never edit one that has shipped. */
static const struct pg_migration {
    int version;
    const char *sql;
} PG_MIGRATIONS[] = {
    {1, PG_SCHEMA_V1},
    {2, PG_SCHEMA_V2},
    {3, PG_SCHEMA_V3},
    {4, store__pg_schema_v4}, /* leadership and fencing: store_lease.c */
    {5, PG_SCHEMA_V5},        /* webhooks (was 4 on its branch) */
    {6, PG_SCHEMA_V6},        /* retention and erasure */
    {7, PG_SCHEMA_V7},        /* notes of supervisors (was 4 on its branch) */
    {8, PG_SCHEMA_V8},        /* replies' segments in their events */
};
#define PG_N_MIGRATIONS (sizeof PG_MIGRATIONS / sizeof PG_MIGRATIONS[0])
#define PG_SCHEMA_VERSION 8
_Static_assert(PG_N_MIGRATIONS == PG_SCHEMA_VERSION, "PG_SCHEMA_VERSION is the last migration");

/* ---- statements --------------------------------------------------------- */

#define EV_COLS STORE_ROW_EV_COLS
#define MSG_COLS STORE_ROW_MSG_COLS
#define EV_ARRAYS                                                                        \
    "$1::bigint[], $2::bigint[], $3::bigint[], $4::bigint[], $5::bigint[], $6::bigint[],"  \
    " $7::bigint[], $8::bigint[], $9::bigint[], $10::bigint[], $11::bigint[],"            \
    " $12::bigint[], $13::bigint[], $14::bigint[], $15::bigint[], $16::bigint[],"         \
    " $17::bigint[], $18::bigint[], $19::bigint[], $20::bigint[], $21::bigint[],"         \
    " $22::bytea[], $23::text[], $24::text[], $25::text[], $26::text[], $27::text[],"     \
    " $28::text[], $29::text[], $30::text[]"
#define EV_SELECT                                                                        \
    "e.seq, e.type, e.at, e.conv, e.agent, e.target, e.queue, e.team, e.ep, e.reason,"   \
    " e.fallback, e.capacity, e.msg_seq, e.state, e.kind, e.code, e.deadline, e.key,"    \
    " e.rona_ms, e.autowrap_ms, e.grace_ms, e.ids, e.name, e.number, e.ep_number,"

#define PG_STMTS(X)                                                                      \
    X(BEGIN, "BEGIN")                                                                    \
    X(COMMIT, "COMMIT")                                                                  \
    X(ROLLBACK, "ROLLBACK")                                                              \
    /* the appends of a transaction, batched (struct pg_batch): one          \
     * statement for the events, their messages and the conversations they   \
     * open, each column a binary array ($1-$30 and $46 events: $46 a reply's \
     * segments, $31-$41 messages, $42-$45 conversations); a taken seq or a stored inbound provider id    \
     * aborts the transaction */                                                         \
    X(APPEND,                                                                            \
      "WITH e AS (INSERT INTO events (" EV_COLS ", segments) SELECT * FROM unnest("        \
      EV_ARRAYS ", $46::bigint[])),"                                                     \
      " m AS (INSERT INTO messages (id, conv, seq, outbound, agent, number, ep_number,"   \
      " text, provider_id, status, at, status_at) SELECT id, conv, seq, outbound, agent," \
      " number, ep_number, text, provider_id, status, at, at FROM unnest($31::bigint[],"  \
      " $32::bigint[], $33::bigint[], $34::bigint[], $35::bigint[], $36::text[],"         \
      " $37::text[], $38::text[], $39::text[], $40::bigint[], $41::bigint[])"             \
      " AS x(id, conv, seq, outbound, agent, number, ep_number, text, provider_id,"       \
      " status, at))"                                                                    \
      " INSERT INTO conversations (conv, number, ep, open)"                              \
      " SELECT * FROM unnest($42::bigint[], $43::text[], $44::bigint[], $45::boolean[])") \
    /* the conversations a batch ends that an earlier one opened: sent before \
     * its APPEND, so that a customer's next conversation may open in it */              \
    X(ENDS, "UPDATE conversations SET open = false WHERE conv = ANY($1::bigint[]) AND open") \
    X(EV_LOAD, "SELECT " EV_SELECT " coalesce(e.text, m.text), e.msg_id, e.var_key,"     \
               " e.value, e.queue_name FROM events e LEFT JOIN messages m ON m.id = e.seq" \
               " ORDER BY e.seq")                                                        \
    X(EV_REPLAY, "SELECT " EV_SELECT " e.text, e.msg_id, e.var_key, e.value,"            \
                 " e.queue_name FROM events e ORDER BY e.seq")                           \
    X(EV_REPORT, STORE_ROW_REPORT_SELECT("e.segments") " FROM events e WHERE e.seq > $1"  \
                 " ORDER BY e.seq LIMIT $2")                                             \
    X(EV_LAST, "SELECT coalesce(max(seq), 0) FROM events")                               \
    X(EV_AFTER, "SELECT " EV_SELECT " e.text, e.msg_id, e.var_key, e.value,"             \
                " e.queue_name FROM events e WHERE e.seq > $1 ORDER BY e.seq")           \
    X(FENCE, "SELECT textdesk_fence($1)") /* store_fence: docs/internals/ha.md */        \
    X(MSG_OF_CONV, "SELECT " MSG_COLS ", (SELECT name FROM events WHERE seq = messages.id)" \
                   " FROM messages WHERE conv = $1 ORDER BY id")      \
    X(MSG_GET, "SELECT " MSG_COLS " FROM messages WHERE id = $1")                        \
    X(HISTORY, "SELECT o.conv, o.at, o.ep_number, (SELECT c.at FROM events c"            \
               " WHERE c.type = " STORE_ROW_T_CLOSED " AND c.conv = o.conv LIMIT 1)"     \
               " FROM events o WHERE o.type = " STORE_ROW_T_OPENED " AND o.number = $1"  \
               " ORDER BY o.seq DESC LIMIT $2")                                          \
    X(NOTES, "SELECT seq, type, code, agent, target, queue, at, name, text FROM events"              \
             " WHERE type IN (" STORE_ROW_T_NOTES ") AND conv = $1 ORDER BY seq")        \
    X(CANNED_PUT, "INSERT INTO canned (id, title, text_sv, text_en) VALUES ($1, $2, $3,"  \
                  " $4) ON CONFLICT (id) DO UPDATE SET title = excluded.title,"          \
                  " text_sv = excluded.text_sv, text_en = excluded.text_en")             \
    X(CANNED_DEL, "DELETE FROM canned WHERE id = $1")                                    \
    X(CANNED_ALL, "SELECT id, title, text_sv, text_en FROM canned ORDER BY title, id")   \
    X(SEQ_AT, "SELECT at FROM events WHERE seq = $1")                                    \
    X(EV_FROM, "SELECT seq, type, at, conv, agent, target, queue, reason, number,"       \
               " ep_number, code FROM events WHERE seq >= $1 AND conv <> 0 ORDER BY seq"     \
               " LIMIT $2")                                                             \
    X(CSAT, "SELECT reason, text, at, agent FROM events WHERE type = "                   \
            STORE_ROW_T_CSAT_ANSWERED " AND conv = $1 ORDER BY seq")                     \
    X(WRAPUPS, "SELECT agent, reason, at FROM events WHERE type = "                      \
               STORE_ROW_T_WRAPPED_UP " AND conv = $1 ORDER BY seq")                     \
    X(MSG_DUE, "SELECT " MSG_COLS " FROM messages WHERE outbound = 1 AND status = $1"    \
               " ORDER BY id LIMIT $2")                                                  \
    X(MSG_SET_STATUS, "UPDATE messages SET status = $2, status_at = $3,"                 \
                      " provider_id = coalesce($4::text, provider_id),"                  \
                      " error = coalesce($5::text, error) WHERE id = $1 AND outbound = 1") \
    X(MSG_BY_PROVIDER, "SELECT id FROM messages WHERE outbound = 1 AND provider_id = $1" \
                       " ORDER BY id DESC LIMIT 1")                                      \
    X(MSG_RECOVER, "UPDATE messages SET status = $2, status_at = $3"                     \
                   " WHERE outbound = 1 AND status = $1")                                \
    X(IN_EXISTS, "SELECT 1 FROM messages WHERE outbound = 0 AND provider_id = $1")       \
    X(ORPHAN_INSERT, "INSERT INTO inbound_orphans (at, number, ep_number, text,"         \
                     " provider_id, reason) VALUES ($1, $2, $3, $4, $5, $6)")            \
    X(ACCT_INSERT, "INSERT INTO accounts (username, pwhash, agent, role)"                \
                   " VALUES ($1, $2, $3, $4)")                                           \
    X(ACCT_GET, "SELECT id, username, pwhash, agent, role FROM accounts"                 \
                " WHERE username = $1")                                                  \
    X(ACCT_OF_AGENT, "SELECT id, username, pwhash, agent, role FROM accounts"            \
                     " WHERE agent = $1 AND agent <> 0 ORDER BY id LIMIT 1")             \
    X(ACCT_SET_PW, "UPDATE accounts SET pwhash = $2 WHERE username = $1")                \
    X(ACCT_DEL, "DELETE FROM accounts WHERE username = $1")                              \
    X(SESS_INSERT, "INSERT INTO sessions (token_hash, account, expires_at)"              \
                   " VALUES ($1, $2, $3)")                                               \
    X(SESS_GET, "SELECT a.id, a.username, a.pwhash, a.agent, a.role FROM sessions s"     \
                " JOIN accounts a ON a.id = s.account"                                   \
                " WHERE s.token_hash = $1 AND s.expires_at > $2")                        \
    X(SESS_DEL, "DELETE FROM sessions WHERE token_hash = $1")                            \
    X(SESS_PURGE, "DELETE FROM sessions WHERE expires_at <= $1")                         \
    X(SET_PUT, "INSERT INTO settings (key, value) VALUES ($1, $2)"                       \
               " ON CONFLICT (key) DO UPDATE SET value = excluded.value")                \
    X(SET_GET, "SELECT value FROM settings WHERE key = $1")                              \
    X(TOKEN_INSERT, "INSERT INTO api_tokens (name, hash, role, agent, created_by,"       \
                    " created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7)"       \
                    " RETURNING id")                                                     \
    X(TOKEN_GET, "SELECT " STORE_ROW_TOKEN_COLS " FROM api_tokens WHERE hash = $1")      \
    X(TOKENS_ALL, "SELECT " STORE_ROW_TOKEN_COLS " FROM api_tokens ORDER BY id")         \
    X(TOKEN_REVOKE, "UPDATE api_tokens SET revoked_at = $2"                              \
                    " WHERE id = $1 AND revoked_at = 0")                                 \
    X(TOKEN_EXISTS, "SELECT 1 FROM api_tokens WHERE id = $1")                            \
    X(AUDIT_INSERT, "INSERT INTO audit (at, actor, via, peer, action, target, detail)"   \
                    " VALUES ($1, $2, $3, $4, $5, $6, $7)")                              \
    X(AUDIT_LIST, "SELECT " STORE_ROW_AUDIT_COLS " FROM audit WHERE at >= $1"            \
                  " AND ($2::bigint = 0 OR at < $2) AND ($3::text IS NULL OR actor = $3)" \
                  " AND ($4::text IS NULL OR substr(action, 1, length($4)) = $4)"        \
                  " AND ($5::bigint = 0 OR id < $5) ORDER BY id DESC LIMIT $6")          \
    X(HOOK_INSERT, "INSERT INTO webhooks (name, url, secret, created_by, events, masked,"  \
                   " created_at, cur_seq, cur_sid) VALUES ($1, $2, $3, $4, $5, $6, $7,"  \
                   " (SELECT coalesce(max(seq), 0) FROM events),"                        \
                   " (SELECT coalesce(max(id), 0) FROM msg_statuses)) RETURNING id")     \
    X(HOOK_DEL, "DELETE FROM webhooks WHERE id = $1")                                    \
    X(HOOKS_ALL, "SELECT " STORE_ROW_HOOK_COLS " FROM webhooks ORDER BY id")             \
    X(HOOK_PROGRESS, "UPDATE webhooks SET cur_seq = $2, cur_sid = $3, delivered = $4,"   \
                     " failures = $5, last_status = $6, last_at = $7, last_error = $8"   \
                     " WHERE id = $1")                                                   \
    X(FEED, "SELECT * FROM (SELECT " STORE_ROW_FEED_EV " WHERE e.seq > $1 AND e.type IN (" \
            STORE_ROW_T_FEED ") ORDER BY e.seq LIMIT $3) a UNION ALL SELECT * FROM (SELECT " \
            STORE_ROW_FEED_ST " WHERE s.after_seq > $1 OR (s.after_seq = $1 AND s.id > $2)" \
            " ORDER BY s.after_seq, s.id LIMIT $3) b ORDER BY 1, 2 LIMIT $3")           \
    X(CLOSED_SINCE, "SELECT c.seq, c.at, c.conv, coalesce(o.ep, 0) FROM events c"          \
                    " LEFT JOIN events o ON o.type = 15 AND o.conv = c.conv"              \
                    " WHERE c.type IN (31, 32) AND c.seq > $1 ORDER BY c.seq LIMIT $2")   \
    X(MSG_FORGET, "UPDATE messages SET text = NULL WHERE id = $1")                       \
    X(MSG_SEGMENTS, "INSERT INTO msg_segments (id, segments) VALUES ($1, $2)"            \
                    " ON CONFLICT (id) DO NOTHING")                                      \
    X(CSAT_FORGET, "UPDATE events SET text = NULL WHERE type = 45 AND conv = $1"         \
                   " AND text IS NOT NULL")                                              \
    X(ORPHANS_FORGET, "UPDATE inbound_orphans SET text = NULL WHERE at < $1"             \
                      " AND text IS NOT NULL")                                           \
    X(ERASE_CONVS, "UPDATE conversations SET number = 'erased-' || conv::text"           \
                   " WHERE conv IN (SELECT conv FROM events WHERE type = 15"             \
                   " AND number = $1)")                                                  \
    X(ERASE_EVENTS, "UPDATE events SET number = 'erased-' || conv::text,"                \
                    " name = CASE WHEN type IN (15, 34) THEN NULL ELSE name END,"        \
                    " value = CASE WHEN type = 33 THEN NULL ELSE value END,"             \
                    " text = CASE WHEN type = 45 THEN NULL ELSE text END"                \
                    " WHERE conv IN (SELECT conv FROM events WHERE type = 15"            \
                    " AND number = $1) AND type NOT IN (35, 36)")                        \
    X(ERASE_MSGS, "UPDATE messages SET number = 'erased-' || conv::text, text = NULL"    \
                  " WHERE conv IN (SELECT conv FROM events WHERE type = 15"              \
                  " AND number = $1)")                                                   \
    X(ERASE_COUNT, "SELECT count(*) FROM events WHERE type = 15 AND number = $1")        \
    X(ERASE_ORPHANS, "DELETE FROM inbound_orphans WHERE number = $1")                    \
    X(CHECK_STATUS, "SELECT 'message ' || id || ' has status ' || status FROM messages"  \
                    " WHERE (outbound = 0 AND status <> 0)"                              \
                    " OR (outbound = 1 AND status NOT BETWEEN 1 AND 6) LIMIT 1")         \
    X(CHECK_CONV, "SELECT 'conversation ' || o.conv || ' has no conversations row'"      \
                  " FROM events o LEFT JOIN conversations c ON c.conv = o.conv"          \
                  " WHERE o.type = " STORE_ROW_T_OPENED " AND c.conv IS NULL LIMIT 1")

enum pg_stmt {
#define X(name, sql) P_##name,
    PG_STMTS(X)
#undef X
    P__COUNT
};

static const char *const PG_SQL[P__COUNT] = {
#define X(name, sql) sql,
    PG_STMTS(X)
#undef X
};

static const char *const PG_NAME[P__COUNT] = {
#define X(name, sql) "td_" #name,
    PG_STMTS(X)
#undef X
};

/* A connection and its state. */
typedef struct pgc {
    PGconn *c;
    int ready;   /* statements prepared on it */
    int broken;  /* it failed: make a new one */
    int pipe;    /* in pipeline mode (appends of the open transaction) */
    int nqueued; /* statements sent since the last sync */
    int perr;    /* the first error read so far from a pipeline read in parts */
    int begin_pending; /* BEGIN sent, its answer not read yet (store_unsent) */
} pgc;

/* One column of the batched appends: a PostgreSQL binary array (header,
 * then each element as its length and bytes; -1: NULL) of 'oid'. */
typedef struct pg_col {
    unsigned char *p; /* the first PG_ARR_HEAD bytes: the header, written at send */
    size_t n, cap;
} pg_col;

enum {
    PG_EV_COLS = STORE_ROW_NCOLS, /* events: $1-$30 */
    PG_MSG_COLS = 11,             /* messages: $31-$41 */
    PG_CONV_COLS = 4,             /* conversations opened: $42-$45 */
    PG_SEG_COL = PG_EV_COLS + PG_MSG_COLS + PG_CONV_COLS, /* events.segments: $46 */
    PG_APPEND_COLS = PG_SEG_COL + 1,
    PG_BATCH_MAX = 1000, /* events a statement carries at most */
};

/* The appends of the open transaction not sent yet: they go out as one
 * APPEND (and one ENDS) when the transaction needs the database for
 * something else, at its commit at the latest, or every PG_BATCH_MAX
 * events. */
typedef struct pg_batch {
    pg_col col[PG_APPEND_COLS];
    int nev, nmsg, nconv; /* rows in each table's columns */
    pg_col ends;          /* conversations ended that no open of this batch opened */
    int nends;
    int64_t *opened;      /* the conversations this batch opens (their row in col) */
    size_t opened_cap;
} pg_batch;

typedef struct pg {
    store base; /* first: the ops and the last error */
    pg_batch batch;
    pgc conns[2];
    pgc *k;      /* the connection every call uses */
    pgc *flight; /* the other one while its COMMIT is under way, or NULL */
    char *conninfo;     /* what store_open was given, to connect again */
    int tx;             /* between store_begin and commit / rollback */
    int fenced;         /* store_fence: every transaction checks 'epoch' first */
    int64_t epoch;
    int sync_off;       /* store_set_sync(st, 0) */
    store_row_buf row;  /* event <-> columns scratch */
    unsigned char *bin; /* bytea decoding scratch */
    size_t bin_cap;
    char *acct; /* account strings handed out by *_get */
    size_t acct_cap;
} pg;

static const struct store_ops PG_OPS;

/* ---- parameters ---------------------------------------------------------- */

#define PG_MAXP 36
typedef struct pargs {
    int n;
    const char *v[PG_MAXP];
    int len[PG_MAXP];
    int fmt[PG_MAXP];
    char num[PG_MAXP][24];
} pargs;

static void p_int(pargs *a, int64_t x)
{
    snprintf(a->num[a->n], sizeof a->num[0], "%lld", (long long)x);
    a->v[a->n] = a->num[a->n];
    a->len[a->n] = 0;
    a->fmt[a->n] = 0;
    a->n++;
}

/* A string or blob as binary (its bytes, length given); NULL when empty. */
static void p_str(pargs *a, str s)
{
    a->v[a->n] = s.n ? s.p : NULL;
    a->len[a->n] = (int)s.n;
    a->fmt[a->n] = 1;
    a->n++;
}

/* The same, but '' rather than NULL when empty (NOT NULL columns). */
static void p_text(pargs *a, str s)
{
    a->v[a->n] = s.n ? s.p : "";
    a->len[a->n] = (int)s.n;
    a->fmt[a->n] = 1;
    a->n++;
}

/* ---- errors -------------------------------------------------------------- */

static void set_err(pg *st, const char *msg)
{
    snprintf(st->base.err, sizeof st->base.err, "%s", msg && *msg ? msg : "unknown error");
    size_t n = strlen(st->base.err);
    while (n && (st->base.err[n - 1] == '\n' || st->base.err[n - 1] == ' '))
        st->base.err[--n] = '\0';
}

/* Puts 'pre' before the recorded message. */
static void err_prefix(pg *st, const char *pre)
{
    size_t k = strlen(pre), cap = sizeof st->base.err;
    if (k >= cap)
        return;
    size_t n = strnlen(st->base.err, cap - 1);
    if (n + k >= cap)
        n = cap - 1 - k;
    memmove(st->base.err + k, st->base.err, n);
    memcpy(st->base.err, pre, k);
    st->base.err[k + n] = '\0';
}

/* Maps a failed result on connection 'k' (NULL: no result at all) to the
 * store's errno. */
static int fail_on(pg *st, pgc *k, const PGresult *res)
{
    set_err(st, res ? PQresultErrorMessage(res) : PQerrorMessage(k->c));
    const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
    if (PQstatus(k->c) != CONNECTION_OK || state == NULL || strncmp(state, "08", 2) == 0 ||
        strcmp(state, "57P01") == 0 || strcmp(state, "57P02") == 0 ||
        strcmp(state, "57P03") == 0) {
        k->ready = 0;  /* prepare again on the next connection */
        k->broken = 1; /* libpq may not have noticed yet: connect again */
        err_prefix(st, "database unreachable: ");
        return -ENOTCONN;
    }
    if (strcmp(state, "TD001") == 0) /* textdesk_fence: another node leads */
        return -ESTALE;
    if (strcmp(state, "23505") == 0)
        return -EEXIST;
    if (strcmp(state, "23503") == 0)
        return -ENOENT;
    if (strcmp(state, "53100") == 0)
        return -ENOSPC;
    if (strcmp(state, "53200") == 0)
        return -ENOMEM;
    if (strcmp(state, "55P03") == 0 || strcmp(state, "40P01") == 0 ||
        strcmp(state, "40001") == 0)
        return -EBUSY;
    return -EIO;
}

static int fail(pg *st, const PGresult *res)
{
    return fail_on(st, st->k, res);
}

static int einval(pg *st, const char *why)
{
    return store__fail(&st->base, -EINVAL, "invalid argument: %s", why);
}

/* ---- connection ----------------------------------------------------------- */

/* Runs a statement that is not data (session settings, schema). */
static int exec_sql(pg *st, const char *sql)
{
    st->base.waits++;
    PGresult *res = PQexec(st->k->c, sql);
    ExecStatusType s = PQresultStatus(res);
    int r = s == PGRES_COMMAND_OK || s == PGRES_TUPLES_OK ? 0 : fail(st, res);
    PQclear(res);
    return r;
}

/* Session settings and prepared statements of a new connection. */
static int setup(pg *st)
{
    int r;
    if ((r = exec_sql(st, "SET lock_timeout = '" PG_LOCK_TIMEOUT "'")) != 0 ||
        (r = exec_sql(st, st->sync_off ? "SET synchronous_commit = off"
                                       : "SET synchronous_commit = on")) != 0 ||
        (r = exec_sql(st, "SET client_min_messages = warning")) != 0)
        return r;
    for (int i = 0; i < P__COUNT; i++) {
        st->base.waits++;
        PGresult *res = PQprepare(st->k->c, PG_NAME[i], PG_SQL[i], 0, NULL);
        if (PQresultStatus(res) != PGRES_COMMAND_OK) {
            r = fail(st, res);
            char pre[64];
            snprintf(pre, sizeof pre, "preparing %s: ", PG_NAME[i]);
            err_prefix(st, pre);
            PQclear(res);
            st->k->broken = 1; /* some are prepared: start again on a new connection */
            return r;
        }
        PQclear(res);
    }
    st->k->ready = 1;
    return 0;
}

/* The message of a failed pipelined append, in the store's words. */
static int fail_append(pg *st, pgc *k, const PGresult *res)
{
    int r = fail_on(st, k, res);
    const char *c = PQresultErrorField(res, PG_DIAG_CONSTRAINT_NAME);
    if (r == -EEXIST && c && strcmp(c, "events_pkey") == 0)
        err_prefix(st, "UNIQUE constraint failed: events.seq: ");
    else if (r == -EEXIST && c && strcmp(c, "messages_inbound_provider") == 0)
        err_prefix(st, "UNIQUE constraint failed: messages.provider_id: ");
    else if (r == -EEXIST && c && strcmp(c, "conversations_one_open") == 0)
        err_prefix(st, "the customer already has an open conversation on this entry point: ");
    return r;
}

/* Reads what arrived for connection 'k's pipeline without waiting: 1 while
 * its sync point has not come, else 0 with the first error in '*r'. With
 * 'wait', waits for it. */
static int pipe_read(pg *st, pgc *k, int wait, int *r)
{
    if (*r == 0) /* an append's error read by an earlier call that did not wait */
        *r = k->perr;
    k->perr = 0;
    if (!wait && !PQconsumeInput(k->c)) {
        if (*r == 0)
            *r = fail_on(st, k, NULL);
        k->nqueued = 0;
        return 0;
    }
    while (*r != -ENOTCONN) {
        if (!wait && PQisBusy(k->c)) {
            k->perr = *r;
            return 1;
        }
        PGresult *res = PQgetResult(k->c);
        if (res == NULL) {
            if (PQstatus(k->c) != CONNECTION_OK) {
                *r = fail_on(st, k, NULL);
                break;
            }
            continue; /* between two statements' results */
        }
        ExecStatusType t = PQresultStatus(res);
        if (t == PGRES_COMMAND_OK) /* the first answer is BEGIN's: it began */
            k->begin_pending = 0;
        if (t == PGRES_PIPELINE_SYNC) {
            PQclear(res);
            break;
        }
        if (t == PGRES_FATAL_ERROR && *r == 0)
            *r = fail_append(st, k, res);
        PQclear(res);
    }
    k->nqueued = 0;
    return 0;
}

/* Reads the results of everything sent since the last sync; the first
 * error, or 0. */
static int drain(pg *st)
{
    if (st->k->nqueued == 0)
        return 0;
    int r = 0;
    if (!PQpipelineSync(st->k->c))
        r = fail(st, NULL);
    st->base.waits++;
    pipe_read(st, st->k, 1, &r);
    return r;
}

/* After the answers of a transaction's pipeline were read on 'k' with
 * 'r': whether a failure means it never began (store_unsent). */
static int unsent(pg *st, pgc *k, int r)
{
    if (k->begin_pending) { /* otherwise BEGIN's answer came: it began */
        st->base.unsent = r == -ENOTCONN;
        k->begin_pending = 0;
    }
    return r;
}

/* Leaves pipeline mode (after reading what is pending): the first error of
 * the pipelined appends, or 0. */
static int pipe_off(pg *st)
{
    if (!st->k->pipe)
        return 0;
    int r = unsent(st, st->k, drain(st));
    st->k->pipe = 0;
    if (PQstatus(st->k->c) == CONNECTION_OK && !PQexitPipelineMode(st->k->c) && r == 0)
        r = fail(st, NULL);
    return r;
}

/* Sends a prepared statement with its parameters into the pipeline,
 * entering it if need be. */
static int pipe_raw(pg *st, int stmt, int n, const char *const *v, const int *len,
                    const int *fmt)
{
    if (!st->k->pipe) {
        if (!PQenterPipelineMode(st->k->c))
            return fail(st, NULL);
        st->k->pipe = 1;
    }
    if (!PQsendQueryPrepared(st->k->c, PG_NAME[stmt], n, v, len, fmt, 0))
        return fail(st, NULL);
    /* read now and then: a client that only writes, to a server that
     * cannot write its results back, would wait for ever */
    if (++st->k->nqueued >= 1000)
        return drain(st);
    return 0;
}

/* ---- batched appends (pg_batch) ------------------------------------------ */

#define PG_ARR_HEAD 20 /* ndim, flags, element type, length, lower bound */
enum { OID_BOOL = 16, OID_BYTEA = 17, OID_INT8 = 20, OID_TEXT = 25 };

static void arr_put(pg_col *c, const void *b, size_t n)
{
    if (c->n < PG_ARR_HEAD)
        c->n = PG_ARR_HEAD;
    if (c->n + n > c->cap) {
        c->cap = (c->n + n) * 2;
        c->p = xrealloc(c->p, c->cap);
    }
    if (n)
        memcpy(c->p + c->n, b, n);
    c->n += n;
}

static void be32(unsigned char *b, uint32_t v)
{
    b[0] = (unsigned char)(v >> 24);
    b[1] = (unsigned char)(v >> 16);
    b[2] = (unsigned char)(v >> 8);
    b[3] = (unsigned char)v;
}

static void arr_len(pg_col *c, uint32_t n)
{
    unsigned char b[4];
    be32(b, n);
    arr_put(c, b, 4);
}

static void arr_i64(pg_col *c, int64_t v)
{
    unsigned char b[12];
    be32(b, 8);
    be32(b + 4, (uint32_t)((uint64_t)v >> 32));
    be32(b + 8, (uint32_t)v);
    arr_put(c, b, sizeof b);
}

/* A string or blob; NULL when empty (as p_str). */
static void arr_str(pg_col *c, str s)
{
    arr_len(c, s.n ? (uint32_t)s.n : UINT32_MAX);
    arr_put(c, s.p, s.n);
}

/* The same, but '' rather than NULL when empty (as p_text). */
static void arr_text(pg_col *c, str s)
{
    arr_len(c, (uint32_t)s.n);
    arr_put(c, s.p, s.n);
}

static void arr_bool(pg_col *c, int v)
{
    unsigned char b[5] = {0, 0, 0, 1, (unsigned char)(v != 0)};
    arr_put(c, b, sizeof b);
}

/* Writes the header of an array of 'count' elements of 'oid'; its length. */
static int arr_finish(pg_col *c, uint32_t oid, int count)
{
    arr_put(c, NULL, 0);
    be32(c->p, count ? 1 : 0);
    be32(c->p + 4, 0);
    be32(c->p + 8, oid);
    be32(c->p + 12, (uint32_t)count);
    be32(c->p + 16, 1);
    return count ? (int)c->n : 12;
}

static void batch_clear(pg_batch *b)
{
    for (int i = 0; i < PG_APPEND_COLS; i++)
        b->col[i].n = 0;
    b->ends.n = 0;
    b->nev = b->nmsg = b->nconv = b->nends = 0;
}

static void batch_free(pg_batch *b)
{
    for (int i = 0; i < PG_APPEND_COLS; i++)
        free(b->col[i].p);
    free(b->ends.p);
    free(b->opened);
}

/* The element type of APPEND's column 'i'. */
static uint32_t append_oid(int i)
{
    if (i < PG_EV_COLS) /* STORE_ROW_EV_COLS: the integers, ids, the strings */
        return i < STORE_ROW_NINT ? OID_INT8 : i == STORE_ROW_NINT ? OID_BYTEA : OID_TEXT;
    i -= PG_EV_COLS;
    if (i < PG_MSG_COLS) /* id conv seq outbound agent, 4 strings, status at */
        return i >= 5 && i <= 8 ? OID_TEXT : OID_INT8;
    i -= PG_MSG_COLS;
    static const uint32_t conv[PG_CONV_COLS + 1] = {OID_INT8, OID_TEXT, OID_INT8, OID_BOOL,
                                                    OID_INT8 /* segments */};
    return conv[i];
}

/* Sends the batched appends (ENDS first, then APPEND). */
static int batch_send(pg *st)
{
    pg_batch *b = &st->batch;
    if (b->nev == 0)
        return 0;
    const char *v[PG_APPEND_COLS];
    int len[PG_APPEND_COLS], fmt[PG_APPEND_COLS], r = 0;
    for (int i = 0; i < PG_APPEND_COLS; i++)
        fmt[i] = 1;
    if (b->nends) {
        len[0] = arr_finish(&b->ends, OID_INT8, b->nends);
        v[0] = (const char *)b->ends.p;
        r = pipe_raw(st, P_ENDS, 1, v, len, fmt);
    }
    for (int i = 0; i < PG_APPEND_COLS && r == 0; i++) {
        int count = i < PG_EV_COLS || i == PG_SEG_COL ? b->nev
                    : i < PG_EV_COLS + PG_MSG_COLS  ? b->nmsg
                                                    : b->nconv;
        len[i] = arr_finish(&b->col[i], append_oid(i), count);
        v[i] = (const char *)b->col[i].p;
    }
    if (r == 0)
        r = pipe_raw(st, P_APPEND, PG_APPEND_COLS, v, len, fmt);
    batch_clear(b);
    return r;
}

/* Sends a prepared statement into the pipeline, after the appends before
 * it. */
static int pipe_send(pg *st, int stmt, const pargs *a)
{
    int r = batch_send(st);
    if (r != 0)
        return r;
    return pipe_raw(st, stmt, a ? a->n : 0, a ? a->v : NULL, a ? a->len : NULL,
                    a ? a->fmt : NULL);
}

/* libpq prints the server's notices on stderr by default; the store says
 * what matters through its errors. But a FATAL error that comes while the
 * connection is idle arrives as a notice (the server ending it: killed,
 * shutting down): the connection is then marked broken, so the next
 * transaction begins on a new one (pg_begin). */
static void on_notice(void *arg, const PGresult *res)
{
    pgc *k = arg;
    const char *sev = PQresultErrorField(res, PG_DIAG_SEVERITY_NONLOCALIZED);
    if (sev && (strcmp(sev, "FATAL") == 0 || strcmp(sev, "PANIC") == 0))
        k->broken = 1;
}

static PGconn *pg_connect(const char *conninfo, pgc *k)
{
    /* the URL (expanded) first; what follows fills in what it leaves out */
    const char *keys[] = {"dbname", "connect_timeout", "application_name", NULL};
    const char *vals[] = {conninfo, PG_CONNECT_TIMEOUT, "textdesk", NULL};
    if (strstr(conninfo, "connect_timeout"))
        keys[1] = vals[1] = NULL;
    PGconn *c = PQconnectdbParams(keys, vals, 1);
    PQsetNoticeReceiver(c, on_notice, k);
    return c;
}

/* Makes sure there is a connection with the statements prepared:
 * reconnects after a loss. 0 or -ENOTCONN. */
static int connected(pg *st)
{
    if (st->tx && st->batch.nev) { /* a statement that waits: the appends first */
        int r = batch_send(st);
        if (r != 0)
            return r;
    }
    if (st->k->pipe) { /* a statement that waits for its answer: the appends first */
        int r = pipe_off(st);
        if (r != 0)
            return r;
    }
    /* an idle connection the server closed (killed, restarted) has its
     * goodbye waiting in the socket: read it without waiting (PQisBusy
     * parses it: on_notice) */
    if (!st->tx && st->k->c && PQstatus(st->k->c) == CONNECTION_OK &&
        (!PQconsumeInput(st->k->c) || PQisBusy(st->k->c)))
        st->k->broken = 1;
    if (st->k->ready && !st->k->broken && PQstatus(st->k->c) == CONNECTION_OK)
        return 0;
    if (st->tx) /* the transaction died with the connection: never go on without it */
        return store__fail(&st->base, -ENOTCONN, "database unreachable: the connection was"
                                                 " lost inside a transaction");
    if (PQstatus(st->k->c) != CONNECTION_OK || st->k->broken) {
        st->k->pipe = st->k->nqueued = st->k->broken = st->k->begin_pending = 0;
        PQfinish(st->k->c); /* a new one: nothing of the old (pipeline, results) */
        st->base.waits++;
        st->k->c = pg_connect(st->conninfo, st->k);
        if (PQstatus(st->k->c) != CONNECTION_OK) {
            set_err(st, PQerrorMessage(st->k->c));
            err_prefix(st, "database unreachable: ");
            return -ENOTCONN;
        }
    }
    st->k->ready = 0;
    return setup(st);
}

static PGresult *run_p(pg *st, int stmt, const pargs *a)
{
    st->base.waits++;
    return PQexecPrepared(st->k->c, PG_NAME[stmt], a ? a->n : 0, a ? a->v : NULL,
                          a ? a->len : NULL, a ? a->fmt : NULL, 0);
}

/* Runs a statement that returns no rows; 0 or an error. '*changed' gets
 * the number of rows it changed. */
/* A node of a cluster writes only inside transactions, which the fence
 * guards (store_fence, docs/internals/ha.md): a write outside one would
 * not be fenced. */
static int unfenced(pg *st, int stmt)
{
    if (!st->fenced || st->tx || stmt == P_BEGIN || stmt == P_COMMIT || stmt == P_ROLLBACK)
        return 0;
    return einval(st, "in a cluster (store_fence) every write goes in a transaction");
}

static int run(pg *st, int stmt, const pargs *a, int64_t *changed)
{
    int r = unfenced(st, stmt);
    if (r != 0)
        return r;
    r = connected(st);
    if (r != 0)
        return r;
    PGresult *res = run_p(st, stmt, a);
    ExecStatusType s = PQresultStatus(res);
    if (s == PGRES_COMMAND_OK || s == PGRES_TUPLES_OK) {
        if (changed)
            *changed = strtoll(PQcmdTuples(res), NULL, 10);
    } else {
        r = fail(st, res);
    }
    PQclear(res);
    return r;
}

/* Runs a query; the result (PGRES_TUPLES_OK) in '*out', or an error. */
static int query_once(pg *st, int stmt, const pargs *a, PGresult **out)
{
    *out = NULL;
    int r = connected(st);
    if (r != 0)
        return r;
    PGresult *res = run_p(st, stmt, a);
    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        r = fail(st, res);
        PQclear(res);
        return r;
    }
    *out = res;
    return 0;
}

/* A read found the connection dead outside a transaction: reading again
 * on a new one is harmless. */
static int query(pg *st, int stmt, const pargs *a, PGresult **out)
{
    int r = query_once(st, stmt, a, out);
    if (r == -ENOTCONN && !st->tx)
        r = query_once(st, stmt, a, out);
    return r;
}

/* A run that must change a row: -ENOENT with 'fmt' when none. */
static int run_changed(pg *st, int stmt, const pargs *a, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int run_changed(pg *st, int stmt, const pargs *a, const char *fmt, ...)
{
    int64_t n = 0;
    int r = run(st, stmt, a, &n);
    if (r == 0 && n == 0) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(st->base.err, sizeof st->base.err, fmt, ap);
        va_end(ap);
        r = -ENOENT;
    }
    return r;
}

static int64_t col_i64(const PGresult *res, int row, int col)
{
    return PQgetisnull(res, row, col) ? 0 : strtoll(PQgetvalue(res, row, col), NULL, 10);
}

/* A text column as a view; NULL and '' both give {NULL, 0}. */
static str col_str(const PGresult *res, int row, int col)
{
    int n = PQgetlength(res, row, col);
    return n ? (str){PQgetvalue(res, row, col), (size_t)n} : STR_NULL;
}

static int hexval(int c)
{
    return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* A bytea column (text form "\x0a1b...") as bytes in the scratch. */
static str col_bytea(pg *st, const PGresult *res, int row, int col)
{
    const char *v = PQgetvalue(res, row, col);
    size_t n = (size_t)PQgetlength(res, row, col);
    if (n < 2 || v[0] != '\\' || v[1] != 'x')
        return STR_NULL;
    size_t k = (n - 2) / 2;
    if (k > st->bin_cap) {
        st->bin_cap = k;
        st->bin = xrealloc(st->bin, k);
    }
    for (size_t i = 0; i < k; i++) {
        int hi = hexval(v[2 + 2 * i]), lo = hexval(v[3 + 2 * i]);
        if (hi < 0 || lo < 0)
            return (str){(const char *)st->bin, 1}; /* not a multiple of 4: corrupt */
        st->bin[i] = (unsigned char)(hi << 4 | lo);
    }
    return (str){(const char *)st->bin, k};
}

/* ---- migrations and open ------------------------------------------------- */

static int migrate(pg *st, int64_t *version)
{
    int r;
    if ((r = exec_sql(st, "BEGIN")) != 0)
        return r;
    PGresult *res = NULL;
    if ((r = exec_sql(st, "SELECT pg_advisory_xact_lock(" PG_MIGRATE_LOCK ")")) != 0 ||
        (r = exec_sql(st, "CREATE TABLE IF NOT EXISTS schema_version ("
                          " version integer PRIMARY KEY,"
                          " applied_at timestamptz NOT NULL DEFAULT now())")) != 0)
        goto fail;
    res = PQexec(st->k->c, "SELECT coalesce(max(version), 0) FROM schema_version");
    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        r = fail(st, res);
        goto fail;
    }
    *version = col_i64(res, 0, 0);
    PQclear(res);
    res = NULL;
    if (*version > PG_SCHEMA_VERSION) {
        r = store__fail(&st->base, -EINVAL,
                        "schema version %lld is newer than this build's %d; refusing to open"
                        " (run a newer textdesk)",
                        (long long)*version, PG_SCHEMA_VERSION);
        goto fail;
    }
    for (size_t i = 0; i < PG_N_MIGRATIONS; i++) {
        const struct pg_migration *m = &PG_MIGRATIONS[i];
        if (m->version <= *version)
            continue;
        char ins[96];
        snprintf(ins, sizeof ins, "INSERT INTO schema_version (version) VALUES (%d)",
                 m->version);
        if ((r = exec_sql(st, m->sql)) != 0 || (r = exec_sql(st, ins)) != 0) {
            char pre[64];
            snprintf(pre, sizeof pre, "migration to schema version %d failed: ", m->version);
            err_prefix(st, pre);
            goto fail;
        }
    }
    return exec_sql(st, "COMMIT");
fail:
    PQclear(res);
    PQclear(PQexec(st->k->c, "ROLLBACK"));
    return r;
}

static void pg_close(store *st_);

store *store__pg_open(const char *conninfo, char *err, size_t errlen)
{
    pg *st = xcalloc(1, sizeof *st);
    st->base.ops = &PG_OPS;
    st->k = &st->conns[0];
    st->conninfo = xmemdup0(conninfo, strlen(conninfo));
    const char *stage = "cannot connect to";
    int64_t version = 0;
    st->k->c = pg_connect(conninfo, st->k);
    int r = -ENOTCONN;
    if (PQstatus(st->k->c) != CONNECTION_OK) {
        set_err(st, PQerrorMessage(st->k->c));
        goto out;
    }
    stage = "cannot migrate";
    if ((r = migrate(st, &version)) != 0)
        goto out;
    stage = "cannot prepare statements for";
    r = setup(st);
out:;
    /* never echo the connection string: it may hold a password */
    const char *db = PQdb(st->k->c), *host = PQhost(st->k->c), *port = PQport(st->k->c);
    snprintf(st->base.where, sizeof st->base.where, "PostgreSQL database '%.64s' on %.100s:%.16s",
             db ? db : "?", host && *host ? host : "?", port && *port ? port : "?");
    if (r != 0) {
        snprintf(err, errlen, "%s %s: %s", stage, st->base.where, st->base.err);
        pg_close(&st->base);
        return NULL;
    }
    st->base.err[0] = '\0';
    return &st->base;
}

static void pg_close(store *st_)
{
    pg *st = (pg *)st_;
    PQfinish(st->conns[0].c);
    PQfinish(st->conns[1].c);
    store_row_buf_free(&st->row);
    batch_free(&st->batch);
    free(st->bin);
    free(st->acct);
    free(st->conninfo);
    free(st);
}

static int pg_set_sync(store *st_, int full)
{
    pg *st = (pg *)st_;
    st->sync_off = !full;
    int r = connected(st);
    if (r != 0)
        return r;
    return exec_sql(st, full ? "SET synchronous_commit = on" : "SET synchronous_commit = off");
}

/* ---- transactions -------------------------------------------------------- */

/* BEGIN goes into the pipeline with the appends and the COMMIT: the
 * whole transaction is one round trip, and the loop never waits for it.
 * A connection found dead while idle (its goodbye read without waiting:
 * killed, server restarted) is replaced first; one that dies unseen fails
 * the transaction, and store_unsent then says whether it never began (the
 * first answer, BEGIN's, never came: run it again) or may have been kept. */
static int pg_begin(store *st_)
{
    pg *st = (pg *)st_;
    if (st->tx)
        return einval(st, "a transaction is already open");
    st->base.unsent = 0;
    batch_clear(&st->batch);
    int r = connected(st);
    if (r != 0)
        return r;
    if ((r = pipe_send(st, P_BEGIN, NULL)) != 0)
        return r;
    st->k->begin_pending = 1;
    st->tx = 1;
    if (st->fenced) { /* its error comes with the commit at the latest */
        pargs a = {0};
        p_int(&a, st->epoch);
        r = pipe_send(st, P_FENCE, &a);
    }
    return r;
}



static int pg_commit(store *st_)
{
    pg *st = (pg *)st_;
    if (!st->tx)
        return einval(st, "no transaction is open");
    if (PQstatus(st->k->c) != CONNECTION_OK)
        return fail(st, NULL);
    if (!st->k->pipe && PQtransactionStatus(st->k->c) == PQTRANS_INERROR)
        return store__fail(&st->base, -EIO, "the transaction failed earlier; roll it back");
    /* a COMMIT that gets no answer may or may not have committed: the
     * caller treats it as failed and rebuilds from what was stored */
    int r;
    if (st->k->pipe) { /* the appends and the COMMIT: one round trip */
        r = pipe_send(st, P_COMMIT, NULL);
        int d = pipe_off(st);
        r = r ? r : d;
        if (r == 0 && PQtransactionStatus(st->k->c) != PQTRANS_IDLE)
            r = store__fail(&st->base, -EIO, "the transaction did not commit");
    } else {
        r = run(st, P_COMMIT, NULL, NULL);
    }
    if (r == 0)
        st->tx = 0;
    return r;
}

/* The asynchronous commit: the COMMIT goes behind the appends, and this
 * connection waits for its answer aside while the other one serves every
 * other call (connected on first use). The loop polls pg_commit_finish. */
static int pg_commit_start(store *st_)
{
    pg *st = (pg *)st_;
    if (!st->tx)
        return einval(st, "no transaction is open");
    if (st->flight)
        return einval(st, "a commit is under way");
    if (PQstatus(st->k->c) != CONNECTION_OK || st->k->broken)
        return fail(st, NULL);
    int r = pipe_send(st, P_COMMIT, NULL);
    if (r == 0 && !PQpipelineSync(st->k->c))
        r = fail(st, NULL);
    if (r != 0)
        return r; /* the caller rolls back */
    st->tx = 0;
    st->flight = st->k;
    st->k = st->k == &st->conns[0] ? &st->conns[1] : &st->conns[0];
    return 0;
}

static int pg_commit_finish(store *st_, int *done)
{
    pg *st = (pg *)st_;
    pgc *f = st->flight;
    *done = 1;
    if (!f)
        return einval(st, "no commit is under way");
    int r = 0;
    if (pipe_read(st, f, 0, &r)) {
        *done = 0;
        return 0;
    }
    st->flight = NULL;
    f->pipe = 0;
    r = unsent(st, f, r);
    if (PQstatus(f->c) == CONNECTION_OK && !f->broken) {
        if (!PQexitPipelineMode(f->c) && r == 0)
            r = fail_on(st, f, NULL);
        if (r == 0 && PQtransactionStatus(f->c) != PQTRANS_IDLE)
            r = store__fail(&st->base, -EIO, "the transaction did not commit");
        if (r != 0 && PQtransactionStatus(f->c) != PQTRANS_IDLE) /* failed earlier */
            PQclear(PQexec(f->c, "ROLLBACK"));
    }
    return r;
}

static int pg_commit_fd(const store *st_)
{
    const pg *st = (const pg *)st_;
    return st->flight ? PQsocket(st->flight->c) : -1;
}

static int pg_rollback(store *st_)
{
    pg *st = (pg *)st_;
    if (!st->tx)
        return 0; /* none open */
    st->tx = 0;
    batch_clear(&st->batch); /* never sent: nothing of it to undo */
    pipe_off(st); /* its error is the caller's reason to roll back */
    if (PQstatus(st->k->c) != CONNECTION_OK || st->k->broken ||
        PQtransactionStatus(st->k->c) == PQTRANS_IDLE)
        return 0; /* the connection or the server took it with it */
    return run(st, P_ROLLBACK, NULL, NULL);
}

/* ---- event log ----------------------------------------------------------- */

/* Appends are batched (pg_batch) and go into the pipeline: no round trip
 * each; their errors come with the next call that waits for the database,
 * at the latest store_commit (store.h). A conversation the batch opens and
 * ends is written closed; one it ends that an earlier batch opened is
 * closed by ENDS, before the APPEND that may open the customer's next. */
static int pg_event_append(store *st_, const cc_event *ev)
{
    pg *st = (pg *)st_;
    if (!st->tx)
        return einval(st, "store_event_append needs a transaction (store_begin)");
    pg_batch *b = &st->batch;
    store_ev_row row;
    store_row_from_event(&st->row, ev, &row);
    pg_col *c = b->col;
    for (int k = 0; k < STORE_ROW_NINT; k++)
        arr_i64(c++, row.i[k]);
    arr_str(c++, row.ids);
    for (int k = 0; k < STORE_ROW_NSTR; k++)
        arr_str(c++, row.s[k]);
    b->nev++;
    if (store_row_is_msg(ev->type)) {
        store_msg m;
        store_row_msg(ev, &m);
        arr_i64(c++, m.id);
        arr_i64(c++, m.conv);
        arr_i64(c++, m.seq);
        arr_i64(c++, m.outbound);
        arr_i64(c++, m.agent);
        arr_str(c++, m.number);
        arr_str(c++, m.ep_number);
        arr_str(c++, m.text);
        arr_str(c++, m.provider_id);
        arr_i64(c++, m.status);
        arr_i64(c++, m.at);
        b->nmsg++;
    }
    if (ev->type == CC_EV_MSG_OUT) /* a reply's segments (NULL for every other event) */
        arr_i64(&b->col[PG_SEG_COL], store_text_segments(ev->text));
    else
        arr_len(&b->col[PG_SEG_COL], UINT32_MAX);
    c = &b->col[PG_EV_COLS + PG_MSG_COLS];
    int64_t conv = row.i[3]; /* STORE_ROW_EV_COLS: conv, ep, number */
    switch (ev->type) {
    case CC_EV_CONV_OPENED:
        if ((size_t)b->nconv == b->opened_cap) {
            b->opened_cap = b->opened_cap ? b->opened_cap * 2 : 64;
            b->opened = xrealloc(b->opened, b->opened_cap * sizeof *b->opened);
        }
        b->opened[b->nconv++] = conv;
        arr_i64(c, conv);
        arr_text(c + 1, row.s[1]);
        arr_i64(c + 2, row.i[8]);
        arr_bool(c + 3, 1);
        break;
    case CC_EV_ENDED:
    case CC_EV_TERMINATED:
    case CC_EV_CLOSED: {
        int i = b->nconv - 1;
        while (i >= 0 && b->opened[i] != conv)
            i--;
        if (i >= 0) /* opened in this batch: its row says closed (5 bytes an element) */
            c[3].p[PG_ARR_HEAD + 5 * i + 4] = 0;
        else {
            arr_i64(&b->ends, conv);
            b->nends++;
        }
        break;
    }
    default:
        break;
    }
    return b->nev >= PG_BATCH_MAX ? batch_send(st) : 0;
}

/* The event of row 'i' of an EV_LOAD / EV_REPLAY result. */
static int event_of(pg *st, const PGresult *res, int i, cc_event *ev)
{
    store_ev_row row;
    int c = 0;
    for (int k = 0; k < STORE_ROW_NINT; k++)
        row.i[k] = col_i64(res, i, c++);
    row.ids = col_bytea(st, res, i, c++);
    for (int k = 0; k < STORE_ROW_NSTR; k++)
        row.s[k] = col_str(res, i, c++);
    return store_row_to_event(&st->row, &row, ev, st->base.err, sizeof st->base.err);
}

/* Rows of 'stmt' in single-row mode, each handed to 'row' (until it
 * returns nonzero): a million events are never held in memory at once.
 * The callback must not use the store (the connection is busy until the
 * last row). */
typedef int (*pg_row_fn)(pg *st, const PGresult *res, void *ctx);

static int each_row_single(pg *st, int stmt, const pargs *a, pg_row_fn row, void *ctx)
{
    int r = connected(st);
    if (r != 0)
        return r;
    if (!PQsendQueryPrepared(st->k->c, PG_NAME[stmt], a ? a->n : 0, a ? a->v : NULL,
                             a ? a->len : NULL, a ? a->fmt : NULL, 0))
        return fail(st, NULL);
    st->base.waits++;
    PQsetSingleRowMode(st->k->c);
    PGresult *res;
    while ((res = PQgetResult(st->k->c)) != NULL) {
        ExecStatusType s = PQresultStatus(res);
        if (s == PGRES_SINGLE_TUPLE && r == 0)
            r = row(st, res, ctx);
        else if (s != PGRES_SINGLE_TUPLE && s != PGRES_TUPLES_OK && r == 0)
            r = fail(st, res);
        PQclear(res);
    }
    return r;
}

typedef struct ev_cb {
    store_event_cb cb;
    store_report_cb rcb;
    void *arg;
} ev_cb;

static int event_row(pg *st, const PGresult *res, void *ctx)
{
    const ev_cb *c = ctx;
    cc_event ev;
    int r = event_of(st, res, 0, &ev);
    return r ? r : c->cb(c->arg, &ev);
}

static int events_rows(pg *st, int stmt, const pargs *a, store_event_cb cb, void *arg)
{
    return each_row_single(st, stmt, a, event_row, &(ev_cb){cb, NULL, arg});
}

/* A row of the report's read (store_row.h, STORE_ROW_REPORT_SELECT). */
static int report_row(pg *st, const PGresult *res, void *ctx)
{
    const ev_cb *c = ctx;
    int64_t v[STORE_ROW_REPORT_NINT];
    for (int k = 0; k < STORE_ROW_REPORT_NINT; k++)
        v[k] = col_i64(res, 0, k);
    cc_event ev;
    str ids = v[1] == CC_EV_AGENT_PUT ? col_bytea(st, res, 0, 12) : STR_NULL;
    int r = store_row_report_event(&st->row, v, ids, &ev, st->base.err, sizeof st->base.err);
    if (r != 0)
        return r;
    int have = !PQgetisnull(res, 0, 13);
    int segs = store_row_report_segments(&ev, have, col_i64(res, 0, 13),
                                         have ? STR_NULL : col_str(res, 0, 14));
    return c->rcb(c->arg, &ev, segs);
}

static int pg_events_report(store *st_, uint64_t after, size_t limit, store_report_cb cb,
                            void *arg)
{
    pargs a = {0};
    p_int(&a, (int64_t)after);
    p_int(&a, limit ? (int64_t)limit : INT64_MAX); /* a chunk reads only its rows */
    return each_row_single((pg *)st_, P_EV_REPORT, &a, report_row, &(ev_cb){NULL, cb, arg});
}

static int pg_events_load(store *st_, int with_text, store_event_cb cb, void *arg)
{
    return events_rows((pg *)st_, with_text ? P_EV_LOAD : P_EV_REPLAY, NULL, cb, arg);
}

static int pg_events_after(store *st_, uint64_t after, store_event_cb cb, void *arg)
{
    pargs a = {0};
    p_int(&a, (int64_t)after);
    return events_rows((pg *)st_, P_EV_AFTER, &a, cb, arg);
}

/* store_int.h: the tail read of a follower's leadership session */
const char store__pg_tail_sql[] =
    "SELECT " EV_SELECT " e.text, e.msg_id, e.var_key, e.value, e.queue_name,"
    " (SELECT coalesce(max(seq), 0) FROM events) FROM events e WHERE e.seq > $1"
    " ORDER BY e.seq LIMIT $2";

int store__pg_tail_event(store *st_, const PGresult *res, int i, cc_event *ev)
{
    if (st_->ops != &PG_OPS)
        return store__fail(st_, -EINVAL, "invalid argument: not a PostgreSQL store");
    return event_of((pg *)st_, res, i, ev);
}

static int pg_fence(store *st_, int64_t epoch)
{
    pg *st = (pg *)st_;
    st->fenced = 1;
    st->epoch = epoch;
    return 0;
}

static int pg_last_seq(store *st_, uint64_t *seq)
{
    pg *st = (pg *)st_;
    PGresult *res;
    int r = query(st, P_EV_LAST, NULL, &res);
    if (r == 0)
        *seq = (uint64_t)col_i64(res, 0, 0);
    PQclear(res);
    return r;
}

/* ---- reads ---------------------------------------------------------------- */

/* Row 'row' of 'res' as store_row reads it. */
typedef struct pg_in {
    store_row_in in;
    const PGresult *res;
    int row;
} pg_in;

static int64_t pg_in_i64(const store_row_in *in, int col)
{
    const pg_in *p = (const pg_in *)in;
    return col_i64(p->res, p->row, col);
}

static str pg_in_str(const store_row_in *in, int col)
{
    const pg_in *p = (const pg_in *)in;
    return col_str(p->res, p->row, col);
}

static pg_in pg_in_of(const PGresult *res, int row)
{
    return (pg_in){{pg_in_i64, pg_in_str, PQnfields(res)}, res, row};
}

/* Runs a query and hands each row to 'row' (store_row.h, which calls the
 * user's callback); stops at the first nonzero return. The whole result is
 * fetched first, so callbacks may use the store. */
static int each_row(pg *st, int stmt, const pargs *a, store_row_fn row, const store_row_cb *c)
{
    PGresult *res;
    int r = query(st, stmt, a, &res);
    for (int i = 0; r == 0 && i < PQntuples(res); i++) {
        pg_in in = pg_in_of(res, i);
        r = row(&in.in, c);
    }
    PQclear(res);
    return r;
}

static int pg_msgs_of_conv(store *st_, uint32_t conv, store_msg_cb cb, void *arg)
{
    pargs a = {0};
    p_int(&a, conv);
    return each_row((pg *)st_, P_MSG_OF_CONV, &a, store_row_msg_read, STORE_ROW_CB(cb, arg));
}

static int pg_msg_get(store *st_, int64_t id, store_msg_cb cb, void *arg)
{
    pargs a = {0};
    p_int(&a, id);
    store_row_one_msg o = {cb, arg, 0};
    int r = each_row((pg *)st_, P_MSG_GET, &a, store_row_msg_read,
                     STORE_ROW_CB(store_row_one_msg_cb, &o));
    if (r == 0 && !o.found)
        r = store__fail(st_, -ENOENT, "no message %lld", (long long)id);
    return r;
}

static int pg_history(store *st_, str number, size_t max, store_hist_cb cb, void *arg)
{
    pargs a = {0};
    p_str(&a, number);
    p_int(&a, max > INT64_MAX ? INT64_MAX : (int64_t)max);
    return each_row((pg *)st_, P_HISTORY, &a, store_row_hist, STORE_ROW_CB(cb, arg));
}

static int pg_notes(store *st_, uint32_t conv, store_note_cb cb, void *arg)
{
    pargs a = {0};
    p_int(&a, conv);
    return each_row((pg *)st_, P_NOTES, &a, store_row_note, STORE_ROW_CB(cb, arg));
}

/* The 'at' of event 'seq', -1 when there is none, or an error. */
static int at_of(pg *st, int64_t seq, int64_t *at)
{
    pargs a = {0};
    p_int(&a, seq);
    PGresult *res;
    int r = query(st, P_SEQ_AT, &a, &res);
    if (r == 0)
        *at = PQntuples(res) ? col_i64(res, 0, 0) : -1;
    PQclear(res);
    return r;
}

static int pg_conv_events_since(store *st_, int64_t from_ms, uint64_t after, size_t limit,
                                store_cev_cb cb, void *arg)
{
    pg *st = (pg *)st_;
    /* as in store_sqlite.c: events are in time order, so a binary search
     * over seq finds the first at or after 'from_ms'; a chunk after the
     * first goes on after 'after' */
    int64_t lo = (int64_t)after + 1;
    if (!after) {
        uint64_t last = 0;
        int r = pg_last_seq(st_, &last);
        if (r != 0)
            return r;
        int64_t hi = (int64_t)last;
        for (lo = 1; lo < hi;) {
            int64_t mid = lo + (hi - lo) / 2, at = 0;
            if ((r = at_of(st, mid, &at)) != 0)
                return r;
            if (at >= 0 && at < from_ms)
                lo = mid + 1;
            else
                hi = mid;
        }
    }
    pargs a = {0};
    p_int(&a, lo);
    p_int(&a, limit ? (int64_t)limit : INT64_MAX); /* a chunk reads only its rows */
    return each_row(st, P_EV_FROM, &a, store_row_cev, STORE_ROW_CB(cb, arg));
}

static int pg_csat(store *st_, uint32_t conv, store_csat_cb cb, void *arg)
{
    pargs a = {0};
    p_int(&a, conv);
    return each_row((pg *)st_, P_CSAT, &a, store_row_csat, STORE_ROW_CB(cb, arg));
}

static int pg_wrapups(store *st_, uint32_t conv, store_wrapup_cb cb, void *arg)
{
    pargs a = {0};
    p_int(&a, conv);
    return each_row((pg *)st_, P_WRAPUPS, &a, store_row_wrapup, STORE_ROW_CB(cb, arg));
}

/* ---- outbox --------------------------------------------------------------- */

static int pg_outbox_due(store *st_, size_t max, store_msg_cb cb, void *arg)
{
    pargs a = {0};
    p_int(&a, STORE_MSG_QUEUED);
    p_int(&a, max > INT64_MAX ? INT64_MAX : (int64_t)max);
    return each_row((pg *)st_, P_MSG_DUE, &a, store_row_msg_read, STORE_ROW_CB(cb, arg));
}

static int pg_msg_set_status(store *st_, int64_t id, int status, str provider_id, str error,
                             int64_t now)
{
    pargs a = {0};
    p_int(&a, id);
    p_int(&a, status);
    p_int(&a, now);
    p_str(&a, provider_id);
    p_str(&a, error);
    pg *st = (pg *)st_;
    /* in a transaction (the group commit's outbox writes): into the
     * pipeline behind the appends, its error with the commit's; a missing
     * message changes nothing and is not reported (store.h) */
    if (st->tx)
        return pipe_send(st, P_MSG_SET_STATUS, &a);
    return run_changed(st, P_MSG_SET_STATUS, &a, "no outbound message %lld", (long long)id);
}

/* A one-row lookup: 0 with the first column, -ENOENT, or an error. */
static int lookup_i64(pg *st, int stmt, const pargs *a, int64_t *out, const char *what)
{
    PGresult *res;
    int r = query(st, stmt, a, &res);
    if (r == 0 && PQntuples(res) == 0)
        r = store__fail(&st->base, -ENOENT, "no such %s", what);
    else if (r == 0 && out)
        *out = col_i64(res, 0, 0);
    PQclear(res);
    return r;
}

static int pg_msg_by_provider_id(store *st_, str provider_id, int64_t *id)
{
    pargs a = {0};
    p_str(&a, provider_id);
    return lookup_i64((pg *)st_, P_MSG_BY_PROVIDER, &a, id,
                      "outbound message for this provider id");
}

static int pg_inbound_exists(store *st_, str provider_id)
{
    pargs a = {0};
    p_str(&a, provider_id);
    int r = lookup_i64((pg *)st_, P_IN_EXISTS, &a, NULL, "inbound message");
    return r == 0 ? 1 : r == -ENOENT ? 0 : r;
}

static int pg_outbox_recover(store *st_, int64_t now)
{
    pargs a = {0};
    p_int(&a, STORE_MSG_SUBMITTING);
    p_int(&a, STORE_MSG_UNKNOWN);
    p_int(&a, now);
    int64_t n = 0;
    int r = run((pg *)st_, P_MSG_RECOVER, &a, &n);
    return r ? r : (int)n;
}

static int pg_inbound_orphan(store *st_, int64_t at, str number, str ep_number, str text,
                             str provider_id, str reason)
{
    pargs a = {0};
    p_int(&a, at);
    p_str(&a, number);
    p_str(&a, ep_number);
    p_str(&a, text);
    p_str(&a, provider_id);
    p_str(&a, reason);
    return run((pg *)st_, P_ORPHAN_INSERT, &a, NULL);
}

/* ---- accounts and sessions ------------------------------------------------ */

/* Fills 'out' from an account row, copying the strings into the store. */
static int account_of(pg *st, int stmt, const pargs *a, store_account *out, const char *what)
{
    PGresult *res;
    int r = query(st, stmt, a, &res);
    if (r == 0 && PQntuples(res) == 0)
        r = store__fail(&st->base, -ENOENT, "no such %s", what);
    if (r != 0) {
        PQclear(res);
        return r;
    }
    str u = col_str(res, 0, 1), p = col_str(res, 0, 2);
    size_t need = u.n + p.n + 2;
    if (need > st->acct_cap) {
        st->acct_cap = need;
        st->acct = xrealloc(st->acct, need);
    }
    if (u.n)
        memcpy(st->acct, u.p, u.n);
    st->acct[u.n] = '\0';
    if (p.n)
        memcpy(st->acct + u.n + 1, p.p, p.n);
    st->acct[u.n + 1 + p.n] = '\0';
    out->id = col_i64(res, 0, 0);
    out->username = (str){st->acct, u.n};
    out->pwhash = (str){st->acct + u.n + 1, p.n};
    out->agent = (uint32_t)col_i64(res, 0, 3);
    out->role = (int)col_i64(res, 0, 4);
    PQclear(res);
    return 0;
}

static int pg_account_put(store *st_, str username, str pwhash, uint32_t agent, int role)
{
    pargs a = {0};
    p_str(&a, username);
    p_str(&a, pwhash);
    p_int(&a, agent);
    p_int(&a, role);
    return run((pg *)st_, P_ACCT_INSERT, &a, NULL);
}

static int pg_account_get(store *st_, str username, store_account *out)
{
    pargs a = {0};
    p_str(&a, username);
    return account_of((pg *)st_, P_ACCT_GET, &a, out, "account");
}

static int pg_account_of_agent(store *st_, uint32_t agent, store_account *out)
{
    pargs a = {0};
    p_int(&a, agent);
    return account_of((pg *)st_, P_ACCT_OF_AGENT, &a, out, "account for that agent");
}

static int pg_account_set_pwhash(store *st_, str username, str pwhash)
{
    pargs a = {0};
    p_str(&a, username);
    p_str(&a, pwhash);
    return run_changed((pg *)st_, P_ACCT_SET_PW, &a, "no account named %.*s", (int)username.n,
                       username.p);
}

static int pg_account_del(store *st_, str username)
{
    pargs a = {0};
    p_str(&a, username);
    return run_changed((pg *)st_, P_ACCT_DEL, &a, "no account named %.*s", (int)username.n,
                       username.p ? username.p : "");
}

static int pg_session_put(store *st_, str token_hash, int64_t account, int64_t expires_at)
{
    pargs a = {0};
    p_str(&a, token_hash);
    p_int(&a, account);
    p_int(&a, expires_at);
    int r = run((pg *)st_, P_SESS_INSERT, &a, NULL);
    if (r == -ENOENT)
        store__fail(st_, r, "no account %lld", (long long)account);
    return r;
}

static int pg_session_get(store *st_, str token_hash, int64_t now, store_account *out)
{
    pargs a = {0};
    p_str(&a, token_hash);
    p_int(&a, now);
    return account_of((pg *)st_, P_SESS_GET, &a, out, "session (or it expired)");
}

static int pg_session_del(store *st_, str token_hash)
{
    pargs a = {0};
    p_str(&a, token_hash);
    return run_changed((pg *)st_, P_SESS_DEL, &a, "no such session");
}

static int pg_session_purge(store *st_, int64_t now)
{
    pargs a = {0};
    p_int(&a, now);
    int64_t n = 0;
    int r = run((pg *)st_, P_SESS_PURGE, &a, &n);
    return r ? r : (int)n;
}

/* ---- operations ------------------------------------------------------------ */

/* PostgreSQL checks its constraints on every write; what is left to check
 * is what no constraint says. No online backup here: pg_dump and
 * pg_basebackup do it (docs/operations.md). */
static int pg_check(store *st_, char *out, size_t n)
{
    pg *st = (pg *)st_;
    static const int checks[] = {P_CHECK_STATUS, P_CHECK_CONV};
    static const char *const what[] = {"bad status", "conversation without its row"};
    for (size_t i = 0; i < sizeof checks / sizeof checks[0]; i++) {
        PGresult *res;
        int r = query(st, checks[i], NULL, &res);
        if (r != 0)
            return r;
        if (PQntuples(res) > 0) {
            snprintf(out, n, "%s: %s", what[i], PQgetvalue(res, 0, 0));
            PQclear(res);
            return 1;
        }
        PQclear(res);
    }
    return 0;
}

/* ---- canned responses and settings ---------------------------------------- */

static int pg_canned_put(store *st_, int64_t id, str title, str text_sv, str text_en)
{
    pargs a = {0};
    p_int(&a, id);
    p_str(&a, title);
    p_text(&a, text_sv); /* an empty text is allowed (the desktop falls back) */
    p_text(&a, text_en);
    return run((pg *)st_, P_CANNED_PUT, &a, NULL);
}

static int pg_canned_del(store *st_, int64_t id)
{
    pargs a = {0};
    p_int(&a, id);
    return run_changed((pg *)st_, P_CANNED_DEL, &a, "no canned response %lld", (long long)id);
}

static int pg_canned_all(store *st_, store_canned_cb cb, void *arg)
{
    return each_row((pg *)st_, P_CANNED_ALL, NULL, store_row_canned, STORE_ROW_CB(cb, arg));
}

static int pg_setting_put(store *st_, str key, str value)
{
    pargs a = {0};
    p_str(&a, key);
    p_text(&a, value); /* NOT NULL column: an empty value is stored as '' */
    return run((pg *)st_, P_SET_PUT, &a, NULL);
}

static int pg_setting_get(store *st_, str key, char *out, size_t cap)
{
    pg *st = (pg *)st_;
    pargs a = {0};
    p_str(&a, key);
    PGresult *res;
    int r = query(st, P_SET_GET, &a, &res);
    if (r != 0)
        return r;
    if (PQntuples(res) == 0) {
        r = store__fail(st_, -ENOENT, "no such setting");
    } else {
        str v = col_str(res, 0, 0);
        if (v.n >= cap) {
            r = store__fail(st_, -ERANGE, "setting value is %zu bytes, room for %zu", v.n,
                            cap - 1);
        } else {
            if (v.n)
                memcpy(out, v.p, v.n);
            out[v.n] = '\0';
        }
    }
    PQclear(res);
    return r;
}

/* ---- API tokens and the audit trail -------------------------------------- */

static int pg_token_put(store *st_, str name, str hash, int role, uint32_t agent, str created_by,
                        int64_t created_at, int64_t expires_at, int64_t *id)
{
    pargs a = {0};
    p_str(&a, name);
    p_str(&a, hash);
    p_int(&a, role);
    p_int(&a, agent);
    p_str(&a, created_by);
    p_int(&a, created_at);
    p_int(&a, expires_at);
    PGresult *res = NULL;
    int r = unfenced((pg *)st_, P_TOKEN_INSERT);
    if (r == 0)
        r = query_once((pg *)st_, P_TOKEN_INSERT, &a, &res);
    if (r == 0)
        *id = col_i64(res, 0, 0);
    PQclear(res);
    return r;
}

static int pg_token_get(store *st_, str hash, store_token *out)
{
    pg *st = (pg *)st_;
    pargs a = {0};
    p_str(&a, hash);
    PGresult *res;
    int r = query(st, P_TOKEN_GET, &a, &res);
    if (r == 0 && PQntuples(res) == 0)
        r = store__fail(st_, -ENOENT, "no such API token");
    if (r == 0) {
        pg_in in = pg_in_of(res, 0);
        store_row_token(&in.in, out);
        size_t need = out->name.n + out->created_by.n + 2;
        if (need > st->acct_cap) {
            st->acct_cap = need;
            st->acct = xrealloc(st->acct, need);
        }
        store_row_copy2(st->acct, &out->name, &out->created_by);
    }
    PQclear(res);
    return r;
}

static int pg_tokens_all(store *st_, store_token_cb cb, void *arg)
{
    pargs a = {0};
    return each_row((pg *)st_, P_TOKENS_ALL, &a, store_row_token_read, STORE_ROW_CB(cb, arg));
}

static int pg_token_revoke(store *st_, int64_t id, int64_t now)
{
    pg *st = (pg *)st_;
    pargs a = {0};
    p_int(&a, id);
    p_int(&a, now);
    int64_t n = 0;
    int r = run(st, P_TOKEN_REVOKE, &a, &n);
    if (r != 0 || n == 1)
        return r;
    pargs b = {0};
    p_int(&b, id);
    PGresult *res;
    r = query(st, P_TOKEN_EXISTS, &b, &res);
    if (r == 0)
        r = PQntuples(res)
                ? store__fail(st_, -EALREADY, "API token %lld was revoked before", (long long)id)
                : store__fail(st_, -ENOENT, "no API token %lld", (long long)id);
    PQclear(res);
    return r;
}

static int pg_audit_add(store *st_, const store_audit *e)
{
    pargs a = {0};
    p_int(&a, e->at);
    p_str(&a, e->actor);
    p_str(&a, e->via);
    p_str(&a, e->peer);
    p_str(&a, e->action);
    p_str(&a, e->target);
    p_str(&a, e->detail);
    return run((pg *)st_, P_AUDIT_INSERT, &a, NULL);
}

static int pg_audit_list(store *st_, const store_audit_filter *f, store_audit_cb cb, void *arg)
{
    pargs a = {0};
    p_int(&a, f->from);
    p_int(&a, f->to);
    p_str(&a, f->actor);
    p_str(&a, f->action);
    p_int(&a, f->before_id);
    p_int(&a, f->max > INT64_MAX ? INT64_MAX : (int64_t)f->max);
    return each_row((pg *)st_, P_AUDIT_LIST, &a, store_row_audit, STORE_ROW_CB(cb, arg));
}

/* ---- webhooks ------------------------------------------------------------ */

static int pg_hook_put(store *st_, const store_hook *h, int64_t *id)
{
    pargs a = {0};
    p_str(&a, h->name);
    p_str(&a, h->url);
    p_str(&a, h->secret);
    p_str(&a, h->created_by);
    p_int(&a, h->events);
    p_int(&a, h->masked);
    p_int(&a, h->created_at);
    PGresult *res;
    int r = query_once((pg *)st_, P_HOOK_INSERT, &a, &res);
    if (r == 0)
        *id = col_i64(res, 0, 0);
    PQclear(res);
    return r;
}

static int pg_hook_del(store *st_, int64_t id)
{
    pargs a = {0};
    p_int(&a, id);
    return run_changed((pg *)st_, P_HOOK_DEL, &a, "no webhook %lld", (long long)id);
}

static int pg_hooks_all(store *st_, store_hook_cb cb, void *arg)
{
    pargs a = {0};
    return each_row((pg *)st_, P_HOOKS_ALL, &a, store_row_hook, STORE_ROW_CB(cb, arg));
}

static int pg_hook_progress(store *st_, const store_hook *h)
{
    pargs a = {0};
    p_int(&a, h->id);
    p_int(&a, h->seq);
    p_int(&a, h->sid);
    p_int(&a, h->delivered);
    p_int(&a, h->failures);
    p_int(&a, h->last_status);
    p_int(&a, h->last_at);
    p_str(&a, h->last_error);
    return run_changed((pg *)st_, P_HOOK_PROGRESS, &a, "no webhook %lld", (long long)h->id);
}

static int pg_feed(store *st_, int64_t seq, int64_t sid, size_t max, store_feed_cb cb, void *arg)
{
    pargs a = {0};
    p_int(&a, seq);
    p_int(&a, sid);
    p_int(&a, (int64_t)max);
    return each_row((pg *)st_, P_FEED, &a, store_row_feed, STORE_ROW_CB(cb, arg));
}

/* ---- retention and erasure ---------------------------------------------- */

static int pg_closed_since(store *st_, int64_t after_seq, size_t max, store_closed_cb cb,
                           void *arg)
{
    pargs a = {0};
    p_int(&a, after_seq);
    p_int(&a, (int64_t)max);
    return each_row((pg *)st_, P_CLOSED_SINCE, &a, store_row_closed, STORE_ROW_CB(cb, arg));
}

static int pg_msg_forget(store *st_, int64_t id, int segments)
{
    pargs a = {0};
    p_int(&a, id);
    int r = run_changed((pg *)st_, P_MSG_FORGET, &a, "no message %lld", (long long)id);
    if (r != 0 || segments < 0)
        return r;
    p_int(&a, segments);
    return run((pg *)st_, P_MSG_SEGMENTS, &a, NULL);
}

static int pg_csat_forget(store *st_, uint32_t conv)
{
    pargs a = {0};
    p_int(&a, conv);
    return run((pg *)st_, P_CSAT_FORGET, &a, NULL);
}

static int pg_orphans_forget(store *st_, int64_t before_at)
{
    pargs a = {0};
    p_int(&a, before_at);
    int64_t n = 0;
    int r = run((pg *)st_, P_ORPHANS_FORGET, &a, &n);
    return r != 0 ? r : (int)n;
}

static int pg_erase_number(store *st_, str number, int64_t *convs)
{
    pg *st = (pg *)st_;
    pargs a = {0};
    p_str(&a, number);
    PGresult *res;
    int r = query(st, P_ERASE_COUNT, &a, &res);
    *convs = r == 0 ? col_i64(res, 0, 0) : 0;
    PQclear(res);
    /* they find the conversations by the number in events: those last */
    static const int order[] = {P_ERASE_CONVS, P_ERASE_MSGS, P_ERASE_ORPHANS, P_ERASE_EVENTS};
    for (size_t i = 0; r == 0 && i < 4; i++)
        r = run(st, order[i], &a, NULL);
    return r;
}

static int pg_scrub(store *st_)
{
    (void)st_;
    return 0;
}

static const struct store_ops PG_OPS = {
    .kind = "postgresql",
    .schema_version = PG_SCHEMA_VERSION,
    .close = pg_close,
    .set_sync = pg_set_sync,
    .begin = pg_begin,
    .commit = pg_commit,
    .commit_start = pg_commit_start,
    .commit_finish = pg_commit_finish,
    .commit_fd = pg_commit_fd,
    .rollback = pg_rollback,
    .event_append = pg_event_append,
    .events_load = pg_events_load,
    .events_after = pg_events_after,
    .events_report = pg_events_report,
    .fence = pg_fence,
    .last_seq = pg_last_seq,
    .msg_get = pg_msg_get,
    .msgs_of_conv = pg_msgs_of_conv,
    .history = pg_history,
    .notes = pg_notes,
    .conv_events_since = pg_conv_events_since,
    .wrapups = pg_wrapups,
    .csat = pg_csat,
    .outbox_due = pg_outbox_due,
    .msg_set_status = pg_msg_set_status,
    .msg_by_provider_id = pg_msg_by_provider_id,
    .inbound_exists = pg_inbound_exists,
    .outbox_recover = pg_outbox_recover,
    .inbound_orphan = pg_inbound_orphan,
    .account_put = pg_account_put,
    .account_get = pg_account_get,
    .account_of_agent = pg_account_of_agent,
    .account_set_pwhash = pg_account_set_pwhash,
    .account_del = pg_account_del,
    .session_put = pg_session_put,
    .session_get = pg_session_get,
    .session_del = pg_session_del,
    .session_purge = pg_session_purge,
    .backup = NULL,
    .check = pg_check,
    .canned_put = pg_canned_put,
    .canned_del = pg_canned_del,
    .canned_all = pg_canned_all,
    .setting_put = pg_setting_put,
    .setting_get = pg_setting_get,
    .token_put = pg_token_put,
    .token_get = pg_token_get,
    .tokens_all = pg_tokens_all,
    .token_revoke = pg_token_revoke,
    .audit_add = pg_audit_add,
    .audit_list = pg_audit_list,
    .hook_put = pg_hook_put,
    .hook_del = pg_hook_del,
    .hooks_all = pg_hooks_all,
    .hook_progress = pg_hook_progress,
    .feed = pg_feed,
    .closed_since = pg_closed_since,
    .msg_forget = pg_msg_forget,
    .csat_forget = pg_csat_forget,
    .orphans_forget = pg_orphans_forget,
    .erase_number = pg_erase_number,
    .scrub = pg_scrub,
};
