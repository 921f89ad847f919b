/* repo_ref.c — private temporary folders, capturing a git run, and `quorum review
 * --repo-config-from REF`: the repository config as committed at REF, copied into a private
 * folder that the engine reads instead of the work tree's (a CI job that checks out an
 * untrusted head names its base). */
#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "change/git.h"
#include "config/repo_config.h"

char *cli_temp_dir(const char *prefix) {
  const char *tmpdir = getenv("TMPDIR");
  char *dir = qr_asprintf("%s/%s-XXXXXX", tmpdir && *tmpdir ? tmpdir : "/tmp", prefix);
  if (dir && !mkdtemp(dir)) {
    qr_free(dir);
    return NULL;
  }
  return dir;
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
  return remove(path);
}

void cli_remove_tree(const char *dir) {
  if (dir) nftw(dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

void cli_on_git(int status, const char *out, size_t len, const char *message, void *data) {
  cli_git_wait *w = data;
  w->done = true;
  w->status = status;
  if (status && !w->quiet) fprintf(stderr, "quorum: git failed: %s\n", message);
  else if (!status && !(w->out = qr_strndup(out, len))) w->status = QR_E_NOMEM;
  w->len = len;
}

/* Runs git with `args` in `root`; *w holds the outcome. */
static int git(uv_loop_t *loop, const char *root, const char *const *args, size_t max_out,
               cli_git_wait *w, qr_err *e) {
  *w = (cli_git_wait){.quiet = true};
  int rc = qr_git_run(loop, root, args, max_out, false, cli_on_git, w, e);
  if (!rc) cli_wait(loop, &w->done);
  return rc;
}

/* Copies `name` as committed at `sha` into dir; a path absent there (or not a file) is
 * simply absent. */
static int copy_at(uv_loop_t *loop, const char *root, const char *sha, const char *dir,
                   const char *name, qr_err *e) {
  char *spec = qr_asprintf("%s:%s", sha, name), *path = qr_asprintf("%s/%s", dir, name);
  const char *const args[] = {"cat-file", "blob", spec, NULL};
  cli_git_wait w = {0};
  int rc = spec && path ? git(loop, root, args, QR_REPO_CONFIG_MAX_BYTES, &w, e)
                        : qr_err_set(e, QR_E_NOMEM, "out of memory");
  if (!rc && w.status == QR_E_TOOBIG)
    rc = qr_err_set(e, QR_E_TOOBIG, "%s is larger than %u bytes", spec, QR_REPO_CONFIG_MAX_BYTES);
  else if (!rc && w.status == QR_E_NOMEM)
    rc = qr_err_set(e, QR_E_NOMEM, "out of memory");
  if (!rc && !w.status) {
    char *slash = strrchr(path, '/');
    *slash = '\0';
    bool made = !mkdir(path, 0700) || errno == EEXIST;
    *slash = '/';
    FILE *f = made ? fopen(path, "wb") : NULL;
    if (!f || fwrite(w.out, 1, w.len, f) != w.len || fclose(f))
      rc = qr_err_set(e, QR_E_IO, "cannot write %s: %s", path, strerror(errno));
  }
  qr_free(w.out);
  qr_free(path);
  qr_free(spec);
  return rc;
}

int cli_repo_config_from(uv_loop_t *loop, const char *root, const char *ref, char **dir,
                         qr_err *e) {
  static const char *const names[] = {".quorum.json", ".quorum/config.json"};
  char *commit = qr_asprintf("%s^{commit}", ref);
  const char *const args[] = {"rev-parse", "--verify", "--quiet", "--end-of-options", commit, NULL};
  cli_git_wait w = {0};
  int rc = commit ? git(loop, root, args, 256, &w, e) : qr_err_set(e, QR_E_NOMEM, "out of memory");
  qr_free(commit);
  if (!rc && w.status) rc = qr_err_set(e, QR_E_INVAL, "--repo-config-from: '%s' is not a commit", ref);
  while (!rc && w.len && (w.out[w.len - 1] == '\n' || w.out[w.len - 1] == '\r')) w.out[--w.len] = '\0';
  *dir = rc ? NULL : cli_temp_dir("quorum-config");
  if (!rc && !*dir) rc = qr_err_set(e, QR_E_IO, "cannot create a temporary folder: %s", strerror(errno));
  for (size_t i = 0; !rc && i < QR_ARRAY_LEN(names); i++) rc = copy_at(loop, root, w.out, *dir, names[i], e);
  qr_free(w.out);
  if (rc && *dir) {
    cli_remove_tree(*dir);
    qr_free(*dir);
    *dir = NULL;
  }
  return rc;
}

/* `note` with each "<dir>/" written as `label` (a new JSON string). */
static json_t *relabel(const char *note, const char *dir, const char *label) {
  qr_buf b;
  qr_buf_init(&b, strlen(note) * 2 + 64);
  size_t n = strlen(dir);
  const char *s = note;
  for (const char *hit; (hit = strstr(s, dir)) && hit[n] == '/'; s = hit + n + 1) {
    qr_buf_append(&b, s, (size_t)(hit - s));
    qr_buf_puts(&b, label);
  }
  qr_buf_puts(&b, s);
  char *text = qr_buf_detach(&b, NULL);
  json_t *j = text ? json_string(text) : NULL;
  qr_free(text);
  return j;
}

int cli_relabel_notes(json_t *result, const char *dir, const char *label) {
  json_t *notes = json_array(), *v;
  int rc = notes ? QR_OK : QR_E_NOMEM;
  size_t i;
  json_array_foreach(json_object_get(result, "notes"), i, v) {
    const char *note = json_string_value(v);
    if (!rc && json_array_append_new(notes, relabel(note ? note : "", dir, label))) rc = QR_E_NOMEM;
  }
  if (rc) {
    json_decref(notes);
    return rc;
  }
  return json_object_set_new(result, "notes", notes) ? QR_E_NOMEM : QR_OK;
}
