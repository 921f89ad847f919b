/* github.c — blocking GitHub REST calls over qr_http (see github.h): JSON and raw requests,
 * pagination, and waiting out secondary rate limits. */
#include "github.h"

#include <ctype.h>
#include <string.h>

#include "cli.h"
#include "local/redact.h"
#include "log.h"
#include "version.h"

#define DEFAULT_API "https://api.github.com"
#define TIMEOUT_MS 60000L
#define MAX_JSON_BYTES (32u << 20)
#define DEFAULT_RATE_WAIT_S 60L
#define MAX_RATE_WAIT_S 300L

int gh_init(gh_client *g, uv_loop_t *loop, qr_http *http, const char *api_url, const char *token) {
  *g = (gh_client){.loop = loop, .http = http};
  const char *api = api_url && *api_url ? api_url : DEFAULT_API;
  size_t n = strlen(api);
  while (n && api[n - 1] == '/') n--;
  g->api = qr_strndup(api, n);
  if (token && *token) g->auth = qr_asprintf("Authorization: Bearer %s", token);
  if (!g->api || (token && *token && !g->auth)) {
    gh_clear(g);
    return QR_E_NOMEM;
  }
  return QR_OK;
}

void gh_clear(gh_client *g) {
  if (g->auth) memset(g->auth, 0, strlen(g->auth));
  qr_free(g->auth);
  qr_free(g->api);
  g->auth = g->api = NULL;
}

char *gh_escape_path(const char *s) {
  qr_buf b;
  qr_buf_init(&b, strlen(s) * 3 + 1);
  for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
    if (isalnum(*p) || strchr("-._~/", *p)) qr_buf_append(&b, p, 1);
    else qr_buf_printf(&b, "%%%02X", *p);
  }
  return qr_buf_detach(&b, NULL);
}

/* ---- one request, blocking ------------------------------------------------------------- */

typedef struct call {
  bool done;
  int status;
  long code, retry_after_s;
  char *body; /* owned copy */
  size_t len;
  char *link; /* owned copy of the Link header, NULL without one */
  char message[256];
} call;

static void on_done(const qr_http_result *r, void *data) {
  call *c = data;
  c->done = true;
  c->status = r->status;
  c->code = r->http_code;
  c->retry_after_s = r->retry_after_s;
  c->body = qr_strndup(r->body, r->body_len);
  c->len = r->body_len;
  c->link = r->link ? qr_strdup(r->link) : NULL; /* a lost Link ends the list early, no more */
  snprintf(c->message, sizeof c->message, "%s", r->message);
}

static void on_timer(uv_timer_t *t) { *(bool *)t->data = true; }
static void on_timer_closed(uv_handle_t *h) { *(bool *)h->data = true; }

static void sleep_on_loop(uv_loop_t *loop, long ms) {
  bool fired = false, closed = false;
  uv_timer_t t;
  uv_timer_init(loop, &t);
  t.data = &fired;
  uv_timer_start(&t, on_timer, (uint64_t)ms, 0);
  cli_wait(loop, &fired);
  t.data = &closed;
  uv_close((uv_handle_t *)&t, on_timer_closed);
  cli_wait(loop, &closed);
}

/* A secondary rate limit: 403/429 with Retry-After, or a 403 saying so (GitHub documents both). */
static bool rate_limited(const call *c) {
  if (c->code != 403 && c->code != 429) return false;
  return c->retry_after_s > 0 || (c->body && strstr(c->body, "rate limit"));
}

/* Sends once and waits; *c holds the outcome. */
static int send_once(gh_client *g, const char *method, const char *url, const char *accept,
                     const char *body, size_t max_bytes, call *c, qr_err *e) {
  char accept_h[128];
  snprintf(accept_h, sizeof accept_h, "Accept: %s", accept);
  const char *headers[] = {accept_h, "X-GitHub-Api-Version: 2022-11-28",
                           "User-Agent: quorum/" QR_VERSION, "Content-Type: application/json",
                           g->auth};
  qr_http_request req = {.method = method, .url = url, .headers = headers,
                         .n_headers = g->auth ? 5 : 4, .body = body,
                         .body_len = body ? strlen(body) : 0, .timeout_ms = TIMEOUT_MS,
                         .max_response_bytes = max_bytes, .max_retries = 2, .on_done = on_done,
                         .data = c};
  int rc = qr_http_send(g->http, &req, NULL, e);
  if (!rc) cli_wait(g->loop, &c->done);
  return rc;
}

/* A request to `url` (the API's own), with secondary rate limits waited out. On success *out
 * is the body and *link (may be NULL) the Link header or NULL (both owned). `path` names the
 * request in errors. */
static int request_url(gh_client *g, const char *method, const char *url, const char *path,
                       const char *accept, const char *body, size_t max_bytes, char **out,
                       size_t *len, char **link, qr_err *e) {
  int rc;
  for (;;) {
    call c = {0};
    rc = send_once(g, method, url, accept, body, max_bytes, &c, e);
    g->last_code = rc ? 0 : c.code;
    if (!rc && !c.status) {
      *out = c.body;
      *len = c.len;
      if (link) *link = c.link;
      else qr_free(c.link);
      break;
    }
    qr_free(c.link);
    if (!rc && rate_limited(&c) && g->rate_waits < GH_MAX_RATE_WAITS) {
      long wait_s = QR_MIN(c.retry_after_s > 0 ? c.retry_after_s : DEFAULT_RATE_WAIT_S, MAX_RATE_WAIT_S);
      QR_WARN("GitHub rate limit on %s %s (HTTP %ld); waiting %ld s", method, path, c.code, wait_s);
      g->rate_waits++;
      qr_free(c.body);
      sleep_on_loop(g->loop, wait_s * 1000);
      continue;
    }
    if (!rc) {
      json_t *j = c.body ? json_loads(c.body, 0, NULL) : NULL;
      const char *msg = json_string_value(json_object_get(j, "message"));
      rc = qr_err_set(e, c.status == QR_E_TOOBIG ? QR_E_TOOBIG : QR_E_HTTP, "GitHub %s %s: %s%s%s",
                      method, path, c.message, msg ? ": " : "", msg ? msg : "");
      json_decref(j);
    }
    qr_free(c.body);
    break;
  }
  return rc;
}

static int request(gh_client *g, const char *method, const char *path, const char *accept,
                   const char *body, size_t max_bytes, char **out, size_t *len, qr_err *e) {
  char *url = qr_asprintf("%s%s", g->api, path);
  if (!url) return qr_err_set(e, QR_E_NOMEM, "out of memory");
  int rc = request_url(g, method, url, path, accept, body, max_bytes, out, len, NULL, e);
  qr_free(url);
  return rc;
}

int gh_json(gh_client *g, const char *method, const char *path, const json_t *body, json_t **out,
            qr_err *e) {
  char *text = NULL, *resp = NULL;
  /* The text of everything posted — comments, summaries, check runs — is redacted on a copy;
   * structural fields (path, commit_id, line…) stay, or GitHub could not place a comment on a
   * file whose name looks like a token. */
  static const char *const text_keys[] = {"body", "message", "title", "summary", "text",
                                          "raw_details"};
  json_t *clean = body ? json_deep_copy(body) : NULL;
  if (body && !clean) return qr_err_set(e, QR_E_NOMEM, "out of memory");
  int rc = clean ? qr_redact_json_text(clean, text_keys, QR_ARRAY_LEN(text_keys), NULL, e) : QR_OK;
  size_t len = clean && !rc ? json_dumpb(clean, NULL, 0, JSON_COMPACT) : 0;
  if (!rc && clean && len && (text = qr_malloc(len + 1)))
    text[json_dumpb(clean, text, len, JSON_COMPACT)] = '\0';
  json_decref(clean);
  if (rc) return rc;
  if (body && !text) return qr_err_set(e, QR_E_NOMEM, "out of memory");
  rc = request(g, method, path, "application/vnd.github+json", text, MAX_JSON_BYTES, &resp, &len,
               e);
  qr_free(text);
  if (rc) return rc;
  json_error_t je;
  json_t *j = len ? json_loadb(resp, len, 0, &je) : json_null();
  qr_free(resp);
  if (!j) return qr_err_set(e, QR_E_PARSE, "GitHub %s %s: invalid JSON: %s", method, path, je.text);
  if (out) *out = j;
  else json_decref(j);
  return QR_OK;
}

int gh_raw(gh_client *g, const char *path, const char *accept, size_t max_bytes, char **out,
           size_t *len, qr_err *e) {
  return request(g, "GET", path, accept, NULL, max_bytes, out, len, e);
}

/* Sets *next to the URL of rel="next" in a Link header (`<URL>; rel="next", <URL>; rel="last"`)
 * as a new string, NULL when there is none. A next page on another server is an error, never
 * followed: the token would go with it (and a list cut short would review half a PR). */
static int next_link(const gh_client *g, const char *link, const char *path, char **next, qr_err *e) {
  *next = NULL;
  for (const char *s = link; s && (s = strchr(s, '<'));) {
    const char *end = strchr(s, '>');
    if (!end) return QR_OK;
    const char *params_end = strchr(end, ',');
    size_t plen = params_end ? (size_t)(params_end - end) : strlen(end);
    const char *rel = strstr(end, "rel=\"next\"");
    if (rel && (size_t)(rel - end) < plen) {
      size_t n = strlen(g->api), ulen = (size_t)(end - s - 1);
      if (ulen > n && !strncmp(s + 1, g->api, n) && s[1 + n] == '/')
        return (*next = qr_strndup(s + 1, ulen)) ? QR_OK : qr_err_set(e, QR_E_NOMEM, "out of memory");
      return qr_err_set(e, QR_E_HTTP, "GitHub GET %s: the next page is on another server; not followed",
                        path);
    }
    s = end;
  }
  return QR_OK;
}

/* What makes an item of a list the same item again: its id, a file's name, else its text.
 * A new string (qr_free). */
static char *item_key(const json_t *item) {
  const json_t *id = json_object_get(item, "id");
  if (json_is_integer(id)) return qr_asprintf("id:%lld", (long long)json_integer_value(id));
  const char *name = json_string_value(json_object_get(item, "filename"));
  if (name) return qr_asprintf("file:%s", name);
  char *text = json_dumps(item, JSON_COMPACT | JSON_SORT_KEYS);
  char *key = text ? qr_asprintf("json:%s", text) : NULL;
  free(text); /* json_dumps allocates with jansson's allocator */
  return key;
}

/* Appends the items of `page` not seen before to `all`; *added counts them. */
static int take_page(json_t *all, json_t *seen, const json_t *page, size_t max_items, size_t *added) {
  size_t i;
  json_t *it;
  *added = 0;
  json_array_foreach(page, i, it) {
    if (json_array_size(all) >= max_items) break;
    char *key = item_key(it);
    if (!key) return QR_E_NOMEM;
    bool fresh = !json_object_get(seen, key);
    int rc = fresh && (json_object_set_new(seen, key, json_true()) || json_array_append(all, it));
    qr_free(key);
    if (rc) return QR_E_NOMEM;
    *added += fresh;
  }
  return QR_OK;
}

int gh_list(gh_client *g, const char *path, size_t max_items, json_t **out, qr_err *e) {
  json_t *all = json_array(), *seen = json_object();
  char *url = qr_asprintf("%s%s?per_page=%d", g->api, path, GH_PER_PAGE);
  int rc = all && seen && url ? QR_OK : qr_err_set(e, QR_E_NOMEM, "out of memory");
  while (!rc && url && json_array_size(all) < max_items) {
    char *text = NULL, *link = NULL;
    size_t len = 0, added = 0;
    rc = request_url(g, "GET", url, path, "application/vnd.github+json", NULL, MAX_JSON_BYTES,
                     &text, &len, &link, e);
    json_t *items = rc ? NULL : json_loadb(text, len, 0, NULL);
    if (!rc && !json_is_array(items))
      rc = qr_err_set(e, QR_E_PARSE, "GitHub GET %s: expected a list", path);
    if (!rc && take_page(all, seen, items, max_items, &added))
      rc = qr_err_set(e, QR_E_NOMEM, "out of memory");
    qr_free(url);
    /* A page that brings nothing new ends the list: a server that ignores `page` would
     * otherwise serve page 1 forever. */
    url = NULL;
    if (!rc && added) rc = next_link(g, link, path, &url, e);
    json_decref(items);
    qr_free(link);
    qr_free(text);
  }
  qr_free(url);
  json_decref(seen);
  if (rc) json_decref(all);
  else *out = all;
  return rc;
}
