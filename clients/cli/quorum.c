/* quorum.c — the command-line client: `quorum review` runs the review engine (the same
 * server/review.c the language server drives) on a diff and prints the result.
 *
 * Exit codes: 0 done (also when degraded), 1 a finding at or above --fail-on,
 * 2 usage or configuration error, 3 every pass failed. */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "git.h"
#include "http.h"
#include "log.h"
#include "output.h"
#include "review.h"
#include "version.h"

#define EXIT_FINDINGS 1
#define EXIT_USAGE 2
#define EXIT_ALL_FAILED 3
#define MAX_DIFF_BYTES (64u << 20)

static const char usage[] =
    "usage: quorum review [--diff FILE|-] [--staged] [--base REF] [--root DIR] [--config FILE]\n"
    "                     [--format json|text] [--fail-on error|warning|info|hint] [-v]\n"
    "       quorum --version | --help\n"
    "\n"
    "Reviews a change with parallel model passes and prints merged findings.\n"
    "With no diff option it reviews `git diff HEAD` of the repository in the current folder,\n"
    "untracked files included as new files.\n"
    "  --diff FILE|-   review this unified diff (- reads standard input)\n"
    "  --staged        review the staged change (git diff --cached)\n"
    "  --base REF      review the change against REF (git diff REF)\n"
    "  --root DIR      repository root the new side of each file is read from\n"
    "  --config FILE   configuration (else $QUORUM_CONFIG, else ~/.config/quorum/config.json)\n"
    "  --format F      json or text (default text)\n"
    "  --fail-on SEV   exit 1 when a finding is at least this severe\n"
    "  -v              log each pass to stderr (-vv: debug)\n"
    "Exit codes: 0 done (also degraded), 1 --fail-on reached, 2 usage/config error, 3 every pass failed.\n";

typedef struct cli {
  const char *diff_file, *base, *root, *config_path, *format;
  char *root_dir; /* owned: the root the review reads from */
  qr_config *cfg; /* owned */
  uv_loop_t *loop;
  qr_http *http;  /* owned */
  bool staged;
  qr_severity fail_on;
  int verbose;
  int exit_code;
} cli;

static int die_usage(const char *fmt, const char *arg) {
  fprintf(stderr, "quorum: ");
  fprintf(stderr, fmt, arg);
  fprintf(stderr, "\n(see quorum --help)\n");
  return EXIT_USAGE;
}

static void on_review_done(qr_review *r, int status, json_t *result, void *data) {
  cli *c = data;
  if (!result) {
    fprintf(stderr, "quorum: review failed: %s\n", qr_strerror(status));
    c->exit_code = EXIT_ALL_FAILED;
    return;
  }
  if (!strcmp(c->format, "json")) qr_output_json(stdout, result);
  else qr_output_text(stdout, result, isatty(1) && !getenv("NO_COLOR"));
  fflush(stdout);
  if (status == QR_E_PROVIDER) {
    fprintf(stderr, "quorum: every review pass failed\n");
    c->exit_code = EXIT_ALL_FAILED;
  } else if (c->fail_on && qr_output_max_severity(result) >= c->fail_on) {
    c->exit_code = EXIT_FINDINGS;
  }
}

/* Starts the review once the diff is known; errors end the run with exit 2. */
static void start_review(cli *c, const char *diff, size_t len) {
  qr_review_params p = {.diff = diff, .diff_len = len, .root = c->root_dir, .config = c->cfg};
  qr_err e = {0};
  if (qr_review_start(c->loop, c->http, &p, on_review_done, NULL, c, NULL, &e)) {
    fprintf(stderr, "quorum: %s\n", e.msg);
    c->exit_code = EXIT_USAGE;
  }
}

static void on_diff(int status, const char *out, size_t len, const char *message, void *data) {
  cli *c = data;
  if (status) {
    fprintf(stderr, "quorum: git diff failed: %s\n", message);
    c->exit_code = EXIT_USAGE;
    return;
  }
  start_review(c, out, len);
}

static void run_diff(cli *c) {
  qr_err e = {0};
  if (qr_git_change_diff(c->loop, c->root_dir, c->staged, c->base, MAX_DIFF_BYTES, on_diff, c, &e)) {
    fprintf(stderr, "quorum: %s\n", e.msg);
    c->exit_code = EXIT_USAGE;
  }
}

static void on_toplevel(int status, const char *out, size_t len, const char *message, void *data) {
  cli *c = data;
  if (status) {
    fprintf(stderr, "quorum: not in a git repository (use --diff FILE or --root DIR): %s\n", message);
    c->exit_code = EXIT_USAGE;
    return;
  }
  while (len && (out[len - 1] == '\n' || out[len - 1] == '\r')) len--;
  c->root_dir = qr_strndup(out, len);
  if (c->root_dir) run_diff(c);
}

/* The diff comes from --diff (a file or stdin) or from git in the repository. */
static void load_diff(cli *c) {
  if (c->diff_file) {
    c->root_dir = qr_strdup(c->root ? c->root : ".");
    char *diff = NULL;
    size_t len = 0;
    qr_err e = {0};
    const char *path = strcmp(c->diff_file, "-") ? c->diff_file : "/dev/stdin";
    if (qr_read_file(path, MAX_DIFF_BYTES, &diff, &len, &e)) {
      fprintf(stderr, "quorum: %s\n", e.msg);
      c->exit_code = EXIT_USAGE;
      return;
    }
    start_review(c, diff, len);
    qr_free(diff);
  } else if (c->root) {
    c->root_dir = qr_strdup(c->root);
    run_diff(c);
  } else {
    static const char *const args[] = {"rev-parse", "--show-toplevel", NULL};
    qr_err e = {0};
    if (qr_git_run(c->loop, ".", args, 1 << 16, false, on_toplevel, c, &e)) {
      fprintf(stderr, "quorum: %s\n", e.msg);
      c->exit_code = EXIT_USAGE;
    }
  }
}

static int run_review(cli *c) {
  qr_err e = {0};
  if (qr_config_load(c->config_path, &c->cfg, &e)) {
    fprintf(stderr, "quorum: %s\n", e.msg);
    return EXIT_USAGE;
  }
  uv_loop_t loop;
  c->loop = &loop;
  if (uv_loop_init(&loop) || qr_http_new(&loop, &c->http, &e)) {
    fprintf(stderr, "quorum: cannot start: %s\n", e.msg);
    qr_config_free(c->cfg);
    return EXIT_USAGE;
  }
  load_diff(c);
  uv_run(&loop, UV_RUN_DEFAULT);
  qr_http_close(c->http);
  uv_run(&loop, UV_RUN_DEFAULT);
  if (uv_loop_close(&loop)) QR_WARN("event loop closed with handles open");
  qr_free(c->root_dir);
  qr_config_free(c->cfg);
  return c->exit_code;
}

static int parse_review_args(cli *c, int argc, char **argv) {
  static const struct option opts[] = {
      {"diff", required_argument, 0, 'd'},   {"staged", no_argument, 0, 's'},
      {"base", required_argument, 0, 'b'},   {"root", required_argument, 0, 'r'},
      {"config", required_argument, 0, 'c'}, {"format", required_argument, 0, 'f'},
      {"fail-on", required_argument, 0, 'F'}, {"help", no_argument, 0, 'h'},
      {0, 0, 0, 0}};
  int ch;
  optind = 1;
  while ((ch = getopt_long(argc, argv, "v", opts, NULL)) != -1) {
    switch (ch) {
    case 'd': c->diff_file = optarg; break;
    case 's': c->staged = true; break;
    case 'b': c->base = optarg; break;
    case 'r': c->root = optarg; break;
    case 'c': c->config_path = optarg; break;
    case 'f':
      if (strcmp(optarg, "json") && strcmp(optarg, "text"))
        return die_usage("unknown format '%s' (json or text)", optarg);
      c->format = optarg;
      break;
    case 'F':
      if (!(c->fail_on = qr_severity_parse(optarg)))
        return die_usage("unknown severity '%s' for --fail-on", optarg);
      break;
    case 'v': c->verbose++; break;
    case 'h': fputs(usage, stdout); exit(0);
    default: return EXIT_USAGE;
    }
  }
  if (optind < argc) return die_usage("unexpected argument '%s'", argv[optind]);
  if (c->diff_file && (c->staged || c->base))
    return die_usage("%s", "--diff cannot be combined with --staged or --base");
  if (c->staged && c->base) return die_usage("%s", "--staged and --base exclude each other");
  return 0;
}

int main(int argc, char **argv) {
  signal(SIGPIPE, SIG_IGN);
  if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
    fputs(usage, argc < 2 ? stderr : stdout);
    return argc < 2 ? EXIT_USAGE : 0;
  }
  if (!strcmp(argv[1], "--version")) {
    printf("quorum %s\n", QR_VERSION);
    return 0;
  }
  if (strcmp(argv[1], "review")) return die_usage("unknown command '%s'", argv[1]);
  cli c = {.format = "text"};
  int rc = parse_review_args(&c, argc - 1, argv + 1);
  if (rc) return rc;
  qr_log_set_level(c.verbose >= 2 ? QR_LOG_DEBUG : c.verbose ? QR_LOG_INFO : QR_LOG_WARN);
  return run_review(&c);
}
