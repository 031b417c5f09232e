/*
 * cli_mask: `textdesk mask [--spans] [--kinds LIST]`.
 *
 * Reads UTF-8 text on stdin and handles it line by line (lines end at '\n';
 * any length, read with getline). Without --spans each line is written
 * masked (mask/mask.h); with --spans each line gives one JSON object
 *   {"spans":[{"kind":"card","start":0,"end":19}, ...]}
 * where start/end are byte offsets into the line (newline excluded), end
 * exclusive. --kinds takes a comma-separated subset of card,iban,ssn,email,
 * phone (default: all). Invalid UTF-8 is copied through unchanged. A final
 * line without '\n' is masked and written without one. Exit status: 0 ok,
 * 1 read/write error, 2 usage error (unknown option or kind).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/cli.h"
#include "mask/mask.h"
#include "util/xalloc.h"

static void usage(FILE *f)
{
    fprintf(f, "usage: textdesk mask [--spans] [--kinds card,iban,ssn,email,phone]\n");
}

/* Parses a comma-separated kind list into '*kinds'. Returns 0, or -1 after
 * reporting the bad name on stderr. */
static int parse_kinds(const char *list, unsigned *kinds)
{
    unsigned k = 0;
    const char *p = list;
    for (;;) {
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);
        unsigned bit = mask_kind_from_name(p, len);
        if (bit == 0) {
            fprintf(stderr, "textdesk mask: unknown kind '%.*s' (kinds: card, iban, "
                            "ssn, email, phone)\n",
                    (int)len, p);
            return -1;
        }
        k |= bit;
        if (!comma)
            break;
        p = comma + 1;
    }
    *kinds = k;
    return 0;
}

static void print_spans(FILE *out, const mask_span *sp, size_t count)
{
    fputs("{\"spans\":[", out);
    for (size_t i = 0; i < count; i++)
        fprintf(out, "%s{\"kind\":\"%s\",\"start\":%zu,\"end\":%zu}", i ? "," : "",
                mask_kind_name(sp[i].kind), sp[i].start, sp[i].end);
    fputs("]}\n", out);
}

int cli_mask_main(int argc, char **argv)
{
    int spans_mode = 0;
    unsigned kinds = MASK_ALL;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--spans") == 0) {
            spans_mode = 1;
        } else if (strcmp(a, "--kinds") == 0 || strncmp(a, "--kinds=", 8) == 0) {
            const char *list = a[7] == '=' ? a + 8 : (i + 1 < argc ? argv[++i] : NULL);
            if (list == NULL) {
                fprintf(stderr, "textdesk mask: --kinds needs a list\n");
                usage(stderr);
                return 2;
            }
            if (parse_kinds(list, &kinds) != 0)
                return 2;
        } else if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            usage(stdout);
            return 0;
        } else {
            fprintf(stderr, "textdesk mask: unknown argument '%s'\n", a);
            usage(stderr);
            return 2;
        }
    }

    char *line = NULL, *buf = NULL;
    size_t line_cap = 0, buf_cap = 0;
    mask_span *sp = NULL;
    size_t sp_cap = 0;
    ssize_t got;
    int rc = 0;
    while ((got = getline(&line, &line_cap, stdin)) != -1) {
        size_t len = (size_t)got;
        int nl = len > 0 && line[len - 1] == '\n';
        if (nl)
            len--;
        if (spans_mode) {
            size_t count = mask_scan(line, len, kinds, sp, sp_cap);
            if (count > sp_cap) {
                sp_cap = count;
                sp = xrealloc(sp, sp_cap * sizeof *sp);
                count = mask_scan(line, len, kinds, sp, sp_cap);
            }
            print_spans(stdout, sp, count);
        } else {
            if (len + 1 > buf_cap) {
                buf_cap = len + 1;
                buf = xrealloc(buf, buf_cap);
            }
            size_t m = mask_apply(line, len, kinds, buf, buf_cap);
            if (nl)
                buf[m++] = '\n';
            fwrite(buf, 1, m, stdout);
        }
    }
    if (ferror(stdin)) {
        perror("textdesk mask: stdin");
        rc = 1;
    }
    if (fflush(stdout) != 0 || ferror(stdout)) {
        perror("textdesk mask: stdout");
        rc = 1;
    }
    free(line);
    free(buf);
    free(sp);
    return rc;
}
