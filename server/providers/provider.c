/* provider.c — what sits above both provider adapters: the HTTP request (URL, headers with the API
 * key, JSON body from the adapter), the response reader (plain body or SSE stream fed to the
 * adapter), the final checks (refusal, truncation, empty answer, cost) and the mapping of HTTP
 * failures to typed reasons, and the circuit breaker that stops calling an endpoint that keeps
 * failing. See provider.h. The helpers the adapters use are in provider_adapter.c. */
#include "providers/provider.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "local/redact.h"
#include "log.h"

#define SSE_MAX_LINE (1u << 20)
#define DEFAULT_MAX_RESPONSE (8u << 20)

void qr_completion_clear(qr_completion *c) {
  qr_free(c->text);
  qr_free(c->model_served);
  qr_free(c->finish_reason);
  memset(c, 0, sizeof *c);
}

static const qr_provider_ops *ops_for(const qr_config_model *m) {
  return m->prov->type == QR_PROVIDER_ANTHROPIC ? &qr_provider_anthropic_ops
                                                : &qr_provider_openai_ops;
}

/* ---- the request ----------------------------------------------------------------------------- */

static const char *base_url(const qr_config_model *m) {
  if (m->prov->base_url) return m->prov->base_url;
  return m->prov->type == QR_PROVIDER_ANTHROPIC ? "https://api.anthropic.com/v1"
                                                : "https://api.openai.com/v1";
}

void qr_provider_request_free(qr_provider_request *r) {
  for (size_t i = 0; i < r->n_headers; i++) qr_free(r->headers[i]);
  qr_free(r->headers);
  qr_free(r->url);
  qr_free(r->body);
  memset(r, 0, sizeof *r);
}

static int add_header(qr_provider_request *r, char *line) {
  if (!line) return QR_E_NOMEM;
  r->headers[r->n_headers++] = line;
  return QR_OK;
}

static int build_headers(const qr_config_model *m, const qr_provider_ops *ops, const char *key,
                         qr_provider_request *r) {
  const qr_config_provider *pv = m->prov;
  r->headers = qr_calloc(4 + pv->n_headers, sizeof *r->headers);
  if (!r->headers) return QR_E_NOMEM;
  int rc = add_header(r, qr_strdup("Content-Type: application/json"));
  if (!rc && m->stream) rc = add_header(r, qr_strdup("Accept: text/event-stream"));
  if (!rc && key && pv->api_key_header)
    rc = add_header(r, qr_asprintf("%s: %s", pv->api_key_header, key));
  else if (!rc && key) rc = add_header(r, qr_asprintf(ops->auth_format, key));
  if (!rc && ops->fixed_header) rc = add_header(r, qr_strdup(ops->fixed_header));
  for (size_t i = 0; !rc && i < pv->n_headers; i++)
    rc = add_header(r, qr_asprintf("%s: %s", pv->headers[i].key, pv->headers[i].value));
  return rc;
}

static int build_body(const qr_config_model *m, const qr_prompt *p, const qr_provider_ops *ops,
                      qr_provider_request *r, qr_err *e) {
  json_t *body;
  int rc = ops->build(m, p, &body, e);
  if (rc) return rc;
  /* everything a model is sent — code, analyzer and finding messages — passes here */
  if ((rc = qr_redact_json(body, NULL, e))) {
    json_decref(body);
    return rc;
  }
  qr_buf b;
  qr_buf_init(&b, SIZE_MAX / 2);
  if (json_dump_callback(body, qr_provider_dump_cb, &b, JSON_COMPACT)) rc = QR_E_NOMEM;
  json_decref(body);
  r->body = rc ? NULL : qr_buf_detach(&b, &r->body_len);
  qr_buf_free(&b);
  return rc || r->body ? rc : QR_E_NOMEM;
}

/* The request with the auth line for `key` (NULL: none). */
static int request_build(const qr_config_model *m, const qr_prompt *p, const char *key,
                         qr_provider_request *out, qr_err *e) {
  const qr_provider_ops *ops = ops_for(m);
  /* "…/v1/" + "/messages"; Azure's "…/deployments/D?api-version=…": the path before the query */
  const char *base = base_url(m);
  const char *query = strchr(base, '?');
  size_t base_len = query ? (size_t)(query - base) : strlen(base);
  while (base_len && base[base_len - 1] == '/') base_len--;
  out->url = qr_asprintf("%.*s%s%s", (int)base_len, base, ops->path, query ? query : "");
  int rc = out->url ? build_headers(m, ops, key, out) : QR_E_NOMEM;
  if (rc) qr_err_set(e, rc, "out of memory building a request");
  if (!rc) rc = build_body(m, p, ops, out, e);
  if (rc == QR_E_NOMEM) qr_err_set(e, rc, "out of memory building a request");
  if (rc) qr_provider_request_free(out);
  return rc;
}

static int check_request(const qr_config_model *m, const qr_prompt *p, qr_provider_request *out,
                         qr_err *e) {
  memset(out, 0, sizeof *out);
  if (!m->prov || !m->model || !p->system || !p->user)
    return qr_err_set(e, QR_E_INVAL, "a model needs a provider and a prompt system and user text");
  return QR_OK;
}

int qr_provider_request_build(const qr_config_model *m, const qr_prompt *p,
                              qr_provider_request *out, const char **reason, qr_err *e) {
  int rc = check_request(m, p, out, e);
  if (rc) return rc;
  const char *key = NULL;
  if (m->prov->api_key_env) {
    key = getenv(m->prov->api_key_env);
    if (!key || !*key) {
      if (reason) *reason = "no_api_key";
      return qr_err_set(e, QR_E_CONFIG, "%s is not set", m->prov->api_key_env);
    }
    qr_redact_remember_key(key); /* scrubbed from every later redaction, messages included */
  }
  return request_build(m, p, key, out, e);
}

int qr_provider_request_canonical(const qr_config_model *m, const qr_prompt *p,
                                  qr_provider_request *out, qr_err *e) {
  int rc = check_request(m, p, out, e);
  return rc ? rc : request_build(m, p, NULL, out, e);
}

/* ---- reading the response -------------------------------------------------------------------- */

/* A response being read: the adapter's state plus the SSE parser of a stream. */
typedef struct reader {
  const qr_provider_ops *ops;
  const qr_config_model *m;
  size_t prompt_bytes; /* system + user text sent; 0 when unknown */
  long wait_ms;        /* how long the server asked to wait (a final 429); 0 when it did not */
  qr_provider_parse ps;
  qr_sse sse;
  bool events;         /* a stream: an SSE event arrived, or the bytes before one overflowed raw */
  qr_buf raw;          /* a stream: the bytes before its first event (a plain body?) */
} reader;

static int on_event(const char *event, const char *data, size_t len, void *ud) {
  reader *r = ud;
  qr_buf_free(&r->raw);
  r->events = true;
  return r->ops->event(&r->ps, event, data, len);
}

static void reader_init(reader *r, const qr_config_model *m, qr_completion *c, size_t cap) {
  memset(r, 0, sizeof *r);
  r->ops = ops_for(m);
  r->m = m;
  r->ps.c = c;
  qr_buf_init(&r->ps.text, cap);
  qr_buf_init(&r->ps.refusal, cap);
  qr_buf_init(&r->raw, cap);
  qr_sse_init(&r->sse, QR_MIN(cap, SSE_MAX_LINE), cap, on_event, r);
}

static void reader_free(reader *r) {
  qr_buf_free(&r->ps.text);
  qr_buf_free(&r->ps.refusal);
  qr_buf_free(&r->raw);
  qr_sse_free(&r->sse);
}

static int reader_feed(reader *r, const char *p, size_t n) {
  qr_err e = {0};
  if (!r->events && qr_buf_append(&r->raw, p, n)) { /* past the cap: no plain body */
    qr_buf_free(&r->raw);
    r->events = true;
  }
  int rc = qr_sse_feed(&r->sse, p, n, &e);
  if (rc && !r->ps.status) qr_provider_fail(&r->ps, rc, "too_large", "%s", e.msg);
  return rc;
}

/* The error object's code or type, when it says the account is out of credits (OpenAI's 429
 * insufficient_quota): retrying cannot help. */
static bool is_quota_error(json_t *err) {
  static const char *const keys[] = {"code", "type"};
  for (size_t i = 0; i < QR_ARRAY_LEN(keys); i++) {
    const char *v = json_string_value(json_object_get(err, keys[i]));
    if (v && !strcmp(v, "insufficient_quota")) return true;
  }
  return false;
}

/* qr_http_final_cb: a 429 that is quota exhaustion is final. */
static bool quota_exhausted(long code, const char *body, size_t len, void *data) {
  (void)data;
  if (code != 429 || !len) return false;
  json_t *j = json_loadb(body, len, 0, NULL);
  bool quota = is_quota_error(json_object_get(j, "error"));
  json_decref(j);
  return quota;
}

/* A non-2xx body: the status code is the reason ("insufficient_quota" for a 429 that says so);
 * the provider's message is kept from an error object ({error:{message}} for both APIs; vLLM's
 * {object:"error", message}). */
static int http_error(reader *r, long code, const char *body, size_t len) {
  const char *msg = NULL;
  json_t *j = json_loadb(body, len, 0, NULL);
  json_t *err = json_object_get(j, "error");
  msg = qr_provider_error_message(err ? err : json_object_get(j, "message"));
  char reason[32];
  if (code == 429 && is_quota_error(err)) snprintf(reason, sizeof reason, "insufficient_quota");
  else snprintf(reason, sizeof reason, "http_%ld", code);
  char wait[64] = "";
  if (r->wait_ms > 0)
    snprintf(wait, sizeof wait, " (it asks to wait %ld s)", (r->wait_ms + 999) / 1000);
  qr_provider_fail(&r->ps, QR_E_HTTP, reason, "HTTP %ld from %s%s%s%.300s", code,
                   r->m->prov->name ? r->m->prov->name : "the provider", wait, msg ? ": " : "",
                   msg ? msg : "");
  json_decref(j);
  return r->ps.status;
}

/* A stop that leaves the answer not whole: its reason, status and sentence; NULL for a whole
 * answer ("stop", "end_turn", "tool_use", …). A refusal is reported on its own. */
typedef struct stop_kind {
  const char *finish, *reason;
  int status;
  const char *message;
} stop_kind;

static const stop_kind *unwhole_stop(const char *finish) {
  static const stop_kind kinds[] = {
      {"length", "truncated", QR_E_TRUNCATED, "the answer hit the output limit"},
      {"max_tokens", "truncated", QR_E_TRUNCATED, "the answer hit the output limit"},
      {"model_context_window_exceeded", "context_exceeded", QR_E_TRUNCATED,
       "the answer stopped at the model's context window"},
      {"content_filter", "content_filter", QR_E_PROVIDER,
       "the provider's content filter cut the answer"},
      {"error", "provider_error", QR_E_PROVIDER, "the provider ended the answer with an error"},
      {"pause_turn", "paused", QR_E_PROVIDER, "the provider paused the turn before the answer"},
  };
  for (size_t i = 0; finish && i < QR_ARRAY_LEN(kinds); i++)
    if (!strcmp(finish, kinds[i].finish)) return &kinds[i];
  return NULL;
}

/* Ollama's OpenAI endpoint silently keeps the end of a prompt longer than its context
 * (num_ctx, 4096 by default) and reports what it read. Fewer than one token per
 * PROMPT_BYTES_PER_TOKEN bytes sent means that happened: no tokenizer packs text that tightly.
 * A count under PROMPT_CUT_MIN_TOKENS is no context window but a server that leaves out the
 * prefix it had cached (Ollama's count has, in some versions): the passes over one chunk share
 * everything but the strategy's instructions. OpenAI-type usage only (Anthropic's
 * input_tokens leaves out cache reads and writes). */
#define PROMPT_BYTES_PER_TOKEN 6
#define PROMPT_CUT_MIN_TOKENS 1024
static bool prompt_cut(const reader *r) {
  const qr_completion *c = r->ps.c;
  return r->m->prov->type == QR_PROVIDER_OPENAI && c->input_tokens >= PROMPT_CUT_MIN_TOKENS &&
         (size_t)c->input_tokens < r->prompt_bytes / PROMPT_BYTES_PER_TOKEN;
}

/* From the usage known so far, unless the provider reported the cost itself. */
static void compute_cost(reader *r) {
  qr_completion *c = r->ps.c;
  if (!c->cost_reported)
    c->cost_usd = ((double)c->input_tokens * r->m->price_in_per_mtok +
                   (double)c->output_tokens * r->m->price_out_per_mtok) / 1e6;
}

/* The checks after a 2xx response: hands the text over and classifies it. */
static int reader_end(reader *r, bool streamed) {
  qr_provider_parse *ps = &r->ps;
  qr_completion *c = ps->c;
  c->complete = !streamed || ps->terminated;
  if (!ps->status && ps->text.len) {
    c->text = qr_buf_detach(&ps->text, NULL);
    if (!c->text) qr_provider_fail(ps, QR_E_NOMEM, "malformed_response", "out of memory");
  }
  if (ps->status) return ps->status;
  if (ps->refused)
    return qr_provider_fail(ps, QR_E_PROVIDER, "refusal", "the model refused: %.300s",
                            ps->refusal.data ? ps->refusal.data : "");
  const stop_kind *stop = unwhole_stop(c->finish_reason);
  if (stop && !strcmp(stop->reason, "truncated"))
    return qr_provider_fail(ps, stop->status, stop->reason, "%s (%d tokens)", stop->message,
                            r->m->max_output_tokens);
  if (stop)
    return qr_provider_fail(ps, stop->status, stop->reason, "%s (finish reason \"%s\")",
                            stop->message, c->finish_reason);
  if (prompt_cut(r))
    return qr_provider_fail(ps, QR_E_TRUNCATED, "prompt_truncated",
                            "the provider read only %ld prompt tokens of about %zu sent: its "
                            "context window is smaller than the prompt (Ollama: num_ctx)",
                            c->input_tokens, r->prompt_bytes / 4);
  if (streamed && !ps->finished)
    return qr_provider_fail(ps, QR_E_TRUNCATED, "stream_cut",
                            "the stream ended before its final event");
  if (!c->text)
    return qr_provider_fail(ps, QR_E_PROVIDER, "empty", "the model returned an empty answer");
  return QR_OK;
}

/* The end of a whole 2xx stream. A server that ignored "stream": true and sent one plain JSON
 * body (some OpenAI-compatible servers do) gave the whole answer: it is read as such rather
 * than reported as a stream cut before its first event. */
static int reader_end_stream(reader *r) {
  if (r->ps.status || r->events || !r->raw.len) return reader_end(r, true);
  r->ops->parse(&r->ps, r->raw.data, r->raw.len);
  return reader_end(r, false);
}

/* A whole 2xx or error body, as qr_provider_parse_response and non-streamed calls see it. */
static int reader_body(reader *r, long code, const char *body, size_t len) {
  if (code < 200 || code > 299) return http_error(r, code, body, len);
  if (!r->m->stream) {
    r->ops->parse(&r->ps, body, len);
    return reader_end(r, false);
  }
  reader_feed(r, body, len);
  return reader_end_stream(r);
}

int qr_provider_parse_response(const qr_config_model *m, long http_code, const char *body,
                               size_t len, qr_completion *c, char *reason, qr_err *e) {
  reader r;
  reader_init(&r, m, c, DEFAULT_MAX_RESPONSE);
  c->http_status = http_code;
  int rc = reader_body(&r, http_code, body, len);
  compute_cost(&r);
  snprintf(reason, 32, "%s", r.ps.reason);
  if (e) *e = r.ps.err;
  reader_free(&r);
  return rc;
}

/* ---- the circuit breaker ----------------------------------------------------------------------- */

#define BREAKER_SLOTS 64 /* endpoints tracked; a config names a handful */

typedef struct breaker {
  uint64_t key;       /* hash of the base URL; 0: a free slot */
  int failures;       /* consecutive */
  bool open, probing; /* probing: the half-open call is in flight */
  uint64_t opened_at, used_at;
} breaker;

static struct {
  int threshold, cooldown_ms;
  uint64_t (*now)(void);
  breaker slots[BREAKER_SLOTS];
} breakers = {QR_BREAKER_THRESHOLD, QR_BREAKER_COOLDOWN_MS, qr_now_ms, {{0}}};

void qr_provider_breaker_configure(int threshold, int cooldown_ms, uint64_t (*now_ms)(void)) {
  breakers.threshold = threshold > 0 ? threshold : QR_BREAKER_THRESHOLD;
  breakers.cooldown_ms = cooldown_ms > 0 ? cooldown_ms : QR_BREAKER_COOLDOWN_MS;
  breakers.now = now_ms ? now_ms : qr_now_ms;
  memset(breakers.slots, 0, sizeof breakers.slots);
}

/* FNV-1a of the URL without trailing slashes ("…/v1" and "…/v1/" are one endpoint); never 0. */
static uint64_t url_key(const char *url) {
  size_t n = strlen(url);
  while (n && url[n - 1] == '/') n--;
  uint64_t h = 1469598103934665603u;
  for (size_t i = 0; i < n; i++) h = (h ^ (unsigned char)url[i]) * 1099511628211u;
  return h | 1;
}

/* The endpoint's slot; with `create`, a new one replaces the least recently used closed slot
 * (NULL when every slot holds an open circuit: that endpoint then goes unguarded). */
static breaker *breaker_for(const char *url, bool create) {
  uint64_t key = url_key(url);
  breaker *victim = NULL;
  for (size_t i = 0; i < BREAKER_SLOTS; i++) {
    breaker *b = &breakers.slots[i];
    if (b->key == key) return b;
    if (!b->open && !b->probing && (!victim || b->used_at < victim->used_at)) victim = b;
  }
  if (!create || !victim) return NULL;
  *victim = (breaker){.key = key};
  return victim;
}

bool qr_provider_breaker_allow(const char *base, const char *name) {
  breaker *b = breaker_for(base, true);
  if (!b) return true;
  uint64_t now = breakers.now();
  b->used_at = now;
  if (!b->open) return true;
  if (b->probing || now - b->opened_at < (uint64_t)breakers.cooldown_ms) return false;
  b->probing = true;
  QR_WARN("provider %s: circuit half-open, sending one probe request", name ? name : "?");
  return true;
}

/* An answer that arrived, even one unusable for the review, shows the endpoint works. */
static bool endpoint_failed(int status, const char *reason) {
  static const char *const answered[] = {"refusal",        "truncated",        "empty",
                                         "too_large",      "context_exceeded", "content_filter",
                                         "prompt_truncated", "paused"};
  if (!status) return false;
  for (size_t i = 0; i < QR_ARRAY_LEN(answered); i++)
    if (reason && !strcmp(reason, answered[i])) return false;
  return true;
}

void qr_provider_breaker_record(const char *base, const char *name, int status,
                                const char *reason) {
  breaker *b = breaker_for(base, false);
  if (!b) return;
  name = name ? name : "?";
  bool probe = b->probing;
  b->probing = false;
  if (status == QR_E_CANCELED || status == QR_E_CONFIG || status == QR_E_NOMEM) return;
  if (!endpoint_failed(status, reason)) {
    if (b->open) QR_WARN("provider %s: circuit closed, the probe succeeded", name);
    b->open = false;
    b->failures = 0;
    return;
  }
  b->failures++;
  if (probe) {
    b->opened_at = breakers.now();
    QR_WARN("provider %s: the probe failed (%s); circuit open for another %d s", name, reason,
            breakers.cooldown_ms / 1000);
  } else if (!b->open && b->failures >= breakers.threshold) {
    b->open = true;
    b->opened_at = breakers.now();
    QR_WARN("provider %s: circuit open after %d consecutive failures (last: %s); skipping it "
            "for %d s", name, b->failures, reason, breakers.cooldown_ms / 1000);
  }
}

/* ---- the call -------------------------------------------------------------------------------- */

struct qr_provider_call {
  reader r;
  qr_completion c;
  qr_provider_done_cb cb;
  qr_provider_retry_cb on_retry; /* NULL: nobody asked */
  void *data;
  qr_http_xfer *xfer;  /* NULL when the call failed before sending */
  uv_timer_t early;    /* delivers a failure found before sending */
  bool canceled;
  bool guarded;        /* the breaker allowed it: its outcome is recorded */
};

static void on_http_retry(const char *why, long latency_ms, int attempt, void *data) {
  struct qr_provider_call *call = data;
  if (call->on_retry) call->on_retry(why, latency_ms, attempt, call->data);
}

void qr_provider_on_retry(struct qr_provider_call *c, qr_provider_retry_cb cb) { c->on_retry = cb; }

static void call_free(struct qr_provider_call *call) {
  reader_free(&call->r);
  qr_completion_clear(&call->c);
  qr_free(call);
}

static void deliver(struct qr_provider_call *call) {
  qr_provider_parse *ps = &call->r.ps;
  compute_cost(&call->r);
  if (ps->status)
    QR_INFO("model %s: %s (%s)", call->r.m->alias ? call->r.m->alias : call->r.m->model,
            ps->reason, ps->err.msg);
  if (call->guarded)
    qr_provider_breaker_record(base_url(call->r.m), call->r.m->prov->name, ps->status, ps->reason);
  call->cb(ps->status, ps->reason, ps->status ? ps->err.msg : "", &call->c, call->data);
}

static int on_chunk(const char *p, size_t n, void *data) {
  struct qr_provider_call *call = data;
  return reader_feed(&call->r, p, n);
}

static void on_http_done(const qr_http_result *res, void *data) {
  struct qr_provider_call *call = data;
  reader *r = &call->r;
  call->c.http_status = res->http_code;
  call->c.attempts = res->attempts;
  call->c.latency_ms = res->latency_ms;
  call->c.attempt_ms = res->attempt_ms;
  r->wait_ms = res->wait_ms;
  bool got_2xx = res->http_code >= 200 && res->http_code <= 299;
  if (r->ps.status) {
    /* the stream consumer stopped the transfer; its error is the cause */
  } else if (r->m->stream && got_2xx && res->status == QR_OK) {
    reader_end_stream(r);
  } else if (r->m->stream && got_2xx && res->status == QR_E_HTTP) {
    reader_end(r, true); /* a stream the connection cut: "stream_cut" */
  } else if (res->status == QR_OK || (res->status == QR_E_HTTP && res->http_code >= 300)) {
    reader_body(r, res->http_code, res->body, res->body_len);
  } else if (res->cut) {
    qr_provider_fail(&r->ps, QR_E_TRUNCATED, "body_cut",
                     "the response ended before its announced length (%s)", res->message);
  } else {
    const char *reason = res->status == QR_E_TIMEOUT    ? "timeout"
                         : res->status == QR_E_CANCELED ? "canceled"
                         : res->status == QR_E_TOOBIG   ? "too_large"
                         : res->http_code == 0          ? "connection"
                                                        : "http_error";
    qr_provider_fail(&r->ps, res->status, reason, "%s", res->message);
  }
  deliver(call);
  call_free(call);
}

static void early_closed(uv_handle_t *t) { call_free(t->data); }

static void early_fired(uv_timer_t *t) {
  struct qr_provider_call *call = t->data;
  if (call->canceled) {
    call->r.ps.status = 0; /* the cancellation is what the caller asked for */
    qr_provider_fail(&call->r.ps, QR_E_CANCELED, "canceled", "canceled");
  }
  deliver(call);
  uv_close((uv_handle_t *)&call->early, early_closed);
}

/* Delivers the failure already recorded in call on the next loop turn, like any other. */
static int fail_early(qr_http *http, struct qr_provider_call *call, struct qr_provider_call **out) {
  uv_timer_init(qr_http_loop(http), &call->early);
  call->early.data = call;
  uv_timer_start(&call->early, early_fired, 0, 0);
  if (out) *out = call;
  return QR_OK;
}

int qr_provider_call(qr_http *http, const qr_config_model *m, const qr_prompt *p,
                     const qr_config_limits *limits, qr_provider_done_cb cb, void *data,
                     struct qr_provider_call **out) {
  struct qr_provider_call *call = qr_calloc(1, sizeof *call);
  if (!call) return QR_E_NOMEM;
  size_t cap = limits->max_response_bytes ? limits->max_response_bytes : DEFAULT_MAX_RESPONSE;
  reader_init(&call->r, m, &call->c, cap);
  call->r.prompt_bytes = (p->system ? strlen(p->system) : 0) + (p->user ? strlen(p->user) : 0);
  call->cb = cb;
  call->data = data;
  qr_provider_request req;
  const char *reason = NULL;
  qr_err e = {0};
  int rc = qr_provider_request_build(m, p, &req, &reason, &e);
  if (rc == QR_E_CONFIG) { /* the user's to fix: reported through the callback like the rest */
    qr_provider_fail(&call->r.ps, rc, reason, "%s", e.msg);
    return fail_early(http, call, out);
  }
  if (!rc && !(call->guarded = qr_provider_breaker_allow(base_url(m), m->prov->name))) {
    qr_provider_request_free(&req);
    qr_provider_fail(&call->r.ps, QR_E_PROVIDER, "circuit_open",
                     "provider %s failed %d times in a row; skipped during its cool-down",
                     m->prov->name ? m->prov->name : "?", breakers.threshold);
    return fail_early(http, call, out);
  }
  if (!rc) {
    qr_http_request hr = {
        .url = req.url, .headers = (const char *const *)req.headers, .n_headers = req.n_headers,
        .body = req.body, .body_len = req.body_len, .timeout_ms = limits->timeout_ms,
        .max_response_bytes = cap, .max_retries = limits->max_retries,
        .on_chunk = m->stream ? on_chunk : NULL, .on_done = on_http_done,
        .is_final = quota_exhausted,
        .on_retry = on_http_retry, .data = call};
    rc = qr_http_send(http, &hr, &call->xfer, &e);
    qr_provider_request_free(&req);
  }
  if (rc) {
    QR_WARN("model %s: cannot send the request: %s", m->alias ? m->alias : "?", e.msg);
    if (call->guarded) qr_provider_breaker_record(base_url(m), m->prov->name, QR_E_CANCELED, "");
    call_free(call);
    return rc;
  }
  if (out) *out = call;
  return QR_OK;
}

void qr_provider_cancel(struct qr_provider_call *c) {
  if (c->xfer) qr_http_cancel(c->xfer);
  else c->canceled = true;
}
