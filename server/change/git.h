/* git.h — runs git through uv_spawn (never a shell) and captures its output, capped.
 * The CLI and the language server both get their diffs this way. */
#ifndef QR_GIT_H
#define QR_GIT_H

#include <stdbool.h>
#include <stddef.h>
#include <uv.h>

#include "common.h"
#include "change/diff.h"
#include "change/snapshot.h"

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

/* Called once with the new side of a staged change: status 0 with snap and omitted new (the
 * callee owns them: qr_snapshot_free, qr_snapshot_free_omitted), else an error, NULL, NULL and
 * git's message. */
typedef void (*qr_git_snapshot_cb)(int status, qr_snapshot *snap, char **omitted,
                                   const char *message, void *data);
/* Reads the new side of every reviewable file of `diff` (borrowed for this call only) from git's
 * index, `git cat-file blob :0:PATH` one file at a time: what a staged review's diff describes,
 * whatever the working tree holds. Files over max_file_bytes or binary are omitted with the
 * reason. Returns an error (no callback) only when out of memory; otherwise the callback runs
 * exactly once, before this returns when there is nothing to read or git cannot start. */
int qr_git_index_snapshot(uv_loop_t *loop, const char *root, const qr_diff *diff,
                          size_t max_file_bytes, qr_git_snapshot_cb cb, void *data, qr_err *e);

/* The hunks of `text` (the editor's unsaved buffer of repository file `rel`; copied) against
 * HEAD's version of it: `git cat-file --filters HEAD:REL` (the checkout form, so line-end
 * conversion marks nothing) and the buffer are written to a private temporary folder and
 * compared by `git diff --no-index`. The callback gets the hunks, from the first "@@" line
 * (empty when nothing changed), for the caller to put its own file header on; status
 * QR_E_NOTFOUND when HEAD has no such file (no commit yet, a new file). Same callback rules
 * as qr_git_run. */
int qr_git_buffer_hunks(uv_loop_t *loop, const char *root, const char *rel, const char *text,
                        size_t len, size_t max_out, qr_git_done_cb cb, void *data, qr_err *e);

#endif
