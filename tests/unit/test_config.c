/* Unit tests for config.c: defaults, strict validation with key paths, resolution, loading
 * order, the built-in strategies and the example configs. */
#include <dirent.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "config/config.h"
#include "judge/findings.h"
#include "change/languages.h"
#include "test.h"
#include "local/tools.h"

static qr_config *parse_ok(const char *json) {
  qr_config *c = NULL;
  qr_err e = {0};
  int rc = qr_config_parse(json, strlen(json), NULL, &c, &e);
  if (rc) QR__FAIL("parse failed: %s", e.msg);
  return c;
}

/* Parses `json`, expects QR_E_CONFIG, and returns the message (static storage). */
static const char *parse_err(const char *json) {
  static qr_err e;
  qr_config *c = NULL;
  memset(&e, 0, sizeof e);
  int rc = qr_config_parse(json, strlen(json), NULL, &c, &e);
  if (rc != QR_E_CONFIG) QR__FAIL("expected QR_E_CONFIG for %s, got %d", json, rc);
  ASSERT(c == NULL);
  return e.msg;
}

#define ASSERT_CONTAINS(hay, needle)                                                       \
  do {                                                                                     \
    if (!strstr((hay), (needle))) QR__FAIL("\"%s\" does not contain \"%s\"", (hay), (needle)); \
  } while (0)

#define BASE_PROVIDERS                                                                     \
  "\"providers\":{\"or\":{\"type\":\"openai\",\"base_url\":\"https://openrouter.ai/api/v1/\"," \
  "\"api_key_env\":\"OPENROUTER_API_KEY\",\"headers\":{\"X-Title\":\"quorum\"}},"           \
  "\"an\":{\"type\":\"anthropic\",\"api_key_env\":\"ANTHROPIC_API_KEY\"},"                \
  "\"local\":{\"type\":\"openai\",\"base_url\":\"http://127.0.0.1:11434/v1\",\"json_schema\":false}}"

TEST(config_defaults) {
  qr_config *c = parse_ok("{}");
  ASSERT_EQ(c->n_passes, 0);
  ASSERT_EQ(c->n_providers, 0);
  ASSERT_EQ(c->n_strategies, 4);
  ASSERT(c->strategies[0].builtin);
  ASSERT(qr_config_find_strategy(c, "security") != NULL);
  ASSERT_STR_EQ(c->judge.mode, "consensus");
  ASSERT(c->judge.m == NULL);
  ASSERT_EQ(c->judge.min_votes, 1);
  ASSERT_EQ(c->limits.concurrency, 8);
  ASSERT_EQ(c->limits.timeout_ms, 60000);
  ASSERT_EQ(c->limits.max_input_tokens_per_pass, 24000);
  ASSERT_EQ(c->limits.max_retries, 3);
  ASSERT_EQ(c->limits.max_response_bytes, 8u << 20);
  ASSERT(c->path == NULL);
  qr_config_free(c);
}

TEST(config_full) {
  qr_config *c = parse_ok(
      "{" BASE_PROVIDERS ","
      "\"models\":{\"fast\":{\"provider\":\"or\",\"model\":\"openai/gpt-4o-mini\","
      "\"price_in_per_mtok\":0.15,\"price_out_per_mtok\":0.6,\"temperature\":0},"
      "\"smart\":{\"provider\":\"an\",\"model\":\"claude-sonnet-4-0\",\"max_output_tokens\":8000,"
      "\"stream\":true}},"
      "\"strategies\":{\"sql\":\"Look for SQL injection.\",\"security\":{\"instructions\":\"mine\"}},"
      "\"passes\":[{\"model\":\"fast\",\"strategy\":\"correctness\"},"
      "{\"model\":\"smart\",\"strategy\":\"sql\"},{\"model\":\"fast\",\"strategy\":\"security\"}],"
      "\"judge\":{\"mode\":\"model\",\"model\":\"smart\",\"min_votes\":2,\"min_confidence\":0.5,"
      "\"max_findings\":20},"
      "\"limits\":{\"concurrency\":2,\"timeout_ms\":1000,\"max_input_tokens_per_pass\":8000,"
      "\"max_retries\":0,\"max_response_bytes\":1024}}");
  ASSERT_EQ(c->n_providers, 3);
  ASSERT_STR_EQ(c->providers[0].base_url, "https://openrouter.ai/api/v1"); /* slash trimmed */
  ASSERT_EQ(c->providers[0].n_headers, 1);
  ASSERT_STR_EQ(c->providers[0].headers[0].key, "X-Title");
  ASSERT(c->providers[0].json_schema);
  ASSERT_EQ(c->providers[1].type, QR_PROVIDER_ANTHROPIC);
  ASSERT_STR_EQ(c->providers[1].base_url, "https://api.anthropic.com/v1");
  ASSERT(c->providers[2].api_key_env == NULL);
  ASSERT(!c->providers[2].json_schema);

  const qr_config_model *fast = qr_config_find_model(c, "fast");
  ASSERT(fast && fast->prov == &c->providers[0]);
  ASSERT(fast->temperature == 0);
  ASSERT(fast->price_out_per_mtok == 0.6);
  ASSERT_EQ(fast->max_output_tokens, 4096);
  const qr_config_model *smart = qr_config_find_model(c, "smart");
  ASSERT(smart->stream);
  ASSERT(smart->temperature == 0.2);
  ASSERT_EQ(smart->max_output_tokens, 8000);

  ASSERT_EQ(c->n_strategies, 5);
  const qr_config_strategy *sec = qr_config_find_strategy(c, "security");
  ASSERT_STR_EQ(sec->instructions, "mine");
  ASSERT(!sec->builtin);
  ASSERT(qr_config_find_strategy(c, "correctness")->builtin);
  ASSERT_EQ(c->n_passes, 3);
  ASSERT(c->passes[1].m == smart);
  ASSERT_STR_EQ(c->passes[1].s->instructions, "Look for SQL injection.");
  ASSERT(c->judge.m == smart);
  ASSERT_EQ(c->judge.min_votes, 2);
  ASSERT_EQ(c->judge.max_findings, 20);
  ASSERT_EQ(c->limits.max_retries, 0);
  ASSERT_EQ(c->limits.max_response_bytes, 1024);
  qr_config_free(c);
}

TEST(config_errors_name_the_key_path) {
  ASSERT_CONTAINS(parse_err("{\"passes\":[],\"modles\":{}}"), "modles: unknown key");
  ASSERT_CONTAINS(parse_err("{" BASE_PROVIDERS ",\"models\":{\"fast\":{\"provider\":\"or\","
                            "\"model\":\"m\",\"temperature\":\"hot\"}}}"),
                  "models.fast.temperature: expected a number");
  ASSERT_CONTAINS(parse_err("{" BASE_PROVIDERS ",\"models\":{\"fast\":{\"provider\":\"or\","
                            "\"model\":\"m\"}},\"passes\":[{\"model\":\"fast\",\"strategy\":"
                            "\"security\"},{\"model\":\"fast\",\"strategy\":\"performance\"},"
                            "{\"model\":\"x\",\"strategy\":\"security\"}]}"),
                  "passes[2].model: unknown model \"x\"");
  ASSERT_CONTAINS(parse_err("{" BASE_PROVIDERS ",\"models\":{\"fast\":{\"provider\":\"or\","
                            "\"model\":\"m\"}},\"passes\":[{\"model\":\"fast\",\"strategy\":\"y\"}]}"),
                  "passes[0].strategy: unknown strategy \"y\"");
  ASSERT_CONTAINS(parse_err("{" BASE_PROVIDERS ",\"models\":{\"fast\":{\"provider\":\"or\","
                            "\"model\":\"m\"}},\"passes\":[{\"model\":\"fast\",\"strategy\":"
                            "\"security\"},{\"model\":\"fast\",\"strategy\":\"security\"}]}"),
                  "passes[1]: same model and strategy as passes[0]");
  ASSERT_CONTAINS(parse_err("{\"models\":{\"m\":{\"provider\":\"nope\",\"model\":\"x\"}}}"),
                  "models.m.provider: unknown provider \"nope\"");
  ASSERT_CONTAINS(parse_err("{\"models\":{\"m\":{\"provider\":\"p\"}}}"),
                  "models.m.provider: unknown provider");
  ASSERT_CONTAINS(parse_err("{\"providers\":{\"p\":{\"type\":\"gemini\"}}}"),
                  "providers.p.type: expected \"openai\" or \"anthropic\"");
  ASSERT_CONTAINS(parse_err("{\"providers\":{\"p\":{}}}"), "providers.p.type: missing");
  ASSERT_CONTAINS(parse_err("{\"providers\":{\"p\":{\"type\":\"openai\",\"json_schema\":1}}}"),
                  "providers.p.json_schema: expected true or false");
  ASSERT_CONTAINS(parse_err("{\"providers\":{\"p\":{\"type\":\"openai\",\"base_url\":\"ftp://x\"}}}"),
                  "providers.p.base_url: expected an http");
  ASSERT_CONTAINS(parse_err("{\"providers\":{\"p\":{\"type\":\"openai\",\"headers\":{\"X\":\"a\\r\\nB: c\"}}}}"),
                  "providers.p.headers.X: line break");
  ASSERT_CONTAINS(parse_err("{\"judge\":{\"mode\":\"model\"}}"), "judge.model: missing");
  ASSERT_CONTAINS(parse_err("{\"judge\":{\"mode\":\"vote\"}}"), "judge.mode: expected");
  ASSERT_CONTAINS(parse_err("{\"judge\":{\"min_confidence\":2}}"), "judge.min_confidence: must be between");
  ASSERT_CONTAINS(parse_err("{\"limits\":{\"concurrency\":0}}"), "limits.concurrency: must be between 1");
  ASSERT_CONTAINS(parse_err("{\"limits\":{\"timeout_ms\":-5}}"), "limits.timeout_ms: must be between 1");
  ASSERT_CONTAINS(parse_err("{\"limits\":{\"timeout_ms\":1.5}}"), "limits.timeout_ms: expected an integer");
  ASSERT_CONTAINS(parse_err("{\"passes\":{}}"), "passes: expected an array");
  ASSERT_CONTAINS(parse_err("{\"strategies\":{\"x\":\"\"}}"), "strategies.x: expected non-empty");
  ASSERT_CONTAINS(parse_err("[]"), "expected an object");
  ASSERT_CONTAINS(parse_err("{\"limits\":{},\"limits\":{}}"), "duplicate");
  ASSERT_CONTAINS(parse_err("{\"limits\":"), "config:1:");
}

/* models.NAME with `fields` added to {"provider":"or","model":ID}. */
#define MODEL_WITH(prov, id, fields)                                                       \
  "{" BASE_PROVIDERS ",\"models\":{\"x\":{\"provider\":\"" prov "\",\"model\":\"" id "\"" fields "}}}"

TEST(config_reasoning_models) {
  static const struct { const char *id; bool reasoning; } ids[] = {
      {"o1", true}, {"o3-mini", true}, {"o4-mini", true}, {"gpt-5", true}, {"gpt-5-mini", true},
      {"gpt-5.1", true}, {"gpt-5-chat-latest", false}, {"gpt-4o", false}, {"openai/o3", false},
      {"omni", false}, {"o1x", false}, {"gpt-50", false}};
  for (size_t i = 0; i < QR_ARRAY_LEN(ids); i++) {
    char json[1024];
    snprintf(json, sizeof json, "{" BASE_PROVIDERS ",\"models\":{\"x\":{\"provider\":\"or\","
             "\"model\":\"%s\"}}}", ids[i].id);
    qr_config *c = parse_ok(json);
    if (c->models[0].reasoning != ids[i].reasoning) QR__FAIL("%s: reasoning %d", ids[i].id, !ids[i].reasoning);
    qr_config_free(c);
  }
  qr_config *c = parse_ok(MODEL_WITH("or", "my-o3-finetune", ",\"reasoning_effort\":\"high\""));
  ASSERT(c->models[0].reasoning);
  ASSERT_STR_EQ(c->models[0].reasoning_effort, "high");
  qr_config_free(c);
  c = parse_ok(MODEL_WITH("or", "o3", ",\"reasoning\":false"));
  ASSERT(!c->models[0].reasoning);
  qr_config_free(c);
  ASSERT_CONTAINS(parse_err(MODEL_WITH("or", "o3", ",\"reasoning_effort\":\"max!\"")),
                  "models.x.reasoning_effort: expected none, minimal, low, medium, high or xhigh");
  ASSERT_CONTAINS(parse_err(MODEL_WITH("or", "o3", ",\"reasoning\":false,\"reasoning_effort\":\"low\"")),
                  "models.x.reasoning_effort: set, but \"reasoning\" is false");
  ASSERT_CONTAINS(parse_err(MODEL_WITH("an", "claude", ",\"reasoning\":true")),
                  "models.x.reasoning: only for OpenAI-compatible providers");
  ASSERT_CONTAINS(parse_err(MODEL_WITH("or", "o3", ",\"reasoning\":1")),
                  "models.x.reasoning: expected true or false");
}

TEST(config_api_key_header) {
  qr_config *c = parse_ok("{\"providers\":{\"az\":{\"type\":\"openai\",\"base_url\":"
                          "\"https://r.openai.azure.com/openai/deployments/d?api-version=2024-10-21\","
                          "\"api_key_env\":\"AZURE_OPENAI_API_KEY\",\"api_key_header\":\"api-key\"}}}");
  ASSERT_STR_EQ(c->providers[0].api_key_header, "api-key");
  ASSERT_STR_EQ(c->providers[0].base_url,
                "https://r.openai.azure.com/openai/deployments/d?api-version=2024-10-21");
  qr_config_free(c);
  ASSERT_CONTAINS(parse_err("{\"providers\":{\"p\":{\"type\":\"openai\",\"api_key_env\":\"K\","
                            "\"api_key_header\":\"api-key: x\\r\\nEvil\"}}}"),
                  "providers.p.api_key_header: expected an HTTP header name");
  ASSERT_CONTAINS(parse_err("{\"providers\":{\"p\":{\"type\":\"openai\",\"api_key_header\":\"api-key\"}}}"),
                  "providers.p.api_key_header: needs api_key_env");
}

TEST(config_never_keeps_or_echoes_keys) {
  const char *m = parse_err("{\"providers\":{\"p\":{\"type\":\"openai\",\"api_key\":\"sk-SECRET1\"}}}");
  ASSERT_CONTAINS(m, "providers.p.api_key: keys are never stored");
  ASSERT(!strstr(m, "SECRET1"));
  m = parse_err("{\"providers\":{\"p\":{\"type\":\"openai\",\"api_key_env\":\"sk-or-v1-SECRET2\"}}}");
  ASSERT_CONTAINS(m, "providers.p.api_key_env: expected an environment variable name");
  ASSERT(!strstr(m, "SECRET2"));
}

TEST(config_refuses_ci_tokens_as_provider_keys) {
  static const char *const names[] = {"GITHUB_TOKEN", "GH_TOKEN", "ACTIONS_RUNTIME_TOKEN",
                                      "ACTIONS_ID_TOKEN_REQUEST_TOKEN"};
  char j[256];
  for (size_t i = 0; i < QR_ARRAY_LEN(names); i++) {
    snprintf(j, sizeof j, "{\"providers\":{\"p\":{\"type\":\"openai\",\"api_key_env\":\"%s\"}}}", names[i]);
    const char *m = parse_err(j);
    ASSERT_CONTAINS(m, "providers.p.api_key_env");
    ASSERT_CONTAINS(m, names[i]);
  }
}

TEST(config_origin_in_messages) {
  qr_config *c = NULL;
  qr_err e = {0};
  const char *j = "{\"bogus\":1}";
  ASSERT_EQ(qr_config_parse(j, strlen(j), "/etc/q.json", &c, &e), QR_E_CONFIG);
  ASSERT_STR_EQ(e.msg, "/etc/q.json: bogus: unknown key");
}

TEST(config_size_cap) {
  size_t n = (4u << 20) + 1;
  char *big = malloc(n);
  memset(big, ' ', n);
  big[0] = '{';
  big[n - 1] = '}';
  qr_config *c = NULL;
  ASSERT_EQ(qr_config_parse(big, n, NULL, &c, NULL), QR_E_TOOBIG);
  free(big);
}

static void write_file(const char *path, const char *text) {
  FILE *f = fopen(path, "w");
  ASSERT(f != NULL);
  fputs(text, f);
  fclose(f);
}

/* With no file, a key in the environment brings its provider's preset (examples/configs/). */
TEST(config_defaults_presets) {
  char dir[] = "/tmp/qr-config-XXXXXX";
  ASSERT(mkdtemp(dir) != NULL);
  unsetenv("QUORUM_CONFIG");
  setenv("XDG_CONFIG_HOME", dir, 1);
  setenv("PATH", dir, 1);
  unsetenv("OPENROUTER_API_KEY");
  setenv("OPENAI_API_KEY", "sk-test", 1);
  setenv("ANTHROPIC_API_KEY", "sk-ant-test", 1);
  setenv("QUORUM_OLLAMA_URL", "", 1); /* no Ollama probe: the machine's own must not count */
  qr_config *c = NULL;
  qr_err e = {0};
  ASSERT_OK(qr_config_load(NULL, &c, &e));
  ASSERT_EQ(c->n_providers, 2);
  ASSERT(qr_config_find_model(c, "mini") && qr_config_find_model(c, "haiku"));
  ASSERT(c->n_passes > 0);
  ASSERT_STR_EQ(c->judge.mode, "consensus");
  for (size_t i = 0; i < c->n_passes; i++) ASSERT(c->passes[i].m != NULL);
  qr_config_free(c);
  rmdir(dir);
}

TEST(config_load_order) {
  char dir[] = "/tmp/qr-config-XXXXXX";
  ASSERT(mkdtemp(dir) != NULL);
  char xdg[256], qdir[256], file[256], envfile[256];
  snprintf(xdg, sizeof xdg, "%s/xdg", dir);
  snprintf(qdir, sizeof qdir, "%s/xdg/quorum", dir);
  snprintf(file, sizeof file, "%s/xdg/quorum/config.json", dir);
  snprintf(envfile, sizeof envfile, "%s/env.json", dir);
  unsetenv("QUORUM_CONFIG");
  setenv("XDG_CONFIG_HOME", xdg, 1);

  qr_config *c = NULL;
  qr_err e = {0};
  /* Missing default file: the defaults — no analyzer on this PATH and no key: no passes,
   * the rule pack only. */
  setenv("PATH", dir, 1);
  unsetenv("OPENROUTER_API_KEY");
  unsetenv("OPENAI_API_KEY");
  unsetenv("ANTHROPIC_API_KEY");
  setenv("QUORUM_OLLAMA_URL", "", 1);
  ASSERT_OK(qr_config_load(NULL, &c, &e));
  ASSERT_EQ(c->n_passes, 0);
  ASSERT(c->rules.enabled);
  ASSERT_EQ(c->n_strategies, 4);
  ASSERT(c->path == NULL);
  qr_config_free(c);

  ASSERT_OK(mkdir(xdg, 0700));
  ASSERT_OK(mkdir(qdir, 0700));
  write_file(file, "{\"limits\":{\"concurrency\":3}}");
  ASSERT_OK(qr_config_load(NULL, &c, &e));
  ASSERT_EQ(c->limits.concurrency, 3);
  ASSERT_STR_EQ(c->path, file);
  qr_config_free(c);

  write_file(envfile, "{\"limits\":{\"concurrency\":5}}");
  setenv("QUORUM_CONFIG", envfile, 1);
  ASSERT_OK(qr_config_load(NULL, &c, &e));
  ASSERT_EQ(c->limits.concurrency, 5);
  qr_config_free(c);
  ASSERT_OK(qr_config_load(file, &c, &e)); /* an explicit path wins */
  ASSERT_EQ(c->limits.concurrency, 3);
  qr_config_free(c);

  setenv("QUORUM_CONFIG", "/nonexistent/q.json", 1);
  c = NULL;
  ASSERT_EQ(qr_config_load(NULL, &c, &e), QR_E_NOTFOUND); /* a named file must exist */
  ASSERT(c == NULL);
  ASSERT_EQ(qr_config_load("/nonexistent/q.json", &c, &e), QR_E_NOTFOUND);

  write_file(file, "{\"limits\":{\"concurrency\":\"x\"}}");
  unsetenv("QUORUM_CONFIG");
  ASSERT_EQ(qr_config_load(NULL, &c, &e), QR_E_CONFIG); /* a broken default file is an error */
  ASSERT_CONTAINS(e.msg, "config.json: limits.concurrency: expected an integer");
  unlink(file);
  unlink(envfile);
  rmdir(qdir);
  rmdir(xdg);
  rmdir(dir);
}

TEST(config_builtin_strategies) {
  size_t n;
  const qr_builtin_strategy *b = qr_builtin_strategies(&n);
  ASSERT_EQ(n, 4);
  const char *names[] = {"correctness", "security", "performance", "maintainability"};
  for (size_t i = 0; i < n; i++) {
    ASSERT_STR_EQ(b[i].name, names[i]);
    ASSERT(strlen(b[i].instructions) > 500);
    ASSERT_CONTAINS(b[i].instructions, "Do NOT report");
    /* The embedded text ends where the file ends: one trailing newline, then the NUL. */
    size_t len = strlen(b[i].instructions);
    ASSERT(b[i].instructions[len - 1] == '\n' && b[i].instructions[len - 2] != '\n');
  }
}

TEST(config_examples_parse) {
  char dir[512];
  snprintf(dir, sizeof dir, "%s/../../examples/configs", qr_test_data_dir());
  DIR *d = opendir(dir);
  ASSERT(d != NULL);
  int count = 0;
  struct dirent *ent;
  while ((ent = readdir(d))) {
    size_t n = strlen(ent->d_name);
    if (n < 6 || strcmp(ent->d_name + n - 5, ".json")) continue;
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir, ent->d_name);
    qr_config *c = NULL;
    qr_err e = {0};
    if (qr_config_load(path, &c, &e)) QR__FAIL("%s", e.msg);
    if (c->n_passes < 2) QR__FAIL("%s: fewer than 2 passes", path);
    for (size_t i = 0; i < c->n_models; i++)
      if (c->models[i].prov->api_key_env && strstr(c->models[i].prov->api_key_env, "sk-"))
        QR__FAIL("%s: a key in api_key_env", path);
    qr_config_free(c);
    count++;
  }
  closedir(d);
  ASSERT_EQ(count, 6); /* five provider presets and local.json (make run) */
}

/* Parses `json` with each allocation failed in turn until one run succeeds: every failure must
 * be a clean QR_E_NOMEM (ASan/LSan catch crashes and leaks). Returns the successful config. */
static qr_config *parse_failing_each_allocation(const char *json, size_t len) {
  int rc = QR_E_NOMEM;
  qr_config *c = NULL;
  for (long n = 1; rc == QR_E_NOMEM; n++) {
    qr_alloc_fail_after(n);
    rc = qr_config_parse(json, len, "x.json", &c, NULL);
    qr_alloc_fail_after(-1);
  }
  ASSERT_OK(rc);
  return c;
}

TEST(config_alloc_failures) {
  /* Fails each allocation in turn: every failure is a clean QR_E_NOMEM, never a crash or leak. */
  char path[600], *text;
  size_t len;
  snprintf(path, sizeof path, "%s/../../examples/configs/openrouter-cheap.json", qr_test_data_dir());
  ASSERT_OK(qr_read_file(path, 1u << 20, &text, &len, NULL));
  qr_config_free(parse_failing_each_allocation(text, len));
  qr_free(text);
}

TEST(config_tool_passes) {
  qr_config *c = parse_ok("{" BASE_PROVIDERS ",\"models\":{\"fast\":{\"provider\":\"or\",\"model\":\"m\"}},"
                          "\"passes\":[{\"tool\":\"cppcheck\"},{\"model\":\"fast\",\"strategy\":\"security\"},"
                          "{\"tool\":\"pyflakes\"}]}");
  ASSERT_EQ(c->n_passes, 3);
  ASSERT_STR_EQ(c->passes[0].tool, "cppcheck");
  ASSERT(c->passes[0].model == NULL && c->passes[0].strategy == NULL);
  ASSERT(c->passes[0].m == NULL && c->passes[0].s == NULL);
  ASSERT(c->passes[1].tool == NULL);
  ASSERT(c->passes[1].m == qr_config_find_model(c, "fast"));
  ASSERT_STR_EQ(c->passes[2].tool, "pyflakes");
  qr_config_free(c);

  ASSERT_CONTAINS(parse_err("{\"passes\":[{\"tool\":\"pylint\"}]}"),
                  "passes[0].tool: unknown tool \"pylint\"");
  ASSERT_CONTAINS(parse_err("{\"passes\":[{\"tool\":\"\"}]}"), "passes[0].tool: expected a non-empty string");
  ASSERT_CONTAINS(parse_err("{\"passes\":[{\"tool\":\"cppcheck\",\"strategy\":\"security\"}]}"),
                  "passes[0]: a tool pass takes no model or strategy");
  ASSERT_CONTAINS(parse_err("{\"passes\":[{\"tool\":\"cppcheck\",\"timeout\":5}]}"),
                  "passes[0].timeout: unknown key");
  ASSERT_CONTAINS(parse_err("{\"passes\":[{\"tool\":\"shellcheck\"},{\"tool\":\"shellcheck\"}]}"),
                  "passes[1]: same tool as passes[0]");
}

TEST(config_rules_section) {
  qr_config *c = parse_ok("{}");
  ASSERT(c->rules.enabled);
  ASSERT_EQ(c->rules.n_folders, 0);
  qr_config_free(c);
  c = parse_ok("{\"rules\":{\"enabled\":false,\"folders\":[\"team-rules\",\"/etc/quorum/rules\"]}}");
  ASSERT(!c->rules.enabled);
  ASSERT_EQ(c->rules.n_folders, 2);
  ASSERT_STR_EQ(c->rules.folders[0], "team-rules");
  ASSERT_STR_EQ(c->rules.folders[1], "/etc/quorum/rules");
  qr_config_free(c);

  ASSERT_CONTAINS(parse_err("{\"rules\":true}"), "rules: expected an object");
  ASSERT_CONTAINS(parse_err("{\"rules\":{\"enabled\":1}}"), "rules.enabled: expected true or false");
  ASSERT_CONTAINS(parse_err("{\"rules\":{\"folders\":\"x\"}}"), "rules.folders: expected an array");
  ASSERT_CONTAINS(parse_err("{\"rules\":{\"folders\":[\"a\",\"\"]}}"), "rules.folders[1]: expected a non-empty string");
  ASSERT_CONTAINS(parse_err("{\"rules\":{\"folder\":[]}}"), "rules.folder: unknown key");
}

TEST(config_tools_rules_alloc_failures) {
  const char *j = "{\"passes\":[{\"tool\":\"cppcheck\"},{\"tool\":\"shellcheck\"}],"
                  "\"rules\":{\"folders\":[\"a\",\"b\"]}}";
  qr_config *c = parse_failing_each_allocation(j, strlen(j));
  ASSERT_EQ(c->rules.n_folders, 2);
  qr_config_free(c);
}

TEST(config_plan_section) {
  qr_config *c = parse_ok("{}");
  ASSERT(!c->plan.adaptive);
  ASSERT_EQ(c->plan.severity, QR_SEV_WARNING);
  ASSERT_EQ(c->plan.agreement, 2);
  qr_config_free(c);
  c = parse_ok("{" BASE_PROVIDERS ",\"models\":{\"cheap\":{\"provider\":\"or\",\"model\":\"c\"},"
               "\"big\":{\"provider\":\"an\",\"model\":\"b\"}},"
               "\"passes\":[{\"model\":\"big\",\"strategy\":\"security\"},{\"tool\":\"cppcheck\"},"
               "{\"model\":\"cheap\",\"strategy\":\"security\"},{\"model\":\"cheap\",\"strategy\":\"correctness\"}],"
               "\"plan\":{\"mode\":\"adaptive\",\"first_wave\":[\"cheap\"],\"severity\":\"error\",\"agreement\":3}}");
  ASSERT(c->plan.adaptive);
  ASSERT_EQ(c->plan.severity, QR_SEV_ERROR);
  ASSERT_EQ(c->plan.agreement, 3);
  ASSERT(!c->passes[0].first_wave && !c->passes[1].first_wave);
  ASSERT(c->passes[2].first_wave && c->passes[3].first_wave);
  qr_config_free(c);

  ASSERT_CONTAINS(parse_err("{\"plan\":{\"mode\":\"adaptive\"}}"), "plan.first_wave: missing");
  ASSERT_CONTAINS(parse_err("{\"plan\":{\"mode\":\"cheap\"}}"), "plan.mode: expected");
  ASSERT_CONTAINS(parse_err("{\"plan\":{\"first_wave\":[\"nobody\"]}}"), "plan.first_wave[0]: unknown model");
  ASSERT_CONTAINS(parse_err("{\"plan\":{\"first_wave\":[]}}"), "plan.first_wave: expected a non-empty array");
  /* a model without passes (here the judge's) would make an empty first wave */
  ASSERT_CONTAINS(parse_err("{" BASE_PROVIDERS ",\"models\":{\"cheap\":{\"provider\":\"or\",\"model\":\"c\"},"
                            "\"big\":{\"provider\":\"an\",\"model\":\"b\"}},"
                            "\"passes\":[{\"model\":\"big\",\"strategy\":\"security\"}],"
                            "\"judge\":{\"mode\":\"model\",\"model\":\"cheap\"},"
                            "\"plan\":{\"mode\":\"adaptive\",\"first_wave\":[\"cheap\"]}}"),
                  "plan.first_wave[0]: model \"cheap\" has no pass");
  ASSERT_CONTAINS(parse_err("{\"plan\":{\"severity\":\"fatal\"}}"), "plan.severity: expected");
  ASSERT_CONTAINS(parse_err("{\"plan\":{\"agreement\":0}}"), "plan.agreement: must be between");
  ASSERT_CONTAINS(parse_err("{\"plan\":{\"waves\":2}}"), "plan.waves: unknown key");
}

/* A spending limit needs the prices of every model called: a provider's own cost comes too late. */
TEST(config_limits_need_prices) {
  ASSERT_CONTAINS(parse_err("{" BASE_PROVIDERS ",\"models\":{\"m\":{\"provider\":\"or\",\"model\":\"x\"}},"
                            "\"passes\":[{\"model\":\"m\",\"strategy\":\"security\"}],"
                            "\"limits\":{\"max_usd_per_day\":1}}"),
                  "limits.max_usd_per_day: needs price_in_per_mtok and price_out_per_mtok for model \"m\"");
  ASSERT_CONTAINS(parse_err("{" BASE_PROVIDERS ",\"models\":{\"m\":{\"provider\":\"or\",\"model\":\"x\","
                            "\"price_in_per_mtok\":1,\"price_out_per_mtok\":1},\"j\":{\"provider\":\"an\",\"model\":\"y\"}},"
                            "\"passes\":[{\"model\":\"m\",\"strategy\":\"security\"}],"
                            "\"judge\":{\"mode\":\"model\",\"model\":\"j\"},"
                            "\"limits\":{\"max_usd_per_review\":1}}"),
                  "for model \"j\"");
  /* an explicit 0 is a free model; without limits prices are optional */
  qr_config_free(parse_ok("{" BASE_PROVIDERS ",\"models\":{\"m\":{\"provider\":\"local\",\"model\":\"x\","
                          "\"price_in_per_mtok\":0,\"price_out_per_mtok\":0}}," "\"passes\":[{\"model\":\"m\",\"strategy\":\"security\"}],"
                          "\"limits\":{\"max_usd_per_day\":1}}"));
  qr_config_free(parse_ok("{" BASE_PROVIDERS ",\"models\":{\"m\":{\"provider\":\"or\",\"model\":\"x\"}},"
                          "\"passes\":[{\"model\":\"m\",\"strategy\":\"security\"}]}"));
}

TEST(config_generic_tool_passes) {
  qr_config *c = parse_ok("{\"passes\":[{\"tool\":\"semgrep\",\"command\":[\"semgrep\",\"--sarif\"],"
                          "\"format\":\"sarif\",\"languages\":[\"python\",\"javascriptreact\"]},"
                          "{\"tool\":\"gcc-warn\",\"command\":[\"cc\"],\"format\":\"gcc\"},"
                          "{\"tool\":\"pyflakes\"}]}");
  ASSERT_EQ(c->n_passes, 3);
  ASSERT_STR_EQ(c->passes[0].tool, "semgrep");
  ASSERT(c->passes[0].m == NULL && c->passes[0].s == NULL);
  qr_config_free(c);
  /* defined for the engine, by name; languages by their canonical grammar name */
  ASSERT(qr_tool_covers("semgrep", qr_language_by_name("python")));
  ASSERT(qr_tool_covers("semgrep", qr_language_by_name("javascript")));
  ASSERT(!qr_tool_covers("semgrep", qr_language_by_name("c")));
  ASSERT(qr_tool_covers("gcc-warn", qr_language_by_name("c")));

  ASSERT_CONTAINS(parse_err("{\"passes\":[{\"tool\":\"mylint\"}]}"),
                  "passes[0].tool: unknown tool \"mylint\" (built in: cppcheck, shellcheck, pyflakes; "
                  "any other needs \"command\")");
  ASSERT_CONTAINS(parse_err("{\"passes\":[{\"tool\":\"x\",\"command\":[],\"format\":\"gcc\"}]}"),
                  "passes[0].command: expected a non-empty array of strings");
  ASSERT_CONTAINS(parse_err("{\"passes\":[{\"tool\":\"x\",\"command\":\"x --y\",\"format\":\"gcc\"}]}"),
                  "passes[0].command: expected a non-empty array of strings");
  ASSERT_CONTAINS(parse_err("{\"passes\":[{\"tool\":\"x\",\"command\":[\"a\",\"\"],\"format\":\"gcc\"}]}"),
                  "passes[0].command[1]: expected a non-empty string");
  ASSERT_CONTAINS(parse_err("{\"passes\":[{\"tool\":\"x\",\"command\":[\"a\"]}]}"),
                  "passes[0].format: missing");
  ASSERT_CONTAINS(parse_err("{\"passes\":[{\"tool\":\"x\",\"command\":[\"a\"],\"format\":\"xml\"}]}"),
                  "passes[0].format: expected \"sarif\" or \"gcc\"");
  ASSERT_CONTAINS(parse_err("{\"passes\":[{\"tool\":\"x\",\"command\":[\"a\"],\"format\":\"gcc\","
                            "\"languages\":[\"python\",\"cobol\"]}]}"),
                  "passes[0].languages[1]: unknown language \"cobol\"");
  ASSERT_CONTAINS(parse_err("{\"passes\":[{\"tool\":\"x\",\"command\":[\"a\"],\"format\":\"gcc\","
                            "\"languages\":\"python\"}]}"),
                  "passes[0].languages: expected an array of strings");
  ASSERT_CONTAINS(parse_err("{\"passes\":[{\"tool\":\"cppcheck\",\"command\":[\"a\"],\"format\":\"gcc\"}]}"),
                  "passes[0].tool: \"cppcheck\" is a built-in tool");
  ASSERT_CONTAINS(parse_err("{\"passes\":[{\"tool\":\"cppcheck\",\"format\":\"gcc\"}]}"),
                  "passes[0]: \"format\" and \"languages\" go with \"command\"");
  ASSERT_CONTAINS(parse_err("{\"passes\":[{\"tool\":\"my lint\",\"command\":[\"a\"],\"format\":\"gcc\"}]}"),
                  "passes[0].tool: name with spaces");
  ASSERT_CONTAINS(parse_err("{\"passes\":[{\"tool\":\"x\",\"command\":[\"a\"],\"format\":\"gcc\"},"
                            "{\"tool\":\"x\",\"command\":[\"b\"],\"format\":\"gcc\"}]}"),
                  "passes[1]: same tool as passes[0]");
}

TEST(config_generic_tool_alloc_failures) {
  const char *j = "{\"passes\":[{\"tool\":\"lint\",\"command\":[\"lint\",\"-q\"],\"format\":\"sarif\","
                  "\"languages\":[\"python\",\"c\"]}]}";
  qr_config_free(parse_failing_each_allocation(j, strlen(j)));
  ASSERT(qr_tool_covers("lint", qr_language_by_name("c")));
}

/* --- Ollama in the defaults: a stand-in server on loopback ---------------------------------- */

/* Starts python3 serving GET /api/tags with `body` on a free loopback port (body NULL: accept
 * and never answer); *url receives its address. Returns the pid. */
static pid_t tags_server(const char *body, char *url, size_t url_size) {
  static const char script[] =
      "import http.server, sys, time\n"
      "body = sys.argv[1].encode()\n"
      "class H(http.server.BaseHTTPRequestHandler):\n"
      "    def do_GET(self):\n"
      "        if not body:\n"
      "            time.sleep(60)\n"
      "        self.send_response(200 if self.path == '/api/tags' else 404)\n"
      "        self.send_header('Content-Type', 'application/json')\n"
      "        self.end_headers()\n"
      "        self.wfile.write(body)\n"
      "    def log_message(self, *a):\n"
      "        pass\n"
      "s = http.server.HTTPServer(('127.0.0.1', 0), H)\n"
      "print(s.server_address[1], flush=True)\n"
      "s.serve_forever()\n";
  int fds[2];
  ASSERT_OK(pipe(fds));
  pid_t pid = fork();
  ASSERT(pid >= 0);
  if (pid == 0) {
    dup2(fds[1], 1);
    close(fds[0]);
    execlp("python3", "python3", "-c", script, body ? body : "", (char *)NULL);
    _exit(127);
  }
  close(fds[1]);
  char port[16] = {0};
  size_t got = 0;
  ssize_t n = 1;
  while (n > 0 && got < sizeof port - 1 && !strchr(port, '\n')) /* the line may come in parts */
    if ((n = read(fds[0], port + got, sizeof port - 1 - got)) > 0) got += (size_t)n;
  close(fds[0]);
  if (!strchr(port, '\n')) QR__FAIL("the stand-in Ollama did not start");
  snprintf(url, url_size, "http://127.0.0.1:%d/", atoi(port));
  return pid;
}

static void stop_server(pid_t pid) {
  kill(pid, SIGKILL);
  waitpid(pid, NULL, 0);
}

/* The defaults with no key, no analyzer and Ollama at `url` (NULL: $QUORUM_OLLAMA_URL unset). */
static qr_config *defaults_with_ollama(const char *url) {
  char dir[] = "/tmp/qr-config-XXXXXX";
  ASSERT(mkdtemp(dir) != NULL);
  char path[4096];
  snprintf(path, sizeof path, "%s", getenv("PATH") ? getenv("PATH") : "/usr/bin:/bin");
  unsetenv("QUORUM_CONFIG");
  setenv("XDG_CONFIG_HOME", dir, 1);
  setenv("PATH", dir, 1); /* no analyzer */
  unsetenv("OPENROUTER_API_KEY");
  unsetenv("OPENAI_API_KEY");
  unsetenv("ANTHROPIC_API_KEY");
  if (url) setenv("QUORUM_OLLAMA_URL", url, 1);
  else unsetenv("QUORUM_OLLAMA_URL");
  qr_config *c = NULL;
  qr_err e = {0};
  if (qr_config_load(NULL, &c, &e)) QR__FAIL("defaults: %s", e.msg);
  setenv("PATH", path, 1); /* python3 for the next stand-in */
  rmdir(dir);
  return c;
}

TEST(config_defaults_ollama_preset_models) {
  char url[64];
  pid_t pid = tags_server("{\"models\":[{\"name\":\"llama3.1:8b\"},{\"name\":\"phi3:mini\"}]}", url,
                          sizeof url);
  qr_config *c = defaults_with_ollama(url);
  stop_server(pid);
  /* the preset narrowed to what is pulled: llama only, with the preset's one pass for it */
  ASSERT_EQ(c->n_providers, 1);
  ASSERT_STR_EQ(c->providers[0].name, "ollama");
  ASSERT(c->providers[0].api_key_env == NULL);
  char v1[80];
  snprintf(v1, sizeof v1, "%.*sv1", (int)strlen(url), url); /* url ends with '/' */
  ASSERT_STR_EQ(c->providers[0].base_url, v1);
  ASSERT_EQ(c->n_models, 1);
  ASSERT_STR_EQ(c->models[0].model, "llama3.1:8b");
  ASSERT_EQ(c->n_passes, 1);
  ASSERT(c->passes[0].m == &c->models[0]);
  ASSERT_STR_EQ(c->passes[0].strategy, "correctness");
  /* Ollama's default context (4096 tokens) bounds every pass's prompt and answer */
  ASSERT(c->limits.max_input_tokens_per_pass + c->models[0].max_output_tokens <= 4096);
  qr_config_free(c);
}

TEST(config_defaults_ollama_other_models) {
  char url[64];
  pid_t pid = tags_server("{\"models\":[{\"name\":\"bad name\"},{\"name\":\"mistral:latest\"},"
                          "{\"name\":\"gemma2:2b\"},{\"name\":\"phi3:mini\"}]}", url, sizeof url);
  qr_config *c = defaults_with_ollama(url);
  stop_server(pid);
  /* none of the preset's: the first two usable pulled models, correctness and security each */
  ASSERT_EQ(c->n_models, 2);
  ASSERT(qr_config_find_model(c, "mistral:latest") && qr_config_find_model(c, "gemma2:2b"));
  ASSERT_EQ(c->n_passes, 4);
  for (size_t i = 0; i < c->n_passes; i++) {
    ASSERT(c->passes[i].m && !strcmp(c->passes[i].m->provider, "ollama"));
    ASSERT(!strcmp(c->passes[i].strategy, "correctness") || !strcmp(c->passes[i].strategy, "security"));
  }
  qr_config_free(c);
}

TEST(config_defaults_ollama_absent_or_silent) {
  /* nothing listening (port 1), a server without models, a server that never answers, and
   * the probe turned off: the defaults load, without Ollama passes */
  qr_config *c = defaults_with_ollama("http://127.0.0.1:1");
  ASSERT_EQ(c->n_passes, 0);
  qr_config_free(c);
  char url[64];
  pid_t pid = tags_server("{\"models\":[]}", url, sizeof url);
  c = defaults_with_ollama(url);
  stop_server(pid);
  ASSERT_EQ(c->n_passes, 0);
  qr_config_free(c);
  pid = tags_server(NULL, url, sizeof url);
  c = defaults_with_ollama(url); /* bounded by the probe's own 500 ms timeout */
  stop_server(pid);
  ASSERT_EQ(c->n_passes, 0);
  ASSERT_EQ(c->n_providers, 0);
  qr_config_free(c);
  c = defaults_with_ollama("");
  ASSERT_EQ(c->n_passes, 0);
  qr_config_free(c);
}
