/*
 * fuzz_config: arbitrary bytes as the JSON configuration file, through
 * app_config_load_text (the whole validation: syntax, keys and types, the
 * meaning by applying everything to a scratch core, gateways and outbox).
 * Nothing may crash or leak. A refused file gets a message that names the
 * file. An accepted one stays accepted when re-serialised, and what the
 * server then reads from it is bounded and consistent: at most
 * APP_GW_MAX gateways with distinct ids, every entry point's gateway among
 * them, keywords with words, an outbox whose backoff ceiling is not below
 * its first delay.
 */
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "app/app.h"
#include "app/gateways.h"
#include "sms/sms_text.h"

static void check_loaded(const app_config *cfg)
{
    app_gw_conf gws[APP_GW_MAX + 1];
    size_t n = app_config_gateways(cfg, gws, APP_GW_MAX + 1);
    CHECK(n >= 1 && n <= APP_GW_MAX);
    for (size_t i = 0; i < n; i++) {
        CHECK(gws[i].id && strlen(gws[i].id) <= APP_GW_ID_MAX);
        CHECK(gws[i].type && gw_type_find(gws[i].type->name) == gws[i].type);
        for (size_t k = 0; k < i; k++)
            CHECK(strcmp(gws[i].id, gws[k].id) != 0);
    }
    json_t *eps = json_object_get(app_config__json(cfg), "entry_points"), *e;
    size_t i;
    json_array_foreach(eps, i, e)
    {
        json_t *num = json_object_get(e, "number");
        const char *g = app_config_ep_gateway(
            cfg, (str){json_string_value(num), json_string_length(num)});
        if (!g)
            continue;
        int found = 0;
        for (size_t k = 0; k < n; k++)
            found |= strcmp(gws[k].id, g) == 0;
        CHECK(found);
    }
    app_config_gateways_free(gws, n);
    app_outbox_conf oc;
    app_config_outbox(cfg, &oc);
    CHECK(oc.max_attempts >= 1 && oc.backoff_ms >= 10 && oc.backoff_max_ms >= oc.backoff_ms);
    sms_keyword kw[64];
    size_t nk = app_config_keywords(cfg, kw, 64);
    CHECK(nk <= 64);
    for (size_t k = 0; k < nk; k++)
        CHECK(kw[k].word != NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[512];
    memset(err, 'x', sizeof err);
    app_config *cfg = app_config_load_text((const char *)data, size, "fuzz.json", err, sizeof err);
    if (!cfg) {
        CHECK(memchr(err, '\0', sizeof err) != NULL);
        CHECK(strncmp(err, "fuzz.json", 9) == 0);
        return 0;
    }
    check_loaded(cfg);
    char *s = json_dumps(app_config__json(cfg), JSON_COMPACT);
    CHECK(s);
    app_config *again = app_config_load_text(s, strlen(s), "again.json", err, sizeof err);
    CHECK(again);
    CHECK(json_equal(app_config__json(cfg), app_config__json(again)));
    app_config_free(again);
    free(s);
    app_config_free(cfg);
    return 0;
}
