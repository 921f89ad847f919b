/* github.h — the few GitHub REST calls the pull-request bot makes, over the project's one HTTP
 * client (server/providers/http.h). Calls block on the loop (the bot does one thing at a time).
 *
 * The token comes from the caller (GITHUB_TOKEN) and only ever goes into the Authorization
 * header, which is never logged. Secondary rate limits — 403 or 429 with Retry-After, or a 403
 * whose message says "rate limit" — are waited out (Retry-After, else a minute) up to
 * GH_MAX_RATE_WAITS times; http.c also retries 429 and 5xx itself. */
#ifndef QR_CLI_GITHUB_H
#define QR_CLI_GITHUB_H

#include <jansson.h>
#include <uv.h>

#include "common.h"
#include "providers/http.h"

#define GH_MAX_RATE_WAITS 3
#define GH_PER_PAGE 100

typedef struct gh_client {
  uv_loop_t *loop;   /* borrowed */
  qr_http *http;     /* borrowed */
  char *api;         /* base URL without a trailing slash; owned */
  char *auth;        /* "Authorization: Bearer …" or NULL; owned */
  long rate_waits;   /* secondary rate limits waited out so far */
  long last_code;    /* HTTP status of the last response, 0 when none arrived */
} gh_client;

/* Sets up `g`: api_url NULL means https://api.github.com; token may be NULL (public reads). */
int gh_init(gh_client *g, uv_loop_t *loop, qr_http *http, const char *api_url, const char *token);
void gh_clear(gh_client *g); /* frees what gh_init allocated; the token copy is wiped first */

/* `method` (a literal: "GET", "POST", "PATCH") on `path` (starting with "/", already escaped)
 * with an optional JSON `body` (borrowed). On a 2xx, *out (may be NULL) is the parsed JSON
 * body, a new reference (JSON null when the body is empty). Otherwise QR_E_HTTP with `e` naming
 * the status and GitHub's message. */
int gh_json(gh_client *g, const char *method, const char *path, const json_t *body, json_t **out,
            qr_err *e);
/* GET `path` with Accept `accept`, the raw body in *out (new string, qr_free) of *len bytes,
 * capped at `max_bytes` (QR_E_TOOBIG beyond). */
int gh_raw(gh_client *g, const char *path, const char *accept, size_t max_bytes, char **out,
           size_t *len, qr_err *e);
/* Every item of a paginated list (`path` without a query), at most `max_items`: pages of
 * GH_PER_PAGE, following each response's `Link: <…>; rel="next"` until there is none (a next
 * page outside the API URL is QR_E_HTTP). Items seen before (same id, same file name, else same JSON) are
 * dropped, and a page that brings nothing new ends the list, so a server that ignores `page`
 * cannot loop it. *out is a new array. */
int gh_list(gh_client *g, const char *path, size_t max_items, json_t **out, qr_err *e);
/* `s` percent-encoded for a URL path (slashes kept): new string, qr_free. */
char *gh_escape_path(const char *s);

#endif
