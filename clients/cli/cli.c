/* cli.c — what every command shares (cli.h): usage errors, the review and output options common
 * to `quorum review` and `quorum pr`, running a review to completion on the loop, and turning
 * its result into output and an exit code. The commands (quorum.c, hook.c, pr.c, github.c,
 * ledger.c) call into this file; it calls none of them. */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "log.h"
#include "review/review.h"
#include "version.h"

int cli_usage_error(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fputs("quorum: ", stderr);
  vfprintf(stderr, fmt, ap);
  fputs("\n(see quorum --help)\n", stderr);
  va_end(ap);
  return EXIT_USAGE;
}

int cli_common_option(cli_opts *o, int ch, const char *arg, const char *help) {
  char *end;
  switch (ch) {
  case 'c': o->config_path = arg; return 0;
  case 'f':
    if (qr_format_parse(arg, &o->format))
      return cli_usage_error("unknown format '%s' (%s)", arg, qr_format_names);
    return 0;
  case 'F':
    if (!(o->fail_on = qr_severity_parse(arg)))
      return cli_usage_error("unknown severity '%s' for --fail-on", arg);
    return 0;
  case 'N': o->no_color = true; return 0;
  case 'M':
    o->min_confidence = strtod(arg, &end);
    if (*end || end == arg || o->min_confidence < 0 || o->min_confidence > 1)
      return cli_usage_error("--min-confidence takes a number from 0 to 1, not '%s'", arg);
    return 0;
  case 'X': o->allow_context = true; return 0;
  case 'O': o->allow_context = false; return 0;
  case 'E': o->fail_on_error_review = true; return 0;
  case 'x': o->explain = true; return 0;
  case 'v': o->verbose++; return 0;
  case 'h': fputs(help, stdout); exit(0);
  default: return -1;
  }
}

void cli_apply_verbosity(const cli_opts *o) {
  qr_log_set_level(o->verbose >= 2 ? QR_LOG_DEBUG : o->verbose ? QR_LOG_INFO : QR_LOG_WARN);
}

void cli_wait(uv_loop_t *loop, const bool *done) {
  while (!*done && uv_run(loop, UV_RUN_ONCE)) {
  }
}

#define PROGRESS_MERGE_MS 250

/* SIGINT, SIGTERM and SIGHUP during a review cancel it rather than end the process: the calls in
 * flight then end, canceled, and are recorded in the ledger (they went out and may be billed)
 * before the command exits 128 + the signal. SIGKILL cannot be caught: a killed review's calls in
 * flight are not in the ledger (its day reservations lapse with its process). */
static const int review_signals[] = {SIGINT, SIGTERM, SIGHUP};
#define N_SIGNALS (sizeof review_signals / sizeof *review_signals)
static int interrupted; /* the signal that canceled the review, 0: none */
static int write_errno; /* why the first write to stdout failed (EPIPE: the reader left), 0: none */

/* Flushes stdout; false (and write_errno set) once a write to it failed. */
static bool stdout_ok(void) {
  if (!write_errno && (fflush(stdout) || ferror(stdout))) write_errno = errno ? errno : EIO;
  return !write_errno;
}

typedef struct review_wait {
  bool done, progress_tty, verbose, jsonl, explain;
  uint64_t start_ms;
  double min_confidence;
  int total;        /* requests of the review, from the last progress report */
  int counts[5];    /* findings so far by severity (QR_SEV_*), from the last partial result */
  uint64_t merged_ms; /* when that partial result was made */
  bool *streamed;   /* jsonl: per entry of "passes", its event was printed; owned */
  size_t n_streamed;
  int status;
  json_t *result;     /* incref'd from the engine's borrowed result */
  qr_review *review;  /* the running review, NULL once it is done */
  uv_signal_t sig[N_SIGNALS];
  uv_timer_t gone;    /* cancels the review, from the loop, once stdout is gone */
  int open_signals;   /* handles not closed yet (the signals and `gone`) */
} review_wait;

/* Without --explain the findings do not list the pass findings merged into them. */
static void drop_merge(json_t *result) {
  size_t i;
  json_t *f;
  json_array_foreach(json_object_get(result, "findings"), i, f) json_object_del(f, "merge");
}

static void on_output_gone(uv_timer_t *t) {
  review_wait *w = t->data;
  if (w->review) qr_review_cancel(w->review);
}

/* jsonl: one {"event": "pass"} line per pass of `sofar` (a result, partial or final) that has
 * finished and was not streamed yet, each with the findings so far (--min-confidence applies). */
static void stream_passes(review_wait *w, const json_t *sofar, int done, int total) {
  if (interrupted || write_errno) return; /* after a signal nothing more goes to stdout */
  json_t *passes = json_object_get(sofar, "passes"), *ps;
  json_t *findings = json_object_get(sofar, "findings");
  size_t i, n = json_array_size(passes);
  if (n > w->n_streamed) {
    bool *grown = qr_realloc(w->streamed, n * sizeof *grown);
    if (!grown) return; /* the final result still says it all */
    memset(grown + w->n_streamed, 0, (n - w->n_streamed) * sizeof *grown);
    w->streamed = grown;
    w->n_streamed = n;
  }
  json_array_foreach(passes, i, ps) {
    const char *st = json_string_value(json_object_get(ps, "status"));
    if (w->streamed[i] || !st || !strcmp(st, "running") || !qr_output_is_pass(ps)) continue;
    json_t *ev = json_pack("{s:s, s:O, s:i, s:i, s:O, s:b}", "event", "pass", "pass", ps, "done",
                           done, "total", total, "findings", findings, "provisional",
                           json_is_true(json_object_get(sofar, "provisional")));
    if (!ev) return;
    w->streamed[i] = true;
    if (!json_dumpf(ev, stdout, JSON_COMPACT | JSON_PRESERVE_ORDER)) fputc('\n', stdout);
    json_decref(ev);
  }
  /* Nobody reads the result any more: stop paying for calls (not from inside this callback) */
  if (!stdout_ok() && w->review) uv_timer_start(&w->gone, on_output_gone, 0, 0);
}

int cli_interrupted(void) { return interrupted; }

/* The first signal cancels the review; a second one (the cancel is stuck) ends the process. */
static void on_signal(uv_signal_t *h, int signum) {
  review_wait *w = h->data;
  if (interrupted || !w->review) {
    signal(signum, SIG_DFL);
    raise(signum);
    return;
  }
  interrupted = signum;
  qr_review_cancel(w->review);
}

static void on_signal_closed(uv_handle_t *h) { ((review_wait *)h->data)->open_signals--; }

static void watch_signals(uv_loop_t *loop, review_wait *w) {
  if (!uv_timer_init(loop, &w->gone)) {
    w->gone.data = w;
    w->open_signals++;
  }
  for (size_t i = 0; i < N_SIGNALS; i++) {
    uv_signal_t *h = &w->sig[i];
    if (uv_signal_init(loop, h)) continue;
    h->data = w;
    w->open_signals++;
    if (uv_signal_start(h, on_signal, review_signals[i]))
      QR_WARN("cannot catch signal %d: an interrupted review is not in the ledger",
              review_signals[i]);
  }
}

/* Closes the handles (the default actions come back) and waits for their close callbacks. */
static void unwatch_signals(uv_loop_t *loop, review_wait *w) {
  for (size_t i = 0; i < N_SIGNALS; i++)
    if (w->sig[i].data == w) uv_close((uv_handle_t *)&w->sig[i], on_signal_closed);
  if (w->gone.data == w) uv_close((uv_handle_t *)&w->gone, on_signal_closed);
  while (w->open_signals > 0 && uv_run(loop, UV_RUN_ONCE)) {
  }
}

/* "3/6 requests · 4.2 s · $0.0123 · 2 findings so far (1 error)" — rewritten in place on a
 * terminal; with -v the engine logs each pass as it finishes, so the progress goes on lines of
 * its own. With --format jsonl every finished pass is an event on stdout. */
static void on_progress(qr_review *r, int done, int total, double cost, void *data) {
  review_wait *w = data;
  uint64_t now = qr_now_ms();
  w->total = total;
  /* Each partial result is one consensus merge: the terminal line refreshes its counts at most
   * every PROGRESS_MERGE_MS (a large review reports hundreds of requests); jsonl needs each. */
  if (w->jsonl || (w->progress_tty && now >= w->merged_ms + PROGRESS_MERGE_MS)) {
    json_t *partial = qr_review_partial(r);
    json_t *sofar = partial ? qr_output_filter(partial, w->min_confidence) : NULL;
    json_decref(partial);
    if (sofar && !w->explain) drop_merge(sofar);
    if (w->jsonl && sofar) stream_passes(w, sofar, done, total);
    size_t i;
    json_t *f, *findings = json_object_get(sofar, "findings");
    if (sofar) memset(w->counts, 0, sizeof w->counts);
    json_array_foreach(findings, i, f)
      w->counts[qr_severity_parse(json_string_value(json_object_get(f, "severity")))]++;
    w->merged_ms = now;
    json_decref(sofar);
  }
  if (!w->progress_tty) return;
  fprintf(stderr, "%squorum: %d/%d requests done · %.1f s · $%.4f · %d findings so far "
          "(%d errors, %d warnings)%s", w->verbose ? "" : "\r\033[K", done, total,
          (double)(now - w->start_ms) / 1000.0, cost,
          w->counts[1] + w->counts[2] + w->counts[3] + w->counts[4], w->counts[QR_SEV_ERROR],
          w->counts[QR_SEV_WARNING], w->verbose ? "\n" : "");
  fflush(stderr);
}

static void on_review_done(qr_review *r, int status, json_t *result, void *data) {
  review_wait *w = data;
  if (w->progress_tty && !w->verbose) fputs("\r\033[K", stderr);
  w->status = status;
  w->result = json_incref(result);
  w->done = true;
  w->review = NULL;
}

int cli_review(uv_loop_t *loop, qr_http *http, const qr_config *cfg, const char *diff, size_t len,
               const char *root, qr_snapshot *snap, char **omitted, const cli_opts *o,
               json_t **result, qr_err *e) {
  qr_review_params p = {.diff = diff, .diff_len = len, .root = root, .config = cfg,
                        .allow_context = o->allow_context,
                        .repo_config_root = o->repo_config_root,
                        .snapshot = snap, .omitted = omitted, .staged = o->staged};
  review_wait w = {.progress_tty = isatty(2), .verbose = o->verbose > 0, .start_ms = qr_now_ms(),
                   .jsonl = o->format == QR_FORMAT_JSONL, .explain = o->explain,
                   .min_confidence = o->min_confidence};
  *result = NULL;
  int rc = qr_review_start(loop, http, &p, on_review_done, on_progress, &w, &w.review, e);
  if (rc) return rc;
  watch_signals(loop, &w);
  cli_wait(loop, &w.done);
  unwatch_signals(loop, &w);
  if (!w.result) {
    qr_free(w.streamed);
    return w.status ? w.status : qr_err_set(e, QR_E_NOMEM, "out of memory");
  }
  *result = qr_output_filter(w.result, o->min_confidence);
  json_decref(w.result);
  if (*result && !o->explain) drop_merge(*result);
  /* Passes that finished with no progress report after them (answers from the cache) */
  if (w.jsonl && *result) stream_passes(&w, *result, w.total, w.total);
  qr_free(w.streamed);
  return *result ? w.status : qr_err_set(e, QR_E_NOMEM, "out of memory");
}

static const char *signal_name(int sig) {
  return sig == SIGINT ? "SIGINT" : sig == SIGTERM ? "SIGTERM" : sig == SIGHUP ? "SIGHUP" : "a signal";
}

int cli_finish(const json_t *result, int status, const qr_diff *diff, const cli_opts *o) {
  if (interrupted) {
    fprintf(stderr, "quorum: interrupted by %s: the review was canceled; the requests already sent "
            "are recorded in the ledger\n", signal_name(interrupted));
    return 128 + interrupted;
  }
  qr_output_opts oo = {.color = !o->no_color && isatty(1) && !getenv("NO_COLOR"),
                       .diff = diff, .tool_version = QR_VERSION};
  int rc = write_errno ? QR_E_IO : qr_output_write(stdout, o->format, result, &oo);
  if (!stdout_ok() || rc) {
    fprintf(stderr, "quorum: cannot write the output: %s\n",
            write_errno ? strerror(write_errno) : qr_strerror(rc));
    return EXIT_OUTPUT;
  }
  if (status == QR_E_PROVIDER) {
    if (o->hook && !o->fail_on_error_review) {
      fputs("quorum: no model could be reached; the commit is not blocked "
            "(--fail-on-error-review would block it)\n", stderr);
      return 0;
    }
    fputs("quorum: every review pass failed\n", stderr);
    return EXIT_ALL_FAILED;
  }
  if (o->fail_on && qr_output_max_severity(result) >= o->fail_on) return EXIT_FINDINGS;
  return 0;
}

