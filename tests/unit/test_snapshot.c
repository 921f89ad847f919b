/* Unit tests for snapshot.c: reading a temp repository (escapes, missing, binary, size cap,
 * CRLF), the line index, editor buffers and allocation failures. */
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "change/languages.h"
#include "change/snapshot.h"
#include "test.h"

static void write_file(const char *dir, const char *name, const char *text, size_t len) {
  char *path = qr_asprintf("%s/%s", dir, name);
  FILE *f = fopen(path, "wb");
  ASSERT(f != NULL);
  ASSERT_EQ(fwrite(text, 1, len, f), len);
  fclose(f);
  qr_free(path);
}

static void make_link(const char *target, const char *dir, const char *name) {
  char *path = qr_asprintf("%s/%s", dir, name);
  ASSERT_OK(symlink(target, path));
  qr_free(path);
}

/* A temp dir holding repo/ (the root) and outside/ (a sibling the root must not reach). */
typedef struct {
  char base[64], *repo, *outside;
} fixture;

static void fixture_init(fixture *fx) {
  strcpy(fx->base, "/tmp/qr-snapshot-XXXXXX");
  ASSERT(mkdtemp(fx->base) != NULL);
  fx->repo = qr_asprintf("%s/repo", fx->base);
  fx->outside = qr_asprintf("%s/outside", fx->base);
  ASSERT_OK(mkdir(fx->repo, 0700));
  ASSERT_OK(mkdir(fx->outside, 0700));
  write_file(fx->outside, "secret.c", "secret\n", 7);
  write_file(fx->base, "escape.c", "escape\n", 7);
  write_file(fx->repo, "a.c", "int a;\nint b;\n", 14);
  write_file(fx->repo, "crlf.py", "x = 1\r\ny = 2\r\n", 14);
  write_file(fx->repo, "tail.txt", "p\nq", 3);
  write_file(fx->repo, "big.c", "0123456789012345678901234567890123456789\n", 41);
  write_file(fx->repo, "bin.c", "ab\0cd\n", 6);
  char *sub = qr_asprintf("%s/sub", fx->repo);
  ASSERT_OK(mkdir(sub, 0700));
  write_file(sub, "in.c", "inner\n", 6);
  qr_free(sub);
  make_link("../outside/secret.c", fx->repo, "link.c");
  make_link(fx->outside, fx->repo, "linkdir");
  make_link("sub/in.c", fx->repo, "inlink.c"); /* a symlink that stays inside is fine */
}

static void fixture_free(fixture *fx) {
  char *cmd = qr_asprintf("rm -rf '%s'", fx->base);
  ASSERT_OK(system(cmd));
  qr_free(cmd);
  qr_free(fx->repo);
  qr_free(fx->outside);
}

/* A diff whose files each add line 1, with the given new-side paths and statuses. */
static qr_diff *diff_of(const char *const *paths, const qr_file_status *status, size_t n) {
  qr_diff *d = qr_calloc(1, sizeof *d);
  d->files = qr_calloc(n, sizeof *d->files);
  d->n_files = n;
  for (size_t i = 0; i < n; i++) {
    qr_diff_file *f = &d->files[i];
    f->path = qr_strdup(paths[i]);
    f->status = status ? status[i] : QR_FILE_MODIFIED;
    f->hunks = qr_calloc(1, sizeof *f->hunks);
    f->n_hunks = 1;
    f->hunks[0] = (qr_hunk){.old_start = 0, .old_count = 0, .new_start = 1, .new_count = 1};
    f->hunks[0].added = qr_malloc(sizeof(int));
    f->hunks[0].added[0] = 1;
    f->hunks[0].n_added = 1;
  }
  return d;
}

static bool has_omitted(char **omitted, const char *entry) {
  for (char **p = omitted; *p; p++)
    if (!strcmp(*p, entry)) return true;
  return false;
}

static void assert_line(const qr_snapshot_file *f, int line, const char *want) {
  const char *s;
  size_t n;
  ASSERT(qr_snapshot_line(f, line, &s, &n));
  ASSERT_EQ(n, strlen(want));
  ASSERT_MEM_EQ(s, want, n);
}

TEST(snapshot_from_repo) {
  fixture fx;
  fixture_init(&fx);
  const char *paths[] = {"a.c",      "crlf.py",     "tail.txt", "big.c",      "bin.c",
                         "link.c",   "linkdir/secret.c",        "../escape.c", "/etc/passwd",
                         "sub/../a.c", "missing.c", "inlink.c", "gone.c"};
  qr_file_status st[QR_ARRAY_LEN(paths)] = {0};
  st[QR_ARRAY_LEN(paths) - 1] = QR_FILE_DELETED; /* not reviewable: neither read nor omitted */
  qr_diff *d = diff_of(paths, st, QR_ARRAY_LEN(paths));
  qr_snapshot *s = NULL;
  char **omitted = NULL;
  qr_err e = {0};
  ASSERT_OK(qr_snapshot_from_diff(d, fx.repo, 40, &s, &omitted, &e));

  ASSERT_EQ(s->n_files, 4);
  const qr_snapshot_file *a = qr_snapshot_find(s, "a.c");
  ASSERT(a && a->n_lines == 2 && a->lang && !strcmp(a->lang->name, "c"));
  assert_line(a, 1, "int a;");
  assert_line(a, 2, "int b;");
  const char *ls;
  size_t ln;
  ASSERT(!qr_snapshot_line(a, 0, &ls, &ln) && !qr_snapshot_line(a, 3, &ls, &ln));
  const qr_snapshot_file *c = qr_snapshot_find(s, "crlf.py");
  ASSERT(c && c->n_lines == 2 && c->lang && !strcmp(c->lang->name, "python"));
  assert_line(c, 1, "x = 1");
  assert_line(c, 2, "y = 2");
  const qr_snapshot_file *t = qr_snapshot_find(s, "tail.txt");
  ASSERT(t && t->n_lines == 2 && t->lang == NULL);
  assert_line(t, 2, "q");
  const qr_snapshot_file *in = qr_snapshot_find(s, "inlink.c");
  ASSERT(in && in->len == 6 && !strcmp(in->text, "inner\n"));

  ASSERT(has_omitted(omitted, "big.c: larger than 40 bytes"));
  ASSERT(has_omitted(omitted, "bin.c: binary"));
  ASSERT(has_omitted(omitted, "link.c: outside the repository"));
  ASSERT(has_omitted(omitted, "linkdir/secret.c: outside the repository"));
  ASSERT(has_omitted(omitted, "../escape.c: outside the repository"));
  ASSERT(has_omitted(omitted, "/etc/passwd: outside the repository"));
  ASSERT(has_omitted(omitted, "sub/../a.c: outside the repository"));
  ASSERT(has_omitted(omitted, "missing.c: No such file or directory"));
  size_t n_omitted = 0;
  while (omitted[n_omitted]) n_omitted++;
  ASSERT_EQ(n_omitted, 8);

  qr_snapshot_free_omitted(omitted);
  qr_snapshot_free(s);
  qr_diff_free(d);
  fixture_free(&fx);
}

TEST(snapshot_bad_root) {
  const char *paths[] = {"a.c"};
  qr_diff *d = diff_of(paths, NULL, 1);
  qr_snapshot *s = NULL;
  char **omitted = NULL;
  qr_err e = {0};
  ASSERT_EQ(qr_snapshot_from_diff(d, "/nonexistent/qr-root", 100, &s, &omitted, &e), QR_E_NOTFOUND);
  ASSERT(s == NULL && omitted == NULL);
  ASSERT(strstr(e.msg, "/nonexistent/qr-root") != NULL);
  qr_diff_free(d);
}

TEST(snapshot_add_and_lines) {
  qr_snapshot *s = qr_snapshot_new();
  ASSERT(s != NULL);
  ASSERT_OK(qr_snapshot_add(s, "e.go", "", 0));
  ASSERT_OK(qr_snapshot_add(s, "m.rs", "fn a() {}\r\n\r\nlast\r", 18));
  const qr_snapshot_file *e = qr_snapshot_find(s, "e.go");
  ASSERT(e && e->n_lines == 0 && e->lang && !strcmp(e->lang->name, "go"));
  const qr_snapshot_file *m = qr_snapshot_find(s, "m.rs");
  ASSERT_EQ(m->n_lines, 3);
  assert_line(m, 1, "fn a() {}");
  assert_line(m, 2, "");
  assert_line(m, 3, "last\r"); /* a CR not followed by a newline is content */
  /* adding the same path again replaces the buffer */
  ASSERT_OK(qr_snapshot_add(s, "m.rs", "x\ny\nz\n", 6));
  ASSERT_EQ(s->n_files, 2);
  m = qr_snapshot_find(s, "m.rs");
  ASSERT_EQ(m->n_lines, 3);
  assert_line(m, 3, "z");
  ASSERT(qr_snapshot_find(s, "nope") == NULL);
  ASSERT_EQ(qr_snapshot_add(s, NULL, "x", 1), QR_E_INVAL);
  qr_snapshot_free(s);
  qr_snapshot_free(NULL);
  qr_snapshot_free_omitted(NULL);
}

/* Every allocation failure gives QR_E_NOMEM and leaks nothing (LeakSanitizer checks at exit). */
TEST(snapshot_alloc_failures) {
  fixture fx;
  fixture_init(&fx);
  const char *paths[] = {"a.c", "crlf.py", "missing.c", "bin.c"};
  qr_diff *d = diff_of(paths, NULL, QR_ARRAY_LEN(paths));
  int rc = QR_E_NOMEM;
  long n;
  for (n = 1; rc == QR_E_NOMEM && n < 1000; n++) {
    qr_snapshot *s = NULL;
    char **omitted = NULL;
    qr_alloc_fail_after(n);
    rc = qr_snapshot_from_diff(d, fx.repo, 1000, &s, &omitted, NULL);
    qr_alloc_fail_after(-1);
    ASSERT(rc == QR_OK || rc == QR_E_NOMEM);
    if (!rc) {
      ASSERT_EQ(s->n_files, 2);
      ASSERT(has_omitted(omitted, "bin.c: binary"));
    }
    qr_snapshot_free_omitted(omitted);
    qr_snapshot_free(s);
  }
  ASSERT_OK(rc);
  ASSERT(n > 5);
  qr_diff_free(d);
  fixture_free(&fx);
}
