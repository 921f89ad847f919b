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

#include "lsp/document.h"

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
 * data = {fingerprint, votes, confidence, sources}. A finding with "provisional": true (the
 * consensus so far, before the final merge and the judge) says so in the message — "(1/3
 * passes, provisional)" — and in data.provisional. The engine's findings carry one span each
 * (sources name only model and strategy), so the one other place a finding can point at is
 * its fix: when the fix covers other lines than the finding, relatedInformation holds that
 * span of `uri`. uri NULL (a client without relatedInformation support) leaves it out.
 * New reference; NULL when the finding lacks lines or a message, or when out of memory. */
json_t *qr_diagnostics_from_finding(const json_t *finding, const char *uri, const char *text,
                                    size_t len, qr_pos_encoding enc);

/* A finding's fix ({start_line, end_line, replacement}, borrowed) → a TextEdit replacing those
 * whole lines of text, line breaks included, so applying it yields the patched file. New
 * reference; NULL when the fix is malformed, its lines are outside the text, or out of memory. */
json_t *qr_diagnostics_fix_edit(const json_t *fix, const char *text, size_t len,
                                qr_pos_encoding enc);

/* True when the 0-based line span [a0, a1] of `range` (an LSP Range, borrowed) overlaps lines
 * [b0, b1]. Code actions use it to find the findings under the cursor. */
bool qr_diagnostics_range_hits(const json_t *range, int b0, int b1);

/* ---- following edits -------------------------------------------------------------------------
 * Findings published for one version are carried to the next by the lines each change touched:
 * a finding on untouched lines moves with the lines above it, one on a touched line is dropped
 * (its code changed; the next review decides about it). */

/* What one change did to the lines of the text before it: 0-based lines [first, last] had their
 * content replaced (last == first - 1 when only whole lines were inserted before `first`), and
 * every line after `last` moved by `delta`. */
typedef struct qr_line_edit {
  int first, last, delta;
} qr_line_edit;

/* An incremental change {range, text} of didChange (borrowed) → its line edit. A change that
 * replaces whole lines (both ends at column 0, text empty or ending in a line break) leaves the
 * line at its end untouched. Line breaks are "\n", "\r\n" or "\r", as document.h counts them.
 * False when the change has no range (a full replacement) or a malformed one. */
bool qr_diagnostics_change_edit(const json_t *change, qr_line_edit *out);

/* A full replacement old → new as one line edit: the lines between their common leading and
 * trailing lines (compared without their line breaks) are the touched ones. QR_E_NOMEM when
 * out of memory. */
int qr_diagnostics_text_edit(const char *old_text, size_t old_len, const char *new_text,
                             size_t new_len, qr_line_edit *out);

/* Moves the findings (an array of the engine's finding objects, edited in place) across e:
 * start_line/end_line shift; a finding whose lines e touched is removed; a fix whose lines e
 * touched is removed from its finding, else shifted too. Returns how many findings moved or
 * were removed (0: the published diagnostics still stand). */
int qr_diagnostics_move(json_t *findings, const qr_line_edit *e);

#endif
