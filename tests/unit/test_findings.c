/* test_findings.c — the findings parser on golden answers (tests/data/findings/<case>/
 * answer.txt → expected.json: the findings kept, how many skipped and, when listed, why), its
 * caps, and validation: path normalisation, unknown files, out-of-range lines, lines outside the
 * hunks with their drop reasons, relocation by evidence, fix ranges. */
#include <dirent.h>

#include "judge/findings.h"
#include "test.h"

/* ---- golden parse cases ------------------------------------------------------------------ */

static const char *jstr(json_t *o, const char *k) { return json_string_value(json_object_get(o, k)); }
static int jint(json_t *o, const char *k) { return (int)json_integer_value(json_object_get(o, k)); }

static void check_finding(const char *cs, const qr_finding *f, json_t *x) {
  if (strcmp(f->file, jstr(x, "file")) || f->start_line != jint(x, "start_line") ||
      f->end_line != jint(x, "end_line") || strcmp(qr_severity_name(f->severity), jstr(x, "severity")) ||
      strcmp(f->category, jstr(x, "category")) || strcmp(f->message, jstr(x, "message")))
    QR__FAIL("%s: got %s:%d-%d %s [%s] \"%s\"", cs, f->file, f->start_line, f->end_line,
             qr_severity_name(f->severity), f->category, f->message);
  const char *ev = jstr(x, "evidence");
  ASSERT(ev ? f->evidence && !strcmp(ev, f->evidence) : !f->evidence);
  json_t *fx = json_object_get(x, "fix");
  ASSERT(!fx == !f->fix);
  if (fx) {
    ASSERT_EQ(f->fix->start_line, jint(fx, "start_line"));
    ASSERT_EQ(f->fix->end_line, jint(fx, "end_line"));
    ASSERT_STR_EQ(f->fix->replacement, jstr(fx, "replacement"));
  }
  ASSERT_EQ(f->n_sources, 1);
  ASSERT_STR_EQ(f->sources[0].model, "m");
  ASSERT_EQ(f->sources[0].pass, 7);
}

static void run_parse_case(const char *dir, const char *name) {
  char *ap = qr_asprintf("%s/%s/answer.txt", dir, name), *ep = qr_asprintf("%s/%s/expected.json", dir, name);
  char *text;
  size_t len;
  ASSERT_OK(qr_read_file(ap, 1 << 20, &text, &len, NULL));
  json_t *exp = json_load_file(ep, 0, NULL);
  if (!exp) QR__FAIL("%s: bad expected.json", name);
  qr_finding_list l;
  qr_finding_list_init(&l);
  qr_drops drops = {0};
  qr_err e = {0};
  int rc = qr_findings_parse(text, len, "m", "s", 7, &l, &drops, &e);
  const char *want_err = jstr(exp, "error");
  if (want_err) {
    if (strcmp(qr_err_name(rc), want_err)) QR__FAIL("%s: %s, want %s", name, qr_err_name(rc), want_err);
    ASSERT(e.msg[0]);
    ASSERT_EQ(l.n, 0);
  } else {
    if (rc) QR__FAIL("%s: %s", name, e.msg);
    json_t *fs = json_object_get(exp, "findings");
    if (l.n != json_array_size(fs)) QR__FAIL("%s: %zu findings, want %zu", name, l.n, json_array_size(fs));
    for (size_t i = 0; i < l.n; i++) check_finding(name, &l.items[i], json_array_get(fs, i));
    if (drops.total != jint(exp, "skipped"))
      QR__FAIL("%s: skipped %d, want %d", name, drops.total, jint(exp, "skipped"));
    json_t *why = json_object_get(exp, "drop_reasons"), *w;
    size_t k;
    if (why && json_array_size(why) != drops.n)
      QR__FAIL("%s: %zu drop reasons, want %zu", name, drops.n, json_array_size(why));
    json_array_foreach(why, k, w) if (strcmp(drops.items[k].reason, json_string_value(w)))
      QR__FAIL("%s: drop reason %zu \"%s\", want \"%s\"", name, k, drops.items[k].reason,
               json_string_value(w));
  }
  qr_drops_free(&drops);
  qr_finding_list_free(&l);
  json_decref(exp);
  qr_free(text);
  qr_free(ap);
  qr_free(ep);
}

TEST(findings_golden_parse) {
  char *dir = qr_asprintf("%s/findings", qr_test_data_dir());
  DIR *d = opendir(dir);
  ASSERT(d);
  int cases = 0;
  struct dirent *ent;
  while ((ent = readdir(d))) {
    if (ent->d_name[0] == '.') continue;
    run_parse_case(dir, ent->d_name);
    cases++;
  }
  closedir(d);
  ASSERT(cases >= 8);
  qr_free(dir);
}

TEST(findings_parse_caps) {
  qr_buf b;
  qr_buf_init(&b, 1 << 22);
  ASSERT_OK(qr_buf_puts(&b, "{\"findings\":["));
  /* 250 hints, a warning among them and an error last: the most severe 200 are kept */
  for (int i = 0; i < 250; i++)
    ASSERT_OK(qr_buf_printf(&b, "%s{\"file\":\"a.c\",\"start_line\":%d,\"end_line\":%d,\"severity\":"
                                "\"%s\",\"category\":\"c\",\"message\":\"m%d\"}",
                            i ? "," : "", i + 1, i + 1,
                            i == 249 ? "error" : i == 230 ? "warning" : "hint", i));
  ASSERT_OK(qr_buf_puts(&b, "]}"));
  qr_finding_list l;
  qr_finding_list_init(&l);
  qr_drops drops = {0};
  ASSERT_OK(qr_findings_parse(b.data, b.len, "m", "s", 0, &l, &drops, NULL));
  ASSERT_EQ(l.n, 200);
  ASSERT_EQ(drops.total, 0);
  ASSERT_EQ(drops.cut, 50);
  ASSERT_EQ(l.items[0].severity, QR_SEV_ERROR);
  ASSERT_EQ(l.items[0].start_line, 250);
  ASSERT_EQ(l.items[1].severity, QR_SEV_WARNING);
  ASSERT_EQ(l.items[2].start_line, 1); /* hints keep the answer's order */
  ASSERT_EQ(l.items[199].start_line, 198);
  qr_drops_free(&drops);
  qr_finding_list_free(&l);

  /* an over-long message skips the entry rather than cutting it */
  qr_buf_reset(&b);
  ASSERT_OK(qr_buf_puts(&b, "{\"findings\":[{\"file\":\"a.c\",\"start_line\":1,\"severity\":\"info\",\"message\":\""));
  for (int i = 0; i < 3000; i++) ASSERT_OK(qr_buf_puts(&b, "x"));
  ASSERT_OK(qr_buf_puts(&b, "\"}]}"));
  ASSERT_OK(qr_findings_parse(b.data, b.len, "m", "s", 0, &l, &drops, NULL));
  ASSERT_EQ(l.n, 0);
  ASSERT_EQ(drops.total, 1);
  ASSERT_STR_EQ(drops.items[0].reason, "message is too long");
  ASSERT_STR_EQ(drops.items[0].file, "a.c");
  ASSERT_EQ(drops.items[0].line, 1);
  qr_drops_free(&drops);
  qr_buf_free(&b);

  /* past QR_DROPS_KEPT only the count grows */
  qr_buf_init(&b, 4096);
  ASSERT_OK(qr_buf_puts(&b, "["));
  for (int i = 0; i < QR_DROPS_KEPT + 5; i++)
    ASSERT_OK(qr_buf_printf(&b, "%s{\"file\":\"a.c\",\"start_line\":%d}", i ? "," : "", i + 1));
  ASSERT_OK(qr_buf_puts(&b, "]"));
  ASSERT_OK(qr_findings_parse(b.data, b.len, "m", "s", 0, &l, &drops, NULL));
  ASSERT_EQ(drops.total, QR_DROPS_KEPT + 5);
  ASSERT_EQ(drops.n, QR_DROPS_KEPT);
  ASSERT_STR_EQ(drops.items[QR_DROPS_KEPT - 1].reason, "no message");
  qr_drops_free(&drops);
  qr_buf_free(&b);

  /* the whole answer has a cap too */
  size_t big = QR_FINDINGS_MAX_ANSWER + 1;
  char *huge = qr_malloc(big);
  memset(huge, ' ', big);
  qr_err e;
  ASSERT_EQ(qr_findings_parse(huge, big, "m", "s", 0, &l, &drops, &e), QR_E_TOOBIG);
  qr_free(huge);
}

/* ---- validation -------------------------------------------------------------------------- */

static const char src[] =
    "int f(int *p) {\n"       /* 1 */
    "  int x = 0;\n"          /* 2 */
    "  for (;;) {\n"          /* 3 */
    "    x += *p++;\n"        /* 4 */
    "    if (x > 100)\n"      /* 5 */
    "      break;\n"          /* 6 */
    "  }\n"                   /* 7 */
    "  return x;\n"           /* 8 */
    "}\n"                     /* 9 */
    "\n"                      /* 10 */
    "int g(void) {\n"         /* 11 */
    "  char buf[4];\n"        /* 12 */
    "  strcpy(buf, \"hello\");\n" /* 13 */
    "  return buf[0];\n"      /* 14 */
    "}\n";                    /* 15 */

/* One hunk adding lines 12-14 of a.c (context 10-11 and 15). */
static const char patch[] =
    "diff --git a/a.c b/a.c\n"
    "--- a/a.c\n"
    "+++ b/a.c\n"
    "@@ -10,3 +10,6 @@\n"
    " \n"
    " int g(void) {\n"
    "+  char buf[4];\n"
    "+  strcpy(buf, \"hello\");\n"
    "+  return buf[0];\n"
    " }\n";

typedef struct vfix {
  qr_diff *diff;
  qr_snapshot *snap;
  qr_finding_list l;
} vfix;

static void vfix_init(vfix *v) {
  ASSERT_OK(qr_diff_parse(patch, strlen(patch), 1 << 20, &v->diff, NULL));
  v->snap = qr_snapshot_new();
  ASSERT_OK(qr_snapshot_add(v->snap, "a.c", src, strlen(src)));
  qr_finding_list_init(&v->l);
}

static void vfix_free(vfix *v) {
  qr_finding_list_free(&v->l);
  qr_snapshot_free(v->snap);
  qr_diff_free(v->diff);
}

static void add(vfix *v, const char *file, int s, int e, const char *evidence) {
  qr_finding f = {0};
  f.file = qr_strdup(file);
  f.start_line = s;
  f.end_line = e;
  f.severity = QR_SEV_ERROR;
  f.category = qr_strdup("");
  f.message = qr_strdup("overflow");
  f.evidence = qr_strdup(evidence);
  ASSERT_OK(qr_finding_add_source(&f, "m", "s", 0));
  ASSERT_OK(qr_finding_list_push(&v->l, &f));
}

TEST(findings_validate_drops_unplaceable) {
  vfix v;
  vfix_init(&v);
  add(&v, "nope.c", 13, 13, NULL);  /* file not in the diff */
  add(&v, "a.c", 40, 41, NULL);     /* past the end */
  add(&v, "a.c", 4, 4, NULL);       /* outside the hunks */
  add(&v, "a.c", 13, 13, NULL);     /* fine */
  add(&v, "a.c", 15, 17, NULL);     /* runs past the end */
  qr_drops drops = {0};
  ASSERT_EQ(qr_findings_validate(&v.l, v.diff, v.snap, NULL, false, 3, &drops), 4);
  ASSERT_EQ(v.l.n, 1);
  ASSERT_EQ(v.l.items[0].start_line, 13);
  ASSERT(!v.l.items[0].evidence_matched);
  const char *why[][2] = {{"nope.c", "file not in the change"},
                          {"a.c", "lines past the end of the file"},
                          {"a.c", "lines outside the changed hunks"},
                          {"a.c", "lines past the end of the file"}};
  ASSERT_EQ(drops.total, 4);
  ASSERT_EQ(drops.n, 4);
  for (size_t i = 0; i < QR_ARRAY_LEN(why); i++) {
    ASSERT_STR_EQ(drops.items[i].file, why[i][0]);
    ASSERT_STR_EQ(drops.items[i].reason, why[i][1]);
  }
  ASSERT_EQ(drops.items[2].line, 4);
  qr_drops_free(&drops);
  vfix_free(&v);

  vfix_init(&v);
  add(&v, "a.c", 4, 4, NULL); /* context allowed: a line outside the hunks stays */
  ASSERT_EQ(qr_findings_validate(&v.l, v.diff, v.snap, NULL, true, 3, NULL), 0);
  ASSERT_EQ(v.l.n, 1);
  vfix_free(&v);
}

/* Two files of one name in different folders, and one whose path has a backslash. */
static const char patch_names[] =
    "diff --git a/src/buffer.c b/src/buffer.c\n--- a/src/buffer.c\n+++ b/src/buffer.c\n"
    "@@ -0,0 +1,2 @@\n+a\n+b\n"
    "diff --git a/lib/util.h b/lib/util.h\n--- a/lib/util.h\n+++ b/lib/util.h\n"
    "@@ -0,0 +1,2 @@\n+a\n+b\n"
    "diff --git a/test/util.h b/test/util.h\n--- a/test/util.h\n+++ b/test/util.h\n"
    "@@ -0,0 +1,2 @@\n+a\n+b\n";

TEST(findings_validate_resolves_paths) {
  static const char *const cases[][2] = {
      {"src/buffer.c", "src/buffer.c"},      {"b/src/buffer.c", "src/buffer.c"},
      {"a/src/buffer.c", "src/buffer.c"},    {"./src/buffer.c", "src/buffer.c"},
      {"/src/buffer.c", "src/buffer.c"},     {"src\\buffer.c", "src/buffer.c"},
      {".\\src\\buffer.c", "src/buffer.c"},  {"/home/u/repo/src/buffer.c", "src/buffer.c"},
      {"buffer.c", "src/buffer.c"},          {"/elsewhere/src/buffer.c", "src/buffer.c"},
      {"/home/u/repo/lib/util.h", "lib/util.h"},
      {"util.h", NULL},                      /* two files end with it */
      {"c/src/buffer.c", "src/buffer.c"},    /* a suffix at a "/" is unique */
      {"rc/buffer.c", NULL},                 /* not at a "/" */
      {"src/buffer.cc", NULL},               {"/home/u/repo/", NULL},
      {"B/src/buffer.c", "src/buffer.c"},    /* by its unique suffix, not as a prefix */
      {"/home/u/repository/x/util.h", NULL}, /* a longer root is no root */
  };
  qr_diff *diff;
  ASSERT_OK(qr_diff_parse(patch_names, strlen(patch_names), 1 << 20, &diff, NULL));
  qr_snapshot *snap = qr_snapshot_new();
  ASSERT_OK(qr_snapshot_add(snap, "src/buffer.c", "a\nb\n", 4));
  ASSERT_OK(qr_snapshot_add(snap, "lib/util.h", "a\nb\n", 4));
  ASSERT_OK(qr_snapshot_add(snap, "test/util.h", "a\nb\n", 4));
  for (size_t i = 0; i < QR_ARRAY_LEN(cases); i++) {
    vfix v = {0};
    qr_finding_list_init(&v.l);
    add(&v, cases[i][0], 1, 1, NULL);
    qr_drops drops = {0};
    int dropped = qr_findings_validate(&v.l, diff, snap, "/home/u/repo/", false, 3, &drops);
    if (dropped != !cases[i][1] || (cases[i][1] && strcmp(v.l.items[0].file, cases[i][1])))
      QR__FAIL("%s: dropped %d, file %s", cases[i][0], dropped, v.l.n ? v.l.items[0].file : "-");
    if (dropped)
      ASSERT_STR_EQ(drops.items[0].reason, !strcmp(cases[i][0], "util.h")
                                               ? "file matches several files of the change"
                                               : "file not in the change");
    qr_drops_free(&drops);
    qr_finding_list_free(&v.l);
  }
  qr_snapshot_free(snap);
  qr_diff_free(diff);
}

TEST(findings_validate_relocates_by_evidence) {
  vfix v;
  vfix_init(&v);
  add(&v, "a.c", 13, 13, "strcpy(buf,   \"hello\");"); /* in place; whitespace differs */
  add(&v, "a.c", 11, 11, "strcpy(buf, \"hello\")");    /* off by two, within the window */
  add(&v, "a.c", 30, 31, "char  buf[4];");             /* out of range: found in the hunk */
  add(&v, "a.c", 5, 5, "x += *p++;");                  /* found, but not in a hunk: dropped */
  add(&v, "a.c", 14, 14, "memcpy(dst");                /* not found: stays, unmatched */
  ASSERT_EQ(qr_findings_validate(&v.l, v.diff, v.snap, NULL, false, 3, NULL), 1);
  ASSERT_EQ(v.l.n, 4);
  ASSERT(v.l.items[0].evidence_matched && !v.l.items[0].relocated);
  ASSERT_EQ(v.l.items[1].start_line, 13);
  ASSERT(v.l.items[1].relocated && v.l.items[1].evidence_matched);
  ASSERT_EQ(v.l.items[2].start_line, 12);
  ASSERT_EQ(v.l.items[2].end_line, 13); /* the two-line span is kept */
  ASSERT(v.l.items[2].relocated);
  ASSERT_EQ(v.l.items[3].start_line, 14);
  ASSERT(!v.l.items[3].evidence_matched && !v.l.items[3].relocated);
  vfix_free(&v);
}

TEST(findings_validate_fix_ranges) {
  vfix v;
  vfix_init(&v);
  int ranges[][2] = {{13, 13}, {12, 14}, {3, 3}, {13, 99}, {14, 13}};
  for (size_t i = 0; i < QR_ARRAY_LEN(ranges); i++) {
    add(&v, "a.c", 13, 13, NULL);
    qr_fix *x = qr_malloc(sizeof *x);
    *x = (qr_fix){ranges[i][0], ranges[i][1], qr_strdup("  strncpy(buf, \"hello\", 3);")};
    v.l.items[i].fix = x;
  }
  ASSERT_EQ(qr_findings_validate(&v.l, v.diff, v.snap, NULL, false, 3, NULL), 0);
  ASSERT_EQ(v.l.n, 5);
  ASSERT(v.l.items[0].fix && v.l.items[1].fix); /* on the finding's lines */
  ASSERT(!v.l.items[2].fix);                    /* elsewhere */
  ASSERT(!v.l.items[3].fix);                    /* past the end of the file */
  ASSERT(!v.l.items[4].fix);                    /* reversed */
  vfix_free(&v);
}

TEST(findings_list_copy_and_severity_names) {
  ASSERT_EQ(qr_severity_parse("warning"), QR_SEV_WARNING);
  ASSERT_EQ(qr_severity_parse("fatal"), 0);
  ASSERT_EQ(qr_severity_parse("High"), 0); /* configs stay strict */
  const char *model[][2] = {{"High", "error"},   {" CRITICAL ", "error"}, {"blocker", "error"},
                            {"Medium", "warning"}, {"major", "warning"}, {"moderate", "warning"},
                            {"WARNING", "warning"}, {"minor", "info"},   {"low", "info"},
                            {"Info", "info"},      {"nit", "hint"},     {"trivial", "hint"},
                            {"style", "hint"},     {"hint", "hint"}};
  for (size_t i = 0; i < QR_ARRAY_LEN(model); i++)
    ASSERT_STR_EQ(qr_severity_name(qr_severity_parse_model(model[i][0])), model[i][1]);
  ASSERT_EQ(qr_severity_parse_model("fatal"), 0);
  ASSERT_EQ(qr_severity_parse_model("warn"), 0);
  ASSERT_EQ(qr_severity_parse_model("high!"), 0);
  ASSERT_EQ(qr_severity_parse_model(""), 0);
  ASSERT_STR_EQ(qr_severity_name(QR_SEV_HINT), "hint");
  qr_finding f = {0}, g;
  f.file = qr_strdup("a.c");
  f.category = qr_strdup("c");
  f.message = qr_strdup("m");
  f.fix = qr_malloc(sizeof *f.fix);
  *f.fix = (qr_fix){1, 2, qr_strdup("r")};
  ASSERT_OK(qr_finding_add_source(&f, "m", "s", 3));
  ASSERT_OK(qr_finding_copy(&g, &f));
  qr_finding_clear(&f);
  ASSERT_STR_EQ(g.fix->replacement, "r");
  ASSERT_EQ(g.sources[0].pass, 3);
  qr_finding_clear(&g);
}
