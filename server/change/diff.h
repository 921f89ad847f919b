/* diff.h — git unified diffs parsed into files, hunks and added lines (new-side numbering).
 *
 * Handles: `diff --git` headers with quoted and non-ASCII paths (git's C-style quoting),
 * renames/copies (similarity index, rename from/to), new/deleted files, mode changes,
 * "Binary files … differ" and GIT binary patch blocks, `\ No newline at end of file`,
 * CRLF line endings, and plain `---`/`+++` diffs without a `diff --git` line.
 * Hunk counts are checked against the lines that follow: a lying count is a QR_E_PARSE
 * error naming the line, never a crash or a silent misnumbering. */
#ifndef QR_DIFF_H
#define QR_DIFF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common.h"

typedef enum {
  QR_FILE_MODIFIED = 0,
  QR_FILE_ADDED,
  QR_FILE_DELETED,
  QR_FILE_RENAMED,
  QR_FILE_COPIED,
} qr_file_status;

typedef struct qr_hunk {
  int old_start, old_count;
  int new_start, new_count;
  int *added;     /* new-side line numbers of '+' lines, ascending; owned */
  uint64_t *added_hash; /* qr_diff_line_hash of each '+' line's text, as `added`; owned, NULL
                           in a diff not parsed from text (then nothing checks the lines) */
  size_t n_added;
} qr_hunk;

#define QR_DIFF_HEAD_LINES 40   /* removed_head: lines of the old side's top looked at */
#define QR_DIFF_HEAD_BYTES 4096 /* and at most this much of their text */

typedef struct qr_diff_file {
  char *path;         /* new-side path without "b/" (the old path for a deleted file); owned */
  char *old_path;     /* old-side path when renamed or copied, else NULL; owned */
  qr_file_status status;
  bool binary;        /* binary files have no hunks; the review skips them */
  bool mode_only;     /* only the mode changed */
  bool symlink;       /* the new side is a symbolic link (mode 120000): its text is a path */
  bool submodule;     /* the new side is a submodule (mode 160000): its text is a commit id */
  bool no_newline_at_end; /* the new side ends without a newline */
  qr_hunk *hunks;     /* owned */
  size_t n_hunks;
  char *removed_head; /* the '-' lines among the old side's first QR_DIFF_HEAD_LINES, each ending
                         in "\n", cut at QR_DIFF_HEAD_BYTES (what a banner said before); owned,
                         NULL when none */
  size_t removed_head_len;
} qr_diff_file;

typedef struct qr_diff {
  qr_diff_file *files; /* owned */
  size_t n_files;
} qr_diff;

/* Parses `len` bytes of diff text (need not be NUL-terminated). `max_bytes` caps the input
 * (QR_E_TOOBIG beyond it). On success *out is a new diff the caller frees with qr_diff_free.
 * On error *out is untouched and `e` names the line and problem. An empty input is a valid
 * diff with no files. */
int qr_diff_parse(const char *text, size_t len, size_t max_bytes, qr_diff **out, qr_err *e);
void qr_diff_free(qr_diff *d); /* NULL is a no-op */
/* Removes file i (a no-op when out of range); later files move down one place. */
void qr_diff_remove(qr_diff *d, size_t i);

/* The file with new-side path `path`, or NULL. Borrowed. */
const qr_diff_file *qr_diff_find(const qr_diff *d, const char *path);
/* True when new-side `line` was added ('+') in `f`. */
bool qr_diff_line_added(const qr_diff_file *f, int line);
/* True when new-side `line` lies inside one of f's hunks (added or context). */
bool qr_diff_line_in_hunks(const qr_diff_file *f, int line);
/* True when the file has added lines worth reviewing (not deleted, not binary, no symlink or
 * submodule). */
bool qr_diff_file_reviewable(const qr_diff_file *f);
/* The hash added_hash holds for a line's text (without its line break and a CR before it). */
uint64_t qr_diff_line_hash(const char *line, size_t len);

#endif
