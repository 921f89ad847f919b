/* Unit tests for tools.c: the output parsers against recorded output (tests/data/tools/), live
 * runs of the installed analyzers (skipped with a note when one is missing), and the run
 * machinery with stand-in tools on PATH: timeout, output cap, failure status, cancel, the
 * scrubbed environment, "not installed". Every loop must close cleanly. */
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <uv.h>

#include "change/languages.h"
#include "local/tools.h"
#include "test.h"

#define ASSERT_CONTAINS(hay, needle)                                                         \
  do {                                                                                       \
    if (!strstr((hay), (needle))) QR__FAIL("\"%s\" does not contain \"%s\"", (hay), (needle)); \
  } while (0)

static char *data_file(const char *name, size_t *len) {
  char path[512];
  snprintf(path, sizeof path, "%s/tools/%s", qr_test_data_dir(), name);
  char *text = NULL;
  qr_err e = {0};
  if (qr_read_file(path, 1u << 20, &text, len, &e)) QR__FAIL("%s: %s", path, e.msg);
  return text;
}

/* Parses recorded stdout/stderr files (NULL: empty) of `tool` for `files`. */
static void parse_recorded(const char *tool, const char *out_name, const char *err_name,
                           const char *const *files, size_t n, qr_finding_list *l) {
  size_t ol = 0, el = 0;
  char *out = out_name ? data_file(out_name, &ol) : NULL;
  char *err = err_name ? data_file(err_name, &el) : NULL;
  qr_err e = {0};
  if (qr_tool_parse(tool, out, ol, err, el, files, n, l, &e)) QR__FAIL("%s: %s", tool, e.msg);
  qr_free(out);
  qr_free(err);
}

static void assert_finding(const qr_finding *f, const char *file, int line, qr_severity sev,
                           const char *tool, const char *text) {
  char model[64];
  snprintf(model, sizeof model, "tool:%s", tool);
  ASSERT_STR_EQ(f->file, file);
  ASSERT_EQ(f->start_line, line);
  ASSERT_EQ(f->severity, sev);
  ASSERT_CONTAINS(f->message, text);
  ASSERT_EQ(f->n_sources, 1);
  ASSERT_STR_EQ(f->sources[0].model, model);
  ASSERT_STR_EQ(f->sources[0].strategy, "analyzer");
}

TEST(tools_known) {
  ASSERT(qr_tool_known("cppcheck"));
  ASSERT(qr_tool_known("shellcheck"));
  ASSERT(qr_tool_known("pyflakes"));
  ASSERT(!qr_tool_known("pylint"));
  ASSERT(!qr_tool_known(NULL));
  ASSERT(!qr_tool_available("pylint"));
  ASSERT(qr_tool_covers("cppcheck", qr_language_by_name("cpp")));
  ASSERT(qr_tool_covers("shellcheck", qr_language_by_name("bash")));
  ASSERT(!qr_tool_covers("pyflakes", qr_language_by_name("c")));
  ASSERT(!qr_tool_covers("pyflakes", NULL));
  ASSERT(!qr_tool_covers("nosuch", qr_language_by_name("c")));
}

TEST(tools_parse_cppcheck_recorded) {
  const char *files[] = {"sample.c"};
  qr_finding_list l;
  qr_finding_list_init(&l);
  parse_recorded("cppcheck", NULL, "cppcheck.stderr", files, 1, &l);
  ASSERT_EQ(l.n, 3);
  assert_finding(&l.items[0], "sample.c", 6, QR_SEV_ERROR, "cppcheck", "(cppcheck arrayIndexOutOfBounds)");
  ASSERT_STR_EQ(l.items[0].category, "correctness");
  assert_finding(&l.items[1], "sample.c", 14, QR_SEV_ERROR, "cppcheck", "Division by zero. (cppcheck zerodiv)");
  assert_finding(&l.items[2], "sample.c", 4, QR_SEV_INFO, "cppcheck", "can be declared as pointer to const");
  ASSERT_STR_EQ(l.items[2].category, "maintainability");
  qr_finding_list_free(&l);
}

TEST(tools_parse_shellcheck_recorded) {
  const char *files[] = {"sample.sh"};
  qr_finding_list l;
  qr_finding_list_init(&l);
  parse_recorded("shellcheck", "shellcheck.stdout", NULL, files, 1, &l);
  ASSERT_EQ(l.n, 6);
  assert_finding(&l.items[0], "sample.sh", 3, QR_SEV_INFO, "shellcheck", "Double quote to prevent globbing and word splitting. (SC2086)");
  assert_finding(&l.items[1], "sample.sh", 4, QR_SEV_ERROR, "shellcheck", "(SC2045)");
  assert_finding(&l.items[5], "sample.sh", 7, QR_SEV_WARNING, "shellcheck", "(SC3014)");
  ASSERT_EQ(l.items[5].end_line, 7);
  qr_finding_list_free(&l);
}

TEST(tools_parse_pyflakes_recorded) {
  const char *files[] = {"sample.py", "syntax_error.py"};
  qr_finding_list l;
  qr_finding_list_init(&l);
  parse_recorded("pyflakes", "pyflakes.stdout", "pyflakes.stderr", files, 2, &l);
  ASSERT_EQ(l.n, 5); /* the echoed source line and caret after the syntax error are not findings */
  assert_finding(&l.items[0], "sample.py", 1, QR_SEV_INFO, "pyflakes", "'os' imported but unused");
  assert_finding(&l.items[1], "sample.py", 6, QR_SEV_INFO, "pyflakes", "never used");
  assert_finding(&l.items[2], "sample.py", 7, QR_SEV_ERROR, "pyflakes", "undefined name 'missing_name'");
  assert_finding(&l.items[3], "sample.py", 14, QR_SEV_INFO, "pyflakes", "redefinition of unused");
  assert_finding(&l.items[4], "syntax_error.py", 1, QR_SEV_ERROR, "pyflakes", "invalid syntax");
  qr_finding_list_free(&l);
}

TEST(tools_parse_drops_unknown_files_and_junk) {
  const char *files[] = {"other.py"};
  qr_finding_list l;
  qr_finding_list_init(&l);
  parse_recorded("pyflakes", "pyflakes.stdout", "pyflakes.stderr", files, 1, &l);
  ASSERT_EQ(l.n, 0);
  const char *junk = "other.py\nother.py:\nother.py:x: m\nother.py:0:1: m\nother.py:3:1: real one\n";
  ASSERT_OK(qr_tool_parse("pyflakes", junk, strlen(junk), NULL, 0, files, 1, &l, NULL));
  ASSERT_EQ(l.n, 1);
  ASSERT_EQ(l.items[0].start_line, 3);
  qr_err e = {0};
  const char *bad = "{\"comments\": 3}";
  ASSERT_EQ(qr_tool_parse("shellcheck", bad, strlen(bad), NULL, 0, files, 1, &l, &e), QR_E_PARSE);
  ASSERT_EQ(qr_tool_parse("shellcheck", "", 0, NULL, 0, files, 1, &l, &e), QR_E_PARSE); /* json1 always prints */
  ASSERT_CONTAINS(e.msg, "no output");
  ASSERT_EQ(qr_tool_parse("nosuch", "", 0, NULL, 0, files, 1, &l, &e), QR_E_INVAL);
  qr_finding_list_free(&l);
}

/* --- live runs ----------------------------------------------------------------------------- */

typedef struct outcome {
  int calls, status;
  char reason[256];
  qr_finding_list l;
} outcome;

static void on_done(int status, const char *reason, qr_finding_list *findings, bool cached,
                    void *data) {
  outcome *o = data;
  o->calls++;
  o->status = status;
  snprintf(o->reason, sizeof o->reason, "%s", reason ? reason : "");
  for (size_t i = 0; i < findings->n; i++) ASSERT_OK(qr_finding_list_push(&o->l, &findings->items[i]));
}

/* A temporary repository root; paths static. */
static char root[64];

static void make_root(void) {
  strcpy(root, "/tmp/qr-tools-XXXXXX");
  ASSERT(mkdtemp(root) != NULL);
}

static void write_file(const char *dir, const char *name, const char *text, mode_t mode) {
  char path[512];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  FILE *f = fopen(path, "w");
  ASSERT(f != NULL);
  fputs(text, f);
  fclose(f);
  ASSERT_OK(chmod(path, mode));
}

static void remove_root(void) {
  char cmd[128];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", root);
  ASSERT_OK(system(cmd));
}

/* A diff adding each of files (present in root) as new, and the matching snapshot. */
static void change_of(const char *const *files, size_t n, qr_diff **d, qr_snapshot **s) {
  qr_buf b;
  qr_buf_init(&b, 1u << 22);
  *s = qr_snapshot_new();
  for (size_t i = 0; i < n; i++) {
    char path[512], *text = NULL;
    size_t len = 0;
    snprintf(path, sizeof path, "%s/%s", root, files[i]);
    ASSERT_OK(qr_read_file(path, 1u << 20, &text, &len, NULL));
    int lines = 0;
    for (size_t k = 0; k < len; k++) lines += text[k] == '\n';
    ASSERT_OK(qr_buf_printf(&b, "diff --git a/%s b/%s\nnew file mode 100644\n--- /dev/null\n"
                                "+++ b/%s\n@@ -0,0 +1,%d @@\n", files[i], files[i], files[i], lines));
    for (const char *p = text; *p;) {
      size_t ll = strcspn(p, "\n");
      ASSERT_OK(qr_buf_printf(&b, "+%.*s\n", (int)ll, p));
      p += ll + (p[ll] == '\n');
    }
    ASSERT_OK(qr_snapshot_add(*s, files[i], text, len));
    qr_free(text);
  }
  qr_err e = {0};
  if (qr_diff_parse(b.data ? b.data : "", b.len, b.len + 1, d, &e)) QR__FAIL("diff: %s", e.msg);
  qr_buf_free(&b);
}

/* Runs `tool` on `files` of root to the end; the loop must close cleanly. */
static void run_tool(const char *tool, const char *const *files, size_t n, int timeout_ms,
                     outcome *o) {
  qr_diff *d;
  qr_snapshot *s;
  change_of(files, n, &d, &s);
  uv_loop_t loop;
  ASSERT_OK(uv_loop_init(&loop));
  memset(o, 0, sizeof *o);
  qr_finding_list_init(&o->l);
  qr_tool_run *r = NULL;
  qr_err e = {0};
  if (qr_tool_start(&loop, tool, d, s, root, &(qr_tool_opts){timeout_ms, NULL}, on_done, o, &r, &e)) QR__FAIL("%s", e.msg);
  qr_snapshot_free(s); /* the run keeps nothing of them */
  qr_diff_free(d);
  ASSERT_OK(uv_run(&loop, UV_RUN_DEFAULT));
  ASSERT_OK(uv_loop_close(&loop));
  ASSERT_EQ(o->calls, 1);
}

/* Copies recorded sample `name` into root. */
static void copy_sample(const char *name) {
  size_t len;
  char *text = data_file(name, &len);
  write_file(root, name, text, 0644);
  qr_free(text);
}

/* Live: the installed analyzer gives the same findings as its recorded output. A missing tool
 * skips with a note; the recorded-output test above still covers the parser. */
static void live(const char *tool, const char *const *samples, size_t n, const char *out_name,
                 const char *err_name) {
  if (!qr_tool_available(tool)) {
    fprintf(stderr, "note: %s is not installed; live run skipped (parser covered by recorded output)\n", tool);
    return;
  }
  make_root();
  for (size_t i = 0; i < n; i++) copy_sample(samples[i]);
  outcome o;
  run_tool(tool, samples, n, 60000, &o);
  if (o.status) QR__FAIL("%s: %s", tool, o.reason);
  /* Versions differ in details, so: findings only for the samples, and at least one that the
   * recorded run also had (same file, line and message). */
  qr_finding_list want;
  qr_finding_list_init(&want);
  parse_recorded(tool, out_name, err_name, samples, n, &want);
  ASSERT(o.l.n > 0);
  bool common = false;
  for (size_t i = 0; i < o.l.n; i++) {
    bool known = false;
    for (size_t k = 0; k < n; k++) known |= !strcmp(o.l.items[i].file, samples[k]);
    ASSERT(known);
    for (size_t k = 0; k < want.n; k++)
      common |= !strcmp(o.l.items[i].file, want.items[k].file) &&
                o.l.items[i].start_line == want.items[k].start_line &&
                !strcmp(o.l.items[i].message, want.items[k].message);
  }
  ASSERT(common);
  qr_finding_list_free(&want);
  qr_finding_list_free(&o.l);
  remove_root();
}

TEST(tools_live_cppcheck) {
  const char *f[] = {"sample.c"};
  live("cppcheck", f, 1, NULL, "cppcheck.stderr");
}

TEST(tools_live_shellcheck) {
  const char *f[] = {"sample.sh"};
  live("shellcheck", f, 1, "shellcheck.stdout", NULL);
}

TEST(tools_live_pyflakes) {
  const char *f[] = {"sample.py", "syntax_error.py"};
  live("pyflakes", f, 2, "pyflakes.stdout", "pyflakes.stderr");
}

/* --- stand-in tools ---------------------------------------------------------------------- */

/* Puts a stand-in `shellcheck` (a shell script) first on PATH, in root/bin. */
static void fake_shellcheck(const char *script) {
  char bin[128], path[4096];
  snprintf(bin, sizeof bin, "%s/bin", root);
  ASSERT_OK(mkdir(bin, 0700));
  write_file(bin, "shellcheck", script, 0755);
  snprintf(path, sizeof path, "%s:%s", bin, getenv("PATH") ? getenv("PATH") : "/usr/bin:/bin");
  setenv("PATH", path, 1); /* each test runs in its own process */
}

static const char *const one_sh[] = {"x.sh"};

static void fake_run(const char *script, int timeout_ms, outcome *o) {
  make_root();
  write_file(root, "x.sh", "echo $1\n", 0644);
  fake_shellcheck(script);
  run_tool("shellcheck", one_sh, 1, timeout_ms, o);
}

TEST(tools_scrubbed_environment_and_arguments) {
  setenv("QUORUM_TEST_API_KEY", "sk-secret", 1);
  setenv("GITHUB_TOKEN", "ghp-secret", 1);
  setenv("https_proxy", "http://proxy:1", 1);
  outcome o;
  char script[1024];
  make_root(); /* the tool runs in a private folder: it writes what it saw into the root */
  snprintf(script, sizeof script, "#!/bin/sh\nenv > %s/env.txt\npwd > %s/pwd.txt\n"
           "echo \"$@\" > %s/args.txt\ncat x.sh > %s/seen.txt\nprintf '{\"comments\":[]}'\n",
           root, root, root, root);
  write_file(root, "x.sh", "echo $1\n", 0644);
  fake_shellcheck(script);
  run_tool("shellcheck", one_sh, 1, 60000, &o);
  ASSERT_OK(o.status);
  ASSERT_EQ(o.l.n, 0);
  char path[256], *env, *args;
  snprintf(path, sizeof path, "%s/env.txt", root);
  ASSERT_OK(qr_read_file(path, 1u << 16, &env, NULL, NULL));
  ASSERT(!strstr(env, "secret") && !strstr(env, "proxy"));
  ASSERT_CONTAINS(env, "PATH=");
  ASSERT_CONTAINS(env, "LANG=C.UTF-8");
  snprintf(path, sizeof path, "%s/args.txt", root);
  ASSERT_OK(qr_read_file(path, 1u << 16, &args, NULL, NULL));
  ASSERT_STR_EQ(args, "--format=json1 ./x.sh\n");
  char *pwd, *seen;
  snprintf(path, sizeof path, "%s/pwd.txt", root);
  ASSERT_OK(qr_read_file(path, 1u << 16, &pwd, NULL, NULL));
  ASSERT_CONTAINS(pwd, "/quorum-tool-"); /* not the root: the snapshot's copy */
  snprintf(path, sizeof path, "%s/seen.txt", root);
  ASSERT_OK(qr_read_file(path, 1u << 16, &seen, NULL, NULL));
  ASSERT_STR_EQ(seen, "echo $1\n");
  pwd[strcspn(pwd, "\n")] = '\0';
  ASSERT(access(pwd, F_OK) != 0); /* removed with the run */
  qr_free(pwd);
  qr_free(seen);
  qr_free(env);
  qr_free(args);
  remove_root();
}

TEST(tools_timeout) {
  outcome o;
  fake_run("#!/bin/sh\nexec sleep 30\n", 100, &o);
  ASSERT_EQ(o.status, QR_E_TIMEOUT);
  ASSERT_CONTAINS(o.reason, "shellcheck timed out");
  remove_root();
}

TEST(tools_output_cap) {
  outcome o;
  fake_run("#!/bin/sh\nexec head -c 9000000 /dev/zero\n", 60000, &o);
  ASSERT_EQ(o.status, QR_E_TOOBIG);
  ASSERT_EQ(o.l.n, 0);
  remove_root();
}

TEST(tools_failure_status) {
  outcome o;
  fake_run("#!/bin/sh\necho 'bad option' >&2\nexit 4\n", 60000, &o);
  ASSERT_EQ(o.status, QR_E_IO);
  ASSERT_CONTAINS(o.reason, "exited with status 4: bad option");
  remove_root();
}

TEST(tools_no_files_of_its_languages) {
  make_root();
  write_file(root, "a.py", "x = 1\n", 0644);
  fake_shellcheck("#!/bin/sh\nexit 9\n"); /* would fail if it ran */
  const char *f[] = {"a.py"};
  outcome o;
  run_tool("shellcheck", f, 1, 60000, &o);
  ASSERT_OK(o.status);
  ASSERT_EQ(o.l.n, 0);
  ASSERT_CONTAINS(o.reason, "no changed file");
  remove_root();
}

static void never_called(int status, const char *reason, qr_finding_list *f, bool cached,
                         void *data) {
  QR__FAIL("callback after cancel (status %d)", status);
}

TEST(tools_cancel) {
  make_root();
  write_file(root, "x.sh", "echo hi\n", 0644);
  fake_shellcheck("#!/bin/sh\nexec sleep 30\n");
  qr_diff *d;
  qr_snapshot *s;
  change_of(one_sh, 1, &d, &s);
  uv_loop_t loop;
  ASSERT_OK(uv_loop_init(&loop));
  for (int spawned = 0; spawned < 2; spawned++) {
    /* once with the process running, once with nothing to run (a diff without shell files) */
    qr_diff *empty = NULL;
    ASSERT_OK(qr_diff_parse("", 0, 1, &empty, NULL));
    qr_tool_run *r = NULL;
    ASSERT_OK(qr_tool_start(&loop, "shellcheck", spawned ? d : empty, s, root, &(qr_tool_opts){60000, NULL}, never_called,
                            NULL, &r, NULL));
    qr_tool_cancel(r);
    qr_diff_free(empty);
    ASSERT_OK(uv_run(&loop, UV_RUN_DEFAULT));
  }
  ASSERT_OK(uv_loop_close(&loop));
  qr_snapshot_free(s);
  qr_diff_free(d);
  remove_root();
}

TEST(tools_not_installed) {
  make_root();
  setenv("PATH", root, 1); /* an empty folder: no tool at all */
  ASSERT(!qr_tool_available("cppcheck"));
  qr_diff *d;
  qr_snapshot *s;
  write_file(root, "a.c", "int x;\n", 0644);
  const char *f[] = {"a.c"};
  change_of(f, 1, &d, &s);
  uv_loop_t loop;
  ASSERT_OK(uv_loop_init(&loop));
  qr_tool_run *r = NULL;
  qr_err e = {0};
  ASSERT_EQ(qr_tool_start(&loop, "cppcheck", d, s, root, &(qr_tool_opts){1000, NULL}, never_called, NULL, &r, &e), QR_E_NOTFOUND);
  ASSERT_STR_EQ(e.msg, "cppcheck: not installed");
  ASSERT_EQ(qr_tool_start(&loop, "lint9000", d, s, root, &(qr_tool_opts){1000, NULL}, never_called, NULL, &r, &e), QR_E_INVAL);
  ASSERT(r == NULL);
  ASSERT_OK(uv_run(&loop, UV_RUN_DEFAULT));
  ASSERT_OK(uv_loop_close(&loop));
  qr_snapshot_free(s);
  qr_diff_free(d);
  setenv("PATH", "/usr/bin:/bin", 1);
  remove_root();
}

TEST(tools_spawn_failure_calls_nothing) {
  /* No private folder can be made: the error comes back at once, and the handles it had
   * opened still close cleanly. */
  make_root();
  write_file(root, "x.sh", "echo hi\n", 0644);
  fake_shellcheck("#!/bin/sh\nexit 0\n");
  qr_diff *d;
  qr_snapshot *s;
  change_of(one_sh, 1, &d, &s);
  uv_loop_t loop;
  ASSERT_OK(uv_loop_init(&loop));
  qr_tool_run *r = NULL;
  qr_err e = {0};
  setenv("TMPDIR", "/nonexistent/tmp", 1); /* each test runs in its own process */
  ASSERT_EQ(qr_tool_start(&loop, "shellcheck", d, s, root, &(qr_tool_opts){1000, NULL}, never_called, NULL, &r, &e), QR_E_IO);
  ASSERT_CONTAINS(e.msg, "cannot make a private folder");
  ASSERT_OK(uv_run(&loop, UV_RUN_DEFAULT));
  ASSERT_OK(uv_loop_close(&loop));
  qr_snapshot_free(s);
  qr_diff_free(d);
  remove_root();
}

/* --- generic tools ------------------------------------------------------------------------- */

static void define(const char *name, const char *const *cmd, size_t n, qr_tool_format fmt,
                   const char *const *langs, size_t n_langs) {
  qr_err e = {0};
  if (qr_tool_define(name, cmd, n, fmt, langs, n_langs, &e)) QR__FAIL("define %s: %s", name, e.msg);
}

TEST(tools_generic_define) {
  const char *cmd[] = {"demo-lint", "--sarif"};
  ASSERT_EQ(qr_tool_format_parse("sarif"), QR_TOOL_FORMAT_SARIF);
  ASSERT_EQ(qr_tool_format_parse("gcc"), QR_TOOL_FORMAT_GCC);
  ASSERT_EQ(qr_tool_format_parse("json"), QR_TOOL_FORMAT_NONE);
  ASSERT_EQ(qr_tool_format_parse(NULL), QR_TOOL_FORMAT_NONE);
  qr_err e = {0};
  ASSERT_EQ(qr_tool_define("cppcheck", cmd, 2, QR_TOOL_FORMAT_GCC, NULL, 0, &e), QR_E_INVAL);
  ASSERT_CONTAINS(e.msg, "built-in");
  ASSERT_EQ(qr_tool_define("x", cmd, 0, QR_TOOL_FORMAT_GCC, NULL, 0, &e), QR_E_INVAL);
  ASSERT_EQ(qr_tool_define("x", cmd, 2, QR_TOOL_FORMAT_NONE, NULL, 0, &e), QR_E_INVAL);
  ASSERT(!qr_tool_covers("demo", qr_language_by_name("python")));
  const char *py[] = {"python"};
  define("demo", cmd, 2, QR_TOOL_FORMAT_SARIF, py, 1);
  ASSERT(!qr_tool_known("demo")); /* known means built in */
  ASSERT(qr_tool_covers("demo", qr_language_by_name("python")));
  ASSERT(!qr_tool_covers("demo", qr_language_by_name("c")));
  ASSERT(!qr_tool_covers("demo", NULL));
  define("demo", cmd, 2, QR_TOOL_FORMAT_SARIF, NULL, 0); /* redefined: every file */
  ASSERT(qr_tool_covers("demo", qr_language_by_name("c")));
  ASSERT(qr_tool_covers("demo", NULL));
}

TEST(tools_parse_sarif_recorded) {
  const char *cmd[] = {"demo-lint"};
  define("demo-lint", cmd, 1, QR_TOOL_FORMAT_SARIF, NULL, 0);
  const char *files[] = {"src/app.py", "src/my lib.py"};
  qr_finding_list l;
  qr_finding_list_init(&l);
  parse_recorded("demo-lint", "generic.sarif", NULL, files, 2, &l);
  ASSERT_EQ(l.n, 4);
  assert_finding(&l.items[0], "src/app.py", 7, QR_SEV_ERROR, "demo-lint",
                 "call to eval with user input (DL100)");
  ASSERT_EQ(l.items[0].end_line, 9);
  assert_finding(&l.items[1], "src/my lib.py", 3, QR_SEV_WARNING, "demo-lint", "shadows a builtin");
  assert_finding(&l.items[2], "src/app.py", 12, QR_SEV_INFO, "demo-lint", "context manager");
  assert_finding(&l.items[3], "src/app.py", 2, QR_SEV_HINT, "demo-lint", "a second run is read too");
  ASSERT(!strstr(l.items[3].message, "(")); /* no ruleId: nothing appended */
  ASSERT_STR_EQ(l.items[0].category, "correctness");
  qr_finding_list_free(&l);

  qr_finding_list_init(&l);
  qr_err e = {0};
  const char *bad = "{\"version\":\"2.1.0\"}", *junk = "not json";
  ASSERT_EQ(qr_tool_parse("demo-lint", bad, strlen(bad), NULL, 0, files, 2, &l, &e), QR_E_PARSE);
  ASSERT_CONTAINS(e.msg, "demo-lint: expected SARIF");
  ASSERT_EQ(qr_tool_parse("demo-lint", junk, strlen(junk), NULL, 0, files, 2, &l, &e), QR_E_PARSE);
  ASSERT_OK(qr_tool_parse("demo-lint", "", 0, NULL, 0, files, 2, &l, &e)); /* nothing printed */
  ASSERT_EQ(l.n, 0);
  qr_finding_list_free(&l);
}

TEST(tools_parse_gcc_recorded) {
  const char *cmd[] = {"cc", "-fsyntax-only"};
  define("cc-warnings", cmd, 2, QR_TOOL_FORMAT_GCC, NULL, 0);
  const char *files[] = {"src/main.c", "src/util.c"};
  qr_finding_list l;
  qr_finding_list_init(&l);
  parse_recorded("cc-warnings", "generic_gcc.stdout", "generic_gcc.stderr", files, 2, &l);
  ASSERT_EQ(l.n, 5);
  /* stdout first, then stderr */
  assert_finding(&l.items[0], "src/util.c", 3, QR_SEV_WARNING, "cc-warnings",
                 "line without a severity word");
  assert_finding(&l.items[1], "src/main.c", 5, QR_SEV_WARNING, "cc-warnings", "unused variable 'n'");
  ASSERT(!strstr(l.items[1].message, "warning:"));
  assert_finding(&l.items[2], "src/main.c", 9, QR_SEV_ERROR, "cc-warnings", "implicit declaration");
  assert_finding(&l.items[3], "src/util.c", 14, QR_SEV_INFO, "cc-warnings", "declared here");
  assert_finding(&l.items[4], "src/util.c", 20, QR_SEV_ERROR, "cc-warnings", "missing.h");
  qr_finding_list_free(&l);
}

/* A generic tool that is a script in the repository, run by a relative path: it receives only
 * the files of its languages, in the scrubbed environment, and its SARIF becomes findings. */
TEST(tools_generic_live) {
  make_root();
  setenv("QUORUM_TEST_API_KEY", "sk-secret", 1);
  write_file(root, "a.py", "x = 1\n", 0644);
  write_file(root, "b.sh", "echo hi\n", 0644);
  write_file(root, "lint.sh",
             "#!/bin/sh\nenv > env.txt\necho \"$@\" > args.txt\n"
             "printf '{\"version\":\"2.1.0\",\"runs\":[{\"results\":[{\"ruleId\":\"R1\",\"level\":"
             "\"error\",\"message\":{\"text\":\"bad thing\"},\"locations\":[{\"physicalLocation\":"
             "{\"artifactLocation\":{\"uri\":\"%s\"},\"region\":{\"startLine\":1}}}]}]}]}' \"$PWD/a.py\"\n"
             "exit 1\n", 0755);
  const char *cmd[] = {"./lint.sh", "--strict"}, *py[] = {"python"};
  define("script-lint", cmd, 2, QR_TOOL_FORMAT_SARIF, py, 1);
  const char *f[] = {"a.py", "b.sh"};
  outcome o;
  run_tool("script-lint", f, 2, 60000, &o);
  if (o.status) QR__FAIL("%s", o.reason);
  ASSERT_EQ(o.l.n, 1);
  assert_finding(&o.l.items[0], "a.py", 1, QR_SEV_ERROR, "script-lint", "bad thing (R1)");
  char path[256], *text;
  snprintf(path, sizeof path, "%s/args.txt", root);
  ASSERT_OK(qr_read_file(path, 1u << 16, &text, NULL, NULL));
  ASSERT_STR_EQ(text, "--strict ./a.py\n");
  qr_free(text);
  snprintf(path, sizeof path, "%s/env.txt", root);
  ASSERT_OK(qr_read_file(path, 1u << 16, &text, NULL, NULL));
  ASSERT(!strstr(text, "secret"));
  qr_free(text);
  qr_finding_list_free(&o.l);
  remove_root();
}

TEST(tools_generic_timeout_and_failure) {
  make_root();
  write_file(root, "a.py", "x = 1\n", 0644);
  write_file(root, "slow.sh", "#!/bin/sh\nexec sleep 30\n", 0755);
  write_file(root, "broken.sh", "#!/bin/sh\necho 'no config found' >&2\nexit 2\n", 0755);
  const char *slow[] = {"./slow.sh"}, *broken[] = {"./broken.sh"}, *f[] = {"a.py"};
  define("slow-lint", slow, 1, QR_TOOL_FORMAT_GCC, NULL, 0);
  define("broken-lint", broken, 1, QR_TOOL_FORMAT_GCC, NULL, 0);
  outcome o;
  run_tool("slow-lint", f, 1, 100, &o);
  ASSERT_EQ(o.status, QR_E_TIMEOUT);
  ASSERT_CONTAINS(o.reason, "slow-lint timed out");
  run_tool("broken-lint", f, 1, 60000, &o);
  ASSERT_EQ(o.status, QR_E_IO);
  ASSERT_CONTAINS(o.reason, "broken-lint exited with status 2: no config found");
  remove_root();
}

TEST(tools_generic_not_installed) {
  make_root();
  write_file(root, "a.py", "x = 1\n", 0644);
  const char *f[] = {"a.py"}, *missing[] = {"no-such-linter-xyz"}, *rel[] = {"./nope.sh"};
  qr_diff *d;
  qr_snapshot *s;
  change_of(f, 1, &d, &s);
  uv_loop_t loop;
  ASSERT_OK(uv_loop_init(&loop));
  qr_tool_run *r = NULL;
  qr_err e = {0};
  define("ghost", missing, 1, QR_TOOL_FORMAT_SARIF, NULL, 0);
  ASSERT(!qr_tool_available("ghost"));
  ASSERT_EQ(qr_tool_start(&loop, "ghost", d, s, root, &(qr_tool_opts){1000, NULL}, never_called, NULL, &r, &e), QR_E_NOTFOUND);
  ASSERT_STR_EQ(e.msg, "ghost: not installed (no-such-linter-xyz not found)");
  define("ghost", rel, 1, QR_TOOL_FORMAT_SARIF, NULL, 0);
  ASSERT_EQ(qr_tool_start(&loop, "ghost", d, s, root, &(qr_tool_opts){1000, NULL}, never_called, NULL, &r, &e), QR_E_NOTFOUND);
  ASSERT(r == NULL);
  ASSERT_OK(uv_run(&loop, UV_RUN_DEFAULT));
  ASSERT_OK(uv_loop_close(&loop));
  qr_snapshot_free(s);
  qr_diff_free(d);
  remove_root();
}

/* A definition replaced while a run uses it stays alive until that run ends. */
TEST(tools_generic_redefined_while_running) {
  make_root();
  write_file(root, "a.py", "x = 1\n", 0644);
  write_file(root, "lint.sh", "#!/bin/sh\nsleep 0.2\necho \"$1:1: warning: first\"\n", 0755);
  const char *first[] = {"./lint.sh"}, *second[] = {"./other.sh"}, *f[] = {"a.py"};
  define("swap", first, 1, QR_TOOL_FORMAT_GCC, NULL, 0);
  qr_diff *d;
  qr_snapshot *s;
  change_of(f, 1, &d, &s);
  uv_loop_t loop;
  ASSERT_OK(uv_loop_init(&loop));
  outcome o;
  memset(&o, 0, sizeof o);
  qr_finding_list_init(&o.l);
  qr_tool_run *r = NULL;
  ASSERT_OK(qr_tool_start(&loop, "swap", d, s, root, &(qr_tool_opts){60000, NULL}, on_done, &o, &r, NULL));
  define("swap", second, 1, QR_TOOL_FORMAT_SARIF, NULL, 0);
  ASSERT_OK(uv_run(&loop, UV_RUN_DEFAULT));
  ASSERT_OK(uv_loop_close(&loop));
  ASSERT_EQ(o.calls, 1);
  if (o.status) QR__FAIL("%s", o.reason);
  ASSERT_EQ(o.l.n, 1);
  assert_finding(&o.l.items[0], "a.py", 1, QR_SEV_WARNING, "swap", "first");
  qr_finding_list_free(&o.l);
  qr_snapshot_free(s);
  qr_diff_free(d);
  remove_root();
}
