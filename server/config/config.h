/* config.h — the user configuration (JSON), validated into plain structs.
 *
 * Found as `--config FILE`, else $QUORUM_CONFIG, else $XDG_CONFIG_HOME/quorum/config.json
 * (default ~/.config/quorum/config.json). Unknown keys and wrong types are QR_E_CONFIG errors
 * whose message names the key path ("models.fast.temperature: expected a number").
 * API keys are never stored here: a provider names the environment variable holding its key
 * (`api_key_env`), read only when a request is built. */
#ifndef QR_CONFIG_H
#define QR_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

#include "common.h"

typedef enum { QR_PROVIDER_OPENAI = 0, QR_PROVIDER_ANTHROPIC } qr_provider_type;

typedef struct qr_kv {
  char *key, *value; /* owned */
} qr_kv;

typedef struct qr_config_provider {
  char *name;        /* the key in "providers"; owned */
  qr_provider_type type;
  char *base_url;    /* owned; default https://api.openai.com/v1 or https://api.anthropic.com/v1;
                        may carry a query string ("…/deployments/D?api-version=…"): the API
                        path goes before it */
  char *api_key_env; /* owned; NULL: no key (Ollama, local servers) */
  char *api_key_header; /* owned; NULL: the API's own (Authorization: Bearer / x-api-key);
                           else the key goes as "NAME: key" (Azure OpenAI: "api-key") */
  qr_kv *headers;    /* owned; extra HTTP headers */
  size_t n_headers;
  bool json_schema;  /* send response_format json_schema (openai); default true */
} qr_config_provider;

typedef struct qr_config_model {
  char *alias;       /* the key in "models"; owned */
  char *provider;    /* provider name; owned */
  const qr_config_provider *prov; /* resolved; borrowed from the config */
  char *model;       /* the provider's model id; owned */
  double price_in_per_mtok, price_out_per_mtok; /* USD per million tokens; 0 when unknown */
  bool priced;       /* a price was written (0 included: a free model) */
  int max_output_tokens; /* default 4096 */
  double temperature;    /* default 0.2 */
  bool stream;           /* default false */
  bool reasoning;        /* an OpenAI reasoning model: max_completion_tokens, no temperature;
                            default true for o1/o3/o4…/gpt-5… ids, else false */
  char *reasoning_effort; /* owned; NULL: the model's default; sent as reasoning_effort */
} qr_config_model;

typedef struct qr_config_strategy {
  char *name;         /* owned */
  char *instructions; /* owned; included verbatim in the prompt */
  bool builtin;       /* one of the compiled-in strategies */
} qr_config_strategy;

/* A pass is a model × strategy, or a local analyzer (`{"tool": "cppcheck"}`): then tool is set
 * and model, strategy, m and s are NULL. A tool that is not built in is a generic one,
 * `{"tool": NAME, "command": [argv…], "format": "sarif" | "gcc", "languages": [grammar…]}`
 * ("languages" optional: every changed file); parsing defines it in tools.c (qr_tool_define),
 * where the engine finds it by name. */
typedef struct qr_config_pass {
  char *model;    /* model alias; owned; NULL for a tool pass */
  char *strategy; /* strategy name; owned; NULL for a tool pass */
  const qr_config_model *m;    /* resolved; borrowed */
  const qr_config_strategy *s; /* resolved; borrowed */
  char *tool;     /* an analyzer, built in or generic (see tools.h); owned; NULL for a model pass */
  bool first_wave; /* plan.mode "adaptive": its model is in plan.first_wave (sent first) */
  int timeout_ms;  /* a tool pass's time limit; 0: limits.timeout_ms */
} qr_config_pass;

typedef struct qr_config_judge {
  char *mode;   /* "consensus" (default) or "model"; owned */
  char *model;  /* alias, required for mode "model"; owned */
  const qr_config_model *m; /* resolved; borrowed; NULL in consensus mode */
  int min_votes;          /* default 1 */
  double min_confidence;  /* default 0 */
  int max_findings;       /* default 0 = no limit */
} qr_config_judge;

typedef struct qr_config_limits {
  int concurrency;              /* default 8 */
  int timeout_ms;               /* per request, default 60000 */
  int max_input_tokens_per_pass;/* default 24000 */
  int max_retries;              /* default 3 */
  size_t max_response_bytes;    /* default 8 MiB */
  double max_usd_per_review;    /* USD; 0 = no limit (default) */
  double max_usd_per_day;       /* USD over the ledger's calendar day; 0 = no limit (default) */
  int deadline_ms;              /* the whole review; passes still running are cut; 0 = none */
} qr_config_limits;

/* The pass cache (cache.h): `"cache": {"enabled": true, "max_mb": 256}`. */
typedef struct qr_config_cache {
  bool enabled;  /* default true */
  int max_mb;    /* size cap, default 256 */
} qr_config_cache;

/* Fan-out (`"plan": {"mode": "adaptive", "first_wave": ["cheap"], "severity": "warning",
 * "agreement": 2}`). Full (default): every pass reviews every chunk. Adaptive: the passes of
 * the first-wave models go first; the other passes then review only the chunks where the first
 * wave found something at or above `severity`, or found something fewer than `agreement`
 * passes agree on (a chunk with no findings, or only agreed minor ones, is done). */
typedef struct qr_config_plan {
  bool adaptive;  /* mode "adaptive"; default "full" */
  int severity;   /* a qr_severity (findings.h); default warning */
  int agreement;  /* votes that settle a finding; default 2 */
} qr_config_plan;

/* The tree-sitter rule pack (rules.h): `"rules": {"enabled": true, "folders": ["…"]}`. */
typedef struct qr_config_rules {
  bool enabled;     /* default true */
  char **folders;   /* owned strings; user rule folders (`<folder>/<language>/<id>.scm`), as
                       written (a relative path is relative to the working directory) */
  size_t n_folders;
} qr_config_rules;

/* What a review leaves out (`"review": {"include_generated": true}` or a list of globs):
 * generated, vendored, lock and minified files are not reviewed (change/generated.h) unless
 * the user brings them back here. */
typedef struct qr_config_review {
  bool include_generated;  /* every such file; default false */
  char **include;          /* owned strings; globs of such files to review anyway */
  size_t n_include;
} qr_config_review;

typedef struct qr_config {
  qr_config_provider *providers; size_t n_providers;
  qr_config_model *models;       size_t n_models;
  qr_config_strategy *strategies; size_t n_strategies; /* built-ins first, then user ones */
  qr_config_pass *passes;        size_t n_passes;
  qr_config_judge judge;
  qr_config_limits limits;
  qr_config_rules rules;
  qr_config_cache cache;
  qr_config_plan plan;
  qr_config_review review;
  char *path; /* the file it came from, or NULL for defaults; owned */
} qr_config;

/* Parses and validates a JSON text. Built-in strategies are always present; a user strategy
 * with the same name overrides its instructions. Every pass must name a known model and
 * strategy (or a tool); every model a known provider. *out is new; free with qr_config_free. */
int qr_config_parse(const char *json, size_t len, const char *origin, qr_config **out, qr_err *e);
/* Loads from `path`, or when NULL from $QUORUM_CONFIG / the XDG location. A missing default
 * file gives a config with no passes (not an error); a missing explicit file is an error. */
int qr_config_load(const char *path, qr_config **out, qr_err *e);
void qr_config_free(qr_config *c);

const qr_config_model *qr_config_find_model(const qr_config *c, const char *alias);
const qr_config_strategy *qr_config_find_strategy(const qr_config *c, const char *name);

/* The built-in strategies compiled into the binary (server/review/strategies/NAME.md). */
typedef struct qr_builtin_strategy {
  const char *name, *instructions;
} qr_builtin_strategy;
const qr_builtin_strategy *qr_builtin_strategies(size_t *count);

#endif
