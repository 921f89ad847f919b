/* judge.h — one finding per real problem. The consensus merge clusters the validated findings
 * of all passes (same file, lines within ±1, and the same problem judged from the text), counts
 * distinct passes as votes, keeps the best fix that still parses, and gives each result a
 * confidence and a line-independent fingerprint. The optional model judge then sees the clusters
 * anonymised and shuffled, and may reject them or adjust severity/message — never add findings.
 * The model call itself is made by the review orchestrator through a provider. */
#ifndef QR_JUDGE_H
#define QR_JUDGE_H

#include <stddef.h>
#include <stdint.h>

#include "common.h"
#include "judge/findings.h"
#include "review/prompt.h"
#include "change/snapshot.h"

typedef struct qr_judge_options {
  int min_votes;         /* drop clusters with fewer distinct passes (<= 1: keep all) */
  double min_confidence; /* drop clusters below this confidence */
  int max_findings;      /* keep at most this many, highest severity × confidence first (<= 0: all) */
} qr_judge_options;

/* How many passes reviewed code of `file` (the denominator of a cluster's agreement). Files not
 * listed count as seen by every pass that appears in the input. Borrowed. */
typedef struct qr_judge_coverage {
  const char *file;
  int passes;
} qr_judge_coverage;

/* Merges `in` (validated findings, each with its source(s)) into `out` (appended; the caller
 * owns it): one finding per problem with sources, votes, models, confidence, fingerprint and the
 * best valid fix, filtered by `o` (NULL: defaults) and sorted by file then line. `snap` supplies
 * the code for fingerprints and fix checks (files missing from it get no fix). `in` is not
 * modified. On error `out` is as it was. O(n log n) time and O(n) memory: each finding is
 * compared with at most 64 findings starting at or after its first line (more only in a
 * pile-up of that many on a few lines), and a cluster's message is chosen among its first 64
 * members. QR_E_TOOBIG above 250,000 findings. */
int qr_judge_consensus(const qr_finding_list *in, const qr_snapshot *snap,
                       const qr_judge_coverage *cov, size_t n_cov, const qr_judge_options *o,
                       qr_finding_list *out, qr_err *e);

/* Progressive results: appends to `now` (a later consensus of the same review) a copy of each
 * finding of `before` (an earlier one) that no finding of `now` carries on — same file, lines
 * within ±1, every source (pass and model) of the earlier finding among the later one's. So a
 * finding once shown stays shown and its votes never drop while more passes answer.
 * QR_E_NOMEM (then `now` may hold part of the copies). */
int qr_judge_carry(const qr_finding_list *before, qr_finding_list *now);

/* Drops (clears) the findings of `l` with fewer than `min_votes` votes, keeping the order: the
 * review applies judge.min_votes after the model judge, whose same_as may fold 1-vote clusters
 * into one finding of more votes. */
void qr_judge_keep_votes(qr_finding_list *l, int min_votes);

/* True when `fix` applies to `file` (its lines exist) and the patched text parses without more
 * ERROR/MISSING nodes than the current text. Files without a grammar only get the range check. */
bool qr_judge_fix_valid(const qr_snapshot_file *file, const qr_fix *fix);

/* Findings the model judge rejected, each with the judge's reason. */
typedef struct qr_judge_rejection {
  qr_finding finding; /* owned */
  char *reason;       /* owned, never NULL */
} qr_judge_rejection;

typedef struct qr_judge_rejections {
  qr_judge_rejection *items; /* owned */
  size_t n, alloc;
} qr_judge_rejections;

void qr_judge_rejections_init(qr_judge_rejections *r);
void qr_judge_rejections_free(qr_judge_rejections *r); /* frees every entry and the array */

/* Builds the judge request for `clusters` (the consensus output): the system prompt (an
 * impartial verifier that cannot add findings), and a user part listing each cluster as JSON
 * data — id "cN" (N = its 1-based index in `clusters`), file, lines, severity, category, message
 * and the code lines it points at — anonymised (no models) and in an order shuffled by `seed`.
 * The schema (strict: every property required, the optional ones null) is
 * {"verdicts":[{"id","keep","severity","message","same_as","reason"}]}. `out` is filled
 * (free with qr_prompt_clear); QR_E_TOOBIG when the request would exceed its cap. */
int qr_judge_build_prompt(const qr_finding_list *clusters, const qr_snapshot *snap, uint64_t seed,
                          qr_prompt *out, qr_err *e);

/* Applies the judge's answer (fences/prose tolerated): keep=false moves the cluster from
 * `clusters` to `rejected` with its reason; a valid severity or message replaces the cluster's;
 * "same_as": "cK" on a kept cluster links it with cluster K: each link within reach joins the
 * two clusters' groups (a chain or a cycle is one group) and each group folds into one finding —
 * its member that names no other (in a cycle, the first) — its sources the union of all,
 * votes and models recounted from distinct passes, its lines covering all, the higher severity
 * and confidence, the members of all in its "merge" (the folded representatives joined through
 * the judge's link) and each decision, naming the pair the judge gave, under "merge"."judge".
 * A same_as between different files, or lines more than QR_JUDGE_SAME_AS_LINES apart, is
 * refused (that link alone) and said in both findings' "judge" notes.
 * Unknown or repeated ids are ignored (the first verdict counts). A garbage answer — no
 * {"verdicts": […]}, or an entry without a string id and a boolean keep — is QR_E_PARSE and
 * nothing changes; QR_E_NOMEM may leave same_as links half applied (no finding is lost). */
#define QR_JUDGE_SAME_AS_LINES 30
int qr_judge_apply(qr_finding_list *clusters, const char *answer, size_t len,
                   qr_judge_rejections *rejected, qr_err *e);

#endif
