/* fixture.h — what both allocation-failure drivers (torture.c in-process, torture_loop.c
 * through the loop) review: a new C file with an off-by-one allocation and a hard-coded token,
 * written into a throwaway repository, and the probe that tells whether an armed failure was
 * consumed. Header-only (static functions) so each driver stays one translation unit. */
#ifndef QR_TORTURE_FIXTURE_H
#define QR_TORTURE_FIXTURE_H

#include <stdbool.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common.h"

static const char FIXTURE_FILE_TEXT[] =
    "#include <stdlib.h>\n#include <string.h>\n\n"
    "static const char *token = \"ghp_Q8xZ2mT7bR4kN9vL1sW6yP3cF5hJ0dGaEe1X\";\n\n"
    "char *join(const char *a, const char *b) {\n"
    "  char *out = malloc(strlen(a) + strlen(b));\n"
    "  strcpy(out, a);\n"
    "  strcat(out, b);\n"
    "  return out;\n"
    "}\n";

static const char FIXTURE_DIFF[] =
    "diff --git a/src/join.c b/src/join.c\n"
    "new file mode 100644\n"
    "--- /dev/null\n"
    "+++ b/src/join.c\n"
    "@@ -0,0 +1,11 @@\n"
    "+#include <stdlib.h>\n+#include <string.h>\n+\n"
    "+static const char *token = \"ghp_Q8xZ2mT7bR4kN9vL1sW6yP3cF5hJ0dGaEe1X\";\n+\n"
    "+char *join(const char *a, const char *b) {\n"
    "+  char *out = malloc(strlen(a) + strlen(b));\n"
    "+  strcpy(out, a);\n"
    "+  strcat(out, b);\n"
    "+  return out;\n"
    "+}\n";

/* Whether the armed failure is still pending: one of the next n allocations fails. Disarms. */
static bool fixture_failure_pending(long n) {
  bool pending = false;
  for (long i = 0; i < n && !pending; i++) {
    void *p = qr_malloc(1);
    pending = !p;
    qr_free(p);
  }
  qr_alloc_fail_after(-1);
  return pending;
}

/* Creates the repository from the mkdtemp template `root` (rewritten in place). */
static bool fixture_write_repo(char *root) {
  char path[512];
  if (!mkdtemp(root)) return false;
  snprintf(path, sizeof path, "%s/src", root);
  if (mkdir(path, 0700)) return false;
  snprintf(path, sizeof path, "%s/src/join.c", root);
  FILE *f = fopen(path, "w");
  if (!f) return false;
  fputs(FIXTURE_FILE_TEXT, f);
  return fclose(f) == 0;
}

static void fixture_remove_repo(const char *root) {
  char path[512];
  snprintf(path, sizeof path, "%s/src/join.c", root);
  unlink(path);
  snprintf(path, sizeof path, "%s/src", root);
  rmdir(path);
  rmdir(root);
}

#endif
