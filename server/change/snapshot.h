/* snapshot.h — the new-side text of the files a review looks at, read once from the
 * repository root (or given by the editor's document store), with a line index.
 * Every later stage (context, findings validation, fixes) reads code from here, so a
 * review sees one consistent version of each file. */
#ifndef QR_SNAPSHOT_H
#define QR_SNAPSHOT_H

#include <stddef.h>

#include "common.h"
#include "change/diff.h"

typedef struct qr_snapshot_file {
  char *path;           /* repository-relative, as in the diff; owned */
  char *text;           /* NUL-terminated file contents; owned */
  size_t len;
  size_t *line_starts;  /* byte offset of each line's start; line N (1-based) is [N-1]; owned */
  size_t n_lines;       /* a trailing newline does not start a new line */
  const struct qr_language *lang; /* NULL when no grammar fits; borrowed static */
} qr_snapshot_file;

typedef struct qr_snapshot {
  qr_snapshot_file *files; /* owned */
  size_t n_files;
} qr_snapshot;

/* The reason a file is omitted when the root's copy lacks a line the diff adds there. */
#define QR_SNAPSHOT_NOT_NEW_SIDE "does not match the diff's new side: the root holds another version"

/* Reads the new side of every reviewable file of `diff` below `root`. Files that cannot be
 * read, or are larger than `max_file_bytes`, are left out and named in *omitted (a new
 * NULL-terminated array of "path: reason" strings, free with qr_snapshot_free_omitted).
 * Paths that escape `root` (.., absolute, symlinks out) are omitted, never read; so is a file
 * whose lines are not those the diff adds (QR_SNAPSHOT_NOT_NEW_SIDE). */
int qr_snapshot_from_diff(const qr_diff *diff, const char *root, size_t max_file_bytes,
                          qr_snapshot **out, char ***omitted, qr_err *e);
/* Adds the new side of `path` read elsewhere (git's index): `text` (len bytes, NUL-terminated)
 * is taken over and freed on every path. A binary text is left out and named in *omitted (a
 * NULL-terminated array, grown; NULL starts one). Errors only for memory. */
int qr_snapshot_take(qr_snapshot *s, const char *path, char *text, size_t len, char ***omitted);
/* Appends "path: reason" (or "path: larger than N bytes") to *omitted as above. */
int qr_snapshot_omit(char ***omitted, const char *path, const char *reason);
int qr_snapshot_omit_too_big(char ***omitted, const char *path, size_t max_bytes);
/* Adds one file from memory (the editor's buffer); copies `text`. */
int qr_snapshot_add(qr_snapshot *s, const char *path, const char *text, size_t len);
qr_snapshot *qr_snapshot_new(void);
void qr_snapshot_free(qr_snapshot *s);
void qr_snapshot_free_omitted(char **omitted);

/* The file with `path`, or NULL. Borrowed. */
const qr_snapshot_file *qr_snapshot_find(const qr_snapshot *s, const char *path);
/* Line `line` (1-based) of f: *start points into f->text, *len excludes the newline (and a CR
 * before it). Returns false when the line is out of range. */
bool qr_snapshot_line(const qr_snapshot_file *f, int line, const char **start, size_t *len);

#endif
