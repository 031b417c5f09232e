/*
 * `textdesk admin [--url URL] [--user NAME] COMMAND ...`: the administrator's
 * REST API (docs/api.md) from a shell, talking to a running server. The
 * password comes from $TEXTDESK_ADMIN_PASSWORD (never from the command
 * line, where other users could read it). Answers go to stdout as the
 * server sent them; an error answer goes to stderr and exits 1.
 *
 *   list KIND | get KIND ID | put KIND ID JSON|@FILE | delete KIND ID
 *   export | import FILE | settings [JSON] | report FROM_MS TO_MS
 *   report figures|states [--csv] [--from D] [--to D] [--step S] [--tz Z]
 *          [--dim D] [--id N] [--agent N] | report settings [JSON]
 *
 * A plain blocking HTTP/1.1 client (IPv4 literal, Connection: close): one
 * short exchange per call, so no library is worth pulling in for it.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <jansson.h>
#include <unistd.h>

#include "app/app.h"
#include "app/cli.h"
#include "util/buf.h"

typedef struct target {
    char host[64];
    int port;
    char cookie[160];
    const char *bearer; /* $TEXTDESK_TOKEN, or NULL */
} target;

/* One request; fills 'body' with the answer's body, returns the status or
 * -1 (with a message on stderr) when the server cannot be reached. */
static int exchange(target *t, const char *method, const char *path, const char *ctype,
                    const char *payload, size_t n, buf *body)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)t->port)};
    if (fd < 0 || inet_pton(AF_INET, t->host, &a.sin_addr) != 1 ||
        connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
        fprintf(stderr,
                "textdesk admin: cannot reach %s:%d: %s: is textdesk serve running there?"
                " (--url names the server)\n",
                t->host, t->port, strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    buf req;
    buf_init(&req);
    buf_printf(&req,
               "%s %s HTTP/1.1\r\nHost: %s:%d\r\nConnection: close\r\nContent-Length: %zu\r\n",
               method, path, t->host, t->port, n);
    if (ctype)
        buf_printf(&req, "Content-Type: %s\r\n", ctype);
    if (t->cookie[0])
        buf_printf(&req, "Cookie: %s\r\n", t->cookie);
    if (t->bearer)
        buf_printf(&req, "Authorization: Bearer %s\r\n", t->bearer);
    buf_add(&req, "\r\n", 2);
    if (n)
        buf_add(&req, payload, n);
    for (size_t off = 0; off < req.n;) {
        ssize_t w = write(fd, req.p + off, req.n - off);
        if (w <= 0) {
            fprintf(stderr, "textdesk admin: write: %s\n", strerror(errno));
            buf_free(&req);
            close(fd);
            return -1;
        }
        off += (size_t)w;
    }
    buf_free(&req);
    buf in;
    buf_init(&in);
    char chunk[8192];
    ssize_t r;
    while ((r = read(fd, chunk, sizeof chunk)) > 0)
        buf_add(&in, chunk, (size_t)r);
    close(fd);
    const char *end = in.p ? strstr(in.p, "\r\n\r\n") : NULL;
    int status = 0;
    if (in.p && sscanf(in.p, "HTTP/1.%*d %d", &status) != 1)
        status = 0;
    if (!end || status <= 0) {
        fprintf(stderr, "textdesk admin: no HTTP answer from %s:%d\n", t->host, t->port);
        buf_free(&in);
        return -1;
    }
    const char *c = strcasestr(in.p, "\r\nset-cookie: ");
    if (c && c < end)
        sscanf(c + 14, "%159[^;\r]", t->cookie);
    buf_add(body, end + 4, in.n - (size_t)(end + 4 - in.p));
    buf_free(&in);
    return status;
}

/* A refused answer as one line on stderr: the server's message (it says
 * what to do) and then its status and code, never the raw JSON; 'hint' (or
 * NULL) is what to check on this side first. A body that is not the API's
 * error JSON is shown as it came, cut to one line. */
static void refused(int status, const buf *answer, const char *hint)
{
    json_t *j = answer->n ? json_loadb(answer->p, answer->n, 0, NULL) : NULL;
    const char *msg = json_string_value(json_object_get(j, "message"));
    const char *code = json_string_value(json_object_get(j, "error"));
    if (msg)
        fprintf(stderr, "textdesk admin: %s%s%s (HTTP %d, %s)\n", hint ? hint : "",
                hint ? ": " : "", msg, status, code ? code : "?");
    else
        fprintf(stderr, "textdesk admin: %s%sHTTP %d: %.*s\n", hint ? hint : "", hint ? ": " : "",
                status, (int)strcspn(answer->p ? answer->p : "", "\r\n"),
                answer->p ? answer->p : "");
    json_decref(j);
}

static const char admin_options[] = "[--url http://IP:PORT] [--user NAME]";

static const struct {
    const char *name, *args, *what;
} admin_cmds[] = {
    {"list", "KIND", "prints every object of KIND as JSON"},
    {"get", "KIND ID", "prints one object as JSON"},
    {"put", "KIND ID JSON|@FILE", "creates or replaces one object (JSON text, or a file)"},
    {"delete", "KIND ID", "deletes one object"},
    {"export", "", "prints the whole configuration as JSON"},
    {"import", "FILE", "replaces the configuration with the one in FILE (JSON)"},
    {"settings", "[JSON]", "prints the settings, or changes those in JSON"},
    {"report", "FROM_MS TO_MS", "prints the conversations of a period as CSV"},
    {"report", "figures|states ...", "interval figures, agent states, settings (report --help)"},
    {"tokens", "list|create|revoke", "API tokens (tokens --help)"},
    {"audit", "[OPTIONS]", "the audit trail, JSON or CSV (audit --help)"},
};

static const char kind_note[] =
    "KIND: teams queues entry_points wrapup_reasons idle_reasons skills agents\n"
    "      canned_responses\n";

static const char admin_notes[] =
    "  --url   the server (default http://127.0.0.1:8080)\n"
    "  --user  the administrator (default admin)\n"
    "The password is read from $TEXTDESK_ADMIN_PASSWORD, or an admin API token\n"
    "from $TEXTDESK_TOKEN (docs/security.md).\n";

static const char report_usage[] =
    "usage: textdesk admin [--url http://IP:PORT] [--user NAME] report COMMAND\n"
    "  figures [OPTIONS]   figures per interval and queue, entry point, agent, team\n"
    "  states [OPTIONS]    every agent state with its idle reason and duration\n"
    "  settings [JSON]     time zone and service-level thresholds (JSON: set them)\n"
    "  FROM_MS TO_MS       one CSV row per conversation opened in the range\n"
    "OPTIONS:\n"
    "  --from D, --to D    YYYY-MM-DD (local midnight) or ms since 1970;\n"
    "                      default: today\n"
    "  --step S            15min, hour (default), day or all\n"
    "  --tz ZONE           IANA time zone (default: the report settings')\n"
    "  --dim D --id N      only queue, entry_point, agent or team N (figures)\n"
    "  --agent N           only agent N (states)\n"
    "  --csv               CSV (the same columns) instead of JSON\n"
    "Figures are defined in docs/reports.md.\n";

/* The usage of every command (cmd NULL) or of one, on 'f'. */
static void print_usage(FILE *f, const char *cmd)
{
    size_t n = sizeof admin_cmds / sizeof admin_cmds[0];
    if (cmd && strcmp(cmd, "report") == 0) {
        fputs(report_usage, f);
        return;
    }
    /* tokens and audit: their own usage, then who may call */
    if (cmd && (strcmp(cmd, "tokens") == 0 || strcmp(cmd, "audit") == 0)) {
        fputs(strcmp(cmd, "tokens") == 0 ? cli_tokens_usage : cli_audit_usage, f);
        fputs(admin_notes, f);
        return;
    }
    for (size_t i = 0; i < n; i++)
        if (cmd && strcmp(cmd, admin_cmds[i].name) == 0) {
            /* KIND only for the commands that take one */
            int kind = strstr(admin_cmds[i].args, "KIND") != NULL;
            fprintf(f, "usage: textdesk admin %s %s%s%s\n  %s\n%s%s", admin_options,
                    admin_cmds[i].name, *admin_cmds[i].args ? " " : "", admin_cmds[i].args,
                    admin_cmds[i].what, kind ? kind_note : "", admin_notes);
            return;
        }
    fprintf(f, "usage: textdesk admin %s COMMAND\n\nAdministers a running server through "
               "its REST API (docs/api.md).\n\ncommands:\n", admin_options);
    for (size_t i = 0; i < n; i++)
        fprintf(f, "  %-8s %-19s %s\n", admin_cmds[i].name, admin_cmds[i].args,
                admin_cmds[i].what);
    fputs(kind_note, f);
    fputs(admin_notes, f);
}

static int usage(void)
{
    print_usage(stderr, NULL);
    return 2;
}

static int known_cmd(const char *cmd)
{
    for (size_t i = 0; i < sizeof admin_cmds / sizeof admin_cmds[0]; i++)
        if (strcmp(cmd, admin_cmds[i].name) == 0)
            return 1;
    return 0;
}

/* "unknown option '--x'", "unknown command 'x'": the word, then the usage. */
static int usage_error(const char *what, const char *word)
{
    fprintf(stderr, "textdesk admin: %s '%s' (textdesk admin --help lists them)\n", what, word);
    return usage();
}

/* list, get, put and delete name a KIND (and an ID): checked here, so that
 * a typo is told at once with what to write instead of a 404 from the
 * server. Returns 0, or 2 after saying what is wrong. */
static int check_kind(const char *cmd, int nargs, char **args)
{
    static const char *const kinds[] = {"teams",        "queues",       "entry_points",
                                        "wrapup_reasons", "idle_reasons", "skills",
                                        "agents",       "canned_responses"};
    int ok = 0;
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++)
        ok |= strcmp(args[0], kinds[i]) == 0;
    if (!ok) {
        fprintf(stderr,
                "textdesk admin %s: unknown KIND '%.64s': use teams, queues, entry_points,"
                " wrapup_reasons, idle_reasons, skills, agents or canned_responses\n",
                cmd, args[0]);
        return 2;
    }
    if (nargs >= 2) {
        char *end;
        unsigned long id = strtoul(args[1], &end, 10);
        if (*end || !*args[1] || args[1][0] == '-' || id == 0) {
            fprintf(stderr, "textdesk admin %s: ID '%.64s' must be a whole number above 0\n", cmd,
                    args[1]);
            return 2;
        }
    }
    return 0;
}

/* A known command with the wrong arguments: its own usage. */
static int usage_of(const char *cmd)
{
    fprintf(stderr, "textdesk admin %s: wrong arguments (textdesk admin %s --help)\n", cmd, cmd);
    print_usage(stderr, cmd);
    return 2;
}

/* The query of `report figures|states` from its options into 'path'. */
static int report_path(int nargs, char **args, char *path, size_t n)
{
    static const char *const opts[] = {"--from", "--to", "--step", "--tz",
                                       "--dim",  "--id", "--agent"};
    int csv = 0, k = snprintf(path, n, "/api/reports/%s", args[0]);
    buf q;
    buf_init(&q);
    if (cli_admin_query("report", nargs - 1, args + 1, opts, sizeof opts / sizeof opts[0], &q,
                        &csv) != 0) {
        buf_free(&q);
        return -1;
    }
    snprintf(path + k, n - (size_t)k, "%s%.*s", csv ? ".csv" : "", (int)q.n, q.p ? q.p : "");
    buf_free(&q);
    return 0;
}

/* JSON from the argument, or from a file with @FILE. */
static int payload(const char *arg, buf *out)
{
    if (arg[0] != '@') {
        buf_add(out, arg, strlen(arg));
        return 0;
    }
    FILE *f = fopen(arg + 1, "r");
    if (!f) {
        fprintf(stderr, "textdesk admin: %s: %s\n", arg + 1, strerror(errno));
        return -1;
    }
    char chunk[8192];
    size_t r;
    while ((r = fread(chunk, 1, sizeof chunk, f)) > 0)
        buf_add(out, chunk, r);
    fclose(f);
    /* a file that is not JSON is told here, by line and column, as serve
     * tells its configuration file's, not by the server's byte offset */
    char err[512];
    if (app_config_check_json(out->p ? out->p : "", out->n, arg + 1, err, sizeof err) != 0) {
        fprintf(stderr, "textdesk admin: %s\n", err);
        return -1;
    }
    return 0;
}

int cli_admin_main(int argc, char **argv)
{
    const char *url = "http://127.0.0.1:8080", *user = "admin";
    int i = 1;
    if (cli_help_asked(argc, argv)) { /* "admin --help", "admin put --help" */
        const char *cmd = NULL;
        for (int k = 1; k < argc && !cmd; k++)
            if (argv[k][0] != '-' && (k == 1 || argv[k - 1][0] != '-' ||
                                      strcmp(argv[k - 1], "--help") == 0 ||
                                      strcmp(argv[k - 1], "-h") == 0))
                cmd = argv[k];
        print_usage(stdout, cmd); /* report, tokens, audit: their own usage, once */
        return 0;
    }
    for (; i + 1 < argc && argv[i][0] == '-'; i += 2) {
        if (strcmp(argv[i], "--url") == 0)
            url = argv[i + 1];
        else if (strcmp(argv[i], "--user") == 0)
            user = argv[i + 1];
        else
            return usage_error("unknown option", argv[i]);
    }
    if (i < argc && argv[i][0] == '-') /* the last word: an option without its value */
        return usage_error(strcmp(argv[i], "--url") == 0 || strcmp(argv[i], "--user") == 0
                               ? "missing value for"
                               : "unknown option",
                           argv[i]);
    if (i >= argc) {
        fputs("textdesk admin: give a COMMAND\n", stderr);
        return usage();
    }
    target t = {.port = 0};
    if (sscanf(url, "http://%63[0-9.]:%d", t.host, &t.port) != 2 || t.port <= 0) {
        fprintf(stderr, "textdesk admin: --url must be http://IPV4:PORT\n");
        return 2;
    }
    const char *cmd = argv[i];
    int nargs = argc - i - 1;
    char **args = argv + i + 1;
    char path[512];
    const char *method = "GET";
    buf body, answer;
    buf_init(&body);
    buf_init(&answer);
    int rc = 2, k;
    if ((k = cli_admin_tokens(cmd, nargs, args, path, sizeof path, &method, &body)) != 0) {
        if (k < 0)
            goto out;
    } else if (((strcmp(cmd, "list") == 0 && nargs == 1) ||
                ((strcmp(cmd, "get") == 0 || strcmp(cmd, "delete") == 0) && nargs == 2) ||
                (strcmp(cmd, "put") == 0 && nargs == 3)) &&
               check_kind(cmd, nargs, args) != 0) {
        goto out;
    } else if (strcmp(cmd, "list") == 0 && nargs == 1) {
        snprintf(path, sizeof path, "/api/admin/%s", args[0]);
    } else if (strcmp(cmd, "get") == 0 && nargs == 2) {
        snprintf(path, sizeof path, "/api/admin/%s/%s", args[0], args[1]);
    } else if (strcmp(cmd, "delete") == 0 && nargs == 2) {
        snprintf(path, sizeof path, "/api/admin/%s/%s", args[0], args[1]);
        method = "DELETE";
    } else if (strcmp(cmd, "put") == 0 && nargs == 3) {
        snprintf(path, sizeof path, "/api/admin/%s/%s", args[0], args[1]);
        method = "PUT";
        if (payload(args[2], &body) != 0)
            goto out;
    } else if (strcmp(cmd, "export") == 0 && nargs == 0) {
        snprintf(path, sizeof path, "/api/admin/export");
    } else if (strcmp(cmd, "import") == 0 && nargs == 1) {
        snprintf(path, sizeof path, "/api/admin/import");
        method = "POST";
        char at[1024];
        snprintf(at, sizeof at, "@%s", args[0]);
        if (payload(at, &body) != 0)
            goto out;
    } else if (strcmp(cmd, "settings") == 0 && nargs <= 1) {
        snprintf(path, sizeof path, "/api/admin/settings");
        if (nargs == 1) {
            method = "PUT";
            if (payload(args[0], &body) != 0)
                goto out;
        }
    } else if (strcmp(cmd, "report") == 0 && nargs >= 1 &&
               (strcmp(args[0], "figures") == 0 || strcmp(args[0], "states") == 0)) {
        if (report_path(nargs, args, path, sizeof path) != 0)
            goto out;
    } else if (strcmp(cmd, "report") == 0 && nargs <= 2 && nargs >= 1 &&
               strcmp(args[0], "settings") == 0) {
        snprintf(path, sizeof path, "/api/reports/settings");
        if (nargs == 2) {
            method = "PUT";
            if (payload(args[1], &body) != 0)
                goto out;
        }
    } else if (strcmp(cmd, "report") == 0 && nargs == 2) {
        snprintf(path, sizeof path, "/api/admin/report/conversations.csv?from=%s&to=%s",
                 args[0], args[1]);
    } else {
        rc = known_cmd(cmd) ? usage_of(cmd) : usage_error("unknown command", cmd);
        goto out;
    }

    /* the command is sound: now the credentials (a typo is told first) */
    const char *pass = getenv("TEXTDESK_ADMIN_PASSWORD");
    t.bearer = getenv("TEXTDESK_TOKEN");
    if (t.bearer && !*t.bearer)
        t.bearer = NULL;
    if (!pass && !t.bearer) {
        fprintf(stderr, "textdesk admin: set TEXTDESK_ADMIN_PASSWORD (or TEXTDESK_TOKEN)\n");
        goto out;
    }

    /* log in (the session cookie is kept for the one call), unless a token
     * stands in for the session */
    int st;
    if (t.bearer)
        goto send;
    buf login;
    buf_init(&login);
    buf_printf(&login, "{\"username\":\"");
    for (const char *p = user; *p; p++) /* a JSON string: escape what must be */
        buf_printf(&login, (*p == '"' || *p == '\\') ? "\\%c" : "%c", *p);
    buf_printf(&login, "\",\"password\":\"");
    for (const char *p = pass; *p; p++)
        buf_printf(&login, (*p == '"' || *p == '\\') ? "\\%c" : "%c", *p);
    buf_printf(&login, "\"}");
    st = exchange(&t, "POST", "/api/login", "application/json", login.p, login.n, &answer);
    buf_free(&login);
    if (st != 200) {
        if (st > 0) {
            char hint[200];
            snprintf(hint, sizeof hint,
                     "cannot log in as '%.64s' (check --user and $TEXTDESK_ADMIN_PASSWORD)", user);
            refused(st, &answer, hint);
        }
        rc = 1;
        goto out;
    }
send:
    answer.n = 0;
    st = exchange(&t, method, path, body.n ? "application/json" : NULL, body.p, body.n, &answer);
    if (st >= 200 && st < 300) {
        if (answer.n)
            fwrite(answer.p, 1, answer.n, stdout);
        if (answer.n && answer.p[answer.n - 1] != '\n')
            putchar('\n');
        rc = 0;
    } else {
        if (st > 0)
            refused(st, &answer, NULL);
        rc = 1;
    }
out:
    buf_free(&body);
    buf_free(&answer);
    return rc;
}
