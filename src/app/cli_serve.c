/*
 * `textdesk serve [--config FILE] [--listen ADDR:PORT] [--data DIR | --store URL]
 *                 [--web DIR] [--tls-cert FILE --tls-key FILE]`: the server. With no arguments it runs the
 * built-in demo configuration on 127.0.0.1:8080 with its data in ./data and
 * the customer simulator as gateway. --store takes any store URL (store.h):
 * postgresql://... or sqlite:DIR.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "app/app.h"
#include "app/cli.h"
#include "app/ha.h"
#include "net/net_http.h"
#include "util/log.h"

static app *g_app; /* for the signal handler only */

static void on_signal(int sig)
{
    (void)sig;
    if (g_app)
        app_stop(g_app);
}

static int parse_listen(const char *s, char *iface, size_t n, int *port)
{
    const char *colon = strrchr(s, ':');
    if (!colon || colon == s || (size_t)(colon - s) >= n)
        return -1;
    char *end;
    long p = strtol(colon + 1, &end, 10);
    if (*end || p < 0 || p > 65535)
        return -1;
    memcpy(iface, s, (size_t)(colon - s));
    iface[colon - s] = '\0';
    *port = (int)p;
    return 0;
}

/* Whether the server can listen on iface:port (an IP address of this
 * machine, or a network interface's name), asked by binding a socket once:
 * libwebsockets would otherwise wait for a missing address to appear,
 * serving nothing. 0, or -1 with the reason in 'why'. */
static int probe_listen(const char *iface, int port, char *why, size_t n)
{
    struct sockaddr_in a4 = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    if (inet_pton(AF_INET, iface, &a4.sin_addr) != 1) {
        if (if_nametoindex(iface) != 0)
            return 0;
        snprintf(why, n, "'%.60s' is no IP address or network interface of this machine", iface);
        return -1;
    }
    int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1, r = -1;
    if (fd >= 0) {
        (void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        r = bind(fd, (struct sockaddr *)&a4, sizeof a4);
        if (r != 0)
            snprintf(why, n, "%s%s", strerror(errno),
                     errno == EADDRINUSE       ? " (another program listens there)"
                     : errno == EADDRNOTAVAIL ? " (the address is not this machine's)"
                                              : "");
        close(fd);
    } else {
        snprintf(why, n, "%s", strerror(errno));
    }
    return r == 0 ? 0 : -1;
}

static const char *default_web_dir(void)
{
    if (access("web/index.html", R_OK) == 0)
        return "web";
    return TEXTDESK_WEB_DIR;
}

/* --lease-ms, --self-fence-ms, --step-ms over the file's "ha" in 't';
 * 0, or -1 with the error printed. */
static int ha_timing_args(const char *node, const char *lease, const char *fence,
                          const char *step, ha_timing *t)
{
    const char *names[] = {"--lease-ms", "--self-fence-ms", "--step-ms"};
    const char *vals[] = {lease, fence, step};
    int64_t *slots[] = {&t->lease_ms, &t->fence_ms, &t->step_ms};
    for (int i = 0; i < 3; i++) {
        if (!vals[i])
            continue;
        if (!node) {
            fprintf(stderr, "textdesk serve: %s is for a node of a cluster: add --node NAME\n",
                    names[i]);
            return -1;
        }
        char *end;
        errno = 0;
        long long v = strtoll(vals[i], &end, 10);
        if (errno || end == vals[i] || *end || v < 0) { /* 0 and small: the range says why */
            fprintf(stderr, "textdesk serve: %s '%s': expected a number of milliseconds\n",
                    names[i], vals[i]);
            return -1;
        }
        *slots[i] = v;
    }
    char err[256];
    if (node && ha_timing_check(t, err, sizeof err) != 0) {
        fprintf(stderr, "textdesk serve: %s (--lease-ms, --self-fence-ms, --step-ms or \"ha\" in"
                        " the configuration file)\n", err);
        return -1;
    }
    return 0;
}

static const char serve_usage[] =
    "usage: textdesk serve [--config FILE] [--listen ADDR:PORT] [--data DIR | --store URL]\n"
    "                      [--node NAME [--lease-ms N] [--self-fence-ms N] [--step-ms N]]\n"
    "                      [--web DIR] [--log-level debug|info|warn|error]\n"
    "                      [--tls-cert FILE --tls-key FILE]\n";

static const char serve_help[] =
    "Runs the server. Without --config: the built-in demo (agents, queues and\n"
    "the SMS simulator), its accounts printed at start.\n"
    "  --config FILE       site configuration (JSON; docs/configuration.md)\n"
    "  --listen ADDR:PORT  IPv4 address to listen on (default 127.0.0.1:8080)\n"
    "  --data DIR          where the store lives (default ./data)\n"
    "  --store URL         the store instead: sqlite:DIR or postgresql://...\n"
    "                      (any libpq connection string; docs/configuration.md)\n"
    "  --node NAME         join the cluster of nodes sharing the PostgreSQL store:\n"
    "                      one leads, the others stand by and take over\n"
    "                      (docs/operations.md, \"High availability\")\n"
    "  --lease-ms N        a silent leader is replaced after N ms (default 5000)\n"
    "  --self-fence-ms N   a leader without an answer from the database for N ms\n"
    "                      stops by itself; less than the lease (default 3000)\n"
    "  --step-ms N         the leadership session's step (default 100)\n"
    "  --web DIR           the web pages (default: installed or ./web)\n"
    "  --log-level LEVEL   debug, info, warn or error (default info)\n"
    "  --tls-cert FILE     PEM certificate: serve HTTPS and WSS only\n"
    "  --tls-key FILE      its PEM private key\n";

int cli_serve_main(int argc, char **argv)
{
    const char *config = NULL, *listen = NULL, *data = NULL, *web = NULL, *level = NULL;
    const char *store_url = NULL, *node = NULL;
    const char *lease = NULL, *fence = NULL, *step = NULL;
    const char *cert = NULL, *key = NULL;
    if (cli_help_asked(argc, argv)) {
        printf("%s\n%s", serve_usage, serve_help);
        return 0;
    }
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char **slot = strcmp(a, "--config") == 0   ? &config
                            : strcmp(a, "--listen") == 0 ? &listen
                            : strcmp(a, "--data") == 0   ? &data
                            : strcmp(a, "--store") == 0  ? &store_url
                            : strcmp(a, "--node") == 0   ? &node
                            : strcmp(a, "--lease-ms") == 0 ? &lease
                            : strcmp(a, "--self-fence-ms") == 0 ? &fence
                            : strcmp(a, "--step-ms") == 0 ? &step
                            : strcmp(a, "--web") == 0    ? &web
                            : strcmp(a, "--log-level") == 0 ? &level
                            : strcmp(a, "--tls-cert") == 0 ? &cert
                            : strcmp(a, "--tls-key") == 0 ? &key
                                                         : NULL;
        if (!slot || i + 1 >= argc) {
            fprintf(stderr, "textdesk serve: %s '%s' (textdesk serve --help lists them)\n%s",
                    slot ? "missing value for" : "unknown option", a, serve_usage);
            return 2;
        }
        *slot = argv[++i];
    }
    if (data && store_url) {
        fprintf(stderr, "textdesk serve: --data and --store both name the store: give one"
                        " (--data DIR is --store sqlite:DIR)\n");
        return 2;
    }
    if (store_url && !store_url_ok(store_url)) {
        fprintf(stderr, "textdesk serve: --store '%.200s': %s\n", store_url, STORE_URL_HINT);
        return 2;
    }
    if (level && log_set_level_name(level) != 0) {
        fprintf(stderr, "textdesk serve: --log-level '%s': use debug, info, warn or error\n",
                level);
        return 2;
    }
    char err[512];
    app_config *cfg = app_config_load(config, err, sizeof err);
    if (!cfg) {
        fprintf(stderr, "textdesk serve: %s\n", err);
        return 1;
    }
    if (!listen)
        listen = app_config_listen(cfg) ? app_config_listen(cfg) : "127.0.0.1:8080";
    /* the command line first, then the file; a folder is an SQLite store */
    if (!store_url)
        store_url = data                       ? data
                    : app_config_store(cfg)    ? app_config_store(cfg)
                    : app_config_data_dir(cfg) ? app_config_data_dir(cfg)
                                               : "./data";
    if (node && !store_url_is_pg(store_url)) {
        fprintf(stderr, "textdesk serve: --node needs a PostgreSQL store (--store"
                        " postgresql://...): the nodes of a cluster share its database\n");
        app_config_free(cfg);
        return 2;
    }
    if (node && !ha_name_ok(node)) {
        fprintf(stderr, "textdesk serve: --node '%s': use 1 to 63 letters, digits, '.', '_' or"
                        " '-'\n", node);
        app_config_free(cfg);
        return 2;
    }
    ha_timing ht;
    app_config_ha(cfg, &ht);
    if (ha_timing_args(node, lease, fence, step, &ht) != 0) {
        app_config_free(cfg);
        return 2;
    }
    if (!web)
        web = default_web_dir();
    if (!cert && !key)
        app_config_tls(cfg, &cert, &key);
    const char *ca = app_config_ca_file(cfg);
    if (ca && access(ca, R_OK) != 0) {
        fprintf(stderr, "textdesk serve: ca_file: cannot read %s\n", ca);
        app_config_free(cfg);
        return 1;
    }
    net_http_set_ca_file(ca);
    if (!cert != !key) {
        fprintf(stderr, "textdesk serve: TLS needs both a certificate and a key "
                        "(--tls-cert and --tls-key, or \"tls\" in the file)\n");
        app_config_free(cfg);
        return 2;
    }
    for (const char *f = cert; f; f = f == cert ? key : NULL) {
        if (access(f, R_OK) != 0) {
            fprintf(stderr, "textdesk serve: TLS: cannot read %s\n", f);
            app_config_free(cfg);
            return 1;
        }
    }
    char iface[128];
    int port;
    if (parse_listen(listen, iface, sizeof iface, &port) != 0) {
        fprintf(stderr, "textdesk serve: --listen '%s': expected ADDR:PORT\n", listen);
        app_config_free(cfg);
        return 2;
    }
    char why[160];
    /* the listener is IPv4 only (src/http/http.c keeps a peer's IPv4
     * address per connection): an IPv6 address, bracketed or not, is
     * refused here rather than answered "listening" with nothing there */
    if (iface[0] == '[' || strchr(iface, ':')) {
        fprintf(stderr,
                "textdesk serve: --listen '%s': IPv6 addresses are not supported: listen on an"
                " IPv4 address (127.0.0.1:PORT, or 0.0.0.0:PORT for all) and reach it over IPv6"
                " through a reverse proxy such as HAProxy (docs/configuration.md)\n",
                listen);
        app_config_free(cfg);
        return 2;
    }
    if (probe_listen(iface, port, why, sizeof why) != 0) {
        fprintf(stderr, "textdesk serve: cannot listen on %s: %s: give another --listen"
                        " (or \"listen\" in the file)\n", listen, why);
        app_config_free(cfg);
        return 1;
    }
    app a;
    memset(&a, 0, sizeof a);
    a.node = node;
    a.ha_timing = &ht;
    g_app = &a;
    signal(SIGPIPE, SIG_IGN);
    /* a write past RLIMIT_FSIZE then fails with EFBIG, which the store
     * reports like a full disk (degraded mode), instead of killing us */
    signal(SIGXFSZ, SIG_IGN);
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    int rc = 1;
    http_cfg hc = {.iface = iface, .port = port, .web_dir = web, .tls_cert = cert,
                   .tls_key = key};
    /* tests: a WebSocket's silence before a ping (http.h; default 300 s) */
    const char *ping = getenv("TEXTDESK_WS_PING_MS");
    if (ping)
        hc.ws_ping_ms = strtoll(ping, NULL, 10);
    if (app_open(&a, store_url, cfg, err, sizeof err) != 0 ||
        app_listen(&a, &hc, err, sizeof err) != 0) {
        fprintf(stderr, "textdesk serve: %s\n", err);
        goto out;
    }
    const char *scheme = cert ? "https" : "http";
    printf("textdesk: listening on %s://%s:%d/\n", scheme, iface, http_port(a.http));
    printf("  agent desktop   %s://%s:%d/\n", scheme, iface, http_port(a.http));
    printf("  SMS simulator   %s://%s:%d/sim/\n", scheme, iface, http_port(a.http));
    printf("  data            %s\n", store_where(a.st));
    if (node)
        printf("  node            %s (a standby until it leads: /api/health)\n", node);
    if (!config) {
        printf("demo logins:\n");
        app_config_print_logins(cfg);
    }
    fflush(stdout);
    char port_s[16];
    snprintf(port_s, sizeof port_s, "%d", http_port(a.http));
    log_kv(LOG_INFO, "listening", "address", iface, "port", port_s, "data", store_where(a.st), "tls",
           cert ? "on" : "off", NULL);
    app_run(&a);
    log_kv(LOG_INFO, "stopping", NULL);
    printf("textdesk: stopping\n");
    rc = 0;
out:
    app_close(&a);
    app_config_free(cfg);
    g_app = NULL;
    return rc;
}
