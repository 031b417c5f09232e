/*
 * config_gw.c: the "gateways" and "outbox" sections of the configuration
 * and each entry point's "gateway" (docs/configuration.md). Validated
 * completely when the file is loaded, like the rest of config.c. Each
 * gateway's "id" and "type" are read here, the rest of its object by its
 * type (sms/gw.h, gw_type.config).
 */
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "app/gateways.h"
#include "sms/gw_conf.h"

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

/* One gateway of the list: its id and type here, the rest by its type
 * (gw.h); problems as "PATH: gateways[I].KEY: problem". */
static int check_gw(json_t *e, const char *path, const char *w, char *err, size_t n,
                    app_gw_conf *c)
{
    char ww[200], sub[300];
    memset(c, 0, sizeof *c);
    if (!json_is_object(e))
        return fail(err, n, path, w, "must be an object");
    const char *type;
    if (gw_conf_str(e, "id", 1, &c->id, sub, sizeof sub) ||
        gw_conf_str(e, "type", 1, &type, sub, sizeof sub)) {
        snprintf(err, n, "%s: %s%s", path, w, sub);
        return -1;
    }
    if (!gw_conf_id_ok(c->id, APP_GW_ID_MAX)) {
        snprintf(ww, sizeof ww, "%s.id", w);
        return fail(err, n, path, ww, "must be 1..32 of A-Z a-z 0-9 - _");
    }
    c->type = gw_type_find(type);
    if (!c->type) {
        char m[240];
        snprintf(ww, sizeof ww, "%s.type", w);
        snprintf(m, sizeof m, "must be %s", gw_type_names());
        return fail(err, n, path, ww, m);
    }
    if (c->type->config(e, c->id, &c->cfg, sub, sizeof sub) != 0) {
        snprintf(err, n, "%s: %s%s", path, w, sub);
        return -1;
    }
    return 0;
}

void app_config_gateways_free(app_gw_conf *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (v[i].type)
            v[i].type->config_free(v[i].cfg);
}

static size_t collect(json_t *root, app_gw_conf *out, size_t max, const char *path, char *err,
                      size_t n, int *bad)
{
    json_t *list = json_object_get(root, "gateways");
    *bad = 0;
    if (!list) {
        if (max) {
            memset(&out[0], 0, sizeof out[0]);
            out[0].type = gw_type_find("sim");
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
            break;
        }
        int twice = 0;
        for (size_t j = 0; j < k && j < max; j++)
            twice |= strcmp(out[j].id, c.id) == 0;
        if (twice || (strcmp(c.type->name, "sim") == 0 && ++sims > 1)) {
            *bad = fail(err, n, path, w, twice ? "id used twice" : "at most one simulator");
            app_config_gateways_free(&c, 1);
            break;
        }
        if (k < max)
            out[k] = c;
        else
            app_config_gateways_free(&c, 1);
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
    app_config_gateways_free(gws, ngw < APP_GW_MAX ? ngw : APP_GW_MAX);
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
    if (k > max)
        k = max;
    if (bad)
        app_config_gateways_free(out, k);
    return bad ? 0 : k;
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
