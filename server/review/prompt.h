/* prompt.h — what one model request says: a system part (role, output contract, strategy)
 * and a user part holding the code as delimited, untrusted data. Providers turn a qr_prompt
 * into their wire format (server/provider_*.c); the schema is sent as OpenAI's
 * response_format json_schema or as the input_schema of Anthropic's forced tool. */
#ifndef QR_PROMPT_H
#define QR_PROMPT_H

#include <jansson.h>

#include "common.h"
#include "config/config.h"

typedef struct qr_prompt {
  char *system;       /* owned */
  char *user;         /* owned */
  json_t *schema;     /* owned reference: JSON schema of the expected answer */
  char *schema_name;  /* owned: e.g. "review_findings" or "judge_verdicts" (the tool/schema name) */
} qr_prompt;

void qr_prompt_clear(qr_prompt *p); /* frees the members and zeroes them; p itself is the caller's */

/* Builds the request for one review pass over `code_context` (a rendered chunk, see context.h).
 * system = role + output contract + the context format (identical for every pass, so it is
 * cached by providers); user = the code between random boundary markers FIRST, then the
 * strategy's instructions verbatim LAST, so passes over the same chunk share the longest
 * prefix. The boundary is a keyed hash of the code under a per-process 128-bit random key:
 * unpredictable to whoever wrote the code, yet equal for every pass over the same chunk.
 * `out` is filled with new members (free with qr_prompt_clear); untouched on error. */
int qr_prompt_build(const qr_config_strategy *s, const char *code_context, qr_prompt *out,
                    qr_err *e);

/* The JSON schema of the findings answer (OpenAI strict-mode compatible: every property is
 * required, optional ones are nullable). New reference; NULL when out of memory. */
json_t *qr_prompt_findings_schema(void);

#endif
