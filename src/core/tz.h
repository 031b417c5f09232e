/*
 * tz: local time from UTC under a POSIX TZ rule ("CET-1CEST,M3.5.0,M10.5.0/3"),
 * for the entry points' business hours.
 *
 * Pure: it reads no files and no clock. The edge turns an IANA zone name
 * ("Europe/Stockholm") into its rule by reading the last line of the zone's
 * TZif file (RFC 8536 section 3.3: the footer holds exactly this rule for
 * every instant after the file's last transition); the core only evaluates
 * the rule. Hand-written because libc's only interface to time zones is the
 * process-global TZ variable and localtime_r, which read files and cannot be
 * called from the pure core; the rule language is small (POSIX.1-2017
 * section 8.3, with RFC 8536's extension of hours in -167..167).
 */
#ifndef TEXTDESK_CORE_TZ_H
#define TEXTDESK_CORE_TZ_H

#include <stddef.h>
#include <stdint.h>

/* When daylight saving time starts or ends, in local time of the rule in
 * force before it. */
typedef struct tz_when {
    char kind;    /* 'J': Julian day 1..365 without Feb 29; 'D': day 0..365;
                     'M': month, week, weekday */
    int16_t day;  /* J, D */
    int8_t month; /* M: 1..12 */
    int8_t week;  /* M: 1..5 (5: the last) */
    int8_t wday;  /* M: 0 (Sunday) .. 6 */
    int32_t secs; /* time of day, -167 h .. 167 h; default 02:00 */
} tz_when;

typedef struct tz_rule {
    int32_t std_off; /* seconds east of UTC (POSIX writes the opposite sign) */
    int32_t dst_off;
    int has_dst;
    tz_when start, end;
} tz_rule;

/* Parses a POSIX TZ rule of 'n' bytes. Returns 0, or -1 when it is not
 * one (the rule is then unchanged). */
int tz_parse(const char *s, size_t n, tz_rule *out);

/* The offset east of UTC, in seconds, in force at 'utc' (seconds since
 * 1970-01-01T00:00:00Z). */
int32_t tz_offset(const tz_rule *r, int64_t utc);

/* A local calendar moment. */
typedef struct tz_local {
    int year, month, day; /* month 1..12, day 1..31 */
    int wday;             /* 0 Monday .. 6 Sunday (ISO order) */
    int minute;           /* minute of the day, 0..1439 */
} tz_local;

/* 'utc' (seconds since the epoch) as local time under 'r'. */
tz_local tz_localtime(const tz_rule *r, int64_t utc);

/* Days since 1970-01-01 of a proleptic Gregorian date, and back. */
int64_t tz_days_from_civil(int y, int m, int d);
void tz_civil_from_days(int64_t days, int *y, int *m, int *d);

#endif
