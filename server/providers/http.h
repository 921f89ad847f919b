/* http.h — HTTP requests (POST unless another method is asked for) on a libuv loop, through
 * one libcurl multi handle.
 *
 * One qr_http per loop: a CURLM driven by a uv_poll per socket and one uv_timer (curl's
 * multi-uv.c pattern), so connections are reused across requests and many requests are in
 * flight at once. A request carries its own timeout, response-body cap and retry budget.
 *
 * Retries happen here: HTTP 408, 429, 500-599 (incl. 529) and connection failures before any
 * response byte (refused, reset, empty reply) are retried after an exponential backoff with
 * full jitter — a random delay in [0, min(30 s, base * 2^retry)] — and never sooner than the
 * server's Retry-After (seconds or HTTP date) — or, on a 429 without it, OpenAI's
 * x-ratelimit-reset-requests/-tokens durations ("20s", "6m0s", "1ms") of the limit that is used
 * up, or OpenRouter's X-RateLimit-Reset (epoch milliseconds). A wait longer than 120 s is not waited for: the error is final (wait_ms says how long
 * the server asked for). The caller may declare a retryable answer final (`is_final`: a 429 that
 * says the account is out of credits). 400/401/403/404 and other codes are final, and
 * so is anything after a streamed 2xx body has started (its bytes were already delivered).
 * A request that times out is not retried either: a model that hangs for the whole timeout
 * rarely answers the next time, and retrying would multiply the user's wait.
 *
 * The timeout is CURLOPT_TIMEOUT_MS, applied afresh to every attempt; it covers connecting,
 * sending and the whole response. It includes no queue time because the multi handle does
 * not limit connections (callers bound their own concurrency).
 *
 * Compressed answers (gzip, deflate, br, zstd — whatever libcurl was built with) are asked for
 * and decoded. TLS peer and host verification are always on. Header values are never logged (they carry
 * API keys); the log shows host/path, status, attempt and latency. */
#ifndef QR_HTTP_H
#define QR_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <uv.h>

#include "common.h"

typedef struct qr_http qr_http;
typedef struct qr_http_xfer qr_http_xfer;

/* What a finished request produced; borrowed, valid during the completion callback only. */
typedef struct qr_http_result {
  int status;        /* 0, QR_E_TIMEOUT, QR_E_HTTP (transport failure or non-2xx final code),
                        QR_E_TOOBIG, QR_E_CANCELED, or the error a chunk callback returned */
  long http_code;    /* final HTTP status; 0 when no response arrived */
  const char *body;  /* NUL-terminated body of the last attempt; "" when it was streamed */
  size_t body_len;
  int attempts;      /* attempts made, >= 1 */
  long retry_after_s;/* the last Retry-After seen in seconds, 0 when none */
  bool cut;          /* the body ended before its announced length (Content-Length, chunks) */
  long wait_ms;      /* the wait the last answer asked for (Retry-After, reset headers), 0: none */
  long latency_ms;   /* from qr_http_send to completion, including backoff */
  long attempt_ms;   /* the last attempt alone, from its start to completion */
  const char *message; /* one sentence describing a failure; "" on success */
  const char *link;  /* the last response's Link header (pagination), NULL when it had none */
} qr_http_result;

/* Called exactly once per successful qr_http_send, never from inside qr_http_send or
 * qr_http_cancel. The transfer is freed when it returns. */
typedef void (*qr_http_done_cb)(const qr_http_result *r, void *data);
/* Receives body bytes of a 2xx response as they arrive (not NUL-terminated). A non-zero
 * return (a QR_E_* code) aborts the transfer, which then completes with that status. */
typedef int (*qr_http_chunk_cb)(const char *p, size_t n, void *data);
/* Whether a retryable error answer (code, buffered body, not NUL-terminated when len is 0) is
 * final all the same. */
typedef bool (*qr_http_final_cb)(long code, const char *body, size_t len, void *data);

typedef struct qr_http_request {
  const char *method;         /* NULL: "POST"; else a literal such as "GET" (sends no body)
                                 or "PATCH"; it must outlive the transfer */
  const char *url;
  const char *const *headers; /* "Name: value" lines, copied by qr_http_send */
  size_t n_headers;
  const char *body;           /* POST body, copied by qr_http_send */
  size_t body_len;
  long timeout_ms;            /* per attempt; 0: none */
  size_t max_response_bytes;  /* cap of a buffered body (non-2xx bodies too) */
  int max_retries;            /* retries after the first attempt */
  qr_http_chunk_cb on_chunk;  /* NULL: 2xx bodies are buffered and passed to on_done */
  qr_http_done_cb on_done;    /* required */
  qr_http_final_cb is_final;  /* optional */
  /* Optional: told of each failed attempt (its ordinal, 1-based) that is about to be retried
   * (`why`, e.g. "HTTP 429",
   * borrowed during the call), so that every request that went out can be accounted for. */
  void (*on_retry)(const char *why, long latency_ms, int attempt, void *data);
  void *data;                 /* passed to the callbacks */
} qr_http_request;

/* Creates a client on `loop`. *out is new; release it with qr_http_close. Calls
 * curl_global_init on first use. */
int qr_http_new(uv_loop_t *loop, qr_http **out, qr_err *e);
/* Cancels every pending transfer (their callbacks run with QR_E_CANCELED), then closes the
 * handles; the memory is freed from close callbacks, so run the loop afterwards. */
void qr_http_close(qr_http *h);
/* The loop the client runs on (borrowed). */
uv_loop_t *qr_http_loop(qr_http *h);
/* The backoff base in milliseconds (default 500); tests make it small. Retry-After still rules. */
void qr_http_set_backoff_base(qr_http *h, long base_ms);

/* Starts a request. On success *out (may be NULL) is the transfer, valid until its callback
 * returns; the callback will run exactly once. On error nothing is started and no callback
 * runs. */
int qr_http_send(qr_http *h, const qr_http_request *req, qr_http_xfer **out, qr_err *e);
/* Aborts a transfer that has not completed; its callback runs (later) with QR_E_CANCELED.
 * A transfer whose completion is already queued keeps its own result. */
void qr_http_cancel(qr_http_xfer *x);

/* The backoff before retry number `retry` (0-based): a uniform random value in
 * [0, min(30000, base_ms * 2^retry)], raised to floor_ms (the server's wait). `rnd` is any
 * 64-bit random value. Exposed for tests. */
long qr_http_backoff_ms(long base_ms, int retry, long floor_ms, uint64_t rnd);
/* Parses a Go duration ("20s", "6m0s", "1.5s", "1ms") into *ms, rounded up; false when s is
 * NULL or not one. Exposed for tests. */
bool qr_http_duration_ms(const char *s, long *ms);

#endif
