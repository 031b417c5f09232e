/*
 * cli_mask: `textdesk mask [--spans] [--kinds LIST]`.
 *
 * Reads UTF-8 text on stdin and handles it line by line (lines end at '\n';
 * any length). Input is read in 1 MiB chunks and every chunk's whole lines
 * go through one mask_apply or mask_scan call (a newline is never part of
 * a token), so the command runs close to the scanner's own speed
 * (bench_mask: mask_command_vs_inprocess). Without --spans each line is written
 * masked (mask/mask.h); with --spans each line gives one JSON object
 *   {"spans":[{"kind":"card","start":0,"end":19}, ...]}
 * where start/end are byte offsets into the line (newline excluded), end
 * exclusive. --kinds takes a comma-separated subset of card,iban,ssn,email,
 * phone (default: all). Invalid UTF-8 is copied through unchanged. A final
 * line without '\n' is masked and written without one. Exit status: 0 ok,
 * 1 read/write error, 2 usage error (unknown option or kind).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "app/cli.h"
#include "mask/mask.h"
#include "util/xalloc.h"

static void usage(FILE *f)
{
    fprintf(f, "usage: textdesk mask [--spans] [--kinds card,iban,ssn,email,phone]\n");
}

static void help(void)
{
    usage(stdout);
    printf("\nMasks sensitive data in the text on stdin, line by line, as the desktop\n"
           "does (docs/internals/masking.md).\n"
           "  --spans        print {\"spans\":[{\"kind\",\"start\",\"end\"}]} per line instead\n"
           "                 (byte offsets into the line)\n"
           "  --kinds LIST   only these kinds, comma-separated (default: all)\n");
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

/* Bytes read at a time (256 KiB: in and out stay in the L2 cache); a
 * longer line grows the buffer. */
#define MASK_CHUNK (1u << 18)

/* Buffers reused from chunk to chunk. */
typedef struct mask_io {
    unsigned kinds;
    int spans_mode;
    char *out; /* masked text */
    size_t out_cap;
    mask_span *sp;
    size_t sp_cap;
    char *js; /* --spans output */
    size_t js_cap;
} mask_io;

/* Appends up to 80 bytes to io->js at '*w', growing it. */
static char *js_room(mask_io *io, size_t w)
{
    if (w + 80 > io->js_cap) {
        io->js_cap = (w + 80) * 2;
        io->js = xrealloc(io->js, io->js_cap);
    }
    return io->js + w;
}

/* Masks (or lists the spans of) the 'n' bytes at 'p': whole lines, the last
 * one ending in '\n' unless it is the end of the input. A newline is never
 * part of a token (mask.h), so one mask_apply / mask_scan over many lines
 * gives what one call per line would, without the per-line cost. */
static void mask_lines(mask_io *io, const char *p, size_t n, FILE *f)
{
    if (!io->spans_mode) {
        if (n > io->out_cap) {
            io->out_cap = n;
            io->out = xrealloc(io->out, n);
        }
        fwrite(io->out, 1, mask_apply(p, n, io->kinds, io->out, n), f);
        return;
    }
    size_t count = mask_scan(p, n, io->kinds, io->sp, io->sp_cap);
    if (count > io->sp_cap) {
        io->sp_cap = count;
        io->sp = xrealloc(io->sp, count * sizeof *io->sp);
        count = mask_scan(p, n, io->kinds, io->sp, io->sp_cap);
    }
    /* one JSON object per line, offsets from the line's start */
    size_t w = 0, i = 0, ls = 0;
    while (ls < n) {
        const char *e = memchr(p + ls, '\n', n - ls);
        size_t le = e ? (size_t)(e - p) : n;
        memcpy(js_room(io, w), "{\"spans\":[", 10);
        w += 10;
        for (size_t first = i; i < count && io->sp[i].start < le; i++)
            w += (size_t)snprintf(js_room(io, w), 80,
                                  "%s{\"kind\":\"%s\",\"start\":%zu,\"end\":%zu}",
                                  i > first ? "," : "", mask_kind_name(io->sp[i].kind),
                                  io->sp[i].start - ls, io->sp[i].end - ls);
        memcpy(js_room(io, w), "]}\n", 3);
        w += 3;
        ls = le + 1;
    }
    fwrite(io->js, 1, w, f);
}

/* stdin a regular file (`textdesk mask <file`): masked from a mapping of
 * it, chunk by chunk of whole lines, without copying it in first. Returns
 * 0 when done so, -1 to read stdin instead (a pipe, a terminal, an empty
 * or unmappable file). */
static int mask_mapped(mask_io *io)
{
    struct stat sb;
    off_t at = lseek(STDIN_FILENO, 0, SEEK_CUR);
    if (fstat(STDIN_FILENO, &sb) != 0 || !S_ISREG(sb.st_mode) || at < 0 || sb.st_size <= at)
        return -1;
    size_t n = (size_t)sb.st_size;
    char *m = mmap(NULL, n, PROT_READ, MAP_PRIVATE, STDIN_FILENO, 0);
    if (m == MAP_FAILED)
        return -1;
    (void)madvise(m, n, MADV_SEQUENTIAL);
    size_t p = (size_t)at;
    while (p < n) {
        size_t end = n - p > MASK_CHUNK ? p + MASK_CHUNK : n;
        if (end < n) { /* up to the chunk's last newline, or the line's end */
            const char *nl = memrchr(m + p, '\n', end - p);
            if (nl == NULL)
                nl = memchr(m + end, '\n', n - end);
            end = nl ? (size_t)(nl - m) + 1 : n;
        }
        mask_lines(io, m + p, end - p, stdout);
        if (fflush(stdout) != 0)
            break;
        p = end;
    }
    (void)lseek(STDIN_FILENO, (off_t)n, SEEK_SET); /* as if read */
    munmap(m, n);
    return 0;
}

int cli_mask_main(int argc, char **argv)
{
    int spans_mode = 0;
    unsigned kinds = MASK_ALL;
    if (cli_help_asked(argc, argv)) {
        help();
        return 0;
    }
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
        } else {
            fprintf(stderr, "textdesk mask: unknown argument '%s'\n", a);
            usage(stderr);
            return 2;
        }
    }

    int rc = 0;
    mask_io io = {kinds, spans_mode, NULL, 0, NULL, 0, NULL, 0};
    /* when stdout is a pipe, let one chunk's output fit in it (Linux; a
     * failure only costs speed) */
    (void)fcntl(STDOUT_FILENO, F_SETPIPE_SZ, (int)MASK_CHUNK);
    if (mask_mapped(&io) == 0)
        goto done;
    char *in = xmalloc(MASK_CHUNK);
    size_t cap = MASK_CHUNK, have = 0;
    for (;;) {
        if (have == cap) { /* one line longer than the buffer: grow */
            cap *= 2;
            in = xrealloc(in, cap);
        }
        /* read(2), not fread: hand on what has come so far (a pipe that
         * trickles gets its lines back as they come) */
        ssize_t got = read(STDIN_FILENO, in + have, cap - have);
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0) {
            perror("textdesk mask: stdin");
            rc = 1;
            break;
        }
        have += (size_t)got;
        if (got == 0) {
            if (have > 0)
                mask_lines(&io, in, have, stdout); /* a last line without '\n' */
            break;
        }
        const char *nl = memrchr(in, '\n', have);
        if (nl == NULL)
            continue;
        size_t whole = (size_t)(nl - in) + 1;
        mask_lines(&io, in, whole, stdout);
        if (fflush(stdout) != 0)
            break;
        memmove(in, in + whole, have - whole);
        have -= whole;
    }
    free(in);
done:
    if (fflush(stdout) != 0 || ferror(stdout)) {
        perror("textdesk mask: stdout");
        rc = 1;
    }
    free(io.out);
    free(io.sp);
    free(io.js);
    return rc;
}
