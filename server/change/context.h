/* context.h — the code a review pass sees: for every changed file, the smallest enclosing
 * definitions (functions, methods, classes, …, found with tree-sitter) around the added lines,
 * rendered with new-file line numbers and packed into chunks that fit a token budget.
 *
 * Rendering (documented to the model in prompt.c):
 *   ### FILE path (language)
 *   lines A-B (function_definition name)     -- a region; no "(…)" for top-level code
 *     12 | unchanged line                     -- 1-based new-file line number, width >= 4
 *     13+| added line                         -- '+' marks lines the diff added
 * Every changed file is either rendered or named in `omitted` with a reason; nothing is
 * silently dropped. A line longer than a quarter of the budget is cut with a visible marker.
 * Secrets are redacted (redact.h) before anything is rendered: the chunks never hold one. */
#ifndef QR_CONTEXT_H
#define QR_CONTEXT_H

#include <stddef.h>

#include "common.h"
#include "change/diff.h"
#include "local/redact.h"
#include "change/snapshot.h"

typedef struct qr_context_chunk {
  char *text;     /* rendered code; owned */
  char **files;   /* paths rendered in this chunk, in order, each once; owned */
  size_t n_files;
  int est_tokens; /* qr_estimate_tokens(text) */
} qr_context_chunk;

/* The reason for a file the snapshot has no text for (the snapshot's list says why). */
#define QR_CONTEXT_NO_TEXT "no text in the snapshot"

typedef struct qr_context {
  qr_context_chunk *chunks; /* owned */
  size_t n_chunks;
  char **omitted;           /* "path: reason"; owned */
  size_t n_omitted;
  int redactions;           /* secrets replaced by placeholders in the rendered files */
  int redactions_by_rule[QR_SECRET_N_RULES]; /* the same, per rule (qr_redact_rule_id) */
} qr_context;

/* Builds the chunks for every file of `d`, reading code from `s`. Each chunk's text is at most
 * max_tokens_per_chunk by qr_estimate_tokens (>= 256; the budget covers the code only, not the
 * system prompt or instructions). *out is new; free with qr_context_free. */
int qr_context_build(const qr_diff *d, const qr_snapshot *s, int max_tokens_per_chunk,
                     qr_context **out, qr_err *e);
void qr_context_free(qr_context *c); /* NULL is a no-op */

/* Whether chunk ch shows any of lines start..end of `file` (read from its rendered headers). */
bool qr_context_chunk_shows(const qr_context_chunk *ch, const char *file, int start, int end);

/* A deliberately simple, tokenizer-free estimate: ceil(len / 4). Typical BPE tokenizers give
 * 3.5–4.5 bytes per token on source code, so budgets should keep some headroom. */
int qr_estimate_tokens(const char *text, size_t len);

#endif
