/* entity_json.c: an entity's JSON object -> its put command (entity_json.h). */
#include "store/entity_json.h"

#include <stdio.h>
#include <string.h>

#include "util/utf8.h"

static const char *const named_keys[] = {"id", "name", NULL};
static const char *const queue_keys[] = {"id",       "name",   "teams",        "rona_timeout_s",
                                         "auto_wrapup_s", "default_reason", "fallback",
                                         "skills",   "widen_step_s", NULL};
static const char *const ep_keys[] = {"id", "number", "queue", NULL}; /* + flow_json_keys */
static const char *const agent_keys[] = {"id",       "name",     "teams",         "capacity",
                                         "skills",   "username", "password", "password_hash",
                                         NULL};

int entity_json_fail_bounds(entity_json_err *e, const char *field, const char *code,
                            long long min, long long max, const char *msg)
{
    snprintf(e->field, sizeof e->field, "%.*s", (int)sizeof e->field - 1, field);
    utf8_trim(e->field); /* a long field name may be cut inside a character */
    snprintf(e->msg, sizeof e->msg, "%s", msg);
    e->code = code;
    e->min = min;
    e->max = max;
    return -1;
}

int entity_json_fail(entity_json_err *e, const char *field, const char *code, const char *msg)
{
    return entity_json_fail_bounds(e, field, code, -1, -1, msg);
}

/* flow_json's "FIELD: WHAT" split into its field and what, with its code. */
static int bad_split(entity_json_err *e, flow_json_err *fe)
{
    char *sep = strstr(fe->msg, ": ");
    if (sep)
        *sep = '\0';
    return entity_json_fail_bounds(e, fe->msg, fe->code, fe->min, fe->max,
                                   sep ? sep + 2 : "is not valid");
}

static int listed(const char *const *keys, const char *key)
{
    for (const char *const *k = keys; k && *k; k++)
        if (strcmp(*k, key) == 0)
            return 1;
    return 0;
}

static int get_u32(const json_t *o, const char *key, int need, uint32_t lo, uint32_t hi,
                   uint32_t *out, entity_json_err *e)
{
    json_t *v = json_object_get(o, key);
    if (!v)
        return need ? entity_json_fail(e, key, "required", "is required") : 0;
    if (!json_is_integer(v) || json_integer_value(v) < lo || json_integer_value(v) > hi) {
        char m[96];
        snprintf(m, sizeof m, "must be a whole number from %u to %u", lo, hi);
        return entity_json_fail_bounds(e, key, "range", lo, hi, m);
    }
    *out = (uint32_t)json_integer_value(v);
    return 0;
}

int entity_json_text(const json_t *o, const char *key, int need, str *out,
                     entity_json_err *e)
{
    json_t *v = json_object_get(o, key);
    *out = STR_NULL;
    if (!v)
        return need ? entity_json_fail(e, key, "required", "is required") : 0;
    if (!json_is_string(v))
        return entity_json_fail(e, key, "not_text", "must be a string");
    *out = (str){json_string_value(v), json_string_length(v)};
    return 0;
}

/* A required name: a string of 1 to CC_NAME_MAX bytes (the core's rule,
 * said with the key instead of the core's "a field is ... out of range"). */
static int get_name(const json_t *o, str *out, entity_json_err *e)
{
    if (entity_json_text(o, "name", 1, out, e))
        return -1;
    if (out->n == 0 || out->n > CC_NAME_MAX) {
        char m[64];
        snprintf(m, sizeof m, "must be 1 to %d bytes", CC_NAME_MAX);
        return out->n == 0 ? entity_json_fail(e, "name", "required", m)
                           : entity_json_fail_bounds(e, "name", "too_long", -1, CC_NAME_MAX, m);
    }
    return 0;
}

/* An entry point's number: a phone number or short code (cc_number_ok,
 * the core's rule, said with the key). */
static int get_number(const json_t *o, str *out, entity_json_err *e)
{
    if (entity_json_text(o, "number", 1, out, e))
        return -1;
    if (!cc_number_ok(*out, CC_NUMBER_PHONE)) {
        char m[160];
        snprintf(m, sizeof m,
                 "must be a phone number or short code: an optional + and %d to %d digits, "
                 "without blanks (+46700000001, 71000)",
                 CC_DIGITS_MIN, CC_DIGITS_MAX);
        return out->n == 0 ? entity_json_fail(e, "number", "required", m)
                           : entity_json_fail_bounds(e, "number", "number_format",
                                                     CC_DIGITS_MIN, CC_DIGITS_MAX, m);
    }
    return 0;
}

/* The keys 'o' may have as an entity of 'kind'; 0 when all are known. */
static int check_keys(int kind, const json_t *o, int flags, entity_json_err *e)
{
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)o, key, v)
    {
        int ok;
        switch (kind) {
        case CC_KIND_QUEUE:
            ok = listed(queue_keys, key) || ((flags & ENTITY_JSON_SHOWN) && !strcmp(key, "waiting"));
            break;
        case CC_KIND_EP:
            ok = listed(ep_keys, key) || listed(flow_json_keys, key);
            break;
        case CC_KIND_AGENT:
            ok = listed(agent_keys, key) || ((flags & ENTITY_JSON_SHOWN) && !strcmp(key, "state"));
            break;
        default:
            ok = listed(named_keys, key);
        }
        if (!ok)
            return entity_json_fail(e, key, "unknown_field", "unknown field");
    }
    return 0;
}

int entity_json_put(int kind, const json_t *o, uint32_t id, int flags, cc_cmd *m,
                    entity_json_room *room, entity_json_err *e)
{
    memset(m, 0, sizeof *m);
    if (!json_is_object(o))
        return entity_json_fail(e, "(body)", "not_object", "must be a JSON object");
    if (check_keys(kind, o, flags, e))
        return -1;
    uint32_t body_id = id;
    if (get_u32(o, "id", id == 0, 1, CC_MAX_ID - 1, &body_id, e))
        return -1;
    if (id && body_id != id)
        return entity_json_fail(e, "id", "id_mismatch", "differs from the id in the path");
    id = body_id;
    json_t *teams = json_object_get(o, "teams");
    if (teams) {
        json_t *v;
        size_t i;
        if (!json_is_array(teams) || json_array_size(teams) > CC_TEAMS_MAX)
            return entity_json_fail(e, "teams", "bad_list", "must be a list of at most 64 team ids");
        json_array_foreach(teams, i, v)
        {
            if (!json_is_integer(v) || json_integer_value(v) <= 0 ||
                json_integer_value(v) >= CC_MAX_ID)
                return entity_json_fail(e, "teams", "bad_id", "must hold team ids");
            room->ids[m->n_ids++] = (uint32_t)json_integer_value(v);
        }
        m->ids = room->ids;
    }
    flow_json_err fe;
    if (kind == CC_KIND_QUEUE || kind == CC_KIND_AGENT) {
        if (flow_json_skills_parse(o, "skills", room->skills, &m->n_skills, &fe))
            return bad_split(e, &fe);
        m->skills = room->skills;
    }
    uint32_t x;
    switch (kind) {
    case CC_KIND_TEAM:
    case CC_KIND_REASON:
    case CC_KIND_IDLE_REASON:
    case CC_KIND_SKILL:
        m->type = kind == CC_KIND_TEAM     ? CC_CMD_TEAM_PUT
                  : kind == CC_KIND_REASON ? CC_CMD_REASON_PUT
                  : kind == CC_KIND_SKILL  ? CC_CMD_SKILL_PUT
                                           : CC_CMD_IDLE_REASON_PUT;
        m->team = m->reason = m->skill = id;
        return get_name(o, &m->name, e);
    case CC_KIND_QUEUE:
        m->type = CC_CMD_QUEUE_PUT;
        m->queue = id;
        if (get_name(o, &m->name, e))
            return -1;
        x = 30;
        if (get_u32(o, "rona_timeout_s", 0, 1, 3600, &x, e))
            return -1;
        m->rona_ms = (int64_t)x * 1000;
        x = 0;
        if (get_u32(o, "auto_wrapup_s", 0, 0, 86400, &x, e))
            return -1;
        m->autowrap_ms = (int64_t)x * 1000;
        x = 0;
        if (get_u32(o, "widen_step_s", 0, 0, 86400, &x, e))
            return -1;
        m->widen_ms = (int64_t)x * 1000;
        return get_u32(o, "default_reason", 0, 0, CC_MAX_ID - 1, &m->reason, e) ||
                       get_u32(o, "fallback", 0, 0, CC_MAX_ID - 1, &m->fallback, e)
                   ? -1
                   : 0;
    case CC_KIND_EP: {
        m->type = CC_CMD_EP_PUT;
        m->ep = id;
        if (get_number(o, &m->number, e) ||
            get_u32(o, "queue", 1, 1, CC_MAX_ID - 1, &m->queue, e))
            return -1;
        int has = flow_json_parse(o, 0, &room->flow, room->rule, &fe);
        if (has < 0)
            return bad_split(e, &fe);
        if (has && room->flow.overflow_queue == m->queue)
            return entity_json_fail(e, "overflow_queue", "same_queue",
                                    "must differ from the entry point's queue");
        m->flow = has ? &room->flow : NULL;
        return 0;
    }
    case CC_KIND_AGENT:
        m->type = CC_CMD_AGENT_PUT;
        m->agent = id;
        return get_name(o, &m->name, e) ||
                       get_u32(o, "capacity", 0, 1, 1000, &m->capacity, e)
                   ? -1
                   : 0;
    }
    return entity_json_fail(e, "(kind)", "unknown_field", "unknown kind");
}
