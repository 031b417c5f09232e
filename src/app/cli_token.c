/*
 * `textdesk admin tokens ...` and `textdesk admin audit ...`: the request
 * each turns into (docs/security.md); cli_admin.c sends it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/cli.h"
#include "util/buf.h"

const char cli_tokens_usage[] =
    "usage: textdesk admin [--url http://IP:PORT] [--user NAME] tokens COMMAND\n"
    "  list                               every API token (never its secret)\n"
    "  create NAME ROLE [--agent N] [--days D | --expires MS]\n"
    "                                     a new token: ROLE agent (acting as agent N),\n"
    "                                     supervisor or admin; printed once, keep it\n"
    "  revoke ID                          the token stops working at once\n";

const char cli_audit_usage[] =
    "usage: textdesk admin [--url http://IP:PORT] [--user NAME] audit [--from MS] [--to MS]\n"
    "         [--actor NAME] [--action TEXT] [--before ID] [--limit N] [--csv]\n"
    "  the audit trail, newest first: logins, administrative changes, supervisor\n"
    "  actions and writes made with tokens; --action matches the start\n";

/* A JSON string of 's' into 'b'. */
static void jstr(buf *b, const char *s)
{
    buf_add(b, "\"", 1);
    for (const char *p = s; *p; p++) {
        if (*p == '"' || *p == '\\')
            buf_printf(b, "\\%c", *p);
        else if ((unsigned char)*p < 0x20)
            buf_printf(b, "\\u%04x", *p);
        else
            buf_add(b, p, 1);
    }
    buf_add(b, "\"", 1);
}

static int whole(const char *s)
{
    if (!*s)
        return 0;
    for (; *s; s++)
        if (*s < '0' || *s > '9')
            return 0;
    return 1;
}

int cli_admin_query(const char *what, int nargs, char **args, const char *const *opts,
                    size_t nopts, buf *q, int *csv)
{
    for (int i = 0; i < nargs; i++) {
        if (strcmp(args[i], "--csv") == 0) {
            *csv = 1;
            continue;
        }
        size_t o = 0;
        while (o < nopts && strcmp(args[i], opts[o]) != 0)
            o++;
        if (o == nopts || i + 1 >= nargs) {
            fprintf(stderr, "textdesk admin %s: %s: unknown option or missing value "
                            "(see textdesk admin %s --help)\n", what, args[i], what);
            return -1;
        }
        buf_printf(q, "%c%s=", q->n ? '&' : '?', opts[o] + 2);
        for (const char *p = args[++i]; *p; p++) /* percent-encode all but unreserved */
            buf_printf(q, (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
                                  (*p >= '0' && *p <= '9') || strchr("-_.~", *p)
                              ? "%c"
                              : "%%%02X",
                       (unsigned char)*p);
    }
    return 0;
}

int cli_admin_tokens(const char *cmd, int nargs, char **args, char *path, size_t n,
                     const char **method, buf *body)
{
    if (strcmp(cmd, "audit") == 0) {
        static const char *const opts[] = {"--from", "--to", "--actor", "--action", "--before",
                                           "--limit"};
        int csv = 0;
        buf q;
        buf_init(&q);
        if (cli_admin_query("audit", nargs, args, opts, sizeof opts / sizeof opts[0], &q,
                            &csv) != 0) {
            buf_free(&q);
            return -1;
        }
        snprintf(path, n, "/api/admin/audit%s%.*s", csv ? ".csv" : "", (int)q.n,
                 q.p ? q.p : "");
        buf_free(&q);
        return 1;
    }
    if (strcmp(cmd, "tokens") != 0)
        return 0;
    if (nargs == 1 && strcmp(args[0], "list") == 0) {
        snprintf(path, n, "/api/admin/tokens");
        return 1;
    }
    if (nargs == 2 && strcmp(args[0], "revoke") == 0 && whole(args[1])) {
        snprintf(path, n, "/api/admin/tokens/%s", args[1]);
        *method = "DELETE";
        return 1;
    }
    if (nargs >= 3 && strcmp(args[0], "create") == 0) {
        buf_printf(body, "{\"name\":");
        jstr(body, args[1]);
        buf_printf(body, ",\"role\":");
        jstr(body, args[2]);
        for (int i = 3; i < nargs; i += 2) {
            const char *key = strcmp(args[i], "--agent") == 0     ? "agent"
                              : strcmp(args[i], "--days") == 0    ? "expires_in_days"
                              : strcmp(args[i], "--expires") == 0 ? "expires_at"
                                                                  : NULL;
            if (!key || i + 1 >= nargs || !whole(args[i + 1])) {
                fprintf(stderr, "textdesk admin tokens create: %s: unknown option or not a "
                                "whole number (see textdesk admin tokens --help)\n", args[i]);
                return -1;
            }
            buf_printf(body, ",\"%s\":%s", key, args[i + 1]);
        }
        buf_printf(body, "}");
        snprintf(path, n, "/api/admin/tokens");
        *method = "POST";
        return 1;
    }
    fputs("textdesk admin tokens: wrong arguments: list, create NAME ROLE [OPTIONS] or revoke"
          " ID (a number)\n",
          stderr);
    fputs(cli_tokens_usage, stderr);
    return -1;
}
