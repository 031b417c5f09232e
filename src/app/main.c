/*
 * textdesk: entry point. Dispatches to a subcommand (app/cli.h).
 */
#include <stdio.h>
#include <string.h>

#include "app/cli.h"

static const struct {
    const char *name;
    int (*main)(int, char **);
    const char *help;
} commands[] = {
    {"serve", cli_serve_main, "run the server (demo configuration without --config)"},
    {"admin", cli_admin_main, "administer a running server (list, put, delete, export, ...)"},
    {"backup", cli_backup_main, "write a consistent copy of the store (online)"},
    {"selfcheck", cli_selfcheck_main, "drive the core through a demo day and report"},
    {"mask", cli_mask_main, "mask sensitive data in stdin, line by line"},
    {"sms-info", cli_sms_info_main, "print ENCODING SEGMENTS UNITS per stdin line"},
};

static void usage(FILE *f)
{
    fprintf(f, "usage: textdesk COMMAND [ARGS]\n\ncommands:\n");
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].help);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0) {
        usage(stdout);
        return 0;
    }
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (strcmp(argv[1], commands[i].name) == 0)
            return commands[i].main(argc - 1, argv + 1);
    fprintf(stderr, "textdesk: unknown command '%s'\n", argv[1]);
    usage(stderr);
    return 2;
}
