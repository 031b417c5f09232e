/*
 * flow_json: an entry point's flow (cc.h, cc_ep_flow) as JSON keys of the
 * entry point object. One reader and one writer for every place a flow is
 * written down: the configuration file, the admin API and its export, and
 * the event log (the store keeps EP_PUT's flow as this JSON).
 *
 *   "welcome_reply": "Hej! ...",
 *   "hours": {"time_zone": "Europe/Stockholm",
 *             "week": {"mon": ["08:00-12:00", "13:00-17:00"], ... "sun": []},
 *             "holidays": ["2026-12-24"],
 *             "closed_reply": "...", "closed_action": "queue" | "close"},
 *   "max_wait_s": 300, "overflow_queue": 2, "overflow_reply": "...",
 *   "gateway": "kannel1",
 *   "skills": [{"skill": 2, "level": 3}],
 *   "skill_words": [{"word": "svenska", "skill": 1, "level": 2}],
 *   "survey": {"language": "sv", "text": "...", "window_s": 3600}
 *
 * A survey without "text" gets the language's template (flow_json_survey_sv
 * or _en); what is written back always carries the text.
 *
 * "gateway" (the gateway the entry point's replies go through) is kept
 * with the flow so that it travels wherever the entry point does: the
 * file, the admin API, the event log.
 *
 * "time_zone" is an IANA zone name, turned into its POSIX rule by reading
 * the zone's TZif file under $TZDIR (default /usr/share/zoneinfo); a POSIX
 * rule itself ("CET-1CEST,M3.5.0,M10.5.0/3") is accepted too. The stored
 * form adds "tz_rule" so that replaying the log needs no files.
 */
#ifndef TEXTDESK_STORE_FLOW_JSON_H
#define TEXTDESK_STORE_FLOW_JSON_H

#include <jansson.h>
#include <stddef.h>

#include "core/cc.h"

/* The keys flow_json_parse reads (NULL-terminated), for callers that refuse
 * unknown keys. */
extern const char *const flow_json_keys[];
extern const char *const flow_json_survey_sv, *const flow_json_survey_en;

/* What is wrong with a flow: "key: problem" (for a person who reads the
 * file or the log), a stable code for a program that words it itself
 * (docs/api.md, "Field problems": "required", "range", "not_text", ...)
 * and, for "range", "too_long" and "too_many", the bounds (-1: none). */
typedef struct flow_json_err {
    char msg[256];
    const char *code; /* a string literal */
    long long min, max;
} flow_json_err;

/* Reads the flow keys of entry point object 'o' into 'out' (all zero when
 * there are none). Strings point into 'o' and the buffer 'rule' (at least
 * FLOW_JSON_RULE_MAX bytes; it receives the resolved POSIX rule): keep both
 * while 'out' is used. 'stored' 1: the event log's form ("tz_rule" taken as
 * is). Returns 1 when the object has a flow, 0 when it has none, or -1 with
 * the problem in 'err'. The core checks the rest (cc_flow_check). */
#define FLOW_JSON_RULE_MAX 256
int flow_json_parse(const json_t *o, int stored, cc_ep_flow *out, char *rule,
                    flow_json_err *err);

/* Adds the keys of a non-empty flow to object 'o' ('stored' 1: with
 * "tz_rule"). */
void flow_json_put(json_t *o, const cc_ep_flow *f, int stored);

/* A skill list, key 'key' of object 'o' (absent or null: none):
 * [{"skill": id, "level": 1-5}, ...], at most CC_SKILLS_MAX, each skill
 * once. Agents' proficiencies and queues' minimums use it too. Returns 0
 * or -1 with "key[i].field: problem" in 'err'. */
int flow_json_skills_parse(const json_t *o, const char *key, cc_skill *out, size_t *count,
                           flow_json_err *err);
/* A skill list as a new JSON array. */
json_t *flow_json_skills(const cc_skill *s, size_t n);

/* Whether 'f' is the empty flow. */
int flow_json_empty(const cc_ep_flow *f);

/* The POSIX rule of IANA zone 'name' into 'rule'. Returns 0 or -1. */
int flow_json_zone_rule(const char *name, char *rule, size_t n);

#endif
