/*
 * gw.c: the table of gateway types (gw.h). A new type is one file
 * (sms/gw_NAME.c, its 'gw_NAME_type') and one row here.
 */
#include "sms/gw.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sms/gw_kannel.h"
#include "sms/gw_sim.h"
#include "sms/gw_smpp.h"
#include "sms/gw_webhook.h"

extern const gw_type gw_relay_type; /* sms/gw_relay.c: the interface is all it has */

const gw_type *const gw_types[] = {
    &gw_sim_type, &gw_kannel_type, &gw_webhook_type, &gw_smpp_type, &gw_relay_type, NULL,
};

void gw_answer_json(gw_call *c, int status, json_t *j)
{
    char *s = json_dumps(j, JSON_COMPACT);
    c->answer(c, status, "application/json", s ? s : "{}");
    free(s);
    json_decref(j);
}

void gw_answer_err(gw_call *c, int status, const char *code, const char *msg)
{
    gw_answer_json(c, status, json_pack("{s:s, s:s}", "error", code, "message", msg));
}

int gw_status_from_name(str s)
{
    return str_eq(s, STR_LIT("delivered")) ? GW_DELIVERED
           : str_eq(s, STR_LIT("failed"))  ? GW_FAILED
           : str_eq(s, STR_LIT("sent"))    ? GW_SENT
                                           : -1;
}

void gw_sms_in_keyed(const gw_port *port, const char *gw_id, str from, str to, str text, str id,
                     gw_in_done done, void *arg)
{
    char key[300];
    snprintf(key, sizeof key, "%s:%.*s", gw_id, (int)(id.n > 250 ? 250 : id.n), id.p);
    port->sms_in(port->app, from, to, text, str_c(key), done, arg);
}

const gw_type *gw_type_find(const char *name)
{
    for (const gw_type *const *t = gw_types; *t; t++)
        if (strcmp((*t)->name, name) == 0)
            return *t;
    return NULL;
}

const char *gw_type_names(void)
{
    static char s[200];
    if (s[0])
        return s;
    size_t k = 0;
    for (const gw_type *const *t = gw_types; *t && k < sizeof s; t++)
        k += (size_t)snprintf(s + k, sizeof s - k, "%s\"%s\"",
                              t == gw_types ? "" : t[1] ? ", " : " or ", (*t)->name);
    return s;
}
