/* findings.h — what review passes report: parsing a model's answer into findings,
 * validating them against the diff and the code, relocating by evidence.
 *
 * The model output contract (1-based lines of the new file; a fix replaces whole lines):
 * {"findings":[{"file","start_line","end_line","severity":"error|warning|info|hint",
 *   "category","message","evidence"?,"fix"?:{"start_line","end_line","replacement"}}]} */
#ifndef QR_FINDINGS_H
#define QR_FINDINGS_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "common.h"
#include "change/diff.h"
#include "change/snapshot.h"

typedef enum { QR_SEV_HINT = 1, QR_SEV_INFO, QR_SEV_WARNING, QR_SEV_ERROR } qr_severity;

/* "error" → QR_SEV_ERROR …; 0 when unknown. */
qr_severity qr_severity_parse(const char *s);
/* As written by a model: case-insensitive, surrounding blanks ignored, and the usual synonyms
 * (critical/blocker/high → error, major/medium/moderate → warning, minor/low → info,
 * nit/trivial/style → hint); 0 when still unknown. */
qr_severity qr_severity_parse_model(const char *s);
const char *qr_severity_name(qr_severity s);

typedef struct qr_fix {
  int start_line, end_line; /* whole lines replaced, 1-based inclusive */
  char *replacement;        /* owned; "" deletes the lines */
} qr_fix;

typedef struct qr_source {
  char *model;    /* owned; the model alias (or "tool:NAME"/"rule:ID" for local passes) */
  char *strategy; /* owned */
  int pass;       /* index of the pass in the review's plan */
} qr_source;

typedef struct qr_finding {
  char *file;      /* owned */
  int start_line, end_line;
  qr_severity severity;
  char *category;  /* owned, never NULL ("" when absent) */
  char *message;   /* owned, never NULL */
  char *evidence;  /* owned, NULL when absent */
  char *rule;      /* owned, NULL when none: the kind of problem, stable across reviews — a rule
                    * pack id ("c-gets"), an analyzer's code ("cppcheck/arrayIndexOutOfBounds",
                    * "shellcheck/SC2086", "pyflakes/F401"), or for merged findings without one
                    * the judge's problem class ("quorum/bounds") or category ("quorum/security") */
  qr_fix *fix;     /* owned, NULL when absent or invalid */
  bool evidence_matched; /* evidence was found verbatim in the code at (or moved to) these lines */
  bool relocated;        /* validation moved it to where its evidence is */
  /* Filled by the merge (judge): */
  qr_source *sources; /* owned array */
  size_t n_sources;
  int votes;          /* distinct passes */
  int models;         /* distinct models */
  double confidence;  /* [0,1] */
  char fingerprint[17]; /* 16 hex digits + NUL */
  json_t *merge;      /* owned reference, NULL when none: how the merge built this finding
                       * ({"members":[…], "judge":[…]}, see judge.h) */
} qr_finding;

typedef struct qr_finding_list {
  qr_finding *items; /* owned */
  size_t n, alloc;
} qr_finding_list;

void qr_finding_list_init(qr_finding_list *l);
void qr_finding_list_free(qr_finding_list *l);  /* frees every finding and the array */
/* Appends a copy of `f` that steals f's owned pointers (f is zeroed). */
int qr_finding_list_push(qr_finding_list *l, qr_finding *f);
void qr_finding_clear(qr_finding *f); /* frees f's owned members */
int qr_finding_copy(qr_finding *dst, const qr_finding *src); /* deep copy */
int qr_finding_add_source(qr_finding *f, const char *model, const char *strategy, int pass);
/* Adds the sources of `from` whose pass `into` lacks, then sets into's votes (distinct passes)
 * and models (distinct models) from its sources. QR_E_NOMEM leaves into's sources valid. */
int qr_finding_add_sources(qr_finding *into, const qr_finding *from);

#define QR_FINDINGS_MAX_PER_ANSWER 200
/* Why a pass's findings were dropped: every drop is counted, the first QR_DROPS_KEPT keep their
 * reason. Each drop is also logged at info level (`-v`), naming the pass. */
#define QR_DROPS_KEPT 20
typedef struct qr_drop {
  char *file;   /* owned; as the model wrote it (control characters removed), NULL when absent */
  int line;     /* the finding's start line, 0 when unknown */
  char *reason; /* owned; "file not in the change", "unknown severity \"urgent\"", … */
} qr_drop;
typedef struct qr_drops {
  const char *model, *strategy; /* borrowed, may be NULL: the pass, for the log */
  qr_drop items[QR_DROPS_KEPT];
  size_t n;        /* reasons kept, at most QR_DROPS_KEPT */
  int total;       /* findings dropped in all */
  int cut;         /* findings over QR_FINDINGS_MAX_PER_ANSWER in one answer, the least severe,
                      left out (not in total: they were fine, just too many) */
} qr_drops;
void qr_drops_free(qr_drops *d); /* frees the reasons and zeroes the counts; the names stay */

/* Parses a model's answer: the JSON may be wrapped in code fences or prose, and may be a
 * {"findings": […]} object or a bare list of finding objects. Reasoning before the answer
 * (<think>…</think>, <thinking>…</thinking>) is skipped; several answer objects (fenced ones,
 * else bare ones) are all read, in order. Trailing commas are tolerated
 * and a duplicated key keeps its last value. Returns QR_E_PARSE (with `e` saying why) when no
 * complete answer is present — a truncated or malformed answer is never turned into partial
 * findings. Lenient where it is unambiguous: severities as qr_severity_parse_model, line numbers
 * as numeric strings or "12-14", null members as absent, a missing category → "general".
 * Entries that still do not fit are skipped and noted in `drops` (may be NULL). Of an answer
 * with more than QR_FINDINGS_MAX_PER_ANSWER findings the most severe are kept, the rest counted
 * in drops->cut. Appends to
 * `out`; each finding gets one source (model, strategy, pass); `file` is kept as written
 * (qr_findings_validate resolves it). */
int qr_findings_parse(const char *text, size_t len, const char *model, const char *strategy,
                      int pass, qr_finding_list *out, qr_drops *drops, qr_err *e);

/* Finds, in a model's answer after any leading reasoning block (<think>…</think>; one that
 * never closes is QR_E_PARSE), the first JSON object holding an array under `key`: the whole
 * text, else a ``` fenced block, else a balanced {…} (also one level inside such an object).
 * Answers longer than QR_FINDINGS_MAX_ANSWER are QR_E_TOOBIG. On success *out is a new
 * reference (json_decref it); otherwise QR_E_PARSE with `e` saying why (truncated, no object…).
 * Shared by the findings parser and the judge's verdict parser. */
#define QR_FINDINGS_MAX_ANSWER (4u << 20)
int qr_findings_extract_json(const char *text, size_t len, const char *key, json_t **out,
                             qr_err *e);

/* A copy of model-written text fit for display: tabs and newlines become spaces, other control
 * characters are removed, surrounding blanks trimmed. New string (qr_free), NULL when out of memory. */
char *qr_findings_clean_text(const char *s);

/* Keeps the findings that can be placed in the diff: the file is in the diff and in the
 * snapshot, lines are in range and (unless `allow_context`) touch a hunk of the new side.
 * The file is first resolved to a file of the change: backslashes become slashes, and a leading
 * `root` (the repository's absolute path, may be NULL), "./" or "/" and a git "a/" or "b/"
 * prefix are removed; failing an exact match, a unique suffix match at a "/" resolves (either
 * way: "buffer.c" → "src/buffer.c", "/elsewhere/src/buffer.c" → "src/buffer.c").
 * When the lines are off but the evidence is found verbatim within `window` lines (or, failing
 * that, anywhere in the changed hunks of that file), the finding is moved there. Fixes whose
 * range is invalid are removed (the finding stays). Each drop is noted in `drops` (may be
 * NULL). Returns the number dropped, or QR_E_NOMEM
 * when a finding could not be checked for lack of memory (it is dropped, never kept unchecked). */
int qr_findings_validate(qr_finding_list *l, const qr_diff *diff, const qr_snapshot *snap,
                         const char *root, bool allow_context, int window, qr_drops *drops);

#endif
