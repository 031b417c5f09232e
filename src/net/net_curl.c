/* net_curl.c: loads libcurl (net_curl.h). */
#include "net/net_curl.h"

#include <dlfcn.h>
#include <stdio.h>

#define CURL_LIBRARY "libcurl.so.4"

static net_curl_api api;
static int loaded; /* 1 ok, -1 failed */
static char why[256];

/* One symbol into '*slot'; 0, or -1 naming it in 'why'. */
static int sym(void *h, const char *name, void *slot)
{
    void *f = dlsym(h, name);
    if (f == NULL) {
        snprintf(why, sizeof why, "%s has no %s: install libcurl4 (7.68 or later)",
                 CURL_LIBRARY, name);
        return -1;
    }
    *(void **)slot = f;
    return 0;
}

static int load(void)
{
    void *h = dlopen(CURL_LIBRARY, RTLD_NOW | RTLD_LOCAL);
    if (h == NULL) {
        snprintf(
            why, sizeof why,
            "outbound HTTP needs libcurl (%s): %s; install it (apt-get install libcurl4)",
            CURL_LIBRARY, dlerror());
        return -1;
    }
    if (sym(h, "curl_global_init", &api.global_init) ||
        sym(h, "curl_easy_init", &api.easy_init) ||
        sym(h, "curl_easy_setopt", &api.easy_setopt) ||
        sym(h, "curl_easy_getinfo", &api.easy_getinfo) ||
        sym(h, "curl_easy_cleanup", &api.easy_cleanup) ||
        sym(h, "curl_easy_strerror", &api.easy_strerror) ||
        sym(h, "curl_multi_init", &api.multi_init) ||
        sym(h, "curl_multi_setopt", &api.multi_setopt) ||
        sym(h, "curl_multi_add_handle", &api.multi_add_handle) ||
        sym(h, "curl_multi_remove_handle", &api.multi_remove_handle) ||
        sym(h, "curl_multi_socket_action", &api.multi_socket_action) ||
        sym(h, "curl_multi_perform", &api.multi_perform) ||
        sym(h, "curl_multi_assign", &api.multi_assign) ||
        sym(h, "curl_multi_info_read", &api.multi_info_read) ||
        sym(h, "curl_multi_cleanup", &api.multi_cleanup) ||
        sym(h, "curl_slist_append", &api.slist_append) ||
        sym(h, "curl_slist_free_all", &api.slist_free_all))
        return -1; /* the library stays mapped: harmless, and never retried */
    if (api.global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        snprintf(why, sizeof why, "libcurl failed to initialise");
        return -1;
    }
    return 0;
}

const net_curl_api *net_curl(char *err, size_t errlen)
{
    if (loaded == 0)
        loaded = load() == 0 ? 1 : -1;
    if (loaded < 0) {
        snprintf(err, errlen, "%s", why);
        return NULL;
    }
    return &api;
}
