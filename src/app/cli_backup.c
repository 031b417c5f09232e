/*
 * `textdesk backup [--data DIR | --store URL] FILE`: a consistent online
 * copy of the store, safe while the server runs (docs/operations.md: backup
 * and restore). A PostgreSQL store is backed up with PostgreSQL's own tools;
 * this command says so.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "app/cli.h"
#include "store/store.h"

static const char backup_usage[] = "usage: textdesk backup [--data DIR | --store URL] FILE\n";

int cli_backup_main(int argc, char **argv)
{
    const char *data = "./data", *file = NULL, *url = NULL;
    int data_given = 0;
    if (cli_help_asked(argc, argv)) {
        printf("%s\nWrites a consistent copy of the store to FILE (a new file), safe while\n"
               "the server runs; restore by putting it back as DIR/textdesk.db with the\n"
               "server stopped (docs/operations.md).\n"
               "  --data DIR   the server's data directory (default ./data)\n"
               "  --store URL  the store (sqlite:DIR; on PostgreSQL use pg_dump or\n"
               "               pg_basebackup, docs/operations.md)\n",
               backup_usage);
        return 0;
    }
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--data") == 0 && i + 1 < argc) {
            data = argv[++i];
            data_given = 1;
        } else if (strcmp(argv[i], "--store") == 0 && i + 1 < argc) {
            url = argv[++i];
        } else if (argv[i][0] != '-' && !file) {
            file = argv[i];
        } else {
            if (argv[i][0] != '-')
                fprintf(stderr, "textdesk backup: one FILE only ('%s' is a second)\n", argv[i]);
            else if (strcmp(argv[i], "--data") == 0 || strcmp(argv[i], "--store") == 0)
                fprintf(stderr, "textdesk backup: missing value for '%s'\n", argv[i]);
            else
                fprintf(stderr, "textdesk backup: unknown option '%s'"
                                " (textdesk backup --help lists them)\n", argv[i]);
            fputs(backup_usage, stderr);
            return 2;
        }
    }
    if (!file) {
        fputs("textdesk backup: give the FILE to write the copy to (a new file)\n", stderr);
        fputs(backup_usage, stderr);
        return 2;
    }
    if (url && data_given) {
        fputs("textdesk backup: --data and --store both name the store: give one\n", stderr);
        return 2;
    }
    if (url && !store_url_ok(url)) {
        fprintf(stderr, "textdesk backup: --store '%.200s': %s\n", url, STORE_URL_HINT);
        return 2;
    }
    struct stat sb;
    if (stat(file, &sb) == 0) {
        fprintf(stderr, "textdesk backup: %s exists; refusing to overwrite it\n", file);
        return 1;
    }
    char path[4096], err[512];
    if (url && store_url_is_pg(url)) {
        snprintf(path, sizeof path, "%s", url);
    } else {
        snprintf(path, sizeof path, "%s/textdesk.db",
                 url ? (strncmp(url, "sqlite:", 7) == 0 ? url + 7 : url) : data);
        if (access(path, R_OK) != 0) {
            fprintf(stderr, "textdesk backup: no store at %s: name the server's with --data DIR"
                            " or --store URL\n", path);
            return 1;
        }
    }
    store *st = store_open(path, err, sizeof err);
    if (!st) {
        fprintf(stderr, "textdesk backup: %s\n", err);
        return 1;
    }
    int r = store_backup(st, file);
    if (r == -ENOTSUP)
        fprintf(stderr,
                "textdesk backup: %s: back this store up with PostgreSQL's own tools"
                " (pg_dump, or pg_basebackup with WAL archiving for point-in-time"
                " recovery; docs/operations.md)\n",
                store_errmsg(st));
    else if (r != 0)
        fprintf(stderr, "textdesk backup: %s\n", store_errmsg(st));
    else
        printf("textdesk backup: %s -> %s\n", store_where(st), file);
    store_close(st);
    if (r != 0 && r != -ENOTSUP)
        unlink(file);
    return r ? 1 : 0;
}
