/* defaults.h — what quorum reviews with when there is no configuration file: the rule pack,
 * every installed analyzer, and a model preset for each provider whose key is in the
 * environment (OPENROUTER_API_KEY → the cheap OpenRouter preset, OPENAI_API_KEY,
 * ANTHROPIC_API_KEY). Presets are the files in examples/configs/, compiled in. */
#ifndef QR_DEFAULTS_H
#define QR_DEFAULTS_H

#include <jansson.h>

#include "common.h"

/* The default configuration as config JSON. *out is a new reference. */
int qr_defaults_json(json_t **out, qr_err *e);

#endif
