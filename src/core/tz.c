/*
 * tz.c: POSIX TZ rules (see tz.h). Calendar arithmetic follows Howard
 * Hinnant's days_from_civil / civil_from_days (public domain algorithms).
 */
#include "core/tz.h"

#include <string.h>

int64_t tz_days_from_civil(int y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

void tz_civil_from_days(int64_t z, int *y, int *m, int *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = (int)(yoe + era * 400 + (*m <= 2));
}

static int is_leap(int y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int month_days(int y, int m)
{
    static const int n[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return m == 2 && is_leap(y) ? 29 : n[m - 1];
}

/* ---- parsing ------------------------------------------------------------ */

typedef struct cur {
    const char *p, *end;
} cur;

static int peek(const cur *c)
{
    return c->p < c->end ? (unsigned char)*c->p : -1;
}

static int is_alpha(int ch)
{
    return (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z');
}

static int is_digit(int ch)
{
    return ch >= '0' && ch <= '9';
}

/* An unsigned number of at most 'digits' digits, at most 'max'. */
static int number(cur *c, int digits, long max, long *out)
{
    long v = 0;
    int k = 0;
    while (k < digits && is_digit(peek(c))) {
        v = v * 10 + (*c->p++ - '0');
        k++;
    }
    if (k == 0 || v > max)
        return -1;
    *out = v;
    return 0;
}

/* A zone abbreviation: three or more letters, or <...> of letters, digits,
 * '+' and '-'. */
static int name(cur *c)
{
    const char *start = c->p;
    if (peek(c) == '<') {
        c->p++;
        start = c->p;
        while (is_alpha(peek(c)) || is_digit(peek(c)) || peek(c) == '+' || peek(c) == '-')
            c->p++;
        if (peek(c) != '>' || c->p - start < 3)
            return -1;
        c->p++;
        return 0;
    }
    while (is_alpha(peek(c)))
        c->p++;
    return c->p - start >= 3 ? 0 : -1;
}

/* [+-]hh[:mm[:ss]] with hours at most 'max_h', in seconds. */
static int hms(cur *c, long max_h, int32_t *out)
{
    int sign = 1;
    if (peek(c) == '+' || peek(c) == '-')
        sign = *c->p++ == '-' ? -1 : 1;
    long h, m = 0, s = 0;
    if (number(c, 3, max_h, &h))
        return -1;
    if (peek(c) == ':') {
        c->p++;
        if (number(c, 2, 59, &m))
            return -1;
        if (peek(c) == ':') {
            c->p++;
            if (number(c, 2, 59, &s))
                return -1;
        }
    }
    *out = (int32_t)(sign * (h * 3600 + m * 60 + s));
    return 0;
}

static int when(cur *c, tz_when *w)
{
    long a, b, d;
    memset(w, 0, sizeof *w);
    if (peek(c) == 'J') {
        c->p++;
        if (number(c, 3, 365, &a) || a < 1)
            return -1;
        w->kind = 'J';
        w->day = (int16_t)a;
    } else if (peek(c) == 'M') {
        c->p++;
        if (number(c, 2, 12, &a) || a < 1 || peek(c) != '.')
            return -1;
        c->p++;
        if (number(c, 1, 5, &b) || b < 1 || peek(c) != '.')
            return -1;
        c->p++;
        if (number(c, 1, 6, &d))
            return -1;
        w->kind = 'M';
        w->month = (int8_t)a;
        w->week = (int8_t)b;
        w->wday = (int8_t)d;
    } else {
        if (number(c, 3, 365, &a))
            return -1;
        w->kind = 'D';
        w->day = (int16_t)a;
    }
    w->secs = 2 * 3600;
    if (peek(c) == '/') {
        c->p++;
        return hms(c, 167, &w->secs);
    }
    return 0;
}

int tz_parse(const char *s, size_t n, tz_rule *out)
{
    cur c = {s, s + n};
    tz_rule r = {0};
    int32_t off;
    if (name(&c) || hms(&c, 24, &off))
        return -1;
    r.std_off = -off;
    if (c.p == c.end) {
        *out = r;
        return 0;
    }
    if (name(&c))
        return -1;
    r.has_dst = 1;
    r.dst_off = r.std_off + 3600;
    if (peek(&c) != ',') {
        if (hms(&c, 24, &off))
            return -1;
        r.dst_off = -off;
    }
    /* Rules are required: a DST zone without them has no defined switch. */
    if (peek(&c) != ',')
        return -1;
    c.p++;
    if (when(&c, &r.start) || peek(&c) != ',')
        return -1;
    c.p++;
    if (when(&c, &r.end) || c.p != c.end)
        return -1;
    *out = r;
    return 0;
}

/* ---- evaluation --------------------------------------------------------- */

/* Local seconds since the epoch (of the wall clock in force before the
 * switch) at which 'w' happens in 'year'. */
static int64_t when_local(const tz_when *w, int year)
{
    int64_t jan1 = tz_days_from_civil(year, 1, 1), day;
    if (w->kind == 'J') {
        day = jan1 + w->day - 1 + (is_leap(year) && w->day >= 60);
    } else if (w->kind == 'D') {
        day = jan1 + w->day;
    } else {
        int64_t first = tz_days_from_civil(year, w->month, 1);
        int wd1 = (int)(((first + 4) % 7 + 7) % 7); /* 1970-01-01 was a Thursday */
        int dom = 1 + (w->wday - wd1 + 7) % 7 + (w->week - 1) * 7;
        while (dom > month_days(year, w->month))
            dom -= 7;
        day = first + dom - 1;
    }
    return day * 86400 + w->secs;
}

int32_t tz_offset(const tz_rule *r, int64_t utc)
{
    if (!r->has_dst)
        return r->std_off;
    int y, m, d;
    int64_t local = utc + r->std_off;
    int64_t days = local >= 0 ? local / 86400 : -((-local + 86399) / 86400);
    tz_civil_from_days(days, &y, &m, &d);
    int64_t start = when_local(&r->start, y) - r->std_off; /* in standard time */
    int64_t end = when_local(&r->end, y) - r->dst_off;     /* in daylight time */
    int dst = start < end ? utc >= start && utc < end : utc < end || utc >= start;
    return dst ? r->dst_off : r->std_off;
}

tz_local tz_localtime(const tz_rule *r, int64_t utc)
{
    int64_t local = utc + tz_offset(r, utc);
    int64_t days = local >= 0 ? local / 86400 : -((-local + 86399) / 86400);
    int64_t secs = local - days * 86400;
    tz_local t;
    tz_civil_from_days(days, &t.year, &t.month, &t.day);
    t.wday = (int)(((days + 3) % 7 + 7) % 7); /* 1970-01-01 was a Thursday: 3 */
    t.minute = (int)(secs / 60);
    return t;
}
