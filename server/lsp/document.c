/* document.c — the store of open documents (didOpen/didChange/didClose), LSP position ↔ byte
 * offset mapping, and tree-sitter trees kept current by editing the old tree and reparsing.
 *
 * Each document keeps a line-start index (rebuilt after every change) so mapping a position
 * costs a binary search plus a walk along one line, not a rescan of the text. Changes are
 * applied to a working copy (new text, new index, a ts_tree_copy of the tree) that replaces
 * the document only when every change in the notification succeeded. Several incremental
 * changes are recorded with ts_tree_edit one after another and reparsed once at the end.
 *
 * A character offset that falls inside a character (a UTF-16 offset between the halves of a
 * surrogate pair, or a UTF-8 offset inside a multi-byte sequence) rounds down to its start. */
#include "lsp/document.h"

#include <limits.h>
#include <string.h>

#include "log.h"

/* Byte offsets where each LSP line starts; starts[0] is 0, n >= 1. */
typedef struct line_index {
  size_t *starts;
  size_t n;
} line_index;

/* The store's private view of a document; `pub` comes first so the public pointer handed
 * out by qr_docs_get converts back. */
typedef struct doc {
  qr_document pub;
  line_index lines;
} doc;

struct qr_docs {
  doc **docs; /* sorted by uri for binary search */
  size_t count, alloc;
  qr_pos_encoding enc;
  size_t max_doc_bytes;
  TSParser *parser; /* one for the store; its language is set before each parse */
};

/* ---- UTF-8 / line-break scanning ----------------------------------------------------------- */

/* Length of the well-formed UTF-8 sequence at p, or 1 for a byte that does not start one
 * (so invalid bytes count as one code unit each). */
static size_t seq_len(const unsigned char *p, size_t avail) {
  unsigned c = p[0], lo = 0x80, hi = 0xBF;
  size_t n;
  if (c < 0x80) return 1;
  if (c >= 0xC2 && c <= 0xDF) {
    n = 2;
  } else if (c >= 0xE0 && c <= 0xEF) {
    n = 3;
    if (c == 0xE0) lo = 0xA0;      /* overlong */
    else if (c == 0xED) hi = 0x9F; /* UTF-16 surrogates */
  } else if (c >= 0xF0 && c <= 0xF4) {
    n = 4;
    if (c == 0xF0) lo = 0x90;      /* overlong */
    else if (c == 0xF4) hi = 0x8F; /* past U+10FFFF */
  } else {
    return 1;
  }
  if (avail < n || p[1] < lo || p[1] > hi) return 1;
  for (size_t i = 2; i < n; i++)
    if ((p[i] & 0xC0) != 0x80) return 1;
  return n;
}

/* Code units a sequence of n bytes counts for: astral characters are surrogate pairs. */
static size_t seq_units(size_t n, qr_pos_encoding enc) {
  if (enc == QR_ENC_UTF8) return n;
  return n == 4 ? 2 : 1;
}

/* Length of the line break at i: 2 for "\r\n", 1 for "\n", 0 for none. A lone "\r" is text,
 * as git and the snapshot count lines (findings are numbered by them); editors other than
 * VS Code (which normalises line ends on load) show it as ^M on the same line. */
static size_t break_len(const char *t, size_t len, size_t i) {
  if (t[i] == '\n') return 1;
  return t[i] == '\r' && i + 1 < len && t[i + 1] == '\n' ? 2 : 0;
}

/* From a line start, the offset `character` code units along the line, stopping at the
 * line break (past-the-end clamps) or at the start of a character the target falls inside. */
static size_t walk_units(const char *t, size_t len, size_t pos, qr_pos_encoding enc,
                         int character) {
  size_t left = character > 0 ? (size_t)character : 0;
  while (pos < len && !break_len(t, len, pos)) {
    size_t n = seq_len((const unsigned char *)t + pos, len - pos);
    size_t u = seq_units(n, enc);
    if (u > left) break;
    left -= u;
    pos += n;
  }
  return pos;
}

/* Code units from a line start to `off`, counting only characters that end at or before it
 * and never past the line break. */
static int count_units(const char *t, size_t len, size_t pos, size_t off, qr_pos_encoding enc) {
  size_t units = 0;
  while (pos < off && !break_len(t, len, pos)) {
    size_t n = seq_len((const unsigned char *)t + pos, len - pos);
    if (pos + n > off) break;
    units += seq_units(n, enc);
    pos += n;
  }
  return units > INT_MAX ? INT_MAX : (int)units;
}

/* ---- line index ----------------------------------------------------------------------------- */

static int index_build(line_index *ix, const char *t, size_t len) {
  size_t n = 1;
  for (size_t i = 0; i < len; i++) {
    size_t bl = break_len(t, len, i);
    if (bl) {
      n++;
      i += bl - 1;
    }
  }
  size_t *starts = qr_malloc(n * sizeof *starts);
  if (!starts) return QR_E_NOMEM;
  starts[0] = 0;
  for (size_t i = 0, k = 1; i < len; i++) {
    size_t bl = break_len(t, len, i);
    if (bl) {
      i += bl - 1;
      starts[k++] = i + 1;
    }
  }
  ix->starts = starts;
  ix->n = n;
  return QR_OK;
}

static void index_free(line_index *ix) {
  qr_free(ix->starts);
  ix->starts = NULL;
  ix->n = 0;
}

static size_t index_offset(const line_index *ix, const char *t, size_t len, qr_pos_encoding enc,
                           int line, int character) {
  size_t l = line > 0 ? (size_t)line : 0;
  if (l >= ix->n) return len;
  return walk_units(t, len, ix->starts[l], enc, character);
}

/* The line holding `off`: the last start at or before it (an offset between "\r" and "\n"
 * stays on the line the break ends). */
static size_t index_line_of(const line_index *ix, size_t off) {
  size_t lo = 0, hi = ix->n - 1;
  while (lo < hi) {
    size_t mid = lo + (hi - lo + 1) / 2;
    if (ix->starts[mid] <= off) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

static void index_position(const line_index *ix, const char *t, size_t len, qr_pos_encoding enc,
                           size_t off, int *line, int *character) {
  if (off > len) off = len;
  size_t l = index_line_of(ix, off);
  *line = l > INT_MAX ? INT_MAX : (int)l;
  *character = count_units(t, len, ix->starts[l], off, enc);
}

/* ---- public position mapping ---------------------------------------------------------------- */

size_t qr_doc_offset(const qr_document *d, qr_pos_encoding enc, int line, int character) {
  const doc *dd = (const doc *)d;
  return index_offset(&dd->lines, d->text, d->len, enc, line, character);
}

void qr_doc_position(const qr_document *d, qr_pos_encoding enc, size_t offset, int *line,
                     int *character) {
  const doc *dd = (const doc *)d;
  index_position(&dd->lines, d->text, d->len, enc, offset, line, character);
}

size_t qr_text_offset(const char *text, size_t len, qr_pos_encoding enc, int line,
                      int character) {
  size_t i = 0;
  for (int l = line; l > 0; l--) {
    while (i < len && !break_len(text, len, i)) i++;
    if (i == len) return len;
    i += break_len(text, len, i);
  }
  return walk_units(text, len, i, enc, character);
}

void qr_text_position(const char *text, size_t len, qr_pos_encoding enc, size_t offset, int *line,
                      int *character) {
  if (offset > len) offset = len;
  size_t start = 0, l = 0;
  for (size_t i = 0; i < offset;) {
    size_t bl = break_len(text, len, i);
    if (!bl) {
      i++;
    } else if (i + bl <= offset) {
      i += bl;
      start = i;
      l++;
    } else {
      break; /* offset sits between "\r" and "\n" */
    }
  }
  *line = l > INT_MAX ? INT_MAX : (int)l;
  *character = count_units(text, len, start, offset, enc);
}

/* ---- tree-sitter ---------------------------------------------------------------------------- */

/* Tree-sitter's own coordinates: rows split on "\n" only, columns in bytes. */
static TSPoint ts_point_at(const char *t, size_t off) {
  TSPoint p = {0, 0};
  size_t line_start = 0;
  for (const char *q = t; (q = memchr(q, '\n', off - (size_t)(q - t))); q++) {
    p.row++;
    line_start = (size_t)(q - t) + 1;
  }
  p.column = (uint32_t)(off - line_start);
  return p;
}

/* The point reached after inserting `n` bytes of `s` at `p`. */
static TSPoint ts_point_after(TSPoint p, const char *s, size_t n) {
  const char *last = NULL;
  for (const char *q = s; (q = memchr(q, '\n', n - (size_t)(q - s))); q++) {
    p.row++;
    last = q;
  }
  p.column = last ? (uint32_t)(n - (size_t)(last - s) - 1) : p.column + (uint32_t)n;
  return p;
}

/* A new tree for `text` (reusing `old`, already edited, when not NULL); NULL when the
 * grammar cannot be loaded by this tree-sitter. */
static TSTree *parse(qr_docs *s, const qr_language *lang, TSTree *old, const char *text,
                     size_t len) {
  if (!ts_parser_set_language(s->parser, lang->load())) {
    QR_WARN("document: grammar %s is incompatible with this tree-sitter", lang->name);
    return NULL;
  }
  return ts_parser_parse_string(s->parser, old, text, (uint32_t)len);
}

/* ---- the store ------------------------------------------------------------------------------ */

qr_docs *qr_docs_new(qr_pos_encoding enc, size_t max_doc_bytes) {
  qr_docs *s = qr_calloc(1, sizeof *s);
  if (!s) return NULL;
  s->enc = enc;
  /* tree-sitter addresses bytes with uint32_t */
  s->max_doc_bytes = QR_MIN(max_doc_bytes, (size_t)UINT32_MAX);
  s->parser = ts_parser_new();
  return s;
}

static void doc_free(doc *d) {
  if (!d) return;
  qr_free(d->pub.uri);
  qr_free(d->pub.language_id);
  qr_free(d->pub.text);
  if (d->pub.tree) ts_tree_delete(d->pub.tree);
  index_free(&d->lines);
  qr_free(d);
}

void qr_docs_free(qr_docs *s) {
  if (!s) return;
  for (size_t i = 0; i < s->count; i++) doc_free(s->docs[i]);
  qr_free(s->docs);
  ts_parser_delete(s->parser);
  qr_free(s);
}

void qr_docs_set_encoding(qr_docs *s, qr_pos_encoding enc) { s->enc = enc; }

qr_pos_encoding qr_docs_encoding(const qr_docs *s) { return s->enc; }

/* Index of `uri` in the sorted array, or where it would be inserted (*found false). */
static size_t find(const qr_docs *s, const char *uri, bool *found) {
  size_t lo = 0, hi = s->count;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    int c = strcmp(s->docs[mid]->pub.uri, uri);
    if (!c) {
      *found = true;
      return mid;
    }
    if (c < 0) lo = mid + 1;
    else hi = mid;
  }
  *found = false;
  return lo;
}

static doc *doc_new(qr_docs *s, const char *uri, const char *language_id, int version,
                    const char *text, size_t len) {
  doc *d = qr_calloc(1, sizeof *d);
  if (!d) return NULL;
  d->pub.uri = qr_strdup(uri);
  d->pub.language_id = qr_strdup(language_id ? language_id : "");
  d->pub.text = qr_malloc(len + 1);
  if (!d->pub.uri || !d->pub.language_id || !d->pub.text ||
      index_build(&d->lines, text, len)) {
    doc_free(d);
    return NULL;
  }
  memcpy(d->pub.text, text, len);
  d->pub.text[len] = '\0';
  d->pub.len = len;
  d->pub.version = version;
  const qr_language *lang = qr_language_by_name(language_id);
  d->pub.lang = lang ? lang : qr_language_for_path(uri);
  if (d->pub.lang) {
    d->pub.tree = parse(s, d->pub.lang, NULL, d->pub.text, len);
    if (!d->pub.tree) d->pub.lang = NULL;
  }
  return d;
}

int qr_docs_open(qr_docs *s, const char *uri, const char *language_id, int version,
                 const char *text, size_t len, qr_err *e) {
  if (!s || !uri || (!text && len)) return qr_err_set(e, QR_E_INVAL, "didOpen needs a uri and text");
  if (len > s->max_doc_bytes)
    return qr_err_set(e, QR_E_TOOBIG, "%s: %zu bytes exceeds the %zu-byte document cap", uri, len,
                      s->max_doc_bytes);
  bool found;
  size_t at = find(s, uri, &found);
  if (!found && qr_grow(&s->docs, &s->alloc, s->count + 1, sizeof *s->docs, 16))
    return qr_err_set(e, QR_E_NOMEM, "out of memory opening %s", uri);
  doc *d = doc_new(s, uri, language_id, version, text ? text : "", len);
  if (!d) return qr_err_set(e, QR_E_NOMEM, "out of memory opening %s", uri);
  if (found) {
    doc_free(s->docs[at]);
  } else {
    memmove(s->docs + at + 1, s->docs + at, (s->count - at) * sizeof *s->docs);
    s->count++;
  }
  s->docs[at] = d;
  return QR_OK;
}

int qr_docs_close(qr_docs *s, const char *uri) {
  if (!s || !uri) return QR_E_INVAL;
  bool found;
  size_t at = find(s, uri, &found);
  if (!found) return QR_E_NOTFOUND;
  doc_free(s->docs[at]);
  memmove(s->docs + at, s->docs + at + 1, (s->count - at - 1) * sizeof *s->docs);
  s->count--;
  return QR_OK;
}

qr_document *qr_docs_get(qr_docs *s, const char *uri) {
  if (!s || !uri) return NULL;
  bool found;
  size_t at = find(s, uri, &found);
  return found ? &s->docs[at]->pub : NULL;
}

void qr_docs_each(qr_docs *s, void (*fn)(qr_document *d, void *data), void *data) {
  for (size_t i = 0; i < s->count; i++) fn(&s->docs[i]->pub, data);
}

/* ---- didChange ------------------------------------------------------------------------------ */

/* The document's state while a notification's changes are applied. `text` and `lines`
 * belong to the edit once `owned` is set; `tree` is always the edit's own reference. */
typedef struct edit {
  char *text;
  size_t len;
  line_index lines;
  bool owned;
  TSTree *tree;
} edit;

static void edit_release(edit *w) {
  if (w->owned) {
    qr_free(w->text);
    index_free(&w->lines);
  }
  if (w->tree) ts_tree_delete(w->tree);
}

/* Reads an LSP Position {line, character} into non-negative ints. */
static int read_position(const json_t *pos, int *line, int *character) {
  const json_t *l = json_object_get(pos, "line"), *c = json_object_get(pos, "character");
  if (!json_is_integer(l) || !json_is_integer(c)) return QR_E_INVAL;
  json_int_t lv = json_integer_value(l), cv = json_integer_value(c);
  if (lv < 0 || cv < 0 || lv > INT_MAX || cv > INT_MAX) return QR_E_INVAL;
  *line = (int)lv;
  *character = (int)cv;
  return QR_OK;
}

/* Maps an LSP Range to byte offsets in the working text. */
static int read_range(const edit *w, qr_pos_encoding enc, const json_t *range, size_t *start,
                      size_t *end) {
  int sl, sc, el, ec;
  if (read_position(json_object_get(range, "start"), &sl, &sc) ||
      read_position(json_object_get(range, "end"), &el, &ec))
    return QR_E_INVAL;
  *start = index_offset(&w->lines, w->text, w->len, enc, sl, sc);
  *end = index_offset(&w->lines, w->text, w->len, enc, el, ec);
  return *end < *start ? QR_E_INVAL : QR_OK;
}

/* Replaces bytes [start, end) of the working text with `ins`, re-indexes the lines and records
 * the edit on the working tree. */
static int splice(edit *w, size_t start, size_t end, const char *ins, size_t n) {
  size_t len = w->len - (end - start) + n;
  char *text = qr_malloc(len + 1);
  if (!text) return QR_E_NOMEM;
  memcpy(text, w->text, start);
  memcpy(text + start, ins, n);
  memcpy(text + start + n, w->text + end, w->len - end);
  text[len] = '\0';
  line_index lines;
  if (index_build(&lines, text, len)) {
    qr_free(text);
    return QR_E_NOMEM;
  }
  if (w->tree) {
    TSInputEdit ed = {
        .start_byte = (uint32_t)start,
        .old_end_byte = (uint32_t)end,
        .new_end_byte = (uint32_t)(start + n),
        .start_point = ts_point_at(w->text, start),
        .old_end_point = ts_point_at(w->text, end),
    };
    ed.new_end_point = ts_point_after(ed.start_point, ins, n);
    ts_tree_edit(w->tree, &ed);
  }
  if (w->owned) {
    qr_free(w->text);
    index_free(&w->lines);
  }
  w->text = text;
  w->len = len;
  w->lines = lines;
  w->owned = true;
  return QR_OK;
}

/* Applies one contentChanges entry to the working copy. */
static int apply_change(qr_docs *s, edit *w, const json_t *ch, size_t i, qr_err *e) {
  const json_t *jt = json_object_get(ch, "text");
  if (!json_is_string(jt)) return qr_err_set(e, QR_E_INVAL, "change %zu has no text", i);
  const char *ins = json_string_value(jt);
  size_t n = json_string_length(jt);
  const json_t *range = json_object_get(ch, "range");
  size_t start = 0, end = w->len;
  if (range) {
    if (read_range(w, s->enc, range, &start, &end))
      return qr_err_set(e, QR_E_INVAL, "change %zu has a malformed range", i);
  } else if (w->tree) {
    /* a full replacement shares nothing with the old tree: parse from scratch */
    ts_tree_delete(w->tree);
    w->tree = NULL;
  }
  if (n > s->max_doc_bytes || w->len - (end - start) > s->max_doc_bytes - n)
    return qr_err_set(e, QR_E_TOOBIG, "change %zu would exceed the %zu-byte document cap", i,
                      s->max_doc_bytes);
  if (splice(w, start, end, ins, n)) return qr_err_set(e, QR_E_NOMEM, "out of memory");
  return QR_OK;
}

int qr_docs_change(qr_docs *s, const char *uri, int version, const json_t *changes, qr_err *e) {
  if (!s || !uri || !json_is_array(changes))
    return qr_err_set(e, QR_E_INVAL, "didChange needs a uri and a contentChanges array");
  qr_document *pub = qr_docs_get(s, uri);
  if (!pub) return qr_err_set(e, QR_E_NOTFOUND, "%s is not open", uri);
  doc *d = (doc *)pub;
  edit w = {pub->text, pub->len, d->lines, false, pub->tree ? ts_tree_copy(pub->tree) : NULL};
  size_t i;
  const json_t *ch;
  json_array_foreach(changes, i, ch) {
    int rc = apply_change(s, &w, ch, i, e);
    if (rc) {
      edit_release(&w);
      return rc;
    }
  }
  if (!w.owned) { /* an empty contentChanges: the text and tree stand */
    edit_release(&w);
    pub->version = version;
    return QR_OK;
  }
  TSTree *tree = NULL;
  if (pub->lang) {
    tree = parse(s, pub->lang, w.tree, w.text, w.len);
    if (!tree) {
      edit_release(&w);
      return qr_err_set(e, QR_E_PARSE, "%s: tree-sitter could not parse the new text", uri);
    }
  }
  qr_free(pub->text);
  index_free(&d->lines);
  pub->text = w.text;
  pub->len = w.len;
  d->lines = w.lines;
  if (w.tree) ts_tree_delete(w.tree);
  if (pub->tree) ts_tree_delete(pub->tree);
  pub->tree = tree;
  pub->version = version;
  return QR_OK;
}
