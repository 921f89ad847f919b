/* transport.h — LSP base-protocol framing ("Content-Length: N\r\n\r\n" + N bytes of body).
 *
 * Two layers:
 *  - qr_framer, a pure byte-stream parser with no I/O: feed it chunks of any size and it emits
 *    complete bodies through a callback. Malformed header blocks are logged and skipped, and a
 *    body over the cap is discarded as it streams past without ever being buffered, so its
 *    memory use is bounded by the cap whatever the peer sends.
 *  - qr_transport, the libuv glue: reads one pipe through a framer and writes framed messages to
 *    another. The server uses its stdin/stdout; the CLI client uses a spawned child's pipes.
 *    Stdio must be pipes or socketpairs (what every LSP client provides): files and TTYs are
 *    refused with QR_E_UNSUPPORTED. */
#ifndef QR_TRANSPORT_H
#define QR_TRANSPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "common.h"

#define QR_TRANSPORT_DEFAULT_MAX_BODY ((size_t)64 << 20) /* 64 MiB */
#define QR_FRAMER_MAX_LINE 8192                          /* one header line, without its CRLF */

/* ---- the framer --------------------------------------------------------------------------- */

typedef enum {
  QR_FRAME_MESSAGE,    /* body/len: one complete body (borrowed, valid during the callback) */
  QR_FRAME_TOO_BIG,    /* body NULL, len: the declared length, which is being discarded */
  QR_FRAME_BAD_HEADER, /* body NULL, len 0: a header block without a usable Content-Length */
} qr_frame_event;

/* Called from qr_framer_feed. The callback must not free the framer. */
typedef void (*qr_framer_cb)(void *data, qr_frame_event ev, const char *body, size_t len);

/* Embedded by value; fields are private (tests read the buffers to check memory bounds). */
typedef struct qr_framer {
  size_t max_body;
  qr_framer_cb cb;
  void *data;
  int state;       /* enum in transport.c */
  qr_buf line;     /* the header line being read, capped at QR_FRAMER_MAX_LINE */
  qr_buf body;     /* the body being read, capped at max_body */
  uint64_t remain; /* body bytes still to read or discard */
  /* the header block being read */
  bool in_block, bad, have_length;
  uint64_t length;
  const char *why; /* static text: why the block is bad */
} qr_framer;

/* max_body 0 means QR_TRANSPORT_DEFAULT_MAX_BODY. Nothing is allocated until data arrives. */
void qr_framer_init(qr_framer *f, size_t max_body, qr_framer_cb cb, void *data);
/* Consumes all n bytes, calling cb for every event they complete. Returns 0 or QR_E_NOMEM
 * (the partial message is then dropped and the framer waits for the next header block). */
int qr_framer_feed(qr_framer *f, const char *p, size_t n);
/* Frees the buffers; the framer may be re-initialised. */
void qr_framer_free(qr_framer *f);

/* ---- the libuv transport ------------------------------------------------------------------ */

typedef struct qr_transport qr_transport;

/* One complete message body (borrowed, valid during the callback). */
typedef void (*qr_transport_message_cb)(qr_transport *t, const char *body, size_t len,
                                        void *data);
/* Input ended: status 0 on EOF, QR_E_IO on a read error. Reading has stopped. */
typedef void (*qr_transport_eof_cb)(qr_transport *t, int status, void *data);
/* Both handles are closed; `t` is freed right after this returns. */
typedef void (*qr_transport_closed_cb)(qr_transport *t, void *data);

typedef struct qr_transport_options {
  size_t max_message_bytes; /* 0: QR_TRANSPORT_DEFAULT_MAX_BODY */
  qr_transport_message_cb on_message;
  qr_transport_eof_cb on_eof;       /* may be NULL */
  qr_transport_closed_cb on_closed; /* may be NULL */
  /* Every queued byte has reached the peer after some had to wait (it was not reading). May be
   * NULL. */
  void (*on_drained)(qr_transport *t, void *data);
  void *data;
} qr_transport_options;

/* At most this many bytes wait for a peer that does not read; a message beyond is refused
 * (QR_E_TOOBIG) and logged, so a stalled client cannot grow the server without bound. */
#define QR_TRANSPORT_MAX_BACKLOG ((size_t)16 << 20)

/* A transport with two initialised but unopened pipe handles. Either open them on file
 * descriptors with qr_transport_open_fds, or hand them to uv_spawn (UV_CREATE_PIPE) via
 * qr_transport_input/_output. Owned by the caller until qr_transport_close, which frees it. */
int qr_transport_new(uv_loop_t *loop, const qr_transport_options *o, qr_transport **out);
/* The pipe that is read (e.g. a child's stdout) and the one written (a child's stdin).
 * Borrowed: owned by the transport. */
uv_pipe_t *qr_transport_input(qr_transport *t);
uv_pipe_t *qr_transport_output(qr_transport *t);
/* Opens the pipes on in_fd/out_fd (e.g. 0 and 1). QR_E_UNSUPPORTED (with detail in e) when one
 * is not a pipe or socket; QR_E_IO when libuv refuses it. */
int qr_transport_open_fds(qr_transport *t, int in_fd, int out_fd, qr_err *e);
/* Starts reading; messages arrive through on_message. */
int qr_transport_start(qr_transport *t);
/* Copies body, prefixes the Content-Length header and queues the write. QR_E_STATE once
 * closing; QR_E_IO when libuv refuses the write. Write failures later are logged. */
int qr_transport_send(qr_transport *t, const char *body, size_t len);
/* Bytes written but not yet taken by the peer: non-zero while it is not reading, when a
 * message that only the newest copy of matters (diagnostics) is better held back. */
size_t qr_transport_backlog(const qr_transport *t);
/* Stops reading, lets queued writes finish, closes both handles and frees t after on_closed.
 * Messages still in the current read buffer are dropped. Safe to call twice. */
void qr_transport_close(qr_transport *t);

#endif
