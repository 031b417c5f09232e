#include "sms/gw_conf.h"

#include <stdio.h>
#include <string.h>

#include "net/net_http.h"

int gw_conf_fail(char *err, size_t n, const char *key, const char *msg)
{
    if (key)
        snprintf(err, n, ".%s: %s", key, msg);
    else
        snprintf(err, n, ": %s", msg);
    return -1;
}

int gw_conf_only(const json_t *o, const char *const *keys, char *err, size_t n)
{
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)o, key, v)
    {
        int ok = 0;
        for (const char *const *k = keys; *k; k++)
            ok |= strcmp(*k, key) == 0;
        if (!ok) {
            char m[120];
            snprintf(m, sizeof m, "unknown key \"%.60s\"", key);
            return gw_conf_fail(err, n, NULL, m);
        }
    }
    return 0;
}

int gw_conf_str(const json_t *o, const char *key, int need, const char **out, char *err,
                size_t n)
{
    json_t *v = json_object_get(o, key);
    *out = NULL;
    if (!v) {
        if (!need)
            return 0;
        char m[96];
        snprintf(m, sizeof m, "%s is required", key);
        return gw_conf_fail(err, n, key, m);
    }
    if (!json_is_string(v) || json_string_length(v) == 0)
        return gw_conf_fail(err, n, key, "must be a non-empty string");
    *out = json_string_value(v);
    return 0;
}

int gw_conf_ascii(const json_t *o, const char *key, int need, size_t max, const char **out,
                  char *err, size_t n)
{
    if (gw_conf_str(o, key, need, out, err, n))
        return -1;
    if (!*out)
        return 0;
    size_t l = strlen(*out);
    int ok = l <= max;
    for (size_t i = 0; i < l; i++)
        ok &= (*out)[i] > ' ' && (*out)[i] < 0x7f;
    if (ok)
        return 0;
    char m[120];
    snprintf(m, sizeof m, "must be at most %zu printable ASCII characters (SMPP 3.4 limit)", max);
    return gw_conf_fail(err, n, key, m);
}

int gw_conf_int(const json_t *o, const char *key, long long lo, long long hi, long long *out,
                char *err, size_t n)
{
    json_t *v = json_object_get(o, key);
    if (!v)
        return 0;
    if (!json_is_integer(v) || json_integer_value(v) < lo || json_integer_value(v) > hi) {
        char m[96];
        snprintf(m, sizeof m, "must be a whole number %lld..%lld", lo, hi);
        return gw_conf_fail(err, n, key, m);
    }
    *out = json_integer_value(v);
    return 0;
}

int gw_conf_bool(const json_t *o, const char *key, int *out, char *err, size_t n)
{
    json_t *v = json_object_get(o, key);
    if (!v)
        return 0;
    if (!json_is_boolean(v))
        return gw_conf_fail(err, n, key, "must be true or false");
    *out = json_is_true(v);
    return 0;
}

static const char *url_problem(const char *url, int base)
{
    char host[256], path[2048];
    int port;
    if (net_http_parse_url(url, host, sizeof host, &port, path, sizeof path) != 0)
        return "must be an http:// or https:// URL with a host name or IPv4 address";
    if (base && strcmp(path, "/") == 0 && url[strlen(url) - 1] == '/')
        return "must not end with /";
    if (base && strcmp(path, "/") != 0)
        return "must be http[s]://HOST:PORT with no path";
    return NULL;
}

int gw_conf_url(const json_t *o, const char *key, int base, const char **out, char *err,
                size_t n)
{
    if (gw_conf_str(o, key, 1, out, err, n))
        return -1;
    const char *p = url_problem(*out, base);
    return p ? gw_conf_fail(err, n, key, p) : 0;
}

int gw_conf_id_ok(const char *s, size_t max)
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
