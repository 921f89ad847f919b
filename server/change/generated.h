/* generated.h — the changed files nobody wrote by hand: generated, vendored, lock and minified
 * files. They leave the review before any request is planned (every byte sent is paid once a
 * pass, and reviewers do not read them: GitHub collapses them for the same reason), and each
 * is named in the result's omitted_files with its reason.
 *
 * What counts, in this order:
 *   1. the repository's .gitattributes: `linguist-generated`, `linguist-vendored` (set or
 *      "true") or `-diff`, read by `git check-attr`, so patterns, negation, nested files and
 *      macros behave exactly as in git (run only when a .gitattributes lies on a changed path,
 *      or in $GIT_DIR/info; a value of "false" also keeps a file that rules 2–4 would drop);
 *   2. lock files of the common package managers, by name, and files in vendor folders
 *      (vendor/, third_party/, node_modules/ … at any depth);
 *   3. minified files: `*.min.js`, `*.min.css`, or text whose lines are far longer than code's;
 *   4. a generator's marker on a comment line among the first lines, already there before the
 *      change (the table in generated.c:
 *      Go's and Facebook's conventions, the do-not-edit warning, and the Bison, Flex, protoc
 *      and SWIG banners). The phrases are not written here, so this file is not one. */
#ifndef QR_GENERATED_H
#define QR_GENERATED_H

#include <stdbool.h>
#include <stddef.h>

#include "common.h"
#include "change/diff.h"
#include "change/snapshot.h"

/* The user's way back (config `review.include_generated`): every such file, or those matching
 * one of the globs (fnmatch, FNM_PATHNAME; a glob ending in "/" and two stars matches below its folder).
 * Borrowed. */
typedef struct qr_generated_opts {
  bool include_all;
  const char *const *include; /* globs; n_include of them */
  size_t n_include;
  bool cached;                /* read git attributes from the index (a staged review) */
} qr_generated_opts;

/* Why the diff's file df with new side text[0..len) is left out by rules 2–4 ("lock file",
 * "minified", "generated (marker: …)"), or NULL. text may be NULL (len 0). A marker counts
 * only when the file had one before the change (on an unchanged line, or replacing a removed
 * marker): one the change adds does not leave its own file out. A renamed or copied file is
 * left out by name only when its old name was too. The reason is static. */
const char *qr_generated_reason(const qr_diff_file *df, const char *text, size_t len);

/* Removes every left-out file from `diff` (the new sides in `snap`; files not in it are judged
 * by name and attributes only) and appends "path: reason" for each to *omitted (a
 * NULL-terminated array, created or grown; free with qr_snapshot_free_omitted). `root` is the
 * repository's top folder (attributes are not read when it is not a git work tree). */
int qr_generated_leave_out(qr_diff *diff, const qr_snapshot *snap, const char *root,
                           const qr_generated_opts *o, char ***omitted, qr_err *e);

#endif
