/* lsp_workspace.c — URIs, workspace confinement, the dismissed-findings list and new-file diffs.
 * Confinement is checked twice: lexically (no "." / ".." segments, even percent-encoded) and on
 * real paths (symlinks resolved), because either alone can be fooled. */
#include "lsp/lsp_workspace.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"

/* ---- URIs ------------------------------------------------------------------------------------ */

static int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

/* True when a path segment of `p` is "." or "..". */
static bool has_dot_segment(const char *p) {
  for (const char *s = p; *s;) {
    while (*s == '/') s++;
    size_t n = strcspn(s, "/");
    if ((n == 1 && s[0] == '.') || (n == 2 && s[0] == '.' && s[1] == '.')) return true;
    s += n;
  }
  return false;
}

char *qr_workspace_uri_to_path(const char *uri) {
  static const char scheme[] = "file://";
  if (!uri || strncmp(uri, scheme, sizeof scheme - 1)) return NULL;
  const char *p = uri + sizeof scheme - 1;
  if (!strncmp(p, "localhost/", 10)) p += 9;
  size_t n = strlen(p);
  /* A query or fragment has no place in a file URI (an encoded %3F / %23 is a path character). */
  if (p[0] != '/' || n > QR_WORKSPACE_MAX_PATH || p[strcspn(p, "?#")]) return NULL;
  char *out = qr_malloc(n + 1), *o = out;
  if (!out) return NULL;
  for (; *p; p++) {
    int hi, lo;
    if (*p != '%') {
      *o++ = *p;
    } else if ((hi = hex_value(p[1])) >= 0 && (lo = hex_value(p[2])) >= 0 && (hi || lo)) {
      *o++ = (char)(hi << 4 | lo);
      p += 2;
    } else {
      break; /* a bad escape or %00 */
    }
  }
  *o = '\0';
  if (*p || has_dot_segment(out)) {
    qr_free(out);
    return NULL;
  }
  return out;
}

char *qr_workspace_path_to_uri(const char *path) {
  qr_buf b;
  qr_buf_init(&b, 3 * QR_WORKSPACE_MAX_PATH + 16);
  int rc = qr_buf_puts(&b, "file://");
  for (const unsigned char *p = (const unsigned char *)path; !rc && *p; p++) {
    if ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
        strchr("-._~/", *p))
      rc = qr_buf_append(&b, p, 1);
    else
      rc = qr_buf_printf(&b, "%%%02X", *p);
  }
  if (rc) {
    qr_buf_free(&b);
    return NULL;
  }
  return qr_buf_detach(&b, NULL);
}

/* ---- confinement ----------------------------------------------------------------------------- */

/* True when real path `p` is `root` itself or below it. */
static bool below(const char *root, const char *p) {
  size_t n = strlen(root);
  if (n == 1) return p[0] == '/'; /* root "/" contains everything */
  return !strncmp(root, p, n) && (p[n] == '/' || p[n] == '\0');
}

/* The real path of `path`; when it does not exist yet, the real path of its longest existing
 * ancestor followed by the rest (a file about to be created is confined by where its
 * directory really is). Callers have already refused "." and ".." segments. */
static char *real_existing(const char *path) {
  char *p = qr_strdup(path), *out = NULL;
  size_t keep = p ? strlen(p) : 0; /* p[0..keep) is the prefix being resolved */
  while (p) {
    char *r = realpath(p, NULL);
    if (r) {
      out = qr_asprintf("%s%s", r, path + keep);
      free(r); /* realpath allocates with malloc */
      break;
    }
    char *slash = strrchr(p, '/');
    if (errno != ENOENT || !slash || slash == p) break;
    *slash = '\0';
    keep = (size_t)(slash - p);
  }
  qr_free(p);
  return out;
}

bool qr_workspace_rel_confined(const char *root, const char *rel) {
  if (!root || !rel || !*rel || rel[0] == '/' || has_dot_segment(rel)) return false;
  char *full = qr_asprintf("%s/%s", root, rel);
  char *rroot = real_existing(root), *rfull = full ? real_existing(full) : NULL;
  bool ok = rroot && rfull && below(rroot, rfull);
  qr_free(full);
  qr_free(rroot);
  qr_free(rfull);
  return ok;
}

bool qr_workspace_abs_confined(const char *root, const char *abs, char **rel_out) {
  if (rel_out) *rel_out = NULL;
  if (!root || !abs || abs[0] != '/' || has_dot_segment(abs)) return false;
  char *rroot = real_existing(root), *rabs = real_existing(abs);
  size_t n = rroot ? strlen(rroot) : 0;
  bool ok = rroot && rabs && below(rroot, rabs) && rabs[n] == '/';
  if (ok && rel_out) {
    *rel_out = qr_strdup(rabs + (n == 1 ? 1 : n + 1));
    ok = *rel_out != NULL;
  }
  qr_free(rroot);
  qr_free(rabs);
  return ok;
}

char *qr_workspace_config_path(const char *setting, qr_err *e) {
  const char *home = getenv("HOME");
  char *full = NULL;
  if (strlen(setting) > QR_WORKSPACE_MAX_PATH) {
    qr_err_set(e, QR_E_INVAL, "configFile is longer than %d bytes", QR_WORKSPACE_MAX_PATH);
    return NULL;
  }
  if (setting[0] == '/') {
    full = qr_strdup(setting);
  } else if (setting[0] == '~' && (!setting[1] || setting[1] == '/')) {
    if (!home || home[0] != '/') {
      qr_err_set(e, QR_E_INVAL, "configFile %s: $HOME is not an absolute path", setting);
      return NULL;
    }
    full = qr_asprintf("%s%s", home, setting + 1);
  } else {
    qr_err_set(e, QR_E_INVAL, "configFile %s is relative: give an absolute path or ~/…", setting);
    return NULL;
  }
  char *r = full ? realpath(full, NULL) : NULL, *out = NULL;
  struct stat st;
  if (!full) qr_err_set(e, QR_E_NOMEM, "out of memory");
  else if (!r) qr_err_set(e, errno == ENOENT ? QR_E_NOTFOUND : QR_E_IO, "configFile %s: %s", full, strerror(errno));
  else if (stat(r, &st) || !S_ISREG(st.st_mode))
    qr_err_set(e, QR_E_INVAL, "configFile %s is not a regular file", r);
  /* Whoever may write the file decides where the keys go: only the user (or root). */
  else if ((st.st_uid != geteuid() && st.st_uid != 0) || (st.st_mode & S_IWOTH))
    qr_err_set(e, QR_E_INVAL, "configFile %s is writable by others or owned by another user", r);
  else if (!(out = qr_strdup(r))) qr_err_set(e, QR_E_NOMEM, "out of memory");
  free(r); /* realpath allocates with malloc */
  qr_free(full);
  return out;
}

/* True when real directory `dir` belongs to no single project: "/", the home folder or one of
 * its ancestors, or root's sticky folder anyone may write (/tmp), whose entries are separate
 * (an archive can carry a sticky mode, not root's ownership when a user unpacks it). */
static bool is_anchor(const char *dir, const char *home) {
  struct stat st;
  if (!strcmp(dir, "/") || (home && below(dir, home))) return true;
  return !stat(dir, &st) && S_ISDIR(st.st_mode) && (st.st_mode & S_ISVTX) &&
         (st.st_mode & S_IWOTH) && st.st_uid == 0;
}

/* The reach of folder `dir`: its outermost ancestor (or itself) below the nearest anchor — as far
 * as files around the folder may have arrived with it (an unpacked archive, a clone with its
 * siblings). New string, or NULL when `dir` is an anchor (or cannot be resolved: *failed). */
static char *reach_of(const char *dir, const char *home, bool *failed) {
  char *top = real_existing(dir);
  *failed = !top;
  if (!top || is_anchor(top, home)) {
    qr_free(top);
    return NULL;
  }
  for (char *slash; (slash = strrchr(top, '/')) != top;) { /* the parent "/" is an anchor */
    *slash = '\0';
    if (is_anchor(top, home)) {
      *slash = '/';
      break;
    }
  }
  return top;
}

int qr_workspace_config_trusted(const char *config, const char *folder, qr_err *e) {
  const char *h = getenv("HOME");
  char *home = h && h[0] == '/' ? realpath(h, NULL) : NULL;
  bool failed = false;
  char *reach = reach_of(folder, home, &failed);
  int rc = failed ? qr_err_set(e, QR_E_IO, "cannot resolve %s to check the configuration file",
                               folder)
                  : 0;
  if (reach && below(reach, config))
    rc = qr_err_set(e, QR_E_INVAL,
                    "%s lies in %s, around %s which is being worked in: a repository or an "
                    "unpacked archive could have put it there; keep it in ~/.config/quorum/ or "
                    "pass --config", config, reach, folder);
  free(home); /* realpath allocates with malloc */
  qr_free(reach);
  return rc;
}

/* ---- dismissed findings ------------------------------------------------------------------------ */

bool qr_workspace_fingerprint_valid(const char *fp) {
  if (!fp || strlen(fp) != 16) return false;
  for (const char *c = fp; *c; c++)
    if (!((*c >= '0' && *c <= '9') || (*c >= 'a' && *c <= 'f'))) return false;
  return true;
}

bool qr_workspace_is_dismissed(const char *root, const char *fp) {
  if (!qr_workspace_fingerprint_valid(fp)) return false;
  char *path = qr_asprintf("%s/.quorum/dismissed", root), *text = NULL;
  size_t len = 0;
  qr_err e = {0};
  int rc = path ? qr_read_file(path, QR_WORKSPACE_MAX_DISMISSED, &text, &len, &e) : QR_E_NOMEM;
  if (rc && rc != QR_E_NOTFOUND) QR_WARN("workspace: %s", e.msg[0] ? e.msg : qr_strerror(rc));
  bool found = false;
  for (const char *line = text; !rc && !found && line && *line;) {
    size_t n = strcspn(line, "\r\n");
    found = n == 16 && !strncmp(line, fp, 16);
    line += n;
    line += strspn(line, "\r\n");
  }
  qr_free(path);
  qr_free(text);
  return found;
}

int qr_workspace_dismiss(const char *root, const char *fp, qr_err *e) {
  if (!qr_workspace_fingerprint_valid(fp))
    return qr_err_set(e, QR_E_INVAL, "not a finding fingerprint");
  if (qr_workspace_is_dismissed(root, fp)) return 0;
  char *dir = qr_asprintf("%s/.quorum", root);
  char *path = dir ? qr_asprintf("%s/dismissed", dir) : NULL;
  struct stat st;
  int rc = path ? 0 : qr_err_set(e, QR_E_NOMEM, "out of memory");
  if (!rc && mkdir(dir, 0755) && errno != EEXIST)
    rc = qr_err_set(e, QR_E_IO, "cannot create %s: %s", dir, strerror(errno));
  /* lstat: a .quorum symlink could point anywhere, so it is refused rather than followed. */
  if (!rc && (lstat(dir, &st) || !S_ISDIR(st.st_mode)))
    rc = qr_err_set(e, QR_E_IO, "%s is not a directory", dir);
  int fd = rc ? -1 : open(path, O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0644);
  if (!rc && fd < 0) rc = qr_err_set(e, QR_E_IO, "cannot open %s: %s", path, strerror(errno));
  char line[18];
  memcpy(line, fp, 16);
  line[16] = '\n';
  if (!rc && write(fd, line, 17) != 17)
    rc = qr_err_set(e, QR_E_IO, "cannot write %s: %s", path, strerror(errno));
  if (fd >= 0) close(fd);
  qr_free(dir);
  qr_free(path);
  return rc;
}

/* ---- new-file diffs ------------------------------------------------------------------------------ */

/* The path as git prints it: C-quoted when it holds quotes, backslashes or control bytes. */
static int put_path(qr_buf *b, const char *prefix, const char *path) {
  if (!path[strcspn(path, "\"\\\x01\x02\x03\x04\x05\x06\x07\b\t\n\v\f\r\x0e\x0f\x10\x11\x12"
                          "\x13\x14\x15\x16\x17\x18\x19\x1a\x1b\x1c\x1d\x1e\x1f\x7f")])
    return qr_buf_printf(b, "%s%s", prefix, path);
  int rc = qr_buf_printf(b, "\"%s", prefix);
  for (const unsigned char *p = (const unsigned char *)path; !rc && *p; p++)
    rc = *p == '"' || *p == '\\' ? qr_buf_printf(b, "\\%c", *p)
         : *p < 0x20 || *p == 0x7f ? qr_buf_printf(b, "\\%03o", *p)
                                   : qr_buf_append(b, p, 1);
  return rc ? rc : qr_buf_puts(b, "\"");
}

/* "diff --git a/PATH b/PATH" with the paths quoted as git quotes them. */
static int put_git_header(qr_buf *b, const char *path) {
  int rc = qr_buf_puts(b, "diff --git ");
  if (!rc) rc = put_path(b, "a/", path);
  if (!rc) rc = qr_buf_puts(b, " ");
  return rc ? rc : put_path(b, "b/", path);
}

char *qr_workspace_new_file_diff(const char *path, const char *text, size_t len) {
  size_t lines = 0;
  for (size_t i = 0; i < len; i++) lines += text[i] == '\n';
  lines += len && text[len - 1] != '\n';
  qr_buf b;
  /* Exactly what is written below: the text, a "+" per line, headers and escaped paths. */
  qr_buf_init(&b, len + lines + 16 * strlen(path) + 256);
  int rc = put_git_header(&b, path);
  if (!rc) rc = qr_buf_puts(&b, "\nnew file mode 100644\n--- /dev/null\n+++ ");
  if (!rc) rc = put_path(&b, "b/", path);
  if (!rc) rc = qr_buf_puts(&b, "\n");
  if (!rc && lines) rc = qr_buf_printf(&b, "@@ -0,0 +1,%zu @@\n", lines);
  for (size_t i = 0; !rc && i < len;) {
    const char *nl = memchr(text + i, '\n', len - i);
    size_t n = nl ? (size_t)(nl - text - i) + 1 : len - i;
    rc = qr_buf_puts(&b, "+");
    if (!rc) rc = qr_buf_append(&b, text + i, n);
    if (!rc && !nl) rc = qr_buf_puts(&b, "\n\\ No newline at end of file\n");
    i += n;
  }
  if (rc) {
    qr_buf_free(&b);
    return NULL;
  }
  return qr_buf_detach(&b, NULL);
}

char *qr_workspace_modified_diff(const char *path, const char *hunks, size_t len) {
  qr_buf b;
  qr_buf_init(&b, len + 16 * strlen(path) + 64);
  int rc = put_git_header(&b, path);
  if (!rc) rc = qr_buf_puts(&b, "\n--- ");
  if (!rc) rc = put_path(&b, "a/", path);
  if (!rc) rc = qr_buf_puts(&b, "\n+++ ");
  if (!rc) rc = put_path(&b, "b/", path);
  if (!rc) rc = qr_buf_puts(&b, "\n");
  if (!rc) rc = qr_buf_append(&b, hunks, len);
  if (rc) {
    qr_buf_free(&b);
    return NULL;
  }
  return qr_buf_detach(&b, NULL);
}
