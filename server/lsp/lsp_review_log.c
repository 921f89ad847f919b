/* lsp_review_log.c — what a finished review tells the editor's log (window/logMessage, type
 * Log): the files it left out and why, and the findings each pass dropped and why. */
#include "lsp/lsp_review_internal.h"

/* One line in the editor's log for the files the review left out (generated, vendored, lock,
 * minified, binary, too large…), so saving such a file says why nothing was reviewed. */
void qr_lsp_log_left_out(qr_lsp_review *lr, const json_t *result) {
  const json_t *omitted = json_object_get(result, "omitted_files");
  if (!json_array_size(omitted)) return;
  qr_buf b;
  qr_buf_init(&b, 16384);
  qr_buf_puts(&b, "quorum: not reviewed:");
  size_t i;
  json_t *o;
  json_array_foreach(omitted, i, o) qr_buf_printf(&b, "%s %s", i ? ";" : "", json_string_value(o));
  if (b.data) qr_server_log_message(lr->srv, MSG_LOG, b.data);
  qr_buf_free(&b);
}

/* Tells the editor's log (window/logMessage, type Log) why each pass dropped findings. */
void qr_lsp_log_drops(qr_lsp_review *lr, const json_t *result) {
  size_t i, k;
  json_t *p, *d;
  json_array_foreach(json_object_get(result, "passes"), i, p) {
    json_t *reasons = json_object_get(p, "drop_reasons");
    if (!json_array_size(reasons)) continue;
    qr_buf b;
    qr_buf_init(&b, 16384);
    const char *model = json_string_value(json_object_get(p, "model"));
    const char *strategy = json_string_value(json_object_get(p, "strategy"));
    qr_buf_printf(&b, "quorum: %s × %s dropped %lld findings:", model ? model : "?",
                  strategy ? strategy : "?",
                  (long long)json_integer_value(json_object_get(p, "dropped")));
    json_array_foreach(reasons, k, d) {
      const char *file = json_string_value(json_object_get(d, "file"));
      json_int_t line = json_integer_value(json_object_get(d, "line"));
      const char *why = json_string_value(json_object_get(d, "reason"));
      if (!file) line = 0;
      qr_buf_printf(&b, "%s %s%s%.0lld%s%s", k ? ";" : "", file ? file : "", line ? ":" : "",
                    (long long)line, file ? ": " : "", why ? why : "?");
    }
    if (b.data) qr_server_log_message(lr->srv, MSG_LOG, b.data);
    qr_buf_free(&b);
  }
}
