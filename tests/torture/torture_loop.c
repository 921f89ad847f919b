/* torture_loop.c — allocation-failure torture through the real engine: a full review on a libuv
 * loop (qr_review_start with a qr_http client) against the stand-in model server, two passes
 * (OpenAI plain, Anthropic streaming) plus the tree-sitter rule pack, the ledger in a scratch
 * folder and the cache off (so every run reaches the network), with the N-th allocation failing
 * for N = FIRST, FIRST+STEP, … until a run completes without consuming the failure.
 *
 * Which allocations are failed: ours (qr_malloc & co.), libuv's (uv_replace_allocator),
 * libcurl's (curl_global_init_mem, installed before anything touches curl, so http.c's later
 * curl_global_init only bumps curl's init count) and jansson's (json_set_alloc_funcs) — all go
 * through one countdown. Not failed: tree-sitter's. Its allocator (ts_set_allocator) is routed
 * through a wrapper that counts calls but never fails them, because tree-sitter 0.20.7 does not
 * check for NULL (its own default allocator aborts on failure), so failing it would only test
 * tree-sitter's abort. OpenSSL and libc internals (stdio, getaddrinfo) are not hooked either.
 * curl_global_init itself, the allocator installation and the rule pack's loading (borrowed by
 * every review through qr_review_params.rules, as a long-running server would) run once, before
 * any failure is armed; running the rules is inside the sweep.
 *
 * Each N runs in a forked child (so a crash or leak is attributed to N and the sweep goes on)
 * with stderr to a log file and an outcome struct written back through a pipe; the child exits
 * normally so LeakSanitizer checks it. A run is clean when: no sanitizer report and no signal
 * (crash — except libuv's own abort() when growing its watcher array fails, which libuv does by
 * design in uv__io_start; those runs are counted and named on the no_crash line), no
 * LeakSanitizer report (leak), the done callback ran exactly once unless setup or
 * qr_review_start returned an error (done_exactly_once), uv_loop_close() == 0 after
 * qr_http_close (loop_closes: no handle left open), it ended within RUN_TIMEOUT_S (no_hang), and
 * a run that swallowed the failure still reports the baseline's findings or says it is degraded
 * (tolerated_failures_keep_the_result). Prints one ok/FAIL line per property, then exits 1 if
 * any failed; logs of failing runs are kept in a folder named on stderr.
 *
 * Usage: torture_loop BASE_URL [STEP [FIRST [JOBS]]] — BASE_URL is the stand-in's
 * http://127.0.0.1:PORT (tests/e2e/test_torture_loop starts it); JOBS children run at once
 * (default 2). The key comes from $STANDIN_KEY (set to a dummy when absent). */
#include <curl/curl.h>
#include <errno.h>
#include <ftw.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <tree_sitter/api.h>
#include <unistd.h>
#include <uv.h>

#include "config/config.h"
#include "fixture.h"
#include "providers/http.h"
#include "review/review.h"
#include "local/rules.h"

#define KEY_ENV "STANDIN_KEY"
#define RUN_TIMEOUT_S 30
#define MAX_JOBS 16
#define EXAMPLES 3 /* failing N listed per property */

/* Two passes on two wire formats; no cache (a cached answer would skip the network). */
static const char CONFIG_FMT[] =
    "{\"providers\": {\"o\": {\"type\": \"openai\", \"base_url\": \"%s/v1\","
    "  \"api_key_env\": \"" KEY_ENV "\"},"
    " \"a\": {\"type\": \"anthropic\", \"base_url\": \"%s/v1\", \"api_key_env\": \"" KEY_ENV "\"}},"
    " \"models\": {\"m1\": {\"provider\": \"o\", \"model\": \"m1\"},"
    "  \"m2\": {\"provider\": \"a\", \"model\": \"m2\", \"stream\": true}},"
    " \"passes\": [{\"model\": \"m1\", \"strategy\": \"correctness\"},"
    "  {\"model\": \"m2\", \"strategy\": \"security\"}],"
    " \"judge\": {\"mode\": \"consensus\"}, \"cache\": {\"enabled\": false},"
    " \"limits\": {\"timeout_ms\": 10000, \"max_retries\": 1}}";

/* ASan's quarantine is kept small: the parent's freed memory (the rule pack's loading frees
 * a lot) would otherwise be copied into every child and scanned, tripling the time per run;
 * a use-after-free within a review is still caught. An abort() gets a stack trace, so a
 * library's own abort on a failed allocation names its frame. Settings in ASAN_OPTIONS win. */
const char *__asan_default_options(void);
const char *__asan_default_options(void) { return "quarantine_size_mb=16:handle_abort=1"; }

/* What one child saw; written to the parent through a pipe. */
typedef struct outcome {
  int setup;        /* 0, or the error before the review started (config, loop, client, start) */
  int done_calls;   /* times the done callback ran */
  int status;       /* the done callback's status */
  int findings;     /* size of result.findings, -1 without a result */
  bool degraded;    /* result.degraded */
  int loop_close;   /* uv_loop_close's return, 1 when the loop never opened */
  bool injected;    /* the armed failure was consumed */
  char summary[512]; /* "line:category" per finding, for the log of a run that changed them */
  long uv, curl, jansson, ts; /* allocation calls through each hook */
} outcome;

static outcome *counts; /* the running child's outcome, for the hooks' counters */
static qr_rules *rules; /* loaded once before the sweep, as a server would; borrowed by reviews */

/* ---- the hooks: count per library, then our allocator (tree-sitter: libc, never failed) ---- */

static void *uv_malloc_hook(size_t n) { counts->uv++; return qr_malloc(n); }
static void *uv_realloc_hook(void *p, size_t n) { counts->uv++; return qr_realloc(p, n); }
static void *uv_calloc_hook(size_t c, size_t n) { counts->uv++; return qr_calloc(c, n); }
static void *curl_malloc_hook(size_t n) { counts->curl++; return qr_malloc(n); }
static void *curl_realloc_hook(void *p, size_t n) { counts->curl++; return qr_realloc(p, n); }
static void *curl_calloc_hook(size_t c, size_t n) { counts->curl++; return qr_calloc(c, n); }
static char *curl_strdup_hook(const char *s) { counts->curl++; return qr_strdup(s); }
static void *json_malloc_hook(size_t n) { counts->jansson++; return qr_malloc(n); }
static void *ts_malloc_hook(size_t n) { counts->ts++; return malloc(n); }
static void *ts_calloc_hook(size_t c, size_t n) { counts->ts++; return calloc(c, n); }
static void *ts_realloc_hook(void *p, size_t n) { counts->ts++; return realloc(p, n); }

static bool install_hooks(void) {
  static outcome parent_counts;
  counts = &parent_counts;
  if (uv_replace_allocator(uv_malloc_hook, uv_realloc_hook, uv_calloc_hook, qr_free)) return false;
  if (curl_global_init_mem(CURL_GLOBAL_DEFAULT, curl_malloc_hook, qr_free, curl_realloc_hook,
                           curl_strdup_hook, curl_calloc_hook) != CURLE_OK)
    return false;
  json_set_alloc_funcs(json_malloc_hook, qr_free);
  ts_set_allocator(ts_malloc_hook, ts_calloc_hook, ts_realloc_hook, free);
  return true;
}

/* ---- the child: one review with allocation n failing (n < 0: none) ---------------------- */

/* Lists the findings without allocating (an allocation here could consume the armed failure). */
static void summarize(const json_t *findings, char *out, size_t size) {
  size_t used = 0;
  out[0] = '\0';
  for (size_t i = 0; i < json_array_size(findings) && used < size; i++) {
    const json_t *f = json_array_get(findings, i);
    const char *category = json_string_value(json_object_get(f, "category"));
    int n = snprintf(out + used, size - used, "%s%d:%s", i ? " " : "",
                     (int)json_integer_value(json_object_get(f, "start_line")),
                     category ? category : "?");
    if (n < 0) break;
    used += (size_t)n;
  }
}

static void on_done(qr_review *r, int status, json_t *result, void *data) {
  outcome *o = data;
  o->done_calls++;
  o->status = status;
  o->findings = result ? (int)json_array_size(json_object_get(result, "findings")) : -1;
  o->degraded = json_is_true(json_object_get(result, "degraded"));
  summarize(json_object_get(result, "findings"), o->summary, sizeof o->summary);
}

/* Runs the loop until the review is done or has nothing left to do. */
static void wait_done(uv_loop_t *loop, const outcome *o) {
  while (!o->done_calls && uv_run(loop, UV_RUN_ONCE)) {
  }
}

static void review_once(const char *base_url, const char *root, long n, outcome *o) {
  char text[2048];
  snprintf(text, sizeof text, CONFIG_FMT, base_url, base_url);
  qr_err e = {0};
  qr_config *cfg = NULL;
  qr_http *http = NULL;
  uv_loop_t loop;
  o->findings = -1;
  o->loop_close = 1;
  qr_alloc_fail_after(n);
  int rc = qr_config_parse(text, strlen(text), "torture-loop", &cfg, &e);
  bool loop_open = !rc && uv_loop_init(&loop) == 0;
  if (!rc && !loop_open) rc = qr_err_set(&e, QR_E_NOMEM, "uv_loop_init failed");
  if (!rc) rc = qr_http_new(&loop, &http, &e);
  if (!rc) {
    qr_http_set_backoff_base(http, 1);
    qr_review_params p = {.diff = FIXTURE_DIFF, .diff_len = strlen(FIXTURE_DIFF), .root = root,
                          .config = cfg, .rules = rules};
    rc = qr_review_start(&loop, http, &p, on_done, NULL, o, NULL, &e);
  }
  if (!rc) wait_done(&loop, o);
  if (http) qr_http_close(http);
  if (loop_open) {
    uv_run(&loop, UV_RUN_DEFAULT);
    o->loop_close = uv_loop_close(&loop);
  }
  qr_config_free(cfg);
  o->setup = rc;
  if (rc) fprintf(stderr, "torture_loop: setup error %s: %s\n", qr_err_name(rc), e.msg);
  o->injected = n > 0 && !fixture_failure_pending(n);
  fprintf(stderr,
          "torture_loop: allocation %ld: setup %s, done %d times, status %s, findings [%s]%s\n", n, qr_err_name(o->setup), o->done_calls, qr_err_name(o->status), o->summary,
          o->degraded ? " (degraded)" : "");
}

/* ---- the parent: fork per N, collect, classify ------------------------------------------ */

enum { P_CRASH, P_LEAK, P_DONE, P_LOOP, P_HANG, P_KEEP, N_PROPS };
static const char *const PROP_NAMES[N_PROPS] = {
    "no_crash", "no_leak", "done_exactly_once", "loop_closes", "no_hang",
    "tolerated_failures_keep_the_result"};

typedef struct job {
  pid_t pid;
  long n;
  int fd;           /* read end of the outcome pipe */
  char log[600];
} job;

typedef struct tally {
  long failed[N_PROPS];
  long examples[N_PROPS][EXAMPLES];
  char first_log[N_PROPS][600];
  long runs, injected, setup_errors, done_errors, degraded;
  long library_crashes; /* runs ended inside libuv or libcurl by a failed allocation */
  long stop_n; /* the first N whose run consumed no failure; 0 while unknown */
} tally;

static char log_dir[] = "/tmp/qr-torture-loop-XXXXXX";

static bool spawn(job *j, const char *base_url, const char *root, long n) {
  int fds[2];
  if (pipe(fds)) return false;
  snprintf(j->log, sizeof j->log, "%s/%ld.log", log_dir, n);
  j->n = n;
  fflush(NULL); /* or the child would print the parent's buffered lines again */
  j->pid = fork();
  if (j->pid < 0) {
    close(fds[0]);
    close(fds[1]);
    return false;
  }
  if (j->pid == 0) {
    close(fds[0]);
    if (!freopen(j->log, "w", stderr)) _exit(2);
    alarm(RUN_TIMEOUT_S);
    outcome o = {0};
    counts = &o;
    review_once(base_url, root, n, &o);
    bool sent = write(fds[1], &o, sizeof o) == (ssize_t)sizeof o;
    exit(sent ? 0 : 2); /* exit(), not _exit(): LeakSanitizer runs at exit */
  }
  close(fds[1]);
  j->fd = fds[0];
  return true;
}

/* Libraries we cannot fix, failing in their own code on a failed allocation: libuv abort()s by
 * design when growing its watcher array fails (uv__io_start, from uv_loop_init and handle starts),
 * and libcurl 7.88.1 divides by zero in its hash code when a hash table's allocation failed
 * (SIGFPE under curl_multi_socket_action). A report whose failing frame — the one after abort(),
 * or frame #0 of an FPE — is in libuv.so or libcurl.so is counted apart from our crashes. */
static bool library_crash(const char *log) {
  const char *report = strstr(log, "ERROR: AddressSanitizer: ");
  if (!report) return false;
  bool fpe = !strncmp(report + 25, "FPE", 3);
  if (!fpe && strncmp(report + 25, "ABRT", 4)) return false;
  const char *frame = strstr(report, "#0 ");
  if (frame && !fpe) { /* ABRT: the frame that called abort() */
    const char *abort_frame = strstr(frame, "abort");
    frame = abort_frame ? strchr(abort_frame, '\n') : NULL;
  }
  const char *end = frame ? strchr(frame + 1, '\n') : NULL;
  if (!end) return false;
  size_t n = (size_t)(end - frame);
  return memmem(frame, n, "libuv.so", 8) || memmem(frame, n, "libcurl.so", 10);
}

static void fail(tally *t, int prop, const job *j) {
  if (t->failed[prop] < EXAMPLES) t->examples[prop][t->failed[prop]] = j->n;
  if (!t->failed[prop]++) snprintf(t->first_log[prop], sizeof t->first_log[prop], "%s", j->log);
}

/* A run that swallowed the failure must still report what the baseline did, or say that it
 * could not (degraded, or a failed status). */
static bool changed_silently(const outcome *o, const outcome *base) {
  return o->injected && !o->setup && o->status == 0 && !o->degraded &&
         o->findings != base->findings;
}

/* Waits for one child, reads its outcome and files its run under each property it broke.
 * Returns whether the run was clean (its log is removed then). */
static bool reap(tally *t, const job *j, outcome *o, const outcome *base) {
  int status = 0;
  bool got = read(j->fd, o, sizeof *o) == (ssize_t)sizeof *o;
  close(j->fd);
  while (waitpid(j->pid, &status, 0) < 0 && errno == EINTR) {
  }
  long before = 0;
  for (int p = 0; p < N_PROPS; p++) before += t->failed[p];
  char *log = NULL;
  if (qr_read_file(j->log, 64u << 20, &log, NULL, NULL)) log = NULL;
  bool timed_out = WIFSIGNALED(status) && WTERMSIG(status) == SIGALRM;
  bool by_library = log && library_crash(log);
  if (timed_out) fail(t, P_HANG, j);
  else if (by_library) t->library_crashes++;
  else if (!got || !WIFEXITED(status) || !log || strstr(log, "AddressSanitizer") ||
           strstr(log, "runtime error:"))
    fail(t, P_CRASH, j);
  if (log && strstr(log, "LeakSanitizer")) fail(t, P_LEAK, j);
  qr_free(log);
  if (got) {
    if (!o->setup && o->done_calls != 1) fail(t, P_DONE, j);
    bool never_opened = o->loop_close == 1 && o->setup; /* setup failed before uv_loop_init */
    if (o->loop_close != 0 && !never_opened) fail(t, P_LOOP, j);
    if (base && changed_silently(o, base)) {
      fprintf(stderr, "torture_loop: allocation %ld changed the result (%d findings, not %d)\n",
              j->n, o->findings, base->findings);
      fail(t, P_KEEP, j);
    }
  }
  long after = 0;
  for (int p = 0; p < N_PROPS; p++) after += t->failed[p];
  bool clean = got && after == before;
  if (clean) unlink(j->log);
  return clean;
}

/* Tallies how a run of the sweep ended. */
static void count_run(tally *t, const outcome *o) {
  t->runs++;
  t->injected += o->injected;
  t->setup_errors += o->injected && o->setup != 0;
  t->done_errors += o->injected && !o->setup && o->status != 0;
  t->degraded += o->injected && o->degraded;
}

static void sweep(tally *t, const char *base_url, const char *root, long first, long step,
                  int jobs, const outcome *base) {
  job running[MAX_JOBS];
  int active = 0;
  long next = first;
  for (;;) {
    while (active < jobs && !t->stop_n) {
      if (!spawn(&running[active], base_url, root, next)) {
        perror("torture_loop: fork");
        t->failed[P_CRASH]++;
        t->stop_n = next;
        break;
      }
      active++;
      next += step;
    }
    if (!active) return;
    outcome o = {0};
    job j = running[0];
    memmove(running, running + 1, (size_t)--active * sizeof *running);
    bool clean = reap(t, &j, &o, base);
    count_run(t, &o);
    if (clean && !o.injected && (!t->stop_n || j.n < t->stop_n)) t->stop_n = j.n;
  }
}

static void report(const tally *t, long first, long step, const outcome *base) {
  for (int p = 0; p < N_PROPS; p++) {
    printf("%s torture_loop/%s", t->failed[p] ? "FAIL" : "ok", PROP_NAMES[p]);
    if (t->failed[p]) {
      printf(": %ld runs, e.g. N =", t->failed[p]);
      for (long i = 0; i < QR_MIN(t->failed[p], EXAMPLES); i++) printf(" %ld", t->examples[p][i]);
      printf(" (log: %s)", t->first_log[p]);
    }
    if (p == P_CRASH && t->library_crashes)
      printf(" (%ld runs ended inside libuv or libcurl on a failed allocation: not ours)",
             t->library_crashes);
    putchar('\n');
  }
  printf("%s torture_loop/sweep (%ld runs, N = %ld..%ld step %ld, %ld consumed the failure)\n",
         t->stop_n && t->injected ? "ok" : "FAIL", t->runs, first, t->stop_n, step, t->injected);
  fprintf(stderr,
          "torture_loop: of the runs that consumed the failure, %ld ended before the review "
          "started, %ld with a failed status, %ld degraded; a review makes fewer than %ld "
          "allocations (hooked: libuv %ld, curl %ld, jansson %ld; tree-sitter %ld counted, never failed)\n",
          t->setup_errors, t->done_errors, t->degraded, t->stop_n, base->uv, base->curl,
          base->jansson, base->ts);
}

/* The unarmed run every sweep compares with: it must succeed with findings, undegraded. */
static bool baseline(const char *base_url, const char *root, outcome *base) {
  tally t = {0};
  job j;
  if (!spawn(&j, base_url, root, -1)) return false;
  bool clean = reap(&t, &j, base, NULL);
  bool ok = clean && !base->setup && base->status == 0 && base->findings > 0 && !base->degraded;
  if (!ok)
    fprintf(stderr, "torture_loop: baseline setup %d status %d findings %d degraded %d (log %s)\n",
            base->setup, base->status, base->findings, base->degraded, j.log);
  else unlink(j.log);
  return ok;
}

static int remove_entry(const char *path, const struct stat *st, int type, struct FTW *f) {
  return remove(path);
}

int main(int argc, char **argv) {
  const char *base_url = argc > 1 ? argv[1] : NULL;
  long step = argc > 2 ? atol(argv[2]) : 1, first = argc > 3 ? atol(argv[3]) : 1;
  int jobs = argc > 4 ? atoi(argv[4]) : 2;
  if (!base_url || step < 1 || first < 1 || jobs < 1 || jobs > MAX_JOBS) {
    fprintf(stderr, "usage: torture_loop BASE_URL [STEP [FIRST [JOBS]]]\n");
    return 2;
  }
  setenv(KEY_ENV, getenv(KEY_ENV) ? getenv(KEY_ENV) : "sk-torture-not-a-key", 1);
  char root[] = "/tmp/qr-torture-loop-repo-XXXXXX";
  qr_err e = {0};
  if (!install_hooks() || !mkdtemp(log_dir) || !fixture_write_repo(root)) {
    perror("torture_loop: setup");
    return 2;
  }
  /* The rule pack's loading (2 s of tree-sitter query compiling under ASan) is done once:
   * reviews borrow it, so the sweep fails allocations of running the rules, not of loading. */
  if (qr_rules_load(NULL, 0, &rules, &e)) {
    fprintf(stderr, "torture_loop: rule pack: %s\n", e.msg);
    return 2;
  }
  /* The ledger goes to the scratch folder, never the user's state. */
  setenv("XDG_STATE_HOME", log_dir, 1);
  setenv("XDG_CACHE_HOME", log_dir, 1);
  outcome base = {0};
  bool base_ok = baseline(base_url, root, &base);
  printf("%s torture_loop/baseline (%d findings)\n", base_ok ? "ok" : "FAIL", base.findings);
  tally t = {0};
  if (base_ok) {
    sweep(&t, base_url, root, first, step, jobs, &base);
    report(&t, first, step, &base);
  }
  fixture_remove_repo(root);
  qr_rules_free(rules);
  bool failed = !base_ok || !t.stop_n || !t.injected;
  for (int p = 0; p < N_PROPS; p++) failed |= t.failed[p] > 0;
  if (failed) fprintf(stderr, "torture_loop: logs of failing runs are in %s\n", log_dir);
  else nftw(log_dir, remove_entry, 8, FTW_DEPTH | FTW_PHYS);
  return failed ? 1 : 0;
}
