/* Unit tests for diff.c: the golden cases in tests/data/diff/<case>/ (input.patch →
 * expected.json), the lookups, the size cap, a large diff and allocation failures. */
#include <dirent.h>
#include <jansson.h>
#include <stdint.h>

#include "change/diff.h"
#include "test.h"

static const char *status_name(qr_file_status s) {
  static const char *names[] = {"modified", "added", "deleted", "renamed", "copied"};
  return names[s];
}

/* The golden rendering: {"files":[{path, old_path, status, binary, mode_only,
 * no_newline_at_end, hunks:[[old_start, old_count, new_start, new_count, [added…]]]}]}. */
static json_t *render(const qr_diff *d) {
  json_t *files = json_array();
  for (size_t i = 0; i < d->n_files; i++) {
    const qr_diff_file *f = &d->files[i];
    json_t *hunks = json_array();
    for (size_t j = 0; j < f->n_hunks; j++) {
      const qr_hunk *h = &f->hunks[j];
      json_t *added = json_array();
      for (size_t k = 0; k < h->n_added; k++)
        json_array_append_new(added, json_integer(h->added[k]));
      json_array_append_new(hunks, json_pack("[iiiio]", h->old_start, h->old_count, h->new_start,
                                             h->new_count, added));
    }
    json_array_append_new(
        files, json_pack("{s:s, s:s?, s:s, s:b, s:b, s:b, s:o}", "path", f->path, "old_path",
                         f->old_path, "status", status_name(f->status), "binary", f->binary,
                         "mode_only", f->mode_only, "no_newline_at_end", f->no_newline_at_end,
                         "hunks", hunks));
  }
  return json_pack("{s:o}", "files", files);
}

/* Errors render as {"error": name, "line": N} with N read from the "line N: …" message. */
static json_t *render_error(int rc, const qr_err *e) {
  int line = -1;
  sscanf(e->msg, "line %d:", &line);
  return json_pack("{s:s, s:i}", "error", qr_err_name(rc), "line", line);
}

static char *read_case_file(const char *dir, const char *name, size_t *len) {
  char *path = qr_asprintf("%s/%s", dir, name), *text = NULL;
  qr_err e;
  if (qr_read_file(path, 1u << 20, &text, len, &e)) QR__FAIL("%s", e.msg);
  qr_free(path);
  return text;
}

static void check_case(const char *dir) {
  size_t len;
  char *patch = read_case_file(dir, "input.patch", &len);
  char *want_text = read_case_file(dir, "expected.json", &(size_t){0});
  json_error_t je;
  json_t *want = json_loads(want_text, 0, &je);
  if (!want) QR__FAIL("%s/expected.json: %s", dir, je.text);
  qr_diff *d = NULL;
  qr_err e = {0};
  int rc = qr_diff_parse(patch, len, 1u << 20, &d, &e);
  json_t *got = rc ? render_error(rc, &e) : render(d);
  if (!json_equal(got, want)) {
    char *g = json_dumps(got, JSON_ENSURE_ASCII), *w = json_dumps(want, JSON_ENSURE_ASCII);
    QR__FAIL("%s:\n  got  %s\n  want %s\n  (%s)", dir, g, w, rc ? e.msg : "parsed");
  }
  json_decref(got);
  json_decref(want);
  qr_diff_free(d);
  qr_free(patch);
  qr_free(want_text);
}

TEST(diff_golden) {
  char *root = qr_asprintf("%s/diff", qr_test_data_dir());
  DIR *dir = opendir(root);
  ASSERT(dir != NULL);
  int cases = 0;
  struct dirent *ent;
  while ((ent = readdir(dir))) {
    if (ent->d_name[0] == '.' || !strcmp(ent->d_name, "README.md")) continue;
    char *c = qr_asprintf("%s/%s", root, ent->d_name);
    check_case(c);
    qr_free(c);
    cases++;
  }
  closedir(dir);
  qr_free(root);
  ASSERT(cases >= 25); /* the folder holds every case; an empty walk must not pass */
}

static qr_diff *parse_ok(const char *text) {
  qr_diff *d = NULL;
  qr_err e = {0};
  int rc = qr_diff_parse(text, strlen(text), 1u << 20, &d, &e);
  if (rc) QR__FAIL("parse failed: %s", e.msg);
  return d;
}

TEST(diff_lookups) {
  qr_diff *d = parse_ok("diff --git a/m.c b/m.c\n--- a/m.c\n+++ b/m.c\n"
                        "@@ -1,3 +1,4 @@\n a\n+b\n c\n d\n"
                        "@@ -20,1 +21,3 @@\n x\n+y\n+z\n"
                        "diff --git a/gone.c b/gone.c\ndeleted file mode 100644\n"
                        "--- a/gone.c\n+++ /dev/null\n@@ -1 +0,0 @@\n-q\n");
  const qr_diff_file *f = qr_diff_find(d, "m.c");
  ASSERT(f != NULL);
  ASSERT(qr_diff_find(d, "b/m.c") == NULL);
  int added[] = {2, 22, 23};
  for (int line = -1; line <= 30; line++) {
    bool want_added = false;
    for (size_t i = 0; i < QR_ARRAY_LEN(added); i++) want_added |= added[i] == line;
    ASSERT_EQ(qr_diff_line_added(f, line), want_added);
    bool want_in = (line >= 1 && line <= 4) || (line >= 21 && line <= 23);
    ASSERT_EQ(qr_diff_line_in_hunks(f, line), want_in);
  }
  ASSERT(qr_diff_file_reviewable(f));
  const qr_diff_file *g = qr_diff_find(d, "gone.c");
  ASSERT(g != NULL && g->status == QR_FILE_DELETED);
  ASSERT(!qr_diff_file_reviewable(g));
  ASSERT(!qr_diff_line_in_hunks(g, 0) && !qr_diff_line_in_hunks(g, 1));
  ASSERT(!qr_diff_line_added(NULL, 1));
  qr_diff_free(d);
  qr_diff_free(NULL);
}

TEST(diff_not_reviewable) {
  qr_diff *d = parse_ok("diff --git a/x b/x\nold mode 100644\nnew mode 100755\n"
                        "diff --git a/r.c b/r.c\n--- a/r.c\n+++ b/r.c\n@@ -1,2 +1 @@\n a\n-b\n");
  ASSERT_EQ(d->n_files, 2);
  ASSERT(d->files[0].mode_only && !qr_diff_file_reviewable(&d->files[0]));
  ASSERT(!qr_diff_file_reviewable(&d->files[1])); /* only removals: nothing to review */
  qr_diff_free(d);
}

TEST(diff_hunks_out_of_order) {
  const char *text = "--- a/f\n+++ b/f\n@@ -10 +10 @@\n-a\n+b\n@@ -1 +1 @@\n-c\n+d\n";
  qr_diff *d = NULL;
  qr_err e = {0};
  ASSERT_EQ(qr_diff_parse(text, strlen(text), 1000, &d, &e), QR_E_PARSE);
  ASSERT(d == NULL);
  ASSERT(!strncmp(e.msg, "line 6:", 7));
}

TEST(diff_size_cap) {
  const char *text = "--- a/f\n+++ b/f\n@@ -1 +1 @@\n-a\n+b\n";
  qr_diff *d = NULL;
  qr_err e = {0};
  ASSERT_EQ(qr_diff_parse(text, strlen(text), strlen(text) - 1, &d, &e), QR_E_TOOBIG);
  ASSERT_EQ(e.code, QR_E_TOOBIG);
  ASSERT(d == NULL);
  ASSERT_OK(qr_diff_parse(text, strlen(text), strlen(text), &d, &e));
  qr_diff_free(d);
  ASSERT_EQ(qr_diff_parse(NULL, 0, 10, &d, &e), QR_OK); /* empty input: no files */
  ASSERT_EQ(d->n_files, 0);
  qr_diff_free(d);
}

/* Not NUL-terminated: the parser must stop at len. */
TEST(diff_unterminated_input) {
  const char full[] = "--- a/f\n+++ b/f\n@@ -1 +1,3 @@\n a\n+b\n+c\n";
  qr_diff *d = NULL;
  qr_err e = {0};
  char *copy = qr_malloc(sizeof full - 4); /* drops "+c\n" and the NUL: ASan sees an overread */
  memcpy(copy, full, sizeof full - 4);
  ASSERT_EQ(qr_diff_parse(copy, sizeof full - 4, 1000, &d, &e), QR_E_PARSE);
  qr_free(copy);
}

/* A large diff (one hunk of 200k added lines across 2000 files) parses and every lookup
 * agrees with the layout; under the sanitizers this also shows the parse is not quadratic. */
TEST(diff_large) {
  qr_buf b;
  qr_buf_init(&b, 64u << 20);
  for (int f = 0; f < 2000; f++) {
    ASSERT_OK(qr_buf_printf(&b, "diff --git a/f%d.c b/f%d.c\n--- a/f%d.c\n+++ b/f%d.c\n", f, f,
                            f, f));
    ASSERT_OK(qr_buf_printf(&b, "@@ -1,50 +1,150 @@\n"));
    for (int i = 0; i < 50; i++) ASSERT_OK(qr_buf_puts(&b, " ctx\n+add\n+add\n"));
  }
  qr_diff *d = NULL;
  qr_err e = {0};
  ASSERT_OK(qr_diff_parse(b.data, b.len, b.len, &d, &e));
  ASSERT_EQ(d->n_files, 2000);
  const qr_diff_file *f = qr_diff_find(d, "f1999.c");
  ASSERT(f && f->n_hunks == 1 && f->hunks[0].n_added == 100);
  for (int line = 1; line <= 150; line++) ASSERT_EQ(qr_diff_line_added(f, line), line % 3 != 1);
  ASSERT(!qr_diff_line_in_hunks(f, 151));
  qr_diff_free(d);
  qr_buf_free(&b);
}

/* What the diff says a new side is besides its lines: a symlink or submodule, the removed lines
 * of the old side's top (a banner's previous words), and each added line's hash. */
TEST(diff_links_banner_and_hashes) {
  const char *text = "diff --git a/l.c b/l.c\nnew file mode 120000\n--- /dev/null\n+++ b/l.c\n"
                     "@@ -0,0 +1 @@\n+big.c\n\\ No newline at end of file\n"
                     "diff --git a/sub b/sub\nnew file mode 160000\n--- /dev/null\n+++ b/sub\n"
                     "@@ -0,0 +1 @@\n+Subproject commit 0123456789012345678901234567890123456789\n"
                     "diff --git a/m.c b/m.c\nindex 1e559e2..2f3a4b5 120000\n--- a/m.c\n+++ b/m.c\n"
                     "@@ -1 +1 @@\n-big.c\n+small.c\n"
                     "diff --git a/p.c b/p.c\nindex 1e559e2..2f3a4b5 100644\n--- a/p.c\n+++ b/p.c\n"
                     "@@ -1,2 +1,2 @@\n-/* made by Bison 3.8.1 */\n+/* made by Bison 3.8.2 */\r\n int p;\n";
  qr_diff *d = NULL;
  qr_err e = {0};
  ASSERT_OK(qr_diff_parse(text, strlen(text), 1u << 20, &d, &e));
  ASSERT_EQ(d->n_files, 4);
  ASSERT(d->files[2].symlink && !qr_diff_file_reviewable(&d->files[2]));
  ASSERT(d->files[0].symlink && !d->files[0].submodule && !qr_diff_file_reviewable(&d->files[0]));
  ASSERT(d->files[1].submodule && !d->files[1].symlink && !qr_diff_file_reviewable(&d->files[1]));
  const qr_diff_file *p = &d->files[3];
  ASSERT(!p->symlink && !p->submodule && qr_diff_file_reviewable(p));
  ASSERT_STR_EQ(p->removed_head, "/* made by Bison 3.8.1 */\n");
  ASSERT_EQ(p->hunks[0].added_hash[0], qr_diff_line_hash("/* made by Bison 3.8.2 */", 25));
  ASSERT(p->hunks[0].added_hash[0] != qr_diff_line_hash("/* made by Bison 3.8.1 */", 25));
  qr_diff_free(d);
}

/* Fails each allocation in turn: every failure is QR_E_NOMEM with nothing leaked (LeakSanitizer
 * checks at exit), and the parse eventually succeeds. */
TEST(diff_alloc_failures) {
  size_t len;
  char *dir = qr_asprintf("%s/diff/names", qr_test_data_dir());
  char *patch = read_case_file(dir, "input.patch", &len);
  qr_free(dir);
  int rc = QR_E_NOMEM;
  long n;
  for (n = 1; rc == QR_E_NOMEM && n < 10000; n++) {
    qr_diff *d = NULL;
    qr_alloc_fail_after(n);
    rc = qr_diff_parse(patch, len, len, &d, NULL);
    qr_alloc_fail_after(-1);
    ASSERT(rc == QR_OK || rc == QR_E_NOMEM);
    ASSERT(rc == QR_OK || d == NULL);
    qr_diff_free(d);
  }
  ASSERT_OK(rc);
  ASSERT(n > 5);
  qr_free(patch);
}
