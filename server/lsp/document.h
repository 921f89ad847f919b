/* document.h — the editor's open documents: text, version, language, position mapping
 * between LSP positions (UTF-16 or UTF-8 code units) and byte offsets, and a tree-sitter tree
 * kept up to date incrementally (ts_tree_edit + reparse) for documents of a known language.
 *
 * Positions: LSP lines are split on "\n", "\r\n" or "\r"; a character offset past the end of a
 * line clamps to the line's end (before its line break); a line past the end clamps to the end
 * of the text. A UTF-16 offset that falls inside a surrogate pair rounds down to the character's
 * start. Invalid UTF-8 bytes count as one code unit each. */
#ifndef QR_DOCUMENT_H
#define QR_DOCUMENT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <tree_sitter/api.h>

#include "common.h"
#include "change/languages.h"

typedef enum { QR_ENC_UTF16 = 0, QR_ENC_UTF8 } qr_pos_encoding;

typedef struct qr_document {
  char *uri;                  /* owned */
  char *language_id;          /* owned, as the client sent it */
  const qr_language *lang;    /* NULL when no bundled grammar fits; borrowed static */
  int version;
  char *text;                 /* owned, NUL-terminated */
  size_t len;
  TSTree *tree;               /* owned; NULL when lang is NULL */
} qr_document;

typedef struct qr_docs qr_docs; /* opaque store keyed by URI */

/* A new empty store; `max_doc_bytes` caps each document (didOpen or a change that would
 * exceed it fails with QR_E_TOOBIG and leaves the document as it was). Free with qr_docs_free. */
qr_docs *qr_docs_new(qr_pos_encoding enc, size_t max_doc_bytes);
void qr_docs_free(qr_docs *s);
void qr_docs_set_encoding(qr_docs *s, qr_pos_encoding enc);
qr_pos_encoding qr_docs_encoding(const qr_docs *s);

/* didOpen: copies `text`. Re-opening a URI replaces it. */
int qr_docs_open(qr_docs *s, const char *uri, const char *language_id, int version,
                 const char *text, size_t len, qr_err *e);
/* didChange: `changes` (borrowed) is the LSP contentChanges array — each either
 * {"text"} (full replacement) or {"range":{start,end},"text"} (incremental), applied in order.
 * All-or-nothing: on error the document is unchanged. */
int qr_docs_change(qr_docs *s, const char *uri, int version, const json_t *changes, qr_err *e);
/* didClose: QR_E_NOTFOUND when not open. */
int qr_docs_close(qr_docs *s, const char *uri);
/* The open document, or NULL. Borrowed: valid until the next call that changes the store. */
qr_document *qr_docs_get(qr_docs *s, const char *uri);
/* Calls fn for every open document. */
void qr_docs_each(qr_docs *s, void (*fn)(qr_document *d, void *data), void *data);

/* LSP position → byte offset in d->text (clamped as described above). Only for documents
 * that belong to a store (they use its line index); for any other text use qr_text_*. */
size_t qr_doc_offset(const qr_document *d, qr_pos_encoding enc, int line, int character);
/* Byte offset → LSP position (offset clamped to d->len). */
void qr_doc_position(const qr_document *d, qr_pos_encoding enc, size_t offset, int *line,
                     int *character);
/* The same two mappings on any text (used for files that are not open). */
size_t qr_text_offset(const char *text, size_t len, qr_pos_encoding enc, int line, int character);
void qr_text_position(const char *text, size_t len, qr_pos_encoding enc, size_t offset, int *line,
                      int *character);

#endif
