/*
 * net_curl: libcurl, loaded on first use (for net_http).
 *
 * libcurl does what the outbound HTTP client needs and lws's client does
 * not: names resolved without blocking the loop (its threaded resolver),
 * HTTPS with the system's CA bundle and host-name checks, proxies. Linked
 * directly it would bring its ~25 libraries (nghttp2, ssh2, rtmp, LDAP,
 * Kerberos, ...) into the start of every textdesk command (~12 ms of CPU
 * measured here, as much as everything else together; see
 * src/store/pq_lazy.c for libpq), so it is opened with dlopen(3) the first
 * time a request is made, and called through this table. Its variadic
 * setters keep their variadic types: each call passes exactly the type
 * the option wants.
 */
#ifndef TEXTDESK_NET_NET_CURL_H
#define TEXTDESK_NET_NET_CURL_H

#include <stddef.h>

#include <curl/curl.h>

typedef struct net_curl_api {
    CURLcode (*global_init)(long flags);
    CURL *(*easy_init)(void);
    CURLcode (*easy_setopt)(CURL *h, CURLoption o, ...);
    CURLcode (*easy_getinfo)(CURL *h, CURLINFO i, ...);
    void (*easy_cleanup)(CURL *h);
    const char *(*easy_strerror)(CURLcode c);
    CURLM *(*multi_init)(void);
    CURLMcode (*multi_setopt)(CURLM *m, CURLMoption o, ...);
    CURLMcode (*multi_add_handle)(CURLM *m, CURL *h);
    CURLMcode (*multi_remove_handle)(CURLM *m, CURL *h);
    CURLMcode (*multi_socket_action)(CURLM *m, curl_socket_t s, int ev, int *running);
    CURLMcode (*multi_perform)(CURLM *m, int *running);
    CURLMcode (*multi_assign)(CURLM *m, curl_socket_t s, void *p);
    CURLMsg *(*multi_info_read)(CURLM *m, int *left);
    CURLMcode (*multi_cleanup)(CURLM *m);
    struct curl_slist *(*slist_append)(struct curl_slist *l, const char *s);
    void (*slist_free_all)(struct curl_slist *l);
} net_curl_api;

/* The table, loading libcurl.so.4 (and curl_global_init) on the first
 * call; NULL with the reason in 'err' when it cannot be loaded. */
const net_curl_api *net_curl(char *err, size_t errlen);

#endif
