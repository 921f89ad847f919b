/* plan.h — the requests one review makes: every configured pass (model × strategy) over every
 * context chunk, each with its prompt already built. The review engine sends them; a pass's
 * findings are tagged with the pass index, a request's code with its chunk index. */
#ifndef QR_PLAN_H
#define QR_PLAN_H

#include <stddef.h>

#include "common.h"
#include "config/config.h"
#include "change/context.h"
#include "review/prompt.h"

typedef struct qr_plan_request {
  int pass;         /* index into config->passes */
  int chunk;        /* index into context->chunks */
  qr_prompt prompt; /* owned */
} qr_plan_request;

typedef struct qr_plan {
  qr_plan_request *requests; /* owned; ordered chunk by chunk, passes in config order */
  size_t n_requests;
} qr_plan;

/* Builds n_passes × n_chunks requests (none when either is zero). Requests are grouped by
 * chunk so that the passes sharing a prompt prefix (system + code) are sent close together,
 * while the provider's prompt cache is warm. *out is new; free with qr_plan_free. */
int qr_plan_build(const qr_config *c, const qr_context *ctx, qr_plan **out, qr_err *e);
void qr_plan_free(qr_plan *p); /* NULL is a no-op */

#endif
