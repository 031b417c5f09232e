/*
 * gw_conf: reading a gateway's object of the configuration's "gateways"
 * list, for the gateway types' 'config' (gw.h). Every problem is written to
 * 'err' as a suffix of the object's place: ".KEY: problem" or ": problem",
 * which the caller prefixes with "FILE: gateways[I]". Each returns 0 or -1.
 */
#ifndef TEXTDESK_SMS_GW_CONF_H
#define TEXTDESK_SMS_GW_CONF_H

#include <jansson.h>
#include <stddef.h>

/* Writes ".KEY: msg" ('key' NULL: ": msg") and returns -1. */
int gw_conf_fail(char *err, size_t n, const char *key, const char *msg);
/* Refuses keys other than 'keys' (NULL-terminated). */
int gw_conf_only(const json_t *o, const char *const *keys, char *err, size_t n);
/* A non-empty string; NULL when absent and not 'need'. */
int gw_conf_str(const json_t *o, const char *key, int need, const char **out, char *err,
                size_t n);
/* At most 'max' printable ASCII characters, no blanks (an SMPP field). */
int gw_conf_ascii(const json_t *o, const char *key, int need, size_t max, const char **out,
                  char *err, size_t n);
/* A whole number lo..hi; '*out' keeps its default when absent. */
int gw_conf_int(const json_t *o, const char *key, long long lo, long long hi, long long *out,
                char *err, size_t n);
int gw_conf_bool(const json_t *o, const char *key, int *out, char *err, size_t n);
/* An http://IPv4[:port][/path] URL the loop's client can reach ('base':
 * no path, we append to it). */
int gw_conf_url(const json_t *o, const char *key, int base, const char **out, char *err,
                size_t n);
/* Whether 's' is 1..max of A-Z a-z 0-9 - _. */
int gw_conf_id_ok(const char *s, size_t max);

#endif
