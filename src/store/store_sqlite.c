/*
 * store_sqlite: the store (store.h) on SQLite. One connection, WAL journal,
 * foreign keys on, synchronous=FULL unless told otherwise, every data
 * statement prepared once at open and reset after each use. The schema is a
 * list of migrations applied in order; PRAGMA user_version records how far a
 * file has come. docs/internals/store.md explains schema and durability.
 */
#include "store/store.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sqlite3.h>

#include "store/store_int.h"
#include "store/store_row.h"
#include "store/store_walvfs.h"
#include "util/xalloc.h"

#define STORE_BUSY_TIMEOUT_MS 200

/* ---- schema ------------------------------------------------------------- */

/* Version 1. Statements use IF NOT EXISTS so that re-running a migration on
 * a file whose user_version was lost is harmless. */
static const char SCHEMA_V1[] =
    "CREATE TABLE IF NOT EXISTS events ("
    " seq INTEGER PRIMARY KEY CHECK (seq > 0),"
    " type INTEGER NOT NULL, at INTEGER NOT NULL,"
    " conv INTEGER NOT NULL DEFAULT 0, agent INTEGER NOT NULL DEFAULT 0,"
    " target INTEGER NOT NULL DEFAULT 0, queue INTEGER NOT NULL DEFAULT 0,"
    " team INTEGER NOT NULL DEFAULT 0, ep INTEGER NOT NULL DEFAULT 0,"
    " reason INTEGER NOT NULL DEFAULT 0, fallback INTEGER NOT NULL DEFAULT 0,"
    " capacity INTEGER NOT NULL DEFAULT 0, msg_seq INTEGER NOT NULL DEFAULT 0,"
    " state INTEGER NOT NULL DEFAULT 0, kind INTEGER NOT NULL DEFAULT 0,"
    " code INTEGER NOT NULL DEFAULT 0, deadline INTEGER NOT NULL DEFAULT 0,"
    " key INTEGER NOT NULL DEFAULT 0, rona_ms INTEGER NOT NULL DEFAULT 0,"
    " autowrap_ms INTEGER NOT NULL DEFAULT 0, grace_ms INTEGER NOT NULL DEFAULT 0,"
    " ids BLOB, name TEXT, number TEXT, ep_number TEXT, text TEXT, msg_id TEXT,"
    " var_key TEXT, value TEXT, queue_name TEXT);"
    "CREATE TABLE IF NOT EXISTS messages ("
    /* id: the seq of the MSG_IN/MSG_OUT event that brought it */
    " id INTEGER PRIMARY KEY REFERENCES events(seq),"
    " conv INTEGER NOT NULL, seq INTEGER NOT NULL,"
    " outbound INTEGER NOT NULL CHECK (outbound IN (0, 1)),"
    " agent INTEGER NOT NULL DEFAULT 0, number TEXT, ep_number TEXT, text TEXT,"
    " provider_id TEXT, status INTEGER NOT NULL, error TEXT,"
    " at INTEGER NOT NULL, status_at INTEGER NOT NULL);"
    "CREATE INDEX IF NOT EXISTS messages_conv ON messages(conv, id);"
    /* the durable guard against a gateway's retried inbound SMS */
    "CREATE UNIQUE INDEX IF NOT EXISTS messages_inbound_provider ON messages(provider_id)"
    " WHERE outbound = 0 AND provider_id IS NOT NULL;"
    /* delivery reports look outbound messages up by the gateway's id */
    "CREATE INDEX IF NOT EXISTS messages_outbound_provider ON messages(provider_id)"
    " WHERE outbound = 1 AND provider_id IS NOT NULL;"
    "CREATE INDEX IF NOT EXISTS messages_outbox ON messages(status, id) WHERE outbound = "
    "1;"
    "CREATE TABLE IF NOT EXISTS inbound_orphans ("
    " id INTEGER PRIMARY KEY, at INTEGER NOT NULL, number TEXT, ep_number TEXT,"
    " text TEXT, provider_id TEXT, reason TEXT);"
    "CREATE TABLE IF NOT EXISTS accounts ("
    " id INTEGER PRIMARY KEY, username TEXT NOT NULL UNIQUE, pwhash TEXT NOT NULL,"
    " agent INTEGER NOT NULL DEFAULT 0, role INTEGER NOT NULL);"
    "CREATE TABLE IF NOT EXISTS sessions ("
    " token_hash BLOB PRIMARY KEY,"
    " account INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,"
    " expires_at INTEGER NOT NULL) WITHOUT ROWID;"
    "CREATE INDEX IF NOT EXISTS sessions_account ON sessions(account);"
    "CREATE INDEX IF NOT EXISTS sessions_expiry ON sessions(expires_at);"
    "CREATE TABLE IF NOT EXISTS settings ("
    " key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;";

/* v2: customer history. Partial indexes, so that the hot path (message
 * and routing events) pays nothing: conversations opened, by customer
 * number; wrap-ups and closes, by conversation. The type numbers are
 * CC_EV_CONV_OPENED, CC_EV_WRAPPED_UP and CC_EV_CLOSED (asserted below). */
#define SCHEMA_V2                                                                        \
    "CREATE INDEX IF NOT EXISTS events_opened_by_number ON events(number, seq)"          \
    " WHERE type = 15;"                                                                  \
    "CREATE INDEX IF NOT EXISTS events_end_by_conv ON events(conv, seq)"                 \
    " WHERE type IN (30, 32);"                                                           \
    "CREATE INDEX IF NOT EXISTS events_notes_by_conv ON events(conv, seq)"               \
    " WHERE type IN (18, 22, 23, 25, 27, 31);"

/* v3: canned responses (the administrator's, in Swedish and English). */
#define SCHEMA_V3                                                                        \
    "CREATE TABLE IF NOT EXISTS canned ("                                                \
    " id INTEGER PRIMARY KEY, title TEXT NOT NULL, text_sv TEXT NOT NULL,"               \
    " text_en TEXT NOT NULL);"

/* v4: opt-out and opt-in notes join the transcript's system notes. */
#define SCHEMA_V4                                                                        \
    "DROP INDEX IF EXISTS events_notes_by_conv;"                                         \
    "CREATE INDEX IF NOT EXISTS events_notes2_by_conv ON events(conv, seq)"              \
    " WHERE type IN (18, 22, 23, 25, 27, 31, 35, 36);"

/* v5: satisfaction answers by conversation (the interaction history). */
#define SCHEMA_V5                                                                        \
    "CREATE INDEX IF NOT EXISTS events_csat_by_conv ON events(conv, seq)"                \
    " WHERE type = 45;"
_Static_assert(CC_EV_CSAT_ANSWERED == 45,
               "event type numbers are stored: append new events at the end of CC_EVENTS");

/* v6: API tokens (hashes only) and the audit trail, which no statement may
 * change or delete (docs/security.md). */
#define SCHEMA_V6                                                                        \
    "CREATE TABLE IF NOT EXISTS api_tokens ("                                            \
    " id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, hash TEXT NOT NULL UNIQUE,"     \
    " role INTEGER NOT NULL, agent INTEGER NOT NULL DEFAULT 0, created_by TEXT,"         \
    " created_at INTEGER NOT NULL, expires_at INTEGER NOT NULL DEFAULT 0,"               \
    " revoked_at INTEGER NOT NULL DEFAULT 0);"                                           \
    "CREATE TABLE IF NOT EXISTS audit ("                                                 \
    " id INTEGER PRIMARY KEY, at INTEGER NOT NULL, actor TEXT NOT NULL, via TEXT,"       \
    " peer TEXT, action TEXT NOT NULL, target TEXT, detail TEXT);"                       \
    "CREATE INDEX IF NOT EXISTS audit_at ON audit(at);"                                  \
    "CREATE TRIGGER IF NOT EXISTS audit_no_update BEFORE UPDATE ON audit"                \
    " BEGIN SELECT RAISE(ABORT, 'the audit trail cannot be changed'); END;"              \
    "CREATE TRIGGER IF NOT EXISTS audit_no_delete BEFORE DELETE ON audit"                \
    " BEGIN SELECT RAISE(ABORT, 'the audit trail cannot be changed'); END;"

/* v7: webhook subscriptions (docs/integration.md) with their cursor over
 * the feed (store_feed), and the delivery statuses of outbound messages
 * for it, recorded by a trigger while a subscription exists. */
#define SCHEMA_V7                                                                        \
    "CREATE TABLE IF NOT EXISTS webhooks ("                                              \
    " id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, url TEXT NOT NULL,"             \
    " secret TEXT NOT NULL, created_by TEXT, last_error TEXT,"                           \
    " events INTEGER NOT NULL, masked INTEGER NOT NULL DEFAULT 1,"                       \
    " last_status INTEGER NOT NULL DEFAULT 0, created_at INTEGER NOT NULL,"              \
    " cur_seq INTEGER NOT NULL DEFAULT 0, cur_sid INTEGER NOT NULL DEFAULT 0,"           \
    " delivered INTEGER NOT NULL DEFAULT 0, failures INTEGER NOT NULL DEFAULT 0,"        \
    " last_at INTEGER NOT NULL DEFAULT 0);"                                              \
    "CREATE TABLE IF NOT EXISTS msg_statuses ("                                          \
    " id INTEGER PRIMARY KEY, after_seq INTEGER NOT NULL, msg INTEGER NOT NULL,"         \
    " status INTEGER NOT NULL, at INTEGER NOT NULL, error TEXT);"                        \
    "CREATE INDEX IF NOT EXISTS msg_statuses_pos ON msg_statuses(after_seq, id);"        \
    "CREATE INDEX IF NOT EXISTS msg_statuses_msg ON msg_statuses(msg);"                  \
    "CREATE TRIGGER IF NOT EXISTS msg_status_feed AFTER UPDATE OF status ON messages"    \
    " WHEN NEW.status <> OLD.status AND NEW.status >= 3"                                 \
    " AND EXISTS (SELECT 1 FROM webhooks) BEGIN"                                         \
    " INSERT INTO msg_statuses (after_seq, msg, status, at, error) VALUES ("             \
    " (SELECT coalesce(max(seq), 0) FROM events), NEW.id, NEW.status, NEW.status_at,"    \
    " NEW.error); END;"

/* v8: retention and erasure (docs/privacy.md): what the reports need of a
 * reply whose text is deleted (its segments), the ended conversations in
 * log order, a conversation's opening event. */
#define SCHEMA_V8                                                                        \
    "CREATE TABLE IF NOT EXISTS msg_segments ("                                          \
    " id INTEGER PRIMARY KEY, segments INTEGER NOT NULL);"                               \
    "CREATE INDEX IF NOT EXISTS events_ended_by_seq ON events(seq) WHERE type IN (31, 32);" \
    "CREATE INDEX IF NOT EXISTS events_opened_by_conv ON events(conv) WHERE type = 15;"

/* v9: internal notes and a supervisor's joining, taking over and leaving
 * join the transcript's notes (events 47-50). */
#define SCHEMA_V9                                                                        \
    "DROP INDEX IF EXISTS events_notes2_by_conv;"                                        \
    "CREATE INDEX IF NOT EXISTS events_notes3_by_conv ON events(conv, seq)"              \
    " WHERE type IN (" STORE_ROW_T_NOTES ");"

/* v10: each event's report record (store_row_rep_encode: the fields a
 * report folds and a reply's SMS segments, varints in one blob), written
 * with it, so that a report reads one column of a row instead of fourteen
 * and no message text (store_events_report). Events stored before have
 * none (NULL) and are read from their columns: adding a column rewrites
 * nothing, so the migration is instant on any log. */
#define SCHEMA_V10 "ALTER TABLE events ADD COLUMN rep BLOB;"

/* The migrations, oldest first. To change the schema, append an entry with
 * the next version and the SQL that takes a version-(n-1) file to n; never
 * edit an entry that has shipped. 'done_if', when set, is a query that
 * answers nonzero when the SQL has already run (for statements that have
 * no IF NOT EXISTS, like ADD COLUMN), so that a file whose user_version
 * was lost migrates again harmlessly. */
static const struct store_migration {
    int version;
    const char *sql;
    const char *done_if;
} MIGRATIONS[] = {
    {1, SCHEMA_V1, NULL},
    {2, SCHEMA_V2, NULL},
    {3, SCHEMA_V3, NULL},
    {4, SCHEMA_V4, NULL},
    {5, SCHEMA_V5, NULL},
    {6, SCHEMA_V6, NULL},
    {7, SCHEMA_V7, NULL},
    {8, SCHEMA_V8, NULL},
    {9, SCHEMA_V9, NULL},
    {10, SCHEMA_V10,
     "SELECT count(*) FROM pragma_table_info('events') WHERE name = 'rep'"},
};
#define N_MIGRATIONS (sizeof MIGRATIONS / sizeof MIGRATIONS[0])

/* ---- statements --------------------------------------------------------- */

#define EV_COLS STORE_ROW_EV_COLS
#define MSG_COLS STORE_ROW_MSG_COLS

#define STORE_STMTS(X)                                                                   \
    X(BEGIN, "BEGIN IMMEDIATE")                                                          \
    X(COMMIT, "COMMIT")                                                                  \
    X(ROLLBACK, "ROLLBACK")                                                              \
    X(EV_INSERT, "INSERT INTO events (" EV_COLS ", rep) VALUES (?1, ?2, ?3, ?4, ?5,"  \
                 " ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20,"  \
                 " ?21, ?22, ?23, ?24, ?25, ?26, ?27, ?28, ?29, ?30, ?31)")              \
    X(EV_DELETE, "DELETE FROM events WHERE seq = ?1")                                    \
    X(EV_LOAD,                                                                           \
      "SELECT e.seq, e.type, e.at, e.conv, e.agent, e.target, e.queue, e.team,"          \
      " e.ep, e.reason, e.fallback, e.capacity, e.msg_seq, e.state, e.kind,"             \
      " e.code, e.deadline, e.key, e.rona_ms, e.autowrap_ms, e.grace_ms, e.ids,"         \
      " e.name, e.number, e.ep_number, coalesce(e.text, m.text), e.msg_id,"              \
      " e.var_key, e.value, e.queue_name"                                                \
      " FROM events e LEFT JOIN messages m ON m.id = e.seq ORDER BY e.seq")              \
    X(EV_REPORT, "SELECT seq, rep FROM events WHERE seq > ?1 ORDER BY seq")              \
    /* events stored before v10: their columns, until one with a record */              \
    X(EV_REPORT_COLS, STORE_ROW_REPORT_SELECT("NULL") ", e.rep IS NOT NULL FROM events e" \
                      " WHERE e.seq > ?1 ORDER BY e.seq")                               \
    X(EV_REPLAY,                                                                         \
      "SELECT e.seq, e.type, e.at, e.conv, e.agent, e.target, e.queue, e.team,"          \
      " e.ep, e.reason, e.fallback, e.capacity, e.msg_seq, e.state, e.kind,"             \
      " e.code, e.deadline, e.key, e.rona_ms, e.autowrap_ms, e.grace_ms, e.ids,"         \
      " e.name, e.number, e.ep_number, e.text, e.msg_id,"                                \
      " e.var_key, e.value, e.queue_name FROM events e ORDER BY e.seq")                  \
    X(EV_LAST, "SELECT coalesce(max(seq), 0) FROM events")                               \
    X(MSG_INSERT, "INSERT INTO messages (id, conv, seq, outbound, agent, number,"        \
                  " ep_number, text, provider_id, status, at, status_at)"                \
                  " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?11)")         \
    X(MSG_OF_CONV, "SELECT " MSG_COLS ", (SELECT name FROM events WHERE seq = messages.id)" \
                   " FROM messages WHERE conv = ?1 ORDER BY id")      \
    X(MSG_GET, "SELECT " MSG_COLS " FROM messages WHERE id = ?1")                        \
    X(HISTORY, "SELECT o.conv, o.at, o.ep_number, (SELECT c.at FROM events c"            \
               " WHERE c.type = 32 AND c.conv = o.conv) FROM events o"                   \
               " WHERE o.type = 15 AND o.number = ?1 ORDER BY o.seq DESC LIMIT ?2")      \
    X(NOTES, "SELECT seq, type, code, agent, target, queue, at, name, text FROM events"              \
             " WHERE type IN (" STORE_ROW_T_NOTES ") AND conv = ?1 ORDER BY seq")        \
    X(CANNED_PUT, "INSERT INTO canned (id, title, text_sv, text_en) VALUES (?1, ?2, ?3,"  \
                  " ?4) ON CONFLICT(id) DO UPDATE SET title = ?2, text_sv = ?3,"         \
                  " text_en = ?4")                                                       \
    X(CANNED_DEL, "DELETE FROM canned WHERE id = ?1")                                    \
    X(CANNED_ALL, "SELECT id, title, text_sv, text_en FROM canned ORDER BY title, id")   \
    X(SEQ_AT, "SELECT at FROM events WHERE seq = ?1")                                    \
    X(SEQ_MAX, "SELECT IFNULL(MAX(seq), 0) FROM events")                                 \
    X(EV_FROM, "SELECT seq, type, at, conv, agent, target, queue, reason, number,"       \
               " ep_number, code FROM events WHERE seq >= ?1 AND conv <> 0 ORDER BY seq"     \
               " LIMIT ?2")                                                             \
    X(CSAT, "SELECT reason, text, at, agent FROM events WHERE type = 45 AND conv = ?1"    \
            " ORDER BY seq")                                                             \
    X(WRAPUPS, "SELECT agent, reason, at FROM events WHERE type = 30 AND conv = ?1"      \
               " ORDER BY seq")                                                          \
    X(MSG_DUE, "SELECT " MSG_COLS " FROM messages WHERE outbound = 1 AND status = ?1"    \
               " ORDER BY id LIMIT ?2")                                                  \
    X(MSG_SET_STATUS, "UPDATE messages SET status = ?2, status_at = ?3,"                 \
                      " provider_id = coalesce(?4, provider_id),"                        \
                      " error = coalesce(?5, error) WHERE id = ?1 AND outbound = 1")     \
    X(MSG_BY_PROVIDER, "SELECT id FROM messages WHERE outbound = 1 AND provider_id = ?1" \
                       " ORDER BY id DESC LIMIT 1")                                      \
    X(MSG_RECOVER, "UPDATE messages SET status = ?2, status_at = ?3"                     \
                   " WHERE outbound = 1 AND status = ?1")                                \
    X(IN_EXISTS, "SELECT 1 FROM messages WHERE outbound = 0 AND provider_id = ?1")       \
    X(ORPHAN_INSERT, "INSERT INTO inbound_orphans (at, number, ep_number, text,"         \
                     " provider_id, reason) VALUES (?1, ?2, ?3, ?4, ?5, ?6)")            \
    X(ACCT_INSERT, "INSERT INTO accounts (username, pwhash, agent, role)"                \
                   " VALUES (?1, ?2, ?3, ?4)")                                           \
    X(ACCT_GET, "SELECT id, username, pwhash, agent, role FROM accounts"                 \
                " WHERE username = ?1")                                                  \
    X(ACCT_OF_AGENT, "SELECT id, username, pwhash, agent, role FROM accounts"            \
                     " WHERE agent = ?1 AND agent <> 0 ORDER BY id LIMIT 1")             \
    X(ACCT_SET_PW, "UPDATE accounts SET pwhash = ?2 WHERE username = ?1")                \
    X(ACCT_DEL, "DELETE FROM accounts WHERE username = ?1")                              \
    X(SESS_INSERT, "INSERT INTO sessions (token_hash, account, expires_at)"              \
                   " VALUES (?1, ?2, ?3)")                                               \
    X(SESS_GET, "SELECT a.id, a.username, a.pwhash, a.agent, a.role FROM sessions s"     \
                " JOIN accounts a ON a.id = s.account"                                   \
                " WHERE s.token_hash = ?1 AND s.expires_at > ?2")                        \
    X(SESS_DEL, "DELETE FROM sessions WHERE token_hash = ?1")                            \
    X(SESS_PURGE, "DELETE FROM sessions WHERE expires_at <= ?1")                         \
    X(SET_PUT, "INSERT INTO settings (key, value) VALUES (?1, ?2)"                       \
               " ON CONFLICT (key) DO UPDATE SET value = excluded.value")                \
    X(SET_GET, "SELECT value FROM settings WHERE key = ?1")                              \
    X(TOKEN_INSERT, "INSERT INTO api_tokens (name, hash, role, agent, created_by,"       \
                    " created_at, expires_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)")      \
    X(TOKEN_GET, "SELECT " STORE_ROW_TOKEN_COLS " FROM api_tokens WHERE hash = ?1")      \
    X(TOKENS_ALL, "SELECT " STORE_ROW_TOKEN_COLS " FROM api_tokens ORDER BY id")         \
    X(TOKEN_REVOKE, "UPDATE api_tokens SET revoked_at = ?2"                              \
                    " WHERE id = ?1 AND revoked_at = 0")                                 \
    X(TOKEN_EXISTS, "SELECT 1 FROM api_tokens WHERE id = ?1")                            \
    X(AUDIT_INSERT, "INSERT INTO audit (at, actor, via, peer, action, target, detail)"   \
                    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)")                              \
    X(AUDIT_LIST, "SELECT " STORE_ROW_AUDIT_COLS " FROM audit WHERE at >= ?1"            \
                  " AND (?2 = 0 OR at < ?2) AND (?3 IS NULL OR actor = ?3)"              \
                  " AND (?4 IS NULL OR substr(action, 1, length(?4)) = ?4)"              \
                  " AND (?5 = 0 OR id < ?5) ORDER BY id DESC LIMIT ?6")               \
    X(HOOK_INSERT, "INSERT INTO webhooks (name, url, secret, created_by, events, masked,"  \
                   " created_at, cur_seq, cur_sid) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7,"  \
                   " (SELECT coalesce(max(seq), 0) FROM events),"                        \
                   " (SELECT coalesce(max(id), 0) FROM msg_statuses))")                  \
    X(HOOK_DEL, "DELETE FROM webhooks WHERE id = ?1")                                    \
    X(HOOKS_ALL, "SELECT " STORE_ROW_HOOK_COLS " FROM webhooks ORDER BY id")             \
    X(HOOK_PROGRESS, "UPDATE webhooks SET cur_seq = ?2, cur_sid = ?3, delivered = ?4,"   \
                     " failures = ?5, last_status = ?6, last_at = ?7, last_error = ?8"   \
                     " WHERE id = ?1")                                                   \
    X(FEED, "SELECT * FROM (SELECT " STORE_ROW_FEED_EV " WHERE e.seq > ?1 AND e.type IN (" \
            STORE_ROW_T_FEED ") ORDER BY e.seq LIMIT ?3) UNION ALL SELECT * FROM (SELECT " \
            STORE_ROW_FEED_ST " WHERE s.after_seq > ?1 OR (s.after_seq = ?1 AND s.id > ?2)" \
            " ORDER BY s.after_seq, s.id LIMIT ?3) ORDER BY 1, 2 LIMIT ?3")             \
    X(CLOSED_SINCE, "SELECT c.seq, c.at, c.conv, coalesce(o.ep, 0) FROM events c"          \
                    " LEFT JOIN events o ON o.type = 15 AND o.conv = c.conv"              \
                    " WHERE c.type IN (31, 32) AND c.seq > ?1 ORDER BY c.seq LIMIT ?2")   \
    X(MSG_FORGET, "UPDATE messages SET text = NULL WHERE id = ?1")                       \
    X(MSG_SEGMENTS, "INSERT INTO msg_segments (id, segments) VALUES (?1, ?2)"            \
                    " ON CONFLICT (id) DO NOTHING")                                      \
    X(CSAT_FORGET, "UPDATE events SET text = NULL WHERE type = 45 AND conv = ?1"         \
                   " AND text IS NOT NULL")                                              \
    X(ORPHANS_FORGET, "UPDATE inbound_orphans SET text = NULL WHERE at < ?1"             \
                      " AND text IS NOT NULL")                                           \
    X(ERASE_EVENTS, "UPDATE events SET number = 'erased-' || conv,"                      \
                    " name = CASE WHEN type IN (15, 34) THEN NULL ELSE name END,"        \
                    " value = CASE WHEN type = 33 THEN NULL ELSE value END,"             \
                    " text = CASE WHEN type = 45 THEN NULL ELSE text END"                \
                    " WHERE conv IN (SELECT conv FROM events WHERE type = 15"            \
                    " AND number = ?1) AND type NOT IN (35, 36)")                        \
    X(ERASE_MSGS, "UPDATE messages SET number = 'erased-' || conv, text = NULL"          \
                  " WHERE conv IN (SELECT conv FROM events WHERE type = 15"              \
                  " AND number = ?1)")                                                   \
    X(ERASE_COUNT, "SELECT count(*) FROM events WHERE type = 15 AND number = ?1")        \
    X(ERASE_ORPHANS, "DELETE FROM inbound_orphans WHERE number = ?1")

enum store_stmt {
#define X(name, sql) S_##name,
    STORE_STMTS(X)
#undef X
    S__COUNT
};

static const char *const STMT_SQL[S__COUNT] = {
#define X(name, sql) sql,
    STORE_STMTS(X)
#undef X
};

typedef struct sq {
    store base; /* first: the ops and the last error */
    sqlite3 *db;
    sqlite3_stmt *s[S__COUNT];
    store_row_buf row; /* event <-> columns scratch */
    char *acct;        /* account strings handed out by *_get */
    size_t acct_cap;
} sq;

static const struct store_ops SQ_OPS;
static void sq_close(store *st_);

/* ---- helpers ------------------------------------------------------------ */

/* Maps an SQLite result code to the store's errno and records the message. */
static int fail(sq *st, int rc)
{
    snprintf(st->base.err, sizeof st->base.err, "%s", sqlite3_errmsg(st->db));
    switch (rc & 0xff) {
    case SQLITE_FULL:
        return -ENOSPC;
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
        return -EBUSY;
    case SQLITE_NOMEM:
        return -ENOMEM;
    case SQLITE_CONSTRAINT:
        if (rc == SQLITE_CONSTRAINT_UNIQUE || rc == SQLITE_CONSTRAINT_PRIMARYKEY)
            return -EEXIST;
        if (rc == SQLITE_CONSTRAINT_FOREIGNKEY)
            return -ENOENT;
        return -EIO;
    default:
        return -EIO;
    }
}

static int einval(sq *st, const char *why)
{
    snprintf(st->base.err, sizeof st->base.err, "invalid argument: %s", why);
    return -EINVAL;
}

/* Readies a statement after use: reset, and drop the borrowed bindings. */
static void done(sqlite3_stmt *s)
{
    sqlite3_reset(s);
    sqlite3_clear_bindings(s);
}

/* Steps a statement that returns no rows; 0 or a negative error. */
static int run(sq *st, sqlite3_stmt *s)
{
    int rc = sqlite3_step(s);
    int r = rc == SQLITE_DONE ? 0 : fail(st, rc);
    done(s);
    return r;
}

/* Runs a statement that must change a row: -ENOENT (with 'fmt' as the
 * message) when it changed none. */
static int run_changed(sq *st, sqlite3_stmt *s, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int run_changed(sq *st, sqlite3_stmt *s, const char *fmt, ...)
{
    int r = run(st, s);
    if (r == 0 && sqlite3_changes(st->db) == 0) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(st->base.err, sizeof st->base.err, fmt, ap);
        va_end(ap);
        r = -ENOENT;
    }
    return r;
}

static void bind_str(sqlite3_stmt *s, int i, str v)
{
    if (v.n == 0)
        sqlite3_bind_null(s, i);
    else
        sqlite3_bind_text64(s, i, v.p, v.n, SQLITE_STATIC, SQLITE_UTF8);
}

static void bind_blob(sqlite3_stmt *s, int i, str v)
{
    if (v.n == 0)
        sqlite3_bind_null(s, i);
    else
        sqlite3_bind_blob64(s, i, v.p, v.n, SQLITE_STATIC);
}

/* A text column as a view; NULL and '' both give {NULL, 0}. */
static str col_str(sqlite3_stmt *s, int i)
{
    const char *p = (const char *)sqlite3_column_text(s, i);
    size_t n = (size_t)sqlite3_column_bytes(s, i);
    return n ? (str){p, n} : STR_NULL;
}

/* Runs 'sql' (schema and pragmas only; data goes through prepared
 * statements). */
static int exec(sq *st, const char *sql)
{
    char *msg = NULL;
    int rc = sqlite3_exec(st->db, sql, NULL, NULL, &msg);
    if (rc == SQLITE_OK)
        return 0;
    int r = fail(st, rc);
    if (msg)
        snprintf(st->base.err, sizeof st->base.err, "%s", msg);
    sqlite3_free(msg);
    return r;
}

/* Reads a one-integer pragma. */
static int pragma_int(sq *st, const char *sql, int64_t *out)
{
    sqlite3_stmt *s = NULL;
    int rc = sqlite3_prepare_v2(st->db, sql, -1, &s, NULL);
    if (rc == SQLITE_OK) {
        rc = sqlite3_step(s);
        if (rc == SQLITE_ROW) {
            *out = sqlite3_column_int64(s, 0);
            rc = SQLITE_OK;
        }
    }
    int r = rc == SQLITE_OK ? 0 : fail(st, rc);
    sqlite3_finalize(s);
    return r;
}

/* Applies every migration past the file's version, each in its own write
 * transaction. The version is read again under the write lock, so two
 * processes opening one old file do not both migrate it. */
static int migrate(sq *st)
{
    int r = 0;
    for (size_t i = 0; i < N_MIGRATIONS; i++) {
        const struct store_migration *m = &MIGRATIONS[i];
        int64_t cur = 0;
        char uv[64];
        snprintf(uv, sizeof uv, "PRAGMA user_version = %d", m->version);
        if ((r = exec(st, "BEGIN IMMEDIATE")) != 0)
            goto out;
        if ((r = pragma_int(st, "PRAGMA user_version", &cur)) == 0 && cur >= m->version) {
            r = exec(st, "COMMIT");
            if (r != 0)
                goto out;
            continue;
        }
        int64_t done = 0;
        if (r == 0 && m->done_if)
            r = pragma_int(st, m->done_if, &done);
        if (r != 0 || (!done && (r = exec(st, m->sql)) != 0) || (r = exec(st, uv)) != 0 ||
            (r = exec(st, "COMMIT")) != 0) {
            char why[400];
            snprintf(why, sizeof why, "%.399s", st->base.err);
            sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
            snprintf(st->base.err, sizeof st->base.err, "migration to schema version %d failed: %s",
                     m->version, why);
            goto out;
        }
    }
out:
    return r;
}

/* ---- open and close ----------------------------------------------------- */

#define SQ_SCHEMA_VERSION 10
_Static_assert(N_MIGRATIONS == SQ_SCHEMA_VERSION, "SQ_SCHEMA_VERSION is the last migration");

store *store__sqlite_open(const char *path, char *err, size_t errlen)
{
    sq *st = xcalloc(1, sizeof *st);
    st->base.ops = &SQ_OPS;
    snprintf(st->base.where, sizeof st->base.where, "%s", path ? path : "");
    const char *stage = "cannot open";
    int64_t version = 0;
    int r = -EINVAL, rc;
    if (path == NULL || *path == '\0') {
        snprintf(st->base.err, sizeof st->base.err, "no path given");
        goto out;
    }
    /* One thread uses a store (the event loop): no per-call mutex. The
     * VFS writes a commit's WAL frames in one write (store_walvfs.c). */
    rc = store_walvfs_register();
    if (rc == SQLITE_OK)
        rc = sqlite3_open_v2(path, &st->db,
                             SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                             STORE_WALVFS_NAME);
    if (rc != SQLITE_OK) {
        int e = st->db ? sqlite3_system_errno(st->db) : 0;
        snprintf(st->base.err, sizeof st->base.err, "%s%s%s",
                 st->db ? sqlite3_errmsg(st->db) : sqlite3_errstr(rc), e ? ": " : "",
                 e ? strerror(e) : "");
        r = -EIO;
        goto out;
    }
    sqlite3_extended_result_codes(st->db, 1);
    sqlite3_busy_timeout(st->db, STORE_BUSY_TIMEOUT_MS);
    /* The first read: a file that is not a database fails here. */
    if ((r = pragma_int(st, "PRAGMA user_version", &version)) != 0)
        goto out;
    if (version > SQ_SCHEMA_VERSION) {
        snprintf(st->base.err, sizeof st->base.err,
                 "schema version %lld is newer than this build's %d; refusing to open"
                 " (run a newer textdesk)",
                 (long long)version, SQ_SCHEMA_VERSION);
        r = -EINVAL;
        goto out;
    }
    stage = "cannot set up";
    if ((r = exec(st, "PRAGMA journal_mode = WAL")) != 0 ||
        (r = exec(st, "PRAGMA foreign_keys = ON")) != 0 ||
        /* deleted content is overwritten with zeros (docs/privacy.md) */
        (r = exec(st, "PRAGMA secure_delete = ON")) != 0 ||
        (r = exec(st, "PRAGMA synchronous = FULL")) != 0)
        goto out;
    stage = "cannot migrate";
    if ((r = migrate(st)) != 0)
        goto out;
    stage = "cannot prepare statements for";
    for (int i = 0; i < S__COUNT; i++) {
        rc = sqlite3_prepare_v3(st->db, STMT_SQL[i], -1, SQLITE_PREPARE_PERSISTENT,
                                &st->s[i], NULL);
        if (rc != SQLITE_OK) {
            r = fail(st, rc);
            goto out;
        }
    }
    st->base.err[0] = '\0';
out:
    if (r != 0) {
        if (err && errlen)
            snprintf(err, errlen, "%s '%s': %s", stage, path ? path : "(null)",
                     st->base.err);
        sq_close(&st->base);
        return NULL;
    }
    return &st->base;
}

static void sq_close(store *st_)
{
    sq *st = (sq *)st_;
    for (int i = 0; i < S__COUNT; i++)
        sqlite3_finalize(st->s[i]);
    sqlite3_close(st->db);
    store_row_buf_free(&st->row);
    free(st->acct);
    free(st);
}

static int sq_set_sync(store *st_, int full)
{
    sq *st = (sq *)st_;
    return exec(st, full ? "PRAGMA synchronous = FULL" : "PRAGMA synchronous = NORMAL");
}

/* ---- transactions ------------------------------------------------------- */

static int sq_begin(store *st_)
{
    sq *st = (sq *)st_;
    if (!sqlite3_get_autocommit(st->db))
        return einval(st, "a transaction is already open");
    return run(st, st->s[S_BEGIN]);
}

static int sq_commit(store *st_)
{
    sq *st = (sq *)st_;
    if (sqlite3_get_autocommit(st->db))
        return einval(st, "no transaction is open");
    return run(st, st->s[S_COMMIT]);
}

static int sq_rollback(store *st_)
{
    sq *st = (sq *)st_;
    if (sqlite3_get_autocommit(st->db))
        return 0; /* none open, or SQLite already rolled it back */
    return run(st, st->s[S_ROLLBACK]);
}

/* ---- event log ---------------------------------------------------------- */

static int sq_event_append(store *st_, const cc_event *ev)
{
    sq *st = (sq *)st_;
    if (sqlite3_get_autocommit(st->db))
        return einval(st, "store_event_append needs a transaction (store_begin)");
    store_ev_row row;
    store_row_from_event(&st->row, ev, &row);
    sqlite3_stmt *s = st->s[S_EV_INSERT];
    int i = 1;
    for (int k = 0; k < STORE_ROW_NINT; k++)
        sqlite3_bind_int64(s, i++, row.i[k]);
    bind_blob(s, i++, row.ids);
    for (int k = 0; k < STORE_ROW_NSTR; k++)
        bind_str(s, i++, row.s[k]);
    bind_blob(s, i, store_row_rep_encode(&st->row, ev, ev->type == CC_EV_MSG_OUT ?
                                                           store_text_segments(ev->text) : 0));
    int r = run(st, s);
    if (r != 0 || !store_row_is_msg(ev->type))
        return r;

    store_msg m;
    store_row_msg(ev, &m);
    s = st->s[S_MSG_INSERT];
    sqlite3_bind_int64(s, 1, m.id);
    sqlite3_bind_int64(s, 2, m.conv);
    sqlite3_bind_int64(s, 3, m.seq);
    sqlite3_bind_int(s, 4, m.outbound);
    sqlite3_bind_int64(s, 5, m.agent);
    bind_str(s, 6, m.number);
    bind_str(s, 7, m.ep_number);
    bind_str(s, 8, m.text);
    bind_str(s, 9, m.provider_id);
    sqlite3_bind_int(s, 10, m.status);
    sqlite3_bind_int64(s, 11, m.at);
    if ((r = run(st, s)) != 0) {
        /* Undo the event row so that a failed append leaves nothing. */
        sqlite3_stmt *d = st->s[S_EV_DELETE];
        sqlite3_bind_int64(d, 1, m.id);
        sqlite3_step(d);
        done(d);
    }
    return r;
}

/* One row read back as an event, handed to 'cb'. */
static int deliver(sq *st, const store_ev_row *row, store_event_cb cb, void *arg)
{
    cc_event ev;
    int r = store_row_to_event(&st->row, row, &ev, st->base.err, sizeof st->base.err);
    return r ? r : cb(arg, &ev);
}

/* An event of EV_REPORT_COLS (store_row.h, STORE_ROW_REPORT_SELECT). */
static int report_cols(sq *st, sqlite3_stmt *s, cc_event *ev, int *segs)
{
    int64_t v[STORE_ROW_REPORT_NINT];
    for (int k = 0; k < STORE_ROW_REPORT_NINT; k++)
        v[k] = sqlite3_column_int64(s, k);
    str ids = {sqlite3_column_blob(s, 12), (size_t)sqlite3_column_bytes(s, 12)};
    int r = store_row_report_event(&st->row, v, ids, ev, st->base.err, sizeof st->base.err);
    int have = sqlite3_column_type(s, 13) != SQLITE_NULL;
    *segs = store_row_report_segments(ev, have, sqlite3_column_int64(s, 13),
                                      have ? STR_NULL : col_str(s, 14));
    return r;
}

/* store_events_report: the events' report records (v10) in one sequential
 * read; from an event stored before (no record) on, their columns until
 * the next with one (in practice: the log's prefix older than v10). */
static int sq_events_report(store *st_, uint64_t after, size_t limit, store_report_cb cb,
                            void *arg)
{
    sq *st = (sq *)st_;
    size_t got = 0; /* stepping stops at 'limit': SQLite reads no further */
    for (int cols = 0;; cols = !cols) {
        sqlite3_stmt *s = st->s[cols ? S_EV_REPORT_COLS : S_EV_REPORT];
        sqlite3_bind_int64(s, 1, (int64_t)after);
        int r = 0, rc, other = 0;
        while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
            uint64_t seq = (uint64_t)sqlite3_column_int64(s, 0);
            cc_event ev;
            int segs;
            if (cols ? sqlite3_column_int(s, 15) : sqlite3_column_type(s, 1) == SQLITE_NULL) {
                other = 1; /* the other statement goes on from here */
                break;
            }
            if (cols)
                r = report_cols(st, s, &ev, &segs);
            else
                r = store_row_rep_decode(&st->row, seq,
                                         (str){sqlite3_column_blob(s, 1),
                                               (size_t)sqlite3_column_bytes(s, 1)},
                                         &ev, &segs, st->base.err, sizeof st->base.err);
            if (r != 0 || (r = cb(arg, &ev, segs)) != 0)
                break;
            after = seq;
            if (limit && ++got == limit)
                break;
        }
        if (r == 0 && rc != SQLITE_ROW && rc != SQLITE_DONE)
            r = fail(st, rc);
        done(s);
        if (r != 0 || !other)
            return r;
    }
}

/* Runs EV_LOAD or EV_REPLAY (the same columns), or the report's. */
static int sq_events_load(store *st_, int with_text, store_event_cb cb, void *arg)
{
    sq *st = (sq *)st_;
    sqlite3_stmt *s = st->s[with_text ? S_EV_LOAD : S_EV_REPLAY];
    int r = 0, rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        store_ev_row row;
        int i = 0;
        for (int k = 0; k < STORE_ROW_NINT; k++)
            row.i[k] = sqlite3_column_int64(s, i++);
        row.ids = (str){sqlite3_column_blob(s, i), (size_t)sqlite3_column_bytes(s, i)};
        i++;
        for (int k = 0; k < STORE_ROW_NSTR; k++)
            row.s[k] = col_str(s, i++);
        if ((r = deliver(st, &row, cb, arg)) != 0)
            goto out;
    }
    if (rc != SQLITE_DONE)
        r = fail(st, rc);
out:
    done(s);
    return r;
}

static int sq_last_seq(store *st_, uint64_t *seq)
{
    sq *st = (sq *)st_;
    sqlite3_stmt *s = st->s[S_EV_LAST];
    int rc = sqlite3_step(s);
    int r = 0;
    if (rc == SQLITE_ROW)
        *seq = (uint64_t)sqlite3_column_int64(s, 0);
    else
        r = fail(st, rc);
    done(s);
    return r;
}

/* ---- messages and outbox ------------------------------------------------ */

/* A row of statement 's' as store_row reads it. */
typedef struct sq_in {
    store_row_in in;
    sqlite3_stmt *s;
} sq_in;

static int64_t sq_in_i64(const store_row_in *in, int col)
{
    return sqlite3_column_int64(((const sq_in *)in)->s, col);
}

static str sq_in_str(const store_row_in *in, int col)
{
    return col_str(((const sq_in *)in)->s, col);
}

static sq_in sq_in_of(sqlite3_stmt *s)
{
    return (sq_in){{sq_in_i64, sq_in_str, sqlite3_column_count(s)}, s};
}

/* Steps 's' (bound by the caller) to its end, handing each row to 'row'
 * (store_row.h, which calls the user's callback), stops at the first
 * nonzero return, and resets 's'. */
static int each_row(sq *st, sqlite3_stmt *s, store_row_fn row, const store_row_cb *c)
{
    sq_in in = sq_in_of(s);
    int r = 0, rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW)
        if ((r = row(&in.in, c)) != 0)
            goto out;
    if (rc != SQLITE_DONE)
        r = fail(st, rc);
out:
    done(s);
    return r;
}

static int sq_msgs_of_conv(store *st_, uint32_t conv, store_msg_cb cb, void *arg)
{
    sq *st = (sq *)st_;
    sqlite3_stmt *s = st->s[S_MSG_OF_CONV];
    sqlite3_bind_int64(s, 1, conv);
    return each_row(st, s, store_row_msg_read, STORE_ROW_CB(cb, arg));
}

static int sq_msg_get(store *st_, int64_t id, store_msg_cb cb, void *arg)
{
    sq *st = (sq *)st_;
    sqlite3_stmt *s = st->s[S_MSG_GET];
    sqlite3_bind_int64(s, 1, id);
    store_row_one_msg o = {cb, arg, 0};
    int r = each_row(st, s, store_row_msg_read, STORE_ROW_CB(store_row_one_msg_cb, &o));
    if (r == 0 && !o.found) {
        snprintf(st->base.err, sizeof st->base.err, "no message %lld", (long long)id);
        r = -ENOENT;
    }
    return r;
}

static int sq_history(store *st_, str number, size_t max, store_hist_cb cb, void *arg)
{
    sq *st = (sq *)st_;
    sqlite3_stmt *s = st->s[S_HISTORY];
    bind_str(s, 1, number);
    sqlite3_bind_int64(s, 2, max > INT64_MAX ? INT64_MAX : (int64_t)max);
    return each_row(st, s, store_row_hist, STORE_ROW_CB(cb, arg));
}

static int sq_notes(store *st_, uint32_t conv, store_note_cb cb, void *arg)
{
    sq *st = (sq *)st_;
    sqlite3_stmt *s = st->s[S_NOTES];
    sqlite3_bind_int64(s, 1, conv);
    return each_row(st, s, store_row_note, STORE_ROW_CB(cb, arg));
}

/* The 'at' of event 'seq', or -1 when there is none. */
static int64_t at_of(sq *st, int64_t seq)
{
    sqlite3_stmt *s = st->s[S_SEQ_AT];
    sqlite3_bind_int64(s, 1, seq);
    int64_t at = sqlite3_step(s) == SQLITE_ROW ? sqlite3_column_int64(s, 0) : -1;
    done(s);
    return at;
}

static int sq_conv_events_since(store *st_, int64_t from_ms, uint64_t after, size_t limit,
                                store_cev_cb cb, void *arg)
{
    sq *st = (sq *)st_;
    /* events are in time order (the core's clock never goes back), so a
     * binary search over seq finds the first at or after 'from_ms' with
     * primary-key lookups only; a chunk after the first goes on after
     * 'after' */
    int64_t lo = (int64_t)after + 1;
    if (!after) {
        sqlite3_stmt *m = st->s[S_SEQ_MAX];
        int64_t hi = sqlite3_step(m) == SQLITE_ROW ? sqlite3_column_int64(m, 0) : 0;
        done(m);
        for (lo = 1; lo < hi;) {
            int64_t mid = lo + (hi - lo) / 2, at = at_of(st, mid);
            if (at >= 0 && at < from_ms)
                lo = mid + 1;
            else
                hi = mid;
        }
    }
    sqlite3_stmt *s = st->s[S_EV_FROM];
    sqlite3_bind_int64(s, 1, lo);
    sqlite3_bind_int64(s, 2, limit ? (int64_t)limit : INT64_MAX);
    return each_row(st, s, store_row_cev, STORE_ROW_CB(cb, arg));
}

static int sq_csat(store *st_, uint32_t conv, store_csat_cb cb, void *arg)
{
    sq *st = (sq *)st_;
    sqlite3_stmt *s = st->s[S_CSAT];
    sqlite3_bind_int64(s, 1, conv);
    return each_row(st, s, store_row_csat, STORE_ROW_CB(cb, arg));
}

static int sq_wrapups(store *st_, uint32_t conv, store_wrapup_cb cb, void *arg)
{
    sq *st = (sq *)st_;
    sqlite3_stmt *s = st->s[S_WRAPUPS];
    sqlite3_bind_int64(s, 1, conv);
    return each_row(st, s, store_row_wrapup, STORE_ROW_CB(cb, arg));
}

static int sq_outbox_due(store *st_, size_t max, store_msg_cb cb, void *arg)
{
    sq *st = (sq *)st_;
    sqlite3_stmt *s = st->s[S_MSG_DUE];
    sqlite3_bind_int(s, 1, STORE_MSG_QUEUED);
    sqlite3_bind_int64(s, 2, max > INT64_MAX ? INT64_MAX : (int64_t)max);
    return each_row(st, s, store_row_msg_read, STORE_ROW_CB(cb, arg));
}

static int sq_msg_set_status(store *st_, int64_t id, int status, str provider_id, str error,
                             int64_t now)
{
    sq *st = (sq *)st_;
    sqlite3_stmt *s = st->s[S_MSG_SET_STATUS];
    sqlite3_bind_int64(s, 1, id);
    sqlite3_bind_int(s, 2, status);
    sqlite3_bind_int64(s, 3, now);
    bind_str(s, 4, provider_id);
    bind_str(s, 5, error);
    return run_changed(st, s, "no outbound message %lld", (long long)id);
}

/* Steps a one-row lookup; 0 with the first column, -ENOENT, or an error. */
static int lookup_i64(sq *st, sqlite3_stmt *s, int64_t *out, const char *what)
{
    int rc = sqlite3_step(s), r = 0;
    if (rc == SQLITE_ROW) {
        if (out)
            *out = sqlite3_column_int64(s, 0);
    } else if (rc == SQLITE_DONE) {
        snprintf(st->base.err, sizeof st->base.err, "no such %s", what);
        r = -ENOENT;
    } else {
        r = fail(st, rc);
    }
    done(s);
    return r;
}

static int sq_msg_by_provider_id(store *st_, str provider_id, int64_t *id)
{
    sq *st = (sq *)st_;
    sqlite3_stmt *s = st->s[S_MSG_BY_PROVIDER];
    bind_str(s, 1, provider_id);
    return lookup_i64(st, s, id, "outbound message for this provider id");
}

static int sq_inbound_exists(store *st_, str provider_id)
{
    sq *st = (sq *)st_;
    sqlite3_stmt *s = st->s[S_IN_EXISTS];
    bind_str(s, 1, provider_id);
    int r = lookup_i64(st, s, NULL, "inbound message");
    return r == 0 ? 1 : r == -ENOENT ? 0 : r;
}

static int sq_outbox_recover(store *st_, int64_t now)
{
    sq *st = (sq *)st_;
    sqlite3_stmt *s = st->s[S_MSG_RECOVER];
    sqlite3_bind_int(s, 1, STORE_MSG_SUBMITTING);
    sqlite3_bind_int(s, 2, STORE_MSG_UNKNOWN);
    sqlite3_bind_int64(s, 3, now);
    int r = run(st, s);
    return r ? r : sqlite3_changes(st->db);
}

/* ---- refused inbound ---------------------------------------------------- */

static int sq_inbound_orphan(store *st_, int64_t at, str number, str ep_number, str text,
                         str provider_id, str reason)
{
    sq *st = (sq *)st_;
    sqlite3_stmt *s = st->s[S_ORPHAN_INSERT];
    sqlite3_bind_int64(s, 1, at);
    bind_str(s, 2, number);
    bind_str(s, 3, ep_number);
    bind_str(s, 4, text);
    bind_str(s, 5, provider_id);
    bind_str(s, 6, reason);
    return run(st, s);
}

/* ---- accounts and sessions ---------------------------------------------- */

/* Fills 'out' from an account row, copying the strings into the store. */
static void account_row(sq *st, sqlite3_stmt *s, store_account *out)
{
    str u = col_str(s, 1), p = col_str(s, 2);
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
    out->id = sqlite3_column_int64(s, 0);
    out->username = (str){st->acct, u.n};
    out->pwhash = (str){st->acct + u.n + 1, p.n};
    out->agent = (uint32_t)sqlite3_column_int64(s, 3);
    out->role = sqlite3_column_int(s, 4);
}

static int account_step(sq *st, sqlite3_stmt *s, store_account *out, const char *what)
{
    int rc = sqlite3_step(s), r = 0;
    if (rc == SQLITE_ROW) {
        account_row(st, s, out);
    } else if (rc == SQLITE_DONE) {
        snprintf(st->base.err, sizeof st->base.err, "no such %s", what);
        r = -ENOENT;
    } else {
        r = fail(st, rc);
    }
    done(s);
    return r;
}

static int sq_account_put(store *st_, str username, str pwhash, uint32_t agent, int role)
{
    sq *st = (sq *)st_;
    sqlite3_stmt *s = st->s[S_ACCT_INSERT];
    bind_str(s, 1, username);
    bind_str(s, 2, pwhash);
    sqlite3_bind_int64(s, 3, agent);
    sqlite3_bind_int(s, 4, role);
    return run(st, s);
}

static int sq_account_get(store *st_, str username, store_account *out)
{
    sq *st = (sq *)st_;
    sqlite3_stmt *s = st->s[S_ACCT_GET];
    bind_str(s, 1, username);
    return account_step(st, s, out, "account");
}

/* Runs 'sql' and reports its first row's first column when it is not
 * 'ok' (NULL: any row is a problem). 1 with the row in 'out', 0, or an
 * error. */
static int check_rows(sq *st, const char *sql, const char *ok, const char *what, char *out,
                      size_t n)
{
    sqlite3_stmt *s = NULL;
    int rc = sqlite3_prepare_v2(st->db, sql, -1, &s, NULL), r = 0;
    if (rc != SQLITE_OK)
        return fail(st, rc);
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        const char *v = (const char *)sqlite3_column_text(s, 0);
        if (ok && v && strcmp(v, ok) == 0)
            continue;
        snprintf(out, n, "%s: %s", what, v ? v : "(null)");
        r = 1;
        break;
    }
    if (r == 0 && rc != SQLITE_DONE)
        r = fail(st, rc);
    sqlite3_finalize(s);
    return r;
}

static int sq_check(store *st_, char *out, size_t n)
{
    sq *st = (sq *)st_;
    int r;
    if ((r = check_rows(st, "PRAGMA integrity_check", "ok", "integrity_check", out, n)) != 0 ||
        (r = check_rows(st, "PRAGMA foreign_key_check", NULL, "foreign key violated in table",
                        out, n)) != 0)
        return r;
    /* statuses by direction (enum store_msg_status) */
    _Static_assert(STORE_MSG_RECEIVED == 0 && STORE_MSG_QUEUED == 1 && STORE_MSG_UNKNOWN == 6,
                   "message statuses are stored");
    return check_rows(st,
                      "SELECT 'message ' || id || ' has status ' || status FROM messages"
                      " WHERE (outbound = 0 AND status <> 0)"
                      " OR (outbound = 1 AND status NOT BETWEEN 1 AND 6)",
                      NULL, "bad status", out, n);
}

static int sq_backup(store *st_, const char *dest)
{
    sq *st = (sq *)st_;
    /* SQLite's online backup: a consistent copy while others keep writing
     * (WAL readers see one snapshot); done in steps so a busy server is
     * not blocked for the whole copy. */
    sqlite3 *to = NULL;
    int rc = sqlite3_open_v2(dest, &to, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL);
    if (rc != SQLITE_OK) {
        snprintf(st->base.err, sizeof st->base.err, "cannot create %s: %s", dest,
                 to ? sqlite3_errmsg(to) : sqlite3_errstr(rc));
        sqlite3_close(to);
        return -EIO;
    }
    sqlite3_backup *b = sqlite3_backup_init(to, "main", st->db, "main");
    if (!b) {
        snprintf(st->base.err, sizeof st->base.err, "cannot back up to %s: %s", dest, sqlite3_errmsg(to));
        sqlite3_close(to);
        return -EIO;
    }
    do {
        rc = sqlite3_backup_step(b, 256);
        if (rc == SQLITE_BUSY || rc == SQLITE_LOCKED)
            sqlite3_sleep(10);
    } while (rc == SQLITE_OK || rc == SQLITE_BUSY || rc == SQLITE_LOCKED);
    sqlite3_backup_finish(b);
    int r = 0;
    if (rc != SQLITE_DONE) {
        snprintf(st->base.err, sizeof st->base.err, "backup to %s failed: %s", dest, sqlite3_errstr(rc));
        r = rc == SQLITE_FULL ? -ENOSPC : -EIO;
    }
    sqlite3_close(to);
    return r;
}

static int sq_account_of_agent(store *st_, uint32_t agent, store_account *out)
{
    sq *st = (sq *)st_;
    sqlite3_stmt *s = st->s[S_ACCT_OF_AGENT];
    sqlite3_bind_int64(s, 1, agent);
    return account_step(st, s, out, "account for that agent");
}

static int sq_account_set_pwhash(store *st_, str username, str pwhash)
{
    sq *st = (sq *)st_;
    sqlite3_stmt *s = st->s[S_ACCT_SET_PW];
    bind_str(s, 1, username);
    bind_str(s, 2, pwhash);
    return run_changed(st, s, "no account named %.*s", (int)username.n, username.p);
}

static int sq_account_del(store *st_, str username)
{
    sq *st = (sq *)st_;
    sqlite3_stmt *s = st->s[S_ACCT_DEL];
    bind_str(s, 1, username);
    return run_changed(st, s, "no account named %.*s", (int)username.n, username.p);
}

static int sq_session_put(store *st_, str token_hash, int64_t account, int64_t expires_at)
{
    sq *st = (sq *)st_;
    sqlite3_stmt *s = st->s[S_SESS_INSERT];
    bind_blob(s, 1, token_hash);
    sqlite3_bind_int64(s, 2, account);
    sqlite3_bind_int64(s, 3, expires_at);
    int r = run(st, s);
    if (r == -ENOENT)
        snprintf(st->base.err, sizeof st->base.err, "no account %lld", (long long)account);
    return r;
}

static int sq_session_get(store *st_, str token_hash, int64_t now, store_account *out)
{
    sq *st = (sq *)st_;
    sqlite3_stmt *s = st->s[S_SESS_GET];
    bind_blob(s, 1, token_hash);
    sqlite3_bind_int64(s, 2, now);
    return account_step(st, s, out, "session (or it expired)");
}

static int sq_session_del(store *st_, str token_hash)
{
    sq *st = (sq *)st_;
    sqlite3_stmt *s = st->s[S_SESS_DEL];
    bind_blob(s, 1, token_hash);
    return run_changed(st, s, "no such session");
}

static int sq_session_purge(store *st_, int64_t now)
{
    sq *st = (sq *)st_;
    sqlite3_stmt *s = st->s[S_SESS_PURGE];
    sqlite3_bind_int64(s, 1, now);
    int r = run(st, s);
    return r ? r : sqlite3_changes(st->db);
}

/* ---- settings ----------------------------------------------------------- */

static int sq_setting_put(store *st_, str key, str value)
{
    sq *st = (sq *)st_;
    sqlite3_stmt *s = st->s[S_SET_PUT];
    bind_str(s, 1, key);
    /* NOT NULL column: an empty value is stored as '' */
    sqlite3_bind_text64(s, 2, value.n ? value.p : "", value.n, SQLITE_STATIC,
                        SQLITE_UTF8);
    return run(st, s);
}

static int sq_canned_put(store *st_, int64_t id, str title, str text_sv, str text_en)
{
    sq *st = (sq *)st_;
    sqlite3_stmt *s = st->s[S_CANNED_PUT];
    sqlite3_bind_int64(s, 1, id);
    bind_str(s, 2, title);
    /* an empty text is allowed (the desktop falls back to the other one) */
    sqlite3_bind_text64(s, 3, text_sv.n ? text_sv.p : "", text_sv.n, SQLITE_STATIC, SQLITE_UTF8);
    sqlite3_bind_text64(s, 4, text_en.n ? text_en.p : "", text_en.n, SQLITE_STATIC, SQLITE_UTF8);
    return run(st, s);
}

static int sq_canned_del(store *st_, int64_t id)
{
    sq *st = (sq *)st_;
    sqlite3_stmt *s = st->s[S_CANNED_DEL];
    sqlite3_bind_int64(s, 1, id);
    return run_changed(st, s, "no canned response %lld", (long long)id);
}

static int sq_canned_all(store *st_, store_canned_cb cb, void *arg)
{
    sq *st = (sq *)st_;
    return each_row(st, st->s[S_CANNED_ALL], store_row_canned, STORE_ROW_CB(cb, arg));
}

static int sq_setting_get(store *st_, str key, char *out, size_t cap)
{
    sq *st = (sq *)st_;
    sqlite3_stmt *s = st->s[S_SET_GET];
    bind_str(s, 1, key);
    int rc = sqlite3_step(s), r = 0;
    if (rc == SQLITE_ROW) {
        str v = col_str(s, 0);
        if (v.n >= cap) {
            snprintf(st->base.err, sizeof st->base.err, "setting value is %zu bytes, room for %zu",
                     v.n, cap - 1);
            r = -ERANGE;
        } else {
            if (v.n)
                memcpy(out, v.p, v.n);
            out[v.n] = '\0';
        }
    } else if (rc == SQLITE_DONE) {
        snprintf(st->base.err, sizeof st->base.err, "no such setting");
        r = -ENOENT;
    } else {
        r = fail(st, rc);
    }
    done(s);
    return r;
}

/* ---- API tokens and the audit trail ------------------------------------ */

static int sq_token_put(store *st_, str name, str hash, int role, uint32_t agent, str created_by,
                        int64_t created_at, int64_t expires_at, int64_t *id)
{
    sq *st = (sq *)st_;
    sqlite3_stmt *s = st->s[S_TOKEN_INSERT];
    bind_str(s, 1, name);
    bind_str(s, 2, hash);
    sqlite3_bind_int(s, 3, role);
    sqlite3_bind_int64(s, 4, agent);
    bind_str(s, 5, created_by);
    sqlite3_bind_int64(s, 6, created_at);
    sqlite3_bind_int64(s, 7, expires_at);
    int r = run(st, s);
    if (r == 0)
        *id = sqlite3_last_insert_rowid(st->db);
    return r;
}

static int sq_token_get(store *st_, str hash, store_token *out)
{
    sq *st = (sq *)st_;
    sqlite3_stmt *s = st->s[S_TOKEN_GET];
    bind_str(s, 1, hash);
    int rc = sqlite3_step(s), r = 0;
    if (rc == SQLITE_ROW) {
        sq_in in = sq_in_of(s);
        store_row_token(&in.in, out);
        /* copy the strings: the row goes away with done() */
        size_t need = out->name.n + out->created_by.n + 2;
        if (need > st->acct_cap) {
            st->acct_cap = need;
            st->acct = xrealloc(st->acct, need);
        }
        store_row_copy2(st->acct, &out->name, &out->created_by);
    } else if (rc == SQLITE_DONE) {
        r = store__fail(st_, -ENOENT, "no such API token");
    } else {
        r = fail(st, rc);
    }
    done(s);
    return r;
}

static int sq_tokens_all(store *st_, store_token_cb cb, void *arg)
{
    sq *st = (sq *)st_;
    return each_row(st, st->s[S_TOKENS_ALL], store_row_token_read, STORE_ROW_CB(cb, arg));
}

static int sq_token_revoke(store *st_, int64_t id, int64_t now)
{
    sq *st = (sq *)st_;
    sqlite3_stmt *s = st->s[S_TOKEN_REVOKE];
    sqlite3_bind_int64(s, 1, id);
    sqlite3_bind_int64(s, 2, now);
    int r = run(st, s);
    if (r != 0 || sqlite3_changes(st->db) == 1)
        return r;
    s = st->s[S_TOKEN_EXISTS];
    sqlite3_bind_int64(s, 1, id);
    int rc = sqlite3_step(s);
    done(s);
    if (rc == SQLITE_ROW)
        return store__fail(st_, -EALREADY, "API token %lld was revoked before", (long long)id);
    return rc == SQLITE_DONE ? store__fail(st_, -ENOENT, "no API token %lld", (long long)id)
                             : fail(st, rc);
}

static int sq_audit_add(store *st_, const store_audit *e)
{
    sq *st = (sq *)st_;
    sqlite3_stmt *s = st->s[S_AUDIT_INSERT];
    sqlite3_bind_int64(s, 1, e->at);
    bind_str(s, 2, e->actor);
    bind_str(s, 3, e->via);
    bind_str(s, 4, e->peer);
    bind_str(s, 5, e->action);
    bind_str(s, 6, e->target);
    bind_str(s, 7, e->detail);
    return run(st, s);
}

static int sq_audit_list(store *st_, const store_audit_filter *f, store_audit_cb cb, void *arg)
{
    sq *st = (sq *)st_;
    sqlite3_stmt *s = st->s[S_AUDIT_LIST];
    sqlite3_bind_int64(s, 1, f->from);
    sqlite3_bind_int64(s, 2, f->to);
    bind_str(s, 3, f->actor);
    bind_str(s, 4, f->action);
    sqlite3_bind_int64(s, 5, f->before_id);
    sqlite3_bind_int64(s, 6, f->max > INT64_MAX ? INT64_MAX : (int64_t)f->max);
    return each_row(st, s, store_row_audit, STORE_ROW_CB(cb, arg));
}

/* ---- webhooks ------------------------------------------------------------ */

static int sq_hook_put(store *st_, const store_hook *h, int64_t *id)
{
    sq *st = (sq *)st_;
    sqlite3_stmt *s = st->s[S_HOOK_INSERT];
    bind_str(s, 1, h->name);
    bind_str(s, 2, h->url);
    bind_str(s, 3, h->secret);
    bind_str(s, 4, h->created_by);
    sqlite3_bind_int64(s, 5, h->events);
    sqlite3_bind_int(s, 6, h->masked);
    sqlite3_bind_int64(s, 7, h->created_at);
    int r = run(st, s);
    if (r == 0)
        *id = sqlite3_last_insert_rowid(st->db);
    return r;
}

static int sq_hook_del(store *st_, int64_t id)
{
    sq *st = (sq *)st_;
    sqlite3_stmt *s = st->s[S_HOOK_DEL];
    sqlite3_bind_int64(s, 1, id);
    return run_changed(st, s, "no webhook %lld", (long long)id);
}

static int sq_hooks_all(store *st_, store_hook_cb cb, void *arg)
{
    sq *st = (sq *)st_;
    return each_row(st, st->s[S_HOOKS_ALL], store_row_hook, STORE_ROW_CB(cb, arg));
}

static int sq_hook_progress(store *st_, const store_hook *h)
{
    sq *st = (sq *)st_;
    sqlite3_stmt *s = st->s[S_HOOK_PROGRESS];
    sqlite3_bind_int64(s, 1, h->id);
    sqlite3_bind_int64(s, 2, h->seq);
    sqlite3_bind_int64(s, 3, h->sid);
    sqlite3_bind_int64(s, 4, h->delivered);
    sqlite3_bind_int64(s, 5, h->failures);
    sqlite3_bind_int(s, 6, h->last_status);
    sqlite3_bind_int64(s, 7, h->last_at);
    bind_str(s, 8, h->last_error);
    return run_changed(st, s, "no webhook %lld", (long long)h->id);
}

static int sq_feed(store *st_, int64_t seq, int64_t sid, size_t max, store_feed_cb cb, void *arg)
{
    sq *st = (sq *)st_;
    sqlite3_stmt *s = st->s[S_FEED];
    sqlite3_bind_int64(s, 1, seq);
    sqlite3_bind_int64(s, 2, sid);
    sqlite3_bind_int64(s, 3, (int64_t)max);
    return each_row(st, s, store_row_feed, STORE_ROW_CB(cb, arg));
}

/* ---- retention and erasure ---------------------------------------------- */

static int sq_closed_since(store *st_, int64_t after_seq, size_t max, store_closed_cb cb,
                           void *arg)
{
    sq *st = (sq *)st_;
    sqlite3_stmt *s = st->s[S_CLOSED_SINCE];
    sqlite3_bind_int64(s, 1, after_seq);
    sqlite3_bind_int64(s, 2, (int64_t)max);
    return each_row(st, s, store_row_closed, STORE_ROW_CB(cb, arg));
}

static int sq_msg_forget(store *st_, int64_t id, int segments)
{
    sq *st = (sq *)st_;
    sqlite3_stmt *s = st->s[S_MSG_FORGET];
    sqlite3_bind_int64(s, 1, id);
    int r = run_changed(st, s, "no message %lld", (long long)id);
    if (r != 0 || segments < 0)
        return r;
    s = st->s[S_MSG_SEGMENTS];
    sqlite3_bind_int64(s, 1, id);
    sqlite3_bind_int(s, 2, segments);
    return run(st, s);
}

static int sq_csat_forget(store *st_, uint32_t conv)
{
    sq *st = (sq *)st_;
    sqlite3_stmt *s = st->s[S_CSAT_FORGET];
    sqlite3_bind_int64(s, 1, conv);
    return run(st, s);
}

static int sq_orphans_forget(store *st_, int64_t before_at)
{
    sq *st = (sq *)st_;
    sqlite3_stmt *s = st->s[S_ORPHANS_FORGET];
    sqlite3_bind_int64(s, 1, before_at);
    int r = run(st, s);
    return r != 0 ? r : sqlite3_changes(st->db);
}

static int sq_erase_number(store *st_, str number, int64_t *convs)
{
    sq *st = (sq *)st_;
    sqlite3_stmt *s = st->s[S_ERASE_COUNT];
    bind_str(s, 1, number);
    int rc = sqlite3_step(s);
    *convs = rc == SQLITE_ROW ? sqlite3_column_int64(s, 0) : 0;
    int r = rc == SQLITE_ROW ? 0 : fail(st, rc);
    done(s);
    /* messages first: they find their conversations by the number */
    static const int order[] = {S_ERASE_MSGS, S_ERASE_ORPHANS, S_ERASE_EVENTS};
    for (size_t i = 0; r == 0 && i < 3; i++) {
        s = st->s[order[i]];
        bind_str(s, 1, number);
        r = run(st, s);
    }
    return r;
}

static int sq_scrub(store *st_)
{
    return exec((sq *)st_, "PRAGMA wal_checkpoint(TRUNCATE)");
}

static const struct store_ops SQ_OPS = {
    .kind = "sqlite",
    .schema_version = SQ_SCHEMA_VERSION,
    .close = sq_close,
    .set_sync = sq_set_sync,
    .begin = sq_begin,
    .commit = sq_commit,
    .rollback = sq_rollback,
    .event_append = sq_event_append,
    .events_load = sq_events_load,
    .events_report = sq_events_report,
    .last_seq = sq_last_seq,
    .msg_get = sq_msg_get,
    .msgs_of_conv = sq_msgs_of_conv,
    .history = sq_history,
    .notes = sq_notes,
    .conv_events_since = sq_conv_events_since,
    .wrapups = sq_wrapups,
    .csat = sq_csat,
    .outbox_due = sq_outbox_due,
    .msg_set_status = sq_msg_set_status,
    .msg_by_provider_id = sq_msg_by_provider_id,
    .inbound_exists = sq_inbound_exists,
    .outbox_recover = sq_outbox_recover,
    .inbound_orphan = sq_inbound_orphan,
    .account_put = sq_account_put,
    .account_get = sq_account_get,
    .account_of_agent = sq_account_of_agent,
    .account_set_pwhash = sq_account_set_pwhash,
    .account_del = sq_account_del,
    .session_put = sq_session_put,
    .session_get = sq_session_get,
    .session_del = sq_session_del,
    .session_purge = sq_session_purge,
    .backup = sq_backup,
    .check = sq_check,
    .canned_put = sq_canned_put,
    .canned_del = sq_canned_del,
    .canned_all = sq_canned_all,
    .setting_put = sq_setting_put,
    .setting_get = sq_setting_get,
    .token_put = sq_token_put,
    .token_get = sq_token_get,
    .tokens_all = sq_tokens_all,
    .token_revoke = sq_token_revoke,
    .audit_add = sq_audit_add,
    .audit_list = sq_audit_list,
    .hook_put = sq_hook_put,
    .hook_del = sq_hook_del,
    .hooks_all = sq_hooks_all,
    .hook_progress = sq_hook_progress,
    .feed = sq_feed,
    .closed_since = sq_closed_since,
    .msg_forget = sq_msg_forget,
    .csat_forget = sq_csat_forget,
    .orphans_forget = sq_orphans_forget,
    .erase_number = sq_erase_number,
    .scrub = sq_scrub,
};
