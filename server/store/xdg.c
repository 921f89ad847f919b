/* xdg.c — per-user file locations (XDG base directories) and private folder creation. */
#include "store/xdg.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int qr_xdg_path(const char *env, const char *home_rel, const char *file, char **out, qr_err *e) {
  const char *base = getenv(env), *home = getenv("HOME");
  if (base && *base) *out = qr_asprintf("%s/quorum/%s", base, file);
  else if (home && *home) *out = qr_asprintf("%s/%s/quorum/%s", home, home_rel, file);
  else return qr_err_set(e, QR_E_NOTFOUND, "neither %s nor HOME is set: no place for %s", env, file);
  return *out ? QR_OK : qr_err_set(e, QR_E_NOMEM, "out of memory");
}

int qr_xdg_make_parents(const char *path, qr_err *e) {
  char *dir = qr_strdup(path);
  if (!dir) return qr_err_set(e, QR_E_NOMEM, "out of memory");
  int rc = QR_OK;
  /* Each '/' after the first byte ends a folder name: make that prefix, then move on. */
  for (char *p = dir + 1; !rc && (p = strchr(p, '/')); p++) {
    *p = '\0';
    if (mkdir(dir, 0700) && errno != EEXIST)
      rc = qr_err_set(e, QR_E_IO, "cannot create folder %s: %s", dir, strerror(errno));
    *p = '/';
  }
  qr_free(dir);
  return rc;
}
