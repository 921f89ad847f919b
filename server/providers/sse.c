/* sse.c — the incremental Server-Sent Events parser (see sse.h). Bytes are appended to the
 * current line until a terminator; each complete line is then interpreted as a field. */
#include "providers/sse.h"

#include <string.h>

void qr_sse_init(qr_sse *s, size_t max_line, size_t max_event, qr_sse_event_cb cb, void *ud) {
  qr_buf_init(&s->line, max_line);
  qr_buf_init(&s->event, max_line);
  qr_buf_init(&s->data, max_event);
  s->has_data = false;
  s->after_cr = false;
  s->cb = cb;
  s->ud = ud;
}

void qr_sse_free(qr_sse *s) {
  qr_buf_free(&s->line);
  qr_buf_free(&s->event);
  qr_buf_free(&s->data);
}

bool qr_sse_pending(const qr_sse *s) { return s->line.len > 0 || s->has_data; }

/* A blank line: hand over the event (if it had data) and start a new one. */
static int dispatch(qr_sse *s) {
  int rc = QR_OK;
  if (s->has_data) {
    const char *type = s->event.len ? s->event.data : "message";
    rc = s->cb(type, s->data.data ? s->data.data : "", s->data.len, s->ud);
  }
  qr_buf_reset(&s->event);
  qr_buf_reset(&s->data);
  s->has_data = false;
  return rc;
}

/* One complete line (without its terminator). */
static int field(qr_sse *s, const char *line, size_t len, qr_err *e) {
  if (len == 0) return dispatch(s);
  if (line[0] == ':') return QR_OK; /* comment */
  const char *colon = memchr(line, ':', len);
  size_t name_len = colon ? (size_t)(colon - line) : len;
  const char *value = colon ? colon + 1 : line + len;
  size_t value_len = (size_t)(line + len - value);
  if (value_len && value[0] == ' ') value++, value_len--;
  if (name_len == 5 && !memcmp(line, "event", 5)) {
    qr_buf_reset(&s->event);
    return qr_buf_append(&s->event, value, value_len); /* fits: shorter than the line */
  }
  if (name_len == 4 && !memcmp(line, "data", 4)) {
    int rc = s->has_data ? qr_buf_append(&s->data, "\n", 1) : QR_OK;
    if (!rc) rc = qr_buf_append(&s->data, value, value_len);
    if (rc == QR_E_TOOBIG)
      return qr_err_set(e, rc, "server-sent event larger than %zu bytes", s->data.cap);
    s->has_data = true;
    return rc;
  }
  return QR_OK; /* id, retry and unknown fields do not matter here */
}

/* Completes the current line with the bytes p[0..n) and interprets it. */
static int end_line(qr_sse *s, const char *p, size_t n, qr_err *e) {
  if (s->line.len == 0) return field(s, p, n, e); /* whole line in this chunk: no copy */
  int rc = qr_buf_append(&s->line, p, n);
  if (rc == QR_E_TOOBIG)
    return qr_err_set(e, rc, "server-sent event line longer than %zu bytes", s->line.cap);
  if (!rc) rc = field(s, s->line.data, s->line.len, e);
  qr_buf_reset(&s->line);
  return rc;
}

int qr_sse_feed(qr_sse *s, const char *p, size_t n, qr_err *e) {
  const char *end = p + n;
  if (n && s->after_cr && *p == '\n') p++;
  s->after_cr = false;
  while (p < end) {
    const char *t = p;
    while (t < end && *t != '\n' && *t != '\r') t++;
    if (t == end) { /* no terminator yet: keep the partial line */
      if (end - p > 0 && (size_t)(end - p) > s->line.cap - s->line.len)
        return qr_err_set(e, QR_E_TOOBIG, "server-sent event line longer than %zu bytes",
                          s->line.cap);
      return qr_buf_append(&s->line, p, (size_t)(end - p));
    }
    if ((size_t)(t - p) > s->line.cap)
      return qr_err_set(e, QR_E_TOOBIG, "server-sent event line longer than %zu bytes",
                        s->line.cap);
    int rc = end_line(s, p, (size_t)(t - p), e);
    if (rc) return rc;
    p = t + 1;
    if (*t == '\r') {
      if (p == end) s->after_cr = true; /* its '\n' may start the next chunk */
      else if (*p == '\n') p++;
    }
  }
  return QR_OK;
}
