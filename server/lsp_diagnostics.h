/* lsp_diagnostics.h — a review result (the engine's JSON) turned into what an editor shows:
 * LSP Diagnostics with ranges in the negotiated position encoding, and TextEdits for fixes.
 * Pure functions over text and JSON (no I/O), so the editor surfaces and the tests share them.
 *
 * Lines in findings are 1-based lines of the file's text; LSP positions are 0-based and
 * counted in UTF-16 or UTF-8 code units (document.h maps them). */
#ifndef QR_LSP_DIAGNOSTICS_H
#define QR_LSP_DIAGNOSTICS_H

#include <jansson.h>
#include <stddef.h>

#include "document.h"

/* Confidence at or above which a fix is offered as the preferred quick fix. */
#define QR_DIAGNOSTICS_HIGH_CONFIDENCE 0.7

/* The LSP Range covering lines [start_line, end_line] (1-based, clamped to the text) from the
 * first to just past the last non-blank character; an all-blank span covers its first line
 * start. New reference, NULL when out of memory. */
json_t *qr_diagnostics_range(const char *text, size_t len, qr_pos_encoding enc, int start_line,
                             int end_line);

/* One finding of the result (borrowed) → a Diagnostic: range as above, severity 1–4,
 * source "quorum", code = category, message ending in "(votes/seen passes)" — seen: the
 * passes that read the finding's file, from the engine's "seen",
 * data = {fingerprint, votes, confidence, sources}. New reference; NULL when the finding lacks
 * lines or a message, or when out of memory. */
json_t *qr_diagnostics_from_finding(const json_t *finding, const char *text, size_t len,
                                    qr_pos_encoding enc);

/* A finding's fix ({start_line, end_line, replacement}, borrowed) → a TextEdit replacing those
 * whole lines of text, line breaks included, so applying it yields the patched file. New
 * reference; NULL when the fix is malformed, its lines are outside the text, or out of memory. */
json_t *qr_diagnostics_fix_edit(const json_t *fix, const char *text, size_t len,
                                qr_pos_encoding enc);

/* True when the 0-based line span [a0, a1] of `range` (an LSP Range, borrowed) overlaps lines
 * [b0, b1]. Code actions use it to find the findings under the cursor. */
bool qr_diagnostics_range_hits(const json_t *range, int b0, int b1);

#endif
