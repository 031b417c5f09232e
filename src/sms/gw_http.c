#include "sms/gw_http.h"

#include <errno.h>
#include <string.h>
#include <strings.h>

static int hexval(char c)
{
    return c >= '0' && c <= '9'   ? c - '0'
           : c >= 'a' && c <= 'f' ? c - 'a' + 10
           : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                  : -1;
}

int gw_http_form_get(str form, const char *key, buf *out)
{
    if (!form.p) /* an empty body */
        return -ENOENT;
    size_t kl = strlen(key);
    const char *p = form.p, *end = form.p + form.n;
    while (p && p < end) {
        const char *amp = memchr(p, '&', (size_t)(end - p));
        const char *fend = amp ? amp : end;
        const char *eq = memchr(p, '=', (size_t)(fend - p));
        if (eq && (size_t)(eq - p) == kl && memcmp(p, key, kl) == 0) {
            for (const char *q = eq + 1; q < fend; q++) {
                char c = *q;
                if (c == '+') {
                    c = ' ';
                } else if (c == '%') {
                    int h = q + 2 < fend ? hexval(q[1]) : -1, l = h >= 0 ? hexval(q[2]) : -1;
                    if (h < 0 || l < 0)
                        return -EINVAL;
                    c = (char)(h * 16 + l);
                    q += 2;
                }
                buf_add(out, &c, 1);
            }
            return 0;
        }
        p = amp ? amp + 1 : end;
    }
    return -ENOENT;
}

void gw_http_content_charset(const char *ct, char *out, size_t cap)
{
    out[0] = '\0';
    const char *c = strcasestr(ct, "charset=");
    if (!c || cap == 0)
        return;
    c += 8;
    if (*c == '"')
        c++;
    size_t n = 0;
    while (c[n] && c[n] != '"' && c[n] != ';' && c[n] != ' ' && n + 1 < cap)
        n++;
    memcpy(out, c, n);
    out[n] = '\0';
}

int gw_http_ref_parse(str s, int64_t *ref)
{
    if (s.n == 0 || s.n > 19)
        return -EINVAL;
    uint64_t v = 0;
    for (size_t i = 0; i < s.n; i++) {
        if (s.p[i] < '0' || s.p[i] > '9')
            return -EINVAL;
        v = v * 10 + (uint64_t)(s.p[i] - '0');
    }
    if (v == 0 || v > INT64_MAX)
        return -EINVAL;
    *ref = (int64_t)v;
    return 0;
}

int gw_http_fields_parse(const char *content_type, str body, const char *const *names, size_t n,
                        gw_http_fields *f)
{
    memset(f, 0, sizeof *f);
    if (n > GW_HTTP_FIELDS_MAX)
        return -EINVAL;
    for (size_t i = 0; i < n; i++)
        buf_init(&f->keep[i]);
    if (strncasecmp(content_type, "application/x-www-form-urlencoded", 33) == 0) {
        for (size_t i = 0; i < n; i++)
            if (gw_http_form_get(body, names[i], &f->keep[i]) == 0)
                f->v[i] = (str){f->keep[i].p ? f->keep[i].p : "", f->keep[i].n};
        return 0;
    }
    f->j = json_loadb(body.p ? body.p : "", body.n, 0, NULL);
    if (!json_is_object(f->j))
        return -EINVAL;
    for (size_t i = 0; i < n; i++) {
        json_t *v = json_object_get(f->j, names[i]);
        if (json_is_string(v))
            f->v[i] = (str){json_string_value(v), json_string_length(v)};
        else if (json_is_integer(v)) { /* ids and references may come as numbers */
            buf_printf(&f->keep[i], "%lld", (long long)json_integer_value(v));
            f->v[i] = (str){f->keep[i].p, f->keep[i].n};
        }
    }
    return 0;
}

void gw_http_fields_free(gw_http_fields *f)
{
    json_decref(f->j);
    f->j = NULL;
    for (size_t i = 0; i < GW_HTTP_FIELDS_MAX; i++)
        buf_free(&f->keep[i]);
}

