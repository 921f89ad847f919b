/* provider.h — one model request: build the provider's wire format from a qr_prompt, send it
 * through qr_http, read the answer (plain JSON or a Server-Sent Events stream) into a
 * qr_completion with usage and cost, and classify failures with a short typed reason.
 *
 * Two adapters exist: OpenAI-compatible chat completions (OpenAI, OpenRouter, Ollama's /v1,
 * local servers; provider_openai.c) and Anthropic messages (provider_anthropic.c). The adapter
 * interface at the bottom is what provider.c drives; tests use it directly.
 *
 * API keys: a provider names an environment variable (api_key_env); it is read when a request
 * is built, sent only in the auth header and never logged or stored. */
#ifndef QR_PROVIDER_H
#define QR_PROVIDER_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "common.h"
#include "config/config.h"
#include "providers/http.h"
#include "review/prompt.h"
#include "providers/sse.h"

typedef struct qr_completion {
  char *text;          /* owned: the answer text; for Anthropic's forced tool, the tool input serialized as JSON */
  long input_tokens, output_tokens, cached_tokens;
  double cost_usd;     /* usage.cost when the provider reports it (OpenRouter), else from the model's prices */
  bool cost_reported;  /* true when the provider reported the cost */
  char *model_served;  /* owned: "model" of the response */
  char *finish_reason; /* owned */
  long http_status;
  int attempts;        /* HTTP attempts that went out; 0: the request never left */
  long latency_ms;     /* the whole call, retries and their waits included */
  long attempt_ms;     /* the last attempt alone (the one the answer came from) */
  bool complete;       /* a whole body, or a stream that reached its terminator: cacheable */
} qr_completion;

/* Frees the owned members and zeroes c. */
void qr_completion_clear(qr_completion *c);

/* The outcome of a call. status is 0 or a QR_E_* code; reason is a short typed word:
 * "http_429", "http_500", "http_529" (any final HTTP code), "insufficient_quota" (a 429 saying
 * the account has no credits; never retried), "timeout", "connection", "canceled",
 * "too_large", "truncated" (length / max_tokens), "context_exceeded" (Anthropic's
 * model_context_window_exceeded), "prompt_truncated" (the provider read far fewer prompt
 * tokens than were sent: Ollama's context), "stream_cut" (the stream ended early), "body_cut"
 * (a plain body ended before its announced length), "malformed_response", "empty",
 * "refusal", "content_filter", "provider_error" (an error object in a 2xx body, stream or
 * choice, or finish_reason "error"), "paused" (Anthropic's pause_turn), "no_api_key", "circuit_open" (skipped: see the circuit
 * breaker); "" on success. message is one sentence ("" on success).
 * c is borrowed and valid during the callback only; usage, cost and text are filled as far as
 * they are known, also on failure. */
typedef void (*qr_provider_done_cb)(int status, const char *reason, const char *message,
                                    qr_completion *c, void *data);

/* A call in flight. The tag is used without a typedef because qr_provider_call names the
 * function below (C has one namespace for typedefs and functions, another for tags). */
struct qr_provider_call;

/* Sends one request for model m (m->prov must be set). The callback runs exactly once, on a
 * later loop turn — also for failures found before sending, such as a missing API key
 * (QR_E_CONFIG, "no_api_key", "OPENROUTER_API_KEY is not set"). Returns QR_E_INVAL for a
 * prompt without system/user text or a model without provider, QR_E_NOMEM, or an HTTP start
 * error; then no callback runs. m, p and limits are read during the call only, except m,
 * which must outlive the callback (its prices give the cost). *out (may be NULL) is valid
 * until the callback returns. */
int qr_provider_call(qr_http *http, const qr_config_model *m, const qr_prompt *p,
                     const qr_config_limits *limits, qr_provider_done_cb cb, void *data,
                     struct qr_provider_call **out);
/* Aborts a call whose callback has not run; the callback then runs with QR_E_CANCELED. */
void qr_provider_cancel(struct qr_provider_call *c);
/* Asks to be told (with the call's `data`) of each attempt that failed and is retried — a
 * request that went out and cost nothing usable, so the ledger can count it. Set it right
 * after qr_provider_call, before the loop runs again. */
typedef void (*qr_provider_retry_cb)(const char *why, long latency_ms, int attempt, void *data);
void qr_provider_on_retry(struct qr_provider_call *c, qr_provider_retry_cb cb);

/* ---- the circuit breaker ----------------------------------------------------------------
 * Per provider endpoint (base URL): after `threshold` consecutive failures (HTTP errors,
 * timeouts, connection failures, cut streams, malformed responses) the endpoint is skipped —
 * calls end with QR_E_PROVIDER, reason "circuit_open", without sending — for `cooldown_ms`;
 * then one call goes through as a probe (half-open): its success closes the circuit, its
 * failure opens it for another cool-down. Answers that arrived (refusal, content filter,
 * truncation, context window, truncated prompt, empty) count as the endpoint working; an error
 * inside a 200 does not; cancellations and missing keys do not count. Transitions
 * are logged at warn with the provider's name. The state lives for the process (single loop
 * thread), in a fixed table that allocates nothing. */

#define QR_BREAKER_THRESHOLD 5
#define QR_BREAKER_COOLDOWN_MS 30000

/* Sets the threshold and cool-down (values <= 0 restore the defaults above) and the clock
 * (NULL: qr_now_ms), and forgets every endpoint's state. For tests and configuration. */
void qr_provider_breaker_configure(int threshold, int cooldown_ms, uint64_t (*now_ms)(void));

/* Whether a call to `base_url` may be sent now; true also starts the half-open probe. `name`
 * (the provider's, for the log) may be NULL. Every true must be followed by exactly one
 * qr_provider_breaker_record for the same endpoint. */
bool qr_provider_breaker_allow(const char *base_url, const char *name);
/* Records the outcome of an allowed call: status/reason as the call's callback got them. */
void qr_provider_breaker_record(const char *base_url, const char *name, int status,
                                const char *reason);

/* ---- request building and response reading, exposed for tests -------------------------- */

/* The HTTP request for m and p. All members owned; free with qr_provider_request_free. */
typedef struct qr_provider_request {
  char *url;
  char **headers; /* "Name: value" lines (the auth line carries the key: never log it) */
  size_t n_headers;
  char *body;     /* JSON text */
  size_t body_len;
} qr_provider_request;

/* reason (when not NULL) receives "no_api_key" with QR_E_CONFIG. */
int qr_provider_request_build(const qr_config_model *m, const qr_prompt *p,
                              qr_provider_request *out, const char **reason, qr_err *e);
/* The same request without the auth line and without reading the API key: what the pass
 * cache keys on (everything sent that can change the answer). */
int qr_provider_request_canonical(const qr_config_model *m, const qr_prompt *p,
                                  qr_provider_request *out, qr_err *e);
void qr_provider_request_free(qr_provider_request *r);

/* Interprets a complete response exactly as a call does: a 2xx body is parsed as JSON, or as
 * an SSE stream when m->stream; any other code as an error body. Fills c (clear it with
 * qr_completion_clear) and reason (at least 32 bytes); returns the status. */
int qr_provider_parse_response(const qr_config_model *m, long http_code, const char *body,
                               size_t len, qr_completion *c, char *reason, qr_err *e);

/* ---- the adapter interface (helpers in provider_adapter.c) ---------------------------- */

/* What an adapter fills while reading one response. */
typedef struct qr_provider_parse {
  qr_completion *c;   /* borrowed: usage, model, finish_reason go straight in */
  qr_buf text;        /* the answer as it is assembled */
  qr_buf refusal;     /* refusal text, when the model refused */
  bool refused;
  bool tool_seen;     /* Anthropic: a tool_use block started; only tool input is the answer */
  json_int_t tool_block; /* Anthropic stream: the content-block index of the open tool_use */
  bool finished;      /* a stream reached its final event */
  bool terminated;    /* a stream reached its terminator ([DONE], message_stop) */
  int status;         /* the first error, QR_E_*; 0 while fine */
  char reason[32];
  qr_err err;
} qr_provider_parse;

typedef struct qr_provider_ops {
  const char *path;           /* appended to base_url, e.g. "/chat/completions" */
  const char *auth_format;    /* the auth header, "%s" is the key */
  const char *fixed_header;   /* sent with every request, or NULL */
  /* The request body; *out is a new reference. */
  int (*build)(const qr_config_model *m, const qr_prompt *p, json_t **out, qr_err *e);
  /* Reads a whole 2xx JSON body; returns ps->status. */
  int (*parse)(qr_provider_parse *ps, const char *body, size_t len);
  /* Reads one SSE event of a 2xx stream; returns ps->status (non-zero stops the stream). */
  int (*event)(qr_provider_parse *ps, const char *event, const char *data, size_t len);
} qr_provider_ops;

extern const qr_provider_ops qr_provider_openai_ops;
extern const qr_provider_ops qr_provider_anthropic_ops;

/* Records the first failure in ps and returns its status. */
int qr_provider_fail(qr_provider_parse *ps, int status, const char *reason, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Parses one JSON document (a body or an event's data) or records "malformed_response";
 * returns a new reference or NULL. */
json_t *qr_provider_json(qr_provider_parse *ps, const char *text, size_t len);
/* Appends to ps->text (or ps->refusal), recording "too_large" past the cap. */
int qr_provider_append(qr_provider_parse *ps, qr_buf *b, const char *s, size_t n);
/* Copies a JSON string into *dst (owned, replacing it) when j is a string. */
int qr_provider_set_string(qr_provider_parse *ps, char **dst, json_t *j);
/* Serializes j (borrowed) with jansson's compact flags, appending to b. */
int qr_provider_dump(qr_provider_parse *ps, qr_buf *b, json_t *j);
/* json_dump_callback sink appending to the qr_buf `data`: 0, or -1 when it is full. */
int qr_provider_dump_cb(const char *buf, size_t size, void *data);
/* The message of an {error:{message}} object (borrowed from err), or NULL. */
const char *qr_provider_error_message(json_t *err);
/* Reads an integer usage field when present. */
void qr_provider_usage(json_t *usage, const char *key, long *dst);

#endif
