/*
 * config.c: the JSON configuration file (docs/configuration.md). It is
 * validated completely when loaded: JSON syntax (jansson gives the line),
 * then every key and type, then the meaning, by applying the whole
 * configuration to a scratch core, so that an error names the key
 * ("queues[1].fallback") and the core's own reason. Nothing is applied
 * unless all of it is valid.
 */
#include <errno.h>
#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/app.h"
#include "sms/sms_text.h"
#include "api/api_sso.h"
#include "app/app_hooks.h"
#include "app/gateways.h"
#include "app/ha.h"
#include "store/entity_json.h"
#include "store/flow_json.h"
#include "util/netaddr.h"
#include "util/xalloc.h"

struct app_config {
    json_t *root;
    char *path;
};

/* The built-in demo: what `make run` starts with. */
static const char demo_json[] =
    "{\n"
    " \"listen\": \"127.0.0.1:8080\",\n"
    " \"data_dir\": \"./data\",\n"
    " \"settings\": {\"disconnect_grace_s\": 120, \"mask_sensitive_data\": false},\n"
    " \"teams\": [{\"id\": 1, \"name\": \"Support\"}, {\"id\": 2, \"name\": \"Sälj\"}],\n"
    " \"wrapup_reasons\": [{\"id\": 1, \"name\": \"Löst\"}, {\"id\": 2, \"name\": \"Återkommer\"},\n"
    "                      {\"id\": 3, \"name\": \"Felaktigt nummer\"}],\n"
    " \"idle_reasons\": [{\"id\": 1, \"name\": \"Lunch\"}, {\"id\": 2, \"name\": \"Möte\"},\n"
    "                    {\"id\": 3, \"name\": \"Utbildning\"}],\n"
    " \"skills\": [{\"id\": 1, \"name\": \"Svenska\"}, {\"id\": 2, \"name\": \"English\"}],\n"
    " \"queues\": [\n"
    "  {\"id\": 1, \"name\": \"Kundtjänst\", \"teams\": [1], \"rona_timeout_s\": 30},\n"
    "  {\"id\": 2, \"name\": \"Sälj\", \"teams\": [2], \"rona_timeout_s\": 30,\n"
    "   \"auto_wrapup_s\": 120, \"default_reason\": 1, \"fallback\": 1}],\n"
    " \"entry_points\": [{\"id\": 1, \"number\": \"+46700000001\", \"queue\": 1,\n"
    "                     \"skill_words\": [{\"word\": \"english\", \"skill\": 2, \"level\": 1}]},\n"
    "                    {\"id\": 2, \"number\": \"71000\", \"queue\": 2}],\n"
    " \"agents\": [\n"
    "  {\"id\": 1, \"name\": \"Anna Berg\", \"teams\": [1], \"capacity\": 3,\n"
    "   \"skills\": [{\"skill\": 1, \"level\": 5}, {\"skill\": 2, \"level\": 3}],\n"
    "   \"username\": \"anna\", \"password\": \"demo-anna\"},\n"
    "  {\"id\": 2, \"name\": \"Erik Lund\", \"teams\": [1], \"capacity\": 3,\n"
    "   \"skills\": [{\"skill\": 1, \"level\": 4}],\n"
    "   \"username\": \"erik\", \"password\": \"demo-erik\"},\n"
    "  {\"id\": 3, \"name\": \"Maja Ek\", \"teams\": [1, 2], \"capacity\": 3,\n"
    "   \"skills\": [{\"skill\": 1, \"level\": 3}, {\"skill\": 2, \"level\": 5}],\n"
    "   \"username\": \"maja\", \"password\": \"demo-maja\"}],\n"
    " \"admins\": [{\"username\": \"admin\", \"password\": \"demo-admin\"}],\n"
    " \"supervisors\": [{\"username\": \"lena\", \"password\": \"demo-lena\"}]\n"
    "}\n";

typedef struct ctx {
    const app_config *cfg;
    char *err;
    size_t n;
    /* 'apply' runs one command; returns cc_apply's result */
    int (*apply)(void *arg, const cc_cmd *m);
    void *arg;
} ctx;

static int fail(ctx *x, const char *where, const char *fmt, const char *detail)
{
    char msg[256];
    snprintf(msg, sizeof msg, fmt, detail);
    snprintf(x->err, x->n, "%s: %s: %s", x->cfg->path, where, msg);
    return -1;
}

/* Checks that 'obj' has only 'allowed' keys (NULL-terminated). */
static int only_keys(ctx *x, const char *where, json_t *obj, const char *const *allowed)
{
    const char *key;
    json_t *v;
    json_object_foreach(obj, key, v)
    {
        int ok = 0;
        for (const char *const *k = allowed; *k; k++)
            ok |= strcmp(*k, key) == 0;
        if (!ok)
            return fail(x, where, "unknown key \"%s\"", key);
    }
    return 0;
}

static int get_int(ctx *x, const char *where, json_t *obj, const char *key, int need,
                   long long lo, long long hi, long long *out)
{
    json_t *v = json_object_get(obj, key);
    char w[160];
    snprintf(w, sizeof w, "%s.%s", where, key);
    if (!v) {
        if (need)
            return fail(x, w, "%s is required", key);
        return 0;
    }
    if (!json_is_integer(v))
        return fail(x, w, "must be a whole number%s", "");
    long long i = json_integer_value(v);
    if (i < lo || i > hi) {
        char range[64];
        snprintf(range, sizeof range, "%lld..%lld", lo, hi);
        return fail(x, w, "out of range (%s)", range);
    }
    *out = i;
    return 0;
}

static int get_text(ctx *x, const char *where, json_t *obj, const char *key, int need,
                    str *out)
{
    json_t *v = json_object_get(obj, key);
    char w[160];
    snprintf(w, sizeof w, "%s.%s", where, key);
    if (!v) {
        if (need)
            return fail(x, w, "%s is required", key);
        *out = STR_NULL;
        return 0;
    }
    if (!json_is_string(v))
        return fail(x, w, "must be a string%s", "");
    *out = (str){json_string_value(v), json_string_length(v)};
    return 0;
}

/* An account has "password" (hashed at first start) or "password_hash"
 * (an argon2id string, e.g. from `textdesk hash-password`), not both. */
static int check_password(ctx *x, const char *where, json_t *e)
{
    str pass, hash;
    if (get_text(x, where, e, "password", 0, &pass) ||
        get_text(x, where, e, "password_hash", 0, &hash))
        return -1;
    if (!!pass.p == !!hash.p)
        return fail(x, where, "give exactly one of password and password_hash%s", "");
    if (pass.p && pass.n < 4)
        return fail(x, where, "password must be at least 4 characters%s", "");
    if (hash.p && (hash.n < 10 || memcmp(hash.p, "$argon2id$", 10) != 0))
        return fail(x, where, "password_hash must be an argon2id hash ($argon2id$...)%s", "");
    return 0;
}

static int run(ctx *x, const char *where, const cc_cmd *m)
{
    int r = x->apply(x->arg, m);
    if (r < 0) {
        char msg[160];
        snprintf(msg, sizeof msg, "%s (%s)", cc_err_msg(r), cc_err_code(r));
        return fail(x, where, "%s", msg);
    }
    return 0;
}

static json_t *section(ctx *x, const char *name, int *bad)
{
    json_t *v = json_object_get(x->cfg->root, name);
    if (v && !json_is_array(v)) {
        fail(x, name, "must be a list%s", "");
        *bad = 1;
        return NULL;
    }
    return v;
}

/* The command that puts entity 'e' of 'kind' at 'where' (entity_json:
 * the admin API reads entities with the same code, so a bad entity gets
 * the same error from both). */
static int put_cmd(ctx *x, const char *where, int kind, json_t *e, cc_cmd *m,
                   entity_json_room *room)
{
    entity_json_err err;
    if (entity_json_put(kind, e, 0, 0, m, room, &err) == 0)
        return 0;
    char w[256];
    snprintf(w, sizeof w, "%s.%s", where, err.field);
    return fail(x, w, "%s", err.msg);
}

/* Walks the configuration in dependency order, running each command. */
static int walk(ctx *x)
{
    static const char *const top[] = {"listen",       "data_dir",  "store",     "settings",
                                      "teams",        "queues",         "entry_points",
                                      "wrapup_reasons", "idle_reasons", "skills",
                                      "agents",
                                      "admins",       "supervisors",    "gateways",
                                      "outbox",       "tls",            "trusted_proxies",
                                      "ca_file",      "webhooks",       "ha",
                                      "sso",          NULL};
    json_t *root = x->cfg->root;
    if (!json_is_object(root))
        return fail(x, "(top)",
                    "the file must hold one JSON object: put the configuration inside { }%s",
                    "");
    if (only_keys(x, "(top)", root, top))
        return -1;
    char w[128];
    size_t i;
    json_t *e;
    int bad = 0;

    json_t *settings = json_object_get(root, "settings");
    if (settings) {
        static const char *const keys[] = {"disconnect_grace_s", "mask_sensitive_data",
                                           "keywords", NULL};
        json_t *kw = json_object_get(settings, "keywords");
        if (kw) {
            static const char *const kinds[] = {"stop", "start", "help", NULL};
            if (!json_is_object(kw) || only_keys(x, "settings.keywords", kw, kinds))
                return json_is_object(kw) ? -1
                                          : fail(x, "settings.keywords",
                                                 "must be {\"stop\": [...], \"start\": [...], "
                                                 "\"help\": [...]}%s",
                                                 "");
            const char *kk;
            json_t *list;
            json_object_foreach(kw, kk, list)
            {
                size_t ki;
                json_t *word;
                char kwhere[64];
                snprintf(kwhere, sizeof kwhere, "settings.keywords.%s", kk);
                if (!json_is_array(list) || json_array_size(list) > 32)
                    return fail(x, kwhere, "must be a list of at most 32 words%s", "");
                json_array_foreach(list, ki, word)
                    if (!json_is_string(word) || json_string_length(word) == 0 ||
                        json_string_length(word) > 64)
                        return fail(x, kwhere, "must hold words of 1..64 bytes%s", "");
            }
        }
        json_t *mask = json_object_get(settings, "mask_sensitive_data");
        if (mask && !json_is_boolean(mask))
            return fail(x, "settings.mask_sensitive_data", "must be true or false%s", "");
        if (!json_is_object(settings))
            return fail(x, "settings", "must be an object%s", "");
        if (only_keys(x, "settings", settings, keys))
            return -1;
        long long grace = 120;
        if (get_int(x, "settings", settings, "disconnect_grace_s", 0, 1, 86400, &grace))
            return -1;
        if (run(x, "settings", &(cc_cmd){.type = CC_CMD_SETTINGS, .grace_ms = grace * 1000}))
            return -1;
    }

    const struct {
        const char *name;
        int kind;
    } entities[] = {{"teams", CC_KIND_TEAM},     {"wrapup_reasons", CC_KIND_REASON},
                    {"idle_reasons", CC_KIND_IDLE_REASON}, {"skills", CC_KIND_SKILL},
                    {"queues", CC_KIND_QUEUE},   {"queues", CC_KIND_QUEUE},
                    {"entry_points", CC_KIND_EP}, {"agents", CC_KIND_AGENT}};
    /* in dependency order; queues twice: fallbacks name queues of the
     * first pass */
    for (size_t s = 0; s < sizeof entities / sizeof entities[0]; s++) {
        json_t *arr = section(x, entities[s].name, &bad);
        if (bad)
            return -1;
        json_array_foreach(arr, i, e)
        {
            snprintf(w, sizeof w, "%s[%zu]", entities[s].name, i);
            if (!json_is_object(e))
                return fail(x, w, "must be an object%s", "");
            cc_cmd m;
            entity_json_room room;
            if (put_cmd(x, w, entities[s].kind, e, &m, &room))
                return -1;
            if (entities[s].kind == CC_KIND_QUEUE && s + 1 < sizeof entities / sizeof entities[0] &&
                entities[s + 1].kind == CC_KIND_QUEUE)
                m.fallback = 0; /* the first pass */
            if (entities[s].kind == CC_KIND_AGENT) { /* its account */
                str user;
                if (get_text(x, w, e, "username", 1, &user) || check_password(x, w, e))
                    return -1;
                if (user.n == 0 || user.n > 64)
                    return fail(x, w, "username must be 1..64 bytes%s", "");
            }
            if (run(x, w, &m))
                return -1;
        }
    }
    static const char *const admin_keys[] = {"username", "password", "password_hash", NULL};
    static const char *const people[] = {"admins", "supervisors"};
    for (int p = 0; p < 2; p++) {
        json_t *list = section(x, people[p], &bad);
        if (bad)
            return -1;
        json_array_foreach(list, i, e)
        {
            snprintf(w, sizeof w, "%s[%zu]", people[p], i);
            str user;
            if (!json_is_object(e))
                return fail(x, w, "must be an object%s", "");
            if (only_keys(x, w, e, admin_keys) || get_text(x, w, e, "username", 1, &user) ||
                check_password(x, w, e))
                return -1;
            if (user.n == 0 || user.n > 64)
                return fail(x, w, "username must be 1..64 bytes%s", "");
        }
    }
    const char *listen = NULL;
    json_t *l = json_object_get(root, "listen");
    if (l && !(listen = json_string_value(l)))
        return fail(x, "listen", "must be a string like \"127.0.0.1:8080\"%s", "");
    json_t *d = json_object_get(root, "data_dir");
    if (d && !json_is_string(d))
        return fail(x, "data_dir", "must be a string%s", "");
    json_t *sto = json_object_get(root, "store");
    if (sto && (!json_is_string(sto) || !store_url_ok(json_string_value(sto))))
        return fail(x, "store",
                    "must be a store URL: a folder, \"sqlite:DIR\" or \"postgresql://USER@HOST/DB\"%s", "");
    if (sto && d)
        return fail(x, "store", "and \"data_dir\" both name the store: keep one%s", "");
    json_t *tls = json_object_get(root, "tls");
    if (tls) {
        static const char *const tk[] = {"cert", "key", NULL};
        str tv;
        if (!json_is_object(tls))
            return fail(x, "tls", "must be an object {\"cert\": FILE, \"key\": FILE}%s", "");
        if (only_keys(x, "tls", tls, tk) || get_text(x, "tls", tls, "cert", 1, &tv))
            return -1;
        if (tv.n == 0 || strlen(tv.p) != tv.n)
            return fail(x, "tls.cert", "must name a PEM file%s", "");
        if (get_text(x, "tls", tls, "key", 1, &tv))
            return -1;
        if (tv.n == 0 || strlen(tv.p) != tv.n)
            return fail(x, "tls.key", "must name a PEM file%s", "");
    }
    json_t *ca = json_object_get(root, "ca_file");
    if (ca && (!json_is_string(ca) || json_string_length(ca) == 0 ||
               strlen(json_string_value(ca)) != json_string_length(ca)))
        return fail(x, "ca_file",
                    "must name a PEM file of the CAs trusted for outbound HTTPS%s", "");
    api_sso_cfg sso; /* single sign-on (api_sso.h): checked here, used by the API */
    char serr[256];
    if (api_sso_cfg_parse(json_object_get(root, "sso"), &sso, serr, sizeof serr) != 0) {
        snprintf(x->err, x->n, "%s: %s", x->cfg->path, serr); /* "sso.KEY: ..." */
        return -1;
    }
    api_sso_cfg_free(&sso);
    json_t *hj = json_object_get(root, "ha");
    if (hj) {
        static const char *const hk[] = {"lease_ms", "self_fence_ms", "step_ms", NULL};
        if (!json_is_object(hj))
            return fail(x, "ha",
                        "must be an object {\"lease_ms\", \"self_fence_ms\", \"step_ms\"}%s",
                        "");
        long long v[3] = {HA_LEASE_MS, HA_FENCE_MS, HA_STEP_MS};
        /* whole numbers here; their ranges in ha_timing_check, which words
         * them as for --lease-ms, --self-fence-ms and --step-ms */
        if (only_keys(x, "ha", hj, hk) ||
            get_int(x, "ha", hj, "lease_ms", 0, LLONG_MIN, LLONG_MAX, &v[0]) ||
            get_int(x, "ha", hj, "self_fence_ms", 0, LLONG_MIN, LLONG_MAX, &v[1]) ||
            get_int(x, "ha", hj, "step_ms", 0, LLONG_MIN, LLONG_MAX, &v[2]))
            return -1;
        char msg[256];
        if (ha_timing_check(&(ha_timing){v[0], v[1], v[2]}, msg, sizeof msg) != 0) {
            snprintf(x->err, x->n, "%s: %s", x->cfg->path, msg);
            return -1;
        }
    }
    json_t *tp = json_object_get(root, "trusted_proxies");
    if (tp) {
        size_t k;
        json_t *pe;
        netaddr r;
        if (!json_is_array(tp) || json_array_size(tp) > APP_TRUSTED_PROXIES_MAX)
            return fail(x, "trusted_proxies",
                        "must be a list of at most 64 addresses or ranges "
                        "([\"127.0.0.1\", \"10.0.0.0/8\"])%s", "");
        json_array_foreach(tp, k, pe)
        {
            if (!json_is_string(pe) ||
                netaddr_parse_range((str){json_string_value(pe), json_string_length(pe)}, &r) != 0)
                return fail(x, "trusted_proxies",
                            "each entry must be an IP address or a range such as "
                            "\"10.0.0.0/8\" or \"fd00::/8\"%s", "");
        }
    }
    return 0;
}

static int apply_scratch(void *arg, const cc_cmd *m)
{
    cc_events ev;
    cc_events_init(&ev);
    int r = cc_apply(arg, m, 0, &ev);
    cc_events_free(&ev);
    return r;
}

/* Validates the parsed 'root' (taken) as the configuration 'name'. */
static app_config *load_json(json_t *root, const char *name, char *err, size_t n)
{
    app_config *cfg = xcalloc(1, sizeof *cfg);
    cfg->root = root;
    cfg->path = xmemdup0(name, strlen(name));
    cc *scratch = cc_new();
    ctx x = {cfg, err, n, apply_scratch, scratch};
    int r = walk(&x);
    if (r == 0) /* gateways, outbox, entry_points[].gateway: config_gw.c */
        r = app_config__check_gateways(cfg, cfg->path, err, n);
    if (r == 0)
        r = app_config__check_hooks(cfg, cfg->path, err, n);
    cc_free(scratch);
    if (r != 0) {
        app_config_free(cfg);
        return NULL;
    }
    return cfg;
}

/* A JSON syntax error of file 'name' in plain words: where (line and
 * column, as an editor counts them), what is wrong, and what to do.
 * jansson's own text ("'[' or '{' expected near 'x'") speaks of tokens;
 * its code, and for a syntax error the start of its text, tell which. */
static void syntax_error(const json_error_t *je, const char *name, char *err, size_t n)
{
    static const struct {
        const char *jansson, *words;
    } syntax[] = {
        {"',' or '}' expected", "a comma or a closing } is missing before this point: put a "
                                "comma between two entries, or close the object"},
        {"',' or ']' expected", "a comma or a closing ] is missing before this point: put a "
                                "comma between two values, or close the list"},
        {"'}' expected", "a comma or a closing } is missing before this point: put a comma "
                         "between two entries, or close the object"},
        {"']' expected", "a comma or a closing ] is missing before this point: put a comma "
                         "between two values, or close the list"},
        {"string or '}' expected", "a key in double quotes is expected here: remove the comma "
                                   "after the last entry, or write the key as \"key\""},
        {"':' expected", "a colon is missing after the key: write \"key\": value"},
        {"'[' or '{' expected", "the configuration is one JSON object: start the file with { "
                                "and end it with }"},
        {"unexpected newline", "a string runs on past the end of its line: close it with a "
                               "double quote"},
        {"control character", "a string holds a control character (a tab?): write it as \\t, "
                               "or remove it"},
        {"invalid escape", "a backslash in a string starts no escape: write a backslash as "
                           "\\\\"},
        {"invalid Unicode", "a \\u escape is not a character: write four hexadecimal digits "
                            "(\\u00e5)"},
        {"end of file expected", "more follows the end of the configuration's object: remove "
                                 "it, or move it inside the outer { }"},
        {"maximum parsing depth", "lists and objects are nested too deeply: flatten them"},
    };
    const char *what = "this is not JSON: keys and strings take double quotes, and comments, "
                       "single quotes and a comma after the last entry are not allowed";
    switch (json_error_code(je)) {
    case json_error_invalid_utf8:
        what = "the file is not UTF-8 text: save it as UTF-8";
        break;
    case json_error_premature_end_of_input:
        /* nothing but blanks: jansson waited for the first bracket */
        what = strncmp(je->text, "'[' or '{' expected", 19) == 0
                   ? "the file is empty: write the configuration in it, one "
                                   "JSON object (docs/configuration.md)"
                                 : "the file ends before its JSON is complete: close every "
                                   "string, list and object that is open";
        break;
    case json_error_duplicate_key:
        what = "a key is written twice in one object: keep one of them";
        break;
    case json_error_null_character:
    case json_error_null_byte_in_key:
        what = "the file holds the character U+0000 (\\u0000): remove it";
        break;
    case json_error_numeric_overflow:
        what = "a number is too large: write a smaller one";
        break;
    default:
        for (size_t i = 0; i < sizeof syntax / sizeof *syntax; i++)
            if (strncmp(je->text, syntax[i].jansson, strlen(syntax[i].jansson)) == 0) {
                what = syntax[i].words;
                break;
            }
    }
    snprintf(err, n, "%s: line %d, column %d: %s", name, je->line > 0 ? je->line : 1,
             je->column > 0 ? je->column : 1, what);
}

int app_config_check_json(const char *text, size_t len, const char *name, char *err, size_t n)
{
    json_error_t je;
    json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
    if (!root) {
        syntax_error(&je, name, err, n);
        return -1;
    }
    json_decref(root);
    return 0;
}

app_config *app_config_load(const char *path, char *err, size_t n)
{
    if (!path)
        return app_config_load_text(demo_json, sizeof demo_json - 1, "(demo)", err, n);
    json_error_t je;
    json_t *root = json_load_file(path, JSON_REJECT_DUPLICATES, &je);
    if (!root && json_error_code(&je) == json_error_cannot_open_file) {
        const char *why = strrchr(je.text, ':'); /* "unable to open PATH: REASON" */
        snprintf(err, n,
                 "cannot read the configuration file %s: %s: check the path (--config FILE)", path,
                 why ? why + 2 : "cannot open it");
        return NULL;
    }
    if (!root) {
        syntax_error(&je, path, err, n);
        return NULL;
    }
    return load_json(root, path, err, n);
}

app_config *app_config_load_text(const char *text, size_t len, const char *name, char *err,
                                 size_t n)
{
    json_error_t je;
    json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
    if (!root) {
        syntax_error(&je, name, err, n);
        return NULL;
    }
    return load_json(root, name, err, n);
}

void app_config_free(app_config *cfg)
{
    if (!cfg)
        return;
    json_decref(cfg->root);
    free(cfg->path);
    free(cfg);
}

static int apply_live(void *arg, const cc_cmd *m)
{
    return app_apply(arg, m);
}

int app_config_apply(app *a, const app_config *cfg, char *err, size_t n)
{
    ctx x = {cfg, err, n, apply_live, a};
    if (walk(&x) != 0)
        return -1;
    if (store_begin(a->st) != 0) {
        snprintf(err, n, "store: %s", store_errmsg(a->st));
        return -1;
    }
    static const char *const kinds[] = {"agents", "admins", "supervisors"};
    static const int roles[] = {STORE_ROLE_AGENT, STORE_ROLE_ADMIN, STORE_ROLE_SUPERVISOR};
    for (int k = 0; k < 3; k++) {
        json_t *list = json_object_get(cfg->root, kinds[k]), *e;
        size_t i;
        json_array_foreach(list, i, e)
        {
            const char *user = json_string_value(json_object_get(e, "username"));
            const char *pass = json_string_value(json_object_get(e, "password"));
            const char *given = json_string_value(json_object_get(e, "password_hash"));
            char *hash = given ? xmemdup0(given, strlen(given)) : api_password_hash(pass);
            uint32_t agent = k == 0 ? (uint32_t)json_integer_value(json_object_get(e, "id")) : 0;
            int r = hash ? store_account_put(a->st, str_c(user), str_c(hash), agent, roles[k])
                         : -1;
            free(hash);
            if (r != 0) {
                snprintf(err, n, "%s: %s[%zu]: cannot store the account: %s", cfg->path,
                         kinds[k], i, r == -EEXIST ? "username taken" : store_errmsg(a->st));
                store_rollback(a->st);
                return -1;
            }
        }
    }
    json_t *mask = json_object_get(json_object_get(cfg->root, "settings"), "mask_sensitive_data");
    if (mask && store_setting_put(a->st, STR_LIT("mask_sensitive_data"),
                                  json_is_true(mask) ? STR_LIT("1") : STR_LIT("0")) != 0) {
        snprintf(err, n, "store: %s", store_errmsg(a->st));
        store_rollback(a->st);
        return -1;
    }
    if (store_commit(a->st) != 0) {
        snprintf(err, n, "store: %s", store_errmsg(a->st));
        return -1;
    }
    return 0;
}

void app_config_print_logins(const app_config *cfg)
{
    static const char *const kinds[] = {"agents", "admins", "supervisors"};
    static const char *const what[] = {NULL, "administrator", "supervisor"};
    for (int k = 0; k < 3; k++) {
        json_t *list = json_object_get(cfg->root, kinds[k]), *e;
        size_t i;
        json_array_foreach(list, i, e)
        {
            const char *name = json_string_value(json_object_get(e, "name"));
            if (!name)
                name = what[k];
            if (!json_object_get(e, "password"))
                continue;
            printf("  %-10s password %-12s (%s)\n",
                   json_string_value(json_object_get(e, "username")),
                   json_string_value(json_object_get(e, "password")),
                   name);
        }
    }
}

size_t app_config_keywords(const app_config *cfg, sms_keyword *out, size_t max)
{
    json_t *kw = json_object_get(json_object_get(cfg->root, "settings"), "keywords");
    if (!kw) {
        size_t n = sms_keywords_default_count < max ? sms_keywords_default_count : max;
        memcpy(out, sms_keywords_default, n * sizeof *out);
        return n;
    }
    static const struct {
        const char *name;
        enum sms_keyword_kind kind;
    } kinds[] = {{"stop", SMS_KW_STOP}, {"start", SMS_KW_START}, {"help", SMS_KW_HELP}};
    size_t n = 0;
    for (size_t k = 0; k < 3; k++) {
        json_t *list = json_object_get(kw, kinds[k].name), *w;
        size_t i;
        json_array_foreach(list, i, w)
            if (n < max)
                out[n++] = (sms_keyword){json_string_value(w), kinds[k].kind};
    }
    return n;
}

void *app_config__json(const app_config *cfg)
{
    return cfg->root;
}

const char *app_config_listen(const app_config *cfg)
{
    return json_string_value(json_object_get(cfg->root, "listen"));
}

void app_config_tls(const app_config *cfg, const char **cert, const char **key)
{
    json_t *tls = json_object_get(cfg->root, "tls");
    *cert = json_string_value(json_object_get(tls, "cert"));
    *key = json_string_value(json_object_get(tls, "key"));
}

size_t app_config_trusted_proxies(const app_config *cfg, netaddr *out, size_t max)
{
    json_t *tp = json_object_get(cfg->root, "trusted_proxies"), *v;
    size_t i, n = 0;
    json_array_foreach(tp, i, v)
    {
        if (n < max && json_is_string(v) &&
            netaddr_parse_range((str){json_string_value(v), json_string_length(v)},
                                &out[n]) == 0)
            n++;
    }
    return n;
}

const json_t *app_config_sso(const app_config *cfg)
{
    return json_object_get(cfg->root, "sso");
}

const char *app_config_ca_file(const app_config *cfg)
{
    return json_string_value(json_object_get(cfg->root, "ca_file"));
}

const char *app_config_store(const app_config *cfg)
{
    return json_string_value(json_object_get(cfg->root, "store"));
}

void app_config_ha(const app_config *cfg, ha_timing *t)
{
    json_t *hj = json_object_get(cfg->root, "ha");
    *t = HA_TIMING_DEFAULT;
    if (json_is_integer(json_object_get(hj, "lease_ms")))
        t->lease_ms = json_integer_value(json_object_get(hj, "lease_ms"));
    if (json_is_integer(json_object_get(hj, "self_fence_ms")))
        t->fence_ms = json_integer_value(json_object_get(hj, "self_fence_ms"));
    if (json_is_integer(json_object_get(hj, "step_ms")))
        t->step_ms = json_integer_value(json_object_get(hj, "step_ms"));
}

const char *app_config_data_dir(const app_config *cfg)
{
    return json_string_value(json_object_get(cfg->root, "data_dir"));
}
