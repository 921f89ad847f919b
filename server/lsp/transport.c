/* transport.c — Content-Length framing (a pure parser) and its libuv glue.
 *
 * The framer is a four-state machine: HEADER collects one header line at a time (never more
 * than QR_FRAMER_MAX_LINE bytes), SKIP_LINE drops the rest of an over-long line, BODY
 * collects a body up to the cap, DISCARD drops a body over the cap. Malformed header blocks end
 * at their blank line like good ones, so the framer resynchronises on the next block. */
#include "lsp/transport.h"

#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "log.h"

enum { ST_HEADER, ST_SKIP_LINE, ST_BODY, ST_DISCARD };

/* A body buffer grown past this is released after its message rather than kept for reuse. */
#define KEEP_BODY_ALLOC ((size_t)64 << 10)

static const char content_length[] = "content-length";

void qr_framer_init(qr_framer *f, size_t max_body, qr_framer_cb cb, void *data) {
  memset(f, 0, sizeof *f);
  f->max_body = max_body ? max_body : QR_TRANSPORT_DEFAULT_MAX_BODY;
  f->cb = cb;
  f->data = data;
  f->state = ST_HEADER;
  /* +1: the line's CR is buffered with it and stripped when the LF arrives. */
  qr_buf_init(&f->line, QR_FRAMER_MAX_LINE + 1);
  qr_buf_init(&f->body, f->max_body);
}

void qr_framer_free(qr_framer *f) {
  qr_buf_free(&f->line);
  qr_buf_free(&f->body);
}

static void reset_block(qr_framer *f) {
  f->in_block = f->bad = f->have_length = false;
  f->length = 0;
  f->why = NULL;
}

static void mark_bad(qr_framer *f, const char *why) {
  if (!f->bad) f->why = why;
  f->bad = true;
  f->in_block = true;
}

/* Strict: optional blanks around one or more digits, and it must fit in 64 bits — a
 * 400-digit length is as unusable as a negative one. */
static bool parse_length(const char *v, size_t n, uint64_t *out) {
  size_t i = 0;
  while (i < n && (v[i] == ' ' || v[i] == '\t')) i++;
  size_t digits = 0;
  uint64_t x = 0;
  for (; i < n && v[i] >= '0' && v[i] <= '9'; i++, digits++) {
    unsigned d = (unsigned)(v[i] - '0');
    if (x > (UINT64_MAX - d) / 10) return false;
    x = x * 10 + d;
  }
  while (i < n && (v[i] == ' ' || v[i] == '\t')) i++;
  if (!digits || i != n) return false;
  *out = x;
  return true;
}

/* Case-insensitive search for "content-length:" inside a line. */
static const char *find_length_header(const char *p, size_t n) {
  size_t k = sizeof content_length - 1;
  for (size_t i = 0; i + k < n; i++)
    if (!strncasecmp(p + i, content_length, k) && p[i + k] == ':') return p + i;
  return NULL;
}

static void emit_body(qr_framer *f) {
  f->state = ST_HEADER;
  f->cb(f->data, QR_FRAME_MESSAGE, f->body.data ? f->body.data : "", f->body.len);
  if (f->body.alloc > KEEP_BODY_ALLOC)
    qr_buf_free(&f->body);
  else
    qr_buf_reset(&f->body);
}

static void end_block(qr_framer *f) {
  if (f->bad || !f->have_length) {
    QR_WARN("transport: skipping a header block: %s", f->bad ? f->why : "no Content-Length");
    reset_block(f);
    f->cb(f->data, QR_FRAME_BAD_HEADER, NULL, 0);
    return;
  }
  uint64_t len = f->length;
  reset_block(f);
  f->remain = len;
  if (len > f->max_body) {
    QR_WARN("transport: discarding a %" PRIu64 "-byte message (limit %zu bytes)", len,
            f->max_body);
    f->state = ST_DISCARD;
    f->cb(f->data, QR_FRAME_TOO_BIG, NULL, (size_t)QR_MIN(len, (uint64_t)SIZE_MAX));
    return;
  }
  f->state = ST_BODY;
  if (!len) emit_body(f);
}

/* One header line, without its line break. */
static void header_line(qr_framer *f, const char *line, size_t n) {
  if (n && line[n - 1] == '\r') n--;
  if (!n) {
    if (f->in_block) end_block(f); /* stray blank lines between messages are harmless */
    return;
  }
  const char *colon = memchr(line, ':', n);
  if (!f->in_block) {
    /* Before a block starts, junk (e.g. the tail of a body whose length was unusable) may
     * precede the next header on the same line: resynchronise on it. */
    const char *h = find_length_header(line, n);
    if (h && h != line) {
      n -= (size_t)(h - line);
      line = h;
      colon = line + sizeof content_length - 1;
    } else if (!colon) {
      QR_DEBUG("transport: skipping a junk line between messages");
      return;
    }
  }
  f->in_block = true;
  if (!colon) {
    mark_bad(f, "a header line without a colon");
    return;
  }
  size_t name_len = (size_t)(colon - line);
  /* Other headers (Content-Type) change nothing: LSP bodies are always UTF-8 JSON. */
  if (name_len != sizeof content_length - 1 || strncasecmp(line, content_length, name_len))
    return;
  uint64_t v;
  if (!parse_length(colon + 1, n - name_len - 1, &v))
    mark_bad(f, "Content-Length is not a non-negative 64-bit integer");
  else if (f->have_length && v != f->length)
    mark_bad(f, "conflicting Content-Length headers");
  else {
    f->have_length = true;
    f->length = v;
  }
}

static size_t feed_header(qr_framer *f, const char *p, size_t n) {
  const char *nl = memchr(p, '\n', n);
  size_t take = nl ? (size_t)(nl - p) : n;
  int rc = qr_buf_append(&f->line, p, take);
  if (rc) {
    /* Reject the line without buffering any more of it; its block is skipped. */
    qr_buf_reset(&f->line);
    mark_bad(f, rc == QR_E_TOOBIG ? "a header line over 8 KiB" : "out of memory");
    f->state = ST_SKIP_LINE;
    return take;
  }
  if (!nl) return n;
  header_line(f, f->line.data ? f->line.data : "", f->line.len);
  qr_buf_reset(&f->line);
  return take + 1;
}

static size_t skip_line(qr_framer *f, const char *p, size_t n) {
  const char *nl = memchr(p, '\n', n);
  if (!nl) return n;
  f->state = ST_HEADER;
  return (size_t)(nl - p) + 1;
}

static size_t feed_body(qr_framer *f, const char *p, size_t n, int *rc) {
  size_t take = (size_t)QR_MIN((uint64_t)n, f->remain);
  f->remain -= take;
  if (f->state == ST_DISCARD) {
    if (!f->remain) f->state = ST_HEADER;
    return take;
  }
  *rc = qr_buf_append(&f->body, p, take);
  if (*rc) {
    /* Only NOMEM is possible (the length was checked against the cap): drop this body. */
    QR_ERROR("transport: out of memory reading a message; dropping it");
    qr_buf_free(&f->body);
    f->state = f->remain ? ST_DISCARD : ST_HEADER;
    return take;
  }
  if (!f->remain) emit_body(f);
  return take;
}

int qr_framer_feed(qr_framer *f, const char *p, size_t n) {
  int rc = QR_OK;
  while (n) {
    size_t used;
    switch (f->state) {
    case ST_HEADER: used = feed_header(f, p, n); break;
    case ST_SKIP_LINE: used = skip_line(f, p, n); break;
    default: used = feed_body(f, p, n, &rc); break;
    }
    p += used;
    n -= used;
  }
  return rc;
}

/* ---- libuv glue ---------------------------------------------------------------------------- */

struct qr_transport {
  uv_pipe_t in, out;
  qr_framer framer;
  qr_transport_options o;
  bool reading, closing;
  int open_handles; /* t is freed when this reaches 0 */
  uv_shutdown_t shutdown;
  char readbuf[64 << 10]; /* the loop is single-threaded: one read buffer suffices */
};

/* A queued write and its bytes, freed in its callback. */
typedef struct write_req {
  uv_write_t req;
  bool waited; /* the peer did not take it at once */
  char bytes[];
} write_req;

static void on_frame(void *data, qr_frame_event ev, const char *body, size_t len) {
  qr_transport *t = data;
  if (ev == QR_FRAME_MESSAGE && !t->closing) t->o.on_message(t, body, len, t->o.data);
}

static void on_handle_closed(uv_handle_t *h) {
  qr_transport *t = h->data;
  if (--t->open_handles) return;
  qr_framer_free(&t->framer);
  if (t->o.on_closed) t->o.on_closed(t, t->o.data);
  qr_free(t);
}

int qr_transport_new(uv_loop_t *loop, const qr_transport_options *o, qr_transport **out) {
  if (!o->on_message) return QR_E_INVAL;
  qr_transport *t = qr_calloc(1, sizeof *t);
  if (!t) return QR_E_NOMEM;
  t->o = *o;
  qr_framer_init(&t->framer, o->max_message_bytes, on_frame, t);
  if (uv_pipe_init(loop, &t->in, 0)) {
    qr_free(t);
    return QR_E_IO;
  }
  t->in.data = t;
  t->open_handles = 1;
  if (uv_pipe_init(loop, &t->out, 0)) {
    t->o.on_closed = NULL; /* the caller never saw t */
    t->closing = true;
    uv_close((uv_handle_t *)&t->in, on_handle_closed);
    return QR_E_IO;
  }
  t->out.data = t;
  t->open_handles = 2;
  *out = t;
  return QR_OK;
}

uv_pipe_t *qr_transport_input(qr_transport *t) { return &t->in; }
uv_pipe_t *qr_transport_output(qr_transport *t) { return &t->out; }

static int open_fd(uv_pipe_t *p, int fd, const char *what, qr_err *e) {
  uv_handle_type type = uv_guess_handle(fd);
  if (type != UV_NAMED_PIPE)
    return qr_err_set(e, QR_E_UNSUPPORTED, "%s (fd %d) is not a pipe or socket", what, fd);
  int rc = uv_pipe_open(p, fd);
  if (rc) return qr_err_set(e, QR_E_IO, "cannot open %s: %s", what, uv_strerror(rc));
  return QR_OK;
}

int qr_transport_open_fds(qr_transport *t, int in_fd, int out_fd, qr_err *e) {
  int rc = open_fd(&t->in, in_fd, "input", e);
  return rc ? rc : open_fd(&t->out, out_fd, "output", e);
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf) {
  qr_transport *t = h->data;
  buf->base = t->readbuf;
  buf->len = sizeof t->readbuf;
}

static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf) {
  qr_transport *t = s->data;
  if (nread > 0) {
    if (!t->closing && qr_framer_feed(&t->framer, buf->base, (size_t)nread))
      QR_ERROR("transport: a message was dropped (out of memory)");
    return;
  }
  if (nread == 0) return; /* EAGAIN */
  uv_read_stop(s);
  t->reading = false;
  int status = nread == UV_EOF ? QR_OK : QR_E_IO;
  if (status) QR_ERROR("transport: read failed: %s", uv_strerror((int)nread));
  if (t->o.on_eof && !t->closing) t->o.on_eof(t, status, t->o.data);
}

int qr_transport_start(qr_transport *t) {
  if (t->closing) return QR_E_STATE;
  int rc = uv_read_start((uv_stream_t *)&t->in, on_alloc, on_read);
  if (rc) {
    QR_ERROR("transport: cannot read: %s", uv_strerror(rc));
    return QR_E_IO;
  }
  t->reading = true;
  return QR_OK;
}

static void on_written(uv_write_t *req, int status) {
  qr_transport *t = req->handle->data;
  bool waited = ((write_req *)req)->waited;
  if (status && status != UV_ECANCELED)
    QR_WARN("transport: write failed: %s", uv_strerror(status));
  qr_free((write_req *)req); /* req is the first member: this frees the bytes too */
  if (waited && !status && !t->closing && !qr_transport_backlog(t) && t->o.on_drained)
    t->o.on_drained(t, t->o.data);
}

size_t qr_transport_backlog(const qr_transport *t) {
  return uv_stream_get_write_queue_size((const uv_stream_t *)&t->out);
}

int qr_transport_send(qr_transport *t, const char *body, size_t len) {
  if (t->closing) return QR_E_STATE;
  char header[64];
  int hlen = snprintf(header, sizeof header, "Content-Length: %zu\r\n\r\n", len);
  if (len > UINT_MAX - (size_t)hlen) return QR_E_TOOBIG; /* uv_buf_t lengths are unsigned */
  if (qr_transport_backlog(t) + len > QR_TRANSPORT_MAX_BACKLOG) {
    QR_WARN("transport: the client is not reading; a %zu-byte message is dropped", len);
    return QR_E_TOOBIG;
  }
  write_req *w = qr_malloc(sizeof *w + (size_t)hlen + len);
  if (!w) return QR_E_NOMEM;
  memcpy(w->bytes, header, (size_t)hlen);
  if (len) memcpy(w->bytes + hlen, body, len);
  uv_buf_t buf = uv_buf_init(w->bytes, (unsigned)((size_t)hlen + len));
  int rc = uv_write(&w->req, (uv_stream_t *)&t->out, &buf, 1, on_written);
  if (rc) {
    QR_WARN("transport: cannot write: %s", uv_strerror(rc));
    qr_free(w);
    return QR_E_IO;
  }
  w->waited = qr_transport_backlog(t) > 0; /* not all taken at once: on_drained will follow */
  return QR_OK;
}

static void on_shutdown(uv_shutdown_t *req, int status) {
  /* status is ENOTSOCK on a plain pipe: the queued writes have drained all the same. */
  qr_transport *t = req->data;
  uv_close((uv_handle_t *)&t->out, on_handle_closed);
}

void qr_transport_close(qr_transport *t) {
  if (t->closing) return;
  t->closing = true;
  if (t->reading) uv_read_stop((uv_stream_t *)&t->in);
  t->reading = false;
  uv_close((uv_handle_t *)&t->in, on_handle_closed);
  t->shutdown.data = t;
  /* Shut down first so queued replies (the answer to `shutdown`) reach the peer. */
  if (uv_shutdown(&t->shutdown, (uv_stream_t *)&t->out, on_shutdown))
    uv_close((uv_handle_t *)&t->out, on_handle_closed);
}
