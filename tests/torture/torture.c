/* torture.c — the allocation-failure torture (curl's and jansson's technique): runs one full
 * review in-process — diff parse → snapshot → context (with redaction) → plan → request bodies
 * → findings parse → validate → secret findings → consensus → judge prompt — once with the
 * N-th allocation failing, for N = 1, 2, … until a run completes with no failure injected.
 * Every run must end in a clean error or a success; ASan catches a crash, LSan a leak at exit.
 *
 * Allocations through qr_malloc & co. and jansson (json_set_alloc_funcs) are failed. libuv and
 * curl are not involved (no network here); tree-sitter is left on libc's allocator because it
 * aborts by design when an allocation fails.
 *
 * Usage: torture [STEP [FIRST]] — try N = FIRST, FIRST+STEP, … (default 1 1); a short run in
 * `make test` uses a large STEP. Prints one "ok"/"FAIL" line per property. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/config.h"
#include "change/context.h"
#include "change/diff.h"
#include "fixture.h"
#include "judge/findings.h"
#include "judge/judge.h"
#include "review/plan.h"
#include "providers/provider.h"
#include "local/redact.h"
#include "change/snapshot.h"

#define KEY_ENV "QR_TORTURE_KEY"

static const char CONFIG[] =
    "{\"providers\": {\"o\": {\"type\": \"openai\", \"base_url\": \"http://127.0.0.1:9/v1\","
    "  \"api_key_env\": \"" KEY_ENV "\"},"
    " \"a\": {\"type\": \"anthropic\", \"base_url\": \"http://127.0.0.1:9/v1\","
    "  \"api_key_env\": \"" KEY_ENV "\"}},"
    " \"models\": {\"m1\": {\"provider\": \"o\", \"model\": \"m1\", \"stream\": true},"
    "  \"m2\": {\"provider\": \"a\", \"model\": \"m2\"}},"
    " \"passes\": [{\"model\": \"m1\", \"strategy\": \"correctness\"},"
    "  {\"model\": \"m2\", \"strategy\": \"security\"}],"
    " \"judge\": {\"mode\": \"consensus\"}}";

/* Two passes' answers: agreement on the overflow (one wrapped in prose and a fence), a fix. */
static const char *const ANSWERS[] = {
    "{\"findings\": [{\"file\": \"src/join.c\", \"start_line\": 7, \"end_line\": 7,"
    " \"severity\": \"error\", \"category\": \"correctness\","
    " \"message\": \"malloc(strlen(a) + strlen(b)) has no room for the NUL.\","
    " \"evidence\": \"malloc(strlen(a) + strlen(b))\","
    " \"fix\": {\"start_line\": 7, \"end_line\": 7,"
    " \"replacement\": \"  char *out = malloc(strlen(a) + strlen(b) + 1);\"}}]}",
    "Here you go:\n```json\n{\"findings\": [{\"file\": \"src/join.c\", \"start_line\": 2,"
    " \"end_line\": 2, \"severity\": \"error\", \"category\": \"security\","
    " \"message\": \"Heap overflow: the buffer lacks space for the terminator.\","
    " \"evidence\": \"malloc(strlen(a) + strlen(b))\"},"
    " {\"file\": \"nope.c\", \"start_line\": 1, \"end_line\": 1, \"severity\": \"info\","
    " \"category\": \"x\", \"message\": \"dropped\"}]}\n```\n",
};

/* The passes' side: request bodies for every planned request, then their answers. */
static int run_passes(const qr_config *cfg, const qr_plan *plan, const qr_diff *d,
                      const qr_snapshot *s, qr_finding_list *found, qr_err *e) {
  int rc = QR_OK;
  for (size_t i = 0; !rc && i < plan->n_requests; i++) {
    const qr_plan_request *req = &plan->requests[i];
    const qr_config_pass *p = &cfg->passes[req->pass];
    qr_provider_request http;
    rc = qr_provider_request_build(p->m, &req->prompt, &http, NULL, e);
    if (rc) break;
    qr_provider_request_free(&http);
    const char *answer = ANSWERS[(size_t)req->pass % QR_ARRAY_LEN(ANSWERS)];
    qr_finding_list l;
    qr_finding_list_init(&l);
    qr_drops drops = {0}; /* its allocations fail in turn too: only reasons may be lost */
    rc = qr_findings_parse(answer, strlen(answer), p->model, p->strategy, req->pass, &l, &drops, e);
    int dropped = rc ? 0 : qr_findings_validate(&l, d, s, "/repo", false, 5, &drops);
    if (dropped < 0) rc = dropped;
    for (size_t k = 0; !rc && k < l.n; k++) rc = qr_finding_list_push(found, &l.items[k]);
    qr_drops_free(&drops);
    qr_finding_list_free(&l);
  }
  return rc;
}

/* The merge: the local secret findings join the passes', then consensus and the judge prompt. */
static int merge(const qr_diff *d, const qr_snapshot *s, qr_finding_list *found, qr_err *e) {
  int rc = qr_redact_findings(d, s, found, e);
  if (rc) return rc;
  qr_judge_coverage *cov = qr_calloc(s->n_files ? s->n_files : 1, sizeof *cov);
  if (!cov) return QR_E_NOMEM;
  for (size_t i = 0; i < s->n_files; i++) cov[i] = (qr_judge_coverage){s->files[i].path, 2};
  qr_finding_list merged;
  qr_finding_list_init(&merged);
  qr_judge_options o = {.min_votes = 1, .min_confidence = 0, .max_findings = 50};
  rc = qr_judge_consensus(found, s, cov, s->n_files, &o, &merged, e);
  qr_prompt judge = {0};
  if (!rc) rc = qr_judge_build_prompt(&merged, s, 42, &judge, e);
  qr_prompt_clear(&judge);
  qr_finding_list_free(&merged);
  qr_free(cov);
  return rc;
}

/* One whole review; everything it allocates is freed whatever happens. */
static int review(const char *root, int *findings) {
  qr_err e = {0};
  qr_config *cfg = NULL;
  qr_diff *d = NULL;
  qr_snapshot *s = NULL;
  char **omitted = NULL;
  qr_context *ctx = NULL;
  qr_plan *plan = NULL;
  qr_finding_list found;
  qr_finding_list_init(&found);
  int rc = qr_config_parse(CONFIG, strlen(CONFIG), "torture", &cfg, &e);
  if (!rc) rc = qr_diff_parse(FIXTURE_DIFF, strlen(FIXTURE_DIFF), 1 << 20, &d, &e);
  if (!rc) rc = qr_snapshot_from_diff(d, root, 1 << 20, &s, &omitted, &e);
  if (!rc) rc = qr_context_build(d, s, 2000, &ctx, &e);
  if (!rc) rc = qr_plan_build(cfg, ctx, &plan, &e);
  if (!rc) rc = run_passes(cfg, plan, d, s, &found, &e);
  if (!rc) rc = merge(d, s, &found, &e);
  *findings = (int)found.n;
  qr_finding_list_free(&found);
  qr_plan_free(plan);
  qr_context_free(ctx);
  qr_snapshot_free_omitted(omitted);
  qr_snapshot_free(s);
  qr_diff_free(d);
  qr_config_free(cfg);
  return rc;
}

int main(int argc, char **argv) {
  long step = argc > 1 ? atol(argv[1]) : 1, first = argc > 2 ? atol(argv[2]) : 1;
  if (step < 1 || first < 1) {
    fprintf(stderr, "usage: torture [STEP [FIRST]]\n");
    return 2;
  }
  json_set_alloc_funcs(qr_malloc, qr_free);
  setenv(KEY_ENV, "sk-torture-not-a-key", 1);
  char root[] = "/tmp/qr-torture-XXXXXX";
  if (!fixture_write_repo(root)) {
    perror("torture: temp repo");
    return 2;
  }
  int baseline = 0, failures = 0;
  int rc = review(root, &baseline);
  printf("%s torture/baseline\n", !rc && baseline > 0 ? "ok" : "FAIL");
  long n = first, runs = 0, errors = 0, tolerated = 0;
  for (; !rc; n += step, runs++) {
    fprintf(stderr, "torture: failing allocation %ld\n", n);
    qr_alloc_fail_after(n);
    int found = 0, r = review(root, &found);
    if (r == QR_OK && !fixture_failure_pending(n)) {
      if (found != baseline) { /* a failure was swallowed into a different result */
        failures++;
        fprintf(stderr, "torture: allocation %ld changed the result (%d findings, not %d)\n", n, found, baseline);
      }
      tolerated++;
      continue;
    }
    qr_alloc_fail_after(-1);
    if (r == QR_OK) break; /* nothing was injected: every allocation has been failed once */
    if (r != QR_E_NOMEM) errors++;
  }
  fprintf(stderr, "torture: %ld runs, %ld ended in other errors than QR_E_NOMEM, %ld tolerated\n",
          runs, errors, tolerated);
  printf("%s torture/every_allocation (%ld runs)\n", !rc && runs > 0 ? "ok" : "FAIL", runs);
  printf("%s torture/tolerated_failures_keep_the_result\n", failures ? "FAIL" : "ok");
  fixture_remove_repo(root);
  return rc || failures ? 1 : 0;
}
