/* Unit tests for provider*.c: request building for both APIs (fields, URL, headers, keys),
 * reading the recorded bodies in tests/data/provider/, and whole calls through qr_http
 * against a local python3 server that replays a recorded body. */
#include <signal.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "log.h"
#include "providers/provider.h"
#include "test.h"

#define KEY_ENV "QR_TEST_PROVIDER_KEY"
#define KEY "sk-test-SECRET-1234"

static qr_kv extra_headers[] = {{"HTTP-Referer", "https://example.org/quorum"},
                                {"X-Title", "quorum"}};

static qr_config_provider openrouter = {
    .name = "openrouter", .type = QR_PROVIDER_OPENAI, .base_url = "https://openrouter.ai/api/v1/",
    .api_key_env = KEY_ENV, .headers = extra_headers, .n_headers = 2, .json_schema = true};
static qr_config_provider local = {
    .name = "local", .type = QR_PROVIDER_OPENAI, .base_url = "http://127.0.0.1:11434/v1",
    .json_schema = false};
static qr_config_provider anthropic = {
    .name = "anthropic", .type = QR_PROVIDER_ANTHROPIC, .base_url = "https://api.anthropic.com/v1",
    .api_key_env = KEY_ENV, .json_schema = true};

static qr_config_model model(qr_config_provider *p, bool stream) {
  return (qr_config_model){.alias = "m", .provider = p->name, .prov = p, .model = "test-model",
                           .price_in_per_mtok = 1.0, .price_out_per_mtok = 4.0,
                           .max_output_tokens = 4096, .temperature = 0.2, .stream = stream};
}

static qr_prompt prompt(void) {
  return (qr_prompt){.system = "You review code.", .user = "<code>int x;</code>",
                     .schema = json_pack("{s:s, s:{s:{s:s}}}", "type", "object", "properties",
                                         "findings", "type", "array"),
                     .schema_name = "review_findings"};
}

static bool has_header(const qr_provider_request *r, const char *line) {
  for (size_t i = 0; i < r->n_headers; i++)
    if (!strcmp(r->headers[i], line)) return true;
  return false;
}

static bool has_header_named(const qr_provider_request *r, const char *prefix) {
  for (size_t i = 0; i < r->n_headers; i++)
    if (!strncasecmp(r->headers[i], prefix, strlen(prefix))) return true;
  return false;
}

static json_t *body_json(const qr_provider_request *r) {
  json_t *j = json_loadb(r->body, r->body_len, 0, NULL);
  ASSERT(j);
  return j;
}

#define JSTR(j, path) json_string_value(json_object_get((j), (path)))

TEST(provider_openai_request) {
  setenv(KEY_ENV, KEY, 1);
  qr_config_model m = model(&openrouter, true);
  qr_prompt p = prompt();
  qr_provider_request r;
  ASSERT_OK(qr_provider_request_build(&m, &p, &r, NULL, NULL));
  ASSERT_STR_EQ(r.url, "https://openrouter.ai/api/v1/chat/completions");
  ASSERT(has_header(&r, "Authorization: Bearer " KEY));
  ASSERT(has_header(&r, "Content-Type: application/json"));
  ASSERT(has_header(&r, "HTTP-Referer: https://example.org/quorum"));
  ASSERT(has_header(&r, "X-Title: quorum"));
  json_t *j = body_json(&r);
  ASSERT_STR_EQ(JSTR(j, "model"), "test-model");
  json_t *msgs = json_object_get(j, "messages");
  ASSERT_EQ(json_array_size(msgs), 2);
  ASSERT_STR_EQ(JSTR(json_array_get(msgs, 0), "role"), "system");
  ASSERT_STR_EQ(JSTR(json_array_get(msgs, 0), "content"), "You review code.");
  ASSERT_STR_EQ(JSTR(json_array_get(msgs, 1), "role"), "user");
  ASSERT_STR_EQ(JSTR(json_array_get(msgs, 1), "content"), "<code>int x;</code>");
  ASSERT(json_real_value(json_object_get(j, "temperature")) == 0.2);
  ASSERT_EQ(json_integer_value(json_object_get(j, "max_tokens")), 4096);
  ASSERT(json_is_true(json_object_get(j, "stream")));
  ASSERT(json_is_true(json_object_get(json_object_get(j, "stream_options"), "include_usage")));
  json_t *rf = json_object_get(j, "response_format");
  ASSERT_STR_EQ(JSTR(rf, "type"), "json_schema");
  json_t *js = json_object_get(rf, "json_schema");
  ASSERT_STR_EQ(JSTR(js, "name"), "review_findings");
  ASSERT(json_is_true(json_object_get(js, "strict")));
  ASSERT(json_equal(json_object_get(js, "schema"), p.schema));
  json_decref(j);
  qr_provider_request_free(&r);
  json_decref(p.schema);
}

TEST(provider_openai_reasoning_request) {
  setenv(KEY_ENV, KEY, 1);
  qr_config_model m = model(&openrouter, false);
  m.reasoning = true;
  m.reasoning_effort = "low";
  qr_prompt p = prompt();
  qr_provider_request r;
  ASSERT_OK(qr_provider_request_build(&m, &p, &r, NULL, NULL));
  json_t *j = body_json(&r);
  ASSERT_EQ(json_integer_value(json_object_get(j, "max_completion_tokens")), 4096);
  ASSERT(!json_object_get(j, "max_tokens"));   /* rejected by reasoning models */
  ASSERT(!json_object_get(j, "temperature"));  /* only the default is accepted */
  ASSERT_STR_EQ(JSTR(j, "reasoning_effort"), "low");
  json_decref(j);
  qr_provider_request_free(&r);
  m.reasoning_effort = NULL;
  ASSERT_OK(qr_provider_request_build(&m, &p, &r, NULL, NULL));
  j = body_json(&r);
  ASSERT(!json_object_get(j, "reasoning_effort"));
  json_decref(j);
  qr_provider_request_free(&r);
  json_decref(p.schema);
}

TEST(provider_azure_route_and_key_header) {
  setenv(KEY_ENV, KEY, 1);
  qr_config_provider azure = {
      .name = "azure", .type = QR_PROVIDER_OPENAI, .api_key_env = KEY_ENV,
      .api_key_header = "api-key", .json_schema = true,
      .base_url = "https://res.openai.azure.com/openai/deployments/gpt4o/?api-version=2024-10-21"};
  qr_config_model m = model(&azure, false);
  qr_prompt p = prompt();
  qr_provider_request r;
  ASSERT_OK(qr_provider_request_build(&m, &p, &r, NULL, NULL));
  ASSERT_STR_EQ(r.url, "https://res.openai.azure.com/openai/deployments/gpt4o/chat/completions"
                       "?api-version=2024-10-21");
  ASSERT(has_header(&r, "api-key: " KEY));
  ASSERT(!has_header_named(&r, "Authorization:"));
  qr_provider_request_free(&r);
  json_decref(p.schema);
}

TEST(provider_openai_request_local_no_key) {
  qr_config_model m = model(&local, false);
  qr_prompt p = prompt();
  qr_provider_request r;
  ASSERT_OK(qr_provider_request_build(&m, &p, &r, NULL, NULL));
  ASSERT_STR_EQ(r.url, "http://127.0.0.1:11434/v1/chat/completions");
  ASSERT(!has_header_named(&r, "Authorization:"));
  json_t *j = body_json(&r);
  ASSERT(!json_object_get(j, "response_format")); /* json_schema: false */
  ASSERT(!json_object_get(j, "stream_options"));
  ASSERT(json_is_false(json_object_get(j, "stream")));
  json_decref(j);
  qr_provider_request_free(&r);
  json_decref(p.schema);
}

TEST(provider_missing_key) {
  unsetenv(KEY_ENV);
  qr_config_model m = model(&openrouter, false);
  qr_prompt p = prompt();
  qr_provider_request r;
  const char *reason = NULL;
  qr_err e;
  ASSERT_EQ(qr_provider_request_build(&m, &p, &r, &reason, &e), QR_E_CONFIG);
  ASSERT_STR_EQ(reason, "no_api_key");
  ASSERT_STR_EQ(e.msg, KEY_ENV " is not set");
  setenv(KEY_ENV, "", 1); /* empty counts as missing */
  ASSERT_EQ(qr_provider_request_build(&m, &p, &r, &reason, &e), QR_E_CONFIG);
  json_decref(p.schema);
}

TEST(provider_anthropic_request) {
  setenv(KEY_ENV, KEY, 1);
  qr_config_model m = model(&anthropic, false);
  qr_prompt p = prompt();
  qr_provider_request r;
  ASSERT_OK(qr_provider_request_build(&m, &p, &r, NULL, NULL));
  ASSERT_STR_EQ(r.url, "https://api.anthropic.com/v1/messages");
  ASSERT(has_header(&r, "x-api-key: " KEY));
  ASSERT(has_header(&r, "anthropic-version: 2023-06-01"));
  ASSERT(!has_header_named(&r, "Authorization:"));
  json_t *j = body_json(&r);
  ASSERT_STR_EQ(JSTR(j, "model"), "test-model");
  ASSERT_EQ(json_integer_value(json_object_get(j, "max_tokens")), 4096);
  ASSERT_STR_EQ(JSTR(j, "system"), "You review code.");
  json_t *msgs = json_object_get(j, "messages");
  ASSERT_EQ(json_array_size(msgs), 1);
  ASSERT_STR_EQ(JSTR(json_array_get(msgs, 0), "role"), "user");
  json_t *tool = json_array_get(json_object_get(j, "tools"), 0);
  ASSERT_STR_EQ(JSTR(tool, "name"), "review_findings");
  ASSERT(JSTR(tool, "description"));
  ASSERT(json_equal(json_object_get(tool, "input_schema"), p.schema));
  json_t *choice = json_object_get(j, "tool_choice");
  ASSERT_STR_EQ(JSTR(choice, "type"), "tool");
  ASSERT_STR_EQ(JSTR(choice, "name"), "review_findings");
  ASSERT(json_is_true(json_object_get(choice, "disable_parallel_tool_use"))); /* one call */
  ASSERT(json_is_false(json_object_get(j, "stream")));
  json_decref(j);
  qr_provider_request_free(&r);
  json_decref(p.schema);

  anthropic.api_key_env = NULL; /* a proxy without key: no x-api-key header */
  p = prompt();
  ASSERT_OK(qr_provider_request_build(&m, &p, &r, NULL, NULL));
  ASSERT(!has_header_named(&r, "x-api-key:"));
  qr_provider_request_free(&r);
  json_decref(p.schema);
  anthropic.api_key_env = KEY_ENV;
}

/* ---- recorded responses ------------------------------------------------------------------ */

typedef struct parsed {
  int status;
  char reason[32];
  qr_err err;
  qr_completion c;
} parsed;

static parsed parse_file(qr_config_provider *prov, bool stream, long code, const char *name) {
  char path[512];
  snprintf(path, sizeof path, "%s/provider/%s", qr_test_data_dir(), name);
  char *text;
  size_t len;
  ASSERT_OK(qr_read_file(path, 1 << 20, &text, &len, NULL));
  qr_config_model m = model(prov, stream);
  parsed r = {0};
  r.status = qr_provider_parse_response(&m, code, text, len, &r.c, r.reason, &r.err);
  qr_free(text);
  return r;
}

#define ANSWER "{\"findings\":[{\"line\":3,\"message\":\"off by one\"}]}"

static bool near(double a, double b) { return a - b < 1e-12 && b - a < 1e-12; }

TEST(provider_openai_plain) {
  parsed r = parse_file(&local, false, 200, "openai_plain.json");
  ASSERT_OK(r.status);
  ASSERT_STR_EQ(r.reason, "");
  ASSERT_STR_EQ(r.c.text, ANSWER);
  ASSERT_EQ(r.c.input_tokens, 1200);
  ASSERT_EQ(r.c.output_tokens, 80);
  ASSERT_EQ(r.c.cached_tokens, 1024);
  ASSERT(!r.c.cost_reported);
  ASSERT(near(r.c.cost_usd, (1200 * 1.0 + 80 * 4.0) / 1e6));
  ASSERT_STR_EQ(r.c.model_served, "gpt-4o-mini-2024-07-18");
  ASSERT_STR_EQ(r.c.finish_reason, "stop");
  qr_completion_clear(&r.c);
}

/* The recorded 200 `file` reads as the whole ANSWER, usage included. */
static void expect_answer(qr_config_provider *prov, bool stream, const char *file, long in) {
  parsed r = parse_file(prov, stream, 200, file);
  ASSERT_OK(r.status);
  ASSERT_STR_EQ(r.c.text, ANSWER);
  ASSERT_EQ(r.c.input_tokens, in);
  ASSERT(r.c.complete);
  qr_completion_clear(&r.c);
}

/* content as a list of parts: the text parts are the answer, reasoning parts are not. */
TEST(provider_openai_content_parts) { expect_answer(&local, false, "openai_content_parts.json", 1200); }

/* A server that ignores "stream": true and answers with one plain body: that body is the
 * answer (read whole), not a stream cut before its first event. */
TEST(provider_stream_asked_plain_body) {
  expect_answer(&local, true, "openai_plain.json", 1200);
  expect_answer(&anthropic, true, "anthropic_tool.json", 2100);
}

TEST(provider_openai_stream) {
  parsed r = parse_file(&local, true, 200, "openai_stream.sse");
  ASSERT_OK(r.status);
  ASSERT_STR_EQ(r.c.text, ANSWER);
  ASSERT_EQ(r.c.input_tokens, 1200);
  ASSERT_EQ(r.c.output_tokens, 80);
  ASSERT_EQ(r.c.cached_tokens, 1024);
  ASSERT_STR_EQ(r.c.finish_reason, "stop");
  ASSERT_STR_EQ(r.c.model_served, "gpt-4o-mini-2024-07-18");
  qr_completion_clear(&r.c);
}

TEST(provider_openrouter_cost) {
  parsed r = parse_file(&openrouter, true, 200, "openrouter_stream.sse");
  ASSERT_OK(r.status);
  ASSERT_STR_EQ(r.c.text, ANSWER);
  ASSERT(r.c.cost_reported);
  ASSERT(near(r.c.cost_usd, 0.00123));
  ASSERT_EQ(r.c.input_tokens, 1500);
  ASSERT_STR_EQ(r.c.model_served, "anthropic/claude-3.5-haiku");
  qr_completion_clear(&r.c);
  r = parse_file(&openrouter, false, 200, "openrouter_plain.json");
  ASSERT_OK(r.status);
  ASSERT(r.c.cost_reported);
  ASSERT(near(r.c.cost_usd, 0.0042));
  ASSERT_EQ(r.c.cached_tokens, 200);
  qr_completion_clear(&r.c);
}

/* A recorded response that must fail with this status and typed reason. */
typedef struct failure_case {
  const char *file;
  bool stream;
  long code;
  int status;
  const char *reason;
} failure_case;

static void expect_failures(qr_config_provider *prov, const failure_case *cases, size_t n) {
  for (size_t i = 0; i < n; i++) {
    parsed r = parse_file(prov, cases[i].stream, cases[i].code, cases[i].file);
    if (r.status != cases[i].status || strcmp(r.reason, cases[i].reason))
      QR__FAIL("%s: got %s/%s (%s)", cases[i].file, qr_err_name(r.status), r.reason, r.err.msg);
    ASSERT(r.err.msg[0]);
    qr_completion_clear(&r.c);
  }
}

TEST(provider_openai_failures) {
  failure_case cases[] = {
      {"openai_length.json", false, 200, QR_E_TRUNCATED, "truncated"},
      {"openai_refusal.json", false, 200, QR_E_PROVIDER, "refusal"},
      {"openai_choices_null.json", false, 200, QR_E_PROVIDER, "empty"},
      {"openai_choices_wrong.json", false, 200, QR_E_PARSE, "malformed_response"},
      {"openai_stream_cut.sse", true, 200, QR_E_TRUNCATED, "stream_cut"},
      {"openrouter_stream_error.sse", true, 200, QR_E_PROVIDER, "provider_error"},
      {"openai_error_429.json", false, 429, QR_E_HTTP, "http_429"},
      {"openrouter_error_402.json", true, 402, QR_E_HTTP, "http_402"},
      {"not_json.txt", false, 200, QR_E_PARSE, "malformed_response"},
      {"not_json.txt", false, 502, QR_E_HTTP, "http_502"},
      /* a server that ignores "stream": a JSON body has no SSE events (known limitation) */
      {"openai_content_filter.json", false, 200, QR_E_PROVIDER, "content_filter"},
      {"openai_content_filter.sse", true, 200, QR_E_PROVIDER, "content_filter"},
      {"openrouter_choice_error.json", false, 200, QR_E_PROVIDER, "provider_error"},
      {"openrouter_choice_error.sse", true, 200, QR_E_PROVIDER, "provider_error"},
      {"openai_insufficient_quota.json", false, 429, QR_E_HTTP, "insufficient_quota"},
      {"vllm_error_400.json", false, 400, QR_E_HTTP, "http_400"},
  };
  expect_failures(&local, cases, QR_ARRAY_LEN(cases));
  parsed r = parse_file(&local, false, 200, "openai_refusal.json");
  ASSERT_STR_EQ(r.err.msg, "the model refused: I'm sorry, I cannot assist with that request.");
  ASSERT_EQ(r.c.input_tokens, 900); /* usage is kept on failure */
  qr_completion_clear(&r.c);
  r = parse_file(&local, false, 429, "openai_error_429.json");
  ASSERT(strstr(r.err.msg, "HTTP 429 from local: Rate limit reached"));
  qr_completion_clear(&r.c);
  r = parse_file(&local, false, 200, "openai_length.json");
  ASSERT_STR_EQ(r.c.text, "{\"findings\":[{\"line\":3,\"mess"); /* the partial text is kept */
  qr_completion_clear(&r.c);
  r = parse_file(&local, true, 200, "openrouter_stream_error.sse");
  ASSERT_STR_EQ(r.err.msg, "the provider reported: Provider disconnected unexpectedly");
  qr_completion_clear(&r.c);
  for (int stream = 0; stream < 2; stream++) { /* OpenRouter's error choice keeps its message */
    r = parse_file(&openrouter, stream, 200,
                   stream ? "openrouter_choice_error.sse" : "openrouter_choice_error.json");
    ASSERT_STR_EQ(r.err.msg, "the provider reported: Upstream error from Together: connection reset");
    qr_completion_clear(&r.c);
  }
  r = parse_file(&local, false, 400, "vllm_error_400.json");
  ASSERT(strstr(r.err.msg, "HTTP 400 from local: This model's maximum context length is 8192"));
  qr_completion_clear(&r.c);
  r = parse_file(&local, false, 429, "openai_insufficient_quota.json");
  ASSERT(strstr(r.err.msg, "You exceeded your current quota"));
  qr_completion_clear(&r.c);
}

TEST(provider_anthropic_plain) {
  parsed r = parse_file(&anthropic, false, 200, "anthropic_tool.json");
  ASSERT_OK(r.status);
  ASSERT_STR_EQ(r.c.text, ANSWER); /* the tool input, not the text block */
  ASSERT_EQ(r.c.input_tokens, 2100);
  ASSERT_EQ(r.c.output_tokens, 95);
  ASSERT_EQ(r.c.cached_tokens, 1800);
  ASSERT(near(r.c.cost_usd, (2100 * 1.0 + 95 * 4.0) / 1e6));
  ASSERT_STR_EQ(r.c.finish_reason, "tool_use");
  ASSERT_STR_EQ(r.c.model_served, "claude-3-5-haiku-20241022");
  qr_completion_clear(&r.c);
}

TEST(provider_anthropic_stream) {
  parsed r = parse_file(&anthropic, true, 200, "anthropic_stream.sse");
  ASSERT_OK(r.status);
  json_t *got = json_loads(r.c.text, 0, NULL), *want = json_loads(ANSWER, 0, NULL);
  ASSERT(got && json_equal(got, want));
  json_decref(got);
  json_decref(want);
  ASSERT_EQ(r.c.input_tokens, 2100);
  ASSERT_EQ(r.c.output_tokens, 95);
  ASSERT_EQ(r.c.cached_tokens, 1800);
  ASSERT_STR_EQ(r.c.finish_reason, "tool_use");
  ASSERT_STR_EQ(r.c.model_served, "claude-3-5-haiku-20241022");
  qr_completion_clear(&r.c);
}

/* A model that calls the forced tool twice anyway: both inputs are the answer, one per line
 * (plain and streamed); a streamed delta for a block that is not the open tool call fails. */
TEST(provider_anthropic_two_tool_calls) {
  const char *want = ANSWER "\n{\"findings\":[{\"line\":9,\"message\":\"leak\"}]}";
  parsed r = parse_file(&anthropic, false, 200, "anthropic_tool_two.json");
  ASSERT_OK(r.status);
  ASSERT_STR_EQ(r.c.text, want);
  qr_completion_clear(&r.c);
  r = parse_file(&anthropic, true, 200, "anthropic_stream_two_tools.sse");
  ASSERT_OK(r.status);
  const char *nl = strchr(r.c.text, '\n');
  ASSERT(nl);
  json_t *a = json_loadb(r.c.text, (size_t)(nl - r.c.text), 0, NULL), *b = json_loads(nl + 1, 0, NULL);
  json_t *wa = json_loads(ANSWER, 0, NULL), *wb = json_loads(strchr(want, '\n') + 1, 0, NULL);
  ASSERT(a && b && json_equal(a, wa) && json_equal(b, wb));
  json_decref(a);
  json_decref(b);
  json_decref(wa);
  json_decref(wb);
  qr_completion_clear(&r.c);
  r = parse_file(&anthropic, true, 200, "anthropic_stream_interleaved.sse");
  ASSERT_EQ(r.status, QR_E_PARSE);
  ASSERT_STR_EQ(r.reason, "malformed_response");
  qr_completion_clear(&r.c);
}

TEST(provider_anthropic_failures) {
  failure_case cases[] = {
      {"anthropic_max_tokens.json", false, 200, QR_E_TRUNCATED, "truncated"},
      {"anthropic_refusal.json", false, 200, QR_E_PROVIDER, "refusal"},
      {"anthropic_no_content.json", false, 200, QR_E_PARSE, "malformed_response"},
      {"anthropic_error_529.json", false, 529, QR_E_HTTP, "http_529"},
      {"anthropic_error_529.json", false, 200, QR_E_PROVIDER, "provider_error"},
      {"anthropic_stream_cut.sse", true, 200, QR_E_TRUNCATED, "stream_cut"},
      {"anthropic_stream_error.sse", true, 200, QR_E_PROVIDER, "provider_error"},
      {"anthropic_context_window.json", false, 200, QR_E_TRUNCATED, "context_exceeded"},
      {"anthropic_pause_turn.json", false, 200, QR_E_PROVIDER, "paused"},
  };
  expect_failures(&anthropic, cases, QR_ARRAY_LEN(cases));
  parsed r = parse_file(&anthropic, false, 529, "anthropic_error_529.json");
  ASSERT_STR_EQ(r.err.msg, "HTTP 529 from anthropic: Overloaded");
  qr_completion_clear(&r.c);
  r = parse_file(&anthropic, true, 200, "anthropic_stream_error.sse");
  ASSERT_STR_EQ(r.err.msg, "the provider reported overloaded_error: Overloaded");
  ASSERT_EQ(r.c.input_tokens, 2100);
  qr_completion_clear(&r.c);
}

/* ---- whole calls ------------------------------------------------------------------------- */

/* Replays the file named by argv[1] as the 2xx answer to any POST, recording the request's
 * headers to argv[2]. */
static const char REPLAY_PY[] =
    "import http.server, sys\n"
    "body = open(sys.argv[1], 'rb').read()\n"
    "class H(http.server.BaseHTTPRequestHandler):\n"
    "    protocol_version = 'HTTP/1.1'\n"
    "    def log_message(self, *a): pass\n"
    "    def do_POST(self):\n"
    "        self.rfile.read(int(self.headers.get('Content-Length', 0)))\n"
    "        open(sys.argv[2], 'w').write(str(self.headers))\n"
    "        self.send_response(200)\n"
    "        self.send_header('Content-Type', 'text/event-stream')\n"
    "        self.send_header('Transfer-Encoding', 'chunked')\n"
    "        self.end_headers()\n"
    "        for i in range(0, len(body), 100):\n"
    "            d = body[i:i + 100]\n"
    "            self.wfile.write(b'%x\\r\\n%s\\r\\n' % (len(d), d))\n"
    "            self.wfile.flush()\n"
    "        self.wfile.write(b'0\\r\\n\\r\\n')\n"
    "s = http.server.HTTPServer(('127.0.0.1', 0), H)\n"
    "print(s.server_address[1], flush=True)\n"
    "s.serve_forever()\n";

static pid_t replay_start(const char *file, const char *headers_out, int *port) {
  int fds[2];
  ASSERT_OK(pipe(fds));
  fflush(NULL);
  pid_t pid = fork();
  ASSERT(pid >= 0);
  if (pid == 0) {
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    dup2(fds[1], 1);
    close(fds[0]);
    execlp("python3", "python3", "-c", REPLAY_PY, file, headers_out, (char *)NULL);
    _exit(127);
  }
  close(fds[1]);
  char line[32] = {0};
  size_t n = 0;
  while (n < sizeof line - 1 && read(fds[0], line + n, 1) == 1 && line[n] != '\n') n++;
  close(fds[0]);
  *port = atoi(line);
  ASSERT(*port > 0);
  return pid;
}

typedef struct outcome {
  int calls, status;
  char reason[32], message[512];
  char *text;
  long input_tokens, http_status;
  int attempts;
} outcome;

static void on_done(int status, const char *reason, const char *message, qr_completion *c,
                    void *data) {
  outcome *o = data;
  o->calls++;
  o->status = status;
  snprintf(o->reason, sizeof o->reason, "%s", reason);
  snprintf(o->message, sizeof o->message, "%s", message);
  o->text = qr_strdup(c->text);
  o->input_tokens = c->input_tokens;
  o->http_status = c->http_status;
  o->attempts = c->attempts;
}

static const qr_config_limits limits = {.concurrency = 8, .timeout_ms = 20000,
                                        .max_input_tokens_per_pass = 24000, .max_retries = 1,
                                        .max_response_bytes = 1 << 20};

/* Runs one call to completion and closes everything; the loop must end empty. */
static outcome run_call(qr_config_model *m, bool cancel) {
  uv_loop_t loop;
  ASSERT_OK(uv_loop_init(&loop));
  qr_http *h;
  ASSERT_OK(qr_http_new(&loop, &h, NULL));
  qr_http_set_backoff_base(h, 1);
  qr_prompt p = prompt();
  outcome o = {0};
  struct qr_provider_call *call;
  ASSERT_OK(qr_provider_call(h, m, &p, &limits, on_done, &o, &call));
  json_decref(p.schema); /* the prompt is only read during qr_provider_call */
  if (cancel) qr_provider_cancel(call);
  ASSERT_EQ(o.calls, 0);
  while (!o.calls) uv_run(&loop, UV_RUN_ONCE);
  qr_http_close(h);
  ASSERT_OK(uv_run(&loop, UV_RUN_DEFAULT));
  ASSERT_OK(uv_loop_close(&loop));
  ASSERT_EQ(o.calls, 1);
  return o;
}

static bool file_contains(const char *path, const char *needle) {
  char *text;
  size_t len;
  if (qr_read_file(path, 1 << 22, &text, &len, NULL)) return false;
  bool found = strstr(text, needle) != NULL;
  qr_free(text);
  return found;
}

TEST(provider_call_stream_over_http) {
  char data[512], headers[] = "/tmp/qr-provider-headers-XXXXXX";
  snprintf(data, sizeof data, "%s/provider/openrouter_stream.sse", qr_test_data_dir());
  int fd = mkstemp(headers);
  ASSERT(fd >= 0);
  close(fd);
  int port;
  pid_t pid = replay_start(data, headers, &port);
  char base[64];
  snprintf(base, sizeof base, "http://127.0.0.1:%d/api/v1", port);
  qr_config_provider prov = openrouter;
  prov.base_url = base;
  setenv(KEY_ENV, KEY, 1);
  qr_config_model m = model(&prov, true);
  outcome o = run_call(&m, false);
  ASSERT_OK(o.status);
  ASSERT_STR_EQ(o.text, ANSWER);
  ASSERT_EQ(o.input_tokens, 1500);
  ASSERT_EQ(o.http_status, 200);
  ASSERT_EQ(o.attempts, 1);
  ASSERT(file_contains(headers, "Authorization: Bearer " KEY));
  ASSERT(file_contains(headers, "X-Title: quorum"));
  qr_free(o.text);
  kill(pid, SIGKILL);
  waitpid(pid, NULL, 0);
  unlink(headers);
}

TEST(provider_call_never_logs_key) {
  char log_path[] = "/tmp/qr-provider-log-XXXXXX";
  int fd = mkstemp(log_path);
  ASSERT(fd >= 0);
  close(fd);
  ASSERT_OK(qr_log_open(log_path));
  qr_log_set_level(QR_LOG_DEBUG);
  qr_config_provider prov = openrouter;
  prov.base_url = "http://127.0.0.1:1/v1"; /* refused: the call fails after a retry */
  setenv(KEY_ENV, KEY, 1);
  qr_config_model m = model(&prov, false);
  outcome o = run_call(&m, false);
  qr_log_close();
  ASSERT_EQ(o.status, QR_E_HTTP);
  ASSERT_STR_EQ(o.reason, "connection");
  ASSERT_EQ(o.attempts, 2);
  ASSERT(file_contains(log_path, "127.0.0.1/v1/chat/completions")); /* the log was written */
  ASSERT(!file_contains(log_path, "SECRET"));
  unlink(log_path);
}

TEST(provider_call_missing_key_is_async) {
  unsetenv(KEY_ENV);
  qr_config_model m = model(&openrouter, false);
  outcome o = run_call(&m, false);
  ASSERT_EQ(o.status, QR_E_CONFIG);
  ASSERT_STR_EQ(o.reason, "no_api_key");
  ASSERT_STR_EQ(o.message, KEY_ENV " is not set");
}

TEST(provider_call_cancel) {
  setenv(KEY_ENV, KEY, 1);
  qr_config_provider prov = openrouter;
  prov.base_url = "http://127.0.0.1:1/v1";
  qr_config_model m = model(&prov, false);
  outcome o = run_call(&m, true);
  ASSERT_EQ(o.status, QR_E_CANCELED);
  ASSERT_STR_EQ(o.reason, "canceled");
  unsetenv(KEY_ENV);
  o = run_call(&m, true); /* canceled before its early failure was delivered */
  ASSERT_EQ(o.status, QR_E_CANCELED);
}
