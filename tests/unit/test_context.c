/* Unit tests for context.c: golden cases (tests/data/context/CASE/{diff,new/…,expected}) per
 * language, and token-budget packing and splitting on generated files.
 * QR_UPDATE_GOLDEN=1 rewrites the expected files (review the change before committing it). */
#include <dirent.h>
#include <stdlib.h>

#include "change/context.h"
#include "test.h"

/* The whole context as one text: chunks with their file lists, then omitted files. */
static char *render(const qr_context *c, int budget) {
  qr_buf b;
  qr_buf_init(&b, 1u << 24);
  for (size_t i = 0; i < c->n_chunks; i++) {
    const qr_context_chunk *ch = &c->chunks[i];
    ASSERT_EQ(ch->est_tokens, qr_estimate_tokens(ch->text, strlen(ch->text)));
    ASSERT(ch->est_tokens <= budget);
    ASSERT(!strncmp(ch->text, "### FILE ", 9));
    qr_buf_printf(&b, "=== chunk %zu:", i);
    for (size_t k = 0; k < ch->n_files; k++) qr_buf_printf(&b, " %s", ch->files[k]);
    qr_buf_printf(&b, "\n%s", ch->text);
  }
  for (size_t i = 0; i < c->n_omitted; i++) qr_buf_printf(&b, "=== omitted %s\n", c->omitted[i]);
  return qr_buf_detach(&b, NULL);
}

/* Parses CASE/diff and loads CASE/new/PATH for every file of the diff that has one. */
static void load_case(const char *dir, qr_diff **d, qr_snapshot **s) {
  char path[1024], *text;
  size_t len;
  qr_err e;
  snprintf(path, sizeof path, "%s/diff", dir);
  if (qr_read_file(path, 1u << 20, &text, &len, &e)) QR__FAIL("%s", e.msg);
  if (qr_diff_parse(text, len, 1u << 20, d, &e)) QR__FAIL("%s: %s", path, e.msg);
  qr_free(text);
  *s = qr_snapshot_new();
  for (size_t i = 0; i < (*d)->n_files; i++) {
    snprintf(path, sizeof path, "%s/new/%s", dir, (*d)->files[i].path);
    if (qr_read_file(path, 1u << 20, &text, &len, NULL)) continue;
    ASSERT_OK(qr_snapshot_add(*s, (*d)->files[i].path, text, len));
    qr_free(text);
  }
}

static void golden_case(const char *dir) {
  qr_diff *d;
  qr_snapshot *s;
  load_case(dir, &d, &s);
  qr_context *c = NULL;
  qr_err e;
  if (qr_context_build(d, s, 24000, &c, &e)) QR__FAIL("%s: %s", dir, e.msg);
  char *got = render(c, 24000);
  char path[1024], *want = NULL;
  size_t len;
  snprintf(path, sizeof path, "%s/expected", dir);
  if (getenv("QR_UPDATE_GOLDEN")) {
    FILE *f = fopen(path, "w");
    ASSERT(f != NULL);
    fputs(got, f);
    fclose(f);
  }
  if (qr_read_file(path, 1u << 20, &want, &len, &e)) QR__FAIL("%s", e.msg);
  if (strcmp(got, want)) QR__FAIL("%s differs; got:\n%s", path, got);
  qr_free(want);
  qr_free(got);
  qr_context_free(c);
  qr_snapshot_free(s);
  qr_diff_free(d);
}

TEST(context_golden) {
  char root[512];
  snprintf(root, sizeof root, "%s/context", qr_test_data_dir());
  const char *cases[] = {"c", "python", "js", "go", "nogrammar", "mixed"};
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    char dir[600];
    snprintf(dir, sizeof dir, "%s/%s", root, cases[i]);
    golden_case(dir);
  }
}

TEST(context_estimate_tokens) {
  ASSERT_EQ(qr_estimate_tokens("", 0), 0);
  ASSERT_EQ(qr_estimate_tokens("a", 1), 1);
  ASSERT_EQ(qr_estimate_tokens("abcd", 4), 1);
  ASSERT_EQ(qr_estimate_tokens("abcde", 5), 2);
}

/* A diff adding line `line` of `path` (a one-line hunk; the text is in the snapshot). */
static qr_diff *one_line_diff(const char *path, int line) {
  char *text = qr_asprintf("--- a/%s\n+++ b/%s\n@@ -%d,0 +%d,1 @@\n+x\n", path, path, line - 1,
                           line);
  qr_diff *d = NULL;
  qr_err e;
  if (qr_diff_parse(text, strlen(text), 1u << 20, &d, &e)) QR__FAIL("%s", e.msg);
  qr_free(text);
  return d;
}

/* A C file whose function f spans lines 1..n+2 with one statement per line. */
static char *long_function(int n) {
  qr_buf b;
  qr_buf_init(&b, 1u << 24);
  qr_buf_puts(&b, "int f(int x) {\n");
  for (int i = 0; i < n; i++) qr_buf_printf(&b, "  x += %d; /* step */\n", i);
  qr_buf_puts(&b, "}\n");
  return qr_buf_detach(&b, NULL);
}

/* Every line number of [first,last] appears exactly once, in order, across the chunks, and each
 * piece's "lines A-B" header matches its lines. */
static void assert_covers(const qr_context *c, int first, int last) {
  int next = first;
  for (size_t i = 0; i < c->n_chunks; i++) {
    for (const char *p = c->chunks[i].text; *p; p = strchr(p, '\n') + 1) {
      int a, b, n;
      if (sscanf(p, "lines %d-%d", &a, &b) == 2) {
        ASSERT_EQ(a, next);
        ASSERT(b >= a);
      } else if (sscanf(p, "%d", &n) == 1) {
        ASSERT_EQ(n, next);
        next++;
      }
    }
  }
  ASSERT_EQ(next, last + 1);
}

TEST(context_split_by_budget) {
  char *src = long_function(300);
  qr_diff *d = one_line_diff("big.c", 150);
  qr_snapshot *s = qr_snapshot_new();
  ASSERT_OK(qr_snapshot_add(s, "big.c", src, strlen(src)));
  qr_context *c = NULL;
  ASSERT_OK(qr_context_build(d, s, 256, &c, NULL));
  ASSERT(c->n_chunks > 5);
  for (size_t i = 0; i < c->n_chunks; i++) {
    ASSERT(c->chunks[i].est_tokens <= 256);
    ASSERT_EQ(c->chunks[i].n_files, 1);
    ASSERT_STR_EQ(c->chunks[i].files[0], "big.c");
    ASSERT(strstr(c->chunks[i].text, "(function_definition f)") != NULL);
  }
  assert_covers(c, 1, 302);  /* the whole definition, split by lines */
  ASSERT_EQ(c->n_omitted, 0);
  qr_context_free(c);

  ASSERT_OK(qr_context_build(d, s, 24000, &c, NULL));  /* a large budget keeps it whole */
  ASSERT_EQ(c->n_chunks, 1);
  ASSERT(strstr(c->chunks[0].text, "lines 1-302 (function_definition f)\n") != NULL);
  ASSERT(strstr(c->chunks[0].text, " 150+|   x += 148;") != NULL);
  qr_context_free(c);
  ASSERT_EQ(qr_context_build(d, s, 100, &c, NULL), QR_E_INVAL);
  qr_snapshot_free(s);
  qr_diff_free(d);
  qr_free(src);
}

TEST(context_huge_definition_sends_a_window) {
  char *src = long_function(600);
  qr_diff *d = one_line_diff("huge.c", 300);
  qr_snapshot *s = qr_snapshot_new();
  ASSERT_OK(qr_snapshot_add(s, "huge.c", src, strlen(src)));
  qr_context *c = NULL;
  ASSERT_OK(qr_context_build(d, s, 24000, &c, NULL));
  ASSERT_EQ(c->n_chunks, 1);
  ASSERT(strstr(c->chunks[0].text, "lines 280-320 (function_definition f)\n") != NULL);
  assert_covers(c, 280, 320);
  qr_context_free(c);
  qr_snapshot_free(s);
  qr_diff_free(d);
  qr_free(src);
}

TEST(context_packs_whole_files_in_order) {
  char *src = long_function(30); /* ~800 bytes rendered: three fit in 1024 tokens, not in 256 */
  const char *names[] = {"a.c", "b.c", "c.c"};
  qr_buf db;
  qr_buf_init(&db, 1u << 20);
  for (int i = 0; i < 3; i++)
    qr_buf_printf(&db, "--- a/%s\n+++ b/%s\n@@ -10,0 +11,1 @@\n+x\n", names[i], names[i]);
  qr_diff *d = NULL;
  ASSERT_OK(qr_diff_parse(db.data, db.len, 1u << 20, &d, NULL));
  qr_buf_free(&db);
  qr_snapshot *s = qr_snapshot_new();
  for (int i = 0; i < 3; i++) ASSERT_OK(qr_snapshot_add(s, names[i], src, strlen(src)));

  qr_context *c = NULL;
  ASSERT_OK(qr_context_build(d, s, 1024, &c, NULL));
  ASSERT_EQ(c->n_chunks, 1);
  ASSERT_EQ(c->chunks[0].n_files, 3);
  ASSERT_STR_EQ(c->chunks[0].files[2], "c.c");
  qr_context_free(c);

  ASSERT_OK(qr_context_build(d, s, 300, &c, NULL));
  ASSERT_EQ(c->n_chunks, 3); /* each region fits a fresh chunk, so none is split */
  for (size_t i = 0; i < 3; i++) {
    ASSERT_EQ(c->chunks[i].n_files, 1);
    ASSERT_STR_EQ(c->chunks[i].files[0], names[i]);
    ASSERT(strstr(c->chunks[i].text, "lines 1-32 (function_definition f)") != NULL);
  }
  qr_context_free(c);
  qr_snapshot_free(s);
  qr_diff_free(d);
  qr_free(src);
}

TEST(context_long_line_is_cut_visibly) {
  qr_buf b;
  qr_buf_init(&b, 1u << 20);
  qr_buf_puts(&b, "a = 1\nb = \"");
  for (int i = 0; i < 2000; i++) qr_buf_puts(&b, "\xc3\xa9"); /* é, two bytes */
  qr_buf_puts(&b, "\"\n");
  qr_diff *d = one_line_diff("min.py", 2);
  qr_snapshot *s = qr_snapshot_new();
  ASSERT_OK(qr_snapshot_add(s, "min.py", b.data, b.len));
  qr_context *c = NULL;
  ASSERT_OK(qr_context_build(d, s, 256, &c, NULL));
  ASSERT_EQ(c->n_chunks, 1);
  ASSERT(c->chunks[0].est_tokens <= 256);
  const char *cut = strstr(c->chunks[0].text, " [… ");
  ASSERT(cut != NULL && strstr(cut, "more bytes cut]") != NULL);
  ASSERT(((unsigned char)cut[-1] & 0xC0) == 0x80 && (unsigned char)cut[-2] == 0xC3); /* whole é */
  qr_context_free(c);
  qr_snapshot_free(s);
  qr_diff_free(d);
  qr_buf_free(&b);
}

TEST(context_alloc_failures) {
  char dir[600];
  snprintf(dir, sizeof dir, "%s/context/c", qr_test_data_dir());
  qr_diff *d;
  qr_snapshot *s;
  load_case(dir, &d, &s);
  int rc = QR_E_NOMEM;
  for (long n = 1; rc == QR_E_NOMEM; n++) {
    qr_context *c = NULL;
    qr_alloc_fail_after(n);
    rc = qr_context_build(d, s, 256, &c, NULL);
    qr_alloc_fail_after(-1);
    if (!rc) qr_context_free(c);
  }
  ASSERT_OK(rc);
  qr_snapshot_free(s);
  qr_diff_free(d);
}
