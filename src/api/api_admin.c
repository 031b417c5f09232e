/*
 * api_admin.c: the administrator's REST surface (docs/api.md,
 * "Administration"). Every change is a core command, so it applies live:
 * removing an entry point terminates its conversations with the seed's
 * warning, removing a queue moves its waiting conversations to the
 * fallback, removing an agent re-queues its work (docs/internals/core.md).
 *
 *   GET    /api/admin/KIND            list
 *   GET    /api/admin/KIND/ID         one
 *   PUT    /api/admin/KIND/ID         create or change (the whole entity)
 *   DELETE /api/admin/KIND/ID         remove
 *   GET    /api/admin/export          the whole configuration, one JSON
 *   POST   /api/admin/import          make the configuration equal to the
 *                                     file: validated completely on a copy
 *                                     of the live state first (all or nothing)
 *
 * KIND: teams, queues, entry_points, wrapup_reasons, idle_reasons, skills,
 * agents.
 * The JSON of each entity is the configuration file's (docs/configuration.md).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api_int.h"
#include "store/entity_json.h"
#include "store/flow_json.h"
#include "util/utf8.h"
#include "util/xalloc.h"

static const struct kind {
    const char *name;
    int kind; /* CC_KIND_*: its keys are entity_json's */
} kinds[] = {
    {"teams", CC_KIND_TEAM},   {"wrapup_reasons", CC_KIND_REASON},
    {"idle_reasons", CC_KIND_IDLE_REASON}, {"skills", CC_KIND_SKILL},
    {"queues", CC_KIND_QUEUE}, {"entry_points", CC_KIND_EP},
    {"agents", CC_KIND_AGENT},
};
/* sync_config's put order: indexes into kinds, queues twice */
#define KIND_QUEUES 4
#define NKINDS (sizeof kinds / sizeof kinds[0])

/* ---- reading ----------------------------------------------------------- */

static json_t *ids_json(const uint32_t *ids, size_t n)
{
    json_t *arr = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(arr, json_integer(ids[i]));
    return arr;
}

static const char *const agent_states[] = {"logged_out", "idle", "available", "rona"};

/* One entity as JSON; 'secrets' adds the account's password hash (export). */
static json_t *item_json(api *a, int kind, uint32_t id, int secrets)
{
    const cc *c = a->env.core;
    str name = cc_name(c, kind, id);
    if (!name.p)
        return NULL;
    switch (kind) {
    case CC_KIND_QUEUE: {
        cc_queue_view q;
        cc_queue_get(c, id, &q);
        return json_pack("{s:i, s:o, s:o, s:I, s:I, s:i, s:i, s:o, s:I, s:i}", "id", (int)id,
                         "name", api__jstr(q.name), "teams", ids_json(q.teams, q.n_teams),
                         "rona_timeout_s", (json_int_t)(q.rona_ms / 1000), "auto_wrapup_s",
                         (json_int_t)(q.autowrap_ms / 1000), "default_reason",
                         (int)q.default_reason, "fallback", (int)q.fallback, "skills",
                         flow_json_skills(q.skills, q.n_skills), "widen_step_s",
                         (json_int_t)(q.widen_ms / 1000), "waiting", (int)q.waiting);
    }
    case CC_KIND_EP: {
        json_t *j = json_pack("{s:i, s:o, s:i}", "id", (int)id, "number", api__jstr(name),
                              "queue", (int)cc_ep_queue(c, id));
        cc_ep_flow f;
        if (cc_ep_flow_get(c, id, &f) == 0)
            flow_json_put(j, &f, 0);
        return j;
    }
    case CC_KIND_AGENT: {
        cc_agent_view v;
        cc_agent_get(c, id, &v);
        uint32_t teams[CC_TEAMS_MAX];
        size_t n = cc_agent_teams(c, id, teams, CC_TEAMS_MAX);
        cc_skill sk[CC_SKILLS_MAX];
        size_t nsk = cc_agent_skills(c, id, sk, CC_SKILLS_MAX);
        json_t *j = json_pack("{s:i, s:o, s:o, s:i, s:o, s:s}", "id", (int)id, "name",
                              api__jstr(v.name), "teams", ids_json(teams, n), "capacity",
                              (int)v.capacity, "skills", flow_json_skills(sk, nsk), "state",
                              agent_states[v.state & 3]);
        store_account acc;
        if (store_account_of_agent(a->env.st, id, &acc) == 0) {
            json_object_set_new(j, "username", api__jstr(acc.username));
            if (secrets)
                json_object_set_new(j, "password_hash", api__jstr(acc.pwhash));
        }
        return j;
    }
    default:
        return json_pack("{s:i, s:o}", "id", (int)id, "name", api__jstr(name));
    }
}

static json_t *list_kind(api *a, const struct kind *k, int secrets)
{
    size_t n = cc_list(a->env.core, k->kind, NULL, 0);
    cc_item *items = xmalloc((n + 1) * sizeof *items);
    cc_list(a->env.core, k->kind, items, n);
    json_t *arr = json_array();
    for (size_t i = 0; i < n; i++) {
        json_t *j = item_json(a, k->kind, items[i].id, secrets);
        if (secrets && k->kind == CC_KIND_QUEUE)
            json_object_del(j, "waiting");
        if (secrets && k->kind == CC_KIND_AGENT)
            json_object_del(j, "state");
        json_array_append_new(arr, j);
    }
    free(items);
    return arr;
}

/* ---- validation -------------------------------------------------------- */

typedef entity_json_err verr; /* a field and what is wrong with it */

/* Room for what a put command points to (entity_json's, and the entry
 * point's kept gateway); keep it while the command is used. */
typedef struct put_room {
    entity_json_room r;
    char gateway[CC_GATEWAY_ID_MAX + 1];
} put_room;

/* Builds the command that puts entity 'o' of kind 'k' (entity_json: the
 * same reading as the configuration file's; what GET shows beside the
 * entity may be written back). */
static int put_cmd(const struct kind *k, json_t *o, uint32_t id, cc_cmd *m, put_room *room,
                   verr *e)
{
    return entity_json_put(k->kind, o, id, ENTITY_JSON_SHOWN, m, &room->r, e);
}

static int remove_cmd(const struct kind *k, uint32_t id, cc_cmd *m)
{
    memset(m, 0, sizeof *m);
    switch (k->kind) {
    case CC_KIND_TEAM:
        *m = (cc_cmd){.type = CC_CMD_TEAM_REMOVE, .team = id};
        return 0;
    case CC_KIND_REASON:
        *m = (cc_cmd){.type = CC_CMD_REASON_REMOVE, .reason = id};
        return 0;
    case CC_KIND_IDLE_REASON:
        *m = (cc_cmd){.type = CC_CMD_IDLE_REASON_REMOVE, .reason = id};
        return 0;
    case CC_KIND_SKILL:
        *m = (cc_cmd){.type = CC_CMD_SKILL_REMOVE, .skill = id};
        return 0;
    case CC_KIND_QUEUE:
        *m = (cc_cmd){.type = CC_CMD_QUEUE_REMOVE, .queue = id};
        return 0;
    case CC_KIND_EP:
        *m = (cc_cmd){.type = CC_CMD_EP_REMOVE, .ep = id};
        return 0;
    case CC_KIND_AGENT:
        *m = (cc_cmd){.type = CC_CMD_AGENT_REMOVE, .agent = id};
        return 0;
    }
    return -1;
}

/* Whether member 'key' of 'o' is a queue id (above 0) that 'c' lacks. */
static int names_no(const cc *c, int kind, const json_t *o, const char *key)
{
    json_int_t id = json_integer_value(json_object_get(o, key));
    return id > 0 && id < CC_MAX_ID && !cc_name(c, kind, (uint32_t)id).p;
}

/* Whether skill list 'key' of 'o' names a skill that 'c' lacks. */
static int names_no_skill(const cc *c, const json_t *o, const char *key)
{
    size_t i;
    json_t *it;
    json_array_foreach(json_object_get(o, key), i, it)
    {
        if (names_no(c, CC_KIND_SKILL, it, "skill"))
            return 1;
    }
    return 0;
}

/* The field of entity 'o' (of kind 'k') that core error 'err' of its put
 * is about, found by asking 'c' what the command met; NULL for a removal
 * ('o' NULL) or when no one field is. */
static const char *field_of(const cc *c, int k, const json_t *o, int err)
{
    if (!o)
        return err == -CC_E_BUSY ? "capacity" : NULL;
    switch (-err) {
    case CC_E_NO_TEAM:
        return "teams";
    case CC_E_NO_QUEUE:
        return names_no(c, CC_KIND_QUEUE, o, "fallback")         ? "fallback"
               : names_no(c, CC_KIND_QUEUE, o, "overflow_queue") ? "overflow_queue"
                                                                   : "queue";
    case CC_E_NO_REASON:
        return "default_reason";
    case CC_E_NO_SKILL:
        return k == CC_KIND_EP && !names_no_skill(c, o, "skills") ? "skill_words" : "skills";
    case CC_E_IN_USE: /* a put: another entry point has the number */
        return k == CC_KIND_EP ? "number" : NULL;
    case CC_E_BUSY:
        return "capacity";
    case CC_E_INVALID: /* what entity_json cannot check: a name, a number */
        return k == CC_KIND_EP ? "number"
               : k == CC_KIND_QUEUE &&
                       json_equal(json_object_get(o, "fallback"), json_object_get(o, "id"))
                   ? "fallback"
                   : "name";
    default:
        return NULL;
    }
}

/* A problem as the error body (docs/api.md, "Field problems"): "error",
 * "message" ("[WHERE: ]FIELD: problem"), "field" (as "agents[2].capacity";
 * left out when the problem has none), "code" and the bounds "min" /
 * "max". */
static void field_error(http_resp *resp, int status, const char *error, const char *where,
                        const verr *e)
{
    char msg[400];
    snprintf(msg, sizeof msg, "%s%s%s%s", where, e->field, e->field[0] ? ": " : "", e->msg);
    utf8_trim(msg);
    json_t *j = json_pack("{s:s, s:s, s:s}", "error", error, "message", msg, "code",
                          e->code ? e->code : "invalid");
    if (e->field[0])
        json_object_set_new(j, "field", json_string(e->field));
    if (e->min >= 0)
        json_object_set_new(j, "min", json_integer(e->min));
    if (e->max >= 0)
        json_object_set_new(j, "max", json_integer(e->max));
    api__resp_json(resp, status, j);
}

/* Core error 'r' of a put of 'o' (NULL: a removal) as a field problem in
 * 'e': the field it is about, the core's code and words. */
static void core_verr(const cc *c, int k, const json_t *o, int r, verr *e)
{
    const char *f = field_of(c, k, o, r);
    entity_json_fail(e, f ? f : "", cc_err_code(r),
                     r == -CC_E_IN_USE && !f /* which one refers to it: what to change first */
                         ? "still in use (an entry point, queue or agent refers to it, or a"
                           " conversation still needs it): change or remove those first"
                         : cc_err_msg(r));
}

static int core_status(int r)
{
    return r == -CC_E_STORE ? 503 : r == -CC_E_IN_USE || r == -CC_E_BUSY ? 409 : 422;
}

/* 404 for an id that names nothing of kind 'k', saying where the ids are. */
static void no_such_item(http_resp *resp, const struct kind *k)
{
    char m[120];
    snprintf(m, sizeof m, "nothing in %s has that id: GET /api/admin/%s lists them", k->name,
             k->name);
    api__resp_error(resp, 404, "not_found", m);
}

/* A refused put ('o') or removal ('o' NULL) of entity kind 'k': the core's
 * code as "error" and "code", the field when there is one. */
static void core_error(api *a, http_resp *resp, int r, const struct kind *k, const json_t *o)
{
    verr e;
    core_verr(a->env.core, k->kind, o, r, &e);
    char where[40]; /* "queues: fallback: no such queue" */
    snprintf(where, sizeof where, "%s: ", k->name);
    field_error(resp, core_status(r), e.code, where, &e);
}

/* Checks the account part of agent 'o' (id 'id') without changing
 * anything, so that a request is refused before the core changes: a new
 * agent needs a username that is free and a password or hash. 'also' (may
 * be NULL) lists usernames that other new agents of the same request take. */
static int agent_account_check(api *a, json_t *o, uint32_t id, json_t *also, verr *e)
{
    str user, pass, hash;
    if (entity_json_text(o, "username", 0, &user, e) ||
        entity_json_text(o, "password", 0, &pass, e) ||
        entity_json_text(o, "password_hash", 0, &hash, e))
        return -1;
    if (pass.p && pass.n < 4)
        return entity_json_fail_bounds(e, "password", "too_short", 4, -1,
                                       "must be at least 4 characters");
    if (hash.p && (hash.n < 10 || memcmp(hash.p, "$argon2id$", 10) != 0))
        return entity_json_fail(e, "password_hash", "bad_hash", "must be an argon2id hash");
    store_account acc;
    if (store_account_of_agent(a->env.st, id, &acc) == 0)
        return 0;
    if (!user.p || user.n == 0 || user.n > 64 || (!pass.p && !hash.p))
        return entity_json_fail(e, "username", "needs_account",
                                "and a password are needed for a new agent (1..64 bytes)");
    if (store_account_get(a->env.st, user, &acc) == 0)
        return entity_json_fail(e, "username", "taken", "is taken");
    size_t i;
    json_t *u;
    json_array_foreach(also, i, u)
    {
        if (str_eq(user, (str){json_string_value(u), json_string_length(u)}))
            return entity_json_fail(e, "username", "taken", "is taken");
    }
    return 0;
}

/* The account part of an agent: created with the agent (username and
 * password required then), password changed when given. */
static int agent_account(api *a, json_t *o, uint32_t id, verr *e)
{
    str user, pass, hash;
    if (entity_json_text(o, "username", 0, &user, e) ||
        entity_json_text(o, "password", 0, &pass, e) ||
        entity_json_text(o, "password_hash", 0, &hash, e))
        return -1;
    store_account acc;
    int exists = store_account_of_agent(a->env.st, id, &acc) == 0;
    if (pass.p && pass.n < 4)
        return entity_json_fail_bounds(e, "password", "too_short", 4, -1,
                                       "must be at least 4 characters");
    if (hash.p && (hash.n < 10 || memcmp(hash.p, "$argon2id$", 10) != 0))
        return entity_json_fail(e, "password_hash", "bad_hash", "must be an argon2id hash");
    char *h = NULL;
    if (pass.p) {
        char *p = xmemdup0(pass.p, pass.n);
        h = api_password_hash(p);
        free(p);
    } else if (hash.p) {
        h = xmemdup0(hash.p, hash.n);
    }
    int r = 0, w;
    if (!exists) {
        if (!user.p || user.n == 0 || user.n > 64 || !h)
            r = entity_json_fail(e, "username", "needs_account",
                                 "and a password are needed for a new agent (1..64 bytes)");
        else if ((w = api__write_begin(a)) != 0 ||
                 (w = api__write_end(a, store_account_put(a->env.st, user, str_c(h), id,
                                                          STORE_ROLE_AGENT))) != 0)
            r = w == -EEXIST ? entity_json_fail(e, "username", "taken", "is taken")
                             : entity_json_fail(e, "username", "store_unavailable",
                                                "could not be stored now");
    } else if (h) {
        if ((w = api__write_begin(a)) != 0 ||
            (w = api__write_end(a, store_account_set_pwhash(a->env.st, acc.username,
                                                             str_c(h)))) != 0)
            r = entity_json_fail(e, "password", "store_unavailable", "could not be stored");
    }
    free(h);
    return r;
}

/* ---- export / import --------------------------------------------------- */

static json_t *export_json(api *a)
{
    json_t *root = json_object();
    for (size_t i = 0; i < NKINDS; i++)
        json_object_set_new(root, kinds[i].name, list_kind(a, &kinds[i], 1));
    char v[8];
    int mask = store_setting_get(a->env.st, STR_LIT("mask_sensitive_data"), v, sizeof v) == 0 &&
               strcmp(v, "1") == 0;
    json_object_set_new(root, "settings", json_pack("{s:b}", "mask_sensitive_data", mask));
    return root;
}

static int replay_into(void *arg, const cc_event *ev)
{
    return cc_replay(arg, ev);
}

static int scratch_apply(void *arg, const cc_cmd *m)
{
    cc_events ev;
    cc_events_init(&ev);
    int r = cc_apply(arg, m, 0, &ev);
    cc_events_free(&ev);
    return r;
}

static int live_apply(void *arg, const cc_cmd *m)
{
    api *a = arg;
    return a->env.apply(a->env.app, m);
}

/* An entry point's gateway: one the configuration has; left out, the
 * entry point keeps the one it has (a form that does not show it cannot
 * drop it); "" is the default (the first configured). */
static int ep_gateway(api *a, const cc *now, json_t *o, cc_cmd *m, put_room *room, verr *e)
{
    if (m->type != CC_CMD_EP_PUT)
        return 0;
    if (!json_object_get(o, "gateway")) {
        cc_ep_flow old;
        if (cc_ep_flow_get(now, m->ep, &old) != 0 || old.gateway.n == 0)
            return 0;
        /* copied: the core frees its own copy when it takes the new one */
        snprintf(room->gateway, sizeof room->gateway, "%.*s", (int)old.gateway.n, old.gateway.p);
        room->r.flow.gateway = str_c(room->gateway);
        m->flow = &room->r.flow;
        return 0;
    }
    str g = m->flow ? m->flow->gateway : STR_NULL;
    if (g.n && a->env.gateway_known && !a->env.gateway_known(a->env.app, g))
        return entity_json_fail(e, "gateway", "unknown_gateway",
                                "is not a configured gateway (the configuration's gateways[].id)");
    return 0;
}

/* Field problem 'e' of item 'i' of section 'kind' of a configuration:
 * its field becomes "kind[i].field" ("kind[i]" for the item). */
static int in_item(verr *e, const char *kind, size_t i)
{
    char f[sizeof e->field + 48];
    snprintf(f, sizeof f, e->field[0] ? "%s[%zu].%s" : "%s[%zu]", kind, i, e->field);
    snprintf(e->field, sizeof e->field, "%.*s", (int)sizeof e->field - 1, f);
    utf8_trim(e->field);
    return -1;
}

/* Applies 'root' (a whole configuration) through 'apply' (to core
 * 'target'): puts in dependency order (queues twice, so fallbacks may
 * name later queues), then removals of what the file no longer has, in
 * reverse order. -1 with the problem in 'e' ("queues[2].fallback"). */
static int sync_config(api *a, json_t *root, int (*apply)(void *, const cc_cmd *), void *arg,
                       const cc *target, const cc *now, verr *e)
{
    static const size_t order[] = {0, 1, 2, 3, KIND_QUEUES, KIND_QUEUES, 5, 6};
    for (size_t s = 0; s < sizeof order / sizeof order[0]; s++) {
        const struct kind *k = &kinds[order[s]];
        int first_pass = s == KIND_QUEUES;
        json_t *arr = json_object_get(root, k->name), *o;
        size_t i;
        if (arr && !json_is_array(arr))
            return entity_json_fail(e, k->name, "bad_list", "must be a list");
        json_array_foreach(arr, i, o)
        {
            cc_cmd m;
            put_room room;
            uint32_t id = 0;
            json_t *jid = json_object_get(o, "id");
            if (!json_is_integer(jid) || json_integer_value(jid) <= 0 ||
                json_integer_value(jid) >= CC_MAX_ID) {
                if (jid)
                    entity_json_fail_bounds(e, "id", "range", 1, CC_MAX_ID - 1,
                                            "is required (a whole number above 0)");
                else
                    entity_json_fail(e, "id", "required", "is required (a whole number above 0)");
                return in_item(e, k->name, i);
            }
            id = (uint32_t)json_integer_value(jid);
            if (put_cmd(k, o, id, &m, &room, e) != 0 || ep_gateway(a, now, o, &m, &room, e))
                return in_item(e, k->name, i);
            if (first_pass)
                m.fallback = 0;
            int r = apply(arg, &m);
            if (r < 0) {
                core_verr(target, k->kind, o, r, e);
                return in_item(e, k->name, i);
            }
        }
    }
    for (size_t s = NKINDS; s-- > 0;) { /* agents first, teams last */
        const struct kind *k = &kinds[s];
        size_t cnt = cc_list(now, k->kind, NULL, 0);
        cc_item *items = xmalloc((cnt + 1) * sizeof *items);
        cc_list(now, k->kind, items, cnt);
        json_t *arr = json_object_get(root, k->name);
        for (size_t i = 0; i < cnt; i++) {
            int keep = 0;
            size_t j;
            json_t *o;
            json_array_foreach(arr, j, o)
                keep |= json_integer_value(json_object_get(o, "id")) == items[i].id;
            if (keep)
                continue;
            cc_cmd m;
            remove_cmd(k, items[i].id, &m);
            int r = apply(arg, &m);
            if (r < 0) {
                char msg[sizeof e->msg];
                snprintf(msg, sizeof msg, "%u (not in the file) cannot be removed: %s (%s)",
                         items[i].id, cc_err_msg(r), cc_err_code(r));
                entity_json_fail(e, k->name, cc_err_code(r), msg);
                free(items);
                return -1;
            }
        }
        free(items);
    }
    (void)a;
    return 0;
}

static void import_config(api *a, const http_req *req, http_resp *resp)
{
    json_t *root = api__parse_body(req, resp);
    if (!root)
        return;
    verr e;
    const char *key;
    json_t *v;
    json_object_foreach(root, key, v)
    {
        int ok = strcmp(key, "settings") == 0;
        for (size_t i = 0; i < NKINDS; i++)
            ok |= strcmp(key, kinds[i].name) == 0;
        if (!ok) { /* the name cut to 63 bytes, on a character boundary */
            entity_json_fail(&e, key, "unknown_section", "unknown section");
            field_error(resp, 400, "bad_config", "", &e);
            json_decref(root);
            return;
        }
    }
    /* all or nothing: the accounts first, then on a copy of the live state */
    int r = 0;
    json_t *agents = json_object_get(root, "agents"), *o;
    json_t *taken = json_array();
    size_t i;
    json_array_foreach(agents, i, o)
    {
        json_t *id = json_object_get(o, "id");
        if (r != 0 || !json_is_integer(id))
            continue; /* sync_config names a missing or bad id */
        if (agent_account_check(a, o, (uint32_t)json_integer_value(id), taken, &e) != 0)
            r = in_item(&e, "agents", i);
        store_account acc;
        if (store_account_of_agent(a->env.st, (uint32_t)json_integer_value(id), &acc) != 0)
            json_array_append(taken, json_object_get(o, "username"));
    }
    json_decref(taken);
    if (r != 0) {
        field_error(resp, 422, "bad_config", "", &e);
        json_decref(root);
        return;
    }
    cc *scratch = cc_new();
    r = store_events_replay(a->env.st, replay_into, scratch);
    if (r != 0)
        entity_json_fail(&e, "", cc_err_code(-CC_E_STORE), cc_err_msg(-CC_E_STORE));
    else
        r = sync_config(a, root, scratch_apply, scratch, scratch, a->env.core, &e);
    cc_free(scratch);
    if (r != 0) {
        field_error(resp, 422, "bad_config", "", &e);
        json_decref(root);
        return;
    }
    r = sync_config(a, root, live_apply, a, a->env.core, a->env.core, &e);
    json_t *mask = json_object_get(json_object_get(root, "settings"), "mask_sensitive_data");
    if (r == 0 && json_is_boolean(mask)) {
        if (api__write_begin(a) == 0)
            api__write_end(a, store_setting_put(a->env.st, STR_LIT("mask_sensitive_data"),
                                                json_is_true(mask) ? STR_LIT("1") : STR_LIT("0")));
        api__resync_all(a);
    }
    json_array_foreach(agents, i, o)
    {
        if (r == 0 && agent_account(a, o, (uint32_t)json_integer_value(json_object_get(o, "id")),
                                    &e) != 0)
            r = in_item(&e, "agents", i);
    }
    if (r != 0) { /* only a store failure can get here: validated before */
        field_error(resp, 422, "bad_config", "", &e);
        json_decref(root);
        return;
    }
    json_decref(root);
    api__respond_after_commit(a, req, resp, json_pack("{s:b}", "ok", 1));
}

/* ---- canned responses -------------------------------------------------- */

static int canned_collect(void *arg, int64_t id, str title, str sv, str en)
{
    json_array_append_new(arg, json_pack("{s:I, s:o, s:o, s:o}", "id", (json_int_t)id, "title",
                                         api__jstr(title), "text_sv", api__jstr(sv), "text_en",
                                         api__jstr(en)));
    return 0;
}

json_t *api__canned_list(api *a)
{
    json_t *arr = json_array();
    store_canned_all(a->env.st, canned_collect, arr);
    return arr;
}

/* /api/admin/canned_responses[/ID]: {title, text_sv, text_en}. */
static void canned(api *a, const http_req *req, http_resp *resp, const char *rest)
{
    if (*rest == '\0') {
        if (strcmp(req->method, "GET") != 0) {
            api__resp_error(resp, 405, "method_not_allowed", "use GET on a list");
            return;
        }
        api__resp_json(resp, 200, json_pack("{s:o}", "canned_responses", api__canned_list(a)));
        return;
    }
    char *end;
    long long id = strtoll(rest + 1, &end, 10);
    if (*end || id <= 0) {
        api__resp_error(resp, 404, "not_found",
                        "the id must be a whole number above 0: check the path");
        return;
    }
    if (strcmp(req->method, "DELETE") == 0) {
        int r = api__write_begin(a);
        if (r == 0)
            r = api__write_end(a, store_canned_del(a->env.st, id));
        if (r == -CC_E_STORE)
            api__resp_error(resp, 503, "store_unavailable",
                            "cannot store it now: try again in a moment");
        else if (r != 0)
            api__resp_error(resp, 404, "not_found",
                            "no canned response with that id: GET /api/admin/canned_responses"
                            " lists them");
        else
            api__resp_json(resp, 200, json_pack("{s:b}", "ok", 1));
        return;
    }
    if (strcmp(req->method, "PUT") != 0) {
        api__resp_error(resp, 405, "method_not_allowed", "use GET, PUT or DELETE");
        return;
    }
    json_t *body = api__parse_body(req, resp);
    if (!body)
        return;
    const char *key;
    json_t *v;
    verr e = {.field = ""};
    str title = STR_NULL, sv = STR_NULL, en = STR_NULL;
    json_object_foreach(body, key, v)
    {
        if (strcmp(key, "id") && strcmp(key, "title") && strcmp(key, "text_sv") &&
            strcmp(key, "text_en")) {
            entity_json_fail(&e, key, "unknown_field", "unknown field");
            break;
        }
    }
    if (!e.field[0] && !entity_json_text(body, "title", 1, &title, &e) &&
        !entity_json_text(body, "text_sv", 1, &sv, &e) &&
        !entity_json_text(body, "text_en", 1, &en, &e)) {
        if (title.n == 0)
            entity_json_fail(&e, "title", "required", "must be 1..200 bytes");
        else if (title.n > 200)
            entity_json_fail_bounds(&e, "title", "too_long", -1, 200, "must be 1..200 bytes");
        else if (sv.n == 0 && en.n == 0)
            entity_json_fail(&e, "text_sv", "empty_texts", "and text_en cannot both be empty");
        else if (sv.n > 4000 || en.n > 4000 || utf8_count(sv.p, sv.n) > CC_TEXT_MAX ||
                 utf8_count(en.p, en.n) > CC_TEXT_MAX || utf8_count(sv.p, sv.n) < 0 ||
                 utf8_count(en.p, en.n) < 0)
            entity_json_fail_bounds(&e, sv.n > en.n ? "text_sv" : "text_en", "too_long", -1,
                                    CC_TEXT_MAX, "must be valid text of at most 1000 characters");
    }
    if (e.field[0]) {
        field_error(resp, 400, "bad_field", "", &e);
        json_decref(body);
        return;
    }
    int r = api__write_begin(a);
    if (r == 0)
        r = api__write_end(a, store_canned_put(a->env.st, id, title, sv, en));
    json_decref(body);
    if (r != 0) {
        api__resp_error(resp, 503, "store_unavailable",
                        "cannot store it now: try again in a moment");
        return;
    }
    api__resp_json(resp, 200, json_pack("{s:I, s:b}", "id", (json_int_t)id, "ok", 1));
}

/* ---- dispatch ---------------------------------------------------------- */

static int item_json_exists(api *a, int kind, uint32_t id)
{
    return cc_name(a->env.core, kind, id).p != NULL;
}

void api__admin(api *a, const http_req *req, http_resp *resp)
{
    if (api__require_role(a, req, resp, 0) != 0)
        return;
    const char *rest = req->path + strlen("/api/admin/");
    const char *m = req->method;
    /* one method each: another is refused by name, not "no such resource" */
    const char *only = strcmp(rest, "export") == 0 || strcmp(rest, "report/conversations.csv") == 0
                           ? "GET"
                       : strcmp(rest, "import") == 0 ? "POST"
                                                     : NULL;
    if (only && strcmp(m, only) != 0) {
        api__resp_error(resp, 405, "method_not_allowed",
                        only[0] == 'G' ? "read only: use GET" : "use POST");
        return;
    }
    if (strcmp(rest, "export") == 0) {
        api__resp_json(resp, 200, export_json(a));
        return;
    }
    if (strcmp(rest, "report/conversations.csv") == 0) {
        api__report_csv(a, req, resp);
        return;
    }
    if (strncmp(rest, "canned_responses", 16) == 0 && (rest[16] == '\0' || rest[16] == '/')) {
        canned(a, req, resp, rest + 16);
        return;
    }
    if (strcmp(rest, "import") == 0) {
        import_config(a, req, resp);
        return;
    }
    const struct kind *k = NULL;
    size_t klen = strcspn(rest, "/");
    for (size_t i = 0; i < NKINDS; i++)
        if (strlen(kinds[i].name) == klen && memcmp(kinds[i].name, rest, klen) == 0)
            k = &kinds[i];
    if (!k) {
        api__resp_error(resp, 404, "not_found",
                        "no such administration resource: check the path (docs/api.md lists them)");
        return;
    }
    if (rest[klen] == '\0') {
        if (strcmp(m, "GET") != 0) {
            api__resp_error(resp, 405, "method_not_allowed", "use GET on a list");
            return;
        }
        api__resp_json(resp, 200, json_pack("{s:o}", k->name, list_kind(a, k, 0)));
        return;
    }
    char *end;
    unsigned long id = strtoul(rest + klen + 1, &end, 10);
    if (*end || id == 0 || id >= CC_MAX_ID) {
        api__resp_error(resp, 404, "not_found",
                        "the id must be a whole number above 0: check the path");
        return;
    }
    if (strcmp(m, "GET") == 0) {
        json_t *j = item_json(a, k->kind, (uint32_t)id, 0);
        if (!j)
            no_such_item(resp, k);
        else
            api__resp_json(resp, 200, j);
        return;
    }
    cc_cmd cmd;
    if (strcmp(m, "DELETE") == 0) {
        if (!item_json_exists(a, k->kind, (uint32_t)id)) {
            no_such_item(resp, k);
            return;
        }
        remove_cmd(k, (uint32_t)id, &cmd);
        int r = a->env.apply(a->env.app, &cmd);
        if (r < 0) {
            core_error(a, resp, r, k, NULL);
            return;
        }
        if (k->kind == CC_KIND_AGENT) {
            store_account ac;
            if (store_account_of_agent(a->env.st, (uint32_t)id, &ac) == 0) {
                char *u = xmemdup0(ac.username.p, ac.username.n);
                if (api__write_begin(a) == 0) /* a leftover account logs nobody in */
                    api__write_end(a, store_account_del(a->env.st, str_c(u)));
                free(u);
            }
        }
        api__respond_after_commit(a, req, resp, json_pack("{s:b}", "ok", 1));
        return;
    }
    if (strcmp(m, "PUT") != 0) {
        api__resp_error(resp, 405, "method_not_allowed", "use GET, PUT or DELETE");
        return;
    }
    json_t *body = api__parse_body(req, resp);
    if (!body)
        return;
    put_room room;
    verr e;
    int r = put_cmd(k, body, (uint32_t)id, &cmd, &room, &e);
    if (r == 0)
        r = ep_gateway(a, a->env.core, body, &cmd, &room, &e);
    if (r == 0 && k->kind == CC_KIND_AGENT)
        r = agent_account_check(a, body, (uint32_t)id, NULL, &e);
    if (r != 0) {
        field_error(resp, 400, "bad_field", "", &e);
        json_decref(body);
        return;
    }
    r = a->env.apply(a->env.app, &cmd);
    if (r < 0) {
        core_error(a, resp, r, k, body);
        json_decref(body);
        return;
    }
    if (k->kind == CC_KIND_AGENT && agent_account(a, body, (uint32_t)id, &e) != 0) {
        field_error(resp, 422, "bad_field", "", &e);
        json_decref(body);
        return;
    }
    json_decref(body);
    api__respond_after_commit(a, req, resp, item_json(a, k->kind, (uint32_t)id, 0));
}
