/*
 * bench_mask: throughput of mask_apply on one core, against a PCRE2-JIT
 * baseline doing the same job the usual way (one alternation of candidate
 * patterns, each match validated with the very same checks as src/mask:
 * Luhn + IIN, IBAN length + mod-97, personnummer dates, SSA rules, phone
 * digit counts; valid matches masked as R5/R6 say).
 *
 * The corpus is ~24 MB of Swedish/English chat lines, generated
 * deterministically (fixed LCG seed) in memory: plain chat, prices, dates,
 * times, order numbers and version strings, with cards, IBANs, SSNs,
 * personnummer, e-mail addresses and phone numbers mixed in.
 *
 * Prints `name: value unit` lines:
 *   corpus_size: 24.0 MB
 *   mask_throughput: N MB/s
 *   pcre2_jit_throughput: N MB/s      (only with HAVE_PCRE2)
 *   mask_vs_pcre2: N x                (only with HAVE_PCRE2)
 *   mask_command_throughput: N MB/s
 *   mask_command_vs_inprocess: N x
 *   mask_command_startup: N ms        (the command on empty input)
 *   true_startup: N ms                (/bin/true, the same way: the baseline)
 *   mask_command_startup_vs_true: N x
 *   mask_command_stream_throughput: N MB/s (the run less the start-up)
 *   mask_command_stream_vs_inprocess: N x
 * The command figure runs `textdesk mask` (the binary beside this one, or
 * $TEXTDESK_BIN) with the corpus as a file on stdin and its stdout a pipe
 * this process drains: what `textdesk mask <in | next` costs, process start
 * included, against mask_throughput measured in the same run.
 * MB is 10^6 bytes; each figure is the best of several runs.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "mask/mask.h"
#include "mask/mask_int.h"
#include "util/xalloc.h"

#ifdef HAVE_PCRE2
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#endif

#define CORPUS_BYTES (24u * 1000u * 1000u)
#define RUNS 5

/* ---- deterministic corpus ---- */

static uint64_t rng = 0x9E3779B97F4A7C15ull;

static uint32_t rnd(uint32_t n)
{
    rng = rng * 6364136223846793005ull + 1442695040888963407ull;
    return (uint32_t)((rng >> 33) % n);
}

typedef struct buf {
    char *p;
    size_t n, cap;
} buf;

static void put(buf *b, const char *s, size_t k)
{
    if (b->n + k > b->cap) {
        b->cap = (b->n + k) * 2;
        b->p = xrealloc(b->p, b->cap);
    }
    memcpy(b->p + b->n, s, k);
    b->n += k;
}

static void puts_b(buf *b, const char *s)
{
    put(b, s, strlen(s));
}

static void digits(char *d, size_t k)
{
    for (size_t i = 0; i < k; i++)
        d[i] = (char)('0' + rnd(10));
}

/* Sets the last of 'n' digits so that Luhn passes. */
static void luhn_fix(char *d, size_t n)
{
    for (char c = '0'; c <= '9'; c++) {
        d[n - 1] = c;
        if (mask__luhn_ok(d, n))
            return;
    }
}

static void gen_card(buf *b)
{
    char d[16];
    digits(d, 16);
    d[0] = rnd(2) ? '4' : '5';
    d[1] = d[0] == '5' ? (char)('1' + rnd(5)) : d[1];
    luhn_fix(d, 16);
    switch (rnd(3)) {
    case 0:
        put(b, d, 16);
        break;
    default:
        for (int g = 0; g < 4; g++) {
            if (g)
                put(b, rnd(3) ? " " : "-", 1);
            put(b, d + 4 * g, 4);
        }
    }
}

static void gen_iban(buf *b)
{
    char c[24] = "SE00";
    digits(c + 4, 20);
    for (char x = '0'; x <= '9'; x++) {
        for (char y = '0'; y <= '9'; y++) {
            c[2] = x, c[3] = y;
            if (mask__iban_ok(c, 24))
                goto done;
        }
    }
done:
    if (rnd(2)) {
        put(b, c, 24);
    } else {
        for (int g = 0; g < 6; g++) {
            if (g)
                put(b, " ", 1);
            put(b, c + 4 * g, 4);
        }
    }
}

static void gen_pnr(buf *b)
{
    char d[10], out[16];
    int n;
    unsigned yy = rnd(100), mm = 1 + rnd(12), dd = 1 + rnd(28);
    n = snprintf(out, sizeof out, "%02u%02u%02u", yy, mm, dd);
    memcpy(d, out, 6);
    digits(d + 6, 4);
    luhn_fix(d, 10);
    if (rnd(2))
        n = snprintf(out, sizeof out, "%.6s-%.4s", d, d + 6);
    else
        n = snprintf(out, sizeof out, "19%.6s-%.4s", d, d + 6);
    put(b, out, (size_t)n);
}

static void gen_ssn(buf *b)
{
    char out[16];
    int n = snprintf(out, sizeof out, "%03u-%02u-%04u", 1 + rnd(665), 1 + rnd(99),
                     1 + rnd(9999));
    put(b, out, (size_t)n);
}

static const char *const names[] = {"anna", "erik.johansson", "melissa", "kund123",
                                    "lars-olof", "support", "maja_berg"};
static const char *const domains[] = {"gmail.com", "telia.se", "foretag.se",
                                      "example.co.uk", "hotmail.com"};

static void gen_email(buf *b)
{
    puts_b(b, names[rnd(7)]);
    put(b, "@", 1);
    puts_b(b, domains[rnd(5)]);
}

static void gen_phone(buf *b)
{
    char out[32];
    int n;
    switch (rnd(4)) {
    case 0:
        n = snprintf(out, sizeof out, "070-%03u %02u %02u", rnd(1000), rnd(100), rnd(100));
        break;
    case 1:
        n = snprintf(out, sizeof out, "+46 70 %03u %02u %02u", rnd(1000), rnd(100),
                     rnd(100));
        break;
    case 2:
        n = snprintf(out, sizeof out, "(212) 555-%04u", rnd(10000));
        break;
    default:
        n = snprintf(out, sizeof out, "+447%09u", rnd(1000000000));
    }
    put(b, out, (size_t)n);
}

static const char *const chat[] = {
    "Hej! Jag har en fr\xc3\xa5ga om min best\xc3\xa4llning.",
    "Thanks, I will check it out tomorrow morning.",
    "Kan du ringa mig efter kl 14:30?",
    "Priset \xc3\xa4r 199,00 kr inkl. moms.",
    "Leveransen kommer 2024-05-12, ordernummer 123456.",
    "The app says version 1.2.3 and nothing works.",
    "Skicka SMS till 71000 f\xc3\xb6r att bekr\xc3\xa4" "fta.",
    "Jag v\xc3\xa4ntar fortfarande p\xc3\xa5 \xc3\xa5terbetalningen \xf0\x9f\x98\x80",
    "Could you please update my address? It's Storgatan 12.",
    "Tack f\xc3\xb6r hj\xc3\xa4lpen, ha en bra dag!",
    "My order #20240512 arrived broken, 3 of 5 items.",
    "Okej, det l\xc3\xa5ter bra. Vi h\xc3\xb6rs!",
};

static const char *const lead[] = {
    "Mitt kortnummer \xc3\xa4r ", "Here is my card: ", "IBAN: ", "Mitt personnummer: ",
    "SSN ", "Maila mig p\xc3\xa5 ", "Ring mig p\xc3\xa5 ", "My number is ",
};

static void gen_corpus(buf *b)
{
    while (b->n < CORPUS_BYTES) {
        int parts = 1 + (int)rnd(3);
        for (int i = 0; i < parts; i++) {
            if (i)
                put(b, " ", 1);
            puts_b(b, chat[rnd(12)]);
        }
        if (rnd(3) == 0) {
            unsigned k = rnd(8);
            put(b, " ", 1);
            puts_b(b, lead[k]);
            switch (k) {
            case 0:
            case 1:
                gen_card(b);
                break;
            case 2:
                gen_iban(b);
                break;
            case 3:
                gen_pnr(b);
                break;
            case 4:
                gen_ssn(b);
                break;
            case 5:
                gen_email(b);
                break;
            default:
                gen_phone(b);
            }
            puts_b(b, rnd(2) ? ", tack." : ".");
        }
        put(b, "\n", 1);
    }
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

#ifdef HAVE_PCRE2
/* ---- PCRE2-JIT baseline ---- */

static const char pattern[] =
    "(?<![\\w+])(?:"
    "(?<email>[\\w.%+-]+@[A-Za-z0-9-]+(?:\\.[A-Za-z0-9-]+)+)"
    "|(?<iban>[A-Za-z]{2}\\d{2}(?:[A-Za-z0-9]{11,30}|(?:[ ][A-Za-z0-9]{4}){2,7}(?:[ ][A-Za-z0-9]{1,3})?))"
    "|(?<ssn>\\d{3}-\\d{2}-\\d{4})"
    "|(?<pnr>(?:\\d{2})?\\d{6}[-+]?\\d{4})"
    "|(?<card>\\d(?:[ -]?\\d){12,18})"
    "|(?<nanp>(?:1[ .-])?(?:\\(\\d{3}\\) \\d{3}-\\d{4}|\\d{3}([-. ])\\d{3}\\g{-1}\\d{4}))"
    "|(?<phone>(?:\\+\\d|00\\d|0[1-9]|\\(0[1-9]\\d{0,2}\\))(?:[ -]?(?:\\d+|\\(\\d{1,4}\\)))*)"
    ")(?![\\w])";

enum { G_EMAIL = 1, G_IBAN, G_SSN, G_PNR, G_CARD, G_NANP, G_SEP, G_PHONE };

/* Validates a candidate of group 'g' with the src/mask checks. */
static int valid(int g, const char *s, size_t n)
{
    char c[64];
    size_t k = 0, nd = 0;
    for (size_t i = 0; i < n && k < sizeof c; i++) {
        if ((s[i] >= '0' && s[i] <= '9') || (g == G_IBAN && s[i] != ' '))
            c[k++] = s[i];
        nd += s[i] >= '0' && s[i] <= '9';
    }
    switch (g) {
    case G_EMAIL: {
        size_t e = n, letters = 0;
        while (e > 0 && s[e - 1] != '.') {
            char ch = (char)(s[e - 1] | 0x20);
            if (ch < 'a' || ch > 'z')
                return 0;
            letters++, e--;
        }
        return letters >= 2;
    }
    case G_IBAN:
        return mask__iban_ok(c, k);
    case G_SSN:
        return mask__ssn_ok(s);
    case G_PNR:
        return mask__pnr_ok(c, k);
    case G_CARD:
        return k >= 13 && k <= 19 && mask__card_iin_ok(c, k) && mask__luhn_ok(c, k);
    case G_NANP:
        return 1;
    default:
        if (s[0] == '+')
            return nd >= 8 && nd <= 15;
        if (s[0] == '0' && s[1] == '0')
            return nd >= 10 && nd <= 17;
        return nd >= 7 && nd <= 11;
    }
}

/* R5 / R6 output for a validated match. */
static size_t mask_out(int g, const char *s, size_t n, char *o)
{
    size_t w = 0;
    if (g == G_EMAIL) {
        const char *at = memchr(s, '@', n);
        o[w++] = s[0];
        for (const char *p = s + 1; p < at; p++)
            o[w++] = '*';
        memcpy(o + w, at, (size_t)(s + n - at));
        return w + (size_t)(s + n - at);
    }
    size_t count = 0;
    for (size_t i = 0; i < n; i++)
        count += s[i] != ' ';
    char last[4];
    int nl = 0;
    for (size_t i = n; i > 0 && nl < 4; i--)
        if ((s[i - 1] >= '0' && s[i - 1] <= '9') || ((s[i - 1] | 0x20) >= 'a' && (s[i - 1] | 0x20) <= 'z'))
            last[3 - nl++] = s[i - 1];
    memset(o, '*', count - (size_t)nl);
    memcpy(o + count - (size_t)nl, last + 4 - nl, (size_t)nl);
    return count;
}

static size_t pcre2_mask(pcre2_code *re, pcre2_match_data *md, const char *s, size_t n,
                         char *out)
{
    size_t w = 0, done = 0, at = 0;
    PCRE2_SIZE *ov = pcre2_get_ovector_pointer(md);
    while (at < n && pcre2_jit_match(re, (PCRE2_SPTR)s, n, at, 0, md, NULL) > 0) {
        size_t a = ov[0], e = ov[1];
        int g = 0;
        for (int i = 1; i <= G_PHONE; i++)
            if (ov[2 * i] != PCRE2_UNSET && i != G_SEP) {
                g = i;
                break;
            }
        if (valid(g, s + a, e - a)) {
            memcpy(out + w, s + done, a - done);
            w += a - done;
            w += mask_out(g, s + a, e - a, out + w);
            done = e;
        }
        at = e > a ? e : a + 1;
    }
    memcpy(out + w, s + done, n - done);
    return w + n - done;
}
#endif

/* Runs `bin mask` (or `bin` alone when 'alone') with the file 'fd' on
 * stdin, drains its stdout and returns the seconds it took, or -1; '*outn'
 * gets the bytes it wrote. */
static double run_command_as(const char *bin, int alone, int fd, size_t *outn)
{
    int pp[2];
    static char sink[1 << 16];
    if (pipe(pp) != 0 || lseek(fd, 0, SEEK_SET) != 0)
        return -1;
    double t0 = now_s();
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        dup2(fd, STDIN_FILENO);
        dup2(pp[1], STDOUT_FILENO);
        close(pp[0]);
        close(pp[1]);
        if (alone)
            execl(bin, bin, (char *)NULL);
        else
            execl(bin, "textdesk", "mask", (char *)NULL);
        _exit(127);
    }
    close(pp[1]);
    size_t total = 0;
    ssize_t k;
    while ((k = read(pp[0], sink, sizeof sink)) > 0)
        total += (size_t)k;
    close(pp[0]);
    int st;
    if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
        return -1;
    *outn = total;
    return now_s() - t0;
}

static double run_command(const char *bin, int fd, size_t *outn)
{
    return run_command_as(bin, 0, fd, outn);
}

/* The best of RUNS starts of `bin` (with `mask` unless 'alone') on empty
 * input, in milliseconds, or -1. */
static double start_ms(const char *bin, int alone)
{
    int fd = open("/dev/null", O_RDONLY);
    double best = 1e9;
    for (int r = 0; r < RUNS * 4 && fd >= 0; r++) {
        size_t outn = 0;
        double t = run_command_as(bin, alone, fd, &outn);
        if (t < 0) {
            best = -1e3;
            break;
        }
        if (t < best)
            best = t;
    }
    if (fd >= 0)
        close(fd);
    return best * 1e3;
}

/* `textdesk mask` on the corpus against the in-process figure (issue 19:
 * the command once ran at an eighth of it). Returns 0, or 1 on failure. */
static int bench_command(const char *argv0, const buf *b, size_t masked_len,
                         double inproc_mbs)
{
    char bin[4096];
    const char *env = getenv("TEXTDESK_BIN");
    const char *slash = strrchr(argv0, '/');
    if (env != NULL)
        snprintf(bin, sizeof bin, "%s", env);
    else
        snprintf(bin, sizeof bin, "%.*s/textdesk", slash ? (int)(slash - argv0) : 1,
                 slash ? argv0 : ".");
    char path[] = "/tmp/bench_mask_XXXXXX";
    int fd = mkstemp(path);
    if (fd < 0 || write(fd, b->p, b->n) != (ssize_t)b->n) {
        perror("bench_mask: corpus file");
        return 1;
    }
    unlink(path);
    double best = 1e9;
    for (int r = 0; r < RUNS; r++) {
        size_t outn = 0;
        double t = run_command(bin, fd, &outn);
        if (t < 0 || outn != masked_len) {
            fprintf(stderr, "bench_mask: %s mask failed or wrote %zu bytes, not %zu\n", bin,
                    outn, masked_len);
            close(fd);
            return 1;
        }
        if (t < best)
            best = t;
    }
    close(fd);
    double mbs = (double)b->n / 1e6 / best;
    printf("mask_command_throughput: %.1f MB/s\n", mbs);
    printf("mask_command_vs_inprocess: %.2f x\n", mbs / inproc_mbs);
    /* what of it is the process start (the dynamic loader, mostly), beside
     * the start of a program that links only libc */
    double st = start_ms(bin, 0), base = start_ms("/bin/true", 1);
    if (st < 0 || base < 0) {
        fprintf(stderr, "bench_mask: could not time the start of %s\n", bin);
        return 1;
    }
    printf("mask_command_startup: %.1f ms\n", st);
    printf("true_startup: %.1f ms\n", base);
    printf("mask_command_startup_vs_true: %.1f x\n", st / base);
    /* the stream alone: the whole run less the start on empty input */
    double stream = best - st / 1e3;
    if (stream > 0) {
        printf("mask_command_stream_throughput: %.1f MB/s\n", (double)b->n / 1e6 / stream);
        printf("mask_command_stream_vs_inprocess: %.2f x\n",
               (double)b->n / 1e6 / stream / inproc_mbs);
    }
    return 0;
}

int main(int argc, char **argv)
{
    (void)argc;
    buf b = {0};
    gen_corpus(&b);
    char *out = xmalloc(b.n);
    double mb = (double)b.n / 1e6;
    printf("corpus_size: %.1f MB\n", mb);

    double best = 1e9;
    size_t m = 0;
    for (int r = 0; r < RUNS; r++) {
        double t0 = now_s();
        m = mask_apply(b.p, b.n, MASK_ALL, out, b.n);
        double t = now_s() - t0;
        if (t < best)
            best = t;
    }
    size_t tokens = mask_scan(b.p, b.n, MASK_ALL, NULL, 0);
    double mask_mbs = mb / best;
    printf("mask_tokens: %zu tokens\n", tokens);
    printf("mask_output: %.1f MB\n", (double)m / 1e6);
    printf("mask_throughput: %.1f MB/s\n", mask_mbs);

#ifdef HAVE_PCRE2
    int err;
    PCRE2_SIZE eoff;
    pcre2_code *re = pcre2_compile((PCRE2_SPTR)pattern, PCRE2_ZERO_TERMINATED, PCRE2_UTF,
                                   &err, &eoff, NULL);
    if (re == NULL || pcre2_jit_compile(re, PCRE2_JIT_COMPLETE) != 0) {
        fprintf(stderr, "bench_mask: PCRE2 compile/JIT failed (%d at %zu)\n", err, eoff);
        return 1;
    }
    pcre2_match_data *md = pcre2_match_data_create_from_pattern(re, NULL);
    char *out2 = xmalloc(b.n);
    double best2 = 1e9;
    for (int r = 0; r < RUNS; r++) {
        double t0 = now_s();
        pcre2_mask(re, md, b.p, b.n, out2);
        double t = now_s() - t0;
        if (t < best2)
            best2 = t;
    }
    double pcre_mbs = mb / best2;
    printf("pcre2_jit_throughput: %.1f MB/s\n", pcre_mbs);
    printf("mask_vs_pcre2: %.1f x\n", mask_mbs / pcre_mbs);
    pcre2_match_data_free(md);
    pcre2_code_free(re);
    free(out2);
#endif
    int rc = bench_command(argv[0], &b, m, mask_mbs);
    free(out);
    free(b.p);
    return rc;
}
