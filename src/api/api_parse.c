#include "api/api_parse.h"

#include <stdio.h>
#include <string.h>

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
    X("set_variable", API_FRAME_CORE, CC_CMD_SET_VAR)

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

int api_parse_frame(str data, api_frame *f, api_parse_err *e)
{
    memset(f, 0, sizeof *f);
    if (api_parse_too_deep(data.p ? data.p : "", data.n))
        return fail(e, "too_deep", "JSON nested deeper than %s levels", "32");
    json_error_t je;
    f->root = json_loadb(data.p ? data.p : "", data.n, JSON_REJECT_DUPLICATES, &je);
    if (!f->root)
        return fail(e, "bad_json", "not a JSON object: %s", je.text);
    if (!json_is_object(f->root))
        return fail(e, "bad_json", "not a JSON object: %s", "wrong type");
    json_t *j = f->root;
    f->id = json_object_get(j, "id");
    f->name = json_string_value(json_object_get(j, "cmd"));
    if (!f->name)
        return fail(e, "bad_request", "\"cmd\" must be a string%s", "");
    const struct frame_cmd *c = NULL;
    for (size_t i = 0; i < sizeof frame_cmds / sizeof frame_cmds[0]; i++)
        if (strcmp(f->name, frame_cmds[i].name) == 0)
            c = &frame_cmds[i];
    if (!c) {
        e->code = "unknown_command";
        snprintf(e->msg, sizeof e->msg, "unknown command \"%.60s\"", f->name);
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
