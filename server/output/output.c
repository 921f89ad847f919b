/* output.c — the format switch, above the format modules (outputs_ci.c, outputs_github.c), and
 * the text and JSON renderings. The helpers every format uses are in output_common.c. */
#include "output/output.h"

#include <string.h>

#include "output/output_common.h"

/* Names in qr_format order. */
static const char *const format_name[] = {"text",  "json",   "sarif",  "rdjsonl", "rdjson",
                                          "gitlab", "checks", "github", "jsonl"};
const char qr_format_names[] = "text|json|sarif|rdjsonl|rdjson|gitlab|checks|github|jsonl";

int qr_format_parse(const char *name, qr_format *out) {
  for (size_t i = 0; name && i < QR_ARRAY_LEN(format_name); i++) {
    if (!strcmp(name, format_name[i])) {
      *out = (qr_format)i;
      return QR_OK;
    }
  }
  return QR_E_INVAL;
}

static const char *sev_color(const char *sev) {
  if (!strcmp(sev, "error")) return "\033[1;31m";
  if (!strcmp(sev, "warning")) return "\033[1;33m";
  if (!strcmp(sev, "info")) return "\033[1;36m";
  return "\033[1;37m";
}

/* File names and messages come from the change and the models: written cleaned. */
static void print_finding(FILE *out, const json_t *f, int ran, bool color) {
  const char *sev = qr_output_str(f, "severity", "info");
  qr_fputs_clean(out, qr_output_str(f, "file", "?"));
  fprintf(out, ":%lld:%lld: %s", qr_output_int(f, "start_line"),
          QR_MAX(1, qr_output_int(f, "start_column")), color ? sev_color(sev) : "");
  qr_fputs_clean(out, sev);
  fprintf(out, "%s: ", color ? "\033[0m" : "");
  qr_fputs_clean(out, qr_output_str(f, "message", ""));
  fputs(" [", out);
  qr_fputs_clean(out, qr_output_str(f, "category", ""));
  fprintf(out, ", %lld/%lld]\n", qr_output_int(f, "votes"), qr_output_seen(f, ran));
}

/* "quorum: <label>: <text>" for each string of result[key], the text cleaned. */
static void print_list(FILE *out, const json_t *result, const char *key, const char *label) {
  size_t i;
  json_t *v;
  json_array_foreach(json_object_get(result, key), i, v) {
    fprintf(out, "quorum: %s: ", label);
    qr_fputs_clean(out, json_string_value(v) ? json_string_value(v) : "");
    fputc('\n', out);
  }
}

static bool is_local(const char *model) { return !strcmp(model, "rules") || !strncmp(model, "tool:", 5); }

/* "quorum: dropped by MODEL×STRATEGY: ", the names cleaned. */
static void print_dropped_by(FILE *out, const char *model, const char *strategy) {
  fputs("quorum: dropped by ", out);
  qr_fputs_clean(out, model);
  fputs("×", out);
  qr_fputs_clean(out, strategy);
  fputs(": ", out);
}

/* Why each model pass dropped findings (passes[].drop_reasons), one line each. Analyzers and
 * rules are left out: their findings off the changed lines are dropped as a matter of course. */
static void print_drops(FILE *out, const json_t *result) {
  size_t i, k;
  json_t *p, *d;
  json_array_foreach(json_object_get(result, "passes"), i, p) {
    const char *m = qr_output_str(p, "model", "?"), *st = qr_output_str(p, "strategy", "?");
    if (is_local(m)) continue;
    json_array_foreach(json_object_get(p, "drop_reasons"), k, d) {
      const char *file = qr_output_str(d, "file", NULL);
      print_dropped_by(out, m, st);
      if (file) {
        qr_fputs_clean(out, file);
        fputc(':', out);
      }
      if (file && qr_output_int(d, "line")) fprintf(out, "%lld:", qr_output_int(d, "line"));
      fputs(file ? " " : "", out);
      qr_fputs_clean(out, qr_output_str(d, "reason", ""));
      fputc('\n', out);
    }
  }
}

/* The finding's "merge" (present with --explain): each pass finding in it, what it was most
 * like and why, and the model judge's decisions. */
static void print_merge(FILE *out, const json_t *f) {
  const json_t *merge = json_object_get(f, "merge");
  if (!merge) return;
  const json_t *members = json_object_get(merge, "members");
  size_t i, n = json_array_size(members) + (size_t)qr_output_int(merge, "more");
  json_t *m;
  fprintf(out, "  merged from %zu pass finding%s:\n", n, n == 1 ? "" : "s");
  json_array_foreach(members, i, m) {
    fprintf(out, "    %zu. %s×%s line %lld: %s\n", i + 1, qr_output_str(m, "model", "?"),
            qr_output_str(m, "strategy", "?"), qr_output_int(m, "start_line"),
            qr_output_str(m, "message", ""));
    if (json_object_get(m, "with") && !json_object_get(m, "similarity")) /* the judge's link */
      fprintf(out, "       joined %lld: %s\n", qr_output_int(m, "with") + 1, qr_output_str(m, "why", ""));
    else if (json_object_get(m, "with"))
      fprintf(out, "       similarity %.2f with %lld: %s\n",
              json_number_value(json_object_get(m, "similarity")), qr_output_int(m, "with") + 1,
              qr_output_str(m, "why", ""));
    else fprintf(out, "       %s\n", qr_output_str(m, "why", ""));
  }
  if (qr_output_int(merge, "more")) fprintf(out, "    … and %lld more\n", qr_output_int(merge, "more"));
  json_array_foreach(json_object_get(merge, "judge"), i, m)
    fprintf(out, "  judge: %s\n", json_string_value(m) ? json_string_value(m) : "");
}

/* Which passes ran, and — when none was a model — how to add one. */
static void print_panel(FILE *out, const json_t *result) {
  size_t i;
  json_t *v;
  bool model = false;
  fputs("quorum: passes:", out);
  json_array_foreach(json_object_get(result, "passes"), i, v) {
    const char *m = qr_output_str(v, "model", "?"), *st = qr_output_str(v, "status", "?");
    bool local = is_local(m);
    model |= !local && qr_output_is_pass(v);
    fputc(' ', out);
    qr_fputs_clean(out, m);
    fputs(local ? "" : "×", out);
    qr_fputs_clean(out, local ? "" : qr_output_str(v, "strategy", ""));
    fputs(strcmp(st, "ok") ? " " : "", out);
    qr_fputs_clean(out, strcmp(st, "ok") ? st : "");
    fputc(i + 1 < json_array_size(json_object_get(result, "passes")) ? ',' : '\n', out);
  }
  if (!json_array_size(json_object_get(result, "passes"))) fputs(" none\n", out);
  if (!model)
    fputs("quorum: no model passes ran — add models with a config (examples/configs/, README:\n"
          "        Configuration) or export OPENROUTER_API_KEY, OPENAI_API_KEY or ANTHROPIC_API_KEY\n",
          out);
}

int qr_output_text(FILE *out, const json_t *result, bool color) {
  size_t i;
  json_t *v;
  int ran = qr_output_passes_ran(result);
  json_array_foreach(json_object_get(result, "findings"), i, v) {
    print_finding(out, v, ran, color);
    print_merge(out, v);
  }
  char *summary = qr_output_summary_line(result);
  if (!summary) return QR_E_NOMEM;
  fprintf(out, "quorum: %s\n", summary);
  qr_free(summary);
  print_list(out, result, "omitted_files", "not reviewed");
  print_list(out, result, "errors", "degraded");
  print_list(out, result, "notes", "note");
  print_drops(out, result);
  print_panel(out, result);
  return ferror(out) ? QR_E_IO : QR_OK;
}

/* Prints `doc` (stolen) indented, or one object a line for rdjsonl-style arrays. */
static int dump(FILE *out, json_t *doc, bool lines) {
  if (!doc) return QR_E_NOMEM;
  int rc = QR_OK;
  if (lines) {
    size_t i;
    json_t *v;
    json_array_foreach(doc, i, v) {
      if (json_dumpf(v, out, JSON_COMPACT | JSON_PRESERVE_ORDER) || fputc('\n', out) == EOF)
        rc = QR_E_IO;
    }
  } else if (json_dumpf(doc, out, JSON_INDENT(2) | JSON_PRESERVE_ORDER) ||
             fputc('\n', out) == EOF) {
    rc = QR_E_IO;
  }
  json_decref(doc);
  return rc || ferror(out) ? QR_E_IO : QR_OK;
}

int qr_output_json(FILE *out, const json_t *result) {
  return dump(out, json_incref((json_t *)result), false);
}

int qr_output_write(FILE *out, qr_format fmt, const json_t *result, const qr_output_opts *o) {
  switch (fmt) {
  case QR_FORMAT_TEXT: return qr_output_text(out, result, o->color);
  case QR_FORMAT_JSON: return qr_output_json(out, result);
  case QR_FORMAT_SARIF: return dump(out, qr_output_sarif(result, o->tool_version), false);
  case QR_FORMAT_RDJSONL: return dump(out, qr_output_rdjson_diagnostics(result), true);
  case QR_FORMAT_RDJSON: return dump(out, qr_output_rdjson(result), false);
  case QR_FORMAT_GITLAB: return dump(out, qr_output_gitlab(result), false);
  case QR_FORMAT_CHECKS: return dump(out, qr_output_checks(result), false);
  case QR_FORMAT_GITHUB:
    if (!o->diff) return QR_E_INVAL;
    return dump(out, qr_output_github(result, o->diff, NULL, NULL), false);
  case QR_FORMAT_JSONL:
    return dump(out, json_pack("[{s:s, s:O}]", "event", "result", "result", result), true);
  }
  return QR_E_INVAL;
}

json_t *qr_output_filter(const json_t *result, double min_confidence) {
  json_t *copy = json_deep_copy(result);
  json_t *findings = json_object_get(copy, "findings");
  for (size_t i = json_array_size(findings); i-- > 0;) {
    json_t *c = json_object_get(json_array_get(findings, i), "confidence");
    if (c && json_number_value(c) < min_confidence) json_array_remove(findings, i);
  }
  return copy;
}
