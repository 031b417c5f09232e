/*
 * api_parse: the pure part of reading what a desktop sends. It checks the
 * JSON nesting depth before any parser recurses on it, and turns one
 * WebSocket text frame of the agent protocol (docs/api.md, "WebSocket")
 * into a parsed command: which command, the client's id, and the core
 * command's fields. It does no I/O and sees no core or store, so it can be
 * fuzzed on its own (fuzz/fuzz_agent_cmd.c); api.c runs the command.
 */
#ifndef TEXTDESK_API_API_PARSE_H
#define TEXTDESK_API_API_PARSE_H

#include <jansson.h>
#include <stdint.h>

#include "core/cc.h"
#include "util/str.h"

#define API_JSON_MAX_DEPTH 32

/* Whether 'n' bytes of JSON nest deeper than API_JSON_MAX_DEPTH arrays
 * and objects (a cheap scan before parsing: no request needs deep nesting,
 * and a parser should not be made to recurse on an attacker's brackets). */
int api_parse_too_deep(const char *p, size_t n);

/* The commands a desktop may send. API_FRAME_CORE: a core command, whose
 * type and fields are in api_frame.cmd; the others the API answers itself. */
enum api_frame_kind {
    API_FRAME_CORE,
    API_FRAME_PING,
    API_FRAME_SNAPSHOT,
    API_FRAME_TARGETS,  /* transfer_targets */
    API_FRAME_MESSAGES, /* conv */
    API_FRAME_RESEND,   /* conv, seq */
    API_FRAME_CANNED,
    API_FRAME_HISTORY,  /* conv */
    API_FRAME_SMS_INFO, /* text */
};

typedef struct api_frame {
    json_t *root;     /* the parsed frame: owns every string below */
    json_t *id;       /* the client's "id" (borrowed from root), or NULL */
    const char *name; /* the "cmd" string */
    int kind;         /* enum api_frame_kind */
    /* conv for every command (0: absent or not an id 1..CC_MAX_ID-1); for
     * API_FRAME_CORE the type and the command's fields. 'agent' is left 0:
     * the connection's agent is the caller's to set. */
    cc_cmd cmd;
    cc_skill skills[CC_SKILLS_MAX]; /* transfer: cmd.skills points here */
    uint32_t seq; /* API_FRAME_RESEND */
    str text;     /* API_FRAME_SMS_INFO: STR_NULL when not a string */
} api_frame;

/* Why a frame was refused: a stable code for the result's "error" and a
 * message for people. */
typedef struct api_parse_err {
    const char *code; /* "too_deep", "bad_json", "bad_text", "bad_request",
                       * "unknown_command" */
    char msg[256];
} api_parse_err;

/* Parses the 'n' bytes of JSON at 'data', which must be one object;
 * 'what' names it for the message ("the command", "the request body").
 * Returns 0 with the object in '*out' (new reference). Returns -1 with 'e'
 * filled: "too_deep", "bad_json" (not JSON, not UTF-8, not an object, a
 * field twice) or "bad_text" (a string holds U+0000 or half of a UTF-16
 * surrogate pair); the message is in the product's words, never quoting
 * the input, and '*out' holds the object when one could still be read (a
 * lenient second reading that replaces what was wrong), so that the caller
 * can echo the client's "id"; else NULL. Decref '*out' either way. */
int api_parse_object(str data, const char *what, json_t **out, api_parse_err *e);

/* Parses one frame of 'data' into 'f'. Returns 0, or -1 with 'e' filled;
 * on -1 'f->id' still holds the client's id whenever an object with one
 * could be read (api_parse_object), so that the error can echo it. Fields of the wrong type or out of
 * range read as absent (0 / STR_NULL): the core refuses what it then
 * lacks. Call api_parse_frame_free after either result. */
int api_parse_frame(str data, api_frame *f, api_parse_err *e);
void api_parse_frame_free(api_frame *f);

/* The canonical JSON of a parsed frame (new reference): the command's name
 * and id and only the fields it reads, so that parsing it gives the same
 * kind and fields again. */
json_t *api_parse_frame_json(const api_frame *f);

/* One field of a request body: its key, its type as json_unpack spells it
 * ('s' string, 'b' boolean, 'I' integer, 'o' anything) and whether it may
 * be left out. A list of them ends with a NULL key. */
typedef struct api_field {
    const char *key;
    char type;
    int optional;
} api_field;

/* Why the object 'j' does not fit 'fields' (json_unpack_ex refused it), in
 * the product's words, never the JSON library's: "nmae: unknown field"
 * (a key of the body, decoded and cut to 63 bytes), "events: missing",
 * "url: must be a string". Into 'out' ('n' bytes). */
void api_parse_fields_problem(const json_t *j, const api_field *fields, char *out, size_t n);

#endif
