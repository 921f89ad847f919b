/* Unit tests for document.c: position mapping (UTF-16/UTF-8, line breaks, clamping), the
 * store (open/close/reopen, caps) and didChange, checking after every edit that the
 * incrementally maintained tree matches a fresh parse of the new text. */
#include <jansson.h>
#include <tree_sitter/api.h>

#include "lsp/document.h"
#include "test.h"

#define U16 QR_ENC_UTF16
#define U8 QR_ENC_UTF8

/* ---- helpers -------------------------------------------------------------------------------- */

/* Checks qr_text_offset and qr_doc_offset (on the same text, opened in a store) agree on `want`. */
static void expect_offset(const char *text, qr_pos_encoding enc, int line, int ch, size_t want) {
  size_t len = strlen(text);
  size_t got = qr_text_offset(text, len, enc, line, ch);
  if (got != want)
    fprintf(stderr, "text_offset(%d,%d,%s) = %zu, want %zu\n", line, ch, enc == U8 ? "u8" : "u16",
            got, want);
  ASSERT_EQ(got, want);
  qr_docs *s = qr_docs_new(enc, 1 << 20);
  ASSERT_OK(qr_docs_open(s, "file:///t.txt", "plaintext", 1, text, len, NULL));
  ASSERT_EQ(qr_doc_offset(qr_docs_get(s, "file:///t.txt"), enc, line, ch), want);
  qr_docs_free(s);
}

static void expect_position(const char *text, qr_pos_encoding enc, size_t off, int line, int ch) {
  size_t len = strlen(text);
  int l = -1, c = -1;
  qr_text_position(text, len, enc, off, &l, &c);
  if (l != line || c != ch)
    fprintf(stderr, "text_position(%zu,%s) = (%d,%d), want (%d,%d)\n", off,
            enc == U8 ? "u8" : "u16", l, c, line, ch);
  ASSERT_EQ(l, line);
  ASSERT_EQ(c, ch);
  qr_docs *s = qr_docs_new(enc, 1 << 20);
  ASSERT_OK(qr_docs_open(s, "file:///t.txt", "plaintext", 1, text, len, NULL));
  l = c = -1;
  qr_doc_position(qr_docs_get(s, "file:///t.txt"), enc, off, &l, &c);
  ASSERT_EQ(l, line);
  ASSERT_EQ(c, ch);
  qr_docs_free(s);
}

/* Same shape and the same byte/point spans node for node. */
static void expect_same_nodes(TSNode a, TSNode b) {
  ASSERT_STR_EQ(ts_node_type(a), ts_node_type(b));
  ASSERT_EQ(ts_node_start_byte(a), ts_node_start_byte(b));
  ASSERT_EQ(ts_node_end_byte(a), ts_node_end_byte(b));
  ASSERT_EQ(ts_node_start_point(a).row, ts_node_start_point(b).row);
  ASSERT_EQ(ts_node_start_point(a).column, ts_node_start_point(b).column);
  ASSERT_EQ(ts_node_end_point(a).row, ts_node_end_point(b).row);
  ASSERT_EQ(ts_node_end_point(a).column, ts_node_end_point(b).column);
  uint32_t n = ts_node_child_count(a);
  ASSERT_EQ(n, ts_node_child_count(b));
  for (uint32_t i = 0; i < n; i++) expect_same_nodes(ts_node_child(a, i), ts_node_child(b, i));
}

/* The document's tree equals a from-scratch parse of its text. */
static void expect_fresh_tree(const qr_document *d) {
  ASSERT(d->lang != NULL);
  ASSERT(d->tree != NULL);
  TSParser *p = ts_parser_new();
  ASSERT(ts_parser_set_language(p, d->lang->load()));
  TSTree *fresh = ts_parser_parse_string(p, NULL, d->text, (uint32_t)d->len);
  TSNode ra = ts_tree_root_node(d->tree), rb = ts_tree_root_node(fresh);
  char *a = ts_node_string(ra), *b = ts_node_string(rb);
  ASSERT_STR_EQ(a, b);
  expect_same_nodes(ra, rb);
  free(a);
  free(b);
  ts_tree_delete(fresh);
  ts_parser_delete(p);
}

/* One incremental change {range, text}. */
static json_t *change(int sl, int sc, int el, int ec, const char *text) {
  return json_pack("{s:{s:{s:i,s:i},s:{s:i,s:i}},s:s}", "range", "start", "line", sl, "character",
                   sc, "end", "line", el, "character", ec, "text", text);
}

/* Applies one notification (stealing `changes`) and checks the tree after it. */
static void apply(qr_docs *s, const char *uri, int version, json_t *changes, const char *want) {
  qr_err e = {0};
  int rc = qr_docs_change(s, uri, version, changes, &e);
  if (rc) fprintf(stderr, "change: %s\n", e.msg);
  ASSERT_OK(rc);
  json_decref(changes);
  qr_document *d = qr_docs_get(s, uri);
  ASSERT_STR_EQ(d->text, want);
  ASSERT_EQ(d->len, strlen(want));
  ASSERT_EQ(d->version, version);
  if (d->lang) expect_fresh_tree(d);
}

/* ---- position mapping ----------------------------------------------------------------------- */

TEST(document_offset_ascii) {
  const char *t = "abc\ndef\n";
  expect_offset(t, U16, 0, 0, 0);
  expect_offset(t, U16, 0, 2, 2);
  expect_offset(t, U16, 1, 1, 5);
  expect_offset(t, U8, 1, 3, 7);
  expect_offset(t, U16, 2, 0, 8); /* the empty last line */
  expect_position(t, U16, 5, 1, 1);
  expect_position(t, U8, 8, 2, 0);
  expect_position(t, U16, 3, 0, 3); /* on the "\n" */
}

TEST(document_offset_bmp) {
  /* "é" is 2 UTF-8 bytes, "€" 3; each is 1 UTF-16 unit */
  const char *t = "xé€y";
  expect_offset(t, U16, 0, 1, 1);
  expect_offset(t, U16, 0, 2, 3);
  expect_offset(t, U16, 0, 3, 6);
  expect_offset(t, U16, 0, 4, 7);
  expect_offset(t, U8, 0, 3, 3);
  expect_offset(t, U8, 0, 6, 6);
  expect_offset(t, U8, 0, 2, 1); /* inside "é": rounds down */
  expect_offset(t, U8, 0, 5, 3); /* inside "€" */
  expect_position(t, U16, 6, 0, 3);
  expect_position(t, U8, 6, 0, 6);
  expect_position(t, U16, 4, 0, 2); /* inside "€": rounds down */
}

TEST(document_offset_astral) {
  /* "😀" and "𝄞" are 4 UTF-8 bytes and 2 UTF-16 units (a surrogate pair) */
  const char *t = "a😀b𝄞c";
  expect_offset(t, U16, 0, 1, 1);
  expect_offset(t, U16, 0, 2, 1); /* inside the pair: rounds down */
  expect_offset(t, U16, 0, 3, 5);
  expect_offset(t, U16, 0, 4, 6);
  expect_offset(t, U16, 0, 5, 6);
  expect_offset(t, U16, 0, 6, 10);
  expect_offset(t, U16, 0, 7, 11);
  expect_offset(t, U8, 0, 5, 5);
  expect_offset(t, U8, 0, 10, 10);
  expect_position(t, U16, 5, 0, 3);
  expect_position(t, U16, 10, 0, 6);
  expect_position(t, U16, 11, 0, 7);
  expect_position(t, U8, 10, 0, 10);
  expect_position(t, U16, 3, 0, 1); /* inside "😀" */
}

TEST(document_offset_line_breaks) {
  /* CRLF and LF end a line; a lone CR is text, as git counts lines */
  const char *t = "ab\r\ncd\ref\ng";
  expect_offset(t, U16, 1, 0, 4);
  expect_offset(t, U16, 1, 1, 5);
  expect_offset(t, U16, 1, 3, 7);
  expect_offset(t, U16, 2, 0, 10);
  expect_offset(t, U16, 2, 1, 11);
  expect_position(t, U16, 4, 1, 0);
  expect_position(t, U16, 7, 1, 3);
  expect_position(t, U16, 10, 2, 0);
  expect_position(t, U16, 3, 0, 2); /* between "\r" and "\n" */
  expect_position(t, U16, 2, 0, 2);
  /* a text of breaks only */
  expect_offset("\r\r\n\n", U16, 1, 0, 3);
  expect_offset("\r\r\n\n", U16, 2, 0, 4);
  expect_position("\r\r\n\n", U16, 4, 2, 0);
}

TEST(document_offset_clamping) {
  const char *t = "ab€\r\ncd";
  expect_offset(t, U16, 0, 3, 5);
  expect_offset(t, U16, 0, 4, 5);    /* past the line end: before its break */
  expect_offset(t, U16, 0, 1000, 5);
  expect_offset(t, U8, 0, 99, 5);
  expect_offset(t, U16, 1, 50, 9);
  expect_offset(t, U16, 2, 0, 9);    /* past the last line: end of text */
  expect_offset(t, U16, 7, 3, 9);
  expect_offset(t, U16, -1, -4, 0);  /* negatives clamp to zero */
  expect_position(t, U16, 100, 1, 2); /* offset past the end: end of text */
  expect_offset("", U16, 0, 0, 0);
  expect_offset("", U16, 3, 3, 0);
  expect_position("", U16, 0, 0, 0);
}

TEST(document_offset_invalid_utf8) {
  /* invalid bytes (a stray continuation, a truncated sequence, a surrogate) count 1 unit each */
  const char *t = "\x80\xe2\x82z\xed\xa0\x80";
  expect_offset(t, U16, 0, 1, 1);
  expect_offset(t, U16, 0, 3, 3);
  expect_offset(t, U16, 0, 4, 4);
  expect_offset(t, U16, 0, 7, 7);
  expect_position(t, U16, 4, 0, 4);
  expect_position(t, U8, 7, 0, 7);
}

/* Position → offset → position round-trips at every character boundary, and the indexed
 * (document) and scanning (text) mappings agree at every offset and position. */
TEST(document_offset_roundtrip) {
  const char *t = "é😀\r\n\r\rx€\n\n𝄞 z\r\x80q";
  size_t len = strlen(t);
  for (int enc = U16; enc <= U8; enc++) {
    qr_docs *s = qr_docs_new((qr_pos_encoding)enc, 1 << 10);
    ASSERT_OK(qr_docs_open(s, "file:///r.txt", NULL, 1, t, len, NULL));
    qr_document *d = qr_docs_get(s, "file:///r.txt");
    for (size_t off = 0; off <= len + 2; off++) {
      int l1, c1, l2, c2;
      qr_doc_position(d, (qr_pos_encoding)enc, off, &l1, &c1);
      qr_text_position(t, len, (qr_pos_encoding)enc, off, &l2, &c2);
      ASSERT_EQ(l1, l2);
      ASSERT_EQ(c1, c2);
      size_t back = qr_doc_offset(d, (qr_pos_encoding)enc, l1, c1);
      ASSERT(back <= off || off > len);
      int l3, c3;
      qr_doc_position(d, (qr_pos_encoding)enc, back, &l3, &c3);
      ASSERT_EQ(l3, l1);
      ASSERT_EQ(c3, c1);
    }
    for (int line = 0; line < 9; line++)
      for (int ch = 0; ch < 12; ch++)
        ASSERT_EQ(qr_doc_offset(d, (qr_pos_encoding)enc, line, ch),
                  qr_text_offset(t, len, (qr_pos_encoding)enc, line, ch));
    qr_docs_free(s);
  }
}

/* ---- the store ------------------------------------------------------------------------------ */

TEST(document_open_language) {
  qr_docs *s = qr_docs_new(U16, 1 << 20);
  ASSERT_EQ(qr_docs_encoding(s), U16);
  qr_docs_set_encoding(s, U8);
  ASSERT_EQ(qr_docs_encoding(s), U8);
  ASSERT_OK(qr_docs_open(s, "file:///a/x.c", "c", 3, "int x;\n", 7, NULL));
  ASSERT_OK(qr_docs_open(s, "file:///a/y.py", "", 1, "x = 1\n", 6, NULL));   /* by path */
  ASSERT_OK(qr_docs_open(s, "file:///a/z.jsx", "typescriptreact", 1, "<a/>;", 5, NULL));
  ASSERT_OK(qr_docs_open(s, "file:///a/n.txt", "plaintext", 1, "hé\n", 4, NULL));
  qr_document *d = qr_docs_get(s, "file:///a/x.c");
  ASSERT_STR_EQ(d->uri, "file:///a/x.c");
  ASSERT_STR_EQ(d->language_id, "c");
  ASSERT_STR_EQ(d->lang->name, "c");
  ASSERT_EQ(d->version, 3);
  expect_fresh_tree(d);
  ASSERT_STR_EQ(qr_docs_get(s, "file:///a/y.py")->lang->name, "python");
  ASSERT_STR_EQ(qr_docs_get(s, "file:///a/z.jsx")->lang->name, "tsx"); /* languageId wins */
  d = qr_docs_get(s, "file:///a/n.txt");
  ASSERT(d->lang == NULL);
  ASSERT(d->tree == NULL);
  ASSERT(qr_docs_get(s, "file:///a/missing.c") == NULL);
  qr_docs_free(s);
}

TEST(document_unknown_language_edits) {
  qr_docs *s = qr_docs_new(U16, 1 << 20);
  const char *uri = "file:///notes.unknown";
  ASSERT_OK(qr_docs_open(s, uri, "plaintext", 1, "hello\nworld", 11, NULL));
  json_t *ch = json_array();
  json_array_append_new(ch, change(1, 0, 1, 5, "there"));
  json_array_append_new(ch, change(0, 5, 0, 5, ","));
  apply(s, uri, 2, ch, "hello,\nthere");
  ASSERT(qr_docs_get(s, uri)->tree == NULL);
  qr_docs_free(s);
}

static void count_doc(qr_document *d, void *data) {
  (void)d;
  (*(int *)data)++;
}

TEST(document_close_reopen) {
  qr_docs *s = qr_docs_new(U16, 1 << 20);
  /* many URIs in a scrambled order, so the sorted store shifts entries both ways */
  char uri[64];
  for (int i = 0; i < 60; i++) {
    snprintf(uri, sizeof uri, "file:///d/%02d.py", (i * 37) % 60);
    ASSERT_OK(qr_docs_open(s, uri, "python", i, "pass\n", 5, NULL));
  }
  int n = 0;
  qr_docs_each(s, count_doc, &n);
  ASSERT_EQ(n, 60);
  for (int i = 0; i < 60; i += 2) {
    snprintf(uri, sizeof uri, "file:///d/%02d.py", i);
    ASSERT_OK(qr_docs_close(s, uri));
    ASSERT(qr_docs_get(s, uri) == NULL);
    ASSERT_EQ(qr_docs_close(s, uri), QR_E_NOTFOUND);
  }
  n = 0;
  qr_docs_each(s, count_doc, &n);
  ASSERT_EQ(n, 30);
  for (int i = 1; i < 60; i += 2) {
    snprintf(uri, sizeof uri, "file:///d/%02d.py", i);
    ASSERT(qr_docs_get(s, uri) != NULL);
  }
  /* reopen a closed one with new text, and re-open an open one (replaces it) */
  ASSERT_OK(qr_docs_open(s, "file:///d/00.py", "python", 9, "x = 2\n", 6, NULL));
  ASSERT_OK(qr_docs_open(s, "file:///d/01.py", "python", 7, "y = 3\n", 6, NULL));
  qr_document *d = qr_docs_get(s, "file:///d/00.py");
  ASSERT_STR_EQ(d->text, "x = 2\n");
  ASSERT_EQ(d->version, 9);
  expect_fresh_tree(d);
  d = qr_docs_get(s, "file:///d/01.py");
  ASSERT_STR_EQ(d->text, "y = 3\n");
  ASSERT_EQ(d->version, 7);
  expect_fresh_tree(d);
  n = 0;
  qr_docs_each(s, count_doc, &n);
  ASSERT_EQ(n, 31);
  json_t *none = json_array();
  ASSERT_EQ(qr_docs_change(s, "file:///d/02.py", 2, none, NULL), QR_E_NOTFOUND);
  json_decref(none);
  qr_docs_free(s);
}

TEST(document_size_cap) {
  qr_docs *s = qr_docs_new(U16, 16);
  qr_err e = {0};
  ASSERT_EQ(qr_docs_open(s, "file:///big.c", "c", 1, "int aaaaaaaaaaaa;", 17, &e), QR_E_TOOBIG);
  ASSERT_EQ(e.code, QR_E_TOOBIG);
  ASSERT(qr_docs_get(s, "file:///big.c") == NULL);
  ASSERT_OK(qr_docs_open(s, "file:///ok.c", "c", 1, "int a;", 6, NULL));
  /* each change fits but together they pass the cap: nothing is applied */
  json_t *ch = json_array();
  json_array_append_new(ch, change(0, 5, 0, 5, "bcdef"));
  json_array_append_new(ch, change(0, 10, 0, 10, "ghijkl"));
  ASSERT_EQ(qr_docs_change(s, "file:///ok.c", 2, ch, &e), QR_E_TOOBIG);
  json_decref(ch);
  qr_document *d = qr_docs_get(s, "file:///ok.c");
  ASSERT_STR_EQ(d->text, "int a;");
  ASSERT_EQ(d->version, 1);
  expect_fresh_tree(d);
  /* exactly at the cap is fine, also as a full replacement */
  ch = json_pack("[{s:s}]", "text", "int abcdefghijk;");
  apply(s, "file:///ok.c", 3, ch, "int abcdefghijk;");
  ch = json_pack("[{s:s}]", "text", "int abcdefghijkl;");
  ASSERT_EQ(qr_docs_change(s, "file:///ok.c", 4, ch, NULL), QR_E_TOOBIG);
  json_decref(ch);
  ASSERT_STR_EQ(qr_docs_get(s, "file:///ok.c")->text, "int abcdefghijk;");
  qr_docs_free(s);
}

/* ---- didChange ------------------------------------------------------------------------------ */

TEST(document_change_insert_delete_replace) {
  qr_docs *s = qr_docs_new(U16, 1 << 20);
  const char *uri = "file:///m.c";
  ASSERT_OK(qr_docs_open(s, uri, "c", 1, "int main(void) {\n  return 0;\n}\n", 31, NULL));
  json_t *ch = json_array();
  json_array_append_new(ch, change(1, 10, 1, 10, " + 1")); /* insert */
  apply(s, uri, 2, ch, "int main(void) {\n  return 0 + 1;\n}\n");
  ch = json_array();
  json_array_append_new(ch, change(1, 9, 1, 13, "")); /* delete */
  apply(s, uri, 3, ch, "int main(void) {\n  return 1;\n}\n");
  ch = json_array();
  json_array_append_new(ch, change(0, 4, 0, 8, "start")); /* replace */
  apply(s, uri, 4, ch, "int start(void) {\n  return 1;\n}\n");
  ch = json_array();
  json_array_append_new(ch, change(1, 0, 1, 0, "  int x = 2;\n  if (x) {\n    x++;\n  }\n"));
  apply(s, uri, 5, ch, "int start(void) {\n  int x = 2;\n  if (x) {\n    x++;\n  }\n  return 1;\n}\n");
  ch = json_array(); /* a multi-line replacement that joins lines */
  json_array_append_new(ch, change(2, 10, 4, 3, " x--;"));
  apply(s, uri, 6, ch, "int start(void) {\n  int x = 2;\n  if (x) { x--;\n  return 1;\n}\n");
  ch = json_array(); /* past the line end: clamps before its break */
  json_array_append_new(ch, change(2, 40, 2, 40, "\n  }"));
  apply(s, uri, 7, ch, "int start(void) {\n  int x = 2;\n  if (x) { x--;\n  }\n  return 1;\n}\n");
  ch = json_array(); /* an edit that breaks the syntax, then one that repairs it */
  json_array_append_new(ch, change(5, 1, 5, 1, "\nint ("));
  apply(s, uri, 8, ch,
        "int start(void) {\n  int x = 2;\n  if (x) { x--;\n  }\n  return 1;\n}\nint (\n");
  ASSERT(ts_node_has_error(ts_tree_root_node(qr_docs_get(s, uri)->tree)));
  ch = json_array();
  json_array_append_new(ch, change(6, 0, 7, 0, ""));
  apply(s, uri, 9, ch, "int start(void) {\n  int x = 2;\n  if (x) { x--;\n  }\n  return 1;\n}\n");
  ASSERT(!ts_node_has_error(ts_tree_root_node(qr_docs_get(s, uri)->tree)));
  qr_docs_free(s);
}

TEST(document_change_several_in_one) {
  qr_docs *s = qr_docs_new(U16, 1 << 20);
  const char *uri = "file:///s.py";
  ASSERT_OK(qr_docs_open(s, uri, "python", 1, "def f(a):\n    return a\n", 23, NULL));
  /* each change's range is in the text the previous change produced */
  json_t *ch = json_array();
  json_array_append_new(ch, change(0, 6, 0, 7, "x, y"));
  json_array_append_new(ch, change(1, 11, 1, 12, "x * y"));
  json_array_append_new(ch, change(2, 0, 2, 0, "\nprint(f(2, 3))\n"));
  json_array_append_new(ch, change(0, 0, 0, 0, "import os\n"));
  apply(s, uri, 2, ch, "import os\ndef f(x, y):\n    return x * y\n\nprint(f(2, 3))\n");
  /* a full replacement in the middle of incremental ones */
  ch = json_array();
  json_array_append_new(ch, change(0, 0, 0, 6, "from"));
  json_array_append_new(ch, json_pack("{s:s}", "text", "a = [1,\n     2]\n"));
  json_array_append_new(ch, change(1, 6, 1, 6, ", 3"));
  apply(s, uri, 3, ch, "a = [1,\n     2, 3]\n");
  ch = json_array(); /* an empty notification only moves the version */
  apply(s, uri, 4, ch, "a = [1,\n     2, 3]\n");
  qr_docs_free(s);
}

TEST(document_change_full_replacement) {
  qr_docs *s = qr_docs_new(U16, 1 << 20);
  const char *uri = "file:///f.go";
  ASSERT_OK(qr_docs_open(s, uri, "go", 1, "package a\n", 10, NULL));
  apply(s, uri, 2, json_pack("[{s:s}]", "text", "package b\n\nfunc F() int { return 1 }\n"),
        "package b\n\nfunc F() int { return 1 }\n");
  apply(s, uri, 3, json_pack("[{s:s}]", "text", ""), "");
  apply(s, uri, 4, json_pack("[{s:s}]", "text", "package c\n"), "package c\n");
  qr_docs_free(s);
}

TEST(document_change_crlf) {
  qr_docs *s = qr_docs_new(U16, 1 << 20);
  const char *uri = "file:///w.c";
  const char *t = "int a;\r\nint b;\r\nint c;\r\n";
  ASSERT_OK(qr_docs_open(s, uri, "c", 1, t, strlen(t), NULL));
  json_t *ch = json_array();
  json_array_append_new(ch, change(1, 4, 1, 5, "bee"));
  json_array_append_new(ch, change(2, 0, 2, 0, "long d;\r\n"));
  apply(s, uri, 2, ch, "int a;\r\nint bee;\r\nlong d;\r\nint c;\r\n");
  ch = json_array(); /* join two lines: the range spans a CRLF */
  json_array_append_new(ch, change(0, 6, 1, 0, " "));
  apply(s, uri, 3, ch, "int a; int bee;\r\nlong d;\r\nint c;\r\n");
  ch = json_array(); /* past the end of a CRLF line: inserts before its break */
  json_array_append_new(ch, change(0, 100, 0, 100, "\r\nint e;"));
  apply(s, uri, 4, ch, "int a; int bee;\r\nint e;\r\nlong d;\r\nint c;\r\n");
  ch = json_array(); /* a lone CR is no line break: "int c;" stays on line 3 */
  json_array_append_new(ch, change(3, 0, 3, 0, "int f;\r"));
  apply(s, uri, 5, ch, "int a; int bee;\r\nint e;\r\nlong d;\r\nint f;\rint c;\r\n");
  ch = json_array();
  json_array_append_new(ch, change(3, 11, 3, 12, "g"));
  apply(s, uri, 6, ch, "int a; int bee;\r\nint e;\r\nlong d;\r\nint f;\rint g;\r\n");
  qr_docs_free(s);
}

TEST(document_change_non_ascii) {
  qr_docs *s = qr_docs_new(U16, 1 << 20);
  const char *uri = "file:///u.js";
  const char *t = "const s = \"é😀\"; let n = 1;\n";
  ASSERT_OK(qr_docs_open(s, uri, "javascript", 1, t, strlen(t), NULL));
  /* UTF-16 columns: "é" is 1 unit and "😀" 2, so "n" is at 21 */
  json_t *ch = json_array();
  json_array_append_new(ch, change(0, 21, 0, 22, "count"));
  json_array_append_new(ch, change(0, 12, 0, 14, "€"));
  apply(s, uri, 2, ch, "const s = \"é€\"; let count = 1;\n");
  qr_docs_set_encoding(s, U8);
  /* UTF-8 columns: "é" 2 bytes, "€" 3, so "count" starts at 23 */
  ch = json_array();
  json_array_append_new(ch, change(0, 23, 0, 28, "c"));
  apply(s, uri, 3, ch, "const s = \"é€\"; let c = 1;\n");
  qr_docs_free(s);
}

TEST(document_change_all_or_nothing) {
  qr_docs *s = qr_docs_new(U16, 1 << 20);
  const char *uri = "file:///z.rs";
  ASSERT_OK(qr_docs_open(s, uri, "rust", 1, "fn main() {}\n", 13, NULL));
  char *before = ts_node_string(ts_tree_root_node(qr_docs_get(s, uri)->tree));
  const char *bad[] = {
      "[{\"range\":{\"start\":{\"line\":0,\"character\":0},\"end\":{\"line\":0,\"character\":2}},"
      "\"text\":\"x\"},{\"text\":7}]",
      "[{\"text\":\"fn x() {}\"},{\"range\":{\"start\":{\"line\":0}},\"text\":\"y\"}]",
      "[{\"range\":{\"start\":{\"line\":0,\"character\":5},\"end\":{\"line\":0,\"character\":2}},"
      "\"text\":\"x\"}]",
      "[{\"range\":{\"start\":{\"line\":-1,\"character\":0},\"end\":{\"line\":0,\"character\":2}},"
      "\"text\":\"x\"}]",
      "[{\"range\":\"0:0\",\"text\":\"x\"}]",
      "[3]",
  };
  for (size_t i = 0; i < QR_ARRAY_LEN(bad); i++) {
    json_t *ch = json_loads(bad[i], 0, NULL);
    ASSERT(ch != NULL);
    qr_err e = {0};
    ASSERT_EQ(qr_docs_change(s, uri, 2, ch, &e), QR_E_INVAL);
    ASSERT(e.msg[0] != '\0');
    json_decref(ch);
    qr_document *d = qr_docs_get(s, uri);
    ASSERT_STR_EQ(d->text, "fn main() {}\n");
    ASSERT_EQ(d->version, 1);
    char *after = ts_node_string(ts_tree_root_node(d->tree));
    ASSERT_STR_EQ(after, before);
    free(after);
  }
  ASSERT_EQ(qr_docs_change(s, uri, 2, NULL, NULL), QR_E_INVAL);
  free(before);
  /* the document still edits normally afterwards */
  json_t *ch = json_array();
  json_array_append_new(ch, change(0, 11, 0, 11, " let v = 1; "));
  apply(s, uri, 2, ch, "fn main() { let v = 1; }\n");
  qr_docs_free(s);
}

/* Failing each allocation in turn leaves the store as it was (or fully updated). */
TEST(document_alloc_failure) {
  for (long n = 1; n < 16; n++) {
    qr_docs *s = qr_docs_new(U16, 1 << 20);
    ASSERT(s != NULL);
    qr_alloc_fail_after(n);
    int rc = qr_docs_open(s, "file:///a.c", "c", 1, "int a;\nint b;\n", 14, NULL);
    qr_alloc_fail_after(-1);
    if (rc) {
      ASSERT_EQ(rc, QR_E_NOMEM);
      ASSERT(qr_docs_get(s, "file:///a.c") == NULL);
      ASSERT_OK(qr_docs_open(s, "file:///a.c", "c", 1, "int a;\nint b;\n", 14, NULL));
    }
    json_t *ch = json_array();
    json_array_append_new(ch, change(0, 4, 0, 5, "x"));
    json_array_append_new(ch, change(1, 4, 1, 5, "y"));
    qr_alloc_fail_after(n);
    rc = qr_docs_change(s, "file:///a.c", 2, ch, NULL);
    qr_alloc_fail_after(-1);
    json_decref(ch);
    qr_document *d = qr_docs_get(s, "file:///a.c");
    if (rc) {
      ASSERT_EQ(rc, QR_E_NOMEM);
      ASSERT_STR_EQ(d->text, "int a;\nint b;\n");
      ASSERT_EQ(d->version, 1);
    } else {
      ASSERT_STR_EQ(d->text, "int x;\nint y;\n");
    }
    expect_fresh_tree(d);
    qr_docs_free(s);
  }
}

/* Deterministic pseudo-random edits (xorshift), several per notification, on a C file with
 * CRLF, lone CR and non-ASCII text; the expected text is spliced independently. */
static unsigned rnd(unsigned *st) {
  *st ^= *st << 13;
  *st ^= *st >> 17;
  *st ^= *st << 5;
  return *st;
}

TEST(document_change_random_edits) {
  static const char *snippets[] = {"x", "int y;\n", "{", "}", "/* é */", "\r\n", "\r", "😀",
                                   "(a + b)", "", "if (q) { r(); }\n", ";"};
  qr_docs *s = qr_docs_new(U16, 1 << 20);
  const char *uri = "file:///r.c";
  const char *init = "int f(int a) {\r\n  return a * 2; // €\r\n}\rint g;\n";
  ASSERT_OK(qr_docs_open(s, uri, "c", 1, init, strlen(init), NULL));
  char *want = qr_strdup(init);
  unsigned st = 2463534242u;
  for (int v = 2; v < 120; v++) {
    json_t *ch = json_array();
    int n = 1 + (int)(rnd(&st) % 3);
    for (int k = 0; k < n; k++) {
      size_t len = strlen(want);
      int sl = (int)(rnd(&st) % 8), sc = (int)(rnd(&st) % 20);
      int el = sl + (int)(rnd(&st) % 2), ec = (int)(rnd(&st) % 20);
      size_t a = qr_text_offset(want, len, U16, sl, sc), b = qr_text_offset(want, len, U16, el, ec);
      if (b < a) {
        size_t tmp = a;
        a = b;
        b = tmp;
        qr_text_position(want, len, U16, a, &sl, &sc);
        qr_text_position(want, len, U16, b, &el, &ec);
      }
      const char *ins = snippets[rnd(&st) % QR_ARRAY_LEN(snippets)];
      json_array_append_new(ch, change(sl, sc, el, ec, ins));
      char *next = qr_asprintf("%.*s%s%s", (int)a, want, ins, want + b);
      qr_free(want);
      want = next;
    }
    apply(s, uri, v, ch, want);
  }
  qr_free(want);
  qr_docs_free(s);
}
