/* tools_parse.h — the analyzers' output parsers (tools.c runs the tools; these read what they
 * printed). Each appends findings for `files` (the paths given to the tool) to l, with source
 * "tool:<tool>" and a rule "<tool>/<code>"; lines of other files are dropped. */
#ifndef QR_TOOLS_PARSE_H
#define QR_TOOLS_PARSE_H

#include <stddef.h>

#include "common.h"
#include "judge/findings.h"

#define QR_TOOLS_PARSER(name)                                                               \
  int name(const char *tool, const char *out, size_t out_len, const char *err, size_t err_len, \
           const char *const *files, size_t n_files, qr_finding_list *l, qr_err *e)
QR_TOOLS_PARSER(qr_tools_parse_cppcheck);   /* --template one line per finding, on stderr */
QR_TOOLS_PARSER(qr_tools_parse_shellcheck); /* --format=json1 */
QR_TOOLS_PARSER(qr_tools_parse_pyflakes);   /* path:line:col: message */
QR_TOOLS_PARSER(qr_tools_parse_sarif);      /* a generic tool's SARIF 2.1.0 */
QR_TOOLS_PARSER(qr_tools_parse_gcc);        /* a generic tool's file:line[:col]: message lines */

/* flake8's code for a pyflakes message ("F401"; "E999" for syntax errors), NULL when unknown;
 * msg need not be NUL-terminated. */
const char *qr_tools_pyflakes_code(const char *msg, size_t n);

#endif
