/*
 * `textdesk sms-info`: one message per stdin line in, `ENCODING SEGMENTS
 * UNITS` per message out (RULES.md, docs/internals/sms.md).
 *
 * Input: the '\n' that ends a line is not part of the message; everything
 * else is, including a '\r' before it (CR is a GSM character) and a raw form
 * feed. `\n` stands for a newline and `\\` for a backslash; a backslash
 * followed by anything else, or at the end of the line, is kept as it is.
 * A last line without '\n' is still a message.
 *
 * A line that is not valid UTF-8 prints `error` on stdout, so output lines
 * stay aligned with input lines, and `textdesk sms-info: line N: invalid
 * UTF-8 at byte B` on stderr (N and B count from 1, B in the raw line); the
 * command goes on and exits 1 at the end. Otherwise it exits 0; 2 for bad
 * arguments or a read/write error.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/cli.h"
#include "sms/sms_text.h"
#include "util/utf8.h"

/* Rewrites the escapes of 'line' in place and returns the new length. */
static size_t unescape(char *line, size_t n)
{
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        if (line[i] == '\\' && i + 1 < n && (line[i + 1] == 'n' || line[i + 1] == '\\')) {
            line[o++] = line[i + 1] == 'n' ? '\n' : '\\';
            i++;
        } else {
            line[o++] = line[i];
        }
    }
    return o;
}

/* Returns the offset of the first byte of 'line' that is not valid UTF-8,
 * or 'n' when there is none. */
static size_t first_bad_byte(const char *line, size_t n)
{
    const unsigned char *p = (const unsigned char *)line;
    size_t i = 0;
    while (i < n) {
        uint32_t cp;
        size_t k = utf8_decode(p + i, n - i, &cp);
        if (k == 0)
            return i;
        i += k;
    }
    return n;
}

static const char *encoding_name(enum sms_encoding e)
{
    return e == SMS_GSM7 ? "gsm7" : "ucs2";
}

int cli_sms_info_main(int argc, char **argv)
{
    if (argc > 1) {
        FILE *f = cli_help_asked(argc, argv) ? stdout : stderr;
        if (f == stderr)
            fprintf(f, "textdesk sms-info: unknown argument '%s' (it reads messages on stdin "
                       "and takes no argument; --help tells more)\n",
                    argv[1]);
        fprintf(f, "usage: textdesk sms-info < messages\n"
                   "  one message per line (\\n = newline, \\\\ = backslash);\n"
                   "  prints ENCODING SEGMENTS UNITS per line, `error` for "
                   "invalid UTF-8\n");
        return f == stdout ? 0 : 2;
    }

    char *line = NULL;
    size_t room = 0;
    ssize_t got;
    unsigned long lineno = 0;
    int bad = 0;

    while ((got = getline(&line, &room, stdin)) != -1) {
        size_t n = (size_t)got;
        lineno++;
        if (n > 0 && line[n - 1] == '\n')
            n--;
        size_t badat = first_bad_byte(line, n);
        if (badat < n) {
            fprintf(stderr, "textdesk sms-info: line %lu: invalid UTF-8 at byte %zu\n",
                    lineno, badat + 1);
            puts("error");
            bad = 1;
            continue;
        }
        n = unescape(line, n);
        sms_info info;
        if (sms_text_analyse(line, n, &info) != 0) { /* cannot happen: checked */
            puts("error");
            bad = 1;
            continue;
        }
        printf("%s %zu %zu\n", encoding_name(info.encoding), info.segments, info.units);
    }
    int read_err = ferror(stdin);
    free(line);
    if (read_err) {
        fprintf(stderr, "textdesk sms-info: reading stdin: %s\n", strerror(errno));
        return 2;
    }
    if (fflush(stdout) != 0 || ferror(stdout)) {
        fprintf(stderr, "textdesk sms-info: writing stdout failed\n");
        return 2;
    }
    return bad ? 1 : 0;
}
