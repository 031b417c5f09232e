/*
 * flow_json.c: entry-point flows as JSON (see flow_json.h).
 */
#include "store/flow_json.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/tz.h"

const char *const flow_json_keys[] = {"welcome_reply",  "hours",          "max_wait_s",
                                      "overflow_queue", "overflow_reply", "gateway",
                                      "skills",         "skill_words",    "survey",
                                      NULL};

/* The survey's templates when none is given (GSM 03.38 only: one SMS). */
const char *const flow_json_survey_sv =
    "Hur nöjd är du med hjälpen du fick? Svara med en siffra 1-5 (5 = mycket nöjd). "
    "Skriv gärna en kommentar efter siffran.";
const char *const flow_json_survey_en =
    "How did we do? Reply with a number 1-5 (5 = very satisfied). "
    "Feel free to add a comment after the number.";

static const char *const DAYS[7] = {"mon", "tue", "wed", "thu", "fri", "sat", "sun"};

/* A failure: the message "key: problem", its code (flow_json.h) and, for
 * "range" and "too_long", the bounds (-1: none). */
#define FAILP(c, lo, hi, ...)                                                        \
    do {                                                                             \
        snprintf(err->msg, sizeof err->msg, __VA_ARGS__);                            \
        err->code = (c);                                                             \
        err->min = (lo);                                                             \
        err->max = (hi);                                                             \
        return -1;                                                                   \
    } while (0)
#define FAIL(c, ...) FAILP(c, -1, -1, __VA_ARGS__)

int flow_json_empty(const cc_ep_flow *f)
{
    static const cc_ep_flow zero;
    return f->welcome.n == 0 && f->closed_text.n == 0 && f->overflow_text.n == 0 &&
           f->tz_name.n == 0 && f->tz_rule.n == 0 &&
           memcmp(f->week, zero.week, sizeof f->week) == 0 && f->hours == 0 &&
           f->n_holidays == 0 && f->closed_action == 0 && f->max_wait_ms == 0 &&
           f->overflow_queue == 0 && f->gateway.n == 0 && f->n_skills == 0 && f->n_words == 0 &&
           !f->survey;
}

/* ---- skills ------------------------------------------------------------- */

static int skill_item(const json_t *it, const char *key, size_t i, cc_skill *out, flow_json_err *err)
{
    json_t *id = json_object_get(it, "skill"), *lv = json_object_get(it, "level");
    if (!json_is_object(it) || !json_is_integer(id) || json_integer_value(id) < 1 ||
        json_integer_value(id) >= CC_MAX_ID)
        FAIL("bad_id", "%s[%zu].skill: must be a skill id", key, i);
    if (!json_is_integer(lv) || json_integer_value(lv) < 1 ||
        json_integer_value(lv) > CC_LEVEL_MAX)
        FAILP("range", 1, CC_LEVEL_MAX, "%s[%zu].level: must be a whole number from 1 to %d", key, i, CC_LEVEL_MAX);
    *out = (cc_skill){(uint32_t)json_integer_value(id), (uint32_t)json_integer_value(lv)};
    return 0;
}

int flow_json_skills_parse(const json_t *o, const char *key, cc_skill *out, size_t *count,
                           flow_json_err *err)
{
    *count = 0;
    json_t *a = json_object_get(o, key);
    if (!a || json_is_null(a))
        return 0;
    if (!json_is_array(a) || json_array_size(a) > CC_SKILLS_MAX)
        FAIL("bad_list", "%s: must be a list of at most %d {\"skill\": id, \"level\": 1-%d}", key,
             CC_SKILLS_MAX, CC_LEVEL_MAX);
    for (size_t i = 0; i < json_array_size(a); i++) {
        if (skill_item(json_array_get(a, i), key, i, &out[i], err))
            return -1;
        for (size_t k = 0; k < i; k++)
            if (out[k].skill == out[i].skill)
                FAIL("repeated", "%s[%zu].skill: skill %u is listed twice", key, i, out[i].skill);
    }
    *count = json_array_size(a);
    return 0;
}

json_t *flow_json_skills(const cc_skill *s, size_t n)
{
    json_t *a = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(a, json_pack("{s:i,s:i}", "skill", (json_int_t)s[i].skill,
                                           "level", (json_int_t)s[i].level));
    return a;
}

/* "survey": {"language": "sv" | "en", "text": "...", "window_s": 3600} */
static int parse_survey(const json_t *o, cc_ep_flow *f, flow_json_err *err)
{
    json_t *sv = json_object_get(o, "survey");
    if (!sv || json_is_null(sv))
        return 0;
    if (!json_is_object(sv))
        FAIL("not_object", "survey: must be {\"language\": \"sv\" or \"en\", \"text\": \"...\", "
             "\"window_s\": seconds}");
    const char *key;
    json_t *v;
    json_object_foreach(sv, key, v)
    {
        if (strcmp(key, "language") && strcmp(key, "text") && strcmp(key, "window_s"))
            FAIL("unknown_field", "survey.%s: unknown key (language, text, window_s)", key);
    }
    json_t *lang = json_object_get(sv, "language"), *text = json_object_get(sv, "text"),
           *win = json_object_get(sv, "window_s");
    const char *l = lang ? json_string_value(lang) : "sv";
    if (!l || (strcmp(l, "sv") && strcmp(l, "en")))
        FAIL("choice", "survey.language: must be \"sv\" or \"en\"");
    if (text && (!json_is_string(text) || json_string_length(text) == 0))
        FAIL("not_text", "survey.text: must be the question's text (leave it out for the default)");
    f->survey = 1;
    const char *t = text ? json_string_value(text)
                         : strcmp(l, "en") == 0 ? flow_json_survey_en : flow_json_survey_sv;
    f->survey_text = (str){t, text ? json_string_length(text) : strlen(t)};
    f->survey_window_ms = 3600 * 1000;
    if (win) {
        if (!json_is_integer(win) || json_integer_value(win) < 1 ||
            json_integer_value(win) > 7 * 86400)
            FAILP("range", 1, 7 * 86400, "survey.window_s: must be a whole number of seconds, 1 .. 604800");
        f->survey_window_ms = (int64_t)json_integer_value(win) * 1000;
    }
    return 0;
}

static int parse_words(const json_t *o, cc_ep_flow *f, flow_json_err *err)
{
    json_t *a = json_object_get(o, "skill_words");
    if (!a || json_is_null(a))
        return 0;
    if (!json_is_array(a) || json_array_size(a) > CC_FLOW_WORDS_MAX)
        FAIL("bad_list", "skill_words: must be a list of at most %d {\"word\": \"...\", \"skill\": id, "
             "\"level\": 1-%d}",
             CC_FLOW_WORDS_MAX, CC_LEVEL_MAX);
    for (size_t i = 0; i < json_array_size(a); i++) {
        json_t *it = json_array_get(a, i), *w = json_object_get(it, "word");
        if (skill_item(it, "skill_words", i, &f->words[i].skill, err))
            return -1;
        if (!json_is_string(w) || json_string_length(w) == 0)
            FAIL("word", "skill_words[%zu].word: must be a word (no blanks)", i);
        f->words[i].word = (str){json_string_value(w), json_string_length(w)};
    }
    f->n_words = json_array_size(a);
    return 0;
}

/* ---- time zones --------------------------------------------------------- */

int flow_json_zone_rule(const char *name, char *rule, size_t n)
{
    /* A zone name: letters, digits, '_', '+', '-', and '/' between parts. */
    size_t len = strlen(name);
    if (len == 0 || len > 64 || name[0] == '/' || strstr(name, ".."))
        return -1;
    for (size_t i = 0; i < len; i++) {
        char ch = name[i];
        if (!((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
              ch == '_' || ch == '+' || ch == '-' || ch == '/'))
            return -1;
    }
    const char *dir = getenv("TZDIR");
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir && *dir ? dir : "/usr/share/zoneinfo", name);
    FILE *fp = fopen(path, "rb");
    if (!fp)
        return -1;
    /* RFC 8536: version 2+ files end with "\n<POSIX rule>\n". */
    char head[5] = {0}, tail[FLOW_JSON_RULE_MAX + 2];
    int r = -1;
    if (fread(head, 1, 5, fp) == 5 && memcmp(head, "TZif", 4) == 0 && head[4] >= '2' &&
        fseek(fp, 0, SEEK_END) == 0) {
        long size = ftell(fp);
        long take = size < (long)sizeof tail ? size : (long)sizeof tail;
        if (size > 0 && fseek(fp, size - take, SEEK_SET) == 0 &&
            fread(tail, 1, (size_t)take, fp) == (size_t)take && tail[take - 1] == '\n') {
            long start = take - 2;
            while (start >= 0 && tail[start] != '\n')
                start--;
            size_t rn = (size_t)(take - 2 - start);
            if (start >= 0 && rn > 0 && rn < n) {
                memcpy(rule, tail + start + 1, rn);
                rule[rn] = '\0';
                r = 0;
            }
        }
    }
    fclose(fp);
    return r;
}

/* ---- reading ------------------------------------------------------------ */

static int text(const json_t *o, const char *key, const char *where, str *out,
                flow_json_err *err)
{
    json_t *v = json_object_get(o, key);
    if (!v || json_is_null(v))
        return 0;
    if (!json_is_string(v))
        FAIL("not_text", "%s%s: must be a string", where, key);
    *out = (str){json_string_value(v), json_string_length(v)};
    return 0;
}

/* "HH:MM" into minutes; "24:00" allowed as an end. */
static int hhmm(const char *s, int *out)
{
    if (strlen(s) != 5 || s[2] != ':')
        return -1;
    for (int i = 0; i < 5; i++)
        if (i != 2 && (s[i] < '0' || s[i] > '9'))
            return -1;
    int h = (s[0] - '0') * 10 + s[1] - '0', m = (s[3] - '0') * 10 + s[4] - '0';
    if (h > 24 || m > 59 || (h == 24 && m))
        return -1;
    *out = h * 60 + m;
    return 0;
}

static int parse_week(const json_t *week, cc_ep_flow *f, flow_json_err *err)
{
    if (!json_is_object(week))
        FAIL("not_object", "hours.week: must be an object of days (mon..sun)");
    const char *key;
    json_t *spans;
    json_object_foreach((json_t *)week, key, spans)
    {
        int d = 0;
        while (d < 7 && strcmp(DAYS[d], key) != 0)
            d++;
        if (d == 7)
            FAIL("unknown_day", "hours.week.%s: unknown day (mon, tue, wed, thu, fri, sat, sun)", key);
        if (!json_is_array(spans) || json_array_size(spans) > CC_HOURS_SPANS)
            FAIL("span", "hours.week.%s: must be a list of at most %d \"HH:MM-HH:MM\" spans", key,
                 CC_HOURS_SPANS);
        size_t i;
        json_t *sp;
        json_array_foreach(spans, i, sp)
        {
            const char *s = json_is_string(sp) ? json_string_value(sp) : "";
            char a[6] = {0}, b[6] = {0};
            int from, to;
            if (strlen(s) != 11 || s[5] != '-' || (memcpy(a, s, 5), memcpy(b, s + 6, 5),
                                                   hhmm(a, &from) || hhmm(b, &to)) ||
                from >= to || from == 1440)
                FAIL("span", "hours.week.%s[%zu]: must be \"HH:MM-HH:MM\" with the start before the "
                     "end (24:00 ends the day)",
                     key, i);
            for (size_t k = 0; k < i; k++)
                if (from < f->week[d][k][1] && f->week[d][k][0] < to)
                    FAIL("overlap", "hours.week.%s[%zu]: overlaps an earlier span", key, i);
            f->week[d][i][0] = (uint16_t)from;
            f->week[d][i][1] = (uint16_t)to;
        }
    }
    return 0;
}

static int parse_hours(const json_t *h, int stored, cc_ep_flow *f, char *rule,
                       flow_json_err *err)
{
    if (!json_is_object(h))
        FAIL("not_object", "hours: must be an object");
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)h, key, v)
    {
        if (strcmp(key, "time_zone") && strcmp(key, "week") && strcmp(key, "holidays") &&
            strcmp(key, "closed_reply") && strcmp(key, "closed_action") &&
            !(stored && strcmp(key, "tz_rule") == 0))
            FAIL("unknown_field", "hours.%s: unknown key", key);
    }
    f->hours = 1;
    if (text(h, "time_zone", "hours.", &f->tz_name, err))
        return -1;
    if (f->tz_name.n == 0)
        FAIL("required", "hours.time_zone: required (an IANA zone name such as Europe/Stockholm)");
    if (stored) {
        if (text(h, "tz_rule", "hours.", &f->tz_rule, err))
            return -1;
    } else {
        tz_rule tr;
        if (flow_json_zone_rule(f->tz_name.p, rule, FLOW_JSON_RULE_MAX) == 0) {
            f->tz_rule = str_c(rule);
        } else if (tz_parse(f->tz_name.p, f->tz_name.n, &tr) == 0) {
            f->tz_rule = f->tz_name; /* a POSIX rule given directly */
        } else {
            FAIL("time_zone", "hours.time_zone: unknown time zone '%s' (an IANA name such as "
                 "Europe/Stockholm, or a POSIX TZ rule)",
                 f->tz_name.p);
        }
    }
    json_t *week = json_object_get(h, "week");
    if (!week)
        FAIL("required", "hours.week: required (the opening spans per day; a missing day is closed)");
    if (parse_week(week, f, err))
        return -1;
    json_t *hol = json_object_get(h, "holidays");
    if (hol) {
        if (!json_is_array(hol) || json_array_size(hol) > CC_HOLIDAYS_MAX)
            FAIL("date", "hours.holidays: must be a list of at most %d dates", CC_HOLIDAYS_MAX);
        size_t i;
        json_t *d;
        json_array_foreach(hol, i, d)
        {
            const char *s = json_is_string(d) ? json_string_value(d) : "";
            unsigned y, m, day;
            char end;
            int y2, m2, d2;
            if (strlen(s) != 10 || sscanf(s, "%4u-%2u-%2u%c", &y, &m, &day, &end) != 3 ||
                y < 1970 || m < 1 || m > 12 || day < 1 ||
                (tz_civil_from_days(tz_days_from_civil((int)y, (int)m, (int)day), &y2, &m2,
                                    &d2),
                 m2 != (int)m || d2 != (int)day))
                FAIL("date", "hours.holidays[%zu]: must be a real date YYYY-MM-DD", i);
            f->holidays[f->n_holidays++] = y * 10000 + m * 100 + day;
        }
    }
    if (text(h, "closed_reply", "hours.", &f->closed_text, err))
        return -1;
    json_t *act = json_object_get(h, "closed_action");
    if (act) {
        const char *a = json_is_string(act) ? json_string_value(act) : "";
        if (strcmp(a, "queue") == 0)
            f->closed_action = CC_CLOSED_QUEUE;
        else if (strcmp(a, "close") == 0)
            f->closed_action = CC_CLOSED_CLOSE;
        else
            FAIL("choice", "hours.closed_action: must be \"queue\" or \"close\"");
    }
    return 0;
}

int flow_json_parse(const json_t *o, int stored, cc_ep_flow *f, char *rule, flow_json_err *err)
{
    memset(f, 0, sizeof *f);
    if (text(o, "welcome_reply", "", &f->welcome, err) ||
        text(o, "overflow_reply", "", &f->overflow_text, err) ||
        text(o, "gateway", "", &f->gateway, err))
        return -1;
    json_t *h = json_object_get(o, "hours");
    if (h && !json_is_null(h) && parse_hours(h, stored, f, rule, err))
        return -1;
    json_t *w = json_object_get(o, "max_wait_s");
    if (w) {
        if (!json_is_integer(w) || json_integer_value(w) < 0 ||
            json_integer_value(w) > 7 * 86400)
            FAILP("range", 0, 7 * 86400, "max_wait_s: must be a whole number of seconds, 0 .. 604800");
        f->max_wait_ms = (int64_t)json_integer_value(w) * 1000;
    }
    json_t *q = json_object_get(o, "overflow_queue");
    if (q) {
        if (!json_is_integer(q) || json_integer_value(q) < 0 ||
            json_integer_value(q) >= CC_MAX_ID)
            FAIL("bad_id", "overflow_queue: must be a queue id (0: none)");
        f->overflow_queue = (uint32_t)json_integer_value(q);
    }
    if (flow_json_skills_parse(o, "skills", f->skills, &f->n_skills, err) ||
        parse_words(o, f, err) || parse_survey(o, f, err))
        return -1;
    const char *what;
    if (cc_flow_check(f, &what) != 0) {
        if (strcmp(what, "skills") == 0)
            FAILP("too_many", -1, CC_SKILLS_MAX, "skills: at most %d skills and skill words together, each skill once",
                 CC_SKILLS_MAX);
        if (strcmp(what, "survey") == 0)
            FAILP("too_long", -1, CC_FLOW_TEXT_MAX, "survey.text: must be at most %d characters of valid UTF-8", CC_FLOW_TEXT_MAX);
        if (strcmp(what, "skill_words") == 0)
            FAIL("word", "skill_words: each word at most %d bytes of valid UTF-8, without blanks",
                 CC_NAME_MAX);
        if (strcmp(what, "max_wait_s") == 0)
            FAIL("needs_overflow", "max_wait_s: a maximum wait needs an overflow_queue or an overflow_reply, "
                 "and those need a maximum wait");
        if (strcmp(what, "hours") == 0)
            FAIL("needs_hours", "hours: required for closed_reply and closed_action");
        if (strcmp(what, "time_zone") == 0)
            FAIL("time_zone", "hours.time_zone: the zone's rule is not a POSIX TZ rule");
        FAILP("too_long", -1, CC_FLOW_TEXT_MAX, "%s: must be at most %d characters of valid UTF-8", what, CC_FLOW_TEXT_MAX);
    }
    return flow_json_empty(f) ? 0 : 1;
}

/* ---- writing ------------------------------------------------------------ */

static void put_text(json_t *o, const char *key, str s)
{
    if (s.n)
        json_object_set_new(o, key, json_stringn(s.p, s.n));
}

void flow_json_put(json_t *o, const cc_ep_flow *f, int stored)
{
    if (flow_json_empty(f))
        return;
    put_text(o, "welcome_reply", f->welcome);
    if (f->hours) {
        json_t *h = json_object(), *week = json_object(), *hol = json_array();
        put_text(h, "time_zone", f->tz_name);
        if (stored)
            put_text(h, "tz_rule", f->tz_rule);
        for (int d = 0; d < 7; d++) {
            json_t *spans = json_array();
            for (int i = 0; i < CC_HOURS_SPANS; i++) {
                const uint16_t *s = f->week[d][i];
                if (s[0] >= s[1])
                    continue;
                char b[16];
                snprintf(b, sizeof b, "%02u:%02u-%02u:%02u", s[0] / 60u, s[0] % 60u,
                         s[1] / 60u, s[1] % 60u);
                json_array_append_new(spans, json_string(b));
            }
            json_object_set_new(week, DAYS[d], spans);
        }
        json_object_set_new(h, "week", week);
        for (size_t i = 0; i < f->n_holidays; i++) {
            char b[16];
            uint32_t d = f->holidays[i];
            snprintf(b, sizeof b, "%04u-%02u-%02u", d / 10000, d / 100 % 100, d % 100);
            json_array_append_new(hol, json_string(b));
        }
        json_object_set_new(h, "holidays", hol);
        put_text(h, "closed_reply", f->closed_text);
        json_object_set_new(h, "closed_action",
                            json_string(f->closed_action == CC_CLOSED_CLOSE ? "close" : "queue"));
        json_object_set_new(o, "hours", h);
    }
    if (f->max_wait_ms) {
        json_object_set_new(o, "max_wait_s", json_integer(f->max_wait_ms / 1000));
        if (f->overflow_queue)
            json_object_set_new(o, "overflow_queue", json_integer(f->overflow_queue));
        put_text(o, "overflow_reply", f->overflow_text);
    }
    put_text(o, "gateway", f->gateway);
    if (f->survey) {
        json_t *sv = json_pack("{s:s%,s:I}", "text", f->survey_text.p, f->survey_text.n,
                               "window_s", (json_int_t)(f->survey_window_ms / 1000));
        /* shown (not stored): which template the text is, for the admin
         * page's choice; a text of one's own has none */
        const char *lang = str_eq(f->survey_text, str_c(flow_json_survey_sv))   ? "sv"
                           : str_eq(f->survey_text, str_c(flow_json_survey_en)) ? "en"
                                                                                : NULL;
        if (lang && !stored)
            json_object_set_new(sv, "language", json_string(lang));
        json_object_set_new(o, "survey", sv);
    }
    if (f->n_skills)
        json_object_set_new(o, "skills", flow_json_skills(f->skills, f->n_skills));
    if (f->n_words) {
        json_t *a = json_array();
        for (size_t i = 0; i < f->n_words; i++)
            json_array_append_new(
                a, json_pack("{s:s%,s:i,s:i}", "word", f->words[i].word.p,
                             f->words[i].word.n, "skill", (json_int_t)f->words[i].skill.skill,
                             "level", (json_int_t)f->words[i].skill.level));
        json_object_set_new(o, "skill_words", a);
    }
}
