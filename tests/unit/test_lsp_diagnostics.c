/* Unit tests for lsp_diagnostics.c: ranges on non-ASCII lines in UTF-16 and UTF-8, blank
 * trimming, the agreement suffix and data of a diagnostic, fix edits that keep line structure,
 * and the pass count behind "(N/M passes)". */
#include <jansson.h>

#include "lsp_diagnostics.h"
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
  json_t *d = qr_diagnostics_from_finding(f, text, strlen(text), QR_ENC_UTF16);
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
  json_decref(d);
  json_object_del(f, "message");
  ASSERT(!qr_diagnostics_from_finding(f, text, strlen(text), QR_ENC_UTF16));
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
