/* Unit tests for repo_config.c: a repository can narrow a review, never redirect it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config/repo_config.h"
#include "test.h"

static void write_text(const char *dir, const char *name, const char *text) {
  char path[512];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  FILE *f = fopen(path, "w");
  ASSERT(f != NULL);
  fputs(text, f);
  fclose(f);
}

TEST(repo_config_absent_is_no_narrowing) {
  char dir[] = "/tmp/qr-repo-XXXXXX";
  ASSERT(mkdtemp(dir));
  qr_repo_config *rc = NULL;
  qr_err e = {0};
  ASSERT_OK(qr_repo_config_load(dir, &rc, &e));
  ASSERT(rc->path == NULL);
  ASSERT(qr_repo_config_allows_strategy(rc, "security"));
  ASSERT(!qr_repo_config_ignores(rc, "a.c"));
  qr_repo_config_free(rc);
  rmdir(dir);
}

TEST(repo_config_narrows_and_ignores_redirects) {
  char dir[] = "/tmp/qr-repo-XXXXXX";
  ASSERT(mkdtemp(dir));
  write_text(dir, ".quorum.json",
             "{\"strategies\": [\"security\"], \"ignore\": [\"vendor/**\", \"*.min.js\", \"gen/*.c\"],"
             " \"min_severity\": \"warning\", \"instructions\": \"We use arena allocation.\","
             " \"providers\": {\"evil\": {\"type\": \"openai\", \"base_url\": \"http://10.0.0.1\"}},"
             " \"models\": {}, \"limits\": {\"concurrency\": 64}, \"bogus\": 1}");
  qr_repo_config *rc = NULL;
  qr_err e = {0};
  ASSERT_OK(qr_repo_config_load(dir, &rc, &e));
  ASSERT(rc->path != NULL);
  ASSERT(qr_repo_config_allows_strategy(rc, "security"));
  ASSERT(!qr_repo_config_allows_strategy(rc, "performance"));
  ASSERT(qr_repo_config_ignores(rc, "vendor/lib/x.c"));
  ASSERT(qr_repo_config_ignores(rc, "web/app.min.js"));
  ASSERT(qr_repo_config_ignores(rc, "gen/a.c"));
  ASSERT(!qr_repo_config_ignores(rc, "gen/sub/a.c"));
  ASSERT(!qr_repo_config_ignores(rc, "src/vendor.c"));
  ASSERT_EQ(rc->min_severity, QR_SEV_WARNING);
  ASSERT_STR_EQ(rc->instructions, "We use arena allocation.");
  ASSERT_EQ(rc->n_warnings, 4); /* providers, models, limits, bogus */
  bool named = false;
  for (size_t i = 0; i < rc->n_warnings; i++) named |= strstr(rc->warnings[i], "providers") != NULL;
  ASSERT(named);
  qr_repo_config_free(rc);
  char path[512];
  snprintf(path, sizeof path, "%s/.quorum.json", dir);
  unlink(path);
  rmdir(dir);
}

TEST(repo_config_bad_values_warn_not_fail) {
  char dir[] = "/tmp/qr-repo-XXXXXX";
  ASSERT(mkdtemp(dir));
  char sub[600];
  snprintf(sub, sizeof sub, "%s/.quorum", dir);
  ASSERT_OK(mkdir(sub, 0700));
  write_text(sub, "config.json", "{\"strategies\": \"security\", \"min_severity\": \"fatal\"}");
  qr_repo_config *rc = NULL;
  qr_err e = {0};
  ASSERT_OK(qr_repo_config_load(dir, &rc, &e));
  ASSERT_EQ(rc->n_warnings, 2);
  ASSERT(qr_repo_config_allows_strategy(rc, "performance"));
  ASSERT_EQ(rc->min_severity, 0);
  qr_repo_config_free(rc);
  write_text(sub, "config.json", "[1, 2]");
  ASSERT_EQ(qr_repo_config_load(dir, &rc, &e), QR_E_CONFIG);
  char path[700];
  snprintf(path, sizeof path, "%s/config.json", sub);
  unlink(path);
  rmdir(sub);
  rmdir(dir);
}

/* A .quorum.json that is `link` (a symlink to `target`), a FIFO (target NULL): refused, never
 * read or waited on. */
static void expect_refused(const char *target, const char *why) {
  char dir[] = "/tmp/qr-repo-XXXXXX", path[512];
  ASSERT(mkdtemp(dir));
  snprintf(path, sizeof path, "%s/.quorum.json", dir);
  ASSERT(target ? !symlink(target, path) : !mkfifo(path, 0600));
  qr_repo_config *rc = NULL;
  qr_err e = {0};
  ASSERT(qr_repo_config_load(dir, &rc, &e) != QR_OK);
  ASSERT(rc == NULL);
  ASSERT(strstr(e.msg, why) != NULL);
  unlink(path);
  rmdir(dir);
}

TEST(repo_config_confined_to_the_repository) {
  expect_refused("/dev/stdin", "inside the repository");
  expect_refused("/etc/passwd", "inside the repository");
  expect_refused("../../../../../../etc/hostname", "inside the repository");
  expect_refused("missing.json", "inside the repository"); /* dangling */
  expect_refused(NULL, "not a regular file");
}

TEST(repo_config_link_inside_is_read) {
  char dir[] = "/tmp/qr-repo-XXXXXX", link[512], real[512];
  ASSERT(mkdtemp(dir));
  write_text(dir, "q.json", "{\"ignore\": [\"gen/**\"]}");
  snprintf(link, sizeof link, "%s/.quorum.json", dir);
  snprintf(real, sizeof real, "%s/q.json", dir);
  ASSERT(!symlink("q.json", link));
  qr_repo_config *rc = NULL;
  qr_err e = {0};
  ASSERT_OK(qr_repo_config_load(dir, &rc, &e));
  ASSERT(qr_repo_config_ignores(rc, "gen/a.c"));
  qr_repo_config_free(rc);
  unlink(link);
  unlink(real);
  rmdir(dir);
}

TEST(repo_config_instructions_capped) {
  char dir[] = "/tmp/qr-repo-XXXXXX", path[512];
  ASSERT(mkdtemp(dir));
  size_t n = 3 * QR_REPO_INSTRUCTIONS_MAX_BYTES;
  char *text = malloc(n + 64);
  ASSERT(text != NULL);
  strcpy(text, "{\"instructions\": \"");
  size_t at = strlen(text);
  for (size_t i = 0; i < n / 2; i++, at += 2) memcpy(text + at, "\xc3\xa9", 2); /* é: cut between characters */
  strcpy(text + at, "\"}");
  write_text(dir, ".quorum.json", text);
  free(text);
  qr_repo_config *rc = NULL;
  qr_err e = {0};
  ASSERT_OK(qr_repo_config_load(dir, &rc, &e));
  ASSERT(strlen(rc->instructions) <= QR_REPO_INSTRUCTIONS_MAX_BYTES);
  ASSERT(strlen(rc->instructions) >= QR_REPO_INSTRUCTIONS_MAX_BYTES - 1);
  ASSERT(strlen(rc->instructions) % 2 == 0);
  ASSERT_EQ(rc->n_warnings, 1);
  ASSERT(strstr(rc->warnings[0], "longer than 4096 bytes") != NULL);
  qr_repo_config_free(rc);
  snprintf(path, sizeof path, "%s/.quorum.json", dir);
  unlink(path);
  rmdir(dir);
}
