/* config.c — the user configuration: strict JSON validated into the structs of config.h.
 *
 * Strict on purpose: a typo in a key silently falling back to a default would spend money
 * on the wrong model, so every unknown key or wrong type is a QR_E_CONFIG error naming its
 * path ("models.fast.temperature: expected a number"). Messages name keys, never values,
 * so a key pasted in the wrong place is not echoed to logs. The built-in strategies are
 * the prompts embedded by strategies.S. */
#include "config/config.h"

#include "config/defaults.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "judge/findings.h"
#include "change/languages.h"
#include "local/tools.h"

#define CONFIG_MAX_BYTES (4u << 20)
#define KEYPATH_LEN 256

/* --- built-in strategies (server/review/strategies/NAME.md via strategies.S) ------------------------ */

extern const char qr_strategy_correctness[], qr_strategy_security[], qr_strategy_performance[],
    qr_strategy_maintainability[];

static const qr_builtin_strategy builtins[] = {
    {"correctness", qr_strategy_correctness},
    {"security", qr_strategy_security},
    {"performance", qr_strategy_performance},
    {"maintainability", qr_strategy_maintainability},
};

const qr_builtin_strategy *qr_builtin_strategies(size_t *count) {
  *count = QR_ARRAY_LEN(builtins);
  return builtins;
}

/* --- strict field readers ------------------------------------------------------------------ */

/* Where errors go and which file they are about. */
typedef struct parser {
  const char *origin; /* file name for messages, or NULL */
  qr_err *e;
} parser;

static int fail(parser *p, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int fail(parser *p, const char *path, const char *fmt, ...) {
  char msg[384];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  if (p->origin) return qr_err_set(p->e, QR_E_CONFIG, "%s: %s: %s", p->origin, path, msg);
  return qr_err_set(p->e, QR_E_CONFIG, "%s: %s", path, msg);
}

static int nomem(parser *p) { return qr_err_set(p->e, QR_E_NOMEM, "out of memory reading the config"); }

/* out = "base.key" (or "key" at the top level); long parts are cut, paths only go in messages. */
static void join(char out[KEYPATH_LEN], const char *base, const char *key) {
  snprintf(out, KEYPATH_LEN, "%.120s%s%.120s", base, *base ? "." : "", key);
}

/* Fails unless `v` is an object whose keys are all in the NULL-terminated `allowed`. */
static int check_object(parser *p, json_t *v, const char *path, const char *const *allowed) {
  if (!json_is_object(v)) return fail(p, path, "expected an object");
  const char *key;
  json_t *val;
  json_object_foreach(v, key, val) {
    const char *const *a = allowed;
    while (*a && strcmp(*a, key)) a++;
    if (*a) continue;
    char kp[KEYPATH_LEN];
    join(kp, path, key);
    if (!strcmp(key, "api_key"))
      return fail(p, kp, "keys are never stored in the config; name an environment variable "
                         "with \"api_key_env\"");
    return fail(p, kp, "unknown key");
  }
  return 0;
}

/* A non-empty string; absent leaves *out unchanged unless `required`. Replaces *out. */
static int get_string(parser *p, json_t *obj, const char *base, const char *key, bool required,
                      char **out) {
  char kp[KEYPATH_LEN];
  join(kp, base, key);
  json_t *v = json_object_get(obj, key);
  if (!v) return required ? fail(p, kp, "missing") : 0;
  if (!json_is_string(v) || json_string_length(v) == 0)
    return fail(p, kp, "expected a non-empty string");
  char *s = qr_strdup(json_string_value(v));
  if (!s) return nomem(p);
  qr_free(*out);
  *out = s;
  return 0;
}

static int get_int(parser *p, json_t *obj, const char *base, const char *key, long long min,
                   long long max, long long *out) {
  char kp[KEYPATH_LEN];
  join(kp, base, key);
  json_t *v = json_object_get(obj, key);
  if (!v) return 0;
  if (!json_is_integer(v)) return fail(p, kp, "expected an integer");
  json_int_t n = json_integer_value(v);
  if (n < min || n > max) return fail(p, kp, "must be between %lld and %lld", min, max);
  *out = n;
  return 0;
}

/* An int field with a lower bound (limits are positive, counts non-negative). */
static int get_int_field(parser *p, json_t *obj, const char *base, const char *key, int min,
                         int *out) {
  long long n = *out;
  int rc = get_int(p, obj, base, key, min, 0x7fffffff, &n);
  *out = (int)n;
  return rc;
}

static int get_number(parser *p, json_t *obj, const char *base, const char *key, double min,
                      double max, double *out) {
  char kp[KEYPATH_LEN];
  join(kp, base, key);
  json_t *v = json_object_get(obj, key);
  if (!v) return 0;
  if (!json_is_number(v)) return fail(p, kp, "expected a number");
  double d = json_number_value(v);
  if (!(d >= min && d <= max)) return fail(p, kp, "must be between %g and %g", min, max);
  *out = d;
  return 0;
}

static int get_bool(parser *p, json_t *obj, const char *base, const char *key, bool *out) {
  char kp[KEYPATH_LEN];
  join(kp, base, key);
  json_t *v = json_object_get(obj, key);
  if (!v) return 0;
  if (!json_is_boolean(v)) return fail(p, kp, "expected true or false");
  *out = json_is_true(v);
  return 0;
}

/* A name used as a key (provider, model alias, strategy): non-empty, printable, no spaces. */
static int check_name(parser *p, const char *section, const char *name) {
  if (!*name) return fail(p, section, "empty name");
  for (const unsigned char *c = (const unsigned char *)name; *c; c++)
    if (*c <= ' ' || *c == 0x7f) return fail(p, section, "name with spaces or control characters");
  return 0;
}

/* --- sections ------------------------------------------------------------------------------ */

/* Variables that hold the CI's own credentials (GITHUB_TOKEN, GH_TOKEN, ACTIONS_*): sending
 * one to a model provider hands it write access to the repository. */
static bool ci_token_env(const char *name) {
  return !strcmp(name, "GITHUB_TOKEN") || !strcmp(name, "GH_TOKEN") || !strncmp(name, "ACTIONS_", 8);
}

/* An environment variable name, so that a key value pasted here is rejected (and not echoed). */
static bool is_env_name(const char *s) {
  if (!*s || (*s >= '0' && *s <= '9')) return false;
  for (; *s; s++)
    if (!((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') ||
          *s == '_'))
      return false;
  return true;
}

static int parse_headers(parser *p, json_t *obj, const char *base, qr_config_provider *pr) {
  char kp[KEYPATH_LEN];
  join(kp, base, "headers");
  json_t *h = json_object_get(obj, "headers");
  if (!h) return 0;
  if (!json_is_object(h)) return fail(p, kp, "expected an object of strings");
  pr->headers = qr_calloc(json_object_size(h) + 1, sizeof *pr->headers);
  if (!pr->headers) return nomem(p);
  const char *name;
  json_t *v;
  json_object_foreach(h, name, v) {
    char hp[KEYPATH_LEN];
    join(hp, kp, name);
    /* CR/LF or ':' would let a config inject extra headers or split the request. */
    if (!*name || strpbrk(name, "\r\n: ")) return fail(p, hp, "invalid header name");
    if (!json_is_string(v)) return fail(p, hp, "expected a string");
    if (strpbrk(json_string_value(v), "\r\n")) return fail(p, hp, "line break in header value");
    qr_kv *kv = &pr->headers[pr->n_headers++];
    kv->key = qr_strdup(name);
    kv->value = qr_strdup(json_string_value(v));
    if (!kv->key || !kv->value) return nomem(p);
  }
  return 0;
}

static const char *const provider_keys[] = {"type", "base_url", "api_key_env", "api_key_header",
                                            "headers", "json_schema", NULL};

/* An HTTP header name (RFC 9110 token characters), so a config cannot inject lines. */
static bool is_header_name(const char *s) {
  if (!*s) return false;
  for (; *s; s++)
    if (!((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') ||
          strchr("!#$%&'*+-.^_`|~", *s)))
      return false;
  return true;
}

/* api_key_header sends the key as "NAME: key" (Azure's api-key) instead of the API's own. */
static int parse_key_header(parser *p, json_t *v, const char *base, qr_config_provider *pr) {
  char kp[KEYPATH_LEN];
  join(kp, base, "api_key_header");
  int rc = get_string(p, v, base, "api_key_header", false, &pr->api_key_header);
  if (!rc && pr->api_key_header && !is_header_name(pr->api_key_header))
    rc = fail(p, kp, "expected an HTTP header name such as \"api-key\"");
  if (!rc && pr->api_key_header && !pr->api_key_env)
    rc = fail(p, kp, "needs api_key_env (the variable holding the key)");
  return rc;
}

static int parse_provider(parser *p, const char *name, json_t *v, qr_config_provider *pr) {
  char base[KEYPATH_LEN], kp[KEYPATH_LEN];
  join(base, "providers", name);
  int rc = check_object(p, v, base, provider_keys);
  char *type = NULL;
  if (!rc) rc = get_string(p, v, base, "type", true, &type);
  if (!rc) {
    join(kp, base, "type");
    if (!strcmp(type, "openai")) pr->type = QR_PROVIDER_OPENAI;
    else if (!strcmp(type, "anthropic")) pr->type = QR_PROVIDER_ANTHROPIC;
    else rc = fail(p, kp, "expected \"openai\" or \"anthropic\"");
  }
  qr_free(type);
  if (!rc) rc = get_string(p, v, base, "base_url", false, &pr->base_url);
  if (!rc && pr->base_url) {
    join(kp, base, "base_url");
    if (strncmp(pr->base_url, "http://", 7) && strncmp(pr->base_url, "https://", 8))
      rc = fail(p, kp, "expected an http:// or https:// URL");
    size_t n = strlen(pr->base_url);
    while (!rc && n > 0 && pr->base_url[n - 1] == '/') pr->base_url[--n] = '\0';
  } else if (!rc) {
    pr->base_url = qr_strdup(pr->type == QR_PROVIDER_ANTHROPIC ? "https://api.anthropic.com/v1"
                                                               : "https://api.openai.com/v1");
    if (!pr->base_url) rc = nomem(p);
  }
  if (!rc) rc = get_string(p, v, base, "api_key_env", false, &pr->api_key_env);
  if (!rc && pr->api_key_env && !is_env_name(pr->api_key_env)) {
    join(kp, base, "api_key_env");
    rc = fail(p, kp, "expected an environment variable name (the key itself never goes here)");
  }
  if (!rc && pr->api_key_env && ci_token_env(pr->api_key_env)) {
    join(kp, base, "api_key_env");
    rc = fail(p, kp, "%s holds a GitHub or Actions token; a provider must not receive it",
              pr->api_key_env);
  }
  if (!rc) rc = parse_key_header(p, v, base, pr);
  if (!rc) rc = parse_headers(p, v, base, pr);
  pr->json_schema = true;
  if (!rc) rc = get_bool(p, v, base, "json_schema", &pr->json_schema);
  return rc;
}

static const qr_config_provider *find_provider(const qr_config *c, const char *name) {
  for (size_t i = 0; i < c->n_providers; i++)
    if (!strcmp(c->providers[i].name, name)) return &c->providers[i];
  return NULL;
}

static const char *const model_keys[] = {"provider", "model", "price_in_per_mtok",
                                         "price_out_per_mtok", "max_output_tokens", "temperature",
                                         "stream", "reasoning", "reasoning_effort", NULL};

/* OpenAI's reasoning models by id (o1, o3-mini, o4-mini, gpt-5, gpt-5-mini, not
 * gpt-5-chat-latest); a vendor-prefixed id ("openai/o3") goes through a router that
 * translates the parameters itself. */
static bool is_reasoning_id(const char *id) {
  if (strchr(id, '/')) return false;
  if (id[0] == 'o' && id[1] >= '1' && id[1] <= '9') return id[2] == '\0' || id[2] == '-';
  return !strncmp(id, "gpt-5", 5) && strchr("-.", id[5] ? id[5] : '-') && !strstr(id, "-chat");
}

/* reasoning (default: from the model id) and reasoning_effort, for OpenAI-type providers. */
static int parse_reasoning(parser *p, json_t *v, const char *base, qr_config_model *m) {
  static const char *const efforts[] = {"none", "minimal", "low", "medium", "high", "xhigh"};
  char kp[KEYPATH_LEN];
  m->reasoning = m->prov->type == QR_PROVIDER_OPENAI && is_reasoning_id(m->model);
  int rc = get_bool(p, v, base, "reasoning", &m->reasoning);
  if (!rc) rc = get_string(p, v, base, "reasoning_effort", false, &m->reasoning_effort);
  if (rc) return rc;
  if (m->reasoning_effort) {
    join(kp, base, "reasoning_effort");
    size_t i = 0;
    while (i < QR_ARRAY_LEN(efforts) && strcmp(efforts[i], m->reasoning_effort)) i++;
    if (i == QR_ARRAY_LEN(efforts))
      return fail(p, kp, "expected none, minimal, low, medium, high or xhigh");
    if (json_object_get(v, "reasoning") && !m->reasoning)
      return fail(p, kp, "set, but \"reasoning\" is false");
    m->reasoning = true;
  }
  if (m->reasoning && m->prov->type != QR_PROVIDER_OPENAI) {
    join(kp, base, json_object_get(v, "reasoning") ? "reasoning" : "reasoning_effort");
    return fail(p, kp, "only for OpenAI-compatible providers");
  }
  return 0;
}

static int parse_model(parser *p, const qr_config *c, const char *alias, json_t *v,
                       qr_config_model *m) {
  char base[KEYPATH_LEN], kp[KEYPATH_LEN];
  join(base, "models", alias);
  m->max_output_tokens = 4096;
  m->temperature = 0.2;
  int rc = check_object(p, v, base, model_keys);
  if (!rc) rc = get_string(p, v, base, "provider", true, &m->provider);
  if (!rc && !(m->prov = find_provider(c, m->provider))) {
    join(kp, base, "provider");
    rc = fail(p, kp, "unknown provider \"%s\"", m->provider);
  }
  if (!rc) rc = get_string(p, v, base, "model", true, &m->model);
  if (!rc) rc = get_number(p, v, base, "price_in_per_mtok", 0, 1e6, &m->price_in_per_mtok);
  if (!rc) rc = get_number(p, v, base, "price_out_per_mtok", 0, 1e6, &m->price_out_per_mtok);
  m->priced = json_object_get(v, "price_in_per_mtok") || json_object_get(v, "price_out_per_mtok");
  if (!rc) rc = get_int_field(p, v, base, "max_output_tokens", 1, &m->max_output_tokens);
  if (!rc) rc = get_number(p, v, base, "temperature", 0, 2, &m->temperature);
  if (!rc) rc = get_bool(p, v, base, "stream", &m->stream);
  if (!rc) rc = parse_reasoning(p, v, base, m);
  return rc;
}

/* Built-ins first, so user strategies with the same name replace their instructions. */
static int add_builtin_strategies(parser *p, qr_config *c) {
  for (size_t i = 0; i < QR_ARRAY_LEN(builtins); i++) {
    qr_config_strategy *s = &c->strategies[c->n_strategies++];
    s->name = qr_strdup(builtins[i].name);
    s->instructions = qr_strdup(builtins[i].instructions);
    s->builtin = true;
    if (!s->name || !s->instructions) return nomem(p);
  }
  return 0;
}

/* A user strategy is either its instructions as a string or {"instructions": "…"}. */
static int parse_strategy(parser *p, qr_config *c, const char *name, json_t *v) {
  static const char *const keys[] = {"instructions", NULL};
  char base[KEYPATH_LEN];
  join(base, "strategies", name);
  char *text = NULL;
  int rc;
  if (json_is_string(v)) {
    if (json_string_length(v) == 0) return fail(p, base, "expected non-empty instructions");
    text = qr_strdup(json_string_value(v));
    rc = text ? 0 : nomem(p);
  } else {
    rc = check_object(p, v, base, keys);
    if (!rc) rc = get_string(p, v, base, "instructions", true, &text);
  }
  if (rc) {
    qr_free(text);
    return rc;
  }
  qr_config_strategy *s = (qr_config_strategy *)qr_config_find_strategy(c, name);
  if (s) { /* overrides a built-in: the instructions are now the user's */
    qr_free(s->instructions);
    s->instructions = text;
    s->builtin = false;
    return 0;
  }
  s = &c->strategies[c->n_strategies++];
  s->instructions = text;
  s->name = qr_strdup(name);
  return s->name ? 0 : nomem(p);
}

static int parse_strategies(parser *p, json_t *root, qr_config *c) {
  json_t *o = json_object_get(root, "strategies");
  size_t n_user = json_is_object(o) ? json_object_size(o) : 0;
  c->strategies = qr_calloc(QR_ARRAY_LEN(builtins) + n_user, sizeof *c->strategies);
  if (!c->strategies) return nomem(p);
  int rc = add_builtin_strategies(p, c);
  if (rc || !o) return rc;
  if (!json_is_object(o)) return fail(p, "strategies", "expected an object");
  const char *name;
  json_t *v;
  json_object_foreach(o, name, v) {
    if ((rc = check_name(p, "strategies", name)) || (rc = parse_strategy(p, c, name, v))) return rc;
  }
  return 0;
}

static int parse_providers(parser *p, json_t *root, qr_config *c) {
  json_t *o = json_object_get(root, "providers");
  if (!o) return 0;
  if (!json_is_object(o)) return fail(p, "providers", "expected an object");
  c->providers = qr_calloc(json_object_size(o) + 1, sizeof *c->providers);
  if (!c->providers) return nomem(p);
  const char *name;
  json_t *v;
  json_object_foreach(o, name, v) {
    int rc = check_name(p, "providers", name);
    if (rc) return rc;
    qr_config_provider *pr = &c->providers[c->n_providers++];
    if (!(pr->name = qr_strdup(name))) return nomem(p);
    if ((rc = parse_provider(p, name, v, pr))) return rc;
  }
  return 0;
}

static int parse_models(parser *p, json_t *root, qr_config *c) {
  json_t *o = json_object_get(root, "models");
  if (!o) return 0;
  if (!json_is_object(o)) return fail(p, "models", "expected an object");
  c->models = qr_calloc(json_object_size(o) + 1, sizeof *c->models);
  if (!c->models) return nomem(p);
  const char *alias;
  json_t *v;
  json_object_foreach(o, alias, v) {
    int rc = check_name(p, "models", alias);
    if (rc) return rc;
    qr_config_model *m = &c->models[c->n_models++];
    if (!(m->alias = qr_strdup(alias))) return nomem(p);
    if ((rc = parse_model(p, c, alias, v, m))) return rc;
  }
  return 0;
}

/* A NULL-terminated copy of the non-empty strings of array `key` (at least `min` of them) in
 * *out; absent leaves *out NULL. */
static int get_strings(parser *p, json_t *obj, const char *base, const char *key, size_t min,
                       char ***out, size_t *n) {
  char kp[KEYPATH_LEN];
  join(kp, base, key);
  json_t *a = json_object_get(obj, key);
  if (!a) return 0;
  if (!json_is_array(a) || json_array_size(a) < min)
    return fail(p, kp, "expected a%s array of strings", min ? " non-empty" : "n");
  if (!(*out = qr_calloc(json_array_size(a) + 1, sizeof **out))) return nomem(p);
  size_t i;
  json_t *v;
  json_array_foreach(a, i, v) {
    char ip[KEYPATH_LEN];
    snprintf(ip, sizeof ip, "%.200s[%zu]", kp, i);
    if (!json_is_string(v) || !json_string_length(v))
      return fail(p, ip, "expected a non-empty string");
    if (!((*out)[i] = qr_strdup(json_string_value(v)))) return nomem(p);
    *n = i + 1;
  }
  return 0;
}

static void free_strings(char **v, size_t n) {
  for (size_t i = 0; i < n; i++) qr_free(v[i]);
  qr_free(v);
}

/* The generic part of a tool pass: "command" (argv, no shell), "format", "languages" (grammar
 * names, canonical after this). Defines the tool in tools.c so the engine can run it by name. */
static int parse_generic_tool(parser *p, json_t *v, const char *base, const char *name) {
  char kp[KEYPATH_LEN], *format = NULL, **cmd = NULL, **langs = NULL;
  size_t n_cmd = 0, n_langs = 0;
  qr_tool_format fmt = QR_TOOL_FORMAT_NONE;
  int rc = get_strings(p, v, base, "command", 1, &cmd, &n_cmd);
  if (!rc) rc = get_string(p, v, base, "format", true, &format);
  if (!rc && !(fmt = qr_tool_format_parse(format))) {
    join(kp, base, "format");
    rc = fail(p, kp, "expected \"sarif\" or \"gcc\"");
  }
  if (!rc) rc = get_strings(p, v, base, "languages", 0, &langs, &n_langs);
  for (size_t i = 0; !rc && i < n_langs; i++) {
    const qr_language *l = qr_language_by_name(langs[i]);
    char lp[KEYPATH_LEN];
    snprintf(lp, sizeof lp, "%.200s.languages[%zu]", base, i);
    if (!l) {
      rc = fail(p, lp, "unknown language \"%s\"", langs[i]);
      break;
    }
    char *canonical = qr_strdup(l->name); /* "javascriptreact" → "javascript" */
    if (!canonical) rc = nomem(p);
    qr_free(langs[i]);
    langs[i] = canonical;
  }
  qr_err te = {0};
  if (!rc && qr_tool_define(name, (const char *const *)cmd, n_cmd, fmt,
                            (const char *const *)langs, n_langs, &te))
    rc = te.code == QR_E_NOMEM ? nomem(p) : fail(p, base, "%s", te.msg);
  qr_free(format);
  free_strings(cmd, n_cmd);
  free_strings(langs, n_langs);
  return rc;
}

/* {"tool": NAME}: a built-in analyzer, alone (it has no model or strategy); with "command", a
 * generic tool (any name but a built-in one). */
static int parse_tool_pass(parser *p, qr_config *c, size_t i, json_t *v, const char *base,
                           qr_config_pass *ps) {
  static const char *const keys[] = {"tool", "command", "format", "languages", "timeout_ms", NULL};
  char kp[KEYPATH_LEN];
  join(kp, base, "tool");
  int rc = json_object_get(v, "model") || json_object_get(v, "strategy")
               ? fail(p, base, "a tool pass takes no model or strategy")
               : check_object(p, v, base, keys);
  if (!rc) rc = get_string(p, v, base, "tool", true, &ps->tool);
  if (!rc) rc = check_name(p, kp, ps->tool);
  bool generic = json_object_get(v, "command") != NULL;
  if (!rc && generic && qr_tool_known(ps->tool))
    rc = fail(p, kp, "\"%s\" is a built-in tool; give a tool with a \"command\" another name",
              ps->tool);
  else if (!rc && !generic && (json_object_get(v, "format") || json_object_get(v, "languages")))
    rc = fail(p, base, "\"format\" and \"languages\" go with \"command\"");
  else if (!rc && !generic && !qr_tool_known(ps->tool))
    rc = fail(p, kp, "unknown tool \"%s\" (built in: cppcheck, shellcheck, pyflakes; any other "
                     "needs \"command\")", ps->tool);
  for (size_t j = 0; !rc && j < i; j++)
    if (c->passes[j].tool && !strcmp(c->passes[j].tool, ps->tool))
      rc = fail(p, base, "same tool as passes[%zu]", j);
  if (!rc && generic) rc = parse_generic_tool(p, v, base, ps->tool);
  if (!rc) rc = get_int_field(p, v, base, "timeout_ms", 1, &ps->timeout_ms);
  return rc;
}

static int parse_pass(parser *p, qr_config *c, size_t i, json_t *v) {
  static const char *const keys[] = {"model", "strategy", NULL};
  char base[KEYPATH_LEN], kp[KEYPATH_LEN];
  snprintf(base, sizeof base, "passes[%zu]", i);
  qr_config_pass *ps = &c->passes[c->n_passes++];
  if (json_is_object(v) && json_object_get(v, "tool")) return parse_tool_pass(p, c, i, v, base, ps);
  int rc = check_object(p, v, base, keys);
  if (!rc) rc = get_string(p, v, base, "model", true, &ps->model);
  if (!rc) rc = get_string(p, v, base, "strategy", true, &ps->strategy);
  if (!rc && !(ps->m = qr_config_find_model(c, ps->model))) {
    join(kp, base, "model");
    rc = fail(p, kp, "unknown model \"%s\"", ps->model);
  }
  if (!rc && !(ps->s = qr_config_find_strategy(c, ps->strategy))) {
    join(kp, base, "strategy");
    rc = fail(p, kp, "unknown strategy \"%s\"", ps->strategy);
  }
  /* The same pass twice would pay twice and count as two votes for one opinion. */
  for (size_t j = 0; !rc && j < i; j++)
    if (c->passes[j].m == ps->m && c->passes[j].s == ps->s)
      rc = fail(p, base, "same model and strategy as passes[%zu]", j);
  return rc;
}

static int parse_passes(parser *p, json_t *root, qr_config *c) {
  json_t *a = json_object_get(root, "passes");
  if (!a) return 0;
  if (!json_is_array(a)) return fail(p, "passes", "expected an array");
  c->passes = qr_calloc(json_array_size(a) + 1, sizeof *c->passes);
  if (!c->passes) return nomem(p);
  size_t i;
  json_t *v;
  json_array_foreach(a, i, v) {
    int rc = parse_pass(p, c, i, v);
    if (rc) return rc;
  }
  return 0;
}

static int parse_judge(parser *p, json_t *root, qr_config *c) {
  static const char *const keys[] = {"mode", "model", "min_votes", "min_confidence",
                                     "max_findings", NULL};
  qr_config_judge *j = &c->judge;
  j->min_votes = 1;
  if (!(j->mode = qr_strdup("consensus"))) return nomem(p);
  json_t *v = json_object_get(root, "judge");
  if (!v) return 0;
  int rc = check_object(p, v, "judge", keys);
  if (!rc) rc = get_string(p, v, "judge", "mode", false, &j->mode);
  if (!rc && strcmp(j->mode, "consensus") && strcmp(j->mode, "model"))
    rc = fail(p, "judge.mode", "expected \"consensus\" or \"model\"");
  if (!rc) rc = get_string(p, v, "judge", "model", false, &j->model);
  if (!rc && !j->model && !strcmp(j->mode, "model"))
    rc = fail(p, "judge.model", "missing (required when judge.mode is \"model\")");
  const qr_config_model *m = NULL;
  if (!rc && j->model && !(m = qr_config_find_model(c, j->model)))
    rc = fail(p, "judge.model", "unknown model \"%s\"", j->model);
  if (!rc && !strcmp(j->mode, "model")) j->m = m;
  if (!rc) rc = get_int_field(p, v, "judge", "min_votes", 1, &j->min_votes);
  if (!rc) rc = get_number(p, v, "judge", "min_confidence", 0, 1, &j->min_confidence);
  if (!rc) rc = get_int_field(p, v, "judge", "max_findings", 0, &j->max_findings);
  return rc;
}

static int parse_limits(parser *p, json_t *root, qr_config *c) {
  static const char *const keys[] = {"concurrency", "timeout_ms", "max_input_tokens_per_pass",
                                     "max_retries", "max_response_bytes", "max_usd_per_review",
                                     "max_usd_per_day", "deadline_ms", NULL};
  qr_config_limits *l = &c->limits;
  *l = (qr_config_limits){.concurrency = 8, .timeout_ms = 60000,
                          .max_input_tokens_per_pass = 24000, .max_retries = 3,
                          .max_response_bytes = 8u << 20};
  json_t *v = json_object_get(root, "limits");
  if (!v) return 0;
  int rc = check_object(p, v, "limits", keys);
  if (!rc) rc = get_int_field(p, v, "limits", "concurrency", 1, &l->concurrency);
  if (!rc) rc = get_int_field(p, v, "limits", "timeout_ms", 1, &l->timeout_ms);
  /* Below a few hundred tokens no region fits and every file would be split into fragments. */
  if (!rc)
    rc = get_int_field(p, v, "limits", "max_input_tokens_per_pass", 256,
                       &l->max_input_tokens_per_pass);
  if (!rc) rc = get_int_field(p, v, "limits", "max_retries", 0, &l->max_retries);
  long long bytes = (long long)l->max_response_bytes;
  if (!rc) rc = get_int(p, v, "limits", "max_response_bytes", 1, 1ll << 40, &bytes);
  l->max_response_bytes = (size_t)bytes;
  if (!rc) rc = get_number(p, v, "limits", "max_usd_per_review", 0, 1e9, &l->max_usd_per_review);
  if (!rc) rc = get_number(p, v, "limits", "max_usd_per_day", 0, 1e9, &l->max_usd_per_day);
  if (!rc) rc = get_int_field(p, v, "limits", "deadline_ms", 0, &l->deadline_ms);
  return rc;
}

/* A spending limit is kept on estimates made before each call, from the model's prices: a cost
 * the provider reports (OpenRouter) is known only after the call. So with a limit every model
 * a pass or the judge calls needs its prices written (0 for a free model). */
static int check_priced(parser *p, const qr_config *c) {
  const qr_config_limits *l = &c->limits;
  if (l->max_usd_per_review <= 0 && l->max_usd_per_day <= 0) return 0;
  const char *key = l->max_usd_per_review > 0 ? "limits.max_usd_per_review" : "limits.max_usd_per_day";
  for (size_t i = 0; i <= c->n_passes; i++) {
    const qr_config_model *m = i < c->n_passes ? c->passes[i].m : c->judge.m;
    if (m && !m->priced)
      return fail(p, key, "needs price_in_per_mtok and price_out_per_mtok for model \"%s\" (0 for "
                  "a free model): the limit is kept on estimates made before each call", m->alias);
  }
  return 0;
}

static int parse_cache(parser *p, json_t *root, qr_config *c) {
  static const char *const keys[] = {"enabled", "max_mb", NULL};
  c->cache = (qr_config_cache){.enabled = true, .max_mb = 256};
  json_t *v = json_object_get(root, "cache");
  if (!v) return 0;
  int rc = check_object(p, v, "cache", keys);
  if (!rc) rc = get_bool(p, v, "cache", "enabled", &c->cache.enabled);
  if (!rc) rc = get_int_field(p, v, "cache", "max_mb", 1, &c->cache.max_mb);
  return rc;
}

/* A non-empty array of non-empty strings at `key` of v, copied into *out (n of them). */
static int get_string_array(parser *p, json_t *v, const char *section, const char *key,
                            char ***out, size_t *n) {
  json_t *a = json_object_get(v, key);
  char kp[KEYPATH_LEN];
  snprintf(kp, sizeof kp, "%s.%s", section, key);
  if (!json_is_array(a)) return fail(p, kp, "expected an array of strings");
  if (!(*out = qr_calloc(json_array_size(a) + 1, sizeof **out))) return nomem(p);
  size_t i;
  json_t *f;
  json_array_foreach(a, i, f) {
    snprintf(kp, sizeof kp, "%s.%s[%zu]", section, key, i);
    if (!json_is_string(f) || !json_string_length(f)) return fail(p, kp, "expected a non-empty string");
    if (!((*out)[*n] = qr_strdup(json_string_value(f)))) return nomem(p);
    (*n)++;
  }
  return 0;
}

static int parse_rules(parser *p, json_t *root, qr_config *c) {
  static const char *const keys[] = {"enabled", "folders", NULL};
  c->rules.enabled = true;
  json_t *v = json_object_get(root, "rules");
  if (!v) return 0;
  int rc = check_object(p, v, "rules", keys);
  if (!rc) rc = get_bool(p, v, "rules", "enabled", &c->rules.enabled);
  if (rc || !json_object_get(v, "folders")) return rc;
  return get_string_array(p, v, "rules", "folders", &c->rules.folders, &c->rules.n_folders);
}

/* "include_generated": true/false, or the globs of such files to review anyway. */
static int parse_review(parser *p, json_t *root, qr_config *c) {
  static const char *const keys[] = {"include_generated", NULL};
  json_t *v = json_object_get(root, "review");
  if (!v) return 0;
  int rc = check_object(p, v, "review", keys);
  json_t *inc = json_object_get(v, "include_generated");
  if (rc || !inc) return rc;
  if (json_is_boolean(inc)) {
    c->review.include_generated = json_is_true(inc);
    return 0;
  }
  if (!json_is_array(inc))
    return fail(p, "review.include_generated", "expected true, false or an array of globs");
  return get_string_array(p, v, "review", "include_generated", &c->review.include,
                          &c->review.n_include);
}

/* Marks the passes of the first-wave models; each listed alias must be a configured model with
 * a pass (the judge's model alone reviews nothing: a first wave of it would settle every chunk
 * unread). */
static int parse_first_wave(parser *p, json_t *v, qr_config *c) {
  json_t *a = json_object_get(v, "first_wave");
  if (!a && c->plan.adaptive)
    return fail(p, "plan.first_wave", "missing (required when plan.mode is \"adaptive\")");
  if (!a) return 0;
  if (!json_is_array(a) || !json_array_size(a))
    return fail(p, "plan.first_wave", "expected a non-empty array of model aliases");
  size_t i;
  json_t *m;
  json_array_foreach(a, i, m) {
    char kp[KEYPATH_LEN];
    snprintf(kp, sizeof kp, "plan.first_wave[%zu]", i);
    if (!json_is_string(m)) return fail(p, kp, "expected a model alias");
    const char *alias = json_string_value(m);
    if (!qr_config_find_model(c, alias)) return fail(p, kp, "unknown model \"%s\"", alias);
    bool has_pass = false;
    for (size_t k = 0; k < c->n_passes; k++)
      if (c->passes[k].model && !strcmp(c->passes[k].model, alias))
        has_pass = c->passes[k].first_wave = true;
    if (!has_pass)
      return fail(p, kp, "model \"%s\" has no pass in \"passes\", so the first wave would review "
                  "nothing", alias);
  }
  return 0;
}

static int parse_plan(parser *p, json_t *root, qr_config *c) {
  static const char *const keys[] = {"mode", "first_wave", "severity", "agreement", NULL};
  c->plan = (qr_config_plan){.severity = QR_SEV_WARNING, .agreement = 2};
  json_t *v = json_object_get(root, "plan");
  if (!v) return 0;
  char *mode = NULL, *sev = NULL;
  int rc = check_object(p, v, "plan", keys);
  if (!rc) rc = get_string(p, v, "plan", "mode", false, &mode);
  if (!rc && mode && strcmp(mode, "full") && strcmp(mode, "adaptive"))
    rc = fail(p, "plan.mode", "expected \"full\" or \"adaptive\"");
  c->plan.adaptive = !rc && mode && !strcmp(mode, "adaptive");
  if (!rc) rc = parse_first_wave(p, v, c);
  if (!rc) rc = get_string(p, v, "plan", "severity", false, &sev);
  if (!rc && sev && !(c->plan.severity = (int)qr_severity_parse(sev)))
    rc = fail(p, "plan.severity", "expected error, warning, info or hint");
  if (!rc) rc = get_int_field(p, v, "plan", "agreement", 1, &c->plan.agreement);
  qr_free(mode);
  qr_free(sev);
  return rc;
}

/* --- public API ------------------------------------------------------------------------------ */

static const char *const top_keys[] = {"providers", "models", "strategies", "passes", "judge",
                                       "limits", "rules", "cache", "plan", "review", NULL};

static int parse_root(parser *p, json_t *root, qr_config *c) {
  if (!json_is_object(root)) return fail(p, "(top level)", "expected an object");
  int rc = check_object(p, root, "", top_keys);
  /* Order matters: models resolve providers; passes resolve models and strategies. */
  if (!rc) rc = parse_providers(p, root, c);
  if (!rc) rc = parse_models(p, root, c);
  if (!rc) rc = parse_strategies(p, root, c);
  if (!rc) rc = parse_passes(p, root, c);
  if (!rc) rc = parse_judge(p, root, c);
  if (!rc) rc = parse_limits(p, root, c);
  if (!rc) rc = check_priced(p, c);
  if (!rc) rc = parse_rules(p, root, c);
  if (!rc) rc = parse_cache(p, root, c);
  if (!rc) rc = parse_plan(p, root, c);
  if (!rc) rc = parse_review(p, root, c);
  return rc;
}

int qr_config_parse(const char *json, size_t len, const char *origin, qr_config **out,
                    qr_err *e) {
  parser p = {origin, e};
  if (!json || !out) return qr_err_set(e, QR_E_INVAL, "qr_config_parse: NULL argument");
  if (len > CONFIG_MAX_BYTES)
    return qr_err_set(e, QR_E_TOOBIG, "%s: config is larger than %u bytes",
                      origin ? origin : "config", CONFIG_MAX_BYTES);
  json_error_t je;
  json_t *root = json_loadb(json, len, JSON_REJECT_DUPLICATES, &je);
  if (!root)
    return qr_err_set(e, QR_E_CONFIG, "%s:%d:%d: %s", origin ? origin : "config", je.line,
                      je.column, je.text);
  qr_config *c = qr_calloc(1, sizeof *c);
  int rc = c ? 0 : nomem(&p);
  if (!rc && origin && !(c->path = qr_strdup(origin))) rc = nomem(&p);
  if (!rc) rc = parse_root(&p, root, c);
  json_decref(root);
  if (rc) {
    qr_config_free(c);
    return rc;
  }
  *out = c;
  return 0;
}

/* The default location, or NULL when neither XDG_CONFIG_HOME nor HOME is set. New string. */
static char *default_path(void) {
  const char *xdg = getenv("XDG_CONFIG_HOME");
  if (xdg && *xdg == '/') return qr_asprintf("%s/quorum/config.json", xdg);
  const char *home = getenv("HOME");
  if (home && *home) return qr_asprintf("%s/.config/quorum/config.json", home);
  return NULL;
}

/* The zero-configuration setup (defaults.c), validated like any file. */
static int parse_defaults(qr_config **out, qr_err *e) {
  json_t *j = NULL;
  int rc = qr_defaults_json(&j, e);
  char *text = rc ? NULL : json_dumps(j, JSON_COMPACT);
  json_decref(j);
  if (!rc && !text) rc = qr_err_set(e, QR_E_NOMEM, "out of memory");
  if (!rc) rc = qr_config_parse(text, strlen(text), NULL, out, e);
  free(text); /* json_dumps allocates with jansson's allocator */
  return rc;
}

int qr_config_load(const char *path, qr_config **out, qr_err *e) {
  char *def = NULL;
  if (!path) {
    const char *env = getenv("QUORUM_CONFIG");
    path = env && *env ? env : (def = default_path());
  }
  char *text = NULL;
  size_t len = 0;
  int rc = path ? qr_read_file(path, CONFIG_MAX_BYTES, &text, &len, e) : QR_E_NOTFOUND;
  if (rc == QR_E_NOTFOUND && (def || !path)) /* no config file yet: the defaults */
    rc = parse_defaults(out, e);
  else if (!rc)
    rc = qr_config_parse(text, len, path, out, e);
  qr_free(text);
  qr_free(def);
  return rc;
}

static void free_provider(qr_config_provider *p) {
  qr_free(p->name);
  qr_free(p->base_url);
  qr_free(p->api_key_env);
  qr_free(p->api_key_header);
  for (size_t i = 0; i < p->n_headers; i++) {
    qr_free(p->headers[i].key);
    qr_free(p->headers[i].value);
  }
  qr_free(p->headers);
}

void qr_config_free(qr_config *c) {
  if (!c) return;
  for (size_t i = 0; i < c->n_providers; i++) free_provider(&c->providers[i]);
  qr_free(c->providers);
  for (size_t i = 0; i < c->n_models; i++) {
    qr_free(c->models[i].alias);
    qr_free(c->models[i].provider);
    qr_free(c->models[i].model);
    qr_free(c->models[i].reasoning_effort);
  }
  qr_free(c->models);
  for (size_t i = 0; i < c->n_strategies; i++) {
    qr_free(c->strategies[i].name);
    qr_free(c->strategies[i].instructions);
  }
  qr_free(c->strategies);
  for (size_t i = 0; i < c->n_passes; i++) {
    qr_free(c->passes[i].model);
    qr_free(c->passes[i].strategy);
    qr_free(c->passes[i].tool);
  }
  qr_free(c->passes);
  for (size_t i = 0; i < c->rules.n_folders; i++) qr_free(c->rules.folders[i]);
  qr_free(c->rules.folders);
  for (size_t i = 0; i < c->review.n_include; i++) qr_free(c->review.include[i]);
  qr_free(c->review.include);
  qr_free(c->judge.mode);
  qr_free(c->judge.model);
  qr_free(c->path);
  qr_free(c);
}

const qr_config_model *qr_config_find_model(const qr_config *c, const char *alias) {
  for (size_t i = 0; c && alias && i < c->n_models; i++)
    if (!strcmp(c->models[i].alias, alias)) return &c->models[i];
  return NULL;
}

const qr_config_strategy *qr_config_find_strategy(const qr_config *c, const char *name) {
  for (size_t i = 0; c && name && i < c->n_strategies; i++)
    if (!strcmp(c->strategies[i].name, name)) return &c->strategies[i];
  return NULL;
}
