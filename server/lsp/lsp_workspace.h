/* lsp_workspace.h — the language server's view of files on disk: file:// URIs ↔ paths, the rule
 * that nothing the server writes or edits leaves the workspace, the per-workspace list of
 * dismissed findings (.quorum/dismissed), and the diff that reviews a file as entirely new
 * (untracked files, files outside any repository). Synchronous and small: these run on the
 * loop thread but touch only a few bytes each. */
#ifndef QR_LSP_WORKSPACE_H
#define QR_LSP_WORKSPACE_H

#include <stdbool.h>
#include <stddef.h>

#include "common.h"

/* Caps: a dismissed list larger than this is ignored with a warning; URIs/paths longer are refused. */
#define QR_WORKSPACE_MAX_DISMISSED ((size_t)1 << 20)
#define QR_WORKSPACE_MAX_PATH 4096

/* "file:///a/b%20c" → "/a/b c". A new string (qr_free), or NULL when the URI is not a local
 * absolute file URI, holds NUL or a bad escape, or contains a "." or ".." path segment (also
 * when written as %2e: a client-sent URI never needs them). */
char *qr_workspace_uri_to_path(const char *uri);
/* An absolute path → a file:// URI, percent-encoding everything but unreserved characters and
 * "/". New string, NULL when out of memory. */
char *qr_workspace_path_to_uri(const char *path);

/* True when `rel` (a path relative to root, as in a diff) stays inside `root`: not absolute,
 * no "." / ".." segment, and — if it exists — its real path (symlinks resolved) is below
 * root's real path. Used before any edit or write the server makes. */
bool qr_workspace_rel_confined(const char *root, const char *rel);
/* The same for an absolute path: *rel_out (may be NULL) receives a new string with the path
 * relative to root. */
bool qr_workspace_abs_confined(const char *root, const char *abs, char **rel_out);

/* The real path of a configFile setting: "~" / "~/…" expands against $HOME, any other relative
 * path is refused (the server's working folder is the workspace), symlinks and ".." are
 * resolved, so confinement checks see where the file really is. New string (qr_free), or NULL
 * with *e set (QR_E_INVAL refused, QR_E_NOTFOUND missing). */
char *qr_workspace_config_path(const char *setting, qr_err *e);
/* Whether configuration file `config` (a real path from qr_workspace_config_path) may serve
 * while `folder` is worked in (a workspace folder, the server's working folder, an open
 * document's folder, a review's root): 0, or QR_E_INVAL when it lies within the folder's reach —
 * the folder's outermost ancestor below the nearest anchor ("/", $HOME or one of its ancestors,
 * a sticky world-writable folder of root such as /tmp). A repository or an unpacked archive
 * may bring any file in that reach, e.g. "/proc/self/cwd/../evil.json", and the configuration
 * file says where the API keys are sent. QR_E_IO when the folder cannot be resolved. */
int qr_workspace_config_trusted(const char *config, const char *folder, qr_err *e);

/* A fingerprint as the engine writes it: 16 lower-case hex digits. */
bool qr_workspace_fingerprint_valid(const char *fp);
/* True when `fp` is listed in root/.quorum/dismissed. */
bool qr_workspace_is_dismissed(const char *root, const char *fp);
/* Appends fp to root/.quorum/dismissed (creating .quorum; never through a symlink). An
 * already dismissed fingerprint is not written twice. QR_E_INVAL for a malformed fingerprint. */
int qr_workspace_dismiss(const char *root, const char *fp, qr_err *e);

/* A unified diff adding `path` (repository-relative) with contents text[0..len): what git
 * would print for a new file, so the engine reviews every line. New string (qr_free) or NULL
 * when out of memory. */
char *qr_workspace_new_file_diff(const char *path, const char *text, size_t len);
/* A unified diff modifying `path`: git's header for it, then hunks[0..len) (from the first "@@"
 * line, as qr_git_buffer_hunks gives them). New string (qr_free) or NULL when out of memory. */
char *qr_workspace_modified_diff(const char *path, const char *hunks, size_t len);

#endif
