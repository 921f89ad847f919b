/* output_common.c — what every output format reads from a review result (output_common.h).
 * The format modules and the format switch in output.c use it; it uses none of them. */
#include "output/output_common.h"

#include <string.h>

const char *qr_output_str(const json_t *o, const char *key, const char *def) {
  const char *s = json_string_value(json_object_get(o, key));
  return s ? s : def;
}

long long qr_output_int(const json_t *o, const char *key) {
  return json_integer_value(json_object_get(o, key));
}

bool qr_output_is_pass(const json_t *p) { return !strcmp(qr_output_str(p, "role", ""), "pass"); }

int qr_output_passes_ran(const json_t *result) {
  size_t i;
  json_t *p;
  int n = 0;
  json_array_foreach(json_object_get(result, "passes"), i, p) {
    if (qr_output_is_pass(p) && strcmp(qr_output_str(p, "status", ""), "skipped")) n++;
  }
  return n;
}

long long qr_output_seen(const json_t *finding, int ran) {
  long long seen = qr_output_int(finding, "seen");
  return seen > 0 ? seen : ran;
}

char *qr_output_summary_line(const json_t *result) {
  size_t i;
  json_t *v;
  int counts[5] = {0}, ok = 0, partial = 0;
  json_array_foreach(json_object_get(result, "findings"), i, v)
    counts[qr_severity_parse(json_string_value(json_object_get(v, "severity")))]++;
  json_array_foreach(json_object_get(result, "passes"), i, v) {
    if (!qr_output_is_pass(v)) continue;
    ok += !strcmp(qr_output_str(v, "status", ""), "ok");
    partial += !strcmp(qr_output_str(v, "status", ""), "partial");
  }
  char part[48] = "";
  if (partial) snprintf(part, sizeof part, " (%d partial)", partial);
  return qr_asprintf("%zu findings (%d errors, %d warnings, %d info, %d hints); %d/%d passes ok%s; $%.4f",
                     json_array_size(json_object_get(result, "findings")), counts[QR_SEV_ERROR],
                     counts[QR_SEV_WARNING], counts[QR_SEV_INFO], counts[QR_SEV_HINT], ok,
                     qr_output_passes_ran(result), part,
                     json_real_value(json_object_get(result, "cost_usd")));
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
