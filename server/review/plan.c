/* plan.c — expands the configured model passes over the context chunks into prompts (see
 * plan.h); tool passes are run by the orchestrator and get no request here. */
#include "review/plan.h"

int qr_plan_build(const qr_config *c, const qr_context *ctx, qr_plan **out, qr_err *e) {
  if (!c || !ctx || !out) return qr_err_set(e, QR_E_INVAL, "qr_plan_build: NULL argument");
  qr_plan *p = qr_calloc(1, sizeof *p);
  size_t n = c->n_passes * ctx->n_chunks;
  if (!p || (n && !(p->requests = qr_calloc(n, sizeof *p->requests)))) {
    qr_free(p);
    return qr_err_set(e, QR_E_NOMEM, "out of memory planning %zu requests", n);
  }
  for (size_t k = 0; k < ctx->n_chunks; k++) {
    for (size_t i = 0; i < c->n_passes; i++) {
      if (c->passes[i].tool) continue; /* analyzers make no model request */
      qr_plan_request *r = &p->requests[p->n_requests];
      int rc = qr_prompt_build(c->passes[i].s, ctx->chunks[k].text, &r->prompt, e);
      if (rc) {
        qr_plan_free(p);
        return rc;
      }
      r->pass = (int)i;
      r->chunk = (int)k;
      p->n_requests++;
    }
  }
  *out = p;
  return 0;
}

void qr_plan_free(qr_plan *p) {
  if (!p) return;
  for (size_t i = 0; i < p->n_requests; i++) qr_prompt_clear(&p->requests[i].prompt);
  qr_free(p->requests);
  qr_free(p);
}
