/* test_findings.c — the findings parser on golden answers (tests/data/findings/<case>/
 * answer.txt → expected.json), its caps, and validation: unknown files, out-of-range lines,
 * lines outside the hunks, relocation by evidence, fix ranges. */
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
  int skipped = 0;
  qr_err e = {0};
  int rc = qr_findings_parse(text, len, "m", "s", 7, &l, &skipped, &e);
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
    if (skipped != jint(exp, "skipped")) QR__FAIL("%s: skipped %d, want %d", name, skipped, jint(exp, "skipped"));
  }
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
  for (int i = 0; i < 250; i++)
    ASSERT_OK(qr_buf_printf(&b, "%s{\"file\":\"a.c\",\"start_line\":%d,\"end_line\":%d,\"severity\":"
                                "\"info\",\"category\":\"c\",\"message\":\"m%d\"}",
                            i ? "," : "", i + 1, i + 1, i));
  ASSERT_OK(qr_buf_puts(&b, "]}"));
  qr_finding_list l;
  qr_finding_list_init(&l);
  int skipped = 0;
  ASSERT_OK(qr_findings_parse(b.data, b.len, "m", "s", 0, &l, &skipped, NULL));
  ASSERT_EQ(l.n, 200);
  ASSERT_EQ(skipped, 50);
  qr_finding_list_free(&l);

  /* an over-long message skips the entry rather than cutting it */
  qr_buf_reset(&b);
  ASSERT_OK(qr_buf_puts(&b, "{\"findings\":[{\"file\":\"a.c\",\"start_line\":1,\"severity\":\"info\",\"message\":\""));
  for (int i = 0; i < 3000; i++) ASSERT_OK(qr_buf_puts(&b, "x"));
  ASSERT_OK(qr_buf_puts(&b, "\"}]}"));
  skipped = 0;
  ASSERT_OK(qr_findings_parse(b.data, b.len, "m", "s", 0, &l, &skipped, NULL));
  ASSERT_EQ(l.n, 0);
  ASSERT_EQ(skipped, 1);
  qr_buf_free(&b);

  /* the whole answer has a cap too */
  size_t big = QR_FINDINGS_MAX_ANSWER + 1;
  char *huge = qr_malloc(big);
  memset(huge, ' ', big);
  qr_err e;
  ASSERT_EQ(qr_findings_parse(huge, big, "m", "s", 0, &l, &skipped, &e), QR_E_TOOBIG);
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
  ASSERT_EQ(qr_findings_validate(&v.l, v.diff, v.snap, false, 3), 4);
  ASSERT_EQ(v.l.n, 1);
  ASSERT_EQ(v.l.items[0].start_line, 13);
  ASSERT(!v.l.items[0].evidence_matched);
  vfix_free(&v);

  vfix_init(&v);
  add(&v, "a.c", 4, 4, NULL); /* context allowed: a line outside the hunks stays */
  ASSERT_EQ(qr_findings_validate(&v.l, v.diff, v.snap, true, 3), 0);
  ASSERT_EQ(v.l.n, 1);
  vfix_free(&v);
}

TEST(findings_validate_relocates_by_evidence) {
  vfix v;
  vfix_init(&v);
  add(&v, "a.c", 13, 13, "strcpy(buf,   \"hello\");"); /* in place; whitespace differs */
  add(&v, "a.c", 11, 11, "strcpy(buf, \"hello\")");    /* off by two, within the window */
  add(&v, "a.c", 30, 31, "char  buf[4];");             /* out of range: found in the hunk */
  add(&v, "a.c", 5, 5, "x += *p++;");                  /* found, but not in a hunk: dropped */
  add(&v, "a.c", 14, 14, "memcpy(dst");                /* not found: stays, unmatched */
  ASSERT_EQ(qr_findings_validate(&v.l, v.diff, v.snap, false, 3), 1);
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
  ASSERT_EQ(qr_findings_validate(&v.l, v.diff, v.snap, false, 3), 0);
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
