/* merge_bench.c — times the consensus merge alone (qr_judge_consensus) on generated findings,
 * for `make bench` (bench/run.py builds it against build/rel/libquorum.a as
 * build/bench/merge-bench).
 *
 * Input shape, chosen to look like a real review: C files of 20 functions × 10 lines; one
 * problem every 5 lines; each problem reported by PASSES passes, each in its own words (the
 * paraphrases are what the merge has to recognise), so N findings become about N / PASSES
 * clusters. Usage: merge-bench N [PASSES] → one JSON line {"findings", "passes", "files",
 * "status": "ok"|"refused"|"error", "wall_ms", "cpu_ms", "merged", "error"?} on stdout;
 * "refused" is the merge's QR_E_TOOBIG (its input cap), reported rather than treated as a crash. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common.h"
#include "judge/findings.h"
#include "judge/judge.h"
#include "change/snapshot.h"

enum { FILE_LINES = 200, LINES_PER_PROBLEM = 5, PROBLEMS_PER_FILE = FILE_LINES / LINES_PER_PROBLEM };

/* Problem kinds × three paraphrases; %s is the variable the problem is about. */
static const char *const MESSAGES[][3] = {
  {"Possible NULL dereference of %s: the result of malloc is not checked.",
   "%s may be null here; check the allocation before use.",
   "Unchecked allocation: %s is used without testing for NULL."},
  {"Memory leak: %s is never freed on the error path.",
   "%s leaks when the function returns early; free it first.",
   "The buffer %s is not released on failure."},
  {"Off-by-one: the loop over %s reads one element past the end.",
   "Loop bound uses <= so %s[len] is read out of bounds.",
   "Out-of-bounds read of %s at the last iteration."},
  {"SQL injection: %s is concatenated into the query.",
   "User input %s flows into the SQL string unescaped; use parameters.",
   "Query built from %s by string concatenation allows injection."},
  {"Integer overflow when computing the size from %s.",
   "%s * size may overflow before the allocation.",
   "Multiplication with %s can wrap around; check for overflow."},
};
#define N_KINDS (sizeof MESSAGES / sizeof MESSAGES[0])

static const char *const CATEGORIES[N_KINDS] = {"null-dereference", "resource-leak", "bounds",
                                                "injection", "overflow"};

/* The text of generated file `f`: 20 functions whose lines name the variables findings cite.
 * Returns a new qr_malloc'd string, NULL when out of memory. */
static char *file_text(int f) {
  size_t cap = FILE_LINES * 64 + 1, len = 0;
  char *t = qr_malloc(cap);
  if (!t) return NULL;
  for (int line = 1; line <= FILE_LINES; line++) {
    int w;
    if (line % 10 == 1) w = snprintf(t + len, cap - len, "int fn_%d_%d(int n) {\n", f, line);
    else if (line % 10 == 0) w = snprintf(t + len, cap - len, "}\n");
    else w = snprintf(t + len, cap - len, "  int v_%d_%d = n * %d;\n", f, line, line);
    len += (size_t)w;
  }
  return t;
}

static double now_ms(clockid_t clock) {
  struct timespec ts;
  clock_gettime(clock, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* Appends the findings of problem `p` (one paraphrase per pass) of file `f` to `in`. */
static int add_problem(qr_finding_list *in, int f, int p, int passes, const char *path) {
  int line = p * LINES_PER_PROBLEM + 2 + (p % 3); /* inside a function body, never a brace */
  size_t kind = (size_t)(f * 7 + p) % N_KINDS;
  char var[64], msg[256], model[16];
  snprintf(var, sizeof var, "v_%d_%d", f, line);
  for (int s = 0; s < passes; s++) {
    qr_finding x = {0};
    snprintf(msg, sizeof msg, MESSAGES[kind][s % 3], var);
    snprintf(model, sizeof model, "m%d", s + 1);
    x.file = qr_strdup(path);
    x.start_line = x.end_line = line + (s == 2); /* passes disagree by a line, as models do */
    x.severity = s == 1 ? QR_SEV_WARNING : QR_SEV_ERROR;
    x.category = qr_strdup(CATEGORIES[kind]);
    x.message = qr_strdup(msg);
    int rc = x.file && x.category && x.message ? qr_finding_add_source(&x, model, "correctness", s)
                                                : QR_E_NOMEM;
    if (!rc) rc = qr_finding_list_push(in, &x);
    qr_finding_clear(&x);
    if (rc) return rc;
  }
  return 0;
}

/* Builds `n` findings over as many files as they need, with the files' texts in `snap`. */
static int generate(int n, int passes, qr_finding_list *in, qr_snapshot *snap, int *files) {
  int problems = (n + passes - 1) / passes;
  *files = (problems + PROBLEMS_PER_FILE - 1) / PROBLEMS_PER_FILE;
  for (int f = 0; f < *files; f++) {
    char path[32];
    snprintf(path, sizeof path, "src/f%04d.c", f);
    char *text = file_text(f);
    int rc = text ? qr_snapshot_add(snap, path, text, strlen(text)) : QR_E_NOMEM;
    qr_free(text);
    for (int p = 0; !rc && p < PROBLEMS_PER_FILE && (int)in->n < n; p++)
      rc = add_problem(in, f, p, passes, path);
    if (rc) return rc;
  }
  while ((int)in->n > n) qr_finding_clear(&in->items[--in->n]); /* the last problem's extras */
  return 0;
}

/* Prints `s` as the body of a JSON string. */
static void print_json_chars(const char *s) {
  for (; *s; s++) printf(*s == '"' || *s == '\\' ? "\\%c" : "%c", *s);
}

int main(int argc, char **argv) {
  int n = argc > 1 ? atoi(argv[1]) : 0, passes = argc > 2 ? atoi(argv[2]) : 3, files = 0;
  if (n <= 0 || passes <= 0 || passes > 3) {
    fprintf(stderr, "usage: merge-bench N [PASSES 1..3]\n");
    return 2;
  }
  qr_finding_list in, out;
  qr_finding_list_init(&in);
  qr_finding_list_init(&out);
  qr_snapshot *snap = qr_snapshot_new();
  qr_err e = {0};
  int rc = snap ? generate(n, passes, &in, snap, &files) : QR_E_NOMEM;
  double wall = now_ms(CLOCK_MONOTONIC), cpu = now_ms(CLOCK_PROCESS_CPUTIME_ID);
  if (!rc) rc = qr_judge_consensus(&in, snap, NULL, 0, NULL, &out, &e);
  wall = now_ms(CLOCK_MONOTONIC) - wall;
  cpu = now_ms(CLOCK_PROCESS_CPUTIME_ID) - cpu;
  printf("{\"findings\": %d, \"passes\": %d, \"files\": %d, \"status\": \"%s\", \"wall_ms\": %.3f, "
         "\"cpu_ms\": %.3f, \"merged\": %zu",
         n, passes, files, !rc ? "ok" : rc == QR_E_TOOBIG ? "refused" : "error", wall, cpu, out.n);
  if (rc) {
    printf(", \"error\": \"");
    print_json_chars(e.code ? e.msg : qr_strerror(rc));
    printf("\"");
  }
  printf("}\n");
  qr_finding_list_free(&in);
  qr_finding_list_free(&out);
  qr_snapshot_free(snap);
  return rc && rc != QR_E_TOOBIG;
}
