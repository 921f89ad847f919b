/* rules.h — the local rule pack: tree-sitter queries that report high-precision review findings
 * without a model, so a review gives real value with no API key.
 *
 * A rule is one `.scm` file, `<language>/<id>.scm`: a tree-sitter query preceded by a metadata
 * header in `;` comments:
 *   ; id: c-strcpy-unbounded           (must equal the file name without .scm)
 *   ; message: strcpy has no bound …
 *   ; category: security                (becomes the finding's category and source strategy)
 *   ; severity: warning                 (error|warning|info|hint)
 *   ; fix: except Exception             (optional: replaces the @fix capture, or @finding; @name
 *                                         inserts that capture's text)
 *   ; also: typescript tsx              (optional: the query is compiled for these too)
 * The `@finding` capture gives the lines. Predicates #eq?, #not-eq?, #match?, #not-match?
 * (POSIX extended regex; a leading "(?i)" ignores case), #any-of? and #array? @x (C: @x is an
 * identifier whose nearest declaration in scope is an array, or a member `a->m`/`a.m` that the
 * file declares only as an array) are evaluated here, since tree-sitter 0.20 leaves them to
 * the caller. The built-in pack is server/local/rules/ embedded by
 * rules_pack.S; a user rule with the same id and language replaces the built-in one. */
#ifndef QR_RULES_H
#define QR_RULES_H

#include <stdbool.h>
#include <stddef.h>

#include "common.h"
#include "change/diff.h"
#include "judge/findings.h"
#include "change/snapshot.h"

typedef struct qr_rules qr_rules;

/* What a loaded rule says about itself; borrowed from the qr_rules that holds it. */
typedef struct qr_rule_info {
  const char *id, *language, *message, *category;
  qr_severity severity;
  bool has_fix;
  bool builtin;
} qr_rule_info;

/* The built-in pack plus every *.scm under the user folders (`<folder>/<language>/<id>.scm`).
 * A malformed rule (bad header, query that does not compile, unknown predicate or language
 * folder) is a QR_E_CONFIG error naming the file. Built-in queries are compiled lazily, per
 * language, when qr_rules_run first meets a file of it. *out is new; free with qr_rules_free. */
int qr_rules_load(const char *const *user_folders, size_t n_folders, qr_rules **out, qr_err *e);
void qr_rules_free(qr_rules *r); /* NULL is a no-op */

/* The number of loaded rules, counting a rule once per language it is compiled for. */
size_t qr_rules_count(const qr_rules *r);
/* Rule i (< count), borrowed; NULL when out of range. */
const qr_rule_info *qr_rules_get(const qr_rules *r, size_t i);

/* Compiles the queries of the built-in rules of `lang` (NULL: of every language) not compiled
 * yet; qr_rules_run does it for the languages it meets. QR_E_CONFIG names a rule that does not
 * compile. */
struct qr_language;
int qr_rules_prepare(qr_rules *r, const struct qr_language *lang, qr_err *e);

/* Runs every rule of each file's language on each reviewable snapshot file of the diff.
 * Findings are kept only when they touch an added line, unless allow_context. Appends to
 * `out`; each finding has one source: model "rule:<id>", strategy = the rule's category,
 * pass -1 (the caller sets the pass index it gives the rule pack). */
int qr_rules_run(qr_rules *r, const qr_diff *d, const qr_snapshot *s, bool allow_context,
                 qr_finding_list *out, qr_err *e);

#endif
