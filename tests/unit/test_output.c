/* Unit tests for output.c, outputs_ci.c and outputs_github.c.
 *
 * Golden: tests/data/outputs/<case>/result.json (a review result recorded from a real CLI run
 * against the stand-in) and diff.patch are rendered in every format and compared with
 * expected.<format>. QR_UPDATE_GOLDEN=1 rewrites the expected files (review the change before
 * committing it). The other tests pin the rules the goldens only show once: batches of 50,
 * unique GitLab fingerprints, comments only inside one hunk, markers, seen findings. */
#include <unistd.h>

#include "output/output.h"
#include "test.h"

static const char *const formats[] = {"text",  "json",   "sarif",  "rdjsonl",
                                      "rdjson", "gitlab", "checks", "github"};

static char *case_file(const char *name, const char *file) {
  return qr_asprintf("%s/outputs/%s/%s", qr_test_data_dir(), name, file);
}

static json_t *load_result(const char *name) {
  char *path = case_file(name, "result.json");
  json_error_t je;
  json_t *j = json_load_file(path, 0, &je);
  if (!j) fprintf(stderr, "%s: %s\n", path, je.text);
  qr_free(path);
  ASSERT(j);
  return j;
}

static qr_diff *load_diff(const char *name) {
  char *path = case_file(name, "diff.patch"), *text = NULL;
  size_t len = 0;
  qr_diff *d = NULL;
  ASSERT_OK(qr_read_file(path, 1 << 20, &text, &len, NULL));
  ASSERT_OK(qr_diff_parse(text, len, 1 << 20, &d, NULL));
  qr_free(text);
  qr_free(path);
  return d;
}

/* Renders `fmt` into a new string. */
static char *render(qr_format fmt, const json_t *result, const qr_diff *diff) {
  char *out = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&out, &len);
  qr_output_opts o = {.color = false, .diff = diff, .tool_version = "TEST"};
  ASSERT_OK(qr_output_write(f, fmt, result, &o));
  fclose(f);
  return out; /* from open_memstream: free() */
}

static void golden(const char *name) {
  json_t *result = load_result(name);
  qr_diff *diff = load_diff(name);
  for (size_t i = 0; i < QR_ARRAY_LEN(formats); i++) {
    qr_format fmt;
    ASSERT_OK(qr_format_parse(formats[i], &fmt));
    char *got = render(fmt, result, diff), *expected = NULL;
    char *file = qr_asprintf("expected.%s", formats[i]), *path = case_file(name, file);
    if (getenv("QR_UPDATE_GOLDEN")) {
      FILE *f = fopen(path, "w");
      ASSERT(f && fputs(got, f) != EOF && !fclose(f));
    }
    ASSERT_OK(qr_read_file(path, 1 << 20, &expected, NULL, NULL));
    if (strcmp(got, expected)) QR__FAIL("%s differs from the rendering:\n%s", path, got);
    qr_free(expected);
    qr_free(path);
    qr_free(file);
    free(got);
  }
  qr_diff_free(diff);
  json_decref(result);
}

TEST(output_golden_review) { golden("review"); }

TEST(output_format_names) {
  qr_format f;
  for (size_t i = 0; i < QR_ARRAY_LEN(formats); i++) {
    ASSERT_OK(qr_format_parse(formats[i], &f));
    ASSERT_EQ(f, i);
    ASSERT(strstr(qr_format_names, formats[i]));
  }
  ASSERT_EQ(qr_format_parse("xml", &f), QR_E_INVAL);
  ASSERT_EQ(qr_format_parse(NULL, &f), QR_E_INVAL);
}

TEST(output_github_needs_diff) {
  json_t *result = load_result("review");
  FILE *f = fopen("/dev/null", "w");
  qr_output_opts o = {0};
  ASSERT_EQ(qr_output_write(f, QR_FORMAT_GITHUB, result, &o), QR_E_INVAL);
  fclose(f);
  json_decref(result);
}

TEST(output_filter_min_confidence) {
  json_t *result = load_result("review");
  json_t *all = qr_output_filter(result, 0), *strong = qr_output_filter(result, 0.8);
  ASSERT_EQ(json_array_size(json_object_get(all, "findings")), 5);
  ASSERT_EQ(json_array_size(json_object_get(strong, "findings")), 2);
  ASSERT_EQ(json_array_size(json_object_get(result, "findings")), 5); /* the input is untouched */
  json_decref(strong);
  json_decref(all);
  json_decref(result);
}

/* A result with n findings on line 12 of src/join.c, all with the same fingerprint. */
static json_t *many(size_t n) {
  json_t *findings = json_array();
  for (size_t i = 0; i < n; i++)
    json_array_append_new(findings, json_pack("{s:s, s:i, s:i, s:s, s:s, s:s, s:i, s:s}", "file",
                                              "src/join.c", "start_line", 12, "end_line", 12,
                                              "severity", "warning", "category", "c", "message",
                                              "m", "votes", 1, "fingerprint", "00000000deadbeef"));
  return json_pack("{s:o, s:[], s:f}", "findings", findings, "passes", "cost_usd", 0.0);
}

TEST(output_checks_batches_of_50) {
  json_t *result = many(120), *batches = qr_output_checks(result);
  ASSERT_EQ(json_array_size(batches), 3);
  ASSERT_EQ(json_array_size(json_object_get(json_array_get(batches, 0), "annotations")), 50);
  ASSERT_EQ(json_array_size(json_object_get(json_array_get(batches, 1), "annotations")), 50);
  ASSERT_EQ(json_array_size(json_object_get(json_array_get(batches, 2), "annotations")), 20);
  ASSERT_STR_EQ(qr_output_checks_conclusion(result, QR_SEV_WARNING), "failure");
  ASSERT_STR_EQ(qr_output_checks_conclusion(result, QR_SEV_ERROR), "neutral");
  ASSERT_STR_EQ(qr_output_checks_conclusion(result, 0), "neutral");
  json_decref(batches);
  json_decref(result);
  result = many(0);
  batches = qr_output_checks(result);
  ASSERT_EQ(json_array_size(batches), 1); /* a run with no findings still gets its output */
  ASSERT_STR_EQ(qr_output_checks_conclusion(result, QR_SEV_HINT), "success");
  json_decref(batches);
  json_decref(result);
}

TEST(output_gitlab_fingerprints_unique) {
  json_t *result = many(3), *issues = qr_output_gitlab(result), *seen = json_object();
  size_t i;
  json_t *v;
  json_array_foreach(issues, i, v) {
    const char *fp = json_string_value(json_object_get(v, "fingerprint"));
    ASSERT(fp && !json_object_get(seen, fp));
    json_object_set_new(seen, fp, json_true());
  }
  ASSERT_EQ(json_object_size(seen), 3);
  json_decref(seen);
  json_decref(issues);
  json_decref(result);
}

TEST(output_github_only_inside_hunks) {
  json_t *result = load_result("review");
  qr_diff *diff = load_diff("review");
  size_t n_new = 0;
  json_t *payload = qr_output_github(result, diff, NULL, &n_new);
  ASSERT_EQ(n_new, 5);
  size_t i;
  json_t *c;
  json_array_foreach(json_object_get(payload, "comments"), i, c) {
    const qr_diff_file *f = qr_diff_find(diff, json_string_value(json_object_get(c, "path")));
    ASSERT(f);
    ASSERT(qr_diff_line_in_hunks(f, (int)json_integer_value(json_object_get(c, "line"))));
    ASSERT(strstr(json_string_value(json_object_get(c, "body")), QR_FP_MARKER_PREFIX));
  }
  /* src/join.c:1 lies before the first hunk: it goes to the body. */
  ASSERT_EQ(json_array_size(json_object_get(payload, "comments")), 4);
  ASSERT(strstr(json_string_value(json_object_get(payload, "body")), "`src/join.c:1`"));
  json_decref(payload);
  qr_diff_free(diff);
  json_decref(result);
}

TEST(output_github_seen_are_left_out) {
  json_t *result = load_result("review"), *seen = json_object();
  qr_diff *diff = load_diff("review");
  json_t *first = qr_output_github(result, diff, NULL, NULL);
  ASSERT_OK(qr_output_github_seen(json_string_value(json_object_get(first, "body")), seen));
  size_t i;
  json_t *c;
  json_array_foreach(json_object_get(first, "comments"), i, c)
    ASSERT_OK(qr_output_github_seen(json_string_value(json_object_get(c, "body")), seen));
  ASSERT_EQ(json_object_size(seen), 5);
  size_t n_new = 99;
  json_t *again = qr_output_github(result, diff, seen, &n_new);
  ASSERT_EQ(n_new, 0);
  ASSERT_EQ(json_array_size(json_object_get(again, "comments")), 0);
  json_decref(again);
  json_decref(first);
  qr_diff_free(diff);
  json_decref(seen);
  json_decref(result);
}

TEST(output_github_seen_parses_markers_strictly) {
  json_t *seen = json_object();
  ASSERT_OK(qr_output_github_seen("a <!-- quorum:fp=abc123 --> b <!-- quorum:fp= --> "
                                  "<!-- quorum:fp=x y --> <!-- quorum:fp=0f-1 -->", seen));
  ASSERT_EQ(json_object_size(seen), 2);
  ASSERT(json_object_get(seen, "abc123") && json_object_get(seen, "0f-1"));
  ASSERT_OK(qr_output_github_seen(NULL, seen));
  json_decref(seen);
}

TEST(output_github_suggestion_fence_outlasts_backticks) {
  json_t *result = load_result("review");
  qr_diff *diff = load_diff("review");
  json_t *payload = qr_output_github(result, diff, NULL, NULL);
  size_t i;
  json_t *c;
  bool found = false;
  json_array_foreach(json_object_get(payload, "comments"), i, c) {
    const char *body = json_string_value(json_object_get(c, "body"));
    if (strstr(body, "not a fence")) {
      ASSERT(strstr(body, "\n````suggestion\n"));
      ASSERT(strstr(body, "```\n````\n"));
      found = true;
    }
  }
  ASSERT(found);
  json_decref(payload);
  qr_diff_free(diff);
  json_decref(result);
}

TEST(output_github_summary_lists_skipped) {
  json_t *result = load_result("review");
  json_t *skipped = json_pack("[{s:s, s:s}]", "file", "big.bin", "reason", "too large");
  char *s = qr_output_github_summary(result, skipped);
  ASSERT(s && !strncmp(s, QR_SUMMARY_MARKER, strlen(QR_SUMMARY_MARKER)));
  ASSERT(strstr(s, "- `big.bin` — too large"));
  ASSERT(strstr(s, "5 findings"));
  qr_free(s);
  json_decref(skipped);
  json_decref(result);
}

TEST(output_max_severity) {
  json_t *result = load_result("review"), *none = many(0);
  ASSERT_EQ(qr_output_max_severity(result), QR_SEV_ERROR);
  ASSERT_EQ(qr_output_max_severity(none), 0);
  json_decref(none);
  json_decref(result);
}

TEST(output_text_votes_over_seen) {
  json_t *result = json_pack("{s:[{s:s, s:i, s:i, s:s, s:s, s:s, s:i, s:i}], s:[{s:s, s:s}], s:f}",
                             "findings", "file", "a.c", "start_line", 3, "end_line", 3, "severity",
                             "error", "category", "c", "message", "m", "votes", 2, "seen", 3,
                             "passes", "role", "pass", "status", "ok", "cost_usd", 0.0);
  char *text = render(QR_FORMAT_TEXT, result, NULL);
  ASSERT(!strncmp(text, "a.c:3:1: error: m [c, 2/3]\n", 27));
  free(text);
  json_object_del(json_array_get(json_object_get(result, "findings"), 0), "seen");
  text = render(QR_FORMAT_TEXT, result, NULL); /* without "seen": the passes that ran */
  ASSERT(!strncmp(text, "a.c:3:1: error: m [c, 2/1]\n", 27));
  free(text);
  json_decref(result);
}

/* Text output from models, providers and file names: no control character reaches the terminal,
 * in any field (ESC sequences that retitle or clear it, C1's U+009B CSI, DEL, a tab). */
TEST(output_text_escapes_every_field) {
  static const char bad[] = "x\033]0;owned\a\033[2J\xc2\x9b" "31m\x7f\ty";
  json_t *r = json_pack(
      "{s:[{s:s,s:i,s:i,s:s,s:s,s:s,s:i,s:i}],s:[{s:s,s:s,s:s,s:s,s:[{s:s,s:i,s:s}]}],s:[s],"
      "s:[s],s:[s],s:f}",
      "findings", "file", bad, "start_line", 3, "start_column", 1, "severity", bad, "message", bad,
      "category", bad, "votes", 1, "seen", 1, "passes", "role", "pass", "model", bad, "strategy",
      bad, "status", bad, "drop_reasons", "file", bad, "line", 2, "reason", bad, "omitted_files",
      bad, "errors", bad, "notes", bad, "cost_usd", 0.0);
  ASSERT(r);
  char *text = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&text, &len);
  ASSERT_OK(qr_output_text(f, r, false));
  fclose(f);
  size_t seen = 0;
  for (const unsigned char *p = (const unsigned char *)text; *p; p++) {
    ASSERT(*p >= 0x20 || *p == '\n');
    ASSERT(*p != 0x7f && *p != 0x9b);
    if (*p == 0xc2) ASSERT(p[1] >= 0xa0);
  }
  for (const char *p = text; (p = strstr(p, "x\\x1b]0;owned\\x07\\x1b[2J\\x9b31m\\x7f\\ty"));
       p++)
    seen++;
  /* file, severity, message, category; model, strategy, status; 3 lists; a drop's pass, file
   * and reason */
  ASSERT_EQ(seen, 14);
  free(text); /* open_memstream allocates with malloc */
  json_decref(r);
}
