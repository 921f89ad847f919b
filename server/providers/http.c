/* http.c — libcurl's multi interface on a libuv loop (see http.h).
 *
 * curl tells us which sockets to watch (socket_cb → one uv_poll each) and when to call it back
 * (timer_cb → one uv_timer); both end in curl_multi_socket_action, after which finished
 * transfers are drained from curl_multi_info_read. Each transfer owns a uv_timer used first for
 * the retry backoff and then to deliver its completion on a later loop turn, which keeps the
 * callback out of curl's call stack and out of qr_http_send/qr_http_cancel. Memory is freed
 * in close callbacks; the client itself once its last handle has closed. */
#include "providers/http.h"

#include <curl/curl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"

#define BACKOFF_CAP_MS 30000L
#define DEFAULT_BACKOFF_BASE_MS 500L
#define DEFAULT_MAX_RESPONSE (8u << 20)
/* A Retry-After beyond this is not waited for: the error is returned to the user instead. */
#define MAX_RETRY_AFTER_S 120L

struct qr_http {
  uv_loop_t *loop;
  CURLM *multi;
  uv_timer_t timer;      /* curl's timeout */
  long backoff_base_ms;
  uint64_t rng;          /* xorshift state for the jitter */
  int open_handles;      /* uv handles not yet closed, incl. timer; h is freed at 0 when closing */
  bool closing;
  qr_http_xfer *xfers;   /* every transfer not yet freed */
};

/* One watched socket; freed in its close callback. */
typedef struct sock_ctx {
  uv_poll_t poll;
  curl_socket_t fd;
  qr_http *h;
} sock_ctx;

struct qr_http_xfer {
  qr_http *h;
  qr_http_xfer *prev, *next;
  CURL *easy;
  struct curl_slist *headers;
  uv_timer_t timer; /* backoff delay, then the queued completion */
  qr_buf body;
  char errbuf[CURL_ERROR_SIZE];
  char *target;     /* "host/path" for logs */
  const char *method; /* the caller's literal ("POST" when it gave none) */
  qr_http_chunk_cb on_chunk;
  qr_http_done_cb on_done;
  qr_http_final_cb is_final;
  void (*on_retry)(const char *why, long latency_ms, int attempt, void *data);
  void *data;
  int max_retries, attempts;
  uint64_t attempt_ms; /* when the current attempt started */
  long retry_after_s;
  long wait_ms;     /* the server's own wait before the next attempt (Retry-After, reset headers) */
  uint64_t start_ms;
  bool in_multi;    /* the easy handle is added to the multi */
  bool canceled;    /* qr_http_cancel was called; the result follows on a later turn */
  bool streamed;    /* 2xx body bytes went to on_chunk */
  bool done;        /* the result is fixed and its completion queued */
  bool cut;         /* the body ended before its announced length */
  int abort_status; /* set when the write callback stops the transfer */
  /* the result */
  int status;
  long http_code;
  char message[CURL_ERROR_SIZE + 128];
};

static uint64_t next_random(qr_http *h) {
  h->rng ^= h->rng << 13;
  h->rng ^= h->rng >> 7;
  h->rng ^= h->rng << 17;
  return h->rng;
}

long qr_http_backoff_ms(long base_ms, int retry, long floor_ms, uint64_t rnd) {
  long ceiling = QR_MAX(base_ms, 0);
  for (int i = 0; i < retry && ceiling < BACKOFF_CAP_MS; i++) ceiling *= 2;
  ceiling = QR_MIN(ceiling, BACKOFF_CAP_MS);
  long delay = (long)(rnd % (uint64_t)(ceiling + 1));
  return QR_MAX(delay, floor_ms);
}

/* Go's time.Duration text as OpenAI sends it ("20s", "6m0s", "1h2m3.5s", "1ms", "250us"). */
bool qr_http_duration_ms(const char *s, long *out) {
  static const struct { const char *unit; double ms; } units[] = {
      {"ms", 1}, {"us", 1e-3}, {"\xc2\xb5s", 1e-3}, {"ns", 1e-6}, {"h", 3600e3}, {"m", 60e3},
      {"s", 1e3}};
  double total = 0;
  if (!s || !*s) return false;
  while (*s) {
    char *end;
    if (*s < '0' || *s > '9') return false;
    double v = strtod(s, &end);
    if ((size_t)(end - s) != strspn(s, "0123456789.")) return false; /* no hex, exponents */
    size_t i = 0;
    while (i < QR_ARRAY_LEN(units) && strncmp(end, units[i].unit, strlen(units[i].unit))) i++;
    if (i == QR_ARRAY_LEN(units)) return false;
    total += v * units[i].ms;
    s = end + strlen(units[i].unit);
  }
  if (total > 1e9) return false;
  *out = (long)(total + 0.999); /* never earlier than asked */
  return true;
}

/* ---- lifetime ---------------------------------------------------------------------------- */

static void maybe_free_client(qr_http *h) {
  if (h->closing && h->open_handles == 0) qr_free(h);
}

static void client_timer_closed(uv_handle_t *t) {
  qr_http *h = t->data;
  h->open_handles--;
  maybe_free_client(h);
}

static void sock_closed(uv_handle_t *p) {
  sock_ctx *c = p->data;
  qr_http *h = c->h;
  qr_free(c);
  h->open_handles--;
  maybe_free_client(h);
}

static void xfer_closed(uv_handle_t *t) {
  qr_http_xfer *x = t->data;
  qr_http *h = x->h;
  if (x->prev) x->prev->next = x->next;
  else h->xfers = x->next;
  if (x->next) x->next->prev = x->prev;
  curl_easy_cleanup(x->easy);
  curl_slist_free_all(x->headers);
  qr_buf_free(&x->body);
  qr_free(x->target);
  qr_free(x);
  h->open_handles--;
  maybe_free_client(h);
}

/* ---- completion -------------------------------------------------------------------------- */

static void detach(qr_http_xfer *x) {
  if (x->in_multi) curl_multi_remove_handle(x->h->multi, x->easy);
  x->in_multi = false;
}

static void deliver(uv_timer_t *t) {
  qr_http_xfer *x = t->data;
  qr_http_result r = {
      .status = x->status,
      .http_code = x->http_code,
      .body = x->body.data && !x->streamed ? x->body.data : "",
      .body_len = x->streamed ? 0 : x->body.len,
      .attempts = x->attempts,
      .retry_after_s = x->retry_after_s,
      .cut = x->cut,
      .wait_ms = x->wait_ms,
      .latency_ms = (long)(qr_now_ms() - x->start_ms),
      .attempt_ms = (long)(qr_now_ms() - x->attempt_ms),
      .message = x->message,
  };
  struct curl_header *link = NULL;
  if (curl_easy_header(x->easy, "Link", 0, CURLH_HEADER, -1, &link) == CURLHE_OK) r.link = link->value;
  QR_INFO("http %s %s -> %ld (%s) attempts %d, %ld ms", x->method, x->target, x->http_code,
          x->status ? qr_err_name(x->status) : "ok", x->attempts, r.latency_ms);
  x->on_done(&r, x->data);
  uv_close((uv_handle_t *)&x->timer, xfer_closed);
}

/* Fixes the result and queues its delivery for the next loop turn. A NULL fmt keeps the
 * message set where the failure was noticed (the write callback). */
static void finish(qr_http_xfer *x, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void finish(qr_http_xfer *x, int status, const char *fmt, ...) {
  detach(x);
  x->done = true;
  x->status = status;
  if (fmt) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(x->message, sizeof x->message, fmt, ap);
    va_end(ap);
  }
  uv_timer_start(&x->timer, deliver, 0, 0);
}

/* ---- attempts and retries ---------------------------------------------------------------- */

static void start_attempt(qr_http_xfer *x) {
  x->attempts++;
  x->attempt_ms = qr_now_ms();
  x->errbuf[0] = '\0';
  x->abort_status = QR_OK;
  qr_buf_reset(&x->body);
  CURLMcode mc = curl_multi_add_handle(x->h->multi, x->easy);
  if (mc != CURLM_OK) {
    finish(x, QR_E_HTTP, "cannot start the request: %s", curl_multi_strerror(mc));
    return;
  }
  x->in_multi = true;
}

static void retry_timer_fired(uv_timer_t *t) { start_attempt(t->data); }

static void cancel_fired(uv_timer_t *t) {
  qr_http_xfer *x = t->data;
  if (!x->done) finish(x, QR_E_CANCELED, "canceled");
}

static bool retryable_code(long code) {
  return code == 408 || code == 429 || (code >= 500 && code <= 599);
}

/* Failures that mean the request never reached a server that answered. */
static bool retryable_transport(CURLcode res) {
  return res == CURLE_COULDNT_CONNECT || res == CURLE_SEND_ERROR || res == CURLE_RECV_ERROR ||
         res == CURLE_GOT_NOTHING;
}

static void schedule_retry(qr_http_xfer *x, const char *why) {
  detach(x);
  if (x->on_retry) x->on_retry(why, (long)(qr_now_ms() - x->attempt_ms), x->attempts, x->data);
  long delay = qr_http_backoff_ms(x->h->backoff_base_ms, x->attempts - 1, x->wait_ms,
                                  next_random(x->h));
  QR_WARN("http %s %s: %s on attempt %d; retrying in %ld ms", x->method, x->target, why, x->attempts,
          delay);
  uv_timer_start(&x->timer, retry_timer_fired, (uint64_t)delay, 0);
}

/* The value of response header `name`, or NULL (borrowed until the next attempt). */
static const char *header(qr_http_xfer *x, const char *name) {
  struct curl_header *h;
  if (curl_easy_header(x->easy, name, 0, CURLH_HEADER, -1, &h) != CURLHE_OK) return NULL;
  return h->value;
}

/* OpenRouter's X-RateLimit-Reset: when the limit resets, in epoch milliseconds (seconds are
 * taken too); the wait until then, 0 when absent, past or not a time. */
static long epoch_reset_ms(qr_http_xfer *x) {
  const char *v = header(x, "x-ratelimit-reset");
  if (!v || !*v || strspn(v, "0123456789") != strlen(v) || strlen(v) > 15) return 0;
  double at = strtod(v, NULL);
  if (at < 1e9) return 0; /* a count of seconds or a window size: not a documented form */
  if (at < 1e12) at *= 1000;
  struct timespec now;
  clock_gettime(CLOCK_REALTIME, &now);
  double wait = at - ((double)now.tv_sec * 1000 + now.tv_nsec / 1e6);
  return wait > 0 ? (long)(wait + 0.999) : 0;
}

/* A 429 without Retry-After: OpenAI's x-ratelimit-reset-{requests,tokens} (durations, the time
 * until a limit is back to full) of the limit that is used up (remaining 0), the later of the
 * two when both are; when neither says so, the sooner one (a limit refills gradually, so part
 * of it is back before then); else OpenRouter's X-RateLimit-Reset. 0: no such header. */
static long ratelimit_wait_ms(qr_http_xfer *x) {
  static const char *const kinds[] = {"requests", "tokens"};
  long wait[2] = {0, 0};
  bool spent[2] = {false, false};
  for (int i = 0; i < 2; i++) {
    char name[48];
    snprintf(name, sizeof name, "x-ratelimit-remaining-%s", kinds[i]);
    const char *left = header(x, name);
    spent[i] = left && !strcmp(left, "0");
    snprintf(name, sizeof name, "x-ratelimit-reset-%s", kinds[i]);
    if (!qr_http_duration_ms(header(x, name), &wait[i])) wait[i] = 0;
  }
  long w = spent[0] != spent[1]                   ? (spent[0] ? wait[0] : wait[1])
           : spent[0] || !wait[0] || !wait[1] ? QR_MAX(wait[0], wait[1])
                                              : QR_MIN(wait[0], wait[1]);
  return w ? w : epoch_reset_ms(x);
}

/* An attempt ended (CURLMSG_DONE): retry it or fix the result. */
static void attempt_done(qr_http_xfer *x, CURLcode res) {
  long code = 0;
  curl_off_t retry_after = 0;
  curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &code);
  curl_easy_getinfo(x->easy, CURLINFO_RETRY_AFTER, &retry_after);
  x->http_code = code;
  if (retry_after > 0) x->retry_after_s = (long)retry_after;
  x->wait_ms = retry_after > 0 ? (long)retry_after * 1000 : code == 429 ? ratelimit_wait_ms(x) : 0;
  x->cut = res == CURLE_PARTIAL_FILE;
  bool can_retry = x->attempts <= x->max_retries && !x->h->closing;
  char why[64];

  if (x->canceled) {
    finish(x, QR_E_CANCELED, "canceled");
  } else if (x->abort_status) {
    finish(x, x->abort_status, NULL);
  } else if (res == CURLE_OPERATION_TIMEDOUT) {
    finish(x, QR_E_TIMEOUT, "no complete response within the timeout (%s)", x->errbuf);
  } else if (res != CURLE_OK) {
    if (code == 0 && retryable_transport(res) && can_retry) {
      snprintf(why, sizeof why, "%s", curl_easy_strerror(res));
      schedule_retry(x, why);
    } else {
      finish(x, QR_E_HTTP, "%s: %s", curl_easy_strerror(res), x->errbuf);
    }
  } else if (code >= 200 && code <= 299) {
    finish(x, QR_OK, "%s", "");
  } else if (retryable_code(code) && can_retry && x->wait_ms <= MAX_RETRY_AFTER_S * 1000 &&
             !(x->is_final && x->is_final(code, x->body.data, x->body.len, x->data))) {
    snprintf(why, sizeof why, "HTTP %ld", code);
    schedule_retry(x, why);
  } else {
    finish(x, QR_E_HTTP, "HTTP %ld after %d attempt%s", code, x->attempts,
           x->attempts == 1 ? "" : "s");
  }
}

static void drain_done(qr_http *h) {
  CURLMsg *msg;
  int left;
  while ((msg = curl_multi_info_read(h->multi, &left))) {
    if (msg->msg != CURLMSG_DONE) continue;
    CURL *easy = msg->easy_handle;
    CURLcode res = msg->data.result; /* msg is invalid once the handle is removed */
    qr_http_xfer *x = NULL;
    curl_easy_getinfo(easy, CURLINFO_PRIVATE, (char **)&x);
    attempt_done(x, res);
  }
}

/* ---- curl callbacks ---------------------------------------------------------------------- */

static size_t write_cb(char *p, size_t size, size_t nmemb, void *userp) {
  qr_http_xfer *x = userp;
  size_t n = size * nmemb;
  long code = 0;
  curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &code);
  if (x->canceled) return 0;
  if (code >= 200 && code <= 299 && x->on_chunk) {
    x->streamed = true;
    int rc = x->on_chunk(p, n, x->data);
    if (rc) {
      x->abort_status = rc;
      snprintf(x->message, sizeof x->message, "stream consumer stopped: %s", qr_strerror(rc));
      return 0;
    }
    return x->canceled ? 0 : n;
  }
  if (qr_buf_append(&x->body, p, n) == QR_OK) return n;
  x->abort_status = QR_E_TOOBIG;
  snprintf(x->message, sizeof x->message, "response larger than %zu bytes", x->body.cap);
  return 0;
}

static void poll_cb(uv_poll_t *p, int status, int events) {
  sock_ctx *c = p->data;
  int flags = 0;
  if (status < 0) flags = CURL_CSELECT_ERR;
  if (events & UV_READABLE) flags |= CURL_CSELECT_IN;
  if (events & UV_WRITABLE) flags |= CURL_CSELECT_OUT;
  int running;
  qr_http *h = c->h;
  curl_multi_socket_action(h->multi, c->fd, flags, &running);
  drain_done(h);
}

static int socket_cb(CURL *easy, curl_socket_t s, int action, void *userp, void *socketp) {
  qr_http *h = userp;
  sock_ctx *c = socketp;
  if (action == CURL_POLL_REMOVE) {
    if (c) {
      uv_poll_stop(&c->poll);
      uv_close((uv_handle_t *)&c->poll, sock_closed);
      curl_multi_assign(h->multi, s, NULL);
    }
    return 0;
  }
  if (!c) {
    c = qr_calloc(1, sizeof *c);
    if (!c) return -1;
    if (uv_poll_init_socket(h->loop, &c->poll, s) < 0) {
      qr_free(c);
      return -1;
    }
    c->fd = s;
    c->h = h;
    c->poll.data = c;
    h->open_handles++;
    curl_multi_assign(h->multi, s, c);
  }
  int events = 0;
  if (action != CURL_POLL_OUT) events |= UV_READABLE;
  if (action != CURL_POLL_IN) events |= UV_WRITABLE;
  return uv_poll_start(&c->poll, events, poll_cb) < 0 ? -1 : 0;
}

static void client_timer_fired(uv_timer_t *t) {
  qr_http *h = t->data;
  int running;
  curl_multi_socket_action(h->multi, CURL_SOCKET_TIMEOUT, 0, &running);
  drain_done(h);
}

static int timer_cb(CURLM *multi, long timeout_ms, void *userp) {
  qr_http *h = userp;
  if (timeout_ms < 0) uv_timer_stop(&h->timer);
  else uv_timer_start(&h->timer, client_timer_fired, (uint64_t)timeout_ms, 0);
  return 0;
}

/* ---- public ------------------------------------------------------------------------------ */

int qr_http_new(uv_loop_t *loop, qr_http **out, qr_err *e) {
  static bool curl_ready;
  if (!curl_ready) {
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
      return qr_err_set(e, QR_E_HTTP, "libcurl failed to initialise");
    curl_ready = true;
  }
  qr_http *h = qr_calloc(1, sizeof *h);
  if (!h) return qr_err_set(e, QR_E_NOMEM, "out of memory creating the HTTP client");
  h->multi = curl_multi_init();
  if (!h->multi) {
    qr_free(h);
    return qr_err_set(e, QR_E_NOMEM, "out of memory creating the HTTP client");
  }
  h->loop = loop;
  h->backoff_base_ms = DEFAULT_BACKOFF_BASE_MS;
  h->rng = uv_hrtime() ^ (uint64_t)(uintptr_t)h;
  if (!h->rng) h->rng = 0x9e3779b97f4a7c15ull;
  uv_timer_init(loop, &h->timer);
  h->timer.data = h;
  h->open_handles = 1;
  curl_multi_setopt(h->multi, CURLMOPT_SOCKETFUNCTION, socket_cb);
  curl_multi_setopt(h->multi, CURLMOPT_SOCKETDATA, h);
  curl_multi_setopt(h->multi, CURLMOPT_TIMERFUNCTION, timer_cb);
  curl_multi_setopt(h->multi, CURLMOPT_TIMERDATA, h);
  *out = h;
  return QR_OK;
}

uv_loop_t *qr_http_loop(qr_http *h) { return h->loop; }

void qr_http_set_backoff_base(qr_http *h, long base_ms) { h->backoff_base_ms = base_ms; }

void qr_http_close(qr_http *h) {
  if (!h || h->closing) return;
  h->closing = true;
  for (qr_http_xfer *x = h->xfers; x; x = x->next) {
    qr_http_cancel(x);
    detach(x); /* before the multi goes away; the cancellation still arrives later */
  }
  /* Closing cached connections reports their sockets removed (socket_cb closes the polls). */
  curl_multi_cleanup(h->multi);
  h->multi = NULL;
  uv_close((uv_handle_t *)&h->timer, client_timer_closed);
}

/* Deferred, because the caller may be inside a curl callback (a chunk callback), where the
 * easy handle cannot be removed. A pending backoff timer is replaced by the cancellation. */
void qr_http_cancel(qr_http_xfer *x) {
  if (x->done || x->canceled) return;
  x->canceled = true;
  uv_timer_start(&x->timer, cancel_fired, 0, 0);
}

/* *out = "host/path" of a URL, without credentials or query (for logs). */
static int log_target(const char *url, char **out, qr_err *e) {
  CURLU *u = curl_url();
  char *host = NULL, *path = NULL;
  int rc = QR_OK;
  if (!u) {
    rc = QR_E_NOMEM;
  } else if (curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
             curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK ||
             curl_url_get(u, CURLUPART_PATH, &path, 0) != CURLUE_OK) {
    rc = qr_err_set(e, QR_E_INVAL, "invalid URL");
  } else if (!(*out = qr_asprintf("%s%s", host, path))) {
    rc = QR_E_NOMEM;
  }
  curl_free(host);
  curl_free(path);
  curl_url_cleanup(u);
  return rc == QR_E_NOMEM ? qr_err_set(e, rc, "out of memory starting a request") : rc;
}

static int build_headers(qr_http_xfer *x, const qr_http_request *req) {
  /* An empty Expect: keeps curl from waiting for "100 Continue" before large bodies. */
  struct curl_slist *l = curl_slist_append(NULL, "Expect:");
  for (size_t i = 0; l && i < req->n_headers; i++) {
    struct curl_slist *n = curl_slist_append(l, req->headers[i]);
    if (!n) {
      curl_slist_free_all(l);
      l = NULL;
    } else {
      l = n;
    }
  }
  x->headers = l;
  return l ? QR_OK : QR_E_NOMEM;
}

static int setup_easy(qr_http_xfer *x, const qr_http_request *req, qr_err *e) {
  CURL *c = x->easy;
  if (curl_easy_setopt(c, CURLOPT_URL, req->url) != CURLE_OK)
    return qr_err_set(e, QR_E_INVAL, "invalid URL");
  if (curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https") != CURLE_OK)
    return qr_err_set(e, QR_E_NOMEM, "cannot set up the request");
  if (strcmp(x->method, "GET")) {
    if (curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)req->body_len) != CURLE_OK ||
        curl_easy_setopt(c, CURLOPT_COPYPOSTFIELDS, req->body ? req->body : "") != CURLE_OK ||
        (strcmp(x->method, "POST") &&
         curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, x->method) != CURLE_OK))
      return qr_err_set(e, QR_E_NOMEM, "cannot set up the request");
  }
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, x->headers);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, write_cb);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, x);
  curl_easy_setopt(c, CURLOPT_PRIVATE, x);
  curl_easy_setopt(c, CURLOPT_ERRORBUFFER, x->errbuf);
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_TCP_KEEPALIVE, 1L);
  curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, req->timeout_ms);
  /* Every encoding libcurl was built with; a compressed answer arrives decoded. */
  curl_easy_setopt(c, CURLOPT_ACCEPT_ENCODING, "");
  /* Over TLS a provider usually speaks HTTP/2: parallel passes then share one connection
   * (wait for it rather than open one each). Plain http:// (local servers) cannot multiplex. */
  if (!strncmp(req->url, "https://", 8)) curl_easy_setopt(c, CURLOPT_PIPEWAIT, 1L);
  return QR_OK;
}

int qr_http_send(qr_http *h, const qr_http_request *req, qr_http_xfer **out, qr_err *e) {
  if (!req->url || !req->on_done || h->closing)
    return qr_err_set(e, QR_E_INVAL, "HTTP request without URL or callback, or client closed");
  qr_http_xfer *x = qr_calloc(1, sizeof *x);
  if (!x) return qr_err_set(e, QR_E_NOMEM, "out of memory starting a request");
  x->h = h;
  x->method = req->method ? req->method : "POST";
  x->on_chunk = req->on_chunk;
  x->on_done = req->on_done;
  x->is_final = req->is_final;
  x->on_retry = req->on_retry;
  x->data = req->data;
  x->max_retries = QR_MAX(req->max_retries, 0);
  x->start_ms = qr_now_ms();
  qr_buf_init(&x->body, req->max_response_bytes ? req->max_response_bytes : DEFAULT_MAX_RESPONSE);
  x->easy = curl_easy_init();
  int rc = log_target(req->url, &x->target, e);
  if (!rc && (!x->easy || build_headers(x, req)))
    rc = qr_err_set(e, QR_E_NOMEM, "out of memory starting a request");
  if (!rc) rc = setup_easy(x, req, e);
  if (!rc && curl_multi_add_handle(h->multi, x->easy) != CURLM_OK)
    rc = qr_err_set(e, QR_E_HTTP, "cannot start the request");
  if (rc) {
    curl_easy_cleanup(x->easy);
    curl_slist_free_all(x->headers);
    qr_free(x->target);
    qr_free(x);
    return rc;
  }
  x->in_multi = true;
  x->attempts = 1;
  x->attempt_ms = qr_now_ms();
  uv_timer_init(h->loop, &x->timer);
  x->timer.data = x;
  h->open_handles++;
  x->next = h->xfers;
  if (h->xfers) h->xfers->prev = x;
  h->xfers = x;
  if (out) *out = x;
  return QR_OK;
}
