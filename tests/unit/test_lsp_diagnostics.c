/* Unit tests for lsp_diagnostics.c: ranges on non-ASCII lines in UTF-16 and UTF-8, blank
 * trimming, the agreement suffix and data of a diagnostic, relatedInformation from a fix span,
 * fix edits that keep line structure, the pass count behind "(N/M passes)", and findings moved
 * across edits (insert/delete above, edit inside, edit below, several changes, CRLF, full-text
 * replacements). */
#include <jansson.h>

#include "lsp/lsp_diagnostics.h"
#include "test.h"

static int pos(json_t *range, const char *which, const char *field) {
  return (int)json_integer_value(json_object_get(json_object_get(range, which), field));
}

static void expect_range(json_t *r, int l0, int c0, int l1, int c1) {
  ASSERT(r);
  ASSERT_EQ(pos(r, "start", "line"), l0);
  ASSERT_EQ(pos(r, "start", "character"), c0);
  ASSERT_EQ(pos(r, "end", "line"), l1);
  ASSERT_EQ(pos(r, "end", "character"), c1);
  json_decref(r);
}

/* "é" is 2 UTF-8 bytes / 1 UTF-16 unit; "😀" is 4 bytes / 2 units. */
static const char text[] = "int a;\n  x = \"é😀\";  \n\n\treturn 0;\n";

TEST(lsp_diagnostics_range_utf16_vs_utf8) {
  size_t len = strlen(text);
  /* line 2: two blanks, then `x = "é😀";`, then two blanks */
  expect_range(qr_diagnostics_range(text, len, QR_ENC_UTF16, 2, 2), 1, 2, 1, 12);
  expect_range(qr_diagnostics_range(text, len, QR_ENC_UTF8, 2, 2), 1, 2, 1, 15);
  /* lines 2..4 end after "return 0;" (tab-indented) */
  expect_range(qr_diagnostics_range(text, len, QR_ENC_UTF16, 2, 4), 1, 2, 3, 10);
}

TEST(lsp_diagnostics_range_clamps_and_blank) {
  size_t len = strlen(text);
  /* past the end → the last line; a blank line → an empty range at its start */
  expect_range(qr_diagnostics_range(text, len, QR_ENC_UTF16, 99, 120), 3, 1, 3, 10);
  expect_range(qr_diagnostics_range(text, len, QR_ENC_UTF16, 3, 3), 2, 0, 2, 0);
  expect_range(qr_diagnostics_range("", 0, QR_ENC_UTF16, 1, 1), 0, 0, 0, 0);
}

TEST(lsp_diagnostics_from_finding) {
  json_t *f = json_loads("{\"file\":\"a.c\",\"start_line\":2,\"end_line\":2,\"severity\":\"error\","
                         "\"category\":\"correctness\",\"message\":\"bad x\",\"votes\":2,\"seen\":3,"
                         "\"confidence\":0.8,\"fingerprint\":\"0123456789abcdef\","
                         "\"sources\":[{\"model\":\"m1\",\"strategy\":\"s\"}]}",
                         0, NULL);
  json_t *d = qr_diagnostics_from_finding(f, NULL, text, strlen(text), QR_ENC_UTF16);
  ASSERT(d);
  ASSERT_STR_EQ(json_string_value(json_object_get(d, "message")), "bad x (2/3 passes)");
  ASSERT_EQ(json_integer_value(json_object_get(d, "severity")), 1);
  ASSERT_STR_EQ(json_string_value(json_object_get(d, "source")), "quorum");
  ASSERT_STR_EQ(json_string_value(json_object_get(d, "code")), "correctness");
  json_t *data = json_object_get(d, "data");
  ASSERT_STR_EQ(json_string_value(json_object_get(data, "fingerprint")), "0123456789abcdef");
  ASSERT_EQ(json_integer_value(json_object_get(data, "votes")), 2);
  ASSERT(json_number_value(json_object_get(data, "confidence")) > 0.79);
  ASSERT_EQ(json_array_size(json_object_get(data, "sources")), 1);
  expect_range(json_incref(json_object_get(d, "range")), 1, 2, 1, 12);
  ASSERT(!json_object_get(d, "relatedInformation")); /* no fix, so no other place */
  ASSERT(!json_object_get(data, "provisional"));
  json_decref(d);
  /* the consensus so far says so, in the message and in data */
  json_object_set_new(f, "provisional", json_true());
  d = qr_diagnostics_from_finding(f, NULL, text, strlen(text), QR_ENC_UTF16);
  ASSERT_STR_EQ(json_string_value(json_object_get(d, "message")), "bad x (2/3 passes, provisional)");
  ASSERT(json_is_true(json_object_get(json_object_get(d, "data"), "provisional")));
  json_decref(d);
  json_object_del(f, "message");
  ASSERT(!qr_diagnostics_from_finding(f, NULL, text, strlen(text), QR_ENC_UTF16));
  json_decref(f);
}

/* Applies a TextEdit (UTF-8 positions) to text; returns a new malloc'd string. */
static char *apply(const char *t, json_t *edit) {
  json_t *r = json_object_get(edit, "range");
  size_t len = strlen(t);
  size_t a = qr_text_offset(t, len, QR_ENC_UTF8, pos(r, "start", "line"), pos(r, "start", "character"));
  size_t b = qr_text_offset(t, len, QR_ENC_UTF8, pos(r, "end", "line"), pos(r, "end", "character"));
  const char *nt = json_string_value(json_object_get(edit, "newText"));
  char *out = malloc(len + strlen(nt) + 1);
  memcpy(out, t, a);
  strcpy(out + a, nt);
  strcat(out, t + b);
  return out;
}

static void expect_fix(const char *t, const char *fix_json, const char *want) {
  json_t *fix = json_loads(fix_json, 0, NULL);
  ASSERT(fix);
  json_t *e = qr_diagnostics_fix_edit(fix, t, strlen(t), QR_ENC_UTF8);
  json_decref(fix);
  if (!want) {
    ASSERT(!e);
    return;
  }
  ASSERT(e);
  char *got = apply(t, e);
  ASSERT_STR_EQ(got, want);
  free(got);
  json_decref(e);
}

TEST(lsp_diagnostics_fix_edit) {
  const char *t = "a\nb\nc\n";
  expect_fix(t, "{\"start_line\":2,\"end_line\":2,\"replacement\":\"B\"}", "a\nB\nc\n");
  expect_fix(t, "{\"start_line\":2,\"end_line\":3,\"replacement\":\"X\\nY\\nZ\\n\"}", "a\nX\nY\nZ\n");
  expect_fix(t, "{\"start_line\":1,\"end_line\":1,\"replacement\":\"\"}", "b\nc\n");
  expect_fix("a\nb", "{\"start_line\":2,\"end_line\":2,\"replacement\":\"B\\n\"}", "a\nB");
  expect_fix(t, "{\"start_line\":3,\"end_line\":4,\"replacement\":\"z\"}", NULL);
  expect_fix(t, "{\"start_line\":0,\"end_line\":1,\"replacement\":\"z\"}", NULL);
  expect_fix(t, "{\"start_line\":1,\"end_line\":1}", NULL);
}

TEST(lsp_diagnostics_range_hits) {
  json_t *r = json_loads("{\"start\":{\"line\":3,\"character\":0},\"end\":{\"line\":5,\"character\":1}}",
                         0, NULL);
  ASSERT(qr_diagnostics_range_hits(r, 5, 9));
  ASSERT(qr_diagnostics_range_hits(r, 0, 3));
  ASSERT(!qr_diagnostics_range_hits(r, 6, 9));
  ASSERT(!qr_diagnostics_range_hits(r, 0, 2));
  json_decref(r);
}

TEST(lsp_diagnostics_related_from_fix) {
  json_t *f = json_loads("{\"start_line\":2,\"end_line\":2,\"message\":\"m\",\"votes\":1,"
                         "\"fix\":{\"start_line\":2,\"end_line\":4,\"replacement\":\"r\"}}",
                         0, NULL);
  json_t *d = qr_diagnostics_from_finding(f, "file:///a.c", text, strlen(text), QR_ENC_UTF16);
  json_t *rel = json_object_get(d, "relatedInformation");
  ASSERT_EQ(json_array_size(rel), 1);
  json_t *loc = json_object_get(json_array_get(rel, 0), "location");
  ASSERT_STR_EQ(json_string_value(json_object_get(loc, "uri")), "file:///a.c");
  expect_range(json_incref(json_object_get(loc, "range")), 1, 2, 3, 10);
  ASSERT(strstr(json_string_value(json_object_get(json_array_get(rel, 0), "message")), "2–4"));
  json_decref(d);
  /* without a uri (client without support) there is none */
  d = qr_diagnostics_from_finding(f, NULL, text, strlen(text), QR_ENC_UTF16);
  ASSERT(d && !json_object_get(d, "relatedInformation"));
  json_decref(d);
  /* a fix on exactly the finding's lines points nowhere else */
  json_integer_set(json_object_get(json_object_get(f, "fix"), "end_line"), 2);
  d = qr_diagnostics_from_finding(f, "file:///a.c", text, strlen(text), QR_ENC_UTF16);
  ASSERT(d && !json_object_get(d, "relatedInformation"));
  json_decref(d);
  json_decref(f);
}

/* ---- moving findings across edits ---- */

/* A change {range: (l0,c0)-(l1,c1), text} as didChange sends it. */
static json_t *change(int l0, int c0, int l1, int c1, const char *t) {
  return json_pack("{s:{s:{s:i,s:i},s:{s:i,s:i}},s:s}", "range", "start", "line", l0, "character",
                   c0, "end", "line", l1, "character", c1, "text", t);
}

/* Findings at 1-based lines 3–4 (fix 3–3) and 10 (fix 9–10). */
static json_t *two_findings(void) {
  return json_loads("[{\"start_line\":3,\"end_line\":4,\"message\":\"a\","
                    "\"fix\":{\"start_line\":3,\"end_line\":3,\"replacement\":\"x\"}},"
                    "{\"start_line\":10,\"end_line\":10,\"message\":\"b\","
                    "\"fix\":{\"start_line\":9,\"end_line\":10,\"replacement\":\"y\"}}]",
                    0, NULL);
}

static int line_of(json_t *fs, size_t i, const char *which) {
  return (int)json_integer_value(json_object_get(json_array_get(fs, i), which));
}

static int fix_line(json_t *fs, size_t i, const char *which) {
  json_t *fix = json_object_get(json_array_get(fs, i), "fix");
  return fix ? (int)json_integer_value(json_object_get(fix, which)) : -1;
}

/* Applies the incremental changes (stolen) to fs in order, as lsp_review does; returns the
 * number moved or removed. */
static int apply_changes(json_t *fs, json_t *changes) {
  int n = 0;
  json_t *ch;
  size_t i;
  json_array_foreach(changes, i, ch) {
    qr_line_edit e;
    ASSERT(qr_diagnostics_change_edit(ch, &e));
    n += qr_diagnostics_move(fs, &e);
  }
  json_decref(changes);
  return n;
}

TEST(lsp_diagnostics_move_insert_above) {
  json_t *fs = two_findings();
  /* two whole lines inserted at the start of (0-based) line 1 */
  ASSERT_EQ(apply_changes(fs, json_pack("[o]", change(1, 0, 1, 0, "p\nq\n"))), 2);
  ASSERT_EQ(line_of(fs, 0, "start_line"), 5);
  ASSERT_EQ(line_of(fs, 0, "end_line"), 6);
  ASSERT_EQ(fix_line(fs, 0, "start_line"), 5);
  ASSERT_EQ(line_of(fs, 1, "start_line"), 12);
  ASSERT_EQ(fix_line(fs, 1, "end_line"), 12);
  /* whole lines inserted just before the finding's first line leave it intact too */
  ASSERT_EQ(apply_changes(fs, json_pack("[o]", change(4, 0, 4, 0, "r\n"))), 2);
  ASSERT_EQ(line_of(fs, 0, "start_line"), 6);
  json_decref(fs);
}

TEST(lsp_diagnostics_move_delete_above) {
  json_t *fs = two_findings();
  /* (0-based) lines 0–1 deleted whole */
  ASSERT_EQ(apply_changes(fs, json_pack("[o]", change(0, 0, 2, 0, ""))), 2);
  ASSERT_EQ(line_of(fs, 0, "start_line"), 1);
  ASSERT_EQ(line_of(fs, 0, "end_line"), 2);
  ASSERT_EQ(line_of(fs, 1, "start_line"), 8);
  ASSERT_EQ(fix_line(fs, 1, "start_line"), 7);
  json_decref(fs);
}

TEST(lsp_diagnostics_move_edit_inside_drops) {
  json_t *fs = two_findings();
  /* a character typed on the first finding's second line (1-based 4) */
  ASSERT_EQ(apply_changes(fs, json_pack("[o]", change(3, 2, 3, 2, "z"))), 1);
  ASSERT_EQ(json_array_size(fs), 1);
  ASSERT_STR_EQ(json_string_value(json_object_get(json_array_get(fs, 0), "message")), "b");
  ASSERT_EQ(line_of(fs, 0, "start_line"), 10);
  /* a line break typed at the end of line 8 (0-based) touches the fix (9–10), not the finding:
   * the finding moves, its fix is dropped */
  ASSERT_EQ(apply_changes(fs, json_pack("[o]", change(8, 5, 8, 5, "\n"))), 1);
  ASSERT_EQ(json_array_size(fs), 1);
  ASSERT_EQ(line_of(fs, 0, "start_line"), 11);
  ASSERT_EQ(fix_line(fs, 0, "start_line"), -1);
  json_decref(fs);
}

TEST(lsp_diagnostics_move_edit_below_unchanged) {
  json_t *fs = two_findings();
  ASSERT_EQ(apply_changes(fs, json_pack("[o,o]", change(12, 0, 14, 3, "a\nb\nc\nd"),
                                        change(20, 0, 20, 0, "x\n"))),
            0);
  ASSERT_EQ(json_array_size(fs), 2);
  ASSERT_EQ(line_of(fs, 0, "start_line"), 3);
  ASSERT_EQ(line_of(fs, 1, "end_line"), 10);
  ASSERT_EQ(fix_line(fs, 1, "start_line"), 9);
  /* an edit inside a line above that adds no line moves nothing */
  ASSERT_EQ(apply_changes(fs, json_pack("[o]", change(0, 1, 0, 4, "abc"))), 0);
  ASSERT_EQ(line_of(fs, 0, "start_line"), 3);
  json_decref(fs);
}

TEST(lsp_diagnostics_move_several_changes) {
  json_t *fs = two_findings();
  /* in order: 3 lines inserted at the top, then (in the new numbering) line 0 deleted, then a
   * character typed on the second finding's line (10 + 3 - 1 = 12, 0-based 11) */
  ASSERT_EQ(apply_changes(fs, json_pack("[o,o,o]", change(0, 0, 0, 0, "1\n2\n3\n"),
                                        change(0, 0, 1, 0, ""), change(11, 0, 11, 0, "!"))),
            5);
  ASSERT_EQ(json_array_size(fs), 1);
  ASSERT_EQ(line_of(fs, 0, "start_line"), 5);
  ASSERT_EQ(line_of(fs, 0, "end_line"), 6);
  json_decref(fs);
}

TEST(lsp_diagnostics_move_crlf) {
  json_t *fs = two_findings();
  /* "\r\n" is one line break, a lone "\r" none (git's rule) */
  ASSERT_EQ(apply_changes(fs, json_pack("[o]", change(0, 0, 0, 0, "a\r\nb\rc\r\n"))), 2);
  ASSERT_EQ(line_of(fs, 0, "start_line"), 5);
  ASSERT_EQ(line_of(fs, 1, "start_line"), 12);
  json_decref(fs);
  /* full texts in CRLF: one line inserted above, lines compared without their breaks */
  qr_line_edit e;
  const char *old_t = "a\r\nb\r\nc\r\nd\r\n", *new_t = "a\r\nNEW\r\nb\r\nc\r\nd\r\n";
  ASSERT_EQ(qr_diagnostics_text_edit(old_t, strlen(old_t), new_t, strlen(new_t), &e), 0);
  ASSERT_EQ(e.first, 1);
  ASSERT_EQ(e.last, 0);
  ASSERT_EQ(e.delta, 1);
}

TEST(lsp_diagnostics_move_full_text) {
  qr_line_edit e;
  const char *old_t = "1\n2\n3\n4\n5\n6\n7\n8\n9\n10\n11\n";
  /* line 4 (1-based) rewritten and a line added after it: findings on 3–4 go, 10 moves to 11 */
  const char *new_t = "1\n2\n3\nfour\nfour and a half\n5\n6\n7\n8\n9\n10\n11\n";
  ASSERT_EQ(qr_diagnostics_text_edit(old_t, strlen(old_t), new_t, strlen(new_t), &e), 0);
  ASSERT_EQ(e.first, 3);
  ASSERT_EQ(e.last, 3);
  ASSERT_EQ(e.delta, 1);
  json_t *fs = two_findings();
  ASSERT_EQ(qr_diagnostics_move(fs, &e), 2);
  ASSERT_EQ(json_array_size(fs), 1);
  ASSERT_EQ(line_of(fs, 0, "start_line"), 11);
  json_decref(fs);
  /* identical texts touch nothing */
  ASSERT_EQ(qr_diagnostics_text_edit(old_t, strlen(old_t), old_t, strlen(old_t), &e), 0);
  ASSERT(e.last < e.first && e.delta == 0);
}

TEST(lsp_diagnostics_change_edit_rejects) {
  qr_line_edit e;
  json_t *full = json_pack("{s:s}", "text", "whole");
  ASSERT(!qr_diagnostics_change_edit(full, &e));
  json_decref(full);
  json_t *backwards = change(5, 0, 4, 0, "");
  ASSERT(!qr_diagnostics_change_edit(backwards, &e));
  json_decref(backwards);
}
