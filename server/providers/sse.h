/* sse.h — an incremental Server-Sent Events parser (the WHATWG "event stream" format).
 *
 * Bytes arrive in arbitrary chunks (curl hands over 1 byte..16 KB, a test 1 byte..64 KB); lines
 * end in "\n", "\r\n" or "\r" (a CRLF split across two chunks counts once). `event:` sets the
 * event type, `data:` lines are joined with "\n", lines starting with ':' are comments (e.g.
 * OpenRouter's ": OPENROUTER PROCESSING") and `id:`/`retry:` are ignored. A blank line
 * dispatches the event, unless it carried no data. Line and event sizes are capped; going past
 * a cap is QR_E_TOOBIG. An event left incomplete at the end of the stream is dropped, as the
 * format requires; qr_sse_pending() tells a caller that this happened. */
#ifndef QR_SSE_H
#define QR_SSE_H

#include <stdbool.h>
#include <stddef.h>

#include "common.h"

/* Receives one event. `event` is the type ("message" when none was given) and `data` the joined
 * data lines; both are borrowed, NUL-terminated and valid only during the call. A non-zero
 * return (a QR_E_* code) stops parsing and is returned by qr_sse_feed. */
typedef int (*qr_sse_event_cb)(const char *event, const char *data, size_t data_len, void *ud);

/* Parser state, embedded by value; its buffers are released by qr_sse_free. */
typedef struct qr_sse {
  qr_buf line;  /* the current, unterminated line */
  qr_buf event; /* event type of the event being built */
  qr_buf data;  /* joined data lines of the event being built */
  bool has_data;      /* a data: line was seen (data may still be empty) */
  bool after_cr;      /* the last byte was '\r': a following '\n' belongs to it */
  qr_sse_event_cb cb;
  void *ud;
} qr_sse;

/* max_line caps one line, max_event the joined data of one event (both in bytes). */
void qr_sse_init(qr_sse *s, size_t max_line, size_t max_event, qr_sse_event_cb cb, void *ud);
/* Parses n bytes, calling cb for every completed event. Returns 0, QR_E_TOOBIG (e says which
 * cap), or the callback's non-zero return. After an error the parser must not be fed again. */
int qr_sse_feed(qr_sse *s, const char *p, size_t n, qr_err *e);
/* True when the stream so far ends inside an event (bytes or data not yet dispatched). */
bool qr_sse_pending(const qr_sse *s);
void qr_sse_free(qr_sse *s);

#endif
