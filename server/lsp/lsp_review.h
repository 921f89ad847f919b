/* lsp_review.h — reviews in the editor: what triggers a review (didSave after a debounce, or a
 * command), what is reviewed (the document's changes against git HEAD; an untracked file or one
 * outside any repository whole), and how results come back: publishDiagnostics for the current
 * document version only, code actions (fix, Dismiss, Explain), work-done progress,
 * cancellation, the workspace/executeCommand commands and the custom request `quorum/review`
 * ({diff?, root, base?, staged?} → the engine's result JSON) that the CLI and bots use.
 *
 * Usage (main.c): after qr_server_init, qr_lsp_review_new(&s, &opts, &lr, &e) registers the
 * review handlers and qr_lsp_actions_register(lr) (lsp_actions.h) the code actions and
 * commands; after the loop has stopped, qr_lsp_review_close(lr) *before* qr_server_dispose, then run the loop until it is empty so canceled reviews can finish. */
#ifndef QR_LSP_REVIEW_H
#define QR_LSP_REVIEW_H

#include "common.h"
#include "lsp/lsp.h"

#define QR_LSP_REVIEW_DEFAULT_DEBOUNCE_MS 1000
#define QR_LSP_REVIEW_MAX_DIFF ((size_t)64 << 20) /* cap on git output for one review */

typedef struct qr_lsp_review qr_lsp_review;

typedef struct qr_lsp_review_options {
  const char *config_path; /* --config; NULL: $QUORUM_CONFIG, then the user config. Copied. */
} qr_lsp_review_options;

/* Registers the review handlers on s (which must outlive it); the code actions and commands are
 * registered by qr_lsp_actions_register. *out is new; release it with qr_lsp_review_close.
 * The configuration is loaded when the client sends `initialized`. */
int qr_lsp_review_new(qr_server *s, const qr_lsp_review_options *o, qr_lsp_review **out,
                      qr_err *e);
/* Cancels every review and debounce timer and stops talking to the client (requests in flight
 * are left to qr_server_dispose). The memory is freed once the last review has finished and the
 * last handle has closed, so run the loop afterwards. NULL is ok. */
void qr_lsp_review_close(qr_lsp_review *lr);

#endif
