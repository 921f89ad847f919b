/* review_internal.h — what the orchestrator's files share: the review object and its per-pass
 * and per-call state. Not part of review.h; only server/review/ includes it. review.c runs a
 * review; it calls review_prepare.c (everything built before the first request) and
 * review_result.c (the result JSON), which call nothing back. */
#ifndef QR_REVIEW_INTERNAL_H
#define QR_REVIEW_INTERNAL_H

#include "review/review.h"

#include <string.h>
#include <time.h>

#include "review/budget.h"
#include "store/cache.h"
#include "change/context.h"
#include "change/diff.h"
#include "change/generated.h"
#include "judge/findings.h"
#include "judge/judge.h"
#include "store/ledger.h"
#include "store/reserve.h"
#include "log.h"
#include "review/plan.h"
#include "review/prompt.h"
#include "review/request_key.h"
#include "providers/provider.h"
#include "local/redact.h"
#include "config/repo_config.h"
#include "local/rules.h"
#include "change/snapshot.h"
#include "local/tools.h"

#define DEFAULT_MAX_DIFF (64u << 20)
#define MAX_FILE_BYTES QR_REVIEW_MAX_FILE_BYTES
#define RELOCATE_WINDOW 5
#define MIN_CHUNK_TOKENS 256 /* context.c's smallest budget */

/* What one pass did over all its requests: a model pass (model × strategy), an analyzer
 * (tool pass) or the tree-sitter rule pack. */
typedef struct pass_state {
  char *model;        /* owned: the model alias, "tool:NAME" or "rules" */
  const char *strategy; /* borrowed: the strategy name, "analyzer" or "tree-sitter" */
  const char *tool;   /* borrowed: the analyzer's name for a tool pass, else NULL */
  bool local;         /* a tool or the rule pack: no model call */
  bool narrowed;      /* left out by the repository's .quorum.json */
  struct qr_review *review; /* back pointer for the analyzer callback */
  int requests, finished, failed;
  const char *status; /* "ok" | "partial" | "failed" | "timeout" | "skipped" (static) */
  char *error;        /* owned; the first failure's reason and message */
  uint64_t t_first, t_last;
  long input_tokens, output_tokens, cached_tokens;
  double cost_usd;
  int findings;
  qr_drops drops;     /* findings dropped, with the first reasons */
  int cached;         /* requests answered from the cache (no call made) */
  int twin;           /* 1 + the earlier pass sending byte-identical requests, or 0 */
  int usage_estimated; /* answers without usage, charged at their estimate */
  int not_needed;     /* adaptive plan: chunks the first wave settled for this pass */
} pass_state;

/* One in-flight provider call. */
typedef struct call_slot {
  qr_review *review;    /* set when the request is taken up (sent, answered or skipped) */
  size_t request;       /* index into plan->requests, or SIZE_MAX for the judge */
  struct qr_provider_call *call; /* NULL once finished */
  uint64_t t_start;
  bool ok;              /* the answer was parsed: this pass saw the chunk's files */
  bool failed;          /* the request failed, was not sent or was cut: no answer to read */
  int found;            /* findings of that answer kept by validation */
  double estimate;      /* budget held for the call */
  int recorded;         /* the last attempt the ledger holds (a retried one) */
  bool usage_estimated; /* the answer came without usage: charged at the estimate */
  uint64_t reservation; /* in the shared day budget (reserve.h), 0: none held */
  char key[QR_CACHE_KEY_SIZE]; /* cache key (request_key.h); "" for a judge without a cache */
} call_slot;

struct qr_review {
  uv_loop_t *loop;
  qr_http *http;
  const qr_config *cfg;
  char *root;
  qr_diff *diff;
  qr_snapshot *snap;
  char **omitted_snapshot;
  qr_context *ctx;
  qr_plan *plan;
  pass_state *passes;   /* the configured passes, then the rule pack when enabled */
  size_t n_passes;
  qr_rules *own_rules;  /* loaded here when the caller gave none; owned */
  qr_rules *rules;
  call_slot *slots;     /* one per plan request */
  size_t next, in_flight, finished;
  size_t tools_running; /* analyzer runs not yet done */
  size_t n_local;       /* local passes with something to look at */
  qr_tool_run **tool_runs; /* per pass, the running analyzer or NULL */
  qr_finding_list found; /* validated findings of every pass, one source each */
  bool canceled;
  bool allow_context;   /* from the params: findings may sit on unchanged lines */
  bool staged;          /* from the params: the change is the index's */
  uv_timer_t timer;     /* runs work on a later loop turn (start, finish after cancel) */
  uv_timer_t deadline;  /* limits.deadline_ms */
  int open_timers;      /* the review is freed when the last timer's close callback runs */
  bool started, cut;    /* cut: the deadline stopped what was still running */
  bool finishing;       /* the merge has begun: passes are over */
  bool judge_asked;     /* the model judge answered (or failed): it must be listed */
  int budget_stopped;   /* requests not sent because of a budget */
  bool second_wave;     /* adaptive plan: the first wave is over */
  bool *escalate;       /* adaptive plan: per chunk, whether the other passes review it; owned */
  qr_repo_config *repo; /* the repository's narrowing (.quorum.json); owned, never NULL after prepare */
  json_t *notes;        /* owned array: what the repository config said, files it excluded */
  json_t *problems;     /* owned array: usage overruns, stale files, for the result's errors */
  bool problems_lost;   /* one could not be recorded (out of memory): the result fails */
  qr_ledger *ledger;    /* owned; NULL when it could not be opened (logged) */
  qr_cache *cache;      /* owned; NULL when disabled or unavailable (logged) */
  qr_reserve *reserve;  /* owned; the shared day budget, NULL without max_usd_per_day */
  qr_budget budget;
  char review_id[QR_LEDGER_ID_SIZE];
  /* judge call */
  call_slot judge_slot;
  qr_finding_list merged;
  qr_finding_list shown; /* the findings qr_review_partial last listed; owned */
  qr_judge_coverage *cov; /* passes that read each snapshot file; owned, set by the merge */
  qr_judge_rejections rejected;
  json_t *judge_pass;   /* the judge's ledger entry, or NULL */
  char *judge_error;    /* owned; why the model judge's verdict was not used */
  qr_review_done_cb done;
  qr_review_progress_cb progress;
  void *data;
};

/* review_prepare.c: parses and narrows the change, reads the new side, leaves generated files
 * out, builds context, plan, passes, cache keys and accounting. Errors are input errors. */
int qr_review_prepare(qr_review *r, const qr_review_params *p, qr_err *e);

/* review_result.c: the result JSON documented in README (a new reference, NULL when out of
 * memory); *failed_all is set when every model pass failed. */
json_t *qr_review_build_result(qr_review *r, int *failed_all);

#endif
