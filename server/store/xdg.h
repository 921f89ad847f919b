/* xdg.h — where quorum keeps per-user files (XDG base directories) and how their folders are
 * made: the ledger lives under $XDG_STATE_HOME, the cache under $XDG_CACHE_HOME. Folders quorum
 * creates are private (0700): they hold spending records and model answers about private code. */
#ifndef QR_XDG_H
#define QR_XDG_H

#include "common.h"

/* "$<env>/quorum/<file>", or "$HOME/<home_rel>/quorum/<file>" when <env> is unset or empty
 * (e.g. env "XDG_STATE_HOME", home_rel ".local/state"). *out is new (qr_free); QR_E_NOTFOUND
 * when neither variable is set. Creates nothing. */
int qr_xdg_path(const char *env, const char *home_rel, const char *file, char **out, qr_err *e);

/* Creates the missing folders above `path` (mode 0700; existing ones are left as they are).
 * QR_E_IO with the folder and the reason when one cannot be made. */
int qr_xdg_make_parents(const char *path, qr_err *e);

#endif
