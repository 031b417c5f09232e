/*
 * cli: the textdesk subcommands. Each takes the arguments after its own name
 * (argv[0] is the subcommand) and returns the process exit code. main.c only
 * dispatches; every subcommand lives in its own cli_*.c file.
 */
#ifndef TEXTDESK_APP_CLI_H
#define TEXTDESK_APP_CLI_H

#include <stdio.h>
#include <string.h>

/* Returns 1 when an argument after argv[0] is "--help" or "-h". Every
 * command then prints its usage on stdout and exits 0 before it needs a
 * password, a server, a store or its input (tests/cli/help.sh). */
static inline int cli_help_asked(int argc, char **argv)
{
    for (int i = 1; i < argc; i++)
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
            return 1;
    return 0;
}

/* `textdesk selfcheck`: drives the core through a scripted demo day and
 * prints what happened; exit 0 when every step behaved. */
int cli_selfcheck_main(int argc, char **argv);

/* `textdesk serve [...]`: the server (see cli_serve.c). */
int cli_serve_main(int argc, char **argv);

/* `textdesk admin ...`: the admin REST API from a shell (cli_admin.c). */
int cli_admin_main(int argc, char **argv);

struct buf;
/* `textdesk admin tokens|audit ...` (cli_token.c): fills the request's
 * path, method and body; 1, 0 when 'cmd' is another command, -1 after a
 * usage error on stderr. */
int cli_admin_tokens(const char *cmd, int nargs, char **args, char *path, size_t n,
                     const char **method, struct buf *body);
/* Turns `--csv` and `--OPT VALUE` pairs of 'args' (each OPT among the
 * 'nopts' in 'opts') into a percent-encoded query in 'q' ("?opt=v&...",
 * without the dashes) and '*csv'. Returns 0, or -1 after telling the user
 * on stderr that `textdesk admin WHAT` has no such option (cli_token.c). */
int cli_admin_query(const char *what, int nargs, char **args, const char *const *opts,
                    size_t nopts, struct buf *q, int *csv);
extern const char cli_tokens_usage[];
extern const char cli_audit_usage[];

/* `textdesk backup [--data DIR] FILE`: online backup of the store. */
int cli_backup_main(int argc, char **argv);

/* `textdesk mask [--spans] [--kinds LIST]`: masks stdin line by line. */
int cli_mask_main(int argc, char **argv);

/* `textdesk sms-info`: prints `ENCODING SEGMENTS UNITS` per input line. */
int cli_sms_info_main(int argc, char **argv);

#endif
