/* provider_adapter.c — the helpers the provider adapters (provider_openai.c,
 * provider_anthropic.c) share for reading a response: recording the first failure, parsing JSON,
 * capped appends, usage counts (the adapter interface in provider.h). provider.c calls the
 * adapters; they call these helpers, never provider.c. */
#include "providers/provider.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "local/redact.h"

int qr_provider_fail(qr_provider_parse *ps, int status, const char *reason, const char *fmt, ...) {
  if (ps->status) return ps->status; /* the first failure is the cause */
  ps->status = status;
  snprintf(ps->reason, sizeof ps->reason, "%s", reason);
  ps->err.code = status;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(ps->err.msg, sizeof ps->err.msg, fmt, ap);
  va_end(ap);
  qr_redact_message(ps->err.msg, sizeof ps->err.msg); /* a provider may echo the key */
  return status;
}

json_t *qr_provider_json(qr_provider_parse *ps, const char *text, size_t len) {
  json_error_t je;
  json_t *j = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
  if (!j)
    qr_provider_fail(ps, QR_E_PARSE, "malformed_response", "response is not JSON: %s", je.text);
  else if (!json_is_object(j)) {
    json_decref(j);
    j = NULL;
    qr_provider_fail(ps, QR_E_PARSE, "malformed_response", "response is not a JSON object");
  }
  return j;
}

int qr_provider_append(qr_provider_parse *ps, qr_buf *b, const char *s, size_t n) {
  int rc = qr_buf_append(b, s, n);
  if (rc == QR_E_TOOBIG)
    return qr_provider_fail(ps, rc, "too_large", "answer longer than %zu bytes", b->cap);
  if (rc) return qr_provider_fail(ps, rc, "malformed_response", "out of memory");
  return QR_OK;
}

int qr_provider_set_string(qr_provider_parse *ps, char **dst, json_t *j) {
  if (!json_is_string(j)) return QR_OK;
  char *s = qr_strndup(json_string_value(j), json_string_length(j));
  if (!s) return qr_provider_fail(ps, QR_E_NOMEM, "malformed_response", "out of memory");
  qr_free(*dst);
  *dst = s;
  return QR_OK;
}

int qr_provider_dump_cb(const char *buf, size_t size, void *data) {
  return qr_buf_append(data, buf, size) ? -1 : 0;
}

int qr_provider_dump(qr_provider_parse *ps, qr_buf *b, json_t *j) {
  if (json_dump_callback(j, qr_provider_dump_cb, b, JSON_COMPACT | JSON_ENCODE_ANY) == 0) return QR_OK;
  return qr_provider_fail(ps, QR_E_TOOBIG, "too_large", "answer longer than %zu bytes", b->cap);
}

const char *qr_provider_error_message(json_t *err) {
  if (json_is_string(err)) return json_string_value(err);
  json_t *m = json_object_get(err, "message");
  return json_is_string(m) ? json_string_value(m) : NULL;
}

void qr_provider_usage(json_t *usage, const char *key, long *dst) {
  json_t *v = json_object_get(usage, key);
  if (json_is_integer(v)) *dst = (long)json_integer_value(v);
}
