/* outputs_ci.c — the machine formats CI systems read: SARIF 2.1.0 (GitHub code scanning and
 * others), reviewdog's rdjson/rdjsonl, GitLab Code Quality, and GitHub check-run annotations.
 * Each builds a jansson document from the review result; output.c prints it. Lines and
 * columns are 1-based everywhere, as in the result. */
#include <string.h>

#include "output/output.h"
#include "output/output_common.h"

#define SARIF_SCHEMA "https://json.schemastore.org/sarif-2.1.0.json"
#define TOOL_URI "https://github.com/quorum-review/quorum"

/* A finding's category, or "general" when the model gave none. */
static const char *category(const json_t *f) {
  const char *c = qr_output_str(f, "category", "");
  return *c ? c : "general";
}

/* A fix's replacement as whole lines: a trailing newline unless it deletes the lines. */
static char *replacement_lines(const json_t *fix) {
  const char *r = qr_output_str(fix, "replacement", "");
  size_t n = strlen(r);
  return qr_asprintf("%s%s", r, n && r[n - 1] != '\n' ? "\n" : "");
}

/* ---- SARIF -------------------------------------------------------------------------------- */

static const char *sarif_level(const char *sev) {
  if (!strcmp(sev, "error")) return "error";
  if (!strcmp(sev, "warning")) return "warning";
  return "note";
}

/* The judge's problem classes (judge_terms.c), as SARIF rules: short and full description. */
static const struct {
  const char *id, *brief, *full;
} problem_classes[] = {
    {"quorum/release", "Resource not released", "A file, socket, lock or allocation is acquired and not released on every path (a leak, or a missing close, free or cleanup)."},
    {"quorum/inject", "Injection", "Input reaches code, markup or a command without escaping: cross-site scripting, shell or code injection, eval of built strings."},
    {"quorum/null", "Null dereference", "A value that can be null, nil or None is dereferenced or used without a check."},
    {"quorum/bounds", "Out-of-bounds access", "An index, length or size is off: a buffer overflow or overrun, an off-by-one, a missing terminator, an undersized allocation."},
    {"quorum/unchecked", "Unchecked result", "An error, a return value or an exception is ignored, discarded or swallowed."},
    {"quorum/async", "Unawaited async work", "An asynchronous call or promise is not awaited, so its errors and ordering are lost."},
    {"quorum/race", "Race condition", "Shared state is used concurrently without synchronisation."},
    {"quorum/partial", "Partial or truncated data", "A read, write or copy can be partial or truncated and the code takes it as whole."},
    {"quorum/equality", "Wrong equality", "A comparison uses the wrong equality (coercing ==, identity for values, or the reverse)."},
    {"quorum/tempfile", "Insecure temporary file", "A temporary file with a predictable name or a symlink race."},
    {"quorum/secret", "Hard-coded secret", "A credential, password or key is written in the code."},
    {"quorum/divzero", "Division by zero", "A division or modulo whose divisor can be zero."},
    {"quorum/traversal", "Path traversal", "A path built from input can leave the intended directory."},
    {"quorum/sql", "SQL injection", "A query is built from input instead of using parameters."},
    {"quorum/perf", "Performance", "Work that is slower than it needs to be (quadratic loops, repeated I/O)."},
    {"quorum/deadlock", "Deadlock", "Locks or waits that can block each other forever."},
    {"quorum/uaf", "Use after free", "Memory is used after it was freed, or freed twice."},
    {"quorum/crypto", "Weak cryptography", "A weak hash or an insecure random source is used where security depends on it."},
    {"quorum/unused", "Unused or dead code", "Code, a variable or an import that is never used or never reached."},
    {"quorum/quoting", "Unquoted expansion", "A shell expansion is not quoted, so it is split into words and globbed."},
    {"quorum/deserialize", "Unsafe deserialization", "Untrusted data is deserialised with a format that can run code or build arbitrary objects."},
    {"quorum/auth", "Missing authorization", "An operation does not check who may perform it."},
    {"quorum/ssrf", "Server-side request forgery", "A request's destination comes from input (SSRF or an open redirect)."},
};

/* The first sentence of s (at most 120 bytes), for a short description. */
static char *first_sentence(const char *s) {
  size_t n = strcspn(s, "\n");
  for (const char *p = s; (p = strstr(p, ". ")) && (size_t)(p - s) < n; p++) {
    n = (size_t)(p - s) + 1;
    break;
  }
  return qr_asprintf("%.*s", (int)QR_MIN(n, (size_t)120), s);
}

/* A SARIF reportingDescriptor for rule `id`, described from its first finding `f`: what GitHub
 * code scanning requires (short and full description, help); no `name` (it would repeat the
 * id, which SARIF discourages). */
static json_t *rule_descriptor(const char *id, const json_t *f) {
  const char *msg = qr_output_str(f, "message", ""), *slash = strchr(id, '/');
  char *brief = NULL, *full = NULL, *help = NULL, *uri = NULL;
  for (size_t i = 0; i < QR_ARRAY_LEN(problem_classes); i++)
    if (!strcmp(id, problem_classes[i].id)) {
      brief = qr_strdup(problem_classes[i].brief);
      full = qr_strdup(problem_classes[i].full);
    }
  if (brief) {
    help = qr_asprintf("%s Reported by quorum's model passes and merged by its judge; each "
                       "result says how many passes agree.", full);
  } else if (!strncmp(id, "quorum/", 7)) {
    brief = qr_asprintf("Model review: %s", id + 7);
    full = qr_asprintf("Findings of quorum's model passes in the category \"%s\" that name no "
                       "known problem class.", id + 7);
    help = qr_asprintf("%s Each result says how many passes agree.", full);
  } else if (!slash) {
    brief = first_sentence(msg);
    full = qr_strdup(msg);
    help = qr_asprintf("quorum's rule pack rule %s (a tree-sitter query): %s Turn the rule pass off "
                       "with \"rules\": {\"enabled\": false}.", id, msg);
  } else {
    const char *tool_code = slash + 1;
    brief = qr_asprintf("%.*s %s", (int)(slash - id), id, tool_code);
    full = qr_asprintf("The analyzer %.*s reports %s, for example: %s", (int)(slash - id), id,
                       tool_code, msg);
    help = qr_asprintf("%s The project's own suppressions hold (shellcheck directives, "
                       "cppcheck-suppress comments, # noqa).", full);
    if (!strncmp(id, "shellcheck/", 11)) uri = qr_asprintf("https://www.shellcheck.net/wiki/%s", tool_code);
    if (!strncmp(id, "pyflakes/", 9))
      uri = qr_strdup("https://flake8.pycqa.org/en/latest/user/error-codes.html");
  }
  json_t *d = brief && full && help
                  ? json_pack("{s:s, s:{s:s}, s:{s:s}, s:{s:s}}", "id", id, "shortDescription",
                              "text", brief, "fullDescription", "text", full, "help", "text", help)
                  : NULL;
  if (d && uri) json_object_set_new(d, "helpUri", json_string(uri));
  qr_free(brief);
  qr_free(full);
  qr_free(help);
  qr_free(uri);
  return d;
}

/* A finding's rule, or (results of older builds) its category. */
static const char *rule_or_category(const json_t *f) {
  const char *r = qr_output_str(f, "rule", "");
  return *r ? r : category(f);
}

/* A finding's rule id: its own, or (results of older builds) "quorum/<category>", in buf. */
static const char *rule_id(const json_t *f, char *buf, size_t size) {
  const char *r = qr_output_str(f, "rule", "");
  if (*r) return r;
  snprintf(buf, size, "quorum/%s", category(f));
  return buf;
}

/* The index of `id` in the rules array, appending a descriptor for it when new. */
static size_t rule_index(json_t *rules, const char *id, const json_t *f) {
  size_t i;
  json_t *r;
  json_array_foreach(rules, i, r) {
    if (!strcmp(qr_output_str(r, "id", ""), id)) return i;
  }
  json_array_append_new(rules, rule_descriptor(id, f));
  return json_array_size(rules) - 1;
}

/* A region of whole lines (SARIF: no end column means the end of endLine). */
static json_t *line_region(long long start, long long end, long long column) {
  json_t *r = json_pack("{s:I, s:I}", "startLine", (json_int_t)start, "startColumn",
                        (json_int_t)QR_MAX(1, column));
  if (end > start) json_object_set_new(r, "endLine", json_integer(end));
  return r;
}

static json_t *sarif_fix(const json_t *f, const json_t *fix) {
  json_t *region = json_pack("{s:I, s:i, s:I}", "startLine",
                             (json_int_t)qr_output_int(fix, "start_line"), "startColumn", 1,
                             "endLine", (json_int_t)qr_output_int(fix, "end_line"));
  return json_pack("{s:{s:s}, s:[{s:{s:s, s:s}, s:[{s:o, s:{s:s}}]}]}", "description", "text",
                   "Suggested fix", "artifactChanges", "artifactLocation", "uri",
                   qr_output_str(f, "file", ""), "uriBaseId", "%SRCROOT%", "replacements",
                   "deletedRegion", region, "insertedContent", "text",
                   qr_output_str(fix, "replacement", ""));
}

static json_t *sarif_result(const json_t *f, json_t *rules) {
  char buf[128];
  const char *rule = rule_id(f, buf, sizeof buf);
  json_t *region = line_region(qr_output_int(f, "start_line"), qr_output_int(f, "end_line"),
                               qr_output_int(f, "start_column"));
  json_t *props = json_pack("{s:s, s:I, s:O*, s:I, s:O*}", "severity",
                            qr_output_str(f, "severity", "info"), "votes",
                            (json_int_t)qr_output_int(f, "votes"), "seen",
                            json_object_get(f, "seen"), "models",
                            (json_int_t)qr_output_int(f, "models"), "sources",
                            json_object_get(f, "sources"));
  json_t *conf = json_object_get(f, "confidence");
  if (conf) json_object_set(props, "confidence", conf);
  json_t *r = json_pack(
      "{s:s, s:I, s:s, s:{s:s}, s:[{s:{s:{s:s, s:s}, s:o}}], s:{s:s}, s:o}", "ruleId", rule,
      "ruleIndex", (json_int_t)rule_index(rules, rule, f), "level",
      sarif_level(qr_output_str(f, "severity", "")), "message", "text",
      qr_output_str(f, "message", ""), "locations", "physicalLocation", "artifactLocation",
      "uri", qr_output_str(f, "file", ""), "uriBaseId", "%SRCROOT%", "region", region,
      "partialFingerprints", "quorum/v1", qr_output_str(f, "fingerprint", ""), "properties",
      props);
  json_t *fix = json_object_get(f, "fix");
  if (r && fix) json_object_set_new(r, "fixes", json_pack("[o]", sarif_fix(f, fix)));
  return r;
}

json_t *qr_output_sarif(const json_t *result, const char *tool_version) {
  json_t *rules = json_array(), *results = json_array();
  size_t i;
  json_t *f;
  json_array_foreach(json_object_get(result, "findings"), i, f)
    json_array_append_new(results, sarif_result(f, rules));
  json_t *driver = json_pack("{s:s, s:s, s:o}", "name", "quorum", "informationUri", TOOL_URI,
                             "rules", rules);
  if (driver && tool_version) json_object_set_new(driver, "version", json_string(tool_version));
  json_t *props = json_pack("{s:O*, s:O*, s:O*}", "cost_usd", json_object_get(result, "cost_usd"),
                            "degraded", json_object_get(result, "degraded"), "omitted_files",
                            json_object_get(result, "omitted_files"));
  return json_pack("{s:s, s:s, s:[{s:{s:o}, s:o, s:o}]}", "$schema", SARIF_SCHEMA, "version",
                   "2.1.0", "runs", "tool", "driver", driver, "results", results, "properties",
                   props);
}

/* ---- reviewdog ---------------------------------------------------------------------------- */

static const char *rd_severity(const char *sev) {
  if (!strcmp(sev, "error")) return "ERROR";
  if (!strcmp(sev, "warning")) return "WARNING";
  return "INFO";
}

/* A suggestion replacing whole lines: from column 1 of the first to column 1 after the last
 * (reviewdog ranges end exclusive). */
static json_t *rd_suggestion(const json_t *fix) {
  char *text = replacement_lines(fix);
  json_t *s = json_pack("{s:{s:{s:I, s:i}, s:{s:I, s:i}}, s:s*}", "range", "start", "line",
                        (json_int_t)qr_output_int(fix, "start_line"), "column", 1, "end", "line",
                        (json_int_t)qr_output_int(fix, "end_line") + 1, "column", 1, "text", text);
  qr_free(text);
  return s;
}

static json_t *rd_diagnostic(const json_t *f) {
  json_t *range = json_pack("{s:{s:I, s:I}}", "start", "line",
                            (json_int_t)qr_output_int(f, "start_line"), "column",
                            (json_int_t)QR_MAX(1, qr_output_int(f, "start_column")));
  if (range && qr_output_int(f, "end_line") > qr_output_int(f, "start_line"))
    json_object_set_new(range, "end", json_pack("{s:I}", "line",
                                                (json_int_t)qr_output_int(f, "end_line")));
  json_t *d = json_pack("{s:s, s:{s:s, s:o}, s:s, s:{s:s}, s:{s:s}}", "message",
                        qr_output_str(f, "message", ""), "location", "path",
                        qr_output_str(f, "file", ""), "range", range, "severity",
                        rd_severity(qr_output_str(f, "severity", "")), "source", "name", "quorum",
                        "code", "value", rule_or_category(f));
  json_t *fix = json_object_get(f, "fix");
  if (d && fix) json_object_set_new(d, "suggestions", json_pack("[o]", rd_suggestion(fix)));
  return d;
}

json_t *qr_output_rdjson_diagnostics(const json_t *result) {
  json_t *out = json_array();
  size_t i;
  json_t *f;
  json_array_foreach(json_object_get(result, "findings"), i, f)
    json_array_append_new(out, rd_diagnostic(f));
  return out;
}

json_t *qr_output_rdjson(const json_t *result) {
  return json_pack("{s:{s:s, s:s}, s:o}", "source", "name", "quorum", "url", TOOL_URI,
                   "diagnostics", qr_output_rdjson_diagnostics(result));
}

/* ---- GitLab Code Quality ------------------------------------------------------------------ */

static const char *gitlab_severity(const char *sev) {
  if (!strcmp(sev, "error")) return "critical";
  if (!strcmp(sev, "warning")) return "major";
  if (!strcmp(sev, "info")) return "minor";
  return "info";
}

json_t *qr_output_gitlab(const json_t *result) {
  json_t *out = json_array(), *used = json_object();
  size_t i;
  json_t *f;
  json_array_foreach(json_object_get(result, "findings"), i, f) {
    /* GitLab wants unique fingerprints; two findings may share one (same spot and message). */
    const char *fp = qr_output_str(f, "fingerprint", "");
    char *unique = *fp && !json_object_get(used, fp) ? qr_strdup(fp) : qr_asprintf("%s-%zu", fp, i);
    if (unique) json_object_set_new(used, unique, json_true());
    json_array_append_new(
        out, json_pack("{s:s, s:s, s:s*, s:s, s:{s:s, s:{s:I, s:I}}}", "description",
                       qr_output_str(f, "message", ""), "check_name", rule_or_category(f), "fingerprint",
                       unique, "severity", gitlab_severity(qr_output_str(f, "severity", "")),
                       "location", "path", qr_output_str(f, "file", ""), "lines", "begin",
                       (json_int_t)qr_output_int(f, "start_line"), "end",
                       (json_int_t)qr_output_int(f, "end_line")));
    qr_free(unique);
  }
  json_decref(used);
  return out;
}

/* ---- GitHub check runs -------------------------------------------------------------------- */

static const char *annotation_level(const char *sev) {
  if (!strcmp(sev, "error")) return "failure";
  if (!strcmp(sev, "warning")) return "warning";
  return "notice";
}

static json_t *annotation(const json_t *f, int ran) {
  char *title = qr_asprintf("%s (%s, %lld/%lld)", category(f), qr_output_str(f, "severity", ""),
                            qr_output_int(f, "votes"), qr_output_seen(f, ran));
  json_t *a = json_pack("{s:s, s:I, s:I, s:s, s:s, s:s*}", "path", qr_output_str(f, "file", ""),
                        "start_line", (json_int_t)qr_output_int(f, "start_line"), "end_line",
                        (json_int_t)qr_output_int(f, "end_line"), "annotation_level",
                        annotation_level(qr_output_str(f, "severity", "")), "message",
                        qr_output_str(f, "message", ""), "title", title);
  qr_free(title);
  return a;
}

static json_t *check_output(const char *summary, size_t n_findings) {
  char *title = qr_asprintf("quorum: %zu finding%s", n_findings, n_findings == 1 ? "" : "s");
  json_t *o = json_pack("{s:s*, s:s*, s:[]}", "title", title, "summary", summary, "annotations");
  qr_free(title);
  return o;
}

json_t *qr_output_checks(const json_t *result) {
  const json_t *findings = json_object_get(result, "findings");
  char *summary = qr_output_summary_line(result);
  json_t *batches = json_array(), *batch = NULL;
  int ran = qr_output_passes_ran(result);
  size_t i;
  json_t *f;
  json_array_foreach(findings, i, f) {
    if (i % QR_CHECKS_BATCH == 0) {
      batch = check_output(summary, json_array_size(findings));
      json_array_append_new(batches, batch);
    }
    json_array_append_new(json_object_get(batch, "annotations"), annotation(f, ran));
  }
  if (json_array_size(batches) == 0) json_array_append_new(batches, check_output(summary, 0));
  qr_free(summary);
  return batches;
}

const char *qr_output_checks_conclusion(const json_t *result, qr_severity fail_on) {
  qr_severity max = qr_output_max_severity(result);
  if (fail_on && max >= fail_on) return "failure";
  return max ? "neutral" : "success";
}
