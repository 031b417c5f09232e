/*
 * textdesk: entry point. Dispatches to a subcommand (app/cli.h).
 *
 * This file builds two programs (CMakeLists.txt):
 *   textdesk       the command users run. The pure commands (mask,
 *                  sms-info) run in it; it links nothing but libc.
 *   textdesk-full  the whole program (TEXTDESK_FULL): the server, the admin
 *                  client, backup, selfcheck. textdesk executes it in its
 *                  own place for those commands: same process, same
 *                  arguments, so a PID file, systemd and a test that stops
 *                  the server by PID see no difference.
 * Why two: the dynamic loader binds libwebsockets, OpenSSL, libsodium and
 * libev (Debian links them BIND_NOW) at every start, ~7 ms, twice the
 * pure command's own start-up and a third of masking a 24 MB file
 * (bench_mask: mask_command_startup against true_startup).
 * textdesk finds textdesk-full beside itself (a build folder), then in
 * TEXTDESK_LIBEXEC_REL relative to itself (an installed tree, relocatable:
 * bin/../libexec/textdesk).
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "app/cli.h"

#ifdef TEXTDESK_FULL
#define FULL(name, fn, help) {name, fn, help},
#else
#define FULL(name, fn, help) {name, NULL, help},
#endif
#define PURE(name, fn, help) {name, fn, help},

static const struct {
    const char *name;
    int (*main)(int, char **); /* NULL: textdesk-full runs it */
    const char *help;
} commands[] = {
    FULL("serve", cli_serve_main, "run the server (demo configuration without --config)")
    FULL("admin", cli_admin_main, "administer a running server (list, put, delete, export, ...)")
    FULL("backup", cli_backup_main, "write a consistent copy of the store (online)")
    FULL("selfcheck", cli_selfcheck_main, "drive the core through a demo day and report")
    PURE("mask", cli_mask_main, "mask sensitive data in stdin, line by line")
    PURE("sms-info", cli_sms_info_main, "print ENCODING SEGMENTS UNITS per stdin line")
};

static void usage(FILE *f)
{
    fprintf(f, "usage: textdesk COMMAND [ARGS]\n"
               "       textdesk COMMAND --help   (what one command does)\n\ncommands:\n");
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].help);
}

#ifndef TEXTDESK_FULL
/* Executes textdesk-full with 'argv' in this process's place. Returns only
 * when it cannot, after telling the user. */
static int run_full(char **argv)
{
    char self[PATH_MAX], path[PATH_MAX + 64];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n <= 0) {
        fprintf(stderr, "textdesk: cannot find its own program (/proc/self/exe): %s\n",
                strerror(errno));
        return 127;
    }
    self[n] = '\0';
    char *slash = strrchr(self, '/'); /* the kernel gives an absolute path */
    if (slash != NULL)
        *slash = '\0';
    int err = ENOENT;
    char tried[PATH_MAX + 64];
    static const char *const where[] = {"", "/" TEXTDESK_LIBEXEC_REL};
    for (size_t i = 0; i < sizeof where / sizeof where[0]; i++) {
        snprintf(path, sizeof path, "%s%s/textdesk-full", self, where[i]);
        execv(path, argv);
        if (errno != ENOENT || err == ENOENT) { /* a real failure, else the last place */
            err = errno;
            memcpy(tried, path, sizeof tried);
        }
    }
    fprintf(stderr,
            "textdesk: cannot start %s: %s\n"
            "textdesk-full comes with textdesk: install both (make install), or run "
            "textdesk from its build folder.\n",
            tried, strerror(err));
    return 127;
}
#endif

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
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++) {
        if (strcmp(argv[1], commands[i].name) != 0)
            continue;
#ifndef TEXTDESK_FULL
        if (commands[i].main == NULL)
            return run_full(argv);
#endif
        return commands[i].main(argc - 1, argv + 1);
    }
    fprintf(stderr, "textdesk: unknown command '%s'\n", argv[1]);
    usage(stderr);
    return 2;
}
