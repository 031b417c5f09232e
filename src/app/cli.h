/*
 * cli: the textdesk subcommands. Each takes the arguments after its own name
 * (argv[0] is the subcommand) and returns the process exit code. main.c only
 * dispatches; every subcommand lives in its own cli_*.c file.
 */
#ifndef TEXTDESK_APP_CLI_H
#define TEXTDESK_APP_CLI_H

#include <stdio.h>

/* `textdesk selfcheck`: drives the core through a scripted demo day and
 * prints what happened; exit 0 when every step behaved. */
int cli_selfcheck_main(int argc, char **argv);

/* `textdesk serve [...]`: the server (see cli_serve.c). */
int cli_serve_main(int argc, char **argv);

/* `textdesk admin ...`: the admin REST API from a shell (cli_admin.c). */
int cli_admin_main(int argc, char **argv);

/* `textdesk backup [--data DIR] FILE`: online backup of the store. */
int cli_backup_main(int argc, char **argv);

/* `textdesk mask [--spans] [--kinds LIST]`: masks stdin line by line. */
int cli_mask_main(int argc, char **argv);

/* `textdesk sms-info`: prints `ENCODING SEGMENTS UNITS` per input line. */
int cli_sms_info_main(int argc, char **argv);

#endif
