/* cli.h — what the CLI's commands share: exit codes, the review and output options common to
 * `quorum review` and `quorum pr`, running a review to completion on the loop, and turning its
 * result into output and an exit code (cli.c). The commands use it, never the other way:
 * review (quorum.c), install-hook (hook.c), pr (pr.c, over the GitHub client in github.c),
 * ledger and cache (ledger.c); their entry points are in commands.h. */
#ifndef QR_CLI_H
#define QR_CLI_H

#include <getopt.h>
#include <jansson.h>
#include <stdbool.h>
#include <uv.h>

#include "config/config.h"
#include "providers/http.h"
#include "output/output.h"

#define EXIT_FINDINGS 1
#define EXIT_USAGE 2
#define EXIT_OUTPUT 2 /* the result could not be written (stdout closed or full) */
#define EXIT_ALL_FAILED 3
#define EXIT_IO 4 /* ledger, cache: the file could not be read */
#define MAX_DIFF_BYTES (64u << 20)

/* Options shared by review and pr. */
typedef struct cli_opts {
  const char *config_path;
  qr_format format;
  bool no_color;
  qr_severity fail_on;        /* 0: never exit 1 for findings */
  double min_confidence;      /* findings below are not shown */
  bool allow_context;         /* --context: findings may sit on unchanged lines */
  bool hook;                  /* commit-hook mode (review --hook) */
  bool staged;                /* the staged change (review --staged, --hook) */
  bool fail_on_error_review;  /* in hook mode, block when no model could be reached */
  bool explain;               /* --explain: each finding says how the merge built it */
  int verbose;
  const char *repo_config_root; /* where the repository config is read; NULL: the root */
} cli_opts;

/* getopt_long entries of the shared options; commands append their own after these. */
#define CLI_COMMON_LONGOPTS                                                              \
  {"config", required_argument, 0, 'c'}, {"format", required_argument, 0, 'f'},         \
      {"fail-on", required_argument, 0, 'F'}, {"no-color", no_argument, 0, 'N'},        \
      {"min-confidence", required_argument, 0, 'M'}, {"context", no_argument, 0, 'X'},  \
      {"only-changed-lines", no_argument, 0, 'O'},                                       \
      {"fail-on-error-review", no_argument, 0, 'E'}, {"explain", no_argument, 0, 'x'},  \
      {"help", no_argument, 0, 'h'}

/* Handles a shared option `ch` (with optarg); returns 0 when taken, EXIT_USAGE after printing
 * why it is wrong, or -1 when `ch` is not a shared option. `usage` is printed for --help. */
int cli_common_option(cli_opts *o, int ch, const char *arg, const char *usage);
/* Prints "quorum: <message>" and the help hint to stderr; returns EXIT_USAGE. */
int cli_usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Sets the log level from -v (-v: info, each pass as it finishes; -vv: debug). */
void cli_apply_verbosity(const cli_opts *o);

/* Runs the loop until *done is true (or nothing is left to run). */
void cli_wait(uv_loop_t *loop, const bool *done);

/* Reviews `diff` (len bytes) with the new side read from `root` — or, when `snap` is given
 * (stolen with `omitted`, see qr_review_params), from it — blocking on `loop`. On return
 * *result is a new reference filtered by --min-confidence, its findings' "merge" kept only with
 * --explain (NULL when the review could not
 * start or ran out of memory; `e` says why). Returns the engine status (0, QR_E_PROVIDER when
 * every pass failed, or the start error). Shows progress on stderr when it is a terminal. */
int cli_review(uv_loop_t *loop, qr_http *http, const qr_config *cfg, const char *diff, size_t len,
               const char *root, qr_snapshot *snap, char **omitted, const cli_opts *o,
               json_t **result, qr_err *e);
/* The signal (SIGINT, SIGTERM, SIGHUP) that canceled the last review, or 0. */
int cli_interrupted(void);
/* Prints `result` to stdout in the chosen format (`diff` is needed by the github format and
 * may be NULL otherwise) and returns the exit code for it and the engine `status`; after a
 * signal canceled the review it prints nothing but why and returns 128 + the signal. */
int cli_finish(const json_t *result, int status, const qr_diff *diff, const cli_opts *o);

/* repo_ref.c: what a git run gave, filled by cli_on_git (a qr_git_done_cb) — git's message is
 * printed on failure unless `quiet`. */
typedef struct cli_git_wait {
  bool done, quiet;
  int status;
  char *out; /* owned copy of git's stdout */
  size_t len;
} cli_git_wait;
void cli_on_git(int status, const char *out, size_t len, const char *message, void *data);
/* repo_ref.c: a new private folder $TMPDIR/PREFIX-XXXXXX (new string; NULL with errno set),
 * and removing a folder tree (symlinks are removed, never followed). */
char *cli_temp_dir(const char *prefix);
void cli_remove_tree(const char *dir);
/* --repo-config-from REF: the repository config files as committed at REF (in the git
 * repository at `root`) copied into a new private folder *dir (new string; the caller removes
 * it with cli_remove_tree). QR_E_INVAL when REF is not a commit. */
int cli_repo_config_from(uv_loop_t *loop, const char *root, const char *ref, char **dir, qr_err *e);
/* Rewrites result["notes"] so that each "<dir>/" reads `label` (a private folder's path becomes
 * "REF:" before ".quorum.json"). QR_E_NOMEM only. */
int cli_relabel_notes(json_t *result, const char *dir, const char *label);

#endif
