/*
 * entity_json: a configured entity (team, wrap-up or idle reason, skill,
 * queue, entry point, agent) as a JSON object -> the core command that puts
 * it (cc.h, CC_CMD_*_PUT). The one reader of those objects, for the
 * configuration file (app/config.c) and the admin API (api/api_admin.c):
 * the same keys, the same ranges, the same error for the same bad input.
 *
 *   teams, wrapup_reasons, idle_reasons, skills   {"id", "name"}
 *   queues        {"id", "name", "teams": [ids], "rona_timeout_s" (1..3600,
 *                 default 30), "auto_wrapup_s" (0..86400), "default_reason",
 *                 "fallback", "skills", "widen_step_s" (0..86400)}
 *   entry_points  {"id", "number", "queue"} and the flow's keys
 *                 (store/flow_json.h: "gateway", "hours", ...)
 *   agents        {"id", "name", "teams", "capacity" (1..1000, default 3),
 *                 "skills"} and the account's "username", "password",
 *                 "password_hash" (read by the caller: accounts are not
 *                 core state)
 *
 * What the checks here cannot know (that a team named exists, that a
 * fallback queue differs) the core refuses when the command is applied.
 */
#ifndef TEXTDESK_STORE_ENTITY_JSON_H
#define TEXTDESK_STORE_ENTITY_JSON_H

#include <jansson.h>
#include <stdint.h>

#include "core/cc.h"
#include "store/flow_json.h"

/* What is wrong: the field ("rona_timeout_s", "skills[0].level", "(body)"),
 * what to do about it ("must be a whole number from 1 to 3600"), the
 * problem's stable code ("range": docs/api.md, "Field problems") and, for
 * "range", "too_long", "too_short" and "too_many", the bounds (-1: none). */
typedef struct entity_json_err {
    char field[64];
    char msg[160];
    const char *code; /* a string literal */
    long long min, max;
} entity_json_err;

/* Room for what a put command points to (its teams, skills, an entry
 * point's flow): keep it while the command is used. */
typedef struct entity_json_room {
    uint32_t ids[CC_TEAMS_MAX];
    cc_skill skills[CC_SKILLS_MAX];
    cc_ep_flow flow;
    char rule[FLOW_JSON_RULE_MAX];
} entity_json_room;

/* Accept, and ignore, what the admin API shows beside an entity but a put
 * does not take ("waiting" of a queue, "state" of an agent), so that what
 * was read can be written back. */
#define ENTITY_JSON_SHOWN 1

/* Builds in 'm' the command that puts 'o', an entity of 'kind' (CC_KIND_*).
 * 'id' is the entity's id when the caller knows it (a URL's): "id" in 'o'
 * may then be left out and must otherwise agree; 0: "id" is required.
 * Returns 0, or -1 with the field and the reason in 'e'. */
int entity_json_put(int kind, const json_t *o, uint32_t id, int flags, cc_cmd *m,
                    entity_json_room *room, entity_json_err *e);

/* The same reading for the caller's own fields (an agent's account): sets
 * 'e' (no bounds) and returns -1 ... */
int entity_json_fail(entity_json_err *e, const char *field, const char *code, const char *msg);
/* ... the same with the bounds of a "range", "too_long" or "too_short" ... */
int entity_json_fail_bounds(entity_json_err *e, const char *field, const char *code,
                            long long min, long long max, const char *msg);
/* ... and string member 'key' of 'o' into 'out' (STR_NULL when absent and
 * not 'need'): 0, or -1 with "is required" / "must be a string". */
int entity_json_text(const json_t *o, const char *key, int need, str *out,
                     entity_json_err *e);

#endif
