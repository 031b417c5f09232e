/*
 * fuzz_agent_cmd: arbitrary bytes as one WebSocket frame of the agent
 * protocol, through api_parse_frame (the pure half of api_ws_message).
 * Nothing may crash or leak. A refused frame has one of the five stable
 * error codes and a NUL-terminated, valid UTF-8 message, and the depth check agrees with
 * the refusal. A frame that parses names a known command (a core command
 * only if the command table flags it CC_CMDF_AGENT), has ids in
 * 1..CC_MAX_ID-1 (or 0), and its canonical JSON parses back to the same
 * command, fields and id; the canonical form of that is the same JSON.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "api/api_parse.h"
#include "util/utf8.h"

static int same_str(str a, str b)
{
    return (a.p == NULL) == (b.p == NULL) && str_eq(a, b);
}

static void check_same(const api_frame *a, const api_frame *b)
{
    CHECK(strcmp(a->name, b->name) == 0);
    CHECK(a->kind == b->kind && a->seq == b->seq && same_str(a->text, b->text));
    CHECK((a->id == NULL) == (b->id == NULL) && (!a->id || json_equal(a->id, b->id)));
    const cc_cmd *x = &a->cmd, *y = &b->cmd;
    CHECK(x->type == y->type && x->agent == 0 && y->agent == 0);
    CHECK(x->conv == y->conv && x->queue == y->queue && x->target == y->target);
    CHECK(x->ep == y->ep && x->reason == y->reason && x->state == y->state);
    CHECK(same_str(x->text, y->text) && same_str(x->number, y->number));
    CHECK(same_str(x->key, y->key) && same_str(x->value, y->value));
    CHECK(x->n_skills == y->n_skills && x->n_skills <= CC_SKILLS_MAX);
    for (size_t i = 0; i < x->n_skills; i++)
        CHECK(x->skills[i].skill == y->skills[i].skill && x->skills[i].level == y->skills[i].level &&
              x->skills[i].level >= 1 && x->skills[i].level <= CC_LEVEL_MAX);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    str in = {(const char *)data, size};
    api_frame f;
    api_parse_err e;
    int deep = api_parse_too_deep(in.p, in.n);
    int r = api_parse_frame(in, &f, &e);
    CHECK(r == 0 || r == -1);
    if (deep)
        CHECK(r == -1 && strcmp(e.code, "too_deep") == 0);
    if (r != 0) {
        CHECK(strcmp(e.code, "too_deep") == 0 || strcmp(e.code, "bad_json") == 0 ||
              strcmp(e.code, "bad_text") == 0 || strcmp(e.code, "bad_request") == 0 ||
              strcmp(e.code, "unknown_command") == 0);
        CHECK(memchr(e.msg, '\0', sizeof e.msg) != NULL && e.msg[0] != '\0');
        /* the message can travel in JSON; a parse error's names no flag of
         * jansson (only unknown_command quotes what was sent) */
        CHECK(utf8_count(e.msg, strlen(e.msg)) >= 0);
        CHECK(strcmp(e.code, "unknown_command") == 0 || strstr(e.msg, "JSON_") == NULL);
        CHECK(!f.id || json_is_object(f.root));
        api_parse_frame_free(&f);
        return 0;
    }
    CHECK(json_is_object(f.root) && f.name);
    const cc_cmd *m = &f.cmd;
    CHECK(m->conv < CC_MAX_ID && m->queue < CC_MAX_ID && m->target < CC_MAX_ID);
    CHECK(m->ep < CC_MAX_ID && m->reason < CC_MAX_ID);
    /* only an agent's commands (the flag of the command table) */
    CHECK(f.kind != API_FRAME_CORE || cc_cmd_is_agent(m->type));

    json_t *canon = api_parse_frame_json(&f);
    CHECK(canon);
    char *s = json_dumps(canon, JSON_COMPACT);
    CHECK(s);
    api_frame g;
    CHECK(api_parse_frame(str_c(s), &g, &e) == 0);
    check_same(&f, &g);
    json_t *canon2 = api_parse_frame_json(&g);
    CHECK(json_equal(canon, canon2));
    json_decref(canon2);
    api_parse_frame_free(&g);
    free(s);
    json_decref(canon);
    api_parse_frame_free(&f);
    return 0;
}
