/*
 * config_gw.c: the "gateways" and "outbox" sections of the configuration
 * and each entry point's "gateway" (docs/configuration.md). Validated
 * completely when the file is loaded, like the rest of config.c.
 */
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "app/gateways.h"
#include "net/net_http.h"

static int fail(char *err, size_t n, const char *path, const char *where, const char *msg)
{
    snprintf(err, n, "%s: %s: %s", path, where, msg);
    return -1;
}

static int only(json_t *o, const char *const *keys, const char **bad)
{
    const char *key;
    json_t *v;
    json_object_foreach(o, key, v)
    {
        int ok = 0;
        for (const char *const *k = keys; *k; k++)
            ok |= strcmp(*k, key) == 0;
        if (!ok) {
            *bad = key;
            return -1;
        }
    }
    return 0;
}

static int chars_ok(const char *s, size_t max)
{
    size_t n = strlen(s);
    if (n == 0 || n > max)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_'))
            return 0;
    }
    return 1;
}

/* An http://IPv4[:port][/path] URL the loop's client can reach; 'base'
 * forbids a path (it is a prefix we append to). */
static const char *url_problem(const char *url, int base)
{
    char host[64], path[2048];
    int port;
    if (net_http_parse_url(url, host, sizeof host, &port, path, sizeof path) != 0)
        return "must be an http:// URL (https is not supported: use a local adapter)";
    if (!net_http_host_ok(host))
        return "the host must be an IPv4 address (no DNS on the server's loop)";
    if (base && strcmp(path, "/") == 0 && url[strlen(url) - 1] == '/')
        return "must not end with /";
    if (base && strcmp(path, "/") != 0)
        return "must be http://IP:PORT with no path";
    return NULL;
}

/* A required (need) or optional string key; NULL when absent. */
static int str_key(json_t *o, const char *key, int need, const char **out, char *err, size_t n,
                   const char *path, const char *where)
{
    char w[160];
    snprintf(w, sizeof w, "%s.%s", where, key);
    json_t *v = json_object_get(o, key);
    *out = NULL;
    if (!v) {
        if (need) {
            char m[96];
            snprintf(m, sizeof m, "%s is required", key);
            return fail(err, n, path, w, m);
        }
        return 0;
    }
    if (!json_is_string(v) || json_string_length(v) == 0)
        return fail(err, n, path, w, "must be a non-empty string");
    *out = json_string_value(v);
    return 0;
}

/* An optional whole number in lo..hi; 'out' keeps its default when absent. */
static int int_key(json_t *o, const char *key, long long lo, long long hi, long long *out,
                   char *err, size_t n, const char *path, const char *where)
{
    json_t *v = json_object_get(o, key);
    if (!v)
        return 0;
    if (!json_is_integer(v) || json_integer_value(v) < lo || json_integer_value(v) > hi) {
        char w[160], m[96];
        snprintf(w, sizeof w, "%s.%s", where, key);
        snprintf(m, sizeof m, "must be a whole number %lld..%lld", lo, hi);
        return fail(err, n, path, w, m);
    }
    *out = json_integer_value(v);
    return 0;
}

static int bool_key(json_t *o, const char *key, int *out, char *err, size_t n, const char *path,
                    const char *where)
{
    json_t *v = json_object_get(o, key);
    if (!v)
        return 0;
    if (!json_is_boolean(v)) {
        char w[160];
        snprintf(w, sizeof w, "%s.%s", where, key);
        return fail(err, n, path, w, "must be true or false");
    }
    *out = json_is_true(v);
    return 0;
}

/* A string of at most 'max' bytes of printable ASCII (an SMPP C-Octet
 * String field), or absent when not 'need'. */
static int smpp_str(json_t *o, const char *key, int need, size_t max, const char **out,
                    char *err, size_t n, const char *path, const char *where)
{
    if (str_key(o, key, need, out, err, n, path, where))
        return -1;
    if (!*out)
        return 0;
    size_t l = strlen(*out);
    int ok = l <= max;
    for (size_t i = 0; i < l; i++)
        ok &= (*out)[i] > ' ' && (*out)[i] < 0x7f;
    if (ok)
        return 0;
    char w[160], m[120];
    snprintf(w, sizeof w, "%s.%s", where, key);
    snprintf(m, sizeof m, "must be at most %zu printable ASCII characters (SMPP 3.4 limit)", max);
    return fail(err, n, path, w, m);
}

static int check_smpp(json_t *e, const char *path, const char *w, char *err, size_t n,
                      app_gw_conf *c)
{
    gw_smpp_cfg *g = &c->smpp;
    smpp_cfg *s = &g->smpp;
    char ww[200];
    g->id = c->id;
    if (str_key(e, "host", 1, &g->host, err, n, path, w))
        return -1;
    if (!net_http_host_ok(g->host)) {
        snprintf(ww, sizeof ww, "%s.host", w);
        return fail(err, n, path, ww, "must be an IPv4 address (no DNS on the server's loop)");
    }
    if (!json_object_get(e, "port")) {
        snprintf(ww, sizeof ww, "%s.port", w);
        return fail(err, n, path, ww, "port is required");
    }
    long long port = 0, window = 10, thr = 0, enq = 30000, rto = 10000, bmin = 1000,
              bmax = 60000, pause = 1000, retries = 10, mot = 600000;
    if (int_key(e, "port", 1, 65535, &port, err, n, path, w) ||
        smpp_str(e, "system_id", 1, 15, &s->system_id, err, n, path, w) ||
        smpp_str(e, "password", 1, 8, &s->password, err, n, path, w) ||
        smpp_str(e, "system_type", 0, 12, &s->system_type, err, n, path, w) ||
        int_key(e, "window", 1, 1000, &window, err, n, path, w) ||
        int_key(e, "throughput", 0, 10000, &thr, err, n, path, w) ||
        int_key(e, "enquire_ms", 1000, 3600000, &enq, err, n, path, w) ||
        int_key(e, "resp_timeout_ms", 100, 600000, &rto, err, n, path, w) ||
        int_key(e, "backoff_min_ms", 100, 3600000, &bmin, err, n, path, w) ||
        int_key(e, "backoff_max_ms", 100, 86400000, &bmax, err, n, path, w) ||
        int_key(e, "throttled_pause_ms", 10, 600000, &pause, err, n, path, w) ||
        int_key(e, "max_retries", 1, 1000, &retries, err, n, path, w) ||
        int_key(e, "mo_timeout_ms", 1000, 86400000, &mot, err, n, path, w) ||
        bool_key(e, "message_payload", &s->payload_mode, err, n, path, w))
        return -1;
    int receipts = 1;
    if (bool_key(e, "receipts", &receipts, err, n, path, w))
        return -1;
    if (bmax < bmin) {
        snprintf(ww, sizeof ww, "%s.backoff_max_ms", w);
        return fail(err, n, path, ww, "must not be below backoff_min_ms");
    }
    g->port = (int)port;
    s->window = (unsigned)window;
    s->throughput = (unsigned)thr;
    s->enquire_ms = enq;
    s->resp_timeout_ms = rto;
    s->backoff_min_ms = bmin;
    s->backoff_max_ms = bmax;
    s->throttled_pause_ms = pause;
    s->max_retries = (unsigned)retries;
    s->mo_timeout_ms = mot;
    s->no_receipts = !receipts;
    return 0;
}

static int check_gw(json_t *e, const char *path, const char *w, char *err, size_t n,
                    app_gw_conf *c)
{
    static const char *const sim_keys[] = {"id", "type", NULL};
    static const char *const kannel_keys[] = {"id",       "type",         "sendsms_url",
                                              "username", "password",     "dlr_url_base",
                                              "token",    "smsc",         "dlr_mask",
                                              NULL};
    static const char *const webhook_keys[] = {"id", "type", "url", "secret", NULL};
    static const char *const smpp_keys[] = {
        "id",         "type",           "host",           "port",
        "system_id",  "password",       "system_type",    "window",
        "throughput", "enquire_ms",     "resp_timeout_ms", "backoff_min_ms",
        "backoff_max_ms", "throttled_pause_ms", "max_retries", "mo_timeout_ms",
        "message_payload", "receipts",  NULL};
    char ww[200];
    memset(c, 0, sizeof *c);
    if (!json_is_object(e))
        return fail(err, n, path, w, "must be an object");
    const char *type;
    if (str_key(e, "id", 1, &c->id, err, n, path, w) || str_key(e, "type", 1, &type, err, n, path, w))
        return -1;
    if (!chars_ok(c->id, APP_GW_ID_MAX)) {
        snprintf(ww, sizeof ww, "%s.id", w);
        return fail(err, n, path, ww, "must be 1..32 of A-Z a-z 0-9 - _");
    }
    const char *bad = NULL;
    char m[160];
    if (strcmp(type, "sim") == 0) {
        c->type = APP_GW_SIM;
        if (only(e, sim_keys, &bad) == 0)
            return 0;
    } else if (strcmp(type, "kannel") == 0) {
        c->type = APP_GW_KANNEL;
        if (only(e, kannel_keys, &bad) != 0)
            goto unknown;
        gw_kannel_cfg *k = &c->kannel;
        k->id = c->id;
        if (str_key(e, "sendsms_url", 1, &k->sendsms_url, err, n, path, w) ||
            str_key(e, "username", 1, &k->username, err, n, path, w) ||
            str_key(e, "password", 1, &k->password, err, n, path, w) ||
            str_key(e, "dlr_url_base", 1, &k->dlr_url_base, err, n, path, w) ||
            str_key(e, "token", 0, &k->token, err, n, path, w) ||
            str_key(e, "smsc", 0, &k->smsc, err, n, path, w))
            return -1;
        const char *p;
        if ((p = url_problem(k->sendsms_url, 0))) {
            snprintf(ww, sizeof ww, "%s.sendsms_url", w);
            return fail(err, n, path, ww, p);
        }
        if ((p = url_problem(k->dlr_url_base, 1))) {
            snprintf(ww, sizeof ww, "%s.dlr_url_base", w);
            return fail(err, n, path, ww, p);
        }
        if (k->token && !chars_ok(k->token, 128)) {
            snprintf(ww, sizeof ww, "%s.token", w);
            return fail(err, n, path, ww, "must be 1..128 of A-Z a-z 0-9 - _");
        }
        json_t *mask = json_object_get(e, "dlr_mask");
        k->dlr_mask = GW_KANNEL_DLR_MASK_DEFAULT;
        if (mask) {
            if (!json_is_integer(mask) || json_integer_value(mask) < 1 ||
                json_integer_value(mask) > 31) {
                snprintf(ww, sizeof ww, "%s.dlr_mask", w);
                return fail(err, n, path, ww, "must be a whole number 1..31 (Kannel's dlr-mask)");
            }
            k->dlr_mask = (int)json_integer_value(mask);
        }
        return 0;
    } else if (strcmp(type, "webhook") == 0) {
        c->type = APP_GW_WEBHOOK;
        if (only(e, webhook_keys, &bad) != 0)
            goto unknown;
        gw_webhook_cfg *h = &c->webhook;
        h->id = c->id;
        if (str_key(e, "url", 1, &h->url, err, n, path, w) ||
            str_key(e, "secret", 1, &h->secret, err, n, path, w))
            return -1;
        const char *p;
        if ((p = url_problem(h->url, 0))) {
            snprintf(ww, sizeof ww, "%s.url", w);
            return fail(err, n, path, ww, p);
        }
        if (strlen(h->secret) < 16) {
            snprintf(ww, sizeof ww, "%s.secret", w);
            return fail(err, n, path, ww, "must be at least 16 characters");
        }
        return 0;
    } else if (strcmp(type, "smpp") == 0) {
        c->type = APP_GW_SMPP;
        if (only(e, smpp_keys, &bad) != 0)
            goto unknown;
        return check_smpp(e, path, w, err, n, c);
    } else {
        snprintf(ww, sizeof ww, "%s.type", w);
        return fail(err, n, path, ww, "must be \"sim\", \"kannel\", \"webhook\" or \"smpp\"");
    }
unknown:
    snprintf(m, sizeof m, "unknown key \"%.60s\"", bad);
    return fail(err, n, path, w, m);
}

static size_t collect(json_t *root, app_gw_conf *out, size_t max, const char *path, char *err,
                      size_t n, int *bad)
{
    json_t *list = json_object_get(root, "gateways");
    *bad = 0;
    if (!list) {
        if (max) {
            memset(&out[0], 0, sizeof out[0]);
            out[0].type = APP_GW_SIM;
            out[0].id = "sim";
        }
        return 1;
    }
    if (!json_is_array(list) || json_array_size(list) == 0 ||
        json_array_size(list) > APP_GW_MAX) {
        *bad = fail(err, n, path, "gateways", "must be a list of 1..16 gateways");
        return 0;
    }
    size_t i, k = 0, sims = 0;
    json_t *e;
    json_array_foreach(list, i, e)
    {
        char w[64];
        snprintf(w, sizeof w, "gateways[%zu]", i);
        app_gw_conf c;
        if (check_gw(e, path, w, err, n, &c) != 0) {
            *bad = -1;
            return 0;
        }
        for (size_t j = 0; j < k && j < max; j++)
            if (strcmp(out[j].id, c.id) == 0) {
                *bad = fail(err, n, path, w, "id used twice");
                return 0;
            }
        if (c.type == APP_GW_SIM && ++sims > 1) {
            *bad = fail(err, n, path, w, "at most one simulator");
            return 0;
        }
        if (k < max)
            out[k] = c;
        k++;
    }
    return k;
}

int app_config__check_gateways(const app_config *cfg, const char *path, char *err, size_t n)
{
    json_t *root = app_config__json(cfg);
    app_gw_conf gws[APP_GW_MAX];
    int bad;
    size_t ngw = collect(root, gws, APP_GW_MAX, path, err, n, &bad);
    if (bad)
        return -1;
    json_t *eps = json_object_get(root, "entry_points"), *e;
    size_t i;
    json_array_foreach(eps, i, e)
    {
        json_t *g = json_object_get(e, "gateway");
        if (!g)
            continue;
        char w[64];
        snprintf(w, sizeof w, "entry_points[%zu].gateway", i);
        if (!json_is_string(g))
            return fail(err, n, path, w, "must be a string");
        int found = 0;
        for (size_t k = 0; k < ngw; k++)
            found |= strcmp(gws[k].id, json_string_value(g)) == 0;
        if (!found)
            return fail(err, n, path, w, "no such gateway (see \"gateways\")");
    }
    json_t *ob = json_object_get(root, "outbox");
    if (ob) {
        static const char *const keys[] = {"max_attempts", "backoff_ms", "backoff_max_ms", NULL};
        const char *badkey;
        if (!json_is_object(ob))
            return fail(err, n, path, "outbox", "must be an object");
        if (only(ob, keys, &badkey) != 0) {
            char m[120];
            snprintf(m, sizeof m, "unknown key \"%.60s\"", badkey);
            return fail(err, n, path, "outbox", m);
        }
        const struct {
            const char *k;
            long long lo, hi;
        } r[] = {{"max_attempts", 1, 1000},
                 {"backoff_ms", 10, 3600000},
                 {"backoff_max_ms", 10, 86400000}};
        for (size_t j = 0; j < 3; j++) {
            json_t *v = json_object_get(ob, r[j].k);
            if (v && (!json_is_integer(v) || json_integer_value(v) < r[j].lo ||
                      json_integer_value(v) > r[j].hi)) {
                char w[64], m[96];
                snprintf(w, sizeof w, "outbox.%s", r[j].k);
                snprintf(m, sizeof m, "must be a whole number %lld..%lld", r[j].lo, r[j].hi);
                return fail(err, n, path, w, m);
            }
        }
        app_outbox_conf oc;
        app_config_outbox(cfg, &oc);
        if (oc.backoff_max_ms < oc.backoff_ms)
            return fail(err, n, path, "outbox.backoff_max_ms", "must not be below backoff_ms");
    }
    return 0;
}

size_t app_config_gateways(const app_config *cfg, app_gw_conf *out, size_t max)
{
    char err[8];
    int bad;
    size_t k = collect(app_config__json(cfg), out, max, "", err, sizeof err, &bad);
    return bad ? 0 : k < max ? k : max;
}

const char *app_config_ep_gateway(const app_config *cfg, str number)
{
    json_t *eps = json_object_get(app_config__json(cfg), "entry_points"), *e;
    size_t i;
    json_array_foreach(eps, i, e)
    {
        json_t *num = json_object_get(e, "number");
        if (json_is_string(num) && str_eq(number, (str){json_string_value(num),
                                                         json_string_length(num)}))
            return json_string_value(json_object_get(e, "gateway"));
    }
    return NULL;
}

void app_config_outbox(const app_config *cfg, app_outbox_conf *out)
{
    json_t *ob = json_object_get(app_config__json(cfg), "outbox");
    out->max_attempts = 10;
    out->backoff_ms = 1000;
    out->backoff_max_ms = 300000;
    json_t *v;
    if ((v = json_object_get(ob, "max_attempts")) && json_is_integer(v))
        out->max_attempts = (int)json_integer_value(v);
    if ((v = json_object_get(ob, "backoff_ms")) && json_is_integer(v))
        out->backoff_ms = json_integer_value(v);
    if ((v = json_object_get(ob, "backoff_max_ms")) && json_is_integer(v))
        out->backoff_max_ms = json_integer_value(v);
}
