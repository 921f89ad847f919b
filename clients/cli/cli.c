/* cli.c — what every command shares (cli.h): usage errors, the review and output options common
 * to `quorum review` and `quorum pr`, running a review to completion on the loop, and turning
 * its result into output and an exit code. The commands (quorum.c, hook.c, pr.c, github.c,
 * ledger.c) call into this file; it calls none of them. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
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

typedef struct review_wait {
  bool done, progress_tty, verbose;
  uint64_t start_ms;
  int status;
  json_t *result; /* incref'd from the engine's borrowed result */
} review_wait;

/* "3/6 requests · 4.2 s · $0.0123" — rewritten in place on a terminal; with -v the engine
 * logs each pass as it finishes, so the progress goes on lines of its own. */
static void on_progress(qr_review *r, int done, int total, double cost, void *data) {
  review_wait *w = data;
  if (!w->progress_tty) return;
  fprintf(stderr, "%squorum: %d/%d requests done · %.1f s · $%.4f%s", w->verbose ? "" : "\r\033[K",
          done, total, (double)(qr_now_ms() - w->start_ms) / 1000.0, cost,
          w->verbose ? "\n" : "");
  fflush(stderr);
}

static void on_review_done(qr_review *r, int status, json_t *result, void *data) {
  review_wait *w = data;
  if (w->progress_tty && !w->verbose) fputs("\r\033[K", stderr);
  w->status = status;
  w->result = json_incref(result);
  w->done = true;
}

int cli_review(uv_loop_t *loop, qr_http *http, const qr_config *cfg, const char *diff, size_t len,
               const char *root, qr_snapshot *snap, char **omitted, const cli_opts *o,
               json_t **result, qr_err *e) {
  qr_review_params p = {.diff = diff, .diff_len = len, .root = root, .config = cfg,
                        .allow_context = o->allow_context,
                        .repo_config_root = o->repo_config_root,
                        .snapshot = snap, .omitted = omitted, .staged = o->staged};
  review_wait w = {.progress_tty = isatty(2), .verbose = o->verbose > 0, .start_ms = qr_now_ms()};
  *result = NULL;
  int rc = qr_review_start(loop, http, &p, on_review_done, on_progress, &w, NULL, e);
  if (rc) return rc;
  cli_wait(loop, &w.done);
  if (!w.result) return w.status ? w.status : qr_err_set(e, QR_E_NOMEM, "out of memory");
  *result = qr_output_filter(w.result, o->min_confidence);
  json_decref(w.result);
  size_t i;
  json_t *f;
  if (*result && !o->explain)
    json_array_foreach(json_object_get(*result, "findings"), i, f) json_object_del(f, "merge");
  return *result ? w.status : qr_err_set(e, QR_E_NOMEM, "out of memory");
}

int cli_finish(const json_t *result, int status, const qr_diff *diff, const cli_opts *o) {
  qr_output_opts oo = {.color = !o->no_color && isatty(1) && !getenv("NO_COLOR"),
                       .diff = diff, .tool_version = QR_VERSION};
  int rc = qr_output_write(stdout, o->format, result, &oo);
  fflush(stdout);
  if (rc) fprintf(stderr, "quorum: cannot write the output: %s\n", qr_strerror(rc));
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

