#include "api/api_parse.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/utf8.h"
#include "util/xalloc.h"

int api_parse_too_deep(const char *p, size_t n)
{
    int depth = 0, in_str = 0;
    for (size_t i = 0; i < n; i++) {
        char c = p[i];
        if (in_str) {
            if (c == '\\')
                i++;
            else if (c == '"')
                in_str = 0;
        } else if (c == '"') {
            in_str = 1;
        } else if (c == '[' || c == '{') {
            if (++depth > API_JSON_MAX_DEPTH)
                return 1;
        } else if (c == ']' || c == '}') {
            depth--;
        }
    }
    return 0;
}

/* Every command: its wire name, kind and (API_FRAME_CORE) core type. */
#define FRAME_CMDS(X)                                                                    \
    X("ping", API_FRAME_PING, 0)                                                         \
    X("snapshot", API_FRAME_SNAPSHOT, 0)                                                 \
    X("transfer_targets", API_FRAME_TARGETS, 0)                                          \
    X("messages", API_FRAME_MESSAGES, 0)                                                 \
    X("resend", API_FRAME_RESEND, 0)                                                     \
    X("canned", API_FRAME_CANNED, 0)                                                     \
    X("history", API_FRAME_HISTORY, 0)                                                   \
    X("sms_info", API_FRAME_SMS_INFO, 0)                                                 \
    X("set_state", API_FRAME_CORE, CC_CMD_SET_STATE)                                     \
    X("accept", API_FRAME_CORE, CC_CMD_ACCEPT)                                           \
    X("decline", API_FRAME_CORE, CC_CMD_DECLINE)                                         \
    X("send", API_FRAME_CORE, CC_CMD_SEND)                                               \
    X("outbound", API_FRAME_CORE, CC_CMD_OUTBOUND)                                       \
    X("transfer", API_FRAME_CORE, CC_CMD_TRANSFER_QUEUE)                                 \
    X("conference_invite", API_FRAME_CORE, CC_CMD_CONF_INVITE)                           \
    X("conference_accept", API_FRAME_CORE, CC_CMD_CONF_ACCEPT)                           \
    X("conference_decline", API_FRAME_CORE, CC_CMD_CONF_DECLINE)                         \
    X("conference_exit", API_FRAME_CORE, CC_CMD_CONF_EXIT)                               \
    X("conference_cancel", API_FRAME_CORE, CC_CMD_CONF_CANCEL)                           \
    X("end", API_FRAME_CORE, CC_CMD_END)                                                 \
    X("wrapup", API_FRAME_CORE, CC_CMD_WRAPUP)                                           \
    X("set_variable", API_FRAME_CORE, CC_CMD_SET_VAR)                                    \
    X("note", API_FRAME_CORE, CC_CMD_NOTE)

static const struct frame_cmd {
    const char *name;
    int kind, type;
} frame_cmds[] = {
#define X(name, kind, type) {name, kind, type},
    FRAME_CMDS(X)
#undef X
};

static uint32_t get_id(json_t *j, const char *key)
{
    json_t *v = json_object_get(j, key);
    if (!json_is_integer(v))
        return 0;
    json_int_t x = json_integer_value(v);
    return x > 0 && x < CC_MAX_ID ? (uint32_t)x : 0;
}

static str get_str(json_t *j, const char *key)
{
    json_t *v = json_object_get(j, key);
    return json_is_string(v) ? (str){json_string_value(v), json_string_length(v)} : STR_NULL;
}

static int fail(api_parse_err *e, const char *code, const char *msg, const char *detail)
{
    e->code = code;
    snprintf(e->msg, sizeof e->msg, msg, detail);
    return -1;
}

/* A transfer's "skills": [{"skill": id, "level": 1-5}, ...] into f->skills
 * (absent or null: none). The core checks that each skill exists and is
 * listed once; the shape is checked here, with a message that says it. */
static int get_skills(json_t *j, api_frame *f, api_parse_err *e)
{
    json_t *a = json_object_get(j, "skills");
    if (!a || json_is_null(a))
        return 0;
    if (!json_is_array(a) || json_array_size(a) > CC_SKILLS_MAX)
        return fail(e, "bad_request",
                    "\"skills\" must be a list of at most 32 {\"skill\": id, \"level\": "
                    "1-5}%s", "");
    size_t i;
    json_t *v;
    json_array_foreach(a, i, v)
    {
        json_t *lv = json_object_get(v, "level");
        uint32_t id = get_id(v, "skill");
        if (!json_is_object(v) || !id || !json_is_integer(lv) || json_integer_value(lv) < 1 ||
            json_integer_value(lv) > CC_LEVEL_MAX)
            return fail(e, "bad_request",
                        "each of \"skills\" must be {\"skill\": a skill's id, \"level\": "
                        "1-5}%s", "");
        f->skills[i] = (cc_skill){id, (uint32_t)json_integer_value(lv)};
    }
    f->cmd.skills = f->skills;
    f->cmd.n_skills = json_array_size(a);
    return 0;
}

static int hexval(char c)
{
    return c >= '0' && c <= '9' ? c - '0'
           : c >= 'a' && c <= 'f' ? c - 'a' + 10
           : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                  : -1;
}

/* The code unit of the "\uXXXX" escape at 'p' (6 bytes before 'end'), or -1. */
static long escape_at(const char *p, const char *end)
{
    if (end - p < 6 || p[0] != '\\' || p[1] != 'u')
        return -1;
    long v = 0;
    for (int i = 2; i < 6; i++) {
        int h = hexval(p[i]);
        if (h < 0)
            return -1;
        v = v * 16 + h;
    }
    return v;
}

/* Finds the first "\uXXXX" escape inside a JSON string that is half of a
 * surrogate pair on its own. Returns its offset, or -1. When 'fix' is set,
 * overwrites every such escape with "\uFFFD" (same length). */
static long lone_surrogates(char *p, size_t n, int fix)
{
    const char *end = p + n;
    long first = -1;
    int in_str = 0;
    for (char *q = p; q < end; q++) {
        if (!in_str) {
            in_str = *q == '"';
            continue;
        }
        if (*q == '"') {
            in_str = 0;
        } else if (*q == '\\' && q + 1 < end) {
            long u = escape_at(q, end);
            if (u >= 0xD800 && u <= 0xDBFF) {
                long lo = escape_at(q + 6, end);
                if (lo >= 0xDC00 && lo <= 0xDFFF) {
                    q += 11; /* a whole pair */
                    continue;
                }
            }
            if (u >= 0xD800 && u <= 0xDFFF) {
                if (first < 0)
                    first = q - p;
                if (fix)
                    memcpy(q + 2, "FFFD", 4);
                q += 5;
                continue;
            }
            q++; /* any other escape: skip the escaped character */
        }
    }
    return first;
}

/* Does any string (or key) in 'j' hold U+0000? */
static int holds_nul(json_t *j)
{
    if (json_is_string(j))
        return memchr(json_string_value(j), 0, json_string_length(j)) != NULL;
    if (json_is_array(j)) {
        size_t i;
        json_t *v;
        json_array_foreach(j, i, v)
            if (holds_nul(v))
                return 1;
    } else if (json_is_object(j)) {
        const char *k;
        json_t *v;
        json_object_foreach(j, k, v)
            if (holds_nul(v))
                return 1;
    }
    return 0;
}

/* The message for a parse error in the product's words: jansson's own
 * text names its flags and quotes the input, cut anywhere. */
static void describe(const json_error_t *je, const char *what, size_t n, api_parse_err *e)
{
    e->code = "bad_json";
    switch (json_error_code(je)) {
    case json_error_invalid_utf8:
        snprintf(e->msg, sizeof e->msg,
                 "%s is not valid UTF-8 text (byte %d): send it encoded as UTF-8", what,
                 je->position);
        break;
    case json_error_premature_end_of_input:
        snprintf(e->msg, sizeof e->msg,
                 "%s ends before its JSON is complete (%zu bytes): check that every "
                 "quote and bracket is closed", what, n);
        break;
    case json_error_duplicate_key:
        snprintf(e->msg, sizeof e->msg, "%s names the same field twice: send each field once",
                 what);
        break;
    case json_error_numeric_overflow:
        snprintf(e->msg, sizeof e->msg,
                 "%s holds a number too large to read (at byte %d): send ids and counts as "
                 "the whole numbers they are", what, je->position);
        break;
    case json_error_null_byte_in_key:
        e->code = "bad_text";
        snprintf(e->msg, sizeof e->msg,
                 "%s has a field name holding the character U+0000, which textdesk "
                 "does not accept: remove it", what);
        break;
    default:
        snprintf(e->msg, sizeof e->msg,
                 "%s is not valid JSON (at byte %d): check the syntax there", what,
                 je->position);
    }
}

int api_parse_object(str data, const char *what, json_t **out, api_parse_err *e)
{
    const char *p = data.p ? data.p : "";
    json_error_t je;
    *out = NULL;
    if (api_parse_too_deep(p, data.n)) {
        e->code = "too_deep";
        snprintf(e->msg, sizeof e->msg,
                 "%s nests JSON deeper than %d levels: send a flatter one", what,
                 API_JSON_MAX_DEPTH);
        return -1;
    }
    json_t *j = json_loadb(p, data.n, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, &je);
    if (j != NULL && !json_is_object(j)) {
        json_decref(j);
        e->code = "bad_json";
        snprintf(e->msg, sizeof e->msg, "%s must be a JSON object: send the fields inside {...}",
                 what);
        return -1;
    }
    if (j != NULL) {
        *out = j;
        if (!holds_nul(j))
            return 0;
        e->code = "bad_text";
        snprintf(e->msg, sizeof e->msg,
                 "%s holds the character U+0000 (\\u0000), which textdesk does not "
                 "accept in text: remove it", what);
        return -1;
    }
    /* refused: say why, then read it leniently for the id */
    char *copy = xmemdup0(p, data.n);
    long lone = lone_surrogates(copy, data.n, 1);
    if (lone >= 0) {
        e->code = "bad_text";
        snprintf(e->msg, sizeof e->msg,
                 "%s holds half of a UTF-16 surrogate pair (the \\u escape at byte %ld), "
                 "which is no character: send the character itself or both halves",
                 what, lone);
    } else {
        describe(&je, what, data.n, e);
    }
    for (size_t i = 0; i < data.n;) { /* invalid UTF-8 -> '?', same length */
        uint32_t cp;
        size_t k = utf8_decode((const unsigned char *)copy + i, data.n - i, &cp);
        if (k == 0)
            copy[i++] = '?';
        else
            i += k;
    }
    json_error_t je2;
    j = json_loadb(copy, data.n, JSON_ALLOW_NUL, &je2);
    if (!j && json_error_code(&je2) == json_error_numeric_overflow) {
        /* a number beyond 64 bits elsewhere: the id is still read (as a
         * real, then whole again), so the answer echoes it */
        j = json_loadb(copy, data.n, JSON_ALLOW_NUL | JSON_DECODE_INT_AS_REAL, NULL);
        json_t *id = j && json_is_object(j) ? json_object_get(j, "id") : NULL;
        double v = json_is_real(id) ? json_real_value(id) : 0;
        if (id && v > -9007199254740992.0 && v < 9007199254740992.0 &&
            v == (double)(json_int_t)v)
            json_object_set_new(j, "id", json_integer((json_int_t)v));
    }
    free(copy);
    if (j != NULL && json_is_object(j))
        *out = j;
    else
        json_decref(j);
    return -1;
}

int api_parse_frame(str data, api_frame *f, api_parse_err *e)
{
    memset(f, 0, sizeof *f);
    int r = api_parse_object(data, "the command", &f->root, e);
    if (f->root)
        f->id = json_object_get(f->root, "id");
    if (r != 0)
        return -1;
    json_t *j = f->root;
    f->name = json_string_value(json_object_get(j, "cmd"));
    if (!f->name)
        return fail(e, "bad_request",
                    "\"cmd\" must be a string: a command's name (docs/api.md)%s", "");
    const struct frame_cmd *c = NULL;
    for (size_t i = 0; i < sizeof frame_cmds / sizeof frame_cmds[0]; i++)
        if (strcmp(f->name, frame_cmds[i].name) == 0)
            c = &frame_cmds[i];
    /* a core command only when the command table says an agent may send
     * it (CC_CMDF_AGENT) */
    if (!c || (c->kind == API_FRAME_CORE && !cc_cmd_is_agent(c->type))) {
        e->code = "unknown_command";
        char name[64];
        snprintf(name, sizeof name, "%s", f->name);
        utf8_trim(name); /* cut to 63 bytes, maybe inside a character */
        snprintf(e->msg, sizeof e->msg,
                 "unknown command \"%s\": the commands are listed in docs/api.md", name);
        return -1;
    }
    f->kind = c->kind;
    cc_cmd *m = &f->cmd;
    m->type = c->type;
    m->conv = get_id(j, "conv");
    switch (c->kind) {
    case API_FRAME_RESEND:
        f->seq = (uint32_t)json_integer_value(json_object_get(j, "seq"));
        return 0;
    case API_FRAME_SMS_INFO:
        f->text = get_str(j, "text");
        return 0;
    case API_FRAME_CORE:
        break;
    default:
        return 0;
    }
    switch (m->type) {
    case CC_CMD_SET_STATE: {
        const char *st = json_string_value(json_object_get(j, "state"));
        m->state = st && strcmp(st, "available") == 0 ? CC_AGENT_AVAILABLE
                   : st && strcmp(st, "idle") == 0    ? CC_AGENT_IDLE
                                                      : -1;
        m->reason = get_id(j, "reason");
        break;
    }
    case CC_CMD_SEND:
    case CC_CMD_NOTE:
        m->text = get_str(j, "text");
        break;
    case CC_CMD_OUTBOUND:
        m->ep = get_id(j, "entry_point");
        m->number = get_str(j, "number");
        break;
    case CC_CMD_TRANSFER_QUEUE:
        m->queue = get_id(j, "queue");
        m->target = get_id(j, "agent");
        m->type = m->target ? CC_CMD_TRANSFER_AGENT : CC_CMD_TRANSFER_QUEUE;
        if (get_skills(j, f, e))
            return -1;
        if (m->target && m->n_skills)
            return fail(e, "bad_request",
                        "\"skills\" go with a transfer to a queue, not to an agent%s", "");
        break;
    case CC_CMD_CONF_INVITE:
        m->target = get_id(j, "agent");
        break;
    case CC_CMD_WRAPUP:
        m->reason = get_id(j, "reason");
        break;
    case CC_CMD_SET_VAR:
        m->key = get_str(j, "key");
        m->value = get_str(j, "value");
        break;
    }
    return 0;
}

void api_parse_frame_free(api_frame *f)
{
    json_decref(f->root);
    f->root = f->id = NULL;
}

static void put_id(json_t *o, const char *key, uint32_t v)
{
    if (v)
        json_object_set_new(o, key, json_integer(v));
}

static void put_str(json_t *o, const char *key, str s)
{
    if (s.p)
        json_object_set_new(o, key, json_stringn(s.p, s.n));
}

json_t *api_parse_frame_json(const api_frame *f)
{
    json_t *o = json_object();
    json_object_set_new(o, "cmd", json_string(f->name));
    if (f->id)
        json_object_set(o, "id", f->id);
    const cc_cmd *m = &f->cmd;
    put_id(o, "conv", m->conv);
    if (f->kind == API_FRAME_RESEND)
        json_object_set_new(o, "seq", json_integer(f->seq));
    if (f->kind == API_FRAME_SMS_INFO)
        put_str(o, "text", f->text);
    if (f->kind != API_FRAME_CORE)
        return o;
    switch (m->type) {
    case CC_CMD_SET_STATE:
        if (m->state == CC_AGENT_AVAILABLE || m->state == CC_AGENT_IDLE)
            json_object_set_new(o, "state", json_string(m->state == CC_AGENT_IDLE ? "idle"
                                                                                 : "available"));
        put_id(o, "reason", m->reason);
        break;
    case CC_CMD_SEND:
    case CC_CMD_NOTE:
        put_str(o, "text", m->text);
        break;
    case CC_CMD_OUTBOUND:
        put_id(o, "entry_point", m->ep);
        put_str(o, "number", m->number);
        break;
    case CC_CMD_TRANSFER_QUEUE:
    case CC_CMD_TRANSFER_AGENT:
        put_id(o, "queue", m->queue);
        put_id(o, "agent", m->target);
        if (m->n_skills) {
            json_t *a = json_array();
            for (size_t i = 0; i < m->n_skills; i++)
                json_array_append_new(a, json_pack("{s:i,s:i}", "skill", (json_int_t)m->skills[i].skill,
                                                   "level", (json_int_t)m->skills[i].level));
            json_object_set_new(o, "skills", a);
        }
        break;
    case CC_CMD_CONF_INVITE:
        put_id(o, "agent", m->target);
        break;
    case CC_CMD_WRAPUP:
        put_id(o, "reason", m->reason);
        break;
    case CC_CMD_SET_VAR:
        put_str(o, "key", m->key);
        put_str(o, "value", m->value);
        break;
    }
    return o;
}

static int type_ok(const json_t *v, char type)
{
    switch (type) {
    case 's':
        return json_is_string(v);
    case 'b':
        return json_is_boolean(v);
    case 'I':
        return json_is_integer(v);
    default:
        return 1;
    }
}

void api_parse_fields_problem(const json_t *j, const api_field *fields, char *out, size_t n)
{
    const char *k;
    const json_t *v;
    json_object_foreach((json_t *)j, k, v)
    {
        const api_field *f = fields;
        while (f->key && strcmp(f->key, k) != 0)
            f++;
        if (!f->key) {
            char name[64];
            snprintf(name, sizeof name, "%s", k);
            utf8_trim(name); /* cut to 63 bytes, maybe inside a character */
            snprintf(out, n, "%s: unknown field", name);
            return;
        }
    }
    for (const api_field *f = fields; f->key; f++) {
        const json_t *got = json_object_get(j, f->key);
        if (!got && !f->optional) {
            snprintf(out, n, "%s: missing", f->key);
            return;
        }
        if (got && !type_ok(got, f->type)) {
            snprintf(out, n, "%s: must be %s", f->key,
                     f->type == 's'   ? "a string"
                     : f->type == 'b' ? "true or false"
                                      : "a whole number");
            return;
        }
    }
    snprintf(out, n, "not the fields expected");
}
