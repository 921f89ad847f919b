/* output.h — renders a review result (the JSON built by review.c) for people and tools.
 *
 * Formats: text (gcc style, optional colour), json (the result itself), sarif (SARIF 2.1.0),
 * jsonl (a stream for bots: the CLI prints one {"event": "pass"} line per finished pass while
 * the review runs, and this module the closing {"event": "result", "result": …} line),
 * rdjsonl and rdjson (reviewdog), gitlab (Code Quality), checks (GitHub check-run outputs of
 * at most 50 annotations each) and github (a pull-request review payload whose comments sit
 * on the diff's right side). text and json live in output.c, the CI formats in outputs_ci.c,
 * the GitHub review payload and the pull-request summary in outputs_github.c; the helpers they
 * share are in output_common.h.
 *
 * Every builder takes the result borrowed and returns a new jansson reference (NULL when out
 * of memory); the caller json_decref()s it. */
#ifndef QR_OUTPUT_H
#define QR_OUTPUT_H

#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>

#include "change/diff.h"
#include "judge/findings.h"
#include "output/output_common.h" /* the helpers the formats share, qr_output_max_severity */

typedef enum {
  QR_FORMAT_TEXT = 0,
  QR_FORMAT_JSON,
  QR_FORMAT_SARIF,
  QR_FORMAT_RDJSONL,
  QR_FORMAT_RDJSON,
  QR_FORMAT_GITLAB,
  QR_FORMAT_CHECKS,
  QR_FORMAT_GITHUB,
  QR_FORMAT_JSONL,
} qr_format;

/* The format named `name` in *out; QR_E_INVAL when unknown. */
int qr_format_parse(const char *name, qr_format *out);
/* "text|json|sarif|…": every format name, for usage messages. */
extern const char qr_format_names[];

typedef struct qr_output_opts {
  bool color;               /* text: ANSI colours */
  const qr_diff *diff;      /* github: the reviewed diff; required for that format */
  const char *tool_version; /* sarif driver version; NULL leaves it out */
} qr_output_opts;

/* Writes `result` in format `fmt` to `out`: QR_E_IO on a write error, QR_E_INVAL for github
 * without a diff, QR_E_NOMEM. */
int qr_output_write(FILE *out, qr_format fmt, const json_t *result, const qr_output_opts *o);

/* `file:line:col: severity: message [category, votes/seen]` lines, then a summary line
 * (findings by severity, passes ok/total, cost, omitted files, degraded reasons). */
int qr_output_text(FILE *out, const json_t *result, bool color);
/* The result as indented JSON. */
int qr_output_json(FILE *out, const json_t *result);
/* A copy of `result` (new reference) without the findings whose confidence is below `min`. */
json_t *qr_output_filter(const json_t *result, double min_confidence);

/* ---- CI formats (outputs_ci.c) ---------------------------------------------------------- */

/* SARIF 2.1.0 log: one run, one rule per category, a result per finding with level, message,
 * location, partialFingerprints, fixes and votes/confidence/sources in properties. */
json_t *qr_output_sarif(const json_t *result, const char *tool_version);
/* reviewdog Diagnostic objects (rdjsonl prints one per line). New array. */
json_t *qr_output_rdjson_diagnostics(const json_t *result);
/* reviewdog DiagnosticResult: {"source": {"name": "quorum"}, "severity"?, "diagnostics": […]}. */
json_t *qr_output_rdjson(const json_t *result);
/* GitLab Code Quality report: an array of issues with unique fingerprints. */
json_t *qr_output_gitlab(const json_t *result);

/* GitHub check-run `output` objects ({title, summary, annotations}), the annotations cut into
 * batches of QR_CHECKS_BATCH: the first creates the run, each further one updates it. */
#define QR_CHECKS_BATCH 50
json_t *qr_output_checks(const json_t *result);
/* "failure" when a finding reaches `fail_on` (0: never), "neutral" when there are findings,
 * else "success". Static string. */
const char *qr_output_checks_conclusion(const json_t *result, qr_severity fail_on);

/* ---- GitHub pull-request review (outputs_github.c) -------------------------------------- */

/* Each posted comment carries this hidden marker; re-runs recognise what they posted. */
#define QR_FP_MARKER_PREFIX "<!-- quorum:fp="
/* The pull request's summary comment starts with this marker. */
#define QR_SUMMARY_MARKER "<!-- quorum:summary -->"

/* The review payload {"body", "event": "COMMENT", "comments": [{path, line, side: "RIGHT",
 * start_line?, start_side?, body}]}. A finding is commented inline only when its lines lie in
 * one hunk of the right side of `diff`; a fix whose lines do becomes a ```suggestion block.
 * The rest are listed in the body. Findings whose fingerprint is a key of `seen` (an object,
 * borrowed, may be NULL) are left out; *n_new (may be NULL) counts the findings included. */
json_t *qr_output_github(const json_t *result, const qr_diff *diff, const json_t *seen,
                         size_t *n_new);
/* Adds to the object `seen` (as keys with value true) every fingerprint marker in `body`.
 * Returns QR_OK or QR_E_NOMEM. */
int qr_output_github_seen(const char *body, json_t *seen);
/* The Markdown summary comment (new string, qr_free; NULL when out of memory): counts by
 * severity, passes, cost, and every file not reviewed — the result's omitted_files and the
 * `skipped` array (borrowed, may be NULL) of {"file", "reason"} objects — and the notes
 * (repository config, a pull request that changes it). */
char *qr_output_github_summary(const json_t *result, const json_t *skipped);

#endif
