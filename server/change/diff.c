/* diff.c — parses git's unified diff text into files, hunks and added-line numbers.
 *
 * One pass over the input, line by line, through a small state machine: garbage before a
 * file (commit messages, format-patch preambles) is skipped; a file starts at `diff --git`
 * or at a `---` line followed by `+++`; hunks are read exactly as far as their header's
 * counts say, so a count that lies is caught where it stops matching. File names come from
 * the most reliable line available: rename/copy lines, then ---/+++, then the `diff --git`
 * header (only unambiguous when both names are equal, which is the case when nothing else
 * names the file). Lookups binary-search the hunks, which the parser keeps in order. */
#include "change/diff.h"

#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

typedef enum {
  S_PRE,    /* outside any file: skipping until a file header */
  S_HEADER, /* after `diff --git`, before the first hunk */
  S_HUNK,   /* inside a hunk with lines still owed */
  S_AFTER,  /* after a complete hunk (or a plain ---/+++ pair) */
  S_BINARY, /* inside a GIT binary patch block */
} state;

/* The names a file's header lines give; the final path is chosen when the file ends. */
typedef struct {
  char *git_old, *git_new;   /* from `diff --git` (prefix stripped), may be NULL */
  char *minus, *plus;        /* from ---/+++ (prefix stripped), NULL when absent or /dev/null */
  bool minus_null, plus_null; /* the ---/+++ side was /dev/null */
  bool have_minus_plus;
  char *from, *to;           /* rename/copy from/to */
  bool new_file, deleted, renamed, copied, mode_change, symlink, submodule;
  bool git;                  /* the file began with `diff --git` */
} names;

typedef struct {
  const char *text;
  size_t len, pos;  /* pos: start of the next line */
  int lineno;       /* 1-based number of the current line */
  const char *line; /* current line without its "\n" or "\r\n" */
  size_t line_len;
  state st;
  names nm;
  qr_diff *d;
  qr_diff_file *f;  /* the file being read, the last of d->files; NULL in S_PRE */
  size_t files_alloc, hunks_alloc, added_alloc, hash_alloc;
  int rem_old, rem_new, next_old, next_new, hunk_line;
  char last_kind;   /* ' ', '+' or '-' of the last hunk body line */
  qr_err *e;
} parser;

/* ---- small helpers --------------------------------------------------------------------- */

static bool starts(const char *s, size_t n, const char *prefix) {
  size_t p = strlen(prefix);
  return n >= p && memcmp(s, prefix, p) == 0;
}

/* Doubles *alloc until it holds `need` elements of `size`; the array moves on success. */
static int grow(void **arr, size_t *alloc, size_t need, size_t size) {
  if (need <= *alloc) return QR_OK;
  size_t n = *alloc ? *alloc : 4;
  while (n < need) n *= 2;
  if (n > SIZE_MAX / size) return QR_E_NOMEM;
  void *p = qr_realloc(*arr, n * size);
  if (!p) return QR_E_NOMEM;
  *arr = p;
  *alloc = n;
  return QR_OK;
}

/* A QR_E_PARSE error naming the current diff line. */
__attribute__((format(printf, 2, 3))) static int perr(parser *p, const char *fmt, ...) {
  char msg[400];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  return qr_err_set(p->e, QR_E_PARSE, "line %d: %s", p->lineno, msg);
}

static int nomem(parser *p) {
  return qr_err_set(p->e, QR_E_NOMEM, "line %d: out of memory", p->lineno);
}

/* Moves to the next line; false at the end of the input. */
static bool next_line(parser *p) {
  if (p->pos >= p->len) return false;
  const char *s = p->text + p->pos;
  const char *nl = memchr(s, '\n', p->len - p->pos);
  size_t n = nl ? (size_t)(nl - s) : p->len - p->pos;
  p->pos += n + (nl ? 1 : 0);
  if (n && s[n - 1] == '\r') n--; /* CRLF diffs: only the CR that ends the diff line */
  p->line = s;
  p->line_len = n;
  p->lineno++;
  return true;
}

/* True when the line after the current one starts with `prefix` (no state change). */
static bool peek_starts(const parser *p, const char *prefix) {
  return starts(p->text + p->pos, p->len - p->pos, prefix);
}

/* ---- paths --------------------------------------------------------------------------- */

/* Decodes a git C-style quoted name starting at s[0] == '"'. On success *out is a new
 * string and *used the bytes consumed including both quotes. */
static int unquote(const char *s, size_t n, char **out, size_t *used) {
  qr_buf b;
  qr_buf_init(&b, n);
  size_t i = 1;
  int rc = QR_E_PARSE;
  while (i < n) {
    unsigned char c = (unsigned char)s[i++];
    if (c == '"') {
      rc = b.len ? QR_OK : QR_E_PARSE; /* an empty name is no name */
      break;
    }
    if (c == '\\') {
      if (i >= n) break;
      c = (unsigned char)s[i++];
      static const char esc[] = "a\ab\bf\fn\nr\rt\tv\v\"\"\\\\"; /* letter, byte pairs */
      const char *m = strchr(esc, c);
      if (c && m && (m - esc) % 2 == 0) {
        c = (unsigned char)m[1];
      } else if (c >= '0' && c <= '3' && i + 1 < n && s[i] >= '0' && s[i] <= '7' &&
                 s[i + 1] >= '0' && s[i + 1] <= '7') {
        c = (unsigned char)((c - '0') * 64 + (s[i] - '0') * 8 + (s[i + 1] - '0'));
        i += 2;
      } else {
        break;
      }
      if (!c) break; /* a NUL cannot be part of a path */
    }
    if (qr_buf_append(&b, &c, 1)) {
      rc = QR_E_NOMEM;
      break;
    }
  }
  if (!rc) {
    *out = qr_buf_detach(&b, NULL);
    if (!*out) rc = QR_E_NOMEM;
    *used = i;
  }
  qr_buf_free(&b);
  return rc;
}

/* git's one-letter prefix of `name` ("a/", "b/" or diff.mnemonicPrefix's "c/", "i/", "o/",
 * "w/"), or 0. */
static char prefix_of(const char *name) {
  return name && name[0] && strchr("abcoiw", name[0]) && name[1] == '/' && name[2] ? name[0] : 0;
}

/* True when an old name `o` and a new name `n` carry a pair of prefixes git writes: a/ b/, or
 * a mnemonic pair in either order (-R swaps them). A side that is /dev/null (NULL) matches any
 * prefix of the other. Without this, diff.noprefix's "src/x.c" would lose its "src/". */
static bool prefix_pair(const char *o, const char *n) {
  static const char *const pairs[] = {"ab", "iw", "wi", "cw", "wc", "ci", "ic", "ow", "wo"};
  char po = prefix_of(o), pn = prefix_of(n);
  if (!o || !n) return po || pn;
  for (size_t i = 0; i < QR_ARRAY_LEN(pairs); i++)
    if (pairs[i][0] == po && pairs[i][1] == pn) return true;
  return false;
}

/* Drops the one-letter prefix prefix_of() sees, in place (`git apply -p1`). */
static void strip_prefix(char *name) {
  if (prefix_of(name)) memmove(name, name + 2, strlen(name + 2) + 1);
}

/* unquote() for a header line: errors become messages naming the line. */
static int read_quoted(parser *p, const char *s, size_t n, char **out, size_t *used) {
  int rc = unquote(s, n, out, used);
  if (rc == QR_E_NOMEM) return nomem(p);
  return rc ? perr(p, "badly quoted file name") : QR_OK;
}

/* Reads the name of a ---/+++ line (after the 4-byte marker): quoted, or up to a tab
 * (GNU diff appends a timestamp after one). *out stays NULL for /dev/null. */
static int marker_name(parser *p, char **out, bool *is_null) {
  const char *s = p->line + 4;
  size_t n = p->line_len - 4, used;
  *out = NULL;
  *is_null = false;
  if (n && s[0] == '"') {
    int rc = read_quoted(p, s, n, out, &used);
    if (rc) return rc;
  } else {
    const char *tab = memchr(s, '\t', n);
    if (tab) n = (size_t)(tab - s);
    if (!n) return perr(p, "empty file name");
    if (!(*out = qr_strndup(s, n))) return nomem(p);
  }
  if (!strcmp(*out, "/dev/null")) {
    qr_free(*out);
    *out = NULL;
    *is_null = true;
  }
  return QR_OK;
}

/* Splits `diff --git A B`. Quoted names are exact; two unquoted names are split where both
 * halves name the same file, and otherwise left NULL for the rename/---/+++ lines to name. */
static int git_header_names(parser *p) {
  const char *s = p->line + 11;
  size_t n = p->line_len - 11;
  names *nm = &p->nm;
  size_t used = 0;
  int rc = QR_OK;
  if (n && s[0] == '"') {
    rc = unquote(s, n, &nm->git_old, &used);
    if (!rc && (used + 1 >= n || s[used] != ' ')) rc = QR_E_PARSE;
    if (!rc && s[used + 1] == '"') {
      size_t used2;
      rc = unquote(s + used + 1, n - used - 1, &nm->git_new, &used2);
    } else if (!rc && !(nm->git_new = qr_strndup(s + used + 1, n - used - 1))) {
      rc = QR_E_NOMEM;
    }
  } else if (n && s[n - 1] == '"') {
    const char *q = NULL; /* the opening quote of the second name: after the last ' "' */
    for (size_t i = 0; i + 1 < n; i++)
      if (s[i] == ' ' && s[i + 1] == '"') q = s + i + 1;
    if (!q) return perr(p, "badly quoted file name");
    if (!(nm->git_old = qr_strndup(s, (size_t)(q - s) - 1))) rc = QR_E_NOMEM;
    if (!rc) rc = unquote(q, n - (size_t)(q - s), &nm->git_new, &used);
  } else if (n % 2 == 1 && s[n / 2] == ' ') {
    size_t half = n / 2;
    const char *a = memchr(s, '/', half), *b = memchr(s + half + 1, '/', half);
    size_t ao = a ? (size_t)(a - s) + 1 : 0, bo = b ? (size_t)(b - (s + half + 1)) + 1 : 0;
    if (ao == bo && !memcmp(s + ao, s + half + 1 + bo, half - ao)) {
      if (!(nm->git_old = qr_strndup(s, half)) || !(nm->git_new = qr_strndup(s + half + 1, half)))
        rc = QR_E_NOMEM;
    }
  }
  if (rc == QR_E_NOMEM) return nomem(p);
  return rc ? perr(p, "badly quoted file name") : QR_OK;
}

/* Stores the rest of the current line after `prefix` (quoted or raw) into *slot. */
static int header_value(parser *p, size_t prefix, char **slot) {
  const char *s = p->line + prefix;
  size_t n = p->line_len - prefix;
  qr_free(*slot);
  *slot = NULL;
  size_t used;
  if (n && s[0] == '"') return read_quoted(p, s, n, slot, &used);
  if (!n) return perr(p, "empty file name");
  return (*slot = qr_strndup(s, n)) ? QR_OK : nomem(p);
}

/* Notes from a header's new mode whether the new side is not a file's text at all. */
static void new_mode(names *nm, const char *s, size_t n) {
  nm->symlink = starts(s, n, "120000");
  nm->submodule = starts(s, n, "160000");
}

static void names_clear(names *nm) {
  qr_free(nm->git_old);
  qr_free(nm->git_new);
  qr_free(nm->minus);
  qr_free(nm->plus);
  qr_free(nm->from);
  qr_free(nm->to);
  memset(nm, 0, sizeof *nm);
}

/* ---- files and hunks ---------------------------------------------------------------- */

static int begin_file(parser *p) {
  if (grow((void **)&p->d->files, &p->files_alloc, p->d->n_files + 1, sizeof *p->d->files))
    return nomem(p);
  p->f = &p->d->files[p->d->n_files++];
  memset(p->f, 0, sizeof *p->f);
  p->hunks_alloc = 0;
  names_clear(&p->nm);
  return QR_OK;
}

/* Moves a string out of its slot, leaving NULL behind. */
static char *take(char **src) {
  char *s = *src;
  *src = NULL;
  return s;
}

/* The length of `name`'s first folder with its slash, 0 when it has none. */
static size_t first_folder(const char *name) {
  const char *slash = name ? strchr(name, '/') : NULL;
  return slash && slash != name ? (size_t)(slash - name) + 1 : 0;
}

/* Drops n bytes from the front of *name when it starts with `prefix` (n bytes). */
static void drop_front(char *name, const char *prefix, size_t n) {
  if (name && !strncmp(name, prefix, n)) memmove(name, name + n, strlen(name + n) + 1);
}

/* `git diff --src-prefix=X/ --dst-prefix=Y/`: without a rename, the `diff --git` names differ
 * only in their first folder, which git apply -p1 drops too. Strips it from every name. */
static void strip_own_prefixes(names *nm) {
  size_t a = first_folder(nm->git_old), b = first_folder(nm->git_new);
  if (!a || !b || (a == b && !memcmp(nm->git_old, nm->git_new, a)) ||
      strcmp(nm->git_old + a, nm->git_new + b))
    return;
  char *pa = qr_strndup(nm->git_old, a), *pb = qr_strndup(nm->git_new, b);
  if (pa && pb) {
    drop_front(nm->minus, pa, a);
    drop_front(nm->plus, pb, b);
    drop_front(nm->git_old, pa, a);
    drop_front(nm->git_new, pb, b);
  }
  qr_free(pa);
  qr_free(pb);
}

/* Strips the prefixes of the ---/+++ names and of the `diff --git` names, each pair only when
 * both sides carry a pair git writes (rename/copy lines never have one). */
static void strip_prefixes(names *nm) {
  if (nm->have_minus_plus && prefix_pair(nm->minus, nm->plus)) {
    strip_prefix(nm->minus);
    strip_prefix(nm->plus);
  }
  if (nm->git_old && nm->git_new && prefix_pair(nm->git_old, nm->git_new)) {
    strip_prefix(nm->git_old);
    strip_prefix(nm->git_new);
  } else if (!nm->renamed && !nm->copied) {
    strip_own_prefixes(nm);
  }
}

/* Chooses path, old_path and status once every header line of the file has been seen. */
static int finish_file(parser *p) {
  qr_diff_file *f = p->f;
  names *nm = &p->nm;
  if (!f) return QR_OK;
  p->f = NULL;
  strip_prefixes(nm);
  if (nm->renamed || nm->copied) {
    f->status = nm->renamed ? QR_FILE_RENAMED : QR_FILE_COPIED;
    f->path = take(&nm->to);
    f->old_path = take(&nm->from);
  } else if (nm->new_file || (nm->have_minus_plus && nm->minus_null && !nm->plus_null)) {
    f->status = QR_FILE_ADDED;
  } else if (nm->deleted || (nm->have_minus_plus && nm->plus_null && !nm->minus_null)) {
    f->status = QR_FILE_DELETED;
  } else if (!nm->git && f->n_hunks == 1) {
    /* `diff -N` names a missing side by its real path; its one hunk is -0,0 or +0,0 */
    const qr_hunk *h = &f->hunks[0];
    if (!h->old_start && !h->old_count) f->status = QR_FILE_ADDED;
    if (!h->new_start && !h->new_count) f->status = QR_FILE_DELETED;
  }
  if (!f->path) f->path = take(nm->plus ? &nm->plus : nm->git_new ? &nm->git_new : &nm->minus);
  if (!f->path) f->path = take(nm->minus ? &nm->minus : &nm->git_old);
  f->symlink = nm->symlink;
  f->submodule = nm->submodule;
  f->mode_only = nm->mode_change && f->status == QR_FILE_MODIFIED && !f->binary && !f->n_hunks;
  bool ok = f->path && *f->path && (!(nm->renamed || nm->copied) || f->old_path);
  names_clear(nm);
  if (!ok) return perr(p, "cannot tell the file's name from its header");
  return QR_OK;
}

/* Parses a decimal count into *v (no sign, no overflow); advances *s. */
static bool parse_num(const char **s, const char *end, int *v) {
  if (*s >= end || **s < '0' || **s > '9') return false;
  long long x = 0;
  while (*s < end && **s >= '0' && **s <= '9') {
    x = x * 10 + (**s - '0');
    if (x > INT_MAX) return false;
    (*s)++;
  }
  *v = (int)x;
  return true;
}

/* Parses "-a[,b] +c[,d] @@" from *s; an omitted count means 1. */
static bool parse_range(const char **s, const char *end, char sign, int *start, int *count) {
  if (*s >= end || **s != sign) return false;
  (*s)++;
  if (!parse_num(s, end, start)) return false;
  *count = 1;
  if (*s < end && **s == ',') {
    (*s)++;
    if (!parse_num(s, end, count)) return false;
  }
  /* a non-empty range starts at line 1 or later and must not overflow */
  return (*count == 0 || *start >= 1) && *start <= INT_MAX - *count;
}

static int begin_hunk(parser *p) {
  const char *s = p->line + 3, *end = p->line + p->line_len;
  qr_hunk h = {0};
  if (!parse_range(&s, end, '-', &h.old_start, &h.old_count) || s >= end || *s++ != ' ' ||
      !parse_range(&s, end, '+', &h.new_start, &h.new_count) || end - s < 3 ||
      memcmp(s, " @@", 3))
    return perr(p, "malformed hunk header");
  qr_diff_file *f = p->f;
  if (f->n_hunks) {
    const qr_hunk *prev = &f->hunks[f->n_hunks - 1];
    if (h.new_start < prev->new_start + prev->new_count)
      return perr(p, "hunk overlaps or precedes the one before it");
  }
  if (grow((void **)&f->hunks, &p->hunks_alloc, f->n_hunks + 1, sizeof *f->hunks))
    return nomem(p);
  f->hunks[f->n_hunks++] = h;
  p->added_alloc = p->hash_alloc = 0;
  p->rem_old = h.old_count;
  p->rem_new = h.new_count;
  p->next_old = h.old_start;
  p->next_new = h.new_start;
  p->hunk_line = p->lineno;
  p->last_kind = 0;
  p->st = (p->rem_old || p->rem_new) ? S_HUNK : S_AFTER;
  return QR_OK;
}

/* Appends a removed line of the old side's top to f->removed_head, within its cap. */
static int keep_removed(qr_diff_file *f, const char *line, size_t n) {
  n = QR_MIN(n, QR_DIFF_HEAD_BYTES - f->removed_head_len);
  if (!n && f->removed_head_len == QR_DIFF_HEAD_BYTES) return QR_OK;
  char *head = qr_realloc(f->removed_head, f->removed_head_len + n + 2);
  if (!head) return QR_E_NOMEM;
  memcpy(head + f->removed_head_len, line, n);
  f->removed_head_len += n;
  if (f->removed_head_len < QR_DIFF_HEAD_BYTES) head[f->removed_head_len++] = '\n';
  head[f->removed_head_len] = '\0';
  f->removed_head = head;
  return QR_OK;
}

/* One line of a hunk's body; errors name the hunk whose count does not match. */
static int hunk_line(parser *p) {
  /* an empty line is a context line whose trailing space some tool stripped */
  char kind = p->line_len ? p->line[0] : ' ';
  if (kind == '\\') { /* "\ No newline at end of file" describes the line before it */
    if (p->last_kind == '+' || p->last_kind == ' ') p->f->no_newline_at_end = true;
    return QR_OK;
  }
  if (kind != ' ' && kind != '+' && kind != '-')
    return perr(p, "the hunk at line %d has fewer lines than its header says", p->hunk_line);
  bool old_side = kind != '+', new_side = kind != '-';
  if ((old_side && !p->rem_old) || (new_side && !p->rem_new))
    return perr(p, "the hunk at line %d has more %s lines than its header says", p->hunk_line,
                kind == ' ' ? "context" : kind == '+' ? "added" : "removed");
  p->last_kind = kind;
  if (new_side) p->f->no_newline_at_end = false; /* only the new side's last line counts */
  p->rem_old -= old_side;
  p->rem_new -= new_side;
  if (kind == '+') {
    qr_hunk *h = &p->f->hunks[p->f->n_hunks - 1];
    if (grow((void **)&h->added, &p->added_alloc, h->n_added + 1, sizeof *h->added) ||
        grow((void **)&h->added_hash, &p->hash_alloc, h->n_added + 1, sizeof *h->added_hash))
      return nomem(p);
    h->added_hash[h->n_added] = qr_diff_line_hash(p->line + 1, p->line_len - 1);
    h->added[h->n_added++] = p->next_new;
  }
  if (kind == '-' && p->next_old <= QR_DIFF_HEAD_LINES &&
      keep_removed(p->f, p->line + 1, p->line_len - 1))
    return nomem(p);
  p->next_old += old_side;
  p->next_new += new_side;
  if (!p->rem_old && !p->rem_new) p->st = S_AFTER;
  return QR_OK;
}

/* ---- the line dispatcher -------------------------------------------------------------- */

/* Reads a ---/+++ pair (the current line and the next) into the file's names. */
static int marker_pair(parser *p) {
  names *nm = &p->nm;
  qr_free(nm->minus);
  int rc = marker_name(p, &nm->minus, &nm->minus_null);
  if (rc) return rc;
  next_line(p);
  qr_free(nm->plus);
  rc = marker_name(p, &nm->plus, &nm->plus_null);
  if (rc) return rc;
  nm->have_minus_plus = true;
  p->st = S_AFTER;
  return QR_OK;
}

/* An extended header line between `diff --git` and the first hunk. */
static int header_line(parser *p) {
  const char *s = p->line;
  size_t n = p->line_len;
  names *nm = &p->nm;
  if (starts(s, n, "old mode ") || starts(s, n, "new mode ")) {
    nm->mode_change = true;
    if (s[0] == 'n') new_mode(nm, s + 9, n - 9);
  } else if (starts(s, n, "index ") && n > 13 && s[n - 7] == ' ') {
    new_mode(nm, s + n - 6, 6); /* "index OLD..NEW MODE": the mode both sides keep */
  } else if (starts(s, n, "new file mode ")) {
    nm->new_file = true;
    new_mode(nm, s + 14, n - 14);
  } else if (starts(s, n, "deleted file mode ")) {
    nm->deleted = true;
  } else if (starts(s, n, "rename from ") || starts(s, n, "copy from ")) {
    bool is_rename = s[0] == 'r';
    nm->renamed |= is_rename;
    nm->copied |= !is_rename;
    return header_value(p, is_rename ? 12 : 10, &nm->from);
  } else if (starts(s, n, "rename to ") || starts(s, n, "copy to ")) {
    return header_value(p, s[0] == 'r' ? 10 : 8, &nm->to);
  } else if (starts(s, n, "Binary files ")) {
    p->f->binary = true;
  } else if (starts(s, n, "GIT binary patch")) {
    p->f->binary = true;
    p->st = S_BINARY;
  } else if (starts(s, n, "--- ")) {
    if (!peek_starts(p, "+++ ")) return perr(p, "a --- line without the +++ line after it");
    return marker_pair(p);
  } else if (starts(s, n, "@@ ")) {
    return perr(p, "a hunk before the ---/+++ lines");
  }
  /* index, similarity index and unknown extended headers carry nothing we need */
  return QR_OK;
}

/* A line after a complete hunk: another hunk, the no-newline marker, or the end of the file. */
static int after_line(parser *p) {
  const char *s = p->line;
  size_t n = p->line_len;
  if (starts(s, n, "@@ ")) return begin_hunk(p);
  if (n && s[0] == '\\') return hunk_line(p);
  bool signature = n == 3 && !memcmp(s, "-- ", 3); /* format-patch's trailer */
  if (n && (s[0] == ' ' || s[0] == '+' || s[0] == '-') && !signature) {
    if (!p->f->n_hunks) return perr(p, "a diff line outside any hunk");
    return perr(p, "the hunk at line %d has more lines than its header says", p->hunk_line);
  }
  p->st = S_PRE;
  return finish_file(p);
}

static int parse_line(parser *p) {
  const char *s = p->line;
  size_t n = p->line_len;
  int rc;
  if (p->st != S_HUNK && starts(s, n, "diff --git ")) {
    if ((rc = finish_file(p)) || (rc = begin_file(p))) return rc;
    p->nm.git = true;
    p->st = S_HEADER;
    return git_header_names(p);
  }
  if (p->st != S_HUNK && p->st != S_HEADER && starts(s, n, "--- ") && peek_starts(p, "+++ ")) {
    if ((rc = finish_file(p)) || (rc = begin_file(p))) return rc;
    return marker_pair(p);
  }
  switch (p->st) {
  case S_HEADER: return header_line(p);
  case S_HUNK: return hunk_line(p);
  case S_AFTER: return after_line(p);
  case S_PRE:
  case S_BINARY: return QR_OK; /* commit messages, trailers and base85 data are skipped */
  }
  return QR_OK;
}

/* A copy of text without its terminal escape sequences (`git diff --color=always`, `| less -R`
 * captures): CSI (ESC [ … final byte), other ESC-letter pairs, OSC up to BEL or ST. Git quotes
 * escape bytes in file names, so none of the diff's structure is lost. New string or NULL. */
static char *strip_escapes(const char *text, size_t len, size_t *out_len) {
  char *out = qr_malloc(len + 1);
  if (!out) return NULL;
  size_t n = 0;
  for (size_t i = 0; i < len;) {
    if (text[i] != '\x1b') {
      out[n++] = text[i++];
      continue;
    }
    i++;
    if (i < len && text[i] == '[') { /* CSI: parameters and intermediates, then 0x40–0x7e */
      for (i++; i < len && (text[i] < 0x40 || text[i] > 0x7e) && text[i] != '\n'; i++) {
      }
      i += i < len && text[i] != '\n';
    } else if (i < len && text[i] == ']') { /* OSC: up to BEL or ESC \ */
      while (i < len && text[i] != '\a' && text[i] != '\x1b' && text[i] != '\n') i++;
      i += i < len && text[i] == '\a';
    } else if (i < len && text[i] != '\n') {
      i++;
    }
  }
  out[n] = '\0';
  *out_len = n;
  return out;
}

/* True when text holds more than blank space. */
static bool has_text(const char *text, size_t len) {
  for (size_t i = 0; i < len; i++)
    if (!strchr(" \t\r\n", text[i])) return true;
  return false;
}

/* A file named twice (a `git format-patch` series touching it in two commits) would be
 * reviewed twice with only one commit's lines marked: refused. A deletion followed by an
 * addition of the same path (a symlink made a file) is git's own way of writing one change. */
static int check_repeats(const qr_diff *d, qr_err *e) {
  for (size_t i = 0; i < d->n_files; i++)
    for (size_t j = i + 1; j < d->n_files; j++)
      if (d->files[i].status != QR_FILE_DELETED && d->files[j].status != QR_FILE_DELETED &&
          !strcmp(d->files[i].path, d->files[j].path))
        return qr_err_set(e, QR_E_PARSE,
                          "%s appears twice in the diff (a patch series?): review the combined "
                          "change, e.g. `git diff FIRST^..LAST`",
                          d->files[i].path);
  return QR_OK;
}

static int parse(const char *text, size_t len, qr_diff **out, qr_err *e) {
  parser p = {.text = text, .len = len, .st = S_PRE, .e = e};
  if (!(p.d = qr_calloc(1, sizeof *p.d))) return qr_err_set(e, QR_E_NOMEM, "out of memory");
  int rc = QR_OK;
  while (!rc && next_line(&p)) rc = parse_line(&p);
  if (!rc && p.st == S_HUNK) {
    rc = perr(&p, "the diff ends inside the hunk at line %d", p.hunk_line);
  }
  if (!rc) rc = finish_file(&p);
  if (!rc && !p.d->n_files && has_text(text, len))
    rc = qr_err_set(e, QR_E_PARSE, "not a diff: no file header (`diff --git` or a ---/+++ "
                                   "pair) in %d lines of input",
                    p.lineno);
  if (!rc) rc = check_repeats(p.d, e);
  names_clear(&p.nm);
  if (rc) {
    qr_diff_free(p.d);
    return rc;
  }
  *out = p.d;
  return QR_OK;
}

int qr_diff_parse(const char *text, size_t len, size_t max_bytes, qr_diff **out, qr_err *e) {
  if ((!text && len) || !out) return qr_err_set(e, QR_E_INVAL, "qr_diff_parse: no input");
  if (len > max_bytes)
    return qr_err_set(e, QR_E_TOOBIG, "the diff is %zu bytes, more than the %zu allowed", len,
                      max_bytes);
  if (!len || !memchr(text, '\x1b', len)) return parse(text, len, out, e);
  size_t plain_len;
  char *plain = strip_escapes(text, len, &plain_len);
  if (!plain) return qr_err_set(e, QR_E_NOMEM, "out of memory");
  int rc = parse(plain, plain_len, out, e);
  qr_free(plain);
  return rc;
}

static void file_free(qr_diff_file *f) {
  for (size_t j = 0; j < f->n_hunks; j++) {
    qr_free(f->hunks[j].added);
    qr_free(f->hunks[j].added_hash);
  }
  qr_free(f->hunks);
  qr_free(f->removed_head);
  qr_free(f->path);
  qr_free(f->old_path);
}

void qr_diff_remove(qr_diff *d, size_t i) {
  if (i >= d->n_files) return;
  file_free(&d->files[i]);
  memmove(&d->files[i], &d->files[i + 1], (d->n_files - i - 1) * sizeof *d->files);
  d->n_files--;
}

void qr_diff_free(qr_diff *d) {
  if (!d) return;
  for (size_t i = 0; i < d->n_files; i++) file_free(&d->files[i]);
  qr_free(d->files);
  qr_free(d);
}

/* ---- lookups ------------------------------------------------------------------------- */

const qr_diff_file *qr_diff_find(const qr_diff *d, const char *path) {
  if (!d || !path) return NULL;
  for (size_t i = 0; i < d->n_files; i++)
    if (d->files[i].path && !strcmp(d->files[i].path, path)) return &d->files[i];
  return NULL;
}

/* The hunk whose new-side range holds `line`: the last one starting at or before it
 * (hunks are ordered and disjoint, which the parser checks). */
static const qr_hunk *hunk_for_line(const qr_diff_file *f, int line) {
  if (!f) return NULL;
  size_t lo = 0, hi = f->n_hunks;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (f->hunks[mid].new_start <= line) lo = mid + 1;
    else hi = mid;
  }
  if (!lo) return NULL;
  const qr_hunk *h = &f->hunks[lo - 1];
  return line < h->new_start + h->new_count ? h : NULL;
}

bool qr_diff_line_in_hunks(const qr_diff_file *f, int line) {
  return hunk_for_line(f, line) != NULL;
}

bool qr_diff_line_added(const qr_diff_file *f, int line) {
  const qr_hunk *h = hunk_for_line(f, line);
  if (!h) return false;
  size_t lo = 0, hi = h->n_added;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (h->added[mid] == line) return true;
    if (h->added[mid] < line) lo = mid + 1;
    else hi = mid;
  }
  return false;
}

bool qr_diff_file_reviewable(const qr_diff_file *f) {
  if (!f || f->binary || f->symlink || f->submodule || f->status == QR_FILE_DELETED) return false;
  for (size_t i = 0; i < f->n_hunks; i++)
    if (f->hunks[i].n_added) return true;
  return false;
}

uint64_t qr_diff_line_hash(const char *line, size_t len) {
  if (len && line[len - 1] == '\r') len--;
  uint64_t h = 1469598103934665603ull; /* FNV-1a */
  for (size_t i = 0; i < len; i++) h = (h ^ (unsigned char)line[i]) * 1099511628211ull;
  return h;
}
