/* prompt.h — what one model request says: a system part (role, output contract, strategy)
 * and a user part holding the code as delimited, untrusted data. Providers turn a qr_prompt
 * into their wire format (server/provider_*.c); the schema is sent as OpenAI's
 * response_format json_schema or as the input_schema of Anthropic's forced tool. */
#ifndef QR_PROMPT_H
#define QR_PROMPT_H

#include <jansson.h>

#include "common.h"

typedef struct qr_prompt {
  char *system;       /* owned */
  char *user;         /* owned */
  json_t *schema;     /* owned reference: JSON schema of the expected answer */
  char *schema_name;  /* owned: e.g. "review_findings" or "judge_verdicts" (the tool/schema name) */
} qr_prompt;

void qr_prompt_clear(qr_prompt *p); /* frees the members; p itself is the caller's */

#endif
