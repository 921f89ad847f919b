/* repo_config.c — loads a repository's `.quorum.json` and keeps only what narrows a review. */
#include "config/repo_config.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"

/* Keys a repository may set; anything else is reported and ignored. */
static const char *const allowed[] = {"strategies", "ignore", "min_severity", "instructions", NULL};
/* Keys of the user configuration that a repository must never set: named in the warning. */
static const char *const user_only[] = {"providers", "models", "passes", "judge", "limits",
                                        "cache", "rules", NULL};

static bool in(const char *const *list, const char *s) {
  for (size_t i = 0; list[i]; i++)
    if (!strcmp(list[i], s)) return true;
  return false;
}

static int warn(qr_repo_config *rc, const char *fmt, const char *a) {
  if (qr_grow(&rc->warnings, &rc->n_warnings_alloc, rc->n_warnings + 1, sizeof *rc->warnings, 4))
    return QR_E_NOMEM;
  char *w = qr_asprintf(fmt, rc->path, a);
  if (!w) return QR_E_NOMEM;
  QR_WARN("%s", w);
  rc->warnings[rc->n_warnings++] = w;
  return QR_OK;
}

/* A JSON array of strings into a new NULL-free array; a bad value is a warning. */
static int string_list(qr_repo_config *rc, json_t *v, const char *key, char ***out, size_t *n) {
  if (!json_is_array(v)) return warn(rc, "%s: \"%s\" must be an array of strings; ignored", key);
  *out = qr_calloc(json_array_size(v) + 1, sizeof **out);
  if (!*out) return QR_E_NOMEM;
  size_t i;
  json_t *s;
  json_array_foreach(v, i, s) {
    if (!json_is_string(s)) return warn(rc, "%s: \"%s\" must hold strings only; ignored", key);
    if (!((*out)[(*n)++] = qr_strdup(json_string_value(s)))) return QR_E_NOMEM;
  }
  return QR_OK;
}

static int take_key(qr_repo_config *rc, const char *key, json_t *v) {
  if (!strcmp(key, "strategies")) return string_list(rc, v, key, &rc->strategies, &rc->n_strategies);
  if (!strcmp(key, "ignore")) return string_list(rc, v, key, &rc->ignore, &rc->n_ignore);
  if (!strcmp(key, "min_severity")) {
    rc->min_severity = qr_severity_parse(json_string_value(v));
    return rc->min_severity ? QR_OK : warn(rc, "%s: \"%s\" must be error, warning, info or hint; ignored", key);
  }
  if (!json_is_string(v)) return warn(rc, "%s: \"%s\" must be a string; ignored", key);
  const char *text = json_string_value(v);
  size_t n = strlen(text);
  if (n > QR_REPO_INSTRUCTIONS_MAX_BYTES) {
    n = QR_REPO_INSTRUCTIONS_MAX_BYTES;
    while (n && ((unsigned char)text[n] & 0xC0) == 0x80) n--; /* cut between characters */
    char cap[24];
    snprintf(cap, sizeof cap, "%u", QR_REPO_INSTRUCTIONS_MAX_BYTES);
    int w = warn(rc, "%s: \"instructions\" is longer than %s bytes; the rest is not used", cap);
    if (w) return w;
  }
  return (rc->instructions = qr_strndup(text, n)) ? QR_OK : QR_E_NOMEM;
}

static int parse(qr_repo_config *rc, const char *text, size_t len, qr_err *e) {
  json_error_t je;
  json_t *root = json_loadb(text, len, 0, &je);
  if (!json_is_object(root)) {
    json_decref(root);
    return qr_err_set(e, QR_E_CONFIG, "%s: not a JSON object (%s)", rc->path, root ? "" : je.text);
  }
  const char *key;
  json_t *v;
  int rc_ = QR_OK;
  json_object_foreach(root, key, v) {
    if (rc_) break;
    if (in(allowed, key)) rc_ = take_key(rc, key, v);
    else if (in(user_only, key))
      rc_ = warn(rc, "%s: \"%s\" can only be set in your own configuration, not by a repository; ignored", key);
    else rc_ = warn(rc, "%s: unknown key \"%s\"; ignored", key);
  }
  json_decref(root);
  return rc_ == QR_E_NOMEM ? qr_err_set(e, rc_, "out of memory") : rc_;
}

/* Opens `path` (real_root + "/" + a name) the way the snapshot reads code: its realpath must
 * stay inside real_root, and it must be a regular file of at most QR_REPO_CONFIG_MAX_BYTES.
 * The open never blocks (a link to a FIFO or /dev/stdin would stall the caller's loop).
 * On success *fd is open and *size its size; QR_E_NOTFOUND when there is no such file. */
static int open_confined(const char *real_root, const char *path, int *fd, size_t *size, qr_err *e) {
  struct stat st;
  if (lstat(path, &st))
    return errno == ENOENT || errno == ENOTDIR
               ? QR_E_NOTFOUND : qr_err_set(e, QR_E_IO, "%s: %s", path, strerror(errno));
  char *real = realpath(path, NULL);
  size_t rl = strlen(real_root);
  bool inside = real && !strncmp(real, real_root, rl) && (real[rl] == '/' || !strcmp(real_root, "/"));
  *fd = inside ? open(real, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC) : -1;
  free(real); /* realpath allocates with malloc */
  int rc = QR_OK;
  if (!inside)
    rc = qr_err_set(e, QR_E_INVAL, "%s does not resolve to a file inside the repository; not read",
                    path);
  else if (*fd < 0 || fstat(*fd, &st))
    rc = qr_err_set(e, QR_E_IO, "cannot open %s: %s", path, strerror(errno));
  else if (!S_ISREG(st.st_mode))
    rc = qr_err_set(e, QR_E_INVAL, "%s is not a regular file; not read", path);
  else if ((size_t)st.st_size > QR_REPO_CONFIG_MAX_BYTES)
    rc = qr_err_set(e, QR_E_TOOBIG, "%s is larger than %u bytes; not read", path,
                    QR_REPO_CONFIG_MAX_BYTES);
  if (rc && *fd >= 0) close(*fd);
  *size = rc ? 0 : (size_t)st.st_size;
  return rc;
}

/* The confined file's text (new, NUL-terminated) in *text, *len bytes. */
static int read_confined(const char *real_root, const char *path, char **text, size_t *len,
                         qr_err *e) {
  int fd = -1;
  size_t size = 0, got = 0;
  int rc = open_confined(real_root, path, &fd, &size, e);
  if (rc) return rc;
  *text = qr_malloc(size + 1);
  ssize_t n = 1;
  while (*text && got <= size && (n = read(fd, *text + got, size + 1 - got)) > 0) got += (size_t)n;
  close(fd);
  if (!*text) return qr_err_set(e, QR_E_NOMEM, "out of memory");
  if (n < 0 || got > size) { /* an error, or the file grew past its size while read */
    qr_free(*text);
    *text = NULL;
    return qr_err_set(e, QR_E_IO, "cannot read %s: %s", path, n < 0 ? strerror(errno) : "it changed");
  }
  (*text)[got] = '\0';
  *len = got;
  return QR_OK;
}

int qr_repo_config_load(const char *root, qr_repo_config **out, qr_err *e) {
  static const char *const names[] = {".quorum.json", ".quorum/config.json"};
  qr_repo_config *rc = qr_calloc(1, sizeof *rc);
  if (!rc) return qr_err_set(e, QR_E_NOMEM, "out of memory");
  char *real_root = realpath(root, NULL);
  int status = real_root ? QR_OK : QR_E_NOTFOUND; /* no root: nothing to narrow by */
  for (size_t i = 0; i < QR_ARRAY_LEN(names) && !rc->path && !status; i++) {
    char *path = qr_asprintf("%s/%s", root, names[i]), *text = NULL;
    size_t len = 0;
    if (!path) status = qr_err_set(e, QR_E_NOMEM, "out of memory");
    else if (!(status = read_confined(real_root, path, &text, &len, e))) {
      rc->path = path;
      path = NULL;
      status = parse(rc, text, len, e);
    } else if (status == QR_E_NOTFOUND) {
      status = QR_OK;
    }
    qr_free(path);
    qr_free(text);
  }
  free(real_root);
  if (status == QR_E_NOTFOUND) status = QR_OK;
  if (status) {
    qr_repo_config_free(rc);
    return status;
  }
  *out = rc;
  return QR_OK;
}

static void free_list(char **l, size_t n) {
  for (size_t i = 0; l && i < n; i++) qr_free(l[i]);
  qr_free(l);
}

void qr_repo_config_free(qr_repo_config *rc) {
  if (!rc) return;
  qr_free(rc->path);
  free_list(rc->strategies, rc->n_strategies);
  free_list(rc->ignore, rc->n_ignore);
  free_list(rc->warnings, rc->n_warnings);
  qr_free(rc->instructions);
  qr_free(rc);
}

bool qr_repo_config_ignores(const qr_repo_config *rc, const char *path) {
  for (size_t i = 0; rc && i < rc->n_ignore; i++)
    if (qr_glob_match(rc->ignore[i], path)) return true;
  return false;
}

bool qr_repo_config_allows_strategy(const qr_repo_config *rc, const char *name) {
  if (!rc || !rc->strategies) return true;
  for (size_t i = 0; i < rc->n_strategies; i++)
    if (name && !strcmp(rc->strategies[i], name)) return true;
  return false;
}
