/* defaults.c — builds the zero-configuration setup as config JSON, so it goes through the same
 * validation as a user's file (config.c parses it). */
#include "defaults.h"

#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "tools.h"

extern const char qr_preset_openrouter[], qr_preset_openai[], qr_preset_anthropic[];

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

/* Adds a preset's providers, models and passes (its judge is not taken: the defaults judge by
 * consensus, which needs no extra call). */
static void add_preset(json_t *cfg, const char *text, const char *key_env) {
  json_error_t jerr;
  json_t *p = json_loads(text, 0, &jerr);
  if (!p || !merge_section(cfg, p, "providers") || !merge_section(cfg, p, "models")) {
    QR_WARN("defaults: the %s preset could not be added", key_env);
    json_decref(p);
    return;
  }
  json_array_extend(json_object_get(cfg, "passes"), json_object_get(p, "passes"));
  QR_INFO("defaults: %s is set: added its model preset", key_env);
  json_decref(p);
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
    if (key && *key) add_preset(cfg, presets[i].preset, presets[i].key_env);
  }
  *out = cfg;
  return QR_OK;
}
