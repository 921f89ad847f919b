/* test_judge.c — the consensus merge on golden cases (tests/data/judge/<case>/: findings.json
 * with model/strategy/pass per finding, files/…, expected.json scored like score_review.py),
 * the labelled dev case from ../shared/eval/judge-dev, fix validation, fingerprints, options,
 * and the model judge's prompt and verdicts. */
#include <ctype.h>
#include <dirent.h>
#include <sys/stat.h>

#include "judge/judge.h"
#include "test.h"

/* ---- helpers ----------------------------------------------------------------------------- */

static json_t *load_json(const char *path) {
  json_error_t je;
  json_t *j = json_load_file(path, 0, &je);
  if (!j) QR__FAIL("%s: %s (line %d)", path, je.text, je.line);
  return j;
}

/* Appends the model-format entries of `arr` as findings of one pass, through the real parser. */
static void add_entries(json_t *arr, const char *model, const char *strategy, int pass,
                        qr_finding_list *l) {
  json_t *doc = json_pack("{s:O}", "findings", arr);
  char *text = json_dumps(doc, 0);
  qr_drops drops = {0};
  qr_err e;
  if (qr_findings_parse(text, strlen(text), model, strategy, pass, l, &drops, &e))
    QR__FAIL("findings do not parse: %s", e.msg);
  ASSERT_EQ(drops.total, 0);
  free(text);
  json_decref(doc);
}

/* The diff text for `text` at `path`: lines after `base` are added (base 0: a new file). */
static void diff_for(qr_buf *d, const char *path, const char *text, int base) {
  int n = 0;
  for (const char *p = text; *p; p++) n += *p == '\n';
  ASSERT_OK(qr_buf_printf(d, "diff --git a/%s b/%s\n", path, path));
  if (base) ASSERT_OK(qr_buf_printf(d, "--- a/%s\n+++ b/%s\n@@ -1,%d +1,%d @@\n", path, path, base, n));
  else ASSERT_OK(qr_buf_printf(d, "new file mode 100644\n--- /dev/null\n+++ b/%s\n@@ -0,0 +1,%d @@\n", path, n));
  int line = 1;
  for (const char *p = text; *p; line++) {
    size_t len = strcspn(p, "\n");
    ASSERT_OK(qr_buf_printf(d, "%c%.*s\n", line <= base ? ' ' : '+', (int)len, p));
    p += len + (p[len] == '\n');
  }
}

typedef struct fixture {
  qr_snapshot *snap;
  qr_diff *diff;
  qr_buf diff_text;
} fixture;

/* Adds every file below root/rel to the snapshot and the diff (base lines from `bases`). */
static void add_tree(fixture *fx, const char *root, const char *rel, json_t *bases) {
  char *dir = qr_asprintf("%s%s%s", root, *rel ? "/" : "", rel);
  DIR *d = opendir(dir);
  if (!d) QR__FAIL("cannot open %s", dir);
  struct dirent *ent;
  while ((ent = readdir(d))) {
    if (ent->d_name[0] == '.') continue;
    char *sub = qr_asprintf("%s%s%s", rel, *rel ? "/" : "", ent->d_name);
    char *full = qr_asprintf("%s/%s", root, sub);
    struct stat st;
    ASSERT_OK(stat(full, &st));
    if (S_ISDIR(st.st_mode)) {
      add_tree(fx, root, sub, bases);
    } else {
      char *text;
      size_t len;
      ASSERT_OK(qr_read_file(full, 1 << 20, &text, &len, NULL));
      ASSERT_OK(qr_snapshot_add(fx->snap, sub, text, len));
      diff_for(&fx->diff_text, sub, text, (int)json_integer_value(json_object_get(bases, sub)));
      qr_free(text);
    }
    qr_free(sub);
    qr_free(full);
  }
  closedir(d);
  qr_free(dir);
}

static void fixture_load(fixture *fx, const char *files_dir, json_t *bases) {
  fx->snap = qr_snapshot_new();
  qr_buf_init(&fx->diff_text, 1 << 20);
  add_tree(fx, files_dir, "", bases);
  qr_err e;
  if (qr_diff_parse(fx->diff_text.data, fx->diff_text.len, 1 << 20, &fx->diff, &e))
    QR__FAIL("test diff: %s", e.msg);
}

static void fixture_free(fixture *fx) {
  qr_snapshot_free(fx->snap);
  qr_diff_free(fx->diff);
  qr_buf_free(&fx->diff_text);
}

/* score_review.py's rules: a finding matches a cluster when it is in the same file, overlaps
 * [lo-1, hi+1] and its message holds one of the keywords; findings and clusters are paired
 * one-to-one by bipartite matching. */
typedef struct score {
  int matched, extras, votes_right, clusters;
} score;

static bool matches(const qr_finding *f, json_t *c) {
  json_t *lines = json_object_get(c, "lines");
  int lo = (int)json_integer_value(json_array_get(lines, 0));
  int hi = (int)json_integer_value(json_array_get(lines, 1));
  if (strcmp(f->file, json_string_value(json_object_get(c, "file"))) || f->start_line > hi + 1 ||
      f->end_line < lo - 1)
    return false;
  char *msg = qr_strdup(f->message);
  for (char *p = msg; *p; p++) *p = (char)tolower((unsigned char)*p);
  size_t i;
  json_t *k;
  bool hit = false;
  json_array_foreach(json_object_get(c, "any"), i, k) hit |= strstr(msg, json_string_value(k)) != NULL;
  qr_free(msg);
  return hit;
}

static bool augment(const qr_finding_list *out, json_t *cl, size_t f, int *match, bool *seen) {
  for (size_t j = 0; j < json_array_size(cl); j++) {
    if (seen[j] || !matches(&out->items[f], json_array_get(cl, j))) continue;
    seen[j] = true;
    if (match[j] < 0 || augment(out, cl, (size_t)match[j], match, seen)) {
      match[j] = (int)f;
      return true;
    }
  }
  return false;
}

static score score_output(const qr_finding_list *out, json_t *cl) {
  size_t nc = json_array_size(cl);
  int match[64];
  bool seen[64];
  ASSERT(nc <= 64);
  for (size_t j = 0; j < nc; j++) match[j] = -1;
  for (size_t f = 0; f < out->n; f++) {
    memset(seen, 0, sizeof seen);
    augment(out, cl, f, match, seen);
  }
  score s = {0, 0, 0, (int)nc};
  for (size_t j = 0; j < nc; j++) {
    if (match[j] < 0) {
      fprintf(stderr, "  missed cluster %s\n", json_string_value(json_object_get(json_array_get(cl, j), "id")));
      continue;
    }
    s.matched++;
    int want = (int)json_integer_value(json_object_get(json_array_get(cl, j), "votes"));
    if (out->items[match[j]].votes == want) s.votes_right++;
    else fprintf(stderr, "  cluster %s: votes %d, want %d\n",
                 json_string_value(json_object_get(json_array_get(cl, j), "id")),
                 out->items[match[j]].votes, want);
  }
  s.extras = (int)out->n - s.matched;
  return s;
}

static void dump(const qr_finding_list *l) {
  for (size_t i = 0; i < l->n; i++)
    fprintf(stderr, "  %s:%d-%d votes=%d conf=%.2f fp=%s %s\n", l->items[i].file,
            l->items[i].start_line, l->items[i].end_line, l->items[i].votes,
            l->items[i].confidence, l->items[i].fingerprint, l->items[i].message);
}

static void require_perfect(const qr_finding_list *out, json_t *clusters) {
  score s = score_output(out, clusters);
  if (s.matched != s.clusters || s.extras || s.votes_right != s.clusters) {
    dump(out);
    QR__FAIL("matched %d/%d, extras %d, votes right %d", s.matched, s.clusters, s.extras,
             s.votes_right);
  }
}

/* ---- golden cases ------------------------------------------------------------------------ */

/* Runs one tests/data/judge/<name> case: validate, merge, score; then `check` (may be NULL)
 * looks at the merged findings. */
static void run_case(const char *name, void (*check)(const qr_finding_list *out)) {
  char *dir = qr_asprintf("%s/judge/%s", qr_test_data_dir(), name);
  char *files = qr_asprintf("%s/files", dir), *fpath = qr_asprintf("%s/findings.json", dir),
       *epath = qr_asprintf("%s/expected.json", dir);
  fixture fx;
  fixture_load(&fx, files, NULL);
  json_t *in = load_json(fpath), *exp = load_json(epath);
  qr_finding_list l, out;
  qr_finding_list_init(&l);
  qr_finding_list_init(&out);
  size_t i;
  json_t *f;
  json_array_foreach(json_object_get(in, "findings"), i, f) {
    json_t *one = json_pack("[O]", f);
    add_entries(one, json_string_value(json_object_get(f, "model")),
                json_string_value(json_object_get(f, "strategy")),
                (int)json_integer_value(json_object_get(f, "pass")), &l);
    json_decref(one);
  }
  ASSERT_EQ(qr_findings_validate(&l, fx.diff, fx.snap, NULL, false, 5, NULL), 0);
  ASSERT_OK(qr_judge_consensus(&l, fx.snap, NULL, 0, NULL, &out, NULL));
  require_perfect(&out, json_object_get(exp, "clusters"));
  if (check) check(&out);
  qr_finding_list_free(&l);
  qr_finding_list_free(&out);
  json_decref(in);
  json_decref(exp);
  fixture_free(&fx);
  qr_free(dir);
  qr_free(files);
  qr_free(fpath);
  qr_free(epath);
}

TEST(judge_golden_paraphrases_merge) { run_case("paraphrase", NULL); }
TEST(judge_golden_same_line_malloc_problems_apart) { run_case("malloc_two_problems", NULL); }
TEST(judge_golden_same_line_injection_and_tempfile_apart) { run_case("injection_tempfile", NULL); }
TEST(judge_golden_null_and_leak_apart) { run_case("null_and_leak", NULL); }
TEST(judge_golden_line_jitter) { run_case("jitter", NULL); }
TEST(judge_golden_pass_reports_twice) { run_case("duplicate_in_pass", NULL); }
TEST(judge_golden_one_pass_two_objects) { run_case("one_pass_two_objects", NULL); }

/* ---- the labelled dev case --------------------------------------------------------------- */

static void write_output(const qr_finding_list *out, const char *path) {
  json_t *arr = json_array();
  for (size_t i = 0; i < out->n; i++) {
    const qr_finding *f = &out->items[i];
    json_array_append_new(arr, json_pack("{s:s,s:i,s:i,s:s,s:i}", "file", f->file, "start_line",
                                         f->start_line, "end_line", f->end_line, "message",
                                         f->message, "votes", f->votes));
  }
  json_t *doc = json_pack("{s:o}", "findings", arr);
  ASSERT_OK(json_dump_file(doc, path, JSON_INDENT(1)));
  json_decref(doc);
}

TEST(judge_dev_case) {
  const char *env = getenv("QR_EVAL_DIR");
  char *dev = qr_asprintf("%s/judge-dev", env ? env : "../shared/eval");
  char *passes_path = qr_asprintf("%s/passes.json", dev), *exp_path = qr_asprintf("%s/expected.json", dev),
       *repo = qr_asprintf("%s/repo", dev);
  struct stat st;
  if (stat(passes_path, &st)) {
    printf("note: %s absent, dev case skipped\n", passes_path);
    qr_free(dev);
    qr_free(passes_path);
    qr_free(exp_path);
    qr_free(repo);
    return;
  }
  json_t *passes = load_json(passes_path), *exp = load_json(exp_path);
  fixture fx;
  fixture_load(&fx, repo, json_object_get(exp, "base_lines"));
  qr_finding_list l, out;
  qr_finding_list_init(&l);
  qr_finding_list_init(&out);
  size_t i;
  json_t *p;
  json_array_foreach(json_object_get(passes, "passes"), i, p)
    add_entries(json_object_get(p, "findings"), json_string_value(json_object_get(p, "model")),
                json_string_value(json_object_get(p, "strategy")), (int)i, &l);
  /* the hallucinated file and the out-of-range lines go */
  ASSERT_EQ(qr_findings_validate(&l, fx.diff, fx.snap, NULL, false, 5, NULL), 2);
  ASSERT_OK(qr_judge_consensus(&l, fx.snap, NULL, 0, NULL, &out, NULL));
  mkdir("build", 0755);
  write_output(&out, "build/judge-dev-output.json");
  require_perfect(&out, json_object_get(exp, "clusters"));
  qr_finding_list_free(&l);
  qr_finding_list_free(&out);
  json_decref(passes);
  json_decref(exp);
  fixture_free(&fx);
  qr_free(dev);
  qr_free(passes_path);
  qr_free(exp_path);
  qr_free(repo);
}
TEST(judge_golden_adjacent_ignored_errors_apart) { run_case("adjacent_ignored_errors", NULL); }

/* Adjacent lines, one broad class ("overflow"), different code: `memcpy` into `tag[16]` at
 * line 7 and the `body_len + 1` copy into `malloc(body_len)` at line 8 are two problems. */
TEST(judge_golden_adjacent_overflows_apart) { run_case("adjacent_overflows", NULL); }

/* Three wordings of one defect on one line — its cause ("no guard for an empty list"), the
 * crash ("division by zero") and the symptom ("a NaN average") — naming the same code merge. */
TEST(judge_golden_same_line_wordings_merge) { run_case("same_line_cause_wordings", NULL); }

/* One missing unlock told as a deadlock, a missing `Unlock` and a missing defer. */
TEST(judge_golden_missing_unlock_wordings_merge) { run_case("missing_unlock", NULL); }

/* Two defects of one statement naming the same code (`sizeof dst` of a pointer; strncpy
 * without a NUL) stay apart, one pass reporting both. */
TEST(judge_golden_same_line_strncpy_problems_apart) { run_case("same_line_strncpy_apart", NULL); }

/* The cause (`//` rounds down, in page_count's body) and its consequence (the loop calling
 * page_count() drops the last page) are one problem; a different defect on the cause's line
 * (size 0) is not. */
static void cause_explained(const qr_finding_list *out) {
  ASSERT_EQ(out->n, 2);
  const qr_finding *f = &out->items[out->items[0].votes == 3 ? 0 : 1];
  json_t *members = json_object_get(f->merge, "members");
  ASSERT_EQ(json_array_size(members), 3);
  bool bridged = false;
  size_t i;
  json_t *m;
  json_array_foreach(members, i, m) {
    const char *why = json_string_value(json_object_get(m, "why"));
    ASSERT(why);
    bridged |= strstr(why, "definition") && strstr(why, "`page_count`");
    if (!json_is_true(json_object_get(m, "representative"))) {
      ASSERT(json_number_value(json_object_get(m, "similarity")) > 0);
      ASSERT(json_integer_value(json_object_get(m, "with")) < 3);
    }
  }
  ASSERT(bridged);
}
TEST(judge_golden_consequence_and_cause_merge) { run_case("consequence_cause", cause_explained); }

/* One analyzer's (and one model's) findings on adjacent lines naming different identifiers
 * stay three findings, each at its own line. */
static void imports_at_their_lines(const qr_finding_list *out) {
  ASSERT_EQ(out->n, 3);
  static const char *const names[] = {"'os'", "'sys'", "'re'"};
  for (int i = 0; i < 3; i++) {
    ASSERT_EQ(out->items[i].start_line, i + 1);
    ASSERT_EQ(out->items[i].end_line, i + 1);
    ASSERT_EQ(out->items[i].votes, 2);
    ASSERT(strstr(out->items[i].message, names[i]) || strstr(out->items[i].message, names[i] + 1));
  }
}
TEST(judge_golden_one_pass_adjacent_identifiers_apart) { run_case("same_pass_imports", imports_at_their_lines); }

/* ---- fixes, fingerprints, options -------------------------------------------------------- */

static const char c_source[] =
    "#include <stdlib.h>\n"
    "\n"
    "int area(int w, int h) {\n"
    "  int a = w * h;\n"
    "  return a;\n"
    "}\n";

/* A finding from one pass, lines [s, e], with an optional fix. */
static void push(qr_finding_list *l, const char *file, int s, int e, const char *msg, int pass,
                 const char *fix) {
  qr_finding f = {0};
  f.file = qr_strdup(file);
  f.start_line = s;
  f.end_line = e;
  f.severity = QR_SEV_WARNING;
  f.category = qr_strdup("correctness");
  f.message = qr_strdup(msg);
  if (fix) {
    f.fix = qr_malloc(sizeof *f.fix);
    *f.fix = (qr_fix){s, e, qr_strdup(fix)};
  }
  char model[16];
  snprintf(model, sizeof model, "m%d", pass % 3);
  ASSERT_OK(qr_finding_add_source(&f, model, "bugs", pass));
  ASSERT_OK(qr_finding_list_push(l, &f));
}

TEST(judge_fix_validation) {
  qr_snapshot *snap = qr_snapshot_new();
  ASSERT_OK(qr_snapshot_add(snap, "a.c", c_source, strlen(c_source)));
  const qr_snapshot_file *f = qr_snapshot_find(snap, "a.c");
  ASSERT(f->lang);
  qr_fix good = {4, 4, "  long a = (long)w * h;"}, broken = {4, 4, "  int a = w * (h;"};
  qr_fix out_of_range = {7, 7, "x"}, reversed = {5, 4, "x"};
  ASSERT(qr_judge_fix_valid(f, &good));
  ASSERT(!qr_judge_fix_valid(f, &broken));
  ASSERT(!qr_judge_fix_valid(f, &out_of_range));
  ASSERT(!qr_judge_fix_valid(f, &reversed));

  /* through the merge: the broken fix is offered twice, the good one once; the broken one is
     dropped and the finding keeps the good fix; a cluster with only a broken fix keeps none */
  qr_finding_list in, out;
  qr_finding_list_init(&in);
  qr_finding_list_init(&out);
  push(&in, "a.c", 4, 4, "w * h can overflow int for large sizes.", 0, broken.replacement);
  push(&in, "a.c", 4, 4, "Integer overflow in w * h.", 1, broken.replacement);
  push(&in, "a.c", 4, 4, "The product w * h overflows int.", 2, good.replacement);
  push(&in, "a.c", 5, 5, "`return a` should be documented in a comment.", 3, "  return (a;");
  ASSERT_OK(qr_judge_consensus(&in, snap, NULL, 0, NULL, &out, NULL));
  ASSERT_EQ(out.n, 2);
  ASSERT_EQ(out.items[0].votes, 3);
  ASSERT(out.items[0].fix);
  ASSERT_STR_EQ(out.items[0].fix->replacement, good.replacement);
  ASSERT(!out.items[1].fix);
  qr_finding_list_free(&in);
  qr_finding_list_free(&out);
  qr_snapshot_free(snap);
}

/* A snapshot of one file and two empty lists, for a merge of findings about it. */
static qr_snapshot *one_file(const char *path, const char *text, qr_finding_list *in,
                             qr_finding_list *out) {
  qr_snapshot *snap = qr_snapshot_new();
  ASSERT_OK(qr_snapshot_add(snap, path, text, strlen(text)));
  qr_finding_list_init(in);
  qr_finding_list_init(out);
  return snap;
}

static void one_file_free(qr_snapshot *snap, qr_finding_list *in, qr_finding_list *out) {
  qr_finding_list_free(in);
  qr_finding_list_free(out);
  qr_snapshot_free(snap);
}

/* One pass never reports one problem twice under two names: its findings on one line that name
 * different code, or carry different analyzer rules, stay apart however alike their words;
 * another pass's finding still joins the one it agrees with. */
TEST(judge_one_pass_names_and_rules_apart) {
  static const char py[] = "import json, time\n\ndef f(v):\n    return v\n";
  qr_finding_list in, out;
  qr_snapshot *snap = one_file("m.py", py, &in, &out);
  push(&in, "m.py", 1, 1, "'json' imported but unused", 0, NULL);
  push(&in, "m.py", 1, 1, "'time' imported but unused", 0, NULL);
  push(&in, "m.py", 3, 3, "The value assigned here is never read.", 0, NULL);
  in.items[2].rule = qr_strdup("lint/dead-store");
  push(&in, "m.py", 3, 3, "The value assigned here is never used.", 0, NULL);
  in.items[3].rule = qr_strdup("lint/unused-value");
  push(&in, "m.py", 1, 1, "Unused import 'time'.", 1, NULL);
  ASSERT_OK(qr_judge_consensus(&in, snap, NULL, 0, NULL, &out, NULL));
  ASSERT_EQ(out.n, 4);
  ASSERT_EQ(out.items[0].votes + out.items[1].votes, 3); /* 'time' has two */
  for (size_t i = 0; i < 2; i++)
    ASSERT_EQ(out.items[i].votes, strstr(out.items[i].message, "time") ? 2 : 1);
  ASSERT(strstr(out.items[2].message, "never") && strstr(out.items[3].message, "never"));
  one_file_free(snap, &in, &out);
}

/* The fingerprint of the single merged finding of `msg` at `line` of `text`. */
static void fingerprint_of(const char *text, int line, const char *msg, char fp[17]) {
  qr_snapshot *snap = qr_snapshot_new();
  ASSERT_OK(qr_snapshot_add(snap, "a.c", text, strlen(text)));
  qr_finding_list in, out;
  qr_finding_list_init(&in);
  qr_finding_list_init(&out);
  push(&in, "a.c", line, line, msg, 0, NULL);
  ASSERT_OK(qr_judge_consensus(&in, snap, NULL, 0, NULL, &out, NULL));
  ASSERT_EQ(out.n, 1);
  ASSERT_EQ(strlen(out.items[0].fingerprint), 16);
  memcpy(fp, out.items[0].fingerprint, 17);
  qr_finding_list_free(&in);
  qr_finding_list_free(&out);
  qr_snapshot_free(snap);
}

TEST(judge_fingerprint_stable_when_lines_move) {
  static const char moved[] =
      "#include <stdlib.h>\n"
      "#include <stdio.h>\n"
      "\n"
      "/* area of a rectangle */\n"
      "\n"
      "int area(int w, int h) {\n"
      "  int a = w * h;\n"
      "  return a;\n"
      "}\n";
  static const char renamed[] =
      "#include <stdlib.h>\n"
      "\n"
      "int volume(int w, int h) {\n"
      "  int a = w * h;\n"
      "  return a;\n"
      "}\n";
  const char *overflow = "Integer overflow: w * h can exceed INT_MAX.";
  char a[17], b[17], c[17], d[17];
  fingerprint_of(c_source, 4, overflow, a);
  fingerprint_of(moved, 7, overflow, b);
  ASSERT_STR_EQ(a, b); /* lines above moved: same */
  fingerprint_of(c_source, 4, "The result of malloc is never freed (memory leak).", c);
  ASSERT(strcmp(a, c)); /* another problem at the same place: different */
  fingerprint_of(renamed, 4, overflow, d);
  ASSERT(strcmp(a, d)); /* same problem in another function: different */
}

TEST(judge_options_min_votes_and_max_findings) {
  qr_snapshot *snap = qr_snapshot_new();
  ASSERT_OK(qr_snapshot_add(snap, "a.c", c_source, strlen(c_source)));
  qr_finding_list in, out;
  qr_finding_list_init(&in);
  qr_finding_list_init(&out);
  push(&in, "a.c", 4, 4, "Integer overflow in w * h.", 0, NULL);
  push(&in, "a.c", 4, 4, "w * h overflows int for large inputs.", 1, NULL);
  push(&in, "a.c", 1, 1, "stdlib.h is an unused include.", 2, NULL);
  push(&in, "a.c", 3, 3, "Parameters w and h should be unsigned: negative sizes make no sense.", 0, NULL);
  in.items[3].severity = QR_SEV_ERROR;

  qr_judge_options two = {2, 0, 0};
  ASSERT_OK(qr_judge_consensus(&in, snap, NULL, 0, &two, &out, NULL));
  ASSERT_EQ(out.n, 1);
  ASSERT_EQ(out.items[0].start_line, 4);
  ASSERT_EQ(out.items[0].votes, 2);
  ASSERT_EQ(out.items[0].models, 2);
  qr_finding_list_free(&out);

  /* max 2: the error (1 vote) and the 2-vote warning beat the 1-vote warning; output by line */
  qr_judge_options top2 = {1, 0, 2};
  ASSERT_OK(qr_judge_consensus(&in, snap, NULL, 0, &top2, &out, NULL));
  ASSERT_EQ(out.n, 2);
  ASSERT_EQ(out.items[0].start_line, 3);
  ASSERT_EQ(out.items[1].start_line, 4);
  for (size_t i = 0; i < out.n; i++) ASSERT(out.items[i].confidence > 0 && out.items[i].confidence <= 1);
  qr_finding_list_free(&out);

  /* coverage: 2 of 2 passes that saw the file agree → more confident than 2 of 3 */
  qr_judge_coverage cov = {"a.c", 2};
  ASSERT_OK(qr_judge_consensus(&in, snap, &cov, 1, &two, &out, NULL));
  double full = out.items[0].confidence;
  qr_finding_list_free(&out);
  ASSERT_OK(qr_judge_consensus(&in, snap, NULL, 0, &two, &out, NULL));
  ASSERT(full > out.items[0].confidence);
  qr_judge_options sure = {1, full - 1e-9, 0};
  qr_finding_list_free(&out);
  ASSERT_OK(qr_judge_consensus(&in, snap, &cov, 1, &sure, &out, NULL));
  ASSERT_EQ(out.n, 1);
  qr_finding_list_free(&out);
  qr_finding_list_free(&in);
  qr_snapshot_free(snap);
}

/* How many findings the default consensus makes of `in`. */
static size_t merged_n(const qr_finding_list *in, const qr_snapshot *snap) {
  qr_finding_list out;
  qr_finding_list_init(&out);
  ASSERT_OK(qr_judge_consensus(in, snap, NULL, 0, NULL, &out, NULL));
  size_t n = out.n;
  qr_finding_list_free(&out);
  return n;
}

/* One local pass's findings from two rules are two problems, even in the same words. */
TEST(judge_one_pass_two_rules_apart) {
  qr_snapshot *snap = qr_snapshot_new();
  ASSERT_OK(qr_snapshot_add(snap, "a.c", c_source, strlen(c_source)));
  qr_finding_list in;
  qr_finding_list_init(&in);
  for (int i = 0; i < 2; i++)
    push(&in, "a.c", 4, 4, "The allocation result is used without a NULL check.", 0, NULL);
  in.items[0].rule = qr_strdup("c-malloc-unchecked");
  in.items[1].rule = qr_strdup("c-realloc-self-assign");
  ASSERT_EQ(merged_n(&in, snap), 2);
  qr_free(in.items[1].rule); /* one rule twice: the same check, merged */
  in.items[1].rule = qr_strdup("c-malloc-unchecked");
  ASSERT_EQ(merged_n(&in, snap), 1);
  qr_finding_list_free(&in);
  qr_snapshot_free(snap);
}

/* Progressive results: an earlier consensus's findings stay while later ones carry them on. */
TEST(judge_carry_keeps_earlier_findings) {
  qr_snapshot *snap = qr_snapshot_new();
  ASSERT_OK(qr_snapshot_add(snap, "a.c", c_source, strlen(c_source)));
  qr_finding_list in, before, now;
  qr_finding_list_init(&in);
  qr_finding_list_init(&before);
  qr_finding_list_init(&now);
  push(&in, "a.c", 4, 4, "Integer overflow in w * h.", 0, NULL);
  push(&in, "a.c", 1, 1, "stdlib.h is an unused include.", 0, NULL);
  ASSERT_OK(qr_judge_consensus(&in, snap, NULL, 0, NULL, &before, NULL));
  ASSERT_EQ(before.n, 2);
  /* a second pass agrees on line 4; a stricter filter drops the include finding */
  push(&in, "a.c", 4, 4, "w * h overflows int for large inputs.", 1, NULL);
  qr_judge_options two = {2, 0, 0};
  ASSERT_OK(qr_judge_consensus(&in, snap, NULL, 0, &two, &now, NULL));
  ASSERT_EQ(now.n, 1);
  ASSERT_OK(qr_judge_carry(&before, &now));
  ASSERT_EQ(now.n, 2); /* line 4 carried on by the merged cluster, line 1 copied */
  ASSERT_EQ(now.items[0].start_line, 4);
  ASSERT_EQ(now.items[0].votes, 2);
  ASSERT_EQ(now.items[1].start_line, 1);
  ASSERT_EQ(now.items[1].votes, 1);
  /* carrying again adds nothing: every earlier finding is there */
  ASSERT_OK(qr_judge_carry(&before, &now));
  ASSERT_EQ(now.n, 2);
  qr_finding_list_free(&now);
  qr_finding_list_free(&before);
  qr_finding_list_free(&in);
  qr_snapshot_free(snap);
}

/* ---- the model judge --------------------------------------------------------------------- */

static void three_clusters(qr_finding_list *l) {
  qr_finding_list_init(l);
  push(l, "a.c", 3, 3, "Parameters should be unsigned.", 0, NULL);
  push(l, "a.c", 4, 4, "Integer overflow in w * h.", 1, NULL);
  push(l, "a.c", 5, 5, "Returns a local variable.", 2, NULL);
}

TEST(judge_prompt_anonymised_and_shuffled) {
  qr_snapshot *snap = qr_snapshot_new();
  ASSERT_OK(qr_snapshot_add(snap, "a.c", c_source, strlen(c_source)));
  qr_finding_list l;
  three_clusters(&l);
  qr_prompt p = {0}, q = {0};
  ASSERT_OK(qr_judge_build_prompt(&l, snap, 1, &p, NULL));
  ASSERT(strstr(p.system, "impartial"));
  ASSERT(strstr(p.system, "cannot add"));
  ASSERT(!strstr(p.user, "\"m0\"") && !strstr(p.user, "m1") && !strstr(p.user, "bugs"));
  ASSERT(strstr(p.user, "int a = w * h;")); /* the code it points at */
  ASSERT(strstr(p.user, "\"c2\""));
  ASSERT_STR_EQ(p.schema_name, "judge_verdicts");
  ASSERT(json_is_object(json_object_get(json_object_get(p.schema, "properties"), "verdicts")));
  /* some seed orders the clusters differently */
  bool differs = false;
  for (uint64_t seed = 2; seed < 40 && !differs; seed++) {
    ASSERT_OK(qr_judge_build_prompt(&l, snap, seed, &q, NULL));
    differs = strcmp(strstr(p.user, "\"c"), strstr(q.user, "\"c")) != 0;
    qr_prompt_clear(&q);
  }
  ASSERT(differs);
  qr_prompt_clear(&p);
  qr_finding_list_free(&l);
  qr_snapshot_free(snap);
}

TEST(judge_apply_rejects_and_updates) {
  qr_finding_list l;
  three_clusters(&l);
  qr_judge_rejections rej;
  qr_judge_rejections_init(&rej);
  const char *answer =
      "Here is my verdict:\n```json\n{\"verdicts\":["
      "{\"id\":\"c1\",\"keep\":false,\"reason\":\"style, not a defect\"},"
      "{\"id\":\"c2\",\"keep\":true,\"severity\":\"error\",\"message\":\"w * h overflows int.\",\"reason\":\"real\"},"
      "{\"id\":\"c9\",\"keep\":false,\"reason\":\"unknown id\"},"
      "{\"id\":\"c1\",\"keep\":true,\"reason\":\"repeated id: ignored\"}]}\n```";
  ASSERT_OK(qr_judge_apply(&l, answer, strlen(answer), &rej, NULL));
  ASSERT_EQ(l.n, 2);
  ASSERT_EQ(rej.n, 1);
  ASSERT_STR_EQ(rej.items[0].reason, "style, not a defect");
  ASSERT_STR_EQ(rej.items[0].finding.message, "Parameters should be unsigned.");
  ASSERT_STR_EQ(l.items[0].message, "w * h overflows int.");
  ASSERT_EQ(l.items[0].severity, QR_SEV_ERROR);
  ASSERT_STR_EQ(l.items[1].message, "Returns a local variable."); /* no verdict: kept */
  qr_judge_rejections_free(&rej);
  qr_finding_list_free(&l);
}

/* OpenAI's strict mode: every property of an object is required, additionalProperties false. */
static void require_strict(json_t *schema) {
  json_t *props = json_object_get(schema, "properties");
  if (props) {
    ASSERT(json_is_false(json_object_get(schema, "additionalProperties")));
    json_t *req = json_object_get(schema, "required");
    ASSERT_EQ(json_array_size(req), json_object_size(props));
    const char *k;
    json_t *v;
    json_object_foreach(props, k, v) {
      bool listed = false;
      size_t i;
      json_t *r;
      json_array_foreach(req, i, r) listed |= !strcmp(json_string_value(r), k);
      ASSERT(listed);
      require_strict(v);
    }
  }
  if (json_object_get(schema, "items")) require_strict(json_object_get(schema, "items"));
}

TEST(judge_schema_strict_with_same_as) {
  qr_snapshot *snap = qr_snapshot_new();
  qr_finding_list l;
  three_clusters(&l);
  qr_prompt p = {0};
  ASSERT_OK(qr_judge_build_prompt(&l, snap, 1, &p, NULL));
  require_strict(p.schema);
  json_t *verdict = json_object_get(json_object_get(json_object_get(p.schema, "properties"), "verdicts"), "items");
  json_t *same = json_object_get(json_object_get(verdict, "properties"), "same_as");
  ASSERT(same);
  ASSERT_STR_EQ(json_string_value(json_array_get(json_object_get(same, "type"), 1)), "null");
  ASSERT(strstr(p.system, "same_as"));
  qr_prompt_clear(&p);
  qr_finding_list_free(&l);
  qr_snapshot_free(snap);
}

/* The k-th note the judge's decisions left on f, or NULL. */
static const char *judge_note(const qr_finding *f, size_t k) {
  return json_string_value(json_array_get(json_object_get(f->merge, "judge"), k));
}

/* Two clusters about one problem: same_as folds them, votes from distinct passes. */
TEST(judge_apply_same_as_folds) {
  qr_finding_list l;
  qr_finding_list_init(&l);
  push(&l, "a.c", 4, 4, "Integer overflow in w * h.", 0, NULL);
  ASSERT_OK(qr_finding_add_source(&l.items[0], "m1", "bugs", 1));
  l.items[0].votes = 2;
  push(&l, "a.c", 9, 9, "area() returns a wrapped value for large inputs.", 1, NULL);
  ASSERT_OK(qr_finding_add_source(&l.items[1], "m2", "bugs", 2));
  l.items[1].votes = 2;
  l.items[1].severity = QR_SEV_ERROR;
  push(&l, "a.c", 5, 5, "Returns a local variable.", 3, NULL);
  qr_judge_rejections rej;
  qr_judge_rejections_init(&rej);
  const char *answer = "{\"verdicts\":["
                       "{\"id\":\"c2\",\"keep\":true,\"severity\":null,\"message\":null,\"same_as\":\"c1\",\"reason\":\"the overflow's result\"},"
                       "{\"id\":\"c1\",\"keep\":true,\"severity\":null,\"message\":null,\"same_as\":null,\"reason\":\"real\"},"
                       "{\"id\":\"c3\",\"keep\":true,\"severity\":null,\"message\":null,\"same_as\":\"c3\",\"reason\":\"itself\"}]}";
  ASSERT_OK(qr_judge_apply(&l, answer, strlen(answer), &rej, NULL));
  ASSERT_EQ(l.n, 2);
  ASSERT_EQ(rej.n, 0);
  ASSERT_EQ(l.items[0].start_line, 4);
  ASSERT_EQ(l.items[0].votes, 3); /* passes 0, 1, 2: pass 1 counted once */
  ASSERT_EQ(l.items[0].n_sources, 3);
  ASSERT_EQ(l.items[0].models, 3);
  ASSERT_EQ(l.items[0].severity, QR_SEV_ERROR);
  const char *note = judge_note(&l.items[0], 0);
  ASSERT(note && strstr(note, "applied") && strstr(note, "the overflow's result"));
  ASSERT_EQ(l.items[1].start_line, 5);
  qr_judge_rejections_free(&rej);
  qr_finding_list_free(&l);
}

/* A wrong same_as — another file, lines far apart, a rejected target — changes nothing but
 * the notes; a cycle is one group. */
TEST(judge_apply_same_as_refused) {
  qr_finding_list l;
  qr_finding_list_init(&l);
  push(&l, "a.c", 4, 4, "Integer overflow in w * h.", 0, NULL);
  push(&l, "a.c", 200, 200, "Overflow in the total.", 1, NULL);
  push(&l, "b.c", 4, 4, "Integer overflow in x * y.", 2, NULL);
  push(&l, "b.c", 6, 6, "Style: rename.", 3, NULL);
  push(&l, "c.c", 1, 1, "Leak of fd.", 4, NULL);
  push(&l, "c.c", 2, 2, "fd never closed.", 5, NULL);
  qr_judge_rejections rej;
  qr_judge_rejections_init(&rej);
  const char *answer = "{\"verdicts\":["
                       "{\"id\":\"c2\",\"keep\":true,\"same_as\":\"c1\",\"reason\":\"far\"},"
                       "{\"id\":\"c3\",\"keep\":true,\"same_as\":\"c1\",\"reason\":\"other file\"},"
                       "{\"id\":\"c4\",\"keep\":false,\"same_as\":\"c3\",\"reason\":\"taste\"},"
                       "{\"id\":\"c5\",\"keep\":true,\"same_as\":\"c6\",\"reason\":\"cycle\"},"
                       "{\"id\":\"c6\",\"keep\":true,\"same_as\":\"c5\",\"reason\":\"cycle\"}]}";
  ASSERT_OK(qr_judge_apply(&l, answer, strlen(answer), &rej, NULL));
  ASSERT_EQ(l.n, 4);
  ASSERT_EQ(rej.n, 1);
  for (size_t i = 0; i < 3; i++) ASSERT_EQ(l.items[i].votes, 0); /* untouched */
  ASSERT_EQ(l.items[3].votes, 2);                                  /* c5 and c6 */
  const char *far = judge_note(&l.items[1], 0);
  ASSERT(far && strstr(far, "refused") && strstr(far, "too far apart"));
  const char *other = judge_note(&l.items[2], 0);
  ASSERT(other && strstr(other, "refused") && strstr(other, "different files"));
  ASSERT(judge_note(&l.items[0], 1) && !judge_note(&l.items[0], 2)); /* told both times */
  qr_judge_rejections_free(&rej);
  qr_finding_list_free(&l);
}

/* `k` kept clusters, then a mutual same_as between the first two: one group, whatever k. */
static void mutual_same_as(size_t k) {
  qr_finding_list l;
  qr_finding_list_init(&l);
  push(&l, "q.go", 10, 10, "err from Open is dropped.", 0, NULL);
  push(&l, "q.go", 12, 12, "The handle leaks when Stat fails.", 1, NULL);
  for (size_t i = 2; i < k; i++) push(&l, "q.go", 40 + (int)i, 40 + (int)i, "Unrelated.", (int)i, NULL);
  qr_buf a;
  qr_buf_init(&a, 1 << 16);
  ASSERT_OK(qr_buf_puts(&a, "{\"verdicts\":[{\"id\":\"c1\",\"keep\":true,\"same_as\":\"c2\",\"reason\":\"x\"},"
                            "{\"id\":\"c2\",\"keep\":true,\"same_as\":\"c1\",\"reason\":\"y\"}]}"));
  qr_judge_rejections rej;
  qr_judge_rejections_init(&rej);
  ASSERT_OK(qr_judge_apply(&l, a.data, a.len, &rej, NULL));
  ASSERT_EQ(l.n, k - 1);
  ASSERT_EQ(l.items[0].votes, 2);
  ASSERT(l.items[0].start_line == 10 && l.items[0].end_line == 12);
  qr_buf_free(&a);
  qr_judge_rejections_free(&rej);
  qr_finding_list_free(&l);
}

TEST(judge_apply_same_as_mutual_any_count) {
  for (size_t k = 2; k <= 7; k++) mutual_same_as(k);
}

/* A chain whose links are each within reach is one finding though its ends are far apart; a
 * link out of reach is refused alone, and every note names the pair the judge gave. */
TEST(judge_apply_same_as_chain_links_each) {
  qr_finding_list l;
  qr_finding_list_init(&l);
  int lines[] = {5, 25, 48, 70, 140};
  for (int i = 0; i < 5; i++) push(&l, "w.js", lines[i], lines[i], "Token compared with ==.", i, NULL);
  const char *answer = "{\"verdicts\":[{\"id\":\"c1\",\"keep\":true,\"same_as\":\"c2\",\"reason\":\"r1\"},"
                       "{\"id\":\"c2\",\"keep\":true,\"same_as\":\"c3\",\"reason\":\"r2\"},"
                       "{\"id\":\"c3\",\"keep\":true,\"same_as\":\"c4\",\"reason\":\"r3\"},"
                       "{\"id\":\"c4\",\"keep\":true,\"same_as\":\"c5\",\"reason\":\"r4\"}]}";
  qr_judge_rejections rej;
  qr_judge_rejections_init(&rej);
  ASSERT_OK(qr_judge_apply(&l, answer, strlen(answer), &rej, NULL));
  ASSERT_EQ(l.n, 2);
  ASSERT_EQ(l.items[0].votes, 4);
  ASSERT(l.items[0].start_line == 5 && l.items[0].end_line == 70);
  const char *want[] = {"w.js:5 and w.js:25", "w.js:25 and w.js:48", "w.js:48 and w.js:70",
                        "w.js:70 and w.js:140"};
  for (size_t k = 0; k < 4; k++) {
    bool found = false;
    for (size_t i = 0; i < 2; i++)
      for (size_t m = 0; judge_note(&l.items[i], m); m++)
        found |= strstr(judge_note(&l.items[i], m), want[k]) != NULL;
    ASSERT(found);
  }
  ASSERT(strstr(judge_note(&l.items[1], 0), "refused"));
  qr_judge_rejections_free(&rej);
  qr_finding_list_free(&l);
}

/* After a fold the explanation has one representative, and each member's "with" points at a
 * member of the combined list; the folded representative joined through the judge's link. */
TEST(judge_apply_same_as_explains_fold) {
  static const char py[] = "def f(p):\n    fh = open(p)\n    data = fh.read()\n    return data\n";
  qr_finding_list in, out;
  qr_snapshot *snap = one_file("r.py", py, &in, &out);
  push(&in, "r.py", 2, 2, "`fh` is never closed.", 0, NULL);
  push(&in, "r.py", 2, 2, "The file handle fh leaks: no with block closes it.", 1, NULL);
  push(&in, "r.py", 4, 4, "Returns the data of a file that stays open.", 2, NULL);
  ASSERT_OK(qr_judge_consensus(&in, snap, NULL, 0, NULL, &out, NULL));
  ASSERT_EQ(out.n, 2);
  const char *answer = "{\"verdicts\":[{\"id\":\"c2\",\"keep\":true,\"same_as\":\"c1\",\"reason\":\"open file\"}]}";
  qr_judge_rejections rej;
  qr_judge_rejections_init(&rej);
  ASSERT_OK(qr_judge_apply(&out, answer, strlen(answer), &rej, NULL));
  ASSERT_EQ(out.n, 1);
  ASSERT(out.items[0].start_line <= 2 && out.items[0].end_line >= 4);
  json_t *members = json_object_get(out.items[0].merge, "members");
  ASSERT_EQ(json_array_size(members), 3);
  size_t reps = 0, i;
  json_t *m;
  json_array_foreach(members, i, m) {
    reps += json_is_true(json_object_get(m, "representative"));
    json_t *with = json_object_get(m, "with");
    if (json_is_true(json_object_get(m, "representative"))) continue;
    ASSERT(json_is_integer(with) && (size_t)json_integer_value(with) < 3 &&
           (size_t)json_integer_value(with) != i);
  }
  ASSERT_EQ(reps, 1);
  ASSERT(strstr(json_string_value(json_object_get(json_array_get(members, 2), "why")), "model judge"));
  qr_judge_rejections_free(&rej);
  one_file_free(snap, &in, &out);
}

/* Each allocation of a same_as apply failed in turn: a clean QR_E_NOMEM (or success), never a
 * crash, a leak or a lost finding. */
TEST(judge_apply_same_as_alloc_failures) {
  const char *answer = "{\"verdicts\":[{\"id\":\"c2\",\"keep\":true,\"same_as\":\"c1\",\"reason\":\"one\"},"
                       "{\"id\":\"c3\",\"keep\":false,\"reason\":\"taste\"}]}";
  for (long n = 1;; n++) {
    qr_finding_list l;
    three_clusters(&l);
    qr_judge_rejections rej;
    qr_judge_rejections_init(&rej);
    qr_alloc_fail_after(n);
    int rc = qr_judge_apply(&l, answer, strlen(answer), &rej, NULL);
    qr_alloc_fail_after(-1);
    ASSERT(rc == QR_OK || rc == QR_E_NOMEM);
    if (rc == QR_OK) ASSERT(l.n == 1 && rej.n == 1);
    else if (!(l.n + rej.n >= 2 && rej.n == 0)) QR__FAIL("n=%ld rc=%d l.n=%zu rej.n=%zu", n, rc, l.n, rej.n);
    qr_judge_rejections_free(&rej);
    qr_finding_list_free(&l);
    if (rc == QR_OK) break;
    ASSERT(n < 10000);
  }
}

TEST(judge_apply_garbage_leaves_clusters) {
  const char *bad[] = {
      "I think they are all fine.",
      "{\"verdicts\":[{\"id\":\"c1\",\"keep\":false,\"reason\":\"x\"}",  /* truncated */
      "{\"verdicts\":[{\"id\":\"c1\",\"keep\":\"no\"}]}",                /* keep not a bool */
      "{\"verdicts\":{\"id\":\"c1\"}}",                                   /* not an array */
      "[{\"id\":\"c1\",\"keep\":false}]",
  };
  for (size_t i = 0; i < QR_ARRAY_LEN(bad); i++) {
    qr_finding_list l;
    three_clusters(&l);
    qr_judge_rejections rej;
    qr_judge_rejections_init(&rej);
    qr_err e = {0};
    ASSERT_EQ(qr_judge_apply(&l, bad[i], strlen(bad[i]), &rej, &e), QR_E_PARSE);
    ASSERT(e.msg[0]);
    ASSERT_EQ(l.n, 3);
    ASSERT_EQ(rej.n, 0);
    ASSERT_STR_EQ(l.items[0].message, "Parameters should be unsigned.");
    qr_judge_rejections_free(&rej);
    qr_finding_list_free(&l);
  }
}

/* ---- scale ------------------------------------------------------------------------------- */

#define SCALE_PASSES 8

/* Paraphrases of one problem per row, about the code of c_source. */
static const char *const scale_problems[][3] = {
    {"Integer overflow in w * h", "w * h can overflow int for large sizes",
     "the product w * h overflows int"},
    {"The result of malloc is never freed (memory leak).", "memory leak: the allocation is lost",
     "allocated memory is never released"},
    {"Parameters w and h should be unsigned", "negative sizes make no sense: use unsigned",
     "w and h may be negative"},
};

static unsigned long long scale_seed;
static unsigned scale_rnd(unsigned n) {
  scale_seed = scale_seed * 6364136223846793005ull + 1442695040888963407ull;
  return (unsigned)(scale_seed >> 33) % n;
}

/* n findings over `files` copies of c_source: each problem seen by 3–6 passes, in paraphrase,
 * with ±1-line jitter; `one_line` puts them all on line 4 of a single file. */
static void scale_input(size_t n, size_t files, bool one_line, qr_finding_list *l, qr_snapshot *snap) {
  char name[32];
  for (size_t f = 0; f < files; f++) {
    snprintf(name, sizeof name, "d%zu/a.c", f);
    ASSERT_OK(qr_snapshot_add(snap, name, c_source, strlen(c_source)));
  }
  scale_seed = 7;
  qr_finding_list_init(l);
  while (l->n < n) {
    snprintf(name, sizeof name, "d%u/a.c", scale_rnd((unsigned)files));
    unsigned p = scale_rnd(QR_ARRAY_LEN(scale_problems)), seers = 3 + scale_rnd(4);
    unsigned first = scale_rnd(SCALE_PASSES), line = 3 + scale_rnd(3);
    for (unsigned k = 0; k < seers && l->n < n; k++) {
      int at = one_line ? 4 : (int)line + (int)scale_rnd(3) - 1;
      push(l, name, at, at, scale_problems[p][scale_rnd(3)], (int)((first + k) % SCALE_PASSES), NULL);
    }
  }
}

/* What every merged list must satisfy, whatever the input. */
static void check_merged(const qr_finding_list *in, const qr_finding_list *out, const qr_snapshot *snap) {
  ASSERT(out->n > 0 && out->n < in->n); /* paraphrases merged */
  size_t votes = 0;
  for (size_t i = 0; i < out->n; i++) {
    const qr_finding *f = &out->items[i];
    const qr_snapshot_file *sf = qr_snapshot_find(snap, f->file);
    ASSERT(sf);
    ASSERT(f->start_line >= 1 && f->end_line >= f->start_line && (size_t)f->end_line <= sf->n_lines);
    ASSERT(f->votes >= 1 && f->votes <= SCALE_PASSES);
    ASSERT_EQ(f->votes, f->n_sources);
    ASSERT(f->models >= 1 && f->models <= 3);
    ASSERT(f->confidence > 0 && f->confidence <= 1);
    ASSERT_EQ(strlen(f->fingerprint), 16);
    if (i) {
      int c = strcmp(out->items[i - 1].file, f->file);
      ASSERT(c < 0 || (c == 0 && out->items[i - 1].start_line <= f->start_line));
    }
    votes += (size_t)f->votes;
  }
  ASSERT(votes <= in->n); /* a finding votes once */
}

static void same_output(const qr_finding_list *a, const qr_finding_list *b) {
  ASSERT_EQ(a->n, b->n);
  for (size_t i = 0; i < a->n; i++) {
    ASSERT_STR_EQ(a->items[i].file, b->items[i].file);
    ASSERT_EQ(a->items[i].start_line, b->items[i].start_line);
    ASSERT_EQ(a->items[i].end_line, b->items[i].end_line);
    ASSERT_EQ(a->items[i].votes, b->items[i].votes);
    ASSERT_STR_EQ(a->items[i].message, b->items[i].message);
    ASSERT_STR_EQ(a->items[i].fingerprint, b->items[i].fingerprint);
    ASSERT(a->items[i].confidence == b->items[i].confidence);
  }
}

/* 100,000 findings over 2,500 files: merged (the old quadratic table refused more than 1,500),
 * consistent, and the same on a second run. */
TEST(judge_scale_100k_findings) {
  qr_snapshot *snap = qr_snapshot_new();
  qr_finding_list in, a, b;
  scale_input(100000, 2500, false, &in, snap);
  qr_finding_list_init(&a);
  qr_finding_list_init(&b);
  ASSERT_OK(qr_judge_consensus(&in, snap, NULL, 0, NULL, &a, NULL));
  check_merged(&in, &a, snap);
  ASSERT(a.n >= 2500); /* every file has problems of its own */
  ASSERT_OK(qr_judge_consensus(&in, snap, NULL, 0, NULL, &b, NULL));
  same_output(&a, &b);
  qr_finding_list_free(&in);
  qr_finding_list_free(&a);
  qr_finding_list_free(&b);
  qr_snapshot_free(snap);
}

/* 5,000 findings on one line: each is compared with a bounded window of neighbours, so this
 * finishes, and still merges the paraphrases into a handful of problems. */
/* Exact duplicates merge however many other findings share their line: the neighbour cap
 * bounds the comparisons, never the duplicates. */
TEST(judge_duplicates_past_the_neighbour_cap) {
  static const char js[] = "for (var i = 0; i < n; i++) { for (var i = 0; i < m; i++) {} }\n";
  qr_finding_list in, out;
  qr_snapshot *snap = one_file("loop.js", js, &in, &out);
  const char *twice = "The inner loop redeclares i and ends the outer loop early.";
  push(&in, "loop.js", 1, 1, twice, 0, NULL);
  for (int k = 0; k < 150; k++) {
    char msg[64];
    snprintf(msg, sizeof msg, "Note q%dz about x%dv.", k, k);
    push(&in, "loop.js", 1, 1, msg, 0, NULL);
  }
  push(&in, "loop.js", 1, 1, twice, 1, NULL);
  push(&in, "loop.js", 1, 1, twice, 2, NULL);
  ASSERT_OK(qr_judge_consensus(&in, snap, NULL, 0, NULL, &out, NULL));
  size_t found = 0;
  for (size_t i = 0; i < out.n; i++)
    if (!strcmp(out.items[i].message, twice)) {
      found++;
      ASSERT_EQ(out.items[i].votes, 3);
    }
  ASSERT_EQ(found, 1);
  one_file_free(snap, &in, &out);
}

/* --explain: following each member's "with" leads to the representative — the links are the
 * ones that joined the clusters, never two members pointing at each other. */
TEST(judge_explain_links_reach_the_representative) {
  static const char c[] = "int sum(const int *p, int n) {\n  int total = 0;\n"
                          "  for (int i = 0; i < n; i++) total += p[i];\n  return total;\n}\n";
  qr_finding_list in, out;
  qr_snapshot *snap = one_file("sum.c", c, &in, &out);
  push(&in, "sum.c", 3, 3, "`total` can overflow when many items are summed.", 0, NULL);
  push(&in, "sum.c", 3, 3, "`total` can overflow when many items are summed.", 1, NULL);
  push(&in, "sum.c", 3, 3, "Summing item prices into total overflows int for big carts.", 2, NULL);
  push(&in, "sum.c", 3, 3, "Summing item prices into total overflows int for large carts.", 3, NULL);
  ASSERT_OK(qr_judge_consensus(&in, snap, NULL, 0, NULL, &out, NULL));
  ASSERT_EQ(out.n, 1);
  json_t *members = json_object_get(out.items[0].merge, "members");
  size_t n = json_array_size(members);
  ASSERT_EQ(n, 4);
  for (size_t i = 0; i < n; i++) {
    size_t at = i, hops = 0;
    while (!json_is_true(json_object_get(json_array_get(members, at), "representative"))) {
      json_t *with = json_object_get(json_array_get(members, at), "with");
      ASSERT(json_is_integer(with) && (size_t)json_integer_value(with) < n);
      at = (size_t)json_integer_value(with);
      ASSERT(++hops < n);
    }
  }
  one_file_free(snap, &in, &out);
}

TEST(judge_scale_5000_on_one_line) {
  qr_snapshot *snap = qr_snapshot_new();
  qr_finding_list in, out;
  scale_input(5000, 1, true, &in, snap);
  qr_finding_list_init(&out);
  ASSERT_OK(qr_judge_consensus(&in, snap, NULL, 0, NULL, &out, NULL));
  check_merged(&in, &out, snap);
  for (size_t i = 0; i < out.n; i++) ASSERT_EQ(out.items[i].start_line, 4);
  ASSERT(out.n < 500);
  qr_finding_list_free(&in);
  qr_finding_list_free(&out);
  qr_snapshot_free(snap);
}
