/* review.h — one review, end to end, on the libuv loop: diff → snapshot → tree-sitter context →
 * plan (pass × chunk requests) → provider calls in parallel (up to limits.concurrency) →
 * findings parsed and validated → consensus merge → optional model judge → the result JSON.
 * Every surface (CLI, LSP `quorum/review`, editor diagnostics) drives this one engine. */
#ifndef QR_REVIEW_H
#define QR_REVIEW_H

#include <jansson.h>
#include <uv.h>

#include "common.h"
#include "config/config.h"
#include "providers/http.h"

typedef struct qr_review qr_review;

#define QR_REVIEW_MAX_FILE_BYTES (8u << 20) /* a larger file is omitted, not reviewed */

typedef struct qr_review_params {
  const char *diff;      /* unified diff text; borrowed for the duration of qr_review_start only */
  size_t diff_len;
  const char *root;      /* repository root the new side is read from; borrowed (copied) */
  const qr_config *config; /* borrowed: must outlive the review */
  size_t max_diff_bytes; /* 0: default 64 MiB */
  struct qr_rules *rules; /* borrowed (it compiles queries as languages come up), may be NULL:
                           * the review loads the configured pack */
  bool allow_context;    /* keep findings on unchanged lines of reviewed files (--context) */
  const char *repo_config_root; /* where .quorum.json is read (a trusted revision's copy);
                                   NULL: `root`; borrowed for qr_review_start only */
  struct qr_snapshot *snapshot; /* the new side when not the files under root (git's index, an
                                   editor buffer), or NULL; stolen by qr_review_start (also on
                                   error), with `omitted` (its "path: reason" list, may be NULL) */
  char **omitted;
  bool staged;           /* the change is the index's (git diff --cached): git attributes are
                            read from the index too, as the commit will have them */
} qr_review_params;

/* Called once when the review ends (also after qr_review_cancel). `result` is borrowed and
 * valid during the call: the JSON documented in README ("findings", "passes", "omitted_files",
 * "cost_usd", "degraded", …). status is 0, QR_E_CANCELED, or QR_E_PROVIDER when every pass
 * failed (result is still complete and says why). After the callback the review frees itself. */
typedef void (*qr_review_done_cb)(qr_review *r, int status, json_t *result, void *data);
/* Called after the local passes, each analyzer and each request finish: `done` of `total`
 * requests, cost so far. May be NULL. */
typedef void (*qr_review_progress_cb)(qr_review *r, int done, int total, double cost_usd,
                                      void *data);

/* Starts a review. Input errors (bad diff, no passes) return QR_E_* with `e` set and never call
 * `done`. On success *out (may be NULL) is a handle valid until `done` runs. */
int qr_review_start(uv_loop_t *loop, qr_http *http, const qr_review_params *p,
                    qr_review_done_cb done, qr_review_progress_cb progress, void *data,
                    qr_review **out, qr_err *e);
/* The review so far, for progressive results: a new result object shaped like the final one
 * (README: Output) plus "provisional": true — "findings" is the consensus merge of everything
 * validated so far (no model judge yet; every finding an earlier call listed stays listed, with
 * votes that only grow, see qr_judge_carry), "passes" lists those still waiting with status
 * "running". Meant for the progress callback (it is called after the rule pack, each analyzer
 * and each request); costs one merge per call. NULL when out of memory or once the final merge
 * has begun. */
json_t *qr_review_partial(qr_review *r);
/* Aborts the review's transfers; `done` follows with QR_E_CANCELED and a partial result. */
void qr_review_cancel(qr_review *r);
/* The new-side text the review read for `path` — the text its findings' lines count in — or
 * NULL when it read none. Borrowed, valid until `done` returns. */
const struct qr_snapshot_file *qr_review_file(const qr_review *r, const char *path);

#endif
