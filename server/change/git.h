/* git.h — runs git through uv_spawn (never a shell) and captures its output, capped.
 * The CLI and the language server both get their diffs this way. */
#ifndef QR_GIT_H
#define QR_GIT_H

#include <stdbool.h>
#include <stddef.h>
#include <uv.h>

#include "common.h"

/* status: 0, or QR_E_IO (git failed to start or exited non-zero: `message` holds its stderr),
 * QR_E_TOOBIG (stdout over the cap). `out` (NUL-terminated) and `message` are borrowed for the
 * duration of the call. */
typedef void (*qr_git_done_cb)(int status, const char *out, size_t len, const char *message,
                               void *data);

/* Runs `git -C root ARGS…` (argv NULL-terminated, without "git"). The callback runs exactly
 * once, from the loop, after the child has exited and every handle is closed; on an error
 * return it never runs. Exit status 1 counts as success when `exit1_ok` (git diff --no-index
 * exits 1 when the files differ). */
int qr_git_run(uv_loop_t *loop, const char *root, const char *const *args, size_t max_out,
               bool exit1_ok, qr_git_done_cb cb, void *data, qr_err *e);

/* The change a review looks at, as one unified diff: `git diff --cached` when staged, else
 * `git diff BASE` (default HEAD) followed by every untracked, not ignored file as a new file
 * (at most QR_GIT_MAX_UNTRACKED of them; the rest are named in the log). Same callback rules. */
#define QR_GIT_MAX_UNTRACKED 256
int qr_git_change_diff(uv_loop_t *loop, const char *root, bool staged, const char *base,
                       size_t max_out, qr_git_done_cb cb, void *data, qr_err *e);


#endif
