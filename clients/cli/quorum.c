/* quorum.c — the command-line client: `quorum review` runs the review engine (the same
 * server/review/review.c the language server drives) on a diff and prints the result in one of the
 * output formats; it dispatches to `install-hook` (hook.c), `pr` (pr.c), `ledger` and `cache`
 * (ledger.c). What every command shares is in cli.c (cli.h).
 *
 * Exit codes: 0 done (also when degraded), 1 a finding at or above --fail-on,
 * 2 usage or configuration error, 3 every pass failed (in --hook mode only with
 * --fail-on-error-review: a review that reached no model never blocks a commit), 128 + N when
 * signal N (SIGINT, SIGTERM, SIGHUP) canceled the review (cli.c). */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "commands.h"
#include "change/git.h"
#include "log.h"
#include "review/review.h"
#include "version.h"

static const char usage[] =
    "usage: quorum review [--diff FILE|-] [--staged] [--base REF] [--root DIR] [--hook] [OPTIONS]\n"
    "       quorum pr --repo OWNER/NAME --pr N [--post] [--checks] [--max-files N] [OPTIONS]\n"
    "       quorum install-hook [--force] [--config FILE] [--fail-on SEV] [--fail-on-error-review]\n"
    "       quorum ledger [--json] [--since DATE] [--by model|day|role]\n"
    "       quorum cache stats [--json] | quorum cache clear\n"
    "       quorum --version | --help\n"
    "\n"
    "Reviews a change with parallel model passes and prints merged findings.\n"
    "With no diff option `review` looks at `git diff HEAD` of the repository in the current\n"
    "folder, untracked files included as new files.\n"
    "  --diff FILE|-        review this unified diff (- reads standard input)\n"
    "  --staged             review the staged change (git diff --cached)\n"
    "  --base REF           review the change against REF (git diff REF)\n"
    "  --repo-config-from REF  read the repository's .quorum.json as committed at REF, not from\n"
    "                       the work tree (CI jobs that check out an untrusted head)\n"
    "  --root DIR           repository root the new side of each file is read from; a file\n"
    "                       it holds at another version than the diff's is not reviewed\n"
    "  --hook               commit-hook mode: the staged change, --fail-on error unless given,\n"
    "                       and exit 0 with a warning when no model could be reached\n"
    "OPTIONS (review and pr):\n"
    "  --config FILE        configuration (else $QUORUM_CONFIG, else ~/.config/quorum/config.json)\n"
    "  --format F           text json jsonl sarif rdjsonl rdjson gitlab checks github (default\n"
    "                       text); jsonl streams an event per finished pass, then the result\n"
    "  --fail-on SEV        exit 1 when a finding is at least this severe (error|warning|info|hint)\n"
    "  --min-confidence X   leave out findings whose confidence is below X (0..1)\n"
    "  --only-changed-lines findings only on lines the diff touches (default)\n"
    "  --context            also keep findings on unchanged lines of the reviewed files\n"
    "  --fail-on-error-review  with --hook: exit 3 when every pass failed\n"
    "  --explain            show how each finding was merged: the pass findings in it, their\n"
    "                       similarity and why they were joined (text; JSON: each finding's \"merge\")\n"
    "  --no-color           no colours in text output (also NO_COLOR=1; colours need a terminal)\n"
    "  -v                   list each pass as it finishes on stderr (-vv: debug)\n"
    "Progress (passes done, time, cost) goes to stderr when it is a terminal.\n"
    "Exit codes: 0 done (also degraded), 1 --fail-on reached, 2 usage/config error, 3 every pass failed,\n"
    "4 (ledger, cache) the file could not be read, 128+N a signal canceled the review (130: Ctrl-C;\n"
    "the calls already sent are in the ledger).\n";

/* ---- quorum review ----------------------------------------------------------------------- */

typedef struct review_cmd {
  cli_opts o;
  const char *diff_file, *base, *root, *config_ref;
  bool staged;
} review_cmd;

/* The repository's top level (new string), or NULL after printing why. */
static char *git_toplevel(uv_loop_t *loop) {
  static const char *const args[] = {"rev-parse", "--show-toplevel", NULL};
  cli_git_wait g = {0};
  qr_err e = {0};
  if (qr_git_run(loop, ".", args, 1 << 16, false, cli_on_git, &g, &e)) {
    fprintf(stderr, "quorum: %s\n", e.msg);
    return NULL;
  }
  cli_wait(loop, &g.done);
  if (g.status) {
    fputs("quorum: not in a git repository (use --diff FILE or --root DIR)\n", stderr);
    qr_free(g.out);
    return NULL;
  }
  while (g.len && (g.out[g.len - 1] == '\n' || g.out[g.len - 1] == '\r')) g.out[--g.len] = '\0';
  return g.out;
}

/* The diff to review: --diff (a file or stdin) or git's view of the change under `root`. */
static int load_diff(review_cmd *c, uv_loop_t *loop, const char *root, char **diff, size_t *len) {
  qr_err e = {0};
  if (c->diff_file) {
    const char *path = strcmp(c->diff_file, "-") ? c->diff_file : "/dev/stdin";
    if (!qr_read_file(path, MAX_DIFF_BYTES, diff, len, &e)) return 0;
    fprintf(stderr, "quorum: %s\n", e.msg);
    return EXIT_USAGE;
  }
  cli_git_wait g = {0};
  if (qr_git_change_diff(loop, root, c->staged, c->base, MAX_DIFF_BYTES, cli_on_git, &g, &e)) {
    fprintf(stderr, "quorum: %s\n", e.msg);
    return EXIT_USAGE;
  }
  cli_wait(loop, &g.done);
  if (g.status) {
    qr_free(g.out);
    return EXIT_USAGE;
  }
  *diff = g.out;
  *len = g.len;
  return 0;
}

typedef struct index_wait {
  bool done;
  int status;
  qr_snapshot *snap;
  char **omitted;
} index_wait;

static void on_index(int status, qr_snapshot *snap, char **omitted, const char *message,
                     void *data) {
  index_wait *w = data;
  w->done = true;
  w->status = status;
  w->snap = snap;
  w->omitted = omitted;
  if (status) fprintf(stderr, "quorum: cannot read the staged files: %s\n", message);
}

/* A staged review's new side is the index (what the commit will hold), never the working tree,
 * which `git add -p` or later edits leave different. Returns 0 or the exit code. */
static int load_index(uv_loop_t *loop, const char *root, const qr_diff *parsed, index_wait *w) {
  qr_err e = {0};
  if (qr_git_index_snapshot(loop, root, parsed, QR_REVIEW_MAX_FILE_BYTES, on_index, w, &e)) {
    fprintf(stderr, "quorum: %s\n", e.msg);
    return EXIT_USAGE;
  }
  cli_wait(loop, &w->done);
  return w->status ? EXIT_USAGE : 0;
}

/* Loads the diff, reviews it and prints the result; returns the exit code. */
static int review_on_loop(review_cmd *c, uv_loop_t *loop, qr_http *http, const qr_config *cfg) {
  char *root = c->root || c->diff_file ? qr_strdup(c->root ? c->root : ".") : git_toplevel(loop);
  if (!root) return EXIT_USAGE;
  char *diff = NULL;
  size_t len = 0;
  int rc = load_diff(c, loop, root, &diff, &len);
  qr_diff *parsed = NULL;
  json_t *result = NULL;
  qr_err e = {0};
  index_wait iw = {0};
  if (!rc && (c->o.format == QR_FORMAT_GITHUB || c->staged) &&
      qr_diff_parse(diff, len, MAX_DIFF_BYTES, &parsed, &e)) {
    fprintf(stderr, "quorum: %s\n", e.msg);
    rc = EXIT_USAGE;
  }
  char *config_dir = NULL;
  if (!rc && c->config_ref && cli_repo_config_from(loop, root, c->config_ref, &config_dir, &e)) {
    fprintf(stderr, "quorum: %s\n", e.msg);
    rc = EXIT_USAGE;
  }
  c->o.repo_config_root = config_dir;
  if (!rc && c->staged) rc = load_index(loop, root, parsed, &iw);
  if (!rc) {
    int status = cli_review(loop, http, cfg, diff, len, root, iw.snap, iw.omitted, &c->o, &result, &e);
    char *label = config_dir && result ? qr_asprintf("%s:", c->config_ref) : NULL;
    if (config_dir && result && (!label || cli_relabel_notes(result, config_dir, label))) {
      json_decref(result);
      result = NULL;
      qr_err_set(&e, QR_E_NOMEM, "out of memory");
    }
    qr_free(label);
    if (result) {
      rc = cli_finish(result, status, parsed, &c->o);
    } else {
      fprintf(stderr, "quorum: %s\n", e.msg);
      rc = EXIT_USAGE;
    }
  }
  json_decref(result);
  qr_diff_free(parsed);
  qr_free(diff);
  qr_free(root);
  cli_remove_tree(config_dir);
  qr_free(config_dir);
  return rc;
}

static int run_review(review_cmd *c) {
  qr_config *cfg = NULL;
  qr_err e = {0};
  if (qr_config_load(c->o.config_path, &cfg, &e)) {
    fprintf(stderr, "quorum: %s\n", e.msg);
    return EXIT_USAGE;
  }
  uv_loop_t loop;
  qr_http *http = NULL;
  if (uv_loop_init(&loop) || qr_http_new(&loop, &http, &e)) {
    fprintf(stderr, "quorum: cannot start: %s\n", e.msg);
    qr_config_free(cfg);
    return EXIT_USAGE;
  }
  int rc = review_on_loop(c, &loop, http, cfg);
  qr_http_close(http);
  uv_run(&loop, UV_RUN_DEFAULT);
  if (uv_loop_close(&loop)) QR_WARN("event loop closed with handles open");
  qr_config_free(cfg);
  return rc;
}

static int parse_review_args(review_cmd *c, int argc, char **argv) {
  static const struct option opts[] = {
      CLI_COMMON_LONGOPTS,
      {"diff", required_argument, 0, 'd'}, {"staged", no_argument, 0, 's'},
      {"base", required_argument, 0, 'b'}, {"root", required_argument, 0, 'r'},
      {"hook", no_argument, 0, 'H'},       {"repo-config-from", required_argument, 0, 'R'},
      {0, 0, 0, 0}};
  int ch;
  bool fail_on_given = false;
  optind = 1;
  while ((ch = getopt_long(argc, argv, "v", opts, NULL)) != -1) {
    int rc = cli_common_option(&c->o, ch, optarg, usage);
    if (rc > 0) return rc;
    if (rc == 0) {
      fail_on_given |= ch == 'F';
      continue;
    }
    switch (ch) {
    case 'd': c->diff_file = optarg; break;
    case 's': c->staged = c->o.staged = true; break;
    case 'b': c->base = optarg; break;
    case 'r': c->root = optarg; break;
    case 'H': c->o.hook = c->staged = c->o.staged = true; break;
    case 'R': c->config_ref = optarg; break;
    default: return EXIT_USAGE;
    }
  }
  if (optind < argc) return cli_usage_error("unexpected argument '%s'", argv[optind]);
  if (c->diff_file && (c->staged || c->base))
    return cli_usage_error("--diff cannot be combined with --staged, --hook or --base");
  if (c->staged && c->base) return cli_usage_error("--staged and --base exclude each other");
  if (c->o.hook && !fail_on_given) c->o.fail_on = QR_SEV_ERROR;
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
  if (!strcmp(argv[1], "install-hook")) return cli_install_hook(argc - 1, argv + 1);
  if (!strcmp(argv[1], "pr")) return cli_pr(argc - 1, argv + 1);
  if (!strcmp(argv[1], "ledger")) return cli_ledger(argc - 1, argv + 1);
  if (!strcmp(argv[1], "cache")) return cli_cache(argc - 1, argv + 1);
  if (strcmp(argv[1], "review")) return cli_usage_error("unknown command '%s'", argv[1]);
  review_cmd c = {.o.format = QR_FORMAT_TEXT};
  int rc = parse_review_args(&c, argc - 1, argv + 1);
  if (rc) return rc;
  cli_apply_verbosity(&c.o);
  return run_review(&c);
}
