/* tools_cache.h — analyzer outputs kept in the pass cache (store/cache.h), so reviewing content
 * an analyzer has already seen runs no analyzer: shellcheck takes 20 s on a 5,000-line script.
 *
 * The key is the tool's name, its version (the executable's path, size and modification time:
 * an upgrade changes them, and asking `--version` would cost a process), its arguments and
 * the contents of the files it is given, each read as the tool will read it. What is kept is
 * the findings it gave, after parsing and the project's suppressions; only a run that ended
 * well (parsed, not cut by a timeout or a cap) is kept. */
#ifndef QR_TOOLS_CACHE_H
#define QR_TOOLS_CACHE_H

#include <stdbool.h>
#include <stddef.h>

#include "common.h"
#include "judge/findings.h"
#include "store/cache.h"

/* The configuration shellcheck reads from the script's folder and each one above it. */
#define QR_TOOL_CONFIG_FILE ".shellcheckrc"

/* The key of one run into key (QR_CACHE_KEY_SIZE). False when a file cannot be read (then the
 * run is not cached). files are relative to root, as the tool gets them; the key also holds
 * every QR_TOOL_CONFIG_FILE from each file's folder up to root, and ~/.shellcheckrc. */
bool qr_tool_cache_key(const char *tool, const char *exe, const char *const *args,
                       const char *root, const char *const *files, size_t n_files,
                       char key[QR_CACHE_KEY_SIZE]);

/* A hit appends the kept findings (source "tool:<tool>", strategy "analyzer") to out and
 * returns true; a miss or any failure returns false (the tool runs). */
bool qr_tool_cache_get(qr_cache *c, const char *key, const char *tool, qr_finding_list *out);

/* Keeps the findings of a run under key; a failure is logged, never fatal. */
void qr_tool_cache_put(qr_cache *c, const char *key, const qr_finding_list *l);

#endif
