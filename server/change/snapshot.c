/* snapshot.c — reads the new side of the reviewed files once, below the repository root,
 * and indexes their lines.
 *
 * The diff comes from outside, so its paths are not trusted: absolute paths, `..`
 * components and anything whose realpath leaves realpath(root) (a symlink pointing out)
 * are refused before any byte is read. Files that cannot be used — missing, too large,
 * binary — are skipped with a reason so the review can say what it did not look at. */
#include "change/snapshot.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "change/languages.h"

#define BINARY_SNIFF_BYTES 8192 /* like git (which looks at 8000): a NUL early on means binary */

/* ---- one file ---------------------------------------------------------------------- */

/* Fills f->line_starts for f->text; a trailing newline does not start another line. */
static int index_lines(qr_snapshot_file *f) {
  size_t n = 0;
  for (size_t i = 0; i < f->len; i++)
    if (f->text[i] == '\n' && i + 1 < f->len) n++;
  if (f->len) n++;
  f->line_starts = qr_malloc((n ? n : 1) * sizeof *f->line_starts);
  if (!f->line_starts) return QR_E_NOMEM;
  size_t k = 0;
  if (f->len) f->line_starts[k++] = 0;
  for (size_t i = 0; i + 1 < f->len; i++)
    if (f->text[i] == '\n') f->line_starts[k++] = i + 1;
  f->n_lines = n;
  return QR_OK;
}

static void file_clear(qr_snapshot_file *f) {
  qr_free(f->path);
  qr_free(f->text);
  qr_free(f->line_starts);
  memset(f, 0, sizeof *f);
}

/* Fills *f from a path and text it takes ownership of (both freed on failure). */
static int file_init(qr_snapshot_file *f, char *path, char *text, size_t len) {
  memset(f, 0, sizeof *f);
  f->path = path;
  f->text = text;
  f->len = len;
  f->lang = qr_language_for_path(path);
  int rc = index_lines(f);
  if (rc) file_clear(f);
  return rc;
}

/* Appends a file to s, or replaces the one with the same path (an editor buffer that
 * changed again); takes ownership of path and text. */
static int put_file(qr_snapshot *s, char *path, char *text, size_t len) {
  qr_snapshot_file fresh;
  int rc = file_init(&fresh, path, text, len);
  if (rc) return rc;
  qr_snapshot_file *slot = (qr_snapshot_file *)qr_snapshot_find(s, fresh.path);
  if (slot) {
    file_clear(slot);
  } else {
    qr_snapshot_file *files = qr_realloc(s->files, (s->n_files + 1) * sizeof *files);
    if (!files) {
      file_clear(&fresh);
      return QR_E_NOMEM;
    }
    s->files = files;
    slot = &s->files[s->n_files++];
  }
  *slot = fresh;
  return QR_OK;
}

/* ---- public API ------------------------------------------------------------------- */

qr_snapshot *qr_snapshot_new(void) { return qr_calloc(1, sizeof(qr_snapshot)); }

void qr_snapshot_free(qr_snapshot *s) {
  if (!s) return;
  for (size_t i = 0; i < s->n_files; i++) file_clear(&s->files[i]);
  qr_free(s->files);
  qr_free(s);
}

void qr_snapshot_free_omitted(char **omitted) {
  if (!omitted) return;
  for (char **p = omitted; *p; p++) qr_free(*p);
  qr_free(omitted);
}

int qr_snapshot_add(qr_snapshot *s, const char *path, const char *text, size_t len) {
  if (!s || !path || (!text && len)) return QR_E_INVAL;
  char *p = qr_strdup(path), *t = qr_malloc(len + 1);
  if (!p || !t) {
    qr_free(p);
    qr_free(t);
    return QR_E_NOMEM;
  }
  if (len) memcpy(t, text, len);
  t[len] = '\0';
  return put_file(s, p, t, len);
}

const qr_snapshot_file *qr_snapshot_find(const qr_snapshot *s, const char *path) {
  if (!s || !path) return NULL;
  for (size_t i = 0; i < s->n_files; i++)
    if (!strcmp(s->files[i].path, path)) return &s->files[i];
  return NULL;
}

bool qr_snapshot_line(const qr_snapshot_file *f, int line, const char **start, size_t *len) {
  if (!f || line < 1 || (size_t)line > f->n_lines) return false;
  size_t b = f->line_starts[line - 1];
  size_t e = (size_t)line < f->n_lines ? f->line_starts[line] : f->len;
  if (e > b && f->text[e - 1] == '\n') {
    e--;
    if (e > b && f->text[e - 1] == '\r') e--;
  }
  *start = f->text + b;
  *len = e - b;
  return true;
}

/* ---- reading from the repository ---------------------------------------------------- */

int qr_snapshot_omit(char ***omitted, const char *path, const char *reason) {
  size_t n = 0;
  while (*omitted && (*omitted)[n]) n++;
  char **items = qr_realloc(*omitted, (n + 2) * sizeof *items);
  if (!items) return QR_E_NOMEM;
  *omitted = items;
  items[n] = NULL;
  if (!(items[n] = qr_asprintf("%s: %s", path, reason))) return QR_E_NOMEM;
  items[n + 1] = NULL;
  return QR_OK;
}

int qr_snapshot_take(qr_snapshot *s, const char *path, char *text, size_t len, char ***omitted) {
  if (memchr(text, '\0', QR_MIN(len, (size_t)BINARY_SNIFF_BYTES))) {
    qr_free(text);
    return qr_snapshot_omit(omitted, path, "binary");
  }
  char *p = qr_strdup(path);
  if (!p) {
    qr_free(text);
    return QR_E_NOMEM;
  }
  return put_file(s, p, text, len);
}

/* True when `path` (repository-relative, from the diff) is absolute or has a `..` part. */
static bool escapes_lexically(const char *path) {
  if (path[0] == '/') return true;
  for (const char *c = path; *c;) {
    size_t n = strcspn(c, "/");
    if (n == 2 && c[0] == '.' && c[1] == '.') return true;
    c += n + (c[n] == '/');
  }
  return false;
}

/* Sets *real to the realpath of real_root/path (free() it: libc allocated) when that stays
 * inside real_root; otherwise *real is NULL and *why says why. Errors only for memory. */
static int resolve(const char *real_root, const char *path, char **real, const char **why) {
  *real = NULL;
  *why = "outside the repository";
  if (escapes_lexically(path)) return QR_OK;
  char *full = qr_asprintf("%s/%s", real_root, path);
  if (!full) return QR_E_NOMEM;
  char *r = realpath(full, NULL);
  int saved = errno;
  qr_free(full);
  if (!r) {
    *why = strerror(saved);
    return QR_OK;
  }
  size_t rl = strlen(real_root);
  if (!strncmp(r, real_root, rl) && (r[rl] == '/' || !strcmp(real_root, "/"))) *real = r;
  else free(r);
  return QR_OK;
}

/* True when every line the diff adds to df is the line `text` holds at its number: the file
 * is the diff's new side (a diff given with --diff may not be what the root holds). A diff not
 * parsed from text carries no line hashes and is not checked. */
static bool holds_new_side(const qr_diff_file *df, const char *text, size_t len) {
  size_t pos = 0;
  int line = 1;
  for (size_t i = 0; i < df->n_hunks; i++) {
    const qr_hunk *h = &df->hunks[i];
    for (size_t k = 0; h->added_hash && k < h->n_added; k++) {
      for (; line < h->added[k] && pos < len; line++) {
        const char *nl = memchr(text + pos, '\n', len - pos);
        pos = nl ? (size_t)(nl - text) + 1 : len;
      }
      if (line != h->added[k] || pos >= len) return false;
      const char *nl = memchr(text + pos, '\n', len - pos);
      if (qr_diff_line_hash(text + pos, (nl ? (size_t)(nl - text) : len) - pos) != h->added_hash[k])
        return false;
    }
  }
  return true;
}

/* Reads real_root/path into the snapshot, or records in *omitted why not. Returns an error
 * only for out-of-memory. */
static int read_one(qr_snapshot *s, const char *real_root, const qr_diff_file *df,
                    size_t max_bytes, char ***omitted) {
  const char *path = df->path;
  char *real;
  const char *why;
  int rc = resolve(real_root, path, &real, &why);
  if (rc) return rc;
  if (!real) return qr_snapshot_omit(omitted, path, why);
  char *text = NULL;
  size_t len = 0;
  rc = qr_read_file(real, max_bytes, &text, &len, NULL);
  free(real);
  if (rc == QR_E_NOMEM) return rc;
  if (rc == QR_E_TOOBIG) return qr_snapshot_omit_too_big(omitted, path, max_bytes);
  if (rc) return qr_snapshot_omit(omitted, path, qr_strerror(rc));
  if (!holds_new_side(df, text, len)) {
    qr_free(text);
    return qr_snapshot_omit(omitted, path, QR_SNAPSHOT_NOT_NEW_SIDE);
  }
  return qr_snapshot_take(s, path, text, len, omitted);
}

int qr_snapshot_omit_too_big(char ***omitted, const char *path, size_t max_bytes) {
  char reason[64];
  snprintf(reason, sizeof reason, "larger than %zu bytes", max_bytes);
  return qr_snapshot_omit(omitted, path, reason);
}

int qr_snapshot_from_diff(const qr_diff *diff, const char *root, size_t max_file_bytes,
                          qr_snapshot **out, char ***omitted, qr_err *e) {
  if (!diff || !root || !out || !omitted)
    return qr_err_set(e, QR_E_INVAL, "qr_snapshot_from_diff: missing argument");
  char *real_root = realpath(root, NULL);
  if (!real_root)
    return qr_err_set(e, errno == ENOENT ? QR_E_NOTFOUND : QR_E_IO,
                      "cannot open the repository root %s: %s", root, strerror(errno));
  qr_snapshot *s = qr_snapshot_new();
  char **o = qr_calloc(1, sizeof(char *));
  int rc = s && o ? QR_OK : QR_E_NOMEM;
  for (size_t i = 0; !rc && i < diff->n_files; i++)
    if (qr_diff_file_reviewable(&diff->files[i]))
      rc = read_one(s, real_root, &diff->files[i], max_file_bytes, &o);
  free(real_root);
  if (rc) {
    qr_snapshot_free(s);
    qr_snapshot_free_omitted(o);
    return qr_err_set(e, rc, "cannot build the snapshot: %s", qr_strerror(rc));
  }
  *out = s;
  *omitted = o;
  return QR_OK;
}
