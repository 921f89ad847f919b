/* repo_config.h — what a repository may say about its own review: `.quorum.json` (or
 * `.quorum/config.json`) at its root can only NARROW the review — which strategies run,
 * files to ignore, the lowest severity shown, and extra instructions for every pass. It can
 * never add passes or say where code and keys go: providers, models, endpoints, headers, keys,
 * limits and the judge are ignored with a warning, so a cloned repository cannot redirect
 * traffic or spend. */
#ifndef QR_REPO_CONFIG_H
#define QR_REPO_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

#include "common.h"
#include "judge/findings.h"

#define QR_REPO_CONFIG_MAX_BYTES (256u << 10)
/* Repository instructions beyond this many bytes are cut (with a warning): they go into every
 * request, and review.c counts them in limits.max_input_tokens_per_pass. */
#define QR_REPO_INSTRUCTIONS_MAX_BYTES 4096u

typedef struct qr_repo_config {
  char *path;            /* the file read, or NULL when the repository has none; owned */
  char **strategies;     /* only passes with these strategies run; NULL: all; owned */
  size_t n_strategies;
  char **ignore;         /* glob patterns of repository paths not reviewed; owned */
  size_t n_ignore;
  qr_severity min_severity; /* findings below are not shown; 0: all */
  char *instructions;    /* appended to every strategy's instructions; owned, NULL: none */
  char **warnings;       /* one sentence per ignored key or bad value; owned */
  size_t n_warnings, n_warnings_alloc;
} qr_repo_config;

/* Reads `<root>/.quorum.json`, else `<root>/.quorum/config.json`. No file (or no root) is no
 * narrowing (QR_OK, path NULL). The file is confined like the snapshot's files: a link whose
 * target leaves the root, anything but a regular file and a file over QR_REPO_CONFIG_MAX_BYTES
 * are QR_E_INVAL/QR_E_TOOBIG naming it, and it is opened without blocking (a link to a FIFO or
 * /dev/stdin never stalls the loop). A file that is not a JSON object is QR_E_CONFIG naming it; keys a
 * repository may not set, unknown keys and wrong types become warnings, never errors (a
 * repository's file must not stop a review). *out is new; free with qr_repo_config_free. */
int qr_repo_config_load(const char *root, qr_repo_config **out, qr_err *e);
void qr_repo_config_free(qr_repo_config *rc);

/* True when `path` matches one of the ignore globs (qr_glob_match: .gitignore's rules). */
bool qr_repo_config_ignores(const qr_repo_config *rc, const char *path);
/* True when passes of strategy `name` may run. */
bool qr_repo_config_allows_strategy(const qr_repo_config *rc, const char *name);

#endif
