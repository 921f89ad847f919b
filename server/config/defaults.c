/* defaults.c — builds the zero-configuration setup as config JSON, so it goes through the same
 * validation as a user's file (config.c parses it).
 *
 * Ollama is found by asking it: GET <url>/api/tags with libcurl's easy interface, synchronously.
 * That is acceptable here because the defaults are built while the configuration loads, before
 * any libuv loop runs; the probe is bounded (200 ms to connect, 500 ms in all) and its failure
 * only means "no Ollama", never an error. */
#include "config/defaults.h"

#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "log.h"
#include "local/tools.h"

#define OLLAMA_URL "http://127.0.0.1:11434"
#define OLLAMA_CONNECT_MS 200L
#define OLLAMA_TOTAL_MS 500L
#define OLLAMA_MAX_TAGS (1u << 20) /* bytes of an /api/tags answer */
#define OLLAMA_MAX_URL 1024
#define OLLAMA_FALLBACK_MODELS 2   /* pulled models used when none is in the preset */
#define OLLAMA_MAX_OUTPUT 1024     /* with the preset's prompt budget, within a 4096-token context */

extern const char qr_preset_openrouter[], qr_preset_openai[], qr_preset_anthropic[],
    qr_preset_ollama[];

static const struct {
  const char *key_env;
  const char *preset;
} presets[] = {
    {"OPENROUTER_API_KEY", qr_preset_openrouter},
    {"OPENAI_API_KEY", qr_preset_openai},
    {"ANTHROPIC_API_KEY", qr_preset_anthropic},
};

/* Copies every member of preset[section] into cfg[section]; false on a name collision. */
static bool merge_section(json_t *cfg, json_t *preset, const char *section) {
  json_t *dst = json_object_get(cfg, section), *src = json_object_get(preset, section);
  const char *k;
  json_t *v;
  json_object_foreach(src, k, v) if (json_object_get(dst, k)) return false;
  json_object_foreach(src, k, v) json_object_set(dst, k, v);
  return true;
}

/* Adds a preset's providers, models and passes (its judge and limits are not taken: the
 * defaults judge by consensus, which needs no extra call). `p` is borrowed. */
static void add_preset(json_t *cfg, json_t *p, const char *what) {
  if (!p || !merge_section(cfg, p, "providers") || !merge_section(cfg, p, "models")) {
    QR_WARN("defaults: the %s preset could not be added", what);
    return;
  }
  json_array_extend(json_object_get(cfg, "passes"), json_object_get(p, "passes"));
  QR_INFO("defaults: %s: added its model preset", what);
}

static void add_key_preset(json_t *cfg, const char *text, const char *key_env) {
  json_error_t jerr;
  json_t *p = json_loads(text, 0, &jerr);
  char what[96];
  snprintf(what, sizeof what, "%s is set", key_env);
  add_preset(cfg, p, what);
  json_decref(p);
}

/* --- Ollama ---------------------------------------------------------------------------------- */

static size_t on_body(char *data, size_t size, size_t n, void *buf) {
  return qr_buf_append(buf, data, size * n) ? 0 : size * n; /* 0 ends an answer over the cap */
}

/* The names in an /api/tags answer ({"models": [{"name": …}, …]}): a new array of strings, or
 * NULL when the answer has another form. */
static json_t *tag_names(const char *body, size_t len) {
  json_error_t jerr;
  json_t *root = json_loadb(body, len, 0, &jerr), *names = NULL, *m;
  json_t *models = json_object_get(root, "models");
  size_t i;
  if (json_is_array(models) && (names = json_array()))
    json_array_foreach(models, i, m) {
      json_t *name = json_object_get(m, "name");
      if (json_is_string(name) && json_string_length(name)) json_array_append(names, name);
    }
  json_decref(root);
  return names;
}

/* The models pulled in the Ollama at `url` (new array), or NULL when nothing answers in time. */
static json_t *ollama_models(const char *url) {
  CURL *h = curl_easy_init();
  char *full = qr_asprintf("%s/api/tags", url);
  qr_buf body;
  qr_buf_init(&body, OLLAMA_MAX_TAGS);
  long status = 0;
  json_t *names = NULL;
  if (h && full) {
    curl_easy_setopt(h, CURLOPT_URL, full);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_NOPROXY, "*"); /* a local server, never through a proxy */
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, OLLAMA_CONNECT_MS);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, OLLAMA_TOTAL_MS);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &body);
    if (curl_easy_perform(h) == CURLE_OK &&
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status) == CURLE_OK && status == 200)
      names = tag_names(body.data ? body.data : "", body.len);
  }
  curl_easy_cleanup(h);
  qr_free(full);
  qr_buf_free(&body);
  return names;
}

static bool pulled(json_t *names, const char *model) {
  size_t i, n = strlen(model);
  json_t *v;
  json_array_foreach(names, i, v) {
    const char *s = json_string_value(v);
    if (!strcmp(s, model) || (!strncmp(s, model, n) && !strcmp(s + n, ":latest"))) return true;
  }
  return false;
}

/* Keeps the preset's models that are pulled, and the passes that use them. */
static void keep_pulled(json_t *preset, json_t *names) {
  json_t *models = json_object_get(preset, "models"), *passes = json_object_get(preset, "passes");
  const char *alias;
  json_t *m, *tmp;
  json_object_foreach_safe(models, tmp, alias, m) {
    if (!pulled(names, json_string_value(json_object_get(m, "model"))))
      json_object_del(models, alias);
  }
  for (size_t i = json_array_size(passes); i-- > 0;) {
    json_t *pass_model = json_object_get(json_array_get(passes, i), "model");
    if (!json_object_get(models, json_string_value(pass_model))) json_array_remove(passes, i);
  }
}

/* True when a pulled model's name can serve as a model alias (config.c rejects spaces and
 * control characters in names, and one bad name must not fail the whole defaults). */
static bool alias_ok(const char *name) {
  for (const unsigned char *c = (const unsigned char *)name; *c; c++)
    if (*c <= ' ' || *c == 0x7f) return false;
  return true;
}

/* None of the preset's models is pulled: the first pulled ones, for correctness and security. */
static void use_first_pulled(json_t *preset, json_t *names) {
  json_t *models = json_object_get(preset, "models"), *passes = json_object_get(preset, "passes");
  for (size_t i = 0; i < json_array_size(names); i++) {
    if (json_object_size(models) == OLLAMA_FALLBACK_MODELS) break;
    const char *name = json_string_value(json_array_get(names, i));
    if (!alias_ok(name)) continue;
    json_object_set_new(models, name, json_pack("{s:s, s:s, s:i}", "provider", "ollama", "model",
                                                name, "max_output_tokens", OLLAMA_MAX_OUTPUT));
    static const char *const strategies[] = {"correctness", "security"};
    for (size_t k = 0; k < QR_ARRAY_LEN(strategies); k++)
      json_array_append_new(passes,
                            json_pack("{s:s, s:s}", "model", name, "strategy", strategies[k]));
  }
}

/* The Ollama preset when a server answers at $QUORUM_OLLAMA_URL (default 127.0.0.1:11434; set
 * but empty: no probe), narrowed to the models pulled there. */
static void add_ollama(json_t *cfg) {
  const char *env = getenv("QUORUM_OLLAMA_URL");
  if (env && !*env) return;
  char url[OLLAMA_MAX_URL];
  snprintf(url, sizeof url, "%s", env ? env : OLLAMA_URL);
  for (size_t n = strlen(url); n > 0 && url[n - 1] == '/';) url[--n] = '\0';
  json_t *names = ollama_models(url);
  if (!names || !json_array_size(names)) {
    QR_DEBUG("defaults: no Ollama with pulled models at %s", url);
    json_decref(names);
    return;
  }
  json_error_t jerr;
  json_t *p = json_loads(qr_preset_ollama, 0, &jerr);
  json_t *prov = json_object_get(json_object_get(p, "providers"), "ollama");
  json_object_set_new(prov, "base_url", json_sprintf("%s/v1", url));
  keep_pulled(p, names);
  if (!json_object_size(json_object_get(p, "models"))) use_first_pulled(p, names);
  add_preset(cfg, p, "Ollama answers");
  /* Ollama's OpenAI endpoint cannot raise its default context (4096 tokens) and silently
   * truncates a longer prompt: its preset's prompt budget applies to every pass. */
  json_t *budget = json_object_get(json_object_get(p, "limits"), "max_input_tokens_per_pass");
  if (budget)
    json_object_set_new(cfg, "limits", json_pack("{s:O}", "max_input_tokens_per_pass", budget));
  json_decref(p);
  json_decref(names);
}

int qr_defaults_json(json_t **out, qr_err *e) {
  json_t *cfg = json_pack("{s:{}, s:{}, s:[], s:{s:s}, s:{s:b}}", "providers", "models", "passes",
                          "judge", "mode", "consensus", "rules", "enabled", 1);
  if (!cfg) return qr_err_set(e, QR_E_NOMEM, "out of memory");
  json_t *passes = json_object_get(cfg, "passes");
  for (size_t i = 0; qr_tool_name(i); i++)
    if (qr_tool_available(qr_tool_name(i)))
      json_array_append_new(passes, json_pack("{s:s}", "tool", qr_tool_name(i)));
  for (size_t i = 0; i < QR_ARRAY_LEN(presets); i++) {
    const char *key = getenv(presets[i].key_env);
    if (key && *key) add_key_preset(cfg, presets[i].preset, presets[i].key_env);
  }
  add_ollama(cfg);
  *out = cfg;
  return QR_OK;
}
