/* tools_parse.c — the analyzers' output parsers (tools_parse.h): cppcheck's template lines,
 * shellcheck's json1, pyflakes' lines, and the generic SARIF and gcc-style formats. */
#include "local/tools_parse.h"

#include <stdio.h>
#include <string.h>

#include <jansson.h>

#define MAX_MESSAGE 1000 /* bytes of one tool message */

/* --- parsing ----------------------------------------------------------------------------- */

/* Appends one finding; the message is cleaned of control characters and capped. Its rule is
 * "tool/code" ("cppcheck/nullPointer"), or the tool's name when it gives no code. */
static int add_finding(qr_finding_list *l, const char *tool, const char *code, const char *file,
                       int line, int end_line, qr_severity sev, const char *category,
                       const char *msg, size_t msg_len) {
  char *raw = qr_strndup(msg, QR_MIN(msg_len, (size_t)MAX_MESSAGE));
  char *model = qr_asprintf("tool:%s", tool);
  qr_finding f = {0};
  f.rule = code && *code ? qr_asprintf("%s/%.64s", tool, code) : qr_strdup(tool);
  f.file = qr_strdup(file);
  f.start_line = line;
  f.end_line = end_line < line ? line : end_line;
  f.severity = sev;
  f.category = qr_strdup(category);
  f.message = raw ? qr_findings_clean_text(raw) : NULL;
  int rc = f.file && f.category && f.message && f.rule && model ? 0 : QR_E_NOMEM;
  if (!rc) rc = qr_finding_add_source(&f, model, "analyzer", -1);
  if (!rc) rc = qr_finding_list_push(l, &f);
  qr_finding_clear(&f);
  qr_free(model);
  qr_free(raw);
  return rc;
}

/* Which of `files` the line starts with, as "path:" or "./path:"; -1 when none. *rest is set
 * past the colon. Matching the known paths, not splitting at a colon, keeps paths that
 * contain colons whole. */
static int match_file(const char *line, size_t len, const char *const *files, size_t n,
                      const char **rest) {
  const char *p = line;
  if (len >= 2 && !memcmp(p, "./", 2)) p += 2;
  for (size_t i = 0; i < n; i++) {
    size_t fl = strlen(files[i]);
    if ((size_t)(p - line) + fl < len && !memcmp(p, files[i], fl) && p[fl] == ':') {
      *rest = p + fl + 1;
      return (int)i;
    }
  }
  return -1;
}

/* Reads "LINE:" or "LINE:COL:" (the trailing colon optional) at *p; false when no line. */
static bool read_location(const char **p, const char *end, int *line) {
  long v = 0;
  const char *q = *p;
  while (q < end && *q >= '0' && *q <= '9' && v < 100000000) v = v * 10 + (*q++ - '0');
  if (q == *p || v < 1) return false;
  *line = (int)v;
  if (q < end && *q == ':') q++;
  while (q < end && *q >= '0' && *q <= '9') q++; /* the column */
  if (q < end && *q == ':') q++;
  while (q < end && *q == ' ') q++;
  *p = q;
  return true;
}

/* Calls fn(line, len, ctx) for each line of text; stops at the first error. */
static int each_line(const char *text, size_t len, int (*fn)(const char *, size_t, void *),
                     void *ctx) {
  for (const char *p = text, *end = text + len; p < end;) {
    const char *nl = memchr(p, '\n', (size_t)(end - p));
    size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
    int rc = fn(p, n, ctx);
    if (rc) return rc;
    p += n + 1;
  }
  return 0;
}

typedef struct line_ctx {
  const char *tool;
  const char *const *files;
  size_t n_files;
  qr_finding_list *l;
} line_ctx;

/* The next ':'-separated field of [*p, end) (moves *p past the colon); false at the end. */
static bool field(const char **p, const char *end, const char **start, size_t *len) {
  const char *c = memchr(*p, ':', (size_t)(end - *p));
  if (!c) return false;
  *start = *p;
  *len = (size_t)(c - *p);
  *p = c + 1;
  return true;
}

static bool field_is(const char *s, size_t n, const char *word) {
  return strlen(word) == n && !memcmp(s, word, n);
}

/* "{file}:{line}:{column}:{severity}:{id}:{message}" */
static int cppcheck_line(const char *line, size_t len, void *arg) {
  line_ctx *c = arg;
  const char *p, *end = line + len, *sev, *id;
  size_t sev_n, id_n;
  int ln, fi = match_file(line, len, c->files, c->n_files, &p);
  if (fi < 0 || !read_location(&p, end, &ln) || !field(&p, end, &sev, &sev_n) ||
      !field(&p, end, &id, &id_n))
    return 0;
  qr_severity s = field_is(sev, sev_n, "error") ? QR_SEV_ERROR
                : field_is(sev, sev_n, "warning") ? QR_SEV_WARNING
                : field_is(sev, sev_n, "style") || field_is(sev, sev_n, "performance") ||
                  field_is(sev, sev_n, "portability") ? QR_SEV_INFO : 0;
  if (!s) return 0; /* information, debug: about cppcheck itself, not the code */
  const char *cat = field_is(sev, sev_n, "performance") ? "performance"
                  : field_is(sev, sev_n, "portability") ? "portability"
                  : field_is(sev, sev_n, "style") ? "maintainability" : "correctness";
  char msg[MAX_MESSAGE + 64], code[49];
  snprintf(code, sizeof code, "%.*s", (int)QR_MIN(id_n, sizeof code - 1), id);
  snprintf(msg, sizeof msg, "%.*s (cppcheck %s)", (int)QR_MIN((size_t)(end - p), (size_t)MAX_MESSAGE),
           p, code);
  return add_finding(c->l, "cppcheck", code, c->files[fi], ln, ln, s, cat, msg, strlen(msg));
}

int qr_tools_parse_cppcheck(const char *tool, const char *out, size_t out_len, const char *err,
                          size_t err_len, const char *const *files, size_t n_files,
                          qr_finding_list *l, qr_err *e) {
  line_ctx c = {tool, files, n_files, l};
  int rc = each_line(err, err_len, cppcheck_line, &c);
  return rc ? qr_err_set(e, rc, "out of memory parsing cppcheck output") : 0;
}

/* pyflakes: "path:line:col: message" (older releases: "path:line: message"); syntax errors go
 * to stderr in the same form, followed by the source line and a caret, which match no file.
 * pyflakes prints no codes; flake8's names for its messages (F401 …) are what projects write in
 * "# noqa: F401", so each message gets its code, matched by the message's fixed words. */
static const struct {
  const char *words, *code;
} pyflakes_codes[] = {
    {"imported but unused", "F401"}, {"shadowed by loop variable", "F402"},
    {"import *' used", "F403"}, {"from __future__ imports must occur", "F404"},
    {"defined from star imports", "F405"}, {"f-string is missing placeholders", "F541"},
    {"dictionary key", "F601"}, {"assertion is always true", "F631"},
    {"use ==/!= to compare", "F632"}, {"'if tuple literal' is always true", "F634"},
    {"'break' outside loop", "F701"}, {"'continue' not properly in loop", "F702"},
    {"'yield' outside function", "F704"}, {"'return' outside function", "F706"},
    {"redefinition of unused", "F811"}, {"in __all__", "F822"},
    {"undefined name", "F821"}, {"referenced before assignment", "F823"},
    {"duplicate argument", "F831"}, {"is assigned to but never used", "F841"},
    {"is annotated but never used", "F842"}, {"'raise NotImplemented'", "F901"},
};

/* flake8's code for a pyflakes message (msg need not be NUL-terminated); "E999" for syntax
 * errors, NULL when unknown. */
const char *qr_tools_pyflakes_code(const char *msg, size_t n) {
  char buf[MAX_MESSAGE + 1];
  snprintf(buf, sizeof buf, "%.*s", (int)QR_MIN(n, (size_t)MAX_MESSAGE), msg);
  for (size_t i = 0; i < QR_ARRAY_LEN(pyflakes_codes); i++)
    if (strstr(buf, pyflakes_codes[i].words)) return pyflakes_codes[i].code;
  return strstr(buf, "syntax") ? "E999" : NULL;
}

static qr_severity pyflakes_severity(const char *code) {
  static const char *const minor[] = {"F401", "F841", "F811"};
  for (size_t i = 0; code && i < QR_ARRAY_LEN(minor); i++)
    if (!strcmp(code, minor[i])) return QR_SEV_INFO;
  return code && (!strcmp(code, "F821") || !strcmp(code, "F822") || !strcmp(code, "E999"))
             ? QR_SEV_ERROR : QR_SEV_WARNING;
}

static int pyflakes_line(const char *line, size_t len, void *arg) {
  line_ctx *c = arg;
  const char *p;
  int ln, fi = match_file(line, len, c->files, c->n_files, &p);
  if (fi < 0 || !read_location(&p, line + len, &ln) || p == line + len) return 0;
  size_t n = QR_MIN((size_t)(line + len - p), (size_t)MAX_MESSAGE);
  const char *code = qr_tools_pyflakes_code(p, n);
  char msg[MAX_MESSAGE + 16];
  snprintf(msg, sizeof msg, code ? "%.*s (%s)" : "%.*s", (int)n, p, code);
  return add_finding(c->l, "pyflakes", code, c->files[fi], ln, ln, pyflakes_severity(code),
                     "correctness", msg, strlen(msg));
}

int qr_tools_parse_pyflakes(const char *tool, const char *out, size_t out_len, const char *err,
                          size_t err_len, const char *const *files, size_t n_files,
                          qr_finding_list *l, qr_err *e) {
  line_ctx c = {tool, files, n_files, l};
  int rc = each_line(out, out_len, pyflakes_line, &c);
  if (!rc) rc = each_line(err, err_len, pyflakes_line, &c);
  return rc ? qr_err_set(e, rc, "out of memory parsing pyflakes output") : 0;
}

/* The index in files of `path` (with or without "./"), or -1. */
static int file_index(const char *path, const char *const *files, size_t n) {
  if (!strncmp(path, "./", 2)) path += 2;
  for (size_t i = 0; i < n; i++)
    if (!strcmp(files[i], path)) return (int)i;
  return -1;
}

/* {"comments":[{"file","line","endLine","level","code","message",…}]} */
int qr_tools_parse_shellcheck(const char *tool, const char *out, size_t out_len, const char *err,
                            size_t err_len, const char *const *files, size_t n_files,
                            qr_finding_list *l, qr_err *e) {
  /* json1 always prints {"comments":[]}: silence is a broken tool, not a clean result */
  if (!out_len) return qr_err_set(e, QR_E_PARSE, "shellcheck: no output");
  json_error_t je;
  json_t *root = json_loadb(out, out_len, 0, &je);
  json_t *list = json_object_get(root, "comments");
  if (!json_is_array(list)) {
    json_decref(root);
    return qr_err_set(e, QR_E_PARSE, "shellcheck: expected {\"comments\": [...]} (%s)",
                      root ? "no comments array" : je.text);
  }
  size_t i;
  json_t *c;
  int rc = 0;
  json_array_foreach(list, i, c) {
    const char *file = json_string_value(json_object_get(c, "file"));
    const char *level = json_string_value(json_object_get(c, "level"));
    const char *msg = json_string_value(json_object_get(c, "message"));
    json_int_t line = json_integer_value(json_object_get(c, "line"));
    json_int_t end = json_integer_value(json_object_get(c, "endLine"));
    int fi = file ? file_index(file, files, n_files) : -1;
    if (fi < 0 || !level || !msg || line < 1 || line > 100000000 || end > 100000000) continue;
    qr_severity s = !strcmp(level, "error") ? QR_SEV_ERROR : !strcmp(level, "warning") ? QR_SEV_WARNING
                  : !strcmp(level, "info") ? QR_SEV_INFO : QR_SEV_HINT;
    char text[MAX_MESSAGE + 32], code[24];
    snprintf(code, sizeof code, "SC%lld", (long long)json_integer_value(json_object_get(c, "code")));
    snprintf(text, sizeof text, "%.*s (%s)", MAX_MESSAGE, msg, code);
    rc = add_finding(l, "shellcheck", code, files[fi], (int)line, (int)end, s,
                     s == QR_SEV_HINT ? "maintainability" : "correctness", text, strlen(text));
    if (rc) break;
  }
  json_decref(root);
  return rc ? qr_err_set(e, rc, "out of memory parsing shellcheck output") : 0;
}

/* --- generic formats ---------------------------------------------------------------------- */

#define MAX_URI 4096

static int hex_digit(char c) {
  return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10
       : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

/* The index in files of a SARIF artifact URI, or -1: percent escapes are decoded, "file://"
 * dropped, and an absolute path matches the file it ends with ("/…/root/a.py" → "a.py"). */
static int uri_index(const char *uri, const char *const *files, size_t n) {
  char path[MAX_URI];
  size_t k = 0;
  if (!strncmp(uri, "file://", 7)) uri += 7;
  for (const char *p = uri; *p && k + 1 < sizeof path; p++) {
    int hi = *p == '%' ? hex_digit(p[1]) : -1, lo = hi >= 0 ? hex_digit(p[2]) : -1;
    if (lo >= 0 && (hi || lo)) { /* "%00" stays as written */
      path[k++] = (char)(hi * 16 + lo);
      p += 2;
    } else {
      path[k++] = *p;
    }
  }
  path[k] = '\0';
  if (path[0] != '/') return file_index(path, files, n);
  for (size_t i = 0; i < n; i++) {
    size_t pl = k, fl = strlen(files[i]);
    if (fl < pl && path[pl - fl - 1] == '/' && !strcmp(path + pl - fl, files[i])) return (int)i;
  }
  return -1;
}

static qr_severity sarif_severity(const char *level) {
  if (!level || !strcmp(level, "warning")) return QR_SEV_WARNING; /* SARIF's default level */
  return !strcmp(level, "error") ? QR_SEV_ERROR
       : !strcmp(level, "note")  ? QR_SEV_INFO
                                 : QR_SEV_HINT;
}

/* One runs[].results[] entry; its first location is the finding's place. */
static int sarif_result(const char *tool, json_t *res, const char *const *files, size_t n,
                        qr_finding_list *l) {
  const char *rule = json_string_value(json_object_get(res, "ruleId"));
  const char *msg = json_string_value(json_object_get(json_object_get(res, "message"), "text"));
  json_t *loc = json_array_get(json_object_get(res, "locations"), 0);
  json_t *phys = json_object_get(loc, "physicalLocation");
  const char *uri =
      json_string_value(json_object_get(json_object_get(phys, "artifactLocation"), "uri"));
  json_t *region = json_object_get(phys, "region");
  json_int_t line = json_integer_value(json_object_get(region, "startLine"));
  json_int_t end = json_integer_value(json_object_get(region, "endLine"));
  int fi = uri ? uri_index(uri, files, n) : -1;
  if (fi < 0 || !msg || line < 1 || line > 100000000 || end > 100000000) return 0;
  char text[MAX_MESSAGE + 64];
  int tl = snprintf(text, sizeof text, "%.*s", MAX_MESSAGE, msg);
  if (rule) snprintf(text + tl, sizeof text - (size_t)tl, " (%.48s)", rule);
  return add_finding(l, tool, rule, files[fi], (int)line, (int)end,
                     sarif_severity(json_string_value(json_object_get(res, "level"))),
                     "correctness", text, strlen(text));
}

/* SARIF 2.1.0 on stdout: {"runs": [{"results": [...]}, ...]}. Empty output: no findings. */
int qr_tools_parse_sarif(const char *tool, const char *out, size_t out_len, const char *err,
                       size_t err_len, const char *const *files, size_t n_files,
                       qr_finding_list *l, qr_err *e) {
  if (!out_len) return 0;
  json_error_t je;
  json_t *root = json_loadb(out, out_len, 0, &je);
  json_t *runs = json_object_get(root, "runs");
  if (!json_is_array(runs)) {
    json_decref(root);
    return qr_err_set(e, QR_E_PARSE, "%s: expected SARIF, an object with a runs array (%s)", tool,
                      root ? "no runs array" : je.text);
  }
  size_t i, k;
  json_t *run, *res;
  int rc = 0;
  json_array_foreach(runs, i, run) {
    json_array_foreach(json_object_get(run, "results"), k, res) {
      if ((rc = sarif_result(tool, res, files, n_files, l))) break;
    }
    if (rc) break;
  }
  json_decref(root);
  return rc ? qr_err_set(e, rc, "out of memory parsing %s output", tool) : 0;
}

/* "file:line:col: [error:|warning:|note:] message" or "file:line: …"; other lines are skipped. */
static int gcc_line(const char *line, size_t len, void *arg) {
  static const struct {
    const char *word;
    qr_severity sev;
  } words[] = {{"fatal error:", QR_SEV_ERROR}, {"error:", QR_SEV_ERROR},
               {"warning:", QR_SEV_WARNING}, {"note:", QR_SEV_INFO}};
  line_ctx *c = arg;
  const char *p, *end = line + len;
  int ln, fi = match_file(line, len, c->files, c->n_files, &p);
  if (fi < 0 || !read_location(&p, end, &ln)) return 0;
  qr_severity sev = QR_SEV_WARNING;
  for (size_t i = 0; i < QR_ARRAY_LEN(words); i++) {
    size_t wl = strlen(words[i].word);
    if ((size_t)(end - p) >= wl && !memcmp(p, words[i].word, wl)) {
      sev = words[i].sev;
      for (p += wl; p < end && *p == ' ';) p++;
      break;
    }
  }
  if (p == end) return 0;
  return add_finding(c->l, c->tool, NULL, c->files[fi], ln, ln, sev, "correctness", p,
                     (size_t)(end - p));
}

/* Compilers write diagnostics to stderr, most linters to stdout: both are read. */
int qr_tools_parse_gcc(const char *tool, const char *out, size_t out_len, const char *err,
                     size_t err_len, const char *const *files, size_t n_files, qr_finding_list *l,
                     qr_err *e) {
  line_ctx c = {tool, files, n_files, l};
  int rc = each_line(out, out_len, gcc_line, &c);
  if (!rc) rc = each_line(err, err_len, gcc_line, &c);
  return rc ? qr_err_set(e, rc, "out of memory parsing %s output", tool) : 0;
}
