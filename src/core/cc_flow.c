/*
 * cc_flow.c: entry-point flows (cc.h, cc_ep_flow): checking a flow, the
 * core's owned copy of it, and business hours at an instant. The decisions
 * that use them (welcome, out-of-hours reply, overflow) are in cc.c.
 */
#include <stdlib.h>
#include <string.h>

#include "core/cc_int.h"
#include "core/tz.h"
#include "util/utf8.h"
#include "util/xalloc.h"

static int text_ok(str s)
{
    long n = utf8_count(s.p, s.n);
    return n >= 0 && n <= CC_FLOW_TEXT_MAX;
}

static int date_ok(uint32_t d)
{
    int y = (int)(d / 10000), m = (int)(d / 100 % 100), day = (int)(d % 100);
    if (y < 1970 || y > 9999 || m < 1 || m > 12 || day < 1)
        return 0;
    int y2, m2, d2;
    tz_civil_from_days(tz_days_from_civil(y, m, day), &y2, &m2, &d2);
    return y2 == y && m2 == m && d2 == day;
}

int cc_flow_check(const cc_ep_flow *f, const char **what)
{
#define BAD(name)                                                                    \
    do {                                                                             \
        *what = (name);                                                              \
        return -CC_E_INVALID;                                                        \
    } while (0)
    if (!text_ok(f->welcome))
        BAD("welcome_reply");
    if (!text_ok(f->closed_text))
        BAD("closed_reply");
    if (!text_ok(f->overflow_text))
        BAD("overflow_reply");
    if (f->tz_name.n > CC_NAME_MAX || f->tz_rule.n > CC_NAME_MAX)
        BAD("time_zone");
    if (f->hours) {
        tz_rule r;
        if (tz_parse(f->tz_rule.p, f->tz_rule.n, &r) != 0)
            BAD("time_zone");
        for (int d = 0; d < 7; d++)
            for (int i = 0; i < CC_HOURS_SPANS; i++) {
                const uint16_t *s = f->week[d][i];
                if ((s[0] || s[1]) && (s[0] >= s[1] || s[1] > 1440))
                    BAD("week");
            }
        if (f->n_holidays > CC_HOLIDAYS_MAX)
            BAD("holidays");
        for (size_t i = 0; i < f->n_holidays; i++)
            if (!date_ok(f->holidays[i]))
                BAD("holidays");
        if (f->closed_action != CC_CLOSED_QUEUE && f->closed_action != CC_CLOSED_CLOSE)
            BAD("closed_action");
    } else if (f->closed_text.n || f->closed_action || f->n_holidays) {
        BAD("hours"); /* out-of-hours settings without hours */
    }
    if (f->max_wait_ms < 0 || f->max_wait_ms > 7LL * 86400 * 1000)
        BAD("max_wait_s");
    if (f->max_wait_ms && !f->overflow_queue && !f->overflow_text.n)
        BAD("max_wait_s"); /* a maximum wait needs somewhere to go or a reply */
    if (!f->max_wait_ms && (f->overflow_queue || f->overflow_text.n))
        BAD("max_wait_s"); /* an overflow without a maximum never happens */
    if (f->overflow_queue >= CC_MAX_ID)
        BAD("overflow_queue");
    if (f->survey && (f->survey_text.n == 0 || f->survey_window_ms < 1000 ||
                      f->survey_window_ms > 7LL * 86400 * 1000))
        BAD("survey");
    if (!text_ok(f->survey_text) || (!f->survey && (f->survey_text.n || f->survey_window_ms)))
        BAD("survey");
    if (f->gateway.n > CC_GATEWAY_ID_MAX)
        BAD("gateway");
    if (f->n_skills > CC_SKILLS_MAX || f->n_words > CC_FLOW_WORDS_MAX ||
        f->n_skills + f->n_words > CC_SKILLS_MAX)
        BAD("skills");
    for (size_t i = 0; i < f->n_skills; i++) {
        if (f->skills[i].level < 1 || f->skills[i].level > CC_LEVEL_MAX ||
            f->skills[i].skill == 0 || f->skills[i].skill >= CC_MAX_ID)
            BAD("skills");
        for (size_t k = 0; k < i; k++)
            if (f->skills[k].skill == f->skills[i].skill)
                BAD("skills");
    }
    for (size_t i = 0; i < f->n_words; i++) {
        const cc_flow_word *w = &f->words[i];
        if (w->skill.level < 1 || w->skill.level > CC_LEVEL_MAX || w->skill.skill == 0 ||
            w->skill.skill >= CC_MAX_ID || w->word.n == 0 || w->word.n > CC_NAME_MAX ||
            utf8_count(w->word.p, w->word.n) < 0)
            BAD("skill_words");
        for (size_t k = 0; k < w->word.n; k++)
            if ((unsigned char)w->word.p[k] <= ' ')
                BAD("skill_words");
    }
    return 0;
#undef BAD
}

int cc_flow_open(const cc_ep_flow *f, int64_t now)
{
    if (!f || !f->hours)
        return 1;
    tz_rule r;
    if (tz_parse(f->tz_rule.p, f->tz_rule.n, &r) != 0)
        return 1; /* checked when put: not reached */
    int64_t secs = now >= 0 ? now / 1000 : -((-now + 999) / 1000);
    tz_local t = tz_localtime(&r, secs);
    uint32_t today = (uint32_t)(t.year * 10000 + t.month * 100 + t.day);
    for (size_t i = 0; i < f->n_holidays; i++)
        if (f->holidays[i] == today)
            return 0;
    for (int i = 0; i < CC_HOURS_SPANS; i++) {
        const uint16_t *s = f->week[t.wday][i];
        if (s[0] < s[1] && t.minute >= s[0] && t.minute < s[1])
            return 1;
    }
    return 0;
}

static str own(str s)
{
    return s.n ? (str){xmemdup0(s.p, s.n), s.n} : STR_NULL;
}

static void drop(str *s)
{
    free((void *)s->p);
    *s = STR_NULL;
}

static int word_char(unsigned char ch)
{
    return ch >= 0x80 || (ch >= '0' && ch <= '9') || ((ch | 0x20) >= 'a' && (ch | 0x20) <= 'z');
}

static unsigned char fold(unsigned char ch)
{
    return ch >= 'A' && ch <= 'Z' ? (unsigned char)(ch | 0x20) : ch;
}

/* Whether 'w' occurs in 't' as a whole word (ASCII letters folded). */
static int has_word(str t, str w)
{
    for (size_t i = 0; w.n && i + w.n <= t.n; i++) {
        if (i > 0 && word_char((unsigned char)t.p[i - 1]))
            continue;
        if (i + w.n < t.n && word_char((unsigned char)t.p[i + w.n]))
            continue;
        size_t k = 0;
        while (k < w.n && fold((unsigned char)t.p[i + k]) == fold((unsigned char)w.p[k]))
            k++;
        if (k == w.n)
            return 1;
    }
    return 0;
}

static void add_skill(cc_skill *out, size_t *n, cc_skill s)
{
    size_t i = 0;
    while (i < *n && out[i].skill < s.skill)
        i++;
    if (i < *n && out[i].skill == s.skill) {
        if (s.level > out[i].level)
            out[i].level = s.level;
        return;
    }
    memmove(out + i + 1, out + i, (*n - i) * sizeof *out);
    out[i] = s;
    (*n)++;
}

size_t cc_flow_skills(const cc_ep_flow *f, str text, cc_skill *out)
{
    size_t n = 0;
    for (size_t i = 0; i < f->n_skills && n < CC_SKILLS_MAX; i++)
        add_skill(out, &n, f->skills[i]);
    for (size_t i = 0; i < f->n_words && n < CC_SKILLS_MAX; i++)
        if (has_word(text, f->words[i].word))
            add_skill(out, &n, f->words[i].skill);
    return n;
}

int cc__flow_names_skill(const cc_ep_flow *f, uint32_t skill)
{
    for (size_t i = 0; i < f->n_skills; i++)
        if (f->skills[i].skill == skill)
            return 1;
    for (size_t i = 0; i < f->n_words; i++)
        if (f->words[i].skill.skill == skill)
            return 1;
    return 0;
}

void cc__flow_free(cc_ep_flow *f)
{
    for (size_t i = 0; i < f->n_words && i < CC_FLOW_WORDS_MAX; i++)
        drop(&f->words[i].word);
    drop(&f->welcome);
    drop(&f->closed_text);
    drop(&f->overflow_text);
    drop(&f->tz_name);
    drop(&f->tz_rule);
    drop(&f->survey_text);
    drop(&f->gateway);
    memset(f, 0, sizeof *f);
}

void cc__flow_set(cc_ep_flow *dst, const cc_ep_flow *src)
{
    cc__flow_free(dst);
    if (!src)
        return;
    *dst = *src;
    dst->welcome = own(src->welcome);
    dst->closed_text = own(src->closed_text);
    dst->overflow_text = own(src->overflow_text);
    dst->tz_name = own(src->tz_name);
    dst->tz_rule = own(src->tz_rule);
    dst->survey_text = own(src->survey_text);
    dst->gateway = own(src->gateway);
    for (size_t i = 0; i < src->n_words && i < CC_FLOW_WORDS_MAX; i++)
        dst->words[i].word = own(src->words[i].word);
}

int cc_ep_flow_get(const cc *c, uint32_t ep, cc_ep_flow *out)
{
    const cc__ep *e = cc__tab_get(&c->eps, ep);
    if (!e)
        return -CC_E_NO_ENTRY_POINT;
    *out = e->flow;
    return 0;
}
