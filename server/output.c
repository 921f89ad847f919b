/* output.c — text and JSON renderings of a review result. */
#include "output.h"

#include <string.h>

/* The string member `key` of `o`, or `def`. */
static const char *jstr(const json_t *o, const char *key, const char *def) {
  const char *s = json_string_value(json_object_get(o, key));
  return s ? s : def;
}

static const char *sev_color(const char *sev) {
  if (!strcmp(sev, "error")) return "\033[1;31m";
  if (!strcmp(sev, "warning")) return "\033[1;33m";
  if (!strcmp(sev, "info")) return "\033[1;36m";
  return "\033[1;37m";
}

/* How many passes ran (role "pass", any status but skipped). */
static int passes_ran(const json_t *result) {
  size_t i;
  json_t *p;
  int n = 0;
  json_array_foreach(json_object_get(result, "passes"), i, p) {
    if (!strcmp(jstr(p, "role", ""), "pass") &&
        strcmp(jstr(p, "status", ""), "skipped"))
      n++;
  }
  return n;
}

static void print_finding(FILE *out, const json_t *f, int ran, bool color) {
  const char *sev = jstr(f, "severity", "info");
  fprintf(out, "%s:%lld:%lld: %s%s%s: %s [%s, %lld/%d]\n",
          jstr(f, "file", "?"),
          json_integer_value(json_object_get(f, "start_line")),
          QR_MAX(1, json_integer_value(json_object_get(f, "start_column"))), color ? sev_color(sev) : "",
          sev, color ? "\033[0m" : "", jstr(f, "message", ""),
          jstr(f, "category", ""),
          json_integer_value(json_object_get(f, "votes")), ran);
}

int qr_output_text(FILE *out, const json_t *result, bool color) {
  size_t i;
  json_t *v;
  int ran = passes_ran(result), counts[5] = {0};
  json_array_foreach(json_object_get(result, "findings"), i, v) {
    print_finding(out, v, ran, color);
    counts[qr_severity_parse(json_string_value(json_object_get(v, "severity")))]++;
  }
  int ok = 0;
  json_array_foreach(json_object_get(result, "passes"), i, v) {
    if (!strcmp(jstr(v, "role", ""), "pass") &&
        !strcmp(jstr(v, "status", ""), "ok"))
      ok++;
  }
  fprintf(out, "quorum: %zu findings (%d errors, %d warnings, %d info, %d hints); %d/%d passes ok; $%.4f\n",
          json_array_size(json_object_get(result, "findings")), counts[QR_SEV_ERROR],
          counts[QR_SEV_WARNING], counts[QR_SEV_INFO], counts[QR_SEV_HINT], ok, ran,
          json_real_value(json_object_get(result, "cost_usd")));
  json_array_foreach(json_object_get(result, "omitted_files"), i, v)
    fprintf(out, "quorum: not reviewed: %s\n", json_string_value(v));
  json_array_foreach(json_object_get(result, "errors"), i, v)
    fprintf(out, "quorum: degraded: %s\n", json_string_value(v));
  return ferror(out) ? QR_E_IO : QR_OK;
}

int qr_output_json(FILE *out, const json_t *result) {
  if (json_dumpf(result, out, JSON_INDENT(2) | JSON_PRESERVE_ORDER)) return QR_E_IO;
  fputc('\n', out);
  return ferror(out) ? QR_E_IO : QR_OK;
}

qr_severity qr_output_max_severity(const json_t *result) {
  size_t i;
  json_t *f;
  qr_severity max = 0;
  json_array_foreach(json_object_get(result, "findings"), i, f) {
    qr_severity s = qr_severity_parse(json_string_value(json_object_get(f, "severity")));
    if (s > max) max = s;
  }
  return max;
}
