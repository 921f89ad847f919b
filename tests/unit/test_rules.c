/* Unit tests for rules.c: the built-in pack (every rule against its positive and negative case
 * in tests/data/rules/<id>/), changed-line filtering, fixes, user rule folders and their
 * errors, predicates, and allocation failures. */
#include <dirent.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "change/languages.h"
#include "local/rules.h"
#include "test.h"

#define ASSERT_CONTAINS(hay, needle)                                                         \
  do {                                                                                       \
    if (!strstr((hay), (needle))) QR__FAIL("\"%s\" does not contain \"%s\"", (hay), (needle)); \
  } while (0)

static qr_rules *load_builtin(void) {
  qr_rules *r = NULL;
  qr_err e = {0};
  if (qr_rules_load(NULL, 0, &r, &e)) QR__FAIL("loading the built-in rules: %s", e.msg);
  return r;
}

/* A diff adding `text` as the new file `path` (text ends with a newline). */
static qr_diff *new_file_diff(const char *path, const char *text) {
  int n = 0;
  for (const char *p = text; *p; p++) n += *p == '\n';
  qr_buf b;
  qr_buf_init(&b, 1u << 24);
  ASSERT_OK(qr_buf_printf(&b, "diff --git a/%s b/%s\nnew file mode 100644\n--- /dev/null\n"
                              "+++ b/%s\n@@ -0,0 +1,%d @@\n", path, path, path, n));
  for (const char *p = text; *p;) {
    size_t len = strcspn(p, "\n");
    ASSERT_OK(qr_buf_printf(&b, "+%.*s\n", (int)len, p));
    p += len + (p[len] == '\n');
  }
  qr_diff *d = NULL;
  qr_err e = {0};
  if (qr_diff_parse(b.data, b.len, b.len + 1, &d, &e)) QR__FAIL("diff: %s", e.msg);
  qr_buf_free(&b);
  return d;
}

/* Runs all rules over `text` as a new file `path`; findings go to `out`. */
static void run_on(qr_rules *r, const char *path, const char *text, bool allow_context,
                   qr_finding_list *out) {
  qr_diff *d = new_file_diff(path, text);
  qr_snapshot *s = qr_snapshot_new();
  ASSERT(s != NULL);
  ASSERT_OK(qr_snapshot_add(s, path, text, strlen(text)));
  qr_err e = {0};
  if (qr_rules_run(r, d, s, allow_context, out, &e)) QR__FAIL("run: %s", e.msg);
  qr_snapshot_free(s);
  qr_diff_free(d);
}

/* The findings of rule `id` in l. */
static size_t count_rule(const qr_finding_list *l, const char *id, const qr_finding **first) {
  char model[256];
  snprintf(model, sizeof model, "rule:%s", id);
  size_t n = 0;
  for (size_t i = 0; i < l->n; i++) {
    if (l->items[i].n_sources == 1 && !strcmp(l->items[i].sources[0].model, model)) {
      if (!n && first) *first = &l->items[i];
      n++;
    }
  }
  return n;
}

/* The case file "<kind>.<ext>" of rule `id` written in `language`, or NULL. New string. */
static char *case_file(const char *id, const char *language, const char *kind) {
  char dir[512];
  snprintf(dir, sizeof dir, "%s/rules/%s", qr_test_data_dir(), id);
  DIR *d = opendir(dir);
  if (!d) return NULL;
  char *found = NULL;
  for (struct dirent *ent; !found && (ent = readdir(d));) {
    const qr_language *l = qr_language_for_path(ent->d_name);
    if (!strncmp(ent->d_name, kind, strlen(kind)) && ent->d_name[strlen(kind)] == '.' && l &&
        !strcmp(l->name, language))
      found = qr_asprintf("%s/%s", dir, ent->d_name);
  }
  closedir(d);
  return found;
}

static char *read_case(const char *path) {
  char *text = NULL;
  qr_err e = {0};
  if (qr_read_file(path, 1u << 20, &text, NULL, &e)) QR__FAIL("%s: %s", path, e.msg);
  return text;
}

TEST(rules_every_rule_has_passing_cases) {
  qr_rules *r = load_builtin();
  for (size_t i = 0; i < qr_rules_count(r); i++) {
    const qr_rule_info *ri = qr_rules_get(r, i);
    char *pos = case_file(ri->id, ri->language, "positive");
    char *neg = case_file(ri->id, ri->language, "negative");
    if (!pos || !neg)
      QR__FAIL("rule %s (%s) lacks tests/data/rules/%s/{positive,negative}.<ext>", ri->id,
               ri->language, ri->id);
    char *text = read_case(pos);
    qr_finding_list l;
    qr_finding_list_init(&l);
    run_on(r, strrchr(pos, '/') + 1, text, false, &l);
    const qr_finding *f = NULL;
    if (!count_rule(&l, ri->id, &f)) QR__FAIL("%s: rule %s did not fire", pos, ri->id);
    ASSERT_STR_EQ(f->category, ri->category);
    ASSERT_STR_EQ(f->sources[0].strategy, ri->category);
    ASSERT_EQ(f->severity, ri->severity);
    ASSERT(f->evidence && *f->evidence && strstr(text, f->evidence));
    if (ri->has_fix && !f->fix) QR__FAIL("%s: rule %s gave no fix", pos, ri->id);
    qr_finding_list_free(&l);
    qr_free(text);

    text = read_case(neg);
    qr_finding_list_init(&l);
    run_on(r, strrchr(neg, '/') + 1, text, false, &l);
    if (count_rule(&l, ri->id, &f))
      QR__FAIL("%s:%d: rule %s fired on its negative case", neg, f->start_line, ri->id);
    qr_finding_list_free(&l);
    qr_free(text);
    qr_free(pos);
    qr_free(neg);
  }
  qr_rules_free(r);
}

/* Built-in queries compile lazily (per language, at first use); every one, for every language
 * it is declared for, must still compile. */
TEST(rules_every_builtin_query_compiles) {
  qr_rules *r = load_builtin();
  qr_err e = {0};
  if (qr_rules_prepare(r, qr_language_by_name("c"), &e)) QR__FAIL("c: %s", e.msg);
  if (qr_rules_prepare(r, NULL, &e)) QR__FAIL("%s", e.msg);
  ASSERT_OK(qr_rules_prepare(r, NULL, &e)); /* compiled once: a second call does nothing */
  qr_rules_free(r);
}

TEST(rules_pack_size_and_languages) {
  qr_rules *r = load_builtin();
  size_t ids = 0, langs = 0;
  const char *seen_lang[32];
  for (size_t i = 0; i < qr_rules_count(r); i++) {
    const qr_rule_info *ri = qr_rules_get(r, i);
    ASSERT(ri->builtin && *ri->message && *ri->category && ri->severity);
    bool new_id = true, new_lang = true;
    for (size_t j = 0; j < i; j++) new_id &= strcmp(qr_rules_get(r, j)->id, ri->id) != 0;
    for (size_t j = 0; j < langs; j++) new_lang &= strcmp(seen_lang[j], ri->language) != 0;
    ids += new_id;
    if (new_lang && langs < QR_ARRAY_LEN(seen_lang)) seen_lang[langs++] = ri->language;
  }
  ASSERT(ids >= 25);
  ASSERT(langs >= 5);
  ASSERT(qr_rules_get(r, qr_rules_count(r)) == NULL);
  qr_rules_free(r);
}

TEST(rules_pack_has_every_file) {
  /* The binary carries the pack; a file added under server/local/rules/ but not to rules_pack.S
   * would silently never run. */
  qr_rules *r = load_builtin();
  char root[512];
  snprintf(root, sizeof root, "%s/../../server/local/rules", qr_test_data_dir());
  DIR *d = opendir(root);
  ASSERT(d != NULL);
  int files = 0;
  for (struct dirent *lang; (lang = readdir(d));) {
    if (lang->d_name[0] == '.') continue;
    char sub[1024];
    snprintf(sub, sizeof sub, "%s/%s", root, lang->d_name);
    DIR *ld = opendir(sub);
    ASSERT(ld != NULL);
    for (struct dirent *f; (f = readdir(ld));) {
      size_t n = strlen(f->d_name);
      if (n < 5 || strcmp(f->d_name + n - 4, ".scm")) continue;
      bool found = false;
      for (size_t i = 0; i < qr_rules_count(r) && !found; i++) {
        const qr_rule_info *ri = qr_rules_get(r, i);
        found = !strcmp(ri->language, lang->d_name) && strlen(ri->id) == n - 4 &&
                !strncmp(ri->id, f->d_name, n - 4);
      }
      if (!found) QR__FAIL("%s/%s is not in server/local/rules_pack.S", sub, f->d_name);
      files++;
    }
    closedir(ld);
  }
  closedir(d);
  ASSERT(files >= 25);
  qr_rules_free(r);
}

static const char *const c_code =
    "#include <string.h>\n"
    "void f(const char *src) {\n"
    "  char buf[8];\n"
    "  strcpy(buf, src);\n"
    "}\n";

TEST(rules_only_changed_lines) {
  qr_rules *r = load_builtin();
  /* The strcpy line (4) is context; only line 3 was added. */
  const char *diff =
      "diff --git a/a.c b/a.c\n--- a/a.c\n+++ b/a.c\n@@ -1,4 +1,5 @@\n #include <string.h>\n"
      " void f(const char *src) {\n+  char buf[8];\n   strcpy(buf, src);\n }\n";
  qr_diff *d = NULL;
  ASSERT_OK(qr_diff_parse(diff, strlen(diff), 1u << 20, &d, NULL));
  qr_snapshot *s = qr_snapshot_new();
  ASSERT_OK(qr_snapshot_add(s, "a.c", c_code, strlen(c_code)));
  ASSERT_OK(qr_snapshot_add(s, "other.c", c_code, strlen(c_code))); /* not in the diff */
  qr_finding_list l;
  qr_finding_list_init(&l);
  ASSERT_OK(qr_rules_run(r, d, s, false, &l, NULL));
  ASSERT_EQ(l.n, 0);
  ASSERT_OK(qr_rules_run(r, d, s, true, &l, NULL));
  ASSERT_EQ(l.n, 1);
  ASSERT_STR_EQ(l.items[0].file, "a.c");
  ASSERT_EQ(l.items[0].start_line, 4);
  ASSERT_EQ(l.items[0].end_line, 4);
  ASSERT_STR_EQ(l.items[0].sources[0].model, "rule:c-strcpy-unbounded");
  ASSERT_EQ(l.items[0].sources[0].pass, -1);
  ASSERT_STR_EQ(l.items[0].evidence, "strcpy(buf, src)");
  ASSERT(l.items[0].evidence_matched);
  qr_finding_list_free(&l);
  qr_snapshot_free(s);
  qr_diff_free(d);
  qr_rules_free(r);
}

TEST(rules_fixes_replace_whole_lines) {
  qr_rules *r = load_builtin();
  qr_finding_list l;
  qr_finding_list_init(&l);
  run_on(r, "x.py", "try:\n    go()\nexcept:  # all\n    pass\n", false, &l);
  const qr_finding *f = NULL;
  ASSERT_EQ(count_rule(&l, "py-bare-except", &f), 1);
  ASSERT_EQ(f->start_line, 3);
  ASSERT(f->fix && f->fix->start_line == 3 && f->fix->end_line == 3);
  ASSERT_STR_EQ(f->fix->replacement, "except Exception:  # all");
  qr_finding_list_free(&l);

  qr_finding_list_init(&l);
  run_on(r, "y.c", "void g(char *m) {\n  fprintf(stderr,\n          m);\n}\n", false, &l);
  ASSERT_EQ(count_rule(&l, "c-format-string-variable", &f), 1);
  ASSERT_EQ(f->start_line, 2);
  ASSERT_EQ(f->end_line, 3);
  ASSERT(f->fix && f->fix->start_line == 3 && f->fix->end_line == 3);
  ASSERT_STR_EQ(f->fix->replacement, "          \"%s\", m);");
  qr_finding_list_free(&l);
  qr_rules_free(r);
}

TEST(rules_same_line_reported_once) {
  qr_rules *r = load_builtin();
  qr_finding_list l;
  qr_finding_list_init(&l);
  run_on(r, "z.c", "void h(char *b, char *c) { char a[8]; strcpy(a, b); strcpy(a, c); }\n", false,
         &l);
  ASSERT_EQ(count_rule(&l, "c-strcpy-unbounded", NULL), 1);
  qr_finding_list_free(&l);
  qr_rules_free(r);
}

/* --- user folders ------------------------------------------------------------------------ */

static void write_file(const char *path, const char *text) {
  FILE *f = fopen(path, "w");
  ASSERT(f != NULL);
  fputs(text, f);
  fclose(f);
}

/* A temporary rules folder with one language sub-folder; paths are static. */
static char folder[64], langdir[128], rulefile[256];

static void make_folder(const char *lang, const char *id, const char *text) {
  strcpy(folder, "/tmp/qr-rules-XXXXXX");
  ASSERT(mkdtemp(folder) != NULL);
  snprintf(langdir, sizeof langdir, "%s/%s", folder, lang);
  ASSERT_OK(mkdir(langdir, 0700));
  snprintf(rulefile, sizeof rulefile, "%s/%s.scm", langdir, id);
  write_file(rulefile, text);
}

static void remove_folder(void) {
  unlink(rulefile);
  rmdir(langdir);
  rmdir(folder);
}

/* Loads the built-ins plus the temporary folder; returns the code, message in e. */
static int load_with_folder(qr_rules **r, qr_err *e) {
  const char *folders[] = {folder};
  *r = NULL;
  return qr_rules_load(folders, 1, r, e);
}

#define USER_HEAD "; id: my-rule\n; message: no foo\n; category: style\n; severity: hint\n"

TEST(rules_user_folder_adds_and_overrides) {
  qr_rules *base = load_builtin();
  size_t n = qr_rules_count(base);
  qr_rules_free(base);

  make_folder("python", "my-rule",
              USER_HEAD "; A note that is prose, not a key.\n"
              "((identifier) @finding (#any-of? @finding \"foo\" \"Foo\") (#not-eq? @finding \"bar\"))\n");
  qr_rules *r = NULL;
  qr_err e = {0};
  if (load_with_folder(&r, &e)) QR__FAIL("%s", e.msg);
  ASSERT_EQ(qr_rules_count(r), n + 1);
  const qr_rule_info *ri = qr_rules_get(r, n);
  ASSERT_STR_EQ(ri->id, "my-rule");
  ASSERT_STR_EQ(ri->language, "python");
  ASSERT(!ri->builtin);
  ASSERT_EQ(ri->severity, QR_SEV_HINT);
  qr_finding_list l;
  qr_finding_list_init(&l);
  run_on(r, "u.py", "foo = 1\nbar = Foo\nfood = 2\n", false, &l);
  ASSERT_EQ(count_rule(&l, "my-rule", NULL), 2);
  qr_finding_list_free(&l);
  qr_rules_free(r);
  remove_folder();

  /* The same id and language as a built-in replaces it. */
  make_folder("python", "py-assert-tuple",
              "; id: py-assert-tuple\n; message: mine\n; category: style\n; severity: info\n"
              "((assert_statement) @finding)\n");
  ASSERT_OK(load_with_folder(&r, &e));
  ASSERT_EQ(qr_rules_count(r), n);
  qr_finding_list_init(&l);
  run_on(r, "v.py", "assert x\n", false, &l);
  const qr_finding *f = NULL;
  ASSERT_EQ(count_rule(&l, "py-assert-tuple", &f), 1);
  ASSERT_STR_EQ(f->message, "mine");
  qr_finding_list_free(&l);
  qr_rules_free(r);
  remove_folder();
}

TEST(rules_regex_predicates) {
  make_folder("c", "my-rule",
              USER_HEAD "((identifier) @finding (#match? @finding \"(?i)^todo_\")"
              " (#not-match? @finding \"_ok$\"))\n");
  qr_rules *r = NULL;
  qr_err e = {0};
  if (load_with_folder(&r, &e)) QR__FAIL("%s", e.msg);
  qr_finding_list l;
  qr_finding_list_init(&l);
  run_on(r, "p.c", "int TODO_a;\nint todo_ok;\nint x_todo_b;\n", false, &l);
  const qr_finding *f = NULL;
  ASSERT_EQ(count_rule(&l, "my-rule", &f), 1);
  ASSERT_EQ(f->start_line, 1);
  qr_finding_list_free(&l);
  qr_rules_free(r);
  remove_folder();
}

/* Lines (up to 8) where `id` fired on `text` as file `path`; their count. */
static size_t fired_lines(qr_rules *r, const char *id, const char *path, const char *text,
                          int lines[8]) {
  qr_finding_list l;
  qr_finding_list_init(&l);
  run_on(r, path, text, false, &l);
  char model[256];
  snprintf(model, sizeof model, "rule:%s", id);
  size_t n = 0;
  for (size_t i = 0; i < l.n; i++)
    if (!strcmp(l.items[i].sources[0].model, model) && n < 8) lines[n++] = l.items[i].start_line;
  qr_finding_list_free(&l);
  return n;
}

TEST(rules_strcpy_only_into_arrays) {
  /* #array?: a local, outer-block or file-scope array, a member declared as an array; never a
   * pointer, an array parameter, a pointer member or a name an inner pointer hides. */
  qr_rules *r = load_builtin();
  int at[8];
  ASSERT_EQ(fired_lines(r, "c-strcpy-unbounded", "a.c",
                        "struct s { char name[8]; char *tag; };\n"    /* 1 */
                        "static char g[4];\n"                        /* 2 */
                        "void f(struct s *p, char q[4], const char *v) {\n"
                        "  char a[16], *b = 0, (*c)[4] = 0;\n"      /* 4 */
                        "  strcpy(a, v);\n"                          /* 5: array */
                        "  strcpy(b, v);\n"                          /* 6: pointer */
                        "  strcpy(*c, v);\n"                         /* 7: not an identifier */
                        "  strcpy(p->name, v);\n"                    /* 8: array member */
                        "  strcpy(p->tag, v);\n"                     /* 9: pointer member */
                        "  strcpy(q, v);\n"                          /* 10: array parameter */
                        "  for (;;) { if (v) strcat(g, v); }\n"      /* 11: file-scope array */
                        "  { char *a = 0; strcpy(a, v); }\n"         /* 12: hidden by a pointer */
                        "}\n", at), 3);
  ASSERT_EQ(at[0], 5);
  ASSERT_EQ(at[1], 8);
  ASSERT_EQ(at[2], 11);
  qr_rules_free(r);
}

TEST(rules_assignment_in_condition_plain_only) {
  qr_rules *r = load_builtin();
  int at[8];
  ASSERT_EQ(fired_lines(r, "c-assignment-in-condition", "b.c",
                        "int f(int k, int j) {\n"
                        "  if (k = j) return 1;\n"
                        "  if (k &= 0x1f) return 2;\n"
                        "  if (k >>= 4) return 3;\n"
                        "  if (k -= j) return 4;\n"
                        "  if (k ^= j) return 5;\n"
                        "  return 0;\n}\n", at), 1);
  ASSERT_EQ(at[0], 2);
  qr_rules_free(r);
}

/* Loads a folder holding one rule `text` and expects QR_E_CONFIG with `msg` in the message. */
static void expect_rule_error(const char *lang, const char *id, const char *text, const char *msg) {
  make_folder(lang, id, text);
  qr_rules *r = NULL;
  qr_err e = {0};
  int rc = load_with_folder(&r, &e);
  remove_folder();
  if (rc != QR_E_CONFIG) QR__FAIL("expected QR_E_CONFIG for %s, got %d (%s)", text, rc, e.msg);
  ASSERT(r == NULL);
  ASSERT_CONTAINS(e.msg, msg);
}

TEST(rules_user_errors_name_the_file) {
  expect_rule_error("c", "my-rule", "; id: my-rule\n((identifier) @finding)\n", "no \"; message:\"");
  expect_rule_error("c", "my-rule", USER_HEAD "; sevrity: x\n((identifier) @finding)\n",
                    "unknown header key \"sevrity\"");
  expect_rule_error("c", "my-rule", "; id: my-rule\n; message: m\n; category: c\n; severity: loud\n"
                    "((identifier) @finding)\n", "severity must be");
  expect_rule_error("c", "other", USER_HEAD "((identifier) @finding)\n", "differs from the file name");
  expect_rule_error("c", "my-rule", USER_HEAD "\n\n((no_such_node) @finding)\n",
                    "my-rule.scm:7: unknown node type");
  expect_rule_error("c", "my-rule", USER_HEAD "((identifier) @x)\n", "no @finding capture");
  expect_rule_error("c", "my-rule", USER_HEAD "((identifier) @finding (#set! x y))\n",
                    "unsupported predicate #set!");
  expect_rule_error("c", "my-rule", USER_HEAD "((identifier) @finding (#match? @finding \"(\"))\n",
                    "invalid regular expression");
  expect_rule_error("c", "my-rule", USER_HEAD "((identifier) @finding (#array? @finding \"x\"))\n",
                    "#array? takes one capture");
  expect_rule_error("c", "my-rule", USER_HEAD "; fix: @nope\n((identifier) @finding)\n",
                    "fix uses @nope");
  expect_rule_error("c", "my-rule", USER_HEAD "; also: cobol\n((identifier) @finding)\n",
                    "also: unknown language \"cobol\"");
  expect_rule_error("klingon", "my-rule", USER_HEAD "((identifier) @finding)\n", "not a language name");

  const char *missing[] = {"/nonexistent/rules"};
  qr_rules *r = NULL;
  qr_err e = {0};
  ASSERT_EQ(qr_rules_load(missing, 1, &r, &e), QR_E_NOTFOUND);
  ASSERT_CONTAINS(e.msg, "/nonexistent/rules");
}

TEST(rules_alloc_failures) {
  /* Fails each allocation of a run in turn: a clean QR_E_NOMEM every time, never a leak. */
  qr_rules *r = load_builtin();
  const char *text = "try:\n    x = eval(s)\nexcept:\n    pass\ndef f(a=[]):\n    pass\n";
  qr_diff *d = new_file_diff("t.py", text);
  qr_snapshot *s = qr_snapshot_new();
  ASSERT_OK(qr_snapshot_add(s, "t.py", text, strlen(text)));
  int rc = QR_E_NOMEM;
  for (long n = 1; rc == QR_E_NOMEM; n++) {
    qr_finding_list l;
    qr_finding_list_init(&l);
    qr_alloc_fail_after(n);
    rc = qr_rules_run(r, d, s, false, &l, NULL);
    qr_alloc_fail_after(-1);
    if (!rc) ASSERT_EQ(l.n, 3);
    qr_finding_list_free(&l);
  }
  ASSERT_OK(rc);
  qr_snapshot_free(s);
  qr_diff_free(d);
  qr_rules_free(r);

  /* Loading: a sample of failure points across the whole pack (every one would take long). */
  for (long n = 1; n < 2000; n += 333) {
    qr_alloc_fail_after(n);
    rc = qr_rules_load(NULL, 0, &r, NULL);
    qr_alloc_fail_after(-1);
    if (!rc) qr_rules_free(r);
    else ASSERT_EQ(rc, QR_E_NOMEM);
  }
}
