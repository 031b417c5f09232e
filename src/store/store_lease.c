/*
 * store_lease: the leadership session of a node (store_lease.h,
 * docs/internals/ha.md). Also the SQL of schema version 4 on PostgreSQL
 * (the tables and functions of leadership and fencing), which store_pg.c
 * applies as one of its migrations.
 */
#include "store/store_lease.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "store/store_int.h"
#include "util/xalloc.h"

/* The advisory lock of the leader (pg_try_advisory_lock(bigint): in
 * pg_locks classid 0, objid the key, objsubid 1). */
#define LEASE_LOCK "7413014"

/* Version 4: leadership, epochs and fencing (docs/internals/ha.md). The
 * fence counts commits per epoch and connection (one row each, so two
 * connections of one node never wait for each other); a new epoch copies
 * the old one's count into commits_at_end, so commits by a deposed leader
 * are counted by the database itself: commits - commits_at_end. */
const char store__pg_schema_v4[] =
    "CREATE TABLE IF NOT EXISTS leadership ("
    " id integer PRIMARY KEY CHECK (id = 1), epoch bigint NOT NULL, node text NOT NULL);"
    "INSERT INTO leadership (id, epoch, node) VALUES (1, 0, '') ON CONFLICT (id) DO NOTHING;"
    "CREATE TABLE IF NOT EXISTS ha_epochs ("
    " epoch bigint PRIMARY KEY, node text NOT NULL,"
    " started_at timestamptz NOT NULL DEFAULT now(), ended_at timestamptz,"
    " commits_at_end bigint);"
    "CREATE TABLE IF NOT EXISTS ha_commits ("
    " epoch bigint NOT NULL, pid integer NOT NULL, n bigint NOT NULL,"
    " PRIMARY KEY (epoch, pid));"
    "CREATE TABLE IF NOT EXISTS ha_nodes ("
    " node text PRIMARY KEY, role text NOT NULL, epoch bigint NOT NULL DEFAULT 0,"
    " seen bigint NOT NULL DEFAULT 0, renewed_at timestamptz NOT NULL DEFAULT now(),"
    " pid integer);"
    /* the first statement of every transaction of a node in a cluster */
    "CREATE OR REPLACE FUNCTION textdesk_fence(e bigint) RETURNS void LANGUAGE plpgsql AS $$"
    " BEGIN"
    "  PERFORM 1 FROM leadership WHERE id = 1 AND epoch = e FOR SHARE;"
    "  IF NOT FOUND THEN"
    "   RAISE EXCEPTION 'deposed: epoch % is over, another node leads', e"
    "    USING ERRCODE = 'TD001';"
    "  END IF;"
    "  INSERT INTO ha_commits (epoch, pid, n) VALUES (e, pg_backend_pid(), 1)"
    "   ON CONFLICT (epoch, pid) DO UPDATE SET n = ha_commits.n + 1;"
    "  PERFORM pg_notify('textdesk_events', e::text);"
    " END $$;"
    /* a candidate: take the lock and bump the epoch, or cut a holder
     * whose heartbeat is older than the lease */
    "CREATE OR REPLACE FUNCTION textdesk_ha_try(n text, lease_ms bigint, seen_ bigint,"
    "  OUT won bigint, OUT cur bigint, OUT leader text) LANGUAGE plpgsql AS $$"
    " DECLARE holder integer; stale boolean;"
    " BEGIN"
    "  won := 0;"
    "  UPDATE ha_nodes SET role = 'standby', seen = seen_, renewed_at = now(),"
    "   pid = pg_backend_pid() WHERE node = n;"
    "  IF pg_try_advisory_lock(" LEASE_LOCK ") THEN"
    /* transactions that passed the fence (a frozen leader's) end first */
    "   PERFORM pg_terminate_backend(l.pid) FROM pg_locks l"
    "    WHERE l.locktype = 'relation' AND l.relation = 'leadership'::regclass"
    "    AND l.mode = 'RowShareLock' AND l.pid <> pg_backend_pid();"
    "   SELECT epoch INTO cur FROM leadership WHERE id = 1 FOR UPDATE;"
    "   UPDATE ha_epochs SET ended_at = now(), commits_at_end = (SELECT coalesce(sum(c.n), 0)"
    "    FROM ha_commits c WHERE c.epoch = cur) WHERE epoch = cur;"
    "   won := cur + 1;"
    "   UPDATE leadership SET epoch = won, node = n WHERE id = 1;"
    "   INSERT INTO ha_epochs (epoch, node) VALUES (won, n);"
    "   UPDATE ha_nodes SET role = 'leader', epoch = won WHERE node = n;"
    "  ELSE"
    "   SELECT l.pid, now() - h.renewed_at > lease_ms * interval '1 millisecond'"
    "    INTO holder, stale FROM pg_locks l JOIN ha_nodes h ON h.pid = l.pid"
    "    WHERE l.locktype = 'advisory' AND l.classid = 0 AND l.objid = " LEASE_LOCK
    "    AND l.objsubid = 1 AND l.granted;"
    "   IF stale THEN PERFORM pg_terminate_backend(holder); END IF;"
    "  END IF;"
    "  SELECT l.epoch, l.node INTO cur, leader FROM leadership l WHERE l.id = 1;"
    " END $$;"
    /* the leader: renew the heartbeat, read the epoch */
    "CREATE OR REPLACE FUNCTION textdesk_ha_beat(n text, e bigint, seen_ bigint,"
    "  OUT cur bigint, OUT leader text) LANGUAGE plpgsql AS $$"
    " BEGIN"
    "  UPDATE ha_nodes SET role = 'leader', epoch = e, seen = seen_, renewed_at = now(),"
    "   pid = pg_backend_pid() WHERE node = n;"
    "  SELECT l.epoch, l.node INTO cur, leader FROM leadership l WHERE l.id = 1;"
    " END $$;";

enum phase { DOWN, RESOLVING, CONNECTING, SETUP, IDLE, BUSY };
enum asked { A_SETUP, A_TRY, A_BEAT, A_TAIL };
#define TAIL_ROWS 500 /* events per tail read: one step's work at most */

/* Host names of the URL resolved without waiting (getaddrinfo_a: glibc's
 * resolver threads), then given to libpq as hostaddr, so its connect never
 * waits for DNS on the caller's loop. */
#define RESOLVE_MAX 8 /* hosts in a URL */
#define ADDR_MAX 16   /* addresses tried per connect, as libpq would */
typedef struct resolving {
    int nhost, nport;
    char *host[RESOLVE_MAX], *port[RESOLVE_MAX];
    int asked[RESOLVE_MAX]; /* index in cb, or -1: a numeric address */
    int n;
    struct gaicb cb[RESOLVE_MAX];
    struct gaicb *list[RESOLVE_MAX];
    struct addrinfo hints;
} resolving;

struct store_lease {
    PGconn *c;
    resolving *rs; /* while RESOLVING */
    enum phase ph;
    enum asked asked; /* the statement in flight */
    int poll_write; /* connecting: libpq waits for the socket to be writable */
    /* the tail read (store_lease_follow) */
    store *st;
    store_event_cb tail_cb;
    void *tail_arg;
    int tail_want, tail_rows, tail_err;
    int leads; /* the caller leads (its step's 'leading'): no tail is applied */
    uint64_t tail_after, tail_last; /* the log's last seq, as the read saw it */
    char *url, *node;
    int64_t lease_ms, fence_ms;
    char err[256];
};

store_lease *store_lease_new(const char *url, const char *node, int64_t lease_ms,
                             int64_t fence_ms)
{
    store_lease *l = xcalloc(1, sizeof *l);
    l->url = xmemdup0(url, strlen(url));
    l->node = xmemdup0(node, strlen(node));
    l->lease_ms = lease_ms;
    l->fence_ms = fence_ms;
    return l;
}

static void resolving_free(resolving *rs)
{
    if (!rs)
        return;
    for (int j = 0; j < rs->n; j++) {
        /* one under way cannot be freed under glibc's thread: at the end
         * of a process only, so wait for it */
        if (gai_cancel(rs->list[j]) == EAI_NOTCANCELED)
            while (gai_error(rs->list[j]) == EAI_INPROGRESS) {
                const struct gaicb *one[] = {rs->list[j]};
                gai_suspend(one, 1, NULL);
            }
        if (rs->cb[j].ar_result)
            freeaddrinfo(rs->cb[j].ar_result);
    }
    for (int i = 0; i < rs->nhost; i++)
        free(rs->host[i]);
    for (int i = 0; i < rs->nport; i++)
        free(rs->port[i]);
    free(rs);
}

void store_lease_free(store_lease *l)
{
    if (!l)
        return;
    resolving_free(l->rs);
    PQfinish(l->c);
    free(l->url);
    free(l->node);
    free(l);
}

const char *store_lease_error(const store_lease *l)
{
    return l->err;
}

static void set_err(store_lease *l, const char *msg)
{
    snprintf(l->err, sizeof l->err, "%s", msg && *msg ? msg : "unknown error");
    size_t n = strlen(l->err);
    while (n && (l->err[n - 1] == '\n' || l->err[n - 1] == ' '))
        l->err[--n] = '\0';
}

static void lost(store_lease *l, store_lease_news *out)
{
    if (l->c)
        set_err(l, PQerrorMessage(l->c));
    PQfinish(l->c);
    l->c = NULL;
    l->ph = DOWN;
    out->lost = 1;
}

static void no_notice(void *arg, const char *msg)
{
    (void)arg;
    (void)msg;
}

/* The session's TCP settings. This end: a silent server is noticed within
 * the self-fence (keepalives idle 1 s, probes 1 s apart; unacknowledged
 * data for fence_ms). The server's end (send_setup): a vanished host is
 * noticed within about the lease, so its lock is freed, never before the
 * host stopped acting by itself (the self-fence is shorter). */
static int keepalive_probes(int64_t ms)
{
    int64_t n = ms / 1000 - 1; /* idle 1 s, then n probes 1 s apart */
    return n < 1 ? 1 : (int)n;
}

/* Connects, with 'host', 'hostaddr' and 'port' over the URL's when given. */
static void connect_start(store_lease *l, const char *host, const char *hostaddr,
                          const char *port, store_lease_news *out)
{
    const char *keys[12] = {"dbname", "connect_timeout", "application_name", "keepalives",
                            "keepalives_idle", "keepalives_interval", "keepalives_count",
                            "tcp_user_timeout"};
    char probes[16], user_timeout[24];
    snprintf(probes, sizeof probes, "%d", keepalive_probes(l->fence_ms));
    snprintf(user_timeout, sizeof user_timeout, "%lld", (long long)l->fence_ms);
    const char *vals[12] = {l->url, "3", "textdesk-ha", "1", "1", "1", probes, user_timeout};
    int k = 8;
    if (hostaddr) {
        keys[k] = "host", vals[k++] = host;
        keys[k] = "hostaddr", vals[k++] = hostaddr;
        if (port)
            keys[k] = "port", vals[k++] = port;
    }
    keys[k] = vals[k] = NULL;
    l->c = PQconnectStartParams(keys, vals, 1);
    if (!l->c || PQstatus(l->c) == CONNECTION_BAD) {
        lost(l, out);
        return;
    }
    PQsetNoticeProcessor(l->c, no_notice, NULL);
    l->ph = CONNECTING;
    l->poll_write = 1; /* as if PQconnectPoll had said PGRES_POLLING_WRITING */
}

static int split(const char *list, char **out, int max)
{
    int n = 0;
    for (const char *p = list; n < max;) {
        const char *e = strchr(p, ',');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        out[n++] = xmemdup0(p, len);
        if (!e)
            return n;
        p = e + 1;
    }
    return -1; /* too many */
}

static int numeric(const char *host)
{
    unsigned char a[16];
    return inet_pton(AF_INET, host, a) == 1 || inet_pton(AF_INET6, host, a) == 1;
}

/* Starts resolving the URL's host names; 0 when there is nothing to
 * resolve (numeric addresses, a socket folder, hostaddr given, a URL
 * libpq will refuse with its own message). */
static int resolve_start(store_lease *l)
{
    PQconninfoOption *o = PQconninfoParse(l->url, NULL);
    const char *host = NULL, *hostaddr = NULL, *port = NULL;
    for (PQconninfoOption *x = o; x && x->keyword; x++) {
        if (!x->val || !*x->val)
            continue;
        if (strcmp(x->keyword, "host") == 0)
            host = x->val;
        else if (strcmp(x->keyword, "hostaddr") == 0)
            hostaddr = x->val;
        else if (strcmp(x->keyword, "port") == 0)
            port = x->val;
    }
    resolving *rs = xcalloc(1, sizeof *rs);
    int names = 0;
    if (host && !hostaddr && (rs->nhost = split(host, rs->host, RESOLVE_MAX)) > 0 &&
        (!port || (rs->nport = split(port, rs->port, RESOLVE_MAX)) >= 0)) {
        for (int i = 0; i < rs->nhost; i++) {
            if (rs->host[i][0] == '/' || rs->host[i][0] == '@' || !rs->host[i][0]) {
                names = 0; /* a Unix socket: libpq connects without DNS */
                break;
            }
            names += !numeric(rs->host[i]);
        }
    }
    PQconninfoFree(o);
    if (!names || (rs->nport > 1 && rs->nport != rs->nhost)) {
        resolving_free(rs);
        return 0;
    }
    rs->hints.ai_family = AF_UNSPEC;
    rs->hints.ai_socktype = SOCK_STREAM;
    for (int i = 0; i < rs->nhost; i++) {
        rs->asked[i] = -1;
        if (numeric(rs->host[i]))
            continue;
        rs->asked[i] = rs->n;
        rs->cb[rs->n].ar_name = rs->host[i];
        rs->cb[rs->n].ar_request = &rs->hints;
        rs->list[rs->n] = &rs->cb[rs->n];
        rs->n++;
    }
    int r = getaddrinfo_a(GAI_NOWAIT, rs->list, rs->n, NULL);
    if (r != 0) {
        snprintf(l->err, sizeof l->err, "cannot resolve %s: %s", rs->host[0], gai_strerror(r));
        rs->n = 0; /* nothing under way */
        resolving_free(rs);
        return -1;
    }
    l->rs = rs;
    l->ph = RESOLVING;
    return 1;
}

static void add(char *list, size_t n, const char *item)
{
    size_t len = strlen(list);
    snprintf(list + len, n - len, "%s%s", len ? "," : "", item);
}

/* Resolved: connects to every address found, in order (each host's, as
 * libpq would try them itself). */
static void resolve_done(store_lease *l, store_lease_news *out)
{
    resolving *rs = l->rs;
    for (int j = 0; j < rs->n; j++)
        if (gai_error(rs->list[j]) == EAI_INPROGRESS)
            return; /* not yet: the next step */
    char hosts[2048] = "", addrs[1024] = "", ports[256] = "", a[INET6_ADDRSTRLEN];
    int k = 0;
    for (int i = 0; i < rs->nhost && k < ADDR_MAX; i++) {
        const char *port = rs->nport > 1 ? rs->port[i] : rs->nport ? rs->port[0] : "";
        if (rs->asked[i] < 0) {
            add(hosts, sizeof hosts, rs->host[i]), add(addrs, sizeof addrs, rs->host[i]);
            add(ports, sizeof ports, port), k++;
            continue;
        }
        struct gaicb *g = rs->list[rs->asked[i]];
        int e = gai_error(g);
        if (e != 0) {
            snprintf(l->err, sizeof l->err, "cannot resolve %s: %s", rs->host[i],
                     gai_strerror(e));
            continue;
        }
        for (struct addrinfo *ai = g->ar_result; ai && k < ADDR_MAX; ai = ai->ai_next) {
            if (getnameinfo(ai->ai_addr, ai->ai_addrlen, a, sizeof a, NULL, 0,
                            NI_NUMERICHOST) != 0)
                continue;
            add(hosts, sizeof hosts, rs->host[i]), add(addrs, sizeof addrs, a);
            add(ports, sizeof ports, port), k++;
        }
    }
    int nport = rs->nport;
    resolving_free(rs);
    l->rs = NULL;
    if (k == 0) {
        l->ph = DOWN;
        out->lost = 1;
        return;
    }
    connect_start(l, hosts, addrs, nport ? ports : NULL, out);
}

static void start(store_lease *l, store_lease_news *out)
{
    int r = resolve_start(l);
    if (r < 0) {
        out->lost = 1;
        return;
    }
    if (r == 0)
        connect_start(l, NULL, NULL, NULL, out);
}

/* Whether the socket is ready for what libpq waits for (never waits). */
static int ready(PGconn *c, int for_write)
{
    struct pollfd p = {.fd = PQsocket(c), .events = for_write ? POLLOUT : POLLIN};
    return p.fd >= 0 && poll(&p, 1, 0) > 0;
}

static void send_setup(store_lease *l, store_lease_news *out)
{
    char *node = PQescapeLiteral(l->c, l->node, strlen(l->node));
    char sql[640];
    snprintf(sql, sizeof sql,
             "SET tcp_keepalives_idle = 1; SET tcp_keepalives_interval = 1;"
             " SET tcp_keepalives_count = %d; SET tcp_user_timeout = %lld;"
             " SET lock_timeout = '1s'; SET client_min_messages = warning;"
             " LISTEN textdesk_events;"
             " INSERT INTO ha_nodes (node, role, pid) VALUES (%s, 'standby', pg_backend_pid())"
             " ON CONFLICT (node) DO UPDATE SET role = 'standby', pid = excluded.pid,"
             " renewed_at = now()",
             keepalive_probes(l->lease_ms), (long long)l->lease_ms, node ? node : "''");
    PQfreemem(node);
    if (!PQsendQuery(l->c, sql)) {
        lost(l, out);
        return;
    }
    l->asked = A_SETUP;
    l->ph = SETUP;
}

static void send_tail(store_lease *l, store_lease_news *out)
{
    char after[24], rows[16];
    snprintf(after, sizeof after, "%llu", (unsigned long long)l->tail_after);
    snprintf(rows, sizeof rows, "%d", TAIL_ROWS);
    const char *v[] = {after, rows};
    if (!PQsendQueryParams(l->c, store__pg_tail_sql, 2, NULL, v, NULL, NULL, 0) ||
        !PQsetSingleRowMode(l->c)) {
        lost(l, out);
        return;
    }
    l->tail_want = 0;
    l->tail_rows = 0;
    l->tail_err = 0;
    l->tail_last = l->tail_after; /* none after: the log ends where the follower is */
    l->asked = A_TAIL;
    l->ph = BUSY;
}

/* A row of the tail read: to the follower, unless an earlier one failed. */
static void tail_row(store_lease *l, PGresult *res)
{
    l->tail_rows++;
    int nf = PQnfields(res);
    if (nf > 0)
        l->tail_last = strtoull(PQgetvalue(res, 0, nf - 1), NULL, 10);
    if (l->tail_err || l->leads)
        return; /* a leader's core is its own: the log's tail was read at the takeover */
    cc_event ev;
    int r = store__pg_tail_event(l->st, res, 0, &ev);
    if (r == 0)
        r = l->tail_cb(l->tail_arg, &ev);
    if (r != 0) {
        l->tail_err = r;
        set_err(l, store_errmsg(l->st));
    }
}

static void send_next(store_lease *l, int64_t leading, uint64_t seen, store_lease_news *out)
{
    char e[24], s[24], lease[24];
    snprintf(e, sizeof e, "%lld", (long long)leading);
    snprintf(s, sizeof s, "%llu", (unsigned long long)seen);
    snprintf(lease, sizeof lease, "%lld", (long long)l->lease_ms);
    int ok;
    if (leading > 0) {
        const char *v[] = {l->node, e, s};
        ok = PQsendQueryParams(l->c, "SELECT 0, cur, leader FROM textdesk_ha_beat($1, $2, $3)",
                               3, NULL, v, NULL, NULL, 0);
    } else {
        const char *v[] = {l->node, lease, s};
        ok = PQsendQueryParams(l->c, "SELECT won, cur, leader FROM textdesk_ha_try($1, $2, $3)",
                               3, NULL, v, NULL, NULL, 0);
    }
    if (!ok) {
        lost(l, out);
        return;
    }
    l->asked = leading > 0 ? A_BEAT : A_TRY;
    l->ph = BUSY;
}

/* Reads the answers that arrived; 1 when the statement is done. */
static int read_results(store_lease *l, store_lease_news *out)
{
    while (!PQisBusy(l->c)) {
        PGresult *res = PQgetResult(l->c);
        if (!res)
            return 1;
        ExecStatusType t = PQresultStatus(res);
        if (l->asked == A_TAIL) {
            if (t == PGRES_SINGLE_TUPLE)
                tail_row(l, res);
            else if (t != PGRES_TUPLES_OK && !l->tail_err) {
                l->tail_err = -EIO;
                set_err(l, PQresultErrorMessage(res));
            }
        } else if (t == PGRES_TUPLES_OK && PQntuples(res) == 1 && PQnfields(res) == 3) {
            out->answered = 1;
            out->won = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
            out->epoch = strtoll(PQgetvalue(res, 0, 1), NULL, 10);
            snprintf(out->leader, sizeof out->leader, "%s", PQgetvalue(res, 0, 2));
        } else if (t == PGRES_COMMAND_OK) {
            out->answered = 1;
        } else if (t != PGRES_TUPLES_OK) {
            /* a failed try (the bump met a lock past lock_timeout): the
             * next step tries again; the session stays */
            set_err(l, PQresultErrorMessage(res));
        }
        PQclear(res);
    }
    return 0;
}

void store_lease_follow(store_lease *l, store *st, store_event_cb cb, void *arg)
{
    l->st = st;
    l->tail_cb = cb;
    l->tail_arg = arg;
}

void store_lease_want_tail(store_lease *l, uint64_t after)
{
    if (l->tail_cb && !(l->ph == BUSY && l->asked == A_TAIL)) {
        l->tail_want = 1;
        l->tail_after = after;
    }
}

int store_lease_fd(const store_lease *l, int *want_write)
{
    /* while RESOLVING none: the timer's steps look */
    *want_write = l->c && l->ph == CONNECTING && l->poll_write;
    return l->c ? PQsocket(l->c) : -1;
}

void store_lease_step(store_lease *l, int64_t leading, uint64_t seen, int beat,
                      store_lease_news *out)
{
    memset(out, 0, sizeof *out);
    l->leads = leading > 0;
    if (l->leads)
        l->tail_want = 0;
    if (l->ph == DOWN) {
        start(l, out);
        return;
    }
    if (l->ph == RESOLVING) {
        resolve_done(l, out);
        return;
    }
    if (l->ph == CONNECTING) {
        PostgresPollingStatusType p;
        do {
            if (!ready(l->c, l->poll_write))
                return; /* not yet: the next step */
            p = PQconnectPoll(l->c);
            l->poll_write = p == PGRES_POLLING_WRITING;
        } while (p == PGRES_POLLING_READING || p == PGRES_POLLING_WRITING);
        if (p == PGRES_POLLING_FAILED) {
            lost(l, out);
            return;
        }
        send_setup(l, out);
        return;
    }
    if (!PQconsumeInput(l->c)) {
        lost(l, out);
        return;
    }
    PGnotify *n;
    while ((n = PQnotifies(l->c)) != NULL) {
        out->notified = 1;
        PQfreemem(n);
    }
    if (l->ph == SETUP || l->ph == BUSY) {
        if (!read_results(l, out))
            return;
        if (PQstatus(l->c) != CONNECTION_OK) {
            lost(l, out);
            return;
        }
        l->ph = IDLE;
        if (l->asked != A_TRY)
            out->won = 0;
        if (out->won > 0) {
            /* won: the caller reads the tail on its data connection, after
             * the bump; a read sent now would hand it events after that,
             * into a core that has moved on (its seq set back: the next
             * commit a duplicate seq) */
            l->tail_want = 0;
            return;
        }
        if (l->asked == A_TAIL) {
            out->tail_done = 1;
            out->tail_failed = l->tail_err != 0;
            out->tail_more = !l->tail_err && l->tail_rows >= TAIL_ROWS;
            out->log_last = l->tail_last;
        }
        if (!l->tail_want || l->asked == A_TAIL)
            return; /* the next statement at the next step */
    }
    if (l->tail_want && leading <= 0)
        send_tail(l, out);
    else if (beat)
        send_next(l, leading, seen, out);
}
