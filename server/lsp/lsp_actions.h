/* lsp_actions.h — what the editor can do with published findings (code actions, resolve and
 * workspace/executeCommand), on top of the reviews of lsp_review.h: the actions call the
 * reviews, never the other way. */
#ifndef QR_LSP_ACTIONS_H
#define QR_LSP_ACTIONS_H

#include "lsp/lsp_review.h"

/* Adds codeActionProvider and executeCommandProvider to the server's capabilities and registers
 * textDocument/codeAction, codeAction/resolve and workspace/executeCommand on lr's server.
 * Call it right after qr_lsp_review_new, before the server starts: 0 or QR_E_NOMEM. */
int qr_lsp_actions_register(qr_lsp_review *lr);

#endif
