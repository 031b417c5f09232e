/*
 * fuzz_admin: arbitrary request bodies through the administrator's REST
 * (api_admin.c, /api/admin/settings) with a real core and a real SQLite
 * store (":memory:"), fresh for every input, and an administrator's
 * session. No network: the request goes straight to api_http_request.
 *
 * Input: byte 0 picks the call, byte 1 the kind, byte 2 the id; the rest
 * is the body:
 *   0 PUT /api/admin/KIND/ID   1 POST /api/admin/import
 *   2 PUT /api/admin/settings  3 PUT /api/admin/canned_responses/ID
 *   4 DELETE /api/admin/KIND/ID, then the PUT
 * Checked beyond "no crash, no leak":
 *   - every answer has a known status and a JSON object body, with an
 *     "error" code unless it is 200;
 *   - a PUT that succeeds is idempotent: GET it, PUT that back (less the
 *     read-only fields), GET again: the same JSON;
 *   - an import is all or nothing: refused, the export is unchanged;
 *     accepted, importing the export again changes nothing.
 * Bodies that set a clear-text "password" are skipped: argon2id hashing
 * (64 MiB, ~0.1 s) is not parsing and would stall the fuzzer.
 * One api, one store and one base state are made once for the whole run
 * (api_new hashes a dummy password; opening a store and importing the base
 * configuration cost about 10 ms under ASan). Each input then runs inside
 * one store transaction that is rolled back afterwards, and the core is
 * rebuilt from the base state's events (cc_replay: pure, microseconds), so
 * every input starts from exactly the same state without reopening
 * anything: about 20 times more inputs per second than a fresh store each.
 */
#include <jansson.h>
#include <sodium.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "api/api_int.h"
#include "api/api_parse.h"

#define NOW 1732470000000LL
#define TOKEN "fuzz-admin-session"

static const char base_config[] =
    "{\"teams\":[{\"id\":1,\"name\":\"Support\"},{\"id\":2,\"name\":\"S\\u00e4lj\"}],"
    "\"wrapup_reasons\":[{\"id\":1,\"name\":\"L\\u00f6st\"}],"
    "\"idle_reasons\":[{\"id\":1,\"name\":\"Lunch\"}],"
    "\"queues\":[{\"id\":1,\"name\":\"Kundtj\\u00e4nst\",\"teams\":[1],\"rona_timeout_s\":30},"
    "{\"id\":2,\"name\":\"S\\u00e4lj\",\"teams\":[2],\"auto_wrapup_s\":120,"
    "\"default_reason\":1,\"fallback\":1}],"
    "\"entry_points\":[{\"id\":1,\"number\":\"+46700000001\",\"queue\":1},"
    "{\"id\":2,\"number\":\"71000\",\"queue\":2}],"
    "\"agents\":[{\"id\":1,\"name\":\"Anna Berg\",\"teams\":[1],\"capacity\":3,"
    "\"username\":\"anna\",\"password_hash\":\"$argon2id$v=19$m=65536,t=2,p=1$YQ$YQ\"},"
    "{\"id\":2,\"name\":\"Erik Lund\",\"teams\":[1,2],"
    "\"username\":\"erik\",\"password_hash\":\"$argon2id$v=19$m=65536,t=2,p=1$Yg$Yg\"}]}";

static const char *const kinds[] = {"teams",        "queues", "entry_points",
                                    "wrapup_reasons", "idle_reasons", "agents"};

static api *A;
static cc *core;
static store *st;
static cc_evlog base_log; /* the events of the base state */
static int in_input;      /* an input's transaction is open: no commits */

static int fuzz_apply(void *arg, const cc_cmd *m)
{
    cc_events ev;
    cc_events_init(&ev);
    int r = cc_apply(core, m, NOW, &ev);
    if (ev.n) {
        if (!in_input)
            CHECK(store_begin(st) == 0);
        for (size_t i = 0; i < ev.n; i++) {
            CHECK(store_event_append(st, &ev.v[i]) == 0);
            if (!in_input)
                cc_evlog_add(&base_log, &ev.v[i]);
        }
        if (!in_input)
            CHECK(store_commit(st) == 0);
    }
    cc_events_free(&ev);
    return r;
}

/* The write path for sessions, accounts, settings and canned responses
 * (api_env.write_begin/_end): inside an input's transaction it opens none
 * of its own (the input's rollback undoes it all). */
static int fuzz_write_begin(void *arg)
{
    if (in_input)
        return 0;
    return store_begin(st) == 0 ? 0 : -CC_E_STORE;
}

static int fuzz_write_end(void *arg, int r)
{
    if (in_input)
        return r;
    if (r == 0 && store_commit(st) == 0)
        return 0;
    store_rollback(st);
    return r ? r : -CC_E_STORE;
}

static int64_t fuzz_now(void *arg)
{
    return NOW;
}

/* One request; returns the status and the parsed body in '*out'. */
static int call(const char *method, const char *path, str body, json_t **out)
{
    http_req req = {.method = method,
                    .path = path,
                    .body = body,
                    .session = STR_LIT(TOKEN),
                    .peer = STR_LIT("127.0.0.1")};
    http_resp resp = {.status = 200};
    buf_init(&resp.body);
    api_http_request(A, &req, &resp);
    static const int known[] = {200, 400, 401, 403, 404, 405, 409, 422, 503};
    int ok = 0;
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
        ok |= resp.status == known[i];
    CHECK(ok);
    json_t *j = json_loadb(resp.body.p ? resp.body.p : "", resp.body.n, 0, NULL);
    CHECK(json_is_object(j));
    if (resp.status != 200)
        CHECK(json_is_string(json_object_get(j, "error")));
    buf_free(&resp.body);
    if (out)
        *out = j;
    else
        json_decref(j);
    return resp.status;
}

static int call_json(const char *method, const char *path, json_t *body, json_t **out)
{
    char *s = json_dumps(body, JSON_COMPACT);
    CHECK(s);
    int r = call(method, path, str_c(s), out);
    free(s);
    return r;
}

static json_t *export_now(void)
{
    json_t *e;
    CHECK(call("GET", "/api/admin/export", STR_NULL, &e) == 200);
    return e;
}

/* The base state, once: a store with an administrator's session and the
 * base configuration, and its events in base_log. */
static void base_state(void)
{
    char err[256];
    api_env env = {.apply = fuzz_apply, .now = fuzz_now, .write_begin = fuzz_write_begin,
                   .write_end = fuzz_write_end};
    core = cc_new();
    st = store_open(":memory:", err, sizeof err);
    CHECK(core && st);
    env.core = core;
    env.st = st;
    A = api_new(&env);
    CHECK(A);
    A->mask = 0;
    cc_evlog_init(&base_log);
    CHECK(store_account_put(st, STR_LIT("root"), STR_LIT("$argon2id$not-used"), 0,
                            STORE_ROLE_ADMIN) == 0);
    store_account acc;
    CHECK(store_account_get(st, STR_LIT("root"), &acc) == 0);
    unsigned char h[32];
    char hex[65];
    crypto_generichash(h, sizeof h, (const unsigned char *)TOKEN, strlen(TOKEN), NULL, 0);
    sodium_bin2hex(hex, sizeof hex, h, sizeof h);
    CHECK(store_session_put(st, str_c(hex), acc.id, NOW + 3600 * 1000) == 0);
    CHECK(call("POST", "/api/admin/import", STR_LIT(base_config), NULL) == 200);
}

/* Back to the base state: the store's transaction rolled back, the core
 * rebuilt from the base events, the settings as they were. */
static void begin_input(void)
{
    cc_free(core);
    core = cc_new();
    for (size_t i = 0; i < base_log.n; i++)
        CHECK(cc_replay(core, &base_log.v[i]) == 0);
    A->env.core = core;
    A->mask = 0;
    CHECK(store_begin(st) == 0);
    in_input = 1;
}

static void end_input(void)
{
    CHECK(store_rollback(st) == 0);
    in_input = 0;
}

static int has_password(json_t *j)
{
    const char *k;
    json_t *v;
    size_t i;
    if (json_is_object(j)) {
        json_object_foreach(j, k, v)
        {
            if (strcmp(k, "password") == 0 || has_password(v))
                return 1;
        }
    } else if (json_is_array(j)) {
        json_array_foreach(j, i, v)
        {
            if (has_password(v))
                return 1;
        }
    }
    return 0;
}

static void check_put_idempotent(const char *path)
{
    json_t *g1, *g2;
    CHECK(call("GET", path, STR_NULL, &g1) == 200);
    json_t *back = json_deep_copy(g1);
    json_object_del(back, "waiting");
    json_object_del(back, "state");
    CHECK(call_json("PUT", path, back, NULL) == 200);
    CHECK(call("GET", path, STR_NULL, &g2) == 200);
    CHECK(json_equal(g1, g2));
    json_decref(back);
    json_decref(g1);
    json_decref(g2);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 3)
        return 0;
    str body = {(const char *)data + 3, size - 3};
    if (!api_parse_too_deep(body.p, body.n)) {
        json_t *j = json_loadb(body.p, body.n, 0, NULL);
        int skip = has_password(j);
        json_decref(j);
        if (skip)
            return 0;
    }
    if (!A)
        base_state(); /* kept to the end of the process */
    begin_input();
    const char *kind = kinds[data[1] % 6];
    unsigned id = data[2] % 8; /* 0 and a few ids, some of them taken */
    char path[96];
    int op = data[0] % 5;
    /* the export before an import (all or nothing); the other calls do not
     * need it, and it is the dearest call here */
    json_t *before = op == 1 ? export_now() : NULL, *after;
    switch (op) {
    case 4:
        snprintf(path, sizeof path, "/api/admin/%s/%u", kind, id);
        call("DELETE", path, STR_NULL, NULL);
        /* fall through */
    case 0:
        snprintf(path, sizeof path, "/api/admin/%s/%u", kind, id);
        if (call("PUT", path, body, NULL) == 200)
            check_put_idempotent(path);
        break;
    case 1:
        if (call("POST", "/api/admin/import", body, NULL) == 200) {
            json_decref(before);
            before = export_now();
            CHECK(call_json("POST", "/api/admin/import", before, NULL) == 200);
            after = export_now();
            CHECK(json_equal(before, after));
            json_decref(after);
        } else {
            after = export_now();
            CHECK(json_equal(before, after)); /* all or nothing */
            json_decref(after);
        }
        break;
    case 2:
        call("PUT", "/api/admin/settings", body, NULL);
        break;
    case 3:
        snprintf(path, sizeof path, "/api/admin/canned_responses/%u", id);
        call("PUT", path, body, NULL);
        break;
    }
    json_decref(before);
    end_input();
    return 0;
}
