/* judge_fix.c — tree-sitter for the merge: whether a fix parses (qr_judge_fix_valid) and the
 * enclosing definitions that go into a finding's fingerprint. */
#include "judge/judge_internal.h"

#include <ctype.h>
#include <string.h>

/* ---- tree-sitter: parsing, error counts, enclosing definitions --------------------------- */

TSTree *qr_judge_parse(const qr_language *lang, const char *text, size_t len) {
  if (!lang || len > UINT32_MAX) return NULL;
  TSParser *p = ts_parser_new();
  if (!p) return NULL;
  TSTree *t = NULL;
  if (ts_parser_set_language(p, lang->load())) t = ts_parser_parse_string(p, NULL, text, (uint32_t)len);
  ts_parser_delete(p);
  return t;
}

/* ERROR and MISSING nodes in the tree. */
static size_t count_errors(TSTree *tree) {
  TSTreeCursor cur = ts_tree_cursor_new(ts_tree_root_node(tree));
  size_t n = 0;
  for (;;) {
    TSNode node = ts_tree_cursor_current_node(&cur);
    if (ts_node_is_missing(node) || !strcmp(ts_node_type(node), "ERROR")) n++;
    if (ts_node_has_error(node) && ts_tree_cursor_goto_first_child(&cur)) continue;
    while (!ts_tree_cursor_goto_next_sibling(&cur))
      if (!ts_tree_cursor_goto_parent(&cur)) {
        ts_tree_cursor_delete(&cur);
        return n;
      }
  }
}

/* The file's text with fix->[start,end] replaced; NULL when out of memory. */
static char *apply_fix(const qr_snapshot_file *f, const qr_fix *x, size_t *len) {
  size_t from = f->line_starts[x->start_line - 1];
  size_t to = (size_t)x->end_line < f->n_lines ? f->line_starts[x->end_line] : f->len;
  size_t rl = strlen(x->replacement);
  bool nl = rl && x->replacement[rl - 1] != '\n' && to > from && f->text[to - 1] == '\n';
  qr_buf b;
  qr_buf_init(&b, f->len + rl + 2);
  if (qr_buf_append(&b, f->text, from) || qr_buf_append(&b, x->replacement, rl) ||
      (nl && qr_buf_append(&b, "\n", 1)) || qr_buf_append(&b, f->text + to, f->len - to)) {
    qr_buf_free(&b);
    return NULL;
  }
  return qr_buf_detach(&b, len);
}

bool qr_judge_fix_valid(const qr_snapshot_file *file, const qr_fix *fix) {
  if (!file || !fix || !fix->replacement || fix->start_line < 1 || fix->end_line < fix->start_line ||
      (size_t)fix->end_line > file->n_lines)
    return false;
  if (!file->lang) return true; /* nothing to parse with: the range check is all we can do */
  size_t len;
  char *patched = apply_fix(file, fix, &len);
  if (!patched) return false;
  TSTree *before = qr_judge_parse(file->lang, file->text, file->len);
  TSTree *after = qr_judge_parse(file->lang, patched, len);
  bool ok = before && after && count_errors(after) <= count_errors(before);
  if (before) ts_tree_delete(before);
  if (after) ts_tree_delete(after);
  qr_free(patched);
  return ok;
}

/* Node types that name a scope worth fingerprinting by (functions, methods, classes, …). */
static bool definition_type(const char *t) {
  static const char *const kinds[] = {"function", "method", "class", "struct", "impl",
                                      "interface", "module", "namespace", "trait", "enum",
                                      "type_declaration", "lambda", "func_literal"};
  static const char *const not_kinds[] = {"call", "body", "declarator", "parameter", "identifier",
                                          "heritage", "argument", "specifier_list"};
  for (size_t i = 0; i < QR_ARRAY_LEN(not_kinds); i++)
    if (strstr(t, not_kinds[i])) return false;
  for (size_t i = 0; i < QR_ARRAY_LEN(kinds); i++)
    if (strstr(t, kinds[i])) return true;
  return false;
}

/* The definition's name: its `name` field, else the identifier at the end of its declarator
 * chain (C's function_definition → function_declarator → identifier). */
static TSNode definition_name(TSNode n) {
  TSNode name = ts_node_child_by_field_name(n, "name", 4);
  if (!ts_node_is_null(name)) return name;
  TSNode d = ts_node_child_by_field_name(n, "declarator", 10);
  for (int depth = 0; !ts_node_is_null(d) && depth < 8; depth++) {
    if (strstr(ts_node_type(d), "identifier")) return d;
    TSNode inner = ts_node_child_by_field_name(d, "declarator", 10);
    if (ts_node_is_null(inner)) return d;
    d = inner;
  }
  return d;
}

/* The smallest named node at the line's first token; a null node when there is none. */
static TSNode node_at_line(TSTree *tree, const qr_snapshot_file *f, int line) {
  const char *s;
  size_t len;
  TSNode none = {0};
  if (!tree || !qr_snapshot_line(f, line, &s, &len)) return none;
  uint32_t col = 0;
  while (col < len && (s[col] == ' ' || s[col] == '\t')) col++;
  TSPoint pt = {(uint32_t)line - 1, col};
  return ts_node_named_descendant_for_point_range(ts_tree_root_node(tree), pt, pt);
}

/* Appends "type:name/" for each enclosing definition of the line's first token, innermost last. */
int qr_judge_enclosing_path(TSTree *tree, const qr_snapshot_file *f, int line, qr_buf *out) {
  TSNode n = node_at_line(tree, f, line);
  char *parts[64];
  int np = 0, rc = QR_OK;
  for (; !ts_node_is_null(n) && np < 64; n = ts_node_parent(n)) {
    const char *type = ts_node_type(n);
    if (!definition_type(type)) continue;
    TSNode nm = definition_name(n);
    uint32_t a = ts_node_is_null(nm) ? 0 : ts_node_start_byte(nm);
    uint32_t b = ts_node_is_null(nm) ? 0 : ts_node_end_byte(nm);
    parts[np] = qr_asprintf("%s:%.*s/", type, (int)QR_MIN(b - a, 80u), f->text + a);
    if (!parts[np]) {
      rc = QR_E_NOMEM;
      break;
    }
    np++;
  }
  for (int i = np - 1; i >= 0 && !rc; i--) rc = qr_buf_puts(out, parts[i]);
  for (int i = 0; i < np; i++) qr_free(parts[i]);
  return rc;
}

void qr_judge_definition_at(TSTree *tree, const qr_snapshot_file *f, int line, qr_judge_def *out) {
  memset(out, 0, sizeof *out);
  for (TSNode n = node_at_line(tree, f, line); !ts_node_is_null(n); n = ts_node_parent(n)) {
    if (!definition_type(ts_node_type(n))) continue;
    TSNode nm = definition_name(n);
    if (ts_node_is_null(nm)) return;
    uint32_t a = ts_node_start_byte(nm), b = ts_node_end_byte(nm);
    if (b <= a || b - a > MAX_TERM) return;
    for (uint32_t i = a; i < b; i++) out->name[i - a] = (char)tolower((unsigned char)f->text[i]);
    out->name[b - a] = '\0';
    out->start_line = (int)ts_node_start_point(n).row + 1;
    out->end_line = (int)ts_node_end_point(n).row + 1;
    return;
  }
}
