/*
 * api_late: the one way an HTTP request is answered after the commit of
 * what it changed (gateway endpoints, REST changes, the simulator): the
 * answer is prepared now and sent when app_after_commit (app.h) releases
 * it, i.e. when the store confirmed the commit; when the commit failed
 * (nothing was kept) a 503 "store_unavailable" goes instead, so the
 * sender retries. Without an after-commit hook (tests) it is sent at once.
 */
#ifndef TEXTDESK_API_API_LATE_H
#define TEXTDESK_API_API_LATE_H

#include "http/http.h"

/* app_after_commit's shape: runs fn(arg, status) after the next commit. */
typedef void (*api_after_commit_fn)(void *app, void (*fn)(void *, int), void *arg);

/* Answers 'req' with status 200, 'content_type' and 'body' (taken; NULL:
 * empty) after the commit; 'json' 1: the 503 is a JSON error, else text.
 * 'resp' is the handler's (left alone when deferred). */
void api_late_respond(api_after_commit_fn after, void *app, const http_req *req,
                      http_resp *resp, const char *content_type, char *body, int json);

/* The 503 sent when the commit failed (or the store takes no writes). */
void api_late_unavailable(http_resp *resp, int json);

#endif
