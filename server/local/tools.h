/* tools.h — analyzer passes: installed linters run on the changed files, their output parsed
 * into findings that then go through the same validation and judge as model findings.
 *
 * Built-in adapters: cppcheck (C/C++), shellcheck (bash/sh) and pyflakes (Python, Debian's
 * pyflakes3). A run writes the reviewable snapshot files of its languages (the reviewed text:
 * git's index, an editor buffer) into a private folder (mkdtemp, 0700, same relative paths, with
 * the project's .shellcheckrc files), spawns the tool with uv_spawn there on those files only
 * (generic tools run in the repository root), and removes the folder when the run ends, with a scrubbed environment (PATH, HOME, LANG and
 * nothing else: no keys, tokens or proxy settings reach it), stdin from /dev/null, a timeout,
 * and stdout/stderr each capped at QR_TOOL_MAX_OUTPUT.
 *
 * Severity mapping (the tool's level → ours):
 *   cppcheck   error → error; warning → warning; style, performance, portability → info;
 *              information and debug lines are dropped.
 *   shellcheck error → error; warning → warning; info → info; style → hint.
 *   pyflakes   syntax errors and undefined names → error; unused imports/variables and
 *              redefinitions of unused names → info; everything else → warning.
 * Each finding has one source: model "tool:<name>", strategy "analyzer", pass -1 (the caller
 * sets the pass index).
 *
 * Generic tools: any command printing SARIF 2.1.0 (stdout) or "file:line:col: message" /
 * "file:line: message" lines (stdout and stderr) is defined by name with qr_tool_define (the
 * config does it for `{"tool": NAME, "command": [...], "format": ..., "languages": [...]}`) and
 * then runs through the same spawn, environment, timeout and caps as the built-ins, with the
 * changed files appended to its argv. Exit statuses 0 and 1 ("found something") are success.
 *   sarif  level error → error; warning (or absent) → warning; note → info; none → hint.
 *   gcc    a leading "error:" / "fatal error:" → error, "warning:" → warning, "note:" → info;
 *          no such word → warning. */
#ifndef QR_TOOLS_H
#define QR_TOOLS_H

#include <stdbool.h>
#include <stddef.h>

#include <uv.h>

#include "common.h"
#include "change/diff.h"
#include "judge/findings.h"
#include "change/snapshot.h"

#define QR_TOOL_MAX_OUTPUT (8u << 20) /* bytes kept of each of stdout and stderr */

typedef struct qr_tool_run qr_tool_run;

/* Called once when a run ends (never after qr_tool_cancel). status: 0 (findings parsed; with
 * no file of the tool's languages in the change, 0 and no findings), QR_E_TIMEOUT,
 * QR_E_TOOBIG (output over the cap), QR_E_IO (the tool failed: exit status or signal),
 * QR_E_PARSE (output in an unexpected form).
 * `reason` is a sentence for the pass's note (NULL when status is 0 and there is nothing to
 * say); `findings` is borrowed for the duration of the call — take items with
 * qr_finding_list_push or copy them. The run is freed after the callback returns. */
typedef void (*qr_tool_done_cb)(int status, const char *reason, qr_finding_list *findings,
                                bool cached, void *data);

/* How a run goes: a time limit, and the cache that keeps outputs (tools_cache.h; a hit runs
 * nothing and calls back with cached set). */
struct qr_cache;
typedef struct qr_tool_opts {
  int timeout_ms;          /* >= 1 */
  struct qr_cache *cache;  /* borrowed; NULL: no cache */
} qr_tool_opts;

/* Output formats of generic tools. */
typedef enum { QR_TOOL_FORMAT_NONE = 0, QR_TOOL_FORMAT_SARIF, QR_TOOL_FORMAT_GCC } qr_tool_format;

/* "sarif" / "gcc" → the format; QR_TOOL_FORMAT_NONE for anything else. */
qr_tool_format qr_tool_format_parse(const char *s);

/* Defines generic tool `name`: argv `command` (n_command >= 1; command[0] is looked up on PATH,
 * or, when it contains a '/', taken as a path, a relative one from the repository root), its
 * output `format`, and the grammar names of the files it checks (n_languages == 0: every
 * changed file). Everything is copied. Definitions are process-wide and by name: a later
 * definition of the same name replaces the earlier one for runs started afterwards (a run in
 * progress keeps its own). QR_E_INVAL for a built-in name or an empty name or command. */
int qr_tool_define(const char *name, const char *const *command, size_t n_command,
                   qr_tool_format format, const char *const *languages, size_t n_languages,
                   qr_err *e);

/* The name of built-in adapter i, or NULL past the last one. */
const char *qr_tool_name(size_t i);
/* True for the names of the built-in adapters ("cppcheck", "shellcheck", "pyflakes"). */
bool qr_tool_known(const char *name);
/* True when tool `name` (built in or defined) checks files of language `lang` (NULL: a file
 * without a grammar). */
struct qr_language;
bool qr_tool_covers(const char *name, const struct qr_language *lang);
/* True when the adapter's executable is found on PATH. */
bool qr_tool_available(const char *name);

/* Starts tool `name` (built in or defined) on the changed files of `d` present in `s`, below `root`. Returns
 * QR_E_NOTFOUND ("not installed": the executable is not found; the pass is skipped) or
 * QR_E_INVAL (unknown tool) at once,
 * and then never calls cb. On success *out is the run, valid until cb returns or until
 * qr_tool_cancel. d and s are only read during this call. */
int qr_tool_start(uv_loop_t *loop, const char *name, const qr_diff *d, const qr_snapshot *s,
                  const char *root, const qr_tool_opts *o, qr_tool_done_cb cb, void *data,
                  qr_tool_run **out, qr_err *e);
/* Stops a run: the process is killed, cb is not called, and the run frees itself once its
 * handles have closed (the loop must keep running). */
void qr_tool_cancel(qr_tool_run *r);

/* Parses recorded output of tool `name` (built in or defined; its stdout and stderr) into findings for the files
 * in `files` (the paths as given to the tool; "./" prefixes in the output are ignored), with
 * lines of other files dropped. Appends to `out`. Exposed for tests with recorded output. */
int qr_tool_parse(const char *name, const char *out_text, size_t out_len, const char *err_text,
                  size_t err_len, const char *const *files, size_t n_files,
                  qr_finding_list *out, qr_err *e);

#endif
