#include "util/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "util/buf.h"
#include "util/loop_clock.h"

/* The process's one log level: set once at start, read everywhere. */
static int g_level = LOG_INFO;
static const char *const names[] = {"debug", "info", "warn", "error"};

void log_set_level(int level)
{
    g_level = level;
}

int log_set_level_name(const char *name)
{
    for (int i = 0; i < 4; i++)
        if (strcmp(name, names[i]) == 0) {
            g_level = i;
            return 0;
        }
    return -1;
}

static void json_str(buf *b, const char *s)
{
    buf_add(b, "\"", 1);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\')
            buf_printf(b, "\\%c", *p);
        else if (*p < 0x20)
            buf_printf(b, "\\u%04x", *p);
        else
            buf_add(b, p, 1);
    }
    buf_add(b, "\"", 1);
}

void log_kv(int level, const char *msg, ...)
{
    if (level < g_level || level < 0 || level > LOG_ERROR)
        return;
    int64_t ms = loop_clock_wall();
    time_t sec = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&sec, &tm);
    char t[32];
    strftime(t, sizeof t, "%Y-%m-%dT%H:%M:%S", &tm);
    buf b;
    buf_init(&b);
    buf_printf(&b, "{\"ts\":\"%s.%03ldZ\",\"level\":\"%s\",\"msg\":", t, (long)(ms % 1000),
               names[level]);
    json_str(&b, msg);
    va_list ap;
    va_start(ap, msg);
    for (const char *k; (k = va_arg(ap, const char *));) {
        const char *v = va_arg(ap, const char *);
        buf_add(&b, ",", 1);
        json_str(&b, k);
        buf_add(&b, ":", 1);
        json_str(&b, v ? v : "");
    }
    va_end(ap);
    buf_add(&b, "}\n", 2);
    fwrite(b.p, 1, b.n, stderr);
    buf_free(&b);
}
