/*
 * Unit tests for src/api/api_parse: what a desktop's frame or a request
 * body that cannot be taken is told (issue 19): the client's id is echoed
 * whenever an object with one can be read, and the message is in the
 * product's words: valid UTF-8, no flag names of the JSON library, no
 * quoted input.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "api/api_parse.h"
#include "util/utf8.h"

/* Checks a refused frame: its code, the id echoed as 'id_json' (JSON text,
 * or NULL for none), a message that contains 'needle' and is valid UTF-8
 * without jansson's words or any byte of 'avoid'. */
static void refused(const char *in, size_t n, const char *code, const char *id_json,
                    const char *needle, const char *avoid)
{
    api_frame f;
    api_parse_err e;
    assert_int_equal(api_parse_frame((str){in, n}, &f, &e), -1);
    assert_string_equal(e.code, code);
    if (id_json == NULL) {
        assert_null(f.id);
    } else {
        assert_non_null(f.id);
        char *got = json_dumps(f.id, JSON_ENCODE_ANY | JSON_COMPACT);
        assert_string_equal(got, id_json);
        free(got);
    }
    if (strstr(e.msg, needle) == NULL)
        print_error("message: %s\n", e.msg);
    assert_non_null(strstr(e.msg, needle));
    assert_true(utf8_count(e.msg, strlen(e.msg)) >= 0);
    assert_null(strstr(e.msg, "JSON_"));
    assert_null(strstr(e.msg, "jansson"));
    if (avoid)
        assert_null(strstr(e.msg, avoid));
    api_parse_frame_free(&f);
}

static void parses(const char *in, const char *cmd)
{
    api_frame f;
    api_parse_err e;
    int r = api_parse_frame(str_c(in), &f, &e);
    if (r != 0)
        print_error("%s: %s\n", e.code, e.msg);
    assert_int_equal(r, 0);
    assert_string_equal(f.name, cmd);
    api_parse_frame_free(&f);
}

#define R(lit, ...) refused(lit, sizeof lit - 1, __VA_ARGS__)

static void test_nul_and_surrogates_echo_the_id(void **state)
{
    /* the frames: a well-formed command, text that is no text */
    R("{\"id\":7,\"cmd\":\"send\",\"conv\":1,\"text\":\"a\\u0000b\"}", "bad_text", "7",
      "U+0000", NULL);
    R("{\"id\":\"c-9\",\"cmd\":\"send\",\"conv\":1,\"text\":\"x\\ud800\"}", "bad_text",
      "\"c-9\"", "surrogate", NULL);
    R("{\"cmd\":\"send\",\"text\":\"\\uDC00\",\"id\":8}", "bad_text", "8", "surrogate", NULL);
    R("{\"id\":9,\"cmd\":\"send\",\"text\":\"\\ud800\\u0041\"}", "bad_text", "9", "byte 29",
      NULL);
    R("{\"id\":10,\"cmd\":\"set_variable\",\"conv\":1,\"key\":\"k\\u0000\",\"value\":\"v\"}",
      "bad_text", "10", "U+0000", NULL);
    /* a whole pair, an escaped backslash and a NUL-free text are fine */
    parses("{\"id\":1,\"cmd\":\"send\",\"conv\":1,\"text\":\"\\ud83d\\ude00\"}", "send");
    parses("{\"id\":1,\"cmd\":\"send\",\"conv\":1,\"text\":\"\\\\ud800\"}", "send");
}

static void test_bad_json_in_product_words(void **state)
{
    /* a backslash before a cut UTF-8 letter: no id to be had, no byte quoted */
    R("{\"id\":11,\"cmd\":\"send\",\"text\":\"Nattk\\\xc3\"}", "bad_json", NULL,
      "the command", "\xc3");
    /* invalid UTF-8 inside a string: the id is still read */
    R("{\"id\":12,\"cmd\":\"send\",\"text\":\"a\xff" "b\"}", "bad_json", "12", "UTF-8", "\xff");
    /* the admin fuzzer's body, as a frame: cut, backslash before a letter */
    R("{\"name\":\"Nattk\\\xc3\xb6\",\"teams\":[1,2?", "bad_json", NULL, "not valid JSON",
      "\xc3");
    R("{\"id\":13,\"cmd\":\"ping\"", "bad_json", NULL, "ends before", NULL);
    R("{\"id\":14,\"cmd\":\"ping\",\"cmd\":\"ping\"}", "bad_json", "14", "twice", NULL);
    R("[1,2]", "bad_json", NULL, "must be a JSON object", NULL);
    R("", "bad_json", NULL, "ends before", NULL);
    R("{\"id\":15,\"cmd\":7}", "bad_request", "15", "\"cmd\"", NULL);
    /* a number beyond 64 bits is JSON: refused by name, the id still echoed
     * (before: "not valid JSON" and no id, so the desktop never heard) */
    R("{\"id\":17,\"cmd\":\"accept\",\"conv\":100000000000000000000}", "bad_json", "17",
      "number too large", NULL);
    R("{\"cmd\":\"ping\",\"x\":1e999,\"id\":\"c-18\"}", "bad_json", NULL, "number too large",
      NULL);
}

static void test_unknown_command_cut_on_a_character(void **state)
{
    /* 62 ASCII bytes then "ö": the name is cut inside the "ö" */
    char in[256];
    snprintf(in, sizeof in, "{\"id\":16,\"cmd\":\"%s\xc3\xb6\xc3\xb6\"}",
             "abcdefghijabcdefghijabcdefghijabcdefghijabcdefghijabcdefghijab");
    refused(in, strlen(in), "unknown_command", "16", "unknown command", NULL);
}

static void test_request_body(void **state)
{
    json_t *j;
    api_parse_err e;
    const char body[] = "{\"name\":\"Nattk\\\xc3\xb6\",\"teams\":[1,2?";
    assert_int_equal(api_parse_object((str){body, sizeof body - 1}, "the request body", &j, &e),
                     -1);
    assert_null(j);
    assert_string_equal(e.code, "bad_json");
    assert_non_null(strstr(e.msg, "the request body"));
    assert_null(memchr(e.msg, 0xc3, strlen(e.msg)));
    assert_int_equal(api_parse_object(str_c("{\"a\":1}"), "the request body", &j, &e), 0);
    assert_non_null(j);
    json_decref(j);
    char deep[80];
    memset(deep, '[', 40);
    deep[40] = '\0';
    assert_int_equal(api_parse_object(str_c(deep), "the request body", &j, &e), -1);
    assert_string_equal(e.code, "too_deep");
    assert_null(j);
}

/* A transfer to a queue may add required skills (issue 17): read into the
 * command, kept in the canonical JSON; a bad shape is refused with a
 * message that says the shape; skills with an agent target are refused. */
static void test_transfer_skills(void **state)
{
    (void)state;
    api_frame f;
    api_parse_err e;
    const char *in = "{\"cmd\":\"transfer\",\"id\":7,\"conv\":3,\"queue\":2,"
                     "\"skills\":[{\"skill\":4,\"level\":3},{\"skill\":9,\"level\":1}]}";
    assert_int_equal(api_parse_frame(str_c(in), &f, &e), 0);
    assert_int_equal(f.cmd.type, CC_CMD_TRANSFER_QUEUE);
    assert_int_equal(f.cmd.queue, 2);
    assert_int_equal(f.cmd.n_skills, 2);
    assert_int_equal(f.cmd.skills[0].skill, 4);
    assert_int_equal(f.cmd.skills[0].level, 3);
    assert_int_equal(f.cmd.skills[1].skill, 9);
    assert_int_equal(f.cmd.skills[1].level, 1);
    json_t *j = api_parse_frame_json(&f);
    char *got = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
    assert_string_equal(got, "{\"cmd\":\"transfer\",\"conv\":3,\"id\":7,\"queue\":2,"
                             "\"skills\":[{\"level\":3,\"skill\":4},{\"level\":1,\"skill\":9}]}");
    free(got);
    json_decref(j);
    api_parse_frame_free(&f);
    parses("{\"cmd\":\"transfer\",\"conv\":3,\"queue\":2,\"skills\":null}", "transfer");
    parses("{\"cmd\":\"transfer\",\"conv\":3,\"queue\":2,\"skills\":[]}", "transfer");
    R("{\"cmd\":\"transfer\",\"id\":1,\"conv\":3,\"queue\":2,\"skills\":5}", "bad_request",
      "1", "\"skills\" must be a list", NULL);
    R("{\"cmd\":\"transfer\",\"id\":1,\"conv\":3,\"queue\":2,\"skills\":[{\"skill\":4}]}",
      "bad_request", "1", "\"level\": 1-5", NULL);
    R("{\"cmd\":\"transfer\",\"id\":1,\"conv\":3,\"queue\":2,\"skills\":[{\"skill\":4,"
      "\"level\":6}]}", "bad_request", "1", "\"level\": 1-5", NULL);
    R("{\"cmd\":\"transfer\",\"id\":1,\"conv\":3,\"queue\":2,\"skills\":[7]}",
      "bad_request", "1", "\"skill\": a skill", NULL);
    R("{\"cmd\":\"transfer\",\"id\":1,\"conv\":3,\"agent\":2,\"skills\":[{\"skill\":4,"
      "\"level\":1}]}", "bad_request", "1", "not to an agent", NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_nul_and_surrogates_echo_the_id),
        cmocka_unit_test(test_bad_json_in_product_words),
        cmocka_unit_test(test_unknown_command_cut_on_a_character),
        cmocka_unit_test(test_request_body),
        cmocka_unit_test(test_transfer_skills),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
