/* main.c — runs the registered unit tests, each in a forked child with a timeout.
 * Usage: unit-tests [SUBSTRING] — only tests whose name contains SUBSTRING. */
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "test.h"

#define MAX_TESTS 1024
#define TIMEOUT_S 60

static struct {
  const char *name;
  qr_test_fn fn;
} tests[MAX_TESTS];
static int n_tests;

void qr_test_register(const char *name, qr_test_fn fn) {
  if (n_tests == MAX_TESTS) {
    fprintf(stderr, "too many tests\n");
    exit(2);
  }
  tests[n_tests].name = name;
  tests[n_tests].fn = fn;
  n_tests++;
}

const char *qr_test_data_dir(void) {
  const char *d = getenv("QR_TEST_DATA");
  return d ? d : "tests/data";
}

static int cmp_tests(const void *a, const void *b) {
  return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static int run_one(int i) {
  fflush(NULL);
  pid_t pid = fork();
  if (pid == 0) {
    alarm(TIMEOUT_S);
    tests[i].fn();
    exit(0);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return 0;
  if (WIFSIGNALED(status)) fprintf(stderr, "  (killed by signal %d)\n", WTERMSIG(status));
  return 1;
}

int main(int argc, char **argv) {
  qsort(tests, (size_t)n_tests, sizeof tests[0], cmp_tests);
  int failed = 0, passed = 0;
  for (int i = 0; i < n_tests; i++) {
    if (argc > 1 && !strstr(tests[i].name, argv[1])) continue;
    if (run_one(i)) {
      printf("FAIL unit/%s\n", tests[i].name);
      failed++;
    } else {
      printf("ok unit/%s\n", tests[i].name);
      passed++;
    }
    fflush(stdout);
  }
  return failed ? 1 : 0;
}
