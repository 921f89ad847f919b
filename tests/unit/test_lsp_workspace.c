/* Unit tests for lsp_workspace.c: URI decoding (and what it refuses), confinement against "..",
 * absolute paths and symlinks out, the dismissed list, and new-file diffs. */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lsp/lsp_workspace.h"
#include "test.h"

static char *tmpdir(void) {
  char tmpl[] = "/tmp/qr-ws-XXXXXX";
  char *d = mkdtemp(tmpl);
  ASSERT(d);
  return realpath(d, NULL);
}

static void rm_rf(const char *d) {
  char cmd[512];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", d);
  ASSERT_OK(system(cmd));
}

TEST(lsp_workspace_uri_to_path) {
  char *p = qr_workspace_uri_to_path("file:///a/b%20c/%C3%A9.c");
  ASSERT_STR_EQ(p, "/a/b c/é.c");
  qr_free(p);
  p = qr_workspace_uri_to_path("file://localhost/x");
  ASSERT_STR_EQ(p, "/x");
  qr_free(p);
  const char *bad[] = {"http://x/a", "file:relative", "file:///a/../etc/passwd",
                       "file:///a/%2e%2e/etc", "file:///a/%2E%2e/etc", "file:///a/./b",
                       "file:///a/%00b", "file:///a/%zz", "file:///a%2"};
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
    p = qr_workspace_uri_to_path(bad[i]);
    if (p) fprintf(stderr, "accepted %s\n", bad[i]);
    ASSERT(!p);
  }
}

TEST(lsp_workspace_path_to_uri_round_trip) {
  char *u = qr_workspace_path_to_uri("/tmp/a b/é#?.c");
  ASSERT_STR_EQ(u, "file:///tmp/a%20b/%C3%A9%23%3F.c");
  char *p = qr_workspace_uri_to_path(u);
  ASSERT_STR_EQ(p, "/tmp/a b/é#?.c");
  qr_free(u);
  qr_free(p);
}

TEST(lsp_workspace_confinement) {
  char *root = tmpdir(), *out = tmpdir();
  char path[600], link[600];
  snprintf(path, sizeof path, "%s/src", root);
  ASSERT_OK(mkdir(path, 0755));
  snprintf(link, sizeof link, "%s/escape", root);
  ASSERT_OK(symlink(out, link));
  ASSERT(qr_workspace_rel_confined(root, "src/a.c"));
  ASSERT(qr_workspace_rel_confined(root, "new/dir/file.c")); /* not there yet: still inside */
  ASSERT(!qr_workspace_rel_confined(root, "../x"));
  ASSERT(!qr_workspace_rel_confined(root, "src/../../x"));
  ASSERT(!qr_workspace_rel_confined(root, "/etc/passwd"));
  ASSERT(!qr_workspace_rel_confined(root, "escape/a.c"));
  ASSERT(!qr_workspace_rel_confined(root, ""));
  char *rel = NULL;
  snprintf(path, sizeof path, "%s/src/a.c", root);
  ASSERT(qr_workspace_abs_confined(root, path, &rel));
  ASSERT_STR_EQ(rel, "src/a.c");
  qr_free(rel);
  snprintf(path, sizeof path, "%s/escape/a.c", root);
  ASSERT(!qr_workspace_abs_confined(root, path, &rel));
  ASSERT(!rel);
  ASSERT(!qr_workspace_abs_confined(root, "/etc/passwd", NULL));
  ASSERT(!qr_workspace_abs_confined(root, root, NULL)); /* the root itself is no file in it */
  rm_rf(root);
  rm_rf(out);
  free(root);
  free(out);
}

TEST(lsp_workspace_config_path) {
  char *home = tmpdir(), *ws = tmpdir();
  char *old = getenv("HOME") ? qr_strdup(getenv("HOME")) : NULL;
  char cfg[600], link[600], dotted[600], want[600];
  snprintf(cfg, sizeof cfg, "%s/cfg.json", ws);
  FILE *f = fopen(cfg, "w");
  ASSERT(f);
  fclose(f);
  snprintf(link, sizeof link, "%s/link.json", home);
  ASSERT_OK(symlink(cfg, link));
  ASSERT_OK(setenv("HOME", home, 1));
  qr_err e = {0};
  char *p = qr_workspace_config_path("~/link.json", &e); /* "~" expands, the symlink is followed */
  ASSERT_STR_EQ(p, cfg);
  qr_free(p);
  snprintf(dotted, sizeof dotted, "%s/../%s/cfg.json", home, strrchr(ws, '/') + 1);
  p = qr_workspace_config_path(dotted, &e); /* ".." resolved */
  ASSERT_STR_EQ(p, cfg);
  qr_free(p);
  const char *refused[] = {"cfg.json", "./cfg.json", "src/../cfg.json", "~other/cfg.json", ""};
  for (size_t i = 0; i < QR_ARRAY_LEN(refused); i++) {
    e = (qr_err){0};
    ASSERT(!qr_workspace_config_path(refused[i], &e));
    ASSERT_EQ(e.code, QR_E_INVAL);
    ASSERT(strstr(e.msg, "relative"));
  }
  snprintf(want, sizeof want, "%s/missing.json", home);
  ASSERT(!qr_workspace_config_path(want, &e));
  ASSERT_EQ(e.code, QR_E_NOTFOUND);
  ASSERT_OK(setenv("HOME", "relative/home", 1));
  ASSERT(!qr_workspace_config_path("~/link.json", &e));
  ASSERT_EQ(e.code, QR_E_INVAL);
  if (old) setenv("HOME", old, 1);
  else unsetenv("HOME");
  qr_free(old);
  rm_rf(home);
  rm_rf(ws);
  free(home);
  free(ws);
}

TEST(lsp_workspace_dismiss) {
  char *root = tmpdir();
  const char *fp = "0123456789abcdef";
  ASSERT(!qr_workspace_is_dismissed(root, fp));
  ASSERT_OK(qr_workspace_dismiss(root, fp, NULL));
  ASSERT_OK(qr_workspace_dismiss(root, fp, NULL)); /* idempotent */
  ASSERT(qr_workspace_is_dismissed(root, fp));
  ASSERT(!qr_workspace_is_dismissed(root, "fedcba9876543210"));
  char path[600], *text = NULL;
  size_t len = 0;
  snprintf(path, sizeof path, "%s/.quorum/dismissed", root);
  ASSERT_OK(qr_read_file(path, 4096, &text, &len, NULL));
  ASSERT_STR_EQ(text, "0123456789abcdef\n");
  qr_free(text);
  qr_err e = {0};
  ASSERT_EQ(qr_workspace_dismiss(root, "0123\n", &e), QR_E_INVAL);
  ASSERT_EQ(qr_workspace_dismiss(root, "0123456789ABCDEF", &e), QR_E_INVAL);
  rm_rf(root);
  free(root);
}

TEST(lsp_workspace_dismiss_refuses_symlinked_dir) {
  char *root = tmpdir(), *out = tmpdir();
  char link[600], victim[600];
  snprintf(link, sizeof link, "%s/.quorum", root);
  ASSERT_OK(symlink(out, link));
  qr_err e = {0};
  ASSERT_EQ(qr_workspace_dismiss(root, "0123456789abcdef", &e), QR_E_IO);
  snprintf(victim, sizeof victim, "%s/dismissed", out);
  ASSERT(access(victim, F_OK) != 0);
  rm_rf(root);
  rm_rf(out);
  free(root);
  free(out);
}

TEST(lsp_workspace_new_file_diff) {
  char *d = qr_workspace_new_file_diff("src/a.c", "x\ny", 3);
  ASSERT_STR_EQ(d, "diff --git a/src/a.c b/src/a.c\nnew file mode 100644\n--- /dev/null\n"
                   "+++ b/src/a.c\n@@ -0,0 +1,2 @@\n+x\n+y\n\\ No newline at end of file\n");
  qr_free(d);
  d = qr_workspace_new_file_diff("q\"t.c", "", 0);
  ASSERT_STR_EQ(d, "diff --git \"a/q\\\"t.c\" \"b/q\\\"t.c\"\nnew file mode 100644\n--- /dev/null\n"
                   "+++ \"b/q\\\"t.c\"\n");
  qr_free(d);
}
