/* test_breaker.c — the provider circuit breaker (provider.h): opening after N consecutive
 * failures, the cool-down on a fake clock, the single half-open probe, what counts as a
 * failure, and whole calls that are skipped without being sent. */
#include <netinet/in.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include "log.h"
#include "providers/provider.h"
#include "test.h"

static uint64_t fake_now;
static uint64_t fake_clock(void) { return fake_now; }

#define URL "http://127.0.0.1:9/v1"

static void fail_times(const char *url, int n, const char *reason) {
  for (int i = 0; i < n; i++) {
    ASSERT(qr_provider_breaker_allow(url, "p"));
    qr_provider_breaker_record(url, "p", QR_E_HTTP, reason);
  }
}

TEST(provider_breaker_opens_after_threshold) {
  qr_provider_breaker_configure(3, 1000, fake_clock);
  fail_times(URL, 2, "http_500");
  fail_times(URL "/", 1, "timeout"); /* the same endpoint */
  ASSERT(!qr_provider_breaker_allow(URL, "p"));
  ASSERT(qr_provider_breaker_allow("http://127.0.0.1:10/v1", "q")); /* others are unaffected */
}

TEST(provider_breaker_half_open_probe) {
  qr_provider_breaker_configure(2, 1000, fake_clock);
  fake_now = 5000;
  fail_times(URL, 2, "connection");
  fake_now = 5999;
  ASSERT(!qr_provider_breaker_allow(URL, "p"));
  fake_now = 6000;
  ASSERT(qr_provider_breaker_allow(URL, "p"));  /* the probe */
  ASSERT(!qr_provider_breaker_allow(URL, "p")); /* only one at a time */
  qr_provider_breaker_record(URL, "p", QR_E_HTTP, "http_503");
  ASSERT(!qr_provider_breaker_allow(URL, "p")); /* open again, a fresh cool-down */
  fake_now = 6999;
  ASSERT(!qr_provider_breaker_allow(URL, "p"));
  fake_now = 7000;
  ASSERT(qr_provider_breaker_allow(URL, "p"));
  qr_provider_breaker_record(URL, "p", QR_OK, "");
  ASSERT(qr_provider_breaker_allow(URL, "p")); /* closed */
  qr_provider_breaker_record(URL, "p", QR_OK, "");
  fail_times(URL, 1, "http_500"); /* the count starts over */
  ASSERT(qr_provider_breaker_allow(URL, "p"));
}

TEST(provider_breaker_counts_only_consecutive_endpoint_failures) {
  qr_provider_breaker_configure(3, 1000, fake_clock);
  fail_times(URL, 2, "http_500");
  ASSERT(qr_provider_breaker_allow(URL, "p"));
  qr_provider_breaker_record(URL, "p", QR_E_PROVIDER, "refusal"); /* an answer: it works */
  fail_times(URL, 2, "http_500");
  ASSERT(qr_provider_breaker_allow(URL, "p"));
  qr_provider_breaker_record(URL, "p", QR_E_CANCELED, "canceled"); /* says nothing */
  ASSERT(qr_provider_breaker_allow(URL, "p"));
  qr_provider_breaker_record(URL, "p", QR_E_CONFIG, "no_api_key");
  ASSERT(qr_provider_breaker_allow(URL, "p")); /* still two failures */
  qr_provider_breaker_record(URL, "p", QR_E_PARSE, "malformed_response");
  ASSERT(!qr_provider_breaker_allow(URL, "p"));
}

TEST(provider_breaker_error_choices_are_failures) {
  /* OpenRouter's 200 with an error choice is the endpoint failing; a content filter, a
   * context-window stop or a truncated prompt is an answer that arrived */
  qr_provider_breaker_configure(2, 1000, fake_clock);
  static const char *const answered[] = {"content_filter", "context_exceeded", "prompt_truncated"};
  for (size_t i = 0; i < QR_ARRAY_LEN(answered); i++) {
    fail_times(URL, 1, "http_500");
    ASSERT(qr_provider_breaker_allow(URL, "p"));
    qr_provider_breaker_record(URL, "p", QR_E_PROVIDER, answered[i]);
  }
  ASSERT(qr_provider_breaker_allow(URL, "p"));
  qr_provider_breaker_record(URL, "p", QR_E_PROVIDER, "provider_error");
  ASSERT(qr_provider_breaker_allow(URL, "p"));
  qr_provider_breaker_record(URL, "p", QR_E_TRUNCATED, "body_cut");
  ASSERT(!qr_provider_breaker_allow(URL, "p"));
}

TEST(provider_breaker_defaults) {
  qr_provider_breaker_configure(0, 0, fake_clock);
  fake_now = 100;
  fail_times(URL, QR_BREAKER_THRESHOLD - 1, "http_500");
  ASSERT(qr_provider_breaker_allow(URL, "p"));
  qr_provider_breaker_record(URL, "p", QR_E_HTTP, "http_500");
  ASSERT(!qr_provider_breaker_allow(URL, "p"));
  fake_now = 100 + QR_BREAKER_COOLDOWN_MS - 1;
  ASSERT(!qr_provider_breaker_allow(URL, "p"));
  fake_now = 100 + QR_BREAKER_COOLDOWN_MS;
  ASSERT(qr_provider_breaker_allow(URL, "p"));
}

/* ---- whole calls -------------------------------------------------------------------------- */

/* A loopback port nothing listens on: bound, then closed. */
static int closed_port(void) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  socklen_t len = sizeof a;
  ASSERT_OK(bind(fd, (struct sockaddr *)&a, sizeof a));
  ASSERT_OK(getsockname(fd, (struct sockaddr *)&a, &len));
  close(fd);
  return ntohs(a.sin_port);
}

typedef struct outcome {
  int calls, status;
  char reason[32];
} outcome;

static void on_done(int status, const char *reason, const char *message, qr_completion *c,
                    void *data) {
  outcome *o = data;
  o->calls++;
  o->status = status;
  snprintf(o->reason, sizeof o->reason, "%s", reason);
}

static outcome call_once(qr_http *h, uv_loop_t *loop, const qr_config_model *m) {
  static const qr_config_limits limits = {.concurrency = 1, .timeout_ms = 5000,
                                          .max_input_tokens_per_pass = 24000,
                                          .max_response_bytes = 1 << 20};
  qr_prompt p = {.system = "s", .user = "u"};
  outcome o = {0};
  ASSERT_OK(qr_provider_call(h, m, &p, &limits, on_done, &o, NULL));
  while (!o.calls) uv_run(loop, UV_RUN_ONCE);
  return o;
}

TEST(provider_breaker_skips_calls_without_sending) {
  char base[64], log_path[] = "/tmp/qr-breaker-log-XXXXXX";
  snprintf(base, sizeof base, "http://127.0.0.1:%d/v1", closed_port());
  int fd = mkstemp(log_path);
  ASSERT(fd >= 0);
  close(fd);
  ASSERT_OK(qr_log_open(log_path));
  qr_provider_breaker_configure(2, 60000, NULL);
  qr_config_provider prov = {.name = "local", .type = QR_PROVIDER_OPENAI, .base_url = base};
  qr_config_model m = {.alias = "m", .provider = "local", .prov = &prov, .model = "x",
                       .max_output_tokens = 100};
  uv_loop_t loop;
  ASSERT_OK(uv_loop_init(&loop));
  qr_http *h;
  ASSERT_OK(qr_http_new(&loop, &h, NULL));
  for (int i = 0; i < 2; i++) {
    outcome o = call_once(h, &loop, &m);
    ASSERT_STR_EQ(o.reason, "connection");
  }
  outcome o = call_once(h, &loop, &m);
  ASSERT_EQ(o.status, QR_E_PROVIDER);
  ASSERT_STR_EQ(o.reason, "circuit_open");
  qr_http_close(h);
  ASSERT_OK(uv_run(&loop, UV_RUN_DEFAULT));
  ASSERT_OK(uv_loop_close(&loop));
  qr_log_close();
  char *log;
  ASSERT_OK(qr_read_file(log_path, 1 << 20, &log, NULL, NULL));
  ASSERT(strstr(log, "provider local: circuit open after 2 consecutive failures"));
  qr_free(log);
  unlink(log_path);
}
