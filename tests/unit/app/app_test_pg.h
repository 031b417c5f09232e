/*
 * app_test_pg.h: the app tests' PostgreSQL (test_app_commit.c,
 * test_app_outbox.c): the CTest fixture's server (pg_start, named by
 * TEXTDESK_TEST_PG_DIR), a fresh database on it per test, and the few
 * statements the tests send it themselves. Include after cmocka.h.
 */
#ifndef TEXTDESK_TEST_APP_PG_H
#define TEXTDESK_TEST_APP_PG_H

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <libpq-fe.h>

static void pg_exec(PGconn *c, const char *sql)
{
    PGresult *r = PQexec(c, sql);
    if (PQresultStatus(r) != PGRES_COMMAND_OK && PQresultStatus(r) != PGRES_TUPLES_OK)
        fail_msg("%s: %s", sql, PQerrorMessage(c));
    PQclear(r);
}

static int64_t pg_int(PGconn *c, const char *sql)
{
    PGresult *r = PQexec(c, sql);
    if (PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) != 1)
        fail_msg("%s: %s", sql, PQerrorMessage(c));
    int64_t v = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
    PQclear(r);
    return v;
}

static PGconn *pg_connect_url(const char *url)
{
    PGconn *c = PQconnectdb(url);
    if (PQstatus(c) != CONNECTION_OK)
        fail_msg("connect %s: %s", url, PQerrorMessage(c));
    return c;
}

/* A new database on the fixture's server: its URL into 'url'. The URL
 * without a database into 'base' (when not NULL). -1 without a server
 * (run by ctest, with the pg fixture): the test skips. */
static int pg_fixture_db(const char *prefix, char *base, size_t nbase, char *url,
                         size_t n)
{
    const char *dir = getenv("TEXTDESK_TEST_PG_DIR");
    char path[256], line[256] = "";
    snprintf(path, sizeof path, "%s/url", dir ? dir : "");
    FILE *f = dir ? fopen(path, "r") : NULL;
    if (!f || !fgets(line, sizeof line, f)) {
        if (f)
            fclose(f);
        return -1;
    }
    fclose(f);
    line[strcspn(line, "\n")] = '\0';
    char *slash = strrchr(line, '/');
    assert_non_null(slash);
    slash[1] = '\0';
    if (base)
        snprintf(base, nbase, "%s", line);
    static unsigned seq;
    char db[64], sql[96];
    snprintf(db, sizeof db, "td_%s_%d_%u", prefix, (int)getpid(), ++seq);
    snprintf(url, n, "%spostgres", line);
    PGconn *c = pg_connect_url(url);
    snprintf(sql, sizeof sql, "CREATE DATABASE %s", db);
    pg_exec(c, sql);
    PQfinish(c);
    snprintf(url, n, "%s%s", line, db);
    return 0;
}

/* The server's pid of the backend at the other end of socket 'fd'. */
static int64_t pg_backend_of(PGconn *c, int fd)
{
    struct sockaddr_in sa;
    socklen_t len = sizeof sa;
    assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
    char sql[160];
    snprintf(sql, sizeof sql, "SELECT pid FROM pg_stat_activity WHERE client_port = %d",
             ntohs(sa.sin_port));
    return pg_int(c, sql);
}

#endif
