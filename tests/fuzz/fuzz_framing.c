/* fuzz_framing.c — libFuzzer harness for the framer and the JSON-RPC dispatcher: the first
 * input byte seeds the chunk sizes, the rest is fed to a qr_framer in those chunks, and every
 * body goes to a qr_rpc whose writes are discarded. Handlers cover sync and held (unanswered)
 * requests, cancellation and responses to outbound calls, so every dispatch path is reachable.
 * The body cap is small (4 KiB) so oversize discarding is exercised too. */
#include <stdint.h>

#include "lsp/dispatch.h"
#include "log.h"
#include "lsp/transport.h"

static int discard(void *ctx, const char *body, size_t len) { return 0; }

static void reply_now(qr_rpc *rpc, qr_rpc_request *req, json_t *params, void *data) {
  qr_rpc_reply(req, params ? json_incref(params) : NULL);
}

static void cancelled(qr_rpc_request *req, void *data) {
  qr_rpc_reply_error(req, QR_RPC_REQUEST_CANCELLED, "cancelled", NULL);
}

/* Left unanswered unless cancelled: qr_rpc_free must release it. */
static void hold(qr_rpc *rpc, qr_rpc_request *req, json_t *params, void *data) {
  qr_rpc_request_on_cancel(req, cancelled, NULL);
}

static void ignore_note(qr_rpc *rpc, json_t *params, void *data) {}
static void ignore_response(qr_rpc *rpc, json_t *result, json_t *error, void *data) {}

static void on_frame(void *data, qr_frame_event ev, const char *body, size_t len) {
  if (ev == QR_FRAME_MESSAGE) qr_rpc_handle(data, body, len);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (!size) return 0;
  qr_log_set_level(QR_LOG_ERROR);
  uint32_t x = data[0];
  data++, size--;
  qr_rpc *rpc = qr_rpc_new(discard, NULL);
  if (!rpc) return 0;
  qr_rpc_on_request(rpc, "r", reply_now, NULL);
  qr_rpc_on_request(rpc, "hold", hold, NULL);
  qr_rpc_on_notification(rpc, "n", ignore_note, NULL);
  for (int i = 0; i < 3; i++) qr_rpc_call(rpc, "c", NULL, ignore_response, NULL); /* ids 1..3 */
  qr_framer f;
  qr_framer_init(&f, 4096, on_frame, rpc);
  for (size_t off = 0; off < size;) {
    x = x * 1103515245u + 12345u;
    size_t n = QR_MIN(size - off, 1 + (x >> 16) % 97);
    qr_framer_feed(&f, (const char *)data + off, n);
    off += n;
  }
  qr_framer_free(&f);
  qr_rpc_free(rpc);
  return 0;
}
